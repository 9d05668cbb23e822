"""Origin × destination drive time and distance (scipy csgraph), long format, cached.

How a journey is timed
----------------------
1. Each origin and destination is snapped to the nearest point on a drivable edge
   (:func:`placeplan.compute.network.snap_points`). The straight-line *access leg* between the
   point and
   its snapped position is timed at the speed model's ``access_speed_kph``.
2. From the snapped position the vehicle may leave along the edge in any permitted direction
   (one-way edges only forwards), paying the part of the edge's travel time it covers; likewise on
   arrival. Two points on the same edge may also drive directly along it, and two points closer to
   each other than to the road are joined by a straight access leg (so a point to itself is 0).
3. The road part is the fastest route found by Dijkstra (``scipy.sparse.csgraph.dijkstra``),
   one search per destination on the *reversed* graph, with a virtual source node for the
   destination's snapped position. A cut-off (``max_travel_time_min``) becomes Dijkstra's
   ``limit``.
4. Distance is the length of that fastest route. Both are carried by the same search: each edge
   weight is the integer ``time_ms * 2**L + length_dm`` held exactly in a float64, so the minimum
   is the fastest route (ties: the shorter) and its length is read from the low bits. Times are
   therefore rounded to the millisecond per edge (≤ 0.5 ms error per edge, far below the minute
   precision reported); see :func:`placeplan.compute.network._routing.build_routing`.
5. ``travel_time_min`` = access legs + road time + the fixed per-journey allowance;
   ``distance_m`` = access legs + road length.

Points whose snap distance exceeds ``max_snap_m`` keep their rows with NaN time and distance, and
a :class:`~placeplan.SnapWarning` gives their count. Pairs beyond the cut-off are NaN.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from placeplan import _cache
from placeplan._errors import SchemaValidationError, UnreachableWarning
from placeplan.compute.network import RoadNetwork
from placeplan.compute.network._routing import (
    end_offsets,
    point_arrays,
    snap_arrays,
    warn_too_far,
)
from placeplan.compute.points import as_xy
from placeplan.settings import settings
from placeplan.vocab import MILES_PER_KM

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MATRIX_COLUMNS", "MILES_PER_KM", "travel_matrix"]

logger = logging.getLogger(__name__)

MATRIX_COLUMNS = [
    "origin_id",
    "destination_id",
    "travel_time_min",
    "distance_m",
    "distance_km",
    "distance_miles",
    "origin_snap_m",
    "destination_snap_m",
]
_MATRIX_VERSION = "matrix-v2"
_BATCH = 8


def travel_matrix(
    net: RoadNetwork,
    df_origins: pd.DataFrame,
    df_destinations: pd.DataFrame,
    *,
    id_col: str = "id",
    x_col: str = "x",
    y_col: str = "y",
    max_travel_time_min: float | None = None,
    fixed_allowance_min: float | None = None,
    use_cache: bool | None = None,
    max_snap_m: float = 1000.0,
    dtype: str = "float32",
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Travel time and distance of the fastest drive from every origin to every destination.

    Parameters
    ----------
    net
        Road network (:func:`placeplan.compute.network.load_network`).
    df_origins, df_destinations
        Points with ``id_col`` (unique) and ``x_col``/``y_col`` in EPSG:27700 metres, or
        GeoDataFrames of points (any CRS) with an ``id_col`` column. Origins are postcodes or
        aggregated demand points, never pupils.
    max_travel_time_min
        Cut-off in minutes (total journey time); longer pairs get NaN. ``None``: no cut-off.
    fixed_allowance_min
        Minutes added once per journey (kerbside/loading). ``None``: the network speed model's
        ``fixed_allowance_min`` (default 0).
    use_cache
        Read/write the cache keyed by the network, the points and the parameters; default
        ``placeplan.settings.use_cache``. Entries hold the value arrays only (no ids: the origin
        ids, postcodes, are hashed into the key and re-attached by position) and are checksummed;
        a damaged entry is dropped with a warning and recomputed.
    max_snap_m
        Points farther than this from a drivable road get NaN rows and a ``SnapWarning``.
    dtype
        Float dtype of the value columns. ``"float32"`` (default) keeps a county-scale matrix
        (15 M pairs) well under 1 GiB and is exact to < 1 ms on a 3-hour journey and < 0.05 m on
        500 km; use ``"float64"`` if you prefer.
    n_jobs
        Worker processes for the shortest-path searches. ``None``: all CPU cores when the job is
        large (destinations × nodes ≥ 20 M), else 1. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Long format, origin-major, unique on (``origin_id``, ``destination_id``): ``origin_id``,
        ``destination_id`` (categoricals of the string ids), ``travel_time_min``, ``distance_m``,
        ``distance_km``, ``distance_miles``, ``origin_snap_m``, ``destination_snap_m``.
    """
    t0 = time.perf_counter()
    cols = {"df_origins": (id_col, x_col, y_col), "df_destinations": (id_col, x_col, y_col)}
    if isinstance(df_origins, gpd.GeoDataFrame):
        df_origins, cols["df_origins"] = as_xy(df_origins, id_col), ("id", "x", "y")
    if isinstance(df_destinations, gpd.GeoDataFrame):
        df_destinations, cols["df_destinations"] = as_xy(df_destinations, id_col), ("id", "x", "y")
    o_ids, ox_, oy_ = point_arrays(df_origins, *cols["df_origins"], "df_origins")
    d_ids, dx_, dy_ = point_arrays(df_destinations, *cols["df_destinations"], "df_destinations")
    for ids, what in ((o_ids, "df_origins"), (d_ids, "df_destinations")):
        n_dup = len(ids) - len(pd.unique(ids))
        if n_dup:
            msg = f"`{what}` has {n_dup} duplicate values in {id_col!r}; ids must be unique"
            raise SchemaValidationError(msg)
    if max_travel_time_min is not None and not max_travel_time_min > 0:
        msg = f"`max_travel_time_min` must be > 0 or None, got {max_travel_time_min!r}"
        raise ValueError(msg)
    model = net.speed_model
    allowance = model.fixed_allowance_min if fixed_allowance_min is None else fixed_allowance_min
    if not allowance >= 0:
        msg = f"`fixed_allowance_min` must be >= 0, got {fixed_allowance_min!r}"
        raise ValueError(msg)
    if dtype not in {"float32", "float64"}:
        msg = f"`dtype` must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)

    use = _cache.resolve_use_cache(use_cache)
    cpath = None
    if use:
        key = _cache.cache_key(
            _MATRIX_VERSION,
            net.content_hash,
            model.to_dict(),
            o_ids,
            ox_,
            oy_,
            d_ids,
            dx_,
            dy_,
            max_travel_time_min,
            float(allowance),
            float(max_snap_m),
            dtype,
        )
        # Entries hold the value arrays only, never the origin ids (postcodes): the ids are
        # hashed into the key and re-attached here by position.
        _cache.purge_legacy("matrix", "*.parquet")  # older entries held origin ids in clear
        cpath = _cache.cache_path("matrix", key, ".npz")
        shape = (len(o_ids), len(d_ids))
        arrays = _cache.read_entry(
            cpath, lambda p: _read_matrix_entry(p, shape, dtype), kind="matrix"
        )
        if arrays is not None:
            _cache.log_hit("matrix", cpath)
            out = _matrix_frame(o_ids, d_ids, *arrays, dtype=dtype)
            _replay_warnings(out, max_snap_m, len(o_ids), len(d_ids))
            return out
        _cache.log_miss("matrix", cpath)

    time_s, dist_m, o_snap, d_snap = _compute(
        net,
        ox_,
        oy_,
        dx_,
        dy_,
        max_travel_time_min=max_travel_time_min,
        allowance_s=60.0 * allowance,
        max_snap_m=max_snap_m,
        dtype=dtype,
        n_jobs=n_jobs,
    )
    ft = np.dtype(dtype)
    # (n_o, n_d) origin-major arrays: convert in place and hand them over without copies
    time_s /= ft.type(60.0)
    if cpath is not None:
        try:
            _cache.write_entry(
                cpath,
                lambda p: np.savez(
                    p,
                    travel_time_min=time_s,
                    distance_m=dist_m,
                    origin_snap_m=o_snap.astype(ft),
                    destination_snap_m=d_snap.astype(ft),
                ),
            )
        except OSError as err:
            logger.warning("could not write matrix cache: %s", err)
    out = _matrix_frame(o_ids, d_ids, time_s, dist_m, o_snap, d_snap, dtype=dtype)
    tmin = out["travel_time_min"].to_numpy()
    n_nan = int(np.isnan(tmin).sum())
    logger.info(
        "travel_matrix: %s origins x %s destinations, %.1f%% without a time%s, %.2f s",
        f"{len(o_ids):,}",
        f"{len(d_ids):,}",
        100.0 * n_nan / max(len(out), 1),
        "" if max_travel_time_min is None else f" within {max_travel_time_min:g} min",
        time.perf_counter() - t0,
    )
    return out


def _read_matrix_entry(
    path: Path, shape: tuple[int, int], dtype: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays of a matrix cache entry; raises if any has the wrong shape or dtype."""
    with np.load(path, allow_pickle=False) as z:
        out = (
            z["travel_time_min"],
            z["distance_m"],
            z["origin_snap_m"],
            z["destination_snap_m"],
        )
    want = (shape, shape, (shape[0],), (shape[1],))
    if [a.shape for a in out] != list(want) or any(a.dtype != np.dtype(dtype) for a in out):
        msg = f"matrix cache entry {path.name} does not match the request"
        raise ValueError(msg)
    return out


def _matrix_frame(
    o_ids: np.ndarray,
    d_ids: np.ndarray,
    tmin2d: np.ndarray,
    dist2d: np.ndarray,
    o_snap: np.ndarray,
    d_snap: np.ndarray,
    *,
    dtype: str,
) -> pd.DataFrame:
    """The long-format matrix from (n_o, n_d) minute and metre arrays and the ids by position."""
    n_o, n_d = len(o_ids), len(d_ids)
    ft = np.dtype(dtype)
    tmin = tmin2d.ravel()
    dm = dist2d.ravel()
    return pd.DataFrame(
        {
            "origin_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n_o, dtype=np.int32), n_d),
                categories=pd.Index(o_ids, dtype="str"),
            ),
            "destination_id": pd.Categorical.from_codes(
                np.tile(np.arange(n_d, dtype=np.int32), n_o),
                categories=pd.Index(d_ids, dtype="str"),
            ),
            "travel_time_min": tmin,
            "distance_m": dm,
            "distance_km": dm / ft.type(1000.0),
            "distance_miles": dm * ft.type(MILES_PER_KM / 1000.0),
            "origin_snap_m": np.repeat(o_snap.astype(ft), n_d),
            "destination_snap_m": np.tile(d_snap.astype(ft), n_o),
        },
        copy=False,
    )


def _replay_warnings(out: pd.DataFrame, max_snap_m: float, n_o: int, n_d: int) -> None:
    o = out.drop_duplicates("origin_id")["origin_snap_m"].to_numpy()
    d = out.drop_duplicates("destination_id")["destination_snap_m"].to_numpy()
    warn_too_far(int((o > max_snap_m).sum()), n_o, max_snap_m, "origins", stacklevel=4)
    warn_too_far(int((d > max_snap_m).sum()), n_d, max_snap_m, "destinations", stacklevel=4)


_STATE: dict[str, Any] = {}


def _init_state(state: dict[str, Any]) -> None:
    _STATE.clear()
    _STATE.update(state)


def _solve_batch(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dijkstra from a batch of destination virtual nodes; returns road (time_s, length_m) for
    every origin as ``(len(batch), n_o)`` arrays. Uses the module state (set in workers too)."""
    st = _STATE
    S, tu, lu, n = st["S"], st["tu"], st["lu"], st["n"]
    limit = np.inf
    if st["cutoff_s"] is not None:
        road_s = st["cutoff_s"] - st["allowance_s"] - float(st["d_access_s"][batch].min())
        if road_s < 0:
            nan = np.full((len(batch), st["n_o"]), np.nan, st["dtype"])
            return batch, nan, nan.copy()
        limit = (np.floor(road_s / tu) + 2) * S
    D = dijkstra(st["G"], directed=True, indices=n + batch, limit=limit)[:, st["cand"]]
    D -= S
    enc = np.fmin(D[:, st["pos_a"]] + st["oea"], D[:, st["pos_b"]] + st["oeb"])
    with np.errstate(invalid="ignore"):
        t_units = np.floor(enc / S)
        l_units = enc - t_units * S
    return batch, (t_units * tu).astype(st["dtype"]), (l_units * lu).astype(st["dtype"])


def _compute(
    net: RoadNetwork,
    ox_: np.ndarray,
    oy_: np.ndarray,
    dx_: np.ndarray,
    dy_: np.ndarray,
    *,
    max_travel_time_min: float | None,
    allowance_s: float,
    max_snap_m: float,
    dtype: str = "float64",
    n_jobs: int | None = 1,
    road: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return full-journey ``(time_s, distance_m)`` arrays of shape (n_orig, n_dest) and the
    origin and destination snap distances.

    ``road`` replaces the scipy search (benchmarks plug networkx/igraph in here): it is called as
    ``road(net, (oa, ota, ob, otb), (da, dta, db, dtb), cutoff_road_s)`` with the candidate nodes
    and float seconds at each end, and returns road ``(time_s, length_m)`` of shape
    (n_orig, n_dest).
    """
    from tqdm.auto import tqdm

    v_access = net.speed_model.access_speed_kph / 3.6
    ft = np.dtype(dtype)

    so = snap_arrays(net, ox_, oy_)
    sd = snap_arrays(net, dx_, dy_)
    o_bad = so["snap_m"] > max_snap_m
    d_bad = sd["snap_m"] > max_snap_m
    warn_too_far(int(o_bad.sum()), len(ox_), max_snap_m, "origins", stacklevel=4)
    warn_too_far(int(d_bad.sum()), len(dx_), max_snap_m, "destinations", stacklevel=4)
    o_access_s = so["snap_m"] / v_access
    d_access_s = sd["snap_m"] / v_access
    cutoff_s = None if max_travel_time_min is None else 60.0 * max_travel_time_min

    if road is not None:
        o_end = end_offsets(net, so["chain"], so["pos"], leaving=True)
        d_end = end_offsets(net, sd["chain"], sd["pos"], leaving=False)
        rt, rl = road(net, o_end, d_end, None if cutoff_s is None else cutoff_s - allowance_s)
        time_s, dist_m = np.asarray(rt, ft), np.asarray(rl, ft)
        time_s[:, d_bad] = np.nan
    else:
        time_s, dist_m = _scipy_road(
            net, so, sd, d_bad, d_access_s, cutoff_s, allowance_s, ft, n_jobs, tqdm
        )

    _same_chain(net, so, sd, time_s, dist_m)
    time_s += (o_access_s[:, None] + d_access_s[None, :] + allowance_s).astype(ft)
    dist_m += (so["snap_m"][:, None] + sd["snap_m"][None, :]).astype(ft)
    _direct_overrides(so, sd, ox_, oy_, dx_, dy_, time_s, dist_m, v_access, allowance_s, max_snap_m)
    time_s[o_bad, :] = np.nan
    time_s[:, d_bad] = np.nan
    unreachable = ~np.isfinite(time_s)
    n_unr = int(unreachable.sum()) - int(
        (o_bad[:, None] | d_bad[None, :]).sum() if (o_bad.any() or d_bad.any()) else 0
    )
    if cutoff_s is not None:
        with np.errstate(invalid="ignore"):
            unreachable |= time_s > cutoff_s + 1e-6
    elif n_unr > 0:
        warnings.warn(
            f"{n_unr} origin-destination pairs have no route on the network",
            UnreachableWarning,
            stacklevel=3,
        )
    time_s[unreachable] = np.nan
    dist_m[unreachable] = np.nan
    return time_s, dist_m, so["snap_m"], sd["snap_m"]


def _scipy_road(
    net: RoadNetwork,
    so: dict[str, np.ndarray],
    sd: dict[str, np.ndarray],
    d_bad: np.ndarray,
    d_access_s: np.ndarray,
    cutoff_s: float | None,
    allowance_s: float,
    ft: np.dtype,
    n_jobs: int | None,
    tqdm: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Road part with scipy Dijkstra on the encoded reversed graph; (n_orig, n_dest) arrays."""
    R = net._routing
    S = R.scale
    tu, lu = R.time_unit_s, R.length_unit_m
    n = net.n_nodes
    n_o, n_d = len(so["chain"]), len(sd["chain"])

    def enc_offsets(s: dict[str, np.ndarray], leaving: bool) -> tuple[Any, ...]:
        a, ta, b, tb = end_offsets(net, s["chain"], s["pos"], leaving=leaving)
        clen = _chain_length(net)[s["chain"]]
        la = s["pos"] * clen
        lb = (1 - s["pos"]) * clen
        with np.errstate(invalid="ignore"):
            ea = np.where(np.isfinite(ta), np.rint(ta / tu) * S + np.rint(la / lu), np.inf)
            eb = np.where(np.isfinite(tb), np.rint(tb / tu) * S + np.rint(lb / lu), np.inf)
        return a, ea, b, eb

    oa, oea, ob, oeb = enc_offsets(so, leaving=True)
    da, dea, db, deb = enc_offsets(sd, leaving=False)
    # reversed graph + one virtual node per destination (rows n..n+n_d-1): edges virtual -> a/b
    rows = np.r_[np.arange(n_d), np.arange(n_d)]
    cols = np.r_[da, db]
    w = np.r_[dea, deb] + S  # +1 time unit so no weight is 0 (scipy: 0 = no edge)
    ok = np.isfinite(w)
    # a destination on a loop edge has both ends at one node: keep the smaller offset, since
    # csr_matrix would *sum* duplicate entries
    rows, cols, w = rows[ok], cols[ok], w[ok]
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    virt = sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n_d, n + n_d))
    Gv = sp.vstack(
        [sp.hstack([R.enc_csr_t, sp.csr_matrix((n, n_d))], format="csr"), virt], format="csr"
    )
    cand = np.unique(np.r_[oa, ob])
    state = {
        "G": Gv,
        "S": S,
        "tu": tu,
        "lu": lu,
        "n": n,
        "n_o": n_o,
        "cand": cand,
        "pos_a": np.searchsorted(cand, oa),
        "pos_b": np.searchsorted(cand, ob),
        "oea": oea,
        "oeb": oeb,
        "cutoff_s": cutoff_s,
        "allowance_s": allowance_s,
        "d_access_s": d_access_s,
        "dtype": ft,
    }
    time_s = np.full((n_o, n_d), np.nan, dtype=ft)
    dist_m = np.full((n_o, n_d), np.nan, dtype=ft)
    todo = np.flatnonzero(~d_bad)
    batches = [todo[i : i + _BATCH] for i in range(0, len(todo), _BATCH)]
    jobs = _n_jobs(n_jobs, len(todo) * n)
    bar = tqdm(
        total=len(todo),
        desc="travel matrix",
        unit="dest",
        disable=None if settings.progress else True,
        leave=False,
    )
    try:
        if jobs <= 1 or len(batches) < 2:
            _init_state(state)
            results: Any = map(_solve_batch, batches)
            pool = None
        else:
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            pool = ctx.Pool(jobs, initializer=_init_state, initargs=(state,))
            results = pool.imap_unordered(_solve_batch, batches)
        for batch, t, d in results:
            time_s[:, batch] = t.T
            dist_m[:, batch] = d.T
            bar.update(len(batch))
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        bar.close()
        _STATE.clear()
    return time_s, dist_m


def _n_jobs(n_jobs: int | None, work: int) -> int:
    if n_jobs is not None:
        if n_jobs < 1:
            msg = f"`n_jobs` must be >= 1 or None, got {n_jobs}"
            raise ValueError(msg)
        return int(n_jobs)
    return (os.cpu_count() or 1) if work >= 20_000_000 else 1


def _chain_length(net: RoadNetwork) -> np.ndarray:
    """Length (m) of each chain (taken from its forward or backward edge)."""
    e = np.where(net.chain_fwd >= 0, net.chain_fwd, net.chain_bwd)
    return net.length_m[e]


def _same_chain(
    net: RoadNetwork,
    so: dict[str, np.ndarray],
    sd: dict[str, np.ndarray],
    time_s: np.ndarray,
    dist_m: np.ndarray,
) -> None:
    """Pairs on the same chain may drive straight along it (road part only, in place)."""
    common = np.intersect1d(so["chain"], sd["chain"])
    if not len(common):
        return
    o_idx = np.flatnonzero(np.isin(so["chain"], common))
    d_idx = np.flatnonzero(np.isin(sd["chain"], common))
    po = pd.DataFrame({"o": o_idx, "c": so["chain"][o_idx], "po": so["pos"][o_idx]})
    pdd = pd.DataFrame({"d": d_idx, "c": sd["chain"][d_idx], "pd": sd["pos"][d_idx]})
    m = po.merge(pdd, on="c")
    c = m["c"].to_numpy()
    delta = m["pd"].to_numpy() - m["po"].to_numpy()
    f, b = net.chain_fwd[c], net.chain_bwd[c]
    tf = np.where(f >= 0, net.travel_time_s[np.maximum(f, 0)], np.inf)
    tb = np.where(b >= 0, net.travel_time_s[np.maximum(b, 0)], np.inf)
    clen = _chain_length(net)[c]
    with np.errstate(invalid="ignore"):
        t = np.where(delta >= 0, delta * tf, -delta * tb)
    t = np.where(delta == 0, 0.0, t)
    dd = np.abs(delta) * clen
    oi, di = m["o"].to_numpy(), m["d"].to_numpy()
    cur = time_s[oi, di]
    better = np.isfinite(t) & ~(cur <= t)
    time_s[oi[better], di[better]] = t[better]
    dist_m[oi[better], di[better]] = dd[better]


def _direct_overrides(
    so: dict[str, np.ndarray],
    sd: dict[str, np.ndarray],
    ox_: np.ndarray,
    oy_: np.ndarray,
    dx_: np.ndarray,
    dy_: np.ndarray,
    time_s: np.ndarray,
    dist_m: np.ndarray,
    v_access: float,
    allowance_s: float,
    max_snap_m: float,
) -> None:
    """Points closer to each other than to the road: a straight access leg (so a point to itself
    takes 0 min plus the allowance). In place, on full journey times."""
    o_ok = np.flatnonzero(so["snap_m"] <= max_snap_m)
    d_ok = np.flatnonzero(sd["snap_m"] <= max_snap_m)
    if not len(o_ok) or not len(d_ok):
        return
    r = float(so["snap_m"][o_ok].max() + sd["snap_m"][d_ok].max())
    to = cKDTree(np.column_stack([ox_[o_ok], oy_[o_ok]]))
    td = cKDTree(np.column_stack([dx_[d_ok], dy_[d_ok]]))
    pairs = to.sparse_distance_matrix(td, max(r, 1e-9), output_type="ndarray")
    if not len(pairs):
        return
    oi, di, dd = o_ok[pairs["i"]], d_ok[pairs["j"]], pairs["v"]
    keep = dd <= so["snap_m"][oi] + sd["snap_m"][di]
    oi, di, dd = oi[keep], di[keep], dd[keep]
    t = dd / v_access + allowance_s
    cur = time_s[oi, di]
    better = ~(cur <= t)
    time_s[oi[better], di[better]] = t[better]
    dist_m[oi[better], di[better]] = dd[better]
