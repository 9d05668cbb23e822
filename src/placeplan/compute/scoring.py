"""Transparent, weighted scoring of candidate inclusion-base sites.

Each candidate site gets one row with, per criterion, the raw value (in its own units), a value
normalised to 0-1 (1 = best for place planning), the weighted contribution, the total score, a rank
and a one-line plain-English explanation. Nothing is hidden in the score: the total is exactly the
sum of the contributions, and the contributions are the normalised values times the weights
(weights are rescaled to sum to one over the criteria that can be computed).

Criteria (key → raw column, direction)
--------------------------------------
``need`` → ``need_in_reach`` (pupils)
    Demand of the site's needs and phases within ``max_travel_time_min`` of the site, optionally
    weighted by a distance-decay function. Higher is better; min-max normalised across sites.
``time_saved`` → ``time_saved_min`` (minutes per journey)
    Mean minutes saved per journey, against the demand's current journey, for the pupils the site
    could take: reachable, compatible demand is sorted by saving (most to gain first) and filled up
    to the site's ``places``. Higher is better; min-max normalised.
``ooa`` → ``ooa_avoidable`` (placements)
    Out-of-area / independent placements (``ooa_count``) of compatible demand within reach, capped
    at the site's ``places``. Higher is better; min-max normalised.
``cost`` → ``cost_per_place_gbp`` (£ capital per place)
    ``capital_cost_gbp / places``. Lower is better; min-max normalised (cheapest = 1).
``deprivation`` → ``imd_decile`` (1 = most deprived)
    IMD decile of the site's area. Fixed scale: ``(10 - decile) / 9`` (decile 1 = 1, decile 10 = 0).
``spare_capacity`` → ``spare_places`` (places)
    ``host_capacity - host_on_roll`` at the host school (falling rolls free accommodation).
    Higher is better; min-max normalised.
``rurality`` → ``rural`` (1 rural, 0 urban)
    From ``ruc_class`` (``rural``/``urban``, or an ONS RUC label starting with either). Fixed scale:
    rural = 1, because rural pupils face the longest journeys (DESIGN.md: "flex for rurality").

Min-max normalisation maps the best site to 1 and the worst to 0; when every site has the same raw
value the criterion cannot discriminate and every site gets 1. A site whose raw value is missing
(e.g. no IMD decile) gets 0 for that criterion and its explanation says the value is unknown. A
criterion whose input column is absent altogether is dropped (its default weight is ignored and
the rest rescaled); asking for a positive weight on it raises.

The output is for the planning team: explanations carry small counts. Anything published must
pass through ``placeplan.publish.disclosure.suppress`` first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute.accessibility import DecayFunction, decay_weights, two_step_fca
from placeplan.compute.site_inputs import (
    dense_travel_times,
    frozen_codes,
    numeric_column,
    site_demand_compatibility,
    validate_candidate_sites,
    validate_site_demand,
)

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "SENSITIVITY_PERTURBATION",
    "Criterion",
    "decay_weights",
    "dense_travel_times",
    "numeric_column",
    "score_sites",
    "site_demand_compatibility",
    "two_step_fca",
    "validate_candidate_sites",
    "validate_site_demand",
    "weight_sensitivity",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One scoring criterion: its key, raw column, direction and plain-English meaning."""

    key: str
    raw_col: str
    higher_is_better: bool
    normalisation: str
    description: str


#: The scoring criteria, in the order they appear in tables and explanations.
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "need",
        "need_in_reach",
        True,
        "share of the largest",
        "pupils of the site's needs within reach",
    ),
    Criterion(
        "ooa",
        "ooa_avoidable",
        True,
        "share of the largest",
        "out-of-area/independent placements within reach, capped at places",
    ),
    Criterion(
        "time_saved",
        "time_saved_min",
        True,
        "share of the largest",
        "mean minutes saved per journey for the pupils it could take",
    ),
    Criterion("cost", "cost_per_place_gbp", False, "min-max", "capital cost per place (£)"),
    Criterion(
        "deprivation", "imd_decile", False, "fixed (10 - decile) / 9", "IMD decile (1 = most)"
    ),
    Criterion(
        "spare_capacity", "spare_places", True, "min-max", "host school capacity minus on roll"
    ),
    Criterion("rurality", "rural", True, "fixed rural = 1, urban = 0", "rural location"),
)
_BY_KEY: dict[str, Criterion] = {c.key: c for c in CRITERIA}

#: Default weights (sum to one). Override any subset via ``weights=``; keys not given get 0.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "need": 0.30,
    "ooa": 0.20,
    "time_saved": 0.20,
    "cost": 0.10,
    "deprivation": 0.10,
    "spare_capacity": 0.05,
    "rurality": 0.05,
}


# --------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------
def _resolve_weights(weights: Mapping[str, float] | None, available: set[str]) -> dict[str, float]:
    if weights is None:
        chosen = {k: v for k, v in DEFAULT_WEIGHTS.items() if k in available}
        dropped = sorted(set(DEFAULT_WEIGHTS) - available)
        if dropped:
            logger.info("score_sites: %d criteria without input columns dropped", len(dropped))
    else:
        unknown = sorted(set(weights) - set(_BY_KEY))
        if unknown:
            msg = f"`weights` has unknown criteria {unknown}; valid keys are {list(_BY_KEY)}."
            raise ConfigError(msg)
        bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            msg = f"`weights` must be finite and >= 0; got {bad}."
            raise ConfigError(msg)
        missing = sorted(k for k, v in weights.items() if v > 0 and k not in available)
        if missing:
            cols = {
                "deprivation": "imd_decile",
                "spare_capacity": "host_capacity and host_on_roll",
                "rurality": "ruc_class",
                "time_saved": "current_time_min (in df_demand)",
                "ooa": "ooa_count (in df_demand)",
            }
            need = [cols.get(k, k) for k in missing]
            msg = (
                f"`weights` gives criteria {missing} a positive weight but their input is absent; "
                f"add column(s) {need} or set those weights to 0."
            )
            raise SchemaValidationError(msg)
        chosen = {k: float(weights[k]) for k in _BY_KEY if weights.get(k, 0) > 0}
    total = sum(chosen.values())
    if total <= 0:
        msg = "`weights` are all zero for the criteria available; give at least one weight > 0."
        raise ConfigError(msg)
    return {k: v / total for k, v in chosen.items()}


def _normalise(key: str, raw: np.ndarray) -> np.ndarray:
    crit = _BY_KEY[key]
    out = np.full(raw.shape, np.nan)
    ok = np.isfinite(raw)
    if key == "deprivation":
        out[ok] = (10.0 - raw[ok]) / 9.0
    elif key == "rurality":
        out[ok] = raw[ok]
    elif crit.normalisation == "share of the largest":
        # counts (and the time saved for them) from zero: x / max, so a published normalised
        # value never gives back a suppressed count at the bottom of the range (min-max would)
        hi = raw[ok].max() if ok.any() else 0.0
        out[ok] = np.clip(raw[ok], 0.0, None) / hi if hi > 0 else 0.0
    elif ok.any():
        lo, hi = raw[ok].min(), raw[ok].max()
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            out[ok] = 1.0
        else:
            scaled = (raw[ok] - lo) / (hi - lo)
            out[ok] = scaled if crit.higher_is_better else 1.0 - scaled
    return out


def _ruc_to_rural(values: pd.Series) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for k, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = str(value).strip().lower()
        if text.startswith("rural"):
            out[k] = 1.0
        elif text.startswith("urban"):
            out[k] = 0.0
        else:
            msg = (
                f"`df_sites` column 'ruc_class' has {value!r}; use 'urban' or 'rural' (or an ONS "
                "rural-urban classification label starting with either)."
            )
            raise SchemaValidationError(msg)
    return out


def _fill_saving(saving: np.ndarray, count: np.ndarray, places: float) -> tuple[float, float]:
    """Greedy fill of ``places`` by largest saving; return (mean saving, pupils filled)."""
    keep = (saving > 0) & (count > 0)
    if not keep.any():
        return 0.0, 0.0
    order = np.argsort(-saving[keep], kind="stable")
    s, c = saving[keep][order], count[keep][order]
    taken = np.minimum(c, np.maximum(places - np.concatenate(([0.0], np.cumsum(c)[:-1])), 0.0))
    filled = float(taken.sum())
    return (float((s * taken).sum() / filled) if filled > 0 else 0.0), filled


def _raw_criteria(
    df_sites: pd.DataFrame,
    df_demand: pd.DataFrame,
    df_matrix: pd.DataFrame,
    *,
    max_travel_time_min: float,
    decay: str | DecayFunction | None,
) -> tuple[pd.DataFrame, set[str]]:
    validate_candidate_sites(df_sites)
    validate_site_demand(df_demand)
    n_sites = len(df_sites)
    compat = site_demand_compatibility(df_demand, df_sites)
    times = dense_travel_times(df_demand, df_sites, df_matrix)
    reach = compat & np.isfinite(times) & (times <= max_travel_time_min)
    w = decay_weights(times, max_travel_time_min=max_travel_time_min, decay=decay) * compat
    count = df_demand["count"].to_numpy(dtype=float)
    places = df_sites["places"].to_numpy(dtype=float)

    raw = pd.DataFrame({"site_id": df_sites["site_id"].astype(str).to_numpy()})
    for col in ("name", "host_setting_id", "needs", "phases"):
        if col in df_sites.columns:
            raw[col] = df_sites[col].to_numpy()
    raw["places"] = places.astype(int)
    raw["pupils_in_reach"] = (reach * count[:, None]).sum(axis=0)
    raw["need_in_reach"] = (w * count[:, None]).sum(axis=0)
    available = {"need", "cost"}

    if "ooa_count" in df_demand.columns:
        ooa = df_demand["ooa_count"].to_numpy(dtype=float)
        raw["ooa_avoidable"] = np.minimum((reach * ooa[:, None]).sum(axis=0), places)
        available.add("ooa")
    else:
        raw["ooa_avoidable"] = np.nan

    if "current_time_min" in df_demand.columns:
        current = df_demand["current_time_min"].to_numpy(dtype=float)
        saved = np.zeros(n_sites)
        benefiting = np.zeros(n_sites)
        for j in range(n_sites):
            rows = reach[:, j]
            saved[j], benefiting[j] = _fill_saving(
                current[rows] - times[rows, j], count[rows], places[j]
            )
        raw["time_saved_min"] = saved
        raw["pupils_benefiting"] = benefiting
        available.add("time_saved")
    else:
        raw["time_saved_min"] = np.nan
        raw["pupils_benefiting"] = np.nan

    raw["cost_per_place_gbp"] = df_sites["capital_cost_gbp"].to_numpy(dtype=float) / places

    if "imd_decile" in df_sites.columns:
        imd = pd.to_numeric(df_sites["imd_decile"], errors="coerce").to_numpy(dtype=float)
        bad = np.isfinite(imd) & ((imd < 1) | (imd > 10) | (imd != np.round(imd)))
        if bad.any():
            msg = "`df_sites` column 'imd_decile' must be a whole number 1-10 (1 = most deprived)."
            raise SchemaValidationError(msg)
        raw["imd_decile"] = imd
        available.add("deprivation")
    else:
        raw["imd_decile"] = np.nan

    if {"host_capacity", "host_on_roll"} <= set(df_sites.columns):
        cap = pd.to_numeric(df_sites["host_capacity"], errors="coerce").to_numpy(dtype=float)
        roll = pd.to_numeric(df_sites["host_on_roll"], errors="coerce").to_numpy(dtype=float)
        raw["spare_places"] = cap - roll
        available.add("spare_capacity")
    else:
        raw["spare_places"] = np.nan

    if "ruc_class" in df_sites.columns:
        raw["rural"] = _ruc_to_rural(df_sites["ruc_class"])
        available.add("rurality")
    else:
        raw["rural"] = np.nan
    return raw, available


def _totals(raw: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    total = np.zeros(len(raw))
    for key, weight in weights.items():
        total += weight * np.nan_to_num(_normalise(key, raw[_BY_KEY[key].raw_col].to_numpy()))
    return total


def _rank(score: np.ndarray) -> np.ndarray:
    return pd.Series(score).rank(method="min", ascending=False).to_numpy(dtype=int)


def _fmt_gbp(value: float) -> str:
    if value >= 1e6:
        return f"£{value / 1e6:.1f}m"
    if value >= 1e3:
        return f"£{value / 1e3:.0f}k"
    return f"£{value:.0f}"


def _fmt_n(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _explain(row: pd.Series, *, max_travel_time_min: float, decay: object, used: set[str]) -> str:
    needs = "/".join(sorted(frozen_codes(row.get("needs")))) or "any need"
    phases = "/".join(sorted(frozen_codes(row.get("phases"))))
    who = f"{needs} ({phases})" if phases else needs
    reach = f"within {max_travel_time_min:g} min" if math.isfinite(max_travel_time_min) else ""
    parts = [f"Serves {_fmt_n(row['pupils_in_reach'])} pupils with {who} {reach}".rstrip()]
    if decay is not None:
        parts[0] += f" ({row['need_in_reach']:.1f} decay-weighted)"
    if "ooa" in used:
        parts.append(
            f"{_fmt_n(row['ooa_avoidable'])} out-of-area or independent placements it could "
            "take, up to its places"
        )
    if "time_saved" in used:
        parts.append(
            f"if filled by the pupils in reach who would gain most, {row['time_saved_min']:.0f} "
            "min shorter per journey on average"
        )
    parts.append(f"{_fmt_gbp(row['cost_per_place_gbp'])} capital per place")
    if "deprivation" in used:
        imd = row["imd_decile"]
        parts.append(f"in IMD decile {imd:.0f}" if np.isfinite(imd) else "IMD decile unknown")
    if "spare_capacity" in used:
        spare = row["spare_places"]
        if not np.isfinite(spare):
            parts.append("host spare capacity unknown")
        elif spare >= 0:
            parts.append(f"host school has {spare:.0f} spare places")
        else:
            parts.append(f"host school is {-spare:.0f} over capacity")
    if "rurality" in used:
        rural = row["rural"]
        parts.append(
            "rurality unknown" if not np.isfinite(rural) else ("rural" if rural else "urban")
        )
    return "; ".join(parts)


def score_sites(
    df_sites: pd.DataFrame,
    df_demand: pd.DataFrame,
    df_matrix: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    max_travel_time_min: float = 45.0,
    decay: str | DecayFunction | None = None,
) -> pd.DataFrame:
    """Score and rank candidate sites on transparent weighted criteria, with an explanation each.

    Parameters
    ----------
    df_sites
        Candidate sites (docs/ARCHITECTURE.md "candidate sites": ``site_id``, ``needs``,
        ``phases``, ``places``, ``capital_cost_gbp``, optional ``host_setting_id``), plus optional
        ``imd_decile`` (1-10, 1 = most deprived), ``ruc_class`` (``urban``/``rural``),
        ``host_capacity`` and ``host_on_roll`` (host school pupils). ``needs``/``phases`` are
        ``;``-separated; empty means any need / any phase.
    df_demand
        Aggregated demand, one row per place × need × phase: ``demand_id`` (the matrix
        ``origin_id``), ``need_type``, ``phase``, ``count``, optional ``current_time_min`` (the
        current journey, minutes; NaN = unknown, no saving counted) and ``ooa_count`` (of
        ``count``, those now out of area or independent).
    df_matrix
        Long travel matrix: ``origin_id``, ``destination_id``, ``travel_time_min`` (NaN =
        unreachable). A site is looked up by ``site_id``, else by ``host_setting_id``.
    weights
        Criterion key → weight (≥ 0), see :data:`CRITERIA`. Keys not given get 0. Default
        :data:`DEFAULT_WEIGHTS`, minus criteria whose input columns are absent. Weights are
        rescaled to sum to one.
    max_travel_time_min
        Catchment threshold (minutes, one way) for "within reach". Default 45, the DfE best-practice
        maximum for primary pupils.
    decay
        Distance decay for ``need_in_reach``: ``None``, ``"linear"``, ``"gaussian"`` or a callable
        (see :func:`decay_weights`).

    Returns
    -------
    scores
        One row per site, best first: ``site_id`` (+ ``name``, ``host_setting_id``, ``needs``,
        ``phases`` when given), ``places``, ``pupils_in_reach``, ``pupils_benefiting``, each
        criterion's raw column (``need_in_reach``, ``ooa_avoidable``, ``time_saved_min``,
        ``cost_per_place_gbp``, ``imd_decile``, ``spare_places``, ``rural``), ``<key>_norm``
        (0-1, 1 = best) and ``<key>_contrib`` (weight × norm) for every criterion with a positive
        weight, ``score``
        (sum of contributions, 0-1), ``rank`` (1 = best; ties share the best rank) and
        ``explanation``. The weights used are in ``scores.attrs["weights"]``.

    Raises
    ------
    SchemaValidationError
        A required column is missing or holds invalid values, or a positive weight is given to a
        criterion whose input column is absent.
    ConfigError
        Unknown criterion keys, negative weights, all-zero weights or an invalid ``decay``.

    Warns
    -----
    UnreachableWarning
        Some sites are not destinations in ``df_matrix`` (they reach no demand).

    See Also
    --------
    weight_sensitivity : how the ranks move when each weight changes.
    placeplan.compute.optimise.optimise_sites : the best *set* of sites for a budget.

    Notes
    -----
    Scores rank sites one at a time; they do not see that two neighbouring sites compete for the
    same pupils. Use :func:`placeplan.compute.optimise.optimise_sites` to choose a set.
    """
    if not (max_travel_time_min > 0):
        msg = f"`max_travel_time_min` must be > 0 minutes; got {max_travel_time_min!r}."
        raise ConfigError(msg)
    raw, available = _raw_criteria(
        df_sites, df_demand, df_matrix, max_travel_time_min=max_travel_time_min, decay=decay
    )
    w = _resolve_weights(weights, available)
    out = raw.copy()
    total = np.zeros(len(out))
    for crit in CRITERIA:
        if crit.key not in w:
            continue
        norm = np.nan_to_num(_normalise(crit.key, out[crit.raw_col].to_numpy()))
        out[f"{crit.key}_norm"] = norm
        out[f"{crit.key}_contrib"] = w[crit.key] * norm
        total += w[crit.key] * norm
    out["score"] = total
    out["rank"] = _rank(total)
    used = set(w)
    out["explanation"] = [
        _explain(row, max_travel_time_min=max_travel_time_min, decay=decay, used=used)
        for _, row in out.iterrows()
    ]
    out = out.sort_values(["rank", "site_id"], kind="stable").reset_index(drop=True)
    out.attrs["weights"] = dict(w)
    logger.info(
        "score_sites: %d sites x %d demand rows, %d criteria, max %.0f min",
        len(out),
        len(df_demand),
        len(w),
        max_travel_time_min,
    )
    return out


#: Relative change of each weight in :func:`weight_sensitivity` (±50 %).
SENSITIVITY_PERTURBATION: float = 0.5


def rank_ranges(
    scores_for: Callable[[dict[str, float]], np.ndarray],
    weights: Mapping[str, float],
    perturbation: float = SENSITIVITY_PERTURBATION,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ranks under the weights, and their range when each weight in turn moves by ±perturbation.

    Parameters
    ----------
    scores_for
        The sites' scores for a set of weights (summing to one).
    weights
        The base weights by criterion key.
    perturbation
        Relative change, in (0, 1].

    Returns
    -------
    base_rank, min_rank, max_rank, most_sensitive_to
        Per site (rank 1 = highest score, ties share the best rank); ``most_sensitive_to`` is the
        criterion whose change moved the site most (empty when none moves it).
    """
    base_rank = _rank(scores_for(dict(weights)))
    lo, hi = base_rank.copy(), base_rank.copy()
    move = np.zeros(len(base_rank))
    culprit = np.full(len(base_rank), "", dtype=object)
    for key in weights:
        for factor in (1 - perturbation, 1 + perturbation):
            w = dict(weights)
            w[key] *= factor
            if sum(w.values()) <= 0:
                continue
            total = sum(w.values())
            rank = _rank(scores_for({k: v / total for k, v in w.items()}))
            lo, hi = np.minimum(lo, rank), np.maximum(hi, rank)
            delta = np.abs(rank - base_rank)
            better = delta > move
            move[better], culprit[better] = delta[better], key
    return base_rank, lo, hi, culprit


def weight_sensitivity(
    df_sites: pd.DataFrame,
    df_demand: pd.DataFrame,
    df_matrix: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    perturbation: float = SENSITIVITY_PERTURBATION,
    max_travel_time_min: float = 45.0,
    decay: str | DecayFunction | None = None,
) -> pd.DataFrame:
    """Show how each site's rank moves when each weight is changed by ±``perturbation``.

    Each criterion's weight in turn is multiplied by ``1 - perturbation`` and ``1 + perturbation``
    (the others unchanged, then all rescaled to sum to one) and the sites re-ranked.

    Parameters
    ----------
    df_sites, df_demand, df_matrix
        As for :func:`score_sites`.
    weights
        As for :func:`score_sites`.
    perturbation
        Relative change, in (0, 1]. Default 0.5 (±50 %).
    max_travel_time_min, decay
        As for :func:`score_sites`.

    Returns
    -------
    sensitivity
        One row per site, in base-rank order: ``site_id``, ``base_rank``, ``min_rank`` (best rank
        seen), ``max_rank`` (worst rank seen), ``rank_range`` (``max_rank - min_rank``) and
        ``most_sensitive_to`` (the criterion whose perturbation moved the site most; empty when no
        perturbation moves it).

    Raises
    ------
    ConfigError
        ``perturbation`` outside (0, 1], or as for :func:`score_sites`.
    """
    if not (0 < perturbation <= 1):
        msg = f"`perturbation` must be in (0, 1] (0.5 = ±50 %); got {perturbation!r}."
        raise ConfigError(msg)
    raw, available = _raw_criteria(
        df_sites, df_demand, df_matrix, max_travel_time_min=max_travel_time_min, decay=decay
    )
    base_w = _resolve_weights(weights, available)
    base_rank, lo, hi, culprit = rank_ranges(lambda w: _totals(raw, w), base_w, perturbation)
    out = pd.DataFrame(
        {
            "site_id": raw["site_id"],
            "base_rank": base_rank,
            "min_rank": lo,
            "max_rank": hi,
            "rank_range": hi - lo,
            "most_sensitive_to": culprit,
        }
    )
    return out.sort_values(["base_rank", "site_id"], kind="stable").reset_index(drop=True)
