"""Static SVG map figures for print: before/after panels drawn straight from the run's layers.

The interactive folium maps do not print: Leaflet keeps the screen's zoom, the legends cover
half the area and only the visible layer prints. The figures here are what a reviewer reads on
paper: for each map a **baseline panel above a scenario panel**, both fitted to the whole area
(including the out-of-area settings pupils travel to, the ferry terminals on the way and the
light outline of the neighbouring areas), with the legend *beside* the panels, a scale bar, a
grid-north arrow and the attribution underneath.

Geometries stay in EPSG:27700 (metres) and are mapped linearly to SVG user units; every layer
is clipped to the panel, simplified to the display resolution (under a unit, ~0.2 mm printed)
and its coordinates rounded to 0.1 unit, so a figure stays well under 200 KB. The markup is
self-contained (no script, no external font or image) and every name in it goes through
:func:`placeplan.publish.escape.html_text` / :func:`~placeplan.publish.escape.html_attr`.

The same disclosure rules as the interactive maps hold: counts must have been through
:func:`placeplan.publish.disclosure.suppress` (checked with
:func:`placeplan.publish.maps._layers.check_frame`); suppressed areas are grey, suppressed flows
are not drawn, and no pupil point is ever drawn.

Each layer is a ``<g class="layer" data-layer="…">``; each panel frame a ``<rect
class="map-frame">``; the legend a ``<g class="legend">`` whose ``data-x/-y/-width/-height``
give its box (tests check it lies outside every frame).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placeplan.publish.maps._layers import check_frame, suppressed_column
from placeplan.publish.maps._page import HtmlData
from placeplan.publish.maps._svg import (
    FLOW_COLOURS,
    PROPOSED_COLOUR,
    Legend,
    Panel,
    StaticBasemap,
    basemap_layers,
    basemap_legend,
    bounds,
    box,
    extent,
    figure,
    layer,
    layout_panels,
    legend_left,
    num,
    path_d,
    polys,
    proposed_layer,
    proposed_legend,
    provision_layer,
    provision_legend,
    roads_layer,
)
from placeplan.publish.maps.journey_times import (
    BAND_COLOURS,
    NODATA_FILL,
    SUPPRESSED_FILL,
    TIME_BANDS,
    band_index,
)

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = [
    "PROPOSED_COLOUR",
    "StaticBasemap",
    "attach_print_figure",
    "flow_paths",
    "static_basemap",
    "static_journey_times",
    "static_sites_flows",
]


# --------------------------------------------------------------------------- journey times
def static_journey_times(
    areas: gpd.GeoDataFrame,
    *,
    sites: gpd.GeoDataFrame | None = None,
    base: StaticBasemap | None = None,
    scenario_name: str = "Scenario",
    threshold: int = 5,
    fig_id: str = "fs-journey-times",
) -> str:
    """Draw mean journey time by area, baseline above scenario, as one SVG figure.

    Parameters
    ----------
    areas
        Area polygons (EPSG:27700) with ``baseline_mean_time_min`` and
        ``scenario_mean_time_min`` (and ``pupils``), through ``suppress`` unless internal.
    sites
        Candidate sites; the selected ones are drawn as numbered stars on both panels (hollow
        on the baseline, filled on the scenario) and keyed in the legend.
    base
        The basemap (outline, neighbouring areas, roads, attribution).
    scenario_name
        Title of the lower panel.
    threshold
        Disclosure threshold, quoted in the legend.
    fig_id
        The ``id`` of the ``<svg>`` (unique in the page; prefixes the clip-path ids).

    Returns
    -------
    str
        The ``<svg>`` markup.

    Raises
    ------
    SchemaValidationError
        If a pupil-level column is present or counts were not disclosure-controlled.
    """
    base = base or StaticBasemap()
    check_frame(areas, "areas", counts="pupils" in areas.columns, internal=base.internal)
    top_p, bottom_p = layout_panels(extent(bounds([areas, base.outline])))
    a = areas.sort_values("area_id", kind="stable") if "area_id" in areas else areas
    panels = []
    for p, which, title in (
        (top_p, "baseline", "Baseline"),
        (bottom_p, "scenario", f"Scenario: {scenario_name}"),
    ):
        col = f"{which}_mean_time_min"
        sup = suppressed_column(areas, col).reindex(a.index).fillna(False)
        paths = []
        for (geom, v), s in zip(zip(a.geometry, a[col], strict=True), sup, strict=True):
            b = None if s else band_index(float(v))
            fill = SUPPRESSED_FILL if s else (NODATA_FILL if b is None else BAND_COLOURS[b])
            d = path_d(geom, p, clip=False)
            if d:
                paths.append(f'<path d="{d}" fill="{fill}"/>')
        layers = [
            *basemap_layers(p, base),
            layer("areas", paths, stroke="#666", stroke_width="0.4"),
            *roads_layer(p, base),
        ]
        stars, key = proposed_layer(p, sites, filled=which == "scenario")
        panels.append((p, title, [*layers, *stars]))
    legend_top = top_p.top
    leg = Legend(legend_left((top_p, bottom_p)), legend_top - 12, [])
    leg.heading("Mean journey time (each way), pupils living in the area")
    for colour, (_, _, label) in zip(BAND_COLOURS, TIME_BANDS, strict=True):
        leg.item(box(colour), label)
    leg.item(
        box(SUPPRESSED_FILL),
        f"suppressed: <{threshold} pupils, or 1-{threshold - 1} moving (or protecting such)",
    )
    leg.item(box(NODATA_FILL), "no pupils")
    proposed_legend(leg, key)
    basemap_legend(leg, "".join(x for _, _, layers in panels for x in layers))
    return figure(
        fig_id=fig_id,
        title="Mean journey time by area, baseline and scenario",
        panels=panels,
        legend=leg,
        legend_top=legend_top,
        base=base,
    )


# --------------------------------------------------------------------------- sites and flows
def flow_paths(
    flows: pd.DataFrame,
    origins: gpd.GeoDataFrame | None,
    provision: gpd.GeoDataFrame | None,
) -> list[list[tuple[float, float]] | None]:
    """The EPSG:27700 path of each flow: origin → (ferry terminals) → setting.

    The origin is the representative point of the ``origins`` polygon whose ``area_id`` is the
    flow's ``origin_id``; the destination the ``provision`` point of ``destination_id``; in
    between the flow's ``waypoints`` (the island and mainland terminals of the ferry link its
    journeys use, from :func:`placeplan.compute.layers.ooa_flows`), when it has any.

    Parameters
    ----------
    flows
        ``origin_id``, ``destination_id`` and optional ``waypoints`` (sequence of ``(x, y)``).
    origins
        Polygons with ``area_id`` (EPSG:27700).
    provision
        Settings with ``setting_id`` (EPSG:27700 points).

    Returns
    -------
    list
        One list of ``(x, y)`` per flow row (in order), or None where an end is unknown.
    """
    o_pts: dict[str, tuple[float, float]] = {}
    d_pts: dict[str, tuple[float, float]] = {}
    if origins is not None and not origins.empty:
        rp = origins.geometry.representative_point()
        o_pts = {str(k): (g.x, g.y) for k, g in zip(origins["area_id"], rp, strict=True)}
    if provision is not None and not provision.empty:
        d_pts = {
            str(k): (g.x, g.y)
            for k, g in zip(provision["setting_id"], provision.geometry, strict=True)
        }
    out: list[list[tuple[float, float]] | None] = []
    has_via = "waypoints" in flows.columns
    for row in flows.itertuples(index=False):
        o = o_pts.get(str(row.origin_id))
        d = d_pts.get(str(row.destination_id))
        if o is None or d is None:
            out.append(None)
            continue
        via = getattr(row, "waypoints", None) if has_via else None
        mid = [(float(x), float(y)) for x, y in via] if isinstance(via, list | tuple) else []
        out.append([o, *mid, d])
    return out


_Drawn = dict[str, list[tuple[list[tuple[float, float]], float, bool]]]


def _drawn_flows(
    flows: pd.DataFrame | None,
    paths: list[list[tuple[float, float]] | None],
    totals: pd.DataFrame | None,
    provision: gpd.GeoDataFrame | None,
    start: tuple[float, float] | None,
) -> _Drawn:
    """Per side, the flows to draw: ``(path, pupils, combined)``.

    A home area → setting flow is drawn when its count is published and non-zero. A setting
    none of whose flows is drawn on a side but whose **total** (``totals``, suppressed like the
    report's by-setting table) is published gets one *combined* flow of that total, drawn from
    the authority (the island terminal of its crossing, else ``start``) — never a residual
    (total minus drawn flows), which could reveal a suppressed count.
    """
    out: _Drawn = {"baseline": [], "scenario": []}
    if flows is None or flows.empty:
        return out
    dest_ids = flows["destination_id"].astype(str).tolist()
    via: dict[str, list[tuple[float, float]]] = {}
    if "waypoints" in flows.columns:
        for d, w in zip(dest_ids, flows["waypoints"], strict=True):
            if isinstance(w, list | tuple) and w and d not in via:
                via[d] = [(float(x), float(y)) for x, y in w]
    ends = {}
    if provision is not None and not provision.empty:
        ends = {
            str(k): (g.x, g.y)
            for k, g in zip(provision["setting_id"], provision.geometry, strict=True)
        }
    for which, drawn in out.items():
        sup = suppressed_column(flows, which)
        seen: set[str] = set()
        for (idx, n), path, d in zip(flows[which].items(), paths, dest_ids, strict=True):
            if path is None or bool(sup.at[idx]) or pd.isna(n) or float(n) <= 0:
                continue
            drawn.append((path, float(n), False))
            seen.add(d)
        if totals is None or totals.empty:
            continue
        tsup = suppressed_column(totals, which)
        t_ids = totals["destination_id"].astype(str)
        for (idx, n), d in zip(totals[which].items(), t_ids, strict=True):
            if d in seen or bool(tsup.at[idx]) or pd.isna(n) or float(n) <= 0 or d not in ends:
                continue
            mids = via.get(d, [])
            first = mids[:1] if mids else ([start] if start is not None else [])
            if not first:
                continue
            drawn.append(([*first, *mids[1:], ends[d]], float(n), True))
    return out


def _flow_layer(
    p: Panel, drawn: list[tuple[list[tuple[float, float]], float, bool]], vmax: float, colour: str
) -> list[str]:
    body = []
    for path, n, combined in sorted(drawn, key=lambda t: -t[1]):
        pts = [p.xy(x, y) for x, y in path]
        d = "M" + "L".join(f"{num(x)} {num(y)}" for x, y in pts)
        w = 1.2 + 6 * math.sqrt(n / vmax)
        dash = f' stroke-dasharray="{1.6 * w + 4:.0f} {w + 4:.0f}"' if combined else ""
        body.append(f'<path d="{d}" stroke-width="{w:.1f}"{dash}/>')
    if not body:
        return []
    return [
        layer(
            "flows", body, fill="none", stroke=colour, stroke_opacity="0.75", stroke_linecap="round"
        )
    ]


def static_sites_flows(
    sites: gpd.GeoDataFrame | None,
    provision: gpd.GeoDataFrame | None,
    *,
    flows: pd.DataFrame | None = None,
    flow_origins: gpd.GeoDataFrame | None = None,
    base: StaticBasemap | None = None,
    scenario_name: str = "Scenario",
    threshold: int = 5,
    fig_id: str = "fs-sites",
    destination_totals: pd.DataFrame | None = None,
) -> str:
    """Draw specialist settings, proposed sites and out-of-area flows, baseline above scenario.

    The frame covers the authority and every setting a drawn flow reaches (with the ferry
    terminals on the way), on the light outline of the neighbouring areas.

    Parameters
    ----------
    sites
        Candidate sites; selected ones are numbered stars on top (hollow on the baseline).
    provision
        Settings (``setting_id``, ``name``, ``provision_type``, ``in_area``); specialist ones
        are drawn (out-of-area ones with a dashed ring); also the flows' destinations.
    flows
        Suppressed ``origin_id, destination_id, baseline, scenario`` (optional ``waypoints``).
    flow_origins
        Polygons (``area_id``) whose representative points are the flows' origins.
    base
        The basemap.
    scenario_name
        Title of the lower panel.
    threshold
        Disclosure threshold, quoted in the legend.
    fig_id
        The ``id`` of the ``<svg>``.
    destination_totals
        Suppressed ``destination_id, baseline, scenario``: placements per setting summed over
        home areas, as published in the report's by-setting table. A setting whose home-area
        flows are all suppressed is drawn as one dashed flow of its published total.

    Returns
    -------
    str
        The ``<svg>`` markup.

    Raises
    ------
    SchemaValidationError
        If a pupil-level column is present or counts were not disclosure-controlled.
    """
    base = base or StaticBasemap()
    check_frame(flows, "ooa_flows", counts=True, internal=base.internal)
    check_frame(destination_totals, "destination_totals", counts=True, internal=base.internal)
    check_frame(
        sites,
        "sites",
        counts=sites is not None and "pupils_served" in sites.columns,
        internal=base.internal,
    )
    paths = flow_paths(flows, flow_origins, provision) if flows is not None else []
    land = base.outline if base.outline is not None else flow_origins
    start = None
    if land is not None and not land.empty:
        rp = land.geometry.union_all().representative_point()
        start = (rp.x, rp.y)
    drawn = _drawn_flows(flows, paths, destination_totals, provision, start)
    pts = [pt for side in drawn.values() for path, _, _ in side for pt in path]
    if provision is not None and not provision.empty:
        # every out-of-area specialist setting, so the reader sees where placements can be
        ooa = provision[
            ~provision["in_area"].fillna(True).astype(bool)
            & (provision["provision_type"].astype(str) != "mainstream")
        ]
        pts += [(g.x, g.y) for g in ooa.geometry]
    boxes = bounds([land, sites])
    if pts:
        arr = np.asarray(pts)
        boxes.append((arr[:, 0].min(), arr[:, 1].min(), arr[:, 0].max(), arr[:, 1].max()))
    top_p, bottom_p = layout_panels(extent(boxes))
    counts = [n for side in drawn.values() for _, n, _ in side]
    vmax = max(counts) if counts else 1.0
    panels = []
    for p, which, title in (
        (top_p, "baseline", "Baseline"),
        (bottom_p, "scenario", f"Scenario: {scenario_name}"),
    ):
        areas_light = []
        if flow_origins is not None and not flow_origins.empty:
            areas_light = [
                layer(
                    "areas",
                    polys(flow_origins, p),
                    fill="none",
                    stroke="#b0b0b0",
                    stroke_width="0.4",
                )
            ]
        stars, key = proposed_layer(p, sites, filled=which == "scenario")
        layers = [
            *basemap_layers(p, base),
            *areas_light,
            *roads_layer(p, base),
            *_flow_layer(p, drawn[which], vmax, FLOW_COLOURS[which]),
            *provision_layer(p, provision),
            *stars,
        ]
        panels.append((p, title, layers))
    legend_top = top_p.top
    leg = Legend(legend_left((top_p, bottom_p)), legend_top - 12, [])
    _flows_legend(
        leg,
        vmax,
        threshold,
        has_flows=flows is not None,
        combined=any(c for side in drawn.values() for _, _, c in side),
    )
    provision_legend(leg, provision)
    proposed_legend(leg, key)
    basemap_legend(leg, "".join(x for _, _, layers in panels for x in layers))
    return figure(
        fig_id=fig_id,
        title="Specialist settings, proposed sites and out-of-area placements, before and after",
        panels=panels,
        legend=leg,
        legend_top=legend_top,
        base=base,
    )


def _flows_legend(
    leg: Legend, vmax: float, threshold: int, *, has_flows: bool, combined: bool
) -> None:
    if not has_flows:
        return
    leg.heading("Out-of-area and independent placements (home area → setting)")
    for which in ("baseline", "scenario"):
        leg.item(
            f'<line x1="0" y1="6" x2="16" y2="6" stroke="{FLOW_COLOURS[which]}" stroke-width="3"/>',
            which,
        )
    for n in sorted({max(1, round(vmax)), max(1, round(vmax / 4))}, reverse=True):
        w = 1.2 + 6 * math.sqrt(n / vmax)
        leg.item(
            f'<line x1="0" y1="6" x2="16" y2="6" stroke="#777" stroke-width="{w:.1f}"/>',
            f"{n:,} pupils",
        )
    if combined:
        leg.item(
            '<line x1="0" y1="6" x2="16" y2="6" stroke="#777" stroke-width="3" '
            'stroke-dasharray="5 3"/>',
            "dashed: total to a setting from several home areas, each under the threshold",
        )
    leg.text(
        f"Flows of fewer than {threshold} pupils from one home area are not drawn. Ferry "
        "journeys are drawn via the terminals of the crossing they use."
    )


def static_basemap(options: Mapping[str, Any]) -> StaticBasemap:
    """The :class:`StaticBasemap` of the keyword arguments the interactive maps are drawn with.

    Parameters
    ----------
    options
        ``outline``, ``region``, ``roads``, ``attribution``, ``note``, ``internal`` (any absent).

    Returns
    -------
    StaticBasemap
        The same basemap, banners and attribution for the static figures.
    """
    return StaticBasemap(
        outline=options.get("outline"),
        region=options.get("region"),
        roads=options.get("roads"),
        attribution=options.get("attribution"),
        note=options.get("note"),
        internal=bool(options.get("internal", False)),
    )


_PRINT_CSS = (
    "<style>.pp-print-figure{display:none}"
    "@media print{@page{size:A4 portrait;margin:10mm}"
    "html,body{height:auto!important;overflow:visible!important;margin:0}"
    ".folium-map,.leaflet-container,.pp-banner{display:none!important}"
    ".pp-print-figure{display:block;break-inside:avoid}"
    ".pp-print-figure+.pp-print-figure{break-before:page}"
    ".pp-print-figure svg{width:100%;height:auto;max-height:275mm}}</style>"
)


def attach_print_figure(m: folium.Map, svg: str, *, name: str = "figure") -> None:
    """Print ``svg`` instead of the interactive map when the map's page is printed.

    Leaflet prints the screen's view (legends over the area, one layer); the page gets the
    static figure, shown only by ``@media print``, and hides the map when printing.

    Parameters
    ----------
    m
        A map from this package.
    svg
        A figure from :func:`static_journey_times` or :func:`static_sites_flows`.
    name
        A name for the figure on the page (attach several under different names; each prints
        on its own page).
    """
    from branca.element import Figure

    root = m.get_root()
    assert isinstance(root, Figure)  # a folium.Map's root is always its Figure
    root.header.add_child(HtmlData(_PRINT_CSS), name="placeplan_print_css")
    root.html.add_child(
        HtmlData(f'<div class="pp-print-figure">{svg}</div>'), name=f"placeplan_print_{name}"
    )
