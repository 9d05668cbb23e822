"""Door-to-door journeys: road legs on the network composed with fixed external links (ferries).

Settings on the road network are reached by road. Settings off it (for the Isle of Wight sample: the
mainland special and independent schools across the Solent) are reached by the fastest of the
configured fixed links: road to the island terminal, the link's wait and crossing time, then a
mainland leg estimated as straight-line distance x a circuity factor at an average speed (no
mainland road network ships with the sample; an authority with a network for both sides routes on
it instead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import NetworkError
from placeplan.compute.points import as_xy
from placeplan.vocab import KM_PER_MILE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.compute.network import RoadNetwork
    from placeplan.config import FerryLink

__all__ = ["MainlandLeg", "journey_matrix"]

logger = logging.getLogger(__name__)

M_PER_MILE = 1000.0 * KM_PER_MILE  # == 1609.344 exactly


@dataclass(frozen=True, slots=True)
class MainlandLeg:
    """How the off-network leg beyond a fixed link is estimated.

    Parameters
    ----------
    circuity
        Road distance / straight-line distance (1.3 is typical for English roads).
    speed_kph
        Average door-to-door speed on the off-network leg.
    """

    circuity: float = 1.3
    speed_kph: float = 40.0


def journey_matrix(
    net: RoadNetwork,
    df_origins: pd.DataFrame,
    df_settings: pd.DataFrame,
    *,
    ferry_links: Sequence[FerryLink] = (),
    mainland: MainlandLeg | None = None,
    fixed_allowance_min: float = 0.0,
    max_snap_m: float = 1000.0,
    use_cache: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute journey time and distance from every origin to every setting.

    Parameters
    ----------
    net
        The road network (EPSG:27700).
    df_origins
        Origins with ``id``, ``x``, ``y`` (EPSG:27700 metres), or a GeoDataFrame of points with an
        ``id`` column: postcodes or demand points, never pupils.
    df_settings
        Destinations with ``id``, ``x``, ``y`` (or points with ``id``) and an optional boolean
        ``ferry_required``: settings with it ``True`` are reached over the fastest of
        ``ferry_links``.
    ferry_links
        Fixed links (island terminal, mainland terminal, wait and crossing minutes).
    mainland
        How the leg from the mainland terminal to the setting is estimated.
    fixed_allowance_min
        Per-journey kerbside/loading allowance added once to every journey, in minutes.
    max_snap_m
        Points further than this from the network are flagged by the router.
    use_cache
        Read/write the matrix cache (default ``placeplan.settings.use_cache``). Pass ``False``
        when origins are exact home coordinates: the cache must never hold pupil locations.

    Returns
    -------
    journeys
        Long table ``origin_id, destination_id, travel_time_min, distance_km, distance_miles,
        route`` where ``route`` is ``"road"`` or ``"ferry:<link name>"``; NaN time means
        unreachable.
    snaps
        Snap distances of origins and settings (``id``, ``role``, ``snap_m``).

    Raises
    ------
    NetworkError
        If a setting needs a ferry but no ferry link is configured.
    """
    from placeplan.compute.matrix import travel_matrix  # local import keeps module import light

    mainland = mainland or MainlandLeg()
    df_origins, df_settings = as_xy(df_origins), as_xy(df_settings)
    if "ferry_required" not in df_settings:
        df_settings = df_settings.assign(ferry_required=False)
    ferry_mask = df_settings["ferry_required"].fillna(False).astype(bool).to_numpy()
    on_net = df_settings.loc[~ferry_mask, ["id", "x", "y"]]
    off_net = df_settings.loc[ferry_mask, ["id", "x", "y"]]
    if len(off_net) and not ferry_links:
        msg = (
            f"{len(off_net)} settings have `ferry_required = true` but the plan has no "
            "`[[network.ferry_links]]`; add the crossing(s) to the plan"
        )
        raise NetworkError(msg)

    terminals = pd.DataFrame(
        {
            "id": [f"__terminal__{link.name}" for link in ferry_links],
            "x": [link.island_easting for link in ferry_links],
            "y": [link.island_northing for link in ferry_links],
        }
    )
    dests = pd.concat([on_net, terminals], ignore_index=True)
    road = travel_matrix(
        net,
        df_origins[["id", "x", "y"]],
        dests,
        max_travel_time_min=None,
        fixed_allowance_min=0.0,
        max_snap_m=max_snap_m,
        use_cache=use_cache,
    )
    snaps = pd.concat(
        [
            road.groupby("origin_id", sort=False)["origin_snap_m"]
            .first()
            .rename_axis("id")
            .reset_index()
            .rename(columns={"origin_snap_m": "snap_m"})
            .assign(role="origin"),
            road.groupby("destination_id", sort=False)["destination_snap_m"]
            .first()
            .rename_axis("id")
            .reset_index()
            .rename(columns={"destination_snap_m": "snap_m"})
            .assign(role="destination"),
        ],
        ignore_index=True,
    )
    is_terminal = road["destination_id"].str.startswith("__terminal__")
    direct = road.loc[~is_terminal].assign(route="road")
    direct = direct[["origin_id", "destination_id", "travel_time_min", "distance_km", "route"]]

    parts = [direct]
    if len(off_net):
        term_legs = road.loc[
            is_terminal, ["origin_id", "destination_id", "travel_time_min", "distance_km"]
        ]
        best: pd.DataFrame | None = None
        for link in ferry_links:
            leg = term_legs[term_legs["destination_id"] == f"__terminal__{link.name}"]
            crossing_km = (
                np.hypot(
                    link.mainland_easting - link.island_easting,
                    link.mainland_northing - link.island_northing,
                )
                / 1000.0
            )
            beyond_km = (
                np.hypot(
                    off_net["x"].to_numpy() - link.mainland_easting,
                    off_net["y"].to_numpy() - link.mainland_northing,
                )
                / 1000.0
                * mainland.circuity
            )
            beyond_min = beyond_km / mainland.speed_kph * 60.0
            n_o, n_s = len(leg), len(off_net)
            cand = pd.DataFrame(
                {
                    "origin_id": np.repeat(leg["origin_id"].to_numpy(), n_s),
                    "destination_id": np.tile(off_net["id"].to_numpy(), n_o),
                    "travel_time_min": np.repeat(leg["travel_time_min"].to_numpy(), n_s)
                    + link.wait_min
                    + link.crossing_min
                    + np.tile(beyond_min, n_o),
                    "distance_km": np.repeat(leg["distance_km"].to_numpy(), n_s)
                    + crossing_km
                    + np.tile(beyond_km, n_o),
                    "route": f"ferry:{link.name}",
                }
            )
            if best is None:
                best = cand
            else:
                better = cand["travel_time_min"].to_numpy() < best["travel_time_min"].to_numpy()
                better |= (
                    best["travel_time_min"].isna().to_numpy()
                    & cand["travel_time_min"].notna().to_numpy()
                )
                best = best.where(~pd.Series(better, index=best.index), cand)
        assert best is not None
        parts.append(best)

    out = pd.concat(parts, ignore_index=True)
    out["travel_time_min"] = out["travel_time_min"] + fixed_allowance_min
    out["distance_miles"] = out["distance_km"] * 1000.0 / M_PER_MILE
    n_pairs = len(out)
    unreachable = int(out["travel_time_min"].isna().sum())
    logger.info(
        "journey_matrix: %s origins x %s settings (%s via fixed links), %.1f%% unreachable",
        f"{len(df_origins):,}",
        f"{len(df_settings):,}",
        f"{len(off_net):,}",
        100.0 * unreachable / max(n_pairs, 1),
    )
    return out.reset_index(drop=True), snaps
