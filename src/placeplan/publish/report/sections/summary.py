"""The title block: headline figures and the one-line summary of the proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.report.model import Cell, Headline
from placeplan.publish.report.sections.money import money

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext

__all__ = ["headlines", "scenario_summary"]

_HEADLINES = (
    ("Mean travel distance (each way)", "mean_distance_miles"),
    ("Mean journey time (each way)", "mean_time_min"),
    ("Pupils over the reasonable maximum journey", "over_threshold_n"),
    ("Out of area placements", "ooa_placements"),
)


def headlines(ctx: ReportContext) -> tuple[Headline, ...]:
    """The summary box: distance, time, pupils over the maximum, OOA placements and cost.

    Each headline is published only when its metric is in the impact table; the cost headline
    adds placement and transport cost and is suppressed if either part is.
    """
    imp, all_g = ctx.impact, ctx.all_group
    out = [
        Headline(label, c, b, s)
        for label, metric in _HEADLINES
        if imp.has(metric)
        for b, s, c in (imp.row("all", all_g, metric),)
    ]
    if imp.has("annual_placement_cost_gbp") and imp.has("annual_transport_cost_gbp"):
        cells = [
            imp.row("all", all_g, m)
            for m in ("annual_placement_cost_gbp", "annual_transport_cost_gbp")
        ]
        tot = []
        for k in range(3):
            vals = [money(c[k]) for c in cells]  # the parts as the tables show them
            if any(v.suppressed for v in vals):
                tot.append(Cell(None, "gbp_k", suppressed=True, signed=k == 2))
            elif any(v.value is None for v in vals):
                tot.append(Cell(None, "gbp_k", signed=k == 2))
            else:  # the sum of the shown parts, so the parts add up to it
                tot.append(money(Cell(sum(v.value for v in vals), "gbp_k", signed=k == 2)))
        out.append(Headline("Annual placement + transport cost", tot[2], tot[0], tot[1]))
    return tuple(out)


def _openings(proposals: object) -> str:
    """'; opening 2027/28 (3 bases) and 2028/29 (1 base)' from the proposals ('' without)."""
    info = getattr(proposals, "info", None)
    if info is None or info.empty or "opening_year" not in info.columns:
        return ""
    counts = pd.to_numeric(info["opening_year"], errors="coerce").dropna().astype(int)
    parts = [
        f"{y}/{(y + 1) % 100:02d} ({n} base{'s' if n != 1 else ''})"
        for y, n in sorted(counts.value_counts().items())
    ]
    return "; opening " + " and ".join(parts) if parts else ""


def scenario_summary(sites: pd.DataFrame | None, proposals: object = None) -> str:
    """'4 new inclusion bases: 50 places, £2.40m capital' from the selected sites (with the
    opening years of ``proposals``, a :class:`~placeplan.publish.report.sections.proposals.
    ProposalInputs`, when given)."""
    if sites is None or sites.empty or "selected" not in sites.columns:
        return ""
    sel = sites[sites["selected"].fillna(False).astype(bool)]
    if sel.empty:
        return "No new inclusion bases are opened in this scenario."
    from placeplan.publish.report.sections.money import gbp_text

    n = len(sel)
    text = f"{n} new inclusion base{'s' if n != 1 else ''}"
    if "places" in sel.columns:
        text += f", {int(pd.to_numeric(sel['places'], errors='coerce').sum()):,} places"
    if "capital_cost_gbp" in sel.columns:
        cap = float(pd.to_numeric(sel["capital_cost_gbp"], errors="coerce").sum())
        text += f", {gbp_text(cap)} capital"
    text += _openings(proposals)
    if "name" in sel.columns:
        text += ": " + "; ".join(sorted(str(x) for x in sel["name"]))
    return text + "."
