"""Opening section: the DfE requirement this appendix answers, and what it compares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.report.model import DFE_REQUIREMENT, Paragraph, Quote, Section
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build the unnumbered opening section (the requirement, quoted, and the comparison)."""
    limits = ", ".join(f"{k} {v:g} min" for k, v in sorted(inputs.reasonable_journey_min.items()))
    intro = prose(
        "requirement",
        "intro",
        scenario_name=inputs.scenario_name,
        authority=inputs.authority,
        limits=limits,
    )
    return Section(
        "requirement",
        "",
        "What this appendix answers",
        (Quote(DFE_REQUIREMENT, prose("requirement", "quote_source")), Paragraph(intro)),
    )
