"""Tests for placeplan.compute.matrix: exact grid oracles, one-way streets,
networkx cross-check, cache."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import placeplan
from placeplan import testing
from placeplan._errors import SchemaValidationError, SnapWarning
from placeplan.compute import network
from placeplan.compute.matrix import MATRIX_COLUMNS, travel_matrix

SAMPLE_PBF = Path(__file__).parents[1] / "data/sample/isle-of-wight/roads-drive.osm.pbf"
X0, Y0 = 450_000.0, 90_000.0


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(placeplan.settings, "cache_folder", tmp_path / "cache")
    monkeypatch.setattr(placeplan.settings, "progress", False)


def pts(**named):
    return pd.DataFrame(
        {
            "id": list(named),
            "x": [X0 + v[0] for v in named.values()],
            "y": [Y0 + v[1] for v in named.values()],
        }
    )


def pivot(m, col="travel_time_min"):
    return m.pivot(index="origin_id", columns="destination_id", values=col)


# -- exact answers on grids ---------------------------------------------------------------------
@pytest.mark.parametrize(("n", "spacing", "kph"), [(2, 100, 36), (5, 100, 36), (11, 250, 30)])
def test_corner_to_corner_exact(n, spacing, kph):
    net = testing.grid_network(n, spacing_m=spacing, speed_kph=kph)
    far = (n - 1) * spacing
    p = pts(a=(0, 0), b=(far, far))
    m = travel_matrix(net, p, p, use_cache=False, dtype="float64")
    assert list(m.columns) == MATRIX_COLUMNS
    t = pivot(m)
    expect_s = 2 * far / (kph / 3.6)
    assert t.loc["a", "b"] * 60 == pytest.approx(expect_s, abs=1e-3)
    assert t.loc["b", "a"] * 60 == pytest.approx(expect_s, abs=1e-3)
    d = pivot(m, "distance_m")
    assert d.loc["a", "b"] == pytest.approx(2 * far, abs=0.01)
    assert pivot(m, "distance_km").loc["a", "b"] == pytest.approx(2 * far / 1000, abs=1e-5)
    assert pivot(m, "distance_miles").loc["a", "b"] == pytest.approx(2 * far / 1609.344, abs=1e-5)


def test_points_part_way_along_edges():
    net = testing.grid_network(5, spacing_m=100, speed_kph=36)  # 10 s per 100 m
    p = pts(mid=(50, 0), corner=(400, 400), same_edge=(80, 0))
    m = pivot(travel_matrix(net, p, p, use_cache=False, dtype="float64")) * 60
    assert m.loc["mid", "corner"] == pytest.approx(75.0, abs=1e-3)
    assert m.loc["corner", "mid"] == pytest.approx(75.0, abs=1e-3)
    assert m.loc["mid", "same_edge"] == pytest.approx(3.0, abs=1e-3)  # along the shared edge
    assert m.loc["same_edge", "mid"] == pytest.approx(3.0, abs=1e-3)


def test_oneway_street_asymmetry():
    # bottom row (y = 0) is one-way west -> east
    net = testing.grid_network(5, spacing_m=100, speed_kph=36, oneway_rows=[0])
    p = pts(A=(0, 0), B=(400, 0), m150=(150, 0), m250=(250, 0))
    t = pivot(travel_matrix(net, p, p, use_cache=False, dtype="float64")) * 60
    assert t.loc["A", "B"] == pytest.approx(40.0, abs=1e-3)
    assert t.loc["B", "A"] == pytest.approx(60.0, abs=1e-3)  # up, west, down
    assert t.loc["m150", "m250"] == pytest.approx(10.0, abs=1e-3)
    assert t.loc["m250", "m150"] == pytest.approx(50.0, abs=1e-3)  # round the block
    assert t.loc["B", "m250"] == pytest.approx(45.0, abs=1e-3)


def test_distance_is_of_fastest_route_not_shortest():
    # A -> B direct: 1000 m at 10 km/h (360 s). A -> C -> B: 1500 m at 100 km/h (54 s).
    G = nx.MultiDiGraph(crs="EPSG:27700")
    for nid, (x, y) in {1: (0, 0), 2: (1000, 0), 3: (500, 500)}.items():
        G.add_node(nid, x=X0 + x, y=Y0 + y)
    for u, v, length, kph in [(1, 2, 1000, 10), (1, 3, 750, 100), (3, 2, 750, 100)]:
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, length=length, travel_time=length / (kph / 3.6), highway="primary")
    # a slower parallel edge must not be summed with the fast one (csr_matrix pitfall)
    G.add_edge(1, 3, length=750, travel_time=500.0, highway="primary")
    net = network.network_from_networkx(G)
    p = pts(a=(0, 0), b=(1000, 0))
    m = travel_matrix(net, p, p, use_cache=False, dtype="float64")
    row = m[(m.origin_id == "a") & (m.destination_id == "b")].iloc[0]
    assert row.travel_time_min * 60 == pytest.approx(54.0, abs=1e-3)
    assert row.distance_m == pytest.approx(1500.0, abs=0.01)


def test_access_leg_allowance_and_zero_diagonal():
    net = testing.grid_network(5, spacing_m=100, speed_kph=36)
    model = net.speed_model  # access legs at 20 km/h
    p = pts(off=(150, 10), corner=(0, 0))  # 10 m north of the y=0 road, 50 m from x roads
    m = travel_matrix(net, p, p, use_cache=False, dtype="float64")
    t = pivot(m) * 60
    assert np.allclose(np.diag(t.loc[["off", "corner"], ["off", "corner"]]), 0.0)
    snap = 10.0
    access = snap / (model.access_speed_kph / 3.6)
    assert t.loc["off", "corner"] == pytest.approx(15.0 + access, abs=1e-3)
    assert pivot(m, "distance_m").loc["off", "corner"] == pytest.approx(150 + snap, abs=0.01)
    m2 = travel_matrix(net, p, p, fixed_allowance_min=5, use_cache=False, dtype="float64")
    t2 = pivot(m2) * 60
    assert (t2 - t).to_numpy() == pytest.approx(np.full((2, 2), 300.0), abs=1e-3)


def test_cutoff_gives_nan_and_agrees_with_uncut():
    net = testing.grid_network(9, spacing_m=100, speed_kph=36)
    g = testing.grid_points(30, net, seed=3)
    full = travel_matrix(net, g, g, use_cache=False, dtype="float64")
    cut = travel_matrix(net, g, g, max_travel_time_min=1.0, use_cache=False, dtype="float64")
    inside = full.travel_time_min <= 1.0
    assert cut.travel_time_min[~inside].isna().all()
    assert np.allclose(cut.travel_time_min[inside], full.travel_time_min[inside])
    assert cut.distance_m[~inside].isna().all()


def test_invariants_random_points():
    net = testing.grid_network(12, spacing_m=80, speed_kph=30, oneway_rows=[2, 5, 7])
    g = testing.grid_points(40, net, seed=7)
    m = travel_matrix(net, g, g, use_cache=False)
    assert len(m) == 40 * 40 and not m.duplicated(["origin_id", "destination_id"]).any()
    assert (m.travel_time_min >= 0).all() and (m.distance_m >= 0).all()
    diag = m[m.origin_id.astype(str) == m.destination_id.astype(str)]
    assert np.allclose(diag.travel_time_min, 0.0) and np.allclose(diag.distance_m, 0.0)
    # triangle inequality T(a,c) <= T(a,b) + T(b,c) for points on the roads (off-road points may
    # be joined by a straight access leg, which the road route through b cannot use)
    s = network.snap_points(net, g)
    on_road = pd.DataFrame({"id": g.id, "x": s.snap_x, "y": s.snap_y})
    m = travel_matrix(net, on_road, on_road, use_cache=False, dtype="float64")
    T = pivot(m).to_numpy(dtype=float)
    assert (T[:, None, :] <= T[:, :, None] + T[None, :, :] + 1e-4).all()


def test_too_far_points_are_kept_as_nan_and_warned():
    net = testing.grid_network(3)
    p = pts(ok=(0, 0), far=(9000, 0))
    with pytest.warns(SnapWarning, match="1 of 2 origins"):
        m = travel_matrix(net, p, p.iloc[:1], use_cache=False)
    assert len(m) == 2
    row = m[m.origin_id == "far"].iloc[0]
    assert np.isnan(row.travel_time_min) and row.origin_snap_m == pytest.approx(8800.0)


def test_bad_inputs():
    net = testing.grid_network(3)
    p = pts(a=(0, 0), b=(100, 0))
    dup = pd.concat([p, p])
    with pytest.raises(SchemaValidationError, match="duplicate"):
        travel_matrix(net, dup, p)
    with pytest.raises(ValueError, match="max_travel_time_min"):
        travel_matrix(net, p, p, max_travel_time_min=0)


def test_matrix_cache_hit(caplog):
    net = testing.grid_network(4)
    p = pts(a=(0, 0), b=(300, 300))
    with caplog.at_level(logging.INFO, logger="placeplan"):
        m1 = travel_matrix(net, p, p)
        m2 = travel_matrix(net, p, p)
        m3 = travel_matrix(net, p, p, fixed_allowance_min=1)
    msgs = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("cache miss: matrix") for m in msgs) == 2
    assert sum(m.startswith("cache hit: matrix") for m in msgs) == 1
    pd.testing.assert_frame_equal(m1, m2)
    assert not m3.travel_time_min.equals(m1.travel_time_min)


def test_logs_counts_not_ids(caplog):
    net = testing.grid_network(3)
    p = pts(**{"PO30 1AE": (0, 0), "PO30 9ZZ": (200, 0)})
    with caplog.at_level(logging.DEBUG, logger="placeplan"):
        travel_matrix(net, p, p, use_cache=False)
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "PO30" not in text and "2 origins x 2 destinations" in text


# -- cross-check against networkx on the real network ----------------------------------------
@pytest.mark.skipif(not SAMPLE_PBF.exists(), reason="sample network not built (make sample-data)")
def test_matches_networkx_dijkstra_on_isle_of_wight():
    net = network.load_network(SAMPLE_PBF, use_cache=False)
    G = net.to_networkx(geometry=False)
    rng = np.random.default_rng(42)
    o = rng.choice(net.n_nodes, 25, replace=False)
    d = rng.choice(net.n_nodes, 8, replace=False)
    df_o = pd.DataFrame({"id": [f"n{i}" for i in o], "x": net.x[o], "y": net.y[o]})
    df_d = pd.DataFrame({"id": [f"n{i}" for i in d], "x": net.x[d], "y": net.y[d]})
    m = travel_matrix(net, df_o, df_d, use_cache=False, dtype="float64")
    assert (m.origin_snap_m < 1e-6).all()
    ids = net.node_osmid
    n_asym = 0
    for r in m.itertuples():
        a, b = ids[int(str(r.origin_id)[1:])], ids[int(str(r.destination_id)[1:])]
        t, path = nx.single_source_dijkstra(G, a, b, weight="travel_time")
        length = sum(
            min(G[u][v].values(), key=lambda e: e["travel_time"])["length"]
            for u, v in itertools.pairwise(path)
        )
        assert r.travel_time_min * 60 == pytest.approx(t, abs=0.05)  # ms rounding per edge
        assert r.distance_m == pytest.approx(length, abs=0.5)
    # one-way streets make some real pairs asymmetric
    sym = travel_matrix(net, df_o, df_o, use_cache=False, dtype="float64")
    T = pivot(sym).to_numpy(dtype=float)
    n_asym = int((np.abs(T - T.T) > 1 / 60).sum())
    assert n_asym > 0


def test_destination_on_two_way_loop_road(tmp_path):
    """Regression: both ends of a loop edge are one node; the two arrival offsets must not be
    summed (scipy csr_matrix sums duplicate entries)."""
    nodes = {1: (0, 0), 2: (0, 0.001), 3: (0.001, 0.001), 5: (0.001, 0), 4: (-0.002, 0)}
    xml = ['<?xml version="1.0"?>', '<osm version="0.6">']
    xml += [
        f'<node id="{i}" lat="{50.7 + la}" lon="{-1.3 + lo}"/>' for i, (lo, la) in nodes.items()
    ]
    for wid, nds in ((10, [1, 2, 3, 5, 1]), (11, [4, 1])):
        xml.append(f'<way id="{wid}">')
        xml += [f'<nd ref="{n}"/>' for n in nds]
        xml.append('<tag k="highway" v="residential"/></way>')
    xml.append("</osm>")
    path = tmp_path / "loop.osm"
    path.write_text("\n".join(xml))
    net = network.load_network(path, use_cache=False)
    osm = net.node_osmid
    loop = np.flatnonzero(net.edge_u == net.edge_v)
    assert len(loop) == 2  # a two-way loop: both directions
    t_in = net.travel_time_s[(osm[net.edge_u] == 4) & (osm[net.edge_v] == 1)][0]
    t_loop = net.travel_time_s[loop[0]]
    ch = net.chain_lines[net.edge_chain[loop[0]]]
    far = ch.interpolate(0.5, normalized=True)  # halfway round the loop
    p_o = pd.DataFrame({"id": ["o"], "x": [net.x[osm == 4][0]], "y": [net.y[osm == 4][0]]})
    p_d = pd.DataFrame({"id": ["d"], "x": [far.x], "y": [far.y]})
    m = travel_matrix(net, p_o, p_d, use_cache=False, dtype="float64")
    assert m.travel_time_min.iloc[0] * 60 == pytest.approx(t_in + 0.5 * t_loop, abs=1e-2)


def test_worker_processes_give_identical_results():
    net = testing.grid_network(10, spacing_m=90, speed_kph=30, oneway_rows=[1, 4])
    o = testing.grid_points(50, net, seed=11)
    d = testing.grid_points(20, net, seed=12, prefix="D")
    one = travel_matrix(net, o, d, use_cache=False, n_jobs=1)
    two = travel_matrix(net, o, d, use_cache=False, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    with pytest.raises(ValueError, match="n_jobs"):
        travel_matrix(net, o, d, use_cache=False, n_jobs=0)
