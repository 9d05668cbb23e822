"""Read the DfE "Education, health and care plans" (SEN2) release CSVs as published, for one LA.

The release (explore-education-statistics.service.gov.uk, "Education, health and care plans") ships
one CSV per table, each with the standard EES columns ``time_period, time_identifier,
geographic_level, country_code, …, new_la_code, old_la_code, la_name, breakdown_topic, breakdown``
followed by one column per measure. This module reads four of them as published:

* ``*caseload*``: EHC plans at the January census (academic year, ``time_period`` ``201819``),
  ``ehcplans`` and one column per placement type (``mainstream_total``, ``special_independent``, …);
* ``*sen_needs_all_plans*``: plans by primary need (``number_asd``, ``number_semh``, …);
* ``*newplans*`` (not ``sen_need_newplans``): new plans made in a calendar year, by placement type;
* ``*ceased_plans*``: plans ceased in a calendar year, by reason (``total_ceased``);
* optional ``*sen_need_newplans*``: new plans by primary need;
* optional ``*requests*``: requests for an EHC needs assessment in a calendar year
  (``requests_received_in_year``, ...), a leading indicator of new plans.

Suppressed or not-applicable cells (``x``, ``c``, ``z``, ``u``, ``low``, ``:``, ``..``, ``[x]``,
blank) are missing (NaN), never zero. Percentage columns (``*_pc``) are dropped: they are derived.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from placeplan._errors import InputFileError
from placeplan.needs import normalise_need
from placeplan.prepare.io import EXTRA_CELLS, read_table
from placeplan.vocab import academic_year

__all__ = [
    "MISSING_MARKERS",
    "Sen2Release",
    "academic_year_label",
    "example_release",
    "read_sen2_release",
]

logger = logging.getLogger(__name__)

#: Cell values the DfE uses for suppressed, not-applicable or unavailable figures.
MISSING_MARKERS: frozenset[str] = frozenset(
    {"x", "c", "z", "u", "low", ":", "..", "[x]", "[c]", "[z]", "[u]", "[low]", "", "-", "na"}
)

_ID_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "new_la_code",
    "old_la_code",
    "la_name",
    "breakdown_topic",
    "breakdown",
)
_REQUIRED = ("time_period", "geographic_level", "new_la_code", "old_la_code", "breakdown_topic")

# file role -> (filename pattern, required?); tolerant of a release renaming ``newplans`` to
# ``new_plans`` or ``sen_need`` to ``sen_needs``
_ROLES: dict[str, tuple[str, bool]] = {
    "caseload": (r"caseload", True),
    "needs": (r"needs?_all_plans", False),
    "new_plans_needs": (r"needs?_new_?plans", False),
    "new_plans": (r"(?<!need_)(?<!needs_)new_?plans", False),
    "ceased": (r"ceased", False),
    "requests": (r"requests", False),
}
#: Other names a release may give the all-plans column of a table (the need tables' own name).
_TOTAL_ALIASES: dict[str, tuple[str, ...]] = {
    "caseload": ("ehc_plans", "ehcp", "total_ehc_plans"),
    "new_plans": ("newplans", "new_ehcplans", "ehc_plans"),
    "requests": (),
}
# the requests column is the one placeplan.compute.forecast_lead reads (REQUESTS_MEASURE)
_TOTALS = {
    "caseload": "ehcplans",
    "new_plans": "new_ehc_plans",
    "requests": "requests_received_in_year",
}
#: Tables that count flows in a calendar year (``time_period`` ``2024``); the others count plans
#: at the January census of an academic year (``202425``).
_CALENDAR_ROLES = frozenset({"new_plans", "new_plans_needs", "ceased", "requests"})

_AGE_TOPIC = "Child or young persons age"
_LONG_COLUMNS = ["year", "breakdown_topic", "breakdown", "age", "measure", "value"]
_NEED_COLUMNS = ["year", "breakdown_topic", "breakdown", "age", "need", "value"]
_REQUEST_COLUMNS = [*_LONG_COLUMNS, "census_year"]


@dataclass(frozen=True, slots=True)
class Sen2Release:
    """One authority's tables from the DfE EHC plans release, as tidy long DataFrames.

    Attributes
    ----------
    la_code
        The authority's new (9-character) code, e.g. ``"E06000046"``.
    old_la_code
        The three-digit code, e.g. ``"921"``.
    la_name
        The name as published.
    caseload
        ``year`` (academic year ``"2018/19"``, the January census), ``breakdown_topic``,
        ``breakdown`` (as published, e.g. ``"age 10"``), ``age`` (nullable int parsed from the
        breakdown when it is an age band; ``"under 3"`` -> 2, ``"age 20 and over"`` -> 20),
        ``measure`` (the release's own column name: ``ehcplans``, ``special_independent``, …),
        ``value`` (float; NaN where suppressed).
    needs
        ``year, breakdown_topic, breakdown, age, need, value``: plans by primary need; ``need`` is
        a code of :data:`placeplan.needs.NEED_CODES` or ``"UNKNOWN"`` (need not recorded).
    new_plans
        As ``caseload`` plus ``census_year``; ``year`` is the calendar year (``"2024"``) in which
        the plans were made and ``census_year`` the academic year whose January census first counts
        them (``"2024/25"``).
    new_plans_needs
        As ``needs`` plus ``census_year``, for new plans (may be empty).
    ceased
        As ``new_plans``, measures ``total_ceased`` and one per reason (may be empty).
    files
        The files read, by role.
    requests
        As ``new_plans``: requests for an EHC needs assessment in a calendar year
        (``requests_received_in_year``, ...), keyed by ``census_year`` like new plans; empty
        when the release's requests file was not given (it is optional).
    """

    la_code: str
    old_la_code: str
    la_name: str
    caseload: pd.DataFrame
    needs: pd.DataFrame
    new_plans: pd.DataFrame
    new_plans_needs: pd.DataFrame
    ceased: pd.DataFrame
    files: dict[str, str]
    requests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REQUEST_COLUMNS))

    def headline(self, table: str = "caseload") -> pd.DataFrame:
        """Return the all-plans rows of a table wide: index ``year``, a column per measure.

        Parameters
        ----------
        table
            ``"caseload"``, ``"new_plans"``, ``"ceased"`` or ``"requests"``.

        Returns
        -------
        wide
            Index ``year`` (sorted), columns the release's measure names; NaN where suppressed.
        """
        df = getattr(self, table)
        key = "census_year" if table != "caseload" else "year"
        if df.empty:
            return pd.DataFrame(index=pd.Index([], name="year", dtype=str))
        rows = df[df["breakdown_topic"].str.lower().str.startswith(("all ", "new ehc plans"))]
        wide = rows.drop_duplicates([key, "measure"]).set_index([key, "measure"])["value"].unstack()
        wide.index.name = "year"
        wide.columns.name = None
        return wide.sort_index()


def academic_year_label(time_period: object) -> str:
    """Turn an EES ``time_period`` into a label: ``201819`` -> ``"2018/19"``, ``2024`` stays.

    Examples
    --------
    >>> academic_year_label("201819"), academic_year_label(2024), academic_year_label("2021/22")
    ('2018/19', '2024', '2021/22')
    """
    text = str(time_period).strip()
    if re.fullmatch(r"\d{6}", text):
        return f"{text[:4]}/{text[4:]}"
    if re.fullmatch(r"\d{4}/\d{2}", text) or re.fullmatch(r"\d{4}", text):
        return text
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return text.replace("-", "/")
    msg = f"`time_period` {text!r} is neither an academic year (201819) nor a calendar year (2024)"
    raise ValueError(msg)


def _census_year(calendar_year: str) -> str:
    """Academic year whose January census first counts flows of a calendar year: 2024 -> 2024/25."""
    return academic_year(int(calendar_year))


def _parse_age(text: object) -> float:
    s = str(text).strip().lower()
    m = re.fullmatch(r"under (\d+)", s)
    if m:
        return float(int(m.group(1)) - 1)
    m = re.fullmatch(r"age (\d+)(?: and (?:under|over))?", s)
    if m:
        return float(m.group(1))
    return np.nan


def _to_number(series: pd.Series, path: Path | None = None) -> pd.Series:
    """A measure column as float: missing markers are NaN, and so is other text unless ``path``
    is given, when other text or a negative count is an error naming the file, row (the series'
    index) and column."""
    text = series.astype("string").str.strip()
    missing = text.isna() | text.str.lower().isin(MISSING_MARKERS)
    cleaned = text.str.replace(",", "", regex=False).where(~missing)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float)
    bad = (~missing & ~(np.isfinite(numbers) & (numbers >= 0))).to_numpy()
    if path is not None and bad.any():
        at = int(np.argmax(bad))
        value, number = str(text.iloc[at]), float(numbers.iloc[at])
        kind = "is negative" if np.isfinite(number) else "is not a number"
        msg = (
            f"{value!r} {kind}; expected a count of 0 or more, or a DfE marker for a suppressed "
            "or missing figure (such as x, c, z, low, u, : or blank); correct the cell or "
            "download the file again"
        )
        row = _row_number(series.index[at])
        raise InputFileError(msg, file=str(path), row=row, column=str(series.name))
    return numbers


def _row_number(label: object) -> int | None:
    """The file row of a :func:`~placeplan.prepare.io.read_table` index label (None if not one)."""
    return int(label) if isinstance(label, int | np.integer) else None


def _check_extra_cells(extra: pd.Series, path: Path) -> None:
    """Refuse a row with more cells than the header (its values would be shifted or lost)."""
    counts = pd.to_numeric(extra.replace("", "0"), errors="coerce").fillna(0).to_numpy()
    if (counts > 0).any():
        at = int(np.argmax(counts > 0))
        msg = (
            f"the row has {int(counts[at])} more cell(s) than the header, so its values are "
            "shifted; a number written with a thousands comma (1,056) must be quoted or written "
            "1056, and a name with a comma quoted; give the file as published"
        )
        raise InputFileError(msg, file=str(path), row=_row_number(extra.index[at]))


def _years(rows: pd.DataFrame, path: Path) -> pd.Series:
    """The rows' ``time_period`` as year labels; a label that is not a year names its row."""
    labels = []
    for label, period in rows["time_period"].items():
        try:
            labels.append(academic_year_label(period))
        except ValueError as err:
            msg = f"{err}; give the file as published"
            raise InputFileError(msg, file=str(path), row=_row_number(label),
                                 column="time_period") from err  # fmt: skip
    return pd.Series(labels, index=rows.index, dtype=object)


def _check_year_kind(rows: pd.DataFrame, path: Path, *, calendar: bool) -> None:
    """Refuse an academic year in a calendar-year table (new plans, ceased, requests) or the
    other way round: the census year a flow is keyed by would be wrong or unreadable."""
    wrong = (rows["year"].str.contains("/") == calendar).to_numpy()
    if not wrong.any():
        return
    at = int(np.argmax(wrong))
    found = str(rows["time_period"].iloc[at]).strip()
    if calendar:
        msg = (
            f"`time_period` {found!r} is an academic year, but this table counts plans made, "
            "ceased or requested in a calendar year (e.g. 2024); check that the file is the "
            "release's table of that name, as published"
        )
    else:
        msg = (
            f"`time_period` {found!r} is a calendar year, but this table counts plans at the "
            "January census of an academic year (e.g. 202425); check that the file is the "
            "release's table of that name, as published"
        )
    row = _row_number(rows.index[at])
    raise InputFileError(msg, file=str(path), row=row, column="time_period")


def _csv_files(root: Path) -> list[Path]:
    """The release's data CSVs in a folder: its own, else those of its subfolders (``data/``)."""

    def data(paths: Iterable[Path]) -> list[Path]:
        return sorted(p for p in paths if not p.name.lower().endswith(".meta.csv"))

    return data(root.glob("*.csv")) or data(root.rglob("*.csv"))


def _find_files(directory_or_files: str | Path | Iterable[str | Path]) -> dict[str, Path]:
    if isinstance(directory_or_files, str | Path):
        root = Path(directory_or_files)
        if root.is_dir():
            paths = _csv_files(root)
        elif root.is_file() and root.suffix.lower() == ".zip":
            msg = (
                "this is a zip archive; unzip the release and give its folder (the CSVs are in "
                "its data/ folder, which is searched)"
            )
            raise InputFileError(msg, file=str(root))
        elif root.is_file():
            paths = [root]
        else:
            msg = f"`sen2` {root} does not exist; give the folder holding the release CSVs"
            raise InputFileError(msg, file=str(root))
    else:
        paths = [Path(p) for p in directory_or_files]
    by_role: dict[str, list[Path]] = {}
    for path in paths:
        name = path.name.lower()
        for role, (pattern, _) in _ROLES.items():
            if re.search(pattern, name):
                by_role.setdefault(role, []).append(path)
                break
    for role, found_paths in by_role.items():
        if len(found_paths) > 1:
            names = " and ".join(p.name for p in found_paths)
            msg = (
                f"two {role.replace('_', ' ')} files ({names}); keep one release's files in the "
                "folder (move the other release's files elsewhere)"
            )
            raise InputFileError(msg, file=str(found_paths[0].parent))
    found = {role: by_role[role][0] for role in _ROLES if role in by_role}
    if "caseload" not in found:
        names = ", ".join(p.name for p in paths[:6]) or "no CSV files"
        msg = (
            "no EHC plans caseload file (a CSV whose name contains `caseload`, e.g. "
            f"ehcp2025_caseload_….csv) among: {names}; download it from the DfE 'Education, "
            "health and care plans' release"
        )
        raise InputFileError(msg, file=str(directory_or_files))
    return found


class _AuthorityMissing(InputFileError):
    """The authority has no rows in a file (an optional table is then left empty)."""


def _not_found(las: pd.DataFrame, code: str, path: Path) -> InputFileError:
    present = las.drop_duplicates("new_la_code")
    names = present["la_name"] if "la_name" in present else present["old_la_code"]
    examples = ", ".join(
        f"{new} ({old}, {name})"
        for new, old, name in zip(
            present["new_la_code"].head(5),
            present["old_la_code"].head(5),
            names.head(5),
            strict=True,
        )
    )
    more = f" and {len(present) - 5} more" if len(present) > 5 else ""
    msg = (
        f"authority `--la {code}` is not in this file; give a new code (E06000046) or an old "
        f"three-digit code (921) that it holds: {examples or 'none'}{more}"
    )
    return _AuthorityMissing(msg, file=str(path), column="new_la_code")


def _authority_rows(
    las: pd.DataFrame, code: str, path: Path, also: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """The Local-authority rows of one authority, by new or old code, across a recoding.

    An authority recoded without a change of area keeps its old code (North Yorkshire
    E10000023 -> E06000065, both 815): rows under either new code that share the old code are one
    series. Two new codes in the same year are two authorities: an error. ``also``: the new and
    old codes the authority has in the caseload file (for the other tables).
    """
    new = las["new_la_code"].str.strip().str.upper()
    old = las["old_la_code"].str.strip()
    hit = (new == code.upper()) | (old == code) | new.isin(also) | old.isin(also)
    if not hit.any():
        raise _not_found(las, code, path)
    olds = set(old[hit]) - {""}
    rows = las[(new.isin(set(new[hit]) - {""}) | old.isin(olds) | hit)]
    codes = rows["new_la_code"].str.strip()
    if codes.nunique() > 1:
        clash = rows.groupby("time_period")["new_la_code"].nunique()
        if (clash > 1).any():
            year = clash[clash > 1].index[0]
            names = rows[rows["time_period"] == year].drop_duplicates("new_la_code")
            labels = names["la_name"] if "la_name" in names else names["old_la_code"]
            listed = ", ".join(
                f"{c} ({n})" for c, n in zip(names["new_la_code"], labels, strict=True)
            )
            msg = (
                f"code {code!r} matches several authorities in {academic_year_label(year)}: "
                f"{listed}; give one of these new 9-character codes"
            )
            raise InputFileError(msg, file=str(path), column="new_la_code")
        logger.info(
            "read_sen2_release: %s is published under codes %s over the years; read as one "
            "series (same old code %s)",
            path.name,
            ", ".join(sorted(set(codes))),
            ", ".join(sorted(olds)),
        )
    return rows


def _read_one(
    path: Path, la: str, also: frozenset[str] = frozenset(), *, calendar: bool | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read one release CSV, keep the authority's Local-authority rows; numbers as float.

    ``calendar``: the table counts calendar years (True), academic years (False), or either.
    """
    # the one table reader: encodings, BOM, delimiter, blank rows; every cell as text; the index
    # is the file's row number (header = 1), which errors name
    raw = read_table(path)
    extra = raw.pop(EXTRA_CELLS) if EXTRA_CELLS in raw.columns else None
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        msg = (
            f"missing column(s) {', '.join(missing)}; expected the DfE release layout as "
            "published (time_period, geographic_level, new_la_code, old_la_code, breakdown_topic, "
            "breakdown, then one column per measure)"
        )
        raise InputFileError(msg, file=str(path), column=missing[0])
    level = raw["geographic_level"].str.strip().str.lower()
    rows = _authority_rows(raw[level == "local authority"], la.strip(), path, also)
    if extra is not None:
        _check_extra_cells(extra.reindex(rows.index), path)
    if "breakdown" not in rows:
        rows = rows.assign(breakdown=rows["breakdown_topic"])
    rows = rows.assign(year=_years(rows, path))
    if calendar is not None:
        _check_year_kind(rows, path, calendar=calendar)
    key = ["year", "breakdown_topic", "breakdown"]
    dup = rows.duplicated(key, keep=False)
    if dup.any():
        first = rows[dup].iloc[0]
        msg = (
            f"{int(dup.sum())} rows repeat the same year, breakdown_topic and breakdown for this "
            f"authority (first: {first['year']}, {first['breakdown_topic']!r}, "
            f"{first['breakdown']!r}); the file is not as published or was concatenated twice"
        )
        raise InputFileError(msg, file=str(path))
    latest = rows.iloc[int(np.argmax(rows["year"].str[:4].astype(int).to_numpy()))]
    ident = {
        "la_code": str(latest["new_la_code"]).strip(),
        "old_la_code": str(latest["old_la_code"]).strip(),
        "la_name": str(latest.get("la_name", "")).strip(),
        "codes": " ".join(
            sorted(set(rows["new_la_code"].str.strip()) | set(rows["old_la_code"].str.strip()))
        ),
    }
    measures = [
        c
        for c in rows.columns
        if c not in (*_ID_COLUMNS, "year") and not c.lower().endswith("_pc") and c
    ]
    out = rows[key].copy()
    out["age"] = rows["breakdown"].map(_parse_age).astype("Int64")
    for col in measures:
        # a column with a number anywhere in the file is a measure: other text in it is a typo;
        # a column of text only (a release's ``version``) is not a measure and is not checked
        numeric = _to_number(raw[col]).notna().any()
        out[col] = _to_number(rows[col], path if numeric else None)
    return out.reset_index(drop=True), ident


def _with_total(wide: pd.DataFrame, role: str, path: Path) -> pd.DataFrame:
    """The table's all-plans column under its usual name (``ehcplans``, ``new_ehc_plans``)."""
    total = _TOTALS.get(role)
    if total is None or total in wide.columns:
        return wide
    for alias in _TOTAL_ALIASES[role]:
        if alias in wide.columns:
            logger.info("read_sen2_release: %s: column %s read as %s", path.name, alias, total)
            return wide.rename(columns={alias: total})
    aliases = _TOTAL_ALIASES[role]
    nor = f" (nor {', '.join(aliases)})" if aliases else ""
    msg = (
        f"no all-{'requests' if role == 'requests' else 'plans'} column `{total}`{nor}; the "
        f"release may have renamed it: rename that column to `{total}`"
    )
    raise InputFileError(msg, file=str(path), column=total)


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    measures = [c for c in wide.columns if c not in ("year", "breakdown_topic", "breakdown", "age")]
    long = wide.melt(
        id_vars=["year", "breakdown_topic", "breakdown", "age"],
        value_vars=measures,
        var_name="measure",
        value_name="value",
    )
    return long[_LONG_COLUMNS].reset_index(drop=True)


def _needs_long(wide: pd.DataFrame) -> pd.DataFrame:
    cols = {}
    for c in wide.columns:
        if not c.startswith("number_"):
            continue
        suffix = c.removeprefix("number_")
        code = "UNKNOWN" if suffix == "need_unknown" else normalise_need(suffix)
        if code is not None:
            cols[c] = code
    if not cols:
        return pd.DataFrame(columns=_NEED_COLUMNS)
    long = wide.melt(
        id_vars=["year", "breakdown_topic", "breakdown", "age"],
        value_vars=list(cols),
        var_name="need",
        value_name="value",
    )
    long["need"] = long["need"].map(cols)
    return long[_NEED_COLUMNS].reset_index(drop=True)


def _with_census_year(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df.assign(census_year=pd.Series(dtype=str))
    return df.assign(census_year=df["year"].map(_census_year))


def read_sen2_release(
    directory_or_files: str | Path | Iterable[str | Path], la: str
) -> Sen2Release:
    """Read one authority's tables from the DfE EHC plans release CSVs, as published.

    Parameters
    ----------
    directory_or_files
        A folder holding the release CSVs (files are recognised by ``caseload``,
        ``sen_needs_all_plans``, ``newplans``, ``ceased_plans``, ``sen_need_newplans`` and
        ``requests`` in their names, ``new_plans`` and ``sen_needs_`` too; ``*.meta.csv`` are
        not data; a folder with no CSV of its own is searched below, as the release's zip
        unpacks into ``data/``),
        or an iterable of such files. Only the caseload file is required; two files of one
        kind (two releases in one folder) are an error.
    la
        The authority: its new code (``"E06000046"``) or old three-digit code (``"921"``).
        Mandatory: rows of other authorities and of other geographic levels (England, region)
        are never read. An authority published under two new codes in different years with the
        same old code (recoded without a change of area, e.g. North Yorkshire E10000023 ->
        E06000065, 815) is one series, read by either code; an authority whose area changed
        (Cumberland, from Cumbria) has its own code and only its own years.

    Returns
    -------
    release
        A :class:`Sen2Release` of tidy long tables.

    Raises
    ------
    InputFileError
        A file is missing or not in the published layout, or ``la`` is not in it (the message
        names the file and lists codes it holds). The CLI turns this into exit code 2.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "ehcp_caseload.csv").write_text(
    ...     "time_period,geographic_level,new_la_code,old_la_code,la_name,breakdown_topic,"
    ...     "breakdown,ehcplans\\n"
    ...     "202425,National,,,,All EHC plans,All EHC plans,500000\\n"
    ...     "202425,Local authority,E06000046,921,Isle of Wight,All EHC plans,All EHC plans,1799\\n"
    ...     "202324,Local authority,E06000046,921,Isle of Wight,All EHC plans,All EHC plans,x\\n"
    ... )
    >>> rel = read_sen2_release(d, "921")
    >>> rel.headline()["ehcplans"].to_dict()
    {'2023/24': nan, '2024/25': 1799.0}
    """
    found = _find_files(directory_or_files)
    tables: dict[str, pd.DataFrame] = {}
    ident: dict[str, str] = {}
    for role, path in found.items():
        try:
            codes = frozenset(ident.get("codes", "").split())
            wide, this = _read_one(path, la, codes, calendar=role in _CALENDAR_ROLES)
        except _AuthorityMissing:
            if role == "caseload":
                raise
            logger.warning("read_sen2_release: %s has no rows for %s; table left empty", path, la)
            continue
        if ident and not set(this["codes"].split()) & set(ident["codes"].split()):
            msg = (
                f"code {la!r} is {this['la_code']} ({this['la_name']}) here but "
                f"{ident['la_code']} ({ident['la_name']}) in the caseload file; give the new "
                "9-character code"
            )
            raise InputFileError(msg, file=str(path), column="new_la_code")
        ident = ident or this
        wide = _with_total(wide, role, path)
        if role in ("needs", "new_plans_needs"):
            tables[role] = _needs_long(wide)
        else:
            tables[role] = _long(wide)
    for role in ("new_plans", "new_plans_needs", "ceased", "requests"):
        if role in tables:
            tables[role] = _with_census_year(tables[role])
    empty_long = pd.DataFrame(columns=[*_LONG_COLUMNS, "census_year"])
    empty_need = pd.DataFrame(columns=[*_NEED_COLUMNS, "census_year"])
    release = Sen2Release(
        la_code=ident["la_code"],
        old_la_code=ident["old_la_code"],
        la_name=ident["la_name"],
        caseload=tables["caseload"],
        needs=tables.get("needs", pd.DataFrame(columns=_NEED_COLUMNS)),
        new_plans=tables.get("new_plans", empty_long),
        new_plans_needs=tables.get("new_plans_needs", empty_need),
        ceased=tables.get("ceased", empty_long),
        files={role: str(path) for role, path in found.items()},
        requests=tables.get("requests", empty_long),
    )
    years = sorted(release.caseload["year"].unique())
    logger.info(
        "read_sen2_release: %s (%s), caseload %s to %s (%d years), tables: %s",
        release.la_name,
        release.la_code,
        years[0],
        years[-1],
        len(years),
        ", ".join(sorted(found)),
    )
    return release


def example_release(
    *,
    first_year: int = 2018,
    years: int = 7,
    start_stock: float = 1000.0,
    retention: float = 0.95,
    new_plans: tuple[float, float] = (100.0, 10.0),
    mix: dict[str, float] | None = None,
) -> Sen2Release:
    """Build a small synthetic release whose stock follows the stock-flow model exactly.

    Plans at each census: ``S(t+1) = retention * S(t) + N(t+1)`` with new plans
    ``N = new_plans[0] + new_plans[1] * k`` in the k-th year after the first; every placement type
    holds and receives the same share ``mix`` of plans. Plans by age (3 to 19, evenly) at the
    last two censuses, new plans by age (4 to 15, evenly) and a need table at the last census
    (ASD 60 %, SEMH 40 %) as the release publishes them.

    Parameters
    ----------
    first_year
        Start year of the first census year (2018 -> ``"2018/19"``).
    years
        Number of census years.
    start_stock
        Plans at the first census.
    retention
        Share of plans kept from one census to the next.
    new_plans
        ``(new plans before the second census, increase per year)``.
    mix
        Share of plans by placement column (default mainstream 0.5, LA special 0.3, independent
        special 0.05, non-maintained special 0.05, FE 0.1).

    Returns
    -------
    release
        A :class:`Sen2Release` for a fictional authority ``E99999999`` / ``999``.

    Examples
    --------
    >>> rel = example_release(years=3)
    >>> rel.headline()["ehcplans"].round(1).tolist()
    [1000.0, 1050.0, 1107.5]
    """
    mix = mix or {
        "mainstream_total": 0.5,
        "special_la_maintained": 0.3,
        "special_independent": 0.05,
        "special_non_maintained": 0.05,
        "fe_total": 0.1,
    }
    stock = start_stock
    rows: list[tuple[object, ...]] = []
    new_rows: list[tuple[object, ...]] = []
    for k in range(years):
        year = academic_year(first_year + k)
        if k > 0:
            n = new_plans[0] + new_plans[1] * (k - 1)
            stock = retention * stock + n
            cal = str(first_year + k)
            new_rows.append((cal, year, "new_ehc_plans", n, "New EHC plans", pd.NA))
            new_rows += [
                (cal, year, m, n * share, "New EHC plans", pd.NA) for m, share in mix.items()
            ]
        rows.append((year, "ehcplans", stock, "All EHC plans", pd.NA))
        rows += [(year, m, stock * share, "All EHC plans", pd.NA) for m, share in mix.items()]
        if k >= years - 2:  # by age (3..19, evenly) at the last two censuses, as published
            rows += [(year, "ehcplans", stock / 17, _AGE_TOPIC, a) for a in range(3, 20)]
        if k > 0:  # new plans by age when started (4..15, evenly)
            new_rows += [(cal, year, "new_ehc_plans", n / 12, "age", a) for a in range(4, 16)]
    caseload = pd.DataFrame(rows, columns=["year", "measure", "value", "breakdown_topic", "age"])
    caseload["age"] = caseload["age"].astype("Int64")
    caseload["breakdown"] = caseload["breakdown_topic"].where(
        caseload["age"].isna(), "age " + caseload["age"].astype("string")
    )
    caseload = caseload[_LONG_COLUMNS]
    new = pd.DataFrame(
        new_rows, columns=["year", "census_year", "measure", "value", "breakdown_topic", "age"]
    )
    new["age"] = new["age"].astype("Int64")
    new["breakdown_topic"] = new["breakdown_topic"].replace("age", "Age when plan started")
    new["breakdown"] = new["breakdown_topic"].where(
        new["age"].isna(), "age " + new["age"].astype("string")
    )
    new = new[[*_LONG_COLUMNS, "census_year"]]
    last = academic_year(first_year + years - 1)
    needs = pd.DataFrame(
        [
            (last, "All EHC plans", "All EHC plans", pd.NA, "ASD", 60.0),
            (last, "All EHC plans", "All EHC plans", pd.NA, "SEMH", 40.0),
        ],
        columns=_NEED_COLUMNS,
    ).astype({"age": "Int64"})
    return Sen2Release(
        la_code="E99999999",
        old_la_code="999",
        la_name="Exampleshire",
        caseload=caseload,
        needs=needs,
        new_plans=new,
        new_plans_needs=pd.DataFrame(columns=[*_NEED_COLUMNS, "census_year"]),
        ceased=pd.DataFrame(columns=[*_LONG_COLUMNS, "census_year"]),
        files={},
    )
