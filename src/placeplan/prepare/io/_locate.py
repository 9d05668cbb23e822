"""Locations: coordinates or postcodes to checked British National Grid points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeplan._errors import CRSError
from placeplan.prepare.io._common import missing_column, parse_numbers
from placeplan.vocab import BNG_EASTING_M, BNG_NORTHING_M, CRS

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from placeplan.prepare.geocode import PostcodeIndex
    from placeplan.prepare.io._common import Rejects


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------

LOCATION_ALIASES: dict[str, tuple[str, ...]] = {
    "postcode": ("post_code", "pcd", "pcds", "home_postcode", "postcode_home"),
    "easting": ("eastings", "os_easting", "grid_easting"),
    "northing": ("northings", "os_northing", "grid_northing"),
    "latitude": ("lat",),
    "longitude": ("lon", "long", "lng"),
}


@dataclass
class _Located:
    easting: pd.Series
    northing: pd.Series
    postcode: pd.Series
    lsoa11cd: pd.Series
    status: pd.Series
    origin_id: pd.Series
    source_column: pd.Series


def check_location_columns(frame: pd.DataFrame, cols: dict[str, str], file: str) -> None:
    """Raise unless the file gives a postcode, easting + northing, or latitude + longitude."""
    has_pc = "postcode" in cols
    has_en = "easting" in cols or "northing" in cols
    has_ll = "latitude" in cols or "longitude" in cols
    if has_en and not ("easting" in cols and "northing" in cols):
        missing_column(frame, file, "northing" if "easting" in cols else "easting")
    if has_ll and not ("latitude" in cols and "longitude" in cols):
        missing_column(frame, file, "longitude" if "latitude" in cols else "latitude")
    if not (has_pc or has_en or has_ll):
        missing_column(
            frame,
            file,
            "postcode",
            " (give postcode, or easting and northing, or latitude and longitude)",
        )


def _pair(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two coordinate columns as one value to quote: ``"449525, 8O500"``."""
    return (
        first.astype("string").fillna("").str.strip()
        + ", "
        + second.astype("string").fillna("").str.strip()
    )


def locate_rows(
    frame: pd.DataFrame,
    cols: dict[str, str],
    rejects: Rejects,
    postcodes: PostcodeIndex | None,
    *,
    coordinate_prefix: str = "EN",
) -> _Located:
    """Locate each row from its postcode or coordinates, rejecting rows that cannot be placed."""
    index = frame.index
    easting = pd.Series(np.nan, index=index)
    northing = pd.Series(np.nan, index=index)
    source = pd.Series("", index=index, dtype="string")
    status = pd.Series("", index=index, dtype="string")
    bad_rows: set[int] = set()

    if "easting" in cols:
        e, e_empty, e_bad = parse_numbers(frame[cols["easting"]])
        n, n_empty, n_bad = parse_numbers(frame[cols["northing"]])
        given = ~(e_empty & n_empty)
        half = given & (e_empty | n_empty)
        rejects.add_mask(half, "easting/northing", "give both easting and northing, or neither")
        rejects.add_found(
            given & (e_bad | n_bad),
            "easting/northing",
            _pair(frame[cols["easting"]], frame[cols["northing"]]),
            "not a number (metres)",
        )
        outside = (
            given
            & ~half
            & ~(e_bad | n_bad)
            & ~(e.between(*BNG_EASTING_M) & n.between(*BNG_NORTHING_M))
        )
        rejects.add_mask(
            outside,
            "easting/northing",
            "outside Great Britain (expected British National Grid metres, EPSG:27700; put "
            "latitude/longitude in latitude and longitude columns)",
        )
        ok = given & ~half & ~e_bad & ~n_bad & ~outside
        bad_rows |= set(index[(given & ~ok).to_numpy()])
        easting = easting.mask(ok, e)
        northing = northing.mask(ok, n)
        source = source.mask(ok, "easting/northing")
        status = status.mask(ok, "coordinates")

    if "latitude" in cols:
        lat, lat_empty, lat_bad = parse_numbers(frame[cols["latitude"]], decimal_comma=True)
        lon, lon_empty, lon_bad = parse_numbers(frame[cols["longitude"]], decimal_comma=True)
        todo = (source == "") & ~(lat_empty & lon_empty) & ~pd.Series(index.isin(bad_rows), index)
        half = todo & (lat_empty | lon_empty)
        rejects.add_mask(half, "latitude/longitude", "give both latitude and longitude")
        rejects.add_found(
            todo & (lat_bad | lon_bad),
            "latitude/longitude",
            _pair(frame[cols["latitude"]], frame[cols["longitude"]]),
            "not a number",
        )
        outside = todo & ~half & ~(lat.between(49.0, 61.0) & lon.between(-9.0, 2.5))
        outside &= ~(lat_bad | lon_bad)
        swapped = outside & lon.between(49.0, 61.0) & lat.between(-9.0, 2.5)
        rejects.add_mask(
            swapped,
            "latitude/longitude",
            "latitude and longitude look swapped (latitude is about 50-60 in Great Britain); "
            "swap the two columns",
        )
        rejects.add_mask(
            outside & ~swapped,
            "latitude/longitude",
            "outside Great Britain (expected WGS84 degrees: latitude 49 to 61, longitude -9 to "
            "2.5)",
        )
        ok = todo & ~half & ~lat_bad & ~lon_bad & ~outside
        bad_rows |= set(index[(todo & ~ok).to_numpy()])
        if ok.any():
            from pyproj import Transformer

            tf = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
            x, y = tf.transform(lon[ok].to_numpy(), lat[ok].to_numpy())
            easting[ok] = x
            northing[ok] = y
            source = source.mask(ok, "latitude/longitude")
            status = status.mask(ok, "coordinates")

    postcode_norm = pd.Series(pd.NA, index=index, dtype="string")
    lsoa = pd.Series(pd.NA, index=index, dtype="string")
    if "postcode" in cols:
        raw = frame[cols["postcode"]].astype("string").fillna("").str.strip()
        given = raw != ""
        if postcodes is None:
            need = given & (source == "") & ~pd.Series(index.isin(bad_rows), index)
            rejects.add_mask(need, "postcode", "cannot be located: no postcode file given")
        else:
            geo = postcodes.geocode(raw.replace({"": pd.NA}))
            postcode_norm = geo["postcode_norm"]
            lsoa = geo["lsoa11cd"]
            use = (source == "") & ~pd.Series(index.isin(bad_rows), index) & given
            located = geo["easting"].notna() & geo["northing"].notna()
            for code, reason in (
                ("invalid", "not a valid UK postcode (expected e.g. PO30 1UD)"),
                (
                    "not_found",
                    "not found in the postcode file; check the postcode, or give easting and "
                    "northing instead (or use a fuller postcode file)",
                ),
            ):
                rejects.add_found(use & (geo["status"] == code), "postcode", raw, reason)
            rejects.add_mask(
                use & (geo["status"] == "terminated") & ~located,
                "postcode",
                "terminated postcode with no grid reference in the postcode file; give the "
                "current postcode",
            )
            ok = use & located
            easting = easting.mask(ok, geo["easting"])
            northing = northing.mask(ok, geo["northing"])
            source = source.mask(ok, "postcode")
            status = status.mask(ok, geo["status"])
            status = status.mask(use & ~located, geo["status"])

    nowhere = (source == "") & ~pd.Series(index.isin(bad_rows), index)
    if "postcode" in cols:
        nowhere &= frame[cols["postcode"]].astype("string").fillna("").str.strip() == ""
    given_cols = " / ".join(
        n
        for n, present in (
            ("postcode", "postcode" in cols),
            ("easting and northing", "easting" in cols),
            ("latitude and longitude", "latitude" in cols),
        )
        if present
    )
    rejects.add_mask(nowhere, "location", f"no location given (expected {given_cols})")
    status = status.mask(nowhere, "missing")

    by_coords = source.isin(["easting/northing", "latitude/longitude"])
    origin = postcode_norm.copy()
    origin_coords = (
        f"{coordinate_prefix}:"
        + easting.round().fillna(0).astype("int64").astype("string")
        + ":"
        + northing.round().fillna(0).astype("int64").astype("string")
    )
    origin = origin.mask(by_coords, origin_coords)
    return _Located(easting, northing, postcode_norm, lsoa, status, origin, source)


def authority_geometry(area: object, *, buffer_m: float = 0.0) -> shapely.Geometry | None:
    """Return one (buffered) polygon from a GeoDataFrame/GeoSeries/geometry in EPSG:27700.

    Parameters
    ----------
    area
        Authority boundary or its areas; ``None`` gives ``None``.
    buffer_m
        Buffer in metres added around the union.

    Returns
    -------
    geometry
        The union, buffered; ``None`` if ``area`` is ``None``.

    Raises
    ------
    CRSError
        If ``area`` is a GeoDataFrame/GeoSeries not in EPSG:27700.
    """
    if area is None:
        return None
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None or area.crs.to_epsg() != 27700:
            msg = f"`area` must be in {CRS}, got {area.crs}; use `to_crs('{CRS}')`"
            raise CRSError(msg)
        geoms = area.geometry.to_numpy() if isinstance(area, gpd.GeoDataFrame) else area.to_numpy()
        geom = shapely.union_all(geoms)
    elif isinstance(area, shapely.Geometry):
        # every shapely.Geometry is a BaseGeometry at run time; the stubs keep them apart
        geom = cast("BaseGeometry", area)
    else:
        msg = f"`area` must be a GeoDataFrame, GeoSeries or shapely geometry, got {type(area)}"
        raise TypeError(msg)
    if buffer_m > 0:
        geom = geom.buffer(buffer_m)
    shapely.prepare(geom)
    return geom


def to_points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame of ``frame`` with points from its ``easting``/``northing`` (EPSG:27700)."""
    geometry = gpd.points_from_xy(frame["easting"], frame["northing"], crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)
