"""Section 4 (DfE element): travel related mitigations, from the plan's ``[[mitigation]]`` rules.

Each rule says who it is for, what is offered and what it costs per pupil a year; rules apply in
order and each pupil gets the first that matches. The table shows, for the programme, how many
pupils each rule covers and the annual cost (counts and £ disclosure-controlled together), and
says whether each rule is the plan's own or a package default.
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
    blocks: list[Block] = [
        Paragraph(
            prose(
                "mitigations",
                "intro",
                from_plan="plan" in sources,
                defaults="default" in sources,
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
        rows.append(
            (
                Cell(str(r["rule"])),
                Cell(str(r.get("who", ""))),
                Cell(WHAT.get(str(r.get("what", "")), str(r.get("what", "")))),
                Cell(source),
                Cell(r.get("cost_gbp_per_pupil_year"), "gbp"),
                Cell(None if pd.isna(n) else float(n), "count", suppressed=s_n),
                Cell(None if gbp is None or pd.isna(gbp) else float(gbp), "gbp", suppressed=s_gbp),
            )
        )
        notes.append(str(r.get("description", "")))
    header = ("Rule", "Who", "What", "Source", "£ per pupil a year", "Pupils", "£ a year")
    note = prose("mitigations", "table_note", threshold=threshold)
    if not hidden:
        note += " " + prose(
            "mitigations", "total", pupils=f"{total_n:,.0f}", gbp=f"£{total_gbp:,.0f}"
        )
    return Table(
        "t-mitigations",
        "Travel mitigation rules, in priority order, applied to the programme (today's cohort "
        "with every proposal open: the snapshot)",
        header,
        tuple(rows),
        note,
        row_notes=tuple(notes),
    )
