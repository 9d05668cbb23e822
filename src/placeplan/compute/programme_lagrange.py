"""A strong bound for large programme models: Lagrangian relaxation with the site choice kept.

The programme model's LP relaxation (:func:`~placeplan.compute.programme.relaxation`) is weak
where demand is scarce and value varies by journey: it opens fractions of many sites round every
cluster of demand, buying exactly the places it fills, so it never pays for the part of a base
that stays empty. The per-assignment linking rows ``x_a <= n_r y_j`` would stop that, but at
county scale they add millions of rows and HiGHS does not finish the LP in minutes.

This module gets the same strength without them. It relaxes the demand rows (price ``u_r >= 0``
per pupil of row ``r``) and the capacity rows (price ``π_jy >= 0`` per place at site ``j`` in
year ``y``) into the objective. What is left splits by site, and each site keeps the rule that
only an opened option takes pupils:

.. code-block:: text

    L(u, π) = Σ_r n_r u_r + max  Σ_o G_o y_o    over programmes y (one option per site,
                                                  budget per financial year, places cuts)
    G_o     = w_o + places_o Σ_{y >= open_o} π_jy
                  + Σ_{a at site j, first year present of r >= open_o} n_r max(0, c_a)
    c_a     = v_a - u_r - Σ_y share_ry π_jy

For every ``u, π >= 0`` ``L`` is an upper bound on the savings of every programme (weak
duality: a programme's own assignment is one of the choices the maximum ranges over, and the
relaxed rows only add non-negative terms for it). The best ``L`` is the LP relaxation *with*
the linking rows, and solving the master over whole programmes (a multiple-choice knapsack,
3,600 binaries at county scale, solved by HiGHS) can only lower it further. Each ``L`` costs one
pass over the assignments (numpy) and a small LP, so hundreds of iterations fit in a minute.

The prices are improved by projected subgradient steps (Polyak's rule towards the best known
programme, the step halved when the bound stalls), starting from the relaxation's duals; the
least ``L`` met is the bound. Each master's programme is also a candidate programme (the
Lagrangian heuristic); the caller evaluates those it wants on the full model.

The steps use a diagonal metric (a row's price moves by its shortfall per pupil, a place's by
its shortfall per place; rows hold fractions of a pupil, places tens) and deflection
(Camerini, Fratta and Maffioli); both cut the iterations needed several-fold here.

Measured 2026-11-24 on the geographic county benchmark (``benchmarks/_county_geo.py``; 60,000
rows, 3,600 options, 1.64 m assignments; 2-core shared machine): from the relaxation's prices on
each row's 5 nearest sites, the bound came down from 57,817 pupil-minutes to ~50,100 in ~450
iterations (~0.15 s each); aimed at a better programme (46,300) and run on, it stalls at
50,083 after 1,087 iterations (2026-11-25), so ~50,080 is this relaxation's value there, ~6 %
above the best programme known (47,153). The masters' average programme (``option_weight``)
is the heuristic's guide. Cut to 20 demand points, where HiGHS with the linking rows proves
47,036 in 10 minutes, the bound stops at 48,256: it is the linking rows' relaxation (plus whole
programmes in the master), so it can be a few per cent above the optimum; closing that needs
branching, which this module does not do.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from placeplan.compute._solver import solve
from placeplan.compute.programme import ProgrammeInstance, options_within_budget
from placeplan.compute.programme_presolve import places_cuts

__all__ = ["LagrangianBound", "lagrangian_bound", "lagrangian_value"]

logger = logging.getLogger(__name__)

#: Deflection factor of the subgradient steps (1.5 as Camerini, Fratta and Maffioli advise).
DEFLECTION = 1.5
#: Without a known programme, the steps aim this far below the bound.
AIM = 0.9
#: Stop when the bound fell by less than 0.05 % over this many iterations.
_STALL_WINDOW = 100


@dataclass(frozen=True, slots=True)
class LagrangianBound:
    """The least Lagrangian bound found, its prices and the programmes it suggests.

    Attributes
    ----------
    bound
        Proven upper bound on the savings of every programme of the model.
    row_price, capacity_price
        ``(R,)`` and ``(J, Y)`` prices at the bound.
    options
        The master's whole programme at the best prices (a candidate; not evaluated).
    option_weight
        ``(O,)`` average share of each option in the masters of the last iterations (a guide
        for heuristics, like a relaxation's ``y`` but opening far fewer sites).
    iterations
        Subgradient iterations run.
    time_s
        Seconds spent.
    """

    bound: float
    row_price: np.ndarray
    capacity_price: np.ndarray
    options: tuple[int, ...]
    option_weight: np.ndarray
    iterations: int
    time_s: float


@dataclass(frozen=True, slots=True)
class _Arcs:
    """What every iteration needs about the assignments, computed once."""

    share: np.ndarray  # (A, Y) presence share of the arc's row
    first: np.ndarray  # (A,) first year the arc's row is present
    count: np.ndarray  # (A,) pupils of the arc's row
    may_open: np.ndarray  # (O,) options within their year's budget


def _arcs(inst: ProgrammeInstance) -> _Arcs:
    n = np.maximum(inst.row_count, 1e-12)
    present = inst.row_present > 0
    first = np.where(present.any(axis=1), np.argmax(present, axis=1), len(inst.years))
    return _Arcs(
        share=(inst.row_present / n[:, None])[inst.arc_row],
        first=first[inst.arc_row],
        count=inst.row_count[inst.arc_row].astype(float),
        may_open=options_within_budget(inst) > 0,
    )


def _option_gains(
    inst: ProgrammeInstance, arcs: _Arcs, u: np.ndarray, pi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """``G`` per option, the reduced value ``c`` per arc, and the part of ``L`` no option
    governs (rows never present use no place, so no opened option is needed to take them)."""
    n_s, n_y = len(inst.site_ids), len(inst.years)
    c = inst.arc_value - u[inst.arc_row] - np.einsum("ay,ay->a", arcs.share, pi[inst.arc_site])
    key = inst.arc_site * (n_y + 1) + arcs.first
    gain = np.maximum(c, 0.0) * arcs.count
    never = arcs.first >= n_y
    free = float(gain[never].sum())
    gain[never] = 0.0
    by = np.bincount(key, weights=gain, minlength=n_s * (n_y + 1))
    from_year = np.cumsum(by.reshape(n_s, n_y + 1)[:, ::-1], axis=1)[:, ::-1]
    rent = np.cumsum(pi[:, ::-1], axis=1)[:, ::-1]
    rent = np.concatenate([rent, np.zeros((n_s, 1))], axis=1)
    site, k = inst.opt_site, inst.opt_open
    return inst.opt_value + from_year[site, k] + inst.opt_places * rent[site, k], c, free


def _master(
    inst: ProgrammeInstance,
    gain: np.ndarray,
    may_open: np.ndarray,
    *,
    integer: bool,
    time_limit_s: float = 30.0,
) -> tuple[np.ndarray, float]:
    """``max Σ G_o y_o`` over programmes (LP or whole): ``(y, proven upper bound)``."""
    y = np.zeros(len(gain))
    cand = np.flatnonzero((gain > 0) & may_open)
    if cand.size == 0:
        return y, 0.0
    _, s_idx = np.unique(inst.opt_site[cand], return_inverse=True)
    rows = [s_idx]
    cols = [np.arange(cand.size)]
    vals = [np.ones(cand.size)]
    hi = [np.ones(int(s_idx.max()) + 1)]
    n_rows = hi[0].size
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float)
    limits = np.cumsum(budget) if inst.carry_forward else budget
    fy = inst.opt_fy[cand]
    sums = [
        (fy <= f if inst.carry_forward else fy == f, inst.opt_capital_gbp, lim)
        for f, lim in enumerate(limits)
    ]
    for idx, most in places_cuts(
        inst.opt_site,
        inst.opt_places,
        inst.opt_fy,
        inst.opt_capital_gbp,
        may_open,
        budget,
        carry_forward=inst.carry_forward,
    ):
        sums.append((np.isin(cand, idx), inst.opt_places, most))
    for sel, coef, limit in sums:
        k = np.flatnonzero(sel)
        rows.append(np.full(k.size, n_rows))
        cols.append(k)
        vals.append(coef[cand[k]])
        hi.append(np.array([limit]))
        n_rows += 1
    a = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, cand.size),
    )
    res = solve(
        gain[cand],
        a,
        np.full(n_rows, -np.inf),
        np.concatenate(hi),
        np.zeros(cand.size),
        np.ones(cand.size),
        np.full(cand.size, integer),
        sense="max",
        mip_rel_gap=1e-4,
        time_limit_s=max(1.0, time_limit_s) if integer else None,
    )
    if res.x is None or res.bound is None:
        # no answer: the master's LP bound without any row (every positive gain) is still valid
        return y, float(np.sum(gain[cand]))
    y[cand] = np.clip(res.x, 0.0, 1.0)
    return y, float(res.bound)


def lagrangian_value(
    inst: ProgrammeInstance,
    row_price: np.ndarray,
    capacity_price: np.ndarray,
    *,
    integer: bool = False,
) -> float:
    """``L(u, π)``: an upper bound on the savings of every programme, for any prices >= 0.

    Parameters
    ----------
    inst
        The model's arrays.
    row_price
        ``(R,)`` price per pupil of each demand row (``u``), >= 0.
    capacity_price
        ``(J, Y)`` price per place at each site and year (``π``), >= 0.
    integer
        Solve the master over whole programmes (tighter, slower) instead of its LP.

    Returns
    -------
    float
    """
    u = np.maximum(np.asarray(row_price, dtype=float), 0.0)
    pi = np.maximum(np.asarray(capacity_price, dtype=float), 0.0)
    arcs = _arcs(inst)
    gain, _, free = _option_gains(inst, arcs, u, pi)
    master = _master(inst, gain, arcs.may_open, integer=integer)[1]
    return float(inst.row_count @ u) + free + master


def lagrangian_bound(
    inst: ProgrammeInstance,
    *,
    row_price: np.ndarray | None = None,
    capacity_price: np.ndarray | None = None,
    incumbent: float = 0.0,
    target_gap: float = 0.0,
    time_limit_s: float = 60.0,
    max_iterations: int = 2_000,
    patience: int = 15,
) -> LagrangianBound:
    """Lower the bound on a programme model's savings by subgradient steps on the prices.

    Parameters
    ----------
    inst
        The model's arrays (every assignment: the bound is for this model).
    row_price, capacity_price
        Starting prices, e.g. the LP relaxation's duals (:class:`~placeplan.compute.
        programme.Relaxation`); zeros when not given.
    incumbent
        Savings of the best programme known (the steps aim at it; 0 when none is known).
    target_gap
        Stop once ``(bound - incumbent) / incumbent`` is at most this.
    time_limit_s, max_iterations
        Stop after this long or this many iterations (the bound stays valid).
    patience
        Iterations without a better bound before the step is halved.

    Returns
    -------
    LagrangianBound
    """
    t0 = time.perf_counter()
    n_r, n_y, n_s = len(inst.row_count), len(inst.years), len(inst.site_ids)
    u = np.zeros(n_r) if row_price is None else np.maximum(np.asarray(row_price, float), 0.0)
    pi = np.zeros((n_s, n_y)) if capacity_price is None else np.maximum(capacity_price, 0.0)
    arcs = _arcs(inst)
    places_scale = max(1.0, float(np.mean(inst.opt_places)) if len(inst.opt_places) else 1.0)
    n_safe = np.maximum(inst.row_count, 1e-12)
    best, best_u, best_pi = math.inf, u.copy(), pi.copy()
    weight, theta, stall, it = np.zeros(len(inst.opt_site)), 1.0, 0, 0
    prev: tuple[np.ndarray, np.ndarray] | None = None
    history: list[float] = []
    for it in range(1, max(1, int(max_iterations)) + 1):
        gain, c, free = _option_gains(inst, arcs, u, pi)
        y, master = _master(inst, gain, arcs.may_open, integer=False)
        value = float(inst.row_count @ u) + free + master
        weight = 0.9 * weight + 0.1 * y
        if value < best - 1e-9 * abs(value):
            best, best_u, best_pi, stall = value, u.copy(), pi.copy(), 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2.0, 0
        done = incumbent > 0 and best - incumbent <= target_gap * incumbent
        history.append(best)
        stalled = it > _STALL_WINDOW and history[-_STALL_WINDOW - 1] - best <= 5e-4 * abs(best)
        if done or stalled or theta < 1e-6 or time.perf_counter() - t0 > time_limit_s:
            break
        g_u, g_pi = _subgradient(inst, arcs, y, c)
        g_u[(u <= 0) & (g_u > 0)] = 0.0  # a step could not lower these prices below 0
        g_pi[(pi <= 0) & (g_pi > 0)] = 0.0
        # a diagonal metric: each price moves by its own row's shortfall per pupil or place
        d_u, d_pi = g_u / n_safe, g_pi / places_scale
        if prev is not None:
            # deflection (Camerini, Fratta and Maffioli): take out the part of the step that
            # undoes the previous one, which stops the prices zig-zagging
            inner = float(d_u @ (prev[0] * n_safe) + np.sum(d_pi * prev[1]) * places_scale)
            size = float(prev[0] @ (prev[0] * n_safe) + np.sum(prev[1] ** 2) * places_scale)
            if inner < 0 < size:
                d_u = d_u - DEFLECTION * inner / size * prev[0]
                d_pi = d_pi - DEFLECTION * inner / size * prev[1]
                g_u, g_pi = d_u * n_safe, d_pi * places_scale
        prev = (d_u, d_pi)
        norm = float(g_u @ d_u + np.sum(g_pi * d_pi))
        if norm <= 1e-12:
            break  # the master's programme uses every price exactly: L is the optimum
        aim = incumbent if incumbent > 0 else AIM * min(best, value)
        step = theta * max(value - aim, 1e-9 * abs(value)) / norm
        u = np.maximum(u - step * d_u, 0.0)
        pi = np.maximum(pi - step * d_pi, 0.0)
        if it % 50 == 0:
            logger.info("lagrangian iteration %d: bound %.6g, step scale %.3g", it, best, theta)
    gain, _, free = _option_gains(inst, arcs, best_u, best_pi)
    left = min(30.0, time_limit_s - (time.perf_counter() - t0))
    y_int, master_int = _master(inst, gain, arcs.may_open, integer=True, time_limit_s=left)
    best = min(best, float(inst.row_count @ best_u) + free + master_int)
    return LagrangianBound(
        bound=best,
        row_price=best_u,
        capacity_price=best_pi,
        options=tuple(int(o) for o in np.flatnonzero(y_int > 0.5)),
        option_weight=weight,
        iterations=it,
        time_s=time.perf_counter() - t0,
    )


def _subgradient(
    inst: ProgrammeInstance, arcs: _Arcs, y: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``∂L/∂u`` and ``∂L/∂π`` at the master's (fractional) programme ``y``."""
    n_s, n_y = len(inst.site_ids), len(inst.years)
    on = np.flatnonzero(y > 1e-12)
    key = inst.opt_site[on] * (n_y + 1) + inst.opt_open[on]
    size = n_s * (n_y + 1)
    opened = np.cumsum(np.bincount(key, weights=y[on], minlength=size).reshape(n_s, -1), axis=1)
    places = np.bincount(key, weights=y[on] * inst.opt_places[on], minlength=size)
    capacity = np.cumsum(places.reshape(n_s, -1), axis=1)[:, :n_y]
    opened = np.concatenate([opened, np.ones((n_s, 1))], axis=1)  # never present: no option needed
    x = np.where(c > 0, arcs.count * opened[inst.arc_site, arcs.first], 0.0)
    g_u = inst.row_count - np.bincount(inst.arc_row, weights=x, minlength=len(inst.row_count))
    occupancy = np.stack(
        [
            np.bincount(inst.arc_site, weights=arcs.share[:, k] * x, minlength=n_s)
            for k in range(n_y)
        ],
        axis=1,
    )
    return g_u, capacity - occupancy
