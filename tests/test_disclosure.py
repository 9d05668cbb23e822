"""Disclosure control: exact small tables, secondary suppression, dependents, rounding, modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeplan.publish.disclosure import apply_marker, suppress, suppression_mask


def _vals(s: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in s]


def test_primary_and_secondary_exact():
    t = pd.DataFrame({"group": ["a", "b", "c"], "pupils": [3, 10, 12]})
    out = suppress(t, count_cols=["pupils"])
    # 3 < 5 suppressed; the total (25) is recoverable, so the next-smallest (10) goes too
    assert _vals(out["pupils"]) == [None, None, 12.0]
    assert suppression_mask(out)["pupils"].tolist() == [True, True, False]


def test_total_row_is_kept_and_not_a_member():
    t = pd.DataFrame(
        {
            "group_type": ["all", "need", "need", "need"],
            "group": ["all", "a", "b", "c"],
            "pupils": [25, 3, 10, 12],
        }
    )
    out = suppress(
        t, count_cols=["pupils"], group_cols=["group_type"], total_rows=t["group_type"].eq("all")
    )
    assert _vals(out["pupils"]) == [25.0, None, None, 12.0]


def test_no_secondary_when_disabled():
    t = pd.DataFrame({"pupils": [3, 10, 12]})
    out = suppress(t, count_cols=["pupils"], secondary=False)
    assert _vals(out["pupils"]) == [None, 10.0, 12.0]


def test_two_primary_need_no_secondary():
    t = pd.DataFrame({"pupils": [3, 4, 12, 30]})
    out = suppress(t, count_cols=["pupils"])
    assert _vals(out["pupils"]) == [None, None, 12.0, 30.0]


def test_zero_published_and_preferred_last_for_secondary():
    t = pd.DataFrame({"pupils": [0, 2, 9, 40]})
    out = suppress(t, count_cols=["pupils"])
    # 0 is shown; secondary picks the smallest *positive* value (9), not the zero
    assert _vals(out["pupils"]) == [0.0, None, None, 40.0]


def test_threshold_parameter():
    t = pd.DataFrame({"pupils": [6, 9, 12, 15]})
    assert _vals(suppress(t, count_cols=["pupils"], threshold=10)["pupils"]) == [
        None,
        None,
        12.0,
        15.0,
    ]
    assert _vals(suppress(t, count_cols=["pupils"])["pupils"]) == [6.0, 9.0, 12.0, 15.0]


def test_groups_are_independent():
    t = pd.DataFrame({"g": ["x", "x", "x", "y", "y"], "pupils": [3, 10, 12, 20, 30]})
    out = suppress(t, count_cols=["pupils"], group_cols=["g"])
    assert _vals(out["pupils"]) == [None, None, 12.0, 20.0, 30.0]


def test_single_member_group_suppresses_its_total():
    t = pd.DataFrame({"gt": ["all", "phase"], "group": ["all", "primary"], "pupils": [3, 3]})
    out = suppress(
        t, count_cols=["pupils"], group_cols=["gt"], total_rows=t["gt"].eq("all"), threshold=5
    )
    assert _vals(out["pupils"]) == [None, None]
    t2 = pd.DataFrame({"gt": ["all", "phase"], "group": ["all", "primary"], "pupils": [30, 3]})
    out2 = suppress(t2, count_cols=["pupils"], group_cols=["gt"], total_rows=t2["gt"].eq("all"))
    # the lone component equals the total: the total must go too
    assert _vals(out2["pupils"]) == [None, None]


def test_two_way_groupings_cascade():
    # rows: origin x destination; both margins are published totals
    t = pd.DataFrame(
        {
            "origin": ["A", "A", "B", "B"],
            "dest": ["P", "Q", "P", "Q"],
            "n": [3, 20, 30, 40],
        }
    )
    out = suppress(t, count_cols=["n"], group_cols=[["origin"], ["dest"]])
    mask = suppression_mask(out)["n"]
    # every origin group and every destination group must hold 0 or >= 2 suppressed cells
    for key in ("origin", "dest"):
        counts = mask.groupby(t[key]).sum()
        assert not (counts == 1).any(), key
    assert mask.iloc[0]


def test_dependent_columns_mapping_and_list():
    t = pd.DataFrame(
        {
            "pupils": [3, 10, 12, 40],
            "over_n": [1, 6, 6, 10],
            "mean_time_min": [50.0, 20.0, 25.0, 30.0],
            "over_pct": [33.3, 60.0, 50.0, 25.0],
        }
    )
    out = suppress(
        t,
        count_cols=["pupils", "over_n"],
        dependent_cols={"mean_time_min": ["pupils"], "over_pct": ["over_n", "pupils"]},
    )
    assert _vals(out["mean_time_min"]) == [None, None, 25.0, 30.0]
    # over_n: 1 suppressed, secondary takes one of the 6s (stable: the first)
    assert _vals(out["over_n"]) == [None, None, 6.0, 10.0]
    assert _vals(out["over_pct"]) == [None, None, 50.0, 25.0]
    out2 = suppress(t, count_cols=["pupils"], dependent_cols=["mean_time_min"])
    assert _vals(out2["mean_time_min"]) == [None, None, 25.0, 30.0]


def test_rounding_half_away_from_zero():
    t = pd.DataFrame({"pupils": [12, 13, 7, 25, 0]})
    out = suppress(t, count_cols=["pupils"], round_to=5, secondary=False)
    assert _vals(out["pupils"]) == [10.0, 15.0, 5.0, 25.0, 0.0]


def test_internal_mode_keeps_values():
    t = pd.DataFrame({"pupils": [3, 10, 12], "mean": [1.0, 2.0, 3.0]})
    out = suppress(t, count_cols=["pupils"], dependent_cols=["mean"], mode="internal")
    assert out["pupils"].tolist() == [3, 10, 12]
    assert not suppression_mask(out).to_numpy().any()
    assert "pupils:suppressed" in out.columns  # the (all False) mask is still explicit


def test_input_not_modified_and_marker():
    t = pd.DataFrame({"pupils": [3, 10, 12]})
    before = t.copy()
    out = suppress(t, count_cols=["pupils"])
    pd.testing.assert_frame_equal(t, before)
    shown = apply_marker(out)
    assert shown["pupils"].tolist() == ["c", "c", 12.0]


def test_missing_not_marked_as_suppressed():
    t = pd.DataFrame({"pupils": [0, 20, 30], "mean": [np.nan, 10.0, 12.0]})
    out = suppress(t, count_cols=["pupils"], dependent_cols=["mean"])
    assert not suppression_mask(out)["mean"].any()
    assert apply_marker(out)["mean"].isna().iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"count_cols": ["nope"]}, KeyError, "nope"),
        ({"count_cols": ["pupils"], "mode": "public"}, ValueError, "mode"),
        ({"count_cols": ["pupils"], "threshold": 0}, ValueError, "threshold"),
        ({"count_cols": ["pupils"], "round_to": -5}, ValueError, "round_to"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        suppress(pd.DataFrame({"pupils": [1]}), **kwargs)


def test_random_tables_invariants():
    rng = np.random.default_rng(20260401)
    for _ in range(200):
        n = int(rng.integers(1, 9))
        t = pd.DataFrame(
            {
                "g": rng.choice(["a", "b"], size=n),
                "pupils": rng.integers(0, 25, size=n),
            }
        )
        out = suppress(t, count_cols=["pupils"], group_cols=["g"])
        v = out["pupils"]
        # nothing under the threshold survives
        assert not ((v > 0) & (v < 5)).any()
        mask = suppression_mask(out)["pupils"]
        sizes = t.groupby("g").size()
        for g, k in mask.groupby(t["g"]).sum().items():
            if sizes[g] > 1:
                assert k != 1, (t, out)


def test_suppressed_frames_survive_concat_and_astype():
    """The mask is explicit columns: concat, astype, sorting and reset_index keep it right."""
    t = pd.DataFrame({"group": ["a", "b", "c"], "pupils": [3, 10, 12]})
    one = suppress(t, count_cols=["pupils"])
    two = suppress(t.assign(pupils=[20, 30, 2]), count_cols=["pupils"])
    both = pd.concat([apply_marker(one), apply_marker(two)], ignore_index=True)
    # secondary suppression hides the next-smallest cell of each group too
    assert both["pupils"].tolist() == ["c", "c", 12.0, "c", 30.0, "c"]
    assert one.astype(str)["group"].tolist() == ["a", "b", "c"]
    # the mask follows row subsets and re-orderings by label
    sub = one.iloc[[2, 0]]
    assert suppression_mask(sub)["pupils"].tolist() == [False, True]


def test_marker_follows_rows_after_sort_and_reset_index():
    """The reviewer's defect: a re-sort and ``reset_index`` put ``c`` on the wrong row."""
    t = pd.DataFrame(
        {"site": ["a", "b", "c", "d"], "pupils": [40, 3, 12, 9], "score": [4, 1, 3, 2]}
    )
    out = suppress(t, count_cols=["pupils"])
    resorted = out.sort_values("score").reset_index(drop=True)
    marked = apply_marker(resorted).set_index("site")["pupils"]
    assert marked.to_dict() == {"b": "c", "d": "c", "c": 12.0, "a": 40.0}
    assert not any(c.endswith(":suppressed") for c in apply_marker(resorted).columns)


def test_published_values_and_mask_are_aligned_and_write_csv_refuses_masks(tmp_path):
    from placeplan.publish.disclosure import suppress_table
    from placeplan.publish.tables import write_csv

    t = pd.DataFrame({"g": ["a", "b", "c"], "n": [3, 10, 12]}, index=[10, 20, 30])
    pub = suppress_table(t, count_cols=["n"])
    assert pub.mask.index.equals(pub.values.index)
    assert pub.mask["n"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="apply_marker"):
        write_csv(pub.frame(), tmp_path / "t.csv")
    write_csv(pub.marked(), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == "a,c"


def test_forced_total_hides_a_member():
    """A total hidden by another table's decision must not be the sum of published parts."""
    t = pd.DataFrame({"gt": ["all", "x", "x"], "g": ["all", "a", "b"], "n": [30, 10, 20]})
    force = pd.DataFrame({"n": [True, False, False]}, index=t.index)
    out = suppress(
        t, count_cols=["n"], group_cols=["gt"], total_rows=t["gt"].eq("all"), force=force
    )
    assert suppression_mask(out)["n"].tolist() == [True, True, False]
