"""The impact table as the report publishes it: disclosure control, cell lookup, metric tables.

:class:`ImpactTable` applies :func:`~placeplan.publish.disclosure.suppress` to the long impact
table once; :func:`metric_table` and :func:`group_table` lay its cells out as report tables, and
:func:`published_impact` gives the same figures back in long format for ``impact.csv``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.publish.disclosure import SUPPRESSED_MARKER, suppress, suppression_mask
from placeplan.publish.report.model import IMPACT_COLS, Cell, Mode, Table

__all__ = [
    "COUNT_METRICS",
    "DEPENDENT_METRICS",
    "GROUP_TYPE_LABEL",
    "INDIVIDUAL_METRICS",
    "METRIC_FMT",
    "METRIC_LABEL",
    "ImpactTable",
    "all_group",
    "group_table",
    "impact_long",
    "impact_table",
    "level_counts",
    "levels_hidden",
    "metric_table",
    "movers_hidden",
    "published_impact",
]

#: Impact metrics that are counts of pupils (primary-suppressed under the threshold).
COUNT_METRICS: tuple[str, ...] = (
    "pupils",
    "over_threshold_n",
    "ooa_placements",
    "independent_placements",
    "worse_off_n",
    "moved_n",
    "ferry_journeys",
    "over_threshold_road_n",
    "beyond_walking_n",
)
#: Impact metrics whose value is one pupil's own (the longest journey is one child's journey):
#: never published (``c`` in published mode), shown to the planning team in internal mode.
INDIVIDUAL_METRICS: tuple[str, ...] = ("max_time_min",)
#: Derived impact metrics and the count metrics they depend on (others depend on ``pupils``).
DEPENDENT_METRICS: dict[str, tuple[str, ...]] = {
    "over_threshold_pct": ("over_threshold_n", "pupils"),
}
METRIC_FMT: dict[str, str] = {
    "pupils": "count",
    "mean_time_min": "minutes",
    "median_time_min": "minutes",
    "p90_time_min": "minutes",
    "max_time_min": "minutes",
    "mean_distance_km": "km",
    "mean_distance_miles": "miles",
    "over_threshold_n": "count",
    "over_threshold_pct": "percent",
    "ooa_placements": "count",
    "independent_placements": "count",
    "annual_placement_cost_gbp": "gbp",
    "annual_transport_cost_gbp": "gbp",
    "worse_off_n": "count",
    "moved_n": "count",
    "ferry_journeys": "count",
    "over_threshold_road_n": "count",
    "beyond_walking_n": "count",
}
METRIC_LABEL: dict[str, str] = {
    "pupils": "Pupils in scope",
    "mean_time_min": "Mean journey time (each way)",
    "median_time_min": "Median journey time",
    "p90_time_min": "90th percentile journey time",
    "max_time_min": "Longest journey time",
    "mean_distance_km": "Mean travel distance (km)",
    "mean_distance_miles": "Mean travel distance (miles)",
    "over_threshold_n": "Pupils over the reasonable maximum journey",
    "over_threshold_pct": "Share over the reasonable maximum journey",
    "ooa_placements": "Out of area placements",
    "independent_placements": "Independent / non-maintained placements",
    "annual_placement_cost_gbp": "Annual placement cost",
    "annual_transport_cost_gbp": "Annual transport cost",
    "worse_off_n": "Pupils whose journey gets longer",
    "moved_n": "Pupils who change setting",
    "ferry_journeys": "Journeys crossing to the mainland (ferry)",
    "over_threshold_road_n": "Over the reasonable maximum without a ferry",
    "beyond_walking_n": "Pupils beyond the statutory walking distance",
}
GROUP_TYPE_LABEL: dict[str, str] = {
    "need_type": "primary need",
    "phase": "phase",
    "area": "planning area",
    "imd_decile": "deprivation decile (IMD 2019, 1 = most deprived)",
    "ruc_class": "rural / urban class",
}


class ImpactTable:
    """Disclosure-controlled impact table with cell lookup.

    Building one lays the long table out wide once per content (see :func:`_shape`) and is
    remembered for its content, settings and forced cells (see :func:`_built`): the fixed point
    of :func:`placeplan.publish.impact_release.published_impacts` builds the same table under the
    same forcing round after round. :meth:`cell` and :meth:`has` are dictionary and array look-ups.

    Parameters
    ----------
    impact
        Long table ``group_type, group, metric, baseline, scenario, change`` (not yet
        suppressed).
    threshold, round_to, mode
        Disclosure settings (see :func:`placeplan.publish.disclosure.suppress`).
    force
        ``(group_type, group, metric, which)`` count cells to hide whatever their value, because
        the same quantity is hidden in another published table (see
        :mod:`placeplan.publish.register`).

    Raises
    ------
    SchemaValidationError
        If a ``(group_type, group, metric)`` appears twice.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    plain: pd.DataFrame
    metrics: list[str]
    _metric_set: frozenset[str]
    _index: dict[tuple[str, str], int]
    _columns: dict[str, int]
    _values: np.ndarray
    _value_at: dict[str, int]
    _hidden: np.ndarray
    _mask_at: dict[str, int]

    def __init__(
        self,
        impact: pd.DataFrame,
        *,
        threshold: int,
        round_to: int,
        mode: Mode,
        force: Collection[tuple[str, str, str, str]] = (),
    ):
        self.__dict__.update(_built(impact, threshold, round_to, mode, force))

    def has(self, metric: str) -> bool:
        """True if the impact table holds ``metric``."""
        return metric in self._metric_set

    def groups(self, group_type: str) -> list[str]:
        """The groups of ``group_type`` in display order (phases in school order)."""
        gs = [g for (gt, g) in self._index if gt == group_type]
        if group_type == "phase":
            return sorted(gs, key=lambda g: (_PHASE_ORDER.get(g, 99), _natural_key(g)))
        return sorted(gs, key=_natural_key)

    def cell(self, group_type: str, group: str, metric: str, which: str) -> Cell:
        """One published cell; ``which`` is ``baseline``, ``scenario`` or ``change``."""
        col = f"{metric}__{which}"
        fmt = METRIC_FMT.get(metric, "number")
        i = self._index.get((group_type, group))
        if i is None or col not in self._columns:
            return Cell(None, fmt)
        j = self._value_at.get(col)
        raw: Any = self._values[i, j] if j is not None else self.plain.iat[i, self._columns[col]]
        k = self._mask_at.get(col)
        sup = bool(self._hidden[i, k]) if k is not None else False
        v = None if pd.isna(raw) else float(raw)
        return Cell(v, fmt, suppressed=sup, signed=which == "change")

    def row(self, group_type: str, group: str, metric: str) -> tuple[Cell, Cell, Cell]:
        """The baseline, scenario and change cells of one metric for one group."""
        return tuple(  # type: ignore[return-value]
            self.cell(group_type, group, metric, w) for w in ("baseline", "scenario", "change")
        )


@dataclass(frozen=True)
class _Shape:
    """An impact table laid out wide (one row per group, sorted), before disclosure control."""

    wide: pd.DataFrame
    metrics: list[str]
    count_cols: list[str]
    deps: dict[str, list[str]]
    rows: dict[tuple[Any, str], int]


def _content_key(impact: pd.DataFrame) -> bytes:
    """A digest of the columns :class:`ImpactTable` reads (their dtypes and every value)."""
    imp = impact.loc[:, list(IMPACT_COLS)]
    h = hashlib.blake2b(digest_size=20)
    h.update(repr([str(d) for d in imp.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(imp, index=False).to_numpy().tobytes())
    return h.digest()


def _shape(impact: pd.DataFrame) -> _Shape:
    """Lay the long impact table out wide: ``<metric>__<which>`` columns, one row per group."""
    imp = impact.loc[:, list(IMPACT_COLS)].copy()
    imp["group"] = imp["group"].astype(str)
    dup = imp.duplicated(["group_type", "group", "metric"])
    if dup.any():
        msg = f"impact table has {int(dup.sum())} duplicate (group_type, group, metric) rows"
        raise SchemaValidationError(msg)
    # unstacking one level of a three-level index leaves a frame
    wide = cast(
        "pd.DataFrame",
        imp.set_index(["group_type", "group", "metric"])[["baseline", "scenario", "change"]]
        .unstack("metric")
        .sort_index(),
    )
    wide.columns = [f"{m}__{w}" for w, m in cast("pd.MultiIndex", wide.columns)]
    wide = wide.reset_index()
    metrics = sorted(set(imp["metric"]))
    counts = [m for m in metrics if m in COUNT_METRICS]
    for m in metrics:
        for w in ("baseline", "scenario", "change"):
            wide[f"{m}__{w}"] = pd.to_numeric(wide[f"{m}__{w}"], errors="coerce").astype(float)
    count_cols = [f"{m}__{w}" for m in counts for w in ("baseline", "scenario")]
    deps: dict[str, list[str]] = {}
    for m in metrics:
        if m in counts:
            deps[f"{m}__change"] = [f"{m}__baseline", f"{m}__scenario"]
            continue
        sources = [s for s in DEPENDENT_METRICS.get(m, ("pupils",)) if s in counts]
        for w in ("baseline", "scenario"):
            deps[f"{m}__{w}"] = [f"{s}__{w}" for s in sources]
        deps[f"{m}__change"] = [f"{s}__{w}" for s in sources for w in ("baseline", "scenario")]
        if "moved_n" in counts:
            # a group's statistic moves from baseline to scenario by its movers' journeys
            # and placements only: with 1-4 movers (moved_n hidden) pupils x the change is
            # their own, so the scenario side is hidden with the movers' count
            deps[f"{m}__scenario"].append("moved_n__scenario")
            deps[f"{m}__change"].append("moved_n__scenario")
    keys = zip(wide["group_type"], wide["group"], strict=True)
    rows = {(gt, g): i for i, (gt, g) in enumerate(keys)}
    return _Shape(wide, metrics, count_cols, deps, rows)


def _forced(
    shape: _Shape, force: Collection[tuple[str, str, str, str]], mode: Mode
) -> pd.DataFrame:
    """The cells to hide whatever their value: ``force``'s count cells, and in published mode
    every cell of the individual metrics (one pupil's own journey)."""
    cols = list(shape.count_cols)
    always: list[str] = []
    if mode == "published":
        for m in INDIVIDUAL_METRICS:
            if m in shape.metrics:
                always += [f"{m}__{w}" for w in ("baseline", "scenario", "change")]
    cols += [c for c in always if c not in cols]
    at = {c: j for j, c in enumerate(cols)}
    flags = np.zeros((len(shape.wide), len(cols)), dtype=bool)
    for c in always:
        flags[:, at[c]] = True
    for gt, g, m, w in force:
        j, i = at.get(f"{m}__{w}"), shape.rows.get((gt, str(g)))
        if j is not None and i is not None:
            flags[i, j] = True
    return pd.DataFrame(flags, index=shape.wide.index, columns=cols)


def _build(
    shape: _Shape,
    threshold: int,
    round_to: int,
    mode: Mode,
    force: Collection[tuple[str, str, str, str]],
) -> dict[str, Any]:
    """The state of one :class:`ImpactTable`: the suppressed table, its mask and look-ups."""
    wide = shape.wide
    out = suppress(
        wide,
        force=_forced(shape, force, mode),
        count_cols=shape.count_cols,
        threshold=threshold,
        round_to=round_to,
        mode=mode,
        dependent_cols=shape.deps,
        group_cols=["group_type"],
        total_rows=wide["group_type"].eq("all"),
    )
    if round_to and mode == "published":
        for m in shape.metrics:
            if f"{m}__baseline" in shape.count_cols:
                out[f"{m}__change"] = out[f"{m}__scenario"] - out[f"{m}__baseline"]
        _percentages_of_rounded(out, shape.metrics)
    mask = suppression_mask(out)
    # lookups read a copy without the packed mask in ``attrs`` (pandas deep-copies attrs on
    # every column access, which made each cell cost milliseconds)
    plain = out.copy()
    plain.attrs = {}
    values = [f"{m}__{w}" for m in shape.metrics for w in ("baseline", "scenario", "change")]
    return {
        "table": out,
        "mask": mask,
        "plain": plain,
        "metrics": list(shape.metrics),
        "_metric_set": frozenset(shape.metrics),
        "_index": {
            (gt, g): i
            for i, (gt, g) in enumerate(zip(out["group_type"], out["group"], strict=True))
        },
        "_columns": {c: j for j, c in enumerate(out.columns)},
        "_values": plain.loc[:, values].to_numpy(dtype=float),
        "_value_at": {c: j for j, c in enumerate(values)},
        "_hidden": mask.to_numpy(dtype=bool),
        "_mask_at": {c: j for j, c in enumerate(mask.columns)},
    }


def _built(
    impact: pd.DataFrame,
    threshold: int,
    round_to: int,
    mode: Mode,
    force: Collection[tuple[str, str, str, str]],
) -> dict[str, Any]:
    """:func:`_build` remembered by the table's content, the settings and the forced cells (a
    hit is the same computation's result: the key is a digest of every value read)."""
    force = tuple(force)
    content = _content_key(impact)
    shape = _SHAPES.get(content)
    if shape is None:
        shape = _remember(_SHAPES, content, _shape(impact), 64)
    try:
        key: tuple[Any, ...] | None = (content, threshold, round_to, mode, frozenset(force))
    except TypeError:  # unhashable cells: built every time
        key = None
    if key is not None and key in _BUILT:
        return _BUILT[key]
    state = _build(shape, threshold, round_to, mode, force)
    return state if key is None else _remember(_BUILT, key, state, 256)


_T = TypeVar("_T")


def _remember(memo: dict[Any, _T], key: Any, value: _T, size: int) -> _T:
    """Store ``value`` under ``key``, dropping the oldest entry beyond ``size``; return it."""
    if len(memo) >= size:
        memo.pop(next(iter(memo)))
    memo[key] = value
    return value


_SHAPES: dict[bytes, _Shape] = {}
_BUILT: dict[tuple[Any, ...], dict[str, Any]] = {}


def _percentages_of_rounded(out: pd.DataFrame, metrics: Sequence[str]) -> None:
    """With rounding, a share is recomputed from the published (rounded) counts: one computed
    from the exact counts, to 3 decimals, gives them back (5 of 302 is 1.656 %, which only
    302 pupils fit, although 300 is published)."""
    for m in metrics:
        num_den = DEPENDENT_METRICS.get(m, ())
        if METRIC_FMT.get(m) != "percent" or len(num_den) != 2:
            continue
        num, den = num_den
        if f"{num}__baseline" not in out.columns or f"{den}__baseline" not in out.columns:
            continue
        for w in ("baseline", "scenario"):
            d = out[f"{den}__{w}"]
            out[f"{m}__{w}"] = (100.0 * out[f"{num}__{w}"] / d.where(d > 0)).where(
                out[f"{m}__{w}"].notna()
            )
        out[f"{m}__change"] = (out[f"{m}__scenario"] - out[f"{m}__baseline"]).where(
            out[f"{m}__change"].notna()
        )


_PHASE_ORDER = {"primary": 0, "secondary": 1, "post16": 2}
_PHASE_LABEL = {"primary": "Primary", "secondary": "Secondary", "post16": "Post-16"}


def _natural_key(text: str) -> tuple[Any, ...]:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text.lower())


def metric_table(
    imp: ImpactTable, id_: str, caption: str, metrics: Sequence[str], note: str = ""
) -> Table:
    """A table of ``metrics`` (rows) for all pupils: baseline, scenario and change."""
    rows = tuple(
        (Cell(METRIC_LABEL.get(m, m)), *imp.row("all", all_group(imp), m))
        for m in metrics
        if imp.has(m)
    )
    return Table(id_, caption, ("Measure", "Baseline", "Scenario", "Change"), rows, note)


#: Impact counts the mitigation rules' pupils are part of (see ``who`` of the rules).
_MITIGATION_LINKED = ("over_threshold_n", "ferry_journeys", "over_threshold_road_n")


def movers_hidden(tables: Mapping[tuple[str, str], ImpactTable]) -> set[tuple[str, str, str]]:
    """The mitigation levels ``(proposal, basis, run)`` that are a comparison's own side where
    the impact tables hide it: the pupils who change setting (``moved_n``: few move, what they
    change is theirs), or the all-pupils count over the reasonable maximum, by ferry or by road
    on that side (alone and the programme: the scenario; a contribution: its baseline, the
    programme without it, run ``without``), which the rules' pupils are part of.

    Parameters
    ----------
    tables
        Published impact tables by (proposal, basis); the programme's is
        ``("programme", "programme")``.

    Returns
    -------
    set
        The own levels of the comparisons of ``tables`` that must be hidden.
    """
    return {
        level
        for level, imp, side in _level_sides(tables)
        if side == ("baseline" if level[1] == "contribution" else "scenario")
        and (
            _all_hidden(imp, ("moved_n",), "scenario") or _all_hidden(imp, _MITIGATION_LINKED, side)
        )
    }


def levels_hidden(tables: Mapping[tuple[str, str], ImpactTable]) -> set[tuple[str, str, str]]:
    """The mitigation levels ``(proposal, basis, run)`` whose all-pupils counts over the
    reasonable maximum, by ferry or by road the impact tables hide, on either side.

    A mitigation rule for journeys over the maximum counts those pupils (an escort for each
    ferry pupil over it): published beside a hidden count it gives the count back. The sides
    are the comparison's: ``baseline`` (``without`` for a contribution, whose baseline is the
    programme without the proposal) and ``scenario``.

    Parameters
    ----------
    tables
        Published impact tables by (proposal, basis); the programme's is
        ``("programme", "programme")``.

    Returns
    -------
    set
        The levels to hide (their non-zero rules and their total).
    """
    return {
        level
        for level, imp, side in _level_sides(tables)
        if _all_hidden(imp, _MITIGATION_LINKED, side)
    }


def _level_sides(
    tables: Mapping[tuple[str, str], ImpactTable],
) -> list[tuple[tuple[str, str, str], ImpactTable, str]]:
    """Each mitigation level ``(proposal, basis, run)`` with its impact table and side: a
    contribution's baseline is the programme without the proposal (run ``without``)."""
    return [
        ((p, b, "without" if (side, b) == ("baseline", "contribution") else side), imp, side)
        for (p, b), imp in tables.items()
        for side in ("baseline", "scenario")
    ]


def level_counts(
    tables: Mapping[tuple[str, str], ImpactTable],
) -> dict[tuple[str, ...], set[float]]:
    """The counts the impact tables publish on each mitigation level's side, any group.

    A mitigation rule's pupils may be exactly such a count (the escort rule: the pupils over
    the reasonable maximum who cross by ferry, which is the count over it less the count over it
    by road), so an intruder can take it from a level's published total and learn the rest.

    Parameters
    ----------
    tables
        Published impact tables by (proposal, basis); the programme's is
        ``("programme", "programme")``.

    Returns
    -------
    dict
        ``(proposal, basis, run)`` (``run``: ``baseline``, ``without`` for a contribution's
        baseline, ``scenario``) -> the published values of :data:`COUNT_METRICS` in every
        group on that side, with each group's count over the maximum less its count over it by
        road where both are published.
    """
    out: dict[tuple[str, ...], set[float]] = {}
    for level, imp, side in _level_sides(tables):
        known = out.setdefault(level, set())
        for gt in dict.fromkeys(imp.table["group_type"].astype(str)):
            for g in imp.groups(gt):
                got = {
                    m: c.value
                    for m in COUNT_METRICS
                    if imp.has(m)
                    and not (c := imp.cell(gt, g, m, side)).suppressed
                    and c.value is not None
                }
                known |= {float(v) for v in got.values()}
                if "over_threshold_n" in got and "over_threshold_road_n" in got:
                    known.add(float(got["over_threshold_n"] - got["over_threshold_road_n"]))
    return out


def _all_hidden(imp: ImpactTable, metrics: Sequence[str], side: str) -> bool:
    """Whether the table hides any of ``metrics``' all-pupils cell on ``side``."""
    g = all_group(imp)
    return any(imp.has(m) and imp.cell("all", g, m, side).suppressed for m in metrics)


def all_group(imp: ImpactTable) -> str:
    """The name of the all-pupils group (``"all"`` unless the table names it otherwise)."""
    gs = imp.groups("all")
    return gs[0] if gs else "all"


def group_table(
    imp: ImpactTable,
    group_type: str,
    id_: str,
    caption: str,
    metrics: Sequence[tuple[str, str]],
    *,
    change: bool = True,
    note: str = "",
) -> Table | None:
    """A table of ``metrics`` by the groups of ``group_type``, or None if there are none."""
    groups = imp.groups(group_type)
    if not groups:
        return None
    header: list[str] = [GROUP_TYPE_LABEL.get(group_type, group_type).capitalize()]
    spans: list[tuple[str, int]] = [("", 1)]
    used = [(m, lbl) for m, lbl in metrics if imp.has(m)]
    for _, lbl in used:
        sub = ["Baseline", "Scenario"] + (["Change"] if change else [])
        header += sub
        spans.append((lbl, len(sub)))
    rows = []
    for g in groups:
        cells: list[Cell] = [Cell(_group_label(group_type, g))]
        for m, _ in used:
            b, s, c = imp.row(group_type, g, m)
            cells += [b, s] + ([c] if change else [])
        rows.append(tuple(cells))
    if group_type == "need_type":
        key = _need_key(groups)
        note = f"{note} {key}".strip() if key else note
    return Table(id_, caption, tuple(header), tuple(rows), note, groups=tuple(spans))


def _need_key(codes: Sequence[str]) -> str:
    """Plain-English key for the SEN2 need codes in ``codes``."""
    from placeplan.needs import NEED_NAMES

    known = [c for c in codes if c in NEED_NAMES]
    if not known:
        return ""
    return "Primary need: " + "; ".join(f"{c} = {NEED_NAMES[c].lower()}" for c in known) + "."


def _group_label(group_type: str, group: str) -> str:
    if group_type == "imd_decile":
        try:
            return f"Decile {int(float(group))}"
        except ValueError:
            return group
    if group_type == "phase":
        return _PHASE_LABEL.get(group, group.replace("_", " "))
    if group_type == "ruc_class":
        return group.replace("_", " ").capitalize()
    return group.replace("_", " ")


def impact_table(impact: pd.DataFrame, *, threshold: int, round_to: int, mode: Mode) -> ImpactTable:
    """Return :class:`ImpactTable` of ``impact``, built once per content and settings.

    The report's sections and ``impact.csv`` publish the same tables; the cache makes the second
    use free and cannot change a figure (the key is a hash of the table's contents).
    """
    cols = [c for c in IMPACT_COLS if c in impact.columns]
    key = (
        int(pd.util.hash_pandas_object(impact.loc[:, cols], index=False).sum()),
        len(impact),
        threshold,
        round_to,
        mode,
    )
    if key not in _TABLES:
        if len(_TABLES) >= 64:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = ImpactTable(impact, threshold=threshold, round_to=round_to, mode=mode)
    return _TABLES[key]


_TABLES: dict[tuple[int, int, int, int, str], ImpactTable] = {}


def published_impact(
    impact: pd.DataFrame, *, threshold: int = 5, round_to: int = 0, mode: Mode = "published"
) -> pd.DataFrame:
    """Return the impact table exactly as the report publishes it, in long format.

    The same disclosure control as the report's tables (:func:`suppress` through the report's
    impact model), so ``impact.csv`` and the report always agree. Suppressed cells hold the
    marker ``"c"``; statistics that do not exist hold ``"x"``.

    Parameters
    ----------
    impact
        Long table ``group_type, group, metric, baseline, scenario, change``.
    threshold, round_to, mode
        Disclosure settings (see :func:`placeplan.publish.disclosure.suppress`).

    Returns
    -------
    table
        ``group_type, group, metric, baseline, scenario, change`` with values or markers.
    """
    return impact_long(impact_table(impact, threshold=threshold, round_to=round_to, mode=mode))


def impact_long(imp: ImpactTable) -> pd.DataFrame:
    """Lay a published :class:`ImpactTable` out in long format with markers (``impact.csv``).

    Parameters
    ----------
    imp
        The published impact table (the register's, so the report and the CSV share it).

    Returns
    -------
    table
        ``group_type, group, metric, baseline, scenario, change`` with values, ``c`` or ``x``.
    """
    rows = []
    whiches = ("baseline", "scenario", "change")
    keys = zip(imp.table["group_type"].tolist(), imp.table["group"].tolist(), strict=True)
    for i, (gt, g) in enumerate(keys):  # the table's arrays (the cells ``cell`` reads)
        for metric in imp.metrics:
            vals: list[str | float] = []
            for which in whiches:
                col = f"{metric}__{which}"
                k = imp._mask_at.get(col)
                v = float(imp._values[i, imp._value_at[col]])
                if k is not None and bool(imp._hidden[i, k]):
                    vals.append(SUPPRESSED_MARKER)
                elif math.isnan(v):
                    vals.append("x")
                else:
                    vals.append(round(v, 3))
            rows.append((gt, g, metric, *vals))
    return pd.DataFrame(rows, columns=list(IMPACT_COLS))
