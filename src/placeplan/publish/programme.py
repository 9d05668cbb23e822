"""Publishing a capital programme study: tables after disclosure control, the TOML fragment, files.

``placeplan optimise`` writes, into its output folder:

==============================  ===============================================================
``optimised-programme.toml``    the chosen programme as a ``[[scenario]]`` (``open_sites``) with
                                a ``[[scenario.site]]`` per site (opening year, places); name it
                                in the plan's ``[inputs] programmes`` and ``run`` models it
``programme.csv``               each chosen site: size, opening year, capital, financial year,
                                pupils placed, its marginal value (savings with minus without)
``budget_curve.csv`` / ``.svg`` the best savings at each budget step and the marginal value of £
``alternatives.csv``            the best and next-best distinct site sets (large models: the
                                best found with one chosen site ruled out, named in
                                ``ruled_out_site`` / ``ruled_out_name``)
``optimise_summary.txt``        objective, status, gap on savings, greedy heuristic beside it,
                                the chosen programme by site name
==============================  ===============================================================

Every pupil count (``pupils_placed``) passes :func:`placeplan.publish.disclosure.suppress`; the
savings of a row whose count is suppressed are suppressed with it.

Each programme in the curve and the alternatives is written twice: ``programme`` by site id
(what ``run`` and a re-used plan read) and ``programme_names`` by the sites' names (what a
capital board reads), in the same order. Names are the authority's own text: like every cell,
they go through :func:`placeplan.publish.tables.write_csv`'s formula escaping.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from placeplan.compute.programme import options_within_budget
from placeplan.compute.programme_demand import OBJECTIVES
from placeplan.publish.disclosure import apply_marker, suppress, suppression_mask
from placeplan.publish.report.render import fmt_gbp_k
from placeplan.publish.tables import write_csv
from placeplan.vocab import academic_year

if TYPE_CHECKING:
    from pathlib import Path

    from placeplan.compute.programme import ProgrammeInstance, ProgrammeSolution
    from placeplan.compute.programme_plan import ProgrammeStudy

__all__ = [
    "ProgrammeTables",
    "alternatives_note",
    "programme_tables",
    "programme_toml",
    "site_names",
    "summary_text",
    "write_programme",
]


@dataclass(frozen=True, slots=True)
class ProgrammeTables:
    """A programme study's published tables (after disclosure control) and headline figures.

    Attributes
    ----------
    programme, curve, alternatives
        Suppressed tables (``NaN`` where suppressed; :func:`suppression_mask` tells which).
    objective, unit
        The objective's name and unit.
    status, gap, savings, bound, greedy_savings
        The chosen programme's status, gap on savings, savings and bound, and the greedy
        heuristic's savings (suppressed to ``NaN`` with the programme's pupil count).
    """

    programme: pd.DataFrame
    curve: pd.DataFrame
    alternatives: pd.DataFrame
    objective: str
    unit: str
    status: str
    gap: float
    savings: float
    bound: float
    greedy_savings: float


def _pupils_placed(inst: ProgrammeInstance, sol: ProgrammeSolution) -> float:
    return float(sol.flows.sum())


def site_names(sites: pd.DataFrame) -> dict[str, str]:
    """Each candidate site's name as the programme columns print it, by ``site_id``.

    Parameters
    ----------
    sites
        The study's candidate sites: ``site_id`` and, optionally, ``name``.

    Returns
    -------
    dict of str to str
        The name on one line (runs of white space, line breaks included, as one space); the
        site's id where it has no name; ``"name [site_id]"`` where two sites share a name, so
        every site reads apart.
    """
    ids = sites["site_id"].astype(str).tolist() if "site_id" in sites else []
    raw = sites["name"].tolist() if "name" in sites else [None] * len(ids)
    names = [" ".join(str(n).split()) if isinstance(n, str) else "" for n in raw]
    shared = {n for n in names if n and names.count(n) > 1}
    return {
        sid: (f"{n} [{sid}]" if n in shared else n) if n else sid
        for sid, n in zip(ids, names, strict=True)
    }


def _describe(
    inst: ProgrammeInstance, opts: tuple[int, ...], names: dict[str, str] | None = None
) -> str:
    """A programme in one cell: each site (its id, or its name from ``names``), places and
    opening year, ``"; "`` between sites; ``"(none)"`` for doing nothing."""
    parts = []
    for o in opts:
        sid = inst.site_ids[int(inst.opt_site[o])]
        label = sid if names is None else names.get(sid, sid)
        year = int(inst.years[inst.opt_open[o]])
        parts.append(f"{label} ({int(inst.opt_places[o])} places, opens {academic_year(year)})")
    return "; ".join(parts) if parts else "(none)"


def _programme_frame(study: ProgrammeStudy) -> pd.DataFrame:
    inst, sol = study.instance, study.best
    names = study.sites.set_index(study.sites["site_id"].astype(str))
    rows = []
    for o in sol.options:
        j = int(inst.opt_site[o])
        sid = inst.site_ids[j]
        on = inst.arc_site == j
        rows.append(
            {
                "site_id": sid,
                "name": names["name"].get(sid, "") if "name" in names else "",
                "needs": names["needs"].get(sid, ""),
                "phases": names["phases"].get(sid, ""),
                "places": int(inst.opt_places[o]),
                "opening_year": int(inst.years[inst.opt_open[o]]),
                "capital_gbp": float(inst.opt_capital_gbp[o]),
                "financial_year": inst.fy_labels[int(inst.opt_fy[o])],
                "pupils_placed": float(sol.flows[on].sum()),
                "marginal_value": float(study.contributions.get(o, math.nan)),
            }
        )
    cols = [
        "site_id",
        "name",
        "needs",
        "phases",
        "places",
        "opening_year",
        "capital_gbp",
        "financial_year",
        "pupils_placed",
        "marginal_value",
    ]
    return pd.DataFrame(rows, columns=cols)


def _curve_frame(study: ProgrammeStudy) -> pd.DataFrame:
    inst = study.instance
    names = site_names(study.sites)
    rows = []
    for k, p in enumerate(study.curve, start=1):
        rows.append(
            {
                "step": k,
                "budget_gbp": p.budget_gbp,
                "budget_share": p.budget_scale,
                "savings": p.solution.objective,
                "status": p.solution.status,
                "gap": p.solution.gap,
                "marginal_per_100k_gbp": p.marginal_per_gbp * 100_000,
                "capital_gbp": p.solution.capital_gbp,
                "sites": len(p.solution.options),
                "pupils_placed": _pupils_placed(inst, p.solution),
                "programme": _describe(inst, p.solution.options),
                "programme_names": _describe(inst, p.solution.options, names),
            }
        )
    return pd.DataFrame(rows)


def _alternatives_frame(study: ProgrammeStudy) -> pd.DataFrame:
    inst = study.instance
    names = site_names(study.sites)
    best = study.best.objective
    rows = []
    sols = [("optimal", study.best), *(("alternative", a) for a in study.alternatives)]
    sols.append(("greedy heuristic", study.greedy))
    for rank, (kind, s) in enumerate(sols, start=1):
        ruled_out = getattr(s, "ruled_out_site", -1)  # large models' alternatives
        rows.append(
            {
                "rank": rank if kind != "greedy heuristic" else None,
                "kind": kind,
                "ruled_out_site": inst.site_ids[ruled_out] if ruled_out >= 0 else "",
                "ruled_out_name": names.get(inst.site_ids[ruled_out], inst.site_ids[ruled_out])
                if ruled_out >= 0
                else "",
                "savings": s.objective,
                "share_of_best": s.objective / best if best > 0 else math.nan,
                "status": s.status,
                "gap": s.gap,
                "capital_gbp": s.capital_gbp,
                "sites": len(s.options),
                "pupils_placed": _pupils_placed(inst, s),
                "programme": _describe(inst, s.options),
                "programme_names": _describe(inst, s.options, names),
            }
        )
    out = pd.DataFrame(rows)
    out["rank"] = out["rank"].astype("Int64")
    return out


def programme_tables(
    study: ProgrammeStudy,
    *,
    threshold: int = 5,
    round_to: int = 0,
    mode: Literal["published", "internal"] = "published",
) -> ProgrammeTables:
    """Return the study's tables after disclosure control (the only way they are published).

    Parameters
    ----------
    study
        :func:`placeplan.compute.programme_plan.optimise_plan` output.
    threshold, round_to, mode
        The plan's ``[disclosure]`` settings.

    Returns
    -------
    ProgrammeTables
        Tables with ``pupils_placed`` suppressed below ``threshold`` (programme rows also
        secondarily, as they add up to the programme's total) and ``savings`` /
        ``marginal_value`` suppressed with it.
    """
    kw = {"threshold": threshold, "round_to": round_to, "mode": mode}
    prog = suppress(
        _programme_frame(study),
        count_cols=["pupils_placed"],
        dependent_cols=["marginal_value"],
        secondary=True,
        **kw,  # type: ignore[arg-type]
    )
    curve = suppress(
        _curve_frame(study),
        count_cols=["pupils_placed"],
        dependent_cols=["savings", "marginal_per_100k_gbp"],
        secondary=False,
        **kw,  # type: ignore[arg-type]
    )
    alts = suppress(
        _alternatives_frame(study),
        count_cols=["pupils_placed"],
        dependent_cols=["savings", "share_of_best"],
        secondary=False,
        **kw,  # type: ignore[arg-type]
    )
    best_row = alts.iloc[0]
    greedy_row = alts.iloc[-1]
    return ProgrammeTables(
        programme=prog,
        curve=curve,
        alternatives=alts,
        objective=study.instance.objective,
        unit=OBJECTIVES[study.instance.objective],
        status=study.best.status,
        gap=study.best.gap,
        savings=float(best_row["savings"]),
        bound=study.best.bound if not math.isnan(float(best_row["savings"])) else math.nan,
        greedy_savings=float(greedy_row["savings"]),
    )


def programme_toml(study: ProgrammeStudy, *, name: str = "Optimised programme") -> str:
    """Return the chosen programme as plan TOML: a ``[[scenario]]`` and its ``[[scenario.site]]``.

    Name the file in the plan's ``[inputs] programmes`` (or paste it at the end of the plan)
    and ``placeplan run`` models the programme: the scenario opens the sites, each at its
    opening year with the chosen places (``places_by_year``) and their capital, in this scenario
    only; the snapshot, the per-proposal assessment, the flows and the report all use them.
    """
    inst, sol = study.instance, study.best
    sites = [inst.site_ids[int(inst.opt_site[o])] for o in sol.options]
    lines = [
        "# The capital programme chosen by `placeplan optimise` "
        f"(objective {inst.objective}, status {sol.status}, gap on savings {_pct(sol.gap)}).",
        "# To model it with `placeplan run`, name this file in the plan's [inputs] table, e.g.",
        '#     programmes = ["optimised-programme.toml"]   # path relative to plan.toml',
        "# (copy it beside the plan first, so a later `optimise` does not change what runs),",
        "# or paste it at the end of plan.toml. Each [[scenario.site]] sets one chosen site's",
        "# opening year, places (`places_by_year`) and capital for this scenario only.",
        "",
        "[[scenario]]",
        f"name = {_toml_str(name)}",
        'description = "Sites, sizes and opening years chosen by placeplan optimise within the '
        'capital budget per financial year in [optimise]."',
        "open_sites = [" + ", ".join(_toml_str(s) for s in sites) + "]",
        'movable = ["independent", "non_maintained", "out_of_area"]',
    ]
    for o in sol.options:
        year = int(inst.years[inst.opt_open[o]])
        lines += [
            "",
            "[[scenario.site]]",
            f"site_id = {_toml_str(inst.site_ids[int(inst.opt_site[o])])}",
            f"opening_year = {year}",
            f"places_by_year = {{ {year} = {int(inst.opt_places[o])} }}",
            f"capital_gbp = {float(inst.opt_capital_gbp[o])!r}",
        ]
    return "\n".join(lines) + "\n"


def _toml_str(text: str) -> str:
    """A TOML basic string for any text: JSON's escapes (quotes, backslashes, newlines and every
    other control character) are TOML's too; DEL, which JSON leaves as is, is escaped."""
    return json.dumps(str(text), ensure_ascii=False).replace("\x7f", "\\u007f")


def _pct(gap: float) -> str:
    return "unknown" if not math.isfinite(gap) else f"{gap:.2%}"


def summary_text(tables: ProgrammeTables, study: ProgrammeStudy) -> str:
    """Return the short plain-text summary: objective, status, gap, savings, greedy, times."""
    inst = study.instance
    budget = ", ".join(
        f"{fy} £{b:,.0f}" for fy, b in zip(inst.fy_labels, inst.budget_by_fy_gbp, strict=True)
    )

    def val(v: float) -> str:  # + 0.0: a solver's -0.0 prints as 0.00
        return "c (suppressed)" if math.isnan(v) else f"{v + 0.0:,.2f}"

    # the unit after each figure, e.g. " pupil-years" (the objective line says of what); £ net
    # saving says "£" in the objective line only, as its figures have no currency format here
    first = tables.unit.split(" ", 1)[0]
    short = "" if first == "£" else f" {first}"
    lines = [
        f"objective: {tables.objective} — {tables.unit} (doing nothing = 0)",
        f"budget by financial year: {budget}"
        + (" (unspent capital carries forward)" if inst.carry_forward else ""),
        f"status: {tables.status}",
        f"savings: {val(tables.savings)}{short}; proven upper bound: {val(tables.bound)}{short}",
        f"gap on savings: {_pct(tables.gap)} ((bound - savings) / savings)",
        f"capital spent: £{study.best.capital_gbp:,.0f} of £{inst.total_budget_gbp:,.0f}",
        f"greedy heuristic: {val(tables.greedy_savings)}{short}",
        f"chosen programme: {_describe(inst, study.best.options, site_names(study.sites))}",
        f"alternatives: {alternatives_note(study)}",
        *_budget_note(inst),
        f"model: {len(inst.row_count)} demand rows, {len(inst.opt_site)} options "
        f"(site x size x opening year), {len(inst.arc_row)} assignments",
        *_reduction_note(study),
        "times (s): " + ", ".join(f"{k} {v:.2f}" for k, v in study.timings_s.items()),
    ]
    return "\n".join(lines) + "\n"


def alternatives_note(study: ProgrammeStudy) -> str:
    """Return how many alternatives were found against how many were asked, and why fewer.

    Parameters
    ----------
    study
        The computed study.

    Returns
    -------
    str
        E.g. ``"5 of 5 asked (`optimise.alternatives`)"``, or the count with the reason the
        list is shorter than asked.
    """
    n, asked = len(study.alternatives), study.alternatives_asked
    if asked is None:
        return f"{n} found"
    head = f"{n} of {asked} asked (`optimise.alternatives`)"
    if n >= asked:
        return head
    stop = study.alternatives_stop
    if stop == "heuristic":
        why = (
            "at this model's size each alternative is the best programme found with one chosen "
            "site ruled out, and no further distinct site set turned up"
        )
    elif stop == "time_limit":
        why = (
            "the next solve stopped at its time limit with no programme: raise "
            "`optimise.time_limit_s`"
        )
    elif stop == "exhausted" and n == 0 and not study.best.options:
        why = "only doing nothing fits the budget"
    elif stop == "exhausted":
        why = (
            f"no further distinct site set fits the budget: these are all {n + 1} that do "
            "(the best included, doing nothing counts as one)"
        )
    else:
        return head
    return f"{head}; fewer because {why}"


def _reduction_note(study: ProgrammeStudy) -> list[str]:
    """A line saying so when the model offered each demand row only its nearest sites."""
    if study.nearest_sites is None:
        return []
    return [
        f"reduced model: each demand row offered only its {study.nearest_sites} nearest "
        "site(s) (`optimise.nearest_sites`); status, bound and gap are on this reduced model, "
        "so a programme using farther sites may save more (unset it for the exact model)"
    ]


def _budget_note(inst: ProgrammeInstance) -> list[str]:
    """A line saying so when no option fits the budget (the programme can only be empty)."""
    if not len(inst.opt_site) or options_within_budget(inst).any():
        return []
    o = int(np.argmin(inst.opt_capital_gbp))
    return [
        f"note: no site, size and opening year fits the budget (`optimise.budget_by_fy_gbp`): "
        f"the cheapest costs £{inst.opt_capital_gbp[o]:,.0f} in "
        f"{inst.fy_labels[int(inst.opt_fy[o])]}; raise the budget or offer cheaper sizes "
        "(`optimise.sizes`)"
    ]


def _money(gbp: float) -> str:
    """A budget as a short axis label: £2.40m, £400k, £1 (a £1 budget is not "£0.00m"), as
    the report writes money (:func:`~placeplan.publish.report.render.fmt_gbp_k`)."""
    return fmt_gbp_k(gbp)


def curve_svg(tables: ProgrammeTables) -> str:
    """Return the budget curve as an SVG bar chart (savings at each budget step)."""
    from placeplan.publish.report.charts import bar_chart
    from placeplan.publish.report.model import Cell

    c = tables.curve
    mask = suppression_mask(c)
    cells = [
        Cell(
            None if bool(mask["savings"].iloc[i]) else float(v),
            "number",
            bool(mask["savings"].iloc[i]),
        )
        for i, v in enumerate(c["savings"])
    ]
    labels = [_money(b) for b in c["budget_gbp"]]
    return bar_chart(
        labels,
        [("Best programme", "#1d70b8", cells)],
        y_label=tables.unit.split(" ", 1)[0],
        value_fmt="number",
        title="Budget curve: best savings at each budget",
    )


def write_programme(
    study: ProgrammeStudy,
    out_dir: Path,
    *,
    threshold: int = 5,
    round_to: int = 0,
    mode: Literal["published", "internal"] = "published",
) -> dict[str, Path]:
    """Write the programme, curve (CSV + SVG), alternatives and summary into ``out_dir``.

    Parameters
    ----------
    study
        The computed study.
    out_dir
        Output folder (created if missing).
    threshold, round_to, mode
        Disclosure control (the plan's ``[disclosure]``).

    Returns
    -------
    dict of str to Path
        Every file written, by short name.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = programme_tables(study, threshold=threshold, round_to=round_to, mode=mode)
    written = {
        "programme_toml": out_dir / "optimised-programme.toml",
        "programme": out_dir / "programme.csv",
        "budget_curve": out_dir / "budget_curve.csv",
        "budget_curve_svg": out_dir / "budget_curve.svg",
        "alternatives": out_dir / "alternatives.csv",
        "summary": out_dir / "optimise_summary.txt",
    }
    _write_text(written["programme_toml"], programme_toml(study))
    write_csv(apply_marker(_rounded(tables.programme)), written["programme"])
    write_csv(apply_marker(_rounded(tables.curve)), written["budget_curve"])
    svg = curve_svg(tables)
    _write_text(written["budget_curve_svg"], '<?xml version="1.0" encoding="UTF-8"?>\n' + svg)
    write_csv(apply_marker(_rounded(tables.alternatives)), written["alternatives"])
    _write_text(written["summary"], summary_text(tables, study))
    return written


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    """Pounds to whole pounds, shares and gaps to 4 decimals, other figures (a rate per £, such
    as ``marginal_per_100k_gbp``, included) to 2 (mask kept)."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        pounds = col.endswith("_gbp") and "_per_" not in col
        digits = 0 if pounds else 4 if col in ("gap", "share_of_best") else 2
        out[col] = out[col].round(digits) + 0.0  # + 0.0: no "-0.0" from a solver's -0
    out.attrs = dict(df.attrs)
    return out


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
