"""Provision in the own format (:func:`load_provision`) or from GIAS (:func:`load_gias`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from placeplan import schemas
from placeplan.prepare.io._common import (
    NEEDS_EXPECTED,
    LoadResult,
    Rejects,
    check_duplicates,
    clean_ids,
    column_key,
    ignored_columns_note,
    missing_column,
    need_hint,
    parse_annual_cost,
    parse_bools,
    parse_need_lists,
    parse_numbers,
    parse_phase_lists,
    phase_hint,
    reject_extra_cells,
    rejected_id_rows,
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
from placeplan.vocab import did_you_mean

if TYPE_CHECKING:
    from placeplan.prepare.geocode import PostcodeIndex


# --------------------------------------------------------------------------------------------
# Provision
# --------------------------------------------------------------------------------------------

_PROVISION_ALIASES: dict[str, tuple[str, ...]] = {
    "setting_id": ("urn", "id", "setting", "ooa_id", "setting_urn"),
    "name": ("setting_name", "establishment_name", "establishmentname", "school_name"),
    "provision_type": ("type", "setting_type", "provision"),
    "host_setting_id": ("host_urn", "host", "host_setting", "host_school_urn"),
    "phases": ("phase", "phase_of_education", "phases_served"),
    "needs": ("need", "need_types", "needs_served", "sen_needs", "designation"),
    "capacity": ("places", "school_capacity", "schoolcapacity", "commissioned_places"),
    "on_roll": ("number_on_roll", "nor", "numberofpupils", "pupils_on_roll", "roll"),
    "in_area": ("in_authority", "in_la", "within_authority"),
    "annual_cost_per_place_gbp": ("cost_per_place_gbp", "annual_cost_gbp", "cost_per_place"),
    "ferry_required": ("ferry", "crosses_water"),
    **LOCATION_ALIASES,
}
_PROVISION_TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("mainstream", "mainstreamschool", "school", "academy"), "mainstream"),
    **dict.fromkeys(
        (
            "inclusionbase",
            "resourcedprovision",
            "rp",
            "resourcebase",
            "senunit",
            "unit",
            "specialistresourceprovision",
            "srp",
            "arp",
            "additionallyresourcedprovision",
            "enhancedresourceprovision",
        ),
        "inclusion_base",
    ),
    **dict.fromkeys(
        ("special", "specialschool", "maintainedspecial", "academyspecial", "laspecial"), "special"
    ),
    **dict.fromkeys(
        (
            "independent",
            "independentspecial",
            "independentspecialschool",
            "iss",
            "independentschool",
            "specialpost16institution",
            "spi",
        ),
        "independent",
    ),
    **dict.fromkeys(
        ("nonmaintained", "nonmaintainedspecial", "nonmaintainedspecialschool", "nmss"),
        "non_maintained",
    ),
    **dict.fromkeys(("ap", "alternativeprovision", "pru", "pupilreferralunit"), "ap"),
    **dict.fromkeys(("fe", "college", "furthereducation", "fecollege", "sixthformcollege"), "fe"),
}


def _provision_frame(
    frame: pd.DataFrame,
    file: str,
    *,
    postcodes: PostcodeIndex | None,
    area: object,
    in_area_default: bool,
    known_setting_ids: set[str] | None,
) -> tuple[pd.DataFrame, Rejects, list[str]]:
    cols = resolve_columns(frame, _PROVISION_ALIASES)
    require_columns(frame, cols, file, ["setting_id", "provision_type", "phases", "capacity"])
    check_location_columns(frame, cols, file)
    notes = ignored_columns_note(frame, cols, file)
    rejects = Rejects(file)
    reject_extra_cells(frame, rejects)

    setting_id = clean_ids(frame[cols["setting_id"]])
    rejects.add_mask(setting_id.isna(), "setting_id", "empty (expected a URN or unique id)")
    check_duplicates(setting_id, "setting_id", rejects)

    ptype_text = text_column(frame, cols, "provision_type")
    ptype = ptype_text.map(lambda t: _PROVISION_TYPE_ALIASES.get(column_key(t)))
    rejects.add_found(
        ptype.isna(),
        "provision_type",
        ptype_text,
        f"not a provision type (expected one of {', '.join(schemas.PROVISION_TYPES)})",
        lambda t: did_you_mean(t, schemas.PROVISION_TYPES),
    )

    host = clean_ids(text_column(frame, cols, "host_setting_id"))
    ids_here = set(setting_id.dropna())
    known = ids_here | {str(s) for s in (known_setting_ids or set())}
    is_ib = ptype == "inclusion_base"
    rejects.add_mask(
        is_ib & host.isna(),
        "host_setting_id",
        "empty (an inclusion base needs the setting_id of its host school)",
    )
    rejects.add_found(
        host.notna() & ~host.isin(known).fillna(False),
        "host_setting_id",
        host,
        "no such setting_id in the provision file",
    )

    phases, ph_empty, ph_bad = parse_phase_lists(frame[cols["phases"]])
    rejects.add_mask(ph_empty, "phases", "empty (expected primary, secondary and/or post16)")
    rejects.add_found(
        ph_bad,
        "phases",
        frame[cols["phases"]],
        "not a phase (expected primary, secondary and/or post16)",
        phase_hint,
    )

    needs, needs_bad = parse_need_lists(text_column(frame, cols, "needs"))
    rejects.add_found(
        needs_bad,
        "needs",
        text_column(frame, cols, "needs"),
        f"not a SEN2 need code or DfE name (expected ';'-separated {NEEDS_EXPECTED}, or empty "
        "for any need)",
        need_hint,
    )

    capacity, cap_empty, cap_bad = parse_numbers(frame[cols["capacity"]])
    cap_wrong = cap_bad | (capacity < 0) | (capacity % 1 != 0)
    rejects.add_mask(cap_empty, "capacity", "empty (expected a whole number of places, 0 or more)")
    rejects.add_found(
        ~cap_empty & cap_wrong,
        "capacity",
        frame[cols["capacity"]],
        "expected a whole number, 0 or more",
    )

    if "on_roll" in cols:
        on_roll, roll_empty, roll_bad = parse_numbers(frame[cols["on_roll"]])
        roll_wrong = roll_bad | (on_roll < 0) | (on_roll % 1 != 0)
        rejects.add_found(
            ~roll_empty & roll_wrong,
            "on_roll",
            frame[cols["on_roll"]],
            "expected a whole number, 0 or more",
        )
        on_roll = on_roll.fillna(0)
    else:
        on_roll = pd.Series(0.0, index=frame.index)
        notes.append(f"{file}: no on_roll column; on_roll set to 0")

    cost = parse_annual_cost(frame, cols, rejects)

    ferry = pd.Series(False, index=frame.index, dtype="boolean")
    if "ferry_required" in cols:
        ferry, _f_empty, f_bad = parse_bools(frame[cols["ferry_required"]])
        rejects.add_found(
            f_bad, "ferry_required", frame[cols["ferry_required"]], "expected yes or no"
        )
        ferry = ferry.fillna(False)

    loc = locate_rows(frame, cols, rejects, postcodes, coordinate_prefix="EN")
    geom = authority_geometry(area)
    if "in_area" in cols:
        in_area, ia_empty, ia_bad = parse_bools(frame[cols["in_area"]])
        rejects.add_found(ia_bad, "in_area", frame[cols["in_area"]], "expected yes or no")
    else:
        in_area = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        ia_empty = pd.Series(True, index=frame.index)
    if geom is not None:
        inside = shapely.contains_xy(geom, loc.easting.fillna(-1), loc.northing.fillna(-1))
        in_area = in_area.mask(ia_empty, pd.Series(inside, index=frame.index))
    in_area = in_area.fillna(in_area_default)

    name = text_column(frame, cols, "name").replace("", pd.NA)
    keep = ~frame.index.isin(list(rejects.rows))
    data = pd.DataFrame(
        {
            "setting_id": setting_id[keep].astype(str),
            "name": name[keep].fillna(setting_id[keep]).astype(str),
            "provision_type": ptype[keep].astype(str),
            "host_setting_id": host[keep].astype("string"),
            "phases": phases[keep].astype(str),
            "needs": needs[keep].astype(str),
            "capacity": capacity[keep].astype("int64"),
            "on_roll": on_roll[keep].astype("int64"),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "in_area": in_area[keep].astype(bool),
            "annual_cost_per_place_gbp": cost[keep].astype(float),
            "ferry_required": ferry[keep].astype(bool),
            "postcode": loc.postcode[keep].astype("string"),
        },
        index=frame.index[keep],
    )
    return data, rejects, notes


def load_provision(
    path: str | Path,
    *,
    postcodes: PostcodeIndex | None = None,
    area: object = None,
    in_area_default: bool = True,
    known_setting_ids: set[str] | None = None,
    sheet: str | None = None,
    la_codes: list[str] | None = None,
    buffer_m: float = 0.0,
) -> LoadResult:
    """Load the placeplan provision table (or an out-of-area settings file in the same format).

    Parameters
    ----------
    path
        CSV or Excel with ``setting_id, name, provision_type, host_setting_id, phases, needs,
        capacity, on_roll`` and a location (``easting``/``northing``, ``latitude``/``longitude``
        or ``postcode``); optional ``in_area``, ``annual_cost_per_place_gbp``,
        ``ferry_required``.
    postcodes
        Lookup for rows located by postcode.
    area
        Authority boundary (EPSG:27700); fills ``in_area`` where the file leaves it empty.
    in_area_default
        ``in_area`` where neither the file nor ``area`` says (``False`` for the out-of-area file).
    known_setting_ids
        Setting ids from other files that ``host_setting_id`` may refer to.
    sheet
        Excel sheet name.
    la_codes, buffer_m
        Used only when the file is a GIAS export (recognised by its header): passed to
        :func:`load_gias`.

    Returns
    -------
    result
        ``data``: GeoDataFrame (EPSG:27700) in the ARCHITECTURE ``provision`` layout (plus
        ``postcode``); ``annual_cost_per_place_gbp`` is NaN where not given (fill from the plan's
        costs).

    Raises
    ------
    InputFileError
        For whole-file problems (see :func:`read_table`) and missing required columns.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    if {column_key(c) for c in GIAS_REQUIRED} <= {column_key(c) for c in frame.columns}:
        return load_gias(path, la_codes=la_codes, area=area, buffer_m=buffer_m, postcodes=postcodes)
    data, rejects, notes = _provision_frame(
        frame,
        file,
        postcodes=postcodes,
        area=area,
        in_area_default=in_area_default,
        known_setting_ids=known_setting_ids,
    )
    gdf = schemas.validate_provision(to_points(data))
    result = rejects.result(gdf, frame, notes)
    ids = clean_ids(frame[resolve_columns(frame, _PROVISION_ALIASES)["setting_id"]])
    return replace(result, rejected_ids=rejected_id_rows(ids, rejects.rows, data["setting_id"]))


# --------------------------------------------------------------------------------------------
# GIAS
# --------------------------------------------------------------------------------------------

GIAS_REQUIRED: tuple[str, ...] = (
    "URN",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "LA (code)",
)
_GIAS_OPEN = {"open", "open, but proposed to close"}
_GIAS_TYPES: dict[str, str] = {
    **{
        column_key(t): "mainstream"
        for t in (
            "Community school",
            "Voluntary aided school",
            "Voluntary controlled school",
            "Foundation school",
            "Academy converter",
            "Academy sponsor led",
            "Free schools",
            "University technical college",
            "Studio schools",
            "City technology college",
            "Academy 16-19 converter",
            "Academy 16-19 sponsor led",
            "Free schools 16 to 19",
            "Local authority nursery school",
        )
    },
    **{
        column_key(t): "special"
        for t in (
            "Community special school",
            "Foundation special school",
            "Academy special converter",
            "Academy special sponsor led",
            "Free schools special",
        )
    },
    column_key("Non-maintained special school"): "non_maintained",
    column_key("Other independent special school"): "independent",
    column_key("Other independent school"): "independent",
    column_key("Special post 16 institution"): "independent",
    **{
        column_key(t): "ap"
        for t in (
            "Pupil referral unit",
            "Academy alternative provision converter",
            "Academy alternative provision sponsor led",
            "Free schools alternative provision",
        )
    },
    column_key("Further education"): "fe",
    column_key("Sixth form centres"): "fe",
}
_GIAS_PHASE_AGES = {"primary": (2, 11), "secondary": (11, 16), "post16": (16, 25)}


def _gias_phases(frame: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    low, _, _ = parse_numbers(text_column(frame, cols, "StatutoryLowAge"))
    high, _, _ = parse_numbers(text_column(frame, cols, "StatutoryHighAge"))
    phase_name = text_column(frame, cols, "PhaseOfEducation (name)")
    named, _, _ = parse_phase_lists(phase_name)
    out = []
    for lo, hi, by_name in zip(low, high, named, strict=True):
        if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            found = [p for p, (a, b) in _GIAS_PHASE_AGES.items() if lo < b and hi > a]
            out.append(";".join(found) if found else by_name)
        else:
            out.append(by_name)
    return pd.Series(out, index=frame.index, dtype="string")


def load_gias(
    path: str | Path,
    *,
    la_codes: list[str] | None = None,
    area: object = None,
    buffer_m: float = 0.0,
    postcodes: PostcodeIndex | None = None,
) -> LoadResult:
    """Read a GIAS establishment export into provision rows, plus one inclusion base per RP/unit.

    Reads GIAS's own column names and encoding (Windows-1252). Keeps open establishments
    (``Open`` and ``Open, but proposed to close``) of school types placeplan models, in the
    authority (``la_codes``) or within ``buffer_m`` of ``area``. Each kept establishment with a
    resourced provision or SEN unit (capacity or pupils on roll) also gives an ``inclusion_base``
    row ``<URN>-IB-<first need>`` hosted by it, with the RP + unit capacity and the needs from
    ``SEN1 (name)`` … ``SEN13 (name)``; special schools get those needs too.

    Parameters
    ----------
    path
        GIAS ``edubasealldata*.csv`` (or a filtered extract) with its header unchanged.
    la_codes
        DfE LA codes (``"921"``) of the authority; settings there are ``in_area``.
    area
        Authority boundary (EPSG:27700). With ``buffer_m``, settings outside the LA but within the
        buffer are kept (as out of area).
    buffer_m
        Buffer around ``area`` in metres.
    postcodes
        Lookup for establishments without easting/northing.

    Returns
    -------
    result
        ``data`` in the ``provision`` layout (more rows than ``rows_used`` when inclusion bases
        are added); ``rows_skipped`` counts closed, out-of-scope type and out-of-area rows, and
        ``skipped`` itemises each with its reason (``skipped_ids`` maps their URNs to it).

    Raises
    ------
    InputFileError
        For whole-file problems or a missing GIAS column.
    """
    frame = read_table(path)
    file = Path(path).name
    wanted = [
        *GIAS_REQUIRED,
        "PhaseOfEducation (name)",
        "StatutoryLowAge",
        "StatutoryHighAge",
        "SchoolCapacity",
        "NumberOfPupils",
        "Easting",
        "Northing",
        "Postcode",
        "ResourcedProvisionOnRoll",
        "ResourcedProvisionCapacity",
        "SenUnitOnRoll",
        "SenUnitCapacity",
        "TypeOfResourcedProvision (name)",
        *[f"SEN{i} (name)" for i in range(1, 14)],
    ]
    cols = resolve_columns(frame, dict.fromkeys(wanted, ()))
    require_columns(frame, cols, file, GIAS_REQUIRED)
    if not (("Easting" in cols and "Northing" in cols) or "Postcode" in cols):
        missing_column(frame, file, "Easting")
    notes: list[str] = []
    rejects = Rejects(file)
    reject_extra_cells(frame, rejects)

    status = text_column(frame, cols, "EstablishmentStatus (name)").str.lower()
    type_name = text_column(frame, cols, "TypeOfEstablishment (name)")
    ptype = type_name.map(lambda t: _GIAS_TYPES.get(column_key(t)))
    la = clean_ids(text_column(frame, cols, "LA (code)"))
    is_open = status.isin(_GIAS_OPEN)
    skip = ~is_open | ptype.isna()
    if (is_open & ptype.isna()).any():
        counts = type_name[is_open & ptype.isna()].value_counts()
        listed = ", ".join(f"{k} ({v})" for k, v in counts.items())
        notes.append(f"{file}: open establishments of types not modelled, skipped: {listed}")

    urn = clean_ids(frame[cols["URN"]])
    rejects.add_mask(~skip & urn.isna(), "URN", "empty")
    check_duplicates(urn.where(~skip), "URN", rejects)

    loc_cols = {
        k: cols[v]
        for k, v in (("easting", "Easting"), ("northing", "Northing"), ("postcode", "Postcode"))
        if v in cols
    }
    # GIAS gives 0/empty for unknown grid references: fall back to the postcode.
    scoped = frame.copy()
    if "easting" in loc_cols:
        e, _, _ = parse_numbers(scoped[loc_cols["easting"]])
        n, _, _ = parse_numbers(scoped[loc_cols["northing"]])
        zero = (e.fillna(0) <= 0) | (n.fillna(0) <= 0)
        scoped.loc[zero, loc_cols["easting"]] = ""
        scoped.loc[zero, loc_cols["northing"]] = ""
    loc_rejects = Rejects(file)
    loc = locate_rows(scoped, loc_cols, loc_rejects, postcodes)
    loc_frame = loc_rejects.frame()
    in_la = la.isin(la_codes).fillna(False) if la_codes else pd.Series(True, index=frame.index)
    geom = authority_geometry(area, buffer_m=buffer_m)
    if geom is not None:
        near = pd.Series(
            shapely.contains_xy(geom, loc.easting.fillna(-1), loc.northing.fillna(-1)),
            index=frame.index,
        )
        in_scope = in_la | near if la_codes else near
        # An establishment of the LA without a location is kept (and rejected below).
        in_scope |= in_la & loc.easting.isna() if la_codes else False
    else:
        in_scope = in_la
    skip |= ~in_scope
    # Location problems only count for rows in scope.
    for _, rej in loc_frame.iterrows():
        if not skip.loc[rej["row"]]:
            rejects.add([rej["row"]], str(rej["column"]), str(rej["reason"]))

    capacity, cap_empty, cap_bad = parse_numbers(text_column(frame, cols, "SchoolCapacity"))
    on_roll, _roll_empty, roll_bad = parse_numbers(text_column(frame, cols, "NumberOfPupils"))
    for col, values, wrong in (
        ("SchoolCapacity", capacity, cap_bad),
        ("NumberOfPupils", on_roll, roll_bad),
    ):
        rejects.add_found(
            ~skip & (wrong | (values < 0)),
            col,
            text_column(frame, cols, col),
            "expected a number >= 0",
        )
    no_capacity = ~skip & cap_empty
    if no_capacity.any():
        notes.append(
            f"{file}: {int(no_capacity.sum())} open establishments have no SchoolCapacity; "
            "capacity set to NumberOfPupils (or 0)"
        )
    capacity = capacity.fillna(on_roll).fillna(0)
    on_roll = on_roll.fillna(0)

    phases = _gias_phases(frame, cols)
    rejects.add_mask(
        ~skip & (phases == ""),
        "PhaseOfEducation (name)",
        "no phase (StatutoryLowAge/StatutoryHighAge empty and phase not applicable)",
    )

    sen_cols = [cols[c] for c in (f"SEN{i} (name)" for i in range(1, 14)) if c in cols]
    sen_joined = (
        frame[sen_cols].astype("string").fillna("").agg(";".join, axis=1)
        if sen_cols
        else pd.Series("", index=frame.index, dtype="string")
    )
    needs, needs_bad = parse_need_lists(sen_joined)
    if (~skip & needs_bad).any():
        notes.append(
            f"{file}: {int((~skip & needs_bad).sum())} establishments list an SEN type that is "
            "not a SEN2 need; it was ignored"
        )

    rp_cap, _, _ = parse_numbers(text_column(frame, cols, "ResourcedProvisionCapacity"))
    rp_roll, _, _ = parse_numbers(text_column(frame, cols, "ResourcedProvisionOnRoll"))
    unit_cap, _, _ = parse_numbers(text_column(frame, cols, "SenUnitCapacity"))
    unit_roll, _, _ = parse_numbers(text_column(frame, cols, "SenUnitOnRoll"))
    ib_cap = rp_cap.fillna(0) + unit_cap.fillna(0)
    ib_roll = rp_roll.fillna(0) + unit_roll.fillna(0)
    ib_cap = ib_cap.where(ib_cap > 0, ib_roll)
    rejects.add_found(
        ~skip & ((rp_cap < 0) | (unit_cap < 0)).fillna(False),
        "ResourcedProvisionCapacity",
        text_column(frame, cols, "ResourcedProvisionCapacity").where(
            rp_cap < 0, text_column(frame, cols, "SenUnitCapacity")
        ),
        "expected a number >= 0",
    )

    keep = ~skip & ~frame.index.isin(list(rejects.rows))
    skipped_rows = skip & ~frame.index.isin(list(rejects.rows))
    skipped, skipped_ids = _gias_skipped(
        file,
        skipped_rows,
        is_open=is_open,
        modelled=ptype.notna(),
        status=text_column(frame, cols, "EstablishmentStatus (name)"),
        type_name=type_name,
        la=la,
        urn=urn,
        buffer_m=buffer_m if geom is not None else None,
    )
    base = pd.DataFrame(
        {
            "setting_id": urn[keep].astype(str),
            "name": text_column(frame, cols, "EstablishmentName")[keep].astype(str),
            "provision_type": ptype[keep].astype(str),
            "host_setting_id": pd.Series(pd.NA, index=frame.index[keep], dtype="string"),
            "phases": phases[keep].astype(str),
            "needs": needs[keep].where(ptype[keep] != "mainstream", "").astype(str),
            "capacity": capacity[keep].round().astype("int64"),
            "on_roll": on_roll[keep].round().astype("int64"),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "in_area": in_la[keep].astype(bool),
            "annual_cost_per_place_gbp": np.nan,
            "ferry_required": False,
            "la_code": la[keep].astype("string"),
        },
        index=frame.index[keep],
    )
    has_ib = keep & (ib_cap > 0) & (ptype == "mainstream")
    ib = base.loc[has_ib[keep].to_numpy()].copy()
    if len(ib):
        first_need = needs[has_ib].str.split(";").str[0].replace("", "ANY")
        ib["setting_id"] = ib["setting_id"] + "-IB-" + first_need.astype(str)
        ib["host_setting_id"] = base.loc[ib.index, "setting_id"].astype("string")
        ib["name"] = ib["name"] + " (inclusion base)"
        ib["provision_type"] = "inclusion_base"
        ib["needs"] = needs[has_ib].astype(str)
        ib["capacity"] = ib_cap[has_ib].round().astype("int64")
        ib["on_roll"] = ib_roll[has_ib].round().astype("int64")
    data = pd.concat([base, ib]) if len(ib) else base
    gdf = schemas.validate_provision(to_points(data))
    return LoadResult(
        data=gdf,
        rejections=rejects.frame(),
        rows_read=len(frame),
        rows_used=int(keep.sum()),
        file=file,
        rows_skipped=int(skipped_rows.sum()),
        notes=tuple(notes),
        skipped=skipped.frame(),
        skipped_ids=skipped_ids,
    )


def _gias_skipped(
    file: str,
    skipped_rows: pd.Series,
    *,
    is_open: pd.Series,
    modelled: pd.Series,
    status: pd.Series,
    type_name: pd.Series,
    la: pd.Series,
    urn: pd.Series,
    buffer_m: float | None,
) -> tuple[Rejects, dict[str, str]]:
    """Itemise the GIAS rows left out by design, each with its reason (one reason per row)."""
    out = Rejects(file)
    ids: dict[str, str] = {}
    where = "outside the authority" + ("" if buffer_m is None else f" (plus {buffer_m:g} m)")
    for row in skipped_rows.index[skipped_rows.to_numpy(dtype=bool)]:
        if not is_open[row]:
            column = "EstablishmentStatus (name)"
            kind = "closed school"
            reason = (
                f"skipped: establishment not open (status {status[row] or 'empty'!r}); "
                "pupils whose current setting it is are rejected as at a closed school"
            )
        elif not modelled[row]:
            column = "TypeOfEstablishment (name)"
            kind = "type of establishment not modelled"
            reason = f"skipped: type of establishment not modelled ({type_name[row] or 'empty'!r})"
        else:
            column = "LA (code)"
            kind = "setting in another LA and " + where
            code = la[row] if pd.notna(la[row]) else "empty"
            reason = (
                f"skipped: in another LA (LA code {code}) and {where}; list it in the "
                "out-of-area file if pupils attend it"
            )
        out.add([row], column, reason)
        value = urn.get(row)
        if value is not None and pd.notna(value):
            ids.setdefault(str(value), f"{kind} ({file} row {int(row)})")
    return out, ids
