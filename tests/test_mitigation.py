"""Travel mitigation rules (issue 11 §4): matching order, costs, defaults, plan errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from placeplan._errors import ConfigError
from placeplan.compute.mitigation import (
    DEFAULT_RULES,
    MitigationRule,
    match_rules,
    mitigation_table,
    plan_rules,
)
from placeplan.config import load_plan

SAMPLE = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight" / "plan.toml"


def _pupils() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "change_time_min": [25.0, 8.0, 8.0, 0.0, 0.0, float("nan")],
            "over_max": [False, False, False, True, True, False],
            "ferry": [False, False, False, True, False, False],
            "moved": [True, True, True, False, False, False],
            "need_type": ["ASD", "ASD", "SEMH", "ASD", "SLCN", "ASD"],
            "phase": ["primary", "secondary", "primary", "secondary", "primary", "primary"],
        }
    )


RULES = (
    MitigationRule("stay", "stay_in_current_placement", 0.0, worse_off_min_gt=20.0, moved=True),
    MitigationRule("train", "travel_training", 1000.0, worse_off_min_gt=5.0, phases=("secondary",)),
    MitigationRule("semh route", "route_change", 300.0, worse_off_min_gt=5.0, needs=("SEMH",)),
    MitigationRule("escort", "escort", 4000.0, over_reasonable_max=True, ferry=True),
    MitigationRule("budget", "personal_travel_budget", 2500.0, over_reasonable_max=True),
)


def test_first_matching_rule_wins():
    keys = match_rules(_pupils(), RULES)
    # pupil 0 also matches nothing later but "stay" comes first; pupil 3 matches escort and
    # budget: escort is first; pupil 5 has no known change and no journey condition: none
    assert keys.tolist() == ["stay", "train", "semh route", "escort", "budget", ""]
    # order matters: with the budget rule first the ferry pupil gets the budget
    reordered = match_rules(_pupils(), (RULES[4], *RULES[:4]))
    assert reordered.tolist()[3] == "budget"


def test_costs_are_pupils_times_rate_and_every_rule_has_a_row():
    keys = pd.Series(["escort", "escort", "budget", "", "train"])
    t = mitigation_table(keys, RULES).set_index("rule")
    assert t["pupils"].to_dict() == {
        "stay": 0,
        "train": 1,
        "semh route": 0,
        "escort": 2,
        "budget": 1,
    }
    assert t.loc["escort", "annual_cost_gbp"] == 8000.0
    assert t.loc["budget", "annual_cost_gbp"] == 2500.0
    assert t["annual_cost_gbp"].sum() == 8000.0 + 2500.0 + 1000.0
    assert (t["source"] == "plan").all()


def test_defaults_when_the_plan_has_none_and_plan_rules_replace_them():
    assert plan_rules(()) is DEFAULT_RULES
    assert all(r.source == "default" for r in DEFAULT_RULES)
    assert all(r.cost_gbp_per_pupil_year >= 0 for r in DEFAULT_RULES)
    plan = load_plan(SAMPLE)
    rules = plan_rules(plan.mitigation)
    assert rules and all(r.source == "plan" for r in rules)
    assert [r.name for r in rules] == [m.name for m in plan.mitigation]


def _plan_with(tmp_path: Path, rules: str) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    # drop the sample's own rules, then add the test's
    text = text.split("[[mitigation]]", 1)[0]
    path = tmp_path / "plan.toml"
    path.write_text(text + "\n" + rules, encoding="utf-8")
    # the programme file the sample adopts ([inputs] programmes) is read with the plan
    shutil.copy(SAMPLE.parent / "optimised-programme.toml", tmp_path)
    return path


@pytest.mark.parametrize(
    ("rules", "key", "words"),
    [
        (
            '[[mitigation]]\nname = "a"\nwhat = "taxi"\ncost_gbp_per_pupil_year = 1\n'
            "ferry = true\n",
            "`mitigation.0.what`",
            "stay_in_current_placement",
        ),
        (
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = -5\n'
            "ferry = true\n",
            "`mitigation.0.cost_gbp_per_pupil_year`",
            "greater than or equal to 0",
        ),
        (
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = 1\n'
            'ferry = true\nneeds = ["XYZ"]\n',
            "`mitigation.0.needs`",
            "SEN2 codes",
        ),
        (
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = 1\n'
            'needs = ["ASD"]\n',
            "`mitigation.0`",
            "no journey condition",
        ),
        (
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = 1\n'
            "ferry = true\nwho = 3\n",
            "`mitigation.0.who`",
            "unknown key",
        ),
        (
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = 1\n'
            'ferry = true\n[[mitigation]]\nname = "a"\nwhat = "other"\n'
            "cost_gbp_per_pupil_year = 1\nmoved = true\n",
            "`mitigation`",
            "unique",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path, rules, key, words):
    with pytest.raises(ConfigError) as err:
        load_plan(_plan_with(tmp_path, rules))
    msg = str(err.value)
    assert words in msg
    assert key in msg or (key == "`mitigation`" and "mitigation" in msg)


def test_needs_accept_dfe_text(tmp_path):
    plan = load_plan(
        _plan_with(
            tmp_path,
            '[[mitigation]]\nname = "a"\nwhat = "escort"\ncost_gbp_per_pupil_year = 1\n'
            'ferry = true\nneeds = ["Autistic Spectrum Disorder", "semh"]\n',
        )
    )
    assert plan.mitigation[0].needs == ("ASD", "SEMH")


def test_report_total_matches_the_all_rules_row_and_is_not_counted_twice():
    """The report's "In all" sentence equals the published "All rules" row (not rules + total)."""
    from placeplan.publish.mitigations import published_mitigations
    from placeplan.publish.report.sections.mitigations import _mitigation_table

    raw = pd.DataFrame(
        {
            "proposal": ["programme"] * 2,
            "basis": ["programme"] * 2,
            "rule": ["Escort", "Route change"],
            "who": ["ferry", "longer"],
            "what": ["escort", "route_change"],
            "source": ["plan", "default"],
            "description": ["", ""],
            "cost_gbp_per_pupil_year": [4_000.0, 500.0],
            "pupils": [12.0, 6.0],
            "annual_cost_gbp": [48_000.0, 3_000.0],
        }
    )
    pub = published_mitigations(raw, threshold=5, round_to=1, mode="published")
    table = _mitigation_table(pub, threshold=5)
    total = next(r for r in table.rows if r[0].value == "All rules")
    assert total[5].value == 18 and total[6].value == 51_000
    assert total[3].value == ""  # the total row has no source
    assert "In all, 18 pupils are covered, at £51,000 a year." in " ".join(table.note.split())


def test_a_moved_rule_says_it_matches_pupils_placed_differently_from_the_baseline():
    """``moved = true`` matches a pupil placed in another setting than the baseline places them
    (new entrants included), not flows.csv's movers: the rule's words and the plan say so."""
    assert MitigationRule("a", "other", 0.0, moved=True).who() == (
        "placed differently from the baseline"
    )
    assert MitigationRule("a", "other", 0.0, moved=False).who() == "placed as in the baseline"
    plan = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight" / "plan.toml"
    comment = " ".join(line.lstrip("# ") for line in plan.read_text().splitlines())
    assert "placed differently from the baseline" in comment and "movers" in comment
