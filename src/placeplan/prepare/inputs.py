"""The prepare stage: a plan's input files to checked, geocoded inputs with row accounting.

The single input entry of a run: :func:`prepare` loads every input through
:func:`placeplan.prepare.validate.check_plan` (the checks ``placeplan validate`` runs; every table
is read by :func:`placeplan.prepare.io.read_table`), so ``run`` uses exactly the rows ``validate``
accepts. Pupil rows are personal data: :class:`Inputs` is internal and never published.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from placeplan._errors import InputFileError
from placeplan.prepare import io
from placeplan.prepare.validate import check_plan
from placeplan.vocab import CRS

if TYPE_CHECKING:
    from placeplan.config import PlanConfig

__all__ = ["Inputs", "authority_areas", "prepare"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Inputs:
    """Validated, geocoded inputs of a plan (pupil rows are personal data: internal only)."""

    pupils: gpd.GeoDataFrame
    provision: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame | None
    planning_areas: gpd.GeoDataFrame | None
    outline: gpd.GeoDataFrame | None
    row_accounting: pd.DataFrame
    rejections: pd.DataFrame
    attribution: str
    #: neighbouring areas' outline (``[inputs] region_outline``), a light basemap; EPSG:27700
    region: gpd.GeoDataFrame | None = None


def _planning_area(areas: gpd.GeoDataFrame) -> pd.Series:
    """Planning area per LSOA: the ``planning_area`` column, else the MSOA from the LSOA name."""
    if "planning_area" in areas:
        return areas["planning_area"].astype(str)
    name = areas["name"].astype(str)
    return name.str.replace(r"[A-Z]$", "", regex=True).str.strip()


def authority_areas(areas: gpd.GeoDataFrame, lad_code: str) -> gpd.GeoDataFrame:
    """The authority's own areas (``lad_code`` column), or all areas if none match or no column."""
    if "lad_code" in areas:
        mine = areas[areas["lad_code"].astype(str) == lad_code]
        if len(mine):
            return mine
    return areas


def _msoa_planning_areas(areas: gpd.GeoDataFrame, lad_code: str) -> gpd.GeoDataFrame:
    """Default planning areas: the authority's MSOAs, dissolved from its LSOAs."""
    own = authority_areas(areas, lad_code)
    pa = own.assign(area_id=_planning_area(own).to_numpy())[["area_id", "geometry"]]
    out = pa.dissolve(by="area_id", as_index=False)
    out["name"] = out["area_id"]
    return out


def prepare(plan: PlanConfig) -> Inputs:
    """Read, validate and geocode every input of a plan, with row accounting.

    The inputs are loaded by :func:`placeplan.prepare.validate.check_plan`, the same checks
    ``placeplan validate`` runs, so ``run`` uses exactly the rows ``validate`` accepts.

    Raises
    ------
    InputFileError
        If a whole file is unusable (missing, empty, missing columns) or the plan refers to
        something that is not there (network file, a scenario's site); row-level problems are
        collected in ``rejections`` instead.
    """
    checked = check_plan(plan)
    report = checked.report
    if len(report.errors):
        first = report.errors.iloc[0]
        more = len(report.errors) - 1
        suffix = f" (and {more} more problem(s): run `placeplan validate`)" if more else ""
        row = first["row"]
        raise InputFileError(
            f"{first['reason']}{suffix}",
            file=str(first["file"]) or None,
            row=None if pd.isna(row) else int(row),
            column=None if pd.isna(first["column"]) else str(first["column"]) or None,
        )
    assert checked.pupils is not None and checked.provision is not None  # no errors above
    areas = checked.areas
    outline = checked.boundary
    if len(report.rejections):
        n_rows = int(report.rejections.groupby("file")["row"].nunique().sum())
        logger.warning(
            "%s input row(s) rejected and left out of this run (see rejections.csv and the "
            "report's row accounting; `placeplan validate` lists them)",
            f"{n_rows:,}",
        )
    provision = checked.provision
    sites = checked.sites
    if sites is None:
        sites = gpd.GeoDataFrame(
            {"site_id": pd.Series(dtype="string")}, geometry=gpd.GeoSeries([], crs=CRS)
        )
    pupils = checked.pupils.copy()
    planning = None
    if plan.inputs.planning_areas is not None:
        planning = io.load_areas(plan.path(plan.inputs.planning_areas))
        if "name" not in planning:
            planning["name"] = planning["area_id"]
    if areas is not None:
        a = areas.set_index("area_id")
        lsoa = pupils["lsoa11cd"].astype("string")
        missing = lsoa.isna() | ~lsoa.isin(a.index)
        if missing.any():
            lsoa = lsoa.copy()
            lsoa[missing] = io.assign_areas(pupils.loc[missing], areas).to_numpy()
            pupils["lsoa11cd"] = lsoa
        for col in ("imd_decile", "ruc_class"):
            if col in a:
                pupils[col] = pupils["lsoa11cd"].map(a[col]).astype("string")
        if planning is None:
            planning = _msoa_planning_areas(areas, plan.plan.lad_code)
    provision = provision.copy()
    if planning is not None:
        pupils["area"] = io.assign_areas(pupils, planning).to_numpy()
        in_area = provision["in_area"].astype(bool).to_numpy()
        provision["area"] = pd.Series(pd.NA, index=provision.index, dtype="string")
        if in_area.any():
            located = io.assign_areas(provision.loc[in_area], planning)
            provision.loc[in_area, "area"] = located.to_numpy()
    accounting = report.files[
        ["file", "rows_read", "rows_used", "rows_rejected", "rows_skipped"]
    ].reset_index(drop=True)
    # skipped GIAS rows (closed, other LA, type not modelled) are itemised like rejections
    parts = [f for f in (report.rejections, report.skipped) if not f.empty]
    rejections = (
        pd.concat(parts, ignore_index=True) if len(parts) > 1 else report.rejections
    ).reset_index(drop=True)
    attribution = ""
    if plan.inputs.attribution is not None:
        attribution = plan.path(plan.inputs.attribution).read_text(encoding="utf-8")
    logger.info(
        "inputs: %s pupils, %s settings, %s candidate sites, %s rows rejected",
        f"{len(pupils):,}",
        f"{len(provision):,}",
        f"{len(sites):,}",
        f"{len(rejections):,}",
    )
    return Inputs(
        pupils=pupils,
        provision=provision,
        sites=sites,
        areas=areas,
        planning_areas=planning,
        outline=outline,
        row_accounting=accounting,
        rejections=rejections,
        attribution=attribution,
        region=checked.region,
    )
