"""Tests of the shipped Isle of Wight sample data set (data/sample/isle-of-wight)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeplan.needs import NEED_CODES, PHASES, split_codes
from placeplan.prepare.sen2_check import compare_baseline_to_sen2

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "isle-of-wight"
SHARED = REPO.parent / "shared" / "data"
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
     "candidate_sites.csv", "pupils.csv", "PROVENANCE.md", "ATTRIBUTION.txt",
     "ehcp_residential.csv", "sen2_check.csv"],
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
    # nominal capacity binds everywhere but at the island's special schools (SEN2 puts more there)
    capped = used[in_area.loc[used.index, "provision_type"] != "special"]
    assert (capped <= in_area.loc[capped.index, "capacity"].astype(int)).all()
    # on_roll of in-area SEND settings is the number of cohort pupils placed there
    send = in_area[in_area["provision_type"].isin(["special", "non_maintained", "ap",
                                                   "inclusion_base"])]  # fmt: skip
    placed = used.reindex(send.index).fillna(0).astype(int)
    assert (send["on_roll"].astype(int) == placed).all()


def _published_cells(
    topic: str = "All EHC plans", name: str = "ehcp_by_placement.csv"
) -> pd.Series:
    table = _csv(name)
    rows = table[(table["la_code"] == IOW) & (table["time_period"] == "202425")
                 & (table["breakdown_topic"] == topic)]  # fmt: skip
    return pd.to_numeric(rows.set_index("dfe_column")["count"])


def test_shipped_cohort_equals_published_sen2_cells(provision: pd.DataFrame) -> None:
    """Isle of Wight 2024/25: the cohort reproduces the SEN2 placement and residential cells."""
    pupils = _csv("pupils.csv")
    cells = _published_cells()
    ptype = pupils["current_setting_id"].map(provision.set_index("setting_id")["provision_type"])
    located = pupils["current_setting_id"].map(provision.set_index("setting_id")["in_area"])
    # cross-check straight from the published cells (independent of compare_baseline_to_sen2)
    assert (ptype == "special").sum() == cells["special_la_maintained"] + cells[
        "special_academy_free"
    ]
    assert (ptype == "independent").sum() == cells["special_independent"]
    assert (ptype == "non_maintained").sum() == cells["special_non_maintained"]
    assert (ptype == "ap").sum() == cells.filter(like="ap_pru_").sum()
    res = _published_cells("All residential placements", "ehcp_residential.csv")
    assert res["Res_tot"] == 0 == res["Res_3851"] + res["Res_52"]  # none published for 2024/25
    assert "residential" not in pupils.columns  # and none in the cohort
    # out of area: the island has no independent special school, so exactly the independents
    assert (located == "false").sum() == cells["special_independent"]
    assert (ptype[located == "false"] == "independent").all()
    # the comparison table: every measure matches exactly; the shipped sen2_check.csv is current
    tables = {
        "placement": _csv("ehcp_by_placement.csv"),
        "residential": _csv("ehcp_residential.csv"),
    }
    check = compare_baseline_to_sen2(pupils, provision, tables, la_code=IOW, time_period="202425")
    assert len(check) == 10
    assert (check["difference"] == 0).all(), check[["measure", "cohort", "published"]]
    shipped = pd.read_csv(
        SAMPLE / "sen2_check.csv", dtype={"time_period": str}, keep_default_na=False
    )
    pd.testing.assert_frame_equal(shipped, check, check_dtype=False)


def test_island_specials_hold_sen2_not_nominal_capacity(provision: pd.DataFrame) -> None:
    special = provision[
        (provision["in_area"] == "true") & (provision["provision_type"] == "special")
    ]
    cells = _published_cells()
    on_roll = special["on_roll"].astype(int)
    assert on_roll.sum() == cells["special_la_maintained"] + cells["special_academy_free"]
    # nominal (2018) capacity is recorded separately and is exceeded in total
    assert on_roll.sum() > special["capacity"].astype(int).sum()


def test_no_special_pupil_on_mainland_while_island_special_has_room(
    provision: pd.DataFrame,
) -> None:
    """Island specials have no place limit in the baseline, so room always exists: no special
    pupil of a phase and need an island special serves may be across the Solent."""
    pupils = _csv("pupils.csv")
    prov = provision.set_index("setting_id")
    island = prov[(prov["in_area"] == "true") & (prov["provision_type"] == "special")]
    for row in pupils.itertuples():
        setting = prov.loc[row.current_setting_id]
        if setting["provision_type"] != "special" or setting["in_area"] == "true":
            continue
        year = int(row.nc_year)
        served = [
            sid for sid, s in island.iterrows()
            if any(PHASES[p][0] <= year <= PHASES[p][1] for p in split_codes(s["phases"]))
            and (pd.isna(s["needs"]) or row.need_type in split_codes(s["needs"]))
        ]  # fmt: skip
        assert not served, (row.pupil_ref, served)
    primary = pupils[pupils["nc_year"].astype(int) <= PHASES["primary"][1]]
    at = primary["current_setting_id"].map(prov["provision_type"])
    assert (primary.loc[at == "special", "current_setting_id"].map(prov["in_area"]) == "true").all()


def test_shipped_placements_follow_journey_time(provision: pd.DataFrame) -> None:
    """Every pupil is at the nearest compatible setting of its type by the pipeline's road + ferry
    journey time, unless each nearer one is full (island specials never are)."""
    from placeplan.compute.journeys import MainlandLeg, journey_matrix
    from placeplan.compute.network import load_network
    from placeplan.compute.run import speed_model as _speed_model
    from placeplan.config import load_plan

    pupils = _csv("pupils.csv")
    postcodes = _csv("postcodes.csv").set_index("postcode")
    plan = load_plan(SAMPLE / "plan.toml")
    net = load_network(SAMPLE / "roads-drive.osm.pbf", speed_model=_speed_model(plan))
    homes = postcodes.loc[pupils["postcode"].unique()]
    origins = pd.DataFrame({"id": homes.index, "x": homes["easting"].astype(float).to_numpy(),
                            "y": homes["northing"].astype(float).to_numpy()})  # fmt: skip
    dests = pd.DataFrame({
        "id": provision["setting_id"], "x": provision["easting"].astype(float),
        "y": provision["northing"].astype(float),
        "ferry_required": provision["ferry_required"] == "true",
    })  # fmt: skip
    journeys, _ = journey_matrix(
        net, origins, dests, ferry_links=plan.network.ferry_links,
        mainland=MainlandLeg(plan.network.mainland_circuity, plan.network.mainland_speed_kph),
        fixed_allowance_min=plan.network.fixed_allowance_min,
        max_snap_m=plan.network.max_snap_m, use_cache=False,
    )  # fmt: skip
    t = journeys.pivot(index="origin_id", columns="destination_id", values="travel_time_min")
    t = t.reindex(index=pupils["postcode"], columns=provision["setting_id"]).to_numpy(float)
    ids = provision["setting_id"].to_numpy()
    col = pd.Index(ids).get_indexer(pupils["current_setting_id"])
    mine = t[np.arange(len(pupils)), col]
    assert not np.isnan(mine).any()
    # compatible[i, j]: same provision type, serves the pupil's NC year and need
    year = pupils["nc_year"].astype(int).to_numpy()
    ptype = provision["provision_type"].to_numpy()
    compatible = ptype[None, :] == ptype[col][:, None]
    for j, s in enumerate(provision.itertuples()):
        lo_hi = [PHASES[p] for p in split_codes(s.phases)]
        compatible[:, j] &= np.any([(year >= lo) & (year <= hi) for lo, hi in lo_hi], axis=0)
        if isinstance(s.needs, str) and s.needs:
            compatible[:, j] &= pupils["need_type"].isin(split_codes(s.needs)).to_numpy()
    nearer = compatible & (t < mine[:, None])
    used = pupils["current_setting_id"].value_counts().reindex(ids).fillna(0).to_numpy()
    island_special = (ptype == "special") & (provision["in_area"] == "true").to_numpy()
    full = (used >= provision["capacity"].astype(int).to_numpy()) & ~island_special
    assert not (nearer & ~full[None, :]).any()
    passed_over = int(nearer.any(axis=1).sum())
    assert passed_over < 0.05 * len(pupils)  # the journey-time rule, not capacity, decides


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "SHA256SUMS").is_file(), reason="needs ../shared/data")
def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    """Same inputs and seed: rebuilding the cohort gives the shipped files byte for byte."""
    out = tmp_path / "iow"
    shutil.copytree(SAMPLE, out)
    for name in ("pupils.csv", "provision.csv", "sen2_check.csv", "ehcp_residential.csv"):
        (out / name).unlink()
    script = REPO / "scripts" / "build_sample_data.py"
    subprocess.run([sys.executable, str(script), "--shared", str(SHARED), "--out", str(out),
                    "--only", "ehcp", "provision"], check=True, capture_output=True)  # fmt: skip
    for name in ("pupils.csv", "provision.csv", "sen2_check.csv", "ehcp_residential.csv"):
        assert (out / name).read_bytes() == (SAMPLE / name).read_bytes(), name
