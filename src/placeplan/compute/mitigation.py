"""Travel mitigations: the plan's ``[[mitigation]]`` rules applied to pupils, counted and costed.

A rule says **who** (journey longer by more than X minutes, over the reasonable maximum, crossing
by ferry, moved or not, need, phase) and **what** is offered (stay in the current placement, a
route change, travel training, a personal travel budget, an escort, or other), with a cost per
pupil a year. Rules apply in order and each pupil gets the first rule that matches
(:func:`match_rules`); pupils no rule matches get none. A plan with no ``[[mitigation]]`` uses
:data:`DEFAULT_RULES`, which the report prints as defaults.

Default rules (illustrative planning rates, not sourced prices: replace them with the authority's
own rates in ``[[mitigation]]``):

====  ==========================================  ===========================  ===========
#     who                                         what                         £/pupil/yr
====  ==========================================  ===========================  ===========
1     moved, journey > 15 min longer              stay_in_current_placement    0
2     journey > 5 min longer, secondary/post-16   travel_training              1,500
3     journey > 5 min longer                      route_change                 500
4     over the reasonable maximum, by ferry       escort                       4,000
5     over the reasonable maximum, by road        personal_travel_budget       2,500
====  ==========================================  ===========================  ===========
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from placeplan.config import MitigationConfig

__all__ = [
    "DEFAULT_RULES",
    "MITIGATION_COLS",
    "WHAT",
    "MitigationRule",
    "level_keys",
    "match_rules",
    "mitigation_change_table",
    "mitigation_table",
    "plan_rules",
]

#: What a rule may offer (the plan's ``what`` key).
WHAT: dict[str, str] = {
    "stay_in_current_placement": "Stay in the current placement",
    "route_change": "Route change",
    "travel_training": "Independent travel training",
    "personal_travel_budget": "Personal travel budget",
    "escort": "Escort (passenger assistant)",
    "other": "Other",
}

#: Columns of :func:`mitigation_table`.
MITIGATION_COLS: tuple[str, ...] = (
    "rule",
    "what",
    "source",
    "pupils",
    "cost_gbp_per_pupil_year",
    "annual_cost_gbp",
    "who",
    "description",
)


@dataclass(frozen=True, slots=True)
class MitigationRule:
    """One mitigation rule (see :class:`placeplan.config.MitigationConfig`).

    Parameters
    ----------
    name
        Short unique name shown in the report.
    what
        One of :data:`WHAT`.
    cost_gbp_per_pupil_year
        Annual cost per pupil, £.
    description
        What is offered, in words.
    worse_off_min_gt
        Matches a journey longer (than without the proposal) by more than this many minutes.
    over_reasonable_max, ferry, moved
        Match a journey over the reasonable maximum / crossing by ferry (``True``), or the
        opposite (``False``); ``None`` = either. ``moved`` matches a pupil **placed differently
        from the baseline**: today's cohort, a pupil the scenario places in another setting than
        the baseline does; year by year, a pupil whose setting that year differs from the same
        pupil's in the same year of the baseline run, or who has no place there (new entrants
        included). It is not ``flows.csv``'s ``movers`` (placed pupils who change setting
        during the years).
    needs, phases
        SEN2 need codes and phases matched; empty = any.
    source
        ``"plan"`` or ``"default"``.
    """

    name: str
    what: str
    cost_gbp_per_pupil_year: float
    description: str = ""
    worse_off_min_gt: float | None = None
    over_reasonable_max: bool | None = None
    ferry: bool | None = None
    moved: bool | None = None
    needs: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    source: str = "plan"

    @classmethod
    def from_config(cls, cfg: MitigationConfig, *, source: str = "plan") -> MitigationRule:
        """Build a rule from a plan's ``[[mitigation]]`` table."""
        return cls(
            name=cfg.name,
            what=cfg.what,
            cost_gbp_per_pupil_year=cfg.cost_gbp_per_pupil_year,
            description=cfg.description,
            worse_off_min_gt=cfg.worse_off_min_gt,
            over_reasonable_max=cfg.over_reasonable_max,
            ferry=cfg.ferry,
            moved=cfg.moved,
            needs=tuple(cfg.needs),
            phases=tuple(cfg.phases),
            source=source,
        )

    def who(self) -> str:
        """Describe who the rule is for in plain English.

        Examples
        --------
        >>> MitigationRule("a", "escort", 1.0, ferry=True, phases=("primary",)).who()
        'journey crosses by ferry; primary'
        """
        parts = []
        if self.moved is not None:
            parts.append(
                "placed differently from the baseline"
                if self.moved
                else "placed as in the baseline"
            )
        if self.worse_off_min_gt is not None:
            parts.append(f"journey more than {self.worse_off_min_gt:g} min longer")
        if self.over_reasonable_max is not None:
            parts.append(
                ("journey over" if self.over_reasonable_max else "journey within")
                + " the reasonable maximum"
            )
        if self.ferry is not None:
            parts.append("journey crosses by ferry" if self.ferry else "journey by road only")
        if self.needs:
            parts.append("need " + ", ".join(self.needs))
        if self.phases:
            parts.append(", ".join(p.replace("post16", "post-16") for p in self.phases))
        return "; ".join(parts)


#: The package's default rules (see the module docstring), used when a plan has none.
DEFAULT_RULES: tuple[MitigationRule, ...] = (
    MitigationRule(
        "Much longer journey: stay",
        "stay_in_current_placement",
        0.0,
        "The family is offered to keep the current placement and its transport; the move (and "
        "the placement saving counted for it) does not happen unless they choose it.",
        worse_off_min_gt=15.0,
        moved=True,
        source="default",
    ),
    MitigationRule(
        "Longer journey, secondary and post-16: travel training",
        "travel_training",
        1500.0,
        "Independent travel training for the new route where the pupil's needs allow it.",
        worse_off_min_gt=5.0,
        phases=("secondary", "post16"),
        source="default",
    ),
    MitigationRule(
        "Longer journey: route change",
        "route_change",
        500.0,
        "The shared transport route is re-planned so the pupil's journey stays as short as "
        "before where possible.",
        worse_off_min_gt=5.0,
        source="default",
    ),
    MitigationRule(
        "Over the reasonable maximum by ferry: escort",
        "escort",
        4000.0,
        "A passenger assistant for the ferry crossing and mainland leg.",
        over_reasonable_max=True,
        ferry=True,
        source="default",
    ),
    MitigationRule(
        "Over the reasonable maximum by road: personal travel budget",
        "personal_travel_budget",
        2500.0,
        "A personal travel budget so the family can make a shorter direct journey.",
        over_reasonable_max=True,
        ferry=False,
        source="default",
    ),
)


def plan_rules(configs: Sequence[MitigationConfig]) -> tuple[MitigationRule, ...]:
    """Return the plan's rules in order, or :data:`DEFAULT_RULES` when it gives none.

    Parameters
    ----------
    configs
        The plan's ``mitigation`` list (``PlanConfig.mitigation``).

    Returns
    -------
    rules
        Rules with ``source`` ``"plan"`` (or the defaults, ``source`` ``"default"``).
    """
    if not configs:
        return DEFAULT_RULES
    return tuple(MitigationRule.from_config(c) for c in configs)


def match_rules(df_pupils: pd.DataFrame, rules: Sequence[MitigationRule]) -> pd.Series:
    """Return the first matching rule's name for each pupil (``""`` where none matches).

    Parameters
    ----------
    df_pupils
        One row per pupil with ``change_time_min`` (journey change in minutes, NaN = unknown),
        ``over_max`` (bool, journey over the reasonable maximum), ``ferry`` (bool), ``moved``
        (bool), ``need_type`` and ``phase``. INTERNAL (pupil-level); only counts leave.
    rules
        Rules in priority order.

    Returns
    -------
    rule
        Rule name per pupil, same index.

    Examples
    --------
    >>> df = pd.DataFrame({"change_time_min": [20.0, 6.0, 0.0], "over_max": [False, False, True],
    ...     "ferry": False, "moved": [True, True, False], "need_type": "ASD",
    ...     "phase": "primary"})
    >>> match_rules(df, DEFAULT_RULES).str[:20].tolist()
    ['Much longer journey:', 'Longer journey: rout', 'Over the reasonable ']
    """
    out = np.full(len(df_pupils), "", dtype=object)
    free = np.ones(len(df_pupils), dtype=bool)
    change = pd.to_numeric(df_pupils["change_time_min"], errors="coerce").to_numpy(dtype=float)
    flags = {
        k: df_pupils[k].fillna(False).astype(bool).to_numpy()
        for k in ("over_max", "ferry", "moved")
    }
    need = df_pupils["need_type"].astype(str).to_numpy()
    phase = df_pupils["phase"].astype(str).to_numpy()
    for rule in rules:
        hit = free.copy()
        if rule.worse_off_min_gt is not None:
            hit &= np.nan_to_num(change, nan=-np.inf) > rule.worse_off_min_gt
        for key, want in (
            ("over_max", rule.over_reasonable_max),
            ("ferry", rule.ferry),
            ("moved", rule.moved),
        ):
            if want is not None:
                hit &= flags[key] == want
        if rule.needs:
            hit &= np.isin(need, list(rule.needs))
        if rule.phases:
            hit &= np.isin(phase, list(rule.phases))
        out[hit] = rule.name
        free &= ~hit
    return pd.Series(out, index=df_pupils.index, name="mitigation_rule")


def mitigation_table(keys: pd.Series, rules: Sequence[MitigationRule]) -> pd.DataFrame:
    """Count and cost the pupils each rule covers.

    Parameters
    ----------
    keys
        Rule name per pupil, from :func:`match_rules` (``""`` = none).
    rules
        The rules, in priority order (one output row each, zero pupils included).

    Returns
    -------
    table
        :data:`MITIGATION_COLS`: ``pupils`` (not yet disclosure-controlled) and
        ``annual_cost_gbp`` = pupils × cost per pupil a year.

    Examples
    --------
    >>> t = mitigation_table(pd.Series(["a", "a", ""]), [MitigationRule("a", "escort", 100.0,
    ...     ferry=True)])
    >>> t[["rule", "pupils", "annual_cost_gbp"]].to_dict("records")
    [{'rule': 'a', 'pupils': 2, 'annual_cost_gbp': 200.0}]
    """
    counts = keys.value_counts()
    rows = []
    for r in rules:
        n = int(counts.get(r.name, 0))
        rows.append(
            (
                r.name,
                r.what,
                r.source,
                n,
                float(r.cost_gbp_per_pupil_year),
                float(n * r.cost_gbp_per_pupil_year),
                r.who(),
                r.description,
            )
        )
    return pd.DataFrame(rows, columns=list(MITIGATION_COLS))


def level_keys(
    baseline: pd.DataFrame, level: pd.DataFrame, prefix: str, rules: Sequence[MitigationRule]
) -> pd.Series:
    """First matching rule per pupil for one allocation, read against the baseline allocation.

    A level is what one allocation costs in mitigations: "longer" and ``moved`` compare each
    pupil with the **baseline** (so the levels of any two allocations can be differenced into a
    change, as the year-by-year table does), not with whatever the allocation was compared with.

    Parameters
    ----------
    baseline
        INTERNAL. An :attr:`placeplan.compute.impact.ImpactAssessment.per_pupil` whose
        ``baseline_*`` columns are the baseline allocation (the programme's assessment).
    level
        INTERNAL. A ``per_pupil`` frame (same pupils and index) holding the allocation to cost
        in its ``{prefix}_*`` columns: ``scenario`` of the programme's or a proposal's alone
        assessment, ``baseline`` of a contribution's (the programme without the proposal), or
        ``baseline`` of ``baseline`` itself (the baseline level: nobody longer or moved).
    prefix
        ``"scenario"`` or ``"baseline"``.
    rules
        Rules in priority order.

    Returns
    -------
    pandas.Series
        Rule name per pupil (``""`` = none), index of ``level``.

    Examples
    --------
    >>> base = pd.DataFrame({"baseline_time_min": [30.0, 80.0], "baseline_over": [False, True],
    ...     "baseline_route": ["road", "ferry"], "baseline_setting_id": ["S1", "OOA"],
    ...     "need_type": "ASD", "phase": "primary"})
    >>> level_keys(base, base, "baseline", DEFAULT_RULES).str[:13].tolist()
    ['', 'Over the reas']
    """
    inputs = pd.DataFrame(
        {
            "change_time_min": level[f"{prefix}_time_min"].astype(float).to_numpy()
            - baseline["baseline_time_min"].astype(float).to_numpy(),
            "over_max": level[f"{prefix}_over"].astype(bool).to_numpy(),
            "ferry": level[f"{prefix}_route"].astype(str).str.startswith("ferry").to_numpy(),
            "moved": level[f"{prefix}_setting_id"].astype(str).to_numpy()
            != baseline["baseline_setting_id"].astype(str).to_numpy(),
            "need_type": level["need_type"].to_numpy(),
            "phase": level["phase"].to_numpy(),
        },
        index=level.index,
    )
    return match_rules(inputs, rules)


def mitigation_change_table(
    before: pd.Series, after: pd.Series, rules: Sequence[MitigationRule], *, before_run: str
) -> pd.DataFrame:
    """Two levels' tables and their change (``run`` = ``before_run``, ``scenario``, ``change``).

    Parameters
    ----------
    before, after
        Rule names per pupil of the two levels (:func:`level_keys`).
    rules
        The rules, in priority order.
    before_run
        ``"baseline"``, or ``"without"`` for a proposal's contribution.

    Returns
    -------
    table
        ``run`` + :data:`MITIGATION_COLS`; the ``change`` rows are ``after - before`` in
        pupils and £ (not yet disclosure-controlled).

    Examples
    --------
    >>> r = [MitigationRule("e", "escort", 4000.0, ferry=True)]
    >>> t = mitigation_change_table(pd.Series(["e", "e"]), pd.Series(["e", ""]), r,
    ...     before_run="baseline")
    >>> t[["run", "pupils", "annual_cost_gbp"]].to_dict("records")[2]
    {'run': 'change', 'pupils': -1, 'annual_cost_gbp': -4000.0}
    """
    b, a = mitigation_table(before, rules), mitigation_table(after, rules)
    change = a.copy()
    for col in ("pupils", "annual_cost_gbp"):
        change[col] = a[col] - b[col]
    runs = ((b, before_run), (a, "scenario"), (change, "change"))
    out = pd.concat([t.assign(run=run) for t, run in runs], ignore_index=True)
    return out[["run", *MITIGATION_COLS]]
