"""Offline postcode geocoding: postcode -> grid reference (EPSG:27700) and LSOA.

The lookup is built from a file the user points at: an OS Code-Point Open CSV (with or without its
header row, or its ``Data/CSV`` folder), an ONS postcode directory (ONSPD / NSPL / ONS postcode
lookup) or placeplan's own ``postcodes.csv`` as shipped with the Isle of Wight sample. Nothing goes
online.
"""

from __future__ import annotations

import csv
import difflib
import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from placeplan._errors import InputFileError

__all__ = [
    "GEOCODE_STATUSES",
    "PostcodeIndex",
    "is_valid_postcode",
    "normalise_postcode",
]

logger = logging.getLogger(__name__)

#: Every status :meth:`PostcodeIndex.geocode` can give.
GEOCODE_STATUSES: tuple[str, ...] = (
    "matched",
    "corrected",
    "terminated",
    "not_found",
    "invalid",
    "missing",
)

# Outward code: area (1-2 letters), district (digit + optional digit or letter); inward: digit + 2
# letters. The general format; it accepts a few combinations Royal Mail never issues, which is
# fine because existence is checked against the postcode file.
_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_TYPO_SWAPS = {"O": "0", "0": "O", "I": "1", "1": "I"}
_MAX_SWAPS = 8

# Column names per source (compared after lower-casing and removing non-alphanumerics).
_POSTCODE_COLS = ("postcode", "pcds", "pcd", "pcd2", "pcd7", "pcd8", "pcon", "postcodes")
_EASTING_COLS = ("easting", "eastings", "oseast1m", "east1m", "x", "gridgbe")
_NORTHING_COLS = ("northing", "northings", "osnrth1m", "north1m", "y", "gridgbn")
_LSOA_COLS = ("lsoa11cd", "lsoa11", "lsoa21cd", "lsoa21", "lsoacd", "lsoa", "lsoacode")
_TERMINATED_COLS = ("dateterminated", "doterm", "terminated")
_QUALITY_COLS = ("positionalquality", "positionalqualityindicator", "osgrdind", "pqi")
# Code-Point Open data files have no header; this is the order given in its documentation.
_CODEPOINT_COLUMNS = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _compact(text: object) -> str | None:
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return None
    compact = re.sub(r"[^A-Za-z0-9]", "", str(text)).upper()
    return compact or None


def _format(compact: str) -> str | None:
    match = _POSTCODE_RE.match(compact)
    return f"{match.group(1)} {match.group(2)}" if match else None


def is_valid_postcode(text: object) -> bool:
    """Return whether ``text`` has the format of a UK postcode (existence is not checked).

    Examples
    --------
    >>> is_valid_postcode("po30 1ud"), is_valid_postcode("PO30")
    (True, False)
    """
    compact = _compact(text)
    return compact is not None and _format(compact) is not None


def _typo_candidates(compact: str) -> list[str]:
    """Return well-formed postcodes reachable by swapping O/0 and I/1 (original excluded)."""
    positions = [i for i, ch in enumerate(compact) if ch in _TYPO_SWAPS]
    if not positions or len(positions) > _MAX_SWAPS:
        return []
    out: list[str] = []
    for choice in itertools.product((False, True), repeat=len(positions)):
        if not any(choice):
            continue
        chars = list(compact)
        for pos, swap in zip(positions, choice, strict=True):
            if swap:
                chars[pos] = _TYPO_SWAPS[chars[pos]]
        formatted = _format("".join(chars))
        if formatted is not None:
            out.append(formatted)
    return out


def normalise_postcode(text: object, *, known: set[str] | None = None) -> str | None:
    """Return a postcode in standard form (``"PO30 1UD"``), or ``None`` when it cannot be one.

    Case, spaces and punctuation are ignored. When ``known`` (a set of postcodes in standard form)
    is given, a postcode that is not in it is corrected for the common O/0 and I/1 typos, but only
    when exactly one corrected form is well formed and in ``known``.

    Parameters
    ----------
    text
        The postcode as typed.
    known
        Postcodes that exist, in standard form; enables typo correction.

    Returns
    -------
    postcode
        ``"AA9A 9AA"`` form, or ``None`` if ``text`` is empty or not a well-formed postcode (and no
        unique correction exists).

    Examples
    --------
    >>> normalise_postcode("po301ud")
    'PO30 1UD'
    >>> normalise_postcode(" P030 1UD ", known={"PO30 1UD"})
    'PO30 1UD'
    >>> normalise_postcode("not a postcode") is None
    True
    """
    compact = _compact(text)
    if compact is None:
        return None
    formatted = _format(compact)
    if known is None or (formatted is not None and formatted in known):
        return formatted
    hits = [c for c in _typo_candidates(compact) if c in known]
    if len(set(hits)) == 1:
        return hits[0]
    return formatted


def _first(columns: dict[str, str], candidates: tuple[str, ...]) -> str | None:
    for cand in candidates:
        if cand in columns:
            return columns[cand]
    return None


def _read_text_csv(path: Path, usecols: list[str] | None, header: bool) -> pd.DataFrame:
    kwargs: dict[str, object] = {
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
    }
    if not header:
        kwargs["header"] = None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            frame = pd.read_csv(path, encoding=encoding, **kwargs)  # type: ignore[call-overload]
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - latin-1 decodes any byte
        msg = "cannot decode the postcode file"
        raise InputFileError(msg, file=str(path))
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if usecols is not None:
        frame = frame[[c for c in usecols if c in frame.columns]]
    return frame


def _sniff_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        raw = fh.readline()
    first = raw.removeprefix(b"\xef\xbb\xbf").decode("latin-1").strip()
    if not first:
        msg = "the postcode file is empty"
        raise InputFileError(msg, file=str(path))
    return next(csv.reader([first]))


def _to_number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("string").str.strip().replace({"": pd.NA}), errors="coerce")


@dataclass(frozen=True)
class _Source:
    postcode: str
    easting: str | None
    northing: str | None
    lsoa: str | None
    terminated: str | None
    quality: str | None


def _detect(path: Path, header: list[str]) -> tuple[_Source, bool]:
    """Return the columns to use and whether the file has a header row."""
    if header and _format(_compact(header[0]) or "") is not None:
        # Headerless Code-Point Open data file.
        cols = list(_CODEPOINT_COLUMNS[: len(header)])
        return (
            _Source("Postcode", "Eastings", "Northings", None, None, "Positional_quality_indicator")
            if len(cols) >= 4
            else _Source("Postcode", None, None, None, None, None)
        ), False
    columns = {_key(c): c for c in header}
    postcode = _first(columns, _POSTCODE_COLS)
    # ONSPD has pcd, pcd2 and pcds; pcds is the standard form, prefer it.
    if "pcds" in columns:
        postcode = columns["pcds"]
    if postcode is None:
        guess = difflib.get_close_matches("postcode", list(header), n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        msg = (
            "no postcode column found; expected a Code-Point Open, ONS postcode directory or "
            f"placeplan postcodes.csv file with a 'postcode' or 'pcds' column{hint}"
        )
        raise InputFileError(msg, file=str(path), column="postcode")
    source = _Source(
        postcode=postcode,
        easting=_first(columns, _EASTING_COLS),
        northing=_first(columns, _NORTHING_COLS),
        lsoa=_first(columns, _LSOA_COLS),
        terminated=_first(columns, _TERMINATED_COLS),
        quality=_first(columns, _QUALITY_COLS),
    )
    return source, True


class PostcodeIndex:
    """Offline postcode lookup: standard-form postcode -> easting, northing, LSOA, termination.

    Build it with :meth:`from_file` (or from a table with :meth:`from_frame`) and look postcodes
    up with :meth:`geocode`.

    Parameters
    ----------
    table
        Indexed by standard-form postcode, with float ``easting`` and ``northing`` (EPSG:27700,
        metres; NaN when the file has no grid reference), string ``lsoa11cd`` (nullable) and
        bool ``terminated``.
    source
        Where the table came from (for messages).
    """

    def __init__(self, table: pd.DataFrame, *, source: str = "postcodes") -> None:
        missing = {"easting", "northing", "lsoa11cd", "terminated"} - set(table.columns)
        if missing:
            msg = f"`table` lacks columns {sorted(missing)}"
            raise ValueError(msg)
        table = table[~table.index.duplicated(keep="first")]
        self.table = table
        self.source = source
        self._known = set(table.index)

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, postcode: object) -> bool:
        return postcode in self._known

    def __repr__(self) -> str:
        return f"PostcodeIndex({len(self):,} postcodes from {self.source})"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "table") -> PostcodeIndex:
        """Build an index from a table with a postcode column (same detection as files).

        Parameters
        ----------
        frame
            Columns as in a Code-Point Open, ONSPD or placeplan ``postcodes.csv`` file.
        source
            Name used in messages.

        Returns
        -------
        index
            The lookup.
        """
        frame = frame.astype("string").fillna("")
        spec, _ = _detect(Path(source), [str(c) for c in frame.columns])
        return cls(_build_table(frame, spec), source=source)

    @classmethod
    def from_file(cls, path: str | Path, *, lookup_path: str | Path | None = None) -> PostcodeIndex:
        """Read a postcode file (Code-Point Open, ONS postcode directory or placeplan CSV).

        Parameters
        ----------
        path
            A CSV file, or a folder of them (Code-Point Open's ``Data/CSV``). Columns are detected
            from the header; Code-Point Open data files without a header are recognised by their
            first value being a postcode.
        lookup_path
            Optional postcode -> LSOA lookup CSV (e.g. the ONS "postcode to OA to LSOA" lookup) used
            when ``path`` has no LSOA column, as Code-Point Open has not.

        Returns
        -------
        index
            The lookup.

        Raises
        ------
        InputFileError
            If the file does not exist, is empty or has no recognisable postcode column.
        """
        path = Path(path)
        if not path.exists():
            msg = "postcode file not found"
            raise InputFileError(msg, file=str(path))
        files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        if not files:
            msg = "no .csv files in the postcode folder"
            raise InputFileError(msg, file=str(path))
        parts = []
        for file in files:
            header = _sniff_header(file)
            spec, has_header = _detect(file, header)
            if not has_header:
                frame = _read_text_csv(file, None, header=False)
                frame.columns = list(_CODEPOINT_COLUMNS[: frame.shape[1]]) + [
                    f"extra_{i}" for i in range(max(0, frame.shape[1] - len(_CODEPOINT_COLUMNS)))
                ]
            else:
                wanted = [
                    c
                    for c in (
                        spec.postcode,
                        spec.easting,
                        spec.northing,
                        spec.lsoa,
                        spec.terminated,
                        spec.quality,
                    )
                    if c
                ]
                frame = _read_text_csv(file, wanted, header=True)
            if spec.easting is None or spec.northing is None:
                msg = "no easting/northing columns found in the postcode file"
                raise InputFileError(msg, file=str(file), column="easting")
            parts.append(_build_table(frame, spec))
        table = pd.concat(parts) if len(parts) > 1 else parts[0]
        if lookup_path is not None:
            lookup = cls.from_lookup(lookup_path)
            fill = lookup.reindex(table.index)
            table = table.assign(lsoa11cd=table["lsoa11cd"].fillna(fill))
        logger.info("postcode index: %s postcodes from %s", f"{len(table):,}", path.name)
        return cls(table, source=path.name)

    @staticmethod
    def from_lookup(path: str | Path) -> pd.Series:
        """Read a postcode -> LSOA lookup CSV into a Series indexed by standard-form postcode.

        Parameters
        ----------
        path
            CSV with a postcode column (``pcds``/``postcode``…) and an LSOA column.

        Returns
        -------
        lsoa
            LSOA code by postcode.
        """
        path = Path(path)
        header = _sniff_header(path)
        columns = {_key(c): c for c in header}
        pc = columns.get("pcds") or _first(columns, _POSTCODE_COLS)
        lsoa = _first(columns, _LSOA_COLS)
        if pc is None or lsoa is None:
            msg = "the LSOA lookup needs a postcode column and an LSOA column (lsoa11cd/lsoa21cd)"
            raise InputFileError(msg, file=str(path), column="lsoa11cd" if pc else "postcode")
        frame = _read_text_csv(path, [pc, lsoa], header=True)
        keys = frame[pc].map(lambda t: normalise_postcode(t))
        out = pd.Series(
            frame[lsoa].str.strip().replace({"": pd.NA}).to_numpy(), index=keys.to_numpy()
        )
        out = out[out.index.notna()]
        return out[~out.index.duplicated(keep="first")].astype("string")

    def geocode(self, postcodes: pd.Series) -> pd.DataFrame:
        """Look postcodes up, correcting O/0 and I/1 typos where that gives a unique real postcode.

        Parameters
        ----------
        postcodes
            Postcodes as typed (any case and spacing; missing values allowed).

        Returns
        -------
        result
            Same index as ``postcodes``; columns ``postcode_norm`` (standard form or NA),
            ``easting``, ``northing`` (EPSG:27700 metres; NaN if not located), ``lsoa11cd``,
            ``status`` (one of :data:`GEOCODE_STATUSES`) and ``note`` (why, in words; never the
            postcode itself).

        Notes
        -----
        A terminated postcode keeps the grid reference the file gives for it, if any, so it can
        still be used; its status says it is terminated.
        """
        values = postcodes.astype("string")
        unique = pd.unique(values.dropna())
        rows = {value: self._lookup_one(value) for value in unique}
        missing = ("", np.nan, np.nan, "", "missing", "no postcode given")
        records = [rows.get(v, missing) if not pd.isna(v) else missing for v in values]
        out = pd.DataFrame.from_records(
            records,
            columns=["postcode_norm", "easting", "northing", "lsoa11cd", "status", "note"],
            index=postcodes.index,
        )
        out["postcode_norm"] = out["postcode_norm"].astype("string").replace({"": pd.NA})
        out["lsoa11cd"] = out["lsoa11cd"].astype("string").replace({"": pd.NA})
        out["easting"] = out["easting"].astype(float)
        out["northing"] = out["northing"].astype(float)
        out["status"] = out["status"].astype("string")
        out["note"] = out["note"].astype("string")
        counts = out["status"].value_counts().to_dict()
        logger.info("geocode: %s postcodes, %s", f"{len(out):,}", counts)
        return out

    def _lookup_one(self, text: str) -> tuple[str, float, float, str, str, str]:
        compact = _compact(text)
        if compact is None:
            return ("", np.nan, np.nan, "", "missing", "no postcode given")
        formatted = _format(compact)
        status = "matched"
        note = ""
        if formatted is None or formatted not in self._known:
            hits = sorted({c for c in _typo_candidates(compact) if c in self._known})
            if len(hits) == 1:
                formatted, status, note = hits[0], "corrected", "corrected an O/0 or I/1 typo"
            elif len(hits) > 1:
                return (formatted or "", np.nan, np.nan, "", "not_found", "typo is ambiguous")
            elif formatted is None:
                return ("", np.nan, np.nan, "", "invalid", "not a UK postcode format")
            else:
                return (formatted, np.nan, np.nan, "", "not_found", "not in the postcode file")
        row = cast("pd.Series", self.table.loc[formatted])  # one row: the index is de-duplicated
        easting, northing = float(row["easting"]), float(row["northing"])
        lsoa = row["lsoa11cd"]
        lsoa = "" if pd.isna(lsoa) else str(lsoa)
        if bool(row["terminated"]):
            located = "last known grid reference used" if np.isfinite(easting) else "no grid ref"
            note = "; ".join(p for p in (note, f"terminated postcode, {located}") if p)
            return (formatted, easting, northing, lsoa, "terminated", note)
        if not (np.isfinite(easting) and np.isfinite(northing)):
            return (formatted, np.nan, np.nan, lsoa, "not_found", "no grid reference in the file")
        return (formatted, easting, northing, lsoa, status, note)


def _build_table(frame: pd.DataFrame, spec: _Source) -> pd.DataFrame:
    keys = frame[spec.postcode].map(lambda t: _format(_compact(t) or ""))
    easting = _to_number(frame[spec.easting]) if spec.easting else pd.Series(np.nan, frame.index)
    northing = _to_number(frame[spec.northing]) if spec.northing else pd.Series(np.nan, frame.index)
    # Code-Point Open / ONSPD mark "no grid reference" with 0,0 or quality 90 / 9.
    no_ref = (easting.fillna(0) <= 0) & (northing.fillna(0) <= 0)
    if spec.quality:
        quality = frame[spec.quality].astype("string").str.strip()
        no_ref |= quality.isin(["90", "9"]).fillna(False).to_numpy()
    easting = easting.astype(float).mask(no_ref.to_numpy())
    northing = northing.astype(float).mask(no_ref.to_numpy())
    if spec.lsoa:
        lsoa = frame[spec.lsoa].astype("string").str.strip().replace({"": pd.NA})
    else:
        lsoa = pd.Series(pd.NA, index=frame.index, dtype="string")
    if spec.terminated:
        terminated = frame[spec.terminated].astype("string").str.strip().fillna("") != ""
    else:
        terminated = pd.Series(False, index=frame.index)
    table = pd.DataFrame(
        {
            "easting": easting.to_numpy(dtype=float),
            "northing": northing.to_numpy(dtype=float),
            "lsoa11cd": lsoa.to_numpy(),
            "terminated": terminated.to_numpy(dtype=bool),
        },
        index=pd.Index(keys.to_numpy(), name="postcode", dtype="string"),
    )
    table["lsoa11cd"] = table["lsoa11cd"].astype("string")
    table = table[table.index.notna()]
    # A live entry wins over a terminated one for the same postcode.
    table = table.sort_values("terminated", kind="stable")
    return table[~table.index.duplicated(keep="first")]
