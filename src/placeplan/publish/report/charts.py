"""SVG charts for the report: pure functions from published cells to an SVG string.

The charts are drawn from :class:`~placeplan.publish.report.model.Cell` values that have already
passed disclosure control; a suppressed cell is drawn as an italic ``c`` with no bar. The markup is
self-contained (no scripts, no external fonts) so it can be inlined into the offline report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from placeplan.publish.report.model import Cell

__all__ = [
    "BASELINE_COLOUR",
    "SCENARIO_COLOUR",
    "SCENARIO_COLOURS",
    "band_chart",
    "bar_chart",
    "c_isnan",
]

BASELINE_COLOUR, SCENARIO_COLOUR = "#7b7b7b", "#2c7fb8"
"""Bar colours of the baseline and scenario series."""

SCENARIO_COLOURS: tuple[str, ...] = (SCENARIO_COLOUR, "#d95f0e", "#1b9e77", "#7570b3", "#e7298a")
"""Line colours of successive scenarios (the first is :data:`SCENARIO_COLOUR`)."""

#: ``(label, colour, central, lower, upper)``: one line and its band; values None (or NaN) where
#: not published.
BandSeries = tuple[str, str, Sequence[float | None], Sequence[float | None], Sequence[float | None]]


def _svg_text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Cell]]],
    *,
    y_label: str,
    value_fmt: str,
    title: str,
) -> str:
    """Draw a grouped vertical bar chart as SVG.

    Suppressed values are drawn as an italic ``c`` label and no bar; missing values (None or
    NaN) are left out. Bars are labelled with their value; narrow bars get smaller,
    whole-number labels so neighbouring labels do not run together.

    Parameters
    ----------
    categories
        Category labels along the x axis.
    series
        ``(name, colour, cells)`` per series, one cell per category, in legend order.
    y_label
        Label of the y axis (e.g. ``"pupils"``).
    value_fmt
        ``"count"`` for whole numbers, anything else for one decimal place.
    title
        Accessible name of the chart (``aria-label``).

    Returns
    -------
    str
        The ``<svg>`` element, 720 x 300 user units.

    Examples
    --------
    >>> from placeplan.publish.report.model import Cell
    >>> svg = bar_chart(
    ...     ["< 15 min", "15–30 min"],
    ...     [("Baseline", "#7b7b7b", [Cell(12.0, "count"), Cell(None, "count", suppressed=True)])],
    ...     y_label="pupils",
    ...     value_fmt="count",
    ...     title="Pupils by band",
    ... )
    >>> svg.startswith("<svg") and svg.count("<rect") == 2  # one bar + one legend swatch
    True
    """
    width, height = 720, 300
    left, right, top, bottom = 56, 16, 30, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [c.value for _, _, cells in series for c in cells if c.value is not None]
    vmax = max([v for v in values if not c_isnan(v)] + [0.0])
    step = _nice_step(vmax)
    top_v = max(step * math.ceil(vmax / step), step)
    n_cat, n_ser = len(categories), len(series)
    group_w = plot_w / max(n_cat, 1)
    bar_w = group_w * 0.8 / max(n_ser, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        '<g font-family="system-ui, sans-serif" font-size="11" fill="#222">',
    ]
    parts += _y_axis(left, width - right, top, plot_h, top_v, step, y_label)
    base_y = top + plot_h
    for i, cat in enumerate(categories):
        gx = left + i * group_w + group_w * 0.1
        for j, (_, colour, cells) in enumerate(series):
            parts += _bar(
                cells[i], gx + j * bar_w, bar_w, base_y, (top_v, plot_h), colour, value_fmt
            )
        parts.append(
            _svg_text(
                left + i * group_w + group_w / 2, top + plot_h + 16, cat, text_anchor="middle"
            )
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="#333"/>'
    )
    lx = left
    for name, colour, _ in series:
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{colour}"/>')
        parts.append(_svg_text(lx + 16, height - 8, name))
        lx += 24 + 7 * len(name)
    parts.append("</g></svg>")
    return "".join(parts)


def _y_axis(
    x0: float,
    x1: float,
    top: float,
    plot_h: float,
    top_v: float,
    step: float,
    label: str,
    bottom_v: float = 0.0,
    small: bool = False,
) -> list[str]:
    """Horizontal grid lines with tick labels every ``step`` from ``bottom_v`` (0, or below 0 for
    changes) up to ``top_v``, and the axis label (none if empty; smaller if ``small``)."""
    parts = []
    tick = bottom_v
    span = top_v - bottom_v
    while tick <= top_v + 1e-9:
        y = top + plot_h - (tick - bottom_v) / span * plot_h
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(_svg_text(x0 - 6, y + 4, _fmt_tick(tick), text_anchor="end"))
        tick = round(tick + step, 9)
    if label:
        size = ' font-size="10"' if small else ""
        parts.append(
            f'<text transform="translate({x0 - 42},{top + plot_h / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle"{size}>{escape(label)}</text>'
        )
    return parts


def _bar(
    c: Cell,
    x: float,
    bar_w: float,
    base_y: float,
    scale: tuple[float, float],
    colour: str,
    value_fmt: str,
) -> list[str]:
    """One bar and its value label (or the suppression marker) at ``x``, bottom ``base_y``."""
    if c.suppressed:
        return [
            _svg_text(x + bar_w / 2, base_y - 4, "c", text_anchor="middle", font_style="italic")
        ]
    if c.value is None or c_isnan(c.value):
        return []
    # narrow bars: smaller, whole-number labels so neighbouring labels do not run together
    narrow = bar_w < 30
    top_v, plot_h = scale
    h = c.value / top_v * plot_h
    y = base_y - h
    return [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{colour}"/>',
        _svg_text(
            x + bar_w / 2 - 1,
            y - 3,
            _fmt_value(c.value, "count" if narrow else value_fmt),
            text_anchor="middle",
            font_size="8" if narrow else "10",
        ),
    ]


def c_isnan(v: float) -> bool:
    """Return True for float NaN."""
    return isinstance(v, float) and math.isnan(v)


def _nice_step(vmax: float) -> float:
    if vmax <= 0:
        return 1.0
    raw = vmax / 5
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _fmt_tick(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _fmt_value(v: float, fmt: str) -> str:
    if fmt == "count":
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def _present(v: float | None) -> bool:
    return v is not None and not c_isnan(float(v))


def _runs(flags: Sequence[bool]) -> list[list[int]]:
    """Maximal runs of consecutive indices where ``flags`` is True."""
    runs: list[list[int]] = []
    for i, ok in enumerate(flags):
        if not ok:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def band_chart(
    years: Sequence[str],
    series: Sequence[BandSeries],
    *,
    y_label: str,
    title: str,
) -> str:
    """Draw lines with shaded ranges (e.g. baseline and scenario with their 80 % bands) as SVG.

    Each series is a line through its central values with a band from its lower to its upper
    values, in its colour. The first series is the reference (the baseline): a wide solid line
    with round markers; every other series has its own dash pattern and marker shape (square,
    triangle, diamond, ...) and is drawn over the reference, so lines that coincide both stay
    visible. Bands are light fills with an outline, all drawn under every line. With two or more
    series besides the reference, each gets its own panel against the reference (small
    multiples on one y scale, two a row), so bands never pile up into one area.

    A value that is None or NaN (suppressed or not published) leaves a gap: the line and the
    band stop and start again; a lone point is drawn as a marker (and its range as a vertical
    bar). The y axis starts at 0 (counts), or below it when a value is negative (a change, such
    as a saving), with a dark line at 0. Labels are escaped.

    Parameters
    ----------
    years
        Labels along the x axis, one per point, evenly spaced.
    series
        ``(label, colour, central, lower, upper)`` per series, each sequence one value per year,
        in legend order; the first is the reference.
    y_label
        Label of the y axis (e.g. ``"pupils"``).
    title
        Accessible name of the chart (``aria-label``).

    Returns
    -------
    str
        The ``<svg>`` element, 720 user units wide: 300 high with one panel, more with several.

    Examples
    --------
    >>> svg = band_chart(
    ...     ["2025/26", "2026/27", "2027/28"],
    ...     [("Baseline", "#7b7b7b", [10, 12, None], [10, 11, None], [10, 14, None])],
    ...     y_label="pupils",
    ...     title="Out-of-area placements",
    ... )
    >>> svg.count("<polyline"), svg.count('<polygon class="band"')  # 2027/28 a gap
    (1, 1)
    """
    width = 720
    values = [
        float(v)
        for _, _, central, lower, upper in series
        for seq in (central, lower, upper)
        for v in seq
        if v is not None and _present(v)
    ]
    scale = _band_scale(values)
    height, panels = _band_layout(series, width)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        '<g font-family="system-ui, sans-serif" font-size="11" fill="#222">',
    ]
    for members, box, panel_title in panels:
        parts += _band_panel(members, years, box, scale, y_label, panel_title)
    parts += _band_legend(series, 56, height)
    parts.append(
        _svg_text(width - 16, height - 8, "line: central; band: 80% range", text_anchor="end")
    )
    parts.append("</g></svg>")
    return "".join(parts)


#: Height of one panel of a multi-panel :func:`band_chart` (title, plot, year labels).
_PANEL_H = 214


def _band_layout(
    series: Sequence[BandSeries], width: int
) -> tuple[int, list[tuple[list[tuple[int, BandSeries]], tuple[float, float, float, float], str]]]:
    """Height of :func:`band_chart` and its panels: ``(members, box, title)`` each, ``members``
    the ``(k, series)`` drawn, ``box`` ``(left, top, plot width, plot height)``. One plot for
    the reference and at most one other series; else a panel per other series, two a row."""
    indexed = list(enumerate(series))
    if len(series) <= 2:
        return 300, [(indexed, (56.0, 30.0, width - 72.0, 212.0), "")]
    rows = math.ceil((len(series) - 1) / 2)
    panels = [
        (
            [indexed[0], indexed[k]],
            (56.0 + ((k - 1) % 2) * 360, 26.0 + ((k - 1) // 2) * _PANEL_H, 290.0, 170.0),
            f"{series[k][0]} against {series[0][0]}",
        )
        for k in range(1, len(series))
    ]
    return 30 + rows * _PANEL_H, panels


def _band_panel(
    members: Sequence[tuple[int, BandSeries]],
    years: Sequence[str],
    box: tuple[float, float, float, float],
    scale: tuple[float, float, float],
    y_label: str,
    panel_title: str,
) -> list[str]:
    """One plot of :func:`band_chart`: axes, every member's band, then every member's line.

    ``members`` are ``(k, series)``: ``k`` (0 = the reference) picks the line style; ``box`` is
    ``(left, top, plot width, plot height)``; ``scale`` is ``(bottom, top, step)``.
    """
    left, top, plot_w, plot_h = box
    bottom_v, top_v, step = scale
    n = len(years)
    small = plot_w < 400

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / max(n, 1)

    def y(v: float | None) -> float:
        return top + plot_h - (float(v or 0.0) - bottom_v) / (top_v - bottom_v) * plot_h

    parts = []
    if panel_title:
        parts.append(_svg_text(left, top - 8, panel_title, font_weight="600"))
    # the y axis is labelled once a row: on the left-hand panel
    label = y_label if left < 100 else ""
    parts += _y_axis(left, left + plot_w, top, plot_h, top_v, step, label, bottom_v, small)
    for i, label in enumerate(years):
        parts.append(
            _svg_text(
                x(i),
                top + plot_h + 16,
                label,
                text_anchor="middle",
                font_size="9" if small else "11",
            )
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0.0):.1f}" y2="{y(0.0):.1f}" '
        f'stroke="#333"/>'
    )
    for _, one in members:  # every band under every line
        parts += _bands(one, n, x, y)
    for k, one in members:
        parts += _band_line(one, years, x, y, k)
    return parts


def _band_scale(values: Sequence[float]) -> tuple[float, float, float]:
    """(bottom, top, step) of a y axis through 0 that holds ``values`` (below 0: changes)."""
    vmax = max([*values, 0.0])
    vmin = min([*values, 0.0])
    step = _nice_step(vmax - vmin)
    bottom_v = step * math.floor(vmin / step)
    return bottom_v, max(step * math.ceil(vmax / step), bottom_v + step), step


def _bands(
    one: BandSeries,
    n: int,
    x: Callable[[int], float],
    y: Callable[[float | None], float],
) -> list[str]:
    """The 80 % bands of one series: a light fill with an outline (a lone range: a bar)."""
    _, colour_, _, lower, upper = one
    colour = escape(colour_)
    parts = []
    has_band = [_present(lower[i]) and _present(upper[i]) for i in range(n)]
    for run in _runs(has_band):
        if len(run) == 1:
            i = run[0]
            parts.append(
                f'<line class="band" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(upper[i]):.1f}" '
                f'y2="{y(lower[i]):.1f}" stroke="{colour}" stroke-opacity="0.35" '
                f'stroke-width="8"/>'
            )
            continue
        pts = [(x(i), y(upper[i])) for i in run] + [(x(i), y(lower[i])) for i in reversed(run)]
        parts.append(
            f'<polygon class="band" points="{_points(pts)}" fill="{colour}" '
            f'fill-opacity="0.12" stroke="{colour}" stroke-opacity="0.7" stroke-width="0.8" '
            f'stroke-dasharray="3 2"/>'
        )
    return parts


def _band_line(
    one: BandSeries,
    years: Sequence[str],
    x: Callable[[int], float],
    y: Callable[[float | None], float],
    k: int,
) -> list[str]:
    """The central line of series ``k`` of :func:`band_chart`: segments and markers."""
    label, colour_, central, _, _ = one
    colour = escape(colour_)
    dash, width, shape = _line_style(k)
    parts = []
    for run in _runs([_present(central[i]) for i in range(len(years))]):
        if len(run) > 1:
            parts.append(
                f'<polyline points="{_points([(x(i), y(central[i])) for i in run])}" '
                f'fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>'
            )
        for i in run:
            tip = (
                f"<title>{escape(label)}, {escape(years[i])}: "
                f"{_fmt_value(float(central[i] or 0.0), 'count')}</title>"
            )
            parts.append(_marker(shape, x(i), y(central[i]), colour, tip))
    return parts


def _line_style(k: int) -> tuple[str, float, str]:
    """(dash attribute, stroke width, marker shape) of series ``k`` (0: the reference)."""
    if k == 0:
        return "", 3.5, "circle"
    dash, shape = _SCENARIO_STYLES[(k - 1) % len(_SCENARIO_STYLES)]
    return f' stroke-dasharray="{dash}"', 2.0, shape


#: Dash pattern and marker shape of the 1st, 2nd, ... series after the reference.
_SCENARIO_STYLES = (
    ("7 3", "square"),
    ("2 2.5", "triangle"),
    ("10 3 2 3", "diamond"),
    ("4 4", "cross"),
    ("1.5 4", "square"),
)


def _marker(shape: str, cx: float, cy: float, colour: str, tip: str) -> str:
    """A point of ``shape`` at (cx, cy), white-edged to read over a line; class ``pt`` with a
    tooltip ``tip`` (a data point), class ``key`` without (in the legend)."""
    edge = f'stroke="#fff" stroke-width="0.8" class="{"pt" if tip else "key"}"'
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}" {edge}>{tip}</circle>'
    if shape == "square":
        return (
            f'<rect x="{cx - 3.2:.1f}" y="{cy - 3.2:.1f}" width="6.4" height="6.4" '
            f'fill="{colour}" {edge}>{tip}</rect>'
        )
    r = 4.2
    corners = {
        "triangle": [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)],
        "diamond": [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)],
        "cross": [
            (cx - r, cy - 1.3), (cx - 1.3, cy - 1.3), (cx - 1.3, cy - r), (cx + 1.3, cy - r),
            (cx + 1.3, cy - 1.3), (cx + r, cy - 1.3), (cx + r, cy + 1.3), (cx + 1.3, cy + 1.3),
            (cx + 1.3, cy + r), (cx - 1.3, cy + r), (cx - 1.3, cy + 1.3), (cx - r, cy + 1.3),
        ],
    }[shape]  # fmt: skip
    return f'<polygon points="{_points(corners)}" fill="{colour}" {edge}>{tip}</polygon>'


def _band_legend(series: Sequence[BandSeries], left: float, height: float) -> list[str]:
    """Legend of :func:`band_chart`: a band swatch, the line style and marker, then the label."""
    parts = []
    lx = left
    for k, (label, colour, *_) in enumerate(series):
        dash, width, shape = _line_style(k)
        parts.append(
            f'<rect x="{lx}" y="{height - 18}" width="22" height="12" fill="{escape(colour)}" '
            f'fill-opacity="0.15"/>'
        )
        parts.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{height - 12}" y2="{height - 12}" '
            f'stroke="{escape(colour)}" stroke-width="{width}"{dash}/>'
        )
        parts.append(_marker(shape, lx + 11, height - 12, escape(colour), ""))
        parts.append(_svg_text(lx + 26, height - 8, label))
        lx += 38 + 6.5 * len(label)
    return parts


def _points(pts: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
