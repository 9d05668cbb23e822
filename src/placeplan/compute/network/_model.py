"""The :class:`RoadNetwork` arrays: basic facts, networkx conversion and ``.npz`` persistence."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely

from placeplan._errors import NetworkError
from placeplan.compute.network._routing import build_routing
from placeplan.compute.network._speed import SpeedModel

if TYPE_CHECKING:
    import networkx as nx

    from placeplan.compute.network._routing import Routing


FORMAT_VERSION = "network-v1"


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A drivable road network as arrays in EPSG:27700 (largest strongly connected component).

    Nodes are indexed ``0..n_nodes-1``; directed edge ``i`` runs ``edge_u[i] -> edge_v[i]``.
    Edge geometries are stored once per *chain* (a polyline shared by an edge and its reverse):
    ``chain_x/chain_y[chain_offsets[c]:chain_offsets[c+1]]`` runs from ``chain_u[c]`` to
    ``chain_v[c]``; ``chain_fwd[c]``/``chain_bwd[c]`` is the edge index travelling along/against
    it, or -1. ``edge_chain`` maps edges back to chains.
    """

    node_osmid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    highway: np.ndarray
    crs: str
    source: str
    content_hash: str
    edge_osmid: np.ndarray
    maxspeed_kph: np.ndarray
    edge_chain: np.ndarray
    chain_u: np.ndarray
    chain_v: np.ndarray
    chain_fwd: np.ndarray
    chain_bwd: np.ndarray
    chain_offsets: np.ndarray
    chain_x: np.ndarray
    chain_y: np.ndarray
    speed_model: SpeedModel = field(default_factory=SpeedModel)
    stats: Mapping[str, Any] = field(default_factory=dict)

    # -- basic facts -------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, crs={self.crs!r}, "
            f"source={self.source!r})"
        )

    @cached_property
    def chain_lines(self) -> np.ndarray:
        """Shapely LineStrings, one per chain (EPSG:27700)."""
        coords = np.column_stack([self.chain_x, self.chain_y])
        counts = np.diff(self.chain_offsets)
        idx = np.repeat(np.arange(len(counts)), counts)
        # with `indices` the result is always an array (the stubs cannot see the dimension)
        return cast("np.ndarray", shapely.linestrings(coords, indices=idx))

    @cached_property
    def _chain_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.chain_lines)

    @cached_property
    def _routing(self) -> Routing:
        return build_routing(self)

    # -- conversion --------------------------------------------------------------------------
    def to_networkx(self, *, geometry: bool = True) -> nx.MultiDiGraph:
        """Return an osmnx-style ``MultiDiGraph`` (node keys are ``node_osmid``).

        Nodes carry ``x``, ``y``; edges ``osmid``, ``highway``, ``oneway``, ``reversed``,
        ``length`` (m), ``speed_kph``, ``travel_time`` (s), ``maxspeed`` (km/h, when tagged) and
        ``geometry`` (LineString, if ``geometry``); ``G.graph["crs"]`` is ``"EPSG:27700"``.
        The result is accepted by osmnx (``graph_to_gdfs``, ``save_graphml``, routing).
        """
        import networkx as nx

        G: nx.MultiDiGraph[int] = nx.MultiDiGraph(
            crs=self.crs, simplified=True, created_with="placeplan"
        )
        ids = self.node_osmid.tolist()
        G.add_nodes_from(
            (nid, {"x": float(xx), "y": float(yy), "osmid": nid})
            for nid, xx, yy in zip(ids, self.x.tolist(), self.y.tolist(), strict=True)
        )
        has_bwd = self.chain_bwd[self.edge_chain] >= 0
        has_fwd = self.chain_fwd[self.edge_chain] >= 0
        rev = self.chain_bwd[self.edge_chain] == np.arange(self.n_edges)
        oneway = ~(has_fwd & has_bwd)
        lines = self.chain_lines if geometry else None
        speed = self.length_m / np.maximum(self.travel_time_s, 1e-9) * 3.6
        edges = []
        for i in range(self.n_edges):
            attrs: dict[str, Any] = {
                "osmid": int(self.edge_osmid[i]),
                "highway": str(self.highway[i]),
                "oneway": bool(oneway[i]),
                "reversed": bool(rev[i]),
                "length": float(self.length_m[i]),
                "speed_kph": float(speed[i]),
                "travel_time": float(self.travel_time_s[i]),
            }
            if not np.isnan(self.maxspeed_kph[i]):
                attrs["maxspeed"] = f"{self.maxspeed_kph[i]:g}"
            if lines is not None:
                line = lines[self.edge_chain[i]]
                attrs["geometry"] = line.reverse() if rev[i] else line
            edges.append((ids[self.edge_u[i]], ids[self.edge_v[i]], attrs))
        G.add_edges_from(edges)
        return G

    def nodes_xy(self) -> np.ndarray:
        """Return an ``(n_nodes, 2)`` array of node coordinates."""
        return np.column_stack([self.x, self.y])

    # -- persistence -------------------------------------------------------------------------
    _ARRAYS = (
        "node_osmid",
        "x",
        "y",
        "edge_u",
        "edge_v",
        "length_m",
        "travel_time_s",
        "highway",
        "edge_osmid",
        "maxspeed_kph",
        "edge_chain",
        "chain_u",
        "chain_v",
        "chain_fwd",
        "chain_bwd",
        "chain_offsets",
        "chain_x",
        "chain_y",
    )

    def save_npz(self, path: str | Path) -> None:
        """Write the network to an uncompressed ``.npz`` (fast to reload)."""
        meta = {
            "crs": self.crs,
            "source": self.source,
            "content_hash": self.content_hash,
            "speed_model": self.speed_model.to_dict(),
            "stats": dict(self.stats),
            "format": FORMAT_VERSION,
        }
        arrays = {k: getattr(self, k) for k in self._ARRAYS}
        arrays["highway"] = np.asarray(self.highway, dtype=str)
        np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load_npz(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`save_npz`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            if meta.get("format") != FORMAT_VERSION:
                msg = f"`{path}` is not a {FORMAT_VERSION} network file"
                raise NetworkError(msg)
            arrays = {k: z[k] for k in cls._ARRAYS}
        arrays["highway"] = intern_strings(arrays["highway"])
        return cls(
            **arrays,
            crs=meta["crs"],
            source=meta["source"],
            content_hash=meta["content_hash"],
            speed_model=SpeedModel.from_dict(meta["speed_model"]),
            stats=meta["stats"],
        )


def intern_strings(values: np.ndarray) -> np.ndarray:
    """Object array of shared str objects (one per distinct value): 8 bytes per edge."""
    uniq, inv = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return np.array([str(u) for u in uniq], dtype=object)[inv]
