"""Section 9: how disclosure control was applied (or, in internal mode, that it was not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.report.model import Paragraph, Section
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 9: the suppression rules of this report's mode."""
    if ctx.internal:
        text = prose("disclosure_control", "internal")
    else:
        text = prose(
            "disclosure_control", "published", threshold=ctx.threshold, round_to=ctx.round_to
        )
    return Section("disclosure", "9", "Disclosure control", (Paragraph(text),))
