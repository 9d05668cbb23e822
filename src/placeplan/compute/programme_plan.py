"""``placeplan optimise``'s compute stage: a plan's capital programme study, end to end.

:func:`optimise_plan` takes the journey matrix, the transport rate and the baseline placement-flow
run from the run it follows (:class:`~placeplan.compute.run.ProgrammeInputs`), or computes them
itself when it runs alone (:func:`programme_inputs`), derives future demand
(:func:`placeplan.compute.programme_demand.future_demand`), builds the programme model from
``[optimise]`` and answers a capital board's questions: the best programme with its status and
gap on savings, the budget curve with the marginal value of each pound, each chosen site's
marginal value, the next-best distinct site sets and a greedy heuristic's programme beside the
optimum. It writes nothing.

Two paths by the full model's size (:data:`placeplan.compute.programme_scale.PRICED_MIN_ARCS`
assignments): small models are solved directly and exactly (:func:`study_programme`, on the
``nearest_sites`` reduction only if the plan sets it); large ones by pricing on the full model
from each row's nearest sites (:func:`~placeplan.compute.programme_scale.study_programme_priced`),
so the best programme's bound and gap are the full model's whatever ``nearest_sites`` says.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.compute.flow_inputs import flow_settings, run_flow_model
from placeplan.compute.programme import (
    ProgrammeInstance,
    ProgrammeSolution,
    saves_more,
    solve_programme,
)
from placeplan.compute.programme_demand import demand_from_flows, programme_instance
from placeplan.compute.programme_scale import (
    PRICING_START_NEAREST,
    arcs_within,
    promote_alternative,
    study_programme_priced,
    use_pricing,
)
from placeplan.compute.programme_scale_study import with_bound
from placeplan.compute.programme_study import (
    CurvePoint,
    StudyParts,
    alternatives_and_why,
    budget_curve,
    curve_point,
    greedy_programme,
    site_contributions,
)
from placeplan.compute.run import (
    ProgrammeInputs,
    baseline_and_costs,
    journey_limits,
    journeys_for_plan,
    load_plan_network,
)
from placeplan.config import budget_years_problem

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.config import PlanConfig, ScenarioConfig
    from placeplan.prepare.inputs import Inputs

__all__ = [
    "ProgrammeStudy",
    "check_budget_years",
    "check_sizes",
    "modelled_by",
    "optimise_plan",
    "plan_journeys",
    "programme_inputs",
    "study_programme",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProgrammeStudy:
    """Everything ``placeplan optimise`` computed (aggregates only; counts not yet suppressed).

    Attributes
    ----------
    instance
        The programme model.
    demand
        Future demand rows (:func:`~placeplan.compute.programme_demand.future_demand`).
    sites
        The candidate sites (``site_id, name, needs, phases, ...``), in the model's order.
    best
        The chosen programme at the full budget.
    contributions
        Option index → savings lost without it (the others kept).
    curve
        The budget curve.
    alternatives
        Next-best programmes with distinct site sets.
    greedy
        The greedy heuristic's programme at the full budget.
    timings_s
        Seconds per step.
    alternatives_asked
        How many alternatives the plan asked for (``optimise.alternatives``; ``None``: not
        known), so a shorter list can be explained.
    alternatives_stop
        Why the alternatives search stopped: ``"asked"`` (as many as asked), ``"exhausted"``
        (no other site set fits the budget), ``"time_limit"`` (a solve stopped at its time
        limit with no programme), ``"heuristic"`` (a large model, solved by pricing: the best
        programme found with one chosen site ruled out, not a proven k-best list) or ``""``
        (not known).
    nearest_sites
        Each demand row was offered only its this many nearest sites (``optimise.nearest_sites``
        on a model small enough to solve directly): status, bound and gap are then the reduced
        model's, not the full model's. ``None``: every compatible site within reach.
    """

    instance: ProgrammeInstance
    demand: pd.DataFrame
    sites: pd.DataFrame
    best: ProgrammeSolution
    contributions: dict[int, float]
    curve: tuple[CurvePoint, ...]
    alternatives: tuple[ProgrammeSolution, ...]
    greedy: ProgrammeSolution
    timings_s: dict[str, float]
    alternatives_asked: int | None = None
    alternatives_stop: str = ""
    nearest_sites: int | None = None


def check_budget_years(plan: PlanConfig) -> None:
    """Raise :class:`~placeplan.ConfigError` when a financial year's budget can open nothing.

    A financial year's capital opens places the following September (``2026-27`` → 2027); the
    programme models the academic years ``flows.base_year + 1`` to ``flows.horizon_year``, so a
    budget year opening outside them would be counted in the budget (and the curve) but could
    never be spent (:func:`placeplan.config.budget_years_problem`; :func:`~placeplan.load_plan`
    checks it too). Checked from the plan alone, before the pipeline runs.

    Parameters
    ----------
    plan
        A loaded plan.

    Raises
    ------
    ConfigError
        No budget, or a financial year opening outside the modelled years (the message names
        the plan file, the key and the financial years that would count).
    """
    from placeplan._errors import ConfigError

    where = f"{plan.source_file}: " if plan.source_file is not None else ""
    budget = plan.optimise.budget_by_fy_gbp
    if not budget:
        msg = (
            f"{where}set `optimise.budget_by_fy_gbp`, e.g. [optimise] budget_by_fy_gbp = "
            '{ "2026-27" = 1000000, "2027-28" = 1000000 }'
        )
        raise ConfigError(msg)
    problem = budget_years_problem(budget, plan.flows.base_year, plan.flows.horizon_year)
    if problem is not None:
        raise ConfigError(where + problem)


def check_sizes(plan: PlanConfig, sites: pd.DataFrame) -> None:
    """Raise :class:`~placeplan.ConfigError` when no site can be offered any size.

    Sizes are ``optimise.sizes`` (default: each site's own ``places``), offered at a site up to
    its ``places`` and from ``optimise.min_size`` up.

    Parameters
    ----------
    plan
        A loaded plan.
    sites
        Its candidate sites (``places`` column).

    Raises
    ------
    ConfigError
        Every size is below ``optimise.min_size`` or above every site's ``places`` (the message
        names the plan file, the key and the sizes and places that clash).
    """
    from placeplan._errors import ConfigError

    o = plan.optimise
    where = f"{plan.source_file}: " if plan.source_file is not None else ""
    places = pd.to_numeric(sites["places"], errors="coerce").dropna()
    most = int(places.max()) if len(places) else 0
    offered = [s.places for s in o.sizes] if o.sizes else [int(p) for p in places]
    key = "`optimise.sizes`" if o.sizes else "the candidate sites' `places`"
    viable = [p for p in offered if p >= o.min_size]
    if not viable:
        msg = (
            f"{where}`optimise.min_size` = {o.min_size} is above every size offered ({key}: "
            f"largest {max(offered, default=0)} places); lower `optimise.min_size` or offer "
            "larger sizes"
        )
        raise ConfigError(msg)
    if o.sizes and min(viable) > most:
        msg = (
            f"{where}every size in `optimise.sizes` of at least `optimise.min_size` (smallest "
            f"{min(viable)} places) is larger than every candidate site's `places` in "
            f"`inputs.candidate_sites` (largest {most}); a site is offered sizes up to its "
            "`places`: add smaller sizes or raise the sites' places"
        )
        raise ConfigError(msg)


def plan_journeys(plan: PlanConfig, inputs: Inputs) -> pd.DataFrame:
    """Journeys from every pupil origin to every setting and candidate site (as ``run`` makes)."""
    journeys, _ = journeys_for_plan(plan, inputs, load_plan_network(plan))
    return journeys


def programme_inputs(plan: PlanConfig, inputs: Inputs) -> ProgrammeInputs:
    """What the study takes from a run, computed as ``run`` computes it (``placeplan optimise``
    alone): the journeys, transport priced at the run's (calibrated) rate, and the baseline
    placement-flow run (central path and every other, every seed) with the same flow model,
    inputs and parameters (:func:`run_flow_model`)."""
    journeys = plan_journeys(plan, inputs)
    rate = baseline_and_costs(plan, inputs, journeys)[1].transport_cost_per_mile_gbp
    flows, _ = run_flow_model(plan, inputs, journeys, [], transport_cost_per_mile_gbp=rate)
    return ProgrammeInputs(journeys, rate, flows)


def _better_of(
    first: ProgrammeSolution, second: ProgrammeSolution, mip_rel_gap: float
) -> ProgrammeSolution:
    """The programme saving more (ties: ``first``) of two solves of one model at one budget,
    with the lower of their bounds (each bounds every programme of the model, so the lower
    holds too) and its gap on savings: a second solve that stops at its time limit with no
    bound keeps the first solve's bound, and the gap never gets worse."""
    keep = second if saves_more(second.objective, first.objective) else first
    known = [b for b in (first.bound, second.bound) if not math.isnan(b)]
    bound = min(known, default=math.inf)
    if not bound < keep.bound:
        return keep
    return with_bound(keep, bound, mip_rel_gap, keep.status)


def study_programme(
    inst: ProgrammeInstance,
    *,
    steps: int,
    k: int,
    time_limit_s: float | None,
    mip_rel_gap: float,
    notes: dict[str, str] | None = None,
) -> StudyParts:
    """Best programme, site contributions, budget curve, alternatives and greedy, timed.

    The curve's last step is the full budget; the best programme is taken from it (so the curve
    and the programme agree) unless a separate solve at the full budget, started from the
    better of that step and the greedy programme, does better (it keeps the lower of the two
    bounds and becomes the curve's last step), or an alternative does (it is promoted).
    ``notes``, when given, gets ``"alternatives"``: why the alternatives search stopped
    (:func:`~placeplan.compute.programme_study.alternatives_and_why`).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    curve = budget_curve(inst, steps=steps, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    timings["curve"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = greedy_programme(inst)
    timings["greedy"] = time.perf_counter() - t0
    best = curve[-1].solution
    if best.status != "optimal":  # one more try at the full budget, from the best known
        start = greedy if greedy.objective > best.objective else best
        again = solve_programme(
            inst,
            min_objective=best.objective,
            time_limit_s=time_limit_s,
            mip_rel_gap=mip_rel_gap,
            fallback=start,
        )
        best = _better_of(best, again, mip_rel_gap)
        if best.objective > curve[-1].solution.objective:
            last = curve[-1]
            point = curve_point(last.budget_gbp, last.budget_scale, best, curve[:-1])
            curve = (*curve[:-1], point)
    t0 = time.perf_counter()
    contributions = site_contributions(inst, best)
    timings["contributions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    alts, why = alternatives_and_why(
        inst, best, k=k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap
    )
    if notes is not None:
        notes["alternatives"] = why
    timings["alternatives"] = time.perf_counter() - t0
    best, contributions, curve, alts = promote_alternative(
        inst,
        (best, contributions, curve, alts),
        mip_rel_gap,
        demote=lambda sol: sol,
        order=lambda a: -a.objective,
    )
    return best, contributions, curve, alts, greedy, timings


def optimise_plan(
    plan: PlanConfig, inputs: Inputs, given: ProgrammeInputs | None = None
) -> ProgrammeStudy:
    """Run a plan's capital programme study (what ``placeplan optimise`` computes).

    Parameters
    ----------
    plan
        A loaded plan with an ``[optimise]`` table (``budget_by_fy_gbp`` set).
    inputs
        Its prepared inputs (:func:`placeplan.prepare.prepare`); candidate sites required.
    given
        The journeys, transport rate and baseline flows of the run this study follows
        (:attr:`placeplan.compute.run.RunResult.programme_inputs`); default: computed here
        the same way (:func:`programme_inputs`), as ``placeplan optimise`` alone does.

    Returns
    -------
    ProgrammeStudy
        The programme, curve, alternatives, greedy comparison and timings.

    Raises
    ------
    ConfigError
        No candidate sites, no budget, or no option fits (the message names the plan key).
    """
    from placeplan._errors import ConfigError

    if not len(inputs.sites):
        msg = (
            "`inputs.candidate_sites` is empty or not set; `placeplan optimise` chooses among them"
        )
        raise ConfigError(msg)
    check_budget_years(plan)
    check_sizes(plan, inputs.sites)
    timings: dict[str, float] = {}
    if given is None:  # alone: the journeys, rate and baseline flows `run` would compute
        t0 = time.perf_counter()
        given = programme_inputs(plan, inputs)
        timings["inputs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    journeys, rate = given.journeys, given.transport_cost_per_mile_gbp
    settings = flow_settings(inputs, plan)
    demand = demand_from_flows(given.baseline_flows, settings, targets=plan.optimise.targets)
    timings["demand"] = time.perf_counter() - t0
    o = plan.optimise
    sites = pd.DataFrame(inputs.sites.drop(columns="geometry")).reset_index(drop=True)

    def build(nearest: int | None) -> ProgrammeInstance:
        return programme_instance(
            demand,
            sites,
            journeys,
            objective=o.objective,
            budget_by_fy_gbp=o.budget_by_fy_gbp,
            sizes=[(s.places, s.capital_gbp) for s in o.sizes],
            min_size=o.min_size,
            max_journey_min_by_phase=journey_limits(plan),
            transport_cost_per_mile_gbp=rate,
            school_days=plan.thresholds.school_days,
            carry_forward=o.carry_forward,
            nearest_sites=nearest,
        )

    inst = build(None)
    notes = {"alternatives": "heuristic"}
    nearest = None
    if use_pricing(inst):  # large: the full model by pricing from the nearest sites
        start = arcs_within(inst, build(o.nearest_sites or PRICING_START_NEAREST))
        logger.info("optimise: %d assignments, priced from %d", len(inst.arc_row), start.sum())
        best, contrib, curve, alts, greedy, more = study_programme_priced(
            inst,
            start,
            steps=o.steps,
            k=o.alternatives,
            time_limit_s=o.time_limit_s,
            mip_rel_gap=o.gap,
        )
    else:  # small: exact and direct (on the nearest sites only if the plan asks)
        if o.nearest_sites is not None:
            reduced = build(o.nearest_sites)
            if len(reduced.arc_row) < len(inst.arc_row):
                inst, nearest = reduced, o.nearest_sites
        best, contrib, curve, alts, greedy, more = study_programme(
            inst,
            steps=o.steps,
            k=o.alternatives,
            time_limit_s=o.time_limit_s,
            mip_rel_gap=o.gap,
            notes=notes,
        )
    timings |= more
    logger.info(
        "optimise: %d demand rows, %d options, %d arcs; best %.4g (%s, gap %.2g), greedy %.4g",
        len(demand),
        len(inst.opt_site),
        len(inst.arc_row),
        best.objective,
        best.status,
        best.gap,
        greedy.objective,
    )
    return ProgrammeStudy(
        instance=inst,
        demand=demand,
        sites=sites,
        best=best,
        contributions=contrib,
        curve=curve,
        alternatives=alts,
        greedy=greedy,
        timings_s=timings,
        alternatives_asked=o.alternatives,
        alternatives_stop=notes["alternatives"],
        nearest_sites=nearest,
    )


def modelled_by(study: ProgrammeStudy, scenarios: Sequence[ScenarioConfig]) -> str | None:
    """The scenario that models the chosen programme exactly, or None.

    A scenario models it when it opens exactly the programme's sites, each with a
    ``[[scenario.site]]`` entry giving the programme's opening year and places (what
    :func:`placeplan.publish.programme.programme_toml` writes). A stale copy (an earlier
    ``optimise`` whose choice has since changed) models it no longer, and the report says so.

    Parameters
    ----------
    study
        The run's programme study (:func:`optimise_plan`).
    scenarios
        The plan's scenarios.

    Returns
    -------
    str or None
        The first such scenario's name.
    """
    inst, best = study.instance, study.best
    chosen = {
        (
            inst.site_ids[int(inst.opt_site[o])],
            int(inst.years[inst.opt_open[o]]),
            int(inst.opt_places[o]),
        )
        for o in best.options
    }
    for cfg in scenarios:
        entries = {
            (e.site_id, int(e.opening_year), max(e.places_by_year.values(), default=-1))
            for e in cfg.site
        }
        if set(cfg.open_sites) == {c[0] for c in chosen} and entries == chosen:
            return cfg.name
    return None
