"""A new user's broken inputs (issue #5): every problem names file, row, column and the fix;
``validate`` and ``run`` (``load_inputs``) accept and reject exactly the same things."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from placeplan import cli
from placeplan.config import load_plan
from placeplan.init import write_templates
from placeplan.prepare import prepare as load_inputs
from placeplan.prepare.io._common import parse_numbers
from placeplan.prepare.validate import validate_plan


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """``placeplan init`` templates switched to an (offline, placeholder) network file."""
    write_templates(tmp_path)
    _edit(
        tmp_path / "plan.toml",
        'network_place = "Isle of Wight, England"',
        'network = "roads.osm.pbf"',
    )
    _edit(tmp_path / "plan.toml", "network_buffer_m = 10000", "")
    (tmp_path / "roads.osm.pbf").write_bytes(b"")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _validate(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["-q", "validate", str(plan_dir / "plan.toml")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out + captured.err


def _run_inputs(plan_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """What ``placeplan run`` says about the inputs (exit code and message), without routing."""

    def fake_run(args: object) -> int:
        load_inputs(load_plan(plan_dir / "plan.toml"))
        return 0

    handler = cli._cmd_run
    cli._cmd_run = fake_run  # type: ignore[assignment]
    try:
        code = cli.main(["-q", "run", str(plan_dir / "plan.toml")])
    finally:
        cli._cmd_run = handler  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


def test_templates_validate_and_load_identically(plan_dir: Path) -> None:
    plan = load_plan(plan_dir / "plan.toml")
    report = validate_plan(plan)
    assert report.ok, report.summary_text()
    inputs = load_inputs(plan)
    assert inputs.row_accounting["rows_used"].tolist() == report.files["rows_used"].tolist()
    # CAND-01 has no coordinates: run, like validate, puts it at its host school (it used to
    # come out with NaN coordinates and fail the travel-time matrix)
    cand = inputs.sites.set_index("site_id").loc["CAND-01"]
    host = inputs.provision.set_index("setting_id").loc["100001"]
    assert (cand.geometry.x, cand.geometry.y) == (host.geometry.x, host.geometry.y)


def test_scenario_naming_a_missing_site_fails_validate_like_run(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(plan_dir / "plan.toml", 'open_sites = ["CAND-01"]', 'open_sites = ["CAND-09"]')
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert "plan.toml, column [[scenario]] 'New SEMH base' open_sites: 'CAND-09'" in out
    assert "use one of 'CAND-01', 'CAND-02'" in out
    code, err = _run_inputs(plan_dir, capsys)
    assert code == 2
    assert "'CAND-09'" in err


def test_missing_network_fails_validate_like_run(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (plan_dir / "roads.osm.pbf").unlink()
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert 'network file not found (plan.toml [inputs] network = "roads.osm.pbf"' in out
    code, err = _run_inputs(plan_dir, capsys)
    assert code == 2
    assert "network file not found" in err


def test_missing_planning_areas_file_fails_validate(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(
        plan_dir / "plan.toml",
        "# areas = ",
        'planning_areas = "areas.gpkg"\n# areas = ',
    )
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert "areas.gpkg: file not found" in out


def test_pupil_at_a_rejected_setting_points_at_the_setting_row(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(
        plan_dir / "out_of_area.csv",
        "primary;secondary,ASD;SEMH,60",
        "primary;secondary,ASD;SEMH,-60",
    )
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert "out_of_area.csv, row 2, column capacity: '-60': expected a whole number, 0 or" in out
    assert (
        "pupils.csv, row 3, column current_setting_id: refers to a setting whose row was "
        "rejected (out_of_area.csv row 2); fix that row first"
    ) in out
    assert "OOA-0001" not in out  # ids of pupils' settings are not echoed


def test_site_whose_host_was_rejected_says_so(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(plan_dir / "provision.csv", "primary,,420,400", "primary,,-420,400")
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert (
        "candidate_sites.csv, row 2, column host_setting_id: refers to a setting whose row was "
        "rejected (provision.csv row 2)"
    ) in out


def test_run_warns_when_rows_are_left_out(plan_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (plan_dir / "pupils.csv").open("a", encoding="utf-8") as fh:
        fh.write("EXAMPLE-0003,PO30 1UD,,,Wibble,EHCP,3,,100001,yes\n")
    with caplog.at_level(logging.WARNING, logger="placeplan"):
        inputs = load_inputs(load_plan(plan_dir / "plan.toml"))
    assert inputs.rejections["row"].tolist() == [4]
    assert any("1 input row(s) rejected" in r.getMessage() for r in caplog.records)


def test_semicolon_file_with_decimal_commas(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel in a European locale: ';' between fields, ',' as the decimal mark."""
    (plan_dir / "pupils.csv").write_bytes(
        "pupil_ref;latitude;longitude;need_type;plan_type;nc_year;current_setting_id;"
        "transport_assisted\r\n"
        "P1;50,7013;-1,2936;Autistic spectrum disorder;EHCP;3;100001;no\r\n"
        "P2;50,7254;-1,1636;Social, emotional and mental health;EHCP;R;;yes\r\n".encode("cp1252")
    )
    code, out = _validate(plan_dir, capsys)
    assert code == 0, out
    inputs = load_inputs(load_plan(plan_dir / "plan.toml"))
    assert inputs.pupils["easting"].between(440_000, 470_000).all()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,500", 1500.0),  # thousands
        ("449525,3", 449525.3),  # decimal comma (not a thousands group)
        ("18000,00", 18000.0),
        ("£2,50", 2.5),
        ("12", 12.0),
    ],
)
def test_numbers_thousands_and_decimal_commas(text: str, value: float) -> None:
    num, empty, bad = parse_numbers(pd.Series([text]))
    assert not empty.iloc[0] and not bad.iloc[0]
    assert num.iloc[0] == pytest.approx(value)


def test_postcode_not_found_and_duplicates_say_how_to_fix(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (plan_dir / "pupils.csv").open("a", encoding="utf-8") as fh:
        fh.write("EXAMPLE-0003,PO30 9ZZ,,,ASD,EHCP,3,,100001,yes\n")
        fh.write("EXAMPLE-0001,PO30 1UD,,,ASD,EHCP,3,,100001,yes\n")
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert (
        "pupils.csv, row 4, column postcode: not found in the postcode file; check the "
        "postcode, or give easting and northing instead"
    ) in out
    assert (
        "pupils.csv, row 5, column pupil_ref: duplicate of row 2 (first kept); give each row "
        "its own pupil_ref, or delete the repeated row"
    ) in out
    assert "PO30 9ZZ" not in out  # pupil values are never echoed
    rejections = pd.read_csv(plan_dir / "output" / "rejections.csv")
    assert rejections["row"].tolist() == [4, 5]


def test_swapped_latitude_longitude_and_implausible_birth_date(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (plan_dir / "pupils.csv").write_text(
        "pupil_ref,latitude,longitude,need_type,plan_type,date_of_birth,current_setting_id\n"
        "P1,-1.2936,50.7013,ASD,EHCP,2017-03-02,100001\n"
        "P2,50.7254,-1.1636,ASD,EHCP,2024-03-02,100001\n",
        encoding="utf-8",
    )
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert (
        "pupils.csv, row 2, column latitude/longitude: latitude and longitude look swapped"
    ) in out
    assert (
        "pupils.csv, row 3, column date_of_birth: gives an NC year outside nursery to year 14 "
        "for the census date; check the date of birth"
    ) in out


def test_an_opening_entry_for_a_missing_site_fails_validate_like_run(
    plan_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `[[flows.site]]` naming no candidate site is an error, not silently ignored."""
    with (plan_dir / "plan.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[flows.site]]\nsite_id = "CAND-99"\nopening_year = 2027\n')
    code, out = _validate(plan_dir, capsys)
    assert code == 2
    assert "plan.toml, column [[flows.site]] site_id: 'CAND-99'" in out
    code, err = _run_inputs(plan_dir, capsys)
    assert code == 2
    assert "'CAND-99'" in err
