"""Shared map layers and helpers: frame checks, features, legends, basemap, banners, finish."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.publish.disclosure import (
    NOT_AVAILABLE_MARKER,
    NOT_AVAILABLE_MEANING,
    SUPPRESSED_MARKER,
    mask_columns,
    suppression_mask,
)
from placeplan.publish.escape import geojson_properties, html_text, js_string
from placeplan.publish.maps._page import HtmlData, finalise

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "PROPOSED_COLOUR",
    "PROVISION_COLOURS",
    "JsonTooltip",
    "add_basemap",
    "add_provision",
    "check_frame",
    "display_values",
    "feature_collection",
    "finish_map",
    "frame_bounds",
    "new_map",
    "numbered_proposals",
    "spread_offsets",
    "star_vertices",
    "suppressed_column",
    "to_wgs84",
]

_LAND = "#f4f1e8"
_REGION = {"color": "#a9a9a0", "weight": 0.8, "fillColor": "#ebebe6", "fillOpacity": 1}

#: Fill of a proposed (selected) site's star, on every map and static figure.
PROPOSED_COLOUR = "#e7298a"

#: Fill of each existing provision type, on every map and static figure. None is green: green is
#: the candidate-site score ramp (``sites.SCORE_COLOURS``); alternative provision is near-black.
PROVISION_COLOURS: dict[str, str] = {
    "mainstream": "#969696",
    "inclusion_base": "#1f78b4",
    "special": "#6a3d9a",
    "independent": "#e66101",
    "non_maintained": "#fdbf6f",
    "ap": "#252525",
    "fe": "#b15928",
}

_PUPIL_LIKE = re.compile(r"pupil_ref|pupil_id|upn", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers
def check_frame(df: pd.DataFrame | None, what: str, *, counts: bool, internal: bool) -> None:
    """Refuse a frame with pupil-level columns, or with counts not disclosure-controlled."""
    if df is None:
        return
    bad = [c for c in df.columns if _PUPIL_LIKE.search(str(c))]
    if bad:
        msg = f"{what}: pupil-level column(s) {bad} may never go on a map"
        raise SchemaValidationError(msg)
    if counts and not internal and not mask_columns(df):
        msg = (
            f"{what} carries pupil counts but has not been through "
            "placeplan.publish.disclosure.suppress (required for published maps)"
        )
        raise SchemaValidationError(msg)


def to_wgs84(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to EPSG:4326, coordinates rounded to 5 decimals; raise if no CRS."""
    if gdf.crs is None:
        msg = f"{what}: no CRS set; expected EPSG:27700"
        raise CRSError(msg)
    out = gdf.to_crs(4326)
    out["geometry"] = shapely.transform(
        out.geometry.to_numpy(), lambda xy: np.round(xy, 5), include_z=False
    )
    return out


def feature_collection(gdf: gpd.GeoDataFrame, props: Sequence[str]) -> dict[str, Any]:
    """GeoJSON FeatureCollection with only ``props`` (JSON-safe, deterministic).

    String properties are HTML-escaped: folium's ``GeoJsonTooltip`` puts them into
    ``innerHTML`` as they are."""
    feats = []
    for row in gdf.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        feats.append(
            {
                "type": "Feature",
                "properties": geojson_properties({p: _json_value(getattr(row, p)) for p in props}),
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return json.loads(json.dumps({"type": "FeatureCollection", "features": feats}))


def _json_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def suppressed_column(df: pd.DataFrame, col: str) -> pd.Series:
    """The suppression mask of ``col`` in ``df`` (all False if it has none)."""
    mask = suppression_mask(df)
    if col in mask.columns:
        return mask[col]
    return pd.Series(False, index=df.index)


def display_values(
    values: pd.Series, suppressed: pd.Series, fmt: str, none_text: str = NOT_AVAILABLE_MARKER
) -> list[str]:
    """Format ``values`` with ``fmt``: suppressed ones as the marker, NaN as ``none_text``."""
    out = []
    for v, s in zip(values.tolist(), suppressed.tolist(), strict=True):
        if s:
            out.append(SUPPRESSED_MARKER)
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(none_text)
        else:
            out.append(fmt.format(v))
    return out


def frame_bounds(frames: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    """The ``[[south, west], [north, east]]`` box of EPSG:4326 frames, or None if all empty."""
    boxes = [f.total_bounds for f in frames if f is not None and not f.empty]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    w, s = arr[:, 0].min(), arr[:, 1].min()
    e, n = arr[:, 2].max(), arr[:, 3].max()
    return [[round(float(s), 5), round(float(w), 5)], [round(float(n), 5), round(float(e), 5)]]


def new_map(height: str) -> folium.Map:
    """An empty tile-less folium map of CSS height ``height``."""
    return folium.Map(
        location=[50.67, -1.3],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        height=height,
        max_zoom=18,
    )


class _Legend(MacroElement):
    """Static HTML legend (no d3)."""

    def __init__(self, html: str, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.html_js = js_string(html)
        self.position = position
        self._template = folium.template.Template(
            """{% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function () {
                var div = L.DomUtil.create('div', 'pp-legend');
                div.innerHTML = {{ this.html_js }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
            {% endmacro %}"""
        )


class _Attribution(MacroElement):
    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text
        # Leaflet inserts attribution as HTML; the text is plain, so escape it, then quote it
        self.text_js = js_string(html_text(text))
        self._template = folium.template.Template(
            """{% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_js }});
            {% endmacro %}"""
        )


class JsonTooltip(folium.Tooltip):
    """folium's Tooltip with its content as a JSON string literal, not a template literal.

    folium writes ``bindTooltip(`<div>{{ text }}</div>`)``: inside backticks a name containing
    ``${…}`` runs on page load and ``\\u003c`` turns into ``<``. Here ``html`` (built by the
    caller from :func:`~placeplan.publish.escape.html_text` parts) is passed through
    :func:`~placeplan.publish.escape.js_string`, so it is only ever data."""

    _template = folium.template.Template(
        """{% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip(
                {{ this.text_js }},
                {{ this.options|tojavascript }}
            );
        {% endmacro %}"""
    )

    def __init__(self, html: str, **kwargs: Any) -> None:
        super().__init__(html, **kwargs)
        self.text_js = js_string(f"<div>{html}</div>")


class _FitBounds(MacroElement):
    def __init__(self, bounds: list[list[float]], pad_right: int = 12, pad_left: int = 12) -> None:
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds
        self.pad_right = pad_right
        self.pad_left = pad_left
        self._template = folium.template.Template(
            """{% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {
                paddingTopLeft: [{{ this.pad_left }}, 12],
                paddingBottomRight: [{{ this.pad_right }}, 12]});
            {% endmacro %}"""
        )


def _banners(m: folium.Map, *, internal: bool, note: str | None) -> None:
    html = ""
    if internal:
        html += (
            '<div class="pp-banner internal">INTERNAL — contains unsuppressed small numbers</div>'
        )
    if note:
        html += f'<div class="pp-banner synthetic">{html_text(note)}</div>'
    if html:
        cast("Figure", m.get_root()).html.add_child(HtmlData(html), name="placeplan_banners")


def add_basemap(
    m: folium.Map,
    *,
    outline: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None = None,
    region: gpd.GeoDataFrame | None = None,
) -> None:
    """Add the vector basemap: neighbouring areas (light), outline as land, areas, main roads."""
    _add_backdrop(m, region, "region", "Neighbouring areas", _REGION, control=False)
    _add_backdrop(
        m,
        outline,
        "outline",
        "Coastline / authority outline",
        {"color": "#8c8c8c", "weight": 1, "fillColor": _LAND, "fillOpacity": 1},
        control=False,
    )
    _add_backdrop(
        m,
        areas,
        "areas",
        "Area boundaries",
        {"color": "#9e9e9e", "weight": 0.6, "fillColor": _LAND, "fillOpacity": 0.6},
    )
    if roads is not None and not roads.empty:
        # own pane above the area fills (overlayPane is z-index 400), below markers (600), so
        # the choropleth base layers never hide the roads whichever is switched on
        folium.map.CustomPane("pp-roads", z_index=450, pointer_events=False).add_to(m)
    _add_backdrop(
        m,
        roads,
        "roads",
        "Main roads",
        {"color": "#c0703a", "weight": 1.3, "opacity": 0.9},
        pane="pp-roads",
    )


def _add_backdrop(
    m: folium.Map,
    frame: gpd.GeoDataFrame | None,
    what: str,
    name: str,
    style: dict[str, Any],
    **kwargs: Any,
) -> None:
    """One non-interactive basemap layer of ``frame``'s geometries (nothing if absent/empty)."""
    if frame is None or frame.empty:
        return
    g = to_wgs84(frame[["geometry"]], what)
    folium.GeoJson(
        feature_collection(g, []),
        name=name,
        style_function=lambda _f: dict(style),
        interactive=False,
        **kwargs,
    ).add_to(m)


def star_vertices(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    """The ten vertices of a five-pointed star centred on (cx, cy), point up (SVG: y down);
    the proposed sites' star on the interactive maps, their legends and the static figures.

    Examples
    --------
    >>> [(round(x, 1), round(y, 1)) for x, y in star_vertices(0, 0, 10, 4)[:2]]
    [(0.0, -10.0), (-2.4, -3.2)]
    """
    out = []
    for i in range(10):
        a = math.pi / 2 + i * math.pi / 5
        r = outer if i % 2 == 0 else inner
        out.append((cx + r * math.cos(a), cy - r * math.sin(a)))
    return out


def spread_offsets(
    points: Sequence[tuple[float, float]], *, within: float, radius: float
) -> list[tuple[float, float]]:
    """Screen offsets (x right, y down) that pull apart markers drawn at nearly the same place.

    Markers closer than ``within`` (in the points' units, chained: a is near b, b near c) form a
    group; the k markers of a group are moved onto a circle of ``radius`` (screen units) around
    where they are, the first at the top, then clockwise (two: one above the other, so each
    number, drawn to the right of its star, stays clear of the other star). A marker alone is
    not moved.

    Parameters
    ----------
    points
        Marker positions, in drawing order (the first of a group goes on top of the circle).
    within
        Distance below which two markers would overlap.
    radius
        How far a grouped marker moves.

    Returns
    -------
    list of (dx, dy)
        One offset per point.

    Examples
    --------
    >>> spread_offsets([(0, 0), (0, 0), (100, 0)], within=10, radius=12)
    [(0.0, -12.0), (0.0, 12.0), (0.0, 0.0)]
    """
    group = list(range(len(points)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, (xi, yi) in enumerate(points):
        for j in range(i):
            if math.hypot(xi - points[j][0], yi - points[j][1]) < within:
                group[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in range(len(points)):
        members.setdefault(root(i), []).append(i)
    out = [(0.0, 0.0)] * len(points)
    for idx in members.values():
        if len(idx) < 2:
            continue
        for k, i in enumerate(idx):
            a = 2 * math.pi * k / len(idx)
            out[i] = (round(radius * math.sin(a), 6) + 0.0, round(-radius * math.cos(a), 6) + 0.0)
    return out


def numbered_proposals(sites: gpd.GeoDataFrame | None) -> list[tuple[int, Any]]:
    """The selected sites numbered as the report numbers its proposals (the labels on every map).

    ``proposal_no`` (:func:`placeplan.compute.layers.scenario_layers`: the scenario's
    ``open_sites`` order) when the layer has it, else ``site_id`` order from 1.
    """
    if sites is None or sites.empty or "selected" not in sites.columns:
        return []
    sel = sites[sites["selected"].fillna(False).astype(bool)]
    if "proposal_no" in sel.columns and sel["proposal_no"].notna().all():
        sel = sel.sort_values("proposal_no", kind="stable")
        return [(int(r.proposal_no), r) for r in sel.itertuples(index=False)]
    sel = sel.sort_values("site_id", kind="stable")
    return list(enumerate(sel.itertuples(index=False), start=1))


def add_provision(m: folium.Map, provision: gpd.GeoDataFrame | None) -> None:
    """Add existing settings as circles coloured by provision type (dashed if out of area)."""
    if provision is None or provision.empty:
        return
    check_frame(provision, "provision", counts=False, internal=True)
    p = to_wgs84(provision, "provision").sort_values("setting_id", kind="stable")
    fg = folium.FeatureGroup(name="Existing provision (by type)")
    for row in p.itertuples(index=False):
        ptype = str(getattr(row, "provision_type", "") or "")
        in_area = bool(getattr(row, "in_area", True))
        cap = getattr(row, "capacity", None)
        cap_txt = NOT_AVAILABLE_MARKER if cap is None or pd.isna(cap) else f"{int(cap):,}"
        tip = (
            f"<b>{html_text(str(row.name))}</b><br>{html_text(ptype.replace('_', ' '))}"
            f"{'' if in_area else ' (out of area)'}<br>places: {cap_txt}"
        )
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=4 if ptype == "mainstream" else 6,
            color="#333333" if in_area else PROVISION_COLOURS.get(ptype, "#555555"),
            weight=1 if in_area else 2,
            dash_array=None if in_area else "3 2",
            fill=True,
            fill_color=PROVISION_COLOURS.get(ptype, "#555555"),
            fill_opacity=0.9 if in_area else 0.35,
            tooltip=JsonTooltip(tip),
        ).add_to(fg)
    fg.add_to(m)


_PROVISION_LABELS: dict[str, str] = {
    "mainstream": "mainstream school",
    "inclusion_base": "inclusion base",
    "special": "special school",
    "independent": "independent special",
    "non_maintained": "non-maintained special",
    "ap": "alternative provision",
    "fe": "FE college",
}


def _provision_legend(provision: gpd.GeoDataFrame | None) -> str:
    if provision is None or provision.empty:
        return ""
    types = sorted(set(provision["provision_type"].astype(str)) & set(PROVISION_COLOURS))
    rows = "".join(
        f'<i class="dot" style="background:{PROVISION_COLOURS[t]}"></i>'
        f"{html_text(_PROVISION_LABELS.get(t, t.replace('_', ' ')))}<br>"
        for t in types
    )
    return f"<h4>Existing provision</h4>{rows}<small>dashed = out of area</small>"


def marker_key(*, internal: bool) -> str:
    """The legend's key to the markers pop-ups show, worded as the report's table keys."""
    key = f"{NOT_AVAILABLE_MARKER} = {NOT_AVAILABLE_MEANING}"
    if not internal:
        key = f"{SUPPRESSED_MARKER} = suppressed (to protect small numbers); " + key
    return f'<div class="pp-key">In pop-ups: {key}.</div>'


def finish_map(
    m: folium.Map,
    legend: str,
    provision: gpd.GeoDataFrame | None,
    bounds: Callable[[], list[list[float]] | None],
    *,
    collapsed: bool,
    attribution: str | None,
    internal: bool,
    note: str | None,
) -> folium.Map:
    """Legends, layer control, attribution, fit to ``bounds()``, banners; then finalise."""
    _Legend(legend + marker_key(internal=internal)).add_to(m)
    prov_legend = _provision_legend(provision)
    if prov_legend:
        _Legend(prov_legend, position="topleft").add_to(m)
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    if attribution:
        _Attribution(attribution).add_to(m)
    b = bounds()
    if b:
        _FitBounds(b, pad_right=190, pad_left=170 if prov_legend else 12).add_to(m)
    _banners(m, internal=internal, note=note)
    return finalise(m)
