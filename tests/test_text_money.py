"""Money, the site case and the capital programme say what their figures are (reviewer findings
7, 8 and 10): one rounding for every £, words for what each site criterion counts, and plain
sentences when other programmes tie or budget is left.
"""

from __future__ import annotations

import pandas as pd

from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Cell, Table
from report_fixtures import example_inputs


# ------------------------------------------------------------------ (7) money
def test_every_pound_figure_is_rounded_to_the_thousand_and_parts_add_up():
    from placeplan.publish.report.render import fmt_cell
    from placeplan.publish.report.sections.money import gbp_text, money

    shown = [fmt_cell(money(Cell(v, "gbp", signed=True))) for v in (-345_000.0, -112_365.0)]
    assert shown == ["−£345k", "−£112k"]  # not −£112,365, not −£0.34m + −£0.11m = −£0.46m
    assert gbp_text(-345_000.0 - 112_365.0, signed=True) == "−£457k"
    assert fmt_cell(money(Cell(23_204_100.0, "gbp_short"))) == "£23.2m"  # 1 decimal from £10m
    assert fmt_cell(money(Cell(7.0, "count"))) == "7"  # other cells untouched


def test_the_out_of_area_table_and_cost_headline_use_the_one_money_format():
    import re

    from placeplan.publish.report.render import fmt_cell

    rep = build_report(example_inputs())
    sec = next(s for s in rep.sections if s.id == "out-of-area")
    table = next(b for b in sec.blocks if isinstance(b, Table) and b.id == "t-ooa-all")
    money_cells = [fmt_cell(c) for r in table.rows for c in r[1:] if c.fmt.startswith("gbp")]
    assert money_cells
    shape = r"[−+±]?(£\d[\d,]*k|£\d\.\d\dm|£\d\d+\.\dm|£\d{1,3}|c|x)"
    assert all(re.fullmatch(shape, t) for t in money_cells)
    cost = next(h for h in rep.headlines if "cost" in h.label)
    parts = [c for r in table.rows if "cost" in str(r[0].value).lower() for c in r[3:4]]
    if cost.change.value is not None and all(p.value is not None for p in parts):
        assert cost.change.value == sum(p.value for p in parts)  # the shown parts add up


# ------------------------------------------------------------------ (8) site case wording
def test_the_site_case_says_what_each_figure_counts():
    from placeplan.publish.report.sections.sites import _site_case

    crit = pd.Series({"ooa_avoidable": 16.0, "time_saved_min": 18.0})
    text = _site_case(pd.Series({"needs": "ASD"}), crit, None, threshold=5, reach_min=45).lower()
    assert "out-of-area or independent placements it could take, up to its places: 16" in text
    assert (
        "if filled by the pupils in reach who would gain most, 18 min shorter per journey" in text
    )
    assert "could avoid" not in text and "saves 18 min" not in text


# ------------------------------------------------------------------ (10) ties and budget left
def _programme(alt_savings, capital, budget, gap=0.0):
    from placeplan.publish.programme import ProgrammeTables

    alts = pd.DataFrame(
        {"kind": ["optimal", *["alternative"] * len(alt_savings)], "savings": [59.0, *alt_savings]}
    )
    return ProgrammeTables(
        programme=pd.DataFrame({"capital_gbp": [capital]}),
        curve=pd.DataFrame({"budget_gbp": [budget / 2, budget]}),
        alternatives=alts,
        objective="ooa_avoided",
        unit="u",
        status="optimal",
        gap=gap,
        savings=59.0,
        bound=59.0,
        greedy_savings=50.0,
    )


def test_ties_with_the_chosen_programme_and_unspent_budget_are_said_plainly():
    from placeplan.publish.report.sections.optimise import ties_and_budget

    text = ties_and_budget(_programme([59.0] * 5, 2_400_000.0, 3_000_000.0))
    assert text.startswith(
        "At least 5 other programmes achieve the same savings (see the table of alternatives): "
        "this objective does not choose between them; choose on site scores, deliverability or "
        "cost."
    )
    assert "leaves £600k of the budget unspent: the solver proved that no programme" in text
    assert "no further savings are within reach for the budget left" in text
    one = ties_and_budget(_programme([59.0, 58.0], 3_000_000.0, 3_000_000.0))
    assert one.startswith("1 other programme achieves the same savings") and "unspent" not in one
    assert ties_and_budget(_programme([58.0], 3_000_000.0, 3_000_000.0)) == ""
