"""Travel mitigations year by year: the plan's ``[[mitigation]]`` rules applied to the flow model.

:mod:`placeplan.compute.mitigation` applies the rules to today's cohort (the snapshot). The
year-by-year appendix comes from the placement-flow model (:mod:`placeplan.compute.flows`), whose
cohort grows and changes; this module applies the **same rules, in the same order**
(:func:`~placeplan.compute.mitigation.match_rules`: first match wins, a pupil counted once a
year) to every placed pupil of every year of every flow run, and costs them, so the report can
state the mitigation cost of each year with the model's range.

How each ``who`` condition is read on a flow pupil in one year:

- **over the reasonable maximum**: the journey (one way) is longer than the maximum for the
  pupil's NC year that year (Reception-Year 6 primary, Year 7 on secondary), as the flow
  measure ``over_max_journey`` counts it;
- **ferry**: the journey crosses by ferry (as ``ferry_journeys``);
- **need**, **phase**: the pupil's SEN2 need; the phase of their NC year that year (up to 6
  primary, 7-11 secondary, 12 and over post-16, including 19-25);
- **journey more than X min longer** and **moved** (placed differently from the baseline):
  compared with **the same pupil in the same year of the comparison run** (same path and
  seed). ``moved = true`` is not ``flows.csv``'s ``movers`` (placed pupils who change setting
  during the years): it matches every pupil whose setting that year differs from the baseline
  run's, new entrants placed elsewhere than in the baseline included. The flow model's runs
  share their pupils and random draws (common random numbers), so a pupil of a scenario run is
  the same pupil in the baseline run. For a scenario the comparison is the baseline run; in
  the baseline run itself no journey is longer and nobody is moved, so the rules that need a
  longer journey or a move cover no one there. A pupil not placed in the comparison run has no
  journey to compare: never "longer", but "placed differently from the baseline".

Pupils not placed in a year (no compatible free place) have no journey and are offered nothing.

Per proposal (:func:`placeplan.compute.proposals.flow_variants`) the figures are the proposal's
own change in mitigation, as a level difference like the programme's: **alone**, the run with
only this proposal (``scenario``) less the baseline run (``baseline``); **contribution**, the
programme (``scenario``) less the programme without this proposal (``without``). Every level is
counted over all the run's placed pupils with "longer" and "moved" read against the
baseline run, so a proposal that brings an escorted pupil back from out of area shows the escort
cost falling, and pupils it does not touch cancel out.

Each count is made per path and seed, then summarised like the flow table
(:func:`placeplan.compute.flows.flow_table`): ``pupils`` / ``annual_cost_gbp`` are the central
path's mean over seeds, ``*_lower`` / ``*_upper`` the minimum / maximum over every path and seed;
the ``"All rules"`` row and the ``"change"`` run (scenario less baseline) are summed and
differenced within each path and seed before the range is taken. Counts are not yet
disclosure-controlled: :func:`placeplan.publish.mitigations.published_mitigations_by_year`
publishes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows import academic_year
from placeplan.compute.mitigation import match_rules
from placeplan.compute.proposals import variant_name

if TYPE_CHECKING:
    from placeplan.compute.flows import FlowParams, FlowResult, FlowScenario
    from placeplan.compute.mitigation import MitigationRule

__all__ = [
    "ALL_RULES",
    "RUNS",
    "YEAR_COLS",
    "flow_rule_inputs",
    "mitigations_by_year",
    "pupil_year_rules",
]

#: ``rule`` of the total row of each (scenario, proposal, basis, run, year).
ALL_RULES = "All rules"
#: ``run`` values: the comparison run (``baseline``; for a proposal's contribution ``without``,
#: the programme without it), the run with the scenario or proposal and their difference
#: (``change`` = scenario - baseline, or scenario - without).
RUNS: tuple[str, ...] = ("baseline", "without", "scenario", "change")
#: Columns of :func:`mitigations_by_year`.
YEAR_COLS: tuple[str, ...] = (
    "scenario",
    "proposal",
    "basis",
    "run",
    "year",
    "rule",
    "what",
    "source",
    "cost_gbp_per_pupil_year",
    "pupils",
    "pupils_lower",
    "pupils_upper",
    "annual_cost_gbp",
    "annual_cost_gbp_lower",
    "annual_cost_gbp_upper",
)

_PUPIL_COLS = ("pupil_ref", "year", "status", "setting_id", "time_min", "need", "nc_year", "ferry")
_PROGRAMME = "programme"


def _phase(nc_year: np.ndarray) -> np.ndarray:
    return np.where(nc_year <= 6, "primary", np.where(nc_year <= 11, "secondary", "post16"))


def flow_rule_inputs(
    after: pd.DataFrame, before: pd.DataFrame | None, params: FlowParams
) -> pd.DataFrame:
    """Return the columns :func:`~placeplan.compute.mitigation.match_rules` reads, per placed
    pupil-year of a flow run.

    Parameters
    ----------
    after
        INTERNAL. A run's :attr:`placeplan.compute.flows.FlowRun.pupils` (``pupil_ref, year,
        status, setting_id, time_min, need, nc_year, ferry``).
    before
        INTERNAL. The comparison run's pupils (same path and seed), or None: the run is its own
        comparison (no journey longer, nobody moved: the baseline run).
    params
        The flow model's parameters (the reasonable maxima by phase).

    Returns
    -------
    rows
        One row per pupil placed that year in ``after``: ``pupil_ref, year, change_time_min``
        (minutes longer than in ``before``; NaN where ``before`` has no placement), ``over_max``,
        ``ferry``, ``moved`` (another setting, or none, in ``before``), ``need_type``, ``phase``.

    Raises
    ------
    SchemaValidationError
        If ``after`` lacks a column (a flow run from before ``ferry`` was recorded).
    """
    missing = [c for c in _PUPIL_COLS if c not in after.columns]
    if missing:
        msg = f"flow pupil table lacks {missing}; use FlowRun.pupils from simulate_flows"
        raise SchemaValidationError(msg)
    a = after.loc[after["status"].eq("placed"), list(_PUPIL_COLS)]
    nc = a["nc_year"].to_numpy(dtype=int)
    time = a["time_min"].to_numpy(dtype=float)
    limit = np.where(nc <= 6, params.max_journey_primary_min, params.max_journey_secondary_min)
    if before is None:
        change = np.zeros(len(a))
        moved = np.zeros(len(a), dtype=bool)
    else:
        b = before.loc[
            before["status"].eq("placed"), ["pupil_ref", "year", "setting_id", "time_min"]
        ]
        key = pd.MultiIndex.from_frame(a[["pupil_ref", "year"]])
        bi = b.set_index(["pupil_ref", "year"]).reindex(key)
        change = time - bi["time_min"].to_numpy(dtype=float)
        b_setting = bi["setting_id"].to_numpy(dtype=object)
        moved = pd.isna(b_setting) | (b_setting != a["setting_id"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            "pupil_ref": a["pupil_ref"].to_numpy(),
            "year": a["year"].to_numpy(),
            "change_time_min": change,
            "over_max": time > limit,
            "ferry": a["ferry"].fillna(False).to_numpy(dtype=bool),
            "moved": np.asarray(moved, dtype=bool),
            "need_type": a["need"].astype(str).to_numpy(),
            "phase": _phase(nc),
        }
    )


def pupil_year_rules(
    after: pd.DataFrame,
    before: pd.DataFrame | None,
    rules: Sequence[MitigationRule],
    params: FlowParams,
    *,
    moved_only: bool = False,
) -> pd.DataFrame:
    """Return the first matching rule per placed pupil-year (``""`` where none matches).

    Parameters
    ----------
    after, before, params
        As for :func:`flow_rule_inputs`.
    rules
        Rules in priority order.
    moved_only
        Keep only the pupils placed in another setting than in ``before`` (a proposal's pupils).

    Returns
    -------
    keys
        INTERNAL: ``pupil_ref, year, rule`` (one row per pupil and year).
    """
    rows = flow_rule_inputs(after, before, params)
    if moved_only:
        rows = rows[rows["moved"]]
    return rows[["pupil_ref", "year"]].assign(rule=match_rules(rows, rules).to_numpy())


def _costed(
    keys: pd.DataFrame, rules: Sequence[MitigationRule], years: Sequence[str]
) -> pd.DataFrame:
    """Pupils and £ per year and rule (every rule and year, zeros included, plus the total)."""
    names = [r.name for r in rules]
    n = (
        keys[keys["rule"].isin(names)]
        .groupby(["year", "rule"])
        .size()
        .reindex(pd.MultiIndex.from_product([list(years), names], names=["year", "rule"]))
        .fillna(0.0)
        .astype(float)
    )
    cost = n * np.tile([float(r.cost_gbp_per_pupil_year) for r in rules], len(years))
    out = pd.DataFrame({"pupils": n, "annual_cost_gbp": cost})
    tot = out.groupby(level="year", sort=False).sum()
    tot.index = pd.MultiIndex.from_arrays(
        [tot.index, [ALL_RULES] * len(tot)], names=out.index.names
    )
    return pd.concat([out, tot])


def _summarise(per_run: Mapping[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Central (the central path's mean over seeds) and range (over every path and seed)."""
    long = pd.concat(per_run, names=["path", "seed"]).reset_index()
    keys = ["year", "rule"]
    central_rows = long[long["path"].eq("central")] if long["path"].eq("central").any() else long
    central = central_rows.groupby(keys, sort=False)[["pupils", "annual_cost_gbp"]].mean()
    g = long.groupby(keys, sort=False)[["pupils", "annual_cost_gbp"]]
    lo, hi = g.min(), g.max()
    out = pd.DataFrame(index=lo.index)
    for c in ("pupils", "annual_cost_gbp"):
        out[c] = central[c].reindex(out.index).clip(lower=lo[c], upper=hi[c])
        out[f"{c}_lower"], out[f"{c}_upper"] = lo[c], hi[c]
    return out.reset_index()


def _label(
    frame: pd.DataFrame,
    rules: Sequence[MitigationRule],
    scenario: str,
    proposal: str,
    basis: str,
    run: str,
) -> pd.DataFrame:
    info = {r.name: (r.what, r.source, float(r.cost_gbp_per_pupil_year)) for r in rules}
    blank = ("", "", float("nan"))
    out = frame.assign(
        scenario=scenario,
        proposal=proposal,
        basis=basis,
        run=run,
        what=[info.get(n, blank)[0] for n in frame["rule"]],
        source=[info.get(n, blank)[1] for n in frame["rule"]],
        cost_gbp_per_pupil_year=[info.get(n, blank)[2] for n in frame["rule"]],
    )
    return out[list(YEAR_COLS)]


def mitigations_by_year(
    result: FlowResult,
    rules: Sequence[MitigationRule],
    *,
    programmes: Sequence[FlowScenario] | None = None,
    alias: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Apply and cost the mitigation rules year by year in every flow run.

    Parameters
    ----------
    result
        From :func:`placeplan.compute.flows.simulate_flows` (with per-proposal variants when
        ``alias`` is given).
    rules
        The rules in priority order (:func:`placeplan.compute.mitigation.plan_rules`).
    programmes
        The programmes to report (default: every scenario of ``result``). With ``alias`` their
        proposals are reported too.
    alias
        :func:`placeplan.compute.proposals.flow_variants`' map of variant names to runs.

    Returns
    -------
    table
        :data:`YEAR_COLS`; one row per scenario, proposal (``"programme"`` or a site), basis
        (``"programme"``, ``"alone"``, ``"contribution"``), run (:data:`RUNS`: the comparison
        level, the level with the programme or proposal, and the change; a contribution's
        comparison is ``"without"``), year and rule, every rule listed (zeros included) and an
        ``"All rules"`` total. Not yet disclosure-controlled.

    Examples
    --------
    See ``tests/test_mitigation_years.py`` for a hand-counted case.
    """
    params = result.params
    years = [academic_year(y) for y in params.years]
    runs = {(r.scenario, r.path, r.seed): r.pupils for r in result.runs}
    draws = sorted({(r.path, r.seed) for r in result.runs})
    names = [s.name for s in programmes] if programmes is not None else list(result.scenarios)

    def counted(after: str, before: str | None) -> dict[tuple[str, int], pd.DataFrame]:
        out = {}
        for path, seed in draws:
            b = None if before is None else runs[(before, path, seed)]
            keys = pupil_year_rules(runs[(after, path, seed)], b, rules, params)
            out[(path, seed)] = _costed(keys, rules, years)
        return out

    frames = []
    level: dict[str, dict[tuple[str, int], pd.DataFrame]] = {}

    def level_of(run: str) -> dict[tuple[str, int], pd.DataFrame]:
        """A run's level: every placed pupil, compared with the baseline run (cached)."""
        if run not in level:
            level[run] = counted(run, None if run == "baseline" else "baseline")
        return level[run]

    def add(scenario: str, proposal: str, basis: str, before: str, after: str) -> None:
        b, a = level_of(before), level_of(after)
        change = {k: a[k] - b[k] for k in draws}
        first = "without" if basis == "contribution" else "baseline"
        for run, per_run in ((first, b), ("scenario", a), ("change", change)):
            frames.append(_label(_summarise(per_run), rules, scenario, proposal, basis, run))

    for name in names:
        add(name, _PROGRAMME, _PROGRAMME, "baseline", name)
    for sc in (programmes or ()) if alias is not None else ():
        for p in sc.proposals:
            alone = alias[variant_name(sc.name, "alone", p.site_id)]  # type: ignore[index]
            without = alias[variant_name(sc.name, "without", p.site_id)]  # type: ignore[index]
            add(sc.name, p.site_id, "alone", "baseline", alone)
            add(sc.name, p.site_id, "contribution", without, sc.name)
    if not frames:
        return pd.DataFrame(columns=list(YEAR_COLS))
    out = pd.concat(frames, ignore_index=True)
    num = [c for c in YEAR_COLS if c.startswith(("pupils", "annual_cost_gbp"))]
    out[num] = out[num].astype(float) + 0.0  # no -0.0
    return out
