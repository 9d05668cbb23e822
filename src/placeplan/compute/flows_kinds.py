"""Kinds of place in the flow model: new plans' first placement, transitions, transport eligibility.

Array helpers of :mod:`placeplan.compute.flows` (no model state of their own):

* a pupil's **kind** of place is one of :data:`KINDS`: the flow model's four placement groups
  (``mainstream``, ``specialist``, ``ap``, ``other``) plus ``independent``, which only a new plan
  can have, in its first year: the plan's first placement is an independent or non-maintained
  special school, as the authority's published new-plans mix says for that age;
  :func:`admitted_kinds` says which settings take each kind;
* :func:`new_plan_kinds` draws new plans' kinds from a mix by NC year
  (:func:`placeplan.compute.transitions.new_plan_mix`), among the kinds some setting offers at
  that NC year;
* :func:`transition_table` and :func:`transfer_kinds` move pupils between groups at a phase
  transfer by rates by NC year (:func:`placeplan.compute.transitions.phase_transfer_rates`),
  with one uniform draw per pupil and year shared by baseline and scenario runs;
* :func:`transport_eligible`: who counts for transport £ (the statutory walking distances by age
  of :func:`placeplan.compute.impact.transport_policy`, or assisted already).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError

__all__ = [
    "GROUPS",
    "INDEPENDENT",
    "KINDS",
    "NC_OFFSET",
    "NC_SLOTS",
    "admitted_kinds",
    "draw_from_mix",
    "mix_table",
    "new_plan_kinds",
    "offered_by_nc_year",
    "settled_kinds",
    "transfer_kinds",
    "transition_table",
    "transport_eligible",
    "unoffered_kinds",
]

#: The flow model's placement groups, in the order of its group index.
GROUPS: tuple[str, ...] = ("mainstream", "specialist", "ap", "other", "fe")

#: Kinds of place: the groups, then ``independent`` (a new plan's first placement only).
KINDS: tuple[str, ...] = (*GROUPS, "independent")

#: Index of ``independent`` in :data:`KINDS`.
INDEPENDENT: int = KINDS.index("independent")

#: NC years are stored from -2 (``NC_OFFSET``) in ``NC_SLOTS`` slots.
NC_OFFSET, NC_SLOTS = 2, 64


def _nc_index(nc: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(nc, dtype=np.int64) + NC_OFFSET, 0, NC_SLOTS - 1)


def admitted_kinds(group: np.ndarray, indep_nm: np.ndarray) -> np.ndarray:
    """Return which settings take each kind: a ``len(KINDS) x S`` boolean array.

    A group's pupils take settings of that group; ``independent`` takes independent and
    non-maintained special schools only.

    Parameters
    ----------
    group
        Group index (into :data:`GROUPS`) of each setting.
    indep_nm
        Whether each setting is an independent or non-maintained special school.

    Returns
    -------
    admits
        ``admits[k, s]``: setting ``s`` takes pupils of kind ``k``.
    """
    admits = np.zeros((len(KINDS), group.size), dtype=bool)
    for k in range(len(GROUPS)):
        admits[k] = group == k
    admits[INDEPENDENT] = indep_nm
    return admits


def settled_kinds(
    kind: np.ndarray, placed: np.ndarray, setting_group: np.ndarray, was_in: np.ndarray
) -> np.ndarray:
    """Return kinds at the start of a year: a placed pupil's is their setting's group.

    A pupil not placed keeps their kind, except that ``independent`` (a new plan's first
    placement) becomes ``specialist`` for a pupil already in the cohort last year (``was_in``):
    after the first year the placement policy decides. New plans keep their drawn kind.
    """
    specialist = GROUPS.index("specialist")
    folded = np.where(was_in & (kind == INDEPENDENT), specialist, kind)
    return np.where(placed, setting_group, folded)


def offered_by_nc_year(admits: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Return ``offered[k, nc + NC_OFFSET]``: some setting takes kind ``k`` at that NC year."""
    nc = np.arange(NC_SLOTS) - NC_OFFSET
    serves = (lo[None, :] <= nc[:, None]) & (nc[:, None] <= hi[None, :])  # NC x S
    return (admits.astype(np.int64) @ serves.T.astype(np.int64)) > 0


def new_plan_kinds(
    df_mix: pd.DataFrame,
    nc_year: np.ndarray,
    fallback: np.ndarray,
    offered: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Draw each new plan's kind from the mix at its NC year, among the kinds offered there.

    Parameters
    ----------
    df_mix
        ``nc_year, kind, share`` (:func:`placeplan.compute.transitions.new_plan_mix`).
    nc_year
        NC year of each new plan.
    fallback
        Kind index used where the mix has no offered kind at that NC year (e.g. the group of a
        pupil of the same need and phase).
    offered
        From :func:`offered_by_nc_year`.
    u
        One uniform draw in [0, 1) per new plan.

    Returns
    -------
    kind
        Index into :data:`KINDS` per new plan.

    Raises
    ------
    SchemaValidationError
        If ``df_mix`` lacks columns, names unknown kinds or has negative shares.
    """
    missing = {"nc_year", "kind", "share"} - set(df_mix.columns)
    bad = sorted(set(df_mix.get("kind", pd.Series(dtype=str)).astype(str)) - set(KINDS))
    share = pd.to_numeric(df_mix.get("share", pd.Series(dtype=float)), errors="coerce")
    if missing or bad or (share < 0).any() or share.isna().any():
        msg = (
            f"`df_new_plan_mix` needs columns nc_year, kind, share (missing {sorted(missing)}), "
            f"kinds from {list(KINDS)} (unknown {bad}) and shares >= 0; build it with "
            "placeplan.compute.transitions.new_plan_mix"
        )
        raise SchemaValidationError(msg)
    table = mix_table(df_mix, offered)
    if table is None:
        return np.asarray(fallback, dtype=np.int64)
    return draw_from_mix(table, nc_year, fallback, u)


def draw_from_mix(
    table: np.ndarray, nc_year: np.ndarray, fallback: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw a kind per pupil from ``table[nc + NC_OFFSET, kind]`` weights (``fallback`` if none).

    Parameters
    ----------
    table
        ``NC_SLOTS x len(KINDS)`` non-negative weights: the published mix by NC year, zero for kinds
        no setting offers there.
    nc_year, fallback, u
        Per pupil: NC year, the kind kept where the row has no weight, a uniform draw in [0, 1).

    Returns
    -------
    kind
        Index into :data:`KINDS` per pupil.
    """
    weights = table[_nc_index(nc_year)]
    total = weights.sum(axis=1)
    cum = np.cumsum(weights, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    drawn = (u[:, None] < cum).argmax(axis=1)
    return np.where(total > 0, drawn, fallback).astype(np.int64)


def unoffered_kinds(
    kind: np.ndarray,
    nc_year: np.ndarray,
    offered: np.ndarray,
    mix: np.ndarray | None,
    u: np.ndarray,
) -> np.ndarray:
    """Re-draw the kind of pupils whose kind no setting offers at their new NC year.

    A pupil in alternative provision at 15 has no AP place at 16 (the release shows almost no AP
    after compulsory school age): keeping the kind would leave them unplaced for the rest of the
    horizon. Such a pupil takes a kind from the published mix at their new age (as a new plan
    there would), among the kinds offered; without a mix, or with none of it offered, the kind is
    kept.

    Parameters
    ----------
    kind, nc_year
        Kind index and the NC year each pupil moves into.
    offered
        From :func:`offered_by_nc_year`.
    mix
        ``NC_SLOTS x len(KINDS)`` published mix weights, already zero where not offered (None: no
        mix).
    u
        One uniform draw in [0, 1) per pupil.

    Returns
    -------
    kind
        The kind per pupil, changed only where it was not offered.
    """
    if mix is None or kind.size == 0:
        return kind
    lost = ~offered[kind, _nc_index(nc_year)]
    if not lost.any():
        return kind
    out = kind.copy()
    out[lost] = draw_from_mix(mix, nc_year[lost], kind[lost], u[lost])
    return out


def mix_table(df_mix: pd.DataFrame | None, offered: np.ndarray) -> np.ndarray | None:
    """Return the published mix as ``NC_SLOTS x len(KINDS)`` weights, zero where not offered."""
    if df_mix is None or df_mix.empty:
        return None
    table = np.zeros((NC_SLOTS, len(KINDS)))
    k = df_mix["kind"].astype(str).map(KINDS.index).to_numpy(dtype=np.int64)
    share = pd.to_numeric(df_mix["share"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    np.add.at(table, (_nc_index(df_mix["nc_year"].to_numpy()), k), share)
    return table * offered.T


def transition_table(df_transitions: pd.DataFrame, offered: np.ndarray) -> np.ndarray:
    """Return cumulative transition probabilities ``cum[from, nc + NC_OFFSET, to]``.

    Rates into a group that no setting offers at that NC year are dropped (the pupil stays in
    their group).

    Parameters
    ----------
    df_transitions
        ``from_group, to_group, nc_year, rate`` (:func:`placeplan.compute.transitions.
        phase_transfer_rates`): the probability that a pupil of ``from_group`` moving into NC
        year ``nc_year`` changes to ``to_group`` (groups of :data:`KINDS`; ``independent`` as a
        ``to_group`` places the pupil in an independent or non-maintained special school; rates
        out of ``independent`` are not used, as a transferring pupil's kind is their setting's
        group).
    offered
        From :func:`offered_by_nc_year`.

    Returns
    -------
    cum
        ``len(KINDS) x NC_SLOTS x len(KINDS)``; a pupil moves to the first ``to`` with
        ``u < cum[from, nc, to]`` and stays if there is none.

    Raises
    ------
    SchemaValidationError
        If columns are missing, groups unknown, rates outside [0, 1] or summing over 1.
    """
    cols = {"from_group", "to_group", "nc_year", "rate"}
    missing = sorted(cols - set(df_transitions.columns))
    if missing:
        msg = (
            f"`df_transitions` lacks column(s) {missing}; build it with "
            "placeplan.compute.transitions.phase_transfer_rates"
        )
        raise SchemaValidationError(msg)
    df = df_transitions
    groups = pd.concat([df["from_group"], df["to_group"]]).astype(str)
    rate = pd.to_numeric(df["rate"], errors="coerce")
    problems = []
    if not groups.isin(KINDS).all():
        problems.append(f"groups must be one of {list(KINDS)}")
    if (~rate.between(0, 1)).any():
        problems.append("rates must be in [0, 1]")
    if problems:
        raise SchemaValidationError(f"`df_transitions`: {'; '.join(problems)}")
    rates = np.zeros((len(KINDS), NC_SLOTS, len(KINDS)))
    f = df["from_group"].astype(str).map(KINDS.index).to_numpy(dtype=np.int64)
    g = df["to_group"].astype(str).map(KINDS.index).to_numpy(dtype=np.int64)
    n = _nc_index(df["nc_year"].to_numpy())
    keep = f != g
    np.add.at(rates, (f[keep], n[keep], g[keep]), rate.to_numpy(dtype=float)[keep])
    if (rates.sum(axis=2) > 1 + 1e-9).any():
        msg = "`df_transitions`: rates out of a group at one NC year sum to more than 1"
        raise SchemaValidationError(msg)
    rates *= offered.T[None, :, :]  # only into kinds offered at that NC year
    rates[INDEPENDENT] = 0.0  # a pupil's kind at a transfer is their setting's group
    return np.cumsum(rates, axis=2)


def transfer_kinds(
    kind: np.ndarray, nc_year: np.ndarray, u: np.ndarray, cum: np.ndarray
) -> np.ndarray:
    """Return the kinds of pupils at a phase transfer after the transition draw.

    Parameters
    ----------
    kind
        Group index of each transferring pupil (independent already folded into specialist).
    nc_year
        NC year each pupil moves into.
    u
        One uniform draw in [0, 1) per pupil (common to baseline and scenario runs).
    cum
        From :func:`transition_table`.

    Returns
    -------
    kind
        The new group index per pupil.
    """
    if kind.size == 0:
        return kind
    c = cum[kind, _nc_index(nc_year)]
    hit = u[:, None] < c
    return np.where(hit.any(axis=1), hit.argmax(axis=1), kind).astype(np.int64)


def transport_eligible(
    nc_year: np.ndarray,
    distance_miles: np.ndarray,
    assisted: np.ndarray,
    *,
    walking_distance_under8_miles: float,
    walking_distance_8plus_miles: float,
    post16_walking_distance_miles: float | None,
) -> np.ndarray:
    """Return whether each placed pupil counts for home-to-school transport £.

    A pupil counts when already assisted (``assisted``: e.g. eligible because of their special
    educational needs, whatever the distance) or when their home is beyond the walking distance
    for their age: the statutory distances for compulsory school age (under 8, 8 to 16; by
    :func:`placeplan.compute.impact.transport_policy`) and, for post-16 and 19-25, the
    authority's own distance when given (no statutory entitlement otherwise).

    Parameters
    ----------
    nc_year
        NC year of each pupil (Reception = 0; age on 1 September = NC year + 4).
    distance_miles
        One-way journey distance.
    assisted
        Whether the pupil is known to be assisted.
    walking_distance_under8_miles, walking_distance_8plus_miles
        Statutory walking distances (Education Act 1996 s.444 and Schedule 35B).
    post16_walking_distance_miles
        The authority's distance for post-16 and 19-25 learners; ``None``: not eligible by
        distance.

    Returns
    -------
    eligible
        Boolean per pupil.

    Examples
    --------
    >>> import numpy as np
    >>> transport_eligible(np.array([-1, 2, 5, 5, 13]), np.array([9.0, 2.5, 2.5, 3.5, 9.0]),
    ...     np.zeros(5, bool), walking_distance_under8_miles=2.0,
    ...     walking_distance_8plus_miles=3.0, post16_walking_distance_miles=None).tolist()
    [False, True, False, True, False]
    """
    # transport_policy's bands on arrays (run for every year of every flow run): age on
    # 1 September = NC year + 4; below compulsory school age or unknown: not by distance
    age = np.asarray(nc_year, dtype=float) + 4.0
    other = np.inf if post16_walking_distance_miles is None else post16_walking_distance_miles
    limit = np.select(
        [age < 4.0, age < 8, age < 16, age < 19, age >= 19],
        [np.inf, walking_distance_under8_miles, walking_distance_8plus_miles, other, other],
        default=np.inf,
    ).astype(float)
    return np.asarray(assisted, dtype=bool) | (np.asarray(distance_miles, dtype=float) > limit)
