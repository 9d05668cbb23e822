"""Road-time kernels from other libraries, plugged into placeplan.compute.matrix._compute
for comparison.

Each kernel gets the same snapped end points as placeplan (candidate nodes and float seconds at
both ends of each origin/destination) and returns the road time of shape (n_orig, n_dest); the
shared tail (same-edge pairs, access legs, allowance) is placeplan's, so results are comparable
pair by pair. Comparators compute time only (no route length), which favours them slightly.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np

from placeplan.compute.network import RoadNetwork


def _min_edges(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, v, t = net.edge_u.astype(np.int64), net.edge_v.astype(np.int64), net.travel_time_s
    order = np.lexsort((t, v, u))
    first = np.r_[True, (u[order][1:] != u[order][:-1]) | (v[order][1:] != v[order][:-1])]
    sel = order[first]
    return u[sel], v[sel], t[sel]


def _combine(D: np.ndarray, cand: np.ndarray, o_end) -> np.ndarray:
    oa, ota, ob, otb = o_end
    pa, pb = np.searchsorted(cand, oa), np.searchsorted(cand, ob)
    return np.fmin(D[:, pa] + ota, D[:, pb] + otb).T


class NetworkXKernel:
    """networkx single-source Dijkstra from each destination on the reversed graph."""

    def __init__(self, net: RoadNetwork):
        t0 = time.perf_counter()
        u, v, t = _min_edges(net)
        G = nx.DiGraph()
        G.add_nodes_from(range(net.n_nodes))
        G.add_weighted_edges_from(zip(v.tolist(), u.tolist(), t.tolist(), strict=True))
        self.G = G
        self.build_s = time.perf_counter() - t0
        self.road = None

    def __call__(self, net, o_end, d_end, cutoff_s):
        G = self.G.copy()
        n = net.n_nodes
        da, dta, db, dtb = d_end
        for k in range(len(da)):
            for node, w in ((da[k], dta[k]), (db[k], dtb[k])):
                if np.isfinite(w) and not (
                    G.has_edge(n + k, int(node)) and G[n + k][int(node)]["weight"] <= w
                ):
                    G.add_edge(n + k, int(node), weight=float(w))
        cand = np.unique(np.r_[o_end[0], o_end[2]])
        D = np.full((len(da), len(cand)), np.inf)
        for k in range(len(da)):
            dist = nx.single_source_dijkstra_path_length(G, n + k, cutoff=cutoff_s)
            D[k] = [dist.get(int(c), np.inf) for c in cand]
        road = _combine(D, cand, o_end)
        self.road = road.copy()  # placeplan's tail adds access legs in place to what we return
        return road, np.full_like(road, np.nan)


class IGraphKernel:
    """igraph ``distances`` from all destinations at once on the reversed graph."""

    def __init__(self, net: RoadNetwork):
        import igraph as ig

        t0 = time.perf_counter()
        self.u, self.v, self.t = _min_edges(net)
        self.ig = ig
        self.build_s = time.perf_counter() - t0

    def __call__(self, net, o_end, d_end, cutoff_s):
        n = net.n_nodes
        da, dta, db, dtb = d_end
        k = np.arange(len(da))
        vu = np.r_[n + k, n + k]
        vv = np.r_[da, db]
        vw = np.r_[dta, dtb]
        ok = np.isfinite(vw)  # igraph keeps parallel edges and takes the shorter: no dedup needed
        src = np.r_[self.v, vu[ok]]
        dst = np.r_[self.u, vv[ok]]
        w = np.r_[self.t, vw[ok]]
        g = self.ig.Graph(n=n + len(da), edges=np.column_stack([src, dst]).tolist(), directed=True)
        cand = np.unique(np.r_[o_end[0], o_end[2]])
        D = np.array(
            g.distances(
                source=(n + k).tolist(), target=cand.tolist(), weights=w.tolist(), mode="out"
            )
        )
        road = _combine(D, cand, o_end)
        return road, np.full_like(road, np.nan)


def naive_pairs(net: RoadNetwork, o_end, d_end, pairs: np.ndarray) -> tuple[np.ndarray, float]:
    """networkx shortest-path length per (origin, destination) pair, forward graph with a virtual
    node at each end. Returns road seconds per pair and the time taken (graph build excluded)."""
    u, v, t = _min_edges(net)
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), t.tolist(), strict=True))
    oa, ota, ob, otb = o_end
    da, dta, db, dtb = d_end
    out = np.empty(len(pairs))
    t0 = time.perf_counter()
    for i, (o, d) in enumerate(pairs):
        H = G  # one graph: virtual end nodes are added and removed per pair
        so, sd = ("o", int(o)), ("d", int(d))
        for node, w in ((oa[o], ota[o]), (ob[o], otb[o])):
            if np.isfinite(w) and not (
                H.has_edge(so, int(node)) and H[so][int(node)]["weight"] <= w
            ):
                H.add_edge(so, int(node), weight=float(w))
        for node, w in ((da[d], dta[d]), (db[d], dtb[d])):
            if np.isfinite(w) and not (
                H.has_edge(int(node), sd) and H[int(node)][sd]["weight"] <= w
            ):
                H.add_edge(int(node), sd, weight=float(w))
        try:
            out[i] = nx.dijkstra_path_length(H, so, sd)
        except nx.NetworkXNoPath:
            out[i] = np.inf
        H.remove_node(so)
        H.remove_node(sd)
    return out, time.perf_counter() - t0
