"""Input loading with row accounting: pupils, provision (own format or GIAS), sites, areas.

Every loader reads the whole file as text, converts it column by column, collects every problem
(one rejection per row and column: file, row, column, reason) and returns a :class:`LoadResult` in
which ``rows_read == rows_used + rows_rejected (+ rows_skipped)`` always holds. Whole-file problems
(missing, empty, unreadable, wrong delimiter, required column missing) raise
:class:`~placeplan.InputFileError`. Row numbers are those a spreadsheet user sees: the header is
row 1. Rejection reasons quote the value found (``'SCLN': not a SEN2 need code …; did you mean
'SLCN'?``), at most 40 characters, and say what was expected. In a pupil file a reference, date of
birth, location or setting is never quoted, nor is a value that is not evidently a mistyped code
(free text, anything like a date or a postcode): rejections.csv is published.
"""

from placeplan.prepare.io._areas import assign_areas, load_areas
from placeplan.prepare.io._common import EXTRA_CELLS, REJECTION_COLUMNS, LoadResult
from placeplan.prepare.io._locate import authority_geometry
from placeplan.prepare.io._provision import GIAS_REQUIRED as GIAS_REQUIRED
from placeplan.prepare.io._provision import load_gias, load_provision
from placeplan.prepare.io._pupils import load_pupils
from placeplan.prepare.io._pupils import nc_year_from_birth as nc_year_from_birth
from placeplan.prepare.io._read import read_table
from placeplan.prepare.io._sites import load_sites
from placeplan.prepare.io._write import write_layers
from placeplan.vocab import CRS as CRS

__all__ = [
    "EXTRA_CELLS",
    "REJECTION_COLUMNS",
    "LoadResult",
    "assign_areas",
    "authority_geometry",
    "load_areas",
    "load_gias",
    "load_provision",
    "load_pupils",
    "load_sites",
    "read_table",
    "write_layers",
]
