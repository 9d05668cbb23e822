"""The large-model study's budget curve and alternatives (heuristic, with proven bounds).

Oracle: exhaustive search over every programme of instances small enough to enumerate (each
programme's flows solved exactly once, then filtered by each step's scaled budget); the large
path is forced by calling :func:`study_programme_priced` directly.
"""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pytest

from placeplan.compute.programme import ProgrammeSolution, evaluate_programme
from placeplan.compute.programme_flows import ProgrammeFlows
from placeplan.compute.programme_heuristic import programme_fits
from placeplan.compute.programme_pricing import initial_arc_mask
from placeplan.compute.programme_scale import study_programme_priced
from placeplan.compute.programme_scale_study import (
    AlternativeProgramme,
    bound_curve,
    heuristic_alternatives,
    scaled_budget,
    with_bound,
)
from placeplan.compute.programme_synthetic import synthetic_programme

# two options per site and four sites: 81 programmes to enumerate
CASES = [
    {
        "n_rows": 30,
        "n_sites": 4,
        "seed": 1,
        "n_years": 2,
        "sizes": ((4, 150e3), (8, 250e3)),
        "budget_by_fy_gbp": [600e3],
    },
    {
        "n_rows": 36,
        "n_sites": 4,
        "seed": 2,
        "n_years": 2,
        "sizes": ((4, 150e3), (8, 250e3)),
        "objective": "pupil_minutes",
        "budget_by_fy_gbp": [650e3],
    },
    {
        "n_rows": 36,
        "n_sites": 4,
        "n_needs": 2,
        "seed": 3,
        "sizes": ((6, 200e3),),
        "carry_forward": True,
        "objective": "pupil_minutes",
        "budget_by_fy_gbp": [300e3, 500e3],
    },
]


def _every_programme(inst):
    """``{options: savings}`` for every programme opening each site at most once."""
    per_site = [
        [None, *np.flatnonzero(inst.opt_site == j).tolist()] for j in range(len(inst.site_ids))
    ]
    out = {}
    for combo in itertools.product(*per_site):
        opts = tuple(sorted(o for o in combo if o is not None))
        out[opts] = evaluate_programme(inst, opts).objective if opts else 0.0
    return out


def _optimum(inst, every, scale):
    small = scaled_budget(inst, scale)
    return max(v for opts, v in every.items() if programme_fits(small, opts))


@pytest.mark.parametrize("kw", CASES)
def test_large_path_curve_and_alternatives_against_exhaustive_search(kw, caplog):
    inst = synthetic_programme(**kw)
    every = _every_programme(inst)
    with caplog.at_level(logging.WARNING):
        best, contrib, curve, alts, _, _ = study_programme_priced(
            inst, initial_arc_mask(inst, 1), steps=3, k=3, time_limit_s=5.0, mip_rel_gap=0.0
        )
    assert "below the savings" not in caplog.text  # no bound was ever below a programme's
    assert curve[-1].solution is best
    values = [p.solution.objective for p in curve]
    assert values == sorted(values)  # never falls
    assert values[-1] > 0
    bounds = [p.solution.bound for p in curve]
    assert bounds == sorted(bounds)  # a larger budget's bound holds for the smaller ones
    for p in curve:
        sol, opt = p.solution, _optimum(inst, every, p.budget_scale)
        assert programme_fits(scaled_budget(inst, p.budget_scale), sol.options)
        assert sol.capital_gbp <= p.budget_gbp + 1e-6
        assert sol.objective == pytest.approx(evaluate_programme(inst, sol.options).objective)
        assert float(inst.arc_value @ sol.flows) == pytest.approx(sol.objective, abs=1e-6)
        assert sol.objective <= opt + 1e-6
        assert sol.bound >= opt - 1e-6  # proven
        if sol.objective > 0 and sol.gap > 0:
            assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.objective)
        assert sol.status in ("optimal", "heuristic", "time_limit", "feasible")
        if sol.status == "heuristic":
            assert sol.gap > 0
    best_sites = frozenset(int(inst.opt_site[o]) for o in best.options)
    assert all(a.objective <= best.objective + 1e-9 for a in alts)  # a better one is promoted
    promoted = any(a.ruled_out_site == -1 for a in alts)  # the former best, no site ruled out
    seen = set()
    for a in alts:
        assert isinstance(a, AlternativeProgramme)
        sites = frozenset(int(inst.opt_site[o]) for o in a.options)
        assert sites and sites != best_sites and sites not in seen
        seen.add(sites)
        if a.ruled_out_site == -1:
            continue
        assert a.ruled_out_site not in sites
        assert promoted or a.ruled_out_site in best_sites
        assert programme_fits(inst, a.options)
        assert a.objective == pytest.approx(evaluate_programme(inst, a.options).objective)
        assert a.objective <= _optimum(inst, every, 1.0) + 1e-6
        assert a.bound == best.bound
        # the best without the ruled-out site is what the heuristic searched for
        without = max(
            v
            for opts, v in every.items()
            if programme_fits(inst, opts)
            and a.ruled_out_site not in {int(inst.opt_site[o]) for o in opts}
        )
        assert a.objective <= without + 1e-6
    assert [a.objective for a in alts] == sorted((a.objective for a in alts), reverse=True)
    if len(best_sites) >= 2:
        assert alts  # ruling out one of two or more sites leaves a programme
    assert set(contrib) == set(best.options)


def test_an_alternative_that_saves_more_becomes_the_best():
    """Heuristic best and alternatives: one that saves more is promoted with the best's bound
    and status, becomes the curve's last step, and the former best is an alternative with no
    site ruled out."""
    from dataclasses import fields

    from placeplan.compute.programme_scale import promote_alternative
    from placeplan.compute.programme_study import curve_point, site_contributions

    inst = synthetic_programme(**CASES[1])
    every = _every_programme(inst)
    ranked = sorted((o for o in every if o and programme_fits(inst, o)), key=every.get)
    poor, good = evaluate_programme(inst, ranked[0]), evaluate_programme(inst, ranked[-1])
    assert good.objective > poor.objective
    bound = _optimum(inst, every, 1.0) * 1.5
    best = with_bound(poor, bound, 0.0, "feasible")
    half = curve_point(inst.total_budget_gbp / 2, 0.5, evaluate_programme(inst, []), [])
    curve = (half, curve_point(inst.total_budget_gbp, 1.0, best, [half]))
    plain = {f.name: getattr(good, f.name) for f in fields(good)}
    alt = AlternativeProgramme(**plain, ruled_out_site=int(inst.opt_site[ranked[0][0]]))
    new_best, contrib, new_curve, new_alts = promote_alternative(
        inst,
        (best, {-1: 0.0}, curve, (alt,)),
        0.0,
        demote=lambda s: AlternativeProgramme.of(s, -1),
        order=lambda a: -a.objective,
    )
    assert type(new_best) is ProgrammeSolution  # a plain programme, no site ruled out
    assert contrib == site_contributions(inst, good) and set(contrib) == set(good.options)
    assert new_best.options == good.options and new_best.objective == good.objective
    assert new_best.bound == bound and new_best.status == "feasible"
    assert new_best.gap == pytest.approx((bound - good.objective) / good.objective)
    assert new_curve[-1].solution is new_best and new_curve[0] is half
    assert new_curve[-1].marginal_per_gbp == pytest.approx(
        good.objective / (inst.total_budget_gbp / 2)
    )
    assert [a.options for a in new_alts] == [poor.options]
    assert new_alts[0].ruled_out_site == -1 and new_alts[0].bound == bound


def test_curve_steps_take_the_bound_above_and_the_step_below_when_better():
    """A made-up step whose programme saves less than the one below takes the one below (it
    fits the larger budget) or better, with its own step's bound; no step's bound is above the
    top's."""
    inst = synthetic_programme(**CASES[1])
    every = _every_programme(inst)
    flows = ProgrammeFlows(inst)
    good = max((o for o in every if programme_fits(scaled_budget(inst, 1 / 3), o)), key=every.get)
    empty = evaluate_programme(inst, [])
    top = with_bound(evaluate_programme(inst, good), _optimum(inst, every, 1.0), 0.0)
    low = evaluate_programme(inst, good)
    curve = bound_curve(inst, flows, [low, empty], top, time_limit_s=5.0, mip_rel_gap=0.0)
    # the step below's programme, or the Lagrangian master's when that saves more
    assert curve[1].solution.objective >= every[good] - 1e-9
    assert programme_fits(scaled_budget(inst, 2 / 3), curve[1].solution.options)
    assert curve[1].solution.bound <= top.bound
    assert curve[1].solution.bound >= _optimum(inst, every, 2 / 3) - 1e-6
    assert curve[0].solution.bound >= _optimum(inst, every, 1 / 3) - 1e-6


def test_with_bound_gap_and_status():
    inst = synthetic_programme(**CASES[0])
    sol = evaluate_programme(inst, [0])
    assert sol.objective > 0
    tight = with_bound(sol, sol.objective, 0.0)
    assert tight.gap == 0.0 and tight.status == "optimal"
    loose = with_bound(sol, 2 * sol.objective, 0.01)
    assert loose.gap == pytest.approx(1.0) and loose.status == "heuristic"
    assert with_bound(sol, 1.005 * sol.objective, 0.01).status == "optimal"
    none = with_bound(evaluate_programme(inst, []), 1.0, 0.0)
    assert math.isinf(none.gap) and none.status == "heuristic"
    unknown = with_bound(sol, math.inf, 0.5)
    assert math.isinf(unknown.gap) and unknown.status == "heuristic"


@pytest.mark.parametrize("kw", CASES)
def test_curve_bounds_from_empty_programmes_hold(kw, caplog):
    """With nothing known (empty programmes, no bound at the top) every step's bound is the
    Lagrangian's on its own scaled budget, and must still be at least the optimum there."""
    inst = synthetic_programme(**kw)
    every = _every_programme(inst)
    empty = evaluate_programme(inst, [])
    with caplog.at_level(logging.WARNING):
        curve = bound_curve(
            inst, ProgrammeFlows(inst), [empty] * 3, empty, time_limit_s=5.0, mip_rel_gap=0.0
        )
    assert "below the savings" not in caplog.text
    bounds = [p.solution.bound for p in curve[:-1]]
    assert bounds == sorted(bounds) and all(math.isfinite(b) for b in bounds)
    for p in curve[:-1]:
        assert p.solution.bound >= _optimum(inst, every, p.budget_scale) - 1e-6
        assert programme_fits(scaled_budget(inst, p.budget_scale), p.solution.options)


def test_alternatives_csv_and_report_name_the_ruled_out_site(tmp_path):
    import pandas as pd

    from placeplan.compute.programme_plan import ProgrammeStudy
    from placeplan.publish.programme import programme_tables, write_programme
    from placeplan.publish.report.sections.optimise import section

    inst = synthetic_programme(**CASES[1])
    best, contrib, curve, alts, greedy, timings = study_programme_priced(
        inst, initial_arc_mask(inst, 1), steps=2, k=2, time_limit_s=5.0, mip_rel_gap=0.0
    )
    assert alts
    sites = pd.DataFrame(
        {"site_id": list(inst.site_ids), "name": "x", "needs": "ASD", "phases": "primary"}
    )
    study = ProgrammeStudy(inst, pd.DataFrame(), sites, best, contrib, curve, alts, greedy, timings)
    written = write_programme(study, tmp_path / "o", mode="internal")
    table = pd.read_csv(written["alternatives"], keep_default_na=False)
    ruled = table.loc[table["kind"] == "alternative", "ruled_out_site"].tolist()
    assert ruled == [inst.site_ids[a.ruled_out_site] if a.ruled_out_site >= 0 else "" for a in alts]
    assert table.loc[table["kind"] != "alternative", "ruled_out_site"].eq("").all()
    sec = section(programme_tables(study, mode="internal"))
    headers = [b.header for b in sec.blocks if getattr(b, "id", "") == "t-alternatives"]
    assert headers and "Site ruled out" in headers[0]
    (alt_table,) = [b for b in sec.blocks if getattr(b, "id", "") == "t-alternatives"]
    assert "ruled out" in alt_table.caption and "not a proven ranking" in alt_table.caption
    # the curve table shows each step's gap on savings, as a percentage
    (curve_table,) = [b for b in sec.blocks if getattr(b, "id", "") == "t-budget-curve"]
    col = curve_table.header.index("Gap on savings")
    shown = [row[col].value for row in curve_table.rows]
    expected = [p.solution.gap * 100 if math.isfinite(p.solution.gap) else None for p in curve]
    assert len(shown) == len(expected) == len(curve)
    for got, want in zip(shown, expected, strict=True):
        assert (got is None) == (want is None)
        assert got is None or got == pytest.approx(want, abs=0.01)


def test_an_alternative_may_be_to_buy_nothing():
    """A best programme of one site, where no programme without it saves anything: ruling that
    site out gives one alternative, the empty programme (was: no alternative at all)."""
    from dataclasses import replace

    base = synthetic_programme(**CASES[0])
    value = np.where(base.opt_site == 0, 1e6, -1e9)  # only site 0's options are worth buying
    inst = replace(base, opt_value=value)
    every = _every_programme(inst)
    best_set = max(every, key=lambda opts: evaluate_programme(inst, opts).objective)
    assert {int(inst.opt_site[o]) for o in best_set} == {0}
    best = with_bound(evaluate_programme(inst, best_set), math.inf, 0.0)
    flows = ProgrammeFlows(inst)
    alts = heuristic_alternatives(
        inst, flows, best, dict.fromkeys(best.options, 1.0), k=3, time_limit_s=5.0, mip_rel_gap=0.0
    )
    assert [a.options for a in alts] == [()]
    assert alts[0].objective == 0.0 and alts[0].ruled_out_site == 0
