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

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError

__all__ = ["SEN2_MEASURES", "compare_baseline_to_sen2"]

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

_SUPPRESSED = {"x", "c", "z", "u", ":", ""}


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
    v = v.mask(v.isna() | v.isin(_SUPPRESSED))
    return out.assign(
        time_period=out["time_period"].astype(str),
        count=pd.to_numeric(v, errors="coerce"),
    )


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
