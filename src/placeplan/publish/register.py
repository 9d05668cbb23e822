"""The register of published tables: every table a run publishes, declared once, suppressed once.

Each entry of :data:`REGISTER` is a :class:`Declaration`: the table's count columns, the
statistics computed from them (means, shares, normalised scores, contributions, totals), the
groupings whose members add up to a published total (secondary suppression), and which outputs
carry it. :func:`release_run` suppresses every table of a run **once** and returns
:class:`Release` objects holding :class:`~placeplan.publish.disclosure.Published` values with an
explicit mask; the report (through :func:`~placeplan.publish.report.context.build_context`),
``impact.csv``, ``flows.csv``, ``mitigations.csv``, ``site_scores.csv``, the GeoPackage layers
and the map popups all read those objects, so one quantity has one suppression decision.

Across tables (:func:`release_run`):

* the **impact tables** of every scenario and proposal are decided together
  (:mod:`placeplan.publish.impact_release`: the baseline is one table; few movers pair a
  count's baseline and scenario; a proposal's change is hidden where the programme's is);
* the **base year of the flow table** and the **impact baseline** publish the same quantities
  (out-of-area and independent / non-maintained placements at the census) when their values
  agree: a cell hidden in one is hidden in the other (``hide`` / ``force``), with secondary
  suppression in both;
* the **LSOA layer** adds up to the impact table's planning areas and to all pupils: those
  totals join its secondary suppression (hidden where the impact table hides them); only movers
  change journey, so an area's scenario mean less its baseline mean, times its pupils, is its
  movers' total change (one child's own change where one moved): the scenario mean is hidden
  with the area's count of movers (``moved``: suppressed like a count, joined by the impact
  table's ``moved_n`` as its totals, never published);
* a **site's score** is the sum of its weighted criteria and each normalised criterion is affine
  in its count, so a hidden count hides its normalised value, its contribution and the site's
  score — in ``site_scores.csv``, the candidate-site layer, the report's site table and the map;
  published **ranks** count only the sites whose score is published (those listed first), so no
  gap or position places a hidden score between two published ones; every site also gets the
  interval its score and its rank among all candidates lie in (``score_low``, ``score_high``,
  ``rank_best``, ``rank_worst``), computed from the published cells alone
  (:mod:`placeplan.publish.site_ranges`); the mean minutes saved is hidden for every site when
  the largest is hidden (the others' minutes over their normalised values would give it back);
* **today's mitigation levels** (``mitigations.csv``, the proposal pages) are decided once with
  all the scenario's impact tables, and the year-by-year census year hides what they hide there
  (:mod:`placeplan.publish.mitigations`);
* the **journey-time bands** add up to all pupils, and where the bands from the shortest
  reasonable maximum up hold exactly the pupils over it, to the impact table's
  ``over_threshold_n``: those totals join their secondary suppression.

Adding a published table is one :class:`Declaration` in :data:`REGISTER` (kept in
:mod:`placeplan.publish.declarations`, re-exported here) plus a call of
:func:`suppress_declared` where the table is assembled (see ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.declarations import (
    REGISTER,
    SITE_SCORE_COUNTS,
    Declaration,
    suppress_declared,
)
from placeplan.publish.disclosure import (
    Published,
)
from placeplan.publish.flows import published_flows
from placeplan.publish.impact_release import ImpactRun, published_impacts
from placeplan.publish.mitigations import (
    mitigation_levels,
    programme_level,
    released_mitigations_by_year,
)
from placeplan.publish.report.impact import ImpactTable, all_group
from placeplan.publish.site_ranges import (
    RANGE_COLUMNS,
    largest_time_saved_hidden,
    published_ranks,
    ranks_among_all,
    site_score_ranges,
)
from placeplan.vocab import TIME_BAND_EDGES_MIN, TIME_BAND_LABELS

if TYPE_CHECKING:
    from placeplan.publish.report.model import ReportInputs

__all__ = [
    "REGISTER",
    "SITE_SCORE_COUNTS",
    "Declaration",
    "Release",
    "published_site_scores",
    "release_run",
    "suppress_declared",
]


@dataclass(frozen=True, eq=False)
class Release:
    """Every published table of one scenario (the flow table and site scores are shared).

    Attributes
    ----------
    impact
        The published impact table (:class:`~placeplan.publish.report.impact.ImpactTable`).
    flows
        The published year-by-year flow table (None when the run has none).
    mitigations, areas, sites, site_scores, ooa_flows, time_bands, row_accounting
        :class:`~placeplan.publish.disclosure.Published` tables (None when not given).
    mitigation_levels
        Today's mitigation levels of every comparison of the scenario, decided once with all its
        impact tables (``mitigations.csv``); ``mitigations`` is the programme's own level.
    mitigations_by_year
        The published year-by-year mitigation table (shared by every scenario; None when the
        run has none).
    proposals
        ``(proposal, basis) -> ImpactTable`` of each proposal alone and as its contribution,
        suppressed with the programme (:func:`placeplan.publish.impact_release.published_impacts`;
        empty without proposals).
    """

    impact: ImpactTable
    flows: pd.DataFrame | None = None
    mitigations: Published | None = None
    areas: Published | None = None
    sites: Published | None = None
    site_scores: Published | None = None
    ooa_flows: Published | None = None
    time_bands: Published | None = None
    row_accounting: Published | None = None
    ooa_settings: Published | None = None
    mitigations_by_year: pd.DataFrame | None = None
    mitigation_levels: Published | None = None
    proposals: Mapping[tuple[str, str], ImpactTable] | None = None


#: Impact metrics (all pupils, baseline) that are the flow table's base-year measures.
_LINKS: tuple[tuple[str, str], ...] = (
    ("ooa_placements", "out_of_area"),
    ("independent_placements", "independent_non_maintained"),
    ("over_threshold_n", "over_max_journey"),
    ("ferry_journeys", "ferry_journeys"),
)


def release_run(inputs: Sequence[ReportInputs]) -> dict[str, Release]:
    """Suppress every table of a run once, consistently across tables and scenarios.

    Parameters
    ----------
    inputs
        One :class:`~placeplan.publish.report.model.ReportInputs` per scenario (raw tables);
        they share the plan's disclosure settings, the flow table and the site scores.

    Returns
    -------
    dict
        Scenario name → :class:`Release`.
    """
    if not inputs:
        return {}
    first = inputs[0]
    th, rnd, mode = first.disclosure_threshold, first.disclosure_round_to, first.mode
    # 1. the impact tables (programmes and proposals, together) and the flows' base year: one
    # decision per shared quantity, until the flow table hides nothing new
    links = _links(first)
    runs = [
        ImpactRun(ri.scenario_name, ri.impact, dict(getattr(ri.proposals, "impacts", None) or {}))
        for ri in inputs
    ]
    force: set[tuple[str, str, str, str]] = set()
    while True:
        impacts = published_impacts(runs, threshold=th, round_to=rnd, mode=mode, force=force)
        imp = impacts[first.scenario_name][("programme", "programme")]
        hide = {
            (y, "baseline", m_f)
            for m_i, m_f, y in links
            if imp.has(m_i) and imp.cell("all", all_group(imp), m_i, "baseline").suppressed
        }
        flows = (
            None
            if first.flows is None
            else published_flows(first.flows, threshold=th, round_to=rnd, mode=mode, hide=hide)
        )
        more = set(force)
        if flows is not None:
            hidden_flows = set(
                zip(flows["year"], flows["scenario"], flows["measure"], flows["suppressed"],
                    strict=True)
            )  # fmt: skip
            for m_i, m_f, y in links:
                if (y, "baseline", m_f, True) in hidden_flows:
                    more.add(("all", all_group(imp), m_i, "baseline"))
        if more == force:
            break
        force = more
    scores = (
        None
        if first.site_scores is None
        else published_site_scores(
            first.site_scores, threshold=th, round_to=rnd, mode=mode, weights=first.site_weights
        )
    )
    # 2. today's mitigation levels, then the year table (its census year's baseline is today's)
    levels = {ri.scenario_name: _mitigations(ri, impacts[ri.scenario_name]) for ri in inputs}
    mit_years = released_mitigations_by_year(
        first.mitigations_by_year, levels, flows, threshold=th, round_to=rnd, mode=mode
    )
    out = {}
    for ri in inputs:
        tables = impacts[ri.scenario_name]
        rel = _scenario_release(ri, tables, flows, scores, levels[ri.scenario_name])
        props = {k: v for k, v in tables.items() if k != ("programme", "programme")}
        out[ri.scenario_name] = replace(rel, mitigations_by_year=mit_years, proposals=props)
    return out


def published_site_scores(
    scores: pd.DataFrame,
    *,
    threshold: int,
    round_to: int,
    mode: str,
    weights: Mapping[str, float] | None = None,
) -> Published:
    """The site scores as ``site_scores.csv`` and the report publish them.

    Suppressed as :data:`REGISTER` declares ``site_scores``; ranks among the sites whose score is
    published (``site_ranges.published_ranks``); and, for every site, the interval its score and
    its rank among all candidates are known to lie in, from the published cells alone
    (``site_ranges.site_score_ranges``, then ``site_ranges.ranks_among_all``); the mean minutes
    saved is hidden for every site when the largest is
    (``site_ranges.largest_time_saved_hidden``).

    Parameters
    ----------
    scores
        :func:`placeplan.compute.scoring.score_sites` output (plus the sensitivity columns).
    threshold, round_to, mode
        The plan's disclosure settings.
    weights
        The scoring weights; default: the ones ``score_sites`` used (``scores.attrs["weights"]``),
        else read back from the published contributions.

    Returns
    -------
    Published
        Values and mask, best first.
    """
    if weights is None and scores.attrs.get("weights"):
        weights = {str(k): float(w) for k, w in scores.attrs["weights"].items()}
    force = largest_time_saved_hidden(scores, threshold) if mode != "internal" else None
    sup = suppress_declared(
        "site_scores", scores, threshold=threshold, round_to=round_to, mode=mode, force=force
    )
    ranked = published_ranks(sup)
    out = site_score_ranges(ranked, threshold=threshold, round_to=round_to, weights=weights)
    return ranks_among_all(out)


def _sites_ranked_as_scores(sites: Published, scores: Published) -> Published:
    """The map's candidate sites with ``site_scores``' published rank (hidden where it is) and
    score and rank ranges (:data:`placeplan.publish.site_ranges.RANGE_COLUMNS`)."""
    ids = sites.values["site_id"].astype(str)
    by_id = scores.values.assign(_id=scores.values["site_id"].astype(str)).set_index("_id")
    rank_hidden = (
        scores.mask["rank"].set_axis(by_id.index)
        if "rank" in scores.mask.columns
        else pd.Series(False, index=by_id.index)
    )
    values, mask = sites.values.copy(), sites.mask.copy()
    hidden = ids.map(rank_hidden).fillna(False).astype(bool).to_numpy(copy=True)
    if "rank" in mask.columns:
        hidden = hidden | mask["rank"].to_numpy(dtype=bool)
    values["rank"] = ids.map(by_id["rank"]).where(~hidden)
    mask["rank"] = hidden
    for col in RANGE_COLUMNS:
        if col in by_id.columns:
            values[col] = ids.map(by_id[col]).to_numpy()
    return replace(sites, values=values, mask=mask)


def _links(ri: ReportInputs) -> list[tuple[str, str, str]]:
    """(impact metric, flow measure, base year) pairs that hold the same value."""
    if ri.flows is None or ri.flows.empty:
        return []
    f = ri.flows
    year = str(sorted(f["year"].astype(str).unique())[0])
    imp = ri.impact[ri.impact["group_type"].eq("all")]
    out = []
    for m_i, m_f in _LINKS:
        a = pd.to_numeric(imp.loc[imp["metric"].eq(m_i), "baseline"], errors="coerce")
        b = f[f["year"].astype(str).eq(year) & f["scenario"].eq("baseline") & f["measure"].eq(m_f)]
        b_val = pd.to_numeric(b["central"], errors="coerce")
        if len(a) == 1 and len(b_val) == 1 and float(a.iloc[0]) == float(b_val.iloc[0]):
            out.append((m_i, m_f, year))
    return out


def _scenario_release(
    ri: ReportInputs,
    tables: Mapping[tuple[str, str], ImpactTable],
    flows: pd.DataFrame | None,
    scores: Published | None,
    levels: Published | None,
) -> Release:
    th, rnd, mode = ri.disclosure_threshold, ri.disclosure_round_to, ri.mode
    imp = tables[("programme", "programme")]

    def sup(name: str, df: pd.DataFrame | None, **kw: object) -> Published | None:
        if df is None or not set(REGISTER[name].count_cols) & set(df.columns):
            return None
        return suppress_declared(name, df, threshold=th, round_to=rnd, mode=mode, **kw)  # type: ignore[arg-type]

    sites = None
    if ri.sites is not None and "pupils_served" in ri.sites.columns:
        force = None
        if scores is not None and "score" in scores.mask.columns:
            hidden = set(scores.values.loc[scores.mask["score"], "site_id"].astype(str))
            flag = ri.sites["site_id"].astype(str).isin(hidden)
            force = pd.DataFrame({c: flag for c in ("score", "rank") if c in ri.sites})
        sites = sup("sites", ri.sites, force=force)
        if sites is not None and scores is not None and "rank" in sites.values.columns:
            sites = _sites_ranked_as_scores(sites, scores)
    ooa = _ooa_flows(ri, imp)
    return Release(
        impact=imp,
        flows=flows,
        mitigations=programme_level(levels),
        mitigation_levels=levels,
        areas=_areas(ri, imp),
        sites=sites,
        site_scores=scores,
        time_bands=_time_bands(ri, imp),
        row_accounting=sup("row_accounting", ri.row_accounting),
        ooa_flows=ooa["ooa_flows"],
        ooa_settings=ooa["ooa_settings"],
    )


def _mitigations(
    ri: ReportInputs, tables: Mapping[tuple[str, str], ImpactTable]
) -> Published | None:
    """Every mitigation level of the scenario's comparisons (the proposals' when the run has
    them, else the programme's own level), decided once with all its impact tables."""
    pa = ri.proposals
    m = pa.mitigations if pa is not None and not pa.mitigations.empty else ri.mitigations
    th, rnd = ri.disclosure_threshold, ri.disclosure_round_to
    return mitigation_levels(m, tables, threshold=th, round_to=rnd, mode=ri.mode)


#: The LSOA layer's counts: (column, impact-table metric that totals it, run it is counted in).
_AREA_COUNTS = (("pupils", "pupils", "baseline"), ("moved", "moved_n", "scenario"))


def _areas(ri: ReportInputs, imp: ImpactTable) -> Published | None:
    """The LSOA layer, with the impact table's planning-area and all-pupil totals as members.

    ``moved`` (pupils who change setting, per area) decides the scenario mean and is dropped
    from the published layer.
    """
    areas = ri.areas
    if areas is None or "pupils" not in areas.columns:
        return None
    th, rnd, mode = ri.disclosure_threshold, ri.disclosure_round_to, ri.mode
    groups = dict(ri.area_groups or {})
    body = pd.DataFrame(areas.drop(columns="geometry", errors="ignore"))
    body["planning_area"] = body["area_id"].astype(str).map(groups)
    body["layer"] = "all"
    counts = [c for c in _AREA_COUNTS if c[0] in body.columns]
    # the totals the LSOAs add up to, published in the impact table: each planning area's
    # (matched by ``planning_area`` only) and all pupils (matched by ``layer`` only)
    pas = sorted({g for g in groups.values() if g})
    keys = [("area", pa, {"planning_area": pa, "layer": "-"}) for pa in pas]
    keys.append(("all", all_group(imp), {"planning_area": "-", "layer": "all"}))
    extra = []
    for gt, g, where in keys:
        cells = {col: imp.cell(gt, g, metric, run) for col, metric, run in counts}
        if gt == "area" and all(c.value is None and not c.suppressed for c in cells.values()):
            continue
        row: dict[str, object] = dict(where)
        for col, cell in cells.items():
            row[col] = cell.value
            row[f"_hidden_{col}"] = cell.suppressed
        extra.append(row)
    tot = pd.DataFrame(extra, index=[f"_total_{i}" for i in range(len(extra))])
    frame = pd.concat([body, tot])
    hidden = [f"_hidden_{col}" for col, _, _ in counts]
    force = frame.reindex(columns=hidden).fillna(False).astype(bool)
    force.columns = [c.removeprefix("_hidden_") for c in hidden]
    pub = suppress_declared(
        "areas",
        frame.drop(columns=hidden),
        threshold=th,
        round_to=rnd,
        mode=mode,
        total_rows=pd.Series(frame.index.isin(tot.index), index=frame.index),
        force=force,
    )
    keep = body.index
    shown = [c for c in pub.mask.columns if c != "moved"]
    values = areas.drop(columns="moved", errors="ignore").copy()
    for col in shown:
        values[col] = pub.values.loc[keep, col].to_numpy()
    return replace(pub, values=values, mask=pub.mask.loc[keep, shown].set_axis(areas.index))


def _raw_all(ri: ReportInputs, metric: str) -> dict[str, float] | None:
    """The impact table's all-pupils ``metric`` (baseline, scenario) before suppression."""
    t = ri.impact
    hit = t[t["group_type"].eq("all") & t["metric"].eq(metric)]
    if len(hit) != 1:
        return None
    vals = {w: pd.to_numeric(hit[w], errors="coerce").iloc[0] for w in _RUNS}
    return None if any(pd.isna(v) for v in vals.values()) else vals


def _time_bands(ri: ReportInputs, imp: ImpactTable) -> Published | None:
    """Pupils per journey-time band, with the impact table's totals they add up to.

    The bands add up to all pupils. Over the reasonable maximum (per phase) are at least the
    pupils in the bands from the longest maximum up and at most those from the shortest up;
    where the latter are exactly the impact table's ``over_threshold_n`` (no one between the
    maxima is under theirs), the bands split into two groups with published totals, so a hidden
    band's complement is sought where those totals do not give it back.
    """
    bands = ri.time_bands
    if bands is None or not set(_RUNS) <= set(bands.columns):
        return None
    th, rnd, mode = ri.disclosure_threshold, ri.disclosure_round_to, ri.mode
    g = all_group(imp)
    lower = dict(zip(TIME_BAND_LABELS, (0.0, *TIME_BAND_EDGES_MIN), strict=True))
    shortest = min(ri.reasonable_journey_min.values(), default=None)
    over = bands["band"].map(lower).ge(shortest if shortest is not None else float("inf"))
    pupils, over_n = _raw_all(ri, "pupils"), _raw_all(ri, "over_threshold_n")
    every = pd.Series(True, index=bands.index)

    def adds_up(mask: pd.Series, total: dict[str, float] | None) -> bool:
        return total is not None and all(
            float(bands.loc[mask, w].sum()) == float(total[w]) for w in _RUNS
        )

    split = bool(over.any()) and adds_up(over, over_n) and adds_up(every, pupils)
    body = bands.assign(part=over.map({True: "over", False: "under"}) if split else "all")
    cell = {m: {w: imp.cell("all", g, m, w) for w in _RUNS} for m in ("pupils", "over_threshold_n")}
    totals = []
    if split and pupils is not None and over_n is not None:
        totals.append(("over", over_n, {w: cell["over_threshold_n"][w].suppressed for w in _RUNS}))
        under = {w: pupils[w] - over_n[w] for w in _RUNS}
        hid = {
            w: cell["pupils"][w].suppressed or cell["over_threshold_n"][w].suppressed for w in _RUNS
        }
        totals.append(("under", under, hid))
    elif adds_up(every, pupils) and pupils is not None:
        totals.append(("all", pupils, {w: cell["pupils"][w].suppressed for w in _RUNS}))
    tot = pd.DataFrame(
        [{"band": "-", "part": part, **vals, **{f"_hidden_{w}": h[w] for w in _RUNS}}
         for part, vals, h in totals],
        index=[f"_total_{i}" for i in range(len(totals))],
    )  # fmt: skip
    frame = pd.concat([body, tot]) if totals else body
    force = pd.DataFrame(
        {w: frame.get(f"_hidden_{w}", pd.Series(False, index=frame.index)) for w in _RUNS}
    )
    pub = suppress_declared(
        "time_bands",
        frame.drop(columns=[f"_hidden_{w}" for w in _RUNS], errors="ignore"),
        threshold=th,
        round_to=rnd,
        mode=mode,
        total_rows=pd.Series(frame.index.isin(tot.index), index=frame.index),
        force=force.fillna(False).astype(bool),
    )
    keep = body.index
    return replace(
        pub,
        values=pub.values.loc[keep, list(bands.columns)],
        mask=pub.mask.loc[keep],
    )


_INDEPENDENT = ("independent", "non_maintained")
_RUNS = ("baseline", "scenario")
_FLOW_KEYS = ("origin_id", "destination_id", "ooa_subset", "ind_subset", "origin_ooa", "origin_ind")


def _impact_totals(imp: ImpactTable, origins: list[str]) -> pd.DataFrame:
    """The impact table's cells the flows add up to, as total rows of the flow frame.

    Each matches one grouping only (the other grouping columns hold ``"-"``, which matches no
    group); ``_hidden_<run>`` says whether the impact table hides it.
    """
    rows = []
    targets = [("ooa_subset", "ooa", "all", all_group(imp), "ooa_placements")]
    targets.append(("ind_subset", "ind", "all", all_group(imp), "independent_placements"))
    for o in origins:
        targets.append(("origin_ooa", o, "area", o, "ooa_placements"))
        targets.append(("origin_ind", o, "area", o, "independent_placements"))
    for col, key, gt, g, metric in targets:
        if not imp.has(metric):
            continue
        cells = {w: imp.cell(gt, g, metric, w) for w in _RUNS}
        if all(c.value is None and not c.suppressed for c in cells.values()):
            continue
        row: dict[str, object] = dict.fromkeys(_FLOW_KEYS, "-")
        row.update({col: key, "_part": "total"})
        for w, c in cells.items():
            row[w] = c.value
            row[f"_hidden_{w}"] = c.suppressed
        rows.append(row)
    return pd.DataFrame(rows)


def _ooa_flows(ri: ReportInputs, imp: ImpactTable) -> dict[str, Published | None]:
    """Flows home area -> setting and their totals by setting, suppressed as one table."""
    flows = ri.ooa_flows
    if flows is None:
        return {"ooa_flows": None, "ooa_settings": None}
    th, rnd, mode = ri.disclosure_threshold, ri.disclosure_round_to, ri.mode
    f = flows.assign(destination_id=flows["destination_id"].astype(str))
    by = f.groupby("destination_id", sort=True)[["baseline", "scenario"]].sum().reset_index()
    prov = ri.provision
    kind: dict[str, tuple[bool, bool]] = {}
    if prov is not None and {"setting_id", "provision_type", "in_area"} <= set(prov.columns):
        for sid, ptype, in_area in zip(
            prov["setting_id"].astype(str), prov["provision_type"], prov["in_area"], strict=True
        ):
            kind[sid] = (not bool(in_area), str(ptype) in _INDEPENDENT)
    by["ooa_subset"] = [
        "ooa" if kind.get(d, (False, False))[0] else None for d in by["destination_id"]
    ]
    by["ind_subset"] = [
        "ind" if kind.get(d, (False, False))[1] else None for d in by["destination_id"]
    ]
    dest_kind = [kind.get(d, (False, False)) for d in f["destination_id"]]
    f["origin_ooa"] = [o if k[0] else None for o, k in zip(f["origin_id"], dest_kind, strict=True)]
    f["origin_ind"] = [o if k[1] else None for o, k in zip(f["origin_id"], dest_kind, strict=True)]
    frame = pd.concat(
        [
            f.assign(_part="flow"),
            by.assign(_part="setting", origin_id=None),
            _impact_totals(imp, sorted(set(f["origin_id"].astype(str)))),
        ],
        ignore_index=True,
    )
    frame["change"] = frame["scenario"] - frame["baseline"]
    total = frame["_part"].eq("total")
    force = (
        pd.DataFrame(
            {w: frame.get(f"_hidden_{w}", pd.Series(False, index=frame.index)) for w in _RUNS}
        )
        .fillna(False)
        .astype(bool)
    )
    # pupils only leave a setting by moving: a setting's baseline and scenario, and a flow's
    # from a home area where fewer than the threshold move, are hidden together
    imp_raw = ri.impact[ri.impact["group_type"].eq("area") & ri.impact["metric"].eq("moved_n")]
    movers = dict(zip(imp_raw["group"].astype(str), imp_raw["scenario"], strict=True))
    few = frame["origin_id"].astype(str).map(lambda o: not float(movers.get(o, 0)) >= th)
    paired = frame["_part"].eq("setting") | (frame["_part"].eq("flow") & few)
    pub = suppress_declared(
        "ooa_flows",
        frame.drop(columns=[f"_hidden_{w}" for w in _RUNS], errors="ignore"),
        threshold=th,
        round_to=rnd,
        mode=mode,
        total_rows=total,
        force=force,
        pairs=[("baseline", "scenario", paired)],
    )
    if rnd and mode == "published":
        pub.values["change"] = pub.values["scenario"] - pub.values["baseline"]
    is_flow = (frame["_part"] == "flow").to_numpy()
    flow_cols = list(flows.columns)
    out_flows = Published(
        pub.values.loc[is_flow, flow_cols].set_axis(flows.index),
        pub.mask.loc[is_flow, ["baseline", "scenario"]].set_axis(flows.index),
        pub.mode,
    )
    is_setting = (frame["_part"] == "setting").to_numpy()
    cols = ["destination_id", "baseline", "scenario", "change"]
    settings = Published(
        pub.values.loc[is_setting, cols].reset_index(drop=True),
        pub.mask.loc[is_setting].reset_index(drop=True),
        pub.mode,
    )
    return {"ooa_flows": out_flows, "ooa_settings": settings}
