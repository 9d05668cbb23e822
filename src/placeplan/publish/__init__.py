"""The publish stage: results → disclosure control → report, maps, CSV and GeoPackage.

:func:`publish` computes nothing: it takes a :class:`placeplan.compute.run.RunResult`, passes every
number through :func:`placeplan.publish.disclosure.suppress` and writes the published files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from placeplan.publish.outputs import write_outputs

if TYPE_CHECKING:
    from placeplan.compute.run import RunResult

__all__ = ["publish"]


def publish(result: RunResult, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write a run's published outputs: report(s), maps, CSV tables, GeoPackage, plan copy.

    Parameters
    ----------
    result
        What :func:`placeplan.run` (or :func:`placeplan.compute`) returned.
    out_dir
        Output folder; default the plan's ``output_dir``.

    Returns
    -------
    dict of str to Path
        Every file written, by a short key (``"report"``, ``"impact"``, ``"layers"``, …).

    Examples
    --------
    >>> import placeplan
    >>> plan = placeplan.load_plan("data/sample/isle-of-wight/plan.toml")  # doctest: +SKIP
    >>> files = placeplan.publish(placeplan.run(plan), "maps/isle-of-wight")  # doctest: +SKIP
    >>> files["report"].name  # doctest: +SKIP
    'report.html'
    """
    from placeplan import __version__

    folder = Path(out_dir) if out_dir is not None else result.plan.output_dir
    return write_outputs(
        result,
        folder,
        version=__version__,
        timestamp=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
