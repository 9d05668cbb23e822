"""The declarations of published tables: each table's counts, statistics and groupings, once.

Each entry of :data:`REGISTER` is a :class:`Declaration`: the table's count columns, the
statistics computed from them (means, shares, normalised scores, contributions, totals), the
groupings whose members add up to a published total (secondary suppression), and which outputs
carry it. :func:`suppress_declared` suppresses a table as declared. How a run's tables are
decided together across tables is :mod:`placeplan.publish.register`'s (``release_run``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from placeplan.publish.disclosure import Published, suppress_table
from placeplan.publish.report.impact import COUNT_METRICS

__all__ = ["REGISTER", "SITE_SCORE_COUNTS", "Declaration", "suppress_declared"]


@dataclass(frozen=True)
class Declaration:
    """How one published table is disclosure-controlled.

    Attributes
    ----------
    name
        The table's name in :data:`REGISTER`.
    count_cols
        Columns holding counts of pupils (hidden when above 0 and under the threshold).
    dependent_cols
        ``{column: count columns it is computed from}``: hidden wherever a source is hidden.
    groupings
        Lists of columns whose values define groups adding up to a published total; ``()`` is
        the whole table as one group. Empty: no secondary suppression.
    outputs
        The published files and report parts that carry the table.
    note
        Why the declaration is what it is.
    """

    name: str
    count_cols: tuple[str, ...]
    dependent_cols: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groupings: tuple[tuple[str, ...], ...] = ()
    outputs: tuple[str, ...] = ()
    note: str = ""


#: The count columns of ``site_scores`` (candidate catchments overlap: they add up to nothing).
SITE_SCORE_COUNTS = ("pupils_in_reach", "need_in_reach", "ooa_avoidable", "pupils_benefiting")

_SCORE_DEPS: dict[str, tuple[str, ...]] = {
    "need_norm": ("need_in_reach",),
    "need_contrib": ("need_in_reach",),
    "ooa_norm": ("ooa_avoidable",),
    "ooa_contrib": ("ooa_avoidable",),
    "time_saved_min": ("pupils_benefiting",),
    "time_saved_norm": ("pupils_benefiting",),
    "time_saved_contrib": ("pupils_benefiting",),
    # the score is the sum of the contributions: every other contribution can be rebuilt from
    # published inputs, so a hidden contribution hides the score
    "score": ("need_in_reach", "ooa_avoidable", "pupils_benefiting"),
    # the rank puts the score between its neighbours' published scores: hidden with it
    "rank": ("need_in_reach", "ooa_avoidable", "pupils_benefiting"),
    "min_rank": ("need_in_reach", "ooa_avoidable", "pupils_benefiting"),
    "max_rank": ("need_in_reach", "ooa_avoidable", "pupils_benefiting"),
}

#: Every table a run publishes, by name.
REGISTER: Mapping[str, Declaration] = {
    d.name: d
    for d in (
        Declaration(
            "impact",
            count_cols=COUNT_METRICS,
            dependent_cols={"over_threshold_pct": ("over_threshold_n", "pupils")},
            groupings=(("group_type",),),
            outputs=("impact.csv", "report sections 1-3, 4, 7", "report headline"),
            note="metrics x (baseline, scenario, change), laid out wide by "
            "publish.report.impact.ImpactTable; other statistics depend on pupils; a change "
            "depends on both its counts; the all-pupils row is every grouping's total",
        ),
        Declaration(
            "flows",
            count_cols=("cohort", "placed", "out_of_area", "independent_non_maintained", "..."),
            dependent_cols={"out_of_area_pct": ("out_of_area", "placed"), "...": ()},
            groupings=(("identities of publish.flows.IDENTITIES",),),
            outputs=("flows.csv", "report section 3a"),
            note="decided by publish.flows.published_flows (identities, audit, rounding); the "
            "placements:* parts are not published",
        ),
        Declaration(
            "mitigations",
            count_cols=("pupils",),
            dependent_cols={"annual_cost_gbp": ("pupils",)},
            groupings=(("scenario", "proposal", "basis", "run"),),
            outputs=("mitigations.csv", "report sections 4 and 4a"),
            note="today's cohort, decided by publish.mitigations.published_mitigations as one "
            "year of mitigations_by_year: per level (scenario, proposal, basis, run) every rule "
            "shown or only the All rules total; a change hidden with either level",
        ),
        Declaration(
            "mitigations_by_year",
            count_cols=("pupils", "pupils_lower", "pupils_upper"),
            dependent_cols={"annual_cost_gbp": ("pupils",), "...": ()},
            groupings=(("scenario", "proposal", "basis", "run", "year"),),
            outputs=("mitigations_by_year.csv", "report section 4"),
            note="decided by publish.mitigations.published_mitigations_by_year: per level "
            "(scenario, proposal, basis, run, year) every rule row shown when each is 0 or at "
            "least the threshold, else only the All rules total and the rule rows withheld; the "
            "total's £ hidden where with its pupils it would pin a rule; a change hidden with "
            "either level",
        ),
        Declaration(
            "areas",
            count_cols=("pupils", "moved"),
            dependent_cols={
                "baseline_mean_time_min": ("pupils",),
                "scenario_mean_time_min": ("pupils", "moved"),
            },
            groupings=(("planning_area",), ("layer",)),
            outputs=("layers.gpkg:areas_journey_times", "journey-time map popups"),
            note="LSOAs add up to the impact table's planning areas and to all pupils; only the "
            "pupils who move change journey, so pupils x (scenario mean - baseline mean) is the "
            "movers' total change: the scenario mean is hidden with a hidden count of movers "
            "(``moved``, never published itself)",
        ),
        Declaration(
            "sites",
            count_cols=("pupils_served",),
            dependent_cols={"mean_time_saved_min": ("pupils_served",), "score": (), "rank": ()},
            groupings=(("selected",),),
            outputs=("layers.gpkg:candidate_sites", "site map popups", "report site table"),
            note="score and rank hidden where site_scores hides them (one decision per quantity)",
        ),
        Declaration(
            "site_scores",
            count_cols=SITE_SCORE_COUNTS,
            dependent_cols=_SCORE_DEPS,
            outputs=("site_scores.csv", "report site table and case for each site"),
            note="no secondary suppression: catchments overlap, the counts add up to nothing; "
            "score_low/score_high/rank_best/rank_worst are computed from published cells only "
            "(publish.site_ranges), so they are not declared",
        ),
        Declaration(
            "ooa_flows",
            count_cols=("baseline", "scenario"),
            dependent_cols={"change": ("baseline", "scenario")},
            groupings=(
                ("origin_id",),
                ("destination_id",),
                ("ooa_subset",),
                ("ind_subset",),
                ("origin_ooa",),
                ("origin_ind",),
            ),
            outputs=("site map flows", "report out-of-area flow table", "report setting table"),
            note="one frame of home area -> setting flows and, per setting, their total (the "
            "report's table by setting): a setting's flows and its total are one group; the "
            "out-of-area settings (and the independent / non-maintained ones) add up to the "
            "impact table's totals, and a home area's flows to them to its impact-table cells, "
            "which join as total rows (hidden where the impact table hides them); baseline and "
            "scenario hidden together for a setting and for a flow from a home area with fewer "
            "than the threshold of movers",
        ),
        Declaration(
            "time_bands",
            count_cols=("baseline", "scenario"),
            groupings=(("part",),),
            outputs=("report journey-time bands",),
            note="the bands add up to all pupils (the impact table's total joins as a total "
            "row); where the bands from the shortest reasonable maximum up hold exactly the "
            "pupils over it, they and the bands below are two groups whose totals are the "
            "impact table's over_threshold_n and pupils minus it (hidden where it hides them)",
        ),
        Declaration(
            "row_accounting",
            count_cols=("rows_rejected",),
            dependent_cols={"rows_used": ("rows_rejected",)},
            outputs=("report method section",),
        ),
    )
}


def suppress_declared(
    name: str,
    df: pd.DataFrame,
    *,
    threshold: int,
    round_to: int,
    mode: str,
    total_rows: pd.Series | None = None,
    force: pd.DataFrame | None = None,
    pairs: Sequence[tuple[str, str, pd.Series]] | None = None,
) -> Published:
    """Suppress ``df`` as :data:`REGISTER` declares table ``name``.

    Declared columns the frame lacks are skipped (a table built without an optional column).

    Parameters
    ----------
    name
        A key of :data:`REGISTER`.
    df
        The raw (unsuppressed) table.
    threshold, round_to, mode
        The plan's disclosure settings.
    total_rows, force, pairs
        As for :func:`~placeplan.publish.disclosure.suppress_table`.

    Returns
    -------
    Published
        Values and mask.
    """
    d = REGISTER[name]
    cols = set(df.columns)
    counts = [c for c in d.count_cols if c in cols]
    deps = {k: [s for s in v if s in cols] for k, v in d.dependent_cols.items() if k in cols}
    groupings = [list(g) for g in d.groupings if set(g) <= cols]
    return suppress_table(
        df,
        count_cols=counts,
        threshold=threshold,
        round_to=round_to,
        mode="internal" if mode == "internal" else "published",
        dependent_cols=deps,
        group_cols=groupings or None,
        secondary=bool(groupings),
        total_rows=total_rows,
        force=force,
        pairs=pairs,
    )
