"""Site scores as intervals where a criterion is suppressed, from published cells only.

A count criterion of a candidate site (``need``: pupils in reach, ``ooa``: avoidable out-of-area
placements, ``time_saved``: mean minutes saved for the pupils benefiting) is published as ``c``
when its count is small: :func:`placeplan.publish.disclosure.suppress` hides a count
``0 < n < threshold`` (zero is published). So a ``c`` is not nothing: the count lies in
``1 .. threshold - 1`` (whole pupils; ``0 < n < threshold`` for a decay-weighted count), its
normalised value in an interval and the site's score in an interval too. This module computes
those intervals **from the published table alone** (the values and the suppression mask that
:func:`placeplan.publish.register.published_site_scores` produces), so they reveal nothing the
published cells do not.

Normalised value of a suppressed count criterion (``x / max`` over the sites, see
:data:`placeplan.compute.scoring.CRITERIA`):

* ``need``, ``ooa``: when some site publishes a positive count, the largest count ``M`` is the
  largest published one (a published positive count is at least the threshold, above every
  suppressed one; with rounding to ``r``, ``M`` is within ``r / 2`` of it), so the value is in
  ``[lo / M, hi / M]`` with ``lo .. hi`` the suppressed range. When no site publishes a positive
  count, the largest count is itself suppressed: the value is ``1`` if the site is the only
  suppressed one (the others are 0), else in ``[lo / hi, 1]``.
* ``time_saved``: the mean minutes saved has no bound of its own: ``[0, 1]``.

The score interval for weights ``w`` (criteria with ``w > 0``) is ``sum(w * low) / sum(w)`` to
``sum(w * high) / sum(w)``, each rounded to 9 decimals as ``Math.round(x * 1e9) / 1e9`` does in
the browser. A site's rank (1 = best; ties share the best rank) lies in ``rank_best`` (1 + the
sites whose lowest score is above its highest) to ``rank_worst`` (1 + the other sites whose
highest score is above its lowest). The report's sliders run :data:`RANGES_JS`, the same
formula, on the same per-criterion intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources

import numpy as np
import pandas as pd

from placeplan.compute.scoring import CRITERIA, SENSITIVITY_PERTURBATION, rank_ranges
from placeplan.publish.disclosure import Published

__all__ = [
    "COUNT_CRITERIA",
    "RANGES_JS",
    "RANGE_COLUMNS",
    "SENSITIVITY_COLUMNS",
    "criterion_bounds",
    "largest_time_saved_hidden",
    "published_ranks",
    "range_order",
    "ranks_among_all",
    "score_ranges",
    "site_score_ranges",
]

#: Count criteria: key -> the published count column whose suppression hides the criterion.
COUNT_CRITERIA: dict[str, str] = {
    "need": "need_in_reach",
    "ooa": "ooa_avoidable",
    "time_saved": "pupils_benefiting",
}
#: The columns :func:`site_score_ranges` adds to the published site scores.
RANGE_COLUMNS = ("score_low", "score_high", "rank_best", "rank_worst")
#: The ranks under ±50 % weights and the criterion that moves a site most (site_scores.csv).
SENSITIVITY_COLUMNS = ("min_rank", "max_rank", "most_sensitive_to")


def _round9(x: float) -> float:
    """``Math.round(x * 1e9) / 1e9`` exactly as JavaScript computes it (halves up)."""
    return math.floor(x * 1e9 + 0.5) / 1e9


def _hidden(values: pd.DataFrame, mask: pd.DataFrame, col: str) -> np.ndarray:
    if col in mask.columns:
        return mask[col].reindex(values.index).fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(values), dtype=bool)


def criterion_bounds(
    published: Published, *, threshold: int, round_to: int = 0, whole_counts: bool = True
) -> pd.DataFrame:
    """Per site and criterion, the interval its normalised value (0-1) is known to lie in.

    Parameters
    ----------
    published
        The published site scores (values + mask): ``site_id`` and ``<key>_norm`` for every
        criterion with a weight, the count columns of :data:`COUNT_CRITERIA`, their mask.
    threshold, round_to
        The plan's disclosure settings (counts ``0 < n < threshold`` are suppressed; published
        counts rounded to ``round_to`` when > 0).
    whole_counts
        Counts are whole pupils (a suppressed count is ``1 .. threshold - 1``); False for a
        decay-weighted need in reach (``0 < n < threshold``), which is also assumed when a
        published count is not whole.

    Returns
    -------
    pandas.DataFrame
        Index as ``published.values``: ``site_id`` and ``<key>_low``, ``<key>_high`` per
        criterion key in ``CRITERIA`` order (equal where the value is published).
        ``attrs["keys"]`` lists the keys.
    """
    v, m = published.values, published.mask
    keys = [c.key for c in CRITERIA if f"{c.key}_norm" in v.columns]
    out = pd.DataFrame({"site_id": v["site_id"].astype(str)}, index=v.index)
    c_lo, c_hi = (1.0, threshold - 1.0) if whole_counts else (0.0, float(threshold))
    for key in keys:
        norm = pd.to_numeric(v[f"{key}_norm"], errors="coerce").to_numpy(dtype=float)
        hid = _hidden(v, m, f"{key}_norm") | _hidden(v, m, COUNT_CRITERIA.get(key, ""))
        lo = np.where(np.isfinite(norm), norm, 0.0)
        hi = lo.copy()
        if hid.any():
            lo[hid], hi[hid] = _hidden_bounds(key, v, hid, c_lo, c_hi, round_to, threshold)
        out[f"{key}_low"], out[f"{key}_high"] = lo, hi
    out.attrs["keys"] = keys
    return out


def _hidden_bounds(
    key: str,
    v: pd.DataFrame,
    hid: np.ndarray,
    c_lo: float,
    c_hi: float,
    round_to: int,
    threshold: int,
) -> tuple[float, float]:
    """The interval of a suppressed criterion's normalised value (the same for every site)."""
    col = {"need": "need_in_reach", "ooa": "ooa_avoidable"}.get(key)
    if col is None or col not in v.columns:
        return 0.0, 1.0
    counts = pd.to_numeric(v[col], errors="coerce").to_numpy(dtype=float)[~hid]
    counts = counts[np.isfinite(counts) & (counts > 0)]
    if (counts != np.round(counts)).any():  # a decay-weighted count: 0 < n < threshold
        c_lo, c_hi = 0.0, float(threshold)
    if counts.size:
        top = float(counts.max())
        big_lo, big_hi = max(top - round_to / 2, float(threshold)), top + round_to / 2
        return min(c_lo / big_hi, 1.0), min(c_hi / big_lo, 1.0)
    if int(hid.sum()) == 1:
        return 1.0, 1.0
    return (c_lo / c_hi if c_hi > 0 else 0.0), 1.0


def score_ranges(bounds: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Score and rank intervals for the given weights (the sliders' formula, :data:`RANGES_JS`).

    Parameters
    ----------
    bounds
        :func:`criterion_bounds` output (``site_id``, ``<key>_low``, ``<key>_high``).
    weights
        Weight per criterion key (any scale, >= 0; absent or 0 = not used).

    Returns
    -------
    pandas.DataFrame
        Index as ``bounds``: ``site_id``, ``score_low``, ``score_high`` (NaN when no weight is
        positive), ``rank_best``, ``rank_worst`` (1 = best; ties share the best rank).
    """
    keys = [k for k in bounds.attrs.get("keys", []) if weights.get(k, 0) > 0]
    n = len(bounds)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    lo_cols = [bounds[f"{k}_low"].to_numpy(dtype=float) for k in keys]
    hi_cols = [bounds[f"{k}_high"].to_numpy(dtype=float) for k in keys]
    for i in range(n):
        num_lo = num_hi = den = 0.0
        for j, k in enumerate(keys):
            wk = float(weights[k])
            num_lo += wk * float(lo_cols[j][i])
            num_hi += wk * float(hi_cols[j][i])
            den += wk
        if den > 0:
            low[i], high[i] = _round9(num_lo / den), _round9(num_hi / den)
    lo_f, hi_f = np.nan_to_num(low, nan=-1.0), np.nan_to_num(high, nan=-1.0)
    best = 1 + (lo_f[None, :] > hi_f[:, None]).sum(axis=1)
    worst = 1 + (hi_f[None, :] > lo_f[:, None]).sum(axis=1) - (hi_f > lo_f)
    return pd.DataFrame(
        {
            "site_id": bounds["site_id"].astype(str).to_numpy(),
            "score_low": low,
            "score_high": high,
            "rank_best": best.astype(int),
            "rank_worst": worst.astype(int),
        },
        index=bounds.index,
    )


def range_order(ranges: pd.DataFrame) -> list[str]:
    """Site ids best first, as the sliders list them: by best rank, worst rank, highest score
    (descending), then ``site_id``."""
    key = ranges.assign(_h=-ranges["score_high"].fillna(-1.0), _id=ranges["site_id"].astype(str))
    return (
        key.sort_values(["rank_best", "rank_worst", "_h", "_id"], kind="stable")["_id"]
        .astype(str)
        .tolist()
    )


def _weights(v: pd.DataFrame, keys: list[str], given: Mapping[str, float] | None) -> dict:
    """The scoring weights: as given, else read back from the published contributions.

    :func:`placeplan.compute.scoring.score_sites` writes ``<key>_norm`` and ``<key>_contrib``
    for the criteria with a positive weight only, and its weights sum to 1; so a criterion whose
    weight cannot be read back (its value 0 or hidden at every site) takes what the others leave.
    Criteria whose published values are 0 at every site share it (their numerators are 0, only
    the sum matters). Raises ValueError when two or more such criteria have hidden values: then
    the split matters and cannot be known; pass ``weights``.
    """
    if given:
        return {k: float(given.get(k, 0.0)) for k in keys}
    out: dict[str, float] = {}
    unknown = []
    for k in keys:
        if f"{k}_contrib" not in v.columns:
            out[k] = 0.0
            continue
        n = pd.to_numeric(v[f"{k}_norm"], errors="coerce").to_numpy(dtype=float)
        c = pd.to_numeric(v[f"{k}_contrib"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(n) & np.isfinite(c) & (n > 0)
        if ok.any():
            out[k] = float(np.median(c[ok] / n[ok]))
        else:
            unknown.append(k)
    if not unknown:
        return out
    rest = max(0.0, 1.0 - sum(out.values()))
    hidden = [k for k in unknown if not (pd.to_numeric(v[f"{k}_norm"], errors="coerce") == 0).all()]
    if len(unknown) > 1 and hidden:
        msg = (
            f"site score ranges: the weights of criteria {unknown} cannot be read back from the "
            "published contributions (0 or hidden at every site); pass `weights` (the weights "
            "score_sites used, in its output's attrs['weights'])"
        )
        raise ValueError(msg)
    out.update(dict.fromkeys(unknown, rest / len(unknown)))
    return out


def largest_time_saved_hidden(scores: pd.DataFrame, threshold: int) -> pd.DataFrame | None:
    """Cells to hide in the raw site scores so the largest mean minutes saved is not given back.

    ``time_saved_norm`` is each site's minutes over the largest; when the site with the largest
    has its minutes hidden (``0 < pupils_benefiting < threshold``), any other site's published
    minutes over its normalised value would give them back, so ``time_saved_min`` is hidden for
    every site. (The decision shows nothing new: no published ``time_saved_norm`` is then 1.)

    Parameters
    ----------
    scores
        The raw (unsuppressed) site scores.
    threshold
        Smallest count that may be published.

    Returns
    -------
    pandas.DataFrame or None
        A ``force`` frame for :func:`~placeplan.publish.disclosure.suppress_table`, or None.
    """
    if not {"time_saved_min", "time_saved_norm", "pupils_benefiting"} <= set(scores.columns):
        return None
    t = pd.to_numeric(scores["time_saved_min"], errors="coerce")
    n = pd.to_numeric(scores["pupils_benefiting"], errors="coerce")
    small = (n > 0) & (n < threshold)
    if not (t > 0).any() or not small[t == t.max()].any():
        return None
    return pd.DataFrame({"time_saved_min": True}, index=scores.index)


def site_score_ranges(
    published: Published,
    *,
    threshold: int,
    round_to: int = 0,
    weights: Mapping[str, float] | None = None,
) -> Published:
    """Add ``score_low``, ``score_high``, ``rank_best``, ``rank_worst`` to the site scores.

    Computed from the published values and mask only (:func:`criterion_bounds`,
    :func:`score_ranges`), over every candidate site; where nothing is suppressed the interval
    is the one score (``score_low == score_high``). Internal runs get the exact scores' ranks.

    Parameters
    ----------
    published
        The published site scores.
    threshold, round_to
        The plan's disclosure settings.
    weights
        The scoring weights by criterion key; default: read back from the published
        contributions (contribution / normalised value).

    Returns
    -------
    Published
        The same table with the four columns (not masked: they are published for every site).
    """
    v = published.values
    keys = [c.key for c in CRITERIA if f"{c.key}_norm" in v.columns]
    if not keys or "site_id" not in v.columns or v.empty:
        return published
    bounds = criterion_bounds(published, threshold=threshold, round_to=round_to)
    ranges = score_ranges(bounds, _weights(v, keys, weights))
    values = v.copy()
    for col in RANGE_COLUMNS:
        values[col] = ranges[col]
    return Published(values, published.mask, published.mode)


#: The sliders' formula (``templates/site_ranges.js.j2``, which the report's inline script
#: includes): ``ranges(data, w)`` with ``data`` ``{criteria: [{key}], sites: [{id, low: {key: v},
#: high: {key: v}}]}`` and ``w`` the weights by key; returns the sites best first, each
#: ``{i, id, low, high, best, worst}``. Mirrors :func:`score_ranges` and :func:`range_order`
#: operation for operation (tests/test_sliders.py runs it under Node).
RANGES_JS: str = (
    resources.files("placeplan")
    .joinpath("publish/report/templates/site_ranges.js.j2")
    .read_text(encoding="utf-8")
    .split("#}", 1)[1]
)


def ranks_among_all(scores: Published) -> Published:
    """Where a score is published as a range, make ``rank`` a rank among *all* candidates.

    :func:`published_ranks` ranks the sites whose score is published among themselves; beside
    ``rank_best``/``rank_worst`` (among every candidate) that reads wrongly (a site 4th of the
    exact ones can be 13th to 15th of all). So ``rank`` becomes the rank among all candidates
    where the ranges fix it (``rank_best == rank_worst``) and is hidden where they do not; the
    ranks under ±50 % weights (:data:`SENSITIVITY_COLUMNS`), computed among the exact sites
    only, would be hidden in every row: those columns are dropped (the report's sliders replace
    them). A rank fixed by the ranges is published even where the score is hidden: it is worked
    out from the published ranges alone. Rows are listed
    as the sliders list them (:func:`range_order`). Everything
    here is derived from published cells, so nothing new is disclosed.
    """
    v, m = scores.values, scores.mask
    needed = {"site_id", "rank", "score", "rank_best", "rank_worst", "score_high"}
    if scores.mode != "published" or not needed <= set(v.columns) or "score" not in m.columns:
        return scores
    if not m["score"].reindex(v.index).fillna(False).astype(bool).any():
        return scores
    values, mask = v.copy(), m.copy()
    fixed = values["rank_best"].astype(int) == values["rank_worst"].astype(int)
    values["rank"] = values["rank_best"].astype(float).where(fixed)
    mask["rank"] = ~fixed
    # hidden in every row: dropped, not published as a column of "c"
    gone = [c for c in SENSITIVITY_COLUMNS if c in values.columns]
    values = values.drop(columns=gone)
    mask = mask.drop(columns=[c for c in gone if c in mask.columns])
    by_id = pd.Series(values.index, index=values["site_id"].astype(str))
    order = by_id.loc[range_order(values)].to_numpy()
    return replace(scores, values=values.loc[order], mask=mask.loc[order])


def published_ranks(scores: Published) -> Published:
    """Rank the sites among those whose score is published, listed first, best first; sites
    with a hidden score after them by ``site_id``.

    A rank over every site leaves a gap where a hidden score sits, and a list in rank order
    places it between two published scores: either bounds the hidden score (and the counts it is
    computed from). The ranks under changed weights (``min_rank``, ``max_rank``,
    ``most_sensitive_to``) are recomputed the same way, among the published sites, from their
    published normalised criteria (each weight moved by ±50 % in turn, as
    :func:`placeplan.compute.scoring.weight_sensitivity` does over every site); without the
    criteria they are hidden. Internal runs keep every site's rank.
    """
    v, m = scores.values, scores.mask
    if scores.mode != "published" or not {"score", "rank", "site_id"} <= set(v.columns):
        return scores
    if "score" not in m.columns or not m["score"].any():
        return scores
    shown = ~m["score"].reindex(v.index).fillna(False).astype(bool)
    score = pd.to_numeric(v["score"], errors="coerce")
    rank = score[shown].rank(method="min", ascending=False)
    values, mask = v.copy(), m.copy()
    values.loc[shown, "rank"] = rank.astype(float)
    # the ranks under changed weights, among the published sites only
    sens = _published_sensitivity(values.loc[shown])
    for col in ("min_rank", "max_rank", "most_sensitive_to"):
        if col not in values.columns:
            continue
        empty: str | float = "" if col == "most_sensitive_to" else float("nan")
        if sens is None:
            values[col] = empty
        else:
            values.loc[shown, col] = sens[col]
            values.loc[~shown, col] = empty
        if col in mask.columns:
            mask[col] = True if sens is None else ~shown
    order = (
        values.assign(_hidden=~shown, _rank=values["rank"].where(shown))
        .sort_values(["_hidden", "_rank", "site_id"], kind="stable")
        .index
    )
    return replace(scores, values=values.loc[order], mask=mask.loc[order])


def _published_sensitivity(shown: pd.DataFrame) -> pd.DataFrame | None:
    """``min_rank``, ``max_rank``, ``most_sensitive_to`` among ``shown`` sites, from their
    published ``<key>_norm`` and ``<key>_contrib`` (weight = contribution / normalised value)."""
    keys = [c.key for c in CRITERIA if {f"{c.key}_norm", f"{c.key}_contrib"} <= set(shown)]
    if not keys or shown.empty:
        return None
    norm = shown[[f"{k}_norm" for k in keys]].apply(pd.to_numeric, errors="coerce")
    contrib = shown[[f"{k}_contrib" for k in keys]].apply(pd.to_numeric, errors="coerce")
    if norm.isna().any().any() or contrib.isna().any().any():
        return None
    n, c = norm.to_numpy(dtype=float), contrib.to_numpy(dtype=float)
    weights = {
        k: float(np.median(c[n[:, j] > 0, j] / n[n[:, j] > 0, j])) if (n[:, j] > 0).any() else 0.0
        for j, k in enumerate(keys)
    }
    if sum(weights.values()) <= 0:
        return None
    _, lo, hi, culprit = rank_ranges(
        lambda w: n @ np.array([w[k] for k in keys]), weights, SENSITIVITY_PERTURBATION
    )
    return pd.DataFrame(
        {"min_rank": lo, "max_rank": hi, "most_sensitive_to": culprit}, index=shown.index
    )
