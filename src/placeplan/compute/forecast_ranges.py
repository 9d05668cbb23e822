"""Prediction intervals of the SEN2 forecast: the error table from backtest residuals, and bounds.

Used by :mod:`placeplan.compute.forecast` (its module docstring, "Ranges", gives the method):
:func:`sigma_table` turns rolling-origin residuals ``log(actual / forecast)`` into a log-scale
error sd by horizon and measure, :func:`floor_sigma` keeps it off zero, and
:func:`interval_bounds` turns a central path and its sd into ``lower, upper``.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError

__all__ = [
    "SIGMA_FLOOR",
    "check_ranges",
    "floor_sigma",
    "interval_bounds",
    "sigma_table",
    "z_value",
]

#: Smallest log-scale error sd at horizon 1 (times h beyond): short histories have few or
#: no residuals, and a zero-residual synthetic series must not give a zero-width range.
SIGMA_FLOOR = 0.05
_SHRINK_N0 = 2.0  # pseudo-observations of the all-measure mean error in each measure's own


def _fill_horizons(out: pd.DataFrame, present: list[int]) -> pd.DataFrame:
    """Horizons without residuals (a year missing from the series) from the nearest one, times h.

    The same rule as beyond the longest backtested horizon: the error grows in proportion to h.
    """
    for h in out.index:
        if h in present:
            continue
        k = min(present, key=lambda p: (abs(p - h), p))
        out.loc[h] = out.loc[k] * h / k
    return out


def sigma_table(residuals: pd.DataFrame, measures: list[str], years: int) -> pd.DataFrame:
    """Log-scale error sd by horizon and measure, before the Poisson floor.

    Parameters
    ----------
    residuals
        ``origin, horizon, measure, error`` (``error = log(actual / forecast)``).
    measures
        Columns of the table.
    years
        Longest horizon wanted.

    Returns
    -------
    sigma
        Index horizon ``1..years``, columns ``measures``: root mean square error shrunk towards
        the median over measures, extended in proportion to ``h`` beyond (and between) the
        horizons backtested, non-decreasing in ``h``; never NaN.

    Examples
    --------
    >>> res = pd.DataFrame({"origin": ["a", "b"], "horizon": [2, 2], "measure": ["m", "m"],
    ...     "error": [0.1, -0.1]})
    >>> sigma_table(res, ["m"], 3)["m"].round(3).tolist()  # horizon 1 from horizon 2, times 1/2
    [0.05, 0.1, 0.15]
    """
    res = residuals[residuals["measure"].isin(measures)] if not residuals.empty else residuals
    if res.empty:
        out = pd.DataFrame(0.0, index=pd.RangeIndex(1, years + 1, name="horizon"), columns=measures)
        return floor_sigma(out)
    hmax = int(res["horizon"].max())
    # every backtested horizon (rows beyond ``years`` are cut at the end: cummax is a prefix rule)
    out = pd.DataFrame(
        index=pd.RangeIndex(1, max(hmax, years) + 1, name="horizon"), columns=measures, dtype=float
    )
    sq = res.assign(sq=np.square(res["error"]))
    stats = sq.groupby(["horizon", "measure"])["sq"].agg(["sum", "count", "mean"])
    present = []
    for h in range(1, hmax + 1):
        if h not in stats.index.get_level_values(0):
            continue
        rh = stats.loc[h]
        pooled = float(np.median(rh["mean"]))
        total = rh["sum"].reindex(measures).fillna(0.0)
        n = rh["count"].reindex(measures).fillna(0.0)
        var = (total.to_numpy(dtype=float) + _SHRINK_N0 * pooled) / (
            n.to_numpy(dtype=float) + _SHRINK_N0
        )
        out.loc[h] = np.sqrt(var)
        present.append(h)
    return _fill_horizons(out, present).cummax().loc[1:years]


def floor_sigma(sigma: pd.DataFrame) -> pd.DataFrame:
    """Never below ``SIGMA_FLOOR * h``: short histories have few or no residuals.

    Parameters
    ----------
    sigma
        Index horizon (1, 2, ...), a column per measure.

    Returns
    -------
    sigma
        The same, clipped below at ``SIGMA_FLOOR * h`` (NaN cells become the floor).
    """
    floor = pd.Series(SIGMA_FLOOR * sigma.index.to_numpy(dtype=float), index=sigma.index)
    return sigma.clip(lower=floor, axis=0).fillna(dict.fromkeys(sigma.columns, floor))


def interval_bounds(central: pd.Series, sigma: pd.Series, z: float) -> tuple[pd.Series, pd.Series]:
    """``lower, upper = central * exp(-/+ z * s)``, ``s`` the error sd floored at Poisson noise.

    Parameters
    ----------
    central
        Central path in year order (counts, not negative).
    sigma
        Log-scale error sd of each year (same index); NaN is read as no backtest error.
    z
        Normal quantile of the interval (:func:`z_value`).

    Returns
    -------
    lower, upper
        With ``0 <= lower <= central <= upper``; ``s`` never narrows further ahead.

    Examples
    --------
    >>> lo, hi = interval_bounds(pd.Series([100.0, 0.0]), pd.Series([float("nan"), 0.2]), 1.0)
    >>> lo.round(1).tolist(), hi.round(1).tolist()
    ([90.5, 0.0], [110.5, 0.0])
    """
    # Poisson floor on the log scale: a count of c has relative sd about 1/sqrt(c)
    floor = 1.0 / np.sqrt(central.clip(lower=1.0))
    s = np.fmax(sigma.to_numpy(dtype=float), floor.to_numpy(dtype=float))
    s = np.maximum.accumulate(s)  # never narrower further ahead (central is in year order)
    return central * np.exp(-z * s), central * np.exp(z * s)


def z_value(interval: float) -> float:
    """Normal quantile for a two-sided interval of coverage ``interval`` (0.8 -> 1.2816).

    Parameters
    ----------
    interval
        Coverage, strictly between 0 and 1.

    Returns
    -------
    z
        ``Phi^-1(0.5 + interval / 2)``.

    Raises
    ------
    ConfigError
        ``interval`` is not between 0 and 1.
    """
    if not 0.0 < interval < 1.0:
        msg = f"`interval` must be a probability between 0 and 1 (e.g. 0.8), got {interval}"
        raise ConfigError(msg)
    return NormalDist().inv_cdf(0.5 + interval / 2.0)


def check_ranges(out: pd.DataFrame) -> pd.DataFrame:
    """Return the table once every range is checked finite with ``0 <= lower <= central <= upper``.

    Parameters
    ----------
    out
        Long forecast table: ``year, measure, central, lower, upper``.

    Returns
    -------
    out
        The same table.

    Raises
    ------
    ConfigError
        A range is NaN, infinite, negative or out of order (the message names the measures and
        years), so that no such range is written silently.
    """
    values = out[["central", "lower", "upper"]].to_numpy(dtype=float)
    tol = 1e-9 * np.maximum(np.abs(values[:, 0]), 1.0)
    bad = (
        ~np.isfinite(values).all(axis=1)
        | (values[:, 1] < 0)
        | (values[:, 1] > values[:, 0] + tol)
        | (values[:, 0] > values[:, 2] + tol)
    )
    if bad.any():
        rows = out[bad]
        msg = (
            f"the forecast of {', '.join(rows['measure'].astype(str).unique()[:5])} "
            f"({', '.join(rows['year'].astype(str).unique()[:5])}) is not a finite range with "
            "0 <= lower <= central <= upper; check the override's lower and upper, or report it "
            "with the release files"
        )
        raise ConfigError(msg)
    return out
