"""The prepare stage: plan + input files → checked, geocoded inputs and their row accounting.

Every file a run reads goes through :func:`placeplan.prepare.io.read_table`; :func:`prepare` is the
single entry (the same checks as ``placeplan validate``).
"""

from placeplan.prepare.inputs import Inputs, authority_areas, prepare

__all__ = ["Inputs", "authority_areas", "prepare"]
