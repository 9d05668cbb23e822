"""A scenario that changes nothing has exactly zero impact, in every year, path and seed.

A base nobody can use (a need no pupil has, NC years no pupil reaches, or no places) must leave
every run identical to the baseline: the same measures and the same pupil, year by year. The
common random numbers of the flow model (``build_population``) make this exact, and it must stay
exact when other scenarios of the same run propose the same site with another definition.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.flows import (
    FlowParams,
    FlowScenario,
    Proposal,
    constant_new_plans,
    simulate_flows,
)

NAN = float("nan")
_PUPIL_COLS = ["pupil_ref", "year", "status", "setting_id", "time_min", "distance_km"]


def _case(n: int = 300, seed: int = 5):
    """Mainstream, limited in-area special places, an out-of-area market, 30 origins."""
    rng = np.random.default_rng(seed)
    settings = pd.DataFrame(
        [
            ("MP", "mainstream_la_maintained", True, "", 0, 6, NAN, 7_000.0),
            ("MS", "mainstream_academy", True, "", 7, 14, NAN, 7_000.0),
            ("SP", "special_la_maintained", True, "ASD;SLCN;MLD", 0, 6, 25, 25_000.0),
            ("SS", "special_la_maintained", True, "", 7, 14, 30, 25_000.0),
            ("NM", "special_non_maintained", True, "", 0, 14, 10, 45_000.0),
            ("OP", "special_la_maintained", False, "", 0, 6, NAN, 30_000.0),
            ("OI", "special_independent", False, "", 0, 14, NAN, 60_000.0),
        ],
        columns=["setting_id", "sen2_type", "in_area", "needs", "nc_year_min", "nc_year_max",
                 "places", "cost_per_place_gbp"],
    )  # fmt: skip
    origins = [f"o{k}" for k in range(30)]
    rows = []
    for o in origins:
        for sid, in_area in zip(settings["setting_id"], settings["in_area"], strict=True):
            t = rng.uniform(3, 40) if in_area else rng.uniform(50, 110)
            rows.append((o, sid, t, t * 0.8))
        t = rng.uniform(3, 30)
        rows.append((o, "B1", t, t * 0.8))
    journeys = pd.DataFrame(rows, columns=["origin_id", "setting_id", "time_min", "distance_km"])
    ncs = rng.integers(0, 15, size=n)
    needs = rng.choice(["ASD", "SLCN", "MLD", "SEMH"], size=n)
    mainstream = np.where(ncs <= 6, "MP", "MS")
    special = np.where(ncs <= 6, "OP", "OI")
    where = rng.choice(3, size=n, p=[0.6, 0.1, 0.3])
    setting = np.where(where == 0, mainstream, np.where(where == 1, "NM", special))
    cohort = pd.DataFrame(
        {
            "pupil_ref": [f"p{i}" for i in range(n)],
            "nc_year": ncs,
            "need": needs,
            "setting_id": setting,
            "origin_id": rng.choice(origins, size=n),
        }
    )
    return cohort, settings, journeys


USABLE = Proposal("B1", 12, 2027, needs=("ASD",), nc_year_min=0, nc_year_max=6,
                  cost_per_place_gbp=18_000.0)  # fmt: skip
UNUSABLE = {
    "a need no pupil has": dataclasses.replace(USABLE, needs=("VI",)),
    "NC years no pupil reaches": dataclasses.replace(USABLE, nc_year_min=30, nc_year_max=30),
    "no places": dataclasses.replace(USABLE, places=0),
    "opens after the horizon": dataclasses.replace(USABLE, opening_year=2031),
}


def _assert_identical_to_baseline(res, name: str) -> None:
    runs = {(r.scenario, r.path, r.seed): r for r in res.runs}
    checked = 0
    for (scenario, path, seed), run in runs.items():
        if scenario != name:
            continue
        base = runs[("baseline", path, seed)]
        pd.testing.assert_frame_equal(run.measures, base.measures, obj=f"{name} {path} {seed}")
        pd.testing.assert_frame_equal(
            run.pupils[_PUPIL_COLS], base.pupils[_PUPIL_COLS], obj=f"{name} {path} {seed}"
        )
        assert (run.pupils["change_vs_baseline_min"].fillna(0.0) == 0.0).all()
        checked += 1
    assert checked == 3 * 2  # every path and seed


@pytest.mark.parametrize("why", list(UNUSABLE))
def test_a_base_nobody_can_use_leaves_every_run_identical_to_the_baseline(why):
    cohort, settings, journeys = _case()
    new = constant_new_plans(cohort, rate=0.12)
    params = FlowParams(breakdown_rate=0.05, ceased_rate=0.03, seeds=(0, 1))
    # the usable base runs beside it (first, so its definition of B1 is seen first) and changes
    # the flows; the unusable one must not borrow its definition
    scenarios = [FlowScenario("usable", (USABLE,)), FlowScenario("unusable", (UNUSABLE[why],))]
    res = simulate_flows(cohort, settings, journeys, new, scenarios=scenarios, params=params)
    _assert_identical_to_baseline(res, "unusable")
    usable = [r for r in res.runs if r.scenario == "usable"]
    assert sum(int((r.pupils["setting_id"] == "B1").sum()) for r in usable) > 0
    # the base's pupils and the baseline's differ somewhere: the case is not trivial
    base = [r for r in res.runs if r.scenario == "baseline"]
    assert any(not a.measures.equals(b.measures) for a, b in zip(usable, base, strict=True))


def test_the_same_site_defined_twice_keeps_each_scenario_s_definition():
    cohort, settings, journeys = _case()
    new = constant_new_plans(cohort, rate=0.12)
    semh = dataclasses.replace(USABLE, needs=("SEMH",), nc_year_min=7, nc_year_max=14)
    scenarios = [FlowScenario("asd", (USABLE,)), FlowScenario("semh", (semh,))]
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=scenarios, params=FlowParams(seeds=(0,))
    )
    for run in res.runs:
        at = run.pupils[run.pupils["setting_id"] == "B1"]
        if run.scenario == "asd":
            assert set(at["need"]) == {"ASD"} and at["nc_year"].max() <= 6
        elif run.scenario == "semh":
            assert set(at["need"]) == {"SEMH"} and at["nc_year"].min() >= 7
        else:
            assert at.empty
    # each scenario alone gives the same runs as beside the other
    alone = simulate_flows(
        cohort, settings, journeys, new, scenarios=[scenarios[1]], params=FlowParams(seeds=(0,))
    )
    for a in alone.runs:
        b = next(r for r in res.runs if (r.scenario, r.path) == (a.scenario, a.path))
        pd.testing.assert_frame_equal(a.measures, b.measures)
