"""Held-back checks of ``placeplan optimise``: sample plan variants against exhaustive search.

The oracle is written here, independently of the package's solvers and flow code: every
programme (each candidate site closed or at one of its options) within each financial year's
budget (cumulative with carry-forward) is enumerated, and each programme's savings come from its
own flow LP (:func:`scipy.optimize.linprog` on the model as documented in
:mod:`placeplan.compute.programme`: each demand row placed at most once, each opened site's
places in every year from its opening). The budget curve must match the best programme at every
step and never fall; the alternatives must be the next-best distinct site sets, each no better
than the best, as many as asked or as many as exist (and the summary must say why fewer).

Demand comes from the sample's baseline placement flows, run once per module; the CLI tests
reuse that run (``run_flow_model`` patched to return it) so each ``placeplan optimise`` costs the
inputs and the solves only.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from placeplan import cli
from placeplan._errors import ConfigError, InfeasibleModelError
from placeplan.compute import programme_plan, programme_study
from placeplan.compute.flow_inputs import flow_settings, run_flow_model
from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution
from placeplan.compute.programme_demand import demand_from_flows, programme_instance
from placeplan.compute.programme_plan import (
    ProgrammeStudy,
    check_budget_years,
    check_sizes,
    plan_journeys,
    study_programme,
)
from placeplan.compute.programme_study import CurvePoint, alternatives
from placeplan.config import load_plan
from placeplan.prepare.inputs import prepare

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "isle-of-wight"
FEW = ["140691-IB-SEMH", "143541-IB-SLCN", "118181-IB-SLCN"]
SIZES = [(8, 400_000.0), (12, 600_000.0)]
TWO_YEARS = {"2026-27": 400_000.0, "2027-28": 400_000.0}
LIMITS = {"primary": 45.0, "secondary": 75.0, "post16": 75.0}


# -- the oracle -----------------------------------------------------------------------------------
def _fits(inst: ProgrammeInstance, opts: tuple[int, ...], scale: float) -> bool:
    spent = np.zeros(len(inst.fy_labels))
    for o in opts:
        spent[inst.opt_fy[o]] += inst.opt_capital_gbp[o]
    budget = np.asarray(inst.budget_by_fy_gbp, dtype=float) * scale
    if inst.carry_forward:
        spent, budget = np.cumsum(spent), np.cumsum(budget)
    return bool((spent <= budget + 1e-6).all())


def _savings(inst: ProgrammeInstance, opts: tuple[int, ...]) -> float:
    """The programme's savings: its options' own value plus the best flows (an LP)."""
    own = float(sum(inst.opt_value[o] for o in opts))
    opened = {int(inst.opt_site[o]): o for o in opts}
    arcs = np.flatnonzero(np.isin(inst.arc_site, list(opened)))
    if not arcs.size:
        return own
    rows, of_arc = np.unique(inst.arc_row[arcs], return_inverse=True)
    once = np.zeros((len(rows), arcs.size))  # each demand row placed at most once
    once[of_arc, np.arange(arcs.size)] = 1.0
    a_ub, b_ub = [once], [inst.row_count[rows]]
    share = inst.row_present[inst.arc_row[arcs]] / inst.row_count[inst.arc_row[arcs], None]
    for j, o in opened.items():  # the site's places in each year, none before it opens
        lines = np.where((inst.arc_site[arcs] == j)[:, None], share, 0.0).T
        used = lines.any(axis=1)
        a_ub.append(lines[used])
        places = np.where(np.arange(len(inst.years)) >= inst.opt_open[o], inst.opt_places[o], 0)
        b_ub.append(places[used])
    res = linprog(
        -inst.arc_value[arcs], A_ub=np.vstack(a_ub), b_ub=np.concatenate(b_ub), bounds=(0, None)
    )
    assert res.status == 0, res.message
    return own - float(res.fun)


def _exhaustive(inst: ProgrammeInstance) -> dict[tuple[int, ...], float]:
    """Savings of every programme within the full budget."""
    per_site: dict[int, list[int | None]] = {}
    for o in range(len(inst.opt_site)):
        per_site.setdefault(int(inst.opt_site[o]), [None]).append(o)
    out = {}
    for combo in itertools.product(*per_site.values()):
        opts = tuple(sorted(o for o in combo if o is not None))
        if _fits(inst, opts, 1.0):
            out[opts] = _savings(inst, opts)
    return out


def _site_set(inst: ProgrammeInstance, opts: tuple[int, ...]) -> frozenset[int]:
    return frozenset(int(inst.opt_site[o]) for o in opts)


def _by_site_set(inst: ProgrammeInstance, values: dict[tuple[int, ...], float]) -> list[float]:
    """Best savings of each distinct site set, most first."""
    best: dict[frozenset[int], float] = {}
    for opts, v in values.items():
        key = _site_set(inst, opts)
        best[key] = max(best.get(key, -math.inf), v)
    return sorted(best.values(), reverse=True)


# -- the sample's demand, once --------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline():
    """The sample plan, its inputs, journeys and baseline flow run (what ``optimise`` uses)."""
    plan = load_plan(SAMPLE / "plan.toml")
    inputs = prepare(plan)
    journeys = plan_journeys(plan, inputs)
    result = run_flow_model(plan, inputs, journeys, [])
    return plan, inputs, journeys, result


def _instance(baseline, *, sites=FEW, targets=("out_of_area", "independent"), **kw):
    plan, inputs, journeys, (result, _) = baseline
    demand = demand_from_flows(result, flow_settings(inputs, plan), targets=targets)
    df = pd.DataFrame(inputs.sites.drop(columns="geometry"))
    df = df[df["site_id"].astype(str).isin(sites)].reset_index(drop=True)
    args = {
        "objective": "ooa_avoided",
        "budget_by_fy_gbp": TWO_YEARS,
        "sizes": SIZES,
        "min_size": 8,
        "max_journey_min_by_phase": LIMITS,
        "transport_cost_per_mile_gbp": plan.costs.transport_cost_per_mile_gbp,
        "school_days": plan.thresholds.school_days,
        "carry_forward": True,
    }
    return programme_instance(demand, df, journeys, **(args | kw))


VARIANTS = {
    "ooa_avoided": {},
    "net_saving_gbp": {"objective": "net_saving_gbp"},
    "pupil_minutes": {"objective": "pupil_minutes"},
    "within_max_journey": {"objective": "within_max_journey"},
    "no carry-forward, uneven years": {
        "carry_forward": False,
        "budget_by_fy_gbp": {"2026-27": 0.0, "2027-28": 800_000.0, "2028-29": 0.0},
    },
    "carry-forward, uneven years": {
        "budget_by_fy_gbp": {"2026-27": 0.0, "2027-28": 800_000.0, "2028-29": 0.0}
    },
    "zero budget": {"budget_by_fy_gbp": {"2026-27": 0.0, "2027-28": 0.0}},
    "£1 budget": {"budget_by_fy_gbp": {"2026-27": 1.0, "2027-28": 1.0}},
    "exactly one option's cost": {"budget_by_fy_gbp": {"2026-27": 400_000.0, "2027-28": 0.0}},
    "exactly one option's cost, no carry-forward": {
        "budget_by_fy_gbp": {"2026-27": 0.0, "2027-28": 400_000.0},
        "carry_forward": False,
    },
    "huge budget": {"budget_by_fy_gbp": {"2026-27": 1e12, "2027-28": 1e12}},
    "three sizes from 4 places": {
        "sizes": [(4, 150_000.0), (8, 400_000.0), (12, 450_000.0)],
        "min_size": 0,
    },
    "min_size 12": {"min_size": 12},
    "sites' own size and cost": {"sizes": ()},
    "free sizes, zero budget": {
        "sizes": [(8, 0.0)],
        "budget_by_fy_gbp": {"2026-27": 0.0, "2027-28": 0.0},
    },
    "later opening years": {"budget_by_fy_gbp": {"2027-28": 400_000.0, "2029-30": 400_000.0}},
    "10-minute journey limit": {
        "max_journey_min_by_phase": {"primary": 10.0, "secondary": 10.0, "post16": 10.0}
    },
    "independent placements only": {"targets": ("independent",)},
    "nearest site only": {"nearest_sites": 1},
    "one site": {"sites": ["140691-IB-SEMH"]},
    "four sites, three years": {
        "sites": [*FEW, "136013-IB-SEMH"],
        "budget_by_fy_gbp": {"2026-27": 400_000.0, "2027-28": 400_000.0, "2028-29": 400_000.0},
    },
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_study_matches_exhaustive_search(baseline, name):
    inst = _instance(baseline, **VARIANTS[name])
    values = _exhaustive(inst)
    ranked = _by_site_set(inst, values)
    best, contributions, curve, alts, greedy, _ = study_programme(
        inst, steps=4, k=50, time_limit_s=None, mip_rel_gap=0.0
    )
    # the best programme is the best of every programme, proven (gap on savings 0)
    assert best.objective == pytest.approx(ranked[0], rel=1e-7, abs=1e-7)
    assert (best.status, best.gap) == ("optimal", 0.0)
    assert best.bound == pytest.approx(best.objective, rel=1e-7, abs=1e-7)
    assert _fits(inst, best.options, 1.0)
    assert _savings(inst, best.options) == pytest.approx(best.objective, rel=1e-7, abs=1e-7)
    assert set(contributions) == set(best.options)  # each site's value: with minus without
    for o, v in contributions.items():
        rest = tuple(p for p in best.options if p != o)
        assert v == pytest.approx(best.objective - _savings(inst, rest), rel=1e-7, abs=1e-7)
    for o in best.options:  # a financial year's capital opens places the next September
        fy = inst.fy_labels[inst.opt_fy[o]]
        assert inst.years[inst.opt_open[o]] == int(fy[:4]) + 1
    # the curve: the best within each step's budget, never falling, ending at the best
    assert [p.budget_scale for p in curve] == [0.25, 0.5, 0.75, 1.0]
    for p in curve:
        want = max(v for opts, v in values.items() if _fits(inst, opts, p.budget_scale))
        assert p.solution.objective == pytest.approx(want, rel=1e-7, abs=1e-7), p.budget_scale
        assert _fits(inst, p.solution.options, p.budget_scale)
    saved = [p.solution.objective for p in curve]
    assert saved == sorted(saved)
    assert curve[-1].solution.objective == best.objective
    # alternatives: every other distinct site set (50 asked is more than exist), best first
    assert [a.objective for a in alts] == pytest.approx(ranked[1:], rel=1e-7, abs=1e-7)
    sets = [_site_set(inst, s.options) for s in (best, *alts)]
    assert len(set(sets)) == len(sets)
    assert all(a.objective <= best.objective + 1e-9 for a in alts)
    assert all(_fits(inst, a.options, 1.0) for a in alts)
    assert greedy.objective <= best.objective + 1e-9


@pytest.mark.parametrize("limit", [None, 10.0])
def test_assignments_are_the_compatible_sites_within_the_journey_limit(baseline, limit):
    """Every (demand row, site) pair the model may use, rebuilt here from the demand, the
    sites' needs and phases (one site widened to two needs and both phases) and the journeys;
    and each pair's value for two objectives."""
    plan, inputs, journeys, (result, _) = baseline
    demand = demand_from_flows(result, flow_settings(inputs, plan))
    sites = pd.DataFrame(inputs.sites.drop(columns="geometry")).reset_index(drop=True)
    sites.loc[0, ["needs", "phases"]] = ["ASD;SEMH", "primary;secondary"]
    limits = LIMITS if limit is None else dict.fromkeys(LIMITS, limit)
    kw = {"budget_by_fy_gbp": TWO_YEARS, "max_journey_min_by_phase": limits, "carry_forward": True}
    inst = programme_instance(demand, sites, journeys, objective="ooa_avoided", **kw)
    pairs = zip(
        journeys["origin_id"].astype(str), journeys["destination_id"].astype(str), strict=True
    )
    minutes = dict(zip(pairs, journeys["travel_time_min"], strict=True))
    want = set()
    for r, row in enumerate(demand.itertuples()):
        for j, site in enumerate(sites.itertuples()):
            needs, phases = str(site.needs).split(";"), str(site.phases).split(";")
            t = minutes.get((str(row.origin_id), str(site.site_id)), math.inf)
            if row.need_type in needs and row.phase in phases and t <= limits[row.phase]:
                want.add((r, j))
    got = set(zip(inst.arc_row.tolist(), inst.arc_site.tolist(), strict=True))
    assert got == want and len(want) > (0 if limit else 300)
    present = demand[[c for c in demand if c.startswith("present_")]].sum(axis=1)
    pupil_years = (present / demand["count"]).to_numpy()
    assert inst.arc_value == pytest.approx(pupil_years[inst.arc_row])
    within = programme_instance(demand, sites, journeys, objective="within_max_journey", **kw)
    over = demand["current_time_min"].to_numpy() > demand["phase"].map(limits).to_numpy()
    assert within.arc_value == pytest.approx((pupil_years * over)[within.arc_row])


def test_alternatives_count_as_asked(baseline):
    inst = _instance(baseline)
    ranked = _by_site_set(inst, _exhaustive(inst))
    assert len(ranked) == 7  # {}, three single sites and three pairs fit £800,000
    best, *_ = study_programme(inst, steps=1, k=0, time_limit_s=None, mip_rel_gap=0.0)
    assert alternatives(inst, best, k=0) == ()
    one = alternatives(inst, best, k=1)
    assert [a.objective for a in one] == pytest.approx(ranked[1:2])
    assert len(alternatives(inst, best, k=6)) == 6
    assert len(alternatives(inst, best, k=7)) == 6  # no eighth site set exists


# -- placeplan optimise, end to end ---------------------------------------------------------------
@pytest.fixture
def cached_flows(baseline, monkeypatch):
    """``placeplan optimise`` reusing the module's baseline flow run; returns the studies made."""
    studies: list[ProgrammeStudy] = []
    real = programme_plan.optimise_plan

    def keep(plan, inputs):
        studies.append(real(plan, inputs))
        return studies[-1]

    monkeypatch.setattr(programme_plan, "run_flow_model", lambda *a, **kw: baseline[3])
    monkeypatch.setattr(programme_plan, "optimise_plan", keep)
    return studies


def _plan(tmp_path: Path, optimise: str, *, sites=None, internal=True) -> Path:
    """A copy of the sample with its ``[optimise]`` table replaced (and only ``sites``)."""
    dst = tmp_path / "plan"
    shutil.copytree(SAMPLE, dst)
    text = (dst / "plan.toml").read_text(encoding="utf-8")
    text = text.replace('output_dir = "../../../maps/isle-of-wight"', 'output_dir = "out"')
    # not the sample's adopted programme: these plans' sites and budgets are others
    text = text.replace('programmes = ["optimised-programme.toml"]\n', "")
    start, end = text.index("\n[optimise]\n") + 1, text.index("# Travel mitigation rules")
    text = text[:start] + "[optimise]\n" + optimise + "\n\n" + text[end:]
    if internal:
        text = text.replace('mode = "published"', 'mode = "internal"')
    if sites is not None:
        df = pd.read_csv(dst / "candidate_sites.csv", dtype=str)
        df[df["site_id"].isin(sites)].to_csv(dst / "candidate_sites.csv", index=False)
        text = re.sub(r"open_sites = \[[^\]]*\]", f"open_sites = {sites!r}".replace("'", '"'), text)
        text = re.sub(r"\[\[flows\.site\]\].*?(?=\[\[scenario\]\])", "", text, flags=re.S)
    (dst / "plan.toml").write_text(text, encoding="utf-8")
    return dst / "plan.toml"


def _optimise(plan: Path, capsys) -> tuple[int, str, str]:
    code = cli.main(["--no-progress", "-q", "optimise", str(plan)])
    out, err = capsys.readouterr()
    return code, out, err


def _sets(programmes: pd.Series) -> list[frozenset[str]]:
    return [
        frozenset() if p == "(none)" else frozenset(x.split(" (")[0] for x in p.split("; "))
        for p in programmes
    ]


def _runs_as_a_scenario(plan_path: Path, programme: pd.DataFrame) -> None:
    """The written programme loads as one more scenario, at the chosen sizes and years."""
    text = plan_path.read_text(encoding="utf-8").replace(
        "[inputs]\n", '[inputs]\nprogrammes = ["out-optimise/optimised-programme.toml"]\n', 1
    )
    plan_path.write_text(text, encoding="utf-8")
    scen = load_plan(plan_path).scenario[-1]
    assert scen.name == "Optimised programme"
    assert list(scen.open_sites) == programme["site_id"].astype(str).tolist()
    mine = {s.site_id: s for s in scen.site}
    for row in programme.itertuples():
        assert mine[str(row.site_id)].opening_year == row.opening_year
        assert mine[str(row.site_id)].places_by_year == {row.opening_year: row.places}
        assert mine[str(row.site_id)].capital_gbp == row.capital_gbp


def test_cli_on_the_sample_writes_curve_and_alternatives(tmp_path, cached_flows, capsys):
    """The sample plan as shipped (published figures): curve, alternatives, status and gap."""
    text = (SAMPLE / "plan.toml").read_text(encoding="utf-8")
    optimise = text[text.index("\n[optimise]\n") + 12 : text.index("# Travel mitigation rules")]
    plan = _plan(tmp_path, optimise, internal=False)
    code, out, _ = _optimise(plan, capsys)
    assert code == 0
    folder = plan.parent / "out-optimise"
    curve = pd.read_csv(folder / "budget_curve.csv")
    assert curve["budget_gbp"].tolist() == [300_000.0 * k for k in range(1, 11)]
    saved = pd.to_numeric(curve["savings"], errors="coerce")
    assert saved.notna().all() and saved.is_monotonic_increasing
    alts = pd.read_csv(folder / "alternatives.csv")
    assert alts["kind"].tolist() == ["optimal", *["alternative"] * 5, "greedy heuristic"]
    top = alts[alts["kind"] != "greedy heuristic"]
    assert len(set(_sets(top["programme"]))) == 6
    assert (top["savings"] <= top["savings"].iloc[0]).all()
    assert top["savings"].is_monotonic_decreasing
    best = cached_flows[-1].best
    assert best.objective == pytest.approx(179 / 3) and saved.iloc[-1] == 59.67
    summary = (folder / "optimise_summary.txt").read_text(encoding="utf-8")
    assert "status: optimal" in summary and "gap on savings: 0.00%" in summary
    assert "alternatives: 5 of 5 asked" in summary
    assert "optimise: ooa_avoided 59.67 (optimal, gap on savings 0.00%)" in out
    programme = pd.read_csv(folder / "programme.csv")
    spent = programme.groupby("financial_year")["capital_gbp"].sum()
    budget = pd.Series({"2026-27": 8e5, "2027-28": 8e5, "2028-29": 8e5, "2029-30": 6e5})
    assert (spent.reindex(budget.index, fill_value=0).cumsum() <= budget.cumsum()).all()
    _runs_as_a_scenario(plan, programme)


def test_cli_few_sites_matches_exhaustive_search(tmp_path, cached_flows, capsys):
    """Three sites, 50 alternatives asked (7 site sets exist): the files say the exact answers."""
    plan = _plan(
        tmp_path,
        'objective = "ooa_avoided"\nsizes = [{ places = 8, capital_gbp = 400000 }, '
        "{ places = 12, capital_gbp = 600000 }]\nmin_size = 8\n"
        'budget_by_fy_gbp = { "2026-27" = 400000, "2027-28" = 400000 }\n'
        "carry_forward = true\nsteps = 4\nalternatives = 50",
        sites=FEW,
    )
    code, out, _ = _optimise(plan, capsys)
    assert code == 0
    inst = cached_flows[-1].instance
    values = _exhaustive(inst)
    ranked = _by_site_set(inst, values)
    folder = plan.parent / "out-optimise"
    curve = pd.read_csv(folder / "budget_curve.csv")
    want = [
        round(max(v for p, v in values.items() if _fits(inst, p, s)), 2)
        for s in (0.25, 0.5, 0.75, 1.0)
    ]
    assert curve["savings"].tolist() == want == [0.0, 20.0, 20.0, 37.0]
    # the marginal value of £100k: the rise in savings over the extra budget, not whole numbers
    exact = [max(v for p, v in values.items() if _fits(inst, p, s)) for s in (0.25, 0.5, 0.75, 1)]
    rise = np.diff([0.0, *exact]) / 200_000 * 100_000
    assert curve["marginal_per_100k_gbp"].tolist() == [round(r, 2) for r in rise]
    assert curve["marginal_per_100k_gbp"].tolist() == [0.0, 10.0, 0.0, 8.5]
    svg = (folder / "budget_curve.svg").read_text(encoding="utf-8")
    assert all(f"£{k}k" in svg for k in (200, 400, 600, 800))
    alts = pd.read_csv(folder / "alternatives.csv")
    top = alts[alts["kind"] != "greedy heuristic"]
    assert top["savings"].tolist() == [round(v, 2) for v in ranked]
    assert len(set(_sets(top["programme"]))) == 7
    summary = (folder / "optimise_summary.txt").read_text(encoding="utf-8")
    assert (
        "alternatives: 6 of 50 asked (`optimise.alternatives`); fewer because no further "
        "distinct site set fits the budget: these are all 7 that do"
    ) in summary
    assert "alternatives: 6 of 50 asked" in out


def test_cli_zero_budget_writes_an_empty_programme_and_says_why(tmp_path, cached_flows, capsys):
    plan = _plan(
        tmp_path,
        'budget_by_fy_gbp = { "2026-27" = 0, "2027-28" = 0 }\nsteps = 2\nalternatives = 3',
        sites=FEW,
    )
    code, _, _ = _optimise(plan, capsys)
    assert code == 0
    folder = plan.parent / "out-optimise"
    curve = pd.read_csv(folder / "budget_curve.csv")
    assert curve["savings"].tolist() == [0.0, 0.0]
    assert not curve["savings"].astype(str).str.startswith("-").any()
    alts = pd.read_csv(folder / "alternatives.csv")
    assert alts["kind"].tolist() == ["optimal", "greedy heuristic"]
    summary = (folder / "optimise_summary.txt").read_text(encoding="utf-8")
    assert "proven upper bound: 0.00" in summary
    assert "0 of 3 asked (`optimise.alternatives`); fewer because only doing nothing" in summary
    assert "the cheapest costs £400,000 in 2026-27" in summary  # the sites' own 8-place cost
    programme = pd.read_csv(folder / "programme.csv")
    assert programme.empty
    _runs_as_a_scenario(plan, programme)


@pytest.mark.parametrize(
    ("budget", "expect"),
    [
        ('{ "2026-27" = 400000, "2034-35" = 1000000 }', "'2034-35' pays for places opening in "),
        ('{ "2019-20" = 1000000 }', "use financial years 2025-26 to 2029-30"),
        ('{ "2026-27" = inf }', "must be a finite amount of 0 or more"),
        ('{ "2026-27" = -1 }', "must be a finite amount of 0 or more"),
        ("{}", "set `optimise.budget_by_fy_gbp`"),
    ],
)
def test_cli_bad_budgets_exit_2_before_the_pipeline(tmp_path, monkeypatch, capsys, budget, expect):
    import placeplan.prepare.inputs

    def no_pipeline(*a, **kw):
        raise AssertionError("the pipeline ran before the plan was checked")

    monkeypatch.setattr(placeplan.prepare.inputs, "prepare", no_pipeline)
    plan = _plan(tmp_path, f"budget_by_fy_gbp = {budget}")
    code, _, err = _optimise(plan, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert str(plan) in lines[0] and "optimise.budget_by_fy_gbp" in lines[0]
    assert expect in lines[0]


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ('carry_forward = "yes"', "carry_forward"),
        (
            "sizes = [{ places = 8, capital_gbp = 1 }, { places = 8, capital_gbp = 2 }]",
            "sizes lists 8 places twice",
        ),
    ],
)
def test_lenient_optimise_values_are_refused(tmp_path, line, expect):
    """A string where TOML has a boolean, and one size given twice (which capital?), were
    accepted silently."""
    plan = _plan(tmp_path, f'budget_by_fy_gbp = {{ "2026-27" = 400000 }}\n{line}')
    with pytest.raises(ConfigError, match=expect):
        load_plan(plan)


def test_budget_years_outside_the_flows_are_refused_by_every_command(tmp_path):
    """`run` and `validate` load the same plan: a budget year that could buy nothing is refused
    when the plan is read, not after the pipeline (`run` studies [optimise] too)."""
    plan = _plan(tmp_path, 'budget_by_fy_gbp = { "2029-30" = 1, "2030-31" = 1 }')
    with pytest.raises(ConfigError, match=r"'2030-31' pays for places opening in September 2031"):
        load_plan(plan)
    text = plan.read_text(encoding="utf-8").replace("horizon_year = 2030", "horizon_year = 2031")
    plan.write_text(text, encoding="utf-8")
    assert load_plan(plan).optimise.budget_by_fy_gbp == {"2029-30": 1.0, "2030-31": 1.0}
    text = plan.read_text(encoding="utf-8").replace("horizon_year = 2031", "horizon_year = 2025")
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`flows\.horizon_year` \(2025\) is not after"):
        load_plan(plan)


def test_sizes_no_site_can_take_are_named(baseline, tmp_path):
    sites = pd.DataFrame(baseline[1].sites.drop(columns="geometry"))
    plan = load_plan(
        _plan(
            tmp_path,
            'budget_by_fy_gbp = { "2026-27" = 1 }\nsizes = [{ places = 20, capital_gbp = 1 }]',
        )
    )
    with pytest.raises(
        ConfigError,
        match=r"plan\.toml: every size in `optimise\.sizes`.*"
        r"smallest 20 places.*largest 16",
    ):
        check_sizes(plan, sites)
    low = plan.model_copy(update={"optimise": plan.optimise.model_copy(update={"min_size": 30})})
    with pytest.raises(ConfigError, match=r"`optimise\.min_size` = 30 is above every size"):
        check_sizes(low, sites)
    check_budget_years(plan)  # "2026-27" opens 2027, within 2026-2030


# -- the study's bookkeeping ----------------------------------------------------------------------
def _sol(options, objective, bound, status="optimal") -> ProgrammeSolution:
    gap = 0.0 if bound == objective else (bound - objective) / objective
    return ProgrammeSolution(
        options=tuple(options),
        objective=objective,
        bound=bound,
        gap=gap,
        status=status,
        capital_by_fy_gbp=np.zeros(2),
        flows=np.zeros(0),
    )


def test_best_keeps_the_curves_bound_when_the_full_budget_solve_times_out(baseline, monkeypatch):
    """The curve's full step stops at its limit with a bound of 20 on savings of 10; the extra
    solve at the full budget also stops, with no bound of its own: the gap stays 100 %."""
    inst = _instance(baseline)
    last = _sol([0], 10.0, 20.0, "time_limit")
    curve = (CurvePoint(800_000.0, 1.0, last, 10.0 / 800_000.0),)
    monkeypatch.setattr(programme_plan, "budget_curve", lambda *a, **kw: curve)
    monkeypatch.setattr(
        programme_plan, "solve_programme", lambda *a, **kw: _sol([0], 10.0, math.inf, "time_limit")
    )
    monkeypatch.setattr(programme_plan, "site_contributions", lambda *a, **kw: {})
    monkeypatch.setattr(programme_plan, "alternatives_and_why", lambda *a, **kw: ((), "asked"))
    best, *_ = study_programme(inst, steps=1, k=0, time_limit_s=1.0, mip_rel_gap=0.0)
    assert (best.objective, best.bound, best.gap) == (10.0, 20.0, 1.0)


def test_an_alternative_saving_more_becomes_the_best(baseline, monkeypatch):
    inst = _instance(baseline)
    first = _sol([0], 10.0, 30.0, "time_limit")
    better, worse = _sol([2], 12.0, 30.0, "time_limit"), _sol([4], 11.0, 30.0, "time_limit")
    curve = (CurvePoint(800_000.0, 1.0, first, 10.0 / 800_000.0),)
    monkeypatch.setattr(programme_plan, "budget_curve", lambda *a, **kw: curve)
    monkeypatch.setattr(programme_plan, "solve_programme", lambda *a, **kw: first)
    monkeypatch.setattr(programme_plan, "site_contributions", lambda *a, **kw: {})
    monkeypatch.setattr(
        programme_plan, "alternatives_and_why", lambda *a, **kw: ((better, worse), "asked")
    )
    best, _, curve_out, alts, _, _ = study_programme(
        inst, steps=1, k=2, time_limit_s=1.0, mip_rel_gap=0.0
    )
    assert best.options == (2,) and best.bound == 30.0 and best.gap == pytest.approx(1.5)
    assert curve_out[-1].solution.options == (2,)
    assert [a.objective for a in alts] == [11.0, 10.0]


def test_alternatives_are_ranked_by_savings(baseline, monkeypatch):
    """Solved with a gap, a later alternative can save more than an earlier one."""
    inst = _instance(baseline)
    found = iter([_sol([0], 5.0, 9.0), _sol([2], 7.0, 9.0), _sol([4], 6.0, 9.0)])

    def next_one(*a, **kw):
        try:
            return next(found)
        except StopIteration:
            raise InfeasibleModelError("HiGHS ended with status 'infeasible'") from None

    monkeypatch.setattr(programme_study, "solve_programme", next_one)
    got, why = programme_study.alternatives_and_why(inst, _sol([], 0.0, 0.0), k=5)
    assert [a.objective for a in got] == [7.0, 6.0, 5.0] and why == "exhausted"


def test_written_curve_toml_reads_back(tmp_path, cached_flows, capsys):
    """`optimised-programme.toml` is TOML with one [[scenario]] naming the programme's sites."""
    plan = _plan(tmp_path, 'budget_by_fy_gbp = { "2026-27" = 400000 }\nsteps = 1', sites=FEW)
    assert _optimise(plan, capsys)[0] == 0
    data = tomllib.loads(
        (plan.parent / "out-optimise" / "optimised-programme.toml").read_text(encoding="utf-8")
    )
    study = cached_flows[-1]
    sites = [study.instance.site_ids[int(study.instance.opt_site[o])] for o in study.best.options]
    assert data["scenario"][0]["open_sites"] == sites and len(sites) == 1


def test_time_limit_with_nothing_found_keeps_the_greedy_programme(baseline, monkeypatch):
    """Every solve stops at its time limit with no programme of its own (HiGHS hands back
    only the fallback it was given): the curve starts from doing nothing instead of failing,
    the best programme is the greedy one (it fits the budget) and ends the curve, and the
    alternatives say they stopped at the time limit."""
    from dataclasses import replace

    from placeplan._errors import PlaceplanWarning

    inst = _instance(baseline, sites=[*FEW, "136013-IB-SEMH"])

    def timed_out(*a, **kw):
        if kw.get("fallback") is None:
            raise InfeasibleModelError("HiGHS ended with status 'time_limit' and no programme")
        return replace(kw["fallback"], status="time_limit", bound=math.inf, gap=math.inf)

    monkeypatch.setattr(programme_study, "solve_programme", timed_out)
    monkeypatch.setattr(programme_plan, "solve_programme", timed_out)
    notes: dict[str, str] = {}
    with pytest.warns(PlaceplanWarning, match="stopped at its time limit"):
        best, _, curve, alts, greedy, _ = study_programme(
            inst, steps=2, k=3, time_limit_s=1.0, mip_rel_gap=0.0, notes=notes
        )
    assert greedy.objective > 0 and best.objective == greedy.objective
    assert best.options == greedy.options and best.status == "time_limit"
    assert [p.solution.objective for p in curve] == [0.0, greedy.objective]
    assert alts == () and notes == {"alternatives": "time_limit"}


def test_cli_nearest_sites_says_the_gap_is_on_the_reduced_model(
    baseline, tmp_path, cached_flows, capsys
):
    """Offered only its nearest site, the model's proven optimum saves less than the best
    programme over every site within reach: the summary must say the gap is the reduced
    model's."""
    plan = _plan(
        tmp_path,
        'budget_by_fy_gbp = { "2026-27" = 400000, "2027-28" = 400000 }\nsteps = 1\n'
        "alternatives = 0\nnearest_sites = 1\nsizes = [{ places = 8, capital_gbp = 400000 }]",
        sites=FEW,
    )
    assert _optimise(plan, capsys)[0] == 0
    study = cached_flows[-1]
    summary = (plan.parent / "out-optimise" / "optimise_summary.txt").read_text(encoding="utf-8")
    assert "status: optimal" in summary and "gap on savings: 0.00%" in summary
    assert "reduced model: each demand row offered only its 1 nearest site(s)" in summary
    assert study.nearest_sites == 1 and study.best.objective == pytest.approx(100 / 3)
    every_site = _instance(baseline, sizes=[(8, 400_000.0)])
    assert max(_exhaustive(every_site).values()) == pytest.approx(37.0)
