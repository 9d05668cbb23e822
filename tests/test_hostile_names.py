"""Hostile names in every text input: the report and every map page run no script and still draw.

The Isle of Wight sample is run with script-injection payloads in provision names (in area and out
of area), candidate site ids and names, LSOA and planning-area names, scenario names and
descriptions, the authority and plan name and the attribution file. Each published page is then
opened in headless Chromium (network blocked). A copy of each page gets two test-only scripts:
one first in ``<head>`` that turns ``alert`` into a marker, and one after load that renders the
content of **every** tooltip bound to **every** layer (also hidden layers, and in the report's map
iframes) into the page, as Leaflet does on hover. Every payload either calls ``alert`` or sets
``top.document.title``; the test reads the DOM back (``--dump-dom``) and asserts the marker is
absent, that the payloads appear as text in the tooltips, and that every map drew its SVG paths.

Skipped, with the reason, when Chromium is not installed (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from placeplan import cli

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"
CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (apt-get install -y chromium; .ci/run does this)",
)

PWN = "top.document.title=/PW/.source+/NED/.source"  # the text never says PWNED
PAYLOADS = (
    "${" + PWN + "}",
    "`+(" + PWN + ")+`",
    "</script><script>" + PWN + "</script>",
    "<img src=x onerror=" + PWN + ">",
    "\\u003cimg src=x onerror=" + PWN + "\\u003e",
    "\"'><svg onload=" + PWN + ">",
    "${alert(1)}",
    "`",
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
    "Ysgol Llanŵ \u200fRTL\u200e",
)
SHOWN = "<img src=x onerror=alert(1)>"  # must appear, as text, in some tooltip

_HEAD_HOOK = (
    "<script>window.alert=function(){top.document.documentElement"
    ".setAttribute('data-pp-pwned','alert')};</script>"
)
_CHECK = r"""<script>
window.addEventListener('load', function () { setTimeout(function () {
  var wins = [window].concat([].map.call(document.querySelectorAll('iframe'),
                                         function (f) { return f.contentWindow; }));
  var box = document.createElement('div'); box.id = 'pp-tooltip-check';
  document.body.appendChild(box);
  var tips = 0, paths = [], errors = [];
  wins.forEach(function (w) {
    try {
      var L = w.L; if (!L) { paths.push(-1); return; }
      var layers = [];
      Object.keys(w).forEach(function (k) {
        var v; try { v = w[k]; } catch (e) { return; }
        if (v instanceof L.Layer) { layers.push(v); }
      });
      layers.forEach(function (layer) {
        var t = layer.getTooltip && layer.getTooltip(); if (!t) { return; }
        var leaves = layer.eachLayer ? [] : [layer];
        if (layer.eachLayer) { layer.eachLayer(function (x) { leaves.push(x); }); }
        leaves.forEach(function (leaf) {
          var c = typeof t._content === 'function' ? t._content(leaf) : t._content;
          var div = w.document.createElement('div');
          if (typeof c === 'string') { div.innerHTML = c; } else { div.appendChild(c); }
          box.appendChild(div); tips++;
        });
        if (!layer.eachLayer && layer._map) { layer.openTooltip(); }
      });
      paths.push(w.document.querySelectorAll('.leaflet-overlay-pane path').length);
    } catch (e) { errors.push(String(e)); }
  });
  document.body.setAttribute('data-pp-tooltips', String(tips));
  document.body.setAttribute('data-pp-paths', paths.join(','));
  document.body.setAttribute('data-pp-errors', errors.join(' | '));
}, 300); });
</script>"""


def _toml(s: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(s, ensure_ascii=False)


def _hostile(i: int, base: str) -> str:
    return f"{PAYLOADS[i % len(PAYLOADS)]} {base}"


def _write_hostile_sample(dst: Path) -> dict[str, str]:
    shutil.copytree(SAMPLE, dst)
    # provision names, in and out of area (one 10,000-character name)
    prov = pd.read_csv(dst / "provision.csv", dtype=str, keep_default_na=False)
    prov["name"] = [_hostile(i, n) for i, n in enumerate(prov["name"])]
    prov.loc[prov.index[-1], "name"] = "x" * 10_000
    prov.to_csv(dst / "provision.csv", index=False, quoting=csv.QUOTE_ALL)
    # candidate site ids and names; the scenario's open_sites follow the new ids
    sites = pd.read_csv(dst / "candidate_sites.csv", dtype=str, keep_default_na=False)
    new_ids = {old: f"{old}{PAYLOADS[(i * 5 + 3) % 12]}" for i, old in enumerate(sites["site_id"])}
    sites["site_id"] = sites["site_id"].map(new_ids)
    sites["name"] = [_hostile(i + 3, n) for i, n in enumerate(sites["name"])]
    sites.to_csv(dst / "candidate_sites.csv", index=False, quoting=csv.QUOTE_ALL)
    # LSOA names, and planning areas (the authority's LSOAs) with hostile names
    lsoa = gpd.read_file(dst / "lsoa.geojson")
    lsoa["name"] = [_hostile(i + 7, n) for i, n in enumerate(lsoa["name"])]
    lsoa.to_file(dst / "lsoa.geojson", driver="GeoJSON")
    own = lsoa[lsoa["lad_code"] == "E06000046"].reset_index(drop=True)
    planning = own[["geometry"]].assign(area_id=[f"PA{i // 8:02d}" for i in range(len(own))])
    planning = planning.dissolve(by="area_id", as_index=False)
    planning["name"] = [_hostile(i, f"area {i}") for i in range(len(planning))]
    planning.to_file(dst / "planning_areas.geojson", driver="GeoJSON")
    (dst / "ATTRIBUTION.txt").write_text(
        "\n".join(PAYLOADS[:12]) + "\nMap data © OpenStreetMap contributors\n", encoding="utf-8"
    )
    text = (dst / "plan.toml").read_text(encoding="utf-8")
    text = text.replace('output_dir = "../../../maps/isle-of-wight"', 'output_dir = "out"')
    text = text.replace(
        'name = "Isle of Wight inclusion bases 2026 (sample)"',
        f"name = {_toml(_hostile(0, 'plan'))}",
    )
    text = text.replace('authority = "Isle of Wight"', f"authority = {_toml(_hostile(3, 'IoW'))}")
    text = text.replace(
        'attribution = "ATTRIBUTION.txt"',
        'attribution = "ATTRIBUTION.txt"\nplanning_areas = "planning_areas.geojson"',
    )
    text = text.replace('name = "Four inclusion bases"', f"name = {_toml(_hostile(1, 'four'))}")
    text = re.sub(
        r'(?m)^description = "Open ASD.*"$',
        f"description = {_toml(_hostile(9, 'proposal'))}",
        text,
    )
    # the programme file the plan adopts as a scenario ([inputs] programmes)
    prog = (dst / "optimised-programme.toml").read_text(encoding="utf-8")
    prog = prog.replace('name = "Optimised programme"', f"name = {_toml(_hostile(5, 'prog'))}")
    for old, new in new_ids.items():
        text = text.replace(f'"{old}"', _toml(new))
        prog = prog.replace(f'"{old}"', _toml(new))
    (dst / "optimised-programme.toml").write_text(prog, encoding="utf-8")
    # [[mitigation]] rule names and descriptions (the report, the proposal pages, the CSVs)
    head, *rules = re.split(r"(?m)^\[\[mitigation\]\]$", text)
    for k, rule in enumerate(rules):
        name = f"name = {_toml(_hostile(k + 2, f'rule {k}'))}"
        rule = re.sub(r'(?m)^name = ".*"$', name, rule, count=1)
        text_k = f"description = {_toml(_hostile(k + 4, 'mitigation text'))}"
        rules[k] = re.sub(r'(?m)^description = ".*"$', text_k, rule, count=1)
    assert rules, "the sample plan should have [[mitigation]] rules"
    text = "[[mitigation]]".join([head, *rules])
    (dst / "plan.toml").write_text(text, encoding="utf-8")
    return new_ids


def _instrument(page: str) -> str:
    """Test-only hooks: ``alert`` becomes a marker (also in srcdoc iframes); tooltip renderer."""
    page = page.replace("<head>", "<head>" + _HEAD_HOOK, 1)
    page = page.replace("&lt;head&gt;", "&lt;head&gt;" + html.escape(_HEAD_HOOK, quote=True))
    return page.replace("</body>", _CHECK + "</body>", 1)


def _dump_dom(page: Path, profile: Path) -> str:
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        '--host-resolver-rules="MAP * ~NOTFOUND"',
        "--proxy-server=http://127.0.0.1:9",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=4000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    plan_dir = root / "plan"
    new_ids = _write_hostile_sample(plan_dir)
    code = cli.main(["--no-progress", "-q", "run", str(plan_dir / "plan.toml")])
    assert code == 0
    out = plan_dir / "out"
    pages = sorted([*out.glob("report*.html"), *out.glob("map-*.html")])
    assert len(pages) >= 5, pages  # the appendix (every scenario) and two maps per scenario

    def _open(k_page: tuple[int, Path]) -> tuple[Path, str]:
        k, page = k_page
        probe = root / f"probe-{k}.html"
        probe.write_text(_instrument(page.read_text(encoding="utf-8")), encoding="utf-8")
        return page, _dump_dom(probe, root / f"profile-{k}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        doms = dict(pool.map(_open, enumerate(pages)))
    return {"out": out, "doms": doms, "new_ids": new_ids}


def _attr(dom: str, name: str) -> str:
    m = re.search(rf'{name}="([^"]*)"', dom)
    assert m, f"{name} not set: the check script did not run"
    return html.unescape(m.group(1))


def test_no_script_runs_on_any_page(hostile_run):
    for page, dom in hostile_run["doms"].items():
        html_tag = re.search(r"<html\b[^>]*>", dom)
        assert html_tag, page.name
        assert "data-pp-pwned" not in html_tag.group(0), f"{page.name}: a payload called alert()"
        title = re.search(r"<title>(.*?)</title>", dom, flags=re.S)
        # map pages have no <title>; setting document.title would create one
        assert "PWNED" not in (title.group(1) if title else ""), f"{page.name}: title was set"
        assert _attr(dom, "data-pp-errors") == "", page.name


def test_every_map_draws(hostile_run):
    for page, dom in hostile_run["doms"].items():
        paths = [int(n) for n in _attr(dom, "data-pp-paths").split(",")]
        maps_in_page = paths[1:] if page.name.startswith("report") else paths
        assert maps_in_page, f"{page.name}: no map found"
        assert all(n > 0 for n in maps_in_page), f"{page.name}: a map drew nothing: {paths}"


def test_tooltips_show_payloads_as_text(hostile_run):
    shown = False
    for page, dom in hostile_run["doms"].items():
        n = int(_attr(dom, "data-pp-tooltips"))
        assert n > 0, f"{page.name}: no tooltip rendered"
        box = dom[dom.index('id="pp-tooltip-check"') :]
        # no element from data: no <img>, <svg> or <script> inside the rendered tooltips
        assert not re.search(r"<(?:img|svg|script)\b", box, flags=re.I), page.name
        shown = shown or html.escape(SHOWN, quote=False) in box
    assert shown, "the hostile names should be shown (escaped) in the tooltips"


def test_mitigation_rule_names_shown_as_text(hostile_run):
    """The plan's [[mitigation]] names reach the report and mitigations.csv as text only."""
    out = hostile_run["out"]
    report = next(p for p, _ in hostile_run["doms"].items() if p.name.startswith("report"))
    dom = hostile_run["doms"][report]
    assert html.escape(_hostile(2, "rule 0"), quote=False) in dom
    names = set(pd.read_csv(out / "mitigations_by_year.csv", dtype=str)["rule"].dropna())
    assert any("rule 0" in n for n in names), sorted(names)[:5]


def test_optimise_outputs_keep_hostile_ids_as_data(hostile_run):
    """`placeplan optimise` on the hostile plan: the programme TOML it writes (which `run` reads
    back) parses to the same site ids, its SVG chart is well-formed with no script or event
    attribute, and its CSVs carry no formula."""
    import tomllib
    import xml.etree.ElementTree as ET

    plan = hostile_run["out"].parent / "plan.toml"
    opt = hostile_run["out"].parent / "opt"
    assert cli.main(["--no-progress", "-q", "optimise", str(plan), "--out", str(opt)]) == 0
    written = tomllib.loads((opt / "optimised-programme.toml").read_text(encoding="utf-8"))
    (scenario,) = written["scenario"]
    assert scenario["open_sites"], "the optimiser should open a site"
    assert set(scenario["open_sites"]) <= set(hostile_run["new_ids"].values())
    assert [s["site_id"] for s in scenario["site"]] == scenario["open_sites"]
    for svg in opt.glob("*.svg"):
        root = ET.fromstring(svg.read_bytes())
        for el in root.iter():
            assert not el.tag.endswith("script"), svg.name
            assert not any(k.lower().startswith("on") for k in el.attrib), svg.name
    _assert_no_formula(sorted(opt.glob("*.csv")))


def _assert_no_formula(csvs: list[Path]) -> None:
    assert csvs
    for path in csvs:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "@", "\t", "\r") or (
                        cell[:1] == "-" and not re.fullmatch(r"-\d+(\.\d+)?(e-?\d+)?", cell)
                    ):
                        pytest.fail(f"{path.name}: formula-like cell {cell[:30]!r}")


def test_published_csvs_neutralised(hostile_run):
    _assert_no_formula(sorted(hostile_run["out"].glob("*.csv")))


def _payload_maps(payload: str) -> list[str]:
    """A site map and a journey-time map of the small example, every name set to ``payload``."""
    from placeplan.publish import maps
    from placeplan.publish.disclosure import suppress
    from report_fixtures import example_inputs

    inputs = example_inputs(small_count=3)
    areas = inputs.areas.assign(name=payload)
    sites = inputs.sites.assign(
        name=payload, site_id=[f"{payload}{i}" for i in range(len(inputs.sites))]
    )
    provision = inputs.provision.assign(name=payload)
    flows = inputs.ooa_flows.assign(origin_name=payload, destination_name=payload)
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
    m1 = maps.map_sites(
        sites, provision, ooa_flows=flows, areas=areas, attribution=payload, note=payload
    )
    m2 = maps.map_journey_times(areas, provision=provision, sites=sites, attribution=payload)
    return [maps.map_html(m1), maps.map_html(m2)]


def test_each_payload_alone(tmp_path):
    """Each payload in maps of its own (one iframe each), so a payload that blanked its map
    could not hide another that runs; one Chromium run for all."""
    payloads = [p for p in PAYLOADS if "PW/" in p or "alert" in p]
    frames = "".join(
        f'<iframe style="width:500px;height:300px" srcdoc="{html.escape(_instrument(page))}">'
        "</iframe>"
        for payload in payloads
        for page in _payload_maps(payload)
    )
    probe = tmp_path / "payloads.html"
    probe.write_text(
        _instrument(f"<!DOCTYPE html><html><head></head><body>{frames}</body></html>"),
        encoding="utf-8",
    )
    dom = _dump_dom(probe, tmp_path / "profile")
    html_tag = re.search(r"<html\b[^>]*>", dom)
    assert html_tag and "data-pp-pwned" not in html_tag.group(0), "a payload called alert()"
    title = re.search(r"<title>(.*?)</title>", dom, flags=re.S)
    assert "PWNED" not in (title.group(1) if title else ""), "a payload set the title"
    assert _attr(dom, "data-pp-errors") == ""
    paths = [int(n) for n in _attr(dom, "data-pp-paths").split(",")][1:]
    assert len(paths) == 2 * len(payloads)
    assert all(n > 0 for n in paths), f"a map drew nothing: {paths}"
    assert int(_attr(dom, "data-pp-tooltips")) > 0
