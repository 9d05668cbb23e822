"""Section 7: method and assumptions — parameters, assumptions, row accounting, the plan file.

The parameter rows and assumption sentences themselves are written from the plan by
:mod:`placeplan.publish.report.method` and arrive on
:class:`~placeplan.publish.report.model.ReportInputs`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.disclosure import suppress, suppression_mask
from placeplan.publish.report.model import (
    BulletList,
    Cell,
    Paragraph,
    Preformatted,
    Section,
    Table,
)
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section", "sen2_blocks"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 7: the method, its parameters and assumptions, and where the rows went."""
    blocks: list[Block] = [Paragraph(prose("method", "intro"))]
    if inputs.parameters:
        blocks.append(
            Table(
                "t-parameters",
                "Parameters",
                ("Parameter", "Value", "Basis"),
                tuple(tuple(Cell(str(x)) for x in row) for row in _unique_parameters(inputs)),
            )
        )
    if inputs.assumptions:
        blocks.append(BulletList(tuple(inputs.assumptions)))
    rows_acc = ctx.row_accounting
    if rows_acc is not None and not rows_acc.empty:
        blocks.append(_row_accounting_table(rows_acc))
    if inputs.sen2_check is not None and not inputs.sen2_check.empty:
        blocks += sen2_blocks(inputs, ctx)
    if inputs.plan_toml:
        blocks.append(
            Preformatted(f"Plan file ({inputs.plan_file_name}) used for this run", inputs.plan_toml)
        )
    return Section("method", "7", "Method and assumptions", tuple(blocks))


def _unique_parameters(inputs: ReportInputs) -> list[tuple[str, str, str]]:
    """Parameters without repeats of the same name (the first statement wins)."""
    seen: set[str] = set()
    out = []
    for row in inputs.parameters:
        if row[0] in seen:
            continue
        seen.add(row[0])
        out.append(row)
    return out


def _row_accounting_table(rows_acc: pd.DataFrame) -> Table:
    mask = suppression_mask(rows_acc)
    rows = []
    for idx, r in rows_acc.iterrows():
        cells = [Cell(str(r["file"]))]
        for col in ("rows_read", "rows_used", "rows_rejected"):
            v = r[col]
            sup = bool(mask.at[idx, col]) if col in mask.columns else False
            cells.append(Cell(None if pd.isna(v) else float(v), "rows", suppressed=sup))
        rows.append(tuple(cells))
    return Table(
        "t-rows",
        "Data-row accounting: nothing is dropped silently",
        ("Input file", "Rows read", "Rows used", "Rows rejected"),
        tuple(rows),
    )


#: SEN2 rows whose cohort count the appendix publishes elsewhere (independent and non-maintained
#: placements, by setting and in total; the cohort's total): hiding one of them protects nothing.
_PUBLISHED_ELSEWHERE = re.compile(r"independent|non-maintained|^total", re.IGNORECASE)


def _complement_not_published_elsewhere(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The cells to hide with a lone small count of a kind, chosen among rows published nowhere
    else.

    A kind of row (need, placement) adds up to a published total, so a lone small count needs a
    second hidden cell. Left to itself the suppressor hides the smallest other count, which for
    the placement rows was the independent special schools' count: a figure the out-of-area
    section publishes (by setting, and as independent and non-maintained minus non-maintained),
    so the hidden small count could be worked out. The complement is forced here onto the
    smallest positive count of that kind that no other table publishes.

    Parameters
    ----------
    df
        The SEN2 check (``measure, kind, cohort, ...``).
    threshold
        Smallest count that may be published.

    Returns
    -------
    pandas.DataFrame
        Boolean ``cohort`` column: the complementary cells to hide.
    """
    force = pd.DataFrame({"cohort": False}, index=df.index)
    if "kind" not in df.columns:
        return force
    n = pd.to_numeric(df["cohort"], errors="coerce")
    elsewhere = df["measure"].astype(str).str.contains(_PUBLISHED_ELSEWHERE)
    for _, idx in df.groupby("kind", sort=False).groups.items():
        vals = n.loc[idx]
        small = (vals > 0) & (vals < threshold)
        if int(small.sum()) != 1:
            continue
        free = vals[~small & (vals > 0) & ~elsewhere.loc[idx]]
        if not free.empty:
            force.loc[free.idxmin(), "cohort"] = True
    return force


def _published_elsewhere(ctx: ReportContext, cohort: object) -> bool:
    """Whether the impact table publishes this out-of-area count already (the baseline's
    out-of-area placements, unsuppressed and equal): hiding it here would protect nothing and
    only make the appendix disagree with itself ("c" here, the number everywhere else)."""
    value = pd.to_numeric(pd.Series([cohort]), errors="coerce").iloc[0]
    if not ctx.impact.has("ooa_placements") or pd.isna(value):
        return False
    cell = ctx.impact.cell("all", ctx.all_group, "ooa_placements", "baseline")
    return not cell.suppressed and cell.value is not None and float(cell.value) == float(value)


def sen2_blocks(inputs: ReportInputs, ctx: ReportContext) -> list[Block]:
    """The cohort's baseline beside the published SEN2 figures, with the difference.

    Cohort counts are suppressed (primary under the threshold, secondary within each kind of
    row, whose rows add up to a published total) and each difference with its count; the
    published SEN2 figures are shown as the DfE published them.
    """
    check = inputs.sen2_check
    assert check is not None
    df = check.reset_index(drop=True)
    pub = suppress(
        df,
        count_cols=["cohort"],
        dependent_cols={"difference": ["cohort"]},
        group_cols=["kind"],
        threshold=ctx.threshold,
        round_to=ctx.round_to,
        mode=ctx.mode,
        force=_complement_not_published_elsewhere(df, ctx.threshold),
    )
    mask = suppression_mask(pub)
    kinds = pub["kind"].astype(str) if "kind" in pub.columns else pd.Series("", index=pub.index)
    # out of area is a sum of placement types (those with no in-area setting): once any
    # placement count is hidden, hide it too, or it could give the hidden count back
    hide_location = "cohort" in mask.columns and bool(
        mask.loc[kinds == "placement", "cohort"].any()
    )
    rows = []
    for idx, r in pub.iterrows():
        cells = [Cell(str(r["measure"]))]
        for col, signed in (("cohort", False), ("published", False), ("difference", True)):
            v = r[col]
            sup = bool(mask.at[idx, col]) if col in mask.columns else False
            if col != "published" and hide_location and kinds.at[idx] == "location":
                sup = sup or not _published_elsewhere(ctx, r["cohort"])
            cells.append(
                Cell(None if pd.isna(v) else float(v), "count", suppressed=sup, signed=signed)
            )
        rows.append(tuple(cells))
    from placeplan.publish.report.context import academic_year, plan_facts

    period = str(df["time_period"].iloc[0])
    year = f"{period[:4]}/{period[4:]}" if len(period) == 6 else period
    facts = plan_facts(inputs.plan_toml)
    census_year = "" if facts.census_year is None else academic_year(facts.census_year)
    return [
        Paragraph(
            prose(
                "method",
                "sen2_intro",
                authority=inputs.authority,
                year=year,
                synthetic=inputs.synthetic_data,
                census=facts.census_phrase(census_year) if census_year else "",
                census_year=census_year,
            )
        ),
        Table(
            "t-sen2",
            f"The baseline cohort beside the published SEN2 figures (SEN2 {year})",
            ("SEN2 measure", "Cohort (baseline)", "SEN2 published", "Difference"),
            tuple(rows),
            note=prose("method", "sen2_note", threshold=ctx.threshold),
        ),
    ]
