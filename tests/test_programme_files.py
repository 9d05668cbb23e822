"""Programme files in a plan (``[inputs] programmes``) and one rule for a site's places.

A programme written by ``placeplan optimise`` is named in the plan and ``run`` models it: the
file's scenario joins the plan's, each chosen site at its opening year and size, in that scenario
only. A site's places in a scenario (the largest of its ``places_by_year``, capped at the
candidate's ``places``) are used by the snapshot, the per-proposal assessment, the flows and the
report alike.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from placeplan import cli
from placeplan._errors import ConfigError, PlaceplanWarning
from placeplan.compute.allocation import CostModel, baseline_allocation
from placeplan.compute.flow_inputs import site_openings, site_sizes
from placeplan.compute.impact import assess_impact
from placeplan.compute.layers import sites_layer
from placeplan.compute.mitigation import DEFAULT_RULES
from placeplan.compute.proposals import SNAPSHOT, assess_proposals
from placeplan.compute.scenario import Scenario, SiteSize, apply_scenario
from placeplan.config import OptimiseConfig, PlanConfig, load_plan

LIMITS = {"primary": 45.0, "secondary": 75.0, "post16": 75.0}
COSTS = CostModel(transport_cost_per_mile_gbp=2.0, school_days=190)

PROGRAMME = """
[[scenario]]
name = "Optimised programme"
open_sites = ["B1", "B2"]

[[scenario.site]]
site_id = "B1"
opening_year = 2027
places_by_year = { 2027 = 8 }
"""


def _plan_dir(tmp_path: Path, programme: str = PROGRAMME, inputs_extra: str = "") -> Path:
    """A minimal plan naming ``prog/p.toml``; B1 opens in 2028 with 12 places in [[flows.site]]."""
    (tmp_path / "prog").mkdir(exist_ok=True)
    (tmp_path / "prog" / "p.toml").write_text(programme, encoding="utf-8")
    text = f"""
[plan]
name = "t"
authority = "t"
la_code = "921"
lad_code = "E06000046"

[inputs]
pupils = "pupils.csv"
provision = "provision.csv"
postcodes = "postcodes.csv"
network = "roads.osm.pbf"
programmes = ["prog/p.toml"]
{inputs_extra}

[[flows.site]]
site_id = "B1"
opening_year = 2028
places_by_year = {{ 2028 = 12 }}

[[scenario]]
name = "Own"
open_sites = ["B1"]
"""
    (tmp_path / "plan.toml").write_text(text, encoding="utf-8")
    return tmp_path / "plan.toml"


def _sites(places: int = 20) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["B1", "B2"],
            "name": ["Base one", "Base two"],
            "host_setting_id": "M1",
            "needs": "ASD",
            "phases": "secondary",
            "places": [places, 6],
            "capital_cost_gbp": [1_000_000.0, 300_000.0],
            "annual_cost_per_place_gbp": 18_000.0,
        }
    )


# -- the plan key ---------------------------------------------------------------------------------
def test_programme_scenarios_join_the_plans_with_their_own_sites(tmp_path):
    plan = load_plan(_plan_dir(tmp_path))
    assert [s.name for s in plan.scenario] == ["Own", "Optimised programme"]
    assert plan.inputs.programmes == (Path("prog/p.toml"),)
    own, prog = plan.scenario
    # the programme's entry for B1 wins in the programme's scenario only
    assert site_openings(plan, prog)["B1"].opening_year == 2027
    assert site_openings(plan, prog)["B1"].places_by_year == {2027: 8}
    assert site_openings(plan, own)["B1"].opening_year == 2028
    assert site_openings(plan, None)["B1"].places_by_year == {2028: 12}


def test_old_programme_files_flows_site_applies_to_their_scenario_only(tmp_path):
    old = PROGRAMME.replace("[[scenario.site]]", "[[flows.site]]")
    plan = load_plan(_plan_dir(tmp_path, old))
    own, prog = plan.scenario
    assert [(s.site_id, s.opening_year) for s in prog.site] == [("B1", 2027)]
    assert own.site == () and [s.opening_year for s in plan.flows.site] == [2028]


def test_programme_file_errors_name_the_file_and_say_how_to_fix(tmp_path):
    plan_path = _plan_dir(tmp_path)
    prog = tmp_path / "prog" / "p.toml"
    prog.unlink()
    with pytest.raises(
        ConfigError, match=r"programme file .*p\.toml not found.*placeplan optimise"
    ):
        load_plan(plan_path)
    prog.write_text("[[scenario]\nname = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.toml: the programme file .* is not valid TOML"):
        load_plan(plan_path)
    prog.write_text(PROGRAMME.replace("open_sites", "open_site"), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"p\.toml: invalid programme file.*`scenario\.0\.open_site`: unknown key"
    ) as err:
        load_plan(plan_path)
    assert "did you mean `open_sites`?" in str(err.value)
    prog.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`scenario`: no \[\[scenario\]\]; write the file again"):
        load_plan(plan_path)
    prog.write_text(PROGRAMME + "\n[optimise]\nsteps = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`optimise`: unknown key"):
        load_plan(plan_path)
    prog.write_text(PROGRAMME.replace("Optimised programme", "Own"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"scenario 'Own' is in both .*plan\.toml and .*p\.toml"):
        load_plan(plan_path)
    twice = PROGRAMME + "\n[[scenario.site]]" + PROGRAMME.split("[[scenario.site]]")[1]
    prog.write_text(twice, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"site 'B1' has more than one `\[\[scenario\.site\]\]`"):
        load_plan(plan_path)


def test_programmes_must_be_a_list_of_paths(tmp_path):
    plan_path = _plan_dir(tmp_path)
    text = plan_path.read_text(encoding="utf-8").replace('["prog/p.toml"]', "3")
    plan_path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`inputs\.programmes`: give a list of programme files"):
        load_plan(plan_path)


# -- one rule for a site's places ----------------------------------------------------------------
def test_site_sizes_rule(tmp_path):
    plan = load_plan(_plan_dir(tmp_path))
    own, prog = plan.scenario
    sites = _sites(places=20)
    # programme: 8 of 20 places; no [optimise] sizes -> the candidate's capital
    assert site_sizes(plan, sites, prog) == (SiteSize("B1", 8, 1_000_000.0),)
    assert site_sizes(plan, sites, own) == (SiteSize("B1", 12, 1_000_000.0),)
    # a size [optimise] offers is charged what optimise charged for it
    sized = plan.model_copy(
        update={"optimise": OptimiseConfig(sizes=({"places": 8, "capital_gbp": 400_000},))}
    )
    assert site_sizes(sized, sites, prog) == (SiteSize("B1", 8, 400_000.0),)
    # the entry's own capital wins (optimise writes what it charged), at any size
    priced = PROGRAMME.replace("2027 = 8 }", "2027 = 8 }\ncapital_gbp = 450000")
    (tmp_path / "prog" / "p.toml").write_text(priced, encoding="utf-8")
    prog = load_plan(tmp_path / "plan.toml").scenario[1]
    assert site_sizes(sized, sites, prog) == (SiteSize("B1", 8, 450_000.0),)
    assert site_sizes(sized, _sites(places=8), prog) == (SiteSize("B1", 8, 450_000.0),)
    # the candidate's places when no ramp-up or the ramp-up reaches them: no change
    assert site_sizes(plan, _sites(places=12), own) == ()
    # a ramp-up beyond the candidate's places is capped, with a warning
    with pytest.warns(PlaceplanWarning, match=r"reaches 12 places .* gives it 10; 10 are used"):
        assert site_sizes(plan, _sites(places=10), own) == ()


def _case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """30 secondary ASD pupils in an independent school 100 min away; B1 is 10 min away."""
    n = 30
    pupils = pd.DataFrame(
        {
            "pupil_ref": [f"P{i:02d}" for i in range(n)],
            "origin_id": [f"O{i:02d}" for i in range(n)],
            "current_setting_id": "IND1",
            "need_type": "ASD",
            "phase": "secondary",
            "nc_year": 8,
            "transport_assisted": True,
        }
    )
    provision = pd.DataFrame(
        {
            "setting_id": ["M1", "IND1"],
            "name": ["Mainstream", "Independent"],
            "provision_type": ["mainstream", "independent"],
            "in_area": [True, False],
            "annual_cost_per_place_gbp": [8000.0, 55000.0],
        }
    )
    rows = [
        (o, d, t, t / 2, t / 2 / 1.609344, "road")
        for o in pupils["origin_id"]
        for d, t in (("M1", 5.0), ("IND1", 100.0), ("B1", 10.0), ("B2", 10.0))
    ]
    cols = ["origin_id", "destination_id", "travel_time_min", "distance_km"]
    journeys = pd.DataFrame(rows, columns=[*cols, "distance_miles", "route"])
    return pupils, provision, journeys


def test_snapshot_proposals_and_site_table_use_the_scenarios_places():
    """Known answer: B1 has 20 places in the sites file and 8 in the scenario -> 8 move there."""
    pupils, provision, journeys = _case()
    sites = _sites(places=20)
    base = baseline_allocation(pupils, provision, journeys, costs=COSTS)
    scenario = Scenario("P", open_sites=("B1",), site_sizes=(SiteSize("B1", 8, 400_000.0),))
    kw = {"costs": COSTS, "max_journey_min_by_phase": LIMITS}
    res = apply_scenario(scenario, pupils, base, sites, journeys, **kw)
    assert int((res.allocation["setting_id"] == "B1").sum()) == 8
    assert res.new_places.set_index("setting_id").loc["B1", "capacity"] == 8
    assert res.new_places.set_index("setting_id").loc["B1", "capital_cost_gbp"] == 400_000.0
    # the sites file's 20 places without the scenario's size
    plain = apply_scenario(Scenario("P", open_sites=("B1",)), pupils, base, sites, journeys, **kw)
    assert int((plain.allocation["setting_id"] == "B1").sum()) == 20
    impact_kw = {"max_journey_min_by_phase": LIMITS, "mitigation_rules": DEFAULT_RULES}
    imp = assess_impact(pupils, base, res.allocation, **impact_kw)
    two = Scenario("Q", open_sites=("B1", "B2"), site_sizes=scenario.site_sizes)
    res2 = apply_scenario(two, pupils, base, sites, journeys, **kw)
    imp2 = assess_impact(pupils, base, res2.allocation, **impact_kw)
    props = assess_proposals(
        pupils,
        base,
        sites,
        journeys,
        {"P": res, "Q": res2},
        {"P": imp, "Q": imp2},
        apply_kwargs=kw,
        impact_kwargs=impact_kw,
        rules=DEFAULT_RULES,
    )
    t = props.table[(props.table["year"] == SNAPSHOT) & (props.table["measure"] == "out_of_area")]
    change = t.set_index(["scenario", "proposal", "basis"])["central"]
    assert change[("P", "programme", "programme")] == -8
    assert change[("Q", "B1", "alone")] == -8  # the per-proposal re-allocation keeps the size
    assert change[("Q", "B2", "alone")] == -6
    assert change[("Q", "programme", "programme")] == -14
    layer = sites_layer(sites.assign(geometry=None), res, imp, None).set_index("site_id")
    assert layer.loc["B1", "places"] == 8 and layer.loc["B1", "capital_cost_gbp"] == 400_000.0
    assert layer.loc["B1", "pupils_served"] == 8 and layer.loc["B2", "places"] == 6


# -- end to end on the sample ---------------------------------------------------------------------
def test_run_models_the_programme_optimise_wrote(sample_copy):
    from placeplan.pipeline import run

    plan_path = sample_copy / "plan.toml"
    assert cli.main(["--no-progress", "-q", "optimise", str(plan_path)]) == 0
    chosen = pd.read_csv(sample_copy / "out-optimise" / "programme.csv", dtype={"site_id": str})
    text = plan_path.read_text(encoding="utf-8").replace(
        'programmes = ["optimised-programme.toml"]',
        'programmes = ["out-optimise/optimised-programme.toml"]',
    )
    plan_path.write_text(text, encoding="utf-8")
    plan = load_plan(plan_path)
    assert plan.scenario[-1].name == "Optimised programme"
    # the sample's "Four inclusion bases" beside the programme; no [optimise] study this time
    keep = (plan.scenario[0], plan.scenario[-1])
    plan = PlanConfig.model_validate(
        {**plan.model_dump(), "scenario": keep, "optimise": OptimiseConfig()}
    )
    result = run(plan)
    res = result.scenarios["Optimised programme"]
    assert list(res.scenario.open_sites) == chosen["site_id"].tolist()
    info = result.proposals.proposals
    mine = info[info["scenario"] == "Optimised programme"].set_index("proposal")
    want = chosen.set_index("site_id")
    assert mine["places"].to_dict() == want["places"].to_dict()
    assert mine["opening_year"].to_dict() == want["opening_year"].to_dict()
    assert mine["capital_cost_gbp"].to_dict() == want["capital_gbp"].to_dict()
    served = res.allocation.loc[res.allocation["moved"], "setting_id"].value_counts()
    for sid, places in want["places"].items():
        assert served.get(sid, 0) <= places
    layer = result.layers["Optimised programme"].sites.set_index("site_id")
    assert layer.loc[want.index, "places"].to_dict() == want["places"].to_dict()
    # the plan's own scenario keeps the sites file's places and its [[flows.site]] years
    sites = pd.read_csv(sample_copy / "candidate_sites.csv", dtype={"site_id": str})
    own = info[info["scenario"] == "Four inclusion bases"].set_index("proposal")
    assert own["places"].to_dict() == sites.set_index("site_id")["places"][own.index].to_dict()
    assert own.loc["135552-IB-SEMH", "opening_year"] == 2028


@pytest.mark.parametrize(
    "text", ["line\nbreak = 1", 'quote"and\\slash', "tab\tdel\x7fnul\x00", "${x}`=1+1<img>", "é"]
)
def test_programme_toml_strings_read_back_exactly(text: str) -> None:
    """Any name or site id the programme file quotes reads back unchanged (a newline in a
    scenario name used to make the whole file unreadable)."""
    import tomllib

    from placeplan.publish.programme import _toml_str

    assert tomllib.loads(f"k = {_toml_str(text)}")["k"] == text
