"""The placement-flow model's year loop: pupils drawn, aged, placed and counted.

:func:`build_population` draws every run's pupils and random numbers once (common random
numbers); :func:`run_years` places them year by year under the policy and the movers rule;
:func:`year_measures`, :func:`pupil_table` and :func:`moves_table` count the result. The
contract is :func:`placeplan.compute.flows.simulate_flows`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan.compute.flows_kinds import (
    GROUPS,
    INDEPENDENT,
    admitted_kinds,
    mix_table,
    new_plan_kinds,
    offered_by_nc_year,
    settled_kinds,
    transfer_kinds,
    transition_table,
    transport_eligible,
    unoffered_kinds,
)
from placeplan.compute.flows_prepare import FlowInputs
from placeplan.compute.flows_types import (
    PATHS,
    FlowParams,
    FlowScenario,
    Movers,
    academic_year,
    start_year,
)
from placeplan.needs import NEED_CODES
from placeplan.vocab import KM_PER_MILE

__all__ = [
    "Population",
    "YearTrace",
    "build_population",
    "moves_table",
    "places_by_year",
    "pupil_table",
    "run_years",
    "year_measures",
]

_PLACED_TYPES_PREFIX = "placements:"  # placements:<sen2_type>:<in_area|out_of_area>
_OUT = -2  # not (yet / any longer) in the cohort
_UNPLACED = -1
_TRANSITION_COLS = ["from_group", "to_group", "nc_year", "rate"]
_KEY_SCALE = 1.0e6  # journey times are far below this, so ranks dominate the sort key
_SPECIALIST = GROUPS.index("specialist")
_LAST_RESORT = 16 * _KEY_SCALE  # above every rank (at most 3) of the policy's sort key


@dataclass(frozen=True, slots=True)
class Population:
    """Every pupil of a run (N) and their random draws per year (Y), drawn once per seed."""

    ref: np.ndarray  # str, N
    need: np.ndarray  # int index into NEED_CODES
    origin: np.ndarray  # int index into origin_ids
    group: np.ndarray  # int index into groups
    nc0: np.ndarray  # NC year in the entry year
    entry: np.ndarray  # year index of entry (0 = baseline)
    setting0: np.ndarray  # baseline setting index, -1 if none
    u_cease: np.ndarray  # N x Y
    u_break: np.ndarray  # N x Y
    u_order: np.ndarray  # N x Y
    u_trans: np.ndarray  # N x Y, transition draw at a phase transfer
    trans_cum: np.ndarray  # groups x NC x groups (flows_kinds.transition_table)
    assisted: np.ndarray  # bool N, known to be assisted with transport
    offered: np.ndarray  # kinds x NC slots (flows_kinds.offered_by_nc_year)
    mix: np.ndarray | None  # NC slots x kinds, published mix where offered (flows_kinds.mix_table)


def _phase_band(nc: np.ndarray) -> np.ndarray:
    return np.where(nc <= 6, 0, np.where(nc <= 11, 1, 2))


def _new_plan_rows(df_new_plans: pd.DataFrame, path: str, params: FlowParams) -> pd.DataFrame:
    """New plans of ``path`` to draw: ``_y, nc_year, need, _n`` (whole pupils, sorted)."""
    np_ = df_new_plans
    years = np_["year"].map(start_year).to_numpy()
    counts = np.rint(pd.to_numeric(np_[path], errors="coerce").fillna(0.0).to_numpy()).astype(int)
    # a plan above the leaving NC year would end the year it starts: not a pupil of the model
    nc_new = pd.to_numeric(np_["nc_year"], errors="coerce").to_numpy(dtype=float)
    sel = (years > params.base_year) & (years <= params.horizon_year) & (counts > 0)
    sel &= nc_new <= params.leaving_nc_year
    return (
        np_.loc[sel, ["nc_year", "need"]]
        .assign(_y=years[sel], _n=counts[sel], nc_year=lambda d: d["nc_year"].astype(int))
        .groupby(["_y", "nc_year", "need"], sort=True, as_index=False)["_n"]
        .sum()
    )


def build_population(
    coh: pd.DataFrame,
    inp: FlowInputs,
    df_new_plans: pd.DataFrame,
    *,
    path: str,
    seed: int,
    params: FlowParams,
    mix: pd.DataFrame | None = None,
    transitions: pd.DataFrame | None = None,
) -> Population:
    """Draw one run's pupils: the baseline cohort and the new plans of ``path``, each with its
    origin, kind of place and random draws per year (seeded: every run of a seed shares them)."""
    n_years = len(params.years)
    s_idx = pd.Index(inp.setting_ids)
    base_setting = s_idx.get_indexer(pd.Index(coh["setting_id"].fillna("\x00").astype(str)))
    need = pd.Index(NEED_CODES).get_indexer(pd.Index(coh["need"]))
    origin = pd.Index(inp.origin_ids).get_indexer(pd.Index(coh["origin_id"]))
    nc = coh["nc_year"].astype(int).to_numpy()
    if "placement_group" in coh:
        given = coh["placement_group"].astype("string").fillna("mainstream").to_numpy(dtype=str)
        wanted = np.array([inp.groups.index(g) for g in given], dtype=np.int64)
    else:
        wanted = np.full(len(coh), inp.groups.index("mainstream"), dtype=np.int64)
    group = np.where(base_setting >= 0, inp.group[np.maximum(base_setting, 0)], wanted)
    n0 = len(coh)
    rng0 = np.random.default_rng([seed, 0])
    u0 = rng0.random((4, n0, n_years))
    # new pupils for this path
    rng = np.random.default_rng([seed, 1 + PATHS.index(path)])
    rows = _new_plan_rows(df_new_plans, path, params)
    refs: list[str] = []
    needs_: list[np.ndarray] = []
    origins_: list[np.ndarray] = []
    donors_: list[np.ndarray] = []
    ncs: list[np.ndarray] = []
    entries: list[np.ndarray] = []
    band0 = _phase_band(nc)
    pools: dict[tuple[int, int], np.ndarray] = {}
    for y, nc_y, nd, k in rows[["_y", "nc_year", "need", "_n"]].itertuples(index=False):
        ni = NEED_CODES.index(str(nd))
        band = int(_phase_band(np.array([nc_y]))[0])
        pool = pools.get((ni, band))
        if pool is None:
            pool = np.flatnonzero((need == ni) & (band0 == band))
            if pool.size == 0:
                pool = np.flatnonzero(need == ni)
            if pool.size == 0:
                pool = np.arange(n0)
            pools[(ni, band)] = pool
        donors = rng.choice(pool, size=int(k), replace=True)
        start = len(refs)
        refs += [f"new-{y}-{nd}-{nc_y}-{start + j}" for j in range(int(k))]
        needs_.append(np.full(k, ni))
        origins_.append(origin[donors])
        donors_.append(donors)
        ncs.append(np.full(k, nc_y))
        entries.append(np.full(k, int(y) - params.base_year))
    n1 = len(refs)
    u1 = rng.random((4, n1, n_years))

    def cat(base: np.ndarray, new: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([base, *new]) if new else base

    donor = cat(np.zeros(0, dtype=np.int64), donors_)
    offered = offered_by_nc_year(admitted_kinds(inp.group, inp.indep_nm), inp.lo, inp.hi)
    new_kind = group[donor]  # a new plan's kind: the published mix at its NC year, else a donor's
    if mix is not None and n1:
        u_kind = np.random.default_rng([seed, 10 + PATHS.index(path)]).random(n1)
        new_kind = new_plan_kinds(mix, cat(np.zeros(0, int), ncs), new_kind, offered, u_kind)
    given_assisted = coh.get("transport_assisted", pd.Series(False, index=coh.index))
    assisted = given_assisted.fillna(False).astype(bool).to_numpy()

    return Population(
        ref=np.concatenate([coh["pupil_ref"].to_numpy(dtype=object), np.array(refs, dtype=object)]),
        need=cat(need, needs_),
        origin=cat(origin, origins_),
        group=np.concatenate([group, new_kind]),
        nc0=cat(nc, ncs),
        entry=cat(np.zeros(n0, dtype=int), entries),
        setting0=np.concatenate([base_setting, np.full(n1, -1)]),
        u_cease=np.concatenate([u0[0], u1[0]]),
        u_break=np.concatenate([u0[1], u1[1]]),
        u_order=np.concatenate([u0[2], u1[2]]),
        u_trans=np.concatenate([u0[3], u1[3]]),
        trans_cum=transition_table(
            transitions if transitions is not None else pd.DataFrame(columns=_TRANSITION_COLS),
            offered,
        ),
        assisted=np.concatenate([assisted, assisted[donor]]),
        offered=offered,
        mix=mix_table(mix, offered),
    )


# -- simulation ----------------------------------------------------------------------------------
def places_by_year(inp: FlowInputs, sc: FlowScenario | None, years: Sequence[int]) -> np.ndarray:
    """Places per setting and year (S x Y): the baseline's, plus ``sc``'s proposals from their
    opening years (ramped as the proposal says)."""
    out = np.repeat(inp.base_places[:, None], len(years), axis=1)
    if sc is None:
        return out
    for p in sc.proposals:
        i = inp.column(p)
        out[i] += np.array([p.places_in(y) for y in years], dtype=float)
    return out


def _rank(inp: FlowInputs, order: Sequence[str]) -> np.ndarray:
    rank = np.zeros(len(inp.setting_ids))
    crit = [c for c in order if c != "time"]
    for pos, c in enumerate(crit):
        bad = ~inp.in_area if c == "in_area" else inp.non_state
        rank += bad * 2.0 ** (len(crit) - 1 - pos)
    return rank


@dataclass(slots=True)
class YearTrace:
    setting: np.ndarray  # N x Y, setting index / _UNPLACED / _OUT
    status: np.ndarray  # N x Y, small int codes
    counts: dict[str, np.ndarray]
    moves: list[tuple[int, int, int, int, float, float]]


_ST_OUT, _ST_PLACED, _ST_UNPLACED, _ST_LEFT, _ST_CEASED = 0, 1, 2, 3, 4
_STATUS_NAMES = {
    _ST_PLACED: "placed",
    _ST_UNPLACED: "unplaced",
    _ST_LEFT: "left",
    _ST_CEASED: "ceased",
}


def _status_names(codes: np.ndarray) -> np.ndarray:
    """The :data:`_STATUS_NAMES` of status ``codes`` (an object array; NaN for other codes)."""
    names = np.full(256, np.nan, dtype=object)
    for code, name in _STATUS_NAMES.items():
        names[code] = name
    return names[codes.astype(np.uint8)]


def run_years(
    pop: Population,
    inp: FlowInputs,
    places: np.ndarray,
    params: FlowParams,
    movers: Movers,
) -> YearTrace:
    """Place ``pop`` year by year under the policy and the ``movers`` rule (the model's loop)."""
    n, n_years = pop.ref.size, len(params.years)
    rank = _rank(inp, params.policy_order)
    kind, admits = pop.group.copy(), admitted_kinds(inp.group, inp.indep_nm)  # see flows_kinds
    setting = np.full((n, n_years), _OUT, dtype=np.int64)
    status = np.zeros((n, n_years), dtype=np.int8)
    counts = {
        k: np.zeros(n_years) for k in ("new_plans", "transfers", "breakdowns", "leavers", "ceased")
    }
    moves: list[tuple[int, int, int, int, float, float]] = []
    cease_rate = np.full(64, params.ceased_rate)
    for k, v in params.ceased_rate_by_nc_year.items():
        cease_rate[int(k) + 2] = v  # NC years from -2

    def key_matrix(rows: np.ndarray, nc: np.ndarray) -> np.ndarray:
        t = inp.time_min[pop.origin[rows]]
        fits = (
            inp.need_ok[:, pop.need[rows]].T
            & (inp.lo[None, :] <= nc[:, None])
            & (nc[:, None] <= inp.hi[None, :])
            & ~np.isnan(t)
        )
        key = rank[None, :] * _KEY_SCALE + t
        # an independent first placement with none free takes a specialist place (last resort)
        spare = (kind[rows] == INDEPENDENT)[:, None] & admits[_SPECIALIST][None, :] & fits
        return np.where(admits[kind[rows]] & fits, key, np.where(spare, key + _LAST_RESORT, np.inf))

    for t in range(n_years):
        nc = pop.nc0 + (t - pop.entry)
        if t == 0:
            present = pop.entry == 0
            cur = np.where(present, pop.setting0, _OUT)
            to_place = present & (pop.setting0 < 0)
            exclude = np.full(n, -1)
        else:
            prev = setting[:, t - 1]
            was_in = prev != _OUT
            leaving = was_in & (nc > params.leaving_nc_year)
            ceasing = was_in & ~leaving & (pop.u_cease[:, t] < cease_rate[np.clip(nc + 2, 0, 63)])
            status[leaving, t] = _ST_LEFT
            status[ceasing, t] = _ST_CEASED
            counts["leavers"][t] = leaving.sum()
            counts["ceased"][t] = ceasing.sum()
            stays = was_in & ~leaving & ~ceasing
            placed_prev = stays & (prev >= 0)
            p0 = np.maximum(prev, 0)
            transfer = placed_prev & ((nc < inp.lo[p0]) | (nc > inp.hi[p0]))
            breakdown = placed_prev & ~transfer & (pop.u_break[:, t] < params.breakdown_rate)
            kind = settled_kinds(kind, placed_prev, inp.group[p0], was_in)
            drawn = transfer_kinds(kind, nc, pop.u_trans[:, t], pop.trans_cum)
            shift = placed_prev & ~transfer & (drawn != kind) & (params.kind_moves == "any_year")
            breakdown |= shift  # a move between kinds of place re-places the pupil
            kind = np.where(transfer | shift, drawn, kind)
            new = pop.entry == t
            counts["transfers"][t] = transfer.sum()
            counts["breakdowns"][t] = breakdown.sum()
            counts["new_plans"][t] = new.sum()
            cur = np.where(placed_prev & ~transfer & ~breakdown, prev, _OUT)
            to_place = (stays & (prev == _UNPLACED)) | transfer | breakdown | new
            # a kind no setting offers at the pupil's NC year (AP after 16) takes the age's mix
            moving = np.flatnonzero(to_place & ~new)
            kind[moving] = unoffered_kinds(
                kind[moving], nc[moving], pop.offered, pop.mix, pop.u_trans[moving, t]
            )
            exclude = np.where(breakdown, prev, -1)
        occ = np.bincount(cur[cur >= 0], minlength=len(inp.setting_ids)).astype(float)
        free = places[:, t] - occ
        unsorted = np.flatnonzero(to_place)
        rows = unsorted[np.argsort(pop.u_order[unsorted, t], kind="stable")]
        if rows.size:
            keys = key_matrix(rows, nc[rows])
            ex = exclude[rows]
            # the setting that broke down is the last resort: a pupil with no other place of
            # their kind (the area's one college) goes back rather than unplaced
            keys[np.flatnonzero(ex >= 0), ex[ex >= 0]] += _LAST_RESORT
            _place_in_order(rows, keys, free, cur)
        if movers != "transfers":  # settled movers: only by the scenario's rule
            settled = cur >= 0
            settled[rows] = False
            if movers == "out_of_area":
                settled &= ~inp.in_area[np.maximum(cur, 0)]
            moves += _move_settled(
                pop, inp, np.flatnonzero(settled), cur, free, rank, key_matrix, t
            )
        setting[:, t] = cur
        in_cohort = cur != _OUT
        status[in_cohort & (cur >= 0), t] = _ST_PLACED
        status[cur == _UNPLACED, t] = _ST_UNPLACED
    return YearTrace(setting=setting, status=status, counts=counts, moves=moves)


def _place_in_order(rows: np.ndarray, keys: np.ndarray, free: np.ndarray, cur: np.ndarray) -> None:
    """Place ``rows`` one at a time, in their order, in the free setting of least key (in place).

    ``keys[j]`` is row ``j``'s policy key per setting (inf: not for them); ``free`` places are
    taken as pupils are placed; a pupil with no finite key left is ``_UNPLACED``.

    Free places only shrink here, and only at the setting just taken: so every remaining row's
    best setting is found at once, and found again only after a setting fills (the same choice
    as one row at a time, at the cost of one ``argmin`` per setting that fills).
    """
    avail = np.where(free > 0, keys, np.inf)  # (row j's keys with the settings free for it)
    j, m = 0, len(rows)
    while j < m:
        best = np.argmin(avail[j:], axis=1).tolist()
        filled = False
        for s in best:
            r = rows[j]
            if math.isfinite(avail[j, s]):
                cur[r] = s
                free[s] -= 1
                filled = not free[s] > 0
            else:
                cur[r] = _UNPLACED
            j += 1
            if filled:
                avail[j:, s] = np.inf
                break


def _move_settled(
    pop: Population,
    inp: FlowInputs,
    cand: np.ndarray,
    cur: np.ndarray,
    free: np.ndarray,
    rank: np.ndarray,
    key_matrix: Callable[[np.ndarray, np.ndarray], np.ndarray],
    t: int,
) -> list[tuple[int, int, int, int, float, float]]:
    """Move settled pupils ``cand`` to a strictly better free place by the policy (in place)."""
    moves: list[tuple[int, int, int, int, float, float]] = []
    if not cand.size:
        return moves
    nc = pop.nc0[cand] + (t - pop.entry[cand])
    keys = key_matrix(cand, nc)
    now = rank[cur[cand]] * _KEY_SCALE + inp.time_min[pop.origin[cand], cur[cand]]
    now = np.where(np.isnan(now), -np.inf, now)  # unknown journey: never moved
    best = np.where(free[None, :] > 0, keys, np.inf).min(axis=1)
    hopeful = best < now
    cand, keys, now = cand[hopeful], keys[hopeful], now[hopeful]
    for j in np.argsort(-now, kind="stable"):
        r = int(cand[j])
        row = np.where(free > 0, keys[j], np.inf)
        s = int(np.argmin(row))
        if row[s] < now[j]:
            old = int(cur[r])
            before = float(inp.time_min[pop.origin[r], old])
            after = float(inp.time_min[pop.origin[r], s])
            free[old] += 1
            free[s] -= 1
            cur[r] = s
            moves.append((r, t, old, s, before, after))
    return moves


def year_measures(
    tr: YearTrace,
    pop: Population,
    inp: FlowInputs,
    params: FlowParams,
    base_time: np.ndarray | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Count :data:`~placeplan.compute.flows_types.MEASURES` for every year of one run."""
    n_years = len(params.years)
    time_all = np.full(tr.setting.shape, np.nan)
    rows_list = []
    s_count = len(inp.setting_ids)
    loc = np.where(inp.in_area, "in_area", "out_of_area")
    combo = [
        f"{_PLACED_TYPES_PREFIX}{typ}:{where}"
        for typ, where in zip(inp.sen2_type, loc, strict=True)
    ]
    combo_code, combo_names = pd.factorize(pd.Series(combo), sort=True)
    for t, y in enumerate(params.years):
        cur = tr.setting[:, t]
        placed = np.flatnonzero(cur >= 0)
        s = cur[placed]
        tm = inp.time_min[pop.origin[placed], s]
        km = inp.dist_km[pop.origin[placed], s]
        time_all[placed, t] = tm
        nc = pop.nc0[placed] + (t - pop.entry[placed])
        limit = np.where(nc <= 6, params.max_journey_primary_min, params.max_journey_secondary_min)
        eligible = transport_eligible(
            nc,
            km / KM_PER_MILE,
            pop.assisted[placed],
            walking_distance_under8_miles=params.walking_distance_under8_miles,
            walking_distance_8plus_miles=params.walking_distance_8plus_miles,
            post16_walking_distance_miles=params.post16_walking_distance_miles,
        )
        n_placed = placed.size
        ooa = float((~inp.in_area[s]).sum())
        by_s = np.bincount(s, minlength=s_count)
        vals: dict[str, float] = {
            "cohort": float((cur != _OUT).sum()),
            "placed": float(n_placed),
            "unplaced": float((cur == _UNPLACED).sum()),
            "new_plans": float(tr.counts["new_plans"][t]),
            "transfers": float(tr.counts["transfers"][t]),
            "breakdowns": float(tr.counts["breakdowns"][t]),
            "leavers": float(tr.counts["leavers"][t]),
            "ceased": float(tr.counts["ceased"][t]),
            "out_of_area": ooa,
            "out_of_area_pct": 100.0 * ooa / n_placed if n_placed else math.nan,
            "independent_non_maintained": float(inp.indep_nm[s].sum()),
            "journey_time_total_min": float(np.nansum(tm)),
            "journey_time_mean_min": float(np.nanmean(tm)) if n_placed else math.nan,
            "distance_total_km": float(np.nansum(km)),
            "distance_mean_km": float(np.nanmean(km)) if n_placed else math.nan,
            "over_max_journey": float((tm > limit).sum()),
            "ferry_journeys": float(inp.ferry[pop.origin[placed], s].sum()),
            "placement_cost_gbp": float(inp.cost[s].sum()),
            "transport_cost_gbp": float(
                np.nansum(np.where(eligible, km, 0.0))
                / KM_PER_MILE
                * params.transport_cost_per_mile_gbp
                * 2
                * params.school_days
            ),
        }
        if base_time is not None:
            delta = time_all[:, t] - base_time[:, t]
            vals["worse_off"] = float((delta > params.worse_off_min).sum())
        else:
            vals["worse_off"] = 0.0
        mv = [m for m in tr.moves if m[1] == t]
        extra = np.array([m[5] - m[4] for m in mv])
        vals["movers"] = float(len(mv))
        vals["movers_worse_off"] = float((extra > 0).sum())
        vals["movers_extra_time_total_min"] = float(extra[extra > 0].sum()) if mv else 0.0
        vals["movers_journey_time_mean_min"] = (
            float(np.mean([m[5] for m in mv])) if mv else math.nan
        )
        label = academic_year(y)
        rows_list += [(label, k, v) for k, v in vals.items()]
        per_combo = np.bincount(combo_code, weights=by_s, minlength=len(combo_names))
        rows_list += [
            (label, name, float(v)) for name, v in zip(combo_names, per_combo, strict=True)
        ]
    del n_years
    return pd.DataFrame(rows_list, columns=["year", "measure", "value"]), time_all


def pupil_table(
    tr: YearTrace,
    pop: Population,
    inp: FlowInputs,
    params: FlowParams,
    time_all: np.ndarray,
    base_time: np.ndarray | None,
) -> pd.DataFrame:
    """One row per pupil and year of a run (internal: never published)."""
    pi, ti = np.nonzero(tr.status != _ST_OUT)
    s = tr.setting[pi, ti]
    placed = s >= 0
    dist = np.full(pi.size, np.nan)
    dist[placed] = inp.dist_km[pop.origin[pi[placed]], s[placed]]
    sid = np.full(pi.size, None, dtype=object)
    sid[placed] = inp.labels[s[placed]]
    ferry = np.zeros(pi.size, dtype=bool)
    ferry[placed] = inp.ferry[pop.origin[pi[placed]], s[placed]]
    change = time_all[pi, ti] - base_time[pi, ti] if base_time is not None else np.zeros(pi.size)
    years = np.array([academic_year(y) for y in params.years], dtype=object)
    return pd.DataFrame(
        {
            "pupil_ref": pop.ref[pi],
            "year": years[ti],
            "status": _status_names(tr.status[pi, ti]),
            "setting_id": sid,
            "time_min": time_all[pi, ti],
            "distance_km": dist,
            "change_vs_baseline_min": change,
            # who the pupil is, for models that re-place the flow's pupils (compute.programme_*)
            "origin_id": inp.origin_ids[pop.origin[pi]],
            "need": np.asarray(NEED_CODES, dtype=object)[pop.need[pi]],
            "nc_year": pop.nc0[pi] + ti - pop.entry[pi],
            # the journey crosses by ferry (as ``ferry_journeys``), for the mitigation rules
            "ferry": ferry,
        }
    )


def moves_table(
    tr: YearTrace, pop: Population, inp: FlowInputs, params: FlowParams
) -> pd.DataFrame:
    """One row per settled pupil moved by the scenario, with the journey change in minutes."""
    cols = ["pupil_ref", "year", "from_setting_id", "to_setting_id", "before_min", "after_min"]
    years = [academic_year(y) for y in params.years]
    df = pd.DataFrame(
        [
            (
                pop.ref[r],
                years[t],
                inp.labels[a],
                inp.labels[b],
                x,
                y,
            )
            for r, t, a, b, x, y in tr.moves
        ],
        columns=cols,
    )
    df["extra_min"] = (df["after_min"] - df["before_min"]).astype(float)
    df["worse_off"] = df["extra_min"] > 0
    return df
