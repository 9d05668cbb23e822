"""Disclosure control of the mitigation tables: rules with an "All rules" total per proposal.

:func:`published_mitigations` (the snapshot: today's cohort) is used by the register (the
programme's rules in the report and ``mitigations.csv``) and by the per-proposal sections, so
every copy of a rule's count is decided the same way. :func:`published_mitigations_by_year` is
the year-by-year table of the flow model's pupils (``mitigations_by_year.csv`` and the report's
mitigation section), decided once per run by the register.
"""

from __future__ import annotations

import pandas as pd

from placeplan.publish.disclosure import SUPPRESSED_MARKER, suppress, suppression_mask
from placeplan.publish.flows import round_measure

__all__ = [
    "mitigations_by_year_csv",
    "published_mitigations",
    "published_mitigations_by_year",
    "total_cost_hidden",
]


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
    out = suppress(
        frame,
        count_cols=["pupils"],
        dependent_cols={"annual_cost_gbp": ["pupils"]},
        group_cols=[keys],
        total_rows=frame["rule"].eq("All rules"),
        threshold=threshold,
        round_to=round_to,
        mode=mode,  # type: ignore[arg-type]
    )
    if mode == "published" and not out.empty:
        hide = total_cost_hidden(out, keys, out["pupils:suppressed"].astype(bool))
        out.loc[hide, "annual_cost_gbp"] = float("nan")
        out.loc[hide, "annual_cost_gbp:suppressed"] = True
    return out


def total_cost_hidden(frame: pd.DataFrame, keys: list[str], hidden: pd.Series) -> pd.Series:
    """The ``"All rules"`` rows whose £ must be hidden: those with a hidden rule in their group.

    Rules cost different amounts per pupil, so a published total £ beside the total pupils is a
    second equation over the hidden rules' pupils: two hidden rules (the least secondary
    suppression leaves) would both come back. Without the total £ only their sum is known.

    Parameters
    ----------
    frame
        Rule rows and their ``rule == "All rules"`` total rows.
    keys
        The columns that make one group (one total).
    hidden
        Rows whose pupils are hidden (index as ``frame``).

    Returns
    -------
    pandas.Series
        Boolean, index as ``frame``: the total rows to hide the £ of.
    """
    total = frame["rule"].eq("All rules")
    group = frame[keys].astype(str).agg("|".join, axis=1)
    with_hidden = set(group[hidden & ~total])
    return total & group.isin(with_hidden)


#: The total row of each group.
_TOTAL_RULE = "All rules"
#: The statistics of each quantity of :func:`published_mitigations_by_year`.
_STATS = ("", "_lower", "_upper")
_KEYS = ["scenario", "proposal", "basis", "run", "year"]


def _year_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The baseline and scenario rows with one count column (the smallest positive statistic,
    so a range can never bound a hidden central value) and the unchanged-pair groups."""
    runs = table[table["run"].isin(["baseline", "scenario"])].copy()
    pupils = runs[[f"pupils{s}" for s in _STATS]].apply(pd.to_numeric, errors="coerce")
    runs["_smallest"] = pupils.where(pupils > 0).min(axis=1).fillna(0.0)
    runs["_group"] = runs[_KEYS].astype(str).agg("|".join, axis=1)
    # a scenario equal to the baseline (nothing open yet): the pair is a group, hidden alike
    change = table[table["run"].eq("change")]
    stats = [f"{q}{s}" for q in ("pupils", "annual_cost_gbp") for s in _STATS]
    zero = change[(change[stats].fillna(0.0) == 0).all(axis=1)]
    same = set(
        zip(zero["scenario"], zero["proposal"], zero["basis"], zero["year"], zero["rule"],
            strict=True)
    )  # fmt: skip
    runs["_same"] = [
        "|".join(map(str, k)) if k in same else None
        for k in zip(runs["scenario"], runs["proposal"], runs["basis"], runs["year"],
                     runs["rule"], strict=True)
    ]  # fmt: skip
    return runs


def _decide(runs: pd.DataFrame, *, threshold: int, mode: str) -> pd.Series:
    """Hidden rows: primary, secondary within each year's rules and total, and the baseline run
    (the same numbers in every scenario's rows) hidden alike in every scenario."""
    force = pd.Series(False, index=runs.index)
    base = runs["run"].eq("baseline") & runs["basis"].eq("programme")
    same_cell = runs["year"].astype(str) + "|" + runs["rule"].astype(str)
    total = runs["rule"].eq(_TOTAL_RULE)
    # the total is the group's total row, not a member: secondary suppression takes rules
    # (never the total, which flows.csv publishes again as the pupils over the maximum)
    # unless none is left; pairs of unchanged rows are groups of rules only, and an unchanged
    # total is hidden with its pair below
    groups = runs.assign(_same=runs["_same"].where(~total))
    pair = runs["_same"].where(total)
    while True:
        decided = suppress(
            groups.assign(_smallest=runs["_smallest"].where(~force, threshold / 2.0)),
            count_cols=["_smallest"],
            group_cols=[["_group"], ["_same"]],
            total_rows=total,
            threshold=threshold,
            mode=mode,  # type: ignore[arg-type]
        )
        hidden = suppression_mask(decided)["_smallest"]
        shared = set(same_cell[base & hidden])
        paired = set(pair[hidden & pair.notna()])
        more = (
            (base & same_cell.isin(shared) & ~hidden)
            | (pair.isin(paired) & ~hidden)
            | _hidden_sum_too_small(runs, hidden, threshold)
        )
        if not more.any():
            return hidden
        force |= more


def _hidden_sum_too_small(runs: pd.DataFrame, hidden: pd.Series, threshold: int) -> pd.Series:
    """One more rule row to hide in each year whose hidden rules add up to under ``threshold``.

    Rows are means over the model's runs, so a year's published total less its published
    rules gives the hidden rules' sum, and published £ at different rates per pupil narrow it
    further: two hidden rules that add up to 0.7 pupils are both known to be under one. The
    smallest published positive rule of that year is hidden too, until the hidden sum reaches
    the threshold; when no rule is left, the year's total is hidden.
    """
    pupils = pd.to_numeric(runs["pupils"], errors="coerce").fillna(0.0)
    rule = ~runs["rule"].eq(_TOTAL_RULE)
    sums = pupils[hidden & rule].groupby(runs["_group"][hidden & rule]).sum()
    short = set(sums[sums < threshold].index)
    more = pd.Series(False, index=runs.index)
    open_rows = rule & ~hidden & (pupils > 0) & runs["_group"].isin(short)
    if open_rows.any():
        smallest = pupils[open_rows].groupby(runs["_group"][open_rows]).idxmin()
        more.loc[smallest.to_numpy()] = True
    # nothing left to hide among the rules: the total itself would bound them (a total of 0
    # says every hidden rule's mean is under half a pupil), so it goes too
    exhausted = short - set(runs["_group"][open_rows])
    more |= ~rule & ~hidden & runs["_group"].isin(exhausted)
    return more


def published_mitigations_by_year(
    table: pd.DataFrame, *, threshold: int, round_to: int, mode: str
) -> pd.DataFrame:
    """Suppress and round the year-by-year mitigation table.

    Parameters
    ----------
    table
        From :func:`placeplan.compute.mitigation_years.mitigations_by_year` (``scenario,
        proposal, basis, run, year, rule, ..., pupils, pupils_lower, pupils_upper,
        annual_cost_gbp, annual_cost_gbp_lower, annual_cost_gbp_upper``).
    threshold, round_to, mode
        Disclosure settings.

    Returns
    -------
    table
        The same rows and columns plus a boolean ``suppressed``. A baseline or scenario row is
        hidden (all six statistics: pupils and the £ computed from them) when any of its three
        counts is above 0 and under the threshold, by
        :func:`placeplan.publish.disclosure.suppress`; secondary suppression keeps each year's
        rules and their ``"All rules"`` total from giving a hidden row back, and pairs a
        scenario row with its baseline row where the two are equal. An ``"All rules"`` row's
        £ is hidden as well where a rule of its year is (:func:`total_cost_hidden`; boolean
        ``cost_suppressed``, which is also true wherever ``suppressed`` is). The baseline run's rows
        are the same in every scenario and hidden alike in all. A ``change`` row is hidden
        where its baseline or scenario row is; its published central value is the published
        scenario less the published baseline. Counts are rounded to whole pupils (or
        ``round_to``), £ to the nearest £1,000 (as in ``flows.csv``).
    """
    out = table.reset_index(drop=True).copy()
    hidden = pd.Series(False, index=out.index)
    if mode == "published" and not out.empty:
        runs = _year_frame(out)
        hidden.loc[runs.index] = _decide(runs, threshold=threshold, mode=mode)
    for q in ("pupils", "annual_cost_gbp"):
        for s in _STATS:
            out[f"{q}{s}"] = round_measure(q, out[f"{q}{s}"], round_to=round_to)
    # a change: hidden with either run; its central value = published scenario - baseline
    partners = _change_partners(out)
    for run, (idx, src) in partners.items():
        hidden.loc[idx] = hidden.loc[idx].to_numpy() | hidden.loc[src].to_numpy()
        for q in ("pupils", "annual_cost_gbp"):
            val = out.loc[src, q].to_numpy()
            out.loc[idx, q] = (out.loc[idx, q] + val if run == "scenario" else -val) + 0.0
    # a total's £ with a hidden rule in its year (or, for a change, in either run's year)
    levels = out["run"].isin(["baseline", "scenario"])
    cost = pd.Series(False, index=out.index)
    cost[levels] = total_cost_hidden(out[levels], _KEYS, hidden[levels])
    for idx, src in partners.values():
        cost.loc[idx] = cost.loc[idx].to_numpy() | cost.loc[src].to_numpy()
    cost |= hidden
    stats = [f"{q}{s}" for q in ("pupils", "annual_cost_gbp") for s in _STATS]
    out.loc[hidden, stats] = float("nan")
    out.loc[cost, [f"annual_cost_gbp{s}" for s in _STATS]] = float("nan")
    out["suppressed"] = hidden.to_numpy(dtype=bool)
    out["cost_suppressed"] = cost.to_numpy(dtype=bool)
    return out


def _change_partners(out: pd.DataFrame) -> dict[str, tuple[pd.Index, pd.Index]]:
    """For the baseline and then the scenario run: the ``change`` rows that have a row of that
    run for the same scenario, proposal, basis, year and rule, and those rows (aligned)."""
    cell = pd.MultiIndex.from_frame(out[["scenario", "proposal", "basis", "year", "rule"]])
    change = out["run"].eq("change").to_numpy()
    pairs = {}
    for run in ("baseline", "scenario"):
        mine = out["run"].eq(run).to_numpy()
        at = pd.Index(cell[mine]).get_indexer(cell[change])
        found = at >= 0
        pairs[run] = (out.index[change][found], out.index[mine][at[found]])
    return pairs


def mitigations_by_year_csv(published: pd.DataFrame) -> pd.DataFrame:
    """``mitigations_by_year.csv``: the published table with ``c`` where hidden (DfE marker).

    Parameters
    ----------
    published
        From :func:`published_mitigations_by_year`.

    Returns
    -------
    table
        The same columns without ``suppressed``; hidden statistics are ``c``.
    """
    flags = [c for c in ("suppressed", "cost_suppressed") if c in published.columns]
    out = published.drop(columns=flags).astype(
        {f"{q}{s}": object for q in ("pupils", "annual_cost_gbp") for s in _STATS}
    )
    hidden = published["suppressed"].to_numpy(dtype=bool)
    cost = published.get("cost_suppressed", published["suppressed"]).to_numpy(dtype=bool)
    for q, rows in (("pupils", hidden), ("annual_cost_gbp", hidden | cost)):
        for s in _STATS:
            out.loc[rows, f"{q}{s}"] = SUPPRESSED_MARKER
    return out
