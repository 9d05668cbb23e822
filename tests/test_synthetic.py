"""Tests of placeplan.prepare.synthetic: seeded cohort reproduces marginals and
respects settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan import InfeasibleModelError, SchemaValidationError
from placeplan.needs import NEED_CODES, PHASES, split_codes
from placeplan.prepare.sen2_check import compare_baseline_to_sen2
from placeplan.prepare.synthetic import fit_ipf, fit_joint_counts, synthesise_pupils

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"

NEEDS = {"ASD": 30, "SEMH": 20, "SLCN": 25, "SLD": 8, "PMLD": 4, "HI": 3}
PLACEMENTS = {"mainstream": 55, "inclusion_base": 6, "special": 20, "independent": 5, "fe": 4}


@pytest.fixture
def postcodes() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "postcode": [f"PO{30 + i // 20} {i % 10}A{chr(65 + i % 20)}" for i in range(n)],
            "easting": rng.integers(440_000, 460_000, n),
            "northing": rng.integers(80_000, 95_000, n),
            "lsoa11cd": [f"E0100000{i % 3}" for i in range(n)],
            "date_terminated": [pd.NA] * (n - 2) + ["201901", "202001"],
        }
    )


@pytest.fixture
def areas() -> pd.DataFrame:
    return pd.DataFrame({"area_id": ["E01000000", "E01000001", "E01000002"],
                         "population": [1500, 2000, 0]})  # fmt: skip


@pytest.fixture
def provision() -> pd.DataFrame:
    rows = [
        ("100001", "mainstream", "primary", "", 300, 445_000, 85_000, True, False),
        ("100002", "mainstream", "primary", "", 200, 455_000, 90_000, True, False),
        ("100003", "mainstream", "secondary;post16", "", 1200, 450_000, 88_000, True, False),
        ("100001-IB-ASD", "inclusion_base", "primary", "ASD", 4, 445_000, 85_000, True, False),
        ("100003-IB-SLCN", "inclusion_base", "secondary", "SLCN;ASD", 6, 450_000, 88_000, True,
         False),
        ("100010", "special", "primary;secondary", "", 12, 449_000, 87_000, True, False),
        ("OOA-1", "special", "primary;secondary;post16", "SLD;PMLD;ASD", 40, 440_000, 110_000,
         False, True),
        ("OOA-2", "independent", "secondary;post16", "", 10, 465_000, 102_000, False, True),
        ("100020", "fe", "post16", "", 500, 450_500, 89_000, True, False),
    ]  # fmt: skip
    cols = ["setting_id", "provision_type", "phases", "needs", "capacity", "easting", "northing",
            "in_area", "ferry_required"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _make(postcodes, areas, provision, seed=1, **kw):
    return synthesise_pupils(postcodes, areas, NEEDS, PLACEMENTS, provision, seed=seed, **kw)


def test_same_seed_identical(postcodes, areas, provision) -> None:
    a = _make(postcodes, areas, provision, seed=3)
    b = _make(postcodes, areas, provision, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_csv(index=False) == b.to_csv(index=False)


def test_different_seed_differs(postcodes, areas, provision) -> None:
    a = _make(postcodes, areas, provision, seed=3)
    b = _make(postcodes, areas, provision, seed=4)
    assert not a.equals(b)


def test_marginals_exact(postcodes, areas, provision) -> None:
    df = _make(postcodes, areas, provision)
    assert df["need_type"].value_counts().to_dict() == NEEDS
    types = df["current_setting_id"].map(provision.set_index("setting_id")["provision_type"])
    assert types.value_counts().to_dict() == PLACEMENTS
    assert df["pupil_ref"].is_unique
    assert list(df.columns) == ["pupil_ref", "postcode", "need_type", "plan_type", "nc_year",
                                "current_setting_id", "transport_assisted"]  # fmt: skip


def test_pupils_valid(postcodes, areas, provision) -> None:
    df = _make(postcodes, areas, provision)
    live = postcodes[postcodes["date_terminated"].isna()]
    populated = live[live["lsoa11cd"] != "E01000002"]  # zero population: never drawn
    assert df["postcode"].isin(populated["postcode"]).all()
    assert df["need_type"].isin(NEED_CODES).all()
    assert (df["plan_type"] == "EHCP").all()
    prov = provision.set_index("setting_id")
    assert df["current_setting_id"].isin(prov.index).all()
    for row in df.itertuples():
        phases = prov.loc[row.current_setting_id, "phases"].split(";")
        assert any(PHASES[p][0] <= row.nc_year <= PHASES[p][1] for p in phases), row
        needs = prov.loc[row.current_setting_id, "needs"]
        assert not needs or row.need_type in needs.split(";"), row


def test_capacity_never_exceeded(postcodes, areas, provision) -> None:
    df = _make(postcodes, areas, provision)
    used = df["current_setting_id"].value_counts()
    cap = provision.set_index("setting_id")["capacity"]
    assert (used <= cap.reindex(used.index)).all()
    # the tight special school fills up; the rest go to the out-of-area one
    assert used["100010"] == 12
    assert used.get("OOA-1", 0) == PLACEMENTS["special"] - 12


def test_prior_zero_respected_and_observed_joint_reproduced() -> None:
    prior = pd.DataFrame({"mainstream": [1.0, 0.0], "special": [1.0, 1.0]}, index=["ASD", "PMLD"])
    joint = fit_joint_counts({"ASD": 10, "PMLD": 5}, {"mainstream": 7, "special": 8}, prior=prior)
    assert joint.loc["PMLD", "mainstream"] == 0
    observed = pd.DataFrame({"mainstream": [7, 0], "special": [3, 5]}, index=["ASD", "PMLD"])
    again = fit_joint_counts({"ASD": 10, "PMLD": 5}, {"mainstream": 7, "special": 8},
                             prior=observed)  # fmt: skip
    assert again.equals(observed.rename_axis(index="need_type", columns="placement_type"))


def test_ipf_three_way_margins() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(1, 20, size=(3, 4, 5)).astype(float)
    fitted = fit_ipf(np.ones_like(target), [((0, 1), target.sum(2)), ((0, 2), target.sum(1)),
                                            ((1, 2), target.sum(0))])  # fmt: skip
    np.testing.assert_allclose(fitted.sum(2), target.sum(2), atol=1e-6)
    np.testing.assert_allclose(fitted.sum(0), target.sum(0), atol=1e-6)


def test_bad_inputs_raise(postcodes, areas, provision) -> None:
    with pytest.raises(SchemaValidationError, match="total"):
        synthesise_pupils(postcodes, areas, {"ASD": 3}, {"mainstream": 4}, provision, seed=1)
    with pytest.raises(SchemaValidationError, match="unknown"):
        synthesise_pupils(postcodes, areas, {"AUT": 3}, {"mainstream": 3}, provision, seed=1)
    with pytest.raises(InfeasibleModelError, match="ap"):
        synthesise_pupils(postcodes, areas, {"ASD": 3}, {"ap": 3}, provision, seed=1)
    small = provision.assign(capacity=1)
    with pytest.raises(InfeasibleModelError, match="free place"):
        synthesise_pupils(postcodes, areas, NEEDS, PLACEMENTS, small, seed=1)


def test_shipped_cohort_matches_published_totals() -> None:
    """The shipped pupils.csv reproduces the DfE 2024/25 Isle of Wight counts it was built from."""
    pupils = pd.read_csv(SAMPLE / "pupils.csv", dtype=str)
    prov = pd.read_csv(SAMPLE / "provision.csv", dtype=str)
    need = pd.read_csv(SAMPLE / "ehcp_by_need.csv", dtype=str)
    iow = need[(need["la_code"] == "E06000046") & (need["breakdown_topic"] == "Type of placement")]
    modelled = iow[~iow["breakdown"].str.startswith(("Educated elsewhere", "Non-maintained early",
                                                     "Placement not"))]  # fmt: skip
    modelled = modelled[~modelled["breakdown"].str.endswith("total")]
    counts = modelled.assign(n=modelled["count"].astype(int),
                             code=modelled["need_type"].fillna("OTH"))  # fmt: skip
    expected = counts.groupby("code")["n"].sum()
    expected = expected[expected > 0].to_dict()
    assert pupils["need_type"].value_counts().to_dict() == expected
    types = pupils["current_setting_id"].map(prov.set_index("setting_id")["provision_type"])
    assert types.notna().all()
    # placement totals: the DfE caseload 2024/25 cells by placement_type, summed from the tidy table
    place = pd.read_csv(SAMPLE / "ehcp_by_placement.csv", dtype=str)
    cells = place[(place["la_code"] == "E06000046") & (place["time_period"] == "202425")
                  & (place["breakdown_topic"] == "All EHC plans")]  # fmt: skip
    published = pd.to_numeric(cells["count"]).groupby(cells["placement_type"]).sum()
    modelled = sorted(set(types))
    assert types.value_counts().to_dict() == published[modelled].astype(int).to_dict()
    # nominal capacity holds everywhere except the island's own special schools (baseline places
    # follow SEN2: they run over nominal capacity)
    p = prov.set_index("setting_id")
    cap = p["capacity"].astype(int)
    used = pupils["current_setting_id"].value_counts()
    island_special = (p["in_area"] == "true") & (p["provision_type"] == "special")
    capped = used[~island_special.reindex(used.index)]
    assert (capped <= cap.reindex(capped.index)).all()
    postcodes = pd.read_csv(SAMPLE / "postcodes.csv", dtype=str)
    live_iow = postcodes[(postcodes["lad_code"] == "E06000046") & postcodes["easting"].notna()]
    assert pupils["postcode"].isin(live_iow["postcode"]).all()


# --- placement by journey time ----------------------------------------------------------------


def _journeys(postcodes: pd.DataFrame, provision: pd.DataFrame) -> pd.DataFrame:
    """A journey table unrelated to straight-line distance (so the two rules disagree)."""
    rng = np.random.default_rng(11)
    pc = postcodes["postcode"].to_numpy()
    ids = provision["setting_id"].to_numpy()
    t = pd.DataFrame({"postcode": np.repeat(pc, len(ids)), "setting_id": np.tile(ids, len(pc))})
    t["travel_time_min"] = rng.uniform(5, 90, len(t)).round(3)
    t["distance_km"] = t["travel_time_min"] / 2.0
    return t


def _compatible(provision: pd.DataFrame, ptype: str, need: str, year: int) -> list[str]:
    out = []
    for r in provision.itertuples():
        in_phase = any(PHASES[p][0] <= year <= PHASES[p][1] for p in split_codes(r.phases))
        needs = split_codes(r.needs)
        if r.provision_type == ptype and in_phase and (not needs or need in needs):
            out.append(str(r.setting_id))
    return out


def test_nearest_by_journey_time_when_places_unlimited(postcodes, areas, provision) -> None:
    times = _journeys(postcodes, provision)
    unlimited = dict.fromkeys(provision["setting_id"], math.inf)
    df = _make(postcodes, areas, provision, travel_time_min=times, places=unlimited)
    t = times.set_index(["postcode", "setting_id"])["travel_time_min"]
    types = df["current_setting_id"].map(provision.set_index("setting_id")["provision_type"])
    for row, ptype in zip(df.itertuples(), types, strict=True):
        options = _compatible(provision, ptype, row.need_type, row.nc_year)
        best = min(options, key=lambda sid: t[(row.postcode, sid)])
        assert row.current_setting_id == best, row


def test_journey_time_rule_with_places(postcodes, areas, provision) -> None:
    times = _journeys(postcodes, provision)
    df = _make(postcodes, areas, provision, travel_time_min=times)
    t = times.set_index(["postcode", "setting_id"])["travel_time_min"]
    cap = provision.set_index("setting_id")["capacity"]
    used = df["current_setting_id"].value_counts()
    assert (used <= cap.reindex(used.index)).all()
    types = df["current_setting_id"].map(provision.set_index("setting_id")["provision_type"])
    for row, ptype in zip(df.itertuples(), types, strict=True):
        options = _compatible(provision, ptype, row.need_type, row.nc_year)
        nearer = [
            s for s in options if t[(row.postcode, s)] < t[(row.postcode, row.current_setting_id)]
        ]
        # a pupil passes over a nearer compatible setting only if it ended up full
        assert all(used.get(s, 0) == cap[s] for s in nearer), (row, nearer)


def test_places_override_lets_a_school_run_over_capacity(postcodes, areas, provision) -> None:
    times = _journeys(postcodes, provision)
    # the island special (capacity 12) is always nearer than the out-of-area one
    times.loc[times["setting_id"] == "100010", "travel_time_min"] = 1.0
    capped = _make(postcodes, areas, provision, travel_time_min=times)
    assert capped["current_setting_id"].value_counts()["100010"] == 12
    free = _make(postcodes, areas, provision, travel_time_min=times, places={"100010": math.inf})
    used = free["current_setting_id"].value_counts()
    # every special pupil of a phase it serves is placed there, none crosses to OOA-1
    n_special = PLACEMENTS["special"]
    assert used["100010"] + used.get("OOA-1", 0) == n_special
    special = free[free["current_setting_id"].isin(["100010", "OOA-1"])]
    at_ooa = special[special["current_setting_id"] == "OOA-1"]
    assert (at_ooa["nc_year"] > PHASES["secondary"][1]).all()  # only post-16: 100010 has none
    assert used["100010"] > 12


def test_journey_time_same_seed_identical(postcodes, areas, provision) -> None:
    times = _journeys(postcodes, provision)
    a = _make(postcodes, areas, provision, seed=5, travel_time_min=times)
    b = _make(
        postcodes, areas, provision, seed=5, travel_time_min=times.sample(frac=1, random_state=0)
    )
    assert a.to_csv(index=False) == b.to_csv(index=False)


def test_unreachable_postcodes_never_homes(postcodes, areas, provision) -> None:
    times = _journeys(postcodes, provision)
    cut = postcodes["postcode"].iloc[:20]
    times.loc[times["postcode"].isin(cut), "travel_time_min"] = np.nan
    df = _make(postcodes, areas, provision, travel_time_min=times)
    assert not df["postcode"].isin(cut).any()
    with pytest.raises(SchemaValidationError, match="travel_time_min"):
        _make(postcodes, areas, provision, travel_time_min=times.drop(columns="travel_time_min"))


# --- compare_baseline_to_sen2 -----------------------------------------------------------------


def test_compare_baseline_to_sen2_exact_small_case() -> None:
    prov = pd.DataFrame({
        "setting_id": ["1", "2", "3", "4"],
        "provision_type": ["special", "special", "independent", "mainstream"],
        "in_area": ["true", "false", "false", "true"],
    })  # fmt: skip
    pupils = pd.DataFrame({"current_setting_id": ["1"] * 5 + ["2"] * 2 + ["3"] * 3 + ["4"]})
    wide = pd.DataFrame({
        "time_period": ["202324", "202425", "202425"],
        "new_la_code": ["E06000046", "E06000046", "E06000045"],
        "old_la_code": ["921", "921", "852"],
        "breakdown_topic": ["All EHC plans"] * 3,
        "special_la_maintained": ["1", "6", "99"],
        "special_academy_free": ["0", "1", "0"],
        "special_independent": ["1", "3", "7"],
        "mainstream_la_maintained": ["1", "x", "1"],
    })  # fmt: skip
    res = pd.DataFrame({"time_period": ["202425"], "new_la_code": ["E06000046"],
                        "old_la_code": ["921"], "breakdown_topic": ["All residential placements"],
                        "Res_3851": ["2"], "Res_52": ["c"]})  # fmt: skip
    out = compare_baseline_to_sen2(
        pupils, prov, {"placement": wide, "residential": res}, la_code="921"
    ).set_index("measure")
    assert (out["time_period"] == "202425").all()  # latest by default
    assert out.loc[
        "Special - LA maintained and academy/free", ["cohort", "published"]
    ].tolist() == [7, 7]
    assert out.loc["Special - independent", ["cohort", "published", "difference"]].tolist() == [
        3,
        3,
        0,
    ]
    main = out.loc["Mainstream (excluding resourced provision and SEN units)"]
    assert main["cohort"] == 1 and np.isnan(main["published"])  # suppressed: missing, not 0
    assert "mainstream_la_maintained" in main["note"]
    assert out.loc["Residential (38-51 and 52 week)", "published"] == 2  # c is missing
    assert out.loc["Residential (38-51 and 52 week)", "cohort"] == 0
    ooa = out.loc["Out of area (implied minimum)"]
    assert (ooa["cohort"], ooa["published"]) == (5, 3)  # 2 maintained + 3 independent; 3 implied
    older = compare_baseline_to_sen2(pupils, prov, {"placement": wide}, la_code="E06000046",
                                     time_period="202324").set_index("measure")  # fmt: skip
    assert older.loc["Special - independent", "published"] == 1
    with pytest.raises(SchemaValidationError, match="not in the SEN2"):
        compare_baseline_to_sen2(pupils, prov, {"placement": wide}, la_code="999")
