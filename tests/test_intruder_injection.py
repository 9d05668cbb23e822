"""Names that are Jinja source: no name may be rendered as a template while a map is built.

folium pages are rendered by Jinja: branca's ``Element(html)`` compiles ``html`` as a template.
A name inside such an element would be *evaluated* on the analyst's machine while ``placeplan
run`` builds the maps (``{{ 7*7 }}`` prints 49, ``{% raw %}`` stops the run, and an expression
can reach Python's builtins). Names may only reach a page as template *data*.
"""

from __future__ import annotations

import pytest

from placeplan.publish import maps
from placeplan.publish.disclosure import suppress
from placeplan.publish.escape import html_text
from placeplan.publish.maps.static import (
    attach_print_figure,
    static_basemap,
    static_journey_times,
    static_sites_flows,
)
from report_fixtures import example_inputs

PAYLOADS = ("{{ 7*7 }}Q", "{% raw %}", "{# c", "{{ self.__init__.__globals__ }}", "{%- if 1 %}")


def _frames(payload: str):
    ri = example_inputs(small_count=3)
    areas = suppress(
        ri.areas.assign(name=payload),
        count_cols=["pupils"],
        dependent_cols=["baseline_mean_time_min", "scenario_mean_time_min"],
    )
    sites = suppress(
        ri.sites.assign(name=payload),
        count_cols=["pupils_served"],
        dependent_cols=["mean_time_saved_min"],
        group_cols=["selected"],
    )
    provision = ri.provision.assign(name=payload)
    return ri, areas, sites, provision


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_print_figure_is_data_not_a_template(payload):
    ri, areas, sites, provision = _frames(payload)
    base = static_basemap({"outline": ri.outline, "roads": ri.roads})
    m = maps.map_journey_times(areas, provision=provision, sites=sites, note=payload)
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>' + payload + "</text></svg>"
    attach_print_figure(m, svg, name="raw")
    figure = static_journey_times(areas, sites=sites, base=base, scenario_name=payload)
    attach_print_figure(m, figure, name="journeys")
    figure = static_sites_flows(
        sites, provision, flow_origins=ri.areas, base=base, scenario_name=payload
    )
    attach_print_figure(m, figure, name="sites")
    page = maps.map_html(m)
    assert "49Q" not in page
    assert payload in page  # the print figure's <text>, as written


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_banner_note_is_data_not_a_template(payload):
    _, areas, sites, provision = _frames("x")
    m = maps.map_sites(sites, provision, areas=areas, note=payload, attribution=payload)
    page = maps.map_html(m)
    assert "49Q" not in page
    assert html_text(payload) in page  # the banner, as text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_values_hold_no_template_delimiter(payload):
    import json

    from placeplan.publish.escape import html_attr, js_string, js_template_literal, script_json

    for out in (html_text(payload), html_attr(payload), js_string(payload)):
        assert "{" not in out
    assert "{" not in js_template_literal(payload)
    assert json.loads(js_string(payload)) == payload
    data = script_json({"name": payload, "rows": [{"n": 1}]})
    assert data.startswith('{"name": "') and "{{" not in data and "{%" not in data
    assert json.loads(data) == {"name": payload, "rows": [{"n": 1}]}
