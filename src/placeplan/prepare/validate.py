"""Whole-plan input validation: load every input, collect every problem, account for every row.

:func:`validate_inputs` (or :func:`validate_plan` for a loaded plan) runs every loader in
:mod:`placeplan.prepare.io`, catching whole-file errors so that one bad file does not hide the
problems of
the others, and returns a :class:`ValidationReport`: per-file row accounting (rows read = rows used
+ rows rejected), every rejection (file, row, column, reason; no identifying pupil value) and a
readable summary. ``placeplan validate`` prints the summary, writes ``rejections.csv`` with
:func:`write_rejections` and exits 0 only when every row of every input will be used.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeplan._errors import ConfigError, InputFileError, PlaceplanError
from placeplan.prepare import io
from placeplan.prepare.geocode import PostcodeIndex
from placeplan.prepare.io._common import REJECTION_DTYPES, empty_frame, empty_rejections
from placeplan.prepare.plan_checks import NETWORK_PLACE_NOTE, census_year_mismatch
from placeplan.vocab import CRS

if TYPE_CHECKING:
    from placeplan.config import PlanConfig

__all__ = [
    "CheckedInputs",
    "ValidationReport",
    "check_output_dir",
    "check_plan",
    "validate_inputs",
    "validate_plan",
    "write_rejections",
]

logger = logging.getLogger(__name__)

_MAX_LISTED = 25
#: Default tolerance (metres) around the authority for pupil locations (coastal postcode points,
#: boundary roads).
PUPIL_BUFFER_M = 1000.0


def _empty_files() -> pd.DataFrame:
    return empty_frame(
        {
            "file": "string",
            "role": "string",
            "rows_read": "int64",
            "rows_used": "int64",
            "rows_rejected": "int64",
            "rows_skipped": "int64",
        }
    )


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a plan's inputs.

    Attributes
    ----------
    files
        One row per table input: ``file, role, rows_read, rows_used, rows_rejected,
        rows_skipped`` (``rows_read == rows_used + rows_rejected + rows_skipped``; skipped is only
        non-zero for a GIAS export, for closed or out-of-area establishments).
    rejections
        ``file, row, column, reason`` for every row-level problem.
    errors
        ``file, row, column, reason`` for every whole-file problem (the file could not be used).
    notes
        Things to know that are not problems (ignored columns, defaults, typo corrections).
    skipped
        ``file, row, column, reason`` for every row left out by design (a GIAS export's closed
        establishments, other LAs, types not modelled); each reason starts with ``skipped:``.
        They do not make the report not :attr:`ok`, but are listed in ``rejections.csv``.
    """

    files: pd.DataFrame = field(default_factory=_empty_files)
    rejections: pd.DataFrame = field(default_factory=empty_rejections)
    errors: pd.DataFrame = field(default_factory=empty_rejections)
    notes: tuple[str, ...] = ()
    skipped: pd.DataFrame = field(default_factory=empty_rejections)

    @property
    def ok(self) -> bool:
        """Whether every row of every input will be used (no errors, no rejections)."""
        return self.errors.empty and self.rejections.empty

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 2 (the CLI's exit code for ``validate``)."""
        return 0 if self.ok else 2

    def summary_text(self) -> str:
        """Return a readable multi-line summary (counts and reasons; never pupil values).

        Returns
        -------
        text
            Row accounting table, whole-file errors, the first rejections, notes and the verdict.
        """
        lines = ["Input check", ""]
        if not self.files.empty:
            width = max(12, *(len(str(f)) for f in self.files["file"]))
            header = f"{'file':<{width}}  {'read':>7}  {'used':>7}  {'rejected':>8}"
            show_skipped = bool((self.files["rows_skipped"] > 0).any())
            if show_skipped:
                header += f"  {'skipped':>8}"
            lines += [header, "-" * len(header)]
            for rec in self.files.itertuples(index=False):
                line = (
                    f"{rec.file:<{width}}  {rec.rows_read:>7,}  {rec.rows_used:>7,}  "
                    f"{rec.rows_rejected:>8,}"
                )
                if show_skipped:
                    line += f"  {rec.rows_skipped:>8,}"
                lines.append(line)
            lines.append("")
        if not self.errors.empty:
            lines.append(f"{len(self.errors)} file(s) cannot be used:")
            lines += [f"  {_where(r)}: {r.reason}" for r in self.errors.itertuples(index=False)]
            lines.append("")
        if not self.rejections.empty:
            n_rows = self.rejections.groupby("file")["row"].nunique().sum()
            lines.append(
                f"{n_rows:,} row(s) rejected ({len(self.rejections):,} problem(s)); "
                "all are listed in rejections.csv:"
            )
            shown = self.rejections.head(_MAX_LISTED)
            lines += [f"  {_where(r)}: {r.reason}" for r in shown.itertuples(index=False)]
            if len(self.rejections) > _MAX_LISTED:
                lines.append(f"  … and {len(self.rejections) - _MAX_LISTED:,} more")
            by_reason = (
                self.rejections.groupby(["file", "column", "reason"], sort=False)["row"]
                .nunique()
                .sort_values(ascending=False)
            )
            if len(self.rejections) > _MAX_LISTED:
                lines.append("  by reason:")
                top = by_reason.head(10)
                lines += [
                    f"    {file} {column}: {reason} — {n:,} row(s)"
                    for (file, column, reason), n in zip(top.index, top, strict=True)
                ]
            lines.append("")
        if not self.skipped.empty:
            skip_counts = self.skipped.groupby(["file", "column", "reason"], sort=True)[
                "row"
            ].nunique()
            lines.append(
                f"{len(self.skipped):,} row(s) skipped by design (listed in rejections.csv):"
            )
            lines += [
                f"  {file} {column}: {reason} — {n:,} row(s)"
                for (file, column, reason), n in zip(skip_counts.index, skip_counts, strict=True)
            ]
            lines.append("")
        if self.notes:
            lines.append("Notes:")
            lines += [f"  {note}" for note in self.notes]
            lines.append("")
        if self.ok:
            lines.append("OK: every row of every input will be used.")
        else:
            lines.append("NOT READY: fix the problems above; rows rejected would be left out.")
        return "\n".join(lines)


def _where(rec: object) -> str:
    parts = [str(rec.file)]  # type: ignore[attr-defined]
    row = rec.row  # type: ignore[attr-defined]
    if row is not None and not pd.isna(row):
        parts.append(f"row {int(row)}")
    column = rec.column  # type: ignore[attr-defined]
    if column is not None and not pd.isna(column) and str(column):
        parts.append(f"column {column!s}")
    return ", ".join(parts)


class _Collector:
    def __init__(self) -> None:
        self.results: list[tuple[str, io.LoadResult]] = []
        self.errors: list[dict[str, object]] = []
        self.notes: list[str] = []

    def error(self, err: Exception, path: Path | str | None) -> None:
        file = getattr(err, "file", None) or (Path(path).name if path else "")
        file = Path(file).name if file else ""
        reason = str(err)
        if isinstance(err, InputFileError):
            # The message starts with "file …, row …, column …: "; keep only the reason.
            reason = reason.split(": ", 1)[1] if ": " in reason else reason
        self.errors.append(
            {
                "file": file,
                "row": getattr(err, "row", None),
                "column": getattr(err, "column", None),
                "reason": reason,
            }
        )

    def report(self) -> ValidationReport:
        files = pd.DataFrame(
            [
                {
                    "file": r.file,
                    "role": role,
                    "rows_read": r.rows_read,
                    "rows_used": r.rows_used,
                    "rows_rejected": r.rows_rejected,
                    "rows_skipped": r.rows_skipped,
                }
                for role, r in self.results
            ]
        )
        files = files.astype(_empty_files().dtypes.to_dict()) if len(files) else _empty_files()
        frames = [r.rejections for _, r in self.results if len(r.rejections)]
        rejections = pd.concat(frames, ignore_index=True) if frames else empty_rejections()
        errors = empty_rejections()
        if self.errors:
            errors = pd.DataFrame(self.errors).astype({**REJECTION_DTYPES, "row": "Int64"})
        notes = [n for _, r in self.results for n in r.notes] + self.notes
        skipped_frames = [r.skipped for _, r in self.results if len(r.skipped)]
        skipped = (
            pd.concat(skipped_frames, ignore_index=True) if skipped_frames else empty_rejections()
        )
        return ValidationReport(
            files=files, rejections=rejections, errors=errors, notes=tuple(notes), skipped=skipped
        )


@dataclass(frozen=True)
class CheckedInputs:
    """The inputs as loaded by the checks (``None`` where a file is absent or unusable).

    ``placeplan validate`` reports on them and ``placeplan run`` uses them, so both commands
    accept and reject exactly the same rows.
    """

    report: ValidationReport
    pupils: gpd.GeoDataFrame | None = None
    provision: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    areas: gpd.GeoDataFrame | None = None
    boundary: gpd.GeoDataFrame | None = None
    #: ``[inputs] region_outline`` polygons (EPSG:27700), when the plan names one
    region: gpd.GeoDataFrame | None = None


def _read_boundary(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        msg = "file not found"
        raise InputFileError(msg, file=str(path))
    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        msg = f"cannot read the boundary ({type(err).__name__})"
        raise InputFileError(msg, file=path.name) from err
    if gdf.crs is None:
        msg = "the boundary has no coordinate reference system"
        raise InputFileError(msg, file=path.name)
    return gdf.to_crs(CRS)


def validate_inputs(
    *,
    pupils_path: str | Path,
    provision_path: str | Path,
    postcodes_path: str | Path,
    sites_path: str | Path | None = None,
    ooa_path: str | Path | None = None,
    areas_path: str | Path | None = None,
    authority_path: str | Path | None = None,
    lookup_path: str | Path | None = None,
    lad_code: str | None = None,
    la_code: str | None = None,
    census_date: object = None,
    pupil_buffer_m: float = PUPIL_BUFFER_M,
    gias_buffer_m: float = 0.0,
) -> ValidationReport:
    """Load and check every input, collecting every problem before stopping.

    Parameters
    ----------
    pupils_path, provision_path, postcodes_path
        Required inputs (CSV/Excel; the provision file may be a GIAS export).
    sites_path, ooa_path
        Optional candidate sites and out-of-area settings.
    areas_path
        Optional planning areas / LSOAs (GeoPackage, GeoJSON, shapefile); every pupil and
        setting in the authority is assigned to one.
    authority_path
        Optional authority boundary; default the areas whose ``lad_code`` is ``lad_code`` (or all
        areas). Pupils located outside it (plus ``pupil_buffer_m``) are rejected.
    lookup_path
        Optional postcode -> LSOA lookup for a Code-Point Open postcode file.
    lad_code, la_code
        ONS district code (selects the authority's areas) and DfE LA code (GIAS filter).
    census_date
        Date the pupils' NC years refer to (for dates of birth).
    pupil_buffer_m
        Tolerance around the authority for pupil locations, metres.
    gias_buffer_m
        Buffer around the authority within which GIAS settings of other LAs are kept, metres.

    Returns
    -------
    report
        Row accounting, rejections, whole-file errors and notes; ``report.ok`` only when every
        row of every input will be used.
    """
    return _check_inputs(
        pupils_path=pupils_path,
        provision_path=provision_path,
        postcodes_path=postcodes_path,
        sites_path=sites_path,
        ooa_path=ooa_path,
        areas_path=areas_path,
        authority_path=authority_path,
        lookup_path=lookup_path,
        lad_code=lad_code,
        la_code=la_code,
        census_date=census_date,
        pupil_buffer_m=pupil_buffer_m,
        gias_buffer_m=gias_buffer_m,
    ).report


def _check_inputs(
    *,
    pupils_path: str | Path,
    provision_path: str | Path,
    postcodes_path: str | Path,
    sites_path: str | Path | None,
    ooa_path: str | Path | None,
    areas_path: str | Path | None,
    authority_path: str | Path | None,
    lookup_path: str | Path | None,
    lad_code: str | None,
    la_code: str | None,
    census_date: object,
    pupil_buffer_m: float,
    gias_buffer_m: float,
) -> CheckedInputs:
    c = _Collector()
    boundary = None
    sites = None

    postcodes: PostcodeIndex | None = None
    try:
        postcodes = PostcodeIndex.from_file(postcodes_path, lookup_path=lookup_path)
    except PlaceplanError as err:
        c.error(err, postcodes_path)

    areas = None
    if areas_path is not None:
        try:
            areas = io.load_areas(areas_path)
        except PlaceplanError as err:
            c.error(err, areas_path)
    authority = None
    if authority_path is not None:
        try:
            authority = boundary = _read_boundary(Path(authority_path))
        except PlaceplanError as err:
            c.error(err, authority_path)
    elif areas is not None:
        authority = areas
        if lad_code is not None and "lad_code" in areas.columns:
            mine = areas[areas["lad_code"].astype(str) == str(lad_code)]
            if mine.empty:
                c.notes.append(
                    f"no area has lad_code {lad_code}; all areas used as the authority boundary"
                )
            else:
                authority = mine

    provision_ids: set[str] | None = None
    provision_frames = []
    # setting id -> where its row was rejected, so references to it say so
    rejected_settings: dict[str, str] = {}
    # setting id -> why a GIAS export skipped it (closed, another LA), so pupils are told
    skipped_settings: dict[str, str] = {}
    la_codes = [str(la_code)] if la_code else None
    try:
        prov = io.load_provision(
            provision_path,
            postcodes=postcodes,
            area=authority,
            la_codes=la_codes,
            buffer_m=gias_buffer_m,
        )
        c.results.append(("provision", prov))
        rejected_settings |= {k: f"{prov.file} row {r}" for k, r in prov.rejected_ids.items()}
        skipped_settings |= dict(prov.skipped_ids)
        provision_ids = set(prov.data["setting_id"].astype(str))
        provision_frames.append(prov.data)
    except PlaceplanError as err:
        c.error(err, provision_path)

    setting_ids = set(provision_ids) if provision_ids is not None else None
    if ooa_path is not None:
        try:
            ooa = io.load_provision(
                ooa_path,
                postcodes=postcodes,
                in_area_default=False,
                known_setting_ids=provision_ids,
            )
            c.results.append(("out_of_area", ooa))
            rejected_settings |= {k: f"{ooa.file} row {r}" for k, r in ooa.rejected_ids.items()}
            provision_frames.append(ooa.data)
            if setting_ids is not None:
                setting_ids |= set(ooa.data["setting_id"].astype(str))
        except PlaceplanError as err:
            c.error(err, ooa_path)
            setting_ids = None
    provision = pd.concat(provision_frames, ignore_index=True) if provision_frames else None
    if setting_ids is None:
        c.notes.append("setting ids in pupils and sites not checked: a provision file failed")

    if sites_path is not None:
        try:
            sites_res = io.load_sites(
                sites_path,
                setting_ids=provision_ids,
                provision=provision,
                postcodes=postcodes,
                rejected_settings=rejected_settings,
                area=authority,
                buffer_m=pupil_buffer_m,
            )
            c.results.append(("candidate_sites", sites_res))
            sites = sites_res.data
        except PlaceplanError as err:
            c.error(err, sites_path)

    pupils = None
    try:
        settings_file = " / ".join(
            Path(p).name for p in (provision_path, ooa_path) if p is not None
        )
        pupil_res = io.load_pupils(
            pupils_path,
            postcodes=postcodes,
            setting_ids=setting_ids,
            area=authority,
            buffer_m=pupil_buffer_m,
            census_date=census_date,
            settings_file=settings_file,
            rejected_settings=rejected_settings,
            skipped_settings=skipped_settings,
        )
        c.results.append(("pupils", pupil_res))
        pupils = pupil_res.data
    except PlaceplanError as err:
        c.error(err, pupils_path)

    if areas is not None:
        for label, gdf in (("pupils", pupils), ("settings in the authority", provision)):
            if gdf is None or gdf.empty:
                continue
            if "in_area" in gdf.columns:
                gdf = gdf[gdf["in_area"].astype(bool)]
            within = gdf.geometry.intersects(areas.union_all())
            try:
                io.assign_areas(gpd.GeoDataFrame(gdf, crs=CRS), areas)
            except PlaceplanError as err:
                c.error(err, areas_path)
                continue
            if (~within).any():
                c.notes.append(
                    f"{int((~within).sum())} {label} lie just outside the areas and were "
                    "assigned to the nearest area"
                )

    report = c.report()
    logger.info(
        "validate: %s files, %s rows rejected, %s file errors",
        len(report.files),
        len(report.rejections),
        len(report.errors),
    )
    provision_gdf = None
    if provision is not None:
        provision_gdf = gpd.GeoDataFrame(provision, geometry="geometry", crs=CRS)
    return CheckedInputs(
        report=report,
        pupils=pupils,
        provision=provision_gdf,
        sites=sites,
        areas=areas,
        boundary=boundary,
    )


def validate_plan(plan: PlanConfig) -> ValidationReport:
    """Validate every input named by a loaded plan (see :func:`validate_inputs`).

    Parameters
    ----------
    plan
        From :func:`placeplan.config.load_plan`; paths are resolved against the plan's folder.

    Returns
    -------
    report
        The validation report (also covers the network file and the scenarios' ``open_sites``).
    """
    return check_plan(plan).report


def check_plan(plan: PlanConfig) -> CheckedInputs:
    """Load and check every input of a plan: what ``placeplan validate`` reports and ``run`` uses.

    Parameters
    ----------
    plan
        From :func:`placeplan.config.load_plan`.

    Returns
    -------
    checked
        The report and the loaded tables.
    """
    inputs = plan.inputs
    checked = _check_inputs(
        pupils_path=plan.path(inputs.pupils),
        provision_path=plan.path(inputs.provision),
        postcodes_path=plan.path(inputs.postcodes),
        sites_path=plan.path(inputs.candidate_sites),
        ooa_path=plan.path(inputs.out_of_area),
        areas_path=plan.path(inputs.areas),
        authority_path=plan.path(inputs.authority_boundary),
        lad_code=plan.plan.lad_code,
        la_code=plan.plan.la_code,
        census_date=plan.plan.census_date,
        lookup_path=None,
        pupil_buffer_m=PUPIL_BUFFER_M,
        gias_buffer_m=0.0,
    )
    report = checked.report
    plan_errors: list[dict[str, object]] = []
    planning = plan.path(inputs.planning_areas)
    if planning is not None:
        try:
            io.load_areas(planning)
        except PlaceplanError as err:
            c = _Collector()
            c.error(err, planning)
            plan_errors += c.errors
    network = plan.path(inputs.network)
    if network is not None and not network.exists():
        plan_errors.append(
            {
                "file": network.name,
                "row": None,
                "column": None,
                "reason": (
                    f"network file not found (plan.toml [inputs] network = "
                    f'"{inputs.network}", looked for {network}); point it at your '
                    "OpenStreetMap extract (.osm.pbf)"
                ),
            }
        )
    if checked.sites is not None or inputs.candidate_sites is None:
        known = set() if checked.sites is None else set(checked.sites["site_id"].astype(str))
        where = (
            "no candidate sites file is given ([inputs] candidate_sites)"
            if inputs.candidate_sites is None
            else f"not a usable site_id of {Path(inputs.candidate_sites).name}"
        )
        # every site id the plan names: open_sites, [[scenario.site]], [[flows.site]]
        named = [
            (f"[[scenario]] {sc.name!r} open_sites", list(sc.open_sites)) for sc in plan.scenario
        ]
        named += [
            (f"[[scenario.site]] of {sc.name!r}", [e.site_id for e in sc.site])
            for sc in plan.scenario
        ]
        named.append(("[[flows.site]] site_id", [e.site_id for e in plan.flows.site]))
        for column, ids in named:
            if missing := [s for s in ids if s not in known]:
                ids_known = sorted(known)
                listed = ", ".join(map(repr, ids_known[:10]))
                more = f", … ({len(ids_known)} in all)" if len(ids_known) > 10 else ""
                reason = f"{', '.join(map(repr, missing))}: {where}; use one of {listed}{more}"
                plan_errors.append(
                    {"file": "plan.toml", "row": None, "column": column, "reason": reason}
                )
    region, region_error = _region_outline(plan)
    if region_error is not None:
        plan_errors.append(region_error)
    plan_errors += _site_id_clashes(checked, inputs.candidate_sites)
    if network is not None and network.exists() and checked.pupils is not None:
        plan_errors += _network_covers_pupils(plan, network, checked.pupils)
    if plan_errors:
        extra = pd.DataFrame(plan_errors).astype({**REJECTION_DTYPES, "row": "Int64"})
        frames = [f for f in (report.errors, extra) if len(f)]
        report = replace(report, errors=pd.concat(frames, ignore_index=True))
    if inputs.network_place is not None:
        report = replace(report, notes=(*report.notes, NETWORK_PLACE_NOTE))
    if (mismatch := census_year_mismatch(plan)) is not None:
        logger.warning("warning: %s", mismatch)
        report = replace(report, notes=(*report.notes, mismatch))
    return replace(checked, report=report, region=region)


def _region_outline(plan: PlanConfig) -> tuple[gpd.GeoDataFrame | None, dict[str, object] | None]:
    """Read ``[inputs] region_outline`` (optional): its polygons, or the problem naming the key."""
    value = plan.inputs.region_outline
    path = plan.path(value)
    if value is None or path is None:
        return None, None
    key = f'plan.toml [inputs] region_outline = "{value}"'
    fix = "point it at polygons of the neighbouring areas (GeoJSON/GeoPackage) or remove the line"
    reason = None
    gdf = None
    try:
        gdf = _read_boundary(path)
    except InputFileError as err:
        what = (
            "file not found" if not path.exists() else str(err).removeprefix(f"file {path.name}: ")
        )
        reason = f"{key}: {what} (looked for {path}); {fix}"
    if gdf is not None:
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        kinds = set(gdf.geometry.geom_type)
        if gdf.empty or not kinds <= {"Polygon", "MultiPolygon"}:
            found = ", ".join(sorted(kinds)) or "no geometries"
            reason = f"{key}: the region outline must be polygons, found {found}; {fix}"
    if reason is not None:
        return None, {"file": path.name, "row": None, "column": None, "reason": reason}
    assert gdf is not None  # reason is None only when it was read
    out = gdf[["geometry"]].reset_index(drop=True)
    if "name" in gdf.columns:
        out.insert(0, "name", gdf["name"].astype(str).to_numpy())
    return out, None


def _site_id_clashes(checked: CheckedInputs, sites_path: Path | None) -> list[dict[str, object]]:
    """A candidate ``site_id`` equal to a setting id (e.g. a GIAS inclusion base) is an error."""
    if checked.sites is None or checked.provision is None or sites_path is None:
        return []
    settings_ids = set(checked.provision["setting_id"].astype(str))
    out: list[dict[str, object]] = []
    for row, site_id in checked.sites["site_id"].astype(str).items():
        if site_id in settings_ids:
            out.append(
                {
                    "file": Path(sites_path).name,
                    "row": int(row) if isinstance(row, int | np.integer) else None,
                    "column": "site_id",
                    "reason": (
                        f"{site_id!r} is also the id of a setting in the provision files (a "
                        "school, or an inclusion base the GIAS export lists); give the "
                        "candidate its own site_id, e.g. add -NEW"
                    ),
                }
            )
    return out


def _network_covers_pupils(
    plan: PlanConfig, network: Path, pupils: gpd.GeoDataFrame
) -> list[dict[str, object]]:
    """Refuse a network none of whose roads come near any pupil (the wrong area's extract).

    The network is loaded (and cached, so the run reuses it) and the pupils' points are tested
    against the convex hull of its nodes, widened by ``network.max_snap_m``. Only the network's
    extent is named, never the pupils'.
    """
    # the run's own speed model, so the cached network is shared with `run`
    from placeplan.compute.network import load_network, speed_model

    where = {"file": network.name, "row": None, "column": None}
    try:
        net = load_network(network, speed_model=speed_model(plan))
    except PlaceplanError as err:  # reported by `run` when it builds the network
        logger.info("validate: road network not checked against the pupils (%s)", err)
        return []
    if pupils.empty or len(net.x) == 0:
        return []
    hull = shapely.MultiPoint(np.column_stack([net.x, net.y])).convex_hull
    area = hull.buffer(plan.network.max_snap_m)
    inside = shapely.contains_xy(area, pupils.geometry.x.to_numpy(), pupils.geometry.y.to_numpy())
    if inside.any():
        return []
    x0, y0, x1, y1 = (round(v / 1000) for v in hull.bounds)
    return [
        {
            **where,
            "reason": (
                "none of your pupils lie on this network — is it the right area? (the network "
                f"covers easting {x0}–{x1} km, northing {y0}–{y1} km, EPSG:27700); point "
                "[inputs] network at the authority's OpenStreetMap extract"
            ),
        }
    ]


def check_output_dir(path: str | Path, *, key: str = "plan.output_dir") -> Path:
    """Check that outputs can be written to ``path`` (created if missing) before any work.

    Parameters
    ----------
    path
        The output folder.
    key
        How to name the setting in the message (the plan key or a command-line option).

    Returns
    -------
    path
        The folder, which now exists.

    Raises
    ------
    ConfigError
        If ``path`` (or a parent) is a file, or the folder cannot be created or written to
        (read-only: no write permission bits, or a test file cannot be created in it).

    Examples
    --------
    >>> import tempfile
    >>> check_output_dir(Path(tempfile.mkdtemp()) / "out").is_dir()
    True
    """
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            msg = (
                f"`{key}` = {path}: {p} is a file, not a folder; choose a folder for the "
                "outputs (or move the file)"
            )
            raise ConfigError(msg)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"`{key}` = {path}: cannot create the folder ({err.strerror}); choose another"
        raise ConfigError(msg) from err
    read_only = not (path.stat().st_mode & 0o222) or not os.access(path, os.W_OK)
    if not read_only:
        try:
            fd, probe = tempfile.mkstemp(prefix=".placeplan-write-test-", dir=path)
        except OSError:
            read_only = True
        else:
            os.close(fd)
            Path(probe).unlink()
    if read_only:
        msg = (
            f"`{key}` = {path}: the folder is read-only; make it writable or choose another "
            "output folder"
        )
        raise ConfigError(msg)
    return path


def write_rejections(report: ValidationReport, path: str | Path) -> Path:
    """Write every problem (whole-file errors, row rejections, then rows skipped) to a CSV.

    Parameters
    ----------
    report
        From :func:`validate_inputs`.
    path
        Output CSV; its folder is created.

    Returns
    -------
    path
        The file written: columns ``file, row, column, reason`` (no pupil values).
    """
    # the one CSV writer (formula-neutralised cells) lives in publish; prepare reaches it only
    # here, when asked to write, so the prepare stage never imports publish at module level
    from placeplan.publish.tables import write_csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [f for f in (report.errors, report.rejections, report.skipped) if len(f)]
    out = (
        pd.concat([f.astype({"row": "Int64"}) for f in frames], ignore_index=True)
        if frames
        else empty_rejections()
    )
    write_csv(out[list(io.REJECTION_COLUMNS)], path)
    return path
