"""Journeys with fixed external links (ferries): exact answers on a grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.journeys import MainlandLeg, journey_matrix
from placeplan.config import FerryLink
from placeplan.testing import grid_network

X0, Y0 = 450000.0, 90000.0  # grid origin of placeplan.testing.grid_network
EDGE_MIN = 100.0 / (36.0 / 3.6) / 60.0  # 100 m at 36 km/h = 10 s


@pytest.fixture(scope="module")
def net():
    return grid_network(5, spacing_m=100.0, speed_kph=36.0)


def _link(name, node_x, node_y, crossing, wait, mainland=(X0, Y0 + 10_000.0)):
    return FerryLink(
        name=name,
        island_easting=node_x,
        island_northing=node_y,
        mainland_easting=mainland[0],
        mainland_northing=mainland[1],
        crossing_min=crossing,
        wait_min=wait,
    )


def test_road_and_ferry_legs_compose_exactly(net):
    origins = pd.DataFrame({"id": ["o"], "x": [X0], "y": [Y0]})
    settings = pd.DataFrame(
        {
            "id": ["road", "mainland"],
            "x": [X0 + 400.0, X0 + 3000.0],
            "y": [Y0 + 400.0, Y0 + 14_000.0],
            "ferry_required": [False, True],
        }
    )
    links = [
        _link("near", X0 + 400.0, Y0, crossing=30.0, wait=10.0),  # 4 edges from the origin
        _link("far", X0 + 400.0, Y0 + 400.0, crossing=30.0, wait=10.0),  # 8 edges
    ]
    leg = MainlandLeg(circuity=1.5, speed_kph=30.0)
    out, snaps = journey_matrix(
        net, origins, settings, ferry_links=links, mainland=leg, fixed_allowance_min=2.0
    )
    out = out.set_index("destination_id")
    assert out.loc["road", "route"] == "road"
    assert out.loc["road", "travel_time_min"] == pytest.approx(8 * EDGE_MIN + 2.0, abs=1e-3)
    beyond_km = np.hypot(3000.0, 4000.0) / 1000.0 * 1.5  # 5 km straight line x 1.5
    expected = 4 * EDGE_MIN + 10.0 + 30.0 + beyond_km / 30.0 * 60.0 + 2.0
    assert out.loc["mainland", "route"] == "ferry:near"
    assert out.loc["mainland", "travel_time_min"] == pytest.approx(expected, abs=1e-3)
    crossing_km = np.hypot(400.0, 10_000.0) / 1000.0
    assert out.loc["mainland", "distance_km"] == pytest.approx(
        0.4 + crossing_km + beyond_km, abs=1e-3
    )
    assert out.loc["mainland", "distance_miles"] == pytest.approx(
        out.loc["mainland", "distance_km"] / 1.609344
    )
    assert set(snaps["role"]) == {"origin", "destination"}


def test_fastest_link_wins(net):
    origins = pd.DataFrame({"id": ["o"], "x": [X0], "y": [Y0]})
    settings = pd.DataFrame(
        {"id": ["m"], "x": [X0], "y": [Y0 + 12_000.0], "ferry_required": [True]}
    )
    slow_near = _link("slow", X0, Y0, crossing=60.0, wait=0.0)
    quick_far = _link("quick", X0 + 400.0, Y0 + 400.0, crossing=20.0, wait=0.0)
    out, _ = journey_matrix(net, origins, settings, ferry_links=[slow_near, quick_far])
    assert out.loc[0, "route"] == "ferry:quick"


def test_ferry_setting_without_links_is_an_error(net):
    origins = pd.DataFrame({"id": ["o"], "x": [X0], "y": [Y0]})
    settings = pd.DataFrame({"id": ["m"], "x": [X0], "y": [Y0 + 9000.0], "ferry_required": [True]})
    with pytest.raises(ValueError, match="ferry_links"):
        journey_matrix(net, origins, settings)
