"""Process-wide runtime options: cache folder, cache use, progress bars and log level.

These shape *how* placeplan runs, never *what* an analysis computes (that is
:class:`placeplan.config.PlanConfig`). Unknown names raise ``AttributeError`` and every
assignment is validated::

    >>> import placeplan
    >>> placeplan.settings.progress = False
    >>> placeplan.settings.use_cache
    True

Options
-------
cache_folder : pathlib.Path
    Where derived, non-personal artefacts (road graphs, postcode-to-site matrices) are cached.
    Default ``platformdirs.user_cache_dir("placeplan")``; override with ``PLACEPLAN_CACHE_DIR``.
use_cache : bool
    Read and write the cache. Default ``True``.
progress : bool
    Show tqdm progress bars on a terminal. Default ``True`` (bars switch themselves off when output
    is not a terminal).
log_level : str
    Level of the log lines the CLI writes to stderr (``DEBUG``, ``INFO``, ``WARNING`` or
    ``ERROR``); ``-v`` and ``-q`` override it for one command. Library code never configures
    logging. Default ``"WARNING"``: warnings and one line a stage; ``"INFO"`` adds every step's
    detail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["Options", "settings"]

_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


def _default_cache() -> Path:
    env = os.environ.get("PLACEPLAN_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("placeplan"))


@dataclass
class Options:
    """Validated runtime options (see module docstring)."""

    cache_folder: Path = field(default_factory=_default_cache)
    use_cache: bool = True
    progress: bool = True
    log_level: str = "WARNING"

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self.__dataclass_fields__:
            msg = f"`{name}` is not a placeplan option; valid: {sorted(self.__dataclass_fields__)}"
            raise AttributeError(msg)
        if name == "cache_folder":
            value = Path(value)
        elif name in {"use_cache", "progress"} and not isinstance(value, bool):
            msg = f"`{name}` must be True or False, got {value!r}"
            raise TypeError(msg)
        elif name == "log_level":
            value = str(value).upper()
            if value not in _LEVELS:
                msg = f"`log_level` must be one of {sorted(_LEVELS)}, got {value!r}"
                raise ValueError(msg)
        object.__setattr__(self, name, value)


settings = Options()
