"""Transparent, weighted scoring of candidate inclusion-base sites, and 2SFCA accessibility.

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
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError, UnreachableWarning
from placeplan.needs import normalise_need, split_codes

if TYPE_CHECKING:
    from numpy.typing import NDArray

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

#: A distance-decay function: minutes (array) -> weights in [0, 1] (array of the same shape).
DecayFunction = Callable[["NDArray[np.float64]"], "NDArray[np.float64]"]


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

_SITE_REQUIRED = ("site_id", "needs", "phases", "places", "capital_cost_gbp")
_DEMAND_REQUIRED = ("demand_id", "need_type", "phase", "count")
_MATRIX_REQUIRED = ("origin_id", "destination_id", "travel_time_min")


# --------------------------------------------------------------------------------------------
# shared input helpers (public: the site optimiser, ``optimise.optimise_sites``, uses them too)
# --------------------------------------------------------------------------------------------
def _require_columns(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"`{name}` is missing column(s) {missing}; expected at least {list(columns)} "
            "(see docs/ARCHITECTURE.md). Rename or add them."
        )
        raise SchemaValidationError(msg)


def _frozen_codes(value: object) -> frozenset[str]:
    """The codes of a ``;``-separated cell as a set; empty / NaN means "any"."""
    return frozenset(split_codes(value))


def _need_codes(values: pd.Series, name: str) -> list[str | None]:
    out: list[str | None] = []
    bad: set[str] = set()
    for value in values:
        code = normalise_need(value)
        if code is None:
            bad.add(str(value))
        out.append(code)
    if bad:
        msg = (
            f"`{name}` has unknown need type(s) {sorted(bad)[:10]}; use SEN2 codes such as "
            "ASD, SLCN, SEMH (placeplan.needs.NEED_CODES) or their DfE names."
        )
        raise SchemaValidationError(msg)
    return out


def numeric_column(
    df: pd.DataFrame, col: str, name: str, *, allow_nan: bool = False
) -> NDArray[np.float64]:
    """Return a column as a float array, raising if it is not numeric or has gaps.

    Parameters
    ----------
    df
        The table.
    col
        Column to read; numbers or numeric strings (``"3"``) are accepted.
    name
        The table's argument name, used in error messages (e.g. ``"df_demand"``).
    allow_nan
        Let missing values through as NaN (infinite values still raise). Default False.

    Returns
    -------
    values
        ``(len(df),)`` float64 array.

    Raises
    ------
    SchemaValidationError
        Non-numeric values, or missing (unless ``allow_nan``) or infinite values.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"count": ["3", 4]}), "count", "df_demand")
    array([3., 4.])
    """
    try:
        values = pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"`{name}` column {col!r} must be numeric; convert it before calling."
        raise SchemaValidationError(msg) from err
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    if bad.any():
        msg = f"`{name}` column {col!r} has {int(bad.sum())} missing/infinite value(s); fill them."
        raise SchemaValidationError(msg)
    return values


def site_demand_compatibility(df_demand: pd.DataFrame, df_sites: pd.DataFrame) -> NDArray[np.bool_]:
    """Return which sites serve which demand rows, by need and phase.

    Parameters
    ----------
    df_demand
        Demand rows with ``need_type`` (SEN2 code or DfE name) and ``phase``.
    df_sites
        Sites with ``needs`` and ``phases`` (``;``-separated; empty or NaN = any).

    Returns
    -------
    compatible
        ``(len(df_demand), len(df_sites))`` booleans: True where the site serves the row's need
        and phase. Phases compare case-insensitively.

    Raises
    ------
    SchemaValidationError
        Unknown need types in either table.

    Examples
    --------
    >>> demand = pd.DataFrame({"need_type": ["ASD", "SEMH"], "phase": ["primary", "primary"]})
    >>> sites = pd.DataFrame({"needs": ["ASD;SLCN", ""], "phases": ["primary", "secondary"]})
    >>> site_demand_compatibility(demand, sites).tolist()
    [[True, False], [False, False]]
    """
    demand_needs = np.array(_need_codes(df_demand["need_type"], "df_demand"), dtype=object)
    demand_phase = df_demand["phase"].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    compat = np.ones((len(df_demand), len(df_sites)), dtype=bool)
    for j, (needs, phases) in enumerate(zip(df_sites["needs"], df_sites["phases"], strict=True)):
        need_set = _frozen_codes(needs)
        if need_set:
            codes = set(_need_codes(pd.Series(sorted(need_set)), "df_sites"))
            compat[:, j] &= np.isin(demand_needs, [c for c in codes if c is not None])
        phase_set = {p.lower() for p in _frozen_codes(phases)}
        if phase_set:
            compat[:, j] &= np.isin(demand_phase, list(phase_set))
    return compat


def dense_travel_times(
    df_demand: pd.DataFrame, df_sites: pd.DataFrame, df_matrix: pd.DataFrame
) -> NDArray[np.float64]:
    """Return travel minutes from every demand row to every site as a dense array.

    A site is looked up in the matrix by ``site_id``; when that is not a destination there, by its
    ``host_setting_id`` (the base sits in the host school).

    Parameters
    ----------
    df_demand
        Demand rows; ``demand_id`` is the matrix ``origin_id``.
    df_sites
        Sites: ``site_id`` and optional ``host_setting_id``.
    df_matrix
        Long travel matrix: ``origin_id``, ``destination_id``, ``travel_time_min`` (NaN =
        unreachable), unique on ``(origin_id, destination_id)``.

    Returns
    -------
    time_min
        ``(len(df_demand), len(df_sites))`` minutes; NaN where the matrix has no finite time
        (pair absent, unreachable, or origin/site not in the matrix).

    Raises
    ------
    SchemaValidationError
        Missing matrix columns, duplicated pairs or negative travel times.

    Warns
    -----
    UnreachableWarning
        Sites that are not matrix destinations by ``site_id`` or ``host_setting_id`` (count only).

    Examples
    --------
    >>> m = pd.DataFrame({"origin_id": ["o1", "o1"], "destination_id": ["A", "H"],
    ...                   "travel_time_min": [12.0, 30.0]})
    >>> sites = pd.DataFrame({"site_id": ["A", "B"], "host_setting_id": ["HA", "H"]})
    >>> dense_travel_times(pd.DataFrame({"demand_id": ["o1", "o2"]}), sites, m).tolist()
    [[12.0, 30.0], [nan, nan]]
    """
    _require_columns(df_matrix, _MATRIX_REQUIRED, "df_matrix")
    if df_matrix.duplicated(["origin_id", "destination_id"]).any():
        msg = (
            "`df_matrix` has duplicated (origin_id, destination_id) pairs; keep one travel time "
            "per pair (e.g. the minimum)."
        )
        raise SchemaValidationError(msg)
    origins = pd.Index(df_matrix["origin_id"].astype(str).unique())
    destinations = pd.Index(df_matrix["destination_id"].astype(str).unique())
    site_ids = df_sites["site_id"].astype(str).to_numpy()
    hosts = (
        df_sites["host_setting_id"].astype(str).to_numpy()
        if "host_setting_id" in df_sites.columns
        else np.full(len(df_sites), "", dtype=object)
    )
    dest_of_site = np.where(destinations.get_indexer(site_ids) >= 0, site_ids, hosts)
    col_of_site = destinations.get_indexer(dest_of_site)
    missing_sites = int((col_of_site < 0).sum())
    if missing_sites:
        warnings.warn(
            f"{missing_sites} candidate site(s) are not destinations in `df_matrix` (by site_id or "
            "host_setting_id); they are treated as unreachable. Add them to the travel matrix.",
            UnreachableWarning,
            stacklevel=3,
        )
    times = np.full((len(origins), len(destinations)), np.nan)
    oi = origins.get_indexer(df_matrix["origin_id"].astype(str))
    di = destinations.get_indexer(df_matrix["destination_id"].astype(str))
    tt = pd.to_numeric(df_matrix["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    times[oi, di] = tt
    times[~np.isfinite(times)] = np.nan
    if (times < 0).any():
        msg = "`df_matrix` has negative `travel_time_min`; travel times must be >= 0."
        raise SchemaValidationError(msg)
    row_of_demand = origins.get_indexer(df_demand["demand_id"].astype(str))
    out = np.full((len(df_demand), len(df_sites)), np.nan)
    ok_rows = row_of_demand >= 0
    ok_cols = col_of_site >= 0
    out[np.ix_(ok_rows, ok_cols)] = times[np.ix_(row_of_demand[ok_rows], col_of_site[ok_cols])]
    return out


def validate_candidate_sites(df_sites: pd.DataFrame) -> None:
    """Check a candidate-site table for scoring or optimisation; raise on the first problem.

    Parameters
    ----------
    df_sites
        Candidate sites: ``site_id`` (unique), ``needs``, ``phases``, ``places`` (whole numbers
        > 0) and ``capital_cost_gbp`` (>= 0).

    Raises
    ------
    SchemaValidationError
        Missing columns, duplicated ``site_id``, or bad ``places`` / ``capital_cost_gbp``.
    """
    _require_columns(df_sites, _SITE_REQUIRED, "df_sites")
    if df_sites["site_id"].astype(str).duplicated().any():
        msg = "`df_sites` has duplicated `site_id`; every candidate site needs a unique id."
        raise SchemaValidationError(msg)
    places = numeric_column(df_sites, "places", "df_sites")
    if (places <= 0).any() or (places != np.round(places)).any():
        msg = "`df_sites` column 'places' must be whole numbers > 0 (places the base provides)."
        raise SchemaValidationError(msg)
    if (numeric_column(df_sites, "capital_cost_gbp", "df_sites") < 0).any():
        msg = "`df_sites` column 'capital_cost_gbp' must be >= 0."
        raise SchemaValidationError(msg)


def validate_site_demand(df_demand: pd.DataFrame, *, require_current_time: bool = False) -> None:
    """Check an aggregated demand table for scoring or optimisation; raise on the first problem.

    Parameters
    ----------
    df_demand
        Demand rows: ``demand_id``, ``need_type``, ``phase``, ``count`` (>= 0), optional
        ``current_time_min`` (minutes >= 0) and ``ooa_count`` (between 0 and ``count``).
    require_current_time
        ``current_time_min`` must be present with no missing values (the optimiser needs every
        current journey). Default False: it may be absent, and NaN means unknown (scoring).

    Raises
    ------
    SchemaValidationError
        Missing columns, or values out of range.
    """
    required = (*_DEMAND_REQUIRED, "current_time_min") if require_current_time else _DEMAND_REQUIRED
    _require_columns(df_demand, required, "df_demand")
    if (numeric_column(df_demand, "count", "df_demand") < 0).any():
        msg = "`df_demand` column 'count' must be >= 0."
        raise SchemaValidationError(msg)
    if (
        "current_time_min" in df_demand.columns
        # scoring tolerates unknown current journeys (NaN: no saving); the optimiser does not
        and (
            numeric_column(
                df_demand, "current_time_min", "df_demand", allow_nan=not require_current_time
            )
            < 0
        ).any()
    ):
        msg = "`df_demand` column 'current_time_min' must be >= 0 (minutes)."
        raise SchemaValidationError(msg)
    if "ooa_count" in df_demand.columns:
        ooa = numeric_column(df_demand, "ooa_count", "df_demand")
        if (ooa < 0).any() or (ooa > df_demand["count"].to_numpy(dtype=float) + 1e-9).any():
            msg = "`df_demand` column 'ooa_count' must be between 0 and 'count'."
            raise SchemaValidationError(msg)


# --------------------------------------------------------------------------------------------
# decay
# --------------------------------------------------------------------------------------------
def decay_weights(
    time_min: NDArray[np.float64],
    *,
    max_travel_time_min: float,
    decay: str | DecayFunction | None = None,
) -> NDArray[np.float64]:
    """Return distance-decay weights in [0, 1] for travel times; 0 beyond the threshold.

    Parameters
    ----------
    time_min
        Travel times in minutes (NaN = unreachable, weight 0).
    max_travel_time_min
        Catchment threshold in minutes; ``inf`` for an unlimited catchment (only with
        ``decay=None`` or a callable).
    decay
        ``None`` (1 within the threshold), ``"linear"`` (``1 - t / T``), ``"gaussian"`` (the
        normalised Gaussian of Dai (2010): 1 at 0 min, 0 at ``T``) or a callable mapping minutes to
        weights in [0, 1].

    Returns
    -------
    weights
        Array of the same shape as ``time_min``.

    Raises
    ------
    ConfigError
        Unknown decay name, a named decay with an infinite threshold, or a callable returning
        weights outside [0, 1].

    Examples
    --------
    >>> decay_weights(np.array([0.0, 15.0, 30.0, 60.0]), max_travel_time_min=30, decay="linear")
    array([1. , 0.5, 0. , 0. ])
    """
    t = np.asarray(time_min, dtype=float)
    within = np.isfinite(t) & (t <= max_travel_time_min)
    if decay is None:
        return within.astype(float)
    if callable(decay):
        w = np.asarray(decay(np.where(within, t, 0.0)), dtype=float)
        if w.shape != t.shape or not np.all((w >= 0) & (w <= 1)):
            msg = "`decay` callable must return weights in [0, 1] with the shape of its input."
            raise ConfigError(msg)
        return np.where(within, w, 0.0)
    if not math.isfinite(max_travel_time_min):
        msg = f"`decay={decay!r}` needs a finite `max_travel_time_min`; give one or use decay=None."
        raise ConfigError(msg)
    x = np.where(within, t, 0.0) / max_travel_time_min
    if decay == "linear":
        w = 1.0 - x
    elif decay == "gaussian":
        edge = math.exp(-0.5)
        w = (np.exp(-0.5 * x**2) - edge) / (1.0 - edge)
    else:
        msg = f"`decay` must be None, 'linear', 'gaussian' or a callable; got {decay!r}."
        raise ConfigError(msg)
    return np.where(within, np.clip(w, 0.0, 1.0), 0.0)


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
    needs = "/".join(sorted(_frozen_codes(row.get("needs")))) or "any need"
    phases = "/".join(sorted(_frozen_codes(row.get("phases"))))
    who = f"{needs} ({phases})" if phases else needs
    reach = f"within {max_travel_time_min:g} min" if math.isfinite(max_travel_time_min) else ""
    parts = [f"Serves {_fmt_n(row['pupils_in_reach'])} pupils with {who} {reach}".rstrip()]
    if decay is not None:
        parts[0] += f" ({row['need_in_reach']:.1f} decay-weighted)"
    if "ooa" in used:
        parts.append(f"could avoid {_fmt_n(row['ooa_avoidable'])} out-of-area placements")
    if "time_saved" in used:
        parts.append(f"saves {row['time_saved_min']:.0f} min per journey on average")
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


# --------------------------------------------------------------------------------------------
# 2SFCA
# --------------------------------------------------------------------------------------------
def two_step_fca(
    supply: pd.Series | Mapping[str, float],
    demand: pd.Series | Mapping[str, float],
    matrix: pd.DataFrame,
    *,
    max_travel_time_min: float,
    decay: str | DecayFunction | None = None,
) -> pd.Series:
    """Compute two-step floating catchment area (2SFCA) accessibility: places per pupil.

    Step 1: each site's ratio ``R_j = S_j / Σ_i D_i w(t_ij)`` over the demand within its
    catchment. Step 2: each origin's accessibility ``A_i = Σ_j R_j w(t_ij)``. With ``decay=None``
    ``w`` is 1 within ``max_travel_time_min`` (classic 2SFCA, Luo & Wang 2003); with a decay it is
    the enhanced 2SFCA (Luo & Qi 2009; Dai 2010).

    Parameters
    ----------
    supply
        Places per site, indexed by the matrix ``destination_id``.
    demand
        Pupils (or population) per origin, indexed by the matrix ``origin_id``.
    matrix
        Long travel matrix: ``origin_id``, ``destination_id``, ``travel_time_min`` (NaN =
        unreachable).
    max_travel_time_min
        Catchment size in minutes; ``numpy.inf`` for an unlimited catchment.
    decay
        ``None``, ``"linear"``, ``"gaussian"`` or a callable; see :func:`decay_weights`.

    Returns
    -------
    accessibility
        Series named ``accessibility`` indexed like ``demand``: places per pupil within reach
        (0 where no site is in reach).

    Raises
    ------
    SchemaValidationError
        Missing matrix columns or negative supply / demand.
    ConfigError
        Invalid threshold or decay.

    Notes
    -----
    Demand-weighted accessibility is conserved: ``Σ_i D_i A_i = Σ_j S_j`` over sites with some
    demand in their catchment. With an unlimited catchment and a complete matrix every origin
    gets ``Σ S / Σ D``.

    Examples
    --------
    >>> m = pd.DataFrame({"origin_id": ["a", "a", "b", "b"], "destination_id": ["x", "y"] * 2,
    ...                   "travel_time_min": [5.0, 50.0, 50.0, 5.0]})
    >>> two_step_fca({"x": 10, "y": 4}, {"a": 20, "b": 2}, m, max_travel_time_min=30).tolist()
    [0.5, 2.0]
    """
    if not (max_travel_time_min > 0):
        msg = f"`max_travel_time_min` must be > 0 (or numpy.inf); got {max_travel_time_min!r}."
        raise ConfigError(msg)
    _require_columns(matrix, _MATRIX_REQUIRED, "matrix")
    s = pd.Series(supply, dtype=float)
    d = pd.Series(demand, dtype=float)
    s.index, d.index = s.index.astype(str), d.index.astype(str)
    if (s < 0).any() or (d < 0).any() or s.isna().any() or d.isna().any():
        msg = "`supply` and `demand` must be non-negative numbers (no NaN)."
        raise SchemaValidationError(msg)
    o = matrix["origin_id"].astype(str).to_numpy()
    j = matrix["destination_id"].astype(str).to_numpy()
    t = pd.to_numeric(matrix["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    keep = d.index.get_indexer(pd.Index(o)) >= 0
    keep &= s.index.get_indexer(pd.Index(j)) >= 0
    o, j, t = o[keep], j[keep], t[keep]
    w = decay_weights(t, max_travel_time_min=max_travel_time_min, decay=decay)
    pos = w > 0
    o, j, w = o[pos], j[pos], w[pos]
    demand_w = d.reindex(o).to_numpy() * w
    catch = pd.Series(demand_w).groupby(j).sum()
    ratio = (s.reindex(catch.index) / catch).where(catch > 0, 0.0)
    contrib = ratio.reindex(j).to_numpy() * w
    acc = pd.Series(contrib).groupby(o).sum().reindex(d.index, fill_value=0.0)
    acc.name = "accessibility"
    return acc
