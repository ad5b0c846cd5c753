"""The command line (``python -m sim``, a Hydra app): outputs, overrides, scenario files, errors.

Every run is a subprocess ``sys.executable -m sim ... hydra.run.dir=<tmp>`` started in a temporary
directory, so nothing is written into the repository. Runs are small (64 worlds x 120 days at
most) and skip figures unless a test is about them, so each takes a couple of seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
from sim.inputs.scenarios import SCENARIO_DIR, load_scenario, scenario_names, to_dict

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).resolve().parent / "data" / "mini.yaml"
SMALL = ["worlds=64", "days=120", "plots=false"]


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m sim *args`` in ``cwd`` with the repository importable."""
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def mini_file(tmp_path) -> Path:
    """A copy of tests/data/mini.yaml outside the repository, one faction renamed."""
    raw = yaml.safe_load(MINI.read_text())
    raw["factions"]["only_here"] = raw["factions"].pop("hizb_ul_ahrar")
    path = tmp_path / "elsewhere" / "my_scenario.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# --------------------------------------------------------------------------------------------
# A run writes every output
# --------------------------------------------------------------------------------------------


def test_small_run_writes_every_file(tmp_path, assert_fields_described):
    run_dir = tmp_path / "run"
    proc = ok(run_cli(["scenario=kabul_2022", *SMALL, f"hydra.run.dir={run_dir}"], tmp_path))
    for name in ("worlds.parquet", "summary.json", "scenario.yaml", "manifest.json", ".hydra/config.yaml"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "timeseries.parquet").exists()  # record=none
    assert not list(run_dir.glob(".*.tmp")), "temporary files left behind"
    assert not (tmp_path / "results").exists(), "wrote outside hydra.run.dir"

    worlds = pd.read_parquet(run_dir / "worlds.parquet")
    assert len(worlds) == 64
    assert list(worlds.columns) == list(sim.OUTCOME_COLUMNS)
    for name in ("worlds.parquet", "ceasefires.parquet"):
        assert_fields_described(run_dir / name)
    assert worlds["world"].tolist() == list(range(64))

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["scenario"] == "kabul_2022"
    assert (summary["seed"], summary["worlds"], summary["days"]) == (0, 64, 120)
    assert 0.0 <= summary["ceasefire_share"] <= 1.0

    manifest = json.loads((run_dir / "manifest.json").read_text())
    for pkg in ("sim", "numpy", "pandas", "scipy", "mesa", "hydra-core", "pyarrow"):
        assert manifest["versions"][pkg], pkg
    assert manifest["python"].count(".") == 2
    assert (manifest["seed"], manifest["worlds"], manifest["days"], manifest["record"]) == (
        0,
        64,
        120,
        "none",
    )
    assert {"commit", "dirty"} <= set(manifest["git"])
    assert manifest["wall_time_seconds"] > 0
    assert "worlds=64" in manifest["overrides"]
    assert manifest["started_at"]

    resolved = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    assert resolved == to_dict(load_scenario("kabul_2022"))
    assert to_dict(load_scenario(run_dir / "scenario.yaml")) == resolved  # loads back

    assert "kabul_2022: 64 worlds over 120 days" in proc.stdout  # sim.running.results.describe
    assert str(run_dir) in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_record_monthly_writes_timeseries(tmp_path, assert_fields_described):
    run_dir = tmp_path / "run"
    ok(run_cli([*SMALL, "record=monthly", f"hydra.run.dir={run_dir}"], tmp_path))
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert set(ts["world"]) == set(range(64))
    assert_fields_described(run_dir / "timeseries.parquet")
    assert {"month", "ttp_attacks", "spoiler_attacks"} <= set(ts.columns)
    assert json.loads((run_dir / "manifest.json").read_text())["record"] == "monthly"


def test_field_overrides_change_the_resolved_scenario(tmp_path):
    run_dir = tmp_path / "run"
    ok(
        run_cli(
            [
                *SMALL,
                "worlds=8",
                "days=20",
                "scenario.state.delivery_reliability=0.2",
                "scenario.factions.jamaat_ul_ahrar.hardline_share=0.85",
                "scenario.behaviour.accept_per_day=0.1",  # a field the YAML does not set
                f"hydra.run.dir={run_dir}",
            ],
            tmp_path,
        )
    )
    resolved = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    assert resolved["state"]["delivery_reliability"] == 0.2
    assert resolved["factions"]["jamaat_ul_ahrar"]["hardline_share"] == 0.85
    assert resolved["behaviour"]["accept_per_day"] == 0.1
    config = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert config["scenario"]["state"]["delivery_reliability"] == 0.2


def test_scenario_file_outside_the_repo_with_overrides(tmp_path, mini_file):
    run_dir = tmp_path / "run"
    proc = ok(
        run_cli(
            [
                f"scenario_file={mini_file}",
                *SMALL,
                "days=30",
                "scenario.state.delivery_reliability=0.3",
                "scenario.factions.only_here.hardline_share=0.9",  # id only in the file
                f"hydra.run.dir={run_dir}",
            ],
            tmp_path,
        )
    )
    resolved = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    assert resolved["name"] == "test mini"
    assert resolved["state"]["delivery_reliability"] == 0.3
    assert resolved["factions"]["only_here"]["hardline_share"] == 0.9
    assert resolved["factions"]["mehsud_central"]["hardline_share"] == 0.4  # from the file
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["scenario"] == "my_scenario"
    assert summary["scenario_source"] == str(mini_file.resolve())
    assert "my_scenario: 64 worlds over 30 days" in proc.stdout


def test_scenario_file_relative_to_the_current_directory(tmp_path, mini_file):
    run_dir = tmp_path / "run"
    ok(
        run_cli(
            [
                "scenario_file=elsewhere/my_scenario.yaml",
                *SMALL,
                "worlds=4",
                "days=10",
                f"hydra.run.dir={run_dir}",
            ],
            tmp_path,
        )
    )
    assert yaml.safe_load((run_dir / "scenario.yaml").read_text())["name"] == "test mini"


def test_same_command_gives_identical_worlds(tmp_path, mini_file):
    frames = []
    for i in range(2):
        run_dir = tmp_path / f"run{i}"
        ok(run_cli([f"scenario_file={mini_file}", *SMALL, "seed=7", f"hydra.run.dir={run_dir}"], tmp_path))
        frames.append(pd.read_parquet(run_dir / "worlds.parquet"))
    pd.testing.assert_frame_equal(frames[0], frames[1])


# --------------------------------------------------------------------------------------------
# User mistakes: exit code 2, one message naming the field, no traceback
# --------------------------------------------------------------------------------------------

BAD = {
    "value_out_of_range": (
        ["scenario.state.delivery_reliability=1.5"],
        ["scenario.state.delivery_reliability", "1.5", "0 to 1"],
    ),
    "unknown_scenario": (["scenario=nope"], ["scenario", "nope", "kabul_2022"]),
    "worlds_zero": (["worlds=0"], ["worlds", "0", "at least 1"]),
    "worlds_negative": (["worlds=-5"], ["worlds", "-5", "at least 1"]),
    "record_weekly": (["record=weekly"], ["record", "weekly", "monthly"]),
    "threads_zero": (["threads=0"], ["threads", "0", "auto", "at least 1"]),
    "threads_word": (["threads=many"], ["threads", "many", "auto", "whole number"]),
    "unknown_scenario_key": (
        ["scenario.state.no_such_key=1"],
        ["scenario.state.no_such_key", "delivery_reliability"],
    ),
    "unknown_run_key": (["wrlds=5"], ["wrlds", "worlds"]),
    "unknown_faction": (
        ["scenario.factions.nobody.hardline_share=0.5"],
        ["scenario.factions.nobody", "nobody"],
    ),
    "wrong_type": (
        ["scenario.state.delivery_reliability=high"],
        ["scenario.state.delivery_reliability", "high"],
    ),
    "missing_scenario_file": (["scenario_file=/no/such.yaml"], ["scenario_file", "/no/such.yaml"]),
    "cross_field_rule": (
        ["scenario.state.offer.prisoner_release_count=99999"],
        ["state.offer.prisoner_release_count", "99999"],
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_user_mistake_exits_2_with_a_message(tmp_path, name):
    args, fragments = BAD[name]
    if not any(a.startswith("worlds=") for a in args):
        args = [*args, "worlds=4"]
    proc = run_cli([*args, "days=5", "plots=false", f"hydra.run.dir={tmp_path / 'r'}"], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, out)
    assert not (tmp_path / "r" / "worlds.parquet").exists()


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("name: x\nstate: [a\n  b: 1\n", ["not valid YAML", "line"]),
        ("- just\n- a list\n", ["mapping"]),
        (
            "name: x\nstate:\n  delivery_reliabilty: 0.5\nfactions:\n  a: {fighters_count: 10}\n",
            ["state.delivery_reliabilty"],
        ),
    ],
)
def test_bad_scenario_file_exits_2(tmp_path, text, fragments):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    proc = run_cli([f"scenario_file={path}", "plots=false", f"hydra.run.dir={tmp_path / 'r'}"], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, out)


def test_hydra_rejection_exits_2(tmp_path):
    """A mistake only Hydra catches (a whole group overridden by a number) still exits 2."""
    proc = run_cli(["scenario.state=3", "plots=false", f"hydra.run.dir={tmp_path / 'r'}"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "scenario.state" in proc.stderr


def test_program_error_exits_1_with_traceback(tmp_path):
    """An unexpected exception inside the run is a bug: traceback and exit code 1."""
    code = (
        "import sim.running.ensemble, sim.cli.run\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('deliberate bug')\n"
        "# the command line steps chunks\n"
        "sim.running.ensemble.run = sim.running.ensemble.iter_chunks = boom\n"
        f"sim.cli.run.main(['scenario_file={MINI}', 'worlds=4', 'days=5', 'plots=false',\n"
        f"              'hydra.run.dir={tmp_path / 'r'}'])\n"
    )
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" in proc.stderr and "deliberate bug" in proc.stderr


# --------------------------------------------------------------------------------------------
# In-process checks of the pieces (fast)
# --------------------------------------------------------------------------------------------


def test_conf_scenario_group_is_the_scenarios_directory():
    link = ROOT / "conf" / "scenario"
    assert link.is_symlink() and os.readlink(link) == "../scenarios"
    # the installed package ships exactly these scenarios
    assert sorted(p.name for p in SCENARIO_DIR.glob("*.yaml")) == sorted(p.name for p in link.glob("*.yaml"))


@pytest.mark.parametrize("name", scenario_names())
def test_every_shipped_scenario_composes_through_hydra(name):
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    import sim.cli.run  # noqa: F401  (registers the typed configs)
    from sim.inputs.scenarios import from_config

    with initialize_config_module("sim.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"scenario={name}"])
    composed = from_config(OmegaConf.to_container(cfg.scenario, resolve=True, enum_to_str=True))
    assert to_dict(composed) == to_dict(load_scenario(name))
    from sim.inputs.settings import Record, RunSettings

    settings = RunSettings.from_config(cfg)
    assert (settings.worlds, settings.record, settings.threads) == (1000, Record.none, "auto")


def test_precheck_rewrites_overrides_for_a_scenario_file(mini_file):
    from sim.cli.run import precheck

    out = precheck(
        [f"scenario_file={mini_file}", "scenario.factions.only_here.hardline_share=0.9", "worlds=5"]
    )
    assert out == [
        f"scenario_file={mini_file}",
        "++scenario.factions.only_here.hardline_share=0.9",
        "worlds=5",
        "~scenario",
        "~scenario_schema",
    ]
    assert precheck(["worlds=5", "hydra.run.dir=/tmp/x"]) == ["worlds=5", "hydra.run.dir=/tmp/x"]
    with pytest.raises(sim.ScenarioError, match="scenario_file"):
        precheck([f"scenario_file={mini_file}", "scenario=kabul_2022"])
    with pytest.raises(sim.ScenarioError, match="worlds = 0"):
        precheck(["worlds=10,0"])  # every value of a sweep is checked


def test_a_run_saves_its_standard_figures(tmp_path):
    run_dir = tmp_path / "run"
    ok(run_cli(["worlds=64", "days=120", "record=monthly", f"hydra.run.dir={run_dir}"], tmp_path))
    names = ["collapse_causes.png", "distributions.png", "fan_chart.png", "survival.png"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["figures"] == names
    for name in names:
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    off = tmp_path / "off"
    ok(run_cli([*SMALL, f"hydra.run.dir={off}"], tmp_path))
    assert not list(off.glob("*.png")) and "figures" not in json.loads((off / "manifest.json").read_text())


def test_atomic_writes(tmp_path):
    from sim.running.files import write_json_atomic, write_parquet_atomic, write_text_atomic

    df = pd.DataFrame({"world": [0, 1], "x": [0.5, float("nan")]})
    write_parquet_atomic(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    write_json_atomic(tmp_path / "s.json", {"a": float("nan"), "b": [1, 2.5]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": None, "b": [1, 2.5]}
    write_text_atomic(tmp_path / "t.txt", "old")

    class Unwritable:
        def to_parquet(self, path, **kwargs):
            Path(path).write_bytes(b"half a file")
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_parquet_atomic(Unwritable(), tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "t.parquet", "t.txt"]
