"""Per-proposal travel impact: the programme, then one printable page per proposal.

Each proposal (a site, its needs, size and opening year) gets a one-screen summary of the four DfE
elements — distance, journey time, reliance on out-of-area placements and mitigations — alone
(the baseline plus only this proposal) and as its contribution to the programme (the programme
with and without it), for today's pupils and for the last year of the placement flows; then its
mitigations with their cost and its year-by-year figures. The programme section comes first.

Disclosure: snapshot figures are cells of :class:`~placeplan.publish.report.impact.ImpactTable`
(the path ``impact.csv`` takes); totals of minutes and km are hidden with the number of pupils
who change setting; mitigation counts and their £ (today's: the ``change`` rows) go through
:func:`~placeplan.publish.mitigations.published_mitigations` (the year-by-year table's rule:
a level's rules or only its total, a change hidden with either level), decided once by the
register for ``mitigations.csv`` and these pages; year-by-year figures
come from :func:`~placeplan.publish.flows.published_flows` over the variants' runs, and a
contribution is the published programme value minus the published value without the proposal
(hidden when either is hidden).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.flows import published_flows, round_measure
from placeplan.publish.report.impact import (
    ImpactTable,
    all_group,
    impact_table,
)
from placeplan.publish.report.model import Cell, Paragraph, Section, Table
from placeplan.publish.report.prose import prose

if TYPE_CHECKING:
    from collections.abc import Sequence

    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["PROGRAMME", "ProposalInputs", "section"]

PROGRAMME = "programme"
_SNAPSHOT = "snapshot"
_CHANGE = " - baseline"

#: Summary rows: (label, DfE element, snapshot source, flow measure, format). Snapshot source is
#: ``("impact", metric, which)`` or ``("total", measure)`` (hidden with ``moved_n``).
_ROWS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    ("Total one-way distance a day", "1", ("total", "distance_total_km"), "distance_total_km",
     "km"),
    ("Total one-way journey time a day", "2", ("total", "journey_time_total_min"),
     "journey_time_total_min", "minutes"),
    ("Out-of-area placements", "3", ("impact", "ooa_placements", "change"), "out_of_area",
     "count"),
    ("Independent / non-maintained placements", "3",
     ("impact", "independent_placements", "change"), "independent_non_maintained", "count"),
    ("Pupils over the reasonable maximum journey", "2", ("impact", "over_threshold_n", "change"),
     "over_max_journey", "count"),
    ("Pupils whose journey gets longer", "4", ("impact", "worse_off_n", "scenario"), "worse_off",
     "count"),
    ("Pupils who change setting", "", ("impact", "moved_n", "scenario"), "", "count"),
)  # fmt: skip
#: Year-by-year rows per proposal: (flow measure, label, format).
_YBY: tuple[tuple[str, str, str], ...] = (
    ("out_of_area", "Out-of-area placements", "count"),
    ("independent_non_maintained", "Independent / non-maintained", "count"),
    ("journey_time_total_min", "Total one-way journey time", "minutes"),
    ("worse_off", "Pupils whose journey gets longer", "count"),
    ("distance_total_km", "Total one-way distance", "km"),
)
#: The DfE elements, numbered as the summary's first column shows them.
_ELEMENT: dict[str, str] = {
    "1": "1 Distance",
    "2": "2 Journey time",
    "3": "3 Out-of-area reliance",
    "4": "4 Mitigations",
}


@dataclass(frozen=True, eq=False)
class ProposalInputs:
    """What the per-proposal sections need for one scenario (aggregates, not yet suppressed).

    Attributes
    ----------
    table
        The scenario's rows of :attr:`placeplan.compute.proposals.ProposalAssessment.table`.
    info
        ``proposal, name, needs, phases, places, opening_year, places_by_year,
        capital_cost_gbp`` per proposal.
    impacts
        ``(proposal, basis) -> impact table`` (``group_type, group, metric, baseline,
        scenario, change``); the programme's is ``("programme", "programme")``.
    mitigations
        ``proposal, basis, run, rule, what, source, pupils, cost_gbp_per_pupil_year,
        annual_cost_gbp, who, description`` (today's cohort: per proposal and basis the
        comparison level, the level with it and the ``change``).
    flows
        The variants' year-by-year levels (``flow_table`` form) or None.
    scenario
        The scenario's name (the programme's run in ``flows``).
    published
        ``(proposal, basis) -> ImpactTable`` as the run publishes them (the programme's is the
        register's; a proposal's are forced by the programme's hidden cells, as in
        ``impact.csv``); None: suppressed here from ``impacts``.
    """

    table: pd.DataFrame
    info: pd.DataFrame
    impacts: Mapping[tuple[str, str], pd.DataFrame]
    mitigations: pd.DataFrame
    flows: pd.DataFrame | None = None
    scenario: str = "Scenario"
    published: Mapping[tuple[str, str], ImpactTable] | None = None

    def __post_init__(self) -> None:
        """Refuse pupil-level columns."""
        from placeplan._errors import SchemaValidationError

        frames = [self.table, self.info, self.mitigations, *self.impacts.values()]
        if self.flows is not None:
            frames.append(self.flows)
        for df in frames:
            if any("pupil_ref" in str(c).lower() for c in df.columns):
                msg = "proposals: pupil-level column present; pass aggregates only"
                raise SchemaValidationError(msg)


# -- cells --------------------------------------------------------------------------------------
def _proposal_mitigation_years(
    table: pd.DataFrame | None, scenario: str
) -> dict[tuple[str, str, str, str], pd.Series]:
    """The published year-by-year ``change`` rows of ``scenario`` (the programme's and each
    proposal's own: alone less the baseline, the programme less the programme without it), by
    (proposal, basis, year, rule)."""
    if table is None or table.empty:
        return {}
    rows = table[table["scenario"].eq(scenario) & table["run"].eq("change")]
    return {
        (str(r["proposal"]), str(r["basis"]), str(r["year"]), str(r["rule"])): r
        for _, r in rows.iterrows()
    }


def _hidden_flows(ctx: ReportContext) -> set[tuple[str, str, str]]:
    """``(year, scenario, measure)`` cells the register's flow table (``flows.csv``) hides."""
    f = ctx.placement_flows
    if f is None or "suppressed" not in f.columns:
        return set()
    at = f["suppressed"].to_numpy(dtype=bool)
    return set(zip(f["year"][at], f["scenario"][at], f["measure"][at], strict=True))


class _Published:
    """The published figures of one scenario's proposals, looked up as report cells."""

    def __init__(self, p: ProposalInputs, ctx: ReportContext) -> None:
        th, rnd, mode = ctx.threshold, ctx.round_to, ctx.mode
        self.p = p
        self.mode_internal = mode == "internal"
        self.imp = (
            dict(p.published)
            if p.published is not None
            else {
                k: impact_table(v, threshold=th, round_to=rnd, mode=mode)
                for k, v in p.impacts.items()
            }
        )
        # the register's decision (the numbers of mitigations.csv); none without mitigations
        self.mit = (
            ctx.mitigation_levels.reset_index(drop=True)
            if ctx.mitigation_levels is not None
            else pd.DataFrame()
        )
        self.mit_mask = suppression_mask(self.mit)
        # the variants' runs; a cell flows.csv (the register) hides is hidden here too
        self.flows = (
            None
            if p.flows is None
            else published_flows(
                p.flows, threshold=th, round_to=rnd, mode=mode, hide=_hidden_flows(ctx)
            )
        )
        self.years = [] if self.flows is None else sorted(self.flows["year"].unique())
        self._flow = (
            {}
            if self.flows is None
            else {
                (y, r, m): (c, lo, hi, bool(h))
                for y, r, m, c, lo, hi, h in zip(
                    self.flows["year"],
                    self.flows["scenario"],
                    self.flows["measure"],
                    self.flows["central"],
                    self.flows["lower"],
                    self.flows["upper"],
                    self.flows["suppressed"],
                    strict=True,
                )
            }
        )
        self._mit_years = _proposal_mitigation_years(ctx.mitigations_by_year, p.scenario)
        t = p.table
        self._raw = {
            (pr, b, y, m): (lo, hi)
            for pr, b, y, m, lo, hi in zip(
                t["proposal"], t["basis"], t["year"], t["measure"], t["lower"], t["upper"],
                strict=True,
            )
        }  # fmt: skip
        self._threshold = th
        # pupils placed differently from the comparison run, per proposal, basis and year
        self._changed = {
            (pr, b, y): float(c)
            for pr, b, y, m, c in zip(
                t["proposal"], t["basis"], t["year"], t["measure"], t["central"], strict=True
            )
            if m == "placement_changed" and pd.notna(c)
        }
        self._snap = {
            (pr, b, m): c
            for pr, b, y, m, c in zip(
                t["proposal"], t["basis"], t["year"], t["measure"], t["central"], strict=True
            )
            if y == _SNAPSHOT
        }

    def snapshot(self, proposal: str, basis: str, source: tuple[str, ...], fmt: str) -> Cell:
        imp = self.imp.get((proposal, basis))
        if imp is None:
            return Cell(None, fmt)
        g = all_group(imp)
        if source[0] == "impact":
            c = imp.cell("all", g, source[1], source[2])
            return Cell(c.value, fmt, suppressed=c.suppressed, signed=source[2] == "change")
        moved = imp.cell("all", g, "moved_n", "scenario")
        v = self._snap.get((proposal, basis, source[1]))
        if moved.suppressed:
            return Cell(None, fmt, suppressed=True, signed=True)
        return Cell(None if v is None else round(float(v), 1), fmt, signed=True)

    def _level(self, year: str, run: str, measure: str) -> tuple[float | None, bool]:
        hit = self._flow.get((year, run, measure))
        if hit is None:
            return None, False
        c, _, _, hidden = hit
        return (None if hidden or pd.isna(c) else float(c)), hidden

    def flow(self, proposal: str, basis: str, year: str, measure: str, fmt: str) -> Cell:
        """A year's change: alone / programme against the baseline, contribution paired.

        A proposal's non-zero change is hidden in a year when fewer than the threshold of pupils
        (but some) are placed differently from its comparison run (``placement_changed``): its
        journey, distance and placement changes are then those few pupils' own.
        """
        cell = self._flow_change(proposal, basis, year, measure, fmt)
        if basis == PROGRAMME or cell.suppressed or self.mode_internal:
            return cell
        few = 0 < self._changed.get((proposal, basis, year), 0.0) < self._threshold
        if few and cell.value not in (None, 0.0):
            return Cell(None, fmt, suppressed=True, signed=True)
        return cell

    def _flow_change(self, proposal: str, basis: str, year: str, measure: str, fmt: str) -> Cell:
        s = self.p.scenario
        if not measure or self.flows is None:
            return Cell(None, fmt)
        if basis == "contribution":
            after = self._level(year, s, measure)
            before = self._level(year, f"{s} | without {proposal}", measure)
            if after[1] or before[1]:
                return Cell(None, fmt, suppressed=True, signed=True)
            if after[0] is None or before[0] is None:
                return Cell(None, fmt, signed=True)
            lo, hi = self._raw.get((proposal, basis, year, measure), (None, None))
            ends = [
                None if v is None else float(round_measure(measure, pd.Series([v]))[0])
                for v in (lo, hi)
            ]
            central = round(after[0] - before[0], 1) + 0.0
            return Cell(central, fmt, signed=True, low=ends[0], high=ends[1])
        run = s if basis == PROGRAMME else f"{s} | alone {proposal}"
        hit = self._flow.get((year, f"{run}{_CHANGE}", measure))
        if hit is None:
            return Cell(None, fmt, signed=True)
        c, lo, hi, hidden = hit
        if hidden:
            return Cell(None, fmt, suppressed=True, signed=True)

        def num(v: object) -> float | None:
            x = float(v)  # type: ignore[arg-type]
            return None if math.isnan(x) else x

        return Cell(num(c), fmt, signed=True, low=num(lo), high=num(hi))

    def mitigation_now(
        self, proposal: str, basis: str, rule: str = "All rules"
    ) -> tuple[Cell, Cell]:
        """Today's cohort's (snapshot) change in pupils covered by a mitigation and in its £:
        the ``change`` row of :func:`~placeplan.publish.mitigations.published_mitigations`
        (the proposal's own change, as :meth:`mitigation_year`); blank without it."""
        m = self.mit
        if m.empty or "run" not in m.columns:
            return Cell(None, "count"), Cell(None, "gbp")
        hit = m[
            m["proposal"].eq(proposal)
            & m["basis"].eq(basis)
            & m["run"].eq("change")
            & m["rule"].eq(rule)
        ]
        if hit.empty:
            return Cell(None, "count"), Cell(None, "gbp")
        idx = hit.index[0]
        if bool(hit.at[idx, "withheld"]):
            return Cell("withheld"), Cell("withheld")
        out = []
        for q, fmt in (("pupils", "count"), ("annual_cost_gbp", "gbp")):
            v = pd.to_numeric(hit[q], errors="coerce").iloc[0]
            hidden = bool(self.mit_mask.at[idx, q]) if q in self.mit_mask.columns else False
            value = None if hidden or pd.isna(v) else float(v)
            out.append(Cell(value, fmt, suppressed=hidden, signed=True))
        return out[0], out[1]

    def mit_years_keys(self) -> list[tuple[str, str, str, str]]:
        """(proposal, basis, year, rule) of every published year-by-year change row."""
        return list(self._mit_years)

    def mitigation_year(
        self, proposal: str, basis: str, year: str, rule: str = "All rules"
    ) -> tuple[Cell, Cell]:
        """A year's change in pupils covered by a mitigation and in its £ (flow model: the
        proposal's own, alone or as its contribution; the programme's against the baseline),
        with the 80 % range; blank without the table, ``withheld`` for a rule of a year whose
        rule detail is withheld (``published_mitigations_by_year``)."""
        r = self._mit_years.get((proposal, basis, year, rule))
        if r is None:
            return Cell(None, "count"), Cell(None, "gbp")
        if bool(r.get("withheld", False)):
            return Cell("withheld"), Cell("withheld")

        def cell(q: str, fmt: str, hidden: bool) -> Cell:
            if hidden:
                return Cell(None, fmt, suppressed=True, signed=True)
            v, lo, hi = (r[f"{q}{s}"] for s in ("", "_lower", "_upper"))
            num = [None if pd.isna(x) else float(x) for x in (v, lo, hi)]
            return Cell(num[0], fmt, signed=True, low=num[1], high=num[2])

        hidden = bool(r["suppressed"])
        return (
            cell("pupils", "count", hidden),
            cell("annual_cost_gbp", "gbp", hidden or bool(r.get("cost_suppressed", hidden))),
        )


# -- blocks -------------------------------------------------------------------------------------
def _summary(pub: _Published, proposal: str, bases: Sequence[str], id_: str) -> Table:
    last = pub.years[-1] if pub.years else ""
    labels = {"alone": "Alone", "contribution": "Contribution", PROGRAMME: "Programme"}
    header = ["DfE element", "Measure (change)"]
    header += [f"{labels[b]}, now (snapshot)" for b in bases]
    if last:
        header += [f"{labels[b]}, {last}" for b in bases]
    rows = []
    for label, element, source, measure, fmt in _ROWS:
        cells = [Cell(_ELEMENT.get(element, element)), Cell(label)]
        cells += [pub.snapshot(proposal, b, source, fmt) for b in bases]
        if last:
            cells += [pub.flow(proposal, b, last, measure, fmt) for b in bases]
        rows.append(tuple(cells))
    for k, name in enumerate(_MIT_ROWS):
        cells = [Cell(_ELEMENT["4"]), Cell(name)]
        cells += [pub.mitigation_now(proposal, b)[k] for b in bases]
        if last:
            cells += [pub.mitigation_year(proposal, b, last)[k] for b in bases]
        rows.append(tuple(cells))
    note = prose("proposals", "summary_note", last=last, threshold=pub_threshold(pub))
    note += " " + prose("mitigations", "proposal_summary_note")
    return Table(id_, "The four DfE elements", tuple(header), tuple(rows), note)


def pub_threshold(pub: _Published) -> int:
    """The disclosure threshold in use (for the notes)."""
    return int(pub.mit.attrs.get("disclosure_threshold", 5))


#: The mitigation rows of a proposal's summary and year table (changes, flow model).
_MIT_ROWS = ("Pupils covered by a mitigation", "Mitigation cost a year")


def _mitigation_rows(pub: _Published, proposal: str, bases: Sequence[str], id_: str) -> Block:
    """Each rule's change in the last year of the flows (pupils and £), alone and as the
    proposal's contribution, from ``mitigations_by_year`` (the proposal's own change)."""
    last = pub.years[-1] if pub.years else ""
    rules = [k[3] for k in pub.mit_years_keys() if k[0] == proposal and k[2] == last]
    rules = [r for r in dict.fromkeys(rules) if r != "All rules"]
    rows = []
    for rule in rules:
        cells: list[Cell] = [Cell(rule)]
        for b in bases:
            cells += list(pub.mitigation_year(proposal, b, last, rule))
        if any(c.suppressed or c.fmt == "text" or c.value for c in cells[1:]):
            rows.append(tuple(cells))
    if not rows:
        return Paragraph(prose("mitigations", "proposal_no_change", last=last))
    if all(c.fmt == "text" for r in rows for c in r[1:]):  # every rule withheld that year
        return Paragraph(prose("mitigations", "proposal_rules_withheld", last=last))
    labels = {"alone": "alone", "contribution": "in the programme", PROGRAMME: "programme"}
    header = ["Rule"]
    for b in bases:
        header += [f"Pupils ({labels[b]})", f"£ a year ({labels[b]})"]
    return Table(
        id_,
        f"Travel mitigations: change in {last} by rule (rules in section 4)",
        tuple(header),
        tuple(rows),
        prose("mitigations", "proposal_rules_note", last=last),
    )


def _year_table(pub: _Published, proposal: str, bases: Sequence[str], id_: str) -> Table | None:
    if not pub.years:
        return None
    labels = {"alone": "Alone", "contribution": "Contribution", PROGRAMME: "Programme"}
    rows = []
    for measure, label, fmt in _YBY:
        for j, b in enumerate(bases):
            # central values only (the last year's range is in the summary), so the
            # proposal's page fits one printed page
            cells = [
                replace(pub.flow(proposal, b, y, measure, fmt), low=None, high=None)
                for y in pub.years
            ]
            rows.append((Cell(label if j == 0 else ""), Cell(labels[b]), *cells))
    for k, label in enumerate(_MIT_ROWS):
        for j, b in enumerate(bases):
            cells = [
                replace(pub.mitigation_year(proposal, b, y)[k], low=None, high=None)
                for y in pub.years
            ]
            rows.append((Cell(label if j == 0 else ""), Cell(labels[b]), *cells))
    return Table(
        id_,
        "Year by year: change (central estimate)",
        ("Measure", "", *pub.years),
        tuple(rows),
        prose("proposals", "yby_note"),
    )


def _describe(info: pd.Series) -> str:
    from placeplan.publish.report.sections.money import gbp_text

    ramp = info.get("places_by_year") or {}
    # all places from the opening year (as optimise writes them) is no ramp-up
    full = {int(info["opening_year"]): int(info.get("places", 0))}
    ramp_text = (
        "; ramp-up " + ", ".join(f"{y}: {n}" for y, n in sorted(dict(ramp).items()))
        if isinstance(ramp, Mapping) and ramp and dict(ramp) != full
        else ""
    )
    cap = info.get("capital_cost_gbp")
    return prose(
        "proposals",
        "describe",
        title=str(info.get("name", "")),
        site=str(info["proposal"]),
        places=int(info.get("places", 0)),
        needs=str(info.get("needs", "")).replace(";", ", ") or "any need",
        phases=str(info.get("phases", "")).replace(";", ", ").replace("post16", "post-16"),
        opening=f"{int(info['opening_year'])}/{(int(info['opening_year']) + 1) % 100:02d}",
        ramp=ramp_text,
        capital="" if cap is None or pd.isna(cap) else gbp_text(cap),
        assumed=bool(info.get("opening_assumed", False)),
    )


def _programme(pub: _Published, p: ProposalInputs) -> Section:
    blocks: list[Block] = [
        Paragraph(prose("proposals", "intro", n=len(p.info), scenario=p.scenario)),
        _summary(pub, PROGRAMME, (PROGRAMME,), "t-prop-programme"),
    ]
    rows = []
    last = pub.years[-1] if pub.years else ""
    for _, info in p.info.iterrows():
        site = str(info["proposal"])
        rows.append(
            (
                Cell(f"{info.get('name', site)} ({site})"),
                pub.snapshot(site, "contribution", ("impact", "ooa_placements", "change"), "count"),
                pub.snapshot(
                    site,
                    "contribution",
                    ("impact", "independent_placements", "change"),
                    "count",
                ),
                pub.snapshot(site, "contribution", ("total", "journey_time_total_min"), "minutes"),
                pub.flow(site, "contribution", last, "out_of_area", "count")
                if last
                else Cell(None, "count"),
                pub.mitigation_now(site, "contribution")[1],
                pub.mitigation_year(site, "contribution", last)[1] if last else Cell(None, "gbp"),
            )
        )
    if rows:
        blocks.append(
            Table(
                "t-prop-contributions",
                "Each proposal's contribution to the programme (programme with and without it)",
                (
                    "Proposal",
                    "Out-of-area, now (snapshot)",
                    "Independent / non-maintained, now (snapshot)",
                    "Journey time a day, now (snapshot)",
                    f"Out-of-area, {last}" if last else "Out-of-area, year by year",
                    "Mitigation £ a year (change), now (snapshot)",
                    f"Mitigation £ a year (change), {last}" if last else "Mitigation £ a year",
                ),
                tuple(rows),
                prose("proposals", "contributions_note"),
            )
        )
    return Section("proposals", "4a", "Each proposal and the programme", tuple(blocks), True)


def _proposal(pub: _Published, info: pd.Series, k: int) -> Section:
    site = str(info["proposal"])
    bases = ("alone", "contribution")
    blocks: list[Block] = [
        Paragraph(_describe(info)),
        _summary(pub, site, bases, f"t-prop-{k}-summary"),
        _mitigation_rows(pub, site, bases, f"t-prop-{k}-mitigations"),
    ]
    yby = _year_table(pub, site, bases, f"t-prop-{k}-yby")
    if yby is not None:
        blocks.append(yby)
    return Section(
        f"proposal-{k}",
        f"4a.{k}",
        f"Proposal {k}: {info.get('name', site)}",
        tuple(blocks),
        css_class="proposal-page",
    )


def section(inputs: ReportInputs, ctx: ReportContext) -> tuple[Section, ...] | None:
    """Build the programme section and one section per proposal (None without proposals)."""
    p: ProposalInputs | None = getattr(inputs, "proposals", None)
    if p is None:
        return None
    from placeplan.publish.report.context import plan_facts

    pub = _Published(p, ctx)
    out = [_programme(pub, p)]
    facts = plan_facts(inputs.plan_toml)
    for k, (_, info) in enumerate(p.info.iterrows(), start=1):
        # an opening year the plan does not give is the model's assumption: the page says so
        chosen = facts.opening_chosen(inputs.scenario_name, str(info["proposal"]))
        out.append(
            _proposal(pub, pd.concat([info, pd.Series({"opening_assumed": chosen is False})]), k)
        )
    return tuple(out)
