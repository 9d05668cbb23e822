"""What every report section shares: the disclosure-controlled tables and the map settings.

:func:`build_context` runs disclosure control once over the report's inputs; each section then
reads the published copies from the :class:`ReportContext` it is given, so no section can reach an
unsuppressed count by accident (the raw inputs stay on :class:`ReportInputs` for the few tables
that re-aggregate before suppressing, such as out of area placements by setting).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from placeplan.publish.report.impact import all_group
from placeplan.vocab import academic_year

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from placeplan.publish.disclosure import Published
    from placeplan.publish.report.impact import ImpactTable
    from placeplan.publish.report.model import Mode, ReportInputs

__all__ = [
    "PlanFacts",
    "ReportContext",
    "academic_year",
    "basemap_areas",
    "build_context",
    "plan_facts",
    "published_provision",
]


@dataclass(frozen=True)
class PlanFacts:
    """What the report's wording reads from the plan file itself (``ReportInputs.plan_toml``).

    Attributes
    ----------
    census_date
        ``[plan] census_date`` (None when the plan text does not give it).
    base_year
        ``[flows] base_year``: the start of the academic year the flow model labels the
        baseline (None when the plan text does not give it).
    flows_sites
        Site ids with a ``[[flows.site]]`` entry (an opening year the plan chose).
    scenario_sites
        Scenario name -> site ids with a ``[[scenario.site]]`` entry in that scenario.
    scenarios
        Names of the plan's ``[[scenario]]`` tables (a programme file's scenario is not one).
    scenario_open
        Scenario name -> its ``open_sites`` as the plan lists them (not given for a scenario
        that uses the optimised sites: those are chosen at run time).
    opening_years
        Site id -> ``opening_year`` of its ``[[flows.site]]`` entry (the last one for a site).
    worse_off_min
        ``[thresholds] worse_off_min``: a journey longer by more than this is "longer".
    """

    census_date: dt.date | None = None
    base_year: int | None = None
    flows_sites: frozenset[str] = frozenset()
    scenario_sites: dict[str, frozenset[str]] = field(default_factory=dict)
    scenarios: frozenset[str] = frozenset()
    worse_off_min: float = 5.0
    scenario_open: dict[str, tuple[str, ...]] = field(default_factory=dict)
    opening_years: dict[str, int] = field(default_factory=dict)

    @property
    def census_year(self) -> int | None:
        """Start of the academic year of the census (January 2026 -> 2025), None unknown."""
        if self.census_date is None:
            return None
        d = self.census_date
        return d.year if d.month >= 9 else d.year - 1

    def census_phrase(self, first_year: str) -> str:
        """``"the January 2026 census (academic year 2025/26)"``, from ``census_date``; without
        it, from the flows' first year ``first_year`` (``"2025/26"``)."""
        d = self.census_date
        if d is None:
            start = int(first_year[:4])
            return f"the January {start + 1} census (academic year {first_year})"
        month = d.strftime("%B")
        return f"the {month} {d.year} census (academic year {academic_year(self.census_year or 0)})"

    def base_year_note(self) -> str:
        """One sentence when the census's academic year is not ``[flows] base_year``; else ''."""
        if self.census_year is None or self.base_year is None:
            return ""
        if self.census_year == self.base_year:
            return ""
        return (
            f"The cohort is {self.census_phrase('')}, but the year-by-year model labels it "
            f"{academic_year(self.base_year)} ([flows] base_year = {self.base_year}) and counts "
            "every later year from there."
        )

    def opening_chosen(self, scenario: str, site_id: str) -> bool | None:
        """Whether the plan gives ``site_id`` an opening year in ``scenario``: True (a
        ``[[flows.site]]`` or ``[[scenario.site]]`` entry), False (no entry: the model assumed
        the first September after the baseline), None (not known: the scenario is not one of
        the plan's, e.g. a programme file's, which carries its own opening years)."""
        if scenario not in self.scenarios:
            return None
        return site_id in self.flows_sites or site_id in self.scenario_sites.get(scenario, ())

    def assumed_opening(self, scenario: str) -> str:
        """The opening year the model assumes for a site the plan gives none (the first
        September after the baseline: ``[flows] base_year`` + 1), as ``"2026/27"``; '' when
        the plan text is not known."""
        return "" if self.base_year is None else academic_year(self.base_year + 1)

    def sentence_for_assumed(self, scenario: str, names: list[str]) -> str:
        """One sentence naming the sites of ``scenario`` whose opening year was not chosen
        (``names``, already labelled), or '' when there are none."""
        if not names or not self.assumed_opening(scenario):
            return ""
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (
            f"{scenario}: no opening year in the plan for {listed}: assumed "
            f"{self.assumed_opening(scenario)}, the first September after the baseline (give "
            "each an opening_year in a [[flows.site]] entry to choose it)."
        )


def plan_facts(plan_toml: str) -> PlanFacts:
    """Read :class:`PlanFacts` from the plan file's text (defaults where a key is not given).

    Parameters
    ----------
    plan_toml
        The plan file text (``ReportInputs.plan_toml``); empty or unreadable: no facts.

    Returns
    -------
    PlanFacts

    Examples
    --------
    >>> f = plan_facts('[plan]\\ncensus_date = "2026-01-15"\\n[flows]\\nbase_year = 2025\\n')
    >>> f.census_phrase("2025/26"), f.base_year_note()
    ('the January 2026 census (academic year 2025/26)', '')
    """
    try:
        doc = tomllib.loads(plan_toml) if plan_toml.strip() else {}
    except tomllib.TOMLDecodeError:
        doc = {}
    if not doc:
        return PlanFacts()
    plan, flows = doc.get("plan", {}), doc.get("flows", {})
    # only what the plan states: a default is the config's to give (and may change)
    raw = plan.get("census_date")
    try:
        census = raw if isinstance(raw, dt.date) or raw is None else dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        census = None
    base = flows.get("base_year")
    scen = [s for s in doc.get("scenario", []) if isinstance(s, dict) and "name" in s]
    return PlanFacts(
        census_date=census,
        base_year=base if isinstance(base, int) else None,
        flows_sites=frozenset(str(s.get("site_id")) for s in flows.get("site", [])),
        scenario_sites={
            str(s["name"]): frozenset(str(x.get("site_id")) for x in s.get("site", []))
            for s in scen
        },
        scenarios=frozenset(str(s["name"]) for s in scen),
        worse_off_min=float(doc.get("thresholds", {}).get("worse_off_min", 5.0)),
        opening_years={
            str(s.get("site_id")): int(s["opening_year"])
            for s in flows.get("site", [])
            if isinstance(s.get("opening_year"), int)
        },
        scenario_open={
            str(s["name"]): tuple(str(x) for x in s.get("open_sites", ())) for s in scen
        },
    )


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Disclosure-controlled tables and settings shared by the report's sections.

    Attributes
    ----------
    threshold, round_to, mode
        Disclosure settings (see :func:`placeplan.publish.disclosure.suppress`).
    impact
        The published impact table.
    all_group
        Name of the all-pupils group in ``impact``.
    areas, sites, flows, mitigations, time_bands, row_accounting
        Suppressed copies of the inputs of the same name (None when not given).
    map_options
        Keyword arguments both report maps are drawn with (basemap, banners, attribution).
    placement_flows
        The published year-by-year flow table (:func:`placeplan.publish.flows.published_flows`
        of ``inputs.flows``; None when not given), the same numbers as ``flows.csv``.
    site_scores
        The published site scores (the numbers of ``site_scores.csv``), None when not given.
    ooa_settings
        Out-of-area and independent placements by setting, decided with ``flows``.
    mitigations_by_year
        The published year-by-year mitigation table
        (:func:`placeplan.publish.mitigations.published_mitigations_by_year`), the numbers of
        ``mitigations_by_year.csv``; None without it.
    mitigation_levels
        Today's cohort's mitigation levels of every comparison (the register's
        :attr:`~placeplan.publish.register.Release.mitigation_levels`, the numbers of
        ``mitigations.csv``; the proposal pages read them); None without them.
    """

    threshold: int
    round_to: int
    mode: Mode
    impact: ImpactTable
    all_group: str
    areas: pd.DataFrame | None
    sites: pd.DataFrame | None
    flows: pd.DataFrame | None
    mitigations: pd.DataFrame | None
    time_bands: pd.DataFrame | None
    row_accounting: pd.DataFrame | None
    map_options: dict[str, Any]
    placement_flows: pd.DataFrame | None = None
    site_scores: pd.DataFrame | None = None
    ooa_settings: pd.DataFrame | None = None
    mitigations_by_year: pd.DataFrame | None = None
    mitigation_levels: pd.DataFrame | None = None

    @property
    def internal(self) -> bool:
        """True in internal mode (small numbers not suppressed)."""
        return self.mode == "internal"


def build_context(inputs: ReportInputs) -> ReportContext:
    """Give every section the run's disclosure-controlled tables, decided once.

    The tables come from ``inputs.release`` (the run's :func:`placeplan.publish.register.
    release_run`, shared with ``impact.csv``, ``flows.csv``, ``site_scores.csv`` and the
    GeoPackage); without one, :func:`~placeplan.publish.register.release_run` is applied to
    these inputs alone, with the same declarations.

    Parameters
    ----------
    inputs
        The report's inputs.

    Returns
    -------
    ReportContext
        The published tables and shared settings.
    """
    # the register imports the report's impact model: import it here, not at module level
    from placeplan.publish.register import release_run

    th, rnd, mode = inputs.disclosure_threshold, inputs.disclosure_round_to, inputs.mode
    rel = inputs.release
    if rel is None:
        rel = release_run([inputs])[inputs.scenario_name]
    note = "SYNTHETIC pupil cohort — not real children" if inputs.synthetic_data else None
    attribution = (
        "; ".join(line.strip() for line in inputs.attributions.splitlines() if line.strip()) or None
    )
    map_options: dict[str, Any] = {
        "outline": inputs.outline,
        "roads": inputs.roads,
        "internal": mode == "internal",
        "note": note,
        "attribution": attribution,
        "threshold": th,
    }
    if inputs.region is not None:
        map_options["region"] = inputs.region

    def frame(pub: Published | None, raw: pd.DataFrame | None) -> pd.DataFrame | None:
        # a table without its declared counts (e.g. areas without pupils) has nothing to hide
        return pub.frame() if pub is not None else raw

    return ReportContext(
        threshold=th,
        round_to=rnd,
        mode=mode,
        impact=rel.impact,
        all_group=all_group(rel.impact),
        areas=frame(rel.areas, inputs.areas),
        sites=frame(rel.sites, inputs.sites),
        flows=frame(rel.ooa_flows, None),
        mitigations=frame(rel.mitigations, None),
        time_bands=frame(rel.time_bands, None),
        row_accounting=frame(rel.row_accounting, None),
        map_options=map_options,
        placement_flows=rel.flows,
        site_scores=frame(rel.site_scores, None),
        ooa_settings=frame(rel.ooa_settings, None),
        mitigations_by_year=rel.mitigations_by_year,
        mitigation_levels=frame(rel.mitigation_levels, None),
    )


def _has(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and col in df.columns


def published_provision(provision: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Keep only non-personal provision columns (capacity, not on-roll counts)."""
    if provision is None:
        return None
    keep = [
        c
        for c in ("setting_id", "name", "provision_type", "in_area", "capacity", "geometry")
        if c in provision.columns
    ]
    return provision[keep]


def basemap_areas(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Area outlines only (no counts), for the site map's backdrop."""
    if areas is None:
        return None
    return areas[["area_id", "geometry"]].copy()
