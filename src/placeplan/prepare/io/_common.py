"""Shared loader machinery: LoadResult, rejection bookkeeping, column lookup and value parsing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from placeplan._errors import InputFileError
from placeplan.needs import NEED_CODES, NEED_NAMES, PHASES, normalise_need
from placeplan.vocab import closest, did_you_mean

#: Column dtypes of a rejections frame, in column order.
REJECTION_DTYPES: dict[str, str] = {
    "file": "string",
    "row": "int64",
    "column": "string",
    "reason": "string",
}
REJECTION_COLUMNS: tuple[str, ...] = tuple(REJECTION_DTYPES)
EXTRA_CELLS = "__extra_cells__"


NEEDS_EXPECTED = ", ".join(NEED_CODES)

#: What a money cell must hold.
POUNDS_EXPECTED = "expected pounds as a number, 0 or more (e.g. 500000 or £500,000; not 500k)"

#: Longest value a rejection reason quotes (a longer one is cut, ending with "…").
QUOTE_MAX = 40
#: Columns of a pupil file whose values are never quoted: they identify or locate a pupil.
PUPIL_PRIVATE_COLUMNS = frozenset(
    {
        "pupil_ref",
        "date_of_birth",
        "postcode",
        "easting/northing",
        "latitude/longitude",
        "location",
        "current_setting_id",
        "(row)",
    }
)
#: In a pupil file, other columns' values are quoted only when evidently a mistyped code: at most
#: this many characters, or close to a valid value ("did you mean"); free text is not quoted.
PUPIL_QUOTE_MAX = 5
# A value that looks like a date or a UK postcode is withheld in a pupil file, whatever its column
# (a date of birth typed into nc_year would otherwise be published in rejections.csv).
_PERSONAL = re.compile(
    r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}", re.IGNORECASE
)


def quote_value(value: object) -> str:
    """The value of a cell as a rejection reason quotes it: ``repr``, at most :data:`QUOTE_MAX`.

    Examples
    --------
    >>> quote_value(" SCLN "), quote_value(""), quote_value("x" * 50)[-3:]
    ("'SCLN'", 'an empty cell', "x…'")
    """
    text = "" if value is None or value is pd.NA or value != value else str(value).strip()
    if not text:
        return "an empty cell"
    if len(text) > QUOTE_MAX:
        text = text[: QUOTE_MAX - 1] + "…"
    return repr(text)


def need_hint(text: str) -> str:
    """A "did you mean" hint for the first part of a need list that is not a need (or "")."""
    for part in _split_needs(str(text)) or [str(text)]:
        if parse_need_code(part) is None:
            if name := closest(part, NEED_NAMES.values()):
                code = next(c for c, n in NEED_NAMES.items() if n == name)
                return f"; did you mean {code!r} ({name})?"
            return did_you_mean(part, NEED_CODES)
    return ""


# --------------------------------------------------------------------------------------------
# Result and rejection bookkeeping
# --------------------------------------------------------------------------------------------


def empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    """An empty frame with these columns, in this order, of these dtypes."""
    return pd.DataFrame({col: pd.Series(dtype=dtype) for col, dtype in dtypes.items()})


def empty_rejections() -> pd.DataFrame:
    """An empty rejections frame (:data:`REJECTION_COLUMNS`, typed)."""
    return empty_frame(REJECTION_DTYPES)


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
    skipped
        One row per skipped row (same columns as ``rejections``), with the reason it was left
        out (a closed establishment, another LA, a type not modelled); ``len(skipped) ==
        rows_skipped``.
    skipped_ids
        For a GIAS export: id -> why that establishment was skipped and where (e.g. ``"closed
        school (gias.csv row 7)"``), so pupils whose current setting is one are told so.
    """

    data: pd.DataFrame
    rejections: pd.DataFrame
    rows_read: int
    rows_used: int
    file: str = ""
    rows_skipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    rejected_ids: Mapping[str, int] = field(default_factory=dict)
    skipped: pd.DataFrame = field(default_factory=lambda: empty_rejections())
    skipped_ids: Mapping[str, str] = field(default_factory=dict)

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


class Rejects:
    """Collects row-level problems.

    ``private`` names the columns whose values a reason must never quote (a pupil's reference,
    date of birth, location and setting). When it is given (a pupil file), another column's value
    is quoted only when it is evidently a mistyped code (:data:`PUPIL_QUOTE_MAX` characters at
    most, or close to a valid value) and does not look like a date or a postcode.
    """

    def __init__(self, file: str, *, private: Iterable[str] = ()) -> None:
        self.file = file
        self.private = frozenset(private)
        self._items: list[tuple[int, str, str]] = []
        self._rows: set[int] = set()

    def add(self, rows: Iterable[Any], column: str, reason: str) -> None:
        for row in rows:
            self._items.append((int(row), column, reason))
            self._rows.add(int(row))

    def add_mask(self, mask: pd.Series, column: str, reason: str) -> None:
        self.add(mask.index[mask.fillna(False).to_numpy(dtype=bool)], column, reason)

    def add_found(
        self,
        mask: pd.Series,
        column: str,
        values: pd.Series,
        reason: str,
        hint: Callable[[str], str] | None = None,
    ) -> None:
        """Reject the rows of ``mask``, each reason quoting the row's value first.

        ``"'SCLN': not a SEN2 need code …; did you mean 'SLCN'?"``: ``hint`` gives the "did you
        mean" of a value (:func:`~placeplan.vocab.did_you_mean`). A column in :attr:`private`
        gets ``reason`` alone; in a pupil file, so does a value that is not evidently a code.
        """
        if column in self.private:
            self.add_mask(mask, column, reason)
            return
        for row in mask.index[mask.fillna(False).to_numpy(dtype=bool)]:
            value = values.get(row)
            text = "" if value is None or pd.isna(value) else str(value)
            more = hint(text) if hint is not None and text.strip() else ""
            found = quote_value(text)
            if self.private and (
                _PERSONAL.search(text) or not (more or len(text.strip()) <= PUPIL_QUOTE_MAX)
            ):
                found = "the value (not shown: pupil data)"
            self.add([row], column, f"{found}: {reason}{more}")

    @property
    def rows(self) -> set[int]:
        return self._rows

    def frame(self) -> pd.DataFrame:
        if not self._items:
            return empty_rejections()
        out = pd.DataFrame(self._items, columns=["row", "column", "reason"])
        out.insert(0, "file", self.file)
        out = out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
        return out.astype(REJECTION_DTYPES)

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
# Column resolution and value parsing
# --------------------------------------------------------------------------------------------


def column_key(name: str) -> str:
    """The matching key of a column name: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def resolve_columns(frame: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map canonical column names to the file's column names (case/spacing-insensitive)."""
    by_key = {column_key(c): c for c in frame.columns if c != EXTRA_CELLS}
    found: dict[str, str] = {}
    used: set[str] = set()
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            actual = by_key.get(column_key(name))
            if actual is not None and actual not in used:
                found[canonical] = actual
                used.add(actual)
                break
    return found


def missing_column(frame: pd.DataFrame, file: str, column: str, detail: str = "") -> None:
    """Raise :class:`InputFileError` for a missing ``column``, suggesting the closest header."""
    names = [c for c in frame.columns if c != EXTRA_CELLS]
    if len(names) == 1:
        msg = (
            f"only one column found, so the required column {column!r} is missing; the file "
            "is not separated by commas, semicolons, tabs or | (or has no header row)"
        )
        raise InputFileError(msg, file=file, row=1, column=column)
    guess = difflib.get_close_matches(column, names, n=1, cutoff=0.5)
    if not guess:
        keyed = {column_key(n): n for n in names}
        hit = difflib.get_close_matches(column_key(column), list(keyed), n=1, cutoff=0.5)
        guess = [keyed[hit[0]]] if hit else []
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    msg = f"required column missing{detail}{hint}"
    raise InputFileError(msg, file=file, row=1, column=column)


def require_columns(
    frame: pd.DataFrame, cols: dict[str, str], file: str, required: Iterable[str]
) -> None:
    """Raise for the first of ``required`` that has no column in ``cols``."""
    for column in required:
        if column not in cols:
            missing_column(frame, file, column)


def ignored_columns_note(frame: pd.DataFrame, cols: dict[str, str], file: str) -> list[str]:
    """A note naming the file's columns no alias matched (empty list if none)."""
    ignored = [c for c in frame.columns if c not in set(cols.values()) and c != EXTRA_CELLS]
    return [f"{file}: ignored columns: {', '.join(ignored)}"] if ignored else []


def reject_extra_cells(frame: pd.DataFrame, rejects: Rejects) -> None:
    """Reject rows with more cells than the header has columns."""
    if EXTRA_CELLS in frame.columns:
        rejects.add_mask(
            frame[EXTRA_CELLS] != "",
            "(row)",
            "more cells than the header has columns (an unquoted delimiter inside a value?)",
        )


def text_column(frame: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series:
    """The stripped text of column ``name`` (empty strings where the file has no such column)."""
    if name not in cols:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[cols[name]].astype("string").fillna("").str.strip()


def clean_ids(values: pd.Series) -> pd.Series:
    """Tidy identifiers: strip, drop Excel's trailing ``.0``; empty -> NA."""
    out = (
        values.astype("string")
        .fillna("")
        .str.strip()
        .str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    )
    return out.replace({"": pd.NA})


# "449525,3" / "18000,00" (Excel in a European locale): one comma followed by anything but a
# three-digit thousands group is a decimal comma.
_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d{1,2}|\d{4,})$")
_ANY_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d+)$")


def parse_numbers(
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


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse yes/no values; return (booleans, empty mask, bad mask)."""
    text = values.astype("string").fillna("").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    empty = text == ""
    bad = ~empty & out.isna()
    return out, empty, bad


def parse_need_code(text: str) -> str | None:
    """The SEN2 need code of ``text`` (a code, DfE wording or GIAS style), or None."""
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
        if "," in part and parse_need_code(part) is None:
            parts += [p.strip() for p in part.split(",") if p.strip()]
        else:
            parts.append(part)
    return parts


def parse_need_lists(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ';'-separated needs; return (joined codes, bad mask). Empty / 'any' = any need."""
    out, bad = [], []
    for text in values.astype("string").fillna(""):
        parts = _split_needs(str(text))
        if len(parts) == 1 and column_key(parts[0]) in {"any", "all", "allneeds", "anyneed"}:
            parts = []
        codes = [parse_need_code(p) for p in parts]
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


def phase_hint(text: str) -> str:
    """A "did you mean" hint for the first part of a phase list that is not a phase (or "")."""
    for part in (p.strip() for p in _NEED_SPLIT.split(str(text)) if p.strip()):
        if column_key(part) not in _PHASE_ALIASES:
            return did_you_mean(column_key(part), [*PHASES, "all-through", "sixth form"])
    return ""


def parse_phase_lists(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse phases; return (joined phases, empty mask, bad mask)."""
    out, bad = [], []
    for text in values.astype("string").fillna(""):
        parts = [p.strip() for p in _NEED_SPLIT.split(str(text)) if p.strip()]
        found: set[str] = set()
        wrong = False
        for part in parts:
            phases = _PHASE_ALIASES.get(column_key(part))
            if phases is None:
                wrong = True
            else:
                found.update(phases)
        bad.append(wrong)
        out.append(";".join(p for p in PHASES if p in found))
    joined = pd.Series(out, index=values.index, dtype="string")
    bad_s = pd.Series(bad, index=values.index)
    return joined, (joined == "") & ~bad_s, bad_s


def reject_unknown_settings(
    ids: pd.Series,
    unknown: pd.Series,
    column: str,
    reason: str,
    rejected_settings: Mapping[str, str] | None,
    rejects: Rejects,
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
    rejects.add_found(unknown, column, ids, reason)


def rejected_id_rows(
    ids: pd.Series, rejected_rows: Iterable[int], used: pd.Series
) -> dict[str, int]:
    """Id -> row number of each rejected row whose id is not also used from another row."""
    in_use = set(used.astype(str))
    out: dict[str, int] = {}
    for row in sorted(rejected_rows):
        value = ids.get(row)
        if value is not None and pd.notna(value) and str(value) not in in_use:
            out.setdefault(str(value), int(row))
    return out


def check_duplicates(ids: pd.Series, column: str, rejects: Rejects) -> None:
    """Reject every repeat of an id after its first row, naming the first row."""
    present = ids.dropna()
    dup = present.duplicated(keep="first")
    if dup.any():
        first_row: dict[Hashable, Hashable] = {}
        for row, value in present.items():
            first_row.setdefault(value, row)
        for row, value in present[dup].items():
            found = "" if column in rejects.private else f"{quote_value(value)}: "
            rejects.add(
                [row],
                column,
                f"{found}duplicate of row {first_row[value]} (first kept); give each row its "
                f"own {column}, or delete the repeated row",
            )


def parse_annual_cost(frame: pd.DataFrame, cols: Mapping[str, str], rejects: Rejects) -> pd.Series:
    """The optional ``annual_cost_per_place_gbp`` column as numbers (NaN where empty or absent;
    a value that is not pounds, or below 0, rejects its row).

    Parameters
    ----------
    frame
        The file's rows.
    cols
        Canonical column name -> the file's column name.
    rejects
        Where rejected rows are recorded.

    Returns
    -------
    pandas.Series
        Pounds a place a year, index as ``frame``.
    """
    col = "annual_cost_per_place_gbp"
    if col not in cols:
        return pd.Series(float("nan"), index=frame.index)
    cost, _, bad = parse_numbers(frame[cols[col]])
    rejects.add_found(bad | (cost < 0), col, frame[cols[col]], POUNDS_EXPECTED)
    return cost
