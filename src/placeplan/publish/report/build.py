"""Build the travel impact assessment (TIA) report model from aggregated pipeline results.

ydata-style first layer: :func:`build_report` turns :class:`ReportInputs` into a :class:`Report`
(dataclasses for sections, tables, figures and maps). Every table, figure and map goes through
:func:`placeplan.publish.disclosure.suppress` here, before anything reaches a template or a map.
Nothing here reads the clock, the network or the environment: the same inputs give the same report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.publish.disclosure import SUPPRESSED_MARKER, suppress, suppression_mask

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "DFE_ELEMENTS",
    "DFE_REQUIREMENT",
    "BulletList",
    "Cell",
    "Figure",
    "Headline",
    "MapFigure",
    "Paragraph",
    "Preformatted",
    "Quote",
    "Report",
    "ReportInputs",
    "Section",
    "Table",
    "build_report",
    "example_inputs",
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

#: Impact metrics that are counts of pupils (primary-suppressed under the threshold).
COUNT_METRICS: tuple[str, ...] = (
    "pupils",
    "over_threshold_n",
    "ooa_placements",
    "independent_placements",
    "worse_off_n",
    "moved_n",
    "ferry_journeys",
    "over_threshold_road_n",
)
#: Derived impact metrics and the count metrics they depend on (others depend on ``pupils``).
DEPENDENT_METRICS: dict[str, tuple[str, ...]] = {
    "over_threshold_pct": ("over_threshold_n", "pupils"),
}
_METRIC_FMT: dict[str, str] = {
    "pupils": "count",
    "mean_time_min": "minutes",
    "median_time_min": "minutes",
    "p90_time_min": "minutes",
    "max_time_min": "minutes",
    "mean_distance_km": "km",
    "mean_distance_miles": "miles",
    "over_threshold_n": "count",
    "over_threshold_pct": "percent",
    "ooa_placements": "count",
    "independent_placements": "count",
    "annual_placement_cost_gbp": "gbp",
    "annual_transport_cost_gbp": "gbp",
    "worse_off_n": "count",
    "moved_n": "count",
    "ferry_journeys": "count",
    "over_threshold_road_n": "count",
}
_METRIC_LABEL: dict[str, str] = {
    "pupils": "Pupils in scope",
    "mean_time_min": "Mean journey time (each way)",
    "median_time_min": "Median journey time",
    "p90_time_min": "90th percentile journey time",
    "max_time_min": "Longest journey time",
    "mean_distance_km": "Mean travel distance (km)",
    "mean_distance_miles": "Mean travel distance (miles)",
    "over_threshold_n": "Pupils over the reasonable maximum journey",
    "over_threshold_pct": "Share over the reasonable maximum journey",
    "ooa_placements": "Out of area placements",
    "independent_placements": "Independent / non-maintained placements",
    "annual_placement_cost_gbp": "Annual placement cost",
    "annual_transport_cost_gbp": "Annual transport cost",
    "worse_off_n": "Pupils whose journey gets longer",
    "moved_n": "Pupils who change setting",
    "ferry_journeys": "Journeys crossing to the mainland (ferry)",
    "over_threshold_road_n": "Over the reasonable maximum without a ferry",
}
_GROUP_TYPE_LABEL: dict[str, str] = {
    "need_type": "primary need",
    "phase": "phase",
    "area": "planning area",
    "imd_decile": "deprivation decile (IMD 2019, 1 = most deprived)",
    "ruc_class": "rural / urban class",
}
TIME_BAND_LABELS: tuple[str, ...] = (
    "< 15 min",
    "15–30 min",
    "30–45 min",
    "45–60 min",
    "60–75 min",
    "> 75 min",
)
_IMPACT_COLS = ("group_type", "group", "metric", "baseline", "scenario", "change")


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
    ooa_projection
        Out-of-area and independent placements with and without the proposal, year by year
        (:func:`placeplan.compute.projection.project_ooa`; rows with ``need_type == "all"`` are
        shown).
    site_reach_min
        Travel time (minutes) within which ``need_in_reach`` was counted, for the wording.
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
    ooa_projection: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        """Check the contract: mode, impact columns, no pupil rows, CRS."""
        if self.mode not in ("published", "internal"):
            msg = f"mode must be 'published' or 'internal', got {self.mode!r}"
            raise SchemaValidationError(msg)
        missing = [c for c in _IMPACT_COLS if c not in self.impact.columns]
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
        ):
            df = getattr(self, name)
            if df is not None and any("pupil_ref" in str(c).lower() for c in df.columns):
                msg = f"{name}: pupil-level column present; pass aggregates only"
                raise SchemaValidationError(msg)
        for name in (
            "sites",
            "provision",
            "areas",
            "isochrones",
            "outline",
            "roads",
            "flow_origins",
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
    """One table cell: a raw value, how to format it and whether it was suppressed."""

    value: Any
    fmt: str = "text"
    suppressed: bool = False
    signed: bool = False

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
    """Plain text (escaped when rendered)."""

    text: str
    kind: str = "paragraph"


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


Block = Table | Figure | MapFigure | Paragraph | Quote | BulletList | Preformatted


@dataclass(frozen=True)
class Section:
    """A headed report section with an anchor."""

    id: str
    number: str
    title: str
    blocks: tuple[Block, ...]
    dfe_element: bool = False


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


# --------------------------------------------------------------------------- impact
class _Impact:
    """Disclosure-controlled impact table with cell lookup."""

    def __init__(self, impact: pd.DataFrame, *, threshold: int, round_to: int, mode: Mode):
        imp = impact.loc[:, list(_IMPACT_COLS)].copy()
        imp["group"] = imp["group"].astype(str)
        dup = imp.duplicated(["group_type", "group", "metric"])
        if dup.any():
            msg = f"impact table has {int(dup.sum())} duplicate (group_type, group, metric) rows"
            raise SchemaValidationError(msg)
        # unstacking one level of a three-level index leaves a frame
        wide = cast(
            "pd.DataFrame",
            imp.set_index(["group_type", "group", "metric"])[["baseline", "scenario", "change"]]
            .unstack("metric")
            .sort_index(),
        )
        wide.columns = [f"{m}__{w}" for w, m in cast("pd.MultiIndex", wide.columns)]
        wide = wide.reset_index()
        metrics = sorted(set(imp["metric"]))
        counts = [m for m in metrics if m in COUNT_METRICS]
        for m in metrics:
            for w in ("baseline", "scenario", "change"):
                wide[f"{m}__{w}"] = pd.to_numeric(wide[f"{m}__{w}"], errors="coerce").astype(float)
        count_cols = [f"{m}__{w}" for m in counts for w in ("baseline", "scenario")]
        deps: dict[str, list[str]] = {}
        for m in metrics:
            if m in counts:
                deps[f"{m}__change"] = [f"{m}__baseline", f"{m}__scenario"]
                continue
            sources = [s for s in DEPENDENT_METRICS.get(m, ("pupils",)) if s in counts]
            for w in ("baseline", "scenario"):
                deps[f"{m}__{w}"] = [f"{s}__{w}" for s in sources]
            deps[f"{m}__change"] = [f"{s}__{w}" for s in sources for w in ("baseline", "scenario")]
        out = suppress(
            wide,
            count_cols=count_cols,
            threshold=threshold,
            round_to=round_to,
            mode=mode,
            dependent_cols=deps,
            group_cols=["group_type"],
            total_rows=wide["group_type"].eq("all"),
        )
        if round_to and mode == "published":
            for m in counts:
                out[f"{m}__change"] = out[f"{m}__scenario"] - out[f"{m}__baseline"]
        self.table = out
        self.mask = suppression_mask(out)
        self.metrics = metrics
        self._index = {
            (gt, g): i
            for i, (gt, g) in enumerate(zip(out["group_type"], out["group"], strict=True))
        }

    def has(self, metric: str) -> bool:
        return metric in self.metrics

    def groups(self, group_type: str) -> list[str]:
        gs = [g for (gt, g) in self._index if gt == group_type]
        if group_type == "phase":
            return sorted(gs, key=lambda g: (_PHASE_ORDER.get(g, 99), _natural_key(g)))
        return sorted(gs, key=_natural_key)

    def cell(self, group_type: str, group: str, metric: str, which: str) -> Cell:
        col = f"{metric}__{which}"
        fmt = _METRIC_FMT.get(metric, "number")
        i = self._index.get((group_type, group))
        if i is None or col not in self.table.columns:
            return Cell(None, fmt)
        row = self.table.index[i]
        sup = bool(self.mask.loc[row, col]) if col in self.mask.columns else False
        v = self.table.loc[row, col]
        v = None if pd.isna(v) else float(v)
        return Cell(v, fmt, suppressed=sup, signed=which == "change")

    def row(self, group_type: str, group: str, metric: str) -> tuple[Cell, Cell, Cell]:
        return tuple(  # type: ignore[return-value]
            self.cell(group_type, group, metric, w) for w in ("baseline", "scenario", "change")
        )


_PHASE_ORDER = {"primary": 0, "secondary": 1, "post16": 2}
_PHASE_LABEL = {"primary": "Primary", "secondary": "Secondary", "post16": "Post-16"}


def _natural_key(text: str) -> tuple[Any, ...]:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text.lower())


def _metric_table(
    imp: _Impact, id_: str, caption: str, metrics: Sequence[str], note: str = ""
) -> Table:
    rows = tuple(
        (Cell(_METRIC_LABEL.get(m, m)), *imp.row("all", _all_group(imp), m))
        for m in metrics
        if imp.has(m)
    )
    return Table(id_, caption, ("Measure", "Baseline", "Scenario", "Change"), rows, note)


def _all_group(imp: _Impact) -> str:
    gs = imp.groups("all")
    return gs[0] if gs else "all"


def _group_table(
    imp: _Impact,
    group_type: str,
    id_: str,
    caption: str,
    metrics: Sequence[tuple[str, str]],
    *,
    change: bool = True,
    note: str = "",
) -> Table | None:
    groups = imp.groups(group_type)
    if not groups:
        return None
    header: list[str] = [_GROUP_TYPE_LABEL.get(group_type, group_type).capitalize()]
    spans: list[tuple[str, int]] = [("", 1)]
    used = [(m, lbl) for m, lbl in metrics if imp.has(m)]
    for _, lbl in used:
        sub = ["Baseline", "Scenario"] + (["Change"] if change else [])
        header += sub
        spans.append((lbl, len(sub)))
    rows = []
    for g in groups:
        cells: list[Cell] = [Cell(_group_label(group_type, g))]
        for m, _ in used:
            b, s, c = imp.row(group_type, g, m)
            cells += [b, s] + ([c] if change else [])
        rows.append(tuple(cells))
    if group_type == "need_type":
        key = _need_key(groups)
        note = f"{note} {key}".strip() if key else note
    return Table(id_, caption, tuple(header), tuple(rows), note, groups=tuple(spans))


def _need_key(codes: Sequence[str]) -> str:
    """Plain-English key for the SEN2 need codes in ``codes``."""
    from placeplan.needs import NEED_NAMES

    known = [c for c in codes if c in NEED_NAMES]
    if not known:
        return ""
    return "Primary need: " + "; ".join(f"{c} = {NEED_NAMES[c].lower()}" for c in known) + "."


def _group_label(group_type: str, group: str) -> str:
    if group_type == "imd_decile":
        try:
            return f"Decile {int(float(group))}"
        except ValueError:
            return group
    if group_type == "phase":
        return _PHASE_LABEL.get(group, group.replace("_", " "))
    if group_type == "ruc_class":
        return group.replace("_", " ").capitalize()
    return group.replace("_", " ")


# --------------------------------------------------------------------------- figures (SVG)
def _svg_text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Cell]]],
    *,
    y_label: str,
    value_fmt: str,
    title: str,
) -> str:
    """Grouped vertical bar chart as SVG; suppressed values drawn as a 'c' label, no bar."""
    width, height = 720, 300
    left, right, top, bottom = 56, 16, 30, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [c.value for _, _, cells in series for c in cells if c.value is not None]
    vmax = max([v for v in values if not c_isnan(v)] + [0.0])
    step = _nice_step(vmax)
    top_v = max(step * math.ceil(vmax / step), step)
    n_cat, n_ser = len(categories), len(series)
    group_w = plot_w / max(n_cat, 1)
    bar_w = group_w * 0.8 / max(n_ser, 1)
    # narrow bars: smaller, whole-number labels so neighbouring labels do not run together
    narrow = bar_w < 30
    label_size = "8" if narrow else "10"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        '<g font-family="system-ui, sans-serif" font-size="11" fill="#222">',
    ]
    tick = 0.0
    while tick <= top_v + 1e-9:
        y = top + plot_h - tick / top_v * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(_svg_text(left - 6, y + 4, _fmt_tick(tick), text_anchor="end"))
        tick += step
    parts.append(
        f'<text transform="translate(14,{top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, cat in enumerate(categories):
        gx = left + i * group_w + group_w * 0.1
        for j, (_, colour, cells) in enumerate(series):
            c = cells[i]
            x = gx + j * bar_w
            if c.suppressed:
                parts.append(
                    _svg_text(
                        x + bar_w / 2,
                        top + plot_h - 4,
                        "c",
                        text_anchor="middle",
                        font_style="italic",
                    )
                )
                continue
            if c.value is None or c_isnan(c.value):
                continue
            h = c.value / top_v * plot_h
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{colour}"/>'
            )
            parts.append(
                _svg_text(
                    x + bar_w / 2 - 1,
                    y - 3,
                    _fmt_value(c.value, "count" if narrow else value_fmt),
                    text_anchor="middle",
                    font_size=label_size,
                )
            )
        parts.append(
            _svg_text(
                left + i * group_w + group_w / 2, top + plot_h + 16, cat, text_anchor="middle"
            )
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="#333"/>'
    )
    lx = left
    for name, colour, _ in series:
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{colour}"/>')
        parts.append(_svg_text(lx + 16, height - 8, name))
        lx += 24 + 7 * len(name)
    parts.append("</g></svg>")
    return "".join(parts)


def c_isnan(v: float) -> bool:
    """Return True for float NaN."""
    return isinstance(v, float) and math.isnan(v)


def _nice_step(vmax: float) -> float:
    if vmax <= 0:
        return 1.0
    raw = vmax / 5
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _fmt_tick(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _fmt_value(v: float, fmt: str) -> str:
    if fmt == "count":
        return f"{v:,.0f}"
    return f"{v:,.1f}"


_BASE_COLOUR, _SCEN_COLOUR = "#7b7b7b", "#2c7fb8"


# --------------------------------------------------------------------------- build
def build_report(inputs: ReportInputs) -> Report:
    """Turn pipeline aggregates into the disclosure-controlled TIA report model.

    Parameters
    ----------
    inputs
        Aggregated results and metadata (see :class:`ReportInputs`).

    Returns
    -------
    Report
        Sections, tables, figures and offline maps, ready for
        :func:`placeplan.publish.report.render.write_report`.
    """
    from placeplan.publish import maps

    th, rnd, mode = inputs.disclosure_threshold, inputs.disclosure_round_to, inputs.mode
    internal = mode == "internal"
    imp = _Impact(inputs.impact, threshold=th, round_to=rnd, mode=mode)
    all_g = _all_group(imp)
    note = "SYNTHETIC pupil cohort — not real children" if inputs.synthetic_data else None
    attribution = (
        "; ".join(line.strip() for line in inputs.attributions.splitlines() if line.strip()) or None
    )
    limits = ", ".join(f"{k} {v:g} min" for k, v in sorted(inputs.reasonable_journey_min.items()))
    # what both report maps (journey times, sites) are drawn with
    map_opts: dict[str, Any] = {
        "outline": inputs.outline,
        "roads": inputs.roads,
        "internal": internal,
        "note": note,
        "attribution": attribution,
        "threshold": th,
    }

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
    flows = sup(
        inputs.ooa_flows,
        count_cols=["baseline", "scenario"],
        group_cols=[["origin_id"], ["destination_id"]],
    )
    mitig = sup(inputs.mitigations, count_cols=["pupils"])
    bands = sup(inputs.time_bands, count_cols=["baseline", "scenario"])
    rows_acc = sup(
        inputs.row_accounting,
        count_cols=["rows_rejected"],
        dependent_cols={"rows_used": ["rows_rejected"]},
        secondary=False,
    )

    # ---- headlines
    def headline(label: str, metric: str) -> Headline | None:
        if not imp.has(metric):
            return None
        b, s, c = imp.row("all", all_g, metric)
        return Headline(label, c, b, s)

    cost_head = None
    if imp.has("annual_placement_cost_gbp") and imp.has("annual_transport_cost_gbp"):
        cells = [
            imp.row("all", all_g, m)
            for m in ("annual_placement_cost_gbp", "annual_transport_cost_gbp")
        ]
        tot = []
        for k in range(3):
            vals = [c[k] for c in cells]
            if any(v.suppressed for v in vals):
                tot.append(Cell(None, "gbp_short", suppressed=True, signed=k == 2))
            elif any(v.value is None for v in vals):
                tot.append(Cell(None, "gbp_short", signed=k == 2))
            else:
                tot.append(Cell(sum(v.value for v in vals), "gbp_short", signed=k == 2))
        cost_head = Headline("Annual placement + transport cost", tot[2], tot[0], tot[1])
    headlines = tuple(
        h
        for h in (
            headline("Mean travel distance (each way)", "mean_distance_miles"),
            headline("Mean journey time (each way)", "mean_time_min"),
            headline("Pupils over the reasonable maximum journey", "over_threshold_n"),
            headline("Out of area placements", "ooa_placements"),
            cost_head,
        )
        if h is not None
    )

    sections: list[Section] = []
    # ---- intro
    sections.append(
        Section(
            "requirement",
            "",
            "What this appendix answers",
            (
                Quote(
                    DFE_REQUIREMENT,
                    "DfE / NHS England, Local SEND Reform Plan: Sufficiency "
                    "and Place Planning minimum requirements (March 2026)",
                ),
                Paragraph(
                    f"This appendix compares the current placements (baseline) with the "
                    f"proposal “{inputs.scenario_name}” for {inputs.authority}. Sections 1–4 "
                    "are the four elements the requirement names, in its words. Journey times "
                    "are modelled door-to-door car/minibus times on the road network, each way, "
                    "including any ferry crossing; the reasonable maximum journey is "
                    f"{limits}."
                ),
            ),
        )
    )

    # ---- 1. distances
    blocks: list[Block] = [
        Paragraph(
            "Mean travel distance along the shortest road route from home postcode to the "
            "setting, for all pupils in scope, before and after the proposal."
        ),
        _metric_table(
            imp,
            "t-distance-all",
            "Travel distance, all pupils",
            ["pupils", "mean_distance_km", "mean_distance_miles"],
        ),
    ]
    for gt in ("need_type", "phase"):
        t = _group_table(
            imp,
            gt,
            f"t-distance-{gt}",
            f"Mean travel distance (miles) by {_GROUP_TYPE_LABEL[gt]}",
            [("mean_distance_miles", "Mean travel distance")],
        )
        if t:
            blocks.append(t)
    sections.append(Section("distances", "1", DFE_ELEMENTS[0][1], tuple(blocks), True))

    # ---- 2. journey times
    blocks = [
        Paragraph(
            "Journey times are the modelled time of the home-to-school journey, each way. "
            "Following the DfT Journey Time Statistics, the mean is the average minimum travel "
            "time and the share within the reasonable maximum is the share of users who can "
            "reach their setting within that time."
        ),
        _metric_table(
            imp,
            "t-time-all",
            "Journey times, all pupils",
            [
                "mean_time_min",
                "median_time_min",
                "p90_time_min",
                "max_time_min",
                "over_threshold_n",
                "over_threshold_pct",
                "ferry_journeys",
            ],
            note="The longest journey is shown only for groups above the disclosure threshold.",
        ),
    ]
    ferry_note = _ferry_overlap_note(imp, all_g)
    if ferry_note:
        blocks.append(Paragraph(ferry_note))
    if bands is not None and not bands.empty:
        bmask = suppression_mask(bands)
        order = {lbl: i for i, lbl in enumerate(TIME_BAND_LABELS)}
        bands_sorted = bands.assign(_o=bands["band"].map(order).fillna(99)).sort_values(
            "_o", kind="stable"
        )
        series: list[tuple[str, str, list[Cell]]] = []
        for which, name, colour in (
            ("baseline", "Baseline", _BASE_COLOUR),
            ("scenario", inputs.scenario_name, _SCEN_COLOUR),
        ):
            band_cells = [
                Cell(
                    None if pd.isna(v) else float(v),
                    "count",
                    suppressed=bool(bmask.loc[i, which]) if which in bmask else False,
                )
                for i, v in zip(bands_sorted.index, bands_sorted[which], strict=True)
            ]
            series.append((name, colour, band_cells))
        blocks.append(
            Figure(
                "f-time-bands",
                "Pupils by journey-time band (each way), baseline and scenario",
                _bar_chart(
                    [str(b) for b in bands_sorted["band"]],
                    series,
                    y_label="pupils",
                    value_fmt="count",
                    title="Pupils by journey-time band",
                ),
                "Bar chart of the number of pupils in each journey-time band before and after.",
            )
        )
    if imp.groups("need_type") and imp.has("mean_time_min"):
        needs = imp.groups("need_type")
        need_series = [
            (name, colour, [imp.cell("need_type", g, "mean_time_min", w) for g in needs])
            for w, name, colour in (
                ("baseline", "Baseline", _BASE_COLOUR),
                ("scenario", inputs.scenario_name, _SCEN_COLOUR),
            )
        ]
        blocks.append(
            Figure(
                "f-time-need",
                "Mean journey time (minutes, each way) by primary need",
                _bar_chart(
                    needs,
                    need_series,
                    y_label="minutes",
                    value_fmt="minutes",
                    title="Mean journey time by primary need",
                ),
                "Bar chart of mean journey time by primary need before and after.",
            )
        )
    t = _group_table(
        imp,
        "phase",
        "t-time-phase",
        "Journey times by phase",
        [
            ("mean_time_min", "Mean journey time"),
            ("over_threshold_n", "Pupils over the reasonable maximum"),
        ],
    )
    if t:
        blocks.append(t)
    if areas is not None and not areas.empty and "baseline_mean_time_min" in areas.columns:
        m = maps.map_journey_times(
            areas, provision=_published_provision(inputs.provision), sites=sites, **map_opts
        )
        blocks.append(
            MapFigure(
                "m-journey-times",
                "Mean journey time by area (LSOA), baseline and scenario — switch layers at "
                "top right. Grey areas are suppressed (fewer than "
                f"{th} pupils).",
                maps.map_html(m),
            )
        )
    sections.append(Section("journey-times", "2", DFE_ELEMENTS[1][1], tuple(blocks), True))

    # ---- 3. OOA
    blocks = [
        Paragraph(
            "Out of area placements are pupils at settings outside the authority; independent "
            "and non-maintained special school placements are counted separately (a placement "
            "can be both). Costs are annual placement and home-to-school transport costs."
        ),
        _metric_table(
            imp,
            "t-ooa-all",
            "Reliance on out of area placements, all pupils",
            [
                "ooa_placements",
                "independent_placements",
                "annual_placement_cost_gbp",
                "annual_transport_cost_gbp",
            ],
        ),
    ]
    t = _group_table(
        imp,
        "need_type",
        "t-ooa-need",
        "Out of area placements by primary need",
        [
            ("ooa_placements", "Out of area placements"),
            ("independent_placements", "Independent / non-maintained"),
        ],
    )
    if t:
        blocks.append(t)
    # `flows` is the suppressed copy of `inputs.ooa_flows`: both are None or neither
    if flows is not None and not flows.empty and inputs.ooa_flows is not None:
        blocks.append(
            _destinations_table(
                inputs.ooa_flows, inputs.provision, threshold=th, round_to=rnd, mode=mode
            )
        )
        blocks.append(_flows_table(flows, inputs.provision, th))
    if inputs.ooa_projection is not None and not inputs.ooa_projection.empty:
        blocks.extend(
            _projection_blocks(inputs.ooa_projection, threshold=th, round_to=rnd, mode=mode)
        )
    sections.append(Section("out-of-area", "3", DFE_ELEMENTS[2][1], tuple(blocks), True))

    # ---- 4. mitigations
    blocks = [
        Paragraph(
            "Pupils whose journey changes are grouped by what happens to them; each group has "
            "the travel mitigation the authority commits to. Groups can overlap only where "
            "stated."
        ),
    ]
    if imp.has("worse_off_n"):
        blocks.append(
            _metric_table(
                imp, "t-worse-off", "Pupils whose journey gets longer", ["worse_off_n", "moved_n"]
            )
        )
    if mitig is not None and not mitig.empty:
        blocks.append(_mitigation_table(mitig))
    sections.append(Section("mitigations", "4", DFE_ELEMENTS[3][1], tuple(blocks), True))

    # ---- 5. sites
    blocks = []
    if sites is not None and not sites.empty:
        blocks.append(
            _sites_table(
                sites,
                _published_site_scores(inputs.site_scores, threshold=th, round_to=rnd, mode=mode),
                threshold=th,
                reach_min=inputs.site_reach_min,
            )
        )
        m = maps.map_sites(
            sites,
            _published_provision(inputs.provision),
            isochrones=inputs.isochrones,
            ooa_flows=flows,
            flow_origins=inputs.flow_origins,
            areas=_basemap_areas(areas),
            **map_opts,
        )
        blocks.append(
            MapFigure(
                "m-sites",
                "Candidate sites coloured by score (selected sites ringed), existing provision, "
                "drive-time catchments and aggregated out of area flows.",
                maps.map_html(m),
            )
        )
    else:
        blocks.append(Paragraph("No candidate sites were given for this run."))
    sections.append(Section("sites", "5", "Site proposals", tuple(blocks)))

    # ---- 6. breakdowns
    blocks = [
        Paragraph(
            "The same measures by primary need, phase, planning area, deprivation decile and "
            "rural/urban class, so differential effects are visible. “c” marks a value "
            f"suppressed because it rests on fewer than {th} pupils (or would reveal one that "
            "does)."
        )
    ]
    for gt in ("need_type", "phase", "area", "imd_decile", "ruc_class"):
        t = _group_table(
            imp,
            gt,
            f"t-breakdown-{gt}",
            f"By {_GROUP_TYPE_LABEL[gt]}",
            [
                ("pupils", "Pupils"),
                ("mean_time_min", "Mean journey time"),
                ("over_threshold_n", "Over reasonable maximum"),
                ("ooa_placements", "Out of area"),
            ],
            change=False,
        )
        if t:
            blocks.append(t)
    sections.append(Section("breakdowns", "6", "Breakdowns", tuple(blocks)))

    # ---- 7. method
    blocks = [
        Paragraph(
            "Indicators follow the DfT Journey Time Statistics where they fit: the average "
            "minimum travel time (here: the mean modelled journey time to the allocated "
            "setting) and the share of users who can reach a service within a given time (here: "
            "within the reasonable maximum journey for the pupil's phase). Baseline: pupils at "
            "their current settings. Scenario: the proposal's new places filled by a capacitated, "
            "need-compatible allocation; pupils already placed mostly stay."
        ),
    ]
    if inputs.parameters:
        blocks.append(
            Table(
                "t-parameters",
                "Parameters",
                ("Parameter", "Value", "Basis"),
                tuple(tuple(Cell(str(x)) for x in row) for row in _unique_parameters(inputs)),
            )
        )
    if inputs.assumptions:
        blocks.append(BulletList(tuple(inputs.assumptions)))
    if rows_acc is not None and not rows_acc.empty:
        blocks.append(_row_accounting_table(rows_acc))
    if inputs.plan_toml:
        blocks.append(Preformatted("Plan file (plan.toml) used for this run", inputs.plan_toml))
    sections.append(Section("method", "7", "Method and assumptions", tuple(blocks)))

    # ---- 8. sources
    lines = tuple(line.strip() for line in inputs.attributions.splitlines() if line.strip())
    sections.append(
        Section(
            "sources",
            "8",
            "Data sources and attributions",
            (BulletList(lines),) if lines else (Paragraph("No attributions were supplied."),),
        )
    )

    # ---- 9. disclosure
    if internal:
        disc = (
            "INTERNAL mode: small numbers are NOT suppressed. This document contains "
            "unsuppressed counts and must not be published or shared outside the planning team."
        )
    else:
        disc = (
            f"Published mode. Every count of pupils from 1 to {th - 1} is suppressed and shown "
            "as “c” (DfE convention). Where a group of figures adds up to a published total and "
            "only one would be suppressed, the next-smallest is suppressed too (secondary "
            "suppression), so no suppressed value can be worked out by subtraction. Means, "
            "percentiles, maxima, percentages, costs and changes that rest on a suppressed count "
            "are suppressed with it. Zero is shown. “x” means not available (e.g. no pupils). "
            "Maps show area aggregates only — never pupil locations — and leave out flows of "
            f"fewer than {th} pupils."
        )
        if rnd:
            disc += f" Published counts are rounded to the nearest {rnd}."
    sections.append(Section("disclosure", "9", "Disclosure control", (Paragraph(disc),)))

    return Report(
        title=f"Travel impact assessment: {inputs.plan_name}",
        plan_name=inputs.plan_name,
        authority=inputs.authority,
        scenario_name=inputs.scenario_name,
        run_timestamp=inputs.run_timestamp,
        placeplan_version=inputs.placeplan_version,
        config_hash=inputs.config_hash,
        mode=mode,
        synthetic_data=inputs.synthetic_data,
        disclosure_threshold=th,
        dfe_requirement=DFE_REQUIREMENT,
        headlines=headlines,
        scenario_summary=_scenario_summary(inputs.sites),
        sections=tuple(sections),
    )


def _unique_parameters(inputs: ReportInputs) -> list[tuple[str, str, str]]:
    """Parameters without repeats of the same name (the first statement wins)."""
    seen: set[str] = set()
    out = []
    for row in inputs.parameters:
        if row[0] in seen:
            continue
        seen.add(row[0])
        out.append(row)
    return out


def _scenario_summary(sites: pd.DataFrame | None) -> str:
    """'4 new inclusion bases: 50 places, £2.40m capital' from the selected sites."""
    if sites is None or sites.empty or "selected" not in sites.columns:
        return ""
    sel = sites[sites["selected"].fillna(False).astype(bool)]
    if sel.empty:
        return "No new inclusion bases are opened in this scenario."
    from placeplan.publish.report.render import fmt_gbp_short

    n = len(sel)
    text = f"{n} new inclusion base{'s' if n != 1 else ''}"
    if "places" in sel.columns:
        text += f", {int(pd.to_numeric(sel['places'], errors='coerce').sum()):,} places"
    if "capital_cost_gbp" in sel.columns:
        cap = float(pd.to_numeric(sel["capital_cost_gbp"], errors="coerce").sum())
        text += f", {fmt_gbp_short(cap)} capital"
    if "name" in sel.columns:
        text += ": " + "; ".join(sorted(str(x) for x in sel["name"]))
    return text + "."


def _published_provision(provision: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Keep only non-personal provision columns (capacity, not on-roll counts)."""
    if provision is None:
        return None
    keep = [
        c
        for c in ("setting_id", "name", "provision_type", "in_area", "capacity", "geometry")
        if c in provision.columns
    ]
    return provision[keep]


def _basemap_areas(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if areas is None:
        return None
    out = areas[["area_id", "geometry"]].copy()
    out.attrs = {"disclosure_mode": areas.attrs.get("disclosure_mode", "published")}
    return out


def _setting_names(provision: pd.DataFrame | None) -> dict[str, str]:
    if provision is None or "name" not in provision.columns:
        return {}
    return dict(zip(provision["setting_id"].astype(str), provision["name"], strict=False))


def _setting_type(provision: pd.DataFrame | None) -> dict[str, str]:
    if provision is None or "provision_type" not in provision.columns:
        return {}
    out = {}
    for r in provision.itertuples(index=False):
        kind = str(r.provision_type).replace("_", "-")
        in_area = bool(getattr(r, "in_area", True))
        out[str(r.setting_id)] = kind + ("" if in_area else ", out of area")
    return out


def _destinations_table(
    raw_flows: pd.DataFrame,
    provision: pd.DataFrame | None,
    *,
    threshold: int,
    round_to: int,
    mode: Mode,
) -> Table:
    """Out of area / independent placements by setting (flows summed over home areas)."""
    by = (
        raw_flows.assign(destination_id=raw_flows["destination_id"].astype(str))
        .groupby("destination_id", sort=True)[["baseline", "scenario"]]
        .sum()
        .reset_index()
    )
    by["change"] = by["scenario"] - by["baseline"]
    # the settings' counts add up to the published total: one group, secondary suppression
    sup = suppress(
        by,
        count_cols=["baseline", "scenario"],
        dependent_cols={"change": ["baseline", "scenario"]},
        threshold=threshold,
        round_to=round_to,
        mode=mode,
    )
    if round_to and mode == "published":
        sup["change"] = sup["scenario"] - sup["baseline"]
    mask = suppression_mask(sup)
    names, kinds = _setting_names(provision), _setting_type(provision)
    sup = sup.assign(_b=pd.to_numeric(by["baseline"], errors="coerce"))
    sup = sup.sort_values(["_b", "destination_id"], ascending=[False, True], kind="stable")
    rows = []
    for idx, r in sup.iterrows():
        did = str(r["destination_id"])
        cells = [
            Cell(names.get(did, did)),
            Cell(kinds.get(did, "")),
        ]
        for w in ("baseline", "scenario", "change"):
            v = r[w]
            cells.append(
                Cell(
                    None if pd.isna(v) else float(v),
                    "count",
                    suppressed=bool(mask.at[idx, w]) if w in mask.columns else False,
                    signed=w == "change",
                )
            )
        rows.append(tuple(cells))
    return Table(
        "t-ooa-settings",
        "Out of area and independent placements by setting",
        ("Setting", "Type", "Baseline pupils", "Scenario pupils", "Change"),
        tuple(rows),
    )


def _flows_table(flows: pd.DataFrame, provision: pd.DataFrame | None, th: int) -> Table:
    """Home area → setting flows; pairs with no published non-zero count are left out."""
    mask = suppression_mask(flows)
    names = _setting_names(provision)
    f = flows.sort_values(["destination_id", "origin_id"], kind="stable")
    rows = []
    left_out = 0
    for idx, r in f.iterrows():
        cells = []
        shown = False
        for w in ("baseline", "scenario"):
            v = r[w]
            s = bool(mask.at[idx, w]) if w in mask.columns else False
            shown = shown or (not s and pd.notna(v) and float(v) > 0)
            cells.append(Cell(None if pd.isna(v) else float(v), "count", suppressed=s))
        if not shown:
            left_out += 1
            continue
        dest = r.get("destination_name", names.get(str(r["destination_id"]), r["destination_id"]))
        orig = r.get("origin_name", r["origin_id"])
        rows.append((Cell(str(orig)), Cell(str(dest)), *cells))
    note = (
        f"Only home area → setting pairs with at least {th} pupils in the baseline or the "
        "scenario are listed"
        + (
            f"; {left_out} smaller pairs are not listed (their pupils are in the totals above)."
            if left_out
            else "."
        )
    )
    return Table(
        "t-ooa-flows",
        "Out of area and independent placements by home planning area and setting "
        "(aggregated flows, as drawn on the site map)",
        ("From (home area)", "To (setting)", "Baseline pupils", "Scenario pupils"),
        tuple(rows),
        note=note,
    )


def _projection_blocks(
    proj: pd.DataFrame, *, threshold: int, round_to: int, mode: Mode
) -> list[Any]:
    """Year-by-year OOA placements with and without the proposal (all needs), suppressed."""
    allp = proj[proj["need_type"] == "all"].reset_index(drop=True)
    pub = suppress(
        allp,
        count_cols=["ooa_baseline", "ooa_scenario", "avoided"],
        dependent_cols={
            "annual_saving_gbp": ["avoided"],
            "cumulative_saving_gbp": ["avoided"],
        },
        secondary=False,
        threshold=threshold,
        round_to=round_to,
        mode=mode,
    )
    mask = suppression_mask(pub)
    rows = []
    for idx, r in pub.iterrows():

        def cell(col: str, fmt: str, r: pd.Series = r, idx: Any = idx) -> Cell:
            v = r[col]
            sup = bool(mask.loc[idx, col]) if col in mask.columns else False
            return Cell(None if pd.isna(v) else float(v), fmt, suppressed=sup)

        rows.append(
            (
                Cell(str(r["year"])),
                cell("ooa_baseline", "count"),
                cell("ooa_scenario", "count"),
                cell("avoided", "count"),
                cell("annual_saving_gbp", "gbp"),
                cell("cumulative_saving_gbp", "gbp"),
            )
        )
    rate = float(allp["growth_rate"].iloc[0]) if len(allp) else 0.0
    intro = Paragraph(
        "Year by year: out of area and independent placements without the proposal grow with "
        f"EHC plans (about {rate:.1%} a year, the authority's recent SEN2 trend unless the plan "
        "gives rates by need); with it, the new places take up the same growing demand until "
        "they are full. Savings are avoided placements times the average annual saving (placement "
        "and transport) of the pupils who move in the first year."
    )
    table = Table(
        "t-ooa-projection",
        "Out of area and independent placements, with and without the proposal",
        (
            "Year",
            "Without proposal",
            "With proposal",
            "Avoided",
            "Annual saving",
            "Cumulative saving",
        ),
        tuple(rows),
    )
    return [intro, table]


def _ferry_overlap_note(imp: _Impact, all_g: str) -> str:
    """Explain over-maximum journeys that are ferry journeys (published numbers only)."""
    if not (imp.has("over_threshold_n") and imp.has("over_threshold_road_n")):
        return ""
    over = imp.cell("all", all_g, "over_threshold_n", "baseline")
    road = imp.cell("all", all_g, "over_threshold_road_n", "baseline")
    if over.suppressed or road.suppressed or not over.value or road.value is None:
        return ""
    if road.value == 0:
        return (
            "Every journey over the reasonable maximum in the baseline crosses to the mainland "
            "by ferry (crossing, check-in and the mainland leg), so the pupils over the maximum "
            "are pupils placed out of area; no journey on the authority's own roads is over it."
        )
    return (
        f"{over.value - road.value:,.0f} of the {over.value:,.0f} journeys over the reasonable "
        f"maximum in the baseline cross to the mainland by ferry; {road.value:,.0f} are on the "
        "road network alone."
    )


def _mitigation_table(mitig: pd.DataFrame) -> Table:
    mask = suppression_mask(mitig)
    extra = [c for c in ("need_type", "phase") if c in mitig.columns]
    rows = []
    for idx, r in mitig.iterrows():
        v = r["pupils"]
        s = bool(mask.at[idx, "pupils"]) if "pupils" in mask.columns else False
        rows.append(
            (
                Cell(str(r["group"])),
                *(Cell("" if pd.isna(r[c]) else str(r[c])) for c in extra),
                Cell(None if pd.isna(v) else float(v), "count", suppressed=s),
                Cell(str(r["mitigation"])),
            )
        )
    header = (
        "Group",
        *(c.replace("_", " ").capitalize() for c in extra),
        "Pupils",
        "Mitigation offered",
    )
    return Table("t-mitigations", "Travel related mitigations by group", header, tuple(rows))


_SCORE_COUNT_COLS = ("pupils_in_reach", "need_in_reach", "ooa_avoidable", "pupils_benefiting")


def _published_site_scores(
    scores: pd.DataFrame | None, *, threshold: int, round_to: int, mode: Mode
) -> pd.DataFrame | None:
    """Disclosure-controlled scoring criteria (no free text), one row per site."""
    if scores is None or scores.empty or "site_id" not in scores.columns:
        return None
    keep = [
        c
        for c in (
            "site_id",
            "rank",
            "min_rank",
            "max_rank",
            *_SCORE_COUNT_COLS,
            "time_saved_min",
            "cost_per_place_gbp",
            "imd_decile",
            "spare_places",
            "rural",
        )
        if c in scores.columns
    ]
    s = scores[keep].copy()
    s["site_id"] = s["site_id"].astype(str)
    counts = [c for c in _SCORE_COUNT_COLS if c in s.columns]
    deps: dict[str, list[str]] = {}
    if "time_saved_min" in s.columns:
        base = [c for c in ("pupils_benefiting", "need_in_reach") if c in s.columns]
        deps["time_saved_min"] = base[:1]
    # candidate catchments overlap, so the counts do not add up to a total: primary only
    return suppress(
        s,
        count_cols=counts,
        dependent_cols=deps,
        threshold=threshold,
        round_to=round_to,
        mode=mode,
        secondary=False,
    )


def _site_case(
    site: pd.Series,
    crit: pd.Series | None,
    crit_mask: pd.Series | None,
    *,
    threshold: int,
    reach_min: float | None,
) -> str:
    """One published line: the case for a site, from disclosure-controlled criteria only."""
    needs = str(site.get("needs", "") or "").replace(";", "/") or "any need"
    phases = str(site.get("phases", "") or "").replace(";", "/")
    who = f"{needs} ({phases})" if phases else needs
    if crit is None:
        return ""

    def num(col: str) -> tuple[bool, float | None]:
        """(suppressed, value) for a criterion; value None when absent or missing."""
        if col not in crit.index:
            return False, None
        sup = bool(crit_mask.get(col, False)) if crit_mask is not None else False
        v = crit[col]
        return sup, (None if pd.isna(v) else float(v))

    def pupils(n: float) -> str:
        k = round(n)
        return f"{k:,} pupil" + ("" if k == 1 else "s")

    parts: list[str] = []
    sup, v = num("need_in_reach")
    reach = f" within {reach_min:g} min" if reach_min else " within reach"
    if sup:
        parts.append(f"fewer than {threshold} pupils with {who}{reach}")
    elif v is not None:
        parts.append(f"{pupils(v)} with {who}{reach}")
    sup, v = num("ooa_avoidable")
    if sup:
        parts.append(f"could avoid fewer than {threshold} out-of-area placements")
    elif v is not None:
        parts.append(
            f"could avoid {round(v):,} out-of-area placement{'' if round(v) == 1 else 's'}"
            if v > 0
            else "no out-of-area placements to avoid within reach"
        )
    sup, v = num("time_saved_min")
    if not sup and v is not None and v > 0:
        parts.append(f"saves {v:.0f} min per journey on average")
    _, v = num("cost_per_place_gbp")
    if v is not None:
        money = f"£{v / 1e3:,.0f}k" if v >= 1e3 else f"£{v:,.0f}"
        parts.append(f"{money} capital per place")
    _, v = num("imd_decile")
    if v is not None:
        parts.append(f"IMD decile {v:.0f}")
    _, v = num("spare_places")
    if v is not None:
        parts.append(
            f"host school has {v:,.0f} spare places"
            if v >= 0
            else f"host school is {-v:,.0f} over capacity"
        )
    _, v = num("rural")
    if v is not None:
        parts.append("rural" if v >= 0.5 else "urban")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _sites_table(
    sites: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    *,
    threshold: int = 5,
    reach_min: float | None = None,
) -> Table:
    mask = suppression_mask(sites)
    s = sites.copy()
    s["_sel"] = s.get("selected", False)
    s["_score"] = pd.to_numeric(s.get("score", np.nan), errors="coerce")
    s = s.sort_values(
        ["_sel", "_score", "site_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    crit_by_id: dict[str, tuple[pd.Series, pd.Series | None]] = {}
    if scores is not None:
        cmask = suppression_mask(scores)
        for idx, r in scores.iterrows():
            # pandas-stubs types iterrows labels as Hashable, which .loc does not accept
            row_mask = cmask.loc[idx] if len(cmask.columns) else None  # type: ignore[call-overload]
            crit_by_id[str(r["site_id"])] = (r, row_mask)
    rows = []
    notes = []
    for idx, r in s.iterrows():

        def cnum(col: str, fmt: str, r: pd.Series = r, idx: Any = idx) -> Cell:
            v = r.get(col, np.nan)
            sup = bool(mask.loc[idx, col]) if col in mask.columns else False
            return Cell(None if pd.isna(v) else float(v), fmt, suppressed=sup)

        sid = str(r["site_id"])
        crit, cmask_row = crit_by_id.get(sid, (None, None))
        rank = r.get("rank", np.nan)
        if (rank is None or pd.isna(rank)) and crit is not None and "rank" in crit.index:
            rank = crit["rank"]
        rank_range = ""
        if crit is not None and {"min_rank", "max_rank"} <= set(crit.index):
            lo, hi = crit["min_rank"], crit["max_rank"]
            if not (pd.isna(lo) or pd.isna(hi)) and (int(lo), int(hi)) != (int(rank), int(rank)):
                rank_range = f" ({int(lo)}–{int(hi)})"
        rows.append(
            (
                Cell("–" if rank is None or pd.isna(rank) else f"{int(rank)}{rank_range}"),
                Cell(str(r.get("name", "")) or sid),
                Cell(str(r.get("needs", "") or "any").replace(";", ", ")),
                Cell(str(r.get("phases", "") or "").replace(";", ", ")),
                cnum("places", "places"),
                cnum("capital_cost_gbp", "gbp"),
                cnum("score", "score"),
                Cell("yes" if bool(r["_sel"]) else "no"),
                cnum("pupils_served", "count"),
                cnum("mean_time_saved_min", "minutes"),
            )
        )
        case = _site_case(r, crit, cmask_row, threshold=threshold, reach_min=reach_min)
        notes.append(f"{sid} — {case}" if case else sid)
    return Table(
        "t-sites",
        "Candidate inclusion-base sites: those selected in this scenario first, then by score "
        "(rank 1 = highest score of all candidates)",
        (
            "Rank (range)",
            "Site",
            "Need",
            "Phase",
            "Places",
            "Capital cost",
            "Score",
            "Selected",
            "Pupils served",
            "Mean time saved",
        ),
        tuple(rows),
        note="Score: weighted criteria, 0–1 (1 = best). Rank (range): the rank, and in brackets "
        "the best and worst rank when any one criterion weight is moved by ±50 % (no bracket: "
        "the rank does not move). Pupils served and mean time saved "
        "(per journey, each way) are from this scenario's allocation; the line under each site "
        "gives the site reference and the scoring criteria behind its rank.",
        row_notes=tuple(notes),
    )


def _row_accounting_table(rows_acc: pd.DataFrame) -> Table:
    mask = suppression_mask(rows_acc)
    rows = []
    for idx, r in rows_acc.iterrows():
        cells = [Cell(str(r["file"]))]
        for col in ("rows_read", "rows_used", "rows_rejected"):
            v = r[col]
            sup = bool(mask.at[idx, col]) if col in mask.columns else False
            cells.append(Cell(None if pd.isna(v) else float(v), "rows", suppressed=sup))
        rows.append(tuple(cells))
    return Table(
        "t-rows",
        "Data-row accounting: nothing is dropped silently",
        ("Input file", "Rows read", "Rows used", "Rows rejected"),
        tuple(rows),
    )


# --------------------------------------------------------------------------- example
def example_inputs(
    *, mode: Mode = "published", synthetic_data: bool = True, small_count: int = 3
) -> ReportInputs:
    """Small synthetic :class:`ReportInputs` near the Isle of Wight (tests, docs, screenshots).

    Four LSOA-like 2 km squares around easting 450000, northing 90000, three candidate sites, a
    few settings (one on the mainland), and an impact table in which the ``HI`` need group has
    ``small_count`` pupils (to exercise disclosure control).

    Parameters
    ----------
    mode
        Report mode.
    synthetic_data
        Whether to flag the cohort as synthetic.
    small_count
        The planted small count.

    Returns
    -------
    ReportInputs
        Deterministic inputs.
    """
    import geopandas as gpd
    from shapely.geometry import LineString, Point, box

    crs = "EPSG:27700"
    x0, y0, s = 446000.0, 86000.0, 2000.0
    squares = [
        box(x0 + i * s, y0 + j * s, x0 + (i + 1) * s, y0 + (j + 1) * s)
        for j in range(2)
        for i in range(3)
    ]
    areas = gpd.GeoDataFrame(
        {
            "area_id": [f"E0100{k:04d}" for k in range(6)],
            "name": [f"Isle of Wight 0{k + 1}A" for k in range(6)],
            "imd_decile": [2, 5, 8, 3, 9, 6],
            "ruc_class": ["urban", "urban", "rural", "urban", "rural", "rural"],
            "pupils": [40, small_count, 22, 31, 0, 17],
            "baseline_mean_time_min": [18.0, 52.0, 41.5, 24.2, np.nan, 66.0],
            "scenario_mean_time_min": [16.5, 30.0, 33.0, 22.0, np.nan, 48.0],
        },
        geometry=squares,
        crs=crs,
    )
    outline = gpd.GeoDataFrame(geometry=[box(x0 - 800, y0 - 800, x0 + 6800, y0 + 4800)], crs=crs)
    roads = gpd.GeoDataFrame(
        geometry=[
            LineString([(x0 - 500, y0 + 2100), (x0 + 6500, y0 + 1900)]),
            LineString([(x0 + 3000, y0 - 500), (x0 + 3100, y0 + 4500)]),
        ],
        crs=crs,
    )
    provision = gpd.GeoDataFrame(
        {
            "setting_id": ["100001", "100002", "100003", "200001"],
            "name": [
                "Medina Primary",
                "Carisbrooke Secondary",
                "St George's Special",
                "Mainland Independent School",
            ],
            "provision_type": ["mainstream", "mainstream", "special", "independent"],
            "in_area": [True, True, True, False],
            "capacity": [420, 1200, 160, 60],
        },
        geometry=[
            Point(x0 + 1000, y0 + 1000),
            Point(x0 + 3000, y0 + 3000),
            Point(x0 + 5000, y0 + 1500),
            Point(x0 + 2000, y0 + 14000),
        ],
        crs=crs,
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "name": ["Medina Primary ASD base", "Carisbrooke SEMH base", "Ryde SLCN base"],
            "needs": ["ASD", "SEMH", "SLCN"],
            "phases": ["primary", "secondary", "primary"],
            "places": [12, 16, 10],
            "capital_cost_gbp": [450000.0, 800000.0, 390000.0],
            "score": [0.82, 0.61, np.nan],
            "selected": [True, True, False],
            "pupils_served": [12, small_count, 0],
            "mean_time_saved_min": [14.2, 9.0, np.nan],
        },
        geometry=[
            Point(x0 + 1000, y0 + 1000),
            Point(x0 + 3000, y0 + 3000),
            Point(x0 + 5500, y0 + 3500),
        ],
        crs=crs,
    )
    isochrones = gpd.GeoDataFrame(
        {"site_id": ["S1", "S1", "S2", "S2"], "minutes": [15, 30, 15, 30]},
        geometry=[Point(x0 + 1000, y0 + 1000).buffer(r) for r in (1200, 2500)]
        + [Point(x0 + 3000, y0 + 3000).buffer(r) for r in (1200, 2500)],
        crs=crs,
    )
    flows = pd.DataFrame(
        {
            "origin_id": ["E01000000", "E01000001", "E01000002", "E01000003"],
            "destination_id": ["200001"] * 4,
            "baseline": [9, small_count, 6, 12],
            "scenario": [5, 0, 6, 7],
        }
    )
    rows = []

    def add(gt: str, g: str, metrics: dict[str, tuple[float, float]]) -> None:
        for met, (b, sc) in metrics.items():
            rows.append((gt, g, met, b, sc, sc - b))

    add(
        "all",
        "all",
        {
            "pupils": (113, 113),
            "mean_time_min": (34.6, 27.1),
            "median_time_min": (29.0, 24.0),
            "p90_time_min": (71.0, 52.0),
            "max_time_min": (118.0, 96.0),
            "mean_distance_km": (14.2, 10.9),
            "mean_distance_miles": (8.82, 6.77),
            "over_threshold_n": (21, 9),
            "over_threshold_pct": (18.6, 8.0),
            "ooa_placements": (30, 18),
            "independent_placements": (14, 8),
            "annual_placement_cost_gbp": (3_450_000, 3_010_000),
            "annual_transport_cost_gbp": (1_020_000, 905_000),
            "worse_off_n": (0, 11),
            "moved_n": (0, 28),
        },
    )
    need_rows = {"ASD": 48, "SEMH": 35, "SLCN": 27, "HI": small_count}
    for k, (need, n) in enumerate(need_rows.items()):
        add(
            "need_type",
            need,
            {
                "pupils": (n, n),
                "mean_time_min": (30.0 + 4 * k, 25.0 + 2 * k),
                "mean_distance_miles": (7.5 + k, 6.0 + k),
                "over_threshold_n": (6 + k, 3 + k),
                "ooa_placements": (8 + k, 5 + k),
                "independent_placements": (4, 2),
            },
        )
    for ph, n in (("primary", 61), ("secondary", 52)):
        add(
            "phase",
            ph,
            {
                "pupils": (n, n),
                "mean_time_min": (31.0, 25.0) if ph == "primary" else (38.6, 29.4),
                "mean_distance_miles": (7.9, 6.0),
                "over_threshold_n": (10, 4),
                "ooa_placements": (15, 9),
            },
        )
    for dec, n in (("2", 40), ("5", small_count), ("8", 70)):
        add(
            "imd_decile",
            dec,
            {
                "pupils": (n, n),
                "mean_time_min": (33.0, 27.0),
                "over_threshold_n": (7, 3),
                "ooa_placements": (10, 6),
            },
        )
    for area, n in (("Newport and Carisbrooke", 52), ("East Wight", 38), ("West Wight", 23)):
        add(
            "area",
            area,
            {
                "pupils": (n, n),
                "mean_time_min": (30.0, 25.5),
                "over_threshold_n": (7, 3),
                "ooa_placements": (10, 6),
            },
        )
    for ruc, n in (("urban", 74), ("rural", 39)):
        add(
            "ruc_class",
            ruc,
            {
                "pupils": (n, n),
                "mean_time_min": (29.0, 24.0),
                "over_threshold_n": (9, 4),
                "ooa_placements": (15, 9),
            },
        )
    impact = pd.DataFrame(rows, columns=list(_IMPACT_COLS))
    mitigations = pd.DataFrame(
        {
            "group": [
                "Moved; journey longer and beyond statutory walking distance",
                "Moved; journey longer but within statutory walking distance",
                "Not moved; journey still over the reasonable maximum",
                "Moved; no longer crosses to the mainland",
            ],
            "pupils": [8, small_count, 9, 12],
            "mitigation": [
                "Free home-to-school transport from the first day; route planned to stay within "
                "the reasonable maximum journey.",
                "Travel plan agreed with the family; independent travel training (secondary).",
                "Placement reviewed at the next annual review; direct (non-shared) transport.",
                "Transition plan for the change of setting; ferry travel and escort costs end.",
            ],
        }
    )
    time_bands = pd.DataFrame(
        {
            "band": list(TIME_BAND_LABELS),
            "baseline": [18, 34, 30, 14, 10, 7],
            "scenario": [22, 41, 33, 8, 6, small_count],
        }
    )
    row_accounting = pd.DataFrame(
        {
            "file": ["pupils.csv", "provision.csv", "sites.csv"],
            "rows_read": [116, 64, 3],
            "rows_used": [113, 64, 3],
            "rows_rejected": [small_count, 0, 0],
        }
    )
    return ReportInputs(
        plan_name="Isle of Wight inclusion bases 2026",
        authority="Isle of Wight Council",
        run_timestamp="2026-04-01 09:00 UTC",
        placeplan_version="0.1.0",
        config_hash="sha256:0123456789ab",
        plan_toml='[plan]\nname = "Isle of Wight inclusion bases 2026"\n'
        "[disclosure]\nthreshold = 5\n",
        impact=impact,
        mode=mode,
        scenario_name="Three inclusion bases",
        mitigations=mitigations,
        sites=sites,
        provision=provision,
        areas=areas,
        ooa_flows=flows,
        isochrones=isochrones,
        outline=outline,
        roads=roads,
        time_bands=time_bands,
        parameters=(
            (
                "Reasonable maximum journey",
                "45 min primary, 75 min secondary",
                "DfE home-to-school travel and transport guidance (2014), best practice",
            ),
            (
                "Statutory walking distance",
                "2 miles under 8, 3 miles aged 8+",
                "Education Act 1996 s.444, Sch. 35B",
            ),
            ("School days a year", "190", "England school year"),
            ("Ferry link", "Fishbourne–Portsmouth, 45 min + 30 min wait", "Timetable"),
            ("Disclosure threshold", "5", "DfE statistics practice"),
        ),
        assumptions=(
            "Pupils already placed stay unless the scenario says otherwise.",
            "Journey times are free-flow car times with a fixed kerbside allowance.",
        ),
        row_accounting=row_accounting,
        attributions=(
            "Contains OS data © Crown copyright and database right 2025\n"
            "Contains Royal Mail data © Royal Mail copyright and database right 2025\n"
            "Contains National Statistics data © Crown copyright and database right 2025\n"
            "Map data © OpenStreetMap contributors (ODbL)\n"
            "DfE SEN2 statistics, Open Government Licence v3.0"
        ),
        synthetic_data=synthetic_data,
    )


def published_impact(
    impact: pd.DataFrame, *, threshold: int = 5, round_to: int = 0, mode: Mode = "published"
) -> pd.DataFrame:
    """Return the impact table exactly as the report publishes it, in long format.

    The same disclosure control as the report's tables (:func:`suppress` through the report's
    impact model), so ``impact.csv`` and the report always agree. Suppressed cells hold the
    marker ``"c"``; statistics that do not exist hold ``"x"``.

    Parameters
    ----------
    impact
        Long table ``group_type, group, metric, baseline, scenario, change``.
    threshold, round_to, mode
        Disclosure settings (see :func:`placeplan.publish.disclosure.suppress`).

    Returns
    -------
    table
        ``group_type, group, metric, baseline, scenario, change`` with values or markers.
    """
    imp = _Impact(impact, threshold=threshold, round_to=round_to, mode=mode)
    table, mask = imp.table, imp.mask
    rows = []
    for idx, r in table.iterrows():
        for metric in imp.metrics:
            vals: list[str | float] = []
            for which in ("baseline", "scenario", "change"):
                col = f"{metric}__{which}"
                v = r[col]
                if col in mask.columns and bool(mask.at[idx, col]):
                    vals.append(SUPPRESSED_MARKER)
                elif pd.isna(v):
                    vals.append("x")
                else:
                    vals.append(round(float(v), 3))
            rows.append((r["group_type"], r["group"], metric, *vals))
    return pd.DataFrame(rows, columns=list(_IMPACT_COLS))
