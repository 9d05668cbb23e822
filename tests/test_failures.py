"""Every failure is an answer: exit 2 and one line naming file, row, column or plan key.

Each case drives ``placeplan.cli.main`` for both ``validate`` and ``run`` (they must agree) and
checks the exit code and the one error line; problems that can be seen up front are reported
before the pipeline runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from placeplan import cli

TINY = Path(__file__).parent / "data" / "tiny_town.osm"


@pytest.fixture
def plan_dir(sample_copy):
    return sample_copy


def _edit(plan_dir: Path, old: str, new: str) -> Path:
    path = plan_dir / "plan.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert not any("Traceback" in line for line in err), err
    errors = [line for line in err if line.startswith("placeplan: error:")]
    assert len(errors) == 1, err
    return errors[0]


def _both(plan: Path, capsys, *, extra: tuple[str, ...] = ()) -> tuple[str, str]:
    """Exit 2 from run and from validate; return both error lines."""
    lines = []
    for command in ("run", "validate"):
        code = cli.main(["-q", command, str(plan), *extra])
        assert code == 2, command
        lines.append(_error_line(capsys))
    return lines[0], lines[1]


def _run_and_validate(plan: Path, capsys) -> tuple[str, str]:
    """An input problem: ``run`` exits 2 with one line; ``validate`` exits 2 listing it."""
    assert cli.main(["-q", "run", str(plan)]) == 2
    run_line = _error_line(capsys)
    assert cli.main(["-q", "validate", str(plan)]) == 2
    summary = capsys.readouterr().out
    assert "NOT READY" in summary
    return run_line, summary


def _no_outputs(plan_dir: Path) -> None:
    out = plan_dir / "out"
    assert not (out / "report.html").exists() and not (out / "impact.csv").exists()


def _scenarios_removed(plan_dir: Path) -> Path:
    path = plan_dir / "plan.toml"
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[[scenario]]")]
    # the programme file [inputs] programmes adopts is a scenario too
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("programmes = "))
    path.write_text(text, encoding="utf-8")
    return path


def test_no_scenario(plan_dir, capsys):
    run_line, val_line = _both(_scenarios_removed(plan_dir), capsys)
    assert "the plan has no [[scenario]]" in run_line
    assert run_line == val_line
    _no_outputs(plan_dir)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("threshold = 5 ", "threshold = 0 ", "`disclosure.threshold`: Input should be greater"),
        ("threshold = 5 ", "threshold = 1 ", "threshold 1 is below 5"),
        ('census_date = "2026-01-15"', 'census_date = "2025-02-30"', "`plan.census_date`"),
        (
            "transport_cost_per_mile_gbp = 2.50",
            "transport_cost_per_mile_gbp = -1",
            "`costs.transport_cost_per_mile_gbp`",
        ),
        ("mainstream = 9000", "mainstream = -9000", "cost for 'mainstream' must be 0 or more"),
        ("mainstream = 9000", "mainstrem = 9000", "no provision type 'mainstrem'"),
        (
            "breakdown_rate = 0.02",
            "breakdown_rate = 2",
            "`flows.breakdown_rate`",
        ),
        (
            "peak_factor = 1.0",
            "peak_factor = 1.0\nspeeds_kph = { motorwey = 100 }",
            "no road class 'motorwey' (OSM highway=*); did you mean 'motorway'?",
        ),
        (
            "peak_factor = 1.0",
            "peak_factor = 1.0\nspeeds_kph = { primary = 0 }",
            "speed for 'primary' must be more than 0",
        ),
    ],
)
def test_bad_plan_values(plan_dir, capsys, old, new, expected):
    run_line, val_line = _both(_edit(plan_dir, old, new), capsys)
    assert expected in run_line, run_line
    assert run_line == val_line
    assert "plan.toml" in run_line
    _no_outputs(plan_dir)


def test_census_date_message_says_how_to_fix(plan_dir, capsys):
    plan = _edit(plan_dir, 'census_date = "2026-01-15"', 'census_date = "16/01/2025"')
    line, _ = _both(plan, capsys)
    assert "'16/01/2025' is not a date; write it as YYYY-MM-DD" in line


def test_low_threshold_allowed_in_internal_mode(plan_dir, capsys):
    plan = _edit(plan_dir, "threshold = 5 ", "threshold = 1 ")
    _edit(plan_dir, 'mode = "published"', 'mode = "internal"')
    assert cli.main(["-q", "validate", str(plan)]) == 0


def test_output_dir_is_a_file(plan_dir, capsys):
    (plan_dir / "out").write_text("not a folder", encoding="utf-8")
    run_line, val_line = _both(plan_dir / "plan.toml", capsys)
    assert "`plan.output_dir`" in run_line and "is a file, not a folder" in run_line
    assert run_line == val_line


def test_output_dir_override_is_a_file(plan_dir, capsys):
    (plan_dir / "elsewhere").write_text("x", encoding="utf-8")
    code = cli.main(
        ["-q", "run", str(plan_dir / "plan.toml"), "--output-dir", str(plan_dir / "elsewhere")]
    )
    assert code == 2
    assert "`--output-dir`" in _error_line(capsys)


def test_output_dir_read_only(plan_dir, capsys):
    out = plan_dir / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        run_line, val_line = _both(plan_dir / "plan.toml", capsys)
    finally:
        out.chmod(0o755)
    assert "the folder is read-only" in run_line
    assert run_line == val_line
    assert os.listdir(out) == []


def test_output_dir_holds_foreign_files(plan_dir, capsys):
    out = plan_dir / "out"
    out.mkdir()
    (out / "report.html").write_text("<p>the council's own page</p>", encoding="utf-8")
    run_line, validate_line = _both(plan_dir / "plan.toml", capsys)
    assert run_line == validate_line
    assert "report.html" in run_line and str(out) in run_line
    assert (out / "report.html").read_text(encoding="utf-8") == "<p>the council's own page</p>"
    assert not (out / "rejections.csv").exists()


def test_candidate_site_id_equals_a_setting_id(plan_dir, capsys):
    sites = plan_dir / "candidate_sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    last = lines[-1].split(",")  # a site no scenario names
    assert last[0] == "118172-IB-SEMH"
    last[header.index("site_id")] = last[header.index("host_setting_id")]  # the host's URN
    lines[-1] = ",".join(last)
    sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_line, summary = _run_and_validate(plan_dir / "plan.toml", capsys)
    assert "file candidate_sites.csv, row 17, column 'site_id'" in run_line
    assert "also the id of a setting" in run_line
    assert "candidate_sites.csv, row 17, column site_id: " in summary


def test_network_of_another_area(plan_dir, capsys):
    shutil.copy(TINY, plan_dir / "elsewhere.osm")
    plan = _edit(plan_dir, 'network = "roads-drive.osm.pbf"', 'network = "elsewhere.osm"')
    # tiny_town is a few hundred metres of road near Newport: move it to the Scottish borders
    text = (plan_dir / "elsewhere.osm").read_text(encoding="utf-8")
    (plan_dir / "elsewhere.osm").write_text(text.replace('lat="50.', 'lat="55.'), "utf-8")
    run_line, summary = _run_and_validate(plan, capsys)
    assert "file elsewhere.osm" in run_line
    assert "none of your pupils lie on this network — is it the right area?" in run_line
    assert "none of your pupils lie on this network" in summary
    _no_outputs(plan_dir)


def test_interrupt_exits_130_one_line(plan_dir, capsys, monkeypatch):
    import placeplan.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(placeplan.pipeline, "run_and_publish", interrupted)
    assert cli.main(["-q", "run", str(plan_dir / "plan.toml")]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["placeplan: interrupted (Ctrl-C); the command stopped before it finished"]


def test_superseded_projection_keys_load_with_a_warning(plan_dir):
    """Plans written for the snapshot projection still load; the keys are named as ignored."""
    import warnings

    from placeplan import PlaceplanWarning
    from placeplan.config import load_plan

    path = plan_dir / "plan.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("[inputs]\n", '[inputs]\nsen2_trends = "ehcp_by_placement.csv"\n', 1)
    path.write_text(text + "\n[projection]\nyears = 5\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = load_plan(path)
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, PlaceplanWarning))
    assert "`[projection]` is superseded" in said and "`inputs.sen2_trends`" in said
    assert not hasattr(plan, "projection")


def test_plan_folder_is_read_as_its_plan_toml(plan_dir, tmp_path):
    """`placeplan validate my-plan` (the folder init makes) reads my-plan/plan.toml; a folder
    without one says so instead of 'plan file not found'."""
    from placeplan._errors import ConfigError
    from placeplan.config import load_plan

    assert load_plan(plan_dir).source_file == (plan_dir / "plan.toml").resolve()
    with pytest.raises(ConfigError, match=r"folder .* has no plan.toml; create one"):
        load_plan(tmp_path)


def test_census_outside_the_flows_base_year_is_a_named_warning(plan_dir):
    """A cohort from another census than [flows] base_year's academic year is a year out; the
    check names both keys and both fixes (the sample had census 2025-01-16 with base 2025)."""
    from placeplan.config import load_plan
    from placeplan.prepare.plan_checks import census_year_mismatch

    plan = load_plan(plan_dir / "plan.toml")
    for census, base, bad in (
        ("2026-01-15", 2025, False),
        ("2025-10-02", 2025, False),
        ("2025-01-16", 2025, True),
        ("2026-01-15", 2026, True),
    ):
        meta = plan.plan.model_copy(update={"census_date": census})
        flows = plan.flows.model_copy(update={"base_year": base})
        msg = census_year_mismatch(plan.model_copy(update={"plan": meta, "flows": flows}))
        assert (msg is not None) is bad, (census, base, msg)
        if bad:
            assert "[plan] census_date" in msg and f"[flows] base_year = {base}" in msg
