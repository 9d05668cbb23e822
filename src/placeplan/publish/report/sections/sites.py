"""Section 5: the candidate inclusion-base sites, the case for each, and the site map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.report.context import basemap_areas, published_provision
from placeplan.publish.report.model import Cell, MapFigure, Paragraph, Section, Table
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 5: the sites table (selected first, then by score) and the site map."""
    from placeplan.publish import maps

    th = ctx.threshold
    sites = ctx.sites
    blocks: list[Block] = []
    if sites is not None and not sites.empty:
        blocks.append(
            _sites_table(
                sites,
                ctx.site_scores,
                threshold=th,
                reach_min=inputs.site_reach_min,
            )
        )
        m = maps.map_sites(
            sites,
            published_provision(inputs.provision),
            isochrones=inputs.isochrones,
            ooa_flows=ctx.flows,
            flow_origins=inputs.flow_origins,
            areas=basemap_areas(ctx.areas),
            **ctx.map_options,
        )
        blocks.append(MapFigure("m-sites", prose("sites", "map_caption"), maps.map_html(m)))
    else:
        blocks.append(Paragraph(prose("sites", "no_sites")))
    return Section("sites", "5", "Site proposals", tuple(blocks))


def _site_case(
    site: pd.Series,
    crit: pd.Series | None,
    crit_mask: pd.Series | None,
    *,
    threshold: int,
    reach_min: float | None,
) -> str:
    """One published line: the case for a site, from disclosure-controlled criteria only."""
    needs = str(site.get("needs", "") or "").replace(";", "/") or "any need"
    phases = str(site.get("phases", "") or "").replace(";", "/")
    who = f"{needs} ({phases})" if phases else needs
    if crit is None:
        return ""

    def num(col: str) -> tuple[bool, float | None]:
        """(suppressed, value) for a criterion; value None when absent or missing."""
        if col not in crit.index:
            return False, None
        sup = bool(crit_mask.get(col, False)) if crit_mask is not None else False
        v = crit[col]
        return sup, (None if pd.isna(v) else float(v))

    def pupils(n: float) -> str:
        k = round(n)
        return f"{k:,} pupil" + ("" if k == 1 else "s")

    parts: list[str] = []
    sup, v = num("need_in_reach")
    reach = f" within {reach_min:g} min" if reach_min else " within reach"
    if sup:
        parts.append(f"fewer than {threshold} pupils with {who}{reach}")
    elif v is not None:
        parts.append(f"{pupils(v)} with {who}{reach}")
    sup, v = num("ooa_avoidable")
    if sup:
        parts.append(f"could avoid fewer than {threshold} out-of-area placements")
    elif v is not None:
        parts.append(
            f"could avoid {round(v):,} out-of-area placement{'' if round(v) == 1 else 's'}"
            if v > 0
            else "no out-of-area placements to avoid within reach"
        )
    sup, v = num("time_saved_min")
    if not sup and v is not None and v > 0:
        parts.append(f"saves {v:.0f} min per journey on average")
    _, v = num("cost_per_place_gbp")
    if v is not None:
        money = f"£{v / 1e3:,.0f}k" if v >= 1e3 else f"£{v:,.0f}"
        parts.append(f"{money} capital per place")
    _, v = num("imd_decile")
    if v is not None:
        parts.append(f"IMD decile {v:.0f}")
    _, v = num("spare_places")
    if v is not None:
        parts.append(
            f"host school has {v:,.0f} spare places"
            if v >= 0
            else f"host school is {-v:,.0f} over capacity"
        )
    _, v = num("rural")
    if v is not None:
        parts.append("rural" if v >= 0.5 else "urban")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _sites_table(
    sites: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    *,
    threshold: int = 5,
    reach_min: float | None = None,
) -> Table:
    """The sites table; each row carries a published one-line case for the site."""
    mask = suppression_mask(sites)
    s = sites.copy()
    s["_sel"] = s.get("selected", False)
    s["_score"] = pd.to_numeric(s.get("score", np.nan), errors="coerce")
    s = s.sort_values(
        ["_sel", "_score", "site_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    crit_by_id: dict[str, tuple[pd.Series, pd.Series | None]] = {}
    if scores is not None:
        cmask = suppression_mask(scores)
        for idx, r in scores.iterrows():
            # pandas-stubs types iterrows labels as Hashable, which .loc does not accept
            row_mask = cmask.loc[idx] if len(cmask.columns) else None  # type: ignore[call-overload]
            crit_by_id[str(r["site_id"])] = (r, row_mask)
    rows = []
    notes = []
    for idx, r in s.iterrows():
        sid = str(r["site_id"])
        crit, cmask_row = crit_by_id.get(sid, (None, None))
        site_mask = mask.loc[idx] if len(mask.columns) else None  # type: ignore[call-overload]
        rows.append(_site_row(r, site_mask, crit))
        case = _site_case(r, crit, cmask_row, threshold=threshold, reach_min=reach_min)
        notes.append(f"{sid} — {case}" if case else sid)
    return Table(
        "t-sites",
        "Candidate inclusion-base sites: those selected in this scenario first, then by score "
        "(rank 1 = highest score of all candidates)",
        (
            "Rank (range)",
            "Site",
            "Need",
            "Phase",
            "Places",
            "Capital cost",
            "Score",
            "Selected",
            "Pupils served",
            "Mean time saved",
        ),
        tuple(rows),
        note=prose("sites", "table_note"),
        row_notes=tuple(notes),
    )


def _site_row(r: pd.Series, row_mask: pd.Series | None, crit: pd.Series | None) -> tuple[Cell, ...]:
    """One row of the sites table (``row_mask``: the site's suppression flags)."""

    def cnum(col: str, fmt: str) -> Cell:
        v = r.get(col, np.nan)
        sup = bool(row_mask[col]) if row_mask is not None and col in row_mask.index else False
        return Cell(None if pd.isna(v) else float(v), fmt, suppressed=sup)

    sid = str(r["site_id"])
    rank_hidden = row_mask is not None and bool(row_mask.get("rank", False))
    rank = r.get("rank", np.nan)
    if (rank is None or pd.isna(rank)) and crit is not None and "rank" in crit.index:
        rank = crit["rank"]
    rank_range = ""
    if crit is not None and {"min_rank", "max_rank"} <= set(crit.index):
        lo, hi = crit["min_rank"], crit["max_rank"]
        if not (pd.isna(lo) or pd.isna(hi)) and (int(lo), int(hi)) != (int(rank), int(rank)):
            rank_range = f" ({int(lo)}–{int(hi)})"
    return (
        Cell(None, "text", suppressed=True)
        if rank_hidden
        else Cell("–" if rank is None or pd.isna(rank) else f"{int(rank)}{rank_range}"),
        Cell(str(r.get("name", "")) or sid),
        Cell(str(r.get("needs", "") or "any").replace(";", ", ")),
        Cell(str(r.get("phases", "") or "").replace(";", ", ")),
        cnum("places", "places"),
        cnum("capital_cost_gbp", "gbp"),
        cnum("score", "score"),
        Cell("yes" if bool(r["_sel"]) else "no"),
        cnum("pupils_served", "count"),
        cnum("mean_time_saved_min", "minutes"),
    )
