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

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from . import _cache
from ._errors import ConfigError, NetworkError, SchemaValidationError, SnapWarning
from .settings import settings

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

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
]

logger = logging.getLogger(__name__)

CRS = "EPSG:27700"
_FORMAT_VERSION = "network-v1"
_MPH = 1.609344

#: Default free-flow car speeds (km/h) by OSM ``highway`` class, for England.
#:
#: Basis: the national speed limits (motorway and dual carriageway 70 mph, single carriageway
#: 60 mph, built-up "restricted" roads 30 mph) reduced for junctions, bends, overtaking limits and
#: the small vehicles used for home-to-school transport, in line with DfT average-speed statistics
#: (CGN0501/CGN0502: local 'A' roads average ~25 mph in the weekday morning peak, ~30 mph off-peak).
#: With ``use_maxspeed`` a tagged limit caps these (``min(tagged, class)``), which tracked real
#: drive times best on this project's test data (docs: routing notes). Calibrate locally if you can.
UK_CLASS_KPH: Mapping[str, float] = {
    "motorway": 100.0,  # 62 mph: 70 mph limit less merges and HGV/minibus mix
    "motorway_link": 60.0,
    "trunk": 80.0,  # 50 mph: mostly dual/major single carriageway
    "trunk_link": 50.0,
    "primary": 65.0,  # 40 mph: A roads through mixed rural/urban
    "primary_link": 45.0,
    "secondary": 55.0,  # 34 mph: B roads
    "secondary_link": 40.0,
    "tertiary": 45.0,  # 28 mph: C roads / local distributors
    "tertiary_link": 35.0,
    "unclassified": 35.0,  # narrow rural lanes and minor roads
    "residential": 25.0,  # 30 mph limit, parked cars, junctions
    "living_street": 10.0,
    "road": 30.0,  # unknown classification
}

_NSL_KPH = {
    "gb:nsl_single": 60 * _MPH,
    "uk:nsl_single": 60 * _MPH,
    "gb:nsl_dual": 70 * _MPH,
    "uk:nsl_dual": 70 * _MPH,
    "gb:motorway": 70 * _MPH,
    "uk:motorway": 70 * _MPH,
    "gb:nsl_restricted": 30 * _MPH,
    "uk:nsl_restricted": 30 * _MPH,
    "gb:urban": 30 * _MPH,
    "uk:urban": 30 * _MPH,
    "gb:zone20": 20 * _MPH,
    "gb:zone30": 30 * _MPH,
    "walk": 6.0,
}


def _class_label(highway: str) -> str:
    """Plain-English name of an OSM ``highway`` class for the report."""
    special = {
        "road": "roads of unknown class (highway=road)",
        "living_street": "living streets",
        "unclassified": "unclassified roads",
        "residential": "residential streets",
    }
    if highway in special:
        return special[highway]
    if highway.endswith("_link"):
        return f"{highway.removesuffix('_link')} slip roads"
    return f"{highway} roads"


def parse_maxspeed(value: Any) -> float:
    """Parse an OSM ``maxspeed`` value to km/h (NaN if absent or not a number).

    Handles ``"30 mph"``, ``"50"`` (km/h), ``"50 km/h"``, UK implicit values such as
    ``"GB:nsl_single"``, lists (``"20 mph;30 mph"`` or a Python list: the *lowest* value is used)
    and ignores ``none``/``signals``/``variable``.

    >>> round(parse_maxspeed("30 mph"), 2)
    48.28
    >>> parse_maxspeed("50")
    50.0
    >>> round(parse_maxspeed("GB:nsl_single"), 1)
    96.6
    >>> parse_maxspeed("signals")
    nan
    """
    if value is None:
        return math.nan
    if isinstance(value, list | tuple):
        parsed = [parse_maxspeed(v) for v in value]
        parsed = [p for p in parsed if not math.isnan(p)]
        return min(parsed) if parsed else math.nan
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return v if v > 0 else math.nan
    text = str(value).strip().lower()
    if not text:
        return math.nan
    if ";" in text or "|" in text:
        return parse_maxspeed([p for p in text.replace("|", ";").split(";") if p.strip()])
    if text.startswith("[") and text.endswith("]"):
        return parse_maxspeed([p.strip(" '\"") for p in text[1:-1].split(",")])
    if text in _NSL_KPH:
        return _NSL_KPH[text]
    factor = 1.0
    if text.endswith("mph"):
        factor, text = _MPH, text[:-3]
    elif text.endswith("km/h") or text.endswith("kph"):
        text = text[:-4] if text.endswith("km/h") else text[:-3]
    elif text.endswith("knots"):
        factor, text = 1.852, text[:-5]
    try:
        v = float(text.strip()) * factor
    except ValueError:
        return math.nan
    return v if v > 0 else math.nan


@dataclass(frozen=True)
class SpeedModel:
    """UK road speed model: class speeds, tagged limits, urban/rural and peak factors.

    Edge speed (km/h) = ``base × area_factor × peak_factor`` where ``base`` is the class speed
    (:data:`UK_CLASS_KPH`), capped by the tagged ``maxspeed`` when ``use_maxspeed`` (the
    ``min(tagged, class)`` rule), and ``area_factor`` is ``urban_factor`` on *urban* edges (limit
    ≤ ``urban_limit_kph``, i.e. the UK 30 mph "restricted road" class, or ``residential`` /
    ``living_street`` roads) and ``rural_factor`` elsewhere.

    Journeys also get ``fixed_allowance_min`` once (kerbside pick-up, loading a wheelchair,
    parking), and the legs between a point and its snapped road position are timed at
    ``access_speed_kph`` over the straight-line snap distance (driveways, service roads and car
    parks are not in the drive network).

    Parameters
    ----------
    class_kph
        km/h by OSM ``highway`` value; classes not listed are not drivable.
    use_maxspeed
        Cap class speeds by tagged ``maxspeed``.
    urban_factor, rural_factor, peak_factor
        Multipliers (> 0), e.g. ``peak_factor=0.8`` for the school-run peak.
    urban_limit_kph
        Speed limit at or below which an edge counts as urban (default 50 km/h ≈ 30 mph).
    fixed_allowance_min
        Minutes added once per journey.
    access_speed_kph
        Straight-line speed of the access legs between a point and the road.
    default_kph
        Speed for GraphML edges whose class is not in ``class_kph``.
    """

    class_kph: Mapping[str, float] = field(default_factory=lambda: dict(UK_CLASS_KPH))
    use_maxspeed: bool = True
    urban_factor: float = 1.0
    rural_factor: float = 1.0
    peak_factor: float = 1.0
    urban_limit_kph: float = 50.0
    fixed_allowance_min: float = 0.0
    access_speed_kph: float = 20.0
    default_kph: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_kph", {str(k): float(v) for k, v in self.class_kph.items()})
        if not self.class_kph:
            msg = "`class_kph` is empty: give at least one drivable highway class and its km/h"
            raise ConfigError(msg)
        bad = {k: v for k, v in self.class_kph.items() if not v > 0}
        if bad:
            msg = f"`class_kph` speeds must be > 0 km/h, got {bad}"
            raise ConfigError(msg)
        for name in (
            "urban_factor",
            "rural_factor",
            "peak_factor",
            "urban_limit_kph",
            "access_speed_kph",
            "default_kph",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v > 0 and math.isfinite(v)):
                msg = f"`{name}` must be a finite number > 0, got {v!r}"
                raise ConfigError(msg)
        if not (self.fixed_allowance_min >= 0 and math.isfinite(self.fixed_allowance_min)):
            msg = f"`fixed_allowance_min` must be >= 0, got {self.fixed_allowance_min!r}"
            raise ConfigError(msg)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a JSON-serialisable dict (also the cache-key input)."""
        d = asdict(self)
        d["class_kph"] = dict(sorted(self.class_kph.items()))
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SpeedModel:
        """Inverse of :meth:`to_dict`."""
        return cls(**dict(d))

    def edge_speeds_kph(self, highway: Sequence[str], maxspeed_kph: np.ndarray) -> np.ndarray:
        """Return km/h per edge for ``highway`` classes and parsed ``maxspeed`` (NaN = untagged).

        >>> SpeedModel().edge_speeds_kph(["primary", "primary"], np.array([np.nan, 48.0]))
        array([65., 48.])
        """
        hw = pd.Series(np.asarray(highway, dtype=object))
        base = hw.map(self.class_kph).to_numpy(dtype=float, na_value=np.nan)
        base = np.where(np.isnan(base), self.default_kph, base)
        tagged = np.asarray(maxspeed_kph, dtype=float)
        limit = np.where(np.isnan(tagged), base, tagged)
        speed = np.fmin(base, tagged) if self.use_maxspeed else base
        urban = (limit <= self.urban_limit_kph + 1e-9) | hw.isin(
            ["residential", "living_street"]
        ).to_numpy()
        factor = np.where(urban, self.urban_factor, self.rural_factor) * self.peak_factor
        return speed * factor

    def describe(self) -> list[tuple[str, str]]:
        """Return (label, value) rows for the report's method section.

        >>> dict(SpeedModel().describe())["Speed: residential streets"]
        '25 km/h (16 mph)'
        """
        rows = [
            (f"Speed: {_class_label(k)}", f"{v:g} km/h ({v / _MPH:.0f} mph)")
            for k, v in self.class_kph.items()
        ]
        rows += [
            (
                "Tagged speed limits",
                "used as a cap: min(tagged maxspeed, class speed)"
                if self.use_maxspeed
                else "ignored (class speeds only)",
            ),
            (
                "Urban / rural factor",
                f"× {self.urban_factor:g} on roads limited to ≤ {self.urban_limit_kph:g} km/h "
                f"or residential; × {self.rural_factor:g} elsewhere",
            ),
            ("Peak-time factor", f"× {self.peak_factor:g} on all speeds"),
            ("Fixed allowance per journey", f"{self.fixed_allowance_min:g} min (kerbside/loading)"),
            (
                "Access legs",
                f"straight line from point to nearest drivable road at {self.access_speed_kph:g} "
                "km/h",
            ),
            ("Road network", "OpenStreetMap drivable roads, largest strongly connected part"),
        ]
        return rows


@dataclass(frozen=True)
class _Routing:
    """CSR matrices for routing (built once per network, see :meth:`RoadNetwork._routing`)."""

    time_csr: sp.csr_matrix  # float seconds, min over parallel edges, forward
    enc_csr_t: sp.csr_matrix  # encoded time/length, transposed (rows = edge heads)
    scale: float  # 2**length_bits
    time_unit_s: float
    length_unit_m: float
    edge_time_units: np.ndarray
    edge_length_units: np.ndarray
    diameter_bound_s: float


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A drivable road network as arrays in EPSG:27700 (largest strongly connected component).

    Nodes are indexed ``0..n_nodes-1``; directed edge ``i`` runs ``edge_u[i] -> edge_v[i]``.
    Edge geometries are stored once per *chain* (a polyline shared by an edge and its reverse):
    ``chain_x/chain_y[chain_offsets[c]:chain_offsets[c+1]]`` runs from ``chain_u[c]`` to
    ``chain_v[c]``; ``chain_fwd[c]``/``chain_bwd[c]`` is the edge index travelling along/against
    it, or -1. ``edge_chain`` maps edges back to chains.
    """

    node_osmid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    highway: np.ndarray
    crs: str
    source: str
    content_hash: str
    edge_osmid: np.ndarray
    maxspeed_kph: np.ndarray
    edge_chain: np.ndarray
    chain_u: np.ndarray
    chain_v: np.ndarray
    chain_fwd: np.ndarray
    chain_bwd: np.ndarray
    chain_offsets: np.ndarray
    chain_x: np.ndarray
    chain_y: np.ndarray
    speed_model: SpeedModel = field(default_factory=SpeedModel)
    stats: Mapping[str, Any] = field(default_factory=dict)

    # -- basic facts -------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, crs={self.crs!r}, "
            f"source={self.source!r})"
        )

    @cached_property
    def chain_lines(self) -> np.ndarray:
        """Shapely LineStrings, one per chain (EPSG:27700)."""
        coords = np.column_stack([self.chain_x, self.chain_y])
        counts = np.diff(self.chain_offsets)
        idx = np.repeat(np.arange(len(counts)), counts)
        return shapely.linestrings(coords, indices=idx)

    @cached_property
    def _chain_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.chain_lines)

    @cached_property
    def _routing(self) -> _Routing:
        return _build_routing(self)

    # -- conversion --------------------------------------------------------------------------
    def to_networkx(self, *, geometry: bool = True) -> nx.MultiDiGraph:
        """Return an osmnx-style ``MultiDiGraph`` (node keys are ``node_osmid``).

        Nodes carry ``x``, ``y``; edges ``osmid``, ``highway``, ``oneway``, ``reversed``,
        ``length`` (m), ``speed_kph``, ``travel_time`` (s), ``maxspeed`` (km/h, when tagged) and
        ``geometry`` (LineString, if ``geometry``); ``G.graph["crs"]`` is ``"EPSG:27700"``.
        The result is accepted by osmnx (``graph_to_gdfs``, ``save_graphml``, routing).
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs=self.crs, simplified=True, created_with="placeplan")
        ids = self.node_osmid.tolist()
        G.add_nodes_from(
            (nid, {"x": float(xx), "y": float(yy), "osmid": nid})
            for nid, xx, yy in zip(ids, self.x.tolist(), self.y.tolist(), strict=True)
        )
        has_bwd = self.chain_bwd[self.edge_chain] >= 0
        has_fwd = self.chain_fwd[self.edge_chain] >= 0
        rev = self.chain_bwd[self.edge_chain] == np.arange(self.n_edges)
        oneway = ~(has_fwd & has_bwd)
        lines = self.chain_lines if geometry else None
        speed = self.length_m / np.maximum(self.travel_time_s, 1e-9) * 3.6
        edges = []
        for i in range(self.n_edges):
            attrs: dict[str, Any] = {
                "osmid": int(self.edge_osmid[i]),
                "highway": str(self.highway[i]),
                "oneway": bool(oneway[i]),
                "reversed": bool(rev[i]),
                "length": float(self.length_m[i]),
                "speed_kph": float(speed[i]),
                "travel_time": float(self.travel_time_s[i]),
            }
            if not np.isnan(self.maxspeed_kph[i]):
                attrs["maxspeed"] = f"{self.maxspeed_kph[i]:g}"
            if lines is not None:
                line = lines[self.edge_chain[i]]
                attrs["geometry"] = line.reverse() if rev[i] else line
            edges.append((ids[self.edge_u[i]], ids[self.edge_v[i]], attrs))
        G.add_edges_from(edges)
        return G

    def nodes_xy(self) -> np.ndarray:
        """Return an ``(n_nodes, 2)`` array of node coordinates."""
        return np.column_stack([self.x, self.y])

    # -- persistence -------------------------------------------------------------------------
    _ARRAYS = (
        "node_osmid",
        "x",
        "y",
        "edge_u",
        "edge_v",
        "length_m",
        "travel_time_s",
        "highway",
        "edge_osmid",
        "maxspeed_kph",
        "edge_chain",
        "chain_u",
        "chain_v",
        "chain_fwd",
        "chain_bwd",
        "chain_offsets",
        "chain_x",
        "chain_y",
    )

    def save_npz(self, path: str | Path) -> None:
        """Write the network to an uncompressed ``.npz`` (fast to reload)."""
        meta = {
            "crs": self.crs,
            "source": self.source,
            "content_hash": self.content_hash,
            "speed_model": self.speed_model.to_dict(),
            "stats": dict(self.stats),
            "format": _FORMAT_VERSION,
        }
        arrays = {k: getattr(self, k) for k in self._ARRAYS}
        arrays["highway"] = np.asarray(self.highway, dtype=str)
        np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load_npz(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`save_npz`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            if meta.get("format") != _FORMAT_VERSION:
                msg = f"`{path}` is not a {_FORMAT_VERSION} network file"
                raise NetworkError(msg)
            arrays = {k: z[k] for k in cls._ARRAYS}
        arrays["highway"] = _intern(arrays["highway"])
        return cls(
            **arrays,
            crs=meta["crs"],
            source=meta["source"],
            content_hash=meta["content_hash"],
            speed_model=SpeedModel.from_dict(meta["speed_model"]),
            stats=meta["stats"],
        )


# =============================================================================================
# Building networks
# =============================================================================================


def _build(
    *,
    node_osmid: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    chain_u: np.ndarray,
    chain_v: np.ndarray,
    chain_offsets: np.ndarray,
    chain_x: np.ndarray,
    chain_y: np.ndarray,
    chain_dir: np.ndarray,
    chain_length_m: np.ndarray,
    chain_highway: np.ndarray,
    chain_maxspeed_kph: np.ndarray,
    chain_osmid: np.ndarray,
    speed_model: SpeedModel,
    source: str,
    content_hash: str,
    chain_time_fwd_s: np.ndarray | None = None,
    chain_time_bwd_s: np.ndarray | None = None,
    keep_largest_scc: bool = True,
    stats: Mapping[str, Any] | None = None,
) -> RoadNetwork:
    """Assemble a RoadNetwork from chains; ``chain_dir`` is 0 both ways, 1 forward, -1 backward.

    Travel times come from ``speed_model`` unless given per chain and direction.
    """
    n_nodes_in = len(x)
    chain_dir = np.asarray(chain_dir)
    if chain_time_fwd_s is None or chain_time_bwd_s is None:
        kph = speed_model.edge_speeds_kph(chain_highway, chain_maxspeed_kph)
        t = chain_length_m / (kph / 3.6)
        chain_time_fwd_s = t if chain_time_fwd_s is None else chain_time_fwd_s
        chain_time_bwd_s = t if chain_time_bwd_s is None else chain_time_bwd_s

    fwd_c = np.flatnonzero(chain_dir >= 0)
    bwd_c = np.flatnonzero(chain_dir <= 0)
    e_chain = np.concatenate([fwd_c, bwd_c])
    e_u = np.concatenate([chain_u[fwd_c], chain_v[bwd_c]])
    e_v = np.concatenate([chain_v[fwd_c], chain_u[bwd_c]])
    e_time = np.concatenate([chain_time_fwd_s[fwd_c], chain_time_bwd_s[bwd_c]]).astype(float)
    is_bwd = np.r_[np.zeros(len(fwd_c), bool), np.ones(len(bwd_c), bool)]

    if keep_largest_scc and n_nodes_in:
        A = sp.csr_matrix((np.ones(len(e_u), np.int8), (e_u, e_v)), shape=(n_nodes_in, n_nodes_in))
        _, labels = connected_components(A, directed=True, connection="strong")
        largest = np.bincount(labels).argmax()
        keep_node = labels == largest
    else:
        keep_node = np.ones(n_nodes_in, bool)
    new_index = np.full(n_nodes_in, -1, np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    keep_chain = keep_node[chain_u] & keep_node[chain_v]
    chain_new = np.full(len(chain_u), -1, np.int64)
    chain_new[keep_chain] = np.arange(int(keep_chain.sum()))
    keep_edge = keep_chain[e_chain]

    # chain coordinates
    counts = np.diff(chain_offsets)
    kept_counts = counts[keep_chain]
    pt_mask = np.repeat(keep_chain, counts)
    offsets = np.r_[0, np.cumsum(kept_counts)].astype(np.int64)

    e_chain_k = chain_new[e_chain[keep_edge]]
    is_bwd_k = is_bwd[keep_edge]
    n_chain = int(keep_chain.sum())
    n_edge = len(e_chain_k)
    chain_fwd = np.full(n_chain, -1, np.int64)
    chain_bwd = np.full(n_chain, -1, np.int64)
    eidx = np.arange(n_edge)
    chain_fwd[e_chain_k[~is_bwd_k]] = eidx[~is_bwd_k]
    chain_bwd[e_chain_k[is_bwd_k]] = eidx[is_bwd_k]

    c_old = np.flatnonzero(keep_chain)
    hw = np.asarray(chain_highway, dtype=str)
    st = dict(stats or {})
    st.update(
        nodes_before_scc=int(n_nodes_in),
        nodes=int(keep_node.sum()),
        edges=n_edge,
        share_nodes_kept=float(keep_node.mean()) if n_nodes_in else 1.0,
    )
    i32 = np.int32
    net = RoadNetwork(
        node_osmid=np.asarray(node_osmid, np.int64)[keep_node],
        x=np.asarray(x, float)[keep_node],
        y=np.asarray(y, float)[keep_node],
        edge_u=new_index[e_u[keep_edge]].astype(i32),
        edge_v=new_index[e_v[keep_edge]].astype(i32),
        length_m=np.asarray(chain_length_m, float)[c_old][e_chain_k],
        travel_time_s=e_time[keep_edge],
        highway=_intern(hw[c_old][e_chain_k]),
        crs=CRS,
        source=source,
        content_hash=content_hash,
        edge_osmid=np.asarray(chain_osmid, np.int64)[c_old][e_chain_k],
        maxspeed_kph=np.asarray(chain_maxspeed_kph, float)[c_old][e_chain_k],
        edge_chain=e_chain_k.astype(i32),
        chain_u=new_index[chain_u[keep_chain]].astype(i32),
        chain_v=new_index[chain_v[keep_chain]].astype(i32),
        chain_fwd=chain_fwd.astype(i32),
        chain_bwd=chain_bwd.astype(i32),
        chain_offsets=offsets,
        chain_x=np.asarray(chain_x, float)[pt_mask],
        chain_y=np.asarray(chain_y, float)[pt_mask],
        speed_model=speed_model,
        stats=st,
    )
    if net.n_nodes < 2 or net.n_edges == 0:
        msg = f"the drivable network from {source} has no connected roads ({net.n_nodes} nodes)"
        raise NetworkError(msg)
    return net


def _intern(values: np.ndarray) -> np.ndarray:
    """Object array of shared str objects (one per distinct value): 8 bytes per edge."""
    uniq, inv = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return np.array([str(u) for u in uniq], dtype=object)[inv]


_ONEWAY_FWD = {"yes", "true", "1"}
_ONEWAY_BWD = {"-1", "reverse"}
_ALLOW = {"yes", "designated", "permissive", "destination", "customers", "delivery"}
_DENY = {"no", "private"}


def _is_drivable(tags: Any, classes: Mapping[str, float]) -> str | None:
    hw = tags.get("highway")
    if hw not in classes or tags.get("area") == "yes":
        return None
    mv = tags.get("motor_vehicle") or tags.get("motorcar")
    if mv in _DENY:
        return None
    if tags.get("access") in _DENY and mv not in _ALLOW:
        return None
    return hw


def _direction(tags: Any, hw: str) -> int:
    ow = (tags.get("oneway") or "").lower()
    if ow in _ONEWAY_FWD:
        return 1
    if ow in _ONEWAY_BWD:
        return -1
    if ow == "no":
        return 0
    if tags.get("junction") in {"roundabout", "circular"} or hw == "motorway":
        return 1
    return 0


def _read_osm(path: Path, speed_model: SpeedModel) -> dict[str, Any]:
    """Read drivable ways from an OSM file with pyosmium into flat arrays."""
    try:
        import osmium
    except ImportError as err:  # pragma: no cover - osmium is a core dependency
        msg = 'reading OSM files needs pyosmium: pip install "osmium>=3.7"'
        raise ImportError(msg) from err

    name = path.name.lower()
    fmt = next(
        (
            f
            for s, f in (
                (".osm.pbf", "pbf"),
                (".pbf", "pbf"),
                (".osm.bz2", "osm.bz2"),
                (".osm.gz", "osm.gz"),
                (".osm.xml", "osm"),
                (".osm", "osm"),
                (".xml", "osm"),
            )
            if name.endswith(s)
        ),
        None,
    )
    classes = speed_model.class_kph
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    way_start: list[int] = []
    w_hw: list[str] = []
    w_dir: list[int] = []
    w_max: list[float] = []
    w_id: list[int] = []
    try:
        fp = (
            osmium.FileProcessor(osmium.io.File(str(path), fmt), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            if not obj.is_way():
                continue
            tags = obj.tags
            hw = _is_drivable(tags, classes)
            if hw is None:
                continue
            direction = _direction(tags, hw)
            ms = parse_maxspeed(tags.get("maxspeed"))
            run = 0
            for nd in obj.nodes:
                loc = nd.location
                if not loc.valid():  # node missing from the extract: split the way here
                    if run == 1:
                        refs.pop()
                        lons.pop()
                        lats.pop()
                        way_start.pop()
                        w_hw.pop()
                        w_dir.pop()
                        w_max.pop()
                        w_id.pop()
                    run = 0
                    continue
                if run == 0:
                    way_start.append(len(refs))
                    w_hw.append(hw)
                    w_dir.append(direction)
                    w_max.append(ms)
                    w_id.append(obj.id)
                refs.append(nd.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
                run += 1
            if run == 1:  # a single-node way is no road
                refs.pop()
                lons.pop()
                lats.pop()
                way_start.pop()
                w_hw.pop()
                w_dir.pop()
                w_max.pop()
                w_id.pop()
    except RuntimeError as err:
        msg = f"cannot read OSM file `{path}`: {err}"
        raise NetworkError(msg) from err
    return {
        "refs": np.asarray(refs, np.int64),
        "lon": np.asarray(lons, float),
        "lat": np.asarray(lats, float),
        "way_start": np.asarray(way_start, np.int64),
        "highway": np.asarray(w_hw, dtype=str),
        "dir": np.asarray(w_dir, np.int8),
        "maxspeed": np.asarray(w_max, float),
        "osmid": np.asarray(w_id, np.int64),
    }


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> Any:
    r = 6_371_009.0  # osmnx's mean earth radius
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _to_bng(lon: np.ndarray, lat: np.ndarray, crs: str = "EPSG:4326") -> tuple[Any, Any]:
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, CRS, always_xy=True)
    return tr.transform(lon, lat)


def _chains_from_ways(raw: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Split ways at shared nodes into chains (vectorised)."""
    refs, lon, lat, ws = raw["refs"], raw["lon"], raw["lat"], raw["way_start"]
    m = len(refs)
    if m == 0:
        msg = "the OSM file has no drivable roads (highway classes in the speed model)"
        raise NetworkError(msg)
    is_first = np.zeros(m, bool)
    is_first[ws] = True
    is_last = np.zeros(m, bool)
    is_last[np.r_[ws[1:] - 1, m - 1]] = True
    way_of = np.cumsum(is_first) - 1
    uniq, inv, counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = (counts[inv] >= 2) | is_first | is_last
    node_pos = np.flatnonzero(is_node)
    start_mask = is_node[node_pos] & ~is_last[node_pos]
    starts = node_pos[start_mask]
    ends = node_pos[np.flatnonzero(start_mask) + 1]
    seg = np.zeros(m)
    seg[:-1] = _haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[is_last] = 0.0
    cum = np.r_[0.0, np.cumsum(seg)[:-1]]
    length = cum[ends] - cum[starts]

    # graph nodes
    node_ref_ids = np.unique(inv[node_pos])
    node_index_of_uniq = np.full(len(uniq), -1, np.int64)
    node_index_of_uniq[node_ref_ids] = np.arange(len(node_ref_ids))
    X, Y = _to_bng(lon, lat)
    X = np.asarray(X)
    Y = np.asarray(Y)
    first_pos = np.zeros(len(uniq), np.int64)
    first_pos[inv[::-1]] = np.arange(m)[::-1]
    node_pos_first = first_pos[node_ref_ids]

    npts = ends - starts + 1
    offsets = np.r_[0, np.cumsum(npts)].astype(np.int64)
    pt_idx = np.repeat(starts - offsets[:-1], npts) + np.arange(offsets[-1])
    w = way_of[starts]
    return {
        "node_osmid": uniq[node_ref_ids],
        "x": X[node_pos_first],
        "y": Y[node_pos_first],
        "chain_u": node_index_of_uniq[inv[starts]],
        "chain_v": node_index_of_uniq[inv[ends]],
        "chain_offsets": offsets,
        "chain_x": X[pt_idx],
        "chain_y": Y[pt_idx],
        "chain_dir": raw["dir"][w],
        "chain_length_m": length,
        "chain_highway": raw["highway"][w],
        "chain_maxspeed_kph": raw["maxspeed"][w],
        "chain_osmid": raw["osmid"][w],
    }


def _chains_from_networkx(G: nx.MultiDiGraph) -> tuple[dict[str, Any], bool]:
    """Turn an osmnx-style graph into chains, pairing each edge with its reverse twin.

    Returns the chain arrays and whether every edge carried ``travel_time``.
    """
    import networkx as nx

    crs = str(G.graph.get("crs", "EPSG:4326"))
    nodes = list(G.nodes)
    if not nodes:
        msg = "the graph has no nodes"
        raise NetworkError(msg)
    pos = {n: i for i, n in enumerate(nodes)}
    try:
        nx_ = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ny_ = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError as err:
        msg = "graph nodes need `x` and `y` attributes (osmnx style)"
        raise NetworkError(msg) from err
    same_crs = crs.upper().replace("EPSG:", "") == "27700"
    if same_crs:
        X, Y = nx_, ny_
    else:
        X, Y = (np.asarray(a) for a in _to_bng(nx_, ny_, crs))
    try:
        osmids = np.array([int(n) for n in nodes], np.int64)
    except (TypeError, ValueError):
        osmids = np.arange(len(nodes), dtype=np.int64)

    edges = list(G.edges(keys=True, data=True))
    used = np.zeros(len(edges), bool)
    by_pair: dict[tuple[Any, Any], list[int]] = {}
    for i, (u, v, _k, _d) in enumerate(edges):
        by_pair.setdefault((u, v), []).append(i)
    all_time = all("travel_time" in d for _, _, _, d in edges)

    cu, cv, cdir, clen, chw, cmax, cosm, tf, tb = [], [], [], [], [], [], [], [], []
    coords: list[np.ndarray] = []

    def first(v: Any) -> Any:
        return v[0] if isinstance(v, list) else v

    def geom_xy(d: Mapping[str, Any], u: Any, v: Any) -> np.ndarray:
        g = d.get("geometry")
        if g is not None:
            xy = shapely.get_coordinates(g)
            if not same_crs:
                xy = np.column_stack(_to_bng(xy[:, 0], xy[:, 1], crs))
            return xy
        return np.array([[X[pos[u]], Y[pos[u]]], [X[pos[v]], Y[pos[v]]]])

    for i, (u, v, _k, d) in enumerate(edges):
        if used[i]:
            continue
        used[i] = True
        length = float(d.get("length", np.nan))
        xy = geom_xy(d, u, v)
        if np.isnan(length):
            length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        twin = -1
        if u != v:
            for j in by_pair.get((v, u), []):
                dj = edges[j][3]
                if not used[j] and abs(float(dj.get("length", length)) - length) < 0.5:
                    twin = j
                    break
        hw = str(first(d.get("highway", "road")))
        cu.append(pos[u])
        cv.append(pos[v])
        cdir.append(0 if twin >= 0 else 1)
        clen.append(length)
        chw.append(hw)
        cmax.append(parse_maxspeed(d.get("maxspeed")))
        osm = first(d.get("osmid", -1))
        try:
            cosm.append(int(osm))
        except (TypeError, ValueError):
            cosm.append(-1)
        tf.append(float(d.get("travel_time", np.nan)))
        if twin >= 0:
            used[twin] = True
            tb.append(float(edges[twin][3].get("travel_time", np.nan)))
        else:
            tb.append(np.nan)
        coords.append(xy)
    del nx
    npts = np.array([len(c) for c in coords])
    allxy = np.vstack(coords) if coords else np.zeros((0, 2))
    return (
        {
            "node_osmid": osmids,
            "x": X,
            "y": Y,
            "chain_u": np.asarray(cu, np.int64),
            "chain_v": np.asarray(cv, np.int64),
            "chain_offsets": np.r_[0, np.cumsum(npts)].astype(np.int64),
            "chain_x": allxy[:, 0],
            "chain_y": allxy[:, 1],
            "chain_dir": np.asarray(cdir, np.int8),
            "chain_length_m": np.asarray(clen, float),
            "chain_highway": np.asarray(chw, dtype=str),
            "chain_maxspeed_kph": np.asarray(cmax, float),
            "chain_osmid": np.asarray(cosm, np.int64),
            "chain_time_fwd_s": np.asarray(tf, float),
            "chain_time_bwd_s": np.asarray(tb, float),
        },
        all_time,
    )


def network_from_networkx(
    G: nx.MultiDiGraph,
    *,
    speed_model: SpeedModel | None = None,
    source: str = "networkx",
    content_hash: str | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from an osmnx-style ``MultiDiGraph``.

    If ``speed_model`` is ``None`` and every edge has ``travel_time``, those times are kept;
    otherwise times come from the speed model (default :class:`SpeedModel`) applied to the
    edges' ``highway`` and ``maxspeed``. Coordinates are projected to EPSG:27700 from
    ``G.graph["crs"]`` (EPSG:4326 if missing). Only the largest strongly connected component is
    kept. Class filtering is *not* applied (the graph is taken as the drivable network).
    """
    chains, all_time = _chains_from_networkx(G)
    keep_times = speed_model is None and all_time
    model = speed_model or SpeedModel()
    if not keep_times:
        chains.pop("chain_time_fwd_s")
        chains.pop("chain_time_bwd_s")
    h = content_hash or _cache.cache_key(
        _FORMAT_VERSION,
        "networkx",
        chains["node_osmid"],
        chains["chain_u"],
        chains["chain_v"],
        chains["chain_length_m"],
        chains.get("chain_time_fwd_s"),
        model.to_dict(),
    )
    return _build(
        **chains,
        speed_model=model,
        source=source,
        content_hash=h,
        stats={"times_from": "graph travel_time" if keep_times else "speed model"},
    )


_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml", ".xml", ".graphml")


def load_network(
    path: str | Path,
    *,
    speed_model: SpeedModel | None = None,
    use_cache: bool | None = None,
) -> RoadNetwork:
    """Load the drivable road network from an OSM PBF, OSM XML or GraphML file.

    Parameters
    ----------
    path
        ``.osm.pbf``/``.pbf``, ``.osm``/``.osm.xml``/``.osm.bz2``/``.osm.gz`` (read with pyosmium,
        filtered to drivable roads) or ``.graphml`` (osmnx; taken as already drivable, see
        :func:`network_from_networkx` for how its travel times are used).
    speed_model
        Speed model; default :class:`SpeedModel`.
    use_cache
        Read/write the ``.npz`` cache keyed by the file's content and the speed model; default
        ``placeplan.settings.use_cache``.

    Returns
    -------
    RoadNetwork
        Largest strongly connected component, EPSG:27700.
    """
    t0 = time.perf_counter()
    path = Path(path)
    name = path.name.lower()
    if not any(name.endswith(s) for s in _SUFFIXES):
        msg = (
            f"`path` {path} has an unsupported suffix; expected one of {', '.join(_SUFFIXES)} "
            "(OSM PBF, OSM XML or GraphML)"
        )
        raise NetworkError(msg)
    if not path.is_file():
        msg = f"network file `{path}` does not exist"
        raise NetworkError(msg)
    graphml = name.endswith(".graphml")
    explicit_model = speed_model is not None
    model = speed_model or SpeedModel()
    key = _cache.cache_key(
        _FORMAT_VERSION, path, model.to_dict(), bool(graphml and not explicit_model)
    )
    use = _cache.resolve_use_cache(use_cache)
    cpath = _cache.cache_path("network", key, ".npz") if use else None
    if cpath is not None and cpath.exists():
        try:
            net = RoadNetwork.load_npz(cpath)
        except (OSError, ValueError, KeyError) as err:
            logger.warning("ignoring unreadable network cache entry: %s", err)
        else:
            _cache.log_hit("network", cpath)
            net = _with_source(net, str(path))
            logger.info(
                "load_network: %s nodes, %s edges from cache, %.2f s",
                f"{net.n_nodes:,}",
                f"{net.n_edges:,}",
                time.perf_counter() - t0,
            )
            return net
    if cpath is not None:
        _cache.log_miss("network", cpath)
    if graphml:
        import osmnx as ox

        try:
            G = ox.load_graphml(path)
        except Exception as err:
            msg = f"cannot read GraphML `{path}`: {err}"
            raise NetworkError(msg) from err
        net = network_from_networkx(G, speed_model=speed_model, source=str(path), content_hash=key)
    else:
        raw = _read_osm(path, model)
        chains = _chains_from_ways(raw)
        net = _build(
            **chains,
            speed_model=model,
            source=str(path),
            content_hash=key,
            stats={"ways": len(raw["way_start"])},
        )
    if cpath is not None:
        try:
            with _cache.atomic_path(cpath) as tmp:
                net.save_npz(tmp)
        except OSError as err:
            logger.warning("could not write network cache: %s", err)
    logger.info(
        "load_network: %s nodes, %s edges (largest strongly connected part, %.2f%% of nodes), "
        "%.2f s",
        f"{net.n_nodes:,}",
        f"{net.n_edges:,}",
        100 * net.stats.get("share_nodes_kept", 1.0),
        time.perf_counter() - t0,
    )
    return net


def _with_source(net: RoadNetwork, source: str) -> RoadNetwork:
    if net.source == source:
        return net
    d = {k: getattr(net, k) for k in net.__dataclass_fields__}
    d["source"] = source
    return RoadNetwork(**d)


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
    poly = shapely.geometry.shape(polygon) if isinstance(polygon, Mapping) else polygon
    if buffer_m:
        to_bng = Transformer.from_crs(polygon_crs, CRS, always_xy=True).transform
        poly = transform(to_bng, poly).buffer(buffer_m)
        polygon_crs = CRS
    if polygon_crs.upper() != "EPSG:4326":
        to_wgs = Transformer.from_crs(polygon_crs, "EPSG:4326", always_xy=True).transform
        poly = transform(to_wgs, poly)
    key = _cache.cache_key(_FORMAT_VERSION, "osmnx-polygon", shapely.to_wkb(poly), model.to_dict())
    use = _cache.resolve_use_cache(use_cache)
    cpath = _cache.cache_path("network", key, ".npz") if use else None
    if cpath is not None and cpath.exists():
        _cache.log_hit("network", cpath)
        return RoadNetwork.load_npz(cpath)
    if cpath is not None:
        _cache.log_miss("network", cpath)
    hw = "|".join(sorted(model.class_kph))
    cf = (
        f'["highway"~"^({hw})$"]["area"!~"yes"]["access"!~"private|no"]'
        '["motor_vehicle"!~"no|private"]["motorcar"!~"no|private"]'
    )
    _osmnx_cache_into_placeplan(ox)
    try:
        G = ox.graph_from_polygon(poly, custom_filter=cf, simplify=False, retain_all=False)
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
        with _cache.atomic_path(cpath) as tmp:
            net.save_npz(tmp)
    return net


def network_from_place(
    place: str | Mapping[str, Any],
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


# =============================================================================================
# Routing structures
# =============================================================================================


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> tuple[sp.csr_matrix, Any]:
    """CSR with the *minimum* weight per (u, v) (scipy would sum duplicates). Returns the matrix
    and the index of the chosen edge per stored entry."""
    order = np.lexsort((w, v, u))
    uo, vo = u[order], v[order]
    first = np.r_[True, (uo[1:] != uo[:-1]) | (vo[1:] != vo[:-1])]
    sel = order[first]
    indptr = np.r_[0, np.cumsum(np.bincount(u[sel], minlength=n))].astype(np.int64)
    m = sp.csr_matrix((w[sel].astype(float), v[sel].astype(np.int32), indptr), shape=(n, n))
    return m, sel


def _build_routing(net: RoadNetwork) -> _Routing:
    """Integer-encoded weights: ``time_units * 2**L + length_units`` in one float64.

    One Dijkstra on these weights finds the fastest route (ties to the shorter) *and* carries its
    length: the sum decodes exactly while it stays below 2**53. Time is kept in milliseconds
    (rounding error ≤ 0.5 ms per edge) and length in 0.1 m, coarsened only if the network's
    diameter needs more bits.
    """
    n = net.n_nodes
    u, v = net.edge_u.astype(np.int64), net.edge_v.astype(np.int64)
    t = np.maximum(net.travel_time_s.astype(float), 1e-6)
    time_csr, _ = _min_csr(u, v, t, n)
    # bound on any fastest-route time: via one node r, T(a,b) <= T(a,r) + T(r,b)
    fwd = dijkstra(time_csr, indices=0)
    bwd = dijkstra(time_csr.T.tocsr(), indices=0)
    diameter = float(np.max(fwd[np.isfinite(fwd)]) + np.max(bwd[np.isfinite(bwd)]))
    diameter += 2 * float(t.max())  # partial edges at both ends
    vmax = float(np.max(net.length_m / t))
    time_unit = 1e-3
    length_unit = 0.1
    t_units = np.maximum(np.rint(t / time_unit), 1).astype(np.int64)
    t_bound = diameter / time_unit + 0.5 * n + 4
    t_bits = math.ceil(math.log2(t_bound))
    l_bound = diameter * vmax * 1.01 + 1000.0
    l_bits = math.ceil(math.log2(l_bound / length_unit + 2))
    spare = 53 - t_bits - l_bits
    if spare < 0:
        length_unit *= 2.0 ** (-spare)
        l_bits += spare
        logger.debug("routing: length unit coarsened to %.2f m", length_unit)
    else:  # spend spare bits on precision: length first (to ~1 mm), then time
        refine_l = min(spare, 7)
        length_unit /= 2.0**refine_l
        l_bits += refine_l
        refine_t = min(spare - refine_l, 10)
        time_unit /= 2.0**refine_t
        t_units = np.maximum(np.rint(t / time_unit), 1).astype(np.int64)
    scale = float(2**l_bits)
    l_units = np.rint(net.length_m / length_unit).astype(np.int64)
    enc = t_units.astype(float) * scale + l_units.astype(float)
    enc_t, _ = _min_csr(v, u, enc, n)
    return _Routing(
        time_csr=time_csr,
        enc_csr_t=enc_t,
        scale=scale,
        time_unit_s=time_unit,
        length_unit_m=length_unit,
        edge_time_units=t_units,
        edge_length_units=l_units,
        diameter_bound_s=diameter,
    )


# =============================================================================================
# Snapping
# =============================================================================================


def _point_arrays(
    df: pd.DataFrame, id_col: str, x_col: str, y_col: str, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for c in (id_col, x_col, y_col):
        if c not in df.columns:
            msg = f"`{what}` has no column {c!r}; columns are {list(df.columns)}"
            raise SchemaValidationError(msg)
    ids = df[id_col].astype(str).to_numpy(dtype=object)
    try:
        x = pd.to_numeric(df[x_col]).to_numpy(dtype=float)
        y = pd.to_numeric(df[y_col]).to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"`{what}` columns {x_col!r}/{y_col!r} must be numeric EPSG:27700 metres"
        raise SchemaValidationError(msg) from err
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        msg = f"`{what}` has {int(bad.sum())} rows with missing coordinates in {x_col!r}/{y_col!r}"
        raise SchemaValidationError(msg)
    return ids, x, y


def _snap_arrays(net: RoadNetwork, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Nearest chain, position along it (0..1), snap distance and snapped point."""
    pts = shapely.points(x, y)
    if len(pts) == 0:
        e = np.zeros(0)
        return {"chain": e.astype(np.int64), "pos": e, "snap_m": e, "sx": e, "sy": e}
    (inp, tree_idx), dist = net._chain_tree.query_nearest(
        pts, return_distance=True, all_matches=False
    )
    chain = np.empty(len(pts), np.int64)
    snap = np.empty(len(pts))
    chain[inp] = tree_idx
    snap[inp] = dist
    lines = net.chain_lines[chain]
    pos = shapely.line_locate_point(lines, pts, normalized=True)
    pos = np.clip(np.nan_to_num(pos, nan=0.0), 0.0, 1.0)
    # a point on a node must be *at* the node (pos exactly 0 or 1) so every edge there is usable
    clen = shapely.length(lines)
    with np.errstate(invalid="ignore", divide="ignore"):
        tol = np.where(clen > 0, 1e-3 / clen, 1.0)
    pos = np.where(pos <= tol, 0.0, np.where(pos >= 1 - tol, 1.0, pos))
    sp_ = shapely.line_interpolate_point(lines, pos, normalized=True)
    return {
        "chain": chain,
        "pos": pos,
        "snap_m": snap,
        "sx": shapely.get_x(sp_),
        "sy": shapely.get_y(sp_),
    }


def snap_points(
    net: RoadNetwork,
    df_points: pd.DataFrame,
    *,
    id_col: str = "id",
    x_col: str = "x",
    y_col: str = "y",
    max_snap_m: float = 1000.0,
) -> pd.DataFrame:
    """Snap points to the nearest edge of the network (its largest strongly connected component).

    Snapping to an edge rather than a node avoids dead ends and fragments (routing.md). Points
    farther than ``max_snap_m`` from any road are kept and flagged ``"too_far"``; a
    :class:`~placeplan.SnapWarning` gives their count (never their ids).

    Returns
    -------
    pandas.DataFrame
        ``id``, ``node_index`` (the nearer end of the snapped edge), ``snap_m``, ``snap_status``
        (``"ok"``/``"too_far"``), plus ``chain`` (edge geometry index), ``position`` (0–1 along
        it) and ``snap_x``/``snap_y`` (snapped point, EPSG:27700).
    """
    ids, x, y = _point_arrays(df_points, id_col, x_col, y_col, "df_points")
    s = _snap_arrays(net, x, y)
    too_far = s["snap_m"] > max_snap_m
    node = np.where(s["pos"] <= 0.5, net.chain_u[s["chain"]], net.chain_v[s["chain"]])
    out = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="str"),
            "node_index": node,
            "snap_m": s["snap_m"],
            "snap_status": pd.array(np.where(too_far, "too_far", "ok"), dtype="str"),
            "chain": s["chain"],
            "position": s["pos"],
            "snap_x": s["sx"],
            "snap_y": s["sy"],
        }
    )
    _warn_too_far(int(too_far.sum()), len(out), max_snap_m, "points")
    logger.info(
        "snap_points: %s points, median snap %.0f m, %s beyond %.0f m",
        f"{len(out):,}",
        float(np.median(s["snap_m"])) if len(out) else 0.0,
        f"{int(too_far.sum()):,}",
        max_snap_m,
    )
    return out


def _warn_too_far(n: int, total: int, max_snap_m: float, what: str, stacklevel: int = 3) -> None:
    if n:
        import warnings

        warnings.warn(
            f"{n} of {total} {what} are more than {max_snap_m:g} m from the drivable network "
            "(snap_status 'too_far'); check their coordinates or raise `max_snap_m`",
            SnapWarning,
            stacklevel=stacklevel,
        )


def _end_offsets(
    net: RoadNetwork, chain: np.ndarray, pos: np.ndarray, *, leaving: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For points on chains, the two candidate graph nodes and the float seconds to/from them.

    ``leaving=True`` (an origin): time from the point to each node; ``False`` (a destination):
    time from each node to the point. ``inf`` where a direction is not allowed.
    Returns ``(node_a, time_a, node_b, time_b)`` with node_a = chain_u, node_b = chain_v.
    """
    f = net.chain_fwd[chain]
    b = net.chain_bwd[chain]
    tf = np.where(f >= 0, net.travel_time_s[np.maximum(f, 0)], np.inf)
    tb = np.where(b >= 0, net.travel_time_s[np.maximum(b, 0)], np.inf)
    with np.errstate(invalid="ignore"):
        if leaving:  # to u against the chain (bwd), to v along it (fwd)
            ta = np.where(b >= 0, pos * tb, np.where(pos <= 0, 0.0, np.inf))
            tv = np.where(f >= 0, (1 - pos) * tf, np.where(pos >= 1, 0.0, np.inf))
        else:  # from u along the chain (fwd), from v against it (bwd)
            ta = np.where(f >= 0, pos * tf, np.where(pos <= 0, 0.0, np.inf))
            tv = np.where(b >= 0, (1 - pos) * tb, np.where(pos >= 1, 0.0, np.inf))
    return net.chain_u[chain], ta, net.chain_v[chain], tv


# =============================================================================================
# Isochrones
# =============================================================================================


def isochrones(
    net: RoadNetwork,
    df_sites: pd.DataFrame,
    *,
    id_col: str = "id",
    x_col: str = "x",
    y_col: str = "y",
    minutes: Sequence[float] = (15, 30, 45),
    direction: str = "to_site",
    buffer_m: float = 200.0,
    fixed_allowance_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Drive-time catchment polygons around sites (EPSG:27700), for maps.

    A polygon covers the roads (and ``buffer_m`` either side) from which the site is reached within
    ``minutes`` (``direction="to_site"``, the home-to-school journey; ``"from_site"`` reverses it),
    counting the site's access leg and ``fixed_allowance_min`` (default: the network speed model's)
    as :func:`placeplan.matrix.travel_matrix` does. Roads reached part-way are cut at the
    reachable point; holes inside a catchment are filled.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``minutes``, ``geometry`` (Polygon/MultiPolygon), one row per site × minutes.
    """
    import geopandas as gpd
    from shapely.ops import substring

    if direction not in {"to_site", "from_site"}:
        msg = f"`direction` must be 'to_site' or 'from_site', got {direction!r}"
        raise ValueError(msg)
    ids, x, y = _point_arrays(df_sites, id_col, x_col, y_col, "df_sites")
    mins = sorted(float(m) for m in minutes)
    if not mins or mins[0] <= 0:
        msg = f"`minutes` must be positive numbers, got {list(minutes)!r}"
        raise ValueError(msg)
    model = net.speed_model
    allowance_s = 60 * (
        model.fixed_allowance_min if fixed_allowance_min is None else fixed_allowance_min
    )
    s = _snap_arrays(net, x, y)
    to_site = direction == "to_site"
    # For "to_site" the site is a destination: search the reversed graph.
    a, ta, b, tb = _end_offsets(net, s["chain"], s["pos"], leaving=not to_site)
    G = net._routing.time_csr
    G = G.T.tocsr() if to_site else G
    n = net.n_nodes
    rows_out: list[dict[str, Any]] = []
    lines = net.chain_lines
    cf, cb = net.chain_fwd, net.chain_bwd
    tt = net.travel_time_s
    for k, sid in enumerate(ids):
        access_s = s["snap_m"][k] / (model.access_speed_kph / 3.6) + allowance_s
        budget = mins[-1] * 60 - access_s
        if budget <= 0:
            d = np.full(n, np.inf)
        else:
            # one virtual source node at index n
            extra_cols = np.array([a[k], b[k]])
            w = np.array([ta[k], tb[k]]) + 1e-6
            ok = np.isfinite(w)
            Gv = sp.vstack(
                [
                    sp.hstack([G, sp.csr_matrix((n, 1))]),
                    sp.csr_matrix(
                        (w[ok], (np.zeros(ok.sum(), int), extra_cols[ok])), shape=(1, n + 1)
                    ),
                ]
            ).tocsr()
            d = dijkstra(Gv, indices=n, limit=budget + 1.0)[:n] - 1e-6 + access_s
        # time at which each end of every chain is reached, and how far along the chain the
        # remaining budget carries (in the travel direction that matters)
        du, dv = d[net.chain_u], d[net.chain_v]
        for m in mins:
            lim = m * 60
            # from_site: leave u along fwd edge / v along bwd; to_site: arrive via fwd from u...
            # In both cases a point at position p is within lim if reachable through u or v.
            # For to_site: point p -> site via u takes p*t_bwd (drive back to u) + du.
            tfw = np.where(cf >= 0, tt[np.maximum(cf, 0)], np.inf)
            tbw = np.where(cb >= 0, tt[np.maximum(cb, 0)], np.inf)
            via_u_t = tbw if to_site else tfw  # time per unit position, measured from u
            via_v_t = tfw if to_site else tbw  # ... from v
            with np.errstate(invalid="ignore", divide="ignore"):
                reach_u = np.where(du <= lim, np.clip((lim - du) / via_u_t, 0, 1), -1.0)
                reach_u = np.where((du <= lim) & ~np.isfinite(via_u_t), 0.0, reach_u)
                reach_v = np.where(dv <= lim, np.clip((lim - dv) / via_v_t, 0, 1), -1.0)
                reach_v = np.where((dv <= lim) & ~np.isfinite(via_v_t), 0.0, reach_v)
            full = (reach_u >= 0) & (reach_v >= 0) & (reach_u + reach_v >= 1)
            full |= reach_u >= 1
            full |= reach_v >= 1
            parts = list(lines[full])
            for c in np.flatnonzero(~full & ((reach_u > 0) | (reach_v > 0))):
                ln = lines[c]
                if reach_u[c] > 0:
                    parts.append(substring(ln, 0, float(reach_u[c]), normalized=True))
                if reach_v[c] > 0:
                    parts.append(substring(ln, 1 - float(reach_v[c]), 1, normalized=True))
            if parts:
                geom = _cells_polygon(parts, x[k], y[k], buffer_m)
            else:
                geom = shapely.Point(x[k], y[k]).buffer(buffer_m) if access_s <= lim else None
            rows_out.append({"site_id": str(sid), "minutes": m, "geometry": geom})
    logger.info("isochrones: %s sites x %s thresholds", f"{len(ids):,}", len(mins))
    return gpd.GeoDataFrame(
        pd.DataFrame(rows_out, columns=["site_id", "minutes", "geometry"]),
        geometry="geometry",
        crs=CRS,
    )


def _cells_polygon(parts: list[Any], x0: float, y0: float, buffer_m: float) -> Any:
    """Polygon covering reachable road lines to about ``buffer_m`` either side, quickly.

    Buffering the union of thousands of road lines costs seconds to minutes per catchment, so the
    lines are sampled every ``buffer_m / 2``, the sample points mark cells of a ``buffer_m`` grid
    and their 3 x 3 neighbourhoods, and the cells are merged with a coverage union (exact and fast
    for edge-sharing squares). The outline is therefore a staircase at ``buffer_m`` resolution,
    ample for a catchment map.
    """
    cell = float(buffer_m)
    pts = shapely.get_coordinates(shapely.segmentize(np.asarray(parts, dtype=object), cell / 2))
    pts = np.vstack([pts, [[x0, y0]]])
    ij = np.unique(np.floor(pts / cell).astype(np.int64), axis=0)
    offsets = np.array([(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)], dtype=np.int64)
    ij = np.unique((ij[:, None, :] + offsets[None, :, :]).reshape(-1, 2), axis=0)
    boxes = shapely.box(
        ij[:, 0] * cell, ij[:, 1] * cell, (ij[:, 0] + 1) * cell, (ij[:, 1] + 1) * cell
    )
    geom = shapely.coverage_union_all(boxes)
    return _fill_holes(shapely.simplify(geom, cell / 4))


def _fill_holes(geom: Any) -> Any:
    if geom is None or geom.is_empty:
        return geom
    polys = shapely.get_parts(geom)
    filled = [shapely.Polygon(p.exterior) for p in polys if p.geom_type == "Polygon"]
    return shapely.union_all(filled) if len(filled) > 1 else filled[0]
