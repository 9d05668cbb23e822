"""Per-proposal variants are run for what each proposal is, not only for its site id."""

from __future__ import annotations

import dataclasses

from placeplan.compute.flows import FlowScenario, Proposal
from placeplan.compute.proposals import flow_variants, variant_name


def _p(site: str, places: int, year: int = 2027, **kw) -> Proposal:
    return Proposal(site, places, year, cost_per_place_gbp=18_000.0, **kw)


def test_programmes_with_the_same_sites_but_other_places_are_not_aliased():
    a5, a10, b = _p("A", 5), _p("A", 10), _p("B", 8)
    p = FlowScenario("P", (a5, b))
    q = FlowScenario("Q", (a10, b))
    to_run, alias = flow_variants([p, q])
    runs = {r.name: r for r in to_run}
    assert {"P", "Q"} <= set(runs)  # Q is not P's run
    assert runs[alias[variant_name("Q", "alone", "A")]].proposals == (a10,)
    assert runs[alias[variant_name("P", "alone", "A")]].proposals == (a5,)
    # the same proposal in both programmes shares one run
    assert alias[variant_name("P", "alone", "B")] == alias[variant_name("Q", "alone", "B")]
    assert alias[variant_name("P", "without", "A")] == alias[variant_name("Q", "without", "A")]


def test_other_opening_year_ramp_or_needs_make_another_variant():
    base = _p("A", 10, needs=("ASD",))
    others = {
        "opening": dataclasses.replace(base, opening_year=2028),
        "ramp": dataclasses.replace(base, places_by_year={2027: 4}),
        "needs": dataclasses.replace(base, needs=("SEMH",)),
    }
    scs = [FlowScenario("P", (base,))] + [FlowScenario(k, (v,)) for k, v in others.items()]
    to_run, alias = flow_variants(scs)
    assert [r.name for r in to_run] == ["P", "opening", "ramp", "needs"]
    for name, prop in others.items():
        assert alias[variant_name(name, "alone", "A")] == name
        assert next(r for r in to_run if r.name == name).proposals == (prop,)
