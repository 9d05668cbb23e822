"""A rejected row's reason quotes the value found (and the nearest valid code, where the column has
a closed vocabulary), so that a typo can be fixed from the message alone; a pupil's reference,
date of birth, location and setting are never quoted (rejections.csv is published), nor is free
text from a pupil file."""

from __future__ import annotations

from pathlib import Path

import pytest

from placeplan.config import MitigationConfig
from placeplan.prepare import io
from placeplan.prepare.io._common import QUOTE_MAX, quote_value

PUPIL_HEADER = "pupil_ref,easting,northing,need_type,plan_type,nc_year,current_setting_id"
GOOD_PUPIL = "GOOD1,450000,89000,ASD,EHCP,3,100001"
SITE_HEADER = "site_id,host_setting_id,name,needs,phases,places,capital_cost_gbp,easting,northing"
GOOD_SITE = "S1,100001,X,ASD,primary,10,1000,450000,89000"
PROVISION_HEADER = "setting_id,name,provision_type,phases,needs,capacity,on_roll,easting,northing"
GOOD_SETTING = "1,Good,mainstream,primary,,100,90,450000,89000"


def _reasons(result: io.LoadResult, column: str) -> list[str]:
    rej = result.rejections
    return rej.loc[rej["column"] == column, "reason"].astype(str).tolist()


def _pupils(tmp_path: Path, row: str) -> io.LoadResult:
    path = tmp_path / "pupils.csv"
    path.write_text(f"{PUPIL_HEADER}\n{GOOD_PUPIL}\n{row}\n", encoding="utf-8")
    return io.load_pupils(path, postcodes=None, setting_ids={"100001"})


def test_a_mistyped_need_code_is_quoted_with_the_nearest_code(tmp_path: Path) -> None:
    (reason,) = _reasons(_pupils(tmp_path, "P2,450000,89000,SCLN,EHCP,3,100001"), "need_type")
    assert reason.startswith("'SCLN': not a SEN2 need code"), reason
    assert "did you mean 'SLCN'?" in reason
    assert "ASD, HI" in reason  # the valid codes


def test_a_mistyped_need_name_suggests_its_code(tmp_path: Path) -> None:
    row = "P2,450000,89000,Autistik spectrum disorder,EHCP,3,100001"
    (reason,) = _reasons(_pupils(tmp_path, row), "need_type")
    assert "did you mean 'ASD' (Autistic spectrum disorder)?" in reason
    # near a valid name, so evidently a typo of it, not free text: quoted
    assert reason.startswith("'Autistik spectrum disorder': ")


@pytest.mark.parametrize(
    ("row", "column", "secret"),
    [
        # a date of birth typed into nc_year, a postcode into need_type: withheld, not quoted
        ("P2,450000,89000,ASD,EHCP,2015-03-04,100001", "nc_year", "2015-03-04"),
        ("P2,450000,89000,PO30 1UD,EHCP,3,100001", "need_type", "PO30 1UD"),
        ("P2,450000,89000,John Smith,EHCP,3,100001", "need_type", "John Smith"),
        ("P2,450000,89000,ASD,EHCP,3,SECRET77", "current_setting_id", "SECRET77"),
        ("P2,45oooo,89000,ASD,EHCP,3,100001", "easting/northing", "45oooo"),
        ("GOOD1,450000,89000,ASD,EHCP,3,100001", "pupil_ref", "GOOD1"),
    ],
)
def test_pupil_data_is_never_quoted(tmp_path: Path, row: str, column: str, secret: str) -> None:
    result = _pupils(tmp_path, row)
    assert _reasons(result, column), result.rejections
    assert secret not in result.rejections.to_csv()


def test_a_short_nc_year_code_and_plan_type_are_quoted(tmp_path: Path) -> None:
    result = _pupils(tmp_path, "P2,450000,89000,ASD,EHPC,Y15,100001")
    assert _reasons(result, "nc_year")[0].startswith("'Y15': outside the NC years")
    (plan,) = _reasons(result, "plan_type")
    assert plan.startswith("'EHPC': not a plan type") and "did you mean 'EHCP'?" in plan


def _sites(tmp_path: Path, row: str) -> io.LoadResult:
    path = tmp_path / "candidate_sites.csv"
    path.write_text(f"{SITE_HEADER}\n{GOOD_SITE}\n{row}\n", encoding="utf-8")
    return io.load_sites(path, setting_ids={"100001"})


def test_a_cost_with_a_k_is_quoted_and_told_how_to_write_it(tmp_path: Path) -> None:
    result = _sites(tmp_path, "S2,100001,X,ASD,primary,10,£500k,450000,89000")
    (reason,) = _reasons(result, "capital_cost_gbp")
    assert reason.startswith("'£500k': expected pounds"), reason
    assert "not 500k" in reason


def test_site_need_list_phase_and_places_are_quoted(tmp_path: Path) -> None:
    result = _sites(tmp_path, "S2,100001,X,ASD;SCLN,secondry,ten,1000,450000,89000")
    assert _reasons(result, "needs")[0].startswith("'ASD;SCLN': ")
    assert "did you mean 'SLCN'?" in _reasons(result, "needs")[0]
    assert "'secondry'" in _reasons(result, "phases")[0]
    assert "did you mean 'secondary'?" in _reasons(result, "phases")[0]
    assert _reasons(result, "places")[0].startswith("'ten': ")


def test_provision_values_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "provision.csv"
    bad = "9,X,specal,primary,SEHM,-3,0,450000,89000"
    path.write_text(f"{PROVISION_HEADER}\n{GOOD_SETTING}\n{bad}\n", encoding="utf-8")
    result = io.load_provision(path)
    assert "did you mean 'special'?" in _reasons(result, "provision_type")[0]
    assert _reasons(result, "provision_type")[0].startswith("'specal': ")
    assert "'SEHM'" in _reasons(result, "needs")[0]
    assert "did you mean 'SEMH'?" in _reasons(result, "needs")[0]
    assert _reasons(result, "capacity")[0].startswith("'-3': ")


def test_a_long_value_is_cut_and_an_empty_one_named() -> None:
    assert len(quote_value("x" * 100)) == QUOTE_MAX + 2  # the quotes
    assert quote_value("x" * 100).endswith("…'")
    assert quote_value("  ") == "an empty cell"


def test_a_plan_need_code_typo_suggests_the_code() -> None:
    with pytest.raises(ValueError, match=r"'SCLN'.*did you mean 'SLCN'\?"):
        MitigationConfig.model_validate(
            {"name": "n", "what": "route_change", "cost_gbp_per_pupil_year": 500, "needs": ["SCLN"]}
        )
