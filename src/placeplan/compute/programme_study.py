"""What a capital board asks of a programme: the budget curve, near-optimal sets, greedy baseline.

Built on :func:`placeplan.compute.programme.solve_programme`:

- :func:`budget_curve` re-solves at budget steps (every financial year's budget scaled by
  ``k / steps``). Step ``k`` must reach at least step ``k - 1``'s savings (a row in the model; the
  previous programme is feasible at the larger budget, so this cuts nothing off), and is handed the
  previous programme as a fallback at a time limit, so the curve never falls as the budget grows.
  The marginal value of a pound is the rise between steps divided by the extra budget.
- :func:`site_contributions`: each chosen site's marginal value, the programme's savings with it
  minus without it (the others kept, flows re-solved exactly).
- :func:`alternatives`: the k best *distinct site sets* (sizes and years re-optimised for each),
  by no-good cuts, so a board sees how much the choice matters.
- :func:`greedy_programme`: the obvious heuristic (add the option with the best savings per pound
  while it fits), for comparison with the optimum in benchmarks.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from placeplan._errors import ConfigError, InfeasibleModelError, PlaceplanWarning
from placeplan.compute.programme import (
    ProgrammeInstance,
    ProgrammeSolution,
    evaluate_programme,
    presolved,
    solve_programme,
)
from placeplan.compute.programme_flows import ProgrammeFlows, add_gains

__all__ = [
    "CurvePoint",
    "StudyParts",
    "alternatives",
    "alternatives_and_why",
    "budget_curve",
    "curve_point",
    "greedy_programme",
    "site_contributions",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One step of the budget curve.

    Attributes
    ----------
    budget_gbp
        Total budget at this step (all financial years), £.
    budget_scale
        The step's share of the full budget per financial year.
    solution
        The best programme at this budget.
    marginal_per_gbp
        Rise in savings from the previous step per extra £ of budget (the first step is measured
        from a zero budget, where savings are 0).
    """

    budget_gbp: float
    budget_scale: float
    solution: ProgrammeSolution
    marginal_per_gbp: float


#: What a study of a model returns: the best programme, each chosen site's contribution, the
#: budget curve, the alternatives, the greedy heuristic's programme and the stage timings (s).
StudyParts = tuple[
    ProgrammeSolution,
    dict[int, float],
    tuple[CurvePoint, ...],
    tuple[ProgrammeSolution, ...],
    ProgrammeSolution,
    dict[str, float],
]


def budget_curve(
    inst: ProgrammeInstance,
    *,
    steps: int = 10,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> tuple[CurvePoint, ...]:
    """Return the best savings at ``steps`` equal budget steps up to the full budget.

    Parameters
    ----------
    inst
        The programme model.
    steps
        Number of steps (>= 1); step ``k`` scales every financial year's budget by ``k/steps``.
    time_limit_s
        HiGHS time limit per step (seconds).
    mip_rel_gap
        Relative gap on savings per step.

    Returns
    -------
    tuple of CurvePoint
        One per step, budgets ascending; savings never decrease from one step to the next. A
        step stopped at the time limit with nothing found keeps the step before's programme
        (the first step: doing nothing, which fits every budget).

    Raises
    ------
    ConfigError
        ``steps`` below 1 (from the caller's config) is reported as a ValueError-like config
        error.
    """
    if int(steps) != steps or steps < 1:
        msg = f"`optimise.steps` must be a whole number >= 1; got {steps!r}"
        raise ConfigError(msg)
    points: list[CurvePoint] = []
    prev: ProgrammeSolution | None = None
    nothing = evaluate_programme(inst, ())  # fits every budget: the first step's fallback
    for k in range(1, int(steps) + 1):
        scale = k / steps
        floor = None if prev is None else prev.objective - 1e-9 * max(1.0, abs(prev.objective))
        try:
            sol = solve_programme(
                inst,
                budget_scale=scale,
                min_objective=floor,
                time_limit_s=time_limit_s,
                mip_rel_gap=mip_rel_gap,
                fallback=prev if prev is not None else nothing,
            )
        except InfeasibleModelError:  # pragma: no cover - prev is feasible by construction
            if prev is None:
                raise
            sol = prev
        points.append(curve_point(inst.total_budget_gbp * scale, scale, sol, points))
        prev = points[-1].solution
    return tuple(points)


def curve_point(
    budget_gbp: float, scale: float, sol: ProgrammeSolution, before: Sequence[CurvePoint]
) -> CurvePoint:
    """The next step of a budget curve after ``before``: ``sol``, or the previous step's
    programme where ``sol`` saves less (it fits the larger budget, so the curve never falls),
    with the rise in savings per extra £."""
    prev = before[-1] if before else None
    if prev is not None and sol.objective < prev.solution.objective:
        sol = prev.solution
    rise = sol.objective - (prev.solution.objective if prev is not None else 0.0)
    extra = budget_gbp - (prev.budget_gbp if prev is not None else 0.0)
    return CurvePoint(budget_gbp, scale, sol, rise / max(extra, 1e-9))


def site_contributions(
    inst: ProgrammeInstance, sol: ProgrammeSolution, *, flows: ProgrammeFlows | None = None
) -> dict[int, float]:
    """Return each chosen site's marginal value: savings with the programme minus without it.

    Savings come from :class:`~placeplan.compute.programme_flows.ProgrammeFlows` (the flow LP
    per connected part, cached), so dropping one site re-solves only its part.

    Parameters
    ----------
    inst
        The programme model.
    sol
        A programme.
    flows
        A cache of exact savings built on ``inst`` (or on its presolved form) to reuse;
        default: a new one on ``presolved(inst)``.

    Returns
    -------
    dict of int to float
        Option index → savings lost if that option alone is dropped (others kept; flows
        re-solved exactly).
    """
    exact = _flows_for(inst, flows)
    full = exact.value(sol.options)
    return {o: full - exact.value([p for p in sol.options if p != o]) for o in sol.options}


def _flows_for(inst: ProgrammeInstance, flows: ProgrammeFlows | None) -> ProgrammeFlows:
    """``flows``, or a new cache on the presolved model (exact: merged rows lose nothing)."""
    if flows is None:
        return ProgrammeFlows(presolved(inst))
    if len(flows.inst.opt_site) != len(inst.opt_site) or len(flows.inst.years) != len(inst.years):
        msg = (
            f"`flows` was built on a model with {len(flows.inst.opt_site)} options, this one "
            f"has {len(inst.opt_site)}: build it with ProgrammeFlows(inst)"
        )
        raise ConfigError(msg)
    return flows


def alternatives(
    inst: ProgrammeInstance,
    best: ProgrammeSolution,
    *,
    k: int = 5,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> tuple[ProgrammeSolution, ...]:
    """Return up to ``k`` next-best programmes, each with a site set distinct from all before.

    Parameters
    ----------
    inst
        The programme model.
    best
        The optimal programme (its site set is excluded first).
    k
        How many alternatives (>= 0).
    time_limit_s, mip_rel_gap
        Per solve.

    Returns
    -------
    tuple of ProgrammeSolution
        Most savings first (ties: in order found; solved to optimality they are found in that
        order, but with a gap or at a time limit a later one can save more); fewer than ``k``
        when no other site set fits the budget (doing nothing, the empty set, is one of them)
        or a solve stops at its time limit with no programme (:func:`alternatives_and_why`).
    """
    return alternatives_and_why(
        inst, best, k=k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap
    )[0]


def alternatives_and_why(
    inst: ProgrammeInstance,
    best: ProgrammeSolution,
    *,
    k: int = 5,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> tuple[tuple[ProgrammeSolution, ...], str]:
    """:func:`alternatives`, and why the search stopped.

    Parameters
    ----------
    inst, best, k, time_limit_s, mip_rel_gap
        As for :func:`alternatives`.

    Returns
    -------
    alternatives : tuple of ProgrammeSolution
        As :func:`alternatives` returns them.
    why : str
        ``"asked"`` (``k`` found), ``"exhausted"`` (no other site set fits the budget) or
        ``"time_limit"`` (a solve stopped at its time limit with no programme; also warned).
    """
    seen = [frozenset(int(inst.opt_site[o]) for o in best.options)]
    out: list[ProgrammeSolution] = []
    why = "asked"
    for _ in range(max(0, int(k))):
        try:
            sol = solve_programme(
                inst, exclude_site_sets=seen, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap
            )
        except InfeasibleModelError as err:
            why = "time_limit" if "status 'time_limit'" in str(err) else "exhausted"
            if why == "time_limit":  # not "no other set fits": the solve ran out of time
                msg = (
                    f"alternatives: {len(out)} of {k} found; the next solve stopped at its time "
                    f"limit ({time_limit_s} s) with no programme: raise `optimise.time_limit_s`"
                )
                warnings.warn(msg, PlaceplanWarning, stacklevel=2)
            break
        out.append(sol)
        seen.append(frozenset(int(inst.opt_site[o]) for o in sol.options))
    return tuple(sorted(out, key=lambda s: -s.objective)), why


def _fits(inst: ProgrammeInstance, spent: np.ndarray, o: int) -> bool:
    trial = spent.copy()
    trial[inst.opt_fy[o]] += inst.opt_capital_gbp[o]
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float)
    if inst.carry_forward:
        return bool((np.cumsum(trial) <= np.cumsum(budget) * (1 + 1e-12) + 1e-6).all())
    return bool((trial <= budget * (1 + 1e-12) + 1e-6).all())


def _place_years_bound(inst: ProgrammeInstance) -> np.ndarray:
    """``(O,)`` most value an option's places can add: its place-years × the best value per
    place-year of any assignment (a pupil moved elsewhere frees places worth no more)."""
    share = inst.row_present / np.maximum(inst.row_count, 1e-12)[:, None]
    used = share.sum(axis=1)[inst.arc_row]  # place-years one pupil of the arc takes up
    ok = used > 0
    rate = float(np.max(np.maximum(inst.arc_value[ok], 0.0) / used[ok], initial=0.0))
    n_y = len(inst.years)
    return inst.opt_places * (n_y - inst.opt_open) * rate


def _alone_bound(flows: ProgrammeFlows) -> np.ndarray:
    """``(O,)`` most each option can save on its own, so at most what it adds to any programme
    (the lazy greedy's premise): the pupils it may take (first year present on or after its
    opening) fill its place-years best value per place-year first (a fractional knapsack over
    the year-by-year capacity rows summed), plus every pupil it may take who is never present
    (they need no place)."""
    inst = flows.inst
    present = inst.row_present > 0
    first = np.where(present.any(axis=1), np.argmax(present, axis=1), len(inst.years))
    knap = add_gains(replace(inst, row_entry=first), flows.by_site, np.zeros(len(first)))
    ghost_arcs = np.concatenate(
        [a[first[inst.arc_row[a]] == len(inst.years)] for a in flows.by_site]
        + [np.zeros(0, dtype=int)]
    )
    ghost = np.bincount(
        inst.arc_site[ghost_arcs],
        weights=inst.arc_value[ghost_arcs] * inst.row_count[inst.arc_row[ghost_arcs]],
        minlength=len(inst.site_ids),
    )
    bound = knap + ghost[inst.opt_site]
    return bound + 1e-9 * np.maximum(1.0, np.abs(bound))


def greedy_programme(
    inst: ProgrammeInstance,
    *,
    max_evaluations: int = 2_000,
    time_limit_s: float | None = None,
    flows: ProgrammeFlows | None = None,
) -> ProgrammeSolution:
    """Build a programme greedily: add the option with the most savings per £ while it fits.

    Lazy greedy: each option keeps an upper bound on its gain (its last evaluated gain, first
    the lesser of the total value of every pupil it could serve and its place-years times the
    best value per place-year); the top option is re-evaluated exactly (the flow LP of the
    connected part it joins, by :class:`~placeplan.compute.programme_flows.ProgrammeFlows`,
    cached) and taken when it still beats every other bound. Options of a site already opened,
    or that no longer fit a financial year's budget, drop out.

    Parameters
    ----------
    inst
        The programme model.
    max_evaluations
        Stop after this many exact evaluations (a safety valve at county scale).
    time_limit_s
        Stop after this many seconds (the programme built so far is returned).
    flows
        A cache of exact savings built on ``inst`` (or on its presolved form) to reuse;
        default: a new one on ``presolved(inst)``.

    Returns
    -------
    ProgrammeSolution
        ``status="greedy"``; gap and bound are not known (``nan``).
    """
    original, exact = inst, _flows_for(inst, flows)
    inst = exact.inst if flows is None else inst
    n_o = len(inst.opt_site)
    # upper bound: every pupil the option could serve, ignoring its places
    n_y = len(inst.years)
    by_entry = np.zeros((len(inst.site_ids), n_y + 1))
    arc_total = np.maximum(inst.arc_value, 0.0) * inst.row_count[inst.arc_row]
    np.add.at(by_entry, (inst.arc_site, inst.row_entry[inst.arc_row]), arc_total)
    from_year = np.cumsum(by_entry[:, ::-1], axis=1)[:, ::-1]  # Σ over entry >= y
    value = np.minimum(from_year[inst.opt_site, inst.opt_open], _place_years_bound(inst))
    value = np.minimum(value + inst.opt_value, _alone_bound(exact))
    cost = np.maximum(inst.opt_capital_gbp, 1.0)
    heap = [(-value[o] / cost[o], o) for o in range(n_o) if value[o] > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    spent = np.zeros(len(inst.fy_labels))
    current = 0.0
    fresh: set[int] = set()
    evaluations = 0
    t0 = time.perf_counter()
    while heap and evaluations < max_evaluations:
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            logger.info("greedy_programme: stopped at the time limit (%.0f s)", time_limit_s)
            break
        neg, o = heapq.heappop(heap)
        if any(inst.opt_site[c] == inst.opt_site[o] for c in chosen) or not _fits(inst, spent, o):
            continue
        if o in fresh:
            if -neg <= 0:
                break
            chosen.append(o)
            spent[inst.opt_fy[o]] += inst.opt_capital_gbp[o]
            current = exact.value(chosen)
            fresh.clear()
            continue
        gain = exact.value([*chosen, o]) - current
        evaluations += 1
        fresh.add(o)
        if gain > 1e-9:
            heapq.heappush(heap, (-gain / cost[o], o))
    sol = evaluate_programme(original, chosen)
    logger.info("greedy_programme: %d options, %d evaluations", len(chosen), evaluations)
    return ProgrammeSolution(
        options=sol.options,
        objective=sol.objective,
        bound=math.nan,
        gap=math.nan,
        status="greedy",
        capital_by_fy_gbp=sol.capital_by_fy_gbp,
        flows=sol.flows,
        solve_time_s=sol.solve_time_s,
    )
