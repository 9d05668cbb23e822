"""SVG drawing for the static map figures: panels, geometry paths, symbols, legend, layout.

Coordinates are EPSG:27700 metres mapped linearly to SVG user units (:class:`Panel`); every path
is clipped to its panel, simplified to the display resolution and rounded to 0.1 unit. Text goes
through :func:`placeplan.publish.escape.html_text`. Used by :mod:`placeplan.publish.maps.static`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from placeplan.publish.escape import html_attr, html_text
from placeplan.publish.maps._layers import (
    PROPOSED_COLOUR,
    PROVISION_COLOURS,
    numbered_proposals,
    spread_offsets,
    star_vertices,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "FIG_W",
    "FLOW_COLOURS",
    "FONT",
    "LAND",
    "LEGEND_W",
    "PAD",
    "PANEL_MAX_H",
    "PANEL_MAX_W",
    "PROPOSED_COLOUR",
    "PROVISION_LABELS",
    "REGION_FILL",
    "REGION_LINE",
    "ROAD",
    "SEA",
    "TITLE_H",
    "Legend",
    "Panel",
    "StaticBasemap",
    "basemap_layers",
    "basemap_legend",
    "bounds",
    "box",
    "extent",
    "figure",
    "fit_text",
    "label",
    "layer",
    "layout_panels",
    "legend_left",
    "num",
    "path_d",
    "polys",
    "proposed_layer",
    "proposed_legend",
    "provision_layer",
    "provision_legend",
    "ring_d",
    "roads_layer",
    "scale_and_north",
    "star",
    "wrap",
]

#: Width of a figure in SVG user units (printed at the text width, ~186 mm on A4).
FIG_W = 1000.0
LEGEND_W = 280.0
PAD = 14.0
PANEL_MAX_W = FIG_W - LEGEND_W - 3 * PAD
PANEL_MAX_H = 560.0
TITLE_H = 26.0
FONT = "system-ui,-apple-system,'Segoe UI',Arial,sans-serif"
SEA, LAND = "#dbe9f4", "#f4f1e8"
REGION_FILL, REGION_LINE = "#ebebe6", "#a9a9a0"
ROAD = "#c0703a"
FLOW_COLOURS = {"baseline": "#7b3294", "scenario": "#e66101"}
PROVISION_LABELS = {
    "mainstream": "mainstream school",
    "inclusion_base": "inclusion base",
    "special": "special school",
    "independent": "independent special",
    "non_maintained": "non-maintained special",
    "ap": "alternative provision",
    "fe": "FE college",
}


@dataclass(frozen=True, slots=True)
class StaticBasemap:
    """The light basemap every static panel is drawn on (EPSG:27700 frames, all optional).

    Attributes
    ----------
    outline
        Authority / island outline polygons, drawn as land.
    region
        Neighbouring areas' outline polygons, drawn lighter than the authority.
    roads
        Main-road lines.
    attribution
        Attribution text, printed under the figure.
    note
        Extra line under the figure (e.g. "SYNTHETIC pupil cohort").
    internal
        Internal mode: unsuppressed counts allowed; the figure says INTERNAL.
    """

    outline: gpd.GeoDataFrame | None = None
    region: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    attribution: str | None = None
    note: str | None = None
    internal: bool = False


# --------------------------------------------------------------------------- geometry → SVG
@dataclass(frozen=True, slots=True)
class Panel:
    """A map panel: the extent (metres) and where it sits on the figure (user units)."""

    x0: float
    y0: float
    x1: float
    y1: float
    left: float
    top: float
    width: float
    height: float

    @property
    def k(self) -> float:
        """User units per metre."""
        return self.width / (self.x1 - self.x0)

    def xy(self, x: float, y: float) -> tuple[float, float]:
        """Figure coordinates of the EPSG:27700 point ``(x, y)``."""
        return self.left + (x - self.x0) * self.k, self.top + (self.y1 - y) * self.k


def num(v: float) -> str:
    """A coordinate rounded to 0.1 unit, without a trailing ``.0``."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def ring_d(coords: np.ndarray, p: Panel, *, closed: bool) -> str:
    """Path data of one ring or line: integer units (~0.19 mm printed), then relative moves."""
    if len(coords) < 2:
        return ""
    xs = p.left + (coords[:, 0] - p.x0) * p.k
    ys = p.top + (p.y1 - coords[:, 1]) * p.k
    pts = np.round(np.column_stack([xs, ys])).astype(np.int64)
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
    pts = pts[keep]
    if len(pts) < (3 if closed else 2):
        return ""
    deltas = np.diff(pts, axis=0)
    body = " ".join(f"{dx} {dy}" for dx, dy in deltas.tolist())
    return f"M{pts[0, 0]} {pts[0, 1]}l{body}{'z' if closed else ''}"


def path_d(geom: Any, p: Panel, *, clip: bool = True) -> str:
    """SVG path data of a (multi)polygon or (multi)line, clipped to ``p`` and simplified."""
    if geom is None or geom.is_empty:
        return ""
    if clip:
        m = 0.02 * (p.x1 - p.x0)
        geom = shapely.clip_by_rect(geom, p.x0 - m, p.y0 - m, p.x1 + m, p.y1 + m)
    geom = shapely.simplify(geom, 0.6 / p.k, preserve_topology=True)
    parts: list[str] = []
    for g in getattr(geom, "geoms", [geom]):
        if g.is_empty:
            continue
        if g.geom_type == "Polygon":
            for ring in (g.exterior, *g.interiors):
                parts.append(ring_d(np.asarray(ring.coords), p, closed=True))
        elif g.geom_type in ("LineString", "LinearRing"):
            parts.append(ring_d(np.asarray(g.coords), p, closed=False))
        elif hasattr(g, "geoms"):
            parts.append(path_d(g, p, clip=False))
    return "".join(parts)


def layer(name: str, body: Sequence[str], **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<g class="layer" data-layer="{name}"{extra}>{"".join(body)}</g>'


def polys(frame: gpd.GeoDataFrame | None, p: Panel) -> list[str]:
    """One path of every geometry of ``frame`` that reaches into the panel's extent."""
    if frame is None or frame.empty:
        return []
    view = shapely.box(p.x0, p.y0, p.x1, p.y1)
    d = "".join(path_d(g, p) for g in frame.geometry if g is not None and g.intersects(view))
    return [f'<path d="{d}"/>'] if d else []


def basemap_layers(p: Panel, base: StaticBasemap) -> list[str]:
    out = []
    region = polys(base.region, p)
    if region:
        out.append(
            layer("region", region, fill=REGION_FILL, stroke=REGION_LINE, stroke_width="0.7")
        )
    outline = polys(base.outline, p)
    if outline:
        out.append(layer("outline", outline, fill=LAND, stroke="#8c8c8c", stroke_width="0.7"))
    return out


def roads_layer(p: Panel, base: StaticBasemap) -> list[str]:
    roads = polys(base.roads, p)
    if not roads:
        return []
    return [layer("roads", roads, fill="none", stroke=ROAD, stroke_width="0.8", opacity="0.8")]


# --------------------------------------------------------------------------- symbols
def star(x: float, y: float, r: float, *, filled: bool) -> str:
    pts = [f"{num(px)},{num(py)}" for px, py in star_vertices(x, y, r, r * 0.45)]
    fill = PROPOSED_COLOUR if filled else "#ffffff"
    return (
        f'<polygon points="{" ".join(pts)}" fill="{fill}" stroke="#000" stroke-width="1.1" '
        'paint-order="stroke"/>'
    )


def label(x: float, y: float, text: str, size: float = 14.0, anchor: str = "start") -> str:
    return (
        f'<text x="{num(x)}" y="{num(y)}" font-size="{size:g}" font-weight="700" '
        f'text-anchor="{anchor}" stroke="#fff" stroke-width="3" paint-order="stroke" '
        f'stroke-linejoin="round">{html_text(text)}</text>'
    )


def proposed_layer(
    p: Panel, sites: gpd.GeoDataFrame | None, *, filled: bool
) -> tuple[list[str], list[str]]:
    """Stars with a number label on top (layer), and the legend's numbered key."""
    if sites is None or sites.empty:
        return [], []
    body, key = [], []
    rows = numbered_proposals(sites)
    at = [p.xy(row.geometry.x, row.geometry.y) for _, row in rows]
    # stars closer than about their size are pulled apart, one above the other, numbers clear
    spread = spread_offsets(at, within=18.0, radius=11.0)
    for (i, row), (x, y), (dx, dy) in zip(rows, at, spread, strict=True):
        x, y = x + dx, y + dy
        body.append(star(x, y, 10, filled=filled))
        body.append(label(x + 9, y - 7, str(i)))
        needs = str(getattr(row, "needs", "") or "")
        name = str(row.name)
        key.append(f"{i} {name}" + (f" ({needs})" if needs and needs not in name else ""))
    return ([layer("proposed", body)] if body else []), key


def scale_and_north(p: Panel) -> str:
    target_m = 0.22 * (p.x1 - p.x0)
    nice = [v for v in (500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000) if v <= target_m]
    length_m = nice[-1] if nice else 500
    w = length_m * p.k
    x, y = p.left + 10, p.top + p.height - 14
    half = w / 2
    label = f"{length_m / 1000:g} km"
    scale = (
        f'<rect x="{num(x - 5)}" y="{num(y - 16)}" width="{num(w + 60)}" height="28" fill="#fff" '
        'fill-opacity="0.85"/>'
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(half)}" height="4" fill="#222"/>'
        f'<rect x="{num(x + half)}" y="{num(y)}" width="{num(half)}" height="4" fill="#fff" '
        'stroke="#222" stroke-width="0.8"/>'
        f'<text x="{num(x)}" y="{num(y - 3)}" font-size="12">0</text>'
        f'<text x="{num(x + w + 3)}" y="{num(y + 6)}" font-size="12">{label}</text>'
    )
    nx, ny = p.left + p.width - 18, p.top + 10
    north = (
        f'<polygon points="{num(nx)},{num(ny)} {num(nx - 6)},{num(ny + 16)} '
        f'{num(nx)},{num(ny + 12)} {num(nx + 6)},{num(ny + 16)}" fill="#222"/>'
        f'<text x="{num(nx)}" y="{num(ny + 29)}" font-size="12" text-anchor="middle" '
        'font-weight="700">N</text>'
    )
    return f'<g class="scale-bar">{scale}</g><g class="north-arrow">{north}</g>'


# --------------------------------------------------------------------------- layout
def extent(
    boxes: Sequence[tuple[float, float, float, float]], *, pad: float = 0.05
) -> tuple[float, float, float, float]:
    arr = np.asarray(boxes, dtype=float)
    x0, y0 = float(arr[:, 0].min()), float(arr[:, 1].min())
    x1, y1 = float(arr[:, 2].max()), float(arr[:, 3].max())
    dx, dy = max(x1 - x0, 1000.0), max(y1 - y0, 1000.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = dx * (1 + 2 * pad), dy * (1 + 2 * pad)
    return cx - dx / 2, cy - dy / 2, cx + dx / 2, cy + dy / 2


def layout_panels(ext: tuple[float, float, float, float]) -> tuple[Panel, Panel]:
    """Two panels of the extent ``ext``, as large as fit: baseline above scenario for a wide
    area, side by side for a tall one (e.g. an island with mainland settings to the north)."""
    x0, y0, x1, y1 = ext
    aspect = (y1 - y0) / (x1 - x0)
    w = min(PANEL_MAX_W, PANEL_MAX_H / aspect)
    side_w = (PANEL_MAX_W - PAD) / 2
    top1 = PAD + TITLE_H
    if side_w > w:
        w = side_w
        h = min(w * aspect, 2 * PANEL_MAX_H)
        w = h / aspect
        return (
            Panel(x0, y0, x1, y1, PAD, top1, w, h),
            Panel(x0, y0, x1, y1, 2 * PAD + w, top1, w, h),
        )
    h = w * aspect
    top2 = top1 + h + PAD + TITLE_H
    return (
        Panel(x0, y0, x1, y1, PAD, top1, w, h),
        Panel(x0, y0, x1, y1, PAD, top2, w, h),
    )


def legend_left(panels: Sequence[Panel]) -> float:
    """The legend's x: right of every panel."""
    return max(p.left + p.width for p in panels) + 2 * PAD


def fit_text(text: str, width: float, char_w: float) -> str:
    """``text`` cut (with an ellipsis) to about ``width`` units at ``char_w`` units a character."""
    n = max(int(width / char_w), 4)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


@dataclass
class Legend:
    """A legend column built line by line (swatches, symbols, wrapped text)."""

    x: float
    y: float
    parts: list[str]

    def heading(self, text: str) -> None:
        for ln in wrap(text, 29):
            self.y += 19
            self.parts.append(
                f'<text x="{num(self.x)}" y="{num(self.y)}" font-size="15" '
                f'font-weight="700">{html_text(ln)}</text>'
            )
        self.y += 7

    def item(self, swatch: str, text: str) -> None:
        """One entry; ``swatch`` is markup drawn in a 16×12 box at (0, 0)."""
        lines = wrap(text, 30)
        self.parts.append(f'<g transform="translate({num(self.x)},{num(self.y + 2)})">{swatch}</g>')
        for i, ln in enumerate(lines):
            self.parts.append(
                f'<text x="{num(self.x + 24)}" y="{num(self.y + 12 + 17 * i)}" '
                f'font-size="14">{html_text(ln)}</text>'
            )
        self.y += 17 * max(len(lines), 1) + 4

    def text(self, text: str, size: float = 12.5) -> None:
        for ln in wrap(text, int(LEGEND_W / (size * 0.6))):
            self.y += size * 1.25
            self.parts.append(
                f'<text x="{num(self.x)}" y="{num(self.y)}" font-size="{size:g}" '
                f'fill="#444">{html_text(ln)}</text>'
            )
        self.y += 3

    def svg(self, top: float) -> str:
        height = self.y - top
        return (
            f'<g class="legend" data-x="{num(self.x)}" data-y="{num(top)}" '
            f'data-width="{num(LEGEND_W)}" data-height="{num(height)}">{"".join(self.parts)}</g>'
        )


def box(fill: str, stroke: str = "#777", dash: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<rect x="0" y="0" width="16" height="11" fill="{fill}" stroke="{stroke}"{d}/>'


def basemap_legend(leg: Legend, drawn: str) -> None:
    """The basemap's entries, for the layers that were drawn (``data-layer`` names in ``drawn``,
    e.g. the panels' markup: a neighbouring area clipped out of the frame gets no entry)."""
    leg.heading("Basemap")
    if 'data-layer="outline"' in drawn:
        leg.item(box(LAND, "#8c8c8c"), "the authority")
    if 'data-layer="region"' in drawn:
        leg.item(box(REGION_FILL, REGION_LINE), "neighbouring areas")
    leg.item(box(SEA, "#9fb9cc"), "sea / outside the areas drawn")
    if 'data-layer="roads"' in drawn:
        leg.item(
            f'<line x1="0" y1="6" x2="16" y2="6" stroke="{ROAD}" stroke-width="1.5"/>',
            "main roads",
        )


def proposed_legend(leg: Legend, key: Sequence[str]) -> None:
    if not key:
        return
    leg.heading("Proposed sites")
    leg.item(
        f'<g transform="translate(8,6)">{star(0, 0, 7, filled=False)}</g>',
        "not open yet (baseline)",
    )
    leg.item(f'<g transform="translate(8,6)">{star(0, 0, 7, filled=True)}</g>', "open (scenario)")
    for line in key:
        leg.text(line, size=13)


def figure(
    *,
    fig_id: str,
    title: str,
    panels: Sequence[tuple[Panel, str, Sequence[str]]],
    legend: Legend,
    legend_top: float,
    base: StaticBasemap,
) -> str:
    """Assemble panels (frame, clipped layers, scale, north), the legend and the footer."""
    body: list[str] = []
    bottom = legend.y
    for i, (p, panel_title, layers) in enumerate(panels):
        clip = f"{fig_id}-clip-{i}"
        frame = (
            f'x="{num(p.left)}" y="{num(p.top)}" width="{num(p.width)}" height="{num(p.height)}"'
        )
        body.append(
            f'<g class="panel" data-panel="{"baseline" if i == 0 else "scenario"}">'
            f'<text x="{num(p.left)}" y="{num(p.top - 7)}" font-size="17" font-weight="700">'
            f"{html_text(fit_text(panel_title, p.width, 9.4))}</text>"
            f'<clipPath id="{clip}"><rect {frame}/></clipPath>'
            f'<rect class="sea" {frame} fill="{SEA}"/>'
            f'<g clip-path="url(#{clip})">{"".join(layers)}</g>'
            f"{scale_and_north(p)}"
            f'<rect class="map-frame" {frame} fill="none" stroke="#555" stroke-width="0.8"/>'
            "</g>"
        )
        bottom = max(bottom, p.top + p.height)
    foot = []
    lines = ["Grid north; British National Grid (EPSG:27700)."]
    if base.internal:
        lines.insert(0, "INTERNAL — contains unsuppressed small numbers. Not for publication.")
    if base.note:
        lines.append(base.note)
    if base.attribution:
        lines.append(base.attribution)
    y = bottom + 6
    for text in lines:
        for ln in wrap(text, 175):
            y += 13
            colour = "#b10026" if text.startswith("INTERNAL") else "#555"
            foot.append(
                f'<text x="{num(PAD)}" y="{num(y)}" font-size="10.5" fill="{colour}">'
                f"{html_text(ln)}</text>"
            )
    height = y + 8
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="static-map" id="{html_attr(fig_id)}-svg" '
        f'viewBox="0 0 {num(FIG_W)} {num(height)}" width="{num(FIG_W)}" height="{num(height)}" '
        f'role="img" font-family="{html_attr(FONT)}" stroke-linejoin="round">'
        f"<title>{html_text(title)}</title>"
        f"{''.join(body)}{legend.svg(legend_top)}"
        f'<g class="attribution">{"".join(foot)}</g></svg>'
    )


def bounds(frames: Sequence[Any]) -> list[tuple[float, float, float, float]]:
    """The finite ``total_bounds`` of each non-empty frame."""
    out: list[tuple[float, float, float, float]] = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        b = f.total_bounds
        if np.all(np.isfinite(b)):
            out.append((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    return out


def provision_layer(p: Panel, provision: gpd.GeoDataFrame | None) -> list[str]:
    """Specialist settings as circles by type (out-of-area ones with a dashed ring)."""
    if provision is None or provision.empty:
        return []
    body = []
    prov = provision.sort_values("setting_id", kind="stable")
    for row in prov.itertuples(index=False):
        ptype = str(getattr(row, "provision_type", "") or "")
        if ptype == "mainstream":
            continue  # the school network is not the point of this figure; specialist only
        x, y = p.xy(row.geometry.x, row.geometry.y)
        in_area = bool(getattr(row, "in_area", True))
        colour = PROVISION_COLOURS.get(ptype, "#555555")
        dash = "" if in_area else ' stroke-dasharray="2 1.5"'
        body.append(
            f'<circle cx="{num(x)}" cy="{num(y)}" r="{4.5 if in_area else 5.5}" fill="{colour}" '
            f'stroke="#222" stroke-width="{0.8 if in_area else 1.3}"{dash}/>'
        )
    return [layer("provision", body)] if body else []


def provision_legend(leg: Legend, provision: gpd.GeoDataFrame | None) -> None:
    """The specialist setting types present, and the dashed out-of-area ring."""
    if provision is None or provision.empty:
        return
    types = sorted(
        (set(provision["provision_type"].astype(str)) - {"mainstream"}) & set(PROVISION_COLOURS)
    )
    if not types:
        return
    leg.heading("Specialist settings")
    for t in types:
        leg.item(
            f'<circle cx="8" cy="6" r="4.5" fill="{PROVISION_COLOURS[t]}" stroke="#222" '
            'stroke-width="0.8"/>',
            PROVISION_LABELS.get(t, t.replace("_", " ")),
        )
    leg.item(
        '<circle cx="8" cy="6" r="5" fill="#fff" stroke="#222" stroke-width="1.3" '
        'stroke-dasharray="2 1.5"/>',
        "dashed ring: out of area",
    )
