"""The ``placeplan optimise`` subcommand: the capital programme a board would choose.

Wire it into ``cli.py`` with::

    from placeplan._optimise_cli import add_optimise_parser
    add_optimise_parser(subparsers)   # sets func=optimise_command

Reads the plan's ``[optimise]`` table, runs the inputs, journeys and baseline placement flows,
and writes the programme (a TOML fragment ``run`` can use), the budget curve (CSV and SVG), the
alternatives and a summary (:mod:`placeplan.publish.programme`). Bad input raises a
``PlaceplanError``, which ``cli.main`` prints as one line naming the plan key, with exit 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

__all__ = ["add_optimise_parser", "optimise_command"]


def add_optimise_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``optimise`` subcommand to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "optimise",
        help="choose the capital programme (sites, sizes, opening years) within the budget; "
        "budget curve and alternatives",
        description=(
            "Choose sites, sizes and opening years within the capital budget per financial year "
            "in the plan's [optimise] table, for future demand from the placement flows; write "
            "the programme, the budget curve and near-optimal alternatives."
        ),
    )
    p.add_argument("plan", type=Path)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: <plan output_dir>-optimise, beside the run's outputs)",
    )
    p.set_defaults(func=optimise_command)
    return p


def optimise_command(args: argparse.Namespace) -> int:
    """Run ``placeplan optimise``; returns 0 (errors propagate as ``PlaceplanError``)."""
    from placeplan.compute.programme_plan import check_budget_years, optimise_plan
    from placeplan.config import load_plan
    from placeplan.prepare.inputs import prepare
    from placeplan.prepare.validate import check_output_dir
    from placeplan.publish.programme import alternatives_note, write_programme

    plan = load_plan(args.plan)
    check_budget_years(plan)  # before the pipeline: the plan alone shows it
    # beside the run's output folder, not in it: `run` owns that folder and replaces it whole
    default = plan.output_dir.parent / f"{plan.output_dir.name}-optimise"
    out = args.out.resolve() if args.out is not None else default
    check_output_dir(out, key="--out" if args.out is not None else "plan.output_dir")
    study = optimise_plan(plan, prepare(plan))
    d = plan.disclosure
    written = write_programme(study, out, threshold=d.threshold, round_to=d.round_to, mode=d.mode)
    best = study.best
    gap = "unknown" if not math.isfinite(best.gap) else f"{best.gap:.2%}"
    print(
        f"optimise: {study.instance.objective} {best.objective:,.2f} ({best.status}, gap on "
        f"savings {gap}); {len(best.options)} site(s), £{best.capital_gbp:,.0f} of "
        f"£{study.instance.total_budget_gbp:,.0f}; greedy {study.greedy.objective:,.2f} "
        "(unrounded, internal figures)"
    )
    print(f"alternatives: {alternatives_note(study)}")
    for name in ("programme_toml", "budget_curve", "budget_curve_svg", "alternatives"):
        print(f"wrote {written[name]}")
    return 0
