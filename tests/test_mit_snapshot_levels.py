"""Today's cohort (the snapshot): mitigation levels read against the baseline and their change.

The hand case of ``test_proposals.py``: three pupils out of area by ferry, over the reasonable
maximum (an escort each in the baseline), brought back by two bases. A proposal's own change is
the escorts it saves, which the old count of the rules of the pupils it moves (0: nobody's
journey gets longer) missed; :func:`placeplan.compute.proposals.assess_proposals` publishes
these levels and their change.
"""

from __future__ import annotations

from placeplan.compute.mitigation import (
    DEFAULT_RULES,
    level_keys,
    mitigation_change_table,
)
from test_proposals import _assess

ESCORT = "Over the reasonable maximum by ferry: escort"


def _change(before, after, run="baseline") -> dict[str, float]:
    t = mitigation_change_table(before, after, DEFAULT_RULES, before_run=run)
    t = t[t["run"].eq("change")]
    return {r: (n, g) for r, n, g in zip(t["rule"], t["pupils"], t["annual_cost_gbp"], strict=True)
            if n or g}  # fmt: skip


def test_levels_against_the_baseline_give_each_proposal_its_own_change():
    res = _assess(("B1", "B2"))
    prog = res.impacts[("P", "programme", "programme")].per_pupil
    # the programme's level is what assess_impact matched; the baseline's: escorts only
    after = level_keys(prog, prog, "scenario", DEFAULT_RULES)
    assert after.tolist() == prog["mitigation_key"].tolist()
    base = level_keys(prog, prog, "baseline", DEFAULT_RULES)
    assert (base == ESCORT).sum() == 3
    assert _change(base, after) == {ESCORT: (-3, -12_000.0)}
    # B1 alone takes two of the three; its contribution (the programme less the programme
    # without it, where B2 already takes two) is one
    alone = res.impacts[("P", "B1", "alone")].per_pupil
    assert _change(base, level_keys(prog, alone, "scenario", DEFAULT_RULES)) == {
        ESCORT: (-2, -8_000.0)
    }
    contrib = res.impacts[("P", "B1", "contribution")].per_pupil
    without = level_keys(prog, contrib, "baseline", DEFAULT_RULES)
    assert _change(without, after, "without") == {ESCORT: (-1, -4_000.0)}


def _rows(res, proposal: str, basis: str, run: str) -> dict[str, tuple[float, float]]:
    """Non-zero rules of one run of ``res.mitigations``: rule -> (pupils, £ a year)."""
    m = res.mitigations
    m = m[m["proposal"].eq(proposal) & m["basis"].eq(basis) & m["run"].eq(run)]
    return {r: (n, g) for r, n, g in zip(m["rule"], m["pupils"], m["annual_cost_gbp"], strict=True)
            if n or g}  # fmt: skip


def test_assess_proposals_publishes_each_proposal_own_change():
    """The wired snapshot rows: the programme saves the 3 escorts (3 -> 0, a level difference),
    each base alone 2, each contribution 1 (the other base takes two without it)."""
    res = _assess(("B1", "B2"))
    cols = res.mitigations.columns.tolist()
    assert cols[:4] == ["scenario", "proposal", "basis", "run"]
    assert _rows(res, "programme", "programme", "baseline") == {ESCORT: (3, 12_000.0)}
    assert _rows(res, "programme", "programme", "scenario") == {}
    assert _rows(res, "programme", "programme", "change") == {ESCORT: (-3, -12_000.0)}
    for site in ("B1", "B2"):
        assert _rows(res, site, "alone", "baseline") == {ESCORT: (3, 12_000.0)}
        assert _rows(res, site, "alone", "scenario") == {ESCORT: (1, 4_000.0)}
        assert _rows(res, site, "alone", "change") == {ESCORT: (-2, -8_000.0)}
        # the contribution's comparison is the programme without it: one pupil still escorted
        assert _rows(res, site, "contribution", "without") == {ESCORT: (1, 4_000.0)}
        assert _rows(res, site, "contribution", "scenario") == {}
        assert _rows(res, site, "contribution", "change") == {ESCORT: (-1, -4_000.0)}
    # every (proposal, basis) lists every rule once per run: change = scenario - comparison
    m = res.mitigations.set_index(["proposal", "basis", "run", "rule"])["pupils"]
    for (pr, b, run, rule), v in m.items():
        if run == "change":
            before = "without" if b == "contribution" else "baseline"
            assert v == m[(pr, b, "scenario", rule)] - m[(pr, b, before, rule)]


def test_a_proposal_that_moves_no_one_changes_no_mitigation():
    """B0 has no places: alone it is the baseline and the programme without it is the
    programme, so every rule's change is 0 pupils and £0, alone and as its contribution."""
    res = _assess(("B0", "B1", "B2"), b0_places=0)
    for basis in ("alone", "contribution"):
        assert _rows(res, "B0", basis, "change") == {}, basis
        assert _rows(res, "B0", basis, "scenario") == _rows(
            res, "B0", basis, "without" if basis == "contribution" else "baseline"
        )
    assert _rows(res, "B0", "alone", "scenario") == {ESCORT: (3, 12_000.0)}
    assert _rows(res, "programme", "programme", "change") == {ESCORT: (-3, -12_000.0)}
