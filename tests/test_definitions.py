"""One definition of reliance on out-of-area placements, printed the same everywhere.

:data:`placeplan.compute.flows.RELIANCE` holds the plain sentence and the measure names as
separate fields; the code's documented text and every published output that defines the term
print that one sentence (no text derived from another by pattern matching).
"""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from placeplan.compute.flows import MEASURES, OOA_RELIANCE, RELIANCE
from placeplan.publish.report.appendix import build_appendix, render_appendix
from placeplan.publish.report.build import build_report
from placeplan.publish.report.render import render_report
from placeplan.publish.report.sections.year_by_year import reliance_definition
from report_fixtures import example_inputs
from test_flows_publish import _table


def _words(text: str) -> str:
    """Visible text with tags dropped, entities decoded and white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.fixture(scope="module")
def inputs():
    first = dataclasses.replace(
        example_inputs(), scenario_name="Two bases", flows=_table(60, 3), synthetic_data=True
    )
    return [first, dataclasses.replace(first, scenario_name="Bigger base")]


def test_the_definition_is_structured_and_its_measures_are_the_models():
    assert RELIANCE.term == "Reliance on out-of-area placements"
    assert RELIANCE.measures[0] == "out_of_area"
    assert set(RELIANCE.measures) <= set(MEASURES)
    assert "``" not in RELIANCE.sentence and "in_area" not in RELIANCE.sentence
    assert "outside the authority's area" in RELIANCE.sentence
    assert RELIANCE.plain == (
        f"{RELIANCE.sentence} (In flows.csv: out_of_area, out_of_area_pct, "
        "independent_non_maintained.)"
    )


def test_the_code_and_the_report_print_the_same_sentence(inputs):
    sentence = RELIANCE.sentence
    assert sentence in " ".join(OOA_RELIANCE.split())  # the documented text (for developers)
    assert "in_area" in OOA_RELIANCE  # ... which says how the model decides it
    assert reliance_definition() == RELIANCE.plain
    one = _words(render_report(build_report(inputs[0])))
    both = _words(render_appendix(build_appendix(inputs, [build_report(i) for i in inputs])))
    for page in (one, both):
        assert f"Definition used everywhere in this report — {RELIANCE.plain}" in page
        # no other wording of the definition: its opening words appear only with the sentence
        opening = sentence[:60]
        assert page.count(opening) == page.count(sentence) >= 1
