"""Bad input typed by hand into the SEN2 release files and the plan's ``[[mitigation]]`` and
``[optimise]`` tables: exit 2 and one line naming the file, the row (CSV) or the table entry
(``[[mitigation]] #3``), the column or key, the value found and what was expected.

Each case was a traceback, a vague message or silently accepted bad data before the fix it
tests (cases already answered well are tested elsewhere: tests/test_sen2.py,
tests/test_forecast_unseen.py, tests/test_mitigation.py, tests/test_optimise_heldback.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from placeplan import cli
from placeplan._errors import InputFileError, SchemaValidationError
from placeplan.config import load_plan

SEN2 = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight" / "sen2"
CASELOAD = "ehcp2025_caseload_iow-southampton.csv"
REQUESTS = "ehcp2025_requests_iow.csv"
_IDS = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown"
)


def _request_row(period: str, value: str) -> str:
    return (
        f"{period},Calendar year,Local authority,E92000001,England,E12000008,South East,"
        f"E06000046,921,Isle of Wight,All requests for EHC needs assessments,"
        f"All requests for EHC needs assessments,{value},12\n"
    )


def _requests(*rows: tuple[str, str], measure: str = "requests_received_in_year") -> str:
    """A requests file as published (Isle of Wight rows only): (time_period, requests) rows."""
    head = f"{_IDS},{measure},requests_decided_not_to_assess\n"
    return head + "".join(_request_row(p, v) for p, v in rows)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A copy of the sample release folder, with a requests file as published."""
    folder = tmp_path / "sen2"
    shutil.copytree(SEN2, folder)
    text = _requests(("2021", "300"), ("2022", "382"), ("2023", "x"))
    (folder / REQUESTS).write_text(text, encoding="utf-8")
    return folder


def _forecast_error(folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``placeplan forecast`` on the folder: exit 2 and one error line, no traceback."""
    out = folder.parent / "forecast.csv"
    code = cli.main(["-q", "forecast", "--sen2", str(folder), "--la", "921", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("placeplan:")]
    assert len(lines) == 1, err
    return lines[0]


def _edit_caseload(folder: Path, old: str, new: str) -> None:
    """Replace ``old`` in the caseload file's first Isle of Wight row (file row 3)."""
    path = folder / CASELOAD
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ",Isle of Wight," in lines[2] and old in lines[2]
    lines[2] = lines[2].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


# -- the SEN2 release ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "value", "column", "says"),
    [
        ("requests", "abc", "requests_received_in_year", "is not a number"),
        ("requests", "3 82", "requests_received_in_year", "is not a number"),
        ("requests", "-5", "requests_received_in_year", "is negative"),
        ("caseload", "1O56", "ehcplans", "is not a number"),  # letter O for a zero
    ],
)
def test_a_count_that_is_not_a_count_names_file_row_column_and_value(
    release: Path,
    capsys: pytest.CaptureFixture[str],
    role: str,
    value: str,
    column: str,
    says: str,
) -> None:
    """Was read as a suppressed (missing) cell, or a negative count kept, silently."""
    if role == "requests":
        text = _requests(("2021", "300"), ("2022", value), ("2023", "x"))
        (release / REQUESTS).write_text(text, encoding="utf-8")
        name = REQUESTS
    else:
        _edit_caseload(release, ",1056,", f",{value},")
        name = CASELOAD
    line = _forecast_error(release, capsys)
    assert f"{name}, row 3, column {column!r}: {value!r} {says}" in line
    assert "expected a count of 0 or more" in line and "x, c, z" in line


def test_an_unquoted_thousands_comma_is_refused_not_shifted(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,056 unquoted split into two cells: the authority's total was read as 1 and the
    cells after it shifted one column along, silently."""
    _edit_caseload(release, ",1056,", ",1,056,")
    line = _forecast_error(release, capsys)
    assert f"{CASELOAD}, row 3: the row has 1 more cell(s) than the header" in line
    assert "must be quoted or written 1056" in line


def test_an_academic_year_in_the_requests_file_is_exit_2_not_a_crash(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 1, "unexpected error (ValueError): invalid literal for int()"."""
    text = _requests(("2021", "300"), ("202223", "382"))
    (release / REQUESTS).write_text(text, encoding="utf-8")
    line = _forecast_error(release, capsys)
    assert f"{REQUESTS}, row 3, column 'time_period': `time_period` '202223' is an academic" in line
    assert "calendar year (e.g. 2024)" in line


def test_a_calendar_year_in_the_caseload_file_is_refused(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A census table keyed by a calendar year was read as a year of its own, silently."""
    _edit_caseload(release, "201819,", "2018,")
    line = _forecast_error(release, capsys)
    assert f"{CASELOAD}, row 3, column 'time_period': `time_period` '2018' is a calendar" in line
    assert "academic year (e.g. 202425)" in line


def test_a_time_period_that_is_not_a_year_names_its_row(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file and column were named, but not the row."""
    text = _requests(("2021", "300"), ("2022/2023", "382"))
    (release / REQUESTS).write_text(text, encoding="utf-8")
    line = _forecast_error(release, capsys)
    assert f"{REQUESTS}, row 3, column 'time_period': `time_period` '2022/2023'" in line


def test_a_requests_file_without_its_requests_column_is_refused(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A renamed or misspelt column left the leading indicator without data, silently."""
    text = _requests(("2021", "300"), ("2022", "382"), measure="requests_recieved_in_year")
    (release / REQUESTS).write_text(text, encoding="utf-8")
    line = _forecast_error(release, capsys)
    assert f"{REQUESTS}, column 'requests_received_in_year': no all-requests column" in line
    assert "rename that column to `requests_received_in_year`" in line


def test_residential_table_typos_name_file_row_and_column(tmp_path: Path) -> None:
    """The residential settings table of `inputs.sen2_release`: a typo was "not published"."""
    from placeplan.prepare.sen2_check import plan_sen2_check

    folder = tmp_path / "plan"
    shutil.copytree(SEN2.parent, folder)
    head = f"{_IDS},Res_3851,Res_52\n"
    row = (
        "202425,Academic year,Local authority,E92000001,England,E12000008,South East,E06000046,"
        "921,Isle of Wight,All residential placements,All residential placements,{}\n"
    )
    path = folder / "sen2" / "ehcp2025_residential_settings_iow.csv"
    plan = load_plan(folder / "plan.toml")
    pupils = pd.DataFrame({"current_setting_id": ["1"], "need_type": ["ASD"]})
    provision = pd.DataFrame(
        {"setting_id": ["1"], "provision_type": ["special"], "in_area": [True]}
    )
    path.write_text(head + row.format("3,x"), encoding="utf-8")
    assert plan_sen2_check(plan, pupils, provision) is not None  # as published: read
    path.write_text(head + row.format("3,l2"), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 2, column 'Res_52': 'l2' is not a number"):
        plan_sen2_check(plan, pupils, provision)
    path.write_text(head + row.format("1,234,5"), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 2: the row has more cells than the header"):
        plan_sen2_check(plan, pupils, provision)


def test_sen2_check_table_typo_is_an_error_not_missing() -> None:
    from placeplan.prepare.sen2_check import compare_baseline_to_sen2

    prov = pd.DataFrame({"setting_id": ["1"], "provision_type": ["special"], "in_area": [True]})
    pupils = pd.DataFrame({"current_setting_id": ["1"]})
    sen2 = pd.DataFrame(
        {
            "new_la_code": ["E06000046"],
            "time_period": ["202425"],
            "breakdown_topic": ["All EHC plans"],
            "special_la_maintained": ["12"],
            "special_independent": ["1o"],
        }
    )
    with pytest.raises(
        SchemaValidationError,
        match=r"placement table has '1o' in column `special_independent` for authority "
        r"E06000046, time_period 202425",
    ):
        compare_baseline_to_sen2(pupils, prov, {"placement": sen2}, la_code="E06000046")


# -- plan.toml: [[mitigation]] and [optimise] ----------------------------------------------------
def _plan_error(plan_dir: Path, old: str, new: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Edit the sample plan, run ``placeplan validate``: exit 2 and one error line."""
    path = plan_dir / "plan.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    code = cli.main(["-q", "validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("placeplan:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"{path}: invalid plan" in lines[0]
    return lines[0]


# the sample's third rule (this text is unique in the plan file) and how errors name it
THIRD = (
    'name = "Longer journey: route change"\nwhat = "route_change"\ncost_gbp_per_pupil_year = 500\n'
    "worse_off_min_gt = 5\n"
)
ROUTE = "[[mitigation]] #3 'Longer journey: route change', `mitigation.2."


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        (
            'what = "route_change"',
            'what = "taxi"',
            "what",
            "'personal_travel_budget', 'escort' or 'other' (got \"taxi\")",
        ),
        ("= 500", '= "500"', "cost_gbp_per_pupil_year", 'valid number (got "500")'),
        ("= 500", "= true", "cost_gbp_per_pupil_year", "valid number (got true)"),
        ("= 500", "= inf", "cost_gbp_per_pupil_year", "finite number (got inf)"),
        ("= 500", "= -500", "cost_gbp_per_pupil_year", "greater than or equal to 0 (got -500)"),
        (
            "worse_off_min_gt = 5",
            "worse_off_min_gt = -1",
            "worse_off_min_gt",
            "greater than or equal to 0 (got -1)",
        ),
        ("= 500", '= 500\nferry = "no"', "ferry", 'valid boolean (got "no")'),
        ("= 500", "= 500\nmoved = 1", "moved", "valid boolean (got 1)"),
        (
            "= 500",
            '= 500\nphases = ["primry"]',
            "phases.0",
            "'primary', 'secondary' or 'post16' (got \"primry\")",
        ),
        (
            "= 500",
            '= 500\nphases = "primary"',
            "phases",
            'write a list in square brackets, e.g. phases = ["primary"]',
        ),
    ],
)
def test_mitigation_errors_name_the_entry_key_and_value(
    sample_copy: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    key: str,
    says: str,
) -> None:
    """Strings, booleans and inf were coerced ("no" matched every pupil it should not, true cost
    £1); the entry was an index from 0 and the value found was not shown."""
    line = _plan_error(sample_copy, THIRD, THIRD.replace(old, new, 1), capsys)
    assert f"{ROUTE}{key}`: " in line
    assert says in line


def test_worse_off_min_gt_given_as_text_is_refused(
    sample_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _plan_error(sample_copy, "worse_off_min_gt = 15", 'worse_off_min_gt = "15"', capsys)
    assert "[[mitigation]] #1 'Much longer journey: stay', `mitigation.0.worse_off_min_gt`" in line
    assert 'valid number (got "15")' in line


def test_duplicate_rule_names_say_which_entries(
    sample_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _plan_error(
        sample_copy,
        'name = "Longer journey: route change"',
        'name = "Much longer journey: stay"',
        capsys,
    )
    assert "[[mitigation]] #1 and #3 are both named 'Much longer journey: stay'" in line


def test_a_single_mitigation_table_says_to_use_double_brackets(
    sample_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample_copy / "plan.toml"
    text = path.read_text(encoding="utf-8")
    first = text.index("\n[[mitigation]]\n")
    second = text.index("\n[[mitigation]]\n", first + 1)
    path.write_text(text[:first] + "\n[mitigation]" + text[first + 15 : second], encoding="utf-8")
    assert cli.main(["-q", "validate", str(path)]) == 2
    line = capsys.readouterr().err.strip()
    assert "`mitigation`: " in line
    assert "got one [mitigation] table: write each entry as [[mitigation]]" in line


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ("steps = 10 ", 'steps = "10" ', "`optimise.steps`", 'valid integer (got "10")'),
        ("steps = 10 ", "steps = true ", "`optimise.steps`", "valid integer (got true)"),
        ("alternatives = 5 ", "alternatives = 2.5 ", "`optimise.alternatives`", "(got 2.5)"),
        (
            '"2027-28" = 800000',
            '"2027-28" = "800000"',
            "`optimise.budget_by_fy_gbp.2027-28`",
            'valid number (got "800000")',
        ),
        (
            '"2027-28" = 800000',
            '"2027-28" = true',
            "`optimise.budget_by_fy_gbp.2027-28`",
            "valid number (got true)",
        ),
        (
            "{ places = 12, capital_gbp = 600000 }",
            "{ places = 12, capital_gbp = inf }",
            "[[optimise.sizes]] #2, `optimise.sizes.1.capital_gbp`",
            "finite number (got inf)",
        ),
        (
            "{ places = 12, capital_gbp = 600000 }",
            '{ places = "12", capital_gbp = 600000 }',
            "[[optimise.sizes]] #2, `optimise.sizes.1.places`",
            'valid integer (got "12")',
        ),
        ("gap = 0.0 ", "gap = nan ", "`optimise.gap`", "finite number (got nan)"),
        (
            "min_size = 8 ",
            'min_size = 8 \ntargets = "independent"\n',
            "`optimise.targets`",
            'e.g. targets = ["independent"]',
        ),
    ],
)
def test_optimise_values_of_the_wrong_type_are_refused_naming_key_and_value(
    sample_copy: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    key: str,
    says: str,
) -> None:
    """ "10", true and "800000" were coerced (a budget of true was £1); inf capital and a nan
    gap were accepted or refused as "less than 1"; the value found was not shown."""
    line = _plan_error(sample_copy, old, new, capsys)
    assert f"{key}: " in line
    assert says in line
