"""Reading tables: encodings, delimiters, headers and Excel, into an all-text frame."""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import logging
from pathlib import Path

import pandas as pd

from placeplan._errors import InputFileError
from placeplan.prepare.io._common import EXTRA_CELLS

logger = logging.getLogger(__package__)  # the package's logger, as before the split


_DELIMITERS = (",", ";", "\t", "|")


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
    frame = pd.DataFrame(data, columns=[*header, EXTRA_CELLS], dtype="string")
    frame.index = pd.Index(rows, dtype="int64", name="row")
    if not frame[EXTRA_CELLS].fillna("").astype(bool).any():
        frame = frame.drop(columns=EXTRA_CELLS)
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
