"""site_scores.csv publishes no column that is hidden in every row (reviewer finding f)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeplan.publish.disclosure import Published
from placeplan.publish.site_ranges import SENSITIVITY_COLUMNS, ranks_among_all


def _scores() -> Published:
    """Three sites: A and C exact, B's score hidden but fixed to 2nd by its range."""
    values = pd.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "score": [0.9, np.nan, 0.2],
            "rank": [1.0, np.nan, 2.0],
            "min_rank": [1.0, np.nan, 2.0],
            "max_rank": [1.0, np.nan, 2.0],
            "most_sensitive_to": ["need", "", "ooa"],
            "score_low": [0.9, 0.5, 0.2],
            "score_high": [0.9, 0.6, 0.2],
            "rank_best": [1, 2, 3],
            "rank_worst": [1, 2, 3],
        }
    )
    cols = ["score", "rank", "min_rank", "max_rank", "most_sensitive_to"]
    mask = pd.DataFrame(False, index=values.index, columns=cols)
    mask.loc[1, :] = True
    mask.loc[:, ["min_rank", "max_rank", "most_sensitive_to"]] = True
    return Published(values, mask, "published")


def test_sensitivity_columns_hidden_everywhere_are_dropped():
    out = ranks_among_all(_scores())
    assert not set(SENSITIVITY_COLUMNS) & set(out.values.columns)
    assert not set(SENSITIVITY_COLUMNS) & set(out.mask.columns)
    assert "c" not in out.marked()[["site_id", "score_low"]].to_numpy().ravel().tolist()


def test_rank_fixed_by_the_ranges_is_published_beside_a_hidden_score():
    """What the disclosure note says: the rank is worked out from the published ranges."""
    out = ranks_among_all(_scores()).values.set_index("site_id")
    assert out["rank"].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(out.loc["B", "score"])
