"""Areas: :func:`load_areas` and nearest-area :func:`assign_areas`."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from placeplan import schemas
from placeplan._errors import CRSError, InputFileError, SchemaValidationError
from placeplan.prepare.io._common import clean_ids, column_key, missing_column
from placeplan.vocab import CRS

logger = logging.getLogger(__package__)  # the package's logger, as before the split


# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def load_areas(path: str | Path, *, id_col: str = "area_id") -> gpd.GeoDataFrame:
    """Read planning areas / LSOAs from GeoPackage, GeoJSON or shapefile into EPSG:27700.

    Features sharing an id are dissolved into one area; invalid polygons are repaired.

    Parameters
    ----------
    path
        ``.gpkg``, ``.geojson``/``.json`` or ``.shp`` file.
    id_col
        Column holding the area id (case-insensitive); renamed to ``area_id``.

    Returns
    -------
    areas
        ``area_id`` (str), other attributes as read (``imd_decile``, ``ruc_class`` normalised to
        ``urban``/``rural``, ``population``), Polygon/MultiPolygon geometry in EPSG:27700.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable, lacks ``id_col``, or has empty or non-polygon
        geometries.
    CRSError
        If the file has no CRS.
    """
    path = Path(path)
    file = path.name
    if not path.exists():
        msg = "file not found"
        raise InputFileError(msg, file=str(path))
    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        msg = f"cannot read as GeoPackage/GeoJSON/shapefile ({type(err).__name__})"
        raise InputFileError(msg, file=file) from err
    if gdf.empty:
        msg = "no features"
        raise InputFileError(msg, file=file)
    if gdf.crs is None:
        msg = f"{file}: no coordinate reference system; set one (e.g. EPSG:27700) in a GIS"
        raise CRSError(msg)
    cols = {column_key(c): c for c in gdf.columns if c != "geometry"}
    if column_key(id_col) not in cols:
        frame = pd.DataFrame(columns=[c for c in gdf.columns if c != "geometry"])
        missing_column(frame, file, id_col)
    gdf = gdf.rename(columns={cols[column_key(id_col)]: "area_id"}).to_crs(CRS)
    gdf["area_id"] = clean_ids(gdf["area_id"].astype("string"))
    bad = gdf.geometry.isna() | gdf.geometry.is_empty
    if bad.any() or gdf["area_id"].isna().any():
        row = int(np.flatnonzero((bad | gdf["area_id"].isna()).to_numpy())[0]) + 1
        msg = "feature with empty geometry or empty area id"
        raise InputFileError(msg, file=file, row=row, column="area_id")
    kinds = set(gdf.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        msg = f"expected polygons, found {', '.join(sorted(kinds))}"
        raise InputFileError(msg, file=file, column="geometry")
    gdf["geometry"] = gdf.geometry.make_valid()
    if gdf["area_id"].duplicated().any():
        gdf = gdf.dissolve(by="area_id", as_index=False, aggfunc="first")
    for name in ("imd_decile", "population"):
        if name in gdf.columns:
            gdf[name] = pd.to_numeric(gdf[name], errors="coerce").astype(float)
    if "ruc_class" in gdf.columns:
        ruc = gdf["ruc_class"].astype("string").str.strip().str.lower()
        gdf["ruc_class"] = (
            ruc.str.extract(r"^(urban|rural)", expand=False).astype("string").astype(object)
        )
    gdf = gdf.reset_index(drop=True)
    return schemas.validate_areas(gdf)


def assign_areas(
    gdf_points: gpd.GeoDataFrame,
    gdf_areas: gpd.GeoDataFrame,
    *,
    id_col: str = "area_id",
    max_distance_m: float | None = None,
) -> pd.Series:
    """Return the area id of every point: the area containing it, else the nearest area.

    Parameters
    ----------
    gdf_points
        Points in EPSG:27700.
    gdf_areas
        Areas in EPSG:27700 with ``id_col``.
    id_col
        Area id column.
    max_distance_m
        Largest distance to the nearest area for a point outside every area (``None``: any).

    Returns
    -------
    area_id
        Indexed like ``gdf_points``; never NA.

    Raises
    ------
    SchemaValidationError
        If a point has no geometry or is farther than ``max_distance_m`` from every area (the
        message gives counts only).
    CRSError
        If either input is not in EPSG:27700.
    """
    for name, gdf in (("gdf_points", gdf_points), ("gdf_areas", gdf_areas)):
        if gdf.crs is None or gdf.crs.to_epsg() != 27700:
            msg = f"`{name}` must be in {CRS}, got {gdf.crs}; use `to_crs('{CRS}')`"
            raise CRSError(msg)
    missing_geom = gdf_points.geometry.isna() | gdf_points.geometry.is_empty
    if missing_geom.any():
        msg = f"{int(missing_geom.sum())} points have no geometry; cannot assign an area"
        raise SchemaValidationError(msg)
    pts = gpd.GeoDataFrame(geometry=gdf_points.geometry.to_numpy(), crs=CRS)
    areas = gpd.GeoDataFrame(
        {id_col: gdf_areas[id_col].to_numpy()}, geometry=gdf_areas.geometry.to_numpy(), crs=CRS
    )
    joined = gpd.sjoin(pts, areas, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = joined[id_col].reindex(pts.index).astype("object")
    todo = out.isna()
    n_nearest = int(todo.sum())
    if n_nearest:
        near = gpd.sjoin_nearest(
            pts[todo.to_numpy()], areas, how="left", max_distance=max_distance_m
        )
        near = near[~near.index.duplicated(keep="first")]
        out[todo] = near[id_col].reindex(out.index[todo])
    still = out.isna()
    if still.any():
        msg = (
            f"{int(still.sum())} points are farther than {max_distance_m} m from every area; "
            "check the areas file covers the authority"
        )
        raise SchemaValidationError(msg)
    logger.info("assign_areas: %s points, %s assigned to the nearest area", len(out), n_nearest)
    return pd.Series(out.to_numpy(), index=gdf_points.index, name=id_col, dtype="string")
