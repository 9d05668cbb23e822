"""The DfE EHC plans release reader: authority filter, suppression, years, need codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from placeplan._errors import InputFileError
from placeplan.prepare.sen2 import academic_year_label, read_sen2_release

HEAD = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,ehcplans,"
    "special_independent,special_total_pc\n"
)


def _row(
    tp: str, level: str, new: str, old: str, name: str, topic: str, bd: str, *vals: str
) -> str:
    return (
        f"{tp},Academic year,{level},E92000001,England,E12000008,South East,{new},{old},{name},"
        f"{topic},{bd},{','.join(vals)}\n"
    )


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    rows = [
        _row(
            "201819",
            "National",
            "",
            "",
            "",
            "All EHC plans",
            "All EHC plans",
            "354000",
            "9000",
            "1",
        ),
        _row(
            "201819", "Regional", "", "", "", "All EHC plans", "All EHC plans", "50000", "900", "1"
        ),
        _row(
            "201819",
            "Local authority",
            "E06000046",
            "921",
            "Isle of Wight",
            "All EHC plans",
            "All EHC plans",
            "1056",
            "10",
            "2.0",
        ),
        _row(
            "201920",
            "Local authority",
            "E06000046",
            "921",
            "Isle of Wight",
            "All EHC plans",
            "All EHC plans",
            "1217",
            "x",
            "2.0",
        ),
        _row(
            "202021",
            "Local authority",
            "E06000046",
            "921",
            "Isle of Wight",
            "All EHC plans",
            "All EHC plans",
            "c",
            "z",
            "2.0",
        ),
        _row(
            "202021",
            "Local authority",
            "E06000046",
            "921",
            "Isle of Wight",
            "Child or young persons age",
            "under 3",
            "low",
            "0",
        ),
        _row(
            "202021",
            "Local authority",
            "E06000046",
            "921",
            "Isle of Wight",
            "Child or young persons age",
            "age 10",
            "54",
            ":",
        ),
        _row(
            "201819",
            "Local authority",
            "E06000045",
            "852",
            "Southampton",
            "All EHC plans",
            "All EHC plans",
            "1522",
            "56",
            "3.0",
        ),
        _row(
            "201920",
            "Local authority",
            "E06000045",
            "852",
            "Southampton",
            "All EHC plans",
            "All EHC plans",
            "1736",
            "31",
            "3.0",
        ),
    ]
    (tmp_path / "ehcp2025_caseload_test.csv").write_text(HEAD + "".join(rows))
    needs = (
        "time_period,time_identifier,geographic_level,new_la_code,old_la_code,la_name,"
        "breakdown_topic,breakdown,ehc_plans,number_asd,number_semh,number_slcn,"
        "number_need_unknown,asd_pc\n"
        "202425,Academic year,Local authority,E06000046,921,Isle of Wight,All EHC plans,"
        "All EHC plans,100,40,x,25,3,40\n"
        "202425,Academic year,Local authority,E06000045,852,Southampton,All EHC plans,"
        "All EHC plans,999,900,1,1,1,9\n"
    )
    (tmp_path / "ehcp2025_sen_needs_all_plans_test.csv").write_text(needs)
    return tmp_path


@pytest.mark.parametrize("code", ["921", "E06000046", "e06000046"])
def test_old_and_new_codes_read_the_same_rows(release_dir: Path, code: str) -> None:
    rel = read_sen2_release(release_dir, code)
    assert (rel.la_code, rel.old_la_code, rel.la_name) == ("E06000046", "921", "Isle of Wight")
    head = rel.headline()
    # only the island's rows: neither England, the region nor Southampton leak in
    assert list(head.index) == ["2018/19", "2019/20", "2020/21"]
    assert head["ehcplans"].iloc[:2].tolist() == [1056.0, 1217.0]
    assert np.isnan(head["ehcplans"]["2020/21"])  # "c" is missing, not zero
    assert np.isnan(head["special_independent"]["2019/20"])  # "x"
    assert np.isnan(head["special_independent"]["2020/21"])  # "z"
    assert head["special_independent"]["2018/19"] == 10.0
    assert "special_total_pc" not in set(rel.caseload["measure"])  # derived percentages dropped
    assert rel.caseload["value"].sum() == 1056 + 1217 + 10 + 54 + 0  # nothing else summed in


def test_age_bands_and_suppressed_age_cells(release_dir: Path) -> None:
    rel = read_sen2_release(release_dir, "921")
    ages = rel.caseload[(rel.caseload["measure"] == "ehcplans") & rel.caseload["age"].notna()]
    by_age = dict(zip(ages["age"].astype(int), ages["value"], strict=True))
    assert by_age[10] == 54.0
    assert np.isnan(by_age[2])  # "under 3" is age band 2; "low" is missing


def test_need_names_map_to_package_codes(release_dir: Path) -> None:
    rel = read_sen2_release(release_dir, "E06000046")
    got = dict(zip(rel.needs["need"], rel.needs["value"], strict=True))
    assert got["ASD"] == 40.0 and got["SLCN"] == 25.0 and got["UNKNOWN"] == 3.0
    assert np.isnan(got["SEMH"])
    assert set(rel.needs["year"]) == {"2024/25"}


def test_unknown_code_names_file_and_lists_codes(release_dir: Path) -> None:
    with pytest.raises(InputFileError) as info:
        read_sen2_release(release_dir, "E06000099")
    text = str(info.value)
    assert "ehcp2025_caseload_test.csv" in text
    assert "E06000046" in text and "E06000045" in text and "E06000099" in text


def test_no_caseload_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="caseload"):
        read_sen2_release(tmp_path, "921")


def test_duplicated_rows_are_refused(release_dir: Path) -> None:
    path = release_dir / "ehcp2025_caseload_test.csv"
    text = path.read_text()
    path.write_text(text + text.splitlines(keepends=True)[3])
    with pytest.raises(InputFileError, match="repeat"):
        read_sen2_release(release_dir, "921")


def test_year_labels() -> None:
    assert academic_year_label("201819") == "2018/19"
    assert academic_year_label("2024") == "2024"
    with pytest.raises(ValueError, match="time_period"):
        academic_year_label("18/19x")


def test_requests_file_is_optional_and_read_by_calendar_year(release_dir: Path) -> None:
    # without it: an empty requests table; with it: one row a year, keyed like new plans
    assert read_sen2_release(release_dir, "921").requests.empty
    (release_dir / "ehcp2025_requests_tiny.csv").write_text(
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
        "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,"
        "requests_received_in_year\n"
        "2022,Calendar year,Local authority,E92000001,England,E12000008,South East,E06000046,"
        "921,Isle of Wight,All requests for EHC needs assessments,All,382\n"
        "2023,Calendar year,Local authority,E92000001,England,E12000008,South East,E06000046,"
        "921,Isle of Wight,All requests for EHC needs assessments,All,x\n",
        encoding="utf-8",
    )
    rel = read_sen2_release(release_dir, "921")
    head = rel.headline("requests")["requests_received_in_year"]
    assert head["2022/23"] == 382.0
    assert np.isnan(head["2023/24"])  # suppressed: missing, not 0
    assert "requests" in rel.files
