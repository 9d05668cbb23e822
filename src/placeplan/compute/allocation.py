"""Who goes where: baseline journeys of current placements and capacitated re-allocation.

The baseline keeps every pupil at their current setting. Re-allocation moves only *movable* pupils
(chosen by the scenario: e.g. those placed out of area or in independent special schools) to new
places that serve their need and phase, within capacity, when the move serves the plan's aims
(fewer out-of-area, then fewer independent / non-maintained placements, then shorter journeys) and
keeps the journey within the reasonable maximum; cost is reported, never optimised. It is solved
exactly as a transportation problem with HiGHS, through ``placeplan.compute._solver``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from placeplan._errors import InfeasibleModelError, SchemaValidationError
from placeplan.compute._solver import solve
from placeplan.compute.flows_kinds import transport_eligible
from placeplan.needs import split_codes
from placeplan.vocab import KM_PER_MILE

__all__ = [
    "CostModel",
    "baseline_allocation",
    "eligible_for_transport",
    "placement_category",
    "reallocate",
    "transport_cost_gbp",
]

logger = logging.getLogger(__name__)

#: What a move into a new base is worth to the plan's aims, in minutes of journey time: bringing
#: an out-of-area pupil back dominates, then an independent or non-maintained placement; between
#: equal aims the shorter journey wins. Cost never enters the re-allocation's objective.
AIM_PRIORITY_MIN: dict[str, float] = {
    "out_of_area": 10_000.0,
    "independent": 5_000.0,
    "non_maintained": 5_000.0,
}


@dataclass(frozen=True, slots=True)
class CostModel:
    """Annual cost parameters.

    Parameters
    ----------
    transport_cost_per_mile_gbp
        Cost of assisted transport per pupil-mile (each way counted).
    school_days
        School days a year (two journeys a day).
    placement_per_place_gbp
        Fallback annual cost per place by ``provision_type`` where a setting has none.
    walking_distance_under8_miles, walking_distance_8plus_miles
        Statutory walking distances: a pupil further than this is eligible for free transport.
    post16_walking_distance_miles
        The authority's distance for post-16 and 19-25 learners (``[flows]
        post16_walking_distance_miles``); None: only pupils already assisted count.
    """

    transport_cost_per_mile_gbp: float = 2.5
    school_days: int = 190
    placement_per_place_gbp: tuple[tuple[str, float], ...] = ()
    walking_distance_under8_miles: float = 2.0
    walking_distance_8plus_miles: float = 3.0
    post16_walking_distance_miles: float | None = None


def placement_category(df_provision: pd.DataFrame) -> pd.Series:
    """Classify settings for OOA reporting and scenario rules.

    Returns ``"out_of_area"`` for settings outside the authority, otherwise the
    ``provision_type`` (``independent``, ``non_maintained``, ``special``, ``inclusion_base``,
    ``mainstream``, ...), indexed by ``setting_id``.
    """
    cat = (
        df_provision["provision_type"]
        .astype(str)
        .where(df_provision["in_area"].astype(bool), "out_of_area")
    )
    return pd.Series(cat.to_numpy(), index=df_provision["setting_id"].astype(str), name="category")


def _setting_costs(df_provision: pd.DataFrame, costs: CostModel) -> pd.Series:
    fallback = dict(costs.placement_per_place_gbp)
    given = df_provision.get("annual_cost_per_place_gbp")
    if given is None:
        per_place = pd.Series(np.nan, index=df_provision.index)
    else:
        per_place = pd.to_numeric(given, errors="coerce")
    filled = per_place.fillna(df_provision["provision_type"].map(fallback)).fillna(0.0)
    return pd.Series(filled.to_numpy(), index=df_provision["setting_id"].astype(str))


def transport_cost_gbp(
    distance_miles: pd.Series, assisted: pd.Series, costs: CostModel
) -> pd.Series:
    """Annual assisted-transport cost: miles x 2 journeys x school days x cost per mile."""
    miles = distance_miles.fillna(0.0) * 2.0 * costs.school_days
    return (miles * costs.transport_cost_per_mile_gbp).where(assisted.astype(bool), 0.0)


def eligible_for_transport(
    distance_miles: pd.Series, nc_year: pd.Series, costs: CostModel
) -> pd.Series:
    """Whether each pupil lives beyond the walking distance for their age.

    The flow model's rule (:func:`placeplan.compute.flows_kinds.transport_eligible`), so the
    snapshot and the year-by-year flows count the same pupils' transport: the statutory
    distances for compulsory school age, the authority's own for post-16 and 19-25 (none by
    distance when it gives none).

    Parameters
    ----------
    distance_miles
        Home-to-school road distance (miles).
    nc_year
        NC year, same index; under 8 on 1 September (Reception to Year 3) is the rule of
        :func:`placeplan.compute.impact.transport_policy`.
    costs
        Supplies the walking distances (miles).

    Returns
    -------
    Series of bool
        True where the distance exceeds the pupil's walking distance.
    """
    eligible = transport_eligible(
        nc_year.to_numpy(dtype=float),
        distance_miles.to_numpy(dtype=float),
        np.zeros(len(distance_miles), dtype=bool),
        walking_distance_under8_miles=costs.walking_distance_under8_miles,
        walking_distance_8plus_miles=costs.walking_distance_8plus_miles,
        post16_walking_distance_miles=costs.post16_walking_distance_miles,
    )
    return pd.Series(eligible, index=distance_miles.index)


def baseline_allocation(
    df_pupils: pd.DataFrame,
    df_provision: pd.DataFrame,
    df_journeys: pd.DataFrame,
    *,
    costs: CostModel,
) -> pd.DataFrame:
    """Journey, placement and transport cost of every pupil at their current setting.

    Parameters
    ----------
    df_pupils
        Geocoded pupils (``pupil_ref``, ``origin_id``, ``current_setting_id``, ``nc_year``,
        ``transport_assisted``).
    df_provision
        Settings (``setting_id``, ``provision_type``, ``in_area``, ``annual_cost_per_place_gbp``).
    df_journeys
        Journey matrix from :func:`placeplan.compute.journeys.journey_matrix`.
    costs
        Cost parameters.

    Returns
    -------
    allocation
        One row per pupil, in input order: ``pupil_ref, setting_id, category, travel_time_min,
        distance_km, distance_miles, route, transport_assisted, annual_placement_cost_gbp,
        annual_transport_cost_gbp, status`` where ``status`` is ``placed``, ``no_setting`` (no
        current setting recorded) or ``unreachable``.

    Raises
    ------
    SchemaValidationError
        If a pupil's current setting is not in the provision table.
    """
    setting_ids = set(df_provision["setting_id"].astype(str))
    cur = df_pupils["current_setting_id"]
    unknown = cur.notna() & ~cur.astype("string").isin(setting_ids)
    if unknown.any():
        msg = (
            f"{int(unknown.sum())} pupils have a `current_setting_id` that is not in the provision "
            "table; add the settings (out-of-area ones too) or correct the ids"
        )
        raise SchemaValidationError(msg)
    cats = placement_category(df_provision)
    cost = _setting_costs(df_provision, costs)
    base = df_pupils[
        ["pupil_ref", "origin_id", "current_setting_id", "nc_year", "transport_assisted"]
    ].rename(columns={"current_setting_id": "setting_id"})
    base["setting_id"] = base["setting_id"].astype("string")
    j = df_journeys[
        ["origin_id", "destination_id", "travel_time_min", "distance_km", "distance_miles", "route"]
    ]
    out = base.merge(
        j, how="left", left_on=["origin_id", "setting_id"], right_on=["origin_id", "destination_id"]
    ).drop(columns=["destination_id"])
    if len(out) != len(base):  # pragma: no cover - journeys are unique per pair
        msg = "journey matrix has duplicate (origin_id, destination_id) pairs"
        raise SchemaValidationError(msg)
    out.index = df_pupils.index
    for col in ("travel_time_min", "distance_km", "distance_miles"):
        out[col] = out[col].astype("float64")
    out["category"] = out["setting_id"].map(cats)
    # the SEN2 provision type, kept as a separate dimension from location (in / out of area)
    ptype = pd.Series(
        df_provision["provision_type"].astype(str).to_numpy(),
        index=df_provision["setting_id"].astype(str),
    )
    out["provision_type"] = out["setting_id"].map(ptype)
    # assisted already, or beyond the walking distance for their age (the flows' rule)
    out["transport_assisted"] = out["transport_assisted"].astype(bool) | eligible_for_transport(
        out["distance_miles"].fillna(0.0), out["nc_year"], costs
    )
    out["annual_placement_cost_gbp"] = out["setting_id"].map(cost).astype(float).fillna(0.0)
    out["annual_transport_cost_gbp"] = transport_cost_gbp(
        out["distance_miles"], out["transport_assisted"], costs
    )
    out["status"] = np.where(
        out["setting_id"].isna(),
        "no_setting",
        np.where(out["travel_time_min"].isna(), "unreachable", "placed"),
    )
    logger.info(
        "baseline_allocation: %s pupils, %s placed, %s without a setting, %s unreachable",
        f"{len(out):,}",
        f"{int((out['status'] == 'placed').sum()):,}",
        f"{int((out['status'] == 'no_setting').sum()):,}",
        f"{int((out['status'] == 'unreachable').sum()):,}",
    )
    return out[
        [
            "pupil_ref",
            "setting_id",
            "category",
            "provision_type",
            "travel_time_min",
            "distance_km",
            "distance_miles",
            "route",
            "transport_assisted",
            "annual_placement_cost_gbp",
            "annual_transport_cost_gbp",
            "status",
        ]
    ]


def reallocate(
    df_pupils: pd.DataFrame,
    df_baseline: pd.DataFrame,
    df_new_places: pd.DataFrame,
    df_journeys: pd.DataFrame,
    *,
    movable: frozenset[str] | set[str],
    costs: CostModel,
    max_journey_min_by_phase: dict[str, float],
    max_extra_journey_min: float = 20.0,
    phase_transfer_only: bool = False,
) -> pd.DataFrame:
    """Move movable pupils into new places where it serves the plan's aims, within capacity.

    Parameters
    ----------
    df_pupils
        Geocoded pupils (``pupil_ref``, ``origin_id``, ``need_type``, ``phase``, ``nc_year``).
    df_baseline
        Output of :func:`baseline_allocation`, same index as ``df_pupils``.
    df_new_places
        New settings: ``setting_id``, ``needs`` and ``phases`` (``;``-separated, empty = any),
        ``capacity`` (places), ``annual_cost_per_place_gbp``, ``provision_type``.
    df_journeys
        Journey matrix covering the new settings.
    movable
        Baseline categories whose pupils may move (see :func:`placement_category`).
    costs
        Cost parameters.
    max_journey_min_by_phase
        Reasonable maximum journey per phase: a move never creates a journey longer than this.
    max_extra_journey_min
        A move may lengthen a journey by at most this many minutes.
    phase_transfer_only
        Only pupils at a phase transfer point (Reception, Year 7, Year 12) may move.

    Returns
    -------
    allocation
        Same columns and index as ``df_baseline`` plus ``moved`` (bool); every pupil appears
        exactly once.

    Raises
    ------
    InfeasibleModelError
        If the solver does not report an optimal solution.

    Notes
    -----
    The model is a transportation problem: binary ``x[p, s]`` for each feasible (pupil, new
    setting) pair, ``sum_s x[p, s] <= 1``, ``sum_p x[p, s] <= capacity[s]``, minimising the
    plan's aims (:data:`AIM_PRIORITY_MIN`: fewer out-of-area, then fewer independent and
    non-maintained placements, then shorter journeys), never cost: a move is made only when it
    serves an aim, and cost is reported, not optimised. Its constraint matrix is totally
    unimodular, so the LP optimum is integral; we still declare the variables integer.
    """
    out = df_baseline.copy()
    out["moved"] = False
    if df_new_places.empty:
        return out
    pupils = df_pupils.join(
        df_baseline[
            [
                "category",
                "travel_time_min",
                "annual_placement_cost_gbp",
                "annual_transport_cost_gbp",
                "status",
            ]
        ]
    )
    eligible = pupils["category"].isin(set(movable)) & (pupils["status"] == "placed")
    if phase_transfer_only:
        eligible &= pupils["nc_year"].isin([0, 7, 12])
    cand = pupils.loc[eligible]
    if cand.empty:
        return out
    places = df_new_places.assign(
        _needs=df_new_places["needs"].map(lambda v: set(split_codes(v))),
        _phases=df_new_places["phases"].map(lambda v: set(split_codes(v))),
    ).reset_index(drop=True)
    moves = _candidate_moves(
        cand, places, df_journeys, costs, max_journey_min_by_phase, max_extra_journey_min
    )
    if not moves.pupil:
        logger.info("reallocate: no movable pupil is better placed in the new places")
        return out
    cap = places["capacity"].to_numpy(dtype=float)
    chosen = _solve_moves(moves, cap)
    _apply_moves(out, moves, chosen, places)
    out["annual_transport_cost_gbp"] = transport_cost_gbp(
        out["distance_miles"], out["transport_assisted"], costs
    )
    logger.info(
        "reallocate: %s movable pupils, %s feasible moves, %s moved into %s new places",
        f"{len(cand):,}",
        f"{len(moves.pupil):,}",
        f"{len(chosen):,}",
        f"{int(cap.sum()):,}",
    )
    return out


@dataclass(slots=True)
class _Moves:
    """Feasible (pupil, new place) moves: the pupil's label, the place's row, the move's
    value (minutes minus the aims' priority; < 0 serves the plan) and its journey and cost."""

    pupil: list[Hashable] = field(default_factory=list)
    place: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    info: list[tuple[float, float, bool, float]] = field(default_factory=list)


def _candidate_moves(
    cand: pd.DataFrame,
    places: pd.DataFrame,
    df_journeys: pd.DataFrame,
    costs: CostModel,
    max_journey_min_by_phase: dict[str, float],
    max_extra_journey_min: float,
) -> _Moves:
    """Every move that serves an aim, within the journey limits (see :func:`reallocate`)."""
    moves = _Moves()
    j = df_journeys.set_index(["origin_id", "destination_id"])
    for s_idx, place in places.iterrows():
        ok_need = (
            cand["need_type"].isin(place["_needs"])
            if place["_needs"]
            else pd.Series(True, index=cand.index)
        )
        ok_phase = (
            cand["phase"].isin(place["_phases"])
            if place["_phases"]
            else pd.Series(True, index=cand.index)
        )
        sub = cand.loc[ok_need & ok_phase]
        if sub.empty:
            continue
        keys = pd.MultiIndex.from_arrays(
            [sub["origin_id"].astype(str), np.repeat(str(place["setting_id"]), len(sub))]
        )
        jj = j.reindex(keys)
        t_new = jj["travel_time_min"].to_numpy(dtype=float)
        miles_new = jj["distance_miles"].to_numpy(dtype=float)
        limit = sub["phase"].map(max_journey_min_by_phase).fillna(np.inf).to_numpy(dtype=float)
        t_old = sub["travel_time_min"].to_numpy(dtype=float)
        feasible = np.isfinite(t_new) & (t_new <= limit) & (t_new <= t_old + max_extra_journey_min)
        # a longer journey is accepted only to bring an out-of-area placement back
        feasible &= (t_new <= t_old) | (sub["category"] == "out_of_area").to_numpy()
        assisted = eligible_for_transport(
            pd.Series(miles_new, index=sub.index), sub["nc_year"], costs
        )
        assisted = assisted | sub["transport_assisted"].astype(bool)
        # the plan's aims, never cost: out of area first, then independent / non-maintained,
        # then shorter journeys (cost is reported, not optimised)
        aim = sub["category"].map(AIM_PRIORITY_MIN).fillna(0.0).to_numpy(dtype=float)
        delta = (t_new - t_old) - aim
        keep = feasible & (delta < 0)
        for p_label, d, t, mi, a in zip(
            sub.index[keep],
            delta[keep],
            t_new[keep],
            miles_new[keep],
            assisted.to_numpy()[keep],
            strict=True,
        ):
            moves.pupil.append(p_label)
            moves.place.append(cast("int", s_idx))  # `places` has a RangeIndex
            moves.value.append(d)
            moves.info.append((t, mi, a, float(place["annual_cost_per_place_gbp"])))
    return moves


def _solve_moves(moves: _Moves, cap: np.ndarray) -> np.ndarray:
    """The moves chosen (indices into ``moves``): each pupil at most once, places within
    ``cap``, the aims' total served best (a transportation problem, solved by HiGHS)."""
    p_labels = pd.Index(pd.unique(np.asarray(moves.pupil, dtype=object)))
    p_pos = p_labels.get_indexer(moves.pupil)
    n_var = len(moves.pupil)
    var = np.arange(n_var)
    a_pupil = sp.coo_matrix((np.ones(n_var), (p_pos, var)), shape=(len(p_labels), n_var))
    a_site = sp.coo_matrix(
        (np.ones(n_var), (np.asarray(moves.place), var)), shape=(len(cap), n_var)
    )
    # rows: one per pupil (placed at most once), then one per new setting (capacity)
    res = solve(
        np.asarray(moves.value),
        sp.vstack([a_pupil, a_site], format="csc"),
        -np.inf,
        np.concatenate([np.ones(len(p_labels)), cap]),
        0.0,
        1.0,
        np.ones(n_var),
    )
    if res.status != "optimal" or res.x is None:
        msg = (
            f"re-allocation model did not solve to optimality (status {res.status!r}: "
            f"{res.message}). Check the new places' `capacity` values (whole numbers >= 0)."
        )
        raise InfeasibleModelError(msg)
    return np.flatnonzero(res.x > 0.5)


def _apply_moves(
    out: pd.DataFrame, moves: _Moves, chosen: np.ndarray, places: pd.DataFrame
) -> None:
    """Write the chosen moves into ``out`` (the function's own copy of the baseline)."""
    for k in chosen:
        label = moves.pupil[k]
        t, mi, a, place_cost = moves.info[k]
        place = places.loc[moves.place[k]]
        out.loc[label, "setting_id"] = str(place["setting_id"])
        out.loc[label, "category"] = str(place["provision_type"])
        out.loc[label, "provision_type"] = str(place["provision_type"])
        out.loc[label, "travel_time_min"] = t
        out.loc[label, "distance_miles"] = mi
        out.loc[label, "distance_km"] = mi * KM_PER_MILE
        out.loc[label, "route"] = "road"
        out.loc[label, "transport_assisted"] = bool(a)
        out.loc[label, "annual_placement_cost_gbp"] = place_cost
        out.loc[label, "moved"] = True
