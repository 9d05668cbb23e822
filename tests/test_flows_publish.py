"""Publishing the year-by-year placement flows (issue 9 deliverable 5): disclosure, report, chart.

The intruder test attacks the published flow table the way a reader with a spreadsheet and a
linear-programming solver would: every identity the table satisfies (a total and its parts,
cohort = placed + unplaced, the year-on-year accounting, scenario - baseline = change, scenario =
baseline before anything opens) with every published number, hidden counts only known to be >= 0;
it must pin down no hidden small count.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from placeplan.compute.flows import (
    INDEPENDENT_NON_MAINTAINED_TYPES,
    FlowParams,
    FlowScenario,
    Proposal,
    constant_new_plans,
    flow_table,
    simulate_flows,
)
from placeplan.publish.flows import (
    DEPENDS_ON,
    flows_csv_frame,
    is_count,
    published_flows,
    round_measure,
)
from test_flows import _random_case

THRESHOLD = 5
OPENING = 2027  # the proposals below open in 2027/28: every year before, scenario = baseline


def _table(n: int, seed: int, *, seeds: tuple[int, ...] = (0,), movers: str = "transfers"):
    cohort, settings, journeys = _random_case(n=n, seed=seed)
    new = constant_new_plans(cohort, rate=0.12)
    scen = [
        FlowScenario(
            "Two bases",
            (Proposal("NEW", 12, OPENING, needs=("ASD", "SEMH"), cost_per_place_gbp=2e4),),
            movers=movers,  # type: ignore[arg-type]
        ),
        FlowScenario("Bigger base", (Proposal("NEW", 30, OPENING, cost_per_place_gbp=2e4),)),
    ]
    res = simulate_flows(
        cohort, settings, journeys, new, scenarios=scen,
        params=FlowParams(seeds=seeds, breakdown_rate=0.03, ceased_rate=0.03),
    )  # fmt: skip
    return flow_table(res)


@pytest.fixture(scope="module")
def small_table() -> pd.DataFrame:
    return _table(60, 3)


# ------------------------------------------------------------------ the intruder
def _equations(pub: pd.DataFrame, settled: set[str]):
    """Every linear identity of the flow table's counts as (coefficients by cell, constant).

    ``settled``: scenarios that move no settled pupil, so before anything opens they equal the
    baseline (the intruder reads that from the plan).
    """
    years = sorted(pub["year"].unique())
    runs = [s for s in pub["scenario"].unique() if not s.endswith(" - baseline")]
    measures = set(pub["measure"])
    parts = sorted(m for m in measures if m.startswith("placements:"))
    ooa = [m for m in parts if m.endswith(":out_of_area")]
    inm = [m for m in parts if m.split(":")[1] in INDEPENDENT_NON_MAINTAINED_TYPES]
    eqs: list[tuple[dict[tuple[str, str, str], float], float]] = []

    def add(terms: dict[str, float], year: str, run: str) -> None:
        eqs.append(({(year, run, m): c for m, c in terms.items()}, 0.0))

    for y in years:
        for r in runs:
            add({"placed": -1.0, **dict.fromkeys(parts, 1.0)}, y, r)
            add({"out_of_area": -1.0, **dict.fromkeys(ooa, 1.0)}, y, r)
            add({"independent_non_maintained": -1.0, **dict.fromkeys(inm, 1.0)}, y, r)
            add({"cohort": -1.0, "placed": 1.0, "unplaced": 1.0}, y, r)
    for t in range(1, len(years)):
        for r in runs:
            eqs.append(
                (
                    {
                        (years[t], r, "cohort"): 1.0,
                        (years[t - 1], r, "cohort"): -1.0,
                        (years[t], r, "new_plans"): -1.0,
                        (years[t], r, "leavers"): 1.0,
                        (years[t], r, "ceased"): 1.0,
                    },
                    0.0,
                )
            )
    central = pub.set_index(["year", "scenario", "measure"])["central"]
    for y in years:
        for r in runs[1:]:
            for m in measures:
                if not is_count(m):
                    continue
                if r in settled and int(y[:4]) < OPENING:  # nothing open yet: equal
                    eqs.append(({(y, r, m): 1.0, (y, "baseline", m): -1.0}, 0.0))
                d = central.get((y, f"{r} - baseline", m))
                if d is not None and pd.notna(d):
                    eqs.append(({(y, r, m): 1.0, (y, "baseline", m): -1.0}, float(d)))
    return eqs


def _intrude(
    pub: pd.DataFrame, settled: set[str]
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """Bounds an intruder can put on each hidden count (LP over all identities, counts >= 0)."""
    cells = pub[~pub["scenario"].str.endswith(" - baseline") & pub["measure"].map(is_count)]
    known = {
        (y, s, m): float(v)
        for y, s, m, v, h in cells[["year", "scenario", "measure", "central", "suppressed"]].values
        if not h
    }
    hidden = [
        (y, s, m) for y, s, m, h in cells[["year", "scenario", "measure", "suppressed"]].values if h
    ]
    col = {c: i for i, c in enumerate(hidden)}
    rows, rhs = [], []
    for terms, const in _equations(pub, settled):
        coef = np.zeros(len(hidden))
        b = const
        for cell, c in terms.items():
            if cell in col:
                coef[col[cell]] += c
            else:  # a measure absent from a run's rows is zero in that run
                b -= c * known.get(cell, 0.0)
        if coef.any():
            rows.append(coef)
            rhs.append(b)
        else:
            assert abs(b) < 1e-6, f"published numbers break an identity: {terms}"
    bounds: dict[tuple[str, str, str], tuple[float, float]] = {}
    if not hidden:
        return bounds
    a_eq, b_eq = np.array(rows), np.array(rhs)
    for cell, i in col.items():
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(hidden))
            c[i] = sign
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded above
                ends.append(np.inf)
                continue
            assert res.status == 0, f"the true values must be feasible: {res.message}"
            ends.append(sign * res.fun)
        bounds[cell] = (ends[0], ends[1])
    return bounds


@pytest.mark.parametrize(("n", "seed"), [(40, 1), (60, 3), (90, 7), (150, 11)])
def test_intruder_recovers_no_hidden_small_count(n, seed):
    movers = "out_of_area" if seed % 2 else "transfers"
    raw = _table(n, seed, movers=movers)
    pub = published_flows(raw, threshold=THRESHOLD)
    settled = {"Bigger base"} | ({"Two bases"} if movers == "transfers" else set())
    assert pub["suppressed"].any()
    value = raw.set_index(["year", "scenario", "measure"])["central"]
    bounds = _intrude(pub, settled)
    small = {c: v for c, v in value.items() if c in bounds and 0 < v < THRESHOLD}
    assert small, "the case must have hidden small counts to attack"
    for cell, true in small.items():
        lo, hi = bounds[cell]
        assert lo - 1e-6 <= true <= hi + 1e-6
        assert hi - lo >= 1.0, f"{cell} = {true} recovered: in [{lo}, {hi}]"


def test_every_small_count_is_hidden_in_all_three_statistics(small_table):
    pub = published_flows(small_table, threshold=THRESHOLD)
    raw = small_table.reset_index(drop=True)
    count_rows = raw["measure"].map(is_count) & ~raw["scenario"].str.endswith(" - baseline")
    small = (
        (raw[["central", "lower", "upper"]] > 0) & (raw[["central", "lower", "upper"]] < 5)
    ).any(axis=1)
    assert (small & count_rows).sum() > 10
    assert pub.loc[small & count_rows, "suppressed"].all()
    # a row is hidden whole: a published range never bounds a hidden central value
    hidden = pub[pub["suppressed"]]
    assert hidden[["central", "lower", "upper"]].isna().all().all()
    # published counts are whole numbers, 0 or at least the threshold
    shown = pub[~pub["suppressed"] & count_rows]
    for c in ("central", "lower", "upper"):
        v = shown[c].dropna()
        assert ((v == 0) | (v >= THRESHOLD)).all()
        assert (v == v.round()).all()


def test_statistics_and_changes_are_hidden_with_their_counts(small_table):
    pub = published_flows(small_table, threshold=THRESHOLD)
    h = pub.set_index(["year", "scenario", "measure"])["suppressed"]
    checked = 0
    for (year, run, measure), hidden in h.items():
        if run.endswith(" - baseline"):
            name = run.removesuffix(" - baseline")
            either = h.get((year, "baseline", measure), False) or h.get(
                (year, name, measure), False
            )
            assert hidden == either, (year, run, measure)
            checked += either
        elif measure in DEPENDS_ON:
            sources = [h.get((year, run, s), False) for s in DEPENDS_ON[measure]]
            assert hidden == any(sources), (year, run, measure)
            checked += any(sources)
    assert checked > 0
    # derived columns cannot give a hidden count back: total / mean = placed, pct x placed = OOA
    for (year, run, measure), hidden in h.items():
        if measure == "placed" and hidden and not run.endswith(" - baseline"):
            assert (
                h[(year, run, "journey_time_total_min")] or h[(year, run, "journey_time_mean_min")]
            )
        if measure == "out_of_area" and hidden and not run.endswith(" - baseline"):
            assert h[(year, run, "out_of_area_pct")]


def test_published_changes_agree_with_published_runs(small_table):
    pub = published_flows(small_table, threshold=THRESHOLD)
    c = pub.set_index(["year", "scenario", "measure"])["central"]
    n = 0
    for (year, run, measure), v in c.items():
        if not run.endswith(" - baseline") or pd.isna(v):
            continue
        name = run.removesuffix(" - baseline")
        assert v == pytest.approx(c[(year, name, measure)] - c[(year, "baseline", measure)])
        n += 1
    assert n > 50


def test_rounding_rules():
    raw = _table(150, 11, seeds=(0, 1, 2))  # means over seeds: fractional counts
    pub = published_flows(raw, threshold=THRESHOLD)
    shown = pub[~pub["suppressed"]]
    for measure, grp in shown.groupby("measure"):
        vals = grp[["central", "lower", "upper"]].stack().dropna()
        if str(measure).endswith("_gbp"):
            assert (vals % 1000 == 0).all(), measure
        elif is_count(str(measure)):
            assert (vals == vals.round()).all(), measure
        else:
            assert np.allclose(vals, vals.round(1)), measure
    assert round_measure("journey_time_mean_min", pd.Series([12.349, -0.05])).tolist() == [
        12.3,
        -0.1,
    ]
    # the plan's coarser rounding applies to counts
    coarse = published_flows(raw, threshold=THRESHOLD, round_to=5)
    counts = coarse[coarse["measure"].map(is_count) & ~coarse["suppressed"]]
    assert (counts["upper"].dropna() % 5 == 0).all()


def test_internal_mode_hides_nothing_and_inputs_are_checked(small_table):
    pub = published_flows(small_table, threshold=THRESHOLD, mode="internal")
    assert not pub["suppressed"].any()
    from placeplan._errors import SchemaValidationError

    with pytest.raises(SchemaValidationError, match="lacks columns"):
        published_flows(small_table.drop(columns="upper"), threshold=5)
    with pytest.raises(SchemaValidationError, match="duplicate"):
        published_flows(pd.concat([small_table, small_table.head(1)]), threshold=5)


def test_csv_frame_marks_hidden_and_absent_values(small_table):
    pub = published_flows(small_table, threshold=THRESHOLD)
    csv = flows_csv_frame(pub)
    assert csv.columns.tolist() == ["year", "scenario", "measure", "central", "lower", "upper"]
    assert (csv.loc[pub["suppressed"], "central"] == "c").all()
    absent = ~pub["suppressed"] & pub["central"].isna()
    assert (csv.loc[absent, "central"] == "x").all()
    counts = defaultdict(int)
    for v in csv["central"]:
        counts[type(v).__name__] += 1
    assert set(counts) <= {"float", "str"}
    assert not re.search(r"\bnan\b", csv.to_csv(index=False))
