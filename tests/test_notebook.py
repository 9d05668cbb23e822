"""The walkthrough notebook runs top to bottom on the shipped sample and shows aggregates only.

Code cells are executed in order in one namespace, from the ``notebooks/`` folder (so its relative
paths work), with the notebook's ``OUTPUT_DIR`` redirected to ``tmp_path``. The value each cell
would display (its last expression) is checked for pupil-level data.
"""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
import urllib3  # noqa: F401 - imported now: its import-time IPv6 probe opens a socket (blocked in tests)

from placeplan._errors import SnapWarning

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "isle-of-wight-walkthrough.ipynb"
SAMPLE_PUPILS = ROOT / "data" / "sample" / "isle-of-wight" / "pupils.csv"
PUPIL_COLUMNS = {"pupil_ref", "postcode", "origin_id", "easting", "northing", "geometry"}


def _cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _split_last_expression(src: str, name: str) -> tuple[object, object | None]:
    """Compile a cell as Jupyter runs it: statements, then the displayed last expression."""
    tree = ast.parse(src, filename=name)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, name, "exec")
    return body, (compile(last, name, "eval") if last is not None else None)


def _assert_aggregate(value: object, n_pupils: int, refs: set[str], name: str) -> None:
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if not isinstance(value, pd.DataFrame):
        return
    value = value.copy()
    cols = {str(c).lower() for c in value.columns} | {str(n).lower() for n in value.index.names}
    assert not (cols & PUPIL_COLUMNS), f"{name} displays pupil-level columns {cols & PUPIL_COLUMNS}"
    assert len(value) < n_pupils, f"{name} displays one row per pupil"
    shown = set(value.astype(str).to_numpy().ravel()) | set(value.index.astype(str))
    assert not (shown & refs), f"{name} displays pupil references"


def test_notebook_is_committed_without_outputs():
    cells = _cells()
    code = [c for c in cells if c["cell_type"] == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell.get("outputs", []) == []
        assert cell.get("execution_count") is None
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown").lower()
    assert "privacy" in text and "aggregate" in text


def test_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.chdir(NOTEBOOK.parent)
    sample = pd.read_csv(SAMPLE_PUPILS, dtype=str)
    refs = set(sample["pupil_ref"])
    overrides = {"OUTPUT_DIR": tmp_path}
    ns: dict[str, object] = {"__name__": "__main__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i, cell in enumerate(_cells()):
            if cell["cell_type"] != "code":
                continue
            name = f"{NOTEBOOK.name}[cell {i}]"
            body, last = _split_last_expression(_source(cell), name)
            exec(body, ns)
            if last is not None:
                _assert_aggregate(eval(last, ns), len(sample), refs, name)
            ns.update(overrides)
    unexpected = [
        w
        for w in caught
        if not issubclass(w.category, (SnapWarning, DeprecationWarning, FutureWarning))
    ]
    assert not unexpected, [(w.category, w.filename, w.lineno, str(w.message)) for w in unexpected]

    # every stage of the walkthrough produced its object
    for key in (
        "plan",
        "inputs",
        "net",
        "journeys",
        "baseline",
        "scores",
        "result",
        "impact",
        "run",
    ):
        assert key in ns, key
    assert len(ns["baseline"]) == len(sample)
    # the step-by-step numbers are the report's: same functions, same plan settings
    run = ns["run"]
    first = ns["plan"].scenario[0].name
    pd.testing.assert_frame_equal(ns["impact"].table, run.impacts[first].table)
    pd.testing.assert_frame_equal(ns["scores"], run.site_scores)
    assert ns["scores"]["rank"].min() == 1
    assert len(ns["result"].new_places) == len(ns["plan"].scenario[0].open_sites)
    # the report was written to the redirected folder, not into the repository
    report = ns["files"]["report"]
    assert report == tmp_path / "report.html"
    assert report.is_file()


@pytest.mark.parametrize("bad", ["inputs.pupils", "baseline", "impact.per_pupil"])
def test_aggregate_check_catches_pupil_level_display(bad):
    """The display check itself can fail: pupil-level frames are refused."""
    sample = pd.read_csv(SAMPLE_PUPILS, dtype=str)
    refs = set(sample["pupil_ref"])
    frames = {
        "inputs.pupils": sample,
        "baseline": pd.DataFrame({"x": range(len(sample))}, index=sample["pupil_ref"]),
        "impact.per_pupil": sample[["pupil_ref", "need_type"]].head(10),
    }
    with pytest.raises(AssertionError):
        _assert_aggregate(frames[bad], len(sample), refs, bad)


def test_notebook_uses_only_the_public_api():
    """The walkthrough reaches nothing but ``placeplan.<name in __all__>``."""
    import re

    import placeplan

    code = "\n".join(_source(c) for c in _cells() if c["cell_type"] == "code")
    assert "from placeplan" not in code
    used = set(re.findall(r"\bplaceplan\.(\w+)", code))
    assert used, "the notebook should use placeplan"
    assert used <= set(placeplan.__all__), sorted(used - set(placeplan.__all__))
