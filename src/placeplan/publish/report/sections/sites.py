"""Section 5: the candidate inclusion-base sites, the case for each, and the site map."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placeplan.compute.scoring import CRITERIA, DEFAULT_WEIGHTS
from placeplan.publish.disclosure import Published, mask_columns, suppression_mask
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
from placeplan.publish.report.sections.money import money
from placeplan.publish.site_ranges import (
    RANGE_COLUMNS,
    criterion_bounds,
    range_order,
    score_ranges,
)

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
        crit = published_criteria(ctx.site_scores, threshold=th, round_to=ctx.round_to)
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
    # ooa_avoidable: pupils now out of area OR in independent / non-maintained special schools,
    # of its need and phase within reach, capped at its places (compute.scoring); not the
    # out-of-area count alone, so the words say both
    ooa = "out-of-area or independent placements it could take, up to its places"
    if sup:
        parts.append(f"{ooa}: fewer than {threshold}")
    elif v is not None:
        parts.append(f"{ooa}: {round(v):,}" if v > 0 else f"{ooa}: none within reach")
    # time_saved_min: a potential (its places filled by the pupils in reach who would gain
    # most), not the table's "mean time saved" of the pupils this scenario moves there
    sup, v = num("time_saved_min")
    if not sup and v is not None and v > 0:
        parts.append(
            f"if filled by the pupils in reach who would gain most, {v:.0f} min shorter per "
            "journey on average"
        )
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
    keys = ["_sel", "_score", "site_id"]
    if scores is not None and set(RANGE_COLUMNS) <= set(scores.columns):
        # by the rank interval among all candidates (published cells only), as the sliders
        by = scores.assign(site_id=scores["site_id"].astype(str)).set_index("site_id")
        ids = s["site_id"].astype(str)
        s["_best"] = ids.map(by["rank_best"]).astype(float)
        s["_worst"] = ids.map(by["rank_worst"]).astype(float)
        s["_score"] = ids.map(by["score_high"]).astype(float)
        keys = ["_sel", "_best", "_worst", "_score", "site_id"]
    s = s.sort_values(
        keys,
        ascending=[k in ("_best", "_worst", "site_id") for k in keys],
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
        "Candidate inclusion-base sites: those selected in this scenario first, then by rank "
        "(1 = highest score; a range where a criterion is suppressed)",
        (
            "Rank",
            "Site",
            "Need",
            "Phase",
            "Places",
            "Capital cost",
            "Score",
            "Selected",
            "Pupils it takes in this scenario",
            "Their mean time saved",
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
    ranged = crit is not None and set(RANGE_COLUMNS) <= set(crit.index)
    if ranged and crit is not None and not pd.isna(crit["score_low"]):
        # the interval among all candidates, from published cells (exact where nothing is hidden)
        rank_cell = Cell(_rank_text(crit))
        score_cell = _interval(float(crit["score_low"]), float(crit["score_high"]))
    else:
        rank_hidden = row_mask is not None and bool(row_mask.get("rank", False))
        rank = r.get("rank", np.nan)
        if (rank is None or pd.isna(rank)) and crit is not None and "rank" in crit.index:
            rank = crit["rank"]
        rank_cell = (
            Cell(None, "text", suppressed=True)
            if rank_hidden
            # x (not applicable), as the key under the table says, not a bare dash
            else Cell(None, "places")
            if rank is None or pd.isna(rank)
            else Cell(f"{int(rank)}")
        )
        score_cell = cnum("score", "score")
    return (
        rank_cell,
        Cell(str(r.get("name", "")) or sid),
        Cell(str(r.get("needs", "") or "any").replace(";", ", ")),
        Cell(str(r.get("phases", "") or "").replace(";", ", ")),
        cnum("places", "places"),
        money(cnum("capital_cost_gbp", "gbp")),
        score_cell,
        Cell("yes" if bool(r["_sel"]) else "no"),
        cnum("pupils_served", "count"),
        cnum("mean_time_saved_min", "minutes"),
    )


def published_criteria(
    scores: pd.DataFrame | None, *, threshold: int = 5, round_to: int = 0
) -> pd.DataFrame | None:
    """Per site, the interval each normalised criterion is known to lie in, for the sliders.

    Parameters
    ----------
    scores
        The published site scores (``site_scores`` of the run's
        :func:`placeplan.publish.register.release_run` as a frame: ``site_id``, the raw
        criteria, ``<key>_norm`` for every criterion with a weight, and their suppression mask).
    threshold, round_to
        The plan's disclosure settings.

    Returns
    -------
    pandas.DataFrame or None
        :func:`placeplan.publish.site_ranges.criterion_bounds`: ``site_id`` and ``<key>_low``,
        ``<key>_high`` per criterion (equal where published); ``attrs["keys"]`` lists the keys
        in ``CRITERIA`` order. None when there are no normalised criteria.

    Notes
    -----
    Built from the published cells only: a suppressed count is known to lie in
    ``1 .. threshold - 1``, so its normalised value (a share of the largest count) lies in an
    interval (see :mod:`placeplan.publish.site_ranges`).
    """
    if scores is None or scores.empty or "site_id" not in scores.columns:
        return None
    if not any(f"{c.key}_norm" in scores.columns for c in CRITERIA):
        return None
    mask = suppression_mask(scores)
    pub = Published(scores.drop(columns=mask_columns(scores)), mask)
    return criterion_bounds(pub, threshold=threshold, round_to=round_to)


def reweighted_ranking(criteria: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Score and rank intervals from published criteria, as the report's sliders compute them.

    Parameters
    ----------
    criteria
        :func:`published_criteria` output.
    weights
        Weight per criterion key (any scale, >= 0; keys absent or 0 are not used).

    Returns
    -------
    pandas.DataFrame
        ``site_id, score_low, score_high, rank_best, rank_worst`` in the sliders' order (best
        rank, worst rank, highest score, ``site_id``): the weighted mean of the criteria's
        lower (upper) ends, rounded to 9 decimals, and the best (worst) rank those allow; NaN
        scores when no weight is positive.

    Examples
    --------
    >>> crit = pd.DataFrame({"site_id": ["a", "b"], "need_low": [1.0, 0.0],
    ...     "need_high": [1.0, 0.0], "cost_low": [0.0, 1.0], "cost_high": [0.0, 1.0]})
    >>> crit.attrs["keys"] = ["need", "cost"]
    >>> reweighted_ranking(crit, {"need": 1, "cost": 3})["site_id"].tolist()
    ['b', 'a']
    """
    ranges = score_ranges(criteria, weights)
    order = range_order(ranges)
    return ranges.set_index("site_id").loc[order].reset_index()


def _interval(low: float, high: float) -> Cell:
    """A 0-1 value or interval cell ("0.41–0.47"; one value when both ends show the same)."""
    if pd.isna(low):
        return Cell(None, "score")
    a, b = f"{low:.2f}", f"{high:.2f}"
    return Cell(float(low), "score") if a == b else Cell(f"{a}–{b}")


def _rank_text(r: pd.Series) -> str:
    """ "3", or "3–6" when the rank lies in a range."""
    best, worst = int(r["rank_best"]), int(r["rank_worst"])
    return str(best) if best == worst else f"{best}–{worst}"


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
    keys = list(crit.attrs.get("keys", []))
    start = _slider_weights(keys, weights)
    names = dict(
        zip(sites["site_id"].astype(str), sites.get("name", sites["site_id"]), strict=True)
    )
    ranked = reweighted_ranking(crit, start).set_index("site_id")
    order = ranked.index.tolist()
    by_id = crit.set_index("site_id")
    rows = []
    for sid in order:
        r, c = ranked.loc[sid], by_id.loc[sid]
        rows.append(
            (
                Cell("–" if pd.isna(r["score_low"]) else _rank_text(r)),
                Cell(str(names.get(sid, sid)) or sid),
                *(_interval(c[f"{k}_low"], c[f"{k}_high"]) for k in keys),
                _interval(r["score_low"], r["score_high"]),
            )
        )
    data = {
        "criteria": [{"key": k, "label": CRITERION_LABELS.get(k, k)} for k in keys],
        "sites": [
            {
                "id": sid,
                "low": {k: float(by_id.loc[sid, f"{k}_low"]) for k in keys},
                "high": {k: float(by_id.loc[sid, f"{k}_high"]) for k in keys},
            }
            for sid in order
        ],
    }
    return Reweight(
        "rw-sites",
        "Candidate sites re-ranked with the weights above (published criteria only)",
        tuple((k, CRITERION_LABELS.get(k, k), float(start[k])) for k in keys),
        ("Rank", "Site", *(CRITERION_LABELS.get(k, k) for k in keys), "Score"),
        tuple(rows),
        tuple(order),
        script_json(data),
        note=prose("sites", "reweight_note", threshold=threshold),
    )
