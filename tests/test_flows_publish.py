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
            if parts:  # published mode leaves the parts out: then these are no identities
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
    raw = small_table[~small_table["measure"].str.startswith("placements:")]
    raw = raw.reset_index(drop=True)
    assert pub[["year", "scenario", "measure"]].equals(raw[["year", "scenario", "measure"]])
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


# ------------------------------------------------------------------ the report section
def _report_with(table: pd.DataFrame):
    import dataclasses

    from placeplan.publish.report.build import build_report
    from report_fixtures import example_inputs

    return build_report(dataclasses.replace(example_inputs(), flows=table))


@pytest.fixture(scope="module")
def flow_report(small_table):
    return _report_with(small_table)


def test_section_follows_out_of_area_and_is_left_out_without_flows(flow_report):
    from placeplan.publish.report.build import build_report
    from report_fixtures import example_inputs

    ids = [s.id for s in flow_report.sections]
    assert ids[ids.index("out-of-area") + 1] == "year-by-year"
    sec = flow_report.sections[ids.index("year-by-year")]
    assert sec.title == "Year by year from the January 2026 baseline"
    assert sec.number == "3a" and not sec.dfe_element
    assert "year-by-year" not in [s.id for s in build_report(example_inputs()).sections]


def test_section_tables_figures_and_definition(flow_report):
    from placeplan.publish.report.model import Figure, Paragraph, Table
    from placeplan.publish.report.sections.year_by_year import HEADLINE_MEASURES, UNPLACED

    sec = next(s for s in flow_report.sections if s.id == "year-by-year")
    tables = [b for b in sec.blocks if isinstance(b, Table)]
    assert [t.caption for t in tables] == [
        "Year by year: Two bases against the baseline",
        "Year by year: Bigger base against the baseline",
    ]
    for t in tables:
        assert t.header[2:] == ("2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31")
        # the headline measures, then the pupils the model could not place
        assert len(t.rows) == 3 * (len(HEADLINE_MEASURES) + 1)
        assert t.rows[-3][0].value == UNPLACED[1]
        assert [r[1].value for r in t.rows[:3]] == ["Baseline", t.caption.split(": ")[1].split(
            " against")[0], "Change"]  # fmt: skip
    text = " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))
    # the definition of reliance is stated once, in the model's own words
    assert text.count("Definition used everywhere") == 1
    assert "in a setting outside the authority's area, whatever its provision type" in text
    assert text.count("below the baseline") >= 2  # a verdict per scenario and measure
    # a small cohort: many figures are suppressed, and the text says so rather than guess
    assert "first fall below the baseline" in text or "cannot be given from the published" in text
    figs = [b for b in sec.blocks if isinstance(b, Figure)]
    assert [f.id for f in figs] == ["f-yby-ooa", "f-yby-inm"]
    assert all(f.svg.count("<polyline") >= 2 and "<polygon" in f.svg for f in figs)


def test_year_on_year_verdicts_and_savings_are_honest():
    from placeplan.publish.report.sections.year_by_year import year_on_year

    ys = ["2025/26", "2026/27", "2027/28", "2028/29"]
    assert year_on_year(ys, [10, 9, 8, 7]) == ("every", "2026/27", ys[1:])
    assert year_on_year(ys, [10, 11, 8, 7]) == ("from", "2027/28", ys[2:])
    assert year_on_year(ys, [10, 9, 9, 8]) == ("from", "2028/29", ["2026/27", "2028/29"])
    assert year_on_year(ys, [10, 9, 8, 8]) == ("some", "", ["2026/27", "2027/28"])
    assert year_on_year(ys, [10, 10, 11, 12]) == ("none", "", [])
    assert year_on_year(ys, [10, None, 8, 7])[0] == "hidden"


def test_section_prose_on_a_known_case():
    # three years, one scenario: OOA 20 -> 20 -> 14 with the scenario, flat 20 without;
    # costs fall from 2027/28 only
    rows = []
    for y, b, s in (("2025/26", 20, 20), ("2026/27", 20, 20), ("2027/28", 20, 14)):
        for run, v in (("baseline", b), ("S", s), ("S - baseline", s - b)):
            rows += [
                (y, run, "out_of_area", v, v, v),
                (y, run, "placed", 100 if "-" not in run else 0, 100, 100),
                (y, run, "independent_non_maintained", v, v, v),
                (y, run, "placement_cost_gbp", 1e6 + 5e4 * (v - 20) * (run != "S - baseline"),
                 1e6, 1e6),
                (y, run, "transport_cost_gbp", 0.0, 0.0, 0.0),
            ]  # fmt: skip
    t = pd.DataFrame(rows, columns=["year", "scenario", "measure", "central", "lower", "upper"])
    t.loc[t["scenario"] == "S - baseline", ["lower", "upper"]] = 0.0
    t.loc[(t["scenario"] == "S - baseline") & (t["measure"] == "placement_cost_gbp"), "central"] = [
        0.0, 0.0, -3e5]  # fmt: skip
    t.loc[(t["scenario"] == "S - baseline") & (t["measure"] == "out_of_area"), "central"] = [
        0, 0, -6]  # fmt: skip
    rep = _report_with(t)
    from placeplan.publish.report.model import Paragraph

    sec = next(s for s in rep.sections if s.id == "year-by-year")
    text = " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))
    # the change against the baseline, then the scenario's own trend, in words that say which
    assert "With S, out-of-area placements are below the baseline in 2027/28 only" in text
    assert "The number with S itself falls in 2027/28, the first year it differs" in text
    assert "In 2027/28: 14 with S, against 20 in the baseline." in text
    assert "first fall below the baseline in 2027/28; no saving is counted in any earlier" in text
    assert "the saving is £300k a year" in text


# ------------------------------------------------------------------ the chart
def test_band_chart_geometry_gaps_and_escaping():
    from placeplan.publish.report.charts import band_chart

    svg = band_chart(
        ["2025/26", "2026/27", "2027/28", "2028/29"],
        [
            ("Baseline <b>", "#7b7b7b", [10, 20, None, 5], [8, 15, None, 5], [12, 25, None, 5]),
            ("S & co", "#2c7fb8", [10, 18, 16, 4], [10, 14, None, 3], [10, 22, None, 6]),
        ],
        y_label="pupils",
        title='OOA "year"',
    )
    # 720 x 300, plot from x 56 to 704 (four slots of 162), y 30 to 242 (212 high); top 25
    xs = [56 + 648 * (i + 0.5) / 4 for i in range(4)]

    def y(v: float) -> float:
        return 30 + 212 - v / 25 * 212

    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert lines[0] == f"{xs[0]:.1f},{y(10):.1f} {xs[1]:.1f},{y(20):.1f}"  # gap at 2027/28
    assert lines[1] == " ".join(f"{xs[i]:.1f},{y(v):.1f}" for i, v in enumerate([10, 18, 16, 4]))
    bands = re.findall(r'<polygon class="band" points="([^"]+)"', svg)
    assert bands[0] == (
        f"{xs[0]:.1f},{y(12):.1f} {xs[1]:.1f},{y(25):.1f} {xs[1]:.1f},{y(15):.1f} "
        f"{xs[0]:.1f},{y(8):.1f}"
    )
    # a lone published range (baseline 2028/29, scenario 2028/29) is a bar, a lone point a dot
    assert svg.count('<line class="band"') == 2  # 2028/29 of each series: a range after a gap
    # data points: the baseline's round, the scenario's square (the legend's are class "key")
    assert svg.count('class="pt"') == 3 + 4
    assert len(re.findall(r"<circle[^>]*\"pt\"", svg)) == 3
    assert len(re.findall(r"<rect[^>]*\"pt\"", svg)) == 4
    assert (
        "Baseline &lt;b&gt;" in svg
        and "S &amp; co" in svg
        and 'aria-label="OOA &quot;year&quot;"' in svg
    )
    assert "<b>" not in svg


def test_range_cells_format():
    from placeplan.publish.report.model import Cell
    from placeplan.publish.report.render import fmt_cell, fmt_range

    assert fmt_cell(Cell(12.0, "count", low=10.0, high=14.0)) == "12 (10–14)"
    assert fmt_cell(Cell(-3.0, "count", signed=True, low=-5.0, high=-1.0)) == "−3 (−5 to −1)"
    assert fmt_cell(Cell(12.0, "count", low=12.0, high=12.0)) == "12"
    assert fmt_range(Cell(42.9, "minutes", low=39.6, high=44.4)) == "(39.6–44.4)"
    assert fmt_cell(Cell(None, "count", suppressed=True, low=1.0, high=2.0)) == "c"


# ------------------------------------------------------------------ flows.csv = the report
@pytest.fixture(scope="module")
def written(tmp_path_factory, small_table):
    import dataclasses
    import warnings
    from pathlib import Path

    from placeplan._errors import SnapWarning
    from placeplan.config import load_plan
    from placeplan.pipeline import run
    from placeplan.publish.outputs import write_outputs

    sample = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight"
    plan = load_plan(sample / "plan.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        result = run(plan)
    # the run's own flows replaced by a small known table, so the test knows every cell
    result = dataclasses.replace(result, flows=small_table)
    out = tmp_path_factory.mktemp("flows")
    files = write_outputs(result, out, version="test", timestamp="2026-04-01")
    return out, files


def test_flows_csv_is_written_and_equals_the_report(written, small_table):
    import html as htmllib

    from placeplan.publish.report.render import fmt_cell
    from placeplan.publish.report.sections.year_by_year import HEADLINE_MEASURES

    out, files = written
    assert files["flows"] == out / "flows.csv"
    csv = pd.read_csv(out / "flows.csv", dtype=str, keep_default_na=False)
    assert csv.columns.tolist() == ["year", "scenario", "measure", "central", "lower", "upper"]
    # the provision-type parts are not published (they hid the headline totals with them)
    assert len(csv) == (~small_table["measure"].str.startswith("placements:")).sum()
    assert not csv["measure"].str.startswith("placements:").any()
    assert (csv[["central", "lower", "upper"]] == "c").any(axis=None)
    report = (out / "report.html").read_text(encoding="utf-8")
    m = re.search(r'<table id="t-yby-1".*?</table>', report, re.S)
    assert m
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m.group(0))
    lookup = csv.set_index(["year", "scenario", "measure"])
    years = sorted(csv["year"].unique())
    from placeplan.publish.report.model import Cell
    from placeplan.publish.report.sections.year_by_year import UNPLACED

    expected = []
    for measure, _, fmt in (*HEADLINE_MEASURES, UNPLACED):  # and the pupils not placed
        for run in ("baseline", "Two bases", "Two bases - baseline"):
            expected.append(run if run != "Two bases - baseline" else "Change")
            expected[-1] = {"baseline": "Baseline"}.get(expected[-1], expected[-1])
            for y in years:
                r = lookup.loc[(y, run, measure)]
                if r["central"] == "c":
                    expected.append("c")
                    continue
                cell = Cell(
                    float(r["central"]), fmt, signed=run.endswith("baseline") and run != "baseline",
                    low=float(r["lower"]), high=float(r["upper"]),
                )  # fmt: skip
                expected.append(fmt_cell(cell))
    shown = [
        htmllib.unescape(re.sub(r'<span class="range">(.*?)</span>', r" \1", c)) for c in cells
    ]
    assert shown == expected


def test_parts_are_published_only_in_internal_mode(small_table):
    parts = small_table["measure"].str.startswith("placements:")
    assert parts.any()
    published = published_flows(small_table, threshold=THRESHOLD)
    internal = published_flows(small_table, threshold=THRESHOLD, mode="internal")
    assert not published["measure"].str.startswith("placements:").any()
    assert len(internal) == len(small_table)
    # the internal table keeps the provision-type parts
    with_parts = published_flows(small_table, threshold=THRESHOLD, mode="internal")
    assert set(with_parts["measure"]) > set(published["measure"])


def test_hide_forces_a_cell_and_its_protection(small_table):
    """A cell hidden in another table (one decision per quantity) is hidden here too."""
    year = sorted(small_table["year"].unique())[0]
    pub = published_flows(small_table, threshold=THRESHOLD, hide={(year, "baseline", "cohort")})
    row = pub[(pub["year"] == year) & (pub["scenario"] == "baseline")].set_index("measure")
    assert row.loc["cohort", "suppressed"]
    # cohort = placed + unplaced: one more of them is hidden
    assert row.loc[["placed", "unplaced"], "suppressed"].any()
