"""``negsim-list``: scenarios, fields, district ids and outcome columns without reading the code;
``--help`` and every shipped scenario file point to it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sim
from sim.cli.catalog import main
from sim.core import registry
from sim.inputs.fields import schema_fields
from sim.inputs.scenarios import SCENARIO_DIR
from sim.inputs.schema import DISTRICTS


def _lines(capsys, *argv) -> list[str]:
    main(list(argv))
    return capsys.readouterr().out.splitlines()


def test_lists_every_shipped_scenario(capsys):
    lines = _lines(capsys, "scenarios")
    assert [line.split()[0] for line in lines] == sim.scenario_names()
    assert any("Kabul talks, 2022" in line for line in lines)


def test_lists_every_field_with_unit_range_and_meaning(capsys):
    lines = _lines(capsys, "fields")
    assert len(lines) == len(schema_fields())
    line = next(x for x in lines if x.startswith("state.delivery_reliability "))
    assert "share" in line and "from 0 to 1" in line and "delivered" in line
    assert any(x.startswith("factions.<id>.home_district ") for x in lines)
    assert all(x.split()[0].count("offer") for x in _lines(capsys, "fields", "offer"))


def test_lists_districts_and_outcomes(capsys):
    assert _lines(capsys, "districts") == list(DISTRICTS)
    outcomes = _lines(capsys, "outcomes")
    assert len(outcomes) == len(registry.COLUMNS)
    assert any(x.split()[:2] == ["worlds", "ceasefire_reached"] for x in outcomes)


def test_an_unknown_choice_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["factions"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_help_and_every_shipped_file_point_to_it():
    out = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, timeout=60)
    assert "negsim-list scenarios|fields|districts|outcomes" in out.stdout
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        head = path.read_text().split("\nname:")[0]
        assert "negsim-list fields" in head and "negsim-list districts" in head, path.name
