"""Travel mitigations year by year on the flow model's pupils (issue 11 item 4).

A hand-built flow result whose per-year rule counts and £ are known exactly, the invariants
(each pupil-year matched at most once, a zero-change scenario equal to the baseline, the
over-maximum rule's pupils equal to the flow measure) and disclosure control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows import (
    FlowParams,
    FlowResult,
    FlowRun,
    FlowScenario,
    Proposal,
    constant_new_plans,
    flow_table,
    simulate_flows,
)
from placeplan.compute.mitigation import MitigationRule
from placeplan.compute.mitigation_years import (
    ALL_RULES,
    flow_rule_inputs,
    mitigations_by_year,
    pupil_year_rules,
)
from placeplan.publish.mitigations import published_mitigations_by_year
from test_proposals import _flow_case

RULES = (
    MitigationRule("stay", "stay_in_current_placement", 0.0, worse_off_min_gt=15.0, moved=True),
    MitigationRule("train", "travel_training", 1500.0, worse_off_min_gt=5.0, phases=("secondary",)),
    MitigationRule("route", "route_change", 500.0, worse_off_min_gt=5.0),
    MitigationRule("escort", "escort", 4000.0, over_reasonable_max=True, ferry=True),
    MitigationRule("ptb", "personal_travel_budget", 2500.0, over_reasonable_max=True, ferry=False),
)
PARAMS = FlowParams(base_year=2025, horizon_year=2026, seeds=(0,))
Y0, Y1 = "2025/26", "2026/27"
_STATS = ("", "_lower", "_upper")
_COLS = ["pupil_ref", "year", "status", "setting_id", "time_min", "need", "nc_year", "ferry"]


def _pupils(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_COLS)


# baseline: p1 (primary) over 45 min by road, p2 (secondary) over 75 min by ferry, p3 within;
# p4 is a new plan in 2026/27 with no free place
BASE = _pupils(
    [
        ("p1", Y0, "placed", "S1", 50.0, "ASD", 3, False),
        ("p2", Y0, "placed", "S2", 80.0, "SEMH", 8, True),
        ("p3", Y0, "placed", "S2", 20.0, "ASD", 8, False),
        ("p1", Y1, "placed", "S1", 50.0, "ASD", 4, False),
        ("p2", Y1, "placed", "S2", 80.0, "SEMH", 9, True),
        ("p3", Y1, "placed", "S2", 20.0, "ASD", 9, False),
        ("p4", Y1, "unplaced", None, np.nan, "ASD", 0, False),
    ]
)
# the scenario opens B1 in 2026/27: p1 moves there (+20 min), p3 too (+8 min, secondary), p4 is
# placed there (no baseline journey to compare); 2025/26 is the baseline's
SCEN = _pupils(
    [
        *BASE.iloc[:3].itertuples(index=False),
        ("p1", Y1, "placed", "B1", 70.0, "ASD", 4, False),
        ("p2", Y1, "placed", "S2", 80.0, "SEMH", 9, True),
        ("p3", Y1, "placed", "B1", 28.0, "ASD", 9, False),
        ("p4", Y1, "placed", "B1", 10.0, "ASD", 0, False),
    ]
)
# the upper path has one more baseline pupil over the maximum by road (p5), in both runs
P5 = _pupils(
    [
        ("p5", Y0, "placed", "S1", 60.0, "ASD", 2, False),
        ("p5", Y1, "placed", "S1", 60.0, "ASD", 3, False),
    ]
)


def _result(base: pd.DataFrame = BASE, scen: pd.DataFrame = SCEN) -> FlowResult:
    empty = pd.DataFrame(columns=["year", "measure", "value"])

    def run(name: str, path: str, pupils: pd.DataFrame) -> FlowRun:
        return FlowRun(name, path, 0, empty, pupils, pd.DataFrame())

    runs = (
        run("baseline", "central", base),
        run("S", "central", scen),
        run("baseline", "upper", pd.concat([base, P5], ignore_index=True)),
        run("S", "upper", pd.concat([scen, P5], ignore_index=True)),
    )
    return FlowResult(runs=runs, params=PARAMS, scenarios=("S",))


def _pick(t: pd.DataFrame, run: str, year: str, col: str = "pupils", **keys: str) -> dict:
    sel = t["run"].eq(run) & t["year"].eq(year)
    for k, v in keys.items():
        sel &= t[k].eq(v)
    return dict(zip(t.loc[sel, "rule"], t.loc[sel, col], strict=True))


def test_hand_counted_rules_and_costs_per_year():
    t = mitigations_by_year(_result(), RULES)
    prog = t[t["proposal"].eq("programme")]
    zeros = dict.fromkeys(("stay", "train", "route"), 0.0)
    # 2025/26: nothing is open; the baseline is its own comparison (no journey is longer)
    assert _pick(prog, "baseline", Y0) == {**zeros, "escort": 1.0, "ptb": 1.0, ALL_RULES: 2.0}
    assert _pick(prog, "scenario", Y0) == _pick(prog, "baseline", Y0)
    # 2026/27: p1 moved and 20 min longer -> stay (before ptb: first match wins); p3 8 min
    # longer, secondary -> training; p4 has no baseline journey -> nothing
    assert _pick(prog, "scenario", Y1) == {
        "stay": 1.0, "train": 1.0, "route": 0.0, "escort": 1.0, "ptb": 0.0, ALL_RULES: 3.0
    }  # fmt: skip
    assert _pick(prog, "scenario", Y1, "annual_cost_gbp")[ALL_RULES] == 0 + 1500 + 4000
    assert _pick(prog, "baseline", Y1, "annual_cost_gbp")[ALL_RULES] == 4000 + 2500
    assert _pick(prog, "change", Y1, "annual_cost_gbp")[ALL_RULES] == -1000.0
    assert _pick(prog, "change", Y1) == {
        "stay": 1.0, "train": 1.0, "route": 0.0, "escort": 0.0, "ptb": -1.0, ALL_RULES: 1.0
    }  # fmt: skip
    # the range: the upper path adds p5 (ptb) to both runs; central is the central path
    assert _pick(prog, "baseline", Y0, "pupils_lower")["ptb"] == 1.0
    assert _pick(prog, "baseline", Y0, "pupils_upper")["ptb"] == 2.0
    assert _pick(prog, "baseline", Y1, "annual_cost_gbp_upper")[ALL_RULES] == 4000 + 2 * 2500
    # the change is paired within each path: the same in both paths here
    assert _pick(prog, "change", Y1, "pupils_upper")[ALL_RULES] == 1.0


def test_a_proposals_mitigations_are_its_own_change_savings_included():
    """A proposal's rows are levels and their difference (alone: its run less the baseline;
    contribution: the programme less the programme without it), over every pupil: p1's
    personal travel budget in the baseline goes when B1 gives p1 a longer journey (stay), a
    saving the old count of the moved pupils' rules (+2 pupils, +£1,500) left out."""
    prop = Proposal("B1", 10, 2026, cost_per_place_gbp=1.0)
    programmes = [FlowScenario("S", (prop,))]
    alias = {"S | alone B1": "S", "S | without B1": "baseline"}
    t = mitigations_by_year(_result(), RULES, programmes=programmes, alias=alias)
    prog = t[t["proposal"].eq("programme")]
    for basis, before in (("alone", "baseline"), ("contribution", "without")):
        own = t[t["proposal"].eq("B1") & t["basis"].eq(basis)]
        assert set(own["run"]) == {before, "scenario", "change"}
        assert _pick(own, "change", Y1) == {
            "stay": 1.0, "train": 1.0, "route": 0.0, "escort": 0.0, "ptb": -1.0, ALL_RULES: 1.0
        }  # fmt: skip
        assert _pick(own, "change", Y1, "annual_cost_gbp")[ALL_RULES] == 1500.0 - 2500.0
        # the only proposal: alone and its contribution are the programme's change
        for run in ("scenario", "change"):
            for y in (Y0, Y1):
                assert _pick(own, run, y) == _pick(prog, run, y)
        assert _pick(own, before, Y1) == _pick(prog, "baseline", Y1)


def test_each_pupil_year_is_matched_at_most_once_and_unplaced_pupils_never():
    keys = pupil_year_rules(SCEN, BASE, RULES, PARAMS)
    assert not keys.duplicated(["pupil_ref", "year"]).any()
    base_keys = pupil_year_rules(BASE, None, RULES, PARAMS)
    assert "p4" not in set(base_keys["pupil_ref"])  # unplaced: no journey, nothing offered
    rows = flow_rule_inputs(SCEN, BASE, PARAMS).set_index(["pupil_ref", "year"])
    assert np.isnan(rows.loc[("p4", Y1), "change_time_min"])
    assert rows.loc[("p4", Y1), "moved"]
    assert rows.loc[("p3", Y1), "change_time_min"] == 8.0
    assert rows.loc[("p3", Y1), "phase"] == "secondary"


def test_a_flow_run_without_ferry_is_refused_with_the_fix():
    with pytest.raises(SchemaValidationError, match=r"FlowRun\.pupils"):
        flow_rule_inputs(BASE.drop(columns="ferry"), None, PARAMS)


def _engine_result(*, proposals: tuple[Proposal, ...]) -> FlowResult:
    """The simulate_flows docstring's case: ten Year 5 pupils out of area, 70 min away (the
    proposals tests' case, with OOA2 reached by ferry and no bases beyond B1)."""
    cohort, settings, journeys, _ = _flow_case()
    journeys = journeys[journeys["setting_id"].isin(["OOA1", "OOA2", "B1"])].assign(
        ferry=lambda d: d["setting_id"].eq("OOA2")
    )
    return simulate_flows(
        cohort,
        settings,
        journeys,
        constant_new_plans(cohort, rate=0.0),
        scenarios=[FlowScenario("S", proposals)],
        params=FlowParams(horizon_year=2028, seeds=(0, 1)),
    )


def test_zero_change_scenario_equals_the_baseline():
    t = mitigations_by_year(_engine_result(proposals=()), RULES)
    base = t[t["run"].eq("baseline")].drop(columns="run").reset_index(drop=True)
    scen = t[t["run"].eq("scenario")].drop(columns="run").reset_index(drop=True)
    pd.testing.assert_frame_equal(base, scen)
    stats = [c for c in t.columns if c.startswith(("pupils", "annual_cost_gbp"))]
    assert (t.loc[t["run"].eq("change"), stats] == 0).all().all()
    # the engine's pupils are costed: 2025/26 ten pupils over 45 min by road; from 2027/28
    # (Year 7, OOA2 by ferry, 80 min > 75) ten escorts
    tot = t[t["run"].eq("baseline") & t["rule"].eq(ALL_RULES)].set_index("year")
    assert tot.loc["2025/26", "annual_cost_gbp"] == 10 * 2500
    assert tot.loc["2027/28", "annual_cost_gbp"] == 10 * 4000


def test_over_maximum_rule_counts_what_the_flow_table_counts():
    base = Proposal(
        "B1", 4, 2027, needs=("ASD",), nc_year_min=7, nc_year_max=11, cost_per_place_gbp=2.5e4
    )
    res = _engine_result(proposals=(base,))
    only = (MitigationRule("over", "other", 1.0, over_reasonable_max=True),)
    t = mitigations_by_year(res, only)
    ft = flow_table(res)
    for run, scenario in (("baseline", "baseline"), ("scenario", "S")):
        mine = t[t["run"].eq(run) & t["rule"].eq("over")].set_index("year")
        theirs = ft[ft["scenario"].eq(scenario) & ft["measure"].eq("over_max_journey")]
        theirs = theirs.set_index("year")
        for c, d in (("pupils", "central"), ("pupils_lower", "lower"), ("pupils_upper", "upper")):
            assert mine[c].to_dict() == theirs[d].to_dict()
    # the base takes 4 of the 10 from 2027/28: 6 left over the maximum, 6 escorts at £1
    assert mine.loc["2027/28", "pupils"] == 6.0


# disclosure control of these tables: tests/test_mit_years_disclosure.py


def test_report_states_the_cost_per_year_with_its_range_and_the_snapshot_is_today():
    from placeplan.publish.report.render import fmt_cell
    from placeplan.publish.report.sections.mitigations import _year_blocks

    pub = published_mitigations_by_year(
        mitigations_by_year(_result(), RULES), threshold=1, round_to=0, mode="published"
    )
    blocks = _year_blocks(pub[pub["proposal"].eq("programme")], "S", threshold=1)
    text = " ".join(" ".join(b.text.split()) for b in blocks if hasattr(b, "text"))
    # 2025/26: £6,500 -> £7,000; 2026/27: £5,500 -> £6,000 (upper path + £2,500 for p5)
    assert "With S, mitigations cost £7,000 in 2025/26 and £6,000 (range £6,000–£8,000)" in text
    assert "against £7,000 (£7,000–£9,000) in the baseline that year" in text
    assert "today's cohort only" in text
    table, by_rule = blocks[-2:]
    assert table.header == ("", "", Y0, Y1)
    rows = {(r[0].value, r[1].value): [fmt_cell(c) for c in r[2:]] for r in table.rows}
    assert rows[("£ a year", "Baseline")] == ["£7,000 (£7,000–£9,000)", "£7,000 (£7,000–£9,000)"]
    assert [fmt_cell(c) for c in table.rows[2][2:]] == ["±£0", "−£1,000"]  # £ change
    assert [fmt_cell(c) for c in table.rows[5][2:]] == ["±0", "+1"]  # pupils change
    # each rule in a table of its own, its name the row header (not squeezed beside the runs)
    assert by_rule.id == "t-mitigations-years-rules" and by_rule.header == ("Rule", Y0, Y1)
    assert [fmt_cell(c) for c in by_rule.rows[0]] == ["stay", "0", "1"]
