"""Today's cohort (the snapshot): mitigation levels read against the baseline and their change.

The hand case of ``test_proposals.py``: three pupils out of area by ferry, over the reasonable
maximum (an escort each in the baseline), brought back by two bases. A proposal's own change is
the escorts it saves, which the old count of the rules of the pupils it moves (0: nobody's
journey gets longer) missed. (:func:`placeplan.compute.proposals` does not call these yet.)
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
    # what the old count says for the same proposal: nothing
    mit = res.mitigations
    assert mit.loc[mit["proposal"].eq("B1"), "annual_cost_gbp"].sum() == 0
