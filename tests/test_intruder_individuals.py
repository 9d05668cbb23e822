"""An intruder after one child's own values: journey changes, postcodes, names as code.

:mod:`test_intruder` bounds suppressed *counts* from every published number. This file attacks
what a count's threshold does not protect: a statistic that is one pupil's own value. Only the
pupils who move change journey, so ``pupils x (scenario mean - baseline mean)`` of an area is its
movers' total change in journey time: with one mover, that child's own change.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.publish.register import release_run
from report_fixtures import example_inputs


def _with_movers(moved: list[int]):
    ri = example_inputs()
    areas = ri.areas.assign(moved=moved)
    groups = dict.fromkeys(areas["area_id"].astype(str), "Newport and Carisbrooke")
    return replace(ri, areas=areas, area_groups=groups)


def test_an_area_with_one_mover_hides_its_scenario_mean():
    """One mover in an area: the change in its mean journey times its pupils is that child's."""
    ri = _with_movers([20, 0, 1, 7, 0, 0])
    rel = release_run([ri])[ri.scenario_name]
    assert rel.areas is not None
    v, m = rel.areas.values, rel.areas.mask
    # the LSOA with one mover: baseline published, scenario hidden
    assert bool(m.loc[2, "scenario_mean_time_min"])
    assert not bool(m.loc[2, "baseline_mean_time_min"])
    assert np.isnan(v.loc[2, "scenario_mean_time_min"])
    assert v.loc[2, "baseline_mean_time_min"] == 41.5
    # the movers add up to the published 28 of the impact table: with one area's hidden, the
    # smallest other positive one is hidden too (else 28 - 20 - 7 = 1 gives it back)
    assert bool(m.loc[3, "scenario_mean_time_min"])
    assert not bool(m.loc[0, "scenario_mean_time_min"])
    assert v.loc[0, "scenario_mean_time_min"] == 16.5
    # the count of movers decides; it is never published
    assert "moved" not in v.columns
    assert "moved" not in m.columns


def test_areas_without_movers_keep_both_means():
    ri = _with_movers([28, 0, 0, 0, 0, 0])
    rel = release_run([ri])[ri.scenario_name]
    assert rel.areas is not None
    m = rel.areas.mask
    # no movers hidden: the scenario mean is hidden exactly where the pupils are (3, and 17 to
    # protect them)
    assert m["scenario_mean_time_min"].tolist() == m["pupils"].tolist()
    assert m["pupils"].tolist() == [False, True, False, False, False, True]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    from test_intruder import run_sample

    return run_sample(tmp_path_factory.mktemp("individuals"))


def test_published_area_layer_gives_no_child_its_journey_change(sample_run):
    """In layers.gpkg, every LSOA whose two means are published has 0 or >= 5 movers."""
    import geopandas as gpd

    result, out = sample_run
    layer = gpd.read_file(out / "layers.gpkg", layer="areas_journey_times")
    assert "moved" not in layer.columns
    truth = result.impacts[next(iter(result.scenarios))].by_area.set_index("area_id")["moved"]
    b = pd.to_numeric(layer["baseline_mean_time_min"], errors="coerce")
    s = pd.to_numeric(layer["scenario_mean_time_min"], errors="coerce")
    both = b.notna() & s.notna()
    moved = layer["area_id"].map(truth).fillna(0).to_numpy()
    exposed = layer.loc[both & (moved > 0) & (moved < 5), "area_id"].tolist()
    assert exposed == []
    assert int((moved > 0).sum()) == 12  # the sample moves 12 pupils from 12 areas


@pytest.fixture(scope="module")
def rejected_run(tmp_path_factory):
    """300 of the sample's pupils, three of them rejected (unknown postcode, need, setting)."""
    import shutil
    import warnings

    from placeplan._errors import SnapWarning
    from placeplan.config import load_plan
    from placeplan.pipeline import run_and_publish

    root = tmp_path_factory.mktemp("rejected")
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"
    shutil.copytree(sample, root / "plan")
    pupils = pd.read_csv(sample / "pupils.csv", dtype=str, keep_default_na=False).head(300)
    pupils.loc[0, "postcode"] = "ZZ99 9ZZ"
    pupils.loc[1, "need_type"] = "NOT-A-NEED"
    pupils.loc[2, "current_setting_id"] = "NO-SUCH-SETTING"
    pupils.to_csv(root / "plan" / "pupils.csv", index=False)
    plan = load_plan(root / "plan" / "plan.toml")
    plan = plan.model_copy(
        update={
            "plan": plan.plan.model_copy(update={"output_dir": root / "out"}),
            "scenario": plan.scenario[:1],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        run_and_publish(plan)
    return root / "out"


def test_rows_rejected_from_the_pupils_file_are_not_counted_in_public(rejected_run):
    """Three rejected pupils: the report's row accounting says ``c``; row_accounting.csv said 3
    and rejections.csv listed the three rows."""
    acc = pd.read_csv(rejected_run / "row_accounting.csv", dtype=str, keep_default_na=False)
    pupils = acc.set_index("file").loc["pupils.csv"]
    assert pupils["rows_read"] == "300"
    assert pupils["rows_rejected"] == "c"
    assert pupils["rows_used"] == "c"  # read - used = rejected
    rej = pd.read_csv(rejected_run / "rejections.csv", dtype=str, keep_default_na=False)
    rows = rej[rej["file"].eq("pupils.csv")]
    assert len(rows) == 1  # one line saying the rows are not listed, not one line per row
    assert rows["row"].tolist() == [""]
    assert "placeplan validate" in rows["reason"].iloc[0]


def _optimised(counts: list[int]):
    from types import SimpleNamespace

    alloc = pd.DataFrame(
        {"demand_id": range(len(counts)), "site_id": "S1", "count": counts, "travel_time_min": 30.0}
    )
    return SimpleNamespace(
        selected=("S1", "S2"), status="optimal", objective=97.5, allocation=alloc
    )


def test_the_optimised_objective_of_a_few_pupils_is_hidden():
    """optimised_sites.csv's objective is the total journey minutes of the movable pupils: with
    three of them, their own minutes."""
    from placeplan.publish.outputs import _optimised_frame

    few = _optimised_frame(_optimised([1, 2]), threshold=5, round_to=0, mode="published")
    assert few["objective_pupil_min"].tolist() == ["c", "c"]
    assert list(few.columns) == ["site_id", "status", "objective_pupil_min"]
    many = _optimised_frame(_optimised([3, 4]), threshold=5, round_to=0, mode="published")
    assert many["objective_pupil_min"].tolist() == [97.5, 97.5]
    internal = _optimised_frame(_optimised([1]), threshold=5, round_to=0, mode="internal")
    assert internal["objective_pupil_min"].tolist() == [97.5, 97.5]


def test_pupils_beyond_walking_distance_are_a_count():
    """impact.csv's ``beyond_walking_n`` (pupils beyond the statutory walking distance) is a count
    of pupils; in the sample it was published as 1, 2 and 4 (area 'Isle of Wight 009': 1)."""
    from placeplan.publish.report.impact import ImpactTable, impact_long

    rows = [
        ("all", "all pupils", "pupils", 40.0, 40.0, 0.0),
        ("all", "all pupils", "beyond_walking_n", 12.0, 11.0, -1.0),
        ("area", "A", "pupils", 20.0, 20.0, 0.0),
        ("area", "A", "beyond_walking_n", 2.0, 1.0, -1.0),
        ("area", "B", "pupils", 20.0, 20.0, 0.0),
        ("area", "B", "beyond_walking_n", 10.0, 10.0, 0.0),
    ]
    raw = pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )
    long = impact_long(ImpactTable(raw, threshold=5, round_to=0, mode="published"))
    cell = long[long["group"].eq("A") & long["metric"].eq("beyond_walking_n")]
    assert cell[["baseline", "scenario"]].iloc[0].tolist() == ["c", "c"]


def test_a_percentage_does_not_undo_rounding():
    """round_to = 5: ASD (302 pupils, 5 over the maximum) was published as 300, 5 and 1.656 %;
    only n = 5 and 297.5 <= pupils < 302.5 fit 1.656 %, so pupils = 302 exactly."""
    from placeplan.publish.report.impact import ImpactTable, impact_long

    rows = [
        ("all", "all pupils", "pupils", 302.0, 302.0, 0.0),
        ("all", "all pupils", "over_threshold_n", 5.0, 5.0, 0.0),
        ("all", "all pupils", "over_threshold_pct", 100 * 5 / 302, 100 * 5 / 302, 0.0),
    ]
    raw = pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )
    long = impact_long(ImpactTable(raw, threshold=5, round_to=5, mode="published"))
    value = dict(zip(long["metric"], long["baseline"], strict=True))
    assert value["pupils"] == 300.0
    pct = value["over_threshold_pct"]
    # the share is the published counts' own (5 of 300), so it tells nothing they do not
    assert pct == "c" or float(pct) == pytest.approx(
        100 * float(value["over_threshold_n"]) / 300, abs=5e-4
    )
    assert pct == "c" or abs(float(pct) - 100 * 5 / 302) > 5e-3


def test_a_group_with_one_mover_hides_its_changed_statistics():
    """Sample, 'Four inclusion bases': area 'Isle of Wight 014' (109 pupils, moved_n 'c')
    published mean journey 13.523 -> 13.508: 109 x -0.015 = -1.6 min, one child's change (its
    LSOA E01017347 held the one mover, -1.598 min); proposal 118168-IB-SLCN alone (moved_n 'c')
    published all-pupil changes of -0.005 min x 1,540, -£3,971 transport and -£54,000 placement
    a year: that child's journey and placement."""
    from placeplan.publish.report.impact import ImpactTable, impact_long

    rows = []
    for g, moved, before, after in (("A", 1.0, 12.0, 11.8), ("B", 20.0, 10.0, 9.0)):
        rows += [
            ("area", g, "pupils", 100.0, 100.0, 0.0),
            ("area", g, "moved_n", 0.0, moved, moved),
            ("area", g, "mean_time_min", before, after, after - before),
            ("area", g, "annual_transport_cost_gbp", 5e5, 5e5 - 4e3, -4e3),
        ]
    rows += [
        ("all", "all pupils", "pupils", 200.0, 200.0, 0.0),
        ("all", "all pupils", "moved_n", 0.0, 21.0, 21.0),
        ("all", "all pupils", "mean_time_min", 11.0, 10.4, -0.6),
        ("all", "all pupils", "annual_transport_cost_gbp", 1e6, 1e6 - 8e3, -8e3),
    ]
    raw = pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )
    long = impact_long(ImpactTable(raw, threshold=5, round_to=0, mode="published"))
    a = long[long["group"].eq("A")].set_index("metric")
    assert a.at["moved_n", "scenario"] == "c"
    for metric in ("mean_time_min", "annual_transport_cost_gbp"):
        assert a.at[metric, "change"] == "c", metric
        assert a.at[metric, "scenario"] == "c", metric


def test_the_flow_figure_publishes_no_setting_total_the_register_hides():
    """Settings X (independent, out of area, 10), Y (independent, in area, 2) and Z (special,
    out of area, 3); the impact table publishes 13 out-of-area and 12 independent placements.
    The register hides X with Y and Z (13 - X = Z); the figure's own decision publishes X = 10
    and draws it as one combined flow whose width gives 10 back, so Z = 3."""
    import geopandas as gpd
    from shapely.geometry import Point

    ri = example_inputs()
    provision = gpd.GeoDataFrame(
        {
            "setting_id": ["X", "Y", "Z"],
            "name": ["X", "Y", "Z"],
            "provision_type": ["independent", "independent", "special"],
            "in_area": [False, True, False],
            "capacity": [50, 50, 50],
        },
        geometry=[Point(446000, 100000), Point(447000, 87000), Point(440000, 100000)],
        crs="EPSG:27700",
    )
    flows = pd.DataFrame(
        {
            "origin_id": ["E01000000", "E01000001", "E01000002"],
            "destination_id": ["X", "Y", "Z"],
            "baseline": [10, 2, 3],
            "scenario": [10, 2, 3],
        }
    )
    impact = ri.impact.copy()
    every = impact["group_type"].eq("all")
    for metric, n in (("ooa_placements", 13.0), ("independent_placements", 12.0)):
        at = every & impact["metric"].eq(metric)
        impact.loc[at, ["baseline", "scenario", "change"]] = [n, n, 0.0]
    ri = replace(ri, provision=provision, ooa_flows=flows, impact=impact)
    settings = release_run([ri])[ri.scenario_name].ooa_settings
    assert settings is not None
    hidden = set(settings.values.loc[settings.mask["baseline"], "destination_id"].astype(str))
    assert hidden == {"X", "Y", "Z"}
    import re

    from placeplan.publish.report.context import build_context
    from placeplan.publish.report.sections.out_of_area import _flows_figure

    svg = _flows_figure(ri, build_context(ri)).svg
    assert "<svg" in svg
    # every setting's total is hidden by the register, so no setting is drawn as one combined
    # (dashed) flow of its total, whose width would give X = 10 back (settings' own outline
    # dashes are "2 1.5"; a combined flow's and its legend's are whole numbers)
    assert re.findall(r'stroke-dasharray="\d+ \d+"', svg) == []


def test_the_longest_journey_is_one_childs_and_is_not_published():
    """``max_time_min`` is by definition one pupil's own journey (the sample's all-pupils 120.7
    min): ``c`` in every published cell, its value in internal mode only."""
    from placeplan.publish.report.impact import ImpactTable, impact_long

    rows = [
        ("all", "all pupils", "pupils", 40.0, 40.0, 0.0),
        ("all", "all pupils", "max_time_min", 120.7, 118.0, -2.7),
        ("all", "all pupils", "mean_time_min", 20.0, 19.0, -1.0),
    ]
    raw = pd.DataFrame(
        rows, columns=["group_type", "group", "metric", "baseline", "scenario", "change"]
    )
    pub = impact_long(ImpactTable(raw, threshold=5, round_to=0, mode="published"))
    row = pub.set_index("metric").loc["max_time_min"]
    assert row[["baseline", "scenario", "change"]].tolist() == ["c", "c", "c"]
    assert pub.set_index("metric").at["mean_time_min", "baseline"] == 20.0
    internal = impact_long(ImpactTable(raw, threshold=5, round_to=0, mode="internal"))
    assert internal.set_index("metric").at["max_time_min", "baseline"] == 120.7
