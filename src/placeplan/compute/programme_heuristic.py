"""A primal heuristic for large programme models: a good programme fast (no bound).

At county scale HiGHS finds poor programmes in minutes on the full MILP, and each exact
evaluation is an LP over every arc. :func:`improve_programme` searches smaller models and keeps
only what the full model confirms:

1. *Candidate sites*: those whose options the LP relaxation opens at all (``relaxed_y`` summed
   over a site above ``site_threshold``), plus the sites of ``start``.
2. *Restricted MILP* (RINS-like) over the candidates, on :func:`aggregate_rows`: rows entering
   in the same year with the same presence shares, the same best candidate site(s) and a
   similar best value merge into one row going, at the members' count-weighted mean value, to
   sites every member reaches. Its flows split back over the members in proportion to their
   counts, so its savings never exceed the exact ones.
3. *Local search*: resize, retime, add or swap a site. Moves are ranked by the prices of the
   programme's flow LP, screened on a finer aggregation's flow LPs (milliseconds each), and
   kept only when the exact savings rise.

Exact savings come from :class:`~placeplan.compute.programme_flows.ProgrammeFlows` (the flow LP
over the programme's own sites' arcs, per connected part, cached). No randomness: ties go to
the lowest index (HiGHS runs with a fixed seed, but what it finds within a time limit depends
on the machine's speed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from placeplan._errors import ConfigError
from placeplan.compute.programme import (
    ProgrammeInstance,
    ProgrammeSolution,
    evaluate_programme,
    solve_programme,
)
from placeplan.compute.programme_flows import ProgrammeFlows, add_gains

__all__ = ["aggregate_rows", "improve_programme", "programme_fits"]

logger = logging.getLogger(__name__)

_REL = 1e-9
_BATCH = 30  # moves screened per round of the local search
_CHAIN = 8  # screened moves taken before the exact savings are checked (halved on a miss)


def programme_fits(inst: ProgrammeInstance, options: Sequence[int]) -> bool:
    """True when ``options`` (option indices) open each site at most once and fit every
    financial year's budget of ``inst`` (cumulative with ``inst.carry_forward``)."""
    opts = np.asarray(list(options), dtype=int)
    if len(set(inst.opt_site[opts].tolist())) != opts.size:
        return False
    spent = np.bincount(inst.opt_fy[opts], inst.opt_capital_gbp[opts], len(inst.fy_labels))
    return bool(_within_budget(inst, spent[None, :])[0])


def _within_budget(inst: ProgrammeInstance, spent: np.ndarray) -> np.ndarray:
    """``(M,)`` True where the ``(M, F)`` capital by financial year fits the budgets."""
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float)
    if inst.carry_forward:
        spent, budget = np.cumsum(spent, axis=1), np.cumsum(budget)
    return np.asarray(np.all(spent <= budget * (1 + 1e-12) + 1e-6, axis=1))


def aggregate_rows(
    inst: ProgrammeInstance,
    *,
    signature_arcs: int = 2,
    value_buckets: int = 3,
    arcs_per_row: int = 5,
) -> tuple[ProgrammeInstance, np.ndarray]:
    """Merge alike demand rows (a restriction: savings never above the exact ones).

    Parameters
    ----------
    inst
        The model (usually its candidate sites' arcs of positive value).
    signature_arcs, value_buckets
        Rows are alike when they enter in the same year with the same presence shares, their
        ``signature_arcs`` most valuable sites are the same set and their best values per pupil
        fall in the same of ``value_buckets`` equal bands.
    arcs_per_row
        Arcs kept per merged row: its most valuable of the sites every member reaches.

    Returns
    -------
    tuple of (ProgrammeInstance, numpy.ndarray)
        The aggregated instance (same sites and options) and ``(R,)`` each row's merged row.
    """
    n_r = len(inst.row_count)
    ar, asite, av = inst.arc_row, inst.arc_site, inst.arc_value
    order = np.lexsort((asite, -av, ar))
    ar, asite, av = ar[order], asite[order], av[order]
    rank = np.arange(len(ar)) - np.searchsorted(ar, ar, side="left")
    k = max(1, int(signature_arcs))
    top = np.full((n_r, k), -1)
    top[ar[rank < k], rank[rank < k]] = asite[rank < k]
    best = np.zeros(n_r)
    best[ar[rank == 0]] = av[rank == 0]
    band = np.floor(best / max(float(best.max(initial=0.0)), 1e-300) * max(1, value_buckets))
    share = inst.row_present / np.maximum(inst.row_count, 1e-300)[:, None]
    _, profile = np.unique(np.round(share, 9), axis=0, return_inverse=True)
    key = np.column_stack([inst.row_entry, profile.ravel(), np.sort(top, axis=1), band])
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    n_g = int(group.max(initial=-1)) + 1
    count = np.bincount(group, weights=inst.row_count, minlength=n_g)
    members = np.bincount(group, minlength=n_g)
    present = np.zeros((n_g, len(inst.years)))
    np.add.at(present, group, inst.row_present)
    entry = np.zeros(n_g, dtype=int)
    entry[group] = inst.row_entry
    # arcs every member reaches, at the count-weighted mean value
    n_s = len(inst.site_ids)
    pair = group[inst.arc_row] * n_s + inst.arc_site
    uniq, inv = np.unique(pair, return_inverse=True)
    reach = np.bincount(inv, minlength=len(uniq))
    total = np.bincount(inv, weights=inst.row_count[inst.arc_row] * inst.arc_value)
    g_of, s_of = uniq // n_s, uniq % n_s
    ok = reach == members[g_of]
    g_of, s_of, val = g_of[ok], s_of[ok], total[ok] / np.maximum(count[g_of[ok]], 1e-300)
    order = np.lexsort((s_of, -val, g_of))
    g_of, s_of, val = g_of[order], s_of[order], val[order]
    rank = np.arange(len(g_of)) - np.searchsorted(g_of, g_of, side="left")
    keep = rank < max(1, int(arcs_per_row))
    agg = replace(inst, row_count=count, row_entry=entry, row_present=present)
    return replace(agg, arc_row=g_of[keep], arc_site=s_of[keep], arc_value=val[keep]), group


def _sites_mask(inst: ProgrammeInstance, options: Sequence[int]) -> np.ndarray:
    mask = np.zeros(len(inst.site_ids), dtype=bool)
    mask[inst.opt_site[np.asarray(list(options), dtype=int)]] = True
    return mask


def _candidates(
    inst: ProgrammeInstance, relaxed_y: np.ndarray | None, start: Sequence[int], threshold: float
) -> np.ndarray:
    """``(J,)`` sites the heuristic may open."""
    n_s = len(inst.site_ids)
    if relaxed_y is None:
        cand = np.ones(n_s, dtype=bool)
    else:
        y = np.asarray(relaxed_y, dtype=float)
        if y.shape != inst.opt_site.shape:
            msg = f"`relaxed_y` must have one value per option ({len(inst.opt_site)}); got shape "
            raise ConfigError(
                msg + f"{y.shape}: pass the relaxation's option columns x[:n_options]"
            )
        cand = np.bincount(inst.opt_site, weights=y, minlength=n_s) > threshold
    return cand | _sites_mask(inst, start)


def _restricted_milp(
    agg: ProgrammeInstance, cand: np.ndarray, start: Sequence[int], time_limit_s: float
) -> tuple[int, ...]:
    """Best programme of the aggregated model over the candidate sites within the time."""
    fallback = evaluate_programme(agg, start, presolve=False) if len(start) else None
    off = np.flatnonzero(~cand).tolist()
    limit_s = max(1.0, time_limit_s)
    sol = solve_programme(
        agg, fixed_off_sites=off, strong_linking=True, time_limit_s=limit_s, fallback=fallback
    )
    msg = "restricted MILP: %d rows, %d arcs -> %s %.6g (bound %.6g)"
    logger.info(msg, len(agg.row_count), len(agg.arc_row), sol.status, sol.objective, sol.bound)
    return sol.options


def _moves(
    screen: ProgrammeFlows,
    cur: tuple[int, ...],
    cand_opt: np.ndarray,
    places: np.ndarray,
    budget: ProgrammeInstance,
) -> list[tuple[int, int]]:
    """Single moves from ``cur`` that fit ``budget``'s budgets, as (option dropped or -1, option
    added), best estimate first: resize or retime a site, add a site, swap a site for another,
    valued at the screening model's prices (a site's places at its capacity prices, a new site
    by :func:`~placeplan.compute.programme_flows.add_gains`)."""
    inst = screen.inst
    u, pi, _ = screen.prices(cur)
    gain = add_gains(inst, screen.by_site, u)
    c = np.asarray(cur, dtype=int)
    keep = np.einsum("oy,oy->o", pi[inst.opt_site[c]], places[c]) + inst.opt_value[c]
    new = np.flatnonzero(cand_opt & ~_sites_mask(inst, cur)[inst.opt_site] & (gain > 0))
    same = inst.opt_site[c][:, None] == inst.opt_site[None, :]  # resize / retime
    di, add_same = np.nonzero(same & (np.arange(len(inst.opt_site)) != c[:, None]))
    est_same = np.einsum("ay,ay->a", places[add_same], pi[inst.opt_site[add_same]])
    drop = np.concatenate([c[di], np.full(new.size, -1), np.repeat(c, new.size)])
    add = np.concatenate([add_same, new, np.tile(new, c.size)])
    est = np.concatenate(
        [est_same + inst.opt_value[add_same] - keep[di], gain[new], np.tile(gain[new], c.size)]
    )
    est[drop.size - c.size * new.size :] -= np.repeat(keep, new.size)
    by_fy = np.eye(len(inst.fy_labels))[inst.opt_fy] * inst.opt_capital_gbp[:, None]  # (O, F)
    after = by_fy[c].sum(axis=0) + by_fy[add] - np.where(drop[:, None] >= 0, by_fy[drop], 0.0)
    ok = _within_budget(budget, after)
    order = np.lexsort((add, drop, -est))
    order = order[ok[order]]
    return list(zip(drop[order].tolist(), add[order].tolist(), strict=True))[::-1]


def _local_search(
    budget: ProgrammeInstance,
    exact: ProgrammeFlows,
    screen: ProgrammeFlows,
    cand: np.ndarray,
    options: tuple[int, ...],
    deadline: float,
) -> tuple[int, ...]:
    """Hill-climb from ``options`` within ``budget``'s budgets: each round screens ``_BATCH``
    moves (best estimates first) on the screening model and takes the best that raises its
    savings; after ``_CHAIN`` moves (or none left) the exact savings must have risen, else the
    climb goes back to the last checked programme and halves ``_CHAIN``. Stops at the deadline
    or when no screened move helps."""
    inst, batch, chain = exact.inst, _BATCH, _CHAIN
    cur = good = tuple(sorted(options))
    good_val = exact.value(good)
    cand_opt = cand[inst.opt_site]
    n_y = len(inst.years)
    places = np.where(inst.opt_open[:, None] <= np.arange(n_y), inst.opt_places[:, None], 0.0)
    seen, done, pending, moves = {cur}, 0, 0, _moves(screen, cur, cand_opt, places, budget)
    while time.perf_counter() < deadline:
        base, step = screen.value(cur), None
        while moves and step is None and time.perf_counter() < deadline:
            scored: list[tuple[float, tuple[int, ...]]] = []
            while moves and len(scored) < batch:
                drop, add = moves.pop()  # best estimate last
                trial = tuple(sorted({*cur, add} - {drop}))
                if trial not in seen:
                    seen.add(trial)
                    scored.append((screen.value(trial) - base, trial))
            best = max(scored, default=(0.0, cur), key=lambda m: m[0])
            step = best[1] if best[0] > _REL * max(1.0, abs(base)) else None
        if step is not None:
            cur, pending = step, pending + 1
            moves = _moves(screen, cur, cand_opt, places, budget)
            if pending < chain:
                continue
        if not pending:
            break  # no screened move helps
        val = exact.value(cur)
        if val > good_val + _REL * max(1.0, abs(good_val)):
            good, good_val, done = cur, val, done + pending
        else:
            cur, chain = good, max(1, chain // 2)
            moves = _moves(screen, cur, cand_opt, places, budget)
        pending = 0
    msg = "local search: %d moves, %d exact and %d screening flow LPs, savings %.6g"
    logger.info(msg, done, exact.solves, screen.solves, good_val)
    return good


def improve_programme(
    inst: ProgrammeInstance,
    *,
    relaxed_y: np.ndarray | None = None,
    start: ProgrammeSolution | Sequence[int] | None = None,
    time_limit_s: float = 90.0,
    arc_mask: np.ndarray | None = None,
    site_threshold: float = 0.01,
    milp_share: float = 0.4,
    max_exact_arcs: int = 20_000,
    forbid_sites: Sequence[int] = (),
    flows: ProgrammeFlows | None = None,
) -> ProgrammeSolution:
    """A good programme for a large model within ``time_limit_s`` (see the module docstring).

    Parameters
    ----------
    inst
        The full model.
    relaxed_y
        ``(O,)`` the LP relaxation's option values, if known: sites whose options sum to at
        most ``site_threshold`` are left closed. Default: every site is a candidate.
    start
        A programme feasible in ``inst`` (e.g. from pricing), as a solution or its option
        indices: the MILP's first incumbent, and the result is never worse.
    time_limit_s
        Wall-clock seconds for the whole call (the last exact LP may overrun it a little).
    arc_mask
        ``(A,)`` arcs the aggregated MILP may use (e.g. each row's nearest sites'); exact
        savings always use every arc.
    site_threshold
        Least summed ``relaxed_y`` of a candidate site.
    milp_share
        Share of the time for the restricted MILP; local search gets the rest.
    max_exact_arcs
        Up to this many candidate arcs, the MILP and the screening keep every row unmerged.
    forbid_sites
        Site indices that stay closed (``start`` must not open any of them).
    flows
        A cache of exact savings to reuse (e.g. shared by the steps of a budget curve): built
        on ``inst`` or on an instance with the same arcs, rows and options (budgets may differ;
        the budgets used are ``inst``'s). Default: a new one.

    Returns
    -------
    ProgrammeSolution
        ``status="heuristic"``: a programme feasible in ``inst`` (one option per site, every
        financial year's budget) with its exact savings and flows on every arc; ``bound`` and
        ``gap`` are not known (``nan``).

    Raises
    ------
    ConfigError
        ``relaxed_y``, ``arc_mask`` or ``flows`` not matching ``inst``, ``start`` not feasible
        or opening a forbidden site, or a forbidden site out of range.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    first = _checked_start(inst, start, forbid_sites)
    cand = _candidates(inst, relaxed_y, first, site_threshold)
    cand[np.asarray(list(forbid_sites), dtype=int)] = False
    use = cand[inst.arc_site] & (inst.arc_value > 0)
    if arc_mask is not None:
        mask = np.asarray(arc_mask, dtype=bool)
        if mask.shape != inst.arc_row.shape:
            msg = f"`arc_mask` must have one entry per arc ({len(inst.arc_row)}); got {mask.shape}"
            raise ConfigError(msg)
        use &= mask
    exact = ProgrammeFlows(inst) if flows is None else _checked_flows(inst, flows)
    best, best_val = first, exact.value(first)
    agg = _arcs_kept(inst, use)
    if len(agg.arc_row) > max_exact_arcs:
        agg, _ = aggregate_rows(agg, signature_arcs=1, value_buckets=3, arcs_per_row=4)
    left = deadline - time.perf_counter()
    milp = _restricted_milp(agg, cand, first, max(1.0, milp_share * left))
    milp_val = exact.value(milp)
    logger.info("restricted MILP programme: %d options, exact savings %.6g", len(milp), milp_val)
    if milp_val > best_val:
        best, best_val = milp, milp_val
    work, screen = _arcs_kept(inst, cand[inst.arc_site] & (inst.arc_value > 0)), exact
    if len(work.arc_row) > max_exact_arcs:  # else screen on the exact flow LPs
        work, _ = aggregate_rows(work, signature_arcs=2, value_buckets=6, arcs_per_row=8)
        screen = ProgrammeFlows(work)
    best = _local_search(inst, exact, screen, cand, best, deadline)
    return exact.solution(best, status="heuristic", solve_time_s=time.perf_counter() - t0)


def _checked_start(
    inst: ProgrammeInstance,
    start: ProgrammeSolution | Sequence[int] | None,
    forbid_sites: Sequence[int],
) -> tuple[int, ...]:
    """``start``'s option indices, ascending, once it fits and opens no forbidden site."""
    opts = () if start is None else start.options if isinstance(start, ProgrammeSolution) else start
    first = tuple(sorted(int(o) for o in opts))
    n_o, n_s = len(inst.opt_site), len(inst.site_ids)
    if any(o < 0 or o >= n_o for o in first):
        msg = f"`start` must hold option indices in 0..{n_o - 1}; got {list(first)}"
        raise ConfigError(msg)
    if not programme_fits(inst, first):
        msg = "`start` opens a site twice or overspends a financial year; pass a feasible one"
        raise ConfigError(msg)
    forbidden = {int(j) for j in forbid_sites}
    if any(j < 0 or j >= n_s for j in forbidden):
        msg = f"`forbid_sites` must hold site indices in 0..{n_s - 1}; got {sorted(forbidden)}"
        raise ConfigError(msg)
    clash = sorted(forbidden & {int(inst.opt_site[o]) for o in first})
    if clash:
        names = ", ".join(inst.site_ids[j] for j in clash)
        msg = f"`start` opens site(s) {names} that `forbid_sites` keeps closed; drop them from it"
        raise ConfigError(msg)
    return first


def _checked_flows(inst: ProgrammeInstance, flows: ProgrammeFlows) -> ProgrammeFlows:
    """``flows`` once it was built on ``inst``'s arcs, rows and options."""
    other = flows.inst
    same = (
        len(other.arc_row) == len(inst.arc_row)
        and len(other.row_count) == len(inst.row_count)
        and len(other.opt_site) == len(inst.opt_site)
        and len(other.years) == len(inst.years)
    )
    if not same:
        msg = (
            f"`flows` was built on another model ({len(other.arc_row)} arcs, "
            f"{len(other.row_count)} rows, {len(other.opt_site)} options; this one has "
            f"{len(inst.arc_row)}, {len(inst.row_count)}, {len(inst.opt_site)}): build it with "
            "ProgrammeFlows(inst) on the same instance (budgets may differ)"
        )
        raise ConfigError(msg)
    return flows


def _arcs_kept(inst: ProgrammeInstance, keep: np.ndarray) -> ProgrammeInstance:
    row, site, value = inst.arc_row[keep], inst.arc_site[keep], inst.arc_value[keep]
    return replace(inst, arc_row=row, arc_site=site, arc_value=value)
