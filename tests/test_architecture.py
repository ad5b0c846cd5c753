"""The shape of the package: no import cycles, small functions, layers that only look down.

Read from the source with :mod:`ast` (nothing is imported), so the checks are fast and see
every import, including those inside functions:

- **No import cycle** between modules of ``sim``. Every ``import`` / ``from ... import`` is an
  edge, at module level or inside a function (a function-level import still ties the two
  modules together; it only hides the cycle until the function runs). ``from sim.a import b``
  is an edge to ``sim.a.b`` when that is a module, else to ``sim.a``. Imports under
  ``if TYPE_CHECKING:`` are not run and are left out. A package is not counted as imported by
  its own submodules (Python imports the parents of a module first, which is no cycle).
- **No function over 60 lines of code** (from ``def`` to its last line, leaving out its
  docstring, blank lines and lines holding only a comment, so that the measure follows what a
  reader has to follow, not how the formatter spreads a call over lines) unless its docstring
  has a line starting with ``Long because`` giving the reason.
- **Layers**: the model core (``sim.core``) imports nothing from running, exploring, reporting
  or the command line; exploring (``sim.explore``) nothing from reporting or the command line;
  only the command line itself (and ``sim.__main__`` and ``sim.validate``, which are
  ``python -m sim`` and ``python -m sim.validate``) imports
  ``sim.cli``; nothing outside the interactive page (``sim.app``) imports it.

Known offenders are listed in the ``KNOWN_*`` allow-lists below, each with the reason; a
listed item that no longer offends makes its test fail too, so the lists only shrink.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sim"
MAX_LINES = 60
LONG_MARK = "Long because"

# Functions over MAX_LINES allowed without a stated reason (none today; keep it that way).
KNOWN_LONG: set[str] = set()

ENTRY_POINTS = {"sim.__main__", "sim.validate"}
"""Modules that only forward ``python -m ...`` to a command of ``sim.cli``."""

# Imports that break the layering today, with the reason; empty once resolved.
KNOWN_LAYER_BREAKS: set[tuple[str, str]] = {
    # The calibration fits the validation patterns, which live in sim/report/patterns.py beside
    # the report that prints them; moving the patterns (episodes, statistics, per-draw
    # reduction) into sim.explore and keeping only the report in sim.report resolves it.
    ("sim.explore.calibration", "sim.report.patterns")
}

# Import cycles known today (as sets of modules), with the reason; empty once resolved.
KNOWN_CYCLES: list[set[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement of a module, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _base_of_relative(module: str, node: ast.ImportFrom) -> str:
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> set[str]:
    """Modules of ``sim`` that ``module`` imports (see the module doc for how names resolve)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = _base_of_relative(module, node) if node.level else (node.module or "")
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for t in targets:
            while t and t not in MODULES:  # `import sim.core.types as t` names a module; a name
                t = t.rpartition(".")[0]  # inside one resolves to its module
            if t and t != module and not module.startswith(t + "."):
                out.add(t)
    return out


GRAPH: dict[str, set[str]] = {m: imports_of(m) for m in MODULES}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles, one at a time: find one (graphlib names it), drop one of its edges, repeat."""
    graph = {k: set(v) for k, v in graph.items()}
    cycles = []
    while True:
        try:
            tuple(graphlib.TopologicalSorter(graph).static_order())
            return cycles
        except graphlib.CycleError as e:
            cycle = e.args[1]  # [a, b, ..., a]: each module imports the one before it
            cycles.append(cycle)
            graph[cycle[1]].discard(cycle[0])


def test_the_graph_sees_module_and_function_level_imports():
    assert "sim.core.types" in GRAPH["sim.core.table"]
    # a function-level import (sweep collection summarises jobs with sim.explore.design)
    assert "sim.explore.design" in GRAPH["sim.explore.sweep"]
    # `from sim.report import patterns` is an edge to the module, not to the package
    assert "sim.report.patterns" in GRAPH["sim.explore.calibration"]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})


def test_no_import_cycles():
    found = find_cycles(GRAPH)
    unknown = [c for c in found if set(c) not in KNOWN_CYCLES]
    assert not unknown, "import cycles (each module imports the next): " + "; ".join(
        " -> ".join(reversed(c)) for c in unknown
    )
    gone = [c for c in KNOWN_CYCLES if c not in [set(f) for f in found]]
    assert not gone, f"no longer a cycle, remove from KNOWN_CYCLES: {gone}"


def _functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
            yield from _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def code_lines(node: ast.AST, source: list[str]) -> int:
    """Lines of a function from ``def`` to its end, without its docstring, blank lines and
    comment-only lines."""
    skip: set[int] = set()
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for n in range(node.lineno, node.end_lineno + 1):
        text = source[n - 1].strip()
        if n not in skip and text and not text.startswith("#"):
            count += 1
    return count


def long_functions() -> dict[str, int]:
    """``{module::function: lines}`` of functions over :data:`MAX_LINES` without a reason."""
    out = {}
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        source = text.splitlines()
        for name, node in _functions(ast.parse(text)):
            lines = code_lines(node, source)
            doc = ast.get_docstring(node) or ""
            reason = any(ln.strip().startswith(LONG_MARK) for ln in doc.splitlines())
            if lines > MAX_LINES and not reason:
                out[f"{module}::{name}"] = lines
    return out


def test_no_function_over_60_lines_without_a_reason():
    long = long_functions()
    unknown = {k: v for k, v in long.items() if k not in KNOWN_LONG}
    assert not unknown, (
        f"functions over {MAX_LINES} lines (split them, or give the reason in a "
        f"docstring line starting with {LONG_MARK!r}): {unknown}"
    )
    gone = KNOWN_LONG - set(long)
    assert not gone, f"no longer over {MAX_LINES} lines, remove from KNOWN_LONG: {sorted(gone)}"


FORBIDDEN: dict[str, tuple[str, ...]] = {
    "sim.core": ("sim.running", "sim.explore", "sim.report", "sim.cli"),
    "sim.explore": ("sim.report", "sim.cli"),
}


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_breaks() -> set[tuple[str, str]]:
    out = set()
    for src, targets in GRAPH.items():
        for dst in targets:
            for layer, below in FORBIDDEN.items():
                if _inside(src, layer) and any(_inside(dst, b) for b in below):
                    out.add((src, dst))
            if _inside(dst, "sim.cli") and not (_inside(src, "sim.cli") or src in ENTRY_POINTS):
                out.add((src, dst))
            if _inside(dst, "sim.app") and not _inside(src, "sim.app"):
                out.add((src, dst))  # the page is a top layer, as the command line
    return out


def test_layers_only_look_down():
    breaks = layer_breaks()
    unknown = sorted(breaks - KNOWN_LAYER_BREAKS)
    assert not unknown, "imports across layers: " + "; ".join(f"{a} imports {b}" for a, b in unknown)
    gone = sorted(KNOWN_LAYER_BREAKS - breaks)
    assert not gone, f"no longer imported, remove from KNOWN_LAYER_BREAKS: {gone}"


@pytest.mark.parametrize("module", ["sim.core.kernel", "sim.explore.design"])
def test_layer_check_would_catch_an_upward_import(module):
    GRAPH[module].add("sim.report.figures")
    try:
        assert (module, "sim.report.figures") in layer_breaks()
    finally:
        GRAPH[module].discard("sim.report.figures")
