"""Road network: drivable graph from OSM PBF/XML, GraphML or osmnx; speeds; snapping; isochrones.

A :class:`RoadNetwork` is a set of numpy arrays in EPSG:27700 (nodes, directed edges and the edge
geometries), restricted to the largest strongly connected component of the drivable roads. It is
built straight from OSM files with pyosmium (no OSM XML round trip through osmnx), cached on disk
as ``.npz`` keyed by the file's content, and converts to an osmnx-style ``MultiDiGraph`` with
:meth:`RoadNetwork.to_networkx`.

Graph model
-----------
Each OSM way is split at the nodes it shares with other drivable ways (and at its ends), as
osmnx's simplification does. Every piece is a *chain*: one polyline with one set of tags. A chain
gives a forward edge, a backward edge, or both (one-way rules below). Speeds are set per way
before any merging, so there is no ``maxspeed`` averaging across ways (routing.md pitfall).

One-way rules: ``oneway=yes/true/1`` forward only, ``oneway=-1/reverse`` backward only,
``junction=roundabout/circular`` and ``highway=motorway`` imply forward only unless
``oneway=no``. Drivable: the highway classes in :data:`UK_CLASS_KPH` (``service`` is excluded as in
osmnx's ``drive`` filter), dropping ``area=yes`` and ``access``/``motor_vehicle``/``motorcar`` =
``no``/``private`` unless a motor-vehicle tag allows it.
"""

from placeplan.compute.network._isochrones import isochrones
from placeplan.compute.network._model import RoadNetwork
from placeplan.compute.network._online import network_from_place, network_from_polygon
from placeplan.compute.network._osm import load_network
from placeplan.compute.network._osm import network_from_networkx as network_from_networkx
from placeplan.compute.network._routing import snap_points
from placeplan.compute.network._speed import UK_CLASS_KPH, SpeedModel, parse_maxspeed, speed_model
from placeplan.vocab import CRS as CRS

__all__ = [
    "UK_CLASS_KPH",
    "RoadNetwork",
    "SpeedModel",
    "isochrones",
    "load_network",
    "network_from_place",
    "network_from_polygon",
    "parse_maxspeed",
    "snap_points",
    "speed_model",
]
