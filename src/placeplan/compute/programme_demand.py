"""Future demand for new places, from the baseline placement-flow run, and the programme arrays.

:func:`future_demand` reads the baseline flow run (:func:`placeplan.compute.flows.simulate_flows`,
no proposals) and keeps the placements a new base could have taken: a pupil who, in a year after
the baseline, **enters** a placement out of area or in independent / non-maintained provision (a
new plan, a phase transfer or a placement breakdown, the only events the flow model places; settled
pupils stay) — grouped by home origin × need × phase × year of entry. For each group it counts the
pupils and how many of them are still in that placement in each later year, **within the phase
they entered in** (a base of that phase would hold them until they leave the phase; the next phase
is a new placement). Several runs (seeds) are averaged, so counts are expected pupils.

:func:`programme_instance` turns that demand, the candidate sites, their sizes and the journey
matrix into a :class:`~placeplan.compute.programme.ProgrammeInstance` for an objective.

Objectives (value of one pupil of a group placed at a site, summed over the years they are there):

``ooa_avoided``
    pupil-years of out-of-area / independent placement avoided over the horizon.
``net_saving_gbp``
    £ of placement and transport cost saved over the horizon (their current placement's annual
    cost per place plus transport, minus the base's annual cost per place plus transport), with
    each option's capital charged against it: net revenue saving over the horizon against capital.
``pupil_minutes``
    one-way pupil-minutes saved a school day, summed over pupil-years (only moves that shorten
    the journey count).
``within_max_journey``
    pupil-years brought within the reasonable maximum journey for their phase.

Every objective allows a pupil only sites that serve their need and phase within the reasonable
maximum journey for their phase: journey limits are constraints, not costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute.flows import INDEPENDENT_NON_MAINTAINED_TYPES
from placeplan.compute.programme import ProgrammeInstance
from placeplan.compute.site_inputs import dense_travel_times, site_demand_compatibility
from placeplan.vocab import KM_PER_MILE

if TYPE_CHECKING:
    from placeplan.compute.flows import FlowResult

__all__ = [
    "OBJECTIVES",
    "demand_from_flows",
    "future_demand",
    "fy_opening_year",
    "programme_instance",
]

#: The objectives a board can choose, with their unit.
OBJECTIVES: dict[str, str] = {
    "ooa_avoided": "pupil-years of out-of-area or independent placement avoided",
    "net_saving_gbp": "£ net revenue saving over the horizon, after capital",
    "pupil_minutes": "pupil-minutes of one-way travel saved (a school day, summed over years)",
    "within_max_journey": "pupil-years brought within the reasonable maximum journey",
}


def _phase(nc: np.ndarray) -> np.ndarray:
    return np.where(nc <= 6, "primary", np.where(nc <= 11, "secondary", "post16"))


def future_demand(
    runs: Sequence[pd.DataFrame],
    df_settings: pd.DataFrame,
    *,
    base_year: int,
    horizon_year: int,
    targets: Sequence[str] = ("out_of_area", "independent"),
) -> pd.DataFrame:
    """Return the placements a new base could take, by origin × need × phase × year of entry.

    Parameters
    ----------
    runs
        INTERNAL (pupil-level). Baseline runs' pupil tables (:attr:`FlowRun.pupils`: ``pupil_ref,
        year, status, setting_id, time_min, distance_km, origin_id, need, nc_year``); averaged.
    df_settings
        ``setting_id, sen2_type, in_area, cost_per_place_gbp`` (as for the flow model).
    base_year, horizon_year
        Academic start years of the baseline and the last modelled year; entries from
        ``base_year + 1`` to ``horizon_year`` count.
    targets
        Placements a base would replace: ``"out_of_area"`` (``in_area`` False) and/or
        ``"independent"`` (independent or non-maintained special, anywhere).

    Returns
    -------
    DataFrame
        Aggregates (no pupil references): ``demand_id, origin_id, need_type, phase,
        entry_year, count, current_time_min, current_distance_km, current_cost_per_place_gbp``
        and ``present_<year>`` for each year ``base_year + 1 .. horizon_year`` (pupils still in
        the placement, within their entry phase). Counts are averages over runs.

    Raises
    ------
    SchemaValidationError
        A run table lacks a column, or ``targets`` is empty or unknown.
    """
    bad = sorted(set(targets) - {"out_of_area", "independent"})
    if bad or not targets:
        msg = f"`targets` must name 'out_of_area' and/or 'independent'; got {list(targets)}"
        raise SchemaValidationError(msg)
    years = list(range(base_year + 1, horizon_year + 1))
    cols = ["origin_id", "need_type", "phase", "entry_year"]
    present_cols = [f"present_{y}" for y in years]
    s = df_settings.set_index(df_settings["setting_id"].astype(str))
    target = pd.Series(False, index=s.index)
    if "out_of_area" in targets:
        target |= ~s["in_area"].astype(bool)
    if "independent" in targets:
        target |= s["sen2_type"].isin(INDEPENDENT_NON_MAINTAINED_TYPES)
    parts = [_entries(run, target, s["cost_per_place_gbp"], base_year, years) for run in runs]
    if not parts:
        return pd.DataFrame(columns=["demand_id", *cols, "count", *present_cols])
    allp = pd.concat(parts, ignore_index=True)
    n_runs = max(1, len(runs))
    agg = allp.groupby(cols, as_index=False, sort=True).agg(
        count=("count", "sum"),
        current_time_min=("time_min", "mean"),
        current_distance_km=("distance_km", "mean"),
        current_cost_per_place_gbp=("cost", "mean"),
        **{c: (c, "sum") for c in present_cols},
    )
    for c in ["count", *present_cols]:
        agg[c] = agg[c] / n_runs
    agg.insert(
        0,
        "demand_id",
        agg["origin_id"].astype(str)
        + "|"
        + agg["need_type"].astype(str)
        + "|"
        + agg["phase"].astype(str)
        + "|"
        + agg["entry_year"].astype(str),
    )
    return agg


def _entries(
    run: pd.DataFrame, target: pd.Series, cost: pd.Series, base_year: int, years: list[int]
) -> pd.DataFrame:
    """One row per spell that starts with a placement into a target setting after the baseline."""
    need = ["pupil_ref", "year", "status", "setting_id", "time_min", "origin_id", "need"]
    missing = [c for c in [*need, "distance_km", "nc_year"] if c not in run]
    if missing:
        msg = f"flow pupil table lacks {missing}; use FlowRun.pupils from simulate_flows"
        raise SchemaValidationError(msg)
    df = run.loc[run["status"] == "placed"].copy()
    df["y"] = df["year"].astype(str).str[:4].astype(int)
    df["phase"] = _phase(df["nc_year"].to_numpy(dtype=int))
    df = df.sort_values(["pupil_ref", "y"], kind="stable")
    prev_same = (
        (df["pupil_ref"] == df["pupil_ref"].shift())
        & (df["setting_id"] == df["setting_id"].shift())
        & (df["y"] == df["y"].shift() + 1)
    )
    df["spell"] = (~prev_same).cumsum()
    first = df.drop_duplicates("spell")
    starts = first[
        (first["y"] > base_year) & first["setting_id"].astype(str).map(target).fillna(False)
    ]
    body = df[df["spell"].isin(starts["spell"])]
    entry_phase = body["spell"].map(starts.set_index("spell")["phase"])
    body = body[body["phase"] == entry_phase]
    present = pd.crosstab(body["spell"], body["y"]).reindex(columns=years, fill_value=0)
    present = present.reindex(starts["spell"].to_numpy(), fill_value=0)
    out = pd.DataFrame(
        {
            "origin_id": starts["origin_id"].astype(str).to_numpy(),
            "need_type": starts["need"].astype(str).to_numpy(),
            "phase": starts["phase"].to_numpy(),
            "entry_year": starts["y"].to_numpy(dtype=int),
            "count": 1.0,
            "time_min": starts["time_min"].to_numpy(dtype=float),
            "distance_km": starts["distance_km"].to_numpy(dtype=float),
            "cost": starts["setting_id"].astype(str).map(cost).fillna(0.0).to_numpy(dtype=float),
        }
    )
    for y in years:
        out[f"present_{y}"] = present[y].to_numpy(dtype=float)
    return out


def demand_from_flows(
    result: FlowResult,
    df_settings: pd.DataFrame,
    *,
    path: str = "central",
    targets: Sequence[str] = ("out_of_area", "independent"),
) -> pd.DataFrame:
    """:func:`future_demand` of a flow result's baseline runs on one new-plan path (all seeds)."""
    runs = [r.pupils for r in result.runs if r.scenario == "baseline" and r.path == path]
    return future_demand(
        runs,
        df_settings,
        base_year=result.params.base_year,
        horizon_year=result.params.horizon_year,
        targets=targets,
    )


def fy_opening_year(label: str) -> int:
    """Return the opening year (September) a financial year's capital pays for: ``2026-27`` →
    2027 (capital spent April 2026 - March 2027, places open September 2027).

    Examples
    --------
    >>> fy_opening_year("2026-27")
    2027
    """
    text = str(label).strip()
    head, _, tail = text.partition("-")
    if not (head.isdigit() and len(head) == 4 and tail.isdigit() and len(tail) in (2, 4)):
        msg = f'financial year {label!r} must look like "2026-27"'
        raise ConfigError(msg)
    if int(tail[-2:]) != (int(head) + 1) % 100:
        msg = f'financial year {label!r} must span one year, e.g. "2026-27"'
        raise ConfigError(msg)
    return int(head) + 1


def _options(
    df_sites: pd.DataFrame,
    sizes: Sequence[tuple[int, float]],
    min_size: int,
    fy_labels: list[str],
    years: list[int],
) -> pd.DataFrame:
    rows = []
    for j, site in enumerate(df_sites.itertuples(index=False)):
        max_places = int(getattr(site, "places"))  # noqa: B009 - a column name
        own = [(max_places, float(getattr(site, "capital_cost_gbp")))]  # noqa: B009
        for places, capital in sizes or own:
            if places > max_places or places < min_size:
                continue
            for f, label in enumerate(fy_labels):
                year = fy_opening_year(label)
                if year in years:
                    rows.append((j, places, years.index(year), f, capital))
    return pd.DataFrame(rows, columns=["site", "places", "open", "fy", "capital_gbp"])


def programme_instance(
    df_demand: pd.DataFrame,
    df_sites: pd.DataFrame,
    df_matrix: pd.DataFrame,
    *,
    objective: str,
    budget_by_fy_gbp: Mapping[str, float],
    sizes: Sequence[tuple[int, float]] = (),
    min_size: int = 0,
    max_journey_min_by_phase: Mapping[str, float],
    transport_cost_per_mile_gbp: float = 0.0,
    school_days: int = 190,
    carry_forward: bool = False,
    nearest_sites: int | None = None,
) -> ProgrammeInstance:
    """Build the programme model from demand, candidate sites and the journey matrix.

    Parameters
    ----------
    df_demand
        :func:`future_demand` output.
    df_sites
        Candidate sites: ``site_id, needs, phases, places, capital_cost_gbp,
        annual_cost_per_place_gbp`` (``places`` is the most a site can hold).
    df_matrix
        ``origin_id, destination_id, travel_time_min, distance_km`` (sites as destinations).
    objective
        One of :data:`OBJECTIVES`.
    budget_by_fy_gbp
        Capital by financial year (``"2026-27"`` → £); capital in a year pays for places
        opening the following September (:func:`fy_opening_year`).
    sizes
        ``(places, capital_gbp)`` offered at every site (up to its ``places``); empty: each
        site's own ``places`` and ``capital_cost_gbp``.
    min_size
        Smallest viable base (places); smaller sizes are not offered.
    max_journey_min_by_phase
        Reasonable maximum journey by phase (``primary``, ``secondary``, ``post16``).
    transport_cost_per_mile_gbp, school_days
        For ``net_saving_gbp``: transport £ = miles × £/mile × 2 × school days.
    carry_forward
        Capital unspent in a financial year may be spent later.
    nearest_sites
        Offer each demand row only its this many nearest compatible sites within reach (a
        reduction for county scale: fewer assignments, and the gap is then measured on the
        reduced model). Default: every compatible site within reach (exact).

    Returns
    -------
    ProgrammeInstance
        With ``years`` the demand's ``present_<year>`` years.

    Raises
    ------
    ConfigError
        Unknown objective, empty or malformed budget, no option fits.
    """
    if objective not in OBJECTIVES:
        msg = f"`optimise.objective` must be one of {', '.join(OBJECTIVES)}; got {objective!r}"
        raise ConfigError(msg)
    if not budget_by_fy_gbp:
        msg = 'set `optimise.budget_by_fy_gbp`, e.g. {"2026-27" = 1000000, "2027-28" = 1000000}'
        raise ConfigError(msg)
    fy_labels = sorted(budget_by_fy_gbp, key=fy_opening_year)
    years = sorted(int(c.split("_", 1)[1]) for c in df_demand.columns if c.startswith("present_"))
    opts = _options(df_sites, sizes, min_size, fy_labels, years)
    if opts.empty:
        msg = (
            "no (site, size, opening year) fits: check `optimise.sizes` against the candidates' "
            "`places`, `optimise.min_size`, and that `optimise.budget_by_fy_gbp` years open "
            f"within the modelled years {years[0] if years else '?'}-{years[-1] if years else '?'}"
        )
        raise ConfigError(msg)
    count = df_demand["count"].to_numpy(dtype=float)
    present = df_demand[[f"present_{y}" for y in years]].to_numpy(dtype=float)
    entry = np.searchsorted(years, df_demand["entry_year"].to_numpy(dtype=int))
    by_origin = df_demand.assign(demand_id=df_demand["origin_id"].astype(str))
    times = dense_travel_times(by_origin, df_sites, df_matrix)
    dist_m = df_matrix.assign(travel_time_min=df_matrix["distance_km"])
    dist = dense_travel_times(by_origin, df_sites, dist_m)
    limit = df_demand["phase"].map(dict(max_journey_min_by_phase)).to_numpy(dtype=float)
    ok = site_demand_compatibility(df_demand, df_sites) & (times <= limit[:, None])
    if nearest_sites is not None and 0 < nearest_sites < ok.shape[1]:
        masked = np.where(ok, times, np.inf)
        kth = np.partition(masked, nearest_sites - 1, axis=1)[:, nearest_sites - 1 : nearest_sites]
        ok &= masked <= kth
    arc_row, arc_site = np.nonzero(ok)
    pupil_years = present.sum(axis=1) / np.maximum(count, 1e-12)
    py = pupil_years[arc_row]
    cur_t = df_demand["current_time_min"].to_numpy(dtype=float)
    opt_value = np.zeros(len(opts))
    if objective == "ooa_avoided":
        value = py
    elif objective == "pupil_minutes":
        value = py * (cur_t[arc_row] - times[arc_row, arc_site])
    elif objective == "within_max_journey":
        value = py * (cur_t[arc_row] > limit[arc_row])
    else:
        per_mile = transport_cost_per_mile_gbp * 2 * school_days / KM_PER_MILE
        cur = df_demand["current_cost_per_place_gbp"].to_numpy(dtype=float)
        cur = cur + per_mile * np.nan_to_num(df_demand["current_distance_km"].to_numpy(float))
        new = df_sites["annual_cost_per_place_gbp"].to_numpy(dtype=float)[arc_site]
        new = new + per_mile * dist[arc_row, arc_site]
        value = py * (cur[arc_row] - new)
        opt_value = -opts["capital_gbp"].to_numpy(dtype=float)
    return ProgrammeInstance(
        site_ids=tuple(df_sites["site_id"].astype(str)),
        years=tuple(years),
        fy_labels=tuple(fy_labels),
        budget_by_fy_gbp=np.array([float(budget_by_fy_gbp[f]) for f in fy_labels]),
        opt_site=opts["site"].to_numpy(dtype=int),
        opt_places=opts["places"].to_numpy(dtype=float),
        opt_open=opts["open"].to_numpy(dtype=int),
        opt_fy=opts["fy"].to_numpy(dtype=int),
        opt_capital_gbp=opts["capital_gbp"].to_numpy(dtype=float),
        opt_value=opt_value,
        row_count=count,
        row_entry=entry.astype(int),
        row_present=present,
        arc_row=arc_row.astype(int),
        arc_site=arc_site.astype(int),
        arc_value=np.nan_to_num(np.asarray(value, dtype=float)),
        carry_forward=carry_forward,
        objective=objective,
    )
