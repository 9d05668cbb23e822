"""The sites map: candidate sites by score, existing provision, catchments and OOA flows."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import pandas as pd

from placeplan.publish.disclosure import NOT_AVAILABLE_MARKER as NA
from placeplan.publish.disclosure import SUPPRESSED_MARKER
from placeplan.publish.escape import html_text
from placeplan.publish.maps._layers import (
    PROPOSED_COLOUR,
    JsonTooltip,
    add_basemap,
    add_provision,
    check_frame,
    display_values,
    feature_collection,
    finish_map,
    frame_bounds,
    new_map,
    numbered_proposals,
    spread_offsets,
    star_vertices,
    suppressed_column,
    to_wgs84,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "COINCIDENT_M",
    "SCORE_COLOURS",
    "SQUARE_PX",
    "add_sites",
    "map_sites",
    "proposals_legend",
    "score_colour",
]

#: Candidate site score classes, low → high, shared with the static figures: ColorBrewer YlGn-5,
#: sequential (light to dark, so its order reads without hue: colour-blind safe). No provision
#: type, flow, star or the grey of "not scored" is yellow-green (see ``PROVISION_COLOURS``).
SCORE_COLOURS = ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837")


#: Side (px) of a candidate site's square on the interactive map (a circle of radius 7 before).
SQUARE_PX = 13

#: Proposed sites closer than this (metres) would draw their stars (about 22 px) on top of each
#: other at the zoom that shows a whole authority (about 50 m a pixel at zoom 11): their stars are
#: pulled apart on screen, at every zoom (the sample's two Ryde bases are 800 m apart).
COINCIDENT_M = 1000.0


def score_colour(score: float, lo: float, hi: float) -> str:
    """The :data:`SCORE_COLOURS` class of ``score`` on ``lo``–``hi`` (grey if not scored)."""
    if score is None or pd.isna(score):
        return "#bdbdbd"
    if hi <= lo:
        return SCORE_COLOURS[-1]
    k = int((score - lo) / (hi - lo) * len(SCORE_COLOURS))
    return SCORE_COLOURS[min(max(k, 0), len(SCORE_COLOURS) - 1)]


def _score_range(row: object) -> str:
    """A hidden score's published range ("0.46–0.50 (rank 8–12) …"), else the marker."""
    lo, hi = getattr(row, "score_low", None), getattr(row, "score_high", None)
    best, worst = getattr(row, "rank_best", None), getattr(row, "rank_worst", None)
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return SUPPRESSED_MARKER
    rank = ""
    if best is not None and worst is not None and not (pd.isna(best) or pd.isna(worst)):
        b, w = int(best), int(worst)
        rank = f" (rank {b})" if b == w else f" (rank {b}–{w})"
    return f"{lo:.2f}–{hi:.2f}{rank}, a range: a criterion is suppressed (c)"


def add_sites(
    m: folium.Map, sites: gpd.GeoDataFrame, *, internal: bool, only_selected: bool = False
) -> tuple[float, float]:
    """Add candidate sites as squares coloured by score (the selected ones as numbered stars);
    returns the score range ``(lo, hi)``."""
    s = to_wgs84(sites, "sites")
    s = s.sort_values("site_id", kind="stable")
    sup = suppressed_column(sites, "pupils_served").reindex(s.index).fillna(False)
    sup_t = suppressed_column(sites, "mean_time_saved_min").reindex(s.index).fillna(False)
    sup_s = suppressed_column(sites, "score").reindex(s.index).fillna(False)
    scores = pd.to_numeric(s.get("score", pd.Series(np.nan, index=s.index)), errors="coerce")
    lo = float(scores.min()) if scores.notna().any() else 0.0
    hi = float(scores.max()) if scores.notna().any() else 1.0
    selected = s.get("selected", pd.Series(False, index=s.index)).fillna(False).astype(bool)
    served = display_values(
        s.get("pupils_served", pd.Series(np.nan, index=s.index)), sup, "{:,.0f}", NA
    )
    saved = display_values(
        s.get("mean_time_saved_min", pd.Series(np.nan, index=s.index)), sup_t, "{:.1f} min", NA
    )
    proposals = numbered_proposals(sites)
    numbers = {str(r.site_id): i for i, r in proposals}
    # stars of proposals at (nearly) the same place are pulled apart on screen, numbers clear
    spread = spread_offsets(
        [(r.geometry.x, r.geometry.y) for _, r in proposals], within=COINCIDENT_M, radius=13
    )
    shift = {str(r.site_id): d for (_, r), d in zip(proposals, spread, strict=True)}
    groups = {
        True: folium.FeatureGroup(name="Proposed sites (selected)"),
        False: folium.FeatureGroup(name="Candidate sites (not selected)", show=not only_selected),
    }
    for i, row in enumerate(s.itertuples(index=False)):
        sel = bool(selected.iloc[i])
        if only_selected and not sel:
            continue
        score = scores.iloc[i]
        score_txt = _score_range(row) if sup_s.iloc[i] else NA if pd.isna(score) else f"{score:.2f}"
        cost = getattr(row, "capital_cost_gbp", None)
        cost_txt = NA if cost is None or pd.isna(cost) else f"£{cost:,.0f}"
        places = getattr(row, "places", None)
        places_txt = NA if places is None or pd.isna(places) else f"{int(places):,}"
        tip = (
            f"<b>{html_text(str(row.name))}</b> ({html_text(str(row.site_id))})"
            f"{' — <b>selected</b>' if sel else ''}<br>"
            f"needs: {html_text(str(getattr(row, 'needs', '') or 'any'))}; "
            f"phases: {html_text(str(getattr(row, 'phases', '') or NA))}<br>"
            f"places: {places_txt}; capital cost: {cost_txt}<br>"
            f"score: {score_txt}<br>pupils served: {served[i]}; mean time saved: {saved[i]}"
        )
        if sel:
            # a star in the marker pane, above every area, road, catchment and flow layer, with
            # its number (the same on the static figures and in the legend) beside it
            dx, dy = shift.get(str(row.site_id), (0.0, 0.0))
            folium.Marker(
                location=[row.geometry.y, row.geometry.x],
                icon=folium.DivIcon(
                    html=_star_icon(numbers.get(str(row.site_id), 0)),
                    icon_size=(44, 26),
                    icon_anchor=(round(13 - dx), round(13 - dy)),
                    class_name="pp-proposed",
                ),
                tooltip=JsonTooltip(tip),
                z_index_offset=1000,
            ).add_to(groups[sel])
            continue
        folium.Marker(
            location=[row.geometry.y, row.geometry.x],
            icon=folium.DivIcon(
                html=_square_icon(score_colour(score, lo, hi)),
                icon_size=(SQUARE_PX, SQUARE_PX),
                icon_anchor=(SQUARE_PX // 2, SQUARE_PX // 2),
                class_name="pp-candidate",
            ),
            tooltip=JsonTooltip(tip),
        ).add_to(groups[sel])
    for fg in (groups[False], groups[True]):
        if fg._children:
            fg.add_to(m)
    return lo, hi


def _square_icon(fill: str) -> str:
    """Inline-SVG square (``fill``, dark outline) of a candidate site: squares, so a candidate
    never reads as an existing setting (circles), whatever the colours."""
    side = SQUARE_PX - 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SQUARE_PX}" height="{SQUARE_PX}">'
        f'<rect x="0.5" y="0.5" width="{side}" height="{side}" fill="{fill}" stroke="#444" '
        'stroke-width="1"/></svg>'
    )


def _star_points(cx: float, cy: float, outer: float, inner: float) -> list[str]:
    """The star's ten SVG points ``"x,y"`` (:func:`star_vertices`), to 0.1 px."""
    return [f"{x:.1f},{y:.1f}" for x, y in star_vertices(cx, cy, outer, inner)]


def _star_icon(number: int) -> str:
    """Inline-SVG star (magenta, black outline, white halo) with the site's number."""
    pts = _star_points(13, 13, 11, 5)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="44" height="26" style="overflow:visible">'
        f'<polygon points="{" ".join(pts)}" fill="{PROPOSED_COLOUR}" stroke="#fff" '
        'stroke-width="4" stroke-linejoin="round"/>'
        f'<polygon points="{" ".join(pts)}" fill="{PROPOSED_COLOUR}" stroke="#000" '
        'stroke-width="1.3" stroke-linejoin="round"/>'
        '<text x="25" y="11" font-size="13" font-weight="700" '
        'font-family="system-ui,sans-serif" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{int(number)}</text></svg>"
    )


def _catchment_shades(isochrones: gpd.GeoDataFrame) -> list[tuple[float, str]]:
    """Each catchment's minutes with its fill, shortest first: the layers and the legend use
    the same pairs (the fills are drawn translucent, so the shortest reads darkest where the
    catchments overlap)."""
    shades = ["#9ecae1", "#6baed6", "#3182bd", "#08519c"]
    minutes = sorted({float(v) for v in isochrones["minutes"]})
    return [(m, shades[min(k, len(shades) - 1)]) for k, m in enumerate(minutes)]


def proposals_legend(sites: gpd.GeoDataFrame | None) -> str:
    """Legend HTML: the star and the numbered list of proposed (selected) sites."""
    rows = numbered_proposals(sites)
    if not rows:
        return ""
    items = "".join(f"{i} {html_text(str(r.name))}<br>" for i, r in rows)
    return (
        f"<h4 style='margin-top:6px'>Proposed sites</h4>{_legend_star()} star, numbered:<br>{items}"
    )


def _legend_star() -> str:
    """The proposed sites' star as drawn on the map, legend-sized (14 px), inline."""
    pts = _star_points(7, 7.5, 6.5, 3)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="14" height="14" '
        'style="vertical-align:-2px" role="img" aria-label="star">'
        f'<polygon points="{" ".join(pts)}" fill="{PROPOSED_COLOUR}" stroke="#000" '
        'stroke-width="1" stroke-linejoin="round"/></svg>'
    )


def _point_lookup(
    areas: gpd.GeoDataFrame | None, provision: gpd.GeoDataFrame | None
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    origins: dict[str, tuple[float, float]] = {}
    dests: dict[str, tuple[float, float]] = {}
    if areas is not None and not areas.empty:
        pts = areas.set_geometry(areas.geometry.representative_point())
        pts = to_wgs84(pts[["area_id", "geometry"]], "areas")
        origins = {str(r.area_id): (r.geometry.y, r.geometry.x) for r in pts.itertuples()}
    if provision is not None and not provision.empty:
        p = to_wgs84(provision[["setting_id", "geometry"]], "provision")
        dests = {str(r.setting_id): (r.geometry.y, r.geometry.x) for r in p.itertuples()}
    return origins, dests


def _waypoints_wgs84(flows: pd.DataFrame) -> dict[Any, list[tuple[float, float]]]:
    """Each flow's ``waypoints`` (EPSG:27700 ferry terminals) as ``(lat, lon)``, by row label."""
    if "waypoints" not in flows.columns:
        return {}
    rows = [
        (idx, float(x), float(y))
        for idx, pts in flows["waypoints"].items()
        if isinstance(pts, list | tuple)
        for x, y in pts
    ]
    if not rows:
        return {}
    import geopandas as gpd

    pts = gpd.GeoSeries(
        gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]), crs="EPSG:27700"
    ).to_crs(4326)
    out: dict[Any, list[tuple[float, float]]] = {}
    for (idx, _, _), g in zip(rows, pts, strict=True):
        out.setdefault(idx, []).append((g.y, g.x))
    return out


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
    via = _waypoints_wgs84(flows)
    flows = flows.sort_values(["origin_id", "destination_id"], kind="stable")
    left_out = 0
    vmax = max(
        float(pd.to_numeric(flows[c], errors="coerce").max() or 0) for c in ("baseline", "scenario")
    )
    vmax = vmax if vmax > 0 and not math.isnan(vmax) else 1.0
    for which, colour, show in (("baseline", "#7b3294", False), ("scenario", "#e66101", True)):
        fg = folium.FeatureGroup(name=f"Out-of-area and independent placements, {which}", show=show)
        sup = suppressed_column(flows, which)
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
            mids = via.get(idx, [])
            if drawn_ends is not None:
                drawn_ends.extend((round(q[0], 5), round(q[1], 5)) for q in (*mids, d))
            oname = html_text(str(row.get("origin_name", row["origin_id"])))
            dname = html_text(str(row.get("destination_name", row["destination_id"])))
            route = str(row.get("route", "") or "")
            by = f"<br>via {html_text(route.removeprefix('ferry:'))}" if mids else ""
            folium.PolyLine(
                [[round(q[0], 5), round(q[1], 5)] for q in (o, *mids, d)],
                color=colour,
                weight=round(1.5 + 7 * math.sqrt(float(n) / vmax), 2),
                opacity=0.75,
                tooltip=JsonTooltip(f"{oname} → {dname}<br>{which}: {int(n):,} pupils{by}"),
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
    region: gpd.GeoDataFrame | None = None,
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
    region
        Neighbouring areas' outline, drawn as a light basemap under everything.

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
    check_frame(sites, "sites", counts="pupils_served" in sites.columns, internal=internal)
    check_frame(ooa_flows, "ooa_flows", counts=True, internal=internal)
    check_frame(
        areas,
        "areas",
        counts="pupils" in (areas.columns if areas is not None else []),
        internal=internal,
    )
    m = new_map(height)
    add_basemap(m, outline=outline, roads=roads, areas=areas, region=region)

    if isochrones is not None and not isochrones.empty:
        iso = to_wgs84(isochrones, "isochrones")
        minutes = sorted({float(v) for v in iso["minutes"]}, reverse=True)
        shade = dict(_catchment_shades(isochrones))
        for k, mins in enumerate(minutes):
            sub = iso[iso["minutes"].astype(float) == mins].sort_values("site_id", kind="stable")
            sub = sub.assign(label=[f"{sid}: {mins:g} min drive" for sid in sub["site_id"]])
            colour = shade[mins]
            folium.GeoJson(
                feature_collection(sub, ["site_id", "label"]),
                name=html_text(f"Catchment ≤ {mins:g} min drive"),
                show=len(minutes) == 1 or k > 0,
                style_function=functools.partial(_iso_style, colour=colour),
                tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            ).add_to(m)

    add_provision(m, provision)
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
    lo, hi = add_sites(m, sites, internal=internal)

    legend = _sites_legend(lo, hi, sites, isochrones, ooa_flows, threshold)

    def _fit() -> list[list[float]] | None:
        frames = [sites, outline if outline is not None else areas]
        b = frame_bounds([to_wgs84(f[["geometry"]], "bounds") for f in frames if f is not None])
        if b and flow_ends:
            # fit the drawn flows' destinations too: the reviewer sees where pupils travel today
            lats = [p[0] for p in flow_ends] + [b[0][0], b[1][0]]
            lons = [p[1] for p in flow_ends] + [b[0][1], b[1][1]]
            b = [[min(lats), min(lons)], [max(lats), max(lons)]]
        return b

    m.placeplan_flows_left_out = left_out  # type: ignore[attr-defined]
    return finish_map(
        m,
        legend,
        provision,
        _fit,
        collapsed=True,
        attribution=attribution,
        internal=internal,
        note=note,
    )


def _iso_style(_feature: dict[str, Any], *, colour: str) -> dict[str, Any]:
    return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.18}


def _sites_legend(
    lo: float,
    hi: float,
    sites: gpd.GeoDataFrame | None,
    isochrones: gpd.GeoDataFrame | None,
    ooa_flows: gpd.GeoDataFrame | None,
    threshold: int,
) -> str:
    """The site map's legend: score classes, the proposals, catchments and flows."""
    edges = np.linspace(lo, hi, len(SCORE_COLOURS) + 1)
    square = "width:11px;border-color:#444"  # the candidates' squares, not provision's dots
    score_rows = "".join(
        f'<i style="background:{c};{square}"></i>{edges[i]:.2f}–{edges[i + 1]:.2f}<br>'
        for i, c in enumerate(SCORE_COLOURS)
    )
    unscored = score_colour(float("nan"), 0.0, 1.0)
    legend = (
        "<h4>Candidate site score (squares)</h4>"
        f"{score_rows}"
        f'<i style="background:{unscored};{square}"></i>not scored, or its score is a range '
        "(see the site's label)<br>"
    )
    legend += proposals_legend(sites)
    if isochrones is not None and not isochrones.empty:
        legend += "<h4 style='margin-top:6px'>Drive-time catchments of the proposed sites</h4>"
        legend += "".join(
            f'<i class="dot" style="background:{c}"></i>≤ {mins:g} min<br>'
            for mins, c in _catchment_shades(isochrones)
        )
    if ooa_flows is not None:
        legend += (
            "<h4 style='margin-top:6px'>Out-of-area and independent placements</h4>"
            f"<small>line width ∝ pupils; flows of fewer than {threshold} pupils "
            "are not drawn</small>"
        )
    return legend
