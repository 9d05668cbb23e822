"""Accessibility: distance-decay weights and the two-step floating catchment area (2SFCA).

:func:`decay_weights` turns minutes into weights in [0, 1] (used by the site scores' ``need``
criterion); :func:`two_step_fca` gives each origin its accessible places per pupil.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute.site_inputs import MATRIX_REQUIRED, require_columns

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "DecayFunction",
    "decay_weights",
    "two_step_fca",
]

#: A distance-decay function: minutes (array) -> weights in [0, 1] (array of the same shape).
DecayFunction = Callable[["NDArray[np.float64]"], "NDArray[np.float64]"]


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
    require_columns(matrix, MATRIX_REQUIRED, "matrix")
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
