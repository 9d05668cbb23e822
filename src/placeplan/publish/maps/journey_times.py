"""The journey-time map: mean journey time by area, baseline and scenario."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import folium
import pandas as pd

from placeplan.publish.disclosure import NOT_AVAILABLE_MARKER
from placeplan.publish.escape import html_text
from placeplan.publish.maps._layers import (
    add_basemap,
    add_provision,
    check_frame,
    display_values,
    feature_collection,
    finish_map,
    frame_bounds,
    new_map,
    suppressed_column,
    to_wgs84,
)
from placeplan.publish.maps.sites import add_sites, proposals_legend
from placeplan.vocab import TIME_BAND_EDGES_MIN, TIME_BAND_LABELS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "BAND_COLOURS",
    "NODATA_FILL",
    "SUPPRESSED_FILL",
    "TIME_BANDS",
    "band_index",
    "map_journey_times",
]

TIME_BANDS: tuple[tuple[float, float, str], ...] = tuple(
    zip(
        (0.0, *TIME_BAND_EDGES_MIN),
        (*TIME_BAND_EDGES_MIN, math.inf),
        TIME_BAND_LABELS,
        strict=True,
    )
)
"""Journey-time bands ``(lower inclusive, upper exclusive, label)``, from :mod:`placeplan.vocab`."""

#: Fill of each journey-time band (YlGnBu-7 without its lightest class), shared with the
#: static figures.
BAND_COLOURS = ("#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
SUPPRESSED_FILL = "#bdbdbd"
NODATA_FILL = "#ffffff"


def band_index(minutes: float) -> int | None:
    """Index into :data:`TIME_BANDS` for a journey time, or None for NaN."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return None
    for i, (lo, hi, _) in enumerate(TIME_BANDS):
        if lo <= minutes < hi:
            return i
    return len(TIME_BANDS) - 1


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
    region: gpd.GeoDataFrame | None = None,
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
    region
        Neighbouring areas' outline, drawn as a light basemap under everything.

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
    check_frame(areas, "areas", counts="pupils" in areas.columns, internal=internal)
    check_frame(
        sites,
        "sites",
        counts=sites is not None and "pupils_served" in sites.columns,
        internal=internal,
    )
    m = new_map(height)
    add_basemap(m, outline=outline, roads=roads, region=region)

    order = areas.sort_values("area_id", kind="stable").index
    a = to_wgs84(areas.loc[order], "areas").reset_index(drop=True)

    def _sup(col: str) -> pd.Series:
        return pd.Series(suppressed_column(areas, col).loc[order].to_numpy(), index=a.index)

    a["name"] = a["name"].astype(str) if "name" in a else a["area_id"].astype(str)
    a["area_id"] = a["area_id"].astype(str)
    a["pupils_txt"] = (
        display_values(a["pupils"], _sup("pupils"), "{:,.0f}", "0")
        if "pupils" in a
        else NOT_AVAILABLE_MARKER
    )
    fields = ["name", "area_id", "pupils_txt"]
    aliases = ["Area", "Code", "Pupils"]
    for col, label in (("imd_decile", "IMD decile"), ("ruc_class", "Rural/urban")):
        if col in a.columns:
            a[col + "_txt"] = [(NOT_AVAILABLE_MARKER if pd.isna(v) else str(v)) for v in a[col]]
            fields.append(col + "_txt")
            aliases.append(label)
    for which in ("baseline", "scenario"):
        col = f"{which}_mean_time_min"
        sup = _sup(col)
        a[f"{which}_txt"] = display_values(a[col], sup, "{:.1f} min", "no pupils")
        a[f"{which}_band"] = [
            -2 if s else (-1 if b is None else b)
            for s, b in zip(sup, (band_index(v) for v in a[col].astype(float)), strict=True)
        ]
    fields += ["baseline_txt", "scenario_txt"]
    aliases += ["Mean journey, baseline", "Mean journey, scenario"]
    fc_cols = [*fields, "baseline_band", "scenario_band"]

    data = feature_collection(a, fc_cols)
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

    add_provision(m, provision)
    if sites is not None and not sites.empty:
        add_sites(m, sites, internal=internal, only_selected=True)

    band_rows = "".join(
        f'<i style="background:{c}"></i>{html_text(lbl)}<br>'
        for c, (_, _, lbl) in zip(BAND_COLOURS, TIME_BANDS, strict=True)
    )
    legend = (
        "<h4>Mean journey time (each way)</h4>"
        f"{band_rows}"
        f'<i style="background:{SUPPRESSED_FILL}"></i>'
        f"suppressed (fewer than {threshold} pupils, or 1 to {threshold - 1} movers)<br>"
        f'<i style="background:{NODATA_FILL}"></i>no pupils'
    )
    legend += proposals_legend(sites)
    return finish_map(
        m,
        legend,
        provision,
        lambda: frame_bounds([to_wgs84(areas[["geometry"]], "areas")]),
        collapsed=True,  # as the sites map: expanded, it sat under the legend in short embeds
        attribution=attribution,
        internal=internal,
        note=note,
    )


def _band_style(feature: dict[str, Any], *, key: str) -> dict[str, Any]:
    band = feature["properties"].get(key)
    style = {"color": "#666666", "weight": 0.6, "fillOpacity": 0.85}
    if band == -2:
        style["fillColor"] = SUPPRESSED_FILL
    elif band is None or band == -1:
        style.update(fillColor=NODATA_FILL, dashArray="3 3")
    else:
        style["fillColor"] = BAND_COLOURS[int(band)]
    return style
