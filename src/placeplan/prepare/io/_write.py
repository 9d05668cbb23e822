"""Writing: GeoDataFrames as layers of one GeoPackage (:func:`write_layers`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from placeplan._errors import CRSError

# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_layers(path_gpkg: str | Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write GeoDataFrames as layers of one GeoPackage (replacing the file atomically).

    Parameters
    ----------
    path_gpkg
        Output ``.gpkg`` path.
    layers
        Layer name -> GeoDataFrame (any CRS, but one must be set).

    Raises
    ------
    CRSError
        If a layer has no CRS.
    """
    path = Path(path_gpkg)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        if gdf.crs is None:
            msg = f"layer `{name}` has no CRS; set one with `set_crs`"
            raise CRSError(msg)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for name, gdf in layers.items():
            out = gdf.copy()
            for col in out.columns:
                if col != out.geometry.name and (
                    pd.api.types.is_string_dtype(out[col]) or out[col].dtype == "boolean"
                ):
                    out[col] = out[col].astype(object)
            out.to_file(tmp, layer=name, driver="GPKG")
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
