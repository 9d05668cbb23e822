"""What every report section shares: the disclosure-controlled tables and the map settings.

:func:`build_context` runs disclosure control once over the report's inputs; each section then
reads the published copies from the :class:`ReportContext` it is given, so no section can reach an
unsuppressed count by accident (the raw inputs stay on :class:`ReportInputs` for the few tables
that re-aggregate before suppressing, such as out of area placements by setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from placeplan.publish.report.impact import all_group

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from placeplan.publish.disclosure import Published
    from placeplan.publish.report.impact import ImpactTable
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
    site_scores
        The published site scores (the numbers of ``site_scores.csv``), None when not given.
    ooa_settings
        Out-of-area and independent placements by setting, decided with ``flows``.
    mitigations_by_year
        The published year-by-year mitigation table
        (:func:`placeplan.publish.mitigations.published_mitigations_by_year`), the numbers of
        ``mitigations_by_year.csv``; None without it.
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
    site_scores: pd.DataFrame | None = None
    ooa_settings: pd.DataFrame | None = None
    mitigations_by_year: pd.DataFrame | None = None

    @property
    def internal(self) -> bool:
        """True in internal mode (small numbers not suppressed)."""
        return self.mode == "internal"


def build_context(inputs: ReportInputs) -> ReportContext:
    """Give every section the run's disclosure-controlled tables, decided once.

    The tables come from ``inputs.release`` (the run's :func:`placeplan.publish.register.
    release_run`, shared with ``impact.csv``, ``flows.csv``, ``site_scores.csv`` and the
    GeoPackage); without one, :func:`~placeplan.publish.register.release_run` is applied to
    these inputs alone, with the same declarations.

    Parameters
    ----------
    inputs
        The report's inputs.

    Returns
    -------
    ReportContext
        The published tables and shared settings.
    """
    # the register imports the report's impact model: import it here, not at module level
    from placeplan.publish.register import release_run

    th, rnd, mode = inputs.disclosure_threshold, inputs.disclosure_round_to, inputs.mode
    rel = inputs.release
    if rel is None:
        rel = release_run([inputs])[inputs.scenario_name]
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
    if inputs.region is not None:
        map_options["region"] = inputs.region

    def frame(pub: Published | None, raw: pd.DataFrame | None) -> pd.DataFrame | None:
        # a table without its declared counts (e.g. areas without pupils) has nothing to hide
        return pub.frame() if pub is not None else raw

    return ReportContext(
        threshold=th,
        round_to=rnd,
        mode=mode,
        impact=rel.impact,
        all_group=all_group(rel.impact),
        areas=frame(rel.areas, inputs.areas),
        sites=frame(rel.sites, inputs.sites),
        flows=frame(rel.ooa_flows, None),
        mitigations=frame(rel.mitigations, None),
        time_bands=frame(rel.time_bands, None),
        row_accounting=frame(rel.row_accounting, None),
        map_options=map_options,
        placement_flows=rel.flows,
        site_scores=frame(rel.site_scores, None),
        ooa_settings=frame(rel.ooa_settings, None),
        mitigations_by_year=rel.mitigations_by_year,
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
    return areas[["area_id", "geometry"]].copy()
