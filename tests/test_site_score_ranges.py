"""Site scores as intervals where a criterion is suppressed (issue 11 §5, publish.site_ranges).

A suppressed count is known to lie in 1..4 (threshold 5; zero is published), so its normalised
value, the site's score and its rank lie in intervals. They must contain the truth for every
count the ``c`` could hide (brute force over 1..4), and be computed from published cells only
(changing a hidden count changes no published byte).
"""

from __future__ import annotations

import dataclasses
import io
import itertools

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.scoring import score_sites
from placeplan.publish.register import published_site_scores
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Reweight, Table
from placeplan.publish.site_ranges import criterion_bounds, score_ranges
from report_fixtures import example_inputs

WEIGHTS = {"need": 0.3, "ooa": 0.3, "time_saved": 0.2, "cost": 0.2}


def _frame(need, ooa, benefiting, minutes, cost=(1.0, 2.0, 3.0, 4.0)) -> pd.DataFrame:
    """A score_sites-like table: counts normalised as a share of the largest, score = sum."""
    n = len(need)
    df = pd.DataFrame(
        {
            "site_id": [f"S{k}" for k in range(n)],
            "pupils_in_reach": np.asarray(need, dtype=float),
            "need_in_reach": np.asarray(need, dtype=float),
            "ooa_avoidable": np.asarray(ooa, dtype=float),
            "pupils_benefiting": np.asarray(benefiting, dtype=float),
            "time_saved_min": np.asarray(minutes, dtype=float),
            "cost_per_place_gbp": np.asarray(cost[:n], dtype=float) * 1e4,
        }
    )
    total = np.zeros(n)
    for key, col in (("need", "need_in_reach"), ("ooa", "ooa_avoidable"),
                     ("time_saved", "time_saved_min")):  # fmt: skip
        x = df[col].to_numpy()
        norm = x / x.max() if x.max() > 0 else np.zeros(n)
        df[f"{key}_norm"], df[f"{key}_contrib"] = norm, WEIGHTS[key] * norm
        total += WEIGHTS[key] * norm
    c = df["cost_per_place_gbp"].to_numpy()
    df["cost_norm"] = 1 - (c - c.min()) / (c.max() - c.min())
    df["cost_contrib"] = WEIGHTS["cost"] * df["cost_norm"]
    df["score"] = total + df["cost_contrib"]
    df["rank"] = df["score"].rank(method="min", ascending=False).astype(int)
    return df


def _publish(df: pd.DataFrame):
    return published_site_scores(df, threshold=5, round_to=0, mode="published", weights=WEIGHTS)


def _csv(pub) -> bytes:
    buf = io.StringIO()
    pub.marked().sort_values("site_id").to_csv(buf, index=False)
    return buf.getvalue().encode()


def test_hand_computed_interval_for_a_suppressed_count():
    """ooa 16, 3, 0, 8: S1's 3 is c, the largest (16) is published: ooa_norm in [1/16, 4/16]."""
    df = _frame(need=[40, 20, 10, 30], ooa=[16, 3, 0, 8], benefiting=[9, 9, 9, 9],
                minutes=[10.0, 20.0, 5.0, 8.0])  # fmt: skip
    pub = _publish(df)
    v = pub.values.set_index("site_id")
    assert pub.mask.loc[pub.values["site_id"] == "S1", "score"].all()
    s1 = v.loc["S1"]
    # need 20/40 = 0.5, time 20/20 = 1, cost 1 - 1/3 = 2/3; ooa 1/16 .. 4/16
    base = 0.3 * 0.5 + 0.2 * 1.0 + 0.2 * (2 / 3)
    assert s1["score_low"] == pytest.approx(base + 0.3 / 16, abs=1e-9)
    assert s1["score_high"] == pytest.approx(base + 0.3 * 4 / 16, abs=1e-9)
    # exact where nothing is suppressed, and the ranks over all four sites
    assert v.loc["S0", "score_low"] == v.loc["S0", "score_high"]
    assert v.loc["S0", "score_low"] == pytest.approx(df.loc[0, "score"], abs=1e-9)
    scores = {s: (v.loc[s, "score_low"], v.loc[s, "score_high"]) for s in v.index}
    # S0 0.3+0.3+0.1+0.2 = 0.9; S1 0.4833..0.5396; S2 0.075+0.05+0.0667 = 0.19; S3 0.225+0.15+0.08
    assert scores["S1"][0] > scores["S3"][1] and scores["S1"][1] < scores["S0"][0]
    assert v.loc["S1", ["rank_best", "rank_worst"]].tolist() == [2, 2]
    marked = pub.marked().set_index("site_id")
    assert marked.loc["S1", "ooa_avoidable"] == "c" and marked.loc["S1", "score"] == "c"


def test_overlapping_interval_gives_rank_ranges_for_its_neighbours():
    df = _frame(need=[40, 40, 40], ooa=[16, 2, 10], benefiting=[9, 9, 9],
                minutes=[10.0, 10.0, 10.0], cost=(1.0, 1.0, 2.0))  # fmt: skip
    v = _publish(df).values.set_index("site_id")
    # S1: 0.3 + 0.3*(1..4)/16 + 0.2 + 0.2 = 0.71875 .. 0.775; S2: 0.3 + 0.1875 + 0.2 = 0.6875
    assert v.loc["S2", "score_low"] == pytest.approx(0.6875)
    assert v.loc["S1", ["rank_best", "rank_worst"]].tolist() == [2, 2]
    # S2 with 12: 0.3 + 0.225 + 0.2 = 0.725, inside S1's interval: either could be second
    df = _frame(need=[40, 40, 40], ooa=[16, 2, 12], benefiting=[9, 9, 9],
                minutes=[10.0, 10.0, 10.0], cost=(1.0, 1.0, 2.0))  # fmt: skip
    v = _publish(df).values.set_index("site_id")
    assert v.loc["S1", ["rank_best", "rank_worst"]].tolist() == [2, 3]
    assert v.loc["S2", ["rank_best", "rank_worst"]].tolist() == [2, 3]
    assert v.loc["S0", ["rank_best", "rank_worst"]].tolist() == [1, 1]


@pytest.mark.parametrize("others", [(0, 0), (0, 12)])
def test_brute_force_intervals_contain_the_truth_and_leak_nothing(others):
    """Every count the c's could hide (1..4 for each of two sites, the largest of ooa hidden
    too when the others are 0): the intervals contain the true normalised values, score and
    rank, and the published table is byte for byte the same."""
    published = set()
    for a, b in itertools.product(range(1, 5), repeat=2):
        ooa = [a, b, *others]
        df = _frame(need=[10, 12, 30, 25], ooa=ooa, benefiting=[a, 7, b, 9],
                    minutes=[12.0, 9.0, 30.0, 4.0])  # fmt: skip
        pub = _publish(df)
        published.add(_csv(pub))
        v = pub.values.set_index("site_id")
        bounds = criterion_bounds(pub, threshold=5).set_index("site_id")
        truth = df.set_index("site_id")
        for sid in truth.index:
            for key in ("need", "ooa", "time_saved", "cost"):
                t = truth.loc[sid, f"{key}_norm"]
                lo, hi = bounds.loc[sid, f"{key}_low"], bounds.loc[sid, f"{key}_high"]
                assert lo - 1e-12 <= t <= hi + 1e-12, (a, b, sid, key)
            assert v.loc[sid, "score_low"] - 1e-9 <= truth.loc[sid, "score"]
            assert truth.loc[sid, "score"] <= v.loc[sid, "score_high"] + 1e-9
            assert v.loc[sid, "rank_best"] <= truth.loc[sid, "rank"] <= v.loc[sid, "rank_worst"]
    assert len(published) == 1


def test_largest_time_saved_at_a_hidden_site_is_not_given_back():
    """S1 saves the most minutes but for 3 pupils: the others' minutes over their normalised
    values would give its 40 minutes back, so no site publishes its minutes."""
    df = _frame(need=[40, 20, 30], ooa=[0, 0, 0], benefiting=[9, 3, 8],
                minutes=[10.0, 40.0, 20.0])  # fmt: skip
    pub = _publish(df)
    v = pub.values
    raw = pd.to_numeric(v["time_saved_min"], errors="coerce")
    norm = pd.to_numeric(v["time_saved_norm"], errors="coerce")
    ok = raw.notna() & norm.notna() & (norm > 0)
    assert not np.isclose(raw[ok] / norm[ok], 40.0).any()
    assert pub.mask["time_saved_min"].all()
    # when the largest is published the minutes are published (here S0's 10 for 9 pupils)
    df2 = _frame(need=[40, 20, 30], ooa=[0, 0, 0], benefiting=[9, 3, 8],
                 minutes=[10.0, 5.0, 20.0])  # fmt: skip
    pub2 = _publish(df2)
    hidden = pub2.mask["time_saved_min"].set_axis(pub2.values["site_id"])
    assert hidden.to_dict() == {"S0": False, "S1": True, "S2": False}


# ------------------------------------------------------------- a real scoring run + report
def _run(ooa_b: int) -> pd.DataFrame:
    """score_sites on three sites; the demand only site B reaches has ``ooa_b`` placements."""
    sites = pd.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "needs": ["ASD", "ASD", "ASD"],
            "phases": ["primary", "primary", "primary"],
            "places": [16, 8, 8],
            "capital_cost_gbp": [800_000.0, 300_000.0, 400_000.0],
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": ["o1", "o2", "o3"],
            "need_type": ["ASD", "ASD", "ASD"],
            "phase": ["primary"] * 3,
            "count": [30, 12, 20],
            "ooa_count": [10, ooa_b, 0],
            "current_time_min": [50.0, 40.0, 30.0],
        }
    )
    times = {"o1": [10, 90, 90], "o2": [90, 10, 90], "o3": [90, 90, 10]}
    matrix = pd.DataFrame(
        [
            {"origin_id": o, "destination_id": d, "travel_time_min": float(t)}
            for o, tt in times.items()
            for d, t in zip("ABC", tt, strict=True)
        ]
    )
    return score_sites(sites, demand, matrix, weights=WEIGHTS, max_travel_time_min=45)


def _report_parts(scores: pd.DataFrame) -> tuple[str, str]:
    inputs = dataclasses.replace(example_inputs(), site_scores=scores, site_weights=WEIGHTS)
    report = build_report(inputs)
    sec = next(s for s in report.sections if s.id == "sites")
    table = next(b for b in sec.blocks if isinstance(b, Table) and b.id == "t-sites")
    rw = next(b for b in sec.blocks if isinstance(b, Reweight))
    return repr((table.rows, table.row_notes)), repr((rw.rows, rw.site_ids, rw.data))


def test_intruder_changing_a_hidden_count_changes_no_published_byte():
    """B's avoidable out-of-area placements (1..4) are c: site_scores.csv, the report's site
    table and the sliders' data are the same whichever it is."""
    csvs, tables, sliders = set(), set(), set()
    for k in range(1, 5):
        scores = _run(k).drop(columns="explanation")
        assert scores.set_index("site_id").loc["B", "ooa_avoidable"] == k
        pub = _publish(scores)
        csvs.add(_csv(pub))
        table, slider = _report_parts(scores)
        tables.add(table)
        sliders.add(slider)
    assert len(csvs) == len(tables) == len(sliders) == 1
    marked = pd.read_csv(io.BytesIO(csvs.pop()), dtype=str).set_index("site_id")
    assert marked.loc["B", "score"] == "c"
    assert marked.loc["B", "score_low"] != marked.loc["B", "score_high"]


def test_score_ranges_equal_exact_scores_when_nothing_is_suppressed():
    scores = _run(0)
    pub = published_site_scores(scores, threshold=5, round_to=0, mode="published",
                                weights=WEIGHTS)  # fmt: skip
    v = pub.values.set_index("site_id")
    truth = scores.set_index("site_id")
    assert np.allclose(v["score_low"], truth.loc[v.index, "score"], atol=1e-9)
    assert (v["score_low"] == v["score_high"]).all()
    assert (v["rank_best"] == truth.loc[v.index, "rank"]).all()
    assert (v["rank_worst"] == truth.loc[v.index, "rank"]).all()
    ranges = score_ranges(criterion_bounds(pub, threshold=5), WEIGHTS)
    assert ranges["rank_best"].tolist() == v["rank_best"].tolist()


def test_decay_weighted_counts_are_bounded_by_the_threshold_not_whole_pupils():
    """A decay-weighted need in reach is not whole: a c is anything in (0, 5), e.g. 0.4 or 4.6."""
    for hidden in (0.4, 4.6):
        df = _frame(need=[10.5, hidden, 7.25], ooa=[0, 0, 0], benefiting=[9, 9, 9],
                    minutes=[10.0, 20.0, 5.0])  # fmt: skip
        pub = _publish(df)
        b = criterion_bounds(pub, threshold=5).set_index("site_id")
        assert b.loc["S1", "need_low"] <= hidden / 10.5 <= b.loc["S1", "need_high"]
        assert (b.loc["S1", "need_low"], b.loc["S1", "need_high"]) == (0.0, 5 / 10.5)


def _contains_truth(df: pd.DataFrame, pub) -> bool:
    v = pub.values.set_index("site_id")
    truth = df.set_index("site_id").loc[v.index, "score"]
    return bool(((v["score_low"] <= truth + 1e-9) & (truth <= v["score_high"] + 1e-9)).all())


def test_ranges_hold_the_truth_without_weights_when_a_criterion_is_zero_everywhere():
    """An API caller passes no weights; no site saves any time, so the time criterion's weight
    (0.2) cannot be read back from its contributions: it is what the others leave, not 0
    (0 made every range 1 / 0.8 = 25 % high, outside the true score)."""
    df = _frame(need=[40, 20, 10, 30], ooa=[16, 3, 0, 8], benefiting=[9, 9, 9, 9],
                minutes=[0.0, 0.0, 0.0, 0.0])  # fmt: skip
    pub = published_site_scores(df, threshold=5, round_to=0, mode="published")
    assert _contains_truth(df, pub)
    exact = pub.values.set_index("site_id").loc["S0"]
    assert exact["score_low"] == pytest.approx(df.loc[0, "score"], abs=1e-9)


def test_ranges_take_score_sites_own_weights_from_its_attrs():
    """score_sites records its weights in ``attrs``; the ranges use them when none are given."""
    df = _frame(need=[40, 20, 10, 30], ooa=[3, 3, 0, 2], benefiting=[9, 9, 9, 9],
                minutes=[0.0, 0.0, 0.0, 0.0])  # fmt: skip
    df.attrs["weights"] = dict(WEIGHTS)
    pub = published_site_scores(df, threshold=5, round_to=0, mode="published")
    assert _contains_truth(df, pub)


def test_unreadable_weights_with_hidden_values_ask_for_the_weights():
    """Two criteria hidden or 0 at every site, one of them hidden somewhere: their split
    changes the ranges and cannot be known, so the caller is told to pass the weights."""
    df = _frame(need=[40, 20, 10, 30], ooa=[3, 3, 0, 2], benefiting=[9, 9, 9, 9],
                minutes=[0.0, 0.0, 0.0, 0.0])  # fmt: skip
    with pytest.raises(ValueError, match="pass `weights`"):
        published_site_scores(df, threshold=5, round_to=0, mode="published")
