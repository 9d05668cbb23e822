"""Tests for placeplan.compute.scoring: hand-computed criteria, invariants and the 2SFCA oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan._errors import ConfigError, SchemaValidationError, UnreachableWarning
from placeplan.compute.scoring import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    decay_weights,
    dense_travel_times,
    numeric_column,
    score_sites,
    site_demand_compatibility,
    two_step_fca,
    validate_candidate_sites,
    validate_site_demand,
    weight_sensitivity,
)

TIMES = {  # origin -> minutes to (A, B, C)
    "o1": [20.0, 40.0, 10.0],
    "o2": [30.0, 10.0, 5.0],
    "o3": [10.0, 50.0, 15.0],
    "o4": [25.0, 30.0, 35.0],
}


@pytest.fixture
def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "host_setting_id": ["H1", "H2", "H3"],
            "name": ["Alpha Primary", "Beta Primary", "Gamma Academy"],
            "needs": ["ASD", "ASD;SLCN", ""],
            "phases": ["primary", "primary", "secondary"],
            "places": [10, 8, 5],
            "capital_cost_gbp": [480_000.0, 800_000.0, 250_000.0],
            "imd_decile": [2, 9, 5],
            "ruc_class": ["rural", "urban", "Rural town and fringe"],
            "host_capacity": [300, 200, 100],
            "host_on_roll": [215, 210, 50],
        }
    )


@pytest.fixture
def demand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "demand_id": ["o1", "o2", "o3", "o4"],
            "need_type": ["ASD", "Autistic Spectrum Disorder", "SLCN", "SEMH"],
            "phase": ["primary", "primary", "primary", "secondary"],
            "count": [20, 3, 6, 7],
            "current_time_min": [60.0, 20.0, 50.0, 40.0],
            "ooa_count": [4, 0, 2, 3],
        }
    )


@pytest.fixture
def matrix() -> pd.DataFrame:
    # A and C are destinations by site id; B only by its host school H2
    rows = [
        {"origin_id": o, "destination_id": dest, "travel_time_min": t}
        for o, tt in TIMES.items()
        for dest, t in zip(["A", "H2", "C"], tt, strict=True)
    ]
    return pd.DataFrame(rows)


def test_hand_computed_scores(sites, demand, matrix):
    out = score_sites(sites, demand, matrix).set_index("site_id")
    # raw values
    assert out["pupils_in_reach"].to_dict() == {"A": 23, "B": 23, "C": 7}
    assert out["ooa_avoidable"].to_dict() == {"A": 4, "B": 4, "C": 3}
    # A fills 10 places from o1 (saves 40 each); B fills 8 from o1 (saves 20); C saves 5
    assert out["time_saved_min"].to_dict() == {"A": 40, "B": 20, "C": 5}
    assert out["pupils_benefiting"].to_dict() == {"A": 10, "B": 8, "C": 5}
    assert out["cost_per_place_gbp"].to_dict() == {"A": 48_000, "B": 100_000, "C": 50_000}
    assert out["spare_places"].to_dict() == {"A": 85, "B": -10, "C": 50}
    assert out["rural"].to_dict() == {"A": 1, "B": 0, "C": 1}
    # normalised values
    # counts (and the time saved for them) as a share of the largest; the rest min-max
    assert out.loc["B", "time_saved_norm"] == pytest.approx(20 / 40)
    assert out.loc["C", "need_norm"] == pytest.approx(7 / 23)
    assert out.loc["C", "ooa_norm"] == pytest.approx(3 / 4)
    assert out.loc["C", "cost_norm"] == pytest.approx(50 / 52)
    assert out.loc["A", "deprivation_norm"] == pytest.approx(8 / 9)
    assert out.loc["C", "spare_capacity_norm"] == pytest.approx(60 / 95)
    # totals with the default weights
    expected = {
        "A": 0.3 + 0.2 + 0.2 + 0.1 + 0.1 * 8 / 9 + 0.05 + 0.05,
        "B": 0.3 + 0.2 + 0.2 * 20 / 40 + 0.1 / 9,
        "C": 0.3 * 7 / 23
        + 0.2 * 3 / 4
        + 0.2 * 5 / 40
        + 0.1 * 50 / 52
        + 0.1 * 5 / 9
        + 0.05 * 60 / 95
        + 0.05,
    }
    for site, value in expected.items():
        assert out.loc[site, "score"] == pytest.approx(value)
    assert out["rank"].to_dict() == {"A": 1, "B": 2, "C": 3}
    assert out.loc["A", "explanation"] == (
        "Serves 23 pupils with ASD (primary) within 45 min; 4 out-of-area or independent "
        "placements it could take, up to its places; if filled by the pupils in reach who would "
        "gain most, 40 min shorter per journey on average; £48k capital per place; "
        "in IMD decile 2; host school has 85 spare places; rural"
    )
    assert "host school is 10 over capacity; urban" in out.loc["B", "explanation"]
    assert "any need (secondary)" in out.loc["C", "explanation"]


def test_score_invariants(sites, demand, matrix):
    out = score_sites(sites, demand, matrix, weights={"need": 2, "cost": 1, "rurality": 1})
    assert list(out["site_id"]) == list(out.sort_values("rank")["site_id"])
    assert out.attrs["weights"] == pytest.approx({"need": 0.5, "cost": 0.25, "rurality": 0.25})
    keys = list(out.attrs["weights"])
    norms = out[[f"{k}_norm" for k in keys]].to_numpy()
    assert ((norms >= 0) & (norms <= 1)).all()
    contrib = out[[f"{k}_contrib" for k in keys]].sum(axis=1)
    assert np.allclose(contrib, out["score"])
    # criteria with zero weight get no norm/contrib columns
    assert "ooa_norm" not in out.columns
    assert set(DEFAULT_WEIGHTS) == {c.key for c in CRITERIA}
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_more_nearby_need_raises_need_score(sites, demand, matrix):
    base = score_sites(sites, demand, matrix).set_index("site_id")
    more = demand.copy()
    more.loc[0, "count"] = 40  # o1: ASD primary, within reach of A and B only
    bumped = score_sites(sites, more, matrix).set_index("site_id")
    assert bumped.loc["A", "need_in_reach"] == base.loc["A", "need_in_reach"] + 20
    assert bumped.loc["C", "need_in_reach"] == base.loc["C", "need_in_reach"]


def test_threshold_and_linear_decay(sites, demand, matrix):
    tight = score_sites(sites, demand, matrix, max_travel_time_min=25).set_index("site_id")
    assert tight.loc["A", "pupils_in_reach"] == 20  # o2 at 30 min drops out
    assert "within 25 min" in tight.loc["A", "explanation"]
    decayed = score_sites(sites, demand, matrix, decay="linear").set_index("site_id")
    assert decayed.loc["A", "need_in_reach"] == pytest.approx(20 * 25 / 45 + 3 * 15 / 45)
    assert decayed.loc["A", "pupils_in_reach"] == 23
    assert "decay-weighted" in decayed.loc["A", "explanation"]


def test_optional_columns_dropped_and_explicit_weights_checked(sites, demand, matrix):
    bare = sites.drop(columns=["imd_decile", "ruc_class", "host_capacity", "host_on_roll"])
    out = score_sites(bare, demand.drop(columns=["ooa_count"]), matrix)
    assert set(out.attrs["weights"]) == {"need", "time_saved", "cost"}
    assert sum(out.attrs["weights"].values()) == pytest.approx(1.0)
    assert "IMD" not in out.loc[0, "explanation"]
    with pytest.raises(SchemaValidationError, match="imd_decile"):
        score_sites(bare, demand, matrix, weights={"need": 1, "deprivation": 1})


def test_missing_imd_for_one_site_is_explained(sites, demand, matrix):
    patchy = sites.astype({"imd_decile": float})
    patchy.loc[2, "imd_decile"] = np.nan
    out = score_sites(patchy, demand, matrix).set_index("site_id")
    assert out.loc["C", "deprivation_norm"] == 0
    assert "IMD decile unknown" in out.loc["C", "explanation"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda s, d, m: (s, d, m, {"weights": {"nearness": 1}}), ConfigError, "unknown"),
        (lambda s, d, m: (s, d, m, {"weights": {"need": -1}}), ConfigError, ">= 0"),
        (lambda s, d, m: (s, d, m, {"weights": {"need": 0}}), ConfigError, "all zero"),
        (lambda s, d, m: (s, d, m, {"decay": "cubic"}), ConfigError, "decay"),
        (lambda s, d, m: (s, d, m, {"max_travel_time_min": 0}), ConfigError, "max_travel"),
        (
            lambda s, d, m: (s.drop(columns="places"), d, m, {}),
            SchemaValidationError,
            "places",
        ),
        (
            lambda s, d, m: (s.assign(needs=["ASD", "XYZ", ""]), d, m, {}),
            SchemaValidationError,
            "XYZ",
        ),
        (
            lambda s, d, m: (s.assign(imd_decile=[0, 9, 5]), d, m, {}),
            SchemaValidationError,
            "imd_decile",
        ),
        (
            lambda s, d, m: (s.assign(ruc_class=["rural", "town", "urban"]), d, m, {}),
            SchemaValidationError,
            "ruc_class",
        ),
        (
            lambda s, d, m: (s, d.assign(ooa_count=[30, 0, 0, 0]), m, {}),
            SchemaValidationError,
            "ooa_count",
        ),
        (
            lambda s, d, m: (s, d, pd.concat([m, m.head(1)]), {}),
            SchemaValidationError,
            "duplicated",
        ),
        (
            lambda s, d, m: (s.assign(site_id=["A", "A", "C"]), d, m, {}),
            SchemaValidationError,
            "site_id",
        ),
    ],
)
def test_invalid_inputs(sites, demand, matrix, change, error, match):
    s, d, m, kwargs = change(sites, demand, matrix)
    with pytest.raises(error, match=match):
        score_sites(s, d, m, **kwargs)


def test_site_missing_from_matrix_warns(sites, demand, matrix):
    orphan = sites.assign(site_id=["A", "B", "Z"], host_setting_id=["H1", "H2", "H9"])
    with pytest.warns(UnreachableWarning, match="1 candidate site"):
        out = score_sites(orphan, demand, matrix).set_index("site_id")
    assert out.loc["Z", "pupils_in_reach"] == 0


# ------------------------------------------------------------------------------------------
# weight sensitivity
# ------------------------------------------------------------------------------------------
def test_weight_sensitivity_dominant_site_never_moves(sites, demand, matrix):
    table = weight_sensitivity(sites, demand, matrix)
    assert list(table.columns) == [
        "site_id",
        "base_rank",
        "min_rank",
        "max_rank",
        "rank_range",
        "most_sensitive_to",
    ]
    assert (table["min_rank"] <= table["base_rank"]).all()
    assert (table["base_rank"] <= table["max_rank"]).all()
    a = table.set_index("site_id").loc["A"]
    # A is at least as good as every other site on every criterion
    assert (a["base_rank"], a["min_rank"], a["max_rank"]) == (1, 1, 1)
    base = score_sites(sites, demand, matrix).set_index("site_id")["rank"]
    assert table.set_index("site_id")["base_rank"].to_dict() == base.to_dict()


def test_weight_sensitivity_detects_close_call():
    # X wins on need, Y on cost; with equal weights they tie, so ±50 % on either flips them
    sites = pd.DataFrame(
        {
            "site_id": ["X", "Y"],
            "needs": ["ASD", "ASD"],
            "phases": ["primary", "primary"],
            "places": [10, 10],
            "capital_cost_gbp": [1_000_000.0, 500_000.0],
        }
    )
    demand = pd.DataFrame(
        {"demand_id": ["o"], "need_type": ["ASD"], "phase": ["primary"], "count": [10]}
    )
    matrix = pd.DataFrame(
        {"origin_id": ["o", "o"], "destination_id": ["X", "Y"], "travel_time_min": [10.0, 60.0]}
    )
    table = weight_sensitivity(sites, demand, matrix, weights={"need": 1.0, "cost": 1.0})
    assert (table["min_rank"] == 1).all()
    assert (table["max_rank"] == 2).all()
    with pytest.raises(ConfigError, match="perturbation"):
        weight_sensitivity(sites, demand, matrix, perturbation=1.5)


# ------------------------------------------------------------------------------------------
# 2SFCA
# ------------------------------------------------------------------------------------------
def _complete_matrix(rng, origins, sites) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"origin_id": o, "destination_id": s, "travel_time_min": rng.uniform(1, 90)}
            for o in origins
            for s in sites
        ]
    )


@pytest.mark.parametrize("seed", range(5))
def test_2sfca_unlimited_catchment_is_supply_over_demand(seed):
    rng = np.random.default_rng(seed)
    origins = [f"o{i}" for i in range(12)]
    site_ids = [f"s{j}" for j in range(5)]
    supply = pd.Series(rng.integers(1, 30, 5), index=site_ids)
    demand = pd.Series(rng.integers(1, 50, 12), index=origins)
    acc = two_step_fca(
        supply, demand, _complete_matrix(rng, origins, site_ids), max_travel_time_min=np.inf
    )
    assert acc.index.tolist() == origins
    assert np.allclose(acc, supply.sum() / demand.sum())


@pytest.mark.parametrize("decay", [None, "linear", "gaussian"])
def test_2sfca_conserves_supply(decay):
    rng = np.random.default_rng(11)
    origins = [f"o{i}" for i in range(30)]
    site_ids = [f"s{j}" for j in range(6)]
    matrix = _complete_matrix(rng, origins, site_ids)
    matrix.loc[matrix.index[::7], "travel_time_min"] = np.nan
    supply = pd.Series(rng.integers(1, 30, 6).astype(float), index=site_ids)
    demand = pd.Series(rng.integers(1, 50, 30).astype(float), index=origins)
    acc = two_step_fca(supply, demand, matrix, max_travel_time_min=60, decay=decay)
    w = decay_weights(matrix["travel_time_min"].to_numpy(), max_travel_time_min=60, decay=decay)
    served = set(matrix.loc[w > 0, "destination_id"])
    assert (acc >= 0).all()
    assert float((acc * demand).sum()) == pytest.approx(float(supply[list(served)].sum()))


def test_2sfca_unreachable_origin_gets_zero():
    matrix = pd.DataFrame(
        {
            "origin_id": ["a", "b", "c"],
            "destination_id": ["x", "x", "x"],
            "travel_time_min": [5.0, 10.0, 99.0],
        }
    )
    acc = two_step_fca({"x": 6}, {"a": 1, "b": 2, "c": 3, "d": 4}, matrix, max_travel_time_min=30)
    assert acc.to_dict() == {"a": 2.0, "b": 2.0, "c": 0.0, "d": 0.0}


def test_decay_weights_shapes_and_errors():
    t = np.array([0.0, 10.0, 30.0, np.nan, 31.0])
    assert decay_weights(t, max_travel_time_min=30).tolist() == [1, 1, 1, 0, 0]
    g = decay_weights(t, max_travel_time_min=30, decay="gaussian")
    assert g[0] == pytest.approx(1.0)
    assert g[2] == pytest.approx(0.0)
    assert 0 < g[1] < 1
    custom = decay_weights(t, max_travel_time_min=30, decay=lambda m: np.exp(-m / 10))
    assert custom[1] == pytest.approx(np.exp(-1))
    with pytest.raises(ConfigError, match="finite"):
        decay_weights(t, max_travel_time_min=np.inf, decay="linear")
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        decay_weights(t, max_travel_time_min=30, decay=lambda m: m)


def test_unknown_current_journey_counts_no_saving(sites, demand, matrix):
    unknown = demand.assign(current_time_min=[np.nan, 20.0, 50.0, 40.0])
    out = score_sites(sites, unknown, matrix).set_index("site_id")
    assert out.loc["A", "time_saved_min"] == 0  # o1 unknown; o2 would be 10 min longer
    assert out.loc["A", "pupils_in_reach"] == 23


# ------------------------------------------------------------------------------------------
# shared input helpers (public; the optimiser uses them too)
# ------------------------------------------------------------------------------------------
def test_dense_travel_times_by_site_or_host(sites, demand, matrix):
    times = dense_travel_times(demand, sites, matrix)
    # B is found through its host H2; rows follow df_demand, columns df_sites
    np.testing.assert_array_equal(times, np.array([TIMES[o] for o in demand["demand_id"]]))


def test_dense_travel_times_unknown_origin_site_and_unreachable(sites, demand, matrix):
    demand = pd.concat([demand, pd.DataFrame({"demand_id": ["nowhere"]})], ignore_index=True)
    matrix = matrix.copy()
    matrix.loc[
        (matrix["origin_id"] == "o1") & (matrix["destination_id"] == "C"), "travel_time_min"
    ] = np.inf
    sites = sites.assign(host_setting_id=["H1", "H9", "H3"])  # B: neither B nor H9 in the matrix
    with pytest.warns(UnreachableWarning, match="1 candidate site"):
        times = dense_travel_times(demand, sites, matrix)
    assert times.shape == (5, 3)
    assert np.isnan(times[4]).all()  # origin not in the matrix
    assert np.isnan(times[:, 1]).all()  # site not a destination
    assert np.isnan(times[0, 2])  # inf -> NaN (unreachable)
    assert times[1, 2] == 5.0


def test_dense_travel_times_rejects_duplicates_and_negatives(sites, demand, matrix):
    with pytest.raises(SchemaValidationError, match="duplicated"):
        dense_travel_times(demand, sites, pd.concat([matrix, matrix.iloc[:1]]))
    bad = matrix.assign(travel_time_min=matrix["travel_time_min"].where(matrix.index != 0, -1.0))
    with pytest.raises(SchemaValidationError, match="negative"):
        dense_travel_times(demand, sites, bad)


def test_site_demand_compatibility_hand_computed(sites, demand):
    # A: ASD primary; B: ASD/SLCN primary; C: any need, secondary
    # o1 ASD primary, o2 ASD (DfE name) primary, o3 SLCN primary, o4 SEMH secondary
    assert site_demand_compatibility(demand, sites).tolist() == [
        [True, True, False],
        [True, True, False],
        [False, True, False],
        [False, False, True],
    ]
    with pytest.raises(SchemaValidationError, match="unknown need"):
        site_demand_compatibility(demand, sites.assign(needs=["ASD", "NOPE", ""]))


def test_numeric_column():
    df = pd.DataFrame({"a": ["3", 4.5], "b": [1.0, np.nan], "c": [np.inf, 1.0], "d": ["x", 1]})
    np.testing.assert_array_equal(numeric_column(df, "a", "df"), [3.0, 4.5])
    assert np.isnan(numeric_column(df, "b", "df", allow_nan=True)[1])
    with pytest.raises(SchemaValidationError, match="1 missing/infinite"):
        numeric_column(df, "b", "df")
    with pytest.raises(SchemaValidationError, match="'c' has 1 missing/infinite"):
        numeric_column(df, "c", "df", allow_nan=True)
    with pytest.raises(SchemaValidationError, match="must be numeric"):
        numeric_column(df, "d", "df")


def test_validate_site_demand_current_time_required_only_when_asked(sites, demand):
    validate_candidate_sites(sites)
    no_current = demand.drop(columns="current_time_min")
    validate_site_demand(no_current)
    with pytest.raises(SchemaValidationError, match="current_time_min"):
        validate_site_demand(no_current, require_current_time=True)
    gap = demand.assign(current_time_min=[60.0, np.nan, 50.0, 40.0])
    validate_site_demand(gap)  # scoring: unknown current journey
    with pytest.raises(SchemaValidationError, match="missing"):
        validate_site_demand(gap, require_current_time=True)
    with pytest.raises(SchemaValidationError, match="duplicated `site_id`"):
        validate_candidate_sites(pd.concat([sites, sites.iloc[:1]]))


def test_published_rank_ranges_count_only_the_published_sites():
    """min/max rank under ±50 % weights, recomputed among the sites whose score is published.

    Three published sites on two criteria (weights 0.5 / 0.5) and one hidden: by hand, A
    (1.0, 0.0), B (0.0, 0.9) and C (0.55, 0.4) score 0.5, 0.45, 0.475; raising the second
    weight by 50 % (0.4 / 0.6) gives 0.4, 0.54, 0.46, so B goes 3 -> 1 and A 1 -> 3; C is second
    under every change. The hidden site D takes no place in any rank and shows none.
    """
    from placeplan.publish.disclosure import Published
    from placeplan.publish.site_ranges import published_ranks

    norm = {"A": (1.0, 0.0), "B": (0.0, 0.9), "C": (0.55, 0.4), "D": (0.5, 0.5)}
    rows = []
    for sid, (a, b) in norm.items():
        rows.append(
            {
                "site_id": sid,
                "need_norm": a,
                "need_contrib": 0.5 * a,
                "ooa_norm": b,
                "ooa_contrib": 0.5 * b,
                "score": 0.5 * (a + b),
                "rank": 0.0,
                "min_rank": 0.0,
                "max_rank": 0.0,
                "most_sensitive_to": "x",
            }
        )
    values = pd.DataFrame(rows, index=[10, 11, 12, 13])
    mask = pd.DataFrame(
        False, index=values.index, columns=["score", "rank", "min_rank", "max_rank"]
    )
    mask.loc[13, :] = True
    values.loc[13, ["score", "rank", "min_rank", "max_rank"]] = np.nan
    out = published_ranks(Published(values, mask, "published")).values.set_index("site_id")
    assert out.loc[["A", "B", "C"], "rank"].tolist() == [1, 3, 2]
    assert out.loc[["A", "B", "C"], "min_rank"].tolist() == [1, 1, 2]
    assert out.loc[["A", "B", "C"], "max_rank"].tolist() == [3, 3, 2]
    assert np.isnan(out.loc["D", "min_rank"]) and out.loc["D", "most_sensitive_to"] == ""
    assert list(out.index) == ["A", "C", "B", "D"]  # published first, best first
