"""Offline folium maps for the travel impact assessment.

This is the only module that reprojects data to EPSG:4326. Every map it returns is
self-contained: no tiles (the "basemap" is vector: island/authority outline, LSOA boundaries,
optional main roads), Leaflet's JavaScript and CSS inlined from the ``xstatic-leaflet`` package,
none of folium's CDN defaults (jQuery, Bootstrap, Font Awesome, awesome-markers), no branca
colormap (it fetches d3 from a CDN) — legends are static HTML. Element ids are made deterministic
so the same inputs render to the same bytes.

Maps show aggregates only. In published mode (the default) every frame that carries pupil counts
must have been through :func:`placeplan.publish.disclosure.suppress`; suppressed values are shown
as "c", and a flow whose count is suppressed is not drawn at all (its existence would disclose).
Pupil points are never drawn.

Every name on a map comes from a file the authority did not write, so none reaches JavaScript
source unescaped (:mod:`placeplan.publish.escape`): tooltips are HTML built from
:func:`~placeplan.publish.escape.html_text` parts and embedded as a JSON string literal
(:class:`_Tooltip`, never folium's backtick template), GeoJSON properties a tooltip renders are
HTML-escaped (:func:`~placeplan.publish.escape.geojson_properties`), and legend and attribution
text is passed with :func:`~placeplan.publish.escape.js_string`. :func:`map_html` refuses a
page that binds a tooltip or popup from a template literal."""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.publish.disclosure import SUPPRESSED_MARKER, suppression_mask
from placeplan.publish.escape import geojson_properties, html_text, js_string

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "PROVISION_COLOURS",
    "TIME_BANDS",
    "assert_offline",
    "map_html",
    "map_journey_times",
    "map_sites",
    "save_map",
    "write_page",
]

TIME_BANDS: tuple[tuple[float, float, str], ...] = (
    (0, 15, "< 15 min"),
    (15, 30, "15–30 min"),
    (30, 45, "30–45 min"),
    (45, 60, "45–60 min"),
    (60, 75, "60–75 min"),
    (75, math.inf, "> 75 min"),
)
"""Journey-time bands (lower inclusive, upper exclusive) shared by maps and report figures."""

_BAND_COLOURS = ("#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")  # YlGnBu-7[1:]
_SCORE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")  # RdYlGn-5, low→high
_SUPPRESSED_FILL = "#bdbdbd"
_NODATA_FILL = "#ffffff"
_LAND = "#f4f1e8"
_SEA = "#dbe9f4"

PROVISION_COLOURS: dict[str, str] = {
    "mainstream": "#969696",
    "inclusion_base": "#1f78b4",
    "special": "#6a3d9a",
    "independent": "#e66101",
    "non_maintained": "#b35806",
    "ap": "#33a02c",
    "fe": "#b15928",
}

_PUPIL_LIKE = re.compile(r"pupil_ref|pupil_id|upn", re.IGNORECASE)
_EXTERNAL_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- offline assets
@functools.cache
def _leaflet_assets() -> str:
    """Leaflet JS + CSS from xstatic-leaflet, inlined, with images as data URIs."""
    from xstatic.pkg import leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def _data_uri(match: re.Match[str]) -> str:
        png = (base / match.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode("ascii") + ")"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", _data_uri, css)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = js.replace("</script", "<\\/script")
    # drop the sourcemap comment: it names a file that is not shipped
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    extra_css = (
        f".leaflet-container{{background:{_SEA};font:12px/1.4 system-ui,sans-serif}}"
        ".pp-legend{background:#fff;padding:6px 8px;border-radius:4px;font-size:11px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.35);line-height:1.35;max-width:200px}"
        ".leaflet-control-layers{font-size:11px}"
        ".pp-legend h4{margin:0 0 4px;font-size:12px}"
        ".pp-legend i{display:inline-block;width:14px;height:11px;margin-right:5px;"
        "vertical-align:-1px;border:1px solid #777}"
        ".pp-legend i.dot{border-radius:50%}"
        ".pp-banner{position:absolute;z-index:1000;left:54px;"
        "top:10px;padding:4px 10px;font:bold 12px system-ui,sans-serif;border-radius:3px}"
        ".pp-banner.internal{background:#b10026;color:#fff}"
        ".pp-banner.synthetic{background:#fff3b0;color:#4d3b00}"
        ".pp-banner.internal+.pp-banner.synthetic{top:36px}"
        ".leaflet-control-attribution{font-size:9px;line-height:1.25;max-width:62%;"
        "white-space:normal}"
    )
    return (
        f'<style id="placeplan-leaflet-css">{css}\n{extra_css}</style>\n'
        f'<script id="placeplan-leaflet-js">{js}</script>'
    )


def _walk(el: Any) -> list[Any]:
    out = [el]
    for child in list(getattr(el, "_children", {}).values()):
        out.extend(_walk(child))
    return out


def _finalise(m: folium.Map) -> folium.Map:
    """Make ``m`` offline and deterministic (idempotent)."""
    root = cast("Figure", m.get_root())
    for el in _walk(root):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    root.header.add_child(Element(_leaflet_assets()), name="placeplan_offline_assets")
    # deterministic element ids, in tree order
    for i, el in enumerate(_walk(root)):
        el._id = f"pp{i:04d}"
    return m


def assert_offline(html: str) -> None:
    """Raise if ``html`` loads any script, stylesheet, image or frame from the network.

    Parameters
    ----------
    html
        A rendered page.

    Raises
    ------
    ValueError
        If an external ``src``/``href`` asset reference is found (plain links in text are allowed).
    """
    hit = _EXTERNAL_ASSET.search(html)
    if hit:
        msg = f"page references an external asset: {hit.group(0)[:80]!r}"
        raise ValueError(msg)
    if re.search(r"L\.tileLayer(?:\.wms)?\(\s*['\"](?:https?:)?//", html):
        msg = "page loads map tiles from the network"
        raise ValueError(msg)
    if re.search(r"@import\s+url\(\s*['\"]?https?:", html):
        msg = "page imports an external stylesheet"
        raise ValueError(msg)


def map_html(m: folium.Map) -> str:
    """Render ``m`` to one offline HTML document (string).

    Parameters
    ----------
    m
        A map from this module (or any folium map; it is made offline first).

    Returns
    -------
    str
        The complete HTML page.
    """
    _finalise(m)
    html = m.get_root().render()
    assert_offline(html)
    _assert_no_template_tooltips(html)
    return html


_TEMPLATE_BIND = re.compile(r"\.bind(?:Tooltip|Popup)\(\s*`|\$\(\s*`")


def _assert_no_template_tooltips(html: str) -> None:
    """Raise if a tooltip/popup is bound from a JS template literal (data would be code)."""
    hit = _TEMPLATE_BIND.search(html)
    if hit:
        msg = (
            "map binds a tooltip or popup from a JavaScript template literal, where a name "
            "containing `${…}` or a backtick runs as script; use placeplan's _Tooltip "
            f"(JSON string) instead of folium.Tooltip/Popup: {hit.group(0)!r}"
        )
        raise ValueError(msg)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` to ``path`` as a single self-contained HTML file that works offline.

    Parameters
    ----------
    m
        The map.
    path
        Output file (``.html``); parent folders are created.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    return write_page(path, lambda: map_html(m))


def write_page(path: str | Path, render: Callable[[], str], *, newline: str | None = None) -> Path:
    """Create ``path``'s folders, then write the page ``render()`` returns as UTF-8.

    Shared by :func:`save_map` and :func:`placeplan.publish.report.render.write_report`. The
    folders are
    made before rendering, as both always did; ``newline`` is passed to ``Path.write_text``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8", newline=newline)
    return path


# --------------------------------------------------------------------------- helpers
def _check_frame(df: pd.DataFrame | None, what: str, *, counts: bool, internal: bool) -> None:
    if df is None:
        return
    bad = [c for c in df.columns if _PUPIL_LIKE.search(str(c))]
    if bad:
        msg = f"{what}: pupil-level column(s) {bad} may never go on a map"
        raise SchemaValidationError(msg)
    if counts and not internal and "disclosure_mode" not in df.attrs:
        msg = (
            f"{what} carries pupil counts but has not been through "
            "placeplan.publish.disclosure.suppress (required for published maps)"
        )
        raise SchemaValidationError(msg)


def _to_wgs84(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = f"{what}: no CRS set; expected EPSG:27700"
        raise CRSError(msg)
    out = gdf.to_crs(4326)
    out["geometry"] = shapely.transform(
        out.geometry.to_numpy(), lambda xy: np.round(xy, 5), include_z=False
    )
    return out


def _features(gdf: gpd.GeoDataFrame, props: Sequence[str]) -> dict[str, Any]:
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


def _mask_col(df: pd.DataFrame, col: str) -> pd.Series:
    mask = suppression_mask(df)
    if col in mask.columns:
        return mask[col]
    return pd.Series(False, index=df.index)


def _display(values: pd.Series, suppressed: pd.Series, fmt: str, none_text: str = "–") -> list[str]:
    out = []
    for v, s in zip(values.tolist(), suppressed.tolist(), strict=True):
        if s:
            out.append(SUPPRESSED_MARKER)
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(none_text)
        else:
            out.append(fmt.format(v))
    return out


def band_index(minutes: float) -> int | None:
    """Index into :data:`TIME_BANDS` for a journey time, or None for NaN."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return None
    for i, (lo, hi, _) in enumerate(TIME_BANDS):
        if lo <= minutes < hi:
            return i
    return len(TIME_BANDS) - 1


def _bounds(frames: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    boxes = [f.total_bounds for f in frames if f is not None and not f.empty]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    w, s = arr[:, 0].min(), arr[:, 1].min()
    e, n = arr[:, 2].max(), arr[:, 3].max()
    return [[round(float(s), 5), round(float(w), 5)], [round(float(n), 5), round(float(e), 5)]]


def _new_map(height: str) -> folium.Map:
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


class _Tooltip(folium.Tooltip):
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
        cast("Figure", m.get_root()).html.add_child(Element(html), name="placeplan_banners")


def _add_basemap(
    m: folium.Map,
    *,
    outline: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None = None,
) -> None:
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
    g = _to_wgs84(frame[["geometry"]], what)
    folium.GeoJson(
        _features(g, []),
        name=name,
        style_function=lambda _f: dict(style),
        interactive=False,
        **kwargs,
    ).add_to(m)


def _add_provision(m: folium.Map, provision: gpd.GeoDataFrame | None) -> None:
    if provision is None or provision.empty:
        return
    _check_frame(provision, "provision", counts=False, internal=True)
    p = _to_wgs84(provision, "provision").sort_values("setting_id", kind="stable")
    fg = folium.FeatureGroup(name="Existing provision (by type)")
    for row in p.itertuples(index=False):
        ptype = str(getattr(row, "provision_type", "") or "")
        in_area = bool(getattr(row, "in_area", True))
        cap = getattr(row, "capacity", None)
        cap_txt = "–" if cap is None or pd.isna(cap) else f"{int(cap):,}"
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
            tooltip=_Tooltip(tip),
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


# --------------------------------------------------------------------------- maps
def map_journey_times(
    areas: gpd.GeoDataFrame,
    *,
    outline: gpd.GeoDataFrame | None = None,
    provision: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    internal: bool = False,
    note: str | None = None,
    attribution: str | None = None,
    height: str = "100%",
    threshold: int = 5,
) -> folium.Map:
    """Choropleth of mean journey time by area, baseline and scenario as two switchable layers.

    Parameters
    ----------
    areas
        Area polygons (EPSG:27700) with ``area_id``, ``name``, ``pupils``,
        ``baseline_mean_time_min``, ``scenario_mean_time_min``; optional ``imd_decile``,
        ``ruc_class``. In published mode it must have been through ``suppress``.
    outline
        Authority / island outline polygons, drawn as land.
    provision
        Existing settings (``setting_id``, ``name``, ``provision_type``, ``in_area``,
        ``capacity``), drawn as circles.
    sites
        Candidate sites; selected ones (``selected == True``) are drawn as stars of reference.
    roads
        Optional main-road lines for orientation.
    internal
        Internal mode: accept unsuppressed counts and show the INTERNAL banner.
    note
        Optional banner text (e.g. synthetic data).
    attribution
        Attribution text shown in the map corner.
    height
        CSS height of the map.
    threshold
        Disclosure threshold, quoted in the legend.

    Returns
    -------
    folium.Map
        An offline map (tiles=None, inlined Leaflet, deterministic ids).

    Raises
    ------
    SchemaValidationError
        If a pupil-level column is present or counts were not disclosure-controlled.
    CRSError
        If a frame has no CRS.
    """
    _check_frame(areas, "areas", counts="pupils" in areas.columns, internal=internal)
    _check_frame(
        sites,
        "sites",
        counts=sites is not None and "pupils_served" in sites.columns,
        internal=internal,
    )
    m = _new_map(height)
    _add_basemap(m, outline=outline, roads=roads)

    order = areas.sort_values("area_id", kind="stable").index
    a = _to_wgs84(areas.loc[order], "areas").reset_index(drop=True)

    def _sup(col: str) -> pd.Series:
        return pd.Series(_mask_col(areas, col).loc[order].to_numpy(), index=a.index)

    a["name"] = a["name"].astype(str) if "name" in a else a["area_id"].astype(str)
    a["area_id"] = a["area_id"].astype(str)
    a["pupils_txt"] = (
        _display(a["pupils"], _sup("pupils"), "{:,.0f}", "0") if "pupils" in a else "–"
    )
    fields = ["name", "area_id", "pupils_txt"]
    aliases = ["Area", "Code", "Pupils"]
    for col, label in (("imd_decile", "IMD decile"), ("ruc_class", "Rural/urban")):
        if col in a.columns:
            a[col + "_txt"] = [("–" if pd.isna(v) else str(v)) for v in a[col]]
            fields.append(col + "_txt")
            aliases.append(label)
    for which in ("baseline", "scenario"):
        col = f"{which}_mean_time_min"
        sup = _sup(col)
        a[f"{which}_txt"] = _display(a[col], sup, "{:.1f} min", "no pupils")
        a[f"{which}_band"] = [
            -2 if s else (-1 if b is None else b)
            for s, b in zip(sup, (band_index(v) for v in a[col].astype(float)), strict=True)
        ]
    fields += ["baseline_txt", "scenario_txt"]
    aliases += ["Mean journey, baseline", "Mean journey, scenario"]
    fc_cols = [*fields, "baseline_band", "scenario_band"]

    data = _features(a, fc_cols)
    for which, label, show in (
        ("baseline", "Baseline: mean journey time", False),
        ("scenario", "Scenario: mean journey time", True),
    ):
        key = f"{which}_band"
        folium.GeoJson(
            data,
            name=label,
            overlay=False,
            show=show,
            style_function=functools.partial(_band_style, key=key),
            highlight_function=lambda _f: {"weight": 2.5, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        ).add_to(m)

    _add_provision(m, provision)
    if sites is not None and not sites.empty:
        _add_sites(m, sites, internal=internal, only_selected=True)

    band_rows = "".join(
        f'<i style="background:{c}"></i>{html_text(lbl)}<br>'
        for c, (_, _, lbl) in zip(_BAND_COLOURS, TIME_BANDS, strict=True)
    )
    legend = (
        "<h4>Mean journey time (each way)</h4>"
        f"{band_rows}"
        f'<i style="background:{_SUPPRESSED_FILL}"></i>'
        f"suppressed (fewer than {threshold} pupils)<br>"
        f'<i style="background:{_NODATA_FILL}"></i>no pupils'
    )
    return _finish(
        m,
        legend,
        provision,
        lambda: _bounds([_to_wgs84(areas[["geometry"]], "areas")]),
        collapsed=False,
        attribution=attribution,
        internal=internal,
        note=note,
    )


def _band_style(feature: dict[str, Any], *, key: str) -> dict[str, Any]:
    band = feature["properties"].get(key)
    style = {"color": "#666666", "weight": 0.6, "fillOpacity": 0.85}
    if band == -2:
        style["fillColor"] = _SUPPRESSED_FILL
    elif band is None or band == -1:
        style.update(fillColor=_NODATA_FILL, dashArray="3 3")
    else:
        style["fillColor"] = _BAND_COLOURS[int(band)]
    return style


def _score_colour(score: float, lo: float, hi: float) -> str:
    if score is None or pd.isna(score):
        return "#bdbdbd"
    if hi <= lo:
        return _SCORE_COLOURS[-1]
    k = int((score - lo) / (hi - lo) * len(_SCORE_COLOURS))
    return _SCORE_COLOURS[min(max(k, 0), len(_SCORE_COLOURS) - 1)]


def _add_sites(
    m: folium.Map, sites: gpd.GeoDataFrame, *, internal: bool, only_selected: bool = False
) -> tuple[float, float]:
    s = _to_wgs84(sites, "sites")
    s = s.sort_values("site_id", kind="stable")
    sup = _mask_col(sites, "pupils_served").reindex(s.index).fillna(False)
    sup_t = _mask_col(sites, "mean_time_saved_min").reindex(s.index).fillna(False)
    scores = pd.to_numeric(s.get("score", pd.Series(np.nan, index=s.index)), errors="coerce")
    lo = float(scores.min()) if scores.notna().any() else 0.0
    hi = float(scores.max()) if scores.notna().any() else 1.0
    selected = s.get("selected", pd.Series(False, index=s.index)).fillna(False).astype(bool)
    served = _display(s.get("pupils_served", pd.Series(np.nan, index=s.index)), sup, "{:,.0f}", "–")
    saved = _display(
        s.get("mean_time_saved_min", pd.Series(np.nan, index=s.index)), sup_t, "{:.1f} min", "–"
    )
    groups = {
        True: folium.FeatureGroup(name="Proposed sites (selected)"),
        False: folium.FeatureGroup(name="Candidate sites (not selected)", show=not only_selected),
    }
    for i, row in enumerate(s.itertuples(index=False)):
        sel = bool(selected.iloc[i])
        if only_selected and not sel:
            continue
        score = scores.iloc[i]
        score_txt = "–" if pd.isna(score) else f"{score:.2f}"
        cost = getattr(row, "capital_cost_gbp", None)
        cost_txt = "–" if cost is None or pd.isna(cost) else f"£{cost:,.0f}"
        places = getattr(row, "places", None)
        places_txt = "–" if places is None or pd.isna(places) else f"{int(places):,}"
        tip = (
            f"<b>{html_text(str(row.name))}</b> ({html_text(str(row.site_id))})"
            f"{' — <b>selected</b>' if sel else ''}<br>"
            f"needs: {html_text(str(getattr(row, 'needs', '') or 'any'))}; "
            f"phases: {html_text(str(getattr(row, 'phases', '') or '–'))}<br>"
            f"places: {places_txt}; capital cost: {cost_txt}<br>"
            f"score: {score_txt}<br>pupils served: {served[i]}; mean time saved: {saved[i]}"
        )
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=11 if sel else 7,
            color="#000000" if sel else "#444444",
            weight=3 if sel else 1,
            fill=True,
            fill_color=_score_colour(score, lo, hi),
            fill_opacity=0.95,
            tooltip=_Tooltip(tip),
        ).add_to(groups[sel])
    for fg in (groups[False], groups[True]):
        if fg._children:
            fg.add_to(m)
    return lo, hi


def _point_lookup(
    areas: gpd.GeoDataFrame | None, provision: gpd.GeoDataFrame | None
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    origins: dict[str, tuple[float, float]] = {}
    dests: dict[str, tuple[float, float]] = {}
    if areas is not None and not areas.empty:
        pts = areas.set_geometry(areas.geometry.representative_point())
        pts = _to_wgs84(pts[["area_id", "geometry"]], "areas")
        origins = {str(r.area_id): (r.geometry.y, r.geometry.x) for r in pts.itertuples()}
    if provision is not None and not provision.empty:
        p = _to_wgs84(provision[["setting_id", "geometry"]], "provision")
        dests = {str(r.setting_id): (r.geometry.y, r.geometry.x) for r in p.itertuples()}
    return origins, dests


def _add_flows(
    m: folium.Map,
    flows: pd.DataFrame,
    areas: gpd.GeoDataFrame | None,
    provision: gpd.GeoDataFrame | None,
    drawn_ends: list[tuple[float, float]] | None = None,
) -> int:
    """Draw aggregated OOA flows; returns how many suppressed/zero flows were left out.

    The (lat, lon) of every drawn flow's destination is appended to ``drawn_ends``, so the
    map can be fitted to where pupils actually travel.
    """
    origins, dests = _point_lookup(areas, provision)
    flows = flows.sort_values(["origin_id", "destination_id"], kind="stable")
    left_out = 0
    vmax = max(
        float(pd.to_numeric(flows[c], errors="coerce").max() or 0) for c in ("baseline", "scenario")
    )
    vmax = vmax if vmax > 0 and not math.isnan(vmax) else 1.0
    for which, colour, show in (("baseline", "#7b3294", False), ("scenario", "#e66101", True)):
        fg = folium.FeatureGroup(name=f"Out-of-area flows, {which}", show=show)
        sup = _mask_col(flows, which)
        for idx, row in flows.iterrows():
            n = row[which]
            if bool(sup.at[idx]) or pd.isna(n) or n <= 0:
                left_out += 1
                continue
            o = origins.get(str(row["origin_id"]))
            d = dests.get(str(row["destination_id"]))
            if o is None or d is None:
                left_out += 1
                continue
            if drawn_ends is not None:
                drawn_ends.append((round(d[0], 5), round(d[1], 5)))
            oname = html_text(str(row.get("origin_name", row["origin_id"])))
            dname = html_text(str(row.get("destination_name", row["destination_id"])))
            folium.PolyLine(
                [[round(o[0], 5), round(o[1], 5)], [round(d[0], 5), round(d[1], 5)]],
                color=colour,
                weight=round(1.5 + 7 * math.sqrt(float(n) / vmax), 2),
                opacity=0.75,
                tooltip=_Tooltip(f"{oname} → {dname}<br>{which}: {int(n):,} pupils"),
            ).add_to(fg)
        if fg._children:
            fg.add_to(m)
    return left_out


def map_sites(
    sites: gpd.GeoDataFrame,
    provision: gpd.GeoDataFrame | None,
    *,
    isochrones: gpd.GeoDataFrame | None = None,
    outline: gpd.GeoDataFrame | None = None,
    ooa_flows: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    internal: bool = False,
    note: str | None = None,
    attribution: str | None = None,
    threshold: int = 5,
    flow_origins: gpd.GeoDataFrame | None = None,
    height: str = "100%",
) -> folium.Map:
    """Candidate sites coloured by score, existing provision, catchments and OOA flows.

    Parameters
    ----------
    sites
        Candidate sites (EPSG:27700 points): ``site_id``, ``name``, ``needs``, ``phases``,
        ``places``, ``capital_cost_gbp``, ``score`` (may be NaN), ``selected``,
        ``pupils_served``, ``mean_time_saved_min``.
    provision
        Existing settings (``setting_id``, ``name``, ``provision_type``, ``in_area``,
        ``capacity``); also the destinations of ``ooa_flows``.
    isochrones
        Drive-time catchments: ``site_id``, ``minutes``, polygon geometry.
    outline
        Authority / island outline.
    ooa_flows
        Aggregated flows: ``origin_id`` (an ``area_id`` of ``areas``), ``destination_id`` (a
        ``setting_id`` of ``provision``), ``baseline``, ``scenario`` counts (suppressed); optional
        ``origin_name``, ``destination_name``. Suppressed or zero flows are not drawn.
    areas
        Area polygons used as a light basemap and as flow origins (representative points).
    roads
        Optional main-road lines.
    internal
        Internal mode (unsuppressed counts allowed; INTERNAL banner).
    note
        Optional banner text (e.g. synthetic data).
    attribution
        Attribution text.
    threshold
        Disclosure threshold, quoted in the legend.
    flow_origins
        Polygons (``area_id``, EPSG:27700) whose representative points are the flow origins,
        e.g. planning areas; default ``areas``.
    height
        CSS height of the map.

    Returns
    -------
    folium.Map
        An offline map.

    Raises
    ------
    SchemaValidationError
        If a pupil-level column is present or counts were not disclosure-controlled.
    CRSError
        If a frame has no CRS.
    """
    _check_frame(sites, "sites", counts="pupils_served" in sites.columns, internal=internal)
    _check_frame(ooa_flows, "ooa_flows", counts=True, internal=internal)
    _check_frame(
        areas,
        "areas",
        counts="pupils" in (areas.columns if areas is not None else []),
        internal=internal,
    )
    m = _new_map(height)
    _add_basemap(m, outline=outline, roads=roads, areas=areas)

    if isochrones is not None and not isochrones.empty:
        iso = _to_wgs84(isochrones, "isochrones")
        minutes = sorted({float(v) for v in iso["minutes"]}, reverse=True)
        shades = ["#9ecae1", "#6baed6", "#3182bd", "#08519c"]
        for k, mins in enumerate(minutes):
            sub = iso[iso["minutes"].astype(float) == mins].sort_values("site_id", kind="stable")
            sub = sub.assign(label=[f"{sid}: {mins:g} min drive" for sid in sub["site_id"]])
            colour = shades[min(len(minutes) - 1 - k, len(shades) - 1)]
            folium.GeoJson(
                _features(sub, ["site_id", "label"]),
                name=html_text(f"Catchment ≤ {mins:g} min drive"),
                show=len(minutes) == 1 or k > 0,
                style_function=functools.partial(_iso_style, colour=colour),
                tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            ).add_to(m)

    _add_provision(m, provision)
    left_out = 0
    flow_ends: list[tuple[float, float]] = []
    if ooa_flows is not None and not ooa_flows.empty:
        left_out = _add_flows(
            m,
            ooa_flows,
            flow_origins if flow_origins is not None else areas,
            provision,
            drawn_ends=flow_ends,
        )
    lo, hi = _add_sites(m, sites, internal=internal)

    edges = np.linspace(lo, hi, len(_SCORE_COLOURS) + 1)
    score_rows = "".join(
        f'<i class="dot" style="background:{c}"></i>{edges[i]:.2f}–{edges[i + 1]:.2f}<br>'
        for i, c in enumerate(_SCORE_COLOURS)
    )
    legend = (
        "<h4>Candidate site score</h4>"
        f"{score_rows}"
        '<i class="dot" style="background:#bdbdbd"></i>not scored<br>'
        "<small>thick black ring = selected</small>"
    )
    if ooa_flows is not None:
        legend += (
            "<h4 style='margin-top:6px'>Out-of-area flows</h4>"
            f"<small>line width ∝ pupils; flows of fewer than {threshold} pupils "
            "are not drawn</small>"
        )

    def _fit() -> list[list[float]] | None:
        frames = [sites, outline if outline is not None else areas]
        b = _bounds([_to_wgs84(f[["geometry"]], "bounds") for f in frames if f is not None])
        if b and flow_ends:
            # fit the drawn flows' destinations too: the reviewer sees where pupils travel today
            lats = [p[0] for p in flow_ends] + [b[0][0], b[1][0]]
            lons = [p[1] for p in flow_ends] + [b[0][1], b[1][1]]
            b = [[min(lats), min(lons)], [max(lats), max(lons)]]
        return b

    m.placeplan_flows_left_out = left_out  # type: ignore[attr-defined]
    return _finish(
        m,
        legend,
        provision,
        _fit,
        collapsed=True,
        attribution=attribution,
        internal=internal,
        note=note,
    )


def _finish(
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
    _Legend(legend).add_to(m)
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
    return _finalise(m)


def _iso_style(_feature: dict[str, Any], *, colour: str) -> dict[str, Any]:
    return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.18}
