"""Section 8: data sources and attributions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.report.model import BulletList, Paragraph, Section

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 8: one bullet per attribution statement."""
    lines = tuple(line.strip() for line in inputs.attributions.splitlines() if line.strip())
    return Section(
        "sources",
        "8",
        "Data sources and attributions",
        (BulletList(lines),) if lines else (Paragraph("No attributions were supplied."),),
    )
