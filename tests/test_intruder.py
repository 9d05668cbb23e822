"""An automated intruder against every published output of a run (issue 10, part 2).

The attacker reads only the published files — ``impact.csv``, ``flows.csv``, ``site_scores.csv``,
``mitigations.csv``, ``comparison.csv``, ``optimise/*.csv``, ``layers.gpkg``, the map pages'
embedded GeoJSON and popups and the report's tables and bar labels (mitigations, journey-time
bands, each proposal's page, the comparison) — and collects every number with its labels. It then
writes down every linear relation it can know between them: a total equals the sum of its parts
(each grouping of ``impact.csv``; the flow table's identities; the LSOAs of a planning area; all
LSOAs), baseline + change = scenario, the baseline shared by every scenario, the year-on-year
cohort accounting, the same quantity in two files (the base year of ``flows.csv`` and the baseline
of ``impact.csv``; a map layer and a table), and the site scores' derived columns (a normalised
criterion is affine in its count, a contribution is weight × normalised value, the score is the sum
of contributions; slope and intercept are learnt from the sites whose counts are published), the
order and ranks of the sites (a hidden score lies between the published scores around it),
mitigation rules adding up to "All rules" with £ = rate x pupils and within the pupils they cover
(journeys longer, over the reasonable maximum, by ferry, by road), journey-time bands adding up to
all pupils and bracketing the pupils over the maxima, a proposal's contribution year by year as the
programme's level minus the level without it, and the chosen sites' pupils placed adding up to the
programme's. Each relation is kept only if it holds on the run's true values (so the attacker is at
least as well informed as a real one).

For every suppressed count it solves two linear programmes (smallest and largest value given
every published number, rounding tolerances and the relations; counts >= 0). A cell is
**recovered** if the interval lies within 1 to threshold - 1, and **revealed** if it is narrower
than one pupil whatever the value (a cell hidden to protect another, undone by a table published
elsewhere, as the base year of ``flows.csv`` was against ``impact.csv``). The tests assert none
is, on the shipped sample and on seeded random cohorts (sub-samples of the sample's pupils), and
show the attacker does recover cells from deliberately unsafe outputs. (To keep it quick, a few
shared LPs first find feasible points that show most cells safe; only the rest get their own two.)
"""

from __future__ import annotations

import html as htmllib
import itertools
import json
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from placeplan._errors import SnapWarning
from placeplan.compute.scoring import CRITERIA
from placeplan.config import load_plan
from placeplan.vocab import TIME_BAND_EDGES_MIN, TIME_BAND_LABELS

SAMPLE = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight"
IMPACT_COUNTS = (
    "pupils",
    "over_threshold_n",
    "ooa_placements",
    "independent_placements",
    "worse_off_n",
    "moved_n",
    "ferry_journeys",
    "over_threshold_road_n",
)
SCORE_COUNTS = ("pupils_in_reach", "need_in_reach", "ooa_avoidable", "pupils_benefiting")
FLOW_NON_COUNTS = (
    "out_of_area_pct",
    "journey_time_total_min",
    "journey_time_mean_min",
    "distance_total_km",
    "distance_mean_km",
    "placement_cost_gbp",
    "transport_cost_gbp",
    "movers_extra_time_total_min",
    "movers_journey_time_mean_min",
)
CHANGE = " - baseline"
Key = tuple[str, ...]


@dataclass
class Release:
    """What the attacker read (``obs``) and the truth the test judges it by."""

    threshold: int
    obs: dict[Key, list[tuple[float | None, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    truth: dict[Key, float] = field(default_factory=dict)
    relations: list[tuple[dict[Key, float], float]] = field(default_factory=list)
    #: inequalities ``sum(coef * key) <= const`` (e.g. a better rank has a higher score)
    bounds_ub: list[tuple[dict[Key, float], float]] = field(default_factory=list)
    #: published £ per pupil of each mitigation rule; who each rule covers (its label)
    rates: dict[Key, float] = field(default_factory=dict)
    who: dict[str, str] = field(default_factory=dict)
    #: hidden cells the intruder knows from the report's text (no finding when pinned)
    known: set[Key] = field(default_factory=set)

    def see(self, key: Key, text: object, tol: float) -> None:
        """Record one published cell: a number, ``c`` (suppressed) or ``x`` (ignored)."""
        v = _num(text)
        if v == "x":
            return
        self.obs[key].append((v, tol))  # type: ignore[arg-type]

    def relate(self, terms: dict[Key, float], const: float = 0.0) -> None:
        """Add ``sum(coef * key) = const`` if it holds on the true values."""
        terms = {k: c for k, c in terms.items() if c}
        if len(terms) < 2 or any(k not in self.truth for k in terms):
            return
        lhs = sum(c * self.truth[k] for k, c in terms.items())
        if abs(lhs - const) <= 1e-6 * max(1.0, abs(const)):
            self.relations.append((terms, const))

    def relate_ub(self, terms: dict[Key, float], const: float = 0.0) -> None:
        """Add ``sum(coef * key) <= const`` if it holds on the true values."""
        terms = {k: c for k, c in terms.items() if c}
        if len(terms) < 2 or any(k not in self.truth for k in terms):
            return
        if sum(c * self.truth[k] for k, c in terms.items()) <= const + 1e-6:
            self.bounds_ub.append((terms, const))

    def hidden(self) -> set[Key]:
        return {k for k, vs in self.obs.items() if any(v is None for v, _ in vs)}


def _num(text: object) -> float | str | None:
    if text is None:
        return "x"
    if isinstance(text, (int, float, np.integer, np.floating)):
        return "x" if np.isnan(float(text)) else float(text)
    s = str(text).strip().replace("\u2212", "-").replace(",", "").replace("±", "")
    s = s.replace("£", "").removeprefix("+").strip()
    if s == "c":
        return None
    if s in ("x", "", "–", "-", "nan", "None"):
        return "x"
    try:
        return float(s)
    except ValueError:
        return "x"


# --------------------------------------------------------------------------- reading outputs
#: Impact metrics counted against the assessment's own baseline allocation (zero there).
RELATIVE_METRICS = {"moved_n", "worse_off_n"}


def _impact_key(r: Any, which: str) -> Key:
    """The quantity a cell of impact.csv publishes. A proposal *alone* shares the programme's
    baseline; its *contribution* shares the programme's scenario (its baseline is the programme
    without it), so the attacker links every copy."""
    gt, g, m, scen = r.group_type, str(r.group), r.metric, r.scenario_name
    proposal, basis = getattr(r, "proposal", "programme"), getattr(r, "basis", "programme")
    if basis == "alone":
        run = f"{scen}|alone|{proposal}"
        base = "baseline"
    elif basis == "contribution":
        run, base = scen, f"{scen}|without|{proposal}"
        if m in RELATIVE_METRICS:  # counted against the programme without it: its own quantity
            run = f"{scen}|contribution|{proposal}"
    else:
        run, base = scen, "baseline"
    if which == "baseline":
        return ("imp", base, gt, g, m)
    if which == "scenario":
        return ("imp", run, gt, g, m)
    if base == "baseline":
        return ("imp-chg", run, gt, g, m)
    return ("imp-contrib", f"{run}|{base}", gt, g, m)


def read_impact(rel: Release, df: pd.DataFrame, tol: float, *, truth: bool = False) -> None:
    for r in df.itertuples(index=False):
        m = r.metric
        for which in ("baseline", "scenario", "change"):
            key = _impact_key(r, which)
            val = getattr(r, which)
            if truth:
                v = _num(val)
                if isinstance(v, float):
                    rel.truth[key] = v
            else:
                rel.see(key, val, tol if m in IMPACT_COUNTS else 5e-4)


def read_flows(rel: Release, df: pd.DataFrame, tol: float, *, truth: bool = False) -> None:
    for r in df.itertuples(index=False):
        for stat in ("central", "lower", "upper"):
            key: Key = ("flow", str(r.year), str(r.scenario), str(r.measure), stat)
            val = getattr(r, stat)
            if truth:
                v = _num(val)
                if isinstance(v, float):
                    rel.truth[key] = v
            else:
                # a central count is a mean over new-plan paths, published to whole pupils
                count_tol = tol + (0.5 if stat == "central" else 0.0)
                count = r.measure not in FLOW_NON_COUNTS
                each = count_tol if count else (500.0 if "gbp" in r.measure else 0.05)
                # a change row is the difference of two published (rounded) levels
                rel.see(key, val, 2 * each if str(r.scenario).endswith(CHANGE) else each)


#: ``mitigations_by_year.csv`` columns the intruder reads: (column, key suffix).
MIT_YEAR_COLS = (
    ("pupils", "pupils"),
    ("pupils_lower", "pupils_lower"),
    ("pupils_upper", "pupils_upper"),
    ("annual_cost_gbp", "gbp"),
    ("annual_cost_gbp_lower", "gbp_lower"),
    ("annual_cost_gbp_upper", "gbp_upper"),
)


def _mity_key(r, col: str) -> Key:
    return ("mity", str(r.scenario), str(r.proposal), str(r.basis), str(r.run), str(r.year),
            str(r.rule), col)  # fmt: skip


def read_mitigations_by_year(
    rel: Release, df: pd.DataFrame, tol: float, *, truth: bool = False
) -> None:
    """The year-by-year mitigations (issue 11): pupils and £ per rule, run and year."""
    for r in df.itertuples(index=False):
        for col, suffix in MIT_YEAR_COLS:
            key = _mity_key(r, suffix)
            val = getattr(r, col)
            if truth:
                v = _num(val)
                if isinstance(v, float):
                    rel.truth[key] = v
                continue
            # pupils: means / quantiles over the flow model's runs, published to whole pupils;
            # £ to £1,000; a change is the difference of two published levels
            each = (500.0 if suffix.startswith("gbp") else 0.5) + tol
            rel.see(key, val, 2 * each if str(r.run) == "change" else each)
            if suffix == "pupils" and r.run != "change":
                rate = _num(r.cost_gbp_per_pupil_year)  # "x" on the All rules row
                if isinstance(rate, float) and rate > 0:
                    rel.rates[_mity_key(r, "rate")] = rate


def read_scores(rel: Release, df: pd.DataFrame, *, truth: bool = False) -> None:
    cols = [c for c in df.columns if c not in ("site_id", "name", "needs", "phases")]
    for r in df.to_dict("records"):
        for c in cols:
            key: Key = ("site", str(r["site_id"]), c)
            if truth:
                v = _num(r[c])
                if isinstance(v, float):
                    rel.truth[key] = v
            else:
                rel.see(key, r[c], 1e-9)


def read_layer_counts(
    rel: Release, df: pd.DataFrame, kind: str, id_col: str, cols: tuple[str, ...], tol: float,
    *, truth: bool = False,
) -> None:  # fmt: skip
    for r in df.to_dict("records"):
        for c in cols:
            if c not in r:
                continue
            key: Key = (kind, str(r[id_col]), c)
            if truth:
                v = _num(r[c])
                if isinstance(v, float):
                    rel.truth[key] = v
            else:
                rel.see(key, r[c], tol)


def read_map_pages(rel: Release, folder: Path, tol: float) -> None:
    """GeoJSON properties of every map page (areas: ``area_id`` + ``pupils_txt``)."""
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'"properties": (\{[^{}]*\})', text):
            try:
                props = json.loads(m.group(1))
            except ValueError:
                continue
            if "area_id" in props and "pupils_txt" in props:
                rel.see(("lsoa", str(props["area_id"]), "pupils"), props["pupils_txt"], tol)
            label = str(props.get("label", ""))
            hit = re.search(r"pupils served: ([^<;]+)", label)
            if "site_id" in props and hit and not page.name.endswith("-budget.html"):
                rel.see(("cand", str(props["site_id"]), "pupils_served"), hit.group(1), tol)


_CELL = re.compile(r"<(th|td)[^>]*>(.*?)</\1>", re.S)


def _cells(row: str) -> list[str]:
    out = []
    for _, inner in _CELL.findall(row):
        inner = re.sub(r'<span class="range">\((.*?)\)</span>', r" (\1)", inner)
        out.append(htmllib.unescape(re.sub(r"<[^>]+>", "", inner)).strip())
    return out


def read_sites_table(rel: Release, text: str, tol: float) -> None:
    """The report's site table: rank, score and pupils served per site (id from its note)."""
    m = re.search(r'<table id="t-sites".*?</table>', text, re.S)
    if not m:
        return
    pattern = r'<tr class="has-note">(.*?)</tr>\s*<tr class="row-note"><td[^>]*>(.*?)</td></tr>'
    for row, note in re.findall(pattern, m.group(0), re.S):
        cells = _cells(row)
        sid = htmllib.unescape(note).split(" — ")[0].strip()
        rel.see(("site", sid, "rank"), cells[0].split(" ")[0], 0.0)
        rel.see(("site", sid, "score"), cells[6], 0.005)
        rel.see(("cand", sid, "pupils_served"), cells[8], tol)


def read_ooa_tables(rel: Release, result, text: str, tol: float) -> None:
    """The report's out-of-area tables: by setting and home area -> setting (first scenario).

    The flow table lists only pairs with a published non-zero count, so each setting's and each
    home area's listed flows get an unknown remainder (>= 0) in their relations.
    """
    first = next(iter(result.scenarios))
    flows = result.layers[first].ooa_flows
    prov = result.inputs.provision
    by_name = dict(zip(prov["name"].astype(str), prov["setting_id"].astype(str), strict=False))
    independent = ("independent", "non_maintained")
    kinds = {
        str(r.setting_id): (not bool(r.in_area), str(r.provision_type) in independent)
        for r in prov.itertuples()
    }
    runs = {"baseline": "baseline", "scenario": first}
    truth = flows.assign(destination_id=flows["destination_id"].astype(str))
    by = truth.groupby("destination_id")[["baseline", "scenario"]].sum()
    for d, r in by.iterrows():
        for w, run in runs.items():
            rel.truth[("setting", d, run)] = float(r[w])
    for r in truth.itertuples():
        for w, run in runs.items():
            rel.truth[("oflow", str(r.origin_id), r.destination_id, run)] = float(getattr(r, w))
    m = re.search(r'<table id="t-ooa-settings".*?</table>', text, re.S)
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", m.group(0) if m else "", re.S):
        cells = _cells(row)
        d = by_name.get(cells[0], cells[0])
        rel.see(("setting", d, "baseline"), cells[2], tol)
        rel.see(("setting", d, first), cells[3], tol)
    listed: dict[Key, list[Key]] = defaultdict(list)
    m = re.search(r'<table id="t-ooa-flows".*?</table>', text, re.S)
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", m.group(0) if m else "", re.S):
        cells = _cells(row)
        o, d = cells[0], by_name.get(cells[1], cells[1])
        for w, cell in zip(("baseline", first), cells[2:4], strict=True):
            key = ("oflow", o, d, w)
            rel.see(key, cell, tol)
            listed[("setting", d, w)].append(key)
            ooa, ind = kinds.get(d, (False, False))
            if ooa:
                listed[("imp", w, "area", o, "ooa_placements")].append(key)
            if ind:
                listed[("imp", w, "area", o, "independent_placements")].append(key)
    # relations: listed flows + remainder = the setting's / home area's total
    for total, keys in listed.items():
        rest = ("rest", *total)
        if total in rel.truth and all(k in rel.truth for k in keys):
            rel.truth[rest] = rel.truth[total] - sum(rel.truth[k] for k in keys)
            rel.obs[rest] = [(None, 0.0)]
            rel.relate({**dict.fromkeys(keys, 1.0), rest: 1.0, total: -1.0})
    for w in ("baseline", first):
        for i, metric in ((0, "ooa_placements"), (1, "independent_placements")):
            members = {("setting", d, w): 1.0 for d in by.index if kinds.get(d, (False, False))[i]}
            all_key = next(
                (k for k in rel.truth if k[:3] == ("imp", w, "all") and k[4] == metric), None
            )
            if all_key:
                rel.relate({**members, all_key: -1.0})


def read_report(rel: Release, path: Path, labels: dict[str, str], tol: float) -> None:
    """The report's year-by-year tables (central and 80 % range per year) and site table."""
    text = path.read_text(encoding="utf-8")
    if path.name == "report.html":
        read_sites_table(rel, text, tol)
    for m in re.finditer(r'<table id="t-yby-\d+".*?</table>', text, re.S):
        table = m.group(0)
        cap = re.search(r"<caption>Year by year: (.*?) against the baseline</caption>", table)
        if not cap:
            continue
        name = htmllib.unescape(cap.group(1))
        years = _cells(re.search(r"<thead>.*?</thead>", table, re.S).group(0))[2:]
        measure = ""
        for row in re.findall(
            r"<tr>.*?</tr>", re.search(r"<tbody>.*?</tbody>", table, re.S).group(0), re.S
        ):
            cells = _cells(row)
            if cells[0]:
                measure = labels.get(cells[0], "")
            if not measure:
                continue
            run = {"Baseline": "baseline", "Change": f"{name}{CHANGE}"}.get(cells[1], cells[1])
            for year, cell in zip(years, cells[2:], strict=True):
                hit = re.fullmatch(r"(\S+)(?: \((\S+)–(\S+)\))?", cell)
                if not hit:
                    continue
                for stat, part in zip(("central", "lower", "upper"), hit.groups(), strict=True):
                    if part is not None:
                        half = 0.5 if stat == "central" else 0.0
                        rel.see(("flow", year, run, measure, stat), part, tol + half)


# --------------------------------------------------------------------------- more outputs (a)-(f)
MIT_ALL = "All rules"
#: Words of a mitigation rule's ``who`` and the impact count its pupils are part of.
MIT_COVERS = (
    ("longer", "worse_off_n"),
    ("reasonable maximum", "over_threshold_n"),
    ("ferry", "ferry_journeys"),
    ("road only", "over_threshold_road_n"),
)


def _table(text: str, tid: str) -> str:
    m = re.search(rf'<table id="{re.escape(tid)}".*?</table>', text, re.S)
    return m.group(0) if m else ""


def _rows(table: str) -> list[list[str]]:
    body = re.search(r"<tbody>.*?</tbody>", table, re.S)
    return [
        _cells(r) for r in re.findall(r"<tr[^>]*>.*?</tr>", body.group(0) if body else "", re.S)
    ]


def _prefixes(result) -> dict[str, str]:
    """Scenario name -> the id prefix of its tables in the appendix (``""``, ``"s2-"``, ...)."""
    return {n: ("" if i == 0 else f"s{i + 1}-") for i, n in enumerate(result.scenarios)}


def _mit_key(
    scen: str, proposal: str, basis: str, rule: str, col: str, run: str = "scenario"
) -> Key:
    """Today's cohort's (snapshot) mitigation cell: the year-by-year key's shape with year
    ``snapshot`` (so the same relations hold), kind ``mit``."""
    return ("mit", scen, proposal, basis, run, "snapshot", rule, col)


def read_mitigations(rel: Release, df: pd.DataFrame, tol: float, *, truth: bool = False) -> None:
    """``mitigations.csv`` (or the true table): pupils and £ per rule and run (levels and
    change), with ``All rules``."""
    for r in df.to_dict("records"):
        scen = str(r.get("scenario_name", ""))
        pr, b = str(r.get("proposal", "programme")), str(r.get("basis", "programme"))
        run = str(r.get("run", "scenario"))
        # pupils to whole pupils (or round_to), £ to £1,000; a change is the difference of two
        # published levels
        for col, src, t in (("pupils", "pupils", tol), ("gbp", "annual_cost_gbp", 500.0 + tol)):
            key = _mit_key(scen, pr, b, str(r["rule"]), col, run)
            if truth:
                v = _num(r[src])
                if isinstance(v, float):
                    rel.truth[key] = v
            else:
                rel.see(key, r[src], 2 * t if run == "change" else t)
        rate = _num(r.get("cost_gbp_per_pupil_year"))
        if not truth and isinstance(rate, float) and rate > 0 and run != "change":
            rel.rates[_mit_key(scen, pr, b, str(r["rule"]), "rate", run)] = rate


def mitigation_truth(result) -> pd.DataFrame:
    """Every true snapshot mitigation row (levels and change) with its ``All rules`` totals."""
    frames = []
    pa = getattr(result, "proposals", None)
    if pa is not None and not pa.mitigations.empty:
        frames.append(pa.mitigations.rename(columns={"scenario": "scenario_name"}))
    else:
        for name, imp in result.impacts.items():
            m = getattr(imp, "mitigations", None)
            if m is not None and "pupils" in m.columns:
                frames.append(
                    m.assign(scenario_name=name, proposal="programme", basis="programme",
                             run="scenario")
                )  # fmt: skip
    if not frames:
        return pd.DataFrame()
    raw = pd.concat(frames, ignore_index=True)
    if "annual_cost_gbp" not in raw.columns:
        raw["annual_cost_gbp"] = 0.0
    keys = ["scenario_name", "proposal", "basis", "run"]
    tot = raw.groupby(keys, as_index=False)[["pupils", "annual_cost_gbp"]].sum()
    return pd.concat([raw, tot.assign(rule=MIT_ALL, who="")], ignore_index=True)


def read_report_mitigations(rel: Release, result, text: str, tol: float) -> None:
    """The report's mitigation tables: the programme's rules, each proposal's rules and totals
    (summary rows), and the contributions table's £ column."""
    pa = getattr(result, "proposals", None)
    for scen, pre in _prefixes(result).items():
        for cells in _rows(_table(text, f"{pre}t-mitigations")):
            if len(cells) >= 7:
                n, gbp = (_withheld(c) for c in cells[5:7])
                rel.see(_mit_key(scen, "programme", "programme", cells[0], "pupils"), n, tol)
                rel.see(_mit_key(scen, "programme", "programme", cells[0], "gbp"), gbp, 500 + tol)
        if pa is None:
            continue
        info = pa.proposals[pa.proposals["scenario"] == scen].reset_index(drop=True)
        sites = [str(p) for p in info["proposal"]]
        for k, site in enumerate(["programme", *sites]):
            tid = f"{pre}t-prop-programme" if k == 0 else f"{pre}t-prop-{k}-summary"
            bases = ("programme",) if k == 0 else ("alone", "contribution")
            table = _table(text, tid)
            last = _last_year(table)
            for cells in _rows(table):
                col = {"Pupils covered by a mitigation": "pupils",
                       "Mitigation cost a year": "gbp"}.get(cells[1])  # fmt: skip
                if col:  # today's columns: the snapshot's change rows (the flows' below)
                    each = tol if col == "pupils" else 500.0 + tol
                    for b, cell in zip(bases, cells[2 : 2 + len(bases)], strict=False):
                        rel.see(_mit_key(scen, site, b, MIT_ALL, col, "change"),
                                _withheld(cell), 2 * each)  # fmt: skip
            if k == 0 or not last:
                continue
            # each rule's change in the last year (flow model): mitigations_by_year's change rows
            for cells in _rows(_table(text, f"{pre}t-prop-{k}-mitigations")):
                for j, b in enumerate(bases):
                    for col, cell in (("pupils", cells[1 + 2 * j]), ("gbp", cells[2 + 2 * j])):
                        _see_mity_cell(rel, (scen, site, b, last), col, cell, tol, cells[0])
        table = _table(text, f"{pre}t-prop-contributions")
        last = _last_year(table)
        for site, cells in zip(sites, _rows(table), strict=False):
            key = _mit_key(scen, site, "contribution", MIT_ALL, "gbp", "change")
            rel.see(key, _withheld(cells[-2]), 2 * (500.0 + tol))  # today's (snapshot)
            if last:
                _see_mity_cell(rel, (scen, site, "contribution", last), "gbp", cells[-1], tol)


def _withheld(cell: str) -> str:
    """A cell whose rule detail is withheld is hidden (``c``)."""
    return "c" if cell.strip() == "withheld" else cell


def _last_year(table: str) -> str:
    """The academic year in a table's last header cell (``""`` if none)."""
    head = re.search(r"<thead>.*?</thead>", table, re.S)
    hit = re.search(r"(\d{4}/\d{2})$", _cells(head.group(0))[-1]) if head else None
    return hit.group(1) if hit else ""


def add_mitigation_year_relations(rel: Release) -> None:
    """Year by year: the rules add up to ``All rules`` (central pupils and £), £ = rate x
    pupils, change = scenario - baseline, the baseline is the same in every scenario's rows, and
    the baseline's ``All rules`` against ``flows.csv``'s pupils over the reasonable maximum
    (each added only where it holds on the true values)."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for k in rel.truth:
        if k[0] in ("mit", "mity") and k[7] == "pupils" and k[6] != MIT_ALL:
            groups[k[:6]].append(k[6])
    scenarios = sorted({g[1] for g in groups})
    for g, rules in groups.items():
        kind, _, pr, b, run, year = g

        def key(rule: str, col: str, run: str | None = None, g: tuple = g) -> Key:
            return (g[0], g[1], g[2], g[3], run or g[4], g[5], rule, col)

        for col in ("pupils", "gbp"):
            rel.relate({**{key(r, col): 1.0 for r in rules}, key(MIT_ALL, col): -1.0})
        for r in [*rules, MIT_ALL]:
            rate = rel.rates.get(key(r, "rate"))
            if rate:
                rel.relate({key(r, "gbp"): 1.0, key(r, "pupils"): -rate})
            if run == "change":  # scenario less its comparison (a contribution's: without)
                before = "without" if b == "contribution" else "baseline"
                for col in ("pupils", "gbp"):
                    rel.relate({key(r, col): 1.0, key(r, col, "scenario"): -1.0,
                                key(r, col, before): 1.0})  # fmt: skip
            if run in ("baseline", "without", "scenario"):
                # a level published again elsewhere: the baseline in every scenario and
                # proposal, the programme in its proposals' contributions
                for other in _copies(g, scenarios):
                    for col in ("pupils", "pupils_lower", "pupils_upper", "gbp"):
                        rel.relate({key(r, col): 1.0, (*other[:6], r, col): -1.0})
            if run == "baseline" and pr == "programme":
                for other in scenarios:
                    for col in ("pupils", "pupils_lower", "pupils_upper"):
                        rel.relate({key(r, col): 1.0,
                                    (kind, other, pr, b, run, year, r, col): -1.0})  # fmt: skip
        if run == "baseline":
            # the report says so: in the baseline no journey is longer and no pupil is placed
            # differently, so the rules for them cover no one (known zeros, as the truth has)
            for r in rules:
                if any(w in rel.who.get(r, "") for w in MIT_NOT_IN_BASELINE):
                    for col in ("pupils", "gbp"):
                        if rel.truth.get(key(r, col)) == 0.0:
                            rel.obs[key(r, col)].append((0.0, 0.0))
                            rel.known.add(key(r, col))
        if run == "baseline" and pr == "programme" and kind == "mity":
            for stat, col in (("central", "pupils"), ("lower", "pupils_lower"),
                              ("upper", "pupils_upper")):  # fmt: skip
                flow = ("flow", year, "baseline", "over_max_journey", stat)
                rel.relate({key(MIT_ALL, col): 1.0, flow: -1.0})
                rel.relate_ub({key(MIT_ALL, col): -1.0, flow: 1.0})  # rules cover the over-max


#: Words of a rule's ``who`` that no pupil of the baseline run meets.
MIT_NOT_IN_BASELINE = ("longer", "placed differently")


def _copies(g: tuple[str, ...], scenarios: list[str]) -> list[tuple[str, ...]]:
    """The other groups (kind, scenario, proposal, basis, run, year) holding the same level:
    a proposal's alone baseline is the baseline; a contribution's scenario is the programme."""
    kind, scen, _, b, run, year = g
    if run == "baseline":
        return [(kind, scen, "programme", "programme", "baseline", year)]
    if b == "contribution" and run == "scenario":
        return [(kind, scen, "programme", "programme", "scenario", year)]
    return []


def add_mitigation_relations(rel: Release, all_group: str) -> None:
    """Today's levels with the programme or a proposal alone (read against the baseline, as the
    impact tables are): rules for longer journeys cover pupils whose journey gets longer, rules
    over the reasonable maximum pupils over it (priority order: each pupil counted once). The
    sums, rates, changes and copies are :func:`add_mitigation_year_relations`'."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for k in rel.truth:
        if k[0] == "mit" and k[4] == "scenario" and k[7] == "pupils" and k[6] != MIT_ALL:
            groups[(k[1], k[2], k[3])].append(k[6])
    for (scen, pr, b), rules in groups.items():
        if b == "contribution":
            continue
        run = scen if b == "programme" else f"{scen}|alone|{pr}"
        who = rel.who
        for word, metric in MIT_COVERS:
            members = [r for r in rules if word in who.get(r, "")]
            if not members:
                continue
            terms = {_mit_key(scen, pr, b, r, "pupils"): 1.0 for r in members}
            total = ("imp", run, "all", all_group, metric)
            rel.relate({**terms, total: -1.0})  # exact where every such pupil gets a rule
            rel.relate_ub({**terms, total: -1.0})


#: The proposal pages' year-by-year and summary rows: label -> flow measure.
PROPOSAL_MEASURES = {
    "Out-of-area placements": "out_of_area",
    "Independent / non-maintained": "independent_non_maintained",
    "Independent / non-maintained placements": "independent_non_maintained",
    "Pupils whose journey gets longer": "worse_off",
    "Pupils over the reasonable maximum journey": "over_max_journey",
}
#: Summary rows for today's pupils: label -> (impact metric, column).
PROPOSAL_SNAPSHOT = {
    "Out-of-area placements": ("ooa_placements", "change"),
    "Independent / non-maintained placements": ("independent_placements", "change"),
    "Pupils over the reasonable maximum journey": ("over_threshold_n", "change"),
    "Pupils whose journey gets longer": ("worse_off_n", "scenario"),
    "Pupils who change setting": ("moved_n", "scenario"),
}


def _pflow_key(scen: str, proposal: str, basis: str, year: str, measure: str, stat: str) -> Key:
    """A proposal page's year-by-year change: alone and the programme are rows of the variants'
    flow table; a contribution is the programme's level minus the level without the proposal."""
    if basis == "contribution":
        return ("pcontrib", year, scen, proposal, measure, stat)
    run = scen if basis == "programme" else f"{scen} | alone {proposal}"
    return ("flow", year, f"{run}{CHANGE}", measure, stat)


def proposal_flow_truth(rel: Release, result, tol: float) -> None:
    """The variants' year-by-year levels and changes, and each contribution (true values)."""
    pa = getattr(result, "proposals", None)
    if pa is None or pa.flows is None:
        return
    read_flows(rel, pa.flows, tol, truth=True)
    for (y, run, m, s), v in list(_levels(rel).items()):
        base = rel.truth.get(("flow", y, "baseline", m, s))
        if base is not None and run != "baseline" and not run.endswith(CHANGE):
            rel.truth.setdefault(("flow", y, f"{run}{CHANGE}", m, s), v - base)
    info = pa.proposals
    for scen, proposal in zip(info["scenario"], info["proposal"], strict=True):
        for (y, run, m, s), v in list(_levels(rel).items()):
            if run == scen and s == "central":
                without = rel.truth.get(("flow", y, f"{scen} | without {proposal}", m, s))
                if without is not None:
                    rel.truth[("pcontrib", y, scen, str(proposal), m, s)] = v - without


def _levels(rel: Release) -> dict[tuple[str, str, str, str], float]:
    return {k[1:]: v for k, v in rel.truth.items() if k[0] == "flow"}  # type: ignore[misc]


def read_proposal_pages(rel: Release, result, text: str, tol: float) -> None:
    """Each proposal page's summary (today's pupils: impact cells; last year: flow changes) and
    year-by-year table, and the programme's summary."""
    pa = getattr(result, "proposals", None)
    if pa is None:
        return
    first = next(iter(result.impacts.values())).table
    g_all = str(first.loc[first["group_type"].eq("all"), "group"].iloc[0])
    count = tol + 0.5  # a level is a mean over paths, published to whole pupils
    for scen, pre in _prefixes(result).items():
        info = pa.proposals[pa.proposals["scenario"] == scen].reset_index(drop=True)
        for k, site in enumerate(["programme", *map(str, info["proposal"])]):
            tid = f"{pre}t-prop-programme" if k == 0 else f"{pre}t-prop-{k}-summary"
            bases = ("programme",) if k == 0 else ("alone", "contribution")
            table = _table(text, tid)
            head = _cells(re.search(r"<thead>.*?</thead>", table, re.S).group(0)) if table else []
            last = head[-1].split(", ")[-1] if head else ""
            for cells in _rows(table):
                label = cells[1]
                if label in PROPOSAL_SNAPSHOT:
                    metric, which = PROPOSAL_SNAPSHOT[label]
                    for b, cell in zip(bases, cells[2:], strict=False):
                        row = _Row("all", g_all, metric, scen, site, b)
                        rel.see(_impact_key(row, which), cell, tol)
                measure = PROPOSAL_MEASURES.get(label)
                if measure:
                    for b, cell in zip(bases, cells[2 + len(bases) :], strict=False):
                        _see_flow_cell(rel, _pflow_key(scen, site, b, last, measure, "central"),
                                       cell, count, b)  # fmt: skip
                col = PROPOSAL_MIT_ROWS.get(label)
                if col and k > 0:  # the last year's mitigations (flow model)
                    for b, cell in zip(bases, cells[2 + len(bases) :], strict=False):
                        _see_mity_cell(rel, (scen, site, b, last), col, cell, tol)
            if k == 0:
                continue
            table = _table(text, f"{pre}t-prop-{k}-yby")
            if not table:
                continue
            years = _cells(re.search(r"<thead>.*?</thead>", table, re.S).group(0))[2:]
            measure = mit_col = ""
            for cells in _rows(table):
                if cells[0]:
                    measure = PROPOSAL_MEASURES.get(cells[0], "")
                    mit_col = PROPOSAL_MIT_ROWS.get(cells[0], "")
                b = cells[1].lower()
                if mit_col:
                    for y, cell in zip(years, cells[2:], strict=True):
                        _see_mity_cell(rel, (scen, site, b, y), mit_col, cell, tol)
                if not measure:
                    continue
                for y, cell in zip(years, cells[2:], strict=True):
                    _see_flow_cell(rel, _pflow_key(scen, site, b, y, measure, "central"), cell,
                                   count, b)  # fmt: skip


#: The proposal pages' mitigation rows -> the year table's quantity.
PROPOSAL_MIT_ROWS = {"Pupils covered by a mitigation": "pupils", "Mitigation cost a year": "gbp"}


def _see_mity_cell(
    rel: Release, where: tuple[str, ...], col: str, cell: str, tol: float, rule: str = MIT_ALL
) -> None:
    """A proposal page's year-by-year mitigation cell: a rule's (``All rules``) change row, the
    difference of two published levels; ``withheld`` is hidden."""
    scen, site, basis, year = where
    key: Key = ("mity", scen, site, basis, "change", year, rule, col)
    text = "c" if cell.strip() == "withheld" else cell.strip()
    hit = re.fullmatch(r"(\S+)(?: \(.*\))?", text)
    if hit:
        rel.see(key, hit.group(1), 2 * (500.0 if col == "gbp" else 0.5) + tol)


def _see_flow_cell(rel: Release, key: Key, cell: str, count: float, basis: str) -> None:
    hit = re.fullmatch(r"(\S+)(?: \((\S+) to (\S+)\))?", cell.strip())
    if not hit:
        return
    # a change is the difference of two published (rounded) levels
    rel.see(key, hit.group(1), 2 * count)
    if basis != "contribution":
        for stat, part in zip(("lower", "upper"), hit.groups()[1:], strict=True):
            if part is not None:
                rel.see((*key[:-1], stat), part, 2 * (count - 0.5))


@dataclass
class _Row:
    group_type: str
    group: str
    metric: str
    scenario_name: str
    proposal: str
    basis: str


def add_proposal_relations(rel: Release) -> None:
    """A contribution is the programme's level minus the level without the proposal."""
    for k in list(rel.truth):
        if k[0] == "pcontrib":
            _, y, scen, proposal, m, s = k
            rel.relate({k: 1.0, ("flow", y, scen, m, s): -1.0,
                        ("flow", y, f"{scen} | without {proposal}", m, s): 1.0})  # fmt: skip


#: Impact counts a pupil enters or leaves only by changing setting (and all pupils).
MOVER_COUNTS = ("pupils", "over_threshold_n", "ooa_placements", "independent_placements",
                "ferry_journeys", "over_threshold_road_n", "beyond_walking_n")  # fmt: skip


def _run_pairs(rel: Release) -> list[tuple[str, str, str, str]]:
    """(scenario, base run, scenario run, movers' run) of every impact comparison: the
    programme (baseline -> scenario), a proposal alone (baseline -> alone) and a contribution
    (the programme without it -> the programme, its movers its own)."""
    runs = {k[1] for k in rel.truth if k[0] == "imp"}
    out = []
    for run in runs:
        if "|alone|" in run:
            out.append((run.split("|", 1)[0], "baseline", run, run))
        elif "|without|" in run:
            scen, proposal = run.split("|without|")
            out.append((scen, run, scen, f"{scen}|contribution|{proposal}"))
        elif "|" not in run and run != "baseline":
            out.append((run, "baseline", run, run))
    return out


def add_mover_relations(rel: Release, first: str) -> None:
    """Only the pupils who change setting change placement or journey: in every group a count's
    baseline and scenario differ by at most the movers (none: equal); pupils leave an existing
    setting only (a flow or a setting's total falls or stays, by at most its home area's
    movers); where the proposals serve different pupils their changes (alone, and as
    contributions) add up to the programme's change."""
    by_scen: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for scen, base, run, movers in _run_pairs(rel):
        by_scen[scen].append((base, run, movers))
        for k in [k for k in rel.truth if k[0] == "imp" and k[1] == run and k[4] in MOVER_COUNTS]:
            _, _, gt, g, m = k
            b, mv = ("imp", base, gt, g, m), ("imp", movers, gt, g, "moved_n")
            rel.relate_ub({k: 1.0, b: -1.0, mv: -1.0})
            rel.relate_ub({b: 1.0, k: -1.0, mv: -1.0})
        if base == "baseline" and run == scen:  # the programme
            continue
        # a proposal serves the phases and needs its page names: no change in the others
        for k in [k for k in rel.truth if k[0] == "imp" and k[1] == run and k[4] in MOVER_COUNTS
                  and k[2] in ("phase", "need_type")]:  # fmt: skip
            if rel.truth.get(("imp", movers, k[2], k[3], "moved_n")) == 0:
                rel.relate({k: 1.0, ("imp", base, *k[2:]): -1.0})
    for k in [k for k in rel.truth if k[0] in ("oflow", "setting") and k[-1] == "baseline"]:
        s = (*k[:-1], first)
        rel.relate_ub({s: 1.0, k: -1.0})
        if k[0] == "oflow":
            rel.relate_ub({k: 1.0, s: -1.0, ("imp", first, "area", k[1], "moved_n"): -1.0})
    for scen, comparisons in by_scen.items():
        alone = [run for base, run, _ in comparisons if "|alone|" in run]
        without = [base for base, _, _ in comparisons if "|without|" in base]
        for k in [k for k in rel.truth if k[:2] == ("imp", scen) and k[4] in IMPACT_COUNTS]:
            _, _, gt, g, m = k
            b = ("imp", "baseline", gt, g, m)
            terms = {("imp", r, gt, g, m): -1.0 for r in alone}
            rel.relate({k: 1.0, b: len(alone) - 1.0, **terms})
            terms = {("imp", r, gt, g, m): -1.0 for r in without}
            rel.relate({k: len(without) - 1.0, b: 1.0, **terms})


def read_time_bands(rel: Release, result, text: str, tol: float) -> None:
    """The report's bar chart of pupils per journey-time band (values labelled on the bars)."""
    for scen, pre in _prefixes(result).items():
        bands = result.layers[scen].time_bands
        for r in bands.itertuples(index=False):
            for which in ("baseline", "scenario"):
                rel.truth[("band", scen, str(r.band), which)] = float(getattr(r, which))
        m = re.search(rf'<figure id="{pre}f-time-bands".*?</figure>', text, re.S)
        if not m:
            continue
        labels = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", m.group(0))]
        band_names = [str(b) for b in bands["band"]]
        values: list[str] = []
        for t in labels:
            if t in band_names:
                for which, v in zip(("baseline", "scenario"), values[-2:], strict=False):
                    rel.see(("band", scen, t, which), v, tol)
                values = []
            else:
                values.append(t)


def add_band_relations(rel: Release, all_group: str, limits: tuple[float, ...]) -> None:
    """Bands add up to all pupils; the baseline's bands are every scenario's; the pupils over
    the reasonable maxima (``limits``, per phase) lie in the bands above them."""
    by: dict[tuple[str, str], dict[Key, float]] = defaultdict(dict)
    for k in rel.truth:
        if k[0] == "band":
            by[(k[1], k[3])][k] = 1.0
    for (scen, which), terms in by.items():
        run = "baseline" if which == "baseline" else scen
        rel.relate({**terms, ("imp", run, "all", all_group, "pupils"): -1.0})
        # over the reasonable maximum (per phase): every pupil from the longest maximum up, no
        # pupil below the shortest
        over = ("imp", run, "all", all_group, "over_threshold_n")
        edges = dict(zip(TIME_BAND_LABELS, itertools.pairwise((0.0, *TIME_BAND_EDGES_MIN,
                                                                np.inf)), strict=True))  # fmt: skip
        inside = {k: 1.0 for k in terms if edges[k[2]][0] >= max(limits)}
        reach = {k: -1.0 for k in terms if edges[k[2]][1] > min(limits)}
        rel.relate_ub({**inside, over: -1.0})
        rel.relate_ub({**reach, over: 1.0})
        for other in {s for s, _ in by} - {scen}:
            if which == "baseline":
                for k in terms:
                    rel.relate({k: 1.0, ("band", other, k[2], "baseline"): -1.0})


def read_comparison(rel: Release, result, folder: Path, text: str, tol: float) -> None:
    """``comparison.csv`` and the report's comparison table: the programmes' all-pupil cells."""
    first = next(iter(result.impacts.values())).table
    g_all = str(first.loc[first["group_type"].eq("all"), "group"].iloc[0])
    path = folder / "comparison.csv"
    labels: dict[str, str] = {}
    if path.exists():
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for r in df.to_dict("records"):
            labels[r["label"]] = r["metric"]
            row = _Row("all", g_all, r["metric"], r["scenario_name"], "programme", "programme")
            t = tol if r["metric"] in IMPACT_COUNTS else 5e-4 * max(1.0, abs(_f(r["scenario"])))
            for which in ("baseline", "scenario", "change"):
                rel.see(_impact_key(row, which), r[which], t)
    names = list(result.scenarios)
    for cells in _rows(_table(text, "t-compare")):
        metric = labels.get(cells[0])
        if metric not in IMPACT_COUNTS:
            continue
        row = _Row("all", g_all, metric, names[0], "programme", "programme")
        rel.see(_impact_key(row, "baseline"), cells[1], tol)
        for j, name in enumerate(names):
            row = _Row("all", g_all, metric, name, "programme", "programme")
            rel.see(_impact_key(row, "scenario"), cells[2 + 2 * j], tol)
            rel.see(_impact_key(row, "change"), cells[3 + 2 * j], tol)


def _f(text: str) -> float:
    v = _num(text)
    return v if isinstance(v, float) else 0.0


OPT_FILES = {"programme.csv": "site_id", "budget_curve.csv": "step", "alternatives.csv": "kind"}


def read_optimise(rel: Release, result, folder: Path) -> None:
    """``optimise/``: pupils placed per chosen site, per budget step and per alternative."""
    from placeplan.publish.programme import programme_tables

    study = getattr(result, "programme", None)
    opt = folder / "optimise"
    if study is None or not opt.is_dir():
        return
    true = programme_tables(study, threshold=1, round_to=0, mode="internal")
    frames = {"programme.csv": true.programme, "budget_curve.csv": true.curve,
              "alternatives.csv": true.alternatives}  # fmt: skip
    for name, id_col in OPT_FILES.items():
        path = opt / name
        if not path.exists():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for j, (r, t) in enumerate(zip(df.to_dict("records"), frames[name].to_dict("records"),
                                       strict=True)):  # fmt: skip
            rid = f"{r[id_col]}#{j}" if name == "alternatives.csv" else str(r[id_col])
            for col in ("pupils_placed", "savings", "marginal_value"):
                if col in r:
                    key: Key = ("opt", name, rid, col)
                    v = _num(t[col])
                    if isinstance(v, float):
                        rel.truth[key] = v
                    rel.see(key, r[col], 0.005 + 1e-9)


def add_optimise_relations(rel: Release) -> None:
    """The chosen sites' pupils add up to the programme's (best alternative, last budget step
    where it is the same programme)."""
    sites = {
        k: 1.0 for k in rel.truth if k[:2] == ("opt", "programme.csv") and k[3] == "pupils_placed"
    }
    others = [k for k in rel.truth if k[0] == "opt" and k[1] != "programme.csv"
              and k[3] == "pupils_placed"]  # fmt: skip
    for k in others:
        rel.relate({**sites, k: -1.0})


def add_site_order_relations(rel: Release, order: list[str]) -> None:
    """``site_scores.csv`` lists sites best first: a site with a hidden score sits between the
    published scores above and below it; a gap in the published ranks holds hidden sites whose
    scores lie between the scores around the gap."""
    published = {k: vs[0][0] for k, vs in rel.obs.items() if vs and vs[0][0] is not None}
    shown = [s for s in order if ("site", s, "score") in published]
    ranks = [published.get(("site", s, "rank")) for s in shown]
    if ranks != sorted(r for r in ranks if r is not None):
        return  # not in rank order: the order says nothing
    for i, s in enumerate(order):
        if s in shown:
            continue
        above = [t for t in order[:i] if t in shown]
        below = [t for t in order[i + 1 :] if t in shown]
        if above:
            rel.relate_ub({("site", s, "score"): 1.0, ("site", above[-1], "score"): -1.0})
        if below:
            rel.relate_ub({("site", below[0], "score"): 1.0, ("site", s, "score"): -1.0})
    # gaps in the published ranks: the hidden sites fill them (ranks count the sites above)
    by_rank = sorted((r, s) for s, r in zip(shown, ranks, strict=True) if r is not None)
    expected, gaps = 1.0, []
    for j, (r, _) in enumerate(by_rank):
        if r > expected:
            gaps.append(j)  # hidden sites between by_rank[j - 1] and by_rank[j]
        expected = r + sum(1 for q, _ in by_rank if q == r)
    hidden = [s for s in order if s not in shown]
    if not hidden or (not gaps and expected > len(order)):
        return
    top = by_rank[gaps[0] - 1][1] if gaps and gaps[0] > 0 else None
    bottom = by_rank[gaps[-1]][1] if gaps and expected > len(order) else None
    for s in hidden:
        if top is not None:
            rel.relate_ub({("site", s, "score"): 1.0, ("site", top, "score"): -1.0})
        if bottom is not None:
            rel.relate_ub({("site", bottom, "score"): 1.0, ("site", s, "score"): -1.0})


# --------------------------------------------------------------------------- relations
def add_relations(rel: Release, lsoa_area: dict[str, str]) -> None:
    keys = list(rel.truth)
    # impact: each grouping sums to the all-pupils row; change = scenario - baseline
    imp = [k for k in keys if k[0] == "imp" and k[4] in IMPACT_COUNTS]
    groups: dict[tuple[str, str, str], dict[Key, float]] = defaultdict(dict)
    totals: dict[tuple[str, str], Key] = {}
    for k in imp:
        _, run, gt, _, m = k
        if gt == "all":
            totals[(run, m)] = k
        else:
            groups[(run, gt, m)][k] = 1.0
    for (run, _, m), terms in groups.items():
        if (run, m) in totals:
            rel.relate({**terms, totals[(run, m)]: -1.0})
    for k in keys:
        if k[0] == "imp-chg":
            _, scen, gt, g, m = k
            rel.relate({k: 1.0, ("imp", scen, gt, g, m): -1.0, ("imp", "baseline", gt, g, m): 1.0})
        elif k[0] == "imp-contrib":  # a proposal's contribution: programme - programme without it
            _, pair, gt, g, m = k
            run, base = pair.split("|", 1)
            rel.relate({k: 1.0, ("imp", run, gt, g, m): -1.0, ("imp", base, gt, g, m): 1.0})
    # flows: identities within a run and year, years, changes
    flow = [k for k in keys if k[0] == "flow"]
    by: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for _, y, run, m, s in flow:
        by[(y, run, s)].add(m)
    years = sorted({k[1] for k in flow})
    for (y, run, s), ms in by.items():

        def f(m: str, y: str = y, run: str = run, s: str = s) -> Key:
            return ("flow", y, run, m, s)

        parts = [m for m in ms if m.startswith("placements:")]
        rel.relate({f("placed"): -1.0, **{f(m): 1.0 for m in parts}})
        rel.relate(
            {f("out_of_area"): -1.0, **{f(m): 1.0 for m in parts if m.endswith(":out_of_area")}}
        )
        rel.relate(
            {f("independent_non_maintained"): -1.0,
             **{f(m): 1.0 for m in parts if ("independent" in m or "non_maintained" in m)}}
        )  # fmt: skip
        rel.relate({f("cohort"): 1.0, f("placed"): -1.0, f("unplaced"): -1.0})
        if run.endswith(CHANGE):
            for m in ms:
                rel.relate({f(m): 1.0, ("flow", y, run.removesuffix(CHANGE), m, s): -1.0,
                            ("flow", y, "baseline", m, s): 1.0})  # fmt: skip
        t = years.index(y)
        if t:
            rel.relate({f("cohort"): 1.0, ("flow", years[t - 1], run, "cohort", s): -1.0,
                        f("new_plans"): -1.0, f("leavers"): 1.0, f("ceased"): 1.0})  # fmt: skip
    # the same quantity in two files: base year of the flows vs the impact baseline
    all_imp = {k[4]: k for k in imp if k[1] == "baseline" and k[2] == "all"}
    if years:
        for m_imp, m_flow in (("ooa_placements", "out_of_area"),
                              ("independent_placements", "independent_non_maintained"),
                              ("over_threshold_n", "over_max_journey"),
                              ("ferry_journeys", "ferry_journeys"),
                              ("pupils", "placed"), ("pupils", "cohort")):  # fmt: skip
            if m_imp in all_imp:
                rel.relate(
                    {all_imp[m_imp]: 1.0, ("flow", years[0], "baseline", m_flow, "central"): -1.0}
                )
    # LSOAs add up to their planning area and to all pupils
    lsoa = [k for k in keys if k[0] == "lsoa"]
    by_area: dict[str, dict[Key, float]] = defaultdict(dict)
    for k in lsoa:
        by_area[lsoa_area.get(k[1], "")][k] = 1.0
    for area, terms in by_area.items():
        rel.relate({**terms, ("imp", "baseline", "area", area, "pupils"): -1.0})
    if "pupils" in all_imp:
        rel.relate({**dict.fromkeys(lsoa, 1.0), all_imp["pupils"]: -1.0})
    add_score_relations(rel)


def add_score_relations(rel: Release) -> None:
    """Site scores: norm affine in the raw count (learnt from published pairs), contribution =
    weight x norm, score = sum of contributions; the candidate layer repeats the site's score."""
    sites = sorted({k[1] for k in rel.truth if k[0] == "site"})
    published = {k: vs[0][0] for k, vs in rel.obs.items() if vs and vs[0][0] is not None}
    for crit in CRITERIA:
        raw, norm, contrib = crit.raw_col, f"{crit.key}_norm", f"{crit.key}_contrib"
        pairs = [
            (published[("site", s, raw)], published[("site", s, norm)])
            for s in sites
            if ("site", s, raw) in published and ("site", s, norm) in published
        ]
        distinct = {p[0]: p[1] for p in pairs}
        if len(distinct) >= 2:
            (x0, y0), (x1, y1) = sorted(distinct.items())[:2]
            a = (y1 - y0) / (x1 - x0)
            b = y0 - a * x0
            for s in sites:
                rel.relate({("site", s, norm): 1.0, ("site", s, raw): -a}, b)
        ws = [
            published[("site", s, contrib)] / published[("site", s, norm)]
            for s in sites
            if published.get(("site", s, norm)) and ("site", s, contrib) in published
        ]
        if ws:
            for s in sites:
                rel.relate({("site", s, contrib): 1.0, ("site", s, norm): -ws[0]})
    # ranks: a site ranked better has a score at least as high (ties share a rank)
    ranked = sorted(
        (published[("site", s, "rank")], s) for s in sites if ("site", s, "rank") in published
    )
    for (r0, s0), (r1, s1) in itertools.pairwise(ranked):
        if r0 < r1 and ("site", s0, "score") in rel.truth and ("site", s1, "score") in rel.truth:
            rel.bounds_ub.append(({("site", s1, "score"): 1.0, ("site", s0, "score"): -1.0}, 0.0))
    # the published score ranges (score_low <= score <= score_high) where a criterion is hidden
    for s in sites:
        key: Key = ("site", s, "score")
        lo, hi = published.get(("site", s, "score_low")), published.get(("site", s, "score_high"))
        if key in rel.truth and lo is not None and hi is not None:
            assert lo - 1e-9 <= rel.truth[key] <= hi + 1e-9, (s, lo, rel.truth[key], hi)
            rel.bounds_ub.append(({key: 1.0}, hi + 1e-9))
            rel.bounds_ub.append(({key: -1.0}, -lo + 1e-9))
    for s in sites:
        contribs = {("site", s, f"{c.key}_contrib"): 1.0 for c in CRITERIA}
        rel.relate({**contribs, ("site", s, "score"): -1.0})
        rel.relate({("cand", s, "score"): 1.0, ("site", s, "score"): -1.0})


# --------------------------------------------------------------------------- the attack
def attack(rel: Release, only: set[Key] | None = None) -> list[tuple[Key, float, float, float]]:
    """Bound every suppressed count by LP; return the ones that come back.

    A cell comes back when its interval lies within 1 .. threshold - 1 (a small count
    recovered) or is narrower than one pupil (a cell hidden to protect another, undone).
    Each finding is ``(key, lowest, highest, true value)``; ``only``: bound just these cells.
    """
    hidden = rel.hidden()
    parent: dict[Key, Key] = {}

    def find(k: Key) -> Key:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    every = rel.relations + rel.bounds_ub
    n_eq = len(rel.relations)
    for terms, _ in every:
        ks = list(terms)
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    comps: dict[Key, list[int]] = defaultdict(list)
    for i, (terms, _) in enumerate(every):
        comps[find(next(iter(terms)))].append(i)
    found = []
    for rows in comps.values():
        eqs = [i for i in rows if i < n_eq]
        ubs = [i for i in rows if i >= n_eq]
        keys = sorted({k for i in rows for k in every[i][0]})
        targets = [k for k in keys if k in hidden and _is_count(k) and (only is None or k in only)]
        if not targets:
            continue
        bounds = []
        for k in keys:
            lo, hi = (0.0 if _is_count(k) or k[0] == "rest" else -np.inf), np.inf
            for v, tol in rel.obs.get(k, []):
                if v is not None:
                    lo, hi = max(lo, v - tol), min(hi, v + tol)
            if _known_small(k, hidden):
                lo, hi = max(lo, 1.0), min(hi, rel.threshold - 1.0)
            bounds.append((lo, hi))
        h = _model(keys, [every[i] for i in eqs], [every[i] for i in ubs], bounds)
        pos = {k: j for j, k in enumerate(keys)}
        for k in _uncertified(h, pos, targets, rel, bounds):
            lo, hi = _range(h, pos[k])
            truth = rel.truth.get(k, np.nan)
            assert lo - 1e-6 <= truth <= hi + 1e-6 or np.isnan(truth), (k, lo, hi, truth)
            small = lo >= 1 - 1e-6 and hi <= rel.threshold - 1 + 1e-6
            small = small and not _known_small(k, hidden)
            if (small or hi - lo < 1 - 1e-6) and k not in rel.known:
                found.append((k, float(lo), float(hi), float(truth)))
    return found


def _known_small(key: Key, hidden: set[Key]) -> bool:
    """A hidden site-score count: ``site_scores`` has no secondary suppression and the report
    says its ``c`` means 1 to 4 pupils, so the intruder knows that much already (and the score
    ranges publish what follows from it); recovering it means pinning it closer than a pupil."""
    return key[0] == "site" and key in hidden and _is_count(key)


def _uncertified(h, pos: dict[Key, int], targets: list[Key], rel: Release, bounds) -> list[Key]:
    """The targets that a few shared LPs cannot show safe (only these get their own two LPs).

    A cell is safe when its range is at least one pupil wide and not within 1 .. threshold - 1.
    Its true value lies in the range, so one feasible point with the cell at or above
    ``max(true + 1, threshold)`` shows it safe, as does one at or below ``min(true - 1, 0)``.
    Points are found by pushing every undecided cell up together (capped there, so the LP stays
    bounded), then down, until a round decides nothing new.
    """
    import highspy

    th = rel.threshold
    todo = [k for k in targets if not np.isnan(rel.truth.get(k, np.nan))]
    rest = [k for k in targets if k not in set(todo)]
    for sense in (-1.0, 1.0):  # -1: maximise the sum (push up); +1: minimise it (push down)
        while todo:
            goal = {
                k: max(rel.truth[k] + 1, th) if sense < 0 else min(rel.truth[k] - 1, 0.0)
                for k in todo
            }
            for k in todo:
                j = pos[k]
                lo, hi = bounds[j]
                if sense < 0:
                    h.changeColBounds(j, lo, min(hi, goal[k] + 1))
                else:
                    h.changeColBounds(j, max(lo, goal[k] - 1), hi)
                h.changeColCost(j, sense)
            h.run()
            ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            x = np.asarray(h.getSolution().col_value) if ok else None
            for k in todo:
                j = pos[k]
                h.changeColCost(j, 0.0)
                h.changeColBounds(j, *bounds[j])
            if x is None:
                break
            done = {
                k
                for k in todo
                if (x[pos[k]] >= goal[k] - 1e-6 if sense < 0 else x[pos[k]] <= goal[k] + 1e-6)
            }
            if not done:
                break
            todo = [k for k in todo if k not in done]
    return todo + rest


def _model(keys, eqs, ubs, bounds):
    """One HiGHS model per component (rows: equalities then inequalities); objectives change."""
    import highspy
    from scipy.sparse import csc_matrix

    pos = {k: j for j, k in enumerate(keys)}
    rows, cols, vals = [], [], []
    for r, (terms, _) in enumerate([*eqs, *ubs]):
        for k, c in terms.items():
            rows.append(r)
            cols.append(pos[k])
            vals.append(c)
    n_rows = len(eqs) + len(ubs)
    a = csc_matrix((vals, (rows, cols)), shape=(n_rows, len(keys)))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(keys), n_rows
    lp.col_cost_ = np.zeros(len(keys))
    lp.col_lower_ = np.array([max(lo, -inf) for lo, _ in bounds])
    lp.col_upper_ = np.array([min(hi, inf) for _, hi in bounds])
    lp.row_lower_ = np.array([c for _, c in eqs] + [-inf] * len(ubs), dtype=float)
    lp.row_upper_ = np.array([c for _, c in [*eqs, *ubs]], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(keys), n_rows
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h


def _range(h, j: int) -> tuple[float, float]:
    """Smallest and largest value of column ``j`` over the model's feasible set."""
    import highspy

    out = []
    for cost in (1.0, -1.0):
        h.changeColCost(j, cost)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            out.append(cost * h.getInfo().objective_function_value)
        else:
            assert status in (
                highspy.HighsModelStatus.kUnbounded,
                highspy.HighsModelStatus.kUnboundedOrInfeasible,
            ), status
            out.append(-cost * np.inf)
        h.changeColCost(j, 0.0)
    return out[0], out[1]


def _is_count(k: Key) -> bool:
    if k[0] == "imp":
        return k[4] in IMPACT_COUNTS
    if k[0] == "flow":
        return not k[2].endswith(CHANGE) and k[3] not in FLOW_NON_COUNTS
    if k[0] == "site":
        return k[2] in SCORE_COUNTS
    if k[0] in ("setting", "oflow", "band"):
        return True
    if k[0] in ("mit", "mity"):
        return k[4] != "change" and k[7].startswith("pupils")
    if k[0] == "opt":
        return k[3] == "pupils_placed"
    return (k[0], k[2]) in (("lsoa", "pupils"), ("cand", "pupils_served"))


# --------------------------------------------------------------------------- runs
def release_of(result, folder: Path) -> Release:
    """Read every published output in ``folder`` and the run's truth; add the relations."""
    import pyogrio

    from placeplan.publish.report.sections.year_by_year import HEADLINE_MEASURES

    d = result.plan.disclosure
    tol = max(d.round_to / 2.0, 5e-4) + 1e-9
    rel = Release(threshold=d.threshold)
    # truth
    first = next(iter(result.scenarios))
    frames = [t.table.assign(scenario_name=n) for n, t in result.impacts.items()]
    pa = getattr(result, "proposals", None)
    for (scen, proposal, basis), imp in ({} if pa is None else pa.impacts).items():
        if proposal != "programme":  # each proposal alone and as its contribution
            frames.append(imp.table.assign(scenario_name=scen, proposal=proposal, basis=basis))
    read_impact(rel, pd.concat(frames, ignore_index=True), tol, truth=True)
    if result.flows is not None:
        read_flows(rel, result.flows, tol, truth=True)
    if result.site_scores is not None:
        read_scores(rel, result.site_scores, truth=True)
    lay = result.layers[first]
    if lay.areas is not None:
        read_layer_counts(rel, lay.areas, "lsoa", "area_id", ("pupils",), tol, truth=True)
    read_layer_counts(
        rel, lay.sites, "cand", "site_id", ("pupils_served", "score"), tol, truth=True
    )
    # published
    csv = {p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in folder.glob("*.csv")}
    read_impact(rel, csv["impact.csv"], tol)
    if "flows.csv" in csv:
        read_flows(rel, csv["flows.csv"], tol)
    if "site_scores.csv" in csv:
        read_scores(rel, csv["site_scores.csv"])
    gpkg = folder / "layers.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    if "areas_journey_times" in layers:
        df = pyogrio.read_dataframe(gpkg, layer="areas_journey_times", read_geometry=False)
        read_layer_counts(rel, df.astype(str), "lsoa", "area_id", ("pupils",), tol)
    df = pyogrio.read_dataframe(gpkg, layer="candidate_sites", read_geometry=False)
    read_layer_counts(rel, df.astype(str), "cand", "site_id", ("pupils_served", "score"), tol)
    read_map_pages(rel, folder, tol)
    labels = {label: m for m, label, fmt in HEADLINE_MEASURES if fmt == "count"}
    for page in sorted(folder.glob("report*.html")):
        read_report(rel, page, labels, tol)
    pupils = result.inputs.pupils
    lsoa_area = (
        pupils.groupby("lsoa11cd")["area"].agg(lambda s: s.mode().iat[0]).astype(str).to_dict()
        if {"lsoa11cd", "area"} <= set(pupils.columns)
        else {}
    )
    text = (folder / "report.html").read_text(encoding="utf-8")
    read_ooa_tables(rel, result, text, tol)
    # (a) mitigations, (b) journey-time bands, (c) proposal pages, (d) comparison, (e) optimise/
    mit = mitigation_truth(result)
    if not mit.empty:
        read_mitigations(rel, mit, tol, truth=True)
        rel.who = dict(zip(mit["rule"].astype(str), mit["who"].astype(str), strict=True))
    if "mitigations.csv" in csv:
        read_mitigations(rel, csv["mitigations.csv"], tol)
    if getattr(result, "mitigations_by_year", None) is not None:
        read_mitigations_by_year(rel, result.mitigations_by_year, tol, truth=True)
    if "mitigations_by_year.csv" in csv:
        read_mitigations_by_year(rel, csv["mitigations_by_year.csv"], tol)
    read_report_mitigations(rel, result, text, tol)
    proposal_flow_truth(rel, result, tol)
    read_proposal_pages(rel, result, text, tol)
    read_time_bands(rel, result, text, tol)
    read_comparison(rel, result, folder, text, tol)
    read_optimise(rel, result, folder)
    add_relations(rel, lsoa_area)
    g_all = next((k[3] for k in rel.truth if k[0] == "imp" and k[2] == "all"), "all pupils")
    add_mitigation_relations(rel, g_all)
    add_mitigation_year_relations(rel)
    add_proposal_relations(rel)
    add_mover_relations(rel, first)
    t = result.plan.thresholds
    add_band_relations(rel, g_all, (t.max_journey_primary_min, t.max_journey_secondary_min))
    add_optimise_relations(rel)
    if "site_scores.csv" in csv:
        add_site_order_relations(rel, list(csv["site_scores.csv"]["site_id"].astype(str)))
    return rel


def run_sample(tmp: Path, *, fraction: float | None = None, seed: int = 0, round_to: int = 0):
    """Run and publish the sample (optionally a seeded random sub-cohort of its pupils)."""
    from placeplan.pipeline import run_and_publish

    plan = load_plan(SAMPLE / "plan.toml")
    update: dict[str, object] = {
        "plan": plan.plan.model_copy(update={"output_dir": tmp / "out"}),
        "disclosure": plan.disclosure.model_copy(update={"round_to": round_to}),
    }
    if fraction is not None:
        pupils = pd.read_csv(plan.path(plan.inputs.pupils), dtype=str, keep_default_na=False)
        cohort = pupils.sample(frac=fraction, random_state=seed)
        path = tmp / "pupils.csv"
        cohort.to_csv(path, index=False)
        update["inputs"] = plan.inputs.model_copy(update={"pupils": path})
    plan = plan.model_copy(update=update)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        result, _ = run_and_publish(plan)
    return result, tmp / "out"


def _report(found: list[tuple[Key, float, float, float]]) -> str:
    return "\n".join(f"{k}: in [{lo:g}, {hi:g}] (true {t:g})" for k, lo, hi, t in found[:20])


@pytest.fixture(scope="module")
def sample_release(tmp_path_factory) -> Release:
    result, out = run_sample(tmp_path_factory.mktemp("intruder-sample"))
    return release_of(result, out)


def test_intruder_reads_every_output(sample_release):
    """The attacker really sees the outputs: every source contributes cells and relations."""
    kinds = {k[0] for k in sample_release.obs}
    assert {"imp", "imp-chg", "flow", "site", "lsoa", "cand", "setting", "oflow"} <= kinds
    # mitigations, journey-time bands, proposal pages' contributions, optimise/
    assert {"mit", "mity", "band", "pcontrib", "opt"} <= kinds
    assert len(sample_release.relations) > 100
    # every cell read has its true value (a cell read under the wrong key would not)
    assert all(k in sample_release.truth for k in sample_release.obs if _is_count(k))
    related = {k[0] for terms, _ in sample_release.relations for k in terms}
    assert {"imp-contrib", "mit", "mity", "band", "pcontrib", "opt"} <= related
    assert sample_release.hidden()  # the sample does suppress cells


def test_intruder_recovers_nothing_from_the_sample(sample_release):
    found = attack(sample_release)
    assert not found, _report(found)


@pytest.mark.parametrize("seed", [1])
def test_intruder_recovers_nothing_from_a_random_cohort(tmp_path, seed):
    result, out = run_sample(tmp_path, fraction=0.35, seed=seed)
    found = attack(release_of(result, out))
    assert not found, _report(found)


@pytest.mark.slow
@pytest.mark.parametrize(("fraction", "seed"), [(0.15, 2), (0.5, 3), (0.25, 4), (0.8, 5), (0.1, 7)])
def test_intruder_recovers_nothing_from_more_random_cohorts(tmp_path, fraction, seed):
    result, out = run_sample(tmp_path, fraction=fraction, seed=seed)
    found = attack(release_of(result, out))
    assert not found, _report(found)


@pytest.mark.slow
def test_intruder_recovers_nothing_with_rounding(tmp_path):
    """Counts rounded to the nearest 5 (the plan's ``round_to``): rounding is the attacker's
    tolerance, suppression still holds."""
    result, out = run_sample(tmp_path, fraction=0.4, seed=6, round_to=5)
    found = attack(release_of(result, out))
    assert not [f for f in found if f[1] >= 1 - 1e-6 and f[2] <= 4 + 1e-6], _report(found)


def test_intruder_recovers_cells_from_an_unsafe_output(tmp_path):
    """Show the attack can fail the suite: primary suppression alone, changes published."""
    truth = pd.DataFrame(
        {
            "scenario_name": "S",
            "group_type": ["all", "phase", "phase", "phase"],
            "group": ["all pupils", "primary", "secondary", "post16"],
            "metric": "ooa_placements",
            "baseline": [20, 3, 9, 8],
            "scenario": [17, 0, 9, 8],
            "change": [-3, -3, 0, 0],
        }
    )
    unsafe = truth.astype(object)
    unsafe.loc[1, "baseline"] = "c"  # primary only: the 3 is hidden, the rest published
    rel = Release(threshold=5)
    read_impact(rel, truth, 0.0, truth=True)
    read_impact(rel, unsafe, 5e-4)
    add_relations(rel, {})
    found = attack(rel)
    assert [k for k, *_ in found] == [("imp", "baseline", "phase", "primary", "ooa_placements")]
    assert found[0][1] == pytest.approx(3.0, abs=0.01)
    # the same cell hidden with its change and a second member of its grouping: nothing comes back
    safe = unsafe.copy()
    safe.loc[1, ["baseline", "change"]] = "c"
    safe.loc[2, ["baseline", "change"]] = "c"
    rel = Release(threshold=5)
    read_impact(rel, truth, 0.0, truth=True)
    read_impact(rel, safe, 5e-4)
    add_relations(rel, {})
    assert attack(rel) == []


def test_intruder_recovers_counts_from_published_derived_scores(sample_release):
    """The reviewer's defect, replayed on the real outputs: ``site_scores.csv`` with the counts
    hidden but their normalised values, contributions and score published (as before the
    register) gives the exact ``ooa_avoidable`` back."""
    rel = sample_release
    derived = [
        k
        for k in rel.hidden()
        if k[0] == "site" and (k[2].endswith(("_norm", "_contrib")) or k[2] == "score")
    ]
    assert derived  # the sample hides some site's derived scores
    unsafe = Release(rel.threshold, defaultdict(list, rel.obs), rel.truth, rel.relations)
    for k in derived:
        unsafe.obs[k] = [(rel.truth[k], 1e-9)]
    found = attack(unsafe, only={k for k in rel.hidden() if k[0] == "site"})
    recovered = {k[2] for k, lo, hi, t in found if lo >= 1 - 1e-6 and hi <= rel.threshold - 1}
    assert "ooa_avoidable" in recovered, _report(found)


def test_intruder_reveals_zeros_hidden_by_forcing_a_contribution(sample_release):
    """A proposal's contribution counts its movers and pupils whose journey gets longer against
    the programme without it: its own quantities. Forcing them hidden wherever the programme's
    are hidden (as the proposal tables did) hides zeros that the published all-pupils zero gives
    back; the attacker finds them."""
    rel = sample_release
    forced = [
        k
        for k in rel.obs
        if k[0] == "imp"
        and "|contribution|" in k[1]
        and k[4] in RELATIVE_METRICS
        and k[2] != "all"
        and ("imp", k[1].split("|")[0], *k[2:]) in rel.hidden()
        and k not in rel.hidden()
    ]
    assert forced  # the sample has programme cells hidden where a contribution publishes one
    unsafe = Release(rel.threshold, defaultdict(list, rel.obs), rel.truth, rel.relations)
    for k in forced:
        unsafe.obs[k] = [(None, 0.0)]
        scen, _, proposal = k[1].split("|")
        chg = ("imp-contrib", f"{k[1]}|{scen}|without|{proposal}", *k[2:])
        if chg in unsafe.obs:
            unsafe.obs[chg] = [(None, 0.0)]
    found = attack(unsafe, only=set(forced))
    assert found, "the forced cells stay hidden"
    assert {k for k, *_ in found} <= set(forced), _report(found)


def _site_range(rel: Release, key: Key) -> tuple[float, float]:
    """Smallest and largest value of a site quantity given the site relations alone."""

    def sites_only(terms: dict[Key, float]) -> bool:
        return all(k[0] in ("site", "cand") for k in terms)

    eqs = [r for r in rel.relations if sites_only(r[0])]
    ubs = [r for r in rel.bounds_ub if sites_only(r[0])]
    keys = sorted({k for terms, _ in [*eqs, *ubs] for k in terms} | {key})
    bounds = []
    for k in keys:
        lo, hi = (0.0 if _is_count(k) else -np.inf), np.inf
        for v, tol in rel.obs.get(k, []):
            if v is not None:
                lo, hi = max(lo, v - tol), min(hi, v + tol)
        bounds.append((lo, hi))
    return _range(_model(keys, eqs, ubs, bounds), keys.index(key))


def test_intruder_bounds_hidden_scores_from_ranks_over_every_site(sample_release):
    """Ranks over every site, listed in rank order (as ``site_scores.csv`` was), put each hidden
    score between two published ones. Today a hidden score is published as the range the
    published cells allow (``score_low``..``score_high``), ``rank`` only where those ranges fix
    it, and the rows in the ranges' order: ranks and order narrow no hidden score below its
    published range."""
    rel = sample_release
    sites = sorted({k[1] for k in rel.truth if k[0] == "site"})
    hidden = [s for s in sites if ("site", s, "score") in rel.hidden()]
    assert hidden  # the sample hides some site's score
    published = {k: vs[0][0] for k, vs in rel.obs.items() if vs and vs[0][0] is not None}
    for s in hidden:
        lo, hi = _site_range(rel, ("site", s, "score"))
        p_lo, p_hi = published[("site", s, "score_low")], published[("site", s, "score_high")]
        assert p_lo < p_hi  # a real range
        assert hi - lo >= p_hi - p_lo - 1e-6, (s, (lo, hi), (p_lo, p_hi))
    # the old release: every site's true rank, in rank order
    unsafe = Release(
        rel.threshold,
        defaultdict(list, rel.obs),
        rel.truth,
        list(rel.relations),
        list(rel.bounds_ub),
    )
    for s in sites:
        if s not in hidden:
            unsafe.obs[("site", s, "rank")] = [(rel.truth[("site", s, "rank")], 0.0)]
    order = sorted(sites, key=lambda s: (rel.truth[("site", s, "rank")], s))
    add_site_order_relations(unsafe, order)
    narrowed = []
    for s in hidden:
        key = ("site", s, "score")
        lo0, hi0 = _site_range(rel, key)
        lo1, hi1 = _site_range(unsafe, key)
        assert lo1 - 1e-6 <= rel.truth[key] <= hi1 + 1e-6
        if hi1 - lo1 < hi0 - lo0 - 1e-6:
            narrowed.append(s)
    assert narrowed, "the old ranks bound no hidden score"


def test_intruder_recovers_a_band_from_the_pupils_over_the_maximum():
    """Journey-time bands suppressed as one group (as they were): the complement hidden with a
    small band was the top band, which the impact table's pupils over the reasonable maximum
    give back (no one sits in the bands between the maxima), and with it the small band. The
    register's groups (bands under / over the shortest maximum, with those totals) do not."""
    from placeplan.publish.disclosure import suppress_table
    from placeplan.publish.register import release_run
    from placeplan.publish.report.model import ReportInputs

    counts = [391.0, 140.0, 2.0, 0.0, 0.0, 6.0]  # seeded cohort 1's baseline
    bands = pd.DataFrame({"band": list(TIME_BAND_LABELS), "baseline": counts, "scenario": counts})
    impact = pd.DataFrame(
        {
            "group_type": "all",
            "group": "all pupils",
            "metric": ["pupils", "over_threshold_n"],
            "baseline": [sum(counts), counts[-1]],
            "scenario": [sum(counts), counts[-1]],
            "change": [0.0, 0.0],
        }
    )

    def found(values: pd.DataFrame, mask: pd.DataFrame) -> list[Key]:
        rel = Release(threshold=5)
        read_impact(rel, impact.assign(scenario_name="S"), 0.0, truth=True)
        read_impact(rel, impact.assign(scenario_name="S"), 5e-4)
        for i, r in bands.iterrows():
            for w in ("baseline", "scenario"):
                key: Key = ("band", "S", str(r["band"]), w)
                rel.truth[key] = float(r[w])
                rel.see(key, "c" if mask.at[i, w] else values.at[i, w], 5e-4)
        add_band_relations(rel, "all pupils", (45.0, 75.0))
        return [k for k, *_ in attack(rel)]

    old = suppress_table(bands, count_cols=["baseline", "scenario"], group_cols=[[]], threshold=5)
    assert ("band", "S", "30–45 min", "baseline") in found(old.values, old.mask)
    ri = ReportInputs(
        plan_name="t", authority="t", run_timestamp="", placeplan_version="", config_hash="",
        plan_toml="", impact=impact, time_bands=bands, scenario_name="S",
        reasonable_journey_min={"primary": 45.0, "secondary": 75.0},
    )  # fmt: skip
    new = release_run([ri])["S"].time_bands
    assert new is not None
    assert new.mask["baseline"].sum() >= 2  # the small band is still hidden
    assert found(new.values, new.mask) == []
