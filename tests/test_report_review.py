"""The appendix read as a DfE reviewer and a capital board member would (report review).

Each test pins one defect found by reading the printed demo appendix: the k-th scenario's
sections did not start a printed page (so a proposal shared its page with the site table), the
synthetic-cohort statement was on page 1 only, the year-by-year tables split from their caption,
distance was said to follow the shortest route (it follows the fastest), prose pointed at
sections the appendix does not number, the reliance definition carried code field names, the
year-by-year charts were drawn twice, the snapshot was not told apart from the forecast, the
capital programme spoke in solver terms without units, and the SEN2 check's complementary
suppression hid a count the appendix publishes elsewhere.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import re

import pandas as pd
import pytest

from placeplan.publish.disclosure import suppress
from placeplan.publish.programme import ProgrammeTables
from placeplan.publish.report.appendix import build_appendix, render_appendix
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Figure, Table
from placeplan.publish.report.render import render_report
from placeplan.publish.report.sections import optimise, proposals
from placeplan.publish.report.sections.method import _complement_not_published_elsewhere
from placeplan.publish.report.sections.year_by_year import reliance_definition
from report_fixtures import example_inputs
from test_flows_publish import _table

NAMES = ("Two bases", "Bigger base")
#: Sections of every scenario's part (the first keeps its ids, the k-th prefixes them: s2-).
PAGE_SECTIONS = (
    "journey-times",
    "out-of-area",
    "mitigations",
    "proposals",
    "sites",
    "breakdowns",
    "method",
)


@pytest.fixture(scope="module")
def inputs():
    first = dataclasses.replace(
        example_inputs(), scenario_name=NAMES[0], flows=_table(60, 3), synthetic_data=True
    )
    return [first, dataclasses.replace(first, scenario_name=NAMES[1])]


@pytest.fixture(scope="module")
def appendix(inputs):
    return build_appendix(inputs, [build_report(i) for i in inputs])


@pytest.fixture(scope="module")
def page(appendix) -> str:
    return render_appendix(appendix)


def _print_css(page: str) -> str:
    start = page.index("@media print")
    return page[start : page.index("</style>", start)]


def _text(page: str) -> str:
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_every_scenarios_sections_print_alike(page):
    """Every scenario's part prints the same way. The sections used to start a page each (a rule
    per id, and one per s2- id); printed, that left pages holding a table or a footnote, so
    sections now follow on, and no print rule names a section by id (which would reach one
    scenario's copy only). Only a proposal's page, by its class, starts a page."""
    css = _print_css(page)
    for name in PAGE_SECTIONS:
        if name != "proposals":  # the fixture has no proposals
            assert f'<section id="s2-{name}"' in page
        assert f"#{name}" not in css and f'id$="-{name}"' not in css, name
    assert not re.search(r"#[\w-]+[^{]*\{[^}]*break-before", css)
    rule = re.search(r"section\.proposal-page \{([^}]*)\}", css)
    assert rule and "break-before: page" in rule.group(1)


def test_year_by_year_tables_never_split_from_their_caption(page):
    css = _print_css(page)
    rule = re.search(r'table\[id\^="t-yby"\][^{]*\{([^}]*)\}', css)
    assert rule and "break-inside: avoid" in rule.group(1)


def test_synthetic_statement_is_on_every_printed_page(inputs, page):
    page_rule = page[page.index("@page") : page.index("@media print")]
    assert "@top-center" in page_rule and "SYNTHETIC pupil cohort" in page_rule
    real = dataclasses.replace(inputs[0], synthetic_data=False)
    html = render_report(build_report(real))
    assert "SYNTHETIC pupil cohort" not in html[html.index("@page") : html.index("@media print")]


def test_distance_is_measured_along_the_fastest_route(page):
    text = _text(page)
    assert "shortest road route" not in text
    assert "along the fastest road route" in text


def test_no_prose_points_at_a_section_the_appendix_does_not_number(appendix, page):
    numbers = {s.number for p in appendix.parts for s in p.report.sections if s.number}
    cited = set(re.findall(r"\bsection (\d+[a-z]?)\b", _text(page)))
    assert cited, "the appendix cites its sections"
    assert cited <= numbers, cited - numbers


def test_reliance_definition_is_in_plain_words(page):
    text = reliance_definition()
    assert "``" not in text and "in_area" not in text.split("(In flows.csv")[0]
    assert "outside the authority's area" in text
    assert "(in_area is False)" not in _text(page)


def test_year_by_year_charts_are_drawn_once(appendix):
    opening = {s.id: s for s in appendix.opening}
    compare_figs = [b.id for b in opening["compare"].blocks if isinstance(b, Figure)]
    assert compare_figs and all(f.startswith("f-compare-") for f in compare_figs)
    yby = [b.id for b in opening["year-by-year"].blocks if isinstance(b, Figure)]
    assert yby == []


def test_snapshot_and_forecast_are_told_apart(appendix, page):
    compare = next(s for s in appendix.opening if s.id == "compare")
    tables = {b.id: b for b in compare.blocks if isinstance(b, Table)}
    assert "snapshot" in tables["t-compare"].caption
    yearly = tables["t-compare-yearly"]
    assert "year by year" in yearly.caption and "80 % range" in yearly.caption
    labels = [str(r[0].value) for r in yearly.rows]
    assert "First year placement + transport cost is below the baseline" in labels
    assert any(label.startswith("Out-of-area placements, 20") for label in labels)
    # each scenario's summary box says what its headline figures are
    assert page.count('class="note summary-basis"') == len(NAMES)


def _programme_tables() -> ProgrammeTables:
    prog = pd.DataFrame(
        {
            "site_id": ["A-IB-ASD", "B-IB-SEMH"],
            "name": ["Alpha School — new ASD base", "Beta School — new SEMH base"],
            "needs": ["ASD", "SEMH"],
            "phases": ["primary", "secondary"],
            "places": [8, 12],
            "opening_year": [2027, 2028],
            "capital_gbp": [400_000.0, 600_000.0],
            "financial_year": ["2026-27", "2027-28"],
            "pupils_placed": [7.5, 10.0],
            "marginal_value": [12.0, 9.0],
        }
    )
    curve = pd.DataFrame(
        {
            "budget_gbp": [500_000.0, 1_000_000.0],
            "savings": [12.0, 21.0],
            "marginal_per_100k_gbp": [2.4, 1.8],
            "capital_gbp": [400_000.0, 1_000_000.0],
            "sites": [1, 2],
            "status": ["optimal", "optimal"],
            "gap": [0.0, 0.0],
        }
    )
    alts = pd.DataFrame(
        {
            "rank": [1, 2, None],
            "kind": ["optimal", "alternative", "greedy heuristic"],
            "ruled_out_site": ["", "", ""],
            "savings": [21.0, 20.0, 18.0],
            "share_of_best": [1.0, 0.95, 0.86],
            "capital_gbp": [1e6, 1e6, 1e6],
            "programme": [
                "A-IB-ASD (8 places, 2027); B-IB-SEMH (12 places, 2028)",
                "A-IB-ASD (8 places, 2028); C-IB-SLCN (12 places, 2028)",
                "C-IB-SLCN (12 places, 2027)",
            ],
        }
    )

    def published(df: pd.DataFrame, deps: list[str]) -> pd.DataFrame:
        return suppress(df, count_cols=["pupils_placed"], dependent_cols=deps, secondary=False)

    return ProgrammeTables(
        published(prog, ["marginal_value"]),
        published(curve.assign(pupils_placed=[7.5, 17.5]), ["savings", "marginal_per_100k_gbp"]),
        published(alts.assign(pupils_placed=[17.5, 16.0, 15.0]), ["savings", "share_of_best"]),
        "ooa_avoided",
        "pupil-years of out-of-area or independent placement avoided",
        "optimal",
        0.0,
        21.0,
        21.0,
        18.0,
    )


def test_capital_programme_speaks_to_a_board():
    sec = optimise.section(_programme_tables())
    tables = {b.id: b for b in sec.blocks if isinstance(b, Table)}
    chosen = tables["t-programme"]
    assert "Opens (academic year)" in chosen.header
    assert any(h.startswith("Lost without it") for h in chosen.header)
    assert [r[chosen.header.index("Opens (academic year)")].value for r in chosen.rows] == [
        "2027/28",
        "2028/29",
    ]
    curve = tables["t-budget-curve"]
    assert "Best score (pupil-years avoided)" in curve.header
    assert "Gap on savings" in curve.header and curve.note
    alts = tables["t-alternatives"]
    kinds = [r[1].value for r in alts.rows]
    assert kinds == ["best found", "next best", "rule of thumb"]
    shown = " ".join(str(r[-1].value) for r in alts.rows)
    assert "opens 2027/28" in shown and ", 2027)" not in shown
    text = " ".join(b.text for b in sec.blocks if hasattr(b, "text"))
    assert "proved no programme within the budget scores more" in text
    assert "rule of thumb" in text and "optimised-programme.toml" in text


def test_proposal_pages_name_the_elements_and_show_distance_year_by_year():
    assert "distance_total_km" in [m for m, _, _ in proposals._YBY]
    assert set(proposals._ELEMENT) == {"1", "2", "3", "4"}
    assert all(not v.isdigit() for v in proposals._ELEMENT.values())


def test_sen2_complement_is_never_a_count_published_elsewhere():
    df = pd.DataFrame(
        {
            "measure": [
                "Mainstream (excluding resourced provision and SEN units)",
                "Mainstream resourced provision and SEN units",
                "Special - LA maintained and academy/free",
                "Special - independent",
                "Special - non-maintained",
                "AP/PRU",
                "Total in these placement types",
            ],
            "kind": ["placement"] * 7,
            "cohort": [938, 2, 340, 15, 71, 20, 1386],
        }
    )
    force = _complement_not_published_elsewhere(df, threshold=5)
    assert force["cohort"].tolist() == [False, False, False, False, False, True, False]
    # no lone small count: nothing forced
    none = _complement_not_published_elsewhere(df.assign(cohort=df["cohort"] + 10), 5)
    assert not none["cohort"].any()


def test_costs_are_charted_as_savings_against_the_baseline(appendix):
    from placeplan.publish.report.sections.year_by_year import HEADLINE_MEASURES

    compare = next(s for s in appendix.opening if s.id == "compare")
    figs = {b.id: b for b in compare.blocks if isinstance(b, Figure)}
    for k, (_, label, fmt) in enumerate(HEADLINE_MEASURES, start=1):
        fig = figs[f"f-compare-{k}"]
        saving = "change against the baseline" in fig.caption
        assert saving == fmt.startswith("gbp"), label
        if saving:
            assert "£k a year, change against baseline" in fig.svg


def test_band_chart_draws_negative_changes_below_zero():
    from placeplan.publish.report.charts import band_chart

    svg = band_chart(
        ["2025/26", "2026/27", "2027/28"],
        [("Saving", "#2c7fb8", [0.0, -40.0, -90.0], [0.0, -60.0, -120.0], [0.0, -20.0, -50.0])],
        y_label="£k",
        title="Saving",
    )
    ticks = [float(v.replace(",", "")) for v in re.findall(r">(-?[\d,.]+)</text>", svg)]
    assert min(ticks) <= -120 and max(ticks) >= 0  # the axis spans the saving and 0
    ys = [float(v) for v in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"[^>]*"pt"', svg)]
    assert len(ys) == 3 and ys[0] < ys[1] < ys[2]  # lower values further down the page


def test_scenario_line_gives_sizes_capital_and_opening_years():
    from types import SimpleNamespace

    from placeplan.publish.report.sections.summary import scenario_summary

    sites = pd.DataFrame(
        {
            "name": ["A — new ASD base", "B — new SEMH base", "C"],
            "places": [8, 12, 10],
            "capital_cost_gbp": [400_000, 600_000, 500_000],
            "selected": [True, True, False],
        }
    )
    info = pd.DataFrame({"proposal": ["a", "b"], "opening_year": [2027, 2028]})
    text = scenario_summary(sites, SimpleNamespace(info=info))
    assert text.startswith("2 new inclusion bases, 20 places, £1.00m capital")
    assert "opening 2027/28 (1 base) and 2028/29 (1 base)" in text
    assert "opening" not in scenario_summary(sites)


def test_opening_places_count_a_ramp_up_in_the_years_it_adds_places():
    from types import SimpleNamespace

    from placeplan.publish.report.sections.compare import _openings

    info = pd.DataFrame(
        {
            "proposal": ["a", "b", "c"],
            "places": [12, 16, 10],
            "opening_year": [2027, 2027, 2028],
            "places_by_year": [None, {2027: 8, 2028: 16}, None],
        }
    )
    scenario = SimpleNamespace(proposals=SimpleNamespace(info=info))
    assert _openings(scenario) == "20 places 2027/28; 18 places 2028/29"  # type: ignore[arg-type]


def test_sen2_out_of_area_is_not_hidden_when_the_appendix_publishes_it():
    from placeplan.publish.report.context import build_context
    from placeplan.publish.report.sections.method import _published_elsewhere

    ctx = build_context(example_inputs())
    cell = ctx.impact.cell("all", ctx.all_group, "ooa_placements", "baseline")
    assert not cell.suppressed and cell.value is not None
    assert _published_elsewhere(ctx, cell.value)
    assert not _published_elsewhere(ctx, float(cell.value) + 1)  # another figure: keep it hidden
    assert not _published_elsewhere(ctx, None)
