"""Live re-weighting of site scores in the report (issue 11 §5): published criteria only.

The sliders' inline script recomputes each site's score interval from the published
normalised criteria (an interval where a count is suppressed) and re-ranks the table;
:func:`reweighted_ranking` is the same rule in Python. The Node test runs the page's formula on
the page's data and compares it with Python bit for bit; the Chromium test moves sliders and
checks the page's order is the Python order for those weights.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeplan.compute.scoring import CRITERIA
from placeplan.publish.register import published_site_scores, suppress_declared
from placeplan.publish.report.build import build_report
from placeplan.publish.report.model import Reweight
from placeplan.publish.report.render import render_report
from placeplan.publish.report.sections.sites import published_criteria, reweighted_ranking
from placeplan.publish.site_ranges import RANGES_JS
from report_fixtures import example_inputs


def _published(scores, mode="published"):
    """The site scores as the run publishes them (the register's declaration)."""
    return suppress_declared("site_scores", scores, threshold=5, round_to=0, mode=mode).frame()


def _published_ranges(scores):
    """The site scores as ``site_scores.csv`` publishes them, with their intervals."""
    return published_site_scores(scores, threshold=5, round_to=0, mode="published").frame()


CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
NODE = shutil.which("node") or shutil.which("nodejs")
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


def test_suppressed_count_gives_an_interval_for_that_site_only():
    """S2's need in reach (3) is c: known to be 1..4 of the largest (40), its criterion lies in
    [1/40, 4/40]; every other value is published exactly."""
    crit = published_criteria(_published_ranges(_scores()))
    assert crit is not None
    c = crit.set_index("site_id")
    assert (c["need_low"] == c["need_high"]).tolist() == [True, False, True]
    assert (c.loc["S2", "need_low"], c.loc["S2", "need_high"]) == (1 / 40, 4 / 40)
    crit = published_criteria(_published_ranges(_scores(small=30)))
    assert crit is not None
    for k in crit.attrs["keys"]:
        assert (crit[f"{k}_low"] == crit[f"{k}_high"]).all()


def test_suppressed_criterion_widens_the_score_not_drops_it():
    s = _scores()
    s["need_in_reach"] = [2, 40, 0]  # S1 suppressed; the largest (40) is published
    crit = published_criteria(_published_ranges(s))
    assert crit is not None
    ranked = reweighted_ranking(crit, {"need": 1.0, "cost": 1.0}).set_index("site_id")
    cost = crit.set_index("site_id").loc["S1", "cost_low"]
    assert ranked.loc["S1", "score_low"] == pytest.approx((1 / 40 + cost) / 2, abs=1e-9)
    assert ranked.loc["S1", "score_high"] == pytest.approx((4 / 40 + cost) / 2, abs=1e-9)
    assert ranked.loc["S2", "score_low"] == ranked.loc["S2", "score_high"]


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
    assert np.allclose(ours["score_low"], theirs.loc[ours.index, "score"], atol=1e-9)
    assert (ours["score_low"] == ours["score_high"]).all()
    assert (ours["rank_best"] == theirs.loc[ours.index, "rank"]).all()
    assert (ours["rank_worst"] == ours["rank_best"]).all()


def test_data_is_script_safe_and_published_only():
    s = _scores()
    block = _block(_inputs(s, site_weights={"need": 0.3, "cost": 0.1}))
    data = json.loads(block.data)
    assert [c["key"] for c in data["criteria"]] == KEYS
    # S2's need in reach (3) is suppressed: the page holds its interval, not its value (0.0)
    need = {site["id"]: (site["low"]["need"], site["high"]["need"]) for site in data["sites"]}
    assert need["S2"] == (1 / 40, 4 / 40)
    assert need["S1"] == (1.0, 1.0) and need["S3"] == (0.6, 0.6)
    assert "<" not in block.data
    html = render_report(build_report(_inputs(s)))
    assert html.count('type="range"') == len(KEYS)


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_browser_formula_gives_python_intervals_exactly(tmp_path: Path):
    """The page's ``ranges`` (site_ranges.js.j2) run under Node on the page's data gives the
    same score intervals (to the last bit), ranks and order as Python, for many weights."""
    s = _scores()
    s["ooa_avoidable"] = [6, 2, 0]  # S2: need and out-of-area both c
    block = _block(_inputs(s))
    data = json.loads(block.data)
    crit = published_criteria(_published_ranges(s))
    assert crit is not None
    rng = np.random.default_rng(3)
    cases = [dict.fromkeys(KEYS, 14), dict.fromkeys(KEYS, 0)]
    cases += [{k: int(v) for k, v in zip(KEYS, rng.integers(0, 101, len(KEYS)), strict=True)}
              for _ in range(40)]  # fmt: skip
    script = tmp_path / "ranges.js"
    script.write_text(
        RANGES_JS + "\nvar input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "process.stdout.write(JSON.stringify(input.cases.map(function (w) {"
        " return ranges(input.data, w); })));\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(NODE), str(script)], input=json.dumps({"data": data, "cases": cases}),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    for w, js in zip(cases, json.loads(done.stdout), strict=True):
        py = reweighted_ranking(crit, w)
        assert [r["id"] for r in js] == py["site_id"].tolist()
        for r, (_, p) in zip(js, py.iterrows(), strict=True):
            low = float("nan") if r["low"] is None else r["low"]
            high = float("nan") if r["high"] is None else r["high"]
            assert low == p["score_low"] or (np.isnan(low) and np.isnan(p["score_low"]))
            assert high == p["score_high"] or (np.isnan(high) and np.isnan(p["score_high"]))
            assert (r["best"], r["worst"]) == (p["rank_best"], p["rank_worst"])


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_moving_sliders_reorders_as_python_does(tmp_path: Path):
    s = _scores()
    s["ooa_avoidable"] = [6, 2, 0]  # S2: need and out-of-area both c, so its rank is a range
    inputs = _inputs(s, site_weights=dict.fromkeys(KEYS, 1.0))
    html = render_report(build_report(inputs))
    crit = published_criteria(_published_ranges(s))
    assert crit is not None
    before = reweighted_ranking(crit, dict.fromkeys(KEYS, 14))["site_id"].tolist()
    # pick weights (slider positions) whose order differs from the starting order
    chosen = None
    for k, k2 in itertools.product(KEYS, KEYS):  # one that moves S2 into a rank range
        w = {j: (100 if j == k else 40 if j == k2 else 0) for j in KEYS}
        ranked = reweighted_ranking(crit, w)
        order = ranked["site_id"].tolist()
        if order != before and (ranked["rank_best"] != ranked["rank_worst"]).any():
            chosen, want = w, order
            pairs = zip(ranked["rank_best"], ranked["rank_worst"], strict=True)
            ranks = [str(b) if b == w_ else f"{b}\u2013{w_}" for b, w_ in pairs]
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
    texts = re.findall(r'data-site="[^"]*"><td class="rw-rank[^"]*">([^<]*)</td>', table.group(0))
    assert texts == ranks and any("\u2013" in t for t in texts)
