"""Disclosure control of the mitigation tables: rules with an "All rules" total per level.

:func:`published_mitigations_by_year` is the one rule: per level (scenario, proposal, basis,
run, year) every rule is shown when each is 0 or at least the threshold, else only the total (the
rules ``withheld``), and a change follows its two levels. It publishes the year-by-year table of
the flow model's pupils (``mitigations_by_year.csv`` and the report's mitigation section),
decided once per run by the register. :func:`published_mitigations` (the snapshot: today's
cohort, as one "year" of that table) is used by the register (the programme's rules in the
report and ``mitigations.csv``) and by the per-proposal sections, so every copy of a rule's
count is decided the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from placeplan.publish.disclosure import (
    SUPPRESSED_MARKER,
    Published,
    mask_columns,
    suppression_mask,
)
from placeplan.publish.flows import DEPENDS_ON, round_measure
from placeplan.publish.report.impact import (
    ImpactTable,
    level_counts,
    levels_hidden,
    movers_hidden,
)

__all__ = [
    "WITHHELD_NOTE",
    "census_year_hidden",
    "mitigation_levels",
    "mitigations_by_year_csv",
    "programme_level",
    "published_mitigations",
    "published_mitigations_by_year",
    "released_mitigations_by_year",
    "total_cost_pins_a_rule",
    "year_table_hidden",
]


def published_mitigations(
    mitigations: pd.DataFrame,
    *,
    threshold: int,
    round_to: int,
    mode: str,
    tables: Mapping[tuple[str, str], ImpactTable] | None = None,
) -> pd.DataFrame:
    """Disclosure-control the snapshot's mitigation rows, with an "All rules" total per level.

    The snapshot (today's cohort) is one "year" of :func:`published_mitigations_by_year`'s
    table, whose range is the value itself, and is decided by that function: the same rule for
    every mitigation figure the report and the CSVs publish, so a level published in several
    places (the baseline under every proposal, the programme under each contribution, the
    programme's rules in section 4) is published alike.

    Parameters
    ----------
    mitigations
        ``proposal, basis, run, rule, pupils, annual_cost_gbp, cost_gbp_per_pupil_year, ...``
        (:attr:`placeplan.compute.proposals.ProposalAssessment.mitigations`; more key columns
        such as ``scenario`` or ``scenario_name`` allowed). Without ``proposal`` / ``basis`` /
        ``run`` the rows are the programme's level (``run = "scenario"``).
    threshold, round_to, mode
        Disclosure settings.
    tables
        The published impact tables of the same comparisons, by (proposal, basis) (the
        programme's is ``("programme", "programme")``; None: none). What they hide and publish
        decides three things here:

        - comparisons whose own side they hide (pupils who change setting, or over the
          maximum / by ferry / by road: :func:`placeplan.publish.report.impact.movers_hidden`):
          the level is theirs and, where it differs from the shared level (a rule's change is
          not 0), is hidden whole (rules and total), as the impact table hides a non-zero
          change there: the level with the programme or a proposal alone (``scenario``), the
          programme without a proposal (``without``) for its contribution;
        - levels whose pupils over the reasonable maximum, by ferry or by road they hide
          (:func:`placeplan.publish.report.impact.levels_hidden`): their non-zero rules and
          their total are hidden (a rule for those journeys counts those pupils), a zero rule
          stays published (it is 0 in the shared level too);
        - a level whose rule detail is withheld keeps its total only while no set of its rules
          adds up to a count they publish on its side
          (:func:`placeplan.publish.report.impact.level_counts`) with the rest of the total 1 to
          ``threshold - 1`` pupils: the total less that count would give the rest back.

        Changes follow their levels.

    Returns
    -------
    table
        The rows plus a ``rule = "All rules"`` total per level (key columns and ``run``), with
        ``run`` filled, the published ``pupils`` and ``annual_cost_gbp`` (rounded as the
        year-by-year table: whole pupils or ``round_to``, £ to the nearest £1,000; a ``change``
        row is the published level less the published comparison), their
        ``"<column>:suppressed"`` mask columns, ``withheld`` (a rule row of a level whose rule
        detail is withheld: every rule 0 or at least ``threshold``, else the total only) and
        ``note``.
    """
    frame = mitigations.reset_index(drop=True)
    defaults = {"proposal": "programme", "basis": "programme", "run": "scenario"}
    frame = frame.assign(**{k: v for k, v in defaults.items() if k not in frame.columns})
    if "cost_gbp_per_pupil_year" not in frame.columns:
        frame["cost_gbp_per_pupil_year"] = float("nan")
    keys = [c for c in ("scenario_name", "scenario", "proposal", "basis", "run") if c in frame]
    tot = (
        frame.groupby(keys, sort=False, as_index=False)[["pupils", "annual_cost_gbp"]]
        .sum()
        .assign(rule=_TOTAL_RULE, what="", source="", who="", description="")
    )
    frame = pd.concat([frame, tot], ignore_index=True)
    scen = [c for c in ("scenario_name", "scenario") if c in frame.columns]
    level = pd.DataFrame(
        {
            "scenario": frame[scen].astype(str).agg("|".join, axis=1) if scen else "",
            **{c: frame[c].astype(str) for c in ("proposal", "basis", "run", "rule")},
            "year": "snapshot",
            "cost_gbp_per_pupil_year": frame["cost_gbp_per_pupil_year"].astype(float),
        },
        index=frame.index,
    )
    for q in ("pupils", "annual_cost_gbp"):
        for stat in _STATS:
            level[f"{q}{stat}"] = frame[q].astype(float)
    # as the impact table: with few movers a level is hidden where it differs from the shared
    # one (some rule's change is not 0: those pupils' own); without change rows, always
    moved = frame["proposal"].astype(str) + "|" + frame["basis"].astype(str)
    change = frame["run"].eq("change")
    same = {
        k
        for k in set(moved[change])
        if (frame.loc[change & moved.eq(k), "pupils"].astype(float) == 0).all()
    }
    tables = tables or {}
    own = {(p, b, r) for p, b, r in movers_hidden(tables) if f"{p}|{b}" not in same}
    # in a hidden level, the rules its comparison leaves unchanged are the shared level's
    # (published there): only the changed rules and the total are hidden
    ch = frame[change & frame["pupils"].astype(float).ne(0)]
    changed = set(zip(ch["proposal"].astype(str), ch["basis"].astype(str), ch["rule"], strict=True))
    given = _totals_given_back(
        level, level_counts(tables), ["proposal", "basis", "run"], threshold=threshold,
        round_to=round_to,
    )  # fmt: skip
    linked = levels_hidden(tables) | {(p, b, r) for p, b, r in given}
    hide = pd.Series(
        [
            ((p, b, r) in own and (rule == _TOTAL_RULE or (p, b, rule) in changed))
            or ((p, b, r) in linked and (rule == _TOTAL_RULE or n != 0))
            for p, b, r, rule, n in zip(
                level["proposal"],
                level["basis"],
                level["run"],
                level["rule"],
                level["pupils"],
                strict=True,
            )
        ],
        index=level.index,
    )
    pub = published_mitigations_by_year(
        level, threshold=threshold, round_to=round_to, mode=mode, hide=hide
    )
    out = frame.copy()
    out["pupils"] = pub["pupils"].to_numpy()
    out["annual_cost_gbp"] = pub["annual_cost_gbp"].to_numpy()
    out["pupils:suppressed"] = pub["suppressed"].to_numpy(dtype=bool)
    out["annual_cost_gbp:suppressed"] = pub["cost_suppressed"].to_numpy(dtype=bool)
    out["withheld"] = pub["withheld"].to_numpy(dtype=bool)
    out["note"] = pub["note"].to_numpy()
    if mode == "published":
        _publish_zero_rules(frame, out, [k for k in keys if k != "run"])
    out.attrs["disclosure_threshold"] = threshold
    return out


def mitigation_levels(
    mitigations: pd.DataFrame | None,
    tables: Mapping[tuple[str, str], ImpactTable],
    *,
    threshold: int,
    round_to: int,
    mode: str,
) -> Published | None:
    """:func:`published_mitigations` as a :class:`~placeplan.publish.disclosure.Published`
    table (values and mask), the register's form; None without pupils to publish.

    Parameters
    ----------
    mitigations
        As for :func:`published_mitigations` (a missing ``annual_cost_gbp`` is £0).
    tables
        The published impact tables of the same comparisons.
    threshold, round_to, mode
        Disclosure settings.

    Returns
    -------
    Published or None
        Every level's rules and total, with the mask of what is hidden.
    """
    if mitigations is None or "pupils" not in mitigations.columns:
        return None
    if "annual_cost_gbp" not in mitigations.columns:
        mitigations = mitigations.assign(annual_cost_gbp=0.0)
    frame = published_mitigations(
        mitigations, threshold=threshold, round_to=round_to, mode=mode, tables=tables
    )
    mask = suppression_mask(frame)
    return Published(frame.drop(columns=mask_columns(frame)), mask)


def programme_level(levels: Published | None) -> Published | None:
    """The programme's own level (its rules against today's cohort, with the programme: run
    ``scenario``) of :func:`mitigation_levels`' table: the report's section 4.

    Parameters
    ----------
    levels
        From :func:`mitigation_levels` (None: none).

    Returns
    -------
    Published or None
        Those rows, index reset.
    """
    if levels is None:
        return None
    v = levels.values
    rows = (v["proposal"].eq("programme") & v["run"].eq("scenario")).to_numpy()
    return Published(v[rows].reset_index(drop=True), levels.mask[rows].reset_index(drop=True))


def released_mitigations_by_year(
    table: pd.DataFrame | None,
    levels: Mapping[str, Published | None],
    flows: pd.DataFrame | None,
    *,
    threshold: int,
    round_to: int,
    mode: str,
) -> pd.DataFrame | None:
    """The year-by-year table as the register releases it: :func:`published_mitigations_by_year`
    hiding also what :func:`year_table_hidden` finds from the other published tables.

    Parameters
    ----------
    table
        The year-by-year table (None: none).
    levels, flows
        As for :func:`year_table_hidden`.
    threshold, round_to, mode
        Disclosure settings.

    Returns
    -------
    pd.DataFrame or None
        The published table (``mitigations_by_year.csv``'s numbers), None without ``table``.
    """
    if table is None:
        return None
    hide = year_table_hidden(table, levels, flows, threshold=threshold, round_to=round_to)
    return published_mitigations_by_year(
        table, threshold=threshold, round_to=round_to, mode=mode, hide=hide
    )


def year_table_hidden(
    table: pd.DataFrame,
    levels: Mapping[str, Published | None],
    flows: pd.DataFrame | None,
    *,
    threshold: int,
    round_to: int,
) -> pd.Series:
    """The rows of the year-by-year table other published tables decide to hide.

    :func:`census_year_hidden` (today's baseline level), and the total of a level whose rule
    detail is withheld where some of its rules add up to a count ``flows.csv`` publishes for the
    same run and year (pupils over the reasonable maximum, by ferry, worse off, movers, ...)
    and the rest to half a pupil to under ``threshold``: the total less that count would give
    the rest back (as :func:`published_mitigations` does against the impact tables).

    Parameters
    ----------
    table
        The year-by-year table (:func:`published_mitigations_by_year`'s input).
    levels
        Scenario name -> :func:`mitigation_levels` of that scenario (None: none).
    flows
        The published flow table (:func:`placeplan.publish.flows.published_flows`; None: none).
    threshold, round_to
        Disclosure settings.

    Returns
    -------
    pd.Series
        Boolean, index as ``table``: the ``hide`` of :func:`published_mitigations_by_year`.
    """
    out = census_year_hidden(table, levels)
    if flows is None or table.empty:
        return out
    f = flows[
        ~flows["suppressed"].astype(bool)
        & ~flows["measure"].isin(list(DEPENDS_ON))
        & ~flows["measure"].astype(str).str.startswith("placements:")
    ]
    runs = {str(r) for r in f["scenario"]}
    known: dict[tuple[str, ...], set[float]] = {}
    for scen in table["scenario"].astype(str).unique():
        for run, name in (("baseline", "baseline"), ("scenario", scen)):
            if name not in runs:
                continue
            at = f[f["scenario"].astype(str).eq(name)]
            for y, v in zip(at["year"].astype(str), at["central"], strict=True):
                if pd.notna(v):
                    known.setdefault((scen, run, y), set()).add(float(v))
    # decided on the programme's levels (one level a key: each proposal's baseline repeats the
    # programme's, and its rules counted again would make other sums), hidden there and in
    # each proposal's baseline, the same level
    prog = table["proposal"].eq("programme")
    ours = prog | table["run"].eq("baseline")
    keys = ["scenario", "run", "year"]
    given = _totals_given_back(table[prog], known, keys, threshold=threshold, round_to=round_to)
    level = table[keys].astype(str).agg("|".join, axis=1)
    return out | (ours & table["rule"].eq(_TOTAL_RULE) & level.isin({"|".join(g) for g in given}))


def census_year_hidden(table: pd.DataFrame, levels: Mapping[str, Published | None]) -> pd.Series:
    """The year-by-year rows that are today's baseline level, where today's table hides them.

    In the census year every run of the flow model is the census (the baseline, with nothing
    open yet), so every level of that year (baseline, with the programme, with a proposal alone,
    without one) is today's baseline level (``mitigations.csv``'s ``programme / baseline``): a
    rule or total hidden there (the impact tables' relations hide more than the year table's
    own rule) is hidden in every level of that year too (hiding it in one would leave it in
    another), as the flow table's census year follows the impact baseline (a census year that
    is not today's only hides more).

    Parameters
    ----------
    table
        The year-by-year table (:func:`published_mitigations_by_year`'s input).
    levels
        Scenario name -> :func:`mitigation_levels` of that scenario (None: none).

    Returns
    -------
    pd.Series
        Boolean, index as ``table``: rows to hide whatever their numbers (the ``hide`` of
        :func:`published_mitigations_by_year`).
    """
    out = pd.Series(False, index=table.index)
    if table.empty:
        return out
    first = sorted(table["year"].astype(str).unique())[0]
    at = table["year"].astype(str).eq(first) & ~table["run"].eq("change")
    for name, pub in levels.items():
        if pub is None:
            continue
        v = pub.values
        today = v["proposal"].eq("programme") & v["run"].eq("baseline")
        hidden = dict(zip(v.loc[today, "rule"], pub.mask.loc[today, "pupils"], strict=True))
        rows = at & table["scenario"].astype(str).eq(name)
        out |= rows & table["rule"].map(hidden).fillna(False).astype(bool)
    return out


def _totals_given_back(
    level: pd.DataFrame,
    known: Mapping[tuple[str, ...], set[float]],
    keys: list[str],
    *,
    threshold: int,
    round_to: int,
) -> set[tuple[str, ...]]:
    """The levels (``keys``' values) whose rule detail is withheld (a rule covers 1 to
    ``threshold - 1`` pupils) and whose total less a published count (``known`` for the level)
    would be such a set of their rules: some set of their non-zero rules adds up to that
    count and the others to 1 to ``threshold - 1`` pupils (:func:`_gives_back`)."""
    out: set[tuple[str, ...]] = set()
    tol = max(1, round_to) / 2.0
    rules = level[~level["rule"].eq(_TOTAL_RULE) & ~level["run"].eq("change")]
    for key, grp in rules.groupby(keys, sort=False):
        lvl = tuple(str(k) for k in key)
        n = [float(v) for v in grp["pupils"] if float(v) != 0]
        if _gives_back(n, known.get(lvl, set()), threshold=threshold, tol=tol):
            out.add(lvl)
    return out


def _gives_back(n: list[float], values: set[float], *, threshold: int, tol: float) -> bool:
    """Whether rules covering ``n`` pupils (each non-zero; means allowed) with their total
    published give a small count back to someone who knows ``values``: some rule is 1 to
    ``threshold - 1`` pupils (from half a pupil) and some set of the rules adds up to a known
    value (within ``tol``) while the rest adds up to half a pupil to under ``threshold``."""
    if not values or not any(0.5 <= v < threshold for v in n):
        return False
    if len(n) > _MAX_RULES_SEARCHED:  # too many sets to try: withhold the total
        return True
    total = sum(n)
    return any(
        0.5 <= total - sum(part) < threshold and any(abs(sum(part) - v) <= tol for v in values)
        for size in range(1, len(n))
        for part in itertools.combinations(n, size)
    )


#: More non-zero rules in a withheld level than this: its total is hidden without a search.
_MAX_RULES_SEARCHED = 12


def _publish_zero_rules(frame: pd.DataFrame, out: pd.DataFrame, keys: list[str]) -> None:
    """Publish, as 0, a rule that covers no one in either level of its comparison (nor so in
    its change), where a withheld level had hidden it: the intruder knows those zeros from the
    impact table (no pupil's journey longer, none over the maximum by road), so a ``c`` there
    protects nothing and is undone; the level's other rules and its total stay as decided.
    """
    rule = ~frame["rule"].eq(_TOTAL_RULE)
    ids = frame[[*keys, "rule"]].astype(str).agg("|".join, axis=1)
    nonzero = set(ids[frame["pupils"].astype(float).ne(0) | ~rule])
    zero = rule & ~ids.isin(nonzero) & out["withheld"].astype(bool)
    out.loc[zero, ["pupils", "annual_cost_gbp"]] = 0.0
    out.loc[zero, ["pupils:suppressed", "annual_cost_gbp:suppressed", "withheld"]] = False
    out.loc[zero, "note"] = float("nan")


#: The total row of each group.
_TOTAL_RULE = "All rules"
#: The statistics of each quantity of :func:`published_mitigations_by_year`.
_STATS = ("", "_lower", "_upper")
_KEYS = ["scenario", "proposal", "basis", "run", "year"]
#: The comparison level of a change row (``without`` for a proposal's contribution).
_BEFORE = ("baseline", "without")
#: ``note`` of a rule row whose year's rule detail is withheld.
WITHHELD_NOTE = "rule detail withheld: a rule covers fewer than {threshold} pupils"


def _smallest(frame: pd.DataFrame) -> pd.Series:
    """The smallest positive of each row's three pupil statistics (0 where none is positive),
    so a range can never bound a hidden central value."""
    pupils = frame[[f"pupils{s}" for s in _STATS]].apply(pd.to_numeric, errors="coerce")
    return pupils.where(pupils > 0).min(axis=1).fillna(0.0)


def published_mitigations_by_year(
    table: pd.DataFrame,
    *,
    threshold: int,
    round_to: int,
    mode: str,
    hide: pd.Series | None = None,
) -> pd.DataFrame:
    """Disclosure-control and round the year-by-year mitigation table.

    Parameters
    ----------
    table
        From :func:`placeplan.compute.mitigation_years.mitigations_by_year` (``scenario,
        proposal, basis, run, year, rule, ..., pupils, pupils_lower, pupils_upper,
        annual_cost_gbp, annual_cost_gbp_lower, annual_cost_gbp_upper``).
    threshold, round_to, mode
        Disclosure settings.
    hide
        Boolean, index as ``table``: level rows hidden whatever their numbers (published mode;
        a level another table hides, see :func:`published_mitigations`); changes follow.

    Returns
    -------
    table
        The same rows and columns plus booleans ``suppressed`` (pupils and £ hidden),
        ``cost_suppressed`` (£ hidden; true wherever ``suppressed`` is) and ``withheld`` (a
        rule row of a year whose rule detail is withheld), and the text ``note``. The rule,
        applied to each level (scenario, proposal, basis, run and year):

        - every rule row is 0 or at least ``threshold`` in all three statistics: every row and
          the ``"All rules"`` total are published;
        - otherwise **the total only**: every rule row of that level is withheld (hidden, with
          :data:`WITHHELD_NOTE`), so no hidden rule stands beside a published total and its
          other rules; the total's pupils are published when each statistic is 0 or at least
          ``threshold`` and the central value is not 0 (which would pin every hidden rule near
          0), and its £ as well unless the total pupils and £ together (rules cost different
          amounts per pupil) would pin a rule to 1 to ``threshold - 1`` pupils
          (:func:`total_cost_pins_a_rule`; the intruder is credited with knowing which rules
          cover no one in any year of that run, such as the rules for longer journeys in the
          baseline).

        A ``change`` row (scenario less its comparison) is hidden, withheld or £-hidden where
        either level's row is; its central value is the published scenario less the published
        comparison. Decisions depend only on a level's own numbers, so a level repeated in
        several scenarios or proposals (the baseline) is published alike everywhere. Counts are
        rounded to whole pupils (or ``round_to``), £ to the nearest £1,000 (as in
        ``flows.csv``).
    """
    out = table.reset_index(drop=True).copy()
    hidden = pd.Series(False, index=out.index)
    withheld = pd.Series(False, index=out.index)
    level = ~out["run"].eq("change")
    total = out["rule"].eq(_TOTAL_RULE)
    group = out[_KEYS].astype(str).agg("|".join, axis=1) if len(out) else pd.Series(dtype=str)
    if mode == "published" and not out.empty:
        small = level & _smallest(out).between(0.0, threshold, inclusive="neither")
        # a small total (a range end of 1-4 over rules each 0 or >= threshold) withholds too:
        # hidden alone, its central value would be the sum of the published rules
        withheld = level & ~total & group.isin(set(group[small]))
        hidden = withheld | (small & total)
        if hide is not None:
            forced = level & pd.Series(np.asarray(hide, dtype=bool), index=out.index)
            withheld &= ~forced
            hidden |= forced
    used = _used_rules(out) & ~total
    for q in ("pupils", "annual_cost_gbp"):
        for s in _STATS:
            out[f"{q}{s}"] = round_measure(q, out[f"{q}{s}"], round_to=round_to)
    if mode == "published" and withheld.any():
        # a withheld level whose total is published as 0 pupils would pin every rule's central
        # value under half a pupil (its ranges are what is small): the total goes too
        bare = level & total & group.isin(set(group[withheld])) & out["pupils"].eq(0)
        hidden |= bare
    cost = hidden.copy()
    if mode == "published" and withheld.any():
        tol = max(1, round_to) / 2.0
        for g in set(group[withheld]):
            at = group.eq(g)
            tot = out[at & total & ~hidden]
            if tot.empty:
                continue
            rules = out[at & used]
            if total_cost_pins_a_rule(
                rules["cost_gbp_per_pupil_year"].astype(float).tolist(),
                float(tot["pupils"].iloc[0]),
                float(tot["annual_cost_gbp"].iloc[0]),
                threshold=threshold,
                tol_pupils=tol,
            ):
                cost[tot.index] = True
    # a change: as either level; its central value = published scenario - comparison
    for run, (idx, src) in _change_partners(out).items():
        for flag in (hidden, withheld, cost):
            flag.loc[idx] = flag.loc[idx].to_numpy() | flag.loc[src].to_numpy()
        for q in ("pupils", "annual_cost_gbp"):
            val = out.loc[src, q].to_numpy()
            out.loc[idx, q] = (out.loc[idx, q] + val if run == "scenario" else -val) + 0.0
    cost |= hidden
    stats = [f"{q}{s}" for q in ("pupils", "annual_cost_gbp") for s in _STATS]
    out.loc[hidden, stats] = float("nan")
    out.loc[cost, [f"annual_cost_gbp{s}" for s in _STATS]] = float("nan")
    out["suppressed"] = hidden.to_numpy(dtype=bool)
    out["cost_suppressed"] = cost.to_numpy(dtype=bool)
    out["withheld"] = withheld.to_numpy(dtype=bool)
    out["note"] = [WITHHELD_NOTE.format(threshold=threshold) if w else "" for w in withheld]
    return out


def total_cost_pins_a_rule(
    rates_gbp: list[float],
    pupils: float,
    cost_gbp: float,
    *,
    threshold: int,
    tol_pupils: float = 0.5,
    tol_gbp: float = 500.0,
) -> bool:
    """Whether a published total (pupils and £) would give back one of its withheld rules.

    The intruder is credited with knowing which rules can cover anyone (``rates_gbp``: their £
    per pupil a year) and solves ``sum(n) = pupils``, ``sum(rate * n) = cost_gbp`` (each within
    its rounding) for each rule's pupils ``n >= 0``, by linear programming. With two rules at
    different rates the pair of totals is two equations that solve them. A rule pinned at
    ``threshold`` or more, or to a range that reaches below half a pupil, gives no small count
    away.

    Parameters
    ----------
    rates_gbp
        £ per pupil a year of each rule that covers anyone.
    pupils, cost_gbp
        The total as published.
    threshold
        The disclosure threshold.
    tol_pupils, tol_gbp
        Half the rounding base of each.

    Returns
    -------
    bool
        True when some rule's range lies within half a pupil to under ``threshold``.

    Examples
    --------
    >>> total_cost_pins_a_rule([4000.0, 2500.0], 18.0, 67_500.0, threshold=5)  # 15 + 3
    True
    >>> total_cost_pins_a_rule([4000.0, 2500.0, 500.0, 0.0], 30.0, 70_000.0, threshold=5)
    False
    >>> total_cost_pins_a_rule([4000.0, 0.0], 21.0, 81_000.0, threshold=5)  # 20.33 + 0.33
    False
    >>> total_cost_pins_a_rule([4000.0, 0.0], 22.0, 81_000.0, threshold=5)  # 20.33 + 1.67
    True
    """
    from scipy.optimize import linprog

    k = len(rates_gbp)
    if k == 0:
        return False
    rate = np.asarray(rates_gbp, dtype=float)
    a_ub = np.vstack([np.ones(k), -np.ones(k), rate, -rate])
    b_ub = np.array(
        [pupils + tol_pupils, tol_pupils - pupils, cost_gbp + tol_gbp, tol_gbp - cost_gbp]
    )
    for j in range(k):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(k)
            c[j] = sign
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
            if res.status != 0:
                return True  # infeasible or failed: do not publish on a guess
            ends.append(sign * float(res.fun))
        lo, hi = ends
        # pupils are means over the model's runs: known to be under the threshold and not 0 (a
        # mean that rounds to a pupil or more) is a small count given away; known to be about 0
        # is not (no pupil), nor is a rule known at the threshold or more
        if hi < threshold - 1e-9 and lo >= 0.5 - 1e-9:
            return True
    return False


def _used_rules(out: pd.DataFrame) -> pd.Series:
    """Rows of a rule that covers someone (any statistic) in some year of its run."""
    stats = [f"pupils{s}" for s in _STATS]
    positive = (out[stats].apply(pd.to_numeric, errors="coerce").fillna(0.0) > 0).any(axis=1)
    run = out[[*_KEYS[:-1], "rule"]].astype(str).agg("|".join, axis=1)
    return run.isin(set(run[positive]))


def _change_partners(out: pd.DataFrame) -> dict[str, tuple[pd.Index, pd.Index]]:
    """For the comparison level (``baseline`` or ``without``) and then the scenario level: the
    ``change`` rows that have a row of that level for the same scenario, proposal, basis, year
    and rule, and those rows (aligned)."""
    cell = pd.MultiIndex.from_frame(out[["scenario", "proposal", "basis", "year", "rule"]])
    change = out["run"].eq("change").to_numpy()
    pairs = {}
    for run, runs in (("baseline", _BEFORE), ("scenario", ("scenario",))):
        mine = out["run"].isin(runs).to_numpy()
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
    flags = [c for c in ("suppressed", "cost_suppressed", "withheld") if c in published.columns]
    out = published.drop(columns=flags).astype(
        {f"{q}{s}": object for q in ("pupils", "annual_cost_gbp") for s in _STATS}
    )
    hidden = published["suppressed"].to_numpy(dtype=bool)
    cost = published.get("cost_suppressed", published["suppressed"]).to_numpy(dtype=bool)
    for q, rows in (("pupils", hidden), ("annual_cost_gbp", hidden | cost)):
        for s in _STATS:
            out.loc[rows, f"{q}{s}"] = SUPPRESSED_MARKER
    return out
