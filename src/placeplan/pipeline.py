"""The only orchestrator: ``run(plan) -> RunResult``, inputs to report, maps, CSV and GeoPackage.

Stages (each a module): inputs (io, geocode) -> network -> journeys (matrix + fixed links) ->
baseline allocation -> scenarios (re-allocation) -> impact -> site scoring -> disclosure control ->
report and maps. Every stage logs one summary line; nothing pupil-level is logged or published.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from placeplan import __version__
from placeplan._errors import ConfigError, InputFileError
from placeplan.compute.allocation import CostModel, baseline_allocation
from placeplan.compute.impact import ImpactAssessment, assess_impact
from placeplan.compute.journeys import MainlandLeg, journey_matrix
from placeplan.compute.projection import project_ooa
from placeplan.compute.scenario import Scenario, ScenarioResult, apply_scenario
from placeplan.settings import settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from placeplan.compute.network import SpeedModel
    from placeplan.compute.optimise import OptimisationResult
    from placeplan.config import PlanConfig

__all__ = ["Inputs", "RunResult", "load_inputs", "run"]

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


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run produced."""

    plan: PlanConfig
    outputs: dict[str, Path]
    baseline: pd.DataFrame
    scenarios: dict[str, ScenarioResult]
    impacts: dict[str, ImpactAssessment]
    site_scores: pd.DataFrame | None
    optimised: OptimisationResult | None
    projections: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Times stages, logs one line each and drives a progress bar over them."""

    def __init__(self, names: list[str]) -> None:
        self.timings: dict[str, float] = {}
        self.bar = tqdm(
            total=len(names),
            desc="placeplan",
            unit="stage",
            disable=None if settings.progress else True,
        )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.bar.set_postfix_str(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - t0
        logger.info("stage %-10s done in %.2f s", name, self.timings[name])
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _exact_locations(df_origins: pd.DataFrame) -> bool:
    """True when any origin is a pupil's own coordinates (``EN:…``), not a postcode centroid."""
    return bool(df_origins["id"].astype(str).str.startswith("EN:").any())


def _xy(df: pd.DataFrame, id_col: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": df[id_col].astype(str).to_numpy(),
            "x": df.geometry.x.to_numpy(),
            "y": df.geometry.y.to_numpy(),
        }
    )


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


def load_inputs(plan: PlanConfig) -> Inputs:
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
    from placeplan.prepare import io
    from placeplan.prepare.validate import check_plan

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
            {"site_id": pd.Series(dtype="string")}, geometry=gpd.GeoSeries([], crs="EPSG:27700")
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
    rejections = report.rejections.reset_index(drop=True)
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
    )


def _growth_rates(plan: PlanConfig) -> pd.Series:
    """Annual growth per need: the plan's overrides, else the authority's recent SEN2 trend."""
    from placeplan.compute.demand import need_growth_rates
    from placeplan.needs import NEED_CODES

    rates = pd.Series(dtype=float)
    path = plan.path(plan.inputs.sen2_trends)
    if path is not None:
        df = pd.read_csv(path, dtype=str)
        if "la_code" in df:
            df = df[df["la_code"].isin([plan.plan.la_code, plan.plan.lad_code])]
        if "breakdown_topic" in df:
            df = df[df["breakdown_topic"] == "All EHC plans"]
        if df.empty or "count" not in df or "time_period" not in df:
            msg = (
                f"{path.name}: no rows with time_period and count for la_code "
                f"{plan.plan.la_code} / {plan.plan.lad_code}; check `[plan]` codes or drop "
                "`inputs.sen2_trends`"
            )
            raise ConfigError(msg)
        df = df.assign(count=pd.to_numeric(df["count"], errors="coerce"))
        total_rate = float("nan")
        by_need = "need_type" in df and df.groupby("need_type")["time_period"].nunique().min() >= 2
        if by_need:
            rates = need_growth_rates(df, years=plan.projection.trend_years)
        else:  # no series by need (the DfE publishes need only for the latest year): total plans
            totals = df.groupby("time_period", as_index=False)["count"].sum(min_count=1)
            total_rate = need_growth_rates(
                totals.assign(need_type="all"), years=plan.projection.trend_years
            )["all"]
            rates = pd.Series(total_rate, index=list(NEED_CODES), dtype=float)
        logger.info(
            "growth: %s from %s (%d recent years)",
            "by need" if by_need else f"all EHC plans {total_rate:.1%} a year",
            path.name,
            plan.projection.trend_years,
        )
    overrides = pd.Series(plan.projection.growth_by_need, dtype=float)
    return overrides.combine_first(rates)


def _cost_model(plan: PlanConfig) -> CostModel:
    return CostModel(
        transport_cost_per_mile_gbp=plan.costs.transport_cost_per_mile_gbp,
        school_days=plan.thresholds.school_days,
        placement_per_place_gbp=tuple(plan.costs.placement_per_place_gbp.items()),
        walking_distance_under8_miles=plan.thresholds.walking_distance_under8_miles,
        walking_distance_8plus_miles=plan.thresholds.walking_distance_8plus_miles,
    )


def _limits(plan: PlanConfig) -> dict[str, float]:
    t = plan.thresholds
    return {
        "primary": t.max_journey_primary_min,
        "secondary": t.max_journey_secondary_min,
        "post16": t.max_journey_secondary_min,
    }


def _calibrate(plan: PlanConfig, baseline: pd.DataFrame, costs: CostModel) -> CostModel:
    """Scale the per-mile transport cost so the baseline matches the authority's spend, if given."""
    spend = plan.costs.annual_send_transport_spend_gbp
    if spend is None:
        return costs
    miles = float((baseline["distance_miles"].fillna(0) * baseline["transport_assisted"]).sum())
    if miles <= 0:
        return costs
    rate = spend / (miles * 2 * costs.school_days)
    logger.info("transport cost calibrated to the stated spend: %.2f GBP per pupil-mile", rate)
    return CostModel(
        transport_cost_per_mile_gbp=rate,
        school_days=costs.school_days,
        placement_per_place_gbp=costs.placement_per_place_gbp,
        walking_distance_under8_miles=costs.walking_distance_under8_miles,
        walking_distance_8plus_miles=costs.walking_distance_8plus_miles,
    )


def run(plan: PlanConfig, *, write: bool = True) -> RunResult:
    """Run a whole plan: inputs to travel impact assessment.

    Parameters
    ----------
    plan
        A loaded plan (:func:`placeplan.config.load_plan`).
    write
        Write the outputs (report, maps, CSV, GeoPackage, plan copy) to ``plan.output_dir``.

    Returns
    -------
    result
        Allocations, impacts, scores, output paths and stage timings.

    Raises
    ------
    PlaceplanError
        Any input, configuration, network or model error, with a message saying how to fix it.
    """
    from placeplan.compute import network as network_mod

    stages = _Stages(
        [
            "inputs",
            "network",
            "journeys",
            "baseline",
            "selection",
            "scenarios",
            "impact",
            "projection",
            "outputs",
        ]
    )
    try:
        with stages.stage("inputs"):
            inputs = load_inputs(plan)
        with stages.stage("network"):
            if plan.inputs.network is not None:
                net = network_mod.load_network(
                    plan.path(plan.inputs.network), speed_model=_speed_model(plan)
                )
            else:
                # the config validator requires exactly one of `network` and `network_place`
                place = plan.inputs.network_place
                assert place is not None
                net = network_mod.network_from_place(
                    place,
                    buffer_m=plan.inputs.network_buffer_m,
                    speed_model=_speed_model(plan),
                )
        with stages.stage("journeys"):
            pupils = inputs.pupils
            origins = (
                pupils[["origin_id", "geometry"]]
                .drop_duplicates("origin_id")
                .pipe(gpd.GeoDataFrame, geometry="geometry", crs="EPSG:27700")
            )
            df_origins = _xy(origins, "origin_id")
            dests = _xy(inputs.provision, "setting_id")
            dests["ferry_required"] = (
                inputs.provision["ferry_required"].fillna(False).astype(bool).to_numpy()
                if "ferry_required" in inputs.provision
                else False
            )
            if len(inputs.sites):
                site_xy = _xy(inputs.sites, "site_id").assign(ferry_required=False)
                dests = pd.concat([dests, site_xy], ignore_index=True)
            journeys, snaps = journey_matrix(
                net,
                df_origins,
                dests,
                ferry_links=plan.network.ferry_links,
                mainland=MainlandLeg(
                    plan.network.mainland_circuity, plan.network.mainland_speed_kph
                ),
                fixed_allowance_min=plan.network.fixed_allowance_min,
                max_snap_m=plan.network.max_snap_m,
                # postcode centroids may be cached; exact home coordinates never are
                use_cache=False if _exact_locations(df_origins) else None,
            )
        with stages.stage("baseline"):
            costs = _cost_model(plan)
            baseline = baseline_allocation(pupils, inputs.provision, journeys, costs=costs)
            calibrated = _calibrate(plan, baseline, costs)
            if calibrated != costs:  # transport costs re-priced at the calibrated rate
                costs = calibrated
                baseline = baseline_allocation(pupils, inputs.provision, journeys, costs=costs)
        with stages.stage("selection"):
            site_scores, optimised = _select_sites(inputs, pupils, baseline, journeys, plan)
        with stages.stage("scenarios"):
            scenarios = {}
            for cfg in plan.scenario:
                scenario = Scenario.from_config(cfg)
                if cfg.use_optimised_sites:
                    # the DataFrame adapter returns `site_id` strings, not column indices
                    chosen = (
                        tuple(cast("tuple[str, ...]", optimised.selected))
                        if optimised is not None
                        else ()
                    )
                    scenario = replace(
                        scenario, open_sites=tuple(dict.fromkeys(scenario.open_sites + chosen))
                    )
                scenarios[cfg.name] = apply_scenario(
                    scenario,
                    pupils,
                    baseline,
                    inputs.sites,
                    journeys,
                    costs=costs,
                    max_journey_min_by_phase=_limits(plan),
                )
        with stages.stage("impact"):
            impacts = {
                name: assess_impact(
                    pupils,
                    baseline,
                    res.allocation,
                    max_journey_min_by_phase=_limits(plan),
                    worse_off_min=plan.thresholds.worse_off_min,
                    walking_distance_under8_miles=plan.thresholds.walking_distance_under8_miles,
                    walking_distance_8plus_miles=plan.thresholds.walking_distance_8plus_miles,
                )
                for name, res in scenarios.items()
            }
        with stages.stage("projection"):
            growth = _growth_rates(plan)
            projections = {
                name: project_ooa(
                    impacts[name].per_pupil,
                    res.new_places,
                    growth,
                    years=plan.projection.years,
                    start_year=plan.projection.start_year,
                )
                for name, res in scenarios.items()
            }
        outputs: dict[str, Path] = {}
        with stages.stage("outputs"):
            if write:
                from placeplan.publish.outputs import write_outputs

                outputs = write_outputs(
                    plan=plan,
                    inputs=inputs,
                    net=net,
                    journeys=journeys,
                    snaps=snaps,
                    baseline=baseline,
                    scenarios=scenarios,
                    impacts=impacts,
                    site_scores=site_scores,
                    optimised=optimised,
                    projections=projections,
                    growth=growth,
                    version=__version__,
                    timestamp=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                )
    finally:
        stages.close()
    return RunResult(
        plan=plan,
        outputs=outputs,
        baseline=baseline,
        scenarios=scenarios,
        impacts=impacts,
        site_scores=site_scores,
        optimised=optimised,
        projections=projections,
        timings_s=stages.timings,
    )


def _speed_model(plan: PlanConfig) -> SpeedModel:
    """The network speed model with the plan's overrides (road-class speeds, factors)."""
    from placeplan.compute.network import SpeedModel

    base = SpeedModel()
    classes = dict(base.class_kph)
    classes.update(plan.network.speeds_kph)
    return replace(
        base,
        class_kph=classes,
        use_maxspeed=plan.network.use_maxspeed,
        peak_factor=plan.network.peak_factor,
        fixed_allowance_min=plan.network.fixed_allowance_min,
    )


def _select_sites(
    inputs: Inputs,
    pupils: pd.DataFrame,
    baseline: pd.DataFrame,
    journeys: pd.DataFrame,
    plan: PlanConfig,
) -> tuple[pd.DataFrame | None, OptimisationResult | None]:
    """Score every candidate site and, with a budget, choose the best set exactly.

    Scoring sees all pupils' need; the optimisation sees only pupils whose current placement a
    scenario may move (``movable``), since only they would take up a new base's places.
    """
    from placeplan.compute.demand import aggregate_demand
    from placeplan.compute.optimise import optimise_sites
    from placeplan.compute.scoring import score_sites, weight_sensitivity

    if not len(inputs.sites):
        return None, None
    sel = plan.selection
    sites = pd.DataFrame(inputs.sites.drop(columns="geometry"))
    area_cols = [c for c in ("imd_decile", "ruc_class") if c in pupils]
    if inputs.areas is not None and area_cols:
        from placeplan.prepare import io

        site_area = io.assign_areas(inputs.sites, inputs.areas)
        a = inputs.areas.set_index("area_id")
        for col in area_cols:
            if col in a:
                sites[col] = site_area.map(a[col]).to_numpy()
        if "imd_decile" in sites:
            sites["imd_decile"] = pd.to_numeric(sites["imd_decile"], errors="coerce")
    host = inputs.provision.set_index("setting_id")
    if {"capacity", "on_roll"} <= set(host.columns):
        sites["host_capacity"] = sites["host_setting_id"].map(host["capacity"]).to_numpy()
        sites["host_on_roll"] = sites["host_setting_id"].map(host["on_roll"]).to_numpy()
    matrix = journeys[["origin_id", "destination_id", "travel_time_min"]]
    demand = aggregate_demand(pupils, baseline)
    scores = score_sites(
        sites,
        demand,
        matrix,
        weights=sel.weights or None,
        max_travel_time_min=sel.max_travel_time_min,
    )
    # how robust each rank is: every weight moved by +/-50 % in turn
    sens = weight_sensitivity(
        sites,
        demand,
        matrix,
        weights=sel.weights or None,
        max_travel_time_min=sel.max_travel_time_min,
    ).set_index("site_id")
    for col in ("min_rank", "max_rank", "most_sensitive_to"):
        scores[col] = scores["site_id"].map(sens[col])
    optimised = None
    if sel.budget_gbp > 0:
        movable: set[str] = set()
        for cfg in plan.scenario:
            if cfg.use_optimised_sites:
                movable |= set(cfg.movable)
        movable = movable or {"independent", "non_maintained", "out_of_area"}
        mask = baseline["category"].isin(movable) & (baseline["status"] == "placed")
        opt_demand = aggregate_demand(pupils.loc[mask], baseline.loc[mask])
        optimised = optimise_sites(
            sites,
            opt_demand,
            matrix,
            budget_gbp=sel.budget_gbp,
            max_sites=sel.max_sites,
            max_travel_time_min=plan.thresholds.max_journey_secondary_min,
            time_limit_s=sel.time_limit_s,
        )
        logger.info(
            "selection: %d sites scored; budget %s GBP -> %d sites chosen (%s)",
            len(scores),
            f"{sel.budget_gbp:,.0f}",
            len(optimised.selected),
            optimised.status,
        )
    return scores, optimised
