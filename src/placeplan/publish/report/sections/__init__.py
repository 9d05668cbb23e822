"""The report's sections, one module each, in report order.

Each module has ``section(inputs, ctx) -> Section``: it reads the report's inputs and the
disclosure-controlled :class:`~placeplan.publish.report.context.ReportContext` and returns one
headed :class:`~placeplan.publish.report.model.Section`. Prose comes from
``templates/sections/<module>.txt.j2`` through :func:`placeplan.publish.report.prose.prose`.
"""
