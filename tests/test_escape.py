"""Escaping at every sink (issue 10): unit tests with hostile names, property tests, map sinks."""

from __future__ import annotations

import csv
import html
import json
import re
from html.parser import HTMLParser

import folium
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placeplan.publish import escape, maps
from placeplan.publish.disclosure import suppress
from placeplan.publish.tables import write_csv
from report_fixtures import example_inputs

HOSTILE = (
    "${alert(1)}",
    "`",
    "a`+alert(1)+`b",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\\u003cimg src=x onerror=alert(1)\\u003e",
    "\"'><svg onload=alert(1)>",
    "${'\"'}`\"</div>",
    "=1+1",
    "+SUM(A1)",
    "@x",
    "-2+3",
    "\t=cmd",
    "\r=cmd",
    "x" * 10_000,
    "Ysgol Gynradd Llanŵ — ŷ",
    "\u202eevil\u202c \u200fRTL\u200e",
    "line\u2028sep\u2029para",
)
ALLOWED_TAGS = {"div", "b", "br", "small", "table", "tr", "th", "td", "i", "h4"}


class _Tags(HTMLParser):
    """Collect tags, attributes and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


def _unescape_js_template(text: str) -> str:
    """Decode exactly the escapes js_template_literal writes (as a JS engine would)."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "x":
            out.append(chr(int(text[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


# --------------------------------------------------------------------------- each sink, each name
@pytest.mark.parametrize("name", HOSTILE)
def test_html_text_and_attr(name):
    for out in (escape.html_text(name), escape.html_attr(name)):
        assert not set("<>\"'") & set(out)
        assert html.unescape(out) == name
        assert _parse(f"<div>{out}</div>").tags == [("div", [])]
    attr = escape.html_attr(name)
    assert "`" not in attr and "\n" not in attr
    # inside a double-quoted attribute the value comes back whole and is the only attribute
    parsed = _parse(f'<span title="{attr}">x</span>')
    assert parsed.tags == [("span", [("title", name)])]


@pytest.mark.parametrize("name", HOSTILE)
def test_js_string(name):
    out = escape.js_string(name)
    assert json.loads(out) == name
    assert out[0] == out[-1] == '"'
    assert not set("<>&'`\u2028\u2029") & set(out)
    assert "</script" not in out.lower() and "<!--" not in out


@pytest.mark.parametrize("name", HOSTILE)
def test_js_template_literal(name):
    out = escape.js_template_literal(name)
    assert _unescape_js_template(out) == name
    # every backtick and `$` is escaped; nothing can close the <script>
    assert not re.search(r"(?<!\\)(?:\\\\)*[`$]", out)
    assert "<" not in out and ">" not in out


@pytest.mark.parametrize("name", HOSTILE)
def test_geojson_properties(name):
    props = escape.geojson_properties({"name": name, "band": 3, "missing": None})
    assert props["band"] == 3 and props["missing"] is None
    assert html.unescape(props["name"]) == name
    assert _parse(f"<td>{props['name']}</td>").tags == [("td", [])]


@pytest.mark.parametrize("name", HOSTILE)
def test_css_string(name):
    out = escape.css_string(name)
    inner = out[1:-1]
    assert out[0] == out[-1] == '"'
    assert not set("\"'<>{}\n\r") & set(inner)
    # decode CSS hex escapes back to the original
    decoded = re.sub(r"\\([0-9a-f]+) ", lambda m: chr(int(m.group(1), 16)), inner)
    assert decoded == name


def test_css_colour():
    assert escape.css_colour("#1f78b4") == "#1f78b4"
    assert escape.css_colour("red") == "red"
    for bad in ("red;background:url(//x)", "#12345", "</style>", "expression(alert(1))", None):
        assert escape.css_colour(bad) == "#555555"
    with pytest.raises(ValueError, match="`default`"):
        escape.css_colour("x;", default="x;y")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("@x", "'@x"),
        ("-2+3", "'-2+3"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\n=cmd"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("-2", "-2"),
        ("+1.5", "+1.5"),
        ("-3e2", "-3e2"),
        ("Ryde", "Ryde"),
        ("", ""),
        ("Llanŵ", "Llanŵ"),
        (-2, -2),
        (1.5, 1.5),
        (None, None),
    ],
)
def test_csv_cell(cell, expected):
    assert escape.csv_cell(cell) == expected


def test_write_csv_neutralises_text_not_numbers(tmp_path):
    df = pd.DataFrame(
        {
            "name": [*HOSTILE[8:14], "Ryde"],
            "change": [-2, -1, 0, 1, 2, 3, -4],
            "mixed": [-3, "c", "-1", "=x", 4.5, None, "@"],
            "=header": ["a"] * 7,
        }
    )
    path = write_csv(df, tmp_path / "t.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["name", "change", "mixed", "'=header"]
    assert [r[0] for r in rows[1:]] == [
        "'=1+1",
        "'+SUM(A1)",
        "'@x",
        "'-2+3",
        "'\t=cmd",
        "'\n=cmd",
        "Ryde",
    ]
    assert [r[1] for r in rows[1:]] == ["-2", "-1", "0", "1", "2", "3", "-4"]
    assert [r[2] for r in rows[1:]] == ["-3", "c", "-1", "'=x", "4.5", "", "'@"]
    # numbers read back as numbers
    back = pd.read_csv(path)
    assert back["change"].tolist() == [-2, -1, 0, 1, 2, 3, -4]
    assert not (tmp_path / "t.csv.tmp").exists()


def test_write_csv_keeps_long_and_unicode_names(tmp_path):
    df = pd.DataFrame({"name": [HOSTILE[14], HOSTILE[15], HOSTILE[16]]})
    back = pd.read_csv(write_csv(df, tmp_path / "u.csv"), dtype=str)
    assert back["name"].tolist() == [HOSTILE[14], HOSTILE[15], HOSTILE[16]]


def test_no_csv_written_outside_write_csv():
    """Every CSV placeplan writes goes through publish.tables.write_csv."""
    from pathlib import Path

    import placeplan

    src = Path(placeplan.__file__).parent
    hits = [
        f"{p.relative_to(src)}:{i}"
        for p in src.rglob("*.py")
        if p.name != "tables.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.to_csv\(|\.to_excel\(|csv\.writer\(", line)
    ]
    assert hits == []


# --------------------------------------------------------------------------- property tests
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=200,
)
HOSTILE_BITS = st.lists(
    st.sampled_from(["${", "}", "`", "\\", "u003c", "<", ">", "'", '"', "</script", "=", "\n"]),
    max_size=12,
).map("".join)
ANY_TEXT = st.one_of(TEXT, HOSTILE_BITS, st.tuples(TEXT, HOSTILE_BITS).map("".join))


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_property_html(s):
    for out in (escape.html_text(s), escape.html_attr(s)):
        assert not set("<>\"'") & set(out)
        assert html.unescape(out) == s


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_property_js_string(s):
    out = escape.js_string(s)
    assert json.loads(out) == s
    assert not set("<>&'`\u2028\u2029") & set(out)
    # one string token: no unescaped double quote inside
    assert not re.search(r'(?<!\\)(?:\\\\)*"', out[1:-1])


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_property_js_template_literal(s):
    out = escape.js_template_literal(s)
    assert _unescape_js_template(out) == s
    assert not re.search(r"(?<!\\)(?:\\\\)*[`$]", out)
    assert "<" not in out


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_property_css_string(s):
    inner = escape.css_string(s)[1:-1]
    assert not set("\"'<>{}\n\r\\") & set(re.sub(r"\\[0-9a-f]+ ", "", inner))
    assert re.sub(r"\\([0-9a-f]+) ", lambda m: chr(int(m.group(1), 16)), inner) == s


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_property_csv_cell(s):
    out = escape.csv_cell(s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    assert out in (s, "'" + s)
    assert "\r" not in out
    if out == s and s:
        # left alone: either harmless first character, or a plain number
        assert not s.startswith(escape.CSV_TRIGGERS) or isinstance(float(s), float)


# --------------------------------------------------------------------------- map sinks
def _hostile_inputs(name: str):
    inputs = example_inputs(small_count=3)
    areas = inputs.areas.copy()
    areas["name"] = [f"{name}{i}" for i in range(len(areas))]
    sites = inputs.sites.copy()
    sites["name"] = name
    sites["site_id"] = [f"{name}-{i}" for i in range(len(sites))]
    sites["needs"] = name
    provision = inputs.provision.copy()
    provision["name"] = name
    flows = inputs.ooa_flows.copy()
    flows["origin_name"] = name
    flows["destination_name"] = name
    areas = suppress(
        areas,
        count_cols=["pupils"],
        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
    )
    sites = suppress(
        sites,
        count_cols=["pupils_served"],
        dependent_cols=["mean_time_saved_min"],
        group_cols=["selected"],
    )
    flows = suppress(
        flows, count_cols=["baseline", "scenario"], group_cols=[["origin_id"], ["destination_id"]]
    )
    return inputs, areas, sites, provision, flows


def _maps_for(name: str) -> list[str]:
    inputs, areas, sites, provision, flows = _hostile_inputs(name)
    iso = inputs.isochrones.copy() if inputs.isochrones is not None else None
    if iso is not None:
        iso["site_id"] = [f"{name}-{i}" for i in range(len(iso))]
    common = {"outline": inputs.outline, "attribution": name, "note": name}
    m1 = maps.map_journey_times(areas, provision=provision, sites=sites, **common)
    m2 = maps.map_sites(sites, provision, isochrones=iso, ooa_flows=flows, areas=areas, **common)
    return [maps.map_html(m1), maps.map_html(m2)]


def _tooltip_strings(page: str) -> list[str]:
    """The JSON string literal bound as each tooltip, decoded."""
    found = re.findall(r"\.bindTooltip\(\s*(\"(?:[^\"\\]|\\.)*\")", page)
    return [json.loads(s) for s in found]


def _geojson_strings(page: str) -> list[str]:
    out: list[str] = []
    for blob in re.findall(r'_add\((\{.*?"type": "FeatureCollection"\})\);\n', page):
        for feat in json.loads(blob)["features"]:
            out.extend(v for v in feat["properties"].values() if isinstance(v, str))
    return out


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S | re.I)


@pytest.mark.parametrize("name", [h for h in HOSTILE if len(h) < 1000])
def test_map_tooltips_are_data_not_code(name):
    for page in _maps_for(name):
        # no tooltip or popup bound from a template literal; nothing ends a <script> early
        assert not re.search(r"bind(?:Tooltip|Popup)\(\s*`", page)
        assert page.lower().count("<script") == page.lower().count("</script>")
        for script in _scripts(page):
            assert "<script" not in script.lower() and "<img" not in script.lower()
        tips = _tooltip_strings(page)
        assert tips, "expected point/flow tooltips"
        texts = []
        for tip in tips:
            parsed = _parse(tip)
            assert {t for t, _ in parsed.tags} <= ALLOWED_TAGS, parsed.tags
            assert all(not attrs for _, attrs in parsed.tags)
            texts.append("".join(parsed.text))
        # the hostile name is shown, as text
        assert any(name in t for t in texts)
        for s in _geojson_strings(page):
            parsed = _parse(s)
            assert parsed.tags == []
        assert any(name in html.unescape(s) for s in _geojson_strings(page))


def test_long_name_map_renders():
    pages = _maps_for("x" * 10_000)
    assert all("x" * 10_000 in p for p in pages)


def test_folium_template_tooltip_is_refused():
    """A future folium.Tooltip (template literal) is caught at render time."""
    m = folium.Map(tiles=None)
    folium.CircleMarker([50.7, -1.3], tooltip=folium.Tooltip("${alert(1)}")).add_to(m)
    with pytest.raises(ValueError, match="template literal"):
        maps.map_html(m)


def test_report_templates_autoescape_and_safe_only_on_built_svg():
    from pathlib import Path

    from placeplan.publish.report import render

    env = render._environment()
    assert env.autoescape is True or env.autoescape("report.html.j2")
    tpl_dir = Path(render.__file__).parent / "templates"
    uses = sorted(
        m.group(0)
        for p in tpl_dir.glob("*.j2")
        for m in re.finditer(r"\{\{[^}]*\|\s*safe[^}]*\}\}", p.read_text(encoding="utf-8"))
    )
    # the built SVG, and the re-weighting data: JSON from escape.script_json inside <script>
    assert uses == ["{{ b.data | safe }}", "{{ b.svg | safe }}"]
    assert "autoescape false" not in "".join(p.read_text() for p in tpl_dir.glob("*.j2"))


@pytest.mark.parametrize("name", [h for h in HOSTILE if len(h) < 1000])
def test_report_svg_labels_escaped(name):
    from placeplan.publish.report.charts import bar_chart
    from placeplan.publish.report.model import Cell

    svg = bar_chart(
        [name],
        [(name, "#1f78b4", [Cell(3.0, fmt="count")])],
        y_label=name,
        value_fmt="count",
        title=name,
    )
    parsed = _parse(svg)
    assert {t for t, _ in parsed.tags} <= {"svg", "g", "line", "text", "rect"}
    assert all(not k.startswith("on") for _, attrs in parsed.tags for k, _ in attrs)
    assert name in "".join(parsed.text)
