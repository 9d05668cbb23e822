"""Data contracts between pipeline stages: pandera models and their ``validate_*`` functions.

Every ``validate_*`` checks all rows and columns at once (``lazy=True``) and raises
:class:`~placeplan.SchemaValidationError` with a summary of every failed check as counts: it never
quotes the values that failed, so pupil data cannot leak into a message or a log.
"""

from __future__ import annotations

from typing import Annotated, Optional, TypeVar

import pandas as pd
import pandera.pandas as pa
from pandera.engines.geopandas_engine import Geometry
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from placeplan._errors import CRSError, SchemaValidationError
from placeplan.needs import NEED_CODES, PHASES
from placeplan.vocab import BNG_EASTING_M, BNG_NORTHING_M, CRS

__all__ = [
    "PLAN_TYPES",
    "PROVISION_TYPES",
    "Allocation",
    "Area",
    "CandidateSite",
    "Provision",
    "PupilNeed",
    "TravelMatrix",
    "validate_allocation",
    "validate_areas",
    "validate_matrix",
    "validate_provision",
    "validate_pupils",
    "validate_sites",
]

PROVISION_TYPES: tuple[str, ...] = (
    "mainstream",
    "inclusion_base",
    "special",
    "independent",
    "non_maintained",
    "ap",
    "fe",
)
PLAN_TYPES: tuple[str, ...] = ("EHCP", "SEN_support")

_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def _in_semicolon_list(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    allowed_set = set(allowed)
    text = values.astype("string").fillna("")
    return text.map(lambda v: all(p in allowed_set for p in v.split(";") if p)).astype(bool)


class _Base(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = False


class PupilNeed(_Base):
    """Geocoded pupils (personal data; internal only)."""

    pupil_ref: Series[str] = pa.Field(unique=True)
    need_type: Series[str] = pa.Field(isin=NEED_CODES)
    plan_type: Series[str] = pa.Field(isin=PLAN_TYPES)
    nc_year: Series[int] = pa.Field(ge=-1, le=14)
    phase: Series[str] = pa.Field(isin=tuple(PHASES))
    current_setting_id: Series[str] = pa.Field(nullable=True)
    transport_assisted: Series[bool]
    origin_id: Series[str]
    easting: Series[float] = pa.Field(ge=BNG_EASTING_M[0], le=BNG_EASTING_M[1])
    northing: Series[float] = pa.Field(ge=BNG_NORTHING_M[0], le=BNG_NORTHING_M[1])
    geometry: Optional[GeoSeries[Annotated[Geometry, CRS]]] = pa.Field(coerce=False)  # noqa: UP045


class Provision(_Base):
    """Settings: mainstream, inclusion bases, special, independent, OOA (one row each)."""

    setting_id: Series[str] = pa.Field(unique=True)
    name: Series[str] = pa.Field(nullable=True)
    provision_type: Series[str] = pa.Field(isin=PROVISION_TYPES)
    host_setting_id: Series[str] = pa.Field(nullable=True)
    phases: Series[str]
    needs: Series[str] = pa.Field(nullable=True)
    capacity: Series[int] = pa.Field(ge=0)
    on_roll: Series[int] = pa.Field(ge=0)
    easting: Series[float] = pa.Field(ge=BNG_EASTING_M[0], le=BNG_EASTING_M[1])
    northing: Series[float] = pa.Field(ge=BNG_NORTHING_M[0], le=BNG_NORTHING_M[1])
    in_area: Series[bool]
    annual_cost_per_place_gbp: Series[float] = pa.Field(ge=0, nullable=True)
    ferry_required: Optional[Series[bool]]  # noqa: UP045
    geometry: Optional[GeoSeries[Annotated[Geometry, CRS]]] = pa.Field(coerce=False)  # noqa: UP045

    @pa.check("phases", name="';'-separated phases (primary, secondary, post16)")
    @classmethod
    def _phases(cls, values: pd.Series) -> pd.Series:
        return _in_semicolon_list(values, tuple(PHASES))

    @pa.check("needs", name="';'-separated SEN2 need codes")
    @classmethod
    def _needs(cls, values: pd.Series) -> pd.Series:
        return _in_semicolon_list(values, NEED_CODES)


class CandidateSite(_Base):
    """Candidate inclusion-base sites at mainstream schools."""

    site_id: Series[str] = pa.Field(unique=True)
    host_setting_id: Series[str]
    name: Series[str] = pa.Field(nullable=True)
    needs: Series[str] = pa.Field(nullable=True)
    phases: Series[str]
    places: Series[int] = pa.Field(gt=0)
    capital_cost_gbp: Series[float] = pa.Field(ge=0)
    annual_cost_per_place_gbp: Series[float] = pa.Field(ge=0, nullable=True)
    easting: Series[float] = pa.Field(ge=BNG_EASTING_M[0], le=BNG_EASTING_M[1], nullable=True)
    northing: Series[float] = pa.Field(ge=BNG_NORTHING_M[0], le=BNG_NORTHING_M[1], nullable=True)
    geometry: Optional[GeoSeries[Annotated[Geometry, CRS]]] = pa.Field(  # noqa: UP045
        coerce=False, nullable=True
    )

    @pa.check("phases", name="';'-separated phases (primary, secondary, post16)")
    @classmethod
    def _phases(cls, values: pd.Series) -> pd.Series:
        return _in_semicolon_list(values, tuple(PHASES))

    @pa.check("needs", name="';'-separated SEN2 need codes")
    @classmethod
    def _needs(cls, values: pd.Series) -> pd.Series:
        return _in_semicolon_list(values, NEED_CODES)


class Area(_Base):
    """Planning areas / LSOAs."""

    area_id: Series[str] = pa.Field(unique=True)
    imd_decile: Optional[Series[float]] = pa.Field(ge=1, le=10, nullable=True)  # noqa: UP045
    ruc_class: Optional[Series[str]] = pa.Field(isin=("urban", "rural"), nullable=True)  # noqa: UP045
    population: Optional[Series[float]] = pa.Field(ge=0, nullable=True)  # noqa: UP045
    geometry: GeoSeries[Annotated[Geometry, CRS]] = pa.Field(coerce=False)


class TravelMatrix(_Base):
    """Long-format origin x destination travel times and distances (NaN = unreachable)."""

    origin_id: Series[str]
    destination_id: Series[str]
    travel_time_min: Series[float] = pa.Field(ge=0, nullable=True)
    distance_m: Series[float] = pa.Field(ge=0, nullable=True)
    distance_km: Series[float] = pa.Field(ge=0, nullable=True)
    distance_miles: Series[float] = pa.Field(ge=0, nullable=True)

    class Config:
        unique = ["origin_id", "destination_id"]  # noqa: RUF012


class Allocation(_Base):
    """Who goes where (one row per pupil; internal only)."""

    pupil_ref: Series[str] = pa.Field(unique=True)
    setting_id: Series[str] = pa.Field(nullable=True)
    travel_time_min: Series[float] = pa.Field(ge=0, nullable=True)
    distance_km: Series[float] = pa.Field(ge=0, nullable=True)
    distance_miles: Series[float] = pa.Field(ge=0, nullable=True)
    route: Series[str] = pa.Field(isin=("road", "ferry"), nullable=True)
    annual_placement_cost_gbp: Series[float] = pa.Field(ge=0, nullable=True)
    annual_transport_cost_gbp: Series[float] = pa.Field(ge=0, nullable=True)


def _check_crs(df: pd.DataFrame, table: str, *, required: bool) -> None:
    geometry = df.get("geometry")
    if geometry is None:
        if required:
            msg = f"`{table}` has no geometry column; expected Polygon geometry in {CRS}"
            raise SchemaValidationError(msg)
        return
    crs = getattr(geometry, "crs", None)
    if crs is None or crs.to_epsg() != 27700:
        found = "no CRS" if crs is None else crs.to_string()
        msg = f"`{table}` geometry is in {found}, expected {CRS}; use `to_crs('{CRS}')`"
        raise CRSError(msg)


def _summarise(table: str, err: pa.errors.SchemaErrors, n_rows: int) -> str:
    cases = err.failure_cases
    parts = []
    grouped = cases.groupby(["column", "check"], dropna=False, sort=False)
    for (column, check), group in grouped:
        col = "(table)" if pd.isna(column) else f"`{column}`"
        n = group["index"].nunique() if group["index"].notna().any() else len(group)
        where = f"{n:,} of {n_rows:,} rows" if group["index"].notna().any() else "column"
        parts.append(f"{col} fails {check} ({where})")
    return f"`{table}` breaks its data contract: " + "; ".join(parts)


def _validate(df: _Frame, model: type[_Base], table: str, *, geometry: bool) -> _Frame:
    if not isinstance(df, pd.DataFrame):
        msg = f"`{table}` must be a DataFrame, got {type(df).__name__}"
        raise SchemaValidationError(msg)
    _check_crs(df, table, required=geometry)
    try:
        out = model.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise SchemaValidationError(_summarise(table, err, len(df))) from None
    return out  # type: ignore[return-value]


def validate_pupils(df: _Frame) -> _Frame:
    """Check geocoded pupils against :class:`PupilNeed`; return the (type-coerced) table.

    Parameters
    ----------
    df
        Output of :func:`placeplan.prepare.io.load_pupils` (GeoDataFrame in EPSG:27700, or
        DataFrame).

    Returns
    -------
    df
        The same rows with column types coerced.

    Raises
    ------
    SchemaValidationError
        Listing every failed check with row counts (never values).
    CRSError
        If the geometry is not in EPSG:27700.
    """
    return _validate(df, PupilNeed, "pupils", geometry=False)


def validate_provision(df: _Frame) -> _Frame:
    """Check settings against :class:`Provision`; see :func:`validate_pupils`."""
    return _validate(df, Provision, "provision", geometry=False)


def validate_sites(df: _Frame) -> _Frame:
    """Check candidate sites against :class:`CandidateSite`; see :func:`validate_pupils`."""
    return _validate(df, CandidateSite, "candidate_sites", geometry=False)


def validate_areas(df: _Frame) -> _Frame:
    """Check planning areas against :class:`Area` (Polygon geometry required)."""
    return _validate(df, Area, "areas", geometry=True)


def validate_matrix(df: _Frame) -> _Frame:
    """Check a long-format travel matrix against :class:`TravelMatrix`."""
    return _validate(df, TravelMatrix, "matrix", geometry=False)


def validate_allocation(df: _Frame) -> _Frame:
    """Check an allocation against :class:`Allocation`."""
    return _validate(df, Allocation, "allocation", geometry=False)
