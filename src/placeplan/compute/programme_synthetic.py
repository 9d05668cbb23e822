"""Seeded synthetic capital-programme instances, for tests, doctests and benchmarks (no data)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from placeplan.compute.programme import ProgrammeInstance

__all__ = ["synthetic_programme"]


def synthetic_programme(
    *,
    n_rows: int = 20,
    n_sites: int = 4,
    n_needs: int = 1,
    sizes: Sequence[tuple[int, float]] = ((4, 200_000.0), (8, 300_000.0)),
    n_years: int = 3,
    budget_by_fy_gbp: Sequence[float] | None = None,
    reach_min: float = 45.0,
    extent_min: float = 60.0,
    objective: str = "ooa_avoided",
    carry_forward: bool = False,
    seed: int = 0,
) -> ProgrammeInstance:
    """Return a random programme instance: demand rows and candidate sites on a square.

    Demand rows (home point × need × entry year) and sites sit at random points of a square
    ``extent_min`` minutes across; travel time is the straight-line distance in minutes. A row
    reaches a site of its need within ``reach_min``. Each row's pupils stay from their entry
    year to the horizon with a random chance of leaving each year. Sites may open in any model
    year after the first; the capital of an opening in year ``y`` is spent in financial year
    ``y - 1``.

    Parameters
    ----------
    n_rows, n_sites, n_needs
        Demand rows, candidate sites and needs (each site serves one need).
    sizes
        ``(places, capital_gbp)`` options offered at every site.
    n_years
        Model years; openings are possible in years 1..n_years-1 (one financial year each).
    budget_by_fy_gbp
        Budget per financial year (``n_years - 1`` values); default enough for about a third of
        the sites at the middle size, spread evenly.
    reach_min
        Longest journey allowed (minutes).
    extent_min
        Side of the square (minutes).
    objective
        ``"ooa_avoided"`` (pupil-years) or ``"pupil_minutes"`` (value grows with minutes saved).
    carry_forward
        Unspent capital carries to later financial years.
    seed
        Random seed.

    Returns
    -------
    ProgrammeInstance
        The instance (``years`` are 2026, 2027, ...; financial years ``"2026-27"``, ...).

    Examples
    --------
    >>> inst = synthetic_programme(n_rows=5, n_sites=2, seed=3)
    >>> len(inst.site_ids), inst.row_present.shape
    (2, (5, 3))
    """
    rng = np.random.default_rng(seed)
    years = tuple(2026 + k for k in range(n_years))
    n_f = n_years - 1
    row_xy = rng.random((n_rows, 2)) * extent_min
    site_xy = rng.random((n_sites, 2)) * extent_min
    row_need = rng.integers(0, n_needs, n_rows)
    site_need = np.arange(n_sites) % n_needs
    row_entry = rng.integers(1, n_years, n_rows)
    row_count = rng.integers(1, 7, n_rows).astype(float)
    present = np.zeros((n_rows, n_years))
    for r in range(n_rows):
        left = row_count[r]
        for y in range(int(row_entry[r]), n_years):
            present[r, y] = left
            left = float(np.floor(left * rng.uniform(0.6, 1.0)))
    dist = np.hypot(*(row_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    ok = (dist <= reach_min) & (row_need[:, None] == site_need[None, :])
    arc_row, arc_site = np.nonzero(ok)
    pupil_years = present.sum(axis=1) / row_count
    if objective == "pupil_minutes":
        current = 70.0 + 20.0 * rng.random(n_rows)
        arc_value = pupil_years[arc_row] * (current[arc_row] - dist[arc_row, arc_site])
    else:
        arc_value = pupil_years[arc_row]
    o_site, o_places, o_open, o_cap = [], [], [], []
    for j in range(n_sites):
        for places, capital in sizes:
            for y in range(1, n_years):
                o_site.append(j)
                o_places.append(places)
                o_open.append(y)
                o_cap.append(capital)
    if budget_by_fy_gbp is None:
        mid = float(sorted(c for _, c in sizes)[len(sizes) // 2])
        budget = np.full(n_f, max(1.0, n_sites / 3) * mid / max(1, n_f))
    else:
        budget = np.asarray(budget_by_fy_gbp, dtype=float)
    return ProgrammeInstance(
        site_ids=tuple(f"S{j}" for j in range(n_sites)),
        years=years,
        fy_labels=tuple(f"{y - 1}-{y % 100:02d}" for y in years[1:]),
        budget_by_fy_gbp=budget,
        opt_site=np.asarray(o_site, dtype=int),
        opt_places=np.asarray(o_places, dtype=float),
        opt_open=np.asarray(o_open, dtype=int),
        opt_fy=np.asarray(o_open, dtype=int) - 1,
        opt_capital_gbp=np.asarray(o_cap, dtype=float),
        opt_value=np.zeros(len(o_site)),
        row_count=row_count,
        row_entry=row_entry.astype(int),
        row_present=present,
        arc_row=arc_row.astype(int),
        arc_site=arc_site.astype(int),
        arc_value=arc_value.astype(float),
        carry_forward=carry_forward,
        objective=objective,
    )
