"""Section 2 (DfE element): expected changes to journey times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.report.charts import BASELINE_COLOUR, SCENARIO_COLOUR, bar_chart
from placeplan.publish.report.context import published_provision
from placeplan.publish.report.impact import INDIVIDUAL_METRICS, group_table, metric_table
from placeplan.publish.report.model import (
    DFE_ELEMENTS,
    TIME_BAND_LABELS,
    Cell,
    Figure,
    MapFigure,
    Paragraph,
    Section,
)
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.impact import ImpactTable
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]

_TIME_METRICS = (
    "mean_time_min",
    "median_time_min",
    "p90_time_min",
    "max_time_min",
    "over_threshold_n",
    "over_threshold_pct",
    "ferry_journeys",
)


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 2: journey-time measures, the ferry note, two charts, phases and a map."""
    imp = ctx.impact
    blocks: list[Block] = [
        Paragraph(prose("journey_times", "intro")),
        metric_table(
            imp,
            "t-time-all",
            "Journey times, all pupils",
            [m for m in _TIME_METRICS if ctx.internal or m not in INDIVIDUAL_METRICS],
            note=prose("journey_times", "times_note"),
        ),
    ]
    ferry_note = _ferry_note(imp, ctx.all_group)
    if ferry_note:
        blocks.append(Paragraph(ferry_note))
    bands = ctx.time_bands
    if bands is not None and not bands.empty:
        blocks.append(_bands_figure(bands, inputs.scenario_name))
    if imp.groups("need_type") and imp.has("mean_time_min"):
        blocks.append(_need_figure(imp, inputs.scenario_name))
    t = group_table(
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
    areas = ctx.areas
    if areas is not None and not areas.empty and "baseline_mean_time_min" in areas.columns:
        blocks.extend(_map(areas, inputs, ctx))
    return Section("journey-times", "2", DFE_ELEMENTS[1][1], tuple(blocks), True)


def _ferry_note(imp: ImpactTable, all_g: str) -> str:
    """Explain over-maximum journeys that are ferry journeys (published numbers only)."""
    if not (imp.has("over_threshold_n") and imp.has("over_threshold_road_n")):
        return ""
    over = imp.cell("all", all_g, "over_threshold_n", "baseline")
    road = imp.cell("all", all_g, "over_threshold_road_n", "baseline")
    if over.suppressed or road.suppressed or not over.value or road.value is None:
        return ""
    return prose(
        "journey_times",
        "ferry_note",
        over=f"{over.value:,.0f}",
        by_ferry=f"{over.value - road.value:,.0f}",
        by_road=f"{road.value:,.0f}",
        all_by_ferry=road.value == 0,
    )


def _bands_figure(bands: pd.DataFrame, scenario_name: str) -> Figure:
    """Bar chart of pupils per journey-time band (published counts), baseline and scenario."""
    bmask = suppression_mask(bands)
    order = {lbl: i for i, lbl in enumerate(TIME_BAND_LABELS)}
    bands_sorted = bands.assign(_o=bands["band"].map(order).fillna(99)).sort_values(
        "_o", kind="stable"
    )
    series: list[tuple[str, str, list[Cell]]] = []
    for which, name, colour in (
        ("baseline", "Baseline", BASELINE_COLOUR),
        ("scenario", scenario_name, SCENARIO_COLOUR),
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
    return Figure(
        "f-time-bands",
        "Pupils by journey-time band (each way), baseline and scenario",
        bar_chart(
            [str(b) for b in bands_sorted["band"]],
            series,
            y_label="pupils",
            value_fmt="count",
            title="Pupils by journey-time band",
        ),
        "Bar chart of the number of pupils in each journey-time band before and after.",
    )


def _need_figure(imp: ImpactTable, scenario_name: str) -> Figure:
    """Bar chart of mean journey time by primary need, baseline and scenario."""
    needs = imp.groups("need_type")
    need_series = [
        (name, colour, [imp.cell("need_type", g, "mean_time_min", w) for g in needs])
        for w, name, colour in (
            ("baseline", "Baseline", BASELINE_COLOUR),
            ("scenario", scenario_name, SCENARIO_COLOUR),
        )
    ]
    return Figure(
        "f-time-need",
        "Mean journey time (minutes, each way) by primary need",
        bar_chart(
            needs,
            need_series,
            y_label="minutes",
            value_fmt="minutes",
            title="Mean journey time by primary need",
        ),
        "Bar chart of mean journey time by primary need before and after.",
    )


def _map(areas: pd.DataFrame, inputs: ReportInputs, ctx: ReportContext) -> list[Block]:
    """The offline journey-time map (screen) and its static before/after figure (print).

    The map shows mean time by area (suppressed areas grey), settings and the proposed sites;
    the figure (``fs-`` id: printed in place of the map) draws the same layers, baseline above
    scenario, and is also what the map's own page prints.
    """
    from placeplan.publish import maps
    from placeplan.publish.maps.static import (
        attach_print_figure,
        static_basemap,
        static_journey_times,
    )

    m = maps.map_journey_times(
        areas,
        provision=published_provision(inputs.provision),
        sites=ctx.sites,
        **ctx.map_options,
    )
    svg = static_journey_times(
        areas,
        sites=ctx.sites,
        base=static_basemap(ctx.map_options),
        scenario_name=inputs.scenario_name,
        threshold=ctx.threshold,
    )
    attach_print_figure(m, svg)
    return [
        MapFigure(
            "m-journey-times",
            prose("journey_times", "map_caption", threshold=ctx.threshold),
            maps.map_html(m),
        ),
        Figure(
            "fs-journey-times",
            "Mean journey time by home area (each way), baseline (top) and with the proposals "
            f"(bottom); grey: areas with fewer than {ctx.threshold} pupils and, with the "
            f"proposals, areas where 1 to {ctx.threshold - 1} pupils change setting (their mean "
            "would give their own journeys away), or areas hidden to protect those.",
            svg,
            "Two maps of the authority's areas shaded by mean journey time, before and after.",
        ),
    ]
