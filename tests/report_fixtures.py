"""A small synthetic :class:`ReportInputs` for the report and map tests (moved out of the package).

Import it in a test as ``from report_fixtures import example_inputs`` (``tests/`` is on the path
under pytest's default rootdir-relative import mode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeplan.publish.report.model import IMPACT_COLS, TIME_BAND_LABELS, Mode, ReportInputs

__all__ = ["example_inputs"]


def example_inputs(
    *, mode: Mode = "published", synthetic_data: bool = True, small_count: int = 3
) -> ReportInputs:
    """Small synthetic :class:`ReportInputs` near the Isle of Wight (tests, docs, screenshots).

    Four LSOA-like 2 km squares around easting 450000, northing 90000, three candidate sites, a
    few settings (one on the mainland), and an impact table in which the ``HI`` need group has
    ``small_count`` pupils (to exercise disclosure control).

    Parameters
    ----------
    mode
        Report mode.
    synthetic_data
        Whether to flag the cohort as synthetic.
    small_count
        The planted small count.

    Returns
    -------
    ReportInputs
        Deterministic inputs.
    """
    import geopandas as gpd
    from shapely.geometry import LineString, Point, box

    crs = "EPSG:27700"
    x0, y0, s = 446000.0, 86000.0, 2000.0
    squares = [
        box(x0 + i * s, y0 + j * s, x0 + (i + 1) * s, y0 + (j + 1) * s)
        for j in range(2)
        for i in range(3)
    ]
    areas = gpd.GeoDataFrame(
        {
            "area_id": [f"E0100{k:04d}" for k in range(6)],
            "name": [f"Isle of Wight 0{k + 1}A" for k in range(6)],
            "imd_decile": [2, 5, 8, 3, 9, 6],
            "ruc_class": ["urban", "urban", "rural", "urban", "rural", "rural"],
            "pupils": [40, small_count, 22, 31, 0, 17],
            "baseline_mean_time_min": [18.0, 52.0, 41.5, 24.2, np.nan, 66.0],
            "scenario_mean_time_min": [16.5, 30.0, 33.0, 22.0, np.nan, 48.0],
        },
        geometry=squares,
        crs=crs,
    )
    outline = gpd.GeoDataFrame(geometry=[box(x0 - 800, y0 - 800, x0 + 6800, y0 + 4800)], crs=crs)
    roads = gpd.GeoDataFrame(
        geometry=[
            LineString([(x0 - 500, y0 + 2100), (x0 + 6500, y0 + 1900)]),
            LineString([(x0 + 3000, y0 - 500), (x0 + 3100, y0 + 4500)]),
        ],
        crs=crs,
    )
    provision = gpd.GeoDataFrame(
        {
            "setting_id": ["100001", "100002", "100003", "200001"],
            "name": [
                "Medina Primary",
                "Carisbrooke Secondary",
                "St George's Special",
                "Mainland Independent School",
            ],
            "provision_type": ["mainstream", "mainstream", "special", "independent"],
            "in_area": [True, True, True, False],
            "capacity": [420, 1200, 160, 60],
        },
        geometry=[
            Point(x0 + 1000, y0 + 1000),
            Point(x0 + 3000, y0 + 3000),
            Point(x0 + 5000, y0 + 1500),
            Point(x0 + 2000, y0 + 14000),
        ],
        crs=crs,
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "name": ["Medina Primary ASD base", "Carisbrooke SEMH base", "Ryde SLCN base"],
            "needs": ["ASD", "SEMH", "SLCN"],
            "phases": ["primary", "secondary", "primary"],
            "places": [12, 16, 10],
            "capital_cost_gbp": [450000.0, 800000.0, 390000.0],
            "score": [0.82, 0.61, np.nan],
            "selected": [True, True, False],
            "pupils_served": [12, small_count, 0],
            "mean_time_saved_min": [14.2, 9.0, np.nan],
        },
        geometry=[
            Point(x0 + 1000, y0 + 1000),
            Point(x0 + 3000, y0 + 3000),
            Point(x0 + 5500, y0 + 3500),
        ],
        crs=crs,
    )
    isochrones = gpd.GeoDataFrame(
        {"site_id": ["S1", "S1", "S2", "S2"], "minutes": [15, 30, 15, 30]},
        geometry=[Point(x0 + 1000, y0 + 1000).buffer(r) for r in (1200, 2500)]
        + [Point(x0 + 3000, y0 + 3000).buffer(r) for r in (1200, 2500)],
        crs=crs,
    )
    flows = pd.DataFrame(
        {
            "origin_id": ["E01000000", "E01000001", "E01000002", "E01000003"],
            "destination_id": ["200001"] * 4,
            "baseline": [9, small_count, 6, 12],
            "scenario": [5, 0, 6, 7],
        }
    )
    rows = []

    def add(gt: str, g: str, metrics: dict[str, tuple[float, float]]) -> None:
        for met, (b, sc) in metrics.items():
            rows.append((gt, g, met, b, sc, sc - b))

    add(
        "all",
        "all",
        {
            "pupils": (113, 113),
            "mean_time_min": (34.6, 27.1),
            "median_time_min": (29.0, 24.0),
            "p90_time_min": (71.0, 52.0),
            "max_time_min": (118.0, 96.0),
            "mean_distance_km": (14.2, 10.9),
            "mean_distance_miles": (8.82, 6.77),
            "over_threshold_n": (21, 9),
            "over_threshold_pct": (18.6, 8.0),
            "ooa_placements": (30, 18),
            "independent_placements": (14, 8),
            "annual_placement_cost_gbp": (3_450_000, 3_010_000),
            "annual_transport_cost_gbp": (1_020_000, 905_000),
            "worse_off_n": (0, 11),
            "moved_n": (0, 28),
        },
    )
    need_rows = {"ASD": 48, "SEMH": 35, "SLCN": 27, "HI": small_count}
    for k, (need, n) in enumerate(need_rows.items()):
        add(
            "need_type",
            need,
            {
                "pupils": (n, n),
                "mean_time_min": (30.0 + 4 * k, 25.0 + 2 * k),
                "mean_distance_miles": (7.5 + k, 6.0 + k),
                "over_threshold_n": (6 + k, 3 + k),
                "ooa_placements": (8 + k, 5 + k),
                "independent_placements": (4, 2),
            },
        )
    for ph, n in (("primary", 61), ("secondary", 52)):
        add(
            "phase",
            ph,
            {
                "pupils": (n, n),
                "mean_time_min": (31.0, 25.0) if ph == "primary" else (38.6, 29.4),
                "mean_distance_miles": (7.9, 6.0),
                "over_threshold_n": (10, 4),
                "ooa_placements": (15, 9),
            },
        )
    for dec, n in (("2", 40), ("5", small_count), ("8", 70)):
        add(
            "imd_decile",
            dec,
            {
                "pupils": (n, n),
                "mean_time_min": (33.0, 27.0),
                "over_threshold_n": (7, 3),
                "ooa_placements": (10, 6),
            },
        )
    for area, n in (("Newport and Carisbrooke", 52), ("East Wight", 38), ("West Wight", 23)):
        add(
            "area",
            area,
            {
                "pupils": (n, n),
                "mean_time_min": (30.0, 25.5),
                "over_threshold_n": (7, 3),
                "ooa_placements": (10, 6),
            },
        )
    for ruc, n in (("urban", 74), ("rural", 39)):
        add(
            "ruc_class",
            ruc,
            {
                "pupils": (n, n),
                "mean_time_min": (29.0, 24.0),
                "over_threshold_n": (9, 4),
                "ooa_placements": (15, 9),
            },
        )
    impact = pd.DataFrame(rows, columns=list(IMPACT_COLS))
    mitigations = pd.DataFrame(
        {
            "rule": [
                "Longer journey: route change",
                "Longer journey, secondary: travel training",
                "Over the reasonable maximum by road: personal travel budget",
                "Over the reasonable maximum by ferry: escort",
            ],
            "what": ["route_change", "travel_training", "personal_travel_budget", "escort"],
            "source": ["plan", "plan", "default", "default"],
            "pupils": [8, small_count, 9, 12],
            "cost_gbp_per_pupil_year": [500.0, 1500.0, 2500.0, 4000.0],
            "annual_cost_gbp": [4000.0, small_count * 1500.0, 22500.0, 48000.0],
            "who": [
                "journey more than 5 min longer",
                "journey more than 5 min longer; secondary",
                "journey over the reasonable maximum; journey by road only",
                "journey over the reasonable maximum; journey crosses by ferry",
            ],
            "description": [
                "The shared route is re-planned.",
                "Independent travel training for the new route.",
                "A personal travel budget for a shorter direct journey.",
                "A passenger assistant for the crossing.",
            ],
        }
    )
    time_bands = pd.DataFrame(
        {
            "band": list(TIME_BAND_LABELS),
            "baseline": [18, 34, 30, 14, 10, 7],
            "scenario": [22, 41, 33, 8, 6, small_count],
        }
    )
    row_accounting = pd.DataFrame(
        {
            "file": ["pupils.csv", "provision.csv", "sites.csv"],
            "rows_read": [116, 64, 3],
            "rows_used": [113, 64, 3],
            "rows_rejected": [small_count, 0, 0],
        }
    )
    return ReportInputs(
        plan_name="Isle of Wight inclusion bases 2026",
        authority="Isle of Wight Council",
        run_timestamp="2026-04-01 09:00 UTC",
        placeplan_version="0.1.0",
        config_hash="sha256:0123456789ab",
        plan_toml='[plan]\nname = "Isle of Wight inclusion bases 2026"\n'
        "[disclosure]\nthreshold = 5\n",
        impact=impact,
        mode=mode,
        scenario_name="Three inclusion bases",
        mitigations=mitigations,
        sites=sites,
        provision=provision,
        areas=areas,
        ooa_flows=flows,
        isochrones=isochrones,
        outline=outline,
        roads=roads,
        time_bands=time_bands,
        parameters=(
            (
                "Reasonable maximum journey",
                "45 min primary, 75 min secondary",
                "DfE home-to-school travel and transport guidance (2014), best practice",
            ),
            (
                "Statutory walking distance",
                "2 miles under 8, 3 miles aged 8+",
                "Education Act 1996 s.444, Sch. 35B",
            ),
            ("School days a year", "190", "England school year"),
            ("Ferry link", "Fishbourne–Portsmouth, 45 min + 30 min wait", "Timetable"),
            ("Disclosure threshold", "5", "DfE statistics practice"),
        ),
        assumptions=(
            "Pupils already placed stay unless the scenario says otherwise.",
            "Journey times are free-flow car times with a fixed kerbside allowance.",
        ),
        row_accounting=row_accounting,
        attributions=(
            "Contains OS data © Crown copyright and database right 2025\n"
            "Contains Royal Mail data © Royal Mail copyright and database right 2025\n"
            "Contains National Statistics data © Crown copyright and database right 2025\n"
            "Map data © OpenStreetMap contributors (ODbL)\n"
            "DfE SEN2 statistics, Open Government Licence v3.0"
        ),
        synthetic_data=synthetic_data,
    )
