"""The command line, in-process: exit codes and one-line errors (no tracebacks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from placeplan import cli

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("placeplan: error:")]
    assert len(errors) == 1, err
    assert not any("Traceback" in line for line in err)
    return errors[0]


def test_run_writes_outputs(sample_copy, capsys):
    # one pupil living at a postcode more than max_snap_m from the road network (PO30 4HT,
    # ~1,057 m): the run must go on and report it as one warning line with counts only
    pupils_csv = sample_copy / "pupils.csv"
    lines = pupils_csv.read_text(encoding="utf-8").splitlines()
    row = lines[1].split(",")
    row[1] = "PO30 4HT"
    lines[1] = ",".join(row)
    pupils_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_origins = len({line.split(",")[1] for line in lines[1:]})
    code = cli.main(["--no-progress", "-q", "run", str(sample_copy / "plan.toml")])
    assert code == 0
    out = sample_copy / "out"
    for name in ("report.html", "impact.csv", "layers.gpkg", "plan.used.toml", "mitigations.csv"):
        assert (out / name).is_file(), name
    captured = capsys.readouterr()
    assert "report:" in captured.out
    # partial failures are reported as one warning line with counts only
    assert f"warning: 1 of {n_origins} origins" in captured.err


def test_bad_toml_exits_2(sample_copy, capsys):
    (sample_copy / "plan.toml").write_text("[plan\nname = 1\n", encoding="utf-8")
    assert cli.main(["run", str(sample_copy / "plan.toml")]) == 2
    assert "not valid TOML" in _one_line_error(capsys)


def test_unknown_key_named(sample_copy, capsys):
    path = sample_copy / "plan.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[thresholds]", "[thresholds]\nmax_jorney = 3"),
        encoding="utf-8",
    )
    assert cli.main(["run", str(path)]) == 2
    assert "thresholds.max_jorney" in _one_line_error(capsys)


def test_unknown_site_in_scenario(sample_copy, capsys):
    path = sample_copy / "plan.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"118163-IB-ASD"', '"NO-SUCH-SITE"'),
        encoding="utf-8",
    )
    assert cli.main(["--no-progress", "run", str(path)]) == 2
    assert "NO-SUCH-SITE" in _one_line_error(capsys)


def test_missing_network_file(sample_copy, capsys):
    (sample_copy / "roads-drive.osm.pbf").unlink()
    assert cli.main(["--no-progress", "run", str(sample_copy / "plan.toml")]) == 2
    assert "roads-drive.osm.pbf" in _one_line_error(capsys)


def test_missing_plan(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "placeplan init" in _one_line_error(capsys)


def test_validate_sample_ok(sample_copy, capsys):
    assert cli.main(["validate", str(sample_copy / "plan.toml")]) == 0
    assert (sample_copy / "out" / "rejections.csv").is_file()


def test_matrix_subcommand(tmp_path):
    origins = tmp_path / "o.csv"
    dests = tmp_path / "d.csv"
    origins.write_text("id,easting,northing\nA,450741,88941\nB,458373,91855\n", encoding="utf-8")
    dests.write_text("id,lat,lon\nX,50.70,-1.29\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    code = cli.main(
        [
            "--no-progress",
            "matrix",
            "--network",
            str(SAMPLE / "roads-drive.osm.pbf"),
            "--origins",
            str(origins),
            "--destinations",
            str(dests),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    header = out.read_text(encoding="utf-8").splitlines()[0]
    for col in ("origin_id", "destination_id", "travel_time_min", "distance_km", "distance_miles"):
        assert col in header


def test_plan_key_typo_suggests_the_key(sample_copy, capsys):
    path = sample_copy / "plan.toml"
    text = path.read_text(encoding="utf-8").replace(
        'provision = "provision.csv"', 'provison = "provision.csv"'
    )
    path.write_text(text.replace("max_snap_m = 1000.0", "max_snapm = 1000.0"), encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    line = _one_line_error(capsys)
    assert "`inputs.provison`: unknown key; did you mean `provision`?" in line
    assert "`network.max_snapm`: unknown key; did you mean `max_snap_m`?" in line


@pytest.mark.parametrize(
    ("level", "flags", "shown", "hidden"),
    [
        ("INFO", {}, ["info", "warning"], ["debug"]),
        ("WARNING", {}, ["warning"], ["info", "debug"]),
        ("ERROR", {}, [], ["info", "warning"]),
        ("ERROR", {"verbose": True}, ["debug", "info", "warning"], []),
        ("DEBUG", {"quiet": True}, ["warning"], ["info", "debug"]),
    ],
)
def test_console_logging_honours_settings_log_level(
    monkeypatch, capsys, level, flags, shown, hidden
):
    """`settings.log_level` sets the CLI's level; -v/-q override it for one command."""
    import argparse
    import logging

    from placeplan import settings

    monkeypatch.setattr(settings, "log_level", level)
    args = argparse.Namespace(verbose=flags.get("verbose", False), quiet=flags.get("quiet", False))
    log = logging.getLogger("placeplan.test_cli")
    with cli._console_logging(args):
        log.debug("line-debug")
        log.info("line-info")
        log.warning("line-warning")
    err = capsys.readouterr().err
    for name in shown:
        assert f"line-{name}" in err
    for name in hidden:
        assert f"line-{name}" not in err


def test_default_console_shows_stage_lines_and_warnings_not_step_detail(monkeypatch, capsys):
    """By default a run prints one line a stage and every warning, not each step's INFO detail
    (a reviewer lost a warning among ~100 INFO lines); -q drops the stage lines."""
    import argparse
    import logging

    from placeplan import settings

    monkeypatch.setattr(settings, "log_level", "WARNING")
    stage = logging.getLogger("placeplan.pipeline")
    step = logging.getLogger("placeplan.compute.scenario")
    for quiet in (False, True):
        with cli._console_logging(argparse.Namespace(verbose=False, quiet=quiet)):
            stage.info("stage-line")
            step.info("step-detail")
            step.warning("step-warning")
        err = capsys.readouterr().err
        assert ("stage-line" in err) is not quiet
        assert "step-detail" not in err and "step-warning" in err


def test_log_level_setting_quietens_a_command(sample_copy, monkeypatch, capsys):
    from placeplan import settings

    monkeypatch.setattr(settings, "log_level", "INFO")
    assert cli.main(["validate", str(sample_copy / "plan.toml")]) == 0
    assert capsys.readouterr().err.strip()  # INFO lines by default
    monkeypatch.setattr(settings, "log_level", "ERROR")
    assert cli.main(["validate", str(sample_copy / "plan.toml")]) == 0
    assert not capsys.readouterr().err.strip()
