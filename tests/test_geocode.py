"""Offline postcode geocoding: normalisation, typo correction, terminated and unknown postcodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan import InputFileError
from placeplan.prepare.geocode import (
    GEOCODE_STATUSES,
    PostcodeIndex,
    is_valid_postcode,
    normalise_postcode,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def index() -> PostcodeIndex:
    return PostcodeIndex.from_file(DATA / "postcodes_small.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("po301ud", "PO30 1UD"),
        ("  PO30   1UD ", "PO30 1UD"),
        ("po30-1ud", "PO30 1UD"),
        ("SW1A1AA", "SW1A 1AA"),
        ("M11AE", "M1 1AE"),
        ("PO30", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("12345", None),
    ],
)
def test_normalise_postcode_format(text: object, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


def test_normalise_postcode_corrects_typos_only_against_known() -> None:
    known = {"PO30 1UD", "SO14 7AA"}
    # Without a list of real postcodes nothing is corrected.
    assert normalise_postcode("P030 1UD") is None
    assert normalise_postcode("PO3O 1UD") == "PO3O 1UD"
    assert normalise_postcode("PO3O 1UD", known=known) == "PO30 1UD"
    assert normalise_postcode("P030 1UD", known=known) == "PO30 1UD"
    assert normalise_postcode("S014 7AA", known=known) == "SO14 7AA"
    assert normalise_postcode("PO30 IUD", known=known) == "PO30 1UD"
    # A typo that gives no real postcode is left as it is (or None if not a postcode format).
    assert normalise_postcode("PO9O 9ZZ", known=known) == "PO9O 9ZZ"
    assert normalise_postcode("P099 9ZZ", known=known) is None


def test_is_valid_postcode() -> None:
    assert is_valid_postcode("po30 1ud")
    assert not is_valid_postcode("PO30")


def test_geocode_statuses(index: PostcodeIndex) -> None:
    raw = pd.Series(
        ["po301ud", "P030 1UD", "PO30 1AA", "ZZ99 9ZZ", "not a postcode", None, "", "PO30 IUD"],
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    out = index.geocode(raw)
    assert list(out.index) == list(raw.index)
    assert list(out["status"]) == [
        "matched",
        "corrected",
        "terminated",
        "not_found",
        "invalid",
        "missing",
        "missing",
        "corrected",
    ]
    assert set(out["status"]) <= set(GEOCODE_STATUSES)
    assert out.loc[10, "easting"] == 450180
    assert out.loc[10, "northing"] == 89236
    assert out.loc[10, "lsoa11cd"] == "E01017326"
    assert out.loc[11, "postcode_norm"] == "PO30 1UD"
    # Terminated in the sample without a grid reference: flagged, no location.
    assert np.isnan(out.loc[12, "easting"])
    assert "terminated" in out.loc[12, "note"]
    assert out.loc[[13, 14, 15], "easting"].isna().all()
    # Notes never repeat the postcode.
    assert not out["note"].str.contains("ZZ99").any()


def test_codepoint_open_headerless_and_folder(tmp_path: Path) -> None:
    folder = tmp_path / "CSV"
    folder.mkdir()
    (folder / "po.csv").write_text(
        '"PO30 1UD",10,450180,089236,"E92000001","E19000002","E18000008","",'
        '"E06000046","E05008486"\n'
        '"PO30 9ZZ",90,0,0,"E92000001","","","","E06000046",""\n',
        encoding="utf-8",
    )
    (folder / "so.csv").write_text(
        '"SO14 7AA",10,442000,111000,"E92000001","","","","E06000045",""\n', encoding="utf-8"
    )
    idx = PostcodeIndex.from_file(folder)
    assert len(idx) == 3
    out = idx.geocode(pd.Series(["PO30 1UD", "PO30 9ZZ", "so147aa"]))
    assert list(out["status"]) == ["matched", "not_found", "matched"]
    assert out.loc[0, "northing"] == 89236
    assert "no grid reference" in out.loc[1, "note"]
    assert out["lsoa11cd"].isna().all()


def test_onspd_terminated_with_location_and_lsoa_lookup(tmp_path: Path) -> None:
    onspd = tmp_path / "ONSPD.csv"
    onspd.write_text(
        "pcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,osgrdind,lsoa11\n"
        "PO301UD,PO30 1UD,PO30 1UD,198001,,450180,089236,1,E01017326\n"
        "PO301AA,PO30 1AA,PO30 1AA,198001,199012,450100,089300,1,E01017326\n",
        encoding="utf-8",
    )
    idx = PostcodeIndex.from_file(onspd)
    out = idx.geocode(pd.Series(["PO30 1AA", "PO30 1UD"]))
    assert list(out["status"]) == ["terminated", "matched"]
    assert out.loc[0, "easting"] == 450100
    assert "last known" in out.loc[0, "note"]

    cpo = tmp_path / "codepoint.csv"
    cpo.write_text("Postcode,Eastings,Northings\nPO30 1UD,450180,89236\n", encoding="utf-8")
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("pcds,lsoa21cd\nPO30 1UD,E01099999\n", encoding="utf-8")
    idx2 = PostcodeIndex.from_file(cpo, lookup_path=lookup)
    assert idx2.geocode(pd.Series(["PO30 1UD"])).loc[0, "lsoa11cd"] == "E01099999"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("pstcode,easting,northing\nPO30 1UD,1,2\n", "did you mean 'pstcode'"),
        ("postcode,lsoa11cd\nPO30 1UD,E01\n", "easting"),
    ],
)
def test_bad_postcode_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "postcodes.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        PostcodeIndex.from_file(path)


def test_missing_postcode_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        PostcodeIndex.from_file(tmp_path / "nope.csv")


def test_shipped_sample_postcodes_load() -> None:
    sample = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight" / "postcodes.csv"
    if not sample.exists():
        pytest.skip("sample postcodes not built")
    idx = PostcodeIndex.from_file(sample)
    out = idx.geocode(pd.Series(["PO30 1UD", "PO1 1AA", "SO14 7AA"]))
    assert list(out["status"]) == ["matched", "matched", "terminated"]
