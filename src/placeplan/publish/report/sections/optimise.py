"""Report section: the capital programme (``placeplan optimise``): status, gap, curve, options.

An additive hook: the report composer may include :func:`section` when a programme study exists
(``ProgrammeTables`` from :func:`placeplan.publish.programme.programme_tables`, already through
disclosure control). It reads only those tables.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.programme import curve_svg
from placeplan.publish.report.model import Cell, Figure, Paragraph, Section, Table

if TYPE_CHECKING:
    from placeplan.publish.programme import ProgrammeTables
    from placeplan.publish.report.model import Block

__all__ = ["section"]


def _cells(df: pd.DataFrame, spec: tuple[tuple[str, str], ...]) -> tuple[tuple[Cell, ...], ...]:
    mask = suppression_mask(df)
    rows = []
    for i in range(len(df)):
        row = []
        for col, fmt in spec:
            value = df[col].iloc[i]
            hidden = bool(mask[col].iloc[i]) if col in mask else False
            if value is not None and not isinstance(value, str) and bool(pd.isna(value)):
                value = None
            row.append(Cell(None if hidden else value, fmt, hidden))
        rows.append(tuple(row))
    return tuple(rows)


def section(tables: ProgrammeTables, *, number: str = "") -> Section:
    """Build the capital programme section: headline, budget curve and alternatives.

    Parameters
    ----------
    tables
        The study's published tables (after disclosure control).
    number
        Section number as the composer numbers it.

    Returns
    -------
    Section
        ``id="optimise"``.
    """
    gap = "not known" if not math.isfinite(tables.gap) else f"{tables.gap:.2%}"
    savings = "c" if math.isnan(tables.savings) else f"{tables.savings:,.1f}"
    greedy = "c" if math.isnan(tables.greedy_savings) else f"{tables.greedy_savings:,.1f}"
    blocks: list[Block] = [
        Paragraph(
            f"Objective: {tables.unit} (doing nothing scores 0). The chosen programme achieves "
            f"{savings}; solver status {tables.status}, gap on savings {gap} (the proven bound "
            "minus the savings, over the savings). A greedy heuristic (best savings per pound "
            f"first) achieves {greedy}."
        ),
        Figure(
            "f-budget-curve",
            "Budget curve: the best programme's savings at each share of the capital budget",
            curve_svg(tables),
            "Bar chart of the best savings at each budget step.",
        ),
        Table(
            "t-budget-curve",
            "Budget curve and the marginal value of £100k",
            (
                "Budget £",
                "Savings",
                "Marginal per £100k",
                "Capital spent £",
                "Sites",
                "Status",
                "Gap on savings",
            ),
            _cells(
                _gap_as_percent(tables.curve),
                (
                    ("budget_gbp", "gbp"),
                    ("savings", "number"),
                    ("marginal_per_100k_gbp", "number"),
                    ("capital_gbp", "gbp"),
                    ("sites", "count"),
                    ("status", "text"),
                    ("gap", "percent"),
                ),
            ),
        ),
        _alternatives_table(tables.alternatives),
    ]
    return Section("optimise", number, "Capital programme", tuple(blocks))


def _gap_as_percent(curve: pd.DataFrame) -> pd.DataFrame:
    """The curve with its ``gap`` (a share; ``inf`` when nothing is saved) on the 0-100 scale,
    blank where not known; the disclosure mask (``attrs``) is kept."""
    out = curve.copy()
    if "gap" in out:
        gap = pd.to_numeric(out["gap"], errors="coerce") * 100.0
        out["gap"] = gap.where(np.isfinite(gap))
    out.attrs = dict(curve.attrs)
    return out


def _alternatives_table(alts: pd.DataFrame) -> Table:
    """The best, alternative and greedy programmes; with a "Site ruled out" column when the
    alternatives are large models' (the best found with that chosen site kept closed)."""
    cols: list[tuple[str, str, str]] = [
        ("Rank", "rank", "text"),
        ("Kind", "kind", "text"),
        ("Site ruled out", "ruled_out_site", "text"),
        ("Savings", "savings", "number"),
        ("Share of best", "share_of_best", "score"),
        ("Capital £", "capital_gbp", "gbp"),
        ("Programme", "programme", "text"),
    ]
    ruled = alts.get("ruled_out_site", pd.Series("", index=alts.index))
    large = bool(ruled.fillna("").astype(str).str.len().any())
    if not large:
        cols = [c for c in cols if c[1] != "ruled_out_site"]
    caption = (
        "The best programme, and the best found with one of its sites ruled out (a large "
        "model: found by heuristic, not a proven ranking; blank: none ruled out)"
        if large
        else "The best programme and the next-best distinct sets of sites"
    )
    return Table(
        "t-alternatives",
        caption,
        tuple(c[0] for c in cols),
        _cells(alts, tuple((c[1], c[2]) for c in cols)),
    )
