"""Inputs declared once: the walk over the scenario schema, the typed run settings, the
cross-field rules, and behavioural defaults that live in the schema alone."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim import ScenarioError
from sim.inputs import fields, params, scenarios, schema
from sim.inputs.settings import RUN_KEYS, Record, RunSettings, check_run_setting

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# The walk over the schema
# --------------------------------------------------------------------------------------------


SCHEMA_CLASSES = (
    schema.Scenario,
    schema.StateConfig,
    schema.OfferConfig,
    schema.FactionConfig,
    schema.MediatorConfig,
    schema.SpoilerConfig,
    schema.CeasefireConfig,
    schema.Behaviour,
    schema.Mechanisms,
)


def test_every_schema_class_field_is_walked_once():
    walked = [sf.path for sf in fields.schema_fields()]
    assert len(walked) == len(set(walked))
    # every leaf (not a nested group, not an actor map) of every schema class, by identity
    leaves = [
        f
        for cls in SCHEMA_CLASSES
        for f in dataclasses.fields(cls)
        if not dataclasses.is_dataclass(typing.get_type_hints(cls)[f.name])
        and not (cls is schema.Scenario and f.name in fields.actor_groups())
    ]
    assert sorted(map(id, leaves)) == sorted(id(sf.field) for sf in fields.schema_fields())
    assert fields.lookup("factions.any_id.hardline_share").path == "factions.*.hardline_share"
    assert fields.lookup("state.offer.amnesty").per_world is False
    assert fields.lookup("state.no_such_field") is None


def test_tunable_paths_name_the_scenario_values(mini):
    paths = fields.tunable_paths(mini)
    for fid, fc in mini.factions.items():
        assert paths[f"factions.{fid}.hardline_share"][1] == fc.hardline_share
    assert paths["behaviour.accept_per_day"][1] == mini.behaviour.accept_per_day
    assert "name" not in paths and "state.troops_districts" not in paths  # text, lists
    assert set(params.STRUCTURAL) == {
        "state.offer.release_tranche_count",
        "state.offer.amnesty",
        "state.offer.compensation",
        "state.offer.shariah_governance",
    }


def test_command_line_key_check_suggests_the_field():
    with pytest.raises(ScenarioError, match="did you mean 'hardline_share'"):
        fields.check_path("factions.a.hardlin_share", {"factions": ["a"]})
    with pytest.raises(ScenarioError, match=r"scenario.factions.<id>.fighters_count"):
        fields.check_path("state.fighters_count")
    with pytest.raises(ScenarioError, match="there is no faction 'mehsd'.*did you mean 'mehsud'"):
        fields.check_path("factions.mehsd.hardline_share", {"factions": ["mehsud", "swat"]})
    with pytest.raises(ScenarioError, match="0 to 1"):
        fields.check_path("state.delivery_reliability", value=1.5)
    fields.check_path("sources.state.offer", value="anything")  # free-form block


# --------------------------------------------------------------------------------------------
# Run settings: one declaration, one check
# --------------------------------------------------------------------------------------------


def test_run_settings_match_conf_config_yaml():
    conf = yaml.safe_load((ROOT / "conf" / "config.yaml").read_text())
    assert [k for k in conf if k not in ("defaults", "hydra")] == list(RUN_KEYS)
    defaults = RunSettings()
    for key in RUN_KEYS:
        value = getattr(defaults, key)
        assert (value.value if isinstance(value, Record) else value) == conf[key], key


@pytest.mark.parametrize(
    "key,value,fragments",
    [
        ("worlds", 0, ["worlds = 0", "at least 1"]),
        ("worlds", 5.0, ["worlds = 5.0", "whole number"]),
        ("record", "montly", ["record = 'montly'", "none, monthly, daily", "did you mean 'monthly'"]),
        ("threads", "many", ["threads = 'many'", "auto", "whole number"]),
        ("progress", "sometimes", ["progress = 'sometimes'", "auto, true or false"]),
        ("wrlds", 3, ["wrlds is not a run setting", "did you mean 'worlds'"]),
    ],
)
def test_run_setting_messages(key, value, fragments):
    with pytest.raises(ScenarioError) as err:
        check_run_setting(key, value)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_run_settings_normalise_and_api_shares_the_check(mini_path):
    s = RunSettings(threads="AUTO", progress="false", record="daily")
    assert (s.threads, s.progress, s.record, s.threads_or_none) == ("auto", False, Record.daily, None)
    with pytest.raises(ScenarioError) as cli_err:
        RunSettings(chunk_worlds=0)
    with pytest.raises(ScenarioError) as api_err:
        sim.run(mini_path, worlds=2, days=2, chunk_worlds=0)
    assert str(cli_err.value) == str(api_err.value)


# --------------------------------------------------------------------------------------------
# Cross-field rules: one place, for a scenario and for each world
# --------------------------------------------------------------------------------------------


def test_cross_field_rule_reads_the_same_for_a_scenario_and_a_world(mini, mini_path):
    held = sum(fc.prisoners_held_count for fc in mini.factions.values())
    with pytest.raises(ScenarioError) as scenario_err:
        sim.load_scenario(mini_path, overrides={"state.offer.prisoner_release_count": held + 1})
    params = pd.DataFrame({"state.offer.prisoner_release_count": [0, held + 1]})
    with pytest.raises(ScenarioError) as world_err:
        sim.run(mini_path, worlds=2, days=2, params=params)
    rule = (
        f"state.offer.prisoner_release_count = {held + 1} is not allowed: the state holds "
        f"only {held} prisoners"
    )
    assert rule in str(scenario_err.value)
    assert f"params row 1: {rule}" in str(world_err.value)
    outside = {f"factions.{i}.in_umbrella": np.zeros(2, dtype=bool) for i in mini.factions}
    with pytest.raises(ScenarioError, match="params row 0: factions: no faction has in_umbrella"):
        schema.check_world_rules(mini, outside)


# --------------------------------------------------------------------------------------------
# Behavioural defaults live in the schema; the shipped set holds only calibrated values
# --------------------------------------------------------------------------------------------


def test_behaviour_file_holds_only_the_calibrated_values():
    shipped = yaml.safe_load(scenarios.BEHAVIOUR_FILE.read_text())["behaviour"]
    calibration = yaml.safe_load((ROOT / "conf" / "calibration.yaml").read_text())
    assert set(shipped) == set(calibration["parameters"]) | set(calibration.get("fixed") or {})
    loaded = sim.load_scenario("kabul_2022").behaviour
    for f in dataclasses.fields(schema.Behaviour):
        expected = shipped.get(f.name, f.default)
        assert getattr(loaded, f.name) == pytest.approx(expected), f.name


def test_missing_behaviour_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(scenarios, "BEHAVIOUR_FILE", tmp_path / "behaviour.yaml")
    with pytest.raises(FileNotFoundError, match="behaviour.yaml"):
        scenarios.behaviour_defaults()


# --------------------------------------------------------------------------------------------
# The command line's modules
# --------------------------------------------------------------------------------------------


def _sim_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("sim")}
    return out


def test_lower_layers_do_not_import_the_command_line():
    for sub in ("inputs", "running", "explore", "core"):
        for path in (ROOT / "sim" / sub).rglob("*.py"):
            assert not any(m.startswith("sim.cli") for m in _sim_imports(path)), path


def test_command_line_functions_are_short():
    for path in (ROOT / "sim" / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 65, (path.name, node.name)
