"""The package's boundaries, read from its source (AST only; nothing is imported).

- no import cycles among placeplan modules at module level;
- no module imports another module's private (``_x``) name;
- data flows one way: prepare -> compute -> publish (issue 8);
- a size budget: functions up to 100 lines, modules up to 800, with the current offenders named.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "placeplan"

MAX_FUNCTION_LINES = 100  # def line to last line, not counting the docstring
MAX_MODULE_LINES = 800

#: Functions over MAX_FUNCTION_LINES today (body lines without the docstring, when this list was
#: made). Split one and take it off the list; the test fails on an entry that is back in budget.
FUNCTION_ALLOW = {
    "compute/flows_prepare.py::prepare_flow_inputs",  # 137, the flow model's input checks
    "publish/flows.py::_published_flows",  # the flow table's disclosure audit (issue 9, new)
    "compute/journeys.py::journey_matrix",  # 129
    "compute/matrix.py::travel_matrix",  # 114
    "compute/network/_osm.py::build_network",  # 108
    "compute/network/_osm.py::_chains_from_networkx",  # 104
    "compute/optimise.py::solve_budgeted_sites",  # 183
    "compute/optimise.py::solve_p_median",  # 139
    "prepare/io/_locate.py::locate_rows",  # 136
    "prepare/io/_provision.py::_provision_frame",  # 118
    "prepare/io/_provision.py::load_gias",  # 186
    "prepare/io/_pupils.py::load_pupils",  # 169
    "prepare/synthetic.py::synthesise_pupils",  # 176
    "prepare/validate.py::_check_inputs",  # 164
}

#: Modules over MAX_MODULE_LINES today.
MODULE_ALLOW = {
    "compute/forecast.py",  # 1,061: the stock-flow forecast (cohort types in forecast_cohort)
    "compute/optimise.py",  # 859
}

#: Module-level names ``publish`` may import from ``prepare`` at run time: the io writers.
PUBLISH_FROM_PREPARE = {"placeplan.prepare.io": {"write_layers"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(_modules()[name].read_text(encoding="utf-8"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    tree: ast.Module, *, module_level: bool, type_checking: bool = False
) -> list[ast.Import | ast.ImportFrom]:
    """Imports in a module's ``tree``: at module level only (not in functions) or everywhere.

    Imports under ``if TYPE_CHECKING:`` are left out unless ``type_checking``.
    """
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                if type_checking or not _is_type_checking(node.test):
                    walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                walk(node.body)
                for handler in node.handlers:
                    walk(handler.body)
                walk(node.orelse)
                walk(node.finalbody)
            elif isinstance(node, ast.With | ast.ClassDef):  # both run at import
                walk(node.body)
            elif not module_level and isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.For | ast.While
            ):
                walk(node.body)
                walk(getattr(node, "orelse", []))

    walk(tree.body)
    return found


def _targets(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(placeplan module imported, name taken from it or None) for each name in ``node``."""
    modules = _modules()
    if isinstance(node, ast.Import):
        return [(a.name, None) for a in node.names if a.name.split(".")[0] == "placeplan"]
    assert node.level == 0, "placeplan uses absolute imports only"
    if not node.module or node.module.split(".")[0] != "placeplan":
        return []
    out: list[tuple[str, str | None]] = []
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        out.append((sub, None) if sub in modules else (node.module, alias.name))
    return out


def _graph() -> dict[str, set[str]]:
    return {
        name: {
            target
            for node in _imports(_tree(name), module_level=True)
            for target, _ in _targets(node)
            if target != name
        }
        for name in _modules()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _in(name: str, stage: str) -> bool:
    return name == stage or name.startswith(stage + ".")


# --------------------------------------------------------------------------- (a) cycles
def test_no_import_cycles_at_module_level():
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# --------------------------------------------------------------------------- (b) private names
def test_no_module_imports_another_modules_private_name():
    """``from placeplan.x import _y`` is a reach-in (importing a private *module* is fine)."""
    bad = [
        f"{name}: from {module} import {imported}"
        for name in _modules()
        for node in _imports(_tree(name), module_level=False, type_checking=True)
        for module, imported in _targets(node)
        if imported is not None and imported.startswith("_") and not imported.startswith("__")
    ]
    assert bad == []


# --------------------------------------------------------------------------- (c) stages
def test_prepare_never_imports_publish_at_module_level():
    bad = [
        (name, target)
        for name, targets in _graph().items()
        if _in(name, "placeplan.prepare")
        for target in targets
        if _in(target, "placeplan.publish")
    ]
    assert bad == []


def test_compute_never_imports_publish():
    bad = [
        (name, target)
        for name in _modules()
        if _in(name, "placeplan.compute")
        for node in _imports(_tree(name), module_level=False, type_checking=True)
        for target, _ in _targets(node)
        if _in(target, "placeplan.publish")
    ]
    assert bad == []


def test_publish_takes_only_io_writers_and_types_from_prepare():
    """Run-time imports from prepare are the io writers; type-only imports are free."""
    bad = [
        (name, target, imported)
        for name in _modules()
        if _in(name, "placeplan.publish")
        for node in _imports(_tree(name), module_level=False)
        for target, imported in _targets(node)
        if _in(target, "placeplan.prepare")
        and imported not in PUBLISH_FROM_PREPARE.get(target, set())
    ]
    assert bad == []


def test_stages_never_import_the_cli_or_the_orchestrator():
    stages = ("placeplan.prepare", "placeplan.compute", "placeplan.publish")
    bad = [
        (name, target)
        for name in _modules()
        if any(_in(name, s) for s in stages)
        for node in _imports(_tree(name), module_level=False)
        for target, _ in _targets(node)
        if target in {"placeplan.cli", "placeplan.pipeline", "placeplan._matrix_cli"}
    ]
    assert bad == []


# --------------------------------------------------------------------------- (d) size budget
def _function_lengths() -> dict[str, int]:
    out: dict[str, int] = {}
    for name, path in _modules().items():
        rel = path.relative_to(SRC).as_posix()

        def visit(node: ast.AST, prefix: str, rel: str = rel) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = child.end_lineno - child.lineno + 1
                    first = child.body[0]
                    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                        lines -= first.end_lineno - first.lineno + 1
                    qualified = prefix + child.name
                    out[f"{rel}::{qualified}"] = lines
                    visit(child, qualified + ".")
                elif isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")

        visit(_tree(name), "")
    return out


def test_no_function_over_budget():
    lengths = _function_lengths()
    over = {k for k, n in lengths.items() if n > MAX_FUNCTION_LINES}
    assert sorted(over - FUNCTION_ALLOW) == [], "split it, or (with a reason) allow-list it"
    stale = sorted(k for k in FUNCTION_ALLOW if lengths.get(k, 0) <= MAX_FUNCTION_LINES)
    assert stale == [], "back in budget (or gone): take it off FUNCTION_ALLOW"


def test_no_module_over_budget():
    lengths = {
        p.relative_to(SRC).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in _modules().values()
    }
    over = {k for k, n in lengths.items() if n > MAX_MODULE_LINES}
    assert sorted(over - MODULE_ALLOW) == [], "split it into a subpackage"
    stale = sorted(k for k in MODULE_ALLOW if lengths.get(k, 0) <= MAX_MODULE_LINES)
    assert stale == [], "back in budget (or gone): take it off MODULE_ALLOW"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from placeplan.compute.scoring import _x\n", ["_x"]),
        ("if TYPE_CHECKING:\n    from placeplan.a import _t\n", ["_t"]),
        ("def f():\n    from placeplan.a import _y\n", ["_y"]),
        ("from placeplan import _cache\nfrom placeplan._errors import CRSError\n", []),
    ],
)
def test_private_name_check_sees_every_import(source, expected):
    """The checker itself: type-only and in-function imports count; private modules do not."""
    names = [
        imported
        for node in _imports(ast.parse(source), module_level=False, type_checking=True)
        for _, imported in _targets(node)
        if imported is not None and imported.startswith("_")
    ]
    assert names == expected
