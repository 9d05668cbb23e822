"""Exception and warning hierarchy for placeplan.

Every specific error also subclasses the builtin that fits, so callers can catch either
``PlaceplanError`` or e.g. ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "CacheError",
    "ConfigError",
    "GeocodeMatchWarning",
    "InfeasibleModelError",
    "InputFileError",
    "NetworkError",
    "PlaceplanError",
    "PlaceplanWarning",
    "SchemaValidationError",
    "SnapWarning",
    "UnreachableWarning",
]


class PlaceplanError(Exception):
    """Base class for every error placeplan raises on purpose."""


class SchemaValidationError(PlaceplanError, ValueError):
    """A table does not meet the data contract of the stage it is passed to."""


class InputFileError(PlaceplanError, ValueError):
    """An input file cannot be read or is malformed (names file, row and column)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class CRSError(PlaceplanError, ValueError):
    """A geometry is not in the coordinate reference system a stage requires."""


class ConfigError(PlaceplanError, ValueError):
    """A plan file or option is invalid."""


class NetworkError(PlaceplanError, ValueError):
    """A road network cannot be built, loaded or routed on."""


class InfeasibleModelError(PlaceplanError, RuntimeError):
    """An allocation or optimisation model has no feasible solution."""


class CacheError(PlaceplanError, OSError):
    """The on-disk cache cannot be read or written."""


class PlaceplanWarning(UserWarning):
    """Base class for placeplan warnings (partial failures; counts only, never pupil values)."""


class UnreachableWarning(PlaceplanWarning):
    """Some origin-destination pairs have no route within the limits."""


class GeocodeMatchWarning(PlaceplanWarning):
    """Some postcodes could not be matched to a location."""


class SnapWarning(PlaceplanWarning):
    """Some points snapped too far from the road network or to a fragment."""
