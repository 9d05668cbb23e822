"""Spatial layers and small aggregates of a run, computed once for publishing.

Everything here is computed from the run's results (allocations, impacts, network) and is NOT
yet disclosure-controlled: :mod:`placeplan.publish` suppresses it before any of it is written.
All layers are GeoDataFrames in EPSG:27700.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from placeplan.compute.network import isochrones
from placeplan.vocab import OOA_CATEGORIES, TIME_BAND_EDGES_MIN, TIME_BAND_LABELS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.compute.impact import ImpactAssessment
    from placeplan.compute.network import RoadNetwork
    from placeplan.compute.scenario import ScenarioResult
    from placeplan.config import FerryLink

__all__ = [
    "MAIN_ROADS",
    "ScenarioLayers",
    "area_layer",
    "main_roads",
    "ooa_flows",
    "scenario_layers",
    "sites_layer",
    "time_bands",
]

#: Road classes drawn as the basemap's main roads.
MAIN_ROADS = frozenset(
    {"motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link", "primary_link"}
)

#: Catchment isochrones drawn around each opened site (minutes).
CATCHMENT_MINUTES = (15, 30, 45)


@dataclass(frozen=True, slots=True)
class ScenarioLayers:
    """The per-scenario layers and aggregates (unsuppressed; publish controls disclosure).

    Attributes
    ----------
    sites
        Candidate sites (points) with ``selected``, ``proposal_no`` (the proposal's number in
        the report: the scenario's ``open_sites`` order), ``pupils_served``,
        ``mean_time_saved_min``, ``score`` and ``rank``.
    catchments
        15/30/45-minute drive-time polygons around the opened sites, or None when none open.
    areas
        The authority's areas (LSOAs) with ``pupils`` and baseline/scenario mean journey time
        (min), or None without area polygons.
    ooa_flows
        Out-of-area and independent placements by origin planning area and destination setting,
        baseline and scenario counts.
    time_bands
        Pupils by journey-time band, baseline and scenario.
    """

    sites: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame | None
    areas: gpd.GeoDataFrame | None
    ooa_flows: pd.DataFrame
    time_bands: pd.DataFrame


def time_bands(per_pupil: pd.DataFrame) -> pd.DataFrame:
    """Pupils by journey-time band (:data:`placeplan.vocab.TIME_BAND_LABELS`), before and after.

    Examples
    --------
    >>> pp = pd.DataFrame({"baseline_time_min": [10.0, 50.0], "scenario_time_min": [10.0, 20.0]})
    >>> bands = time_bands(pp).set_index("band")
    >>> bands.loc[["< 15 min", "15–30 min", "45–60 min"]].to_numpy().tolist()
    [[1, 1], [0, 1], [1, 0]]
    """
    out = {}
    n = len(TIME_BAND_LABELS)
    for which in ("baseline", "scenario"):
        t = per_pupil[f"{which}_time_min"].dropna().to_numpy()
        idx = np.searchsorted(np.asarray(TIME_BAND_EDGES_MIN), t, side="right")
        out[which] = np.bincount(idx, minlength=n)[:n]
    return pd.DataFrame({"band": list(TIME_BAND_LABELS), **out})


def main_roads(net: RoadNetwork) -> gpd.GeoDataFrame:
    """The network's main roads (:data:`MAIN_ROADS`), simplified to 25 m, for the basemap."""
    edge = np.where(net.chain_fwd >= 0, net.chain_fwd, net.chain_bwd)
    hw = pd.Series(net.highway[edge]).astype(str)
    keep = hw.isin(MAIN_ROADS).to_numpy()
    lines = gpd.GeoSeries(net.chain_lines[keep], crs=net.crs).simplify(25.0)
    return gpd.GeoDataFrame({"highway": hw[keep].to_numpy()}, geometry=lines, crs=net.crs)


def ooa_flows(
    impact: ImpactAssessment,
    provision: pd.DataFrame,
    ferry_links: Sequence[FerryLink] = (),
) -> pd.DataFrame:
    """Out-of-area and independent placements by planning area → setting, before and after.

    Each flow also carries the route its journeys take: ``route`` (``"road"`` or
    ``"ferry:<link name>"``, the most common over its pupils, baseline and scenario) and
    ``waypoints``, the ``(x, y)`` EPSG:27700 points a map draws the flow through — the island
    then the mainland terminal of that ferry link (from ``ferry_links``), or ``()`` by road — so
    a flow follows the crossing instead of a straight line across the water.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from placeplan.config import FerryLink
    >>> pp = pd.DataFrame({"area": ["A", "A"], "baseline_category": ["out_of_area"] * 2,
    ...     "scenario_category": ["out_of_area", "in_area"], "baseline_setting_id": ["M1"] * 2,
    ...     "scenario_setting_id": ["M1", "S1"], "baseline_route": ["ferry:F"] * 2,
    ...     "scenario_route": ["ferry:F", "road"]})
    >>> link = FerryLink(name="F", island_easting=1, island_northing=2, mainland_easting=3,
    ...     mainland_northing=4, crossing_min=30)
    >>> prov = pd.DataFrame({"setting_id": ["M1", "S1"], "name": ["Mainland", "Island"]})
    >>> f = ooa_flows(SimpleNamespace(per_pupil=pp), prov, [link])
    >>> f[["baseline", "scenario", "route"]].to_numpy().tolist()
    [[2, 1, 'ferry:F']]
    >>> f["waypoints"].tolist()
    [((1.0, 2.0), (3.0, 4.0))]
    """
    pp = impact.per_pupil
    names = provision.set_index("setting_id")["name"]
    parts = []
    routes = []
    for which in ("baseline", "scenario"):
        sub = pp[pp[f"{which}_category"].isin(OOA_CATEGORIES)]
        parts.append(
            sub.groupby(["area", f"{which}_setting_id"])
            .size()
            .rename(which)
            .rename_axis(["origin_id", "destination_id"])
        )
        if f"{which}_route" in sub.columns:
            routes.append(
                pd.DataFrame(
                    {
                        "origin_id": sub["area"].to_numpy(),
                        "destination_id": sub[f"{which}_setting_id"].to_numpy(),
                        "route": sub[f"{which}_route"].astype(str).to_numpy(),
                    }
                )
            )
    flows = pd.concat(parts, axis=1).fillna(0).astype(int).reset_index()
    flows["origin_name"] = flows["origin_id"]
    flows["destination_name"] = flows["destination_id"].map(names).fillna(flows["destination_id"])
    route = pd.Series("road", index=flows.index, dtype=object)
    if routes:
        r = pd.concat(routes, ignore_index=True)
        modal = (
            r.groupby(["origin_id", "destination_id", "route"])
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["n", "route"], ascending=[False, True], kind="stable")
            .drop_duplicates(["origin_id", "destination_id"])
            .set_index(["origin_id", "destination_id"])["route"]
        )
        keys = pd.MultiIndex.from_frame(flows[["origin_id", "destination_id"]])
        route = pd.Series(modal.reindex(keys).fillna("road").to_numpy(), index=flows.index)
    terminals = {
        f"ferry:{link.name}": (
            (float(link.island_easting), float(link.island_northing)),
            (float(link.mainland_easting), float(link.mainland_northing)),
        )
        for link in ferry_links
    }
    flows["route"] = route.astype(str)
    flows["waypoints"] = pd.Series(
        [terminals.get(r, ()) for r in flows["route"]], index=flows.index, dtype=object
    )
    return flows


def sites_layer(
    sites: gpd.GeoDataFrame,
    result: ScenarioResult,
    impact: ImpactAssessment,
    scores: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    """Candidate sites with whether the scenario opens them, who they serve and their score.

    ``places`` and ``capital_cost_gbp`` are the scenario's
    (:meth:`placeplan.compute.scenario.Scenario.sized`).
    """
    sites = result.scenario.sized(sites).copy()
    sites["selected"] = sites["site_id"].astype(str).isin(result.scenario.open_sites)
    # the proposals' numbers in the report (the scenario's order), shown on every map
    order = {sid: k for k, sid in enumerate(dict.fromkeys(result.scenario.open_sites), start=1)}
    sites["proposal_no"] = sites["site_id"].astype(str).map(order).astype("Int64")
    pp = impact.per_pupil
    moved = pp[pp["moved"]]
    served = moved.groupby("scenario_setting_id").size()
    saved = (
        (moved["baseline_time_min"] - moved["scenario_time_min"])
        .groupby(moved["scenario_setting_id"])
        .mean()
    )
    sites["pupils_served"] = sites["site_id"].map(served).fillna(0).astype(int)
    sites["mean_time_saved_min"] = sites["site_id"].map(saved)
    if scores is not None:
        s = scores.set_index("site_id")
        sites["score"] = sites["site_id"].map(s["score"])
        sites["rank"] = sites["site_id"].map(s["rank"])
    else:
        sites["score"] = np.nan
    return sites


def area_layer(areas: gpd.GeoDataFrame, impact: ImpactAssessment) -> gpd.GeoDataFrame:
    """The authority's areas with pupils and mean journey time (min) before and after."""
    out = areas.merge(
        impact.by_area[["area_id", "pupils", "baseline_mean_time_min", "scenario_mean_time_min"]],
        on="area_id",
        how="left",
    )
    out["pupils"] = out["pupils"].fillna(0).astype(int)
    return out


def scenario_layers(
    *,
    net: RoadNetwork,
    sites: gpd.GeoDataFrame,
    provision: pd.DataFrame,
    areas: gpd.GeoDataFrame | None,
    result: ScenarioResult,
    impact: ImpactAssessment,
    scores: pd.DataFrame | None,
    ferry_links: Sequence[FerryLink] = (),
) -> ScenarioLayers:
    """Every layer and aggregate of one scenario (see :class:`ScenarioLayers`).

    ``ferry_links`` (the plan's ``[[network.ferry_links]]``) route the out-of-area flows through
    the terminals of the crossing their journeys use (:func:`ooa_flows`)."""
    layer = sites_layer(sites, result, impact, scores)
    chosen = layer[layer["selected"]]
    catchments = None
    if len(chosen):
        pts = pd.DataFrame(
            {"id": chosen["site_id"].astype(str), "x": chosen.geometry.x, "y": chosen.geometry.y}
        )
        catchments = isochrones(net, pts, minutes=CATCHMENT_MINUTES)
    return ScenarioLayers(
        sites=layer,
        catchments=catchments,
        areas=area_layer(areas, impact) if areas is not None else None,
        ooa_flows=ooa_flows(impact, provision, ferry_links),
        time_bands=time_bands(impact.per_pupil),
    )
