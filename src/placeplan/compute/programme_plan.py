"""``placeplan optimise``'s compute stage: a plan's capital programme study, end to end.

:func:`optimise_plan` runs the inputs through the network, the journey matrix and the baseline
placement-flow run, derives future demand (:func:`placeplan.compute.programme_demand.
future_demand`), builds the programme model from ``[optimise]`` and answers a capital board's
questions: the best programme with its status and gap on savings, the budget curve with the
marginal value of each pound, each chosen site's marginal value, the next-best distinct site sets
and a greedy heuristic's programme beside the optimum. It writes nothing.

Two paths by the full model's size (:data:`placeplan.compute.programme_scale.PRICED_MIN_ARCS`
assignments): small models are solved directly and exactly (:func:`study_programme`, on the
``nearest_sites`` reduction only if the plan sets it); large ones by pricing on the full model
from each row's nearest sites (:func:`~placeplan.compute.programme_scale.study_programme_priced`),
so the best programme's bound and gap are the full model's whatever ``nearest_sites`` says.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.compute.flow_inputs import flow_settings, run_flow_model
from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution, solve_programme
from placeplan.compute.programme_demand import demand_from_flows, programme_instance
from placeplan.compute.programme_scale import (
    PRICING_START_NEAREST,
    arcs_within,
    study_programme_priced,
    use_pricing,
)
from placeplan.compute.programme_study import (
    CurvePoint,
    StudyParts,
    alternatives,
    budget_curve,
    greedy_programme,
    site_contributions,
)
from placeplan.compute.run import journey_limits, journeys_for_plan, load_plan_network

if TYPE_CHECKING:
    from placeplan.config import PlanConfig
    from placeplan.prepare.inputs import Inputs

__all__ = ["ProgrammeStudy", "optimise_plan", "plan_journeys", "study_programme"]

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


def plan_journeys(plan: PlanConfig, inputs: Inputs) -> pd.DataFrame:
    """Journeys from every pupil origin to every setting and candidate site (as ``run`` makes)."""
    journeys, _ = journeys_for_plan(plan, inputs, load_plan_network(plan))
    return journeys


def _baseline_flows(plan: PlanConfig, inputs: Inputs, journeys: pd.DataFrame) -> pd.DataFrame:
    """Future demand from the plan's baseline placement-flow run (central path, every seed):
    the same flow model, inputs and parameters as ``run`` (:func:`run_flow_model`)."""
    result, _ = run_flow_model(plan, inputs, journeys, [])
    return demand_from_flows(result, flow_settings(inputs, plan), targets=plan.optimise.targets)


def study_programme(
    inst: ProgrammeInstance,
    *,
    steps: int,
    k: int,
    time_limit_s: float | None,
    mip_rel_gap: float,
) -> StudyParts:
    """Best programme, site contributions, budget curve, alternatives and greedy, timed.

    The curve's last step is the full budget; the best programme is taken from it (so the curve
    and the programme agree) unless a separate solve at the full budget does better.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    curve = budget_curve(inst, steps=steps, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    timings["curve"] = time.perf_counter() - t0
    best = curve[-1].solution
    if best.status != "optimal":  # one more try at the full budget, from the curve's best
        best = solve_programme(
            inst,
            min_objective=best.objective,
            time_limit_s=time_limit_s,
            mip_rel_gap=mip_rel_gap,
            fallback=best,
        )
    t0 = time.perf_counter()
    contributions = site_contributions(inst, best)
    timings["contributions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    alts = alternatives(inst, best, k=k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    timings["alternatives"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = greedy_programme(inst)
    timings["greedy"] = time.perf_counter() - t0
    return best, contributions, curve, alts, greedy, timings


def optimise_plan(plan: PlanConfig, inputs: Inputs) -> ProgrammeStudy:
    """Run a plan's capital programme study (what ``placeplan optimise`` computes).

    Parameters
    ----------
    plan
        A loaded plan with an ``[optimise]`` table (``budget_by_fy_gbp`` set).
    inputs
        Its prepared inputs (:func:`placeplan.prepare.prepare`); candidate sites required.

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
    if not plan.optimise.budget_by_fy_gbp:
        msg = (
            "set `optimise.budget_by_fy_gbp` in the plan, e.g. [optimise] budget_by_fy_gbp = "
            '{ "2026-27" = 1000000, "2027-28" = 1000000 }'
        )
        raise ConfigError(msg)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    journeys = plan_journeys(plan, inputs)
    timings["journeys"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    demand = _baseline_flows(plan, inputs, journeys)
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
            transport_cost_per_mile_gbp=plan.costs.transport_cost_per_mile_gbp,
            school_days=plan.thresholds.school_days,
            carry_forward=o.carry_forward,
            nearest_sites=nearest,
        )

    inst = build(None)
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
            inst = build(o.nearest_sites)
        best, contrib, curve, alts, greedy, more = study_programme(
            inst, steps=o.steps, k=o.alternatives, time_limit_s=o.time_limit_s, mip_rel_gap=o.gap
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
    )
