"""Routing structures: integer-encoded CSR weights and snapping points to the road chains."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from placeplan._errors import SchemaValidationError, SnapWarning

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from placeplan.compute.network._model import RoadNetwork


logger = logging.getLogger(__package__)  # the package's logger, as before the split


@dataclass(frozen=True)
class Routing:
    """CSR matrices for routing (built once per network, see :meth:`RoadNetwork._routing`)."""

    time_csr: sp.csr_matrix  # float seconds, min over parallel edges, forward
    enc_csr_t: sp.csr_matrix  # encoded time/length, transposed (rows = edge heads)
    scale: float  # 2**length_bits
    time_unit_s: float
    length_unit_m: float
    edge_time_units: np.ndarray
    edge_length_units: np.ndarray
    diameter_bound_s: float


# =============================================================================================
# Routing structures
# =============================================================================================


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> tuple[sp.csr_matrix, Any]:
    """CSR with the *minimum* weight per (u, v) (scipy would sum duplicates). Returns the matrix
    and the index of the chosen edge per stored entry."""
    order = np.lexsort((w, v, u))
    uo, vo = u[order], v[order]
    first = np.r_[True, (uo[1:] != uo[:-1]) | (vo[1:] != vo[:-1])]
    sel = order[first]
    indptr = np.r_[0, np.cumsum(np.bincount(u[sel], minlength=n))].astype(np.int64)
    m = sp.csr_matrix((w[sel].astype(float), v[sel].astype(np.int32), indptr), shape=(n, n))
    return m, sel


def build_routing(net: RoadNetwork) -> Routing:
    """Integer-encoded weights: ``time_units * 2**L + length_units`` in one float64.

    One Dijkstra on these weights finds the fastest route (ties to the shorter) *and* carries its
    length: the sum decodes exactly while it stays below 2**53. Time is kept in milliseconds
    (rounding error ≤ 0.5 ms per edge) and length in 0.1 m, coarsened only if the network's
    diameter needs more bits.
    """
    n = net.n_nodes
    u, v = net.edge_u.astype(np.int64), net.edge_v.astype(np.int64)
    t = np.maximum(net.travel_time_s.astype(float), 1e-6)
    time_csr, _ = _min_csr(u, v, t, n)
    # bound on any fastest-route time: via one node r, T(a,b) <= T(a,r) + T(r,b)
    fwd = dijkstra(time_csr, indices=0)
    bwd = dijkstra(time_csr.T.tocsr(), indices=0)
    diameter = float(np.max(fwd[np.isfinite(fwd)]) + np.max(bwd[np.isfinite(bwd)]))
    diameter += 2 * float(t.max())  # partial edges at both ends
    vmax = float(np.max(net.length_m / t))
    time_unit = 1e-3
    length_unit = 0.1
    t_units = np.maximum(np.rint(t / time_unit), 1).astype(np.int64)
    t_bound = diameter / time_unit + 0.5 * n + 4
    t_bits = math.ceil(math.log2(t_bound))
    l_bound = diameter * vmax * 1.01 + 1000.0
    l_bits = math.ceil(math.log2(l_bound / length_unit + 2))
    spare = 53 - t_bits - l_bits
    if spare < 0:
        length_unit *= 2.0 ** (-spare)
        l_bits += spare
        logger.debug("routing: length unit coarsened to %.2f m", length_unit)
    else:  # spend spare bits on precision: length first (to ~1 mm), then time
        refine_l = min(spare, 7)
        length_unit /= 2.0**refine_l
        l_bits += refine_l
        refine_t = min(spare - refine_l, 10)
        time_unit /= 2.0**refine_t
        t_units = np.maximum(np.rint(t / time_unit), 1).astype(np.int64)
    scale = float(2**l_bits)
    l_units = np.rint(net.length_m / length_unit).astype(np.int64)
    enc = t_units.astype(float) * scale + l_units.astype(float)
    enc_t, _ = _min_csr(v, u, enc, n)
    return Routing(
        time_csr=time_csr,
        enc_csr_t=enc_t,
        scale=scale,
        time_unit_s=time_unit,
        length_unit_m=length_unit,
        edge_time_units=t_units,
        edge_length_units=l_units,
        diameter_bound_s=diameter,
    )


# =============================================================================================
# Snapping
# =============================================================================================


def point_arrays(
    df: pd.DataFrame, id_col: str, x_col: str, y_col: str, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ids, x and y of a points frame as arrays, checking the columns exist and are numeric."""
    for c in (id_col, x_col, y_col):
        if c not in df.columns:
            msg = f"`{what}` has no column {c!r}; columns are {list(df.columns)}"
            raise SchemaValidationError(msg)
    ids = df[id_col].astype(str).to_numpy(dtype=object)
    try:
        x = pd.to_numeric(df[x_col]).to_numpy(dtype=float)
        y = pd.to_numeric(df[y_col]).to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"`{what}` columns {x_col!r}/{y_col!r} must be numeric EPSG:27700 metres"
        raise SchemaValidationError(msg) from err
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        msg = f"`{what}` has {int(bad.sum())} rows with missing coordinates in {x_col!r}/{y_col!r}"
        raise SchemaValidationError(msg)
    return ids, x, y


def snap_arrays(net: RoadNetwork, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Nearest chain, position along it (0..1), snap distance and snapped point."""
    # 1-D coordinate arrays give an array of points (the stubs cannot see the dimension)
    pts = cast("NDArray[np.object_]", shapely.points(x, y))
    if len(pts) == 0:
        e = np.zeros(0)
        return {"chain": e.astype(np.int64), "pos": e, "snap_m": e, "sx": e, "sy": e}
    (inp, tree_idx), dist = net._chain_tree.query_nearest(
        pts, return_distance=True, all_matches=False
    )
    chain = np.empty(len(pts), np.int64)
    snap = np.empty(len(pts))
    chain[inp] = tree_idx
    snap[inp] = dist
    lines = net.chain_lines[chain]
    pos = shapely.line_locate_point(lines, pts, normalized=True)
    pos = np.clip(np.nan_to_num(pos, nan=0.0), 0.0, 1.0)
    # a point on a node must be *at* the node (pos exactly 0 or 1) so every edge there is usable
    clen = shapely.length(lines)
    with np.errstate(invalid="ignore", divide="ignore"):
        tol = np.where(clen > 0, 1e-3 / clen, 1.0)
    pos = np.where(pos <= tol, 0.0, np.where(pos >= 1 - tol, 1.0, pos))
    sp_ = shapely.line_interpolate_point(lines, pos, normalized=True)
    return {
        "chain": chain,
        "pos": pos,
        "snap_m": snap,
        "sx": shapely.get_x(sp_),
        "sy": shapely.get_y(sp_),
    }


def snap_points(
    net: RoadNetwork,
    df_points: pd.DataFrame,
    *,
    id_col: str = "id",
    x_col: str = "x",
    y_col: str = "y",
    max_snap_m: float = 1000.0,
) -> pd.DataFrame:
    """Snap points to the nearest edge of the network (its largest strongly connected component).

    Snapping to an edge rather than a node avoids dead ends and fragments (routing.md). Points
    farther than ``max_snap_m`` from any road are kept and flagged ``"too_far"``; a
    :class:`~placeplan.SnapWarning` gives their count (never their ids).

    Returns
    -------
    pandas.DataFrame
        ``id``, ``node_index`` (the nearer end of the snapped edge), ``snap_m``, ``snap_status``
        (``"ok"``/``"too_far"``), plus ``chain`` (edge geometry index), ``position`` (0–1 along
        it) and ``snap_x``/``snap_y`` (snapped point, EPSG:27700).
    """
    ids, x, y = point_arrays(df_points, id_col, x_col, y_col, "df_points")
    s = snap_arrays(net, x, y)
    too_far = s["snap_m"] > max_snap_m
    node = np.where(s["pos"] <= 0.5, net.chain_u[s["chain"]], net.chain_v[s["chain"]])
    out = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="str"),
            "node_index": node,
            "snap_m": s["snap_m"],
            "snap_status": pd.array(np.where(too_far, "too_far", "ok"), dtype="str"),
            "chain": s["chain"],
            "position": s["pos"],
            "snap_x": s["sx"],
            "snap_y": s["sy"],
        }
    )
    warn_too_far(int(too_far.sum()), len(out), max_snap_m, "points")
    logger.info(
        "snap_points: %s points, median snap %.0f m, %s beyond %.0f m",
        f"{len(out):,}",
        float(np.median(s["snap_m"])) if len(out) else 0.0,
        f"{int(too_far.sum()):,}",
        max_snap_m,
    )
    return out


def warn_too_far(n: int, total: int, max_snap_m: float, what: str, stacklevel: int = 3) -> None:
    """Warn (:class:`SnapWarning`) that ``n`` of ``total`` points are beyond ``max_snap_m``."""
    if n:
        import warnings

        warnings.warn(
            f"{n} of {total} {what} are more than {max_snap_m:g} m from the drivable network "
            "(snap_status 'too_far'); check their coordinates or raise `max_snap_m`",
            SnapWarning,
            stacklevel=stacklevel,
        )


def end_offsets(
    net: RoadNetwork, chain: np.ndarray, pos: np.ndarray, *, leaving: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For points on chains, the two candidate graph nodes and the float seconds to/from them.

    ``leaving=True`` (an origin): time from the point to each node; ``False`` (a destination):
    time from each node to the point. ``inf`` where a direction is not allowed.
    Returns ``(node_a, time_a, node_b, time_b)`` with node_a = chain_u, node_b = chain_v.
    """
    f = net.chain_fwd[chain]
    b = net.chain_bwd[chain]
    tf = np.where(f >= 0, net.travel_time_s[np.maximum(f, 0)], np.inf)
    tb = np.where(b >= 0, net.travel_time_s[np.maximum(b, 0)], np.inf)
    with np.errstate(invalid="ignore"):
        if leaving:  # to u against the chain (bwd), to v along it (fwd)
            ta = np.where(b >= 0, pos * tb, np.where(pos <= 0, 0.0, np.inf))
            tv = np.where(f >= 0, (1 - pos) * tf, np.where(pos >= 1, 0.0, np.inf))
        else:  # from u along the chain (fwd), from v against it (bwd)
            ta = np.where(f >= 0, pos * tf, np.where(pos <= 0, 0.0, np.inf))
            tv = np.where(b >= 0, (1 - pos) * tb, np.where(pos >= 1, 0.0, np.inf))
    return net.chain_u[chain], ta, net.chain_v[chain], tv
