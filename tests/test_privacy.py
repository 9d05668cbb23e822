"""Privacy: pupil locations never reach the cache; logs carry no pupil references."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

import placeplan
from placeplan.config import load_plan
from placeplan.pipeline import run

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"


def _plan_in(tmp_path: Path, pupils: pd.DataFrame):
    dst = tmp_path / "plan"
    shutil.copytree(SAMPLE, dst)
    pupils.to_csv(dst / "pupils.csv", index=False)
    plan = load_plan(dst / "plan.toml")
    return plan.model_copy(update={"scenario": plan.scenario[:1]})


def _matrix_entries(cache: Path) -> list[Path]:
    return sorted((cache / "matrix").glob("*")) if (cache / "matrix").exists() else []


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(placeplan.settings, "cache_folder", cache)
    return cache


def test_postcode_origins_are_cached(tmp_path, own_cache):
    pupils = pd.read_csv(SAMPLE / "pupils.csv", dtype=str).head(60)
    run(_plan_in(tmp_path, pupils))
    assert _matrix_entries(own_cache), "postcode-centroid matrices are cached"


def test_exact_home_coordinates_are_never_cached(tmp_path, own_cache, caplog):
    from placeplan.prepare.geocode import PostcodeIndex

    pupils = pd.read_csv(SAMPLE / "pupils.csv", dtype=str).head(60)
    located = PostcodeIndex.from_file(SAMPLE / "postcodes.csv").geocode(pupils["postcode"])
    # two pupils given by their own (here: offset) coordinates instead of a postcode
    pupils["easting"] = ""
    pupils["northing"] = ""
    for i in (0, 1):
        pupils.loc[i, "easting"] = str(int(located.loc[i, "easting"]) + 7)
        pupils.loc[i, "northing"] = str(int(located.loc[i, "northing"]) - 5)
        pupils.loc[i, "postcode"] = ""
    caplog.set_level(logging.DEBUG, logger="placeplan")
    result = run(_plan_in(tmp_path, pupils))
    assert len(result.baseline) == 60
    assert _matrix_entries(own_cache) == []
    # no pupil reference in any log line
    refs = set(pupils["pupil_ref"])
    assert not any(ref in rec.getMessage() for rec in caplog.records for ref in refs)
