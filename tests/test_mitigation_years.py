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
from placeplan.publish.mitigations import mitigations_by_year_csv, published_mitigations_by_year
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


def test_per_proposal_counts_only_the_pupils_it_moves():
    prop = Proposal("B1", 10, 2026, cost_per_place_gbp=1.0)
    programmes = [FlowScenario("S", (prop,))]
    alias = {"S | alone B1": "S", "S | without B1": "baseline"}
    t = mitigations_by_year(_result(), RULES, programmes=programmes, alias=alias)
    for basis in ("alone", "contribution"):
        own = t[t["proposal"].eq("B1") & t["basis"].eq(basis)]
        assert set(own["run"]) == {"scenario"}
        # p2 (escort) is not moved by B1: not the proposal's pupil
        assert _pick(own, "scenario", Y1) == {
            "stay": 1.0, "train": 1.0, "route": 0.0, "escort": 0.0, "ptb": 0.0, ALL_RULES: 2.0
        }  # fmt: skip
        assert _pick(own, "scenario", Y0)[ALL_RULES] == 0.0


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


def test_published_table_hides_small_counts_their_cost_and_a_second_rule():
    t = mitigations_by_year(_result(), RULES)
    pub = published_mitigations_by_year(t, threshold=2, round_to=0, mode="published")
    rows = pub.set_index(["run", "year", "rule"])
    # baseline 2025/26: escort 1 and ptb 1 (upper 2) are under 2 -> hidden with their £
    assert rows.loc[("baseline", Y0, "escort"), "suppressed"]
    assert np.isnan(rows.loc[("baseline", Y0, "escort"), "annual_cost_gbp"])
    assert np.isnan(rows.loc[("baseline", Y0, "ptb"), "pupils_upper"])
    # a scenario year is hidden with the baseline it equals, and a change with either run
    assert rows.loc[("scenario", Y0, "escort"), "suppressed"]
    assert rows.loc[("change", Y0, "escort"), "suppressed"]
    # no year's group is left with exactly one hidden row (rules + All rules)
    for (_, _), g in pub[pub["run"].ne("change")].groupby(["run", "year"]):
        assert g["suppressed"].sum() != 1
    # zeros are never hidden for being small
    assert not rows.loc[("baseline", Y0, "stay"), "suppressed"]
    csv = mitigations_by_year_csv(pub).set_index(["run", "year", "rule"])
    assert csv.loc[("baseline", Y0, "escort"), "annual_cost_gbp"] == "c"
    internal = published_mitigations_by_year(t, threshold=2, round_to=0, mode="internal")
    assert not internal["suppressed"].any()
    assert (
        internal.set_index(["run", "year", "rule"]).loc[("baseline", Y0, "escort"), "pupils"] == 1
    )


def test_published_change_is_published_scenario_less_published_baseline():
    big = {
        name: pd.concat(
            [df.assign(pupil_ref=df["pupil_ref"] + f"-{k}") for k in range(6)], ignore_index=True
        )
        for name, df in (("base", BASE), ("scen", SCEN))
    }
    t = mitigations_by_year(_result(big["base"], big["scen"]), RULES)
    pub = published_mitigations_by_year(t, threshold=5, round_to=0, mode="published")
    rows = pub.set_index(["run", "year", "rule"])
    # the upper path's scenario has 1 pupil on ptb: that row (and a second) are hidden
    assert rows.loc[("scenario", Y1, "ptb"), "suppressed"]
    assert rows.loc[("change", Y1, "ptb"), "suppressed"]
    assert not rows.loc[("change", Y1, ALL_RULES), "suppressed"]
    for rule in (r.name for r in (*RULES, MitigationRule(ALL_RULES, "other", 0.0))):
        b, s, c = (rows.loc[(r, Y1, rule)] for r in ("baseline", "scenario", "change"))
        if c["suppressed"]:
            continue
        assert c["pupils"] == s["pupils"] - b["pupils"]
        if not c["cost_suppressed"]:
            assert c["annual_cost_gbp"] == s["annual_cost_gbp"] - b["annual_cost_gbp"]
    # a rule is hidden in Y1's scenario: the total's pupils stay, its £ (6 x 5,500 = 33,000,
    # a second equation over the hidden rules at their different rates) is hidden, in the
    # change row too
    total = rows.loc[("scenario", Y1, ALL_RULES)]
    assert not total["suppressed"] and total["cost_suppressed"]
    assert pd.isna(total["annual_cost_gbp"]) and pd.isna(total["annual_cost_gbp_upper"])
    assert rows.loc[("change", Y1, ALL_RULES), "cost_suppressed"]
    assert t.set_index(["run", "year", "rule"]).loc[
        ("scenario", Y1, ALL_RULES), "annual_cost_gbp"
    ] == pytest.approx(6 * 5500)
    csv = mitigations_by_year_csv(pub).set_index(["run", "year", "rule"])
    assert csv.loc[("scenario", Y1, ALL_RULES), "annual_cost_gbp"] == "c"
    assert csv.loc[("scenario", Y1, ALL_RULES), "pupils"] != "c"


def _one_year(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """A published year table of one scenario-run year: rule -> (central, upper) pupils at
    different rates, the same in the baseline and the scenario, and their total."""
    rates = {"r1": 100.0, "r2": 200.0, "r3": 300.0}
    rows = []
    for run in ("baseline", "scenario", "change"):
        items = [(r, *values[r], rates[r]) for r in values]
        items.append(
            (ALL_RULES, sum(v[0] for v in values.values()),
             sum(v[1] for v in values.values()), float("nan"))
        )  # fmt: skip
        for rule, n, up, rate in items:
            n, up = (0.0, 0.0) if run == "change" else (n, up)
            rows.append(
                {"scenario": "S", "proposal": "programme", "basis": "programme", "run": run,
                 "year": Y1, "rule": rule, "what": "", "source": "plan",
                 "cost_gbp_per_pupil_year": rate, "pupils": n, "pupils_lower": 0.0,
                 "pupils_upper": up, "annual_cost_gbp": n * (rate if rate == rate else 0),
                 "annual_cost_gbp_lower": 0.0, "annual_cost_gbp_upper": 0.0}
            )  # fmt: skip
    pub = published_mitigations_by_year(
        pd.DataFrame(rows), threshold=5, round_to=0, mode="published"
    )
    return pub.set_index(["run", "rule"])


def test_hidden_rules_of_a_year_add_up_to_at_least_the_threshold():
    """Two hidden rules that add up to under the threshold would be bounded by the published
    total less the published rules: a third (the smallest published) is hidden with them."""
    out = _one_year({"r1": (0.4, 0.4), "r2": (0.3, 0.3), "r3": (9.0, 9.0)})
    for run in ("baseline", "scenario"):
        assert out.loc[(run, "r1"), "suppressed"] and out.loc[(run, "r2"), "suppressed"]
        assert out.loc[(run, "r3"), "suppressed"]  # 0.7 < 5: the third goes too
        assert not out.loc[(run, ALL_RULES), "suppressed"]  # 9.7: the total stays


def test_a_total_that_would_bound_its_hidden_rules_is_hidden():
    """Rules hidden for their ranges (upper 1-3) with means of 0, nothing else to hide: a
    published total of 0 would say each hidden mean is under half a pupil, so it goes too; a
    total is never the complement chosen while a rule is left."""
    out = _one_year({"r1": (0.0, 3.0), "r2": (0.0, 2.0), "r3": (0.0, 0.0)})
    for run in ("baseline", "scenario"):
        assert out.loc[(run, "r1"), "suppressed"] and out.loc[(run, "r2"), "suppressed"]
        assert out.loc[(run, ALL_RULES), "suppressed"]
    out = _one_year({"r1": (0.0, 3.0), "r2": (6.0, 6.0), "r3": (8.0, 8.0)})
    for run in ("baseline", "scenario"):
        assert out.loc[(run, "r1"), "suppressed"] and out.loc[(run, "r2"), "suppressed"]
        assert not out.loc[(run, "r3"), "suppressed"]
        assert not out.loc[(run, ALL_RULES), "suppressed"]


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
    table = blocks[-1]
    assert table.header == ("", "", Y0, Y1)
    rows = {(r[0].value, r[1].value): [fmt_cell(c) for c in r[2:]] for r in table.rows}
    assert rows[("£ a year", "Baseline")] == ["£7,000 (£7,000–£9,000)", "£7,000 (£7,000–£9,000)"]
    assert [fmt_cell(c) for c in table.rows[2][2:]] == ["±£0", "−£1,000"]  # £ change
    assert [fmt_cell(c) for c in table.rows[5][2:]] == ["±0", "+1"]  # pupils change
    assert rows[("Pupils by rule", "stay (S)")] == ["0", "1"]


def test_the_baseline_rows_are_hidden_alike_in_every_scenario():
    """S1's scenario hides rule B by secondary suppression; B equals the baseline there, so the
    baseline's B (and then A) are hidden in S1's rows: S2 repeats the baseline and must hide them
    too, or S2's copy gives them back."""
    from placeplan.compute.mitigation_years import YEAR_COLS

    def rows(scenario: str, run: str, a: float, b: float) -> list[dict]:
        return [
            dict.fromkeys(YEAR_COLS, "")
            | {"scenario": scenario, "proposal": "programme", "basis": "programme", "run": run,
               "year": Y0, "rule": rule, "cost_gbp_per_pupil_year": 1.0}
            | {f"{q}{s}": v for q in ("pupils", "annual_cost_gbp") for s in _STATS}
            for rule, v in (("A", a), ("B", b), (ALL_RULES, a + b))
        ]  # fmt: skip

    raw = pd.DataFrame(
        rows("S1", "baseline", 10, 6) + rows("S1", "scenario", 3, 6) + rows("S1", "change", -7, 0)
        + rows("S2", "baseline", 10, 6) + rows("S2", "scenario", 12, 8)
        + rows("S2", "change", 2, 2)
    )  # fmt: skip
    pub = published_mitigations_by_year(raw, threshold=5, round_to=0, mode="published")
    hid = pub.set_index(["scenario", "run", "rule"])["suppressed"]
    assert hid[("S1", "scenario", "A")] and hid[("S1", "scenario", "B")]
    assert hid[("S1", "baseline", "B")] and hid[("S1", "baseline", "A")]
    for rule in ("A", "B", ALL_RULES):
        assert hid[("S2", "baseline", rule)] == hid[("S1", "baseline", rule)]
