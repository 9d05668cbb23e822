"""Cohort ageing of EHC plans by age, and of their placement types with phase-transfer transitions.

Used by :mod:`placeplan.compute.forecast`. Two steps:

* :func:`project_cohort` ages the stock of plans by single year of age one year at a time,
  removing exits and adding new plans by age.
* :func:`fit_type_transitions` and :func:`project_type_shares` carry each cohort's mix of
  placement types (the release's columns ``mainstream_total``, ``special_la_maintained``, …) as it
  ages. Between consecutive censuses the share of a cohort in each type at age ``a+1`` in year
  ``t`` is compared with its share at age ``a`` in year ``t-1`` (pooled over the census pairs
  given). Plans are counted by type only in aggregate, never followed one by one, so the moves
  are estimated as the *fewest* consistent with the two shares (a minimum-flow transition
  matrix): types that lose share send their loss to the types that gain, in proportion to the
  gains; a type keeps every plan it does not lose. The fitted matrix maps the old shares onto the
  new ones exactly and keeps any other share vector non-negative and summing to one.

  Moves are concentrated at **phase transfer** (:data:`PHASE_TRANSFER_AGES`: early years into
  school at 3 to 4 and 4 to 5 (the release's age straddles the Reception year), Year 6 to Year 7
  at 10 to 11, Year 11 to post-16 at 15 to 16, and 18 to 19), so those ages get a matrix of
  their own; between them, the ages of a phase share one matrix (pooled counts), because the
  single-age cells are small and the moves there are placements breaking down, not a change of
  phase.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AGE_TOPIC",
    "PHASE_BANDS",
    "PHASE_TRANSFER_AGES",
    "fit_cohort_types",
    "fit_type_transitions",
    "known_mix",
    "latest_age_year",
    "latest_by_age",
    "minimum_flow_transitions",
    "project_cohort",
    "project_type_shares",
    "stock_by_age_and_type",
    "type_share_path",
    "unknown_ages",
]

#: Ages ``a`` whose move to ``a+1`` is a phase transfer (each gets its own transition matrix).
PHASE_TRANSFER_AGES: tuple[int, ...] = (3, 4, 10, 15, 18)
#: The other ages, pooled by phase (inclusive ranges of the age moved from).
PHASE_BANDS: tuple[tuple[int, int], ...] = ((0, 2), (5, 9), (11, 14), (16, 17), (19, 24))
_MAX_AGE = 25
#: The caseload's breakdown of plans by the child's age (its "Age when plan started" rows also
#: parse to an age but count the same plans again).
AGE_TOPIC = "Child or young persons age"


def _by_child_age(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the child's-age breakdown when the table has one (caseload), else all (new plans)."""
    if "breakdown_topic" in rows.columns and (rows["breakdown_topic"] == AGE_TOPIC).any():
        return rows[rows["breakdown_topic"] == AGE_TOPIC]
    return rows


def project_cohort(
    stock_by_age: pd.Series,
    new_by_age: pd.DataFrame,
    exit_rate_by_age: pd.Series,
    *,
    max_age: int = _MAX_AGE,
) -> pd.DataFrame:
    """Age a stock of plans one year at a time, removing exits and adding new plans.

    For each projected year ``t+1``: ``S(t+1, a+1) = S(t, a) * (1 - exit(a)) + N(t+1, a+1)``;
    plans of young people older than ``max_age`` end.

    Parameters
    ----------
    stock_by_age
        Plans by single year of age at the starting census (index: age, int).
    new_by_age
        New plans joining before each projected census: index the projected years in order,
        columns ages (missing ages: none).
    exit_rate_by_age
        Share of plans at each age (at the earlier census) that end or leave before the next;
        missing ages: 0.
    max_age
        Oldest age at which a plan is held (25 in SEN2).

    Returns
    -------
    stock
        Index the projected years, columns ages ``min .. max_age``.

    Examples
    --------
    >>> s0 = pd.Series({4: 10.0, 5: 20.0})
    >>> new = pd.DataFrame({4: [5.0, 5.0]}, index=["2025/26", "2026/27"])
    >>> project_cohort(s0, new, pd.Series({4: 0.1, 5: 0.5}), max_age=6).round(1)
               4    5     6
    2025/26  5.0  9.0  10.0
    2026/27  5.0  4.5   4.5
    """
    ages = sorted(
        {int(a) for a in stock_by_age.index}
        | {int(a) for a in new_by_age.columns}
        | set(range(int(min(stock_by_age.index, default=max_age)), max_age + 1))
    )
    ages = [a for a in ages if a <= max_age]
    state = stock_by_age.reindex(ages).fillna(0.0).astype(float)
    rate = exit_rate_by_age.reindex(ages).fillna(0.0).clip(0.0, 1.0)
    rows = {}
    for year in new_by_age.index:
        aged = (state * (1.0 - rate)).shift(1).fillna(0.0)  # age a at t -> a+1 at t+1
        state = aged + new_by_age.loc[year].reindex(ages).fillna(0.0)
        rows[year] = state.copy()
    return pd.DataFrame.from_dict(rows, orient="index")[ages]


def latest_by_age(df: pd.DataFrame, base_year: str, measure: str, key: str = "year") -> pd.Series:
    """Values by age of the latest ``key`` year at or before ``base_year`` with an age breakdown.

    Parameters
    ----------
    df
        A long release table (``prepare.sen2``): ``key``, ``age``, ``measure``, ``value``.
    base_year
        Latest year to look at (``"2024/25"``).
    measure
        The release column wanted (``"ehcplans"``).
    key
        Column holding the year.

    Returns
    -------
    values
        Index age (int), sorted; empty when there is no age breakdown.
    """
    year = latest_age_year(df, base_year, measure, key)
    if year is None:
        return pd.Series(dtype=float)
    rows = _by_child_age(df[(df[key] == year) & df["age"].notna() & (df["measure"] == measure)])
    return rows.groupby(rows["age"].astype(int))["value"].sum(min_count=1).sort_index()


def latest_age_year(
    df: pd.DataFrame, base_year: str, measure: str, key: str = "year"
) -> str | None:
    """The latest ``key`` year at or before ``base_year`` with a published age breakdown.

    A year whose cells by age are all suppressed has no breakdown: reading it would take the
    suppressed ages as zero.

    Parameters
    ----------
    df, base_year, measure, key
        As :func:`latest_by_age`.

    Returns
    -------
    year
        The year, or None when no year up to ``base_year`` publishes ``measure`` by age.
    """
    if df.empty:
        return None
    rows = _by_child_age(
        df[(df[key] <= base_year) & df["age"].notna() & (df["measure"] == measure)]
    )
    rows = rows[rows["value"].notna()]
    return None if rows.empty else str(rows[key].max())


def minimum_flow_transitions(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """The transition matrix with the fewest moves that turns one mix of types into another.

    Parameters
    ----------
    before, after
        Counts (or shares) by type of the same cohort a year apart, same index; each is scaled
        to shares.

    Returns
    -------
    transitions
        Square, index "from" and columns "to" type, rows summing to 1: a type whose share falls
        from ``p`` to ``q`` keeps ``q / p`` of its plans and sends the rest to the types whose
        share rises, in proportion to their rise; every other type keeps all its plans. The
        identity when either side is empty.

    Examples
    --------
    >>> before, after = pd.Series({"ms": 80.0, "sp": 20.0}), pd.Series({"ms": 60.0, "sp": 40.0})
    >>> minimum_flow_transitions(before, after).round(2).to_dict("index")
    {'ms': {'ms': 0.75, 'sp': 0.25}, 'sp': {'ms': 0.0, 'sp': 1.0}}
    """
    types = list(before.index)
    out = pd.DataFrame(np.eye(len(types)), index=types, columns=types)
    b, a = before.clip(lower=0).fillna(0.0), after.reindex(types).clip(lower=0).fillna(0.0)
    if b.sum() <= 0 or a.sum() <= 0:
        return out
    p, q = b / b.sum(), a / a.sum()
    gain = (q - p).clip(lower=0)
    moved = float(gain.sum())
    if moved <= 0:
        return out
    for k in types:
        loss = float(p[k] - q[k])
        if loss > 0:
            out.loc[k] = (loss / float(p[k])) * gain / moved
            out.loc[k, k] = float(q[k] / p[k])
    return out


def _band(age: int) -> tuple[int, int]:
    if age in PHASE_TRANSFER_AGES:
        return (age, age)
    for low, high in PHASE_BANDS:
        if low <= age <= high:
            return (low, high)
    return (age, age)


def fit_type_transitions(
    pairs: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
) -> dict[int, pd.DataFrame]:
    """Fit cohort-wise transitions between placement types from consecutive by-age censuses.

    Parameters
    ----------
    pairs
        ``(before, after)`` for each pair of consecutive censuses in the rolling window: plans
        with index age (int) and columns the placement types (which partition the plans; add a
        remainder column if they do not). Counts are pooled over the pairs, and over the ages
        of a band of :data:`PHASE_BANDS`; each age in :data:`PHASE_TRANSFER_AGES` is fitted alone.
        A cell that is NaN (suppressed in the release) makes that cohort's move unknown: the age
        is left out of that pair's counts (never read as zero plans; see :func:`unknown_ages`).

    Returns
    -------
    transitions
        Age ``a`` (the age moved from) -> the :func:`minimum_flow_transitions` matrix from age
        ``a`` at one census to ``a+1`` at the next. Ages without plans on either side are left
        out (read them as no moves).

    Examples
    --------
    >>> before = pd.DataFrame({"ms": [80.0, 70.0], "sp": [20.0, 30.0]}, index=[10, 11])
    >>> after = pd.DataFrame({"ms": [70.0, 60.0], "sp": [30.0, 40.0]}, index=[10, 11])
    >>> fit_type_transitions([(before, after)])[10].round(2).to_dict("index")
    {'ms': {'ms': 0.75, 'sp': 0.25}, 'sp': {'ms': 0.0, 'sp': 1.0}}
    """
    if not pairs:
        return {}
    types = list(pairs[0][0].columns)
    pooled: dict[tuple[int, int], list[pd.Series]] = {}
    for before, after in pairs:
        for age in before.index:
            nxt = int(age) + 1
            if nxt not in after.index:
                continue
            b, a = before.loc[age].reindex(types), after.loc[nxt].reindex(types)
            if b.isna().any() or a.isna().any():  # a suppressed cell: unknown, not zero
                continue
            sums = pooled.setdefault(_band(int(age)), [pd.Series(0.0, index=types)] * 2)
            sums[0] = sums[0] + b.clip(lower=0)
            sums[1] = sums[1] + a.clip(lower=0)
    out: dict[int, pd.DataFrame] = {}
    for (low, high), (b, a) in pooled.items():
        if b.sum() <= 0 or a.sum() <= 0:
            continue
        matrix = minimum_flow_transitions(b, a)
        for age in range(low, high + 1):
            out[age] = matrix
    return dict(sorted(out.items()))


def project_type_shares(
    shares_by_age: pd.DataFrame,
    transitions: dict[int, pd.DataFrame],
    years: Sequence[str],
) -> dict[str, pd.DataFrame]:
    """Age each cohort's mix of placement types one year at a time through the transitions.

    ``p(t+1, a+1) = p(t, a) @ T(a)``; a cohort moves without changing its mix where there is no
    ``T(a)``. The youngest age, and an age whose younger neighbour has no plans, keep the mix
    they had at the start (new cohorts arrive as the last one did).

    Parameters
    ----------
    shares_by_age
        Mix of types at the starting census: index age (int), columns types, rows summing to 1
        (rows of zeros for ages without plans).
    transitions
        From :func:`fit_type_transitions`.
    years
        The projected census years, in order.

    Returns
    -------
    shares
        Year -> the mix by age (same shape as ``shares_by_age``).

    Examples
    --------
    >>> p0 = pd.DataFrame({"ms": [0.9, 0.8], "sp": [0.1, 0.2]}, index=[10, 11])
    >>> t = {10: pd.DataFrame([[0.75, 0.25], [0.0, 1.0]], index=["ms", "sp"], columns=["ms", "sp"])}
    >>> project_type_shares(p0, t, ["y1"])["y1"].round(3).to_dict("index")
    {10: {'ms': 0.9, 'sp': 0.1}, 11: {'ms': 0.675, 'sp': 0.325}}
    """
    ages = [int(a) for a in shares_by_age.index]
    types = list(shares_by_age.columns)
    state = shares_by_age.to_numpy(dtype=float).copy()
    eye = np.eye(len(types))
    mats = {}
    for age, matrix in transitions.items():
        m = matrix.reindex(index=types, columns=types).to_numpy(dtype=float)
        missing = np.isnan(m).all(axis=1)  # a type the matrix does not know keeps its plans
        mats[age] = np.where(missing[:, None], eye, np.nan_to_num(m))
    out: dict[str, pd.DataFrame] = {}
    for year in years:
        nxt = state.copy()
        for i in range(1, len(ages)):
            if ages[i - 1] != ages[i] - 1 or state[i - 1].sum() <= 0:
                continue
            nxt[i] = state[i - 1] @ mats.get(ages[i - 1], eye)
        state = nxt
        out[str(year)] = pd.DataFrame(state.copy(), index=shares_by_age.index, columns=types)
    return out


def stock_by_age_and_type(
    caseload: pd.DataFrame,
    year: str,
    types: Sequence[str],
    *,
    total: str = "ehcplans",
    remainder: str = "_other",
) -> pd.DataFrame:
    """Plans by single year of age and placement type at one census, as published.

    Parameters
    ----------
    caseload
        The release's long caseload table (``Sen2Release.caseload``).
    year
        The census (``"2024/25"``).
    types
        Placement columns wanted, in order. A suppressed cell (``x``, ``c``, ...) stays NaN, never
        0; a column not published by age at all counts 0 (its plans are in the remainder).
    total
        The all-plans column; ``remainder`` = ``total`` minus the types (never below 0; NaN when
        the total or a type is suppressed at that age).
    remainder
        Name of the remainder column.

    Returns
    -------
    stock
        Index age (int), columns ``types`` and ``remainder``; empty when the census has no
        published breakdown of ``total`` by age, or none of the types by age.
    """
    rows = _by_child_age(caseload[(caseload["year"] == year) & caseload["age"].notna()])
    rows = rows[rows["measure"].isin([total, *types])]
    known = rows[rows["value"].notna()]
    if (
        known.empty
        or not (known["measure"] == total).any()
        or not known["measure"].isin(types).any()
    ):
        return pd.DataFrame()  # not published by age (or every cell suppressed)
    # a published cell that is suppressed stays NaN (unknown); a column the release does not
    # publish by age at all holds no plans of its own (they are in the remainder)
    table = rows.groupby([rows["age"].astype(int), "measure"])["value"].sum(min_count=1).unstack()
    table = table.reindex(columns=[total, *types]).astype(float)
    absent = [t for t in types if t not in set(rows["measure"])]
    out = table[list(types)].copy()
    out[absent] = 0.0
    out[remainder] = (table[total] - out.sum(axis=1, min_count=len(types))).clip(lower=0.0)
    out.index.name = None
    out.columns.name = None
    return out.sort_index()


def type_share_path(
    stock_paths: pd.DataFrame,
    start: pd.DataFrame,
    transitions: dict[int, pd.DataFrame],
) -> pd.DataFrame:
    """Share of all plans in each type, each projected year, from cohort-aged mixes by age.

    Parameters
    ----------
    stock_paths
        Projected plans by age: index the projected years, columns ages
        (:func:`project_cohort`).
    start
        Plans by age and type at the starting census (:func:`stock_by_age_and_type`); an age with
        a suppressed (NaN) cell starts from :func:`known_mix`, not from the cell read as zero.
    transitions
        From :func:`fit_type_transitions`.

    Returns
    -------
    shares
        Index the projected years, columns the types of ``start``; rows sum to 1.
    """
    ages = sorted({int(a) for a in start.index} | {int(a) for a in stock_paths.columns})
    mix = start.reindex(ages).fillna(0.0)
    sums = mix.sum(axis=1)
    mix = mix.div(sums.where(sums > 0, 1.0), axis=0)
    unknown = [a for a in start.index[start.isna().any(axis=1)] if int(a) in mix.index]
    if unknown:  # an age with a suppressed cell takes the mix of the ages fully published
        mix.loc[[int(a) for a in unknown]] = known_mix(start).to_numpy()
    by_year = project_type_shares(mix, transitions, [str(y) for y in stock_paths.index])
    rows = {}
    for year in stock_paths.index:
        weights = stock_paths.loc[year].reindex(ages).fillna(0.0)
        counts = by_year[str(year)].mul(weights, axis=0).sum()
        rows[year] = counts / counts.sum() if counts.sum() > 0 else counts
    return pd.DataFrame.from_dict(rows, orient="index")


def fit_cohort_types(
    caseload: pd.DataFrame,
    base_year: str,
    types: Sequence[str],
    *,
    window: int = 3,
    remainder: str = "_other",
) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Plans by age and type at the base year, and transitions fitted on the window's censuses.

    Parameters
    ----------
    caseload
        The release's long caseload table (``Sen2Release.caseload``).
    base_year
        Last census to use (``"2024/25"``).
    types
        Placement columns (see :func:`stock_by_age_and_type`).
    window
        Number of consecutive census pairs, ending at ``base_year``, the transitions pool.
    remainder
        Name of the remainder column.

    Returns
    -------
    stock
        :func:`stock_by_age_and_type` at ``base_year`` (empty if not published by age).
    transitions
        :func:`fit_type_transitions` over the pairs of consecutive by-age censuses in the window
        (empty with fewer than two).
    """
    years = _window_years(caseload, base_year, types, window)
    tables = {
        str(y): stock_by_age_and_type(caseload, str(y), types, remainder=remainder) for y in years
    }
    pairs = [
        (tables[a], tables[b])
        for a, b in itertools.pairwise(tables)
        if int(b[:4]) == int(a[:4]) + 1 and not tables[a].empty and not tables[b].empty
    ]
    return tables.get(base_year, pd.DataFrame()), fit_type_transitions(pairs)


def known_mix(table: pd.DataFrame) -> pd.Series:
    """Share of plans in each type over the ages whose cells are all published.

    Parameters
    ----------
    table
        Plans by age (index) and type (columns) with NaN where suppressed
        (:func:`stock_by_age_and_type`).

    Returns
    -------
    mix
        Index the types, summing to 1 (all 0 when no age is fully published).

    Examples
    --------
    >>> t = pd.DataFrame({"ms": [6.0, float("nan")], "sp": [2.0, 3.0]}, index=[10, 11])
    >>> known_mix(t).to_dict()
    {'ms': 0.75, 'sp': 0.25}
    """
    counts = table.dropna().sum()
    total = float(counts.sum())
    return counts / total if total > 0 else counts * 0.0


def unknown_ages(
    caseload: pd.DataFrame, base_year: str, types: Sequence[str], *, window: int = 3
) -> tuple[tuple[str, int], ...]:
    """Census years and ages whose by-age cells are suppressed, in the window of the type fit.

    Parameters
    ----------
    caseload, base_year, types, window
        As :func:`fit_cohort_types`.

    Returns
    -------
    unknown
        ``(census year, age)`` for every age with a suppressed type or total cell in the by-age
        censuses :func:`fit_cohort_types` reads: those ages are left out of the transitions fitted
        on the pairs they belong to, and start from :func:`known_mix` at the base year.
    """
    out = []
    for year in _window_years(caseload, base_year, types, window):
        table = stock_by_age_and_type(caseload, year, types)
        out += [(year, int(a)) for a in table.index[table.isna().any(axis=1)]]
    return tuple(out)


def _window_years(
    caseload: pd.DataFrame, base_year: str, types: Sequence[str], window: int
) -> list[str]:
    rows = _by_child_age(caseload[(caseload["year"] <= base_year) & caseload["age"].notna()])
    return [str(y) for y in sorted(rows.loc[rows["measure"].isin(types), "year"].unique())][
        -(window + 1) :
    ]
