"""The budget curve and the alternatives of a large programme model, by heuristic, with bounds.

:func:`~placeplan.compute.programme_scale.study_programme_priced` draws them here, on the *full*
model, sharing one :class:`~placeplan.compute.programme_flows.ProgrammeFlows` (exact savings
per connected part, cached) so a step or an alternative re-solves only the parts it changes:

- :func:`heuristic_curve_steps`: step ``k`` of ``steps`` is
  :func:`~placeplan.compute.programme_heuristic.improve_programme` on the model with every
  financial year's budget scaled by ``k / steps``, started from step ``k - 1``'s programme
  (it fits the larger budget, so the curve never falls). The full budget's step is the best
  programme's starting incumbent; the caller's best programme is the curve's last step.
- :func:`bound_curve`: each step's proven bound, from the top down: the Lagrangian bound
  (:func:`~placeplan.compute.programme_lagrange.lagrangian_bound`) on the scaled model, warm
  started from the lower of ``L`` at the step's own flow prices and at the step above's
  Lagrangian prices, capped by the step above's bound (a larger budget's bound holds for every
  smaller budget); the full budget's step starts from the best programme's bound, so its
  bound can only fall. When the Lagrangian master's whole programme saves more than a step's
  (it fits that step's budget), it replaces it. A step's status is ``"optimal"`` when its gap
  on savings ``(bound - savings) / savings`` is within the asked gap, else ``"heuristic"``
  (the best programme keeps its own status).
- Time per step: :data:`HEURISTIC_SHARE` of ``time_limit_s`` for the heuristic,
  :data:`BOUND_SHARE` for the bound (the Lagrangian's last master may overrun by a second),
  then (:func:`bound_curve`'s ``polish_share``, :data:`POLISH_SHARE` in the study) the heuristic
  again from the step's programme, guided by the Lagrangian masters' average programme, while
  the step's gap is open.
- :func:`heuristic_alternatives`: *not* a proven k-best list. For the best programme's sites,
  smallest contribution first, the best programme found with that one site ruled out
  (:class:`AlternativeProgramme`, ``ruled_out_site``; ``alternatives.csv`` names it), each
  within ``time_limit_s``; distinct site sets, none the best's, most savings first. Their bound
  is the best programme's (valid: it bounds every programme of the model), so their gap says
  how far they may be from the best possible, not from the best without that site. A heuristic
  alternative can save more than the heuristic best programme when both are far from proven.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from placeplan._errors import ConfigError
from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution
from placeplan.compute.programme_flows import ProgrammeFlows
from placeplan.compute.programme_heuristic import improve_programme, programme_fits
from placeplan.compute.programme_lagrange import lagrangian_bound, lagrangian_value
from placeplan.compute.programme_study import CurvePoint, curve_point

__all__ = [
    "POLISH_SHARE",
    "AlternativeProgramme",
    "bound_curve",
    "heuristic_alternatives",
    "heuristic_curve_steps",
    "scaled_budget",
    "with_bound",
]

logger = logging.getLogger(__name__)

#: Per curve step: the heuristic's share of the time limit (the bound gets ``BOUND_SHARE``;
#: the Lagrangian's last whole-programme master may take a second more).
HEURISTIC_SHARE = 0.3
BOUND_SHARE = 0.35
#: Per curve step: the share for the heuristic again after the bound, guided by the Lagrangian
#: masters' average programme (at half the county benchmark's budget, 26,897 pupil-minutes
#: from nothing in 27 s against 24,943 unguided in 36 s; 2026-11-25).
POLISH_SHARE = 0.3
#: Statuses whose ``bound`` is proven (``"evaluated"``, ``"heuristic"``, ``"greedy"``: not).
_PROVEN = ("optimal", "time_limit", "feasible")
#: Time limit per solve when the caller gives none (seconds).
DEFAULT_LIMIT_S = 60.0


@dataclass(frozen=True, slots=True)
class AlternativeProgramme(ProgrammeSolution):
    """An alternative programme: the best found with one of the best programme's sites ruled
    out (not a proven next-best).

    Attributes
    ----------
    ruled_out_site
        Index of the site kept closed (into the instance's ``site_ids``); -1: none (the best
        programme found first, when an alternative beat it).
    """

    ruled_out_site: int = -1

    @classmethod
    def of(cls, sol: ProgrammeSolution, ruled_out_site: int) -> AlternativeProgramme:
        """``sol`` as an alternative with ``ruled_out_site`` kept closed."""
        return cls(**_solution_fields(sol), ruled_out_site=ruled_out_site)

    def as_solution(self) -> ProgrammeSolution:
        """The same programme as a plain :class:`ProgrammeSolution`."""
        return ProgrammeSolution(**_solution_fields(self))


def _solution_fields(sol: ProgrammeSolution) -> dict[str, Any]:
    return {f.name: getattr(sol, f.name) for f in fields(ProgrammeSolution)}


def scaled_budget(inst: ProgrammeInstance, scale: float) -> ProgrammeInstance:
    """``inst`` with every financial year's budget multiplied by ``scale``."""
    return replace(inst, budget_by_fy_gbp=np.asarray(inst.budget_by_fy_gbp, float) * scale)


def with_bound(
    sol: ProgrammeSolution, bound: float, mip_rel_gap: float, status: str = "heuristic"
) -> ProgrammeSolution:
    """``sol`` with a proven ``bound`` on its savings and the gap ``(bound - savings) /
    savings`` (``inf`` at no savings, 0 within 1e-7); ``"optimal"`` within ``mip_rel_gap``,
    else ``status``. A bound below the savings (solver tolerances) is raised to them, with a
    warning beyond 1e-6 (relative): that would be a bug."""
    if float(bound) < sol.objective - 1e-6 * max(1.0, abs(sol.objective)):
        msg = "proven bound %.9g below the savings %.9g: raised to the savings (a bug?)"
        logger.warning(msg, bound, sol.objective)
    return sol.bounded(bound, status, mip_rel_gap=mip_rel_gap)


def _limit(time_limit_s: float | None) -> float:
    return DEFAULT_LIMIT_S if time_limit_s is None else max(0.0, float(time_limit_s))


def heuristic_curve_steps(
    full: ProgrammeInstance,
    flows: ProgrammeFlows,
    *,
    steps: int,
    time_limit_s: float | None,
    arc_mask: np.ndarray | None = None,
) -> list[ProgrammeSolution]:
    """Programmes at budget shares ``1/steps, 2/steps, ..., 1`` (the last, at the full budget,
    is a starting incumbent for the best programme's solve).

    Parameters
    ----------
    full
        The full model.
    flows
        Exact savings cache built on ``full``.
    steps
        Budget-curve steps (>= 1).
    time_limit_s
        Per step (the heuristic gets :data:`HEURISTIC_SHARE` of it).
    arc_mask
        ``(A,)`` assignments the heuristic's restricted MILP may use (savings use every arc).

    Returns
    -------
    list of ProgrammeSolution
        ``steps`` programmes (``status="heuristic"``, no bound yet), each feasible at its
        budget and saving at least as much as the one before.

    Raises
    ------
    ConfigError
        ``steps`` not a whole number >= 1.
    """
    if int(steps) != steps or steps < 1:
        msg = f"`optimise.steps` must be a whole number >= 1; got {steps!r}"
        raise ConfigError(msg)
    out: list[ProgrammeSolution] = []
    prev: tuple[int, ...] = ()
    for k in range(1, int(steps) + 1):
        sol = improve_programme(
            scaled_budget(full, k / steps),
            start=prev,
            time_limit_s=HEURISTIC_SHARE * _limit(time_limit_s),
            arc_mask=arc_mask,
            flows=flows,
        )
        logger.info(
            "curve step %d/%d: %d options, savings %.6g", k, steps, len(sol.options), sol.objective
        )
        out.append(sol)
        prev = sol.options
    return out


def _step_bound(
    inst: ProgrammeInstance,
    flows: ProgrammeFlows,
    sol: ProgrammeSolution,
    above: tuple[float, np.ndarray | None, np.ndarray | None],
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    status: str = "heuristic",
    polish_s: float = 0.0,
    arc_mask: np.ndarray | None = None,
) -> tuple[ProgrammeSolution, tuple[float, np.ndarray | None, np.ndarray | None]]:
    """One step's bound (and its master's programme when that saves more), given the step
    above's ``(bound, row prices, capacity prices)``; ``status`` when the gap stays open. With
    ``polish_s > 0`` and the gap still open, the heuristic then runs that long from the step's
    programme, guided by the Lagrangian masters' average programme."""
    cap = above[0]
    if with_bound(sol, cap, mip_rel_gap).status == "optimal":
        return with_bound(sol, cap, mip_rel_gap), above
    t0 = time.perf_counter()
    u, pi, _ = flows.prices(sol.options)
    if above[1] is not None and above[2] is not None:
        own, theirs = lagrangian_value(inst, u, pi), lagrangian_value(inst, above[1], above[2])
        if theirs < own:
            u, pi = above[1], above[2]
    lag = lagrangian_bound(
        inst,
        row_price=u,
        capacity_price=pi,
        incumbent=sol.objective,
        target_gap=mip_rel_gap,
        time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)),
    )
    if lag.options and programme_fits(inst, lag.options):
        found = flows.value(lag.options)
        if found > sol.objective + 1e-9 * max(1.0, abs(found)):
            opts = sorted(lag.options)
            sol = flows.solution(opts, status="heuristic", solve_time_s=sol.solve_time_s)
    bound = min(cap, lag.bound)
    if polish_s > 0 and with_bound(sol, bound, mip_rel_gap).status != "optimal":
        found_sol = improve_programme(
            inst,
            relaxed_y=lag.option_weight,
            start=sol.options,
            time_limit_s=polish_s,
            arc_mask=arc_mask,
            flows=flows,
        )
        if found_sol.objective > sol.objective + 1e-9 * max(1.0, abs(found_sol.objective)):
            sol = replace(found_sol, solve_time_s=sol.solve_time_s + found_sol.solve_time_s)
    logger.info(
        "curve bound: savings %.6g, bound %.6g (%d iterations)",
        sol.objective,
        bound,
        lag.iterations,
    )
    out = with_bound(sol, bound, mip_rel_gap, status)
    return out, (bound, lag.row_price, lag.capacity_price)


def bound_curve(
    full: ProgrammeInstance,
    flows: ProgrammeFlows,
    below: Sequence[ProgrammeSolution],
    best: ProgrammeSolution,
    *,
    time_limit_s: float | None,
    mip_rel_gap: float,
    polish_share: float = 0.0,
    arc_mask: np.ndarray | None = None,
) -> tuple[CurvePoint, ...]:
    """The budget curve: ``below`` (steps ``1 .. steps-1``) and ``best`` at the full budget,
    each step with a proven bound (see the module docstring).

    Parameters
    ----------
    full
        The full model.
    flows
        Exact savings cache built on ``full``.
    below
        :func:`heuristic_curve_steps`'s programmes below the full budget.
    best
        The best programme at the full budget; its bound caps every step's when its status is
        one with a proven bound (``"optimal"``, ``"time_limit"``, ``"feasible"``, else none).
    time_limit_s
        Per step (the bound gets :data:`BOUND_SHARE` of it; the full budget's step too).
    mip_rel_gap
        A step within this gap on savings is ``"optimal"``.
    polish_share
        Share of ``time_limit_s`` per step for the heuristic after the bound, guided by the
        Lagrangian (0: none); only while the step's gap is open.
    arc_mask
        ``(A,)`` assignments that heuristic's restricted MILP may use.

    Returns
    -------
    tuple of CurvePoint
        Budgets ascending; savings never fall; every bound holds for its budget. The last
        step's programme is ``best`` with the least bound found (its status kept while the gap
        is open), or the Lagrangian master's or the guided heuristic's programme where that
        saves more.
    """
    steps = len(below) + 1
    proven = best.status in _PROVEN and not math.isnan(best.bound)  # not "evaluated" etc.
    sols: list[ProgrammeSolution] = [*below, best]
    above: tuple[float, np.ndarray | None, np.ndarray | None] = (
        best.bound if proven else math.inf,
        None,
        None,
    )
    for k in range(steps, 0, -1):  # from the top down: a larger budget's bound holds
        sols[k - 1], above = _step_bound(
            scaled_budget(full, k / steps),
            flows,
            sols[k - 1],
            above,
            time_limit_s=BOUND_SHARE * _limit(time_limit_s),
            mip_rel_gap=mip_rel_gap,
            status=best.status if k == steps and proven else "heuristic",
            polish_s=polish_share * _limit(time_limit_s),
            arc_mask=arc_mask,
        )
    points: list[CurvePoint] = []
    for k, sol in enumerate(sols, start=1):
        point = curve_point(full.total_budget_gbp * k / steps, k / steps, sol, points)
        if point.solution is not sol:  # the step below's programme, with this step's bound
            point = replace(point, solution=with_bound(point.solution, sol.bound, mip_rel_gap))
        points.append(point)
    return tuple(points)


def heuristic_alternatives(
    full: ProgrammeInstance,
    flows: ProgrammeFlows,
    best: ProgrammeSolution,
    contributions: dict[int, float],
    *,
    k: int,
    time_limit_s: float | None,
    mip_rel_gap: float,
    arc_mask: np.ndarray | None = None,
) -> tuple[AlternativeProgramme, ...]:
    """Up to ``k`` alternatives: the best programme found with one of ``best``'s sites ruled out.

    Sites are tried smallest contribution first (ties: lowest option), at most ``2 k`` of them
    and until ``k`` distinct site sets are found; each try is
    :func:`~placeplan.compute.programme_heuristic.improve_programme` from ``best`` without that
    site, the site forbidden, within ``time_limit_s``. Site sets met before (or ``best``'s) are
    dropped; an empty one is kept once (a board learns that without that site nothing else is
    worth buying).

    Parameters
    ----------
    full
        The full model.
    flows
        Exact savings cache built on ``full``.
    best
        The best programme (its bound is every alternative's bound).
    contributions
        Option index → savings lost without it (:func:`~placeplan.compute.programme_study.
        site_contributions`).
    k
        How many alternatives at most.
    time_limit_s, mip_rel_gap
        Per try; the gap that counts as ``"optimal"``.
    arc_mask
        ``(A,)`` assignments the heuristic's restricted MILP may use.

    Returns
    -------
    tuple of AlternativeProgramme
        Most savings first (ties: fewer options, then lower option indices).
    """
    order = sorted(best.options, key=lambda o: (contributions.get(o, 0.0), o))
    seen = {frozenset(int(full.opt_site[o]) for o in best.options)}
    found: list[AlternativeProgramme] = []
    for tries, o in enumerate(order):
        if len(found) >= k or tries >= 2 * k:
            break
        site = int(full.opt_site[o])
        sol = improve_programme(
            full,
            start=[p for p in best.options if p != o],
            forbid_sites=[site],
            time_limit_s=_limit(time_limit_s),
            arc_mask=arc_mask,
            flows=flows,
        )
        sites = frozenset(int(full.opt_site[p]) for p in sol.options)
        if sites in seen:  # an empty programme is kept: without this site, buy nothing
            continue
        seen.add(sites)
        sol = with_bound(sol, best.bound if not math.isnan(best.bound) else math.inf, mip_rel_gap)
        found.append(AlternativeProgramme.of(sol, site))
        logger.info("alternative without %s: savings %.6g", full.site_ids[site], sol.objective)
    found.sort(key=lambda a: (-a.objective, len(a.options), a.options))
    return tuple(found[: max(0, int(k))])
