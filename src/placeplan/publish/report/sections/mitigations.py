"""Section 4 (DfE element): travel related mitigations, from the plan's ``[[mitigation]]`` rules.

Each rule says who it is for, what is offered and what it costs per pupil a year; rules apply in
order and each pupil gets the first that matches. The first table shows, for the programme and
today's cohort (the snapshot), how many pupils each rule covers and the annual cost (counts and £
disclosure-controlled together), and says whether each rule is the plan's own or a package
default. The second applies the same rules to the placement-flow model's pupils year by year
(:mod:`placeplan.compute.mitigation_years`; the published numbers of
``mitigations_by_year.csv``): pupils covered and £ a year, baseline, scenario and change, with
the forecast's range, and each rule's pupils in the scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.compute.mitigation import WHAT
from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.report.impact import metric_table
from placeplan.publish.report.model import DFE_ELEMENTS, Cell, Paragraph, Section, Table
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 4: who is worse off or moved, and the mitigation rules applied and costed."""
    imp = ctx.impact
    mitig = ctx.mitigations
    sources = set() if mitig is None or "source" not in mitig else set(mitig["source"])
    years = _programme_years(ctx.mitigations_by_year, inputs.scenario_name)
    blocks: list[Block] = [
        Paragraph(
            prose(
                "mitigations",
                "intro",
                from_plan="plan" in sources,
                defaults="default" in sources,
                with_years=years is not None,
            )
        )
    ]
    if imp.has("worse_off_n"):
        blocks.append(
            metric_table(
                imp, "t-worse-off", "Pupils whose journey gets longer", ["worse_off_n", "moved_n"]
            )
        )
    if mitig is not None and not mitig.empty:
        blocks.append(_mitigation_table(mitig, ctx.threshold))
    if years is not None:
        blocks += _year_blocks(years, inputs.scenario_name, ctx.threshold)
    return Section("mitigations", "4", DFE_ELEMENTS[3][1], tuple(blocks), True)


def _mitigation_table(mitig: pd.DataFrame, threshold: int) -> Table:
    mask = suppression_mask(mitig)
    rows = []
    notes = []
    total_n = 0.0
    total_gbp = 0.0
    hidden = False
    for idx, r in mitig.iterrows():
        n, gbp = r.get("pupils"), r.get("annual_cost_gbp")
        s_n = bool(mask.at[idx, "pupils"]) if "pupils" in mask.columns else False
        s_gbp = bool(mask.at[idx, "annual_cost_gbp"]) if "annual_cost_gbp" in mask else s_n
        hidden |= s_n or s_gbp
        is_total = r.get("rule") == "All rules"  # published_mitigations' total row
        if not is_total:
            total_n += 0.0 if pd.isna(n) else float(n)
            total_gbp += 0.0 if gbp is None or pd.isna(gbp) else float(gbp)
        source = "" if is_total else "plan" if r.get("source") == "plan" else "default"
        withheld = bool(r.get("withheld", False))  # the level's rule detail (as year by year)
        rows.append(
            (
                Cell(str(r["rule"])),
                Cell(str(r.get("who", ""))),
                Cell(WHAT.get(str(r.get("what", "")), str(r.get("what", "")))),
                Cell(source),
                Cell(r.get("cost_gbp_per_pupil_year"), "gbp"),
                Cell("withheld")
                if withheld
                else Cell(None if pd.isna(n) else float(n), "count", suppressed=s_n),
                Cell("withheld")
                if withheld
                else Cell(None if gbp is None or pd.isna(gbp) else float(gbp), "gbp",
                          suppressed=s_gbp),
            )
        )  # fmt: skip
        notes.append(str(r.get("description", "")))
    header = ("Rule", "Who", "What", "Source", "£ per pupil a year", "Pupils", "£ a year")
    note = prose("mitigations", "table_note", threshold=threshold)
    if not hidden:
        note += " " + prose(
            "mitigations", "total", pupils=f"{total_n:,.0f}", gbp=f"£{total_gbp:,.0f}"
        )
    return Table(
        "t-mitigations",
        "Travel mitigation rules, in priority order: the pupils covered with the programme in "
        "place (a level, not a change; today's cohort with every proposal open: the snapshot)",
        header,
        tuple(rows),
        note,
        row_notes=tuple(notes),
    )


_TOTAL = "All rules"
_RUN_LABELS = (("baseline", "Baseline"), ("scenario", ""), ("change", "Change"))


def _programme_years(pub: pd.DataFrame | None, scenario: str) -> pd.DataFrame | None:
    """The scenario's programme rows of the published year-by-year table (None if none)."""
    if pub is None or pub.empty:
        return None
    rows = pub[pub["scenario"].eq(scenario) & pub["proposal"].eq("programme")]
    return None if rows.empty else rows


def _year_cell(rows: pd.DataFrame, run: str, rule: str, year: str, quantity: str) -> Cell:
    fmt = "count" if quantity == "pupils" else "gbp"
    hit = rows[rows["run"].eq(run) & rows["rule"].eq(rule) & rows["year"].eq(year)]
    if hit.empty:
        return Cell(None, fmt)
    r = hit.iloc[0]
    if bool(r.get("withheld", False)):
        return Cell("withheld")  # the year's rule detail (published_mitigations_by_year)
    flag = "cost_suppressed" if quantity != "pupils" and "cost_suppressed" in r else "suppressed"
    if bool(r[flag]):
        return Cell(None, fmt, suppressed=True)

    def num(v: float) -> float | None:
        return None if pd.isna(v) else float(v)

    return Cell(
        num(r[quantity]),
        fmt,
        signed=run == "change",
        low=num(r[f"{quantity}_lower"]),
        high=num(r[f"{quantity}_upper"]),
    )


def _year_blocks(rows: pd.DataFrame, scenario: str, threshold: int) -> list[Block]:
    """The year-by-year paragraph and table: all rules by run, then each rule's pupils."""

    years = sorted(rows["year"].astype(str).unique())
    table_rows: list[tuple[Cell, ...]] = []
    for quantity, label in (("annual_cost_gbp", "£ a year"), ("pupils", "Pupils covered")):
        for j, (run, run_label) in enumerate(_RUN_LABELS):
            cells = [_year_cell(rows, run, _TOTAL, y, quantity) for y in years]
            table_rows.append((Cell(label if j == 0 else ""), Cell(run_label or scenario), *cells))
    # each rule's pupils in a table of their own, the rule as the row header: beside the run
    # labels the rule names were squeezed to a word a line
    rules = [r for r in dict.fromkeys(rows["rule"]) if r != _TOTAL]
    rule_rows = tuple(
        (Cell(rule), *(_year_cell(rows, "scenario", rule, y, "pupils") for y in years))
        for rule in rules
    )
    withheld = [y for y in years if _year_cell(rows, "scenario", rules[0], y, "pupils").fmt
                == "text"] if rules else []  # fmt: skip
    blocks: list[Block] = [
        Paragraph(
            prose(
                "mitigations",
                "years_intro",
                first_year=years[0],
                last_year=years[-1],
            )
        )
    ]
    blocks.append(_years_summary(rows, scenario, years))
    blocks.append(
        Table(
            "t-mitigations-years",
            f"Travel mitigations year by year: the same rules applied to the placement-flow "
            f"model's pupils, {scenario} against the baseline",
            ("", "", *years),
            tuple(table_rows),
            prose("mitigations", "years_note", threshold=threshold),
        )
    )
    if rule_rows:
        blocks.append(
            Table(
                "t-mitigations-years-rules",
                f"Pupils covered by each rule year by year, {scenario}",
                ("Rule", *years),
                rule_rows,
                prose(
                    "mitigations",
                    "years_rules_note",
                    threshold=threshold,
                    withheld=", ".join(withheld),
                ),
            )
        )
    return blocks


def _years_summary(rows: pd.DataFrame, scenario: str, years: list[str]) -> Paragraph:
    """The year table's sentence: the £ a year first and last, against the baseline; or how
    many years' totals are shown when one of those is hidden."""
    from placeplan.publish.report.render import fmt_cell, fmt_range

    first = _year_cell(rows, "scenario", _TOTAL, years[0], "annual_cost_gbp")
    last = _year_cell(rows, "scenario", _TOTAL, years[-1], "annual_cost_gbp")
    base = _year_cell(rows, "baseline", _TOTAL, years[-1], "annual_cost_gbp")
    change = _year_cell(rows, "change", _TOTAL, years[-1], "annual_cost_gbp")
    if any(c.suppressed or c.value is None for c in (first, last, base, change)):
        shown = sum(
            not _year_cell(rows, "scenario", _TOTAL, y, "annual_cost_gbp").suppressed for y in years
        )
        return Paragraph(
            prose("mitigations", "years_hidden", scenario=scenario, shown=shown, years=len(years))
        )
    return Paragraph(
        prose(
            "mitigations",
            "years_summary",
            scenario=scenario,
            first_year=years[0],
            first_gbp=fmt_cell(first, with_range=False),
            last_year=years[-1],
            last_gbp=fmt_cell(last, with_range=False),
            last_range=fmt_range(last).replace("(", "(range ", 1),
            baseline_gbp=fmt_cell(base),
            change_gbp=fmt_cell(change),
        )
    )
