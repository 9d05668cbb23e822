"""Capital programme optimisation: which sites, what size, opening when, within a budget per year.

The model (HiGHS MILP through ``placeplan.compute._solver``) chooses at most one *option* per
candidate site — an option is a (site, size, opening year) with its places and capital cost — and
assigns future demand to the opened places, year by year:

.. code-block:: text

    max  Σ_a v_a x_a + Σ_o w_o y_o                      (savings against doing nothing)
    s.t. Σ_{o ∈ site j} y_o <= 1                         (one size and opening year per site)
         Σ_{a ∈ row r} x_a <= n_r                        (each demand row placed at most once)
         Σ_{a ∈ site j} x_a p_ry / n_r <= Σ_{o ∈ j, open_o <= y} places_o y_o   (each year y)
         x_a <= Σ_{o ∈ j, open_o <= e_r} min(n_r, places_o) y_o   (strong linking, optional)
         Σ_{o: fy_o = f} capital_o y_o <= B_f            (each financial year; cumulative with
                                                          ``carry_forward``)
         Σ_{o: fy_o = f} places_o y_o <= P_f             (places cut: P_f the most places B_f
                                                          buys in whole sizes; valid, tightens
                                                          the relaxation)
         y binary, x >= 0

A demand row ``r`` is a group of pupils (home origin × need × phase × year of entry ``e_r``) that
the baseline placement-flow run places out of area or in independent provision; ``p_ry`` of its
``n_r`` pupils are still in that placement in year ``y`` (:mod:`placeplan.compute.programme_demand`
builds rows and values). An arc ``a = (r, j)`` exists only where site ``j`` serves the row's need
and phase within the reasonable maximum journey, so journey limits are constraints. ``v_a`` is the
objective's value per pupil moved (pupil-years of out-of-area placement avoided, £ saved, pupil-
minutes saved, pupil-years brought within the reasonable maximum) and ``w_o`` is ``-capital_o``
for the net-saving objective, else 0.

Gap on savings
--------------
Doing nothing (no site opened) scores exactly 0 on every objective, so the objective *is* the
saving and no constant dilutes the gap: ``gap = (bound - savings) / savings``, where ``bound`` is
HiGHS's proven upper bound on the savings (``inf`` when the savings are 0 and the bound is not).
A gap of 1 % means the programme returned is proven to achieve at least 99 % of the best
achievable savings.

A tiny tie-break charge on capital (:data:`CAPITAL_TIEBREAK` × the largest value per pupil ×
the option's capital / the dearest option's capital, per option opened) makes the solver prefer
the cheapest of equally good programmes, so it no longer spends budget that buys nothing;
reported objectives and gaps leave it out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from placeplan._errors import ConfigError, InfeasibleModelError, SchemaValidationError
from placeplan.compute._solver import solve
from placeplan.compute.programme_presolve import MergedRows, merge_rows, places_cuts

__all__ = [
    "CAPITAL_TIEBREAK",
    "ProgrammeInstance",
    "ProgrammeSolution",
    "Relaxation",
    "evaluate_programme",
    "merged_rows",
    "options_within_budget",
    "presolved",
    "relaxation",
    "saves_more",
    "solve_programme",
]

logger = logging.getLogger(__name__)

#: Weight of the capital tie-break per option, relative to the largest value per pupil.
CAPITAL_TIEBREAK = 1e-5

_TOL = 1e-7


def saves_more(first: float, second: float) -> bool:
    """True when savings ``first`` exceed ``second`` beyond solver tolerance (1e-7, relative):
    two programmes that tie within it are equally good, and the one found first stays."""
    return first > second + _TOL * max(1.0, abs(second))


@dataclass(frozen=True, slots=True)
class ProgrammeInstance:
    """A programme model as arrays (the numpy core's input).

    Attributes
    ----------
    site_ids
        ``(J,)`` candidate site ids.
    years
        ``(Y,)`` academic start years modelled (2027 = 2027/28), ascending.
    fy_labels
        ``(F,)`` financial years of the budget, e.g. ``("2026-27", ...)``, ascending.
    budget_by_fy_gbp
        ``(F,)`` capital budget per financial year (£).
    opt_site, opt_places, opt_open, opt_fy, opt_capital_gbp
        ``(O,)`` per option: site index, places, opening-year index into ``years``, financial-
        year index into ``fy_labels`` (the year its capital is spent), capital cost (£).
    opt_value
        ``(O,)`` objective value of opening the option itself (``-capital`` for net saving).
    row_count
        ``(R,)`` pupils in each demand row (may be fractional: expected pupils).
    row_entry
        ``(R,)`` year index at which the row's pupils need a place.
    row_present
        ``(R, Y)`` pupils of the row in the placement in each year (0 before entry).
    arc_row, arc_site
        ``(A,)`` the allowed (row, site) assignments.
    arc_value
        ``(A,)`` objective value per pupil of the row placed at the site.
    carry_forward
        Capital not spent in a financial year may be spent in a later one.
    objective
        Name of the objective the values measure (for reports).
    """

    site_ids: tuple[str, ...]
    years: tuple[int, ...]
    fy_labels: tuple[str, ...]
    budget_by_fy_gbp: np.ndarray
    opt_site: np.ndarray
    opt_places: np.ndarray
    opt_open: np.ndarray
    opt_fy: np.ndarray
    opt_capital_gbp: np.ndarray
    opt_value: np.ndarray
    row_count: np.ndarray
    row_entry: np.ndarray
    row_present: np.ndarray
    arc_row: np.ndarray
    arc_site: np.ndarray
    arc_value: np.ndarray
    carry_forward: bool = False
    objective: str = "ooa_avoided"

    def __post_init__(self) -> None:
        n_o, n_r, n_a = len(self.opt_site), len(self.row_count), len(self.arc_row)
        shapes = {
            "opt_places": (self.opt_places, n_o),
            "opt_open": (self.opt_open, n_o),
            "opt_fy": (self.opt_fy, n_o),
            "opt_capital_gbp": (self.opt_capital_gbp, n_o),
            "opt_value": (self.opt_value, n_o),
            "row_entry": (self.row_entry, n_r),
            "arc_site": (self.arc_site, n_a),
            "arc_value": (self.arc_value, n_a),
            "budget_by_fy_gbp": (self.budget_by_fy_gbp, len(self.fy_labels)),
        }
        bad = [k for k, (v, n) in shapes.items() if np.shape(v) != (n,)]
        if np.shape(self.row_present) != (n_r, len(self.years)):
            bad.append("row_present")
        if bad:
            msg = f"ProgrammeInstance: {', '.join(bad)} have the wrong shape; rebuild the instance"
            raise SchemaValidationError(msg)
        if (np.asarray(self.budget_by_fy_gbp) < 0).any() or (self.opt_capital_gbp < 0).any():
            msg = "ProgrammeInstance: budgets and capital costs must be >= 0 (£)"
            raise SchemaValidationError(msg)

    @property
    def total_budget_gbp(self) -> float:
        """The whole capital budget over all financial years (£)."""
        return float(np.sum(self.budget_by_fy_gbp))


@dataclass(frozen=True, slots=True)
class ProgrammeSolution:
    """A capital programme and what it achieves.

    Attributes
    ----------
    options
        Option indices opened (into the instance's ``opt_*`` arrays), ascending.
    objective
        Savings against doing nothing, in the objective's unit (0 = do nothing).
    bound
        Proven upper bound on the savings (equal to ``objective`` when proven optimal).
    gap
        ``(bound - objective) / objective`` (0 when optimal; ``inf`` when the savings are 0 and
        the bound is not).
    status
        ``"optimal"``, ``"time_limit"`` (best found at the time limit, with its gap),
        ``"feasible"`` (large models: every stage ended before the limit, gap not closed),
        ``"evaluated"`` (a given programme's flows, solved exactly as an LP) or
        ``"heuristic"``/``"greedy"`` (no bound).
    capital_by_fy_gbp
        ``(F,)`` capital spent per financial year.
    flows
        ``(A,)`` pupils assigned on each arc.
    solve_time_s
        Seconds in the solver.
    """

    options: tuple[int, ...]
    objective: float
    bound: float
    gap: float
    status: str
    capital_by_fy_gbp: np.ndarray
    flows: np.ndarray = field(repr=False)
    solve_time_s: float = 0.0

    @property
    def capital_gbp(self) -> float:
        """Total capital spent (£)."""
        return float(np.sum(self.capital_by_fy_gbp))

    def bounded(
        self, bound: float, status: str, *, mip_rel_gap: float | None = None
    ) -> ProgrammeSolution:
        """This programme with a proven ``bound`` on its savings: the one rule for the gap.

        ``gap = (bound - objective) / objective``; 0 when the bound is within 1e-7 (relative)
        of the savings; ``inf`` when the bound is infinite, or above savings that are not
        positive. A bound below the savings (solver tolerance) is raised to them. With
        ``mip_rel_gap`` the status is ``"optimal"`` when the gap is within it, else ``status``.
        """
        bound = max(float(bound), self.objective)
        if math.isfinite(bound) and bound - self.objective <= _TOL * max(1.0, abs(bound)):
            gap = 0.0
        elif not math.isfinite(bound) or self.objective <= 0:
            gap = math.inf
        else:
            gap = (bound - self.objective) / self.objective
        if mip_rel_gap is not None and gap <= mip_rel_gap + 1e-9:
            status = "optimal"
        return replace(self, bound=bound, gap=gap, status=status)


def _site_sets(inst: ProgrammeInstance, options: Sequence[int]) -> frozenset[int]:
    return frozenset(int(inst.opt_site[o]) for o in options)


def _arc_option_pairs(inst: ProgrammeInstance, arcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (arc position, option) where the option's site is the arc's and opens by entry."""
    order = np.argsort(inst.opt_site, kind="stable")
    sorted_site = inst.opt_site[order]
    a_site = inst.arc_site[arcs]
    start = np.searchsorted(sorted_site, a_site, side="left")
    stop = np.searchsorted(sorted_site, a_site, side="right")
    n_per = stop - start
    ka = np.repeat(np.arange(len(arcs)), n_per)
    offs = np.arange(int(n_per.sum())) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    ko = order[np.repeat(start, n_per) + offs]
    keep = inst.opt_open[ko] <= inst.row_entry[inst.arc_row[arcs[ka]]]
    return ka[keep], ko[keep]


@dataclass(frozen=True, slots=True)
class _Model:
    c: np.ndarray
    a: sp.csc_matrix
    lo: np.ndarray
    hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    arcs: np.ndarray  # arc indices kept, column n_o + k is arc arcs[k]


def _rows_capacity(
    inst: ProgrammeInstance, arcs: np.ndarray, n_o: int, first_row: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], int]:
    """Capacity rows per (site, year): flow occupancy minus places opened by then <= 0."""
    n_y = len(inst.years)
    share = inst.row_present / np.maximum(inst.row_count, 1e-12)[:, None]  # R x Y
    a_row, a_site = inst.arc_row[arcs], inst.arc_site[arcs]
    sites = np.unique(np.concatenate([a_site, inst.opt_site]))
    s_of_arc = np.searchsorted(sites, a_site)
    s_of_opt = np.searchsorted(sites, inst.opt_site)
    rr, cc, vv = [], [], []
    for y in range(n_y):
        w = share[a_row, y]
        on = w > 0
        rr.append(first_row + s_of_arc[on] * n_y + y)
        cc.append(n_o + np.flatnonzero(on))
        vv.append(w[on])
        opened = inst.opt_open <= y
        rr.append(first_row + s_of_opt[opened] * n_y + y)
        cc.append(np.flatnonzero(opened))
        vv.append(-inst.opt_places[opened])
    return rr, cc, vv, len(sites) * n_y


def _tiebreak(inst: ProgrammeInstance) -> np.ndarray:
    """``(O,)`` the capital tie-break charge per option (see the module docstring)."""
    scale = max(1.0, float(np.abs(inst.arc_value).max(initial=0.0)))
    dearest = max(1.0, float(inst.opt_capital_gbp.max(initial=0.0)))
    return CAPITAL_TIEBREAK * scale * inst.opt_capital_gbp / dearest


def _rows_places(
    inst: ProgrammeInstance, y_hi: np.ndarray, budget: np.ndarray, first_row: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """Places cuts (:func:`~placeplan.compute.programme_presolve.places_cuts`) as rows."""
    cuts = places_cuts(
        inst.opt_site,
        inst.opt_places,
        inst.opt_fy,
        inst.opt_capital_gbp,
        y_hi > 0,
        budget,
        carry_forward=inst.carry_forward,
    )
    return [
        (np.full(idx.size, first_row + k), idx, inst.opt_places[idx], most)
        for k, (idx, most) in enumerate(cuts)
    ]


def _build(
    inst: ProgrammeInstance,
    *,
    y_lo: np.ndarray,
    y_hi: np.ndarray,
    budget_scale: float,
    min_objective: float | None,
    exclude: Sequence[frozenset[int]],
    strong: bool,
) -> _Model:
    """The MILP's arrays; options with ``y_hi == 0`` keep their columns (fixed at 0)."""
    n_o = len(inst.opt_site)
    site_open_possible = np.zeros(len(inst.site_ids), dtype=bool)
    site_open_possible[inst.opt_site[y_hi > 0]] = True
    arcs = np.flatnonzero(site_open_possible[inst.arc_site] & (inst.arc_value > 0))
    n_a = len(arcs)
    a_row = inst.arc_row[arcs]
    n_r = len(inst.row_count)
    rr: list[np.ndarray] = []
    cc: list[np.ndarray] = []
    vv: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    n_rows = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        rr.append(np.asarray(r, dtype=int))
        cc.append(np.asarray(c, dtype=int))
        vv.append(np.asarray(v, dtype=float))

    # one option per site
    add(inst.opt_site, np.arange(n_o), np.ones(n_o))
    n_sites = len(inst.site_ids)
    lo.append(np.full(n_sites, -np.inf))
    hi.append(np.ones(n_sites))
    n_rows += n_sites
    # each row placed at most once
    add(n_rows + a_row, n_o + np.arange(n_a), np.ones(n_a))
    lo.append(np.full(n_r, -np.inf))
    hi.append(inst.row_count.astype(float))
    n_rows += n_r
    # capacity per site and year
    r_c, c_c, v_c, n_cap = _rows_capacity(inst, arcs, n_o, n_rows)
    for r, c, v in zip(r_c, c_c, v_c, strict=True):
        add(r, c, v)
    lo.append(np.full(n_cap, -np.inf))
    hi.append(np.zeros(n_cap))
    n_rows += n_cap
    if strong and n_a:
        # x_a <= Σ_{o in site, open_o <= entry_r} min(n_r, places_o) y_o
        ka, ko = _arc_option_pairs(inst, arcs)
        add(n_rows + np.arange(n_a), n_o + np.arange(n_a), np.ones(n_a))
        add(n_rows + ka, ko, -np.minimum(inst.row_count[a_row[ka]], inst.opt_places[ko]))
        lo.append(np.full(n_a, -np.inf))
        hi.append(np.zeros(n_a))
        n_rows += n_a
    # capital per financial year (cumulative with carry-forward)
    n_f = len(inst.fy_labels)
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float) * budget_scale
    for f in range(n_f):
        sel = inst.opt_fy <= f if inst.carry_forward else inst.opt_fy == f
        add(np.full(int(sel.sum()), n_rows + f), np.flatnonzero(sel), inst.opt_capital_gbp[sel])
    lo.append(np.full(n_f, -np.inf))
    hi.append(np.cumsum(budget) if inst.carry_forward else budget)
    n_rows += n_f
    for r, c, v, limit in _rows_places(inst, y_hi, budget, n_rows):
        add(r, c, v)
        lo.append(np.array([-np.inf]))
        hi.append(np.array([limit]))
        n_rows += 1
    value = np.concatenate([inst.opt_value, inst.arc_value[arcs]])
    if min_objective is not None:
        add(np.full(n_o + n_a, n_rows), np.arange(n_o + n_a), value)
        lo.append(np.array([min_objective]))
        hi.append(np.array([np.inf]))
        n_rows += 1
    for s_set in exclude:  # no-good cut: Σ_{j in S} z_j - Σ_{j not in S} z_j <= |S| - 1
        sign = np.where(np.isin(inst.opt_site, list(s_set)), 1.0, -1.0)
        add(np.full(n_o, n_rows), np.arange(n_o), sign)
        lo.append(np.array([-np.inf]))
        hi.append(np.array([len(s_set) - 1.0]))
        n_rows += 1
    a = sp.csc_matrix(
        (np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))), shape=(n_rows, n_o + n_a)
    )
    x_hi = inst.row_count[a_row].astype(float)
    return _Model(
        c=np.concatenate([inst.opt_value - _tiebreak(inst), inst.arc_value[arcs]]),
        a=a,
        lo=np.concatenate(lo),
        hi=np.concatenate(hi),
        col_lo=np.concatenate([y_lo, np.zeros(n_a)]),
        col_hi=np.concatenate([y_hi, x_hi]),
        integer=np.concatenate([np.ones(n_o, dtype=bool), np.zeros(n_a, dtype=bool)]),
        arcs=arcs,
    )


def _solution(
    inst: ProgrammeInstance,
    model: _Model,
    x: np.ndarray,
    bound: float | None,
    status: str,
    t: float,
) -> ProgrammeSolution:
    n_o = len(inst.opt_site)
    y = np.round(x[:n_o]) > 0.5
    flows = np.zeros(len(inst.arc_row))
    flows[model.arcs] = np.maximum(x[n_o:], 0.0)
    objective = float(inst.opt_value[y].sum() + inst.arc_value @ flows)
    if abs(objective) < _TOL:
        objective = 0.0
    cap = np.zeros(len(inst.fy_labels))
    np.add.at(cap, inst.opt_fy[y], inst.opt_capital_gbp[y])
    sol = ProgrammeSolution(
        options=tuple(int(o) for o in np.flatnonzero(y)),
        objective=objective,
        bound=objective,
        gap=0.0,
        status=status,
        capital_by_fy_gbp=cap,
        flows=flows,
        solve_time_s=t,
    )
    return sol.bounded(objective if bound is None else bound, status)


def solve_programme(
    inst: ProgrammeInstance,
    *,
    budget_scale: float = 1.0,
    min_objective: float | None = None,
    exclude_site_sets: Sequence[frozenset[int]] = (),
    fixed_off_sites: Sequence[int] = (),
    strong_linking: bool | None = None,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    fallback: ProgrammeSolution | None = None,
) -> ProgrammeSolution:
    """Choose the capital programme (sites, sizes, opening years) with the largest savings.

    Parameters
    ----------
    inst
        The model's arrays (:class:`ProgrammeInstance`).
    budget_scale
        Multiplies every financial year's budget (the budget curve's steps), >= 0.
    min_objective
        The savings must reach at least this (the budget curve's monotonicity row).
    exclude_site_sets
        Sets of site indices the programme must differ from (no-good cuts: the k best distinct
        sets).
    fixed_off_sites
        Site indices that must stay closed.
    strong_linking
        Add the per-arc linking rows (tighter relaxation, more rows). Default: when the model
        has at most 200,000 arcs.
    time_limit_s
        Wall-clock limit for HiGHS; at the limit the best programme found is returned with
        ``status="time_limit"`` and its gap.
    mip_rel_gap
        Relative gap on the savings at which HiGHS stops (0 = proven optimal).
    fallback
        A programme known to be feasible for this model (e.g. the previous budget step's, or
        a heuristic's): handed to HiGHS as its starting incumbent (a warm start), and returned
        if HiGHS stops at the time limit without a better one.

    Returns
    -------
    ProgrammeSolution
        The programme, its savings, bound, gap on savings and status.

    Raises
    ------
    ConfigError
        ``budget_scale`` negative or not finite.
    InfeasibleModelError
        HiGHS found the model infeasible (e.g. ``min_objective`` or the cuts exclude every
        programme) or failed, or stopped at the time limit with no programme and no fallback.

    Examples
    --------
    >>> from placeplan.compute.programme_synthetic import synthetic_programme
    >>> sol = solve_programme(synthetic_programme(n_rows=6, n_sites=3, seed=1))
    >>> sol.status, sol.gap
    ('optimal', 0.0)
    """
    if not (math.isfinite(budget_scale) and budget_scale >= 0):
        msg = f"`budget_scale` must be a finite number >= 0; got {budget_scale!r}."
        raise ConfigError(msg)
    return _solve_model(
        inst,
        np.zeros(len(inst.opt_site)),
        _y_upper(inst, budget_scale, fixed_off_sites),
        budget_scale=budget_scale,
        min_objective=min_objective,
        exclude=exclude_site_sets,
        strong=strong_linking,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        fallback=fallback,
    )


def _y_upper(
    inst: ProgrammeInstance, budget_scale: float, fixed_off_sites: Sequence[int]
) -> np.ndarray:
    """``(O,)`` 1 for options that may open: site not fixed off, capital within its year."""
    y_hi = options_within_budget(inst, budget_scale)
    y_hi[np.isin(inst.opt_site, list(fixed_off_sites))] = 0.0
    return y_hi


def options_within_budget(inst: ProgrammeInstance, budget_scale: float = 1.0) -> np.ndarray:
    """``(O,)`` 1.0 for each option whose capital fits its financial year's (scaled) budget
    (cumulative with ``carry_forward``), else 0.0."""
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float) * budget_scale
    limit = np.cumsum(budget)[inst.opt_fy] if inst.carry_forward else budget[inst.opt_fy]
    return np.where(inst.opt_capital_gbp > limit * (1 + 1e-12) + 1e-9, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class Relaxation:
    """The model's LP relaxation (options may open in part) and its prices.

    Attributes
    ----------
    value
        The relaxation's optimum: a proven upper bound on the savings of every programme.
    row_price
        ``(R,)`` value of one more pupil of each demand row (dual of its row, >= 0).
    capacity_price
        ``(J, Y)`` value of one more place at each site in each year (dual, >= 0).
    site_can_open
        ``(J,)`` False for sites none of whose options fits the budget (no pupil can go there).
    option_value
        ``(O,)`` how much of each option the relaxation opens (a guide for heuristics).
    """

    value: float
    row_price: np.ndarray
    capacity_price: np.ndarray
    site_can_open: np.ndarray
    option_value: np.ndarray


def relaxation(inst: ProgrammeInstance, *, budget_scale: float = 1.0) -> Relaxation:
    """Solve the LP relaxation (with the places cuts; no per-arc linking rows; no presolve).

    Parameters
    ----------
    inst
        The model's arrays (a subset of arcs prices the rest: ``programme_pricing``).
    budget_scale
        Multiplies every financial year's budget.

    Returns
    -------
    Relaxation

    Raises
    ------
    InfeasibleModelError
        HiGHS did not solve the LP to optimality.
    """
    y_hi, n_o = _y_upper(inst, budget_scale, ()), len(inst.opt_site)
    kw = {"budget_scale": budget_scale, "min_objective": None, "exclude": (), "strong": False}
    model = _build(inst, y_lo=np.zeros(n_o), y_hi=y_hi, **kw)  # type: ignore[arg-type]
    c = np.concatenate([inst.opt_value, model.c[n_o:]])  # no capital tie-break in a bound
    res = solve(c, model.a, model.lo, model.hi, model.col_lo, model.col_hi, sense="max")
    if res.status != "optimal" or res.row_dual is None or res.objective is None:
        msg = f"programme relaxation: HiGHS ended with {res.status!r} ({res.message})"
        raise InfeasibleModelError(msg)
    n_s, n_r, n_y = len(inst.site_ids), len(inst.row_count), len(inst.years)
    sites = np.unique(np.concatenate([inst.arc_site[model.arcs], inst.opt_site]))
    cap = np.zeros((n_s, n_y))
    first = n_s + n_r
    cap[sites] = res.row_dual[first : first + len(sites) * n_y].reshape(len(sites), n_y)
    can_open = np.zeros(n_s, dtype=bool)
    can_open[inst.opt_site[y_hi > 0]] = True
    y = np.zeros(n_o) if res.x is None else np.clip(res.x[:n_o], 0.0, 1.0)
    return Relaxation(float(res.objective), res.row_dual[n_s : n_s + n_r], cap, can_open, y)


def _solve_model(
    inst: ProgrammeInstance,
    y_lo: np.ndarray,
    y_hi: np.ndarray,
    *,
    budget_scale: float,
    min_objective: float | None,
    exclude: Sequence[frozenset[int]],
    strong: bool | None,
    time_limit_s: float | None,
    mip_rel_gap: float,
    fallback: ProgrammeSolution | None,
    presolve: bool = True,
) -> ProgrammeSolution:
    t0 = time.perf_counter()
    original = inst
    merged = merged_rows(inst) if presolve else _identity_merge(inst)
    inst = _with_rows(inst, merged)
    if strong is None:
        possible = np.zeros(len(inst.site_ids), dtype=bool)
        possible[inst.opt_site[y_hi > 0]] = True
        strong = int(possible[inst.arc_site].sum()) <= 200_000
    model = _build(
        inst,
        y_lo=y_lo,
        y_hi=y_hi,
        budget_scale=budget_scale,
        min_objective=min_objective,
        exclude=exclude,
        strong=strong,
    )
    res = solve(
        model.c,
        model.a,
        model.lo,
        model.hi,
        model.col_lo,
        model.col_hi,
        model.integer,
        sense="max",
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        start=_start(original, merged, model, fallback),
    )
    elapsed = time.perf_counter() - t0
    if res.x is not None and res.status in ("optimal", "time_limit"):
        sol = _solution(inst, model, res.x, res.bound, res.status, elapsed)
        # merged rows' flows back over their members, in proportion to their counts
        g = merged.group[original.arc_row]
        share = original.row_count[original.arc_row] / np.maximum(merged.count[g], 1e-300)
        sol = replace(sol, flows=sol.flows[merged.arc_of_original] * share)
        if fallback is not None and fallback.objective > sol.objective:
            # optimal: the two differ by tolerance only; time limit: keep the better programme
            return replace(fallback.bounded(sol.bound, sol.status), solve_time_s=elapsed)
        return sol
    if res.status == "time_limit" and fallback is not None:
        return replace(fallback.bounded(math.inf, "time_limit"), solve_time_s=elapsed)
    msg = (
        f"programme optimisation: HiGHS ended with status {res.status!r} ({res.message}) and "
        "no programme; raise `optimise.time_limit_s`, or check the budgets and candidate sites"
    )
    raise InfeasibleModelError(msg)


def _start(
    inst: ProgrammeInstance, merged: MergedRows, model: _Model, given: ProgrammeSolution | None
) -> np.ndarray | None:
    """A known programme as the model's columns (HiGHS's starting incumbent), or None."""
    if given is None or len(given.flows) != len(inst.arc_row):
        return None
    n_o = len(inst.opt_site)
    y = np.zeros(n_o)
    y[list(given.options)] = 1.0
    flows = np.bincount(merged.arc_of_original, weights=given.flows, minlength=len(merged.arc_row))
    return np.concatenate([y, flows[model.arcs]])


def merged_rows(inst: ProgrammeInstance) -> MergedRows:
    """The exact presolve's merge of ``inst`` (:func:`presolved`), with the maps back."""
    return merge_rows(
        inst.row_count,
        inst.row_entry,
        inst.row_present,
        inst.arc_row,
        inst.arc_site,
        inst.arc_value,
    )


def _identity_merge(inst: ProgrammeInstance) -> MergedRows:
    n = len(inst.row_count)
    return MergedRows(
        group=np.arange(n),
        count=inst.row_count,
        entry=inst.row_entry,
        present=inst.row_present,
        arc_row=inst.arc_row,
        arc_site=inst.arc_site,
        arc_value=inst.arc_value,
        arc_of_original=np.arange(len(inst.arc_row)),
    )


def presolved(inst: ProgrammeInstance) -> ProgrammeInstance:
    """Return the instance with interchangeable demand rows merged (exact; see
    :mod:`placeplan.compute.programme_presolve`): same savings for every programme."""
    return _with_rows(inst, merged_rows(inst))


def _with_rows(inst: ProgrammeInstance, m: MergedRows) -> ProgrammeInstance:
    return replace(
        inst,
        row_count=m.count,
        row_entry=m.entry,
        row_present=m.present,
        arc_row=m.arc_row,
        arc_site=m.arc_site,
        arc_value=m.arc_value,
    )


def evaluate_programme(
    inst: ProgrammeInstance, options: Sequence[int], *, presolve: bool = True
) -> ProgrammeSolution:
    """Solve the flows (an LP) for a given programme: what these options achieve at best.

    Budgets are not checked (a given programme is evaluated as it is).

    Parameters
    ----------
    inst
        The model's arrays.
    options
        Option indices to open (at most one per site).

    presolve
        Merge interchangeable rows first (exact); pass False for an instance already
        :func:`presolved`.

    Returns
    -------
    ProgrammeSolution
        ``status="evaluated"``; ``objective`` is the best savings these options allow.

    Raises
    ------
    ConfigError
        Two options of the same site, or an option index out of range.
    """
    opts = np.asarray(sorted({int(o) for o in options}), dtype=int)
    n_o = len(inst.opt_site)
    if opts.size and (opts.min() < 0 or opts.max() >= n_o):
        msg = f"`options` must be option indices in 0..{n_o - 1}; got {opts.tolist()}"
        raise ConfigError(msg)
    if len(set(inst.opt_site[opts].tolist())) != opts.size:
        msg = "`options` opens a site twice; give at most one option (size, year) per site"
        raise ConfigError(msg)
    y = np.zeros(n_o)
    y[opts] = 1.0
    big = replace(  # budgets not checked: every option affordable in every year
        inst,
        budget_by_fy_gbp=np.full(len(inst.fy_labels), inst.opt_capital_gbp.sum() + 1.0),
        carry_forward=True,
    )
    sol = _solve_model(
        big,
        y,
        y,
        budget_scale=1.0,
        min_objective=None,
        exclude=(),
        strong=False,
        time_limit_s=None,
        mip_rel_gap=0.0,
        fallback=None,
        presolve=presolve,
    )
    cap = np.zeros(len(inst.fy_labels))
    np.add.at(cap, inst.opt_fy[opts], inst.opt_capital_gbp[opts])
    return ProgrammeSolution(
        options=tuple(int(o) for o in opts),
        objective=sol.objective,
        bound=sol.objective,
        gap=0.0,
        status="evaluated",
        capital_by_fy_gbp=cap,
        flows=sol.flows,
        solve_time_s=sol.solve_time_s,
    )
