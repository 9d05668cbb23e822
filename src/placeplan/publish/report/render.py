"""Render the report model to one self-contained, offline, printable HTML file.

ydata-style second and third layers: :func:`render_report` (Jinja2 over
``placeplan/publish/report/templates``) and :func:`write_report`. Output is deterministic: the same
:class:`~placeplan.publish.report.model.Report` renders to the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe

from placeplan.publish.disclosure import (
    NOT_AVAILABLE_MARKER,
    NOT_AVAILABLE_MEANING,
    SUPPRESSED_MARKER,
)
from placeplan.publish.escape import css_string

if TYPE_CHECKING:
    from placeplan.publish.report.model import Cell, Report

__all__ = [
    "fmt_cell",
    "fmt_count",
    "fmt_gbp",
    "fmt_gbp_k",
    "fmt_gbp_short",
    "fmt_minutes",
    "fmt_percent",
    "fmt_range",
    "render_report",
    "render_template",
    "write_report",
]

_MISSING = NOT_AVAILABLE_MARKER
_MINUS = "−"  # U+2212, typographic minus


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sign(value: float, signed: bool) -> str:
    if not signed:
        return "-" if value < 0 else ""
    if value > 0:
        return "+"
    if value < 0:
        return _MINUS
    return "±"


def fmt_count(value: Any, signed: bool = False) -> str:
    """Format a count of pupils: ``1,234`` (``x`` when missing)."""
    if _missing(value):
        return _MISSING
    v = round(float(value))
    return f"{_sign(v, signed)}{abs(v):,}"


def fmt_minutes(value: Any, signed: bool = False) -> str:
    """Format minutes with one decimal: ``23.4 min`` / ``+2.1 min``."""
    if _missing(value):
        return _MISSING
    v = float(value)
    return f"{_sign(round(v, 1), signed)}{abs(v):.1f} min"


def fmt_percent(value: Any, signed: bool = False) -> str:
    """Format a percentage given on the 0–100 scale: ``18.6%`` / ``+1.2 pp`` when signed."""
    if _missing(value):
        return _MISSING
    v = float(value)
    if signed:
        return f"{_sign(round(v, 1), True)}{abs(v):.1f} pp"
    return f"{v:.1f}%"


def _millions(a: float) -> str:
    """``a`` pounds (0 or more) in millions: 1 decimal from £10m, else 2.

    A projected or estimated sum is not known to £10k: a capital board reads £30.3m, and a sum
    under £10m keeps the second decimal (£4.39m, £0.94m), where £10k is still 0.1 % or more.

    Examples
    --------
    >>> _millions(30_330_000), _millions(4_386_000), _millions(9_996_000), _millions(940_000)
    ('£30.3m', '£4.39m', '£10.0m', '£0.94m')
    """
    m = a / 1e6
    return f"£{m:,.1f}m" if round(m, 2) >= 10 else f"£{m:,.2f}m"


def fmt_gbp(value: Any, signed: bool = False) -> str:
    """Format pounds sterling: ``£1,234,567``; at a million or more ``£9.00m``, ``£30.3m``."""
    if _missing(value):
        return _MISSING
    v = float(value)
    a = abs(v)
    body = _millions(a) if a >= 1e6 else f"£{a:,.0f}"
    return f"{_sign(round(v), signed)}{body}"


def _gbp_tiered(value: Any, signed: bool, million_from: float) -> str:
    """Pounds in millions (:func:`_millions`) from ``million_from``, else ``£xk`` from £1,000,
    else ``£x``."""
    if _missing(value):
        return _MISSING
    v = float(value)
    a = abs(v)
    if a >= million_from:
        body = _millions(a)
    elif a >= 1e3:
        body = f"£{a / 1e3:,.0f}k"
    else:
        body = f"£{a:,.0f}"
    return f"{_sign(round(v), signed)}{body}"


def fmt_gbp_short(value: Any, signed: bool = False) -> str:
    """Format pounds for headlines: ``£30.3m``, ``£4.39m``, ``−£0.94m`` (from £100k), ``£45k``,
    ``£900``."""
    return _gbp_tiered(value, signed, million_from=1e5)


def fmt_gbp_k(value: Any, signed: bool = False) -> str:
    """Format pounds in thousands: ``£30.3m``, ``£4.39m`` from a million, ``£182k``, ``£900``."""
    return _gbp_tiered(value, signed, million_from=1e6)


def _fmt_number(value: Any, signed: bool = False, digits: int = 1, unit: str = "") -> str:
    if _missing(value):
        return _MISSING
    v = float(value)
    return f"{_sign(round(v, digits), signed)}{abs(v):,.{digits}f}{unit}"


_FORMATTERS = {
    "count": fmt_count,
    "rows": fmt_count,
    "places": fmt_count,
    "minutes": fmt_minutes,
    "percent": fmt_percent,
    "gbp": fmt_gbp,
    "gbp_short": fmt_gbp_short,
    "gbp_k": fmt_gbp_k,
    "km": lambda v, signed=False: _fmt_number(v, signed, 1, " km"),
    "miles": lambda v, signed=False: _fmt_number(v, signed, 2, " mi"),
    "score": lambda v, signed=False: _fmt_number(v, signed, 2),
    "number": lambda v, signed=False: _fmt_number(v, signed, 1),
}


def fmt_cell(cell: Cell, with_range: bool = True) -> str:
    """Format a report cell; suppressed cells show ``c`` (DfE convention).

    A cell with a range (``low``, ``high``) that differs from its value shows it in brackets
    (unless ``with_range`` is False): ``12 (10–14)``, or ``−3 (−5 to −1)`` for a signed change.
    """
    if cell.suppressed:
        return SUPPRESSED_MARKER
    if cell.fmt == "text":
        return "" if cell.value is None else str(cell.value)
    text = _FORMATTERS.get(cell.fmt, _FORMATTERS["number"])(cell.value, cell.signed)
    rng = fmt_range(cell) if with_range else ""
    return f"{text} {rng}" if rng else text


def fmt_range(cell: Cell) -> str:
    """Format a cell's range in brackets, ``(10–14)``; empty if it has none or it is one value."""
    low, high = cell.low, cell.high
    if cell.suppressed or cell.fmt == "text" or any(_missing(v) for v in (cell.value, low, high)):
        return ""
    fmt = _FORMATTERS.get(cell.fmt, _FORMATTERS["number"])
    text, lo, hi = (fmt(v, cell.signed) for v in (cell.value, low, high))
    if lo == hi == text:
        return ""
    if cell.fmt in ("minutes", "km"):  # the unit is on the value already
        lo, hi = (_fmt_number(v, cell.signed, 1) for v in (low, high))
    return f"({lo} to {hi})" if cell.signed else f"({lo}–{hi})"


def _css_string(text: str) -> markupsafe.Markup:
    """Quote ``text`` as a CSS string literal (for ``@page`` margin boxes)."""
    return markupsafe.Markup(css_string(text))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("placeplan", "publish/report/templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "html.j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        fmt_minutes=fmt_minutes,
        fmt_percent=fmt_percent,
        fmt_gbp=fmt_gbp,
        fmt_count=fmt_count,
        fmt_cell=fmt_cell,
        fmt_range=fmt_range,
        css_string=_css_string,
    )
    # the markers and their key, from one source (the maps' legends use the same)
    env.globals.update(
        suppressed_marker=SUPPRESSED_MARKER,
        missing_marker=NOT_AVAILABLE_MARKER,
        missing_meaning=NOT_AVAILABLE_MEANING,
    )
    return env


def render_template(name: str, **values: Any) -> str:
    """Render one of the report templates with the report's filters (no offline check).

    Parameters
    ----------
    name
        Template file under ``publish/report/templates`` (e.g. ``"appendix.html.j2"``).
    **values
        The template's variables.

    Returns
    -------
    str
        The rendered text.
    """
    return _environment().get_template(name).render(**values)


def render_report(report: Report) -> str:
    """Render ``report`` to an HTML string (self-contained, offline, printable).

    Parameters
    ----------
    report
        From :func:`placeplan.publish.report.build.build_report`.

    Returns
    -------
    str
        The HTML document.
    """
    from placeplan.publish.maps import assert_offline

    html = _environment().get_template("report.html.j2").render(report=report)
    assert_offline(html)
    return html


def write_report(report: Report, path: str | Path) -> Path:
    """Write ``report`` as one self-contained HTML file.

    Parameters
    ----------
    report
        From :func:`placeplan.publish.report.build.build_report`.
    path
        Output path (``.html``); parent folders are created.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    from placeplan.publish.maps import write_page

    return write_page(path, lambda: render_report(report), newline="\n")
