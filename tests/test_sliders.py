"""Live re-weighting of site scores in the report (issue 11 §5): published criteria only.

The sliders' inline script recomputes each site's score from the published normalised
criteria and re-ranks the table; :func:`reweighted_ranking` is the same rule in Python. The
Chromium test moves sliders and checks the page's order is the Python order for those weights.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.scoring import CRITERIA
from placeplan.publish.register import suppress_declared
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Reweight
from placeplan.publish.report.render import render_report
from placeplan.publish.report.sections.sites import published_criteria, reweighted_ranking
from report_fixtures import example_inputs


def _published(scores, mode="published"):
    """The site scores as the run publishes them (the register's declaration)."""
    return suppress_declared("site_scores", scores, threshold=5, round_to=0, mode=mode).frame()


CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
KEYS = [c.key for c in CRITERIA]


def _scores(small: int = 3) -> pd.DataFrame:
    """Scoring output for the fixture's three sites; S2's need in reach is a small count."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "rank": [1, 2, 3],
            "need_in_reach": [40, small, 25],
            "ooa_avoidable": [6, 8, 0],
            "pupils_benefiting": [12, 9, 7],
            "time_saved_min": [14.0, 9.0, 3.0],
            "cost_per_place_gbp": [37500.0, 50000.0, 39000.0],
            "imd_decile": [2, 5, 8],
            "spare_places": [30, -5, 12],
            "rural": [0.0, 1.0, 1.0],
        }
    )
    for k in KEYS:
        df[f"{k}_norm"] = rng.uniform(0, 1, len(df)).round(3)
    df["need_norm"] = [1.0, 0.0, 0.6]  # S2 is the lowest: suppressing it hides the criterion
    return df


def _inputs(scores: pd.DataFrame, **kw):
    return dataclasses.replace(example_inputs(), site_scores=scores, **kw)


def _block(inputs) -> Reweight:
    report = build_report(inputs)
    sites = next(s for s in report.sections if s.id == "sites")
    return next(b for b in sites.blocks if isinstance(b, Reweight))


def test_suppressed_count_hides_its_criterion_for_that_site_only():
    """Counts are scaled by the largest, so a suppressed lowest count hides one site's value."""
    crit = published_criteria(_published(_scores(), "published"))
    assert crit is not None
    assert crit["need"].isna().tolist() == [False, True, False]
    assert crit.attrs["left_out"] == []
    crit = published_criteria(_published(_scores(small=30), "published"))
    assert crit is not None and crit["need"].notna().all()


def test_suppressed_criterion_is_left_out_of_that_site_only():
    s = _scores()
    s["need_in_reach"] = [2, 40, 0]  # S1 suppressed, but the lowest (0) is published
    crit = published_criteria(_published(s, "published"))
    assert crit is not None
    assert crit["need"].isna().tolist() == [True, False, False]
    ranked = reweighted_ranking(crit, {"need": 1.0, "cost": 1.0}).set_index("site_id")
    assert ranked.loc["S1", "left_out"] == "Need in reach"
    want = crit.set_index("site_id").loc["S1", "cost"]  # S1: cost alone, weights rescaled
    assert ranked.loc["S1", "score"] == pytest.approx(want)


def test_reweighting_equals_compute_scoring_when_nothing_is_suppressed():
    from placeplan.compute.scoring import score_sites

    sites = pd.DataFrame(
        {
            "site_id": ["A", "B", "C", "D"],
            "needs": ["ASD", "ASD;SLCN", "", "SEMH"],
            "phases": ["primary", "primary", "secondary", "primary;secondary"],
            "places": [10, 8, 5, 6],
            "capital_cost_gbp": [480_000.0, 800_000.0, 250_000.0, 300_000.0],
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": ["o1", "o2", "o3", "o4"],
            "need_type": ["ASD", "ASD", "SLCN", "SEMH"],
            "phase": ["primary", "primary", "primary", "secondary"],
            "count": [20, 9, 6, 7],
            "current_time_min": [60.0, 20.0, 50.0, 40.0],
        }
    )
    times = {"o1": [10, 25, 40, 5], "o2": [30, 12, 20, 18], "o3": [8, 9, 50, 22],
             "o4": [35, 15, 10, 12]}  # fmt: skip
    matrix = pd.DataFrame(
        [
            {"origin_id": o, "destination_id": d, "travel_time_min": float(t)}
            for o, tt in times.items()
            for d, t in zip("ABCD", tt, strict=True)
        ]
    )

    weights = {"need": 0.5, "time_saved": 0.2, "cost": 0.3}
    scores = score_sites(sites, demand, matrix, weights=weights, max_travel_time_min=30)
    crit = published_criteria(_published(scores, "internal"))
    assert crit is not None
    ours = reweighted_ranking(crit, weights).set_index("site_id")
    theirs = scores.set_index("site_id")
    assert np.allclose(ours["score"], theirs.loc[ours.index, "score"], atol=1e-9)


def test_data_is_script_safe_and_published_only():
    s = _scores()
    block = _block(_inputs(s, site_weights={"need": 0.3, "cost": 0.1}))
    data = json.loads(block.data)
    assert [c["key"] for c in data["criteria"]] == KEYS
    # S2's need in reach (3) is suppressed: its normalised value is not in the page's data
    assert {site["id"]: site["norm"]["need"] is None for site in data["sites"]} == {
        "S1": False,
        "S2": True,
        "S3": False,
    }
    assert "<" not in block.data
    html = render_report(build_report(_inputs(s)))
    assert html.count('type="range"') == len(KEYS)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_moving_sliders_reorders_as_python_does(tmp_path: Path):
    s = _scores(small=30)
    inputs = _inputs(s, site_weights=dict.fromkeys(KEYS, 1.0))
    html = render_report(build_report(inputs))
    crit = published_criteria(_published(s, "published"))
    assert crit is not None
    before = reweighted_ranking(crit, dict.fromkeys(KEYS, 14))["site_id"].tolist()
    # pick weights (slider positions) whose order differs from the starting order
    chosen = None
    for k in KEYS:
        w = {j: (100 if j == k else 0) for j in KEYS}
        order = reweighted_ranking(crit, w)["site_id"].tolist()
        if order != before:
            chosen, want = w, order
            break
    assert chosen is not None
    probe = "".join(
        f'document.querySelector(\'input[data-key="{k}"]\').value = "{v}";'
        for k, v in chosen.items()
    )
    script = (
        "<script>window.addEventListener('load', function () {"
        + probe
        + "var el = document.querySelector('input[type=range]');"
        "el.dispatchEvent(new Event('input'));});</script>"
    )
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", script + "</body>", 1), encoding="utf-8")
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    table = re.search(r'<table class="rw-table">.*?</table>', done.stdout, re.S)
    assert table
    shown = re.findall(r'<tr data-i="\d+" data-site="([^"]*)"', table.group(0))
    assert shown == want and shown != before
