"""Building networks: OSM PBF/XML reading, networkx/GraphML conversion and :func:`load_network`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from placeplan import _cache
from placeplan._errors import NetworkError
from placeplan.compute.network._model import FORMAT_VERSION, RoadNetwork, intern_strings
from placeplan.compute.network._speed import SpeedModel, parse_maxspeed
from placeplan.vocab import CRS

if TYPE_CHECKING:
    import networkx as nx


logger = logging.getLogger(__package__)  # the package's logger, as before the split


# =============================================================================================
# Building networks
# =============================================================================================


def build_network(
    *,
    node_osmid: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    chain_u: np.ndarray,
    chain_v: np.ndarray,
    chain_offsets: np.ndarray,
    chain_x: np.ndarray,
    chain_y: np.ndarray,
    chain_dir: np.ndarray,
    chain_length_m: np.ndarray,
    chain_highway: np.ndarray,
    chain_maxspeed_kph: np.ndarray,
    chain_osmid: np.ndarray,
    speed_model: SpeedModel,
    source: str,
    content_hash: str,
    chain_time_fwd_s: np.ndarray | None = None,
    chain_time_bwd_s: np.ndarray | None = None,
    keep_largest_scc: bool = True,
    stats: Mapping[str, Any] | None = None,
) -> RoadNetwork:
    """Assemble a RoadNetwork from chains; ``chain_dir`` is 0 both ways, 1 forward, -1 backward.

    Travel times come from ``speed_model`` unless given per chain and direction.
    """
    n_nodes_in = len(x)
    chain_dir = np.asarray(chain_dir)
    if chain_time_fwd_s is None or chain_time_bwd_s is None:
        kph = speed_model.edge_speeds_kph(chain_highway, chain_maxspeed_kph)
        t = chain_length_m / (kph / 3.6)
        chain_time_fwd_s = t if chain_time_fwd_s is None else chain_time_fwd_s
        chain_time_bwd_s = t if chain_time_bwd_s is None else chain_time_bwd_s

    fwd_c = np.flatnonzero(chain_dir >= 0)
    bwd_c = np.flatnonzero(chain_dir <= 0)
    e_chain = np.concatenate([fwd_c, bwd_c])
    e_u = np.concatenate([chain_u[fwd_c], chain_v[bwd_c]])
    e_v = np.concatenate([chain_v[fwd_c], chain_u[bwd_c]])
    e_time = np.concatenate([chain_time_fwd_s[fwd_c], chain_time_bwd_s[bwd_c]]).astype(float)
    is_bwd = np.r_[np.zeros(len(fwd_c), bool), np.ones(len(bwd_c), bool)]

    if keep_largest_scc and n_nodes_in:
        A = sp.csr_matrix((np.ones(len(e_u), np.int8), (e_u, e_v)), shape=(n_nodes_in, n_nodes_in))
        _, labels = connected_components(A, directed=True, connection="strong")
        largest = np.bincount(labels).argmax()
        keep_node = labels == largest
    else:
        keep_node = np.ones(n_nodes_in, bool)
    new_index = np.full(n_nodes_in, -1, np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    keep_chain = keep_node[chain_u] & keep_node[chain_v]
    chain_new = np.full(len(chain_u), -1, np.int64)
    chain_new[keep_chain] = np.arange(int(keep_chain.sum()))
    keep_edge = keep_chain[e_chain]

    # chain coordinates
    counts = np.diff(chain_offsets)
    kept_counts = counts[keep_chain]
    pt_mask = np.repeat(keep_chain, counts)
    offsets = np.r_[0, np.cumsum(kept_counts)].astype(np.int64)

    e_chain_k = chain_new[e_chain[keep_edge]]
    is_bwd_k = is_bwd[keep_edge]
    n_chain = int(keep_chain.sum())
    n_edge = len(e_chain_k)
    chain_fwd = np.full(n_chain, -1, np.int64)
    chain_bwd = np.full(n_chain, -1, np.int64)
    eidx = np.arange(n_edge)
    chain_fwd[e_chain_k[~is_bwd_k]] = eidx[~is_bwd_k]
    chain_bwd[e_chain_k[is_bwd_k]] = eidx[is_bwd_k]

    c_old = np.flatnonzero(keep_chain)
    hw = np.asarray(chain_highway, dtype=str)
    st = dict(stats or {})
    st.update(
        nodes_before_scc=int(n_nodes_in),
        nodes=int(keep_node.sum()),
        edges=n_edge,
        share_nodes_kept=float(keep_node.mean()) if n_nodes_in else 1.0,
    )
    i32 = np.int32
    net = RoadNetwork(
        node_osmid=np.asarray(node_osmid, np.int64)[keep_node],
        x=np.asarray(x, float)[keep_node],
        y=np.asarray(y, float)[keep_node],
        edge_u=new_index[e_u[keep_edge]].astype(i32),
        edge_v=new_index[e_v[keep_edge]].astype(i32),
        length_m=np.asarray(chain_length_m, float)[c_old][e_chain_k],
        travel_time_s=e_time[keep_edge],
        highway=intern_strings(hw[c_old][e_chain_k]),
        crs=CRS,
        source=source,
        content_hash=content_hash,
        edge_osmid=np.asarray(chain_osmid, np.int64)[c_old][e_chain_k],
        maxspeed_kph=np.asarray(chain_maxspeed_kph, float)[c_old][e_chain_k],
        edge_chain=e_chain_k.astype(i32),
        chain_u=new_index[chain_u[keep_chain]].astype(i32),
        chain_v=new_index[chain_v[keep_chain]].astype(i32),
        chain_fwd=chain_fwd.astype(i32),
        chain_bwd=chain_bwd.astype(i32),
        chain_offsets=offsets,
        chain_x=np.asarray(chain_x, float)[pt_mask],
        chain_y=np.asarray(chain_y, float)[pt_mask],
        speed_model=speed_model,
        stats=st,
    )
    if net.n_nodes < 2 or net.n_edges == 0:
        msg = f"the drivable network from {source} has no connected roads ({net.n_nodes} nodes)"
        raise NetworkError(msg)
    return net


_ONEWAY_FWD = {"yes", "true", "1"}
_ONEWAY_BWD = {"-1", "reverse"}
_ALLOW = {"yes", "designated", "permissive", "destination", "customers", "delivery"}
_DENY = {"no", "private"}


def _is_drivable(tags: Any, classes: Mapping[str, float]) -> str | None:
    hw = tags.get("highway")
    if hw not in classes or tags.get("area") == "yes":
        return None
    mv = tags.get("motor_vehicle") or tags.get("motorcar")
    if mv in _DENY:
        return None
    if tags.get("access") in _DENY and mv not in _ALLOW:
        return None
    return hw


def _direction(tags: Any, hw: str) -> int:
    ow = (tags.get("oneway") or "").lower()
    if ow in _ONEWAY_FWD:
        return 1
    if ow in _ONEWAY_BWD:
        return -1
    if ow == "no":
        return 0
    if tags.get("junction") in {"roundabout", "circular"} or hw == "motorway":
        return 1
    return 0


def _read_osm(path: Path, speed_model: SpeedModel) -> dict[str, Any]:
    """Read drivable ways from an OSM file with pyosmium into flat arrays."""
    try:
        import osmium
    except ImportError as err:  # pragma: no cover - osmium is a core dependency
        msg = 'reading OSM files needs pyosmium: pip install "osmium>=3.7"'
        raise ImportError(msg) from err

    name = path.name.lower()
    fmt = next(
        (
            f
            for s, f in (
                (".osm.pbf", "pbf"),
                (".pbf", "pbf"),
                (".osm.bz2", "osm.bz2"),
                (".osm.gz", "osm.gz"),
                (".osm.xml", "osm"),
                (".osm", "osm"),
                (".xml", "osm"),
            )
            if name.endswith(s)
        ),
        None,
    )
    if fmt is None:  # load_network only passes the suffixes above
        msg = f"cannot read OSM file `{path}`: unknown suffix"
        raise NetworkError(msg)
    classes = speed_model.class_kph
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    way_start: list[int] = []
    w_hw: list[str] = []
    w_dir: list[int] = []
    w_max: list[float] = []
    w_id: list[int] = []
    try:
        fp = (
            osmium.FileProcessor(osmium.io.File(str(path), fmt), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):  # what obj.is_way() tests, but narrows
                continue
            tags = obj.tags
            hw = _is_drivable(tags, classes)
            if hw is None:
                continue
            direction = _direction(tags, hw)
            ms = parse_maxspeed(tags.get("maxspeed"))
            run = 0
            for nd in obj.nodes:
                loc = nd.location
                if not loc.valid():  # node missing from the extract: split the way here
                    if run == 1:
                        refs.pop()
                        lons.pop()
                        lats.pop()
                        way_start.pop()
                        w_hw.pop()
                        w_dir.pop()
                        w_max.pop()
                        w_id.pop()
                    run = 0
                    continue
                if run == 0:
                    way_start.append(len(refs))
                    w_hw.append(hw)
                    w_dir.append(direction)
                    w_max.append(ms)
                    w_id.append(obj.id)
                refs.append(nd.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
                run += 1
            if run == 1:  # a single-node way is no road
                refs.pop()
                lons.pop()
                lats.pop()
                way_start.pop()
                w_hw.pop()
                w_dir.pop()
                w_max.pop()
                w_id.pop()
    except RuntimeError as err:
        msg = f"cannot read OSM file `{path}`: {err}"
        raise NetworkError(msg) from err
    return {
        "refs": np.asarray(refs, np.int64),
        "lon": np.asarray(lons, float),
        "lat": np.asarray(lats, float),
        "way_start": np.asarray(way_start, np.int64),
        "highway": np.asarray(w_hw, dtype=str),
        "dir": np.asarray(w_dir, np.int8),
        "maxspeed": np.asarray(w_max, float),
        "osmid": np.asarray(w_id, np.int64),
    }


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> Any:
    r = 6_371_009.0  # osmnx's mean earth radius
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray, crs: str = "EPSG:4326") -> tuple[Any, Any]:
    """Project coordinates from ``crs`` (default WGS84 lon/lat) to EPSG:27700 eastings/northings."""
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, CRS, always_xy=True)
    return tr.transform(lon, lat)


def _chains_from_ways(raw: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Split ways at shared nodes into chains (vectorised)."""
    refs, lon, lat, ws = raw["refs"], raw["lon"], raw["lat"], raw["way_start"]
    m = len(refs)
    if m == 0:
        msg = "the OSM file has no drivable roads (highway classes in the speed model)"
        raise NetworkError(msg)
    is_first = np.zeros(m, bool)
    is_first[ws] = True
    is_last = np.zeros(m, bool)
    is_last[np.r_[ws[1:] - 1, m - 1]] = True
    way_of = np.cumsum(is_first) - 1
    uniq, inv, counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = (counts[inv] >= 2) | is_first | is_last
    node_pos = np.flatnonzero(is_node)
    start_mask = is_node[node_pos] & ~is_last[node_pos]
    starts = node_pos[start_mask]
    ends = node_pos[np.flatnonzero(start_mask) + 1]
    seg = np.zeros(m)
    seg[:-1] = _haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[is_last] = 0.0
    cum = np.r_[0.0, np.cumsum(seg)[:-1]]
    length = cum[ends] - cum[starts]

    # graph nodes
    node_ref_ids = np.unique(inv[node_pos])
    node_index_of_uniq = np.full(len(uniq), -1, np.int64)
    node_index_of_uniq[node_ref_ids] = np.arange(len(node_ref_ids))
    X, Y = lonlat_to_bng(lon, lat)
    X = np.asarray(X)
    Y = np.asarray(Y)
    first_pos = np.zeros(len(uniq), np.int64)
    first_pos[inv[::-1]] = np.arange(m)[::-1]
    node_pos_first = first_pos[node_ref_ids]

    npts = ends - starts + 1
    offsets = np.r_[0, np.cumsum(npts)].astype(np.int64)
    pt_idx = np.repeat(starts - offsets[:-1], npts) + np.arange(offsets[-1])
    w = way_of[starts]
    return {
        "node_osmid": uniq[node_ref_ids],
        "x": X[node_pos_first],
        "y": Y[node_pos_first],
        "chain_u": node_index_of_uniq[inv[starts]],
        "chain_v": node_index_of_uniq[inv[ends]],
        "chain_offsets": offsets,
        "chain_x": X[pt_idx],
        "chain_y": Y[pt_idx],
        "chain_dir": raw["dir"][w],
        "chain_length_m": length,
        "chain_highway": raw["highway"][w],
        "chain_maxspeed_kph": raw["maxspeed"][w],
        "chain_osmid": raw["osmid"][w],
    }


def _chains_from_networkx(G: nx.MultiDiGraph) -> tuple[dict[str, Any], bool]:
    """Turn an osmnx-style graph into chains, pairing each edge with its reverse twin.

    Returns the chain arrays and whether every edge carried ``travel_time``.
    """
    import networkx as nx

    crs = str(G.graph.get("crs", "EPSG:4326"))
    nodes = list(G.nodes)
    if not nodes:
        msg = "the graph has no nodes"
        raise NetworkError(msg)
    pos = {n: i for i, n in enumerate(nodes)}
    try:
        nx_ = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ny_ = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError as err:
        msg = "graph nodes need `x` and `y` attributes (osmnx style)"
        raise NetworkError(msg) from err
    same_crs = crs.upper().replace("EPSG:", "") == "27700"
    if same_crs:
        X, Y = nx_, ny_
    else:
        X, Y = (np.asarray(a) for a in lonlat_to_bng(nx_, ny_, crs))
    try:
        osmids = np.array([int(n) for n in nodes], np.int64)
    except (TypeError, ValueError):
        osmids = np.arange(len(nodes), dtype=np.int64)

    edges = list(G.edges(keys=True, data=True))
    used = np.zeros(len(edges), bool)
    by_pair: dict[tuple[Any, Any], list[int]] = {}
    for i, (u, v, _k, _d) in enumerate(edges):
        by_pair.setdefault((u, v), []).append(i)
    all_time = all("travel_time" in d for _, _, _, d in edges)

    cu, cv, cdir, clen, chw, cmax, cosm, tf, tb = [], [], [], [], [], [], [], [], []
    coords: list[np.ndarray] = []

    def first(v: Any) -> Any:
        return v[0] if isinstance(v, list) else v

    def geom_xy(d: Mapping[str, Any], u: Any, v: Any) -> np.ndarray:
        g = d.get("geometry")
        if g is not None:
            xy = shapely.get_coordinates(g)
            if not same_crs:
                xy = np.column_stack(lonlat_to_bng(xy[:, 0], xy[:, 1], crs))
            return xy
        return np.array([[X[pos[u]], Y[pos[u]]], [X[pos[v]], Y[pos[v]]]])

    for i, (u, v, _k, d) in enumerate(edges):
        if used[i]:
            continue
        used[i] = True
        length = float(d.get("length", np.nan))
        xy = geom_xy(d, u, v)
        if np.isnan(length):
            length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        twin = -1
        if u != v:
            for j in by_pair.get((v, u), []):
                dj = edges[j][3]
                if not used[j] and abs(float(dj.get("length", length)) - length) < 0.5:
                    twin = j
                    break
        hw = str(first(d.get("highway", "road")))
        cu.append(pos[u])
        cv.append(pos[v])
        cdir.append(0 if twin >= 0 else 1)
        clen.append(length)
        chw.append(hw)
        cmax.append(parse_maxspeed(d.get("maxspeed")))
        osm = first(d.get("osmid", -1))
        try:
            cosm.append(int(osm))
        except (TypeError, ValueError):
            cosm.append(-1)
        tf.append(float(d.get("travel_time", np.nan)))
        if twin >= 0:
            used[twin] = True
            tb.append(float(edges[twin][3].get("travel_time", np.nan)))
        else:
            tb.append(np.nan)
        coords.append(xy)
    del nx
    npts = np.array([len(c) for c in coords])
    allxy = np.vstack(coords) if coords else np.zeros((0, 2))
    return (
        {
            "node_osmid": osmids,
            "x": X,
            "y": Y,
            "chain_u": np.asarray(cu, np.int64),
            "chain_v": np.asarray(cv, np.int64),
            "chain_offsets": np.r_[0, np.cumsum(npts)].astype(np.int64),
            "chain_x": allxy[:, 0],
            "chain_y": allxy[:, 1],
            "chain_dir": np.asarray(cdir, np.int8),
            "chain_length_m": np.asarray(clen, float),
            "chain_highway": np.asarray(chw, dtype=str),
            "chain_maxspeed_kph": np.asarray(cmax, float),
            "chain_osmid": np.asarray(cosm, np.int64),
            "chain_time_fwd_s": np.asarray(tf, float),
            "chain_time_bwd_s": np.asarray(tb, float),
        },
        all_time,
    )


def network_from_networkx(
    G: nx.MultiDiGraph,
    *,
    speed_model: SpeedModel | None = None,
    source: str = "networkx",
    content_hash: str | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from an osmnx-style ``MultiDiGraph``.

    If ``speed_model`` is ``None`` and every edge has ``travel_time``, those times are kept;
    otherwise times come from the speed model (default :class:`SpeedModel`) applied to the
    edges' ``highway`` and ``maxspeed``. Coordinates are projected to EPSG:27700 from
    ``G.graph["crs"]`` (EPSG:4326 if missing). Only the largest strongly connected component is
    kept. Class filtering is *not* applied (the graph is taken as the drivable network).
    """
    chains, all_time = _chains_from_networkx(G)
    keep_times = speed_model is None and all_time
    model = speed_model or SpeedModel()
    if not keep_times:
        chains.pop("chain_time_fwd_s")
        chains.pop("chain_time_bwd_s")
    h = content_hash or _cache.cache_key(
        FORMAT_VERSION,
        "networkx",
        chains["node_osmid"],
        chains["chain_u"],
        chains["chain_v"],
        chains["chain_length_m"],
        chains.get("chain_time_fwd_s"),
        model.to_dict(),
    )
    return build_network(
        **chains,
        speed_model=model,
        source=source,
        content_hash=h,
        stats={"times_from": "graph travel_time" if keep_times else "speed model"},
    )


_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml", ".xml", ".graphml")


def load_network(
    path: str | Path,
    *,
    speed_model: SpeedModel | None = None,
    use_cache: bool | None = None,
) -> RoadNetwork:
    """Load the drivable road network from an OSM PBF, OSM XML or GraphML file.

    Parameters
    ----------
    path
        ``.osm.pbf``/``.pbf``, ``.osm``/``.osm.xml``/``.osm.bz2``/``.osm.gz`` (read with pyosmium,
        filtered to drivable roads) or ``.graphml`` (osmnx; taken as already drivable, see
        :func:`network_from_networkx` for how its travel times are used).
    speed_model
        Speed model; default :class:`SpeedModel`.
    use_cache
        Read/write the ``.npz`` cache keyed by the file's content and the speed model; default
        ``placeplan.settings.use_cache``.

    Returns
    -------
    RoadNetwork
        Largest strongly connected component, EPSG:27700.
    """
    t0 = time.perf_counter()
    path = Path(path)
    name = path.name.lower()
    if not any(name.endswith(s) for s in _SUFFIXES):
        msg = (
            f"`path` {path} has an unsupported suffix; expected one of {', '.join(_SUFFIXES)} "
            "(OSM PBF, OSM XML or GraphML)"
        )
        raise NetworkError(msg)
    if not path.is_file():
        msg = f"network file `{path}` does not exist"
        raise NetworkError(msg)
    graphml = name.endswith(".graphml")
    explicit_model = speed_model is not None
    model = speed_model or SpeedModel()
    key = _cache.cache_key(
        FORMAT_VERSION, path, model.to_dict(), bool(graphml and not explicit_model)
    )
    use = _cache.resolve_use_cache(use_cache)
    cpath = _cache.cache_path("network", key, ".npz") if use else None
    if cpath is not None:
        cached = _cache.read_entry(cpath, RoadNetwork.load_npz, kind="network")
        if cached is not None:
            net = cached
            _cache.log_hit("network", cpath)
            net = _with_source(net, str(path))
            logger.info(
                "load_network: %s nodes, %s edges from cache, %.2f s",
                f"{net.n_nodes:,}",
                f"{net.n_edges:,}",
                time.perf_counter() - t0,
            )
            return net
    if cpath is not None:
        _cache.log_miss("network", cpath)
    if graphml:
        import osmnx as ox

        try:
            G = ox.load_graphml(path)
        except Exception as err:
            msg = f"cannot read GraphML `{path}`: {err}"
            raise NetworkError(msg) from err
        net = network_from_networkx(G, speed_model=speed_model, source=str(path), content_hash=key)
    else:
        raw = _read_osm(path, model)
        chains = _chains_from_ways(raw)
        net = build_network(
            **chains,
            speed_model=model,
            source=str(path),
            content_hash=key,
            stats={"ways": len(raw["way_start"])},
        )
    if cpath is not None:
        try:
            _cache.write_entry(cpath, net.save_npz)
        except OSError as err:
            logger.warning("could not write network cache: %s", err)
    logger.info(
        "load_network: %s nodes, %s edges (largest strongly connected part, %.2f%% of nodes), "
        "%.2f s",
        f"{net.n_nodes:,}",
        f"{net.n_edges:,}",
        100 * net.stats.get("share_nodes_kept", 1.0),
        time.perf_counter() - t0,
    )
    return net


def _with_source(net: RoadNetwork, source: str) -> RoadNetwork:
    if net.source == source:
        return net
    d = {k: getattr(net, k) for k in net.__dataclass_fields__}
    d["source"] = source
    return RoadNetwork(**d)
