"""Travel impact assessment: before vs after journeys, OOA reliance, who is worse off, mitigations.

Measures follow the DfE Local SEND Reform Plan requirement ("expected changes to travel distances,
journey times, and reliance on out of area placements ... including any explicit travel related
mitigations") and, where they fit, the DfT Journey Time Statistics (mean travel time; share of
users within a time threshold).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan.compute.mitigation import (
    DEFAULT_RULES,
    MitigationRule,
    match_rules,
    mitigation_table,
)
from placeplan.vocab import KM_PER_MILE

__all__ = [
    "GROUP_TYPES",
    "TRANSPORT_POLICIES",
    "ImpactAssessment",
    "assess_impact",
    "metric_labels",
    "mitigation_inputs",
    "transport_policy",
]

logger = logging.getLogger(__name__)

GROUP_TYPES: tuple[str, ...] = (
    "all",
    "need_type",
    "phase",
    "transport_policy",
    "area",
    "imd_decile",
    "ruc_class",
)

#: Which transport rules apply, by age on 1 September of the academic year (see
#: :func:`transport_policy`): (key, label).
TRANSPORT_POLICIES: tuple[tuple[str, str], ...] = (
    ("below_compulsory", "Below compulsory school age (nursery)"),
    ("statutory_under8", "Compulsory school age, under 8 (statutory walking distance 2 miles)"),
    ("statutory_8_16", "Compulsory school age, 8 to 16 (statutory walking distance 3 miles)"),
    ("post16", "Post-16 (16 to 18): the authority's post-16 transport policy"),
    ("age19_25", "19 to 25: the authority's adult transport policy"),
)

_MILE_KM = KM_PER_MILE


def transport_policy(
    nc_year: pd.Series,
    *,
    age_on_1_september: pd.Series | None = None,
    reception_statutory: bool = True,
) -> pd.Series:
    """Return which home-to-school transport rules apply to each pupil.

    The statutory walking distances (Education Act 1996 s.444(5) and Schedule 35B) apply to
    children of **compulsory school age** only: 2 miles for a child under 8 and 3 miles for a
    child aged 8 to 16, by age on 1 September of the academic year. Post-16 (16–18) and 19–25
    learners fall under the authority's own transport policy statements and are reported
    separately.

    Parameters
    ----------
    nc_year
        NC year (Reception = 0); age on 1 September is taken as ``nc_year + 4`` (the England
        academic-year rule) unless ``age_on_1_september`` is given.
    age_on_1_september
        Exact ages (from dates of birth), same index as ``nc_year``; missing values fall back to
        the NC-year rule.
    reception_statutory
        Reception children (age 4 on 1 September) reach compulsory school age in the term after
        their fifth birthday, i.e. during the year; ``True`` (default) applies the under-8 rule to
        them, ``False`` counts them as below compulsory school age.

    Returns
    -------
    policy
        One of the :data:`TRANSPORT_POLICIES` keys per pupil.

    Examples
    --------
    >>> transport_policy(pd.Series([-1, 0, 3, 4, 11, 12, 15])).tolist()
    ['below_compulsory', 'statutory_under8', 'statutory_under8', 'statutory_8_16', \
'statutory_8_16', 'post16', 'age19_25']
    """
    age = pd.to_numeric(nc_year, errors="coerce").astype(float) + 4.0
    if age_on_1_september is not None:
        exact = pd.to_numeric(age_on_1_september, errors="coerce").astype(float)
        age = exact.where(exact.notna(), age)
    a = age.to_numpy()
    min_age = 4.0 if reception_statutory else 5.0
    out = np.select(
        [a < min_age, a < 8, a < 16, a < 19, a >= 19],
        ["below_compulsory", "statutory_under8", "statutory_8_16", "post16", "age19_25"],
        default="unknown",
    )
    return pd.Series(out, index=nc_year.index, name="transport_policy")


def mitigation_inputs(per_pupil: pd.DataFrame) -> pd.DataFrame:
    """Return the columns :func:`placeplan.compute.mitigation.match_rules` reads, per pupil.

    Parameters
    ----------
    per_pupil
        :attr:`ImpactAssessment.per_pupil` (INTERNAL), or a subset of its rows.

    Returns
    -------
    pupils
        ``change_time_min, over_max, ferry, moved, need_type, phase`` (journeys after the change).
    """
    return pd.DataFrame(
        {
            "change_time_min": per_pupil["change_time_min"],
            "over_max": per_pupil["scenario_over"].astype(bool),
            "ferry": per_pupil["scenario_route"].astype(str).str.startswith("ferry"),
            "moved": per_pupil["moved"].astype(bool),
            "need_type": per_pupil["need_type"],
            "phase": per_pupil["phase"],
        },
        index=per_pupil.index,
    )


def metric_labels(worse_off_min: float = 5.0) -> dict[str, str]:
    """Return a plain-English label per impact metric saying exactly what is counted.

    Parameters
    ----------
    worse_off_min
        The worse-off margin in minutes.

    Returns
    -------
    labels
        ``metric -> label``.

    Examples
    --------
    >>> metric_labels(5)["worse_off_n"]
    'Pupils whose journey (fastest route) is more than 5 min longer'
    """
    return {
        "pupils": "Pupils",
        "mean_time_min": "Mean journey time, fastest route (min, one way)",
        "median_time_min": "Median journey time, fastest route (min, one way)",
        "p90_time_min": "90th percentile journey time, fastest route (min, one way)",
        "max_time_min": "Longest journey time, fastest route (min, one way)",
        "mean_distance_km": "Mean distance along the fastest route (km, one way)",
        "mean_distance_miles": "Mean distance along the fastest route (miles, one way)",
        "over_threshold_n": "Pupils whose journey (fastest route) is over the reasonable maximum",
        "over_threshold_pct": "% of placed pupils whose journey is over the reasonable maximum",
        "ferry_journeys": "Pupils whose fastest route uses a ferry",
        "over_threshold_road_n": "Pupils over the reasonable maximum without a ferry crossing",
        "ooa_placements": "Pupils placed out of area",
        "independent_placements": "Pupils in independent or non-maintained special schools",
        "annual_placement_cost_gbp": "Annual placement cost (£)",
        "annual_transport_cost_gbp": "Annual transport cost (£)",
        "worse_off_n": f"Pupils whose journey (fastest route) is more than {worse_off_min:g} min "
        "longer",
        "moved_n": "Pupils moved to a different setting",
        "beyond_walking_n": "Pupils of compulsory school age living beyond the statutory walking "
        "distance (along the fastest route)",
    }


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
        :func:`placeplan.compute.mitigation.mitigation_table`: pupils and annual £ per
        mitigation rule (not yet disclosure-controlled).
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
        "mean_distance_miles": float(km.mean() / KM_PER_MILE) if placed else np.nan,
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
        "beyond_walking_n": float(df[f"{prefix}_beyond_walk"].sum()),
        "ooa_placements": float((cat == "out_of_area").sum()),
        # by SEN2 provision type wherever the school is (location is the other dimension)
        "independent_placements": float(
            df[f"{prefix}_provision_type"].isin(["independent", "non_maintained"]).sum()
        ),
        "annual_placement_cost_gbp": float(df[f"{prefix}_placement_cost_gbp"].sum()),
        "annual_transport_cost_gbp": float(df[f"{prefix}_transport_cost_gbp"].sum()),
    }


def _group_table(pp: pd.DataFrame) -> pd.DataFrame:
    """Every metric per group of every :data:`GROUP_TYPES`, baseline, scenario and change."""
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
    return pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )


def assess_impact(
    df_pupils: pd.DataFrame,
    df_baseline: pd.DataFrame,
    df_scenario: pd.DataFrame,
    *,
    max_journey_min_by_phase: dict[str, float],
    worse_off_min: float = 5.0,
    walking_distance_under8_miles: float = 2.0,
    walking_distance_8plus_miles: float = 3.0,
    post16_walking_distance_miles: float | None = None,
    reception_statutory: bool = True,
    mitigation_rules: Sequence[MitigationRule] | None = None,
) -> ImpactAssessment:
    """Compare a scenario allocation with the baseline.

    Parameters
    ----------
    df_pupils
        Pupils with ``pupil_ref, need_type, phase, nc_year`` and grouping columns ``area``,
        ``lsoa11cd``, ``imd_decile``, ``ruc_class`` (missing ones are reported as ``unknown``);
        optional ``age_on_1_september`` (exact age from the date of birth; default
        ``nc_year + 4``).
    df_baseline, df_scenario
        Allocations (same index as ``df_pupils``) from
        :func:`placeplan.compute.allocation.baseline_allocation` /
        :func:`placeplan.compute.allocation.reallocate`.
    max_journey_min_by_phase
        Reasonable maximum journey (minutes, each way) per phase.
    worse_off_min
        A journey (fastest route) more than this many minutes longer counts as worse off.
    walking_distance_under8_miles, walking_distance_8plus_miles
        Statutory walking distances (Education Act 1996 s.444 and Schedule 35B) for children of
        compulsory school age under 8 and aged 8 to 16 on 1 September; compared with the distance
        along the fastest route.
    post16_walking_distance_miles
        Distance the authority's own post-16 / 19–25 transport policy uses; ``None`` (default):
        no statutory entitlement, such pupils are reported separately (``transport_policy``
        groups).
    reception_statutory
        Apply the under-8 distance to Reception (age 4 on 1 September; of compulsory school age
        from the term after their fifth birthday); see :func:`transport_policy`.
    mitigation_rules
        Travel mitigation rules in priority order
        (:func:`placeplan.compute.mitigation.plan_rules`); ``None``: the package defaults.

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
    policy = transport_policy(
        df_pupils["nc_year"],
        age_on_1_september=df_pupils.get("age_on_1_september"),
        reception_statutory=reception_statutory,
    )
    pp["transport_policy"] = policy
    not_statutory = (
        np.nan if post16_walking_distance_miles is None else post16_walking_distance_miles
    )
    walk = policy.map(
        {
            "statutory_under8": walking_distance_under8_miles,
            "statutory_8_16": walking_distance_8plus_miles,
            "post16": not_statutory,
            "age19_25": not_statutory,
        }
    ).to_numpy(dtype=float)
    has_walk_rule = ~np.isnan(walk)
    for prefix, alloc in (("baseline", df_baseline), ("scenario", df_scenario)):
        pp[f"{prefix}_setting_id"] = alloc["setting_id"]
        pp[f"{prefix}_category"] = alloc["category"]
        pp[f"{prefix}_provision_type"] = alloc.get("provision_type", alloc["category"])
        pp[f"{prefix}_time_min"] = alloc["travel_time_min"].astype(float)
        pp[f"{prefix}_distance_km"] = alloc["distance_km"].astype(float)
        pp[f"{prefix}_route"] = alloc["route"]
        pp[f"{prefix}_placement_cost_gbp"] = alloc["annual_placement_cost_gbp"].astype(float)
        pp[f"{prefix}_transport_cost_gbp"] = alloc["annual_transport_cost_gbp"].astype(float)
        pp[f"{prefix}_over"] = alloc["travel_time_min"].astype(float).to_numpy() > _threshold(
            pp["phase"], max_journey_min_by_phase
        )
        miles = pp[f"{prefix}_distance_km"].to_numpy() / _MILE_KM
        pp[f"{prefix}_beyond_walk"] = has_walk_rule & (miles > np.nan_to_num(walk, nan=np.inf))
    pp["moved"] = df_scenario.get("moved", pd.Series(False, index=pp.index)).astype(bool)
    delta = pp["scenario_time_min"] - pp["baseline_time_min"]
    pp["change_time_min"] = delta
    pp["worse_off"] = delta > worse_off_min
    rules = DEFAULT_RULES if mitigation_rules is None else tuple(mitigation_rules)
    pp["mitigation_key"] = match_rules(mitigation_inputs(pp), rules)

    table = _group_table(pp)
    mit = mitigation_table(pp["mitigation_key"], rules)
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
