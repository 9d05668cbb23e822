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
import datetime as dt
import difflib
from collections.abc import Iterable
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
    "academic_year",
    "academic_year_start",
    "closest",
    "did_you_mean",
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


def academic_year(start_year: int) -> str:
    """The label of the academic year starting in September ``start_year``.

    Parameters
    ----------
    start_year
        The calendar year the academic year starts in.

    Returns
    -------
    str
        ``"2025/26"`` for 2025.

    Examples
    --------
    >>> academic_year(2025), academic_year(1999)
    ('2025/26', '1999/00')
    """
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def academic_year_start(day: dt.date) -> int:
    """The calendar year the academic year of ``day`` starts in (September to August).

    Parameters
    ----------
    day
        A date (a census date: January 2026 is in 2025/26).

    Returns
    -------
    int
        2025 for any day from 1 September 2025 to 31 August 2026.

    Examples
    --------
    >>> academic_year_start(dt.date(2026, 1, 15)), academic_year_start(dt.date(2025, 9, 1))
    (2025, 2025)
    """
    return day.year if day.month >= 9 else day.year - 1


def closest(text: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``text`` (compared case-insensitively), or None if none is close.

    Parameters
    ----------
    text
        The value given.
    choices
        The valid values, as they should be written.

    Returns
    -------
    str or None
        One of ``choices``.

    Examples
    --------
    >>> closest("scln", ["ASD", "SLCN"]), closest("banana", ["ASD", "SLCN"])
    ('SLCN', None)
    """
    by_key = {str(c).casefold(): str(c) for c in choices}
    hit = difflib.get_close_matches(str(text).strip().casefold(), list(by_key), n=1, cutoff=0.6)
    return by_key[hit[0]] if hit else None


def did_you_mean(text: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` naming the choice closest to ``text``, or ``""`` if none is close.

    Parameters
    ----------
    text
        The value given (compared case-insensitively).
    choices
        The valid values, as they should be written.

    Returns
    -------
    str
        The hint, to append to a message, or an empty string.

    Examples
    --------
    >>> did_you_mean("SCLN", ["ASD", "SLCN", "SEMH"])
    "; did you mean 'SLCN'?"
    >>> did_you_mean("banana", ["ASD", "SLCN"])
    ''
    """
    hit = closest(text, choices)
    return "" if hit is None else f"; did you mean {hit!r}?"
