"""Seeded synthetic pupil cohort from real postcodes, population and published need/placement mix.

Real pupil-level data never ships with placeplan. This module builds a *synthetic* cohort that
reproduces published aggregates (EHC plans by primary need and by type of placement, ages) and the
geography of the authority (real live postcodes weighted by population), so that the whole pipeline
can run end to end on open data. Every random draw goes through one
``numpy.random.default_rng(seed)``: the same inputs and seed give an identical table.

Method (see :func:`synthesise_pupils`):

1. **need x placement** — iterative proportional fitting (IPF, :func:`fit_ipf`) of a prior table
   to the need and placement marginals, then integerisation that keeps both marginals exact
   (:func:`fit_joint_counts`);
2. **NC year** — for each need x placement cell, a multinomial draw over NC years from the given
   weights, restricted to the years some setting of that type (and need) serves;
3. **home postcode** — a live postcode drawn with probability proportional to the population of its
   LSOA divided by the number of live postcodes in that LSOA;
4. **current setting** — most constrained pupils first, among settings of the placement's
   provision type that serve the pupil's phase and need and still have a place: with a journey
   table (``travel_time_min``) the **nearest by journey time** (road + ferry, as the pipeline
   computes it); without one, a gravity draw (weight ``exp(-d / distance_decay_km)``,
   straight-line distance in EPSG:27700). A setting's places are its ``capacity`` unless
   ``places`` overrides them (e.g. ``math.inf`` where the published caseload shows a school
   running over its nominal capacity);
5. **transport assistance** — a Bernoulli draw whose probability depends on the placement type,
   whether the journey distance (route distance from the journey table, else straight line)
   exceeds the statutory walking distance (2 miles under 8, 3 miles from 8) and whether the
   setting is reached by ferry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from placeplan._errors import InfeasibleModelError, SchemaValidationError
from placeplan.needs import NEED_CODES, PHASES, split_codes
from placeplan.schemas import PROVISION_TYPES
from placeplan.vocab import KM_PER_MILE

__all__ = [
    "DEFAULT_JOINT_PRIOR",
    "PLACEMENT_TYPES",
    "TRANSPORT_PROBABILITY",
    "fit_ipf",
    "fit_joint_counts",
    "synthesise_pupils",
]

logger = logging.getLogger(__name__)

#: Placement types the cohort is generated for (same words as ``provision_type``).
PLACEMENT_TYPES: tuple[str, ...] = PROVISION_TYPES

#: Default need x placement prior (relative weights) used when no observed joint table is given.
#: Assumptions in the direction of national SEN2 patterns: PMLD/SLD mostly in special schools,
#: ASD/SEMH over-represented in independent and non-maintained special schools, SEMH in AP,
#: SLCN/SPLD/HI/VI mostly in mainstream.
DEFAULT_JOINT_PRIOR: pd.DataFrame = pd.DataFrame(
    {
        #         mainstream inclusion_base special independent non_maintained ap   fe
        "ASD": [1.0, 1.0, 1.0, 2.0, 1.5, 0.3, 0.8],
        "HI": [1.5, 2.0, 0.5, 0.3, 1.0, 0.1, 1.0],
        "MLD": [1.0, 0.8, 1.2, 0.5, 0.5, 0.3, 1.2],
        "MSI": [0.8, 0.5, 1.5, 0.5, 1.0, 0.1, 0.5],
        "NSA": [1.5, 0.5, 0.3, 0.3, 0.3, 0.5, 1.0],
        "OTH": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "PD": [1.2, 0.8, 1.0, 0.5, 1.0, 0.1, 1.0],
        "PMLD": [0.05, 0.2, 5.0, 1.0, 2.0, 0.01, 0.3],
        "SEMH": [1.0, 1.0, 0.6, 3.0, 1.0, 5.0, 1.0],
        "SLCN": [1.5, 1.5, 0.7, 0.3, 1.0, 0.2, 0.8],
        "SLD": [0.1, 0.3, 4.0, 1.0, 1.5, 0.05, 0.5],
        "SPLD": [1.8, 0.8, 0.2, 0.5, 0.5, 0.3, 1.5],
        "VI": [1.5, 1.5, 0.6, 0.3, 1.0, 0.1, 1.0],
    },
    index=list(PLACEMENT_TYPES),
).T

#: Probability that a pupil gets assisted travel: placement type -> (within, beyond) the statutory
#: walking distance (straight line). Pupils at settings with ``ferry_required`` use ``"ferry"``.
#: Sample assumptions, documented in ``data/sample/isle-of-wight/PROVENANCE.md``.
TRANSPORT_PROBABILITY: dict[str, tuple[float, float]] = {
    "mainstream": (0.03, 0.70),
    "inclusion_base": (0.40, 0.90),
    "special": (0.60, 0.95),
    "independent": (0.60, 0.95),
    "non_maintained": (0.60, 0.95),
    "ap": (0.30, 0.80),
    "fe": (0.05, 0.35),
    "ferry": (0.95, 0.95),
}

_MILE_M = 1000.0 * KM_PER_MILE  # == 1609.344 exactly


def fit_ipf(
    seed: np.ndarray,
    margins: Sequence[tuple[tuple[int, ...], np.ndarray]],
    *,
    max_iter: int = 1000,
    tol: float = 1e-10,
) -> np.ndarray:
    """Fit an array to target margins by iterative proportional fitting.

    Parameters
    ----------
    seed
        Non-negative prior array (any number of dimensions); zeros stay zero (structural zeros).
    margins
        Pairs ``(axes, target)``: the sum of the fitted array over all axes *not* in ``axes`` must
        equal ``target``. ``axes`` is in increasing order and ``target`` has the seed's shape on
        those axes.
    max_iter
        Maximum number of full sweeps over the margins.
    tol
        Stop when the largest absolute margin error falls below this.

    Returns
    -------
    fitted
        Array of the seed's shape, float64. If the margins are inconsistent with each other or with
        the seed's zeros, the result is the IPF fixed point reached after ``max_iter`` sweeps.

    Examples
    --------
    >>> margins = [((0,), np.array([3.0, 1.0])), ((1,), np.array([2.0, 2.0]))]
    >>> fitted = fit_ipf(np.ones((2, 2)), margins)
    >>> fitted.round(3).tolist()
    [[1.5, 1.5], [0.5, 0.5]]
    """
    x = np.asarray(seed, dtype=float).copy()
    if (x < 0).any():
        msg = "`seed` must be non-negative"
        raise ValueError(msg)
    if any(list(axes) != sorted(axes) for axes, _ in margins):
        msg = "`margins` axes must be given in increasing order"
        raise ValueError(msg)
    for _ in range(max_iter):
        err = 0.0
        for axes, target in margins:
            other = tuple(i for i in range(x.ndim) if i not in axes)
            current = x.sum(axis=other)
            tgt = np.asarray(target, dtype=float)
            err = max(err, float(np.abs(current - tgt).max(initial=0.0)))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, tgt / current, 0.0)
            shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
            x *= factor.reshape(shape)
        if err < tol:
            break
    return x


def _integerise(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Round a 2-D table to integers whose row and column sums equal ``rows`` and ``cols``."""
    out = np.floor(x + 1e-9).astype(np.int64)
    out[~mask] = 0
    row_def = rows - out.sum(axis=1)
    col_def = cols - out.sum(axis=0)
    remainder = np.where(mask, x - out, -np.inf)
    order = np.argsort(-remainder.ravel(), kind="stable")
    progress = True
    while row_def.sum() > 0 and progress:
        progress = False
        for flat in order:
            i, j = divmod(int(flat), x.shape[1])
            if mask[i, j] and row_def[i] > 0 and col_def[j] > 0:
                out[i, j] += 1
                row_def[i] -= 1
                col_def[j] -= 1
                progress = True
    if row_def.sum() != 0 or (row_def < 0).any() or (col_def < 0).any():
        msg = (
            "cannot round the need x placement table to integers with the given marginals: "
            f"{int(row_def.sum())} units could not be placed; give a prior without zeros"
        )
        raise InfeasibleModelError(msg)
    return out


def fit_joint_counts(
    need_counts: Mapping[str, int],
    placement_counts: Mapping[str, int],
    *,
    prior: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return an integer need x placement table whose margins equal the given counts exactly.

    Parameters
    ----------
    need_counts
        Pupils per SEN2 primary-need code (``need_type`` -> count).
    placement_counts
        Pupils per placement type (one of :data:`PLACEMENT_TYPES`) -> count. Same total as
        ``need_counts``.
    prior
        Non-negative weights, index = need codes, columns = placement types; a zero forbids the
        cell.
        Missing rows/columns are taken from :data:`DEFAULT_JOINT_PRIOR`. An observed joint table
        (e.g. the DfE "plans by primary need and type of placement") makes IPF return it unchanged.

    Returns
    -------
    joint
        Integer DataFrame, index ``need_type``, columns ``placement_type``.

    Raises
    ------
    SchemaValidationError
        Unknown need codes or placement types, negative counts, or different totals.
    InfeasibleModelError
        The prior's zeros make the marginals impossible.

    Examples
    --------
    >>> t = fit_joint_counts({"ASD": 3, "SLD": 2}, {"mainstream": 2, "special": 3})
    >>> t.sum(axis=1).tolist(), t.sum(axis=0).tolist()
    ([3, 2], [2, 3])
    """
    needs = [k for k in NEED_CODES if need_counts.get(k, 0) > 0]
    places = [k for k in PLACEMENT_TYPES if placement_counts.get(k, 0) > 0]
    bad_needs = sorted(set(need_counts) - set(NEED_CODES))
    bad_places = sorted(set(placement_counts) - set(PLACEMENT_TYPES))
    if bad_needs or bad_places:
        msg = (
            f"unknown keys: need codes {bad_needs} (expected {list(NEED_CODES)}), "
            f"placement types {bad_places} (expected {list(PLACEMENT_TYPES)})"
        )
        raise SchemaValidationError(msg)
    if any(v < 0 for v in [*need_counts.values(), *placement_counts.values()]):
        msg = "`need_counts` and `placement_counts` must be non-negative"
        raise SchemaValidationError(msg)
    total_n = int(sum(need_counts.values()))
    total_p = int(sum(placement_counts.values()))
    if total_n != total_p:
        msg = (
            f"`need_counts` total {total_n} differs from `placement_counts` total {total_p}; "
            "they must describe the same pupils"
        )
        raise SchemaValidationError(msg)
    base = DEFAULT_JOINT_PRIOR.loc[needs, places].astype(float)
    if prior is not None:
        given = prior.reindex(index=needs, columns=places).astype(float)
        base = given.where(given.notna(), base)
    rows = np.array([need_counts[k] for k in needs], dtype=np.int64)
    cols = np.array([placement_counts[k] for k in places], dtype=np.int64)
    seed_arr = base.to_numpy()
    fitted = fit_ipf(seed_arr, [((0,), rows.astype(float)), ((1,), cols.astype(float))])
    joint = _integerise(fitted, rows, cols, seed_arr > 0)
    out = pd.DataFrame(joint, index=pd.Index(needs, name="need_type"), columns=places)
    out.columns.name = "placement_type"
    return out


def _prepare_provision(provision: pd.DataFrame) -> pd.DataFrame:
    required = {
        "setting_id",
        "provision_type",
        "phases",
        "needs",
        "capacity",
        "easting",
        "northing",
    }
    missing = sorted(required - set(provision.columns))
    if missing:
        msg = f"`provision` lacks columns {missing}; see docs/ARCHITECTURE.md 'provision'"
        raise SchemaValidationError(msg)
    df = provision.reset_index(drop=True).copy()
    df["setting_id"] = df["setting_id"].astype(str)
    if df["setting_id"].duplicated().any():
        msg = "`provision.setting_id` must be unique"
        raise SchemaValidationError(msg)
    if "ferry_required" not in df.columns:
        df["ferry_required"] = False
    if "in_area" not in df.columns:
        df["in_area"] = True
    return df


def _live_postcodes(postcodes: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    for col in ("postcode", "easting", "northing", "lsoa11cd"):
        if col not in postcodes.columns:
            msg = f"`postcodes` lacks column `{col}`"
            raise SchemaValidationError(msg)
    for col in ("area_id", "population"):
        if col not in areas.columns:
            msg = f"`areas` lacks column `{col}`"
            raise SchemaValidationError(msg)
    pc = postcodes[postcodes["easting"].notna() & postcodes["northing"].notna()]
    if "date_terminated" in pc.columns:
        term = pc["date_terminated"]
        pc = pc[term.isna() | (term.astype("string").str.strip() == "")]
    pop = areas.set_index(areas["area_id"].astype(str))["population"].astype(float)
    pc = pc[pc["lsoa11cd"].astype(str).isin(pop.index)].copy()
    pc = pc.sort_values("postcode", kind="stable").reset_index(drop=True)
    if pc.empty:
        msg = "no live postcode with coordinates lies in an area of `areas`"
        raise SchemaValidationError(msg)
    lsoa = pc["lsoa11cd"].astype(str)
    n_in_lsoa = lsoa.map(lsoa.value_counts()).astype(float)
    pc["weight"] = lsoa.map(pop).to_numpy() / n_in_lsoa.to_numpy()
    return pc


def _phase_years(phases: frozenset[str]) -> set[int]:
    years: set[int] = set()
    for phase in phases:
        low, high = PHASES[phase]
        years.update(range(low, high + 1))
    return years


def _journey_arrays(
    travel: pd.DataFrame, homes: np.ndarray, prov: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pupil x setting arrays of journey minutes (NaN = unreachable) and route km (if given)."""
    missing = sorted({"postcode", "setting_id", "travel_time_min"} - set(travel.columns))
    if missing:
        msg = (
            f"`travel_time_min` lacks columns {missing}; give a long table postcode, setting_id, "
            "travel_time_min (e.g. journey_matrix output with origin_id/destination_id renamed)"
        )
        raise SchemaValidationError(msg)
    t = travel.assign(
        postcode=travel["postcode"].astype(str), setting_id=travel["setting_id"].astype(str)
    )
    ids = prov["setting_id"].to_numpy()

    def grid(col: str) -> np.ndarray:
        wide = t.pivot_table(index="postcode", columns="setting_id", values=col, aggfunc="min")
        wide = wide.reindex(index=pd.Index(homes), columns=pd.Index(ids))
        return wide.to_numpy(dtype=float)

    return grid("travel_time_min"), grid("distance_km") if "distance_km" in t else None


def synthesise_pupils(
    postcodes: pd.DataFrame,
    areas: pd.DataFrame,
    need_counts: Mapping[str, int],
    placement_counts: Mapping[str, int],
    provision: pd.DataFrame,
    *,
    seed: int = 0,
    joint_prior: pd.DataFrame | None = None,
    nc_year_weights: pd.DataFrame | None = None,
    distance_decay_km: float = 5.0,
    transport_probability: Mapping[str, tuple[float, float]] | None = None,
    id_prefix: str = "SYN-",
    travel_time_min: pd.DataFrame | None = None,
    places: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Generate a seeded synthetic cohort of pupils with EHC plans.

    Parameters
    ----------
    postcodes
        Postcode table with ``postcode``, ``easting``, ``northing`` (EPSG:27700), ``lsoa11cd`` and
        optionally ``date_terminated``; only live postcodes with coordinates in ``areas`` are used.
    areas
        ``area_id`` (LSOA 2011 code) and ``population``; homes are drawn with probability
        population / number of live postcodes in the area.
    need_counts
        Exact number of pupils per SEN2 primary-need code.
    placement_counts
        Exact number of pupils per placement type (:data:`PLACEMENT_TYPES`); same total.
    provision
        Settings per the "provision" contract (``setting_id``, ``provision_type``, ``phases``,
        ``needs``, ``capacity``, ``easting``, ``northing``, ``in_area``, ``ferry_required``).
        A pupil of placement type *t* is placed in a setting with ``provision_type == t``.
    seed
        Seed for ``numpy.random.default_rng``; same inputs and seed give an identical table.
    joint_prior
        Need x placement prior for IPF (see :func:`fit_joint_counts`); ``None`` uses
        :data:`DEFAULT_JOINT_PRIOR`.
    nc_year_weights
        Long table ``placement_type, nc_year, weight`` and optionally ``need_type``: relative
        weights of NC years (-1..14) for a placement type, or for one need x placement cell when
        ``need_type`` is given (those rows take precedence). ``None``: uniform over served years.
    distance_decay_km
        Gravity scale: a setting's choice weight is ``exp(-distance_km / distance_decay_km)``.
        Used only when ``travel_time_min`` is ``None``.
    transport_probability
        Placement type -> (probability within, beyond the statutory walking distance) of assisted
        travel, plus key ``"ferry"`` for settings with ``ferry_required``. Defaults to
        :data:`TRANSPORT_PROBABILITY`.
    id_prefix
        Prefix of ``pupil_ref`` (``SYN-000001``, ...).
    travel_time_min
        Journey table ``postcode, setting_id, travel_time_min`` and optionally ``distance_km``
        (e.g. :func:`placeplan.compute.journeys.journey_matrix` with ``origin_id`` = postcode and
        ``destination_id`` = setting id). When given, each pupil goes to the compatible setting
        with a place that is **nearest by journey time** (ties: the earlier setting in
        ``provision``); a missing or NaN time means unreachable, and live postcodes with no
        journey to any setting are not drawn as homes. ``distance_km`` (route distance), when
        given, decides whether a journey exceeds the statutory walking distance.
    places
        ``setting_id`` -> number of pupils the setting may take in this cohort, overriding its
        ``capacity`` (which stays the nominal figure). Use ``math.inf`` for no limit, e.g. where
        the published caseload shows the authority's own special schools over their nominal
        capacity.

    Returns
    -------
    pupils
        One row per pupil, columns ``pupil_ref, postcode, need_type, plan_type, nc_year,
        current_setting_id, transport_assisted`` (the "pupils" contract; ``plan_type`` is ``EHCP``).

    Raises
    ------
    SchemaValidationError
        Missing columns, unknown codes or inconsistent totals.
    InfeasibleModelError
        A placement type has no setting, or no setting with a free place serves a pupil's phase.

    Notes
    -----
    No setting takes more pupils than its places (``capacity`` unless ``places`` overrides it).
    When no setting of the right type serving the
    pupil's phase *and* need has a free place, need compatibility is relaxed (phase never is); the
    number of such pupils is logged. NC years are restricted to the years the settings of the
    placement type (accepting the need) serve, so a pupil's NC year always fits its setting's
    phases.

    Examples
    --------
    >>> pcs = pd.DataFrame({"postcode": ["PO30 1AA", "PO30 1AB"], "easting": [450000, 451000],
    ...                     "northing": [88000, 88000], "lsoa11cd": ["E01", "E01"]})
    >>> areas = pd.DataFrame({"area_id": ["E01"], "population": [1500]})
    >>> prov = pd.DataFrame({"setting_id": ["100001", "100002"], "provision_type": ["mainstream",
    ...     "special"], "phases": ["primary", "primary;secondary"], "needs": ["", "SLD;PMLD"],
    ...     "capacity": [300, 20], "easting": [450500, 452000], "northing": [88500, 87000]})
    >>> pupils = synthesise_pupils(pcs, areas, {"ASD": 4, "SLD": 2}, {"mainstream": 4,
    ...     "special": 2}, prov, seed=1)
    >>> pupils.groupby("current_setting_id").size().to_dict()
    {'100001': 4, '100002': 2}

    With a journey table, pupils go to the nearest setting with a place by journey time:

    >>> times = pd.DataFrame({"postcode": ["PO30 1AA"] * 2 + ["PO30 1AB"] * 2,
    ...     "setting_id": ["100001", "100002"] * 2, "travel_time_min": [5.0, 12.0, 6.0, 9.0]})
    >>> near = synthesise_pupils(pcs, areas, {"ASD": 4, "SLD": 2}, {"mainstream": 4,
    ...     "special": 2}, prov.assign(capacity=[300, 1]), seed=1, travel_time_min=times,
    ...     places={"100002": float("inf")})
    >>> near.groupby("current_setting_id").size().to_dict()
    {'100001': 4, '100002': 2}
    """
    rng = np.random.default_rng(seed)
    probs = dict(TRANSPORT_PROBABILITY if transport_probability is None else transport_probability)
    prov = _prepare_provision(provision)
    pcs = _live_postcodes(postcodes, areas)

    types = prov["provision_type"].astype(str).to_numpy()
    needs_served = [frozenset(split_codes(v)) for v in prov["needs"]]
    # cells (need, placement) that no setting of that type accepts get a zero prior
    prior = DEFAULT_JOINT_PRIOR.copy()
    if joint_prior is not None:
        given = joint_prior.reindex(index=prior.index, columns=prior.columns).astype(float)
        prior = given.where(given.notna(), prior)
    pairs = list(zip(types, needs_served, strict=True))
    accepts = pd.DataFrame(
        [[any(t == pl and (not ns or nd in ns) for t, ns in pairs) for pl in prior.columns]
         for nd in prior.index],
        index=prior.index,
        columns=prior.columns,
    )  # fmt: skip
    try:
        joint = fit_joint_counts(need_counts, placement_counts, prior=prior.where(accepts, 0.0))
    except InfeasibleModelError:
        logger.info(
            "synthesise_pupils: need-compatible joint infeasible; need compatibility relaxed"
        )
        joint = fit_joint_counts(need_counts, placement_counts, prior=prior)

    phases = [frozenset(split_codes(v)) for v in prov["phases"]]
    unknown_phase = sorted({p for ph in phases for p in ph} - set(PHASES))
    if unknown_phase:
        msg = f"`provision.phases` has unknown phases {unknown_phase}; expected {list(PHASES)}"
        raise SchemaValidationError(msg)
    years_served = [_phase_years(ph) for ph in phases]
    capacity = prov["capacity"].fillna(0).astype(float).to_numpy().copy()
    if places is not None:
        unknown = sorted(set(map(str, places)) - set(prov["setting_id"]))
        if unknown:
            msg = f"`places` names settings not in `provision`: {unknown[:5]}; check the ids"
            raise SchemaValidationError(msg)
        override = prov["setting_id"].map({str(k): float(v) for k, v in places.items()})
        capacity = np.where(override.notna(), override.to_numpy(dtype=float), capacity)
    sx = prov["easting"].astype(float).to_numpy()
    sy = prov["northing"].astype(float).to_numpy()
    ferry = prov["ferry_required"].fillna(False).astype(bool).to_numpy()

    # --- NC year per pupil ---
    years_all = np.arange(-1, 15)
    weights_by_cell: dict[tuple[str | None, str], np.ndarray] = {}
    if nc_year_weights is not None:
        w = nc_year_weights.copy()
        has_need = "need_type" in w.columns
        row: Any  # itertuples rows carry the table's columns as attributes
        for row in w.itertuples(index=False):
            need = getattr(row, "need_type", None) if has_need else None
            need = None if need is None or pd.isna(need) else str(need)
            key = (need, str(row.placement_type))
            arr = weights_by_cell.setdefault(key, np.zeros(len(years_all)))
            year = int(row.nc_year)
            if -1 <= year <= 14:
                arr[year + 1] += float(row.weight)

    rows_need: list[str] = []
    rows_place: list[str] = []
    rows_year: list[int] = []
    for need in joint.index:
        for place in joint.columns:
            n = int(joint.loc[need, place])
            if n == 0:
                continue
            of_type = [i for i in range(len(prov)) if types[i] == place]
            if not of_type:
                msg = (
                    f"{n} pupils have placement type `{place}` but `provision` has no such setting"
                )
                raise InfeasibleModelError(msg)
            fit_need = [i for i in of_type if not needs_served[i] or need in needs_served[i]]
            served = set().union(*(years_served[i] for i in (fit_need or of_type)))
            allowed = np.isin(years_all, sorted(served))
            yw = weights_by_cell.get((need, place))
            if yw is None or (yw * allowed).sum() <= 0:
                yw = weights_by_cell.get((None, place))
            if yw is None or (yw * allowed).sum() <= 0:
                yw = np.ones(len(years_all))
            yw = yw * allowed
            counts = rng.multinomial(n, yw / yw.sum())
            for yr, k in zip(years_all, counts, strict=True):
                rows_need += [need] * int(k)
                rows_place += [place] * int(k)
                rows_year += [int(yr)] * int(k)
    n_pupils = len(rows_need)

    # --- home postcodes (with a journey table: only postcodes from which some setting is reached)
    if travel_time_min is not None:
        for col in ("postcode", "travel_time_min"):
            if col not in travel_time_min.columns:
                msg = f"`travel_time_min` lacks column `{col}`; see the parameter's description"
                raise SchemaValidationError(msg)
        routed = travel_time_min[travel_time_min["travel_time_min"].notna()]
        reached = pcs["postcode"].astype(str).isin(routed["postcode"].astype(str))
        if not reached.any():
            msg = "`travel_time_min` reaches no setting from any live postcode of `areas`"
            raise SchemaValidationError(msg)
        logger.info(
            "synthesise_pupils: %d of %d live postcodes have no journey to any setting; "
            "not drawn as homes",
            int((~reached).sum()),
            len(pcs),
        )
        pcs = pcs[reached.to_numpy()].reset_index(drop=True)
    p = pcs["weight"].to_numpy(float)
    home = rng.choice(len(pcs), size=n_pupils, p=p / p.sum())
    hx = pcs["easting"].astype(float).to_numpy()[home]
    hy = pcs["northing"].astype(float).to_numpy()[home]

    # --- current setting: most constrained first, gravity on straight-line distance ---
    need_arr = np.array(rows_need, dtype=object)
    place_arr = np.array(rows_place, dtype=object)
    year_arr = np.array(rows_year, dtype=np.int64)
    compatible = np.zeros((n_pupils, len(prov)), dtype=bool)
    phase_ok = np.zeros((n_pupils, len(prov)), dtype=bool)
    for j in range(len(prov)):
        phase_ok[:, j] = (place_arr == types[j]) & np.isin(year_arr, sorted(years_served[j]))
        need_ok = (
            np.ones(n_pupils, dtype=bool)
            if not needs_served[j]
            else np.isin(need_arr, sorted(needs_served[j]))
        )
        compatible[:, j] = phase_ok[:, j] & need_ok
    n_options = compatible.sum(axis=1)
    order = rng.permutation(n_pupils)
    order = order[np.argsort(n_options[order], kind="stable")]
    setting = np.full(n_pupils, -1, dtype=np.int64)
    relaxed = 0
    times: np.ndarray | None = None
    route_km: np.ndarray | None = None
    if travel_time_min is not None:
        times, route_km = _journey_arrays(
            travel_time_min, pcs["postcode"].astype(str).to_numpy()[home], prov
        )
        reachable = ~np.isnan(times)
        compatible &= reachable
        phase_ok &= reachable
    for i in order:
        ok = compatible[i] & (capacity >= 1)
        if not ok.any():
            ok = phase_ok[i] & (capacity >= 1)
            relaxed += 1
        if not ok.any():
            msg = (
                f"no `{place_arr[i]}` setting with a free place serves NC year {year_arr[i]}"
                f"{' within reach' if times is not None else ''}; raise capacities (or "
                "`places`) or add settings"
            )
            raise InfeasibleModelError(msg)
        if times is not None:
            j = int(np.argmin(np.where(ok, times[i], np.inf)))  # nearest; ties -> first setting
        else:
            d_km = np.hypot(sx - hx[i], sy - hy[i]) / 1000.0
            logw = np.where(ok, -d_km / distance_decay_km, -np.inf)
            wts = np.exp(logw - logw.max())
            j = int(rng.choice(len(prov), p=wts / wts.sum()))
        setting[i] = j
        capacity[j] -= 1

    # --- transport ---
    dist_m = np.hypot(sx[setting] - hx, sy[setting] - hy)
    if route_km is not None:
        by_road_km = route_km[np.arange(n_pupils), setting]
        dist_m = np.where(np.isnan(by_road_km), dist_m, by_road_km * 1000.0)
    walk_m = np.where(year_arr <= 2, 2 * _MILE_M, 3 * _MILE_M)  # under 8: 2 miles; 8+: 3 miles
    beyond = dist_m > walk_m
    p_transport = np.empty(n_pupils)
    for i in range(n_pupils):
        mode = "ferry" if ferry[setting[i]] else str(place_arr[i])
        within_p, beyond_p = probs.get(mode, (0.0, 0.0))
        p_transport[i] = beyond_p if beyond[i] else within_p
    transport = rng.random(n_pupils) < p_transport

    # --- assemble, shuffle, number ---
    df = pd.DataFrame(
        {
            "postcode": pcs["postcode"].astype(str).to_numpy()[home],
            "need_type": need_arr.astype(str),
            "plan_type": "EHCP",
            "nc_year": year_arr,
            "current_setting_id": prov["setting_id"].to_numpy()[setting].astype(str),
            "transport_assisted": transport,
        }
    )
    df = df.iloc[rng.permutation(n_pupils)].reset_index(drop=True)
    df.insert(0, "pupil_ref", [f"{id_prefix}{k:06d}" for k in range(1, n_pupils + 1)])
    for col in ("pupil_ref", "postcode", "need_type", "plan_type", "current_setting_id"):
        df[col] = df[col].astype("string")
    logger.info(
        "synthesise_pupils: %d pupils, %d settings used, %d with need compatibility relaxed, "
        "%.0f%% transport-assisted",
        n_pupils,
        int(np.unique(setting).size),
        relaxed,
        100.0 * transport.mean() if n_pupils else 0.0,
    )
    return df
