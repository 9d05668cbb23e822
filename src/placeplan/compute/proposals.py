"""Per-proposal travel impact: each proposal alone, its contribution to the programme, the total.

The DfE requirement is per proposal ("for any capital, inclusion base or special school expansion
proposal, demonstrating expected changes to travel distances, journey times, and reliance on out
of area placements. Including any explicit travel related mitigations"). In a scenario every
opened site is a **proposal** (site, needs, places, opening year). For each one:

- **alone**: the baseline plus only this proposal, compared with the baseline;
- **contribution**: the programme (the scenario's proposals together) compared with the
  programme without this proposal;

and for the scenario, **programme**: the programme compared with the baseline. Contributions need
not add up to the programme: proposals compete for the same pupils (a pupil one base would take
goes to another without it) and complement each other.

Each is measured twice, with the same measure names:

- **snapshot** (``year = "snapshot"``): today's pupils re-allocated
  (:func:`placeplan.compute.scenario.apply_scenario`) and compared with
  :func:`placeplan.compute.impact.assess_impact`; one value, ``central = lower = upper``;
- **year by year** from the placement-flow model (:mod:`placeplan.compute.flows`): every variant
  is run with the same pupils, new plans and random draws as the baseline (common random
  numbers), differences are taken path by path and seed by seed, then summarised as the central
  path's mean over seeds and the range over all paths and seeds. With *n* proposals a scenario
  needs 1 + 2n runs per path and seed besides the baseline (fewer where variants coincide: one
  proposal alone is the programme; the programme without its only proposal is the baseline).

Travel mitigations (:mod:`placeplan.compute.mitigation`) are, for the snapshot as year by year
(:mod:`placeplan.compute.mitigation_years`), each proposal's **own change**: two levels and their
difference (:func:`~placeplan.compute.mitigation.mitigation_change_table`; ``run`` =
``baseline`` / ``without``, ``scenario``, ``change``). Alone: the baseline with only this
proposal less the baseline; contribution: the programme less the programme without it
(``without``); programme: the programme less the baseline. Every level is counted over all
pupils with "longer" and "moved" read against the baseline
(:func:`~placeplan.compute.mitigation.level_keys`), so pupils a proposal does not touch cancel
out and one that brings an escorted pupil back from out of area shows the escort saved.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan.compute.flows import FlowResult, FlowScenario, flow_table
from placeplan.compute.impact import ImpactAssessment, assess_impact
from placeplan.compute.mitigation import (
    MitigationRule,
    level_keys,
    mitigation_change_table,
)
from placeplan.compute.scenario import ScenarioResult, apply_scenario

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from placeplan.compute.flows import FlowRun, Proposal

__all__ = [
    "BASES",
    "MEASURES",
    "PROGRAMME",
    "SNAPSHOT",
    "TABLE_COLS",
    "ProposalAssessment",
    "assess_proposals",
    "flow_variants",
    "proposal_flows",
]

logger = logging.getLogger(__name__)

#: The three bases of comparison, in report order.
BASES: tuple[str, ...] = ("alone", "contribution", "programme")
#: ``proposal`` value of the whole scenario's rows.
PROGRAMME = "programme"
#: ``year`` value of the snapshot rows.
SNAPSHOT = "snapshot"
#: Columns of :attr:`ProposalAssessment.table`.
TABLE_COLS: tuple[str, ...] = (
    "scenario",
    "proposal",
    "basis",
    "year",
    "measure",
    "central",
    "lower",
    "upper",
)

#: Measures (changes) per proposal and basis, with their meaning; names as in the flow model.
MEASURES: dict[str, str] = {
    "distance_total_km": "change in the sum of one-way journey distances, km",
    "distance_mean_km": "change in the mean one-way journey distance, km",
    "journey_time_total_min": "change in the sum of one-way journey times, minutes",
    "journey_time_mean_min": "change in the mean one-way journey time, minutes",
    "out_of_area": "change in placements outside the authority",
    "independent_non_maintained": "change in independent / non-maintained placements",
    "over_max_journey": "change in pupils over the reasonable maximum journey",
    "worse_off": "pupils whose journey is longer by more than the worse-off margin",
    "ferry_journeys": "change in journeys crossing by ferry",
    "placement_cost_gbp": "change in annual placement cost, £",
    "transport_cost_gbp": "change in annual transport cost, £",
    # counts that say what a change rests on (flow rows only)
    "placement_changed": "pupils whose setting (or placed / unplaced status) that year differs "
    "from the comparison run: the proposal's own pupils and every pupil a chain of freed places "
    "moves (flows only)",
    "at_site": "pupils placed at the proposal's site (the programme's sites) that year, in the "
    "run with it (flows only)",
}

#: Snapshot impact metrics (``assess_impact``'s table) under the shared measure names.
_SNAPSHOT_METRICS: dict[str, str] = {
    "mean_distance_km": "distance_mean_km",
    "mean_time_min": "journey_time_mean_min",
    "ooa_placements": "out_of_area",
    "independent_placements": "independent_non_maintained",
    "over_threshold_n": "over_max_journey",
    "worse_off_n": "worse_off",
    "ferry_journeys": "ferry_journeys",
    "annual_placement_cost_gbp": "placement_cost_gbp",
    "annual_transport_cost_gbp": "transport_cost_gbp",
}


#: Pupil columns the per-proposal comparisons use (no area columns: see assess_proposals).
_LEAN_COLS = ("pupil_ref", "need_type", "phase", "nc_year", "age_on_1_september")
_AREA_GROUPS = ("area", "lsoa11cd", "imd_decile", "ruc_class")


@dataclass(frozen=True, slots=True)
class ProposalAssessment:
    """Result of :func:`assess_proposals` (internal: counts not yet disclosure-controlled).

    Attributes
    ----------
    table
        Tidy :data:`TABLE_COLS`: one row per scenario, proposal (site id or ``"programme"``),
        basis (:data:`BASES`), year (``"snapshot"`` or an academic year) and measure
        (:data:`MEASURES`); ``central``/``lower``/``upper`` are changes.
    proposals
        ``scenario, proposal, name, needs, phases, places, opening_year, capital_cost_gbp,
        annual_cost_per_place_gbp`` per proposal.
    impacts
        ``(scenario, proposal, basis) -> ImpactAssessment``: the snapshot comparisons (alone:
        baseline vs baseline + proposal; contribution: programme without it vs programme;
        programme: baseline vs programme). Per-pupil parts are internal.
    mitigations
        ``scenario, proposal, basis, run`` + :data:`placeplan.compute.mitigation.MITIGATION_COLS`
        (snapshot): per proposal and basis the comparison level (``run`` ``baseline``, or
        ``without`` for a contribution), the level with it (``scenario``) and the ``change``.
    flows
        Year-by-year levels of every variant in :func:`placeplan.compute.flows.flow_table` form
        (runs named by :func:`variant_name`), for publication; None without the flow model.
    runtime_s
        Seconds taken (snapshot and flows).
    """

    table: pd.DataFrame
    proposals: pd.DataFrame
    impacts: dict[tuple[str, str, str], ImpactAssessment]
    mitigations: pd.DataFrame
    flows: pd.DataFrame | None
    runtime_s: float


def variant_name(scenario: str, basis: str, site_id: str) -> str:
    """Name of a variant run in :attr:`ProposalAssessment.flows`.

    Examples
    --------
    >>> variant_name("Four bases", "without", "B1")
    'Four bases | without B1'
    """
    return f"{scenario} | {basis} {site_id}"


# -- snapshot -----------------------------------------------------------------------------------
def _snapshot_rows(
    scenario: str, proposal: str, basis: str, imp: ImpactAssessment
) -> list[tuple[object, ...]]:
    t = imp.table[imp.table["group_type"] == "all"].set_index("metric")["change"]
    rows: list[tuple[object, ...]] = []
    for metric, measure in _SNAPSHOT_METRICS.items():
        if metric in t.index:
            v = float(t.loc[metric])
            rows.append((scenario, proposal, basis, SNAPSHOT, measure, v, v, v))
    pp = imp.per_pupil
    for col, measure in (
        ("time_min", "journey_time_total_min"),
        ("distance_km", "distance_total_km"),
    ):
        v = float(pp[f"scenario_{col}"].sum() - pp[f"baseline_{col}"].sum())
        rows.append((scenario, proposal, basis, SNAPSHOT, measure, v, v, v))
    return rows


def _mitigations(
    scenario: str,
    proposal: str,
    basis: str,
    before: pd.Series,
    after: pd.Series,
    rules: Sequence[MitigationRule],
) -> pd.DataFrame:
    """The two levels' mitigation tables and their change (:func:`mitigation_change_table`),
    labelled; a contribution's comparison level is ``run = "without"``."""
    before_run = "without" if basis == "contribution" else "baseline"
    t = mitigation_change_table(before, after, rules, before_run=before_run)
    t.insert(0, "basis", basis)
    t.insert(0, "proposal", proposal)
    t.insert(0, "scenario", scenario)
    return t


def _check_same_pupils(programme: pd.DataFrame, other: pd.DataFrame) -> None:
    """Refuse to difference levels of per-pupil frames that list other pupils or another order
    (:func:`~placeplan.compute.mitigation.level_keys` pairs rows by position)."""
    if "pupil_ref" not in other.columns:
        return
    a, b = programme["pupil_ref"].to_numpy(), other["pupil_ref"].to_numpy()
    if a.shape != b.shape or not (a == b).all():
        msg = "snapshot mitigations: a comparison lists other pupils than the programme's"
        raise ValueError(msg)  # never: every comparison is of the same pupils, in order


def _assess_snapshot(
    name: str,
    res: ScenarioResult,
    programme: ImpactAssessment,
    *,
    allocate: Callable[[tuple[str, ...]], pd.DataFrame],
    impact: Callable[[pd.DataFrame, pd.DataFrame], ImpactAssessment],
    baseline: pd.DataFrame,
    rules: Sequence[MitigationRule],
) -> tuple[list[tuple[object, ...]], dict[tuple[str, str, str], ImpactAssessment], list]:
    sites = tuple(res.scenario.open_sites)
    rows = _snapshot_rows(name, PROGRAMME, PROGRAMME, programme)
    impacts = {(name, PROGRAMME, PROGRAMME): programme}
    # mitigation levels, each read against the baseline (so any two can be differenced)
    pp = programme.per_pupil
    base_keys = level_keys(pp, pp, "baseline", rules)
    prog_keys = pp["mitigation_key"]
    mit = [_mitigations(name, PROGRAMME, PROGRAMME, base_keys, prog_keys, rules)]
    prog = res.allocation
    for site in sites:
        alone = prog if len(sites) == 1 else allocate((site,))
        rest = tuple(s for s in sites if s != site)
        without = allocate(rest) if rest else baseline.assign(moved=False)
        moved = prog["setting_id"].astype(str) != without["setting_id"].astype(str)
        alone_imp = impact(baseline, alone)
        contrib_imp = impact(without, prog.assign(moved=moved.to_numpy()))
        for imp in (alone_imp, contrib_imp):
            _check_same_pupils(pp, imp.per_pupil)
        levels = {
            "alone": (base_keys, level_keys(pp, alone_imp.per_pupil, "scenario", rules)),
            "contribution": (level_keys(pp, contrib_imp.per_pupil, "baseline", rules), prog_keys),
        }
        for basis, imp in (("alone", alone_imp), ("contribution", contrib_imp)):
            impacts[(name, site, basis)] = imp
            rows += _snapshot_rows(name, site, basis, imp)
            mit.append(_mitigations(name, site, basis, *levels[basis], rules))
    return rows, impacts, mit


# -- flows --------------------------------------------------------------------------------------
def _proposals_key(props: Sequence[Proposal]) -> tuple[tuple[object, ...], ...]:
    """Everything the flow model reads from ``props``, in a fixed order (a run's identity)."""
    return tuple(
        sorted(
            (
                p.site_id,
                p.places,
                p.opening_year,
                tuple(sorted(p.places_by_year.items())),
                tuple(sorted(p.needs)),
                p.nc_year_min,
                p.nc_year_max,
                p.sen2_type,
                p.in_area,
                repr(p.cost_per_place_gbp),
            )
            for p in props
        )
    )


def flow_variants(
    scenarios: Sequence[FlowScenario],
) -> tuple[list[FlowScenario], dict[str, str]]:
    """Return the flow scenarios to run (programmes first, then distinct variants) and a map.

    Parameters
    ----------
    scenarios
        The plan's flow scenarios (programmes), by name.

    Returns
    -------
    to_run, alias
        ``to_run``: the programmes, then one scenario per distinct (proposals, movers) among
        every proposal alone and every programme without one proposal (named ``~v0``, ``~v1``,
        ...); proposals are the same when everything about them is (site, places, opening year,
        ramp-up, needs, NC years, type, location, cost), not only their site.
        ``alias``: :func:`variant_name` of every variant -> the run that holds it (a
        programme's name, a ``~v`` run, or ``"baseline"`` for no proposals and no movers).

    Examples
    --------
    >>> from placeplan.compute.flows import Proposal
    >>> a, b = (Proposal(s, 5, 2027, cost_per_place_gbp=1.0) for s in ("A", "B"))
    >>> runs, alias = flow_variants([FlowScenario("P", (a, b))])
    >>> [r.name for r in runs], alias["P | without A"], alias["P | alone B"]
    (['P', '~v0', '~v1'], '~v1', '~v1')
    """
    to_run = list(scenarios)
    seen: dict[tuple[tuple[tuple[object, ...], ...], str], str] = {}
    for sc in scenarios:
        seen.setdefault((_proposals_key(sc.proposals), sc.movers), sc.name)
    alias: dict[str, str] = {}

    def run_for(props: tuple[Proposal, ...], movers: str, like: FlowScenario) -> str:
        key = (_proposals_key(props), movers)
        if not props and movers == "transfers":
            return "baseline"
        if key not in seen:
            seen[key] = f"~v{sum(n.startswith('~v') for n in seen.values())}"
            to_run.append(replace(like, name=seen[key], proposals=props))
        return seen[key]

    for sc in scenarios:
        for p in sc.proposals:
            alias[variant_name(sc.name, "alone", p.site_id)] = run_for((p,), sc.movers, sc)
            rest = tuple(q for q in sc.proposals if q.site_id != p.site_id)
            alias[variant_name(sc.name, "without", p.site_id)] = run_for(rest, sc.movers, sc)
    return to_run, alias


def _levels(runs: Sequence[FlowRun]) -> dict[tuple[str, str, int], pd.Series]:
    return {
        (r.scenario, r.path, r.seed): r.measures.set_index(["year", "measure"])["value"]
        for r in runs
    }


def _diff_rows(
    levels: Mapping[tuple[str, str, int], pd.Series],
    keys: Sequence[tuple[str, int]],
    after: str,
    before: str,
    label: tuple[str, str, str],
) -> list[tuple[object, ...]]:
    diffs = []
    for path, seed in keys:
        a, b = levels[(after, path, seed)], levels[(before, path, seed)]
        d = a.sub(b, fill_value=0.0)
        d = d[d.index.get_level_values("measure").isin(list(MEASURES))]
        diffs.append(d.rename("v").reset_index().assign(path=path, seed=seed))
    return _summarise(pd.concat(diffs, ignore_index=True), label)


def _summarise(df: pd.DataFrame, label: tuple[str, str, str]) -> list[tuple[object, ...]]:
    """Rows of :data:`TABLE_COLS` from ``path, seed, year, measure, v``: the central path's mean
    over seeds, the range over every path and seed."""
    g = df.groupby(["year", "measure"], sort=True)["v"]
    central = df[df["path"] == "central"].groupby(["year", "measure"], sort=True)["v"].mean()
    out = pd.DataFrame({"central": central, "lower": g.min(), "upper": g.max()})
    out["central"] = out["central"].clip(lower=out["lower"], upper=out["upper"])
    return [
        (*label, y, m, float(c), float(lo), float(hi))
        for (y, m), c, lo, hi in zip(
            out.index, out["central"], out["lower"], out["upper"], strict=True
        )
    ]


def _pupil_arrays(run: FlowRun) -> tuple[np.ndarray, ...]:
    """A run's pupils as arrays: ``pupil_ref``, year labels, year code per row, ``setting_id``
    (``""`` if none), ``status``."""
    pp = run.pupils
    ref, year, setting, status = (
        pp[c].to_numpy(dtype=object, na_value="")
        for c in ("pupil_ref", "year", "setting_id", "status")
    )
    labels, code = np.unique(year.astype(str), return_inverse=True)
    return ref, labels, code, setting, status


def _changed_rows(
    arrays: Callable[[tuple[str, str, int]], tuple[np.ndarray, ...]],
    keys: Sequence[tuple[str, int]],
    after: str,
    before: str,
    label: tuple[str, str, str],
    sites: Sequence[str],
) -> list[tuple[object, ...]]:
    """``placement_changed`` and ``at_site`` rows of one comparison (see :data:`MEASURES`)."""
    records: list[tuple[object, ...]] = []
    for path, seed in keys:
        a, b = arrays((after, path, seed)), arrays((before, path, seed))
        if a[0].shape != b[0].shape or not (a[0] == b[0]).all() or not (a[2] == b[2]).all():
            msg = f"runs {after!r} and {before!r} ({path}, seed {seed}) list other pupil-years"
            raise ValueError(msg)  # never: runs of one path and seed share their pupils
        differs = (a[3] != b[3]) | (a[4] != b[4])
        at = np.isin(a[3], list(sites))
        for measure, flags in (("placement_changed", differs), ("at_site", at)):
            counts = np.bincount(a[2], weights=flags, minlength=a[1].size)
            records += [
                (y, measure, float(v), path, seed) for y, v in zip(a[1], counts, strict=True)
            ]
    df = pd.DataFrame(records, columns=["year", "measure", "v", "path", "seed"])
    return _summarise(df, label)


def proposal_flows(
    result: FlowResult, scenarios: Sequence[FlowScenario], alias: Mapping[str, str]
) -> tuple[list[tuple[object, ...]], pd.DataFrame]:
    """Year-by-year per-proposal rows and the variants' level table from one flow result.

    Parameters
    ----------
    result
        :func:`placeplan.compute.flows.simulate_flows` over :func:`flow_variants`' ``to_run``.
    scenarios
        The programmes.
    alias
        From :func:`flow_variants`.

    Returns
    -------
    rows, levels
        Rows of :data:`TABLE_COLS`; the :func:`placeplan.compute.flows.flow_table` of the
        baseline, the programmes and every variant under its :func:`variant_name`.
    """
    levels = _levels(result.runs)
    runs = {(r.scenario, r.path, r.seed): r for r in result.runs}
    cache: dict[tuple[str, str, int], tuple[np.ndarray, ...]] = {}

    def arrays(key: tuple[str, str, int]) -> tuple[np.ndarray, ...]:
        if key not in cache:
            cache[key] = _pupil_arrays(runs[key])
        return cache[key]

    keys = sorted({(r.path, r.seed) for r in result.runs})
    rows: list[tuple[object, ...]] = []
    named = [
        r
        for r in result.runs
        if r.scenario == "baseline" or r.scenario in {s.name for s in scenarios}
    ]
    extra_names = []
    for sc in scenarios:
        whole = (sc.name, PROGRAMME, PROGRAMME)
        rows += _diff_rows(levels, keys, sc.name, "baseline", whole)
        sites = [p.site_id for p in sc.proposals]
        rows += _changed_rows(arrays, keys, sc.name, "baseline", whole, sites)
        for p in sc.proposals:
            alone = alias[variant_name(sc.name, "alone", p.site_id)]
            without = alias[variant_name(sc.name, "without", p.site_id)]
            rows += _diff_rows(levels, keys, alone, "baseline", (sc.name, p.site_id, "alone"))
            rows += _diff_rows(levels, keys, sc.name, without, (sc.name, p.site_id, "contribution"))
            for basis, (after, before) in (
                ("alone", (alone, "baseline")),
                ("contribution", (sc.name, without)),
            ):
                label = (sc.name, p.site_id, basis)
                rows += _changed_rows(arrays, keys, after, before, label, [p.site_id])
            for basis, run in (("alone", alone), ("without", without)):
                vname = variant_name(sc.name, basis, p.site_id)
                extra_names.append(vname)
                named += [replace(r, scenario=vname) for r in result.runs if r.scenario == run]
    table = flow_table(
        FlowResult(
            runs=tuple(named),
            params=result.params,
            scenarios=tuple(s.name for s in scenarios) + tuple(extra_names),
        )
    )
    return rows, table


# -- entry --------------------------------------------------------------------------------------
def assess_proposals(
    df_pupils: pd.DataFrame,
    df_baseline: pd.DataFrame,
    df_sites: pd.DataFrame,
    df_journeys: pd.DataFrame,
    scenarios: Mapping[str, ScenarioResult],
    impacts: Mapping[str, ImpactAssessment],
    *,
    apply_kwargs: Mapping[str, object],
    impact_kwargs: Mapping[str, object],
    rules: Sequence[MitigationRule],
    flows: tuple[FlowResult, Sequence[FlowScenario], Mapping[str, str]] | None = None,
    proposal_info: pd.DataFrame | None = None,
) -> ProposalAssessment:
    """Assess every proposal of every scenario alone and as its contribution, and the programme.

    Parameters
    ----------
    df_pupils, df_baseline, df_sites, df_journeys
        As for :func:`placeplan.compute.scenario.apply_scenario`.
    scenarios, impacts
        The programmes (scenario results) and their impact against the baseline.
    apply_kwargs
        Keyword arguments of :func:`~placeplan.compute.scenario.apply_scenario` (``costs``,
        ``max_journey_min_by_phase``).
    impact_kwargs
        Keyword arguments of :func:`~placeplan.compute.impact.assess_impact` (thresholds and
        ``mitigation_rules``), the same as the programmes'.
    rules
        The mitigation rules used (for the tables).
    flows
        ``(result, programmes, alias)`` from :func:`flow_variants` and a flow run over its
        scenarios; None: snapshot only.
    proposal_info
        ``scenario, proposal, ...`` descriptions (opening year etc.), passed through.

    Returns
    -------
    ProposalAssessment
        The tidy table, descriptions, snapshot comparisons, mitigations and flow levels.

    Notes
    -----
    A proposal with no places changes nothing: its alone and contribution rows are all zero
    (the snapshot allocation and the flow runs are then the baseline's / the programme's).
    """
    t0 = time.perf_counter()
    cache: dict[tuple[str, ...], pd.DataFrame] = {}
    # per proposal: all pupils, by need, phase and transport policy (not by area: 4x faster, and
    # a proposal's pupils by small area would be suppressed anyway)
    lean = df_pupils[[c for c in _LEAN_COLS if c in df_pupils.columns]]

    def impact(before: pd.DataFrame, after: pd.DataFrame) -> ImpactAssessment:
        imp = assess_impact(lean, before, after, **impact_kwargs)  # type: ignore[arg-type]
        keep = ~imp.table["group_type"].isin(_AREA_GROUPS)
        return replace(imp, table=imp.table[keep].reset_index(drop=True))

    rows: list[tuple[object, ...]] = []
    all_impacts: dict[tuple[str, str, str], ImpactAssessment] = {}
    mit: list[pd.DataFrame] = []
    for name, res in scenarios.items():

        def allocate(sites: tuple[str, ...], res: ScenarioResult = res) -> pd.DataFrame:
            rule = replace(res.scenario, name="", description="", open_sites=())
            key = (*sorted(sites), repr(rule))
            if key not in cache:
                sc = replace(res.scenario, open_sites=sites)
                cache[key] = apply_scenario(
                    sc,
                    df_pupils,
                    df_baseline,
                    df_sites,
                    df_journeys,
                    **apply_kwargs,  # type: ignore[arg-type]
                ).allocation
            return cache[key]

        r, i, m = _assess_snapshot(
            name,
            res,
            impacts[name],
            allocate=allocate,
            impact=impact,
            baseline=df_baseline,
            rules=rules,
        )
        rows += r
        all_impacts.update(i)
        mit += m
    flow_levels = None
    if flows is not None:
        f_rows, flow_levels = proposal_flows(*flows)
        rows += f_rows
    table = pd.DataFrame(rows, columns=list(TABLE_COLS))
    for c in ("central", "lower", "upper"):
        table[c] = table[c].astype(float) + 0.0  # no -0.0
    info = (
        proposal_info
        if proposal_info is not None
        else pd.DataFrame(columns=["scenario", "proposal"])
    )
    elapsed = time.perf_counter() - t0
    n_prop = int(np.sum([len(r.scenario.open_sites) for r in scenarios.values()]))
    logger.info(
        "assess_proposals: %d scenario(s), %d proposal(s), %d snapshot re-allocations, %.2f s",
        len(scenarios),
        n_prop,
        len(cache),
        elapsed,
    )
    return ProposalAssessment(
        table=table,
        proposals=info,
        impacts=all_impacts,
        mitigations=pd.concat(mit, ignore_index=True) if mit else pd.DataFrame(),
        flows=flow_levels,
        runtime_s=elapsed,
    )
