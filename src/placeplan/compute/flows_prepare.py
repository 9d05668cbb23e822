"""The placement-flow model's inputs checked and turned into arrays (:class:`FlowInputs`).

:func:`prepare_flow_inputs` checks the cohort, settings and journey tables against the contract
of :func:`placeplan.compute.flows.simulate_flows` (every problem named at once, with its fix) and
indexes settings, origins and journeys once for every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan._errors import SchemaValidationError
from placeplan.compute.flows_kinds import GROUPS
from placeplan.compute.flows_types import (
    INDEPENDENT_NON_MAINTAINED_TYPES,
    NON_STATE_TYPES,
    FlowScenario,
    Proposal,
    placement_group,
)
from placeplan.needs import NEED_CODES, split_codes

__all__ = [
    "FlowInputs",
    "prepare_flow_inputs",
    "site_definition",
]

#: Separates a new site's id from the number of its definition in internal setting keys.
_DEFINITION_SEP = "\x1f#"


def site_definition(p: Proposal) -> tuple[object, ...]:
    """What a proposal at a new site defines: type, location, needs, NC years and cost.

    Two proposals at the same new ``site_id`` with different definitions (an ASD primary base in
    one scenario, an SEMH secondary base in another) are two settings of the model, each with its
    own places; places, opening year and ramp-up are not part of the definition.
    """
    return (
        p.sen2_type,
        bool(p.in_area),
        tuple(sorted(p.needs)),
        int(p.nc_year_min),
        int(p.nc_year_max),
        p.cost_per_place_gbp,
    )


def _require(df: pd.DataFrame, name: str, cols: Sequence[str], problems: list[str]) -> bool:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        problems.append(f"`{name}` lacks column(s) {missing}; expected {list(cols)}")
        return False
    return True


@dataclass(frozen=True, slots=True)
class FlowInputs:
    """The settings, origins and journeys of one flow run as arrays (S settings, O origins).

    ``setting_ids`` are unique keys; ``labels`` the setting ids the outputs print (a new site
    proposed with two definitions is two settings with one label, see :func:`site_definition`).
    """

    setting_ids: np.ndarray  # str, S, unique
    sen2_type: np.ndarray  # str, S
    group: np.ndarray  # int, S
    in_area: np.ndarray  # bool, S
    non_state: np.ndarray  # bool, S
    indep_nm: np.ndarray  # bool, S
    lo: np.ndarray  # int, S
    hi: np.ndarray  # int, S
    need_ok: np.ndarray  # bool, S x n_needs
    cost: np.ndarray  # float, S
    base_places: np.ndarray  # float, S (inf = no limit)
    origin_ids: np.ndarray  # str, O
    time_min: np.ndarray  # float, O x S (NaN unreachable)
    dist_km: np.ndarray  # float, O x S
    ferry: np.ndarray  # bool, O x S
    groups: tuple[str, ...]
    labels: np.ndarray  # str, S, the published setting id
    new_sites: dict[tuple[str, tuple[object, ...]], str]  # (site, definition) -> setting key

    def column(self, p: Proposal) -> int:
        """Return the setting index a proposal adds its places to."""
        key = self.new_sites.get((p.site_id, site_definition(p)), p.site_id)
        return int(pd.Index(self.setting_ids).get_loc(key))


def prepare_flow_inputs(
    df_cohort: pd.DataFrame,
    df_settings: pd.DataFrame,
    df_journeys: pd.DataFrame,
    scenarios: Sequence[FlowScenario],
) -> tuple[FlowInputs, pd.DataFrame]:
    """Check the tables (every problem at once, exit 2) and index them as :class:`FlowInputs`;
    also return the cohort with its columns normalised."""
    problems: list[str] = []
    ok = _require(
        df_cohort,
        "df_cohort",
        ["pupil_ref", "nc_year", "need", "setting_id", "origin_id"],
        problems,
    )
    ok &= _require(
        df_settings,
        "df_settings",
        ["setting_id", "sen2_type", "in_area", "needs", "nc_year_min", "nc_year_max", "places"],
        problems,
    )
    ok &= _require(
        df_journeys, "df_journeys", ["origin_id", "setting_id", "time_min", "distance_km"], problems
    )
    if not ok:
        raise SchemaValidationError("; ".join(problems))
    st = df_settings.copy()
    st["setting_id"] = st["setting_id"].astype(str)
    if st["setting_id"].duplicated().any():
        problems.append(
            f"`df_settings.setting_id` has {int(st['setting_id'].duplicated().sum())} duplicate(s)"
        )
    cost_col = "cost_per_place_gbp"
    if cost_col not in st:
        st[cost_col] = 0.0
    names = {s.name for s in scenarios}
    if "baseline" in names or len(names) != len(scenarios):
        problems.append("scenario names must be unique and not 'baseline'")
    extra = []
    given = set(st["setting_id"])
    new_sites: dict[tuple[str, tuple[object, ...]], str] = {}
    for sc in scenarios:
        for p in sc.proposals:
            if p.site_id in given:
                continue
            if p.cost_per_place_gbp is None:
                problems.append(
                    f"proposal `{p.site_id}` in scenario `{sc.name}` is a new site: give "
                    "`cost_per_place_gbp`"
                )
            key = (p.site_id, site_definition(p))
            if key in new_sites:
                continue
            n_defs = sum(site == p.site_id for site, _ in new_sites)
            new_sites[key] = p.site_id if not n_defs else f"{p.site_id}{_DEFINITION_SEP}{n_defs}"
            extra.append(
                {
                    "setting_id": new_sites[key],
                    "sen2_type": p.sen2_type,
                    "in_area": p.in_area,
                    "needs": ";".join(p.needs),
                    "nc_year_min": p.nc_year_min,
                    "nc_year_max": p.nc_year_max,
                    "places": 0.0,
                    cost_col: p.cost_per_place_gbp or 0.0,
                    "_label": p.site_id,
                }
            )
    st["_label"] = st["setting_id"]
    if extra:
        st = pd.concat([st, pd.DataFrame(extra)], ignore_index=True)
    coh = df_cohort.copy()
    coh["pupil_ref"] = coh["pupil_ref"].astype(str)
    coh["origin_id"] = coh["origin_id"].astype(str)
    coh["setting_id"] = coh["setting_id"].astype("string")
    if coh["pupil_ref"].duplicated().any():
        problems.append(
            f"`df_cohort.pupil_ref` has {int(coh['pupil_ref'].duplicated().sum())} duplicate(s)"
        )
    if "placement_group" in coh:
        bad_group = coh["placement_group"].notna() & ~coh["placement_group"].isin(GROUPS)
        if bad_group.any():
            problems.append(
                f"`df_cohort.placement_group`: {int(bad_group.sum())} row(s) not one of "
                + ", ".join(GROUPS)
            )
    bad_need = ~coh["need"].isin(NEED_CODES)
    if bad_need.any():
        problems.append(
            f"`df_cohort.need`: {int(bad_need.sum())} row(s) are not SEN2 need codes "
            f"{list(NEED_CODES)}; normalise with placeplan.needs.normalise_need"
        )
    unknown = coh["setting_id"].notna() & ~coh["setting_id"].isin(st["setting_id"])
    if unknown.any():
        problems.append(
            f"`df_cohort.setting_id`: {int(unknown.sum())} pupil(s) at settings missing from "
            "`df_settings`; add those settings (out-of-area ones too)"
        )
    if problems:
        raise SchemaValidationError("; ".join(problems))

    setting_ids = st["setting_id"].to_numpy(dtype=object)
    sen2 = st["sen2_type"].astype(str).to_numpy(dtype=object)
    group = np.array([GROUPS.index(placement_group(t)) for t in sen2], dtype=np.int64)
    need_ok = np.zeros((len(st), len(NEED_CODES)), dtype=bool)
    for i, val in enumerate(st["needs"].to_numpy(dtype=object)):
        codes = split_codes(val)
        if not codes:
            need_ok[i] = True
        else:
            need_ok[i] = [c in codes for c in NEED_CODES]
    places = pd.to_numeric(st["places"], errors="coerce").to_numpy(dtype=float)
    places = np.where(np.isnan(places), np.inf, places)

    jr = df_journeys.copy()
    jr["origin_id"] = jr["origin_id"].astype(str)
    jr["setting_id"] = jr["setting_id"].astype(str)
    origins = np.array(sorted(set(jr["origin_id"]) | set(coh["origin_id"])), dtype=object)
    o_idx = pd.Index(origins)
    s_idx = pd.Index(setting_ids)
    oi = o_idx.get_indexer(jr["origin_id"])
    si = s_idx.get_indexer(jr["setting_id"])
    keep = si >= 0
    tmat = np.full((len(origins), len(setting_ids)), np.nan)
    dmat = np.full_like(tmat, np.nan)
    fmat = np.zeros(tmat.shape, dtype=bool)
    tmat[oi[keep], si[keep]] = jr["time_min"].to_numpy(dtype=float)[keep]
    dmat[oi[keep], si[keep]] = jr["distance_km"].to_numpy(dtype=float)[keep]
    if "ferry" in jr:
        fmat[oi[keep], si[keep]] = jr["ferry"].fillna(False).to_numpy(dtype=bool)[keep]
    for (site, _), other in new_sites.items():  # a site's other definitions: its journeys
        if other != site:
            i, j = s_idx.get_loc(site), s_idx.get_loc(other)
            tmat[:, j], dmat[:, j], fmat[:, j] = tmat[:, i], dmat[:, i], fmat[:, i]
    inp = FlowInputs(
        setting_ids=setting_ids,
        sen2_type=sen2,
        group=group,
        in_area=st["in_area"].astype(bool).to_numpy(),
        non_state=np.isin(sen2, list(NON_STATE_TYPES)),
        indep_nm=np.isin(sen2, list(INDEPENDENT_NON_MAINTAINED_TYPES)),
        lo=st["nc_year_min"].astype(int).to_numpy(),
        hi=st["nc_year_max"].astype(int).to_numpy(),
        need_ok=need_ok,
        cost=pd.to_numeric(st[cost_col], errors="coerce").fillna(0.0).to_numpy(dtype=float),
        base_places=places,
        origin_ids=origins,
        time_min=tmat,
        dist_km=dmat,
        ferry=fmat,
        groups=GROUPS,
        labels=st["_label"].to_numpy(dtype=object),
        new_sites=new_sites,
    )
    return inp, coh
