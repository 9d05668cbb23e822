"""Exact site-selection models (HiGHS MILP): budgeted inclusion-base selection and p-median.

Two layers, as in spopt: a numpy core (:func:`solve_budgeted_sites`, :func:`solve_p_median`) that
takes dense arrays and returns an :class:`OptimisationResult` with integer site indices and a dense
allocation array, and a DataFrame adapter (:func:`optimise_sites`) that builds those arrays from the
candidate-site, demand and long travel-matrix tables and returns string site ids and a long
allocation table.

Models are solved to proven optimality with HiGHS through the package's one solver module,
``placeplan.compute._solver`` (``mip_rel_gap=0`` by default). Any status other than optimal raises
:class:`~placeplan.InfeasibleModelError` naming it.

Integer flows
-------------
Demand is a count of pupils, so flows must be whole pupils. The assignment variables are continuous
in the MILP, and this is exact: once the site variables are fixed, the remaining problem is a
transportation problem (demand rows, capacity rows, and per-arc upper bounds), whose constraint
matrix is totally unimodular. With integer demand and places, every basic (vertex) optimal solution
is therefore integral. After the MILP, the flows are re-solved for the chosen sites with the simplex
method (which returns a basic solution), checked to be integral, and rounded off float noise. If
demand is fractional (e.g. a forecast), flows are fractional too.
"""

from __future__ import annotations

import logging
import math
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from placeplan._errors import ConfigError, InfeasibleModelError, SchemaValidationError
from placeplan.compute._solver import SolveResult, solve
from placeplan.compute.scoring import (
    dense_travel_times,
    numeric_column,
    site_demand_compatibility,
    validate_candidate_sites,
    validate_site_demand,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "UNSERVED",
    "OptimisationResult",
    "optimise_sites",
    "solve_budgeted_sites",
    "solve_p_median",
]

logger = logging.getLogger(__name__)

#: ``site_id`` used in allocation tables for demand that keeps its current placement.
UNSERVED = "unserved"

_INT_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class OptimisationResult:
    """The solution of a site-selection model.

    Attributes
    ----------
    selected
        Sites opened: column indices (numpy core) or ``site_id`` strings (DataFrame adapter), in
        input order.
    allocation
        Numpy core: dense ``(n_demand, n_sites)`` array of pupils assigned to each site (the
        rest of each demand row, ``demand - allocation.sum(axis=1)``, is unserved). Adapter: a
        DataFrame with columns ``demand_id, need_type, phase, site_id, count,
        travel_time_min``, where ``site_id == "unserved"`` rows keep their current journey.
    objective
        Total pupil-minutes (one-way journeys) of the solution, including unserved demand at its
        current time (budgeted model) or demand-weighted cost (p-median).
    status
        ``"optimal"``, or ``"time_limit"`` when ``accept_incumbent=True`` let a time-limited
        incumbent through.
    model
        ``"budgeted_sites"`` or ``"p_median"``.
    params
        Read-only mapping of the inputs and summary figures (budget, spend, places, baseline
        objective, model size, solve time).
    gap
        Relative MIP gap HiGHS reports (0 when proven optimal with the default gap).
    """

    selected: tuple[int, ...] | tuple[str, ...]
    allocation: NDArray[np.float64] | pd.DataFrame
    objective: float
    status: str
    model: str
    params: Mapping[str, Any]
    gap: float


# --------------------------------------------------------------------------------------------
# solver status
# --------------------------------------------------------------------------------------------
def _raise_status(model: str, res: SolveResult) -> NoReturn:
    """Raise :class:`InfeasibleModelError` for a solve that cannot be used, naming its status."""
    if res.status == "time_limit":
        found = (
            "incumbent gap " + format(res.gap, ".2%")
            if res.x is not None and res.gap is not None
            else "no feasible solution yet"
        )
        msg = (
            f"{model}: HiGHS stopped at the time limit (status 'time_limit', {found}). "
            "Raise `time_limit_s`, set `mip_rel_gap` (e.g. 0.005), or pass "
            "`accept_incumbent=True` to take the best solution found."
        )
    else:
        msg = (
            f"{model}: HiGHS ended with status {res.status!r} ({res.message}), not 'optimal'. "
            "Check the inputs (budget, fixed sites, capacities, reachability)."
        )
    raise InfeasibleModelError(msg)


def _transport_flows(
    arc_i: np.ndarray,
    arc_j: np.ndarray,
    arc_cost: np.ndarray,
    arc_upper: np.ndarray,
    supply: np.ndarray,
    capacity: np.ndarray,
    *,
    equality: bool,
    integral: bool,
) -> np.ndarray:
    """Solve the transportation LP (basic solution by simplex); integral when inputs are."""
    n_arc = len(arc_cost)
    if n_arc == 0:
        return np.zeros(0)
    n_i, n_j = len(supply), len(capacity)
    rows = np.concatenate([arc_i, n_i + arc_j])
    cols = np.concatenate([np.arange(n_arc), np.arange(n_arc)])
    a = sp.csc_matrix((np.ones(2 * n_arc), (rows, cols)), shape=(n_i + n_j, n_arc))
    row_lower = np.concatenate(
        [supply if equality else np.full(n_i, -np.inf), np.full(n_j, -np.inf)]
    )
    row_upper = np.concatenate([supply, capacity])

    def _solve(what: str, *, integer: bool, simplex: bool = False) -> np.ndarray:
        res = solve(
            arc_cost,
            a,
            row_lower,
            row_upper,
            np.zeros(n_arc),
            arc_upper,
            np.full(n_arc, integer, dtype=bool),
            mip_rel_gap=0.0,
            lp_method="simplex" if simplex else "choose",
        )
        if res.status != "optimal" or res.x is None:
            _raise_status(what, res)
        return res.x

    x = _solve("flow re-solve", integer=False, simplex=True)
    if integral:
        rounded = np.round(x)
        if np.abs(x - rounded).max(initial=0.0) > _INT_TOL:  # pragma: no cover - TU guarantees
            x = _solve("integer flow re-solve", integer=True)
            rounded = np.round(x)
        x = rounded
    return np.maximum(x, 0.0)


def _solved(
    model: str,
    selected: np.ndarray,
    allocation: np.ndarray,
    objective: float,
    status: str,
    gap: float,
    params: dict[str, Any],
    *,
    mip_rel_gap: float,
    time_limit_s: float | None,
    elapsed: float,
) -> OptimisationResult:
    """The solvers' result: ``params`` followed by the HiGHS run settings and solve time."""
    return OptimisationResult(
        selected=tuple(int(j) for j in selected),
        allocation=allocation,
        objective=objective,
        status=status,
        model=model,
        params=types.MappingProxyType(
            {
                **params,
                "mip_rel_gap": mip_rel_gap,
                "time_limit_s": time_limit_s,
                "solve_time_s": elapsed,
                "solver": "highs",
            }
        ),
        gap=max(gap, 0.0),
    )


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _as_vector(values: ArrayLike, n: int, name: str, *, minimum: float = 0.0) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n,):
        msg = f"`{name}` must have shape ({n},); got {arr.shape}."
        raise SchemaValidationError(msg)
    if not np.isfinite(arr).all() or (arr < minimum).any():
        msg = f"`{name}` must be finite and >= {minimum:g}; fix or fill the bad entries."
        raise SchemaValidationError(msg)
    return arr


def _as_cost_matrix(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2:
        msg = f"`{name}` must be a 2-D (n_demand, n_sites) array; got {arr.ndim}-D."
        raise SchemaValidationError(msg)
    arr = np.where(np.isfinite(arr), arr, np.nan)
    if (arr < 0).any():
        msg = f"`{name}` has negative entries; travel times/costs must be >= 0 (NaN/inf = none)."
        raise SchemaValidationError(msg)
    return arr


def _as_fixed(fixed: Sequence[int] | None, n_sites: int) -> np.ndarray:
    idx = np.asarray(list(fixed or ()), dtype=int)
    if idx.size and (idx.min() < 0 or idx.max() >= n_sites or len(set(idx)) != idx.size):
        msg = f"`fixed` must hold distinct site indices in 0..{n_sites - 1}; got {idx.tolist()}."
        raise ConfigError(msg)
    return idx


def _solver_cost_demand(
    solver: str, cost: ArrayLike, cost_name: str, demand: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Checks shared by the solvers, in order: ``solver``, the cost matrix, then ``demand``."""
    if solver != "highs":
        msg = f"`solver` must be 'highs' (HiGHS via highspy); got {solver!r}."
        raise ConfigError(msg)
    mat = _as_cost_matrix(cost, cost_name)
    return mat, _as_vector(demand, mat.shape[0], "demand")


def _is_integral(arr: np.ndarray) -> bool:
    return bool(np.all(np.abs(arr - np.round(arr)) <= 1e-9))


# --------------------------------------------------------------------------------------------
# budgeted site selection
# --------------------------------------------------------------------------------------------
def solve_budgeted_sites(
    time_min: ArrayLike,
    demand: ArrayLike,
    *,
    site_places: ArrayLike,
    site_cost: ArrayLike,
    budget: float,
    current_time_min: ArrayLike,
    compatible: ArrayLike | None = None,
    max_sites: int | None = None,
    max_travel_time_min: float | None = None,
    fixed: Sequence[int] = (),
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    accept_incumbent: bool = False,
) -> OptimisationResult:
    """Choose the sites to open within a capital budget that minimise total pupil journey time.

    Each demand row's pupils either move to an opened, compatible site within reach (at that
    site's travel time) or keep their current journey (``current_time_min``). The model is::

        min  Σ_ij t_ij x_ij + Σ_i c_i (d_i - Σ_j x_ij)
        s.t. Σ_j x_ij <= d_i                    (each pupil placed at most once)
             Σ_i x_ij <= places_j y_j           (capacity; nothing goes to a closed site)
             x_ij <= min(d_i, places_j) y_j     (strong linking, tightens the relaxation)
             Σ_j cost_j y_j <= budget
             Σ_j y_j <= max_sites               (if given)
             y_j = 1 for j in fixed
             y binary, x >= 0, x_ij only where compatible and t_ij <= max_travel_time_min

    Parameters
    ----------
    time_min
        ``(n_demand, n_sites)`` travel minutes; NaN or inf = unreachable.
    demand
        ``(n_demand,)`` pupils per demand row (need × phase × place), >= 0.
    site_places
        ``(n_sites,)`` places each site would provide (whole numbers >= 0).
    site_cost
        ``(n_sites,)`` capital cost of each site (£), >= 0.
    budget
        Capital budget (£, same units as ``site_cost``), >= 0.
    current_time_min
        ``(n_demand,)`` minutes of each row's current journey: the cost of *not* moving (their
        current setting, an OOA or independent placement). Add a penalty here to also value
        reducing OOA reliance.
    compatible
        ``(n_demand, n_sites)`` booleans: the site serves that row's need and phase. Default all
        true.
    max_sites
        Most sites to open. Default no limit.
    max_travel_time_min
        Longest allowed journey to a new site (minutes). Default no limit beyond reachability.
    fixed
        Site indices forced open (e.g. already committed); they count against budget and
        ``max_sites``.
    solver
        ``"highs"`` (HiGHS via ``highspy``), the only exact solver wired in.
    time_limit_s
        Wall-clock limit for HiGHS (seconds). Default none.
    mip_rel_gap
        Relative optimality gap at which HiGHS stops. Default 0 (proven optimal).
    accept_incumbent
        Return the best solution found when the time limit stops HiGHS (``status="time_limit"``)
        instead of raising.

    Returns
    -------
    result
        :class:`OptimisationResult` with ``selected`` (site indices), ``allocation`` (dense
        ``(n_demand, n_sites)`` pupils), ``objective`` (pupil-minutes), ``model="budgeted_sites"``.
        ``params`` includes ``baseline_objective`` (everyone unserved), ``capital_cost`` spent,
        ``places_opened``, ``integer_flows`` and model size.

    Raises
    ------
    SchemaValidationError
        Arrays of the wrong shape, negative or non-finite values.
    ConfigError
        Negative budget, bad ``max_sites``/``fixed``/``solver``.
    InfeasibleModelError
        Fixed sites cost more than the budget or exceed ``max_sites`` (checked before solving),
        or HiGHS ends with a status other than optimal.

    Notes
    -----
    Flows are continuous in the MILP and integral in the result when demand and places are whole
    numbers (total unimodularity; see the module docstring). Arcs where the new journey is not
    shorter than the current one are left out: the objective never gains from them, so those
    pupils are reported as unserved (they keep their current journey, which is no longer).

    Examples
    --------
    >>> t = np.array([[10.0, 30.0], [30.0, 10.0]])
    >>> r = solve_budgeted_sites(t, [5, 3], site_places=[5, 5], site_cost=[100.0, 100.0],
    ...                          budget=100.0, current_time_min=[60.0, 60.0])
    >>> r.selected, r.objective
    ((0,), 230.0)
    """
    start = time.perf_counter()
    t, d = _solver_cost_demand(solver, time_min, "time_min", demand)
    n_dem, n_sites = t.shape
    c = _as_vector(current_time_min, n_dem, "current_time_min")
    places = _as_vector(site_places, n_sites, "site_places")
    if not _is_integral(places):
        msg = "`site_places` must be whole numbers of places."
        raise SchemaValidationError(msg)
    cost = _as_vector(site_cost, n_sites, "site_cost")
    if not (math.isfinite(budget) and budget >= 0):
        msg = f"`budget` must be a finite amount >= 0; got {budget!r}."
        raise ConfigError(msg)
    if max_sites is not None and (int(max_sites) != max_sites or max_sites < 0):
        msg = f"`max_sites` must be a whole number >= 0 or None; got {max_sites!r}."
        raise ConfigError(msg)
    if compatible is None:
        compat = np.ones((n_dem, n_sites), dtype=bool)
    else:
        compat = np.asarray(compatible, dtype=bool)
        if compat.shape != t.shape:
            msg = f"`compatible` must have shape {t.shape} like `time_min`; got {compat.shape}."
            raise SchemaValidationError(msg)
    fixed_idx = _as_fixed(fixed, n_sites)

    # --- feasibility before solving
    fixed_cost = float(cost[fixed_idx].sum())
    if fixed_cost > budget * (1 + 1e-12):
        msg = (
            f"The {fixed_idx.size} fixed site(s) cost £{fixed_cost:,.0f}, more than the budget "
            f"£{budget:,.0f}. Raise `budget` or fix fewer sites."
        )
        raise InfeasibleModelError(msg)
    if max_sites is not None and fixed_idx.size > max_sites:
        msg = (
            f"{fixed_idx.size} sites are fixed open but `max_sites` is {max_sites}. Raise "
            "`max_sites` or fix fewer sites."
        )
        raise InfeasibleModelError(msg)

    integral = _is_integral(d)
    baseline = float(d @ c)

    # --- arcs worth having: compatible, reachable, within max time, shorter than now
    ok = compat & np.isfinite(t) & (d[:, None] > 0) & (places[None, :] > 0)
    if max_travel_time_min is not None:
        ok &= np.nan_to_num(t, nan=np.inf) <= max_travel_time_min
    ok &= np.nan_to_num(t, nan=np.inf) < c[:, None]
    ok[:, cost > budget] = False  # can never be opened
    arc_i, arc_j = np.nonzero(ok)
    useful = np.zeros(n_sites, dtype=bool)
    useful[arc_j] = True
    useful[fixed_idx] = True
    sites = np.flatnonzero(useful)
    k_of_site = np.full(n_sites, -1)
    k_of_site[sites] = np.arange(len(sites))
    arc_k = k_of_site[arc_j]
    n_y, n_arc = len(sites), len(arc_i)
    rows_dem = np.unique(arc_i)
    r_of_dem = np.full(n_dem, -1)
    r_of_dem[rows_dem] = np.arange(len(rows_dem))
    arc_cost = t[arc_i, arc_j] - c[arc_i]
    arc_upper = np.minimum(d[arc_i], places[arc_j])

    # columns: y_0..y_{n_y-1}, x_0..x_{n_arc-1}
    n_dr = len(rows_dem)
    x_col = n_y + np.arange(n_arc)
    r_cap0 = n_dr
    r_link0 = r_cap0 + n_y
    r_budget = r_link0 + n_arc
    r_max = r_budget + 1
    n_rows = r_max + (1 if max_sites is not None else 0)
    rr = [r_of_dem[arc_i], r_cap0 + arc_k, r_cap0 + np.arange(n_y), r_link0 + np.arange(n_arc)]
    cc = [x_col, x_col, np.arange(n_y), x_col]
    vv = [np.ones(n_arc), np.ones(n_arc), -places[sites], np.ones(n_arc)]
    rr += [r_link0 + np.arange(n_arc), np.full(n_y, r_budget)]
    cc += [arc_k, np.arange(n_y)]
    vv += [-arc_upper, cost[sites]]
    row_upper = [d[rows_dem], np.zeros(n_y), np.zeros(n_arc), [budget]]
    if max_sites is not None:
        rr.append(np.full(n_y, r_max))
        cc.append(np.arange(n_y))
        vv.append(np.ones(n_y))
        row_upper.append([float(max_sites)])
    a = sp.csc_matrix(
        (np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))), shape=(n_rows, n_y + n_arc)
    )
    y_lower = np.zeros(n_y)
    y_lower[k_of_site[fixed_idx]] = 1.0
    res = solve(
        np.concatenate([np.zeros(n_y), arc_cost]),
        a,
        np.full(n_rows, -np.inf),
        np.concatenate([np.asarray(r, dtype=float) for r in row_upper]),
        np.concatenate([y_lower, np.zeros(n_arc)]),
        np.concatenate([np.ones(n_y), arc_upper]),
        np.concatenate([np.ones(n_y, dtype=bool), np.zeros(n_arc, dtype=bool)]),
        offset=baseline,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    usable = res.status == "optimal" or (res.status == "time_limit" and accept_incumbent)
    if not usable or res.x is None or res.objective is None:
        _raise_status("solve_budgeted_sites", res)
    x, obj, status = res.x, res.objective, res.status
    gap = math.inf if res.gap is None else res.gap

    open_k = np.round(x[:n_y]) > 0.5
    selected = sites[open_k]
    open_arc = open_k[arc_k]
    flows = np.zeros(n_arc)
    flows[open_arc] = _transport_flows(
        r_of_dem[arc_i[open_arc]],
        arc_k[open_arc],
        arc_cost[open_arc],
        arc_upper[open_arc],
        d[rows_dem],
        places[sites],
        equality=False,
        integral=integral,
    )
    allocation = np.zeros((n_dem, n_sites))
    allocation[arc_i, arc_j] = flows
    objective = baseline + float(arc_cost @ flows)
    if abs(objective - obj) > 1e-6 * max(1.0, abs(obj)) + 1e-6 and objective > obj:
        logger.warning(  # pragma: no cover - the re-solve is an LP over the same sites
            "solve_budgeted_sites: flow re-solve objective %.6g above MILP %.6g", objective, obj
        )
    elapsed = time.perf_counter() - start
    spent = float(cost[selected].sum())
    logger.info(
        "solve_budgeted_sites: %d demand rows x %d sites, %d arcs, %d opened, "
        "£%.0f of £%.0f, %.1f%% fewer pupil-minutes, %s, %.2f s",
        n_dem,
        n_sites,
        n_arc,
        len(selected),
        spent,
        budget,
        100.0 * (baseline - objective) / baseline if baseline > 0 else 0.0,
        status,
        elapsed,
    )
    return _solved(
        "budgeted_sites",
        selected,
        allocation,
        objective,
        status,
        gap,
        {
            "budget": float(budget),
            "max_sites": max_sites,
            "max_travel_time_min": max_travel_time_min,
            "fixed": tuple(int(j) for j in fixed_idx),
            "capital_cost": spent,
            "places_opened": int(places[selected].sum()),
            "pupils_moved": float(flows.sum()),
            "baseline_objective": baseline,
            "integer_flows": integral,
            "n_arcs": n_arc,
            "n_sites_in_model": n_y,
        },
        mip_rel_gap=mip_rel_gap,
        time_limit_s=time_limit_s,
        elapsed=elapsed,
    )


# --------------------------------------------------------------------------------------------
# p-median
# --------------------------------------------------------------------------------------------
def solve_p_median(
    cost: ArrayLike,
    demand: ArrayLike,
    *,
    p: int,
    capacity: ArrayLike | None = None,
    fixed: Sequence[int] | None = None,
    single_source: bool = False,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> OptimisationResult:
    """Open exactly ``p`` sites minimising demand-weighted cost; every demand is served.

    The classic p-median (Hakimi 1964; ReVelle & Swain 1970), as in
    ``spopt.locate.PMedian.from_cost_matrix``::

        min  Σ_ij d_i c_ij z_ij
        s.t. Σ_j z_ij = 1,  z_ij <= y_j,  Σ_j y_j = p,  y_j = 1 for j in fixed
             Σ_i d_i z_ij <= capacity_j y_j     (if capacity is given)
             y binary, 0 <= z <= 1 (binary if single_source)

    Parameters
    ----------
    cost
        ``(n_demand, n_sites)`` travel time or distance; NaN/inf = not allowed.
    demand
        ``(n_demand,)`` weights (pupils), >= 0. Rows with zero demand are left unassigned.
    p
        Number of sites to open, ``len(fixed) <= p <= n_sites``.
    capacity
        ``(n_sites,)`` capacities; default uncapacitated.
    fixed
        Site indices that must be open.
    single_source
        Each demand row goes to one site (spopt's binary assignment). Only matters with
        ``capacity``: without it, every optimal solution already uses the nearest open site.
    solver
        ``"highs"`` only.
    time_limit_s
        Wall-clock limit (seconds); reaching it raises.
    mip_rel_gap
        Relative gap at which HiGHS stops; default 0.

    Returns
    -------
    result
        :class:`OptimisationResult` with ``selected`` site indices, ``allocation`` (dense
        ``(n_demand, n_sites)`` demand assigned), ``objective`` (Σ demand × cost) and
        ``model="p_median"``.

    Raises
    ------
    SchemaValidationError
        Arrays of the wrong shape or with negative / non-finite values.
    ConfigError
        ``p`` out of range, bad ``fixed`` or ``solver``.
    InfeasibleModelError
        Some demand reaches no site, or the ``p`` largest capacities cannot hold the total demand
        (checked before solving), or HiGHS ends with a status other than optimal.

    Examples
    --------
    >>> line = np.abs(np.subtract.outer(np.arange(5.0), np.arange(5.0)))
    >>> solve_p_median(line, np.ones(5), p=1).selected
    (2,)
    """
    start = time.perf_counter()
    cmat, d = _solver_cost_demand(solver, cost, "cost", demand)
    n_dem, n_sites = cmat.shape
    fixed_idx = _as_fixed(fixed, n_sites)
    if int(p) != p or not (max(1, fixed_idx.size) <= p <= n_sites):
        msg = (
            f"`p` must be a whole number between {max(1, fixed_idx.size)} (fixed sites) and "
            f"{n_sites} (sites); got {p!r}."
        )
        raise ConfigError(msg)
    cap = None if capacity is None else _as_vector(capacity, n_sites, "capacity")
    reach = np.isfinite(cmat) & (d[:, None] > 0)
    stranded = int(((d > 0) & ~reach.any(axis=1)).sum())
    if stranded:
        msg = (
            f"{stranded} demand row(s) reach no site (all costs NaN/inf); drop them or extend "
            "the travel-time cut-off."
        )
        raise InfeasibleModelError(msg)
    if cap is not None:
        best = float(np.sort(cap)[-int(p) :].sum())
        if best < d.sum() - 1e-9:
            msg = (
                f"The {p} largest capacities hold {best:,.0f}, less than the total demand "
                f"{d.sum():,.0f}. Raise `p` or the capacities."
            )
            raise InfeasibleModelError(msg)

    arc_i, arc_j = np.nonzero(reach)
    n_arc = len(arc_i)
    rows_dem = np.flatnonzero(d > 0)
    r_of_dem = np.full(n_dem, -1)
    r_of_dem[rows_dem] = np.arange(len(rows_dem))
    n_dr = len(rows_dem)
    z_col = n_sites + np.arange(n_arc)
    r_link0 = n_dr
    r_p = r_link0 + n_arc
    r_cap0 = r_p + 1
    n_rows = r_cap0 + (n_sites if cap is not None else 0)
    rr = [r_of_dem[arc_i], r_link0 + np.arange(n_arc), r_link0 + np.arange(n_arc)]
    cc = [z_col, z_col, arc_j]
    vv = [np.ones(n_arc), np.ones(n_arc), -np.ones(n_arc)]
    rr.append(np.full(n_sites, r_p))
    cc.append(np.arange(n_sites))
    vv.append(np.ones(n_sites))
    lo = [np.ones(n_dr), np.full(n_arc, -np.inf), [float(p)]]
    hi = [np.ones(n_dr), np.zeros(n_arc), [float(p)]]
    if cap is not None:
        rr += [r_cap0 + arc_j, r_cap0 + np.arange(n_sites)]
        cc += [z_col, np.arange(n_sites)]
        vv += [d[arc_i], -cap]
        lo.append(np.full(n_sites, -np.inf))
        hi.append(np.zeros(n_sites))
    a = sp.csc_matrix(
        (np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))),
        shape=(n_rows, n_sites + n_arc),
    )
    y_lower = np.zeros(n_sites)
    y_lower[fixed_idx] = 1.0
    arc_w = d[arc_i] * cmat[arc_i, arc_j]
    res = solve(
        np.concatenate([np.zeros(n_sites), arc_w]),
        a,
        np.concatenate([np.asarray(v, dtype=float) for v in lo]),
        np.concatenate([np.asarray(v, dtype=float) for v in hi]),
        np.concatenate([y_lower, np.zeros(n_arc)]),
        np.ones(n_sites + n_arc),
        np.concatenate([np.ones(n_sites, dtype=bool), np.full(n_arc, single_source, dtype=bool)]),
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    if res.status != "optimal" or res.x is None:
        _raise_status("solve_p_median", res)
    x, status = res.x, res.status
    gap = math.inf if res.gap is None else res.gap
    is_open = np.round(x[:n_sites]) > 0.5
    selected = np.flatnonzero(is_open)
    allocation = np.zeros((n_dem, n_sites))
    if cap is None:
        # nearest open site (exact for the uncapacitated model; removes split ties)
        masked = np.where(is_open[None, :] & np.isfinite(cmat), cmat, np.inf)
        best_j = np.argmin(masked, axis=1)
        allocation[rows_dem, best_j[rows_dem]] = d[rows_dem]
    elif single_source:
        z = np.round(x[n_sites:])
        allocation[arc_i, arc_j] = z * d[arc_i]
    else:
        keep = is_open[arc_j]
        flows = _transport_flows(
            r_of_dem[arc_i[keep]],
            arc_j[keep],
            cmat[arc_i[keep], arc_j[keep]],
            d[arc_i[keep]],
            d[rows_dem],
            cap,
            equality=True,
            integral=_is_integral(d) and _is_integral(cap),
        )
        allocation[arc_i[keep], arc_j[keep]] = flows
    objective = float(np.nansum(allocation * np.nan_to_num(cmat, nan=0.0)))
    elapsed = time.perf_counter() - start
    logger.info(
        "solve_p_median: %d demand rows x %d sites, p=%d, %s, %.2f s",
        n_dem,
        n_sites,
        p,
        status,
        elapsed,
    )
    return _solved(
        "p_median",
        selected,
        allocation,
        objective,
        status,
        gap,
        {
            "p": int(p),
            "capacitated": cap is not None,
            "single_source": single_source,
            "fixed": tuple(int(j) for j in fixed_idx),
            "n_arcs": n_arc,
        },
        mip_rel_gap=mip_rel_gap,
        time_limit_s=time_limit_s,
        elapsed=elapsed,
    )


# --------------------------------------------------------------------------------------------
# DataFrame adapter
# --------------------------------------------------------------------------------------------
def optimise_sites(
    df_sites: pd.DataFrame,
    df_demand: pd.DataFrame,
    df_matrix: pd.DataFrame,
    *,
    budget_gbp: float,
    max_sites: int | None = None,
    max_travel_time_min: float | None = None,
    fixed_site_ids: Sequence[str] = (),
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    accept_incumbent: bool = False,
) -> OptimisationResult:
    """Choose the best set of candidate sites for a capital budget, from tables.

    Builds the dense arrays for :func:`solve_budgeted_sites` (travel times by ``site_id``, or by
    ``host_setting_id`` when the site is not a matrix destination; need/phase compatibility from
    the site's ``needs``/``phases``) and returns string ids and a long allocation table.

    Parameters
    ----------
    df_sites
        Candidate sites: ``site_id``, ``needs``, ``phases`` (``;``-separated, empty = any),
        ``places``, ``capital_cost_gbp``, optional ``host_setting_id``.
    df_demand
        Aggregated demand: ``demand_id`` (matrix ``origin_id``), ``need_type``, ``phase``,
        ``count`` and ``current_time_min`` (current one-way journey, minutes; required).
    df_matrix
        Long travel matrix: ``origin_id``, ``destination_id``, ``travel_time_min``.
    budget_gbp
        Capital budget (£).
    max_sites
        Most sites to open. Default no limit.
    max_travel_time_min
        Longest allowed journey to a new site (minutes). Default none.
    fixed_site_ids
        ``site_id`` values forced open.
    time_limit_s, mip_rel_gap, accept_incumbent
        As for :func:`solve_budgeted_sites`.

    Returns
    -------
    result
        :class:`OptimisationResult`; ``selected`` holds ``site_id`` strings and ``allocation`` a
        DataFrame ``demand_id, need_type, phase, site_id, count, travel_time_min`` (one row per
        demand row and site with a positive count; ``site_id == "unserved"`` keeps the current
        journey). ``count`` is integer when demand counts are whole. ``params`` also carries
        ``budget_gbp`` and ``capital_cost_gbp``.

    Raises
    ------
    SchemaValidationError
        Missing or invalid columns; unknown ``fixed_site_ids``.
    InfeasibleModelError
        As for :func:`solve_budgeted_sites`.

    Notes
    -----
    The allocation table is pupil-level-free (aggregated rows) but holds small counts: pass it
    through ``placeplan.publish.disclosure.suppress`` before publishing.
    """
    validate_candidate_sites(df_sites)
    validate_site_demand(df_demand, require_current_time=True)
    site_ids = df_sites["site_id"].astype(str).to_numpy()
    unknown = sorted(set(map(str, fixed_site_ids)) - set(site_ids))
    if unknown:
        msg = f"`fixed_site_ids` {unknown[:10]} are not in `df_sites.site_id`."
        raise SchemaValidationError(msg)
    pos = {s: k for k, s in enumerate(site_ids)}
    times = dense_travel_times(df_demand, df_sites, df_matrix)
    compat = site_demand_compatibility(df_demand, df_sites)
    count = numeric_column(df_demand, "count", "df_demand")
    current = numeric_column(df_demand, "current_time_min", "df_demand")
    result = solve_budgeted_sites(
        times,
        count,
        site_places=df_sites["places"].to_numpy(dtype=float),
        site_cost=df_sites["capital_cost_gbp"].to_numpy(dtype=float),
        budget=budget_gbp,
        current_time_min=current,
        compatible=compat,
        max_sites=max_sites,
        max_travel_time_min=max_travel_time_min,
        fixed=[pos[str(s)] for s in fixed_site_ids],
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        accept_incumbent=accept_incumbent,
    )
    alloc = np.asarray(result.allocation)
    ii, jj = np.nonzero(alloc > _INT_TOL)
    unserved = count - alloc.sum(axis=1)
    uu = np.flatnonzero(unserved > _INT_TOL)
    demand_id = df_demand["demand_id"].astype(str).to_numpy()
    need = df_demand["need_type"].to_numpy()
    phase = df_demand["phase"].to_numpy()
    table = pd.DataFrame(
        {
            "demand_id": np.concatenate([demand_id[ii], demand_id[uu]]),
            "need_type": np.concatenate([need[ii], need[uu]]),
            "phase": np.concatenate([phase[ii], phase[uu]]),
            "site_id": np.concatenate([site_ids[jj], np.full(len(uu), UNSERVED, dtype=object)]),
            "count": np.concatenate([alloc[ii, jj], unserved[uu]]),
            "travel_time_min": np.concatenate([times[ii, jj], current[uu]]),
            "_order": np.concatenate(
                [ii * (len(site_ids) + 1) + jj, uu * (len(site_ids) + 1) + len(site_ids)]
            ),
        }
    )
    table = table.sort_values("_order", kind="stable").drop(columns="_order")
    table = table.reset_index(drop=True)
    if result.params["integer_flows"]:
        table["count"] = np.round(table["count"]).astype("int64")
    params = dict(result.params)
    params["budget_gbp"] = params.pop("budget")
    params["capital_cost_gbp"] = params.pop("capital_cost")
    params["fixed"] = tuple(site_ids[list(params["fixed"])])
    return OptimisationResult(
        # the numpy core returns column indices
        selected=tuple(str(site_ids[j]) for j in cast("tuple[int, ...]", result.selected)),
        allocation=table,
        objective=result.objective,
        status=result.status,
        model=result.model,
        params=types.MappingProxyType(params),
        gap=result.gap,
    )
