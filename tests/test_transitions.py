"""Kinds of place by age from the SEN2 release: transition rates and new plans' mix (issue 9)."""

from __future__ import annotations

import pandas as pd
import pytest

from placeplan._errors import SchemaValidationError
from placeplan.compute.transitions import (
    GROUPS,
    kinds_by_age,
    new_plan_mix,
    phase_transfer_rates,
    release_kind,
)
from placeplan.prepare.sen2 import Sen2Release, example_release

AGE = "Child or young persons age"
STARTED = "Age when plan started"


def _release(caseload: dict, new_plans: dict | None = None) -> Sen2Release:
    """A release from ``{(year, age): {measure: value}}`` (by-age rows only)."""
    cols = ["year", "breakdown_topic", "breakdown", "age", "measure", "value"]
    rows = [
        (y, AGE, f"age {a}", a, m, float(v))
        for (y, a), cells in caseload.items()
        for m, v in cells.items()
    ]
    cl = pd.DataFrame(rows, columns=cols).astype({"age": "Int64"})
    new_rows = [
        (y[:4], STARTED, f"age {a}", a, m, float(v), y)
        for (y, a), cells in (new_plans or {}).items()
        for m, v in cells.items()
    ]
    new = pd.DataFrame(new_rows, columns=[*cols, "census_year"]).astype({"age": "Int64"})
    return Sen2Release(
        la_code="E06000099",
        old_la_code="998",
        la_name="Tinyshire",
        caseload=cl,
        needs=pd.DataFrame(),
        new_plans=new,
        new_plans_needs=pd.DataFrame(),
        ceased=pd.DataFrame(),
        files={},
    )


def test_release_kinds():
    assert release_kind("mainstream_la_maintained") == "mainstream"
    assert release_kind("general_fe_tertiary_colleges") == "fe"  # FE is a kind of its own
    assert release_kind("mainstream_la_maintained_senunit") == "specialist"
    assert release_kind("special_independent") == "specialist"
    assert release_kind("special_independent", split_independent=True) == "independent"
    assert release_kind("ap_pru_la_maintained") == "ap"
    assert release_kind("special_total") is None
    assert release_kind("ehcplans") is None
    assert release_kind("elective_home_education") is None  # counted in the `other` remainder


def test_kinds_by_age_counts_other_as_the_remainder_without_double_counting():
    rel = _release(
        {
            ("2023/24", 10): {
                "ehcplans": 100,
                "mainstream_total": 70,  # a total: never added to its parts
                "mainstream_la_maintained": 60,
                "mainstream_academy": 10,
                "special_la_maintained": 15,
                "special_non_maintained": 5,
                "elective_home_education": 4,
            }
        }
    )
    got = kinds_by_age(rel).loc[("2023/24", 10)].to_dict()
    assert got == {"mainstream": 70.0, "specialist": 20.0, "ap": 0.0, "other": 10.0, "fe": 0.0}
    split = kinds_by_age(rel, split_independent=True).loc[("2023/24", 10)]
    assert split["specialist"] == 15.0
    assert split["independent"] == 5.0


def test_transition_rates_reproduce_hand_computed_counts():
    # age 10 in 2023/24: 80 mainstream, 20 special; the same cohort at 11 in 2024/25: 60 and 40
    # -> 20 of the 80 mainstream pupils moved: rate 0.25 mainstream -> specialist into NC 7.
    # age 15 -> 16: special 40 -> 10 and college 0 -> 30 of 60 (FE a kind of its own): 30 of 40
    # moved from special to college; mainstream school stays at 20.
    ms, sp = "mainstream_academy", "special_la_maintained"
    rel = _release(
        {
            ("2023/24", 10): {"ehcplans": 100, ms: 80, sp: 20},
            ("2024/25", 11): {"ehcplans": 100, ms: 60, sp: 40},
            ("2023/24", 15): {"ehcplans": 60, ms: 20, sp: 40},
            ("2024/25", 16): {
                "ehcplans": 60,
                "mainstream_academy": 20,
                "general_fe_tertiary_colleges": 30,
                "special_la_maintained": 10,
            },
            ("2024/25", 10): {"ehcplans": 50, "mainstream_academy": 50},  # no later census: unused
        }
    )
    rates = phase_transfer_rates(rel, "E06000099")
    got = {(r.from_group, r.to_group, r.nc_year): r.rate for r in rates.itertuples()}
    assert got == pytest.approx(
        {("mainstream", "specialist", 7): 0.25, ("specialist", "fe", 12): 0.75}
    )
    assert set(rates["from_group"]) <= set(GROUPS)
    # expected counts on the tiny cohort: 80 x 0.25 = 20 and 40 x 0.75 = 30, the published shifts
    assert 80 * got[("mainstream", "specialist", 7)] == pytest.approx(20)
    assert 40 * got[("specialist", "fe", 12)] == pytest.approx(30)


def test_transition_rates_pool_census_pairs_and_respect_base_year():
    cells = {
        ("2022/23", 10): {"ehcplans": 100, "mainstream_academy": 100},
        ("2023/24", 11): {"ehcplans": 100, "mainstream_academy": 90, "special_la_maintained": 10},
        ("2023/24", 10): {"ehcplans": 100, "mainstream_academy": 100},
        ("2024/25", 11): {"ehcplans": 100, "mainstream_academy": 70, "special_la_maintained": 30},
    }
    rel = _release(cells)
    pooled = phase_transfer_rates(rel)
    assert pooled["rate"].tolist() == pytest.approx([40 / 200])  # 40 of 200 moved over two pairs
    early = phase_transfer_rates(rel, base_year="2023/24")
    assert early["rate"].tolist() == pytest.approx([0.1])


def test_transition_rates_are_empty_without_by_age_history():
    assert phase_transfer_rates(example_release()).empty
    one = _release({("2024/25", 10): {"ehcplans": 10, "mainstream_academy": 10}})
    assert phase_transfer_rates(one).empty
    assert list(phase_transfer_rates(one).columns) == ["from_group", "to_group", "nc_year", "rate"]


def test_new_plan_mix_prefers_the_chosen_table_then_the_other_then_overall():
    rel = _release(
        {("2024/25", 12): {"ehcplans": 10, "special_la_maintained": 10}},
        {
            ("2024/25", 11): {
                "new_ehc_plans": 10,
                "mainstream_academy": 6,
                "special_la_maintained": 2,
                "special_independent": 1,
                "ap_pru_la_maintained": 1,
            },
            ("2023/24", 11): {"new_ehc_plans": 10, "mainstream_academy": 10},
        },
    )
    mix = new_plan_mix(rel, table="new_plans")
    mix = mix.pivot(index="nc_year", columns="kind", values="share")
    assert mix.loc[7].to_dict() == pytest.approx(  # age 11: pooled new plans, 16/20 mainstream
        {
            "mainstream": 0.8,
            "specialist": 0.1,
            "independent": 0.05,
            "ap": 0.05,
            "other": 0.0,
            "fe": 0.0,
        }
    )
    assert mix.loc[8, "specialist"] == 1.0  # age 12: no new plans published, caseload mix
    assert mix.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    # default: the caseload's mix at that age first; age 11 has no caseload, so new plans there
    stock = new_plan_mix(rel).pivot(index="nc_year", columns="kind", values="share")
    assert stock.loc[8, "specialist"] == 1.0
    assert stock.loc[7, "mainstream"] == pytest.approx(0.8)
    with pytest.raises(SchemaValidationError, match="la_code"):
        new_plan_mix(rel, "E06000046")


def test_island_release_gives_rates_and_a_mix():
    from pathlib import Path

    from placeplan.prepare.sen2 import read_sen2_release

    folder = Path(__file__).resolve().parents[1] / "data/sample/isle-of-wight/sen2"
    rel = read_sen2_release(folder, "E06000046")
    rates = phase_transfer_rates(rel, "E06000046")
    assert not rates.empty
    assert ((rates["rate"] > 0) & (rates["rate"] <= 1)).all()
    out = rates.groupby(["from_group", "nc_year"])["rate"].sum()
    assert (out <= 1 + 1e-12).all()
    mix = new_plan_mix(rel)
    assert mix.groupby("nc_year")["share"].sum().to_numpy() == pytest.approx(1.0)
    # most new plans start in mainstream schools at primary age (the release, 2022 and 2024)
    first = new_plan_mix(rel, table="new_plans")
    assert first[(first.nc_year == 4) & (first.kind == "mainstream")]["share"].iloc[0] > 0.8
    # at 14 (NC 10), 2023/24 + 2024/25 caseload: independent 0 + 0, non-maintained 7 + 12, of
    # 117 + 141 plans
    at14 = mix[mix.nc_year == 10].set_index("kind")["share"]
    assert at14["independent"] == pytest.approx((0 + 7 + 0 + 12) / (117 + 141))


def test_placed_only_reads_shares_of_the_plans_in_a_setting():
    # age 16 -> 17, hand computed: 50 school, 20 college, 30 other -> 40 school, 40 college,
    # 20 other. Counting other, its fall is read as moves into college. Placed only: shares
    # 50/70, 20/70 -> 40/80, 40/80; school loses 5/7 - 1/2 = 3/14, rate (3/14) / (5/7) = 0.3.
    rel = _release(
        {
            ("2023/24", 16): {
                "ehcplans": 100,
                "mainstream_academy": 50,
                "general_fe_tertiary_colleges": 20,
            },
            ("2024/25", 17): {
                "ehcplans": 100,
                "mainstream_academy": 40,
                "general_fe_tertiary_colleges": 40,
            },
        }
    )
    placed = phase_transfer_rates(rel, placed_only=True)
    got = {(r.from_group, r.to_group, r.nc_year): r.rate for r in placed.itertuples()}
    assert got == pytest.approx({("mainstream", "fe", 13): 0.3})
    everyone = phase_transfer_rates(rel)
    assert "other" in set(everyone["from_group"])  # other's fall is read as moves into college
    assert "other" not in set(placed["from_group"]) | set(placed["to_group"])


_HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,ehcplans,"
    "mainstream_academy,special_la_maintained\n"
)


def _csv_row(period: str, age: int, cells: str) -> str:
    return (
        f"{period},Academic year,Local authority,E92000001,England,E12000008,South East,"
        f"E06000099,998,Tinyshire,{AGE},age {age},{cells}\n"
    )


def test_a_suppressed_by_age_cell_is_left_out_of_the_fit_not_read_as_zero(tmp_path):
    # A hand-made release file. Cohort aged 10 in 2022/23 and in 2023/24, followed to age 11:
    # pair 1: 100 mainstream -> 90 mainstream + 10 special; pair 2: 100 mainstream -> 70
    # mainstream + `x` special (suppressed) of 100 plans. Read as zero, the 30 hidden plans
    # would be moves to `other` and the mainstream -> specialist rate (10 + 0) / 200 = 0.05;
    # left out, pair 1 alone gives 10 / 100 = 0.1 and no move to `other`.
    (tmp_path / "ehcp_caseload_tiny.csv").write_text(
        _HEADER
        + _csv_row("202223", 10, "100,100,0")
        + _csv_row("202324", 10, "100,100,0")
        + _csv_row("202324", 11, "100,90,10")
        + _csv_row("202425", 11, "100,70,x"),
        encoding="utf-8",
    )
    from placeplan.prepare.sen2 import read_sen2_release

    rel = read_sen2_release(tmp_path, "998")
    counts = kinds_by_age(rel)
    assert pd.isna(counts.loc[("2024/25", 11), "specialist"])  # unknown, not 0
    assert counts.loc[("2024/25", 11)].sum() == pytest.approx(100)  # the row still sums to all
    rates = phase_transfer_rates(rel)
    got = {(r.from_group, r.to_group, r.nc_year): r.rate for r in rates.itertuples()}
    assert got == pytest.approx({("mainstream", "specialist", 7): 0.1})
    assert rates.attrs["unknown_cohorts"] == (("2023/24", 10),)
    # the new plans' mix by age leaves the row with the suppressed cell out too: age 11's mix
    # is 2023/24's 90/10, not (90 + 70) / 200 mainstream
    mix = new_plan_mix(rel).set_index(["nc_year", "kind"])["share"]
    assert mix[(7, "mainstream")] == pytest.approx(0.9)
