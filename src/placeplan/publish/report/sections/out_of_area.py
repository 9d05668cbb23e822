"""Section 3 (DfE element): reliance on out of area placements."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from placeplan.compute.flows import RELIANCE
from placeplan.publish.disclosure import suppression_mask
from placeplan.publish.report.impact import group_table, metric_table
from placeplan.publish.report.model import (
    DFE_ELEMENTS,
    Cell,
    Figure,
    Paragraph,
    Section,
    Table,
)
from placeplan.publish.report.prose import prose
from placeplan.publish.report.sections.money import money_table

if TYPE_CHECKING:
    from placeplan.publish.report.context import ReportContext
    from placeplan.publish.report.model import Block, ReportInputs

__all__ = ["section"]


def section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    """Build section 3: placements and costs, by need, by setting, by flow and year by year."""
    th, imp = ctx.threshold, ctx.impact
    blocks: list[Block] = [
        Paragraph(prose("out_of_area", "intro", definition=RELIANCE.sentence)),
        money_table(
            metric_table(
                imp,
                "t-ooa-all",
                "Reliance on out of area placements, all pupils",
                [
                    "ooa_placements",
                    "independent_placements",
                    "annual_placement_cost_gbp",
                    "annual_transport_cost_gbp",
                ],
            )
        ),
    ]
    t = group_table(
        imp,
        "need_type",
        "t-ooa-need",
        "Out of area placements by primary need",
        [
            ("ooa_placements", "Out of area placements"),
            ("independent_placements", "Independent / non-maintained"),
        ],
    )
    if t:
        blocks.append(t)
    # `ctx.flows` is the suppressed copy of `inputs.ooa_flows`: both are None or neither
    flows = ctx.flows
    if flows is not None and not flows.empty and ctx.ooa_settings is not None:
        blocks.append(_destinations_table(ctx.ooa_settings, inputs.provision))
        blocks.append(_flows_figure(inputs, ctx))
        blocks.append(_flows_table(flows, inputs.provision, th))
    return Section("out-of-area", "3", DFE_ELEMENTS[2][1], tuple(blocks), True)


def _flows_figure(inputs: ReportInputs, ctx: ReportContext) -> Figure:
    """Static before/after map of the out-of-area flows, specialist settings and proposals."""
    from placeplan.publish.maps.static import (
        static_basemap,
        static_sites_flows,
    )
    from placeplan.publish.report.context import published_provision

    svg = static_sites_flows(
        ctx.sites,
        published_provision(inputs.provision),
        flows=ctx.flows,
        flow_origins=inputs.flow_origins if inputs.flow_origins is not None else inputs.areas,
        base=static_basemap(ctx.map_options),
        scenario_name=inputs.scenario_name,
        threshold=ctx.threshold,
        fig_id="fs-out-of-area",
        destination_totals=ctx.ooa_settings,  # the register's one decision per setting
    )
    return Figure(
        "fs-out-of-area",
        "Out-of-area, independent and non-maintained placements by home area and setting, "
        "baseline (top) and with the proposals (bottom); ferry journeys drawn via the crossing "
        f"they use; flows of fewer than {ctx.threshold} pupils not drawn.",
        svg,
        "Maps of specialist settings, proposed sites and placement flows, before and after.",
    )


def _setting_names(provision: pd.DataFrame | None) -> dict[str, str]:
    if provision is None or "name" not in provision.columns:
        return {}
    return dict(zip(provision["setting_id"].astype(str), provision["name"], strict=False))


def _setting_type(provision: pd.DataFrame | None) -> dict[str, str]:
    if provision is None or "provision_type" not in provision.columns:
        return {}
    out = {}
    for r in provision.itertuples(index=False):
        kind = str(r.provision_type).replace("_", "-")
        in_area = bool(getattr(r, "in_area", True))
        out[str(r.setting_id)] = kind + ("" if in_area else ", out of area")
    return out


def _destinations_table(sup: pd.DataFrame, provision: pd.DataFrame | None) -> Table:
    """Out of area / independent placements by setting (the register's totals of the flows)."""
    mask = suppression_mask(sup)
    names, kinds = _setting_names(provision), _setting_type(provision)
    # order by the published figure (suppressed last), never by a hidden one
    sup = sup.assign(_b=pd.to_numeric(sup["baseline"], errors="coerce").fillna(-1.0))
    sup = sup.sort_values(["_b", "destination_id"], ascending=[False, True], kind="stable")
    rows = []
    for idx, r in sup.iterrows():
        did = str(r["destination_id"])
        cells = [
            Cell(names.get(did, did)),
            Cell(kinds.get(did, "")),
        ]
        for w in ("baseline", "scenario", "change"):
            v = r[w]
            cells.append(
                Cell(
                    None if pd.isna(v) else float(v),
                    "count",
                    suppressed=bool(mask.at[idx, w]) if w in mask.columns else False,
                    signed=w == "change",
                )
            )
        rows.append(tuple(cells))
    return Table(
        "t-ooa-settings",
        "Out-of-area, independent and non-maintained placements by setting (today's cohort; "
        "scenario: the snapshot with every proposal open)",
        ("Setting", "Type", "Baseline pupils", "Scenario pupils", "Change"),
        tuple(rows),
    )


def _flows_table(flows: pd.DataFrame, provision: pd.DataFrame | None, th: int) -> Table:
    """Home area → setting flows; pairs with no published non-zero count are left out."""
    mask = suppression_mask(flows)
    names = _setting_names(provision)
    f = flows.sort_values(["destination_id", "origin_id"], kind="stable")
    rows = []
    left_out = 0
    for idx, r in f.iterrows():
        cells = []
        shown = False
        for w in ("baseline", "scenario"):
            v = r[w]
            s = bool(mask.at[idx, w]) if w in mask.columns else False
            shown = shown or (not s and pd.notna(v) and float(v) > 0)
            cells.append(Cell(None if pd.isna(v) else float(v), "count", suppressed=s))
        if not shown:
            left_out += 1
            continue
        dest = r.get("destination_name", names.get(str(r["destination_id"]), r["destination_id"]))
        orig = r.get("origin_name", r["origin_id"])
        rows.append((Cell(str(orig)), Cell(str(dest)), *cells))
    note = prose("out_of_area", "flows_note", threshold=th, left_out=left_out)
    return Table(
        "t-ooa-flows",
        "Out-of-area, independent and non-maintained placements by home planning area and "
        "setting (aggregated flows, as drawn on the maps)",
        ("From (home area)", "To (setting)", "Baseline pupils", "Scenario pupils"),
        tuple(rows),
        note=note,
    )
