"""Benchmark of sweeps: a design as one batch against separate runs, workers, memory.

    .venv/bin/python experiments/benchmark_sweeps.py                 # everything (several minutes)
    .venv/bin/python experiments/benchmark_sweeps.py --only batch --repeats 3
    .venv/bin/python experiments/benchmark_sweeps.py --only workers --only memory

Prints:

1. **batch**: a Latin hypercube design of ``--points`` points (default 1,000) x ``--per-point``
   worlds (default 100) over delivery reliability and mediator leverage, run as ONE batch
   (:func:`sim.explore.design.run_design`), against the same points as separate runs: (a) one
   ``sim.run`` call per point, the scenario loaded by name each time; (b) one call per point of
   the plain function :func:`sim.explore.design.simulate` (scenario loaded once); (c) one Hydra job per
   point (``python -m sim -m``, basic launcher), timed on ``--hydra-sample`` points and scaled
   to the whole design. Ratio = separate / batch.
2. **workers**: ``--worlds`` worlds (default 100,000) with ``workers=1`` on one core
   (``threads=1``), in one process with ``threads=2`` and with ``workers=2`` (two processes);
   parallel efficiency = t1 / (2 * t2), start-up of the worker processes included (and again
   for a second run in the same process, which reuses the workers). It needs two
   idle cores, so each repeat also prints how many cores other processes kept busy, and the
   *work efficiency* (CPU seconds of workers=1 over CPU seconds of workers=2, main process and
   workers), which contention does not change; and the *ceiling* of the machine: two
   independent single-process runs of half the worlds at once, each against alone (shared
   caches, memory bandwidth and virtual CPUs keep it below 100%).
3. **memory**: peak resident memory (``resource.getrusage``) of a fresh process running
   ``--memory-worlds`` worlds (default 1,000,000) with ``record=none`` through ``sim.run`` and
   through the command line (chunk checkpoints, final tables). With ``record=none`` memory does
   not grow with the horizon, so ``--memory-days`` (default 30) only sets the time it takes.

Timings are medians of ``--repeats`` runs, and each ratio is measured within one process (the
machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]

RANGES = {"state.delivery_reliability": (0.1, 1.0), "mediators.haqqani.leverage_share": (0.0, 0.8)}


def _env() -> dict:
    env = dict(os.environ)
    return env


def bench_batch(a) -> None:
    import numpy as np

    import sim
    from sim.explore.design import run_design, sample, simulate

    points = sample(RANGES, n=a.points, method="lhs", seed=1)
    names = list(points.columns)
    sim.run("kabul_2022", worlds=64, days=5)  # compile / load the cache outside the timings
    batch, by_name, plain = [], [], []
    for r in range(a.repeats):
        t = time.perf_counter()
        table = run_design("kabul_2022", points, a.per_point, days=a.days, seed=r)
        batch.append(time.perf_counter() - t)
        assert len(table) == a.points * a.per_point
        t = time.perf_counter()
        for row in points.itertuples(index=False):
            params = {n: np.full(a.per_point, v) for n, v in zip(names, row, strict=False)}
            import pandas as pd

            sim.run("kabul_2022", worlds=a.per_point, days=a.days, seed=r, params=pd.DataFrame(params))
        by_name.append(time.perf_counter() - t)
        t = time.perf_counter()
        for row in points.itertuples(index=False):
            simulate(
                "kabul_2022", worlds=a.per_point, days=a.days, seed=r, **dict(zip(names, row, strict=False))
            )
        plain.append(time.perf_counter() - t)
        print(
            f"  repeat {r + 1}: batch {batch[-1]:.1f} s, separate sim.run {by_name[-1]:.1f} s, "
            f"separate simulate() {plain[-1]:.1f} s",
            flush=True,
        )
    tb = median(batch)
    print(
        f"batch: {a.points:,} points x {a.per_point} worlds x {a.days} days as one batch: "
        f"{tb:.1f} s ({a.points * a.per_point / tb:,.0f} worlds/s)"
    )
    print(
        f"  separate sim.run per point (scenario by name): {median(by_name):.1f} s -> "
        f"batch is {median(by_name) / tb:.1f}x faster"
    )
    print(
        f"  separate simulate() per point (scenario cached): {median(plain):.1f} s -> "
        f"batch is {median(plain) / tb:.1f}x faster"
    )
    if a.hydra_sample:
        sub = points.iloc[: a.hydra_sample]
        vals = [",".join(f"{v:.6g}" for v in sub[n]) for n in names]
        per_job = []
        for r in range(a.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                # one job per point: the zip of the two columns is a sweep over a list of pairs,
                # which Hydra's basic sweeper cannot express; sweep the first column and fix the
                # second (same per-job cost).
                args = [
                    sys.executable,
                    "-m",
                    "sim",
                    "-m",
                    f"scenario.{names[0]}={vals[0]}",
                    f"worlds={a.per_point}",
                    f"days={a.days}",
                    "plots=false",
                    f"seed={r}",
                    f"hydra.sweep.dir={tmp}/sweep",
                ]
                t = time.perf_counter()
                proc = subprocess.run(args, cwd=tmp, env=_env(), capture_output=True, text=True)
                dt = time.perf_counter() - t
                if proc.returncode != 0:
                    print(proc.stderr[-2000:])
                    raise SystemExit("hydra sweep failed")
                per_job.append(dt / len(sub))
        tj = median(per_job) * a.points
        print(
            f"  separate Hydra jobs (python -m sim -m, basic launcher; {a.hydra_sample} jobs timed, "
            f"{median(per_job):.2f} s/job incl. process start, scaled to {a.points:,}): "
            f"{tj:.0f} s -> batch is {tj / tb:.1f}x faster"
        )


def busy_cores(seconds: float = 1.0) -> float:
    """Cores kept busy by other processes over ``seconds`` (from /proc/stat; NaN elsewhere)."""

    def snap():
        with open("/proc/stat") as fh:
            v = [float(x) for x in fh.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait

    try:
        t0, i0 = snap()
        time.sleep(seconds)
        t1, i1 = snap()
    except OSError:
        return float("nan")
    return (1 - (i1 - i0) / (t1 - t0)) * (os.cpu_count() or 1)


def bench_workers(a) -> None:
    import pandas as pd

    import sim
    from sim.running.ensemble import shutdown_workers

    s = sim.load_scenario("kabul_2022")  # once: both runs must see the same parameters
    sim.run(s, worlds=64, days=5)
    t1s, t2s, t2_kept, tts, work = [], [], [], [], []
    for r in range(a.repeats):
        other = busy_cores()
        waited = time.monotonic()
        while other > 0.3 and time.monotonic() - waited < a.wait_idle:
            other = busy_cores(2.0)
        c0 = os.times()
        t = time.perf_counter()
        r1 = sim.run(s, worlds=a.worlds, days=a.days, seed=r, workers=1, threads=1)
        t1s.append(time.perf_counter() - t)
        c01 = os.times()
        cpu1 = (c01.user + c01.system) - (c0.user + c0.system)
        t = time.perf_counter()
        rt = sim.run(s, worlds=a.worlds, days=a.days, seed=r, workers=1, threads=2)
        tts.append(time.perf_counter() - t)
        pd.testing.assert_frame_equal(r1.worlds, rt.worlds)
        shutdown_workers(wait=True)  # every repeat starts its workers, as a fresh process does
        c1 = os.times()
        t = time.perf_counter()
        r2 = sim.run(s, worlds=a.worlds, days=a.days, seed=r, workers=2)
        t2s.append(time.perf_counter() - t)
        t = time.perf_counter()
        kept = sim.run(s, worlds=a.worlds, days=a.days, seed=r, workers=2)
        t2_kept.append(time.perf_counter() - t)
        shutdown_workers(wait=True)  # the workers exit, so their CPU time is counted
        c2 = os.times()
        pd.testing.assert_frame_equal(r1.worlds, r2.worlds)
        pd.testing.assert_frame_equal(r1.worlds, kept.worlds)
        # two workers=2 runs since c1: half of their CPU time is one run's
        cpu2 = (
            sum(
                getattr(c2, k) - getattr(c1, k)
                for k in ("user", "system", "children_user", "children_system")
            )
            / 2
        )
        work.append(cpu1 / cpu2)
        print(
            f"  repeat {r + 1}: workers=1 threads=1 {t1s[-1]:.1f} s, threads=2 {tts[-1]:.1f} s "
            f"(efficiency {t1s[-1] / (2 * tts[-1]):.0%}), workers=2 {t2s[-1]:.1f} s "
            f"(efficiency {t1s[-1] / (2 * t2s[-1]):.0%}), again with the workers kept "
            f"{t2_kept[-1]:.1f} s ({t1s[-1] / (2 * t2_kept[-1]):.0%}); CPU time {cpu1:.1f} s "
            f"vs {cpu2:.1f} s per workers=2 run "
            f"(work efficiency {work[-1]:.0%}); other processes kept {other:.1f} cores busy "
            "just before",
            flush=True,
        )
    # What the machine allows: two independent single-process runs at once, each against alone.
    half = a.worlds // 2
    code = (
        "import time; import sim; s = sim.load_scenario('kabul_2022'); "
        "sim.run(s, worlds=64, days=5, threads=1); t = time.perf_counter(); "
        f"sim.run(s, worlds={half}, days={a.days}, threads=1); print(time.perf_counter() - t)"
    )
    ceilings = []
    for r in range(a.repeats):
        waited = time.monotonic()
        while busy_cores() > 0.3 and time.monotonic() - waited < a.wait_idle:
            pass
        solo = float(
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env()).stdout
        )
        procs = [
            subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=_env())
            for _ in range(2)
        ]
        both = [float(p.communicate()[0]) for p in procs]
        ceilings.append(solo / max(both))
        print(
            f"  ceiling {r + 1}: {half:,} worlds alone {solo:.1f} s, two such processes at once "
            f"{both[0]:.1f} s and {both[1]:.1f} s ({ceilings[-1]:.0%})",
            flush=True,
        )
    t1, t2 = median(t1s), median(t2s)
    effs = sorted(x / (2 * y) for x, y in zip(t1s, t2s, strict=False))
    kept_eff = median(x / (2 * y) for x, y in zip(t1s, t2_kept, strict=False))
    tt = median(tts)
    eff = median(x / (2 * y) for x, y in zip(t1s, tts, strict=True))
    print(
        f"threads: {a.worlds:,} worlds x {a.days} days: threads=1 {t1:.1f} s, threads=2 {tt:.1f} s "
        f"(speed-up {t1 / tt:.2f}, parallel efficiency {eff:.0%}, "
        f"median of {len(tts)}; results identical)"
    )
    print(
        f"workers: {a.worlds:,} worlds x {a.days} days: workers=1 {t1:.1f} s, workers=2 {t2:.1f} s "
        f"(speed-up {t1 / t2:.2f}, parallel efficiency {median(effs):.0%} with the workers' "
        f"start-up, {kept_eff:.0%} for a later run that reuses them; work efficiency "
        f"{median(work):.0%}, medians of {len(effs)}; results identical). Parallel efficiency "
        "needs two idle cores: see the 'other processes' figures above. Ceiling of this "
        f"machine (two independent processes at once): {median(ceilings):.0%}, so workers=2 "
        f"reaches {median(effs) / median(ceilings):.0%} of what two cores give here."
    )


_MEM_API = """
import resource, sys, time
import sim
t = time.perf_counter()
r = sim.run("kabul_2022", worlds={n}, days={d}, record="none", workers={w})
dt = time.perf_counter() - t
assert len(r.worlds) == {n}
sim.running.ensemble.shutdown_workers(wait=True)  # workers that have exited count in RUSAGE_CHILDREN
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(self_kb, kids_kb, dt)
"""


def bench_memory(a) -> None:
    for w in sorted(set([1] + ([2] if a.memory_workers > 1 else []))):
        proc = subprocess.run(
            [sys.executable, "-c", _MEM_API.format(root=str(ROOT), n=a.memory_worlds, d=a.memory_days, w=w)],
            capture_output=True,
            text=True,
            env=_env(),
        )
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            raise SystemExit("memory run failed")
        self_kb, kids_kb, dt = proc.stdout.split()
        print(
            f"memory: sim.run {a.memory_worlds:,} worlds x {a.memory_days} days, record=none, "
            f"workers={w}: peak {int(self_kb) / 1024:,.0f} MB in the main process"
            + (f", {int(kids_kb) / 1024:,.0f} MB in the largest worker" if w > 1 else "")
            + f" ({float(dt):.0f} s)",
            flush=True,
        )
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "sim",
            f"worlds={a.memory_worlds}",
            f"days={a.memory_days}",
            "plots=false",
            "record=none",
            f"hydra.run.dir={tmp}/run",
        ]
        # a fresh wrapper process, so that only this command's peak is counted
        proc = subprocess.run(
            [sys.executable, "-c", _MEM_CLI, json.dumps(cmd)],
            cwd=tmp,
            env=_env(),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            raise SystemExit("command-line memory run failed")
        kb, dt = proc.stdout.split()[-2:]
        print(
            f"memory: python -m sim worlds={a.memory_worlds:,} days={a.memory_days} record=none "
            f"(checkpointed chunks, final tables): peak {int(kb) / 1024:,.0f} MB ({float(dt):.0f} s)"
        )


_MEM_CLI = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
if p.returncode:
    sys.stderr.write(p.stderr); sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=["batch", "workers", "memory"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--per-point", type=int, default=100)
    p.add_argument(
        "--hydra-sample",
        type=int,
        default=20,
        help="Hydra jobs timed to estimate one job per point (0: skip)",
    )
    p.add_argument("--worlds", type=int, default=100_000, help="worlds for the workers benchmark")
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each workers repeat, wait up to this long for other processes to leave the cores idle",
    )
    p.add_argument("--memory-worlds", type=int, default=1_000_000)
    p.add_argument("--memory-days", type=int, default=30)
    p.add_argument("--memory-workers", type=int, default=2)
    a = p.parse_args()
    which = a.only or ["batch", "workers", "memory"]
    print(
        f"benchmark_sweeps: {os.cpu_count()} cores, python {sys.version.split()[0]}; "
        f"medians of {a.repeats} runs",
        flush=True,
    )
    for name in which:
        {"batch": bench_batch, "workers": bench_workers, "memory": bench_memory}[name](a)
        print(flush=True)
    print(json.dumps({"args": vars(a)}))


if __name__ == "__main__":
    main()
