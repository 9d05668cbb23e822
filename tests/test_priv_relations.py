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
    # primary (2 movers) pairs too: its scenario 0 is hidden with its baseline 2, and that is
    # the post-16 scenario's complement (no published scenario is left alone with it)
    assert _hidden(imp, "phase", "primary", "independent_placements") == (True, True)
    assert _hidden(imp, "phase", "secondary", "independent_placements") == (False, False)
    # invariant: every group with fewer than 5 movers pairs its placement counts
    for gt, g in PHASES:
        if PHASES[(gt, g)]["moved_n"][1] < TH:
            for m in MOVER_PAIRED:
                if imp.has(m):
                    b, s = _hidden(imp, gt, g, m)
                    assert b == s, (g, m)


#: (c) two proposals serving different pupils: their changes add up to the programme's.
PROG = {
    ("all", "all pupils"): {"over_threshold_n": (15, 12), "moved_n": (0, 20)},
    ("phase", "primary"): {"over_threshold_n": (12, 12), "moved_n": (0, 10)},
    ("phase", "secondary"): {"over_threshold_n": (3, 0), "moved_n": (0, 10)},
}
ALONE = {
    "A": {
        ("all", "all pupils"): {"over_threshold_n": (15, 13), "moved_n": (0, 10)},
        ("phase", "primary"): {"over_threshold_n": (12, 12), "moved_n": (0, 5)},
        ("phase", "secondary"): {"over_threshold_n": (3, 1), "moved_n": (0, 5)},
    },
    "B": {
        ("all", "all pupils"): {"over_threshold_n": (15, 14), "moved_n": (0, 10)},
        ("phase", "primary"): {"over_threshold_n": (12, 12), "moved_n": (0, 5)},
        ("phase", "secondary"): {"over_threshold_n": (3, 2), "moved_n": (0, 5)},
    },
}


def _without(other: str) -> dict:
    """The programme without a proposal is the other alone; its contribution's movers its own."""
    return {k: {"over_threshold_n": (ALONE[other][k]["over_threshold_n"][1],
                                     PROG[k]["over_threshold_n"][1]),
                "moved_n": (0, 5 if k[0] == "phase" else 10)}
            for k in PROG}  # fmt: skip


def test_a_proposals_change_is_hidden_where_the_programmes_is():
    proposals = {
        ("A", "alone"): _long(ALONE["A"]),
        ("B", "alone"): _long(ALONE["B"]),
        ("A", "contribution"): _long(_without("B")),
        ("B", "contribution"): _long(_without("A")),
    }
    tables = published_impacts(
        [ImpactRun("S", _long(PROG), proposals)], threshold=TH, round_to=0, mode="published"
    )["S"]
    prog = tables[("programme", "programme")]
    assert _hidden(prog, "phase", "secondary", "over_threshold_n")[0]  # baseline 3
    for key, t in tables.items():
        for gt, g in PROG:
            change = t.cell(gt, g, "over_threshold_n", "change")
            if prog.cell(gt, g, "over_threshold_n", "change").suppressed:
                assert change.suppressed, (key, g)
    # the contributions (-2 and -1 for secondary) no longer add up to the hidden baseline
    for p in ("A", "B"):
        assert (
            tables[(p, "contribution")]
            .cell("phase", "secondary", "over_threshold_n", "change")
            .suppressed
        )


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
