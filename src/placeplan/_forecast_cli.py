"""The ``placeplan forecast`` subcommand: project an authority's EHC plans from the SEN2 release.

Wire it into ``cli.py`` with::

    from ._forecast_cli import add_forecast_parser
    add_forecast_parser(subparsers)   # sets func=forecast_command

Writes long format ``year, measure, central, lower, upper`` (see
:func:`placeplan.compute.forecast.forecast`). Bad input (missing folder, unknown authority code,
bad base year) raises a ``PlaceplanError``, which ``cli.main`` prints as one line with exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from placeplan._errors import ConfigError, InputFileError

__all__ = ["add_forecast_parser", "forecast_command"]


def add_forecast_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``forecast`` subcommand to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "forecast",
        help="project EHC plans by placement type and need from the DfE SEN2 release, with ranges",
        description=(
            "Fit a stock-flow model on one authority's published EHC plans series (the DfE "
            "'Education, health and care plans' CSVs as downloaded) and write year, measure, "
            "central, lower, upper."
        ),
    )
    p.add_argument("--sen2", required=True, type=Path, help="folder holding the release CSVs")
    p.add_argument("--la", required=True, help="authority: new code (E06000046) or old (921)")
    p.add_argument(
        "--base-year",
        default=None,
        metavar="YYYY/YY",
        help="fit on census years up to and including this one only (default: the latest)",
    )
    p.add_argument("--years", type=int, default=5, metavar="N", help="years ahead (default 5)")
    p.add_argument(
        "--interval",
        type=float,
        default=0.8,
        metavar="P",
        help="coverage of the prediction interval (default 0.8)",
    )
    p.add_argument(
        "--own-forecast",
        type=Path,
        default=None,
        metavar="CSV",
        help=(
            "the authority's own forecast (year, measure, central[, lower, upper]); it overrides "
            "the model for the years and measures it gives (an ehcplans row rescales that year)"
        ),
    )
    p.add_argument("--out", required=True, type=Path, help="output CSV")
    p.set_defaults(func=forecast_command)
    return p


def forecast_command(args: argparse.Namespace) -> int:
    """Run ``placeplan forecast``; returns 0 (errors propagate as ``PlaceplanError``)."""
    from placeplan.compute.forecast import forecast
    from placeplan.prepare.sen2 import read_sen2_release
    from placeplan.publish.tables import write_csv

    if args.years < 1:
        msg = f"`--years` must be at least 1, got {args.years}"
        raise ConfigError(msg)
    release = read_sen2_release(args.sen2, args.la)
    override = None
    if args.own_forecast is not None:
        try:
            override = pd.read_csv(args.own_forecast, dtype={"year": str, "measure": str})
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
            msg = f"cannot read the authority's forecast ({err}); give a CSV"
            raise InputFileError(msg, file=str(args.own_forecast)) from err
    table = forecast(
        release,
        base_year=args.base_year,
        years=args.years,
        interval=args.interval,
        override=override,
    )
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, Path(args.out), float_format="%.1f")
    except OSError as err:
        msg = f"cannot write the forecast ({err.strerror}); choose a writable `--out`"
        raise InputFileError(msg, file=str(args.out)) from err
    total = table[table["measure"] == "ehcplans"]
    last = total.iloc[-1]
    print(
        f"{release.la_name} ({release.la_code}): EHC plans {last['year']} "
        f"{last['central']:,.0f} ({args.interval:.0%} range {last['lower']:,.0f} to "
        f"{last['upper']:,.0f}); "
        f"{table['measure'].nunique()} measures x {total.shape[0]} years written to {args.out}"
    )
    return 0
