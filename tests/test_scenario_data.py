"""A scenario is data: it cannot reach Hydra's settings, the environment or places outside
its folders, and a run's label is a safe directory name inside ``results/``.
"""

from __future__ import annotations

import os

import pytest
from omegaconf import OmegaConf

import sim
from sim.cli import checks
from sim.inputs import scenarios
from sim.inputs.scenarios import read_yaml, scenario_label


@pytest.mark.parametrize(
    "name", ["...yaml", "..yaml", ".yaml", ".hidden.yaml", "a/../../b.yaml", "x" * 300 + ".yaml"]
)
def test_a_run_label_is_a_safe_directory_name(name):
    label = scenario_label(OmegaConf.create({"scenario_file": f"/tmp/{name}"}))
    assert label and not label.startswith(".") and "/" not in label and len(label) <= 80
    assert label not in (".", "..")


def test_a_file_dropped_into_scenarios_cannot_set_hydra_keys(tmp_path, monkeypatch):
    """``# @package _global_`` in scenarios/ would let a file set hydra.* (its log, callbacks):
    the command line reads the chosen file as data first and refuses it, naming it."""
    shipped = tmp_path / "scenarios"
    shipped.mkdir()
    (shipped / "evil.yaml").write_text(
        "# @package _global_\nhydra:\n  callbacks:\n    x:\n      _target_: os.system\n"
    )
    monkeypatch.setattr(scenarios, "SCENARIO_DIR", shipped)
    monkeypatch.setattr(checks, "SCENARIO_DIR", shipped)
    with pytest.raises(sim.ScenarioError, match=r"scenarios/evil.yaml: .*@package"):
        checks.precheck(["scenario=evil"])
    (shipped / "evil.yaml").write_text("name: x\nhydra:\n  run:\n    dir: /tmp/elsewhere\n")
    with pytest.raises(sim.ScenarioError, match=r"scenarios/evil.yaml: hydra is not allowed"):
        checks.precheck(["scenario=evil"])


def test_every_shipped_scenario_is_plain_data():
    for name in sim.scenario_names():
        read_yaml(scenarios.SCENARIO_DIR / f"{name}.yaml")


def test_scenario_file_with_a_tilde_is_expanded(tmp_path, monkeypatch, mini_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "my.yaml").write_text(mini_path.read_text())
    out = checks.precheck(["scenario_file=~/my.yaml", "worlds=2"])
    assert out[0] == f"scenario_file={tmp_path / 'my.yaml'}"


def test_interpolation_never_reaches_the_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("NEGSIM_SECRET", "hunter2")
    path = tmp_path / "leak.yaml"
    path.write_text(
        "name: leak\nfactions:\n  a: {fighters_count: 10}\nsources:\n  name: ${oc.env:NEGSIM_SECRET}\n"
    )
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert "sources.name" in str(err.value) and "hunter2" not in str(err.value)


def test_limits_of_a_scenario_file_are_refused_quickly(tmp_path):
    """An alias bomb is refused from the composed node graph, before it expands (the test's
    own timeout would catch a loader that expands it)."""
    levels = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    path = tmp_path / "bomb.yaml"
    path.write_text('l0: &l0 ["x"]\n' + levels)
    with pytest.raises(sim.ScenarioError, match=r"bomb.yaml: refused: its aliases"):
        read_yaml(path)
    assert os.path.getsize(path) < 1000
