"""The model description (docs/model.md) stays in step with the code.

* The generated sections (parameter, outcome and scenario references) must equal what
  ``sim.report.docs`` builds from the code now.
* Every code reference written as ``path.py::name`` must name something that exists in that file.
* The table "Mechanism -> where in the code" must cover the eight mechanisms of DESIGN.md.
* Every public rule function of the actor, table and helper modules must be documented.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sim.report import docs

ROOT = Path(__file__).resolve().parent.parent
MODEL_MD = ROOT / "docs" / "model.md"

# The eight mechanisms of DESIGN.md ("Mechanisms the rules must embody"), in its order.
MECHANISMS = [
    "Commitment problem",
    "Broken promises erode trust",
    "Veto players",
    "Limited guarantor",
    "Spoilers and outbidding",
    "Cohesion",
    "Violence after collapse",
    "Costs drive talks",
]

# Modules whose public functions are rules: each must appear in docs/model.md as path.py::name.
RULE_MODULES = ["sim/core/compiled.py", "sim/core/table.py", "sim/core/actors/state.py",
                "sim/core/actors/faction.py", "sim/core/actors/mediator.py", "sim/core/actors/spoiler.py"]

REF = re.compile(r"`((?:sim|tests|experiments)/[\w/]+\.py)::([A-Za-z_][\w.]*)`")


@pytest.fixture(scope="module")
def text() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def _names(path: Path) -> dict[str, ast.AST]:
    """Top-level functions, classes and assigned constants of a module, with class members
    as ``Class.member``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, ast.AST] = {}

    def targets(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Assign):
            return [t.id for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            return [node.target.id]
        return []

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        out[f"{node.name}.{member.name}"] = member
                    for t in targets(member):
                        out[f"{node.name}.{t}"] = member
        for t in targets(node):
            out[t] = node
    return out


def test_generated_sections_are_up_to_date(text):
    want = docs.generated_sections()
    missing = [name for name in want if docs.extract(text, name) is None]
    assert not missing, (f"docs/model.md lacks the markers of generated section(s) {missing}: add "
                         "<!-- BEGIN GENERATED: name --> / <!-- END GENERATED: name --> and run "
                         "`python -m sim.report.docs`")
    stale = [name for name, body in want.items() if docs.extract(text, name) != body]
    assert not stale, (f"docs/model.md is out of date: generated section(s) {stale} differ from "
                       "what sim.report.docs builds from the code now. Run `python -m sim.report.docs` "
                       "(from the repository root) and commit docs/model.md.")


def test_generation_is_deterministic():
    assert docs.generated_sections() == docs.generated_sections()


def test_code_references_exist(text):
    refs = sorted(set(REF.findall(text)))
    assert refs, "docs/model.md has no `path.py::name` code references"
    cache: dict[str, dict[str, ast.AST] | None] = {}
    bad = []
    for path, name in refs:
        if path not in cache:
            file = ROOT / path
            cache[path] = _names(file) if file.is_file() else None
        names = cache[path]
        if names is None:
            bad.append(f"{path}::{name} (no such file)")
        elif name not in names:
            bad.append(f"{path}::{name}")
    assert not bad, ("docs/model.md refers to code that does not exist (renamed or removed?); "
                     "fix the reference or the code: " + ", ".join(bad))


def _mechanism_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.startswith("#") and "Mechanism -> where in the code" in line), None)
    assert start is not None, 'docs/model.md has no section headed "Mechanism -> where in the code"'
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not re.match(r"^\|[\s|:-]+\|$", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header


def test_mechanism_table_covers_all_eight(text):
    rows = _mechanism_rows(text)
    missing = []
    for n, mechanism in enumerate(MECHANISMS, start=1):
        row = next((r for r in rows if any(c.lower() == mechanism.lower() for c in r)), None)
        if row is None or not REF.search(" | ".join(row)):
            missing.append(f"{n} {mechanism}")
    assert not missing, ("the table 'Mechanism -> where in the code' in docs/model.md lacks a row "
                         "(with at least one `path.py::name` reference) for: " + ", ".join(missing))


def test_mechanisms_match_design_brief():
    design = ROOT.parent / "shared" / "DESIGN.md"
    if not design.is_file():
        pytest.skip("shared/DESIGN.md is not beside the repository")
    named = re.findall(r"^\d\. \*\*(.+?)\*\*", design.read_text(encoding="utf-8"), re.MULTILINE)
    assert [m.lower() for m in named] == [m.lower() for m in MECHANISMS]


def test_every_rule_function_is_documented(text):
    documented = set(REF.findall(text))
    undocumented = []
    for path in RULE_MODULES:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if (path, node.name) not in documented:
                    undocumented.append(f"{path}::{node.name}")
    assert not undocumented, ("rule functions without a subsection in docs/model.md section 7 "
                              "(add one with its formula and source): " + ", ".join(undocumented))
