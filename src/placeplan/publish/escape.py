"""Escaping for every sink a published value can reach: HTML, JavaScript, GeoJSON, CSS, CSV.

Names in placeplan's outputs come from files the authority did not write itself (GIAS exports,
out-of-area lists, candidate lists, boundary files), so every one is treated as hostile. Each
sink has one function here, and every writer in :mod:`placeplan.publish` uses it:

========================  ===============================================================
sink                      function
========================  ===============================================================
HTML text                 :func:`html_text`
HTML attribute value      :func:`html_attr` (always inside double quotes)
JavaScript source         :func:`js_string` — a JSON string literal, safe inside ``<script>``
JS template literal       :func:`js_template_literal` (prefer :func:`js_string`: data never
                          needs to be *inside* a backtick string)
JSON data in ``<script>`` :func:`script_json` — any JSON value, safe inside ``<script>``
GeoJSON properties        :func:`geojson_properties` — for renderers that insert properties
                          as HTML (folium's ``GeoJsonTooltip``/``GeoJsonPopup``)
CSS                       :func:`css_string` (a quoted string) and :func:`css_colour`
CSV / Excel cell          :func:`csv_cell`, applied to a whole table by :func:`csv_frame`
========================  ===============================================================

Notes
-----
**Template delimiters.** folium pages are rendered by Jinja, and branca compiles what a map
element renders *as a template again* (``MacroElement.render`` wraps each script in
``Element(...)``): a name that reached a map as ``{{ … }}``, ``{% … %}`` or ``{# … #}`` was
evaluated on the analyst's machine while ``placeplan run`` built the page (``{{ 7*7 }}``
printed 49; an expression could reach Python's builtins). So no escaped value ever holds a
``{``: :func:`html_text` and :func:`html_attr` write it ``&#123;``, :func:`js_string` and the
strings of :func:`script_json` ``\u007b``, :func:`js_template_literal` ``\x7b``;
:func:`css_string` already hex-escapes it. Browsers and ``JSON.parse`` read each back as ``{``.

The CSV rule (OWASP "CSV injection"): a text cell whose first character is ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice, so it gets a
leading apostrophe (``'=1+1``), which both show as text. Two exceptions keep numbers numbers:
non-string cells (ints, floats, ``NaN``) are never touched, and a string that is a plain
decimal number (``-2``, ``+1.5``, ``-3e2``) is left alone — ``-2+3`` is not a plain number and
is neutralised. Column headers follow the same rule. A carriage return inside a text cell is
written as a line feed: Python's CSV writer quotes a line feed but not a bare CR, which every
reader would take as the end of the row (row injection).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CSV_TRIGGERS",
    "css_colour",
    "css_string",
    "csv_cell",
    "csv_frame",
    "geojson_properties",
    "html_attr",
    "html_text",
    "js_string",
    "js_template_literal",
    "script_json",
]

CSV_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]{3,20}")

# characters that may end a <script>/<style> element, open an HTML comment or end a JS string
_JS_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "`": "\\u0060",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_UNSAFE_RE = re.compile("[" + "".join(_JS_UNSAFE) + "]")
# a JSON string token (script_json escapes the braces inside strings, not the structural ones)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def html_text(value: object) -> str:
    """Escape ``value`` for HTML element content (and SVG ``<text>``).

    ``&``, ``<``, ``>``, ``"`` and ``'`` become character references, so the result can never
    open a tag, end an element or end a quoted attribute.

    Parameters
    ----------
    value
        Any value; ``str(value)`` is escaped (``None`` gives ``""``).

    Returns
    -------
    str
        Text safe to place between HTML tags.

    Examples
    --------
    >>> html_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return "" if value is None else html.escape(str(value), quote=True).replace("{", "&#123;")


def html_attr(value: object) -> str:
    """Escape ``value`` for an HTML attribute value written inside double quotes.

    As :func:`html_text`, and also the backtick (old browsers ended unquoted attributes on it)
    and line breaks (kept as character references so the attribute stays on one line).

    Parameters
    ----------
    value
        Any value; ``str(value)`` is escaped (``None`` gives ``""``).

    Returns
    -------
    str
        Text for ``attr="…"``; the caller writes the double quotes.

    Examples
    --------
    >>> html_attr('"\\'><svg onload=alert(1)>')
    '&quot;&#x27;&gt;&lt;svg onload=alert(1)&gt;'
    """
    out = html_text(value)
    return out.replace("`", "&#96;").replace("\n", "&#10;").replace("\r", "&#13;")


def js_string(value: object) -> str:
    """Quote ``value`` as a JavaScript string literal that is safe inside an inline ``<script>``.

    The literal is JSON (so ``JSON.parse`` and ``eval`` agree on it) in double quotes, with
    ``<``, ``>``, ``&``, ``'``, the backtick, U+2028 and U+2029 written as ``\\uXXXX`` escapes:
    the result can end neither the string, nor the ``<script>`` element, nor open an HTML
    comment, whether it is placed in plain JS or an HTML attribute handler.

    Parameters
    ----------
    value
        Any value; ``str(value)`` is quoted (``None`` gives ``""``).

    Returns
    -------
    str
        A double-quoted JS string literal, including the quotes.

    Examples
    --------
    >>> js_string("</script><script>alert(1)</script>")
    '"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"'
    >>> js_string("${alert(1)}")
    '"$\\\\u007balert(1)}"'
    """
    text = "" if value is None else str(value)
    quoted = json.dumps(text, ensure_ascii=False)
    return _JS_UNSAFE_RE.sub(lambda m: _JS_UNSAFE[m.group(0)], quoted).replace("{", "\\u007b")


def script_json(value: object) -> str:
    """Serialise ``value`` as JSON that is safe as the content of an inline ``<script>``.

    As :func:`js_string` for a whole JSON value (objects, lists, numbers, strings, null):
    ``<``, ``>``, ``&``, ``'``, the backtick, U+2028 and U+2029 are written as ``\\uXXXX``
    escapes, so no string in the data can end the ``<script>`` element or open a comment; NaN
    and infinities become ``null`` (JSON has neither). Read it with ``JSON.parse``.

    Parameters
    ----------
    value
        Anything :func:`json.dumps` serialises (dicts, lists, str, int, float, bool, None).

    Returns
    -------
    str
        The JSON text.

    Examples
    --------
    >>> print(script_json({"name": "</script>", "v": float("nan")}))
    {"name": "\\u003c/script\\u003e", "v": null}
    """

    def clean(v: object) -> object:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    text = json.dumps(clean(value), ensure_ascii=False, allow_nan=False)
    text = _JSON_STRING.sub(lambda m: m.group(0).replace("{", "\\u007b"), text)
    return _JS_UNSAFE_RE.sub(lambda m: _JS_UNSAFE[m.group(0)], text)


def js_template_literal(value: object) -> str:
    """Escape ``value`` for the inside of a JavaScript template literal (between backticks).

    Backslash, backtick and ``$`` are backslash-escaped, so the text can neither end the
    literal nor open a ``${…}`` substitution, and a ``\\u003c`` in the data stays six literal
    characters. ``<``, ``>`` and ``&`` become ``\\x3c``, ``\\x3e`` and ``\\x26`` so the
    source cannot end the ``<script>`` element. Prefer :func:`js_string`: data never has to be
    *inside* a template literal.

    Parameters
    ----------
    value
        Any value; ``str(value)`` is escaped (``None`` gives ``""``).

    Returns
    -------
    str
        Text for between the backticks; the caller writes the backticks.

    Examples
    --------
    >>> js_template_literal("`${alert(1)}`")
    '\\\\`\\\\$\\\\x7balert(1)}\\\\`'
    """
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        if ch in "\\`$":
            out.append("\\" + ch)
        elif ch == "<":
            out.append("\\x3c")
        elif ch == ">":
            out.append("\\x3e")
        elif ch == "&":
            out.append("\\x26")
        elif ch == "{":
            out.append("\\x7b")
        elif ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def geojson_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """HTML-escape the string values of a GeoJSON feature's ``properties``.

    folium's ``GeoJsonTooltip`` and ``GeoJsonPopup`` put each property into ``innerHTML``
    as it is, so any string a tooltip or popup may render must be escaped first. Numbers,
    booleans and ``None`` pass through unchanged (styles keyed on them still work). The
    GeoJSON itself is embedded with :func:`js_string`-grade escaping by folium (``tojson``).

    Parameters
    ----------
    properties
        One feature's properties.

    Returns
    -------
    dict
        A new mapping; string values escaped with :func:`html_text`.

    Examples
    --------
    >>> geojson_properties({"name": "<b>x</b>", "band": 2})
    {'name': '&lt;b&gt;x&lt;/b&gt;', 'band': 2}
    """
    return {k: html_text(v) if isinstance(v, str) else v for k, v in properties.items()}


def css_string(value: object) -> str:
    """Quote ``value`` as a CSS string literal (e.g. for ``content:`` in ``@page`` boxes).

    Every character that is not a letter, digit, space or one of ``·-_.,:;()/+`` is written as
    a CSS hex escape (``\\3c `` for ``<``), so the result cannot end the string, the
    declaration, the rule or the ``<style>`` element.

    Parameters
    ----------
    value
        Any value; ``str(value)`` is quoted (``None`` gives ``""``).

    Returns
    -------
    str
        A double-quoted CSS string, including the quotes.

    Examples
    --------
    >>> css_string('Isle of Wight"}</style>')
    '"Isle of Wight\\\\22 \\\\7d \\\\3c /style\\\\3e "'
    """
    text = "" if value is None else str(value)
    out = "".join(
        ch if (ch.isalnum() and ch.isprintable()) or ch in " ·-_.,:;()/+" else f"\\{ord(ch):x} "
        for ch in text
    )
    return f'"{out}"'


def css_colour(value: object, *, default: str = "#555555") -> str:
    """Return ``value`` if it is a plain CSS colour (``#rgb``, ``#rrggbb``, ``#rrggbbaa`` or a
    colour keyword), else ``default``.

    Parameters
    ----------
    value
        A candidate colour.
    default
        What to use when ``value`` is not a plain colour; must itself be one.

    Returns
    -------
    str
        A colour that cannot carry any other CSS.

    Examples
    --------
    >>> css_colour("#1f78b4")
    '#1f78b4'
    >>> css_colour("red;background:url(//x)")
    '#555555'
    """
    text = str(value) if value is not None else ""
    if _COLOUR.fullmatch(text):
        return text
    if not _COLOUR.fullmatch(default):
        msg = f"`default` must be a plain CSS colour (#rrggbb or a keyword); got {default!r}"
        raise ValueError(msg)
    return default


def csv_cell(value: Any) -> Any:
    """Neutralise one CSV cell so a spreadsheet cannot read it as a formula.

    A string starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    ``'`` unless the whole string is a plain decimal number. A carriage return anywhere in a
    string is written as a line feed (which the CSV writer quotes; a bare CR is left unquoted
    and would split the row). Anything that is not a string is returned unchanged (numbers
    stay numbers).

    Parameters
    ----------
    value
        A cell value.

    Returns
    -------
    object
        ``value``, ``"'" + value``, with any CR written as LF.

    Examples
    --------
    >>> csv_cell("=1+1"), csv_cell("-2+3"), csv_cell("-2"), csv_cell(-2), csv_cell("Ryde")
    ("'=1+1", "'-2+3", '-2', -2, 'Ryde')
    """
    if not isinstance(value, str):
        return value
    if value.startswith(CSV_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    if "\r" in value:
        # Python's csv writer leaves a bare CR unquoted, and every reader ends the row there
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`csv_cell` to the text columns and the headers of ``df`` (a new frame).

    Numeric, boolean and datetime columns are not touched; object and string columns are
    neutralised cell by cell (non-string cells in them, e.g. counts beside a ``"c"`` marker,
    stay as they are).

    Parameters
    ----------
    df
        A table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        A copy with every formula-like text cell and header neutralised.

    Examples
    --------
    >>> import pandas as pd
    >>> csv_frame(pd.DataFrame({"name": ["=cmd", "Ryde"], "change": [-2, 3]}))
        name  change
    0  '=cmd      -2
    1   Ryde       3
    """
    import pandas as pd

    out = df.copy()
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out.isetitem(i, series.map(csv_cell, na_action="ignore").to_numpy())
    out.columns = pd.Index([csv_cell(c) for c in out.columns])
    return out
