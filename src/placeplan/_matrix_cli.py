"""The ``placeplan matrix`` subcommand: travel-time matrix between two CSVs of points.

Wire it into ``cli.py`` with::

    from placeplan._matrix_cli import add_matrix_parser
    add_matrix_parser(subparsers)   # sets func=matrix_command
    ...
    return args.func(args)

Input CSVs need an ``id`` column and either ``easting,northing`` (EPSG:27700) or ``lat,lon``
(EPSG:4326). Output: ``origin_id,destination_id,travel_time_min,distance_km,distance_miles,
origin_snap_m,destination_snap_m``. Bad input prints one line naming the file, row and column and
returns 2. Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placeplan._errors import InputFileError, PlaceplanError
from placeplan.prepare.io import EXTRA_CELLS, read_table
from placeplan.vocab import BNG_EASTING_M, BNG_NORTHING_M, CRS

__all__ = ["OUTPUT_COLUMNS", "add_matrix_parser", "matrix_command", "read_points_csv"]

OUTPUT_COLUMNS = [
    "origin_id",
    "destination_id",
    "travel_time_min",
    "distance_km",
    "distance_miles",
    "origin_snap_m",
    "destination_snap_m",
]

# bounds of the British National Grid (placeplan.vocab) and of WGS84
_BNG = {"easting": BNG_EASTING_M, "northing": BNG_NORTHING_M}
_WGS = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}


def add_matrix_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``matrix`` subcommand to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "matrix",
        help="travel-time matrix between origins and destinations on a road network",
        description=(
            "Drive time and distance of the fastest route from every origin to every destination. "
            "CSVs need `id` and either `easting,northing` (EPSG:27700) or `lat,lon` (EPSG:4326)."
        ),
    )
    p.add_argument("--network", required=True, type=Path, help="OSM .pbf, .osm(.bz2) or .graphml")
    p.add_argument("--origins", required=True, type=Path, help="origins CSV (postcodes/points)")
    p.add_argument("--destinations", required=True, type=Path, help="destinations CSV")
    p.add_argument("--out", required=True, type=Path, help="output CSV")
    p.add_argument("--max-time", type=float, default=None, metavar="MIN", help="cut-off in minutes")
    p.add_argument(
        "--allowance",
        type=float,
        default=None,
        metavar="MIN",
        help="fixed minutes added per journey (kerbside/loading); default 0",
    )
    p.add_argument(
        "--max-snap",
        type=float,
        default=1000.0,
        metavar="M",
        help="points farther than this from a road get empty times (default 1000)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.set_defaults(func=matrix_command)
    return p


def _fail(column: str | None, row: int | None, file: Path, msg: str) -> InputFileError:
    return InputFileError(msg, file=str(file), row=row, column=column)


def read_points_csv(path: str | Path) -> pd.DataFrame:
    """Read a points CSV into ``id, x, y`` (EPSG:27700), validating every row.

    Raises
    ------
    InputFileError
        Naming the file, the first bad row (header = row 1) and the column.
    """
    path = Path(path)
    if not path.is_file():
        msg = "file not found"
        raise InputFileError(msg, file=str(path))
    # the one table reader (encodings, delimiter, blank rows; an empty file is an error there)
    df = read_table(path).reset_index(drop=True)
    df = df.drop(columns=[c for c in (EXTRA_CELLS,) if c in df.columns])
    df = df.apply(lambda col: col.str.strip())
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "id" not in df.columns:
        msg = f"missing column; found {list(df.columns)}"
        raise _fail("id", 1, path, msg)
    if {"easting", "northing"} <= set(df.columns):
        cols, bounds, crs = ("easting", "northing"), _BNG, CRS
    elif {"lat", "lon"} <= set(df.columns):
        cols, bounds, crs = ("lon", "lat"), _WGS, "EPSG:4326"
    else:
        missing = "easting" if "easting" not in df.columns else "northing"
        if "lat" in df.columns or "lon" in df.columns:
            missing = "lon" if "lon" not in df.columns else "lat"
        msg = "missing column; need `easting,northing` (EPSG:27700) or `lat,lon` (EPSG:4326)"
        raise _fail(missing, 1, path, msg)
    if df.empty:
        msg = "no data rows"
        raise InputFileError(msg, file=str(path), row=2)
    ids = df["id"].str.strip()
    blank = np.flatnonzero((ids == "").to_numpy())
    if len(blank):
        msg = "empty id"
        raise _fail("id", int(blank[0]) + 2, path, msg)
    dup = np.flatnonzero(ids.duplicated().to_numpy())
    if len(dup):
        msg = f"duplicate id {ids.iloc[dup[0]]!r}; ids must be unique"
        raise _fail("id", int(dup[0]) + 2, path, msg)
    values = {}
    for c in cols:
        raw = df[c].str.strip()
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        lo, hi = bounds[c]
        bad = np.flatnonzero(~np.isfinite(num) | (num < lo) | (num > hi))
        if len(bad):
            r = int(bad[0])
            shown = raw.iloc[r]
            why = "empty value" if shown == "" else f"{shown!r} is not a number"
            if np.isfinite(num[r]):
                why = f"{shown!r} is outside {lo:g}..{hi:g} for {crs}"
            raise _fail(c, r + 2, path, f"{why} ({len(bad)} bad rows in this column)")
        values[c] = num
    x, y = values[cols[0]], values[cols[1]]
    if crs != CRS:
        from placeplan.compute.network._osm import lonlat_to_bng

        x, y = (np.asarray(a) for a in lonlat_to_bng(x, y))
    return pd.DataFrame({"id": ids.to_numpy(dtype=object), "x": x, "y": y})


def matrix_command(args: argparse.Namespace) -> int:
    """Run ``placeplan matrix``; return 0 on success, 2 on bad input (one line on stderr)."""
    from placeplan.compute import matrix, network
    from placeplan.publish.tables import write_csv

    try:
        origins = read_points_csv(args.origins)
        destinations = read_points_csv(args.destinations)
        net = network.load_network(args.network, use_cache=False if args.no_cache else None)
        out = matrix.travel_matrix(
            net,
            origins,
            destinations,
            max_travel_time_min=args.max_time,
            fixed_allowance_min=args.allowance,
            max_snap_m=args.max_snap,
            use_cache=False if args.no_cache else None,
            dtype="float64",
        )
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            write_csv(out[OUTPUT_COLUMNS], args.out, float_format="%.4f")
        except OSError as err:
            msg = f"cannot write output: {err.strerror or err}"
            raise InputFileError(msg, file=str(args.out)) from err
    except (PlaceplanError, ValueError) as err:
        print(f"placeplan matrix: error: {_one_line(err)}", file=sys.stderr)
        return 2
    print(
        f"placeplan matrix: wrote {len(out):,} rows "
        f"({len(origins):,} origins x {len(destinations):,} destinations) to {args.out}",
        file=sys.stderr,
    )
    return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
