"""`placeplan forecast`: output contract, base-year exclusion and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from placeplan.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight" / "sen2"


def test_forecast_writes_long_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forecast.csv"
    code = main(
        ["forecast", "--sen2", str(SAMPLE), "--la", "E06000045", "--years", "3", "--out", str(out)]
    )
    assert code == 0
    df = pd.read_csv(out, dtype={"year": str, "measure": str})
    assert list(df.columns) == ["year", "measure", "central", "lower", "upper"]
    assert sorted(df["year"].unique()) == ["2025/26", "2026/27", "2027/28"]
    assert {
        "ehcplans",
        "special_independent",
        "special_non_maintained",
        "mainstream_total",
        "ASD",
        "SEMH",
        "SLCN",
    } <= set(df["measure"])
    assert ((df["lower"] <= df["central"]) & (df["central"] <= df["upper"])).all()
    assert "Southampton" in capsys.readouterr().out


def test_base_year_excludes_later_years(tmp_path: Path) -> None:
    # copy the sample and change every caseload figure after 2021/22 in the published file
    src = tmp_path / "sen2"
    shutil.copytree(SAMPLE, src)
    path = next(src.glob("*caseload*.csv"))
    lines = path.read_text().splitlines(keepends=True)
    changed = [lines[0]]
    for line in lines[1:]:
        if line.startswith(("202223", "202324", "202425")):
            cells = line.rstrip("\n").split(",")
            cells[12] = str(int(cells[12]) * 2) if cells[12].isdigit() else cells[12]
            line = ",".join(cells) + "\n"
        changed.append(line)
    path.write_text("".join(changed))
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    args = ["forecast", "--la", "921", "--base-year", "2021/22", "--years", "3", "--out"]
    assert main([*args, str(a), "--sen2", str(SAMPLE)]) == 0
    assert main([*args, str(b), "--sen2", str(src)]) == 0
    assert a.read_text() == b.read_text()
    assert pd.read_csv(a)["year"].min() == "2022/23"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--la", "E06000099"], "E06000046"),
        (["--la", "921", "--base-year", "2012/13"], "base_year"),
        (["--la", "921", "--years", "0"], "--years"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    code = main(["forecast", "--sen2", str(SAMPLE), "--out", str(tmp_path / "f.csv"), *extra])
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("placeplan")]
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / "f.csv").exists()


def test_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "forecast",
            "--sen2",
            str(tmp_path / "nope"),
            "--la",
            "921",
            "--out",
            str(tmp_path / "f.csv"),
        ]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_own_forecast_overrides(tmp_path: Path) -> None:
    own = tmp_path / "own.csv"
    own.write_text("year,measure,central\n2025/26,special_independent,40\n")
    out = tmp_path / "f.csv"
    args = ["forecast", "--sen2", str(SAMPLE), "--la", "921", "--years", "1", "--out", str(out)]
    assert main([*args, "--own-forecast", str(own)]) == 0
    df = pd.read_csv(out).set_index("measure")
    assert df.loc["special_independent", "central"] == 40.0
    assert main([*args, "--own-forecast", str(tmp_path / "missing.csv")]) == 2
