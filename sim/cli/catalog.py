"""``negsim-list`` (or ``python -m sim.cli.catalog``): what there is to choose from, without
reading the code.

    negsim-list scenarios          # shipped scenarios and what each represents
    negsim-list fields             # every scenario field: path, unit, allowed values, meaning
    negsim-list fields offer       # ... only those whose path contains "offer"
    negsim-list districts          # the district ids a scenario may name
    negsim-list outcomes           # the columns of the result tables: unit and meaning

Everything is read from where it is declared once: the scenario schema
(:func:`sim.inputs.fields.schema_fields`), :data:`sim.inputs.schema.DISTRICTS` and the
column registry (:data:`sim.core.registry.COLUMNS`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sim.core import registry
from sim.inputs.fields import schema_fields
from sim.inputs.scenarios import load_scenario, scenario_names
from sim.inputs.schema import DISTRICTS

PROG = "negsim-list"


def scenarios() -> list[str]:
    """One line per shipped scenario: its name (``scenario=NAME``) and title."""
    out = []
    for name in scenario_names():
        out.append(f"{name:36s} {load_scenario(name).name}")
    return out


def fields(match: str = "") -> list[str]:
    """One line per scenario field whose path contains ``match``: path (``<id>`` for an actor's
    id), unit, allowed values and meaning."""
    out = []
    for sf in schema_fields():
        if match in sf.path:
            path = sf.path.replace("*", "<id>")
            out.append(f"{path:52s} {sf.unit:10s} {sf.allowed:34s} {sf.doc}")
    return out


def districts(match: str = "") -> list[str]:
    """The district ids a scenario may name."""
    return [d for d in DISTRICTS if match in d]


def outcomes(match: str = "") -> list[str]:
    """One line per column of the result tables: table, name, unit and meaning."""
    out = []
    for c in registry.COLUMNS:
        if match in c.name:
            out.append(f"{c.table.value:10s} {c.name:34s} {c.unit:10s} {c.meaning}")
    return out


WHAT: dict[str, Callable[..., list[str]]] = {
    "scenarios": scenarios,
    "fields": fields,
    "districts": districts,
    "outcomes": outcomes,
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``negsim-list``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List what a scenario or a run can name: the shipped scenarios, the scenario "
        "fields (unit, allowed values, meaning), the district ids, the outcome columns.",
    )
    parser.add_argument("what", choices=list(WHAT), help="what to list")
    parser.add_argument("match", nargs="?", default="", help="only names containing this text")
    a = parser.parse_args(argv)
    lines = WHAT[a.what]() if a.what == "scenarios" else WHAT[a.what](a.match)
    if a.what == "scenarios" and a.match:
        lines = [line for line in lines if a.match in line]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
