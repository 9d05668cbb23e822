"""SEN2 primary-need codes, their DfE names, and school phases by National Curriculum year."""

from __future__ import annotations

import re

import pandas as pd

__all__ = [
    "NEED_CODES",
    "NEED_NAMES",
    "PHASES",
    "normalise_need",
    "phase_of_nc_year",
    "split_codes",
]

#: The thirteen primary types of need in the school census / SEN2 (code -> DfE name).
NEED_NAMES: dict[str, str] = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment",
    "VI": "Visual impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "ASD": "Autistic spectrum disorder",
    "OTH": "Other difficulty or disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}
NEED_CODES: tuple[str, ...] = tuple(sorted(NEED_NAMES))

#: Phases and the NC years they span (Reception = 0, nursery = -1).
PHASES: dict[str, tuple[int, int]] = {"primary": (-1, 6), "secondary": (7, 11), "post16": (12, 14)}


def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_ALIASES: dict[str, str] = {_key(code): code for code in NEED_NAMES}
_ALIASES.update({_key(name): code for code, name in NEED_NAMES.items()})
_ALIASES.update(
    {
        _key(alias): code
        for alias, code in {
            "Autism": "ASD",
            "Autistic spectrum disorder": "ASD",
            "Autistic Spectrum Condition": "ASD",
            "ASC": "ASD",
            "Autism spectrum disorder": "ASD",
            "Speech language and communication": "SLCN",
            "Speech, language and communication needs": "SLCN",
            "Social emotional and mental health": "SEMH",
            "Social, emotional and mental health difficulties": "SEMH",
            "Specific learning difficulties": "SPLD",
            "SpLD": "SPLD",
            "Moderate learning difficulties": "MLD",
            "Severe learning difficulties": "SLD",
            "Profound and multiple learning difficulties": "PMLD",
            "Profound & multiple learning difficulty": "PMLD",
            "Hearing impairment": "HI",
            "Visual impairment": "VI",
            "Multi-sensory impairment": "MSI",
            "Physical disability": "PD",
            "Other difficulty/disability": "OTH",
            "Other difficulty or disability": "OTH",
            "Other": "OTH",
            "SEN support but no specialist assessment": "NSA",
            "No specialist assessment": "NSA",
        }.items()
    }
)


def normalise_need(text: object) -> str | None:
    """Return the SEN2 code for a need given as a code or DfE text, or ``None`` if unknown.

    Parameters
    ----------
    text
        A need code (``"ASD"``, ``"slcn"``) or DfE description (``"Autistic Spectrum Disorder"``,
        ``"Speech, language and communication needs"``). Case, spaces and punctuation are ignored.

    Returns
    -------
    code
        One of :data:`NEED_CODES`, or ``None`` when the text matches none of them.

    Examples
    --------
    >>> normalise_need("Autistic Spectrum Disorder")
    'ASD'
    >>> normalise_need(" semh ")
    'SEMH'
    >>> normalise_need("unknown") is None
    True
    """
    if text is None or (isinstance(text, float) and text != text):
        return None
    return _ALIASES.get(_key(str(text)))


def phase_of_nc_year(nc_year: int) -> str | None:
    """Return the phase (``primary``, ``secondary``, ``post16``) of an NC year, or ``None``.

    Examples
    --------
    >>> phase_of_nc_year(0), phase_of_nc_year(7), phase_of_nc_year(13)
    ('primary', 'secondary', 'post16')
    """
    for phase, (low, high) in PHASES.items():
        if low <= nc_year <= high:
            return phase
    return None


def split_codes(value: object) -> tuple[str, ...]:
    """Split a ``;``-separated list of need or phase codes; empty, NaN or NA gives ``()``.

    An empty list means "any" wherever settings or sites list the needs and phases they serve.

    Examples
    --------
    >>> split_codes("ASD; SEMH;")
    ('ASD', 'SEMH')
    >>> split_codes(float("nan"))
    ()
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ()
    return tuple(part.strip() for part in str(value).split(";") if part.strip())
