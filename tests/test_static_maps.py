"""Static SVG map figures (print): every layer, legend beside the frames, areas inside, ferry flows.

Issue 11 §6–7: printed, the folium maps showed half the island under their legends and only one
layer; the static figures draw every layer, baseline and scenario, with the legend outside the
map frames, and out-of-area flows along the ferry crossing they use.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from placeplan._errors import SchemaValidationError
from placeplan.compute.layers import ooa_flows
from placeplan.config import FerryLink
from placeplan.publish import maps
from placeplan.publish.disclosure import suppress
from placeplan.publish.maps.static import (
    StaticBasemap,
    flow_paths,
    static_journey_times,
    static_sites_flows,
)
from report_fixtures import example_inputs

SVG = "{http://www.w3.org/2000/svg}"
X0, Y0 = 446000.0, 86000.0  # the fixture's south-west corner (EPSG:27700)
LINK = FerryLink(
    name="Test ferry",
    island_easting=X0 + 3000,
    island_northing=Y0 + 5200,
    mainland_easting=X0 + 2500,
    mainland_northing=Y0 + 9000,
    crossing_min=30,
    wait_min=10,
)


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
    # every flow of the fixture goes to the mainland setting: via the test ferry's terminals
    raw = inputs.ooa_flows.assign(
        route="ferry:Test ferry",
        waypoints=[
            (
                (LINK.island_easting, LINK.island_northing),
                (LINK.mainland_easting, LINK.mainland_northing),
            )
        ]
        * len(inputs.ooa_flows),
    )
    return suppress(
        raw, count_cols=["baseline", "scenario"], group_cols=[["origin_id"], ["destination_id"]]
    )


@pytest.fixture
def base(inputs):
    region = gpd.GeoDataFrame(
        {"name": ["Mainland"]},
        geometry=[box(X0 - 3000, Y0 + 4950, X0 + 9000, Y0 + 16000)],
        crs=27700,
    )
    return StaticBasemap(
        outline=inputs.outline,
        region=region,
        roads=inputs.roads,
        attribution="© OpenStreetMap contributors",
    )


def _root(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def _frames(root: ET.Element) -> list[tuple[float, float, float, float]]:
    out = []
    for r in root.iter(f"{SVG}rect"):
        if r.get("class") == "map-frame":
            x, y = float(r.get("x")), float(r.get("y"))
            out.append((x, y, x + float(r.get("width")), y + float(r.get("height"))))
    return out


def _layers(root: ET.Element) -> dict[str, list[ET.Element]]:
    out: dict[str, list[ET.Element]] = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "layer":
            out.setdefault(g.get("data-layer"), []).append(g)
    return out


def _points(d: str) -> list[tuple[float, float]]:
    """Absolute points of path data made of ``M x y`` / ``l dx dy …`` / ``L x y`` / ``z``."""
    pts: list[tuple[float, float]] = []
    for cmd, args in re.findall(r"([MLlz])([^MLlz]*)", d):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args)]
        pairs = list(zip(nums[::2], nums[1::2], strict=True))
        for x, y in pairs:
            if cmd == "l":
                px, py = pts[-1]
                pts.append((px + x, py + y))
            elif cmd in "ML":
                pts.append((x, y))
    return pts


def _inside(pt: tuple[float, float], frame: tuple[float, float, float, float], tol=1.0) -> bool:
    x, y = pt
    return frame[0] - tol <= x <= frame[2] + tol and frame[1] - tol <= y <= frame[3] + tol


def _legend_box(root: ET.Element) -> tuple[float, float, float, float]:
    (leg,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    x, y = float(leg.get("data-x")), float(leg.get("data-y"))
    return x, y, x + float(leg.get("data-width")), y + float(leg.get("data-height"))


def _text(root: ET.Element) -> str:
    """All the figure's text, lines joined by spaces (legend entries wrap over lines)."""
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_journey_figure_has_every_layer_and_the_legend_beside_the_frames(areas, sites, base):
    svg = static_journey_times(areas, sites=sites, base=base, scenario_name="Two bases")
    root = _root(svg)
    frames = _frames(root)
    assert len(frames) == 2  # baseline and scenario
    panels = [g.get("data-panel") for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]
    assert panels == ["baseline", "scenario"]
    layers = _layers(root)
    for name in ("region", "outline", "areas", "roads", "proposed"):
        assert len(layers.get(name, [])) == 2, name  # on both panels
    legend = _legend_box(root)
    width = float(root.get("viewBox").split()[2])
    assert legend[2] <= width
    for frame in frames:
        assert not _overlap(legend, frame)
        assert legend[0] >= frame[2]  # beside, to the right
    assert root.find(f".//{SVG}g[@class='scale-bar']") is not None
    assert root.find(f".//{SVG}g[@class='north-arrow']") is not None
    assert "© OpenStreetMap contributors" in svg
    assert "Scenario: Two bases" in svg
    # the legend explains suppression and keys the two selected sites by number
    text = _text(root)
    assert "suppressed: <5 pupils, or 1-4 moving (or protecting such)" in text
    assert "1 Medina Primary ASD base" in text
    assert "2 Carisbrooke SEMH base" in text
    assert "Ryde SLCN base" not in text  # not selected
    assert len(svg) < 100_000


def test_every_area_polygon_lies_inside_its_panel(areas, sites, base):
    root = _root(static_journey_times(areas, sites=sites, base=base))
    frames = _frames(root)
    groups = _layers(root)["areas"]
    assert len(groups) == len(frames) == 2
    for frame, group in zip(frames, groups, strict=True):
        paths = list(group.iter(f"{SVG}path"))
        assert len(paths) == len(areas)
        for path in paths:
            pts = _points(path.get("d"))
            assert len(pts) >= 4
            assert all(_inside(p, frame) for p in pts)
    # the suppressed area (3 pupils) is grey on both panels; no count is written
    fills = [p.get("fill") for p in groups[0].iter(f"{SVG}path")]
    assert fills.count(maps.journey_times.SUPPRESSED_FILL) >= 1


def test_sites_flows_figure_frames_the_mainland_and_draws_flows_via_the_ferry(
    inputs, sites, flows, base
):
    svg = static_sites_flows(
        sites, inputs.provision, flows=flows, flow_origins=inputs.areas, base=base
    )
    root = _root(svg)
    frames = _frames(root)
    layers = _layers(root)
    for name in ("region", "outline", "roads", "flows", "provision", "proposed"):
        assert name in layers, name
    legend = _legend_box(root)
    assert all(not _overlap(legend, f) for f in frames)
    # the mainland independent school (out of area) is inside the frame, not cut off
    mainland = inputs.provision.set_index("setting_id").geometry["200001"]
    circles = [c for g in layers["provision"] for c in g.iter(f"{SVG}circle")]
    assert circles and all(
        any(_inside((float(c.get("cx")), float(c.get("cy"))), f) for f in frames) for c in circles
    )
    assert mainland.y > Y0 + 10_000
    # baseline: 9 and 12 drawn; the 3 and its secondary partner (6) suppressed, not drawn
    base_flows = list(layers["flows"][0].iter(f"{SVG}path"))
    assert len(base_flows) == 2
    # every drawn flow passes through the island and the mainland terminal: 4 points
    for path in base_flows:
        assert len(_points(path.get("d"))) == 4


def test_flow_paths_pass_through_the_terminals(inputs, flows):
    paths = flow_paths(flows, inputs.areas, inputs.provision)
    island = (LINK.island_easting, LINK.island_northing)
    mainland = (LINK.mainland_easting, LINK.mainland_northing)
    end = inputs.provision.set_index("setting_id").geometry["200001"]
    for path in paths:
        assert path is not None
        assert path[1:] == [island, mainland, (end.x, end.y)]
    road = flows.drop(columns=["waypoints"])
    assert all(len(p) == 2 for p in flow_paths(road, inputs.areas, inputs.provision))


def test_compute_flows_carry_the_ferry_link_their_journeys_use():
    pp = pd.DataFrame(
        {
            "area": ["A", "A", "B", "B"],
            "baseline_category": ["out_of_area"] * 4,
            "scenario_category": ["out_of_area", "in_area", "out_of_area", "out_of_area"],
            "baseline_setting_id": ["M1", "M1", "M1", "M2"],
            "scenario_setting_id": ["M1", "S1", "M1", "M2"],
            "baseline_route": ["ferry:Test ferry", "ferry:Test ferry", "ferry:Test ferry", "road"],
            "scenario_route": ["ferry:Test ferry", "road", "ferry:Test ferry", "road"],
        }
    )
    prov = pd.DataFrame({"setting_id": ["M1", "M2", "S1"], "name": ["Mainland", "Road", "Base"]})
    f = ooa_flows(SimpleNamespace(per_pupil=pp), prov, [LINK]).set_index(
        ["origin_id", "destination_id"]
    )
    terminals = (
        (LINK.island_easting, LINK.island_northing),
        (LINK.mainland_easting, LINK.mainland_northing),
    )
    assert f.loc[("A", "M1"), "route"] == "ferry:Test ferry"
    assert f.loc[("A", "M1"), "waypoints"] == terminals
    assert f.loc[("B", "M2"), "route"] == "road"
    assert f.loc[("B", "M2"), "waypoints"] == ()
    # without ferry links configured, no waypoints (a straight line is all that can be drawn)
    assert ooa_flows(SimpleNamespace(per_pupil=pp), prov)["waypoints"].map(len).max() == 0


def test_interactive_site_map_draws_flows_via_the_terminals(inputs, sites, flows, base):
    m = maps.map_sites(
        sites,
        inputs.provision,
        ooa_flows=flows,
        areas=inputs.areas[["area_id", "geometry"]],
        outline=inputs.outline,
        region=base.region,
    )
    html = m.get_root().render()
    terminal = (
        gpd.GeoSeries([Point(LINK.island_easting, LINK.island_northing)], crs=27700)
        .to_crs(4326)
        .iloc[0]
    )
    assert f"[{round(terminal.y, 5)}, {round(terminal.x, 5)}]" in html
    assert "via Test ferry" in html
    assert '"fillColor": "#ebebe6"' in html  # the neighbouring areas' light basemap


def test_combined_flow_of_a_published_setting_total(inputs, sites, base):
    # every home-area flow under the threshold: none drawn per area; the setting total (9) is
    # published, so it is drawn once, dashed, from the island terminal
    raw = pd.DataFrame(
        {
            "origin_id": ["E01000000", "E01000001", "E01000002"],
            "destination_id": ["200001"] * 3,
            "baseline": [3, 3, 3],
            "scenario": [0, 0, 0],
            "waypoints": [
                (
                    (LINK.island_easting, LINK.island_northing),
                    (LINK.mainland_easting, LINK.mainland_northing),
                )
            ]
            * 3,
        }
    )
    per_area = suppress(raw, count_cols=["baseline", "scenario"])
    totals = suppress(
        pd.DataFrame({"destination_id": ["200001"], "baseline": [9], "scenario": [0]}),
        count_cols=["baseline", "scenario"],
    )
    svg = static_sites_flows(
        sites,
        inputs.provision,
        flows=per_area,
        flow_origins=inputs.areas,
        base=base,
        destination_totals=totals,
    )
    drawn = list(_layers(_root(svg))["flows"][0].iter(f"{SVG}path"))
    assert len(drawn) == 1
    assert drawn[0].get("stroke-dasharray")
    assert len(_points(drawn[0].get("d"))) == 3  # island terminal → mainland terminal → setting
    text = _text(_root(svg))
    assert "9 pupils" in text and "3 pupils" not in text


def test_unsuppressed_counts_refused_and_names_escaped(inputs, areas, sites, base):
    with pytest.raises(SchemaValidationError, match="suppress"):
        static_journey_times(inputs.areas, base=base)
    hostile = sites.assign(name='<script>alert("x")</script> & co')
    hostile.attrs = sites.attrs
    svg = static_journey_times(areas, sites=hostile, base=base)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    _root(svg)  # still well-formed


def test_static_figures_are_deterministic(areas, sites, base):
    assert static_journey_times(areas, sites=sites, base=base) == static_journey_times(
        areas, sites=sites, base=base
    )


def test_sites_figure_has_candidates_both_panels_and_catchments_after(inputs, sites, base):
    from placeplan.publish.maps.static_sites import static_sites

    svg = static_sites(sites, inputs.provision, isochrones=inputs.isochrones, base=base)
    root = _root(svg)
    frames = _frames(root)
    layers = _layers(root)
    assert len(layers["candidates"]) == 2  # the unselected candidate, on both panels
    assert len(layers["proposed"]) == 2
    assert len(layers["catchments"]) == 1  # the scenario panel only: the sites open there
    legend = _legend_box(root)
    assert all(not _overlap(legend, f) for f in frames)
    text = _text(root)
    assert "within 15 min drive" in text and "within 30 min drive" in text
    assert "Candidate site score" in text


def test_sites_figure_keys_the_grey_candidates(inputs, sites, base):
    """Review of the printed demo: grey candidate markers (no single published score) had no
    legend entry. A site not scored and a score published as a range are keyed; with every
    candidate scored, no grey entry."""
    from placeplan.publish.maps.sites import score_colour
    from placeplan.publish.maps.static_sites import static_sites

    grey = score_colour(float("nan"), 0.0, 1.0)

    def drawn(root):
        return [c for g in _layers(root)["candidates"] for c in g.iter() if "rect" in c.tag]

    def keyed(root):
        legend = next(g for g in root.iter() if g.get("class") == "legend")
        return any(c.get("fill") == grey for c in legend.iter() if "rect" in c.tag)

    unselected = sites.index[~sites["selected"].astype(bool)]
    assert len(unselected) == 1 and sites.loc[unselected, "score"].isna().all()
    # the fixture's unselected candidate has no score: grey on both panels, and keyed
    root = _root(static_sites(sites, inputs.provision, base=base))
    assert len(drawn(root)) == 2 and all(c.get("fill") == grey for c in drawn(root))
    assert keyed(root)
    text = _text(root)
    assert "not scored" in text and "score a range" not in text

    # its score hidden, published as a range: keyed as a range
    ranged = sites.copy()
    ranged["score_low"], ranged["score_high"] = ranged["score"], ranged["score"]
    ranged.loc[unselected, ["score_low", "score_high"]] = [0.41, 0.47]
    root = _root(static_sites(ranged, inputs.provision, base=base))
    assert all(c.get("fill") == grey for c in drawn(root)) and keyed(root)
    text = _text(root)
    assert "score a range: a criterion is suppressed (c)" in text
    assert "not scored" not in text

    # every candidate scored: nothing grey, no grey entry
    scored = sites.copy()
    scored.loc[unselected, "score"] = 0.5
    root = _root(static_sites(scored, inputs.provision, base=base))
    assert all(c.get("fill") != grey for c in drawn(root)) and not keyed(root)
    text = _text(root)
    assert "not scored" not in text and "score a range" not in text


def _coincident(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sites with every proposal moved to the first proposal's location (two bases at one
    school, or two schools a street apart: Ventnor in the sample programme)."""
    out = sites.copy()
    sel = out["selected"].fillna(False).astype(bool)
    assert sel.sum() >= 2
    out.loc[sel, "geometry"] = out.loc[sel, "geometry"].iloc[0]
    return out


def _star_centres(svg: str) -> list[tuple[float, float]]:
    root = _root(svg)
    out = []
    for g in _layers(root)["proposed"][:1]:  # the first panel
        for poly in g.iter(f"{SVG}polygon"):
            pts = [tuple(map(float, p.split(","))) for p in poly.get("points").split()]
            out.append((sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)))
    return out


def test_proposals_at_one_place_are_drawn_apart_with_their_numbers(inputs, sites, base):
    from placeplan.publish.maps.static_sites import static_sites

    apart = _star_centres(static_sites(sites, inputs.provision, base=base))
    svg = static_sites(_coincident(sites), inputs.provision, base=base)
    centres = _star_centres(svg)
    assert len(centres) == len(apart) == 2
    (x1, y1), (x2, y2) = centres
    assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= 20  # two stars of radius 10 do not overlap
    labels = list(_layers(_root(svg))["proposed"][0].iter(f"{SVG}text"))
    assert sorted(t.text for t in labels) == ["1", "2"]
    assert len({(t.get("x"), t.get("y")) for t in labels}) == 2
    # stars far apart are not moved
    assert _star_centres(static_sites(sites, inputs.provision, base=base)) == apart


#: A proposed site's star's anchor on the interactive map (candidates are squares, also icons).
_STAR_ANCHOR = r'"iconAnchor": \[(-?\d+), (-?\d+)\],\s*"className": "pp-proposed"'


def test_proposals_at_one_place_are_apart_on_the_interactive_map(inputs, sites):
    def anchors(frame: gpd.GeoDataFrame) -> list[str]:
        html = maps.map_sites(frame, inputs.provision, outline=inputs.outline).get_root().render()
        return re.findall(_STAR_ANCHOR, html)

    assert set(anchors(sites)) == {("13", "13")}
    moved = anchors(_coincident(sites))
    assert len(moved) == 2 and len(set(moved)) == 2


def test_proposals_a_street_apart_are_apart_on_the_interactive_map(inputs, sites):
    """Two bases 800 m apart (Ryde in the sample) overlap at the zoom that shows the authority."""
    near = _coincident(sites)
    sel = near.index[near["selected"].fillna(False).astype(bool)]
    near.loc[sel[1], "geometry"] = Point(
        near.loc[sel[0], "geometry"].x + 800, near.loc[sel[0], "geometry"].y
    )
    html = maps.map_sites(near, inputs.provision, outline=inputs.outline).get_root().render()
    moved = re.findall(_STAR_ANCHOR, html)
    assert len(set(moved)) == 2
