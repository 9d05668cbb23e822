"""Build the shipped Isle of Wight sample data set from the real open data in ``shared/data``.

Usage::

    .venv/bin/python scripts/build_sample_data.py --shared ../shared/data --out data/sample/isle-of-wight

The script is deterministic: re-running it on the same inputs gives byte-identical outputs. It checks
the SHA-256 of every input it reads against ``SHA256SUMS`` in the shared folder before using it.
Method, assumptions, licences and attributions are in ``PROVENANCE.md`` next to the outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

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
    """Normalise postcodes to the ``"PO30 1AA"`` form (upper case, one space before the inward code)."""
    s = pc.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    return s.str[:-3] + " " + s.str[-3:]


# --------------------------------------------------------------------------------------------
# 1. roads
# --------------------------------------------------------------------------------------------
#: Car-drivable highway classes kept (osmnx "drive_service" network type).
DRIVE_HIGHWAYS = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary",
        "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
        "unclassified", "residential", "living_street", "service",
    }
)  # fmt: skip
#: ``service=*`` values dropped (as osmnx "drive_service").
EXCLUDED_SERVICE = frozenset(
    {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private", "drive-through"}
)
#: Tags kept on ways (everything routing needs); all other tags and all node tags are removed.
ROAD_TAGS = (
    "highway", "maxspeed", "oneway", "junction", "access", "motor_vehicle", "motorcar",
    "service", "name", "ref", "area",
)  # fmt: skip
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
    """Join Code-Point Open (coordinates, live in 2025) with the ONS lookup (LSOA11, terminations)."""
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
        "postcode", "easting", "northing", "positional_quality", "lsoa11cd", "lad_code",
        "date_introduced", "date_terminated",
    ]  # fmt: skip
    df = df[cols].sort_values("postcode", kind="stable").reset_index(drop=True)
    for col in ("easting", "northing", "positional_quality"):
        df[col] = df[col].astype("Int64")
    write_csv(df, out / "postcodes.csv")
    return df


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------
STEPS = ("roads", "postcodes")


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
