"""Plan configuration: everything that shapes one analysis, loaded from a ``plan.toml`` file.

A plan names its inputs (paths relative to the plan file), the network and speed parameters, the
DfE thresholds, costs, disclosure rules and one or more scenarios. It is validated strictly (unknown
keys are errors, so a typo never silently falls back to a default) and saved next to every output.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import tomllib
import warnings
from pathlib import Path
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from placeplan._errors import ConfigError, PlaceplanWarning
from placeplan.config_optimise import OptimiseConfig, budget_years_problem

__all__ = [
    "CostsConfig",
    "DisclosureConfig",
    "FerryLink",
    "InputsConfig",
    "MitigationConfig",
    "NetworkConfig",
    "OptimiseConfig",
    "PlanConfig",
    "PlanMeta",
    "ProgrammeFile",
    "ScenarioConfig",
    "SelectionConfig",
    "ThresholdsConfig",
    "budget_years_problem",
    "load_plan",
]


#: The smallest disclosure threshold a published (not internal) run accepts.
PUBLISHED_MIN_THRESHOLD = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanMeta(_Strict):
    """The ``[plan]`` table: who the plan is for and where outputs go."""

    name: str
    authority: str
    la_code: str = Field(description="DfE three-digit LA code, e.g. '921'")
    lad_code: str = Field(description="ONS local authority district code, e.g. 'E06000046'")
    output_dir: Path = Field(default=Path("maps/output"))
    census_date: str = Field(default="2026-01-15", description="ISO date the NC years refer to")
    synthetic_pupils: bool = Field(
        default=False,
        description="True when the pupil file is a synthetic cohort (banner in report)",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_seed(cls, data: object) -> object:
        # `seed` was accepted but never used (every solve and every output is deterministic
        # without it); older plan files keep loading, with a warning, rather than failing.
        if isinstance(data, dict) and "seed" in data:
            data = {k: v for k, v in data.items() if k != "seed"}
            msg = "`[plan] seed` has no effect and is ignored; delete it from the plan file"
            warnings.warn(msg, PlaceplanWarning, stacklevel=2)
        return data

    @field_validator("la_code", "lad_code", mode="before")
    @classmethod
    def _as_str(cls, value: object) -> str:
        return str(value)

    @field_validator("census_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> str:
        if isinstance(value, dt.date):  # TOML's unquoted 2025-01-16
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            msg = f'{value!r} is not a date; write it as YYYY-MM-DD, e.g. "2025-01-16"'
            raise ValueError(msg) from None


class InputsConfig(_Strict):
    """The ``[inputs]`` table: input files, relative to the plan file."""

    pupils: Path
    provision: Path
    postcodes: Path
    network: Path | None = Field(
        default=None, description="OSM PBF / XML / GraphML file; or give network_place"
    )
    network_place: str | None = Field(
        default=None,
        description="ONLINE ONLY: a place name osmnx geocodes, e.g. 'Southampton, England'",
    )
    network_buffer_m: float = Field(
        default=10_000.0, ge=0, description="buffer around network_place so journeys can leave it"
    )
    out_of_area: Path | None = None
    candidate_sites: Path | None = None
    areas: Path | None = None
    planning_areas: Path | None = Field(
        default=None,
        description="planning-area polygons (GeoPackage/GeoJSON/shapefile) with area_id and name; "
        "default: MSOAs derived from the LSOA names in `areas`",
    )
    authority_boundary: Path | None = None
    region_outline: Path | None = Field(
        default=None,
        description="polygons of the neighbouring areas (GeoJSON/GeoPackage), drawn as a light "
        "basemap under the maps so out-of-area settings sit in their region",
    )
    attribution: Path | None = None
    sen2_release: Path | None = Field(
        default=None,
        description="folder of the DfE EHCP release CSVs as published (caseload, newplans, ...): "
        "new plans for the placement flows come from its forecast",
    )
    programmes: tuple[Path, ...] = Field(
        default=(),
        description="programme files written by `placeplan optimise` (optimised-programme.toml): "
        "their [[scenario]] entries, with their sites' opening years and places, join the plan's",
    )

    @model_validator(mode="after")
    def _one_network(self) -> InputsConfig:
        if (self.network is None) == (self.network_place is None):
            msg = (
                "give exactly one of `inputs.network` (a file) and `inputs.network_place` "
                "(a place name, downloaded with osmnx when online)"
            )
            raise ValueError(msg)
        return self


class FerryLink(_Strict):
    """A fixed external link (e.g. a car ferry) between the road network and the mainland."""

    name: str
    island_easting: float
    island_northing: float
    mainland_easting: float
    mainland_northing: float
    crossing_min: float = Field(ge=0)
    wait_min: float = Field(default=0.0, ge=0, description="check-in / boarding / average wait")


class NetworkConfig(_Strict):
    """The ``[network]`` table: speed model, snapping and external links."""

    max_snap_m: float = Field(default=1000.0, gt=0)
    fixed_allowance_min: float = Field(
        default=3.0, ge=0, description="per-journey kerbside, loading and parking allowance"
    )
    speeds_kph: dict[str, float] = Field(default_factory=dict)
    use_maxspeed: bool = True
    peak_factor: float = Field(default=1.0, gt=0)
    mainland_circuity: float = Field(
        default=1.3, ge=1.0, description="road distance / straight-line distance off the network"
    )
    mainland_speed_kph: float = Field(default=40.0, gt=0)
    ferry_links: tuple[FerryLink, ...] = ()

    @field_validator("speeds_kph")
    @classmethod
    def _known_road_classes(cls, value: dict[str, float]) -> dict[str, float]:
        from placeplan.compute.network import SpeedModel  # deferred: heavy, only when given

        known = sorted(SpeedModel().class_kph)
        unknown = [k for k in value if k not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = (
                f"no road class {unknown[0]!r} (OSM highway=*); {hint}known classes: "
                f"{', '.join(known)}"
            )
            raise ValueError(msg)
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            msg = f"speed for {bad[0]!r} must be more than 0 km/h"
            raise ValueError(msg)
        return value


class ThresholdsConfig(_Strict):
    """The ``[thresholds]`` table: DfE and statutory thresholds."""

    max_journey_primary_min: float = Field(default=45.0, gt=0)
    max_journey_secondary_min: float = Field(default=75.0, gt=0)
    walking_distance_under8_miles: float = Field(default=2.0, gt=0)
    walking_distance_8plus_miles: float = Field(default=3.0, gt=0)
    school_days: int = Field(default=190, gt=0)
    worse_off_min: float = Field(
        default=5.0, ge=0, description="a journey this much longer counts as worse off"
    )


class CostsConfig(_Strict):
    """The ``[costs]`` table: transport and placement costs."""

    transport_cost_per_mile_gbp: float = Field(default=2.5, ge=0)
    annual_send_transport_spend_gbp: float | None = Field(default=None, ge=0)
    placement_per_place_gbp: dict[str, float] = Field(default_factory=dict)

    @field_validator("placement_per_place_gbp")
    @classmethod
    def _known_types_no_negative(cls, value: dict[str, float]) -> dict[str, float]:
        from placeplan.schemas import PROVISION_TYPES  # deferred: pandera is heavy

        unknown = [k for k in value if k not in PROVISION_TYPES]
        if unknown:
            msg = f"no provision type {unknown[0]!r}; use one of {', '.join(PROVISION_TYPES)}"
            raise ValueError(msg)
        negative = [k for k, v in value.items() if not v >= 0]
        if negative:
            msg = f"cost for {negative[0]!r} must be 0 or more (pounds per place per year)"
            raise ValueError(msg)
        return value


class DisclosureConfig(_Strict):
    """The ``[disclosure]`` table: statistical disclosure control of published numbers."""

    threshold: int = Field(default=5, ge=1)
    round_to: int = Field(default=0, ge=0)
    mode: Literal["published", "internal"] = "published"

    @model_validator(mode="after")
    def _published_needs_5(self) -> DisclosureConfig:
        if self.mode == "published" and self.threshold < PUBLISHED_MIN_THRESHOLD:
            msg = (
                f"threshold {self.threshold} is below {PUBLISHED_MIN_THRESHOLD}, the least DfE "
                "statistics practice allows in published outputs; raise it to "
                f'{PUBLISHED_MIN_THRESHOLD} or more, or set `disclosure.mode = "internal"` '
                "for figures that will not be published"
            )
            raise ValueError(msg)
        return self


class SelectionConfig(_Strict):
    """The ``[selection]`` table: site scoring weights and the budgeted optimisation."""

    budget_gbp: float = Field(default=0.0, ge=0, description="capital budget for new bases")
    max_sites: int | None = Field(default=None, ge=0)
    max_travel_time_min: float = Field(
        default=45.0, gt=0, description="need within this journey time counts as in reach"
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="scoring weights by criterion"
    )
    time_limit_s: float | None = Field(default=120.0, gt=0)


class FlowSiteConfig(_Strict):
    """One ``[[flows.site]]`` or ``[[scenario.site]]``: when a candidate site opens, how big.

    The site's places in a scenario, when fully open, are the largest value of
    ``places_by_year`` (capped at the candidate's ``places``), or the candidate's ``places``
    when no ramp-up is given; its capital is ``capital_gbp``, else the ``[optimise] sizes``
    entry with those places when smaller than the candidate's, else the candidate's
    ``capital_cost_gbp``. The snapshot re-allocation, the per-proposal assessment, the flows
    and the report all use them.
    """

    site_id: str
    opening_year: int = Field(
        description="calendar year the academic year of opening starts (2027 = 2027/28)"
    )
    places_by_year: dict[int, int] = Field(
        default_factory=dict,
        description="optional ramp-up: places available by academic start year",
    )
    capital_gbp: float | None = Field(
        default=None,
        ge=0,
        description="capital cost of the base at this size (£); `placeplan optimise` writes "
        "what it charged",
    )


class ScenarioConfig(_Strict):
    """One ``[[scenario]]``: new inclusion bases opened and who may move to them."""

    name: str
    description: str = ""
    open_sites: tuple[str, ...] = ()
    movable: tuple[
        Literal["independent", "non_maintained", "out_of_area", "special", "mainstream"], ...
    ] = (
        "independent",
        "non_maintained",
        "out_of_area",
    )
    phase_transfer_only: bool = False
    use_optimised_sites: bool = Field(
        default=False, description="open the sites chosen by the budgeted optimisation"
    )
    max_extra_journey_min: float = Field(
        default=20.0,
        ge=0,
        description="a pupil is only moved if the new journey is at most this much longer",
    )
    site: tuple[FlowSiteConfig, ...] = Field(
        default=(),
        description="opening year and places of this scenario's sites; each entry wins over a "
        "`[[flows.site]]` entry for the same site, in this scenario only",
    )

    @field_validator("site")
    @classmethod
    def _one_entry_per_site(cls, value: tuple[FlowSiteConfig, ...]) -> tuple[FlowSiteConfig, ...]:
        ids = [s.site_id for s in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            msg = f"site {twice[0]!r} has more than one `[[scenario.site]]` entry; keep one"
            raise ValueError(msg)
        return value


class FlowsConfig(_Strict):
    """The ``[flows]`` table: the year-by-year placement-flow model (``placeplan.compute.flows``).

    Keys other than ``movers``, ``new_plans_rate``, ``new_plans_spread``, ``site``,
    ``new_plan_mix`` and ``phase_transitions`` are the fields of ``FlowParams`` of the same name.
    """

    base_year: int = Field(default=2025, description="2025 = 2025/26, the January 2026 census")
    horizon_year: int = Field(default=2030, description="last academic year modelled (2030/31)")
    leaving_nc_year: int = Field(default=20, description="a plan runs to this NC year (≈ age 25)")
    ceased_rate: float = Field(default=0.0, ge=0, le=1)
    ceased_rate_by_nc_year: dict[int, float] = Field(default_factory=dict)
    breakdown_rate: float = Field(
        default=0.0, ge=0, le=1, description="annual rate of placement breakdown"
    )
    policy_order: tuple[Literal["in_area", "maintained", "time"], ...] = (
        "in_area",
        "maintained",
        "time",
    )
    movers: Literal["transfers", "out_of_area", "any"] = Field(
        default="transfers",
        description="settled pupils who may move in scenario runs (default: none)",
    )
    new_plans_rate: float = Field(
        default=0.1, ge=0, description="fallback new plans a year / cohort when no forecast"
    )
    new_plans_spread: float = Field(default=0.2, ge=0, le=1)
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1)
    site: tuple[FlowSiteConfig, ...] = ()
    new_plan_mix: Literal["release", "cohort"] = Field(
        default="release",
        description="kind of a new plan's first placement: the SEN2 release's new-plans mix by "
        "age (`inputs.sen2_release`), or a current pupil's of the same need and phase",
    )
    phase_transitions: bool = Field(
        default=True,
        description="move pupils between kinds of place at phase transfer by the SEN2 "
        "release's rates by age (`inputs.sen2_release`)",
    )
    kind_moves: Literal["transfer", "any_year"] = Field(
        default="transfer",
        description="when phase-transition rates move pupils between kinds of place: at a "
        "phase transfer, or in any year (settled pupils too, counted as breakdowns)",
    )
    post16_walking_distance_miles: float | None = Field(
        default=None,
        gt=0,
        description="post-16 / 19-25 transport policy distance; none: only assisted pupils count",
    )


MitigationWhat = Literal[
    "stay_in_current_placement",
    "route_change",
    "travel_training",
    "personal_travel_budget",
    "escort",
    "other",
]


class MitigationConfig(_Strict):
    """One ``[[mitigation]]`` rule: who it is for, what is offered and what it costs a year.

    Rules apply in the order given; each pupil gets the first rule that matches. Who-filters left
    out match everyone; at least one journey condition (``worse_off_min_gt``,
    ``over_reasonable_max``, ``ferry`` or ``moved``) is required so a rule never covers every
    pupil. A plan with no ``[[mitigation]]`` uses the package defaults
    (``placeplan.compute.mitigation.DEFAULT_RULES``), printed in the report as defaults.
    """

    # numbers and booleans are strict: TOML has them, so "500", "yes" or true where a number is
    # expected are typos, not values to coerce (true would cost £1, "no" would read as false)
    name: str = Field(min_length=1)
    what: MitigationWhat
    cost_gbp_per_pupil_year: float = Field(
        ge=0, strict=True, allow_inf_nan=False, description="annual cost per pupil, £"
    )
    description: str = ""
    worse_off_min_gt: float | None = Field(
        default=None,
        ge=0,
        strict=True,
        allow_inf_nan=False,
        description="journey longer than without the proposal by more than",
    )
    over_reasonable_max: bool | None = Field(
        default=None,
        strict=True,
        description="journey over the reasonable maximum for the phase (or not)",
    )
    ferry: bool | None = Field(
        default=None, strict=True, description="journey crosses by ferry (or not)"
    )
    moved: bool | None = Field(
        default=None, strict=True, description="pupil changes setting (or not)"
    )
    needs: tuple[str, ...] = Field(default=(), description="SEN2 need codes; empty = any")
    phases: tuple[Literal["primary", "secondary", "post16"], ...] = ()

    @field_validator("needs", mode="before")
    @classmethod
    def _need_codes(cls, value: object) -> object:
        from placeplan.needs import NEED_CODES, normalise_need
        from placeplan.vocab import did_you_mean

        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            return value
        out = []
        for item in value:
            code = normalise_need(item)
            if code is None:
                hint = did_you_mean(str(item), NEED_CODES) or ";"
                msg = f"no primary need {item!r}{hint} use SEN2 codes: {', '.join(NEED_CODES)}"
                raise ValueError(msg)
            out.append(code)
        return tuple(out)

    @model_validator(mode="after")
    def _has_journey_condition(self) -> MitigationConfig:
        keys = ("worse_off_min_gt", "over_reasonable_max", "ferry", "moved")
        if all(getattr(self, k) is None for k in keys):
            msg = (
                f"rule {self.name!r} has no journey condition and would cover every pupil; give "
                "at least one of " + ", ".join(f"`{k}`" for k in keys)
            )
            raise ValueError(msg)
        return self


class PlanConfig(_Strict):
    """A whole plan: validated contents of ``plan.toml`` with paths resolved."""

    @model_validator(mode="before")
    @classmethod
    def _drop_superseded(cls, data: object) -> object:
        # The snapshot OOA projection (`[projection]`, `inputs.sen2_trends`) was superseded by the
        # year-by-year placement flows (`[flows]`, `inputs.sen2_release`); older plan files keep
        # loading, with a warning, rather than failing.
        if not isinstance(data, dict):
            return data
        if "projection" in data:
            data = {k: v for k, v in data.items() if k != "projection"}
            msg = (
                "`[projection]` is superseded by the year-by-year placement flows and ignored; "
                "delete it and set `[flows]` (see the sample plan)"
            )
            warnings.warn(msg, PlaceplanWarning, stacklevel=2)
        inputs = data.get("inputs")
        if isinstance(inputs, dict) and "sen2_trends" in inputs:
            data = {**data, "inputs": {k: v for k, v in inputs.items() if k != "sen2_trends"}}
            msg = (
                "`inputs.sen2_trends` is superseded and ignored; name the DfE EHCP release "
                "folder as `inputs.sen2_release` instead"
            )
            warnings.warn(msg, PlaceplanWarning, stacklevel=2)
        return data

    plan: PlanMeta
    inputs: InputsConfig
    network: NetworkConfig = NetworkConfig()
    thresholds: ThresholdsConfig = ThresholdsConfig()
    costs: CostsConfig = CostsConfig()
    disclosure: DisclosureConfig = DisclosureConfig()
    selection: SelectionConfig = SelectionConfig()
    flows: FlowsConfig = FlowsConfig()
    optimise: OptimiseConfig = OptimiseConfig()
    scenario: tuple[ScenarioConfig, ...] = Field(default=(), min_length=1)
    mitigation: tuple[MitigationConfig, ...] = Field(
        default=(), description="travel mitigation rules in priority order; none = the defaults"
    )
    base_dir: Path = Field(default=Path("."), description="folder of the plan file (set on load)")
    source_file: Path | None = Field(default=None, description="the plan file (set on load)")

    @model_validator(mode="after")
    def _unique_scenarios(self) -> PlanConfig:
        if not self.scenario:
            msg = (
                "the plan has no [[scenario]]; add at least one, e.g. [[scenario]] name = "
                '"Optimised within budget" use_optimised_sites = true'
            )
            raise ValueError(msg)
        names = [s.name for s in self.scenario]
        if len(set(names)) != len(names):
            msg = f"scenario names must be unique, got {names}"
            raise ValueError(msg)
        rules = [m.name for m in self.mitigation]
        twice = sorted({n for n in rules if rules.count(n) > 1})
        if twice:
            at = [f"#{i + 1}" for i, n in enumerate(rules) if n == twice[0]]
            msg = (
                f"`mitigation` rule names must be unique; [[mitigation]] {' and '.join(at)} are "
                f"{'both' if len(at) == 2 else 'all'} named {twice[0]!r}: rename all but one "
                "(`name`), as the report lists rules by name"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _budget_years_modelled(self) -> PlanConfig:
        problem = budget_years_problem(
            self.optimise.budget_by_fy_gbp, self.flows.base_year, self.flows.horizon_year
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @overload
    def path(self, value: Path) -> Path: ...
    @overload
    def path(self, value: None) -> None: ...
    def path(self, value: Path | None) -> Path | None:
        """Resolve a path from the plan relative to the plan file's folder."""
        if value is None:
            return None
        return value if value.is_absolute() else (self.base_dir / value).resolve()

    @property
    def output_dir(self) -> Path:
        """The output folder, resolved relative to the plan file."""
        out = self.path(self.plan.output_dir)
        assert out is not None
        return out

    def config_hash(self) -> str:
        """Return a short SHA-256 of the plan's contents (without its location)."""
        payload = self.model_dump(mode="json", exclude={"base_dir", "source_file"})
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


class _ProgrammeFlows(_Strict):
    site: tuple[FlowSiteConfig, ...] = ()


class ProgrammeFile(_Strict):
    """A programme file named in ``[inputs] programmes`` (``placeplan optimise`` writes one).

    Its ``[[scenario]]`` entries join the plan's. Its ``[[flows.site]]`` entries (files written
    before ``[[scenario.site]]``) apply to the file's own scenarios only, as their
    ``[[scenario.site]]``; a scenario's own ``[[scenario.site]]`` entry for a site wins.
    """

    scenario: tuple[ScenarioConfig, ...] = Field(default=(), validate_default=True)
    flows: _ProgrammeFlows = _ProgrammeFlows()

    @field_validator("scenario")
    @classmethod
    def _has_scenario(cls, value: tuple[ScenarioConfig, ...]) -> tuple[ScenarioConfig, ...]:
        if not value:
            msg = "no [[scenario]]; write the file again with `placeplan optimise`"
            raise ValueError(msg)
        return value

    def scenarios(self) -> tuple[ScenarioConfig, ...]:
        """The file's scenarios, each with the file's ``[[flows.site]]`` as its own sites."""
        shared = {s.site_id: s for s in self.flows.site}
        out = []
        for sc in self.scenario:
            sites = shared | {s.site_id: s for s in sc.site}
            out.append(sc.model_copy(update={"site": tuple(sites.values())}))
        return tuple(out)


def _model_at(
    loc: tuple[object, ...], root: type[BaseModel] | None = None
) -> type[BaseModel] | None:
    """The plan model that owns the key at ``loc`` (for "did you mean" suggestions)."""
    model: type[BaseModel] = root or PlanConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            for c in candidates:  # tuple[ScenarioConfig, ...]
                inner = [a for a in getattr(c, "__args__", ()) if isinstance(a, type)]
                nxt = next((a for a in inner if issubclass(a, BaseModel)), None)
                if nxt is not None:
                    break
        if nxt is None:
            return None
        model = nxt
    return model


def _entries(loc: tuple[object, ...], data: object) -> str:
    """The TOML array-of-tables entries on the way to ``loc``, counted from 1 as a reader would:
    ``("mitigation", 2, "what")`` -> ``"[[mitigation]] #3 'Escort'"`` ('' when none)."""
    node, names, out = data, [], []
    for part in loc:
        if isinstance(node, dict):
            node = node.get(part)
            names.append(str(part))
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, dict):
                label = node.get("name", node.get("site_id"))
                named = f" {label!r}" if isinstance(label, str) and label else ""
                out.append(f"[[{'.'.join(names)}]] #{part + 1}{named}")
        else:
            break
    return ", ".join(out)


def _found(item: ErrorDetails, where: str) -> str:
    """The value a built-in check refused, and for a list key given otherwise, how to write it."""
    value = item.get("input")
    if item["type"] in ("tuple_type", "list_type"):
        if isinstance(value, dict):
            return f"; got one [{where}] table: write each entry as [[{where}]]"
        if isinstance(value, str | int | float | bool):
            shown = json.dumps(value)
            key = where.rsplit(".", 1)[-1]
            return f" (got {shown}); write a list in square brackets, e.g. {key} = [{shown}]"
    if isinstance(value, str):
        return f" (got {json.dumps(value)})"
    if isinstance(value, bool | int | float | dt.date | dt.time):
        return f" (got {str(value).lower() if isinstance(value, bool) else value})"
    return ""


def _format_pydantic(
    err: ValidationError,
    path: Path,
    root: type[BaseModel] | None = None,
    what: str = "invalid plan",
    data: object = None,
) -> str:
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        where = ".".join(str(p) for p in loc)
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            model = _model_at(loc, root)
            known = sorted(model.model_fields) if model is not None else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            msg = "unknown key" + (f"; did you mean `{close[0]}`?" if close else "")
            if known and not close:
                shown = [k for k in known if k not in ("base_dir", "source_file")]
                msg += f" (valid keys here: {', '.join(shown)})"
        elif item["type"] == "missing":
            msg = "required key missing"
        elif item["type"] == "value_error":
            msg = str(msg).removeprefix("Value error, ")
        else:
            msg += _found(item, ".".join(str(p) for p in loc if not isinstance(p, int)))
        entries = _entries(loc, data)
        label = (f"{entries}, " if entries else "") + f"`{where}`"
        lines.append(f"{label}: {msg}" if where else msg)
    return f"{path}: {what} — " + "; ".join(lines)


def _read_toml(path: Path, what: str) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: {what} is not valid TOML ({err})"
        raise ConfigError(msg) from err


def _load_programme(path: Path, plan_path: Path) -> ProgrammeFile:
    """Read and validate one programme file named in the plan's ``inputs.programmes``."""
    named = f"(named in {plan_path} `inputs.programmes`, relative to the plan file)"
    if not path.is_file():
        msg = (
            f"programme file {path} not found {named}; write it with `placeplan optimise "
            f"{plan_path}` (optimised-programme.toml in its output folder) or fix the path"
        )
        raise ConfigError(msg)
    data = _read_toml(path, f"the programme file {named}")
    try:
        return ProgrammeFile.model_validate(data)
    except ValidationError as err:
        what = (
            f"invalid programme file {named}; it may hold [[scenario]] entries (with their "
            "[[scenario.site]]) and [[flows.site]] entries only"
        )
        raise ConfigError(_format_pydantic(err, path, ProgrammeFile, what, data)) from err


def _with_programmes(data: dict[str, object], plan_path: Path) -> dict[str, object]:
    """``data`` with the scenarios of the programme files it names (``inputs.programmes``)."""
    inputs = data.get("inputs")
    names = inputs.get("programmes", []) if isinstance(inputs, dict) else []
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        msg = (
            f"{plan_path}: invalid plan — `inputs.programmes`: give a list of programme files, "
            'e.g. programmes = ["programme-2026.toml"]'
        )
        raise ConfigError(msg)
    own = data.get("scenario", [])
    if not names or not isinstance(own, list):
        return data
    owner = {str(s.get("name")): plan_path for s in own if isinstance(s, dict)}
    added: list[object] = []
    for name in names:
        path = Path(name) if Path(name).is_absolute() else plan_path.resolve().parent / name
        for sc in _load_programme(path, plan_path).scenarios():
            if sc.name in owner:
                msg = (
                    f"scenario {sc.name!r} is in both {owner[sc.name]} and {path}; rename one "
                    "(`name` under [[scenario]])"
                )
                raise ConfigError(msg)
            owner[sc.name] = path
            added.append(sc.model_dump(mode="python"))
    return {**data, "scenario": [*own, *added]}


def load_plan(path: str | Path) -> PlanConfig:
    """Load and validate a ``plan.toml``.

    Parameters
    ----------
    path
        The plan file, or the folder holding it as ``plan.toml`` (what ``placeplan init``
        makes). Input paths inside it are relative to its folder. The scenarios of the
        programme files it names (``[inputs] programmes``, :class:`ProgrammeFile`) are added
        after its own ``[[scenario]]`` entries.

    Returns
    -------
    plan
        The validated, frozen plan.

    Raises
    ------
    ConfigError
        If the file or a programme file it names is missing, is not valid TOML, or breaks the
        plan schema (unknown keys, wrong types, missing required entries), or a programme's
        scenario has the name of another; the message names the file and every offending key.
    """
    path = Path(path)
    if path.is_dir() and (path / "plan.toml").is_file():  # the plan's folder, as init makes it
        path = path / "plan.toml"
    if not path.is_file():
        missing = "has no plan.toml" if path.is_dir() else "not found"
        where = f"{'folder' if path.is_dir() else 'plan file'} {path} {missing}"
        msg = f"{where}; create one with `placeplan init DIR`"
        raise ConfigError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not valid TOML ({err})"
        raise ConfigError(msg) from err
    data = _with_programmes(data, path)
    data["base_dir"] = str(path.resolve().parent)
    data["source_file"] = str(path.resolve())
    try:
        return PlanConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_pydantic(err, path, data=data)) from err
