"""One appendix for every scenario of a plan: the comparison first, then each scenario in full.

:func:`build_appendix` composes the per-scenario reports of
:func:`~placeplan.publish.report.build.build_report` (one per scenario, unchanged) with the
comparison of :mod:`placeplan.publish.report.sections.compare`:

1. what the appendix answers (the DfE requirement) and the scenarios side by side (a table and
   one year-by-year chart per headline measure);
2. the year-by-year flows (the same for every scenario's report, so shown once);
3. each scenario's own sections (the four DfE elements, site proposals, breakdowns, method),
   under a heading with its anchor ``#scenario-<k>``; the first scenario's sections keep their
   ids (``#distances``, ``#t-sites``, …) so links into the old single-scenario report still
   work, the k-th scenario's ids start ``s<k>-``;
4. the data sources, the disclosure note and the plan file (``#plan-file``), once: each
   scenario's method section links to the plan file rather than printing it again.

:func:`write_appendix` writes it as one self-contained, offline HTML file (``report.html``).

**Why the per-scenario files are gone.** Runs used to write ``report.html`` for the first scenario
and ``report-<scenario>.html`` for each other. The DfE asks for one appendix, and a reviewer
comparing proposals needs them side by side; separate files carried the same published numbers
twice and let a reader miss a scenario. Each scenario's part keeps every section it had, so
nothing is lost; the standalone maps (``map-*.html``) are still written per scenario.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from placeplan.publish.report.model import (
    DFE_REQUIREMENT,
    Figure,
    Paragraph,
    Preformatted,
    Quote,
    Section,
)
from placeplan.publish.report.prose import prose
from placeplan.publish.report.sections import compare, optimise

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from placeplan.publish.programme import ProgrammeTables
    from placeplan.publish.report.model import Block, Mode, Report, ReportInputs

__all__ = [
    "CLOSING_SECTIONS",
    "PLAN_FILE_ANCHOR",
    "SHARED_SECTIONS",
    "Appendix",
    "ScenarioPart",
    "build_appendix",
    "render_appendix",
    "write_appendix",
]

#: Sections that are the same in every scenario's report, shown once after the comparison.
SHARED_SECTIONS: tuple[str, ...] = ("year-by-year",)
#: Sections that are the same in every scenario's report, shown once at the end.
CLOSING_SECTIONS: tuple[str, ...] = ("sources", "disclosure")
_DROPPED = ("requirement",)  # replaced by the appendix's own opening
#: Anchor of the closing section that prints the plan file once.
PLAN_FILE_ANCHOR = "plan-file"


@dataclass(frozen=True)
class ScenarioPart:
    """One scenario's part of the appendix: its report with anchors made unique.

    Attributes
    ----------
    number
        1 for the first scenario of the plan, and so on.
    anchor
        The part's anchor (``scenario-<number>``).
    report
        The scenario's report; its sections are those not shared between scenarios.
    """

    number: int
    anchor: str
    report: Report

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.report.scenario_name


@dataclass(frozen=True)
class Appendix:
    """The whole appendix: opening sections, one part per scenario, closing sections."""

    title: str
    plan_name: str
    authority: str
    run_timestamp: str
    placeplan_version: str
    config_hash: str
    mode: Mode
    synthetic_data: bool
    disclosure_threshold: int
    opening: tuple[Section, ...]
    parts: tuple[ScenarioPart, ...]
    closing: tuple[Section, ...]

    @property
    def internal(self) -> bool:
        """True in internal mode."""
        return self.mode == "internal"


_SVG_ID = re.compile(r'\bid="([^"]+)"')


def _prefix_svg_ids(svg: str, prefix: str) -> str:
    """``svg`` with every element id, and every ``url(#…)`` / ``href="#…"`` to it, prefixed."""
    for old in sorted(set(_SVG_ID.findall(svg)), key=len, reverse=True):
        new = f"{prefix}{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg


def _prefixed_block(block: Block, prefix: str) -> Block:
    if isinstance(block, Figure):
        return dataclasses.replace(
            block, id=f"{prefix}{block.id}", svg=_prefix_svg_ids(block.svg, prefix)
        )
    if hasattr(block, "id"):
        return dataclasses.replace(block, id=f"{prefix}{block.id}")  # type: ignore[arg-type]
    return block


def _prefixed(section: Section, prefix: str) -> Section:
    """``section`` with its id and every block id (and SVG element id) starting ``prefix``."""
    if not prefix:
        return section
    blocks: list[Block] = [_prefixed_block(b, prefix) for b in section.blocks]
    return dataclasses.replace(section, id=f"{prefix}{section.id}", blocks=tuple(blocks))


def _opening(inputs: Sequence[ReportInputs]) -> Section:
    first = inputs[0]
    limits = ", ".join(f"{k} {v:g} min" for k, v in sorted(first.reasonable_journey_min.items()))
    if first.reasonable_journey_min and not any(
        k.replace("-", "").startswith("post16") for k in first.reasonable_journey_min
    ):
        # compute.impact gives a phase without a limit of its own the longest one
        longest = max(first.reasonable_journey_min.values())
        limits += f"; post-16, which has no limit of its own, {longest:g} min (the longest)"
    names = "; ".join(f"“{i.scenario_name}”" for i in inputs)
    intro = prose(
        "compare", "intro", authority=first.authority, n=len(inputs), names=names, limits=limits
    )
    return Section(
        "requirement",
        "",
        "What this appendix answers",
        (Quote(DFE_REQUIREMENT, prose("requirement", "quote_source")), Paragraph(intro)),
    )


def _without_repeated_charts(section: Section, comparison: Section) -> Section:
    """``section`` without the year-by-year charts the comparison already draws.

    The comparison opens with one chart per headline measure, baseline and every scenario; the
    shared year-by-year section drew the first two of them again, identical, a page later.
    """
    if not any(isinstance(b, Figure) for b in comparison.blocks):
        return section
    blocks = tuple(
        b for b in section.blocks if not (isinstance(b, Figure) and b.id.startswith("f-yby-"))
    )
    return dataclasses.replace(section, blocks=blocks)


def _shared(by_id: dict[str, Section], comparison: Section) -> tuple[Section, ...]:
    """The sections shown once after the comparison, unnumbered, without repeated charts."""
    return tuple(
        _without_repeated_charts(dataclasses.replace(by_id[i], number=""), comparison)
        for i in SHARED_SECTIONS
        if i in by_id
    )


def _parts(reports: Sequence[Report]) -> tuple[ScenarioPart, ...]:
    """One part per report: its own sections (not those shown once), anchors made unique."""
    skip = (*SHARED_SECTIONS, *CLOSING_SECTIONS, *_DROPPED)
    return tuple(
        ScenarioPart(
            k,
            f"scenario-{k}",
            dataclasses.replace(
                report,
                sections=tuple(
                    _prefixed(s, "" if k == 1 else f"s{k}-")
                    for s in report.sections
                    if s.id not in skip
                ),
            ),
        )
        for k, report in enumerate(reports, start=1)
    )


def _plan_file_once(
    parts: tuple[ScenarioPart, ...],
) -> tuple[tuple[ScenarioPart, ...], tuple[Section, ...]]:
    """The parts with the plan file (a :class:`Preformatted` block of a method section) replaced
    by a link to one closing section that prints it, and that section (none if no part has it).

    Every scenario's report printed the same plan file in full (13 pages of the sample's PDF).
    """
    printed: Preformatted | None = None

    def method(s: Section) -> Section:
        nonlocal printed
        if not s.id.endswith("method"):
            return s
        pre = [b for b in s.blocks if isinstance(b, Preformatted)]
        if not pre:
            return s
        printed = printed or pre[0]
        link = Paragraph(
            f"The {pre[0].summary[0].lower()}{pre[0].summary[1:]} is the same for every scenario; "
            "it is printed once, at the end of this appendix:",
            href=PLAN_FILE_ANCHOR,
            link_text="Plan file",
        )
        blocks = [link if isinstance(b, Preformatted) else b for b in s.blocks]
        return dataclasses.replace(s, blocks=tuple(blocks))

    parts = tuple(
        dataclasses.replace(
            p, report=dataclasses.replace(p.report, sections=tuple(map(method, p.report.sections)))
        )
        for p in parts
    )
    if printed is None:
        return parts, ()
    return parts, (Section(PLAN_FILE_ANCHOR, "", "Plan file", (printed,)),)


def build_appendix(
    inputs: Sequence[ReportInputs],
    reports: Sequence[Report],
    *,
    programme: ProgrammeTables | None = None,
) -> Appendix:
    """Compose every scenario's report and the comparison into one appendix.

    Parameters
    ----------
    inputs
        One :class:`ReportInputs` per scenario, in plan order (same plan and baseline).
    reports
        :func:`~placeplan.publish.report.build.build_report` of each of ``inputs``.
    programme
        The capital programme's published tables (``placeplan optimise`` /
        ``[optimise]``), shown after the comparison; None: no such section.

    Returns
    -------
    Appendix
        Ready for :func:`render_appendix`.

    Raises
    ------
    ValueError
        If ``inputs`` is empty or ``reports`` does not match it.

    Examples
    --------
    >>> from placeplan.publish.report.build import build_report
    >>> from placeplan.publish.report.model import ReportInputs
    >>> import pandas as pd
    >>> impact = pd.DataFrame([("all", "all", "mean_time_min", 30.0, 25.0, -5.0)],
    ...     columns=["group_type", "group", "metric", "baseline", "scenario", "change"])
    >>> ins = [ReportInputs("Plan", "LA", "2026-04-01", "0.1", "sha256:0", "", impact,
    ...     scenario_name=n) for n in ("A", "B")]
    >>> app = build_appendix(ins, [build_report(i) for i in ins])
    >>> [p.anchor for p in app.parts], app.parts[1].report.sections[0].id
    (['scenario-1', 'scenario-2'], 's2-distances')
    """
    if not inputs or len(inputs) != len(reports):
        msg = f"need one report per scenario; got {len(inputs)} inputs, {len(reports)} reports"
        raise ValueError(msg)
    first = reports[0]
    parts, plan_file = _plan_file_once(_parts(reports))
    by_id = {s.id: s for s in first.sections}
    comparison = compare.section(inputs)
    shared = _shared(by_id, comparison)
    return Appendix(
        title=first.title,
        plan_name=first.plan_name,
        authority=first.authority,
        run_timestamp=first.run_timestamp,
        placeplan_version=first.placeplan_version,
        config_hash=first.config_hash,
        mode=first.mode,
        synthetic_data=first.synthetic_data,
        disclosure_threshold=first.disclosure_threshold,
        opening=(
            _opening(inputs),
            comparison,
            *(() if programme is None else (optimise.section(programme),)),
            *shared,
        ),
        parts=parts,
        closing=(
            *(dataclasses.replace(by_id[i], number="") for i in CLOSING_SECTIONS if i in by_id),
            *plan_file,
        ),
    )


def render_appendix(appendix: Appendix) -> str:
    """Render ``appendix`` to one self-contained, offline HTML document.

    Parameters
    ----------
    appendix
        From :func:`build_appendix`.

    Returns
    -------
    str
        The HTML document.
    """
    from placeplan.publish.maps import assert_offline
    from placeplan.publish.report.render import render_template

    html = render_template("appendix.html.j2", appendix=appendix, report=appendix)
    assert_offline(html)
    return html


def write_appendix(appendix: Appendix, path: str | Path) -> Path:
    """Write ``appendix`` as one self-contained HTML file.

    Parameters
    ----------
    appendix
        From :func:`build_appendix`.
    path
        Output path (``.html``); parent folders are created.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    from placeplan.publish.maps import write_page

    return write_page(path, lambda: render_appendix(appendix), newline="\n")
