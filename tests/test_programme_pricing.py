"""Programme model at scale: places cuts, warm starts, the relaxation's prices, pricing.

Oracles: exhaustive search (small instances, as in ``test_programme``), a brute-force knapsack
for the places cut, and cold solves for warm-started ones.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from placeplan.compute.programme import relaxation, solve_programme
from placeplan.compute.programme_presolve import max_places_within
from placeplan.compute.programme_pricing import initial_arc_mask, solve_programme_priced
from placeplan.compute.programme_study import budget_curve, greedy_programme
from placeplan.compute.programme_synthetic import synthetic_programme
from test_programme import SMALL, _brute, _fits
from test_programme_lagrange import scarce_programme


def test_max_places_within_matches_enumeration():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n_sites = 4
        site = np.repeat(np.arange(n_sites), 3)
        places = np.tile([8.0, 12.0, 16.0], n_sites)
        capital = places * 50_000 * rng.uniform(0.85, 1.15, len(places))
        budget = float(rng.uniform(300_000, 2_000_000))
        best = 0.0
        for combo in itertools.product(*[[None, 0, 1, 2]] * n_sites):
            opts = [3 * j + k for j, k in enumerate(combo) if k is not None]
            if capital[opts].sum() <= budget:
                best = max(best, float(places[opts].sum()))
        assert max_places_within(site, places, capital, budget) == best


def test_max_places_within_skips_fractional_places():
    assert max_places_within(np.array([0]), np.array([2.5]), np.array([1.0]), 10.0) is None


@pytest.mark.parametrize("kw", SMALL)
def test_relaxation_bounds_the_optimum_and_its_prices_are_non_negative(kw):
    inst = synthetic_programme(**kw)
    lp = relaxation(inst)
    assert lp.value >= max(_brute(inst).values()) - 1e-7
    assert (lp.row_price >= -1e-9).all()
    assert (lp.capacity_price >= -1e-9).all()


@pytest.mark.parametrize("kw", SMALL)
def test_priced_solve_from_one_arc_a_row_is_optimal_on_every_arc(kw):
    inst = synthetic_programme(**kw)
    best = max(_brute(inst).values())
    sol = solve_programme_priced(inst, initial_arcs=1)
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6
    assert sol.status == "optimal"
    assert sol.gap == 0.0
    assert _fits(inst, sol.options)
    assert float(inst.arc_value @ sol.flows) == pytest.approx(sol.objective, abs=1e-6)


def test_priced_bound_holds_when_pricing_stops_early():
    inst = synthetic_programme(n_rows=20, n_sites=4, seed=2, n_years=3)
    best = max(_brute(inst).values())
    sol = solve_programme_priced(inst, initial_arcs=1, max_rounds=1)
    assert sol.objective <= best + 1e-6
    assert sol.bound >= best - 1e-6
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.objective, abs=1e-9) or (
        sol.gap == 0.0
    )


def test_initial_arc_mask_keeps_the_most_valuable_arcs_of_each_row():
    inst = synthetic_programme(n_rows=10, n_sites=4, seed=1, objective="pupil_minutes")
    mask = initial_arc_mask(inst, 2)
    for r in range(len(inst.row_count)):
        arcs = np.flatnonzero(inst.arc_row == r)
        kept = arcs[mask[arcs]]
        assert len(kept) == min(2, len(arcs))
        if len(arcs) > 2:
            assert inst.arc_value[kept].min() >= np.sort(inst.arc_value[arcs])[-2] - 1e-12


@pytest.mark.parametrize("kw", SMALL[:4])
def test_warm_started_curve_equals_cold_solves_and_never_falls(kw):
    inst = synthetic_programme(**kw)
    curve = budget_curve(inst, steps=5)
    values = [p.solution.objective for p in curve]
    assert values == sorted(values)
    for p in curve:
        cold = solve_programme(inst, budget_scale=p.budget_scale)
        assert p.solution.objective == pytest.approx(cold.objective, abs=1e-7)


def test_a_start_programme_does_not_change_the_optimum():
    inst = synthetic_programme(n_rows=15, n_sites=4, seed=5)
    greedy = greedy_programme(inst)
    warm = solve_programme(inst, fallback=greedy)
    cold = solve_programme(inst)
    assert warm.objective == pytest.approx(cold.objective, abs=1e-7)
    assert warm.objective >= greedy.objective - 1e-7


def test_places_cut_leaves_fractional_sizes_alone():
    inst = synthetic_programme(n_rows=12, n_sites=3, seed=0)
    frac = replace(inst, opt_places=inst.opt_places + 0.5)
    sol = solve_programme(frac)
    assert sol.objective == pytest.approx(max(_brute(frac).values()), abs=1e-7)


def test_lagrangian_stage_tightens_the_priced_bound_and_stays_valid():
    """Scarce demand, whole bases: the relaxation's bound is loose; the Lagrangian stage lowers
    it, never below the optimum, and a solve that ends early with a gap says "feasible"."""
    inst = scarce_programme()
    opt = solve_programme(inst, strong_linking=True)
    weak = solve_programme_priced(inst, initial_arcs=1, lagrangian=False)
    strong = solve_programme_priced(inst, initial_arcs=1)
    assert opt.status == "optimal"
    assert opt.objective - 1e-7 <= strong.bound < weak.bound - 1e-6
    assert strong.objective <= opt.objective + 1e-7
    assert strong.gap > 0 and strong.status == "feasible"
    assert strong.objective >= weak.objective - 1e-7  # its programme is a candidate, never a loss
