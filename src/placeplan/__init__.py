"""placeplan: SEND place planning and travel impact assessment for English local authorities."""

from __future__ import annotations

import contextlib
import logging
from importlib.metadata import PackageNotFoundError, version

from placeplan._errors import (
    CacheError,
    ConfigError,
    CRSError,
    GeocodeMatchWarning,
    InfeasibleModelError,
    InputFileError,
    NetworkError,
    PlaceplanError,
    PlaceplanWarning,
    SchemaValidationError,
    SnapWarning,
    UnreachableWarning,
)
from placeplan.settings import settings

__version__ = "0+unknown"
with contextlib.suppress(PackageNotFoundError):
    __version__ = version("placeplan")

logging.getLogger(__name__).addHandler(logging.NullHandler())

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
    "__version__",
    "settings",
]
