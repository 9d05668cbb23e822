"""Tests for placeplan.compute._solver: statuses, solutions, bounds and gaps on known models."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute._solver import STATUSES, SolveResult, solve


def _brute_force_binary(c, a, lo, hi):
    """min c @ x over binary x with lo <= a @ x <= hi, by enumeration (independent of HiGHS)."""
    best, arg = np.inf, None
    for bits in itertools.product((0.0, 1.0), repeat=len(c)):
        x = np.array(bits)
        act = a @ x
        if np.all(act >= lo - 1e-9) and np.all(act <= hi + 1e-9) and c @ x < best:
            best, arg = float(c @ x), x
    return best, arg


def test_tiny_milp_known_optimum():
    # min -5x - 4y  s.t. 6x + 4y <= 24, x + 2y <= 6, x, y >= 0 integer
    # the LP optimum (3, 1.5) = -21 is fractional; the unique integer optimum is (4, 0) = -20
    a = sp.csr_array([[6.0, 4.0], [1.0, 2.0]])
    res = solve([-5.0, -4.0], a, -np.inf, [24.0, 6.0], 0.0, np.inf, [1, 1], mip_rel_gap=0.0)
    assert res.status == "optimal"
    assert res.x is not None
    assert np.round(res.x).tolist() == [4.0, 0.0]
    assert res.objective == pytest.approx(-20.0)
    assert res.bound == pytest.approx(-20.0)
    assert res.gap == 0.0
    assert res.time_s >= 0.0


def test_lp_relaxation_of_same_model_is_fractional_with_zero_gap():
    a = sp.csr_array([[6.0, 4.0], [1.0, 2.0]])
    res = solve([-5.0, -4.0], a, -np.inf, [24.0, 6.0], 0.0, np.inf)
    assert res.status == "optimal"
    assert res.x is not None
    np.testing.assert_allclose(res.x, [3.0, 1.5], atol=1e-9)
    assert (res.objective, res.bound, res.gap) == (pytest.approx(-21.0), pytest.approx(-21.0), 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_random_binary_programs_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, m = 8, 3
    c = rng.integers(-9, 10, n).astype(float)
    a = rng.integers(-3, 6, (m, n)).astype(float)
    lo = np.full(m, -np.inf)
    hi = rng.integers(2, 10, m).astype(float)
    lo[0] = 1.0  # at least some activity on the first row
    best, _ = _brute_force_binary(c, a, lo, hi)
    res = solve(c, sp.csr_array(a), lo, hi, 0.0, 1.0, np.ones(n), mip_rel_gap=0.0)
    if np.isinf(best):
        assert res.status == "infeasible"
        assert res.x is None
    else:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(best)
        assert res.x is not None
        assert c @ np.round(res.x) == pytest.approx(best)


def test_maximise_and_offset():
    # knapsack: values 5, 4, 3; weights 4, 3, 2; capacity 6 -> items 0 and 2, value 8
    a = sp.csr_array([[4.0, 3.0, 2.0]])
    res = solve([5.0, 4.0, 3.0], a, -np.inf, 6.0, 0.0, 1.0, [1, 1, 1], sense="max", offset=10.0)
    assert res.status == "optimal"
    assert res.x is not None
    assert np.flatnonzero(res.x > 0.5).tolist() == [0, 2]
    assert res.objective == pytest.approx(18.0)
    assert res.bound is not None
    assert res.bound >= res.objective - 1e-9  # an upper bound when maximising


def test_infeasible_lp_and_milp():
    # x + y >= 3 with x, y in [0, 1]
    a = sp.csr_array([[1.0, 1.0]])
    lp = solve([1.0, 1.0], a, 3.0, np.inf, 0.0, 1.0)
    # 2x = 1 is LP-feasible (x = 0.5) but has no integer solution
    mip = solve([1.0], sp.csr_array([[2.0]]), 1.0, 1.0, 0.0, 5.0, [1])
    for res in (lp, mip):
        assert res.status == "infeasible"
        assert (res.x, res.objective, res.bound, res.gap) == (None, None, None, None)


def test_unbounded():
    # min -x - y  s.t.  x - y <= 1, x, y >= 0: grows without limit along x = y
    res = solve([-1.0, -1.0], sp.csr_array([[1.0, -1.0]]), -np.inf, 1.0, 0.0, np.inf)
    assert res.status == "unbounded"
    assert res.x is None


def _market_split(m: int, n: int, seed: int):
    """Cornuéjols-Dawande market split, optimisation form: hard to prove, easy to find x."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, (m, n)).astype(float)
    d = np.floor(a.sum(axis=1) / 2)
    big_a = sp.hstack([sp.csr_array(a), sp.eye_array(m), -sp.eye_array(m)]).tocsr()
    c = np.concatenate([np.zeros(n), np.ones(2 * m)])
    ub = np.concatenate([np.ones(n), np.full(2 * m, np.inf)])
    integrality = np.concatenate([np.ones(n), np.zeros(2 * m)])
    return c, big_a, d, ub, integrality


def test_time_limit_returns_incumbent_with_its_gap():
    c, a, d, ub, integrality = _market_split(4, 30, seed=0)
    res = solve(c, a, d, d, 0.0, ub, integrality, time_limit_s=0.1, mip_rel_gap=0.0, offset=100.0)
    assert res.status == "time_limit"
    # the incumbent is a feasible point ...
    assert res.x is not None
    assert np.abs(a @ res.x - d).max() < 1e-6
    binaries = res.x[:30]
    assert np.abs(binaries - np.round(binaries)).max() < 1e-6
    # ... whose objective (with the offset) is reported, above the proven lower bound
    assert res.objective == pytest.approx(float(c @ res.x) + 100.0)
    assert res.bound is not None
    assert 100.0 - 1e-9 <= res.bound < res.objective
    # gap semantics: relative to the incumbent's objective, strictly between 0 and 1 here
    assert res.gap == pytest.approx((res.objective - res.bound) / abs(res.objective))
    assert 0.0 < res.gap < 1.0
    # stopped near the limit, not after a full solve
    assert res.time_s < 5.0


def test_no_columns():
    empty = sp.csr_array((1, 0))
    ok = solve(np.zeros(0), empty, -np.inf, 4.0, np.zeros(0), np.zeros(0), offset=7.0)
    assert (ok.status, ok.objective, ok.gap) == ("optimal", 7.0, 0.0)
    assert ok.x is not None
    assert ok.x.shape == (0,)
    bad = solve(np.zeros(0), empty, 1.0, 4.0, np.zeros(0), np.zeros(0))
    assert bad.status == "infeasible"


def test_simplex_gives_a_vertex_of_a_degenerate_transport_lp():
    # two pupils, two equal-cost places: every split is optimal; simplex returns a vertex (0/1)
    rows = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    cols = np.array([0, 1, 2, 3, 0, 2, 1, 3])
    a = sp.csc_array((np.ones(8), (rows, cols)), shape=(4, 4))
    res = solve(
        np.ones(4), a, [1, 1, -np.inf, -np.inf], [1, 1, 1, 1], 0.0, 1.0, lp_method="simplex"
    )
    assert res.status == "optimal"
    assert res.x is not None
    assert np.abs(res.x - np.round(res.x)).max() < 1e-9
    assert res.objective == pytest.approx(2.0)


def test_result_is_frozen_and_statuses_listed():
    res = solve([1.0], sp.csr_array([[1.0]]), 1.0, 1.0, 0.0, 1.0)
    assert isinstance(res, SolveResult)
    assert res.status in STATUSES
    with pytest.raises(AttributeError):
        res.status = "error"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"c": [1.0, 2.0]}, SchemaValidationError, "`c`"),
        ({"row_ub": [1.0, 2.0]}, SchemaValidationError, "`row_ub`"),
        ({"col_lb": [np.nan]}, SchemaValidationError, "NaN"),
        ({"integrality": [1, 1]}, SchemaValidationError, "`integrality`"),
        ({"A": np.ones((1, 1))}, SchemaValidationError, "sparse"),
        ({"time_limit_s": -1.0}, ConfigError, "time_limit_s"),
        ({"mip_rel_gap": -0.1}, ConfigError, "mip_rel_gap"),
        ({"sense": "maximise"}, ConfigError, "sense"),
        ({"lp_method": "barrier"}, ConfigError, "lp_method"),
    ],
)
def test_bad_inputs_raise(kwargs, error, match):
    args = {
        "c": [1.0],
        "A": sp.csr_array([[1.0]]),
        "row_lb": 0.0,
        "row_ub": 1.0,
        "col_lb": 0.0,
        "col_ub": 1.0,
        "integrality": None,
    }
    options = {k: kwargs.pop(k) for k in list(kwargs) if k not in args}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        solve(*args.values(), **options)


def test_fresh_process_prints_nothing():
    # HiGHS's banner would go to file descriptor 1 from C++: only a fresh process shows it
    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from placeplan.compute._solver import solve\n"
        "r = solve([1.0], sp.csr_array([[1.0]]), 1.0, 1.0, 0.0, 2.0, [1])\n"
        "assert r.status == 'optimal', r\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout == ""
    assert out.stderr == ""
