"""Kinds of place by age from the DfE EHCP release: transitions at phase transfer, new plans' mix.

The release publishes plans at each January census by single year of age × placement type
(``breakdown_topic`` "Child or young persons age"; the latest two censuses) and new plans by age
when the plan started × first placement ("Age when plan started"; two or three calendar years).
This module turns those tables into the two inputs the placement-flow model
(:mod:`placeplan.compute.flows`) needs about *kinds* of place:

* :func:`phase_transfer_rates`: the yearly probability that a pupil moves from one kind of place
  to another as they go up a year (mainstream → specialist at Year 7, specialist → college at 16),
  estimated cohort-wise from the change of shares by age between consecutive censuses;
* :func:`new_plan_mix`: the share of new plans whose first placement is each kind, by NC year.

Kinds are the flow model's groups (:func:`placeplan.compute.flows.placement_group`):
``mainstream`` (mainstream schools), ``specialist`` (resourced provision, SEN units, special
schools of every type, specialist post-16 institutions), ``ap`` (AP and PRUs), ``fe`` (general FE
and tertiary colleges, other post-16 providers) and ``other`` (everything else the release counts:
early years, home education, other arrangements, NEET, not known; computed as all plans minus the
named kinds, so the
release's overlapping sub-columns are never double counted). :func:`new_plan_mix` further splits
``independent`` (``special_independent`` + ``special_non_maintained``) out of ``specialist``.
Ages are the release's (age at 31 August before the census); NC year = age - 4 (Reception = 0).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows import INDEPENDENT_NON_MAINTAINED_TYPES, placement_group
from placeplan.compute.flows_kinds import GROUPS, KINDS
from placeplan.compute.forecast_cohort import minimum_flow_transitions

if TYPE_CHECKING:
    from placeplan.prepare.sen2 import Sen2Release

__all__ = [
    "GROUPS",
    "KINDS",
    "kinds_by_age",
    "new_plan_mix",
    "phase_transfer_rates",
    "release_kind",
]


logger = logging.getLogger(__name__)

_AGE_TOPICS = {"caseload": "Child or young persons age", "new_plans": "Age when plan started"}
_TOTALS = {"caseload": "ehcplans", "new_plans": "new_ehc_plans"}


def release_kind(measure: str, *, split_independent: bool = False) -> str | None:
    """Return the kind of place a release placement column counts, or None for totals and others.

    Parameters
    ----------
    measure
        A DfE EHCP release column name (``special_independent``, ``mainstream_total``, ...).
    split_independent
        Count ``special_independent`` and ``special_non_maintained`` as ``independent`` instead of
        ``specialist``.

    Returns
    -------
    kind
        ``mainstream``, ``specialist``, ``ap``, ``fe`` (or ``independent``); ``None`` for totals
        (``*_total``, ``ehcplans``, ``new_ehc_plans``) and for the columns counted as ``other``
        (the remainder of all plans).

    Examples
    --------
    >>> release_kind("mainstream_academy_resourced_provision"), release_kind("fe_total")
    ('specialist', None)
    >>> release_kind("special_non_maintained", split_independent=True)
    'independent'
    """
    m = str(measure)
    if m.endswith("_total") or m in _TOTALS.values():
        return None
    if split_independent and m in INDEPENDENT_NON_MAINTAINED_TYPES:
        return "independent"
    group = placement_group(m)
    return None if group == "other" else group


def kinds_by_age(
    release: Sen2Release,
    *,
    table: str = "caseload",
    split_independent: bool = False,
    base_year: str | None = None,
) -> pd.DataFrame:
    """Return plans by year × age × kind of place from a by-age table of the release.

    Parameters
    ----------
    release
        The authority's release (:func:`placeplan.prepare.sen2.read_sen2_release`).
    table
        ``"caseload"`` (plans at the census by age) or ``"new_plans"`` (new plans by age when the
        plan started, keyed by the census year that first counts them).
    split_independent
        Count independent and non-maintained special schools as their own kind ``independent``.
    base_year
        Last census year used (``"2024/25"``); default all.

    Returns
    -------
    counts
        Index ``(year, age)``; one column per kind (:data:`GROUPS`, plus ``independent`` if
        split), ``other`` = all plans minus the named kinds published (never below 0); plans, not
        shares. A kind with a suppressed cell (``x``, ``c``, ``z``: missing, never zero) is NaN;
        ``other`` is NaN when the all-plans cell is suppressed, and otherwise holds the plans of
        the suppressed kinds too, so a row still sums to all plans. Callers that compare kinds
        (:func:`phase_transfer_rates`, :func:`new_plan_mix`) leave out every row with a NaN.
    """
    if table not in _AGE_TOPICS:
        msg = f"`table` must be 'caseload' or 'new_plans', got {table!r}"
        raise ValueError(msg)
    df = getattr(release, table)
    kinds = list(KINDS if split_independent else GROUPS)
    empty = pd.DataFrame(columns=kinds, index=pd.MultiIndex.from_tuples([], names=["year", "age"]))
    if df.empty:
        return empty
    year_col = "census_year" if table == "new_plans" else "year"
    rows = df[(df["breakdown_topic"] == _AGE_TOPICS[table]) & df["age"].notna()]
    if base_year is not None:
        rows = rows[rows[year_col].astype(str) <= str(base_year)]
    if rows.empty:
        return empty
    rows = rows.assign(
        _year=rows[year_col].astype(str),
        _age=rows["age"].astype(int),
        _kind=rows["measure"].map(lambda m: release_kind(m, split_independent=split_independent)),
    )
    key = ["_year", "_age"]
    total = rows[rows["measure"] == _TOTALS[table]].groupby(key)["value"].sum(min_count=1)
    kind_rows = rows.dropna(subset=["_kind"])
    named = kind_rows.pivot_table(
        index=key, columns="_kind", values="value", aggfunc="sum", fill_value=0.0
    )
    # a kind with any suppressed cell is unknown, not the sum of its published cells
    suppressed = kind_rows["value"].isna().groupby([kind_rows[k] for k in [*key, "_kind"]]).any()
    out = named.reindex(index=total.index.union(named.index), columns=kinds, fill_value=0.0)
    out = out.fillna(0.0)
    named_sum = out.drop(columns="other").sum(axis=1)  # published cells only
    for (year, age, kind), hidden in suppressed.items():
        if hidden and kind in out.columns:
            out.loc[(year, age), kind] = np.nan
    out["other"] = (total.reindex(out.index) - named_sum).clip(lower=0)
    out.index = out.index.set_names(["year", "age"])
    out.columns.name = None
    return out.astype(float)


def _placed_only(counts: pd.DataFrame) -> pd.DataFrame:
    """Sum over years by age; empty when the table publishes no placement columns by age.

    Rows with a suppressed (NaN) kind are left out: reading them as zero would bias the mix.
    """
    by_age = counts.dropna().groupby(level="age").sum()
    return by_age if by_age.drop(columns="other").to_numpy().sum() > 0 else by_age.iloc[:0]


def _check_la(release: Sen2Release, la_code: str | None) -> None:
    if la_code is not None and str(la_code) not in {release.la_code, release.old_la_code}:
        msg = (
            f"`la_code` {la_code!r} is not the release's authority ({release.la_code} / "
            f"{release.old_la_code}); read the release for that authority with read_sen2_release"
        )
        raise SchemaValidationError(msg)


def _next_year(label: str) -> str:
    start = int(str(label)[:4]) + 1
    return f"{start}/{(start + 1) % 100:02d}"


def phase_transfer_rates(
    release: Sen2Release,
    la_code: str | None = None,
    *,
    base_year: str | None = None,
    split_independent: bool = False,
    placed_only: bool = False,
) -> pd.DataFrame:
    """Estimate yearly transition rates between kinds of place by NC year from the by-age table.

    For every pair of consecutive censuses with plans by single year of age (up to ``base_year``),
    the plans aged *a* at the first census are followed as a cohort to age *a + 1* at the next.
    Counts by kind are pooled over the pairs, giving the cohort's shares before (``p``) and after
    (``q``). The shift of shares is then read as the fewest moves that explain it: kinds whose
    share falls lose ``p_i - q_i`` and kinds whose share rises gain ``q_j - p_j``, shared in
    proportion, so ``rate(i -> j) = (p_i - q_i) / p_i * (q_j - p_j) / sum of rises``.

    Parameters
    ----------
    release
        The authority's release (:func:`placeplan.prepare.sen2.read_sen2_release`).
    la_code
        Optional check: the authority the caller expects (new or old code).
    base_year
        Last census year used (``"2024/25"``); default all published.
    split_independent
        Treat independent and non-maintained special schools as their own kind ``independent``
        (:data:`KINDS`), so moves between state and independent specialist places show.
    placed_only
        Leave out ``other`` (early years, home education, other arrangements, NEET, not known):
        shares are of the plans placed in a setting, as the flow model has them (its pupils are
        all placed, so moves into and out of ``other`` would otherwise be read as moves between
        settings; on the Isle of Wight most of the rise of college places at 17 is the fall of
        ``other``, which the flow model's cohort does not hold).

    Returns
    -------
    rates
        ``from_group, to_group, nc_year, rate``: the probability that a pupil of ``from_group``
        in NC year ``nc_year - 1`` is in ``to_group`` in ``nc_year`` (only rates above 0; a pupil
        stays in their group otherwise). Empty when fewer than two by-age censuses are published.
        Diagnostics: ``rates.attrs["unknown_cohorts"]``, the ``(census year, age)`` cohorts left
        out of the fit because a cell of theirs (at that age, or at the next age a year later)
        is suppressed: unknown, never read as zero plans (also logged as a warning). An age
        whose every pair is left out has no rate (read as no moves).

    Raises
    ------
    SchemaValidationError
        If ``la_code`` is not the release's authority.

    Notes
    -----
    The table gives stocks, not moves: new plans, ceased plans and moves in or out of the
    authority between the censuses are inside the shift too, and moves that cancel out (as many
    pupils from special to mainstream as the other way) are invisible. The rates are therefore
    net and a lower bound on gross moves; with one pair of censuses (the island's) they are noisy
    at small ages. The flow model applies them only at a phase transfer.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> phase_transfer_rates(example_release()).empty  # same mix at every age: no net moves
    True
    """
    _check_la(release, la_code)
    counts = kinds_by_age(
        release, table="caseload", base_year=base_year, split_independent=split_independent
    )
    kinds = [k for k in (KINDS if split_independent else GROUPS) if k != "other" or not placed_only]
    counts = counts[kinds]
    cols = ["from_group", "to_group", "nc_year", "rate"]
    years = sorted(set(counts.index.get_level_values("year")))
    before: dict[int, np.ndarray] = {}
    after: dict[int, np.ndarray] = {}
    unknown: list[tuple[str, int]] = []
    for y in years:
        nxt = _next_year(y)
        if nxt not in years:
            continue
        a0, a1 = counts.loc[y], counts.loc[nxt]
        for age in a0.index:
            if age + 1 in a1.index:
                b, c = a0.loc[age].to_numpy(dtype=float), a1.loc[age + 1].to_numpy(dtype=float)
                if np.isnan(b).any() or np.isnan(c).any():  # suppressed: unknown, not zero
                    unknown.append((y, int(age)))
                    continue
                before[age] = before.get(age, 0) + b
                after[age] = after.get(age, 0) + c
    rows = []
    for age in sorted(before):
        b, c = before[age], after[age]
        if b.sum() <= 0 or c.sum() <= 0:
            continue
        # the fewest moves between kinds that explain the cohort's change of shares
        moves = minimum_flow_transitions(
            pd.Series(b, index=kinds), pd.Series(c, index=kinds)
        ).to_numpy(dtype=float)
        for i, gi in enumerate(kinds):
            for j, gj in enumerate(kinds):
                if i != j and moves[i, j] > 0:
                    rows.append((gi, gj, age + 1 - 4, float(moves[i, j])))
    out = pd.DataFrame(rows, columns=cols).astype({"nc_year": int, "rate": float})
    out.attrs["unknown_cohorts"] = tuple(unknown)
    if unknown:
        logger.warning(
            "phase_transfer_rates: %s: suppressed by-age cells; cohorts left out of the fit "
            "(census year, age): %s",
            release.la_name,
            ", ".join(f"{y} {a}" for y, a in unknown),
        )
    return out


def new_plan_mix(
    release: Sen2Release,
    la_code: str | None = None,
    *,
    base_year: str | None = None,
    table: str = "caseload",
) -> pd.DataFrame:
    """Return the share of new plans placed in each kind of place, by NC year.

    By default (``table="caseload"``) the mix of all plans at that age (the caseload by age ×
    placement type, pooled over the censuses up to ``base_year``): a new plan is placed like the
    plans of its age are, so the flow model, which moves settled pupils only at a transfer or a
    breakdown, keeps each age's published mix (the moves into special and independent schools
    that happen after a first placement included). ``table="new_plans"`` uses the new plans'
    first placements by age when the plan started instead (new plans mostly start in mainstream
    schools). Where the chosen table has no plans at an age the other one is used; where neither,
    the chosen table's mix over all ages.

    Parameters
    ----------
    release
        The authority's release (:func:`placeplan.prepare.sen2.read_sen2_release`).
    la_code
        Optional check: the authority the caller expects (new or old code).
    base_year
        Last census year used (``"2024/25"``); default all published.
    table
        ``"caseload"`` (default) or ``"new_plans"``: the table whose mix by age is used first.

    Returns
    -------
    mix
        ``nc_year, kind, share`` with ``kind`` in :data:`KINDS` (``independent`` = independent
        and non-maintained special schools); shares sum to 1 within each NC year. Empty if the
        release publishes no placement columns by age.

    Raises
    ------
    SchemaValidationError
        If ``la_code`` is not the release's authority.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> new_plan_mix(example_release()).empty  # its by-age tables have no placement columns
    True
    """
    _check_la(release, la_code)
    cols = ["nc_year", "kind", "share"]
    if table not in _AGE_TOPICS:
        msg = f"`table` must be 'caseload' or 'new_plans', got {table!r}"
        raise ValueError(msg)
    first, second = (
        _placed_only(kinds_by_age(release, table=t, split_independent=True, base_year=base_year))
        for t in (table, "new_plans" if table == "caseload" else "caseload")
    )
    overall = first.sum() if first.to_numpy().sum() > 0 else second.sum()
    if overall.sum() <= 0:
        return pd.DataFrame(columns=cols)
    ages = sorted(set(first.index) | set(second.index))
    rows = []
    for age in ages:
        counts = overall
        for source in (first, second):
            if age in source.index and source.loc[age].sum() > 0:
                counts = source.loc[age]
                break
        share = counts / counts.sum()
        rows += [(int(age) - 4, k, float(share[k])) for k in KINDS]
    return pd.DataFrame(rows, columns=cols)
