"""Writing published tables: one CSV writer for every table placeplan publishes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from placeplan.publish.disclosure import mask_columns
from placeplan.publish.escape import csv_frame

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

__all__ = ["write_csv"]


def write_csv(df: pd.DataFrame, path: Path, *, float_format: str | None = None) -> Path:
    """Write ``df`` to ``path`` as UTF-8 CSV, with every formula-like text cell neutralised.

    Every CSV placeplan writes goes through here. Text cells (and headers) that a spreadsheet
    would run as a formula — first character ``=``, ``+``, ``-``, ``@``, tab or carriage return —
    get a leading ``'``; numbers, and text that is a plain number such as ``-2``, are written
    as they are (the rule is :func:`placeplan.publish.escape.csv_cell`). The file is written
    beside ``path`` and then renamed over it, so a reader never sees half a table.

    Parameters
    ----------
    df
        The table; its index is not written.
    path
        Output file; its folder must exist.
    float_format
        Optional ``printf``-style format for floats (e.g. ``"%.4f"``), as in
        :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``df`` still has ``"<column>:suppressed"`` mask columns (a suppressed table must be
        published through :func:`~placeplan.publish.disclosure.apply_marker`).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> df = pd.DataFrame({"name": ["=HYPERLINK(1)", "Ryde"], "change": [-2, 3]})
    >>> print(write_csv(df, folder / "t.csv").read_text(), end="")
    name,change
    '=HYPERLINK(1),-2
    Ryde,3
    """
    leftover = mask_columns(df)
    if leftover:
        msg = (
            f"write_csv: {path.name} still carries suppression masks {leftover}; publish "
            "`apply_marker(table)` (or `Published.marked()`), not the suppressed values"
        )
        raise ValueError(msg)
    tmp = path.with_suffix(path.suffix + ".tmp")
    csv_frame(df).to_csv(tmp, index=False, encoding="utf-8", float_format=float_format)
    tmp.replace(path)
    return path
