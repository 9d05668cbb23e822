"""Year-by-year OOA projection: invariants and exact small cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.projection import project_ooa


def _per_pupil(n_ooa: int, n_moved: int, need: str = "ASD", other: int = 3) -> pd.DataFrame:
    n = n_ooa + other
    moved = np.arange(n) < n_moved
    base_cat = ["independent"] * n_ooa + ["mainstream"] * other
    scen_cat = np.where(moved, "inclusion_base", base_cat)
    return pd.DataFrame(
        {
            "need_type": need,
            "moved": moved,
            "baseline_category": base_cat,
            "scenario_category": scen_cat,
            "baseline_placement_cost_gbp": np.where(np.arange(n) < n_ooa, 52_000.0, 9_000.0),
            "scenario_placement_cost_gbp": np.where(
                moved, 18_000.0, np.where(np.arange(n) < n_ooa, 52_000.0, 9_000.0)
            ),
            "baseline_transport_cost_gbp": np.where(np.arange(n) < n_ooa, 6_000.0, 0.0),
            "scenario_transport_cost_gbp": np.where(
                moved, 2_000.0, np.where(np.arange(n) < n_ooa, 6_000.0, 0.0)
            ),
        }
    )


PLACES = pd.DataFrame({"needs": ["ASD"], "capacity": [10]})


def test_zero_growth_repeats_the_snapshot():
    t = project_ooa(_per_pupil(8, 5), PLACES, pd.Series({"ASD": 0.0}), years=4)
    asd = t[t["need_type"] == "ASD"]
    assert asd["ooa_baseline"].tolist() == [8] * 5
    assert asd["avoided"].tolist() == [5] * 5
    # saving per mover: (52k + 6k) - (18k + 2k) = 38k
    assert asd["annual_saving_gbp"].tolist() == pytest.approx([5 * 38_000.0] * 5)
    assert asd["cumulative_saving_gbp"].iloc[-1] == pytest.approx(25 * 38_000.0)


def test_no_new_places_avoid_nothing_after_year_zero_and_none_moved():
    t = project_ooa(_per_pupil(8, 0), PLACES.iloc[0:0], pd.Series({"ASD": 0.2}), years=3)
    assert (t["avoided"] == 0).all()
    assert (t["ooa_scenario"] == t["ooa_baseline"]).all()
    assert (t["annual_saving_gbp"] == 0).all()


def test_growth_is_capped_by_places():
    t = project_ooa(_per_pupil(8, 6), PLACES, pd.Series({"ASD": 0.5}), years=3)
    asd = t[t["need_type"] == "ASD"].set_index("year_offset")
    # 6 movers grow 6, 9, 13.5, 20.25 -> capped at the 10 places
    assert asd["avoided"].tolist() == [6, 9, 10, 10]
    assert asd["ooa_baseline"].tolist() == [8, 12, 18, 27]
    assert (asd["ooa_scenario"] == asd["ooa_baseline"] - asd["avoided"]).all()


def test_all_row_sums_the_needs():
    pp = pd.concat([_per_pupil(8, 4, "ASD"), _per_pupil(6, 2, "SEMH")], ignore_index=True)
    places = pd.DataFrame({"needs": ["ASD;SEMH"], "capacity": [12]})
    t = project_ooa(pp, places, pd.Series({"ASD": 0.1, "SEMH": 0.2}), years=2)
    for y, grp in t.groupby("year_offset"):
        total = grp[grp["need_type"] == "all"].iloc[0]
        parts = grp[grp["need_type"] != "all"]
        for col in ("ooa_baseline", "ooa_scenario", "avoided", "annual_saving_gbp"):
            assert total[col] == pytest.approx(parts[col].sum()), (y, col)
    assert t["year"].iloc[0] == "2025/26"
