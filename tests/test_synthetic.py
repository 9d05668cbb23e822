"""Tests of placeplan.prepare.synthetic: seeded cohort reproduces marginals and
respects settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan import InfeasibleModelError, SchemaValidationError
from placeplan.needs import NEED_CODES, PHASES
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
    assert types.value_counts().to_dict() == {
        "mainstream": 938, "inclusion_base": 2, "special": 340, "independent": 15,
        "non_maintained": 71, "ap": 20, "fe": 154,
    }  # fmt: skip
    cap = prov.set_index("setting_id")["capacity"].astype(int)
    used = pupils["current_setting_id"].value_counts()
    assert (used <= cap.reindex(used.index)).all()
    postcodes = pd.read_csv(SAMPLE / "postcodes.csv", dtype=str)
    live_iow = postcodes[(postcodes["lad_code"] == "E06000046") & postcodes["easting"].notna()]
    assert pupils["postcode"].isin(live_iow["postcode"]).all()
