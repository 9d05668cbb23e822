"""Large programme models in ``placeplan optimise``: the best programme by pricing, gap on all.

A county's full model (every compatible site within reach of every demand row) has millions of
assignments; :func:`~placeplan.compute.programme.solve_programme` spends minutes on its first LP
alone. From :data:`PRICED_MIN_ARCS` assignments up, :func:`study_programme_priced` therefore

- solves the **best programme** on the *full* model by column generation
  (:func:`~placeplan.compute.programme_pricing.solve_programme_priced`), starting from each
  demand row's nearest sites' assignments (``start``): its bound and gap are the full model's;
- draws the **budget curve** and the **alternatives** on the nearest sites' assignments only (a
  reduced model, one MILP per step or alternative), then re-solves each programme's flows on
  every assignment: those programmes' savings are the full model's, but their gaps are unknown
  (``nan``, status ``"evaluated"``) — they were optimised on the reduced model;
- measures the site contributions and the greedy heuristic on the full model (greedy first:
  the better of its programme and the curve's last is the priced MILP's starting incumbent).

Known weakness, measured 2026-11-24 on the geographic county benchmark (10 curve steps, 5
alternatives, 60 s per solve, 1,433 s in all): the best programme goes through the heuristic
and the Lagrangian bound, but the curve and the alternatives are still direct MILPs on the
reduced model, and at this scale they are poor (the curve's step at 90 % of the budget saved
18,043 pupil-minutes against 41,229 at 100 %; one alternative came back empty). Solving each
step and alternative like the best programme is the next piece of work.

Below the threshold the full model is solved directly and exactly
(:func:`~placeplan.compute.programme_plan.study_programme`).

Threshold (:data:`PRICED_MIN_ARCS` = 20,000 assignments), measured 2026-11-24 on the
geographic county generator (``benchmarks/_county_geo.py``, objective ``pupil_minutes``) cut to
fewer demand points, 1 % gap asked, same time limit for both paths, shared 2-core machine (the
priced column re-measured after the Lagrangian stage and the heuristic were added; the direct
path did not change):

======== ============ ====================== ======================
points   assignments  direct (B&B bound)     priced (Lagrangian bound)
======== ============ ====================== ======================
20       7,460        30 s, gap 5.2 %        30 s (took 48), 14.1 %
100      35,364       60 s, gap 3,934 %      60 s (took 65), 12.7 %
300      108,164      120 s, gap 4,059 %     120 s (took 111), 8.9 %
======== ============ ====================== ======================

The priced bound is the Lagrangian relaxation's with the site choice kept
(:mod:`~placeplan.compute.programme_lagrange`), not a branch-and-bound one, so on small models
the direct path proves more (the Isle of Wight sample: direct 0 %); from some tens of thousands
of assignments the direct MILP's bound does not come down within minutes at all. Both are
valid bounds on the full model: the threshold decides which gap a board sees, never whether it
is honest.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution, evaluate_programme
from placeplan.compute.programme_pricing import solve_programme_priced
from placeplan.compute.programme_study import (
    CurvePoint,
    StudyParts,
    alternatives,
    budget_curve,
    curve_point,
    greedy_programme,
    site_contributions,
)

__all__ = [
    "PRICED_MIN_ARCS",
    "PRICING_START_NEAREST",
    "arcs_within",
    "study_programme_priced",
    "use_pricing",
]

#: Full models with at least this many assignments take the priced path.
PRICED_MIN_ARCS = 20_000
#: Nearest sites per demand row pricing starts from when ``optimise.nearest_sites`` is unset.
PRICING_START_NEAREST = 5


def use_pricing(inst: ProgrammeInstance, min_arcs: int | None = None) -> bool:
    """Whether ``inst`` is large enough for the priced path (``min_arcs`` default
    :data:`PRICED_MIN_ARCS`)."""
    return len(inst.arc_row) >= (PRICED_MIN_ARCS if min_arcs is None else int(min_arcs))


def arcs_within(full: ProgrammeInstance, part: ProgrammeInstance) -> np.ndarray:
    """``(A,)`` True for each of ``full``'s assignments that ``part`` also has (same demand
    rows and sites, e.g. ``part`` built with ``nearest_sites``)."""
    n_s = len(full.site_ids)
    return np.isin(
        full.arc_row.astype(np.int64) * n_s + full.arc_site,
        part.arc_row.astype(np.int64) * n_s + part.arc_site,
    )


def _on_full(full: ProgrammeInstance, sol: ProgrammeSolution) -> ProgrammeSolution:
    ev = evaluate_programme(full, sol.options)
    return replace(ev, bound=math.nan, gap=math.nan, solve_time_s=sol.solve_time_s)


def _curve_on_full(
    full: ProgrammeInstance, curve: tuple[CurvePoint, ...], best: ProgrammeSolution
) -> tuple[CurvePoint, ...]:
    """The reduced model's curve with each programme's flows re-solved on every assignment;
    the last step is ``best``; a step below the one before takes that programme (it fits)."""
    out: list[CurvePoint] = []
    for i, p in enumerate(curve):
        sol = best if i == len(curve) - 1 else _on_full(full, p.solution)
        out.append(curve_point(p.budget_gbp, p.budget_scale, sol, out))
    return tuple(out)


def study_programme_priced(
    full: ProgrammeInstance,
    start: np.ndarray,
    *,
    steps: int,
    k: int,
    time_limit_s: float | None,
    mip_rel_gap: float,
) -> StudyParts:
    """What :func:`~placeplan.compute.programme_plan.study_programme` returns, for a large model.

    Parameters
    ----------
    full
        The full model.
    start
        ``(A,)`` mask of ``full``'s assignments to start pricing from and to draw the curve and
        alternatives on (each row's nearest sites).
    steps, k, time_limit_s, mip_rel_gap
        Budget-curve steps, alternatives, time limit per solve (the priced solve's whole
        limit), relative gap.

    Returns
    -------
    tuple
        Best programme (bound and gap on the full model), site contributions, budget curve,
        alternatives, greedy programme, timings; every programme's flows are on ``full``'s
        assignments.
    """
    timings: dict[str, float] = {}
    reduced = replace(
        full,
        arc_row=full.arc_row[start],
        arc_site=full.arc_site[start],
        arc_value=full.arc_value[start],
    )
    t0 = time.perf_counter()
    curve = budget_curve(reduced, steps=steps, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    timings["curve"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = greedy_programme(full, time_limit_s=time_limit_s)
    timings["greedy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    start_sol = max(_on_full(full, curve[-1].solution), greedy, key=lambda s: s.objective)
    best = solve_programme_priced(
        full,
        initial_arcs=start,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        fallback=start_sol,
    )
    timings["best"] = time.perf_counter() - t0
    curve = _curve_on_full(full, curve, best)
    t0 = time.perf_counter()
    contributions = site_contributions(full, best)
    timings["contributions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    alts = alternatives(reduced, best, k=k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    alts = tuple(_on_full(full, a) for a in alts)
    timings["alternatives"] = time.perf_counter() - t0
    return best, contributions, curve, alts, greedy, timings
