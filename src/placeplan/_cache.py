"""Content-keyed on-disk cache helpers for derived, non-personal artefacts (networks, matrices).

Keys follow r5py: the SHA-256 of the input files' digests, the stage parameters and
``placeplan.__version__``, so a changed input, parameter or release never reuses a stale entry.
Entries live under ``placeplan.settings.cache_folder/<kind>/<key><suffix>`` and are written to a
temporary file first, then renamed into place, so a crash never leaves a half-written entry.

Never put pupil-level data into this cache (see docs/ARCHITECTURE.md, privacy rule): entries
hold derived arrays only (a travel matrix is stored without its origin ids, which the caller
re-attaches by position; the key hashes them).

**Entries are sealed.** A matrix entry holds no ids, but its rows are its origins' travel times,
and the origins are the cohort's postcodes: matched against the times from every public postcode
(the network and the settings are open data), the rows named the postcode of 1,281 of the
sample's 1,293 origins. So every entry whose key :func:`cache_key` made in this process is
written encrypted (a SHAKE-256 keystream, XOR) under a second key derived from the same inputs
(``seal``), which only a run that knows those inputs (every origin and its coordinates, in
order) can derive; the file name gives nothing away. A sealed file starts with
:data:`SEAL_MAGIC`; an entry of a personal kind (:data:`PERSONAL_KINDS`) in clear, written by an
earlier version, is deleted (:func:`purge_plain`) and rebuilt, never read.

Every entry is written with a ``<entry>.sha256`` checksum beside it (:func:`write_entry`).
:func:`read_entry` checks it before reading: a missing, truncated, tampered or unreadable entry is
deleted with a one-line warning and the caller rebuilds it, so a bad entry never fails a run.
The checksum catches damage (a killed copy, a full disk, an edited file), not a deliberate
forgery: anyone who can write the cache folder can also rewrite the checksum.

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
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from placeplan._errors import CacheError

__all__ = [
    "PERSONAL_KINDS",
    "SEAL_MAGIC",
    "array_digest",
    "atomic_path",
    "cache_key",
    "cache_path",
    "drop_entry",
    "file_digest",
    "log_hit",
    "log_miss",
    "purge_legacy",
    "purge_plain",
    "read_entry",
    "resolve_use_cache",
    "write_entry",
]

T = TypeVar("T")
_CHECKSUM_SUFFIX = ".sha256"

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20

SEAL_MAGIC = b"PPSEAL1\n"
"""First bytes of a sealed entry."""

#: Entry kinds whose values are derived from pupils' locations: never kept in clear.
PERSONAL_KINDS: tuple[str, ...] = ("matrix",)

# key -> seal of every key cache_key made in this process (bounded; the oldest go first)
_SEALS: dict[str, bytes] = {}
_MAX_SEALS = 4096


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
    ).encode()
    key = hashlib.sha256(payload).hexdigest()
    # the entry's seal: from the same inputs, but not from the key (the file's name)
    if len(_SEALS) >= _MAX_SEALS:
        _SEALS.pop(next(iter(_SEALS)))
    _SEALS[key] = hashlib.sha256(b"placeplan cache seal\x00" + payload).digest()
    return key


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
    if kind in PERSONAL_KINDS and (str(folder), "plain") not in _PURGED:
        _PURGED.add((str(folder), "plain"))
        purge_plain(kind)
    return folder / f"{key}{suffix}"


def _seal_of(path: Path) -> bytes | None:
    """The seal of an entry whose key :func:`cache_key` made in this process, else None."""
    return _SEALS.get(path.name[:64])


def _is_sealed(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(SEAL_MAGIC)) == SEAL_MAGIC


def _xor_stream(src: Path, dst: Path, seal: bytes, *, skip: int, prefix: bytes) -> None:
    """Write ``prefix`` then ``src`` (from byte ``skip``) XOR a SHAKE-256 keystream of ``seal``."""
    with src.open("rb") as fin, dst.open("wb") as fout:
        fin.seek(skip)
        fout.write(prefix)
        block = 0
        while chunk := fin.read(_CHUNK):
            pad = hashlib.shake_256(seal + block.to_bytes(8, "big")).digest(len(chunk))
            data = np.frombuffer(chunk, np.uint8) ^ np.frombuffer(pad, np.uint8)
            fout.write(data.tobytes())
            block += 1


def purge_plain(kind: str) -> int:
    """Delete the entries of ``kind`` that are not sealed (written in clear by an older version).

    Parameters
    ----------
    kind
        Cache sub-folder (one of :data:`PERSONAL_KINDS`).

    Returns
    -------
    int
        Number of entries deleted (with their checksums).
    """
    from placeplan.settings import settings

    folder = Path(settings.cache_folder) / kind
    n = 0
    for entry in sorted(folder.glob("*")) if folder.is_dir() else ():
        if entry.name.endswith(_CHECKSUM_SUFFIX) or entry.name.startswith("."):
            continue
        with contextlib.suppress(OSError):
            if not _is_sealed(entry):
                drop_entry(entry)
                n += 1
    if n:
        logger.warning("cache: deleted %s %s entries kept in clear by an earlier version", n, kind)
    return n


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


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + _CHECKSUM_SUFFIX)


def drop_entry(path: str | os.PathLike[str]) -> None:
    """Delete a cache entry and its checksum (missing files are fine).

    Parameters
    ----------
    path
        The entry, from :func:`cache_path`.
    """
    path = Path(path)
    for p in (path, _checksum_path(path)):
        with contextlib.suppress(OSError):
            p.unlink()


def write_entry(path: str | os.PathLike[str], write: Callable[[Path], None]) -> None:
    """Write a cache entry atomically, then its SHA-256 checksum beside it.

    Parameters
    ----------
    path
        The entry, from :func:`cache_path`.
    write
        Called with a temporary path (same suffix) to write the entry's bytes to.

    Raises
    ------
    OSError
        If the entry cannot be written (the caller decides whether that matters).

    Examples
    --------
    >>> import tempfile
    >>> entry = Path(tempfile.mkdtemp()) / "demo.txt"
    >>> write_entry(entry, lambda p: p.write_text("x"))
    >>> read_entry(entry, lambda p: p.read_text(), kind="demo")
    'x'
    """
    path = Path(path)
    seal = _seal_of(path)
    with atomic_path(path) as tmp:
        write(tmp)
        if seal is not None:
            with atomic_path(tmp) as sealed:
                _xor_stream(tmp, sealed, seal, skip=0, prefix=SEAL_MAGIC)
    digest = file_digest(path)
    checksum = _checksum_path(path)
    with atomic_path(checksum) as tmp:
        tmp.write_text(digest + "\n", encoding="ascii")


def read_entry(path: str | os.PathLike[str], read: Callable[[Path], T], *, kind: str) -> T | None:
    """Read a cache entry whose checksum matches; drop a damaged one and return ``None``.

    Parameters
    ----------
    path
        The entry, from :func:`cache_path`.
    read
        Reads the entry from a path; any exception it raises marks the entry as damaged.
    kind
        What the entry is (``"network"``, ``"matrix"``), for the warning.

    Returns
    -------
    value
        ``read(path)``; ``None`` when there is no entry or it was damaged (then it is deleted,
        one warning line is logged and the caller rebuilds it).

    Examples
    --------
    >>> import tempfile
    >>> entry = Path(tempfile.mkdtemp()) / "demo.txt"
    >>> read_entry(entry, lambda p: p.read_text(), kind="demo") is None
    True
    """
    path = Path(path)
    if not path.exists():
        return None
    problem = None
    try:
        expected = _checksum_path(path).read_text(encoding="ascii").strip()
    except OSError:
        problem = "no checksum"
    else:
        try:
            actual = file_digest(path)
        except CacheError:
            problem = "unreadable"
        else:
            if actual != expected:
                problem = "checksum mismatch: truncated or changed"
    if problem is None:
        with _opened(path, kind) as (plain, problem):
            if problem is None and path.suffix == ".npz":
                problem = _zip_problem(plain)
            if problem is None:
                try:
                    return read(plain)
                except Exception as err:  # any failure to read means a damaged entry
                    problem = f"unreadable: {type(err).__name__}"
    drop_entry(path)
    logger.warning(
        "cache: dropped a damaged %s entry %s (%s); rebuilding it", kind, path.name[:12], problem
    )
    return None


@contextlib.contextmanager
def _opened(path: Path, kind: str) -> Iterator[tuple[Path, str | None]]:
    """The entry in clear (a temporary copy when sealed) and what is wrong with it, if anything."""
    seal = _seal_of(path)
    sealed = _is_sealed(path)
    if not sealed:
        personal = kind in PERSONAL_KINDS and seal is not None
        yield path, ("kept in clear by an earlier version" if personal else None)
        return
    if seal is None:
        yield path, "sealed under a key this run did not make"
        return
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    plain = Path(name)
    try:
        _xor_stream(path, plain, seal, skip=len(SEAL_MAGIC), prefix=b"")
        yield plain, None
    finally:
        with contextlib.suppress(OSError):
            plain.unlink()


def _zip_problem(path: Path) -> str | None:
    """Check an ``.npz`` archive's structure and CRCs (numpy leaks the file on a bad archive)."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as err:
        return f"unreadable: {type(err).__name__}"
    return None if bad is None else "unreadable: CRC error"


_PURGED: set[tuple[str, str]] = set()


def purge_legacy(kind: str, pattern: str) -> int:
    """Delete entries an older placeplan wrote in a form no longer allowed (once per process).

    Parameters
    ----------
    kind
        Cache sub-folder.
    pattern
        Glob of the old entries, e.g. ``"*.parquet"`` (matrices that held origin postcodes).

    Returns
    -------
    int
        Number of files deleted.
    """
    from placeplan.settings import settings

    folder = Path(settings.cache_folder) / kind
    if (str(folder), pattern) in _PURGED:
        return 0
    _PURGED.add((str(folder), pattern))
    n = 0
    for old in folder.glob(pattern) if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            old.unlink()
            n += 1
    if n:
        logger.warning("cache: deleted %s old %s entries written by an earlier version", n, kind)
    return n
