"""Travel impact assessment: before vs after journeys, OOA reliance, who is worse off, mitigations.

Measures follow the DfE Local SEND Reform Plan requirement ("expected changes to travel distances,
journey times, and reliance on out of area placements ... including any explicit travel related
mitigations") and, where they fit, the DfT Journey Time Statistics (mean travel time; share of
users within a time threshold).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GROUP_TYPES", "MITIGATIONS", "ImpactAssessment", "assess_impact"]

logger = logging.getLogger(__name__)

GROUP_TYPES: tuple[str, ...] = ("all", "need_type", "phase", "area", "imd_decile", "ruc_class")

#: Mitigation rules, in order of precedence: (key, group label, mitigation offered).
MITIGATIONS: tuple[tuple[str, str, str], ...] = (
    (
        "worse_beyond_walking",
        "Moved; journey longer and beyond statutory walking distance",
        "Free home-to-school transport (shared minibus or taxi with passenger assistant) from the "
        "first day; route planned to stay within the reasonable maximum journey; reviewed at the "
        "first annual review.",
    ),
    (
        "worse_within_walking",
        "Moved; journey longer but within statutory walking distance",
        "Travel plan agreed with the family: independent travel training (secondary), escorted "
        "walking route or a personal transport budget where the need makes walking unsuitable.",
    ),
    (
        "still_over_threshold",
        "Not moved; journey still over the reasonable maximum",
        "Placement reviewed at the next annual review; pupil counted in the demand for the next "
        "round of local provision; direct (non-shared) transport to shorten the journey.",
    ),
    (
        "moved_off_ferry",
        "Moved; no longer crosses to the mainland",
        "Transition plan for the change of setting (visits, key worker) and a new local travel "
        "plan; ferry travel and escort costs end.",
    ),
    (
        "moved_better",
        "Moved; journey shorter or about the same",
        "Transition plan for the change of setting and a new travel plan agreed with the family.",
    ),
)


@dataclass(frozen=True, slots=True)
class ImpactAssessment:
    """Result of :func:`assess_impact`.

    Attributes
    ----------
    per_pupil
        INTERNAL ONLY (personal data): one row per pupil with before/after journeys and the
        mitigation key. Never published.
    table
        Long aggregate table ``group_type, group, metric, baseline, scenario, change``
        (not yet disclosure-controlled).
    mitigations
        ``group, pupils, mitigation`` per mitigation rule (not yet disclosure-controlled).
    by_area
        ``area_id, pupils, baseline_mean_time_min, scenario_mean_time_min`` per LSOA for maps.
    """

    per_pupil: pd.DataFrame
    table: pd.DataFrame
    mitigations: pd.DataFrame
    by_area: pd.DataFrame


def _threshold(phase: pd.Series, limits: dict[str, float]) -> np.ndarray:
    return phase.map(limits).fillna(max(limits.values())).to_numpy(dtype=float)


def _metrics(df: pd.DataFrame, prefix: str) -> dict[str, float]:
    t = df[f"{prefix}_time_min"].dropna()
    km = df[f"{prefix}_distance_km"].dropna()
    cat = df[f"{prefix}_category"]
    placed = int(t.size)
    return {
        "pupils": float(len(df)),
        "mean_time_min": float(t.mean()) if placed else np.nan,
        "median_time_min": float(t.median()) if placed else np.nan,
        "p90_time_min": float(t.quantile(0.9)) if placed else np.nan,
        "max_time_min": float(t.max()) if placed else np.nan,
        "mean_distance_km": float(km.mean()) if placed else np.nan,
        "mean_distance_miles": float(km.mean() / 1.609344) if placed else np.nan,
        "over_threshold_n": float(df[f"{prefix}_over"].sum()),
        "over_threshold_pct": float(100.0 * df[f"{prefix}_over"].sum() / placed)
        if placed
        else np.nan,
        "ferry_journeys": float(df[f"{prefix}_route"].astype(str).str.startswith("ferry").sum()),
        "over_threshold_road_n": float(
            (
                df[f"{prefix}_over"] & ~df[f"{prefix}_route"].astype(str).str.startswith("ferry")
            ).sum()
        ),
        "ooa_placements": float((cat == "out_of_area").sum()),
        "independent_placements": float(cat.isin(["independent", "non_maintained"]).sum()),
        "annual_placement_cost_gbp": float(df[f"{prefix}_placement_cost_gbp"].sum()),
        "annual_transport_cost_gbp": float(df[f"{prefix}_transport_cost_gbp"].sum()),
    }


def assess_impact(
    df_pupils: pd.DataFrame,
    df_baseline: pd.DataFrame,
    df_scenario: pd.DataFrame,
    *,
    max_journey_min_by_phase: dict[str, float],
    worse_off_min: float = 5.0,
    walking_distance_under8_miles: float = 2.0,
    walking_distance_8plus_miles: float = 3.0,
) -> ImpactAssessment:
    """Compare a scenario allocation with the baseline.

    Parameters
    ----------
    df_pupils
        Pupils with ``pupil_ref, need_type, phase, nc_year`` and grouping columns ``area``,
        ``lsoa11cd``, ``imd_decile``, ``ruc_class`` (missing ones are reported as ``unknown``).
    df_baseline, df_scenario
        Allocations (same index as ``df_pupils``) from
        :func:`placeplan.compute.allocation.baseline_allocation` /
        :func:`placeplan.compute.allocation.reallocate`.
    max_journey_min_by_phase
        Reasonable maximum journey (minutes, each way) per phase.
    worse_off_min
        A journey longer by more than this many minutes counts as worse off.
    walking_distance_under8_miles, walking_distance_8plus_miles
        Statutory walking distances (Education Act 1996 s.444), for the mitigation rules.

    Returns
    -------
    assessment
        Per-pupil (internal), aggregate, mitigation and per-area tables.

    Notes
    -----
    With no change (scenario allocation equal to the baseline) every ``change`` is zero and no
    pupil is worse off; the tests hold this invariant.
    """
    pp = pd.DataFrame(index=df_pupils.index)
    pp["pupil_ref"] = df_pupils["pupil_ref"]
    for col in ("need_type", "phase", "area", "lsoa11cd", "imd_decile", "ruc_class"):
        if col in df_pupils:
            pp[col] = df_pupils[col].astype("string").fillna("unknown")
        else:
            pp[col] = "unknown"
    pp["all"] = "all pupils"
    for prefix, alloc in (("baseline", df_baseline), ("scenario", df_scenario)):
        pp[f"{prefix}_setting_id"] = alloc["setting_id"]
        pp[f"{prefix}_category"] = alloc["category"]
        pp[f"{prefix}_time_min"] = alloc["travel_time_min"].astype(float)
        pp[f"{prefix}_distance_km"] = alloc["distance_km"].astype(float)
        pp[f"{prefix}_route"] = alloc["route"]
        pp[f"{prefix}_placement_cost_gbp"] = alloc["annual_placement_cost_gbp"].astype(float)
        pp[f"{prefix}_transport_cost_gbp"] = alloc["annual_transport_cost_gbp"].astype(float)
        pp[f"{prefix}_over"] = alloc["travel_time_min"].astype(float).to_numpy() > _threshold(
            pp["phase"], max_journey_min_by_phase
        )
    pp["moved"] = df_scenario.get("moved", pd.Series(False, index=pp.index)).astype(bool)
    delta = pp["scenario_time_min"] - pp["baseline_time_min"]
    pp["change_time_min"] = delta
    pp["worse_off"] = delta > worse_off_min
    walk = np.where(
        df_pupils["nc_year"].to_numpy() <= 2,
        walking_distance_under8_miles,
        walking_distance_8plus_miles,
    )
    beyond_walk = pp["scenario_distance_km"].to_numpy() / 1.609344 > walk
    ferry_before = pp["baseline_route"].astype(str).str.startswith("ferry")
    ferry_after = pp["scenario_route"].astype(str).str.startswith("ferry")
    key = np.select(
        [
            pp["moved"] & pp["worse_off"] & beyond_walk,
            pp["moved"] & pp["worse_off"],
            ~pp["moved"] & pp["scenario_over"],
            pp["moved"] & ferry_before & ~ferry_after,
            pp["moved"],
        ],
        [k for k, _, _ in MITIGATIONS],
        default="",
    )
    pp["mitigation_key"] = key

    rows = []
    for group_type in GROUP_TYPES:
        for group, sub in pp.groupby(group_type, sort=True, observed=True):
            base = _metrics(sub, "baseline")
            scen = _metrics(sub, "scenario")
            base["worse_off_n"] = 0.0
            scen["worse_off_n"] = float(sub["worse_off"].sum())
            base["moved_n"] = 0.0
            scen["moved_n"] = float(sub["moved"].sum())
            for metric, b in base.items():
                s = scen[metric]
                rows.append((group_type, str(group), metric, b, s, s - b))
    table = pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )

    mit = pd.DataFrame(
        [(label, int((pp["mitigation_key"] == k).sum()), text) for k, label, text in MITIGATIONS],
        columns=["group", "pupils", "mitigation"],
    )
    by_area = (
        pp.groupby("lsoa11cd", sort=True)
        .agg(
            pupils=("pupil_ref", "size"),
            baseline_mean_time_min=("baseline_time_min", "mean"),
            scenario_mean_time_min=("scenario_time_min", "mean"),
            moved=("moved", "sum"),
        )
        .rename_axis("area_id")
        .reset_index()
    )
    all_row = table[(table["group_type"] == "all")].set_index("metric")
    logger.info(
        "assess_impact: %s pupils, %s moved, mean journey %.1f -> %.1f min, OOA %d -> %d, "
        "%s worse off",
        f"{len(pp):,}",
        f"{int(pp['moved'].sum()):,}",
        all_row["baseline"].loc["mean_time_min"],
        all_row["scenario"].loc["mean_time_min"],
        int(all_row["baseline"].loc["ooa_placements"]),
        int(all_row["scenario"].loc["ooa_placements"]),
        f"{int(pp['worse_off'].sum()):,}",
    )
    return ImpactAssessment(per_pupil=pp, table=table, mitigations=mit, by_area=by_area)
