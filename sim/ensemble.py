"""Running an ensemble: ``run(scenario, worlds, days, seed, params, record) -> Results``.

Worlds are stepped in chunks so that arrays stay cache-sized; chunks start on multiples of the
random-stream group size and every world draws from its own stream, so results do not depend on
the chunk size.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from .kernel import run_chunk
from .outcomes import Results, series_table
from .params import build_params
from .rng import GROUP
from .scenario import load_scenario
from .schema import Scenario, ScenarioError

RECORD = ("none", "monthly", "daily")
DEFAULT_CHUNK_WORLDS = 4096


def _check_run_args(worlds, days, seed, record, chunk_worlds) -> None:
    for name, value, lo in (("worlds", worlds, 1), ("days", days, 1), ("chunk_worlds", chunk_worlds, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ScenarioError(f"{name} = {value!r} is not allowed: expected a whole number of at least {lo}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"seed = {seed!r} is not allowed: expected a whole number of at least 0")
    if record not in RECORD:
        raise ScenarioError(f"record = {record!r} is not allowed: expected one of {list(RECORD)}")


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


def _run_job(job):
    p, seed, start, days, record = job
    return run_chunk(p, seed, start, days, record)


def run(scenario: str | Path | Scenario, worlds: int = 1000, days: int = 730, seed: int = 0,
        params: pd.DataFrame | None = None, record: str = "none",
        chunk_worlds: int = DEFAULT_CHUNK_WORLDS, first_world: int = 0,
        progress: bool = False, workers: int = 1) -> Results:
    """Run ``worlds`` possible histories of a scenario, all at once.

    Args:
        scenario: a shipped scenario name, a YAML path, or a loaded :class:`Scenario`.
        worlds: number of worlds.
        days: horizon in days (one step is one day).
        seed: seed of the run; world ``i`` always draws from the same stream for a given seed.
        params: optional per-world parameters, one row per world, columns are dotted scenario
            fields (``state.delivery_reliability``); each world runs with its own values.
        record: ``"none"``, ``"monthly"`` or ``"daily"`` series in ``Results.timeseries``.
        chunk_worlds: worlds stepped together (memory and speed only; results are identical).
        first_world: index of the first world (to split a run across processes).
        progress: show a progress bar.
        workers: processes to spread the chunks over (results are identical for any number).

    Returns:
        :class:`~sim.outcomes.Results` with one row per world.

    Raises:
        ScenarioError: for a bad scenario, parameter table or run setting.
    """
    _check_run_args(worlds, days, seed, record, chunk_worlds)
    if isinstance(first_world, bool) or not isinstance(first_world, (int, np.integer)) or first_world < 0:
        raise ScenarioError(f"first_world = {first_world!r} is not allowed: expected a whole number of at least 0")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ScenarioError(f"workers = {workers!r} is not allowed: expected a whole number of at least 1")
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    p = build_params(s, worlds, params)
    bounds = chunk_bounds(worlds, first_world, chunk_worlds)
    jobs = [(p.slice(lo, hi), seed, first_world + lo, days, record) for lo, hi in bounds]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=worlds, unit="world", unit_scale=True, desc=s.name or "run")
    tables, series_parts = [], []
    try:
        if workers == 1 or len(jobs) == 1:
            done = map(_run_job, jobs)
        else:
            pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=mp.get_context("spawn"))
            done = pool.map(_run_job, jobs)
        for (lo, hi), (table, series) in zip(bounds, done):
            tables.append(table)
            if series is not None:
                series_parts.append(series_table(series, table["world"].to_numpy(), s.start, record))
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
        if workers > 1 and len(jobs) > 1:
            pool.shutdown(cancel_futures=True)
    worlds_df = pd.concat(tables, ignore_index=True)
    ts = None
    if series_parts:
        # Rows by world, then time, whatever the chunking.
        ts = pd.concat(series_parts, ignore_index=True)
        ts = ts.sort_values(["world", "day" if record == "daily" else "month"], kind="stable",
                            ignore_index=True)
    return Results(worlds=worlds_df, timeseries=ts, scenario=s.name, seed=int(seed), days=int(days),
                   params=params)
