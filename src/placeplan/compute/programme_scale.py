"""Large programme models in ``placeplan optimise``: the best programme by pricing, gap on all.

A county's full model (every compatible site within reach of every demand row) has millions of
assignments; :func:`~placeplan.compute.programme.solve_programme` spends minutes on its first LP
alone. From :data:`PRICED_MIN_ARCS` assignments up, :func:`study_programme_priced` therefore

- draws the **budget curve** on the full model by the primal heuristic
  (:func:`~placeplan.compute.programme_scale_study.heuristic_curve_steps`: each step
  :func:`~placeplan.compute.programme_heuristic.improve_programme` on the budget-scaled model,
  started from the step below's programme);
- solves the **best programme** on the *full* model by column generation
  (:func:`~placeplan.compute.programme_pricing.solve_programme_priced`), starting from each
  demand row's nearest sites' assignments (``start``) and from the better of the curve's full
  budget step and greedy: its bound and gap are the full model's. It is the curve's last step;
- proves a bound per step (:func:`~placeplan.compute.programme_scale_study.bound_curve`: the
  Lagrangian bound on the scaled model, capped by the step above's, so status and gap per step
  are honest; at the full budget it can only lower the best programme's bound), then runs the
  heuristic again on the step, guided by the sites that Lagrangian's masters open;
- finds the **alternatives** by the heuristic with one chosen site ruled out at a time
  (:func:`~placeplan.compute.programme_scale_study.heuristic_alternatives`; not a proven k-best:
  the best found without that site, gap against the best programme's bound); one that saves
  more than the best programme found becomes the best (and the curve's last step), the former
  best an alternative with no site ruled out;
- measures the site contributions and the greedy heuristic on the full model (greedy first).
  Every stage shares one
  :class:`~placeplan.compute.programme_flows.ProgrammeFlows` (exact savings, flow LPs per
  connected part, cached).

Measured 2026-11-25 on the geographic county benchmark (``benchmarks/_county_geo.py``,
``county_programme_geo(0)``: 60,000 rows, 3,600 options, 1.64 m assignments; objective
``pupil_minutes``), a full study with 10 curve steps, 5 alternatives, 60 s per solve and a 1 %
gap asked, on a 2-core machine (``make bench-optimise-study`` writes the same to
``benchmarks/RESULTS.md``):

- 1,028 s in all: greedy 66 s, curve 521 s (per step a heuristic, a bound and a guided
  heuristic), best 57 s, contributions 76 s, alternatives 308 s;
- curve 5,437, 10,655, 15,796, 21,992, 26,926, 31,387, 35,605, 39,196, 42,083, 45,843
  pupil-minutes, proven gaps 2.4, 6.6, 15.2, 8.2, 7.7, 9.0, 9.1, 10.2, 11.8 and 13.6 %;
- alternatives 45,835, 45,833, 45,785, 45,651 (sites ruled out S150, S210, S297, S132) and
  the first best found, 45,690: an alternative saved more, so it became the best programme;
- greedy 10 options, 21,044, in its 60 s.

The same study with the heuristic only once per step (0.6 of the time) and no guide (same
day, machine shared with other work): gaps 3.7, 7.8, 16.5, 11.1, 13.4, 10.4, 10.7, 12.9, 13.9,
25.2 %, best 45,014. And before that (2026-11-24) the curve and the alternatives were direct
MILPs on the nearest sites' assignments: 1,433 s, curve 0, 0, 2,152, 4,181, 13,134, 16,302,
18,043, 18,043, 18,043, 41,229 (£1.6 m bought nothing), alternatives 30,578, 24,713, 24,582,
25,594 and one empty, greedy nothing in 60 s, contributions 362 s.

What is left is the bound's: at 60 s per solve the Lagrangian gets ~150 iterations per step
where ~450 bring it to its limit (:mod:`~placeplan.compute.programme_lagrange`; ~50,080 at the
full budget, still ~6 % above the best programme known, 47,153), and closing that needs
branching. A longer ``time_limit_s`` narrows the gaps; the best programme alone, at 270 s, is
in ``benchmarks/RESULTS.md``.

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

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution, saves_more
from placeplan.compute.programme_flows import ProgrammeFlows
from placeplan.compute.programme_pricing import solve_programme_priced
from placeplan.compute.programme_scale_study import (
    POLISH_SHARE,
    AlternativeProgramme,
    bound_curve,
    heuristic_alternatives,
    heuristic_curve_steps,
    with_bound,
)
from placeplan.compute.programme_study import (
    CurvePoint,
    StudyParts,
    curve_point,
    greedy_programme,
    site_contributions,
)

__all__ = [
    "PRICED_MIN_ARCS",
    "PRICING_START_NEAREST",
    "arcs_within",
    "promote_alternative",
    "study_programme_priced",
    "use_pricing",
]

logger = logging.getLogger(__name__)

#: Full models with at least this many assignments take the priced path.
PRICED_MIN_ARCS = 20_000
#: Nearest sites per demand row pricing starts from when ``optimise.nearest_sites`` is unset.
PRICING_START_NEAREST = 5

#: An alternative programme's type (each study path lists its own).
A = TypeVar("A", bound=ProgrammeSolution)


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
        ``(A,)`` mask of ``full``'s assignments to start pricing from, and the arcs the
        heuristic's restricted MILP uses for the curve and the alternatives (each row's
        nearest sites; their savings are always on every arc).
    steps, k, time_limit_s, mip_rel_gap
        Budget-curve steps, alternatives, time limit per solve (the priced solve's whole
        limit; a curve step's heuristic and bound together; one alternative), relative gap.

    Returns
    -------
    tuple
        Best programme (bound and gap on the full model), site contributions, budget curve
        (bound, gap and status per step), alternatives
        (:class:`~placeplan.compute.programme_scale_study.AlternativeProgramme`: the site
        ruled out), greedy programme, timings; every programme's flows are on ``full``'s
        assignments.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    flows = ProgrammeFlows(full)  # exact savings per connected part, shared by every stage
    greedy = greedy_programme(full, time_limit_s=time_limit_s, flows=flows)
    timings["greedy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    below = heuristic_curve_steps(
        full, flows, steps=steps, time_limit_s=time_limit_s, arc_mask=start
    )
    timings["curve"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    start_sol = max([*below[-1:], greedy], key=lambda s: s.objective)
    best = solve_programme_priced(
        full,
        initial_arcs=start,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        fallback=start_sol,
    )
    timings["best"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    curve = bound_curve(
        full,
        flows,
        below[:-1],
        best,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        polish_share=POLISH_SHARE,
        arc_mask=start,
    )
    best = curve[-1].solution  # its bound lowered by the full budget's Lagrangian step
    timings["curve"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    contributions = site_contributions(full, best, flows=flows)
    timings["contributions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    alts = heuristic_alternatives(
        full,
        flows,
        best,
        contributions,
        k=k,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        arc_mask=start,
    )
    timings["alternatives"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    best, contributions, curve, alts = promote_alternative(
        full,
        (best, contributions, curve, alts),
        mip_rel_gap,
        demote=lambda sol: AlternativeProgramme.of(sol, -1),  # no site ruled out
        order=lambda a: (-a.objective, len(a.options), a.options),
        flows=flows,
    )
    timings["contributions"] += time.perf_counter() - t0
    return best, contributions, curve, alts, greedy, timings


def promote_alternative(
    inst: ProgrammeInstance,
    parts: tuple[ProgrammeSolution, dict[int, float], tuple[CurvePoint, ...], tuple[A, ...]],
    mip_rel_gap: float,
    *,
    demote: Callable[[ProgrammeSolution], A],
    order: Callable[[A], Any],
    flows: ProgrammeFlows | None = None,
) -> tuple[ProgrammeSolution, dict[int, float], tuple[CurvePoint, ...], tuple[A, ...]]:
    """The first alternative as the best programme when it saves more than the best found.

    A best found with a gap (stopped at the time limit, or by the heuristic) can be beaten by
    a later solve. The alternative that saves more (:func:`~placeplan.compute.programme.
    saves_more`: a tie within solver tolerance is no better, and the best found first stays)
    becomes the best programme with the best's bound and status (the alternatives' bounds hold
    only with their sites ruled out) and the curve's last step; its site contributions are
    measured again; the former best becomes an alternative. Both study paths promote here.

    Parameters
    ----------
    inst
        The programme model.
    parts
        The best programme, its site contributions, the budget curve (the best is its last
        step) and the alternatives, best first.
    mip_rel_gap
        Relative gap on savings under which the promoted programme is ``"optimal"``.
    demote
        The former best as an alternative (the alternatives' type).
    order
        Sort key of the alternatives (the order the study lists them in).
    flows
        Exact savings on ``inst`` to reuse for the contributions (default: built afresh).

    Returns
    -------
    tuple
        ``parts`` itself when no alternative saves more; else the new best programme (a plain
        :class:`~placeplan.compute.programme.ProgrammeSolution`), its contributions, the curve
        with its last step replaced and the other alternatives with the former best, in
        ``order``.
    """
    best, _, curve, alts = parts
    if not alts or not saves_more(alts[0].objective, best.objective):
        return parts
    top = alts[0]
    logger.info(
        "optimise: an alternative saves %.6g, more than the best found (%.6g): it is the best "
        "programme now",
        top.objective,
        best.objective,
    )
    plain = top.as_solution() if isinstance(top, AlternativeProgramme) else top
    new_best = with_bound(plain, best.bound, mip_rel_gap, best.status)
    last = curve[-1]
    curve = (*curve[:-1], curve_point(last.budget_gbp, last.budget_scale, new_best, curve[:-1]))
    rest = tuple(sorted([*alts[1:], demote(best)], key=order))
    return new_best, site_contributions(inst, new_best, flows=flows), curve, rest
