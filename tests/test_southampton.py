"""The Southampton example (``data/sample/southampton``) and the online network path it relies on.

Offline tests check that the example plan loads, validates with every row used, geocodes from the
shipped postcodes, reproduces Southampton's published need mix, and runs end to end on a stand-in
grid network; and that ``network_from_place`` fails fast with ``NetworkError`` when there is no
internet. Tests marked ``network`` fetch Southampton's real roads with osmnx (run them online with
``pytest -m network``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import requests

import placeplan
from placeplan import pipeline
from placeplan._errors import NetworkError
from placeplan.cli import main
from placeplan.compute import network
from placeplan.config import load_plan
from placeplan.prepare import io
from placeplan.prepare.geocode import PostcodeIndex
from placeplan.prepare.validate import validate_plan
from placeplan.testing import grid_network

ROOT = Path(__file__).resolve().parents[1]
SOU = ROOT / "data" / "sample" / "southampton"
PLAN = SOU / "plan.toml"
IOW = ROOT / "data" / "sample" / "isle-of-wight"
SOUTHAMPTON_LAD = "E06000045"


def _plan_into(tmp_path: Path):
    plan = load_plan(PLAN)
    meta = plan.plan.model_copy(update={"output_dir": tmp_path})
    return plan.model_copy(update={"plan": meta})


# ------------------------------------------------------------------------------------------
# offline: the example plan
# ------------------------------------------------------------------------------------------
def test_southampton_plan_names_an_online_network_and_no_ferries():
    plan = load_plan(PLAN)
    assert plan.plan.la_code == "852"
    assert plan.plan.lad_code == SOUTHAMPTON_LAD
    assert plan.plan.synthetic_pupils is True
    assert plan.inputs.network is None
    assert plan.inputs.network_place == "Southampton, England"
    assert plan.inputs.network_buffer_m == 10_000
    assert plan.network.ferry_links == ()
    # every scenario's sites exist in the candidate file
    sites = set(pd.read_csv(SOU / "candidate_sites.csv")["site_id"])
    for sc in plan.scenario:
        assert set(sc.open_sites) <= sites


def test_southampton_example_reads_only_files_inside_the_repo():
    plan = load_plan(PLAN)
    inputs = plan.inputs
    paths = [
        inputs.pupils,
        inputs.provision,
        inputs.postcodes,
        inputs.candidate_sites,
        inputs.areas,
        inputs.authority_boundary,
        inputs.attribution,
    ]
    for value in paths:
        resolved = plan.path(value)
        assert resolved is not None and resolved.is_file(), value
        assert resolved.is_relative_to(ROOT / "data" / "sample"), resolved
    assert plan.path(inputs.postcodes) == (IOW / "postcodes.csv").resolve()


def test_southampton_plan_validates_offline_with_every_row_used(tmp_path, capsys):
    rejections = tmp_path / "rejections.csv"
    code = main(["validate", str(PLAN), "--rejections", str(rejections)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "every row of every input will be used" in out
    assert rejections.is_file()
    assert len(pd.read_csv(rejections)) == 0

    report = validate_plan(load_plan(PLAN))
    assert report.ok
    files = report.files.set_index("role")
    assert {"pupils", "provision", "candidate_sites"} <= set(files.index)
    assert (files["rows_used"] == files["rows_read"]).all()
    assert 200 <= files.loc["pupils", "rows_read"] <= 400


def test_southampton_pupils_geocode_from_shipped_postcodes():
    plan = load_plan(PLAN)
    postcodes = PostcodeIndex.from_file(plan.path(plan.inputs.postcodes))
    prov = io.load_provision(plan.path(plan.inputs.provision), postcodes=postcodes)
    res = io.load_pupils(
        plan.path(plan.inputs.pupils),
        postcodes=postcodes,
        setting_ids=set(prov.data["setting_id"].astype(str)),
    )
    assert res.rows_rejected == 0
    assert res.rows_used == res.rows_read == len(res.data)
    pupils = res.data
    assert pupils.crs.to_epsg() == 27700
    assert pupils.geometry.notna().all()
    # every home postcode is a live Southampton postcode
    table = pd.read_csv(IOW / "postcodes.csv", dtype=str, keep_default_na=False)
    lad = table.set_index("postcode")["lad_code"]
    raw = pd.read_csv(plan.path(plan.inputs.pupils), dtype=str)
    assert (raw["postcode"].map(lad) == SOUTHAMPTON_LAD).all()
    # and inside the city (British National Grid box around Southampton)
    assert pupils.geometry.x.between(436_000, 451_000).all()
    assert pupils.geometry.y.between(106_000, 120_000).all()


def test_southampton_cohort_follows_the_published_need_mix():
    pupils = pd.read_csv(SOU / "pupils.csv")
    needs = pd.read_csv(IOW / "ehcp_by_need.csv", dtype=str, keep_default_na=False)
    needs = needs[
        (needs["la_name"] == "Southampton")
        & (needs["time_period"] == "202425")
        & (needs["breakdown_topic"] == "All EHC plans")
    ]
    published = (
        needs.assign(need=needs["need_type"].replace("", "OTH"), n=needs["count"].astype(int))
        .groupby("need")["n"]
        .sum()
    )
    published = published / published.sum()
    synthetic = pupils["need_type"].value_counts(normalize=True)
    for need in ("ASD", "SEMH", "SLCN", "MLD"):
        assert abs(synthetic.get(need, 0.0) - published[need]) < 0.03, need
    assert synthetic.idxmax() == "ASD"
    assert pupils["pupil_ref"].str.startswith("SYN-").all()
    # the independent placements the scenarios try to bring back exist
    prov = pd.read_csv(SOU / "provision.csv")
    independent = set(prov.loc[prov["provision_type"] == "independent", "setting_id"])
    assert pupils["current_setting_id"].isin(independent).sum() > 0


def _stand_in_network(calls: list):
    def fake(place, *, buffer_m=10_000, speed_model=None, use_cache=None):
        calls.append((place, buffer_m))
        # 16 km x 16 km grid over Southampton, 250 m spacing, 30 km/h: no real roads
        return grid_network(65, 250.0, 30.0, origin=(435_000.0, 105_000.0))

    return fake


def test_southampton_plan_runs_end_to_end_on_a_stand_in_network(tmp_path, monkeypatch):
    """The example's inputs flow through the whole pipeline (grid roads stand in for osmnx).

    No ferry links: the journey matrix keeps the router's float32 columns, which re-allocation
    must accept (pandas 3 refuses lossy float64 -> float32 writes).
    """
    calls: list = []
    monkeypatch.setattr(network, "network_from_place", _stand_in_network(calls))
    result, outputs = pipeline.run_and_publish(_plan_into(tmp_path))
    assert calls == [("Southampton, England", 10_000.0)]
    assert (tmp_path / "report.html").is_file()
    assert outputs["report"].parent == tmp_path
    pupils = pd.read_csv(SOU / "pupils.csv")
    for imp in result.impacts.values():
        allrow = imp.table[imp.table["group_type"] == "all"].set_index("metric")
        assert allrow.loc["pupils", "baseline"] == len(pupils)
        # bases for ASD and SEMH bring independent placements back into the city
        assert (
            allrow.loc["independent_placements", "scenario"]
            < (allrow.loc["independent_placements", "baseline"])
        )


# ------------------------------------------------------------------------------------------
# offline: network_from_place without internet
# ------------------------------------------------------------------------------------------
def _no_internet(*_args, **_kwargs):
    raise requests.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")


def _geocoded_city(*_args, **_kwargs):
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {"name": ["Southampton"]}, geometry=[box(-1.45, 50.89, -1.35, 50.95)], crs=4326
    )


@pytest.mark.parametrize("stage", ["geocode", "download"])
def test_network_from_place_offline_raises_network_error(monkeypatch, stage):
    import osmnx as ox

    if stage == "geocode":
        monkeypatch.setattr(ox, "geocode_to_gdf", _no_internet)
    else:
        monkeypatch.setattr(ox, "geocode_to_gdf", _geocoded_city)
        monkeypatch.setattr(ox, "graph_from_polygon", _no_internet)
    with pytest.raises(NetworkError) as info:
        network.network_from_place("Southampton, England", buffer_m=2000, use_cache=False)
    assert isinstance(info.value.__cause__, requests.ConnectionError)


def test_network_from_place_with_sockets_blocked_fails_fast(tmp_path, monkeypatch):
    """The real osmnx call, with no socket allowed (as on a machine with no internet)."""
    import time

    import osmnx as ox

    monkeypatch.chdir(tmp_path)  # osmnx's own HTTP cache (./cache) must not answer
    monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path / "osmnx-cache"))
    t0 = time.perf_counter()
    with pytest.raises(NetworkError, match="Southampton"):
        network.network_from_place("Southampton, England", buffer_m=2000, use_cache=False)
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("stage", ["geocode", "download"])
def test_network_from_place_offline_message_says_use_a_file_or_go_online(monkeypatch, stage):
    import osmnx as ox

    if stage == "geocode":
        monkeypatch.setattr(ox, "geocode_to_gdf", _no_internet)
    else:
        monkeypatch.setattr(ox, "geocode_to_gdf", _geocoded_city)
        monkeypatch.setattr(ox, "graph_from_polygon", _no_internet)
    with pytest.raises(NetworkError) as info:
        network.network_from_place("Southampton, England", buffer_m=2000, use_cache=False)
    msg = str(info.value)
    assert "inputs.network" in msg  # the offline alternative: a network file
    assert "internet" in msg.lower() or "online" in msg.lower()


def test_osmnx_responses_are_cached_under_placeplan_cache_folder(monkeypatch):
    import osmnx as ox

    seen: list[Path] = []

    def record(*_args, **_kwargs):
        seen.append(Path(ox.settings.cache_folder).resolve())
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(ox, "geocode_to_gdf", record)
    with pytest.raises(NetworkError):
        network.network_from_place("Southampton, England", buffer_m=2000)
    assert seen
    assert seen[0].is_relative_to(Path(placeplan.settings.cache_folder).resolve())


# ------------------------------------------------------------------------------------------
# online (pytest -m network): real OpenStreetMap roads for Southampton
# ------------------------------------------------------------------------------------------
@pytest.mark.network
@pytest.mark.enable_socket
def test_network_from_place_southampton_online():
    net = network.network_from_place("Southampton, England", buffer_m=2000)
    assert net.crs == "EPSG:27700"
    assert net.n_nodes > 1_000
    assert 436_000 < float(pd.Series(net.x).median()) < 451_000
    assert 106_000 < float(pd.Series(net.y).median()) < 120_000


@pytest.mark.network
@pytest.mark.enable_socket
def test_southampton_plan_runs_online(tmp_path):
    result, outputs = pipeline.run_and_publish(_plan_into(tmp_path))
    assert (tmp_path / "report.html").is_file()
    assert outputs["report"] == tmp_path / "report.html"
    allrow = next(iter(result.impacts.values())).table.query("group_type == 'all'")
    assert allrow.set_index("metric").loc["pupils", "baseline"] == len(
        pd.read_csv(SOU / "pupils.csv")
    )


def test_southampton_example_rebuilds_identically_from_the_repo_alone(tmp_path, monkeypatch):
    """``scripts/build_southampton_example.py`` (without ``--edubase``) reproduces the files."""
    import importlib.util
    import shutil

    spec = importlib.util.spec_from_file_location(
        "build_southampton_example", ROOT / "scripts" / "build_southampton_example.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.copy(SOU / "provision.csv", tmp_path / "provision.csv")
    monkeypatch.setattr(module, "OUT", tmp_path)
    monkeypatch.setattr(module, "ROOT", tmp_path.parent)  # for log messages only
    monkeypatch.setattr(module.logging, "basicConfig", lambda **_: None)
    assert module.main([]) == 0
    for name in ("pupils.csv", "candidate_sites.csv"):
        assert (tmp_path / name).read_bytes() == (SOU / name).read_bytes(), name


def test_validate_says_a_network_place_needs_internet_at_run():
    """validate cannot check a network it would download; it says so rather than a bare OK."""
    from placeplan.prepare.validate import validate_plan

    report = validate_plan(load_plan(PLAN))
    assert any("network_place" in n and "internet" in n for n in report.notes)
    assert "network_place" in report.summary_text()
