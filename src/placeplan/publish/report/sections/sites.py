"""Section 5: the candidate inclusion-base sites, the case for each, and the site map."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placeplan.compute.scoring import CRITERIA, DEFAULT_WEIGHTS
from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.escape import script_json
from placeplan.publish.report.context import basemap_areas, published_provision
from placeplan.publish.report.model import (
    Cell,
    Figure,
    MapFigure,
    Paragraph,
    Reweight,
    Section,
    Table,
)
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from collections.abc import Mapping

    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["CRITERION_LABELS", "published_criteria", "reweighted_ranking", "section"]

#: Short labels of the scoring criteria (``compute.scoring.CRITERIA`` keys) for the sliders.
CRITERION_LABELS: dict[str, str] = {
    "need": "Need in reach",
    "ooa": "Out-of-area avoidable",
    "time_saved": "Time saved",
    "cost": "Cost per place",
    "deprivation": "Deprivation",
    "spare_capacity": "Spare capacity",
    "rurality": "Rurality",
}
#: Criteria whose normalised value is derived from a pupil count: key -> the published raw
#: column whose suppression it follows (``time_saved_min`` follows ``pupils_benefiting``).
_COUNT_CRITERIA = {"need": "need_in_reach", "ooa": "ooa_avoidable", "time_saved": "time_saved_min"}


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
        crit = published_criteria(ctx.site_scores)
        if crit is not None:
            blocks.append(Paragraph(prose("sites", "reweight_intro")))
            blocks.append(_reweight_block(crit, sites, inputs.site_weights, threshold=th))
        m = maps.map_sites(
            sites,
            published_provision(inputs.provision),
            isochrones=inputs.isochrones,
            ooa_flows=ctx.flows,
            flow_origins=inputs.flow_origins,
            areas=basemap_areas(ctx.areas),
            **ctx.map_options,
        )
        sites_svg = _attach_print(m, inputs, ctx)
        blocks.append(MapFigure("m-sites", prose("sites", "map_caption"), maps.map_html(m)))
        blocks.append(
            Figure(
                "fs-sites",
                "Candidate inclusion-base sites by score, baseline (top) and with the proposals "
                "open and their drive-time catchments (bottom); proposed sites are the numbered "
                "stars, named in the legend.",
                sites_svg,
                "Two maps of candidate sites coloured by score, before and after, with catchments.",
            )
        )
    else:
        blocks.append(Paragraph(prose("sites", "no_sites")))
    return Section("sites", "5", "Site proposals", tuple(blocks))


def _attach_print(m: Any, inputs: ReportInputs, ctx: ReportContext) -> str:
    """What the site map's own page prints (the static sites figure, then the flows figure);
    returns the sites figure, which the report prints in place of the map."""
    from placeplan.publish.maps.static import (
        attach_print_figure,
        static_basemap,
        static_sites_flows,
    )
    from placeplan.publish.maps.static_sites import static_sites

    base = static_basemap(ctx.map_options)
    sites_svg = static_sites(
        ctx.sites,
        published_provision(inputs.provision),
        isochrones=inputs.isochrones,
        base=base,
        scenario_name=inputs.scenario_name,
    )
    attach_print_figure(m, sites_svg, name="sites")
    attach_print_figure(
        m,
        static_sites_flows(
            ctx.sites,
            published_provision(inputs.provision),
            flows=ctx.flows,
            flow_origins=inputs.flow_origins if inputs.flow_origins is not None else inputs.areas,
            base=base,
            scenario_name=inputs.scenario_name,
            threshold=ctx.threshold,
            fig_id="fs-sites-flows",
            destination_totals=ctx.ooa_settings,  # the register's one decision per setting
        ),
        name="flows",
    )
    return sites_svg


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
        "(rank 1 = highest score, among the candidates whose score is published)",
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


def published_criteria(scores: pd.DataFrame | None) -> pd.DataFrame | None:
    """The published normalised criteria per site, NaN where suppressed, for the sliders.

    Parameters
    ----------
    scores
        The published site scores (``site_scores`` of the run's
        :func:`placeplan.publish.register.release_run`: ``site_id``, the raw criteria,
        ``<key>_norm`` for every criterion with a weight, and their suppression mask).

    Returns
    -------
    pandas.DataFrame or None
        ``site_id`` and one column per criterion key (0-1, NaN = suppressed), in
        ``CRITERIA`` order; ``attrs["left_out"]`` lists criteria suppressed for every site.
        None when there are no normalised criteria.

    Notes
    -----
    A criterion derived from a count follows that count's suppression (``need`` the count
    in reach, ``ooa`` the avoidable placements, ``time_saved`` the pupils benefiting), as the
    register declares it. Count criteria are normalised as a share of the largest
    (:data:`placeplan.compute.scoring.CRITERIA`), so a published normalised value never gives
    back a suppressed count at the bottom of the range, as min-max scaling would.
    """
    if scores is None or scores.empty or "site_id" not in scores.columns:
        return None
    keys = [c.key for c in CRITERIA if f"{c.key}_norm" in scores.columns]
    if not keys:
        return None
    mask = suppression_mask(scores)
    out = pd.DataFrame({"site_id": scores["site_id"].astype(str).to_numpy()})
    left_out: list[str] = []
    for key in keys:
        norm = pd.to_numeric(scores[f"{key}_norm"], errors="coerce").to_numpy(dtype=float)
        col = f"{key}_norm" if f"{key}_norm" in mask.columns else _COUNT_CRITERIA.get(key)
        if col is not None and col in mask.columns:
            norm = np.where(mask[col].to_numpy(dtype=bool), np.nan, norm)
        if np.isnan(norm).all():
            left_out.append(key)
        out[key] = norm
    out.attrs["left_out"] = left_out
    return out


def reweighted_ranking(criteria: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Score and rank sites from published criteria, as the report's sliders do in the browser.

    Parameters
    ----------
    criteria
        :func:`published_criteria` output: ``site_id`` and one 0-1 column per criterion key
        (NaN = suppressed).
    weights
        Weight per criterion key (any scale, >= 0; keys absent or 0 are not used).

    Returns
    -------
    pandas.DataFrame
        ``site_id, score, rank, left_out`` best first: ``score`` is the weighted mean of the
        site's published criteria with a positive weight (a suppressed one is left out and the
        weights rescaled over the rest; NaN when none is left), rounded to 9 decimals;
        ``rank`` 1 = best, ties share the best rank; ties and NaN scores in ``site_id`` order.

    Examples
    --------
    >>> crit = pd.DataFrame({"site_id": ["a", "b"], "need": [1.0, 0.0], "cost": [0.0, 1.0]})
    >>> reweighted_ranking(crit, {"need": 1, "cost": 3})["site_id"].tolist()
    ['b', 'a']
    """
    keys = [k for k in criteria.columns if k != "site_id" and weights.get(k, 0) > 0]
    rows = []
    for _, r in criteria.iterrows():
        num = den = 0.0
        left = []
        for k in keys:
            v = r[k]
            if pd.isna(v):
                left.append(CRITERION_LABELS.get(k, k))
                continue
            num += float(weights[k]) * float(v)
            den += float(weights[k])
        score = round(num / den, 9) if den > 0 else np.nan
        rows.append((str(r["site_id"]), score, ", ".join(left)))
    out = pd.DataFrame(rows, columns=["site_id", "score", "left_out"])
    out["_key"] = out["score"].fillna(-1.0)
    out = out.sort_values(["_key", "site_id"], ascending=[False, True], kind="stable")
    out["rank"] = out["_key"].rank(method="min", ascending=False).astype(int)
    out.loc[out["score"].isna(), "rank"] = 0
    return out.drop(columns="_key").reset_index(drop=True)[["site_id", "score", "rank", "left_out"]]


def _slider_weights(keys: list[str], weights: Mapping[str, float] | None) -> dict[str, int]:
    """The plan's weights as slider positions 0-100 (shares of their total, rounded)."""
    w = {k: float((weights if weights else DEFAULT_WEIGHTS).get(k, 0.0)) for k in keys}
    total = sum(w.values())
    return {k: round(100 * v / total) if total > 0 else 0 for k, v in w.items()}


def _reweight_block(
    crit: pd.DataFrame,
    sites: pd.DataFrame,
    weights: Mapping[str, float] | None,
    *,
    threshold: int,
) -> Reweight:
    """The sliders and the table they re-rank, first drawn at the plan's weights."""
    keys = [k for k in crit.columns if k != "site_id"]
    start = _slider_weights(keys, weights)
    names = dict(
        zip(sites["site_id"].astype(str), sites.get("name", sites["site_id"]), strict=True)
    )
    ranked = reweighted_ranking(crit, start).set_index("site_id")
    order = ranked.index.tolist()
    by_id = crit.set_index("site_id")
    rows = []
    for sid in order:
        r = ranked.loc[sid]
        c = by_id.loc[sid]
        rows.append(
            (
                Cell("–" if r["rank"] == 0 else str(int(r["rank"]))),
                Cell(str(names.get(sid, sid)) or sid),
                *(
                    Cell(None if pd.isna(c[k]) else float(c[k]), "score", suppressed=pd.isna(c[k]))
                    for k in keys
                ),
                Cell(None if pd.isna(r["score"]) else float(r["score"]), "score"),
                Cell(str(r["left_out"])),
            )
        )
    data = {
        "criteria": [{"key": k, "label": CRITERION_LABELS.get(k, k)} for k in keys],
        "sites": [
            {
                "id": sid,
                "norm": {k: None if pd.isna(by_id.loc[sid, k]) else float(by_id.loc[sid, k])
                         for k in keys},
            }
            for sid in order
        ],
    }  # fmt: skip
    left_out = ", ".join(CRITERION_LABELS.get(k, k) for k in crit.attrs.get("left_out", []))
    return Reweight(
        "rw-sites",
        "Candidate sites re-ranked with the weights above (published criteria only)",
        tuple((k, CRITERION_LABELS.get(k, k), float(start[k])) for k in keys),
        ("Rank", "Site", *(CRITERION_LABELS.get(k, k) for k in keys), "Score", "Left out"),
        tuple(rows),
        tuple(order),
        script_json(data),
        note=prose("sites", "reweight_note", threshold=threshold, left_out=left_out),
    )
