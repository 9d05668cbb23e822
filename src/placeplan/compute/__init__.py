"""The compute stage: prepared inputs → results (network, journeys, allocation, scenarios, scoring,
optimisation, impact, projection and every spatial layer, EPSG:27700). Writes nothing."""

from placeplan.compute.run import RunResult, compute

__all__ = ["RunResult", "compute"]
