"""Section 4 (DfE element): travel related mitigations for the pupils whose journey changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.report.impact import metric_table
from placeplan.publish.report.model import DFE_ELEMENTS, Cell, Paragraph, Section, Table
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 4: who is worse off or moved, and the mitigation offered to each group."""
    imp = ctx.impact
    blocks: list[Block] = [Paragraph(prose("mitigations", "intro"))]
    if imp.has("worse_off_n"):
        blocks.append(
            metric_table(
                imp, "t-worse-off", "Pupils whose journey gets longer", ["worse_off_n", "moved_n"]
            )
        )
    mitig = ctx.mitigations
    if mitig is not None and not mitig.empty:
        blocks.append(_mitigation_table(mitig))
    return Section("mitigations", "4", DFE_ELEMENTS[3][1], tuple(blocks), True)


def _mitigation_table(mitig: pd.DataFrame) -> Table:
    mask = suppression_mask(mitig)
    extra = [c for c in ("need_type", "phase") if c in mitig.columns]
    rows = []
    for idx, r in mitig.iterrows():
        v = r["pupils"]
        s = bool(mask.at[idx, "pupils"]) if "pupils" in mask.columns else False
        rows.append(
            (
                Cell(str(r["group"])),
                *(Cell("" if pd.isna(r[c]) else str(r[c])) for c in extra),
                Cell(None if pd.isna(v) else float(v), "count", suppressed=s),
                Cell(str(r["mitigation"])),
            )
        )
    header = (
        "Group",
        *(c.replace("_", " ").capitalize() for c in extra),
        "Pupils",
        "Mitigation offered",
    )
    return Table("t-mitigations", "Travel related mitigations by group", header, tuple(rows))
