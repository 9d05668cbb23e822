"""Isochrones: drive-time polygons around points."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from placeplan.compute.network._routing import end_offsets, point_arrays, snap_arrays
from placeplan.vocab import CRS

if TYPE_CHECKING:
    import geopandas as gpd

    from placeplan.compute.network._model import RoadNetwork


logger = logging.getLogger(__package__)  # the package's logger, as before the split


# =============================================================================================
# Isochrones
# =============================================================================================


def isochrones(
    net: RoadNetwork,
    df_sites: pd.DataFrame,
    *,
    id_col: str = "id",
    x_col: str = "x",
    y_col: str = "y",
    minutes: Sequence[float] = (15, 30, 45),
    direction: str = "to_site",
    buffer_m: float = 200.0,
    fixed_allowance_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Drive-time catchment polygons around sites (EPSG:27700), for maps.

    A polygon covers the roads (and ``buffer_m`` either side) from which the site is reached within
    ``minutes`` (``direction="to_site"``, the home-to-school journey; ``"from_site"`` reverses it),
    counting the site's access leg and ``fixed_allowance_min`` (default: the network speed model's)
    as :func:`placeplan.compute.matrix.travel_matrix` does. Roads reached part-way are cut at the
    reachable point; holes inside a catchment are filled.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``minutes``, ``geometry`` (Polygon/MultiPolygon), one row per site × minutes.
    """
    import geopandas as gpd
    from shapely.ops import substring

    if direction not in {"to_site", "from_site"}:
        msg = f"`direction` must be 'to_site' or 'from_site', got {direction!r}"
        raise ValueError(msg)
    ids, x, y = point_arrays(df_sites, id_col, x_col, y_col, "df_sites")
    mins = sorted(float(m) for m in minutes)
    if not mins or mins[0] <= 0:
        msg = f"`minutes` must be positive numbers, got {list(minutes)!r}"
        raise ValueError(msg)
    model = net.speed_model
    allowance_s = 60 * (
        model.fixed_allowance_min if fixed_allowance_min is None else fixed_allowance_min
    )
    s = snap_arrays(net, x, y)
    to_site = direction == "to_site"
    # For "to_site" the site is a destination: search the reversed graph.
    a, ta, b, tb = end_offsets(net, s["chain"], s["pos"], leaving=not to_site)
    G = net._routing.time_csr
    G = G.T.tocsr() if to_site else G
    n = net.n_nodes
    rows_out: list[dict[str, Any]] = []
    lines = net.chain_lines
    cf, cb = net.chain_fwd, net.chain_bwd
    tt = net.travel_time_s
    for k, sid in enumerate(ids):
        access_s = s["snap_m"][k] / (model.access_speed_kph / 3.6) + allowance_s
        budget = mins[-1] * 60 - access_s
        if budget <= 0:
            d = np.full(n, np.inf)
        else:
            # one virtual source node at index n
            extra_cols = np.array([a[k], b[k]])
            w = np.array([ta[k], tb[k]]) + 1e-6
            ok = np.isfinite(w)
            Gv = sp.vstack(
                [
                    sp.hstack([G, sp.csr_matrix((n, 1))]),
                    sp.csr_matrix(
                        (w[ok], (np.zeros(ok.sum(), int), extra_cols[ok])), shape=(1, n + 1)
                    ),
                ]
            ).tocsr()
            d = dijkstra(Gv, indices=n, limit=budget + 1.0)[:n] - 1e-6 + access_s
        # time at which each end of every chain is reached, and how far along the chain the
        # remaining budget carries (in the travel direction that matters)
        du, dv = d[net.chain_u], d[net.chain_v]
        for m in mins:
            lim = m * 60
            # from_site: leave u along fwd edge / v along bwd; to_site: arrive via fwd from u...
            # In both cases a point at position p is within lim if reachable through u or v.
            # For to_site: point p -> site via u takes p*t_bwd (drive back to u) + du.
            tfw = np.where(cf >= 0, tt[np.maximum(cf, 0)], np.inf)
            tbw = np.where(cb >= 0, tt[np.maximum(cb, 0)], np.inf)
            via_u_t = tbw if to_site else tfw  # time per unit position, measured from u
            via_v_t = tfw if to_site else tbw  # ... from v
            with np.errstate(invalid="ignore", divide="ignore"):
                reach_u = np.where(du <= lim, np.clip((lim - du) / via_u_t, 0, 1), -1.0)
                reach_u = np.where((du <= lim) & ~np.isfinite(via_u_t), 0.0, reach_u)
                reach_v = np.where(dv <= lim, np.clip((lim - dv) / via_v_t, 0, 1), -1.0)
                reach_v = np.where((dv <= lim) & ~np.isfinite(via_v_t), 0.0, reach_v)
            full = (reach_u >= 0) & (reach_v >= 0) & (reach_u + reach_v >= 1)
            full |= reach_u >= 1
            full |= reach_v >= 1
            parts = list(lines[full])
            for c in np.flatnonzero(~full & ((reach_u > 0) | (reach_v > 0))):
                ln = lines[c]
                if reach_u[c] > 0:
                    parts.append(substring(ln, 0, float(reach_u[c]), normalized=True))
                if reach_v[c] > 0:
                    parts.append(substring(ln, 1 - float(reach_v[c]), 1, normalized=True))
            if parts:
                geom = _cells_polygon(parts, x[k], y[k], buffer_m)
            else:
                geom = shapely.Point(x[k], y[k]).buffer(buffer_m) if access_s <= lim else None
            rows_out.append({"site_id": str(sid), "minutes": m, "geometry": geom})
    logger.info("isochrones: %s sites x %s thresholds", f"{len(ids):,}", len(mins))
    return gpd.GeoDataFrame(
        pd.DataFrame(rows_out, columns=["site_id", "minutes", "geometry"]),
        geometry="geometry",
        crs=CRS,
    )


def _cells_polygon(parts: list[Any], x0: float, y0: float, buffer_m: float) -> Any:
    """Polygon covering reachable road lines to about ``buffer_m`` either side, quickly.

    Buffering the union of thousands of road lines costs seconds to minutes per catchment, so the
    lines are sampled every ``buffer_m / 2``, the sample points mark cells of a ``buffer_m`` grid
    and their 3 x 3 neighbourhoods, and the cells are merged with a coverage union (exact and fast
    for edge-sharing squares). The outline is therefore a staircase at ``buffer_m`` resolution,
    ample for a catchment map.
    """
    cell = float(buffer_m)
    pts = shapely.get_coordinates(shapely.segmentize(np.asarray(parts, dtype=object), cell / 2))
    pts = np.vstack([pts, [[x0, y0]]])
    ij = np.unique(np.floor(pts / cell).astype(np.int64), axis=0)
    offsets = np.array([(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)], dtype=np.int64)
    ij = np.unique((ij[:, None, :] + offsets[None, :, :]).reshape(-1, 2), axis=0)
    boxes = shapely.box(
        ij[:, 0] * cell, ij[:, 1] * cell, (ij[:, 0] + 1) * cell, (ij[:, 1] + 1) * cell
    )
    geom = shapely.coverage_union_all(boxes)
    return _fill_holes(shapely.simplify(geom, cell / 4))


def _fill_holes(geom: Any) -> Any:
    if geom is None or geom.is_empty:
        return geom
    polys = shapely.get_parts(geom)
    filled = [shapely.Polygon(p.exterior) for p in polys if p.geom_type == "Polygon"]
    return shapely.union_all(filled) if len(filled) > 1 else filled[0]
