"""One appendix for every scenario (issue 11 §2): the comparison, then each scenario in full.

Two scenarios on the report fixture: the comparison table's cells equal ``comparison.csv``'s
(one disclosure path), a small count is suppressed in both, every scenario keeps its DfE
sections under unique anchors, and one year-by-year chart per headline measure shows the
baseline and every scenario.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import re

import markupsafe
import pandas as pd
import pytest

from placeplan.publish.report.appendix import build_appendix, render_appendix
from placeplan.publish.report.build import build_report
from placeplan.publish.report.impact import published_impact
from placeplan.publish.report.model import DFE_ELEMENTS, Cell
from placeplan.publish.report.render import fmt_cell
from placeplan.publish.report.sections.compare import COMPARED_METRICS, comparison_frame
from placeplan.publish.report.sections.year_by_year import HEADLINE_MEASURES
from report_fixtures import example_inputs
from test_flows_publish import _table

NAMES = ("Two bases", "Bigger base")


@pytest.fixture(scope="module")
def inputs():
    flows = _table(60, 3)
    first = dataclasses.replace(example_inputs(), scenario_name=NAMES[0], flows=flows)
    imp = first.impact.copy()
    all_rows = imp["group_type"].eq("all")
    # the second scenario moves 3 pupils (a small count) and avoids fewer placements
    for metric, scenario in (("moved_n", 3), ("ooa_placements", 26)):
        row = all_rows & imp["metric"].eq(metric)
        imp.loc[row, "scenario"] = scenario
        imp.loc[row, "change"] = scenario - imp.loc[row, "baseline"]
    second = dataclasses.replace(first, scenario_name=NAMES[1], impact=imp)
    return [first, second]


@pytest.fixture(scope="module")
def page(inputs) -> str:
    return render_appendix(build_appendix(inputs, [build_report(i) for i in inputs]))


def _table_rows(page: str, table_id: str) -> dict[str, list[str]]:
    m = re.search(rf'<table id="{table_id}".*?</table>', page, re.S)
    assert m, table_id
    body = m.group(0).split("<tbody>")[1]
    out = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', tr, re.S)
        assert head
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        out[htmllib.unescape(head.group(1))] = [
            htmllib.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells
        ]
    return out


def _shown(value: object, fmt: str, signed: bool) -> str:
    if value in ("c", "x"):
        return str(value)
    from placeplan.publish.report.sections.money import money

    # money as the report shows every £: to the nearest £1,000, in £k (£m from £1m)
    return fmt_cell(money(Cell(float(value), fmt, signed=signed)))  # type: ignore[arg-type]


def test_comparison_csv_equals_the_report_table(inputs, page):
    csv = comparison_frame(inputs)
    assert set(csv["scenario_name"]) == set(NAMES)
    assert set(csv["metric"]) >= {"ooa_placements", "moved_n", "mean_time_min", "capital_cost_gbp"}
    rows = _table_rows(page, "t-compare")
    fmts = {"mean_time_min": "minutes", "mean_distance_miles": "miles", "mean_distance_km": "km"}
    for metric, group in csv.groupby("metric", sort=False):
        label = group["label"].iloc[0]
        fmt = fmts.get(metric, "gbp" if "gbp" in metric else "count")
        want = [_shown(group["baseline"].iloc[0], fmt, False)]
        for name in NAMES:
            r = group[group["scenario_name"] == name].iloc[0]
            want += [_shown(r["scenario"], fmt, False), _shown(r["change"], fmt, True)]
        assert rows[label] == want, (metric, rows[label], want)


def test_comparison_uses_the_impact_disclosure_path(inputs):
    csv = comparison_frame(inputs).set_index(["scenario_name", "metric"])
    for i in inputs:
        pub = published_impact(i.impact, threshold=i.disclosure_threshold)
        pub = pub[pub["group_type"] == "all"].set_index("metric")
        for metric in COMPARED_METRICS:
            for which in ("scenario", "change"):
                assert str(csv.loc[(i.scenario_name, metric), which]) == str(
                    pub.loc[metric, which]
                ), (i.scenario_name, metric, which)
    # the small count is suppressed, with the change that would give it away
    assert csv.loc[(NAMES[1], "moved_n"), "scenario"] == "c"
    assert csv.loc[(NAMES[1], "moved_n"), "change"] == "c"
    assert csv.loc[(NAMES[0], "moved_n"), "scenario"] == 28


def test_every_scenario_has_its_sections_under_unique_anchors(page):
    ids = re.findall(r'\sid="([^"]+)"', page)
    dup = sorted({i for i in ids if ids.count(i) > 1})
    assert dup == []
    for k, name in enumerate(NAMES, start=1):
        part = re.search(
            rf'<article id="scenario-{k}" class="scenario-part">\s*'
            rf"<h2 class=\"scenario-title\">Scenario {k}: {re.escape(name)}</h2>(.*?)</article>",
            page,
            re.S,
        )
        assert part, name
        prefix = "" if k == 1 else f"s{k}-"
        for n, (anchor, heading) in enumerate(DFE_ELEMENTS, start=1):
            assert re.search(
                rf'<section id="{prefix}{anchor}"[^>]*>\s*<h2>{n}\. {re.escape(heading)}</h2>',
                part.group(1),
            ), (name, anchor)
        assert f'id="{prefix}t-sites"' in part.group(1)
    # the contents list links every anchor it names
    for target in re.findall(r'<a href="#([^"]+)"', page):
        assert target in ids, target
    # shared sections once, before the scenarios
    assert page.count('id="year-by-year"') == 1
    assert (
        page.index('id="compare"') < page.index('id="year-by-year"') < page.index('id="scenario-1"')
    )


def test_one_chart_per_headline_measure_with_every_run(page):
    for k, (_, label, _) in enumerate(HEADLINE_MEASURES, start=1):
        m = re.search(
            rf'<figure id="f-compare-{k}" class="chart-figure">(.*?)</figure>', page, re.S
        )
        assert m, label
        svg = m.group(1)
        assert label in htmllib.unescape(svg)
        for run in ("Baseline", *NAMES):
            assert f">{run}</text>" in svg, (label, run)


def test_one_scenario_still_makes_an_appendix(inputs):
    one = inputs[:1]
    page = render_appendix(build_appendix(one, [build_report(i) for i in one]))
    assert 'id="scenario-1"' in page and 'id="scenario-2"' not in page
    assert len(comparison_frame(one)) == len(comparison_frame(inputs)) // 2
    with pytest.raises(ValueError, match="one report per scenario"):
        build_appendix(inputs, [])


def test_comparison_frame_columns(inputs):
    csv = comparison_frame(inputs)
    assert csv.columns.tolist() == [
        "scenario_name",
        "metric",
        "label",
        "baseline",
        "scenario",
        "change",
    ]
    assert isinstance(csv, pd.DataFrame)


# --- the baseline beside SEN2 in the method section (issue 9 §6) ----------------------------


def test_release_check_counts_need_and_placement_beside_the_release():
    from placeplan.prepare.sen2 import example_release
    from placeplan.prepare.sen2_check import CHECK_KINDS, release_check

    rel = example_release()
    prov = pd.DataFrame(
        {
            "setting_id": ["1", "2"],
            "provision_type": ["special", "independent"],
            "in_area": [True, False],
        }
    )
    pupils = pd.DataFrame(
        {
            "current_setting_id": ["1", "1", "2", "2"],
            "need_type": ["ASD", "SEMH", "ASD", "ASD"],
            "plan_type": ["EHCP", "EHCP", "EHCP", "SEN_support"],  # SEN support not counted
        }
    )
    t = release_check(pupils, prov, rel, year="2024/25").set_index("measure")
    assert list(dict.fromkeys(t["kind"])) == [k for k in CHECK_KINDS if k in set(t["kind"])]
    needs = rel.needs[rel.needs["year"] == "2024/25"].set_index("need")["value"]
    assert t.loc["Primary need: ASD", "cohort"] == 2
    assert t.loc["Primary need: ASD", "published"] == needs["ASD"]
    assert t.loc["Primary need: SEMH", "difference"] == 1 - needs["SEMH"]
    assert t.loc["Special - independent", "cohort"] == 1
    assert t.loc["Out of area (implied minimum)", "cohort"] == 1
    assert set(t["time_period"]) == {"202425"}


def test_method_section_shows_sen2_with_cohort_counts_suppressed():
    check = pd.DataFrame(
        {
            "measure": ["Primary need: ASD", "Primary need: HI", "Primary need: SEMH"],
            "sen2_columns": ["number_asd", "number_hi", "number_semh"],
            "time_period": ["202425"] * 3,
            "cohort": [40, 3, 30],
            "published": [44.0, 4.0, 31.0],
            "difference": [-4.0, -1.0, -1.0],
            "note": [""] * 3,
            "kind": ["need"] * 3,
        }
    )
    inputs = dataclasses.replace(example_inputs(), sen2_check=check)
    from placeplan.publish.report.render import render_report

    page = render_report(build_report(inputs))
    rows = _table_rows(page, "t-sen2")
    # the small count and one more (secondary), each with its difference; published as published
    assert rows["Primary need: HI"] == ["c", "4", "c"]
    assert sum(r[0] == "c" for r in rows.values()) == 2
    assert [r[1] for r in rows.values()] == ["44", "4", "31"]
    assert "shown as\npublished" in page or "shown as published" in page
    assert "Education, health and care plans" in page


def test_out_of_area_row_is_hidden_with_a_hidden_placement_count():
    from placeplan.publish.report.render import render_report

    check = pd.DataFrame(
        {
            "measure": ["Special - LA maintained and academy/free", "Special - independent",
                        "Special - non-maintained", "Out of area (implied minimum)"],
            "sen2_columns": [""] * 4,
            "time_period": ["202425"] * 4,
            "cohort": [50, 3, 20, 3],
            "published": [50.0, 3.0, 20.0, 3.0],
            "difference": [0.0] * 4,
            "note": [""] * 4,
            "kind": ["placement", "placement", "placement", "location"],
        }
    )  # fmt: skip
    page = render_report(build_report(dataclasses.replace(example_inputs(), sen2_check=check)))
    rows = _table_rows(page, "t-sen2")
    assert rows["Out of area (implied minimum)"] == ["c", "3", "c"]
    assert rows["Special - LA maintained and academy/free"][1] == "50"


def test_the_plan_file_is_printed_once_and_each_method_section_links_to_it(inputs, page):
    """Every scenario's method section printed the same plan file in full (the sample's PDF
    grew from 56 to 69 pages); now it is printed once, at the end, and linked from each."""
    plan_line = str(markupsafe.escape('name = "Isle of Wight inclusion bases 2026"'))
    assert inputs[0].plan_toml and page.count(plan_line) == 1
    assert page.count("<pre>") == 1
    end = page[page.index('<section id="plan-file"') :]
    assert plan_line in end and "<h2>Plan file</h2>" in end
    for method in ('id="method"', 'id="s2-method"'):
        sec = page[page.index(method) :]
        sec = sec[: sec.index("</section>")]
        assert '<a href="#plan-file">Plan file</a>' in sec, method
        assert "<pre>" not in sec
    # the plan file is listed in the contents, after the closing sections
    assert '<li><a href="#plan-file">Plan file</a></li>' in page
