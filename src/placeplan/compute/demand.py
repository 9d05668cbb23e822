"""Demand: pupil need aggregated to demand points (need x phase x origin) and projected by year."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from placeplan.vocab import OOA_CATEGORIES

__all__ = ["aggregate_demand", "need_growth_rates", "project_counts"]

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


def need_growth_rates(df_counts: pd.DataFrame, *, years: int = 3) -> pd.Series:
    """Annual growth rate per need from a SEN2 time series.

    Parameters
    ----------
    df_counts
        Long table ``time_period`` (e.g. ``202425``), ``need_type``, ``count`` (missing values,
        i.e. suppressed figures, are ignored, never read as zero).
    years
        Number of most recent year-on-year steps to average over (compound rate).

    Returns
    -------
    rates
        Compound annual growth rate per ``need_type`` (0.05 = 5 % a year); 0 where the series is
        too short.

    Examples
    --------
    >>> df = pd.DataFrame({"time_period": [202223, 202324, 202425] * 1,
    ...                    "need_type": ["ASD"] * 3, "count": [100, 110, 121]})
    >>> round(float(need_growth_rates(df, years=2)["ASD"]), 3)
    0.1
    """
    rates = {}
    clean = df_counts.dropna(subset=["count"])
    for need, sub in clean.groupby("need_type"):
        s = sub.sort_values("time_period")["count"].astype(float).to_numpy()
        s = s[-(years + 1) :]
        if len(s) < 2 or s[0] <= 0:
            rates[need] = 0.0
            continue
        rates[need] = float((s[-1] / s[0]) ** (1.0 / (len(s) - 1)) - 1.0)
    return pd.Series(rates, name="growth_rate", dtype=float)


def project_counts(base_counts: pd.Series, rates: pd.Series, *, years: int) -> pd.DataFrame:
    """Project counts per need forward ``years`` years at compound rates.

    Returns
    -------
    projection
        Rows per need, columns ``0..years`` (year offsets), rounded to whole pupils.
    """
    r = rates.reindex(base_counts.index).fillna(0.0).to_numpy()
    data = {y: np.round(base_counts.to_numpy() * (1.0 + r) ** y) for y in range(years + 1)}
    return pd.DataFrame(data, index=base_counts.index)
