"""The report's prose, kept in Jinja2 text templates rather than in Python strings.

Each report section has a ``templates/sections/<section>.txt.j2`` file of macros, one per piece of
prose; :func:`prose` calls one and returns plain text (escaped later, when the report is rendered
to HTML). Line breaks and indentation in the templates are layout only: runs of white space
collapse to one space.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

__all__ = ["prose"]


@functools.cache
def _environment() -> jinja2.Environment:
    # plain text: the HTML template escapes it when the report is rendered
    return jinja2.Environment(
        loader=jinja2.PackageLoader("placeplan", "publish/report/templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def prose(section: str, name: str, **values: Any) -> str:
    """Render one piece of report prose: macro ``name`` of ``sections/<section>.txt.j2``.

    Parameters
    ----------
    section
        Template file stem under ``templates/sections/`` (e.g. ``"journey_times"``).
    name
        Macro in that file.
    **values
        The macro's arguments (already formatted where the wording needs a format).

    Returns
    -------
    str
        The text on one line, white space collapsed.

    Examples
    --------
    >>> prose("breakdowns", "intro", threshold=5)[:40]
    'The same measures by primary need, phase'
    """
    module = _environment().get_template(f"sections/{section}.txt.j2").module
    return " ".join(str(getattr(module, name)(**values)).split())
