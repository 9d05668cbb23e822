"""A leading indicator of new EHC plans: requests for an EHC needs assessment a year earlier.

Used by :mod:`placeplan.compute.forecast` when the release's requests table is given. A request
received in calendar year *t* becomes, if a plan is issued (20 weeks after the request, by the
statutory timeline), a new plan late in *t* or in *t + 1*. The next year's new plans are therefore
read from this year's requests through a conversion ratio fitted on the authority's own history::

    N(t+1) = r * R(t),   r = sum N(s+1) / sum R(s) over the last ``window`` pairs up to t

Years are keyed as the release keys flows: the census year whose January census first counts a
calendar year's flows (requests and new plans of 2023 -> ``"2023/24"``). A suppressed or missing
figure is unknown: a pair with one is left out of the ratio, and without the base year's own
requests there is no lead (the caller keeps its trend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REQUESTS_MEASURE", "lead_new_plans"]

#: The requests table's column of requests for an EHC needs assessment received in the year.
REQUESTS_MEASURE = "requests_received_in_year"


def _next(label: str) -> str:
    start = int(label[:4]) + 1
    return f"{start}/{(start + 1) % 100:02d}"


def lead_new_plans(
    new_plans: pd.Series, requests: pd.Series, base_year: str, window: int = 3
) -> tuple[float, float] | None:
    """Next year's new plans from the base year's requests, with the fitted conversion ratio.

    Parameters
    ----------
    new_plans
        New plans a year, index the census year that first counts them (``"2023/24"`` = made in
        calendar 2023); NaN where suppressed.
    requests
        Requests for assessment received a year, same index; NaN where suppressed.
    base_year
        The last census year used (``"2023/24"``): nothing later is read.
    window
        Number of most recent (requests, next year's new plans) pairs the ratio pools.

    Returns
    -------
    lead
        ``(ratio, new plans in the year after base_year)``, or None when the base year's requests
        are not published or no pair up to the base year has both figures.

    Examples
    --------
    >>> idx = ["2020/21", "2021/22", "2022/23"]
    >>> n = pd.Series([50.0, 60.0, 75.0], index=idx)
    >>> r = pd.Series([100.0, 120.0, 150.0], index=idx)
    >>> lead_new_plans(n, r, "2022/23")  # (60 + 75) / (100 + 120) = 0.614; 0.614 * 150
    (0.6136363636363636, 92.04545454545455)
    """
    n = new_plans[new_plans.index.astype(str) <= base_year].astype(float)
    r = requests[requests.index.astype(str) <= base_year].astype(float)
    latest = float(r.get(base_year, np.nan))
    if not np.isfinite(latest):
        return None
    pairs = [
        (float(r[c]), float(n[_next(str(c))]))
        for c in sorted(r.index.astype(str))
        if _next(c) in n.index and np.isfinite(r[c]) and np.isfinite(n[_next(c)])
    ][-window:]
    asked = sum(p[0] for p in pairs)
    if not pairs or asked <= 0:
        return None
    ratio = sum(p[1] for p in pairs) / asked
    return ratio, ratio * latest
