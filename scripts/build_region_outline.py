"""Build the light regional outline of the sample's neighbouring areas from ``shared/data``.

Usage::

    .venv/bin/python scripts/build_region_outline.py \
        --shared ../shared/data --out data/sample/isle-of-wight

Reads the ONS LSOA 2011 boundaries of the three Solent authorities, keeps the neighbours of the
Isle of Wight (Southampton E06000045, Portsmouth E06000044), dissolves them per local authority,
simplifies them (Douglas–Peucker, 60 m in EPSG:27700, topology preserved; parts under 1 ha
dropped) and writes ``region-outline.geojson`` (EPSG:4326, 5 decimals; properties ``name``,
``lad_code``). The SHA-256 of the input is checked against ``SHA256SUMS`` first. Deterministic:
re-running gives a byte-identical file. Provenance: ``PROVENANCE.md`` beside the output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

LSOA = "boundaries/lsoa2011-bsc_iow-southampton-portsmouth.geojson"
NEIGHBOURS = {"E06000045": "Southampton", "E06000044": "Portsmouth"}
TOLERANCE_M = 60.0
OUT_NAME = "region-outline.geojson"


def _verify(shared: Path, rel: str) -> Path:
    """The input path, after checking its SHA-256 against ``SHA256SUMS``."""
    sums = {}
    for line in (shared / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*").removeprefix("./")] = digest
    path = shared / rel
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    if sums.get(rel) != got:
        msg = f"{rel}: SHA-256 {got} does not match SHA256SUMS ({sums.get(rel)})"
        raise SystemExit(msg)
    return path


def build_region_outline(lsoa_path: Path, out: Path) -> Path:
    """Dissolve, simplify and write the neighbours' outline; return the file written."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(lsoa_path).to_crs("EPSG:27700")
    features = []
    for code, name in sorted(NEIGHBOURS.items(), key=lambda kv: kv[1]):
        geom = gdf.loc[gdf["lad19cd"] == code].geometry.union_all()
        geom = shapely.simplify(geom, TOLERANCE_M, preserve_topology=True)
        parts = [p for p in getattr(geom, "geoms", [geom]) if p.area >= 10_000]
        geom = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
        geom = gpd.GeoSeries([geom], crs="EPSG:27700").to_crs("EPSG:4326").iloc[0]
        geom = shapely.transform(geom, lambda xy: np.round(xy, 5))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "lad_code": code},
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    path = out / OUT_NAME
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--out", type=Path, required=True, help="the sample data folder")
    args = ap.parse_args(argv)
    path = build_region_outline(_verify(args.shared, LSOA), args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
