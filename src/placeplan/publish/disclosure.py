"""Statistical disclosure control: the one gate every published number passes through.

Convention (documented in the report's disclosure note)
-------------------------------------------------------
* A count ``0 < n < threshold`` is **primary-suppressed**. Zero is published (it reveals no
  individual). The returned frame holds ``NaN`` in a suppressed cell; the report, maps and CSVs show
  the DfE Explore Education Statistics symbol ``"c"`` ("confidential") for it, never a number.
  ``NaN`` that was *not* suppressed (a statistic that does not exist, e.g. a mean of no pupils) is
  shown as ``"x"`` ("not available"); :func:`suppression_mask` tells the two apart.
* **Secondary suppression**: rows that share the values of ``group_cols`` form a group whose counts
  add up to a published total (whether or not the total row is in the frame). If a group holds
  exactly one suppressed cell in a count column, the next-smallest unsuppressed cell of that group
  and column is suppressed too (positive counts before zeros); if no component is left, the group's
  total row (``total_rows``) is suppressed instead. This repeats until stable, over every grouping
  given, so suppression in one grouping that creates a lone cell in another is caught too.
* **Dependent statistics**: every column of ``dependent_cols`` (means, percentiles, maxima, costs,
  differences) is suppressed on each row where any count it depends on is suppressed (primary or
  secondary). Changes (``scenario - baseline``) depend on both counts.
* **Rounding**: with ``round_to > 0`` every published count is rounded to the nearest ``round_to``
  (halves away from zero) after suppression; dependent statistics are not rounded.
* ``mode="internal"`` changes nothing (values kept, mask all False); the report then marks every
  page "INTERNAL — contains unsuppressed small numbers".
* **The mask is an explicit value.** :func:`suppress_table` returns a :class:`Published`
  (``values`` and a boolean ``mask`` frame with the same index); :func:`suppress` returns the
  values with the mask as companion boolean columns ``"<column>:suppressed"``
  (:data:`MASK_SUFFIX`), so it follows its row through sorting, filtering, ``reset_index`` and
  ``concat`` (the mask never lives in ``DataFrame.attrs``). :func:`apply_marker` reads those
  columns and drops them; :func:`placeplan.publish.tables.write_csv` refuses a frame that still
  carries them, so no writer can publish values without applying the mask.
* ``pairs``: two count columns known to differ by at most a few pupils on some rows (a
  group's baseline and scenario where fewer than the threshold change setting) are hidden
  together there, with secondary suppression again after each pairing.
* ``force``: cells another table already hides (one decision per quantity, see
  :mod:`placeplan.publish.register`) are hidden here too, with secondary suppression as if they
  were primary. A total row is a member of each identity it closes: a hidden total with all its
  parts published would be recovered as their sum, so one part is hidden with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "MASK_SUFFIX",
    "NOT_AVAILABLE_MARKER",
    "NOT_AVAILABLE_MEANING",
    "SUPPRESSED_MARKER",
    "Published",
    "apply_marker",
    "mask_columns",
    "suppress",
    "suppress_table",
    "suppression_mask",
]

SUPPRESSED_MARKER = "c"
"""Display symbol for a suppressed value (DfE convention: "c" = confidential)."""

NOT_AVAILABLE_MARKER = "x"
"""Display symbol for a value that does not exist (DfE convention: "x" = not available), e.g. a
mean over no pupils; the report's tables and the maps' pop-ups both show it."""

NOT_AVAILABLE_MEANING = "not applicable (no pupils, or not measured)"
"""What :data:`NOT_AVAILABLE_MARKER` means, in the report's table keys and the maps' legends."""

MASK_SUFFIX = ":suppressed"
"""Suffix of the companion boolean column that holds a column's suppression mask."""


@dataclass(frozen=True, eq=False)
class Published:
    """One published table: its values and, aligned by index, which cells are suppressed.

    Attributes
    ----------
    values
        The table with suppressed cells set to NaN (counts rounded when the plan asks).
    mask
        Boolean frame, same index as ``values``, one column per count or dependent column;
        True where the cell is suppressed. A NaN in ``values`` where ``mask`` is False is a
        statistic that does not exist (shown ``x``).
    mode
        ``"published"`` or ``"internal"``.
    """

    values: pd.DataFrame
    mask: pd.DataFrame
    mode: str = "published"

    def frame(self) -> pd.DataFrame:
        """Values plus the mask as ``"<column>:suppressed"`` columns (sections and maps read it)."""
        out = self.values.copy()
        aligned = (
            self.mask.index.equals(out.index)
            and out.index.is_unique
            and self.mask.columns.is_unique
        )
        names = [f"{col}{MASK_SUFFIX}" for col in self.mask.columns]
        if (
            aligned
            and type(out) is pd.DataFrame
            and out.columns.is_unique
            and not out.columns.isin(names).any()
            and all(_is_bool(d) for d in self.mask.dtypes)
        ):
            # one concatenation, not a column insert per mask column (the same frame)
            flags = pd.DataFrame(self.mask.to_numpy(dtype=bool), index=out.index, columns=names)
            joined = pd.concat([out, flags], axis=1)
            joined.attrs = out.attrs
            return joined
        for col in self.mask.columns:
            m = self.mask[col]
            out[f"{col}{MASK_SUFFIX}"] = (
                m.to_numpy(dtype=bool)  # (already aligned and boolean: the same column)
                if aligned and _is_bool(m.dtype)
                else m.reindex(out.index).fillna(False).astype(bool)
            )
        return out

    def marked(self, marker: str = SUPPRESSED_MARKER) -> pd.DataFrame:
        """Display copy with ``marker`` in suppressed cells (placed by index label)."""
        return apply_marker(self.frame(), marker)


def _is_bool(dtype: object) -> bool:
    """True for numpy's bool dtype (not pandas' nullable ``boolean``)."""
    return isinstance(dtype, np.dtype) and dtype.kind == "b"


def _as_groupings(group_cols: Sequence[str] | Sequence[Sequence[str]] | None) -> list[list[str]]:
    if group_cols is None:
        return [[]]
    if isinstance(group_cols, str):
        return [[group_cols]]
    items = list(group_cols)
    if not items:
        return [[]]
    if all(isinstance(g, str) for g in items):
        return [list(items)]  # type: ignore[arg-type]
    return [[g] if isinstance(g, str) else list(g) for g in items]


def _round_half_away(values: pd.Series, base: int) -> pd.Series:
    arr = values.to_numpy(dtype=float)
    out = np.sign(arr) * np.floor(np.abs(arr) / base + 0.5) * base
    return pd.Series(out, index=values.index)


def suppress(
    df: pd.DataFrame,
    *,
    count_cols: Sequence[str],
    threshold: int = 5,
    round_to: int = 0,
    secondary: bool = True,
    mode: Literal["published", "internal"] = "published",
    dependent_cols: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    group_cols: Sequence[str] | Sequence[Sequence[str]] | None = None,
    total_rows: pd.Series | None = None,
    force: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Suppress small counts (primary and secondary) and statistics derived from them.

    :func:`suppress_table` with the mask joined to the values as ``"<column>:suppressed"``
    columns (see :meth:`Published.frame`); the parameters are the same.

    Returns
    -------
    pandas.DataFrame
        A copy with suppressed cells set to ``NaN`` (count and dependent columns become float)
        and one boolean ``"<column>:suppressed"`` column per count and dependent column.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a", "b", "c"], "pupils": [3, 10, 12]})
    >>> out = suppress(t, count_cols=["pupils"])
    >>> out["pupils"].tolist(), out["pupils:suppressed"].tolist()
    ([nan, nan, 12.0], [True, True, False])
    """
    return suppress_table(
        df,
        count_cols=count_cols,
        threshold=threshold,
        round_to=round_to,
        secondary=secondary,
        mode=mode,
        dependent_cols=dependent_cols,
        group_cols=group_cols,
        total_rows=total_rows,
        force=force,
    ).frame()


def suppress_table(
    df: pd.DataFrame,
    *,
    count_cols: Sequence[str],
    threshold: int = 5,
    round_to: int = 0,
    secondary: bool = True,
    mode: Literal["published", "internal"] = "published",
    dependent_cols: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    group_cols: Sequence[str] | Sequence[Sequence[str]] | None = None,
    total_rows: pd.Series | None = None,
    force: pd.DataFrame | None = None,
    pairs: Sequence[tuple[str, str, pd.Series]] | None = None,
) -> Published:
    """Suppress small counts (primary and secondary) and statistics derived from them.

    Parameters
    ----------
    df
        Aggregated table (never pupil-level). Not modified.
    count_cols
        Columns holding counts of pupils. A value ``0 < v < threshold`` is suppressed.
    threshold
        Smallest count that may be published.
    round_to
        If > 0, round published counts to the nearest multiple of this.
    secondary
        Apply secondary suppression within each group (see module docstring).
    mode
        ``"published"`` (suppress) or ``"internal"`` (return values unchanged).
    dependent_cols
        Columns derived from the counts. A mapping ``{column: [count columns it depends on]}``, or a
        sequence of columns that each depend on *all* ``count_cols``.
    group_cols
        Columns whose values define groups that sum to a published total; a single list of columns
        or a list of such lists (several groupings). ``None`` means the whole frame is one group.
    total_rows
        Boolean Series aligned with ``df`` marking total rows (e.g. ``group_type == "all"``). Total
        rows are primary-suppressed like any other but are not members of a group; a group's
        total row is the one matching it on every grouping column that exists in the total row
        (or the only total row).
    force
        Optional boolean frame (index of ``df``; some count or dependent columns): cells to hide
        whatever their value (decided by another table that publishes the same quantity).
        Forced counts get secondary suppression like primary ones.
    pairs
        ``(column a, column b, rows)``: two count columns that differ by at most a few pupils on
        the ``rows`` marked True (a group's baseline and scenario where fewer than ``threshold``
        pupils change setting): there one hidden cell hides the other, and secondary suppression
        runs again until nothing changes.

    Returns
    -------
    Published
        ``values`` (a copy, suppressed cells ``NaN``, count and dependent columns float) and the
        boolean ``mask``.

    Raises
    ------
    KeyError
        If a named column is missing.
    ValueError
        If ``mode`` is unknown, ``threshold`` < 1 or ``round_to`` < 0.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a", "b", "c"], "pupils": [3, 10, 12]})
    >>> suppress_table(t, count_cols=["pupils"]).values["pupils"].tolist()
    [nan, nan, 12.0]
    """
    if mode not in ("published", "internal"):
        msg = f"mode must be 'published' or 'internal', got {mode!r}"
        raise ValueError(msg)
    if threshold < 1:
        msg = "threshold must be >= 1"
        raise ValueError(msg)
    if round_to < 0:
        msg = "round_to must be >= 0"
        raise ValueError(msg)

    count_cols = list(count_cols)
    if dependent_cols is None:
        deps: dict[str, list[str]] = {}
    elif isinstance(dependent_cols, Mapping):
        deps = {k: list(v) for k, v in dependent_cols.items()}
    else:
        deps = {k: list(count_cols) for k in dependent_cols}
    groupings = _as_groupings(group_cols)
    needed = set(count_cols) | set(deps) | {c for v in deps.values() for c in v}
    needed |= {c for g in groupings for c in g}
    missing = sorted(needed - set(df.columns))
    if missing:
        msg = f"suppress: columns not in table: {missing}"
        raise KeyError(msg)

    out = df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=count_cols + list(deps))
    if mode == "internal" or df.empty:
        return Published(out, mask, mode)

    is_total = (
        pd.Series(False, index=df.index)
        if total_rows is None
        else total_rows.reindex(df.index).fillna(False).astype(bool)
    )
    if _plain_numeric(df, count_cols, deps):
        hid = _hide_arrays(
            df, count_cols, deps, threshold, secondary, groupings, is_total, force, pairs or ()
        )
        return _published_arrays(out, hid, count_cols, deps, round_to, mode)
    for col in count_cols:
        vals = pd.to_numeric(out[col], errors="coerce")
        mask[col] = (vals > 0) & (vals < threshold)
        if force is not None and col in force.columns:
            mask[col] = mask[col] | force[col].reindex(df.index).fillna(False).astype(bool)

    while True:
        if secondary:
            _secondary(out, mask, count_cols, groupings, is_total)
        if not _pair(mask, pairs or ()):
            break

    for dep, sources in deps.items():
        hit = mask[sources].any(axis=1) if sources else pd.Series(False, index=df.index)
        mask[dep] = mask[dep] | hit
        if force is not None and dep in force.columns:
            mask[dep] = mask[dep] | force[dep].reindex(df.index).fillna(False).astype(bool)

    for col in mask.columns:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        out.loc[mask[col], col] = np.nan
    if round_to > 0:
        for col in count_cols:
            out[col] = _round_half_away(out[col], round_to)
    return Published(out, mask, mode)


def _plain_numeric(df: pd.DataFrame, count_cols: list[str], deps: dict[str, list[str]]) -> bool:
    """True if :func:`suppress_table` may run on arrays: every count and dependent column is a
    plain numpy number column, named once, and every source of a dependent is one of them (else
    the frame-by-frame path runs, whose result for other dtypes is what it has always been)."""
    cols = count_cols + list(deps)
    if len(set(cols)) != len(cols) or not df.columns.is_unique or not df.index.is_unique:
        return False
    if any(s not in cols for v in deps.values() for s in v):
        return False
    dtypes = dict(zip(df.columns, df.dtypes, strict=True))
    return all(isinstance(dtypes[c], np.dtype) and dtypes[c].kind in "iuf" for c in cols)


def _as_flags(frame: pd.DataFrame | None, col: str, index: pd.Index) -> np.ndarray | None:
    """Column ``col`` of a boolean ``frame`` aligned to ``index`` (None if it has no such
    column), as :func:`suppress_table` has always read it (``reindex``, ``fillna(False)``)."""
    if frame is None or col not in frame.columns:
        return None
    s = frame[col]
    if _is_bool(s.dtype) and frame.index.equals(index):
        return s.to_numpy(dtype=bool)
    return s.reindex(index).fillna(False).astype(bool).to_numpy(dtype=bool)


def _hide_arrays(
    df: pd.DataFrame,
    count_cols: list[str],
    deps: dict[str, list[str]],
    threshold: int,
    secondary: bool,
    groupings: list[list[str]],
    is_total: pd.Series,
    force: pd.DataFrame | None,
    pairs: Sequence[tuple[str, str, pd.Series]],
) -> dict[str, np.ndarray]:
    """The suppression mask of :func:`suppress_table` on arrays: primary and forced cells,
    secondary suppression and pairs to a fixed point, then the dependent columns."""
    table = df[count_cols].to_numpy(dtype=float) if count_cols else np.zeros((len(df), 0))
    vals = {c: table[:, j] for j, c in enumerate(count_cols)}
    hid: dict[str, np.ndarray] = {}
    for col in count_cols:
        hid[col] = (vals[col] > 0) & (vals[col] < threshold)
        forced = _as_flags(force, col, df.index)
        if forced is not None:
            hid[col] = hid[col] | forced
    groups = _secondary_groups(df, groupings, is_total) if secondary else []
    on = [
        (a, b, rows.reindex(df.index).fillna(False).astype(bool).to_numpy(dtype=bool))
        for a, b, rows in pairs
    ]
    while True:
        for col in count_cols:
            _secondary_column(vals[col], hid[col], groups)
        grew = False
        for a, b, rows_on in on:
            both = rows_on & (hid[a] | hid[b])
            if (both & ~(hid[a] & hid[b])).any():
                hid[a], hid[b] = hid[a] | both, hid[b] | both
                grew = True
        if not grew:
            break
    for dep, sources in deps.items():
        hit = np.zeros(len(df), dtype=bool)
        for src in sources:
            hit |= hid.get(src, hit)
        hid[dep] = hid.get(dep, np.zeros(len(df), dtype=bool)) | hit
        forced = _as_flags(force, dep, df.index)
        if forced is not None:
            hid[dep] = hid[dep] | forced
    return hid


def _published_arrays(
    out: pd.DataFrame,
    hid: dict[str, np.ndarray],
    count_cols: list[str],
    deps: dict[str, list[str]],
    round_to: int,
    mode: Literal["published", "internal"],
) -> Published:
    """``out`` (a copy of the table) with hidden cells NaN and counts rounded, and the mask."""
    cols = count_cols + list(deps)
    values = out[cols].to_numpy(dtype=float, copy=True)
    flags = np.column_stack([hid[c] for c in cols]) if cols else np.zeros((len(out), 0), bool)
    values[flags] = np.nan
    if round_to > 0:
        n = len(count_cols)  # (the count columns come first)
        v = values[:, :n]
        values[:, :n] = np.sign(v) * np.floor(np.abs(v) / round_to + 0.5) * round_to
    if type(out) is pd.DataFrame:  # every column at once (each a new float column)
        out.isetitem(list(out.columns.get_indexer(pd.Index(cols))), values)
    else:
        for j, col in enumerate(cols):
            out[col] = values[:, j]
    return Published(out, pd.DataFrame(flags, index=out.index, columns=cols), mode)


def _secondary(
    df: pd.DataFrame,
    mask: pd.DataFrame,
    count_cols: list[str],
    groupings: list[list[str]],
    is_total: pd.Series,
) -> None:
    """Iterate secondary suppression to a fixed point (mutates ``mask``).

    In each group (a grouping's members, and the totals that close it) that has exactly one
    hidden cell, hide the smallest positive free member (else the smallest), or else the
    group's published totals. Groups and their totals are found once; the loop runs on arrays.
    """
    groups = _secondary_groups(df, groupings, is_total)
    for col in count_cols:
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        hid = mask[col].to_numpy(dtype=bool).copy()
        _secondary_column(vals, hid, groups)
        mask[col] = hid


def _secondary_groups(
    df: pd.DataFrame, groupings: list[list[str]], is_total: pd.Series
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each grouping's groups as ``(member positions, total positions)`` in ``df``."""
    flags = is_total.to_numpy(dtype=bool)
    members = df.index[~flags]
    totals = df.index[flags]
    sub = df.loc[members]
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for keys in groupings:
        found = [(None, sub.index)] if not keys else sub.groupby(keys, sort=True).groups.items()
        for key, idx in found:
            tot = _matching_totals(df, totals, keys, key)
            groups.append(
                (df.index.get_indexer(pd.Index(idx)), df.index.get_indexer(pd.Index(tot)))
            )
    return groups


def _secondary_column(
    vals: np.ndarray, hid: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """Secondary suppression of one count column to a fixed point (mutates ``hid``)."""
    changed = True
    while changed:
        changed = False
        for at, tot_at in groups:
            if int(hid[at].sum()) + int(hid[tot_at].sum()) != 1:
                continue
            free = at[~hid[at] & ~np.isnan(vals[at])]
            if free.size:
                order = free[np.argsort(vals[free], kind="stable")]
                positive = order[vals[order] > 0]
                hid[positive[0] if positive.size else order[0]] = True
                changed = True
                continue
            open_tot = tot_at[~hid[tot_at] & ~np.isnan(vals[tot_at])]
            if open_tot.size:
                hid[open_tot] = True
                changed = True


def _pair(mask: pd.DataFrame, pairs: Sequence[tuple[str, str, pd.Series]]) -> bool:
    """Hide both cells of each pair where one is hidden (mutates ``mask``); True if any grew."""
    grew = False
    for a, b, rows in pairs:
        on = rows.reindex(mask.index).fillna(False).astype(bool)
        both = on & (mask[a] | mask[b])
        if (both & ~(mask[a] & mask[b])).any():
            mask[a] = mask[a] | both
            mask[b] = mask[b] | both
            grew = True
    return grew


def _matching_totals(df: pd.DataFrame, totals: pd.Index, keys: list[str], key: object) -> list:
    if len(totals) <= 1 or not keys:
        return list(totals)
    key_t = key if isinstance(key, tuple) else (key,)
    hits = []
    for t in totals:
        row = df.loc[t]
        if all(pd.isna(row[k]) or row[k] == v for k, v in zip(keys, key_t, strict=False)):
            hits.append(t)
    return hits


def mask_columns(df: pd.DataFrame) -> list[str]:
    """The companion ``"<column>:suppressed"`` columns of ``df`` (empty if it has none)."""
    return [str(c) for c in df.columns if str(c).endswith(MASK_SUFFIX)]


def suppression_mask(df: pd.DataFrame) -> pd.DataFrame:
    """Return the boolean mask of suppressed cells carried by a frame from :func:`suppress`.

    Parameters
    ----------
    df
        A frame returned by :func:`suppress` or :meth:`Published.frame` (or any row subset,
        re-ordering or concatenation of such frames: the mask is in its own columns).

    Returns
    -------
    pandas.DataFrame
        Boolean frame indexed like ``df`` over the count and dependent columns; no columns if
        the frame never went through :func:`suppress`.
    """
    cols = mask_columns(df)
    if cols and df.columns.is_unique:
        flags = df[cols]
        if all(_is_bool(d) for d in flags.dtypes):  # (the same frame, without a copy per column)
            names = [c.removesuffix(MASK_SUFFIX) for c in cols]
            return pd.DataFrame(flags.to_numpy(dtype=bool), index=df.index, columns=names)
    return pd.DataFrame(
        {c.removesuffix(MASK_SUFFIX): df[c].fillna(False).astype(bool) for c in cols},
        index=df.index,
    )


def apply_marker(df: pd.DataFrame, marker: str = SUPPRESSED_MARKER) -> pd.DataFrame:
    """Return a display copy with suppressed cells replaced by ``marker`` (object dtype).

    The marker is placed by the mask columns on the same row, so a frame sorted, filtered or
    re-indexed after :func:`suppress` is marked correctly. The mask columns are dropped.

    Parameters
    ----------
    df
        A frame returned by :func:`suppress` (or :meth:`Published.frame`).
    marker
        Symbol to show; DfE convention ``"c"``.

    Returns
    -------
    pandas.DataFrame
        Copy suitable for CSV publication (``"c"`` in suppressed cells).
    """
    mask = suppression_mask(df)
    out = df.drop(columns=mask_columns(df))
    for col in mask.columns:
        if col in out.columns and mask[col].any():
            out[col] = out[col].astype(object)
            out.loc[mask[col].to_numpy(), col] = marker
    return out
