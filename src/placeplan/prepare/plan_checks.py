"""Plan-level checks ``validate`` and ``run`` report as notes: what the plan's inputs cannot
show (a network to be downloaded) and keys that disagree (the cohort's census and the flows'
base year)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from placeplan.vocab import academic_year, academic_year_start

if TYPE_CHECKING:
    from placeplan.config import PlanConfig

__all__ = ["NETWORK_PLACE_NOTE", "census_year_mismatch"]


def census_year_mismatch(plan: PlanConfig) -> str | None:
    """Why the cohort's census and the flows' base year disagree, or None when they agree.

    The flows start from the cohort as it is in ``[flows] base_year`` (2025 = 2025/26, the
    January 2026 census); a cohort from another census (``[plan] census_date``) is then a year
    out: its NC years, phases and transfers are those of its own year.
    """
    day = dt.date.fromisoformat(plan.plan.census_date)
    start = academic_year_start(day)
    base = plan.flows.base_year
    if start == base:
        return None
    return (
        f"[plan] census_date {day.isoformat()} is in {academic_year(start)} but "
        f"[flows] base_year = {base} starts the flows in {academic_year(base)} from that "
        f"cohort; set base_year = {start}, or census_date to the census of January {base + 1}"
    )


#: What ``validate`` cannot check for a plan that names a place rather than a network file.
NETWORK_PLACE_NOTE = (
    "[inputs] network_place: the road network is downloaded from OpenStreetMap when `run` first "
    "needs it (internet access required; later runs read it from the cache), so it is not "
    "checked here; offline, set [inputs] network to an OpenStreetMap extract (.osm.pbf) instead"
)
