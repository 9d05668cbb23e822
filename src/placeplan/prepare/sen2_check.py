"""Compare a pupil cohort's current placements with the authority's published SEN2 figures.

The DfE "Education, health and care plans" release (SEN2) publishes, per local authority and year,
the number of EHC plans by type of placement (the ``*caseload*`` table) and the number in
residential settings (the ``*residential_settings*`` table). :func:`compare_baseline_to_sen2`
counts the same measures in a cohort (``pupils`` joined to ``provision``) and sets them beside the
published cells, so a reviewer can judge how well a baseline (real or synthetic) reflects the
authority's statistics. SEN2 does not publish placements by location (in or out of the
authority's area); the table gives an *implied minimum* for out-of-area placements instead: the
published placements of every type for which the authority has no setting in its own area.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan._errors import InputFileError, SchemaValidationError
from placeplan.prepare.sen2 import MISSING_MARKERS
from placeplan.vocab import academic_year, academic_year_start

if TYPE_CHECKING:
    from pathlib import Path

    from placeplan.config import PlanConfig
    from placeplan.prepare.sen2 import Sen2Release

__all__ = [
    "CHECK_KINDS",
    "SEN2_MEASURES",
    "compare_baseline_to_sen2",
    "plan_sen2_check",
    "release_check",
]

#: measure -> (SEN2 columns summed, cohort ``provision_type`` counted). The SEN2 columns are those
#: of the caseload table ("All EHC plans" rows); the provision types are the cohort's vocabulary.
SEN2_MEASURES: dict[str, tuple[tuple[str, ...], str]] = {
    "Mainstream (excluding resourced provision and SEN units)": (
        (
            "mainstream_la_maintained",
            "mainstream_academy",
            "mainstream_free_school",
            "mainstream_independent",
        ),
        "mainstream",
    ),
    "Mainstream resourced provision and SEN units": (
        (
            "mainstream_la_maintained_resourced_provision",
            "mainstream_la_maintained_senunit",
            "mainstream_academy_resourced_provision",
            "mainstream_academy_senunit",
            "mainstream_free_school_resourced_provision",
            "mainstream_free_school_senunit",
        ),
        "inclusion_base",
    ),
    "Special - LA maintained and academy/free": (
        ("special_la_maintained", "special_academy_free"),
        "special",
    ),
    "Special - independent": (("special_independent",), "independent"),
    "Special - non-maintained": (("special_non_maintained",), "non_maintained"),
    "AP/PRU": (("ap_pru_la_maintained", "ap_pru_academy", "ap_pru_free_school"), "ap"),
    "FE and specialist post-16": (
        ("general_fe_tertiary_colleges", "specialist_post_16_institutions", "ukrlp_provider"),
        "fe",
    ),
}
#: Residential placements (38-51 week and 52 week) in the residential settings table.
RESIDENTIAL_COLUMNS: tuple[str, ...] = ("Res_3851", "Res_52")


def _long(df: pd.DataFrame, la_code: str, what: str) -> pd.DataFrame:
    """``time_period, dfe_column, count`` for one authority, "All ..." rows, tidy or DfE wide."""
    codes = [c for c in ("la_code", "new_la_code", "old_la_code") if c in df.columns]
    if not codes:
        msg = (
            f"the SEN2 {what} table has no `la_code`, `new_la_code` or `old_la_code` column; "
            "give the DfE release file or the tidy sample table (ehcp_by_placement.csv)"
        )
        raise SchemaValidationError(msg)
    mine = np.zeros(len(df), dtype=bool)
    for col in codes:
        mine |= df[col].astype(str).str.strip().eq(str(la_code)).to_numpy()
    df = df[mine]
    if df.empty:
        msg = (
            f"authority `{la_code}` is not in the SEN2 {what} table; give its new (E...) or old "
            "three-digit code as published"
        )
        raise SchemaValidationError(msg)
    if "breakdown_topic" in df.columns:
        df = df[df["breakdown_topic"].astype(str).str.startswith("All ")]
    if "dfe_column" in df.columns and "count" in df.columns:
        out = df[["time_period", "dfe_column", "count"]]
    else:
        wide = [c for c in df.columns if c in _known_columns()]
        out = df.melt(
            id_vars=["time_period"], value_vars=wide, var_name="dfe_column", value_name="count"
        )
    v = out["count"].astype("string").str.strip()
    v = v.mask(v.isna() | v.str.lower().isin(MISSING_MARKERS)).str.replace(",", "", regex=False)
    count = pd.to_numeric(v, errors="coerce")
    bad = (v.notna() & count.isna()).to_numpy()
    if bad.any():  # text that is neither a count nor a marker: a typo, not a suppressed cell
        at = out.iloc[int(np.argmax(bad))]
        msg = (
            f"the SEN2 {what} table has {str(at['count']).strip()!r} in column "
            f"`{at['dfe_column']}` for authority {la_code}, time_period {at['time_period']}; "
            "expected a count or a DfE marker for a suppressed figure (such as x, c, z, low or "
            "blank); correct the cell or download the table again"
        )
        raise SchemaValidationError(msg)
    return out.assign(time_period=out["time_period"].astype(str), count=count)


def _known_columns() -> set[str]:
    cols = {c for columns, _ in SEN2_MEASURES.values() for c in columns}
    return cols | set(RESIDENTIAL_COLUMNS)


def _published(long: pd.DataFrame, columns: tuple[str, ...]) -> tuple[float, list[str]]:
    """Sum of the published cells (NaN if none published) and the columns missing/suppressed."""
    cells = long.set_index("dfe_column")["count"]
    cells = cells[~cells.index.duplicated()]
    present = cells.reindex(list(columns))
    missing = [c for c in columns if pd.isna(present.get(c))]
    total = float(present.sum(min_count=1)) if present.notna().any() else float("nan")
    return total, missing


def compare_baseline_to_sen2(
    pupils: pd.DataFrame,
    provision: pd.DataFrame,
    sen2_tables: Mapping[str, pd.DataFrame],
    *,
    la_code: str,
    time_period: str | None = None,
) -> pd.DataFrame:
    """Count a cohort's placements per published SEN2 measure, beside the published count.

    Parameters
    ----------
    pupils
        The "pupils" contract (``current_setting_id``; optionally a boolean ``residential``).
        Pupils whose setting is not in ``provision`` are not counted in any measure.
    provision
        The "provision" contract (``setting_id``, ``provision_type``, ``in_area``).
    sen2_tables
        ``"placement"``: the SEN2 caseload by type of placement, either as published by the DfE
        (wide, one column per placement type, e.g. ``ehcp2025_caseload_*.csv``) or tidy long
        (``la_code, time_period, breakdown_topic, dfe_column, count``, as the sample's
        ``ehcp_by_placement.csv``). Optional ``"residential"``: the residential settings table
        (``Res_3851``, ``Res_52``), wide or long likewise. Suppressed cells (``x``, ``c``, ``z``,
        blank) are missing, never zero.
    la_code
        The authority, by new (``E06000046``) or old (``921``) code as in the tables.
    time_period
        SEN2 ``time_period`` (``"202425"`` = 2024/25); default the latest in the placement table.

    Returns
    -------
    comparison
        One row per measure: ``measure``, ``sen2_columns`` (``;``-separated), ``time_period``,
        ``cohort``, ``published`` (NaN when not published), ``difference`` (cohort - published),
        ``note``. Rows: the seven placement types of :data:`SEN2_MEASURES`, ``Total in these
        placement types``, ``Residential (38-51 and 52 week)`` (when the residential table is
        given) and ``Out of area (implied minimum)``.

    Raises
    ------
    SchemaValidationError
        Missing tables or columns, or an authority or year not in the tables.

    Examples
    --------
    >>> prov = pd.DataFrame({"setting_id": ["1", "2"], "provision_type": ["special",
    ...     "independent"], "in_area": [True, False]})
    >>> pupils = pd.DataFrame({"current_setting_id": ["1", "1", "1", "2"]})
    >>> sen2 = pd.DataFrame({"new_la_code": ["E06000046"], "time_period": ["202425"],
    ...     "breakdown_topic": ["All EHC plans"], "special_la_maintained": ["3"],
    ...     "special_academy_free": ["0"], "special_independent": ["1"]})
    >>> t = compare_baseline_to_sen2(pupils, prov, {"placement": sen2}, la_code="E06000046")
    >>> t.set_index("measure").loc[["Special - LA maintained and academy/free",
    ...     "Special - independent", "Out of area (implied minimum)"], ["cohort", "published"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                                              cohort  published
    measure
    Special - LA maintained and academy/free       3        3.0
    Special - independent                          1        1.0
    Out of area (implied minimum)                  1        1.0
    """
    if "placement" not in sen2_tables:
        msg = "`sen2_tables` needs a `placement` table (the SEN2 caseload by type of placement)"
        raise SchemaValidationError(msg)
    for col in ("setting_id", "provision_type"):
        if col not in provision.columns:
            msg = f"`provision` lacks column `{col}`; see docs/ARCHITECTURE.md 'provision'"
            raise SchemaValidationError(msg)
    if "current_setting_id" not in pupils.columns:
        msg = "`pupils` lacks column `current_setting_id`; see docs/ARCHITECTURE.md 'pupils'"
        raise SchemaValidationError(msg)
    place = _long(sen2_tables["placement"], la_code, "placement")
    period = str(time_period) if time_period is not None else str(place["time_period"].max())
    place = place[place["time_period"] == period]
    if place.empty:
        msg = f"SEN2 placement table has no rows for time_period {period} and authority {la_code}"
        raise SchemaValidationError(msg)

    prov = provision.assign(setting_id=provision["setting_id"].astype(str))
    in_area_col = prov["in_area"] if "in_area" in prov.columns else pd.Series(True, prov.index)
    in_area = in_area_col.astype(str).str.lower().isin(["true", "1"]).to_numpy()
    ptype = prov.set_index("setting_id")["provision_type"].astype(str)
    types = pupils["current_setting_id"].astype(str).map(ptype)
    counts = types.value_counts()
    in_area_types = set(prov.loc[in_area, "provision_type"].astype(str))

    rows: list[dict[str, object]] = []
    total_cohort, total_pub = 0, 0.0
    ooa_min = 0.0
    ooa_types: list[str] = []
    for measure, (columns, cohort_type) in SEN2_MEASURES.items():
        published, missing = _published(place, columns)
        n = int(counts.get(cohort_type, 0))
        total_cohort += n
        total_pub += 0.0 if np.isnan(published) else published
        note = f"cohort provision_type `{cohort_type}`"
        if missing:
            note += f"; not published (missing/suppressed): {', '.join(missing)}"
        if cohort_type not in in_area_types and not np.isnan(published):
            ooa_min += published
            ooa_types.append(cohort_type)
        rows.append(_row(measure, columns, period, n, published, note))
    rows.append(
        _row(
            "Total in these placement types",
            tuple(c for columns, _ in SEN2_MEASURES.values() for c in columns),
            period,
            total_cohort,
            total_pub,
            "educated elsewhere, early years and placement not recorded are not in the cohort",
        )
    )
    if "residential" in sen2_tables:
        res = _long(sen2_tables["residential"], la_code, "residential")
        res = res[res["time_period"] == period]
        published, missing = _published(res, RESIDENTIAL_COLUMNS)
        n = int(pupils["residential"].astype(bool).sum()) if "residential" in pupils else 0
        note = (
            "cohort column `residential`"
            if "residential" in pupils
            else ("the cohort has no residential placements (no `residential` column)")
        )
        if missing:
            note += f"; not published (missing/suppressed): {', '.join(missing)}"
        rows.append(_row("Residential (38-51 and 52 week)", RESIDENTIAL_COLUMNS, period, n,
                         published, note))  # fmt: skip
    setting_in_area = pd.Series(in_area, index=prov["setting_id"].to_numpy())
    located = pupils["current_setting_id"].astype(str).map(setting_in_area)
    rows.append(
        _row(
            "Out of area (implied minimum)",
            (),
            period,
            int((located == False).sum()),  # noqa: E712 - NaN (unknown setting) is not counted
            ooa_min,
            "SEN2 does not publish location; published = placements of the types with no "
            f"in-area setting ({', '.join(ooa_types) or 'none'}); cohort = pupils at settings "
            "with in_area false",
        )
    )
    return pd.DataFrame(rows)


def _row(
    measure: str, columns: tuple[str, ...], period: str, cohort: int, published: float, note: str
) -> dict[str, object]:
    return {
        "measure": measure,
        "sen2_columns": ";".join(columns),
        "time_period": period,
        "cohort": cohort,
        "published": published,
        "difference": cohort - published,
        "note": note,
    }


#: The kinds of row of :func:`release_check`, in table order.
CHECK_KINDS: tuple[str, ...] = ("need", "placement", "total", "residential", "location")


def _period_of(year: str) -> str:
    """``"2024/25"`` -> ``"202425"`` (the release's ``time_period``)."""
    return year.replace("/", "")


def _need_rows(pupils: pd.DataFrame, release: Sen2Release, year: str) -> list[dict[str, object]]:
    """Plans by primary need: the cohort's ``need_type`` beside the release's all-plans counts."""
    needs = release.needs
    if needs.empty:
        return []
    rows = needs[
        needs["breakdown_topic"].astype(str).str.lower().str.startswith("all ")
        & needs["year"].eq(year)
    ]
    published = rows.drop_duplicates("need").set_index("need")["value"]
    if "need_type" in pupils.columns:
        cohort = pupils["need_type"].astype(str).value_counts()
    else:
        cohort = pd.Series(dtype=int)
    out = []
    for code in published.index:
        value = float(published[code]) if pd.notna(published[code]) else float("nan")
        label = "not recorded" if code == "UNKNOWN" else code
        out.append(
            {
                **_row(
                    f"Primary need: {label}",
                    (f"number_{'need_unknown' if code == 'UNKNOWN' else code.lower()}",),
                    _period_of(year),
                    int(cohort.get(code, 0)),
                    value,
                    "cohort need_type" + ("" if pd.notna(published[code]) else "; not published"),
                ),
                "kind": "need",
            }
        )
    return out


def release_check(
    pupils: pd.DataFrame,
    provision: pd.DataFrame,
    release: Sen2Release,
    *,
    year: str | None = None,
    residential: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The cohort's baseline beside the authority's SEN2 release: by need, placement, location.

    Parameters
    ----------
    pupils
        The "pupils" contract (``need_type``, ``current_setting_id``; EHC plans only are
        counted when a ``plan_type`` column is present).
    provision
        The "provision" contract (``setting_id``, ``provision_type``, ``in_area``).
    release
        The authority's release (:func:`placeplan.prepare.sen2.read_sen2_release`).
    year
        Academic year of the census the cohort describes (``"2024/25"``); default the latest
        year of the caseload table.
    residential
        Optional SEN2 residential settings table (wide as published, or tidy long); without
        it the residential row says the table was not given.

    Returns
    -------
    comparison
        The columns of :func:`compare_baseline_to_sen2` plus ``kind`` (one of
        :data:`CHECK_KINDS`): plans by primary need, then by type of placement (independent and
        non-maintained special are rows of their own), the total, residential and out of area.

    Examples
    --------
    >>> from placeplan.prepare.sen2 import example_release
    >>> rel = example_release()
    >>> prov = pd.DataFrame({"setting_id": ["1"], "provision_type": ["special"],
    ...     "in_area": [True]})
    >>> pupils = pd.DataFrame({"current_setting_id": ["1"], "need_type": ["ASD"]})
    >>> t = release_check(pupils, prov, rel)
    >>> t["kind"].drop_duplicates().tolist()[-3:]
    ['total', 'residential', 'location']
    """
    if "plan_type" in pupils.columns:
        pupils = pupils[pupils["plan_type"].astype(str).str.upper().eq("EHCP")]
    years = sorted(release.caseload["year"].dropna().astype(str).unique())
    if not years:
        msg = "the SEN2 release has no caseload rows for this authority"
        raise SchemaValidationError(msg)
    chosen: str = year if year is not None and year in years else years[-1]
    case = release.caseload
    tidy = pd.DataFrame(
        {
            "la_code": release.la_code,
            "time_period": case["year"].astype(str).map(_period_of),
            "breakdown_topic": case["breakdown_topic"],
            "dfe_column": case["measure"],
            "count": case["value"],
        }
    )
    tables = {"placement": tidy}
    if residential is not None:
        tables["residential"] = residential
    placed = compare_baseline_to_sen2(
        pupils, provision, tables, la_code=release.la_code, time_period=_period_of(chosen)
    )
    kinds = placed["measure"].map(
        lambda m: "total" if m.startswith("Total")
        else "residential" if m.startswith("Residential")
        else "location" if m.startswith("Out of area") else "placement"
    )  # fmt: skip
    placed = placed.assign(kind=kinds.to_numpy())
    if residential is None:
        placed = pd.concat(
            [
                placed,
                pd.DataFrame(
                    [
                        {
                            **_row(
                                "Residential (38-51 and 52 week)",
                                RESIDENTIAL_COLUMNS,
                                _period_of(chosen),
                                int(pupils["residential"].astype(bool).sum())
                                if "residential" in pupils
                                else 0,
                                float("nan"),
                                "no SEN2 residential settings table among the release files",
                            ),
                            "kind": "residential",
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
    out = pd.concat([pd.DataFrame(_need_rows(pupils, release, chosen)), placed], ignore_index=True)
    order = {k: i for i, k in enumerate(CHECK_KINDS)}
    out = out.sort_values("kind", key=lambda s: s.map(order), kind="stable")
    return out.reset_index(drop=True)


def plan_sen2_check(
    plan: PlanConfig, pupils: pd.DataFrame, provision: pd.DataFrame
) -> pd.DataFrame | None:
    """The plan's cohort beside its authority's SEN2 release (None without ``sen2_release``).

    Parameters
    ----------
    plan
        The plan: ``inputs.sen2_release`` (a folder or file), ``plan.lad_code`` (the authority)
        and ``plan.census_date`` (the census the cohort describes; its academic year is
        compared, or the release's latest if it has no such year).
    pupils, provision
        The prepared pupils and provision.

    Returns
    -------
    pandas.DataFrame or None
        :func:`release_check`; cohort counts are not suppressed (the publish stage does that).
    """
    if plan.inputs.sen2_release is None:
        return None
    from placeplan.prepare.io import read_table
    from placeplan.prepare.sen2 import read_sen2_release

    folder = plan.path(plan.inputs.sen2_release)
    release = read_sen2_release(folder, plan.plan.lad_code)
    year = academic_year(academic_year_start(pd.Timestamp(plan.plan.census_date).date()))
    residential = None
    if folder.is_dir():
        files = sorted(p for p in folder.glob("*.csv") if "residential" in p.name.lower())
        if files:
            residential = read_table(files[0])
            _check_cells(residential, files[0])
    return release_check(pupils, provision, release, year=year, residential=residential)


def _check_cells(table: pd.DataFrame, path: Path) -> None:
    """Refuse a residential-table row with cells beyond the header or a count cell that is text.

    ``table`` is :func:`~placeplan.prepare.io.read_table`'s (index: the file's row number).
    """
    from placeplan.prepare.io import EXTRA_CELLS

    if EXTRA_CELLS in table.columns:
        extra = table[EXTRA_CELLS].astype(str).str.strip().ne("").to_numpy()
        if extra.any():
            msg = (
                "the row has more cells than the header, so its values are shifted; a number "
                "with a thousands comma (1,056) must be quoted or written 1056; give the file "
                "as published"
            )
            raise InputFileError(msg, file=str(path), row=int(table.index[int(np.argmax(extra))]))
    for col in (c for c in RESIDENTIAL_COLUMNS if c in table.columns):
        v = table[col].astype("string").str.strip()
        v = v.mask(v.isna() | v.str.lower().isin(MISSING_MARKERS))
        bad = v.notna() & pd.to_numeric(v.str.replace(",", ""), errors="coerce").isna()
        if bad.to_numpy().any():
            at = int(np.argmax(bad.to_numpy()))
            msg = (
                f"{str(v.iloc[at])!r} is not a number; expected a count or a DfE marker for a "
                "suppressed figure (such as x, c, z, low or blank); correct the cell or "
                "download the file again"
            )
            raise InputFileError(msg, file=str(path), row=int(table.index[at]), column=col)
