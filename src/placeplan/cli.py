"""Command-line interface (thin): ``placeplan init | validate | run | matrix | network | forecast |
optimise``.

Exit codes: 0 success; 2 a placeplan error (bad input, plan or model; one line on stderr, no
traceback unless ``--debug``), found before the pipeline runs wherever it can be seen up front;
130 interrupted (Ctrl-C; one line, no traceback); 1 an unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from placeplan import __version__
from placeplan._errors import PlaceplanError, PlaceplanWarning
from placeplan.settings import settings

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import TextIO

__all__ = ["build_parser", "main"]

logger = logging.getLogger("placeplan")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="placeplan",
        description="SEND place planning and the DfE travel impact assessment.",
    )
    parser.add_argument("--version", action="version", version=f"placeplan {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="every log line, down to debug detail"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="warnings and errors only (no stage lines)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="write a documented plan.toml and input templates into DIR")
    p.add_argument("directory", type=Path)
    p.add_argument("--force", action="store_true", help="overwrite existing files")

    p = sub.add_parser("validate", help="check every input of a plan; write rejections.csv")
    p.add_argument("plan", type=Path)
    p.add_argument("--rejections", type=Path, default=None, help="where to write rejections.csv")

    p = sub.add_parser("run", help="run a plan end to end: report, maps, CSV and GeoPackage")
    p.add_argument("plan", type=Path)
    p.add_argument("--output-dir", type=Path, default=None, help="override the plan's output_dir")

    p = sub.add_parser("network", help="build (and cache) a road network and print a summary")
    p.add_argument("source", help="OSM PBF / XML / GraphML path")

    try:
        from placeplan._matrix_cli import add_matrix_parser
    except ImportError:  # pragma: no cover - ships with the package
        pass
    else:
        add_matrix_parser(sub)
    from placeplan._forecast_cli import add_forecast_parser

    add_forecast_parser(sub)
    from placeplan._optimise_cli import add_optimise_parser

    add_optimise_parser(sub)
    return parser


#: Loggers whose INFO lines are the run's progress (one line a stage): shown at the default
#: level (WARNING) too, so warnings are not lost among the library's detail lines.
PROGRESS_LOGGERS = frozenset({"placeplan.pipeline"})


class _ProgressOrLevel(logging.Filter):
    """Pass records at ``level`` or above, and progress loggers' INFO lines when asked."""

    def __init__(self, level: int, progress: bool) -> None:
        super().__init__()
        self.level, self.progress = level, progress

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level:
            return True
        return self.progress and record.levelno >= logging.INFO and record.name in PROGRESS_LOGGERS


@contextmanager
def _console_logging(args: argparse.Namespace) -> Iterator[None]:
    """Send placeplan's log lines to stderr for the duration of one command, then restore.

    The level is ``settings.log_level`` (default WARNING) unless ``-v`` (DEBUG) or ``-q``
    (WARNING) is given. At WARNING and below, the stage lines (:data:`PROGRESS_LOGGERS`) are
    shown too, unless ``-q``.
    """
    level = (
        logging.DEBUG
        if args.verbose
        else logging.WARNING
        if args.quiet
        else logging.getLevelNamesMapping()[settings.log_level]
    )
    progress = not args.quiet and level <= logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_ProgressOrLevel(level, progress))
    root = logging.getLogger("placeplan")
    saved = (root.level, root.propagate)
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if progress else level)
    root.propagate = False  # the CLI owns placeplan's console output; no duplicates via root
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]


def _cmd_init(args: argparse.Namespace) -> int:
    from placeplan.init import write_templates

    written = write_templates(args.directory, overwrite=args.force)
    for path in written:
        print(f"wrote {path}")
    print(
        f"next: put your OpenStreetMap extract at {args.directory / 'roads.osm.pbf'} (or set "
        "[inputs] network in plan.toml), replace the example rows, then "
        f"`placeplan validate {args.directory / 'plan.toml'}`"
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from placeplan.config import load_plan
    from placeplan.prepare.validate import check_output_dir, validate_plan, write_rejections
    from placeplan.publish.outputs import check_output_owned

    plan = load_plan(args.plan)
    check_output_dir(plan.output_dir)  # the same checks `run` makes, before any work
    check_output_owned(plan.output_dir)
    if args.rejections is not None:
        check_output_dir(Path(args.rejections).parent, key="--rejections")
    report = validate_plan(plan)
    print(report.summary_text())
    out = args.rejections or (plan.output_dir / "rejections.csv")
    write_rejections(report, out)
    print(f"rejections written to {out}")
    return 0 if report.ok else 2


def _cmd_run(args: argparse.Namespace) -> int:
    from placeplan.config import load_plan
    from placeplan.pipeline import run_and_publish
    from placeplan.prepare.validate import check_output_dir
    from placeplan.publish.outputs import check_output_owned

    plan = load_plan(args.plan)
    if args.output_dir is not None:
        meta = plan.plan.model_copy(update={"output_dir": args.output_dir.resolve()})
        plan = plan.model_copy(update={"plan": meta})
        check_output_dir(plan.output_dir, key="--output-dir")
    else:
        check_output_dir(plan.output_dir)
    check_output_owned(plan.output_dir)  # refuse a folder of other files before any work
    result, outputs = run_and_publish(plan)
    for name, imp in result.impacts.items():
        allrow = imp.table[imp.table["group_type"] == "all"].set_index("metric")
        base, scen = allrow["baseline"], allrow["scenario"]
        print(
            f"scenario {name!r}: mean journey {base.loc['mean_time_min']:.1f} -> "
            f"{scen.loc['mean_time_min']:.1f} min; out-of-area placements "
            f"{base.loc['ooa_placements']:.0f} -> "
            f"{scen.loc['ooa_placements']:.0f} (unrounded, internal figures)"
        )
    if "report" in outputs:
        print(f"report: {outputs['report']}")
    print(f"outputs in {plan.output_dir}")
    return 0


def _cmd_network(args: argparse.Namespace) -> int:
    from placeplan.compute.network import load_network

    net = load_network(args.source)
    print(
        f"{net.source}: {len(net.x):,} nodes, {len(net.edge_u):,} edges, CRS {net.crs}, "
        f"hash {net.content_hash[:12]}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_cache:
        settings.use_cache = False
    if args.no_progress:
        settings.progress = False
    handlers = {
        "init": _cmd_init,
        "validate": _cmd_validate,
        "run": _cmd_run,
        "network": _cmd_network,
    }
    handler = handlers.get(args.command)
    if handler is None:  # subcommands registered by plug-in modules carry their own function
        handler = args.func
    try:
        with _console_logging(args), warnings.catch_warnings():
            warnings.simplefilter("always", PlaceplanWarning)
            warnings.showwarning = _show_warning
            return int(handler(args))
    except PlaceplanError as err:
        if args.debug:
            raise
        print(f"placeplan: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(
            "placeplan: interrupted (Ctrl-C); the command stopped before it finished",
            file=sys.stderr,
        )
        return 130
    except Exception as err:
        if args.debug:
            raise
        print(f"placeplan: unexpected error ({type(err).__name__}): {err}", file=sys.stderr)
        print("rerun with --debug for the traceback, and please report it", file=sys.stderr)
        return 1


def _one_line(err: BaseException) -> str:
    """The error message on one line (a multi-line message is joined with '; ')."""
    return "; ".join(part.strip() for part in str(err).splitlines() if part.strip())


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
