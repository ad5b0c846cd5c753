"""A run's chunks on a cluster (``executor=dask`` / ``ray``) give the local run's tables byte for byte.

A local Dask cluster (two worker processes of one thread) is started once for the module; a run,
a design batch, a calibration generation and a command-line run go through it and are compared
with the same work done locally. Ray is tested the same way only where it is installed (it is a
large optional extra, ``negsim[ray]``).
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.inputs.schema import ScenarioError
from sim.inputs.settings import RunSettings, check_run_setting
from sim.running import cluster

distributed = pytest.importorskip("distributed")

#: several chunks of 64 worlds travel to the workers; monthly series and ceasefires come back
RUN = dict(worlds=300, days=120, seed=11, record="monthly", chunk_worlds=64)


@pytest.fixture(scope="module")
def dask_address():
    """The scheduler address of a local Dask cluster: 2 worker processes, 1 thread each."""
    c = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    try:
        yield c.scheduler_address
    finally:
        cluster.shutdown_engines("dask")  # the clients of this process first, then the cluster
        c.close()


def _bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _same_tables(a: sim.Results, b: sim.Results) -> None:
    for name in ("worlds", "timeseries", "ceasefires"):
        x, y = getattr(a, name), getattr(b, name)
        assert x is not None and len(x), name
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        assert _bytes(x) == _bytes(y), name


def test_run_on_a_dask_cluster_equals_the_local_run_byte_for_byte(dask_address):
    local = sim.run("kabul_2022", **RUN)
    remote = sim.run("kabul_2022", executor="dask", executor_address=dask_address, **RUN)
    _same_tables(local, remote)


def test_cluster_named_by_the_environment_is_used(dask_address, monkeypatch, capsys):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_address)
    remote = sim.run("kabul_2022", worlds=100, days=30, seed=2, chunk_worlds=64, executor="dask")
    assert f"on the Dask cluster at {dask_address}" in capsys.readouterr().err
    assert cluster.describe("dask")["executor_address"] == dask_address
    local = sim.run("kabul_2022", worlds=100, days=30, seed=2)
    assert _bytes(local.worlds) == _bytes(remote.worlds)


def test_design_batch_on_a_dask_cluster_equals_the_local_batch(dask_address):
    from sim.explore.design import run_design, sample

    points = sample({"state.delivery_reliability": [0.1, 0.9]}, n=5, method="lhs", seed=3)
    kw = dict(worlds_per_point=40, days=90, seed=5, chunk_worlds=64)
    local = run_design("kabul_2022", points, **kw)
    remote = run_design("kabul_2022", points, executor="dask", executor_address=dask_address, **kw)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert _bytes(local) == _bytes(remote)


def test_calibration_generation_through_the_cluster_equals_the_local_one(dask_address):
    from scipy.stats import qmc

    from sim.explore import calibration as C

    cfg = C.load_config(True, [])
    there = C.load_config(True, ["executor=dask", f"executor_address={dask_address}"])
    prior = C.Prior.from_config(cfg.parameters)
    _, fitted = C.fitted_patterns(cfg)
    theta = prior.natural(qmc.LatinHypercube(prior.d, rng=np.random.default_rng(0)).random(12))
    k = int(cfg.worlds_per_draw)
    here_sim, there_sim = C.Simulator(cfg, prior, fitted), C.Simulator(there, prior, fitted)
    S_here = here_sim.statistics(here_sim.runs(theta, k, 7), len(theta))
    S_there = there_sim.statistics(there_sim.runs(theta, k, 7), len(theta))
    assert np.isfinite(S_here).any()
    np.testing.assert_array_equal(S_here, S_there)


def test_command_line_runs_on_the_cluster_and_records_it(dask_address, tmp_path):
    run_dir = tmp_path / "run"
    args = ["scenario=kabul_2022", "worlds=100", "days=60", "plots=false", "chunk_worlds=32"]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args, "executor=dask", f"executor_address={dask_address}",
         f"hydra.run.dir={run_dir}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["executor"] == "dask" and manifest["executor_address"] == dask_address
    local = sim.run("kabul_2022", worlds=100, days=60, seed=0)
    assert _bytes(pd.read_parquet(run_dir / "worlds.parquet")) == _bytes(local.worlds)


def test_script_without_a_main_guard_gets_a_local_cluster_of_threads(tmp_path):
    # The local cluster's worker processes would import the script first and run it again.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sim\n"
        "a = sim.run('kabul_2022', worlds=200, days=60, seed=3, chunk_worlds=64, executor='dask')\n"
        "b = sim.run('kabul_2022', worlds=200, days=60, seed=3)\n"
        "print('same', a.worlds.equals(b.worlds))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "DASK_SCHEDULER_ADDRESS")}
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "same True" in proc.stdout
    assert "threads of this process, since the main script" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_executor_settings_are_named():
    with pytest.raises(
        ScenarioError, match=r"executor = 'spark' is not allowed: expected one of local, dask, ray"
    ):
        sim.run("kabul_2022", worlds=8, days=5, executor="spark")
    with pytest.raises(ScenarioError, match="did you mean 'dask'"):
        check_run_setting("executor", "dusk")
    with pytest.raises(
        ScenarioError, match="executor_address = 'tcp://h:1' is not allowed with executor = local"
    ):
        RunSettings(executor_address="tcp://h:1")
    with pytest.raises(ScenarioError, match="workers = 2 is not allowed with executor = dask"):
        RunSettings(executor="dask", workers=2, oversubscribe=True)
    with pytest.raises(ScenarioError, match="executor_address = 'tcp:// h' is not allowed"):
        check_run_setting("executor_address", "tcp:// h")


def test_calibration_names_a_bad_executor_before_it_runs():
    from sim.explore import calibration as C

    cfg = C.load_config(True, ["executor=spark"])
    prior = C.Prior.from_config(cfg.parameters)
    with pytest.raises(C.CalibrationConfigError, match="executor = 'spark' is not allowed"):
        C.Simulator(cfg, prior, C.fitted_patterns(cfg)[1])
    cfg = C.load_config(True, ["executor=dask", "workers=2"])
    with pytest.raises(C.CalibrationConfigError, match="workers = 2 is not allowed with executor = dask"):
        C.Simulator(cfg, prior, C.fitted_patterns(cfg)[1])


def test_missing_engine_names_the_extra_to_install():
    with pytest.raises(ScenarioError, match=r"pip install 'negsim\[ray\]'"):
        cluster._need("a_module_that_is_not_installed", "ray")


def test_unreachable_scheduler_is_named():
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ScenarioError, match=r"executor_address = 'tcp://127.0.0.1:9' cannot be reached"):
            sim.run("kabul_2022", worlds=8, days=5, executor="dask", executor_address="tcp://127.0.0.1:9")


def test_run_on_a_local_ray_equals_the_local_run():
    ray = pytest.importorskip("ray")
    try:
        remote = sim.run("kabul_2022", executor="ray", **RUN)
    finally:
        cluster.shutdown_engines("ray")
        ray.shutdown()
    _same_tables(sim.run("kabul_2022", **RUN), remote)
