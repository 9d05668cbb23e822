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
from placeplan.publish.report.sections.money import MONEY_NOTE, money

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.publish.report.context import PlanFacts, ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = [
    "HEADLINE_MEASURES",
    "below_baseline",
    "falls_from",
    "flow_cells",
    "heading",
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
#: The row of pupils the model could not place (outside every mean and cost of the year).
UNPLACED = ("unplaced", "Not placed (no free place for their need)", "count")

#: The section's heading; every cross-reference to the section quotes :func:`heading`.
HEADING = "Year by year from the {month} {year} baseline"


def heading(first_year: str, facts: PlanFacts | None = None) -> str:
    """The section's heading, as every cross-reference to it must quote it.

    Parameters
    ----------
    first_year
        The flows' first academic year (``"2025/26"``), used when ``facts`` has no census date.
    facts
        The plan's facts (:func:`placeplan.publish.report.context.plan_facts`): its census date.

    Returns
    -------
    str

    Examples
    --------
    >>> heading("2025/26")
    'Year by year from the January 2026 baseline'
    """
    if facts is not None and facts.census_date is not None:
        d = facts.census_date
        return HEADING.format(month=d.strftime("%B"), year=d.year)
    return HEADING.format(month="January", year=int(first_year[:4]) + 1)


def below_baseline(
    years: Sequence[str], change: Sequence[float | None]
) -> tuple[str, str, list[str]]:
    """In which years a scenario is below the baseline (a negative published change).

    Returns
    -------
    kind, from_year, years_below
        ``kind`` is ``"hidden"`` (a change is suppressed), ``"from"`` (below in every year from
        ``from_year`` to the last, not before), ``"some"`` (below in ``years_below`` only) or
        ``"none"``.

    Examples
    --------
    >>> below_baseline(["a", "b", "c", "d"], [0, 0, -1, -3])
    ('from', 'c', ['c', 'd'])
    >>> below_baseline(["a", "b", "c"], [0, -1, 0])
    ('some', '', ['b'])
    """
    if any(v is None for v in change):
        return "hidden", "", []
    below = [y for y, v in zip(years, change, strict=True) if float(v) < 0]  # type: ignore[arg-type]
    if not below:
        return "none", "", []
    start = years.index(below[0])
    if list(years[start:]) == below:
        return "from", below[0], below
    return "some", "", below


def falls_from(
    years: Sequence[str], values: Sequence[float | None], start: int
) -> tuple[str, list[str]]:
    """Whether a series falls in every year from ``years[start]`` (against the year before).

    Returns
    -------
    kind, not_down
        ``kind`` is ``"hidden"`` (a value needed is suppressed), ``"every"``, ``"not_every"``
        (``not_down``: the years it is level or higher than the year before) or ``"none"`` (no
        year to compare).

    Examples
    --------
    >>> falls_from(["a", "b", "c", "d"], [15, 15, 14, 12], 2)
    ('every', [])
    >>> falls_from(["a", "b", "c", "d"], [15, 14, 14, 12], 1)
    ('not_every', ['c'])
    >>> falls_from(["a", "b", "c", "d"], [None, 14, 13, 12], 2)  # a hidden year before it
    ('every', [])
    """
    start = max(start, 1)
    if start >= len(values):
        return "none", []
    if any(v is None for v in values[start - 1 :]):
        return "hidden", []
    # years before ``start - 1`` are not compared and may be hidden (None)
    v = [float("nan") if x is None else float(x) for x in values]
    not_down = [years[i] for i in range(start, len(v)) if not v[i] < v[i - 1]]
    return ("not_every" if not_down else "every"), not_down


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

        cell = Cell(
            num(r["central"]),
            fmt,
            signed=run.endswith(_CHANGE),
            low=num(r["lower"]),
            high=num(r["upper"]),
        )
        cells.append(money(cell))  # £: to the nearest £1,000, as every £ of the report
    return cells


def _central(cells: Sequence[Cell]) -> list[float | None]:
    return [None if c.suppressed or c.value is None else float(c.value) for c in cells]


def _ends(cells: Sequence[Cell], which: str) -> list[float | None]:
    out: list[float | None] = []
    for c in cells:
        v = None if c.suppressed else getattr(c, which)
        out.append(None if v is None else float(v))
    return out


def scenario_openings(
    inputs: ReportInputs, facts: PlanFacts, scenarios: Sequence[str]
) -> dict[str, tuple[int | None, list[str]]]:
    """Each scenario's first opening year and the sites whose opening year the plan left out.

    Known for the report's own scenario (its proposals) and for a plan scenario that lists its
    ``open_sites``; a scenario of optimised sites other than the report's own is not known here
    (its sites are chosen at run time): ``(None, [])``.

    Returns
    -------
    dict
        Scenario -> (first opening calendar year or None, labels of the sites given the assumed
        opening year).
    """
    names: dict[str, str] = {}
    if inputs.sites is not None and {"site_id", "name"} <= set(inputs.sites.columns):
        ids, labels = inputs.sites["site_id"].astype(str), inputs.sites["name"].astype(str)
        names = dict(zip(ids, labels, strict=True))
    out: dict[str, tuple[int | None, list[str]]] = {}
    info = getattr(inputs.proposals, "info", None)
    for name in scenarios:
        first: int | None = None
        if name == inputs.scenario_name and info is not None and len(info):
            ids = [str(x) for x in info["proposal"]]
            first = int(pd.to_numeric(info["opening_year"]).min())
        else:
            ids = list(facts.scenario_open.get(name, ()))
        assumed = [
            f"{names[i]} ({i})" if names.get(i) else i
            for i in ids
            if facts.opening_chosen(name, i) is False
        ]
        if (
            first is None
            and facts.base_year is not None
            and not set(ids) & set(facts.scenario_sites.get(name, ()))
        ):  # every year from the plan's [[flows.site]] entries, or the assumed year
            known = [facts.opening_years[i] for i in ids if i in facts.opening_years]
            first = min([*known, *([facts.base_year + 1] if assumed else [])], default=None)
        out[name] = (first, assumed)
    return out


def _assumed_text(
    inputs: ReportInputs,
    facts: PlanFacts,
    scenarios: Sequence[str],
    openings: dict[str, tuple[int | None, list[str]]],
) -> str:
    """Sentences naming the sites whose opening year the plan left out, per scenario (or the rule,
    for a plan scenario of optimised sites this report cannot name)."""
    unknown = [  # a plan scenario of optimised sites, chosen at run time: the rule, not the names
        n
        for n in scenarios
        if n in facts.scenarios and not facts.scenario_open.get(n) and n != inputs.scenario_name
    ]
    return " ".join(
        [
            *(facts.sentence_for_assumed(n, openings[n][1]) for n in scenarios),
            *(
                prose("year_by_year", "assumed_rule", scenario=n, year=facts.assumed_opening(n))
                for n in unknown
                if facts.assumed_opening(n)
            ),
        ]
    ).strip()


def section(inputs: ReportInputs, ctx: ReportContext) -> Section | None:
    """Build section 3a, or None when the run has no flow table."""
    from placeplan.publish.report.context import plan_facts

    pub = ctx.placement_flows
    if pub is None or pub.empty:
        return None
    facts = plan_facts(inputs.plan_toml)
    years = sorted(pub["year"].unique())
    runs = list(dict.fromkeys(pub["scenario"]))
    scenarios = [r for r in runs if r != "baseline" and not r.endswith(_CHANGE)]
    openings = scenario_openings(inputs, facts, scenarios)
    blocks: list[Block] = [
        Paragraph(
            prose(
                "year_by_year",
                "intro",
                first_year=years[0],
                last_year=years[-1],
                census=facts.census_phrase(years[0]),
                base_note=facts.base_year_note(),
                paths="central, lower and upper",
            )
        ),
        Paragraph(prose("year_by_year", "definition", text=reliance_definition())),
    ]
    assumed = _assumed_text(inputs, facts, scenarios, openings)
    if assumed:
        blocks.append(Paragraph(assumed))
    blocks += _unplaced(pub, years)
    for k, name in enumerate(scenarios):
        rows: list[tuple[Cell, ...]] = []
        for measure, label, _ in (*HEADLINE_MEASURES, UNPLACED):
            if measure == UNPLACED[0] and not (pub["measure"] == measure).any():
                continue
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
                note=prose("year_by_year", "table_note", threshold=ctx.threshold, money=MONEY_NOTE),
            )
        )
        blocks.extend(_verdicts(pub, name, years, openings[name][0]))
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
    return Section("year-by-year", "3a", heading(years[0], facts), tuple(blocks))


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


def _unplaced(pub: pd.DataFrame, years: Sequence[str]) -> list[Block]:
    """The sentence on pupils the model could not place, by year in the baseline, with range."""
    if not (pub["measure"] == UNPLACED[0]).any():
        return []
    cells = flow_cells(pub, "baseline", UNPLACED[0], years)
    by_year = [f"{y}: {fmt_cell(c)}" for y, c in zip(years, cells, strict=True)]
    return [Paragraph(prose("year_by_year", "unplaced", by_year="; ".join(by_year)))]


def _verdicts(
    pub: pd.DataFrame, name: str, years: Sequence[str], opens: int | None = None
) -> list[Block]:
    """For one scenario, from the published values: in which years it is below the baseline,
    whether it falls year on year from the year its places open, and when savings start."""
    out: list[Block] = []
    start_year = None if opens is None else f"{opens}/{(opens + 1) % 100:02d}"
    for measure, label in (
        ("out_of_area", "out-of-area placements"),
        ("independent_non_maintained", "independent and non-maintained special placements"),
    ):
        cells = flow_cells(pub, name, measure, years)
        base = flow_cells(pub, "baseline", measure, years)
        change = flow_cells(pub, f"{name}{_CHANGE}", measure, years)
        below, below_from, years_below = below_baseline(years, _central(change))
        if start_year in years:
            start, why = years.index(start_year), "when its first places open"
        else:  # opening years not known here: from the first year it departs from the baseline
            moved = [i for i, v in enumerate(_central(change)) if i and v is not None and v != 0]
            start = moved[0] if moved else 1
            why = "the first year it differs from the baseline" if moved else "the first year"
        falls, not_down = falls_from(years, _central(cells), start)
        last = None if cells[-1].suppressed or cells[-1].value is None else fmt_cell(cells[-1])
        last_b = None if base[-1].suppressed or base[-1].value is None else fmt_cell(base[-1])
        out.append(
            Paragraph(
                prose(
                    "year_by_year",
                    "year_on_year",
                    scenario=name,
                    measure=label,
                    below=below,
                    below_from=below_from,
                    years_below=", ".join(years_below),
                    first_year=years[0],
                    falls=falls,
                    start_year=years[start] if start < len(years) else years[-1],
                    why=why,
                    not_down=", ".join(not_down),
                    last_year=years[-1],
                    last=last,
                    last_baseline=last_b,
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
