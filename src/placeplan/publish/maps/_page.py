"""The offline page writer: inlined Leaflet assets, deterministic ids, offline checks, writing."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import folium
from branca.element import Element, Figure
from folium.template import Template

__all__ = ["HtmlData", "assert_offline", "finalise", "map_html", "save_map", "write_page"]

_SEA = "#dbe9f4"

_EXTERNAL_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


class HtmlData(Element):
    """Ready-made HTML placed on a page as template *data*, never compiled as a template.

    branca's ``Element(html)`` compiles ``html`` as Jinja source: a name inside it (a print
    figure's labels, a banner) would be evaluated while the page is rendered — ``{{ 7*7 }}``
    printed 49, ``{% raw %}`` stopped the run and an expression could reach Python's builtins
    on the analyst's machine. Here the template is fixed and ``html`` is its one value.

    Parameters
    ----------
    html
        Markup whose every name was escaped by :mod:`placeplan.publish.escape`.
    """

    _template = Template("{{ this.html_data }}")

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "HtmlData"
        self.html_data = html


# --------------------------------------------------------------------------- offline assets
@functools.cache
def _leaflet_assets() -> str:
    """Leaflet JS + CSS from xstatic-leaflet, inlined, with images as data URIs."""
    from xstatic.pkg import leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def _data_uri(match: re.Match[str]) -> str:
        png = (base / match.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode("ascii") + ")"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", _data_uri, css)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = js.replace("</script", "<\\/script")
    # drop the sourcemap comment: it names a file that is not shipped
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    extra_css = (
        f".leaflet-container{{background:{_SEA};font:12px/1.4 system-ui,sans-serif}}"
        ".pp-legend{background:#fff;padding:6px 8px;border-radius:4px;font-size:11px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.35);line-height:1.35;max-width:200px;"
        # a short map (the report's 540 px embeds): the legend scrolls rather than growing
        # over the layer control above it
        "max-height:calc(100vh - 190px);overflow-y:auto}"
        ".leaflet-control-layers{font-size:11px}"
        ".pp-legend h4{margin:0 0 4px;font-size:12px}"
        ".pp-legend .pp-key{margin-top:4px;color:#555;font-size:10px}"
        ".pp-legend i{display:inline-block;width:14px;height:11px;margin-right:5px;"
        "vertical-align:-1px;border:1px solid #777}"
        ".pp-legend i.dot{border-radius:50%}"
        ".pp-banner{position:absolute;z-index:1000;left:54px;"
        "top:10px;padding:4px 10px;font:bold 12px system-ui,sans-serif;border-radius:3px}"
        ".pp-banner.internal{background:#b10026;color:#fff}"
        ".pp-banner.synthetic{background:#fff3b0;color:#4d3b00}"
        ".pp-banner.internal+.pp-banner.synthetic{top:36px}"
        ".leaflet-control-attribution{font-size:9px;line-height:1.25;max-width:62%;"
        "white-space:normal}"
    )
    return (
        f'<style id="placeplan-leaflet-css">{css}\n{extra_css}</style>\n'
        f'<script id="placeplan-leaflet-js">{js}</script>'
    )


def _walk(el: Any) -> list[Any]:
    out = [el]
    for child in list(getattr(el, "_children", {}).values()):
        out.extend(_walk(child))
    return out


def finalise(m: folium.Map) -> folium.Map:
    """Make ``m`` offline and deterministic (idempotent)."""
    root = cast("Figure", m.get_root())
    for el in _walk(root):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    root.header.add_child(HtmlData(_leaflet_assets()), name="placeplan_offline_assets")
    # deterministic element ids, in tree order
    for i, el in enumerate(_walk(root)):
        el._id = f"pp{i:04d}"
    return m


def assert_offline(html: str) -> None:
    """Raise if ``html`` loads any script, stylesheet, image or frame from the network.

    Parameters
    ----------
    html
        A rendered page.

    Raises
    ------
    ValueError
        If an external ``src``/``href`` asset reference is found (plain links in text are allowed).
    """
    hit = _EXTERNAL_ASSET.search(html)
    if hit:
        msg = f"page references an external asset: {hit.group(0)[:80]!r}"
        raise ValueError(msg)
    if re.search(r"L\.tileLayer(?:\.wms)?\(\s*['\"](?:https?:)?//", html):
        msg = "page loads map tiles from the network"
        raise ValueError(msg)
    if re.search(r"@import\s+url\(\s*['\"]?https?:", html):
        msg = "page imports an external stylesheet"
        raise ValueError(msg)


def map_html(m: folium.Map) -> str:
    """Render ``m`` to one offline HTML document (string).

    Parameters
    ----------
    m
        A map from this module (or any folium map; it is made offline first).

    Returns
    -------
    str
        The complete HTML page.
    """
    finalise(m)
    html = m.get_root().render()
    assert_offline(html)
    _assert_no_template_tooltips(html)
    return html


_TEMPLATE_BIND = re.compile(r"\.bind(?:Tooltip|Popup)\(\s*`|\$\(\s*`")


def _assert_no_template_tooltips(html: str) -> None:
    """Raise if a tooltip/popup is bound from a JS template literal (data would be code)."""
    hit = _TEMPLATE_BIND.search(html)
    if hit:
        msg = (
            "map binds a tooltip or popup from a JavaScript template literal, where a name "
            "containing `${…}` or a backtick runs as script; use placeplan's JsonTooltip "
            f"(JSON string) instead of folium.Tooltip/Popup: {hit.group(0)!r}"
        )
        raise ValueError(msg)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` to ``path`` as a single self-contained HTML file that works offline.

    Parameters
    ----------
    m
        The map.
    path
        Output file (``.html``); parent folders are created.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    return write_page(path, lambda: map_html(m))


def write_page(path: str | Path, render: Callable[[], str], *, newline: str | None = None) -> Path:
    """Create ``path``'s folders, then write the page ``render()`` returns as UTF-8.

    Shared by :func:`save_map` and :func:`placeplan.publish.report.render.write_report`. The
    folders are
    made before rendering, as both always did; ``newline`` is passed to ``Path.write_text``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8", newline=newline)
    return path
