"""Build the travel impact assessment (TIA) report model from aggregated pipeline results.

ydata-style first layer: :func:`build_report` turns :class:`ReportInputs` into a :class:`Report`.
It is a composer: :func:`~placeplan.publish.report.context.build_context` applies disclosure
control once, then each module of :mod:`placeplan.publish.report.sections` builds one section.
Nothing here reads the clock, the network or the environment: the same inputs give the same report.

The data model lives in :mod:`placeplan.publish.report.model` and the published impact table in
:mod:`placeplan.publish.report.impact`; the names re-exported here keep existing imports working.
"""

from __future__ import annotations

from placeplan.publish.report.context import build_context
from placeplan.publish.report.impact import COUNT_METRICS, published_impact
from placeplan.publish.report.model import (
    DFE_ELEMENTS,
    DFE_REQUIREMENT,
    TIME_BAND_LABELS,
    BulletList,
    Cell,
    Figure,
    Headline,
    MapFigure,
    Paragraph,
    Preformatted,
    Quote,
    Report,
    ReportInputs,
    Section,
    Table,
)
from placeplan.publish.report.sections import (
    breakdowns,
    disclosure_control,
    distances,
    journey_times,
    method,
    mitigations,
    out_of_area,
    proposals,
    requirement,
    sites,
    sources,
    summary,
    year_by_year,
)

__all__ = [
    "COUNT_METRICS",
    "DFE_ELEMENTS",
    "DFE_REQUIREMENT",
    "SECTIONS",
    "TIME_BAND_LABELS",
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
    "published_impact",
]

SECTIONS = (
    requirement.section,
    distances.section,
    journey_times.section,
    out_of_area.section,
    year_by_year.section,
    mitigations.section,
    proposals.section,
    sites.section,
    breakdowns.section,
    method.section,
    sources.section,
    disclosure_control.section,
)
"""The report's sections in order; each is ``section(inputs, ctx) -> Section`` (or None when the
run has nothing for it, e.g. no year-by-year flows: the section is then left out), or a tuple of
sections (one per proposal)."""


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

    Examples
    --------
    >>> from placeplan.publish.report.model import ReportInputs
    >>> import pandas as pd
    >>> impact = pd.DataFrame(
    ...     [
    ...         ("all", "all", "pupils", 12, 12, 0),
    ...         ("all", "all", "mean_time_min", 30.0, 25.0, -5.0),
    ...     ],
    ...     columns=["group_type", "group", "metric", "baseline", "scenario", "change"],
    ... )
    >>> report = build_report(
    ...     ReportInputs("Plan", "Authority", "2026-04-01", "0.1", "sha256:0", "", impact)
    ... )
    >>> [s.id for s in report.sections][:3]
    ['requirement', 'distances', 'journey-times']
    >>> report.headlines[0].change.value
    -5.0
    """
    ctx = build_context(inputs)
    return Report(
        title=f"Travel impact assessment: {inputs.plan_name}",
        plan_name=inputs.plan_name,
        authority=inputs.authority,
        scenario_name=inputs.scenario_name,
        run_timestamp=inputs.run_timestamp,
        placeplan_version=inputs.placeplan_version,
        config_hash=inputs.config_hash,
        mode=inputs.mode,
        synthetic_data=inputs.synthetic_data,
        disclosure_threshold=inputs.disclosure_threshold,
        dfe_requirement=DFE_REQUIREMENT,
        headlines=summary.headlines(ctx),
        scenario_summary=summary.scenario_summary(inputs.sites, getattr(inputs, "proposals", None)),
        sections=tuple(
            s
            for built in (section(inputs, ctx) for section in SECTIONS)
            for s in (built if isinstance(built, tuple) else (built,))
            if s is not None
        ),
    )
