"""Loaders: whole-file errors raise, row errors reject, and every row is accounted for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeplan import CRSError, InputFileError, SchemaValidationError
from placeplan.prepare import io
from placeplan.prepare.geocode import PostcodeIndex
from placeplan.prepare.io._common import missing_column

DATA = Path(__file__).parent / "data"
BOX = shapely.box(428000, 74000, 467000, 98000)  # around the Isle of Wight, EPSG:27700
SETTINGS = {"100001", "100002", "100003", "100003-IB-SEMH", "100004", "OOA-01"}
PUPIL_HEADER = (
    "pupil_ref,postcode,easting,northing,need_type,plan_type,nc_year,date_of_birth,"
    "current_setting_id,transport_assisted"
)


@pytest.fixture(scope="module")
def postcodes() -> PostcodeIndex:
    return PostcodeIndex.from_file(DATA / "postcodes_small.csv")


def assert_accounted(result: io.LoadResult) -> None:
    assert result.rows_read == result.rows_used + result.rows_rejected + result.rows_skipped
    assert len(result.data.index.intersection(pd.Index(result.rejections["row"]))) == 0
    assert list(result.rejections.columns) == list(io.REJECTION_COLUMNS)


def write(tmp_path: Path, text: str, name: str = "pupils.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- read_table


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("a,b,c\n1,2,3\n", "utf-8"),
        ("a;b;c\r\n1;2;3\r\n", "cp1252"),
        ("a\tb\tc\n1\t2\t3\n", "utf-16"),
        ("a|b|c\n1|2|3\n", "utf-8-sig"),
        (" a , b ,c \n1,2,3\n\n,,\n", "utf-8"),
    ],
)
def test_read_table_sniffs_delimiter_and_encoding(tmp_path: Path, text: str, encoding: str) -> None:
    frame = io.read_table(write(tmp_path, text, "t.csv", encoding))
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame.loc[2].tolist() == ["1", "2", "3"]
    assert len(frame) == 1


def test_read_table_cp1252_text_and_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Caf\u00e9 \u2019x\u2019\n\n3,b\n", "t.csv", "cp1252")
    frame = io.read_table(path)
    assert frame.loc[2, "name"] == "Caf\u00e9 \u2019x\u2019"
    assert list(frame.index) == [2, 4]  # the blank line is row 3 for a spreadsheet user


def test_read_table_excel(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["pupil_ref", "date_of_birth", "current_setting_id"])
    ws.append(["A1", dt.datetime(2013, 2, 11), 100001])
    ws.append([None, None, None])
    ws.append(["A2", dt.date(2014, 9, 1), 100002.0])
    path = tmp_path / "t.xlsx"
    book.save(path)
    frame = io.read_table(path)
    assert list(frame.index) == [2, 4]
    assert frame.loc[2].tolist() == ["A1", "2013-02-11", "100001"]
    assert frame.loc[4, "current_setting_id"] == "100002"


BAD_FILES: list[tuple[str, bytes, str, str]] = [
    ("empty", b"", "pupils.csv", "empty"),
    ("blank", b"\n\n  \n", "pupils.csv", "empty"),
    ("header only", (PUPIL_HEADER + "\n").encode(), "pupils.csv", "no pupil rows"),
    (
        "wrong delimiter",
        b"pupil_ref postcode need_type plan_type nc_year\nA PO301UD ASD EHCP 3\n",
        "pupils.csv",
        "only one column",
    ),
    ("xlsx named csv", b"PK\x03\x04" + b"\x00" * 100, "pupils.csv", "Excel workbook"),
    ("binary", b"\x00\x01\x02garbage\x00" * 10, "pupils.csv", "binary"),
    (
        "missing column",
        b"pupil_ref,postcode,need_typ,plan_type,nc_year\nA,PO30 1UD,ASD,EHCP,3\n",
        "pupils.csv",
        "required column missing; did you mean 'need_typ'",
    ),
    (
        "no location column",
        b"pupil_ref,need_type,plan_type,nc_year\nA,ASD,EHCP,3\n",
        "pupils.csv",
        "give postcode, or easting and northing",
    ),
    (
        "no year column",
        b"pupil_ref,postcode,need_type,plan_type\nA,PO30 1UD,ASD,EHCP\n",
        "pupils.csv",
        "nc_year or date_of_birth",
    ),
    (
        "easting without northing",
        b"pupil_ref,easting,need_type,plan_type,nc_year\nA,450000,ASD,EHCP,3\n",
        "pupils.csv",
        "column 'northing'",
    ),
    (
        "duplicate header",
        b"pupil_ref,postcode,need_type,need_type,plan_type,nc_year\nA,PO30 1UD,ASD,ASD,EHCP,3\n",
        "pupils.csv",
        "appears twice",
    ),
    ("old excel", b"\xd0\xcf\x11\xe0", "pupils.xls", ".xls files are not supported"),
]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_pupil_files_raise_one_line_error(
    tmp_path: Path, postcodes: PostcodeIndex, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        io.load_pupils(path, postcodes=postcodes)
    text = str(info.value)
    assert "\n" not in text
    assert name in text  # names the file


def test_missing_file(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    with pytest.raises(InputFileError, match="not found"):
        io.load_pupils(tmp_path / "nope.csv", postcodes=postcodes)


def test_missing_column_error_names_column() -> None:
    frame = pd.DataFrame({"pupil_ref": [], "capcity": [], "x": []})
    with pytest.raises(InputFileError) as info:
        missing_column(frame, "f.csv", "capacity")
    assert info.value.column == "capacity"
    assert info.value.row == 1
    assert info.value.file == "f.csv"


# ---------------------------------------------------------------- pupils


def test_load_pupils_good(postcodes: PostcodeIndex) -> None:
    result = io.load_pupils(
        DATA / "pupils_good.csv",
        postcodes=postcodes,
        setting_ids=SETTINGS,
        area=BOX,
        census_date="2025-01-16",
    )
    assert_accounted(result)
    assert result.ok
    assert (result.rows_read, result.rows_used) == (6, 6)
    gdf = result.data
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.to_epsg() == 27700
    assert list(gdf.index) == [2, 3, 4, 5, 6, 7]
    assert list(gdf["need_type"]) == ["ASD", "ASD", "SLCN", "SEMH", "MLD", "PMLD"]
    assert list(gdf["plan_type"]) == ["EHCP", "EHCP", "SEN_support", "EHCP", "EHCP", "SEN_support"]
    # R -> 0, Y7 -> 7, DOB 2012-05-14 on census 2025-01-16 -> Year 8, -1 nursery.
    assert list(gdf["nc_year"]) == [3, 0, 7, 8, 12, -1]
    assert list(gdf["phase"]) == [
        "primary",
        "primary",
        "secondary",
        "secondary",
        "post16",
        "primary",
    ]
    assert list(gdf["transport_assisted"]) == [True, False, True, False, False, True]
    assert gdf.loc[6, "current_setting_id"] is pd.NA or pd.isna(gdf.loc[6, "current_setting_id"])
    assert gdf.loc[2, "origin_id"] == "PO30 1UD"
    assert gdf.loc[3, "postcode"] == "PO30 5AA"
    assert gdf.loc[4, "geocode_status"] == "corrected"
    assert gdf.loc[5, "origin_id"] == "EN:449500:89100"
    assert gdf.loc[5, "geocode_status"] == "coordinates"
    assert gdf.loc[2, "lsoa11cd"] == "E01017326"
    assert gdf.geometry.x.loc[2] == 450180
    assert any("corrected" in n for n in result.notes)


def _pupils(tmp_path: Path, *rows: str, header: str = PUPIL_HEADER) -> Path:
    good = "GOOD1,PO30 1UD,,,ASD,EHCP,3,,100001,yes"
    return write(tmp_path, "\n".join([header, good, *rows]) + "\n")


ROW_CASES: list[tuple[str, str, str, str]] = [
    ("duplicate id", "GOOD1,PO30 5AA,,,ASD,EHCP,3,,100001,yes", "pupil_ref", "duplicate of row 2"),
    ("empty id", ",PO30 5AA,,,ASD,EHCP,3,,100001,yes", "pupil_ref", "empty"),
    ("unknown need", "B,PO30 5AA,,,Wobbly,EHCP,3,,100001,yes", "need_type", "not a SEN2 need code"),
    ("empty need", "B,PO30 5AA,,,,EHCP,3,,100001,yes", "need_type", "expected one of ASD"),
    ("bad plan type", "B,PO30 5AA,,,ASD,maybe,3,,100001,yes", "plan_type", "EHCP or SEN support"),
    ("bad nc year", "B,PO30 5AA,,,ASD,EHCP,Y15,,100001,yes", "nc_year", "outside the NC years"),
    ("no year", "B,PO30 5AA,,,ASD,EHCP,,,100001,yes", "nc_year", "empty"),
    ("bad dob", "B,PO30 5AA,,,ASD,EHCP,,31/02/2015,100001,yes", "date_of_birth", "not a date"),
    ("adult dob", "B,PO30 5AA,,,ASD,EHCP,,1980-01-01,100001,yes", "date_of_birth", "outside"),
    ("no such setting", "B,PO30 5AA,,,ASD,EHCP,3,,999999,yes", "current_setting_id", "no such"),
    (
        "bad transport",
        "B,PO30 5AA,,,ASD,EHCP,3,,100001,sometimes",
        "transport_assisted",
        "yes or no",
    ),
    ("postcode unknown", "B,PO99 9QQ,,,ASD,EHCP,3,,100001,yes", "postcode", "not found in the"),
    (
        "postcode invalid",
        "B,NOTAPC,,,ASD,EHCP,3,,100001,yes",
        "postcode",
        "not a valid UK postcode",
    ),
    ("terminated", "B,PO30 1AA,,,ASD,EHCP,3,,100001,yes", "postcode", "terminated postcode"),
    (
        "outside (postcode)",
        "B,PO1 1AA,,,ASD,EHCP,3,,100001,yes",
        "postcode",
        "outside the authority",
    ),
    (
        "outside (coords)",
        "B,,300000,300000,ASD,EHCP,3,,100001,yes",
        "easting/northing",
        "outside the",
    ),
    ("not GB", "B,,-1.3,50.7,ASD,EHCP,3,,100001,yes", "easting/northing", "outside Great Britain"),
    ("half coords", "B,,450000,,ASD,EHCP,3,,100001,yes", "easting/northing", "both"),
    ("no location", "B,,,,ASD,EHCP,3,,100001,yes", "location", "no location given"),
    ("extra cells", "B,PO30 5AA,,,ASD,EHCP,3,,100001,yes,oops", "(row)", "more cells"),
]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [case[1:] for case in ROW_CASES],
    ids=[case[0] for case in ROW_CASES],
)
def test_pupil_row_rejections(
    tmp_path: Path, postcodes: PostcodeIndex, row: str, column: str, reason: str
) -> None:
    result = io.load_pupils(
        _pupils(tmp_path, row),
        postcodes=postcodes,
        setting_ids=SETTINGS,
        area=BOX,
        census_date="2025-01-16",
    )
    assert_accounted(result)
    assert (result.rows_read, result.rows_used, result.rows_rejected) == (2, 1, 1)
    rej = result.rejections
    assert set(rej["row"]) == {3}
    assert (rej["file"] == "pupils.csv").all()
    hit = rej[(rej["column"] == column) & rej["reason"].str.contains(reason, regex=False)]
    assert len(hit) >= 1, rej.to_string()


def test_all_problems_of_a_row_are_collected(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    path = _pupils(tmp_path, "B,NOTAPC,,,Wobbly,maybe,Y15,,999999,sometimes")
    result = io.load_pupils(path, postcodes=postcodes, setting_ids=SETTINGS)
    assert_accounted(result)
    assert result.rows_rejected == 1
    assert set(result.rejections["column"]) == {
        "need_type",
        "plan_type",
        "nc_year",
        "current_setting_id",
        "transport_assisted",
        "postcode",
    }


def test_no_pupil_values_in_messages(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    secrets = ["QX7SECRETREF", "Zorblaxneed", "KQ9 9QX", "Y77Q", "SETQX77", "perhapsQX"]
    rows = [
        f"{secrets[0]},{secrets[2]},,,{secrets[1]},EHCP,{secrets[3]},,{secrets[4]},{secrets[5]}",
        f"{secrets[0]},PO30 5AA,,,ASD,EHCP,3,,100001,yes",
    ]
    result = io.load_pupils(
        _pupils(tmp_path, *rows), postcodes=postcodes, setting_ids=SETTINGS, area=BOX
    )
    assert_accounted(result)
    assert result.rows_rejected == 2
    blob = result.rejections.to_csv() + "\n".join(result.notes)
    # a pupil's reference, location and setting are never quoted, nor free text ("Zorblaxneed",
    # "perhapsQX": neither is evidently a mistyped code); a short code ("Y77Q") is
    for secret in [s for s in secrets if s != "Y77Q"]:
        assert secret not in blob
        assert secret.lower() not in blob.lower()
    assert "'Y77Q'" in blob


def test_pupils_lat_lon_and_aliases(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    path = write(
        tmp_path,
        "Pupil Ref,Latitude,Longitude,Primary Need,SEN provision,Year Group,URN\n"
        "A1,50.700,-1.290,Autism,E,Reception,100001\n",
    )
    result = io.load_pupils(path, postcodes=postcodes, setting_ids=SETTINGS, area=BOX)
    assert_accounted(result)
    assert result.ok, result.rejections
    row = result.data.loc[2]
    assert row["origin_id"].startswith("EN:")
    assert 440_000 < row["easting"] < 460_000
    assert row["need_type"] == "ASD"
    assert row["nc_year"] == 0
    assert not row["transport_assisted"]
    assert any("transport_assisted" in n for n in result.notes)


def test_pupils_excel_with_extra_columns(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["pupil_ref", "postcode", "need_type", "plan_type", "date_of_birth", "school", "x"])
    ws.append(["A1", "po30 1ud", "SLCN", "EHCP", dt.datetime(2018, 9, 1), 100001, "note"])
    ws.append(["A2", "PO30 5AA", "HI", "SEN support", dt.datetime(2019, 8, 31), 100001, ""])
    path = tmp_path / "pupils.xlsx"
    book.save(path)
    result = io.load_pupils(path, postcodes=postcodes, census_date=dt.date(2023, 10, 5))
    assert_accounted(result)
    assert result.ok
    assert list(result.data["nc_year"]) == [0, 0]
    assert any("ignored columns: school, x" in n for n in result.notes)


@pytest.mark.parametrize(
    ("dob", "census", "expected"),
    [
        ("2018-09-01", "2023-10-01", 0),
        ("2019-08-31", "2023-10-01", 0),
        ("2019-09-01", "2023-10-01", -1),
        ("2019-09-01", "2024-09-01", 0),
        ("2012-05-14", "2025-01-16", 8),
        ("2008-12-25", "2025-06-30", 11),
    ],
)
def test_nc_year_from_birth(dob: str, census: str, expected: int) -> None:
    out = io.nc_year_from_birth(pd.Series(pd.to_datetime([dob])), census)
    assert out.iloc[0] == expected


def test_load_result_invariant_is_enforced() -> None:
    rej = pd.DataFrame({"file": ["f"], "row": [3], "column": ["c"], "reason": ["r"]})
    with pytest.raises(RuntimeError, match="row accounting"):
        io.LoadResult(data=pd.DataFrame(), rejections=rej, rows_read=5, rows_used=5)


# ---------------------------------------------------------------- provision


def test_load_provision_good(postcodes: PostcodeIndex) -> None:
    result = io.load_provision(DATA / "provision_good.csv", postcodes=postcodes, area=BOX)
    assert_accounted(result)
    assert result.ok
    data = result.data.set_index("setting_id")
    assert data.loc["100002", "easting"] == 449212  # located by postcode
    assert data.loc["100002", "phases"] == "secondary;post16"
    assert data.loc["100004", "phases"] == "primary;secondary;post16"
    assert data.loc["100004", "needs"] == "ASD;PMLD;SLD"
    assert data.loc["100003-IB-SEMH", "host_setting_id"] == "100003"
    assert data["capacity"].dtype == np.int64


def test_load_out_of_area(postcodes: PostcodeIndex) -> None:
    result = io.load_provision(
        DATA / "out_of_area_good.csv", postcodes=postcodes, in_area_default=False
    )
    assert_accounted(result)
    assert not result.data["in_area"].any()
    assert result.data["ferry_required"].all()


PROVISION_HEADER = (
    "setting_id,name,provision_type,host_setting_id,phases,needs,capacity,on_roll,easting,northing"
)
PROVISION_CASES: list[tuple[str, str, str, str]] = [
    ("negative capacity", "9,X,mainstream,,primary,,-3,0,450000,89000", "capacity", "0 or more"),
    ("empty capacity", "9,X,mainstream,,primary,,,0,450000,89000", "capacity", "empty"),
    ("bad type", "9,X,castle,,primary,,10,0,450000,89000", "provision_type", "mainstream"),
    (
        "base no host",
        "9,X,inclusion_base,,primary,ASD,10,0,450000,89000",
        "host_setting_id",
        "empty",
    ),
    ("unknown host", "9,X,SEN unit,77,primary,ASD,10,0,450000,89000", "host_setting_id", "no such"),
    ("bad phase", "9,X,special,,toddlers,,10,0,450000,89000", "phases", "not a phase"),
    ("bad need", "9,X,special,,primary,ASD;Zzz,10,0,450000,89000", "needs", "SEN2 need"),
    ("duplicate id", "1,X,mainstream,,primary,,10,0,450000,89000", "setting_id", "duplicate"),
    ("bad on roll", "9,X,mainstream,,primary,,10,many,450000,89000", "on_roll", "whole number"),
]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [case[1:] for case in PROVISION_CASES],
    ids=[case[0] for case in PROVISION_CASES],
)
def test_provision_row_rejections(tmp_path: Path, row: str, column: str, reason: str) -> None:
    good = "1,Good,mainstream,,primary,,100,90,450000,89000"
    path = write(tmp_path, f"{PROVISION_HEADER}\n{good}\n{row}\n", "provision.csv")
    result = io.load_provision(path)
    assert_accounted(result)
    assert (result.rows_read, result.rows_used, result.rows_rejected) == (2, 1, 1)
    rej = result.rejections
    assert ((rej["column"] == column) & rej["reason"].str.contains(reason, regex=False)).any(), rej


def test_provision_in_area_from_boundary(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{PROVISION_HEADER}\n1,A,mainstream,,primary,,100,90,450000,89000\n"
        "2,B,independent,,secondary,ASD,50,40,464340,100350\n",
        "provision.csv",
    )
    result = io.load_provision(path, area=BOX)
    assert list(result.data["in_area"]) == [True, False]


# ---------------------------------------------------------------- GIAS


def test_gias_sample_is_cp1252_with_real_header() -> None:
    raw = (DATA / "gias_sample.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.splitlines()[0].decode("cp1252").split(",")
    for col in ("URN", "TypeOfEstablishment (name)", "SEN13 (name)", "SenUnitCapacity"):
        assert col in header


def test_load_gias(postcodes: PostcodeIndex) -> None:
    result = io.load_gias(DATA / "gias_sample.csv", la_codes=["921"], postcodes=postcodes)
    assert_accounted(result)
    # 10 rows: 5 used, 2 rejected (unlocatable PRU, negative capacity), 3 skipped (closed,
    # Welsh establishment, other LA).
    assert (result.rows_read, result.rows_used, result.rows_rejected, result.rows_skipped) == (
        10,
        5,
        2,
        3,
    )
    rej = result.rejections.set_index("row")
    assert rej.loc[8, "column"] == "postcode"
    assert rej.loc[11, "column"] == "SchoolCapacity"
    data = result.data.set_index("setting_id")
    assert data.loc["990001", "name"] == "St Mary\u2019s Primary (fictional)"
    assert data.loc["990009", "name"].startswith("Caf\u00e9")
    assert data.loc["990003", "provision_type"] == "special"
    assert data.loc["990003", "needs"] == "ASD;PMLD;SLD"
    assert data.loc["990009", "provision_type"] == "fe"
    assert data.loc["990009", "phases"] == "post16"
    assert data.loc["990006", "easting"] == 449555  # from its postcode
    ib = data[data["provision_type"] == "inclusion_base"]
    assert set(ib.index) == {"990001-IB-ASD", "990002-IB-SEMH"}
    assert ib.loc["990001-IB-ASD", "host_setting_id"] == "990001"
    assert ib.loc["990001-IB-ASD", "needs"] == "ASD;SLCN"
    assert ib.loc["990001-IB-ASD", "capacity"] == 12
    assert ib.loc["990002-IB-SEMH", "capacity"] == 16
    assert data.loc["990001", "needs"] == ""  # mainstream: any need
    assert data["in_area"].all()


def test_load_gias_buffer_keeps_neighbouring_settings(postcodes: PostcodeIndex) -> None:
    result = io.load_gias(
        DATA / "gias_sample.csv", la_codes=["921"], area=BOX, buffer_m=5000, postcodes=postcodes
    )
    assert_accounted(result)
    data = result.data.set_index("setting_id")
    assert "990005" in data.index
    assert not data.loc["990005", "in_area"]
    assert data.loc["990005", "provision_type"] == "independent"


def test_load_provision_detects_gias(postcodes: PostcodeIndex) -> None:
    result = io.load_provision(DATA / "gias_sample.csv", postcodes=postcodes, la_codes=["921"])
    assert result.rows_skipped == 3
    assert "990002-IB-SEMH" in set(result.data["setting_id"])


# ---------------------------------------------------------------- sites


def test_load_sites(postcodes: PostcodeIndex) -> None:
    prov = io.load_provision(DATA / "provision_good.csv", postcodes=postcodes)
    result = io.load_sites(DATA / "candidate_sites_good.csv", provision=prov.data)
    assert_accounted(result)
    assert result.ok
    site = result.data.set_index("site_id")
    assert site.loc["CAND-01", "easting"] == 450100  # host school's location
    assert site.loc["CAND-02", "needs"] == "SEMH;SLCN"


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("S2,999,X,ASD,primary,10,1000,,,", "host_setting_id"),
        ("S2,100001,X,ASD,primary,0,1000,,,", "places"),
        ("S2,100001,X,ASD,primary,10,-1,,,", "capital_cost_gbp"),
        ("S2,100001,X,Zzz,primary,10,1000,,,", "needs"),
        ("S1,100001,X,ASD,primary,10,1000,,,", "site_id"),
    ],
)
def test_site_rejections(tmp_path: Path, row: str, column: str) -> None:
    header = "site_id,host_setting_id,name,needs,phases,places,capital_cost_gbp,x,easting,northing"
    good = "S1,100001,X,ASD,primary,10,1000,,450000,89000"
    path = write(tmp_path, f"{header}\n{good}\n{row}\n", "candidate_sites.csv")
    result = io.load_sites(path, setting_ids={"100001"})
    assert_accounted(result)
    assert result.rows_rejected == 1
    assert column in set(result.rejections["column"])


def test_site_outside_the_authority_is_rejected_and_swapped_coordinates_named(
    tmp_path: Path,
) -> None:
    """A candidate base outside the authority (plus 1 km) is rejected with its row; swapped
    easting and northing (a base in the sea that the model would still open) are named."""
    header = "site_id,host_setting_id,name,needs,phases,places,capital_cost_gbp,easting,northing"
    rows = [
        "S1,100001,In,ASD,primary,10,1000,450000,89000",
        "S2,100001,Swapped,ASD,primary,10,1000,89000,450000",
        "S3,100001,Far,ASD,primary,10,1000,300000,300000",
        "S4,100001,Edge,ASD,primary,10,1000,460500,89000",
    ]
    path = write(tmp_path, "\n".join([header, *rows]) + "\n", "candidate_sites.csv")
    area = gpd.GeoSeries([shapely.box(440000, 80000, 460000, 95000)], crs="EPSG:27700")
    result = io.load_sites(path, setting_ids={"100001"}, area=area, buffer_m=1000)
    assert_accounted(result)
    assert sorted(result.data["site_id"]) == ["S1", "S4"]  # S4 is within the 1 km allowance
    why = result.rejections.set_index("row")["reason"]
    assert "swapped" in why[3] and "(89000, 450000)" in why[3]  # file rows: header is 1
    assert "swapped" not in why[4] and "outside the authority (plus 1000 m)" in why[4]
    unchecked = io.load_sites(path, setting_ids={"100001"})
    assert unchecked.rows_rejected == 0


# ---------------------------------------------------------------- areas


def _areas_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "AREA_ID": ["W", "E", "E"],
            "imd_decile": [3, 8, 8],
            "ruc_class": ["Rural town and fringe", "Urban city and town", "Urban city and town"],
        },
        geometry=[
            shapely.box(428000, 74000, 450000, 98000),
            shapely.box(450000, 74000, 467000, 90000),
            shapely.box(450000, 90000, 467000, 98000),
        ],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")


@pytest.mark.parametrize(
    ("suffix", "driver"), [(".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".shp", "ESRI Shapefile")]
)
def test_load_areas_formats(tmp_path: Path, suffix: str, driver: str) -> None:
    path = tmp_path / f"areas{suffix}"
    _areas_gdf().to_file(path, driver=driver)
    areas = io.load_areas(path)
    assert areas.crs.to_epsg() == 27700
    assert sorted(areas["area_id"]) == ["E", "W"]  # duplicate ids dissolved
    assert set(areas["ruc_class"]) == {"rural", "urban"}


def test_load_areas_errors(tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    _areas_gdf().to_file(path)
    with pytest.raises(InputFileError, match="did you mean 'AREA_ID'"):
        io.load_areas(path, id_col="area_code")
    points = tmp_path / "points.gpkg"
    gpd.GeoDataFrame({"area_id": ["a"]}, geometry=[shapely.Point(0, 0)], crs=27700).to_file(points)
    with pytest.raises(InputFileError, match="expected polygons"):
        io.load_areas(points)
    with pytest.raises(InputFileError, match="not found"):
        io.load_areas(tmp_path / "nope.gpkg")


def test_assign_areas_within_and_nearest() -> None:
    areas = _areas_gdf().to_crs(27700).rename(columns={"AREA_ID": "area_id"})
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([430000, 460000, 460000, 470000], [80000, 80000, 95000, 80000]),
        crs=27700,
        index=[5, 6, 7, 8],
    )
    out = io.assign_areas(pts, areas)
    assert list(out.index) == [5, 6, 7, 8]
    assert list(out) == ["W", "E", "E", "E"]  # the last one is in the sea: nearest area
    with pytest.raises(SchemaValidationError, match="1 points are farther"):
        io.assign_areas(pts, areas, max_distance_m=100)
    with pytest.raises(CRSError):
        io.assign_areas(pts.to_crs(4326), areas)


def test_write_layers_roundtrip(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    prov = io.load_provision(DATA / "provision_good.csv", postcodes=postcodes)
    out = tmp_path / "out" / "layers.gpkg"
    io.write_layers(
        out, {"provision": prov.data, "boundary": gpd.GeoDataFrame(geometry=[BOX], crs=27700)}
    )
    back = gpd.read_file(out, layer="provision")
    assert len(back) == len(prov.data)
    assert back.crs.to_epsg() == 27700
    with pytest.raises(CRSError):
        io.write_layers(out, {"x": gpd.GeoDataFrame(geometry=[BOX])})


# ---------------------------------------------------------------- reading that never guesses


@pytest.mark.parametrize(
    ("written", "year"),
    [
        ("1", 1),
        ("01", 1),
        ("1.0", 1),  # what pandas writes in a column that has a blank
        ("10.0", 10),
        ("0", 0),
        ("-1", -1),
        ("14", 14),
        ("Y1", 1),
        ("y 1", 1),
        ("Yr 3", 3),
        ("Year 1", 1),
        ("YEAR 11", 11),
        ("NC 7", 7),
        ("Year group 6", 6),
        ("R", 0),
        ("Reception", 0),
        ("YR", 0),
        ("N1", -1),
        ("N2", -1),
        ("Nursery", -1),
    ],
)
def test_nc_year_written_forms(tmp_path: Path, postcodes: PostcodeIndex, written, year) -> None:
    path = _pupils(tmp_path, f'B,PO30 5AA,,,ASD,EHCP,"{written}",,100001,yes')
    result = io.load_pupils(path, postcodes=postcodes, setting_ids=SETTINGS)
    assert_accounted(result)
    assert result.ok, result.rejections.to_string()
    assert result.data.set_index("pupil_ref").loc["B", "nc_year"] == year


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("1-2", "a range"),
        ("1 - 2", "a range"),
        ("Y1/Y2", "a range"),
        ("-1.0", "negative decimal"),
        ("1.5", "not a whole year"),
        ("Y15", "outside the NC years"),
        ("15", "outside the NC years"),
        ("-2", "outside the NC years"),
        ("Year one", "not an NC year"),
        ("12a", "not an NC year"),
    ],
)
def test_nc_year_ambiguous_refused(
    tmp_path: Path, postcodes: PostcodeIndex, written: str, reason: str
) -> None:
    path = _pupils(tmp_path, f'B,PO30 5AA,,,ASD,EHCP,"{written}",,100001,yes')
    result = io.load_pupils(path, postcodes=postcodes, setting_ids=SETTINGS)
    assert_accounted(result)
    rej = result.rejections
    assert list(rej["row"]) == [3]
    assert list(rej["column"]) == ["nc_year"]
    assert list(rej["file"]) == ["pupils.csv"]
    assert reason in rej["reason"].iloc[0]
    # a short NC year is quoted (as a need code is: not identifying); longer text is not
    found = f"{written!r}: " if len(written) <= 5 else "the value (not shown: pupil data): "
    assert rej["reason"].iloc[0].startswith(found)
    assert list(result.data["pupil_ref"]) == ["GOOD1"]


def test_nc_year_float_column_with_blank_round_trip(tmp_path: Path, postcodes) -> None:
    """A frame with a blank year written by pandas gives 1.0, 10.0: read as 1 and 10, not 10."""
    df = pd.DataFrame(
        {
            "pupil_ref": ["A", "B", "C"],
            "postcode": ["PO30 1UD", "PO30 5AA", "PO30 5AA"],
            "need_type": "ASD",
            "plan_type": "EHCP",
            "nc_year": [1, 10, None],
            "date_of_birth": [None, None, "2012-05-14"],
        }
    )
    path = tmp_path / "pupils.csv"
    df.to_csv(path, index=False)
    assert "1.0" in path.read_text()
    result = io.load_pupils(path, postcodes=postcodes, census_date="2025-01-16")
    assert result.ok, result.rejections.to_string()
    assert list(result.data["nc_year"]) == [1, 10, 8]


def test_blank_transport_assisted_is_unknown(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    path = _pupils(tmp_path, "B,PO30 5AA,,,ASD,EHCP,3,,100001,", "C,PO30 5AA,,,ASD,EHCP,3,,,no")
    result = io.load_pupils(path, postcodes=postcodes, setting_ids=SETTINGS)
    assert_accounted(result)
    assert result.ok, result.rejections.to_string()
    data = result.data.set_index("pupil_ref")
    assert list(data["transport_assisted"]) == [True, False, False]
    assert list(data["transport_assisted_known"]) == [True, False, True]
    assert any("1 pupils have a blank transport_assisted" in n for n in result.notes)
    assert any("counted as not assisted in transport cost" in n for n in result.notes)


def test_no_transport_column_all_unknown(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    path = write(tmp_path, "pupil_ref,postcode,need_type,plan_type,nc_year\nA,PO30 1UD,ASD,E,3\n")
    result = io.load_pupils(path, postcodes=postcodes)
    assert result.ok
    assert not result.data["transport_assisted"].any()
    assert not result.data["transport_assisted_known"].any()
    assert any("no transport_assisted column" in n for n in result.notes)


def test_gias_skipped_rows_itemised(postcodes: PostcodeIndex) -> None:
    result = io.load_gias(DATA / "gias_sample.csv", la_codes=["921"], postcodes=postcodes)
    skipped = result.skipped.set_index("row")
    assert len(skipped) == result.rows_skipped == 3
    assert list(result.skipped.columns) == list(io.REJECTION_COLUMNS)
    assert skipped.loc[5, "column"] == "EstablishmentStatus (name)"
    assert "not open (status 'Closed')" in skipped.loc[5, "reason"]
    assert skipped.loc[6, "column"] == "LA (code)"
    assert "another LA (LA code 851)" in skipped.loc[6, "reason"]
    assert skipped.loc[9, "column"] == "TypeOfEstablishment (name)"
    assert "Welsh establishment" in skipped.loc[9, "reason"]
    assert result.skipped["reason"].str.startswith("skipped:").all()
    assert result.skipped_ids["990004"] == "closed school (gias_sample.csv row 5)"
    # skipped rows are not rejections
    assert not set(result.rejections["row"]) & set(skipped.index)


def test_pupil_at_closed_school_told_so(tmp_path: Path, postcodes: PostcodeIndex) -> None:
    gias = io.load_gias(DATA / "gias_sample.csv", la_codes=["921"], postcodes=postcodes)
    known = set(gias.data["setting_id"])
    path = write(
        tmp_path,
        "pupil_ref,postcode,need_type,plan_type,nc_year,current_setting_id\n"
        "A,PO30 1UD,ASD,EHCP,3,990001\nB,PO30 1UD,ASD,EHCP,3,990004\n"
        "C,PO30 1UD,ASD,EHCP,3,990005\nD,PO30 1UD,ASD,EHCP,3,123\n",
    )
    result = io.load_pupils(
        path, postcodes=postcodes, setting_ids=known, skipped_settings=gias.skipped_ids
    )
    assert_accounted(result)
    rej = result.rejections.set_index("row")["reason"]
    assert rej[3].startswith(
        "current setting is a closed school (URN 990004, gias_sample.csv row 5)"
    )
    assert "another LA" in rej[4] and "URN 990005" in rej[4]
    assert rej[5].startswith("no such setting")
    assert list(result.data["pupil_ref"]) == ["A"]
