"""Running an ensemble: ``run(scenario, worlds, days, seed, params, record) -> Results``.

Worlds are stepped in chunks so that arrays stay cache-sized; chunks end on multiples of the
random-stream group size and every world draws from its own stream, so results do not depend on
the chunk size or on how many threads or processes share the chunks.

Each chunk builds its own parameter arrays (:func:`chunk_params`) from the scenario and its rows
of the per-world parameter table, so a run of a million worlds never holds the expanded
parameters of more than the chunks in flight. With ``workers = N > 1`` this process and N - 1
``spawn`` worker processes share the chunks (each worker re-imports :mod:`sim`; the compiled
rules load from numba's on-disk cache); otherwise this process steps as many chunks at once as
it has cores, one per thread (``threads``). With ``executor="dask"`` or ``"ray"`` the workers
of a cluster step them instead (:mod:`sim.running.cluster`). The chunks are put back in world
order, so the results are identical to ``workers=1, threads=1``.

:func:`iter_chunks` and :func:`assemble` are the two halves of :func:`run`; :mod:`sim.running.runner`
uses them to checkpoint a long run chunk by chunk.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.kernel import run_chunk
from sim.core.outcomes import series_table
from sim.core.streams import GROUP
from sim.inputs.params import Params, build_params
from sim.inputs.posterior import posterior_params
from sim.inputs.scenarios import load_scenario
from sim.inputs.schema import Scenario, ScenarioError
from sim.inputs.settings import check_cores, check_executor, check_run_setting
from sim.running import cluster
from sim.running.limits import check_memory
from sim.running.results import Results
from sim.running.spawning import spawn_problem

DEFAULT_CHUNK_WORLDS = 512
#: chunks per worker (process or thread) that :func:`plan_chunks` aims for, so that they finish
#: together
CHUNKS_PER_WORKER = 4
#: chunks per worker at the end of a run that :func:`plan_chunks` cuts smaller
TAIL_CHUNKS_PER_WORKER = 2


def cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _in_joblib_worker() -> bool:
    # Inside a joblib (loky) worker, e.g. a job of Hydra's joblib launcher, the global start
    # method is "loky"; its sibling jobs already fill the cores.
    return mp.get_start_method(allow_none=True) not in (None, "fork", "spawn", "forkserver")


def resolve_threads(threads: int | None, workers: int = 1) -> int:
    """Threads that step chunks at once in this process: ``threads`` if given; by default
    every core this process may use, but one with ``workers > 1`` (each process steps one
    chunk at a time) or inside a joblib worker (its sibling jobs use the other cores)."""
    if threads is not None:
        return threads
    if workers > 1 or _in_joblib_worker():
        return 1
    return cores()


#: one chunk's results: (outcome table, series table or None, ceasefire table or None)
ChunkResult = tuple[pd.DataFrame, "pd.DataFrame | None", "pd.DataFrame | None"]


def _whole(name: str, value, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected a whole number of at least {lo}")


def _check_run_args(
    worlds,
    days,
    seed,
    record,
    chunk_worlds,
    threads=None,
    workers=1,
    oversubscribe=False,
    executor="local",
    executor_address=None,
) -> None:
    """Check the run settings of :func:`run` with the one check of every run setting
    (:func:`sim.inputs.settings.check_run_setting`); ``threads`` None means auto."""
    for name, value in (
        ("worlds", worlds),
        ("days", days),
        ("seed", seed),
        ("record", record),
        ("chunk_worlds", chunk_worlds),
        ("threads", threads),
        ("workers", workers),
        ("oversubscribe", oversubscribe),
        ("executor", executor),
        ("executor_address", executor_address),
    ):
        check_run_setting(name, value)
    check_cores(workers, threads, oversubscribe)
    check_executor(executor, executor_address, workers)


def chunk_bounds(worlds: int, first_world: int, chunk_worlds: int) -> list[tuple[int, int]]:
    """Chunks ``(lo, hi)`` of a run's worlds; they end on multiples of the random-stream group
    size in the global world index, so each chunk draws whole groups."""
    step = max(GROUP, (chunk_worlds // GROUP) * GROUP)
    out, lo = [], 0
    while lo < worlds:
        hi = min(worlds, ((first_world + lo) // GROUP) * GROUP + step - first_world)
        out.append((lo, hi))
        lo = hi
    return out


def plan_chunks(worlds: int, first_world: int, chunk_worlds: int, lanes: int = 1) -> list[tuple[int, int]]:
    """Chunks of a run: at most ``chunk_worlds`` worlds each and, when ``lanes`` > 1 chunks
    are stepped at once (worker processes or threads, see :func:`lanes`), small enough that
    each lane gets about :data:`CHUNKS_PER_WORKER` of them, the last
    :data:`TAIL_CHUNKS_PER_WORKER` per lane a quarter of that size (load balance: the lanes
    finish close together). The results do not depend on the plan."""
    size = chunk_worlds
    if lanes > 1:
        want = -(-worlds // (CHUNKS_PER_WORKER * lanes))
        size = min(size, max(GROUP, -(-want // GROUP) * GROUP))
    spans = chunk_bounds(worlds, first_world, size)
    tail = TAIL_CHUNKS_PER_WORKER * lanes
    if lanes > 1 and len(spans) > tail:
        # The last chunks are cut in quarters: a lane that runs out of work then waits for
        # the others for a quarter of a chunk at most, rather than for a whole one.
        lo = spans[-tail][0]
        small = max(GROUP, size // 4 // GROUP * GROUP)
        spans = spans[:-tail] + [
            (lo + a, lo + b) for a, b in chunk_bounds(worlds - lo, first_world + lo, small)
        ]
    return spans


def lanes(workers: int, threads: int | None) -> int:
    """Chunks stepped at once by a run: its processes, or its threads in one process (what
    :func:`plan_chunks` balances the load over)."""
    return workers if workers > 1 else resolve_threads(threads, workers)


def engine_lanes(
    executor: str, executor_address: str | None, workers: int, threads: int | None
) -> tuple[cluster.Engine | None, int]:
    """The run's cluster engine (None for ``executor="local"``, :func:`sim.running.cluster.connect`)
    and how many chunks it steps at once: the cluster's worker threads, or :func:`lanes`."""
    engine = cluster.connect(executor, executor_address)
    return engine, lanes(workers, threads) if engine is None else engine.lanes


_ROW = re.compile(r"\brow (\d+)")


def chunk_params(s: Scenario, count: int, part: pd.DataFrame | None, lo: int = 0) -> Params:
    """Parameter arrays of one chunk of ``count`` worlds whose rows of the run's parameter table
    are ``part`` (None: the scenario's values); ``lo`` is the chunk's first row in that table,
    so that a message about a bad value names the row of the whole table."""
    if part is not None:
        part = part.reset_index(drop=True)
    try:
        return build_params(s, count, part)
    except ScenarioError as e:
        if not lo:
            raise
        msg = _ROW.sub(lambda m: f"row {int(m.group(1)) + lo}", str(e))
        raise ScenarioError(msg) from None


def check_params(
    s: Scenario, worlds: int, params: pd.DataFrame | None, spans: Sequence[tuple[int, int]]
) -> None:
    """Validate a per-world parameter table chunk by chunk before anything runs (the arrays
    are built and dropped; each chunk builds them again when it runs)."""
    if params is not None and not isinstance(params, pd.DataFrame):
        raise ScenarioError(
            f"params = {type(params).__name__} is not allowed: expected a pandas DataFrame with one "
            "row per world and dotted scenario fields as columns"
        )
    if params is None or not len(params.columns):
        return
    if len(params) != worlds:
        raise ScenarioError(
            f"params has {len(params)} rows, which is not allowed: expected one row per world ({worlds})"
        )
    for lo, hi in spans:
        chunk_params(s, hi - lo, params.iloc[lo:hi], lo)


def _run_job(job) -> ChunkResult:
    """Run one chunk (in this process, one of its threads or a worker): build its parameters,
    step its worlds and turn its series into a table, so that only tables travel back."""
    s, part, lo, hi, seed, start, days, record = job
    p = chunk_params(s, hi - lo, part, lo)
    table, series, ceasefires = run_chunk(p, seed, start, days, record)
    series_df = None
    if series is not None:
        series_df = series_table(series, table["world"].to_numpy(), s.start, record)
    return table, series_df, ceasefires


def iter_chunks(
    s: Scenario,
    spans: Iterable[tuple[int, int]],
    seed: int,
    days: int,
    record: str = "none",
    params: pd.DataFrame | None = None,
    first_world: int = 0,
    workers: int = 1,
    threads: int | None = None,
    engine: cluster.Engine | None = None,
) -> Iterator[tuple[int, int, ChunkResult]]:
    """Run chunks ``(lo, hi)`` of a run and yield ``(lo, hi, result)`` as each finishes.

    With an ``engine`` (:func:`sim.running.cluster.connect`: a Dask or Ray cluster) the chunks
    go to the cluster's workers (a few in flight per worker) and ``workers``/``threads`` are
    not used.

    With ``workers = N > 1`` the chunks are shared by N processes: this one and N - 1 spawned
    workers (at most three chunks queued per worker, so memory stays bounded). This process
    starts stepping chunks at once, while the workers are still starting up. Otherwise this
    process steps ``threads`` chunks at once (see :func:`resolve_threads`), one per thread: the
    compiled kernel and numpy's random draws run without Python's global lock. Chunks come
    back in the order they finish; put them back in world order with :func:`assemble`.
    """
    spans = list(spans)
    part = (
        (lambda lo, hi: None)
        if params is None or not len(params.columns)
        else (lambda lo, hi: params.iloc[lo:hi])
    )
    jobs = ((lo, hi, (s, part(lo, hi), lo, hi, seed, first_world + lo, days, record)) for lo, hi in spans)
    if engine is not None:
        yield from engine.run_chunks(jobs, _run_job)
        return
    spawned = min(workers, len(spans)) - 1
    problem = spawn_problem() if spawned >= 1 else None
    if problem:
        # Spawned workers import the main script first; see sim.running.spawning.
        sys.stderr.write(
            f"negsim: workers={workers} starts worker processes, but the main script {problem}; "
            f"running the chunks in {workers} threads of this process instead (same results). For "
            "worker processes, save the script to a file and put the run under "
            '`if __name__ == "__main__":`.\n'
        )
        spawned, threads = 0, workers if threads is None else threads
    if spawned >= 1:
        yield from _with_workers(jobs, spawned)
        return
    n = min(resolve_threads(threads, workers), len(spans))
    if n < 2:
        for lo, hi, job in jobs:
            yield lo, hi, _run_job(job)
    else:
        yield from _threaded(jobs, n)


def _with_workers(jobs: Iterator, spawned: int) -> Iterator[tuple[int, int, ChunkResult]]:
    """Step ``jobs`` in this process and ``spawned`` worker processes; yield as each finishes.

    The pool of workers is kept for the next run, except inside a joblib worker, where it
    lives for this run only; on an error or an interruption the workers are shut down.
    """
    # A spawned child cannot set up a joblib worker's "loky" start method: use "spawn" while
    # the pool lives.
    method = mp.get_start_method(allow_none=True)
    foreign = _in_joblib_worker()
    if foreign:
        mp.set_start_method("spawn", force=True)
    # Outside a joblib worker the pool is kept for the next run; inside one it lives for this run.
    pool = (
        ProcessPoolExecutor(spawned, mp_context=mp.get_context("spawn")) if foreign else _worker_pool(spawned)
    )
    pending: dict = {}
    try:
        yield from _share_with_pool(pool, pending, jobs, spawned)
    except BaseException:
        if not foreign:
            shutdown_workers()
        raise
    finally:
        for f in pending:
            f.cancel()
        if foreign:
            pool.shutdown(wait=True, cancel_futures=True)
            mp.set_start_method(method, force=True)


def _share_with_pool(
    pool, pending: dict, jobs: Iterator, spawned: int
) -> Iterator[tuple[int, int, ChunkResult]]:
    """Keep the workers' queues topped up while this process steps chunks of its own; at the
    end, take back queued chunks no worker has started. ``pending`` maps futures to jobs."""
    while True:
        # Collect what the workers finished, then top their queues up, so that they never
        # wait while this process steps its own chunk.
        if pending:
            yield from _finished(pending, block=False)
        _submit(pool, pending, jobs, 3 * spawned)
        nxt = next(jobs, None)
        if nxt is None:
            break
        lo, hi, job = nxt
        yield lo, hi, _run_job(job)  # this process's share
    while pending:
        yield from _finished(pending, block=False)
        # Nothing left to start: rather than wait, take back the chunk queued last that no
        # worker has started yet, and step it here.
        stolen = next((f for f in sorted(pending, key=lambda f: -pending[f][0]) if f.cancel()), None)
        if stolen is None:
            yield from _finished(pending, block=True)
        else:
            lo, hi, job = pending.pop(stolen)
            yield lo, hi, _run_job(job)


def _submit(pool, pending: dict, jobs, limit: int) -> None:
    """Submit chunk jobs ``(lo, hi, job)`` to ``pool`` until ``limit`` are pending (``pending``
    maps each future to its job)."""
    while len(pending) < limit:
        nxt = next(jobs, None)
        if nxt is None:
            return
        pending[pool.submit(_run_job, nxt[2])] = nxt


def _finished(pending: dict, block: bool) -> list[tuple[int, int, ChunkResult]]:
    """The pending chunks that have finished (waiting for one if ``block``), in world order,
    taken out of ``pending``."""
    done, _ = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
    out = []
    for f in sorted(done, key=lambda f: pending[f][0]):
        lo, hi, _ = pending.pop(f)
        out.append((lo, hi, f.result()))
    return out


def _threaded(jobs, n: int) -> Iterator[tuple[int, int, ChunkResult]]:
    """Run chunk jobs in ``n`` threads of this process (at most two chunks queued per thread,
    so memory stays bounded) and yield them as they finish."""
    pending: dict = {}
    with ThreadPoolExecutor(n, thread_name_prefix="negsim-chunk") as pool:
        try:
            while True:
                _submit(pool, pending, jobs, 2 * n)
                if not pending:
                    return
                yield from _finished(pending, block=True)
        finally:
            # On an error or an interrupt, chunks not yet started are dropped; those running
            # finish (a compiled loop cannot be stopped midway).
            for f in pending:
                f.cancel()


_POOL: dict[str, object] = {}


def _worker_pool(size: int) -> ProcessPoolExecutor:
    """Worker processes kept for the life of this process, so that repeated runs (sweeps of
    designs, calibration generations, benchmarks) pay the start-up of spawned workers once."""
    pool = _POOL.get("pool")
    if pool is None or _POOL.get("size") != size or getattr(pool, "_broken", False):
        shutdown_workers()
        pool = ProcessPoolExecutor(size, mp_context=mp.get_context("spawn"))
        _POOL.update(pool=pool, size=size)
    return pool  # type: ignore[return-value]


def shutdown_workers(wait: bool = False) -> None:
    """Stop the worker processes kept by :func:`run` (the next run with ``workers > 1`` starts
    new ones); ``wait=True`` returns once they have exited."""
    pool = _POOL.pop("pool", None)
    _POOL.pop("size", None)
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)  # type: ignore[attr-defined]


atexit.register(shutdown_workers)


def assemble(
    s: Scenario,
    parts: Sequence[ChunkResult],
    seed: int,
    days: int,
    record: str,
    params: pd.DataFrame | None = None,
) -> Results:
    """Results of a run from its chunks' results, given in world order."""
    worlds_df = pd.concat([p[0] for p in parts], ignore_index=True)
    ts = None
    series_parts = [p[1] for p in parts if p[1] is not None]
    if series_parts:
        # Rows by world, then time, whatever the chunking.
        ts = pd.concat(series_parts, ignore_index=True)
        ts = ts.sort_values(
            ["world", "day" if record == "daily" else "month"], kind="stable", ignore_index=True
        )
    cf_parts = [p[2] for p in parts if p[2] is not None]
    extra = {"ceasefires": pd.concat(cf_parts, ignore_index=True)} if cf_parts else {}
    return Results(
        worlds=worlds_df,
        timeseries=ts,
        scenario=s.name,
        seed=int(seed),
        days=int(days),
        params=params,
        **extra,
    )


def behaviour_params(
    s: Scenario,
    behaviour: str,
    worlds: int,
    seed: int,
    params: pd.DataFrame | None = None,
    first_world: int = 0,
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """The run's per-world parameter table and each world's particle (None with ``"shipped"``).

    With ``behaviour="posterior"`` every world gets a particle of the posterior sample
    (:func:`sim.inputs.posterior.posterior_params`: it depends only on the seed and the world
    index); a column of the user's ``params`` table wins over the posterior's column of the same
    field (the user asked for that value), the other posterior columns are added to it.

    Raises:
        ScenarioError: ``behaviour`` is not one of :data:`sim.inputs.settings.BEHAVIOURS`.
    """
    check_run_setting("behaviour", behaviour)
    if behaviour == "shipped":
        return params, None
    particles, table = posterior_params(s, worlds, seed, first_world)
    if params is not None and len(params.columns):
        if len(params) != worlds:
            raise ScenarioError(
                f"params has {len(params)} rows, which is not allowed: expected one row per world ({worlds})"
            )
        user = params.reset_index(drop=True)
        table = pd.concat([table.drop(columns=[c for c in table.columns if c in user.columns]), user], axis=1)
    return table, particles


def prepare(
    scenario: str | Path | Scenario,
    worlds: int,
    days: int,
    seed: int,
    record: str,
    chunk_worlds: int,
    first_world: int,
    workers: int,
    threads: int | None = None,
    max_memory: int | str | None = None,
    oversubscribe: bool = False,
    executor: str = "local",
    executor_address: str | None = None,
) -> Scenario:
    """Check the run settings, load the scenario and refuse a run that would not fit in memory
    (:func:`sim.running.limits.check_memory`; shared by :func:`run` and :mod:`sim.running.runner`).
    With a cluster the chunks are stepped on its workers: this process holds the tables only."""
    _check_run_args(
        worlds, days, seed, record, chunk_worlds, threads, workers, oversubscribe, executor, executor_address
    )
    _whole("first_world", first_world, 0)
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    limit = check_run_setting("max_memory", max_memory)
    here = executor == "local"
    check_memory(
        s, worlds, days, record, chunk_worlds, lanes(workers, threads) if here else 1, workers, limit
    )
    return s


def run(
    scenario: str | Path | Scenario,
    worlds: int = 1000,
    days: int = 730,
    seed: int = 0,
    params: pd.DataFrame | None = None,
    record: str = "none",
    chunk_worlds: int = DEFAULT_CHUNK_WORLDS,
    first_world: int = 0,
    progress: bool = False,
    workers: int = 1,
    threads: int | None = None,
    behaviour: str = "shipped",
    max_memory: int | str | None = None,
    oversubscribe: bool = False,
    executor: str = "local",
    executor_address: str | None = None,
) -> Results:
    """Run ``worlds`` possible histories of a scenario, all at once.

    Args:
        scenario: a shipped scenario name, a YAML path, or a loaded :class:`Scenario`.
        worlds: number of worlds.
        days: horizon in days (one step is one day).
        seed: seed of the run, a whole number or a ``numpy.random.SeedSequence``
            (:func:`sim.inputs.settings.seed_value`: ``SeedSequence(5)`` is seed 5, as in
            ``NegotiationModel(rng=...)``); world ``i`` always draws from the same stream for a
            given seed.
        params: optional per-world parameters, one row per world, columns are dotted scenario
            fields (``state.delivery_reliability``); each world runs with its own values.
        record: ``"none"``, ``"monthly"`` or ``"daily"`` series in ``Results.timeseries``.
        chunk_worlds: worlds stepped together (memory and speed only; results are identical).
        first_world: index of the first world (to split a run across processes).
        progress: show a progress bar (worlds done, worlds per second, time left).
        workers: processes that share the chunks: this one and ``workers - 1`` spawned ones
            (results are identical for any number).
        threads: chunks this process steps at once, one per thread. None: every core it may
            use, or one with ``workers > 1`` or inside a joblib worker (results are identical
            for any number).
        behaviour: ``"shipped"`` (the behavioural point estimate conf/behaviour.yaml, through the
            scenario) or ``"posterior"``: each world runs with one particle of the shipped
            posterior sample conf/posterior.parquet (see :mod:`sim.inputs.posterior`; columns of
            ``params`` win over the posterior's), recorded in ``Results.particles``.
        max_memory: memory the run may take (bytes, or text such as ``"8GB"``); None: what the
            machine has available. A run estimated to need more is refused before it starts.
        oversubscribe: allow more ``workers`` or ``threads`` than the machine has cores.
        executor: what steps the chunks: ``"local"`` (this process, its threads and ``workers``
            processes) or a cluster, ``"dask"`` (Dask distributed) or ``"ray"``, whose workers
            step them instead (:mod:`sim.running.cluster`; results are identical, byte for byte).
        executor_address: the cluster's scheduler (``tcp://host:8786`` for Dask,
            ``ray://host:10001`` for Ray); None: the cluster named by ``DASK_SCHEDULER_ADDRESS``
            or ``RAY_ADDRESS``, or else a local cluster started on this machine and kept while
            this process lives (a note on standard error says which).

    Returns:
        :class:`~sim.running.results.Results` with one row per world.

    Raises:
        ScenarioError: for a bad scenario, parameter table, run setting or ``behaviour``; an
            engine that is not installed or a cluster that cannot be reached.
    """
    seed = check_run_setting("seed", seed)  # a SeedSequence becomes the whole number it stands for
    s = prepare(
        scenario,
        worlds,
        days,
        seed,
        record,
        chunk_worlds,
        first_world,
        workers,
        threads,
        max_memory,
        oversubscribe,
        executor,
        executor_address,
    )
    params, particles = behaviour_params(s, behaviour, worlds, seed, params, first_world)
    engine, n = engine_lanes(executor, executor_address, workers, threads)
    bounds = plan_chunks(worlds, first_world, chunk_worlds, n)
    check_params(s, worlds, params, bounds)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=worlds, unit="world", unit_scale=True, desc=s.name or "run")
    parts: dict[int, ChunkResult] = {}
    try:
        chunks = iter_chunks(s, bounds, seed, days, record, params, first_world, workers, threads, engine)
        for lo, hi, res in chunks:
            parts[lo] = res
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    out = assemble(s, [parts[lo] for lo, _ in bounds], seed, days, record, params)
    out.particles = particles
    return out
