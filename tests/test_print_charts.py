"""The year-by-year band charts read apart where scenarios coincide (review of the printed demo).

Printed, the comparison charts showed the first scenario's line hidden under the second's dashed
one (both solid or both the same colour weight, drawn band-line-band-line), and the three 80 %
bands merged into one brown area. Now every scenario has its own dash pattern and marker shape,
all bands lie under all lines, bands are light with an outline, and with two or more scenarios
each gets its own panel against the baseline.
"""

from __future__ import annotations

import re

from placeplan.publish.report.charts import BASELINE_COLOUR, SCENARIO_COLOURS, band_chart

YEARS = ["2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31"]
BASE = ([15, 14, 15, 24, 35, 48], [15, 11, 8, 11, 12, 15], [15, 26, 47, 72, 127, 183])
# two scenarios with (almost) the same values: their lines coincide
S1 = ([15, 13, 14, 19, 27, 38], [15, 11, 8, 9, 10, 13], [15, 23, 38, 62, 102, 148])
S2 = ([15, 13, 14, 19, 27, 38], [15, 11, 8, 9, 10, 13], [15, 24, 39, 64, 102, 149])


def _chart(n_scenarios: int) -> str:
    series = [("Baseline", BASELINE_COLOUR, *BASE)]
    for k in range(n_scenarios):
        series.append((f"Scenario {k + 1}", SCENARIO_COLOURS[k], *(S1 if k % 2 == 0 else S2)))
    return band_chart(YEARS, series, y_label="pupils", title="Out-of-area placements")


def _line_styles(svg: str) -> list[tuple[str, str, str]]:
    """(colour, stroke width, dash pattern) of every central line, in drawing order."""
    out = []
    for attrs in re.findall(r"<polyline ([^>]*)/>", svg):
        colour = re.search(r'stroke="([^"]+)"', attrs)
        width = re.search(r'stroke-width="([^"]+)"', attrs)
        dash = re.search(r'stroke-dasharray="([^"]+)"', attrs)
        assert colour and width
        out.append((colour.group(1), width.group(1), dash.group(1) if dash else ""))
    return out


def _marker_shapes(svg: str, colour: str) -> set[str]:
    """The element names of the data points (class "pt") drawn in ``colour``."""
    return {
        tag
        for tag, attrs in re.findall(r"<(circle|rect|polygon) ([^>]*)>", svg)
        if f'fill="{colour}"' in attrs and 'class="pt"' in attrs
    } | {
        # a polygon marker's corners tell a triangle (3) from a diamond (4)
        f"polygon{len(pts.split())}"
        for pts, attrs in re.findall(r'<polygon points="([^"]+)"([^>]*)>', svg)
        if f'fill="{colour}"' in attrs and 'class="pt"' in attrs
    }


def test_coinciding_scenarios_have_distinct_dashes_and_markers():
    svg = _chart(3)
    styles = _line_styles(svg)
    dashes = {colour: dash for colour, _, dash in styles}
    assert len(dashes) == 4
    # every scenario's dash pattern differs from the others' and from the baseline's (solid)
    assert len(set(dashes.values())) == 4, dashes
    assert dashes[BASELINE_COLOUR] == ""
    # the baseline is the widest line, drawn under the scenario it is compared with
    widths = {colour: float(w) for colour, w, _ in styles}
    assert all(widths[BASELINE_COLOUR] > widths[c] for c in SCENARIO_COLOURS[:3])
    shapes = [frozenset(_marker_shapes(svg, c)) for c in (BASELINE_COLOUR, *SCENARIO_COLOURS[:3])]
    assert all(shapes), shapes
    assert len(set(shapes)) == 4, shapes  # a marker shape each


def test_bands_are_light_outlined_and_under_every_line():
    svg = _chart(1)
    bands = re.findall(r'<polygon class="band" ([^>]*)/>', svg)
    assert len(bands) == 2
    for attrs in bands:
        opacity = re.search(r'fill-opacity="([^"]+)"', attrs)
        assert opacity and float(opacity.group(1)) <= 0.15, attrs
        assert re.search(r'stroke="#', attrs), "a band has an outline"
    last_band = max(m.start() for m in re.finditer(r'class="band"', svg))
    first_line = min(m.start() for m in re.finditer(r"<polyline", svg))
    assert last_band < first_line  # no band drawn over a line


def test_several_scenarios_get_one_panel_each_against_the_baseline():
    svg = _chart(2)
    # one panel per scenario, each with the baseline's band and its own: never three bands
    # stacked in one plot
    assert "Scenario 1 against Baseline" in svg and "Scenario 2 against Baseline" in svg
    assert len(re.findall(r'<polygon class="band"', svg)) == 4
    baseline_lines = [s for s in _line_styles(svg) if s[0] == BASELINE_COLOUR]
    assert len(baseline_lines) == 2
    # the panels share one y scale: the same tick labels in each
    ticks = re.findall(r'text-anchor="end">(\d+)</text>', svg)
    assert ticks.count("200") == 2
    # one scenario: one plot, as before (720 x 300)
    one = _chart(1)
    assert 'viewBox="0 0 720 300"' in one and "against Baseline" not in one
