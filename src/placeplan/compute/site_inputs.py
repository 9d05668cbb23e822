"""Input checks shared by site scoring and site selection: columns, need codes, travel times.

:func:`validate_candidate_sites` and :func:`validate_site_demand` name every bad row and column;
:func:`site_demand_compatibility` says which demand each site can serve (needs and phases);
:func:`dense_travel_times` turns a long travel-time table into the dense matrix both
:mod:`placeplan.compute.scoring` and :mod:`placeplan.compute.optimise` use.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError, UnreachableWarning
from placeplan.needs import normalise_need, split_codes

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "DEMAND_REQUIRED",
    "MATRIX_REQUIRED",
    "SITE_REQUIRED",
    "dense_travel_times",
    "frozen_codes",
    "need_codes",
    "numeric_column",
    "require_columns",
    "site_demand_compatibility",
    "validate_candidate_sites",
    "validate_site_demand",
]

SITE_REQUIRED = ("site_id", "needs", "phases", "places", "capital_cost_gbp")
DEMAND_REQUIRED = ("demand_id", "need_type", "phase", "count")
MATRIX_REQUIRED = ("origin_id", "destination_id", "travel_time_min")


def require_columns(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"`{name}` is missing column(s) {missing}; expected at least {list(columns)} "
            "(see docs/ARCHITECTURE.md). Rename or add them."
        )
        raise SchemaValidationError(msg)


def frozen_codes(value: object) -> frozenset[str]:
    """The codes of a ``;``-separated cell as a set; empty / NaN means "any"."""
    return frozenset(split_codes(value))


def need_codes(values: pd.Series, name: str) -> list[str | None]:
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
    demand_needs = np.array(need_codes(df_demand["need_type"], "df_demand"), dtype=object)
    demand_phase = df_demand["phase"].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    compat = np.ones((len(df_demand), len(df_sites)), dtype=bool)
    for j, (needs, phases) in enumerate(zip(df_sites["needs"], df_sites["phases"], strict=True)):
        need_set = frozen_codes(needs)
        if need_set:
            codes = set(need_codes(pd.Series(sorted(need_set)), "df_sites"))
            compat[:, j] &= np.isin(demand_needs, [c for c in codes if c is not None])
        phase_set = {p.lower() for p in frozen_codes(phases)}
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
    require_columns(df_matrix, MATRIX_REQUIRED, "df_matrix")
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
    require_columns(df_sites, SITE_REQUIRED, "df_sites")
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
    required = (*DEMAND_REQUIRED, "current_time_min") if require_current_time else DEMAND_REQUIRED
    require_columns(df_demand, required, "df_demand")
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
