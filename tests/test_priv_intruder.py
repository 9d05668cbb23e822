"""The intruder's mover and proposal relations find the reviewer's leaks (findings a and c) on
the old suppression, and nothing on the tables decided together."""

from __future__ import annotations

import pandas as pd

from placeplan.publish.impact_release import ImpactRun, published_impacts
from placeplan.publish.report.impact import ImpactTable, impact_long
from test_intruder import Release, add_mover_relations, add_relations, attack, read_impact
from test_priv_relations import PHASES, PROG, TH, G, _long, proposal_tables


def _frames(tables: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(
        [t.assign(scenario_name="S", proposal=p, basis=b) for (p, b), t in tables.items()],
        ignore_index=True,
    )


def _intruder(raw: dict, published: dict) -> list:
    rel = Release(threshold=TH)
    read_impact(rel, _frames(raw), 0.0, truth=True)
    read_impact(rel, _frames(published), 1e-9)
    add_relations(rel, {})
    add_mover_relations(rel, "S")
    return attack(rel)


def _published(tables: dict) -> dict:
    return {k: impact_long(v) for k, v in tables.items()}


def test_intruder_uses_no_movers_against_the_old_phase_rows():
    raw = {("programme", "programme"): _long(PHASES)}
    old = ImpactTable(_long(PHASES), threshold=TH, round_to=0, mode="published")
    found = {k[3] for k, *_ in _intruder(raw, {("programme", "programme"): impact_long(old)})}
    assert {"primary", "post16"} <= found  # c = 2 exactly; post-16's hidden 40
    new = published_impacts([ImpactRun("S", raw[("programme", "programme")])], threshold=TH,
                            round_to=0, mode="published")["S"]  # fmt: skip
    assert not _intruder(raw, _published(new))


def test_intruder_adds_up_proposals_against_the_programme():
    raw = {("programme", "programme"): PROG, **proposal_tables()}
    th = {"threshold": TH, "round_to": 0, "mode": "published"}
    prog = ImpactTable(PROG, **th)  # type: ignore[arg-type]
    hid = {
        w: {(gt, g, "ooa_placements", w) for gt, g in G
            if prog.cell(gt, g, "ooa_placements", w).suppressed}
        for w in ("baseline", "scenario")
    }  # fmt: skip
    # as publish.outputs forced them before: alone by the programme's hidden baseline,
    # contribution by its hidden scenario
    old = {("programme", "programme"): impact_long(prog)}
    for key, t in proposal_tables().items():
        force = hid["baseline"] if key[1] == "alone" else hid["scenario"]
        old[key] = impact_long(ImpactTable(t, force=force, **th))  # type: ignore[arg-type]
    found = {(k[1], k[3], k[4]) for k, *_ in _intruder(raw, old)}
    assert ("baseline", "secondary", "ooa_placements") in found  # 3
    runs = [ImpactRun("S", PROG, proposal_tables())]
    new = published_impacts(runs, **th)["S"]  # type: ignore[arg-type]
    assert not _intruder(raw, _published(new))
