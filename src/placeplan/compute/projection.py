"""Out-of-area placements avoided, year by year: the scenario's effect projected over a horizon.

The snapshot comparison (:mod:`placeplan.compute.impact`) says what the proposal changes for
today's pupils.
Capital boards also ask what it does over the life of a bid. This stage projects, for each primary
need, the number of out-of-area and independent placements with and without the proposal:

- without it, they grow at the need's rate of growth in EHC plans (compound rate over the last
  few years of the authority's SEN2 returns, or a rate the plan gives);
- with it, the new places take up the same growing demand, but never more than their places, so
  the avoided placements level off once the bases are full;
- the annual saving is the avoided placements times the average annual saving per pupil who moved
  in the snapshot (placement plus assisted transport).

It is deliberately simple and every assumption is printed in the report; it is not a forecast of
need (authorities with their own forecast can pass growth rates per need).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from placeplan.needs import split_codes
from placeplan.vocab import OOA_CATEGORIES

__all__ = ["OOA_CATEGORIES", "project_ooa"]

logger = logging.getLogger(__name__)


def _round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def _places_by_need(new_places: pd.DataFrame) -> pd.Series:
    """Places per need: a base serving several needs splits its places evenly between them."""
    rows: dict[str, float] = {}
    for _, place in new_places.iterrows():
        needs = split_codes(place["needs"])
        if not needs:
            continue
        share = float(place["capacity"]) / len(needs)
        for need in needs:
            rows[need] = rows.get(need, 0.0) + share
    return pd.Series(rows, dtype=float)


def project_ooa(
    per_pupil: pd.DataFrame,
    new_places: pd.DataFrame,
    growth: pd.Series,
    *,
    years: int = 5,
    start_year: int = 2025,
) -> pd.DataFrame:
    """Project out-of-area and independent placements with and without a scenario.

    Parameters
    ----------
    per_pupil
        :attr:`placeplan.compute.impact.ImpactAssessment.per_pupil` (internal; only aggregates
        leave this
        function): ``need_type``, ``moved``, ``baseline_category``, ``scenario_category`` and the
        ``*_placement_cost_gbp`` / ``*_transport_cost_gbp`` columns.
    new_places
        The scenario's new settings (``needs``, ``capacity``).
    growth
        Annual growth rate per need (0.05 = 5 % a year); missing needs grow at 0.
    years
        Projection horizon in years after the base year.
    start_year
        Calendar year in which the base academic year starts (2025 -> "2025/26").

    Returns
    -------
    projection
        One row per year x need plus ``need_type == "all"``: ``year`` (e.g. ``"2026/27"``),
        ``year_offset``, ``need_type``, ``growth_rate``, ``ooa_baseline``, ``ooa_scenario``,
        ``avoided``, ``annual_cost_baseline_gbp``, ``annual_cost_scenario_gbp``,
        ``annual_saving_gbp``, ``cumulative_saving_gbp``. Counts are whole pupils.

    Notes
    -----
    In year 0 the figures equal the snapshot (``avoided`` is the number of pupils who moved), so
    the projection and the impact table agree; with zero growth every year repeats year 0; with no
    new places nothing is avoided.

    Examples
    --------
    >>> pp = pd.DataFrame({
    ...     "need_type": ["ASD"] * 4, "moved": [True, True, False, False],
    ...     "baseline_category": ["out_of_area"] * 3 + ["mainstream"],
    ...     "scenario_category": ["inclusion_base"] * 2 + ["out_of_area", "mainstream"],
    ...     "baseline_placement_cost_gbp": [50e3] * 3 + [9e3],
    ...     "scenario_placement_cost_gbp": [18e3] * 2 + [50e3, 9e3],
    ...     "baseline_transport_cost_gbp": [0.0] * 4, "scenario_transport_cost_gbp": [0.0] * 4})
    >>> places = pd.DataFrame({"needs": ["ASD"], "capacity": [3]})
    >>> t = project_ooa(pp, places, pd.Series({"ASD": 0.5}), years=2)
    >>> t[t.need_type == "ASD"][["ooa_baseline", "ooa_scenario", "avoided"]].to_numpy().tolist()
    [[3, 1, 2], [5, 2, 3], [7, 4, 3]]
    """
    pp = per_pupil
    base_ooa = pp["baseline_category"].isin(OOA_CATEGORIES)
    cost_b = pp["baseline_placement_cost_gbp"] + pp["baseline_transport_cost_gbp"]
    cost_s = pp["scenario_placement_cost_gbp"] + pp["scenario_transport_cost_gbp"]
    places = _places_by_need(new_places)
    rows = []
    needs = sorted(set(pp.loc[base_ooa, "need_type"].astype(str)))
    for need in needs:
        in_need = pp["need_type"].astype(str) == need
        n0 = int((base_ooa & in_need).sum())
        c0 = float(cost_b[base_ooa & in_need].sum())
        movers = in_need & pp["moved"].astype(bool)
        m0 = int(movers.sum())
        saving_each = float((cost_b[movers] - cost_s[movers]).sum()) / m0 if m0 else 0.0
        g = float(growth.get(need, 0.0))
        cap = float(places.get(need, 0.0))
        cumulative = 0.0
        for y in range(years + 1):
            factor = (1.0 + g) ** y
            ooa_b = _round_half_up(n0 * factor)
            absorbed = (
                min(_round_half_up(m0 * factor), int(np.floor(cap + 1e-9)), ooa_b) if m0 else 0
            )
            if y == 0:
                absorbed = m0  # the snapshot, exactly
            saving = absorbed * saving_each
            cumulative += saving
            rows.append(
                {
                    "year": f"{start_year + y}/{(start_year + y + 1) % 100:02d}",
                    "year_offset": y,
                    "need_type": need,
                    "growth_rate": g,
                    "ooa_baseline": ooa_b,
                    "ooa_scenario": ooa_b - absorbed,
                    "avoided": absorbed,
                    "annual_cost_baseline_gbp": c0 * factor,
                    "annual_cost_scenario_gbp": c0 * factor - saving,
                    "annual_saving_gbp": saving,
                    "cumulative_saving_gbp": cumulative,
                }
            )
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    sums = [
        "ooa_baseline",
        "ooa_scenario",
        "avoided",
        "annual_cost_baseline_gbp",
        "annual_cost_scenario_gbp",
        "annual_saving_gbp",
        "cumulative_saving_gbp",
    ]
    total = df.groupby(["year", "year_offset"], as_index=False)[sums].sum()
    weights = df.groupby(["year", "year_offset"])["ooa_baseline"].transform("sum")
    rate = (
        (df["growth_rate"] * df["ooa_baseline"] / weights.replace(0, np.nan))
        .groupby(df["year_offset"])
        .sum()
    )
    total["need_type"] = "all"
    total["growth_rate"] = total["year_offset"].map(rate).fillna(0.0)
    out = pd.concat([total, df], ignore_index=True)[df.columns]
    for col in ("ooa_baseline", "ooa_scenario", "avoided"):
        out[col] = out[col].astype(int)
    last = out[(out["need_type"] == "all")].iloc[-1]
    logger.info(
        "project_ooa: %d needs, %d years; year %s: %d avoided, cumulative saving %s GBP",
        len(needs),
        years,
        last["year"],
        int(last["avoided"]),
        f"{last['cumulative_saving_gbp']:,.0f}",
    )
    return out
