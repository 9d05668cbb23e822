"""TIA report: structure, DfE elements, disclosure in the HTML, banners, offline, determinism."""

from __future__ import annotations

import html as htmllib
import importlib.util
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.publish.report import build_report, render_report, write_report
from placeplan.publish.report.build import DFE_ELEMENTS, DFE_REQUIREMENT
from placeplan.publish.report.render import (
    fmt_count,
    fmt_gbp,
    fmt_gbp_k,
    fmt_gbp_short,
    fmt_minutes,
    fmt_percent,
)
from report_fixtures import example_inputs

ANCHORS = (
    "summary",
    "requirement",
    "distances",
    "journey-times",
    "out-of-area",
    "mitigations",
    "sites",
    "breakdowns",
    "method",
    "sources",
    "disclosure",
)
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE
)
COUNT_TD = re.compile(r'<td class="count[^"]*"[^>]*>([^<]*)</td>')


@pytest.fixture(scope="module")
def published_html() -> str:
    return render_report(build_report(example_inputs(small_count=3)))


@pytest.fixture(scope="module")
def internal_html() -> str:
    return render_report(build_report(example_inputs(mode="internal", small_count=3)))


def _counts(text: str) -> list[int]:
    return [int(v.replace(",", "")) for v in COUNT_TD.findall(text) if v.replace(",", "").isdigit()]


def test_section_anchors_and_dfe_headings(published_html):
    for anchor in ANCHORS:
        assert f'id="{anchor}"' in published_html, anchor
        if anchor not in ("summary", "requirement"):
            assert f'href="#{anchor}"' in published_html
    for i, (anchor, heading) in enumerate(DFE_ELEMENTS, start=1):
        assert re.search(
            rf'<section id="{anchor}"[^>]*>\s*<h2>{i}\. {heading}</h2>', published_html
        )
    assert htmllib.escape(DFE_REQUIREMENT, quote=False) in published_html


def test_no_small_count_rendered(published_html, internal_html):
    counts = _counts(published_html)
    assert counts, "expected count cells"
    assert not [c for c in counts if 0 < c < 5]
    # the planted 3 is visible in internal mode, so the check above can fail
    assert 3 in _counts(internal_html)
    # chart labels and map tooltips too
    svg_labels = re.findall(r'<text[^>]*font-size="10"[^>]*>(\d+)</text>', published_html)
    assert svg_labels and not [v for v in svg_labels if 0 < int(v) < 5]
    inner = htmllib.unescape(published_html)
    assert '"pupils_txt": "3"' not in inner
    assert '"pupils_txt": "c"' in inner
    assert re.search(r"pupils served: [1-4]\b", inner) is None
    assert re.search(r": [1-4] pupils", inner) is None
    assert 'class="count suppressed"' in published_html


def test_headline_summary(published_html):
    assert 'class="summary-box"' in published_html
    for label in (
        "Mean journey time (each way)",
        "Pupils over the reasonable maximum journey",
        "Out of area placements",
        "Annual placement + transport cost",
    ):
        assert label in published_html
    assert "−7.5 min" in published_html  # 34.6 -> 27.1


def test_internal_and_synthetic_banners(published_html, internal_html):
    assert "INTERNAL — contains unsuppressed small numbers" in internal_html
    assert "INTERNAL — contains unsuppressed small numbers" not in published_html
    assert "The pupil cohort in this sample is SYNTHETIC" in published_html
    real = render_report(build_report(example_inputs(synthetic_data=False)))
    assert "SYNTHETIC" not in real


def test_no_external_urls(published_html):
    assert not EXTERNAL.search(published_html)
    inner = htmllib.unescape(published_html)  # the maps inside iframe srcdoc
    assert not EXTERNAL.search(inner)
    assert "L.tileLayer(" not in inner
    assert "cdn." not in inner.lower()


def test_deterministic(published_html):
    again = render_report(build_report(example_inputs(small_count=3)))
    assert again == published_html


def test_write_report(tmp_path):
    path = write_report(build_report(example_inputs()), tmp_path / "out" / "tia.html")
    assert path == tmp_path / "out" / "tia.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "@media print" in text


def test_method_section_contents(published_html):
    assert "Journey Time Statistics" in published_html
    assert 'id="t-parameters"' in published_html
    assert 'id="t-rows"' in published_html
    assert "Contains OS data © Crown copyright" in published_html
    assert "[disclosure]" in published_html  # plan file reproduced


def test_inputs_contract():
    inp = example_inputs()
    with pytest.raises(CRSError, match="27700"):
        replace(inp, areas=inp.areas.to_crs(4326))
    with pytest.raises(SchemaValidationError, match="pupil-level"):
        replace(inp, mitigations=inp.mitigations.assign(pupil_ref="x"))
    with pytest.raises(SchemaValidationError, match="mode"):
        replace(inp, mode="public")
    with pytest.raises(SchemaValidationError, match="impact"):
        replace(inp, impact=inp.impact.drop(columns="change"))


def test_minimal_inputs_render():
    inp = example_inputs()
    bare = replace(
        inp,
        sites=None,
        provision=None,
        areas=None,
        ooa_flows=None,
        isochrones=None,
        outline=None,
        roads=None,
        time_bands=None,
        mitigations=None,
        row_accounting=None,
    )
    text = render_report(build_report(bare))
    assert 'id="distances"' in text and "<iframe" not in text


def test_filters():
    assert fmt_minutes(2.14, signed=True) == "+2.1 min"
    assert fmt_minutes(-7.5, signed=True) == "−7.5 min"
    assert fmt_count(1234.0) == "1,234"
    assert fmt_count(None) == "x"
    assert fmt_percent(18.55) == "18.6%"
    assert fmt_percent(-10.6, signed=True) == "−10.6 pp"
    assert fmt_gbp(9_000_000) == "£9.00m"
    # projected money is not known to £10k: £m to 1 decimal from £10m, 2 below
    assert fmt_gbp(30_330_000) == "£30.3m"
    assert fmt_gbp_short(30_330_000) == "£30.3m" and fmt_gbp_k(30_330_000) == "£30.3m"
    assert fmt_gbp_short(4_386_000) == "£4.39m" and fmt_gbp_k(9_996_000) == "£10.0m"
    assert fmt_gbp_short(-940_000, signed=True) == "−£0.94m"
    assert fmt_gbp(-115_000, signed=True) == "−£115,000"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_screenshot_offline(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    spec = importlib.util.spec_from_file_location(
        "pp_screenshot", Path(__file__).parents[1] / "scripts" / "screenshot.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["pp_screenshot"] = mod
    spec.loader.exec_module(mod)
    from placeplan.publish import maps
    from placeplan.publish.disclosure import suppress

    inp = example_inputs()
    areas = suppress(
        inp.areas,
        count_cols=["pupils"],
        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
    )
    page = maps.save_map(maps.map_journey_times(areas, outline=inp.outline), tmp_path / "m.html")
    png = mod.screenshot(page, tmp_path / "m.png", width=600, height=400, wait_ms=3000)
    img = pil.open(png).convert("RGB")
    colours = {c for _, c in img.getcolors(maxcolors=1 << 20)}
    # drawn offline: the sea background and the 15-30 min band colour are on screen
    assert (0xDB, 0xE9, 0xF4) in colours
    assert (0xC7, 0xE9, 0xB4) in colours or len(colours) > 50


# ------------------------------------------------------------ composer, prose, charts
def test_sections_compose_in_report_order():
    from placeplan.publish.report.build import SECTIONS

    report = build_report(example_inputs())
    assert [s.id for s in report.sections] == list(ANCHORS[1:])
    # the "Year by year" section (issue 9) and the per-proposal sections (issue 11) are left out
    # when the run has no flow table and no proposals
    assert len(SECTIONS) == len(report.sections) + 2
    assert "year-by-year" not in [s.id for s in report.sections]
    numbers = [s.number for s in report.sections]
    assert numbers == ["", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert [s.id for s in report.sections if s.dfe_element] == [a for a, _ in DFE_ELEMENTS]


def test_fixture_not_exported_from_package():
    from placeplan.publish import report as rep

    assert "example_inputs" not in rep.__all__
    assert not hasattr(rep, "example_inputs")


def test_prose_collapses_layout_whitespace():
    from placeplan.publish.report.prose import prose

    text = prose("out_of_area", "flows_note", threshold=5, left_out=3)
    assert text == (
        "Only home area → setting pairs with at least 5 pupils in the baseline or the scenario "
        "are listed; 3 smaller pairs are not listed (their pupils are in the totals above)."
    )
    assert prose("out_of_area", "flows_note", threshold=5, left_out=0).endswith("are listed.")
    published = prose("disclosure_control", "published", threshold=10, round_to=5)
    assert "from 1 to 9 is suppressed" in published
    assert published.endswith(
        "fewer than 10 pupils. Published counts are rounded to the nearest 5."
    )
    assert "rounded" not in prose("disclosure_control", "published", threshold=10, round_to=0)
    # text, not HTML: the HTML template escapes it later
    assert "authority's" in prose(
        "journey_times", "ferry_note", over="3", by_ferry="3", by_road="0", all_by_ferry=True
    )


def test_prose_missing_value_raises():
    import jinja2

    from placeplan.publish.report.prose import prose

    with pytest.raises(jinja2.UndefinedError):
        prose("breakdowns", "intro")


def test_every_prose_template_renders():
    """Each macro of each section template renders with simple values and leaves no markup."""
    import inspect

    from placeplan.publish.report import prose as prose_mod

    folder = Path(inspect.getfile(prose_mod)).parent / "templates" / "sections"
    files = sorted(folder.glob("*.txt.j2"))
    assert len(files) >= 8
    env = prose_mod._environment()
    for f in files:
        module = env.get_template(f"sections/{f.name}").module
        macros = [n for n in dir(module) if not n.startswith("_")]
        assert macros, f.name
        for name in macros:
            macro = getattr(module, name)
            args = dict.fromkeys(macro.arguments, 5)
            text = prose_mod.prose(f.name.removesuffix(".txt.j2"), name, **args)
            assert text and "{" not in text and "  " not in text and "\n" not in text, (f, name)


def _chart(cells_by_series, categories=None, **kw):
    from placeplan.publish.report.charts import bar_chart

    n = len(cells_by_series[0])
    series = [(f"S{i}", "#123456", cells) for i, cells in enumerate(cells_by_series)]
    return bar_chart(
        categories or [f"cat{i}" for i in range(n)],
        series,
        y_label=kw.get("y_label", "pupils"),
        value_fmt=kw.get("value_fmt", "count"),
        title=kw.get("title", "T"),
    )


def test_bar_chart_geometry_exact():
    from placeplan.publish.report.model import Cell

    # max 30 -> step 10, axis top 30; plot height 212 px from y=30: 15 pupils = 106 px, top y=136
    svg = _chart([[Cell(15.0, "count"), Cell(30.0, "count")]])
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 300"')
    assert svg.count('stroke="#ddd"') == 4  # grid lines at 0, 10, 20, 30
    assert 'y="136.0" width="' in svg and 'height="106.0" fill="#123456"' in svg
    assert 'y="30.0" width="' in svg and 'height="212.0" fill="#123456"' in svg
    assert ">15</text>" in svg and ">30</text>" in svg
    assert svg.count("<rect") == 3  # two bars + one legend swatch


def test_bar_chart_suppressed_and_missing():
    from placeplan.publish.report.model import Cell

    svg = _chart(
        [
            [Cell(12.0, "count"), Cell(None, "count", suppressed=True), Cell(None, "count")],
            [Cell(float("nan"), "count"), Cell(3.0, "count", suppressed=True), Cell(7.0, "count")],
        ]
    )
    assert svg.count('font-style="italic">c</text>') == 2  # one marker per suppressed value
    assert svg.count("<rect") == 2 + 2  # bars for 12 and 7 only, plus two legend swatches
    assert ">3</text>" not in svg  # a suppressed value never reaches the markup


def test_bar_chart_escapes_and_zero_axis():
    from placeplan.publish.report.model import Cell

    svg = _chart([[Cell(0.0, "count")]], categories=["<b>&"], title='a"b', y_label="<y>")
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    assert 'aria-label="a&quot;b"' in svg and "&lt;y&gt;" in svg
    assert svg.count('stroke="#ddd"') == 2  # all zero: axis 0..1, grid lines at 0 and 1


def test_bar_chart_narrow_bars_whole_number_labels():
    from placeplan.publish.report.model import Cell

    cells = [Cell(12.34, "minutes") for _ in range(20)]
    wide = _chart([cells[:2]], value_fmt="minutes")
    narrow = _chart([cells], value_fmt="minutes")
    assert ">12.3</text>" in wide and 'font-size="10"' in wide
    assert ">12</text>" in narrow and 'font-size="8"' in narrow and ">12.3<" not in narrow


def test_report_package_size_budget():
    """No function over ~80 lines and no module over ~800 lines in publish/report (issue 8)."""
    import ast
    import inspect

    from placeplan.publish import report as rep

    root = Path(inspect.getfile(rep)).parent
    too_long = []
    for path in sorted(root.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if len(src.splitlines()) > 800:
            too_long.append(f"{path.name}: {len(src.splitlines())} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 85:
                    too_long.append(f"{path.name}:{node.name}: {n} lines")
    assert not too_long
