"""Disclosure control of the mitigation table: rules with an "All rules" total per proposal.

One function, used by the register (the programme's rules in the report and ``mitigations.csv``)
and by the per-proposal sections, so every copy of a rule's count is decided the same way.
"""

from __future__ import annotations

import pandas as pd

from placeplan.publish.disclosure import suppress

__all__ = ["published_mitigations"]


def published_mitigations(
    mitigations: pd.DataFrame, *, threshold: int, round_to: int, mode: str
) -> pd.DataFrame:
    """Suppress mitigation counts (and their £) with a total row per proposal and basis.

    Parameters
    ----------
    mitigations
        ``proposal, basis, rule, pupils, annual_cost_gbp, ...`` (more key columns allowed).
    threshold, round_to, mode
        Disclosure settings.

    Returns
    -------
    table
        The rows plus a ``rule = "All rules"`` total per (proposal, basis), suppressed by
        :func:`placeplan.publish.disclosure.suppress` (``annual_cost_gbp`` hidden with
        ``pupils``; a group with one hidden rule hides a second).
    """
    keys = [c for c in ("scenario_name", "scenario", "proposal", "basis") if c in mitigations]
    tot = (
        mitigations.groupby(keys, sort=False, as_index=False)[["pupils", "annual_cost_gbp"]]
        .sum()
        .assign(rule="All rules", what="", source="", who="", description="")
    )
    frame = pd.concat([mitigations, tot], ignore_index=True)
    return suppress(
        frame,
        count_cols=["pupils"],
        dependent_cols={"annual_cost_gbp": ["pupils"]},
        group_cols=[keys],
        total_rows=frame["rule"].eq("All rules"),
        threshold=threshold,
        round_to=round_to,
        mode=mode,  # type: ignore[arg-type]
    )
