"""Demand: pupil need aggregated to demand points (need × phase × origin)."""

from __future__ import annotations

import logging

import pandas as pd

from placeplan.vocab import OOA_CATEGORIES

__all__ = ["aggregate_demand"]

logger = logging.getLogger(__name__)


def aggregate_demand(df_pupils: pd.DataFrame, df_baseline: pd.DataFrame) -> pd.DataFrame:
    """Aggregate pupils into demand points: one row per origin x need x phase.

    Parameters
    ----------
    df_pupils
        Geocoded pupils (``origin_id``, ``need_type``, ``phase``).
    df_baseline
        Baseline allocation, same index (``travel_time_min``, ``category``).

    Returns
    -------
    demand
        ``demand_id`` (the origin id), ``need_type``, ``phase``, ``count``, ``current_time_min``
        (mean baseline journey of those pupils), ``ooa_count`` (pupils now placed out of area or
        in independent / non-maintained special schools). Contains no pupil references.
    """
    df = pd.DataFrame(
        {
            "demand_id": df_pupils["origin_id"].astype(str),
            "need_type": df_pupils["need_type"].astype(str),
            "phase": df_pupils["phase"].astype(str),
            "time": df_baseline["travel_time_min"].astype(float),
            "ooa": df_baseline["category"].isin(OOA_CATEGORIES),
        }
    )
    out = (
        df.groupby(["demand_id", "need_type", "phase"], sort=True)
        .agg(count=("time", "size"), current_time_min=("time", "mean"), ooa_count=("ooa", "sum"))
        .reset_index()
    )
    out["count"] = out["count"].astype(int)
    out["ooa_count"] = out["ooa_count"].astype(int)
    logger.info("aggregate_demand: %s pupils -> %s demand points", f"{len(df):,}", f"{len(out):,}")
    return out
