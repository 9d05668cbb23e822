"""Section 1 (DfE element): expected changes to travel distances."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.report.impact import GROUP_TYPE_LABEL, group_table, metric_table
from placeplan.publish.report.model import DFE_ELEMENTS, Paragraph, Section
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 1: mean distance for all pupils, then by need and by phase."""
    imp = ctx.impact
    blocks: list[Block] = [
        Paragraph(prose("distances", "intro")),
        metric_table(
            imp,
            "t-distance-all",
            "Travel distance, all pupils",
            ["pupils", "mean_distance_km", "mean_distance_miles"],
        ),
    ]
    for gt in ("need_type", "phase"):
        t = group_table(
            imp,
            gt,
            f"t-distance-{gt}",
            f"Mean travel distance (miles) by {GROUP_TYPE_LABEL[gt]}",
            [("mean_distance_miles", "Mean travel distance")],
        )
        if t:
            blocks.append(t)
    return Section("distances", "1", DFE_ELEMENTS[0][1], tuple(blocks), True)
