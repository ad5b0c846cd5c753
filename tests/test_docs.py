"""The model description (docs/model.md) stays in step with the code.

* The generated sections (parameter, outcome and scenario references) must equal what
  ``sim.report.docs`` builds from the code now.
* Every code reference written as ``path.py::name`` must name something that exists in that file.
* The table "Mechanism -> where in the code" must list the eight mechanisms of the design, in order.
* Every public rule function of the actor, table and helper modules must be documented.
* Every source article a scenario cites is listed in the bibliography (docs/sources.md).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.report import docs

ROOT = Path(__file__).resolve().parent.parent
MODEL_MD = ROOT / "docs" / "model.md"
SOURCES_MD = ROOT / "docs" / "sources.md"

# The eight mechanisms of the design brief ("Mechanisms the rules must embody"), in its order.
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
RULE_MODULES = [
    "sim/core/compiled.py",
    "sim/core/table.py",
    "sim/core/actors/state.py",
    "sim/core/actors/faction.py",
    "sim/core/actors/mediator.py",
    "sim/core/actors/spoiler.py",
]

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
    assert not missing, (
        f"docs/model.md lacks the markers of generated section(s) {missing}: add "
        "<!-- BEGIN GENERATED: name --> / <!-- END GENERATED: name --> and run "
        "`python -m sim.report.docs`"
    )
    stale = [name for name, body in want.items() if docs.extract(text, name) != body]
    assert not stale, (
        f"docs/model.md is out of date: generated section(s) {stale} differ from "
        "what sim.report.docs builds from the code now. Run `python -m sim.report.docs` "
        "(from the repository root) and commit docs/model.md."
    )


def test_generation_does_not_depend_on_hash_seed_or_working_directory(tmp_path):
    """A fresh interpreter with another string-hash seed, started in another directory, builds
    the same sections as this process: no set order or relative path leaks into them."""
    here = docs.generated_sections()
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "2" if env.get("PYTHONHASHSEED") == "1" else "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(sim.__file__).resolve().parents[1]), *filter(None, [env.get("PYTHONPATH")])]
    )
    code = "import json, sys; from sim.report import docs; json.dump(docs.generated_sections(), sys.stdout)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    there = json.loads(proc.stdout)
    assert sorted(there) == sorted(here)
    differ = [name for name in here if there[name] != here[name]]
    assert not differ, f"generated section(s) {differ} differ between two interpreters"


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
    assert not bad, (
        "docs/model.md refers to code that does not exist (renamed or removed?); "
        "fix the reference or the code: " + ", ".join(bad)
    )


def _mechanism_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if line.startswith("#") and "Mechanism -> where in the code" in line
        ),
        None,
    )
    assert start is not None, 'docs/model.md has no section headed "Mechanism -> where in the code"'
    rows = []
    for line in lines[start + 1 :]:
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
    assert not missing, (
        "the table 'Mechanism -> where in the code' in docs/model.md lacks a row "
        "(with at least one `path.py::name` reference) for: " + ", ".join(missing)
    )


def test_mechanism_table_lists_the_eight_in_order(text):
    listed = [(row[0], row[1].lower()) for row in _mechanism_rows(text)]
    want = [(str(n), m.lower()) for n, m in enumerate(MECHANISMS, start=1)]
    assert listed == want, (
        "the rows of 'Mechanism -> where in the code' in docs/model.md must be "
        f"exactly the eight mechanisms, numbered in order: {want}; found {listed}"
    )


def test_every_rule_function_is_documented(text):
    documented = set(REF.findall(text))
    undocumented = []
    for path in RULE_MODULES:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if (path, node.name) not in documented:
                    undocumented.append(f"{path}::{node.name}")
    assert not undocumented, (
        "rule functions without a subsection in docs/model.md section 7 "
        "(add one with its formula and source): " + ", ".join(undocumented)
    )


# An article number in a scenario's provenance: three digits with a leading zero ("001: ...",
# "(002)", "000, 004"), not part of a larger number such as "5,000" or "1.000".
ARTICLE = re.compile(r"(?<![\d.,])(0\d\d)(?![\d,])")


def _listed_articles() -> set[str]:
    """Article numbers of docs/sources.md, one heading ``## NNN: title`` each."""
    return set(re.findall(r"^## (\d{3}): \S", SOURCES_MD.read_text(encoding="utf-8"), re.MULTILINE))


def test_cited_articles_are_in_the_bibliography():
    listed = _listed_articles()
    assert listed, "docs/sources.md lists no article (headings '## NNN: title')"
    unlisted = {}
    for name in sim.scenario_names():
        for path, source in sim.load_scenario(name).sources.items():
            for number in set(ARTICLE.findall(source)) - listed:
                unlisted.setdefault(number, []).append(f"{name}: sources.{path}")
    where = "; ".join(f"{n} in {', '.join(sorted(w)[:3])}" for n, w in sorted(unlisted.items()))
    assert not unlisted, (
        "scenarios cite articles that docs/sources.md does not list (add each with "
        f"its title, outlet and date): {where}"
    )
