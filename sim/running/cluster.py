"""A run's chunks on a cluster: the workers of Dask distributed or Ray instead of local processes.

``sim.run(..., executor="dask")`` (or ``"ray"``) hands every chunk job of
:mod:`sim.running.ensemble` to the engine's workers: each job carries its scenario, its rows of
the parameter table and its world index, and each chunk draws from its own random streams
(:mod:`sim.core.streams`), so the chunk tables that come back, put in world order by
:func:`sim.running.ensemble.assemble`, are the same bytes as a local run's. Only tables travel
back; nothing is written on the workers: this process (the client) writes wherever the run writes.

Where the cluster is:

* ``executor_address`` given: the scheduler at that address (``tcp://host:8786`` for Dask,
  ``ray://host:10001`` or ``host:6379`` for Ray);
* otherwise the cluster named by the environment (``DASK_SCHEDULER_ADDRESS``, or Dask's
  ``scheduler-address`` setting; ``RAY_ADDRESS``);
* otherwise a local cluster started on this machine (Dask: one worker process per core, one
  thread each; Ray: ``ray.init()``), kept for the life of this process so that repeated runs
  (design batches, calibration generations) start it once.

A note on standard error says which. The connection is kept per (executor, address) for the life
of this process (:func:`shutdown_engines` closes them; it runs at exit). At most
:data:`IN_FLIGHT_PER_LANE` chunks per worker thread are submitted at a time, so memory stays bounded
on both sides. Dask and Ray are imported only here, when a run asks for them (extras
``negsim[dask]`` and ``negsim[ray]``).

The workers need the same negsim and Python as this process (the same wheel installed); each
compiles the kernel once into its numba cache (``NEGSIM_CACHE_DIR``).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from sim.inputs.schema import ScenarioError
from sim.running.spawning import spawn_problem

#: chunks submitted at a time per worker thread of the cluster (one running, one waiting)
IN_FLIGHT_PER_LANE = 2

#: a chunk job as :func:`sim.running.ensemble.iter_chunks` makes it: (lo, hi, job)
Job = tuple[int, int, Any]


def _note(msg: str) -> None:
    sys.stderr.write(f"negsim: {msg}\n")
    sys.stderr.flush()


def _need(module: str, extra: str):
    """Import ``module`` or stop with a message naming the pip extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ScenarioError(
            f"executor = {extra} is not allowed here: {module} is not installed; install it with "
            f"pip install 'negsim[{extra}]' (on this machine and the cluster's workers)"
        ) from None


class Engine:
    """A connection to a cluster that steps chunk jobs: ``lanes`` worker threads, and
    :meth:`run_chunks`, which yields ``(lo, hi, result)`` as each chunk finishes."""

    name = ""

    def __init__(self, address: str | None, started: bool):
        self.address, self.started = address, started

    @property
    def lanes(self) -> int:
        """Chunks the cluster steps at once (its worker threads or CPUs)."""
        raise NotImplementedError

    def run_chunks(self, jobs: Iterator[Job], fn: Callable) -> Iterator[tuple[int, int, Any]]:
        """Run ``fn(job)`` for every ``(lo, hi, job)`` on the workers; yield as each finishes."""
        raise NotImplementedError

    def close(self) -> None:
        """Disconnect (and stop the cluster if this process started it)."""


#: loggers of a local Dask cluster that report every start and stop at INFO
_DASK_LOGGERS = (
    "distributed.scheduler",
    "distributed.nanny",
    "distributed.core",
    "distributed.worker",
    "distributed.http.proxy",
    "distributed.batched",  # "Batched Comm Closed" with a traceback, as the cluster closes at exit
)


class DaskEngine(Engine):
    """Dask distributed: a :class:`distributed.Client` of a named scheduler or of a
    :class:`distributed.LocalCluster` started here."""

    name = "dask"

    def __init__(self, address: str | None):
        distributed = _need("distributed", "dask")
        import dask

        where = (
            address or os.environ.get("DASK_SCHEDULER_ADDRESS") or dask.config.get("scheduler-address", None)
        )
        self.cluster = None
        if where:
            try:
                self.client = distributed.Client(where, set_as_default=False)
            except (OSError, TimeoutError) as e:
                raise ScenarioError(
                    f"executor_address = {where!r} cannot be reached ({type(e).__name__}: {e}); expected "
                    "the address of a running Dask scheduler (start one with `dask scheduler` and "
                    "workers with `dask worker tcp://HOST:8786`)"
                ) from None
            _note(f"running the chunks on the Dask cluster at {where}")
        else:
            n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            # the workers' and the scheduler's own log lines (every start and stop; a heartbeat lost
            # while the cluster closes) stay quiet; an error in a chunk comes back with the chunk.
            # LocalCluster restores the logging level while it closes, hence the named loggers.
            for name in _DASK_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            # Its worker processes import the main script first (sim.running.spawning); where they
            # cannot, the local cluster's workers are threads of this process (same results).
            problem = spawn_problem()
            self.cluster = distributed.LocalCluster(
                n_workers=1 if problem else n,
                threads_per_worker=n if problem else 1,
                processes=not problem,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
            self.client = distributed.Client(self.cluster, set_as_default=False)
            where = self.cluster.scheduler_address
            kind = (
                f"{n} threads of this process, since the main script {problem}"
                if problem
                else (f"{n} worker processes of 1 thread")
            )
            _note(
                f"no Dask cluster named (executor_address, DASK_SCHEDULER_ADDRESS): started a local one "
                f"at {where} with {kind}; kept while this process lives"
            )
        super().__init__(where, self.cluster is not None)

    @property
    def lanes(self) -> int:
        n = sum(self.client.nthreads().values())
        if n < 1:
            try:
                self.client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ScenarioError(
                    f"executor_address = {self.address!r} has no workers after 60 s: start some with "
                    f"`dask worker {self.address} --nthreads 1`"
                ) from None
            n = sum(self.client.nthreads().values())
        return max(1, n)

    def run_chunks(self, jobs: Iterator[Job], fn: Callable) -> Iterator[tuple[int, int, Any]]:
        from distributed import as_completed

        limit = IN_FLIGHT_PER_LANE * self.lanes
        pending: dict = {}
        done = as_completed(loop=self.client.loop)

        def top_up() -> None:
            while len(pending) < limit:
                nxt = next(jobs, None)
                if nxt is None:
                    return
                fut = self.client.submit(fn, nxt[2], pure=False)
                pending[fut] = nxt[:2]
                done.add(fut)

        try:
            top_up()
            for fut in done:
                lo, hi = pending.pop(fut)
                result = fut.result()
                fut.release()
                top_up()
                yield lo, hi, result
        finally:
            if pending:
                self.client.cancel(list(pending))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class RayEngine(Engine):
    """Ray: ``ray.init`` at the address (or ``RAY_ADDRESS``), or a local Ray started here."""

    name = "ray"

    def __init__(self, address: str | None):
        ray = _need("ray", "ray")
        self.ray = ray
        where = address or os.environ.get("RAY_ADDRESS")
        running = ray.is_initialized()
        if not running:
            try:
                ray.init(address=where, log_to_driver=False, include_dashboard=False if not where else None)
            except (ConnectionError, OSError, TimeoutError, RuntimeError) as e:
                raise ScenarioError(
                    f"executor_address = {where!r} cannot be reached ({type(e).__name__}: {e}); expected "
                    "the address of a running Ray cluster (start one with `ray start --head`)"
                ) from None
        if running:
            _note("running the chunks on the Ray that this process had already started or joined")
        elif where:
            _note(f"running the chunks on the Ray cluster at {where}")
        else:
            _note(
                "no Ray cluster named (executor_address, RAY_ADDRESS): started a local one for this process"
            )
        super().__init__(where, not where and not running)
        self._remote: dict = {}

    @property
    def lanes(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def run_chunks(self, jobs: Iterator[Job], fn: Callable) -> Iterator[tuple[int, int, Any]]:
        ray = self.ray
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = ray.remote(num_cpus=1)(fn)
        limit = IN_FLIGHT_PER_LANE * self.lanes
        pending: dict = {}
        try:
            while True:
                while len(pending) < limit:
                    nxt = next(jobs, None)
                    if nxt is None:
                        break
                    pending[remote.remote(nxt[2])] = nxt[:2]
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    lo, hi = pending.pop(ref)
                    yield lo, hi, ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        self.ray.shutdown()


_ENGINES: dict[tuple[str, str | None], Engine] = {}


def connect(executor: str, address: str | None = None) -> Engine | None:
    """The engine of ``executor`` (None for ``"local"``), connected once per process and kept.

    Raises:
        ScenarioError: an unknown executor, an engine that is not installed (naming the pip
            extra) or a cluster that cannot be reached (naming the address).
    """
    from sim.inputs.settings import check_executor, check_run_setting

    executor = check_run_setting("executor", executor)
    address = check_run_setting("executor_address", address)
    check_executor(executor, address)
    if executor == "local":
        return None
    key = (executor, address)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = (DaskEngine if executor == "dask" else RayEngine)(address)
    return engine


def describe(executor: str, address: str | None = None) -> dict[str, Any]:
    """What stepped a run's chunks, for its manifest: the executor, the scheduler's address it
    reached (given, from the environment, or of the local cluster started here) and whether
    this process started that cluster."""
    engine = _ENGINES.get((executor, address))
    if engine is None:
        return {"executor": executor, "executor_address": address}
    return {"executor": executor, "executor_address": engine.address, "executor_started_here": engine.started}


def shutdown_engines(executor: str | None = None) -> None:
    """Close every connection this process opened (or those of ``executor``), and the local
    clusters it started."""
    for key in [k for k in _ENGINES if executor in (None, k[0])]:
        engine = _ENGINES.pop(key)
        try:
            engine.close()
        except Exception:  # at exit, a cluster already gone is not an error
            pass


atexit.register(shutdown_engines)
