"""What every report section shares: the disclosure-controlled tables and the map settings.

:func:`build_context` runs disclosure control once over the report's inputs; each section then
reads the published copies from the :class:`ReportContext` it is given, so no section can reach an
unsuppressed count by accident (the raw inputs stay on :class:`ReportInputs` for the few tables
that re-aggregate before suppressing, such as out of area placements by setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from placeplan.publish.disclosure import suppress
from placeplan.publish.flows import published_flows
from placeplan.publish.report.impact import ImpactTable, all_group

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from placeplan.publish.report.model import Mode, ReportInputs

__all__ = ["ReportContext", "basemap_areas", "build_context", "published_provision"]


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Disclosure-controlled tables and settings shared by the report's sections.

    Attributes
    ----------
    threshold, round_to, mode
        Disclosure settings (see :func:`placeplan.publish.disclosure.suppress`).
    impact
        The published impact table.
    all_group
        Name of the all-pupils group in ``impact``.
    areas, sites, flows, mitigations, time_bands, row_accounting
        Suppressed copies of the inputs of the same name (None when not given).
    map_options
        Keyword arguments both report maps are drawn with (basemap, banners, attribution).
    placement_flows
        The published year-by-year flow table (:func:`placeplan.publish.flows.published_flows`
        of ``inputs.flows``; None when not given), the same numbers as ``flows.csv``.
    """

    threshold: int
    round_to: int
    mode: Mode
    impact: ImpactTable
    all_group: str
    areas: pd.DataFrame | None
    sites: pd.DataFrame | None
    flows: pd.DataFrame | None
    mitigations: pd.DataFrame | None
    time_bands: pd.DataFrame | None
    row_accounting: pd.DataFrame | None
    map_options: dict[str, Any]
    placement_flows: pd.DataFrame | None = None

    @property
    def internal(self) -> bool:
        """True in internal mode (small numbers not suppressed)."""
        return self.mode == "internal"


def build_context(inputs: ReportInputs) -> ReportContext:
    """Apply disclosure control to the report's inputs once, for every section.

    Parameters
    ----------
    inputs
        The report's inputs.

    Returns
    -------
    ReportContext
        The published tables and shared settings.
    """
    th, rnd, mode = inputs.disclosure_threshold, inputs.disclosure_round_to, inputs.mode
    imp = ImpactTable(inputs.impact, threshold=th, round_to=rnd, mode=mode)
    note = "SYNTHETIC pupil cohort — not real children" if inputs.synthetic_data else None
    attribution = (
        "; ".join(line.strip() for line in inputs.attributions.splitlines() if line.strip()) or None
    )
    map_options: dict[str, Any] = {
        "outline": inputs.outline,
        "roads": inputs.roads,
        "internal": mode == "internal",
        "note": note,
        "attribution": attribution,
        "threshold": th,
    }

    _cost_deps = (
        {"annual_cost_gbp": ["pupils"]} if _has(inputs.mitigations, "annual_cost_gbp") else None
    )

    def sup(df: pd.DataFrame | None, **kw: Any) -> pd.DataFrame | None:
        if df is None:
            return None
        return suppress(df, threshold=th, round_to=rnd, mode=mode, **kw)

    areas = (
        sup(
            inputs.areas,
            count_cols=["pupils"],
            dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
        )
        if inputs.areas is not None and "pupils" in inputs.areas.columns
        else inputs.areas
    )
    sites = (
        sup(
            inputs.sites,
            count_cols=["pupils_served"],
            dependent_cols=["mean_time_saved_min"]
            if "mean_time_saved_min" in inputs.sites.columns
            else [],
            group_cols=["selected"] if "selected" in inputs.sites.columns else None,
        )
        if inputs.sites is not None and "pupils_served" in inputs.sites.columns
        else inputs.sites
    )
    return ReportContext(
        threshold=th,
        round_to=rnd,
        mode=mode,
        impact=imp,
        all_group=all_group(imp),
        areas=areas,
        sites=sites,
        flows=sup(
            inputs.ooa_flows,
            count_cols=["baseline", "scenario"],
            group_cols=[["origin_id"], ["destination_id"]],
        ),
        mitigations=sup(inputs.mitigations, count_cols=["pupils"], dependent_cols=_cost_deps),
        time_bands=sup(inputs.time_bands, count_cols=["baseline", "scenario"]),
        row_accounting=sup(
            inputs.row_accounting,
            count_cols=["rows_rejected"],
            dependent_cols={"rows_used": ["rows_rejected"]},
            secondary=False,
        ),
        map_options=map_options,
        placement_flows=None
        if inputs.flows is None
        else published_flows(inputs.flows, threshold=th, round_to=rnd, mode=mode),
    )


def _has(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and col in df.columns


def published_provision(provision: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Keep only non-personal provision columns (capacity, not on-roll counts)."""
    if provision is None:
        return None
    keep = [
        c
        for c in ("setting_id", "name", "provision_type", "in_area", "capacity", "geometry")
        if c in provision.columns
    ]
    return provision[keep]


def basemap_areas(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Area outlines only (no counts), for the site map's backdrop."""
    if areas is None:
        return None
    out = areas[["area_id", "geometry"]].copy()
    out.attrs = {"disclosure_mode": areas.attrs.get("disclosure_mode", "published")}
    return out
