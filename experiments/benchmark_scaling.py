"""Scaling of one run over the workers of a local Dask cluster, and a cost model of the calibration.

    .venv/bin/python experiments/benchmark_scaling.py       # kabul_2022, 10,000 worlds x 730 days
    .venv/bin/python experiments/benchmark_scaling.py --worlds 2000 --days 365 --workers 1 2 --repeats 1

Prints (and writes with ``--json PATH``):

1. **machine**: its cores and its speed at drawing uniforms (numpy PCG64, as
   ``experiments/benchmark.py``: the kernel's random-number yardstick, to compare figures across
   machines and hours).
2. **local, one core**: the same run with ``threads=1`` and no cluster (the kernel alone), and
   with one thread per core (what the machine's cores give at this hour without a cluster: on a
   shared machine, the ceiling the cluster's figures should be read against).
3. **strong scaling**: the one run (``--worlds`` x ``--days``) split over 1, 2, 4 workers of a
   local Dask cluster (``distributed.LocalCluster``, one process of one thread per worker,
   ``sim.run(..., executor="dask")``). For each size the cluster's start-up is printed apart:
   the cluster coming up, and the workers warming up (importing ``sim`` and loading the compiled
   kernel from the cache). Then the run: seconds (median of ``--repeats``), worlds per second,
   worlds per second per core used (at most the machine's cores), speed-up over one worker and
   efficiency (t1 / (n tn)). More workers than cores oversubscribe the machine: those rows say so.
   On a shared machine the wall times depend on what else runs: each row also gives the cores
   other processes kept busy just before (``--wait-idle`` waits for them to finish) and the CPU
   seconds the run took on the workers and the client, whose ratio to one worker's (the *work
   efficiency*) other processes do not change.
4. **weak scaling**: ``--weak-worlds`` worlds per worker (the run grows with the workers);
   efficiency t1 / tn.
5. **overhead per run**: a tiny run (64 worlds x 1 day) through the cluster, the fixed cost of
   handing a run to a cluster (median of 5).
6. **cost model**: a calibration of the shipped size (``conf/calibration.yaml``: particles x
   worlds per draw worlds per episode and generation, every fitted episode at its horizon, the
   selection's candidates x worlds) on ``--cores`` cores (default 64). Each fitted episode is run
   here once on one core (``--episode-worlds`` worlds at its horizon, recording what the
   calibration records) for its world-days per second; a core of the cluster runs at the share
   of a lone local core measured in the strong scaling on the largest cluster without
   oversubscription, given twice: by CPU seconds per world (the cluster's own cost: pickling,
   transfer, the scheduler and client; other processes do not change it) and by wall-clock
   worlds/s per core (which a shared machine also slows down); the chunks of each episode run are
   dealt to the cores as ``sim.run`` plans them (list scheduling of the planned chunk sizes: the
   last round's imbalance is counted); each episode run pays the measured overhead per run; the
   client's own work between runs (reducing statistics, proposing draws) and early stopping are
   left out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from benchmark import uniform_rate  # this folder's scripts: the same yardstick and load gauge
from benchmark_sweeps import busy_cores


def wait_idle(limit: float) -> float:
    """Wait up to ``limit`` seconds for other processes to leave the cores idle (below 0.3 cores
    busy); return how many cores they kept busy at the end."""
    other, start = busy_cores(), time.monotonic()
    while other > 0.3 and time.monotonic() - start < limit:
        other = busy_cores(2.0)
    return other


def _warm() -> None:
    """Run on every worker: import sim and load the compiled kernel."""
    import sim

    sim.run("kabul_2022", worlds=64, days=2, threads=1)


def _cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far (run on each worker too)."""
    c = os.times()
    return c.user + c.system


def _cluster_cpu(client) -> float:
    """CPU seconds used so far by the cluster's workers and this process (the client)."""
    return sum(client.run(_cpu_seconds).values()) + _cpu_seconds()


def _timed(fn, repeats: int) -> float:
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def on_cluster(n: int, a, cores: int) -> dict:
    """Start a local cluster of ``n`` workers, time its start-up, the strong and weak runs and
    the per-run overhead, and close it."""
    import distributed

    import sim
    from sim.running import cluster

    t0 = time.perf_counter()
    lc = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(lc)
    client.wait_for_workers(n)
    t_up = time.perf_counter() - t0
    t0 = time.perf_counter()
    client.run(_warm)
    t_warm = time.perf_counter() - t0
    addr = lc.scheduler_address
    other = wait_idle(a.wait_idle)
    kw = dict(executor="dask", executor_address=addr, days=a.days, chunk_worlds=a.chunk_worlds)
    try:
        cpu0 = _cluster_cpu(client)
        strong = _timed(lambda r: sim.run(a.scenario, worlds=a.worlds, seed=r, **kw), a.repeats)
        cpu = (_cluster_cpu(client) - cpu0) / a.repeats
        weak_worlds = a.weak_worlds * n
        weak = _timed(lambda r: sim.run(a.scenario, worlds=weak_worlds, seed=r, **kw), a.repeats)
        tiny = dict(kw, days=1)
        overhead = _timed(lambda r: sim.run(a.scenario, worlds=64, seed=r, **tiny), 5)
    finally:
        cluster.shutdown_engines("dask")
        client.close()
        lc.close()
    used = min(n, cores)
    return {
        "workers": n,
        "oversubscribed": n > cores,
        "other_busy_cores": other,
        "startup_cluster_s": t_up,
        "startup_warm_s": t_warm,
        "strong_s": strong,
        "strong_worlds_per_s": a.worlds / strong,
        "strong_worlds_per_s_per_core": a.worlds / strong / used,
        "strong_cpu_s": cpu,
        "weak_worlds": weak_worlds,
        "weak_s": weak,
        "weak_worlds_per_s_per_core": weak_worlds / weak / used,
        "overhead_per_run_s": overhead,
    }


def makespan(sizes: list[int], lanes: int) -> int:
    """Worlds on the busiest lane when chunks of ``sizes`` are dealt in order, each to the lane
    that frees up first (what a cluster does with ``sim.run``'s queue of chunks)."""
    load = np.zeros(lanes)
    for s in sizes:
        load[np.argmin(load)] += s
    return int(load.max())


def episode_rates(worlds: int) -> dict[str, dict]:
    """Each fitted episode run once locally on one core (``threads=1``) at its horizon, recording
    what the calibration records: its horizon, factions and world-days per second."""
    from sim.explore import calibration as C
    from sim.inputs.scenarios import load_scenario
    from sim.report import patterns as V
    from sim.running.ensemble import run

    _, fitted = C.fitted_patterns(C.load_config(False, []))
    out = {}
    for e in sorted({e for p in fitted for e in p.episodes}, key=list(V.EPISODES).index):
        s, ep = load_scenario(e), V.EPISODES[e]
        days = V.horizon_days(s, ep)
        record = "daily" if ep.daily else "none"
        t = time.perf_counter()
        run(s, worlds=worlds, days=days, seed=1, record=record, threads=1)
        rate = worlds * days / (time.perf_counter() - t)
        out[e] = {"days": days, "factions": len(s.factions), "record": record, "world_days_per_s": rate}
    return out


def cost_model(episodes: dict[str, dict], factor: float, overhead: float, cores: int) -> dict:
    """Hours of a calibration of the shipped size (conf/calibration.yaml) on ``cores`` cores:
    each episode at its one-core rate (:func:`episode_rates`) times ``factor`` (a cluster core's
    speed against a local core's, measured), chunks dealt as ``sim.run`` plans them, plus
    ``overhead`` seconds per run."""
    from sim.explore import calibration as C
    from sim.running.ensemble import plan_chunks

    cfg = C.load_config(False, [])
    N, K, G = int(cfg.particles), int(cfg.worlds_per_draw), int(cfg.generations)
    keep = max(2, int(round(float(cfg.alpha) * N)))
    selection = int(cfg.selection.candidates) * int(cfg.selection.worlds)
    batches = [N * K] + [(N - keep) * K] * (G - 1) + [selection]
    wall = serial = worlds = world_days = 0.0
    for w in batches:
        for v in episodes.values():
            sizes = [hi - lo for lo, hi in plan_chunks(w, 0, 2048, cores)]  # run_episodes' chunk_worlds
            wall += makespan(sizes, cores) * v["days"] / (v["world_days_per_s"] * factor) + overhead
            serial += w * v["days"] / v["world_days_per_s"]
            worlds += w
            world_days += w * v["days"]
    return {
        "particles": N,
        "worlds_per_draw": K,
        "generations": G,
        "kept_per_generation": keep,
        "selection": f"{cfg.selection.candidates} candidates x {cfg.selection.worlds} worlds",
        "episodes": episodes,
        "runs": len(batches) * len(episodes),
        "worlds": worlds,
        "world_days": world_days,
        "one_core_hours": serial / 3600,
        "cores": cores,
        "hours": wall / 3600,
    }


def _print_runs(rows: list[dict], a, t1_local: float, t_threads: float, cores: int) -> None:
    t1 = rows[0]["strong_s"]
    w1 = rows[0]["weak_s"]
    print(
        f"\nstrong scaling: one run of {a.worlds:,} worlds x {a.days} days ({a.scenario}), "
        f"median of {a.repeats}"
    )
    print(
        "workers | cluster up s | warm-up s | run s | worlds/s | worlds/s/core | speed-up | efficiency "
        "| cores busy with other work | CPU s (workers + client) | work efficiency"
    )
    for r in rows:
        n = r["workers"]
        note = f"  (oversubscribed: {n} workers on {cores} cores)" if r["oversubscribed"] else ""
        print(
            f"{n:7d} | {r['startup_cluster_s']:12.2f} | {r['startup_warm_s']:9.2f} | {r['strong_s']:5.2f} | "
            f"{r['strong_worlds_per_s']:8,.0f} | {r['strong_worlds_per_s_per_core']:13,.0f} | "
            f"{t1 / r['strong_s']:7.2f}x | {t1 / (n * r['strong_s']):9.0%} | "
            f"{r['other_busy_cores']:.1f} | {r['strong_cpu_s']:.2f} | "
            f"{rows[0]['strong_cpu_s'] / r['strong_cpu_s']:.0%}{note}"
        )
    print(f"(local run, threads=1, no cluster: {t1_local:.2f} s, {a.worlds / t1_local:,.0f} worlds/s)")
    print(
        f"(local run, threads={cores}, no cluster: {t_threads:.2f} s, {t1_local / t_threads:.2f}x one core: "
        "what this machine's cores gave at this hour without a cluster)"
    )
    print(f"\nweak scaling: {a.weak_worlds:,} worlds per worker x {a.days} days, median of {a.repeats}")
    print("workers | worlds | run s | worlds/s/core | efficiency")
    for r in rows:
        note = "  (oversubscribed)" if r["oversubscribed"] else ""
        print(
            f"{r['workers']:7d} | {r['weak_worlds']:6,d} | {r['weak_s']:5.2f} | "
            f"{r['weak_worlds_per_s_per_core']:13,.0f} | {w1 / r['weak_s']:9.0%}{note}"
        )
    print("\noverhead per run handed to the cluster (64 worlds x 1 day, median of 5):")
    print(", ".join(f"{r['workers']} workers {r['overhead_per_run_s'] * 1000:.0f} ms" for r in rows))


def _print_cost(c: dict, by_cpu: dict, f: dict, overhead: float, at: int) -> None:
    print(f"\ncost model: calibration of the shipped size on {c['cores']} cores")
    print(
        f"  {c['particles']} particles x {c['worlds_per_draw']} worlds per draw; {c['generations']} "
        f"generations (the first {c['particles']} draws, then {c['particles'] - c['kept_per_generation']} "
        f"new a generation); selection {c['selection']}"
    )
    print("  episode | days | factions | record | world-days/s on one core (measured)")
    for e, v in c["episodes"].items():
        print(f"  {e} | {v['days']} | {v['factions']} | {v['record']} | {v['world_days_per_s']:,.0f}")
    print(
        f"  {c['runs']} runs, {c['worlds']:,.0f} worlds, {c['world_days'] / 1e9:.2f} G world-days: "
        f"{c['one_core_hours'] * 60:.1f} min on one core"
    )
    print(
        f"  on {c['cores']} cores: {by_cpu['hours'] * 60:.1f} min with a cluster core at {f['cpu']:.0%} of a "
        f"lone local core (CPU seconds per world, {at} workers here: what the cluster itself costs), "
        f"{c['hours'] * 60:.1f} min at {f['wall']:.0%} (wall-clock worlds/s per core here, which other "
        "processes on this machine also slow down)"
    )
    print(
        f"  both with {overhead * 1000:.0f} ms overhead per run (measured) and the chunks dealt to the "
        "cores as sim.run plans them; the client's work between runs and early stopping are left out"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="kabul_2022")
    ap.add_argument("--worlds", type=int, default=10_000, help="worlds of the strong-scaling run")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument(
        "--weak-worlds", type=int, default=5_000, help="worlds per worker of the weak-scaling runs"
    )
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--chunk-worlds", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cores", type=int, default=64, help="cores of the cost model's cluster")
    ap.add_argument("--episode-worlds", type=int, default=2000, help="worlds per episode, cost model")
    ap.add_argument("--json", help="write every figure to this JSON file")
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before each cluster's runs, wait up to this long for other processes to leave the cores idle",
    )
    a = ap.parse_args(argv)

    import sim
    from sim.running.ensemble import cores as machine_cores

    cores = machine_cores()
    sim.run(a.scenario, worlds=64, days=5, threads=1)  # compile or load the cache outside the timings
    machine = uniform_rate()
    print(f"machine: {cores} cores, {machine / 1e6:.0f} M uniforms/s (numpy PCG64)")
    local = dict(worlds=a.worlds, days=a.days)
    cpu0 = _cpu_seconds()
    t_local = _timed(lambda r: sim.run(a.scenario, seed=r, threads=1, **local), a.repeats)
    cpu_local = (_cpu_seconds() - cpu0) / a.repeats
    # the machine's own ceiling this hour: one process, one thread per core, no cluster
    t_threads = _timed(lambda r: sim.run(a.scenario, seed=r, threads=cores, **local), a.repeats)
    rows = []
    for n in a.workers:
        rows.append(on_cluster(n, a, cores))
        print(f"... {n} workers done", file=sys.stderr, flush=True)
    machine_after = uniform_rate()
    _print_runs(rows, a, t_local, t_threads, cores)
    fit = [r for r in rows if not r["oversubscribed"]] or rows[:1]
    ref = fit[-1]
    # a cluster core's speed against a lone local core's (the kernel alone, threads=1): by wall
    # clock (worlds/s per core) and by CPU seconds per world (what other processes do not change)
    factors = {
        "wall": min(1.0, ref["strong_worlds_per_s_per_core"] / (a.worlds / t_local)),
        "cpu": min(1.0, cpu_local / ref["strong_cpu_s"]),
    }
    episodes = episode_rates(a.episode_worlds)
    cost = cost_model(episodes, factors["wall"], ref["overhead_per_run_s"], a.cores)
    by_cpu = cost_model(episodes, factors["cpu"], ref["overhead_per_run_s"], a.cores)
    _print_cost(cost, by_cpu, factors, ref["overhead_per_run_s"], ref["workers"])
    print(f"\nmachine after: {machine_after / 1e6:.0f} M uniforms/s")
    if a.json:
        out = {
            "args": vars(a),
            "cores": cores,
            "uniforms_per_s": [machine, machine_after],
            "local_one_core_s": t_local,
            "local_all_cores_s": t_threads,
            "clusters": rows,
            "local_one_core_cpu_s": cpu_local,
            "cost_model": {**cost, "cluster_core_factors": factors, "hours_by_cpu": by_cpu["hours"]},
        }
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
