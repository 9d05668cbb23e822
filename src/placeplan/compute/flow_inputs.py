"""From a plan's prepared inputs to the placement-flow model's inputs, and its year table.

:func:`plan_flows` is the compute stage's bridge to :mod:`placeplan.compute.flows`: it maps the
package's provision types to the DfE EHCP release's placement columns (kept as published), phases
to NC-year ranges, candidate sites to proposals with their opening years and places
(``[[scenario.site]]`` / ``[[flows.site]]``: :func:`site_openings`, :func:`site_sizes`), the
journey matrix to the flow model's journeys, and takes new plans from the authority's published
SEN2 release when the plan names one (``inputs.sen2_release``), else from the plan's constant rate.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import PlaceplanWarning
from placeplan.compute.flows import (
    FlowParams,
    FlowResult,
    FlowScenario,
    Proposal,
    constant_new_plans,
    flow_table,
    simulate_flows,
)
from placeplan.compute.scenario import SiteSize
from placeplan.needs import NEED_CODES, PHASES, split_codes

if TYPE_CHECKING:
    from placeplan.config import FlowSiteConfig, PlanConfig, ScenarioConfig
    from placeplan.prepare.inputs import Inputs

__all__ = [
    "SEN2_TYPE_OF_PROVISION",
    "TOP_NC_YEAR",
    "flow_cohort",
    "flow_params",
    "flow_settings",
    "kinds_of_place",
    "new_plans",
    "plan_flows",
    "plan_proposals",
    "run_flow_model",
    "site_openings",
    "site_sizes",
]

logger = logging.getLogger(__name__)

#: The top NC year of the pupils schema: Year 14 and over.
TOP_NC_YEAR = 14

#: The package's provision types as the DfE EHCP release's placement columns (the release does not
#: split maintained from academy at this level of input; the LA-maintained column stands for both).
SEN2_TYPE_OF_PROVISION: dict[str, str] = {
    "mainstream": "mainstream_la_maintained",
    "inclusion_base": "mainstream_la_maintained_resourced_provision",
    "special": "special_la_maintained",
    "independent": "special_independent",
    "non_maintained": "special_non_maintained",
    "ap": "ap_pru_la_maintained",
    "fe": "general_fe_tertiary_colleges",
}


def _nc_range(phases: str, leaving_nc_year: int) -> tuple[int, int]:
    codes = split_codes(phases) or ["primary", "secondary", "post16"]
    lo = min(PHASES[c][0] for c in codes if c in PHASES)
    hi = max(PHASES[c][1] for c in codes if c in PHASES)
    # post-16 settings (FE, specialist post-16) also serve 19-25 year olds with a plan
    return lo, (leaving_nc_year if "post16" in codes else hi)


def flow_cohort(
    inputs: Inputs, *, leaving_nc_year: int | None = None, top_weights: Sequence[float] = ()
) -> pd.DataFrame:
    """The baseline cohort for the flow model (INTERNAL: pupil-level).

    Pupil files record every learner from Year 14 up as NC year 14 (``TOP_NC_YEAR``, the
    pupils schema's top). Aged one band, they would all reach the leaving age together, a cliff
    no authority sees; so with ``leaving_nc_year`` above 14 they are spread over NC years 14 to
    ``leaving_nc_year`` in the proportions ``top_weights`` (one weight per NC year from 14, e.g.
    the release's plans by age 18, 19, ...; evenly if empty), in a fixed order of their
    reference's hash (no randomness: the same pupils get the same NC year in every run).
    """
    p = inputs.pupils
    nc = p["nc_year"].astype(int).to_numpy()
    if leaving_nc_year is not None and leaving_nc_year > TOP_NC_YEAR:
        nc = _spread_top_band(p["pupil_ref"].astype(str), nc, leaving_nc_year, top_weights)
    return pd.DataFrame(
        {
            "pupil_ref": p["pupil_ref"].astype(str).to_numpy(),
            "nc_year": nc,
            "need": p["need_type"].astype(str).to_numpy(),
            "setting_id": p["current_setting_id"].astype("string").to_numpy(),
            "origin_id": p["origin_id"].astype(str).to_numpy(),
            "transport_assisted": p.get("transport_assisted", pd.Series(False, index=p.index))
            .fillna(False)
            .astype(bool)
            .to_numpy(),
        }
    )


def _spread_top_band(
    refs: pd.Series, nc: np.ndarray, leaving_nc_year: int, weights: Sequence[float]
) -> np.ndarray:
    top = np.flatnonzero(nc == TOP_NC_YEAR)
    n_bands = leaving_nc_year - TOP_NC_YEAR + 1
    w = np.asarray(list(weights)[:n_bands], dtype=float)
    if w.size != n_bands or not np.isfinite(w).all() or w.sum() <= 0:
        w = np.ones(n_bands)
    order = top[np.argsort(pd.util.hash_pandas_object(refs.iloc[top], index=False).to_numpy())]
    bounds = np.rint(np.cumsum(w) / w.sum() * order.size).astype(int)
    out = nc.copy()
    for band, (lo, hi) in enumerate(zip(np.r_[0, bounds[:-1]], bounds, strict=True)):
        out[order[lo:hi]] = TOP_NC_YEAR + band
    return out


def flow_settings(inputs: Inputs, plan: PlanConfig) -> pd.DataFrame:
    """Every setting with its SEN2 type, location, needs, NC-year range, places and cost.

    Mainstream schools, FE colleges and out-of-area independent / non-maintained settings (the
    market an authority buys from when its own places are full) have no limit on places for pupils
    with a plan (NaN); maintained special schools, inclusion bases, AP and the independent /
    non-maintained schools *in* the area keep their stated capacity (a school on the island cannot
    grow to take every overflow placement), and hold at least the pupils they hold today.
    """
    prov = inputs.provision
    leaving = plan.flows.leaving_nc_year
    ranges = [_nc_range(str(ph), leaving) for ph in prov["phases"].fillna("")]
    in_area = prov["in_area"].astype(bool)
    independent = prov["provision_type"].isin(["independent", "non_maintained"])
    limited = (
        prov["provision_type"].isin(["special", "inclusion_base", "ap"]) | (independent & in_area)
    ).to_numpy()
    capacity = pd.to_numeric(prov["capacity"], errors="coerce").to_numpy(dtype=float)
    held = (
        inputs.pupils["current_setting_id"]
        .astype("string")
        .value_counts()
        .reindex(prov["setting_id"].astype(str))
        .fillna(0)
        .to_numpy(dtype=float)
    )
    places = np.where(limited, np.fmax(capacity, held), np.nan)
    fallback = plan.costs.placement_per_place_gbp
    cost = pd.to_numeric(prov["annual_cost_per_place_gbp"], errors="coerce")
    cost = cost.fillna(prov["provision_type"].map(fallback)).fillna(0.0)
    return pd.DataFrame(
        {
            "setting_id": prov["setting_id"].astype(str).to_numpy(),
            "sen2_type": prov["provision_type"].map(SEN2_TYPE_OF_PROVISION).to_numpy(),
            "in_area": prov["in_area"].astype(bool).to_numpy(),
            "needs": prov["needs"].fillna("").astype(str).to_numpy(),
            "nc_year_min": [r[0] for r in ranges],
            "nc_year_max": [r[1] for r in ranges],
            "places": places,
            "cost_per_place_gbp": cost.to_numpy(dtype=float),
        }
    )


def _flow_journeys(journeys: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin_id": journeys["origin_id"].astype(str).to_numpy(),
            "setting_id": journeys["destination_id"].astype(str).to_numpy(),
            "time_min": journeys["travel_time_min"].to_numpy(dtype=float),
            "distance_km": journeys["distance_km"].to_numpy(dtype=float),
            "ferry": journeys["route"].astype(str).str.startswith("ferry").to_numpy(),
        }
    )


def kinds_of_place(
    plan: PlanConfig,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, tuple[float, ...]]:
    """The new plans' mix, phase-transfer rates and plans by age from 18, from the SEN2 release.

    Returns
    -------
    tuple
        :func:`placeplan.compute.transitions.new_plan_mix` (``None`` with ``[flows]
        new_plan_mix = "cohort"``, no release, or a release without placements by age);
        :func:`placeplan.compute.transitions.phase_transfer_rates` (``None`` with
        ``phase_transitions = false`` or no release); plans by age 18, 19, ... up to the leaving
        age at the latest census before the baseline (empty without a release), for
        :func:`flow_cohort`.
    """
    f = plan.flows
    folder = plan.path(plan.inputs.sen2_release)
    if folder is None:
        return None, None, ()
    from placeplan.compute.transitions import kinds_by_age, new_plan_mix, phase_transfer_rates
    from placeplan.prepare.sen2 import read_sen2_release

    release = read_sen2_release(folder, plan.plan.lad_code)
    last = f"{f.base_year - 1}/{f.base_year % 100:02d}"  # censuses before the baseline year
    mix = new_plan_mix(release, base_year=last) if f.new_plan_mix == "release" else None
    rates = (
        phase_transfer_rates(release, base_year=last, split_independent=True, placed_only=True)
        if f.phase_transitions
        else None
    )
    by_age = kinds_by_age(release, base_year=last)
    top: tuple[float, ...] = ()
    if not by_age.empty:
        latest = by_age.loc[max(by_age.index.get_level_values("year"))].sum(axis=1)
        ages = range(TOP_NC_YEAR + 4, f.leaving_nc_year + 5)
        top = tuple(float(latest.get(a, 0.0)) for a in ages)
    return (None if mix is not None and mix.empty else mix), rates, top


def new_plans(plan: PlanConfig, cohort: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """New EHC plans by year × NC year × need with a range, and where they come from.

    From the authority's published SEN2 release
    (:func:`placeplan.compute.forecast.new_plans_by_age`)
    when ``inputs.sen2_release`` is set, else the plan's constant rate (``flows.new_plans_rate``).
    """
    f = plan.flows
    folder = plan.path(plan.inputs.sen2_release)
    if folder is None:
        table = constant_new_plans(
            cohort,
            rate=f.new_plans_rate,
            spread=f.new_plans_spread,
            base_year=f.base_year,
            horizon_year=f.horizon_year,
        )
        return table, f"constant rate: {f.new_plans_rate:.0%} of the cohort a year"
    from placeplan.compute.forecast import new_plans_by_age
    from placeplan.prepare.sen2 import read_sen2_release

    release = read_sen2_release(folder, plan.plan.lad_code)
    table = new_plans_by_age(release, years=f.horizon_year - f.base_year + 1)
    first = f"{f.base_year + 1}/{(f.base_year + 2) % 100:02d}"
    table = table[table["year"].astype(str) >= first].reset_index(drop=True)
    return _split_unknown_need(table, cohort), f"DfE EHCP release ({folder.name}), forecast"


def _split_unknown_need(table: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Share new plans published without a need (``ALL``/``UNKNOWN``) by the cohort's need mix."""
    known = table["need"].isin(NEED_CODES)
    if known.all():
        return table
    mix = cohort["need"].value_counts(normalize=True)
    mix = mix[mix.index.isin(NEED_CODES)]
    parts = [table[known]]
    for need, share in mix.items():
        part = table[~known].copy()
        part = part.assign(need=str(need))
        for col in ("central", "lower", "upper"):
            part[col] = part[col] * share
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(["year", "nc_year", "need"], as_index=False)[
        ["central", "lower", "upper"]
    ].sum()


def site_openings(
    plan: PlanConfig, scenario: ScenarioConfig | None = None
) -> dict[str, FlowSiteConfig]:
    """Each candidate site's opening entry in a scenario, by site id.

    The scenario's ``[[scenario.site]]`` entry for a site, else the plan's ``[[flows.site]]``
    entry (the last one for a site), else none (the site opens the year after the baseline with
    the candidate sites file's places).
    """
    out = {s.site_id: s for s in plan.flows.site}
    if scenario is not None:
        out.update({s.site_id: s for s in scenario.site})
    return out


def site_sizes(
    plan: PlanConfig, df_sites: pd.DataFrame, scenario: ScenarioConfig | None = None
) -> tuple[SiteSize, ...]:
    """The sizes a scenario gives candidate sites, where they differ from the sites file's.

    One rule, used by the snapshot, the per-proposal assessment, the flows and the report: a
    site's places are the largest of its ``places_by_year`` (:func:`site_openings`), capped at
    the candidate's ``places`` (the most the site holds; a warning says when the cap binds), or
    the candidate's ``places`` when no ramp-up is given. Its capital is the entry's
    ``capital_gbp`` (``placeplan optimise`` writes what it charged), else, for a base smaller
    than the candidate's, the ``[optimise] sizes`` entry with those places, else the candidate's
    ``capital_cost_gbp``: placeplan does not guess how capital scales with places.

    Parameters
    ----------
    plan
        The plan (``[[flows.site]]``, ``[optimise] sizes``).
    df_sites
        Candidate sites: ``site_id, places, capital_cost_gbp``.
    scenario
        The scenario (its ``[[scenario.site]]``); None: ``[[flows.site]]`` alone.

    Returns
    -------
    tuple of SiteSize
        One per site whose places or capital differ from the candidate sites file's.
    """
    if not len(df_sites):
        return ()
    capital_of = {s.places: s.capital_gbp for s in plan.optimise.sizes}
    ids = df_sites["site_id"].astype(str).tolist()
    most_of = dict(zip(ids, pd.to_numeric(df_sites["places"]).astype(int).tolist(), strict=True))
    own_capital = dict(
        zip(ids, pd.to_numeric(df_sites["capital_cost_gbp"]).astype(float).tolist(), strict=True)
    )
    out = []
    for sid, cfg in site_openings(plan, scenario).items():
        if sid not in most_of:
            continue
        most = most_of[sid]
        places = min(most, max(cfg.places_by_year.values(), default=most))
        if places < max(cfg.places_by_year.values(), default=most):
            msg = (
                f"site {sid!r}: places_by_year reaches {max(cfg.places_by_year.values())} places "
                f"but the candidate sites file gives it {most}; {most} are used (raise `places` "
                "in the candidate sites file or lower places_by_year)"
            )
            warnings.warn(msg, PlaceplanWarning, stacklevel=2)
        capital = own_capital[sid] if places == most else capital_of.get(places, own_capital[sid])
        capital = capital if cfg.capital_gbp is None else cfg.capital_gbp
        if places != most or capital != own_capital[sid]:
            out.append(SiteSize(sid, places, float(capital)))
    return tuple(out)


def _proposals(
    plan: PlanConfig,
    inputs: Inputs,
    open_sites: tuple[str, ...],
    scenario: ScenarioConfig | None = None,
) -> tuple[Proposal, ...]:
    f = plan.flows
    opening = site_openings(plan, scenario)
    sized = {s.site_id: s.places for s in site_sizes(plan, inputs.sites, scenario)}
    sites = inputs.sites.set_index(inputs.sites["site_id"].astype(str))
    out = []
    for sid in open_sites:
        row = sites.loc[sid]
        lo, hi = _nc_range(str(row["phases"]), f.leaving_nc_year)
        cfg = opening.get(sid)
        out.append(
            Proposal(
                site_id=sid,
                places=sized.get(sid, int(row["places"])),
                opening_year=cfg.opening_year if cfg else f.base_year + 1,
                needs=tuple(split_codes(str(row["needs"]))),
                nc_year_min=lo,
                nc_year_max=hi,
                cost_per_place_gbp=float(row["annual_cost_per_place_gbp"]),
                places_by_year=dict(cfg.places_by_year) if cfg else {},
            )
        )
    return tuple(out)


def plan_flows(
    plan: PlanConfig,
    inputs: Inputs,
    journeys: pd.DataFrame,
    open_sites: dict[str, tuple[str, ...]],
) -> tuple[pd.DataFrame, str]:
    """Run the placement-flow model for every scenario of a plan and return its year table.

    Parameters
    ----------
    plan, inputs, journeys
        The plan, its prepared inputs and the journey matrix of the run.
    open_sites
        The candidate sites each scenario opens (scenario name → site ids).

    Returns
    -------
    tuple of DataFrame and str
        :func:`placeplan.compute.flows.flow_table` (``year, scenario, measure, central, lower,
        upper``; unsuppressed) and a one-line note of where new plans came from.
    """
    cfgs = {c.name: c for c in plan.scenario}
    scenarios = [
        FlowScenario(
            name, _proposals(plan, inputs, sites, cfgs.get(name)), movers=plan.flows.movers
        )
        for name, sites in open_sites.items()
    ]
    result, source = run_flow_model(plan, inputs, journeys, scenarios)
    return flow_table(result), source


def flow_params(
    plan: PlanConfig, *, transport_cost_per_mile_gbp: float | None = None
) -> FlowParams:
    """The flow model's parameters from a plan's ``[flows]``, ``[thresholds]`` and ``[costs]``;
    ``transport_cost_per_mile_gbp`` replaces the plan's rate (the rate calibrated to the
    authority's stated spend, :func:`placeplan.compute.run.calibrate_costs`)."""
    f = plan.flows
    t = plan.thresholds
    return FlowParams(
        base_year=f.base_year,
        horizon_year=f.horizon_year,
        leaving_nc_year=f.leaving_nc_year,
        ceased_rate=f.ceased_rate,
        ceased_rate_by_nc_year=dict(f.ceased_rate_by_nc_year),
        breakdown_rate=f.breakdown_rate,
        policy_order=f.policy_order,
        max_journey_primary_min=t.max_journey_primary_min,
        max_journey_secondary_min=t.max_journey_secondary_min,
        transport_cost_per_mile_gbp=plan.costs.transport_cost_per_mile_gbp
        if transport_cost_per_mile_gbp is None
        else transport_cost_per_mile_gbp,
        school_days=t.school_days,
        worse_off_min=t.worse_off_min,
        seeds=f.seeds,
        walking_distance_under8_miles=t.walking_distance_under8_miles,
        walking_distance_8plus_miles=t.walking_distance_8plus_miles,
        post16_walking_distance_miles=f.post16_walking_distance_miles,
        kind_moves=f.kind_moves,
    )


def plan_proposals(
    plan: PlanConfig,
    inputs: Inputs,
    open_sites: tuple[str, ...],
    scenario: ScenarioConfig | None = None,
) -> tuple[Proposal, ...]:
    """The flow model's proposals for candidate sites in a scenario.

    Opening years and ramp-ups from :func:`site_openings` (the scenario's
    ``[[scenario.site]]``, else ``[[flows.site]]``), places from :func:`site_sizes`.
    """
    return _proposals(plan, inputs, open_sites, scenario)


def run_flow_model(
    plan: PlanConfig,
    inputs: Inputs,
    journeys: pd.DataFrame,
    scenarios: list[FlowScenario],
    *,
    transport_cost_per_mile_gbp: float | None = None,
) -> tuple[FlowResult, str]:
    """Run the placement-flow model of a plan for any flow scenarios (all runs kept).

    ``transport_cost_per_mile_gbp`` replaces the plan's rate (``run`` passes the calibrated
    one, so the snapshot and the forecast price transport alike).

    The one place the plan's inputs meet :func:`placeplan.compute.flows.simulate_flows`:
    :func:`plan_flows` runs the plan's scenarios through it, and the per-proposal assessment
    (:mod:`placeplan.compute.proposals`) runs the programmes with each proposal alone and each
    programme without each proposal, keeping the :class:`FlowResult` itself.
    """
    f = plan.flows
    mix, rates, top = kinds_of_place(plan)
    cohort = flow_cohort(inputs, leaving_nc_year=f.leaving_nc_year, top_weights=top)
    plans, source = new_plans(plan, cohort)
    result = simulate_flows(
        cohort,
        flow_settings(inputs, plan),
        _flow_journeys(journeys),
        plans,
        scenarios=scenarios,
        params=flow_params(plan, transport_cost_per_mile_gbp=transport_cost_per_mile_gbp),
        df_new_plan_mix=mix,
        df_transitions=rates,
    )
    logger.info(
        "flows: %d flow run(s), new plans from %s; first placements %s; %s phase-transfer rates",
        len(scenarios),
        source,
        "by the release's mix by age" if mix is not None else "like current pupils'",
        0 if rates is None else len(rates),
    )
    return result, source
