"""Who is unplaced in the flow model, and why (exact answers on small cases)."""

from __future__ import annotations

import pandas as pd

from placeplan.compute.flows import FlowParams, flow_table, simulate_flows

NAN = float("nan")
SETTINGS = pd.DataFrame(
    [
        ("MS", "mainstream_la_maintained", True, "", 0, 11, NAN, 7_000.0),
        ("FE", "general_fe_tertiary_colleges", True, "", 12, 15, NAN, 9_000.0),
    ],
    columns=["setting_id", "sen2_type", "in_area", "needs", "nc_year_min", "nc_year_max",
             "places", "cost_per_place_gbp"],
)  # fmt: skip
JOURNEYS = pd.DataFrame(
    [("o1", "MS", 10.0, 8.0), ("o1", "FE", 20.0, 16.0)],
    columns=["origin_id", "setting_id", "time_min", "distance_km"],
)
COHORT = pd.DataFrame(
    [("p1", 13, "ASD", "FE", "o1"), ("p2", 5, "ASD", "MS", "o1")],
    columns=["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
)


def _values(t: pd.DataFrame, measure: str) -> list[float]:
    sub = t[(t["scenario"] == "baseline") & (t["measure"] == measure)]
    return sub.sort_values("year")["central"].tolist()


def test_new_plans_above_the_leaving_nc_year_never_join_the_cohort():
    # 3 plans a year at NC 16 (age 20) with plans ending at NC 15: they would end at once, so
    # they are not pupils of the model (before, they sat one year "unplaced" and left)
    new = pd.DataFrame(
        [(y, nc, "ASD", k, k, k) for y in (2026, 2027) for nc, k in ((16, 3.0), (12, 2.0))],
        columns=["year", "nc_year", "need", "central", "lower", "upper"],
    )
    params = FlowParams(horizon_year=2027, leaving_nc_year=15)
    t = flow_table(simulate_flows(COHORT, SETTINGS, JOURNEYS, new, scenarios=[], params=params))
    assert _values(t, "new_plans") == [0.0, 2.0, 2.0]
    assert _values(t, "unplaced") == [0.0, 0.0, 0.0]
    assert _values(t, "cohort") == [2.0, 4.0, 6.0]
    assert _values(t, "placed") == [2.0, 4.0, 6.0]


def test_a_pupil_below_school_age_is_unplaced_until_a_setting_serves_their_age():
    # a new plan at NC -2 (age 2): no setting serves it; counted in the cohort as unplaced,
    # then placed when their age is served (NC 0 here, two years on)
    new = pd.DataFrame(
        [(2026, -2, "ASD", 1.0, 1.0, 1.0)],
        columns=["year", "nc_year", "need", "central", "lower", "upper"],
    )
    params = FlowParams(horizon_year=2029, leaving_nc_year=15)
    t = flow_table(simulate_flows(COHORT, SETTINGS, JOURNEYS, new, scenarios=[], params=params))
    assert _values(t, "unplaced") == [0.0, 1.0, 1.0, 0.0, 0.0]
    assert _values(t, "cohort") == [2.0, 3.0, 3.0, 2.0, 2.0]  # p1 leaves after NC 15


def test_a_breakdown_with_no_other_place_returns_to_its_setting_not_unplaced():
    # every placement breaks down every year; the only college is FE (no limit), the only
    # school MS: with no other place of their kind the pupils go back, they are never unplaced
    cohort = pd.DataFrame(
        [(f"f{i}", 12, "ASD", "FE", "o1") for i in range(5)]
        + [(f"m{i}", 3, "ASD", "MS", "o1") for i in range(5)],
        columns=["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
    )
    new = pd.DataFrame(columns=["year", "nc_year", "need", "central", "lower", "upper"])
    params = FlowParams(horizon_year=2028, leaving_nc_year=15, breakdown_rate=1.0)
    t = flow_table(simulate_flows(cohort, SETTINGS, JOURNEYS, new, scenarios=[], params=params))
    assert _values(t, "breakdowns") == [0.0, 10.0, 10.0, 10.0]
    assert _values(t, "unplaced") == [0.0, 0.0, 0.0, 0.0]
    assert _values(t, "placed") == [10.0, 10.0, 10.0, 10.0]


def test_a_breakdown_still_moves_the_pupil_when_another_place_is_free():
    settings = pd.concat([SETTINGS, SETTINGS.iloc[[0]].assign(setting_id="MS2")], ignore_index=True)
    journeys = pd.concat(
        [JOURNEYS, pd.DataFrame([("o1", "MS2", 30.0, 24.0)], columns=JOURNEYS.columns)],
        ignore_index=True,
    )
    cohort = pd.DataFrame(
        [("m1", 3, "ASD", "MS", "o1")],
        columns=["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
    )
    new = pd.DataFrame(columns=["year", "nc_year", "need", "central", "lower", "upper"])
    params = FlowParams(horizon_year=2027, breakdown_rate=1.0)
    res = simulate_flows(cohort, settings, journeys, new, scenarios=[], params=params)
    assert res.runs[0].pupils["setting_id"].tolist() == ["MS", "MS2", "MS"]


def test_an_independent_first_placement_with_none_free_takes_a_state_special_place():
    # the mix sends every new Year 3 plan to an independent school; the area's only one for
    # that age is full: the plans take the state special place (the policy's next best) the
    # same year instead of waiting a year unplaced
    settings = pd.DataFrame(
        [
            ("IND", "special_independent", True, "", 0, 6, 1, 50_000.0),
            ("SP", "special_la_maintained", True, "", 0, 6, 10, 25_000.0),
            ("MS", "mainstream_la_maintained", True, "", 0, 11, NAN, 7_000.0),
        ],
        columns=SETTINGS.columns,
    )
    journeys = pd.DataFrame(
        [("o1", s, t, t * 0.8) for s, t in (("IND", 5.0), ("SP", 20.0), ("MS", 3.0))],
        columns=JOURNEYS.columns,
    )
    cohort = pd.DataFrame(
        [("x", 3, "ASD", "IND", "o1")],
        columns=["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
    )
    new = pd.DataFrame(
        [(2026, 3, "ASD", 3.0, 3.0, 3.0)],
        columns=["year", "nc_year", "need", "central", "lower", "upper"],
    )
    mix = pd.DataFrame({"nc_year": [3], "kind": ["independent"], "share": [1.0]})
    params = FlowParams(horizon_year=2026, seeds=(0,))
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=[], params=params, df_new_plan_mix=mix
    )
    pp = res.runs[0].pupils
    newp = pp[pp["pupil_ref"].str.startswith("new")]
    assert newp["status"].tolist() == ["placed"] * 3
    assert set(newp["setting_id"]) == {"SP"}  # never MS: a specialist plan, not mainstream
