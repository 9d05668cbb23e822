"""Points in, points out: every stage function takes a GeoDataFrame of points or an x/y frame.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(-1.29, 50.70)], crs="EPSG:4326")
>>> as_xy(g).round(0).to_dict("records")
[{'id': 'a', 'x': 450239.0, 'y': 89169.0}]
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.vocab import CRS

__all__ = ["as_xy"]


def as_xy(points: pd.DataFrame, id_col: str = "id") -> pd.DataFrame:
    """An ``id, x, y`` frame (EPSG:27700 metres) from a GeoDataFrame of points or an x/y frame.

    Parameters
    ----------
    points
        A GeoDataFrame of points with a CRS (reprojected to EPSG:27700) and an ``id_col`` column,
        or a plain DataFrame that already has ``id_col``, ``x`` and ``y`` in EPSG:27700 (returned
        unchanged).
    id_col
        The id column; in the result it is called ``id`` and holds strings.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``x``, ``y`` and every other non-geometry column of ``points``.

    Raises
    ------
    CRSError
        If a GeoDataFrame has no CRS.
    SchemaValidationError
        If the id column is missing or a geometry is not a point.
    """
    if not isinstance(points, gpd.GeoDataFrame):
        return points
    if id_col not in points.columns:
        msg = f"points have no {id_col!r} column; columns are {list(points.columns)}"
        raise SchemaValidationError(msg)
    if points.crs is None:
        msg = "points have no CRS: set one (e.g. gdf.set_crs('EPSG:27700')) before routing"
        raise CRSError(msg)
    pts = points.to_crs(CRS) if points.crs != CRS else points
    kinds = set(pts.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        msg = f"points must be Point geometries, got {sorted(kinds)}; use .centroid first"
        raise SchemaValidationError(msg)
    other = pd.DataFrame(pts.drop(columns=[pts.geometry.name, id_col]))
    out = pd.DataFrame(
        {
            "id": pts[id_col].astype(str).to_numpy(),
            "x": pts.geometry.x.to_numpy(),
            "y": pts.geometry.y.to_numpy(),
        },
        index=pts.index,
    )
    other = other.drop(columns=[c for c in ("id", "x", "y") if c in other])
    return pd.concat([out, other], axis=1).reset_index(drop=True)
