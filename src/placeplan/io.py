"""Input loading with row accounting: pupils, provision (own format or GIAS), sites, areas.

Every loader reads the whole file as text, converts it column by column, collects every problem
(one rejection per row and column: file, row, column, reason) and returns a :class:`LoadResult` in
which ``rows_read == rows_used + rows_rejected (+ rows_skipped)`` always holds. Whole-file problems
(missing, empty, unreadable, wrong delimiter, required column missing) raise
:class:`~placeplan.InputFileError`. Row numbers are those a spreadsheet user sees: the header is
row 1. Rejection reasons name the column and what was expected, never the value found, so pupil
data cannot leak into a report.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io as _io
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import schemas
from ._errors import CRSError, InputFileError, SchemaValidationError
from .needs import NEED_CODES, PHASES, normalise_need, phase_of_nc_year

if TYPE_CHECKING:
    from .geocode import PostcodeIndex

__all__ = [
    "REJECTION_COLUMNS",
    "LoadResult",
    "assign_areas",
    "authority_geometry",
    "load_areas",
    "load_gias",
    "load_provision",
    "load_pupils",
    "load_sites",
    "read_table",
    "write_layers",
]

logger = logging.getLogger(__name__)

#: Column dtypes of a rejections frame, in column order.
_REJECTION_DTYPES: dict[str, str] = {
    "file": "string",
    "row": "int64",
    "column": "string",
    "reason": "string",
}
REJECTION_COLUMNS: tuple[str, ...] = tuple(_REJECTION_DTYPES)
CRS = "EPSG:27700"
_EXTRA = "__extra_cells__"
_DELIMITERS = (",", ";", "\t", "|")
_GB_E = (0.0, 700_000.0)
_GB_N = (0.0, 1_300_000.0)
_NEEDS_EXPECTED = ", ".join(NEED_CODES)


# --------------------------------------------------------------------------------------------
# Result and rejection bookkeeping
# --------------------------------------------------------------------------------------------


def _empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    """An empty frame with these columns, in this order, of these dtypes."""
    return pd.DataFrame({col: pd.Series(dtype=dtype) for col, dtype in dtypes.items()})


def _empty_rejections() -> pd.DataFrame:
    return _empty_frame(_REJECTION_DTYPES)


@dataclass(frozen=True)
class LoadResult:
    """What a loader read, used and rejected.

    Attributes
    ----------
    data
        The rows used, converted to the placeplan table (a GeoDataFrame in EPSG:27700 for point
        tables). Its index is the row number in the input file.
    rejections
        One row per problem: ``file``, ``row`` (header = 1), ``column``, ``reason``.
    rows_read
        Data rows in the file (blank lines are not rows).
    rows_used
        Input rows that made it into ``data``.
    file
        File name used in messages.
    rows_skipped
        Rows left out by design rather than for a fault (only :func:`load_gias`: closed
        establishments and those outside the authority and its buffer).
    notes
        Things the user should know that are not errors (ignored columns, defaults applied).
    rejected_ids
        For a settings file: id -> row number of every setting whose row was rejected, so that
        pupils and sites referring to it can say "that setting was rejected" rather than "no
        such setting".
    """

    data: pd.DataFrame
    rejections: pd.DataFrame
    rows_read: int
    rows_used: int
    file: str = ""
    rows_skipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    rejected_ids: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows_read != self.rows_used + self.rows_rejected + self.rows_skipped:
            msg = (
                f"row accounting broken for {self.file}: read {self.rows_read} != used "
                f"{self.rows_used} + rejected {self.rows_rejected} + skipped {self.rows_skipped}"
            )
            raise RuntimeError(msg)

    @property
    def rows_rejected(self) -> int:
        """Number of distinct input rows with at least one rejection."""
        return int(self.rejections["row"].nunique()) if len(self.rejections) else 0

    @property
    def ok(self) -> bool:
        """Whether every row read is used."""
        return self.rows_rejected == 0


class _Rejects:
    """Collects row-level problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._items: list[tuple[int, str, str]] = []
        self._rows: set[int] = set()

    def add(self, rows: Iterable[Any], column: str, reason: str) -> None:
        for row in rows:
            self._items.append((int(row), column, reason))
            self._rows.add(int(row))

    def add_mask(self, mask: pd.Series, column: str, reason: str) -> None:
        self.add(mask.index[mask.fillna(False).to_numpy(dtype=bool)], column, reason)

    @property
    def rows(self) -> set[int]:
        return self._rows

    def frame(self) -> pd.DataFrame:
        if not self._items:
            return _empty_rejections()
        out = pd.DataFrame(self._items, columns=["row", "column", "reason"])
        out.insert(0, "file", self.file)
        out = out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
        return out.astype(_REJECTION_DTYPES)

    def result(
        self, data: pd.DataFrame, frame: pd.DataFrame, notes: Iterable[str] = ()
    ) -> LoadResult:
        """The :class:`LoadResult` of reading ``frame`` (every input row) into ``data``."""
        return LoadResult(
            data=data,
            rejections=self.frame(),
            rows_read=len(frame),
            rows_used=len(data),
            file=self.file,
            notes=tuple(notes),
        )


# --------------------------------------------------------------------------------------------
# Reading tables
# --------------------------------------------------------------------------------------------


def _decode(raw: bytes, file: str) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"PK\x03\x04"):
        msg = "this is an Excel workbook with a text-file name; rename it to .xlsx or save as CSV"
        raise InputFileError(msg, file=file)
    if b"\x00" in raw[:4096]:
        msg = "not a text CSV file (binary content); save it from Excel as 'CSV UTF-8'"
        raise InputFileError(msg, file=file)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _sniff_delimiter(first_line: str) -> str:
    best, best_n = ",", 1
    for delim in _DELIMITERS:
        n = len(next(csv.reader([first_line], delimiter=delim), []))
        if n > best_n:
            best, best_n = delim, n
    return best


def _clean_header(names: list[str], file: str) -> list[str]:
    out = []
    for i, name in enumerate(names, start=1):
        clean = str(name).replace("\ufeff", "").strip().strip('"').strip()
        out.append(clean or f"column_{i}")
    seen: set[str] = set()
    for name in out:
        if name.lower() in seen:
            msg = "this column name appears twice in the header; rename one of them"
            raise InputFileError(msg, file=file, row=1, column=name)
        seen.add(name.lower())
    return out


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _frame_from_records(
    header: list[str], records: list[tuple[int, list[str]]], file: str
) -> pd.DataFrame:
    # Drop trailing header cells that are empty and empty in every row (spreadsheet artefact).
    while (
        header
        and header[-1].startswith("column_")
        and all(
            len(cells) < len(header) or not cells[len(header) - 1].strip() for _, cells in records
        )
    ):
        header = header[:-1]
    width = len(header)
    rows, data = [], []
    for row_no, cells in records:
        cells = [c.strip() for c in cells]
        extra = cells[width:]
        cells = cells[:width] + [""] * max(0, width - len(cells))
        cells.append(str(sum(1 for c in extra if c)) if any(extra) else "")
        rows.append(row_no)
        data.append(cells)
    frame = pd.DataFrame(data, columns=[*header, _EXTRA], dtype="string")
    frame.index = pd.Index(rows, dtype="int64", name="row")
    if not frame[_EXTRA].fillna("").astype(bool).any():
        frame = frame.drop(columns=_EXTRA)
    return frame.fillna("")


def _read_excel(path: Path, file: str, sheet: str | None) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:
        msg = (
            f"cannot open the Excel workbook ({type(err).__name__}); save it again as .xlsx or CSV"
        )
        raise InputFileError(msg, file=file) from err
    try:
        if sheet is not None and sheet not in book.sheetnames:
            msg = f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})"
            raise InputFileError(msg, file=file)
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        records: list[tuple[int, list[str]]] = []
        header: list[str] | None = None
        for row_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                if row_no == 1 and not any(cells):
                    msg = "the header row (row 1) is empty"
                    raise InputFileError(msg, file=file, row=1)
                header = cells
                continue
            if any(cells):
                records.append((row_no, cells))
    finally:
        book.close()
    if header is None:
        msg = "the file is empty"
        raise InputFileError(msg, file=file)
    return _frame_from_records(_clean_header(header, file), records, file)


def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or Excel table as text, keeping the spreadsheet row number as the index.

    CSV: the delimiter (``,`` ``;`` tab ``|``) is sniffed from the header; the encoding is tried as
    UTF-8 (with or without BOM), then Windows-1252 (what Excel and GIAS write), then Latin-1;
    UTF-16 with BOM (Excel "Unicode text") is read too. Header names are stripped of spaces and BOM.
    Fully blank rows are not rows. Cells beyond the header's width go into a
    ``__extra_cells__`` column (their count) so loaders can reject the row rather than lose data.

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` or ``.xlsx``/``.xlsm`` file.
    sheet
        Excel sheet name; default the first sheet.

    Returns
    -------
    table
        All cells as strings (``""`` when empty); index ``row`` = 1-based row number in the file
        (header = 1).

    Raises
    ------
    InputFileError
        If the file is missing, empty, binary, an old ``.xls`` workbook, or its header repeats a
        column name.
    """
    path = Path(path)
    file = path.name
    if not path.is_file():
        msg = "file not found"
        raise InputFileError(msg, file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xls":
        msg = "old Excel .xls files are not supported; save it as .xlsx or CSV"
        raise InputFileError(msg, file=file)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_excel(path, file, sheet)
    raw = path.read_bytes()
    if not raw.strip():
        msg = "the file is empty"
        raise InputFileError(msg, file=file)
    text, encoding = _decode(raw, file)
    text = text.lstrip("\ufeff")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not first_line.strip():
        msg = "the header row (row 1) is empty"
        raise InputFileError(msg, file=file, row=1)
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(first_line)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        records = [
            (row_no, cells)
            for row_no, cells in enumerate(reader, start=2)
            if any(c.strip() for c in cells)
        ]
    except csv.Error as err:
        msg = f"cannot parse as CSV ({err}); check quotes"
        raise InputFileError(msg, file=file, row=reader.line_num) from err
    logger.debug("read_table: %s (%s, delimiter %r)", file, encoding, delimiter)
    return _frame_from_records(_clean_header(header, file), records, file)


# --------------------------------------------------------------------------------------------
# Column resolution and value parsing
# --------------------------------------------------------------------------------------------


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _resolve(frame: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map canonical column names to the file's column names (case/spacing-insensitive)."""
    by_key = {_key(c): c for c in frame.columns if c != _EXTRA}
    found: dict[str, str] = {}
    used: set[str] = set()
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            actual = by_key.get(_key(name))
            if actual is not None and actual not in used:
                found[canonical] = actual
                used.add(actual)
                break
    return found


def _missing_column(frame: pd.DataFrame, file: str, column: str, detail: str = "") -> None:
    names = [c for c in frame.columns if c != _EXTRA]
    if len(names) == 1:
        msg = (
            f"only one column found, so the required column {column!r} is missing; the file "
            "is not separated by commas, semicolons, tabs or | (or has no header row)"
        )
        raise InputFileError(msg, file=file, row=1, column=column)
    guess = difflib.get_close_matches(column, names, n=1, cutoff=0.5)
    if not guess:
        keyed = {_key(n): n for n in names}
        hit = difflib.get_close_matches(_key(column), list(keyed), n=1, cutoff=0.5)
        guess = [keyed[hit[0]]] if hit else []
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    msg = f"required column missing{detail}{hint}"
    raise InputFileError(msg, file=file, row=1, column=column)


def _require(frame: pd.DataFrame, cols: dict[str, str], file: str, required: Iterable[str]) -> None:
    for column in required:
        if column not in cols:
            _missing_column(frame, file, column)


def _extra_note(frame: pd.DataFrame, cols: dict[str, str], file: str) -> list[str]:
    ignored = [c for c in frame.columns if c not in set(cols.values()) and c != _EXTRA]
    return [f"{file}: ignored columns: {', '.join(ignored)}"] if ignored else []


def _reject_extra_cells(frame: pd.DataFrame, rejects: _Rejects) -> None:
    if _EXTRA in frame.columns:
        rejects.add_mask(
            frame[_EXTRA] != "",
            "(row)",
            "more cells than the header has columns (an unquoted delimiter inside a value?)",
        )


def _text(frame: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series:
    if name not in cols:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[cols[name]].astype("string").fillna("").str.strip()


def _ids(values: pd.Series) -> pd.Series:
    """Tidy identifiers: strip, drop Excel's trailing ``.0``; empty -> NA."""
    out = (
        values.astype("string")
        .fillna("")
        .str.strip()
        .str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    )
    return out.replace("", pd.NA)


# "449525,3" / "18000,00" (Excel in a European locale): one comma followed by anything but a
# three-digit thousands group is a decimal comma.
_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d{1,2}|\d{4,})$")
_ANY_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d+)$")


def _numbers(
    values: pd.Series, *, decimal_comma: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return (float values, empty mask, not-a-number mask).

    A comma is a thousands separator ("1,500") unless it cannot be one ("449525,3"), or
    ``decimal_comma`` is set (degrees: "50,657" is always 50.657).
    """
    text = values.astype("string").fillna("").str.replace(r"[£\s]", "", regex=True)
    pattern = _ANY_DECIMAL_COMMA if decimal_comma else _DECIMAL_COMMA
    text = text.str.replace(pattern, r"\1.\2", regex=True).str.replace(",", "", regex=False)
    empty = text == ""
    num = pd.to_numeric(text.mask(empty, None), errors="coerce").astype(float)
    bad = ~empty & num.isna()
    return num, empty, bad


_TRUE = {"yes", "y", "true", "t", "1", "ya"}
_FALSE = {"no", "n", "false", "f", "0"}


def _bools(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    text = values.astype("string").fillna("").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    empty = text == ""
    bad = ~empty & out.isna()
    return out, empty, bad


def _need_code(text: str) -> str | None:
    code = normalise_need(text)
    if code is None and " - " in text:  # GIAS style "ASD - Autistic Spectrum Disorder"
        code = normalise_need(text.split(" - ", 1)[0])
    return code


_NEED_SPLIT = re.compile(r"[;,/|]")
_LIST_SPLIT = re.compile(r"[;/|]")


def _split_needs(text: str) -> list[str]:
    """Split a need list on ; / | and, where a part is not a need by itself, on commas too."""
    parts: list[str] = []
    for part in (p.strip() for p in _LIST_SPLIT.split(text)):
        if not part:
            continue
        if "," in part and _need_code(part) is None:
            parts += [p.strip() for p in part.split(",") if p.strip()]
        else:
            parts.append(part)
    return parts


def _need_lists(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ';'-separated needs; return (joined codes, bad mask). Empty / 'any' = any need."""
    out, bad = [], []
    for text in values.astype("string").fillna(""):
        parts = _split_needs(str(text))
        if len(parts) == 1 and _key(parts[0]) in {"any", "all", "allneeds", "anyneed"}:
            parts = []
        codes = [_need_code(p) for p in parts]
        bad.append(any(c is None for c in codes))
        out.append(";".join(sorted({c for c in codes if c}, key=NEED_CODES.index)))
    return pd.Series(out, index=values.index, dtype="string"), pd.Series(bad, index=values.index)


_PHASE_ALIASES: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "infant": ("primary",),
    "junior": ("primary",),
    "nursery": ("primary",),
    "firstschool": ("primary",),
    "middle": ("primary", "secondary"),
    "middledeemedprimary": ("primary",),
    "middledeemedsecondary": ("secondary",),
    "secondary": ("secondary",),
    "post16": ("post16",),
    "16plus": ("post16",),
    "sixthform": ("post16",),
    "1619": ("post16",),
    "ks5": ("post16",),
    "fe": ("post16",),
    "allthrough": ("primary", "secondary"),
    "all": tuple(PHASES),
}


def _phase_lists(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse phases; return (joined phases, empty mask, bad mask)."""
    out, bad = [], []
    for text in values.astype("string").fillna(""):
        parts = [p.strip() for p in _NEED_SPLIT.split(str(text)) if p.strip()]
        found: set[str] = set()
        wrong = False
        for part in parts:
            phases = _PHASE_ALIASES.get(_key(part))
            if phases is None:
                wrong = True
            else:
                found.update(phases)
        bad.append(wrong)
        out.append(";".join(p for p in PHASES if p in found))
    joined = pd.Series(out, index=values.index, dtype="string")
    bad_s = pd.Series(bad, index=values.index)
    return joined, (joined == "") & ~bad_s, bad_s


def _reject_unknown_settings(
    ids: pd.Series,
    unknown: pd.Series,
    column: str,
    reason: str,
    rejected_settings: Mapping[str, str] | None,
    rejects: _Rejects,
) -> None:
    """Reject rows referring to an unknown setting; say so when that setting's row was rejected."""
    if rejected_settings:
        where = ids.map(lambda v: rejected_settings.get(str(v)) if pd.notna(v) else None)
        was_rejected = unknown & where.notna()
        for place in sorted(set(where[was_rejected])):
            rejects.add_mask(
                was_rejected & (where == place),
                column,
                f"refers to a setting whose row was rejected ({place}); fix that row first",
            )
        unknown = unknown & ~was_rejected
    rejects.add_mask(unknown, column, reason)


def _rejected_ids(ids: pd.Series, rejected_rows: Iterable[int], used: pd.Series) -> dict[str, int]:
    """Id -> row number of each rejected row whose id is not also used from another row."""
    in_use = set(used.astype(str))
    out: dict[str, int] = {}
    for row in sorted(rejected_rows):
        value = ids.get(row)
        if value is not None and pd.notna(value) and str(value) not in in_use:
            out.setdefault(str(value), int(row))
    return out


def _check_duplicates(ids: pd.Series, column: str, rejects: _Rejects) -> None:
    present = ids.dropna()
    dup = present.duplicated(keep="first")
    if dup.any():
        first_row = {}
        for row, value in present.items():
            first_row.setdefault(value, row)
        for row, value in present[dup].items():
            rejects.add(
                [row],
                column,
                f"duplicate of row {first_row[value]} (first kept); give each row its own "
                f"{column}, or delete the repeated row",
            )


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------

_LOCATION_ALIASES: dict[str, tuple[str, ...]] = {
    "postcode": ("post_code", "pcd", "pcds", "home_postcode", "postcode_home"),
    "easting": ("eastings", "os_easting", "grid_easting"),
    "northing": ("northings", "os_northing", "grid_northing"),
    "latitude": ("lat",),
    "longitude": ("lon", "long", "lng"),
}


@dataclass
class _Located:
    easting: pd.Series
    northing: pd.Series
    postcode: pd.Series
    lsoa11cd: pd.Series
    status: pd.Series
    origin_id: pd.Series
    source_column: pd.Series


def _check_location_columns(frame: pd.DataFrame, cols: dict[str, str], file: str) -> None:
    has_pc = "postcode" in cols
    has_en = "easting" in cols or "northing" in cols
    has_ll = "latitude" in cols or "longitude" in cols
    if has_en and not ("easting" in cols and "northing" in cols):
        _missing_column(frame, file, "northing" if "easting" in cols else "easting")
    if has_ll and not ("latitude" in cols and "longitude" in cols):
        _missing_column(frame, file, "longitude" if "latitude" in cols else "latitude")
    if not (has_pc or has_en or has_ll):
        _missing_column(
            frame,
            file,
            "postcode",
            " (give postcode, or easting and northing, or latitude and longitude)",
        )


def _locate(
    frame: pd.DataFrame,
    cols: dict[str, str],
    rejects: _Rejects,
    postcodes: PostcodeIndex | None,
    *,
    coordinate_prefix: str = "EN",
) -> _Located:
    index = frame.index
    easting = pd.Series(np.nan, index=index)
    northing = pd.Series(np.nan, index=index)
    source = pd.Series("", index=index, dtype="string")
    status = pd.Series("", index=index, dtype="string")
    bad_rows: set[int] = set()

    if "easting" in cols:
        e, e_empty, e_bad = _numbers(frame[cols["easting"]])
        n, n_empty, n_bad = _numbers(frame[cols["northing"]])
        given = ~(e_empty & n_empty)
        half = given & (e_empty | n_empty)
        rejects.add_mask(half, "easting/northing", "give both easting and northing, or neither")
        rejects.add_mask(given & (e_bad | n_bad), "easting/northing", "not a number (metres)")
        outside = given & ~half & ~(e_bad | n_bad) & ~(e.between(*_GB_E) & n.between(*_GB_N))
        rejects.add_mask(
            outside,
            "easting/northing",
            "outside Great Britain (expected British National Grid metres, EPSG:27700; put "
            "latitude/longitude in latitude and longitude columns)",
        )
        ok = given & ~half & ~e_bad & ~n_bad & ~outside
        bad_rows |= set(index[(given & ~ok).to_numpy()])
        easting = easting.mask(ok, e)
        northing = northing.mask(ok, n)
        source = source.mask(ok, "easting/northing")
        status = status.mask(ok, "coordinates")

    if "latitude" in cols:
        lat, lat_empty, lat_bad = _numbers(frame[cols["latitude"]], decimal_comma=True)
        lon, lon_empty, lon_bad = _numbers(frame[cols["longitude"]], decimal_comma=True)
        todo = (source == "") & ~(lat_empty & lon_empty) & ~pd.Series(index.isin(bad_rows), index)
        half = todo & (lat_empty | lon_empty)
        rejects.add_mask(half, "latitude/longitude", "give both latitude and longitude")
        rejects.add_mask(todo & (lat_bad | lon_bad), "latitude/longitude", "not a number")
        outside = todo & ~half & ~(lat.between(49.0, 61.0) & lon.between(-9.0, 2.5))
        outside &= ~(lat_bad | lon_bad)
        swapped = outside & lon.between(49.0, 61.0) & lat.between(-9.0, 2.5)
        rejects.add_mask(
            swapped,
            "latitude/longitude",
            "latitude and longitude look swapped (latitude is about 50-60 in Great Britain); "
            "swap the two columns",
        )
        rejects.add_mask(
            outside & ~swapped,
            "latitude/longitude",
            "outside Great Britain (expected WGS84 degrees: latitude 49 to 61, longitude -9 to "
            "2.5)",
        )
        ok = todo & ~half & ~lat_bad & ~lon_bad & ~outside
        bad_rows |= set(index[(todo & ~ok).to_numpy()])
        if ok.any():
            from pyproj import Transformer

            tf = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
            x, y = tf.transform(lon[ok].to_numpy(), lat[ok].to_numpy())
            easting[ok] = x
            northing[ok] = y
            source = source.mask(ok, "latitude/longitude")
            status = status.mask(ok, "coordinates")

    postcode_norm = pd.Series(pd.NA, index=index, dtype="string")
    lsoa = pd.Series(pd.NA, index=index, dtype="string")
    if "postcode" in cols:
        raw = frame[cols["postcode"]].astype("string").fillna("").str.strip()
        given = raw != ""
        if postcodes is None:
            need = given & (source == "") & ~pd.Series(index.isin(bad_rows), index)
            rejects.add_mask(need, "postcode", "cannot be located: no postcode file given")
        else:
            geo = postcodes.geocode(raw.replace("", pd.NA))
            postcode_norm = geo["postcode_norm"]
            lsoa = geo["lsoa11cd"]
            use = (source == "") & ~pd.Series(index.isin(bad_rows), index) & given
            located = geo["easting"].notna() & geo["northing"].notna()
            for code, reason in (
                ("invalid", "not a valid UK postcode (expected e.g. PO30 1UD)"),
                (
                    "not_found",
                    "not found in the postcode file; check the postcode, or give easting and "
                    "northing instead (or use a fuller postcode file)",
                ),
            ):
                rejects.add_mask(use & (geo["status"] == code), "postcode", reason)
            rejects.add_mask(
                use & (geo["status"] == "terminated") & ~located,
                "postcode",
                "terminated postcode with no grid reference in the postcode file; give the "
                "current postcode",
            )
            ok = use & located
            easting = easting.mask(ok, geo["easting"])
            northing = northing.mask(ok, geo["northing"])
            source = source.mask(ok, "postcode")
            status = status.mask(ok, geo["status"])
            status = status.mask(use & ~located, geo["status"])

    nowhere = (source == "") & ~pd.Series(index.isin(bad_rows), index)
    if "postcode" in cols:
        nowhere &= frame[cols["postcode"]].astype("string").fillna("").str.strip() == ""
    given_cols = " / ".join(
        n
        for n, present in (
            ("postcode", "postcode" in cols),
            ("easting and northing", "easting" in cols),
            ("latitude and longitude", "latitude" in cols),
        )
        if present
    )
    rejects.add_mask(nowhere, "location", f"no location given (expected {given_cols})")
    status = status.mask(nowhere, "missing")

    by_coords = source.isin(["easting/northing", "latitude/longitude"])
    origin = postcode_norm.copy()
    origin_coords = (
        f"{coordinate_prefix}:"
        + easting.round().fillna(0).astype("int64").astype("string")
        + ":"
        + northing.round().fillna(0).astype("int64").astype("string")
    )
    origin = origin.mask(by_coords, origin_coords)
    return _Located(easting, northing, postcode_norm, lsoa, status, origin, source)


def authority_geometry(area: object, *, buffer_m: float = 0.0) -> shapely.Geometry | None:
    """Return one (buffered) polygon from a GeoDataFrame/GeoSeries/geometry in EPSG:27700.

    Parameters
    ----------
    area
        Authority boundary or its areas; ``None`` gives ``None``.
    buffer_m
        Buffer in metres added around the union.

    Returns
    -------
    geometry
        The union, buffered; ``None`` if ``area`` is ``None``.

    Raises
    ------
    CRSError
        If ``area`` is a GeoDataFrame/GeoSeries not in EPSG:27700.
    """
    if area is None:
        return None
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None or area.crs.to_epsg() != 27700:
            msg = f"`area` must be in {CRS}, got {area.crs}; use `to_crs('{CRS}')`"
            raise CRSError(msg)
        geoms = area.geometry.to_numpy() if isinstance(area, gpd.GeoDataFrame) else area.to_numpy()
        geom = shapely.union_all(geoms)
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        msg = f"`area` must be a GeoDataFrame, GeoSeries or shapely geometry, got {type(area)}"
        raise TypeError(msg)
    if buffer_m > 0:
        geom = geom.buffer(buffer_m)
    shapely.prepare(geom)
    return geom


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = gpd.points_from_xy(frame["easting"], frame["northing"], crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


# --------------------------------------------------------------------------------------------
# Pupils
# --------------------------------------------------------------------------------------------

_PUPIL_ALIASES: dict[str, tuple[str, ...]] = {
    "pupil_ref": ("pupil_id", "ref", "reference", "child_ref", "person_id", "pseudo_id", "id"),
    "need_type": ("primary_need", "need", "sen_primary_need", "primary_sen_type", "sen_type"),
    "plan_type": ("sen_provision", "provision_type", "plan", "ehcp_or_sen_support", "sen_status"),
    "nc_year": ("ncyear", "year_group", "national_curriculum_year", "nc_year_actual", "year"),
    "date_of_birth": ("dob", "birth_date", "birthdate"),
    "current_setting_id": ("setting_id", "urn", "current_urn", "school_urn", "current_setting"),
    "transport_assisted": ("transport", "sen_transport", "home_to_school_transport", "hts"),
    **_LOCATION_ALIASES,
}
_PLAN_TYPES = {
    "ehcp": "EHCP",
    "ehc": "EHCP",
    "ehcplan": "EHCP",
    "e": "EHCP",
    "statement": "EHCP",
    "s": "EHCP",
    "sensupport": "SEN_support",
    "support": "SEN_support",
    "k": "SEN_support",
    "sens": "SEN_support",
    "sen": "SEN_support",
}
_NC_RE = re.compile(r"^(?:Y|YR|YEAR|NC|YEARGROUP)?(-?\d{1,2})$")


def _nc_years(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse NC years (R/Reception = 0, N/Nursery = -1, Y7/Year 7/7); return (years, empty, bad)."""
    text = values.astype("string").fillna("").str.upper().str.replace(r"[\s_.-]", "", regex=True)
    # keep a leading minus for "-1"
    text = text.mask(values.astype("string").fillna("").str.strip() == "-1", "-1")
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    out[text.isin(["R", "REC", "RECEPTION", "YR", "YEARR", "F2", "FS2"])] = 0
    out[text.isin(["N", "N1", "N2", "NURSERY", "F1", "FS1"])] = -1
    digits = text.str.extract(_NC_RE, expand=False)
    numeric = pd.to_numeric(digits, errors="coerce")
    out = out.fillna(numeric.astype("Int64"))
    empty = text == ""
    bad = ~empty & (out.isna() | ~out.between(-1, 14).fillna(False))
    return out, empty, bad


def _parse_dates(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip().str.replace(r"[T ]\d.*$", "", regex=True)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        todo = out.isna() & (text != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return out


def _academic_year_start(census_date: object) -> int:
    if census_date is None:
        day = dt.date.today()
    elif isinstance(census_date, dt.date):
        day = census_date
    else:
        day = dt.date.fromisoformat(str(census_date))
    return day.year if day.month >= 9 else day.year - 1


def nc_year_from_birth(dob: pd.Series, census_date: object = None) -> pd.Series:
    """Return the NC year (Reception = 0) for dates of birth in the academic year of a census.

    England's rule: a child is in Reception in the academic year (1 September to 31 August) that
    starts after their fourth birthday, i.e. NC year = (age on 31 August before the year) - 4.

    Parameters
    ----------
    dob
        Dates of birth (datetime64).
    census_date
        A date in the academic year of interest (default: today).

    Returns
    -------
    nc_year
        ``Int64``; NA where the date is missing.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2018-09-01", "2019-08-31", "2019-09-01"]))
    >>> nc_year_from_birth(s, "2024-01-18").tolist()
    [0, 0, -1]
    """
    start = _academic_year_start(census_date)
    years = dob.dt.year
    after_aug = (dob.dt.month > 8).astype("Int64")
    age_31_aug = start - years.astype("Int64") - after_aug
    return (age_31_aug - 4).astype("Int64")


def load_pupils(
    path: str | Path,
    *,
    postcodes: PostcodeIndex | None,
    setting_ids: set[str] | None = None,
    area: object = None,
    buffer_m: float = 0.0,
    census_date: object = None,
    sheet: str | None = None,
    settings_file: str = "the provision files",
    rejected_settings: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load, validate and geocode the pupil file; every row is used or rejected with a reason.

    Parameters
    ----------
    path
        CSV or Excel file. Columns (case and spacing ignored; common aliases accepted):
        ``pupil_ref``; location as ``postcode``, or ``easting`` + ``northing`` (EPSG:27700), or
        ``latitude`` + ``longitude``; ``need_type`` (SEN2 code or DfE text); ``plan_type``
        (EHCP / SEN support); ``nc_year`` or ``date_of_birth``; optional ``current_setting_id``
        and ``transport_assisted`` (yes/no).
    postcodes
        Offline postcode lookup; needed when locations are postcodes.
    setting_ids
        Known setting ids (provision and out-of-area files); ``current_setting_id`` must be one.
    area
        Authority boundary (GeoDataFrame/GeoSeries/geometry, EPSG:27700); pupils located outside
        it (plus ``buffer_m``) are rejected. ``None`` skips the check.
    buffer_m
        Tolerance around ``area`` in metres (postcode points on the coast, boundary roads).
    census_date
        Date the NC years refer to when derived from date of birth (default today).
    sheet
        Excel sheet name (default the first).
    settings_file
        How to name the setting files in rejection reasons.

    Returns
    -------
    result
        ``data`` is a GeoDataFrame (EPSG:27700) with ``pupil_ref, need_type, plan_type, nc_year,
        phase, current_setting_id, transport_assisted, postcode, origin_id, easting, northing,
        lsoa11cd, geocode_status, geometry``; ``geocode_status`` is a
        :meth:`PostcodeIndex.geocode` status or ``coordinates``.

    Raises
    ------
    InputFileError
        For whole-file problems: missing/empty/unreadable file, wrong delimiter, missing required
        column (with the closest column name suggested), no data rows.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    cols = _resolve(frame, _PUPIL_ALIASES)
    _require(frame, cols, file, ["pupil_ref", "need_type", "plan_type"])
    if "nc_year" not in cols and "date_of_birth" not in cols:
        _missing_column(frame, file, "nc_year", " (give nc_year or date_of_birth)")
    _check_location_columns(frame, cols, file)
    if frame.empty:
        msg = "no pupil rows below the header"
        raise InputFileError(msg, file=file, row=2)
    notes = _extra_note(frame, cols, file)
    rejects = _Rejects(file)
    _reject_extra_cells(frame, rejects)

    ref = _ids(frame[cols["pupil_ref"]])
    rejects.add_mask(ref.isna(), "pupil_ref", "empty (every pupil needs a pseudonymised reference)")
    _check_duplicates(ref, "pupil_ref", rejects)

    need = _text(frame, cols, "need_type").map(lambda t: _need_code(t) if t else None)
    need_text = _text(frame, cols, "need_type")
    rejects.add_mask(need_text == "", "need_type", f"empty (expected one of {_NEEDS_EXPECTED})")
    rejects.add_mask(
        (need_text != "") & need.isna(),
        "need_type",
        f"not a SEN2 need code or DfE name (expected one of {_NEEDS_EXPECTED})",
    )

    plan_text = _text(frame, cols, "plan_type")
    plan = plan_text.map(lambda t: _PLAN_TYPES.get(_key(t)) if t else None)
    rejects.add_mask(plan.isna(), "plan_type", "not a plan type (expected EHCP or SEN support)")

    nc = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    nc_empty = pd.Series(True, index=frame.index)
    if "nc_year" in cols:
        nc, nc_empty, nc_bad = _nc_years(frame[cols["nc_year"]])
        rejects.add_mask(
            nc_bad, "nc_year", "not an NC year (expected -1/N for nursery, R or 0 to 14)"
        )
    if "date_of_birth" in cols:
        dob_text = _text(frame, cols, "date_of_birth")
        dob = _parse_dates(dob_text)
        use = nc_empty & (dob_text != "")
        rejects.add_mask(
            use & dob.isna(),
            "date_of_birth",
            "not a date (expected YYYY-MM-DD or DD/MM/YYYY)",
        )
        derived = nc_year_from_birth(dob, census_date)
        out_of_range = use & dob.notna() & ~derived.between(-1, 14).fillna(False)
        rejects.add_mask(
            out_of_range,
            "date_of_birth",
            "gives an NC year outside nursery to year 14 for the census date; check the date "
            "of birth (YYYY-MM-DD or DD/MM/YYYY) or give nc_year instead",
        )
        nc = nc.mask(use & dob.notna() & ~out_of_range, derived)
        nc_empty = nc_empty & (dob_text == "")
    rejects.add_mask(
        nc_empty,
        "nc_year",
        "empty (give nc_year or date_of_birth)" if "date_of_birth" in cols else "empty",
    )

    setting = _ids(_text(frame, cols, "current_setting_id"))
    if "current_setting_id" not in cols:
        notes.append(f"{file}: no current_setting_id column; pupils treated as not yet placed")
    if setting_ids is not None:
        known = {str(s) for s in setting_ids}
        unknown = setting.notna() & ~setting.isin(known).fillna(False)
        _reject_unknown_settings(
            setting,
            unknown,
            "current_setting_id",
            f"no such setting in {settings_file}; check the id or add the setting there",
            rejected_settings,
            rejects,
        )

    if "transport_assisted" in cols:
        transport, t_empty, t_bad = _bools(frame[cols["transport_assisted"]])
        rejects.add_mask(t_empty | t_bad, "transport_assisted", "expected yes or no")
    else:
        transport = pd.Series(False, index=frame.index, dtype="boolean")
        notes.append(f"{file}: no transport_assisted column; all pupils treated as not assisted")

    loc = _locate(frame, cols, rejects, postcodes)
    geom = authority_geometry(area, buffer_m=buffer_m)
    if geom is not None:
        has_xy = loc.easting.notna() & loc.northing.notna()
        inside = pd.Series(
            shapely.contains_xy(geom, loc.easting.fillna(0), loc.northing.fillna(0)),
            index=frame.index,
        )
        for source in loc.source_column[has_xy & ~inside].unique():
            rejects.add_mask(
                has_xy & ~inside & (loc.source_column == source),
                str(source),
                f"outside the authority (plus {buffer_m:g} m); check the location",
            )

    keep = ~frame.index.isin(list(rejects.rows))
    nc_kept = nc[keep].astype("int64")
    data = pd.DataFrame(
        {
            "pupil_ref": ref[keep].astype(str),
            "need_type": need[keep].astype(str),
            "plan_type": plan[keep].astype(str),
            "nc_year": nc_kept,
            "phase": nc_kept.map(phase_of_nc_year).astype(str),
            "current_setting_id": setting[keep].astype("string"),
            "transport_assisted": transport[keep].astype(bool),
            "postcode": loc.postcode[keep].astype("string"),
            "origin_id": loc.origin_id[keep].astype(str),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "lsoa11cd": loc.lsoa11cd[keep].astype("string"),
            "geocode_status": loc.status[keep].astype(str),
        },
        index=frame.index[keep],
    )
    gdf = schemas.validate_pupils(_points(data))
    n_corrected = int((loc.status[keep] == "corrected").sum())
    n_terminated = int((loc.status[keep] == "terminated").sum())
    if n_corrected:
        notes.append(f"{file}: {n_corrected} postcodes corrected for O/0 or I/1 typos")
    if n_terminated:
        notes.append(f"{file}: {n_terminated} terminated postcodes located at their last position")
    result = rejects.result(gdf, frame, notes)
    logger.info(
        "load_pupils: %s rows read, %s used, %s rejected",
        result.rows_read,
        result.rows_used,
        result.rows_rejected,
    )
    return result


# --------------------------------------------------------------------------------------------
# Provision
# --------------------------------------------------------------------------------------------

_PROVISION_ALIASES: dict[str, tuple[str, ...]] = {
    "setting_id": ("urn", "id", "setting", "ooa_id", "setting_urn"),
    "name": ("setting_name", "establishment_name", "establishmentname", "school_name"),
    "provision_type": ("type", "setting_type", "provision"),
    "host_setting_id": ("host_urn", "host", "host_setting", "host_school_urn"),
    "phases": ("phase", "phase_of_education", "phases_served"),
    "needs": ("need", "need_types", "needs_served", "sen_needs", "designation"),
    "capacity": ("places", "school_capacity", "schoolcapacity", "commissioned_places"),
    "on_roll": ("number_on_roll", "nor", "numberofpupils", "pupils_on_roll", "roll"),
    "in_area": ("in_authority", "in_la", "within_authority"),
    "annual_cost_per_place_gbp": ("cost_per_place_gbp", "annual_cost_gbp", "cost_per_place"),
    "ferry_required": ("ferry", "crosses_water"),
    **_LOCATION_ALIASES,
}
_PROVISION_TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("mainstream", "mainstreamschool", "school", "academy"), "mainstream"),
    **dict.fromkeys(
        (
            "inclusionbase",
            "resourcedprovision",
            "rp",
            "resourcebase",
            "senunit",
            "unit",
            "specialistresourceprovision",
            "srp",
            "arp",
            "additionallyresourcedprovision",
            "enhancedresourceprovision",
        ),
        "inclusion_base",
    ),
    **dict.fromkeys(
        ("special", "specialschool", "maintainedspecial", "academyspecial", "laspecial"), "special"
    ),
    **dict.fromkeys(
        (
            "independent",
            "independentspecial",
            "independentspecialschool",
            "iss",
            "independentschool",
            "specialpost16institution",
            "spi",
        ),
        "independent",
    ),
    **dict.fromkeys(
        ("nonmaintained", "nonmaintainedspecial", "nonmaintainedspecialschool", "nmss"),
        "non_maintained",
    ),
    **dict.fromkeys(("ap", "alternativeprovision", "pru", "pupilreferralunit"), "ap"),
    **dict.fromkeys(("fe", "college", "furthereducation", "fecollege", "sixthformcollege"), "fe"),
}


def _provision_frame(
    frame: pd.DataFrame,
    file: str,
    *,
    postcodes: PostcodeIndex | None,
    area: object,
    in_area_default: bool,
    known_setting_ids: set[str] | None,
) -> tuple[pd.DataFrame, _Rejects, list[str]]:
    cols = _resolve(frame, _PROVISION_ALIASES)
    _require(frame, cols, file, ["setting_id", "provision_type", "phases", "capacity"])
    _check_location_columns(frame, cols, file)
    notes = _extra_note(frame, cols, file)
    rejects = _Rejects(file)
    _reject_extra_cells(frame, rejects)

    setting_id = _ids(frame[cols["setting_id"]])
    rejects.add_mask(setting_id.isna(), "setting_id", "empty (expected a URN or unique id)")
    _check_duplicates(setting_id, "setting_id", rejects)

    ptype_text = _text(frame, cols, "provision_type")
    ptype = ptype_text.map(lambda t: _PROVISION_TYPE_ALIASES.get(_key(t)))
    rejects.add_mask(
        ptype.isna(),
        "provision_type",
        f"not a provision type (expected one of {', '.join(schemas.PROVISION_TYPES)})",
    )

    host = _ids(_text(frame, cols, "host_setting_id"))
    ids_here = set(setting_id.dropna())
    known = ids_here | {str(s) for s in (known_setting_ids or set())}
    is_ib = ptype == "inclusion_base"
    rejects.add_mask(
        is_ib & host.isna(),
        "host_setting_id",
        "empty (an inclusion base needs the setting_id of its host school)",
    )
    rejects.add_mask(
        host.notna() & ~host.isin(known).fillna(False),
        "host_setting_id",
        "no such setting_id in the provision file",
    )

    phases, ph_empty, ph_bad = _phase_lists(frame[cols["phases"]])
    rejects.add_mask(ph_empty, "phases", "empty (expected primary, secondary and/or post16)")
    rejects.add_mask(ph_bad, "phases", "not a phase (expected primary, secondary and/or post16)")

    needs, needs_bad = _need_lists(_text(frame, cols, "needs"))
    rejects.add_mask(
        needs_bad,
        "needs",
        f"not a SEN2 need code or DfE name (expected ';'-separated {_NEEDS_EXPECTED}, or empty "
        "for any need)",
    )

    capacity, cap_empty, cap_bad = _numbers(frame[cols["capacity"]])
    cap_wrong = cap_bad | (capacity < 0) | (capacity % 1 != 0)
    rejects.add_mask(cap_empty, "capacity", "empty (expected a whole number of places, 0 or more)")
    rejects.add_mask(~cap_empty & cap_wrong, "capacity", "expected a whole number, 0 or more")

    if "on_roll" in cols:
        on_roll, roll_empty, roll_bad = _numbers(frame[cols["on_roll"]])
        roll_wrong = roll_bad | (on_roll < 0) | (on_roll % 1 != 0)
        rejects.add_mask(~roll_empty & roll_wrong, "on_roll", "expected a whole number, 0 or more")
        on_roll = on_roll.fillna(0)
    else:
        on_roll = pd.Series(0.0, index=frame.index)
        notes.append(f"{file}: no on_roll column; on_roll set to 0")

    if "annual_cost_per_place_gbp" in cols:
        cost, _, cost_bad = _numbers(frame[cols["annual_cost_per_place_gbp"]])
        rejects.add_mask(
            cost_bad | (cost < 0), "annual_cost_per_place_gbp", "expected pounds, 0 or more"
        )
    else:
        cost = pd.Series(np.nan, index=frame.index)

    ferry = pd.Series(False, index=frame.index, dtype="boolean")
    if "ferry_required" in cols:
        ferry, _f_empty, f_bad = _bools(frame[cols["ferry_required"]])
        rejects.add_mask(f_bad, "ferry_required", "expected yes or no")
        ferry = ferry.fillna(False)

    loc = _locate(frame, cols, rejects, postcodes, coordinate_prefix="EN")
    geom = authority_geometry(area)
    if "in_area" in cols:
        in_area, ia_empty, ia_bad = _bools(frame[cols["in_area"]])
        rejects.add_mask(ia_bad, "in_area", "expected yes or no")
    else:
        in_area = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        ia_empty = pd.Series(True, index=frame.index)
    if geom is not None:
        inside = shapely.contains_xy(geom, loc.easting.fillna(-1), loc.northing.fillna(-1))
        in_area = in_area.mask(ia_empty, pd.Series(inside, index=frame.index))
    in_area = in_area.fillna(in_area_default)

    name = _text(frame, cols, "name").replace("", pd.NA)
    keep = ~frame.index.isin(list(rejects.rows))
    data = pd.DataFrame(
        {
            "setting_id": setting_id[keep].astype(str),
            "name": name[keep].fillna(setting_id[keep]).astype(str),
            "provision_type": ptype[keep].astype(str),
            "host_setting_id": host[keep].astype("string"),
            "phases": phases[keep].astype(str),
            "needs": needs[keep].astype(str),
            "capacity": capacity[keep].astype("int64"),
            "on_roll": on_roll[keep].astype("int64"),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "in_area": in_area[keep].astype(bool),
            "annual_cost_per_place_gbp": cost[keep].astype(float),
            "ferry_required": ferry[keep].astype(bool),
            "postcode": loc.postcode[keep].astype("string"),
        },
        index=frame.index[keep],
    )
    return data, rejects, notes


def load_provision(
    path: str | Path,
    *,
    postcodes: PostcodeIndex | None = None,
    area: object = None,
    in_area_default: bool = True,
    known_setting_ids: set[str] | None = None,
    sheet: str | None = None,
    la_codes: list[str] | None = None,
    buffer_m: float = 0.0,
) -> LoadResult:
    """Load the placeplan provision table (or an out-of-area settings file in the same format).

    Parameters
    ----------
    path
        CSV or Excel with ``setting_id, name, provision_type, host_setting_id, phases, needs,
        capacity, on_roll`` and a location (``easting``/``northing``, ``latitude``/``longitude``
        or ``postcode``); optional ``in_area``, ``annual_cost_per_place_gbp``,
        ``ferry_required``.
    postcodes
        Lookup for rows located by postcode.
    area
        Authority boundary (EPSG:27700); fills ``in_area`` where the file leaves it empty.
    in_area_default
        ``in_area`` where neither the file nor ``area`` says (``False`` for the out-of-area file).
    known_setting_ids
        Setting ids from other files that ``host_setting_id`` may refer to.
    sheet
        Excel sheet name.
    la_codes, buffer_m
        Used only when the file is a GIAS export (recognised by its header): passed to
        :func:`load_gias`.

    Returns
    -------
    result
        ``data``: GeoDataFrame (EPSG:27700) in the ARCHITECTURE ``provision`` layout (plus
        ``postcode``); ``annual_cost_per_place_gbp`` is NaN where not given (fill from the plan's
        costs).

    Raises
    ------
    InputFileError
        For whole-file problems (see :func:`read_table`) and missing required columns.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    if {_key(c) for c in GIAS_REQUIRED} <= {_key(c) for c in frame.columns}:
        return load_gias(path, la_codes=la_codes, area=area, buffer_m=buffer_m, postcodes=postcodes)
    data, rejects, notes = _provision_frame(
        frame,
        file,
        postcodes=postcodes,
        area=area,
        in_area_default=in_area_default,
        known_setting_ids=known_setting_ids,
    )
    gdf = schemas.validate_provision(_points(data))
    result = rejects.result(gdf, frame, notes)
    ids = _ids(frame[_resolve(frame, _PROVISION_ALIASES)["setting_id"]])
    return replace(result, rejected_ids=_rejected_ids(ids, rejects.rows, data["setting_id"]))


# --------------------------------------------------------------------------------------------
# GIAS
# --------------------------------------------------------------------------------------------

GIAS_REQUIRED: tuple[str, ...] = (
    "URN",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "LA (code)",
)
_GIAS_OPEN = {"open", "open, but proposed to close"}
_GIAS_TYPES: dict[str, str] = {
    **{
        _key(t): "mainstream"
        for t in (
            "Community school",
            "Voluntary aided school",
            "Voluntary controlled school",
            "Foundation school",
            "Academy converter",
            "Academy sponsor led",
            "Free schools",
            "University technical college",
            "Studio schools",
            "City technology college",
            "Academy 16-19 converter",
            "Academy 16-19 sponsor led",
            "Free schools 16 to 19",
            "Local authority nursery school",
        )
    },
    **{
        _key(t): "special"
        for t in (
            "Community special school",
            "Foundation special school",
            "Academy special converter",
            "Academy special sponsor led",
            "Free schools special",
        )
    },
    _key("Non-maintained special school"): "non_maintained",
    _key("Other independent special school"): "independent",
    _key("Other independent school"): "independent",
    _key("Special post 16 institution"): "independent",
    **{
        _key(t): "ap"
        for t in (
            "Pupil referral unit",
            "Academy alternative provision converter",
            "Academy alternative provision sponsor led",
            "Free schools alternative provision",
        )
    },
    _key("Further education"): "fe",
    _key("Sixth form centres"): "fe",
}
_GIAS_PHASE_AGES = {"primary": (2, 11), "secondary": (11, 16), "post16": (16, 25)}


def _gias_phases(frame: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    low, _, _ = _numbers(_text(frame, cols, "StatutoryLowAge"))
    high, _, _ = _numbers(_text(frame, cols, "StatutoryHighAge"))
    phase_name = _text(frame, cols, "PhaseOfEducation (name)")
    named, _, _ = _phase_lists(phase_name)
    out = []
    for lo, hi, by_name in zip(low, high, named, strict=True):
        if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            found = [p for p, (a, b) in _GIAS_PHASE_AGES.items() if lo < b and hi > a]
            out.append(";".join(found) if found else by_name)
        else:
            out.append(by_name)
    return pd.Series(out, index=frame.index, dtype="string")


def load_gias(
    path: str | Path,
    *,
    la_codes: list[str] | None = None,
    area: object = None,
    buffer_m: float = 0.0,
    postcodes: PostcodeIndex | None = None,
) -> LoadResult:
    """Read a GIAS establishment export into provision rows, plus one inclusion base per RP/unit.

    Reads GIAS's own column names and encoding (Windows-1252). Keeps open establishments
    (``Open`` and ``Open, but proposed to close``) of school types placeplan models, in the
    authority (``la_codes``) or within ``buffer_m`` of ``area``. Each kept establishment with a
    resourced provision or SEN unit (capacity or pupils on roll) also gives an ``inclusion_base``
    row ``<URN>-IB-<first need>`` hosted by it, with the RP + unit capacity and the needs from
    ``SEN1 (name)`` … ``SEN13 (name)``; special schools get those needs too.

    Parameters
    ----------
    path
        GIAS ``edubasealldata*.csv`` (or a filtered extract) with its header unchanged.
    la_codes
        DfE LA codes (``"921"``) of the authority; settings there are ``in_area``.
    area
        Authority boundary (EPSG:27700). With ``buffer_m``, settings outside the LA but within the
        buffer are kept (as out of area).
    buffer_m
        Buffer around ``area`` in metres.
    postcodes
        Lookup for establishments without easting/northing.

    Returns
    -------
    result
        ``data`` in the ``provision`` layout (more rows than ``rows_used`` when inclusion bases
        are added); ``rows_skipped`` counts closed, out-of-scope type and out-of-area rows.

    Raises
    ------
    InputFileError
        For whole-file problems or a missing GIAS column.
    """
    frame = read_table(path)
    file = Path(path).name
    wanted = [
        *GIAS_REQUIRED,
        "PhaseOfEducation (name)",
        "StatutoryLowAge",
        "StatutoryHighAge",
        "SchoolCapacity",
        "NumberOfPupils",
        "Easting",
        "Northing",
        "Postcode",
        "ResourcedProvisionOnRoll",
        "ResourcedProvisionCapacity",
        "SenUnitOnRoll",
        "SenUnitCapacity",
        "TypeOfResourcedProvision (name)",
        *[f"SEN{i} (name)" for i in range(1, 14)],
    ]
    cols = _resolve(frame, dict.fromkeys(wanted, ()))
    _require(frame, cols, file, GIAS_REQUIRED)
    if not (("Easting" in cols and "Northing" in cols) or "Postcode" in cols):
        _missing_column(frame, file, "Easting")
    notes: list[str] = []
    rejects = _Rejects(file)
    _reject_extra_cells(frame, rejects)

    status = _text(frame, cols, "EstablishmentStatus (name)").str.lower()
    type_name = _text(frame, cols, "TypeOfEstablishment (name)")
    ptype = type_name.map(lambda t: _GIAS_TYPES.get(_key(t)))
    la = _ids(_text(frame, cols, "LA (code)"))
    is_open = status.isin(_GIAS_OPEN)
    skip = ~is_open | ptype.isna()
    if (is_open & ptype.isna()).any():
        counts = type_name[is_open & ptype.isna()].value_counts()
        listed = ", ".join(f"{k} ({v})" for k, v in counts.items())
        notes.append(f"{file}: open establishments of types not modelled, skipped: {listed}")

    urn = _ids(frame[cols["URN"]])
    rejects.add_mask(~skip & urn.isna(), "URN", "empty")
    _check_duplicates(urn.where(~skip), "URN", rejects)

    loc_cols = {
        k: cols[v]
        for k, v in (("easting", "Easting"), ("northing", "Northing"), ("postcode", "Postcode"))
        if v in cols
    }
    # GIAS gives 0/empty for unknown grid references: fall back to the postcode.
    scoped = frame.copy()
    if "easting" in loc_cols:
        e, _, _ = _numbers(scoped[loc_cols["easting"]])
        n, _, _ = _numbers(scoped[loc_cols["northing"]])
        zero = (e.fillna(0) <= 0) | (n.fillna(0) <= 0)
        scoped.loc[zero, loc_cols["easting"]] = ""
        scoped.loc[zero, loc_cols["northing"]] = ""
    loc_rejects = _Rejects(file)
    loc = _locate(scoped, loc_cols, loc_rejects, postcodes)
    loc_frame = loc_rejects.frame()
    in_la = la.isin(la_codes).fillna(False) if la_codes else pd.Series(True, index=frame.index)
    geom = authority_geometry(area, buffer_m=buffer_m)
    if geom is not None:
        near = pd.Series(
            shapely.contains_xy(geom, loc.easting.fillna(-1), loc.northing.fillna(-1)),
            index=frame.index,
        )
        in_scope = in_la | near if la_codes else near
        # An establishment of the LA without a location is kept (and rejected below).
        in_scope |= in_la & loc.easting.isna() if la_codes else False
    else:
        in_scope = in_la
    skip |= ~in_scope
    # Location problems only count for rows in scope.
    for _, rej in loc_frame.iterrows():
        if not skip.loc[rej["row"]]:
            rejects.add([rej["row"]], str(rej["column"]), str(rej["reason"]))

    capacity, cap_empty, cap_bad = _numbers(_text(frame, cols, "SchoolCapacity"))
    on_roll, _roll_empty, roll_bad = _numbers(_text(frame, cols, "NumberOfPupils"))
    rejects.add_mask(~skip & (cap_bad | (capacity < 0)), "SchoolCapacity", "expected a number >= 0")
    rejects.add_mask(~skip & (roll_bad | (on_roll < 0)), "NumberOfPupils", "expected a number >= 0")
    no_capacity = ~skip & cap_empty
    if no_capacity.any():
        notes.append(
            f"{file}: {int(no_capacity.sum())} open establishments have no SchoolCapacity; "
            "capacity set to NumberOfPupils (or 0)"
        )
    capacity = capacity.fillna(on_roll).fillna(0)
    on_roll = on_roll.fillna(0)

    phases = _gias_phases(frame, cols)
    rejects.add_mask(
        ~skip & (phases == ""),
        "PhaseOfEducation (name)",
        "no phase (StatutoryLowAge/StatutoryHighAge empty and phase not applicable)",
    )

    sen_cols = [cols[c] for c in (f"SEN{i} (name)" for i in range(1, 14)) if c in cols]
    sen_joined = (
        frame[sen_cols].astype("string").fillna("").agg(";".join, axis=1)
        if sen_cols
        else pd.Series("", index=frame.index, dtype="string")
    )
    needs, needs_bad = _need_lists(sen_joined)
    if (~skip & needs_bad).any():
        notes.append(
            f"{file}: {int((~skip & needs_bad).sum())} establishments list an SEN type that is "
            "not a SEN2 need; it was ignored"
        )

    rp_cap, _, _ = _numbers(_text(frame, cols, "ResourcedProvisionCapacity"))
    rp_roll, _, _ = _numbers(_text(frame, cols, "ResourcedProvisionOnRoll"))
    unit_cap, _, _ = _numbers(_text(frame, cols, "SenUnitCapacity"))
    unit_roll, _, _ = _numbers(_text(frame, cols, "SenUnitOnRoll"))
    ib_cap = rp_cap.fillna(0) + unit_cap.fillna(0)
    ib_roll = rp_roll.fillna(0) + unit_roll.fillna(0)
    ib_cap = ib_cap.where(ib_cap > 0, ib_roll)
    rejects.add_mask(
        ~skip & ((rp_cap < 0) | (unit_cap < 0)).fillna(False),
        "ResourcedProvisionCapacity",
        "expected a number >= 0",
    )

    keep = ~skip & ~frame.index.isin(list(rejects.rows))
    skipped_rows = skip & ~frame.index.isin(list(rejects.rows))
    base = pd.DataFrame(
        {
            "setting_id": urn[keep].astype(str),
            "name": _text(frame, cols, "EstablishmentName")[keep].astype(str),
            "provision_type": ptype[keep].astype(str),
            "host_setting_id": pd.Series(pd.NA, index=frame.index[keep], dtype="string"),
            "phases": phases[keep].astype(str),
            "needs": needs[keep].where(ptype[keep] != "mainstream", "").astype(str),
            "capacity": capacity[keep].round().astype("int64"),
            "on_roll": on_roll[keep].round().astype("int64"),
            "easting": loc.easting[keep].astype(float),
            "northing": loc.northing[keep].astype(float),
            "in_area": in_la[keep].astype(bool),
            "annual_cost_per_place_gbp": np.nan,
            "ferry_required": False,
            "la_code": la[keep].astype("string"),
        },
        index=frame.index[keep],
    )
    has_ib = keep & (ib_cap > 0) & (ptype == "mainstream")
    ib = base.loc[has_ib[keep].to_numpy()].copy()
    if len(ib):
        first_need = needs[has_ib].str.split(";").str[0].replace("", "ANY")
        ib["setting_id"] = ib["setting_id"] + "-IB-" + first_need.astype(str)
        ib["host_setting_id"] = base.loc[ib.index, "setting_id"].astype("string")
        ib["name"] = ib["name"] + " (inclusion base)"
        ib["provision_type"] = "inclusion_base"
        ib["needs"] = needs[has_ib].astype(str)
        ib["capacity"] = ib_cap[has_ib].round().astype("int64")
        ib["on_roll"] = ib_roll[has_ib].round().astype("int64")
    data = pd.concat([base, ib]) if len(ib) else base
    gdf = schemas.validate_provision(_points(data))
    return LoadResult(
        data=gdf,
        rejections=rejects.frame(),
        rows_read=len(frame),
        rows_used=int(keep.sum()),
        file=file,
        rows_skipped=int(skipped_rows.sum()),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Candidate sites
# --------------------------------------------------------------------------------------------

_SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("id", "site", "candidate_id"),
    "host_setting_id": ("host_urn", "host", "urn", "setting_id"),
    "name": ("site_name",),
    "needs": ("need", "need_types", "needs_served"),
    "phases": ("phase",),
    "places": ("max_places", "capacity"),
    "capital_cost_gbp": ("capital_cost", "capital_gbp"),
    "annual_cost_per_place_gbp": ("cost_per_place_gbp", "annual_cost_gbp", "cost_per_place"),
    **_LOCATION_ALIASES,
}


def load_sites(
    path: str | Path,
    *,
    setting_ids: set[str] | None = None,
    provision: pd.DataFrame | None = None,
    postcodes: PostcodeIndex | None = None,
    sheet: str | None = None,
    rejected_settings: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load candidate inclusion-base sites.

    Parameters
    ----------
    path
        CSV or Excel with ``site_id, host_setting_id, name, needs, phases, places,
        capital_cost_gbp`` and optional ``annual_cost_per_place_gbp``, ``easting``/``northing``
        (or ``postcode``).
    setting_ids
        Setting ids ``host_setting_id`` must be one of (default: those of ``provision``).
    provision
        Loaded provision; a site without its own location takes its host's.
    postcodes
        Lookup for sites located by postcode.
    sheet
        Excel sheet name.
    rejected_settings
        Setting id -> where its row was rejected (e.g. "provision.csv row 6"); a site whose host
        is one of them is rejected with that reason rather than "no such setting".

    Returns
    -------
    result
        ``data``: GeoDataFrame (EPSG:27700) in the ``candidate sites`` layout.

    Raises
    ------
    InputFileError
        For whole-file problems and missing required columns.
    """
    frame = read_table(path, sheet=sheet)
    file = Path(path).name
    cols = _resolve(frame, _SITE_ALIASES)
    _require(frame, cols, file, ["site_id", "host_setting_id", "phases", "places"])
    _require(frame, cols, file, ["capital_cost_gbp"])
    notes = _extra_note(frame, cols, file)
    rejects = _Rejects(file)
    _reject_extra_cells(frame, rejects)
    if setting_ids is None and provision is not None:
        setting_ids = set(provision["setting_id"].astype(str))

    site_id = _ids(frame[cols["site_id"]])
    rejects.add_mask(site_id.isna(), "site_id", "empty")
    _check_duplicates(site_id, "site_id", rejects)
    host = _ids(frame[cols["host_setting_id"]])
    rejects.add_mask(host.isna(), "host_setting_id", "empty (expected the host school's URN)")
    if setting_ids is not None:
        _reject_unknown_settings(
            host,
            host.notna() & ~host.isin({str(s) for s in setting_ids}).fillna(False),
            "host_setting_id",
            "no such setting in the provision file; check the id or add the school there",
            rejected_settings,
            rejects,
        )
    needs, needs_bad = _need_lists(_text(frame, cols, "needs"))
    rejects.add_mask(
        needs_bad,
        "needs",
        f"not a SEN2 need code or DfE name (expected ';'-separated {_NEEDS_EXPECTED})",
    )
    phases, ph_empty, ph_bad = _phase_lists(frame[cols["phases"]])
    rejects.add_mask(ph_empty | ph_bad, "phases", "expected primary, secondary and/or post16")
    places, pl_empty, pl_bad = _numbers(frame[cols["places"]])
    rejects.add_mask(
        pl_empty | pl_bad | ~(places > 0) | (places % 1 != 0),
        "places",
        "expected a whole number of places, more than 0",
    )
    capital, cap_empty, cap_bad = _numbers(frame[cols["capital_cost_gbp"]])
    rejects.add_mask(
        cap_empty | cap_bad | (capital < 0), "capital_cost_gbp", "expected pounds, 0 or more"
    )
    if "annual_cost_per_place_gbp" in cols:
        cost, _, cost_bad = _numbers(frame[cols["annual_cost_per_place_gbp"]])
        rejects.add_mask(
            cost_bad | (cost < 0), "annual_cost_per_place_gbp", "expected pounds, 0 or more"
        )
    else:
        cost = pd.Series(np.nan, index=frame.index)

    has_loc = any(c in cols for c in ("easting", "latitude", "postcode"))
    if has_loc:
        loc_rejects = _Rejects(file)
        loc = _locate(frame, cols, loc_rejects, postcodes)
        for _, rej in loc_rejects.frame().iterrows():
            if rej["column"] != "location":  # no location given: use the host's below
                rejects.add([rej["row"]], str(rej["column"]), str(rej["reason"]))
        easting, northing = loc.easting, loc.northing
    else:
        easting = pd.Series(np.nan, index=frame.index)
        northing = pd.Series(np.nan, index=frame.index)
    if provision is not None:
        hosts = provision.drop_duplicates("setting_id").set_index(
            provision["setting_id"].drop_duplicates().astype(str)
        )
        easting = easting.fillna(host.map(hosts["easting"]).astype(float))
        northing = northing.fillna(host.map(hosts["northing"]).astype(float))

    keep = ~frame.index.isin(list(rejects.rows))
    data = pd.DataFrame(
        {
            "site_id": site_id[keep].astype(str),
            "host_setting_id": host[keep].astype(str),
            "name": _text(frame, cols, "name").replace("", pd.NA)[keep].fillna(site_id[keep]),
            "needs": needs[keep].astype(str),
            "phases": phases[keep].astype(str),
            "places": places[keep].astype("int64"),
            "capital_cost_gbp": capital[keep].astype(float),
            "annual_cost_per_place_gbp": cost[keep].astype(float),
            "easting": easting[keep].astype(float),
            "northing": northing[keep].astype(float),
        },
        index=frame.index[keep],
    )
    data["name"] = data["name"].astype(str)
    gdf = schemas.validate_sites(_points(data))
    return rejects.result(gdf, frame, notes)


# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def load_areas(path: str | Path, *, id_col: str = "area_id") -> gpd.GeoDataFrame:
    """Read planning areas / LSOAs from GeoPackage, GeoJSON or shapefile into EPSG:27700.

    Features sharing an id are dissolved into one area; invalid polygons are repaired.

    Parameters
    ----------
    path
        ``.gpkg``, ``.geojson``/``.json`` or ``.shp`` file.
    id_col
        Column holding the area id (case-insensitive); renamed to ``area_id``.

    Returns
    -------
    areas
        ``area_id`` (str), other attributes as read (``imd_decile``, ``ruc_class`` normalised to
        ``urban``/``rural``, ``population``), Polygon/MultiPolygon geometry in EPSG:27700.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable, lacks ``id_col``, or has empty or non-polygon
        geometries.
    CRSError
        If the file has no CRS.
    """
    path = Path(path)
    file = path.name
    if not path.exists():
        msg = "file not found"
        raise InputFileError(msg, file=str(path))
    try:
        gdf = gpd.read_file(path)
    except Exception as err:
        msg = f"cannot read as GeoPackage/GeoJSON/shapefile ({type(err).__name__})"
        raise InputFileError(msg, file=file) from err
    if gdf.empty:
        msg = "no features"
        raise InputFileError(msg, file=file)
    if gdf.crs is None:
        msg = f"{file}: no coordinate reference system; set one (e.g. EPSG:27700) in a GIS"
        raise CRSError(msg)
    cols = {_key(c): c for c in gdf.columns if c != "geometry"}
    if _key(id_col) not in cols:
        frame = pd.DataFrame(columns=[c for c in gdf.columns if c != "geometry"])
        _missing_column(frame, file, id_col)
    gdf = gdf.rename(columns={cols[_key(id_col)]: "area_id"}).to_crs(CRS)
    gdf["area_id"] = _ids(gdf["area_id"].astype("string"))
    bad = gdf.geometry.isna() | gdf.geometry.is_empty
    if bad.any() or gdf["area_id"].isna().any():
        row = int(np.flatnonzero((bad | gdf["area_id"].isna()).to_numpy())[0]) + 1
        msg = "feature with empty geometry or empty area id"
        raise InputFileError(msg, file=file, row=row, column="area_id")
    kinds = set(gdf.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        msg = f"expected polygons, found {', '.join(sorted(kinds))}"
        raise InputFileError(msg, file=file, column="geometry")
    gdf["geometry"] = gdf.geometry.make_valid()
    if gdf["area_id"].duplicated().any():
        gdf = gdf.dissolve(by="area_id", as_index=False, aggfunc="first")
    for name in ("imd_decile", "population"):
        if name in gdf.columns:
            gdf[name] = pd.to_numeric(gdf[name], errors="coerce").astype(float)
    if "ruc_class" in gdf.columns:
        ruc = gdf["ruc_class"].astype("string").str.strip().str.lower()
        gdf["ruc_class"] = (
            ruc.str.extract(r"^(urban|rural)", expand=False).astype("string").astype(object)
        )
    gdf = gdf.reset_index(drop=True)
    return schemas.validate_areas(gdf)


def assign_areas(
    gdf_points: gpd.GeoDataFrame,
    gdf_areas: gpd.GeoDataFrame,
    *,
    id_col: str = "area_id",
    max_distance_m: float | None = None,
) -> pd.Series:
    """Return the area id of every point: the area containing it, else the nearest area.

    Parameters
    ----------
    gdf_points
        Points in EPSG:27700.
    gdf_areas
        Areas in EPSG:27700 with ``id_col``.
    id_col
        Area id column.
    max_distance_m
        Largest distance to the nearest area for a point outside every area (``None``: any).

    Returns
    -------
    area_id
        Indexed like ``gdf_points``; never NA.

    Raises
    ------
    SchemaValidationError
        If a point has no geometry or is farther than ``max_distance_m`` from every area (the
        message gives counts only).
    CRSError
        If either input is not in EPSG:27700.
    """
    for name, gdf in (("gdf_points", gdf_points), ("gdf_areas", gdf_areas)):
        if gdf.crs is None or gdf.crs.to_epsg() != 27700:
            msg = f"`{name}` must be in {CRS}, got {gdf.crs}; use `to_crs('{CRS}')`"
            raise CRSError(msg)
    missing_geom = gdf_points.geometry.isna() | gdf_points.geometry.is_empty
    if missing_geom.any():
        msg = f"{int(missing_geom.sum())} points have no geometry; cannot assign an area"
        raise SchemaValidationError(msg)
    pts = gpd.GeoDataFrame(geometry=gdf_points.geometry.to_numpy(), crs=CRS)
    areas = gpd.GeoDataFrame(
        {id_col: gdf_areas[id_col].to_numpy()}, geometry=gdf_areas.geometry.to_numpy(), crs=CRS
    )
    joined = gpd.sjoin(pts, areas, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = joined[id_col].reindex(pts.index).astype("object")
    todo = out.isna()
    n_nearest = int(todo.sum())
    if n_nearest:
        near = gpd.sjoin_nearest(
            pts[todo.to_numpy()], areas, how="left", max_distance=max_distance_m
        )
        near = near[~near.index.duplicated(keep="first")]
        out[todo] = near[id_col].reindex(out.index[todo])
    still = out.isna()
    if still.any():
        msg = (
            f"{int(still.sum())} points are farther than {max_distance_m} m from every area; "
            "check the areas file covers the authority"
        )
        raise SchemaValidationError(msg)
    logger.info("assign_areas: %s points, %s assigned to the nearest area", len(out), n_nearest)
    return pd.Series(out.to_numpy(), index=gdf_points.index, name=id_col, dtype="string")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_layers(path_gpkg: str | Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write GeoDataFrames as layers of one GeoPackage (replacing the file atomically).

    Parameters
    ----------
    path_gpkg
        Output ``.gpkg`` path.
    layers
        Layer name -> GeoDataFrame (any CRS, but one must be set).

    Raises
    ------
    CRSError
        If a layer has no CRS.
    """
    path = Path(path_gpkg)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        if gdf.crs is None:
            msg = f"layer `{name}` has no CRS; set one with `set_crs`"
            raise CRSError(msg)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for name, gdf in layers.items():
            out = gdf.copy()
            for col in out.columns:
                if col != out.geometry.name and (
                    pd.api.types.is_string_dtype(out[col]) or out[col].dtype == "boolean"
                ):
                    out[col] = out[col].astype(object)
            out.to_file(tmp, layer=name, driver="GPKG")
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
