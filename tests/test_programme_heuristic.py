"""improve_programme: feasible, exactly evaluated, never worse than its start, optimal when easy."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from conftest import SMALL_PROGRAMMES
from placeplan._errors import ConfigError
from placeplan.compute.programme import evaluate_programme, solve_programme
from placeplan.compute.programme_flows import ProgrammeFlows
from placeplan.compute.programme_heuristic import (
    aggregate_rows,
    improve_programme,
    programme_fits,
)
from placeplan.compute.programme_synthetic import synthetic_programme


def _check_feasible(inst, sol):
    opts = np.asarray(sol.options, dtype=int)
    sites = inst.opt_site[opts]
    assert len(set(sites.tolist())) == opts.size  # one option per site
    spent = np.zeros(len(inst.fy_labels))
    np.add.at(spent, inst.opt_fy[opts], inst.opt_capital_gbp[opts])
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float)
    if inst.carry_forward:
        spent, budget = np.cumsum(spent), np.cumsum(budget)
    assert (spent <= budget + 1e-6).all()
    np.testing.assert_allclose(sol.capital_by_fy_gbp.sum(), inst.opt_capital_gbp[opts].sum())


def _brute_force(inst):
    """Best savings over every programme (each site: closed or one of its options)."""
    per_site = [
        [None, *np.flatnonzero(inst.opt_site == j).tolist()] for j in range(len(inst.site_ids))
    ]
    best = 0.0
    for combo in itertools.product(*per_site):
        opts = [o for o in combo if o is not None]
        if programme_fits(inst, opts):
            best = max(best, evaluate_programme(inst, opts).objective)
    return best


CASES = SMALL_PROGRAMMES


@pytest.mark.parametrize("case", CASES)
def test_feasible_exact_and_within_the_optimum(case):
    inst = synthetic_programme(**case)
    sol = improve_programme(inst, time_limit_s=10.0)
    _check_feasible(inst, sol)
    assert sol.status == "heuristic"
    assert sol.objective == pytest.approx(evaluate_programme(inst, sol.options).objective, rel=1e-7)
    assert float(inst.arc_value @ sol.flows) == pytest.approx(sol.objective, rel=1e-7)
    optimum = solve_programme(inst).objective
    assert sol.objective <= optimum * (1 + 1e-7) + 1e-9
    assert sol.objective == pytest.approx(optimum, rel=1e-6)  # easy: reached


def test_brute_force_optimum_reached():
    inst = synthetic_programme(
        n_rows=25, n_sites=3, seed=7, objective="pupil_minutes", budget_by_fy_gbp=[300e3, 500e3]
    )
    best = _brute_force(inst)
    sol = improve_programme(inst, time_limit_s=10.0)
    assert best > 0
    assert sol.objective == pytest.approx(best, rel=1e-6)


def test_never_worse_than_start_and_uses_relaxed_y():
    inst = synthetic_programme(n_rows=60, n_sites=8, n_needs=2, seed=5)
    start = evaluate_programme(inst, [0])
    # a relaxation that points only at site 0 keeps the search on the start's site
    y = np.zeros(len(inst.opt_site))
    y[0] = 1.0
    sol = improve_programme(inst, relaxed_y=y, start=start, time_limit_s=10.0)
    _check_feasible(inst, sol)
    assert sol.objective >= start.objective - 1e-9
    assert set(inst.opt_site[list(sol.options)].tolist()) <= {0}
    free = improve_programme(inst, start=start, time_limit_s=10.0)
    assert free.objective > sol.objective  # more candidate sites, more savings
    assert free.objective == pytest.approx(solve_programme(inst).objective, rel=1e-6)


def test_arc_mask_restricts_the_milp_not_the_evaluation():
    inst = synthetic_programme(n_rows=40, n_sites=6, seed=6, objective="pupil_minutes")
    mask = np.zeros(len(inst.arc_row), dtype=bool)
    mask[::2] = True
    sol = improve_programme(inst, arc_mask=mask, time_limit_s=10.0)
    _check_feasible(inst, sol)
    assert sol.objective == pytest.approx(evaluate_programme(inst, sol.options).objective, rel=1e-7)


def test_aggregated_savings_never_exceed_exact():
    inst = synthetic_programme(n_rows=80, n_sites=6, seed=8, objective="pupil_minutes")
    # same presence shares for every row, so rows can merge
    inst = type(inst)(
        **{
            **{f: getattr(inst, f) for f in inst.__dataclass_fields__},
            "row_present": np.outer(inst.row_count, [0.0, 1.0, 0.8]),
            "row_entry": np.ones(len(inst.row_count), dtype=int),
        }
    )
    agg, group = aggregate_rows(inst, signature_arcs=1, value_buckets=2, arcs_per_row=3)
    assert len(agg.row_count) < len(inst.row_count)
    np.testing.assert_allclose(agg.row_count.sum(), inst.row_count.sum())
    rng = np.random.default_rng(0)
    for _ in range(5):
        sites = rng.choice(len(inst.site_ids), 3, replace=False)
        opts = [int(np.flatnonzero(inst.opt_site == j)[0]) for j in sites]
        assert (
            evaluate_programme(agg, opts).objective
            <= evaluate_programme(inst, opts).objective + 1e-7
        )
    assert group.shape == inst.row_count.shape


def test_bad_inputs_say_how_to_fix():
    inst = synthetic_programme(n_rows=10, n_sites=3, seed=1)
    with pytest.raises(ConfigError, match="relaxed_y"):
        improve_programme(inst, relaxed_y=np.zeros(3))
    with pytest.raises(ConfigError, match="arc_mask"):
        improve_programme(inst, arc_mask=np.zeros(2, dtype=bool))
    twice = [0, 1]  # two options of site 0
    assert inst.opt_site[0] == inst.opt_site[1]
    with pytest.raises(ConfigError, match="start"):
        improve_programme(inst, start=replace(evaluate_programme(inst, [0]), options=tuple(twice)))


def test_programme_flows_are_exact_per_part():
    inst = synthetic_programme(n_rows=60, n_sites=8, n_needs=2, seed=4, objective="pupil_minutes")
    flows = ProgrammeFlows(inst)
    assert flows.value([]) == 0.0
    for opts in ([0], [0, 6, 12], [3, 9, 18, 30]):
        opts = [o for o in opts if o < len(inst.opt_site)]
        parts = flows.parts(opts)
        # sites of different needs never share a part
        for part in parts:
            assert len({int(inst.opt_site[o]) % 2 for o in part}) == 1
        assert sorted(o for p in parts for o in p) == sorted(opts)
        want = evaluate_programme(inst, opts).objective
        assert flows.value(opts) == pytest.approx(want, rel=1e-7, abs=1e-9)
        _, _, x = flows.prices(opts)
        assert float(inst.arc_value @ x) == pytest.approx(want, rel=1e-7, abs=1e-9)


def test_start_as_indices_forbidden_sites_and_a_shared_cache():
    inst = synthetic_programme(n_rows=60, n_sites=8, n_needs=2, seed=5)
    start = evaluate_programme(inst, [0])
    by_sol = improve_programme(inst, start=start, time_limit_s=10.0)
    by_idx = improve_programme(inst, start=[0], time_limit_s=10.0)
    assert by_idx.options == by_sol.options
    assert by_idx.objective == pytest.approx(by_sol.objective, rel=1e-9)
    best_sites = {int(inst.opt_site[o]) for o in by_sol.options}
    assert best_sites  # something to forbid
    forbid = sorted(best_sites)[:1]
    cache = ProgrammeFlows(inst)
    sol = improve_programme(inst, forbid_sites=forbid, flows=cache, time_limit_s=10.0)
    _check_feasible(inst, sol)
    assert not {int(inst.opt_site[o]) for o in sol.options} & set(forbid)
    assert sol.objective <= by_sol.objective + 1e-7
    assert sol.objective == pytest.approx(evaluate_programme(inst, sol.options).objective, rel=1e-7)
    assert cache.solves > 0  # the caller's cache did the work


def test_shared_cache_of_a_larger_budget_keeps_to_the_instance_budget():
    """The cache may be built on the full budget; the moves must fit the instance's own."""
    full = synthetic_programme(
        n_rows=60, n_sites=8, n_needs=2, seed=4, objective="pupil_minutes", carry_forward=True
    )
    cache = ProgrammeFlows(full)
    for scale in (0.25, 0.5):
        small = replace(full, budget_by_fy_gbp=np.asarray(full.budget_by_fy_gbp) * scale)
        sol = improve_programme(small, flows=cache, time_limit_s=10.0)
        _check_feasible(small, sol)
        assert sol.objective == pytest.approx(_brute_force(small), rel=1e-6)


def test_start_forbid_and_flows_errors_say_how_to_fix():
    inst = synthetic_programme(n_rows=10, n_sites=3, seed=1, budget_by_fy_gbp=[1e6, 1e6])
    o = next(o for o in range(len(inst.opt_site)) if programme_fits(inst, [o]))
    with pytest.raises(ConfigError, match="forbid_sites"):
        improve_programme(inst, start=[o], forbid_sites=[int(inst.opt_site[o])])
    with pytest.raises(ConfigError, match="forbid_sites"):
        improve_programme(inst, forbid_sites=[len(inst.site_ids)])
    with pytest.raises(ConfigError, match="start"):
        improve_programme(inst, start=[len(inst.opt_site)])
    keep = np.arange(len(inst.arc_row)) % 2 == 0
    other = replace(
        inst,
        arc_row=inst.arc_row[keep],
        arc_site=inst.arc_site[keep],
        arc_value=inst.arc_value[keep],
    )
    with pytest.raises(ConfigError, match="flows"):
        improve_programme(inst, flows=ProgrammeFlows(other))
