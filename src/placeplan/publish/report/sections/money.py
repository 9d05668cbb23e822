"""How the report shows money: one rounding, one format, for every £ figure of its sections.

A £ figure is rounded to the nearest £1,000 and shown in £k (``−£345k``), from £1m in £m (two
decimals below £10m, ``£4.39m``; one from £10m, ``£23.2m``): the parts of a total then add up
to it visibly
(``−£345k`` and ``−£112k`` beside a total of ``−£457k``), which ``−£0.34m`` and ``−£0.11m``
beside ``−£0.46m`` did not, and no figure shows pounds the model cannot stand behind
(``−£112,365``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from placeplan.publish.report.model import Cell, Table

__all__ = ["MONEY_NOTE", "gbp_text", "money", "money_table", "round_gbp"]

#: The sentence every table note with money in it uses.
MONEY_NOTE = (
    "Money is rounded to the nearest £1,000 and shown in £k; from £1m, in £m to two decimals "
    "(the nearest £10,000)."
)


def round_gbp(value: Any) -> Any:
    """``value`` rounded to the nearest £1,000 (None and NaN kept as they are).

    Examples
    --------
    >>> round_gbp(-112365.0), round_gbp(None), round_gbp(499.0)
    (-112000.0, None, 0.0)
    """
    if value is None or isinstance(value, str):
        return value
    v = float(value)
    return v if math.isnan(v) else float(round(v, -3)) + 0.0


def money(cell: Cell) -> Cell:
    """A £ cell as the report shows money (other cells unchanged).

    Examples
    --------
    >>> from placeplan.publish.report.render import fmt_cell
    >>> fmt_cell(money(Cell(-112365.0, "gbp", signed=True)))
    '−£112k'
    >>> fmt_cell(money(Cell(23_204_000.0, "gbp_short")))
    '£23.2m'
    """
    if not cell.fmt.startswith("gbp"):
        return cell
    return dataclasses.replace(
        cell,
        value=round_gbp(cell.value),
        low=round_gbp(cell.low),
        high=round_gbp(cell.high),
        fmt="gbp_k",
    )


def money_table(table: Table) -> Table:
    """``table`` with every £ cell through :func:`money`."""
    rows = tuple(tuple(money(c) for c in r) for r in table.rows)
    return dataclasses.replace(table, rows=rows)


def gbp_text(value: Any, signed: bool = False) -> str:
    """A £ figure in running text, as :func:`money` shows it in tables.

    Examples
    --------
    >>> gbp_text(2_400_000.0), gbp_text(-345_000.0, signed=True)
    ('£2.40m', '−£345k')
    """
    from placeplan.publish.report.render import fmt_cell

    return fmt_cell(money(Cell(value, "gbp", signed=signed)))
