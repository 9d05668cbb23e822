"""Disclosure control of the year-by-year mitigations (``mitigations_by_year.csv``).

Each level (scenario, proposal, basis, run, year) publishes every rule and the total when every
rule covers 0 or at least the threshold; otherwise the total only, with every rule withheld, its
£ too unless the total pupils and £ together would solve a rule. Hand-made tables with known
answers, an invariant over random tables, and the intruder of ``test_intruder.py`` against them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.mitigation_years import ALL_RULES, YEAR_COLS
from placeplan.publish.mitigations import (
    WITHHELD_NOTE,
    mitigations_by_year_csv,
    published_mitigations_by_year,
    total_cost_pins_a_rule,
)
from test_intruder import Release, add_mitigation_year_relations, attack, read_mitigations_by_year

Y = "2027/28"
RATES = {"stay": 0.0, "route": 500.0, "ptb": 2500.0, "escort": 4000.0}
WHO = {"stay": "placed differently from the baseline; journey more than 15 min longer",
       "route": "journey more than 5 min longer", "ptb": "journey over the reasonable maximum",
       "escort": "journey over the reasonable maximum; journey crosses by ferry"}  # fmt: skip
_STATS = ("", "_lower", "_upper")


def _rows(run: str, counts: dict[str, float], *, proposal: str = "programme",
          basis: str = "programme", scenario: str = "S") -> list[dict]:  # fmt: skip
    """One level: each rule's pupils (the same in all three statistics) and the total."""
    n = {r: float(counts.get(r, 0.0)) for r in RATES}
    rows = [(r, v, RATES[r], v * RATES[r]) for r, v in n.items()]
    rows.append((ALL_RULES, sum(n.values()), float("nan"), sum(v * RATES[r] for r, v in n.items())))
    return [
        dict.fromkeys(YEAR_COLS, "")
        | {"scenario": scenario, "proposal": proposal, "basis": basis, "run": run, "year": Y,
           "rule": rule, "cost_gbp_per_pupil_year": rate}
        | {f"pupils{s}": v for s in _STATS} | {f"annual_cost_gbp{s}": g for s in _STATS}
        for rule, v, rate, g in rows
    ]  # fmt: skip


def _table(base: dict[str, float], scen: dict[str, float]) -> pd.DataFrame:
    change = {r: scen.get(r, 0.0) - base.get(r, 0.0) for r in RATES}
    return pd.DataFrame(_rows("baseline", base) + _rows("scenario", scen) + _rows("change", change))


def _publish(raw: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    pub = published_mitigations_by_year(raw, threshold=threshold, round_to=0, mode="published")
    return pub.set_index(["run", "rule"])


def test_every_rule_and_the_total_are_published_where_each_rule_is_0_or_at_least_5():
    """The reviewer's case: escorts fall from 15 to 12 with the programme; 6 route changes."""
    pub = _publish(_table({"escort": 15}, {"escort": 12, "route": 6}))
    assert not pub["suppressed"].any() and not pub["cost_suppressed"].any()
    assert not pub["withheld"].any()
    assert pub.loc[("change", "escort"), "annual_cost_gbp"] == -12_000
    assert pub.loc[("scenario", ALL_RULES), "annual_cost_gbp"] == 12 * 4000 + 6 * 500
    assert pub.loc[("change", ALL_RULES), "pupils"] == 3
    assert pub.loc[("change", ALL_RULES), "annual_cost_gbp"] == 51_000 - 60_000


def test_a_rule_under_5_withholds_that_years_rule_detail_and_the_total_is_published():
    pub = _publish(_table({"escort": 15}, {"escort": 12, "route": 6, "stay": 1}))
    rules = list(RATES)
    for rule in rules:  # every rule of the scenario's year, zeros too, and their change
        for run in ("scenario", "change"):
            row = pub.loc[(run, rule)]
            assert row["withheld"] and row["suppressed"] and np.isnan(row["pupils"])
            assert row["note"] == WITHHELD_NOTE.format(threshold=5)
        assert not pub.loc[("baseline", rule), "withheld"]  # the baseline's own detail stays
    total = pub.loc[("scenario", ALL_RULES)]
    assert not total["suppressed"] and not total["cost_suppressed"]
    assert (total["pupils"], total["annual_cost_gbp"]) == (19, 51_000)
    change = pub.loc[("change", ALL_RULES)]
    assert (change["pupils"], change["annual_cost_gbp"]) == (4, -9_000)
    csv = mitigations_by_year_csv(pub.reset_index()).set_index(["run", "rule"])
    assert csv.loc[("scenario", "stay"), "pupils"] == "c"
    assert csv.loc[("scenario", "escort"), "annual_cost_gbp"] == "c"
    assert csv.loc[("scenario", ALL_RULES), "annual_cost_gbp"] == 51_000
    assert "withheld" not in csv.columns and "note" in csv.columns


def test_a_total_pound_that_would_solve_two_rules_is_hidden_and_its_change_too():
    """In the baseline only the escort (£4,000) and the budget (£2,500) cover anyone: 18 pupils
    and £67,500 are two equations that give the 3 budgets back, so the £ is hidden."""
    assert total_cost_pins_a_rule([4000.0, 2500.0], 18.0, 68_000.0, threshold=5)
    pub = _publish(_table({"escort": 15, "ptb": 3}, {"escort": 15, "ptb": 3, "route": 7}))
    base = pub.loc[("baseline", ALL_RULES)]
    assert not base["suppressed"] and base["pupils"] == 18
    assert base["cost_suppressed"] and np.isnan(base["annual_cost_gbp_upper"])
    assert pub.loc[("change", ALL_RULES), "cost_suppressed"]
    assert pub.loc[("change", ALL_RULES), "pupils"] == 7


def test_a_total_under_5_hides_the_whole_level():
    pub = _publish(_table({"escort": 15}, {"escort": 3}))
    assert pub.loc[("scenario", ALL_RULES), "suppressed"]
    assert pub.loc[("scenario", "escort"), "withheld"]
    assert pub.loc[("change", ALL_RULES), "suppressed"]
    assert not pub.loc[("baseline", ALL_RULES), "suppressed"]


@pytest.mark.parametrize("seed", range(6))
def test_no_withheld_rule_stands_beside_a_published_rule_and_the_baseline_is_alike(seed):
    rng = np.random.default_rng(seed)
    base = {r: float(rng.choice([0, 0, 2, 6, 15])) for r in ("ptb", "escort")}
    frames = []
    for scen in ("S1", "S2"):
        counts = {r: float(rng.choice([0, 1, 3, 5, 9, 14])) for r in RATES}
        t = _table(base, counts).assign(scenario=scen)
        frames.append(t)
    pub = published_mitigations_by_year(
        pd.concat(frames, ignore_index=True), threshold=5, round_to=0, mode="published"
    )
    rules = pub[pub["rule"].ne(ALL_RULES)]
    for _, g in rules.groupby(["scenario", "run"]):
        assert g["withheld"].all() or not g["suppressed"].any()  # all or nothing
    base_rows = pub[pub["run"].eq("baseline")]
    flags = ["suppressed", "cost_suppressed", "withheld"]
    s1, s2 = (base_rows[base_rows["scenario"].eq(s)][flags].to_numpy() for s in ("S1", "S2"))
    assert (s1 == s2).all()


def _attack_on(raw: pd.DataFrame, published: pd.DataFrame, threshold: int) -> list:
    rel = Release(threshold=threshold)
    rel.who = dict(WHO)
    read_mitigations_by_year(rel, raw, 0.0, truth=True)
    read_mitigations_by_year(rel, mitigations_by_year_csv(published), 0.0)
    add_mitigation_year_relations(rel)
    return attack(rel)


@pytest.mark.parametrize(
    ("base", "scen"),
    [
        ({"escort": 15.5, "ptb": 2.5}, {"escort": 12, "route": 6, "stay": 1}),
        ({"escort": 15}, {"escort": 12, "route": 6, "stay": 1, "ptb": 2}),
        ({"escort": 9, "ptb": 1}, {"escort": 3, "route": 2}),
    ],
)
def test_the_intruder_recovers_no_rule_from_the_published_year_table(base, scen):
    raw = _table(base, scen)
    for threshold in (5, 10):
        pub = published_mitigations_by_year(raw, threshold=threshold, round_to=0, mode="published")
        assert pub["suppressed"].any()
        assert _attack_on(raw, pub, threshold) == []


def test_the_intruder_solves_two_rules_from_a_total_pound_published_beside_them():
    """The guard is needed: the same baseline with the total's £ published gives the budget's
    2.5 pupils back (1 to 4.3 with rounding: under a threshold of 10)."""
    raw = _table({"escort": 15.5, "ptb": 2.5}, {"escort": 15.5, "ptb": 2.5})
    pub = published_mitigations_by_year(raw, threshold=10, round_to=0, mode="published")
    tot = pub["rule"].eq(ALL_RULES)
    assert pub.loc[tot & pub["run"].eq("baseline"), "cost_suppressed"].all()
    assert _attack_on(raw, pub, 10) == []
    unsafe = pub.copy()
    for s in _STATS:  # what the total-only rule without the guard would publish
        unsafe.loc[tot, f"annual_cost_gbp{s}"] = (
            raw.loc[tot, f"annual_cost_gbp{s}"] / 1000
        ).round() * 1000
    unsafe.loc[tot, "cost_suppressed"] = False
    found = _attack_on(raw, unsafe, 10)
    assert any(k[6] == "ptb" and k[7] == "pupils" for k, *_ in found)


def test_the_report_marks_withheld_rules_and_publishes_the_years_total():
    from placeplan.publish.report.render import fmt_cell
    from placeplan.publish.report.sections.mitigations import _year_blocks

    raw = _table({"escort": 15}, {"escort": 12, "route": 6, "stay": 1})
    pub = published_mitigations_by_year(raw, threshold=5, round_to=0, mode="published")
    totals, by_rule = _year_blocks(pub, "S", threshold=5)[-2:]
    # £ a year: baseline, S, change; then pupils covered
    assert [fmt_cell(r[2]) for r in totals.rows[:3]] == ["£60,000", "£51,000", "−£9,000"]
    assert [fmt_cell(r[2]) for r in totals.rows[3:]] == ["15", "19", "+4"]
    assert {fmt_cell(r[1]) for r in by_rule.rows} == {"withheld"}
    assert f"Rule detail withheld: {Y}." in by_rule.note


def test_a_withheld_level_whose_total_would_show_0_hides_the_total():
    """Rules of central 0 whose ranges reach 3 are withheld; a published central total of 0
    would pin each of them under half a pupil (the intruder's 'revealed'), so it is hidden."""
    raw = _table({"escort": 15}, {"escort": 0.0})
    up = raw["run"].eq("scenario") & raw["rule"].isin(["escort", ALL_RULES])
    raw.loc[up, "pupils_upper"] = 6.0
    raw.loc[raw["run"].eq("scenario") & raw["rule"].eq("ptb"), "pupils_upper"] = 3.0
    pub = _publish(raw)
    assert pub.loc[("scenario", "escort"), "withheld"]
    assert pub.loc[("scenario", ALL_RULES), "suppressed"]
    assert pub.loc[("change", ALL_RULES), "suppressed"]
    assert _attack_on(raw, pub.reset_index(), 5) == []


def test_a_years_total_that_flows_csv_would_take_a_count_from_is_hidden():
    """2027/28 with the programme: 15 escorts (pupils over the maximum crossing by ferry) and 2
    route changes, so the rule detail is withheld and the total (17) shown. ``flows.csv``
    publishes that run's 15 pupils over the maximum in that year: 17 - 15 would give the 2
    back, so the register hides the total (and the change that uses it); the baseline level,
    whose count flows.csv does not match, keeps its total."""
    from placeplan.publish.mitigations import released_mitigations_by_year

    raw = _table({"escort": 15, "route": 6}, {"escort": 15, "route": 2})
    flows = pd.DataFrame(
        {
            "year": Y,
            "scenario": ["baseline", "S", "S"],
            "measure": ["over_max_journey", "over_max_journey", "journey_time_mean_min"],
            "central": [15.0, 15.0, 15.0],
            "suppressed": False,
        }
    )

    def total(flows_table: pd.DataFrame | None, run: str) -> pd.Series:
        pub = released_mitigations_by_year(
            raw, {}, flows_table, threshold=5, round_to=0, mode="published"
        )
        assert pub is not None
        return pub.set_index(["run", "rule"]).loc[(run, ALL_RULES)]

    assert total(None, "scenario")["pupils"] == 17  # nothing to take it from
    assert total(flows, "scenario")["suppressed"] and total(flows, "change")["suppressed"]
    # the baseline: 15 + 6, every rule 0 or >= 5, nothing withheld
    assert total(flows, "baseline")["pupils"] == 21
    # a statistic (15 minutes), not a count, is not taken as one
    mean_only = flows[flows["measure"].eq("journey_time_mean_min")]
    assert total(mean_only, "scenario")["pupils"] == 17


def test_a_proposals_baseline_repeating_the_programmes_is_hidden_with_it():
    """A proposal's alone baseline is the programme's baseline level (15 escorts, 2 route
    changes, beside flows.csv's published 15 over the maximum). Decided per level, not on the
    rules of both pooled (15, 2, 15, 2: no set of them then leaves a small rest), the total is
    hidden in both copies."""
    from placeplan.publish.mitigations import released_mitigations_by_year

    level = {"escort": 15, "route": 2}
    raw = pd.DataFrame(
        _rows("baseline", level) + _rows("baseline", level, proposal="B1", basis="alone")
    )
    flows = pd.DataFrame(
        {"year": Y, "scenario": "baseline", "measure": ["over_max_journey"], "central": [15.0],
         "suppressed": False}
    )  # fmt: skip
    pub = released_mitigations_by_year(raw, {}, flows, threshold=5, round_to=0, mode="published")
    assert pub is not None
    totals = pub[pub["rule"].eq(ALL_RULES)].set_index("proposal")
    assert totals.loc["programme", "suppressed"] and totals.loc["B1", "suppressed"]
