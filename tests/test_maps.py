"""Offline folium maps: layers, no CDN, disclosure, determinism (rendered without a browser)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.publish import maps
from placeplan.publish.disclosure import suppress
from report_fixtures import example_inputs

EXTERNAL = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["']?(?:https?:)?//""", re.I)


def _has_layer(html: str, name: str) -> bool:
    """Layer names appear in the layer control JSON (non-ASCII escaped) or in tooltips."""
    return name in html or json.dumps(name)[1:-1] in html


@pytest.fixture
def inputs():
    return example_inputs(small_count=3)


@pytest.fixture
def areas(inputs):
    return suppress(
        inputs.areas,
        count_cols=["pupils"],
        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
    )


@pytest.fixture
def sites(inputs):
    return suppress(
        inputs.sites,
        count_cols=["pupils_served"],
        dependent_cols=["mean_time_saved_min"],
        group_cols=["selected"],
    )


@pytest.fixture
def flows(inputs):
    return suppress(
        inputs.ooa_flows,
        count_cols=["baseline", "scenario"],
        group_cols=[["origin_id"], ["destination_id"]],
    )


def _journey_map(inputs, areas, sites, **kw):
    return maps.map_journey_times(
        areas,
        outline=inputs.outline,
        provision=inputs.provision,
        sites=sites,
        roads=inputs.roads,
        attribution="© OpenStreetMap contributors",
        **kw,
    )


def test_journey_map_layers_offline_and_suppressed(inputs, areas, sites):
    html = _journey_map(inputs, areas, sites).get_root().render()
    for name in (
        "Baseline: mean journey time",
        "Scenario: mean journey time",
        "Existing provision (by type)",
        "Proposed sites (selected)",
        "Main roads",
    ):
        assert _has_layer(html, name), name
    assert "L.control.layers" in html
    assert not EXTERNAL.search(html)
    assert "L.tileLayer(" not in html
    assert "placeplan-leaflet-js" in html  # Leaflet inlined
    assert "d3.min.js" not in html and "jquery" not in html.lower()
    # the planted small count (3 pupils in one area) is shown as "c", never as 3
    assert '"pupils_txt": "c"' in html
    assert '"pupils_txt": "3"' not in html
    assert "pupil_ref" not in html
    # reprojected to lat/lon near the Isle of Wight
    assert re.search(r"\[\[50\.6\d+, -1\.\d+\], \[50\.\d+, -1\.\d+\]\]", html)


def test_published_map_requires_suppressed_counts(inputs):
    with pytest.raises(SchemaValidationError, match="suppress"):
        maps.map_journey_times(inputs.areas)
    m = maps.map_journey_times(inputs.areas, internal=True)
    html = m.get_root().render()
    assert "INTERNAL — contains unsuppressed small numbers" in html
    assert '"pupils_txt": "3"' in html  # internal mode keeps the value (so the test above can fail)


def test_pupil_columns_and_crs_rejected(inputs, areas):
    bad = areas.assign(pupil_ref="P0001")
    bad.attrs = areas.attrs
    with pytest.raises(SchemaValidationError, match="pupil"):
        maps.map_journey_times(bad)
    nocrs = areas.set_crs(None, allow_override=True)
    nocrs.attrs = areas.attrs
    with pytest.raises(CRSError, match="EPSG:27700"):
        maps.map_journey_times(nocrs)


def test_site_map_layers_flows_and_selection(inputs, areas, sites, flows):
    basemap_areas = areas[["area_id", "geometry"]]
    m = maps.map_sites(
        sites,
        inputs.provision,
        isochrones=inputs.isochrones,
        outline=inputs.outline,
        ooa_flows=flows,
        areas=basemap_areas,
    )
    html = m.get_root().render()
    for name in (
        "Proposed sites (selected)",
        "Candidate sites (not selected)",
        "Catchment ≤ 15 min drive",
        "Catchment ≤ 30 min drive",
        "Out-of-area and independent placements, baseline",
        "Out-of-area and independent placements, scenario",
        "Existing provision (by type)",
    ):
        assert _has_layer(html, name), name
    assert not EXTERNAL.search(html)
    # flows: 9 and 12 drawn; the 3 (and its secondary partner 6) not drawn at all
    assert "baseline: 9 pupils" in html
    assert "baseline: 12 pupils" in html
    assert "baseline: 3 pupils" not in html
    assert "baseline: 6 pupils" not in html
    assert m.placeplan_flows_left_out >= 2
    # selected sites are drawn as numbered stars in the marker pane (above every layer)
    assert html.count('"className": "pp-proposed"') == 2
    assert "Proposed sites" in html
    # the suppressed pupils_served of S2 shows as c
    assert "pupils served: c" in html
    # the catchments (on by default, most of the map's colour) are keyed in the legend
    key = html[html.index("Drive-time catchments of the proposed sites") :][:800]
    for mins in sorted({float(v) for v in inputs.isochrones["minutes"]}):
        assert f"≤ {mins:g} min" in key, key


def test_deterministic_render(inputs, areas, sites):
    a = maps.map_html(_journey_map(inputs, areas, sites))
    b = maps.map_html(_journey_map(inputs, areas, sites))
    assert a == b


def test_save_map_and_offline_check(tmp_path, inputs, areas, sites):
    path = maps.save_map(_journey_map(inputs, areas, sites), tmp_path / "sub" / "m.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "L.map(" in text
    with pytest.raises(ValueError, match="external asset"):
        maps.assert_offline('<script src="https://cdn.jsdelivr.net/npm/leaflet.js"></script>')
    with pytest.raises(ValueError, match="tiles"):
        maps.map_html(folium.Map())  # default OSM tiles are refused


def test_band_index():
    assert maps.band_index(0.0) == 0
    assert maps.band_index(15.0) == 1
    assert maps.band_index(74.9) == 4
    assert maps.band_index(200.0) == 5
    assert maps.band_index(float("nan")) is None


# --------------------------------------------------------------------------- region outline input
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"


def _set_region(plan_dir: Path, value: str) -> Path:
    path = plan_dir / "plan.toml"
    text = path.read_text(encoding="utf-8")
    assert 'region_outline = "region-outline.geojson"' in text
    path.write_text(
        text.replace('region_outline = "region-outline.geojson"', f'region_outline = "{value}"'),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
def test_missing_region_outline_exits_2_naming_the_key(sample_copy, capsys, command):
    from placeplan import cli

    path = _set_region(sample_copy, "no-such-outline.geojson")
    assert cli.main(["--no-progress", command, str(path)]) == 2
    captured = capsys.readouterr()
    assert "[inputs] region_outline" in captured.err + captured.out
    assert "no-such-outline.geojson" in captured.err + captured.out
    assert not (sample_copy / "out" / "report.html").exists()


def test_region_outline_must_be_polygons(sample_copy, capsys):
    from placeplan import cli

    pts = gpd.GeoDataFrame(geometry=[Point(-1.3, 50.7)], crs=4326)
    pts.to_file(sample_copy / "points.geojson", driver="GeoJSON")
    path = _set_region(sample_copy, "points.geojson")
    assert cli.main(["--no-progress", "validate", str(path)]) == 2
    out = capsys.readouterr()
    assert "must be polygons, found Point" in out.err + out.out


def test_region_outline_is_loaded_in_epsg27700():
    from placeplan.config import load_plan
    from placeplan.prepare.validate import check_plan

    checked = check_plan(load_plan(SAMPLE / "plan.toml"))
    region = checked.region
    assert region is not None
    assert region.crs.to_epsg() == 27700
    assert sorted(region["name"]) == ["Portsmouth", "Southampton"]
    assert (SAMPLE / "region-outline.geojson").stat().st_size < 200_000
    # north of the island, across the Solent
    assert region.total_bounds[1] > 90_000


def test_a_hidden_score_shows_its_published_range(inputs, sites):
    """A candidate whose score is hidden (a criterion rests on 1 to 4 pupils) is labelled with
    the range ``site_scores.csv`` publishes for it, not a bare c; without a range, c."""
    vals = sites.copy()
    sid = str(vals.loc[~vals["selected"].astype(bool), "site_id"].iloc[0])
    row = vals["site_id"].astype(str).eq(sid)
    vals["score:suppressed"] = row
    vals.loc[row, "score"] = float("nan")
    vals["score_low"], vals["score_high"] = vals["score"], vals["score"]
    vals.loc[row, ["score_low", "score_high"]] = [0.4612, 0.5004]
    vals["rank_best"], vals["rank_worst"] = 1, 1
    vals.loc[row, ["rank_best", "rank_worst"]] = [8, 12]
    html = maps.map_sites(vals, inputs.provision, outline=inputs.outline).get_root().render()
    assert "score: 0.46–0.50 (rank 8–12), a range" in html
    bare = vals.drop(columns=["score_low", "score_high", "rank_best", "rank_worst"])
    html = maps.map_sites(bare, inputs.provision, outline=inputs.outline).get_root().render()
    assert re.search(r"score: c[^a-z0-9]", html) and "score: 0.46" not in html


def test_proposals_numbered_as_the_report_numbers_them():
    """Map stars carry the report's proposal numbers (the scenario's open_sites order, stored
    as ``proposal_no`` by the layers), not site-id order: a reviewer read "Proposal 2" in the
    text and found another site under star 2."""
    import pandas as pd
    import shapely

    from placeplan.publish.maps._layers import numbered_proposals

    sites = gpd.GeoDataFrame(
        {
            "site_id": ["A", "B", "C", "D"],
            "selected": [True, True, False, True],
            "proposal_no": pd.array([3, 1, pd.NA, 2], dtype="Int64"),
        },
        geometry=[shapely.Point(450000 + k, 90000) for k in range(4)],
        crs="EPSG:27700",
    )
    assert [(n, r.site_id) for n, r in numbered_proposals(sites)] == [(1, "B"), (2, "D"), (3, "A")]
    plain = sites.drop(columns="proposal_no")
    assert [(n, r.site_id) for n, r in numbered_proposals(plain)] == [(1, "A"), (2, "B"), (3, "D")]
    # the legend keys them with the star they are drawn with, not a round dot
    from placeplan.publish.maps._layers import PROPOSED_COLOUR
    from placeplan.publish.maps.sites import proposals_legend

    legend = proposals_legend(sites.assign(name=["a", "b", "c", "d"]))
    star = re.search(r"<svg[^>]*>\s*<polygon points=\"([^\"]+)\" fill=\"([^\"]+)\"", legend)
    assert star and star.group(2) == PROPOSED_COLOUR and len(star.group(1).split()) == 10
    assert 'class="dot"' not in legend


def test_a_missing_value_shows_the_reports_marker_and_the_legend_keys_both(inputs, sites):
    """A value that does not exist (no score, no cost) is the report's "x", not a dash; the
    legend says what "c" and "x" mean, in the report's words."""
    from types import SimpleNamespace

    from placeplan.publish.disclosure import (
        NOT_AVAILABLE_MARKER,
        NOT_AVAILABLE_MEANING,
        SUPPRESSED_MARKER,
    )
    from placeplan.publish.report import render
    from placeplan.publish.report.model import Cell, Section, Table
    from placeplan.publish.report.prose import prose

    vals = sites.copy()
    vals["score"] = float("nan")
    vals["capital_cost_gbp"] = float("nan")
    html = maps.map_sites(vals, inputs.provision, outline=inputs.outline).get_root().render()
    assert f"score: {NOT_AVAILABLE_MARKER}\\u003cbr" in html and "score: –" not in html
    assert f"capital cost: {NOT_AVAILABLE_MARKER}\\u003cbr" in html
    assert render.fmt_count(None) == NOT_AVAILABLE_MARKER  # the report's marker is the same one
    key = f"{SUPPRESSED_MARKER} = suppressed (to protect small numbers); {NOT_AVAILABLE_MARKER} = "
    assert key + NOT_AVAILABLE_MEANING in html
    internal = (
        maps.map_sites(inputs.sites, inputs.provision, outline=inputs.outline, internal=True)
        .get_root()
        .render()
    )
    assert f"{SUPPRESSED_MARKER} = suppressed" not in internal
    # the report's table key says the same, from the same constants
    table = Table("t1", "T", ("a", "b"), ((Cell("r"), Cell(None, "count")),))
    page = render.render_template(
        "section.html.j2",
        s=Section("t", "", "T", (table,)),
        report=SimpleNamespace(disclosure_threshold=5),
    )
    assert f'<span class="marker">{NOT_AVAILABLE_MARKER}</span> = {NOT_AVAILABLE_MEANING}' in page
    note = prose("disclosure_control", "published", threshold=5, round_to=0)
    assert f"“{NOT_AVAILABLE_MARKER}” means {NOT_AVAILABLE_MEANING}" in note


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB ``#rrggbb``."""
    srgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb)
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_score_ramp_is_sequential_and_clashes_with_no_other_map_colour():
    """Review of the site map: the red-to-green score ramp's green was the green of alternative
    provision, and red/green is lost to colour-blind readers. The ramp runs light to dark (its
    order reads without hue) and every class is far (CIELAB ΔE ≥ 30) from every provision type,
    the proposals' star, the flow lines and the grey of a site not scored."""
    from placeplan.publish.maps._svg import FLOW_COLOURS, PROPOSED_COLOUR
    from placeplan.publish.maps.sites import SCORE_COLOURS, score_colour

    lightness = [_lab(c)[0] for c in SCORE_COLOURS]
    assert all(a > b + 8 for a, b in itertools.pairwise(lightness))
    others = {
        **{f"provision {k}": v for k, v in maps.PROVISION_COLOURS.items()},
        "proposed star": PROPOSED_COLOUR,
        **{f"flow {k}": v for k, v in FLOW_COLOURS.items()},
        "not scored": score_colour(float("nan"), 0.0, 1.0),
    }
    for c in SCORE_COLOURS:
        for what, o in others.items():
            delta = math.dist(_lab(c), _lab(o))
            assert delta >= 30, f"score class {c} is close to {what} {o} (ΔE {delta:.0f})"


def test_provision_types_are_told_apart_by_colour():
    """Every pair of provision-type colours is far apart (CIELAB ΔE >= 20): independent,
    non-maintained and FE college were three near-identical oranges and browns (non-maintained
    #b35806 was within ΔE 12 of another)."""
    import itertools

    from placeplan.publish.maps._layers import PROVISION_COLOURS

    for (a, ca), (b, cb) in itertools.combinations(PROVISION_COLOURS.items(), 2):
        delta = math.dist(_lab(ca), _lab(cb))
        assert delta >= 20, f"{a} {ca} and {b} {cb} are close (ΔE {delta:.0f})"
