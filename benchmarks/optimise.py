"""Capital programme optimisation benchmarks: `make bench-optimise` -> benchmarks/RESULTS.md.

Two cases, each timed end to end on this machine:

- **Isle of Wight**: ``placeplan optimise`` on the sample plan (inputs, journeys, baseline flows,
  future demand, the budget curve of 10 steps, 5 alternatives, site contributions and the greedy
  heuristic) — target under 30 s.
- **County scale** (synthetic, Hampshire-sized): 5,000 demand points × 300 candidate sites × 3
  needs × 3 sizes × 4 opening years, with expected future demand for every point × need × year
  of entry, every site of its need within reach (the full model, solved by pricing from each
  row's 5 nearest sites) — target: within 1 % gap on the full model's savings in under 5
  minutes on 2 cores; the greedy heuristic's savings beside it. Two instances: the uniform-value
  one (every place-year worth the same, demand far above places: favourable) and a geographic
  one (``_county_geo``: pupil-minutes saved, scarce clustered demand, sites spread out).

Rewrites only the section between the programme-optimisation markers of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from _county_geo import GEO, demand_rows, programme_options  # noqa: E402
from _results import machine_description, write_section  # noqa: E402

from placeplan.compute.programme import ProgrammeInstance  # noqa: E402
from placeplan.compute.programme_pricing import solve_programme_priced  # noqa: E402
from placeplan.compute.programme_study import greedy_programme  # noqa: E402

START, END = "<!-- programme-optimisation:start -->", "<!-- programme-optimisation:end -->"

COUNTY = {
    "points": 5_000,
    "sites": 300,
    "needs": 3,
    "sizes": ((8, 400_000.0), (12, 600_000.0), (16, 800_000.0)),
    "years": 4,
    "extent_km": 60.0,
    "speed_kph": 30.0,
    "reach_min": 45.0,
    "entrants_a_year": 900.0,
    "budget_a_year_gbp": 4_000_000.0,
    "nearest": 5,
}


def county_programme(seed: int = 0, **overrides: object) -> ProgrammeInstance:
    """A Hampshire-sized programme: points and sites on a 60 km square, straight-line journeys.

    Demand points are clustered round 12 towns; each point has expected entrants for each need
    and year of entry (a gamma share of ``entrants_a_year``), who stay 1-4 years in their phase
    (expected presence falls 20 % a year). Each site serves one need; journey time is straight-
    line km at ``speed_kph`` (a road factor is folded into the speed); pupils may be placed at a
    site of their need within ``reach_min``. Objective: pupil-years of out-of-area / independent
    placement avoided. Budgets are per financial year, four years, capital opening places the
    following September.
    """
    cfg = {**COUNTY, **overrides}
    rng = np.random.default_rng(seed)
    n_p, n_s, n_n, n_y = (int(cfg[k]) for k in ("points", "sites", "needs", "years"))  # type: ignore[call-overload]
    ext = float(cfg["extent_km"])  # type: ignore[arg-type]
    towns = rng.random((12, 2)) * ext
    pts = towns[rng.integers(0, 12, n_p)] + rng.normal(0, ext / 12, (n_p, 2))
    pts = np.clip(pts, 0, ext)
    sites = towns[rng.integers(0, 12, n_s)] + rng.normal(0, ext / 8, (n_s, 2))
    sites = np.clip(sites, 0, ext)
    site_need = np.arange(n_s) % n_n
    pi, ni, ei, count, present, years = demand_rows(rng, cfg, n_p, n_n, n_y)
    speed = float(cfg["speed_kph"])  # type: ignore[arg-type]
    reach_km = float(cfg["reach_min"]) / 60.0 * speed  # type: ignore[arg-type]
    rows_r, rows_s = [], []
    for need in range(n_n):
        rr = np.flatnonzero(ni == need)
        ss = np.flatnonzero(site_need == need)
        d = np.hypot(*(pts[pi[rr]][:, None, :] - sites[ss][None, :, :]).transpose(2, 0, 1))
        k = int(cfg["nearest"])  # type: ignore[call-overload]
        if 0 < k < len(ss):  # each row keeps its k nearest sites of its need
            kth = np.partition(d, k - 1, axis=1)[:, k - 1 : k]
            d = np.where(d <= kth, d, np.inf)
        a, b = np.nonzero(d <= reach_km)
        rows_r.append(rr[a])
        rows_s.append(ss[b])
    arc_row = np.concatenate(rows_r)
    arc_site = np.concatenate(rows_s)
    pupil_years = present.sum(axis=1) / count
    return ProgrammeInstance(
        **programme_options(rng, cfg, n_s, n_y, years),  # type: ignore[arg-type]
        row_count=count,
        row_entry=ei,
        row_present=present,
        arc_row=arc_row,
        arc_site=arc_site,
        arc_value=pupil_years[arc_row],
        objective="ooa_avoided",
    )


def bench_county(time_limit_s: float, gap: float, seed: int = 0) -> dict[str, object]:
    """The full county model (every arc within reach), solved by pricing from the nearest
    sites' arcs; the bound and gap are the full model's (see ``programme_pricing``)."""
    t0 = time.perf_counter()
    inst = county_programme(seed, nearest=0)
    near = county_programme(seed)  # same points, sites and options; nearest sites' arcs only
    n_s = len(inst.site_ids)
    start = np.isin(inst.arc_row * n_s + inst.arc_site, near.arc_row * n_s + near.arc_site)
    build = time.perf_counter() - t0
    return _solve_and_greedy(inst, start, build, time_limit_s, gap)


def bench_county_geo(time_limit_s: float, gap: float, seed: int = 0) -> dict[str, object]:
    """The geographic county instance (``_county_geo``), by the same path as
    :func:`bench_county`: pricing from each row's nearest sites, greedy on the full model."""
    from _county_geo import county_programme_geo

    t0 = time.perf_counter()
    inst, start = county_programme_geo(seed)
    build = time.perf_counter() - t0
    return _solve_and_greedy(inst, start, build, time_limit_s, gap)


def _solve_and_greedy(
    inst: ProgrammeInstance, start: np.ndarray, build: float, time_limit_s: float, gap: float
) -> dict[str, object]:
    t0 = time.perf_counter()
    sol = solve_programme_priced(
        inst, initial_arcs=start, time_limit_s=time_limit_s, mip_rel_gap=gap
    )
    solve_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = greedy_programme(inst, time_limit_s=time_limit_s)
    greedy_s = time.perf_counter() - t0
    return {
        "rows": len(inst.row_count),
        "options": len(inst.opt_site),
        "arcs": len(inst.arc_row),
        "start_arcs": int(start.sum()),
        "build_s": build,
        "solve_s": solve_s,
        "status": sol.status,
        "gap": sol.gap,
        "savings": sol.objective,
        "bound": sol.bound,
        "sites": len(sol.options),
        "capital_gbp": sol.capital_gbp,
        "greedy": greedy.objective,
        "greedy_s": greedy_s,
        "greedy_capped": greedy_s >= time_limit_s,
        "greedy_sites": len(greedy.options),
    }


def bench_iow() -> dict[str, object]:
    from placeplan.compute.programme_plan import optimise_plan
    from placeplan.config import load_plan
    from placeplan.prepare.inputs import prepare

    t0 = time.perf_counter()
    plan = load_plan(ROOT / "data" / "sample" / "isle-of-wight" / "plan.toml")
    study = optimise_plan(plan, prepare(plan))
    total = time.perf_counter() - t0
    return {
        "total_s": total,
        "timings": study.timings_s,
        "status": study.best.status,
        "gap": study.best.gap,
        "savings": study.best.objective,
        "greedy": study.greedy.objective,
        "steps": len(study.curve),
        "alternatives": len(study.alternatives),
        "options": len(study.instance.opt_site),
        "rows": len(study.instance.row_count),
        "arcs": len(study.instance.arc_row),
    }


def _gap(v: object) -> str:
    g = float(v)  # type: ignore[arg-type]
    return "unknown" if not np.isfinite(g) else f"{g:.2%}"


def _geo_note(geo: dict[str, object], target: float) -> str:
    g = float(geo["gap"])  # type: ignore[arg-type]
    verdict = (
        f"The geographic instance reached the {target:.0%} target"
        if np.isfinite(g) and g <= target
        else f"**The geographic instance does not reach the {target:.0%} target in 5 minutes**"
    )
    return (
        f"{verdict}: savings {float(geo['savings']):,.0f} pupil-minutes against a proven bound of "  # type: ignore[arg-type]
        f"{float(geo['bound']):,.0f} (gap {_gap(g)}). Before the heuristic and the Lagrangian "  # type: ignore[arg-type]
        "stage (2026-11-24, same limit) the same instance gave savings 27,072 against a bound "
        "of 57,817 (gap 113.6 %): the relaxation opens fractions of many sites round every "
        "cluster and pays only for the places it fills, and HiGHS's MILP on ~313,000 "
        "assignments found poor programmes. Now `solve_programme_priced` runs, after "
        "pricing and a short MILP, `lagrangian_bound` (`compute/programme_lagrange.py`: "
        "demand and capacity priced, the site choice kept, subgradient steps; ~450 "
        "iterations until the bound stalls, 57,817 -> ~50,100), then `improve_programme` "
        "(`compute/programme_heuristic.py`: a MILP on merged rows over the sites the "
        "Lagrangian masters open on average, then a local search of resize / retime / add / "
        "swap moves screened on merged rows and confirmed by the exact flow LPs). Guided by "
        "the Lagrangian's sites instead of the relaxation's, the same heuristic from the same "
        "start reached 47,153 against 45,666 (2026-11-25). **What remains is the bound's**: "
        "the Lagrangian bound stalls at ~50,080 (1,087 iterations from the relaxation's "
        "prices; halving the step after 60 stalled iterations instead of 15 was slower: "
        "50,220 after 650 against 50,095 after 400); cut down to 20 demand points "
        "(7,460 assignments), HiGHS with the per-assignment linking rows ran 600 s to savings "
        "46,357 with a branch-and-bound bound of 47,036 (1.5 %), while the Lagrangian bound "
        "alone stops at 48,256: the linking rows' bound itself is a few per cent loose here, "
        "so 1 % needs branching on top of it (not built). Greedy (lazy, each candidate's "
        "gain re-solved on the flow LPs of the parts it changes) is capped at the same limit"
        + (
            f" and chose {geo['greedy_sites']} options within it"
            if geo.get("greedy_capped")
            else ""
        )
        + "."
    )


def _county_row(name: str, c: dict[str, object]) -> str:
    sav, greedy = float(c["savings"]), float(c["greedy"])  # type: ignore[arg-type]
    return (
        f"| {name} | {c['build_s']:.1f} | {c['solve_s']:.1f} | {c['status']} | "
        f"{_gap(c['gap'])} | {sav:,.1f} | {float(c['bound']):,.1f} | {c['sites']} | "  # type: ignore[arg-type]
        f"{float(c['capital_gbp']) / 1e6:.2f} | {greedy:,.1f}"
        f"{' (stopped at the time limit)' if c.get('greedy_capped') else ''} | "
        f"{c['greedy_s']:.1f} | "  # type: ignore[arg-type]
        f"{(greedy / sav - 1) if sav else 0:+.2%} |"
    )


def render(
    iow: dict[str, object],
    county: dict[str, object],
    geo: dict[str, object],
    machine: str,
    args: object,
) -> str:
    t = iow["timings"]
    lines = [
        START,
        "## Capital programme optimisation (`placeplan optimise`)",
        "",
        "Generated by `make bench-optimise` (`benchmarks/optimise.py`); do not edit by hand.",
        "",
        f"- **date**: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- **machine**: {machine}",
        "- **solver**: HiGHS (highspy) through `placeplan.compute._solver`; gap = (proven bound "
        "- savings) / savings, where savings = objective - doing nothing (= 0).",
        "",
        "### Isle of Wight sample (target: under 30 s)",
        "",
        f"Inputs, journeys, baseline flows, future demand ({iow['rows']} rows), model "
        f"({iow['options']} options = site × size × opening year, {iow['arcs']} assignments), "
        f"budget curve ({iow['steps']} steps), {iow['alternatives']} alternatives, site "
        "contributions and the greedy heuristic:",
        "",
        "| total s | " + " | ".join(f"{k} s" for k in t) + " | status | gap | savings | greedy |",  # type: ignore[union-attr]
        "|---:|" + "---:|" * len(t) + "---|---:|---:|---:|",  # type: ignore[arg-type]
        f"| {iow['total_s']:.1f} | "
        + " | ".join(f"{v:.2f}" for v in t.values())  # type: ignore[union-attr]
        + f" | {iow['status']} | {_gap(iow['gap'])} | {iow['savings']:.2f} | "
        f"{iow['greedy']:.2f} |",
        "",
        "Savings in pupil-years of out-of-area or independent placement avoided, 2026/27 to "
        "2030/31 (expected, averaged over the flow model's seeds; unrounded internal figures).",
        "",
        "### County scale, synthetic (target: within 1 % gap in under 5 minutes)",
        "",
        f"{COUNTY['points']:,} demand points × {COUNTY['sites']} candidates × {COUNTY['needs']} "
        f"needs × {len(COUNTY['sizes'])} sizes × {COUNTY['years']} opening years "  # type: ignore[arg-type]
        f"({county['rows']:,} demand rows, {county['options']:,} options, {county['arcs']:,} "
        f"assignments within {COUNTY['reach_min']:.0f} min); budget £"
        f"{COUNTY['budget_a_year_gbp'] / 1e6:.0f}m a financial year for 4 years; time limit "  # type: ignore[operator]
        f"{args.time_limit_s:.0f} s, `mip_rel_gap` {args.gap}. Straight-line journeys "  # type: ignore[attr-defined]
        "(the routing benchmarks above cover the matrix at this scale). **The full model** "
        "(every assignment within reach) is solved by `solve_programme_priced`: column "
        f"generation on the LP relaxation from each row's {COUNTY['nearest']} nearest sites "
        f"({county['start_arcs']:,} assignments), the MILP on the assignments kept, then, "
        "only while the gap is above the target, the heuristic and the Lagrangian bound (see "
        "below); the programme's flows re-solved on every assignment. The bound is the full "
        "model's (Lagrangian bounds from prices over every assignment), so the gap is on the "
        "full model's savings. Solve s includes all of it; build s is the synthetic instance.",
        "",
        "What closed the gap (measured 2026-11-24, see the commit log): the optimum was found "
        "all along; the 2 % was the *bound*. The relaxation buys fractions of a size (939.6 "
        "pupil-years, ~94 places a financial year) where whole sizes of 8, 12 and 16 places buy "
        "at most 92 (920 pupil-years, all places full). A *places cut* per budget row "
        "(Σ places × opened <= the most places the budget can buy in whole sizes, one option "
        "per site, an exact knapsack) makes the root bound 920. The full model's own LP "
        "(457,576 assignments after the exact presolve) took 30-60 s in HiGHS without the cut "
        "and 140-160 s with it (degenerate), hence pricing; from each row's 5 most valuable "
        "assignments instead of its nearest sites (no geography) pricing took 5 rounds and "
        "the whole solve 258 s (one run, 2026-11-24). The greedy heuristic's first bounds on "
        "gains (place-years × value per place-year) are what made it fast.",
        "",
        "Two instances of the same dimensions, solved the same way (pricing from each row's "
        f"{COUNTY['nearest']} nearest sites, the full model's bound):",
        "",
        "- **uniform value** (`county_programme`, the one above): objective `ooa_avoided`, "
        f"{COUNTY['entrants_a_year']:.0f} entrants a year against ~92 places a financial year, "
        "so every place-year is worth the same and demand far exceeds places: a knapsack in "
        "which geography does not matter (favourable; the places cut closes the gap).",
        "- **geographic** (`_county_geo.county_programme_geo`): objective `pupil_minutes` (a "
        "pupil's value = (current out-of-area journey, 35-100 min - journey to the base) × "
        "pupil-years, so it varies by assignment); demand clustered round 12 towns, "
        f"{GEO['entrants_a_year']:.0f} entrants a year so pupils present (130, 235, 318, 383 "
        "by year) are about the places the budget buys (92, 184, 276, 368); sites spread "
        f"uniformly, so many cannot fill; only sites within {GEO['reach_min']:.0f} min "
        f"({geo['arcs']:,} assignments, {geo['start_arcs']:,} to start).",
        "",
        "| instance | build s | solve s | status | gap on savings | savings | bound | sites | "
        "capital £m | greedy savings | greedy s | greedy vs optimum |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _county_row("uniform value (ooa_avoided, pupil-years)", county),
        _county_row("geographic (pupil_minutes)", geo),
        "",
        _geo_note(geo, float(args.gap)),  # type: ignore[attr-defined]
        END,
    ]
    return "\n".join(lines)


def _say(name: str, c: dict[str, object]) -> None:
    print(
        f"{name}: solve {c['solve_s']:.1f} s, {c['status']}, gap {_gap(c['gap'])}, savings "
        f"{c['savings']:.1f}, bound {c['bound']:.1f}, greedy {c['greedy']:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--time-limit-s", type=float, default=270.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--skip-county", action="store_true")
    args = parser.parse_args()
    machine = machine_description()
    iow = bench_iow()
    print(f"Isle of Wight: {iow['total_s']:.1f} s, {iow['status']}, gap {_gap(iow['gap'])}")
    if args.skip_county:
        return
    county = bench_county(args.time_limit_s, args.gap)
    _say("county", county)
    geo = bench_county_geo(args.time_limit_s, args.gap)
    _say("county (geographic)", geo)
    (HERE / "optimise_last.json").write_text(
        json.dumps({"iow": iow, "county": county, "geo": geo}, default=float, indent=1)
    )
    write_section(args.out, render(iow, county, geo, machine, args), START, END)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
