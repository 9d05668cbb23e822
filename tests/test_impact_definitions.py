"""Issue 9.7: statutory walking distance by age on 1 September, compulsory school age only, post-16
and 19-25 under their own policy, and labels that say exactly what is counted."""

from __future__ import annotations

import pandas as pd
import pytest

from placeplan.compute.impact import assess_impact, metric_labels, transport_policy
from placeplan.compute.mitigation import DEFAULT_RULES

MILE = 1.609344
LIMITS = {"primary": 45.0, "secondary": 75.0, "post16": 75.0}


def test_transport_policy_by_age_on_1_september():
    nc = pd.Series([-1, 0, 2, 3, 4, 11, 12, 14, 15])
    got = transport_policy(nc).tolist()
    assert got == [
        "below_compulsory",  # nursery, age 3
        "statutory_under8",  # Reception, age 4, of compulsory school age during the year
        "statutory_under8",
        "statutory_under8",  # Year 3 is aged 7 on 1 September: still the 2-mile rule
        "statutory_8_16",  # Year 4, aged 8
        "statutory_8_16",  # Year 11, aged 15
        "post16",
        "post16",
        "age19_25",
    ]
    assert transport_policy(pd.Series([0]), reception_statutory=False).tolist() == [
        "below_compulsory"
    ]
    # an exact age (e.g. a summer-born pupil educated out of year group) overrides the NC year
    exact = transport_policy(pd.Series([3, 3]), age_on_1_september=pd.Series([8, None]))
    assert exact.tolist() == ["statutory_8_16", "statutory_under8"]


def _alloc(time_min, miles, moved=None):
    n = len(time_min)
    df = pd.DataFrame(
        {
            "setting_id": ["S"] * n,
            "category": ["special"] * n,
            "travel_time_min": time_min,
            "distance_km": [m * MILE for m in miles],
            "route": ["road"] * n,
            "annual_placement_cost_gbp": [1.0] * n,
            "annual_transport_cost_gbp": [1.0] * n,
        }
    )
    if moved is not None:
        df["moved"] = moved
    return df


@pytest.fixture
def case():
    pupils = pd.DataFrame(
        {
            "pupil_ref": ["y3", "y12", "y8a", "y8b", "y8c", "y20"],
            "nc_year": [3, 12, 8, 8, 8, 16],
            "phase": ["primary", "post16", "secondary", "secondary", "secondary", "post16"],
            "need_type": "ASD",
        }
    )
    base = _alloc([10, 10, 10, 10, 10, 10], [1, 1, 1, 1, 1, 1])
    #                   +10 min   +10     +3     +5    +6     +10
    scen = _alloc([20, 20, 13, 15, 16, 20], [2.5, 10, 4, 4, 1, 10], moved=[True] * 6)
    return pupils, base, scen


def test_default_mitigation_rules_and_statutory_walking(case):
    pupils, base, scen = case
    imp = assess_impact(pupils, base, scen, max_journey_min_by_phase=LIMITS)
    keys = dict(zip(imp.per_pupil["pupil_ref"], imp.per_pupil["mitigation_key"], strict=True))
    training, route = DEFAULT_RULES[1].name, DEFAULT_RULES[2].name
    assert keys == {
        "y3": route,  # 10 min longer, primary: not travel training
        "y12": training,  # 10 min longer, post-16
        "y8a": "",  # 3 min longer: not more than 5
        "y8b": "",  # exactly 5 min longer: not more than 5
        "y8c": training,  # 6 min longer, secondary
        "y20": training,
    }
    mit = imp.mitigations.set_index("rule")
    assert mit["pupils"].sum() == 4
    assert mit.loc[training, "pupils"] == 3
    assert mit.loc[training, "annual_cost_gbp"] == 3 * DEFAULT_RULES[1].cost_gbp_per_pupil_year
    assert set(mit["source"]) == {"default"}
    t = imp.table.set_index(["group_type", "group", "metric"])
    # beyond the statutory walking distance: compulsory school age only
    # y3 (2.5 > 2 miles), y8a and y8b (4 > 3 miles); not y12 / y20 (10 miles, no statutory rule)
    assert t.loc[("all", "all pupils", "beyond_walking_n"), "scenario"] == 3
    assert t.loc[("all", "all pupils", "beyond_walking_n"), "baseline"] == 0
    assert t.loc[("all", "all pupils", "worse_off_n"), "scenario"] == 4
    by_policy = t.xs("transport_policy", level="group_type")
    assert by_policy.loc[("post16", "pupils"), "baseline"] == 1
    assert by_policy.loc[("age19_25", "pupils"), "baseline"] == 1
    assert by_policy.loc[("statutory_8_16", "pupils"), "baseline"] == 3


def test_post16_policy_distance_is_configurable(case):
    pupils, base, scen = case
    imp = assess_impact(
        pupils, base, scen, max_journey_min_by_phase=LIMITS, post16_walking_distance_miles=3.0
    )
    t = imp.table.set_index(["group_type", "group", "metric"])
    # y12 and y20 (10 miles) now count as beyond their policy's 3 miles
    assert t.loc[("all", "all pupils", "beyond_walking_n"), "scenario"] == 5


def test_labels_say_exactly_what_is_counted(case):
    pupils, base, scen = case
    imp = assess_impact(pupils, base, scen, max_journey_min_by_phase=LIMITS, worse_off_min=10)
    assert "more than 10 min longer" in metric_labels(10)["worse_off_n"]
    # with a 10-minute margin nobody is worse off: the longest change is 10 min, not more than 10
    assert int(imp.per_pupil["worse_off"].sum()) == 0


def test_no_change_gives_zero_change_and_nobody_worse_off(case):
    pupils, base, _ = case
    imp = assess_impact(pupils, base, base.assign(moved=False), max_journey_min_by_phase=LIMITS)
    assert (imp.table["change"].fillna(0) == 0).all()
    assert (imp.per_pupil["mitigation_key"] == "").all()


def test_allocation_transport_eligibility_uses_the_same_age_rule():
    """A Year 3 pupil is under 8 on 1 September (2-mile limit); a Year 4 pupil is 8 (3 miles)."""
    from placeplan.compute.allocation import CostModel, eligible_for_transport

    costs = CostModel()
    miles = pd.Series([2.5, 2.5, 1.5, 3.5], index=["y3", "y4", "y2", "y9"])
    nc = pd.Series([3, 4, 2, 9], index=miles.index)
    got = eligible_for_transport(miles, nc, costs)
    assert got.to_dict() == {"y3": True, "y4": False, "y2": False, "y9": True}
