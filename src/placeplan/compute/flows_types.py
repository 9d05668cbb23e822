"""The placement-flow model's vocabulary and contract types.

The definitions every stage shares (:data:`RELIANCE`, :data:`POLICY`, :data:`MEASURES`, the
SEN2 type sets, :func:`placement_group`) and the model's inputs and outputs (:class:`Proposal`,
:class:`FlowScenario`, :class:`FlowParams`, :class:`FlowRun`, :class:`FlowResult`). The model
itself is :func:`placeplan.compute.flows.simulate_flows`; import these names from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from placeplan._errors import ConfigError, SchemaValidationError
from placeplan.vocab import academic_year

__all__ = [
    "INDEPENDENT_NON_MAINTAINED_TYPES",
    "MEASURES",
    "NON_STATE_TYPES",
    "OOA_RELIANCE",
    "PATHS",
    "POLICY",
    "RELIANCE",
    "Definition",
    "FlowParams",
    "FlowResult",
    "FlowRun",
    "FlowScenario",
    "Movers",
    "Proposal",
    "academic_year",
    "placement_group",
    "start_year",
]


@dataclass(frozen=True, slots=True)
class Definition:
    """A term the model defines once: its plain sentence for readers, its measures for code.

    Attributes
    ----------
    term
        The term defined, e.g. ``"Reliance on out-of-area placements"``.
    sentence
        The definition in plain words, no code names: what every published output prints.
    measures
        The ``flows.csv`` measures that count it (:data:`MEASURES`), the headline one first.
    rule
        How the model decides it, in code terms (for developers).
    """

    term: str
    sentence: str
    measures: tuple[str, ...]
    rule: str

    @property
    def plain(self) -> str:
        """The sentence with the measures' names once, at the end (what reports print)."""
        return f"{self.sentence} (In flows.csv: {', '.join(self.measures)}.)"

    @property
    def documented(self) -> str:
        """The term, the sentence and the rule: the definition as the code documents it."""
        return f"{self.term}.\n\n{self.sentence}\n\n{self.rule}\n"


#: The one definition of reliance on out-of-area placements (every stage and output uses it).
RELIANCE = Definition(
    term="Reliance on out-of-area placements",
    sentence=(
        "The number of pupils in the cohort placed, at the January census of the academic year, "
        "in a setting outside the authority's area, whatever its provision type (maintained, "
        "academy, independent, non-maintained, college, ...). Its share of all placed pupils in "
        "the cohort is published too. Independent and non-maintained special placements are a "
        "separate measure, in or out of area, as in SEN2."
    ),
    measures=("out_of_area", "out_of_area_pct", "independent_non_maintained"),
    rule=(
        "A placement is out of area where its setting's ``in_area`` is False. Measure "
        "``out_of_area``; its share of all placed pupils in the cohort is ``out_of_area_pct``; "
        "independent and non-maintained special placements are ``independent_non_maintained``."
    ),
)

#: :data:`RELIANCE` as one documented text (term, plain sentence, rule in code terms).
OOA_RELIANCE = RELIANCE.documented

POLICY = """Placement policy (default order).

A pupil to be placed may take a setting that (1) serves their need (empty ``needs`` = any), (2)
serves their NC year, (3) offers their kind of place (:func:`placement_group`), (4) is open with a
free place that year and (5) is reachable in the journey table. Among those, they take the first by
``policy_order``: by default in area before out of area, maintained (state-funded) before
independent / non-maintained (:data:`NON_STATE_TYPES`), then the shortest journey time. Cost is
never a criterion. A pupil whose placement broke down takes their old setting only as a last resort
(no other place of their kind is free); a new plan whose first placement is independent takes a
specialist place by the policy when no independent or non-maintained place is free. With no such
place the pupil is counted ``unplaced`` and tried again next year.
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
    "breakdowns": "pupils re-placed after a placement breakdown (back in the same setting only "
    "when no other place of their kind is free; or, with kind_moves = 'any_year', a move between "
    "kinds of place) this year",
    "leavers": "pupils leaving this year at the leaving age",
    "ceased": "plans ceased this year (other than at the leaving age)",
    "out_of_area": "placements outside the authority (see RELIANCE)",
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


Movers = Literal["transfers", "out_of_area", "any"]


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


def start_year(value: object) -> int:
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
        distance_km, change_vs_baseline_min, origin_id, need, nc_year, ferry`` per pupil and year;
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
