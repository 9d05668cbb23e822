"""Section 3a: year by year from the January census baseline (issue 9 deliverable 5).

Reads only the published flow table (:attr:`ReportContext.placement_flows`, the numbers of
``flows.csv``): a table per scenario of the headline measures (baseline, scenario and change,
central estimate with its 80 % range, years as columns), the definition of reliance on
out-of-area placements, whether each scenario gives year-on-year reductions and when its savings
start (both worked out from the published central values), and two charts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.compute.flows import RELIANCE
from placeplan.publish.report.charts import BASELINE_COLOUR, SCENARIO_COLOURS, band_chart
from placeplan.publish.report.model import Cell, Figure, Paragraph, Section, Table
from placeplan.publish.report.prose import prose
from placeplan.publish.report.render import fmt_cell

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = [
    "HEADLINE_MEASURES",
    "flow_cells",
    "reliance_definition",
    "savings_start",
    "section",
    "year_on_year",
]

#: The measures shown in the section's tables: (measure, label, cell format).
HEADLINE_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("out_of_area", "Out-of-area placements", "count"),
    ("independent_non_maintained", "Independent and non-maintained", "count"),
    ("journey_time_mean_min", "Mean journey (one way)", "minutes"),
    ("over_max_journey", "Over the reasonable maximum journey", "count"),
    ("placement_cost_gbp", "Placement cost a year", "gbp_k"),
    ("transport_cost_gbp", "Transport cost a year", "gbp_k"),
)
_CHANGE = " - baseline"


def reliance_definition() -> str:
    """The definition of reliance on out-of-area placements in plain words (from the model).

    The model's one definition (:data:`placeplan.compute.flows.RELIANCE`): its plain sentence,
    no code fields, and the measure names of ``flows.csv`` once, at the end.

    Returns
    -------
    str
        The definition as one paragraph of plain text.

    Examples
    --------
    >>> "``" in reliance_definition() or "in_area is" in reliance_definition()
    False
    """
    return RELIANCE.plain


def year_on_year(
    years: Sequence[str], values: Sequence[float | None]
) -> tuple[str, str, list[str]]:
    """Say whether a series falls year on year.

    Parameters
    ----------
    years
        Academic years, in order.
    values
        Published central values (None where suppressed).

    Returns
    -------
    kind, from_year, years_down
        ``kind`` is ``"hidden"`` (a value is suppressed), ``"every"`` (lower than the year before
        in every year after the first), ``"from"`` (in every year from ``from_year`` to the
        last, not before), ``"some"`` (in ``years_down`` only, not in the last year) or
        ``"none"``.

    Examples
    --------
    >>> year_on_year(["a", "b", "c", "d"], [10, 10, 8, 7])
    ('from', 'c', ['c', 'd'])
    >>> year_on_year(["a", "b", "c"], [10, 9, 9])
    ('some', '', ['b'])
    """
    if any(v is None for v in values) or len(values) < 2:
        return ("hidden" if len(values) >= 2 else "none"), "", []
    down = [
        years[i]
        for i in range(1, len(values))
        if float(values[i]) < float(values[i - 1])  # type: ignore[arg-type]
    ]
    if not down:
        return "none", "", []
    if years[-1] not in down:
        return "some", "", down
    start = len(values) - 1
    while start > 1 and years[start - 1] in down:
        start -= 1
    kind = "every" if start == 1 else "from"
    return kind, years[start], down


def flow_cells(pub: pd.DataFrame, run: str, measure: str, years: Sequence[str]) -> list[Cell]:
    """One run's published values of ``measure`` in ``years``, as report cells with ranges.

    Parameters
    ----------
    pub
        The published flow table (``year, scenario, measure, central, lower, upper,
        suppressed``).
    run
        ``"baseline"``, a scenario, or ``"<scenario> - baseline"`` (a change: signed cells).
    measure
        A flow measure of :data:`HEADLINE_MEASURES` (others are formatted as counts).
    years
        Academic years wanted.

    Returns
    -------
    list of Cell
        One per year: suppressed where the table hides it, empty where it has no row.
    """
    fmt = next((f for m, _, f in HEADLINE_MEASURES if m == measure), "count")
    rows = pub[(pub["scenario"] == run) & (pub["measure"] == measure)].set_index("year")
    cells = []
    for y in years:
        if y not in rows.index:
            cells.append(Cell(None, fmt))
            continue
        r = rows.loc[y]
        if bool(r["suppressed"]):
            cells.append(Cell(None, fmt, suppressed=True))
            continue

        def num(v: object) -> float | None:
            x = float(v)  # type: ignore[arg-type]
            return None if math.isnan(x) else x

        cells.append(
            Cell(
                num(r["central"]),
                fmt,
                signed=run.endswith(_CHANGE),
                low=num(r["lower"]),
                high=num(r["upper"]),
            )
        )
    return cells


def _central(cells: Sequence[Cell]) -> list[float | None]:
    return [None if c.suppressed or c.value is None else float(c.value) for c in cells]


def _ends(cells: Sequence[Cell], which: str) -> list[float | None]:
    out: list[float | None] = []
    for c in cells:
        v = None if c.suppressed else getattr(c, which)
        out.append(None if v is None else float(v))
    return out


def section(inputs: ReportInputs, ctx: ReportContext) -> Section | None:
    """Build section 3a, or None when the run has no flow table."""
    pub = ctx.placement_flows
    if pub is None or pub.empty:
        return None
    years = sorted(pub["year"].unique())
    runs = list(dict.fromkeys(pub["scenario"]))
    scenarios = [r for r in runs if r != "baseline" and not r.endswith(_CHANGE)]
    census = int(years[0][:4]) + 1
    title = f"Year by year from the January {census} baseline"
    blocks: list[Block] = [
        Paragraph(
            prose(
                "year_by_year",
                "intro",
                first_year=years[0],
                last_year=years[-1],
                census=census,
                paths="central, lower and upper",
            )
        ),
        Paragraph(prose("year_by_year", "definition", text=reliance_definition())),
    ]
    for k, name in enumerate(scenarios):
        rows: list[tuple[Cell, ...]] = []
        for measure, label, _ in HEADLINE_MEASURES:
            for j, (run, run_label) in enumerate(
                (("baseline", "Baseline"), (name, name), (f"{name}{_CHANGE}", "Change"))
            ):
                head = Cell(label if j == 0 else "")
                rows.append((head, Cell(run_label), *flow_cells(pub, run, measure, years)))
        blocks.append(
            Table(
                f"t-yby-{k + 1}",
                f"Year by year: {name} against the baseline",
                ("Measure", "", *years),
                tuple(rows),
                note=prose("year_by_year", "table_note", threshold=ctx.threshold),
            )
        )
        blocks.extend(_verdicts(pub, name, years))
    for measure, label, fig_id in (
        ("out_of_area", "Out-of-area placements", "f-yby-ooa"),
        ("independent_non_maintained", "Independent and non-maintained special placements",
         "f-yby-inm"),
    ):  # fmt: skip
        series = []
        for k, run in enumerate(["baseline", *scenarios]):
            cells = flow_cells(pub, run, measure, years)
            colour = BASELINE_COLOUR if k == 0 else SCENARIO_COLOURS[(k - 1) % 5]
            series.append(
                (
                    "Baseline" if k == 0 else run,
                    colour,
                    _central(cells),
                    _ends(cells, "low"),
                    _ends(cells, "high"),
                )
            )
        blocks.append(
            Figure(
                fig_id,
                f"{label} year by year: central estimate (line) and 80 % range (band); gaps are "
                "suppressed values",
                band_chart(years, series, y_label="pupils", title=f"{label} year by year"),
                alt=f"Line chart of {label.lower()} from {years[0]} to {years[-1]}, baseline and "
                "each scenario, with their 80 % ranges",
            )
        )
    return Section("year-by-year", "3a", title, tuple(blocks))


def savings_start(
    pub: pd.DataFrame, name: str, years: Sequence[str]
) -> tuple[str, int | None, list[float | None]]:
    """When a scenario's placement and transport costs first fall below the baseline's.

    Parameters
    ----------
    pub
        The published flow table.
    name
        The scenario.
    years
        Academic years, in order.

    Returns
    -------
    kind, first, totals
        ``kind`` is ``"from"`` (``years[first]`` is the first year with a saving, every earlier
        year published), ``"hidden"`` (a cost needed to say so is suppressed) or ``"none"``;
        ``totals`` the published change in placement + transport cost each year (None where
        either part is hidden).
    """
    change = f"{name}{_CHANGE}"
    totals: list[float | None] = []
    for y in years:
        vals = []
        for measure in ("placement_cost_gbp", "transport_cost_gbp"):
            c = flow_cells(pub, change, measure, [y])[0]
            vals.append(None if c.suppressed or c.value is None else float(c.value))
        totals.append(None if None in vals else sum(v for v in vals if v is not None))
    first = next((i for i, v in enumerate(totals) if v is not None and v < 0), None)
    if first is None:
        kind = "hidden" if None in totals else "none"
    else:
        kind = "hidden" if None in totals[:first] else "from"
    return kind, first, totals


def _verdicts(pub: pd.DataFrame, name: str, years: Sequence[str]) -> list[Block]:
    """Year-on-year and savings sentences for one scenario, from the published values."""
    out: list[Block] = []
    for measure, label in (
        ("out_of_area", "out-of-area placements"),
        ("independent_non_maintained", "independent and non-maintained special placements"),
    ):
        cells = flow_cells(pub, name, measure, years)
        base = flow_cells(pub, "baseline", measure, years)
        kind, from_year, down = year_on_year(years, _central(cells))
        base_kind, base_from, _ = year_on_year(years, _central(base))
        last = None if cells[-1].suppressed or cells[-1].value is None else fmt_cell(cells[-1])
        last_b = None if base[-1].suppressed or base[-1].value is None else fmt_cell(base[-1])
        out.append(
            Paragraph(
                prose(
                    "year_by_year",
                    "year_on_year",
                    scenario=name,
                    measure=label,
                    kind=kind,
                    from_year=from_year,
                    years_down=", ".join(down),
                    last_year=years[-1],
                    last=last,
                    last_baseline=last_b,
                    base_kind=base_kind,
                    base_from=base_from,
                )
            )
        )
    kind, first, totals = savings_start(pub, name, years)
    last_saving = ""
    if kind == "from" and totals[-1] is not None and totals[-1] < 0:
        last_saving = fmt_cell(Cell(-totals[-1], "gbp_k"))
    out.append(
        Paragraph(
            prose(
                "year_by_year",
                "savings",
                scenario=name,
                kind=kind,
                from_year="" if first is None else years[first],
                last_year=years[-1],
                last_saving=last_saving,
            )
        )
    )
    return out
