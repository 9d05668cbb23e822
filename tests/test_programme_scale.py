"""``placeplan optimise``'s two paths: exact and direct below the threshold, priced above it.

Oracle: exhaustive search on small instances (``test_programme._brute``); the threshold switch
through :func:`~placeplan.compute.programme_plan.optimise_plan` on the Isle of Wight sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_PROGRAMMES
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


def test_both_study_paths_promote_through_one_function(monkeypatch):
    """The exact and the priced study hand their best, contributions, curve and alternatives
    to :func:`promote_alternative` once and return what it gives back (one promotion rule)."""
    seen = []
    real = programme_scale.promote_alternative

    def spy(inst, parts, mip_rel_gap, **kw):
        seen.append(parts)
        out = real(inst, parts, mip_rel_gap, **kw)
        seen.append(out)
        return out

    monkeypatch.setattr(programme_plan, "promote_alternative", spy)
    monkeypatch.setattr(programme_scale, "promote_alternative", spy)
    inst = synthetic_programme(**SMALL[0])
    direct = study_programme(inst, steps=2, k=2, time_limit_s=None, mip_rel_gap=0.0)
    priced = study_programme_priced(
        inst, initial_arc_mask(inst, 1), steps=2, k=2, time_limit_s=None, mip_rel_gap=0.0
    )
    assert len(seen) == 4  # one call per path
    for study, given in ((direct, seen[1]), (priced, seen[3])):
        assert all(a is b for a, b in zip(study[:4], given, strict=True))


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


def _greedy_by_full_lps(inst):
    """The lazy greedy as it was, every evaluation a full LP (``evaluate_programme``); no
    tighter first bounds (one full LP per option alone instead)."""
    import heapq

    from placeplan.compute.programme import evaluate_programme
    from placeplan.compute.programme_heuristic import programme_fits

    cost = np.maximum(inst.opt_capital_gbp, 1.0)
    heap = [(-evaluate_programme(inst, [o]).objective / cost[o], o) for o in range(len(cost))]
    heap = [h for h in heap if h[0] < 0]
    heapq.heapify(heap)
    chosen, current, fresh = [], 0.0, set()
    while heap:
        _, o = heapq.heappop(heap)
        if not programme_fits(inst, [*chosen, o]):
            continue
        if o in fresh:
            chosen.append(o)
            current = evaluate_programme(inst, chosen).objective
            fresh.clear()
            continue
        gain = evaluate_programme(inst, [*chosen, o]).objective - current
        fresh.add(o)
        if gain > 1e-9:
            heapq.heappush(heap, (-gain / cost[o], o))
    return tuple(sorted(chosen))


GREEDY_CASES = SMALL_PROGRAMMES


@pytest.mark.parametrize("kw", GREEDY_CASES)
def test_greedy_and_contributions_by_flow_parts_equal_full_lps(kw):
    from placeplan.compute.programme import evaluate_programme
    from placeplan.compute.programme_flows import ProgrammeFlows
    from placeplan.compute.programme_study import greedy_programme, site_contributions

    inst = synthetic_programme(**kw)
    greedy = greedy_programme(inst)
    assert greedy.options  # something was chosen
    # the same programme; equal-ratio options (8.0 against 8.000000000000004 from another LP)
    # may be taken in another order, so compare the savings
    ref = _greedy_by_full_lps(inst)
    assert greedy.objective == pytest.approx(evaluate_programme(inst, ref).objective, rel=1e-9)
    assert len(greedy.options) == len(ref)
    assert greedy.objective == pytest.approx(evaluate_programme(inst, greedy.options).objective)
    shared = greedy_programme(inst, flows=ProgrammeFlows(inst))  # a caller's cache, unmerged
    assert shared.options == greedy.options
    contrib = site_contributions(inst, greedy)
    full = evaluate_programme(inst, greedy.options).objective
    for o, v in contrib.items():
        rest = [p for p in greedy.options if p != o]
        assert v == pytest.approx(full - evaluate_programme(inst, rest).objective, abs=1e-7)
    assert site_contributions(inst, greedy, flows=ProgrammeFlows(inst)) == pytest.approx(contrib)


def test_optimise_prices_transport_as_run_does(monkeypatch):
    """With `[costs] annual_send_transport_spend_gbp` stated, `run` prices transport at the
    calibrated rate; `optimise` used the plan's uncalibrated rate for its net-saving model."""
    from placeplan.compute.run import baseline_and_costs
    from placeplan.config import load_plan
    from placeplan.prepare.inputs import prepare

    plan = load_plan(SAMPLE / "plan.toml")
    costs = plan.costs.model_copy(update={"annual_send_transport_spend_gbp": 9_000_000.0})
    plan = plan.model_copy(update={"costs": costs})
    inputs = prepare(plan)
    rates = []
    real = programme_plan.programme_instance

    def spy(*a, **kw):
        rates.append(kw["transport_cost_per_mile_gbp"])
        return real(*a, **kw)

    monkeypatch.setattr(programme_plan, "programme_instance", spy)
    programme_plan.optimise_plan(plan, inputs)
    journeys = programme_plan.plan_journeys(plan, inputs)
    calibrated = baseline_and_costs(plan, inputs, journeys)[1].transport_cost_per_mile_gbp
    assert calibrated != pytest.approx(plan.costs.transport_cost_per_mile_gbp)
    assert rates and all(r == pytest.approx(calibrated) for r in rates)
