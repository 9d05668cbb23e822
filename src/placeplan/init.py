"""``placeplan init``: write a documented plan file and input templates to start a new plan."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from placeplan._errors import InputFileError

__all__ = ["TEMPLATE_FILES", "write_templates"]

logger = logging.getLogger(__name__)

#: Files written by :func:`write_templates`, in order.
TEMPLATE_FILES: tuple[str, ...] = (
    "plan.toml",
    "pupils.csv",
    "provision.csv",
    "out_of_area.csv",
    "candidate_sites.csv",
    "postcodes.csv",
    "COLUMNS.md",
)


def write_templates(directory: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``plan.toml``, example input files and ``COLUMNS.md`` into a folder.

    The examples validate cleanly as written (``placeplan validate DIR/plan.toml`` exits 0):
    their postcodes are in the small ``postcodes.csv`` written alongside, taken from the shipped
    sample data.

    Parameters
    ----------
    directory
        Folder to write to; created if missing.
    overwrite
        Replace files that already exist (default: refuse, naming the first one).

    Returns
    -------
    paths
        The files written.

    Raises
    ------
    InputFileError
        If a file exists and ``overwrite`` is false (nothing is written then).
    """
    directory = Path(directory)
    targets = [directory / name for name in TEMPLATE_FILES]
    if not overwrite:
        for target in targets:
            if target.exists():
                msg = "already exists; use --force to overwrite the templates"
                raise InputFileError(msg, file=str(target))
    directory.mkdir(parents=True, exist_ok=True)
    source = resources.files("placeplan") / "templates"
    for name, target in zip(TEMPLATE_FILES, targets, strict=True):
        target.write_bytes((source / name).read_bytes())
    logger.info("init: wrote %s template files to %s", len(targets), directory)
    return targets
