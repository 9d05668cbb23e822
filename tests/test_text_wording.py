"""The report's words say what its numbers are (the outside reviewer's findings on the text).

Small hand-made flow tables and plans, exact sentences: the census year and the flows' base year,
cross-references that quote the heading, verdicts about what the table shows, the pupils whose
journey is longer year by year, pupils the model could not place, and opening years the plan did
not choose.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from placeplan.publish.report.build import build_report
from placeplan.publish.report.context import plan_facts
from placeplan.publish.report.model import Paragraph, Table
from placeplan.publish.report.sections import compare
from placeplan.publish.report.sections.year_by_year import heading
from report_fixtures import example_inputs

SAMPLE_PLAN = Path(__file__).resolve().parents[1] / "data/sample/isle-of-wight/plan.toml"
YEARS = ("2025/26", "2026/27", "2027/28", "2028/29")
PLAN = """
[plan]
census_date = "2026-01-15"
[thresholds]
worse_off_min = 5
[flows]
base_year = 2025
[[flows.site]]
site_id = "A"
opening_year = 2027
[[scenario]]
name = "S"
open_sites = ["A", "B"]
"""


def _flows(ooa_base, ooa_scen, worse=(0, 0, 7, 9), unplaced=(0, 6, 8, 10)) -> pd.DataFrame:
    """One scenario "S": out of area, costs, worse off and unplaced, the 80 % range = central."""
    rows = []
    for k, y in enumerate(YEARS):
        b, s = ooa_base[k], ooa_scen[k]
        for run, ooa, wo, cost in (
            ("baseline", b, 0, 1e6),
            ("S", s, worse[k], 1e6 - 1e4 * (b - s)),
            ("S - baseline", s - b, worse[k], -1e4 * (b - s)),
        ):
            for measure, v in (
                ("out_of_area", ooa),
                ("independent_non_maintained", 0 if run.endswith("baseline") and "-" in run else 6),
                ("placed", 0 if "-" in run else 100),
                ("placement_cost_gbp", cost),
                ("transport_cost_gbp", 0.0),
                ("worse_off", wo),
                ("unplaced", 0 if "-" in run else unplaced[k]),
            ):
                rows.append((y, run, measure, float(v), float(v), float(v)))
    return pd.DataFrame(rows, columns=["year", "scenario", "measure", "central", "lower", "upper"])


def _inputs(flows: pd.DataFrame, plan: str = PLAN):
    return dataclasses.replace(example_inputs(), flows=flows, plan_toml=plan, scenario_name="S")


def _yby_text(inputs) -> str:
    sec = next(s for s in build_report(inputs).sections if s.id == "year-by-year")
    return " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))


# ------------------------------------------------------------------ (1) census and base year
def test_the_sample_cohort_is_the_january_2026_census_of_the_flows_base_year():
    facts = plan_facts(SAMPLE_PLAN.read_text(encoding="utf-8"))
    assert facts.census_phrase("2025/26") == "the January 2026 census (academic year 2025/26)"
    assert facts.census_year == facts.base_year == 2025
    assert facts.base_year_note() == ""


def test_a_census_year_that_is_not_the_base_year_is_said_in_one_sentence():
    facts = plan_facts(PLAN.replace("2026-01-15", "2025-01-16"))
    assert facts.census_phrase("2025/26") == "the January 2025 census (academic year 2024/25)"
    assert facts.base_year_note() == (
        "The cohort is the January 2025 census (academic year 2024/25), but the year-by-year "
        "model labels it 2025/26 ([flows] base_year = 2025) and counts every later year from "
        "there."
    )
    text = _yby_text(_inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21)), PLAN.replace(
        "2026-01-15", "2025-01-16")))  # fmt: skip
    assert text.startswith(
        "Year by year from the January 2025 census (academic year 2024/25) to 2028/29. The cohort "
        "is the January 2025 census"
    )


def test_the_sen2_check_says_which_published_year_it_compares_with():
    from placeplan.publish.report.prose import prose

    text = prose(
        "method",
        "sen2_intro",
        authority="X",
        year="2024/25",
        synthetic=False,
        census="the January 2026 census (academic year 2025/26)",
        census_year="2025/26",
    )
    assert "so it is compared with SEN2 2024/25, the latest published." in text
    census = "the January 2026 census (academic year 2025/26)"
    same = prose("method", "sen2_intro", authority="X", year="2025/26", synthetic=False,
                 census=census, census_year="2025/26")  # fmt: skip
    assert "latest published" not in same


# ------------------------------------------------------------------ (2) cross-references
def test_cross_references_quote_the_year_by_year_heading():
    inputs = _inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21)))
    sec = next(s for s in build_report(inputs).sections if s.id == "year-by-year")
    assert (
        sec.title
        == heading("2025/26", plan_facts(PLAN))
        == ("Year by year from the January 2026 baseline")
    )
    notes = [b.note for b in compare.section([inputs]).blocks if isinstance(b, Table)]
    assert any(f'"{sec.title}"' in n for n in notes)
    assert not any("January census baseline" in n for n in notes)


# ------------------------------------------------------------------ (3) verdicts
def test_verdicts_say_what_the_table_shows_not_a_fall_the_baseline_has_too():
    # the reviewer's case: the baseline dips in 2026/27 before anything opens (A opens 2027)
    text = _yby_text(_inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21))))
    assert "fall in 2026/27 only" not in text
    assert (
        "With S, out-of-area placements are below the baseline in every year from 2027/28 to "
        "2028/29; before 2027/28 they are not below it." in text
    )
    # B has no opening year: assumed 2026/27, the first year places open
    assert (
        "The number with S itself does not fall every year from 2026/27, when its first places "
        "open: it is the same as or higher than the year before in 2027/28, 2028/29." in text
    )
    assert "In 2028/29: 21 with S, against 24 in the baseline." in text


def test_a_scenario_that_falls_every_year_from_opening_says_so():
    plan = PLAN.replace('open_sites = ["A", "B"]', 'open_sites = ["A"]')
    text = _yby_text(_inputs(_flows((15, 15, 15, 15), (15, 15, 12, 9)), plan))
    assert (
        "The number with S itself falls every year from 2027/28, when its first places open, "
        "to 2028/29." in text
    )


# ------------------------------------------------------------------ (4) longer journeys
def test_forecast_table_has_longer_journeys_year_by_year_and_the_snapshot_says_today():
    inputs = _inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21), worse=(0, 0, 3, 9)))
    tables = {b.id: b for b in compare.section([inputs]).blocks if isinstance(b, Table)}
    rows = {r[0].value: r for r in tables["t-compare-yearly"].rows}
    label = "Pupils whose journey is over 5 min longer than in the baseline"
    got = [rows[f"{label}, {y}"][2] for y in YEARS]
    assert [c.value for c in got[:2]] == [0.0, 0.0]
    assert got[2].suppressed  # 3 pupils: c, as flows.csv
    assert got[3].value == 9.0
    snapshot = [r[0].value for r in tables["t-compare"].rows]
    assert any(v.endswith("(today's cohort, snapshot)") for v in snapshot if "longer" in v)


# ------------------------------------------------------------------ (5) unplaced
def test_unplaced_pupils_have_a_sentence_and_a_row():
    inputs = _inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21)))
    text = _yby_text(inputs)
    assert (
        "Pupils the model could not place in a setting with a free place for their need and "
        "phase (they wait, and are tried again the next year), in the baseline: 2025/26: 0; "
        "2026/27: 6; 2027/28: 8; 2028/29: 10. They count in the cohort but in no journey, mean, "
        "distance or cost" in text
    )
    sec = next(s for s in build_report(inputs).sections if s.id == "year-by-year")
    table = next(b for b in sec.blocks if isinstance(b, Table))
    row = next(r for r in table.rows if str(r[0].value).startswith("Not placed"))
    assert [c.value for c in row[2:]] == [0.0, 6.0, 8.0, 10.0]


# ------------------------------------------------------------------ (6) assumed opening years
def test_opening_years_the_plan_did_not_choose_are_named():
    facts = plan_facts(PLAN)
    assert facts.opening_chosen("S", "A") is True
    assert facts.opening_chosen("S", "B") is False
    assert facts.opening_chosen("A programme file's scenario", "B") is None
    text = _yby_text(_inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21))))
    assert (
        "S: no opening year in the plan for B: assumed 2026/27, the first September after the "
        "baseline" in text
    )


@pytest.mark.parametrize(("site", "assumed"), [("A", False), ("B", True)])
def test_a_proposal_page_says_when_its_opening_year_is_assumed(site, assumed):
    from placeplan.publish.report.prose import prose

    text = prose("proposals", "describe", title="T", site=site, places=8, needs="ASD",
                 phases="", opening="2026/27", ramp="", capital="", assumed=assumed)  # fmt: skip
    assert ("No opening year in the plan: assumed 2026/27" in text) is assumed


# ------------------------------------------------------------------ (9) x
def test_not_applicable_is_x_with_a_key_and_comparison_csv_says_x_and_c_are_text():
    inputs = _inputs(_flows((15, 14, 15, 24), (15, 14, 14, 21)))
    snap = next(b for b in compare.section([inputs]).blocks if getattr(b, "id", "") == "t-compare")
    assert "comparison.csv" in snap.note
    assert "x (not applicable" in snap.note and "read those columns as text" in snap.note
    yearly = next(
        b for b in compare.section([inputs]).blocks if getattr(b, "id", "") == "t-compare-yearly"
    )
    assert not any(c.value == "x" and c.fmt == "text" for r in yearly.rows for c in r)


def test_a_scenario_of_optimised_sites_gets_the_assumed_opening_rule_in_year_by_year():
    plan = PLAN + '[[scenario]]\nname = "Opt"\nuse_optimised_sites = true\n'
    flows = _flows((15, 14, 15, 24), (15, 14, 14, 21))
    extra = flows[flows["scenario"].str.startswith("S")].copy()
    extra["scenario"] = extra["scenario"].str.replace("S", "Opt", n=1)
    text = _yby_text(_inputs(pd.concat([flows, extra], ignore_index=True), plan))
    assert (
        "Opt: its sites are chosen when the plan runs; any of them without an opening year in the "
        "plan (a [[flows.site]] entry) is assumed to open in 2026/27" in text
    )
