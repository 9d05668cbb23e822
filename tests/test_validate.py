"""Whole-plan validation: collect every problem, account for every row, never echo pupil values."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from placeplan.prepare.validate import ValidationReport, validate_inputs, write_rejections

DATA = Path(__file__).parent / "data"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    names = {
        "pupils_path": "pupils_good.csv",
        "provision_path": "provision_good.csv",
        "ooa_path": "out_of_area_good.csv",
        "sites_path": "candidate_sites_good.csv",
        "postcodes_path": "postcodes_small.csv",
    }
    out = {}
    for key, name in names.items():
        out[key] = tmp_path / name
        shutil.copy(DATA / name, out[key])
    areas = gpd.GeoDataFrame(
        {"area_id": ["W", "E", "MAINLAND"], "lad_code": ["E06000046", "E06000046", "E06000044"]},
        geometry=[
            shapely.box(428000, 74000, 452000, 98000),
            shapely.box(452000, 74000, 467000, 98000),
            shapely.box(455000, 98000, 470000, 110000),
        ],
        crs=27700,
    )
    out["areas_path"] = tmp_path / "areas.gpkg"
    areas.to_file(out["areas_path"])
    return out


def _check_accounting(report: ValidationReport) -> None:
    files = report.files
    assert (
        files["rows_read"] == files["rows_used"] + files["rows_rejected"] + files["rows_skipped"]
    ).all()
    for rec in files.itertuples():
        mine = report.rejections[report.rejections["file"] == rec.file]
        assert mine["row"].nunique() == rec.rows_rejected


def test_clean_inputs_ok(inputs: dict[str, Path]) -> None:
    report = validate_inputs(**inputs, lad_code="E06000046", census_date="2025-01-16")
    assert report.ok, report.summary_text()
    assert report.exit_code == 0
    _check_accounting(report)
    assert list(report.files["role"]) == ["provision", "out_of_area", "candidate_sites", "pupils"]
    assert report.files.set_index("role").loc["pupils", "rows_used"] == 6
    text = report.summary_text()
    assert "OK: every row" in text
    assert "pupils_good.csv" in text


def test_problems_in_several_files_are_all_collected(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    secret = "QZSECRET91"
    with inputs["pupils_path"].open("a", encoding="utf-8") as fh:
        fh.write(f"{secret},PO30 1UD,,,Wibble,EHCP,3,,NOPE,yes\n")  # row 8
        fh.write("SYN0009,PO1 1AA,,,ASD,EHCP,3,,100001,yes\n")  # row 9: outside the island
    # The sites file loses a required column: a whole-file error, other files still checked.
    sites = pd.read_csv(inputs["sites_path"], dtype=str).drop(columns=["places"])
    sites.to_csv(inputs["sites_path"], index=False)
    with inputs["provision_path"].open("a", encoding="utf-8") as fh:
        fh.write("100009,Bad,mainstream,,primary,,-10,0,450000,89000,,yes,,no\n")  # row 7

    report = validate_inputs(**inputs, lad_code="E06000046", pupil_buffer_m=500)
    assert not report.ok
    assert report.exit_code == 2
    _check_accounting(report)

    assert len(report.errors) == 1
    err = report.errors.iloc[0]
    assert (err["file"], err["column"]) == ("candidate_sites_good.csv", "places")

    rej = report.rejections
    pupils = rej[rej["file"] == "pupils_good.csv"]
    assert set(pupils["row"]) == {8, 9}
    assert set(pupils.loc[pupils["row"] == 8, "column"]) == {"need_type", "current_setting_id"}
    assert set(pupils.loc[pupils["row"] == 9, "column"]) == {"postcode"}
    prov = rej[rej["file"] == "provision_good.csv"]
    assert list(prov["row"]) == [7]
    assert list(prov["column"]) == ["capacity"]

    text = report.summary_text()
    assert "NOT READY" in text
    assert "candidate_sites_good.csv, row 1, column places: required column missing" in text
    assert (
        "pupils_good.csv, row 8, column need_type: the value (not shown: pupil data): not a "
        "SEN2 need code"
    ) in text
    assert "provision_good.csv, row 7, column capacity" in text
    assert "Traceback" not in text

    out = write_rejections(report, tmp_path / "out" / "rejections.csv")
    written = pd.read_csv(out, dtype=str)
    assert list(written.columns) == ["file", "row", "column", "reason"]
    assert len(written) == len(report.errors) + len(report.rejections)
    blob = out.read_text(encoding="utf-8") + text
    for value in (secret, "Wibble", "NOPE", "PO1 1AA"):
        assert value not in blob


def test_bad_postcode_file_does_not_hide_other_problems(inputs: dict[str, Path]) -> None:
    inputs["postcodes_path"].write_text("", encoding="utf-8")
    report = validate_inputs(**inputs)
    assert not report.ok
    assert "postcodes_small.csv" in set(report.errors["file"])
    # The provision file was still read; rows needing a postcode are rejected with a reason.
    assert "provision_good.csv" in set(report.files["file"])
    assert report.rejections["reason"].str.contains("no postcode file").any()
    _check_accounting(report)


def test_unknown_settings_not_checked_when_provision_fails(inputs: dict[str, Path]) -> None:
    inputs["provision_path"].write_text("nonsense\n", encoding="utf-8")
    report = validate_inputs(**inputs)
    assert "provision_good.csv" in set(report.errors["file"])
    assert any("not checked" in n for n in report.notes)
    assert not report.rejections["column"].eq("current_setting_id").any()


def test_write_rejections_empty(tmp_path: Path) -> None:
    out = write_rejections(ValidationReport(), tmp_path / "r.csv")
    assert out.read_text(encoding="utf-8").strip() == "file,row,column,reason"


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("placeplan.cli")
    from placeplan.init import write_templates

    write_templates(tmp_path / "plan")
    rejections = tmp_path / "rejections.csv"
    code = cli.main(
        ["validate", str(tmp_path / "plan" / "plan.toml"), "--rejections", str(rejections)]
    )
    assert code == 0, capsys.readouterr()
    with (tmp_path / "plan" / "pupils.csv").open("a", encoding="utf-8") as fh:
        fh.write("EXAMPLE-0003,PO30 1UD,,,Wibble,EHCP,3,,100001,yes\n")
    code = cli.main(
        ["validate", str(tmp_path / "plan" / "plan.toml"), "--rejections", str(rejections)]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "pupils.csv, row 4, column need_type" in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert pd.read_csv(rejections)["row"].tolist() == [4]
