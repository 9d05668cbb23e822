"""Shared test set-up: an isolated cache and no progress bars.

The suite never touches the user's cache (``platformdirs.user_cache_dir("placeplan")``): every
session gets a fresh cache folder, so the first pipeline run in a session also exercises the
cold (cache-miss) path.
"""

from __future__ import annotations

import pytest

import placeplan


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    old = (placeplan.settings.cache_folder, placeplan.settings.progress)
    placeplan.settings.cache_folder = tmp_path_factory.mktemp("placeplan-cache")
    placeplan.settings.progress = False
    yield
    placeplan.settings.cache_folder, placeplan.settings.progress = old
