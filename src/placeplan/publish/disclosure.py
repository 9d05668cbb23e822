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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "SUPPRESSED_MARKER",
    "apply_marker",
    "suppress",
    "suppression_mask",
]

SUPPRESSED_MARKER = "c"
"""Display symbol for a suppressed value (DfE convention: "c" = confidential)."""

_MASK_ATTR = "placeplan_suppressed"


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
) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        A copy with suppressed cells set to ``NaN`` (count and dependent columns become float).
        The suppression mask is kept in ``result.attrs`` and read with :func:`suppression_mask`.

    Raises
    ------
    KeyError
        If a named column is missing.
    ValueError
        If ``mode`` is unknown, ``threshold`` < 1 or ``round_to`` < 0.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a", "b", "c"], "pupils": [3, 10, 12]})
    >>> suppress(t, count_cols=["pupils"])["pupils"].tolist()
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
        out.attrs = {**df.attrs, _MASK_ATTR: _pack(mask), "disclosure_mode": mode}
        return out

    is_total = (
        pd.Series(False, index=df.index)
        if total_rows is None
        else total_rows.reindex(df.index).fillna(False).astype(bool)
    )
    for col in count_cols:
        vals = pd.to_numeric(out[col], errors="coerce")
        mask[col] = (vals > 0) & (vals < threshold)

    if secondary:
        _secondary(out, mask, count_cols, groupings, is_total)

    for dep, sources in deps.items():
        hit = mask[sources].any(axis=1) if sources else pd.Series(False, index=df.index)
        mask[dep] = mask[dep] | hit

    for col in mask.columns:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        out.loc[mask[col], col] = np.nan
    if round_to > 0:
        for col in count_cols:
            out[col] = _round_half_away(out[col], round_to)
    out.attrs = {
        **df.attrs,
        _MASK_ATTR: _pack(mask),
        "disclosure_mode": mode,
        "disclosure_threshold": threshold,
        "disclosure_round_to": round_to,
    }
    return out


def _secondary(
    df: pd.DataFrame,
    mask: pd.DataFrame,
    count_cols: list[str],
    groupings: list[list[str]],
    is_total: pd.Series,
) -> None:
    """Iterate secondary suppression to a fixed point (mutates ``mask``)."""
    members = df.index[~is_total.to_numpy()]
    totals = df.index[is_total.to_numpy()]
    changed = True
    while changed:
        changed = False
        for col in count_cols:
            vals = pd.to_numeric(df[col], errors="coerce")
            for keys in groupings:
                sub = df.loc[members]
                groups = (
                    [(None, sub.index)] if not keys else sub.groupby(keys, sort=True).groups.items()
                )
                for key, idx in groups:
                    idx = pd.Index(idx)
                    n_sup = int(mask.loc[idx, col].sum())
                    if n_sup != 1:
                        continue
                    free = vals.loc[idx][~mask.loc[idx, col] & vals.loc[idx].notna()]
                    if not free.empty:
                        order = free.sort_values(kind="stable")
                        positive = order[order > 0]
                        pick = positive.index[0] if not positive.empty else order.index[0]
                        mask.loc[pick, col] = True
                        changed = True
                        continue
                    tot = _matching_totals(df, totals, keys, key)
                    tot = [t for t in tot if not mask.loc[t, col] and pd.notna(vals.loc[t])]
                    if tot:
                        mask.loc[tot, col] = True
                        changed = True


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


def suppression_mask(df: pd.DataFrame) -> pd.DataFrame:
    """Return the boolean mask of suppressed cells recorded by :func:`suppress`.

    Parameters
    ----------
    df
        A frame returned by :func:`suppress` (or a row-subset of one).

    Returns
    -------
    pandas.DataFrame
        Boolean frame indexed like ``df`` over the count and dependent columns; all False if the
        frame never went through :func:`suppress`.
    """
    packed = df.attrs.get(_MASK_ATTR)
    if packed is None:
        return pd.DataFrame(False, index=df.index, columns=[])
    return pd.DataFrame(
        {col: df.index.isin(list(labels)) for col, labels in packed}, index=df.index
    ).astype(bool)


def _pack(mask: pd.DataFrame) -> tuple[tuple[str, frozenset[object]], ...]:
    """Mask as ``((column, suppressed row labels), ...)``.

    Kept in ``DataFrame.attrs``, which pandas compares with ``==`` (e.g. in ``concat`` and
    ``astype``); a DataFrame there makes those comparisons ambiguous and raise, plain tuples of
    frozensets compare cleanly.
    """
    return tuple((str(col), frozenset(mask.index[mask[col].to_numpy()])) for col in mask.columns)


def apply_marker(df: pd.DataFrame, marker: str = SUPPRESSED_MARKER) -> pd.DataFrame:
    """Return a display copy with suppressed cells replaced by ``marker`` (object dtype).

    Parameters
    ----------
    df
        A frame returned by :func:`suppress`.
    marker
        Symbol to show; DfE convention ``"c"``.

    Returns
    -------
    pandas.DataFrame
        Copy suitable for CSV publication (``"c"`` in suppressed cells).
    """
    mask = suppression_mask(df)
    out = df.copy()
    for col in mask.columns:
        if mask[col].any():
            out[col] = out[col].astype(object)
            out.loc[mask[col], col] = marker
    return out
