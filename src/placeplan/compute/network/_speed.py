"""Speed model: default speeds by road class, ``maxspeed`` parsing and :class:`SpeedModel`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from placeplan._errors import ConfigError
from placeplan.vocab import KM_PER_MILE

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
    "gb:nsl_single": 60 * KM_PER_MILE,
    "uk:nsl_single": 60 * KM_PER_MILE,
    "gb:nsl_dual": 70 * KM_PER_MILE,
    "uk:nsl_dual": 70 * KM_PER_MILE,
    "gb:motorway": 70 * KM_PER_MILE,
    "uk:motorway": 70 * KM_PER_MILE,
    "gb:nsl_restricted": 30 * KM_PER_MILE,
    "uk:nsl_restricted": 30 * KM_PER_MILE,
    "gb:urban": 30 * KM_PER_MILE,
    "uk:urban": 30 * KM_PER_MILE,
    "gb:zone20": 20 * KM_PER_MILE,
    "gb:zone30": 30 * KM_PER_MILE,
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
        factor, text = KM_PER_MILE, text[:-3]
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

    Edge speed (km/h) = ``base × area_factor / peak_factor`` where ``base`` is the class speed
    (:data:`UK_CLASS_KPH`), capped by the tagged ``maxspeed`` when ``use_maxspeed`` (the
    ``min(tagged, class)`` rule), and ``area_factor`` is ``urban_factor`` on *urban* edges (limit
    ≤ ``urban_limit_kph``, i.e. the UK 30 mph "restricted road" class, or ``residential`` /
    ``living_street`` roads) and ``rural_factor`` elsewhere. ``peak_factor`` multiplies travel
    *times* (it divides speeds), as the plan file documents: ``peak_factor = 1.2`` makes every road
    journey 20 % slower for the school-run peak; values below 1 speed roads up.

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
    urban_factor, rural_factor
        Speed multipliers (> 0) on urban and on other edges.
    peak_factor
        Travel-time multiplier (> 0) on every edge: ``1.2`` = journeys 20 % longer (school-run
        peak); speeds are divided by it.
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
        # marks the travel-time meaning of peak_factor, so networks cached when it scaled speeds
        # are never reused
        d["peak_factor_scales"] = "travel_time"
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SpeedModel:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d.pop("peak_factor_scales", None)
        return cls(**d)

    def edge_speeds_kph(
        self, highway: Sequence[str] | np.ndarray, maxspeed_kph: np.ndarray
    ) -> np.ndarray:
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
        factor = np.where(urban, self.urban_factor, self.rural_factor) / self.peak_factor
        return speed * factor

    def describe(self) -> list[tuple[str, str]]:
        """Return (label, value) rows for the report's method section.

        >>> dict(SpeedModel().describe())["Speed: residential streets"]
        '25 km/h (16 mph)'
        """
        rows = [
            (f"Speed: {_class_label(k)}", f"{v:g} km/h ({v / KM_PER_MILE:.0f} mph)")
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
            ("Peak-time factor", f"journey times × {self.peak_factor:g} on all roads"),
            ("Fixed allowance per journey", f"{self.fixed_allowance_min:g} min (kerbside/loading)"),
            (
                "Access legs",
                f"straight line from point to nearest drivable road at {self.access_speed_kph:g} "
                "km/h",
            ),
            ("Road network", "OpenStreetMap drivable roads, largest strongly connected part"),
        ]
        return rows


class _NetworkTable(Protocol):
    """What :func:`speed_model` reads of a plan's ``[network]`` table."""

    @property
    def speeds_kph(self) -> Mapping[str, float]: ...
    @property
    def use_maxspeed(self) -> bool: ...
    @property
    def peak_factor(self) -> float: ...
    @property
    def fixed_allowance_min(self) -> float: ...


class _Plan(Protocol):
    """A plan (``placeplan.config.PlanConfig``), as far as :func:`speed_model` reads it (typed
    structurally, so the network package does not import the config module that imports it)."""

    @property
    def network(self) -> _NetworkTable: ...


def speed_model(plan: _Plan) -> SpeedModel:
    """The network speed model with the plan's overrides (road-class speeds, factors).

    Parameters
    ----------
    plan
        The plan; its ``[network]`` table gives ``speeds_kph``, ``use_maxspeed``,
        ``peak_factor`` and ``fixed_allowance_min``.

    Returns
    -------
    SpeedModel
        :class:`SpeedModel` defaults with the plan's values.
    """
    base = SpeedModel()
    classes = dict(base.class_kph)
    classes.update(plan.network.speeds_kph)
    return replace(
        base,
        class_kph=classes,
        use_maxspeed=plan.network.use_maxspeed,
        peak_factor=plan.network.peak_factor,
        fixed_allowance_min=plan.network.fixed_allowance_min,
    )
