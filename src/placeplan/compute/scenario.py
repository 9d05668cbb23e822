"""Scenarios: which candidate inclusion bases open, and who may move to them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from placeplan._errors import ConfigError
from placeplan.compute.allocation import CostModel, reallocate
from placeplan.vocab import OOA_CATEGORIES

if TYPE_CHECKING:
    from placeplan.config import ScenarioConfig

__all__ = ["Scenario", "ScenarioResult", "SiteSize", "apply_scenario", "new_places_from_sites"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SiteSize:
    """A candidate site's size in a scenario, where the plan sets it (not the sites file's).

    Parameters
    ----------
    site_id
        The candidate site.
    places
        Places when fully open.
    capital_gbp
        Capital cost of the base at that size (£).
    """

    site_id: str
    places: int
    capital_gbp: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """A set of new inclusion bases and the rule for who may move into them.

    Parameters
    ----------
    name
        Short name shown in the report.
    open_sites
        Candidate ``site_id`` values to open.
    movable
        Baseline placement categories whose pupils may move (``out_of_area``, ``independent``,
        ``non_maintained``, ``special``, ``mainstream``).
    phase_transfer_only
        Only pupils at a phase transfer point move.
    max_extra_journey_min
        A move may lengthen a journey by at most this much.
    description
        Free text for the report.
    site_sizes
        Sizes of candidate sites that differ from the candidate sites file's ``places`` and
        ``capital_cost_gbp`` (the plan's ``[[scenario.site]]`` / ``[[flows.site]]``;
        :func:`placeplan.compute.flow_inputs.site_sizes`); every stage reads the sites through
        :meth:`sized`.
    """

    name: str
    open_sites: tuple[str, ...] = ()
    movable: frozenset[str] = field(default_factory=lambda: OOA_CATEGORIES)
    phase_transfer_only: bool = False
    max_extra_journey_min: float = 20.0
    description: str = ""
    site_sizes: tuple[SiteSize, ...] = ()

    def sized(self, df_sites: pd.DataFrame) -> pd.DataFrame:
        """Return the candidate sites with this scenario's ``places`` and ``capital_cost_gbp``.

        Examples
        --------
        >>> sites = pd.DataFrame({"site_id": ["B1"], "places": [20], "capital_cost_gbp": [1e6]})
        >>> Scenario("S", site_sizes=(SiteSize("B1", 8, 4e5),)).sized(sites)["places"].tolist()
        [8]
        """
        if not self.site_sizes or not len(df_sites):
            return df_sites
        out = df_sites.copy()
        ids = out["site_id"].astype(str).to_numpy()
        for size in self.site_sizes:
            hit = ids == size.site_id
            out.loc[hit, "places"] = size.places
            if "capital_cost_gbp" in out:
                out.loc[hit, "capital_cost_gbp"] = size.capital_gbp
        return out

    @classmethod
    def from_config(cls, cfg: ScenarioConfig) -> Scenario:
        """Build a scenario from a plan's ``[[scenario]]`` table."""
        return cls(
            name=cfg.name,
            open_sites=tuple(cfg.open_sites),
            movable=frozenset(cfg.movable),
            phase_transfer_only=cfg.phase_transfer_only,
            max_extra_journey_min=cfg.max_extra_journey_min,
            description=cfg.description,
        )


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """The allocation under a scenario and the places it opened."""

    scenario: Scenario
    allocation: pd.DataFrame
    new_places: pd.DataFrame


def new_places_from_sites(df_sites: pd.DataFrame, site_ids: tuple[str, ...]) -> pd.DataFrame:
    """Turn chosen candidate sites into new inclusion-base settings.

    Raises
    ------
    ConfigError
        If a site id is not among the candidate sites.
    """
    known = set(df_sites["site_id"].astype(str))
    missing = [s for s in site_ids if s not in known]
    if missing:
        msg = (
            f"scenario opens sites that are not in the candidate sites file: {missing}; "
            f"valid ids include {sorted(known)[:5]}"
        )
        raise ConfigError(msg)
    chosen = df_sites[df_sites["site_id"].astype(str).isin(site_ids)]
    return pd.DataFrame(
        {
            "setting_id": chosen["site_id"].astype(str).to_numpy(),
            "name": chosen["name"].to_numpy(),
            "provision_type": "inclusion_base",
            "host_setting_id": chosen["host_setting_id"].astype(str).to_numpy(),
            "needs": chosen["needs"].to_numpy(),
            "phases": chosen["phases"].to_numpy(),
            "capacity": chosen["places"].astype(int).to_numpy(),
            "annual_cost_per_place_gbp": chosen["annual_cost_per_place_gbp"]
            .astype(float)
            .to_numpy(),
            "capital_cost_gbp": chosen["capital_cost_gbp"].astype(float).to_numpy(),
        }
    )


def apply_scenario(
    scenario: Scenario,
    df_pupils: pd.DataFrame,
    df_baseline: pd.DataFrame,
    df_sites: pd.DataFrame,
    df_journeys: pd.DataFrame,
    *,
    costs: CostModel,
    max_journey_min_by_phase: dict[str, float],
) -> ScenarioResult:
    """Open the scenario's sites and re-allocate the pupils it allows to move.

    Parameters
    ----------
    scenario
        The scenario.
    df_pupils, df_baseline
        Geocoded pupils and their baseline allocation (same index).
    df_sites
        Candidate sites (``site_id``, ``host_setting_id``, ``needs``, ``phases``, ``places``,
        ``capital_cost_gbp``, ``annual_cost_per_place_gbp``); the scenario's ``site_sizes``
        replace their places and capital.
    df_journeys
        Journey matrix that includes the candidate sites as destinations.
    costs
        Cost parameters.
    max_journey_min_by_phase
        Reasonable maximum journey per phase.

    Returns
    -------
    result
        The scenario allocation (every pupil exactly once) and the new places.
    """
    places = new_places_from_sites(scenario.sized(df_sites), scenario.open_sites)
    allocation = reallocate(
        df_pupils,
        df_baseline,
        places,
        df_journeys,
        movable=scenario.movable,
        costs=costs,
        max_journey_min_by_phase=max_journey_min_by_phase,
        max_extra_journey_min=scenario.max_extra_journey_min,
        phase_transfer_only=scenario.phase_transfer_only,
    )
    logger.info(
        "apply_scenario %r: %s sites, %s places, %s pupils moved",
        scenario.name,
        len(places),
        f"{int(places['capacity'].sum()) if len(places) else 0:,}",
        f"{int(allocation['moved'].sum()):,}",
    )
    return ScenarioResult(scenario=scenario, allocation=allocation, new_places=places)
