"""The damped-trend variants of the SEN2 forecast: known answers on synthetic series.

Both are off as shipped (they failed their pre-registered backtest rule, benchmarks/RESULTS.md);
these tests pin that they are what RESULTS.md says they are.
"""

from __future__ import annotations

import pandas as pd
import pytest

import placeplan.compute.forecast as fc_module
from placeplan.compute.forecast import PLACEMENT_MEASURES, forecast, new_plans_by_age
from placeplan.compute.forecast_trend import TREND_PHI, damped_sum, damped_value, line_fit
from placeplan.prepare.sen2 import example_release


def _totals(df: pd.DataFrame) -> list[float]:
    return df.loc[df["measure"] == "ehcplans", "central"].tolist()


def test_damped_sum_and_line_by_hand() -> None:
    assert TREND_PHI == 0.9
    assert damped_sum(0.9, 3) == pytest.approx(0.9 + 0.81 + 0.729)
    assert damped_sum(1.0, 4) == 4.0  # undamped: the linear trend
    assert damped_sum(0.0, 4) == 0.0  # fully damped: the level
    assert line_fit([-2.0, -1.0, 0.0], [80.0, 95.0, 110.0]) == pytest.approx((110.0, 15.0))
    assert line_fit([0.0], [7.0]) == (7.0, 0.0)
    assert damped_value(10.0, -100.0, 1) == 0.0  # never below zero


def test_variants_are_off_as_shipped() -> None:
    assert fc_module._COMBINE_TOTAL is False
    assert fc_module._NEW_DAMPED is False


def test_combination_on_a_linear_series(monkeypatch: pytest.MonkeyPatch) -> None:
    # all plans kept and 100 new plans a year: 1000, 1100, ..., 1600 (2018/19 to 2024/25)
    rel = example_release(retention=1.0, new_plans=(100.0, 0.0))
    shipped = forecast(rel, base_year="2021/22", years=3)  # 2021/22 holds 1300
    assert _totals(shipped) == pytest.approx([1400.0, 1500.0, 1600.0])
    monkeypatch.setattr(fc_module, "_COMBINE_TOTAL", True)
    # undamped, the trend of all plans agrees with the stock-flow model: the mean is the line
    monkeypatch.setattr(fc_module, "TREND_PHI", 1.0)
    pd.testing.assert_frame_equal(forecast(rel, base_year="2021/22", years=3), shipped)
    # damped (phi 0.9): the equal-weight mean of 1300 + 100 h and 1300 + 100 (0.9 + ... + 0.9^h)
    monkeypatch.setattr(fc_module, "TREND_PHI", 0.9)
    got = forecast(rel, base_year="2021/22", years=3)
    want = [1300 + 100 * (h + damped_sum(0.9, h)) / 2 for h in (1, 2, 3)]
    assert _totals(got) == pytest.approx(want)
    # the placement types are scaled with the total: they still add up to it, in the same mix
    wide = got.pivot(index="year", columns="measure", values="central")
    types = [m for m in PLACEMENT_MEASURES if m in wide.columns]
    pd.testing.assert_series_equal(
        wide[types].sum(axis=1), wide["ehcplans"], check_names=False, rtol=1e-9
    )
    before = shipped.pivot(index="year", columns="measure", values="central")
    ratio = wide["ehcplans"] / before["ehcplans"]
    for m in [*types, "special_total", "special_independent_non_maintained"]:
        pd.testing.assert_series_equal(wide[m], before[m] * ratio, check_names=False, rtol=1e-9)
    # the ranges still bracket the central figure
    assert ((got["lower"] <= got["central"]) & (got["central"] <= got["upper"])).all()


def test_damped_new_plans_shorten_the_trend(monkeypatch: pytest.MonkeyPatch) -> None:
    # new plans 100, 110, 120 (2019/20 to 2021/22): level 120, slope 10 a year
    rel = example_release()

    def new_totals() -> list[float]:
        df = new_plans_by_age(rel, base_year="2021/22", years=3)
        return df.groupby("year")["central"].sum().tolist()

    # shipped: half the slope every year ahead
    assert new_totals() == pytest.approx([120 + 5.0 * h for h in (1, 2, 3)])
    monkeypatch.setattr(fc_module, "_NEW_DAMPED", True)
    # damped: the h-th year adds 10 * (0.9 + ... + 0.9^h), the undamped 10 h shortened by
    # damped_sum(0.9, h) / h (0.9, 0.855, 0.813)
    got = new_totals()
    assert got == pytest.approx([120 + 10.0 * damped_sum(0.9, h) for h in (1, 2, 3)])
    assert [(g - 120) / (10.0 * h) for g, h in zip(got, (1, 2, 3), strict=True)] == pytest.approx(
        [0.9, 0.855, 0.813], abs=1e-3
    )
