"""The appendix's comparison: every scenario side by side, a table and year-by-year charts.

:func:`comparison_cells` reads each scenario's disclosure-controlled impact table
(:class:`~placeplan.publish.report.impact.ImpactTable`, the path every report table takes) for the
all-pupils group; :func:`comparison_frame` gives those cells in long format for
``comparison.csv`` and :func:`section` lays the same cells out as the report's table, so the two
always agree. The charts read the published flow table
(:func:`placeplan.publish.flows.published_flows`, the numbers of ``flows.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.disclosure import SUPPRESSED_MARKER
from placeplan.publish.flows import published_flows
from placeplan.publish.report.charts import BASELINE_COLOUR, SCENARIO_COLOURS, band_chart
from placeplan.publish.report.impact import METRIC_LABEL, ImpactTable, all_group
from placeplan.publish.report.model import Cell, Figure, Paragraph, Section, Table
from placeplan.publish.report.prose import prose
from placeplan.publish.report.sections.money import MONEY_NOTE, money
from placeplan.publish.report.sections.year_by_year import (
    HEADLINE_MEASURES,
    flow_cells,
    savings_start,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.publish.report.context import PlanFacts
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["COMPARED_METRICS", "ComparedRow", "comparison_cells", "comparison_frame", "section"]

#: The impact metrics set side by side (all pupils in scope), in table order.
COMPARED_METRICS: tuple[str, ...] = (
    "moved_n",
    "ooa_placements",
    "independent_placements",
    "mean_time_min",
    "mean_distance_miles",
    "mean_distance_km",
    "over_threshold_n",
    "worse_off_n",
    "annual_placement_cost_gbp",
    "annual_transport_cost_gbp",
)
CAPITAL = "capital_cost_gbp"
#: Snapshot rows whose label alone could be read as the forecast's: say they are today's.
_TODAY = {"worse_off_n": " (today's cohort, snapshot)"}
_CAPITAL_LABEL = "Capital cost of the bases opened"


@dataclass(frozen=True)
class ComparedRow:
    """One measure across the scenarios: the baseline cell and (scenario, value, change) cells."""

    metric: str
    label: str
    baseline: Cell
    scenarios: tuple[tuple[str, Cell, Cell], ...]


def _capital(inputs: ReportInputs) -> float | None:
    sites = inputs.sites
    if sites is None or "selected" not in sites.columns or "capital_cost_gbp" not in sites:
        return None
    sel = sites[sites["selected"].fillna(False).astype(bool)]
    return float(pd.to_numeric(sel["capital_cost_gbp"], errors="coerce").fillna(0).sum())


def comparison_cells(inputs: Sequence[ReportInputs]) -> list[ComparedRow]:
    """The published cells of every compared measure, for every scenario.

    Parameters
    ----------
    inputs
        One :class:`ReportInputs` per scenario (same plan, same baseline), in plan order.

    Returns
    -------
    list of ComparedRow
        One per measure of :data:`COMPARED_METRICS` present in the impact tables, then the
        capital cost of the bases each scenario opens. Cells are disclosure-controlled exactly as
        in each scenario's impact tables (suppressed cells have ``suppressed=True``).
    """
    # the register's tables when the run made them (one decision per quantity, as impact.csv)
    tables = [
        i.release.impact
        if i.release is not None
        else ImpactTable(
            i.impact, threshold=i.disclosure_threshold, round_to=i.disclosure_round_to, mode=i.mode
        )
        for i in inputs
    ]
    out = []
    for metric in COMPARED_METRICS:
        if not all(t.has(metric) for t in tables):
            continue
        per = []
        for i, t in zip(inputs, tables, strict=True):
            _, scen, change = t.row("all", all_group(t), metric)
            per.append((i.scenario_name, scen, change))
        first = tables[0]
        base = first.cell("all", all_group(first), metric, "baseline")
        label = METRIC_LABEL.get(metric, metric) + _TODAY.get(metric, "")
        out.append(ComparedRow(metric, label, base, tuple(per)))
    capitals = [_capital(i) for i in inputs]
    if any(c is not None for c in capitals):
        out.append(
            ComparedRow(
                CAPITAL,
                _CAPITAL_LABEL,
                Cell(None, "gbp"),
                tuple(
                    (i.scenario_name, Cell(c, "gbp"), Cell(None, "gbp", signed=True))
                    for i, c in zip(inputs, capitals, strict=True)
                ),
            )
        )
    return out


def _csv_value(cell: Cell) -> str | float:
    if cell.suppressed:
        return SUPPRESSED_MARKER
    if cell.value is None or (isinstance(cell.value, float) and math.isnan(cell.value)):
        return "x"
    return round(float(cell.value), 3)


def comparison_frame(inputs: Sequence[ReportInputs]) -> pd.DataFrame:
    """The comparison table in long format, as ``comparison.csv`` publishes it.

    Parameters
    ----------
    inputs
        One :class:`ReportInputs` per scenario, in plan order.

    Returns
    -------
    pandas.DataFrame
        ``scenario_name, metric, label, baseline, scenario, change``: values, ``"c"``
        (suppressed) or ``"x"`` (not applicable); the same cells as the report's table.
    """
    rows = [
        (name, r.metric, r.label, _csv_value(r.baseline), _csv_value(v), _csv_value(ch))
        for r in comparison_cells(inputs)
        for name, v, ch in r.scenarios
    ]
    return pd.DataFrame(
        rows, columns=["scenario_name", "metric", "label", "baseline", "scenario", "change"]
    )


def _snapshot_table(rows: list[ComparedRow], names: list[str], threshold: int) -> Table:
    # money as everywhere in the report (£23.2m beside −£345k: the parts add up visibly)
    body = tuple(
        (
            Cell(r.label),
            money(r.baseline),
            *(money(c) for _, v, ch in r.scenarios for c in (v, ch)),
        )
        for r in rows
    )
    return Table(
        "t-compare",
        "Every scenario beside the baseline, now: today's cohort with every proposal open at once "
        "(a snapshot; all pupils in scope)",
        ("Measure", "Baseline", *(h for _ in names for h in ("With scenario", "Change"))),
        body,
        note=prose("compare", "snapshot_note", threshold=threshold, money=MONEY_NOTE),
        groups=(("", 2), *((name, 2) for name in names)),
    )


def _series(
    pub: pd.DataFrame, run: str, measure: str, years: list[str], scale: float
) -> list[list[float | None]]:
    rows = pub[(pub["scenario"] == run) & (pub["measure"] == measure)].set_index("year")
    out: list[list[float | None]] = [[], [], []]
    for y in years:
        for k, col in enumerate(("central", "lower", "upper")):
            if y not in rows.index or bool(rows.loc[y, "suppressed"]):
                out[k].append(None)
                continue
            v = float(rows.loc[y, col])  # type: ignore[arg-type]
            out[k].append(None if math.isnan(v) else v / scale)
    return out


def _published_flows(inputs: ReportInputs) -> pd.DataFrame | None:
    """The run's published flow table (the numbers of ``flows.csv``), None without flows."""
    if inputs.flows is None or inputs.flows.empty:
        return None
    rel = inputs.release
    if rel is not None and rel.flows is not None:
        return rel.flows
    return published_flows(
        inputs.flows,
        threshold=inputs.disclosure_threshold,
        round_to=inputs.disclosure_round_to,
        mode=inputs.mode,
    )


def _openings(inputs: ReportInputs) -> str:
    """'30 places 2027/28; 20 places 2028/29' from the scenario's proposals ('' without): the
    places each year adds, a ramp-up (``places_by_year``) counted in the years it adds them."""
    p = getattr(inputs, "proposals", None)
    if p is None or p.info is None or p.info.empty or "opening_year" not in p.info:
        return ""
    by_year: dict[int, int] = {}
    for _, r in p.info.iterrows():
        ramp = r.get("places_by_year")
        steps = (
            {int(y): int(n) for y, n in dict(ramp).items()}
            if isinstance(ramp, Mapping) and ramp
            else {int(r["opening_year"]): int(r.get("places", 0) or 0)}
        )
        before = 0
        for y, n in sorted(steps.items()):
            by_year[y] = by_year.get(y, 0) + n - before
            before = n
    return "; ".join(f"{n} places {y}/{(y + 1) % 100:02d}" for y, n in sorted(by_year.items()) if n)


def _assumed_openings(inputs: Sequence[ReportInputs], facts: PlanFacts) -> str:
    """One sentence per scenario whose sites open in a year the plan did not choose."""
    out = []
    for i in inputs:
        info = getattr(i.proposals, "info", None)
        if info is None or info.empty or "proposal" not in info.columns:
            continue
        names = info["name"] if "name" in info.columns else info["proposal"]
        assumed = [
            f"{n} ({sid})" if isinstance(n, str) and n and n != sid else str(sid)
            for sid, n in zip(info["proposal"].astype(str), names, strict=True)
            if facts.opening_chosen(i.scenario_name, sid) is False
        ]
        out.append(facts.sentence_for_assumed(i.scenario_name, assumed))
    return " ".join(t for t in out if t)


def _longer_rows(
    pub: pd.DataFrame, names: list[str], years: list[str], worse_off_min: float
) -> list[tuple[Cell, ...]]:
    """Pupils whose journey is longer than in the baseline, every year, as flows.csv has them."""
    if not (pub["measure"] == "worse_off").any():
        return []
    label = f"Pupils whose journey is over {worse_off_min:g} min longer than in the baseline"
    return [
        (
            Cell(f"{label}, {y}"),
            Cell(""),  # none by definition: the baseline is what "longer" is measured against
            *(c for name in names for c in (flow_cells(pub, name, "worse_off", [y])[0], Cell(""))),
        )
        for y in years
    ]


def _yearly_table(inputs: Sequence[ReportInputs], names: list[str]) -> list[Block]:
    """The last year of the flows side by side (level, change with its 80 % range), when each
    scenario's places open (and whether the plan chose the year), the first year its costs fall
    below the baseline, and the pupils whose journey is longer than in the baseline each year."""
    from placeplan.publish.report.context import plan_facts
    from placeplan.publish.report.sections.year_by_year import heading

    pub = _published_flows(inputs[0])
    if pub is None or pub.empty:
        return []
    facts = plan_facts(inputs[0].plan_toml)
    years = sorted(pub["year"].unique())
    last = years[-1]
    body: list[tuple[Cell, ...]] = []
    openings = [_openings(i) for i in inputs]
    if any(openings):
        body.append(
            (
                Cell("New places open (academic year)"),
                Cell(""),
                *(c for o in openings for c in (Cell(o or "none"), Cell(""))),
            )
        )
    starts = []
    for name in names:
        kind, first, _ = savings_start(pub, name, years)
        starts.append(
            years[first] if kind == "from" and first is not None else
            "c" if kind == "hidden" else "no year to " + last
        )  # fmt: skip
    body.append(
        (
            Cell("First year placement + transport cost is below the baseline"),
            Cell(""),
            *(c for st in starts for c in (Cell(st), Cell(""))),
        )
    )
    body += _longer_rows(pub, names, years, facts.worse_off_min)
    for measure, label, _fmt in HEADLINE_MEASURES:
        base = flow_cells(pub, "baseline", measure, [last])[0]
        per = [
            c
            for name in names
            for c in (
                flow_cells(pub, name, measure, [last])[0],
                flow_cells(pub, f"{name} - baseline", measure, [last])[0],
            )
        ]
        body.append((Cell(f"{label}, {last}"), base, *per))
    assumed = _assumed_openings(inputs, facts)
    return [
        Paragraph(
            prose(
                "compare",
                "yearly_intro",
                census=facts.census_phrase(years[0]),
                last_year=last,
                base_note=facts.base_year_note(),
            )
        ),
        *([Paragraph(assumed)] if assumed else []),
        Table(
            "t-compare-yearly",
            f"Every scenario beside the baseline, year by year: opening years, when savings "
            f"start, and {last} (central estimate, 80 % range)",
            ("Measure", "Baseline", *(h for _ in names for h in ("With scenario", "Change"))),
            tuple(body),
            note=prose(
                "compare", "yearly_note", first_year=years[0], heading=heading(years[0], facts)
            ),
            groups=(("", 2), *((name, 2) for name in names)),
        ),
    ]


def _charts(inputs: ReportInputs, names: list[str]) -> list[Block]:
    pub = _published_flows(inputs)
    if pub is None:
        return []
    if pub.empty:
        return []
    years = sorted(pub["year"].unique())
    runs = [r for r in ("baseline", *names) if (pub["scenario"] == r).any()]
    blocks: list[Block] = [
        Paragraph(prose("compare", "charts_intro", first_year=years[0], last_year=years[-1]))
    ]
    for k, (measure, label, fmt) in enumerate(HEADLINE_MEASURES):
        if fmt.startswith("gbp"):
            blocks.append(_saving_chart(pub, names, measure, label, years, k))
            continue
        unit = "minutes" if fmt == "minutes" else "pupils"
        series = []
        for j, run in enumerate(runs):
            central, lower, upper = _series(pub, run, measure, years, 1.0)
            colour = BASELINE_COLOUR if j == 0 else SCENARIO_COLOURS[(j - 1) % 5]
            series.append(("Baseline" if j == 0 else run, colour, central, lower, upper))
        blocks.append(
            Figure(
                f"f-compare-{k + 1}",
                f"{label}: baseline and every scenario, year by year (line: central estimate; "
                "band: 80 % range)",
                band_chart(years, series, y_label=unit, title=f"{label} year by year"),
                alt=f"Line chart of {label.lower()} from {years[0]} to {years[-1]} for the "
                "baseline and every scenario, with their 80 % ranges",
            )
        )
    return blocks


def _saving_chart(
    pub: pd.DataFrame, names: list[str], measure: str, label: str, years: list[str], k: int
) -> Figure:
    """A cost as each scenario's change against the baseline (below 0: a saving), in £k.

    Drawn as levels, a saving of £0.1m on £25m was a line on top of the baseline's: the chart
    could not show when savings start, or how large they are.
    """
    zero: list[float | None] = [0.0] * len(years)
    series = [("Baseline", BASELINE_COLOUR, zero, zero, zero)]  # the baseline is the 0 line
    for j, name in enumerate(names):
        central, lower, upper = _series(pub, f"{name} - baseline", measure, years, 1e3)
        series.append((name, SCENARIO_COLOURS[j % 5], central, lower, upper))
    return Figure(
        f"f-compare-{k + 1}",
        f"{label}: each scenario's change against the baseline, year by year, £ thousand a year "
        "(below 0: a saving; line: central estimate; band: 80 % range)",
        band_chart(
            years,
            series,
            y_label="£k a year, change against baseline",
            title=f"{label}: change against the baseline, year by year",
        ),
        alt=f"Line chart of the change in {label.lower()} against the baseline from {years[0]} "
        f"to {years[-1]} for every scenario, with their 80 % ranges",
    )


def section(inputs: Sequence[ReportInputs]) -> Section:
    """Build the comparison section: the snapshot table and one chart per headline measure.

    Parameters
    ----------
    inputs
        One :class:`ReportInputs` per scenario, in plan order (at least one).

    Returns
    -------
    Section
        ``id="compare"``, unnumbered.
    """
    names = [i.scenario_name for i in inputs]
    rows = comparison_cells(inputs)
    blocks: list[Block] = [Paragraph(prose("compare", "snapshot_intro"))]
    if rows:
        blocks.append(_snapshot_table(rows, names, inputs[0].disclosure_threshold))
    blocks += _yearly_table(inputs, names)
    blocks += _charts(inputs[0], names)
    return Section("compare", "", "Scenarios side by side", tuple(blocks))
