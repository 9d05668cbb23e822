"""Public synthetic builders for tests and examples: grid road networks with known answers.

On an ``n × n`` grid with spacing ``s`` metres and speed ``v`` km/h, the fastest route between
opposite corners is ``2 (n - 1) s`` metres long and takes ``2 (n - 1) s / (v / 3.6)`` seconds,
which makes exact oracles for routing tests.

>>> net = grid_network(3, spacing_m=100, speed_kph=36)
>>> net.n_nodes, net.n_edges
(9, 24)
>>> float(net.travel_time_s[0])  # 100 m at 10 m/s
10.0
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placeplan import _cache
from placeplan.compute.network import RoadNetwork, SpeedModel
from placeplan.compute.network._osm import build_network
from placeplan.vocab import CRS

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["grid_graph", "grid_network", "grid_points"]

_ORIGIN = (450_000.0, 90_000.0)  # somewhere on the Isle of Wight, EPSG:27700


def _grid_chains(
    n: int,
    spacing_m: float,
    speed_kph: float,
    origin: tuple[float, float],
    oneway_rows: Iterable[int],
    highway: str,
) -> dict[str, Any]:
    if n < 2:
        msg = f"`n` must be at least 2, got {n}"
        raise ValueError(msg)
    if not (spacing_m > 0 and speed_kph > 0):
        msg = "`spacing_m` and `speed_kph` must be > 0"
        raise ValueError(msg)
    idx = np.arange(n * n).reshape(n, n)  # idx[row, col]; x = col, y = row
    col, row = np.meshgrid(np.arange(n), np.arange(n))
    x = origin[0] + col.ravel() * spacing_m
    y = origin[1] + row.ravel() * spacing_m
    hu, hv = idx[:, :-1].ravel(), idx[:, 1:].ravel()  # horizontal, west -> east
    vu, vv = idx[:-1, :].ravel(), idx[1:, :].ravel()  # vertical, south -> north
    u = np.r_[hu, vu]
    v = np.r_[hv, vv]
    one = set(oneway_rows)
    hrow = np.repeat(np.arange(n), n - 1)
    direction = np.r_[np.where(np.isin(hrow, list(one)), 1, 0), np.zeros(len(vu), int)]
    m = len(u)
    t = np.full(m, spacing_m / (speed_kph / 3.6))
    return {
        "node_osmid": np.arange(n * n, dtype=np.int64),
        "x": x.astype(float),
        "y": y.astype(float),
        "chain_u": u,
        "chain_v": v,
        "chain_offsets": np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        "chain_x": np.column_stack([x[u], x[v]]).ravel(),
        "chain_y": np.column_stack([y[u], y[v]]).ravel(),
        "chain_dir": direction.astype(np.int8),
        "chain_length_m": np.full(m, float(spacing_m)),
        "chain_highway": np.full(m, highway),
        "chain_maxspeed_kph": np.full(m, np.nan),
        "chain_osmid": np.arange(m, dtype=np.int64) + 1,
        "chain_time_fwd_s": t,
        "chain_time_bwd_s": t.copy(),
    }


def grid_network(
    n: int,
    spacing_m: float = 100.0,
    speed_kph: float = 30.0,
    *,
    origin: tuple[float, float] = _ORIGIN,
    oneway_rows: Iterable[int] = (),
    highway: str = "residential",
    speed_model: SpeedModel | None = None,
) -> RoadNetwork:
    """Return an ``n × n`` grid :class:`~placeplan.compute.network.RoadNetwork` with uniform speed.

    Node ``i`` is at column ``i % n``, row ``i // n``: ``x = origin[0] + col * spacing_m``,
    ``y = origin[1] + row * spacing_m`` (EPSG:27700). Every road is two-way except the
    horizontal roads in ``oneway_rows``, which run west → east only. Travel times are exactly
    ``spacing_m / (speed_kph / 3.6)`` per edge (the speed model is only attached, not applied).

    >>> net = grid_network(4, spacing_m=100, speed_kph=36)
    >>> (net.n_nodes, float(net.x.max() - net.x.min()))
    (16, 300.0)
    """
    chains = _grid_chains(n, spacing_m, speed_kph, origin, oneway_rows, highway)
    key = _cache.cache_key(
        "grid", n, float(spacing_m), float(speed_kph), origin, sorted(set(oneway_rows)), highway
    )
    return build_network(
        **chains,
        speed_model=speed_model or SpeedModel(),
        source=f"grid_network(n={n})",
        content_hash=key,
        keep_largest_scc=True,
    )


def grid_graph(
    n: int,
    spacing_m: float = 100.0,
    speed_kph: float = 30.0,
    crs: str = CRS,
    *,
    origin: tuple[float, float] = _ORIGIN,
    oneway_rows: Iterable[int] = (),
) -> nx.MultiDiGraph:
    """Return an osmnx-style ``MultiDiGraph`` grid (see :func:`grid_network`).

    Nodes have ``x``/``y``; edges ``osmid``, ``highway``, ``oneway``, ``reversed``, ``length``,
    ``speed_kph``, ``travel_time`` and ``geometry``; ``G.graph["crs"] == crs``. Only
    ``"EPSG:27700"`` coordinates are generated; another ``crs`` reprojects them.

    >>> G = grid_graph(3, spacing_m=100, speed_kph=36)
    >>> G.number_of_nodes(), G.number_of_edges(), G.graph["crs"]
    (9, 24, 'EPSG:27700')
    >>> sorted({d["travel_time"] for _, _, d in G.edges(data=True)})
    [10.0]
    """
    G = grid_network(n, spacing_m, speed_kph, origin=origin, oneway_rows=oneway_rows).to_networkx()
    if crs != CRS:
        import osmnx as ox

        G = ox.project_graph(G, to_crs=crs)
    return G


def grid_points(
    n_points: int,
    net: RoadNetwork,
    *,
    seed: int = 0,
    prefix: str = "P",
) -> pd.DataFrame:
    """Return ``n_points`` random points (``id``, ``x``, ``y``) inside the network's bounding box.

    >>> pts = grid_points(5, grid_network(3), seed=1)
    >>> list(pts.columns), len(pts)
    (['id', 'x', 'y'], 5)
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(net.x.min(), net.x.max(), n_points)
    y = rng.uniform(net.y.min(), net.y.max(), n_points)
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n_points)], "x": x, "y": y})
