"""Capital programme optimisation (sites × sizes × opening years within budgets per year).

Oracles: exhaustive search over every programme (at most one option per site) on instances small
enough to enumerate, with each programme's flows solved exactly; spopt's maximal covering model
where the programme reduces to it; invariants (budget curve never falls, alternatives distinct).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from placeplan._errors import ConfigError
from placeplan.compute.programme import (
    ProgrammeInstance,
    evaluate_programme,
    solve_programme,
)
from placeplan.compute.programme_study import (
    alternatives,
    budget_curve,
    greedy_programme,
    site_contributions,
)
from placeplan.compute.programme_synthetic import synthetic_programme


def _fits(inst: ProgrammeInstance, opts: tuple[int, ...], scale: float = 1.0) -> bool:
    spent = np.zeros(len(inst.fy_labels))
    for o in opts:
        spent[inst.opt_fy[o]] += inst.opt_capital_gbp[o]
    budget = np.asarray(inst.budget_by_fy_gbp) * scale
    if inst.carry_forward:
        return bool((np.cumsum(spent) <= np.cumsum(budget) + 1e-6).all())
    return bool((spent <= budget + 1e-6).all())


def _all_programmes(inst: ProgrammeInstance, scale: float = 1.0):
    """Every programme: for each site, closed or one of its options; those within budget."""
    per_site = [
        [None, *np.flatnonzero(inst.opt_site == j).tolist()] for j in range(len(inst.site_ids))
    ]
    for combo in itertools.product(*per_site):
        opts = tuple(o for o in combo if o is not None)
        if _fits(inst, opts, scale):
            yield opts


def _brute(inst: ProgrammeInstance, scale: float = 1.0) -> dict[frozenset[int], float]:
    """Best savings per distinct site set, by exhaustive search."""
    best: dict[frozenset[int], float] = {}
    for opts in _all_programmes(inst, scale):
        key = frozenset(int(inst.opt_site[o]) for o in opts)
        val = evaluate_programme(inst, opts).objective
        best[key] = max(best.get(key, -math.inf), val)
    return best


SMALL = [
    {"n_rows": 12, "n_sites": 3, "seed": s, "n_years": 3, "carry_forward": s % 2 == 1}
    for s in range(6)
] + [
    {"n_rows": 10, "n_sites": 3, "seed": 10 + s, "objective": "pupil_minutes", "n_needs": 2}
    for s in range(3)
]


@pytest.mark.parametrize("kw", SMALL)
def test_optimum_matches_exhaustive_search(kw):
    inst = synthetic_programme(**kw)
    brute = _brute(inst)
    sol = solve_programme(inst)
    assert sol.status == "optimal"
    assert sol.gap == 0.0
    assert sol.objective == pytest.approx(max(brute.values()), rel=1e-7, abs=1e-7)
    assert _fits(inst, sol.options)
    # the reported flows achieve the reported savings
    assert float(inst.arc_value @ sol.flows) == pytest.approx(sol.objective, abs=1e-6)


@pytest.mark.parametrize("kw", SMALL[:4])
def test_budget_curve_never_falls_and_matches_exhaustive_search(kw):
    inst = synthetic_programme(**kw)
    curve = budget_curve(inst, steps=4)
    values = [p.solution.objective for p in curve]
    assert values == sorted(values)
    for p in curve:
        assert p.solution.objective == pytest.approx(
            max(_brute(inst, p.budget_scale).values()), abs=1e-7
        )
        assert p.solution.capital_gbp <= p.budget_gbp + 1e-6
    assert curve[0].marginal_per_gbp == pytest.approx(values[0] / curve[0].budget_gbp)


def test_alternatives_are_the_next_best_distinct_site_sets():
    inst = synthetic_programme(n_rows=14, n_sites=4, seed=3)
    brute = sorted(_brute(inst).values(), reverse=True)
    best = solve_programme(inst)
    alts = alternatives(inst, best, k=3)
    sets = [frozenset(inst.opt_site[o] for o in s.options) for s in (best, *alts)]
    assert len(set(sets)) == len(sets)
    got = [best.objective, *(a.objective for a in alts)]
    assert got == pytest.approx(brute[: len(got)], abs=1e-7)


def test_alternatives_stop_when_no_other_set_fits():
    inst = synthetic_programme(n_rows=6, n_sites=1, seed=1, budget_by_fy_gbp=[1e9, 1e9])
    best = solve_programme(inst)
    alts = alternatives(inst, best, k=5)
    assert len(alts) == 1  # the single site open, then only "nothing open" is left
    assert alts[0].options == () and alts[0].objective == 0.0


def test_site_contributions_are_with_minus_without():
    inst = synthetic_programme(n_rows=20, n_sites=4, seed=5, budget_by_fy_gbp=[9e5, 9e5])
    sol = solve_programme(inst)
    contrib = site_contributions(inst, sol)
    assert set(contrib) == set(sol.options)
    for o, v in contrib.items():
        rest = [p for p in sol.options if p != o]
        assert v == pytest.approx(sol.objective - evaluate_programme(inst, rest).objective)
        assert v >= -1e-9


def test_opening_year_and_capacity_bind():
    """One row of 6 pupils entering in year 1; a 4-place site opening in year 1 takes 4, and an
    option opening in year 2 cannot take them at all (they need a place at entry)."""
    present = np.array([[0.0, 6.0, 6.0]])
    inst = ProgrammeInstance(
        site_ids=("A",),
        years=(2026, 2027, 2028),
        fy_labels=("2026-27", "2027-28"),
        budget_by_fy_gbp=np.array([1e6, 1e6]),
        opt_site=np.array([0, 0]),
        opt_places=np.array([4.0, 10.0]),
        opt_open=np.array([1, 2]),
        opt_fy=np.array([0, 1]),
        opt_capital_gbp=np.array([1.0, 1.0]),
        opt_value=np.zeros(2),
        row_count=np.array([6.0]),
        row_entry=np.array([1]),
        row_present=present,
        arc_row=np.array([0]),
        arc_site=np.array([0]),
        arc_value=np.array([2.0]),
    )
    sol = solve_programme(inst)
    assert sol.options == (0,)
    assert sol.objective == pytest.approx(8.0)
    assert evaluate_programme(inst, [1]).objective == 0.0


def test_budget_per_financial_year_binds_without_carry_forward():
    inst = synthetic_programme(n_rows=12, n_sites=3, seed=2, budget_by_fy_gbp=[0.0, 3e5])
    sol = solve_programme(inst)
    assert sol.capital_by_fy_gbp[0] == 0.0
    assert all(inst.opt_fy[o] == 1 for o in sol.options)


def test_does_not_spend_budget_that_buys_nothing():
    inst = synthetic_programme(n_rows=3, n_sites=4, seed=7, budget_by_fy_gbp=[1e8, 1e8])
    sol = solve_programme(inst)
    for o, v in site_contributions(inst, sol).items():
        assert v > 1e-9, f"option {o} adds nothing but was bought"


def test_time_limit_returns_best_found_with_gap():
    inst = synthetic_programme(n_rows=60, n_sites=8, seed=4, n_needs=2)
    sol = solve_programme(inst, time_limit_s=0.0, fallback=evaluate_programme(inst, []))
    assert sol.status in ("time_limit", "optimal")
    assert sol.bound >= sol.objective - 1e-9
    if sol.status == "time_limit":
        assert sol.gap > 0 or sol.bound == sol.objective


def test_gap_is_measured_on_savings():
    inst = synthetic_programme(n_rows=40, n_sites=6, seed=8)
    sol = solve_programme(inst, mip_rel_gap=0.2)
    opt = solve_programme(inst)
    assert sol.objective >= (1 - 0.2) * opt.objective - 1e-9
    assert sol.gap == pytest.approx(0.0) or sol.gap == pytest.approx(
        (sol.bound - sol.objective) / sol.objective
    )


def test_greedy_is_feasible_and_never_beats_the_optimum():
    for seed in range(4):
        inst = synthetic_programme(n_rows=15, n_sites=4, seed=seed)
        g = greedy_programme(inst)
        assert _fits(inst, g.options)
        assert g.objective <= solve_programme(inst).objective + 1e-7


def test_bad_inputs_say_how_to_fix_them():
    inst = synthetic_programme(n_rows=4, n_sites=2, seed=0)
    with pytest.raises(ConfigError, match="budget_scale"):
        solve_programme(inst, budget_scale=-1)
    with pytest.raises(ConfigError, match="steps"):
        budget_curve(inst, steps=0)
    same_site = np.flatnonzero(inst.opt_site == 0)[:2]
    with pytest.raises(ConfigError, match="twice"):
        evaluate_programme(inst, same_site.tolist())


@pytest.mark.parametrize("seed", range(3))
def test_reduces_to_maximal_covering_like_spopt(seed):
    """One year, one size big enough for everyone, unit capital and a budget of p sites: the
    programme is the maximal covering location problem; spopt's MCLP must agree."""
    locate = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    rng = np.random.default_rng(seed)
    n_r, n_s, p = 25, 6, 2
    rxy, sxy = rng.random((n_r, 2)) * 60, rng.random((n_s, 2)) * 60
    dist = np.hypot(*(rxy[:, None, :] - sxy[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 9, n_r).astype(float)
    ar, asite = np.nonzero(dist <= 20.0)
    inst = ProgrammeInstance(
        site_ids=tuple(f"S{j}" for j in range(n_s)),
        years=(2026, 2027),
        fy_labels=("2026-27",),
        budget_by_fy_gbp=np.array([float(p)]),
        opt_site=np.arange(n_s),
        opt_places=np.full(n_s, w.sum()),
        opt_open=np.ones(n_s, dtype=int),
        opt_fy=np.zeros(n_s, dtype=int),
        opt_capital_gbp=np.ones(n_s),
        opt_value=np.zeros(n_s),
        row_count=w,
        row_entry=np.ones(n_r, dtype=int),
        row_present=np.column_stack([np.zeros(n_r), w]),
        arc_row=ar,
        arc_site=asite,
        arc_value=np.ones(len(ar)),
    )
    ours = solve_programme(inst)
    model = locate.MCLP.from_cost_matrix(dist, w, service_radius=20.0, p_facilities=p)
    model = model.solve(pulp.HiGHS(msg=False))
    covered = float(pulp.value(model.problem.objective))
    assert ours.objective == pytest.approx(covered)
