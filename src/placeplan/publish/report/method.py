"""The report's method section: the parameters table and the assumptions, in plain English.

Prose about the run, built from the plan and the computed results (never pupil-level values; the
only counts are pupils without a journey, given as "fewer than <threshold>" when small).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.publish.report.prose import prose
from placeplan.vocab import academic_year

if TYPE_CHECKING:
    from placeplan.compute.scenario import ScenarioResult
    from placeplan.config import PlanConfig

__all__ = ["assumptions", "parameters"]


def parameters(plan: PlanConfig, speed_rows: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The parameters table of the method section: ``(name, value, basis)`` rows.

    Parameters
    ----------
    plan
        The plan used for the run.
    speed_rows
        ``(label, value)`` rows of the speed model actually used.

    Returns
    -------
    list of tuple
        Rows in report order: network, thresholds and costs, ferry links, disclosure,
        projection and budget.
    """
    t, c, n = plan.thresholds, plan.costs, plan.network
    rows: list[tuple[str, str, str]] = [
        (label, value, "speed model (configurable in [network])") for label, value in speed_rows
    ]
    rows += [
        (
            "Fixed allowance per journey",
            f"{n.fixed_allowance_min:g} min",
            "kerbside, loading and parking",
        ),
        (
            "Snapping limit",
            f"{n.max_snap_m:g} m",
            "points further from a drivable road are flagged",
        ),
        (
            "Reasonable maximum journey",
            f"primary {t.max_journey_primary_min:g} min, "
            f"secondary {t.max_journey_secondary_min:g} min; post-16 and any other phase: the "
            f"longer of the two "
            f"({max(t.max_journey_primary_min, t.max_journey_secondary_min):g} min)",
            "DfE home-to-school travel and transport guidance (2014) best-practice maxima",
        ),
        (
            "Statutory walking distance",
            f"{t.walking_distance_under8_miles:g} miles under 8, "
            f"{t.walking_distance_8plus_miles:g} miles 8+",
            "Education Act 1996 s.444 and Schedule 35B",
        ),
        ("Worse off", f"journey longer by more than {t.worse_off_min:g} min", "plan setting"),
        ("School days a year", f"{t.school_days}", "England school year"),
        (
            "Transport cost",
            f"£{c.transport_cost_per_mile_gbp:,.2f} per pupil-mile, 2 journeys a day",
            "calibrated to stated spend" if c.annual_send_transport_spend_gbp else "plan setting",
        ),
    ]
    rows += [
        (
            f"Placement cost: {k.replace('_', ' ')}",
            f"£{v:,.0f} per place per year",
            "fallback where a setting has none",
        )
        for k, v in sorted(c.placement_per_place_gbp.items())
    ]
    return rows + _later_rows(plan)


def _later_rows(plan: PlanConfig) -> list[tuple[str, str, str]]:
    """Parameter rows after the costs: ferry links, disclosure, projection, budget."""
    d, n = plan.disclosure, plan.network
    rows: list[tuple[str, str, str]] = []
    for link in n.ferry_links:
        rows.append(
            (
                f"Fixed link: {link.name}",
                f"{link.wait_min:g} min wait + {link.crossing_min:g} min crossing",
                "operator timetable (rounded); plan setting",
            )
        )
    if n.ferry_links:
        rows.append(
            (
                "Beyond the fixed link",
                f"straight line × {n.mainland_circuity:g} at {n.mainland_speed_kph:g} km/h",
                "no road network beyond the link ships with the plan",
            )
        )
    rows.append(
        (
            "Disclosure control",
            f"counts under {d.threshold} suppressed ('c'), secondary suppression"
            + (f", rounded to nearest {d.round_to}" if d.round_to else ""),
            "DfE statistics practice",
        )
    )
    fl = plan.flows
    rows.append(
        (
            "Placement flows",
            f"{academic_year(fl.base_year)} to {academic_year(fl.horizon_year)}; breakdown rate "
            f"{fl.breakdown_rate:.0%} a year; settled pupils who may move: {fl.movers}",
            "new plans: the DfE EHCP release forecast"
            if plan.inputs.sen2_release is not None
            else f"new plans: {fl.new_plans_rate:.0%} of the cohort a year (plan setting)",
        )
    )
    if plan.selection.budget_gbp:
        rows.append(
            (
                "Capital budget for optimised selection",
                f"£{plan.selection.budget_gbp:,.0f}",
                "plan [selection]",
            )
        )
    return rows


def _published_count(n: int, threshold: int) -> str:
    """A count for prose: 'fewer than <threshold>' when it would be suppressed in a table."""
    return f"fewer than {threshold}" if 0 < n < threshold else f"{n:,}"


def assumptions(plan: PlanConfig, result: ScenarioResult, baseline: pd.DataFrame) -> list[str]:
    """The assumptions of this run, one sentence group each (wording in ``method.txt.j2``).

    Parameters
    ----------
    plan
        The plan used for the run.
    result
        The scenario compared with the baseline (which provision types may move, how far).
    baseline
        Baseline journeys with a ``status`` column; only counts of unreachable pupils and of
        pupils with no setting are read, published as "fewer than <threshold>" when small.

    Returns
    -------
    list of str
        Plain-text assumptions, in report order.
    """
    sc = result.scenario
    th = plan.disclosure.threshold if plan.disclosure.mode == "published" else 1
    unreachable = int((baseline["status"] == "unreachable").sum())
    no_setting = int((baseline["status"] == "no_setting").sum())
    out = []
    if unreachable or no_setting:
        out.append(
            prose(
                "method",
                "no_journey",
                unreachable=_published_count(unreachable, th),
                no_setting=_published_count(no_setting, th),
                max_snap_m=f"{plan.network.max_snap_m:g}",
            )
        )
    out += [
        prose("method", "baseline"),
        prose(
            "method",
            "scenario",
            movable=", ".join(sorted(sc.movable)).replace("_", " "),
            max_extra_min=f"{sc.max_extra_journey_min:g}",
        ),
        prose("method", "transport_cost"),
        prose("method", "planning_areas"),
        prose("method", "out_of_area"),
    ]
    if plan.network.ferry_links:
        out.append(prose("method", "ferry"))
    if plan.plan.synthetic_pupils:
        out.append(prose("method", "synthetic"))
    return out
