"""The impact tables of a run suppressed together: each programme's and each proposal's.

Beyond each table's own groupings (:class:`~placeplan.publish.report.impact.ImpactTable`), an
intruder can relate impact cells in three ways, and each is closed here:

* **movers**: only the pupils who change setting change placement or journey, so a count's
  change in a group is bounded by the group's movers (none: exact) and is often known from
  elsewhere (a proposal serving one phase and need changes only that group, and its
  all-pupils contribution is published): a count's baseline and scenario are hidden together
  (:data:`MOVER_PAIRED` counts), in the programme and in every proposal's table. And a change
  of k in such a count means at least k pupils moved: where a group's count of movers is
  hidden, a non-zero change of those counts is hidden too (its own side: the scenario, or a
  contribution's baseline);
* **shared sides**: a proposal *alone* has the programme's baseline and its *contribution* the
  programme's scenario (its baseline is the programme without it); a cell hidden on the shared
  side is hidden in both, and a pairing that must hide a shared cell hides it in the programme
  (a baseline in every scenario's programme, as the baseline is one table);
* **sums of proposals**: where the proposals serve different pupils their changes add up to the
  programme's change, so a proposal's change is hidden wherever the programme's is (alone: its
  scenario with the programme's scenario; contribution: its baseline with the programme's
  baseline).

Everything is suppressed again until no rule hides anything new.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from placeplan.publish.report.impact import ImpactTable
from placeplan.publish.report.model import Mode

__all__ = ["MOVER_PAIRED", "OWN_IN_CONTRIBUTION", "ImpactRun", "published_impacts"]

#: Counts a pupil enters or leaves only by changing setting (and all pupils, the same on both
#: sides): baseline and scenario are hidden together where few pupils move.
MOVER_PAIRED: tuple[str, ...] = (
    "pupils",
    "over_threshold_n",
    "ooa_placements",
    "independent_placements",
    "ferry_journeys",
    "over_threshold_road_n",
    "beyond_walking_n",
)
#: Counts a contribution measures against the programme without the proposal (its own).
OWN_IN_CONTRIBUTION: tuple[str, ...] = ("moved_n", "worse_off_n")

Cell = tuple[str, str, str, str]
Key = tuple[str, str]


@dataclass(frozen=True)
class ImpactRun:
    """One scenario's raw impact tables.

    Attributes
    ----------
    name
        The scenario's name.
    programme
        The programme's long impact table (``group_type, group, metric, baseline, scenario,
        change``).
    proposals
        ``(proposal, basis) -> long impact table`` with basis ``alone`` or ``contribution``
        (a ``programme`` key is ignored).
    """

    name: str
    programme: pd.DataFrame
    proposals: Mapping[tuple[str, str], pd.DataFrame] = field(default_factory=dict)


def published_impacts(
    runs: Sequence[ImpactRun],
    *,
    threshold: int,
    round_to: int,
    mode: Mode,
    force: Collection[Cell] = (),
) -> dict[str, dict[tuple[str, str], ImpactTable]]:
    """Suppress every impact table of a run together (see the module docstring).

    Parameters
    ----------
    runs
        One :class:`ImpactRun` per scenario.
    threshold, round_to, mode
        The plan's disclosure settings.
    force
        ``(group_type, group, metric, which)`` programme cells hidden elsewhere (the flow
        table's base year); a baseline is forced in every scenario.

    Returns
    -------
    dict
        Scenario name -> ``{("programme", "programme"): programme table, (proposal, basis):
        table, ...}``.
    """
    base = {c for c in force if c[3] == "baseline"}
    scen = {r.name: {c for c in force if c[3] != "baseline"} for r in runs}
    own: dict[tuple[str, str, str], set[Cell]] = {}
    while True:
        out, grew = {}, False
        for run in runs:
            tables, wants = _one_scenario(
                run, base | scen[run.name], own, threshold, round_to, mode
            )
            out[run.name] = tables
            for target, cell in wants:
                if target is None:  # the programme's (a baseline: every scenario's)
                    into = base if cell[3] == "baseline" else scen[run.name]
                else:
                    into = own[(run.name, *target)]
                if cell not in into:
                    into.add(cell)
                    grew = True
        if not grew or mode != "published":
            return out


def _one_scenario(
    run: ImpactRun,
    force: set[Cell],
    own: dict[tuple[str, str, str], set[Cell]],
    threshold: int,
    round_to: int,
    mode: Mode,
) -> tuple[dict[tuple[str, str], ImpactTable], list[tuple[tuple[str, str] | None, Cell]]]:
    """One scenario's tables under the current forcing, and the cells the rules still want
    hidden (``(None, cell)``: the programme's; ``((proposal, basis), cell)``)."""

    def table(raw: pd.DataFrame, forced: set[Cell]) -> ImpactTable:
        return ImpactTable(raw, threshold=threshold, round_to=round_to, mode=mode, force=forced)

    prog = table(run.programme, force)
    wants: list[tuple[tuple[str, str] | None, Cell]] = [
        (None, c) for c in _movers(prog, run.programme, "scenario", every=True)
    ]
    hid_b, hid_s = _hidden(prog, "baseline"), _hidden(prog, "scenario")
    out = {("programme", "programme"): prog}
    for key, raw in run.proposals.items():
        proposal, basis = key
        if proposal == "programme":
            continue
        mine = own.setdefault((run.name, proposal, basis), set())
        if basis == "alone":  # shares the baseline; its change hidden with the programme's
            # (not its movers: they are its own, no sum of proposals' movers is the programme's,
            # and hiding them hid zeros in groups it does not serve, known from what it serves)
            forced = hid_b | {(gt, g, m, "scenario") for gt, g, m, _ in hid_s if m != "moved_n"}
        else:  # shares the scenario (but its own movers); its baseline hidden with the programme's
            forced = {c for c in hid_s if c[2] not in OWN_IN_CONTRIBUTION}
            forced |= {(gt, g, m, "baseline") for gt, g, m, _ in hid_b}
        t = table(raw, forced | mine)
        out[key] = t
        shared = "baseline" if basis == "alone" else "scenario"
        for c in _movers(t, raw, "scenario" if basis == "alone" else "baseline", every=False):
            on_shared = c[3] == shared and c[2] not in OWN_IN_CONTRIBUTION
            wants.append((None, c) if on_shared else (key, c))
    wants += _lone_changes(out)
    return out, wants


def _lone_changes(out: dict[tuple[str, str], ImpactTable]) -> list[tuple[Key | None, Cell]]:
    """The proposals' changes (alone, or as contributions) add up to the programme's where they
    serve different pupils: where the programme's change is published and one proposal's is
    hidden, hide another's (the smallest non-zero; a zero is known from what the proposal
    serves). Hiding the programme's change instead hid all-pupils cells the journey-time bands
    give back, so where no other proposal's change can be hidden nothing is."""
    prog = out[("programme", "programme")]
    groups = list(zip(prog.table["group_type"], prog.table["group"], strict=True))
    wants: list[tuple[Key | None, Cell]] = []
    for basis, own in (("alone", "scenario"), ("contribution", "baseline")):
        keys = [k for k in out if k[1] == basis]
        for (gt, g), m in itertools.product(groups, MOVER_PAIRED):
            if len(keys) < 2 or not prog.has(m) or prog.cell(gt, g, m, "change").suppressed:
                continue
            cells = {k: out[k].cell(str(gt), str(g), m, "change") for k in keys}
            if sum(c.suppressed for c in cells.values()) != 1:
                continue
            free = [(abs(c.value), k) for k, c in cells.items() if not c.suppressed and c.value]
            if free:  # (none free: the programme's change is left, see the module docstring)
                wants.append((min(free)[1], (str(gt), str(g), m, own)))
    return wants


def _hidden(imp: ImpactTable, which: str) -> set[Cell]:
    """The hidden count cells of one side of a published impact table."""
    out: set[Cell] = set()
    t, mask = imp.table, imp.mask
    gts = t["group_type"].astype(str).to_numpy()
    gs = t["group"].astype(str).to_numpy()
    for col in mask.columns:
        metric, _, side = col.rpartition("__")
        if side != which:
            continue
        rows = np.flatnonzero(mask[col].to_numpy(dtype=bool))  # the mask is laid out as t
        out |= {(str(gts[i]), str(gs[i]), metric, which) for i in rows}
    return out


def _movers(imp: ImpactTable, raw: pd.DataFrame, own: str, *, every: bool) -> list[Cell]:
    """Cells to hide so that a paired count's baseline and scenario are hidden together (or
    neither is), and, where a group's count of movers is hidden, no paired count's change is
    published but a zero (a change of k is at least k movers: with the other groups' it gives
    the hidden count back). ``own`` is the side that is the table's own quantity; ``every``:
    pair in every group (the programme), else only where no one moves (a proposal's table, whose
    change elsewhere is its own and hidden by the movers rule: pairing there would push its
    hidden cells onto the programme's published ones)."""
    if imp.mask.empty or not imp.mask.to_numpy().any():
        return []
    r = raw.assign(group=raw["group"].astype(str)).set_index(["group_type", "group", "metric"])
    delta = pd.to_numeric(r["scenario"], errors="coerce") - pd.to_numeric(
        r["baseline"], errors="coerce"
    )
    rows = raw[raw["metric"].eq("moved_n")]
    moved = dict(
        zip(
            zip(rows["group_type"].astype(str), rows["group"].astype(str), strict=True),
            pd.to_numeric(rows["scenario"], errors="coerce"),
            strict=True,
        )
    )
    out = []
    for gt, g in sorted({(str(a), str(b)) for a, b, _ in r.index}):
        hidden = imp.cell(gt, g, "moved_n", "scenario").suppressed
        for m in MOVER_PAIRED:
            if not imp.has(m):
                continue
            b, s = imp.cell(gt, g, m, "baseline"), imp.cell(gt, g, m, "scenario")
            if b.suppressed != s.suppressed and (every or moved.get((gt, g), 0) == 0):
                out.append((gt, g, m, "scenario" if b.suppressed else "baseline"))
            elif hidden and not b.suppressed and delta.get((gt, g, m), 0) != 0:
                out.append((gt, g, m, own))
    return out
