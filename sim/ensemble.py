"""Running an ensemble: ``run(scenario, worlds, days, seed, params, record) -> Results``.

Worlds are stepped in chunks so that arrays stay cache-sized; chunks start on multiples of the
random-stream group size and every world draws from its own stream, so results do not depend on
the chunk size.
"""

from __future__ import annotations

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


def run(scenario: str | Path | Scenario, worlds: int = 1000, days: int = 730, seed: int = 0,
        params: pd.DataFrame | None = None, record: str = "none",
        chunk_worlds: int = DEFAULT_CHUNK_WORLDS, first_world: int = 0,
        progress: bool = False) -> Results:
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

    Returns:
        :class:`~sim.outcomes.Results` with one row per world.

    Raises:
        ScenarioError: for a bad scenario, parameter table or run setting.
    """
    _check_run_args(worlds, days, seed, record, chunk_worlds)
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    p = build_params(s, worlds, params)
    step = max(GROUP, (chunk_worlds // GROUP) * GROUP)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=worlds * days, unit="world-day", unit_scale=True, desc=s.name or "run")
    tables, series_parts = [], []
    try:
        lo = 0
        while lo < worlds:
            # Chunks end on group boundaries of the global world index.
            hi = min(worlds, ((first_world + lo) // GROUP) * GROUP + step - first_world)
            n = hi - lo
            on_day = (lambda _d, n=n: bar.update(n)) if bar is not None else None
            table, series = run_chunk(p.slice(lo, hi), seed, first_world + lo, days, record, on_day)
            tables.append(table)
            if series is not None:
                series_parts.append(series_table(series, table["world"].to_numpy(), s.start, record))
            lo = hi
    finally:
        if bar is not None:
            bar.close()
    worlds_df = pd.concat(tables, ignore_index=True)
    ts = pd.concat(series_parts, ignore_index=True) if series_parts else None
    return Results(worlds=worlds_df, timeseries=ts, scenario=s.name, seed=int(seed), days=int(days),
                   params=params)
