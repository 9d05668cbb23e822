"""Placement flows: a pupil-level, year-by-year stock-flow model of where pupils are placed.

Each academic year from the baseline (the January 2026 census, academic year 2025/26) to the horizon
(default 2030/31) pupils age one year; leavers and ceased plans leave; pupils **stay** in their
setting unless their NC year leaves the setting's range (a phase transfer: into Reception, Year 3
where an infant school ends, Year 7, Year 12, ...) or their placement breaks down (a configurable
rate). New plans, transfers, breakdowns and pupils still without a place are then placed by a stated
policy (:data:`POLICY`), and places open from their opening year. Places freed by leavers and movers
are reused by the flow. Settled pupils move only when the scenario says so
(``movers = "transfers" | "out_of_area" | "any"``); such a move must improve the plan's aims (in
area before out of area, maintained before independent, then a shorter journey) and is never made
for cost; every move records the change of journey in minutes (``worse_off`` when longer).

The baseline run (no proposals, status-quo movers rule ``"transfers"``) and each scenario run use
the same pupils, the same new plans and the same random draws (common random numbers), so a scenario
with no new places and the default movers rule differs from the baseline by exactly zero.

Provision type and location are two separate dimensions: ``sen2_type`` is the DfE EHCP release's own
column name (``mainstream_la_maintained``, ``mainstream_academy_resourced_provision``,
``special_la_maintained``, ``special_independent``, ``ap_pru_la_maintained``,
``general_fe_tertiary_colleges``, ``specialist_post_16_institutions``, ...), and ``in_area`` says
whether the setting is inside the authority. They are counted as pairs, never merged.

Assumptions (each stated in the report's method section by the integrator):

- **Origins of new pupils.** A new plan (year, NC year, need) takes its home origin from a
  baseline pupil of the same need and phase drawn at random (seeded); same need any phase if none;
  any pupil if none. New plans therefore arise where current pupils with that need live.
- **New plans' kind of place** (``df_new_plan_mix``, from the release's mix by age,
  :func:`placeplan.compute.transitions.new_plan_mix`): drawn by the published share at the plan's
  NC year among mainstream, specialist (state), independent (independent or non-maintained
  special school), AP and other, over the kinds some setting offers at that NC year; without a
  mix, the donor pupil's kind (:func:`placeplan.compute.flows_kinds.new_plan_kinds`). Within its
  kind the policy places the plan, so a specialist plan takes a maintained place while one is
  free and an independent or non-maintained place when none is; an independent plan takes an
  independent or non-maintained place in its first year, and after that the policy decides.
- **Kinds of place at a transfer.** A transferring pupil keeps their setting's kind unless the
  transition rates (``df_transitions``, :func:`placeplan.compute.transitions.
  phase_transfer_rates`) move them, with one draw per pupil and year shared by every run;
  ``FlowParams.kind_moves = "any_year"`` applies the same rates to settled pupils each year. A pupil
  whose kind no setting offers at their NC year (AP after 16) takes the published mix at that age
  (:func:`placeplan.compute.flows_kinds.unoffered_kinds`).
- **Who is placed first.** Pupils to be placed in a year are placed one at a time in a seeded random
  order (a lottery): each takes the best free place under the policy.
- **Capacity.** A setting never admits a pupil when it is full (``places`` reached); settings
  already over their places at the baseline keep their pupils. ``places`` NaN means no limit (use
  it for mainstream schools and for the independent / out-of-area market).
- **Costs.** Placement £ = the setting's annual cost per place; transport £ = pupil-miles (one way)
  × £/mile × 2 × school days, for pupils eligible for transport only (assisted already, or living
  beyond the walking distance for their age: :func:`placeplan.compute.flows_kinds.
  transport_eligible`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.compute.flows_kinds import (
    GROUPS,
    admitted_kinds,
    mix_table,
    new_plan_kinds,
    offered_by_nc_year,
    settled_kinds,
    transfer_kinds,
    transition_table,
    transport_eligible,
    unoffered_kinds,
)
from placeplan.compute.flows_table import constant_new_plans, flow_table
from placeplan.needs import NEED_CODES, split_codes
from placeplan.vocab import KM_PER_MILE

__all__ = [
    "INDEPENDENT_NON_MAINTAINED_TYPES",
    "MEASURES",
    "NON_STATE_TYPES",
    "OOA_RELIANCE",
    "PATHS",
    "POLICY",
    "FlowParams",
    "FlowResult",
    "FlowRun",
    "FlowScenario",
    "Proposal",
    "academic_year",
    "constant_new_plans",
    "flow_table",
    "placement_group",
    "simulate_flows",
]

logger = logging.getLogger(__name__)

OOA_RELIANCE = """Reliance on out-of-area placements.

The number of pupils in the cohort placed, at the January census of the academic year, in a setting
outside the authority's area (``in_area`` is False), whatever its provision type (maintained,
academy, independent, non-maintained, college, ...). Measure ``out_of_area``; its share of all
placed pupils in the cohort is ``out_of_area_pct``. Independent and non-maintained special
placements are a separate measure (``independent_non_maintained``), in or out of area, as in SEN2.
"""

POLICY = """Placement policy (default order).

A pupil to be placed may take a setting that (1) serves their need (empty ``needs`` = any), (2)
serves their NC year, (3) offers their kind of place (:func:`placement_group`), (4) is open with a
free place that year and (5) is reachable in the journey table. Among those, they take the first by
``policy_order``: by default in area before out of area, maintained (state-funded) before
independent / non-maintained (:data:`NON_STATE_TYPES`), then the shortest journey time. Cost is
never a criterion. With no such place the pupil is counted ``unplaced`` and tried again next year.
"""

#: SEN2 provision types counted by the ``independent_non_maintained`` measure (as in SEN2).
INDEPENDENT_NON_MAINTAINED_TYPES: frozenset[str] = frozenset(
    {"special_independent", "special_non_maintained"}
)

#: SEN2 provision types ranked after state-funded ones by the "maintained" policy criterion.
NON_STATE_TYPES: frozenset[str] = frozenset(
    {
        "special_independent",
        "special_non_maintained",
        "mainstream_independent",
        "specialist_post_16_institutions",
    }
)

#: The new-plan paths, each a column of the new-plans table.
PATHS: tuple[str, ...] = ("central", "lower", "upper")

#: Measures reported per year and run, with their meaning (units in the names).
MEASURES: dict[str, str] = {
    "cohort": "pupils with a plan in the cohort (placed + unplaced)",
    "placed": "pupils placed in a setting",
    "unplaced": "pupils with no compatible free place this year",
    "new_plans": "new plans entering the cohort this year",
    "transfers": "pupils placed at a phase transfer this year",
    "breakdowns": "pupils re-placed after a placement breakdown (or, with kind_moves = "
    "'any_year', a move between kinds of place) this year",
    "leavers": "pupils leaving this year at the leaving age",
    "ceased": "plans ceased this year (other than at the leaving age)",
    "out_of_area": "placements outside the authority (see OOA_RELIANCE)",
    "out_of_area_pct": "out_of_area as a percentage of placed pupils",
    "independent_non_maintained": "placements in special_independent or special_non_maintained",
    "journey_time_total_min": "sum of one-way journey times, minutes",
    "journey_time_mean_min": "mean one-way journey time, minutes",
    "distance_total_km": "sum of one-way journey distances, km",
    "distance_mean_km": "mean one-way journey distance, km",
    "over_max_journey": "pupils whose journey exceeds the reasonable maximum for their phase",
    "ferry_journeys": "pupils whose journey uses a ferry",
    "placement_cost_gbp": "annual placement cost, £",
    "transport_cost_gbp": "annual transport cost, £ (pupil-miles × £/mile × 2 × school days)",
    "worse_off": "pupils whose journey is more than `worse_off_min` min longer than in the "
    "baseline run in the same year (scenario runs; 0 in the baseline run)",
    "movers": "settled pupils moved this year by the scenario's movers rule",
    "movers_worse_off": "movers whose journey became longer by the move",
    "movers_extra_time_total_min": "total minutes added to movers' journeys by longer moves",
    "movers_journey_time_mean_min": "movers' mean journey time after the move, minutes",
}

_PLACED_TYPES_PREFIX = "placements:"  # placements:<sen2_type>:<in_area|out_of_area>

Movers = Literal["transfers", "out_of_area", "any"]

_OUT = -2  # not (yet / any longer) in the cohort
_UNPLACED = -1
_TRANSITION_COLS = ["from_group", "to_group", "nc_year", "rate"]
_KEY_SCALE = 1.0e6  # journey times are far below this, so ranks dominate the sort key

_GROUP_RULES: tuple[tuple[str, str], ...] = (
    ("_resourced_provision", "specialist"),
    ("_senunit", "specialist"),
    ("special_", "specialist"),
    ("specialist_post_16_institutions", "specialist"),
    ("mainstream_", "mainstream"),
    ("general_fe_tertiary_colleges", "fe"),
    ("fe_", "fe"),
    ("ukrlp_provider", "fe"),
    ("ap_pru_", "ap"),
)


def placement_group(sen2_type: str) -> str:
    """Return the kind of place a SEN2 provision type offers (one of :data:`GROUPS`).

    Resourced provision, SEN units, special schools (maintained, academy, independent,
    non-maintained) and specialist post-16 institutions are ``specialist``; other mainstream schools
    ``mainstream``; general FE and tertiary colleges and other post-16 providers (UKRLP) ``fe``
    (a kind of their own: most young people with a plan move from school to college at 16 or 18,
    and the release's by-age tables show how many, so a school sixth form nearer home must not
    stand in for a college place); AP and PRUs ``ap``; anything else (home education, other
    arrangements, ...) ``other``. A transfer keeps the group unless transition rates say.

    Parameters
    ----------
    sen2_type
        A DfE EHCP release placement column name.

    Returns
    -------
    group
        ``"mainstream"``, ``"specialist"``, ``"ap"``, ``"other"`` or ``"fe"``.

    Examples
    --------
    >>> placement_group("mainstream_academy_resourced_provision")
    'specialist'
    >>> placement_group("mainstream_la_maintained"), placement_group("ap_pru_academy")
    ('mainstream', 'ap')
    >>> placement_group("general_fe_tertiary_colleges")
    'fe'
    """
    t = str(sen2_type)
    for pattern, group in _GROUP_RULES:
        if pattern in t if pattern.startswith("_") else t.startswith(pattern):
            return group
    return "other"


def academic_year(start_year: int) -> str:
    """Return the academic-year label of the year starting in September ``start_year``.

    Examples
    --------
    >>> academic_year(2025)
    '2025/26'
    """
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def _start_year(value: object) -> int:
    """Parse ``2026``, ``"2026"``, ``"2026/27"`` or ``"202627"`` to the starting calendar year."""
    text = str(value).strip()
    if "/" in text:
        text = text.split("/", 1)[0]
    if len(text) == 6 and text.isdigit():  # DfE time_period 202526
        text = text[:4]
    try:
        return int(float(text))
    except ValueError:
        msg = f"`year` {value!r} is not an academic year; give 2026, '2026/27' or 202627"
        raise SchemaValidationError(msg) from None


@dataclass(frozen=True, slots=True)
class Proposal:
    """New places at one site (a new inclusion base or special school, or an expansion).

    Parameters
    ----------
    site_id
        The site; must have rows in the journey table. If it is an existing ``setting_id`` the
        places are added to that setting (its needs, NC years and type are kept).
    places
        Places when fully open.
    opening_year
        Calendar year the academic year of opening starts (2027 = opens September 2027, 2027/28).
    needs
        Need codes served; empty = any need.
    nc_year_min, nc_year_max
        NC years served (Reception = 0).
    sen2_type
        DfE release provision type, e.g. ``mainstream_la_maintained_resourced_provision``.
    in_area
        Whether the site is inside the authority.
    cost_per_place_gbp
        Annual cost per place; ``None`` uses the existing setting's (required for a new site).
    places_by_year
        Optional ramp-up: places available by academic start year from the opening year (e.g.
        ``{2027: 4, 2028: 8}``); later years keep the last value, capped by ``places``.

    Examples
    --------
    >>> Proposal("B1", places=10, opening_year=2027, needs=("ASD",), cost_per_place_gbp=20_000)
    ... # doctest: +ELLIPSIS
    Proposal(site_id='B1', places=10, opening_year=2027, ...)
    """

    site_id: str
    places: int
    opening_year: int
    needs: tuple[str, ...] = ()
    nc_year_min: int = 0
    nc_year_max: int = 14
    sen2_type: str = "mainstream_la_maintained_resourced_provision"
    in_area: bool = True
    cost_per_place_gbp: float | None = None
    places_by_year: Mapping[int, int] = field(default_factory=dict)

    def places_in(self, year: int) -> int:
        """Return the places this proposal adds in the academic year starting ``year``."""
        if year < self.opening_year:
            return 0
        given = [y for y in self.places_by_year if y <= year]
        if not given:
            return self.places
        return min(self.places, int(self.places_by_year[max(given)]))


@dataclass(frozen=True, slots=True)
class FlowScenario:
    """A scenario: proposals (places added from their opening year) and who may move.

    Parameters
    ----------
    name
        Scenario name (``"baseline"`` is reserved).
    proposals
        New places.
    movers
        ``"transfers"`` (default): settled pupils never move; only new plans, phase transfers and
        breakdowns are placed. ``"out_of_area"``: settled pupils placed out of area may also move
        to a better place (by the policy). ``"any"``: any settled pupil may move to a better place.

    Examples
    --------
    >>> FlowScenario("one base", (Proposal("B1", 10, 2027, cost_per_place_gbp=2e4),)).movers
    'transfers'
    """

    name: str
    proposals: tuple[Proposal, ...] = ()
    movers: Movers = "transfers"


@dataclass(frozen=True, slots=True)
class FlowParams:
    """Parameters of the flow model (every one printed in the report).

    Parameters
    ----------
    base_year
        Start year of the baseline academic year (2025 = 2025/26, the January 2026 census).
    horizon_year
        Start year of the last academic year modelled (2030 = 2030/31).
    leaving_nc_year
        Highest NC year a plan runs to; a pupil whose NC year passes it leaves (20 ≈ age 25).
    ceased_rate
        Annual probability a plan ceases other than at the leaving age (default 0).
    ceased_rate_by_nc_year
        Overrides ``ceased_rate`` by NC year (e.g. higher at 11 and 13); from SEN2 ceased plans.
    breakdown_rate
        Annual probability a settled placement breaks down and the pupil is re-placed (default 0).
    policy_order
        Order of the placement criteria: any order of ``"in_area"`` and ``"maintained"`` (either may
        be left out), then ``"time"`` last.
    max_journey_primary_min, max_journey_secondary_min
        Reasonable maximum one-way journey for NC years up to 6 and from 7.
    transport_cost_per_mile_gbp, school_days
        Transport £ = one-way miles × £/mile × 2 × school days, for pupils eligible for transport
        (:func:`placeplan.compute.flows_kinds.transport_eligible`).
    worse_off_min
        A journey more than this many minutes longer than in the baseline run counts as worse off.
    seeds
        Random seeds; each path is run once per seed and the results pooled into the ranges.
    walking_distance_under8_miles, walking_distance_8plus_miles
        Statutory walking distances (Education Act 1996 s.444, Schedule 35B) by age on
        1 September (:func:`placeplan.compute.impact.transport_policy`): a pupil of compulsory
        school age living further away is eligible for transport.
    post16_walking_distance_miles
        The authority's distance for post-16 and 19-25 learners; ``None`` (default): eligible
        only when the cohort says they are assisted (``transport_assisted``).
    kind_moves
        When the transition rates (``df_transitions`` of :func:`simulate_flows`) move a pupil
        between kinds of place: ``"transfer"`` (default) at a phase transfer only;
        ``"any_year"`` also a settled pupil in any year (re-placed and counted as a breakdown),
        as the release's cohorts move from mainstream to special and independent schools
        between transfers.
    """

    base_year: int = 2025
    horizon_year: int = 2030
    leaving_nc_year: int = 20
    ceased_rate: float = 0.0
    ceased_rate_by_nc_year: Mapping[int, float] = field(default_factory=dict)
    breakdown_rate: float = 0.0
    policy_order: tuple[str, ...] = ("in_area", "maintained", "time")
    max_journey_primary_min: float = 45.0
    max_journey_secondary_min: float = 75.0
    transport_cost_per_mile_gbp: float = 2.5
    school_days: int = 190
    worse_off_min: float = 5.0
    seeds: tuple[int, ...] = (0,)
    walking_distance_under8_miles: float = 2.0
    walking_distance_8plus_miles: float = 3.0
    post16_walking_distance_miles: float | None = None
    kind_moves: Literal["transfer", "any_year"] = "transfer"

    def __post_init__(self) -> None:
        problems = []
        if self.horizon_year < self.base_year:
            problems.append(
                f"`horizon_year` ({self.horizon_year}) is before `base_year` ({self.base_year})"
            )
        rates = {"ceased_rate": self.ceased_rate, "breakdown_rate": self.breakdown_rate}
        rates |= {f"ceased_rate_by_nc_year[{k}]": v for k, v in self.ceased_rate_by_nc_year.items()}
        problems += [
            f"`{k}` must be in [0, 1], got {v!r}" for k, v in rates.items() if not 0 <= v <= 1
        ]
        order = tuple(self.policy_order)
        if (
            not order
            or order[-1] != "time"
            or len(set(order)) != len(order)
            or not set(order) <= {"in_area", "maintained", "time"}
        ):
            problems.append(
                f"`policy_order` must list 'in_area' and/or 'maintained' in any order, then 'time' "
                f"last, e.g. ('in_area', 'maintained', 'time'); got {order!r}"
            )
        if self.kind_moves not in ("transfer", "any_year"):
            problems.append(
                f"`kind_moves` must be 'transfer' or 'any_year', got {self.kind_moves!r}"
            )
        if not self.seeds:
            problems.append("`seeds` is empty: give at least one seed, e.g. (0,)")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def years(self) -> tuple[int, ...]:
        """Academic start years modelled, baseline first."""
        return tuple(range(self.base_year, self.horizon_year + 1))


@dataclass(frozen=True, slots=True)
class FlowRun:
    """One run: a scenario (or ``"baseline"``) under one new-plan path and seed.

    Attributes
    ----------
    scenario, path, seed
        What was run.
    measures
        ``year, measure, value`` (``year`` as ``"2025/26"``); see :data:`MEASURES`, plus
        ``placements:<sen2_type>:<in_area|out_of_area>`` counts.
    pupils
        INTERNAL ONLY (personal data): ``pupil_ref, year, status, setting_id, time_min,
        distance_km, change_vs_baseline_min, origin_id, need, nc_year`` per pupil and year;
        ``status`` is one of
        ``placed, unplaced, left, ceased`` (rows only while the pupil is in or leaving the cohort).
    moves
        INTERNAL ONLY: settled pupils moved by the movers rule: ``pupil_ref, year, from_setting_id,
        to_setting_id, before_min, after_min, extra_min, worse_off``.
    """

    scenario: str
    path: str
    seed: int
    measures: pd.DataFrame
    pupils: pd.DataFrame
    moves: pd.DataFrame


@dataclass(frozen=True, slots=True)
class FlowResult:
    """All runs of :func:`simulate_flows`; :func:`flow_table` turns it into the published table."""

    runs: tuple[FlowRun, ...]
    params: FlowParams
    scenarios: tuple[str, ...]


# -- inputs --------------------------------------------------------------------------------------
def _require(df: pd.DataFrame, name: str, cols: Sequence[str], problems: list[str]) -> bool:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        problems.append(f"`{name}` lacks column(s) {missing}; expected {list(cols)}")
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Inputs:
    setting_ids: np.ndarray  # str, S
    sen2_type: np.ndarray  # str, S
    group: np.ndarray  # int, S
    in_area: np.ndarray  # bool, S
    non_state: np.ndarray  # bool, S
    indep_nm: np.ndarray  # bool, S
    lo: np.ndarray  # int, S
    hi: np.ndarray  # int, S
    need_ok: np.ndarray  # bool, S x n_needs
    cost: np.ndarray  # float, S
    base_places: np.ndarray  # float, S (inf = no limit)
    origin_ids: np.ndarray  # str, O
    time_min: np.ndarray  # float, O x S (NaN unreachable)
    dist_km: np.ndarray  # float, O x S
    ferry: np.ndarray  # bool, O x S
    groups: tuple[str, ...]


def _prepare(
    df_cohort: pd.DataFrame,
    df_settings: pd.DataFrame,
    df_journeys: pd.DataFrame,
    scenarios: Sequence[FlowScenario],
) -> tuple[_Inputs, pd.DataFrame]:
    problems: list[str] = []
    ok = _require(
        df_cohort,
        "df_cohort",
        ["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
        problems,
    )
    ok &= _require(
        df_settings,
        "df_settings",
        ["setting_id", "sen2_type", "in_area", "needs", "nc_year_min", "nc_year_max", "places"],
        problems,
    )
    ok &= _require(
        df_journeys, "df_journeys", ["origin_id", "setting_id", "time_min", "distance_km"], problems
    )
    if not ok:
        raise SchemaValidationError("; ".join(problems))
    st = df_settings.copy()
    st["setting_id"] = st["setting_id"].astype(str)
    if st["setting_id"].duplicated().any():
        problems.append(
            f"`df_settings.setting_id` has {int(st['setting_id'].duplicated().sum())} duplicate(s)"
        )
    cost_col = "cost_per_place_gbp"
    if cost_col not in st:
        st[cost_col] = 0.0
    names = {s.name for s in scenarios}
    if "baseline" in names or len(names) != len(scenarios):
        problems.append("scenario names must be unique and not 'baseline'")
    extra = []
    known = set(st["setting_id"])
    for sc in scenarios:
        for p in sc.proposals:
            if p.site_id in known:
                continue
            if p.cost_per_place_gbp is None:
                problems.append(
                    f"proposal `{p.site_id}` in scenario `{sc.name}` is a new site: give "
                    "`cost_per_place_gbp`"
                )
            known.add(p.site_id)
            extra.append(
                {
                    "setting_id": p.site_id,
                    "sen2_type": p.sen2_type,
                    "in_area": p.in_area,
                    "needs": ";".join(p.needs),
                    "nc_year_min": p.nc_year_min,
                    "nc_year_max": p.nc_year_max,
                    "places": 0.0,
                    cost_col: p.cost_per_place_gbp or 0.0,
                }
            )
    if extra:
        st = pd.concat([st, pd.DataFrame(extra)], ignore_index=True)
    coh = df_cohort.copy()
    coh["pupil_ref"] = coh["pupil_ref"].astype(str)
    coh["origin_id"] = coh["origin_id"].astype(str)
    coh["setting_id"] = coh["setting_id"].astype("string")
    if coh["pupil_ref"].duplicated().any():
        problems.append(
            f"`df_cohort.pupil_ref` has {int(coh['pupil_ref'].duplicated().sum())} duplicate(s)"
        )
    if "placement_group" in coh:
        bad_group = coh["placement_group"].notna() & ~coh["placement_group"].isin(GROUPS)
        if bad_group.any():
            problems.append(
                f"`df_cohort.placement_group`: {int(bad_group.sum())} row(s) not one of "
                + ", ".join(GROUPS)
            )
    bad_need = ~coh["need"].isin(NEED_CODES)
    if bad_need.any():
        problems.append(
            f"`df_cohort.need`: {int(bad_need.sum())} row(s) are not SEN2 need codes "
            f"{list(NEED_CODES)}; normalise with placeplan.needs.normalise_need"
        )
    unknown = coh["setting_id"].notna() & ~coh["setting_id"].isin(st["setting_id"])
    if unknown.any():
        problems.append(
            f"`df_cohort.setting_id`: {int(unknown.sum())} pupil(s) at settings missing from "
            "`df_settings`; add those settings (out-of-area ones too)"
        )
    if problems:
        raise SchemaValidationError("; ".join(problems))

    setting_ids = st["setting_id"].to_numpy(dtype=object)
    sen2 = st["sen2_type"].astype(str).to_numpy(dtype=object)
    group = np.array([GROUPS.index(placement_group(t)) for t in sen2], dtype=np.int64)
    need_ok = np.zeros((len(st), len(NEED_CODES)), dtype=bool)
    for i, val in enumerate(st["needs"].to_numpy(dtype=object)):
        codes = split_codes(val)
        if not codes:
            need_ok[i] = True
        else:
            need_ok[i] = [c in codes for c in NEED_CODES]
    places = pd.to_numeric(st["places"], errors="coerce").to_numpy(dtype=float)
    places = np.where(np.isnan(places), np.inf, places)

    jr = df_journeys.copy()
    jr["origin_id"] = jr["origin_id"].astype(str)
    jr["setting_id"] = jr["setting_id"].astype(str)
    origins = np.array(sorted(set(jr["origin_id"]) | set(coh["origin_id"])), dtype=object)
    o_idx = pd.Index(origins)
    s_idx = pd.Index(setting_ids)
    oi = o_idx.get_indexer(jr["origin_id"])
    si = s_idx.get_indexer(jr["setting_id"])
    keep = si >= 0
    tmat = np.full((len(origins), len(setting_ids)), np.nan)
    dmat = np.full_like(tmat, np.nan)
    fmat = np.zeros(tmat.shape, dtype=bool)
    tmat[oi[keep], si[keep]] = jr["time_min"].to_numpy(dtype=float)[keep]
    dmat[oi[keep], si[keep]] = jr["distance_km"].to_numpy(dtype=float)[keep]
    if "ferry" in jr:
        fmat[oi[keep], si[keep]] = jr["ferry"].fillna(False).to_numpy(dtype=bool)[keep]
    inp = _Inputs(
        setting_ids=setting_ids,
        sen2_type=sen2,
        group=group,
        in_area=st["in_area"].astype(bool).to_numpy(),
        non_state=np.isin(sen2, list(NON_STATE_TYPES)),
        indep_nm=np.isin(sen2, list(INDEPENDENT_NON_MAINTAINED_TYPES)),
        lo=st["nc_year_min"].astype(int).to_numpy(),
        hi=st["nc_year_max"].astype(int).to_numpy(),
        need_ok=need_ok,
        cost=pd.to_numeric(st[cost_col], errors="coerce").fillna(0.0).to_numpy(dtype=float),
        base_places=places,
        origin_ids=origins,
        time_min=tmat,
        dist_km=dmat,
        ferry=fmat,
        groups=GROUPS,
    )
    return inp, coh


# -- population ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Population:
    ref: np.ndarray  # str, N
    need: np.ndarray  # int index into NEED_CODES
    origin: np.ndarray  # int index into origin_ids
    group: np.ndarray  # int index into groups
    nc0: np.ndarray  # NC year in the entry year
    entry: np.ndarray  # year index of entry (0 = baseline)
    setting0: np.ndarray  # baseline setting index, -1 if none
    u_cease: np.ndarray  # N x Y
    u_break: np.ndarray  # N x Y
    u_order: np.ndarray  # N x Y
    u_trans: np.ndarray  # N x Y, transition draw at a phase transfer
    trans_cum: np.ndarray  # groups x NC x groups (flows_kinds.transition_table)
    assisted: np.ndarray  # bool N, known to be assisted with transport
    offered: np.ndarray  # kinds x NC slots (flows_kinds.offered_by_nc_year)
    mix: np.ndarray | None  # NC slots x kinds, published mix where offered (flows_kinds.mix_table)


def _phase_band(nc: np.ndarray) -> np.ndarray:
    return np.where(nc <= 6, 0, np.where(nc <= 11, 1, 2))


def _population(
    coh: pd.DataFrame,
    inp: _Inputs,
    df_new_plans: pd.DataFrame,
    *,
    path: str,
    seed: int,
    params: FlowParams,
    mix: pd.DataFrame | None = None,
    transitions: pd.DataFrame | None = None,
) -> _Population:
    n_years = len(params.years)
    s_idx = pd.Index(inp.setting_ids)
    base_setting = s_idx.get_indexer(pd.Index(coh["setting_id"].fillna("\x00").astype(str)))
    need = pd.Index(NEED_CODES).get_indexer(pd.Index(coh["need"]))
    origin = pd.Index(inp.origin_ids).get_indexer(pd.Index(coh["origin_id"]))
    nc = coh["nc_year"].astype(int).to_numpy()
    if "placement_group" in coh:
        given = coh["placement_group"].astype("string").fillna("mainstream").to_numpy(dtype=str)
        wanted = np.array([inp.groups.index(g) for g in given], dtype=np.int64)
    else:
        wanted = np.full(len(coh), inp.groups.index("mainstream"), dtype=np.int64)
    group = np.where(base_setting >= 0, inp.group[np.maximum(base_setting, 0)], wanted)
    n0 = len(coh)
    rng0 = np.random.default_rng([seed, 0])
    u0 = rng0.random((4, n0, n_years))
    # new pupils for this path
    rng = np.random.default_rng([seed, 1 + PATHS.index(path)])
    np_ = df_new_plans
    years = np_["year"].map(_start_year).to_numpy()
    counts = np.rint(pd.to_numeric(np_[path], errors="coerce").fillna(0.0).to_numpy()).astype(int)
    sel = (years > params.base_year) & (years <= params.horizon_year) & (counts > 0)
    rows = (
        np_.loc[sel, ["nc_year", "need"]]
        .assign(_y=years[sel], _n=counts[sel], nc_year=lambda d: d["nc_year"].astype(int))
        .groupby(["_y", "nc_year", "need"], sort=True, as_index=False)["_n"]
        .sum()
    )
    refs: list[str] = []
    needs_: list[np.ndarray] = []
    origins_: list[np.ndarray] = []
    donors_: list[np.ndarray] = []
    ncs: list[np.ndarray] = []
    entries: list[np.ndarray] = []
    band0 = _phase_band(nc)
    pools: dict[tuple[int, int], np.ndarray] = {}
    for y, nc_y, nd, k in rows[["_y", "nc_year", "need", "_n"]].itertuples(index=False):
        ni = NEED_CODES.index(str(nd))
        band = int(_phase_band(np.array([nc_y]))[0])
        pool = pools.get((ni, band))
        if pool is None:
            pool = np.flatnonzero((need == ni) & (band0 == band))
            if pool.size == 0:
                pool = np.flatnonzero(need == ni)
            if pool.size == 0:
                pool = np.arange(n0)
            pools[(ni, band)] = pool
        donors = rng.choice(pool, size=int(k), replace=True)
        start = len(refs)
        refs += [f"new-{y}-{nd}-{nc_y}-{start + j}" for j in range(int(k))]
        needs_.append(np.full(k, ni))
        origins_.append(origin[donors])
        donors_.append(donors)
        ncs.append(np.full(k, nc_y))
        entries.append(np.full(k, int(y) - params.base_year))
    n1 = len(refs)
    u1 = rng.random((4, n1, n_years))

    def cat(base: np.ndarray, new: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([base, *new]) if new else base

    donor = cat(np.zeros(0, dtype=np.int64), donors_)
    offered = offered_by_nc_year(admitted_kinds(inp.group, inp.indep_nm), inp.lo, inp.hi)
    new_kind = group[donor]  # a new plan's kind: the published mix at its NC year, else a donor's
    if mix is not None and n1:
        u_kind = np.random.default_rng([seed, 10 + PATHS.index(path)]).random(n1)
        new_kind = new_plan_kinds(mix, cat(np.zeros(0, int), ncs), new_kind, offered, u_kind)
    given_assisted = coh.get("transport_assisted", pd.Series(False, index=coh.index))
    assisted = given_assisted.fillna(False).astype(bool).to_numpy()

    return _Population(
        ref=np.concatenate([coh["pupil_ref"].to_numpy(dtype=object), np.array(refs, dtype=object)]),
        need=cat(need, needs_),
        origin=cat(origin, origins_),
        group=np.concatenate([group, new_kind]),
        nc0=cat(nc, ncs),
        entry=cat(np.zeros(n0, dtype=int), entries),
        setting0=np.concatenate([base_setting, np.full(n1, -1)]),
        u_cease=np.concatenate([u0[0], u1[0]]),
        u_break=np.concatenate([u0[1], u1[1]]),
        u_order=np.concatenate([u0[2], u1[2]]),
        u_trans=np.concatenate([u0[3], u1[3]]),
        trans_cum=transition_table(
            transitions if transitions is not None else pd.DataFrame(columns=_TRANSITION_COLS),
            offered,
        ),
        assisted=np.concatenate([assisted, assisted[donor]]),
        offered=offered,
        mix=mix_table(mix, offered),
    )


# -- simulation ----------------------------------------------------------------------------------
def _places_by_year(inp: _Inputs, sc: FlowScenario | None, years: Sequence[int]) -> np.ndarray:
    out = np.repeat(inp.base_places[:, None], len(years), axis=1)
    if sc is None:
        return out
    s_idx = pd.Index(inp.setting_ids)
    for p in sc.proposals:
        i = int(s_idx.get_loc(p.site_id))
        out[i] += np.array([p.places_in(y) for y in years], dtype=float)
    return out


def _rank(inp: _Inputs, order: Sequence[str]) -> np.ndarray:
    rank = np.zeros(len(inp.setting_ids))
    crit = [c for c in order if c != "time"]
    for pos, c in enumerate(crit):
        bad = ~inp.in_area if c == "in_area" else inp.non_state
        rank += bad * 2.0 ** (len(crit) - 1 - pos)
    return rank


@dataclass(slots=True)
class _Trace:
    setting: np.ndarray  # N x Y, setting index / _UNPLACED / _OUT
    status: np.ndarray  # N x Y, small int codes
    counts: dict[str, np.ndarray]
    moves: list[tuple[int, int, int, int, float, float]]


_ST_OUT, _ST_PLACED, _ST_UNPLACED, _ST_LEFT, _ST_CEASED = 0, 1, 2, 3, 4
_STATUS_NAMES = {
    _ST_PLACED: "placed",
    _ST_UNPLACED: "unplaced",
    _ST_LEFT: "left",
    _ST_CEASED: "ceased",
}


def _run(
    pop: _Population,
    inp: _Inputs,
    places: np.ndarray,
    params: FlowParams,
    movers: Movers,
) -> _Trace:
    n, n_years = pop.ref.size, len(params.years)
    rank = _rank(inp, params.policy_order)
    kind, admits = pop.group.copy(), admitted_kinds(inp.group, inp.indep_nm)  # see flows_kinds
    setting = np.full((n, n_years), _OUT, dtype=np.int64)
    status = np.zeros((n, n_years), dtype=np.int8)
    counts = {
        k: np.zeros(n_years) for k in ("new_plans", "transfers", "breakdowns", "leavers", "ceased")
    }
    moves: list[tuple[int, int, int, int, float, float]] = []
    cease_rate = np.full(64, params.ceased_rate)
    for k, v in params.ceased_rate_by_nc_year.items():
        cease_rate[int(k) + 2] = v  # NC years from -2

    def key_matrix(rows: np.ndarray, nc: np.ndarray) -> np.ndarray:
        t = inp.time_min[pop.origin[rows]]
        ok = (
            admits[kind[rows]]
            & inp.need_ok[:, pop.need[rows]].T
            & (inp.lo[None, :] <= nc[:, None])
            & (nc[:, None] <= inp.hi[None, :])
            & ~np.isnan(t)
        )
        return np.where(ok, rank[None, :] * _KEY_SCALE + t, np.inf)

    for t in range(n_years):
        nc = pop.nc0 + (t - pop.entry)
        if t == 0:
            present = pop.entry == 0
            cur = np.where(present, pop.setting0, _OUT)
            to_place = present & (pop.setting0 < 0)
            exclude = np.full(n, -1)
        else:
            prev = setting[:, t - 1]
            was_in = prev != _OUT
            leaving = was_in & (nc > params.leaving_nc_year)
            ceasing = was_in & ~leaving & (pop.u_cease[:, t] < cease_rate[np.clip(nc + 2, 0, 63)])
            status[leaving, t] = _ST_LEFT
            status[ceasing, t] = _ST_CEASED
            counts["leavers"][t] = leaving.sum()
            counts["ceased"][t] = ceasing.sum()
            stays = was_in & ~leaving & ~ceasing
            placed_prev = stays & (prev >= 0)
            p0 = np.maximum(prev, 0)
            transfer = placed_prev & ((nc < inp.lo[p0]) | (nc > inp.hi[p0]))
            breakdown = placed_prev & ~transfer & (pop.u_break[:, t] < params.breakdown_rate)
            kind = settled_kinds(kind, placed_prev, inp.group[p0], was_in)
            drawn = transfer_kinds(kind, nc, pop.u_trans[:, t], pop.trans_cum)
            shift = placed_prev & ~transfer & (drawn != kind) & (params.kind_moves == "any_year")
            breakdown |= shift  # a move between kinds of place re-places the pupil
            kind = np.where(transfer | shift, drawn, kind)
            new = pop.entry == t
            counts["transfers"][t] = transfer.sum()
            counts["breakdowns"][t] = breakdown.sum()
            counts["new_plans"][t] = new.sum()
            cur = np.where(placed_prev & ~transfer & ~breakdown, prev, _OUT)
            to_place = (stays & (prev == _UNPLACED)) | transfer | breakdown | new
            # a kind no setting offers at the pupil's NC year (AP after 16) takes the age's mix
            moving = np.flatnonzero(to_place & ~new)
            kind[moving] = unoffered_kinds(
                kind[moving], nc[moving], pop.offered, pop.mix, pop.u_trans[moving, t]
            )
            exclude = np.where(breakdown, prev, -1)
        occ = np.bincount(cur[cur >= 0], minlength=len(inp.setting_ids)).astype(float)
        free = places[:, t] - occ
        unsorted = np.flatnonzero(to_place)
        rows = unsorted[np.argsort(pop.u_order[unsorted, t], kind="stable")]
        if rows.size:
            keys = key_matrix(rows, nc[rows])
            if t > 0:
                ex = exclude[rows]
                keys[np.flatnonzero(ex >= 0), ex[ex >= 0]] = np.inf
            for j, r in enumerate(rows):
                row = np.where(free > 0, keys[j], np.inf)
                s = int(np.argmin(row))
                if np.isfinite(row[s]):
                    cur[r] = s
                    free[s] -= 1
                else:
                    cur[r] = _UNPLACED
        if movers != "transfers":  # settled movers: only by the scenario's rule
            settled = cur >= 0
            settled[rows] = False
            if movers == "out_of_area":
                settled &= ~inp.in_area[np.maximum(cur, 0)]
            moves += _move_settled(
                pop, inp, np.flatnonzero(settled), cur, free, rank, key_matrix, t
            )
        setting[:, t] = cur
        in_cohort = cur != _OUT
        status[in_cohort & (cur >= 0), t] = _ST_PLACED
        status[cur == _UNPLACED, t] = _ST_UNPLACED
    return _Trace(setting=setting, status=status, counts=counts, moves=moves)


def _move_settled(
    pop: _Population,
    inp: _Inputs,
    cand: np.ndarray,
    cur: np.ndarray,
    free: np.ndarray,
    rank: np.ndarray,
    key_matrix: Callable[[np.ndarray, np.ndarray], np.ndarray],
    t: int,
) -> list[tuple[int, int, int, int, float, float]]:
    """Move settled pupils ``cand`` to a strictly better free place by the policy (in place)."""
    moves: list[tuple[int, int, int, int, float, float]] = []
    if not cand.size:
        return moves
    nc = pop.nc0[cand] + (t - pop.entry[cand])
    keys = key_matrix(cand, nc)
    now = rank[cur[cand]] * _KEY_SCALE + inp.time_min[pop.origin[cand], cur[cand]]
    now = np.where(np.isnan(now), -np.inf, now)  # unknown journey: never moved
    best = np.where(free[None, :] > 0, keys, np.inf).min(axis=1)
    hopeful = best < now
    cand, keys, now = cand[hopeful], keys[hopeful], now[hopeful]
    for j in np.argsort(-now, kind="stable"):
        r = int(cand[j])
        row = np.where(free > 0, keys[j], np.inf)
        s = int(np.argmin(row))
        if row[s] < now[j]:
            old = int(cur[r])
            before = float(inp.time_min[pop.origin[r], old])
            after = float(inp.time_min[pop.origin[r], s])
            free[old] += 1
            free[s] -= 1
            cur[r] = s
            moves.append((r, t, old, s, before, after))
    return moves


def _measures(
    tr: _Trace,
    pop: _Population,
    inp: _Inputs,
    params: FlowParams,
    base_time: np.ndarray | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    n_years = len(params.years)
    time_all = np.full(tr.setting.shape, np.nan)
    rows_list = []
    s_count = len(inp.setting_ids)
    loc = np.where(inp.in_area, "in_area", "out_of_area")
    combo = [
        f"{_PLACED_TYPES_PREFIX}{typ}:{where}"
        for typ, where in zip(inp.sen2_type, loc, strict=True)
    ]
    combo_code, combo_names = pd.factorize(pd.Series(combo), sort=True)
    for t, y in enumerate(params.years):
        cur = tr.setting[:, t]
        placed = np.flatnonzero(cur >= 0)
        s = cur[placed]
        tm = inp.time_min[pop.origin[placed], s]
        km = inp.dist_km[pop.origin[placed], s]
        time_all[placed, t] = tm
        nc = pop.nc0[placed] + (t - pop.entry[placed])
        limit = np.where(nc <= 6, params.max_journey_primary_min, params.max_journey_secondary_min)
        eligible = transport_eligible(
            nc,
            km / KM_PER_MILE,
            pop.assisted[placed],
            walking_distance_under8_miles=params.walking_distance_under8_miles,
            walking_distance_8plus_miles=params.walking_distance_8plus_miles,
            post16_walking_distance_miles=params.post16_walking_distance_miles,
        )
        n_placed = placed.size
        ooa = float((~inp.in_area[s]).sum())
        by_s = np.bincount(s, minlength=s_count)
        vals: dict[str, float] = {
            "cohort": float((cur != _OUT).sum()),
            "placed": float(n_placed),
            "unplaced": float((cur == _UNPLACED).sum()),
            "new_plans": float(tr.counts["new_plans"][t]),
            "transfers": float(tr.counts["transfers"][t]),
            "breakdowns": float(tr.counts["breakdowns"][t]),
            "leavers": float(tr.counts["leavers"][t]),
            "ceased": float(tr.counts["ceased"][t]),
            "out_of_area": ooa,
            "out_of_area_pct": 100.0 * ooa / n_placed if n_placed else math.nan,
            "independent_non_maintained": float(inp.indep_nm[s].sum()),
            "journey_time_total_min": float(np.nansum(tm)),
            "journey_time_mean_min": float(np.nanmean(tm)) if n_placed else math.nan,
            "distance_total_km": float(np.nansum(km)),
            "distance_mean_km": float(np.nanmean(km)) if n_placed else math.nan,
            "over_max_journey": float((tm > limit).sum()),
            "ferry_journeys": float(inp.ferry[pop.origin[placed], s].sum()),
            "placement_cost_gbp": float(inp.cost[s].sum()),
            "transport_cost_gbp": float(
                np.nansum(np.where(eligible, km, 0.0))
                / KM_PER_MILE
                * params.transport_cost_per_mile_gbp
                * 2
                * params.school_days
            ),
        }
        if base_time is not None:
            delta = time_all[:, t] - base_time[:, t]
            vals["worse_off"] = float((delta > params.worse_off_min).sum())
        else:
            vals["worse_off"] = 0.0
        mv = [m for m in tr.moves if m[1] == t]
        extra = np.array([m[5] - m[4] for m in mv])
        vals["movers"] = float(len(mv))
        vals["movers_worse_off"] = float((extra > 0).sum())
        vals["movers_extra_time_total_min"] = float(extra[extra > 0].sum()) if mv else 0.0
        vals["movers_journey_time_mean_min"] = (
            float(np.mean([m[5] for m in mv])) if mv else math.nan
        )
        label = academic_year(y)
        rows_list += [(label, k, v) for k, v in vals.items()]
        per_combo = np.bincount(combo_code, weights=by_s, minlength=len(combo_names))
        rows_list += [
            (label, name, float(v)) for name, v in zip(combo_names, per_combo, strict=True)
        ]
    del n_years
    return pd.DataFrame(rows_list, columns=["year", "measure", "value"]), time_all


def _pupil_table(
    tr: _Trace,
    pop: _Population,
    inp: _Inputs,
    params: FlowParams,
    time_all: np.ndarray,
    base_time: np.ndarray | None,
) -> pd.DataFrame:
    pi, ti = np.nonzero(tr.status != _ST_OUT)
    s = tr.setting[pi, ti]
    placed = s >= 0
    dist = np.full(pi.size, np.nan)
    dist[placed] = inp.dist_km[pop.origin[pi[placed]], s[placed]]
    sid = np.full(pi.size, None, dtype=object)
    sid[placed] = inp.setting_ids[s[placed]]
    change = time_all[pi, ti] - base_time[pi, ti] if base_time is not None else np.zeros(pi.size)
    years = np.array([academic_year(y) for y in params.years], dtype=object)
    return pd.DataFrame(
        {
            "pupil_ref": pop.ref[pi],
            "year": years[ti],
            "status": pd.Series(tr.status[pi, ti]).map(_STATUS_NAMES).to_numpy(),
            "setting_id": sid,
            "time_min": time_all[pi, ti],
            "distance_km": dist,
            "change_vs_baseline_min": change,
            # who the pupil is, for models that re-place the flow's pupils (compute.programme_*)
            "origin_id": inp.origin_ids[pop.origin[pi]],
            "need": np.asarray(NEED_CODES, dtype=object)[pop.need[pi]],
            "nc_year": pop.nc0[pi] + ti - pop.entry[pi],
        }
    )


def _moves_table(tr: _Trace, pop: _Population, inp: _Inputs, params: FlowParams) -> pd.DataFrame:
    cols = ["pupil_ref", "year", "from_setting_id", "to_setting_id", "before_min", "after_min"]
    years = [academic_year(y) for y in params.years]
    df = pd.DataFrame(
        [
            (
                pop.ref[r],
                years[t],
                inp.setting_ids[a],
                inp.setting_ids[b],
                x,
                y,
            )
            for r, t, a, b, x, y in tr.moves
        ],
        columns=cols,
    )
    df["extra_min"] = (df["after_min"] - df["before_min"]).astype(float)
    df["worse_off"] = df["extra_min"] > 0
    return df


def simulate_flows(
    df_cohort: pd.DataFrame,
    df_settings: pd.DataFrame,
    df_journeys: pd.DataFrame,
    df_new_plans: pd.DataFrame,
    *,
    scenarios: Sequence[FlowScenario],
    params: FlowParams | None = None,
    df_new_plan_mix: pd.DataFrame | None = None,
    df_transitions: pd.DataFrame | None = None,
) -> FlowResult:
    """Run the baseline and each scenario year by year under every new-plan path and seed.

    Parameters
    ----------
    df_cohort
        INTERNAL (personal data). The baseline cohort at the January census of ``base_year``'s
        academic year: ``pupil_ref`` (str, unique), ``nc_year`` (int, Reception = 0), ``need``
        (SEN2 need code), ``setting_id`` (str; missing = not placed, placed by the policy in the
        baseline year), ``origin_id`` (str, the home origin used in ``df_journeys``); optional
        ``placement_group`` (``mainstream``, ``specialist``, ``ap``, ``other``) for pupils without
        a setting (default ``mainstream``; pupils with a setting take their setting's group);
        optional ``transport_assisted`` (bool; counts for transport £ whatever the distance).
    df_settings
        One row per setting, in and out of area: ``setting_id`` (str, unique), ``sen2_type`` (the
        DfE release's column name, e.g. ``special_la_maintained``), ``in_area`` (bool), ``needs``
        (``;``-separated need codes, empty = any), ``nc_year_min``, ``nc_year_max`` (int),
        ``places`` (places for cohort pupils; NaN = no limit) and ``cost_per_place_gbp`` (annual;
        0 if absent).
    df_journeys
        Long table ``origin_id, setting_id, time_min, distance_km`` (one way) and optional
        ``ferry`` (bool); a missing pair is unreachable. Proposal sites need rows too.
    df_new_plans
        New plans by year: ``year`` (2026, ``"2026/27"`` or 202627), ``nc_year``, ``need``,
        ``central``, ``lower``, ``upper`` (counts; rounded to whole pupils). Years after
        ``base_year`` up to ``horizon_year`` are used. See :func:`constant_new_plans`.
    scenarios
        Scenarios to compare with the baseline (no proposals, movers ``"transfers"``).
    params
        Model parameters; default :class:`FlowParams`.
    df_new_plan_mix
        Optional ``nc_year, kind, share``: the kind of a new plan's first placement by NC year
        (:func:`placeplan.compute.transitions.new_plan_mix`); default: the kind of a baseline
        pupil of the same need and phase.
    df_transitions
        Optional ``from_group, to_group, nc_year, rate``: moves between kinds of place at a phase
        transfer (:func:`placeplan.compute.transitions.phase_transfer_rates`); default none.

    Returns
    -------
    result
        One :class:`FlowRun` per scenario (and baseline) × path × seed.

    Raises
    ------
    SchemaValidationError
        If a table lacks columns, has duplicate IDs, unknown need codes or settings.
    ConfigError
        If parameters are out of range.

    Notes
    -----
    See :data:`POLICY` for the placement policy and :data:`OOA_RELIANCE` for the one definition of
    reliance on out-of-area placements. Baseline and scenario runs share pupils and random draws.

    Examples
    --------
    Ten Year 6 pupils out of area transfer to Year 7 in 2027; a 10-place base opens in 2027:

    >>> import pandas as pd
    >>> cohort = pd.DataFrame({"pupil_ref": [f"p{i}" for i in range(10)], "nc_year": 5,
    ...     "need": "ASD", "setting_id": "OOA1", "origin_id": "o1"})
    >>> settings = pd.DataFrame({"setting_id": ["OOA1", "OOA2"],
    ...     "sen2_type": "special_independent", "in_area": False, "needs": "",
    ...     "nc_year_min": [0, 7], "nc_year_max": [6, 11], "places": float("nan"),
    ...     "cost_per_place_gbp": 60_000.0})
    >>> journeys = pd.DataFrame({"origin_id": "o1", "setting_id": ["OOA1", "OOA2", "B1"],
    ...     "time_min": [70.0, 80.0, 15.0], "distance_km": [60.0, 70.0, 8.0]})
    >>> base = Proposal("B1", 10, 2027, needs=("ASD",), nc_year_min=7, nc_year_max=11,
    ...     cost_per_place_gbp=25_000.0)
    >>> res = simulate_flows(cohort, settings, journeys, constant_new_plans(cohort, rate=0.0),
    ...     scenarios=[FlowScenario("base", (base,))],
    ...     params=FlowParams(horizon_year=2028))
    >>> t = flow_table(res)
    >>> ooa = t[t.measure == "out_of_area"]
    >>> ooa.pivot(index="year", columns="scenario", values="central").to_dict("list")
    {'base': [10.0, 10.0, 0.0, 0.0], 'base - baseline': [0.0, 0.0, -10.0, -10.0], \
'baseline': [10.0, 10.0, 10.0, 10.0]}
    """
    params = params or FlowParams()
    t0 = time.perf_counter()
    inp, coh = _prepare(df_cohort, df_settings, df_journeys, scenarios)
    missing_paths = [p for p in PATHS if p not in df_new_plans]
    if missing_paths or not {"year", "nc_year", "need"} <= set(df_new_plans.columns):
        msg = (
            "`df_new_plans` needs columns year, nc_year, need, central, lower, upper; "
            f"missing {sorted({'year', 'nc_year', 'need', *PATHS} - set(df_new_plans.columns))}"
        )
        raise SchemaValidationError(msg)
    years = params.years
    runs: list[FlowRun] = []
    base_places = _places_by_year(inp, None, years)
    for seed in params.seeds:
        for path in PATHS:
            pop = _population(
                coh, inp, df_new_plans, path=path, seed=seed, params=params,
                mix=df_new_plan_mix, transitions=df_transitions,
            )  # fmt: skip
            tr = _run(pop, inp, base_places, params, "transfers")
            meas, base_time = _measures(tr, pop, inp, params, None)
            runs.append(
                FlowRun(
                    "baseline",
                    path,
                    seed,
                    meas,
                    _pupil_table(tr, pop, inp, params, base_time, None),
                    _moves_table(tr, pop, inp, params),
                )
            )
            for sc in scenarios:
                tr_s = _run(pop, inp, _places_by_year(inp, sc, years), params, sc.movers)
                meas_s, time_s = _measures(tr_s, pop, inp, params, base_time)
                runs.append(
                    FlowRun(
                        sc.name,
                        path,
                        seed,
                        meas_s,
                        _pupil_table(tr_s, pop, inp, params, time_s, base_time),
                        _moves_table(tr_s, pop, inp, params),
                    )
                )
    logger.info(
        "simulate_flows: %s baseline pupils, %d scenario(s), %d path(s) x %d seed(s), %s-%s, "
        "%.2f s",
        f"{len(coh):,}",
        len(scenarios),
        len(PATHS),
        len(params.seeds),
        academic_year(years[0]),
        academic_year(years[-1]),
        time.perf_counter() - t0,
    )
    return FlowResult(runs=tuple(runs), params=params, scenarios=tuple(s.name for s in scenarios))
