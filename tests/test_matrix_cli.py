"""Tests for the `placeplan matrix` subcommand (placeplan._matrix_cli)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

import placeplan
from placeplan._matrix_cli import OUTPUT_COLUMNS, add_matrix_parser, matrix_command

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_town.osm"


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(placeplan.settings, "cache_folder", tmp_path / "cache")
    monkeypatch.setattr(placeplan.settings, "progress", False)


def run(argv):
    parser = argparse.ArgumentParser(prog="placeplan")
    add_matrix_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["matrix", *argv])
    return args.func(args)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path):
    # tiny_town nodes 1 (50.700 N, 1.300 W) and 6 (50.704 N, 1.294 W)
    o = write(
        tmp_path / "origins.csv", "id,lat,lon\nPO1 1AA,50.7000,-1.3000\nPO1 1AB,50.7040,-1.2940\n"
    )
    d = write(tmp_path / "dest.csv", "id,lat,lon\nS1,50.7040,-1.2940\n")
    return tmp_path, o, d


def test_matrix_command_writes_csv(files, capsys):
    tmp, o, d = files
    out = tmp / "out" / "m.csv"
    rc = run(
        ["--network", str(TINY), "--origins", str(o), "--destinations", str(d), "--out", str(out)]
    )
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == OUTPUT_COLUMNS
    assert len(df) == 2
    same = df[df.origin_id == "PO1 1AB"].iloc[0]
    assert same.travel_time_min == pytest.approx(0.0, abs=1e-3)
    other = df[df.origin_id == "PO1 1AA"].iloc[0]
    assert 0.5 < other.travel_time_min < 5 and other.distance_km > 0.3
    assert other.distance_miles == pytest.approx(other.distance_km / 1.609344, abs=1e-3)
    assert "wrote 2 rows" in capsys.readouterr().err


def test_easting_northing_and_graphml(tmp_path, files):
    import osmnx as ox

    from placeplan.compute import network

    net = network.load_network(TINY, use_cache=False)
    gml = tmp_path / "town.graphml"
    ox.save_graphml(net.to_networkx(), gml)
    o = write(
        tmp_path / "o.csv",
        f"id,easting,northing\nA,{net.x[0]},{net.y[0]}\nB,{net.x[3]},{net.y[3]}\n",
    )
    out = tmp_path / "m.csv"
    rc = run(
        [
            "--network",
            str(gml),
            "--origins",
            str(o),
            "--destinations",
            str(o),
            "--out",
            str(out),
            "--no-cache",
            "--allowance",
            "2",
        ]
    )
    assert rc == 0
    df = pd.read_csv(out)
    assert (df.travel_time_min >= 2.0 - 1e-6).all()
    assert df.loc[(df.origin_id == "A") & (df.destination_id == "A"), "travel_time_min"].iloc[
        0
    ] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (
            "id,lat,lon\nA,50.70,-1.30\nB,fifty,-1.30\n",
            ["origins.csv", "row 3", "column 'lat'", "'fifty' is not a number"],
        ),
        ("id,lat,lon\nA,50.70,-1.30\nB,50.70,\n", ["row 3", "column 'lon'", "empty value"]),
        ("id,lat,lon\nA,50.70,-1.30\nA,50.71,-1.30\n", ["row 3", "column 'id'", "duplicate id"]),
        ("name,lat,lon\nA,50.70,-1.30\n", ["row 1", "column 'id'", "missing column"]),
        ("id,x,y\nA,1,2\n", ["row 1", "column 'easting'", "easting,northing"]),
        (
            "id,easting,northing\nA,450000,90000\nB,-5,90000\n",
            ["row 3", "column 'easting'", "outside"],
        ),
        ("id,lat,lon\nA,150.7,-1.3\n", ["row 2", "column 'lat'", "outside"]),
        ("", ["origins.csv", "empty"]),
    ],
)
def test_bad_origins_give_one_line_error(files, capsys, content, expect):
    tmp, o, d = files
    o.write_text(content)
    rc = run(
        [
            "--network",
            str(TINY),
            "--origins",
            str(o),
            "--destinations",
            str(d),
            "--out",
            str(tmp / "m.csv"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("placeplan matrix: error:")
    for part in expect:
        assert part in err
    assert not (tmp / "m.csv").exists()


def test_bad_network_and_missing_file(files, capsys):
    tmp, o, d = files
    rc = run(
        [
            "--network",
            str(tmp / "roads.shp"),
            "--origins",
            str(o),
            "--destinations",
            str(d),
            "--out",
            str(tmp / "m.csv"),
        ]
    )
    assert rc == 2
    assert "unsupported suffix" in capsys.readouterr().err
    rc = run(
        [
            "--network",
            str(TINY),
            "--origins",
            str(tmp / "nope.csv"),
            "--destinations",
            str(d),
            "--out",
            str(tmp / "m.csv"),
        ]
    )
    assert rc == 2
    assert "nope.csv" in capsys.readouterr().err


def test_matrix_command_is_callable_directly(files):
    tmp, o, d = files
    ns = argparse.Namespace(
        network=TINY,
        origins=o,
        destinations=d,
        out=tmp / "m.csv",
        max_time=None,
        allowance=None,
        max_snap=1000.0,
        no_cache=True,
    )
    assert matrix_command(ns) == 0
