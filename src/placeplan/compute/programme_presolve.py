"""Exact presolve for the programme model: merge demand rows the model cannot tell apart.

Two demand rows are interchangeable when they enter in the same year, stay in the same
proportions (``present / count`` equal in every year) and can go to the same sites with the same
value per pupil. Merging them (counts and presence added) changes no programme's savings: any
assignment of the merged row splits back over its members in proportion to their counts with the
same occupancy in every site and year and the same value, and any assignment of the members adds
up to one of the merged row. At county scale, where many homes reach the same set of sites, this
cuts the rows and assignments several-fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MergedRows", "max_places_within", "merge_rows", "places_cuts"]

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True, slots=True)
class MergedRows:
    """Rows after merging, and the maps back to the original rows and arcs.

    Attributes
    ----------
    group
        ``(R,)`` merged row of each original row.
    count, entry, present
        Merged rows' counts, entry year indices and presence ``(G, Y)``.
    arc_row, arc_site, arc_value
        Merged arcs (the arcs of each group's first member).
    arc_of_original
        ``(A,)`` merged arc of each original arc.
    """

    group: np.ndarray
    count: np.ndarray
    entry: np.ndarray
    present: np.ndarray
    arc_row: np.ndarray
    arc_site: np.ndarray
    arc_value: np.ndarray
    arc_of_original: np.ndarray


def _row_keys(
    n_rows: int,
    entry: np.ndarray,
    share: np.ndarray,
    arc_row: np.ndarray,
    arc_site: np.ndarray,
    arc_value: np.ndarray,
    seed: int,
) -> np.ndarray:
    """A 64-bit fingerprint per row of (entry, presence shares, {(site, value)})."""
    rng = np.random.default_rng(seed)
    n_sites = int(arc_site.max(initial=-1)) + 1
    w_site = rng.integers(1, 2**63, n_sites, dtype=np.uint64)
    w_year = rng.integers(1, 2**63, share.shape[1] + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        vals = np.round(arc_value * 1e6).astype(np.int64).view(np.uint64)
        arc_h = w_site[arc_site] * (vals * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
        key = np.zeros(n_rows, dtype=np.uint64)
        np.add.at(key, arc_row, arc_h)
        q = np.round(share * 1e9).astype(np.int64).view(np.uint64)
        key += (q * w_year[None, :-1]).sum(axis=1, dtype=np.uint64)
        key += entry.astype(np.uint64) * w_year[-1]
    return key & _MASK


def merge_rows(
    count: np.ndarray,
    entry: np.ndarray,
    present: np.ndarray,
    arc_row: np.ndarray,
    arc_site: np.ndarray,
    arc_value: np.ndarray,
) -> MergedRows:
    """Merge interchangeable demand rows (see the module docstring).

    Rows are grouped by two independent 64-bit fingerprints of (entry year, presence shares,
    sites with values); each group's arc count is checked against its first member's.

    Parameters
    ----------
    count, entry, present
        ``(R,)``, ``(R,)``, ``(R, Y)`` demand rows.
    arc_row, arc_site, arc_value
        ``(A,)`` allowed assignments.

    Returns
    -------
    MergedRows
        The merged rows and the maps back.
    """
    n = len(count)
    share = present / np.maximum(count, 1e-12)[:, None]
    k1 = _row_keys(n, entry, share, arc_row, arc_site, arc_value, seed=1)
    k2 = _row_keys(n, entry, share, arc_row, arc_site, arc_value, seed=2)
    keys = np.stack([k1, k2], axis=1)
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    arcs_per_row = np.bincount(arc_row, minlength=n)
    if (arcs_per_row != arcs_per_row[first][group]).any():  # pragma: no cover - 128-bit collision
        group, first = np.arange(n), np.arange(n)
    n_g = len(first)
    m_count = np.bincount(group, weights=count, minlength=n_g)
    m_present = np.zeros((n_g, present.shape[1]))
    np.add.at(m_present, group, present)
    is_first = np.zeros(n, dtype=bool)
    is_first[first] = True
    keep = is_first[arc_row]
    m_arc_row = group[arc_row[keep]]
    m_arc_site = arc_site[keep]
    n_sites = int(arc_site.max(initial=-1)) + 1
    m_key = m_arc_row.astype(np.int64) * n_sites + m_arc_site
    order = np.argsort(m_key, kind="stable")
    pos = np.searchsorted(m_key[order], group[arc_row].astype(np.int64) * n_sites + arc_site)
    return MergedRows(
        group=group,
        count=m_count,
        entry=entry[first],
        present=m_present,
        arc_row=m_arc_row,
        arc_site=m_arc_site,
        arc_value=arc_value[keep],
        arc_of_original=order[np.minimum(pos, len(order) - 1)],
    )


def max_places_within(
    site: np.ndarray, places: np.ndarray, capital_gbp: np.ndarray, budget_gbp: float
) -> float | None:
    """The most places a budget can buy, at most one option per site (exact, by DP).

    A multiple-choice knapsack over whole places: ``best[p]`` is the least capital buying
    exactly ``p`` places, one option per site at most. The answer gives a valid inequality
    ``Σ places_o y_o <= max_places`` for the budget row; it is tighter than the LP relaxation
    because places come in whole sizes (e.g. sizes 8, 12 and 16 buy a multiple of 4 places,
    where the relaxation buys any fraction).

    Parameters
    ----------
    site, places, capital_gbp
        ``(K,)`` the options the budget row covers: site index, places, capital (£).
    budget_gbp
        The budget row's limit (£).

    Returns
    -------
    float or None
        The most places, or ``None`` when places are not whole numbers or the table would be
        too large (over 200,000 places); then no inequality is added.
    """
    whole = np.round(places)
    if len(places) == 0 or (np.abs(places - whole) > 1e-9).any() or (whole < 0).any():
        return None
    cap = whole.astype(np.int64)
    per_site = np.zeros(int(site.max()) + 1, dtype=np.int64)
    np.maximum.at(per_site, site, cap)
    total = int(per_site.sum())
    if total > 200_000:
        return None
    best = np.full(total + 1, np.inf)
    best[0] = 0.0
    order = np.argsort(site, kind="stable")
    bounds = np.flatnonzero(np.diff(site[order])) + 1
    for group in np.split(order, bounds):  # one site: take at most one of its options
        new = best.copy()
        for o in group:
            p = int(cap[o])
            if p > 0:
                np.minimum(new[p:], best[:-p] + capital_gbp[o], out=new[p:])
        best = new
    ok = np.flatnonzero(best <= budget_gbp * (1 + 1e-12) + 1e-6)
    return float(ok.max())


def places_cuts(
    opt_site: np.ndarray,
    opt_places: np.ndarray,
    opt_fy: np.ndarray,
    opt_capital_gbp: np.ndarray,
    may_open: np.ndarray,
    budget_by_fy_gbp: np.ndarray,
    *,
    carry_forward: bool,
) -> list[tuple[np.ndarray, float]]:
    """Places cuts: ``Σ places_o y_o <= most`` for each budget row where it cuts anything.

    Valid for every programme (it follows from the budget row and whole option sizes) and
    tighter than the relaxation, which buys fractions of a size (:func:`max_places_within`).

    Parameters
    ----------
    opt_site, opt_places, opt_fy, opt_capital_gbp
        ``(O,)`` options.
    may_open
        ``(O,)`` options that may open (others are left out of the sums).
    budget_by_fy_gbp
        ``(F,)`` budget per financial year (£), already scaled.
    carry_forward
        Budget rows are cumulative over financial years.

    Returns
    -------
    list of (numpy.ndarray, float)
        Per cut: the options it sums and the most places.
    """
    out = []
    limits = np.cumsum(budget_by_fy_gbp) if carry_forward else budget_by_fy_gbp
    for f, limit in enumerate(limits):
        idx = np.flatnonzero((opt_fy <= f if carry_forward else opt_fy == f) & may_open)
        if idx.size == 0:
            continue
        most = max_places_within(opt_site[idx], opt_places[idx], opt_capital_gbp[idx], limit)
        per_site = np.zeros(int(opt_site.max()) + 1)
        np.maximum.at(per_site, opt_site[idx], opt_places[idx])
        if most is not None and most < per_site.sum() - 1e-9:
            out.append((idx, most))
    return out
