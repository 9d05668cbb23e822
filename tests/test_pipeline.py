"""End to end on the shipped Isle of Wight sample: invariants of a whole run (no outputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.compute import programme_plan
from placeplan.config import load_plan
from placeplan.pipeline import run

PLAN = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight" / "plan.toml"


def _with_scenarios(plan, scenarios):
    return plan.model_copy(update={"scenario": tuple(scenarios)})


#: What the programme study computed again inside ``run`` (journeys, rate, baseline flows).
RECOMPUTED: list[str] = []


@pytest.fixture(scope="module")
def result():
    plan = load_plan(PLAN)
    empty = plan.scenario[0].model_copy(update={"name": "Nothing opens", "open_sites": ()})
    # the snapshot optimiser ([selection] budget_gbp, use_optimised_sites): not in the sample
    # plan, whose one optimised answer is the capital programme ([optimise])
    within = plan.scenario[0].model_copy(
        update={"name": "Optimised within budget", "open_sites": (), "use_optimised_sites": True}
    )
    plan = _with_scenarios(plan, [*plan.scenario, empty, within])
    plan = plan.model_copy(
        update={"selection": plan.selection.model_copy(update={"budget_gbp": 3_000_000.0})}
    )
    with pytest.MonkeyPatch.context() as mp:  # count what the programme stage computes again
        for name in ("plan_journeys", "baseline_and_costs", "run_flow_model"):
            real = getattr(programme_plan, name)
            mp.setattr(programme_plan, name, _counted(name, real))
        # every sample home snaps to the network (warnings are errors: a far snap would fail)
        return run(plan)


def _counted(name, real):
    def spy(*a, **kw):
        RECOMPUTED.append(name)
        return real(*a, **kw)

    return spy


def test_every_pupil_allocated_exactly_once(result):
    pupils = pd.read_csv(PLAN.parent / "pupils.csv", dtype=str)
    assert len(result.baseline) == len(pupils)
    assert result.baseline["pupil_ref"].is_unique
    for res in result.scenarios.values():
        alloc = res.allocation
        assert alloc["pupil_ref"].is_unique
        assert set(alloc["pupil_ref"]) == set(pupils["pupil_ref"])


def test_no_new_base_over_capacity_and_need_respected(result):
    sites = pd.read_csv(PLAN.parent / "candidate_sites.csv", dtype=str)
    places = sites.set_index("site_id")["places"].astype(int)
    needs = sites.set_index("site_id")["needs"]
    pupils = pd.read_csv(PLAN.parent / "pupils.csv", dtype=str).set_index("pupil_ref")
    for res in result.scenarios.values():
        moved = res.allocation[res.allocation["moved"]]
        counts = moved["setting_id"].value_counts()
        for sid, n in counts.items():
            assert n <= places[sid]
            assert sid in res.scenario.open_sites
        for _, row in moved.iterrows():
            assert pupils.loc[row["pupil_ref"], "need_type"] in needs[row["setting_id"]].split(";")


def test_empty_scenario_has_zero_impact(result):
    table = result.impacts["Nothing opens"].table
    assert (table["change"].fillna(0.0) == 0.0).all()
    assert not result.impacts["Nothing opens"].per_pupil["worse_off"].any()


def test_scenarios_reduce_out_of_area_placements(result):
    for name in ("Four inclusion bases", "Optimised programme", "Optimised within budget"):
        allrow = result.impacts[name].table.query("group_type == 'all'").set_index("metric")
        moved = int(result.scenarios[name].allocation["moved"].sum())
        assert moved > 0
        assert allrow.loc["ooa_placements", "scenario"] < allrow.loc["ooa_placements", "baseline"]
        # every moved pupil left an OOA/independent placement (the scenarios' movable rule)
        ooa_drop = (
            allrow.loc["ooa_placements", "baseline"] - allrow.loc["ooa_placements", "scenario"]
        )
        indep_drop = (
            allrow.loc["independent_placements", "baseline"]
            - allrow.loc["independent_placements", "scenario"]
        )
        assert moved <= ooa_drop + indep_drop


def test_optimised_scenario_within_budget(result):
    plan = result.plan
    opt = result.optimised
    assert opt is not None and opt.status == "optimal"
    sites = pd.read_csv(PLAN.parent / "candidate_sites.csv", dtype=str).set_index("site_id")
    spent = sites.loc[list(opt.selected), "capital_cost_gbp"].astype(float).sum()
    assert 0 < spent <= plan.selection.budget_gbp
    opened = result.scenarios["Optimised within budget"].scenario.open_sites
    assert set(opened) == set(opt.selected)


def test_sample_programme_scenario_is_the_programme_this_run_chooses(result):
    """The sample's "Optimised programme" scenario (optimised-programme.toml, adopted through
    [inputs] programmes) is what `optimise` chooses now: sites, opening years and places.
    Stale after a model change: refresh it with `make sample-programme`."""
    assert result.programme is not None
    assert programme_plan.modelled_by(result.programme, result.plan.scenario) == (
        "Optimised programme"
    )
    others = [s for s in result.plan.scenario if s.name != "Optimised programme"]
    assert programme_plan.modelled_by(result.programme, others) is None


def test_no_snapshot_optimisation_without_a_scenario_that_uses_it(result):
    """[selection] budget_gbp alone no longer publishes a third answer (optimised_sites.csv)."""
    from placeplan.compute.run import select_sites

    plan = result.plan
    assert result.optimised is not None  # the fixture's "Optimised within budget" uses it
    without = _with_scenarios(plan, [s for s in plan.scenario if not s.use_optimised_sites])
    args = (result.inputs, result.inputs.pupils, result.baseline, result.journeys)
    scores, optimised = select_sites(*args, without)
    assert scores is not None and optimised is None


def test_journey_times_plausible(result):
    base = result.baseline
    placed = base[base["status"] == "placed"]
    assert (placed["travel_time_min"] > 0).all()
    ferry = placed["route"].astype(str).str.startswith("ferry")
    # island road journeys are under ~75 min; mainland journeys include a 40-60 min crossing
    assert placed.loc[~ferry, "travel_time_min"].max() < 75
    assert placed.loc[ferry, "travel_time_min"].min() > 60
    # distance and time agree in order of magnitude: average road speed 10-80 km/h
    speed = placed.loc[~ferry, "distance_km"] / (placed.loc[~ferry, "travel_time_min"] / 60)
    assert 10 < np.median(speed) < 80


def test_site_scores_ranked(result):
    scores = result.site_scores
    assert scores is not None
    assert scores["site_id"].is_unique
    assert scores["rank"].min() == 1
    assert scores["score"].is_monotonic_decreasing
    # weight sensitivity brackets every rank
    assert (scores["min_rank"] <= scores["rank"]).all()
    assert (scores["rank"] <= scores["max_rank"]).all()


def test_over_threshold_split_into_road_and_ferry(result):
    base = result.baseline
    pupils = pd.read_csv(PLAN.parent / "pupils.csv", dtype=str)
    limit = np.where(pupils["nc_year"].astype(int).to_numpy() <= 6, 45.0, 75.0)
    over = base["travel_time_min"].to_numpy() > limit
    ferry = base["route"].astype(str).str.startswith("ferry").to_numpy()
    allrow = result.impacts["Four inclusion bases"].table.query("group_type == 'all'")
    allrow = allrow.set_index("metric")
    assert allrow.loc["over_threshold_n", "baseline"] == over.sum()
    assert allrow.loc["over_threshold_road_n", "baseline"] == (over & ~ferry).sum()


def test_transport_cost_calibrated_to_stated_spend():
    plan = load_plan(PLAN)
    costs = plan.costs.model_copy(update={"annual_send_transport_spend_gbp": 4_500_000.0})
    plan = plan.model_copy(update={"costs": costs, "scenario": plan.scenario[:1]})
    res = run(plan)
    assert res.baseline["annual_transport_cost_gbp"].sum() == pytest.approx(4_500_000.0)
    # the forecast prices transport at the same calibrated rate: its census year is the spend
    ft = res.flows
    assert ft is not None
    base = ft[(ft["scenario"] == "baseline") & (ft["year"] == "2025/26")].set_index("measure")
    assert base.at["transport_cost_gbp", "central"] == pytest.approx(4_500_000.0, rel=1e-9)


def test_flows_year_by_year_from_the_2026_baseline(result):
    """The run's placement flows: 2025/26 to 2030/31, no change where nothing opens, none before
    the first opening year, and a baseline year that is today's placements."""
    ft = result.flows
    assert ft is not None
    years = sorted(ft["year"].unique())
    assert years == ["2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31"]
    rng = ft.dropna(subset=["central", "lower", "upper"])
    assert (rng["lower"] <= rng["central"] + 1e-9).all()
    assert (rng["central"] <= rng["upper"] + 1e-9).all()
    nothing = ft[ft["scenario"] == "Nothing opens - baseline"]
    vals = nothing[["central", "lower", "upper"]]
    assert len(vals) and ((vals.abs() < 1e-9) | vals.isna()).all().all()
    # the four bases open from September 2027: no change in 2025/26 or 2026/27
    four = ft[(ft["scenario"] == "Four inclusion bases - baseline")]
    early = four[four["year"].isin(["2025/26", "2026/27"])]
    vals = early[["central", "lower", "upper"]]
    assert len(vals) and ((vals.abs() < 1e-9) | vals.isna()).all().all()
    # 2025/26 is the census: out-of-area placements are today's pupils in settings outside
    base = ft[(ft["scenario"] == "baseline") & (ft["year"] == "2025/26")].set_index("measure")
    prov = pd.read_csv(PLAN.parent / "provision.csv", dtype=str)
    outside = set(prov.loc[prov["in_area"].str.lower() == "false", "setting_id"])
    pupils = pd.read_csv(PLAN.parent / "pupils.csv", dtype=str)
    assert base.loc["out_of_area", "central"] == pupils["current_setting_id"].isin(outside).sum()
    # settled pupils are never moved under the default rule
    assert (ft.loc[ft["measure"] == "movers", "central"] == 0).all()


def test_independent_counted_by_provision_type_wherever_it_is(result):
    """SEN2's independent + non-maintained measure counts mainland independents too (location is
    the other dimension), so the baseline equals the published 2024/25 cells of the sample."""
    prov = pd.read_csv(PLAN.parent / "provision.csv", dtype=str)
    ind = set(
        prov.loc[prov["provision_type"].isin(["independent", "non_maintained"]), "setting_id"]
    )
    pupils = pd.read_csv(PLAN.parent / "pupils.csv", dtype=str)
    expected = int(pupils["current_setting_id"].isin(ind).sum())
    for imp in result.impacts.values():
        allrow = imp.table[imp.table["group_type"] == "all"].set_index("metric")
        assert allrow.loc["independent_placements", "baseline"] == expected
    sen2 = pd.read_csv(PLAN.parent / "ehcp_by_placement.csv", dtype=str)
    latest = sen2[
        (sen2["time_period"] == sen2["time_period"].max())
        & sen2["dfe_column"].isin(["special_independent", "special_non_maintained"])
        & (sen2["breakdown_topic"] == "All EHC plans")
        & (sen2["la_code"] == "E06000046")
    ]
    assert expected == pd.to_numeric(latest["count"]).sum()


def _solution(sol):
    return (sol.options, sol.objective, sol.bound, sol.gap, sol.status, sol.flows.tolist())


def test_the_programme_reuses_the_runs_journeys_rate_and_flows(result):
    """The run's programme stage computes no journeys, costs or baseline flows of its own, and
    its study equals ``placeplan optimise`` alone on the same plan (which computes them)."""
    assert result.programme is not None and result.programme_inputs is not None
    assert RECOMPUTED == []
    given = result.programme_inputs
    assert given.journeys is result.journeys
    assert {r.scenario for r in given.baseline_flows.runs} == {"baseline"}
    alone = programme_plan.optimise_plan(result.plan, result.inputs)
    ran = result.programme
    assert "inputs" in alone.timings_s and "inputs" not in ran.timings_s
    pd.testing.assert_frame_equal(ran.demand, alone.demand)
    pd.testing.assert_frame_equal(ran.sites, alone.sites)
    for f in ("arc_row", "arc_site", "arc_value", "opt_value", "row_count", "row_present"):
        assert np.array_equal(getattr(ran.instance, f), getattr(alone.instance, f)), f
    assert _solution(ran.best) == _solution(alone.best)
    assert _solution(ran.greedy) == _solution(alone.greedy)
    assert ran.contributions == alone.contributions
    assert [_solution(a) for a in ran.alternatives] == [_solution(a) for a in alone.alternatives]
    assert [(p.budget_gbp, p.marginal_per_gbp, _solution(p.solution)) for p in ran.curve] == [
        (p.budget_gbp, p.marginal_per_gbp, _solution(p.solution)) for p in alone.curve
    ]
