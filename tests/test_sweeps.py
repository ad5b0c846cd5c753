"""Sweeps at scale: named experiments, launchers, collecting, resume, workers, designs in one batch.

Command-line runs are subprocesses (``python -m sim ...``) in a temporary directory with tiny
sizes (64 worlds x 60 days per job), so the whole file takes well under 90 s on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.explore import design, sweep
from sim.inputs.scenarios import load_scenario

GRID = [
    "+experiment=reliability_leverage",
    "worlds=64",
    "days=60",
    "scenario.state.delivery_reliability=0.3,0.9",
    "scenario.mediators.haqqani.leverage_share=0.2,0.6",
]
RANGES = {"state.delivery_reliability": (0.1, 1.0), "mediators.haqqani.leverage_share": (0.0, 0.8)}


def _env() -> dict:
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def api_worlds(overrides: dict, worlds: int = 64, days: int = 60, seed: int = 0) -> pd.DataFrame:
    """What sim.run gives for one sweep job (the command line must give the same)."""
    return sim.run(
        load_scenario("kabul_2022", overrides=overrides), worlds=worlds, days=days, seed=seed
    ).worlds


def no_leftovers(d: Path) -> None:
    """No temporary file anywhere, no checkpoint directory, every visible Parquet readable."""
    assert not [p for p in d.rglob("*.tmp")], "temporary files left behind"
    assert not [p for p in d.rglob(".chunks")], "checkpoints left behind"
    for p in d.rglob("*.parquet"):
        pd.read_parquet(p)


# --------------------------------------------------------------------------------------------
# Names and expansion
# --------------------------------------------------------------------------------------------


def test_job_labels_are_readable_and_deterministic():
    ov = [
        "scenario.state.delivery_reliability=0.2",
        "+experiment=reliability_leverage",
        "workers=2",
        "scenario.state.offer.withdrawal_districts=[north_waziristan,bajaur]",
        "scenario.factions.a.hardline_share=0.1",
        "scenario.factions.b.hardline_share=0.2",
        "hydra/launcher=joblib",
        "worlds=100",
        "scenario.state.offer.withdrawal_districts=[]",
    ]
    label = sweep.job_label(ov[:8])
    assert label == (
        "delivery_reliability=0.2,withdrawal_districts=north_waziristan+bajaur,"
        "a.hardline_share=0.1,b.hardline_share=0.2,worlds=100"
    )
    assert sweep.job_label(ov[:8]) == label
    assert sweep.job_label([ov[-1]]) == "withdrawal_districts=none"
    assert sweep.job_label(["+experiment=x", "progress=false"]) == "default"
    long = sweep.job_label([f"scenario.state.x{i}=0.123456" for i in range(40)])
    assert len(long) <= sweep.MAX_LABEL and "~" in long
    assert "/" not in sweep.job_label(["scenario_file=/a/b/my_scenario.yaml"])


def test_expand_sweep_matches_hydra_basic_sweeper():
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = {"scenario.state.delivery_reliability": "0.2,0.4", "+change": "none,full_delivery"}
    task = ["+experiment=x", "scenario.state.delivery_reliability=0.1,0.5,0.9", "worlds=5"]
    ours = sweep.expand_sweep(task, params)
    items = [f"{k}={v}" for k, v in params.items()] + task
    theirs = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(items), None)[0]
    assert ours == theirs
    assert len(ours) == 3 * 2  # the command line replaces the experiment's levels


def test_experiments_compose():
    from hydra import compose, initialize_config_module

    import sim.cli.run  # noqa: F401  (registers the schema and resolvers)
    import sim.inputs.settings

    with initialize_config_module("sim.conf", version_base="1.3"):
        grid = compose("config", ["+experiment=reliability_leverage"], return_hydra_config=True)
        assert grid.worlds == 2000
        params = grid.hydra.sweeper.params
        assert len(sweep.expand_sweep([], {k: str(v) for k, v in params.items()})) == 20
        mix = compose("config", ["+experiment=concession_mix"], return_hydra_config=True)
        jobs = sweep.expand_sweep([], {k: str(v) for k, v in mix.hydra.sweeper.params.items()})
        assert len(jobs) == 16
        assert sweep.job_values(jobs[-1])["state.offer.withdrawal_districts_count"] == 4
        eps = compose("config", ["+experiment=episodes_full_delivery"], return_hydra_config=True)
        jobs = sweep.expand_sweep([], {k: str(v) for k, v in eps.hydra.sweeper.params.items()})
        # every documented episode of the validation report, shipped and changed
        from sim.report.patterns import EPISODES

        assert sorted({sweep.job_values(j)["scenario"] for j in jobs}) == sorted(EPISODES)
        assert len(jobs) == 2 * len(EPISODES)
        changed = compose("config", ["scenario=swat_2009", "+change=full_delivery"])
        assert changed.scenario.state.delivery_reliability == 1.0
        des = compose("config", ["+experiment=design_reliability_leverage"])
        assert sim.inputs.settings.check_design(des.design)["points"] == 1000
        slurm = compose("config", ["hydra/launcher=slurm"], return_hydra_config=True)
        assert slurm.hydra.launcher._target_.endswith("SlurmLauncher")
        assert slurm.hydra.launcher.cpus_per_task == 4 and slurm.hydra.launcher.timeout_min == 120


# --------------------------------------------------------------------------------------------
# A grid experiment with three launchers, collected into one table
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("launcher", ["basic", "joblib", "submitit_local"])
def test_grid_experiment_runs_and_collects(tmp_path, launcher, assert_fields_described):
    d = tmp_path / "sweep"
    args = ["-m", *GRID, f"hydra.sweep.dir={d}"]
    worlds = 64
    if launcher == "joblib":
        # also workers=2 inside each joblib job: process pools nested in loky workers
        worlds = 128
        args = [a.replace("worlds=64", "worlds=128") for a in args]
        args += ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "workers=2"]
    elif launcher == "submitit_local":
        args[-2] = "scenario.mediators.haqqani.leverage_share=0.6"  # 2 jobs: each is a process
        args += ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"]
    proc = ok(run_cli(args, tmp_path, timeout=180))
    n_jobs = 2 if launcher == "submitit_local" else 4
    assert "collected" in proc.stdout + proc.stderr

    table = pd.read_parquet(d / "sweep.parquet")
    assert len(table) == n_jobs * worlds
    swept = ["state.delivery_reliability", "mediators.haqqani.leverage_share"]
    assert list(table.columns[:3]) == ["job", *swept]
    assert set(sim.OUTCOME_COLUMNS) <= set(table.columns)
    assert table.groupby("job").size().tolist() == [worlds] * n_jobs
    from sim.report.saved_runs import swept_columns

    assert set(swept_columns(table)) <= set(swept)  # the format sim.report.saved_runs reads

    jobs = pd.read_parquet(d / "jobs.parquet")
    assert (jobs["status"] == "complete").all() and len(jobs) == n_jobs
    assert f"delivery_reliability=0.9,leverage_share=0.6,worlds={worlds},days=60" in set(jobs["job_dir"])
    assert {"ceasefire_reached", "survives_90", "ceasefire_days_median"} <= set(jobs.columns)
    for name in ("sweep.parquet", "jobs.parquet"):
        assert_fields_described(d / name)
    # every launcher gives what the API gives for the same job
    mine = table[(table[swept[0]] == 0.9) & (table[swept[1]] == 0.6)]
    expect = api_worlds(
        {"state.delivery_reliability": 0.9, "mediators.haqqani.leverage_share": 0.6}, worlds=worlds
    )
    pd.testing.assert_frame_equal(mine[list(expect.columns)].reset_index(drop=True), expect)
    no_leftovers(d)


def test_a_joblib_job_steps_on_one_thread_and_a_basic_job_on_every_core(tmp_path):
    """Jobs of the joblib launcher share the cores among themselves, so each steps its chunks
    on one thread; a job of the basic launcher has the cores to itself."""
    from sim.running.ensemble import cores

    for launcher, want in (("joblib", 1), ("basic", cores())):
        d = tmp_path / launcher
        ok(
            run_cli(
                [
                    "-m",
                    "+experiment=reliability_leverage",
                    "worlds=128",
                    "days=20",
                    "scenario.state.delivery_reliability=0.3,0.9",
                    f"hydra/launcher={launcher}",
                    f"hydra.sweep.dir={d}",
                ],
                tmp_path,
                timeout=180,
            )
        )
        manifests = [json.loads(p.read_text()) for p in d.glob("*/manifest.json")]
        assert len(manifests) >= 2
        assert {m["threads"] for m in manifests} == {want}, launcher


def test_episode_set_under_one_change(tmp_path):
    d = tmp_path / "episodes"
    ok(
        run_cli(
            [
                "-m",
                "+experiment=episodes_full_delivery",
                "scenario=kabul_2022,swat_2009",
                "worlds=64",
                "days=30",
                f"hydra.sweep.dir={d}",
            ],
            tmp_path,
        )
    )
    jobs = pd.read_parquet(d / "jobs.parquet")
    assert sorted(zip(jobs["scenario"], jobs["change"], strict=False)) == [
        ("kabul_2022", "full_delivery"),
        ("kabul_2022", "none"),
        ("swat_2009", "full_delivery"),
        ("swat_2009", "none"),
    ]
    for _, row in jobs.iterrows():
        s = yaml.safe_load((d / row["job_dir"] / "scenario.yaml").read_text())
        shipped = load_scenario(row["scenario"]).state.delivery_reliability
        want = 1.0 if row["change"] == "full_delivery" else shipped
        assert s["state"]["delivery_reliability"] == want


# --------------------------------------------------------------------------------------------
# Failures, kills and resume
# --------------------------------------------------------------------------------------------


def test_collect_lists_a_failed_job_and_keeps_the_others(tmp_path):
    d = tmp_path / "sweep"
    proc = run_cli(
        [
            "-m",
            "+experiment=reliability_leverage",
            "worlds=64",
            "days=30",
            "scenario.state.delivery_reliability=0.5",
            "scenario.mediators.haqqani.leverage_share=0.5",
            "scenario.state.offer.prisoner_release_count=10,5000",  # 5000 > prisoners held
            f"hydra.sweep.dir={d}",
        ],
        tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "failed: " in proc.stderr and "prisoner_release_count" in proc.stderr
    table = pd.read_parquet(d / "sweep.parquet")
    assert len(table) == 64 and set(table["state.offer.prisoner_release_count"]) == {10}
    jobs = pd.read_csv(d / "jobs.csv")
    assert sorted(jobs["status"]) == ["complete", "failed"]
    failed = jobs[jobs["status"] == "failed"].iloc[0]
    assert "5000" in failed["error"] and "prisoner_release_count=5000" in failed["job_dir"]
    # the collector also runs on its own (and says what is missing)
    (d / "sweep.parquet").unlink()
    assert sweep.main([str(d)]) == 0
    assert len(pd.read_parquet(d / "sweep.parquet")) == 64
    assert sweep.main([str(d), "--strict"]) == 1
    info = json.loads((d / "collect.json").read_text())
    assert info["complete"] == 1 and len(info["without_results"]) == 1
    assert sweep.main([str(tmp_path / "nope")]) == 2


def _complete(d: Path) -> int:
    return sum(1 for m in d.glob("*/manifest.json") if json.loads(m.read_text()).get("complete"))


def test_sweep_killed_halfway_and_rerun_completes(tmp_path):
    d = tmp_path / "sweep"
    args = [
        "-m",
        "+experiment=reliability_leverage",
        "worlds=2048",
        "days=730",
        "chunk_worlds=256",
        "scenario.state.delivery_reliability=0.3,0.6,0.9",
        "scenario.mediators.haqqani.leverage_share=0.5",
        f"hydra.sweep.dir={d}",
    ]
    p = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # wait until one job is complete and the next one has finished chunks, then SIGKILL
        end = time.monotonic() + 90
        while time.monotonic() < end and p.poll() is None:
            if _complete(d) >= 1 and any(any(c.glob("worlds-*.parquet")) for c in d.glob("*/.chunks")):
                break
            time.sleep(0.02)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    done_before = _complete(d)
    if done_before >= 3:
        pytest.skip("the sweep finished before it could be killed (machine too fast)")
    assert done_before >= 1
    for f in d.rglob("*.parquet"):
        if not f.name.startswith("."):
            pd.read_parquet(f)  # whatever is visible is complete
    first = sorted(d.glob("*/manifest.json"))[0]
    stamp = first.stat().st_mtime_ns
    (first.parent / ".worlds.parquet.123.abcd.tmp").write_bytes(b"half a file")  # a killed writer

    proc = ok(run_cli(args, tmp_path, timeout=180))
    assert proc.stdout.count("already complete") >= done_before
    assert first.stat().st_mtime_ns == stamp  # the finished job was not run again
    jobs = pd.read_parquet(d / "jobs.parquet")
    assert (jobs["status"] == "complete").all() and len(jobs) == 3
    table = pd.read_parquet(d / "sweep.parquet")
    assert len(table) == 3 * 2048
    no_leftovers(d)
    # every job, resumed or not, equals an uninterrupted run
    for level in (0.3, 0.6, 0.9):
        mine = table[table["state.delivery_reliability"] == level]
        expect = api_worlds(
            {"state.delivery_reliability": level, "mediators.haqqani.leverage_share": 0.5},
            worlds=2048,
            days=730,
        )
        pd.testing.assert_frame_equal(mine[list(expect.columns)].reset_index(drop=True), expect)


def test_long_run_resumes_from_finished_chunks(tmp_path):
    from sim.running import runner

    s = load_scenario("kabul_2022")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    key = runner.config_hash({"x": 1})
    full, info = runner.run_checkpointed(
        run_dir, s, worlds=1000, days=60, seed=4, record="monthly", chunk_worlds=128, key=key
    )
    assert info["chunks_resumed"] == 0
    # simulate a kill: two chunks lost, a half-written file left behind
    chunks = sorted((run_dir / ".chunks").glob("worlds-*.parquet"))
    chunks[3].unlink()
    chunks[-1].unlink()
    (run_dir / ".chunks" / ".worlds-x.parquet.1.ab.tmp").write_bytes(b"junk")
    again, info = runner.run_checkpointed(
        run_dir, s, worlds=1000, days=60, seed=4, record="monthly", chunk_worlds=512, key=key
    )
    assert info["chunks_resumed"] == len(chunks) - 2
    pd.testing.assert_frame_equal(again.worlds, full.worlds)
    pd.testing.assert_frame_equal(again.timeseries, full.timeseries)
    direct = sim.run(s, worlds=1000, days=60, seed=4, record="monthly")
    pd.testing.assert_frame_equal(again.worlds, direct.worlds)
    pd.testing.assert_frame_equal(again.timeseries, direct.timeseries)
    assert not list((run_dir / ".chunks").glob("*.tmp"))
    # other settings: the old checkpoints are not used
    _, info = runner.run_checkpointed(
        run_dir, s, worlds=1000, days=60, seed=5, chunk_worlds=512, key=runner.config_hash({"x": 2})
    )
    assert info["chunks_resumed"] == 0


def test_completed_run_is_skipped_and_resume_false_reruns(tmp_path):
    run_dir = tmp_path / "run"
    args = ["worlds=64", "days=30", "plots=false", f"hydra.run.dir={run_dir}"]
    ok(run_cli(args, tmp_path))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["config_hash"]
    stamp = (run_dir / "worlds.parquet").stat().st_mtime_ns
    assert "already complete" in ok(run_cli(args, tmp_path)).stdout
    assert (run_dir / "worlds.parquet").stat().st_mtime_ns == stamp
    assert "already complete" not in ok(run_cli(args + ["resume=false"], tmp_path)).stdout
    assert (run_dir / "worlds.parquet").stat().st_mtime_ns != stamp


# --------------------------------------------------------------------------------------------
# All cores in one job
# --------------------------------------------------------------------------------------------


def test_workers_2_equals_workers_1_byte_for_byte(tmp_path):
    outs = {}
    for w in (1, 2):
        run_dir = tmp_path / f"w{w}"
        ok(
            run_cli(
                [
                    "worlds=700",
                    "days=60",
                    "chunk_worlds=128",
                    f"workers={w}",
                    "plots=false",
                    f"hydra.run.dir={run_dir}",
                ],
                tmp_path,
            )
        )
        outs[w] = run_dir
        assert json.loads((run_dir / "manifest.json").read_text())["workers"] == w
    for name in ("worlds.parquet", "ceasefires.parquet"):
        if (outs[1] / name).exists():
            assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes(), name


def test_workers_and_chunks_do_not_change_results():
    params = pd.DataFrame({"state.delivery_reliability": np.linspace(0.1, 1.0, 300)})
    base = sim.run("kabul_2022", worlds=300, days=40, seed=2, params=params, record="monthly")
    for kw in ({"chunk_worlds": 64}, {"workers": 2, "chunk_worlds": 64}, {"workers": 2}):
        other = sim.run("kabul_2022", worlds=300, days=40, seed=2, params=params, record="monthly", **kw)
        pd.testing.assert_frame_equal(other.worlds, base.worlds)
        pd.testing.assert_frame_equal(other.timeseries, base.timeseries)
    bad = params.copy()
    bad.iloc[250, 0] = 1.5
    with pytest.raises(sim.ScenarioError, match="row 250"):
        sim.run("kabul_2022", worlds=300, days=40, params=bad, chunk_worlds=64)


@pytest.mark.parametrize(
    "worlds,first,chunk,workers",
    [
        (10_000, 0, 512, 2),
        (10_000, 100, 512, 2),
        (1_000, 0, 512, 2),
        (300, 0, 512, 2),
        (100_000, 70, 512, 8),
        (10_000, 0, 512, 1),
        (5_000, 0, 64, 3),
    ],
)
def test_chunk_plan_covers_the_worlds_in_whole_groups_with_a_finer_tail(worlds, first, chunk, workers):
    from sim.core.streams import GROUP
    from sim.running.ensemble import TAIL_CHUNKS_PER_WORKER, plan_chunks

    spans = plan_chunks(worlds, first, chunk, workers)
    assert spans[0][0] == 0 and spans[-1][1] == worlds
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), "gaps or overlaps"
    sizes = [hi - lo for lo, hi in spans]
    assert max(sizes) <= max(chunk, GROUP)
    # every chunk but the last ends on a random-stream group, so each draws whole groups
    assert all((first + hi) % GROUP == 0 for _, hi in spans[:-1])
    if workers > 1 and max(sizes) > GROUP:
        body = max(sizes)
        tail = sizes[-TAIL_CHUNKS_PER_WORKER * workers :]
        assert max(tail) <= max(GROUP, body // 4), "the last chunks should be cut smaller"
    if workers == 1:
        assert sizes[:-1] == [chunk] * (len(sizes) - 1)


def test_a_finer_tail_of_chunks_on_two_workers_gives_the_same_results():
    kw = dict(worlds=1500, days=25, seed=4, record="monthly")
    base = sim.run("kabul_2022", **kw)
    other = sim.run("kabul_2022", workers=2, **kw)
    pd.testing.assert_frame_equal(other.worlds, base.worlds)
    pd.testing.assert_frame_equal(other.timeseries, base.timeseries)
    pd.testing.assert_frame_equal(other.ceasefires, base.ceasefires)


# --------------------------------------------------------------------------------------------
# Designs in one batch, and the model as functions
# --------------------------------------------------------------------------------------------


def test_design_of_1000_points_runs_as_one_batch(monkeypatch):
    import sim.explore.analysis

    calls = []
    real = sim.explore.analysis.run

    def counting(*a, **k):
        calls.append(k.get("worlds"))
        return real(*a, **k)

    monkeypatch.setattr(sim.explore.analysis, "run", counting)
    points = design.sample(RANGES, n=1000, method="lhs", seed=0)
    assert points.shape == (1000, 2)
    for j, (lo, hi) in enumerate(RANGES.values()):  # one point in each of 1000 strata
        strata = np.floor((points.iloc[:, j] - lo) / (hi - lo) * 1000).astype(int)
        assert sorted(strata) == list(range(1000))
    table = design.run_design("kabul_2022", points, 3, days=20)
    assert calls == [3000]  # one batch
    assert len(table) == 3000 and list(table.columns[:3]) == ["job", *RANGES]
    assert table.groupby("job").size().tolist() == [3] * 1000
    np.testing.assert_allclose(table.groupby("job")[list(RANGES)].first().to_numpy(), points.to_numpy())
    summary = design.job_summary(table)
    assert len(summary) == 1000 and {"ceasefire_reached", "survives_90"} <= set(summary.columns)

    assert design.sample(RANGES, n=64, method="sobol").shape == (64, 2)
    grid = design.sample(RANGES, method="grid", levels=5)
    assert grid.shape == (25, 2) and grid.iloc[:, 0].nunique() == 5
    ints = design.sample({"state.offer.prisoner_release_count": (0, 300)}, n=50)
    assert (ints.iloc[:, 0] == ints.iloc[:, 0].round()).all()
    with pytest.raises(sim.ScenarioError, match="method"):
        design.sample(RANGES, method="random")
    with pytest.raises(sim.ScenarioError, match="not a tunable"):
        design.sample({"state.nonsense": (0, 1)})


def test_design_experiment_on_the_command_line(tmp_path, assert_fields_described):
    import sim.inputs.settings

    run_dir = tmp_path / "design"
    args = [
        "+experiment=design_reliability_leverage",
        "design.points=30",
        "worlds=2",
        "days=30",
        "plots=false",
        f"hydra.run.dir={run_dir}",
    ]
    ok(run_cli(args, tmp_path))
    table = pd.read_parquet(run_dir / "sweep.parquet")
    assert len(table) == 60 and table["job"].nunique() == 30
    assert {
        "state.delivery_reliability",
        "mediators.haqqani.leverage_share",
        "state.offer.prisoner_release_count",
    } <= set(table.columns)
    assert len(pd.read_parquet(run_dir / "jobs.parquet")) == 30
    for name in ("sweep.parquet", "jobs.parquet"):
        assert_fields_described(run_dir / name)
    assert "already complete" in ok(run_cli(args, tmp_path)).stdout
    for bad, word in (
        ({"method": "random", "ranges": {"state.delivery_reliability": [0, 1]}}, "method"),
        ({"ranges": {"state.nonsense": [0, 1]}}, "nonsense"),
        ({"ranges": {"state.delivery_reliability": [0]}}, "low, high"),
        ({"points": 0, "ranges": {"state.delivery_reliability": [0, 1]}}, "points"),
        ({"sample": 3}, "sample"),
    ):
        with pytest.raises(sim.ScenarioError, match=word):
            sim.inputs.settings.check_design(bad)


def test_plain_and_batch_functions():
    names = ["state.delivery_reliability", "mediators.haqqani.leverage_share"]
    one = design.simulate(
        worlds=64, days=60, state__delivery_reliability=0.4, mediators__haqqani__leverage_share=0.2
    )
    assert set(one) == set(design.DEFAULT_OUTCOMES)
    assert all(isinstance(v, float) for v in one.values())
    X = np.array([[0.4, 0.2], [0.9, 0.6], [0.1, 0.0]])
    out = design.simulate_batch(X, names, worlds_per_point=64, days=60)
    assert set(out) == set(design.DEFAULT_OUTCOMES)
    assert all(v.shape == (3,) for v in out.values())
    for k, v in one.items():  # point 0 of a batch sees the same worlds as a plain call
        assert out[k][0] == pytest.approx(v, nan_ok=True)
    custom = design.simulate_batch(
        X[:1], names, worlds_per_point=8, days=30, outcomes=["survives_10", "casualties"]
    )
    assert set(custom) == {"survives_10", "casualties"}
    with pytest.raises(sim.ScenarioError, match="shape"):
        design.simulate_batch(X[:, :1], names)


def test_progress_line(tmp_path):
    d = tmp_path
    (d / sweep.STATE_DIR).mkdir()
    (d / sweep.STATE_DIR / "state.json").write_text(json.dumps({"started": time.time() - 10, "total": 4}))
    events = [
        {"t": time.time(), "job": "a", "status": "done", "worlds": 1000},
        {"t": time.time(), "job": "b", "status": "skipped", "worlds": 1000},
    ]
    (d / sweep.STATE_DIR / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    line = sweep.progress_line(d)
    assert line.startswith("[sweep] 2/4 jobs done (1 skipped, 0 failed)")
    assert "worlds/s" in line and "left" in line
