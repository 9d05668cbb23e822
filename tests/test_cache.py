"""The cache holds no pupil-level value and heals itself: damaged entries are rebuilt."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import placeplan
from placeplan import _cache, testing
from placeplan.compute import network
from placeplan.compute.matrix import travel_matrix

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_town.osm"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setattr(placeplan.settings, "cache_folder", folder)
    monkeypatch.setattr(placeplan.settings, "use_cache", True)
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".sha256"))


# ---------------------------------------------------------------- read_entry / write_entry


def _text_entry(cache: Path) -> Path:
    entry = _cache.cache_path("demo", "k" * 64, ".txt")
    _cache.write_entry(entry, lambda p: p.write_text("hello world", encoding="utf-8"))
    return entry


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def test_entry_round_trip_has_checksum(cache):
    entry = _text_entry(cache)
    assert (entry.parent / (entry.name + ".sha256")).read_text().strip() == _cache.file_digest(
        entry
    )
    assert _cache.read_entry(entry, _read, kind="demo") == "hello world"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda e: e.write_bytes(e.read_bytes()[:4]), "checksum mismatch"),  # truncated
        (lambda e: e.write_bytes(b"HELLO WORLD"), "checksum mismatch"),  # same size, tampered
        (lambda e: (e.parent / (e.name + ".sha256")).unlink(), "no checksum"),  # killed mid-write
    ],
)
def test_damaged_entry_dropped_with_one_warning(cache, caplog, damage, problem):
    entry = _text_entry(cache)
    damage(entry)
    with caplog.at_level(logging.WARNING, logger="placeplan"):
        assert _cache.read_entry(entry, _read, kind="demo") is None
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    assert problem in lines[0] and "rebuilding" in lines[0]
    assert not entry.exists()
    assert not (entry.parent / (entry.name + ".sha256")).exists()


def test_unreadable_entry_with_good_checksum_dropped(cache, caplog):
    entry = _text_entry(cache)

    def boom(p: Path) -> str:
        raise EOFError("bad")

    assert _cache.read_entry(entry, boom, kind="demo") is None
    assert not entry.exists()
    assert "unreadable: EOFError" in caplog.text


# ---------------------------------------------------------------- network cache


def test_truncated_network_cache_is_rebuilt(cache, caplog):
    first = network.load_network(TINY)
    (entry,) = (cache / "network").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="placeplan"):
        again = network.load_network(TINY)
    assert "dropped a damaged network entry" in caplog.text
    assert again.n_nodes == first.n_nodes and again.n_edges == first.n_edges
    np.testing.assert_array_equal(again.x, first.x)
    # rebuilt and checksummed: the next load is a clean hit
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="placeplan"):
        network.load_network(TINY)
    assert "cache hit: network" in caplog.text
    assert "damaged" not in caplog.text


def test_garbage_network_cache_with_forged_checksum_is_rebuilt(cache, caplog):
    """Even an entry whose checksum was rewritten to match fails to load and is rebuilt."""
    first = network.load_network(TINY)
    (entry,) = (cache / "network").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:-200])  # a truncated zip: numpy raises BadZipFile
    (entry.parent / (entry.name + ".sha256")).write_text(_cache.file_digest(entry))
    again = network.load_network(TINY)
    assert again.n_edges == first.n_edges
    assert "unreadable: BadZipFile" in caplog.text


# ---------------------------------------------------------------- matrix cache

POSTCODES = ["PO30 1UD", "PO33 2AA", "SO14 7DU"]


def _points() -> tuple[pd.DataFrame, pd.DataFrame]:
    origins = pd.DataFrame({"id": POSTCODES, "x": [0.0, 200.0, 400.0], "y": [0.0, 100.0, 400.0]})
    dests = pd.DataFrame({"id": ["100001", "CAND-1"], "x": [100.0, 300.0], "y": [400.0, 0.0]})
    return origins, dests


def test_matrix_cache_holds_no_origin_ids(cache):
    net = testing.grid_network(5, spacing_m=100, speed_kph=36, origin=(0.0, 0.0))
    origins, dests = _points()
    fresh = travel_matrix(net, origins, dests)
    entries = _entries(cache / "matrix")
    assert len(entries) == 1
    for path in entries:
        raw = path.read_bytes()
        for pc in POSTCODES:
            for form in (pc, pc.replace(" ", ""), pc.lower()):
                assert form.encode() not in raw, path
                assert form.encode("utf-32-le") not in raw  # numpy str arrays
    hit = travel_matrix(net, origins, dests)
    pd.testing.assert_frame_equal(hit, fresh)
    assert list(hit["origin_id"].unique()) == POSTCODES


def test_damaged_matrix_entry_recomputed(cache, caplog):
    net = testing.grid_network(5, spacing_m=100, speed_kph=36, origin=(0.0, 0.0))
    origins, dests = _points()
    fresh = travel_matrix(net, origins, dests)
    (entry,) = _entries(cache / "matrix")
    entry.write_bytes(entry.read_bytes()[:100])
    again = travel_matrix(net, origins, dests)
    pd.testing.assert_frame_equal(again, fresh)
    assert "dropped a damaged matrix entry" in caplog.text
    assert len(_entries(cache / "matrix")) == 1


def test_legacy_parquet_matrix_entries_purged(cache):
    legacy = cache / "matrix" / ("a" * 64 + ".parquet")
    legacy.parent.mkdir(parents=True)
    legacy.write_text("origin_id\nPO30 1UD\n")
    net = testing.grid_network(3, spacing_m=100, speed_kph=36, origin=(0.0, 0.0))
    origins, dests = _points()
    travel_matrix(net, origins.head(1), dests)
    assert not legacy.exists()


def test_no_pupil_postcode_in_any_cache_file_after_a_run(tmp_path, cache):
    """Run the sample (60 pupils) and search every cache file for every pupil postcode."""
    import shutil

    from placeplan.config import load_plan
    from placeplan.pipeline import run

    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"
    dst = tmp_path / "plan"
    shutil.copytree(sample, dst)
    pupils = pd.read_csv(sample / "pupils.csv", dtype=str).head(60)
    pupils.to_csv(dst / "pupils.csv", index=False)
    plan = load_plan(dst / "plan.toml")
    result = run(plan.model_copy(update={"scenario": plan.scenario[:1]}))
    assert len(result.baseline) == 60
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.parent.name == "matrix" for p in files), "the run used the matrix cache"
    postcodes = set(pupils["postcode"].dropna())
    refs = set(pupils["pupil_ref"])
    assert len(postcodes) > 30
    for path in files:
        raw = path.read_bytes()
        for value in postcodes | refs:
            for form in {value, value.replace(" ", ""), value.lower()}:
                for enc in ("utf-8", "utf-32-le"):
                    assert form.encode(enc) not in raw, f"{value!r} in {path.name}"


def test_matrix_entry_is_sealed_against_a_reader_of_the_cache_folder(cache):
    """The rows of a matrix are its origins' travel times: matched against the times from every
    public postcode, they name the postcodes the cohort lives in (1,281 of the sample's 1,293
    rows pinned to one postcode each). The folder alone must not give them back."""
    net = testing.grid_network(5, spacing_m=100, speed_kph=36, origin=(0.0, 0.0))
    origins, dests = _points()
    fresh = travel_matrix(net, origins, dests)
    (entry,) = _entries(cache / "matrix")
    raw = entry.read_bytes()
    times = fresh["travel_time_min"].to_numpy(dtype="float32").reshape(len(origins), -1)
    for row in times:
        assert row.tobytes() not in raw  # no origin's row of times, in clear
    with pytest.raises(Exception):  # noqa: B017 - any failure: not an archive
        np.load(entry)
    # the run that knows its origins reads its entry back
    hit = travel_matrix(net, origins, dests)
    pd.testing.assert_frame_equal(hit, fresh)


def test_a_plain_matrix_entry_is_dropped_not_read(cache):
    """An entry written in clear by an earlier version is deleted, then rebuilt sealed."""
    net = testing.grid_network(5, spacing_m=100, speed_kph=36, origin=(0.0, 0.0))
    origins, dests = _points()
    fresh = travel_matrix(net, origins, dests)
    (entry,) = _entries(cache / "matrix")
    plain = entry.with_name("b" * 64 + ".npz")
    np.savez(plain, travel_time_min=np.zeros((3, 2), "float32"))
    (plain.parent / (plain.name + ".sha256")).write_text(_cache.file_digest(plain))
    _cache.purge_plain("matrix")
    assert not plain.exists()
    assert entry.exists()
    pd.testing.assert_frame_equal(travel_matrix(net, origins, dests), fresh)
