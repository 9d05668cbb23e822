"""Content-keyed on-disk cache helpers for derived, non-personal artefacts (networks, matrices).

Keys follow r5py: the SHA-256 of the input files' digests, the stage parameters and
``placeplan.__version__``, so a changed input, parameter or release never reuses a stale entry.
Entries live under ``placeplan.settings.cache_folder/<kind>/<key><suffix>`` and are written to a
temporary file first, then renamed into place, so a crash never leaves a half-written entry.

Never put pupil-level data into this cache (see docs/ARCHITECTURE.md, privacy rule).

Examples
--------
>>> key = cache_key("network", {"speed": 30}, 1.5)
>>> len(key)
64
>>> key == cache_key("network", {"speed": 30}, 1.5)
True
>>> key == cache_key("network", {"speed": 31}, 1.5)
False
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from placeplan._errors import CacheError

__all__ = [
    "array_digest",
    "atomic_path",
    "cache_key",
    "cache_path",
    "file_digest",
    "log_hit",
    "log_miss",
    "resolve_use_cache",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    Parameters
    ----------
    path
        File to hash.

    Returns
    -------
    str
        64 hex characters.
    """
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    except OSError as err:
        msg = f"cannot read `{path}` to compute its digest: {err}"
        raise CacheError(msg) from err
    return h.hexdigest()


def array_digest(*arrays: Any) -> str:
    """Return the SHA-256 hex digest of numpy arrays (dtype, shape and bytes) in order.

    Object and string arrays are hashed through their ``str`` values.

    >>> array_digest(np.arange(3)) == array_digest(np.arange(3))
    True
    >>> array_digest(np.arange(3)) == array_digest(np.arange(3).astype("float64"))
    False
    """
    h = hashlib.sha256()
    for arr in arrays:
        a = np.asarray(arr)
        if a.dtype.kind in "OUST":
            a = np.asarray([str(v) for v in a.ravel()], dtype=str)
            h.update(b"\x00".join(s.encode() for s in a.tolist()))
        else:
            a = np.ascontiguousarray(a)
            h.update(a.tobytes())
        h.update(f"|{a.dtype.str}|{a.shape}|".encode())
    return h.hexdigest()


def _normalise(part: Any) -> Any:
    if isinstance(part, bytes):
        return {"__bytes__": hashlib.sha256(part).hexdigest()}
    if isinstance(part, os.PathLike):
        return {"__file__": file_digest(part)}
    if isinstance(part, dict):
        return {str(k): _normalise(v) for k, v in sorted(part.items(), key=lambda kv: str(kv[0]))}
    if isinstance(part, list | tuple):
        return [_normalise(v) for v in part]
    if isinstance(part, np.ndarray):
        return {"__array__": array_digest(part)}
    if isinstance(part, float | np.floating):
        return repr(float(part))
    if isinstance(part, np.integer):
        return int(part)
    if part is None or isinstance(part, str | int | bool):
        return part
    return repr(part)


def cache_key(*parts: Any) -> str:
    """Return a SHA-256 hex key over ``parts`` and ``placeplan.__version__``.

    Parameters
    ----------
    *parts
        Strings, numbers, bools, ``None``, bytes, dicts, lists/tuples, numpy arrays or
        :class:`os.PathLike` objects. A path contributes its file's *content* digest, not its
        name, so a moved file keeps its key and an edited one does not.

    Returns
    -------
    str
        64 hex characters.
    """
    import placeplan  # deferred: avoids an import cycle

    payload = json.dumps(
        {"version": placeplan.__version__, "parts": [_normalise(p) for p in parts]},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def cache_path(kind: str, key: str, suffix: str) -> Path:
    """Return the cache file path for an entry (the folder is created, the file is not).

    Parameters
    ----------
    kind
        Sub-folder, e.g. ``"network"`` or ``"matrix"``.
    key
        From :func:`cache_key`.
    suffix
        File suffix including the dot, e.g. ``".npz"``.
    """
    from placeplan.settings import settings

    folder = Path(settings.cache_folder) / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot create cache folder `{folder}`: {err}; set `placeplan.settings.cache_folder`"
        raise CacheError(msg) from err
    return folder / f"{key}{suffix}"


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffix so writers that add a suffix when it is missing
    (``numpy.savez``) still write to it.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def resolve_use_cache(use_cache: bool | None) -> bool:
    """Return ``use_cache``, or ``placeplan.settings.use_cache`` when it is ``None``."""
    from placeplan.settings import settings

    return settings.use_cache if use_cache is None else bool(use_cache)


def log_hit(kind: str, path: Path) -> None:
    """Log a cache hit at INFO (the key only; cache entries never hold pupil data)."""
    logger.info("cache hit: %s %s", kind, Path(path).name[:12])


def log_miss(kind: str, path: Path) -> None:
    """Log a cache miss at INFO."""
    logger.info("cache miss: %s %s", kind, Path(path).name[:12])
