"""Stock-flow forecast of EHC plans by placement type, need and age, with 80 % ranges.

The model, fitted on one authority's published SEN2 series (``prepare.sen2.Sen2Release``):

* **Stock and flows.** Plans at the January census of year *t+1* are the plans kept from *t* plus
  the new plans made in the calendar year between the two censuses::

      S(t+1) = rho * S(t) + N(t+1)

  ``rho`` (retention) is a ratio of sums over the last ``window`` transitions,
  ``sum(S(t+1) - N(t+1)) / sum(S(t))``. It nets ceased plans, plans moving in and out of the
  authority and (per placement type) net moves between types, including the large moves at
  phase transfer (special school or mainstream at 15 to further education at 16). The
  ceased-plans release is not used for the totals: it does not close the stock identity in the
  published data (the Isle of Wight 2024 row counts 1 ceased plan where stock and new plans
  imply about 50 exits); its rates by age are reported by :func:`ceased_rates_by_age`.
* **Per placement type** (the release's own columns, ``mainstream_total`` … ``nm_early_years``,
  and a remainder for unknown or awaiting provision), two forecasts are combined. (1) The type's
  own flow: it keeps plans at its own ``rho`` (fitted over all transitions up to the base year;
  LA-maintained + academy and independent + non-maintained special schools fitted as pairs;
  shrunk towards the all-plans ``rho`` by credibility) and receives new plans by the mix of new
  plans' first placements (newplans release), scaled to sum to the total. (2) The type's share
  of the projected total, from cohort-aged mixes (:mod:`~placeplan.compute.forecast_cohort`):
  each cohort's mix of types by age is carried one year of age at a time through transitions
  fitted cohort-wise on the by-age censuses, with a matrix of its own at each phase transfer
  (3-4, 4-5, 10-11, 15-16, 18-19) and one per phase between; without two consecutive by-age
  censuses up to the base year, the base year's shares. The flow gets the weight of the
  base-year plans still held, ``rho**h * S(base) / S(base+h)`` (settled placements stay put:
  DESIGN.md, placement flows), the cohort mix the rest.
* **New plans** a year follow a damped linear trend over the last ``window`` years present
  (least squares, half the slope kept; last value if only one year), never below zero. (An
  optional leading indicator, next year's new plans from this year's requests for assessment,
  :mod:`~placeplan.compute.forecast_lead`, is off: ``_NEW_LEAD``. So are two damped-trend
  variants, :mod:`~placeplan.compute.forecast_trend`: all plans as the mean of this model and a
  damped trend of all plans, ``_COMBINE_TOTAL``; the new-plan inflow on a damped trend,
  ``_NEW_DAMPED``; neither passed its backtest rule, benchmarks/RESULTS.md.)
* **By age** (what the release allows: caseload by single year of age is published only for the
  latest two censuses, new plans by age for the latest two or three calendar years, need only
  for the latest year), :func:`project_cohort` ages the latest by-age stock one year at a time,
  removes exits by age and adds new plans by age; it is scaled to the totals above. NC year is
  ``age - 4`` (age at 31 August before the census: Reception children are 4).
* **Needs**: the latest published need mix by age (at or before the base year) applied to the
  projected stock by age. With no need table at or before the base year, no need measures.
* **Ranges**: an 80 % prediction interval from rolling-origin backtest residuals of this same
  model on the authority's own history up to the base year (every origin with a transition
  before it, every horizon it can reach): the log error ``log(actual / forecast)`` per measure
  and horizon, root mean square, shrunk towards the median over all measures (the series are
  short: 4-6 origins), floored at ``0.05 * h`` and at Poisson noise, extended beyond the
  longest backtested horizon (and to a horizon a missing year left without residuals) in
  proportion to ``h`` (the error of a misjudged trend grows with the horizon, not its square
  root) and non-decreasing in the horizon (:mod:`~placeplan.compute.forecast_ranges`);
  ``lower, upper = central * exp(-/+ z * sd)``. Residuals rather than a bootstrap because the
  series are too short to resample, and because backtest residuals include model error (a
  trend break), which a bootstrap of the fitted flows would not.

An authority's own forecast overrides the fit year by year (``override=``).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, InputFileError
from placeplan.compute.forecast_cohort import (
    AGE_TOPIC,
    fit_cohort_types,
    known_mix,
    latest_age_year,
    latest_by_age,
    project_cohort,
    type_share_path,
    unknown_ages,
)
from placeplan.compute.forecast_lead import REQUESTS_MEASURE, lead_new_plans
from placeplan.compute.forecast_ranges import (
    check_ranges,
    floor_sigma,
    interval_bounds,
    sigma_table,
    z_value,
)
from placeplan.compute.forecast_trend import TREND_PHI, damped_sum, damped_value, line_fit

if TYPE_CHECKING:
    from placeplan.prepare.sen2 import Sen2Release

__all__ = [
    "DERIVED_MEASURES",
    "PLACEMENT_MEASURES",
    "TOTAL_MEASURE",
    "ForecastModel",
    "ceased_rates_by_age",
    "fit_forecast",
    "forecast",
    "new_plans_by_age",
    "project_cohort",
]

logger = logging.getLogger(__name__)

#: The release's column for all EHC plans.
TOTAL_MEASURE = "ehcplans"
#: Placement types projected (the release's own column names); with a remainder they partition
#: ``ehcplans``.
PLACEMENT_MEASURES: tuple[str, ...] = (
    "mainstream_total",
    "special_la_maintained",
    "special_academy_free",
    "special_independent",
    "special_non_maintained",
    "ap_pru_total",
    "fe_total",
    "ed_elsewhere",
    "nm_early_years",
)
_OTHER = "_other"  # unknown / awaiting provision / permanently excluded: the remainder
#: Measures added up from the placement types. ``special_total`` is the release's column;
#: ``special_independent_non_maintained`` (independent + non-maintained special schools) is the
#: design's own measure of reliance on independent provision.
DERIVED_MEASURES: dict[str, tuple[str, ...]] = {
    "special_total": (
        "special_la_maintained",
        "special_academy_free",
        "special_independent",
        "special_non_maintained",
    ),
    "special_independent_non_maintained": ("special_independent", "special_non_maintained"),
}
_NEW_TOTAL = "new_ehc_plans"
_MAX_AGE = 25
#: Placement types whose retention is fitted together: moves within a group (academy conversion of
#: a special school; independent <-> non-maintained) are relabelling, not flows, and the single
#: types are too small for a stable ratio.
_RETENTION_GROUPS: dict[str, tuple[str, ...]] = {
    "special_la_maintained": ("special_la_maintained", "special_academy_free"),
    "special_academy_free": ("special_la_maintained", "special_academy_free"),
    "special_independent": ("special_independent", "special_non_maintained"),
    "special_non_maintained": ("special_independent", "special_non_maintained"),
}
#: Credibility of a type's own retention: weight = plan-years / (plan-years + K), the rest from
#: the all-plans retention (a type with 1,000 plan-years of history gets half its own).
_RHO_SHRINK_K = 1000.0
#: Transitions the type retentions are fitted on (None: all up to the base year; they are
#: noisy and the backtest favours the longer window).
_TYPE_WINDOW: int | None = None
#: Share of the fitted new-plan slope kept each year ahead (a damped trend).
_NEW_DAMP = 0.5
#: Forecast next year's new plans from this year's requests for assessment when the release's
#: requests table is given (:mod:`~placeplan.compute.forecast_lead`). Off: it did not pass its
#: pre-registered rule in the backtest (benchmarks/RESULTS.md, variants).
_NEW_LEAD = False
#: Variant (A): all plans = equal-weight mean of the stock-flow total and a damped trend of all
#: plans (:mod:`~placeplan.compute.forecast_trend`), the types scaled to it. Variant (B): the
#: new-plan inflow on a damped trend (``phi = TREND_PHI``) instead of ``_NEW_DAMP``. Both off:
#: see benchmarks/RESULTS.md, variants.
_COMBINE_TOTAL = False
_NEW_DAMPED = False


def _num(df: pd.DataFrame, row: object, col: str) -> float:
    """One cell as a float (NaN if missing)."""
    values = df[col].to_numpy(dtype=float, na_value=np.nan)
    return float(values[df.index.get_loc(row)])


def _group_sum(values: list[float]) -> float:
    """Sum of a group's cells; NaN when any member is missing (suppressed is unknown, not 0)."""
    return float(sum(values)) if all(np.isfinite(v) for v in values) else float("nan")


def _published(cells: dict[str, float]) -> bool:
    """Whether any year of a measure's history has a figure."""
    return any(np.isfinite(v) for v in cells.values())


def _year_start(label: str) -> int:
    return int(label[:4])


def _label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


class _BaseYearError(ConfigError, InputFileError):
    """A base year the caseload file cannot support (names the file and column)."""


def _normalise_base_year(base_year: str | int | None, release: Sen2Release) -> str:
    """The base year as ``"2021/22"``, checked against the published ``ehcplans`` figures."""
    head = release.headline("caseload")
    file = release.files.get("caseload", "the caseload file")
    if TOTAL_MEASURE not in head.columns or head[TOTAL_MEASURE].isna().all():
        msg = (
            f"no published `{TOTAL_MEASURE}` figure for {release.la_name} on the all-plans rows "
            "(breakdown_topic 'All EHC plans'); nothing to fit: give the release's caseload file"
        )
        raise _BaseYearError(msg, file=file, column=TOTAL_MEASURE)
    years = sorted(head.dropna(subset=[TOTAL_MEASURE]).index)
    text = years[-1] if base_year is None else str(base_year).strip().replace("-", "/")
    if text.isdigit() and len(text) == 6:
        text = f"{text[:4]}/{text[4:]}"
    if text.isdigit() and len(text) == 4:
        text = _label(int(text) - 1)  # 2022 -> the January 2022 census, 2021/22
    if text in head.index and text not in years:
        msg = (
            f"`base_year` {text}: {release.la_name}'s all-plans `{TOTAL_MEASURE}` is suppressed or "
            f"not published for {text}; choose a base year with a figure: {', '.join(years)}"
        )
        raise _BaseYearError(msg, file=file, column=TOTAL_MEASURE)
    if text not in years:
        msg = (
            f"`base_year` {base_year!r} is not a caseload year of {release.la_name} in this "
            f"release; give an academic year like 2021/22 among {', '.join(years)}"
        )
        raise _BaseYearError(msg, file=file, column="time_period")
    stock = [y for y in years if y <= text]
    if not any(_year_start(b) == _year_start(a) + 1 for a, b in itertools.pairwise(stock)):
        msg = (
            f"`base_year` {text}: {release.la_name}'s `{TOTAL_MEASURE}` is published for "
            f"{', '.join(stock)} up to it; the model needs at least two consecutive census years; "
            "choose a later base year"
        )
        raise _BaseYearError(msg, file=file, column=TOTAL_MEASURE)
    return text


# --------------------------------------------------------------------------------------------
# the aggregate stock-flow core (also used for the rolling-origin residuals)


@dataclass(frozen=True, slots=True)
class _Core:
    base_year: str
    stock: dict[str, float]  # measure -> base-year stock (leaves, _other and the total)
    rho: dict[str, float]
    const: dict[str, float]
    new_intercept: float  # new plans = intercept + slope * (year_start - base_start)
    new_slope: float
    new_mix: dict[str, float]  # leaf -> share of new plans
    shares: dict[str, float]  # leaf -> share of all plans at the base year
    new_lead: tuple[float, float] | None = None  # (ratio, next year's new plans), requests
    total_trend: tuple[float, float] = (0.0, 0.0)  # (level, slope) of all plans, last years


def _history(release: Sen2Release, base_year: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    head = release.headline("caseload")
    head = head[head.index <= base_year]
    cols = [TOTAL_MEASURE, *PLACEMENT_MEASURES]
    # a column the release does not publish holds no plans; a suppressed cell stays NaN
    stock = head.reindex(columns=cols).fillna({c: 0.0 for c in cols[1:] if c not in head})
    stock = stock[stock[TOTAL_MEASURE].notna()]
    # a type suppressed in a year leaves the remainder unknown that year, not total minus the
    # others (it would take all the type's plans); both retentions skip the year
    held = stock[list(PLACEMENT_MEASURES)]
    stock[_OTHER] = (stock[TOTAL_MEASURE] - held.sum(axis=1, min_count=held.shape[1])).clip(lower=0)
    new = release.headline("new_plans")
    absent = {c: 0.0 for c in PLACEMENT_MEASURES if c not in new}
    new = new[new.index <= base_year].reindex(columns=[_NEW_TOTAL, *PLACEMENT_MEASURES])
    new = new.fillna(absent)
    new = new[new[_NEW_TOTAL].notna()]
    new[list(PLACEMENT_MEASURES)] = new[list(PLACEMENT_MEASURES)].ffill()
    placed = new[list(PLACEMENT_MEASURES)].sum(axis=1, min_count=len(PLACEMENT_MEASURES))
    new[_OTHER] = (new[_NEW_TOTAL] - placed).clip(lower=0)
    return stock, new


def _requests(release: Sen2Release, base_year: str) -> pd.Series | None:
    """Requests for assessment a year up to the base year (None without the requests table)."""
    head = release.headline("requests")
    if REQUESTS_MEASURE not in head.columns:
        return None
    return head.loc[head.index <= base_year, REQUESTS_MEASURE].astype(float)


def _fit_core(
    stock: pd.DataFrame, new: pd.DataFrame, window: int, requests: pd.Series | None = None
) -> _Core:
    years = list(stock.index)
    base = years[-1]
    pairs = [(a, b) for a, b in itertools.pairwise(years) if _year_start(b) == _year_start(a) + 1]
    with_new = [(a, b) for a, b in pairs if b in new.index]
    use = (with_new or pairs)[-window:]
    # plain dicts: cell look-ups on DataFrames dominate the run time otherwise
    sv: dict[str, dict[str, float]] = stock.astype(float).to_dict()  # type: ignore[assignment]
    nv: dict[str, dict[str, float]] = new.astype(float).to_dict()  # type: ignore[assignment]
    leaves = [*PLACEMENT_MEASURES, _OTHER]
    rho: dict[str, float] = {}
    const: dict[str, float] = {}
    use_types = (with_new or pairs)[-_TYPE_WINDOW:] if _TYPE_WINDOW else (with_new or pairs)
    for m in [TOTAL_MEASURE, *leaves]:
        # a partner never published up to the base year is not in the group (not unknown)
        group = [g for g in _RETENTION_GROUPS.get(m, (m,)) if g == m or _published(sv[g])]
        kept: list[float] = []
        start: list[float] = []
        for a, b in use if m == TOTAL_MEASURE else use_types:
            s_a = _group_sum([sv[g][a] for g in group])
            s_b = _group_sum([sv[g][b] for g in group])
            if np.isnan(s_a) or np.isnan(s_b):
                continue
            new_cols = [_NEW_TOTAL] if m == TOTAL_MEASURE else group
            n_b = _group_sum([nv[g][b] for g in new_cols]) if with_new and b in new.index else 0.0
            if np.isnan(n_b):  # the type's new plans are suppressed: its retention is unknown
                continue
            kept.append(s_b - n_b)
            start.append(s_a)
        if not start:  # nothing known to fit on: the all-plans retention (credibility 0)
            rho[m], const[m] = rho.get(TOTAL_MEASURE, 1.0), 0.0
        elif sum(start) > 0:
            rho[m], const[m] = float(max(sum(kept), 0.0) / sum(start)), 0.0
            if m != TOTAL_MEASURE:  # credibility: small types lean on the all-plans retention
                weight = sum(start) / (sum(start) + _RHO_SHRINK_K)
                rho[m] = rho[TOTAL_MEASURE] + weight * (rho[m] - rho[TOTAL_MEASURE])
        else:
            rho[m], const[m] = 0.0, max(float(np.mean(kept)), 0.0)
    last_stock = {
        m: float(stock[m].dropna().iloc[-1]) if stock[m].notna().any() else 0.0
        for m in [TOTAL_MEASURE, *leaves]
    }
    if with_new:
        recent = new.iloc[-window:]
        x = np.array([_year_start(y) - _year_start(base) for y in recent.index], dtype=float)
        yv = recent[_NEW_TOTAL].to_numpy(dtype=float)
        if len(x) >= 2:
            slope, intercept = np.polyfit(x, yv, 1)
        else:
            slope, intercept = 0.0, float(yv[-1])
        # years with a suppressed type are left out of the mix (not read as no new plans)
        mix_sum = recent[leaves].dropna().sum()
        total = float(mix_sum.sum())
        new_mix = {m: float(mix_sum[m]) / total if total > 0 else 0.0 for m in leaves}
    else:
        slope, intercept, new_mix = 0.0, 0.0, dict.fromkeys(leaves, 0.0)
    recent_stock = stock[TOTAL_MEASURE].iloc[-window:]
    total_trend = line_fit(
        [float(_year_start(y) - _year_start(base)) for y in recent_stock.index],
        [float(v) for v in recent_stock],
    )
    return _Core(
        total_trend=total_trend,
        shares={m: last_stock[m] / max(sum(last_stock[k] for k in leaves), 1e-9) for m in leaves},
        base_year=base,
        stock=last_stock,
        rho=rho,
        const=const,
        new_intercept=float(intercept),
        new_slope=float(slope),
        new_mix=new_mix,
        new_lead=(
            lead_new_plans(new[_NEW_TOTAL], requests, base, window)
            if _NEW_LEAD and requests is not None and with_new
            else None
        ),
    )


def _new_plans_central(core: _Core, year: str) -> float:
    h = _year_start(year) - _year_start(core.base_year)
    if core.new_lead is not None:  # next year from this year's requests, then the trend's slope
        return max(core.new_lead[1] + _NEW_DAMP * core.new_slope * (h - 1), 0.0)
    if _NEW_DAMPED:
        return max(core.new_intercept + core.new_slope * damped_sum(TREND_PHI, h), 0.0)
    return max(core.new_intercept + _NEW_DAMP * core.new_slope * h, 0.0)


def _project_core(core: _Core, years: int, share_path: pd.DataFrame | None = None) -> pd.DataFrame:
    """Central paths, index the projected years, columns total, leaves, derived measures.

    Each placement type combines its own flow (kept at its retention, plus its share of new plans)
    and its share of the total (``share_path``, default the base-year shares); see the module
    docstring.
    """
    leaves = [*PLACEMENT_MEASURES, _OTHER]
    state = dict(core.stock)
    rows = {}
    base = _year_start(core.base_year)
    path: dict[str, dict[str, float]] = (
        {} if share_path is None else share_path.astype(float).to_dict("index")  # type: ignore[assignment]
    )
    for h in range(1, years + 1):
        year = _label(base + h)
        n = _new_plans_central(core, year)
        total = max(core.rho[TOTAL_MEASURE] * state[TOTAL_MEASURE] + n, 0.0)
        raw = {
            m: max(core.rho[m] * state[m] + core.const[m] + core.new_mix[m] * n, 0.0)
            for m in leaves
        }
        raw_sum = sum(raw.values())
        scale = total / raw_sum if raw_sum > 0 else 0.0
        state = {TOTAL_MEASURE: total, **{m: raw[m] * scale for m in leaves}}
        share = path.get(year, core.shares)
        # the type's own flow speaks for the base-year plans still held; the rest follow the mix
        weight = min(core.rho[TOTAL_MEASURE] ** h * core.stock[TOTAL_MEASURE] / total, 1.0)
        mixed = {m: weight * state[m] + (1 - weight) * total * share[m] for m in leaves}
        out = {TOTAL_MEASURE: total, **{m: mixed[m] for m in PLACEMENT_MEASURES}}
        for name, parts in DERIVED_MEASURES.items():
            out[name] = sum(mixed[p] for p in parts)
        if _COMBINE_TOTAL and total > 0:  # the stock-flow path runs on; its output is scaled
            combined = 0.5 * (total + damped_value(*core.total_trend, h, TREND_PHI))
            out = {m: v * combined / total for m, v in out.items()}
        out[_NEW_TOTAL] = n
        rows[year] = out
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "year"
    return frame


def _actuals(stock: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    act = stock[[TOTAL_MEASURE, *PLACEMENT_MEASURES]].copy()
    for name, parts in DERIVED_MEASURES.items():
        act[name] = stock[list(parts)].sum(axis=1, min_count=len(parts))
    act[_NEW_TOTAL] = new[_NEW_TOTAL].reindex(act.index)
    return act


def _residuals(
    stock: pd.DataFrame, new: pd.DataFrame, window: int, requests: pd.Series | None = None
) -> pd.DataFrame:
    """Rolling-origin errors ``log(actual / forecast)``: columns origin, horizon, measure, error."""
    actual = _actuals(stock, new)
    years = list(stock.index)
    records = []
    for i in range(1, len(years) - 1):
        origin = years[i]
        asked = None if requests is None else requests[requests.index <= origin]
        core = _fit_core(stock.iloc[: i + 1], new[new.index <= origin], window, asked)
        horizon_max = _year_start(years[-1]) - _year_start(origin)
        pred = _project_core(core, horizon_max)
        for year, row in pred.iterrows():
            if year not in actual.index:
                continue
            h = _year_start(str(year)) - _year_start(origin)
            for m, p in row.items():
                a = _num(actual, year, str(m))
                if np.isfinite(a) and a > 0 and float(p) > 0:
                    records.append((origin, h, m, math.log(a / float(p))))
    return pd.DataFrame(records, columns=["origin", "horizon", "measure", "error"])


# --------------------------------------------------------------------------------------------
# the fitted model


@dataclass(frozen=True, slots=True)
class ForecastModel:
    """A fitted stock-flow model for one authority (see the module docstring for the method).

    Attributes
    ----------
    la_code, la_name
        The authority.
    base_year
        The last census year the model was fitted on (``"2024/25"``).
    history_years
        Caseload years used, up to and including ``base_year``.
    window
        Number of recent transitions (years) the rates and trends are fitted on.
    retention
        Fitted ``rho`` by measure (``ehcplans`` and each placement type).
    new_plans_trend
        ``(level at the base year, change per year)`` of new plans a year.
    new_plans_mix
        Share of new plans by first placement type.
    age_stock
        Plans by age at the latest census with an age breakdown at or before ``base_year``
        (empty if none), and ``age_year`` that census; a suppressed age holds the linear
        interpolation of its published neighbours (unknown, not 0 plans).
    new_age_mix
        Share of new plans by age when the plan started (pooled over up to ``window`` years).
    exit_rate_by_age
        Share of plans at each age that end before the next census (see
        :func:`ceased_rates_by_age`).
    need_mix_by_age
        Index age, columns need codes: share of plans by primary need at each age (empty if no
        need table at or before ``base_year``).
    new_need_mix_by_age
        The same for new plans.
    sigma
        Log-scale forecast error sd by horizon (index 1..) and measure, from the backtest.
    residuals
        The rolling-origin residuals behind ``sigma``: ``origin, horizon, measure, error``.
    type_stock_by_age
        Plans by age (index) and placement type (columns, with the remainder ``_other``) at the
        base year, when published (else empty).
    type_transitions
        Age moved from -> transition matrix between placement types, fitted cohort-wise on the
        by-age censuses in the window (``forecast_cohort.fit_type_transitions``); empty with
        fewer than two consecutive by-age censuses up to the base year.
    type_unknown_ages
        ``(census year, age)`` whose by-age cells are suppressed in the censuses the transitions
        are fitted on: left out of the fit (unknown, not zero plans); empty when none.
    """

    la_code: str
    la_name: str
    base_year: str
    history_years: tuple[str, ...]
    window: int
    retention: dict[str, float]
    new_plans_trend: tuple[float, float]
    new_plans_mix: dict[str, float]
    age_year: str | None
    age_stock: pd.Series
    new_age_mix: pd.Series
    exit_rate_by_age: pd.Series
    need_mix_by_age: pd.DataFrame
    new_need_mix_by_age: pd.DataFrame
    sigma: pd.DataFrame
    residuals: pd.DataFrame
    type_stock_by_age: pd.DataFrame
    type_transitions: dict[int, pd.DataFrame]
    type_unknown_ages: tuple[tuple[str, int], ...]
    _core: _Core = field(repr=False)
    _actual: pd.DataFrame = field(repr=False)


def _need_mix(needs: pd.DataFrame, base_year: str, key: str = "year") -> pd.DataFrame:
    """Share of plans by need at each age (index age, columns need; row -1 = all ages)."""
    if needs.empty:
        return pd.DataFrame()
    rows = needs[(needs[key] <= base_year) & needs["value"].notna()]
    if rows.empty:
        return pd.DataFrame()
    rows = rows[rows[key] == rows[key].max()]
    by_age = rows[rows["age"].notna()]
    if (by_age["breakdown_topic"] == AGE_TOPIC).any():  # never add two age breakdowns up
        by_age = by_age[by_age["breakdown_topic"] == AGE_TOPIC]
    allrows = rows[rows["breakdown_topic"].str.lower().str.startswith("all")]
    overall = allrows.groupby("need")["value"].sum()
    if by_age.empty:
        table = pd.DataFrame([overall.to_numpy()], index=[-1], columns=overall.index)
    else:
        table = by_age.pivot_table(index="age", columns="need", values="value", aggfunc="sum")
        table.index = table.index.astype(int)
        if overall.sum() == 0:
            overall = table.sum()
        table.loc[-1] = overall.reindex(table.columns).to_numpy()
    # an age with a suppressed cell (unknown, not 0 plans of that need) borrows the all-ages
    # mix, as do ages whose cells are all suppressed
    partial = table.isna().any(axis=1) & (table.index != -1)
    table = table.fillna(0.0)
    sums = table.sum(axis=1)
    table.loc[(sums == 0) | partial] = table.loc[-1].to_numpy()
    return table.div(table.sum(axis=1), axis=0).fillna(0.0)


def _covers_new_plans(release: Sen2Release, base_year: str) -> bool:
    """Whether the new-plans-by-need table counts at least half of that year's new plans.

    (The 2025 release's Isle of Wight row counts 3 new plans by need against 187 new plans.)
    """
    needs = release.new_plans_needs
    rows = needs[(needs["census_year"] <= base_year) & needs["value"].notna()]
    if rows.empty:
        return False
    year = rows["census_year"].max()
    rows = rows[(rows["census_year"] == year)]
    counted = rows[rows["breakdown_topic"].str.lower().str.startswith("all")]["value"].sum()
    head = release.headline("new_plans")
    if year not in head.index or _NEW_TOTAL not in head.columns:
        return True
    total = _num(head, year, _NEW_TOTAL)
    return not np.isfinite(total) or counted >= 0.5 * total


def _exit_rates(
    release: Sen2Release, base_year: str, age_year: str | None, fallback: float
) -> pd.Series:
    """Exit rate by age implied by the stock identity between the two latest by-age censuses.

    Pooled over bands (2-15, 16-18, 19-24) because single-age cells are small; age 25 leaves.
    Without two by-age censuses: ``fallback`` (1 - retention of all plans) at every age.
    """
    ages = range(2, _MAX_AGE + 1)
    rate = pd.Series(fallback, index=ages, dtype=float)
    rate[rate.index == _MAX_AGE] = 1.0
    if age_year is None:
        return rate
    prev = _label(_year_start(age_year) - 1)
    s1 = latest_by_age(release.caseload, age_year, TOTAL_MEASURE)
    s0 = latest_by_age(release.caseload[release.caseload["year"] == prev], prev, TOTAL_MEASURE)
    newp = release.new_plans
    n1 = (
        latest_by_age(
            newp[newp["census_year"] == age_year], age_year, _NEW_TOTAL, key="census_year"
        )
        if not newp.empty
        else pd.Series(dtype=float)
    )
    if s0.empty or s1.empty:
        return rate
    # a suppressed cell (NaN in a published age) leaves that cohort out of its band; an age
    # not published at all holds no plans
    hidden = {a for a in s0.index if np.isnan(s0[a])}
    hidden |= {a - 1 for part in (s1, n1) for a in part.index if np.isnan(part[a])}
    for low, high in ((2, 15), (16, 18), (19, _MAX_AGE - 1)):
        band = [a for a in range(low, high + 1) if a not in hidden]
        start = s0.reindex(band).fillna(0).sum()
        kept = (
            s1.reindex([a + 1 for a in band]).fillna(0)
            - n1.reindex([a + 1 for a in band]).fillna(0)
        ).sum()
        if start > 0:
            rate.loc[low:high] = float(np.clip(1 - kept / start, 0.0, 1.0))
    return rate


def fit_forecast(
    release: Sen2Release,
    base_year: str | int | None = None,
    *,
    window: int = 3,
    years: int = 5,
) -> ForecastModel:
    """Fit the stock-flow model on the authority's history up to and including ``base_year``.

    Parameters
    ----------
    release
        One authority's release tables (:func:`placeplan.prepare.sen2.read_sen2_release`).
    base_year
        Last census year to fit on (``"2021/22"``, ``202122`` or ``2022`` for the January 2022
        census); default the latest. Nothing published for later years is read, so the model can
        be backtested.
    window
        Number of recent transitions the retention rates, new-plan trend and mixes are fitted on.
    years
        Longest horizon the error table ``sigma`` is prepared for.

    Returns
    -------
    model
        A :class:`ForecastModel`.

    Raises
    ------
    ConfigError
        ``base_year`` is not a caseload year, or fewer than two consecutive census years of
        ``ehcplans`` are published up to it.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> model = fit_forecast(example_release(), base_year="2021/22")
    >>> model.base_year, round(model.retention["ehcplans"], 3)
    ('2021/22', 0.95)
    """
    if window < 1:
        msg = f"`window` must be at least 1 year, got {window}"
        raise ConfigError(msg)
    base = _normalise_base_year(base_year, release)
    stock, new = _history(release, base)
    requests = _requests(release, base)
    core = _fit_core(stock, new, window, requests)
    residuals = _residuals(stock, new, window, requests)
    measures = [TOTAL_MEASURE, *PLACEMENT_MEASURES, *DERIVED_MEASURES, _NEW_TOTAL]
    sigma = floor_sigma(sigma_table(residuals, measures, years))
    caseload = release.caseload
    age_year = latest_age_year(caseload, base, TOTAL_MEASURE)
    age_stock = (
        latest_by_age(caseload, age_year, TOTAL_MEASURE) if age_year else pd.Series(dtype=float)
    )
    # a suppressed age is unknown, not 0 plans: its neighbours' level (linear in age; not
    # differenced from the total, which would undo the suppression)
    age_stock = (
        age_stock.interpolate(limit_direction="both") if age_stock.notna().any() else age_stock
    )
    newp = release.new_plans
    if not newp.empty:
        nrows = newp[(newp["census_year"] <= base) & newp["age"].notna() & newp["value"].notna()]
        nrows = nrows[nrows["measure"] == _NEW_TOTAL]
        keep = sorted(nrows["census_year"].unique())[-window:]
        pooled = (
            nrows[nrows["census_year"].isin(keep)].groupby(nrows["age"].astype(int))["value"].sum()
        )
        new_age_mix = pooled / pooled.sum() if pooled.sum() > 0 else pd.Series(dtype=float)
    else:
        new_age_mix = pd.Series(dtype=float)
    exit_rate = _exit_rates(release, base, age_year, 1.0 - core.rho[TOTAL_MEASURE])
    need_mix = _need_mix(release.needs, base)
    new_need_mix = _need_mix(release.new_plans_needs, base, key="census_year")
    if not new_need_mix.empty and not _covers_new_plans(release, base):
        logger.info("fit_forecast: new plans by need cover under half of new plans; not used")
        new_need_mix = pd.DataFrame()
    type_stock, transitions = fit_cohort_types(
        release.caseload, base, list(PLACEMENT_MEASURES), window=window, remainder=_OTHER
    )
    unknown = unknown_ages(release.caseload, base, list(PLACEMENT_MEASURES), window=window)
    if unknown:
        logger.warning(
            "fit_forecast: %s: by-age cells suppressed at %s; those ages are left out of the "
            "placement-type transitions (unknown, not zero)",
            release.la_name,
            ", ".join(f"{y} age {a}" for y, a in unknown),
        )
    model = ForecastModel(
        la_code=release.la_code,
        la_name=release.la_name,
        base_year=base,
        history_years=tuple(stock.index),
        window=window,
        retention=dict(core.rho),
        new_plans_trend=(core.new_intercept, core.new_slope),
        new_plans_mix=dict(core.new_mix),
        age_year=age_year,
        age_stock=age_stock,
        new_age_mix=new_age_mix,
        exit_rate_by_age=exit_rate,
        need_mix_by_age=need_mix,
        new_need_mix_by_age=new_need_mix,
        sigma=sigma,
        residuals=residuals,
        type_stock_by_age=type_stock,
        type_transitions=transitions,
        type_unknown_ages=unknown,
        _core=core,
        _actual=_actuals(stock, new),
    )
    logger.info(
        "fit_forecast: %s, fitted on %s to %s, retention %.3f, new plans %.0f%+.1f a year, "
        "%d backtest residuals",
        release.la_name,
        stock.index[0],
        base,
        core.rho[TOTAL_MEASURE],
        core.new_intercept,
        core.new_slope,
        len(residuals),
    )
    return model


def _by_age_paths(model: ForecastModel, central: pd.DataFrame) -> pd.DataFrame:
    """Stock by age for each projected year (scaled to the total), or empty without age data."""
    if model.age_stock.empty or model.age_year is None:
        return pd.DataFrame()
    start = _year_start(model.age_year)
    last = _year_start(str(central.index[-1]))
    years = [_label(y) for y in range(start + 1, last + 1)]
    newn = []
    for y in years:
        n = _num(central, y, _NEW_TOTAL) if y in central.index else _actual_new(model, y)
        newn.append(model.new_age_mix * n)
    new_by_age = pd.DataFrame(newn, index=years).fillna(0.0)
    if new_by_age.empty:
        return pd.DataFrame()
    paths = project_cohort(model.age_stock.fillna(0.0), new_by_age, model.exit_rate_by_age)
    paths = paths.loc[[y for y in paths.index if y in central.index]]
    totals = central.loc[paths.index, TOTAL_MEASURE]
    return paths.mul(totals / paths.sum(axis=1), axis=0)


def _cohort_shares(model: ForecastModel, central: pd.DataFrame) -> pd.DataFrame | None:
    """Type shares of all plans by year from cohort-aged mixes by age (None without them).

    Moved onto the published base-year shares: ``share(t) = base share + cohort change``.
    """
    if not model.type_transitions or model.type_stock_by_age.empty:
        return None
    paths = _by_age_paths(model, central)
    if paths.empty or model.age_year != model.base_year:
        return None
    path = type_share_path(paths, model.type_stock_by_age, model.type_transitions)
    start = known_mix(model.type_stock_by_age)  # ages with a suppressed cell left out
    base = pd.Series(model._core.shares).reindex(path.columns).fillna(0.0)
    moved = (path - start + base).clip(lower=0.0)
    return moved.div(moved.sum(axis=1), axis=0)


def _actual_new(model: ForecastModel, year: str) -> float:
    value = _num(model._actual, year, _NEW_TOTAL) if year in model._actual.index else np.nan
    return value if np.isfinite(value) else _new_plans_central(model._core, year)


def _apply_override(out: pd.DataFrame, override: pd.DataFrame) -> pd.DataFrame:
    need = {"year", "measure", "central"}
    if not need <= set(override.columns):
        msg = (
            f"`override` needs columns year, measure, central (optional lower, upper); got "
            f"{', '.join(map(str, override.columns))}"
        )
        raise ConfigError(msg)
    out = out.copy()
    for row in override.itertuples(index=False):
        year, measure, central = str(row.year), str(row.measure), float(row.central)  # type: ignore[arg-type]
        mask_year = out["year"] == year
        targets = mask_year if measure == TOTAL_MEASURE else mask_year & (out["measure"] == measure)
        old = out.loc[mask_year & (out["measure"] == measure), "central"]
        if old.empty:
            msg = f"`override` row {year} {measure}: no such year and measure in the forecast"
            raise ConfigError(msg)
        ratio = central / float(old.iloc[0]) if float(old.iloc[0]) > 0 else 1.0
        for col in ("central", "lower", "upper"):
            out.loc[targets, col] = out.loc[targets, col] * ratio
        out.loc[mask_year & (out["measure"] == measure), "central"] = central
        for col in ("lower", "upper"):
            value = getattr(row, col, None)
            if value is not None and np.isfinite(value):
                out.loc[mask_year & (out["measure"] == measure), col] = float(value)
    return out


def forecast(
    release: Sen2Release,
    *,
    base_year: str | int | None = None,
    years: int = 5,
    interval: float = 0.8,
    window: int = 3,
    override: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Project EHC plans by placement type and need, each with a prediction interval.

    Parameters
    ----------
    release
        One authority's release tables.
    base_year
        Fit on census years up to and including this one only (see :func:`fit_forecast`).
    years
        Number of census years to project after ``base_year``.
    interval
        Coverage of the prediction interval (0.8 = 80 %).
    window
        Recent years the model is fitted on.
    override
        The authority's own forecast: ``year, measure, central`` (optional ``lower, upper``). An
        ``ehcplans`` row rescales every measure of that year; a row for another measure replaces
        that measure only. Intervals keep their relative width unless ``lower/upper`` are given.

    Returns
    -------
    forecast
        Long format ``year, measure, central, lower, upper``: ``year`` the academic year of the
        January census (``"2025/26"``); ``measure`` ``ehcplans``, each placement type by the
        release's column name, ``special_total``, ``special_independent_non_maintained`` and
        the need codes (``ASD``, ``SEMH``, …, ``UNKNOWN``) when a need table is published at or
        before ``base_year``. Counts of plans (floats; round for publication). A placement
        type with no published figure up to ``base_year`` (suppressed) is left out, not zero.

    Raises
    ------
    ConfigError
        Bad ``base_year``, ``years``, ``interval`` or ``override``.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> release = example_release(new_plans=(100.0, 0.0))  # 95 % kept, 100 new plans a year
    >>> df = forecast(release, base_year="2022/23", years=2)
    >>> df[df["measure"] == "ehcplans"][["year", "central"]].round(1).to_dict("list")
    {'year': ['2023/24', '2024/25'], 'central': [1226.2, 1264.9]}
    >>> release.headline()["ehcplans"].round(1).loc["2023/24":].tolist()  # what happened
    [1226.2, 1264.9]
    >>> bool(((df["lower"] <= df["central"]) & (df["central"] <= df["upper"])).all())
    True
    """
    if years < 1:
        msg = f"`years` must be at least 1, got {years}"
        raise ConfigError(msg)
    z = z_value(interval)
    model = fit_forecast(release, base_year, window=window, years=years)
    central = _project_core(model._core, years)
    central = _project_core(model._core, years, _cohort_shares(model, central))
    frames = []
    for m in _published_measures(model):
        c = central[m]
        sigma = pd.Series(model.sigma[m].iloc[: len(c)].to_numpy(), index=c.index)
        lo, hi = interval_bounds(c, sigma, z)
        frames.append(
            pd.DataFrame({"year": c.index, "measure": m, "central": c, "lower": lo, "upper": hi})
        )
    frames.extend(_need_rows(model, central, z))
    out = pd.concat(frames, ignore_index=True)
    if override is not None and not override.empty:
        out = _apply_override(out, override)
    return check_ranges(
        out[["year", "measure", "central", "lower", "upper"]].reset_index(drop=True)
    )


def _published_measures(model: ForecastModel) -> list[str]:
    """The measures with a published figure up to the base year (never-published ones left out).

    A placement type suppressed (or not collected) in every year has no figure to start from:
    writing 0 would read the suppression as zero; its plans stay in the total.
    """
    measures = [TOTAL_MEASURE, *PLACEMENT_MEASURES, *DERIVED_MEASURES]
    kept = [m for m in measures if model._actual[m].notna().any()]
    if len(kept) < len(measures):
        logger.warning(
            "forecast: %s: %s not published (suppressed or not collected) in any year up to %s; "
            "not forecast (the plans are in ehcplans)",
            model.la_name,
            ", ".join(m for m in measures if m not in kept),
            model.base_year,
        )
    return kept


def _need_rows(model: ForecastModel, central: pd.DataFrame, z: float) -> list[pd.DataFrame]:
    mix = model.need_mix_by_age
    if mix.empty:
        return []
    paths = _by_age_paths(model, central)
    if paths.empty:
        by_need = pd.DataFrame(
            np.outer(central[TOTAL_MEASURE], mix.loc[-1]), index=central.index, columns=mix.columns
        )
    else:
        rows = mix.reindex(list(paths.columns)).fillna(mix.loc[-1])
        empty = rows.sum(axis=1) == 0
        rows.loc[empty] = mix.loc[-1].to_numpy()
        by_need = paths.fillna(0.0) @ rows
    sigma = pd.Series(
        model.sigma[TOTAL_MEASURE].iloc[: len(central)].to_numpy(), index=central.index
    )
    frames = []
    for need in by_need.columns:
        c = by_need[need]
        lo, hi = interval_bounds(c, sigma, z)
        frames.append(
            pd.DataFrame({"year": c.index, "measure": need, "central": c, "lower": lo, "upper": hi})
        )
    return frames


def new_plans_by_age(
    release: Sen2Release,
    *,
    base_year: str | int | None = None,
    years: int = 5,
    interval: float = 0.8,
    window: int = 3,
) -> pd.DataFrame:
    """New EHC plans per year by NC year (from age) and primary need, with a range.

    The input a placement-flow simulator (``placeplan.compute.flows``) consumes.

    Parameters
    ----------
    release
        One authority's release tables.
    base_year, years, interval, window
        As :func:`forecast`.

    Returns
    -------
    new_plans
        ``year, nc_year, need, central, lower, upper``: ``year`` the census year that first counts
        the plans (plans made in calendar 2025 -> ``"2025/26"``), ``nc_year`` = age when the plan
        started - 4 (Reception 0; ``-2`` is "2 and under", 15 is "19", 16 is "20 and over"),
        ``need`` a need code, ``"UNKNOWN"``, or ``"ALL"`` when no need breakdown of new plans or
        of all plans is published at or before ``base_year``. The interval is the interval of all
        new plans, scaled by the cell's share (the uncertainty of the age and need mix is not
        included). Cells sum to the all-ages total of each year.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> df = new_plans_by_age(example_release(), years=1)
    >>> sorted(df.columns)
    ['central', 'lower', 'nc_year', 'need', 'upper', 'year']
    """
    z = z_value(interval)
    model = fit_forecast(release, base_year, window=window, years=years)
    central = _project_core(model._core, years)
    total = central[_NEW_TOTAL]
    sigma = pd.Series(model.sigma[_NEW_TOTAL].iloc[:years].to_numpy(), index=total.index)
    lo, hi = interval_bounds(total, sigma, z)
    age_mix = model.new_age_mix
    if age_mix.empty:
        age_mix = model.age_stock / model.age_stock.sum() if not model.age_stock.empty else age_mix
    if age_mix.empty:
        msg = (
            f"{release.la_name}: no new plans by age and no caseload by age at or before "
            f"{model.base_year}; new plans by age cannot be estimated"
        )
        raise ConfigError(msg)
    need_mix = (
        model.new_need_mix_by_age if not model.new_need_mix_by_age.empty else model.need_mix_by_age
    )
    records = []
    for age, a_share in age_mix.items():
        shares: dict[str, float] = {"ALL": 1.0}
        if not need_mix.empty:
            key = int(str(age)) if int(str(age)) in need_mix.index else -1
            vals = need_mix.loc[key].to_numpy(dtype=float)
            if vals.sum() <= 0:
                vals = need_mix.loc[-1].to_numpy(dtype=float)
            shares = {str(k): float(v) for k, v in zip(need_mix.columns, vals, strict=True)}
        for need, n_share in shares.items():
            share = float(a_share) * float(n_share)
            if share <= 0:
                continue
            for year in total.index:
                records.append(
                    (
                        year,
                        int(str(age)) - 4,
                        str(need),
                        total[year] * share,
                        lo[year] * share,
                        hi[year] * share,
                    )
                )
    return pd.DataFrame(records, columns=["year", "nc_year", "need", "central", "lower", "upper"])


def ceased_rates_by_age(
    release: Sen2Release, *, base_year: str | int | None = None
) -> pd.DataFrame:
    """Annual rate at which plans end (cease or leave the authority) by age.

    Parameters
    ----------
    release
        One authority's release tables.
    base_year
        As :func:`forecast`.

    Returns
    -------
    rates
        ``age, nc_year, exit_rate, ceased_rate``: ``exit_rate`` (used by the model) is implied by
        the stock identity between the two latest by-age censuses at or before ``base_year``,
        pooled over ages 2-15, 16-18 and 19-24 (1 at 25); without them, 1 - retention of all
        plans. ``ceased_rate`` is the ceased-plans release's count by age over the stock at the
        census before (NaN where unpublished or suppressed), for comparison.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> rates = ceased_rates_by_age(example_release())
    >>> float(rates.loc[rates["age"] == 25, "exit_rate"].iloc[0])
    1.0
    """
    model = fit_forecast(release, base_year)
    out = pd.DataFrame({"age": model.exit_rate_by_age.index.astype(int)})
    out["nc_year"] = out["age"] - 4
    out["exit_rate"] = model.exit_rate_by_age.to_numpy()
    ceased = release.ceased
    rate = pd.Series(np.nan, index=out["age"])
    if not ceased.empty and model.age_year is not None:
        c = ceased[(ceased["census_year"] <= model.base_year) & ceased["age"].notna()]
        c = c[c["measure"] == "total_ceased"]
        if not c.empty:
            latest = c[c["census_year"] == c["census_year"].max()]
            year_before = _label(_year_start(str(latest["census_year"].iloc[0])) - 1)
            cl = release.caseload
            s = latest_by_age(cl[cl["year"] == year_before], year_before, TOTAL_MEASURE)
            n = latest.groupby(latest["age"].astype(int))["value"].sum(min_count=1)
            rate = (n / s.replace(0, np.nan)).reindex(out["age"])
    out["ceased_rate"] = rate.to_numpy()
    return out
