"""Tests of the shipped Isle of Wight sample data set (data/sample/isle-of-wight)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from placeplan.needs import NEED_CODES, PHASES

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"
IOW = "E06000046"

PROVISION_COLUMNS = [
    "setting_id", "name", "provision_type", "host_setting_id", "phases", "needs", "capacity",
    "on_roll", "easting", "northing", "in_area", "annual_cost_per_place_gbp", "ferry_required",
]  # fmt: skip
CANDIDATE_COLUMNS = [
    "site_id", "host_setting_id", "name", "needs", "phases", "places", "capital_cost_gbp",
    "annual_cost_per_place_gbp", "easting", "northing",
]  # fmt: skip
PUPIL_COLUMNS = ["pupil_ref", "postcode", "need_type", "plan_type", "nc_year",
                 "current_setting_id", "transport_assisted"]  # fmt: skip
POSTCODE_COLUMNS = ["postcode", "easting", "northing", "positional_quality", "lsoa11cd",
                    "lad_code", "date_introduced", "date_terminated"]  # fmt: skip
PROVISION_TYPES = {"mainstream", "inclusion_base", "special", "independent", "non_maintained",
                   "ap", "fe"}  # fmt: skip


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / name, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def provision() -> pd.DataFrame:
    return _csv("provision.csv")


@pytest.fixture(scope="module")
def outline() -> shapely.Geometry:
    gdf = gpd.read_file(SAMPLE / "island-outline.geojson")
    return gdf.to_crs("EPSG:27700").union_all()


@pytest.mark.parametrize(
    "name",
    ["roads-drive.osm.pbf", "postcodes.csv", "lsoa.geojson", "island-outline.geojson",
     "ehcp_by_need.csv", "ehcp_by_placement.csv", "provision.csv", "costs.csv",
     "candidate_sites.csv", "pupils.csv", "PROVENANCE.md", "ATTRIBUTION.txt"],
)  # fmt: skip
def test_file_exists(name: str) -> None:
    assert (SAMPLE / name).is_file()
    assert (SAMPLE / name).stat().st_size > 0


def test_folder_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 8 * 1024 * 1024


def test_columns_per_contract(provision: pd.DataFrame) -> None:
    assert list(provision.columns) == PROVISION_COLUMNS
    assert list(_csv("candidate_sites.csv").columns) == CANDIDATE_COLUMNS
    assert list(_csv("pupils.csv").columns) == PUPIL_COLUMNS
    assert list(_csv("postcodes.csv").columns) == POSTCODE_COLUMNS
    assert list(_csv("costs.csv").columns) == ["provision_type", "annual_cost_per_place_gbp",
                                               "basis"]  # fmt: skip


def test_provision_values(provision: pd.DataFrame) -> None:
    assert provision["setting_id"].is_unique
    assert provision["setting_id"].map(type).eq(str).all()
    assert set(provision["provision_type"]) <= PROVISION_TYPES
    for col in ("in_area", "ferry_required"):
        assert set(provision[col]) <= {"true", "false"}
    assert (provision["capacity"].astype(int) >= 0).all()
    assert (provision["on_roll"].astype(int) >= 0).all()
    assert (provision["annual_cost_per_place_gbp"].astype(float) > 0).all()
    for phases in provision["phases"]:
        assert set(phases.split(";")) <= set(PHASES)
    for needs in provision["needs"].dropna():
        assert set(needs.split(";")) <= set(NEED_CODES)
    bases = provision[provision["provision_type"] == "inclusion_base"]
    assert 2 <= len(bases) <= 4
    assert bases["host_setting_id"].isin(provision["setting_id"]).all()
    assert (provision["in_area"] == "false").eq(provision["ferry_required"] == "true").all()
    special = provision[
        (provision["in_area"] == "true") & (provision["provision_type"] == "special")
    ]
    assert {"St George's School", "Medina House Primary School"} <= set(special["name"])


def test_provision_locations(provision: pd.DataFrame, outline: shapely.Geometry) -> None:
    pts = gpd.points_from_xy(provision["easting"].astype(float),
                             provision["northing"].astype(float))  # fmt: skip
    inside = shapely.contains(outline.buffer(250), pts)
    in_area = (provision["in_area"] == "true").to_numpy()
    assert inside[in_area].all(), provision.loc[in_area & ~inside, "name"].tolist()
    assert not inside[~in_area].any()
    assert (~in_area).sum() >= 8


def test_candidates(provision: pd.DataFrame) -> None:
    cand = _csv("candidate_sites.csv")
    assert cand["site_id"].is_unique
    assert 10 <= len(cand) <= 20
    assert cand["host_setting_id"].isin(provision["setting_id"]).all()
    hosts = provision.set_index("setting_id").loc[cand["host_setting_id"]]
    assert (hosts["provision_type"] == "mainstream").all()
    assert (hosts["in_area"] == "true").all()
    assert cand["places"].astype(int).between(8, 20).all()
    assert (cand["capital_cost_gbp"].astype(float) > 0).all()
    for needs in cand["needs"]:
        assert set(needs.split(";")) <= set(NEED_CODES)


def test_postcodes() -> None:
    pc = _csv("postcodes.csv")
    assert pc["postcode"].is_unique
    assert pc["postcode"].str.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}").all()
    assert set(pc["lad_code"]) == {"E06000044", "E06000045", IOW}
    live = pc["date_terminated"].isna() & pc["easting"].notna()
    assert live[pc["lad_code"] == IOW].sum() > 5000
    assert pc.loc[live, "lsoa11cd"].notna().all()
    assert pc.loc[pc["date_terminated"].notna(), "easting"].isna().all()


def test_lsoa_polygons() -> None:
    gdf = gpd.read_file(SAMPLE / "lsoa.geojson")
    assert gdf.crs.to_epsg() == 4326
    assert gdf.is_valid.all()
    assert gdf["area_id"].is_unique
    assert {"area_id", "name", "lad_code", "imd_rank", "imd_decile", "ruc11cd", "ruc_class",
            "population"} <= set(gdf.columns)  # fmt: skip
    assert set(gdf["ruc_class"]) == {"urban", "rural"}
    assert gdf["imd_decile"].between(1, 10).all()
    iow = gdf[gdf["lad_code"] == IOW]
    assert 130_000 < iow["population"].sum() < 150_000
    raw = json.loads((SAMPLE / "lsoa.geojson").read_text())
    coord = raw["features"][0]["geometry"]["coordinates"][0][0]
    assert all(len(str(c).split(".")[-1]) <= 5 for c in coord)


def test_ehcp_tables() -> None:
    need = _csv("ehcp_by_need.csv")
    place = _csv("ehcp_by_placement.csv")
    assert set(need["need_type"].dropna()) <= set(NEED_CODES)
    all_iow = need[(need["la_code"] == IOW) & (need["breakdown"] == "All EHC plans")]
    assert all_iow["count"].astype(int).sum() == 1799
    latest = place[(place["la_code"] == IOW) & (place["time_period"] == "202425")
                   & (place["breakdown"] == "All EHC plans")]  # fmt: skip
    assert pd.to_numeric(latest["count"]).sum() == 1799  # suppressed (missing) cells skipped
    # suppressed cells are missing, never zero
    assert place["count"].isna().any()
    assert (place["count"].dropna() != "x").all()


def test_shipped_pupils_consistent(provision: pd.DataFrame) -> None:
    pupils = _csv("pupils.csv")
    assert pupils["pupil_ref"].is_unique
    assert pupils["pupil_ref"].str.fullmatch(r"SYN-\d{6}").all()
    assert set(pupils["transport_assisted"]) <= {"true", "false"}
    prov = provision.set_index("setting_id")
    for row in pupils.itertuples():
        setting = prov.loc[row.current_setting_id]
        year = int(row.nc_year)
        assert any(PHASES[p][0] <= year <= PHASES[p][1] for p in setting["phases"].split(";"))
        assert pd.isna(setting["needs"]) or row.need_type in setting["needs"].split(";")
    in_area = prov[prov["in_area"] == "true"]
    used = pupils["current_setting_id"].value_counts()
    used = used[used.index.isin(in_area.index)]
    assert (used <= in_area.loc[used.index, "capacity"].astype(int)).all()
