"""Write a run's outputs: the report, maps, impact.csv, layers.gpkg, the plan used and a manifest.

Everything written here is published material unless the plan says ``mode = "internal"``.
Published tables pass through :func:`placeplan.publish.disclosure.suppress` (via the report
model), never carry pupil references, and the report and CSVs use the same disclosure-controlled
numbers.

**All files are from one run.** :func:`write_outputs` writes everything into a fresh sibling
folder ``.<name>.placeplan-tmp-<random>`` and only at the end swaps it in (the old folder is
renamed aside to ``.<name>.placeplan-old-<random>``, the new one renamed in, the old one
deleted). A run killed part-way leaves the previous complete set (or, killed between the two
renames, the previous set beside an absent folder, which the next run puts back); it never
leaves a mix. Temp folders of earlier killed runs are removed at the start of the next run.

**Manifest.** ``manifest.json`` records the placeplan version, the time, the plan file and its
sha256, the plan's config hash, the mode, every input file named in ``[inputs]`` that exists
(files inside a named folder are listed one by one) with its sha256, and every other output file
with its sha256 and size.

**Never overwrite what placeplan did not make.** If the output folder exists and holds a file its
``manifest.json`` does not list — or is not empty and has no manifest — :func:`write_outputs`
refuses with :class:`placeplan.ConfigError` and writes nothing. The one exception is
``rejections.csv``, which ``placeplan validate`` writes there by default.

**Internal runs are marked in every file name.** With ``mode = "internal"`` every output file
(report, maps, CSVs, GeoPackage, plan copy) is named ``INTERNAL-<usual name>`` — e.g.
``INTERNAL-report.html``, ``INTERNAL-impact.csv``, ``INTERNAL-pupil-journeys-<scenario>.csv`` —
so that the marking travels with every file in every format while the files' contents stay
exactly as parseable as the published ones; ``manifest.json`` keeps its name and says
``"mode": "internal"``. A published run replaces the whole folder, so no internal file from an
earlier run is left beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from placeplan._errors import ConfigError
from placeplan.prepare.io import write_layers
from placeplan.publish.disclosure import SUPPRESSED_MARKER, Published, apply_marker, suppress
from placeplan.publish.flows import flows_csv_frame
from placeplan.publish.mitigations import mitigations_by_year_csv
from placeplan.publish.programme import ProgrammeTables, programme_tables, write_programme
from placeplan.publish.register import Release, release_run
from placeplan.publish.report.appendix import build_appendix, write_appendix
from placeplan.publish.report.build import MapFigure, Report, ReportInputs, build_report
from placeplan.publish.report.impact import ImpactTable, impact_long
from placeplan.publish.report.method import assumptions, parameters
from placeplan.publish.report.sections.compare import comparison_frame
from placeplan.publish.report.sections.proposals import ProposalInputs
from placeplan.publish.tables import write_csv

if TYPE_CHECKING:
    from placeplan.compute.optimise import OptimisationResult
    from placeplan.compute.run import RunResult
    from placeplan.config import PlanConfig

__all__ = ["INTERNAL_NOTE", "INTERNAL_PREFIX", "MANIFEST", "check_output_owned", "write_outputs"]

logger = logging.getLogger(__name__)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def _score_table(scores: pd.DataFrame | None, mode: str) -> pd.DataFrame | None:
    """The site scores as published (``site_scores.csv`` and the report's "case for each site").

    Never the free-text ``explanation`` in published mode: it carries unsuppressed counts (the
    report writes its own case from the suppressed criteria)."""
    if scores is None:
        return None
    drop = ["explanation"] if mode == "published" else []
    return pd.DataFrame(scores.drop(columns=[c for c in drop if c in scores.columns]))


def _used_weights(scores: pd.DataFrame | None) -> dict[str, float] | None:
    """The scoring weights :func:`placeplan.compute.scoring.score_sites` used (its
    ``attrs["weights"]``), or None without them."""
    if scores is None:
        return None
    weights = scores.attrs.get("weights")
    return {str(k): float(v) for k, v in weights.items()} if weights else None


def _proposal_inputs(run: RunResult, name: str) -> ProposalInputs | None:
    """The per-proposal figures of scenario ``name`` for its report (None without them)."""
    pa = getattr(run, "proposals", None)
    if pa is None:
        return None
    t = pa.table[pa.table["scenario"] == name]
    info = pa.proposals[pa.proposals["scenario"] == name]
    mit = pa.mitigations[pa.mitigations["scenario"] == name].drop(columns="scenario")
    impacts = {(p, b): imp.table for (s, p, b), imp in pa.impacts.items() if s == name}
    return ProposalInputs(
        table=t.reset_index(drop=True),
        info=info.reset_index(drop=True),
        impacts=impacts,
        mitigations=mit.reset_index(drop=True),
        flows=pa.flows,
        scenario=name,
    )


def _proposal_tables(rel: Release) -> dict[tuple[str, str], ImpactTable]:
    """Every published impact table of a scenario, as the register decided them together
    (:func:`placeplan.publish.impact_release.published_impacts`): the programme's and each
    proposal's, alone and as its contribution, for the proposal pages and ``impact.csv`` alike."""
    return {("programme", "programme"): rel.impact, **(rel.proposals or {})}


def _proposal_impact_frames(
    name: str, tables: Mapping[tuple[str, str], ImpactTable]
) -> list[pd.DataFrame]:
    """impact.csv rows of each proposal of scenario ``name``, alone and as its contribution."""
    return [
        impact_long(imp).assign(scenario_name=name, proposal=proposal, basis=basis)
        for (proposal, basis), imp in tables.items()
        if proposal != "programme"
    ]


#: ``mitigations.csv``: the order of a comparison's levels.
_RUN_ORDER = {"baseline": 0, "without": 0, "scenario": 1, "change": 2}


def _mitigation_frame(rel: Release, name: str) -> pd.DataFrame | None:
    """mitigations.csv rows of one scenario: per proposal, basis, run (the comparison level, the
    level with it and the change) and rule, with a total each, as the register decided them
    (:attr:`~placeplan.publish.register.Release.mitigation_levels`: the report's sections 4 and
    4a read the same rows)."""
    if rel.mitigation_levels is None:
        return None
    pub = rel.mitigation_levels.marked()
    pub["note"] = pub["note"].fillna("") if "note" in pub.columns else ""
    # each comparison's levels in reading order (before, with, change), a level's total last
    order = pd.DataFrame(
        {
            "p": pd.factorize(pub["proposal"])[0],
            "b": pd.factorize(pub["basis"])[0],
            "r": pub["run"].map(_RUN_ORDER).fillna(len(_RUN_ORDER)),
            "t": pub["rule"].eq("All rules"),
        }
    ).sort_values(["p", "b", "r", "t"], kind="stable")
    pub = pub.loc[order.index].reset_index(drop=True)
    cols = ["proposal", "basis", "run", "rule", "what", "source", "pupils",
            "cost_gbp_per_pupil_year", "annual_cost_gbp", "note", "who", "description"]  # fmt: skip
    return pub[[c for c in cols if c in pub.columns]].assign(scenario_name=name)


def _write_all(
    run: RunResult,
    out_dir: Path,
    *,
    version: str,
    timestamp: str,
) -> dict[str, Path]:
    """Write every file of :func:`write_outputs` into ``out_dir`` (the temporary folder)."""
    plan, inputs = run.plan, run.inputs
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = plan.disclosure.mode
    prefix = INTERNAL_PREFIX if mode == "internal" else ""

    def dest(fname: str) -> Path:
        return out_dir / f"{prefix}{fname}"

    plan_text = _plan_text(plan)
    every = [
        _report_inputs(run, name, plan_text=plan_text, version=version, timestamp=timestamp)
        for name in run.scenarios
    ]
    # every published number of the run, suppressed once (publish.register)
    releases = release_run(every)
    tables = {
        n: _proposal_tables(rel) for n, rel in releases.items()
    }  # the proposals' published impact tables, decided once for the report and impact.csv
    every = [
        replace(
            i,
            release=releases[i.scenario_name],
            proposals=None
            if i.proposals is None
            else replace(i.proposals, published=tables[i.scenario_name]),
        )
        for i in every
    ]
    outputs: dict[str, Path] = {}
    layers: dict[str, gpd.GeoDataFrame] = {}
    reports: list[Report] = []
    for i, report_inputs in enumerate(every):
        name = report_inputs.scenario_name
        report = build_report(report_inputs)
        reports.append(report)
        for section in report.sections:
            for block in section.blocks:
                if isinstance(block, MapFigure):
                    suffix = "" if i == 0 else f"-{_slug(name)}"
                    path = dest(f"map-{block.id.removeprefix('m-')}{suffix}.html")
                    path.write_text(block.html, encoding="utf-8")
                    outputs[f"map:{block.id}{suffix}"] = path
        if i == 0:
            layers.update(_published_layers(releases[name], run.layers[name].catchments))
        if mode == "internal":
            write_csv(
                run.impacts[name].per_pupil.drop(columns=["all"]),
                dest(f"pupil-journeys-{_slug(name)}.csv"),
            )
    # one appendix for every scenario (issue 11): the comparison first, then each in full
    programme = _write_programme(run, out_dir / f"{prefix}optimise", outputs)
    outputs["report"] = write_appendix(
        build_appendix(every, reports, programme=programme), dest("report.html")
    )
    outputs["comparison"] = write_csv(comparison_frame(every), dest("comparison.csv"))
    outputs.update(_write_tables(run, releases, tables, dest))
    layers["provision"] = inputs.provision[
        ["setting_id", "name", "provision_type", "in_area", "capacity", "geometry"]
    ]
    if inputs.planning_areas is not None:
        layers["planning_areas"] = inputs.planning_areas
    if inputs.outline is not None:
        layers["authority_outline"] = inputs.outline
    gpkg = dest("layers.gpkg")
    if gpkg.exists():
        gpkg.unlink()
    write_layers(gpkg, layers)
    outputs["layers"] = gpkg
    accounting, rejections = _accounting(
        inputs.row_accounting, inputs.rejections, next(iter(releases.values())).row_accounting
    )
    outputs["rejections"] = write_csv(rejections, dest("rejections.csv"))
    outputs["row_accounting"] = write_csv(accounting, dest("row_accounting.csv"))
    header = (
        f"# plan used for this run: placeplan {version}, {timestamp}, "
        f"config hash {plan.config_hash()}\n"
        f"# original: {_plan_file(plan)}\n"
    )
    used = dest("plan.used.toml")
    used.write_text(header + plan_text, encoding="utf-8")
    outputs["plan"] = used
    if run.optimised is not None:
        d = plan.disclosure
        outputs["optimisation"] = write_csv(
            _optimised_frame(
                run.optimised, threshold=d.threshold, round_to=d.round_to, mode=d.mode
            ),
            dest("optimised_sites.csv"),
        )
    return outputs


def _optimised_frame(
    optimised: OptimisationResult, *, threshold: int, round_to: int, mode: str
) -> pd.DataFrame:
    """``optimised_sites.csv``: the chosen sites, the solver's status and its objective.

    The objective is the movable pupils' total journey minutes (:attr:`OptimisationResult
    .objective`): with fewer of them than the threshold, their own minutes. It is published as a
    statistic of their count (the allocation's, never itself published).
    """
    alloc = optimised.allocation
    pupils = (
        float(pd.to_numeric(alloc["count"], errors="coerce").sum())
        if isinstance(alloc, pd.DataFrame) and "count" in alloc.columns
        else float("nan")  # unknown: a count that is not a number is never published
    )
    frame = pd.DataFrame(
        {
            "site_id": list(optimised.selected),
            "status": optimised.status,
            "objective_pupil_min": optimised.objective,
            "pupils": pupils,
        }
    )
    pub = suppress(
        frame,
        count_cols=["pupils"],
        dependent_cols={"objective_pupil_min": ["pupils"]},
        threshold=threshold,
        round_to=round_to,
        mode="internal" if mode == "internal" else "published",
        secondary=False,
        force=pd.DataFrame({"pupils": frame["pupils"].isna()}),
    )
    return apply_marker(pub).drop(columns="pupils")


def _accounting(
    accounting: pd.DataFrame, rejections: pd.DataFrame, pub: Published | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``row_accounting.csv`` and ``rejections.csv`` as the register decided the report's table.

    A file's rows rejected (pupils left out of the run) are hidden where the report hides them,
    with the rows used (read - used - skipped would give them back); its rejected rows are then
    not listed one by one either (their number is the count), but one line says where to find
    them. Internal runs keep both in full.
    """
    if pub is None or pub.mode != "published" or "rows_rejected" not in pub.mask.columns:
        return accounting, rejections
    mask = pub.mask.reindex(accounting.index).fillna(False).astype(bool)
    out = accounting.copy()
    for col in ("rows_used", "rows_rejected"):
        if col in out.columns and col in mask.columns and mask[col].any():
            out[col] = out[col].astype(object)
            out.loc[mask[col], col] = SUPPRESSED_MARKER
    hidden = set(accounting.loc[mask["rows_rejected"], "file"].astype(str))
    if not hidden:
        return out, rejections
    listed = (
        rejections["file"].astype(str).isin(hidden)
        & rejections["row"].notna()
        & ~rejections["reason"].astype(str).str.startswith("skipped:")
    )
    notes = pd.DataFrame(
        {
            "file": sorted(hidden),
            "reason": f"rows rejected: {SUPPRESSED_MARKER} (suppressed: fewer than the disclosure "
            "threshold); `placeplan validate` lists them",
        }
    )
    kept = pd.concat([rejections.loc[~listed], notes], ignore_index=True)
    return out, kept[list(rejections.columns)]


def _report_inputs(
    run: RunResult, name: str, *, plan_text: str, version: str, timestamp: str
) -> ReportInputs:
    """The raw tables of one scenario's report (suppressed later, once, by the register)."""
    plan, inputs, lay = run.plan, run.inputs, run.layers[name]
    d = plan.disclosure
    return ReportInputs(
        plan_name=plan.plan.name,
        authority=plan.plan.authority,
        run_timestamp=timestamp,
        placeplan_version=version,
        config_hash=plan.config_hash(),
        plan_toml=plan_text,
        impact=run.impacts[name].table,
        mode=d.mode,
        scenario_name=name,
        mitigations=run.impacts[name].mitigations,
        sites=lay.sites,
        provision=inputs.provision[
            ["setting_id", "name", "provision_type", "in_area", "capacity", "geometry"]
        ],
        areas=_areas_with_movers(lay.areas, run.impacts[name].by_area),
        ooa_flows=lay.ooa_flows,
        flow_origins=inputs.planning_areas,
        isochrones=lay.catchments,
        outline=inputs.outline,
        roads=run.roads,
        time_bands=lay.time_bands,
        parameters=parameters(plan, run.network.speed_model.describe()),
        assumptions=assumptions(plan, run.scenarios[name], run.baseline),
        row_accounting=inputs.row_accounting[["file", "rows_read", "rows_used", "rows_rejected"]],
        attributions=inputs.attribution,
        synthetic_data=plan.plan.synthetic_pupils,
        disclosure_threshold=d.threshold,
        disclosure_round_to=d.round_to,
        reasonable_journey_min={
            "primary": plan.thresholds.max_journey_primary_min,
            "secondary": plan.thresholds.max_journey_secondary_min,
        },
        site_scores=_score_table(run.site_scores, d.mode),
        site_reach_min=plan.selection.max_travel_time_min,
        # the year-by-year flow table (issue 9); older RunResults have no such field
        flows=getattr(run, "flows", None),
        plan_file_name=_plan_file(plan).name,
        area_groups=_area_groups(inputs.pupils),
        # the weights the scores were made with (normalised; the plan's, else the defaults):
        # the score ranges and the sliders cannot read them back from the contributions when a
        # criterion is 0 or hidden at every site
        site_weights=_used_weights(run.site_scores) or plan.selection.weights or None,
        # the cohort's baseline beside the published SEN2 figures (issue 9 §6)
        sen2_check=getattr(run, "sen2_check", None),
        region=getattr(inputs, "region", None),
        proposals=_proposal_inputs(run, name),
        # the mitigation rules applied year by year (older RunResults have no such field)
        mitigations_by_year=getattr(run, "mitigations_by_year", None),
    )


def _areas_with_movers(
    areas: gpd.GeoDataFrame | None, by_area: pd.DataFrame | None
) -> gpd.GeoDataFrame | None:
    """The LSOA layer with each area's count of pupils who move (``moved``).

    Only movers change journey, so an area's change in mean journey time is its movers' total
    change; the register hides the scenario mean with a small count of movers and never
    publishes ``moved`` itself (:mod:`placeplan.publish.register`).
    """
    if areas is None or "pupils" not in areas.columns:
        return areas
    if by_area is None or not {"area_id", "moved"} <= set(by_area.columns):
        return areas
    moved = by_area.set_index(by_area["area_id"].astype(str))["moved"]
    ids = areas["area_id"].astype(str)
    return areas.assign(moved=ids.map(moved).fillna(0).astype(int).to_numpy())


def _area_groups(pupils: pd.DataFrame) -> dict[str, str]:
    """LSOA -> planning area, as the pupils' rows give it (the LSOA layer's totals)."""
    if not {"lsoa11cd", "area"} <= set(pupils.columns):
        return {}
    pairs = pupils[["lsoa11cd", "area"]].dropna().astype(str).drop_duplicates()
    pairs = pairs[~pairs["lsoa11cd"].duplicated(keep=False)]  # an LSOA split between areas: none
    return dict(zip(pairs["lsoa11cd"], pairs["area"], strict=True))


def _published_layers(
    rel: Release, catchments: gpd.GeoDataFrame | None
) -> dict[str, gpd.GeoDataFrame]:
    """The first scenario's layers with counts, marked from the register's decisions."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, pub in (("areas_journey_times", rel.areas), ("candidate_sites", rel.sites)):
        if pub is not None:
            crs = pub.values.crs
            layers[name] = gpd.GeoDataFrame(
                pub.marked().drop(columns=["explanation"], errors="ignore"),
                geometry="geometry",
                crs=crs,
            )
    if catchments is not None:
        layers["catchments"] = catchments
    return layers


def _write_programme(
    run: RunResult, folder: Path, outputs: dict[str, Path]
) -> ProgrammeTables | None:
    """The capital programme's files (``optimise/``) when the run has one; its published tables
    for the appendix."""
    study = getattr(run, "programme", None)
    if study is None:
        return None
    d = run.plan.disclosure
    written = write_programme(
        study, folder, threshold=d.threshold, round_to=d.round_to, mode=d.mode
    )
    outputs.update({f"optimise:{k}": v for k, v in written.items()})
    return programme_tables(study, threshold=d.threshold, round_to=d.round_to, mode=d.mode)


def _write_tables(
    run: RunResult,
    releases: Mapping[str, Release],
    tables: Mapping[str, Mapping[tuple[str, str], ImpactTable]],
    dest: Callable[[str], Path],
) -> dict[str, Path]:
    """impact.csv, flows.csv, mitigations.csv and site_scores.csv from the register's tables
    (plus each proposal's rows, forced by the programme's hidden cells)."""
    outputs: dict[str, Path] = {}
    impact, mitigations = [], []
    for name, rel in releases.items():
        impact.append(
            impact_long(rel.impact).assign(
                scenario_name=name, proposal="programme", basis="programme"
            )
        )
        impact += _proposal_impact_frames(name, tables[name])
        mit = _mitigation_frame(rel, name)
        if mit is not None:
            mitigations.append(mit)
    first = next(iter(releases.values()))

    def lead(frames: list[pd.DataFrame]) -> pd.DataFrame:
        df = pd.concat(frames, ignore_index=True)
        keys = [c for c in ("scenario_name", "proposal", "basis") if c in df.columns]
        return df[[*keys, *[c for c in df.columns if c not in keys]]]

    outputs["impact"] = write_csv(lead(impact), dest("impact.csv"))
    if first.flows is not None:
        outputs["flows"] = write_csv(flows_csv_frame(first.flows), dest("flows.csv"))
    if mitigations:
        outputs["mitigations"] = write_csv(lead(mitigations), dest("mitigations.csv"))
    if first.mitigations_by_year is not None:
        outputs["mitigations_by_year"] = write_csv(
            mitigations_by_year_csv(first.mitigations_by_year), dest("mitigations_by_year.csv")
        )
    if first.site_scores is not None:
        outputs["site_scores"] = write_csv(first.site_scores.marked(), dest("site_scores.csv"))
    return outputs


#: What every internal file says inside it (a first column, a layer field, a comment line).
INTERNAL_NOTE = "INTERNAL: unsuppressed figures about children; not for publication"


def _mark_internal(folder: Path) -> None:
    """Mark every file of an internal run inside as well as by name (issue 10): CSVs and
    GeoPackage layers get a first ``classification`` column, text files a first comment line
    (HTML pages already carry the banner)."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            df.insert(0, "classification", INTERNAL_NOTE)
            write_csv(df, path)
        elif suffix == ".gpkg":
            layers = [str(name) for name in gpd.list_layers(path)["name"]]
            frames = {name: gpd.read_file(path, layer=name) for name in layers}
            path.unlink()
            write_layers(
                path, {n: f.assign(classification=INTERNAL_NOTE) for n, f in frames.items()}
            )
        elif suffix in (".toml", ".txt"):
            path.write_text(f"# {INTERNAL_NOTE}\n" + path.read_text(encoding="utf-8"), "utf-8")
        elif suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            head, sep, body = text.partition("?>")
            marked = (
                f"{head}{sep}<!-- {INTERNAL_NOTE} -->{body}"
                if sep
                else (f"<!-- {INTERNAL_NOTE} -->{text}")
            )
            path.write_text(marked, encoding="utf-8")


#: Prefix of every output file name in ``mode = "internal"``.
INTERNAL_PREFIX = "INTERNAL-"
#: The run manifest, in every output folder.
MANIFEST = "manifest.json"
#: Files placeplan writes into the output folder outside a run (``placeplan validate``).
_OWN_EXTRAS = frozenset({"rejections.csv"})
_TMP_TAG = ".placeplan-tmp-"
_OLD_TAG = ".placeplan-old-"


def _plan_file(plan: PlanConfig) -> Path:
    """The plan file that ran (``plan.toml`` beside the inputs for plans built in code)."""
    return plan.source_file if plan.source_file is not None else plan.base_dir / "plan.toml"


def _plan_text(plan: PlanConfig) -> str:
    """The plan file's text, then each programme file it names, commented out (as read)."""
    plan_file = _plan_file(plan)
    text = plan_file.read_text(encoding="utf-8") if plan_file.exists() else ""
    for name in plan.inputs.programmes:
        path = plan.path(name)
        if text and path.is_file():
            body = path.read_text(encoding="utf-8").splitlines()
            text += f"\n# ---- programme file {name} (`inputs.programmes`), as read:\n"
            text += "\n".join(f"# {line}".rstrip() for line in body) + "\n"
    return text


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursive), sorted, as paths relative to it."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def check_output_owned(out_dir: Path) -> None:
    """Refuse an output folder that holds files placeplan did not make.

    Parameters
    ----------
    out_dir
        The output folder (it need not exist).

    Raises
    ------
    ConfigError
        If ``out_dir`` holds a file its ``manifest.json`` does not list (or, with no manifest,
        any file other than ``rejections.csv``); the message names the folder and the first
        such file.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return
    known: set[str] = set(_OWN_EXTRAS) | {MANIFEST}
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            known |= {str(entry["path"]) for entry in data["outputs"]}
        except (ValueError, KeyError, TypeError) as err:
            msg = (
                f"output folder {out_dir}: {MANIFEST} is not a placeplan manifest ({err}); "
                "choose another output folder or empty this one"
            )
            raise ConfigError(msg) from err
    for rel in _files(out_dir):
        if rel.as_posix() not in known:
            msg = (
                f"output folder {out_dir} holds {rel.as_posix()}, which placeplan did not write "
                "(not in its manifest.json); move it or choose another output folder"
            )
            raise ConfigError(msg)


def _clean_stale(out_dir: Path) -> None:
    """Remove temp folders of earlier killed runs; put back a set left aside mid-swap."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{out_dir.name}{_OLD_TAG}*"))
    if olds and out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()  # an empty folder made by the output-folder check
    if olds and not out_dir.exists():
        olds[-1].rename(out_dir)  # killed between the two renames: the previous set comes back
        olds = olds[:-1]
    for stale in (*parent.glob(f".{out_dir.name}{_TMP_TAG}*"), *olds):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def _input_files(plan: PlanConfig) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    for key in type(plan.inputs).model_fields:
        value = getattr(plan.inputs, key)
        if not isinstance(value, Path):
            continue
        path = plan.path(value)
        if path.is_file():
            entries.append({"key": key, "path": str(path), "sha256": _sha256(path)})
        elif path.is_dir():
            for rel in _files(path):
                entries.append({"key": key, "path": str(path / rel), "sha256": _sha256(path / rel)})
    return entries


def _write_manifest(folder: Path, plan: PlanConfig, *, version: str, timestamp: str) -> Path:
    plan_file = _plan_file(plan)
    outputs = [
        {
            "path": rel.as_posix(),
            "sha256": _sha256(folder / rel),
            "size": (folder / rel).stat().st_size,
        }
        for rel in _files(folder)
        if rel.as_posix() != MANIFEST
    ]
    manifest = {
        "placeplan_version": version,
        "timestamp": timestamp,
        "plan_file": str(plan_file),
        "plan_sha256": _sha256(plan_file) if plan_file.is_file() else None,
        "config_hash": plan.config_hash(),
        "mode": plan.disclosure.mode,
        "inputs": _input_files(plan),
        "outputs": outputs,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def write_outputs(
    run: RunResult,
    out_dir: Path,
    *,
    version: str,
    timestamp: str,
) -> dict[str, Path]:
    """Write every output of a run into ``out_dir`` at once and return their paths.

    Files: ``report.html`` (one appendix for every scenario: the comparison, then each scenario;
    per-scenario report files are no longer written, see :mod:`placeplan.publish.report.appendix`),
    ``comparison.csv`` (the appendix's side-by-side table),
    ``map-*.html`` (the report's maps, standalone), ``impact.csv`` (all scenarios, disclosure-
    controlled, the same numbers as the reports), ``flows.csv`` (the year-by-year placement flows,
    when the run has them; the numbers of the reports' "Year by year" section),
    ``mitigations.csv`` (today's cohort), ``mitigations_by_year.csv`` (the same rules on the
    flow model's pupils, year by year), ``site_scores.csv``,
    ``layers.gpkg`` (areas with aggregates, planning areas, sites, provision, catchments),
    ``rejections.csv``, ``row_accounting.csv``, ``plan.used.toml`` and ``manifest.json``
    (``INTERNAL-`` before each name but the manifest's in ``mode = "internal"``).

    The files are written into a fresh temp folder beside ``out_dir`` and swapped in at the end
    (see the module docstring), so ``out_dir`` never holds a mix of two runs.

    Raises
    ------
    ConfigError
        If ``out_dir`` holds files placeplan did not make (see :func:`check_output_owned`);
        nothing is written then.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"output folder {out_dir} is a file, not a folder; choose a folder for the outputs"
        raise ConfigError(msg)
    _clean_stale(out_dir)
    check_output_owned(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    tmp = out_dir.parent / f".{out_dir.name}{_TMP_TAG}{token}"
    old = out_dir.parent / f".{out_dir.name}{_OLD_TAG}{token}"
    tmp.mkdir()
    try:
        written = _write_all(run, tmp, version=version, timestamp=timestamp)
        if run.plan.disclosure.mode == "internal":
            _mark_internal(tmp)
        written["manifest"] = _write_manifest(tmp, run.plan, version=version, timestamp=timestamp)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    except BaseException:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)  # the previous set goes back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    logger.info("outputs: %d files written to %s", len(written), out_dir)
    return {key: out_dir / path.relative_to(tmp) for key, path in written.items()}
