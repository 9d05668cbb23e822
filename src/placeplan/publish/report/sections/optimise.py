"""Report section: the capital programme (``placeplan optimise``): status, gap, curve, options.

An additive hook: the report composer may include :func:`section` when a programme study exists
(``ProgrammeTables`` from :func:`placeplan.publish.programme.programme_tables`, already through
disclosure control). It reads only those tables.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.programme import curve_svg
from placeplan.publish.report.model import Cell, Figure, Paragraph, Section, Table
from placeplan.publish.report.prose import prose
from placeplan.publish.report.sections.money import gbp_text, money

if TYPE_CHECKING:
    from placeplan.publish.programme import ProgrammeTables
    from placeplan.publish.report.model import Block

__all__ = ["section", "ties_and_budget"]


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
            row.append(money(Cell(None if hidden else value, fmt, hidden)))
        rows.append(tuple(row))
    return tuple(rows)


#: Short names of the objectives' units, for column headers.
_SHORT_UNIT = {
    "ooa_avoided": "pupil-years avoided",
    "net_saving_gbp": "£ net saving",
    "pupil_minutes": "pupil-minutes saved",
    "within_max_journey": "pupil-years within the maximum",
}
_YEAR = re.compile(r"(\d+ places), (\d{4})\)")


def _academic(text: str) -> str:
    """'x (8 places, 2027)' -> 'x (8 places, opens 2027/28)': the years the rest of the appendix
    uses (a base opens in September of its opening year)."""
    return _YEAR.sub(lambda m: f"{m[1]}, opens {m[2]}/{(int(m[2]) + 1) % 100:02d})", text)


def _headline(tables: ProgrammeTables) -> Paragraph:
    """The chosen programme in plain words: what it scores, what it costs, how sure it is."""
    from placeplan.publish.report.sections.money import gbp_text

    prog = tables.programme
    n = len(prog)
    places = int(pd.to_numeric(prog.get("places", pd.Series(dtype=float))).sum())
    capital = float(pd.to_numeric(prog.get("capital_gbp", pd.Series(dtype=float))).sum())
    budget = float(pd.to_numeric(tables.curve["budget_gbp"]).max()) if len(tables.curve) else 0.0
    savings = "c" if math.isnan(tables.savings) else f"{tables.savings:,.1f}"
    greedy = "c" if math.isnan(tables.greedy_savings) else f"{tables.greedy_savings:,.1f}"
    if not math.isfinite(tables.gap):
        sure = f"the solver ({tables.status}) could not bound how much better a programme could be"
    elif tables.gap <= 1e-9:
        sure = (
            f"the solver proved no programme within the budget scores more (status {tables.status})"
        )
    else:
        sure = (
            f"the solver stopped at its time limit (status {tables.status}): the best possible "
            f"programme could score up to {tables.gap:.1%} more"
        )
    return Paragraph(
        f"What the programme is judged on: {tables.unit} over the forecast years (doing nothing "
        f"scores 0). The best programme found opens {n} base{'s' if n != 1 else ''} "
        f"({places} places) for {gbp_text(capital)} of capital, out of a budget of "
        f"{gbp_text(budget)}, and scores {savings}; {sure}. A simple rule of thumb (build "
        f"the site with the best score per pound first, then the next) scores {greedy}."
    )


def ties_and_budget(tables: ProgrammeTables) -> str:
    """Say plainly when other programmes tie with the chosen one, and why budget is left.

    Parameters
    ----------
    tables
        The study's published tables.

    Returns
    -------
    str
        '' when nothing ties and the budget is spent (or the figures are suppressed).
    """
    alts = tables.alternatives
    best = tables.savings
    ties = 0
    if not math.isnan(best) and len(alts) and {"kind", "savings"} <= set(alts.columns):
        other = alts[alts["kind"].astype(str) == "alternative"]
        vals = pd.to_numeric(other["savings"], errors="coerce")
        ties = int((vals.sub(best).abs() <= 1e-9 * max(1.0, abs(best))).sum())
        listed = len(other)
    else:
        listed = 0
    prog = tables.programme
    capital = float(pd.to_numeric(prog.get("capital_gbp", pd.Series(dtype=float))).sum())
    budget = float(pd.to_numeric(tables.curve["budget_gbp"]).max()) if len(tables.curve) else 0.0
    left = budget - capital
    return prose(
        "optimise",
        "ties_and_budget",
        ties=ties,
        all_listed=ties > 0 and ties == listed,
        left=gbp_text(left) if left >= 1000 else "",
        proven=math.isfinite(tables.gap) and tables.gap <= 1e-9,
    )


def section(tables: ProgrammeTables, *, number: str = "") -> Section:
    """Build the capital programme section: headline, chosen bases, budget curve, alternatives.

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
    short = _SHORT_UNIT.get(tables.objective, "score")
    blocks: list[Block] = [_headline(tables)]
    plain = ties_and_budget(tables)
    if plain:
        blocks.append(Paragraph(plain))
    blocks.append(Paragraph(prose("optimise", "scenario_note")))
    if len(tables.programme):
        blocks.append(_programme_table(tables.programme, short))
    blocks += [
        Figure(
            "f-budget-curve",
            f"Budget curve: the best programme's score ({short}, up the side) at each capital "
            "budget (along the bottom, the total over the financial years); each step is a "
            "share of every year's budget. Where the bars stop rising, more capital buys little.",
            curve_svg(tables),
            "Bar chart of the best score at each budget step.",
        ),
        Table(
            "t-budget-curve",
            "Budget curve: the best programme at each budget, and what each extra £100k buys",
            (
                "Budget £",
                f"Best score ({short})",
                "Extra score per £100k more budget",
                "Capital spent £",
                "Sites",
                "Solver status",
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
            prose("optimise", "curve_note"),
        ),
        _alternatives_table(tables.alternatives, short),
    ]
    return Section("optimise", number, "Capital programme", tuple(blocks))


def _programme_table(prog: pd.DataFrame, short: str) -> Table:
    """The chosen programme: each base's size, opening year, capital and marginal value."""
    df = prog.copy()
    df["opens"] = [f"{int(y)}/{(int(y) + 1) % 100:02d}" for y in df["opening_year"]]
    df["site"] = [
        f"{n} ({sid})" if isinstance(n, str) and n else str(sid)
        for n, sid in zip(df.get("name", df["site_id"]), df["site_id"], strict=True)
    ]
    df.attrs = dict(prog.attrs)
    return Table(
        "t-programme",
        "The chosen programme: each base, its size, opening year and what it adds",
        (
            "Base (site reference)",
            "Need",
            "Phase",
            "Places",
            "Opens (academic year)",
            "Capital £",
            "Financial year",
            "Pupils placed (forecast years)",
            f"Lost without it ({short})",
        ),
        _cells(
            df,
            (
                ("site", "text"),
                ("needs", "text"),
                ("phases", "text"),
                ("places", "places"),
                ("opens", "text"),
                ("capital_gbp", "gbp"),
                ("financial_year", "text"),
                ("pupils_placed", "number"),
                ("marginal_value", "number"),
            ),
        ),
        prose("optimise", "programme_note"),
    )


def _gap_as_percent(curve: pd.DataFrame) -> pd.DataFrame:
    """The curve with its ``gap`` (a share; ``inf`` when nothing is saved) on the 0-100 scale,
    blank where not known; the disclosure mask (``attrs``) is kept."""
    out = curve.copy()
    if "gap" in out:
        gap = pd.to_numeric(out["gap"], errors="coerce") * 100.0
        out["gap"] = gap.where(np.isfinite(gap))
    out.attrs = dict(curve.attrs)
    return out


def _alternatives_table(alts: pd.DataFrame, short: str = "score") -> Table:
    """The best, alternative and greedy programmes; with a "Site ruled out" column when the
    alternatives are large models' (the best found with that chosen site kept closed)."""
    cols: list[tuple[str, str, str]] = [
        ("Rank", "rank", "text"),
        ("Kind", "kind_text", "text"),
        ("Site ruled out", "ruled_out_site", "text"),
        (f"Score ({short})", "savings", "number"),
        ("Share of best", "share_of_best", "score"),
        ("Capital £", "capital_gbp", "gbp"),
        ("Programme", "programme", "text"),
    ]
    alts = alts.copy()
    kinds = {
        "optimal": "best found",
        "alternative": "next best",
        "greedy heuristic": "rule of thumb",
    }
    alts["kind_text"] = [kinds.get(str(k), str(k)) for k in alts["kind"]]
    # by the sites' names where the table has them (a capital board cannot read site ids)
    named = alts.get("programme_names", alts["programme"])
    # one site to a line (the cell keeps the line breaks: t-alternatives in style.html.j2)
    alts["programme"] = [_academic(str(t)).replace("; ", "\n") for t in named]
    ruled = alts.get("ruled_out_site", pd.Series("", index=alts.index))
    alts["ruled_out_site"] = alts.get("ruled_out_name", ruled)
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
        prose("optimise", "alternatives_note"),
    )
