"""The shared vocabulary of placeplan: constants every stage agrees on, defined once.

Examples
--------
>>> from placeplan import vocab
>>> vocab.CRS
'EPSG:27700'
>>> round(10 * vocab.MILES_PER_KM, 4)
6.2137
>>> vocab.time_band(44.9), vocab.time_band(75.0)
('30–45 min', '> 75 min')
"""

from __future__ import annotations

import bisect
from typing import Final

__all__ = [
    "BNG_EASTING_M",
    "BNG_NORTHING_M",
    "CRS",
    "KM_PER_MILE",
    "MILES_PER_KM",
    "OOA_CATEGORIES",
    "TIME_BAND_EDGES_MIN",
    "TIME_BAND_LABELS",
    "time_band",
]

#: Every metric computation and every published layer is in British National Grid.
CRS: Final = "EPSG:27700"

#: Plausible British National Grid coordinates (metres): the grid's extent, Shetland included.
BNG_EASTING_M: Final = (0.0, 700_000.0)
BNG_NORTHING_M: Final = (0.0, 1_300_000.0)

#: International mile.
KM_PER_MILE: Final = 1.609344
MILES_PER_KM: Final = 1 / KM_PER_MILE

#: Placement categories a snapshot scenario may move by default and the flow maps draw: a setting
#: outside the authority, or an independent or non-maintained special school wherever it is. Not
#: the definition of reliance on out-of-area placements (``placeplan.compute.flows.RELIANCE``:
#: outside the area, whatever the type), which counts independent placements separately.
OOA_CATEGORIES: Final = frozenset({"out_of_area", "independent", "non_maintained"})

#: Journey-time bands (upper edges, minutes; the last band is open).
TIME_BAND_EDGES_MIN: Final = (15.0, 30.0, 45.0, 60.0, 75.0)
TIME_BAND_LABELS: Final = (
    "< 15 min",
    "15–30 min",
    "30–45 min",
    "45–60 min",
    "60–75 min",
    "> 75 min",
)


def time_band(minutes: float) -> str:
    """The label of the journey-time band of ``minutes`` (a band includes its lower edge).

    Parameters
    ----------
    minutes
        A journey time in minutes (not NaN).

    Returns
    -------
    str
        One of :data:`TIME_BAND_LABELS`.
    """
    return TIME_BAND_LABELS[bisect.bisect_right(TIME_BAND_EDGES_MIN, minutes)]
