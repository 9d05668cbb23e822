"""The report's data model: its inputs contract and the blocks a rendered report is made of.

:class:`ReportInputs` is what the pipeline hands the report (aggregates only, checked on
construction); :class:`Report` is what :func:`placeplan.publish.report.build.build_report` returns
and :func:`placeplan.publish.report.render.render_report` draws: :class:`Section` objects holding
:class:`Table`, :class:`Figure`, :class:`MapFigure`, :class:`Paragraph`, :class:`Quote`,
:class:`BulletList` and :class:`Preformatted` blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.vocab import TIME_BAND_LABELS

if TYPE_CHECKING:
    import geopandas as gpd

    from placeplan.publish.register import Release

__all__ = [
    "DFE_ELEMENTS",
    "DFE_REQUIREMENT",
    "IMPACT_COLS",
    "TIME_BAND_LABELS",
    "Block",
    "BulletList",
    "Cell",
    "Figure",
    "Headline",
    "MapFigure",
    "Mode",
    "Paragraph",
    "Preformatted",
    "Quote",
    "Report",
    "ReportInputs",
    "Reweight",
    "Section",
    "Table",
]

Mode = Literal["published", "internal"]

DFE_REQUIREMENT = (
    "Evidence that an impact assessment of travel arrangements has been carried out for any "
    "capital, inclusion base or special school expansion proposal, demonstrating expected changes "
    "to travel distances, journey times, and reliance on out of area placements. Including any "
    "explicit travel related mitigations."
)
"""Local SEND Reform Plan, Sufficiency and Place Planning minimum requirement (DfE/NHS England)."""

DFE_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("distances", "Expected changes to travel distances"),
    ("journey-times", "Expected changes to journey times"),
    ("out-of-area", "Reliance on out of area placements"),
    ("mitigations", "Travel related mitigations"),
)
"""The four DfE elements, (anchor, heading), worded as in the requirement."""

IMPACT_COLS = ("group_type", "group", "metric", "baseline", "scenario", "change")


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class ReportInputs:
    """Everything the TIA report needs, already aggregated by the pipeline.

    Counts in these tables are *not yet* disclosure-controlled: :func:`build_report` applies
    :func:`~placeplan.publish.disclosure.suppress` to every one. No table may hold pupil rows.
    Geometries are EPSG:27700.

    Attributes
    ----------
    plan_name, authority
        Shown in the title.
    run_timestamp
        When the run happened, as text (passed in; never read from the clock here).
    placeplan_version, config_hash
        Provenance shown on every page.
    plan_toml
        The plan file text, reproduced in the method section.
    impact
        Long table ``group_type, group, metric, baseline, scenario, change``.
    mode
        ``"published"`` (suppress) or ``"internal"`` (keep small numbers; INTERNAL banner).
    scenario_name
        Name of the scenario compared with the baseline.
    mitigations
        ``group, pupils, mitigation`` (optional ``need_type``, ``phase``).
    sites
        Candidate sites (points): ``site_id, name, needs, phases, places, capital_cost_gbp,
        score, selected, pupils_served, mean_time_saved_min``.
    provision
        Existing settings (points): ``setting_id, name, provision_type, in_area, capacity``.
    areas
        LSOA polygons: ``area_id, name, imd_decile, ruc_class, pupils,
        baseline_mean_time_min, scenario_mean_time_min``.
    ooa_flows
        ``origin_id, destination_id, baseline, scenario`` (optional ``origin_name``,
        ``destination_name``); ``origin_id`` is an ``areas.area_id``, ``destination_id`` a
        ``provision.setting_id``.
    isochrones
        ``site_id, minutes, geometry`` drive-time catchments.
    outline, roads
        Vector basemap: authority / island outline polygons, main-road lines.
    flow_origins
        Polygons (``area_id``, ``name``) whose representative points are the origins of
        ``ooa_flows`` when those are planning areas rather than ``areas``.
    time_bands
        ``band, baseline, scenario``: pupils per journey-time band, ``band`` one of
        :data:`TIME_BAND_LABELS`.
    parameters
        ``(name, value, basis)`` rows for the method section.
    assumptions
        Sentences for the method section.
    row_accounting
        ``file, rows_read, rows_used, rows_rejected``.
    attributions
        Data-source attribution text (one statement per line).
    synthetic_data
        True when the pupil cohort is synthetic: a banner says so at the top.
    disclosure_threshold, disclosure_round_to
        Disclosure control settings (counts under the threshold suppressed; optional rounding).
    reasonable_journey_min
        Reasonable maximum journey by phase, minutes (for the text).
    site_scores
        Optional scoring criteria per candidate site
        (from :func:`placeplan.compute.scoring.score_sites`):
        ``site_id`` and any of ``rank``, ``need_in_reach``, ``ooa_avoidable``, ``time_saved_min``,
        ``pupils_benefiting``, ``cost_per_place_gbp``, ``imd_decile``, ``spare_places``,
        ``rural``. Counts are disclosure-controlled here and the published one-line "case for
        the site" is composed from them (never from the planning team's ``explanation`` text,
        which carries small counts).
    flows
        The year-by-year placement flows, raw, as :func:`placeplan.compute.flows.flow_table`
        returns them (``year, scenario, measure, central, lower, upper``); published through
        :func:`placeplan.publish.flows.published_flows` with the settings above, as in
        ``flows.csv``. None: the "Year by year" section is left out.

    site_reach_min
        Travel time (minutes) within which ``need_in_reach`` was counted, for the wording.
    area_groups, release
        See the attributes' comments.
    """

    plan_name: str
    authority: str
    run_timestamp: str
    placeplan_version: str
    config_hash: str
    plan_toml: str
    impact: pd.DataFrame
    mode: Mode = "published"
    scenario_name: str = "Scenario"
    mitigations: pd.DataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    provision: gpd.GeoDataFrame | None = None
    areas: gpd.GeoDataFrame | None = None
    ooa_flows: pd.DataFrame | None = None
    isochrones: gpd.GeoDataFrame | None = None
    outline: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    time_bands: pd.DataFrame | None = None
    flow_origins: gpd.GeoDataFrame | None = None
    parameters: Sequence[tuple[str, str, str]] = ()
    assumptions: Sequence[str] = ()
    row_accounting: pd.DataFrame | None = None
    attributions: str = ""
    synthetic_data: bool = False
    disclosure_threshold: int = 5
    disclosure_round_to: int = 0
    reasonable_journey_min: Mapping[str, float] = field(
        default_factory=lambda: {"primary": 45.0, "secondary": 75.0}
    )
    site_scores: pd.DataFrame | None = None
    site_reach_min: float | None = None
    flows: pd.DataFrame | None = None
    #: the name of the plan file that ran (shown beside its text in the method section)
    plan_file_name: str = "plan.toml"
    #: neighbouring areas' outline polygons (``[inputs] region_outline``): a light basemap
    region: gpd.GeoDataFrame | None = None
    #: the scoring weights the plan used, by criterion key (``compute.scoring.CRITERIA``), for
    #: the sites section's re-weighting sliders; None: the sliders start from the defaults
    site_weights: Mapping[str, float] | None = None
    #: the cohort's baseline beside the published SEN2 figures
    #: (:func:`placeplan.prepare.sen2_check.release_check`; cohort counts not yet suppressed)
    sen2_check: pd.DataFrame | None = None
    #: LSOA ``area_id`` -> planning area (the impact table's ``area`` groups), so the LSOA
    #: layer is protected against the planning-area totals it adds up to
    area_groups: Mapping[str, str] | None = None
    #: the run's published tables for this scenario (:func:`placeplan.publish.register.
    #: release_run`); None: :func:`build_report` suppresses these inputs itself, the same way
    release: Release | None = None
    #: per-proposal figures for this scenario
    #: (:class:`placeplan.publish.report.sections.proposals.ProposalInputs`); None: no section
    proposals: Any = None
    #: the mitigation rules applied to the flow model's pupils year by year, raw
    #: (:func:`placeplan.compute.mitigation_years.mitigations_by_year`); None: snapshot only
    mitigations_by_year: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        """Check the contract: mode, impact columns, no pupil rows, CRS."""
        if self.mode not in ("published", "internal"):
            msg = f"mode must be 'published' or 'internal', got {self.mode!r}"
            raise SchemaValidationError(msg)
        missing = [c for c in IMPACT_COLS if c not in self.impact.columns]
        if missing:
            msg = f"impact table lacks columns {missing}"
            raise SchemaValidationError(msg)
        for name in (
            "impact",
            "mitigations",
            "sites",
            "provision",
            "areas",
            "ooa_flows",
            "time_bands",
            "row_accounting",
            "site_scores",
            "flows",
            "sen2_check",
            "mitigations_by_year",
        ):
            df = getattr(self, name)
            if df is not None and any("pupil_ref" in str(c).lower() for c in df.columns):
                msg = f"{name}: pupil-level column present; pass aggregates only"
                raise SchemaValidationError(msg)
        if self.flows is not None:
            from placeplan.publish.flows import FLOW_COLS

            lacking = [c for c in FLOW_COLS if c not in self.flows.columns]
            if lacking:
                msg = f"flows: lacks columns {lacking}; pass the output of `flow_table`"
                raise SchemaValidationError(msg)
        for name in (
            "sites",
            "provision",
            "areas",
            "isochrones",
            "outline",
            "roads",
            "flow_origins",
            "region",
        ):
            gdf = getattr(self, name)
            if gdf is None:
                continue
            crs = getattr(gdf, "crs", None)
            if crs is None or crs.to_epsg() != 27700:
                msg = f"{name}: expected EPSG:27700, got {crs}"
                raise CRSError(msg)


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Cell:
    """One table cell: a raw value, how to format it and whether it was suppressed.

    ``low`` and ``high`` (optional) are the ends of the value's range (e.g. an 80 % range over
    new-plan paths); they are shown in brackets after the value when they differ from it.
    """

    value: Any
    fmt: str = "text"
    suppressed: bool = False
    signed: bool = False
    low: Any = None
    high: Any = None

    @property
    def is_count(self) -> bool:
        """True for pupil counts (used by tests and CSS)."""
        return self.fmt == "count"


@dataclass(frozen=True)
class Table:
    """A captioned table.

    ``groups`` (optional) is a spanning header row above ``header``: ``(label, n_columns)``
    pairs covering every column (an empty label for columns without a group). ``row_notes``
    (optional) holds one line of text per row, shown under that row across the whole table.
    """

    id: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    kind: str = "table"
    groups: tuple[tuple[str, int], ...] = ()
    row_notes: tuple[str, ...] = ()

    @property
    def numeric_cols(self) -> frozenset[int]:
        """Indices of columns holding numbers (right-aligned, header too)."""
        return frozenset(
            i
            for i in range(len(self.header))
            if any(i < len(r) and r[i].fmt != "text" for r in self.rows)
        )

    @property
    def has_suppressed(self) -> bool:
        """True if any cell shows the suppression marker ``c``."""
        return any(c.suppressed for r in self.rows for c in r)

    @property
    def has_missing(self) -> bool:
        """True if any numeric cell shows ``x`` (not applicable / no pupils)."""
        return any(
            c.fmt != "text" and not c.suppressed and c.value is None for r in self.rows for c in r
        )


@dataclass(frozen=True)
class Figure:
    """An inline SVG figure (trusted markup generated here)."""

    id: str
    caption: str
    svg: str
    alt: str
    kind: str = "figure"


@dataclass(frozen=True)
class MapFigure:
    """An interactive offline map, embedded as an ``iframe srcdoc``."""

    id: str
    caption: str
    html: str
    height_px: int = 540
    kind: str = "map"


@dataclass(frozen=True)
class Paragraph:
    """Plain text (escaped when rendered), optionally ending with a link to an anchor in the
    document (``href``, without the ``#``, worded ``link_text``)."""

    text: str
    kind: str = "paragraph"
    href: str = ""
    link_text: str = ""


@dataclass(frozen=True)
class Quote:
    """A block quotation with its source."""

    text: str
    source: str
    kind: str = "quote"


@dataclass(frozen=True)
class BulletList:
    """A bulleted list of plain-text items."""

    items: tuple[str, ...]
    kind: str = "list"


@dataclass(frozen=True)
class Preformatted:
    """Preformatted text in a collapsible block (e.g. the plan file)."""

    summary: str
    text: str
    kind: str = "pre"


@dataclass(frozen=True)
class Reweight:
    """Live re-weighting of the site scores: sliders, a table re-ranked in the browser.

    ``criteria`` is ``(key, label, weight)`` per criterion with a slider (weights as given by
    the plan, any scale); ``header`` and ``rows`` the table as first drawn (``rows[i][0]`` is
    the rank cell); ``data`` the JSON (script-safe) the inline script reads: the published
    normalised criteria per site as ``low``/``high`` (an interval where a count is suppressed,
    :mod:`placeplan.publish.site_ranges`).
    """

    id: str
    caption: str
    criteria: tuple[tuple[str, str, float], ...]
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    site_ids: tuple[str, ...]
    data: str
    note: str = ""
    kind: str = "reweight"


Block = Table | Figure | MapFigure | Paragraph | Quote | BulletList | Preformatted | Reweight


@dataclass(frozen=True)
class Section:
    """A headed report section with an anchor."""

    id: str
    number: str
    title: str
    blocks: tuple[Block, ...]
    dfe_element: bool = False
    #: extra CSS class of the section's wrapper (``proposal-page``: one printed page each)
    css_class: str = ""


@dataclass(frozen=True)
class Headline:
    """A headline figure for the summary box."""

    label: str
    change: Cell
    baseline: Cell
    scenario: Cell


@dataclass(frozen=True)
class Report:
    """The report model rendered by :func:`placeplan.publish.report.render.render_report`."""

    title: str
    plan_name: str
    authority: str
    scenario_name: str
    run_timestamp: str
    placeplan_version: str
    config_hash: str
    mode: Mode
    synthetic_data: bool
    disclosure_threshold: int
    dfe_requirement: str
    headlines: tuple[Headline, ...]
    sections: tuple[Section, ...]
    scenario_summary: str = ""

    @property
    def internal(self) -> bool:
        """True in internal mode."""
        return self.mode == "internal"
