"""Shared test set-up: an isolated cache, no progress bars, and a breakable copy of the sample.

The suite never touches the user's cache (``platformdirs.user_cache_dir("placeplan")``): every
session gets a fresh cache folder, so the first pipeline run in a session also exercises the
cold (cache-miss) path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import placeplan


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    old = (placeplan.settings.cache_folder, placeplan.settings.progress)
    placeplan.settings.cache_folder = tmp_path_factory.mktemp("placeplan-cache")
    placeplan.settings.progress = False
    yield
    placeplan.settings.cache_folder, placeplan.settings.progress = old


SAMPLE_PLAN_DIR = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"


@pytest.fixture
def sample_copy(tmp_path):
    """A copy of the sample plan folder writing to ``out/`` inside it, so tests can break it."""
    dst = tmp_path / "plan"
    shutil.copytree(SAMPLE_PLAN_DIR, dst)
    text = (dst / "plan.toml").read_text(encoding="utf-8")
    text = text.replace('output_dir = "../../../maps/isle-of-wight"', 'output_dir = "out"')
    (dst / "plan.toml").write_text(text, encoding="utf-8")
    return dst


#: Small synthetic programme models (``synthetic_programme`` keyword arguments) that the
#: heuristic and study tests check against exhaustive search or full LPs.
SMALL_PROGRAMMES = [
    {"n_rows": 30, "n_sites": 5, "seed": 1},
    {"n_rows": 40, "n_sites": 6, "seed": 2, "objective": "pupil_minutes"},
    {"n_rows": 40, "n_sites": 6, "n_needs": 2, "seed": 3, "carry_forward": True},
    {"n_rows": 60, "n_sites": 8, "n_needs": 2, "seed": 4, "objective": "pupil_minutes"},
]
