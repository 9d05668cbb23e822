"""Static before/after figure of the candidate sites: the print form of the interactive site map.

Baseline panel: the specialist settings there are today (circles) and every candidate site as a
square coloured by its score, the proposed ones as hollow numbered stars. Scenario panel: the
same, with the proposed sites open (filled stars) and their drive-time catchments. The frame is
the authority; the legend sits beside the panels (see :mod:`placeplan.publish.maps.static` for
the conventions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placeplan.publish.maps._layers import check_frame
from placeplan.publish.maps._svg import (
    Legend,
    StaticBasemap,
    basemap_layers,
    basemap_legend,
    bounds,
    extent,
    figure,
    layer,
    layout_panels,
    legend_left,
    num,
    path_d,
    proposed_layer,
    proposed_legend,
    provision_layer,
    provision_legend,
    roads_layer,
)
from placeplan.publish.maps.sites import SCORE_COLOURS, score_colour

if TYPE_CHECKING:
    import geopandas as gpd

    from placeplan.publish.maps._svg import Panel

__all__ = ["static_sites"]

_CATCHMENT_SHADES = ("#08519c", "#3182bd", "#6baed6", "#9ecae1")  # nearest first


def _candidates(p: Panel, sites: gpd.GeoDataFrame, lo: float, hi: float) -> list[str]:
    body = []
    s = sites.sort_values("site_id", kind="stable")
    selected = s.get("selected", pd.Series(False, index=s.index)).fillna(False).astype(bool)
    scores = pd.to_numeric(s.get("score", pd.Series(np.nan, index=s.index)), errors="coerce")
    for row, sel, score in zip(s.itertuples(index=False), selected, scores, strict=True):
        if sel:
            continue  # drawn as a star on top
        x, y = p.xy(row.geometry.x, row.geometry.y)
        body.append(_square(x, y, score_colour(score, lo, hi)))
    return [layer("candidates", body)] if body else []


def _square(x: float, y: float, fill: str) -> str:
    """A candidate site's square centred on ``(x, y)``: squares, so a candidate never reads as
    a specialist setting (circles), whatever the colours."""
    return (
        f'<rect x="{num(x - 4.5)}" y="{num(y - 4.5)}" width="9" height="9" fill="{fill}" '
        'stroke="#444" stroke-width="0.8"/>'
    )


#: Fill of a candidate without a single published score (see :func:`score_colour`).
_UNSCORED = score_colour(float("nan"), 0.0, 1.0)


def _unscored_legend(leg: Legend, sites: gpd.GeoDataFrame) -> None:
    """Key the grey candidates drawn: those whose score is published as a range (a criterion is
    suppressed), and those not scored at all; nothing if every candidate drawn has a score."""
    drawn = sites
    if "selected" in sites:
        drawn = sites[~sites["selected"].fillna(False).astype(bool)]
    nan = pd.Series(np.nan, index=drawn.index)
    score = pd.to_numeric(drawn.get("score", nan), errors="coerce")
    ranged = (
        pd.to_numeric(drawn.get("score_low", nan), errors="coerce").notna()
        & pd.to_numeric(drawn.get("score_high", nan), errors="coerce").notna()
    )
    dot = _square(8, 6, _UNSCORED)
    if (score.isna() & ranged).any():
        leg.item(dot, "score a range: a criterion is suppressed (c); ranges in the sites table")
    if (score.isna() & ~ranged).any():
        leg.item(dot, "not scored")


def _catchments(p: Panel, iso: gpd.GeoDataFrame | None) -> tuple[list[str], list[float]]:
    if iso is None or iso.empty:
        return [], []
    minutes = sorted({float(v) for v in iso["minutes"]}, reverse=True)
    body = []
    for k, mins in enumerate(minutes):  # largest first, so the nearest band is on top
        shade = _CATCHMENT_SHADES[min(len(minutes) - 1 - k, len(_CATCHMENT_SHADES) - 1)]
        sub = iso[iso["minutes"].astype(float) == mins].sort_values("site_id", kind="stable")
        d = "".join(path_d(g, p) for g in sub.geometry)
        if d:
            body.append(f'<path d="{d}" fill="{shade}" fill-opacity="0.16" stroke="{shade}"/>')
    return ([layer("catchments", body, stroke_width="0.6")] if body else []), minutes


def static_sites(
    sites: gpd.GeoDataFrame,
    provision: gpd.GeoDataFrame | None,
    *,
    isochrones: gpd.GeoDataFrame | None = None,
    base: StaticBasemap | None = None,
    scenario_name: str = "Scenario",
    fig_id: str = "fs-sites",
) -> str:
    """Draw candidate sites by score and the proposals' catchments, baseline and scenario.

    Parameters
    ----------
    sites
        Candidate sites (EPSG:27700 points): ``site_id``, ``name``, ``score`` (may be NaN),
        ``selected``; through ``suppress`` unless internal when it has ``pupils_served``.
    provision
        Settings (``setting_id``, ``provision_type``, ``in_area``); specialist ones drawn.
    isochrones
        Drive-time catchments of the opened sites: ``site_id``, ``minutes``, polygons.
    base
        The basemap (outline, neighbouring areas, roads, attribution).
    scenario_name
        Title of the second panel.
    fig_id
        The ``id`` of the ``<svg>``.

    Returns
    -------
    str
        The ``<svg>`` markup.

    Raises
    ------
    SchemaValidationError
        If a pupil-level column is present or counts were not disclosure-controlled.
    """
    base = base or StaticBasemap()
    check_frame(sites, "sites", counts="pupils_served" in sites.columns, internal=base.internal)
    top_p, bottom_p = layout_panels(extent(bounds([base.outline, sites])))
    scores = pd.to_numeric(sites.get("score", pd.Series(dtype=float)), errors="coerce")
    lo = float(scores.min()) if scores.notna().any() else 0.0
    hi = float(scores.max()) if scores.notna().any() else 1.0
    panels = []
    minutes: list[float] = []
    key: list[str] = []
    for p, which, title in (
        (top_p, "baseline", "Baseline: candidate sites by score"),
        (bottom_p, "scenario", f"Scenario: {scenario_name}"),
    ):
        catch: list[str] = []
        if which == "scenario":
            catch, minutes = _catchments(p, isochrones)
        stars, key = proposed_layer(p, sites, filled=which == "scenario")
        layers = [
            *basemap_layers(p, base),
            *catch,
            *roads_layer(p, base),
            *provision_layer(p, provision),
            *_candidates(p, sites, lo, hi),
            *stars,
        ]
        panels.append((p, title, layers))
    leg = Legend(legend_left((top_p, bottom_p)), top_p.top - 12, [])
    leg.heading("Candidate site score (squares)")
    edges = np.linspace(lo, hi, len(SCORE_COLOURS) + 1)
    for i, colour in enumerate(SCORE_COLOURS):
        leg.item(_square(8, 6, colour), f"{edges[i]:.2f}–{edges[i + 1]:.2f}")
    _unscored_legend(leg, sites)
    if minutes:
        leg.heading("Catchments of the proposed sites (scenario)")
        for k, mins in enumerate(sorted(minutes)):
            shade = _CATCHMENT_SHADES[min(k, len(_CATCHMENT_SHADES) - 1)]
            alpha = 0.16 * (len(minutes) - k)  # nested bands: the nearest is the darkest
            leg.item(
                f'<rect x="0" y="0" width="16" height="11" fill="{shade}" '
                f'fill-opacity="{alpha:.2f}" stroke="{shade}"/>',
                f"within {mins:g} min drive",
            )
    provision_legend(leg, provision)
    proposed_legend(leg, key)
    basemap_legend(leg, "".join(x for _, _, layers in panels for x in layers))
    return figure(
        fig_id=fig_id,
        title="Candidate sites by score and the proposals' catchments, before and after",
        panels=panels,
        legend=leg,
        legend_top=top_p.top,
        base=base,
    )
