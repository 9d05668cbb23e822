"""Placement flows: a pupil-level, year-by-year stock-flow model of where pupils are placed.

Each academic year from the baseline (the January 2026 census, academic year 2025/26) to the horizon
(default 2030/31) pupils age one year; leavers and ceased plans leave; pupils **stay** in their
setting unless their NC year leaves the setting's range (a phase transfer: into Reception, Year 3
where an infant school ends, Year 7, Year 12, ...) or their placement breaks down (a configurable
rate). New plans, transfers, breakdowns and pupils still without a place are then placed by a stated
policy (:data:`POLICY`), and places open from their opening year. Places freed by leavers and movers
are reused by the flow. Settled pupils move only when the scenario says so
(``movers = "transfers" | "out_of_area" | "any"``); such a move must improve the plan's aims (in
area before out of area, maintained before independent, then a shorter journey) and is never made
for cost; every move records the change of journey in minutes (``worse_off`` when longer).

The baseline run (no proposals, status-quo movers rule ``"transfers"``) and each scenario run use
the same pupils, the same new plans and the same random draws (common random numbers), so a scenario
with no new places and the default movers rule differs from the baseline by exactly zero.

Provision type and location are two separate dimensions: ``sen2_type`` is the DfE EHCP release's own
column name (``mainstream_la_maintained``, ``mainstream_academy_resourced_provision``,
``special_la_maintained``, ``special_independent``, ``ap_pru_la_maintained``,
``general_fe_tertiary_colleges``, ``specialist_post_16_institutions``, ...), and ``in_area`` says
whether the setting is inside the authority. They are counted as pairs, never merged.

Assumptions (each stated in the report's method section by the integrator):

- **Origins of new pupils.** A new plan (year, NC year, need) takes its home origin from a
  baseline pupil of the same need and phase drawn at random (seeded); same need any phase if none;
  any pupil if none. New plans therefore arise where current pupils with that need live.
- **New plans' kind of place** (``df_new_plan_mix``, from the release's mix by age,
  :func:`placeplan.compute.transitions.new_plan_mix`): drawn by the published share at the plan's
  NC year among mainstream, specialist (state), independent (independent or non-maintained
  special school), AP and other, over the kinds some setting offers at that NC year; without a
  mix, the donor pupil's kind (:func:`placeplan.compute.flows_kinds.new_plan_kinds`). Within its
  kind the policy places the plan, so a specialist plan takes a maintained place while one is
  free and an independent or non-maintained place when none is; an independent plan takes an
  independent or non-maintained place in its first year (a specialist place by the policy when
  none is free for its age), and after that the policy decides.
- **Kinds of place at a transfer.** A transferring pupil keeps their setting's kind unless the
  transition rates (``df_transitions``, :func:`placeplan.compute.transitions.
  phase_transfer_rates`) move them, with one draw per pupil and year shared by every run;
  ``FlowParams.kind_moves = "any_year"`` applies the same rates to settled pupils each year. A pupil
  whose kind no setting offers at their NC year (AP after 16) takes the published mix at that age
  (:func:`placeplan.compute.flows_kinds.unoffered_kinds`).
- **Who is placed first.** Pupils to be placed in a year are placed one at a time in a seeded random
  order (a lottery): each takes the best free place under the policy.
- **Capacity.** A setting never admits a pupil when it is full (``places`` reached); settings
  already over their places at the baseline keep their pupils. ``places`` NaN means no limit (use
  it for mainstream schools and for the independent / out-of-area market).
- **Costs.** Placement £ = the setting's annual cost per place; transport £ = pupil-miles (one way)
  × £/mile × 2 × school days, for pupils eligible for transport only (assisted already, or living
  beyond the walking distance for their age: :func:`placeplan.compute.flows_kinds.
  transport_eligible`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows_engine import (
    build_population,
    moves_table,
    places_by_year,
    pupil_table,
    run_years,
    year_measures,
)
from placeplan.compute.flows_prepare import prepare_flow_inputs
from placeplan.compute.flows_table import constant_new_plans, flow_table
from placeplan.compute.flows_types import (
    INDEPENDENT_NON_MAINTAINED_TYPES,
    MEASURES,
    NON_STATE_TYPES,
    OOA_RELIANCE,
    PATHS,
    POLICY,
    RELIANCE,
    FlowParams,
    FlowResult,
    FlowRun,
    FlowScenario,
    Proposal,
    academic_year,
    placement_group,
)

__all__ = [
    "INDEPENDENT_NON_MAINTAINED_TYPES",
    "MEASURES",
    "NON_STATE_TYPES",
    "OOA_RELIANCE",
    "PATHS",
    "POLICY",
    "RELIANCE",
    "FlowParams",
    "FlowResult",
    "FlowRun",
    "FlowScenario",
    "Proposal",
    "academic_year",
    "constant_new_plans",
    "flow_table",
    "placement_group",
    "simulate_flows",
]

logger = logging.getLogger(__name__)


def simulate_flows(
    df_cohort: pd.DataFrame,
    df_settings: pd.DataFrame,
    df_journeys: pd.DataFrame,
    df_new_plans: pd.DataFrame,
    *,
    scenarios: Sequence[FlowScenario],
    params: FlowParams | None = None,
    df_new_plan_mix: pd.DataFrame | None = None,
    df_transitions: pd.DataFrame | None = None,
) -> FlowResult:
    """Run the baseline and each scenario year by year under every new-plan path and seed.

    Parameters
    ----------
    df_cohort
        INTERNAL (personal data). The baseline cohort at the January census of ``base_year``'s
        academic year: ``pupil_ref`` (str, unique), ``nc_year`` (int, Reception = 0), ``need``
        (SEN2 need code), ``setting_id`` (str; missing = not placed, placed by the policy in the
        baseline year), ``origin_id`` (str, the home origin used in ``df_journeys``); optional
        ``placement_group`` (``mainstream``, ``specialist``, ``ap``, ``other``) for pupils without
        a setting (default ``mainstream``; pupils with a setting take their setting's group);
        optional ``transport_assisted`` (bool; counts for transport £ whatever the distance).
    df_settings
        One row per setting, in and out of area: ``setting_id`` (str, unique), ``sen2_type`` (the
        DfE release's column name, e.g. ``special_la_maintained``), ``in_area`` (bool), ``needs``
        (``;``-separated need codes, empty = any), ``nc_year_min``, ``nc_year_max`` (int),
        ``places`` (places for cohort pupils; NaN = no limit) and ``cost_per_place_gbp`` (annual;
        0 if absent).
    df_journeys
        Long table ``origin_id, setting_id, time_min, distance_km`` (one way) and optional
        ``ferry`` (bool); a missing pair is unreachable. Proposal sites need rows too.
    df_new_plans
        New plans by year: ``year`` (2026, ``"2026/27"`` or 202627), ``nc_year``, ``need``,
        ``central``, ``lower``, ``upper`` (counts; rounded to whole pupils). Years after
        ``base_year`` up to ``horizon_year`` are used, NC years up to ``leaving_nc_year`` (a plan
        starting above the leaving age would end at once). See :func:`constant_new_plans`.
    scenarios
        Scenarios to compare with the baseline (no proposals, movers ``"transfers"``).
    params
        Model parameters; default :class:`FlowParams`.
    df_new_plan_mix
        Optional ``nc_year, kind, share``: the kind of a new plan's first placement by NC year
        (:func:`placeplan.compute.transitions.new_plan_mix`); default: the kind of a baseline
        pupil of the same need and phase.
    df_transitions
        Optional ``from_group, to_group, nc_year, rate``: moves between kinds of place at a phase
        transfer (:func:`placeplan.compute.transitions.phase_transfer_rates`); default none.

    Returns
    -------
    result
        One :class:`FlowRun` per scenario (and baseline) × path × seed.

    Raises
    ------
    SchemaValidationError
        If a table lacks columns, has duplicate IDs, unknown need codes or settings.
    ConfigError
        If parameters are out of range.

    Notes
    -----
    See :data:`POLICY` for the placement policy and :data:`RELIANCE` for the one definition of
    reliance on out-of-area placements. Baseline and scenario runs share pupils and random draws.

    Examples
    --------
    Ten Year 6 pupils out of area transfer to Year 7 in 2027; a 10-place base opens in 2027:

    >>> import pandas as pd
    >>> cohort = pd.DataFrame({"pupil_ref": [f"p{i}" for i in range(10)], "nc_year": 5,
    ...     "need": "ASD", "setting_id": "OOA1", "origin_id": "o1"})
    >>> settings = pd.DataFrame({"setting_id": ["OOA1", "OOA2"],
    ...     "sen2_type": "special_independent", "in_area": False, "needs": "",
    ...     "nc_year_min": [0, 7], "nc_year_max": [6, 11], "places": float("nan"),
    ...     "cost_per_place_gbp": 60_000.0})
    >>> journeys = pd.DataFrame({"origin_id": "o1", "setting_id": ["OOA1", "OOA2", "B1"],
    ...     "time_min": [70.0, 80.0, 15.0], "distance_km": [60.0, 70.0, 8.0]})
    >>> base = Proposal("B1", 10, 2027, needs=("ASD",), nc_year_min=7, nc_year_max=11,
    ...     cost_per_place_gbp=25_000.0)
    >>> res = simulate_flows(cohort, settings, journeys, constant_new_plans(cohort, rate=0.0),
    ...     scenarios=[FlowScenario("base", (base,))],
    ...     params=FlowParams(horizon_year=2028))
    >>> t = flow_table(res)
    >>> ooa = t[t.measure == "out_of_area"]
    >>> ooa.pivot(index="year", columns="scenario", values="central").to_dict("list")
    {'base': [10.0, 10.0, 0.0, 0.0], 'base - baseline': [0.0, 0.0, -10.0, -10.0], \
'baseline': [10.0, 10.0, 10.0, 10.0]}
    """
    params = params or FlowParams()
    t0 = time.perf_counter()
    inp, coh = prepare_flow_inputs(df_cohort, df_settings, df_journeys, scenarios)
    missing_paths = [p for p in PATHS if p not in df_new_plans]
    if missing_paths or not {"year", "nc_year", "need"} <= set(df_new_plans.columns):
        msg = (
            "`df_new_plans` needs columns year, nc_year, need, central, lower, upper; "
            f"missing {sorted({'year', 'nc_year', 'need', *PATHS} - set(df_new_plans.columns))}"
        )
        raise SchemaValidationError(msg)
    years = params.years
    runs: list[FlowRun] = []
    base_places = places_by_year(inp, None, years)
    for seed in params.seeds:
        for path in PATHS:
            pop = build_population(
                coh, inp, df_new_plans, path=path, seed=seed, params=params,
                mix=df_new_plan_mix, transitions=df_transitions,
            )  # fmt: skip
            tr = run_years(pop, inp, base_places, params, "transfers")
            meas, base_time = year_measures(tr, pop, inp, params, None)
            runs.append(
                FlowRun(
                    "baseline",
                    path,
                    seed,
                    meas,
                    pupil_table(tr, pop, inp, params, base_time, None),
                    moves_table(tr, pop, inp, params),
                )
            )
            for sc in scenarios:
                tr_s = run_years(pop, inp, places_by_year(inp, sc, years), params, sc.movers)
                meas_s, time_s = year_measures(tr_s, pop, inp, params, base_time)
                runs.append(
                    FlowRun(
                        sc.name,
                        path,
                        seed,
                        meas_s,
                        pupil_table(tr_s, pop, inp, params, time_s, base_time),
                        moves_table(tr_s, pop, inp, params),
                    )
                )
    logger.info(
        "simulate_flows: %s baseline pupils, %d scenario(s), %d path(s) x %d seed(s), %s-%s, "
        "%.2f s",
        f"{len(coh):,}",
        len(scenarios),
        len(PATHS),
        len(params.seeds),
        academic_year(years[0]),
        academic_year(years[-1]),
        time.perf_counter() - t0,
    )
    return FlowResult(runs=tuple(runs), params=params, scenarios=tuple(s.name for s in scenarios))
