"""The Lagrangian bound (``programme_lagrange``): valid for any prices, never above the weak
relaxation from its duals, and tight where the relaxation is not.

Oracles: exhaustive search over every programme (``test_programme._brute``) and the LP
relaxation with per-assignment linking rows (``solve_programme(strong_linking=True)``'s root is
not exposed, so the MILP optimum stands in: the bound must lie between it and the weak LP).
"""

from __future__ import annotations

import numpy as np
import pytest

from placeplan.compute.programme import relaxation, solve_programme
from placeplan.compute.programme_lagrange import lagrangian_bound, lagrangian_value
from placeplan.compute.programme_synthetic import synthetic_programme
from test_programme import SMALL, _brute


def scarce_programme():
    """Few pupils round each of 6 sites, whole bases of 8 or 12 places, £0.8m a year: the
    relaxation buys only the places it fills, so its bound is loose."""
    return synthetic_programme(
        n_rows=30,
        n_sites=6,
        seed=4,
        objective="pupil_minutes",
        sizes=((8, 400_000.0), (12, 600_000.0)),
        budget_by_fy_gbp=[800_000.0, 800_000.0],
    )


@pytest.mark.parametrize("kw", SMALL)
@pytest.mark.parametrize("integer", [False, True])
def test_any_non_negative_prices_bound_the_optimum(kw, integer):
    inst = synthetic_programme(**kw)
    best = max(_brute(inst).values())
    rng = np.random.default_rng(kw["seed"])
    scale = float(np.abs(inst.arc_value).max())
    for _ in range(5):
        u = rng.uniform(0, scale, len(inst.row_count)) * rng.integers(0, 2, len(inst.row_count))
        pi = rng.uniform(0, scale, (len(inst.site_ids), len(inst.years)))
        pi *= rng.integers(0, 2, pi.shape)
        assert lagrangian_value(inst, u, pi, integer=integer) >= best - 1e-7


@pytest.mark.parametrize("kw", SMALL)
def test_bound_lies_between_the_optimum_and_the_relaxation(kw):
    inst = synthetic_programme(**kw)
    best = max(_brute(inst).values())
    lp = relaxation(inst)
    lag = lagrangian_bound(
        inst, row_price=lp.row_price, capacity_price=lp.capacity_price, max_iterations=300
    )
    assert best - 1e-7 <= lag.bound <= lp.value + 1e-6
    # the master's programme is one programme: at most one option per site, within budget
    sites = inst.opt_site[list(lag.options)]
    assert len(set(sites.tolist())) == len(lag.options)


def test_zero_prices_give_the_best_programme_with_every_pupil_free():
    """u = π = 0: each option is worth every pupil it could take, ignoring places; the bound
    is then the best programme of those worths, which a hand count reproduces."""
    inst = synthetic_programme(n_rows=8, n_sites=2, seed=3, n_years=2)
    u = np.zeros(len(inst.row_count))
    pi = np.zeros((len(inst.site_ids), len(inst.years)))
    first = np.argmax(inst.row_present > 0, axis=1)
    worth = np.zeros(len(inst.opt_site))
    for o in range(len(inst.opt_site)):
        on = (inst.arc_site == inst.opt_site[o]) & (first[inst.arc_row] >= inst.opt_open[o])
        worth[o] = np.sum(np.maximum(inst.arc_value[on], 0) * inst.row_count[inst.arc_row[on]])
    best = 0.0
    opts = [np.flatnonzero(inst.opt_site == j) for j in range(2)]
    for a in [None, *opts[0]]:
        for b in [None, *opts[1]]:
            chosen = [o for o in (a, b) if o is not None]
            spent = np.zeros(len(inst.fy_labels))
            for o in chosen:
                spent[inst.opt_fy[o]] += inst.opt_capital_gbp[o]
            if (spent <= np.asarray(inst.budget_by_fy_gbp) + 1e-6).all():
                best = max(best, sum(worth[o] for o in chosen))
    assert lagrangian_value(inst, u, pi, integer=True) == pytest.approx(best, rel=1e-9)


def test_scarce_demand_bound_is_tighter_than_the_relaxation():
    """Few pupils round each site and whole bases to buy: the relaxation buys the places it
    fills; the Lagrangian bound pays for whole bases and comes down towards the optimum."""
    inst = scarce_programme()
    opt = solve_programme(inst, strong_linking=True)
    assert opt.status == "optimal"
    lp = relaxation(inst)
    lag = lagrangian_bound(inst, row_price=lp.row_price, capacity_price=lp.capacity_price)
    assert opt.objective - 1e-7 <= lag.bound < lp.value
    assert (lag.bound - opt.objective) < 0.5 * (lp.value - opt.objective)
