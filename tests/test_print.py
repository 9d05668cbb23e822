"""The appendix as a reviewer prints it: headless Chromium → PDF, then the PDF's pages read back.

Issue 11 §6: printed, the interactive maps showed half the island under their legends and only one
layer. The printed report must carry the static before/after figures whole (never the Leaflet
maps), on A4, each proposal (``.proposal-page``) starting a page; a map page prints its figure.

Needs ``chromium`` on the PATH and the dev tool ``pypdfium2`` (to read the PDF); skipped, with the
reason, where either is missing. No network: Chromium's resolver and proxy are pointed nowhere.
"""

from __future__ import annotations

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
from placeplan.publish.report.model import MapFigure
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


@pytest.fixture(scope="module")
def printed_and_captions(
    tmp_path_factory,
) -> tuple[list[tuple[tuple[float, float], str]], list[str]]:
    """The fixture report, with two proposal sections added, printed to PDF."""
    tmp = tmp_path_factory.mktemp("print")
    report = build_report(example_inputs(small_count=3))
    html = render_report(report)
    extra = "".join(
        f'<section class="proposal-page"><h2>{title}</h2><p>Assessment of {title}.</p></section>'
        for title in PROPOSALS
    )
    assert html.count("</main>") == 1
    html = html.replace("</main>", extra + "</main>")
    src = tmp / "report.html"
    src.write_text(html, encoding="utf-8")
    map_captions = [
        " ".join(b.caption.split())
        for s in report.sections
        for b in s.blocks
        if isinstance(b, MapFigure)
    ]
    assert map_captions
    return _pages(_print_pdf(src, tmp / "report.pdf")), map_captions


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
    # the DfE element on journey times starts a page
    (j,) = [k for k, (_, t) in enumerate(printed) if t.startswith("2. Expected changes to journey")]
    assert j <= i


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
