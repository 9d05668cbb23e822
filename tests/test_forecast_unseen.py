"""`placeplan forecast` on release files as the national download holds them (authorities unseen).

The fixtures are built in the test from the shipped sample (Isle of Wight and Southampton, as
published): national and regional rows that are sums, authorities relabelled, recoded or split,
suppressed cells, years missing, a BOM, quoted thousands, reordered and extra columns, renamed
files. Each check compares against the forecast of the untouched sample, or checks the contract:
exactly one authority, finite ranges with ``0 <= lower <= central <= upper``, exit code 2 with a
message naming the file and column, and nothing after ``--base-year`` read.
"""

from __future__ import annotations

import functools
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight" / "sen2"
ROLES = ("caseload", "newplans", "sen_needs_all_plans", "ceased_plans")
_IDS = 12  # the EES identifier columns before the measures
IOW, SOTON = "E06000046", "E06000045"


@functools.cache
def _sample(role: str) -> pd.DataFrame:
    name = f"ehcp2025_{role}_iow-southampton.csv"
    return pd.read_csv(SAMPLE / name, dtype=str, keep_default_na=False)


def _frames() -> dict[str, pd.DataFrame]:
    return {role: _sample(role).copy() for role in ROLES}


def _la(df: pd.DataFrame, code: str) -> pd.DataFrame:
    return df[df["new_la_code"] == code].copy()


def _relabel(df: pd.DataFrame, new: str, old: str, name: str) -> pd.DataFrame:
    return df.assign(new_la_code=new, old_la_code=old, la_name=name)


def _scale(df: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns[_IDS:]:
        if col.lower().endswith("_pc") or col == "max_age":
            continue
        v = pd.to_numeric(out[col], errors="coerce")
        scaled = (v * factor).round().astype("Int64").astype("string")
        out[col] = out[col].where(v.isna(), scaled)
    return out


def _sums(df: pd.DataFrame, level: str) -> pd.DataFrame:
    """National or regional rows: the sum of the authorities' rows, as the release has them."""
    num = df.copy()
    measures = list(df.columns[_IDS:])
    num[measures] = num[measures].apply(pd.to_numeric, errors="coerce")
    keys = ["time_period", "time_identifier", "breakdown_topic", "breakdown", "region_code"]
    out = num.groupby(keys, sort=False)[measures].sum(min_count=1).reset_index()
    out[measures] = out[measures].map(lambda v: "x" if pd.isna(v) else str(int(v)))
    out = out.assign(
        geographic_level=level,
        country_code="E92000001",
        country_name="England",
        region_name="South East" if level == "Regional" else "",
        new_la_code="",
        old_la_code="",
        la_name="",
    )
    if level == "National":
        out["region_code"] = ""
    return out[df.columns]


def _national(la_rows: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [_sums(la_rows, "National"), _sums(la_rows, "Regional"), la_rows], ignore_index=True
    )


def _write(folder: Path, frames: dict[str, pd.DataFrame], prefix: str = "ehcp2025") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, df in frames.items():
        df.to_csv(folder / f"{prefix}_{role}.csv", index=False)
    return folder


def _run(
    sen2: Path, la: str, out: Path, *extra: str, years: int = 3
) -> tuple[int, pd.DataFrame | None]:
    args = ["forecast", "--sen2", str(sen2), "--la", la, "--years", str(years), "--out", str(out)]
    code = main([*args, *extra])
    if code != 0:
        return code, None
    return code, pd.read_csv(out, dtype={"year": str, "measure": str})


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("placeplan")]
    assert len(lines) == 1, lines
    return lines[0]


def _assert_sane(df: pd.DataFrame) -> None:
    values = df[["central", "lower", "upper"]]
    assert np.isfinite(values.to_numpy(dtype=float)).all(), df[values.isna().any(axis=1)]
    assert (df["lower"] >= 0).all()
    assert ((df["lower"] <= df["central"]) & (df["central"] <= df["upper"])).all()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The sample's own forecasts (Isle of Wight, latest and 2021/22 base), to compare with."""
    tmp = tmp_path_factory.mktemp("reference")
    folder = _write(tmp / "sen2", _frames())
    out = {}
    for base in ("latest", "2021/22"):
        extra = () if base == "latest" else ("--base-year", base)
        code, df = _run(folder, "921", tmp / "f.csv", *extra)
        assert code == 0 and df is not None
        out[base] = df
    return out


# --------------------------------------------------------------------------------------------
# which rows: levels, authorities, codes


def _national_frames(
    transform: Callable[[str, pd.DataFrame], pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """National + regional sums, both real authorities and a county six times Southampton."""
    frames = {}
    for role, df in _frames().items():
        county = _relabel(_scale(_la(df, SOTON), 6), "E10000030", "936", "Surrey")
        las = pd.concat([df, county], ignore_index=True)
        if transform is not None:
            las = transform(role, las)
        frames[role] = _national(las)
    return frames


def test_national_file_gives_the_sample_forecast(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    folder = _write(tmp_path / "sen2", _national_frames())
    for la in ("921", "E06000046", " e06000046 "):
        code, df = _run(folder, la, tmp_path / "f.csv")
        assert code == 0 and df is not None
        pd.testing.assert_frame_equal(df, reference["latest"])


def test_recoded_authority_reads_its_whole_series(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    # the Isle of Wight published under another new code up to 2022/23 (calendar 2022), keeping
    # its old code, as North Yorkshire (E10000023 -> E06000065, 815) and Somerset were
    def recode(role: str, df: pd.DataFrame) -> pd.DataFrame:
        early = (df["new_la_code"] == IOW) & (df["time_period"].str[:4].astype(int) < 2023)
        df.loc[early, "new_la_code"] = "E10000099"
        return df

    folder = _write(tmp_path / "sen2", _national_frames(recode))
    for la in ("921", "E06000046", "E10000099"):
        code, df = _run(folder, la, tmp_path / "f.csv")
        assert code == 0 and df is not None, la
        pd.testing.assert_frame_equal(df, reference["latest"])


def test_two_authorities_with_one_code_in_the_same_year_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def clash(role: str, df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["new_la_code"] == "E10000030", "old_la_code"] = "921"
        return df

    folder = _write(tmp_path / "sen2", _national_frames(clash))
    code, _ = _run(folder, "921", tmp_path / "f.csv")
    assert code == 2
    err = _error(capsys)
    assert "caseload" in err and "E10000030" in err and "E06000046" in err


def test_split_authority_uses_only_its_own_years(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Cumbria (909) split into Cumberland (942) and Westmorland and Furness (943) from 2023/24
    def split(role: str, df: pd.DataFrame) -> pd.DataFrame:
        iow = _la(df, IOW)
        late = iow["time_period"].str[:4].astype(int) >= 2023
        parts = [
            _relabel(iow[~late], "E10000006", "909", "Cumbria"),
            _relabel(_scale(iow[late], 0.5), "E06000063", "942", "Cumberland"),
            _relabel(_scale(iow[late], 0.5), "E06000064", "943", "Westmorland and Furness"),
        ]
        return pd.concat([df[df["new_la_code"] != IOW], *parts], ignore_index=True)

    folder = _write(tmp_path / "sen2", _national_frames(split))
    code, df = _run(folder, "942", tmp_path / "f.csv")
    assert code == 0 and df is not None
    _assert_sane(df)
    first = df[(df["measure"] == "ehcplans")]["central"].iloc[0]
    assert 0.8 * 1799 / 2 < first < 1.3 * 1799 / 2  # half the island, not the county's sum
    code, _ = _run(folder, "E06000063", tmp_path / "g.csv", "--base-year", "2023/24")
    assert code == 2
    err = _error(capsys)
    assert "caseload" in err and "ehcplans" in err and "Cumberland" in err


# --------------------------------------------------------------------------------------------
# suppressed cells and missing years


def test_a_missing_year_gives_finite_ranges(tmp_path: Path) -> None:
    frames = _frames()
    for role, df in frames.items():
        frames[role] = df[~df["time_period"].isin(["202021", "2020"])]
    folder = _write(tmp_path / "sen2", frames)
    for base in ("2021/22", "2022/23"):
        code, df = _run(folder, "921", tmp_path / "f.csv", "--base-year", base)
        assert code == 0 and df is not None
        _assert_sane(df)


def test_suppressed_base_year_total_names_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = _frames()
    case = frames["caseload"]
    case.loc[(case["time_period"] == "202122") & (case["new_la_code"] == IOW), "ehcplans"] = "c"
    folder = _write(tmp_path / "sen2", frames)
    code, _ = _run(folder, "921", tmp_path / "f.csv", "--base-year", "2021/22")
    assert code == 2
    err = _error(capsys)
    assert "caseload" in err and "ehcplans" in err and "2021/22" in err and "suppressed" in err
    code, df = _run(folder, "921", tmp_path / "g.csv", "--base-year", "2022/23")
    assert code == 0 and df is not None
    _assert_sane(df)


def test_a_never_published_measure_is_left_out_not_zero(tmp_path: Path) -> None:
    frames = _frames()
    case = frames["caseload"]
    case.loc[case["new_la_code"] == IOW, "special_non_maintained"] = "x"
    new = frames["newplans"]
    new.loc[new["new_la_code"] == IOW, "special_non_maintained"] = "z"
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    _assert_sane(df)
    measures = set(df["measure"])
    assert "special_non_maintained" not in measures
    assert "special_independent_non_maintained" not in measures
    assert {"ehcplans", "special_independent", "special_la_maintained"} <= measures


@pytest.mark.parametrize("columns", ["all", "ehcplans"])
def test_suppressed_ages_at_the_base_year_are_not_zero(
    tmp_path: Path, reference: dict[str, pd.DataFrame], columns: str
) -> None:
    # every by-age cell of the latest census suppressed: the model must use the census before,
    # not an age profile of zeros (needs were off by 64 %, types by 97 %)
    frames = _frames()
    case = frames["caseload"]
    rows = (case["breakdown_topic"] == "Child or young persons age") & (
        case["time_period"] == "202425"
    )
    cols = list(case.columns[_IDS:]) if columns == "all" else ["ehcplans"]
    case.loc[rows, cols] = "x"
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    _assert_sane(df)
    mine = df.set_index(["year", "measure"])["central"]
    ref = reference["latest"].set_index(["year", "measure"])["central"]
    big = ref[ref > 100]
    assert np.allclose(mine.reindex(big.index), big, rtol=0.2)


def test_one_type_suppressed_at_the_base_year_leaves_the_others_alone(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    # one cell: the remainder took the suppressed type's plans, every other type fell by 2/3
    frames = _frames()
    case = frames["caseload"]
    rows = (case["time_period"] == "202425") & (case["breakdown_topic"] == "All EHC plans")
    case.loc[rows & (case["new_la_code"] == IOW), "mainstream_total"] = "c"
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    _assert_sane(df)
    mine = df.set_index(["year", "measure"])["central"]
    ref = reference["latest"].set_index(["year", "measure"])["central"]
    others = ["special_la_maintained", "special_total", "ed_elsewhere", "nm_early_years", "SEMH"]
    keys = [k for k in ref.index if k[1] in others]
    assert np.allclose(mine.reindex(keys), ref.reindex(keys), rtol=0.05)
    types = [*others[:1], "mainstream_total", "special_academy_free", "special_independent"]
    types += ["special_non_maintained", "ap_pru_total", "fe_total", "ed_elsewhere"]
    types += ["nm_early_years"]
    last = df[df["year"] == "2027/28"].set_index("measure")["central"]
    assert last[types].sum() <= last["ehcplans"] + 1e-6
    assert last[types].sum() > 0.9 * last["ehcplans"]


def test_small_authority_with_many_suppressed_cells(tmp_path: Path) -> None:
    # a thirtieth of the island, every count under 5 suppressed with the markers the DfE uses
    markers = ["x", "c", "z", "u", "low", ""]
    frames = {}
    for role, df in _frames().items():
        tiny = _scale(_la(df, IOW), 1 / 30)
        cells = tiny.iloc[:, _IDS:]
        v = cells.apply(pd.to_numeric, errors="coerce")
        small = (v > 0) & (v < 5)
        picks = np.arange(small.size).reshape(small.shape) % len(markers)
        marked = pd.DataFrame(np.array(markers)[picks], index=cells.index, columns=cells.columns)
        tiny.iloc[:, _IDS:] = cells.mask(small, marked)
        frames[role] = _national(
            pd.concat([df, _relabel(tiny, "E06000053", "420", "Isles of Scilly")])
        )
    folder = _write(tmp_path / "sen2", frames)
    last = 1799 / 30
    for base in (None, "2021/22", "2023/24"):
        extra = () if base is None else ("--base-year", base)
        code, df = _run(folder, "420", tmp_path / "f.csv", *extra, years=5)
        assert code == 0 and df is not None, base
        _assert_sane(df)
        total = df[df["measure"] == "ehcplans"]["central"]
        assert (total > 0.4 * last).all() and (total < 3 * last).all()


def test_scaled_authority_scales_the_forecast(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    frames = _national_frames()
    for role in ROLES:
        scaled = _relabel(_scale(_la(_sample(role), IOW), 10), "E10000099", "999", "Tenfold")
        frames[role] = pd.concat([frames[role], scaled], ignore_index=True)
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "999", tmp_path / "f.csv")
    assert code == 0 and df is not None
    _assert_sane(df)
    mine = df[df["measure"] == "ehcplans"]["central"].to_numpy()
    ref = reference["latest"]
    theirs = ref[ref["measure"] == "ehcplans"]["central"].to_numpy()
    assert np.allclose(mine, 10 * theirs, rtol=0.01)


# --------------------------------------------------------------------------------------------
# layouts: encoding, formats, columns, file names


def test_bom_thousands_reordered_and_extra_columns(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    folder = tmp_path / "sen2"
    folder.mkdir()
    for role, df in _national_frames().items():
        measures = list(df.columns[_IDS:])
        df[measures] = df[measures].map(lambda v: f"{int(v):,}" if v.isdigit() else v)
        df = df.assign(version="2026-06", new_measure_2026="7")
        buf = io.StringIO()
        df[list(reversed(df.columns))].to_csv(buf, index=False)
        (folder / f"ehcp2026_{role}.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    assert '"1,799"' in (folder / "ehcp2026_caseload.csv").read_text(encoding="utf-8-sig")
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["latest"])


def test_release_folder_as_downloaded_with_data_subfolder(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    root = tmp_path / "ehcp-release"
    _write(root / "data", _frames())
    (root / "data-guidance").mkdir()
    (root / "data-guidance" / "data-guidance.txt").write_text("guidance\n")
    (root / "data" / "ehcp2025_caseload.meta.csv").write_text("col_name,label\nehcplans,Plans\n")
    code, df = _run(root, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["latest"])


def test_a_second_age_breakdown_of_needs_is_not_added_in(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    # a release adding needs by "Age when plan started" next to the child's age
    frames = _frames()
    needs = frames["sen_needs_all_plans"]
    extra = needs[needs["breakdown_topic"] == "Child or young persons age"].copy()
    extra["breakdown_topic"] = "Age when plan started"
    extra[["number_asd", "number_slcn"]] = extra[["number_slcn", "number_asd"]].to_numpy()
    frames["sen_needs_all_plans"] = pd.concat([needs, extra], ignore_index=True)
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["latest"])


def test_release_zip_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _write(tmp_path / "release", _frames())
    archive = shutil.make_archive(str(tmp_path / "ehcp-2025"), "zip", folder)
    code, _ = _run(Path(archive), "921", tmp_path / "f.csv")
    assert code == 2
    err = _error(capsys)
    assert "ehcp-2025.zip" in err and "unzip" in err


def test_renamed_new_plans_file_is_still_read(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    folder = _write(tmp_path / "sen2", _frames(), prefix="ehcp2026")
    shutil.move(folder / "ehcp2026_newplans.csv", folder / "ehcp2026_new_plans.csv")
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["latest"])


def test_two_releases_in_one_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _write(tmp_path / "sen2", _frames())
    shutil.copy(folder / "ehcp2025_caseload.csv", folder / "ehcp2026_caseload.csv")
    code, _ = _run(folder, "921", tmp_path / "f.csv")
    assert code == 2
    err = _error(capsys)
    assert "ehcp2025_caseload.csv" in err and "ehcp2026_caseload.csv" in err


def test_renamed_total_column_is_exit_2_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = _frames()
    frames["caseload"] = frames["caseload"].rename(columns={"ehcplans": "total_plans"})
    folder = _write(tmp_path / "sen2", frames)
    code, _ = _run(folder, "921", tmp_path / "f.csv")
    assert code == 2
    err = _error(capsys)
    assert "caseload" in err and "ehcplans" in err


def test_old_total_column_name_of_the_needs_table_is_accepted(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    frames = _frames()
    frames["caseload"] = frames["caseload"].rename(columns={"ehcplans": "ehc_plans"})
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["latest"])


# --------------------------------------------------------------------------------------------
# --base-year: nothing later is read


@pytest.mark.parametrize("how", ["scale", "suppress", "drop"])
def test_base_year_reads_nothing_later_in_any_file(
    tmp_path: Path, reference: dict[str, pd.DataFrame], how: str
) -> None:
    rng = np.random.default_rng(3)
    frames = _frames()
    for role, df in frames.items():
        period = df["time_period"]
        # academic 202223 and later; calendar 2022 and later (first counted in 2022/23)
        later = period.str[:4].astype(int) >= 2022
        if how == "drop":
            frames[role] = df[~later]
            continue
        for col in df.columns[_IDS:]:
            v = pd.to_numeric(df[col], errors="coerce")
            hit = later & v.notna()
            if how == "scale":
                new = (v * rng.uniform(0.3, 3.0, len(v))).round().astype("Int64").astype("string")
                df.loc[hit, col] = new[hit]
            else:
                df.loc[later, col] = "x"
    folder = _write(tmp_path / "sen2", frames)
    code, df = _run(folder, "921", tmp_path / "f.csv", "--base-year", "2021/22")
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, reference["2021/22"])


def test_sen2_check_reads_quoted_thousands_and_every_marker() -> None:
    from placeplan.prepare.sen2_check import compare_baseline_to_sen2

    prov = pd.DataFrame({"setting_id": ["1"], "provision_type": ["special"], "in_area": [True]})
    pupils = pd.DataFrame({"current_setting_id": ["1"]})
    sen2 = pd.DataFrame(
        {
            "new_la_code": [IOW],
            "time_period": ["202425"],
            "breakdown_topic": ["All EHC plans"],
            "special_la_maintained": ["1,234"],
            "special_academy_free": ["low"],
            "special_independent": ["[c]"],
        }
    )
    t = compare_baseline_to_sen2(pupils, prov, {"placement": sen2}, la_code=IOW).set_index(
        "measure"
    )
    assert t.loc["Special - LA maintained and academy/free", "published"] == 1234.0
    assert np.isnan(t.loc["Special - independent", "published"])


def _requests_frame() -> pd.DataFrame:
    """A requests file shaped as published, for both authorities: 2 x new plans + 7 a year."""
    new = _sample("newplans")
    rows = new[new["breakdown_topic"] == "New EHC plans"].iloc[:, :_IDS].copy()
    plans = pd.to_numeric(new.loc[rows.index, "new_ehc_plans"], errors="coerce")
    asked = 2 * plans + 7 * (rows["time_period"].astype(int) - 2018)
    rows["breakdown_topic"] = "All requests for EHC needs assessments"
    rows["breakdown"] = "All requests for EHC needs assessments"
    rows["requests_received_in_year"] = asked.astype("Int64").astype("string").fillna("x")
    return rows.reset_index(drop=True)


@pytest.mark.parametrize("how", ["scale", "suppress", "drop"])
def test_base_year_reads_no_later_requests_with_the_lead_indicator_on(
    tmp_path: Path, reference: dict[str, pd.DataFrame], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import placeplan.compute.forecast as fc_module

    monkeypatch.setattr(fc_module, "_NEW_LEAD", True)
    frames = {**_frames(), "requests": _requests_frame()}
    code, ref = _run(_write(tmp_path / "a", frames), "921", tmp_path / "a.csv", "--base-year",
                     "2021/22")  # fmt: skip
    assert code == 0 and ref is not None
    # the requests are used (else this test could not fail)
    assert not np.allclose(ref["central"], reference["2021/22"]["central"])
    rng = np.random.default_rng(5)
    for role, df in frames.items():
        later = df["time_period"].str[:4].astype(int) >= 2022
        if how == "drop":
            frames[role] = df[~later]
            continue
        for col in df.columns[_IDS:]:
            v = pd.to_numeric(df[col], errors="coerce")
            if how == "scale":
                new = (v * rng.uniform(0.3, 3.0, len(v))).round().astype("Int64").astype("string")
                df.loc[later & v.notna(), col] = new[later & v.notna()]
            else:
                df.loc[later, col] = "x"
    code, df = _run(_write(tmp_path / "b", frames), "921", tmp_path / "b.csv", "--base-year",
                    "2021/22")  # fmt: skip
    assert code == 0 and df is not None
    pd.testing.assert_frame_equal(df, ref)
