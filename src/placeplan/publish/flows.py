"""The year-by-year placement flows as published: disclosure control and rounding of the flow table.

:func:`published_flows` takes the long table of :func:`placeplan.compute.flows.flow_table`
(``year, scenario, measure, central, lower, upper``) and returns the copy that ``flows.csv`` and
the report's "Year by year" section both show. The rules, in order:

1. **Counts** (:func:`is_count`: ``cohort``, ``placed``, ``out_of_area``, ``worse_off``,
   ``movers``, every ``placements:<sen2_type>:<in_area|out_of_area>``, ...) of the baseline and of
   each scenario are decided by :func:`placeplan.publish.disclosure.suppress`, one row (year, run,
   measure) at a time: the row is hidden if any of ``central``, ``lower``, ``upper`` is above 0
   and under the threshold (so a range can never bound a hidden central value). Secondary
   suppression runs over every identity the table satisfies (:data:`IDENTITIES`), so no identity
   is left with a single hidden member: a total and its parts (``placed`` = sum of the
   ``placements:*``; ``out_of_area`` = sum of the out-of-area parts; in-area parts = ``placed`` -
   ``out_of_area``; ``independent_non_maintained`` and the other parts), ``cohort`` = ``placed`` +
   ``unplaced``, and the year-on-year accounting ``cohort(t) = cohort(t-1) + new_plans(t) -
   leavers(t) - ceased(t)``; and, where a scenario equals the baseline (its change is 0 in all
   three statistics, e.g. before anything opens), the pair is a group so both runs are hidden
   alike. Groups alone do not stop every combination of identities, so an **audit** then solves
   the identities for the hidden cells (null space of the identity matrix): each hidden count that
   published numbers still determine gives its combination as one more grouping, and
   ``suppress`` runs again, until none is determined. Secondary suppression takes
   ``placements:*`` detail before the headline totals (``cohort``, ``placed``, ``out_of_area``,
   ``independent_non_maintained``, ``over_max_journey``), and the counts that statistics are
   computed from (``placed``, ``out_of_area``, ... in :data:`DEPENDS_ON`) last of all, so a small
   ``unplaced`` hides ``cohort`` rather than ``placed`` with every mean and £ of the year.
2. **Statistics** (means, percentages, £, minute and km totals) are hidden on every row where a
   count they are computed from is hidden (:data:`DEPENDS_ON`), in the same run and year.
3. **Changes** (``"<name> - baseline"``) are hidden wherever the baseline or the scenario value of
   the same measure and year is hidden, so a change can never be added to one published run to
   give the other; a published count change is the published scenario value minus the published
   baseline value, so the three always agree.
4. **Rounding**: counts to whole pupils (to ``round_to`` when the plan asks for coarser rounding),
   money to the nearest £1,000, minutes, km and percentages to one decimal place.

**Provision-type detail is not published.** In published mode the ``placements:<type>:<where>``
parts are left out of the published table (they stay in ``mode = "internal"``): most of them are
small for any one authority, and hiding them by secondary suppression used to hide the headline
totals with them (section 3a of the report was mostly ``c``). Without the parts, the headline
counts (``out_of_area``, ``independent_non_maintained``, ``placed``, ...) are hidden only when
they are themselves small, or when a cell published elsewhere for the same quantity is hidden
there (``hide``, see :mod:`placeplan.publish.register`).

The suppression mask is returned as an explicit column (``suppressed``), never in
``DataFrame.attrs``, so it survives sorting, filtering and concatenation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows import INDEPENDENT_NON_MAINTAINED_TYPES
from placeplan.publish.disclosure import SUPPRESSED_MARKER, suppress, suppression_mask

# optional (it comes with scikit-learn): the audit's small matrices run faster on one BLAS
# thread than on a busy pool
try:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]
except ImportError:  # pragma: no cover
    threadpool_limits = None

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DEPENDS_ON",
    "FLOW_COLS",
    "IDENTITIES",
    "STATS",
    "flows_csv_frame",
    "is_count",
    "published_flows",
    "round_measure",
]

FLOW_COLS: tuple[str, ...] = ("year", "scenario", "measure", "central", "lower", "upper")
"""Columns of the flow table, raw and published."""

STATS: tuple[str, ...] = ("central", "lower", "upper")

#: Statistics of the flow table and the counts (same run and year) each one is computed from.
#: Every other measure is treated as a count of pupils (the safe default for a new measure).
DEPENDS_ON: Mapping[str, tuple[str, ...]] = {
    "out_of_area_pct": ("out_of_area", "placed"),
    "journey_time_total_min": ("placed",),
    "journey_time_mean_min": ("placed",),
    "distance_total_km": ("placed",),
    "distance_mean_km": ("placed",),
    # costs are sums over placements whose unit costs are plan inputs: hidden with the counts that
    # drive them most, not only with the number placed
    "placement_cost_gbp": ("placed", "out_of_area", "independent_non_maintained"),
    "transport_cost_gbp": ("placed", "out_of_area"),
    "movers_extra_time_total_min": ("movers_worse_off", "movers"),
    "movers_journey_time_mean_min": ("movers",),
}

#: The linear identities the published counts satisfy within one run and year, by name. Each is
#: a grouping for :func:`~placeplan.publish.disclosure.suppress`'s secondary suppression: no
#: identity may be left with exactly one hidden member. ``parts`` are the ``placements:*`` rows.
IDENTITIES: tuple[str, ...] = (
    "placed = all parts",
    "out_of_area = out-of-area parts",
    "placed - out_of_area = in-area parts",
    "independent_non_maintained = its parts",
    "placed - independent_non_maintained = the other parts",
    "cohort = placed + unplaced",
    "cohort(t) = cohort(t-1) + new_plans - leavers - ceased (even t)",
    "cohort(t) = cohort(t-1) + new_plans - leavers - ceased (odd t)",
)

_PARTS = "placements:"
_MAX_AUDITS = 200
_HEADLINE = ("cohort", "placed", "out_of_area", "independent_non_maintained", "over_max_journey")
_HEADLINE_OFFSET = 1.0e9
#: Counts that statistics of the same run and year are computed from (:data:`DEPENDS_ON`).
_BASIS = frozenset(m for deps in DEPENDS_ON.values() for m in deps)
_CHANGE = " - baseline"
_MISSING = "x"


def is_count(measure: str) -> bool:
    """Return True if ``measure`` is a count of pupils (anything not in :data:`DEPENDS_ON`).

    Examples
    --------
    >>> is_count("out_of_area"), is_count("placements:special_independent:out_of_area")
    (True, True)
    >>> is_count("journey_time_mean_min")
    False
    """
    return measure not in DEPENDS_ON


def round_measure(measure: str, values: pd.Series, *, round_to: int = 0) -> pd.Series:
    """Round one measure's values for publication (halves away from zero).

    Counts to whole pupils (or to the nearest ``round_to`` when it is above 1), ``*_gbp`` to the
    nearest £1,000, minutes, km and percentages to one decimal place. NaN stays NaN.

    Parameters
    ----------
    measure
        The measure's name (see :data:`placeplan.compute.flows.MEASURES`).
    values
        Its values.
    round_to
        The plan's disclosure rounding base for counts (0 or 1 = whole numbers).

    Returns
    -------
    pandas.Series
        Rounded values, same index.

    Examples
    --------
    >>> import pandas as pd
    >>> round_measure("placement_cost_gbp", pd.Series([1_234_567.0, -1_500.0])).tolist()
    [1235000.0, -2000.0]
    >>> round_measure("out_of_area", pd.Series([2.5, 11.49])).tolist()
    [3.0, 11.0]
    """
    if measure.endswith("_gbp"):
        base = 1000.0
    elif is_count(measure):
        base = float(max(round_to, 1))
    else:
        base = 0.1
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.sign(arr) * np.floor(np.abs(arr) / base + 0.5 + 1e-9) * base
    if base < 1:
        out = np.round(out, 1)
    return pd.Series(out, index=values.index) + 0.0  # no -0.0


def _parts_kind(measure: str) -> tuple[bool, bool, bool]:
    """For a ``placements:<type>:<where>`` measure: (is a part, out of area, independent/NM)."""
    if not measure.startswith(_PARTS):
        return False, False, False
    _, sen2_type, where = [*measure.split(":", 2), "", ""][:3]
    return True, where == "out_of_area", sen2_type in INDEPENDENT_NON_MAINTAINED_TYPES


def _identity_keys(
    df: pd.DataFrame, years: Sequence[str], unchanged: Mapping[str, set[tuple[str, str]]]
) -> pd.DataFrame:
    """One column per identity: a group key (year and run) for its members, None for others.

    ``unchanged`` maps each scenario to the (year, measure) pairs where it equals the baseline in
    every statistic (the change is 0, 0, 0): an intruder may know them equal (nothing open yet),
    so each such pair is a group too, and the two runs are suppressed alike.
    """
    pos = {y: i for i, y in enumerate(years)}
    cols: dict[str, list[str | None]] = {name: [] for name in IDENTITIES}
    same: dict[str, list[str | None]] = {name: [] for name in unchanged}
    for year, run, measure in zip(df["year"], df["scenario"], df["measure"], strict=True):
        part, ooa, inm = _parts_kind(measure)
        key = f"{year}|{run}"
        members = {
            "placed = all parts": part or measure == "placed",
            "out_of_area = out-of-area parts": (part and ooa) or measure == "out_of_area",
            "placed - out_of_area = in-area parts": (part and not ooa)
            or measure in ("placed", "out_of_area"),
            "independent_non_maintained = its parts": (part and inm)
            or measure == "independent_non_maintained",
            "placed - independent_non_maintained = the other parts": (part and not inm)
            or measure in ("placed", "independent_non_maintained"),
            "cohort = placed + unplaced": measure in ("cohort", "placed", "unplaced"),
        }
        for name, member in members.items():
            cols[name].append(key if member else None)
        # year-on-year accounting: group t holds cohort(t-1), cohort(t) and year t's flows; a
        # cohort row is in group t and group t+1, which have different parities (two columns)
        t = pos[year]
        for parity in (0, 1):
            name = IDENTITIES[6 + parity]
            group: int | None = None
            in_year_t = measure in ("new_plans", "leavers", "ceased", "cohort")
            if in_year_t and t % 2 == parity and t > 0:
                group = t
            if measure == "cohort" and (t + 1) % 2 == parity and t + 1 < len(years):
                group = t + 1
            cols[name].append(None if group is None else f"{years[group]}|{run}")
        for name, pairs in unchanged.items():
            member = run in ("baseline", name) and (year, measure) in pairs
            same[name].append(f"{year}|{measure}" if member else None)
    # the identities over the placements:* parts hold only where the parts are in the table
    # (published mode leaves them out): without parts, e.g. {placed, out_of_area} is no group
    parts = df[df["measure"].str.startswith(_PARTS)]
    with_parts = set(parts["year"] + "|" + parts["scenario"])
    for name in IDENTITIES[:5]:
        cols[name] = [k if k in with_parts else None for k in cols[name]]
    out = pd.DataFrame(cols, index=df.index)
    for i, keys in enumerate(same.values()):
        out[f"_same_{i}"] = keys
    return out


def _identities(
    rows: pd.DataFrame, years: Sequence[str], unchanged: Mapping[str, set[tuple[str, str]]]
) -> np.ndarray:
    """The identities the count rows satisfy, as a matrix (one equation a row, one cell a column).

    Within each run and year: ``placed``, ``out_of_area`` and ``independent_non_maintained`` are
    sums of their ``placements:*`` parts and ``cohort = placed + unplaced``; across years the
    cohort accounting; across runs, scenario = baseline where the change is exactly 0.
    """
    pos = {
        (y, r, m): j
        for j, (y, r, m) in enumerate(
            zip(rows["year"], rows["scenario"], rows["measure"], strict=True)
        )
    }
    runs = list(dict.fromkeys(rows["scenario"]))
    eqs: list[dict[int, float]] = []

    def add(terms: Mapping[tuple[str, str, str], float]) -> None:
        eq = {pos[c]: v for c, v in terms.items() if c in pos}
        if len(eq) > 1:
            eqs.append(eq)

    by_run_year: dict[tuple[str, str], list[str]] = {}
    for y, r, m in pos:
        by_run_year.setdefault((y, r), []).append(m)
    for (y, r), measures in by_run_year.items():
        parts = [m for m in measures if m.startswith(_PARTS)]
        kinds = {m: _parts_kind(m) for m in parts}
        add({(y, r, "placed"): -1.0, **{(y, r, m): 1.0 for m in parts}})
        add({(y, r, "out_of_area"): -1.0, **{(y, r, m): 1.0 for m in parts if kinds[m][1]}})
        add(
            {
                (y, r, "independent_non_maintained"): -1.0,
                **{(y, r, m): 1.0 for m in parts if kinds[m][2]},
            }
        )
        add({(y, r, "cohort"): -1.0, (y, r, "placed"): 1.0, (y, r, "unplaced"): 1.0})
    for t in range(1, len(years)):
        y0, y1 = years[t - 1], years[t]
        for r in runs:
            add(
                {
                    (y1, r, "cohort"): 1.0,
                    (y0, r, "cohort"): -1.0,
                    (y1, r, "new_plans"): -1.0,
                    (y1, r, "leavers"): 1.0,
                    (y1, r, "ceased"): 1.0,
                }
            )
    for name, pairs in unchanged.items():
        for y, m in sorted(pairs):
            add({(y, name, m): 1.0, (y, "baseline", m): -1.0})
    a = np.zeros((len(eqs), len(pos)))
    for i, eq in enumerate(eqs):
        for j, v in eq.items():
            a[i, j] = v
    return a


def _audit(system: np.ndarray, hidden: np.ndarray) -> list[list[int]]:
    """Find hidden cells that published numbers still determine; return each leak's cells.

    A hidden cell is determined when some combination of the identities involves it and no
    other hidden cell: exactly when it has no weight in any vector of the null space of the
    identities restricted to the hidden cells. For each such cell the combination's support
    (the cell and the published cells it is computed from) is returned.
    """
    u = np.flatnonzero(hidden)
    if not len(u) or not system.size:
        return []
    limit: Any = threadpool_limits(1) if threadpool_limits else contextlib.nullcontext()
    with limit:
        return _audit_leaks(system, u)


def _audit_leaks(system: np.ndarray, u: np.ndarray) -> list[list[int]]:
    a_u = system[:, u]
    _, sv, vt = np.linalg.svd(a_u, full_matrices=True)
    rank = int((sv > 1e-9 * max(1.0, sv.max(initial=0.0))).sum())
    null = vt[rank:]  # rows span the null space of a_u
    weight = np.abs(null).max(axis=0) if len(null) else np.zeros(len(u))
    leaks = []
    for k in np.flatnonzero(weight < 1e-9):
        e = np.zeros(len(u))
        e[k] = 1.0
        y = np.linalg.lstsq(a_u.T, e, rcond=None)[0]
        combo = y @ system
        support = np.flatnonzero(np.abs(combo) > 1e-9)
        leaks.append([int(j) for j in support])
    return leaks


def published_flows(
    table: pd.DataFrame,
    *,
    threshold: int,
    round_to: int = 0,
    mode: Literal["published", "internal"] = "published",
    hide: Collection[tuple[str, str, str]] = (),
) -> pd.DataFrame:
    """Return the flow table as published: suppressed, protected against differencing, rounded.

    See the module docstring for the rules. In ``mode="internal"`` nothing is suppressed (values
    are still rounded for display).

    Parameters
    ----------
    table
        From :func:`placeplan.compute.flows.flow_table`: ``year, scenario, measure, central,
        lower, upper``; ``scenario`` is ``baseline``, each scenario name and
        ``"<name> - baseline"``. Not modified.
    threshold
        Smallest count that may be published (counts above 0 and under it are hidden).
    round_to
        The plan's rounding base for counts (0 = whole numbers).
    mode
        ``"published"`` or ``"internal"``.
    hide
        ``(year, scenario, measure)`` count cells to hide whatever their value, because the same
        quantity is hidden in another published table (one decision per quantity).

    Returns
    -------
    table
        The same rows and columns (without the ``placements:*`` parts in published mode),
        values rounded, hidden values NaN, plus a boolean column
        ``suppressed`` (True on every hidden row; all three statistics of a row are hidden
        together). A NaN on a row that is not ``suppressed`` is a statistic that does not exist
        (e.g. a mean over no movers).

    Raises
    ------
    SchemaValidationError
        If a column is missing or a (year, scenario, measure) appears twice.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame(
    ...     [("2025/26", "baseline", m, v, v, v) for m, v in [
    ...         ("placed", 40), ("out_of_area", 3), ("independent_non_maintained", 3),
    ...         ("placements:special_la_maintained:in_area", 37),
    ...         ("placements:special_independent:out_of_area", 3), ("out_of_area_pct", 7.5)]],
    ...     columns=["year", "scenario", "measure", "central", "lower", "upper"],
    ... )
    >>> pub = published_flows(t, threshold=5)
    >>> pub["measure"].tolist()  # the provision-type parts are not published
    ['placed', 'out_of_area', 'independent_non_maintained', 'out_of_area_pct']
    >>> pub["central"].tolist()  # 3 is hidden, and the share computed from it
    [40.0, nan, nan, nan]
    """
    missing = [c for c in FLOW_COLS if c not in table.columns]
    if missing:
        msg = f"`table` lacks columns {missing}; pass the output of `flow_table`"
        raise SchemaValidationError(msg)
    # the same table is published for every report and for flows.csv: compute it once
    key = (
        int(pd.util.hash_pandas_object(table.loc[:, list(FLOW_COLS)], index=False).sum()),
        len(table),
        threshold,
        round_to,
        mode,
        tuple(sorted(hide)),
    )
    if mode == "published":  # the provision-type parts are not published (module docstring)
        table = table[~table["measure"].astype(str).str.startswith(_PARTS)]
    if key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _published_flows(
            table, threshold=threshold, round_to=round_to, mode=mode, hide=set(hide)
        )
    return _CACHE[key].copy()


_CACHE: dict[tuple[object, ...], pd.DataFrame] = {}


def _forced(
    rows: pd.DataFrame, smallest: pd.Series, hide: set[tuple[str, str, str]], threshold: int
) -> pd.Series:
    """``smallest`` with each cell of ``hide`` made small (hidden as primary, then protected)."""
    forced = [
        (y, r, m) in hide
        for y, r, m in zip(rows["year"], rows["scenario"], rows["measure"], strict=True)
    ]
    return smallest.where(~pd.Series(forced, index=rows.index), threshold / 2.0)


def _published_flows(
    table: pd.DataFrame,
    *,
    threshold: int,
    round_to: int,
    mode: Literal["published", "internal"],
    hide: set[tuple[str, str, str]],
) -> pd.DataFrame:
    df = table.loc[:, list(FLOW_COLS)].reset_index(drop=True).copy()
    df = df.astype(dict.fromkeys(("year", "scenario", "measure"), str))
    if df.duplicated(["year", "scenario", "measure"]).any():
        msg = "`table` has duplicate (year, scenario, measure) rows"
        raise SchemaValidationError(msg)
    for c in STATS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    years = sorted(df["year"].unique())
    is_change = df["scenario"].str.endswith(_CHANGE)
    counts = df["measure"].map(is_count)
    hidden = pd.Series(False, index=df.index)

    if mode == "published":
        # 1. counts of the baseline and scenario runs: primary + secondary over the identities
        rows = df[counts & ~is_change]
        positive = rows[list(STATS)].where(rows[list(STATS)] > 0)
        zero = df[is_change & (df[list(STATS)] == 0).all(axis=1)]
        unchanged: dict[str, set[tuple[str, str]]] = {
            name.removesuffix(_CHANGE): set() for name in df.loc[is_change, "scenario"]
        }
        for year, name, measure in zip(
            zero["year"], zero["scenario"], zero["measure"], strict=True
        ):
            unchanged[name.removesuffix(_CHANGE)].add((year, measure))
        frame = _identity_keys(rows, years, unchanged)
        smallest = _forced(rows, positive.min(axis=1).fillna(0.0), hide, threshold)
        # secondary suppression hides the smallest free member of a group; rank the headline
        # totals last, so the placements:* detail is hidden before them (any choice protects)
        headline = rows["measure"].isin(_HEADLINE) & (smallest >= threshold)
        smallest = smallest + np.where(headline, _HEADLINE_OFFSET, 0.0)
        # and a count that statistics are computed from (placed: journeys, costs) after the rest,
        # so a small ``unplaced`` hides ``cohort`` and the year's accounting, not every £ and mean
        basis = rows["measure"].isin(_BASIS) & (smallest >= threshold)
        smallest = smallest + np.where(basis, _HEADLINE_OFFSET, 0.0)
        system = _identities(rows, years, unchanged)
        for _ in range(_MAX_AUDITS):
            decided = suppress(
                frame.assign(smallest=smallest),
                count_cols=["smallest"],
                threshold=threshold,
                mode=mode,
                group_cols=[[c] for c in frame.columns],
            )
            mask = suppression_mask(decided)["smallest"].to_numpy()
            leaks = _audit(system, mask)
            if not leaks:
                break
            # each combination of identities that still gives one hidden count alone becomes
            # one more group, so suppress hides a second member of it (groups that share no
            # cell share a grouping column: fewer columns, same groups)
            columns: list[list[str | None]] = []
            for k, support in enumerate(leaks):
                free = next((c for c in columns if all(c[j] is None for j in support)), None)
                if free is None:
                    free = [None] * len(frame)
                    columns.append(free)
                for j in support:
                    free[j] = f"leak {k}"
            for keys in columns:
                frame[f"_audit_{frame.shape[1]}"] = keys
        else:  # pragma: no cover - the hidden set grows every round, so this is never reached
            msg = "flow table disclosure audit did not converge"
            raise RuntimeError(msg)
        hidden.loc[rows.index] = mask
        # 2. statistics: hidden with any count they are computed from (same run and year)
        cells = list(zip(df["year"], df["scenario"], df["measure"], strict=True))
        flags = hidden.to_list()
        hidden_cells = {c for c, h in zip(cells, flags, strict=True) if h}
        for i, (year, run, measure) in enumerate(cells):
            if measure in DEPENDS_ON and not run.endswith(_CHANGE):
                flags[i] = any((year, run, m) in hidden_cells for m in DEPENDS_ON[measure])
        hidden_cells = {c for c, h in zip(cells, flags, strict=True) if h}
        # 3. changes: hidden with the baseline or the scenario value they are the difference of
        for i, (year, run, measure) in enumerate(cells):
            if run.endswith(_CHANGE):
                name = run.removesuffix(_CHANGE)
                flags[i] = bool({(year, "baseline", measure), (year, name, measure)} & hidden_cells)
        hidden = pd.Series(flags, index=df.index)

    # 4. rounding; a published change's central value is scenario - baseline as published
    out = df.copy()
    for measure, idx in out.groupby("measure", sort=False).groups.items():
        for c in STATS:
            out.loc[idx, c] = round_measure(str(measure), out.loc[idx, c], round_to=round_to)
    central = dict(
        zip(
            zip(out["year"], out["scenario"], out["measure"], strict=True),
            out["central"],
            strict=True,
        )
    )
    new_central = out["central"].to_list()
    for i, (year, run, measure) in enumerate(central):
        if run.endswith(_CHANGE):
            b = central.get((year, "baseline", measure))
            s = central.get((year, run.removesuffix(_CHANGE), measure))
            if b is not None and s is not None and pd.notna(b) and pd.notna(s):
                new_central[i] = round(float(s) - float(b), 1) + 0.0
    out["central"] = new_central
    out.loc[hidden, list(STATS)] = np.nan
    out["suppressed"] = hidden.to_numpy()
    return out


def flows_csv_frame(published: pd.DataFrame) -> pd.DataFrame:
    """Return the published flow table for ``flows.csv``: ``c`` where hidden, ``x`` where absent.

    Parameters
    ----------
    published
        From :func:`published_flows`.

    Returns
    -------
    table
        ``year, scenario, measure, central, lower, upper`` with numbers or markers (DfE
        convention: ``c`` = confidential, ``x`` = not available).
    """
    out = published.loc[:, list(FLOW_COLS)].astype(dict.fromkeys(STATS, object))
    hidden = published["suppressed"].to_numpy(dtype=bool)
    for c in STATS:
        vals = published[c]
        out[c] = [
            SUPPRESSED_MARKER if h else (_MISSING if pd.isna(v) else float(v))
            for h, v in zip(hidden, vals, strict=True)
        ]
    return out
