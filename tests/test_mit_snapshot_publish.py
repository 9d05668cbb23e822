"""Publishing today's cohort's (the snapshot's) mitigation levels and changes.

:func:`placeplan.publish.mitigations.published_mitigations` decides the snapshot by the
year-by-year rule (:func:`~placeplan.publish.mitigations.published_mitigations_by_year`): per
level every rule is shown (each 0 or at least the threshold) or only the total, and a change
follows its two levels. Hand cases with known answers.
"""

from __future__ import annotations

import pandas as pd
import pytest

from placeplan.compute.mitigation import DEFAULT_RULES, mitigation_change_table
from placeplan.publish.mitigations import mitigation_levels, published_mitigations
from placeplan.publish.report.impact import ImpactTable, impact_table

ESCORT = "Over the reasonable maximum by ferry: escort"
BUDGET = "Over the reasonable maximum by road: personal travel budget"


def _levels(before: dict[str, int], after: dict[str, int], run: str = "baseline") -> pd.DataFrame:
    """The change table of two levels given as rule -> pupils (20 pupils, the rest no rule)."""

    def keys(counts: dict[str, int]) -> pd.Series:
        names = [r for r, n in counts.items() for _ in range(n)]
        return pd.Series(names + [""] * (20 - len(names)))

    return mitigation_change_table(keys(before), keys(after), DEFAULT_RULES, before_run=run)


def _impact(counts: dict[str, tuple[int, int]]) -> ImpactTable:
    """A published impact table of 20 pupils with all-pupils ``metric -> (baseline, scenario)``
    (threshold 5)."""
    rows = [("all", "all", m, b, s, s - b) for m, (b, s) in {"pupils": (20, 20), **counts}.items()]
    raw = pd.DataFrame(rows, columns=["group_type", "group", "metric", "baseline", "scenario",
                                      "change"])  # fmt: skip
    return ImpactTable(raw, threshold=5, round_to=0, mode="published")


def _moved(key: tuple[str, str], n: int) -> dict[tuple[str, str], ImpactTable]:
    """Impact tables where ``key``'s comparison moves ``n`` pupils (hidden below 5)."""
    return {key: _impact({"moved_n": (0, n)})}


def _pub(frame: pd.DataFrame, **kw: object) -> pd.DataFrame:
    out = published_mitigations(frame, threshold=5, round_to=0, mode="published", **kw)
    return out.set_index(["proposal", "basis", "run", "rule"]).sort_index()


def test_escorts_15_to_12_publish_a_change_of_minus_3():
    t = _levels({ESCORT: 15}, {ESCORT: 12}).assign(proposal="B1", basis="alone")
    pub = _pub(t)
    want = (("baseline", 15, 60_000), ("scenario", 12, 48_000), ("change", -3, -12_000))
    for run, n, gbp in want:
        for rule in (ESCORT, "All rules"):
            row = pub.loc[("B1", "alone", run, rule)]
            assert (row["pupils"], row["annual_cost_gbp"]) == (n, gbp), (run, rule)
            assert not row["pupils:suppressed"] and not row["annual_cost_gbp:suppressed"]
            assert not row["withheld"]
    # the other rules are published zeros, every run
    zero = pub.xs("B1", level="proposal").drop(index=[ESCORT, "All rules"], level="rule")
    assert (zero["pupils"] == 0).all() and not zero["withheld"].any()


def test_a_level_with_a_small_rule_shows_its_total_only_and_the_change_follows():
    """Baseline: 15 escorts and 3 budgets (a rule under 5: the level's rule detail withheld, the
    total of 18 shown, its £ hidden: 18 pupils and £67,500 at £4,000 / £2,500 solve to 15 + 3);
    with the proposal: 12 escorts. The change's rules are withheld with the baseline's, its total
    is 12 - 18 = -6 pupils and its £ hidden with the baseline total's £."""
    t = _levels({ESCORT: 15, BUDGET: 3}, {ESCORT: 12}).assign(proposal="B1", basis="alone")
    pub = _pub(t)
    base = pub.xs(("B1", "alone", "baseline"))
    assert base.loc[[ESCORT, BUDGET], "withheld"].all()
    assert base.loc[[ESCORT, BUDGET], "pupils"].isna().all()
    # a rule that covers no one in either level is a published zero (the impact table gives
    # those zeros anyway: a c there would be undone)
    nobody = base.drop(index=[ESCORT, BUDGET, "All rules"])
    assert len(nobody) and (nobody["pupils"] == 0).all() and not nobody["withheld"].any()
    assert base.loc["All rules", "pupils"] == 18 and not base.loc["All rules", "withheld"]
    assert base.loc["All rules", "annual_cost_gbp:suppressed"]
    scen = pub.xs(("B1", "alone", "scenario"))
    assert not scen["withheld"].any() and scen.loc[ESCORT, "pupils"] == 12
    assert scen.loc["All rules", "annual_cost_gbp"] == 48_000
    change = pub.xs(("B1", "alone", "change"))
    assert change.loc[[ESCORT, BUDGET], "withheld"].all()
    assert (change.drop(index=[ESCORT, BUDGET, "All rules"])["pupils"] == 0).all()
    assert change.loc["All rules", "pupils"] == -6
    assert change.loc["All rules", "annual_cost_gbp:suppressed"]
    assert pd.isna(change.loc["All rules", "annual_cost_gbp"])


def test_a_level_is_published_alike_wherever_it_appears():
    """The same programme level (12 escorts, 3 budgets) as the programme's rules in section 4
    (no run: the scenario level), as a contribution's ``scenario`` and an alone's ``baseline``
    (another scenario's numbers): same cells hidden, same values."""
    prog = _levels({ESCORT: 15}, {ESCORT: 12, BUDGET: 3})
    contrib = _levels({ESCORT: 13, BUDGET: 3}, {ESCORT: 12, BUDGET: 3}, run="without")
    frame = pd.concat(
        [
            prog.assign(proposal="programme", basis="programme"),
            contrib.assign(proposal="B1", basis="contribution"),
        ],
        ignore_index=True,
    )
    pub = _pub(frame)
    section4 = prog[prog["run"].eq("scenario")].drop(columns="run")
    alone = published_mitigations(section4, threshold=5, round_to=0, mode="published")
    alone = alone.set_index("rule")
    cols = ["pupils", "annual_cost_gbp", "pupils:suppressed", "annual_cost_gbp:suppressed"]
    for copy in (("programme", "programme", "scenario"), ("B1", "contribution", "scenario")):
        got = pub.xs(copy)[cols]
        pd.testing.assert_frame_equal(got, alone.loc[got.index, cols], check_names=False)
    assert alone.loc[ESCORT, "withheld"] and alone.loc["All rules", "pupils"] == 15
    assert (alone["run"] == "scenario").all()
    # the contribution's own change: 13 -> 12 escorts, published as the total only (-1)
    change = pub.xs(("B1", "contribution", "change"))
    assert change.loc["All rules", "pupils"] == -1


@pytest.mark.parametrize("mode", ["published", "internal"])
def test_a_proposal_that_moves_no_one_publishes_zero_change(mode):
    t = _levels({ESCORT: 15, BUDGET: 3}, {ESCORT: 15, BUDGET: 3}).assign(proposal="B0")
    pub = published_mitigations(t.assign(basis="alone"), threshold=5, round_to=0, mode=mode)
    total = pub[pub["run"].eq("change") & pub["rule"].eq("All rules")].iloc[0]
    assert total["pupils"] == 0
    if mode == "internal":
        assert total["annual_cost_gbp"] == 0 and not pub["pupils:suppressed"].any()


def _pages(threshold: int):
    """The proposal pages' published figures for the hand case of ``test_proposals.py`` (three
    escorted pupils brought back by two bases)."""
    from types import SimpleNamespace

    from placeplan.publish.report.sections.proposals import ProposalInputs, _Published
    from test_proposals import _assess

    res = _assess(("B1", "B2"))
    p = ProposalInputs(
        table=res.table,
        info=res.proposals,
        impacts={(pr, b): imp.table for (_, pr, b), imp in res.impacts.items()},
        mitigations=res.mitigations.drop(columns="scenario"),
        scenario="P",
    )
    tables = {k: impact_table(v, threshold=threshold, round_to=0, mode="published")
              for k, v in p.impacts.items()}  # fmt: skip
    levels = mitigation_levels(p.mitigations, tables, threshold=threshold, round_to=0,
                               mode="published")  # fmt: skip
    ctx = SimpleNamespace(threshold=threshold, round_to=0, mode="published",
                          mitigations_by_year=None, mitigation_levels=levels.frame())  # fmt: skip
    return _Published(p, ctx)  # type: ignore[arg-type]


def test_proposal_pages_show_today_change_from_the_change_rows():
    """Threshold 1 (nothing small): today's cells are the change rows, the programme -3
    escorts / -£12,000, B1 alone -2 / -£8,000, its contribution -1 / -£4,000; the summary's
    "now" columns carry them."""
    from placeplan.publish.report.sections.proposals import _summary

    pub = _pages(threshold=1)
    got = {
        (pr, b): tuple(c.value for c in pub.mitigation_now(pr, b))
        for pr, b in (("programme", "programme"), ("B1", "alone"), ("B1", "contribution"))
    }
    assert got == {
        ("programme", "programme"): (-3, -12_000),
        ("B1", "alone"): (-2, -8_000),
        ("B1", "contribution"): (-1, -4_000),
    }
    rows = {r[1].value: r for r in _summary(pub, "B1", ("alone", "contribution"), "t").rows}
    assert [c.value for c in rows["Pupils covered by a mitigation"][2:4]] == [-2, -1]
    assert [c.value for c in rows["Mitigation cost a year"][2:4]] == [-8_000, -4_000]


def test_proposal_pages_withhold_today_change_when_a_level_is_small():
    """Threshold 5: the baseline's 3 escorts are the impact table's 3 pupils over the maximum
    by ferry, which it hides, so the baseline level's escorts and total are hidden
    (``levels_hidden``), not only withheld, and every change that differences it is hidden (c).
    The contribution's comparison (without: 1 escort; 1 pupil moves) is hidden whole too."""
    pub = _pages(threshold=5)
    for pr, b in (("programme", "programme"), ("B1", "alone"), ("B1", "contribution")):
        rule = pub.mitigation_now(pr, b, ESCORT)
        assert all(c.suppressed and c.value is None for c in rule), (pr, b)
        total = pub.mitigation_now(pr, b)
        assert all(c.suppressed and c.value is None for c in total), (pr, b)


@pytest.mark.parametrize(("basis", "own"), [("alone", "scenario"), ("contribution", "without")])
def test_a_level_few_pupils_change_is_hidden_with_its_movers(basis, own):
    """Where the impact table hides the pupils who change setting (few move), the level they
    change (alone: with the proposal; contribution: the programme without it) has its changed
    rules and total hidden, and so has the change; rules left at 0 are published (the shared
    level's); the shared level (the baseline / the programme) stays published."""
    before = "without" if basis == "contribution" else "baseline"
    t = _levels({ESCORT: 15}, {ESCORT: 12}, run=before).assign(proposal="B1", basis=basis)
    pub = published_mitigations(
        t, threshold=5, round_to=0, mode="published", tables=_moved(("B1", basis), 2)
    ).set_index(["run", "rule"])
    shared = "scenario" if own == "without" else "baseline"
    for run in (own, "change"):
        hidden = pub.xs(run)["pupils:suppressed"]
        # the changed rule and the total are hidden; rules the comparison leaves at 0 are not
        assert hidden[ESCORT] and hidden["All rules"], run
        assert not hidden.drop([ESCORT, "All rules"]).any(), run
        assert (pub.xs(run)["pupils"].drop([ESCORT, "All rules"]) == 0).all()
        assert not pub.xs(run)["withheld"].any()
    assert not pub.xs(shared)["pupils:suppressed"].any()
    assert pub.loc[(shared, "All rules"), "pupils"] == (12 if shared == "scenario" else 15)


def test_proposal_pages_hide_today_change_of_a_proposal_few_pupils_move_for():
    """Threshold 3: the programme moves 3 pupils (published: -3 escorts), B1 alone 2 and its
    contribution 1 (hidden in the impact tables, so their mitigation change is c)."""
    pub = _pages(threshold=3)
    assert [c.value for c in pub.mitigation_now("programme", "programme")] == [-3, -12_000]
    for b in ("alone", "contribution"):
        cells = pub.mitigation_now("B1", b)
        assert all(c.suppressed and c.value is None for c in cells), b


def test_few_movers_who_change_no_mitigation_leave_the_level_published():
    """As the impact table publishes a zero change where few pupils move: a level equal to its
    comparison (every rule's change 0) is published, and its change of 0 too."""
    t = _levels({ESCORT: 15}, {ESCORT: 15}).assign(proposal="B1", basis="alone")
    pub = published_mitigations(
        t, threshold=5, round_to=0, mode="published", tables=_moved(("B1", "alone"), 2)
    ).set_index(["run", "rule"])
    assert not pub["pupils:suppressed"].any()
    assert pub.loc[("scenario", ESCORT), "pupils"] == 15
    assert pub.loc[("change", "All rules"), "pupils"] == 0


ROUTE = "Longer journey: route change"


def test_a_withheld_total_that_gives_a_rule_back_from_a_published_count_is_hidden():
    """The scenario level: 2 route changes (withheld: under 5) and 15 escorts, whom the impact
    table publishes as the 15 pupils over the maximum (none by road). A published total of 17
    less 15 would give the 2 back: the total is hidden, and the change that uses it. The
    baseline level (15 escorts, every rule 0 or >= 5) stays published."""
    t = _levels({ESCORT: 15}, {ESCORT: 15, ROUTE: 2}).assign(proposal="B1", basis="alone")
    tables = {
        ("B1", "alone"): _impact(
            {"over_threshold_n": (15, 15), "over_threshold_road_n": (0, 0), "moved_n": (0, 6)}
        )
    }
    pub = _pub(t, tables=tables)
    scen = pub.xs(("B1", "alone", "scenario"))
    assert scen.loc["All rules", "pupils:suppressed"] and pd.isna(scen.loc["All rules", "pupils"])
    assert scen.loc[[ESCORT, ROUTE], "pupils"].isna().all()
    assert pub.loc[("B1", "alone", "change", "All rules"), "pupils:suppressed"]
    base = pub.xs(("B1", "alone", "baseline"))
    assert base.loc["All rules", "pupils"] == 15 and not base["pupils:suppressed"].any()
    # without the published count the total stands (17: nothing known to take from it)
    alone = _pub(t, tables={("B1", "alone"): _impact({"moved_n": (0, 6)})})
    assert alone.loc[("B1", "alone", "scenario", "All rules"), "pupils"] == 17


def test_a_withheld_total_whose_rest_is_large_stays_published():
    """Escorts 10 (the published count over the maximum), route changes 2, budgets 6: the
    total 18 less 10 is 8 pupils of two rules (>= 5 together, neither pinned), and no other set
    of rules adds up to a published count: the total stays."""
    t = _levels({ESCORT: 10}, {ESCORT: 10, ROUTE: 2, BUDGET: 6}).assign(
        proposal="B1", basis="alone"
    )
    counts = {"over_threshold_n": (10, 10), "moved_n": (0, 7)}
    pub = _pub(t, tables={("B1", "alone"): _impact(counts)})
    assert pub.loc[("B1", "alone", "scenario", "All rules"), "pupils"] == 18
    # with the counts over the maximum, 16, and by road, 6, published: escorts and budgets
    # (16, or 10 + 6) leave the 2 route changes: hidden
    counts |= {"over_threshold_n": (10, 16), "over_threshold_road_n": (0, 6)}
    pub = _pub(t, tables={("B1", "alone"): _impact(counts)})
    assert pub.loc[("B1", "alone", "scenario", "All rules"), "pupils:suppressed"]
    assert pub.loc[("B1", "alone", "baseline", "All rules"), "pupils"] == 10


def test_the_census_year_baseline_is_hidden_where_today_hides_it():
    """Today's baseline level (2 route changes withheld, 15 escorts = the published count over
    the maximum) has its total hidden by the impact relation; the year table's census year,
    whose every level is the same (17 pupils), hides that total and its rules too, while a
    later year keeps its own decision."""
    from placeplan.publish.mitigations import census_year_hidden, published_mitigations_by_year
    from test_mit_years_disclosure import _rows

    t = _levels({ESCORT: 15, ROUTE: 2}, {ESCORT: 15, ROUTE: 2}).assign(
        proposal="programme", basis="programme"
    )
    tables = {
        ("programme", "programme"): _impact(
            {"over_threshold_n": (15, 15), "over_threshold_road_n": (0, 0), "moved_n": (0, 0)}
        )
    }
    levels = mitigation_levels(t, tables, threshold=5, round_to=0, mode="published")
    assert levels is not None
    today = levels.frame().set_index(["run", "rule"])
    assert today.loc[("baseline", "All rules"), "pupils:suppressed"]

    def year(y: str, run: str) -> pd.DataFrame:
        return pd.DataFrame(_rows(run, {"escort": 15, "route": 2})).assign(year=y)

    years = pd.concat(
        [year("2025/26", "baseline"), year("2025/26", "scenario"), year("2026/27", "baseline")],
        ignore_index=True,
    ).assign(rule=lambda d: d["rule"].map({"escort": ESCORT, "route": ROUTE}).fillna(d["rule"]))
    hide = census_year_hidden(years, {"S": levels})
    pub = published_mitigations_by_year(years, threshold=5, round_to=0, mode="published", hide=hide)
    key = pub.set_index(["year", "run", "rule"])
    # every level of the census year is the census: each hides it (one published would give
    # it back)
    for run in ("baseline", "scenario"):
        assert key.loc[("2025/26", run, "All rules"), "suppressed"], run
        assert key.loc[("2025/26", run, ESCORT), "suppressed"], run
    assert key.loc[("2026/27", "baseline", "All rules"), "pupils"] == 17
    # without today's decision the census year would publish the total of 17
    alone = published_mitigations_by_year(years, threshold=5, round_to=0, mode="published")
    assert (
        alone.set_index(["year", "run", "rule"]).loc[("2025/26", "baseline", "All rules"), "pupils"]
        == 17
    )
