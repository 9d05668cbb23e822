"""Offline folium maps for the travel impact assessment.

This is the only module that reprojects data to EPSG:4326. Every map it returns is
self-contained: no tiles (the "basemap" is vector: island/authority outline, LSOA boundaries,
optional main roads), Leaflet's JavaScript and CSS inlined from the ``xstatic-leaflet`` package,
none of folium's CDN defaults (jQuery, Bootstrap, Font Awesome, awesome-markers), no branca
colormap (it fetches d3 from a CDN) — legends are static HTML. Element ids are made deterministic
so the same inputs render to the same bytes.

Maps show aggregates only. In published mode (the default) every frame that carries pupil counts
must have been through :func:`placeplan.publish.disclosure.suppress`; suppressed values are shown
as "c", and a flow whose count is suppressed is not drawn at all (its existence would disclose).
Pupil points are never drawn.

Every name on a map comes from a file the authority did not write, so none reaches JavaScript
source unescaped (:mod:`placeplan.publish.escape`): tooltips are HTML built from
:func:`~placeplan.publish.escape.html_text` parts and embedded as a JSON string literal
(:class:`JsonTooltip`, never folium's backtick template), GeoJSON properties a tooltip renders are
HTML-escaped (:func:`~placeplan.publish.escape.geojson_properties`), and legend and attribution
text is passed with :func:`~placeplan.publish.escape.js_string`. :func:`map_html` refuses a
page that binds a tooltip or popup from a template literal."""

from __future__ import annotations

from placeplan.publish.maps._layers import PROVISION_COLOURS
from placeplan.publish.maps._page import assert_offline, map_html, save_map, write_page
from placeplan.publish.maps.journey_times import TIME_BANDS, band_index, map_journey_times
from placeplan.publish.maps.sites import map_sites

__all__ = [
    "PROVISION_COLOURS",
    "TIME_BANDS",
    "assert_offline",
    "band_index",
    "map_html",
    "map_journey_times",
    "map_sites",
    "save_map",
    "write_page",
]
