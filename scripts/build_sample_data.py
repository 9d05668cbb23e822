"""Build the shipped Isle of Wight sample data set from the real open data in ``shared/data``.

Usage::

    .venv/bin/python scripts/build_sample_data.py \
        --shared ../shared/data --out data/sample/isle-of-wight

The script is deterministic: re-running it on the same inputs gives byte-identical outputs.
It checks the SHA-256 of every input it reads against ``SHA256SUMS`` in the shared folder
before using it.
Method, assumptions, licences and attributions are in ``PROVENANCE.md`` next to the outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

logger = logging.getLogger("build_sample_data")

#: Local authorities in the sample (LAD code -> name).
LADS = {"E06000046": "Isle of Wight", "E06000045": "Southampton", "E06000044": "Portsmouth"}
IOW = "E06000046"

INPUTS = {
    "osm": "osm/isle-of-wight-2020-04-22.osm.pbf",
    "codepoint": "postcodes/codepoint-open-2025-04_iow-southampton-portsmouth.csv",
    "ons_pc": "postcodes/ons-postcode-to-lsoa11-2022-05_iow-southampton-portsmouth.csv",
    "lsoa": "boundaries/lsoa2011-bsc_iow-southampton-portsmouth.geojson",
    "outline": "boundaries/isle-of-wight-outline.geojson",
    "imd": "area/imd2019_lsoa11_england.csv",
    "ruc": "area/rural-urban-2011_lsoa11_iow-southampton-portsmouth.csv",
    "lsoa_lookup": "area/lsoa11-to-lsoa21_iow-southampton-portsmouth.csv",
    "population": "area/population-mid2022_lsoa21_iow-southampton-portsmouth.csv",
    "osm_schools": "schools/osm-schools_isle-of-wight_2020-04.csv",
    "edubase": "schools/schools-2018-edubase-subset_iow-southampton-portsmouth.csv",
    "needs": "send/ehcp2025_sen_needs_all_plans_iow-southampton.csv",
    "caseload": "send/ehcp2025_caseload_iow-southampton.csv",
    "residential": "send/ehcp2025_residential_settings_iow-southampton.csv",
}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def verify_inputs(shared: Path) -> dict[str, Path]:
    """Check the SHA-256 of every input used against ``SHA256SUMS``; return their paths."""
    sums: dict[str, str] = {}
    for line in (shared / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix("./")] = digest
    paths = {}
    for key, rel in INPUTS.items():
        path = shared / rel
        if rel not in sums:
            msg = f"`{rel}` is not listed in {shared / 'SHA256SUMS'}"
            raise SystemExit(msg)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != sums[rel]:
            msg = f"SHA-256 mismatch for `{rel}`: expected {sums[rel]}, found {digest}"
            raise SystemExit(msg)
        paths[key] = path
    logger.info("verified SHA-256 of %d inputs", len(paths))
    return paths


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV deterministically (LF line ends, no index)."""
    df.to_csv(path, index=False, lineterminator="\n")
    logger.info("wrote %s (%d rows, %.0f KB)", path.name, len(df), path.stat().st_size / 1024)


def normalise_postcode(pc: pd.Series) -> pd.Series:
    """Normalise postcodes to the ``"PO30 1AA"`` form (upper case, one space before inward code)."""
    s = pc.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    return s.str[:-3] + " " + s.str[-3:]


# --------------------------------------------------------------------------------------------
# 1. roads
# --------------------------------------------------------------------------------------------
#: Car-drivable highway classes kept (osmnx "drive_service" network type).
DRIVE_HIGHWAYS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
    }
)
#: ``service=*`` values dropped (as osmnx "drive_service").
EXCLUDED_SERVICE = frozenset(
    {
        "alley",
        "driveway",
        "emergency_access",
        "parking",
        "parking_aisle",
        "private",
        "drive-through",
    }
)
#: Tags kept on ways (everything routing needs); all other tags and all node tags are removed.
ROAD_TAGS = (
    "highway",
    "maxspeed",
    "oneway",
    "junction",
    "access",
    "motor_vehicle",
    "motorcar",
    "service",
    "name",
    "ref",
    "area",
)
CAR_OK = frozenset({"yes", "designated", "destination", "permissive", "customers", "delivery"})


def is_drivable(tags: object) -> bool:
    """Return whether an OSM way's tags describe a road a car may use (see PROVENANCE.md)."""
    highway = tags.get("highway")  # type: ignore[attr-defined]
    if highway not in DRIVE_HIGHWAYS or tags.get("area") == "yes":  # type: ignore[attr-defined]
        return False
    if highway == "service" and tags.get("service") in EXCLUDED_SERVICE:  # type: ignore[attr-defined]
        return False
    # most specific access tag wins: motorcar > motor_vehicle > access
    for key in ("motorcar", "motor_vehicle", "access"):
        value = tags.get(key)  # type: ignore[attr-defined]
        if value is not None:
            return value in CAR_OK or value not in {"no", "private", "agricultural", "forestry"}
    return True


def build_roads(osm_path: Path, out: Path) -> dict[str, int]:
    """Filter the island OSM extract to car-drivable ways and their nodes, tags trimmed."""
    import osmium

    target = out / "roads-drive.osm.pbf"
    target.unlink(missing_ok=True)
    n_ways = 0
    outfile = osmium.io.File(str(target), "pbf,add_metadata=false,pbf_dense_nodes=true")
    with osmium.BackReferenceWriter(outfile, ref_src=str(osm_path), overwrite=True) as writer:
        for way in osmium.FileProcessor(str(osm_path), osmium.osm.WAY):
            if is_drivable(way.tags):
                kept = {k: way.tags[k] for k in ROAD_TAGS if k in way.tags}
                writer.add_way(way.replace(tags=kept))
                n_ways += 1
    n_nodes = sum(1 for _ in osmium.FileProcessor(str(target), osmium.osm.NODE))
    logger.info("roads: %d drivable ways, %d nodes", n_ways, n_nodes)
    return {"ways": n_ways, "nodes": n_nodes}


# --------------------------------------------------------------------------------------------
# 2. postcodes
# --------------------------------------------------------------------------------------------
def build_postcodes(cp_path: Path, ons_path: Path, out: Path) -> pd.DataFrame:
    """Join Code-Point Open (coordinates, live 2025) with the ONS lookup (LSOA11, terminations)."""
    from scipy.spatial import cKDTree

    cp = pd.read_csv(cp_path, dtype=str, keep_default_na=False)
    ons = pd.read_csv(ons_path, dtype=str, keep_default_na=False)
    cp = pd.DataFrame(
        {
            "postcode": normalise_postcode(cp["Postcode"]),
            "easting": cp["Eastings"].astype(int),
            "northing": cp["Northings"].astype(int),
            "positional_quality": cp["Positional_quality_indicator"].astype(int),
            "cp_lad": cp["Admin_district_code"],
        }
    )
    ons = pd.DataFrame(
        {
            "postcode": normalise_postcode(ons["pcds"]),
            "lsoa11cd": ons["lsoa11cd"].replace("", pd.NA),
            "ons_lad": ons["ladcd"],
            "date_introduced": ons["dointr"].replace("", pd.NA),
            "date_terminated": ons["doterm"].replace("", pd.NA),
        }
    )
    df = cp.merge(ons, on="postcode", how="outer", indicator=True)
    # Code-Point 2025 is authoritative for "live": a postcode it lists is not terminated.
    df.loc[df["_merge"] != "right_only", "date_terminated"] = pd.NA
    df["lad_code"] = df["cp_lad"].fillna(df["ons_lad"])
    # postcodes introduced after May 2022 have no ONS LSOA11: take the nearest ONS-matched live
    # postcode's LSOA11 within the same LAD.
    missing = df["lsoa11cd"].isna() & df["easting"].notna()
    known = df["lsoa11cd"].notna() & df["easting"].notna()
    for lad in sorted(df.loc[missing, "lad_code"].unique()):
        ref = df[known & (df["lad_code"] == lad)]
        tree = cKDTree(ref[["easting", "northing"]].to_numpy(float))
        rows = missing & (df["lad_code"] == lad)
        _, idx = tree.query(df.loc[rows, ["easting", "northing"]].to_numpy(float))
        df.loc[rows, "lsoa11cd"] = ref["lsoa11cd"].to_numpy()[idx]
    logger.info(
        "postcodes: %d live (Code-Point), %d of them LSOA by nearest neighbour, %d ONS-only "
        "(terminated or not in Code-Point 2025)",
        int(df["easting"].notna().sum()),
        int(missing.sum()),
        int((df["_merge"] == "right_only").sum()),
    )
    df = df[df["lad_code"].isin(LADS)]
    cols = [
        "postcode",
        "easting",
        "northing",
        "positional_quality",
        "lsoa11cd",
        "lad_code",
        "date_introduced",
        "date_terminated",
    ]
    df = df[cols].sort_values("postcode", kind="stable").reset_index(drop=True)
    for col in ("easting", "northing", "positional_quality"):
        df[col] = df[col].astype("Int64")
    write_csv(df, out / "postcodes.csv")
    return df


# --------------------------------------------------------------------------------------------
# 3-4. areas and outline
# --------------------------------------------------------------------------------------------
def _round_geom(geom: object, ndigits: int = 5) -> object:
    import shapely

    return shapely.transform(geom, lambda xy: np.round(xy, ndigits))


def _write_geojson(gdf: object, path: Path) -> None:
    """Write a GeoDataFrame as compact, deterministic GeoJSON (EPSG:4326)."""
    import shapely

    features = []
    for row in gdf.itertuples(index=False):  # type: ignore[attr-defined]
        props = {k: getattr(row, k) for k in gdf.columns if k != "geometry"}  # type: ignore[attr-defined]
        props = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in props.items()}
        props = {
            k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in props.items()
        }
        geom = json.loads(shapely.to_geojson(row.geometry))
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    logger.info(
        "wrote %s (%d features, %.0f KB)", path.name, len(features), path.stat().st_size / 1024
    )


def build_lsoa(paths: dict[str, Path], out: Path) -> object:
    """LSOA 2011 polygons of the three LAs with IMD 2019, RUC 2011 and mid-2022 population."""
    import geopandas as gpd

    gdf = gpd.read_file(paths["lsoa"]).to_crs("EPSG:4326")
    imd = pd.read_csv(paths["imd"], dtype={"lsoa11cd": str})
    ruc = pd.read_csv(paths["ruc"], dtype=str)
    lookup = pd.read_csv(paths["lsoa_lookup"], dtype=str)
    pop21 = pd.read_csv(paths["population"], dtype={"lsoacd": str})
    # population: LSOA21 -> LSOA11. A split LSOA11 (-> several LSOA21) sums its parts; a merge
    # (several LSOA11 -> one LSOA21) shares the LSOA21 population equally between the LSOA11s.
    lk = lookup[["LSOA11CD", "LSOA21CD"]].drop_duplicates()
    lk = lk.merge(pop21.rename(columns={"lsoacd": "LSOA21CD"}), on="LSOA21CD", how="left")
    lk["share"] = lk["population"] / lk.groupby("LSOA21CD")["LSOA11CD"].transform("size")
    pop11 = lk.groupby("LSOA11CD")["share"].sum().round().astype("Int64")
    n_split = int(lk["LSOA11CD"].duplicated().sum())
    n_merge = int(lk["LSOA21CD"].duplicated().sum())
    logger.info("lsoa: LSOA11->21 lookup has %d splits and %d merges", n_split, n_merge)

    gdf = gdf.rename(columns={"LSOA11CD": "area_id", "LSOA11NM": "name", "lad19cd": "lad_code"})
    gdf = gdf.merge(
        imd[["lsoa11cd", "imd_rank", "imd_decile"]],
        left_on="area_id",
        right_on="lsoa11cd",
        how="left",
    )
    gdf = gdf.merge(
        ruc[["LSOA11CD", "RUC11CD"]], left_on="area_id", right_on="LSOA11CD", how="left"
    )
    gdf["ruc11cd"] = gdf["RUC11CD"]
    # RUC11: A1-C2 urban (major/minor conurbation, city and town), D1-E2 rural (town and fringe,
    # village and dispersed)
    gdf["ruc_class"] = np.where(gdf["ruc11cd"].str[0].isin(["A", "B", "C"]), "urban", "rural")
    gdf["population"] = gdf["area_id"].map(pop11)
    gdf["geometry"] = [_round_geom(g) for g in gdf.geometry]
    invalid = int((~gdf.is_valid).sum())
    if invalid:
        msg = f"{invalid} LSOA polygons are invalid after rounding to 5 decimals"
        raise SystemExit(msg)
    cols = [
        "area_id",
        "name",
        "lad_code",
        "imd_rank",
        "imd_decile",
        "ruc11cd",
        "ruc_class",
        "population",
        "geometry",
    ]
    gdf = gdf[cols].sort_values("area_id", kind="stable").reset_index(drop=True)
    for col in ("imd_rank", "imd_decile", "population"):
        gdf[col] = gdf[col].astype("Int64")
    if gdf[["imd_rank", "ruc11cd", "population"]].isna().any().any():
        raise SystemExit("lsoa: missing IMD, RUC or population for some LSOA")
    _write_geojson(gdf, out / "lsoa.geojson")
    return gdf


def build_outline(path: Path, out: Path, *, tolerance_m: float = 40.0) -> object:
    """Simplified island outline (EPSG:4326, 5-decimal coordinates); slivers under 1 ha dropped."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(path).to_crs("EPSG:27700")
    geom = shapely.simplify(gdf.union_all(), tolerance_m, preserve_topology=True)
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.area >= 10_000]
    geom = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    geom = gpd.GeoSeries([geom], crs="EPSG:27700").to_crs("EPSG:4326").iloc[0]
    geom = shapely.make_valid(_round_geom(geom))
    res = gpd.GeoDataFrame(
        {"name": ["Isle of Wight"], "lad_code": [IOW]}, geometry=[geom], crs="EPSG:4326"
    )
    _write_geojson(res, out / "island-outline.geojson")
    return res


# --------------------------------------------------------------------------------------------
# 5. EHCP statistics (tidy)
# --------------------------------------------------------------------------------------------
NEED_COLUMNS = {
    "number_asd": "ASD",
    "number_hi": "HI",
    "number_mld": "MLD",
    "number_msi": "MSI",
    "number_oth": "OTH",
    "number_pd": "PD",
    "number_pmld": "PMLD",
    "number_semh": "SEMH",
    "number_slcn": "SLCN",
    "number_sld": "SLD",
    "number_spld": "SPLD",
    "number_vi": "VI",
    "number_need_unknown": "",
}
#: DfE caseload column -> placement type (provision_type vocabulary where meaningful). Totals and
#: percentages are left out (derivable). `other` = educated elsewhere (EHE, NEET, other
#: arrangements).
PLACEMENT_COLUMNS = {
    "mainstream_la_maintained": "mainstream",
    "mainstream_la_maintained_resourced_provision": "inclusion_base",
    "mainstream_la_maintained_senunit": "inclusion_base",
    "mainstream_academy": "mainstream",
    "mainstream_academy_resourced_provision": "inclusion_base",
    "mainstream_academy_senunit": "inclusion_base",
    "mainstream_free_school": "mainstream",
    "mainstream_free_school_resourced_provision": "inclusion_base",
    "mainstream_free_school_senunit": "inclusion_base",
    "mainstream_independent": "mainstream",
    "special_la_maintained": "special",
    "special_academy_free": "special",
    "special_independent": "independent",
    "special_non_maintained": "non_maintained",
    "ap_pru_academy": "ap",
    "ap_pru_free_school": "ap",
    "ap_pru_la_maintained": "ap",
    "general_fe_tertiary_colleges": "fe",
    "specialist_post_16_institutions": "fe",
    "ukrlp_provider": "fe",
    "elective_home_education": "other",
    "other_arrangements_la": "other",
    "other_arrangements_parents": "other",
    "online_provider": "other",
    "w_settings": "other",
    "other_schools": "other",
    "other_placement_settings": "other",
    "neet": "other",
    "neet_ntci": "other",
    "neet_other": "other",
    "neet_other_csa": "other",
    "nm_early_years": "early_years",
    "placement_unknown": "unknown",
    "await_prov_2022": "other",  # awaiting provision (collected until 2021/22)
    "perm_ex_2022": "other",  # permanently excluded (collected until 2021/22)
}
#: DfE "Type of placement" breakdown (needs table) -> placement type. Totals rows are left out.
PLACEMENT_BREAKDOWNS = {
    "Mainstream - LA maintained": "mainstream",
    "Mainstream - academy": "mainstream",
    "Mainstream - free school": "mainstream",
    "Mainstream - independent": "mainstream",
    "Special - LA maintained": "special",
    "Special - academy/free": "special",
    "Special - independent": "independent",
    "Special - non-maintained": "non_maintained",
    "FE - general FE and tertiary colleges": "fe",
    "FE - specialist post-16 institutions": "fe",
    "FE - UKRLP provider": "fe",
    "Non-maintained early years": "early_years",
    "Placement not recorded": "unknown",
}
#: DfE residential settings columns: 38-51 week, 52 week placements and their total.
RESIDENTIAL_COLUMNS = ("Res_3851", "Res_52", "Res_tot")
#: Placement types modelled in the synthetic cohort (the rest are kept out and counted).
MODELLED = ("mainstream", "inclusion_base", "special", "independent", "non_maintained", "ap", "fe")


def _placement_of_breakdown(text: str) -> str | None:
    if text in PLACEMENT_BREAKDOWNS:
        return PLACEMENT_BREAKDOWNS[text]
    if "(resourced provision)" in text or "SEN unit" in text:
        return "inclusion_base"
    if text.startswith("AP/PRU") and not text.endswith("total"):
        return "ap"
    if text.startswith("Educated elsewhere") and not text.endswith("total"):
        return "other"
    return None


def _count(values: pd.Series) -> pd.Series:
    """DfE cell -> nullable integer; suppressed ``x``, ``c``, ``z`` (and blanks) become missing."""
    v = values.astype("string").str.strip()
    v = v.mask(v.isin(["x", "c", "z", "", "u", ":"]))
    return pd.to_numeric(v, errors="raise").astype("Int64")


def build_ehcp(paths: dict[str, Path], out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy long EHCP counts by primary need and by type of placement (IoW and Southampton)."""
    keys = ["la_name", "new_la_code", "time_period", "breakdown_topic", "breakdown"]
    needs = pd.read_csv(paths["needs"], dtype=str, keep_default_na=False)
    needs = needs[
        needs["breakdown_topic"].isin(
            ["All EHC plans", "Child or young persons age", "Type of placement"]
        )
    ]
    by_need = needs.melt(
        id_vars=keys, value_vars=list(NEED_COLUMNS), var_name="dfe_column", value_name="count"
    )
    by_need["need_type"] = by_need["dfe_column"].map(NEED_COLUMNS).replace("", pd.NA)
    by_need["count"] = _count(by_need["count"])
    by_need = by_need.rename(columns={"new_la_code": "la_code"})
    cols = [
        "la_name",
        "la_code",
        "time_period",
        "breakdown_topic",
        "breakdown",
        "need_type",
        "dfe_column",
        "count",
    ]
    by_need = by_need[cols].sort_values([*cols[:5], "dfe_column"], kind="stable")
    write_csv(by_need, out / "ehcp_by_need.csv")

    case = pd.read_csv(paths["caseload"], dtype=str, keep_default_na=False)
    latest = case["time_period"].max()
    case = case[
        (case["breakdown_topic"] == "All EHC plans")
        | (
            (case["breakdown_topic"] == "Child or young persons age")
            & (case["time_period"] == latest)
        )
    ]
    by_place = case.melt(
        id_vars=keys, value_vars=list(PLACEMENT_COLUMNS), var_name="dfe_column", value_name="count"
    )
    by_place["placement_type"] = by_place["dfe_column"].map(PLACEMENT_COLUMNS)
    by_place["count"] = _count(by_place["count"])
    by_place = by_place.rename(columns={"new_la_code": "la_code"})
    cols = [
        "la_name",
        "la_code",
        "time_period",
        "breakdown_topic",
        "breakdown",
        "placement_type",
        "dfe_column",
        "count",
    ]
    by_place = by_place[cols].sort_values([*cols[:5], "dfe_column"], kind="stable")
    # check: the detailed columns add up to the published total of plans where nothing is suppressed
    total = case.set_index(keys)["ehcplans"].astype(int)
    summed = by_place.groupby(
        ["la_name", "la_code", "time_period", "breakdown_topic", "breakdown"]
    )["count"].sum(min_count=1)
    summed.index = summed.index.set_names(keys)
    diff = (summed - total.reindex(summed.index)).abs()
    logger.info(
        "ehcp_by_placement: %d of %d rows add up to the published total",
        int((diff == 0).sum()),
        len(diff),
    )
    write_csv(by_place, out / "ehcp_by_placement.csv")

    res = pd.read_csv(paths["residential"], dtype=str, keep_default_na=False)
    res = res[res["breakdown_topic"] == "All residential placements"]
    by_res = res.melt(
        id_vars=keys, value_vars=list(RESIDENTIAL_COLUMNS), var_name="dfe_column",
        value_name="count",
    )  # fmt: skip
    by_res["count"] = _count(by_res["count"])
    by_res = by_res.rename(columns={"new_la_code": "la_code"})
    cols = ["la_name", "la_code", "time_period", "breakdown_topic", "breakdown", "dfe_column",
            "count"]  # fmt: skip
    by_res = by_res[cols].sort_values([*cols[:5], "dfe_column"], kind="stable")
    write_csv(by_res, out / "ehcp_residential.csv")
    return by_need, by_place


# --------------------------------------------------------------------------------------------
# 6-7. provision, costs, candidate sites
# --------------------------------------------------------------------------------------------
#: Annual cost per place by provision type (GBP, national-order sample assumptions; see costs.csv).
COSTS: dict[str, tuple[int, str]] = {
    "mainstream": (
        9_000,
        "SEND top-up (element 3) for an EHCP pupil in mainstream; national order "
        "£8-10k (DESIGN.md)",
    ),
    "inclusion_base": (
        18_000,
        "resourced provision / SEN unit place: £6k place funding + top-up; "
        "national order £15-20k (DESIGN.md)",
    ),
    "special": (
        25_000,
        "LA maintained / academy special school: £10k place funding + top-up; "
        "state special national order £10-30k (DESIGN.md)",
    ),
    "ap": (20_000, "alternative provision / PRU place: £10k place funding + top-up (assumption)"),
    "fe": (12_000, "FE college high-needs student: £6k element 2 + top-up (assumption)"),
    "non_maintained": (
        45_000,
        "non-maintained special school day place (assumption, between "
        "state special and independent)",
    ),
    "independent": (
        52_000,
        "independent special school place, national average order £52k (DESIGN.md)",
    ),
}
#: Capital cost per new inclusion-base place (GBP): conversion/refurbishment of existing mainstream
#: space, sample assumption in the DfE/LA feasibility range of ~£40-60k per place.
CAPITAL_COST_PER_PLACE_GBP = 50_000
#: Mainstream roll assumed as a share of capacity (the island has surplus places: falling rolls).
MAINSTREAM_ROLL_SHARE = 0.88
#: Typical capacities used when the edubase subset has none (documented in PROVENANCE.md).
FALLBACK_CAPACITY = {
    "primary": 210,
    "secondary": 1200,
    "post16": 600,
    "fe": 1500,
    "ap": 40,
    "special": 80,
    "independent_mainstream": 300,
}

#: OSM school features that are not schools in their own right (dropped; see PROVENANCE.md).
OSM_NOT_SCHOOLS = ("children's centre", "valley centre")
#: OSM names that need a hand match to the edubase name.
OSM_TO_EDUBASE = {
    "6 Form at the Isle of Wight College": "The Isle of Wight College",
    "The Bay CE School": "The Bay Church of England Primary",
    "Green Mount Primary School": "Green Mount Primary School",
    "Greenmount Primary School": "Green Mount Primary School",
    "Northwood County Primary School": "Northwood Primary School",
    "St Blasius Shanklin Church of England Primary School": (
        "St Blasius Shanklin CofE Primary Academy"
    ),
    "Oakfield C of E Primary School": "Oakfield Church of England Aided Primary School, Ryde",
    "Queensgate Foundation Primary School": "Queensgate Foundation Primary",
    "All Saints Church of England Primary School": (
        "All Saints Church of England Primary School, Freshwater"
    ),
    "The Bay CE School ": "The Bay Church of England Primary",
}
#: OSM features without a URN that are kept although no edubase school matches them.
OSM_KEEP_UNMATCHED = {"The Island VI Form": ("mainstream", "post16")}
#: Edubase 2018 island schools with no OSM 2020 feature, superseded before 2020 (not added).
EDUBASE_SUPERSEDED = {
    "Sandown Bay Academy": "merged into The Bay CE School (URN 136013) in 2019",
    "The Bay Church of England Primary": "merged into The Bay CE School (URN 136013) in 2019",
    "Isle of Wight Studio School": "closed 2018",
}
#: Hand-set attributes of island settings (sample assumptions from public school information:
#: statutory age ranges, sixth forms, SEND designations; check against GIAS before real use).
ISLAND_OVERRIDES: dict[str, dict[str, object]] = {
    "St George's School": {"provision_type": "special", "phases": "secondary;post16"},
    "Medina House Primary School": {"provision_type": "special", "phases": "primary"},
    "St Catherine's School": {
        "provision_type": "non_maintained",
        "phases": "primary;secondary;post16",
        "capacity": 80,
    },
    "Island Learning Centre": {"provision_type": "ap", "phases": "primary;secondary"},
    "6 Form at the Isle of Wight College": {
        "provision_type": "fe",
        "phases": "post16",
        "name": "The Isle of Wight College",
    },
    "The Bay CE School": {"phases": "primary;secondary", "capacity": 420 + 1650},
    "Christ The King College": {"phases": "secondary;post16"},
    "Cowes Enterprise College": {"phases": "secondary;post16"},
    "Ryde Academy": {"phases": "secondary;post16"},
    "Ryde School with Upper Chine": {"phases": "primary;secondary;post16"},
    "Priory School": {"phases": "primary;secondary"},
}
#: Existing inclusion bases (resourced provision) in island mainstream schools — SAMPLE ASSUMPTION:
#: host name, need(s), places.
EXISTING_BASES = [
    ("Hunnyhill Primary School", "ASD", 12),
    ("Nine Acres Primary School", "HI", 8),
    ("Carisbrooke College", "ASD;SEMH", 16),
]
#: Mainland special and independent settings used by island pupils (Southampton / Portsmouth;
#: names and locations from the edubase 2018 subset; type, phases and needs are documented sample
#: assumptions): name -> (provision_type, phases, needs, fallback capacity).
MAINLAND = {
    "The Polygon School": ("special", "secondary", "SEMH", None),
    "Springwell School": ("special", "primary", "ASD;SLD;MLD;SLCN;PMLD", None),
    "Vermont School": ("special", "primary", "SEMH", None),
    "The Cedar School": ("special", "primary;secondary", "PD;PMLD;SLD;MSI;HI;VI", 80),
    "Great Oaks School": ("special", "secondary;post16", "MLD;ASD;SLCN;SLD", None),
    "Rosewood Free School": ("special", "primary;secondary;post16", "PMLD;SLD;MSI", None),
    "The Serendipity School": ("independent", "secondary", "SEMH", None),
    "Assure Community College": ("independent", "secondary;post16", "", None),
    "The Harbour School": ("special", "primary;secondary", "SEMH", None),
    "Cliffdale Primary School": ("special", "primary", "ASD;MLD;SLCN", None),
    "Redwood Park Academy": ("special", "secondary;post16", "MLD;ASD;SLCN;SEMH", None),
    "Mary Rose School": ("special", "primary;secondary;post16", "SLD;PMLD;ASD;MSI;PD", None),
}
#: Candidate inclusion-base sites — SAMPLE ASSUMPTION spread over the island's towns:
#: (host name, town, needs, phase, places).
CANDIDATES = [
    ("Barton Primary School", "Newport", "ASD", "primary", 12),
    ("Medina College", "Newport", "ASD", "secondary", 16),
    ("Christ The King College", "Newport", "SEMH", "secondary", 12),
    ("Haylands Primary School", "Ryde", "SLCN", "primary", 10),
    ("Ryde Academy", "Ryde", "ASD", "secondary", 16),
    ("Oakfield C of E Primary School", "Ryde", "SEMH", "primary", 8),
    ("Cowes Enterprise College", "Cowes", "ASD", "secondary", 16),
    ("Cowes Primary School", "Cowes", "SLCN", "primary", 10),
    ("Queensgate Foundation Primary School", "East Cowes", "ASD", "primary", 12),
    ("The Bay CE School", "Sandown", "SEMH", "primary", 12),
    ("Broadlea Primary School", "Lake/Shanklin", "ASD", "primary", 12),
    ("The Island Free School", "Ventnor", "SEMH", "secondary", 12),
    ("St Francis Catholic and Church of England Primary Academy", "Ventnor", "SLCN", "primary", 8),
    ("All Saints Church of England Primary School", "Freshwater", "ASD", "primary", 8),
    ("Bembridge Church of England Primary School", "Bembridge", "SLCN", "primary", 8),
    ("Wootton Community Primary School", "Wootton", "SEMH", "primary", 8),
]

PROVISION_COLUMNS = [
    "setting_id",
    "name",
    "provision_type",
    "host_setting_id",
    "phases",
    "needs",
    "capacity",
    "on_roll",
    "easting",
    "northing",
    "in_area",
    "annual_cost_per_place_gbp",
    "ferry_required",
]


def _norm_name(name: str) -> str:
    import re

    s = name.lower().replace("&", " and ")
    s = re.sub(r"church of england|c of e|cofe|\bce\b", "ce", s)
    s = re.sub(r"[^a-z ]", " ", s)
    return " ".join(s.split())


def _to_bng(lon: pd.Series, lat: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = tr.transform(lon.to_numpy(float), lat.to_numpy(float))
    return np.round(x, 1), np.round(y, 1)


def _edubase_phase(group: str, phase: str) -> tuple[str, str]:
    """(provision_type, phases) from the edubase type group and phase."""
    if group == "Special schools":
        return "special", "primary;secondary"
    if group == "Colleges" or phase == "16 plus":
        return "fe", "post16"
    if group == "Independent schools":
        return "mainstream", "primary;secondary"
    return "mainstream", {
        "Primary": "primary",
        "Secondary": "secondary",
        "All through": "primary;secondary",
    }.get(phase, "primary")


def build_provision(paths: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Island settings (OSM + edubase), existing bases, mainland settings; plus a sources table."""
    import difflib

    osm = pd.read_csv(paths["osm_schools"], dtype=str, keep_default_na=False)
    edu = pd.read_csv(paths["edubase"], dtype=str, keep_default_na=False)
    edu.columns = ["name", "group", "phase", "gender", "capacity", "ofsted", "lat", "lng"]
    edu["capacity"] = pd.to_numeric(edu["capacity"].replace("", pd.NA)).astype("Float64")
    edu["x"], edu["y"] = _to_bng(edu["lng"], edu["lat"])
    edu["key"] = edu["name"].map(_norm_name)
    stats = {"osm_features": len(osm)}

    # --- island: OSM features --------------------------------------------------------------
    osm = osm[osm["name"].str.strip() != ""]
    osm = osm[~osm["name"].str.lower().str.contains("|".join(OSM_NOT_SCHOOLS))]
    osm["x"], osm["y"] = _to_bng(osm["lon"], osm["lat"])
    # one row per URN (a school mapped as several polygons: mean of their centroids)
    with_urn = osm[osm["ref_edubase_urn"] != ""]
    merged = with_urn.groupby("ref_edubase_urn", sort=True).agg(
        name=("name", "first"),
        osm_type=("osm_type", "first"),
        osm_id=("osm_id", "first"),
        x=("x", "mean"),
        y=("y", "mean"),
    )
    merged = merged.reset_index()
    merged["x"], merged["y"] = merged["x"].round(1), merged["y"].round(1)
    no_urn = osm[osm["ref_edubase_urn"] == ""].copy()
    import geopandas as gpd

    outline = gpd.read_file(paths["outline"]).to_crs("EPSG:27700").union_all()
    on_island = gpd.GeoSeries(gpd.points_from_xy(edu["x"], edu["y"]), crs="EPSG:27700").within(
        outline.buffer(200)
    )
    island_edu = edu[on_island.to_numpy()]
    rows = []
    used_edu: set[str] = set()

    def match(name: str, x: float, y: float) -> tuple[pd.Series | None, str]:
        target = OSM_TO_EDUBASE.get(name)
        if target is not None:
            hit = island_edu[island_edu["name"] == target]
            if len(hit):
                return hit.iloc[0], "hand"
        key = _norm_name(name)
        hit = island_edu[island_edu["key"] == key]
        if len(hit):
            return hit.iloc[0], "exact"
        near = island_edu[np.hypot(island_edu["x"] - x, island_edu["y"] - y) < 1000]
        if len(near):
            ratios = near["key"].map(lambda k: difflib.SequenceMatcher(None, key, k).ratio())
            best = ratios.idxmax()
            if ratios[best] >= 0.8:
                return near.loc[best], "fuzzy"
        return None, "none"

    candidates = [
        (r.ref_edubase_urn, r.name, r.osm_type, r.osm_id, r.x, r.y) for r in merged.itertuples()
    ]
    candidates += [("", r.name, r.osm_type, r.osm_id, r.x, r.y) for r in no_urn.itertuples()]
    dropped = []
    for urn, name, osm_type, osm_id, x, y in candidates:
        hit, how = match(name, x, y)
        if not urn and hit is None and name not in OSM_KEEP_UNMATCHED:
            dropped.append(name)  # closed school, split site of a school with a URN, ...
            continue
        setting_id = urn or f"OSM-{osm_type}-{osm_id}"
        if hit is not None:
            ptype, phases = _edubase_phase(hit["group"], hit["phase"])
            cap = hit["capacity"]
            used_edu.add(hit["name"])
        else:
            ptype, phases = OSM_KEEP_UNMATCHED[name]
            cap = pd.NA
        row = {
            "setting_id": setting_id,
            "name": name,
            "provision_type": ptype,
            "phases": phases,
            "capacity": cap,
            "x": x,
            "y": y,
            "source": f"OSM {osm_type} {osm_id}",
            "edubase_name": None if hit is None else hit["name"],
            "match": how,
        }
        row.update(ISLAND_OVERRIDES.get(name, {}))
        rows.append(row)
    stats["osm_kept"] = len(rows)
    stats["osm_dropped"] = len(dropped)
    stats["osm_matched"] = sum(r["match"] != "none" for r in rows)
    logger.info("provision: dropped OSM features without URN or school match: %s", dropped)
    # edubase island schools with no OSM feature and not superseded
    for r in island_edu.itertuples():
        if r.name in used_edu or r.name in EDUBASE_SUPERSEDED:
            continue
        ptype, phases = _edubase_phase(r.group, r.phase)
        slug = "-".join(_norm_name(r.name).split())
        rows.append(
            {
                "setting_id": f"GIAS2018-{slug}",
                "name": r.name,
                "provision_type": ptype,
                "phases": phases,
                "capacity": r.capacity,
                "x": r.x,
                "y": r.y,
                "source": "edubase 2018 subset (no OSM feature)",
                "edubase_name": r.name,
                "match": "edubase_only",
            }
        )
    island = pd.DataFrame(rows)
    island["needs"] = ""
    island["in_area"] = True
    island["ferry_required"] = False
    island["host_setting_id"] = pd.NA
    # capacities: edubase, else a documented typical value
    fallback = []
    for i, r in island.iterrows():
        if pd.isna(r["capacity"]):
            if r["provision_type"] == "mainstream":
                key = r["phases"].split(";")[-1] if r["phases"] != "post16" else "post16"
            else:
                key = r["provision_type"]
            island.loc[i, "capacity"] = FALLBACK_CAPACITY.get(key, 210)
            fallback.append(r["name"])
    stats["capacity_fallback"] = len(fallback)
    logger.info("provision: typical capacity used for %s", fallback)

    # --- existing inclusion bases (sample assumption) -----------------------------------------
    bases = []
    for host_name, needs, places in EXISTING_BASES:
        host = island[island["name"] == host_name].iloc[0]
        bases.append(
            {
                "setting_id": f"{host['setting_id']}-IB-{needs.split(';')[0]}",
                "name": f"{host_name} inclusion base ({needs.replace(';', '/')})",
                "provision_type": "inclusion_base",
                "host_setting_id": host["setting_id"],
                "phases": host["phases"].replace(";post16", ""),
                "needs": needs,
                "capacity": places,
                "x": host["x"],
                "y": host["y"],
                "in_area": True,
                "ferry_required": False,
                "source": "sample assumption",
                "edubase_name": None,
                "match": "assumption",
            }
        )

    # --- mainland settings --------------------------------------------------------------------
    mainland = []
    for name, (ptype, phases, needs, cap_fb) in MAINLAND.items():
        hit = edu[edu["name"] == name].iloc[0]
        cap = hit["capacity"] if not pd.isna(hit["capacity"]) else cap_fb
        slug = "-".join(_norm_name(name).split())
        mainland.append(
            {
                "setting_id": f"OOA-{slug}",
                "name": name,
                "provision_type": ptype,
                "host_setting_id": pd.NA,
                "phases": phases,
                "needs": needs,
                "capacity": cap,
                "x": hit["x"],
                "y": hit["y"],
                "in_area": False,
                "ferry_required": True,
                "source": "edubase 2018 subset",
                "edubase_name": name,
                "match": "capacity fallback" if pd.isna(hit["capacity"]) else "exact",
            }
        )

    prov = pd.concat([island, pd.DataFrame(bases), pd.DataFrame(mainland)], ignore_index=True)
    prov["capacity"] = prov["capacity"].astype(float).round().astype(int)
    prov["annual_cost_per_place_gbp"] = prov["provision_type"].map(
        {k: float(v[0]) for k, v in COSTS.items()}
    )
    prov = prov.rename(columns={"x": "easting", "y": "northing"})
    prov = prov.sort_values(
        ["in_area", "provision_type", "setting_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    sources = prov[["setting_id", "name", "source", "edubase_name", "match"]].copy()
    return prov, sources, stats


def write_provision(prov: pd.DataFrame, pupils: pd.DataFrame | None, out: Path) -> pd.DataFrame:
    """Set ``on_roll`` (see PROVENANCE.md) and write provision.csv."""
    prov = prov.copy()
    placed = (
        pupils["current_setting_id"].value_counts() if pupils is not None else pd.Series(dtype=int)
    )
    send_only = prov["provision_type"].isin(
        ["special", "non_maintained", "independent", "ap", "inclusion_base"]
    )
    roll = np.where(
        ~prov["in_area"],
        prov["capacity"],
        np.where(
            send_only,
            prov["setting_id"].map(placed).fillna(0),
            np.round(prov["capacity"] * MAINSTREAM_ROLL_SHARE),
        ),
    )
    prov["on_roll"] = roll.astype(int)
    prov["in_area"] = prov["in_area"].map({True: "true", False: "false"})
    prov["ferry_required"] = prov["ferry_required"].map({True: "true", False: "false"})
    prov = prov[PROVISION_COLUMNS]
    write_csv(prov, out / "provision.csv")
    return prov


def write_costs(out: Path) -> None:
    """costs.csv: the single labelled place for per-place cost assumptions."""
    rows = [
        {"provision_type": k, "annual_cost_per_place_gbp": v[0], "basis": v[1]}
        for k, v in COSTS.items()
    ]
    rows.append(
        {
            "provision_type": "inclusion_base_capital_per_place",
            "annual_cost_per_place_gbp": CAPITAL_COST_PER_PLACE_GBP,
            "basis": "ONE-OFF capital cost per new inclusion-base place (not annual): "
            "conversion of existing mainstream space, ~£40-60k per place "
            "(sample assumption)",
        }
    )
    write_csv(pd.DataFrame(rows), out / "costs.csv")


def build_candidates(prov: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Candidate inclusion-base sites in island mainstream schools (sample assumption)."""
    rows = []
    for host_name, town, needs, phase, places in CANDIDATES:
        host = prov[(prov["name"] == host_name) & (prov["provision_type"] == "mainstream")]
        if len(host) != 1:
            msg = f"candidate host `{host_name}` not found once in provision"
            raise SystemExit(msg)
        host = host.iloc[0]
        rows.append(
            {
                "site_id": f"{host['setting_id']}-IB-{needs}",
                "host_setting_id": host["setting_id"],
                "name": f"{host_name} ({town}) — new {needs} base",
                "needs": needs,
                "phases": phase,
                "places": places,
                "capital_cost_gbp": float(places * CAPITAL_COST_PER_PLACE_GBP),
                "annual_cost_per_place_gbp": float(COSTS["inclusion_base"][0]),
                "easting": host["easting"],
                "northing": host["northing"],
            }
        )
    df = pd.DataFrame(rows)
    write_csv(df, out / "candidate_sites.csv")
    return df


# --------------------------------------------------------------------------------------------
# 8. synthetic pupils
# --------------------------------------------------------------------------------------------
#: Seed of the shipped synthetic cohort.
SEED = 20250422
ALL_PLACEMENTS = (*MODELLED, "other", "early_years", "unknown")


def _age_of(label: str) -> int | None:
    """DfE age label -> age in years ("under 3" -> None)."""
    return int(label.removeprefix("age ")) if label.startswith("age ") else None


def cohort_inputs(paths: dict[str, Path]) -> dict[str, object]:
    """Need x placement counts and NC-year weights for Isle of Wight 2024/25 (see PROVENANCE.md).

    The joint need x placement table is published (DfE plans by primary need, "Type of placement"
    rows), so it is used as the IPF prior and is reproduced exactly. The NC-year weights come from a
    three-way IPF of need x placement x age fitted to the three published two-way tables
    (need x placement, need x age, placement x age), sliced to the modelled placement types.
    Age (at 31 August) a -> NC year a - 4, clipped to -1..14 (19-25-year-olds -> 14).
    Plans whose need is not recorded are given code OTH (the island records no OTH plans).
    """
    la, period = "Isle of Wight", "202425"
    needs_tab = pd.read_csv(paths["needs"], dtype=str, keep_default_na=False)
    needs_tab = needs_tab[(needs_tab["la_name"] == la) & (needs_tab["time_period"] == period)]
    need_cols = list(NEED_COLUMNS)
    codes = sorted({NEED_COLUMNS[c] or "OTH" for c in need_cols})

    def need_vector(row: pd.Series) -> np.ndarray:
        v = np.zeros(len(codes))
        for col in need_cols:
            v[codes.index(NEED_COLUMNS[col] or "OTH")] += int(row[col])
        return v

    ages = list(range(3, 26))
    np_tab = np.zeros((len(codes), len(ALL_PLACEMENTS)))
    na_tab = np.zeros((len(codes), len(ages)))
    for _, row in needs_tab.iterrows():
        if row["breakdown_topic"] == "Type of placement":
            place = _placement_of_breakdown(row["breakdown"])
            if place is not None:
                np_tab[:, ALL_PLACEMENTS.index(place)] += need_vector(row)
        elif row["breakdown_topic"] == "Child or young persons age":
            age = _age_of(row["breakdown"])
            if age is not None:
                na_tab[:, ages.index(age)] += need_vector(row)
    case = pd.read_csv(paths["caseload"], dtype=str, keep_default_na=False)
    case = case[
        (case["la_name"] == la)
        & (case["time_period"] == period)
        & (case["breakdown_topic"] == "Child or young persons age")
    ]
    pa_tab = np.zeros((len(ALL_PLACEMENTS), len(ages)))
    for _, row in case.iterrows():
        age = _age_of(row["breakdown"])
        if age is None:
            continue
        for col, place in PLACEMENT_COLUMNS.items():
            value = _count(pd.Series([row[col]])).iloc[0]
            if value is not pd.NA:
                pa_tab[ALL_PLACEMENTS.index(place), ages.index(age)] += int(value)
    total = int(np_tab.sum())
    logger.info(
        "cohort: %d IoW plans by need x placement, %d by need x age (3-25), %d by "
        "placement x age (3-25)",
        total,
        int(na_tab.sum()),
        int(pa_tab.sum()),
    )
    # three-way IPF; the margins differ slightly (2 plans of under-3s are outside the age range),
    # so need x placement is fitted last and holds (to within rounding) at the end
    from placeplan.prepare.synthetic import fit_ipf

    fitted = fit_ipf(
        np.ones((len(codes), len(ALL_PLACEMENTS), len(ages))),
        [((0, 2), na_tab), ((1, 2), pa_tab), ((0, 1), np_tab)],
        max_iter=500,
    )
    modelled = [ALL_PLACEMENTS.index(p) for p in MODELLED]
    joint = pd.DataFrame(np_tab[:, modelled].astype(int), index=codes, columns=list(MODELLED))
    weights = []
    for i, need in enumerate(codes):
        for j in modelled:
            for k, age in enumerate(ages):
                if fitted[i, j, k] > 0:
                    weights.append(
                        {
                            "need_type": need,
                            "placement_type": ALL_PLACEMENTS[j],
                            "nc_year": min(max(age - 4, -1), 14),
                            "weight": float(fitted[i, j, k]),
                        }
                    )
    excluded = {
        p: int(np_tab[:, ALL_PLACEMENTS.index(p)].sum())
        for p in ALL_PLACEMENTS
        if p not in MODELLED
    }
    return {
        "joint": joint,
        "need_counts": {k: int(v) for k, v in joint.sum(axis=1).items() if v > 0},
        "placement_counts": {k: int(v) for k, v in joint.sum(axis=0).items() if v > 0},
        "nc_year_weights": pd.DataFrame(weights),
        "excluded": excluded,
        "total_plans": total,
    }


def cohort_journeys(out: Path, prov: pd.DataFrame, postcodes: pd.DataFrame) -> pd.DataFrame:
    """Road + ferry journeys from every live island postcode to every setting, as the demo runs.

    Same network file, speed model, ferry links, mainland leg, allowance and snapping as
    ``placeplan run data/sample/isle-of-wight/plan.toml`` (read from ``plan.toml``), so the cohort's
    "nearest by journey time" is the pipeline's. Returns ``postcode, setting_id,
    travel_time_min, distance_km``.
    """
    from placeplan.compute.journeys import MainlandLeg, journey_matrix
    from placeplan.compute.network import load_network
    from placeplan.compute.run import (
        speed_model as _speed_model,  # the pipeline's own speed model, not a copy
    )
    from placeplan.config import load_plan

    plan = load_plan(out / "plan.toml")
    net = load_network(out / "roads-drive.osm.pbf", speed_model=_speed_model(plan), use_cache=False)
    live = postcodes[postcodes["easting"].notna()]
    origins = pd.DataFrame(
        {"id": live["postcode"].astype(str), "x": live["easting"], "y": live["northing"]}
    ).astype({"x": float, "y": float})
    dests = pd.DataFrame(
        {
            "id": prov["setting_id"].astype(str),
            "x": prov["easting"].astype(float),
            "y": prov["northing"].astype(float),
            "ferry_required": prov["ferry_required"].astype(bool),
        }
    )
    journeys, _ = journey_matrix(
        net,
        origins,
        dests,
        ferry_links=plan.network.ferry_links,
        mainland=MainlandLeg(plan.network.mainland_circuity, plan.network.mainland_speed_kph),
        fixed_allowance_min=plan.network.fixed_allowance_min,
        max_snap_m=plan.network.max_snap_m,
        use_cache=False,
    )
    logger.info(
        "cohort journeys: %d postcodes x %d settings, %d unreachable pairs",
        len(origins),
        len(dests),
        int(journeys["travel_time_min"].isna().sum()),
    )
    return journeys.rename(columns={"origin_id": "postcode", "destination_id": "setting_id"})[
        ["postcode", "setting_id", "travel_time_min", "distance_km"]
    ]


def baseline_places(prov: pd.DataFrame) -> dict[str, float]:
    """Places per setting for the synthetic baseline where they differ from nominal capacity.

    The island's own special schools take every special-school pupil that reaches them first
    (no limit): SEN2 2024/25 records 340 island pupils in LA maintained special schools against
    2018 nominal capacities of 253, so the schools run over nominal capacity. All other settings
    keep their nominal ``capacity`` as the limit.
    """
    island_special = prov[prov["in_area"].astype(bool) & (prov["provision_type"] == "special")]
    return {str(sid): math.inf for sid in island_special["setting_id"]}


def build_pupils(paths: dict[str, Path], prov: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Synthetic EHCP cohort (SYNTHETIC — no real pupil data) with placeplan.prepare.synthetic."""
    from placeplan.prepare.synthetic import synthesise_pupils

    inputs = cohort_inputs(paths)
    postcodes = pd.read_csv(
        out / "postcodes.csv",
        dtype={"postcode": str, "lsoa11cd": str, "lad_code": str, "date_terminated": str},
    )
    postcodes = postcodes[postcodes["lad_code"] == IOW]
    props = [f["properties"] for f in json.loads((out / "lsoa.geojson").read_text())["features"]]
    areas = pd.DataFrame(props)
    areas = areas[areas["lad_code"] == IOW]
    journeys = cohort_journeys(out, prov, postcodes)
    pupils = synthesise_pupils(
        postcodes,
        areas,
        inputs["need_counts"],
        inputs["placement_counts"],
        prov,
        seed=SEED,
        joint_prior=inputs["joint"],
        nc_year_weights=inputs["nc_year_weights"],
        travel_time_min=journeys,
        places=baseline_places(prov),
    )
    pupils["transport_assisted"] = pupils["transport_assisted"].map({True: "true", False: "false"})
    write_csv(pupils, out / "pupils.csv")
    logger.info("pupils by need: %s", inputs["need_counts"])
    logger.info("pupils by placement: %s", inputs["placement_counts"])
    logger.info(
        "plans kept out of the cohort: %s (of %d)", inputs["excluded"], inputs["total_plans"]
    )
    return pupils


def write_sen2_check(pupils: pd.DataFrame, prov: pd.DataFrame, out: Path) -> pd.DataFrame:
    """sen2_check.csv: the cohort beside the published SEN2 2024/25 cells (see PROVENANCE.md)."""
    from placeplan.prepare.sen2_check import compare_baseline_to_sen2

    tables = {
        "placement": pd.read_csv(out / "ehcp_by_placement.csv", dtype=str),
        "residential": pd.read_csv(out / "ehcp_residential.csv", dtype=str),
    }
    check = compare_baseline_to_sen2(pupils, prov, tables, la_code=IOW, time_period="202425")
    write_csv(check, out / "sen2_check.csv")
    for row in check.itertuples():
        logger.info("sen2 check: %-58s cohort %5d published %s", row.measure, row.cohort,
                    row.published)  # fmt: skip
    return check


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------
STEPS = ("roads", "postcodes", "areas", "ehcp", "provision")


def main(argv: list[str] | None = None) -> int:
    """Build every sample file (or the ones named with ``--only``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/sample/isle-of-wight"))
    parser.add_argument("--only", nargs="*", choices=STEPS, help="build only these steps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    steps = set(args.only or STEPS)
    paths = verify_inputs(args.shared)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if "roads" in steps:
        build_roads(paths["osm"], out)
    if "postcodes" in steps:
        build_postcodes(paths["codepoint"], paths["ons_pc"], out)
    if "areas" in steps:
        build_lsoa(paths, out)
        build_outline(paths["outline"], out)
    if "ehcp" in steps:
        build_ehcp(paths, out)
    if "provision" in steps:
        prov, sources, stats = build_provision(paths)
        logger.info("provision stats: %s", stats)
        write_csv(sources, out / "provision_sources.csv")
        write_costs(out)
        build_candidates(prov, out)
        pupils = build_pupils(paths, prov, out)
        written = write_provision(prov, pupils, out)
        write_sen2_check(pupils, written, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
