"""A county programme where geography matters (benchmarks/optimise.py's second county row).

Same dimensions as ``optimise.county_programme`` (5,000 points × 300 sites × 3 needs × 3 sizes
× 4 opening years) but built so that where a base opens, and how big, matters:

- demand is *scarce*: ``entrants_a_year`` is set so pupils present by the last year are about
  the places the budget buys (not 3-4 times them), clustered round 12 towns;
- sites are spread *uniformly* over the county, so many candidates are far from the towns and
  cannot fill a base, and a base in a town competes with its neighbours for the same pupils;
- journey limits exclude assignments: a pupil may go only to a site of their need within
  ``reach_min``;
- objective ``pupil_minutes``: each pupil's value is (their current out-of-area journey -
  the journey to the new base) × pupil-years, so it varies by assignment: a near base is worth
  more than a far one, and the current journey (uniform 35-100 min) varies by pupil.
"""

from __future__ import annotations

import numpy as np

from placeplan.compute.programme import ProgrammeInstance

GEO = {
    "points": 5_000,
    "sites": 300,
    "needs": 3,
    "sizes": ((8, 400_000.0), (12, 600_000.0), (16, 800_000.0)),
    "years": 4,
    "extent_km": 60.0,
    "speed_kph": 30.0,
    "reach_min": 45.0,
    "entrants_a_year": 130.0,
    "current_min": (35.0, 100.0),
    "budget_a_year_gbp": 4_000_000.0,
    "nearest": 5,
}


def demand_rows(
    rng: np.random.Generator, cfg: dict[str, object], n_p: int, n_n: int, n_y: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Rows point x need x entry year: ``pi, ni, ei``, expected entrants ``count`` (a gamma share
    of ``entrants_a_year``), expected presence by year (falls 20 % a year) and the years."""
    years = tuple(2026 + k for k in range(n_y + 1))  # 2026 = year 0, entries 2027..2030
    pi, ni, ei = np.meshgrid(np.arange(n_p), np.arange(n_n), np.arange(1, n_y + 1), indexing="ij")
    pi, ni, ei = pi.ravel(), ni.ravel(), ei.ravel()
    share = rng.gamma(0.6, 1.0, len(pi))
    count = float(cfg["entrants_a_year"]) * n_y * share / share.sum()  # type: ignore[arg-type]
    present = np.zeros((len(pi), len(years)))
    for y in range(1, len(years)):
        present[:, y] = np.where(ei <= y, count * 0.8 ** (y - ei), 0.0)
    return pi, ni, ei, count, present, years


def programme_options(
    rng: np.random.Generator, cfg: dict[str, object], n_s: int, n_y: int, years: tuple[int, ...]
) -> dict[str, object]:
    """Every site x size x opening year as option arrays (capital ±15 %), with the budgets, as
    :class:`ProgrammeInstance` keyword arguments."""
    o_site, o_places, o_open, o_cap = [], [], [], []
    for j in range(n_s):
        for places, capital in cfg["sizes"]:  # type: ignore[attr-defined]
            for y in range(1, n_y + 1):
                o_site.append(j)
                o_places.append(places)
                o_open.append(y)
                o_cap.append(capital * rng.uniform(0.85, 1.15))
    return {
        "site_ids": tuple(f"S{j}" for j in range(n_s)),
        "years": years,
        "fy_labels": tuple(f"{y - 1}-{y % 100:02d}" for y in years[1:]),
        "budget_by_fy_gbp": np.full(n_y, float(cfg["budget_a_year_gbp"])),  # type: ignore[arg-type]
        "opt_site": np.asarray(o_site),
        "opt_places": np.asarray(o_places, dtype=float),
        "opt_open": np.asarray(o_open),
        "opt_fy": np.asarray(o_open) - 1,
        "opt_capital_gbp": np.asarray(o_cap),
        "opt_value": np.zeros(len(o_site)),
    }


def county_programme_geo(
    seed: int = 0, **overrides: object
) -> tuple[ProgrammeInstance, np.ndarray]:
    """The instance (every assignment within reach) and the mask of each row's ``nearest``
    sites' assignments (pricing's start); ``overrides`` replace :data:`GEO` entries."""
    cfg = {**GEO, **overrides}
    rng = np.random.default_rng(seed)
    n_p, n_s, n_n, n_y = (int(cfg[k]) for k in ("points", "sites", "needs", "years"))  # type: ignore[call-overload]
    ext = float(cfg["extent_km"])  # type: ignore[arg-type]
    towns = rng.random((12, 2)) * ext
    pts = np.clip(towns[rng.integers(0, 12, n_p)] + rng.normal(0, ext / 15, (n_p, 2)), 0, ext)
    sites = rng.random((n_s, 2)) * ext
    site_need = np.arange(n_s) % n_n
    pi, ni, ei, count, present, years = demand_rows(rng, cfg, n_p, n_n, n_y)
    lo, hi = cfg["current_min"]  # type: ignore[misc]
    current = rng.uniform(lo, hi, n_p)[pi]  # a point's pupils share its current placements
    speed = float(cfg["speed_kph"])  # type: ignore[arg-type]
    reach = float(cfg["reach_min"])  # type: ignore[arg-type]
    k = int(cfg["nearest"])  # type: ignore[call-overload]
    rr_all, ss_all, tt_all, near_all = [], [], [], []
    for need in range(n_n):
        rr = np.flatnonzero(ni == need)
        ss = np.flatnonzero(site_need == need)
        d = np.hypot(*(pts[pi[rr]][:, None, :] - sites[ss][None, :, :]).transpose(2, 0, 1))
        t = d / speed * 60.0
        kth = np.partition(t, k - 1, axis=1)[:, k - 1 : k]
        a, b = np.nonzero(t <= reach)
        rr_all.append(rr[a])
        ss_all.append(ss[b])
        tt_all.append(t[a, b])
        near_all.append(t[a, b] <= kth[a, 0])
    arc_row = np.concatenate(rr_all)
    arc_site = np.concatenate(ss_all)
    arc_t = np.concatenate(tt_all)
    pupil_years = present.sum(axis=1) / count
    inst = ProgrammeInstance(
        **programme_options(rng, cfg, n_s, n_y, years),  # type: ignore[arg-type]
        row_count=count,
        row_entry=ei,
        row_present=present,
        arc_row=arc_row,
        arc_site=arc_site,
        arc_value=pupil_years[arc_row] * (current[arc_row] - arc_t),
        objective="pupil_minutes",
    )
    return inst, np.concatenate(near_all)
