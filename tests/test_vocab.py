"""One academic-year label: :func:`placeplan.vocab.academic_year`, not copies of its f-string."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from placeplan import vocab
from placeplan.compute.flows_types import academic_year as compute_academic_year

SRC = Path(__file__).resolve().parents[1] / "src" / "placeplan"
# "{y}/{(y + 1) % 100:02d}" or "{y}/{str(y + 1)[-2:]}": an academic-year label built inline
_INLINE = re.compile(r"%\s*100:02d\}|\)\[-2:\]\}")


@pytest.mark.parametrize("start", [1999, 2009, 2024, 2025, 2099])
def test_the_label_agrees_with_the_flows_label(start: int) -> None:
    assert vocab.academic_year(start) == compute_academic_year(start)


@pytest.mark.parametrize(
    ("day", "start"),
    [(dt.date(2026, 1, 15), 2025), (dt.date(2025, 8, 31), 2024), (dt.date(2025, 9, 1), 2025)],
)
def test_the_academic_year_of_a_day(day: dt.date, start: int) -> None:
    assert vocab.academic_year_start(day) == start


# the report's sections build it inline too (sections/compare.py, optimise.py, proposals.py,
# year_by_year.py, summary.py): to be moved by their owners
_CHECKED = ("prepare", "publish/maps", "publish/report/method.py", "publish/report/render.py")


@pytest.mark.parametrize("where", _CHECKED)
def test_no_label_is_built_inline(where: str) -> None:
    paths = [SRC / where] if where.endswith(".py") else sorted((SRC / where).rglob("*.py"))
    inline = [
        f"{path.relative_to(SRC)}:{n}"
        for path in paths
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _INLINE.search(line)
    ]
    assert inline == [], "use placeplan.vocab.academic_year"


def test_the_census_mismatch_names_both_academic_years(sample_copy: Path) -> None:
    from placeplan.config import load_plan
    from placeplan.prepare.plan_checks import census_year_mismatch

    plan = load_plan(sample_copy / "plan.toml")
    meta = plan.plan.model_copy(update={"census_date": "2025-01-16"})
    flows = plan.flows.model_copy(update={"base_year": 2025})
    msg = census_year_mismatch(plan.model_copy(update={"plan": meta, "flows": flows}))
    assert msg is not None
    assert "is in 2024/25 but" in msg and "starts the flows in 2025/26" in msg
