"""Pupils: NC years from date of birth and :func:`load_pupils`."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import shapely

from placeplan import schemas
from placeplan._errors import InputFileError
from placeplan.needs import phase_of_nc_year
from placeplan.prepare.io._common import (
    NEEDS_EXPECTED,
    PUPIL_PRIVATE_COLUMNS,
    Rejects,
    check_duplicates,
    clean_ids,
    column_key,
    ignored_columns_note,
    missing_column,
    need_hint,
    parse_bools,
    parse_need_code,
    reject_extra_cells,
    reject_unknown_settings,
    require_columns,
    resolve_columns,
    text_column,
)
from placeplan.prepare.io._locate import (
    LOCATION_ALIASES,
    authority_geometry,
    check_location_columns,
    locate_rows,
    to_points,
)
from placeplan.prepare.io._read import read_table
from placeplan.vocab import academic_year_start, did_you_mean

if TYPE_CHECKING:
    from placeplan.prepare.geocode import PostcodeIndex
    from placeplan.prepare.io._common import LoadResult


logger = logging.getLogger(__package__)  # the package's logger, as before the split

#: How a pupil whose ``transport_assisted`` is blank (unknown) is treated, said wherever it counts.
TRANSPORT_UNKNOWN_RULE = (
    "transport assistance unknown: counted as not assisted in transport cost (so the cost is a "
    "lower bound) and listed as unknown in the row accounting"
)


# --------------------------------------------------------------------------------------------
# Pupils
# --------------------------------------------------------------------------------------------

_PUPIL_ALIASES: dict[str, tuple[str, ...]] = {
    "pupil_ref": ("pupil_id", "ref", "reference", "child_ref", "person_id", "pseudo_id", "id"),
    "need_type": ("primary_need", "need", "sen_primary_need", "primary_sen_type", "sen_type"),
    "plan_type": ("sen_provision", "provision_type", "plan", "ehcp_or_sen_support", "sen_status"),
    "nc_year": ("ncyear", "year_group", "national_curriculum_year", "nc_year_actual", "year"),
    "date_of_birth": ("dob", "birth_date", "birthdate"),
    "current_setting_id": ("setting_id", "urn", "current_urn", "school_urn", "current_setting"),
    "transport_assisted": ("transport", "sen_transport", "home_to_school_transport", "hts"),
    **LOCATION_ALIASES,
}
_PLAN_TYPES = {
    "ehcp": "EHCP",
    "ehc": "EHCP",
    "ehcplan": "EHCP",
    "e": "EHCP",
    "statement": "EHCP",
    "s": "EHCP",
    "sensupport": "SEN_support",
    "support": "SEN_support",
    "k": "SEN_support",
    "sens": "SEN_support",
    "sen": "SEN_support",
}
_NC_RECEPTION = {"R", "REC", "RECEPTION", "YR", "YEARR", "F2", "FS2"}
_NC_NURSERY = {"N", "N1", "N2", "NURSERY", "F1", "FS1"}
# Prefixes of a written year group: Y1, Yr 1, Year 1, NC1, NC Year 1, Year group 1.
_NC_PREFIXED = re.compile(r"^(?:Y|YR|YEAR|NC|NCY|NCYEAR|YEARGROUP)(\d{1,2})$")
_NC_INTEGER = re.compile(r"^\+?(-?\d{1,3})$")
# "3.0": what pandas writes for a whole number in a column that has a blank cell.
_NC_WHOLE_DECIMAL = re.compile(r"^(\d{1,2})\.0+$")
_NC_RANGE = "N (or -1) for nursery, R (or 0) for Reception, 1 to 14"
_NC_REFUSED = (
    ("negative_decimal", re.compile(r"^-\d+[.,]\d+$")),
    ("fraction", re.compile(r"^\d+[.,]\d+$")),
    (
        "range",
        re.compile(r"^(?:Y|YR|YEAR|NC|NCYEAR)?\d{1,2}(?:-|–|/|TO|&|\+|,)(?:Y|YR|YEAR)?\d{1,2}$"),
    ),
)
#: Reasons a written NC year is refused (the reason quotes the value, as for a need code; a value
#: that looks like a date is withheld: see ``Rejects.add_found``).
_NC_REASONS = {
    "range": f"a range or list of years, not one NC year (give one of {_NC_RANGE})",
    "fraction": f"not a whole year (give one of {_NC_RANGE})",
    "negative_decimal": (
        "a negative decimal is not an NC year (write N or -1 for nursery; other negative "
        "numbers are not years)"
    ),
    "out_of_range": f"outside the NC years (expected {_NC_RANGE})",
    "unknown": f"not an NC year (expected {_NC_RANGE}, e.g. 3, Y3, Year 3, R, N1)",
}


def _nc_year(text: str) -> tuple[int | None, str | None]:
    """Read one written NC year; return (year, None) or (None, reason key). Never guesses."""
    key = re.sub(r"[\s_]+", "", text.upper())
    if key in _NC_RECEPTION:
        return 0, None
    if key in _NC_NURSERY:
        return -1, None
    m = _NC_INTEGER.match(key) or _NC_WHOLE_DECIMAL.match(key) or _NC_PREFIXED.match(key)
    if m is None:
        for reason, pattern in _NC_REFUSED:
            if pattern.match(key):
                return None, reason
        return None, "unknown"
    year = int(m.group(1))
    if not -1 <= year <= 14:
        return None, "out_of_range"
    return year, None


def _nc_years(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse written NC years; return (years ``Int64``, empty mask, refusal reason or NA).

    Accepted: whole numbers -1 to 14; the same with a ``.0`` (pandas writes ``3.0`` in a column
    that has a blank); ``Y3``, ``Yr 3``, ``Year 3``, ``NC 3``, ``Year group 3``; ``R``/``Reception``
    (0); ``N``, ``N1``, ``N2``, ``Nursery`` (-1). Anything else (``1-2``, ``1.5``, ``-1.0``,
    ``Y15``, ``Year one``) is refused with a reason; nothing is guessed.
    """
    text = values.astype("string").fillna("").str.strip()
    years: list[object] = []
    reasons: list[object] = []
    for value in text:
        if not value:
            years.append(pd.NA)
            reasons.append(pd.NA)
            continue
        year, reason = _nc_year(str(value))
        years.append(pd.NA if year is None else year)
        reasons.append(pd.NA if reason is None else _NC_REASONS[reason])
    out = pd.Series(years, index=values.index, dtype="Int64")
    return out, text == "", pd.Series(reasons, index=values.index, dtype="string")


def _parse_dates(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip().str.replace(r"[T ]\d.*$", "", regex=True)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        todo = out.isna() & (text != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return out


def _academic_year_start(census_date: object) -> int:
    if census_date is None:
        day = dt.date.today()
    elif isinstance(census_date, dt.date):
        day = census_date
    else:
        day = dt.date.fromisoformat(str(census_date))
    return academic_year_start(day)


def nc_year_from_birth(dob: pd.Series, census_date: object = None) -> pd.Series:
    """Return the NC year (Reception = 0) for dates of birth in the academic year of a census.

    England's rule: a child is in Reception in the academic year (1 September to 31 August) that
    starts after their fourth birthday, i.e. NC year = (age on 31 August before the year) - 4.

    Parameters
    ----------
    dob
        Dates of birth (datetime64).
    census_date
        A date in the academic year of interest (default: today).

    Returns
    -------
    nc_year
        ``Int64``; NA where the date is missing.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2018-09-01", "2019-08-31", "2019-09-01"]))
    >>> nc_year_from_birth(s, "2024-01-18").tolist()
    [0, 0, -1]
    """
    start = _academic_year_start(census_date)
    years = dob.dt.year
    after_aug = (dob.dt.month > 8).astype("Int64")
    age_31_aug = start - years.astype("Int64") - after_aug
    return (age_31_aug - 4).astype("Int64")


def load_pupils(
    path: str | Path,
    *,
    postcodes: PostcodeIndex | None,
    setting_ids: set[str] | None = None,
    area: object = None,
    buffer_m: float = 0.0,
    census_date: object = None,
    sheet: str | None = None,
    settings_file: str = "the provision files",
    rejected_settings: Mapping[str, str] | None = None,
    skipped_settings: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load, validate and geocode the pupil file; every row is used or rejected with a reason.

    Parameters
    ----------
    path
        CSV or Excel file. Columns (case and spacing ignored; common aliases accepted):
        ``pupil_ref``; location as ``postcode``, or ``easting`` + ``northing`` (EPSG:27700), or
        ``latitude`` + ``longitude``; ``need_type`` (SEN2 code or DfE text); ``plan_type``
        (EHCP / SEN support); ``nc_year`` or ``date_of_birth``; optional ``current_setting_id``
        and ``transport_assisted`` (yes/no; blank = unknown, see Notes).
    postcodes
        Offline postcode lookup; needed when locations are postcodes.
    setting_ids
        Known setting ids (provision and out-of-area files); ``current_setting_id`` must be one.
    area
        Authority boundary (GeoDataFrame/GeoSeries/geometry, EPSG:27700); pupils located outside
        it (plus ``buffer_m``) are rejected. ``None`` skips the check.
    buffer_m
        Tolerance around ``area`` in metres (postcode points on the coast, boundary roads).
    census_date
        Date the NC years refer to when derived from date of birth (default today).
    sheet
        Excel sheet name (default the first).
    settings_file
        How to name the setting files in rejection reasons.
    rejected_settings
        Setting id -> where its row was rejected (``"provision.csv row 4"``), so a pupil there
        is told that setting's row was rejected.
    skipped_settings
        Setting id -> why a GIAS export skipped it and where (:attr:`LoadResult.skipped_ids`),
        e.g. ``"closed school (gias.csv row 7)"``; a pupil there is told so, naming the URN.

    Returns
    -------
    result
        ``data`` is a GeoDataFrame (EPSG:27700) with ``pupil_ref, need_type, plan_type, nc_year,
        phase, current_setting_id, transport_assisted, transport_assisted_known, postcode,
        origin_id, easting, northing, lsoa11cd, geocode_status, geometry``;
        ``geocode_status`` is a :meth:`PostcodeIndex.geocode` status or ``coordinates``.

    Raises
    ------
    InputFileError
        For whole-file problems: missing/empty/unreadable file, wrong delimiter, missing required
        column (with the closest column name suggested), no data rows.

    Notes
    -----
    Nothing is guessed. ``nc_year`` accepts whole numbers -1 to 14 (also written ``3.0``, as
    pandas writes a whole number in a column that has a blank), ``Y3``/``Yr 3``/``Year 3``/
    ``NC 3``, ``R``/``Reception`` (0) and ``N``/``N1``/``N2``/``Nursery`` (-1); a range
    (``1-2``), a fraction (``1.5``), a negative decimal (``-1.0``) or a year outside N to 14
    is rejected with its reason. A blank ``transport_assisted`` is *unknown*, not a fault: it is
    counted as not assisted in transport cost (a lower bound) and reported in ``notes`` and as
    ``transport_assisted_known = False``. A pupil whose ``current_setting_id`` is a setting the
    provision file lists as closed (GIAS) is rejected with a reason naming the closed school.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    cols = resolve_columns(frame, _PUPIL_ALIASES)
    require_columns(frame, cols, file, ["pupil_ref", "need_type", "plan_type"])
    if "nc_year" not in cols and "date_of_birth" not in cols:
        missing_column(frame, file, "nc_year", " (give nc_year or date_of_birth)")
    check_location_columns(frame, cols, file)
    if frame.empty:
        msg = "no pupil rows below the header"
        raise InputFileError(msg, file=file, row=2)
    notes = ignored_columns_note(frame, cols, file)
    rejects = Rejects(file, private=PUPIL_PRIVATE_COLUMNS)
    reject_extra_cells(frame, rejects)

    ref = clean_ids(frame[cols["pupil_ref"]])
    rejects.add_mask(ref.isna(), "pupil_ref", "empty (every pupil needs a pseudonymised reference)")
    check_duplicates(ref, "pupil_ref", rejects)

    need = text_column(frame, cols, "need_type").map(lambda t: parse_need_code(t) if t else None)
    need_text = text_column(frame, cols, "need_type")
    rejects.add_mask(need_text == "", "need_type", f"empty (expected one of {NEEDS_EXPECTED})")
    rejects.add_found(
        (need_text != "") & need.isna(),
        "need_type",
        need_text,
        f"not a SEN2 need code or DfE name (expected one of {NEEDS_EXPECTED})",
        need_hint,
    )

    plan_text = text_column(frame, cols, "plan_type")
    plan = plan_text.map(lambda t: _PLAN_TYPES.get(column_key(t)) if t else None)
    rejects.add_found(
        plan.isna(),
        "plan_type",
        plan_text,
        "not a plan type (expected EHCP or SEN support)",
        lambda t: did_you_mean(t, ("EHCP", "SEN support")),
    )

    nc = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    nc_empty = pd.Series(True, index=frame.index)
    if "nc_year" in cols:
        nc, nc_empty, nc_reason = _nc_years(frame[cols["nc_year"]])
        for reason in sorted(set(nc_reason.dropna())):
            rejects.add_found(nc_reason == reason, "nc_year", frame[cols["nc_year"]], str(reason))
    if "date_of_birth" in cols:
        dob_text = text_column(frame, cols, "date_of_birth")
        dob = _parse_dates(dob_text)
        use = nc_empty & (dob_text != "")
        rejects.add_mask(
            use & dob.isna(),
            "date_of_birth",
            "not a date (expected YYYY-MM-DD or DD/MM/YYYY)",
        )
        derived = nc_year_from_birth(dob, census_date)
        out_of_range = use & dob.notna() & ~derived.between(-1, 14).fillna(False)
        rejects.add_mask(
            out_of_range,
            "date_of_birth",
            "gives an NC year outside nursery to year 14 for the census date; check the date "
            "of birth (YYYY-MM-DD or DD/MM/YYYY) or give nc_year instead",
        )
        nc = nc.mask(use & dob.notna() & ~out_of_range, derived)
        nc_empty = nc_empty & (dob_text == "")
    rejects.add_mask(
        nc_empty,
        "nc_year",
        "empty (give nc_year or date_of_birth)" if "date_of_birth" in cols else "empty",
    )

    setting = clean_ids(text_column(frame, cols, "current_setting_id"))
    if "current_setting_id" not in cols:
        notes.append(f"{file}: no current_setting_id column; pupils treated as not yet placed")
    if setting_ids is not None:
        known = {str(s) for s in setting_ids}
        unknown = setting.notna() & ~setting.isin(known).fillna(False)
        for urn, why in sorted((skipped_settings or {}).items()):
            here = unknown & (setting == urn).fillna(False)
            if here.any():
                rejects.add_mask(
                    here,
                    "current_setting_id",
                    f"current setting is a {why.replace('(', f'(URN {urn}, ', 1)}; give the "
                    "setting the pupil attends now (or leave it blank if not placed)",
                )
                unknown = unknown & ~here
        reject_unknown_settings(
            setting,
            unknown,
            "current_setting_id",
            f"no such setting in {settings_file}; check the id or add the setting there",
            rejected_settings,
            rejects,
        )

    # transport_assisted is optional: a blank cell (or no column) is "unknown", not a fault.
    # Rule (TRANSPORT_UNKNOWN_RULE): unknown counts as not assisted in transport cost, and the
    # count of unknowns is reported (notes; ``transport_assisted_known`` is False for them).
    if "transport_assisted" in cols:
        transport, t_empty, t_bad = parse_bools(frame[cols["transport_assisted"]])
        rejects.add_found(
            t_bad,
            "transport_assisted",
            frame[cols["transport_assisted"]],
            "expected yes or no (or leave blank if not known)",
        )
    else:
        transport = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        t_empty = pd.Series(True, index=frame.index)
        notes.append(f"{file}: no transport_assisted column; {TRANSPORT_UNKNOWN_RULE}")

    loc = locate_rows(frame, cols, rejects, postcodes)
    geom = authority_geometry(area, buffer_m=buffer_m)
    if geom is not None:
        has_xy = loc.easting.notna() & loc.northing.notna()
        inside = pd.Series(
            shapely.contains_xy(geom, loc.easting.fillna(0), loc.northing.fillna(0)),
            index=frame.index,
        )
        for source in loc.source_column[has_xy & ~inside].unique():
            rejects.add_mask(
                has_xy & ~inside & (loc.source_column == source),
                str(source),
                f"outside the authority (plus {buffer_m:g} m); check the location",
            )

    keep = ~frame.index.isin(list(rejects.rows))
    nc_kept = nc[keep].astype("int64")
    data = pd.DataFrame(
        {
            "pupil_ref": ref[keep].astype(str),
            "need_type": need[keep].astype(str),
            "plan_type": plan[keep].astype(str),
            "nc_year": nc_kept,
            "phase": nc_kept.map(phase_of_nc_year).astype(str),
            "current_setting_id": setting[keep].astype("string"),
            "transport_assisted": transport[keep].fillna(False).astype(bool),
            "transport_assisted_known": ~t_empty[keep].astype(bool),
            "postcode": loc.postcode[keep].astype("string"),
            "origin_id": loc.origin_id[keep].astype(str),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "lsoa11cd": loc.lsoa11cd[keep].astype("string"),
            "geocode_status": loc.status[keep].astype(str),
        },
        index=frame.index[keep],
    )
    gdf = schemas.validate_pupils(to_points(data))
    n_unknown = int(t_empty[keep].sum())
    if n_unknown and "transport_assisted" in cols:
        notes.append(
            f"{file}: {n_unknown} pupils have a blank transport_assisted; {TRANSPORT_UNKNOWN_RULE}"
        )
    n_corrected = int((loc.status[keep] == "corrected").sum())
    n_terminated = int((loc.status[keep] == "terminated").sum())
    if n_corrected:
        notes.append(f"{file}: {n_corrected} postcodes corrected for O/0 or I/1 typos")
    if n_terminated:
        notes.append(f"{file}: {n_terminated} terminated postcodes located at their last position")
    result = rejects.result(gdf, frame, notes)
    logger.info(
        "load_pupils: %s rows read, %s used, %s rejected",
        result.rows_read,
        result.rows_used,
        result.rows_rejected,
    )
    return result
