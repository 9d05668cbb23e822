"""Damped linear trends for the SEN2 forecast (Gardner and McKenzie, 1985).

A damped trend forecasts ``level + slope * (phi + phi**2 + ... + phi**h)`` at ``h`` years ahead:
the slope's contribution shrinks by ``phi`` each year, so the path levels off at
``level + slope * phi / (1 - phi)`` instead of growing without bound (``phi = 1`` is the
undamped linear trend, ``phi = 0`` the level). Here the level and slope are the least-squares
line over the last few census years, the level its value at the base year.

Used by :mod:`placeplan.compute.forecast` for the variants recorded in benchmarks/RESULTS.md
(a combination of the stock-flow total with a damped trend of all plans; a damped new-plan
inflow).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TREND_PHI", "damped_sum", "damped_value", "line_fit"]

#: Damping factor of the trend variants, fixed a priori (a common default in the damped-trend
#: literature), not fitted to the backtest.
TREND_PHI = 0.9


def damped_sum(phi: float, h: int) -> float:
    """``phi + phi**2 + ... + phi**h``: the number of slopes a damped trend adds by ``h`` ahead.

    Parameters
    ----------
    phi
        Damping factor in ``[0, 1]`` (1: undamped, the sum is ``h``).
    h
        Years ahead (0 or more).

    Returns
    -------
    total
        The sum (0 at ``h = 0``).

    Examples
    --------
    >>> damped_sum(1.0, 3), round(damped_sum(0.9, 3), 3), damped_sum(0.0, 3)
    (3.0, 2.439, 0.0)
    """
    return float(sum(phi**i for i in range(1, h + 1)))


def line_fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares line ``y = level + slope * x``; the last value and no slope for one point.

    Parameters
    ----------
    x
        Positions (years relative to the base year: 0 at the base, negative before).
    y
        Values at ``x`` (all finite).

    Returns
    -------
    level, slope
        The line's value at ``x = 0`` and its change per unit of ``x``.

    Examples
    --------
    >>> [round(v, 9) for v in line_fit([-2.0, -1.0, 0.0], [100.0, 110.0, 120.0])]
    [120.0, 10.0]
    """
    if len(x) >= 2:
        slope, level = np.polyfit(np.asarray(x, dtype=float), np.asarray(y, dtype=float), 1)
        return float(level), float(slope)
    return float(y[-1]), 0.0


def damped_value(level: float, slope: float, h: int, phi: float = TREND_PHI) -> float:
    """The damped trend ``h`` years ahead, never below zero.

    Parameters
    ----------
    level, slope
        The line at the base year and its change per year (:func:`line_fit`).
    h
        Years ahead.
    phi
        Damping factor (default :data:`TREND_PHI`).

    Returns
    -------
    value
        ``max(level + slope * damped_sum(phi, h), 0)``.

    Examples
    --------
    >>> round(damped_value(120.0, 10.0, 2), 6)  # 120 + 10 * (0.9 + 0.81)
    137.1
    """
    return max(level + slope * damped_sum(phi, h), 0.0)
