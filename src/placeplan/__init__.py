"""placeplan: SEND place planning and travel impact assessment for English local authorities.

A run flows one way, prepare → compute → publish::

    import placeplan

    plan = placeplan.load_plan("data/sample/isle-of-wight/plan.toml")
    result = placeplan.run(plan)                 # prepare + compute: tables and layers
    files = placeplan.publish(result, "maps/x")  # disclosure control, report, maps, CSV, GPKG

The stages live in the subpackages ``placeplan.prepare``, ``placeplan.compute`` and
``placeplan.publish`` (the name ``placeplan.publish`` itself is the publish function; import its
modules with ``from placeplan.publish.maps import ...``). :func:`load_inputs` runs the prepare stage
alone, :func:`placeplan.compute.compute` the compute stage; the stage functions are here too:
:func:`load_network`, :func:`travel_matrix`, :func:`journey_matrix`, :func:`baseline_allocation`,
:func:`apply_scenario`, :func:`score_sites`, :func:`optimise_sites`,
:func:`assess_impact`, :func:`isochrones`, :func:`suppress`.
"""

from __future__ import annotations

import contextlib
import logging
from importlib.metadata import PackageNotFoundError, version

from placeplan._errors import (
    CacheError,
    ConfigError,
    CRSError,
    GeocodeMatchWarning,
    InfeasibleModelError,
    InputFileError,
    NetworkError,
    PlaceplanError,
    PlaceplanWarning,
    SchemaValidationError,
    SnapWarning,
    UnreachableWarning,
)
from placeplan.settings import settings

__version__ = "0+unknown"
with contextlib.suppress(PackageNotFoundError):
    __version__ = version("placeplan")

# the public API (imported after __version__, which publish stamps on every output)
from placeplan.compute.allocation import CostModel, baseline_allocation
from placeplan.compute.impact import ImpactAssessment, assess_impact
from placeplan.compute.journeys import MainlandLeg, journey_matrix
from placeplan.compute.matrix import travel_matrix
from placeplan.compute.network import (
    RoadNetwork,
    SpeedModel,
    isochrones,
    load_network,
    network_from_place,
    network_from_polygon,
    snap_points,
)
from placeplan.compute.optimise import OptimisationResult, optimise_sites
from placeplan.compute.points import as_xy
from placeplan.compute.run import (
    RunResult,
    calibrate_costs,
    cost_model,
    journey_limits,
    load_plan_network,
    select_sites,
    speed_model,
)
from placeplan.compute.scenario import Scenario, ScenarioResult, apply_scenario
from placeplan.compute.scoring import score_sites, weight_sensitivity
from placeplan.config import PlanConfig, load_plan
from placeplan.pipeline import run, run_and_publish
from placeplan.prepare.inputs import Inputs
from placeplan.prepare.inputs import prepare as load_inputs
from placeplan.publish import publish
from placeplan.publish.disclosure import suppress
from placeplan.publish.report.build import published_impact

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "CRSError",
    "CacheError",
    "ConfigError",
    "CostModel",
    "GeocodeMatchWarning",
    "ImpactAssessment",
    "InfeasibleModelError",
    "InputFileError",
    "Inputs",
    "MainlandLeg",
    "NetworkError",
    "OptimisationResult",
    "PlaceplanError",
    "PlaceplanWarning",
    "PlanConfig",
    "RoadNetwork",
    "RunResult",
    "Scenario",
    "ScenarioResult",
    "SchemaValidationError",
    "SnapWarning",
    "SpeedModel",
    "UnreachableWarning",
    "__version__",
    "apply_scenario",
    "as_xy",
    "assess_impact",
    "baseline_allocation",
    "calibrate_costs",
    "cost_model",
    "isochrones",
    "journey_limits",
    "journey_matrix",
    "load_inputs",
    "load_network",
    "load_plan",
    "load_plan_network",
    "network_from_place",
    "network_from_polygon",
    "optimise_sites",
    "publish",
    "published_impact",
    "run",
    "run_and_publish",
    "score_sites",
    "select_sites",
    "settings",
    "snap_points",
    "speed_model",
    "suppress",
    "travel_matrix",
    "weight_sensitivity",
]
