"""The travel impact assessment report: disclosure control, report model, HTML rendering.

Three layers (ydata-profiling style): :func:`build_report` (aggregates → disclosure-controlled
report model), :func:`render_report` (model → HTML string) and :func:`write_report` (one
self-contained offline HTML file). :func:`suppress` is the one gate every published number passes.

Inside: ``model`` (the data model), ``context`` (disclosure control applied once), ``impact``
(the published impact table), ``sections/`` (one module per report section), ``prose`` and
``templates/sections/`` (the wording), ``charts`` (SVG), ``build`` (the composer) and ``render``.
"""

from __future__ import annotations

from placeplan.publish.disclosure import SUPPRESSED_MARKER, apply_marker, suppress, suppression_mask
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Report, ReportInputs
from placeplan.publish.report.render import render_report, write_report

__all__ = [
    "SUPPRESSED_MARKER",
    "Report",
    "ReportInputs",
    "apply_marker",
    "build_report",
    "render_report",
    "suppress",
    "suppression_mask",
    "write_report",
]
