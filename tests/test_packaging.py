"""The installed package: its data files, quick start, the compiled-code cache and the code
fingerprint of the completeness hash.

These tests exercise the installed ``sim`` (editable or from a wheel); only the first reads the
repository itself (``pyproject.toml``) through the ``repo_root`` fixture.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sim
from sim.running import runner

HEAVY = (
    "numba",
    "pandas",
    "matplotlib",
    "SALib",
    "ema_workbench",
    "mesa",
    "scipy",
    "distributed",
    "ray",
    "sim.core.kernel",
    "sim.core.compiled",
)


def _python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, **env)
    full.pop("HYDRA_FULL_ERROR", None)
    full.pop("NEGSIM_COMPILE_ANNOUNCED", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# --------------------------------------------------------------------------------------------
# Package data
# --------------------------------------------------------------------------------------------


def test_every_package_directory_is_listed_in_pyproject(repo_root):
    listed = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {
        ".".join(p.parent.relative_to(repo_root).parts) for p in (repo_root / "sim").rglob("__init__.py")
    }
    assert found | {"sim.conf"} == set(listed), "a package is missing from the wheel"


def test_configuration_and_scenarios_are_package_data():
    from sim.inputs.scenarios import BEHAVIOUR_FILE, CONF_DIR, SCENARIO_DIR

    conf = importlib.resources.files("sim.conf")
    for name in (
        "config.yaml",
        "behaviour.yaml",
        "posterior.parquet",
        "pinned.md",
        "scenario/kabul_2022.yaml",
        "experiment/reliability_leverage.yaml",
    ):
        assert conf.joinpath(name).is_file(), name
    assert Path(str(conf)) == CONF_DIR and BEHAVIOUR_FILE.parent == CONF_DIR
    assert SCENARIO_DIR == CONF_DIR / "scenario"
    assert "kabul_2022" in sim.scenario_names()
    assert sim.load_scenario("kabul_2022").name


def test_a_missing_behaviour_set_is_an_error(monkeypatch, tmp_path, mini_path):
    from sim.inputs import scenarios

    monkeypatch.setattr(scenarios, "BEHAVIOUR_FILE", tmp_path / "behaviour.yaml")
    with pytest.raises(FileNotFoundError, match="behavioural parameter set .*behaviour.yaml is missing"):
        scenarios.behaviour_defaults()
    with pytest.raises(FileNotFoundError):
        sim.load_scenario(mini_path)


def test_git_state_outside_a_checkout_is_empty(tmp_path, repo_root):
    from sim.cli.run import git_state

    assert git_state(tmp_path) == {"commit": None, "dirty": None, "repo": None}
    if (repo_root / ".git").exists() and shutil.which("git"):
        state = git_state(repo_root)
        assert state["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", state["commit"])


def test_shipped_scenario_runs_from_any_directory(tmp_path):
    run_dir = tmp_path / "run"
    proc = _ok(
        _python(
            "from sim.cli.run import main\n"
            f"main(['scenario=kabul_2022', 'worlds=8', 'days=20', 'plots=false', "
            f"'hydra.run.dir={run_dir}'])",
            cwd=tmp_path,
        )
    )
    assert "Results:" in proc.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["scenario"] == "kabul_2022" and summary["worlds"] == 8
    assert Path(summary["scenario_source"]).is_file()
    assert (run_dir / ".hydra" / "config.yaml").is_file()


# --------------------------------------------------------------------------------------------
# Quick start
# --------------------------------------------------------------------------------------------


def test_import_sim_loads_no_heavy_library(tmp_path):
    proc = _ok(
        _python(
            "import sys, sim, sim.cli.run\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
            "print(sorted(set(sim.__all__) - set(dir(sim))))",
            cwd=tmp_path,
        )
    )
    loaded, missing = proc.stdout.splitlines()
    assert loaded == "[]", f"imported at start: {loaded}"
    assert missing == "[]"


def test_public_names_are_the_defining_modules_objects():
    from sim.core.model import NegotiationModel
    from sim.running.ensemble import run

    assert sim.run is run and sim.NegotiationModel is NegotiationModel
    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sim.nope  # noqa: B018


def test_help_neither_compiles_nor_imports_the_kernel(tmp_path):
    cache = tmp_path / "cache"
    proc = _ok(
        _python(
            "import sys\nfrom sim.cli.run import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert not e.code\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])",
            cwd=tmp_path,
            NEGSIM_CACHE_DIR=str(cache),
        )
    )
    assert "negsim" in proc.stdout and proc.stdout.splitlines()[-1] == "[]"
    assert "compiling" not in proc.stderr
    assert not cache.exists()


# --------------------------------------------------------------------------------------------
# Compiled-code cache
# --------------------------------------------------------------------------------------------


def test_compiled_code_cache_is_in_the_cache_folder_and_announced_once(tmp_path):
    cache = tmp_path / "cache"
    code = (
        "import numba\nfrom sim.core import compiled\n"
        "print(compiled.CACHE_DIR)\nprint(numba.config.CACHE_DIR)"
    )
    first = _ok(_python(code, cwd=tmp_path, NEGSIM_CACHE_DIR=str(cache)))
    folder, numba_dir = first.stdout.splitlines()
    assert folder == numba_dir and re.fullmatch(r"numba-[0-9a-f]{16}", Path(folder).name)
    assert Path(folder).parent == cache
    assert first.stderr.count("compiling the model") == 1 and folder in first.stderr
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "core_x").mkdir(exist_ok=True)  # numba makes these folders on import
    assert _ok(_python(code, cwd=tmp_path, NEGSIM_CACHE_DIR=str(cache))).stderr.count("compiling") == 1
    (Path(folder) / "core_x" / "kernel.f-1.py312.nbi").write_bytes(b"")  # left by a compile
    again = _ok(_python(code, cwd=tmp_path, NEGSIM_CACHE_DIR=str(cache)))
    assert "compiling" not in again.stderr


def test_default_cache_is_the_users_cache_folder(monkeypatch):
    import platformdirs

    from sim.core import compiled

    monkeypatch.delenv("NEGSIM_CACHE_DIR", raising=False)
    assert compiled._cache_root() == Path(platformdirs.user_cache_dir("negsim"))
    package = Path(sim.__file__).resolve().parent
    assert package not in compiled.CACHE_DIR.parents


# --------------------------------------------------------------------------------------------
# The completeness hash knows the code
# --------------------------------------------------------------------------------------------


def test_code_fingerprint_follows_every_source_file(tmp_path):
    package = Path(sim.__file__).resolve().parent
    copy = tmp_path / "sim"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert runner.code_fingerprint(copy) == runner.code_fingerprint() == runner.code_fingerprint(package)
    target = copy / "inputs" / "params.py"
    target.write_text(target.read_text() + "\n# a changed line\n")
    assert runner.code_fingerprint.__wrapped__(copy) != runner.code_fingerprint()


def test_config_hash_changes_with_the_code(monkeypatch):
    settings = {"worlds": 10, "days": 5, "seed": 0}
    same = runner.config_hash(settings)
    assert runner.config_hash(dict(settings)) == same
    monkeypatch.setattr(runner, "code_fingerprint", lambda: "0" * 16)
    assert runner.config_hash(settings) != same


def test_a_complete_run_is_run_again_after_the_code_changed(tmp_path, mini_path):
    run_dir = tmp_path / "run"
    call = (
        "from sim.cli.run import main\n"
        f"main(['scenario_file={mini_path}', 'worlds=8', 'days=10', 'plots=false', "
        f"'hydra.run.dir={run_dir}'])"
    )
    _ok(_python(call, cwd=tmp_path))
    first = json.loads((run_dir / "manifest.json").read_text())["config_hash"]
    assert "already complete" in _ok(_python(call, cwd=tmp_path)).stdout
    changed = _ok(
        _python(
            "import sim.running.runner as r\nr.code_fingerprint = lambda: 'changed'\n" + call, cwd=tmp_path
        )
    )
    assert "already complete" not in changed.stdout and "Results:" in changed.stdout
    assert json.loads((run_dir / "manifest.json").read_text())["config_hash"] != first
