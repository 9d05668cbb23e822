"""Write a run's outputs: report(s), maps, impact.csv, layers.gpkg, the plan used and a manifest.

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
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from placeplan._errors import ConfigError
from placeplan.prepare.io import write_layers
from placeplan.publish.disclosure import apply_marker, suppress
from placeplan.publish.flows import flows_csv_frame, published_flows
from placeplan.publish.report.build import (
    MapFigure,
    ReportInputs,
    build_report,
    published_impact,
)
from placeplan.publish.report.method import assumptions, parameters
from placeplan.publish.report.render import write_report
from placeplan.publish.report.sections.proposals import ProposalInputs, published_mitigations
from placeplan.publish.tables import write_csv

if TYPE_CHECKING:
    from placeplan.compute.run import RunResult
    from placeplan.config import PlanConfig
    from placeplan.publish.report.model import Mode

__all__ = ["INTERNAL_PREFIX", "MANIFEST", "check_output_owned", "write_outputs"]

logger = logging.getLogger(__name__)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def _score_criteria(scores: pd.DataFrame | None) -> pd.DataFrame | None:
    """Scoring criteria for the report's "case for each site" (never the free-text explanation,
    which carries unsuppressed counts; the report suppresses the counts and writes its own)."""
    if scores is None:
        return None
    cols = [
        c
        for c in (
            "site_id",
            "rank",
            "min_rank",
            "max_rank",
            "need_in_reach",
            "pupils_in_reach",
            "ooa_avoidable",
            "pupils_benefiting",
            "time_saved_min",
            "cost_per_place_gbp",
            "imd_decile",
            "spare_places",
            "rural",
        )
        if c in scores.columns
    ]
    return pd.DataFrame(scores[cols]).reset_index(drop=True)


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


def _impact_frames(
    run: RunResult, name: str, threshold: int, round_to: int, mode: Mode
) -> list[pd.DataFrame]:
    """impact.csv rows of one scenario: the programme, then each proposal alone and as its
    contribution (``baseline`` = the programme without it), each through ``published_impact``."""
    tables = [("programme", "programme", run.impacts[name].table)]
    pa = getattr(run, "proposals", None)
    if pa is not None:
        tables += [
            (p, b, imp.table)
            for (s, p, b), imp in pa.impacts.items()
            if s == name and p != "programme"
        ]
    frames = []
    for proposal, basis, table in tables:
        pub = published_impact(table, threshold=threshold, round_to=round_to, mode=mode)
        pub.insert(0, "basis", basis)
        pub.insert(0, "proposal", proposal)
        pub.insert(0, "scenario_name", name)
        frames.append(pub)
    return frames


def _mitigation_frame(
    run: RunResult, name: str, threshold: int, round_to: int, mode: Mode
) -> pd.DataFrame:
    """mitigations.csv rows of one scenario: per proposal, basis and rule, with a total each."""
    pa = getattr(run, "proposals", None)
    if pa is not None and not pa.mitigations.empty:
        mit = pa.mitigations[pa.mitigations["scenario"] == name].drop(columns="scenario")
    else:
        mit = run.impacts[name].mitigations.assign(proposal="programme", basis="programme")
    pub = apply_marker(
        published_mitigations(mit, threshold=threshold, round_to=round_to, mode=mode)
    )
    cols = ["proposal", "basis", "rule", "what", "source", "pupils", "cost_gbp_per_pupil_year",
            "annual_cost_gbp", "who", "description"]  # fmt: skip
    pub = pub[[c for c in cols if c in pub.columns]]
    pub.insert(0, "scenario_name", name)
    return pub


def _write_all(
    run: RunResult,
    out_dir: Path,
    *,
    version: str,
    timestamp: str,
) -> dict[str, Path]:
    """Write every file of :func:`write_outputs` into ``out_dir`` (the temporary folder)."""
    plan, inputs = run.plan, run.inputs
    scenarios, impacts = run.scenarios, run.impacts
    site_scores, optimised = run.site_scores, run.optimised
    baseline = run.baseline
    # the year-by-year flow table (issue 9); older RunResults have no such field
    flows: pd.DataFrame | None = getattr(run, "flows", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = plan.disclosure
    mode = d.mode
    prefix = INTERNAL_PREFIX if mode == "internal" else ""

    def dest(fname: str) -> Path:
        return out_dir / f"{prefix}{fname}"

    outputs: dict[str, Path] = {}
    planning = inputs.planning_areas
    provision = inputs.provision
    plan_text = ""
    plan_file = _plan_file(plan)
    if plan_file.exists():
        plan_text = plan_file.read_text(encoding="utf-8")
    limits = {
        "primary": plan.thresholds.max_journey_primary_min,
        "secondary": plan.thresholds.max_journey_secondary_min,
    }
    published_frames = []
    mitigation_frames = []
    layers: dict[str, gpd.GeoDataFrame] = {}
    for i, (name, result) in enumerate(scenarios.items()):
        impact = impacts[name]
        lay = run.layers[name]
        sites, iso, area_layer = lay.sites, lay.catchments, lay.areas
        report_inputs = ReportInputs(
            plan_name=plan.plan.name,
            authority=plan.plan.authority,
            run_timestamp=timestamp,
            placeplan_version=version,
            config_hash=plan.config_hash(),
            plan_toml=plan_text,
            impact=impact.table,
            mode=mode,
            scenario_name=name,
            mitigations=impact.mitigations,
            sites=sites,
            provision=provision[
                ["setting_id", "name", "provision_type", "in_area", "capacity", "geometry"]
            ],
            areas=area_layer,
            ooa_flows=lay.ooa_flows,
            flow_origins=planning,
            isochrones=iso,
            outline=inputs.outline,
            roads=run.roads,
            time_bands=lay.time_bands,
            parameters=parameters(plan, run.network.speed_model.describe()),
            assumptions=assumptions(plan, result, baseline),
            row_accounting=inputs.row_accounting[
                ["file", "rows_read", "rows_used", "rows_rejected"]
            ],
            attributions=inputs.attribution,
            synthetic_data=plan.plan.synthetic_pupils,
            disclosure_threshold=d.threshold,
            disclosure_round_to=d.round_to,
            reasonable_journey_min=limits,
            site_scores=_score_criteria(site_scores),
            site_reach_min=plan.selection.max_travel_time_min,
            flows=flows,
            plan_file_name=plan_file.name,
            proposals=_proposal_inputs(run, name),
        )
        report = build_report(report_inputs)
        fname = "report.html" if i == 0 else f"report-{_slug(name)}.html"
        outputs["report" if i == 0 else f"report:{name}"] = write_report(report, dest(fname))
        for section in report.sections:
            for block in section.blocks:
                if isinstance(block, MapFigure):
                    suffix = "" if i == 0 else f"-{_slug(name)}"
                    path = dest(f"map-{block.id.removeprefix('m-')}{suffix}.html")
                    path.write_text(block.html, encoding="utf-8")
                    outputs[f"map:{block.id}{suffix}"] = path
        published_frames += _impact_frames(run, name, d.threshold, d.round_to, mode)
        mitigation_frames.append(_mitigation_frame(run, name, d.threshold, d.round_to, mode))
        if i == 0:
            if area_layer is not None:
                layers["areas_journey_times"] = apply_marker(
                    suppress(
                        area_layer,
                        count_cols=["pupils"],
                        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
                        threshold=d.threshold,
                        round_to=d.round_to,
                        mode=mode,
                    )
                ).pipe(gpd.GeoDataFrame, geometry="geometry", crs=area_layer.crs)
            site_pub = suppress(
                sites.drop(columns=[c for c in ("explanation",) if c in sites]),
                count_cols=["pupils_served"],
                dependent_cols=["mean_time_saved_min"],
                threshold=d.threshold,
                round_to=d.round_to,
                mode=mode,
            )
            layers["candidate_sites"] = apply_marker(site_pub).pipe(
                gpd.GeoDataFrame, geometry="geometry", crs=sites.crs
            )
            if iso is not None:
                layers["catchments"] = iso
        if mode == "internal":
            write_csv(
                impact.per_pupil.drop(columns=["all"]),
                dest(f"pupil-journeys-{_slug(name)}.csv"),
            )
    outputs["impact"] = write_csv(
        pd.concat(published_frames, ignore_index=True), dest("impact.csv")
    )
    if flows is not None:
        outputs["flows"] = write_csv(
            flows_csv_frame(
                published_flows(flows, threshold=d.threshold, round_to=d.round_to, mode=mode)
            ),
            dest("flows.csv"),
        )
    outputs["mitigations"] = write_csv(
        pd.concat(mitigation_frames, ignore_index=True), dest("mitigations.csv")
    )
    if site_scores is not None:
        count_like = [
            c
            for c in ("pupils_in_reach", "need_in_reach", "ooa_avoidable", "pupils_benefiting")
            if c in site_scores
        ]
        scores_pub = suppress(
            site_scores.drop(
                columns=[c for c in ("explanation",) if c in site_scores and mode == "published"]
            ),
            count_cols=count_like,
            dependent_cols=["time_saved_min"] if "time_saved_min" in site_scores else [],
            secondary=False,
            threshold=d.threshold,
            round_to=d.round_to,
            mode=mode,
        )
        outputs["site_scores"] = write_csv(apply_marker(scores_pub), dest("site_scores.csv"))
    layers["provision"] = provision[
        ["setting_id", "name", "provision_type", "in_area", "capacity", "geometry"]
    ]
    if planning is not None:
        layers["planning_areas"] = planning
    if inputs.outline is not None:
        layers["authority_outline"] = inputs.outline
    gpkg = dest("layers.gpkg")
    if gpkg.exists():
        gpkg.unlink()
    write_layers(gpkg, layers)
    outputs["layers"] = gpkg
    outputs["rejections"] = write_csv(inputs.rejections, dest("rejections.csv"))
    outputs["row_accounting"] = write_csv(inputs.row_accounting, dest("row_accounting.csv"))
    header = (
        f"# plan used for this run: placeplan {version}, {timestamp}, "
        f"config hash {plan.config_hash()}\n"
        f"# original: {plan_file}\n"
    )
    used = dest("plan.used.toml")
    used.write_text(header + plan_text, encoding="utf-8")
    outputs["plan"] = used
    if optimised is not None:
        outputs["optimisation"] = write_csv(
            pd.DataFrame(
                {
                    "site_id": list(optimised.selected),
                    "status": optimised.status,
                    "objective_pupil_min": optimised.objective,
                }
            ),
            dest("optimised_sites.csv"),
        )
    return outputs


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

    Files: ``report.html`` (first scenario; ``report-<scenario>.html`` for the others),
    ``map-*.html`` (the report's maps, standalone), ``impact.csv`` (all scenarios, disclosure-
    controlled, the same numbers as the reports), ``flows.csv`` (the year-by-year placement flows,
    when the run has them; the numbers of the reports' "Year by year" section),
    ``mitigations.csv``, ``site_scores.csv``,
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
