"""Outputs all from one run (issue 10, deliverable 5): swap-in, manifest, ownership, marking."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from placeplan import ConfigError, cli
from placeplan.publish import outputs as outputs_mod
from placeplan.publish.outputs import INTERNAL_NOTE, MANIFEST, write_outputs

SAMPLE = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): _sha(p) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def sample_other(tmp_path_factory) -> Path:
    """The sample plan folder, its plan file renamed to ``other.toml``, outputs to ``out``."""
    dst = tmp_path_factory.mktemp("atomic") / "plan"
    shutil.copytree(SAMPLE, dst)
    text = (dst / "plan.toml").read_text(encoding="utf-8")
    text = text.replace('output_dir = "../../../maps/isle-of-wight"', 'output_dir = "out"')
    (dst / "other.toml").write_text(text, encoding="utf-8")
    (dst / "plan.toml").unlink()
    return dst


@pytest.fixture(scope="module")
def result(sample_other):
    """One pipeline run of the sample (the only one in this module)."""
    from placeplan._errors import SnapWarning
    from placeplan.config import load_plan
    from placeplan.pipeline import run

    plan = load_plan(sample_other / "other.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        return run(plan)


def _write(result, out: Path) -> dict[str, Path]:
    return write_outputs(result, out, version="test", timestamp="2026-04-01 00:00 UTC")


def test_manifest_lists_every_file_with_its_checksum(result, sample_other, tmp_path):
    out = tmp_path / "out"
    files = _write(result, out)
    assert all(out in p.parents and p.is_file() for p in files.values())
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    listed = {e["path"]: e for e in manifest["outputs"]}
    on_disk = _snapshot(out)
    assert set(listed) == set(on_disk) - {MANIFEST}
    for name, entry in listed.items():
        assert entry["sha256"] == on_disk[name]
        assert entry["size"] == (out / name).stat().st_size
    assert manifest["mode"] == "published"
    assert manifest["placeplan_version"] == "test"
    assert manifest["config_hash"] == result.plan.config_hash()
    assert Path(manifest["plan_file"]).name == "other.toml"
    assert manifest["plan_sha256"] == _sha(sample_other / "other.toml")
    inputs = {e["key"]: e for e in manifest["inputs"]}
    assert "pupils" in inputs and "provision" in inputs
    for entry in manifest["inputs"]:
        assert entry["sha256"] == _sha(Path(entry["path"]))
    # nothing left beside the folder
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_plan_used_names_the_plan_file_that_ran(result, tmp_path):
    out = tmp_path / "out"
    _write(result, out)
    used = (out / "plan.used.toml").read_text(encoding="utf-8")
    assert "# original: " in used and "other.toml" in used.splitlines()[1]
    assert "Plan file (other.toml) used for this run" in (out / "report.html").read_text(
        encoding="utf-8"
    )


def test_failure_mid_write_keeps_the_previous_set(result, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _write(result, out)
    before = _snapshot(out)

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-write")

    # the GeoPackage is written after the reports, maps and impact.csv
    monkeypatch.setattr(outputs_mod, "write_layers", boom)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        _write(result, out)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp folder, no tmp*.gpkg


def test_stale_temp_folders_are_removed(result, tmp_path):
    out = tmp_path / "out"
    dead = tmp_path / ".out.placeplan-tmp-dead"
    dead.mkdir()
    (dead / "report.html").write_text("half", encoding="utf-8")
    _write(result, out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_set_left_aside_by_a_kill_mid_swap_comes_back(tmp_path):
    out = tmp_path / "out"
    aside = tmp_path / ".out.placeplan-old-abcd"
    aside.mkdir()
    (aside / "report.html").write_text("previous", encoding="utf-8")
    outputs_mod._clean_stale(out)
    assert (out / "report.html").read_text(encoding="utf-8") == "previous"
    assert not aside.exists()


@pytest.mark.parametrize("with_manifest", [False, True])
def test_refuses_a_folder_with_files_placeplan_did_not_make(result, tmp_path, with_manifest):
    out = tmp_path / "out"
    if with_manifest:
        _write(result, out)
    else:
        out.mkdir()
    (out / "notes.docx").write_text("the council's own file", encoding="utf-8")
    before = _snapshot(out)
    with pytest.raises(ConfigError) as err:
        _write(result, out)
    msg = str(err.value)
    assert str(out) in msg and "notes.docx" in msg and "\n" not in msg
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_cli_refuses_before_running(sample_other, tmp_path, capsys):
    plan_dir = tmp_path / "plan"
    shutil.copytree(sample_other, plan_dir, ignore=shutil.ignore_patterns("out", ".out*"))
    (plan_dir / "out").mkdir()
    (plan_dir / "out" / "report.html").write_text("someone else's report", encoding="utf-8")
    assert cli.main(["-q", "run", str(plan_dir / "other.toml")]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("placeplan: error:")]
    assert len(err) == 1 and "report.html" in err[0] and str(plan_dir / "out") in err[0]
    assert (plan_dir / "out" / "report.html").read_text(encoding="utf-8") == "someone else's report"


def test_rejections_from_validate_do_not_block_a_run(result, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "rejections.csv").write_text("file,row\n", encoding="utf-8")
    _write(result, out)
    assert (out / "report.html").is_file()


def test_internal_run_marks_every_file_and_a_published_run_removes_them(result, tmp_path):
    plan = result.plan
    internal_plan = plan.model_copy(
        update={"disclosure": plan.disclosure.model_copy(update={"mode": "internal"})}
    )
    internal = dataclasses.replace(result, plan=internal_plan)
    out = tmp_path / "out"
    files = _write(internal, out)
    names = sorted(_snapshot(out))
    assert all(n.startswith("INTERNAL-") for n in names if n != MANIFEST), names
    assert any(n.startswith("INTERNAL-pupil-journeys-") for n in names)
    assert files["report"].name == "INTERNAL-report.html"
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["mode"] == "internal"
    # still parseable as the published CSVs, and marked inside every file, not only by name
    assert "scenario_name" in pd.read_csv(out / "INTERNAL-impact.csv").columns
    for csv in out.rglob("*.csv"):
        marked = pd.read_csv(csv, dtype=str, keep_default_na=False)
        assert marked.columns[0] == "classification", csv.name
        assert (marked["classification"] == INTERNAL_NOTE).all(), csv.name
    gpkg = out / "INTERNAL-layers.gpkg"
    for layer in gpd.list_layers(gpkg)["name"]:
        assert (gpd.read_file(gpkg, layer=layer)["classification"] == INTERNAL_NOTE).all()
    assert (
        (out / "INTERNAL-plan.used.toml")
        .read_text(encoding="utf-8")
        .startswith(f"# {INTERNAL_NOTE}")
    )
    # a later published run leaves no internal file behind
    _write(result, out)
    assert not [n for n in _snapshot(out) if "INTERNAL" in n.upper() or "internal-" in n]
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["mode"] == "published"
