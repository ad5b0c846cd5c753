"""One run at a time in a run directory, and a directory that cannot be written is a message.

A second run into a directory in use stops at once (exit status 2) naming the directory and the
process that holds it; a lock left by a killed run is taken over; the completeness hash and the
checkpoints cover the seed, so a run with another seed never reuses a table or a chunk made with
the first; a full or read-only disk stops with exit status 2 and a message, not a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.running import runner

MINI = Path(__file__).resolve().parent / "data" / "mini.yaml"
SMALL = ["worlds=6", "days=20", "plots=false", "progress=false"]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "sim", f"scenario_file={MINI}", *SMALL, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_second_run_into_a_locked_directory_stops_at_once(tmp_path):
    run_dir = tmp_path / "run"
    runner.lock_run_dir(run_dir, command="the first run")
    try:
        proc = run_cli(["seed=1", f"hydra.run.dir={run_dir}"], tmp_path)
    finally:
        runner.unlock_run_dir(run_dir)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(run_dir) in proc.stderr and f"process {os.getpid()}" in proc.stderr, proc.stderr
    assert "the first run" in proc.stderr
    # refused before Hydra or the run wrote anything into the directory
    assert sorted(p.name for p in run_dir.iterdir()) <= [runner.LOCK_FILE, runner.LOCK_INFO]


def test_a_killed_runs_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    code = (
        "import os, signal\nfrom sim.running.runner import lock_run_dir\n"
        f"lock_run_dir({str(run_dir)!r}, command='killed')\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9
    left = json.loads((run_dir / runner.LOCK_INFO).read_text())
    assert left["command"] == "killed"
    proc = run_cli([f"hydra.run.dir={run_dir}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run_dir / "manifest.json").read_text())["complete"] is True


def test_a_run_with_another_seed_never_reuses_a_table(tmp_path):
    """A complete seed-1 run in the directory: the seed-0 command runs (it is not skipped as
    complete) and its table is the seed-0 table, not a mixture."""
    shared, fresh = tmp_path / "shared", tmp_path / "fresh"
    assert run_cli(["seed=1", f"hydra.run.dir={shared}"], tmp_path).returncode == 0
    proc = run_cli(["seed=0", f"hydra.run.dir={shared}"], tmp_path)
    assert proc.returncode == 0 and "already complete" not in proc.stdout, proc.stdout + proc.stderr
    assert run_cli(["seed=0", f"hydra.run.dir={fresh}"], tmp_path).returncode == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(shared / "worlds.parquet"), pd.read_parquet(fresh / "worlds.parquet")
    )
    assert json.loads((shared / "manifest.json").read_text())["seed"] == 0


def test_checkpoints_of_another_seed_are_not_resumed(tmp_path, mini):
    """Chunks a seed-1 run left behind (killed before its tables) are not taken by a seed-0 run."""
    runner.run_checkpointed(tmp_path, mini, worlds=8, days=10, seed=1, chunk_worlds=4)
    assert list((tmp_path / runner.CHUNK_DIR).glob("worlds-*.parquet"))
    resumed, info = runner.run_checkpointed(tmp_path, mini, worlds=8, days=10, seed=0, chunk_worlds=4)
    assert info["chunks_resumed"] == 0
    expected = sim.run(mini, worlds=8, days=10, seed=0, chunk_worlds=4)
    pd.testing.assert_frame_equal(resumed.worlds, expected.worlds)


def test_full_disk_is_a_message(tmp_path):
    code = (
        "import errno, sim.cli.run, sim.running.runner as runner\n"
        "def full(*a, **k):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device', str(a[1]))\n"
        "runner.write_parquet_atomic = full\n"
        f"sim.cli.run.main(['scenario_file={MINI}', 'worlds=4', 'days=5', 'plots=false',\n"
        f"                  'hydra.run.dir={tmp_path / 'r'}'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "the disk is full" in proc.stderr and str(tmp_path / "r") in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.ENOTDIR, "a file is in the way"),
        (errno.EDQUOT, "quota"),
    ],
)
def test_directory_error_names_the_directory_and_the_reason(tmp_path, code, words):
    msg = str(runner.directory_error(tmp_path / "r", OSError(code, "x", str(tmp_path / "r" / "f"))))
    assert "hydra.run.dir" in msg and str(tmp_path / "r") in msg and words in msg, msg


# --------------------------------------------------------------------------------------------
# Limits before work
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"worlds": 10**12, "days": 1}, ["worlds = 1,000,000,000,000", "TB", "memory available"]),
        ({"worlds": 1, "days": 10**9, "record": "daily"}, ["days = 1,000,000,000", "GB", "fewer days"]),
        ({"worlds": 1000, "days": 30, "max_memory": "1KB"}, ["1.0 KB", "max_memory"]),
    ],
)
def test_an_oversized_run_is_refused_with_its_estimate(mini, kwargs, words):
    """Refused before any allocation: no chunk plan of 2x10^9 entries, no 97 GiB array (the
    call returns at once; a run that started would exhaust memory instead)."""
    with pytest.raises(sim.ScenarioError) as err:
        sim.run(mini, **kwargs)
    for w in words:
        assert w in str(err.value), str(err.value)


def test_the_estimate_grows_with_what_a_run_keeps(mini):
    from sim.running.limits import estimate_memory

    base = estimate_memory(mini, 1000, 730, "none", 512, 1)
    monthly = estimate_memory(mini, 1000, 730, "monthly", 512, 1)
    daily = estimate_memory(mini, 1000, 730, "daily", 512, 1)
    assert base < monthly < daily
    assert estimate_memory(mini, 2000, 730, "daily", 512, 1) > daily
    # a measured daily run: the tables of 1,000 worlds x 730 days take about 93 MB in pandas
    assert 93e6 < daily < 10 * 93e6


def test_more_workers_or_threads_than_cores_need_oversubscribe(mini):
    cores = os.cpu_count() or 1
    for name in ("workers", "threads"):
        with pytest.raises(sim.ScenarioError, match=rf"{name} = {cores + 1} is not allowed: .*oversubscribe"):
            sim.run(mini, worlds=2, days=2, **{name: cores + 1})
    sim.run(mini, worlds=2, days=2, threads=cores + 1, oversubscribe=True)


def test_max_memory_setting_is_checked():
    from sim.inputs.settings import check_run_setting

    assert check_run_setting("max_memory", "8GB") == 8 * 1024**3
    assert check_run_setting("max_memory", "512MiB") == 512 * 1024**2
    assert check_run_setting("max_memory", None) is None
    for bad in ("lots", "-1GB", 0, True, "8 XB"):
        with pytest.raises(sim.ScenarioError, match="max_memory"):
            check_run_setting("max_memory", bad)


def test_run_checkpointed_refuses_a_directory_another_process_holds(tmp_path, mini):
    code = (
        "import sys\nfrom sim.running.runner import lock_run_dir\n"
        f"lock_run_dir({str(tmp_path)!r}, command='holder')\nprint('locked', flush=True)\nsys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(runner.RunDirBusy, match=rf"process {holder.pid} .*holder"):
            runner.run_checkpointed(tmp_path, mini, worlds=4, days=5, seed=0)
        assert not (tmp_path / runner.CHUNK_DIR).exists()
    finally:
        holder.communicate("", timeout=60)


def test_the_command_line_names_the_lock_files_the_runner_writes():
    from sim.cli import run as cli_run
    from sim.running import runner

    assert {runner.LOCK_FILE, runner.LOCK_INFO} <= cli_run._HYDRA_ONLY
