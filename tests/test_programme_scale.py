"""``placeplan optimise``'s two paths: exact and direct below the threshold, priced above it.

Oracle: exhaustive search on small instances (``test_programme._brute``); the threshold switch
through :func:`~placeplan.compute.programme_plan.optimise_plan` on the Isle of Wight sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from placeplan.compute import programme_plan, programme_scale
from placeplan.compute.programme_plan import study_programme
from placeplan.compute.programme_pricing import initial_arc_mask
from placeplan.compute.programme_scale import arcs_within, study_programme_priced, use_pricing
from placeplan.compute.programme_synthetic import synthetic_programme
from test_programme import SMALL, _brute, _fits

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"


@pytest.mark.parametrize("kw", SMALL)
def test_direct_and_priced_studies_reach_the_brute_force_optimum(kw):
    inst = synthetic_programme(**kw)
    best = max(_brute(inst).values())
    direct = study_programme(inst, steps=2, k=1, time_limit_s=None, mip_rel_gap=0.0)
    priced = study_programme_priced(
        inst, initial_arc_mask(inst, 1), steps=2, k=1, time_limit_s=None, mip_rel_gap=0.0
    )
    for b in (direct[0], priced[0]):
        assert b.objective == pytest.approx(best, abs=1e-6)
        assert b.status == "optimal" and b.gap == 0.0
        assert _fits(inst, b.options)
    best_p, _, curve, alts, greedy, _ = priced
    assert curve[-1].solution is best_p
    values = [p.solution.objective for p in curve]
    assert values == sorted(values)
    for sol in (*(p.solution for p in curve), *alts, greedy):  # flows on every assignment
        assert sol.flows.shape == inst.arc_row.shape
        assert float(inst.arc_value @ sol.flows) == pytest.approx(sol.objective, abs=1e-6)
        assert sol.objective <= best + 1e-6


def test_threshold_and_arcs_within():
    inst = synthetic_programme(n_rows=12, n_sites=3, seed=0)
    n = len(inst.arc_row)
    assert use_pricing(inst, n) and not use_pricing(inst, n + 1)
    assert use_pricing(inst) == (n >= programme_scale.PRICED_MIN_ARCS)
    keep = initial_arc_mask(inst, 1)
    part = type(inst)(
        **{
            **{f: getattr(inst, f) for f in inst.__dataclass_fields__},
            "arc_row": inst.arc_row[keep],
            "arc_site": inst.arc_site[keep],
            "arc_value": inst.arc_value[keep],
        }
    )
    assert np.array_equal(arcs_within(inst, part), keep)


def test_optimise_plan_switches_to_pricing_above_the_threshold(monkeypatch):
    from placeplan.config import load_plan
    from placeplan.prepare.inputs import prepare

    plan = load_plan(SAMPLE / "plan.toml")
    inputs = prepare(plan)
    calls = []
    real = programme_plan.study_programme_priced

    def spy(*a, **kw):
        calls.append(len(a[0].arc_row))
        return real(*a, **kw)

    monkeypatch.setattr(programme_plan, "study_programme_priced", spy)
    direct = programme_plan.optimise_plan(plan, inputs)
    assert calls == []  # the sample is far below the threshold
    monkeypatch.setattr(programme_scale, "PRICED_MIN_ARCS", 1)
    priced = programme_plan.optimise_plan(plan, inputs)
    assert calls == [len(priced.instance.arc_row)]
    assert priced.best.objective == pytest.approx(direct.best.objective, rel=1e-6)
    assert priced.best.flows.shape == priced.instance.arc_row.shape
    # the priced bound is the relaxation's (Lagrangian) bound over every assignment, not a
    # branch-and-bound one: valid, but it can leave a gap the direct path closes
    assert priced.best.bound >= direct.best.objective - 1e-6
    assert direct.best.gap == 0.0


def test_greedy_stops_at_its_time_limit():
    from placeplan.compute.programme_study import greedy_programme

    inst = synthetic_programme(n_rows=25, n_sites=4, seed=2)
    full = greedy_programme(inst)
    assert full.objective > 0
    assert greedy_programme(inst, time_limit_s=0.0).options == ()
    assert greedy_programme(inst, time_limit_s=60.0).options == full.options
