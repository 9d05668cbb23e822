"""The flow model's year table and its fallback new-plans table (moved from ``compute.flows``).

:func:`flow_table` turns a :class:`placeplan.compute.flows.FlowResult` into the long year table
with ranges; :func:`constant_new_plans` builds a new-plans table from a constant rate. Both are
re-exported by :mod:`placeplan.compute.flows`, their documented home.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan._errors import ConfigError

if TYPE_CHECKING:
    from placeplan.compute.flows_types import FlowResult

__all__ = ["constant_new_plans", "flow_table"]


def flow_table(result: FlowResult) -> pd.DataFrame:
    """Return the year table in long format ``year, scenario, measure, central, lower, upper``.

    ``scenario`` is ``baseline``, each scenario's name, and ``"<name> - baseline"`` (the change,
    computed within each path and seed before taking ranges, so savings are paired). ``central``
    is the central path's value (mean over seeds); ``lower`` / ``upper`` are the minimum / maximum
    over all paths and seeds, so ``lower <= central <= upper`` always. Counts are not yet
    disclosure-controlled: pass the table through the publishing stage's ``suppress`` first.

    Parameters
    ----------
    result
        From :func:`placeplan.compute.flows.simulate_flows`.

    Returns
    -------
    table
        One row per year, scenario and measure (see :data:`placeplan.compute.flows.MEASURES`; plus
        ``placements:<sen2_type>:<in_area|out_of_area>``).

    Examples
    --------
    See :func:`placeplan.compute.flows.simulate_flows`.
    """
    frames = []
    base = {
        (r.path, r.seed): r.measures.set_index(["year", "measure"])["value"]
        for r in result.runs
        if r.scenario == "baseline"
    }
    for r in result.runs:
        m = r.measures.assign(scenario=r.scenario, path=r.path, seed=r.seed)
        frames.append(m)
        if r.scenario != "baseline":
            s = r.measures.set_index(["year", "measure"])["value"]
            b = base[(r.path, r.seed)]
            d = s.sub(b.reindex(s.index.union(b.index)), fill_value=0.0).reset_index()
            d.columns = ["year", "measure", "value"]
            frames.append(d.assign(scenario=f"{r.scenario} - baseline", path=r.path, seed=r.seed))
    df = pd.concat(frames, ignore_index=True)
    keys = ["year", "scenario", "measure"]
    central = df[df["path"] == "central"].groupby(keys, sort=False)["value"].mean()
    lo = df.groupby(keys, sort=False)["value"].min()
    hi = df.groupby(keys, sort=False)["value"].max()
    out = pd.DataFrame({"central": central, "lower": lo, "upper": hi}).reset_index()
    # a mean over seeds can pass the max by a rounding error only; keep the order exact
    out["central"] = out["central"].clip(lower=out["lower"], upper=out["upper"])
    order = ["baseline", *result.scenarios, *(f"{s} - baseline" for s in result.scenarios)]
    out["_s"] = out["scenario"].map({s: i for i, s in enumerate(order)})
    out = out.sort_values(["_s", "year"], kind="stable").drop(columns="_s")
    return out[["year", "scenario", "measure", "central", "lower", "upper"]].reset_index(drop=True)


def constant_new_plans(
    df_cohort: pd.DataFrame,
    *,
    rate: float,
    base_year: int = 2025,
    horizon_year: int = 2030,
    spread: float = 0.2,
) -> pd.DataFrame:
    """Build a simple new-plans table from a constant annual rate (a fallback for tests and demos).

    New plans each year = ``rate`` × the baseline cohort size, shared across NC year × need in the
    baseline cohort's proportions (fractional counts;
    :func:`placeplan.compute.flows.simulate_flows` rounds them).
    ``lower`` / ``upper`` are ``central × (1 ∓ spread)``. Prefer the forecast from the DfE release
    (``placeplan.compute.forecast``) when available.

    Parameters
    ----------
    df_cohort
        Baseline cohort with ``nc_year`` and ``need``.
    rate
        New plans a year as a fraction of the baseline cohort (e.g. 0.12).
    base_year, horizon_year
        Start years of the baseline and last academic years.
    spread
        Relative half-width of the range.

    Returns
    -------
    new_plans
        ``year, nc_year, need, central, lower, upper`` for each year after ``base_year``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"nc_year": [0, 0, 7, 7], "need": ["ASD", "ASD", "ASD", "SEMH"]})
    >>> constant_new_plans(c, rate=0.5, horizon_year=2026)
       year  nc_year  need  central  lower  upper
    0  2026        0   ASD      1.0    0.8    1.2
    1  2026        7   ASD      0.5    0.4    0.6
    2  2026        7  SEMH      0.5    0.4    0.6
    """
    if rate < 0 or not 0 <= spread <= 1:
        msg = f"`rate` must be >= 0 and `spread` in [0, 1]; got rate={rate}, spread={spread}"
        raise ConfigError(msg)
    mix = df_cohort.groupby(["nc_year", "need"]).size().rename("n").reset_index()
    frames = []
    for y in range(base_year + 1, horizon_year + 1):
        c = mix["n"].to_numpy(dtype=float) * rate
        frames.append(
            mix[["nc_year", "need"]].assign(
                year=y, central=c, lower=c * (1 - spread), upper=c * (1 + spread)
            )
        )
    cols = ["year", "nc_year", "need", "central", "lower", "upper"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]
