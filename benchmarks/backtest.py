"""Rolling-origin backtest of the SEN2 forecast: `make bench-forecast` -> benchmarks/RESULTS.md.

For each shipped authority (Isle of Wight, Southampton; data/sample/isle-of-wight/sen2) and each
origin (base year) from 2019/20, fit on census years up to the origin only
(`forecast(base_year=origin)`) and
compare the 1- and 3-year-ahead forecasts with what was published, against two baselines fitted on
the same years: last value, and a linear trend (least squares over the last three years). Reports
MAPE per measure and horizon and the share of held-out actuals inside the 80 % interval, and
rewrites only the section between the forecast-backtest markers of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from _results import machine_description, write_section

from placeplan.compute.forecast import forecast
from placeplan.prepare.sen2 import read_sen2_release

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START, END = "<!-- forecast-backtest:start -->", "<!-- forecast-backtest:end -->"
AUTHORITIES = {"921": "Isle of Wight", "852": "Southampton"}
HORIZONS = (1, 3)
HEADLINE = ("ehcplans", "special_independent_non_maintained")
MEASURES = (
    "ehcplans",
    "special_independent_non_maintained",
    "special_independent",
    "special_non_maintained",
    "special_total",
    "special_la_maintained",
    "mainstream_total",
    "fe_total",
)


def _start(label: str) -> int:
    return int(label[:4])


def _actuals(release: object) -> pd.DataFrame:
    head = release.headline("caseload")  # type: ignore[attr-defined]
    act = head.reindex(columns=[m for m in MEASURES if m in head.columns]).copy()
    act["special_independent_non_maintained"] = head[
        ["special_independent", "special_non_maintained"]
    ].sum(axis=1, min_count=2)
    return act


def _baselines(history: pd.Series, h: int) -> tuple[float, float]:
    y = history.dropna()
    last = float(y.iloc[-1])
    recent = y.iloc[-3:]
    if len(recent) >= 2:
        x = np.array([_start(str(i)) for i in recent.index], dtype=float)
        slope, icpt = np.polyfit(x, recent.to_numpy(dtype=float), 1)
        trend = max(float(icpt + slope * (_start(str(y.index[-1])) + h)), 0.0)
    else:
        trend = last
    return last, trend


def run(sen2: Path, interval: float = 0.8) -> pd.DataFrame:
    """One row per authority, origin, horizon and measure with forecasts and actuals."""
    rows = []
    for code, name in AUTHORITIES.items():
        release = read_sen2_release(sen2, code)
        actual = _actuals(release)
        years = list(actual.index)
        for origin in years[1:-1]:
            fc = forecast(release, base_year=origin, years=max(HORIZONS), interval=interval)
            fc = fc.set_index(["year", "measure"])
            for h in HORIZONS:
                target = f"{_start(origin) + h}/{(_start(origin) + h + 1) % 100:02d}"
                if target not in actual.index:
                    continue
                for m in MEASURES:
                    a = actual.at[target, m]
                    if not np.isfinite(a) or a <= 0 or (target, m) not in fc.index:
                        continue
                    c, lo, hi = fc.loc[(target, m), ["central", "lower", "upper"]]
                    last, trend = _baselines(actual.loc[:origin, m], h)
                    rows.append(
                        {
                            "authority": name,
                            "origin": origin,
                            "horizon": h,
                            "measure": m,
                            "actual": a,
                            "model": c,
                            "lower": lo,
                            "upper": hi,
                            "last_value": last,
                            "linear_trend": trend,
                        }
                    )
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """MAPE (%) per measure and horizon for the model and baselines, interval coverage (%)."""
    out = df.copy()
    for col in ("model", "last_value", "linear_trend"):
        out[f"ape_{col}"] = (out[col] - out["actual"]).abs() / out["actual"] * 100
    out["covered"] = (out["actual"] >= out["lower"]) & (out["actual"] <= out["upper"])
    return (
        out.groupby(["measure", "horizon"], sort=False)
        .agg(
            n=("actual", "size"),
            model=("ape_model", "mean"),
            last_value=("ape_last_value", "mean"),
            linear_trend=("ape_linear_trend", "mean"),
            coverage=("covered", "mean"),
        )
        .assign(coverage=lambda t: t["coverage"] * 100)
        .reset_index()
    )


def render(summary: pd.DataFrame, detail: pd.DataFrame, seconds: float) -> str:
    n1 = int(summary.loc[summary["horizon"] == 1, "n"].max())
    n3 = int(summary.loc[summary["horizon"] == 3, "n"].max())
    lines = [
        START,
        "## SEN2 forecast backtest (rolling origin)",
        "",
        "Generated by `make bench-forecast` (`benchmarks/backtest.py`); do not edit by hand.",
        "",
        f"- **date**: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- **machine**: {machine_description()}",
        f"- **run time**: {seconds:.1f} s (the machine is shared with other jobs)",
        "- **data**: `data/sample/isle-of-wight/sen2` (DfE EHC plans release 2025) for "
        "Isle of Wight and "
        "Southampton; origins 2019/20 to 2023/24, each fitted only on census years up to it "
        f"(`placeplan forecast --base-year`). At most {n1} 1-year and {n3} 3-year forecasts "
        "per measure (both authorities together): small samples, read the differences with care.",
        "- **baselines**: last value; linear trend = least squares over the last three census "
        "years up to the origin.",
        "- MAPE in %, lower is better (best of the three in bold); coverage = share of held-out "
        "actuals inside the model's 80 % interval.",
        "",
        "| measure | years ahead | n | model MAPE | last value | linear trend | 80 % coverage |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary.itertuples():
        vals = {"model": r.model, "last_value": r.last_value, "linear_trend": r.linear_trend}
        best = min(vals, key=lambda k: vals[k])
        cells = [f"**{v:.1f}**" if k == best else f"{v:.1f}" for k, v in vals.items()]
        lines.append(
            f"| `{r.measure}` | {r.horizon} | {r.n} | {' | '.join(cells)} | {r.coverage:.0f} % |"
        )
    overall = detail.assign(
        covered=(detail["actual"] >= detail["lower"]) & (detail["actual"] <= detail["upper"])
    )
    lines += [
        "",
        f"Coverage of all {len(overall)} held-out figures (all measures above, both horizons): "
        f"{overall['covered'].mean() * 100:.0f} %.",
        "",
        _verdict(summary),
        "",
        *_VARIANTS,
        END,
    ]
    return "\n".join(lines)


#: Variants run on this backtest (one-off runs at the commit that chose them, 2026-11-24; the
#: numbers are not regenerated). Kept here so RESULTS.md lists every variant tried.
_VARIANTS = [
    "**Not backtested: the phase-transfer transitions.** The release publishes caseload by age "
    "and placement type for its latest two censuses only (2023/24 and 2024/25), so "
    "transitions can be fitted only at base year 2024/25, which has no held-out year. At every "
    "origin above the placement types come from the base year's shares combined with their "
    "own flows; the transitions are checked by the hand-computed cohort in "
    "`tests/test_forecast_cohort.py`, not by this table.",
    "",
    "**Variants tried** (all other settings as shipped; MAPE %; `all` = mean over the eight "
    "measures and both horizons per authority; coverage = all held-out figures, 1-year, "
    "3-year). Rule, set after an exploratory first run of the share variants in the next "
    "paragraph and before the weight runs: pick the variant with the lowest `all` on one "
    "authority, check it on the other. Isle of Wight picks rho^h (22.6), Southampton picks "
    "survivors (17.8); they disagree, so the lower mean over both authorities decides "
    "(survivors 20.3, rho^h 20.4, 0.5 20.4): differences of this size are noise at n = 6. "
    "(Scored on the two target measures only, shares-only would win on both authorities.)",
    "",
    "| type weight on own flow / interval growth | `ehcplans` 1y, 3y | indep + NM 1y, 3y "
    "| all IoW | all Soton | coverage |",
    "|---|---:|---:|---:|---:|---:|",
    "| 1 (flow only, previous) / sqrt(h) (previous) | 4.8, 13.7 | 10.6, 25.5 | 22.9 | 18.6 "
    "| 72, 81, 58 % |",
    "| 1 / h | 4.8, 13.7 | 10.6, 25.5 | 22.9 | 18.6 | 76, 81, 67 % |",
    "| 0 (cohort shares only) / h | 4.8, 13.7 | 14.9, 7.4 | 25.2 | 19.4 | 81, 80, 83 % |",
    "| 0.5 (equal combination) / h | 4.8, 13.7 | 12.7, 14.1 | 22.9 | 17.9 | 83, 85, 81 % |",
    "| rho^h / h | 4.8, 13.7 | 10.7, 22.8 | 22.6 | 18.2 | 79, 82, 73 % |",
    "| **survivors rho^h S(0)/S(h) / h (shipped)** | 4.8, 13.7 | 11.0, 18.8 | 22.7 | 17.8 "
    "| 81, 81, 81 % |",
    "| survivors / sqrt(h) | 4.8, 13.7 | 11.0, 18.8 | 22.7 | 17.8 | 76, 81, 69 % |",
    "",
    "Also tried, on the placement types: shares held at their mean over the last three years "
    "(indep + NM 28.2, 28.1), shares on a half-damped linear trend (18.3, 42.3), and an "
    "equal combination whose flow restarts each year from the combined stock (12.7, 10.0; "
    "not kept: it is not a combination of two forecasts). On all plans: an equal combination "
    "with the linear trend (4.9, 13.4) and with the last value (5.6, 15.7); neither beats "
    "the trend at 3 years by more than noise, so the stock-flow total stays as it was. The "
    "previous round tried per-type retention fitted alone (indep + NM 3-year 60 %), "
    "shrinkage K = 0, 300, 1,000 (kept), 5,000, infinity plan-years; retention windows of 2, "
    "3, 4 and all years; undamped, half- (kept) and fully damped new-plan trends (all plans "
    "3-year 14.3, 13.7, 13.2 %); error floors 0, 0.05 (kept), 0.08.",
    "",
    "**Leading indicator for new plans** (issue 9; rule written here before the variant was "
    "run, 2026-11-25). Variant: next year's new plans = r x requests for an EHC needs "
    "assessment received in the base year's calendar year (`ehcp2025_requests_*`, "
    "`requests_received_in_year`; requests in year t lead plans in t+1, the 20-week timeline), "
    "r = sum of new plans(t+1) / sum of requests(t) over the last three pairs up to the base "
    "year; later years on the shipped half-damped slope from that level; the shipped trend "
    "where the base year's requests are suppressed or not published. Not used: "
    "`ehcp2025_assessments_*` (its `assess_issued` are the new plans already used, the same "
    "figures in every year both publish, except the Isle of Wight's 2024 row: 8 against 187) "
    "and `requests_decided_to_assess` (suppressed before 2023). Rule: "
    "adopt only if `all` (mean MAPE over the eight measures and both horizons) is lower on "
    "each authority separately and the coverage of all held-out figures is not lower; "
    "`ehcplans` 3-year alone does not decide. **Result: not adopted** (one run, 2026-11-25, "
    "`_NEW_LEAD = True` in `compute/forecast.py` with the requests file added to the sample "
    "folder): `all` Isle of Wight 22.66 (shipped 22.69), Southampton 17.82 (17.80): lower on "
    "one authority only; coverage unchanged (103 of 127, 81 %); `ehcplans` 1y, 3y 5.0, 13.6 "
    "(shipped 4.8, 13.7); indep + NM 1y, 3y 11.4, 18.6 (11.0, 18.8). On next year's new plans "
    "themselves, at the 6 origins where the lead applies, the lead's mean absolute error is "
    "54 plans against the trend's 30 (the ratio r drifts: 0.40 to 0.53 on the island, 0.63 "
    "to 0.70 in Southampton, whose requests jumped 342 -> 519 in 2022 without the plans "
    "following). The island's requests are suppressed for 2023 and 74 for 2024 (187 plans "
    "issued), so at the latest base year the lead would need a plausibility check the "
    "backtest cannot judge. The code stays, off (`_NEW_LEAD = False`; "
    "`compute/forecast_lead.py`; the reader takes an optional `*requests*` file).",
    "",
    "**Suppressed cells** (issue 9, 2026-11-25): `x`, `c` and `z` are now unknown throughout "
    "the fit (by-age transitions, retention groups, new-plan mix, exit rates, need mix, age "
    "profile), never 0. Every figure above is unchanged by it: the sample has no suppressed "
    "cell the forecast reads (the by-age caseload suppresses only columns counted in the "
    "remainder); the fixes are checked by hand-made files in the tests.",
    "",
    "**All plans at 3 years: two damped-trend variants** (issue's last unmet target; rule "
    "written here before either variant was coded or run, 2026-11-25). Known before choosing "
    "(previous rounds, above): an equal combination with the undamped linear trend (4.9, "
    "13.4) and undamped, half- and fully damped new-plan trends (3-year 14.3, 13.7, 13.2). "
    "Not a third variant: rolling three-year new-plan rates are what ships (new-plan trend "
    "and all-plans retention over the last three years) and the release has no population "
    "for a prevalence. Both variants use the Gardner-McKenzie damped trend with phi = 0.9 "
    "fixed a priori (a common default, not fitted here): level + slope x (phi + ... + "
    "phi^h), level and slope by least squares over the last three years. (A) Forecast "
    "combination: all plans = the equal-weight mean of the stock-flow total and the damped "
    "trend of all plans (M-competitions: combining a structural model with a damped trend "
    "reduces error on average); the stock-flow path runs on unchanged and every placement "
    "type is scaled by combined / stock-flow total, so the types still sum to the total. "
    "(B) The new-plan inflow on the damped trend instead of half the slope for every year "
    "ahead. The ranges of each are recomputed from its own rolling-origin residuals. Rule: "
    "adopt a variant only if `ehcplans` MAPE is lower than shipped at both 1 and 3 years, "
    "independent + non-maintained still beats both baselines at 1 and 3 years, and the "
    "coverage of all held-out figures drops by at most 3 points and stays at or above "
    "75 %; if both pass, the one with the lower `all` over both authorities; if neither, "
    "the shipped model stays. Meeting the 13.1 % target is reported, not required. "
    "**Result: neither adopted; the shipped model stays** (one run of each, 2026-11-25, "
    "`_COMBINE_TOTAL = True` or `_NEW_DAMPED = True` in `compute/forecast.py`; shipped in "
    "brackets). (A) `ehcplans` 1y, 3y 4.86, 13.29 (4.78, 13.73; linear trend 4.96, 13.12): "
    "better at 3 years, worse at 1 year, still above the trend at 3; indep + NM 11.0, 19.8 "
    "(11.0, 18.8), both still beating the baselines; `all` Isle of Wight 22.30 (22.69), "
    "Southampton 17.84 (17.80); coverage 104 of 127 (103), 1-year 83 % (81), 3-year 79 % "
    "(81). (B) `ehcplans` 4.76, 14.11: better at 1 year by 0.02, worse at 3; indep + NM "
    "11.1, 18.9; `all` 22.84, 17.81; coverage unchanged (103 of 127). The code stays, off "
    "(`compute/forecast_trend.py`; tests in `tests/test_forecast_trend.py`).",
    "",
    "**Why all plans miss at 3 years**: growth accelerated from 2021/22 (Isle of Wight 0 % "
    "then 8-12 % a year; Southampton 5-6 % then 11-15 %). The origins from 2020/21 "
    "underestimate it at 3 years (Isle of Wight -20 %, -11 %; Southampton -12 %, -19 %), "
    "the 2019/20 origins overestimate it (+14 %, +7 %; the island's plans did not grow in "
    "2020/21), and the linear trend wins by 0.6 points on 6 forecasts. The "
    "first origin (2019/20) has one transition and no residuals, so its ranges fall back on "
    "the floor and cover only 60 % at 1 year.",
]


def _verdict(summary: pd.DataFrame) -> str:
    lines = ["**Targets** (beat both baselines at 1 and 3 years):"]
    for m in HEADLINE:
        for h in HORIZONS:
            row = summary[(summary["measure"] == m) & (summary["horizon"] == h)]
            if row.empty:
                continue
            r = row.iloc[0]
            best = min(r["last_value"], r["linear_trend"])
            word = "met" if r["model"] < best else "NOT met"
            lines.append(
                f"`{m}` {h}-year {word} (model {r['model']:.1f} % against best baseline "
                f"{best:.1f} %);"
            )
    return " ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sen2", type=Path, default=ROOT / "data" / "sample" / "isle-of-wight" / "sen2"
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--detail", type=Path, default=None, help="also write every forecast")
    args = parser.parse_args()
    t0 = dt.datetime.now(dt.UTC)
    detail = run(args.sen2)
    seconds = (dt.datetime.now(dt.UTC) - t0).total_seconds()
    summary = summarise(detail)
    if args.detail:
        detail.to_csv(args.detail, index=False)
    write_section(args.out, render(summary, detail, seconds), START, END)
    print(summary.round(1).to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
