"""The appendix as a reviewer prints it: headless Chromium → PDF, then the PDF's pages read back.

Issue 11 §6: printed, the interactive maps showed half the island under their legends and only one
layer. The printed report must carry the static before/after figures whole (never the Leaflet
maps), on A4, each proposal (``.proposal-page``) starting a page; a map page prints its figure.

Needs ``chromium`` on the PATH and the dev tool ``pypdfium2`` (to read the PDF); skipped, with the
reason, where either is missing. No network: Chromium's resolver and proxy are pointed nowhere.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from placeplan.publish import maps
from placeplan.publish.disclosure import suppress
from placeplan.publish.maps.static import (
    StaticBasemap,
    attach_print_figure,
    static_journey_times,
)
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Cell, MapFigure, Table
from placeplan.publish.report.render import render_report
from report_fixtures import example_inputs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pdfium = pytest.importorskip(
    "pypdfium2", reason="pypdfium2 (dev tool to read PDF pages) is not installed"
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")

A4_PT = (595.0, 842.0)
PROPOSALS = ("Proposal one: an ASD base", "Proposal two: an SEMH base")


def _print_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print ``html_path`` with headless Chromium (network blocked); return the PDF."""
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            f"--print-to-pdf={pdf_path}",
            "--no-pdf-header-footer",
            html_path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return pdf_path


def _pages(pdf_path: Path) -> list[tuple[tuple[float, float], str]]:
    """(size in points, body text) of every page (the running footer, read first, removed)."""
    doc = pdfium.PdfDocument(str(pdf_path))
    out = []
    for i in range(len(doc)):
        page = doc[i]
        text = page.get_textpage().get_text_range()
        body = re.sub(r"^.*? page \d+ of \d+ ?", "", " ".join(text.split()), count=1)
        out.append((tuple(round(v) for v in page.get_size()), body))
    doc.close()
    return out


#: A rule name of the mitigations year table: beside six columns of ranges it had wrapped one
#: word a line.
RULE_NAME = "Wider journey, secondary and post-16: travel training (Four inclusion bases)"


def _year_table() -> Table:
    """A table shaped like the mitigations year table: two label columns, six ranged years."""
    years = ("2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31")
    rows = []
    for label in ("Baseline", RULE_NAME, "Change"):
        cells = [Cell(60_000.0 + 1_000 * k, "gbp", low=44_000.0, high=732_000.0) for k in range(6)]
        rows.append((Cell("£ a year"), Cell(label), *cells))
    return Table(
        "t-wide-years", "Year by year, every year with its range", ("", "", *years), tuple(rows)
    )


def _report_html() -> tuple[str, list[str]]:
    """The fixture report, with a wide year table in section 4 and two proposal pages before
    the site proposals (where the report puts them); and its map captions."""
    report = build_report(example_inputs(small_count=3))
    sections = tuple(
        dataclasses.replace(s, blocks=(*s.blocks, _year_table())) if s.id == "mitigations" else s
        for s in report.sections
    )
    report = dataclasses.replace(report, sections=sections)
    html = render_report(report)
    extra = "".join(
        f'<section class="proposal-page"><h2>{title}</h2><p>Assessment of {title}.</p></section>'
        for title in PROPOSALS
    )
    assert html.count('<section id="sites"') == 1
    html = html.replace('<section id="sites"', extra + '<section id="sites"')
    map_captions = [
        " ".join(b.caption.split())
        for s in report.sections
        for b in s.blocks
        if isinstance(b, MapFigure)
    ]
    assert map_captions
    return html, map_captions


@pytest.fixture(scope="module")
def printed_pdf(tmp_path_factory) -> tuple[Path, list[str]]:
    """The fixture report (:func:`_report_html`) printed to PDF; and its map captions."""
    tmp = tmp_path_factory.mktemp("print")
    html, map_captions = _report_html()
    src = tmp / "report.html"
    src.write_text(html, encoding="utf-8")
    return _print_pdf(src, tmp / "report.pdf"), map_captions


@pytest.fixture(scope="module")
def printed_and_captions(printed_pdf) -> tuple[list[tuple[tuple[float, float], str]], list[str]]:
    pdf, map_captions = printed_pdf
    return _pages(pdf), map_captions


@pytest.fixture
def printed(printed_and_captions):
    return printed_and_captions[0]


def _page_of(pages, needle: str) -> list[int]:
    return [i for i, (_, text) in enumerate(pages) if needle in text]


def test_every_page_is_a4(printed):
    assert len(printed) >= 5
    for size, _ in printed:
        assert abs(size[0] - A4_PT[0]) <= 1 and abs(size[1] - A4_PT[1]) <= 1, size


def test_each_proposal_starts_a_page(printed):
    for title in PROPOSALS:
        (i,) = _page_of(printed, title)
        assert printed[i][1].startswith(title), printed[i][1][:80]
    # the two proposals are on different pages
    assert _page_of(printed, PROPOSALS[0]) != _page_of(printed, PROPOSALS[1])


def test_static_figure_prints_whole_and_the_leaflet_map_does_not(printed_and_captions):
    printed, map_captions = printed_and_captions
    # the figure's two panel titles, its legend and its caption are on one page: not cut
    (i,) = _page_of(printed, "Mean journey time by home area (each way)")
    text = printed[i][1]
    for part in ("Baseline", "Scenario:", "Mean journey time (each way)", "no pupils", "km"):
        assert part in text, part
    # the interactive maps (their figures, with captions) are not printed anywhere
    for caption in map_captions:
        assert not _page_of(printed, caption[:60]), caption
    # the figure is in the DfE element on journey times (which no longer forces a new page)
    assert max(_page_of(printed, "2. Expected changes to journey")) <= i  # (the first: contents)


def test_a_map_page_prints_its_static_figure(tmp_path):
    inputs = example_inputs(small_count=3)
    areas = suppress(
        inputs.areas,
        count_cols=["pupils"],
        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
    )
    m = maps.map_journey_times(areas, outline=inputs.outline, roads=inputs.roads)
    base = StaticBasemap(outline=inputs.outline, roads=inputs.roads)
    attach_print_figure(m, static_journey_times(areas, base=base, scenario_name="Test plan"))
    src = maps.save_map(m, tmp_path / "map.html")
    pages = _pages(_print_pdf(src, tmp_path / "map.pdf"))
    assert len(pages) == 1
    size, text = pages[0]
    assert abs(size[0] - A4_PT[0]) <= 1 and abs(size[1] - A4_PT[1]) <= 1
    assert "Scenario: Test plan" in text
    assert "Mean journey time (each way)" in text
    assert "Baseline: mean journey time" not in text  # the Leaflet layer control


# ------------------------------------------------------------- review of the printed demo
def _ink(pdf: Path) -> list[tuple[float, float]]:
    """(top, bottom) of the ink inside the page margins, as fractions of the body's height, of
    every page (the running header and footer, in the margins, left out)."""
    doc = pdfium.PdfDocument(str(pdf))
    out = []
    for i in range(len(doc)):
        img = doc[i].render(scale=0.5, grayscale=True).to_pil()
        w, h = img.size
        top, bottom = round(h * 16 / 297), round(h * (297 - 16) / 297)  # @page margin 16 mm
        rows = [y for y in range(top, bottom) if min(img.crop((0, y, w, y + 1)).getdata()) < 200]
        body = bottom - top
        out.append(((rows[0] - top) / body, (rows[-1] - top) / body) if rows else (1.0, 0.0))
    doc.close()
    return out


def test_no_page_is_left_mostly_blank(printed_pdf, printed):
    """Forced breaks before every DfE section left pages holding one table or a footnote. Now
    only a proposal's page starts (and ends) a page: every other page but the last is at least
    40 % filled. Exempt: a proposal's own page and the page before it, and a page before a
    static map (its first panel, "Baseline", heads the next page), which is too tall to share
    the rest of a page."""
    pdf, _ = printed_pdf
    ink = _ink(pdf)
    assert len(ink) == len(printed)
    forced = {i for i, (_, text) in enumerate(printed) if text.startswith(PROPOSALS)}
    before_map = {i - 1 for i, (_, text) in enumerate(printed) if text.startswith("Baseline")}
    assert before_map  # the fixture has static maps
    for i, (_, bottom) in enumerate(ink[:-1]):
        if i in forced or i + 1 in forced or i in before_map:
            continue
        assert bottom >= 0.4, (i + 1, round(bottom, 2), printed[i][1][:120])
    # a numbered section heads a page only when the page before is full (not forced there)
    for i, (_, text) in enumerate(printed):
        if i > 0 and re.match(r"\d+a?\. [A-Z]", text) and i - 1 not in forced:
            assert ink[i - 1][1] >= 0.8, (i + 1, round(ink[i - 1][1], 2), text[:60])
        assert bottom >= 0.4, (i + 1, round(bottom, 2), printed[i][1][:120])


def test_a_proposal_page_is_its_own(printed):
    """What follows a proposal (here the site proposals) starts the next page."""
    (i,) = _page_of(printed, PROPOSALS[1])
    assert "Site proposals" not in printed[i][1]
    assert printed[i + 1][1].startswith("5. Site proposals"), printed[i + 1][1][:80]


def test_the_plan_file_prints_open(printed):
    """The method section shows plan.toml in a closed <details>: printed, only its summary
    showed, though the plan says every parameter is printed."""
    text = " ".join(t for _, t in printed)
    assert "Plan file (plan.toml) used for this run" in text
    assert 'name = "Isle of Wight inclusion bases 2026"' in text and "threshold = 5" in text


@pytest.mark.parametrize("keep", ["css", "script"])
def test_closed_details_print_open_by_either_means(tmp_path, keep):
    """Each of the two means alone opens it: the print rule for ``::details-content``, and the
    ``beforeprint`` handler (for a browser without that pseudo-element)."""
    html, _ = _report_html()
    assert "<details><summary>" in html  # closed on screen
    if keep == "css":
        html = re.sub(r'window\.addEventListener\("beforeprint".*?\}\);', "", html, flags=re.S)
        assert 'addEventListener("beforeprint"' not in html
    else:
        html, n = re.subn(r"details::details-content[^{]*\{[^}]*\}", "", html)
        assert n == 1
    src = tmp_path / "report.html"
    src.write_text(html, encoding="utf-8")
    text = " ".join(t for _, t in _pages(_print_pdf(src, tmp_path / "report.pdf")))
    assert "threshold = 5" in text


def test_a_text_column_beside_ranged_years_is_not_squeezed(printed_pdf):
    """Six year columns of ranges, kept on one line, left the rule names one word a line: the
    ranges now wrap after their dash, and a rule name takes at most three lines."""
    pdf, _ = printed_pdf
    doc = pdfium.PdfDocument(str(pdf))
    lines = []
    for i in range(len(doc)):
        lines += [ln.strip() for ln in doc[i].get_textpage().get_text_range().splitlines()]
    doc.close()
    words = RULE_NAME.split()
    start = next(k for k, ln in enumerate(lines) if ln.startswith(words[0] + " "))
    taken, k = [], start
    while len(" ".join(taken).split()) < len(words):
        taken.append(lines[k].split("£")[0].strip())
        k += 1
    assert " ".join(taken).split()[: len(words)] == words, taken
    assert len(taken) <= 3, taken
