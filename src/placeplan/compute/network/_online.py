"""Online networks: osmnx download by polygon or named place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely

from placeplan import _cache
from placeplan._errors import NetworkError
from placeplan.compute.network._model import FORMAT_VERSION, RoadNetwork
from placeplan.compute.network._osm import network_from_networkx
from placeplan.compute.network._speed import SpeedModel, parse_maxspeed
from placeplan.settings import settings
from placeplan.vocab import CRS

if TYPE_CHECKING:
    from shapely.geometry import MultiPolygon, Polygon

logger = logging.getLogger(__name__)

_OFFLINE_HINT = (
    "Downloading a network needs the internet; offline, export the area's roads to an OSM PBF "
    "or XML file (e.g. a Geofabrik extract) and set `inputs.network` to that file instead of "
    "`inputs.network_place`."
)


def _osmnx_cache_into_placeplan(ox: Any) -> None:
    """Keep osmnx's HTTP response cache under ``placeplan.settings.cache_folder``."""
    folder = Path(settings.cache_folder) / "osmnx-http"
    folder.mkdir(parents=True, exist_ok=True)
    ox.settings.cache_folder = str(folder)
    ox.settings.use_cache = bool(settings.use_cache)


def network_from_polygon(
    polygon: Any,
    *,
    buffer_m: float = 0.0,
    polygon_crs: str = "EPSG:4326",
    speed_model: SpeedModel | None = None,
    use_cache: bool | None = None,
) -> RoadNetwork:
    """Download the drivable network inside ``polygon`` (+ ``buffer_m``) with osmnx (online).

    Speeds are set on the unsimplified graph from the speed model, then osmnx simplifies it with
    travel times and lengths *summed*, so merged ways keep length-weighted times. Cached on disk by
    the polygon, buffer and speed model (delete the cache entry to fetch fresher OSM data).
    """
    import osmnx as ox
    from pyproj import Transformer
    from shapely.ops import transform

    model = speed_model or SpeedModel()
    # shapely.geometry.shape accepts any GeoJSON-like mapping; the stubs only admit a dict
    poly = (
        shapely.geometry.shape(cast("dict[str, Any]", polygon))
        if isinstance(polygon, Mapping)
        else polygon
    )
    if buffer_m:
        to_bng = Transformer.from_crs(polygon_crs, CRS, always_xy=True).transform
        poly = transform(to_bng, poly).buffer(buffer_m)
        polygon_crs = CRS
    if polygon_crs.upper() != "EPSG:4326":
        to_wgs = Transformer.from_crs(polygon_crs, "EPSG:4326", always_xy=True).transform
        poly = transform(to_wgs, poly)
    key = _cache.cache_key(FORMAT_VERSION, "osmnx-polygon", shapely.to_wkb(poly), model.to_dict())
    use = _cache.resolve_use_cache(use_cache)
    cpath = _cache.cache_path("network", key, ".npz") if use else None
    if cpath is not None:
        cached = _cache.read_entry(cpath, RoadNetwork.load_npz, kind="network")
        if cached is not None:
            _cache.log_hit("network", cpath)
            return cached
        _cache.log_miss("network", cpath)
    hw = "|".join(sorted(model.class_kph))
    cf = (
        f'["highway"~"^({hw})$"]["area"!~"yes"]["access"!~"private|no"]'
        '["motor_vehicle"!~"no|private"]["motorcar"!~"no|private"]'
    )
    _osmnx_cache_into_placeplan(ox)
    try:
        # `polygon` is a (multi)polygon; buffering and reprojecting keep it one
        G = ox.graph_from_polygon(
            cast("Polygon | MultiPolygon", poly), custom_filter=cf, simplify=False, retain_all=False
        )
    except Exception as err:
        msg = f"osmnx could not download the network ({type(err).__name__}: {err}). {_OFFLINE_HINT}"
        raise NetworkError(msg) from err
    ds = [d for _, _, d in G.edges(data=True)]
    hwy = [d.get("highway", "road") for d in ds]
    hwy = [h[0] if isinstance(h, list) else h for h in hwy]
    ms = np.array([parse_maxspeed(d.get("maxspeed")) for d in ds])
    kph = model.edge_speeds_kph(hwy, ms)
    for d, k in zip(ds, kph, strict=True):
        d["travel_time"] = float(d["length"]) / (k / 3.6)
    G = ox.simplify_graph(G, edge_attr_aggs={"length": "sum", "travel_time": "sum"})
    G = ox.project_graph(G, to_crs=CRS)
    net = network_from_networkx(G, speed_model=None, source="osmnx polygon", content_hash=key)
    net = RoadNetwork(
        **{**{k: getattr(net, k) for k in net.__dataclass_fields__}, "speed_model": model}
    )
    if cpath is not None:
        try:
            _cache.write_entry(cpath, net.save_npz)
        except OSError as err:
            logger.warning("could not write network cache: %s", err)
    return net


def network_from_place(
    place: str | dict[str, str],
    *,
    buffer_m: float = 10_000,
    speed_model: SpeedModel | None = None,
    use_cache: bool | None = None,
) -> RoadNetwork:
    """Download the drivable network for a named place plus ``buffer_m`` with osmnx (online).

    ``place`` is geocoded with ``osmnx.geocode_to_gdf`` (e.g. ``"Hampshire, England"``); the
    boundary is buffered in EPSG:27700 so journeys that leave the authority are routed properly.
    """
    import osmnx as ox

    _osmnx_cache_into_placeplan(ox)
    try:
        gdf = ox.geocode_to_gdf(place)
    except Exception as err:
        msg = (
            f"osmnx could not geocode `place` {place!r} ({type(err).__name__}: {err}). "
            f"{_OFFLINE_HINT}"
        )
        raise NetworkError(msg) from err
    poly = gdf.to_crs(CRS).union_all()
    return network_from_polygon(
        poly, buffer_m=buffer_m, polygon_crs=CRS, speed_model=speed_model, use_cache=use_cache
    )
