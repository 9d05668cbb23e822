"""Tests for placeplan.compute.network: OSM/GraphML loading, speed model,
snapping, isochrones, cache."""

from __future__ import annotations

import bz2
import logging
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

import placeplan
from placeplan import testing
from placeplan._errors import ConfigError, NetworkError, SchemaValidationError, SnapWarning
from placeplan.compute import network
from placeplan.compute.network import SpeedModel, load_network, parse_maxspeed, snap_points

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_town.osm"
SAMPLE_PBF = Path(__file__).parents[1] / "data/sample/isle-of-wight/roads-drive.osm.pbf"
needs_sample = pytest.mark.skipif(
    not SAMPLE_PBF.exists(),
    reason=f"sample network {SAMPLE_PBF.name} not built yet (make sample-data)",
)


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(placeplan.settings, "cache_folder", tmp_path / "cache")
    monkeypatch.setattr(placeplan.settings, "progress", False)


@pytest.fixture(scope="module")
def tiny():
    return load_network(TINY, use_cache=False)


# -- maxspeed and speed model --------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "kph"),
    [
        ("30 mph", 48.28032),
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("GB:nsl_single", 96.56064),
        ("GB:nsl_dual", 112.65408),
        ("20 mph;30 mph", 32.18688),
        (["40 mph", "30 mph"], 48.28032),
        ("['40 mph', '30 mph']", 48.28032),
        (None, np.nan),
        ("signals", np.nan),
        ("none", np.nan),
        ("", np.nan),
    ],
)
def test_parse_maxspeed(value, kph):
    got = parse_maxspeed(value)
    if np.isnan(kph):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(kph)


def test_speed_model_min_rule_and_factors():
    m = SpeedModel()
    got = m.edge_speeds_kph(
        ["primary", "primary", "residential", "unknownclass"],
        np.array([np.nan, 48.0, 96.0, np.nan]),
    )
    assert got.tolist() == [65.0, 48.0, 25.0, m.default_kph]
    m2 = SpeedModel(urban_factor=0.5, rural_factor=0.9, peak_factor=0.8)
    got2 = m2.edge_speeds_kph(
        ["primary", "primary", "residential"], np.array([np.nan, 48.0, np.nan])
    )
    # rural primary (no tag, class 65 > 50): 65*0.9/0.8 ; 30 mph tagged: urban ; residential: urban
    # (peak_factor multiplies travel times, so it divides speeds)
    assert got2 == pytest.approx([65 * 0.9 / 0.8, 48 * 0.5 / 0.8, 25 * 0.5 / 0.8])
    m3 = SpeedModel(use_maxspeed=False)
    assert m3.edge_speeds_kph(["primary"], np.array([20.0])).tolist() == [65.0]


def test_peak_factor_multiplies_travel_times_as_documented():
    """Issue 9.7: the plan file says ``peak_factor`` > 1 slows all roads (1.2 = school-run peak)."""
    from pathlib import Path

    plan = Path(__file__).parents[1] / "data/sample/isle-of-wight/plan.toml"
    doc = next(line for line in plan.read_text().splitlines() if line.startswith("peak_factor"))
    assert ">1 slows all roads" in doc
    hw, tags = ["primary", "residential"], np.array([np.nan, np.nan])
    free_flow_s = 1000 / (SpeedModel().edge_speeds_kph(hw, tags) / 3.6)
    peak_s = 1000 / (SpeedModel(peak_factor=1.2).edge_speeds_kph(hw, tags) / 3.6)
    assert peak_s == pytest.approx(free_flow_s * 1.2)
    assert (peak_s > free_flow_s).all()
    m = SpeedModel(peak_factor=1.2)
    assert SpeedModel.from_dict(m.to_dict()) == m
    # the cache key marks the meaning, so networks cached when it scaled speeds are not reused
    assert m.to_dict()["peak_factor_scales"] == "travel_time"


def test_speed_model_describe_and_roundtrip():
    m = SpeedModel(peak_factor=0.85, fixed_allowance_min=4)
    rows = m.describe()
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in rows)
    d = dict(rows)
    assert d["Peak-time factor"] == "journey times × 0.85 on all roads"
    assert d["Fixed allowance per journey"].startswith("4 min")
    assert SpeedModel.from_dict(m.to_dict()) == m


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"peak_factor": 0}, "peak_factor"),
        ({"class_kph": {"primary": -1}}, "class_kph"),
        ({"class_kph": {}}, "class_kph"),
        ({"fixed_allowance_min": -1}, "fixed_allowance_min"),
    ],
)
def test_speed_model_rejects_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SpeedModel(**kwargs)


# -- loading OSM XML ------------------------------------------------------------------------
def test_tiny_town_drive_filter_oneway_and_scc(tiny):
    ids = set(tiny.node_osmid.tolist())
    # service (9), footway (10), private (14) excluded; fragment (11, 12) and the one-way
    # dead end (13) are outside the largest strongly connected component
    assert ids == {1, 2, 4, 5, 6, 8, 15}
    assert tiny.stats["nodes_before_scc"] == 10
    assert set(tiny.highway) <= set(SpeedModel().class_kph)
    osm = tiny.node_osmid
    pairs = {(int(osm[u]), int(osm[v])) for u, v in zip(tiny.edge_u, tiny.edge_v, strict=True)}
    assert (6, 1) in pairs and (1, 6) not in pairs  # oneway=yes, Loop Lane 6 -> 7 -> 1
    assert (8, 5) in pairs and (5, 8) not in pairs  # oneway=-1, Back Street
    assert (15, 15) in pairs  # roundabout loop kept as a one-way self-loop
    # strongly connected
    import scipy.sparse as sp

    A = sp.csr_matrix(
        (np.ones(tiny.n_edges), (tiny.edge_u, tiny.edge_v)), shape=(tiny.n_nodes,) * 2
    )
    assert connected_components(A, directed=True, connection="strong")[0] == 1


def test_tiny_town_speeds_follow_min_rule(tiny):
    hs = tiny.length_m / tiny.travel_time_s * 3.6
    primary = tiny.highway == "primary"  # tagged 30 mph, class 65
    assert hs[primary] == pytest.approx(30 * 1.609344)
    secondary = tiny.highway == "secondary"  # tagged GB:nsl_single (60 mph), class 55
    assert hs[secondary] == pytest.approx(55.0)
    res = tiny.highway == "residential"
    assert hs[res] == pytest.approx(25.0)


def test_lengths_are_geodesic(tiny):
    # High Street 1 -> 2 is 0.002 degrees of longitude at 50.70 N: ~140.9 m
    osm = tiny.node_osmid
    i = np.flatnonzero((osm[tiny.edge_u] == 1) & (osm[tiny.edge_v] == 2))[0]
    lat = np.radians(50.70)
    expect = 6_371_009 * np.radians(0.002) * np.cos(lat)
    assert tiny.length_m[i] == pytest.approx(expect, rel=1e-4)


def test_bz2_matches_plain_xml(tmp_path, tiny):
    p = tmp_path / "tiny_town.osm.bz2"
    p.write_bytes(bz2.compress(TINY.read_bytes()))
    net = load_network(p, use_cache=False)
    assert net.n_edges == tiny.n_edges
    assert np.allclose(np.sort(net.travel_time_s), np.sort(tiny.travel_time_s))


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(NetworkError, match="unsupported suffix"):
        load_network(tmp_path / "roads.shp")
    with pytest.raises(NetworkError, match="does not exist"):
        load_network(tmp_path / "nothing.osm.pbf")
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id=")
    with pytest.raises(NetworkError):
        load_network(bad, use_cache=False)


def test_cache_hit_returns_same_network(tmp_path, caplog):
    src = tmp_path / "town.osm"
    shutil.copy(TINY, src)
    with caplog.at_level(logging.INFO, logger="placeplan"):
        a = load_network(src)
        b = load_network(src)
    msgs = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("cache miss: network") for m in msgs)
    assert any(m.startswith("cache hit: network") for m in msgs)
    assert a.content_hash == b.content_hash
    for k in ("x", "edge_u", "edge_v", "travel_time_s", "chain_x", "highway"):
        assert np.array_equal(getattr(a, k), getattr(b, k))
    # a different speed model is a different entry
    c = load_network(src, speed_model=SpeedModel(peak_factor=0.5))
    assert c.content_hash != a.content_hash
    assert np.allclose(np.sort(c.travel_time_s), np.sort(a.travel_time_s) * 0.5)


# -- networkx / GraphML -------------------------------------------------------------------------
def test_to_networkx_is_osmnx_compatible_and_graphml_roundtrips(tmp_path, tiny):
    import osmnx as ox

    G = tiny.to_networkx()
    assert G.graph["crs"] == "EPSG:27700"
    assert G.number_of_nodes() == tiny.n_nodes
    assert G.number_of_edges() == tiny.n_edges
    _nodes, edges = ox.graph_to_gdfs(G)
    assert len(edges) == tiny.n_edges and {"length", "travel_time"} <= set(edges.columns)
    path = tmp_path / "tiny.graphml"
    ox.save_graphml(G, path)
    back = load_network(path, use_cache=False)
    assert back.n_edges == tiny.n_edges and back.n_nodes == tiny.n_nodes
    assert np.allclose(np.sort(back.travel_time_s), np.sort(tiny.travel_time_s))
    # with an explicit speed model, times come from highway/maxspeed again (same answer here)
    again = load_network(path, speed_model=SpeedModel(), use_cache=False)
    assert np.allclose(np.sort(again.travel_time_s), np.sort(tiny.travel_time_s), rtol=1e-6)


def test_grid_graph_is_valid_osmnx_graph():
    G = testing.grid_graph(4, spacing_m=100, speed_kph=36)
    assert nx.is_strongly_connected(G)
    t = nx.shortest_path_length(G, 0, 15, weight="travel_time")
    assert t == pytest.approx(60.0)  # 6 edges x 10 s
    G4326 = testing.grid_graph(3, crs="EPSG:4326")
    assert G4326.graph["crs"] == "EPSG:4326"
    assert -2 < G4326.nodes[0]["x"] < 0


def test_network_from_networkx_keeps_given_travel_times():
    G = testing.grid_graph(3, spacing_m=100, speed_kph=36)
    net = network.network_from_networkx(G)
    assert np.allclose(net.travel_time_s, 10.0)
    net2 = network.network_from_networkx(G, speed_model=SpeedModel())
    assert np.allclose(net2.travel_time_s, 100 / (25 / 3.6))  # residential class speed


# -- snapping ------------------------------------------------------------------------------------
def test_snap_points_edges_distances_and_flags():
    net = testing.grid_network(3, spacing_m=100)  # x 450000..450200, y 90000..90200
    pts = pd.DataFrame(
        {
            "id": ["on_node", "mid_edge", "off_road", "far"],
            "x": [450000.0, 450050.0, 450050.0, 455000.0],
            "y": [90000.0, 90000.0, 90030.0, 90000.0],
        }
    )
    with pytest.warns(SnapWarning, match="1 of 4 points"):
        s = snap_points(net, pts, max_snap_m=1000)
    assert list(s.columns[:4]) == ["id", "node_index", "snap_m", "snap_status"]
    assert s["snap_m"].to_numpy() == pytest.approx([0.0, 0.0, 30.0, 4800.0])
    assert s["snap_status"].tolist() == ["ok", "ok", "ok", "too_far"]
    assert s.loc[1, "position"] == pytest.approx(0.5)
    assert (s.loc[2, "snap_x"], s.loc[2, "snap_y"]) == pytest.approx((450050.0, 90000.0))
    assert net.x[s.loc[0, "node_index"]] == 450000.0


def test_snap_points_rejects_missing_coordinates():
    net = testing.grid_network(3)
    pts = pd.DataFrame({"id": ["a"], "x": [np.nan], "y": [1.0]})
    with pytest.raises(SchemaValidationError, match="missing coordinates"):
        snap_points(net, pts)
    with pytest.raises(SchemaValidationError, match="no column 'easting'"):
        snap_points(net, pts, x_col="easting")


# -- isochrones -------------------------------------------------------------------------------
def test_isochrones_on_grid():
    net = testing.grid_network(21, spacing_m=100, speed_kph=36)  # 10 s per 100 m
    cx, cy = 450_000 + 1000, 90_000 + 1000
    sites = pd.DataFrame({"id": ["s1"], "x": [cx], "y": [cy]})
    iso = network.isochrones(net, sites, minutes=(1, 2), buffer_m=20)
    assert iso.crs.to_epsg() == 27700
    assert list(iso.columns) == ["site_id", "minutes", "geometry"]
    one = iso.loc[iso.minutes == 1, "geometry"].iloc[0]
    two = iso.loc[iso.minutes == 2, "geometry"].iloc[0]
    assert two.contains(one.buffer(-1))
    # 1 minute = 600 m of Manhattan distance: (cx+600, cy) inside, (cx+400, cy+400) outside
    assert one.contains(shapely.Point(cx + 590, cy))
    assert not one.contains(shapely.Point(cx + 400, cy + 400))
    assert not one.contains(shapely.Point(cx + 700, cy))
    assert two.contains(shapely.Point(cx + 400, cy + 400))


@needs_sample
def test_sample_network_loads_fast_and_connected():
    net = load_network(SAMPLE_PBF, use_cache=False)
    assert net.n_nodes > 4000
    assert net.stats["share_nodes_kept"] > 0.97
    assert net.crs == "EPSG:27700"
    assert 420_000 < np.median(net.x) < 470_000 and 70_000 < np.median(net.y) < 100_000


@pytest.mark.network
@pytest.mark.enable_socket
def test_network_from_place_online():
    net = network.network_from_place("Cowes, Isle of Wight, England", buffer_m=500)
    assert net.n_nodes > 50
