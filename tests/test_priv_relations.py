"""Suppressed impact cells that other published figures gave back (reviewer findings a-c).

Small hand-made tables with the reviewer's numbers: the exact answer is which cells are hidden.
"""

from __future__ import annotations

import pandas as pd

from placeplan.publish.disclosure import suppress_table
from placeplan.publish.impact_release import MOVER_PAIRED, ImpactRun, published_impacts
from placeplan.publish.report.impact import ImpactTable

TH = 5


def _long(rows: dict[tuple[str, str], dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """``{(group_type, group): {metric: (baseline, scenario)}}`` as a long impact table."""
    out = [
        {"group_type": gt, "group": g, "metric": m, "baseline": b, "scenario": s,
         "change": s - b}
        for (gt, g), metrics in rows.items()
        for m, (b, s) in metrics.items()
    ]  # fmt: skip
    return pd.DataFrame(out)


#: The reviewer's phase rows (a): post-16 has no movers, so its baseline is its scenario.
PHASES = {
    ("all", "all pupils"): {"pupils": (380, 380), "independent_placements": (86, 74),
                            "moved_n": (0, 12)},
    ("phase", "primary"): {"pupils": (100, 100), "independent_placements": (2, 0),
                           "moved_n": (0, 2)},
    ("phase", "secondary"): {"pupils": (200, 200), "independent_placements": (44, 34),
                             "moved_n": (0, 10)},
    ("phase", "post16"): {"pupils": (80, 80), "independent_placements": (40, 40),
                          "moved_n": (0, 0)},
}  # fmt: skip


def _hidden(imp: ImpactTable, gt: str, g: str, m: str) -> tuple[bool, bool]:
    return imp.cell(gt, g, m, "baseline").suppressed, imp.cell(gt, g, m, "scenario").suppressed


def test_the_old_table_gave_post16_back():
    """The leak as published: post-16's baseline hidden beside its scenario with no movers."""
    imp = ImpactTable(_long(PHASES), threshold=TH, round_to=0, mode="published")
    assert _hidden(imp, "phase", "post16", "independent_placements") == (True, False)


def test_no_movers_hides_baseline_and_scenario_together():
    tables = published_impacts(
        [ImpactRun("S", _long(PHASES))], threshold=TH, round_to=0, mode="published"
    )
    imp = tables["S"][("programme", "programme")]
    assert _hidden(imp, "phase", "post16", "independent_placements") == (True, True)
    # primary's scenario 0 is hidden with its baseline 2; secondary's movers are hidden (12
    # less primary's and post-16's), so its change -10 (at least 10 movers) is hidden: both sides
    assert _hidden(imp, "phase", "primary", "independent_placements") == (True, True)
    assert _hidden(imp, "phase", "secondary", "independent_placements") == (True, True)
    # invariant: every group pairs its placement counts
    for gt, g in PHASES:
        for m in MOVER_PAIRED:
            if imp.has(m):
                b, s = _hidden(imp, gt, g, m)
                assert b == s, (g, m)


#: (c) the reviewer's out-of-area placements: A (a secondary ASD base) and B (a secondary SEMH
#: base) take pupils from secondary only; their all-pupils changes (-2, -1) are published, so
#: they are secondary's changes, and they add up to the programme's.
G = [("all", "all pupils"), ("phase", "primary"), ("phase", "secondary"), ("need_type", "ASD"),
     ("need_type", "SEMH"), ("need_type", "MLD")]  # fmt: skip
PROG_OOA = [(15, 12), (12, 12), (3, 0), (5, 3), (8, 7), (2, 2)]
PROG_MOVED = [12, 0, 12, 7, 5, 0]
ALONE_OOA = {"A": [(15, 13), (12, 12), (3, 1), (5, 3), (8, 8), (2, 2)],
             "B": [(15, 14), (12, 12), (3, 2), (5, 5), (8, 7), (2, 2)]}  # fmt: skip
ALONE_MOVED = {"A": [7, 0, 7, 7, 0, 0], "B": [5, 0, 5, 0, 5, 0]}


def _table(ooa: list, moved: list) -> pd.DataFrame:
    return _long(
        {g: {"ooa_placements": o, "moved_n": (0, n)} for g, o, n in zip(G, ooa, moved, strict=True)}
    )


PROG = _table(PROG_OOA, PROG_MOVED)
ALONE = {p: _table(ALONE_OOA[p], ALONE_MOVED[p]) for p in ALONE_OOA}


def _without(other: str) -> pd.DataFrame:
    """A's contribution: the programme without A (B alone) -> the programme; A's own movers."""
    mine = "A" if other == "B" else "B"
    ooa = [(w[1], p[1]) for w, p in zip(ALONE_OOA[other], PROG_OOA, strict=True)]
    return _table(ooa, ALONE_MOVED[mine])


def proposal_tables() -> dict[tuple[str, str], pd.DataFrame]:
    return {
        ("A", "alone"): ALONE["A"],
        ("B", "alone"): ALONE["B"],
        ("A", "contribution"): _without("B"),
        ("B", "contribution"): _without("A"),
    }


def test_a_proposals_change_is_hidden_where_the_programmes_is():
    tables = published_impacts(
        [ImpactRun("S", PROG, proposal_tables())], threshold=TH, round_to=0, mode="published"
    )["S"]
    prog = tables[("programme", "programme")]
    # secondary's 3 -> 0: both hidden (the proposals' published changes give the change)
    assert _hidden(prog, "phase", "secondary", "ooa_placements") == (True, True)
    # ASD 5 -> 3: both hidden (A's -2 is ASD's change)
    assert _hidden(prog, "need_type", "ASD", "ooa_placements") == (True, True)
    for key, t in tables.items():
        for gt, g in G:
            if prog.cell(gt, g, "ooa_placements", "change").suppressed:
                assert t.cell(gt, g, "ooa_placements", "change").suppressed, (key, g)
            b, s = (t.cell(gt, g, "ooa_placements", w).suppressed for w in ("baseline", "scenario"))
            assert b == s, (key, g)


def test_pairs_hide_both_cells_then_complement_again():
    """(b) a flow's baseline and scenario hidden together, with secondary suppression after."""
    df = pd.DataFrame(
        {"setting": ["St C", "Assure", "total"], "baseline": [5, 1, 6], "scenario": [5, 0, 5]}
    )
    total = pd.Series([False, False, True])
    plain = suppress_table(df, count_cols=["baseline", "scenario"], threshold=TH, total_rows=total)
    assert plain.mask["baseline"].tolist() == [True, True, False]
    assert not plain.mask["scenario"].any()  # St C's 5 published: its baseline follows
    pub = suppress_table(
        df,
        count_cols=["baseline", "scenario"],
        threshold=TH,
        total_rows=total,
        pairs=[("baseline", "scenario", ~total)],
    )
    assert pub.mask["baseline"].tolist() == [True, True, False]
    assert pub.mask["scenario"].tolist() == [True, True, False]


def test_one_hidden_proposal_change_gets_a_complement():
    """The proposals' changes add up to the programme's published -3: Christ The King's
    hidden -1 (its movers are c) came back as -3 - (-2) - 0; now Medina's -2 is hidden too."""
    g = [("all", "all pupils")]

    def t(b: int, s: int, moved: int) -> pd.DataFrame:
        return _long({g[0]: {"ooa_placements": (b, s), "moved_n": (0, moved)}})

    proposals = {("M", "alone"): t(15, 13, 7), ("C", "alone"): t(15, 14, 3),
                 ("B", "alone"): t(15, 15, 0)}  # fmt: skip
    tables = published_impacts(
        [ImpactRun("S", t(15, 12, 10), proposals)], threshold=TH, round_to=0, mode="published"
    )["S"]
    change = {k[0]: v.cell("all", "all pupils", "ooa_placements", "change") for k, v in
              tables.items()}  # fmt: skip
    assert not change["programme"].suppressed
    assert change["C"].suppressed and change["M"].suppressed
    assert not change["B"].suppressed  # a known zero protects nothing
