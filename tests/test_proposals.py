"""Per-proposal TIA (issue 11 §1): each proposal alone, its contribution, the programme total.

Exact answers on a tiny case worked out by hand, and invariants: a proposal with no places
contributes nothing; a scenario with no proposals equals the baseline; the programmes' flow table
is unchanged by running the per-proposal variants beside them (common random numbers).
"""

from __future__ import annotations

import pandas as pd
import pytest

from placeplan.compute.allocation import CostModel, baseline_allocation
from placeplan.compute.flows import (
    FlowParams,
    FlowResult,
    FlowScenario,
    Proposal,
    constant_new_plans,
    flow_table,
    simulate_flows,
)
from placeplan.compute.impact import assess_impact
from placeplan.compute.mitigation import DEFAULT_RULES
from placeplan.compute.proposals import (
    BASES,
    SNAPSHOT,
    TABLE_COLS,
    assess_proposals,
    flow_variants,
    proposal_flows,
)
from placeplan.compute.scenario import Scenario, apply_scenario

LIMITS = {"primary": 45.0, "secondary": 75.0, "post16": 75.0}
COSTS = CostModel(transport_cost_per_mile_gbp=2.0, school_days=190)
#: one-way minutes from each home to each base (km = minutes / 2)
TIMES = {
    "O1": {"B1": 10.0, "B2": 40.0},
    "O2": {"B1": 20.0, "B2": 15.0},
    "O3": {"B1": 30.0, "B2": 12.0},
}


def _case(b0_places: int = 0):
    """Three secondary ASD pupils at a mainland independent school (100 min, 50 km) and one
    mainstream pupil; bases B1 and B2 (2 places each) and B0 (``b0_places``)."""
    pupils = pd.DataFrame(
        {
            "pupil_ref": ["P1", "P2", "P3", "P4"],
            "origin_id": ["O1", "O2", "O3", "O4"],
            "current_setting_id": ["IND1", "IND1", "IND1", "M1"],
            "need_type": "ASD",
            "phase": "secondary",
            "nc_year": 8,
            "transport_assisted": True,
        }
    )
    provision = pd.DataFrame(
        {
            "setting_id": ["M1", "IND1"],
            "name": ["Mainstream", "Independent (mainland)"],
            "provision_type": ["mainstream", "independent"],
            "in_area": [True, False],
            "annual_cost_per_place_gbp": [8000.0, 55000.0],
        }
    )
    rows = []
    for o in ("O1", "O2", "O3", "O4"):
        for d in ("M1", "IND1", "B0", "B1", "B2"):
            t = {"M1": 5.0, "IND1": 100.0, "B0": 1.0}.get(d) or TIMES.get(o, {}).get(d, 60.0)
            route = "ferry:test" if d == "IND1" else "road"
            rows.append((o, d, t, t / 2, t / 2 / 1.609344, route))
    journeys = pd.DataFrame(
        rows,
        columns=[
            "origin_id",
            "destination_id",
            "travel_time_min",
            "distance_km",
            "distance_miles",
            "route",
        ],
    )
    sites = pd.DataFrame(
        {
            "site_id": ["B0", "B1", "B2"],
            "name": ["Base zero", "Base one", "Base two"],
            "host_setting_id": "M1",
            "needs": "ASD",
            "phases": "secondary",
            "places": [b0_places, 2, 2],
            "capital_cost_gbp": 100000.0,
            "annual_cost_per_place_gbp": 18000.0,
        }
    )
    return pupils, provision, journeys, sites


def _assess(open_sites: tuple[str, ...], b0_places: int = 0):
    pupils, provision, journeys, sites = _case(b0_places)
    base = baseline_allocation(pupils, provision, journeys, costs=COSTS)
    apply_kwargs = {"costs": COSTS, "max_journey_min_by_phase": LIMITS}
    impact_kwargs = {"max_journey_min_by_phase": LIMITS, "mitigation_rules": DEFAULT_RULES}
    scen = apply_scenario(
        Scenario("P", open_sites=open_sites, max_extra_journey_min=200.0),
        pupils,
        base,
        sites,
        journeys,
        **apply_kwargs,
    )
    imp = assess_impact(pupils, base, scen.allocation, **impact_kwargs)
    return assess_proposals(
        pupils,
        base,
        sites,
        journeys,
        {"P": scen},
        {"P": imp},
        apply_kwargs=apply_kwargs,
        impact_kwargs=impact_kwargs,
        rules=DEFAULT_RULES,
    )


def _snap(res, proposal: str, basis: str) -> dict[str, float]:
    t = res.table
    t = t[(t["proposal"] == proposal) & (t["basis"] == basis) & (t["year"] == SNAPSHOT)]
    return dict(zip(t["measure"], t["central"], strict=True))


def test_two_bases_alone_and_contribution_by_hand():
    res = _assess(("B1", "B2"))
    assert list(res.table.columns) == list(TABLE_COLS)
    assert set(res.table["basis"]) == set(BASES)
    # programme: P1 -> B1 (10), P2 -> B2 (15), P3 -> B2 (12), each from 100 min
    prog = _snap(res, "programme", "programme")
    assert prog["journey_time_total_min"] == pytest.approx(37 - 300)
    assert prog["distance_total_km"] == pytest.approx(18.5 - 150)
    assert prog["out_of_area"] == -3 and prog["independent_non_maintained"] == -3
    assert prog["ferry_journeys"] == -3
    # B1 alone (2 places): P1 (10) and P2 (20); B2 alone: P3 (12) and P2 (15)
    b1, b2 = _snap(res, "B1", "alone"), _snap(res, "B2", "alone")
    assert b1["journey_time_total_min"] == pytest.approx(30 - 200)
    assert b2["journey_time_total_min"] == pytest.approx(27 - 200)
    assert b1["out_of_area"] == b2["out_of_area"] == -2
    # contribution = programme - programme without it (= the other base alone)
    c1, c2 = _snap(res, "B1", "contribution"), _snap(res, "B2", "contribution")
    assert c1["journey_time_total_min"] == pytest.approx(-263 - (-173))
    assert c2["journey_time_total_min"] == pytest.approx(-263 - (-170))
    assert c1["out_of_area"] == c2["out_of_area"] == -1
    assert c1["distance_total_km"] == pytest.approx(-131.5 - (-86.5))
    # the contribution's comparison is the programme against the programme without it
    t = res.impacts[("P", "B1", "contribution")].table.set_index(["group_type", "metric"])
    assert t.loc[("all", "ooa_placements"), ["baseline", "scenario"]].tolist() == [1.0, 0.0]
    # without B1, P2 and P3 are at B2 already: only P1 changes setting (to B1)
    assert t.loc[("all", "moved_n"), "scenario"] == 1
    # nobody's journey gets longer: a proposal's own mitigation change is escorts saved only
    mit = res.mitigations
    change = mit[mit["proposal"].ne("programme") & mit["run"].eq("change")]
    assert change["pupils"].clip(lower=0).sum() == 0 and change["pupils"].sum() < 0


def test_proposal_with_no_places_contributes_nothing():
    res = _assess(("B0", "B1", "B2"), b0_places=0)
    for basis in ("alone", "contribution"):
        vals = _snap(res, "B0", basis)
        assert vals and all(v == 0 for v in vals.values()), (basis, vals)
    # and the others are as without it
    assert _snap(res, "B1", "contribution")["journey_time_total_min"] == pytest.approx(-90)


def test_programme_with_no_proposals_is_the_baseline():
    res = _assess(())
    assert set(res.table["proposal"]) == {"programme"}
    assert (res.table["central"] == 0).all()
    assert list(res.impacts) == [("P", "programme", "programme")]


# -- year by year ---------------------------------------------------------------------------------
def _flow_case():
    """Ten Year 5 pupils out of area transfer to Year 7 in 2027/28 (see simulate_flows)."""
    cohort = pd.DataFrame(
        {
            "pupil_ref": [f"p{i}" for i in range(10)],
            "nc_year": 5,
            "need": "ASD",
            "setting_id": "OOA1",
            "origin_id": "o1",
        }
    )
    settings = pd.DataFrame(
        {
            "setting_id": ["OOA1", "OOA2"],
            "sen2_type": "special_independent",
            "in_area": False,
            "needs": "",
            "nc_year_min": [0, 7],
            "nc_year_max": [6, 11],
            "places": float("nan"),
            "cost_per_place_gbp": 60_000.0,
        }
    )
    journeys = pd.DataFrame(
        {
            "origin_id": "o1",
            "setting_id": ["OOA1", "OOA2", "B1", "B2", "B0"],
            "time_min": [70.0, 80.0, 15.0, 20.0, 10.0],
            "distance_km": [60.0, 70.0, 8.0, 9.0, 5.0],
        }
    )
    return cohort, settings, journeys, constant_new_plans(cohort, rate=0.0, horizon_year=2028)


def _base(site: str, places: int) -> Proposal:
    return Proposal(
        site, places, 2027, needs=("ASD",), nc_year_min=7, nc_year_max=11, cost_per_place_gbp=2e4
    )


def _flows(programmes):
    cohort, settings, journeys, plans = _flow_case()
    to_run, alias = flow_variants(programmes)
    result = simulate_flows(
        cohort,
        settings,
        journeys,
        plans,
        scenarios=to_run,
        params=FlowParams(horizon_year=2028, seeds=(0, 1)),
    )
    rows, levels = proposal_flows(result, programmes, alias)
    t = pd.DataFrame(rows, columns=list(TABLE_COLS))
    return result, t, levels


def _ooa(t, proposal, basis):
    s = t[(t["proposal"] == proposal) & (t["basis"] == basis) & (t["measure"] == "out_of_area")]
    return s.set_index("year")["central"].to_dict()


def test_flows_alone_contribution_and_zero_places_by_hand():
    prog = FlowScenario("P", (_base("B1", 6), _base("B2", 6), _base("B0", 0)))
    _, t, levels = _flows([prog])
    years = ["2025/26", "2026/27", "2027/28", "2028/29"]
    # the programme takes all ten from 2027/28; each 6-place base alone takes six
    assert list(_ooa(t, "programme", "programme").values()) == [0, 0, -10, -10]
    assert list(_ooa(t, "B1", "alone").values()) == [0, 0, -6, -6]
    # without B1 the other base takes six: B1 contributes the other four
    assert list(_ooa(t, "B1", "contribution").values()) == [0, 0, -4, -4]
    assert list(_ooa(t, "B2", "contribution").values()) == [0, 0, -4, -4]
    # B0 has no places: zero alone and zero contribution, every measure, every year
    zero = t[t["proposal"] == "B0"]
    assert len(zero) and (zero[["central", "lower", "upper"]] == 0).all().all()
    assert sorted(set(t["year"])) == years
    # the variants' level table names every run
    assert {"P | alone B1", "P | without B1", "P | alone B0"} <= set(levels["scenario"])


def test_variants_leave_the_programme_flows_unchanged():
    prog = FlowScenario("P", (_base("B1", 6), _base("B2", 6)))
    result, _, _ = _flows([prog])
    own = FlowResult(
        runs=tuple(r for r in result.runs if r.scenario in ("baseline", "P")),
        params=result.params,
        scenarios=("P",),
    )
    cohort, settings, journeys, plans = _flow_case()
    alone = simulate_flows(
        cohort,
        settings,
        journeys,
        plans,
        scenarios=[prog],
        params=FlowParams(horizon_year=2028, seeds=(0, 1)),
    )
    pd.testing.assert_frame_equal(flow_table(own), flow_table(alone))


def test_flow_variants_share_runs():
    a, b = _base("A", 5), _base("B", 5)
    runs, alias = flow_variants([FlowScenario("P", (a, b)), FlowScenario("Q", (a,))])
    # P alone A == P without B == Q (the programme A) ; P without A == P alone B
    assert [r.name for r in runs] == ["P", "Q", "~v0"]
    assert alias["P | alone A"] == alias["P | without B"] == "Q"
    assert alias["Q | without A"] == "baseline"
    assert alias["Q | alone A"] == "Q"


def test_proposal_pages_hide_a_flow_cell_where_flows_csv_hides_it():
    """The pages publish the variants' runs with their own table; a cell the register's
    ``flows.csv`` hides (here the programme's out-of-area count in 2028/29, as where the impact
    baseline links it) is hidden on the pages too, and so is the contribution that uses it.
    Threshold 3: B1's contribution (-4: 0 with the programme, 4 without B1) is published
    otherwise."""
    from types import SimpleNamespace

    from placeplan.publish.flows import published_flows
    from placeplan.publish.report.sections.proposals import ProposalInputs, _Published

    prog = FlowScenario("P", (_base("B1", 6), _base("B2", 6)))
    _, t, levels = _flows([prog])
    p = ProposalInputs(
        table=t, info=pd.DataFrame(), impacts={}, mitigations=pd.DataFrame(), flows=levels,
        scenario="P",
    )  # fmt: skip

    def cell(hide: set[tuple[str, str, str]]):
        register = published_flows(levels, threshold=3, round_to=0, mode="published", hide=hide)
        ctx = SimpleNamespace(threshold=3, round_to=0, mode="published", mitigations_by_year=None,
                              mitigation_levels=None, placement_flows=register)  # fmt: skip
        return _Published(p, ctx).flow("B1", "contribution", "2028/29", "out_of_area", "count")  # type: ignore[arg-type]

    assert cell(set()).value == -4 and not cell(set()).suppressed
    hidden = cell({("2028/29", "P", "out_of_area")})
    assert hidden.suppressed and hidden.value is None
