"""Exact savings of capital programmes, fast: flow LPs per connected part, cached.

For a given programme the savings are an LP of the flows over the arcs of its own sites only
(arcs to closed sites carry no flow), so it is exact for the full model however many arcs that
has. The LP splits into connected parts (rows and opened sites linked by arcs: one per need at
county scale); :class:`ProgrammeFlows` solves each part once and caches it, so a local search
move re-solves only the part it changes. The parts' duals price rows and capacities, and
:func:`add_gains` turns them into a screening estimate of each option's gain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from placeplan._errors import InfeasibleModelError
from placeplan.compute._solver import solve
from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution

__all__ = ["FlowPart", "ProgrammeFlows", "add_gains", "flow_part_lp"]


@dataclass(frozen=True, slots=True)
class FlowPart:
    """One flow LP's optimum.

    Attributes
    ----------
    value
        Savings of the part's options (exact: no flow goes to a closed site).
    arcs, x
        Arcs it used (positions in the instance) and their flows.
    rows, row_price
        Demand rows it had and their prices (duals, >= 0).
    sites, capacity_price
        Its sites and their ``(site, year)`` capacity prices (duals, >= 0).
    """

    value: float
    arcs: np.ndarray
    x: np.ndarray
    rows: np.ndarray
    row_price: np.ndarray
    sites: np.ndarray
    capacity_price: np.ndarray


def flow_part_lp(inst: ProgrammeInstance, opts: np.ndarray, by_site: list[np.ndarray]) -> FlowPart:
    """Solve the flow LP of options ``opts`` over their sites' arcs.

    Parameters
    ----------
    inst
        The model's arrays.
    opts
        Option indices, at most one per site (budgets not checked).
    by_site
        ``by_site[j]``: site ``j``'s arcs of positive value (:class:`ProgrammeFlows` builds it).

    Returns
    -------
    FlowPart
        Exact savings, flows and prices.

    Raises
    ------
    InfeasibleModelError
        HiGHS did not solve the LP (it is always feasible: no flow at all).
    """
    n_y = len(inst.years)
    places = np.zeros((len(opts), n_y))
    for i, o in enumerate(opts):
        places[i, inst.opt_open[o] :] = inst.opt_places[o]
    sites = inst.opt_site[opts]
    arcs = np.concatenate([by_site[j] for j in sites] + [np.zeros(0, dtype=int)])
    a_row = inst.arc_row[arcs]
    rows, r_of = np.unique(a_row, return_inverse=True)
    by = np.argsort(sites)
    s_of = by[np.searchsorted(sites, inst.arc_site[arcs], sorter=by)]
    share = inst.row_present[a_row] / np.maximum(inst.row_count[a_row], 1e-300)[:, None]
    k, y = np.nonzero(share > 0)
    n_a, n_rows = len(arcs), len(rows)
    rr = np.concatenate([r_of, n_rows + s_of[k] * n_y + y])
    vv, cc = np.concatenate([np.ones(n_a), share[k, y]]), np.concatenate([np.arange(n_a), k])
    a = sp.csc_matrix((vv, (rr, cc)), shape=(n_rows + len(sites) * n_y, n_a))
    hi = np.concatenate([inst.row_count[rows], places.ravel()])
    res = solve(inst.arc_value[arcs], a, -np.inf, hi, 0.0, inst.row_count[a_row], sense="max")
    if n_a and (res.status != "optimal" or res.x is None or res.row_dual is None):
        msg = f"programme heuristic: the flow LP ended with {res.status!r} ({res.message})"
        raise InfeasibleModelError(msg)
    x = np.maximum(res.x if res.x is not None else np.zeros(0), 0.0)
    duals = np.abs(res.row_dual if res.row_dual is not None else np.zeros(hi.size))
    value = float(inst.arc_value[arcs] @ x + inst.opt_value[opts].sum())
    pi = duals[n_rows:].reshape(len(sites), n_y)
    return FlowPart(value, arcs, x, rows, duals[:n_rows], sites, pi)


class ProgrammeFlows:
    """Exact savings and prices of programmes: one flow LP per connected part (rows and sites
    linked by arcs), each part's LP cached, so a move re-solves only the parts it changes.

    Parameters
    ----------
    inst
        The model's arrays (a full model, or an aggregated one for screening).
    """

    def __init__(self, inst: ProgrammeInstance) -> None:
        self.inst = inst
        good = np.flatnonzero(inst.arc_value > 0)
        order = good[np.argsort(inst.arc_site[good], kind="stable")]
        bounds = np.searchsorted(inst.arc_site[order], np.arange(len(inst.site_ids) + 1))
        self.by_site = [order[bounds[j] : bounds[j + 1]] for j in range(len(inst.site_ids))]
        self.cache: dict[tuple[int, ...], FlowPart] = {}
        self.solves = 0

    def parts(self, options: Sequence[int]) -> list[tuple[int, ...]]:
        """The programme's options (indices) grouped by connected part, each ascending."""
        opts = np.asarray(sorted(int(o) for o in options), dtype=int)
        if not opts.size:
            return []
        n_r, n_o = len(self.inst.row_count), len(opts)
        arcs = [self.by_site[self.inst.opt_site[o]] for o in opts]
        col = np.repeat(np.arange(n_o), [len(a) for a in arcs])
        row = self.inst.arc_row[np.concatenate([*arcs, np.zeros(0, dtype=int)])]
        g = sp.coo_matrix((np.ones(len(row)), (row, n_r + col)), shape=(n_r + n_o, n_r + n_o))
        _, label = connected_components(g, directed=False)
        lab = label[n_r:]
        return [tuple(int(o) for o in opts[lab == k]) for k in np.unique(lab)]

    def part(self, opts: tuple[int, ...]) -> FlowPart:
        """The flow LP of one part's options (solved once, then cached)."""
        if opts not in self.cache:
            self.cache[opts] = flow_part_lp(self.inst, np.asarray(opts, dtype=int), self.by_site)
            self.solves += 1
        return self.cache[opts]

    def value(self, options: Sequence[int]) -> float:
        """Exact savings of a programme (option indices)."""
        return sum(self.part(p).value for p in self.parts(options))

    def prices(self, options: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(R,)`` row prices, ``(J, Y)`` capacity prices and ``(A,)`` flows."""
        u, x = np.zeros(len(self.inst.row_count)), np.zeros(len(self.inst.arc_row))
        pi = np.zeros((len(self.inst.site_ids), len(self.inst.years)))
        for f in (self.part(p) for p in self.parts(options)):
            u[f.rows], pi[f.sites], x[f.arcs] = f.row_price, f.capacity_price, f.x
        return u, pi, x

    def solution(
        self, options: Sequence[int], *, status: str = "evaluated", solve_time_s: float = 0.0
    ) -> ProgrammeSolution:
        """The programme with its exact savings, capital by financial year and flows on every
        arc of :attr:`inst` (no bound: ``nan``)."""
        opts = tuple(int(o) for o in options)
        x, idx = self.prices(opts)[2], list(opts)
        inst = self.inst
        cap = np.bincount(inst.opt_fy[idx], inst.opt_capital_gbp[idx], len(inst.fy_labels))
        value = float(inst.arc_value @ x + inst.opt_value[idx].sum())
        return ProgrammeSolution(opts, value, math.nan, math.nan, status, cap, x, solve_time_s)


def add_gains(inst: ProgrammeInstance, by_site: list[np.ndarray], u: np.ndarray) -> np.ndarray:
    """Estimate each option's gain on top of a programme whose flow LP has row prices ``u``.

    Pupils with positive reduced value ``v - u`` fill the option's place-years, best value per
    place-year first (a screening estimate, not a bound).

    Parameters
    ----------
    inst
        The model's arrays.
    by_site
        ``by_site[j]``: site ``j``'s arcs of positive value.
    u
        ``(R,)`` row prices of the programme's flow LP (0 for rows it does not reach).

    Returns
    -------
    numpy.ndarray
        ``(O,)`` estimated gain per option.
    """
    n_y = len(inst.years)
    share = inst.row_present / np.maximum(inst.row_count, 1e-300)[:, None]
    per_pupil = share.sum(axis=1)  # place-years a pupil takes up
    gains = np.zeros(len(inst.opt_site))
    order = np.argsort(inst.opt_site, kind="stable")
    bounds = np.searchsorted(inst.opt_site[order], np.arange(len(inst.site_ids) + 1))
    for j, arcs in enumerate(by_site):
        opts = order[bounds[j] : bounds[j + 1]]
        if not arcs.size or not opts.size:
            continue
        r = inst.arc_row[arcs]
        d = inst.arc_value[arcs] - u[r]
        for open_y in np.unique(inst.opt_open[opts]):
            ok = (d > 0) & (inst.row_entry[r] >= open_y) & (per_pupil[r] > 0)
            rr, dd = r[ok], d[ok]
            rank = np.argsort(-dd / per_pupil[rr], kind="stable")
            room = np.cumsum((inst.row_count[rr] * per_pupil[rr])[rank])
            worth = np.concatenate([[0.0], np.cumsum((inst.row_count[rr] * dd)[rank])])
            for o in opts[inst.opt_open[opts] == open_y]:
                cap = inst.opt_places[o] * (n_y - open_y)
                gains[o] = np.interp(cap, np.concatenate([[0.0], room]), worth)
    return gains + inst.opt_value
