"""Section 6: the same measures by need, phase, area, deprivation and rurality."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.report.impact import GROUP_TYPE_LABEL, group_table
from placeplan.publish.report.model import Paragraph, Section
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]

_BREAKDOWN_METRICS = (
    ("pupils", "Pupils"),
    ("mean_time_min", "Mean journey time"),
    ("over_threshold_n", "Over reasonable maximum"),
    ("ooa_placements", "Out of area"),
)


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 6: one table per breakdown, baseline and scenario side by side."""
    blocks: list[Block] = [Paragraph(prose("breakdowns", "intro", threshold=ctx.threshold))]
    for gt in ("need_type", "phase", "area", "imd_decile", "ruc_class"):
        t = group_table(
            ctx.impact,
            gt,
            f"t-breakdown-{gt}",
            f"By {GROUP_TYPE_LABEL[gt]}",
            _BREAKDOWN_METRICS,
            change=False,
        )
        if t:
            blocks.append(t)
    return Section("breakdowns", "6", "Breakdowns", tuple(blocks))
