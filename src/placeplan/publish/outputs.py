"""Write a run's outputs: report(s), maps, impact.csv, layers.gpkg and the plan used.

Everything written here is published material except files named ``internal-*`` (written only in
``mode = "internal"``). Published tables pass through :func:`placeplan.publish.disclosure.suppress`
(via the report model), never carry pupil references, and the report and CSVs use the same
disclosure-controlled numbers.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

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
from placeplan.publish.tables import write_csv

if TYPE_CHECKING:
    from placeplan.compute.run import RunResult

__all__ = ["write_outputs"]

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


def write_outputs(
    run: RunResult,
    out_dir: Path,
    *,
    version: str,
    timestamp: str,
) -> dict[str, Path]:
    """Write every output of a run into ``plan.output_dir`` and return their paths.

    Files: ``report.html`` (first scenario; ``report-<scenario>.html`` for the others),
    ``map-*.html`` (the report's maps, standalone), ``impact.csv`` (all scenarios, disclosure-
    controlled, the same numbers as the reports), ``flows.csv`` (the year-by-year placement flows,
    when the run has them; the numbers of the reports' "Year by year" section),
    ``mitigations.csv``, ``site_scores.csv``,
    ``layers.gpkg`` (areas with aggregates, planning areas, sites, provision, catchments),
    ``rejections.csv``, ``row_accounting.csv`` and ``plan.used.toml``.
    """
    plan, inputs = run.plan, run.inputs
    scenarios, impacts = run.scenarios, run.impacts
    site_scores, optimised = run.site_scores, run.optimised
    baseline = run.baseline
    # the year-by-year flow table (issue 9); older RunResults have no such field
    flows: pd.DataFrame | None = getattr(run, "flows", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = plan.disclosure
    mode = d.mode
    outputs: dict[str, Path] = {}
    planning = inputs.planning_areas
    provision = inputs.provision
    plan_text = ""
    plan_file = plan.base_dir / "plan.toml"
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
        )
        report = build_report(report_inputs)
        fname = "report.html" if i == 0 else f"report-{_slug(name)}.html"
        outputs["report" if i == 0 else f"report:{name}"] = write_report(report, out_dir / fname)
        for section in report.sections:
            for block in section.blocks:
                if isinstance(block, MapFigure):
                    suffix = "" if i == 0 else f"-{_slug(name)}"
                    path = out_dir / f"map-{block.id.removeprefix('m-')}{suffix}.html"
                    path.write_text(block.html, encoding="utf-8")
                    outputs[f"map:{block.id}{suffix}"] = path
        pub = published_impact(impact.table, threshold=d.threshold, round_to=d.round_to, mode=mode)
        pub.insert(0, "scenario_name", name)
        published_frames.append(pub)
        mit = suppress(
            impact.mitigations,
            count_cols=["pupils"],
            threshold=d.threshold,
            round_to=d.round_to,
            mode=mode,
        )
        mit = apply_marker(mit)
        mit.insert(0, "scenario_name", name)
        mitigation_frames.append(mit)
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
                out_dir / f"internal-pupil-journeys-{_slug(name)}.csv",
            )
    outputs["impact"] = write_csv(
        pd.concat(published_frames, ignore_index=True), out_dir / "impact.csv"
    )
    if flows is not None:
        outputs["flows"] = write_csv(
            flows_csv_frame(
                published_flows(flows, threshold=d.threshold, round_to=d.round_to, mode=mode)
            ),
            out_dir / "flows.csv",
        )
    outputs["mitigations"] = write_csv(
        pd.concat(mitigation_frames, ignore_index=True), out_dir / "mitigations.csv"
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
        outputs["site_scores"] = write_csv(apply_marker(scores_pub), out_dir / "site_scores.csv")
    layers["provision"] = provision[
        ["setting_id", "name", "provision_type", "in_area", "capacity", "geometry"]
    ]
    if planning is not None:
        layers["planning_areas"] = planning
    if inputs.outline is not None:
        layers["authority_outline"] = inputs.outline
    gpkg = out_dir / "layers.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    write_layers(gpkg, layers)
    outputs["layers"] = gpkg
    outputs["rejections"] = write_csv(inputs.rejections, out_dir / "rejections.csv")
    outputs["row_accounting"] = write_csv(inputs.row_accounting, out_dir / "row_accounting.csv")
    header = (
        f"# plan used for this run: placeplan {version}, {timestamp}, "
        f"config hash {plan.config_hash()}\n"
        f"# original: {plan_file}\n"
    )
    used = out_dir / "plan.used.toml"
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
            out_dir / "optimised_sites.csv",
        )
    logger.info("outputs: %d files written to %s", len(outputs), out_dir)
    return outputs
