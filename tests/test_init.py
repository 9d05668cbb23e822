"""``placeplan init``: documented plan and templates that load and validate cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from placeplan import InputFileError
from placeplan.config import load_plan
from placeplan.init import TEMPLATE_FILES, write_templates
from placeplan.prepare.geocode import PostcodeIndex
from placeplan.prepare.validate import validate_plan

SAMPLE_POSTCODES = Path(__file__).parents[1] / "data" / "sample" / "isle-of-wight" / "postcodes.csv"
CSV_TEMPLATES = (
    "pupils.csv",
    "provision.csv",
    "out_of_area.csv",
    "candidate_sites.csv",
)


def test_writes_every_template(tmp_path: Path) -> None:
    written = write_templates(tmp_path / "new")
    assert [p.name for p in written] == list(TEMPLATE_FILES)
    for name in ("plan.toml", *CSV_TEMPLATES, "COLUMNS.md"):
        assert (tmp_path / "new" / name).is_file()
    for name in CSV_TEMPLATES:
        frame = pd.read_csv(tmp_path / "new" / name, dtype=str)
        assert len(frame) >= 2, name


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    write_templates(tmp_path)
    (tmp_path / "pupils.csv").write_text("mine\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="already exists"):
        write_templates(tmp_path)
    assert (tmp_path / "pupils.csv").read_text(encoding="utf-8") == "mine\n"
    write_templates(tmp_path, overwrite=True)
    assert (tmp_path / "pupils.csv").read_text(encoding="utf-8").startswith("pupil_ref")


def test_plan_loads_and_templates_validate_cleanly(tmp_path: Path) -> None:
    write_templates(tmp_path)
    plan = load_plan(tmp_path / "plan.toml")
    assert plan.plan.la_code == "921"
    assert plan.path(plan.inputs.pupils) == (tmp_path / "pupils.csv").resolve()
    report = validate_plan(plan)
    # every example row is used; the road network is named by place (downloaded when online),
    # so nothing in the folder is missing
    assert report.rejections.empty, report.summary_text()
    assert report.files["rows_read"].sum() == report.files["rows_used"].sum() == 8
    assert report.ok, report.summary_text()
    assert plan.inputs.network_place == "Isle of Wight, England"
    # open_sites refer to real candidate sites
    sites = pd.read_csv(tmp_path / "candidate_sites.csv", dtype=str)
    assert set(plan.scenario[0].open_sites) <= set(sites["site_id"])


def test_template_postcodes_exist_in_shipped_sample(tmp_path: Path) -> None:
    if not SAMPLE_POSTCODES.exists():
        pytest.skip("sample postcodes not built")
    write_templates(tmp_path)
    shipped = PostcodeIndex.from_file(SAMPLE_POSTCODES)
    used = pd.concat(
        [
            pd.read_csv(tmp_path / name, dtype=str).get("postcode", pd.Series(dtype=str))
            for name in CSV_TEMPLATES
        ]
    ).dropna()
    assert len(used) >= 3
    assert set(shipped.geocode(used)["status"]) == {"matched"}
    mine = pd.read_csv(tmp_path / "postcodes.csv", dtype=str)
    full = pd.read_csv(SAMPLE_POSTCODES, dtype=str, keep_default_na=False)
    merged = mine.fillna("").merge(full, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # copied rows are identical to the shipped ones


def test_columns_doc_explains_every_column(tmp_path: Path) -> None:
    write_templates(tmp_path)
    doc = (tmp_path / "COLUMNS.md").read_text(encoding="utf-8")
    for name in CSV_TEMPLATES:
        for column in pd.read_csv(tmp_path / name, nrows=0).columns:
            assert f"`{column}`" in doc, (name, column)
    for code in ("ASD", "SLCN", "SEMH", "PMLD", "NSA"):
        assert code in doc


def test_old_plan_with_seed_loads_with_a_warning(tmp_path: Path) -> None:
    """``[plan] seed`` had no effect and was removed; old plan files still load (with a warning)."""
    from placeplan import PlaceplanWarning

    write_templates(tmp_path)
    plan_toml = tmp_path / "plan.toml"
    text = plan_toml.read_text(encoding="utf-8")
    assert "seed" not in text
    plan_toml.write_text(text.replace("[plan]\n", "[plan]\nseed = 20250101\n", 1), encoding="utf-8")
    with pytest.warns(PlaceplanWarning, match="seed"):
        plan = load_plan(plan_toml)
    assert plan.plan.la_code == "921"
    assert "seed" not in plan.plan.model_dump()
