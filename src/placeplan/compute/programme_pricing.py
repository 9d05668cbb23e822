"""Large programme models by pricing: solve on a few assignments, prove the bound on them all.

At county scale the full model has millions of allowed assignments (arcs) and HiGHS spends
minutes on its first LP. Most arcs are never used: a pupil goes to one of the few sites that
open near home. :func:`solve_programme_priced` therefore

1. starts from each demand row's ``initial_arcs`` most valuable arcs (ties: lowest site
   index; or a mask the caller gives, e.g. the nearest sites);
2. *column generation* on the LP relaxation: solve the relaxation on the arcs kept, price every
   other arc with its duals (reduced cost ``d_a = v_a - u_r - Σ_y share_ry π_jy``), add each
   row's ``per_round`` arcs of largest ``d_a > 0``, and repeat until none is left or the
   bound below is within 1e-6 (relative) of the kept arcs' relaxation (the relaxation of the
   full model is then solved, to that tolerance), ``max_rounds``, or a fifth of the time limit;
3. solves the MILP on the arcs kept (a programme feasible in the full model; until 30 % of the
   time limit) and evaluates its flows on every arc;
4. while the gap is above ``mip_rel_gap``: lowers the bound by the Lagrangian relaxation that
   keeps the site choice (:mod:`placeplan.compute.programme_lagrange`; every arc; from the
   last round's prices; until 55 % of the limit or converged), taking its master's programme
   when it saves more; then improves the programme by
   :func:`~placeplan.compute.programme_heuristic.improve_programme` with the time left (until
   92 %), guided by the Lagrangian masters' average programme (the relaxation's option values
   when the Lagrangian did not run);
5. reports the bound of the *full* model: each round's bound ``LP_kept + Σ_a max(d_a, 0) n_r``
   and the Lagrangian bound are upper bounds on every programme's savings over all arcs (weak
   duality with the row and capacity prices), and the least of them is kept.

So the gap reported is honest for the full model, whatever arcs the MILP saw.

Measured 2026-11-24 on the geographic county benchmark (``benchmarks/RESULTS.md``): see the
programme-optimisation section there for the gap this reaches in 5 minutes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np

from placeplan.compute.programme import (
    ProgrammeInstance,
    ProgrammeSolution,
    evaluate_programme,
    merged_rows,
    presolved,
    relaxation,
    solve_programme,
)
from placeplan.compute.programme_flows import ProgrammeFlows
from placeplan.compute.programme_heuristic import improve_programme
from placeplan.compute.programme_lagrange import lagrangian_bound
from placeplan.compute.programme_presolve import MergedRows

__all__ = ["initial_arc_mask", "solve_programme_priced"]

logger = logging.getLogger(__name__)


def initial_arc_mask(inst: ProgrammeInstance, per_row: int) -> np.ndarray:
    """``(A,)`` True for each row's ``per_row`` most valuable arcs (ties: lowest site index).

    Parameters
    ----------
    inst
        The model's arrays.
    per_row
        Arcs kept per demand row (>= 1).

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``inst``'s arcs.
    """
    order = np.lexsort((inst.arc_site, -inst.arc_value, inst.arc_row))
    rows = inst.arc_row[order]
    start = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - start
    mask = np.zeros(len(rows), dtype=bool)
    mask[order[rank < max(1, int(per_row))]] = True
    return mask


def _reduced_costs(
    inst: ProgrammeInstance, row_price: np.ndarray, cap_price: np.ndarray
) -> np.ndarray:
    share = inst.row_present / np.maximum(inst.row_count, 1e-12)[:, None]
    used = np.einsum("ay,ay->a", share[inst.arc_row], cap_price[inst.arc_site])
    return inst.arc_value - row_price[inst.arc_row] - used


def solve_programme_priced(
    inst: ProgrammeInstance,
    *,
    initial_arcs: int | np.ndarray = 5,
    max_rounds: int = 30,
    per_round: int = 3,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    fallback: ProgrammeSolution | None = None,
    lagrangian: bool = True,
    heuristic: bool = True,
) -> ProgrammeSolution:
    """Best programme of a large model by column generation (see the module docstring).

    Parameters
    ----------
    inst
        The full model.
    initial_arcs
        Arcs per demand row to start from, or a boolean mask over ``inst``'s arcs.
    max_rounds
        Column-generation rounds at most (the bound stays valid when stopped early).
    per_round
        Arcs priced in per demand row and round at most (those with the largest reduced
        costs), so a poor start does not bring in every arc at once.
    time_limit_s
        Wall-clock limit for the whole call (rounds stop after half of it); the MILP gets what
        the rounds leave.
    mip_rel_gap
        Relative gap for the MILP on the arcs kept.
    fallback
        A programme feasible in the full model: HiGHS's starting incumbent, and returned if the
        MILP finds nothing better.
    lagrangian
        Tighten the bound by the Lagrangian relaxation that keeps the site choice
        (:mod:`placeplan.compute.programme_lagrange`) and try its programme as an incumbent.
    heuristic
        Improve the MILP's programme by :func:`~placeplan.compute.programme_heuristic.
        improve_programme` (a restricted MILP on merged rows and a local search) while the gap
        is above ``mip_rel_gap``.

    Returns
    -------
    ProgrammeSolution
        Options, flows on every arc of ``inst``, savings; ``bound`` and ``gap`` are for the full
        model. ``status`` is ``"optimal"`` when the full model's gap is within
        ``mip_rel_gap``, ``"time_limit"`` when it is not and the time limit ran out, else
        ``"feasible"`` (every stage finished early without proving the gap).
    """
    t0 = time.perf_counter()
    work = presolved(inst)
    merged = _merged(inst, work)
    keep = _start_mask(work, merged, initial_arcs)
    limit = math.inf if time_limit_s is None else float(time_limit_s)
    bound = math.inf
    lp = None
    for k in range(max(1, int(max_rounds))):
        sub = _with_arcs(work, keep)
        lp = relaxation(sub)
        d = _reduced_costs(work, lp.row_price, lp.capacity_price)
        d[keep | ~lp.site_can_open[work.arc_site]] = 0.0
        gain = np.zeros(len(work.row_count))
        np.maximum.at(gain, work.arc_row, np.maximum(d, 0.0))
        bound = min(bound, lp.value + float(gain @ work.row_count))
        new = _best_per_row(work.arc_row, d, 1e-9 * max(1.0, abs(lp.value)), per_round)
        logger.info(
            "pricing round %d: %d arcs, LP %.6g, bound %.6g, %d arcs priced in",
            k,
            int(keep.sum()),
            lp.value,
            bound,
            int(new.sum()),
        )
        if not new.any() or bound - lp.value <= 1e-6 * max(1.0, abs(lp.value)):
            break  # the kept arcs' relaxation is within 1e-6 of the full model's
        if _left(t0, limit, _TIME_SHARES[0]) < 0:
            break  # leave the other stages their time (the bound stays valid)
        keep |= new
    sub = _with_arcs(work, keep)
    sol = solve_programme(
        sub,
        time_limit_s=None if math.isinf(limit) else max(1.0, _left(t0, limit, _TIME_SHARES[1])),
        mip_rel_gap=mip_rel_gap,
        fallback=None
        if fallback is None
        else evaluate_programme(sub, fallback.options, presolve=False),
    )
    exact = ProgrammeFlows(work)  # exact savings on every arc, per connected part, cached
    best = max(
        [tuple(sol.options), *([] if fallback is None else [tuple(fallback.options)])],
        key=exact.value,
    )
    guide = None if lp is None else lp.option_value
    if lagrangian and lp is not None and not _within(bound, exact.value(best), mip_rel_gap):
        lag = lagrangian_bound(
            work,
            row_price=lp.row_price,
            capacity_price=lp.capacity_price,
            incumbent=exact.value(best),
            target_gap=mip_rel_gap,
            time_limit_s=_left(t0, limit, _TIME_SHARES[2]),
        )
        bound = min(bound, lag.bound)
        best = max([best, lag.options], key=exact.value)
        # the masters' average programme at the prices near the bound guides the heuristic to
        # far fewer sites than the relaxation's y: 47,153 against 45,666 pupil-minutes from
        # the same start in the same time (geographic county benchmark, 2026-11-24)
        guide = lag.option_weight
    if heuristic and lp is not None and not _within(bound, exact.value(best), mip_rel_gap):
        found = improve_programme(
            work,
            relaxed_y=guide,
            start=best,  # option indices: no flow LP on every arc just to hand it over
            flows=exact,  # the exact savings met so far, cached per part
            time_limit_s=120.0
            if math.isinf(limit)
            else max(1.0, _left(t0, limit, _TIME_SHARES[3])),
        )
        best = max([best, tuple(found.options)], key=exact.value)
    full = _on_caller_arcs(inst, merged, best, exact)
    ran_out = time.perf_counter() - t0 >= 0.97 * limit
    full = full.bounded(bound, "time_limit" if ran_out else "feasible", mip_rel_gap=mip_rel_gap)
    return replace(full, solve_time_s=time.perf_counter() - t0)


def _merged(inst: ProgrammeInstance, work: ProgrammeInstance) -> MergedRows:
    """The presolve's maps from ``inst`` to ``work`` (= ``presolved(inst)``)."""
    m = merged_rows(inst)
    if len(m.arc_row) != len(work.arc_row):  # pragma: no cover - presolve is deterministic
        msg = "programme pricing: presolve gave different arcs twice"
        raise RuntimeError(msg)
    return m


def _on_caller_arcs(
    inst: ProgrammeInstance,
    m: MergedRows,
    options: tuple[int, ...],
    exact: ProgrammeFlows,
) -> ProgrammeSolution:
    """The programme with its flows on ``inst``'s own arcs: each merged row's flow split over
    its members in proportion to their counts (exact, as in the presolve)."""
    flows = exact.prices(options)[2]
    share = inst.row_count[inst.arc_row] / np.maximum(m.count[m.group[inst.arc_row]], 1e-300)
    opts = np.asarray(options, dtype=int)
    cap = np.bincount(inst.opt_fy[opts], inst.opt_capital_gbp[opts], len(inst.fy_labels))
    return ProgrammeSolution(
        options=tuple(int(o) for o in opts),
        objective=exact.value(options),
        bound=math.nan,
        gap=math.nan,
        status="evaluated",
        capital_by_fy_gbp=cap,
        flows=flows[m.arc_of_original] * share,
    )


def _within(bound: float, savings: float, gap: float) -> bool:
    return savings > 0 and bound - savings <= gap * savings + 1e-7 * max(1.0, bound)


#: Shares of ``time_limit_s`` by which pricing, the MILP, the Lagrangian bound and the
#: heuristic must end (the last share leaves time for the final flows). The Lagrangian stage
#: often converges early; the heuristic then gets what it leaves.
_TIME_SHARES = (0.2, 0.3, 0.55, 0.92)


def _left(t0: float, time_limit_s: float, share: float) -> float:
    return share * time_limit_s - (time.perf_counter() - t0)


def _start_mask(
    work: ProgrammeInstance, merged: MergedRows, initial_arcs: int | np.ndarray
) -> np.ndarray:
    """The presolved model's starting arcs (a merged arc is kept if any of its originals is)."""
    if not isinstance(initial_arcs, np.ndarray):
        return initial_arc_mask(work, int(initial_arcs))
    keep = np.zeros(len(work.arc_row), dtype=bool)
    keep[merged.arc_of_original[np.asarray(initial_arcs, dtype=bool)]] = True
    return keep


def _best_per_row(arc_row: np.ndarray, d: np.ndarray, tol: float, k: int) -> np.ndarray:
    """``(A,)`` True for each row's ``k`` arcs of largest ``d`` among those above ``tol``."""
    order = np.lexsort((-d, arc_row))
    rows = arc_row[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    out = np.zeros(len(d), dtype=bool)
    out[order[rank < max(1, k)]] = True
    return out & (d > tol)


def _with_arcs(inst: ProgrammeInstance, keep: np.ndarray) -> ProgrammeInstance:
    return replace(
        inst,
        arc_row=inst.arc_row[keep],
        arc_site=inst.arc_site[keep],
        arc_value=inst.arc_value[keep],
    )
