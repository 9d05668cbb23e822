"""Placement flows (issue 9, deliverables 4, 5 and 8): exact answers on small synthetic cases."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute.flows import (
    MEASURES,
    OOA_RELIANCE,
    FlowParams,
    FlowScenario,
    Proposal,
    constant_new_plans,
    flow_table,
    placement_group,
    simulate_flows,
)
from placeplan.compute.flows_engine import build_population
from placeplan.compute.flows_prepare import prepare_flow_inputs

NAN = float("nan")
YEARS = ["2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31"]


def _settings(rows: list[tuple]) -> pd.DataFrame:
    cols = ["setting_id", "sen2_type", "in_area", "needs", "nc_year_min", "nc_year_max", "places"]
    cols += ["cost_per_place_gbp"]
    return pd.DataFrame(rows, columns=cols)


def _journeys(times: dict[tuple[str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [(o, s, t, t * 0.8) for (o, s), t in times.items()],
        columns=["origin_id", "setting_id", "time_min", "distance_km"],
    )


def _cohort(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pupil_ref", "nc_year", "need", "setting_id", "origin_id"])


def _no_new_plans() -> pd.DataFrame:
    return pd.DataFrame(columns=["year", "nc_year", "need", "central", "lower", "upper"])


def _value(t: pd.DataFrame, scenario: str, measure: str, col: str = "central") -> list[float]:
    sub = t[(t["scenario"] == scenario) & (t["measure"] == measure)].set_index("year")
    return sub[col].reindex(YEARS).tolist()


@pytest.fixture
def transfer_case():
    """10 Y5 pupils out of area transfer to Y7 in 2027/28; 20 settled in-area special pupils."""
    settings = _settings(
        [
            ("OOA-P", "special_independent", False, "", 0, 6, NAN, 60_000.0),
            ("OOA-S", "special_independent", False, "", 7, 11, NAN, 65_000.0),
            ("SP1", "special_la_maintained", True, "ASD;SEMH", 7, 11, 20, 25_000.0),
            ("MS1", "mainstream_academy", True, "", 0, 11, NAN, 8_000.0),
        ]
    )
    cohort = _cohort(
        [(f"t{i}", 5, "ASD", "OOA-P", "o1") for i in range(10)]
        + [(f"s{i}", 8, "SEMH", "SP1", "o2") for i in range(20)]
    )
    journeys = _journeys(
        {
            ("o1", "OOA-P"): 80.0,
            ("o1", "OOA-S"): 85.0,
            ("o1", "SP1"): 30.0,
            ("o1", "B1"): 10.0,
            ("o1", "MS1"): 5.0,
            ("o2", "OOA-P"): 90.0,
            ("o2", "OOA-S"): 90.0,
            ("o2", "SP1"): 20.0,
            ("o2", "B1"): 12.0,
            ("o2", "MS1"): 6.0,
        }
    )
    base = Proposal(
        "B1",
        places=10,
        opening_year=2027,
        needs=("ASD",),
        nc_year_min=7,
        nc_year_max=11,
        cost_per_place_gbp=20_000.0,
    )
    return cohort, settings, journeys, base


def test_base_opening_2027_gives_exactly_10_fewer_ooa_from_2027(transfer_case):
    cohort, settings, journeys, base = transfer_case
    res = simulate_flows(
        cohort, settings, journeys, _no_new_plans(), scenarios=[FlowScenario("b", (base,))]
    )
    t = flow_table(res)
    assert _value(t, "baseline", "out_of_area") == [10, 10, 10, 10, 10, 10]
    assert _value(t, "b", "out_of_area") == [10, 10, 0, 0, 0, 0]
    assert _value(t, "b - baseline", "out_of_area") == [0, 0, -10, -10, -10, -10]
    assert _value(t, "b - baseline", "independent_non_maintained") == [0, 0, -10, -10, -10, -10]
    # savings start in the opening year: placement £ 10 × (65k - 20k) from 2027/28, none before
    assert _value(t, "b - baseline", "placement_cost_gbp") == [0, 0] + [-450_000.0] * 4
    # journeys: 10 pupils 85 -> 10 min; transport £ = km / 1.609344 × 2.5 × 2 × 190
    assert _value(t, "b - baseline", "journey_time_total_min") == [0, 0] + [-750.0] * 4
    transport = -750 * 0.8 / 1.609344 * 2.5 * 2 * 190
    assert _value(t, "b - baseline", "transport_cost_gbp") == pytest.approx(
        [0, 0] + [transport] * 4
    )
    # nobody else moved, nobody worse off, the 20 settled special pupils stayed
    assert _value(t, "b", "movers") == [0] * 6
    assert _value(t, "b", "worse_off") == [0] * 6
    run = next(r for r in res.runs if r.scenario == "b" and r.path == "central")
    settled = run.pupils[run.pupils["pupil_ref"].str.startswith("s")]
    assert (settled.loc[settled["year"] <= "2028/29", "setting_id"] == "SP1").all()
    # two dimensions: type × location counts sum to placed pupils and to OOA
    yr = t[(t["scenario"] == "b") & (t["year"] == "2027/28")].set_index("measure")["central"]
    per_type = yr[yr.index.str.startswith("placements:")]
    assert per_type.sum() == yr["placed"] == 30
    assert per_type[per_type.index.str.endswith(":out_of_area")].sum() == yr["out_of_area"] == 0
    assert yr["placements:mainstream_la_maintained_resourced_provision:in_area"] == 10
    assert yr["out_of_area_pct"] == 0.0


def test_zero_new_places_gives_zero_change_everywhere():
    cohort, settings, journeys = _random_case(n=200, seed=3)
    new = constant_new_plans(cohort, rate=0.12)
    scenarios = [
        FlowScenario("none"),
        FlowScenario(
            "zero", (Proposal("NEW", places=0, opening_year=2026, cost_per_place_gbp=1.0),)
        ),
        FlowScenario("too late", (Proposal("S4", places=50, opening_year=2031),)),
    ]
    params = FlowParams(ceased_rate=0.05, breakdown_rate=0.05, seeds=(0, 1))
    t = flow_table(
        simulate_flows(cohort, settings, journeys, new, scenarios=scenarios, params=params)
    )
    for name in ("none", "zero", "too late"):
        change = t[t["scenario"] == f"{name} - baseline"]
        assert len(change) > 0
        assert set(change["year"]) == set(YEARS)
        assert set(MEASURES) <= set(change["measure"])
        vals = change[["central", "lower", "upper"]].to_numpy()
        both_nan = change["measure"] == "movers_journey_time_mean_min"  # no movers: NaN - NaN
        assert np.all(vals[~both_nan.to_numpy()] == 0.0), name
    # the baseline itself is not trivial: flows happened
    base = t[t["scenario"] == "baseline"].set_index(["measure", "year"])["central"]
    assert base["new_plans", "2027/28"] > 0
    assert base["transfers"].sum() > 0
    assert base["breakdowns"].sum() > 0


def test_settled_y10_pupil_never_moves_under_default_but_may_when_scenario_says():
    settings = _settings(
        [
            ("OOA-S", "special_independent", False, "", 7, 11, NAN, 60_000.0),
        ]
    )
    cohort = _cohort([("y10", 10, "ASD", "OOA-S", "o1")])
    journeys = _journeys({("o1", "OOA-S"): 20.0, ("o1", "B1"): 40.0})
    base = Proposal("B1", 5, 2026, needs=("ASD",), nc_year_min=7, nc_year_max=11,
                    cost_per_place_gbp=10_000.0)  # fmt: skip
    scen = [FlowScenario("default", (base,)), FlowScenario("ooa", (base,), movers="out_of_area")]
    res = simulate_flows(cohort, settings, journeys, _no_new_plans(), scenarios=scen)
    default = next(r for r in res.runs if r.scenario == "default" and r.path == "central")
    y = default.pupils.set_index("year")
    assert y.loc["2026/27", "setting_id"] == "OOA-S"
    assert y.loc["2027/28", "status"] == "unplaced"  # Y12: no post-16 place in this tiny case
    assert default.moves.empty
    # with movers = "out_of_area" the pupil comes in area although the journey is longer, and the
    # longer journey is recorded, never hidden
    ooa = next(r for r in res.runs if r.scenario == "ooa" and r.path == "central")
    assert ooa.moves[["year", "from_setting_id", "to_setting_id"]].values.tolist() == [
        ["2026/27", "OOA-S", "B1"]
    ]
    assert ooa.moves["extra_min"].tolist() == [20.0]
    assert ooa.moves["worse_off"].tolist() == [True]
    t = flow_table(res)
    assert _value(t, "ooa", "movers_worse_off")[:2] == [0, 1]
    assert _value(t, "ooa", "movers_extra_time_total_min")[:2] == [0, 20.0]
    assert _value(t, "ooa", "worse_off")[:2] == [0, 1]  # 20 min longer than in the baseline run
    assert _value(t, "ooa - baseline", "out_of_area")[:2] == [0, -1]


def test_movers_never_buy_cost_with_a_longer_journey_in_the_same_category():
    # in-area special (maintained) 10 min; a cheaper in-area base 30 min away: "any" never moves
    settings = _settings([("SP", "special_la_maintained", True, "", 0, 11, 10, 40_000.0)])
    cohort = _cohort([("p", 8, "ASD", "SP", "o1")])
    journeys = _journeys({("o1", "SP"): 10.0, ("o1", "B1"): 30.0})
    base = Proposal("B1", 5, 2026, cost_per_place_gbp=5_000.0)
    res = simulate_flows(
        cohort, settings, journeys, _no_new_plans(),
        scenarios=[FlowScenario("any", (base,), movers="any")],
    )  # fmt: skip
    assert all(r.moves.empty for r in res.runs)


def test_freed_places_are_reused_by_the_flow():
    settings = _settings(
        [
            ("SP", "special_la_maintained", True, "", 7, 11, 5, 25_000.0),
            ("OOA-S", "special_independent", False, "", 7, 11, NAN, 60_000.0),
            ("OOA-P", "special_independent", False, "", 0, 6, NAN, 60_000.0),
            ("P16", "specialist_post_16_institutions", True, "", 12, 14, NAN, 30_000.0),
        ]
    )
    cohort = _cohort(
        [(f"y11-{i}", 11, "ASD", "SP", "o1") for i in range(5)]
        + [(f"y6-{i}", 6, "ASD", "OOA-P", "o1") for i in range(7)]
    )
    journeys = _journeys(
        {("o1", "SP"): 10.0, ("o1", "OOA-S"): 60.0, ("o1", "OOA-P"): 60.0, ("o1", "P16"): 15.0}
    )
    res = simulate_flows(cohort, settings, journeys, _no_new_plans(), scenarios=[])
    run = res.runs[0]
    y1 = run.pupils[run.pupils["year"] == "2026/27"].set_index("pupil_ref")
    # the five Y11 leavers moved on to post-16; their five places went to five of the seven Y7s
    assert (y1.loc[[f"y11-{i}" for i in range(5)], "setting_id"] == "P16").all()
    y7 = y1.loc[[f"y6-{i}" for i in range(7)], "setting_id"]
    assert y7.value_counts().to_dict() == {"SP": 5, "OOA-S": 2}
    t = flow_table(res)
    assert _value(t, "baseline", "out_of_area")[:2] == [7, 2]
    assert _value(t, "baseline", "transfers")[:2] == [0, 12]


def test_policy_order_is_configurable():
    settings = _settings(
        [
            ("IND-IN", "special_independent", True, "", 0, 11, NAN, 50_000.0),
            ("MNT-OUT", "special_la_maintained", False, "", 0, 11, NAN, 20_000.0),
            ("MNT-IN-FAR", "special_academy_free", True, "", 0, 11, NAN, 20_000.0),
        ]
    )
    cohort = _cohort([("p", 2, "ASD", None, "o1")]).assign(placement_group="specialist")
    journeys = _journeys(
        {("o1", "IND-IN"): 5.0, ("o1", "MNT-OUT"): 6.0, ("o1", "MNT-IN-FAR"): 50.0}
    )

    def placed(order: tuple[str, ...]) -> str:
        res = simulate_flows(
            cohort, settings, journeys, _no_new_plans(), scenarios=[],
            params=FlowParams(policy_order=order, horizon_year=2025),
        )  # fmt: skip
        return str(res.runs[0].pupils["setting_id"].iloc[0])

    assert placed(("in_area", "maintained", "time")) == "MNT-IN-FAR"
    assert placed(("maintained", "in_area", "time")) == "MNT-IN-FAR"
    assert placed(("in_area", "time")) == "IND-IN"
    assert placed(("maintained", "time")) == "MNT-OUT"
    assert placed(("time",)) == "IND-IN"


def _random_case(n: int, seed: int, n_origins: int = 40):
    rng = np.random.default_rng(seed)
    rows = []
    types = [
        ("mainstream_la_maintained", True, "", 0, 6, NAN, 7_000.0),
        ("mainstream_academy", True, "", 7, 11, NAN, 7_000.0),
        ("mainstream_academy_resourced_provision", True, "ASD", 0, 6, 12, 18_000.0),
        ("mainstream_academy_senunit", True, "SEMH;SLCN", 7, 11, 12, 18_000.0),
        ("special_la_maintained", True, "", 0, 11, 40, 30_000.0),
        ("special_academy_free", True, "ASD;SLD;PMLD", 7, 14, 30, 32_000.0),
        ("special_independent", True, "", 5, 14, 10, 55_000.0),
        ("special_la_maintained", False, "", 0, 11, 25, 35_000.0),
        ("special_independent", False, "", 0, 14, NAN, 70_000.0),
        ("special_non_maintained", False, "", 0, 14, NAN, 75_000.0),
        ("general_fe_tertiary_colleges", True, "", 12, 14, NAN, 9_000.0),
        ("specialist_post_16_institutions", False, "", 12, 14, NAN, 60_000.0),
    ]
    for i, (typ, in_area, needs, lo, hi, places, cost) in enumerate(types * 2):
        rows.append((f"S{i}", typ, in_area, needs, lo, hi, places, cost))
    settings = _settings(rows)
    origins = [f"o{k}" for k in range(n_origins)]
    times = {}
    for o in origins:
        for sid, in_area in zip(settings["setting_id"], settings["in_area"], strict=True):
            times[(o, sid)] = float(rng.uniform(3, 40) if in_area else rng.uniform(40, 110))
        times[(o, "NEW")] = float(rng.uniform(3, 30))
    journeys = _journeys(times)
    needs = np.array(["ASD", "SEMH", "SLCN", "MLD", "SLD"])
    ncs = rng.integers(0, 15, size=n)
    nds = rng.choice(needs, size=n)
    ref = [f"p{i}" for i in range(n)]
    ors = rng.choice(origins, size=n)
    ok_by: dict[tuple[int, str], np.ndarray] = {}
    sts = []
    for nc, need in zip(ncs.tolist(), nds.tolist(), strict=True):
        if (nc, need) not in ok_by:
            ok_by[(nc, need)] = settings.loc[
                (settings["nc_year_min"] <= nc)
                & (settings["nc_year_max"] >= nc)
                & ((settings["needs"] == "") | settings["needs"].str.contains(need)),
                "setting_id",
            ].to_numpy()
        sts.append(str(rng.choice(ok_by[(nc, need)])))
    cohort = pd.DataFrame(
        {"pupil_ref": ref, "nc_year": ncs, "need": nds, "setting_id": sts, "origin_id": ors}
    )
    # baseline within places, so "never over capacity" is exact
    occ = cohort["setting_id"].value_counts()
    places = settings.set_index("setting_id")["places"]
    enough = np.fmax(places, occ.reindex(places.index).fillna(0))
    settings["places"] = enough.where(places.notna()).to_numpy()  # NaN stays "no limit"
    return cohort, settings, journeys


@pytest.mark.parametrize("movers", ["transfers", "out_of_area", "any"])
def test_invariants_capacity_accounting_one_setting(movers):
    cohort, settings, journeys = _random_case(n=250, seed=11)
    new = constant_new_plans(cohort, rate=0.15)
    props = (
        Proposal("NEW", 15, 2027, needs=("ASD", "SEMH"), nc_year_min=0, nc_year_max=11,
                 cost_per_place_gbp=20_000.0, places_by_year={2027: 6, 2028: 12}),
    )  # fmt: skip
    params = FlowParams(ceased_rate=0.04, breakdown_rate=0.05, ceased_rate_by_nc_year={11: 0.3})
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=[FlowScenario("s", props, movers=movers)],
        params=params,
    )  # fmt: skip
    places = settings.set_index("setting_id")["places"]
    for run in res.runs:
        pp = run.pupils
        # every pupil at most once a year; placed pupils in exactly one setting
        assert not pp.duplicated(["pupil_ref", "year"]).any()
        assert pp.loc[pp["status"] == "placed", "setting_id"].notna().all()
        assert pp.loc[pp["status"] != "placed", "setting_id"].isna().all()
        # never over capacity (ramp-up included)
        occ = pp[pp["status"] == "placed"].groupby(["year", "setting_id"]).size()
        for (year, sid), k in occ.items():
            if sid == "NEW":
                cap = {"2027/28": 6, "2028/29": 12}.get(year, 15)
                assert year >= "2027/28"
                assert k <= (cap if run.scenario == "s" else 0)
            elif not np.isnan(places[sid]):
                assert k <= places[sid]
        # accounting: cohort(t) = cohort(t-1) - leavers - ceased + new plans
        m = run.measures.pivot(index="year", columns="measure", values="value")
        assert (m["placed"] + m["unplaced"] == m["cohort"]).all()
        flow = m["cohort"].shift(1) - m["leavers"] - m["ceased"] + m["new_plans"]
        assert (flow.iloc[1:] == m["cohort"].iloc[1:]).all()
        n_status = pp.groupby("year")["status"].value_counts().unstack(fill_value=0)
        assert (n_status["placed"] == m["placed"]).all()
        assert (n_status.get("ceased", 0) == m["ceased"]).all()
        cols = [c for c in m.columns if c.startswith("placements:")]
        assert (m[cols].sum(axis=1) == m["placed"]).all()
        ooa_cols = [c for c in cols if c.endswith(":out_of_area")]
        assert (m[ooa_cols].sum(axis=1) == m["out_of_area"]).all()
        # movers: every move recorded with its minutes; default moves nobody
        if run.scenario == "baseline" or movers == "transfers":
            assert run.moves.empty
        assert (run.moves["worse_off"] == (run.moves["extra_min"] > 0)).all()


def test_ranges_are_ordered_and_paths_differ():
    cohort, settings, journeys = _random_case(n=150, seed=5)
    new = constant_new_plans(cohort, rate=0.15, spread=0.3)
    res = simulate_flows(
        cohort, settings, journeys, new,
        scenarios=[FlowScenario("s", (Proposal("NEW", 20, 2026, cost_per_place_gbp=2e4),))],
        params=FlowParams(seeds=(0, 1, 2)),
    )  # fmt: skip
    t = flow_table(res)
    ok = t.dropna(subset=["central", "lower", "upper"])
    assert len(ok) > 0.9 * len(t)
    assert (ok["lower"] <= ok["central"]).all()
    assert (ok["central"] <= ok["upper"]).all()
    cohort_size = t[(t["scenario"] == "baseline") & (t["measure"] == "cohort")]
    last = cohort_size[cohort_size["year"] == "2030/31"].iloc[0]
    assert last["lower"] < last["central"] < last["upper"]
    first = cohort_size[cohort_size["year"] == "2025/26"].iloc[0]
    assert first["lower"] == first["central"] == first["upper"] == 150
    assert t.columns.tolist() == ["year", "scenario", "measure", "central", "lower", "upper"]
    # deterministic: the same seed gives the same table
    again = flow_table(
        simulate_flows(
            cohort, settings, journeys, new,
            scenarios=[FlowScenario("s", (Proposal("NEW", 20, 2026, cost_per_place_gbp=2e4),))],
            params=FlowParams(seeds=(0, 1, 2)),
        )
    )  # fmt: skip
    pd.testing.assert_frame_equal(t, again)


def test_new_pupils_come_from_origins_of_the_same_need():
    cohort = _cohort(
        [(f"a{i}", 3, "ASD", "S", "oA") for i in range(5)]
        + [(f"m{i}", 3, "SEMH", "S", "oS") for i in range(5)]
    )
    settings = _settings([("S", "special_la_maintained", True, "", 0, 14, NAN, 1.0)])
    journeys = _journeys({("oA", "S"): 1.0, ("oS", "S"): 2.0})
    inp, coh = prepare_flow_inputs(cohort, settings, journeys, [])
    new = constant_new_plans(cohort, rate=2.0)
    pop = build_population(coh, inp, new, path="upper", seed=7, params=FlowParams())
    origin = inp.origin_ids[pop.origin]
    need = np.array(["ASD", "HI", "MLD", "MSI", "NSA", "OTH", "PD", "PMLD", "SEMH", "SLCN", "SLD",
                     "SPLD", "VI"])[pop.need]  # fmt: skip
    assert len(pop.ref) == 10 + 5 * 24  # upper = 1.2 × 2 × 10 a year for five years
    assert set(origin[need == "ASD"]) == {"oA"}
    assert set(origin[need == "SEMH"]) == {"oS"}


def test_flows_are_fast_on_a_unitary_sized_cohort():
    cohort, settings, journeys = _random_case(n=1500, seed=1, n_origins=300)
    new = constant_new_plans(cohort, rate=0.12)
    scen = [FlowScenario("s", (Proposal("NEW", 30, 2027, cost_per_place_gbp=2e4),))]
    start = time.process_time()  # CPU time: a busy machine must not fail the test
    res = simulate_flows(cohort, settings, journeys, new, scenarios=scen)
    flow_table(res)
    assert time.process_time() - start < 5.0


def test_input_errors_say_how_to_fix():
    cohort, settings, journeys = _random_case(n=20, seed=2)
    with pytest.raises(SchemaValidationError, match="origin_id"):
        simulate_flows(
            cohort.drop(columns="origin_id"), settings, journeys, _no_new_plans(), scenarios=[]
        )
    with pytest.raises(SchemaValidationError, match="cost_per_place_gbp"):
        simulate_flows(
            cohort, settings, journeys, _no_new_plans(),
            scenarios=[FlowScenario("x", (Proposal("NEW", 5, 2027),))],
        )  # fmt: skip
    bad = cohort.assign(setting_id="nowhere")
    with pytest.raises(SchemaValidationError, match="missing from `df_settings`"):
        simulate_flows(bad, settings, journeys, _no_new_plans(), scenarios=[])
    with pytest.raises(SchemaValidationError, match="central"):
        simulate_flows(cohort, settings, journeys, pd.DataFrame({"year": [2026]}), scenarios=[])
    with pytest.raises(ConfigError, match="policy_order"):
        FlowParams(policy_order=("time", "in_area"))
    with pytest.raises(ConfigError, match="breakdown_rate"):
        FlowParams(breakdown_rate=1.5)


def test_vocabulary_and_definitions():
    assert placement_group("mainstream_free_school_senunit") == "specialist"
    assert placement_group("special_non_maintained") == "specialist"
    assert placement_group("general_fe_tertiary_colleges") == "fe"
    assert placement_group("ukrlp_provider") == "fe"
    assert placement_group("elective_home_education") == "other"
    assert "in_area" in OOA_RELIANCE
    assert Proposal("B", 10, 2027, places_by_year={2027: 4, 2029: 20}).places_in(2026) == 0
    ramp = [Proposal("B", 10, 2027, places_by_year={2027: 4, 2029: 20}).places_in(y)
            for y in range(2027, 2031)]  # fmt: skip
    assert ramp == [4, 4, 10, 10]


def test_flows_config_maps_onto_flow_params():
    from placeplan.config import FlowsConfig

    cfg = FlowsConfig.model_validate(
        {
            "breakdown_rate": 0.03,
            "ceased_rate_by_nc_year": {"11": 0.2},
            "movers": "out_of_area",
            "site": [{"site_id": "B1", "opening_year": 2027, "places_by_year": {"2027": 4}}],
        }
    )
    params = FlowParams(
        **cfg.model_dump(
            exclude={
                "movers",
                "new_plans_rate",
                "new_plans_spread",
                "site",
                "new_plan_mix",
                "phase_transitions",
            }
        )
    )
    assert params.breakdown_rate == 0.03
    assert params.ceased_rate_by_nc_year == {11: 0.2}
    assert cfg.site[0].places_by_year == {2027: 4}
    with pytest.raises(ValueError, match="policy_order"):
        FlowsConfig.model_validate({"policy_order": ["cost", "time"]})


# -- kinds of place: new plans' mix, transitions at phase transfer, capacity, transport (issue 9)
def _kinds_case(n: int = 100, nc: int = 6):
    settings = _settings(
        [
            ("PRI", "mainstream_la_maintained", True, "", 0, 6, NAN, 7_000.0),
            ("SEC", "mainstream_academy", True, "", 7, 11, NAN, 7_000.0),
            ("SP", "special_la_maintained", True, "", 0, 11, 10, 25_000.0),
            ("IND", "special_independent", True, "", 0, 11, NAN, 55_000.0),
            ("AP", "ap_pru_la_maintained", True, "", 0, 11, NAN, 20_000.0),
        ]
    )
    cohort = _cohort([(f"p{i}", nc, "ASD", "PRI", "o1") for i in range(n)])
    journeys = _journeys({("o1", s): 10.0 + k for k, s in enumerate(settings["setting_id"])})
    return cohort, settings, journeys


def _rates(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["from_group", "to_group", "nc_year", "rate"])


def test_transitions_at_phase_transfer_give_the_hand_computed_counts():
    cohort, settings, journeys = _kinds_case(n=100)
    params = FlowParams(horizon_year=2026)
    # all move: 100 Y6 mainstream pupils -> Y7 specialist: 10 maintained places, then independent
    res = simulate_flows(
        cohort, settings, journeys, _no_new_plans(), scenarios=[], params=params,
        df_transitions=_rates([("mainstream", "specialist", 7, 1.0)]),
    )  # fmt: skip
    y1 = res.runs[0].pupils.query("year == '2026/27'")["setting_id"].value_counts().to_dict()
    assert y1 == {"IND": 90, "SP": 10}
    # a quarter move: exactly the pupils whose shared draw falls under 0.25, the rest go to SEC
    rates = _rates([("mainstream", "specialist", 7, 0.25), ("mainstream", "ap", 7, 0.05)])
    res = simulate_flows(
        cohort, settings, journeys, _no_new_plans(), scenarios=[], params=params,
        df_transitions=rates,
    )  # fmt: skip
    inp, coh = prepare_flow_inputs(cohort, settings, journeys, [])
    pop = build_population(coh, inp, _no_new_plans(), path="central", seed=0, params=params)
    u = pop.u_trans[:, 1]
    to_special, to_ap = int((u < 0.25).sum()), int(((u >= 0.25) & (u < 0.30)).sum())
    y1 = res.runs[0].pupils.query("year == '2026/27'")["setting_id"].value_counts()
    assert y1.get("SP", 0) + y1.get("IND", 0) == to_special
    assert y1.get("AP", 0) == to_ap
    assert y1["SEC"] == 100 - to_special - to_ap
    assert 10 <= to_special <= 40  # 25 expected; the draws are seeded, so this is exact per seed
    # no transfer, no move: Y3 pupils stay in their primary school whatever the rates
    young, _, _ = _kinds_case(n=20, nc=2)
    res = simulate_flows(
        young, settings, journeys, _no_new_plans(), scenarios=[], params=params,
        df_transitions=_rates([("mainstream", "specialist", 3, 1.0)]),
    )  # fmt: skip
    assert (res.runs[0].pupils["setting_id"] == "PRI").all()
    # with kind_moves = "any_year" the same rate moves settled pupils too (counted as breakdowns)
    res = simulate_flows(
        young, settings, journeys, _no_new_plans(), scenarios=[],
        params=FlowParams(horizon_year=2026, kind_moves="any_year"),
        df_transitions=_rates([("mainstream", "specialist", 3, 1.0)]),
    )  # fmt: skip
    assert set(res.runs[0].pupils.query("year == '2026/27'")["setting_id"]) == {"SP", "IND"}
    assert _value(flow_table(res), "baseline", "breakdowns")[1] == 20


def test_maintained_special_never_over_its_places_unless_already_over():
    cohort, settings, journeys = _kinds_case(n=60)
    over = _cohort([(f"s{i}", 3, "ASD", "SP", "o1") for i in range(12)])  # 12 on roll, 10 places
    cohort = pd.concat([cohort, over], ignore_index=True)
    settings.loc[settings["setting_id"] == "SP", "nc_year_max"] = 11
    new = constant_new_plans(cohort, rate=0.5)
    mix = pd.DataFrame({"nc_year": range(0, 12), "kind": "specialist", "share": 1.0})
    rates = _rates([("mainstream", "specialist", 7, 0.5)])
    for kind_moves in ("transfer", "any_year"):
        res = simulate_flows(
            cohort, settings, journeys, new, scenarios=[],
            params=FlowParams(kind_moves=kind_moves, breakdown_rate=0.1, seeds=(0, 1)),
            df_new_plan_mix=mix, df_transitions=rates,
        )  # fmt: skip
        for run in res.runs:
            occ = run.pupils.query("setting_id == 'SP'").groupby("year").size()
            assert occ.iloc[0] == 12  # kept: already over at the baseline
            assert (occ <= 12).all()
            # once under its places it never goes back over them
            first_under = next((y for y, k in occ.items() if k <= 10), None)
            assert first_under is not None
            assert (occ[occ.index >= first_under] <= 10).all()
            assert run.pupils.query("setting_id == 'IND'").shape[0] > 0  # the overflow


def test_new_plans_follow_the_given_mix_by_age():
    cohort, settings, journeys = _kinds_case(n=10, nc=8)
    shares = {"mainstream": 0.6, "specialist": 0.1, "independent": 0.2, "ap": 0.1}
    mix = pd.DataFrame({"nc_year": 8, "kind": list(shares), "share": list(shares.values())})
    mix = pd.concat([mix, pd.DataFrame({"nc_year": [9], "kind": ["ap"], "share": [1.0]})])
    settings.loc[settings["setting_id"] == "SP", "places"] = NAN  # no capacity: only the mix
    new = pd.DataFrame(
        {"year": 2026, "nc_year": 8, "need": "ASD", "central": 5000.0, "lower": 5000.0,
         "upper": 5000.0}, index=[0],
    )  # fmt: skip
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=[], df_new_plan_mix=mix,
        params=FlowParams(horizon_year=2026),
    )  # fmt: skip
    pp = res.runs[0].pupils
    placed = pp[(pp["year"] == "2026/27") & pp["pupil_ref"].str.startswith("new")]
    got = placed["setting_id"].value_counts(normalize=True)
    kind_of = {"SEC": "mainstream", "SP": "specialist", "IND": "independent", "AP": "ap"}
    got = got.rename(index=kind_of)
    assert len(placed) == 5000
    for kind, share in shares.items():  # 3 standard errors at n = 5000 is under 0.018
        assert got[kind] == pytest.approx(share, abs=0.018)
    # kinds are drawn among those offered at the NC year; none offered: the donors' (mainstream)
    mix_other = pd.DataFrame({"nc_year": [8], "kind": ["other"], "share": [1.0]})
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=[], df_new_plan_mix=mix_other,
        params=FlowParams(horizon_year=2026),
    )  # fmt: skip
    pp = res.runs[0].pupils
    assert set(pp.loc[pp["pupil_ref"].str.startswith("new"), "setting_id"]) == {"SEC"}


def test_zero_new_places_zero_change_with_mix_and_transitions():
    cohort, settings, journeys = _random_case(n=200, seed=4)
    new = constant_new_plans(cohort, rate=0.15)
    mix = pd.DataFrame(
        [(nc, k, s) for nc in range(15) for k, s in
         (("mainstream", 0.5), ("specialist", 0.3), ("independent", 0.15), ("ap", 0.05))],
        columns=["nc_year", "kind", "share"],
    )  # fmt: skip
    rates = _rates(
        [(g, h, nc, 0.1) for nc in range(15) for g in ("mainstream", "specialist", "ap")
         for h in ("specialist", "independent") if g != h]
    )  # fmt: skip
    scen = [FlowScenario("zero", (Proposal("NEW", 0, 2026, cost_per_place_gbp=1.0),))]
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=scen, df_new_plan_mix=mix,
        df_transitions=rates, params=FlowParams(kind_moves="any_year", breakdown_rate=0.05),
    )  # fmt: skip
    t = flow_table(res)
    change = t[t["scenario"] == "zero - baseline"]
    assert (change[["central", "lower", "upper"]].fillna(0.0) == 0.0).all().all()
    assert _value(t, "baseline", "breakdowns")[1] > 0


def test_transport_cost_counts_only_eligible_pupils():
    settings = _settings([("MS", "mainstream_academy", True, "", 0, 14, NAN, 7_000.0)])
    cohort = _cohort(
        [
            ("near", 5, "ASD", "MS", "near"),  # 8 to 16, 2 miles: within 3 miles
            ("far", 5, "ASD", "MS", "far"),  # 8 to 16, 5 miles: eligible
            ("young", 1, "ASD", "MS", "near"),  # under 8, 2.5 miles: beyond 2 miles
            ("post16", 12, "ASD", "MS", "far"),  # post-16: no statutory entitlement
            ("helped", 5, "ASD", "MS", "near2"),  # assisted already (need), 1 mile
        ]
    ).assign(transport_assisted=[False, False, False, False, True])
    miles = {"near": 2.0, "far": 5.0, "near2": 1.0}
    journeys = pd.DataFrame(
        [(o, "MS", 10.0, m * 1.609344) for o, m in miles.items()],
        columns=["origin_id", "setting_id", "time_min", "distance_km"],
    )
    cohort.loc[cohort["pupil_ref"] == "young", "origin_id"] = "young"
    journeys = pd.concat(
        [journeys, pd.DataFrame([("young", "MS", 10.0, 2.5 * 1.609344)], columns=journeys.columns)]
    )
    per_mile = 2.5 * 2 * 190

    def cost(**kw: float) -> float:
        res = simulate_flows(
            cohort, settings, journeys, _no_new_plans(), scenarios=[],
            params=FlowParams(horizon_year=2025, **kw),
        )  # fmt: skip
        return _value(flow_table(res), "baseline", "transport_cost_gbp")[0]

    assert cost() == pytest.approx((5.0 + 2.5 + 1.0) * per_mile)
    assert cost(post16_walking_distance_miles=3.0) == pytest.approx((5 + 2.5 + 1 + 5) * per_mile)
    assert cost(walking_distance_8plus_miles=1.5) == pytest.approx((2 + 5 + 2.5 + 1) * per_mile)


def test_flow_cohort_spreads_the_open_top_nc_year_to_the_leaving_age():
    from types import SimpleNamespace

    from placeplan.compute.flow_inputs import flow_cohort

    pupils = pd.DataFrame(
        {
            "pupil_ref": [f"p{i}" for i in range(100)],
            "nc_year": [13] * 10 + [14] * 90,
            "need_type": "ASD",
            "current_setting_id": "S",
            "origin_id": "o1",
        }
    )
    inputs = SimpleNamespace(pupils=pupils)
    c = flow_cohort(inputs, leaving_nc_year=16, top_weights=(3.0, 2.0, 1.0))  # type: ignore[arg-type]
    assert c["nc_year"].value_counts().sort_index().to_dict() == {13: 10, 14: 45, 15: 30, 16: 15}
    again = flow_cohort(inputs, leaving_nc_year=16, top_weights=(3.0, 2.0, 1.0))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(c, again)  # no randomness
    assert not c["transport_assisted"].any()  # absent column: not assisted
    same = flow_cohort(inputs, leaving_nc_year=14)  # type: ignore[arg-type]
    assert same["nc_year"].tolist() == pupils["nc_year"].tolist()


def test_a_college_place_is_a_kind_of_its_own():
    """A school sixth form nearer home never stands in for a college place, nor the reverse.

    Two Y11 pupils at a mainstream school and two first-year college students (NC 12), with no
    transition rates: at the transfer into NC 12 the school pupils keep their kind and take the
    sixth form (15 min) although the college is nearer (10 min); the college students stay in
    FE as they go up a year, though the sixth form serves NC 13 too.
    """
    settings = _settings(
        [
            ("SCH", "mainstream_academy", True, "", 7, 11, NAN, 7_000.0),
            ("SIX", "mainstream_academy", True, "", 12, 13, NAN, 7_000.0),
            ("COL", "general_fe_tertiary_colleges", True, "", 12, 15, NAN, 9_000.0),
        ]
    )
    cohort = _cohort(
        [(f"y11_{i}", 11, "SLCN", "SCH", "o1") for i in range(2)]
        + [(f"fe_{i}", 12, "SLCN", "COL", "o1") for i in range(2)]
    )
    journeys = _journeys({("o1", "SCH"): 5.0, ("o1", "SIX"): 15.0, ("o1", "COL"): 10.0})
    res = simulate_flows(cohort, settings, journeys, _no_new_plans(), scenarios=[])
    run = next(r for r in res.runs if r.scenario == "baseline" and r.path == "central")
    nxt = run.pupils[run.pupils["year"] == "2026/27"].set_index("pupil_ref")["setting_id"]
    assert nxt[["y11_0", "y11_1"]].tolist() == ["SIX", "SIX"]
    assert nxt[["fe_0", "fe_1"]].tolist() == ["COL", "COL"]
    assert placement_group("general_fe_tertiary_colleges") != placement_group("mainstream_academy")


def test_in_area_independent_schools_keep_their_capacity_the_market_out_of_area_does_not():
    """flow_settings: an island independent school holds its places; the mainland market is open."""
    from types import SimpleNamespace

    from placeplan.compute.flow_inputs import flow_settings

    provision = pd.DataFrame(
        {
            "setting_id": ["NM-IN", "IND-IN", "IND-OOA", "SP-IN", "MS-IN"],
            "provision_type": [
                "non_maintained",
                "independent",
                "independent",
                "special",
                "mainstream",
            ],
            "phases": ["primary;secondary"] * 5,
            "needs": ["", "SEMH", "", "", ""],
            "capacity": [80, 20, 40, 100, 900],
            "in_area": [True, True, False, True, True],
            "annual_cost_per_place_gbp": [45_000.0, 50_000.0, 60_000.0, 25_000.0, 7_000.0],
        }
    )
    # 25 pupils already at the 20-place independent school: it keeps them all
    pupils = pd.DataFrame({"current_setting_id": ["IND-IN"] * 25 + ["NM-IN"] * 3})
    plan = SimpleNamespace(
        flows=SimpleNamespace(leaving_nc_year=15),
        costs=SimpleNamespace(placement_per_place_gbp={}),
    )
    got = flow_settings(SimpleNamespace(provision=provision, pupils=pupils), plan)  # type: ignore[arg-type]
    places = dict(zip(got["setting_id"], got["places"], strict=True))
    assert places["NM-IN"] == 80
    assert places["IND-IN"] == 25
    assert places["SP-IN"] == 100
    assert np.isnan(places["IND-OOA"]) and np.isnan(places["MS-IN"])


def test_a_kind_no_setting_offers_at_the_next_age_takes_that_age_s_mix():
    """AP pupils at 15 have no AP place at 16: they take the published mix at 16, not limbo.

    Ten Y11 pupils in AP (which serves NC 7-11). The mix at NC 12 is all college: every one is at
    the college in 2026/27. Without a mix the kind is kept, and they are unplaced (the old
    behaviour, kept so a plan without a release is unchanged).
    """
    settings = _settings(
        [
            ("AP", "ap_pru_la_maintained", True, "", 7, 11, 20, 20_000.0),
            ("COL", "general_fe_tertiary_colleges", True, "", 12, 15, NAN, 9_000.0),
            ("SCH", "mainstream_academy", True, "", 7, 13, NAN, 7_000.0),
        ]
    )
    cohort = _cohort([(f"ap{i}", 11, "SEMH", "AP", "o1") for i in range(10)])
    journeys = _journeys({("o1", "AP"): 10.0, ("o1", "COL"): 20.0, ("o1", "SCH"): 5.0})
    mix = pd.DataFrame({"nc_year": [12, 12], "kind": ["fe", "ap"], "share": [1.0, 0.0]})
    res = simulate_flows(cohort, settings, journeys, _no_new_plans(), scenarios=[],
                         df_new_plan_mix=mix)  # fmt: skip
    pp = res.runs[0].pupils
    nxt = pp[pp["year"] == "2026/27"]
    assert (nxt["setting_id"] == "COL").sum() == 10 and (nxt["status"] == "placed").all()
    res = simulate_flows(cohort, settings, journeys, _no_new_plans(), scenarios=[])
    pp = res.runs[0].pupils
    assert (pp.loc[pp["year"] == "2026/27", "status"] == "unplaced").sum() == 10
