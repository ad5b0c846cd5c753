"""Parallel runs and sweeps that do not surprise: a script read from standard input, or one
without ``if __name__ == "__main__":``, runs with ``workers=2`` (in threads, with a note) instead
of breaking the process pool; a sweep prints one
line a job and a summary; its first time estimate is not thrown off by the start-up of the
first job."""

from __future__ import annotations

import os
import subprocess
import sys

from sim.explore.sweep import time_left

SCRIPT = """
import sim
a = sim.run("kabul_2022", worlds=300, days=60, seed=2, workers=2, chunk_worlds=64)
b = sim.run("kabul_2022", worlds=300, days=60, seed=2)
print("same", a.worlds.equals(b.worlds))
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


def test_script_from_stdin_with_workers_runs_in_threads(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-"],
        input=SCRIPT,
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "same True" in proc.stdout
    assert "running the chunks in 2 threads" in proc.stderr and "<stdin>" in proc.stderr


def test_script_without_a_main_guard_with_workers_runs_in_threads(tmp_path):
    # Spawned workers import the main script first; this one would run again in each of them.
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "same True" in proc.stdout
    assert "running the chunks in 2 threads" in proc.stderr
    assert 'if __name__ == "__main__":' in proc.stderr and "unguarded.py" in proc.stderr


def test_spawn_problem_tells_a_guarded_script_from_an_unguarded_one(tmp_path, monkeypatch):
    from sim.running import spawning

    main = sys.modules["__main__"]
    guarded, unguarded = tmp_path / "guarded.py", tmp_path / "unguarded.py"
    guarded.write_text("import sim\nif __name__ == '__main__':\n    sim.run('kabul_2022')\n")
    unguarded.write_text("import sim\nsim.run('kabul_2022')\n")
    monkeypatch.setattr(main, "__file__", str(guarded), raising=False)
    assert spawning.spawn_problem() is None
    monkeypatch.setattr(main, "__file__", str(unguarded), raising=False)
    assert "runs its work when imported" in spawning.spawn_problem()
    monkeypatch.setattr(main, "__file__", "<stdin>", raising=False)
    assert "not read from a file" in spawning.spawn_problem()
    monkeypatch.delattr(main, "__file__", raising=False)
    assert spawning.spawn_problem() is None


def test_time_left_leaves_out_the_first_jobs_start_up():
    # 20 jobs; the first took 30 s (start-up), the second 2 s: 18 jobs left at 2 s each.
    assert time_left(0.0, [30.0], 20) is None
    assert time_left(0.0, [30.0, 32.0], 20) == 36.0


def test_sweep_prints_one_line_a_job_and_a_summary(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "scenario=kabul_2022,kabul_2022_no_mediator",
            "worlds=16",
            "days=20",
            "plots=false",
        ],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    jobs = [line for line in lines if "jobs done" in line]
    assert len(jobs) == 2 and "kabul_2022:" in jobs[0] and "kabul_2022_no_mediator:" in jobs[1]
    assert any(line.startswith("collected 2 of 2 jobs") for line in lines)
    assert len(lines) == 4, lines  # the start, one line a job, the summary
