"""Synthetic county-scale road network for the benchmarks (~300k nodes, Hampshire-sized)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeplan.compute.network import SpeedModel
from placeplan.compute.network._osm import build_network

SIDE = 548  # 548 x 548 = 300,304 nodes
SPACING_M = 110.0  # ~60 km square, about Hampshire's extent
X0, Y0 = 400_000.0, 100_000.0


def county_network(side: int = SIDE, spacing_m: float = SPACING_M, seed: int = 0):
    """Grid of residential streets (30 km/h) with B roads every 10th line (55 km/h) and A roads
    every 50th line (80 km/h); 5 % of streets one-way and lengths jittered +-20 % so routes are
    unique. Returns a RoadNetwork."""
    rng = np.random.default_rng(seed)
    n = side
    idx = np.arange(n * n).reshape(n, n)
    col, row = np.meshgrid(np.arange(n), np.arange(n))
    x = X0 + col.ravel() * spacing_m
    y = Y0 + row.ravel() * spacing_m
    hu, hv = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    vu, vv = idx[:-1, :].ravel(), idx[1:, :].ravel()
    line_h = np.repeat(np.arange(n), n - 1)  # row of each horizontal chain
    line_v = np.tile(np.arange(n), n - 1)  # column of each vertical chain
    u = np.r_[hu, vu]
    v = np.r_[hv, vv]
    line = np.r_[line_h, line_v]
    kph = np.where(line % 50 == 0, 80.0, np.where(line % 10 == 0, 55.0, 30.0))
    hw = np.where(line % 50 == 0, "primary", np.where(line % 10 == 0, "secondary", "residential"))
    m = len(u)
    length = spacing_m * rng.uniform(0.8, 1.2, m)
    t = length / (kph / 3.6)
    direction = np.where((kph == 30.0) & (rng.random(m) < 0.05), 1, 0).astype(np.int8)
    return build_network(
        node_osmid=np.arange(n * n, dtype=np.int64),
        x=x.astype(float),
        y=y.astype(float),
        chain_u=u,
        chain_v=v,
        chain_offsets=np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        chain_x=np.column_stack([x[u], x[v]]).ravel(),
        chain_y=np.column_stack([y[u], y[v]]).ravel(),
        chain_dir=direction,
        chain_length_m=length,
        chain_highway=hw,
        chain_maxspeed_kph=np.full(m, np.nan),
        chain_osmid=np.arange(m, dtype=np.int64),
        chain_time_fwd_s=t,
        chain_time_bwd_s=t.copy(),
        speed_model=SpeedModel(),
        source=f"synthetic county grid {n}x{n}",
        content_hash=f"county-{n}-{spacing_m}-{seed}",
    )


def county_points(net, n_points: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i:05d}" for i in range(n_points)],
            "x": rng.uniform(net.x.min(), net.x.max(), n_points),
            "y": rng.uniform(net.y.min(), net.y.max(), n_points),
        }
    )


def tiled_network(
    net, nx_tiles: int = 9, ny_tiles: int = 6, gap_m: float = 1500.0, links: int = 12
):
    """Tile a real network ``nx_tiles x ny_tiles`` times (Hampshire-scale node count) and join
    neighbouring tiles with ``links`` two-way 'tertiary' link roads between facing edge nodes.
    Returns (RoadNetwork, offsets) where offsets[t] = (dx, dy) of tile t."""
    W = float(net.x.max() - net.x.min()) + gap_m
    H = float(net.y.max() - net.y.min()) + gap_m
    n, c = net.n_nodes, len(net.chain_u)
    f, b = net.chain_fwd, net.chain_bwd
    direction = np.where((f >= 0) & (b >= 0), 0, np.where(f >= 0, 1, -1)).astype(np.int8)
    tf = np.where(f >= 0, net.travel_time_s[np.maximum(f, 0)], np.nan)
    tb = np.where(b >= 0, net.travel_time_s[np.maximum(b, 0)], np.nan)
    e = np.where(f >= 0, f, b)
    clen, chw = net.length_m[e], net.highway[e]
    counts = np.diff(net.chain_offsets)
    parts = {k: [] for k in ("x", "y", "u", "v", "cx", "cy", "cnt", "dir", "len", "hw", "tf", "tb")}
    offsets = []
    east = np.argsort(-net.x)[:links]
    west = np.argsort(net.x)[:links]
    north = np.argsort(-net.y)[:links]
    south = np.argsort(net.y)[:links]
    east, west = east[np.argsort(net.y[east])], west[np.argsort(net.y[west])]
    north, south = north[np.argsort(net.x[north])], south[np.argsort(net.x[south])]
    link_u, link_v = [], []
    for j in range(ny_tiles):
        for i in range(nx_tiles):
            t = j * nx_tiles + i
            dx, dy = i * W, j * H
            offsets.append((dx, dy))
            base = t * n
            parts["x"].append(net.x + dx)
            parts["y"].append(net.y + dy)
            parts["u"].append(net.chain_u + base)
            parts["v"].append(net.chain_v + base)
            parts["cx"].append(net.chain_x + dx)
            parts["cy"].append(net.chain_y + dy)
            parts["cnt"].append(counts)
            parts["dir"].append(direction)
            parts["len"].append(clen)
            parts["hw"].append(chw)
            parts["tf"].append(tf)
            parts["tb"].append(tb)
            if i + 1 < nx_tiles:
                link_u += (base + east).tolist()
                link_v += (base + n + west).tolist()
            if j + 1 < ny_tiles:
                link_u += (base + north).tolist()
                link_v += (base + nx_tiles * n + south).tolist()
    x = np.concatenate(parts["x"])
    y = np.concatenate(parts["y"])
    lu, lv = np.asarray(link_u), np.asarray(link_v)
    llen = np.hypot(x[lu] - x[lv], y[lu] - y[lv]) + 1.0
    lt = llen / (45 / 3.6)
    cnt = np.r_[np.concatenate(parts["cnt"]), np.full(len(lu), 2)]
    return (
        build_network(
            node_osmid=np.arange(len(x), dtype=np.int64),
            x=x,
            y=y,
            chain_u=np.r_[np.concatenate(parts["u"]), lu],
            chain_v=np.r_[np.concatenate(parts["v"]), lv],
            chain_offsets=np.r_[0, np.cumsum(cnt)].astype(np.int64),
            chain_x=np.r_[np.concatenate(parts["cx"]), np.column_stack([x[lu], x[lv]]).ravel()],
            chain_y=np.r_[np.concatenate(parts["cy"]), np.column_stack([y[lu], y[lv]]).ravel()],
            chain_dir=np.r_[np.concatenate(parts["dir"]), np.zeros(len(lu), np.int8)],
            chain_length_m=np.r_[np.concatenate(parts["len"]), llen],
            chain_highway=np.r_[
                np.concatenate(parts["hw"]).astype(str), np.full(len(lu), "tertiary")
            ],
            chain_maxspeed_kph=np.full(c * nx_tiles * ny_tiles + len(lu), np.nan),
            chain_osmid=np.arange(c * nx_tiles * ny_tiles + len(lu), dtype=np.int64),
            chain_time_fwd_s=np.r_[np.concatenate(parts["tf"]), lt],
            chain_time_bwd_s=np.r_[np.concatenate(parts["tb"]), lt],
            speed_model=net.speed_model,
            source=f"{nx_tiles}x{ny_tiles} tiles of {net.source}",
            content_hash=f"tiled-{net.content_hash}-{nx_tiles}-{ny_tiles}",
        ),
        np.asarray(offsets),
    )


def tiled_points(df: pd.DataFrame, offsets: np.ndarray, n_points: int, seed: int, prefix: str):
    """Replicate points (id, x, y) into every tile and draw ``n_points`` of them."""
    rng = np.random.default_rng(seed)
    k = len(df)
    key = np.sort(rng.choice(k * len(offsets), min(n_points, k * len(offsets)), replace=False))
    tile, row = key // k, key % k
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i:05d}" for i in range(len(key))],
            "x": df["x"].to_numpy()[row] + offsets[tile, 0],
            "y": df["y"].to_numpy()[row] + offsets[tile, 1],
        }
    )
