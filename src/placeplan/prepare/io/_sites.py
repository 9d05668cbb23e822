"""Candidate sites: :func:`load_sites`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from placeplan import schemas
from placeplan.prepare.io._common import (
    NEEDS_EXPECTED,
    POUNDS_EXPECTED,
    Rejects,
    check_duplicates,
    clean_ids,
    ignored_columns_note,
    need_hint,
    parse_annual_cost,
    parse_need_lists,
    parse_numbers,
    parse_phase_lists,
    phase_hint,
    reject_extra_cells,
    reject_unknown_settings,
    require_columns,
    resolve_columns,
    text_column,
)
from placeplan.prepare.io._locate import (
    LOCATION_ALIASES,
    authority_geometry,
    locate_rows,
    to_points,
)
from placeplan.prepare.io._read import read_table

if TYPE_CHECKING:
    from placeplan.prepare.geocode import PostcodeIndex
    from placeplan.prepare.io._common import LoadResult


# --------------------------------------------------------------------------------------------
# Candidate sites
# --------------------------------------------------------------------------------------------

_SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("id", "site", "candidate_id"),
    "host_setting_id": ("host_urn", "host", "urn", "setting_id"),
    "name": ("site_name",),
    "needs": ("need", "need_types", "needs_served"),
    "phases": ("phase",),
    "places": ("max_places", "capacity"),
    "capital_cost_gbp": ("capital_cost", "capital_gbp"),
    "annual_cost_per_place_gbp": ("cost_per_place_gbp", "annual_cost_gbp", "cost_per_place"),
    **LOCATION_ALIASES,
}


def load_sites(
    path: str | Path,
    *,
    setting_ids: set[str] | None = None,
    provision: pd.DataFrame | None = None,
    postcodes: PostcodeIndex | None = None,
    sheet: str | None = None,
    rejected_settings: Mapping[str, str] | None = None,
    area: object = None,
    buffer_m: float = 1000.0,
) -> LoadResult:
    """Load candidate inclusion-base sites.

    Parameters
    ----------
    path
        CSV or Excel with ``site_id, host_setting_id, name, needs, phases, places,
        capital_cost_gbp`` and optional ``annual_cost_per_place_gbp``, ``easting``/``northing``
        (or ``postcode``).
    setting_ids
        Setting ids ``host_setting_id`` must be one of (default: those of ``provision``).
    provision
        Loaded provision; a site without its own location takes its host's.
    postcodes
        Lookup for sites located by postcode.
    sheet
        Excel sheet name.
    rejected_settings
        Setting id -> where its row was rejected (e.g. "provision.csv row 6"); a site whose host
        is one of them is rejected with that reason rather than "no such setting".
    area
        The authority (boundary or its areas, EPSG:27700); a site outside it (plus
        ``buffer_m``) is rejected, naming its row and columns (swapped easting and northing
        put a base in the sea and the model would still run). ``None``: not checked.
    buffer_m
        Metres allowed beyond the authority's boundary.

    Returns
    -------
    result
        ``data``: GeoDataFrame (EPSG:27700) in the ``candidate sites`` layout.

    Raises
    ------
    InputFileError
        For whole-file problems and missing required columns.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    cols = resolve_columns(frame, _SITE_ALIASES)
    require_columns(frame, cols, file, ["site_id", "host_setting_id", "phases", "places"])
    require_columns(frame, cols, file, ["capital_cost_gbp"])
    notes = ignored_columns_note(frame, cols, file)
    rejects = Rejects(file)
    reject_extra_cells(frame, rejects)
    if setting_ids is None and provision is not None:
        setting_ids = set(provision["setting_id"].astype(str))

    site_id = clean_ids(frame[cols["site_id"]])
    rejects.add_mask(site_id.isna(), "site_id", "empty")
    check_duplicates(site_id, "site_id", rejects)
    host = clean_ids(frame[cols["host_setting_id"]])
    rejects.add_mask(host.isna(), "host_setting_id", "empty (expected the host school's URN)")
    if setting_ids is not None:
        reject_unknown_settings(
            host,
            host.notna() & ~host.isin({str(s) for s in setting_ids}).fillna(False),
            "host_setting_id",
            "no such setting in the provision file; check the id or add the school there",
            rejected_settings,
            rejects,
        )
    needs, needs_bad = parse_need_lists(text_column(frame, cols, "needs"))
    rejects.add_found(
        needs_bad,
        "needs",
        text_column(frame, cols, "needs"),
        f"not a SEN2 need code or DfE name (expected ';'-separated {NEEDS_EXPECTED})",
        need_hint,
    )
    phases, ph_empty, ph_bad = parse_phase_lists(frame[cols["phases"]])
    rejects.add_found(
        ph_empty | ph_bad,
        "phases",
        frame[cols["phases"]],
        "expected primary, secondary and/or post16",
        phase_hint,
    )
    places, capital, cost = _numbers(frame, cols, rejects)

    has_loc = any(c in cols for c in ("easting", "latitude", "postcode"))
    if has_loc:
        loc_rejects = Rejects(file)
        loc = locate_rows(frame, cols, loc_rejects, postcodes)
        for _, rej in loc_rejects.frame().iterrows():
            if rej["column"] != "location":  # no location given: use the host's below
                rejects.add([rej["row"]], str(rej["column"]), str(rej["reason"]))
        easting, northing = loc.easting, loc.northing
    else:
        easting = pd.Series(np.nan, index=frame.index)
        northing = pd.Series(np.nan, index=frame.index)
    if provision is not None:
        hosts = provision.drop_duplicates("setting_id").set_index(
            provision["setting_id"].drop_duplicates().astype(str)
        )
        easting = easting.fillna(host.map(hosts["easting"]).astype(float))
        northing = northing.fillna(host.map(hosts["northing"]).astype(float))

    _reject_outside(easting, northing, area, buffer_m, rejects)
    keep = ~frame.index.isin(list(rejects.rows))
    data = pd.DataFrame(
        {
            "site_id": site_id[keep].astype(str),
            "host_setting_id": host[keep].astype(str),
            "name": text_column(frame, cols, "name").replace("", pd.NA)[keep].fillna(site_id[keep]),
            "needs": needs[keep].astype(str),
            "phases": phases[keep].astype(str),
            "places": places[keep].astype("int64"),
            "capital_cost_gbp": capital[keep].astype(float),
            "annual_cost_per_place_gbp": cost[keep].astype(float),
            "easting": easting[keep].astype(float),
            "northing": northing[keep].astype(float),
        },
        index=frame.index[keep],
    )
    data["name"] = data["name"].astype(str)
    gdf = schemas.validate_sites(to_points(data))
    return rejects.result(gdf, frame, notes)


def _numbers(
    frame: pd.DataFrame, cols: dict[str, str], rejects: Rejects
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Places, capital cost and annual cost per place (NaN where not given), rejecting bad ones."""
    places, pl_empty, pl_bad = parse_numbers(frame[cols["places"]])
    rejects.add_found(
        pl_empty | pl_bad | ~(places > 0) | (places % 1 != 0),
        "places",
        frame[cols["places"]],
        "expected a whole number of places, more than 0",
    )
    capital, cap_empty, cap_bad = parse_numbers(frame[cols["capital_cost_gbp"]])
    rejects.add_found(
        cap_empty | cap_bad | (capital < 0),
        "capital_cost_gbp",
        frame[cols["capital_cost_gbp"]],
        POUNDS_EXPECTED,
    )
    cost = parse_annual_cost(frame, cols, rejects)
    return places, capital, cost


def _reject_outside(
    easting: pd.Series, northing: pd.Series, area: object, buffer_m: float, rejects: Rejects
) -> None:
    """Reject sites located outside the authority (plus ``buffer_m``), saying when swapping
    easting and northing would put the site inside."""
    geom = authority_geometry(area, buffer_m=buffer_m)
    if geom is None:
        return
    e, n = easting.fillna(0).to_numpy(float), northing.fillna(0).to_numpy(float)
    out = (easting.notna() & northing.notna()).to_numpy() & ~shapely.contains_xy(geom, e, n)
    swapped = shapely.contains_xy(geom, n, e)
    for k in np.flatnonzero(out):
        fix = (
            "easting and northing look swapped"
            if swapped[k]
            else "check the site's location (British National Grid metres, EPSG:27700) or its "
            "host school's"
        )
        rejects.add(
            [easting.index[int(k)]],
            "easting/northing",
            f"outside the authority (plus {buffer_m:g} m) at ({e[k]:.0f}, {n[k]:.0f}); {fix}",
        )
