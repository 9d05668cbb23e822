"""Cohort ageing of placement types with phase-transfer transitions: hand-computed answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.forecast import PLACEMENT_MEASURES, fit_forecast, forecast
from placeplan.compute.forecast_cohort import (
    fit_cohort_types,
    fit_type_transitions,
    known_mix,
    minimum_flow_transitions,
    project_cohort,
    project_type_shares,
    type_share_path,
    unknown_ages,
)
from placeplan.prepare.sen2 import read_sen2_release

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight" / "sen2"
TYPES = ["ms", "sp", "fe"]


def test_minimum_flow_matrix_maps_old_shares_onto_new_exactly() -> None:
    before = pd.Series({"ms": 60.0, "sp": 30.0, "fe": 10.0})
    after = pd.Series({"ms": 30.0, "sp": 20.0, "fe": 50.0})
    t = minimum_flow_transitions(before, after)
    # ms loses 0.3 of 0.6 (keeps 1/2), sp loses 0.1 of 0.3 (keeps 2/3); all of it goes to fe
    expected = np.array([[0.5, 0.0, 0.5], [0.0, 2 / 3, 1 / 3], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(t.to_numpy(), expected)
    np.testing.assert_allclose((before / before.sum()) @ t, after / after.sum())
    # any other mix stays a mix: non-negative, summing to 1
    other = pd.Series({"ms": 0.1, "sp": 0.1, "fe": 0.8}) @ t
    assert (other >= 0).all()
    assert other.sum() == pytest.approx(1.0)


def test_minimum_flow_matrix_is_identity_without_moves_or_plans() -> None:
    same = pd.Series({"ms": 5.0, "sp": 5.0})
    np.testing.assert_allclose(minimum_flow_transitions(same, same * 3).to_numpy(), np.eye(2))
    empty = pd.Series({"ms": 0.0, "sp": 0.0})
    np.testing.assert_allclose(minimum_flow_transitions(empty, same).to_numpy(), np.eye(2))


def _census(rows: dict[int, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=TYPES)


def test_transitions_fitted_at_phase_transfer_and_pooled_within_a_phase() -> None:
    # one pair of censuses; ages 9 and 10 (primary), 11 (secondary)
    before = _census({9: (90.0, 10.0, 0.0), 10: (80.0, 20.0, 0.0), 11: (60.0, 40.0, 0.0)})
    after = _census({9: (0.0, 0.0, 0.0), 10: (90.0, 10.0, 0.0), 11: (60.0, 40.0, 0.0)})
    t = fit_type_transitions([(before, after)])
    # 10 -> 11 is Year 6 -> Year 7, fitted alone: 80/20 becomes 60/40, mainstream keeps 3/4
    assert t[10].loc["ms", "ms"] == pytest.approx(0.75)
    assert t[10].loc["ms", "sp"] == pytest.approx(0.25)
    assert t[10].loc["sp", "sp"] == pytest.approx(1.0)
    # 9 -> 10 sits in the primary band (5..9): no moves there (90/10 stays 90/10)
    np.testing.assert_allclose(t[9].to_numpy(), np.eye(3))
    assert t[5] is t[9]  # one matrix for the band
    assert 11 not in t  # no age 12 at the later census: nothing to fit


def test_three_year_cohort_with_a_transition_by_hand() -> None:
    """A cohort of 100 at age 9, 10 % leaving a year, through Year 6 -> Year 7 and on.

    Transitions (fitted from one pair of censuses): none 9 -> 10; at 10 -> 11 mainstream keeps
    3/4 and sends 1/4 to special; none 11 -> 12. Start: 90 mainstream, 10 special at age 9.

    year 1, age 10: 90 plans, mix 0.9 / 0.1         -> 81 ms, 9 sp
    year 2, age 11: 81 plans, mix 0.9*0.75 = 0.675,
                    0.1 + 0.9*0.25 = 0.325           -> 54.675 ms, 26.325 sp
    year 3, age 12: 72.9 plans, mix 0.675 / 0.325   -> 49.2075 ms, 23.6925 sp
    """
    before = _census({9: (90.0, 10.0, 0.0), 10: (80.0, 20.0, 0.0), 11: (50.0, 50.0, 0.0)})
    after = _census({10: (90.0, 10.0, 0.0), 11: (60.0, 40.0, 0.0), 12: (50.0, 50.0, 0.0)})
    transitions = fit_type_transitions([(before, after)])
    years = ["y1", "y2", "y3"]
    totals = project_cohort(
        pd.Series({9: 100.0}),
        pd.DataFrame(index=years),
        pd.Series(0.1, index=range(9, 13)),
        max_age=12,
    )
    np.testing.assert_allclose(totals[[10, 11, 12]].to_numpy().diagonal(), [90.0, 81.0, 72.9])
    start = pd.DataFrame({"ms": [0.9], "sp": [0.1], "fe": [0.0]}, index=[9]).reindex(
        range(9, 13), fill_value=0.0
    )
    mixes = project_type_shares(start, transitions, years)
    counts = {y: mixes[y].loc[9 + i + 1] * totals.loc[y, 9 + i + 1] for i, y in enumerate(years)}
    assert counts["y1"].to_dict() == pytest.approx({"ms": 81.0, "sp": 9.0, "fe": 0.0})
    assert counts["y2"].to_dict() == pytest.approx({"ms": 54.675, "sp": 26.325, "fe": 0.0})
    assert counts["y3"].to_dict() == pytest.approx({"ms": 49.2075, "sp": 23.6925, "fe": 0.0})
    # the same through type_share_path: the whole stock is this one cohort
    shares = type_share_path(totals, start * 100, transitions)
    assert shares.loc["y3"].to_dict() == pytest.approx({"ms": 0.675, "sp": 0.325, "fe": 0.0})


def test_fit_cohort_types_reads_the_published_by_age_table() -> None:
    release = read_sen2_release(SAMPLE, "921")
    stock, transitions = fit_cohort_types(
        release.caseload, "2024/25", list(PLACEMENT_MEASURES), remainder="_other"
    )
    # Isle of Wight, January 2025, age 16 as published: 65 mainstream, 20 special LA, 7 FE
    assert stock.loc[16, ["mainstream_total", "special_la_maintained", "fe_total"]].tolist() == [
        65.0,
        20.0,
        7.0,
    ]
    # Year 11 -> post-16 is the move into further education: mainstream loses to FE
    t15 = transitions[15]
    assert t15.loc["mainstream_total", "fe_total"] > 0.05
    assert t15.loc["fe_total", "fe_total"] == pytest.approx(1.0)
    np.testing.assert_allclose(t15.sum(axis=1), 1.0)
    # one by-age census up to 2023/24: no pair, no transitions
    assert fit_cohort_types(release.caseload, "2023/24", list(PLACEMENT_MEASURES))[1] == {}


def test_forecast_types_follow_cohort_shares_when_published_by_age() -> None:
    release = read_sen2_release(SAMPLE, "852")
    model = fit_forecast(release)
    assert model.type_transitions
    fc = forecast(release, years=3).set_index(["year", "measure"])["central"]
    for year in ("2025/26", "2026/27", "2027/28"):
        parts = sum(fc[(year, m)] for m in PLACEMENT_MEASURES)
        assert parts <= fc[(year, "ehcplans")] + 1e-6
        assert fc[(year, "special_total")] == pytest.approx(
            sum(
                fc[(year, m)]
                for m in (
                    "special_la_maintained",
                    "special_academy_free",
                    "special_independent",
                    "special_non_maintained",
                )
            )
        )
    # without the by-age pair (base 2023/24) the model falls back to base-year shares
    assert fit_forecast(release, "2023/24").type_transitions == {}


def test_type_combines_own_flow_and_share_by_surviving_plans_weight() -> None:
    """1,000 plans, 90 % kept a year, 100 new plans a year (all into mainstream).

    Independent special: 100 plans, keeps all of them (rho 1), gets no new plans.
    Year 1: total 0.9*1000 + 100 = 1000; flows ms 0.9*900 + 100 = 910, ind 100, scaled to the
    total by 1000/1010; weight of the flow = 0.9**1 * 1000/1000 = 0.9; the share part is the base
    share 10 % of 1,000.
    """
    from placeplan.compute.forecast import _OTHER, _Core, _project_core

    leaves = [*PLACEMENT_MEASURES, _OTHER]
    zero = dict.fromkeys(leaves, 0.0)
    core = _Core(
        base_year="2024/25",
        stock={**zero, "ehcplans": 1000.0, "mainstream_total": 900.0, "special_independent": 100.0},
        rho={**dict.fromkeys(leaves, 0.9), "ehcplans": 0.9, "special_independent": 1.0},
        const=zero,
        new_intercept=100.0,
        new_slope=0.0,
        new_mix={**zero, "mainstream_total": 1.0},
        shares={**zero, "mainstream_total": 0.9, "special_independent": 0.1},
    )
    got = _project_core(core, 2)
    ind1 = 100.0 * 1000 / 1010
    assert got.loc["2025/26", "special_independent"] == pytest.approx(0.9 * ind1 + 0.1 * 100.0)
    ms1 = 910.0 * 1000 / 1010
    scale2 = 1000 / (0.9 * ms1 + 100.0 + ind1)
    want2 = 0.81 * ind1 * scale2 + 0.19 * 100.0
    assert got.loc["2026/27", "special_independent"] == pytest.approx(want2)
    assert got.loc["2026/27", "ehcplans"] == pytest.approx(1000.0)
    # with a cohort share path the share part follows it instead
    path = pd.DataFrame(
        {**zero, "mainstream_total": 0.8, "special_independent": 0.2}, index=["2025/26"]
    )
    got = _project_core(core, 1, path)
    assert got.loc["2025/26", "special_independent"] == pytest.approx(0.9 * ind1 + 0.1 * 200.0)


def test_error_floor_grows_in_proportion_to_the_horizon() -> None:
    # the synthetic release follows the model exactly: zero residuals, so only the floor is left
    from placeplan.prepare.sen2 import example_release

    model = fit_forecast(example_release(new_plans=(100.0, 0.0)), years=4)
    np.testing.assert_allclose(model.sigma["ehcplans"].to_numpy(), [0.05, 0.10, 0.15, 0.20])


def _caseload(cells: dict[tuple[str, int], dict[str, float]]) -> pd.DataFrame:
    rows = [
        (y, "Child or young persons age", f"age {a}", a, m, v)
        for (y, a), c in cells.items()
        for m, v in c.items()
    ]
    cols = ["year", "breakdown_topic", "breakdown", "age", "measure", "value"]
    return pd.DataFrame(rows, columns=cols).astype({"age": "Int64"})


def test_a_suppressed_by_age_cell_is_unknown_in_the_type_fit() -> None:
    nan = float("nan")  # an `x` in the release (prepare.sen2 reads it as NaN)
    caseload = _caseload(
        {
            ("2022/23", 10): {"ehcplans": 100, "mainstream_total": 100, "special_la_maintained": 0},
            ("2023/24", 10): {"ehcplans": 100, "mainstream_total": 100, "special_la_maintained": 0},
            ("2023/24", 11): {"ehcplans": 100, "mainstream_total": 90, "special_la_maintained": 10},
            ("2024/25", 11): {
                "ehcplans": 100,
                "mainstream_total": 70,
                "special_la_maintained": nan,
            },
        }
    )
    types = ["mainstream_total", "special_la_maintained"]
    stock, transitions = fit_cohort_types(caseload, "2024/25", types)
    # at the base year the suppressed cell and the remainder are unknown, never 0 and 30
    assert np.isnan(stock.loc[11, "special_la_maintained"])
    assert np.isnan(stock.loc[11, "_other"])
    # only the 2022/23 -> 2023/24 pair is fitted: 10 of 100 move (read as 0, the 30 hidden plans
    # would be a move to the remainder and the move to special 10 / 200)
    t10 = transitions[10]
    assert t10.loc["mainstream_total", "special_la_maintained"] == pytest.approx(0.1)
    assert t10.loc["mainstream_total", "_other"] == pytest.approx(0.0)
    assert unknown_ages(caseload, "2024/25", types) == (("2024/25", 11),)
    # an age with a suppressed cell starts the share path from the published ages' mix
    start = pd.DataFrame({"ms": [60.0, nan], "sp": [20.0, 5.0]}, index=[10, 11])
    assert known_mix(start).to_dict() == pytest.approx({"ms": 0.75, "sp": 0.25})
    paths = pd.DataFrame({10: [0.0], 11: [100.0]}, index=["y1"])
    shares = type_share_path(paths, start, {})
    assert shares.loc["y1"].to_dict() == pytest.approx({"ms": 0.75, "sp": 0.25})  # not 0 / 1
