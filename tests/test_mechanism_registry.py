"""The mechanism registry (sim/core/mechanisms.py) is the one list of mechanisms: every entry
names rules and parameters that exist, has a switch in the scenario schema that the compiled
rules read, and moves the outcome it declares in the direction it declares when switched off."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_mechanisms import clearly_greater

import sim
from sim.core import mechanisms
from sim.core.mechanisms import MECHANISMS, Direction
from sim.inputs.fields import lookup
from sim.inputs.params import build_params
from sim.inputs.scenarios import SCENARIO_DIR
from sim.inputs.schema import Behaviour, ScenarioError
from sim.report.patterns import EPISODES, horizon_days

CORE = Path(mechanisms.__file__).resolve().parent
WORLDS = 1000
SEED = 31


def _functions(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("m", MECHANISMS, ids=lambda m: m.name)
def test_each_mechanism_names_rules_and_parameters_that_exist(m):
    for ref in m.rules:
        file, func = ref.split("::")
        assert func in _functions(CORE / file), f"{m.name}: rule {ref} does not exist"
    fields = set(Behaviour.__dataclass_fields__)
    missing = [p for p in m.params if p not in fields]
    assert not missing, f"{m.name}: parameters {missing} are not behavioural parameters"
    assert m.literature and m.off and m.expects


@pytest.mark.parametrize("m", MECHANISMS, ids=lambda m: m.name)
def test_each_switch_is_read_by_the_compiled_rules(m):
    """The world parameter ``on_<name>`` is read by at least one rule of sim/core."""
    sources = "\n".join(p.read_text() for p in CORE.rglob("*.py"))
    assert f"q.{m.world_param}" in sources, f"no rule reads q.{m.world_param}"
    assert lookup(f"mechanisms.{m.name}").is_flag


def test_switches_reach_the_world_parameters_one_world_at_a_time():
    s = sim.load_scenario("kabul_2022")
    table = pd.DataFrame({"mechanisms.spoilers": [True, False, True]})
    p = build_params(s, 3, table)
    assert list(p.world["on_spoilers"]) == [1.0, 0.0, 1.0]
    assert set(p.world["on_trust"]) == {1.0}


def test_a_switch_that_is_not_yes_or_no_is_refused_naming_it():
    with pytest.raises(ScenarioError, match="mechanisms.spoilers"):
        sim.load_scenario("kabul_2022", overrides={"mechanisms.spoilers": "sometimes"})
    with pytest.raises(ScenarioError, match="mechanisms"):
        sim.load_scenario("kabul_2022", overrides={"mechanisms.no_such_mechanism": False})


def test_switching_a_mechanism_off_in_a_file_equals_switching_it_off_as_an_override(tmp_path):
    text = (SCENARIO_DIR / "kabul_2022.yaml").read_text() + "mechanisms:\n  spoilers: false\n"
    (tmp_path / "k.yaml").write_text(text)
    a = sim.run(sim.load_scenario(tmp_path / "k.yaml"), worlds=50, days=200, seed=3).worlds
    b = sim.run(
        sim.load_scenario("kabul_2022", overrides={"mechanisms.spoilers": False}), worlds=50, days=200, seed=3
    ).worlds
    pd.testing.assert_frame_equal(a, b)
    assert a["spoiler_attacks"].sum() == 0


def _outcome(w: pd.DataFrame, e) -> pd.Series:
    x = w[e.outcome]
    if e.equals is not None:
        x = (x.astype(str) == e.equals).astype(float)
    x = x.astype(float)
    if e.among_reached:
        x = x.where(w["ceasefire_reached"])
    return x


@pytest.mark.parametrize(
    "m,e", [(m, e) for m in MECHANISMS for e in m.expects], ids=lambda x: getattr(x, "name", "")
)
def test_switching_a_mechanism_off_moves_its_outcome_as_declared(m, e):
    """Paired worlds (same seed, same uniforms) with the mechanism on and off; the declared move
    must exceed three standard errors of the paired difference."""
    base = dict(e.overrides)
    days = horizon_days(sim.load_scenario(e.scenario), EPISODES[e.scenario])
    on = sim.run(sim.load_scenario(e.scenario, overrides=base), worlds=WORLDS, days=days, seed=SEED).worlds
    off_s = sim.load_scenario(e.scenario, overrides={**base, f"mechanisms.{m.name}": False})
    off = sim.run(off_s, worlds=WORLDS, days=days, seed=SEED).worlds
    a, b = _outcome(on, e), _outcome(off, e)
    ok, detail = clearly_greater(b, a) if e.direction is Direction.higher else clearly_greater(a, b)
    assert ok, f"{m.name} off: {e.outcome} should be {e.direction.value} in {e.scenario}: {detail}"
    assert np.isfinite(a).sum() > 50


def test_the_command_line_switches_a_mechanism_off_by_name(tmp_path):
    from sim.cli.checks import mechanism_switches

    assert mechanism_switches(
        ["mechanisms.spoilers=off", "scenario.mechanisms.trust=on,off", "worlds=5"]
    ) == [
        "scenario.mechanisms.spoilers=false",
        "scenario.mechanisms.trust=true,false",
        "worlds=5",
    ]
    import subprocess
    import sys

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim", "scenario=kabul_2022", "worlds=20", "days=60", "plots=false"]
    done = subprocess.run(
        [*cmd, "mechanisms.spoilers=off", f"hydra.run.dir={out}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert pd.read_parquet(out / "worlds.parquet")["spoiler_attacks"].sum() == 0
    bad = subprocess.run(
        [*cmd, "mechanisms.spoiler=off", f"hydra.run.dir={tmp_path / 'bad'}"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "did you mean 'spoilers'" in bad.stderr
