"""The compute stage: checked inputs to results — network, journeys, allocations, impact, layers.

:func:`compute` runs every model of a plan on the inputs :func:`placeplan.prepare.prepare` made and
returns a :class:`RunResult` with every table and spatial layer (EPSG:27700). It writes nothing and
publishes nothing: :func:`placeplan.publish.publish` does that, after disclosure control.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, cast

import geopandas as gpd
import pandas as pd

from placeplan.compute import network as network_mod
from placeplan.compute.allocation import CostModel, baseline_allocation
from placeplan.compute.demand import aggregate_demand
from placeplan.compute.flow_inputs import plan_proposals, run_flow_model, site_sizes
from placeplan.compute.flows import FlowResult, FlowScenario, flow_table
from placeplan.compute.impact import ImpactAssessment, assess_impact
from placeplan.compute.journeys import MainlandLeg, journey_matrix
from placeplan.compute.layers import ScenarioLayers, main_roads, scenario_layers
from placeplan.compute.mitigation import MitigationRule, plan_rules
from placeplan.compute.mitigation_years import mitigations_by_year
from placeplan.compute.network import RoadNetwork, speed_model
from placeplan.compute.optimise import OptimisationResult, optimise_sites
from placeplan.compute.points import as_xy
from placeplan.compute.proposals import ProposalAssessment, assess_proposals, flow_variants
from placeplan.compute.scenario import Scenario, ScenarioResult, apply_scenario
from placeplan.compute.scoring import score_sites, weight_sensitivity
from placeplan.prepare import io
from placeplan.prepare.inputs import Inputs, authority_areas
from placeplan.prepare.sen2_check import plan_sen2_check
from placeplan.vocab import CRS, OOA_CATEGORIES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from placeplan.compute.programme_plan import ProgrammeStudy
    from placeplan.config import PlanConfig

__all__ = [
    "COMPUTE_STAGES",
    "ProgrammeInputs",
    "RunResult",
    "baseline_and_costs",
    "baseline_runs",
    "calibrate_costs",
    "compute",
    "cost_model",
    "journey_limits",
    "journeys_for_plan",
    "load_plan_network",
    "select_sites",
    "speed_model",
]

logger = logging.getLogger(__name__)

#: The compute stages, in order (each timed and logged).
COMPUTE_STAGES = (
    "network",
    "journeys",
    "baseline",
    "selection",
    "scenarios",
    "impact",
    "flows",
    "proposals",
    "layers",
)


class StageTimer(Protocol):
    """Anything that times a named stage (the pipeline's progress bar)."""

    def stage(self, name: str) -> contextlib.AbstractContextManager[None]: ...


class _NoTimer:
    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield


@dataclass(frozen=True, slots=True)
class ProgrammeInputs:
    """What the capital programme study takes from a run (computed once, by :func:`compute`).

    :func:`placeplan.compute.programme_plan.optimise_plan` takes these from the run it follows
    (:func:`placeplan.run`), or computes them itself (``placeplan optimise`` alone) the same way.

    Attributes
    ----------
    journeys
        The journey matrix (:func:`journeys_for_plan`).
    transport_cost_per_mile_gbp
        The rate every stage prices transport at (:func:`baseline_and_costs`: calibrated to
        ``[costs] annual_send_transport_spend_gbp`` when the plan states it).
    baseline_flows
        The baseline placement-flow runs, every new-plan path and seed (no scenario runs): the
        future demand a programme meets.
    """

    journeys: pd.DataFrame
    transport_cost_per_mile_gbp: float
    baseline_flows: FlowResult


@dataclass(frozen=True, slots=True)
class RunResult:
    """Everything a run computed: tables and layers, before disclosure control.

    Internal: ``inputs.pupils``, ``baseline`` and ``impacts[...].per_pupil`` are pupil-level
    personal data. :func:`placeplan.publish.publish` is the only way out of the program, and it
    suppresses every published number.

    Attributes
    ----------
    plan
        The plan that was run.
    inputs
        The checked, geocoded inputs (:func:`placeplan.prepare.prepare`).
    network
        The road network used.
    journeys
        The origin × destination journey matrix (``travel_time_min``, ``distance_km``, …).
    snaps
        How every origin and destination snapped to the network.
    baseline
        Every pupil's current placement and journey.
    scenarios, impacts
        Per scenario name: the re-allocation and its impact against the baseline.
    site_scores
        Candidate site scores and ranks (None without candidates).
    optimised
        The budgeted optimal set of sites (None without a budget).
    layers
        Per scenario: :class:`placeplan.compute.layers.ScenarioLayers` (EPSG:27700).
    roads
        Main roads of the network, for basemaps (EPSG:27700).
    flows
        Year-by-year placement flows, baseline and every scenario, with 80 % ranges
        (:func:`placeplan.compute.flows.flow_table`; ``year, scenario, measure, central, lower,
        upper``).
    flows_source
        Where the flows' new plans came from (the SEN2 release forecast or a constant rate).
    sen2_check
        The cohort's baseline beside the authority's published SEN2 figures, by need, placement
        type and location (:func:`placeplan.prepare.sen2_check.release_check`; cohort counts
        unsuppressed); None when the plan names no ``sen2_release``.
    proposals
        Per-proposal assessment (:func:`placeplan.compute.proposals.assess_proposals`): each
        opened site alone and as its contribution to the programme, snapshot and year by year.
    mitigation_rules
        The travel mitigation rules applied (the plan's ``[[mitigation]]`` or the defaults).
    programme_inputs
        What the capital programme study reuses from this run (set by :func:`compute`).
    mitigations_by_year
        The rules applied to the flow model's pupils year by year, programme and per proposal
        (:func:`placeplan.compute.mitigation_years.mitigations_by_year`); None without flows.
    programme
        The capital programme study (:func:`placeplan.compute.programme_plan.optimise_plan`:
        the best programme, budget curve, alternatives, greedy) when the plan has an
        ``[optimise]`` budget; set by :func:`placeplan.run`, None otherwise.
    timings_s
        Seconds per stage.
    """

    plan: PlanConfig
    inputs: Inputs
    network: RoadNetwork
    journeys: pd.DataFrame
    snaps: pd.DataFrame
    baseline: pd.DataFrame
    scenarios: dict[str, ScenarioResult]
    impacts: dict[str, ImpactAssessment]
    site_scores: pd.DataFrame | None
    optimised: OptimisationResult | None
    layers: dict[str, ScenarioLayers]
    roads: gpd.GeoDataFrame
    flows: pd.DataFrame | None = None
    flows_source: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)
    sen2_check: pd.DataFrame | None = None
    proposals: ProposalAssessment | None = None
    mitigation_rules: tuple[MitigationRule, ...] = ()
    programme_inputs: ProgrammeInputs | None = None
    programme: ProgrammeStudy | None = None
    mitigations_by_year: pd.DataFrame | None = None


def _exact_locations(df_origins: pd.DataFrame) -> bool:
    """True when any origin is a pupil's own coordinates (``EN:…``), not a postcode centroid."""
    return bool(df_origins["id"].astype(str).str.startswith("EN:").any())


def cost_model(plan: PlanConfig) -> CostModel:
    """The placement and transport cost model of a plan (before calibration)."""
    return CostModel(
        transport_cost_per_mile_gbp=plan.costs.transport_cost_per_mile_gbp,
        school_days=plan.thresholds.school_days,
        placement_per_place_gbp=tuple(plan.costs.placement_per_place_gbp.items()),
        walking_distance_under8_miles=plan.thresholds.walking_distance_under8_miles,
        walking_distance_8plus_miles=plan.thresholds.walking_distance_8plus_miles,
        post16_walking_distance_miles=plan.flows.post16_walking_distance_miles,
    )


def journey_limits(plan: PlanConfig) -> dict[str, float]:
    """Reasonable maximum journey (min) by phase from the plan's thresholds."""
    t = plan.thresholds
    return {
        "primary": t.max_journey_primary_min,
        "secondary": t.max_journey_secondary_min,
        "post16": t.max_journey_secondary_min,
    }


def calibrate_costs(plan: PlanConfig, baseline: pd.DataFrame, costs: CostModel) -> CostModel:
    """Scale the per-mile transport cost so the baseline matches the authority's spend, if given."""
    spend = plan.costs.annual_send_transport_spend_gbp
    if spend is None:
        return costs
    miles = float((baseline["distance_miles"].fillna(0) * baseline["transport_assisted"]).sum())
    if miles <= 0:
        return costs
    rate = spend / (miles * 2 * costs.school_days)
    logger.info("transport cost calibrated to the stated spend: %.2f GBP per pupil-mile", rate)
    return replace(costs, transport_cost_per_mile_gbp=rate)


def load_plan_network(plan: PlanConfig) -> RoadNetwork:
    """The plan's road network: its network file, or online by place name (osmnx)."""
    if plan.inputs.network is not None:
        return network_mod.load_network(
            plan.path(plan.inputs.network), speed_model=speed_model(plan)
        )
    # the config validator requires exactly one of `network` and `network_place`
    place = plan.inputs.network_place
    assert place is not None
    return network_mod.network_from_place(
        place, buffer_m=plan.inputs.network_buffer_m, speed_model=speed_model(plan)
    )


def select_sites(
    inputs: Inputs,
    pupils: pd.DataFrame,
    baseline: pd.DataFrame,
    journeys: pd.DataFrame,
    plan: PlanConfig,
) -> tuple[pd.DataFrame | None, OptimisationResult | None]:
    """Score every candidate site and, with a budget, choose the best set exactly.

    Scoring sees all pupils' need; the optimisation (only when a scenario has
    ``use_optimised_sites``) sees only pupils whose current placement such a scenario may move
    (``movable``), since only they would take up a new base's places.
    """
    if not len(inputs.sites):
        return None, None
    sel = plan.selection
    sites = pd.DataFrame(inputs.sites.drop(columns="geometry"))
    area_cols = [c for c in ("imd_decile", "ruc_class") if c in pupils]
    if inputs.areas is not None and area_cols:
        site_area = io.assign_areas(inputs.sites, inputs.areas)
        a = inputs.areas.set_index("area_id")
        for col in area_cols:
            if col in a:
                sites[col] = site_area.map(a[col]).to_numpy()
        if "imd_decile" in sites:
            sites["imd_decile"] = pd.to_numeric(sites["imd_decile"], errors="coerce")
    host = inputs.provision.set_index("setting_id")
    if {"capacity", "on_roll"} <= set(host.columns):
        sites["host_capacity"] = sites["host_setting_id"].map(host["capacity"]).to_numpy()
        sites["host_on_roll"] = sites["host_setting_id"].map(host["on_roll"]).to_numpy()
    matrix = journeys[["origin_id", "destination_id", "travel_time_min"]]
    demand = aggregate_demand(pupils, baseline)
    scores = score_sites(
        sites,
        demand,
        matrix,
        weights=sel.weights or None,
        max_travel_time_min=sel.max_travel_time_min,
    )
    # how robust each rank is: every weight moved by +/-50 % in turn
    sens = weight_sensitivity(
        sites,
        demand,
        matrix,
        weights=sel.weights or None,
        max_travel_time_min=sel.max_travel_time_min,
    ).set_index("site_id")
    for col in ("min_rank", "max_rank", "most_sensitive_to"):
        scores[col] = scores["site_id"].map(sens[col])
    optimised = None
    users = [cfg for cfg in plan.scenario if cfg.use_optimised_sites]
    if sel.budget_gbp > 0 and users:  # no scenario opens them: no third answer to publish
        movable: set[str] = set()
        for cfg in users:
            movable |= set(cfg.movable)
        movable = movable or set(OOA_CATEGORIES)
        mask = baseline["category"].isin(movable) & (baseline["status"] == "placed")
        opt_demand = aggregate_demand(pupils.loc[mask], baseline.loc[mask])
        optimised = optimise_sites(
            sites,
            opt_demand,
            matrix,
            budget_gbp=sel.budget_gbp,
            max_sites=sel.max_sites,
            max_travel_time_min=plan.thresholds.max_journey_secondary_min,
            time_limit_s=sel.time_limit_s,
        )
        logger.info(
            "selection: %d sites scored; budget %s GBP -> %d sites chosen (%s)",
            len(scores),
            f"{sel.budget_gbp:,.0f}",
            len(optimised.selected),
            optimised.status,
        )
    return scores, optimised


def journeys_for_plan(
    plan: PlanConfig, inputs: Inputs, net: RoadNetwork
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journeys from every pupil origin (postcode or home point) to every setting and site.

    Parameters
    ----------
    plan, inputs
        The plan and its prepared inputs.
    net
        The plan's road network (:func:`load_plan_network`).

    Returns
    -------
    tuple of DataFrame
        The journey matrix and the snaps (:func:`placeplan.compute.journeys.journey_matrix`),
        with the plan's ferry links, mainland leg and allowance; exact home coordinates are never
        cached.
    """
    origins = (
        inputs.pupils[["origin_id", "geometry"]]
        .drop_duplicates("origin_id")
        .pipe(gpd.GeoDataFrame, geometry="geometry", crs=CRS)
    )
    df_origins = as_xy(origins, "origin_id")
    dests = as_xy(inputs.provision, "setting_id")[["id", "x", "y"]]
    dests["ferry_required"] = (
        inputs.provision["ferry_required"].fillna(False).astype(bool).to_numpy()
        if "ferry_required" in inputs.provision
        else False
    )
    if len(inputs.sites):
        site_xy = as_xy(inputs.sites, "site_id")[["id", "x", "y"]].assign(ferry_required=False)
        dests = pd.concat([dests, site_xy], ignore_index=True)
    return journey_matrix(
        net,
        df_origins,
        dests,
        ferry_links=plan.network.ferry_links,
        mainland=MainlandLeg(plan.network.mainland_circuity, plan.network.mainland_speed_kph),
        fixed_allowance_min=plan.network.fixed_allowance_min,
        max_snap_m=plan.network.max_snap_m,
        # postcode centroids may be cached; exact home coordinates never are
        use_cache=False if _exact_locations(df_origins) else None,
    )


def baseline_and_costs(
    plan: PlanConfig, inputs: Inputs, journeys: pd.DataFrame
) -> tuple[pd.DataFrame, CostModel]:
    """Current placements and journeys, with transport priced at the calibrated rate if given.

    The cost model returned (the plan's, its per-mile rate calibrated to
    ``[costs] annual_send_transport_spend_gbp`` when set) is the one every stage prices with:
    the scenarios, the year-by-year flows and ``placeplan optimise``.
    """
    costs = cost_model(plan)
    baseline = baseline_allocation(inputs.pupils, inputs.provision, journeys, costs=costs)
    calibrated = calibrate_costs(plan, baseline, costs)
    if calibrated != costs:  # transport costs re-priced at the calibrated rate
        costs = calibrated
        baseline = baseline_allocation(inputs.pupils, inputs.provision, journeys, costs=costs)
    return baseline, costs


def _scenarios(
    plan: PlanConfig,
    inputs: Inputs,
    baseline: pd.DataFrame,
    journeys: pd.DataFrame,
    costs: CostModel,
    optimised: OptimisationResult | None,
) -> dict[str, ScenarioResult]:
    out = {}
    for cfg in plan.scenario:
        scenario = replace(
            Scenario.from_config(cfg), site_sizes=site_sizes(plan, inputs.sites, cfg)
        )
        if cfg.use_optimised_sites:
            # the DataFrame adapter returns `site_id` strings, not column indices
            chosen = (
                tuple(cast("tuple[str, ...]", optimised.selected)) if optimised is not None else ()
            )
            scenario = replace(
                scenario, open_sites=tuple(dict.fromkeys(scenario.open_sites + chosen))
            )
        out[cfg.name] = apply_scenario(
            scenario,
            inputs.pupils,
            baseline,
            inputs.sites,
            journeys,
            costs=costs,
            max_journey_min_by_phase=journey_limits(plan),
        )
    return out


def _proposal_info(
    plan: PlanConfig, inputs: Inputs, scenarios: dict[str, ScenarioResult]
) -> pd.DataFrame:
    """Each scenario's proposals: site, name, needs, phases, places, opening year, costs."""
    cfgs = {c.name: c for c in plan.scenario}
    rows = []
    for name, res in scenarios.items():
        sized = pd.DataFrame(res.scenario.sized(inputs.sites))
        sites = {str(r["site_id"]): r for r in sized.to_dict("records")}
        opened = tuple(res.scenario.open_sites)
        for p in plan_proposals(plan, inputs, opened, cfgs.get(name)):
            row = sites.get(p.site_id, {})
            rows.append(
                {
                    "scenario": name,
                    "proposal": p.site_id,
                    "name": str(row.get("name", p.site_id)),
                    "needs": ";".join(p.needs),
                    "phases": str(row.get("phases", "")),
                    "places": p.places,
                    "opening_year": p.opening_year,
                    "places_by_year": dict(p.places_by_year),
                    "capital_cost_gbp": float(row.get("capital_cost_gbp", float("nan"))),
                    "annual_cost_per_place_gbp": p.cost_per_place_gbp,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "proposal",
            "name",
            "needs",
            "phases",
            "places",
            "opening_year",
            "places_by_year",
            "capital_cost_gbp",
            "annual_cost_per_place_gbp",
        ],
    )


def _flows(
    plan: PlanConfig,
    inputs: Inputs,
    journeys: pd.DataFrame,
    scenarios: dict[str, ScenarioResult],
    costs: CostModel,
) -> tuple[pd.DataFrame, str, tuple[FlowResult, list[FlowScenario], dict[str, str]]]:
    """Flows of every programme and of every per-proposal variant, in one run of the model.

    The programmes' year table is :func:`flow_table` of their runs alone: the variants share the
    baseline and its random draws, so it equals running the programmes by themselves.
    """
    cfgs = {c.name: c for c in plan.scenario}
    programmes = [
        FlowScenario(
            name,
            plan_proposals(plan, inputs, tuple(res.scenario.open_sites), cfgs.get(name)),
            movers=plan.flows.movers,
        )
        for name, res in scenarios.items()
    ]
    to_run, alias = flow_variants(programmes)
    result, source = run_flow_model(
        plan,
        inputs,
        journeys,
        to_run,
        transport_cost_per_mile_gbp=costs.transport_cost_per_mile_gbp,
    )
    names = {"baseline", *scenarios}
    own = FlowResult(
        runs=tuple(r for r in result.runs if r.scenario in names),
        params=result.params,
        scenarios=tuple(scenarios),
    )
    logger.info(
        "flows: %d scenario(s) and %d per-proposal variant(s), new plans from %s",
        len(programmes),
        len(to_run) - len(programmes),
        source,
    )
    return flow_table(own), source, (result, programmes, alias)


def baseline_runs(result: FlowResult) -> FlowResult:
    """``result``'s baseline runs alone (every path and seed; they do not depend on the
    scenarios run beside them, which share their pupils and random draws)."""
    runs = tuple(r for r in result.runs if r.scenario == "baseline")
    return FlowResult(runs=runs, params=result.params, scenarios=())


def compute(plan: PlanConfig, inputs: Inputs, *, timer: StageTimer | None = None) -> RunResult:
    """Run every model of a plan on its prepared inputs.

    Parameters
    ----------
    plan
        A loaded plan (:func:`placeplan.load_plan`).
    inputs
        The plan's inputs from :func:`placeplan.load_inputs`.
    timer
        Optional progress/timing object with a ``stage(name)`` context manager, entered once per
        name in :data:`COMPUTE_STAGES`.

    Returns
    -------
    RunResult
        Every table and layer of the run (unsuppressed; internal).

    Raises
    ------
    PlaceplanError
        Any network, configuration or model error, with a message saying how to fix it.

    Examples
    --------
    >>> import placeplan
    >>> plan = placeplan.load_plan("data/sample/isle-of-wight/plan.toml")  # doctest: +SKIP
    >>> from placeplan.compute import compute
    >>> result = compute(plan, placeplan.load_inputs(plan))  # doctest: +SKIP
    >>> sorted(result.impacts)  # doctest: +SKIP
    ['Four inclusion bases', 'Optimised programme']
    """
    timer = timer or _NoTimer()
    with timer.stage("network"):
        net = load_plan_network(plan)
    with timer.stage("journeys"):
        journeys, snaps = journeys_for_plan(plan, inputs, net)
    with timer.stage("baseline"):
        baseline, costs = baseline_and_costs(plan, inputs, journeys)
        # the baseline cohort beside the published SEN2 figures (issue 9 §6)
        sen2_check = plan_sen2_check(plan, inputs.pupils, inputs.provision)
    with timer.stage("selection"):
        site_scores, optimised = select_sites(inputs, inputs.pupils, baseline, journeys, plan)
    with timer.stage("scenarios"):
        scenarios = _scenarios(plan, inputs, baseline, journeys, costs, optimised)
    t = plan.thresholds
    rules = plan_rules(plan.mitigation)
    impact_kwargs = {
        "max_journey_min_by_phase": journey_limits(plan),
        "worse_off_min": t.worse_off_min,
        "walking_distance_under8_miles": t.walking_distance_under8_miles,
        "walking_distance_8plus_miles": t.walking_distance_8plus_miles,
        "post16_walking_distance_miles": plan.flows.post16_walking_distance_miles,
        "mitigation_rules": rules,
    }
    with timer.stage("impact"):
        impacts = {
            name: assess_impact(inputs.pupils, baseline, res.allocation, **impact_kwargs)  # type: ignore[arg-type]
            for name, res in scenarios.items()
        }
    with timer.stage("flows"):
        flows, flows_source, variants = _flows(plan, inputs, journeys, scenarios, costs)
        mit_years = mitigations_by_year(
            variants[0], rules, programmes=variants[1], alias=variants[2]
        )
    with timer.stage("proposals"):
        proposals = assess_proposals(
            inputs.pupils,
            baseline,
            inputs.sites,
            journeys,
            scenarios,
            impacts,
            apply_kwargs={"costs": costs, "max_journey_min_by_phase": journey_limits(plan)},
            impact_kwargs=impact_kwargs,
            rules=rules,
            flows=variants,
            proposal_info=_proposal_info(plan, inputs, scenarios),
        )
    with timer.stage("layers"):
        areas = inputs.areas
        own = authority_areas(areas, plan.plan.lad_code) if areas is not None else None
        layers = {
            name: scenario_layers(
                net=net,
                sites=inputs.sites,
                provision=inputs.provision,
                areas=own,
                result=res,
                impact=impacts[name],
                scores=site_scores,
                ferry_links=plan.network.ferry_links,
            )
            for name, res in scenarios.items()
        }
        roads = main_roads(net)
    return RunResult(
        plan=plan,
        inputs=inputs,
        network=net,
        journeys=journeys,
        snaps=snaps,
        baseline=baseline,
        scenarios=scenarios,
        impacts=impacts,
        site_scores=site_scores,
        optimised=optimised,
        layers=layers,
        roads=roads,
        flows=flows,
        flows_source=flows_source,
        sen2_check=sen2_check,
        proposals=proposals,
        mitigation_rules=rules,
        programme_inputs=ProgrammeInputs(
            journeys, costs.transport_cost_per_mile_gbp, baseline_runs(variants[0])
        ),
        mitigations_by_year=mit_years,
    )
