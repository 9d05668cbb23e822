"""Build the small Southampton example plan in ``data/sample/southampton/`` (maintainers only).

Everything is derived from data already in the repository, except the settings list, which is
taken once from the 2018 GIAS (edubase) extract in ``../shared/data`` and then committed:

* ``provision.csv`` and ``provision_sources.csv``: a handful of Southampton settings whose names,
  capacities and coordinates come from
  ``../shared/data/schools/schools-2018-edubase-subset_iow-southampton-portsmouth.csv`` (OGL v3).
  Pass ``--edubase PATH`` to rebuild them; without it the committed files are reused, so the rest
  of the example can be rebuilt without ``../shared``.
* ``lsoa.geojson`` and ``boundary.geojson``: Southampton's LSOAs from
  ``data/sample/isle-of-wight/lsoa.geojson`` and their union.
* ``pupils.csv``: a SYNTHETIC cohort (no real child) made with
  :mod:`placeplan.prepare.synthetic` from
  Southampton's live postcodes in ``data/sample/isle-of-wight/postcodes.csv``, LSOA population,
  and Southampton's published 2024/25 EHC plans by primary need x type of placement and by primary
  need x age (``data/sample/isle-of-wight/ehcp_by_need.csv``), at one-eighth scale.
* ``candidate_sites.csv``: four hypothetical inclusion bases at real mainstream schools.

Run:  ``.venv/bin/python scripts/build_southampton_example.py [--edubase PATH]``
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from placeplan.prepare.synthetic import fit_joint_counts, synthesise_pupils  # noqa: E402

logger = logging.getLogger("build_southampton_example")

IOW_DIR = ROOT / "data" / "sample" / "isle-of-wight"
OUT = ROOT / "data" / "sample" / "southampton"
LAD = "E06000045"
LA_NAME = "Southampton"
PERIOD = "202425"
SEED = 20250852
SCALE = 1 / 8  # the example cohort is one eighth of Southampton's modelled EHC plans
DEFAULT_EDUBASE = (
    ROOT.parent / "shared/data/schools/schools-2018-edubase-subset_iow-southampton-portsmouth.csv"
)

# (edubase name, provision_type, phases, needs, capacity if the extract has none)
# Phases of special/AP/FE settings and the needs of special settings are NOT in the 2018 extract:
# they are illustrative assumptions for the example (see README.md), not facts about the schools.
SETTINGS: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("Banister Primary School", "mainstream", "primary", "", None),
    ("Bassett Green Primary School", "mainstream", "primary", "", None),
    ("Bitterne Park Primary School", "mainstream", "primary", "", None),
    ("Foundry Lane Primary School", "mainstream", "primary", "", None),
    ("Mason Moor Primary School", "mainstream", "primary", "", None),
    ("Moorlands Primary School", "mainstream", "primary", "", None),
    ("St Monica Primary School", "mainstream", "primary", "", None),
    ("Tanners Brook Primary School", "mainstream", "primary", "", None),
    ("Valentine Primary School", "mainstream", "primary", "", None),
    ("Weston Park Primary School", "mainstream", "primary", "", None),
    ("Bitterne Park School", "mainstream", "secondary", "", None),
    ("Cantell School", "mainstream", "secondary", "", None),
    ("Oasis Academy Lord's Hill", "mainstream", "secondary", "", None),
    ("Redbridge Community School", "mainstream", "secondary", "", None),
    ("The Sholing Technology College", "mainstream", "secondary", "", None),
    ("Woodlands Community College", "mainstream", "secondary", "", None),
    ("Great Oaks School", "special", "secondary;post16", "", None),
    ("Springwell School", "special", "primary", "", None),
    ("The Cedar School", "special", "primary;secondary;post16", "PD;PMLD;SLD;MSI", 120),
    ("Rosewood Free School", "special", "primary;secondary;post16", "PMLD;SLD", None),
    ("The Polygon School", "special", "secondary", "SEMH", None),
    ("Vermont School", "special", "primary", "SEMH", None),
    ("The Serendipity School", "independent", "secondary", "", None),
    ("Compass School", "ap", "primary;secondary", "", 80),
    ("Southampton City College", "fe", "post16", "", 1000),
    ("Itchen College", "fe", "post16", "", 1000),
    ("Richard Taunton Sixth Form College", "fe", "post16", "", 1000),
)

# Existing inclusion bases: ILLUSTRATIVE (invented for the example; the 2018 extract has no
# resourced-provision fields). (host edubase name, need(s), places)
EXISTING_BASES: tuple[tuple[str, str, int], ...] = (
    ("Valentine Primary School", "ASD", 10),
    ("Cantell School", "ASD;SLCN", 12),
)

# Candidate sites: HYPOTHETICAL new bases. (host edubase name, need, places, capital £)
CANDIDATES: tuple[tuple[str, str, int, float], ...] = (
    ("Weston Park Primary School", "ASD", 12, 600_000.0),
    ("Mason Moor Primary School", "SLCN", 10, 500_000.0),
    ("Bitterne Park School", "ASD", 16, 800_000.0),
    ("Redbridge Community School", "SEMH", 12, 700_000.0),
)

COST_PER_PLACE = {
    "mainstream": 9000.0,
    "inclusion_base": 18000.0,
    "special": 25000.0,
    "independent": 52000.0,
    "non_maintained": 52000.0,
    "ap": 20000.0,
    "fe": 12000.0,
}

# DfE "Type of placement" breakdown -> placement type (totals and settings not modelled: None)
PLACEMENT_OF_BREAKDOWN = {
    "AP/PRU - LA maintained": "ap",
    "AP/PRU - academy": "ap",
    "AP/PRU - free school": "ap",
    "FE - UKRLP provider": "fe",
    "FE - general FE and tertiary colleges": "fe",
    "FE - specialist post-16 institutions": "fe",
    "Mainstream - LA maintained": "mainstream",
    "Mainstream - academy": "mainstream",
    "Mainstream - free school": "mainstream",
    "Mainstream - independent": "mainstream",
    "Mainstream - LA maintained (resourced provision)": "inclusion_base",
    "Mainstream - academy (resourced provision)": "inclusion_base",
    "Mainstream - free school (resourced provision)": "inclusion_base",
    "Mainstream - LA maintained (SEN unit)": "inclusion_base",
    "Mainstream - academy (SEN unit)": "inclusion_base",
    "Mainstream - free school (SEN unit)": "inclusion_base",
    "Special - Academy/free schools": "special",
    "Special - LA maintained": "special",
    "Special - independent": "independent",
    "Special - non-maintained": "non_maintained",
}


def slug(name: str) -> str:
    """Setting id from a name: ``"Lord's Hill"`` -> ``SOU-LORDS-HILL``."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", name.replace("'", "")).strip("-").upper()
    return f"SOU-{s}"


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")
    logger.info("wrote %s (%d rows)", path.relative_to(ROOT), len(df))


def largest_remainder(counts: pd.Series, total: int) -> pd.Series:
    """Integer counts proportional to ``counts`` summing exactly to ``total``."""
    raw = counts.astype(float) / float(counts.sum()) * total
    out = np.floor(raw).astype(int)
    short = total - int(out.sum())
    order = (raw - out).sort_values(ascending=False, kind="stable").index[:short]
    out[order] += 1
    return out


# --------------------------------------------------------------------------------------------
def build_provision(edubase: Path) -> None:
    """Settings from the 2018 GIAS extract (BNG from lat/lng, 0.1 m), plus illustrative bases."""
    from pyproj import Transformer

    edu = pd.read_csv(edubase, dtype=str, keep_default_na=False)
    edu.columns = ["name", "group", "phase", "gender", "capacity", "ofsted", "lat", "lng"]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rows, sources = [], []
    for name, ptype, phases, needs, cap_default in SETTINGS:
        hit = edu[edu["name"] == name]
        if len(hit) != 1:
            msg = f"{name!r}: {len(hit)} rows in {edubase}"
            raise SystemExit(msg)
        rec = hit.iloc[0]
        x, y = to_bng.transform(float(rec["lng"]), float(rec["lat"]))
        cap = int(float(rec["capacity"])) if rec["capacity"] else cap_default
        if cap is None:
            msg = f"{name!r} has no capacity in the extract and no default"
            raise SystemExit(msg)
        sid = slug(name)
        rows.append(
            {
                "setting_id": sid,
                "name": name,
                "provision_type": ptype,
                "host_setting_id": "",
                "phases": phases,
                "needs": needs,
                "capacity": cap,
                "on_roll": "",
                "easting": round(x, 1),
                "northing": round(y, 1),
                "in_area": "true",
                "annual_cost_per_place_gbp": COST_PER_PLACE[ptype],
                "ferry_required": "false",
            }
        )
        sources.append(
            {
                "setting_id": sid,
                "name": name,
                "source": "GIAS (edubase) 2018 extract, OGL v3",
                "edubase_type_group": rec["group"],
                "edubase_phase": rec["phase"],
                "capacity_from": "extract" if rec["capacity"] else "illustrative default",
                "phases_needs_from": "extract phase" if ptype == "mainstream" else "illustrative",
            }
        )
    prov = pd.DataFrame(rows)
    by_name = prov.set_index("name")
    for host, needs, places in EXISTING_BASES:
        h = by_name.loc[host]
        sid = f"{h['setting_id']}-IB-{needs.split(';')[0]}"
        rows.append(
            {
                **h.to_dict(),
                "setting_id": sid,
                "name": f"{host} — {needs.replace(';', '/')} resourced provision (illustrative)",
                "provision_type": "inclusion_base",
                "host_setting_id": h["setting_id"],
                "needs": needs,
                "capacity": places,
                "annual_cost_per_place_gbp": COST_PER_PLACE["inclusion_base"],
            }
        )
        sources.append(
            {
                "setting_id": sid,
                "name": rows[-1]["name"],
                "source": "invented for the example (location of the host school)",
                "edubase_type_group": "",
                "edubase_phase": "",
                "capacity_from": "illustrative",
                "phases_needs_from": "illustrative",
            }
        )
    prov = pd.DataFrame(rows)
    write_csv(prov, OUT / "provision.csv")
    write_csv(pd.DataFrame(sources), OUT / "provision_sources.csv")


def build_candidates(prov: pd.DataFrame) -> pd.DataFrame:
    by_name = prov[prov["provision_type"] == "mainstream"].set_index("name")
    rows = []
    for host, need, places, capital in CANDIDATES:
        h = by_name.loc[host]
        rows.append(
            {
                "site_id": f"{h['setting_id']}-IB-{need}",
                "host_setting_id": h["setting_id"],
                "name": f"{host} — new {need} base (hypothetical)",
                "needs": need,
                "phases": h["phases"],
                "places": places,
                "capital_cost_gbp": capital,
                "annual_cost_per_place_gbp": COST_PER_PLACE["inclusion_base"],
                "easting": h["easting"],
                "northing": h["northing"],
            }
        )
    sites = pd.DataFrame(rows)
    write_csv(sites, OUT / "candidate_sites.csv")
    return sites


def build_areas() -> pd.DataFrame:
    """Southampton's LSOAs (subset of the Isle of Wight sample file) and their union."""
    import geopandas as gpd

    lsoa = gpd.read_file(IOW_DIR / "lsoa.geojson")
    mine = lsoa[lsoa["lad_code"] == LAD].sort_values("area_id").reset_index(drop=True)
    mine.to_file(OUT / "lsoa.geojson", driver="GeoJSON")
    outline = gpd.GeoDataFrame(
        {"name": [LA_NAME], "lad_code": [LAD]},
        geometry=[mine.to_crs("EPSG:27700").union_all().buffer(0)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    outline["geometry"] = outline.geometry.set_precision(1e-6)
    outline.to_file(OUT / "boundary.geojson", driver="GeoJSON")
    logger.info("areas: %d Southampton LSOAs", len(mine))
    return pd.DataFrame(mine.drop(columns="geometry"))


def cohort_inputs() -> dict[str, object]:
    """Need x placement counts (one-eighth scale) and NC-year weights for Southampton 2024/25."""
    tab = pd.read_csv(IOW_DIR / "ehcp_by_need.csv", dtype=str, keep_default_na=False)
    tab = tab[(tab["la_name"] == LA_NAME) & (tab["time_period"] == PERIOD)].copy()
    tab["need_type"] = tab["need_type"].replace("", "OTH")  # need not recorded -> OTH
    tab["count"] = pd.to_numeric(tab["count"], errors="coerce")  # suppressed -> NaN
    place = tab[tab["breakdown_topic"] == "Type of placement"].copy()
    place["placement_type"] = place["breakdown"].map(PLACEMENT_OF_BREAKDOWN)
    place = place[place["placement_type"].notna()]
    joint_full = (
        place.pivot_table(
            index="need_type", columns="placement_type", values="count", aggfunc="sum"
        )
        .fillna(0.0)
        .astype(float)
    )
    total = round(float(joint_full.to_numpy().sum()) * SCALE)
    need_counts = largest_remainder(joint_full.sum(axis=1), total)
    placement_counts = largest_remainder(joint_full.sum(axis=0), total)
    need_counts = {k: int(v) for k, v in need_counts.items() if v > 0}
    placement_counts = {k: int(v) for k, v in placement_counts.items() if v > 0}
    # a small floor keeps every cell possible, so the one-eighth table can be integerised
    joint = fit_joint_counts(need_counts, placement_counts, prior=joint_full + 0.01)
    ages = tab[tab["breakdown_topic"] == "Child or young persons age"].copy()
    ages = ages[ages["breakdown"].str.startswith("age ")]
    ages["nc_year"] = (ages["breakdown"].str.removeprefix("age ").astype(int) - 4).clip(-1, 14)
    w = ages.groupby(["need_type", "nc_year"], as_index=False)["count"].sum()
    w = w[w["count"] > 0]
    weights = pd.concat(
        [w.assign(placement_type=p) for p in joint.columns], ignore_index=True
    ).rename(columns={"count": "weight"})
    logger.info(
        "cohort: %d full-scale plans in modelled placements -> %d synthetic pupils",
        int(joint_full.to_numpy().sum()),
        total,
    )
    return {
        "joint": joint,
        "need_counts": need_counts,
        "placement_counts": placement_counts,
        "nc_year_weights": weights[["need_type", "placement_type", "nc_year", "weight"]],
    }


def build_pupils(prov: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    inputs = cohort_inputs()
    postcodes = pd.read_csv(
        IOW_DIR / "postcodes.csv",
        dtype={"postcode": str, "lsoa11cd": str, "lad_code": str, "date_terminated": str},
    )
    postcodes = postcodes[postcodes["lad_code"] == LAD]
    pupils = synthesise_pupils(
        postcodes,
        areas,
        inputs["need_counts"],
        inputs["placement_counts"],
        prov,
        seed=SEED,
        joint_prior=inputs["joint"],
        nc_year_weights=inputs["nc_year_weights"],
        id_prefix="SYN-SOU-",
    )
    pupils["transport_assisted"] = pupils["transport_assisted"].map({True: "true", False: "false"})
    write_csv(pupils, OUT / "pupils.csv")
    logger.info("pupils by need: %s", inputs["need_counts"])
    logger.info("pupils by placement: %s", inputs["placement_counts"])
    return pupils


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--edubase",
        type=Path,
        default=None,
        help=f"rebuild provision.csv from this GIAS 2018 extract (e.g. {DEFAULT_EDUBASE})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.edubase is not None:
        build_provision(args.edubase)
    # always from the CSV, so `in_area` / `ferry_required` are read as booleans
    prov = pd.read_csv(OUT / "provision.csv", dtype={"host_setting_id": str}).fillna(
        {"needs": "", "host_setting_id": ""}
    )
    build_candidates(prov)
    areas = build_areas()
    build_pupils(prov, areas)
    meta = {"seed": SEED, "scale": SCALE, "lad_code": LAD, "period": PERIOD}
    logger.info("built %s", json.dumps(meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
