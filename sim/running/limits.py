"""Limits before work: a run's memory estimated from its size and refused when it would not fit.

:func:`estimate_memory` adds up what a run holds at its peak: the chunks stepped at once (each
with its series buffer), the chunk plan, the assembled tables (one row per world; one row per
world and day or month with ``record``) and a fixed cost per worker process. The estimate is
deliberately generous (the tables are counted about three times: the chunks' tables, their
concatenation, the sorted copy). :func:`check_memory` compares it with the memory available
(``MemAvailable`` of ``/proc/meminfo``, else the physical memory) or the ``max_memory`` setting,
and refuses a run that would not fit before anything is allocated, naming the estimate and the
limit. The per-row sizes were measured on ``tests/data/mini.yaml`` (pandas ``memory_usage``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from sim.core.outcomes import OUTCOME_COLUMNS, SERIES
from sim.inputs.schema import Scenario, ScenarioError

#: bytes of one row of the worlds table and of the series table (measured: 160 and 130)
WORLD_ROW_BYTES = 8 * (len(OUTCOME_COLUMNS) + 2)
SERIES_ROW_BYTES = 8 * (len(SERIES) + 3)
#: copies of a table held at once at the peak (chunk tables, concatenation, sorted copy)
TABLE_COPIES = 3
#: kernel state per world and actor while a chunk is stepped (arrays of a few dozen floats)
ACTOR_WORLD_BYTES = 2048
#: bytes per entry of the chunk plan (a tuple of two ints in a list)
CHUNK_ENTRY_BYTES = 200
#: a worker process: the interpreter, NumPy, pandas and the compiled model
WORKER_BYTES = 400 * 1024**2
DAYS_PER_MONTH = 30.4375


def series_rows_per_world(days: int, record: str) -> int:
    """Rows of the series table per world."""
    if record == "daily":
        return days
    if record == "monthly":
        return math.ceil(days / DAYS_PER_MONTH)
    return 0


def estimate_memory(
    s: Scenario, worlds: int, days: int, record: str, chunk_worlds: int, lanes: int, workers: int = 1
) -> int:
    """Bytes a run holds at its peak (see the module's docstring for what is counted)."""
    actors = len(s.factions) + len(s.mediators) + len(s.spoilers) + 1
    rows = series_rows_per_world(days, record)
    in_flight = min(worlds, chunk_worlds * max(lanes, 1))
    chunks = in_flight * (actors * ACTOR_WORLD_BYTES + rows * len(SERIES) * 8)
    plan = math.ceil(worlds / max(chunk_worlds, 1)) * CHUNK_ENTRY_BYTES
    tables = TABLE_COPIES * worlds * (WORLD_ROW_BYTES + rows * SERIES_ROW_BYTES)
    return chunks + plan + tables + max(workers - 1, 0) * WORKER_BYTES


def available_memory() -> tuple[int, str]:
    """Memory this run may use and where the figure comes from."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "memory available on this machine"
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "memory of this machine"
    except (ValueError, OSError, AttributeError):
        return 2**62, "no known limit"


def human_bytes(n: float) -> str:
    """``n`` bytes as text (``1.5 GB``; powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} EB"  # pragma: no cover


def check_memory(
    s: Scenario,
    worlds: int,
    days: int,
    record: str,
    chunk_worlds: int,
    lanes: int,
    workers: int = 1,
    max_memory: int | None = None,
) -> int:
    """Refuse a run whose estimated memory exceeds ``max_memory`` (default: what is available).

    Returns:
        The estimate in bytes.

    Raises:
        ScenarioError: naming worlds, days and record, the estimate and the limit.
    """
    need = estimate_memory(s, worlds, days, record, chunk_worlds, lanes, workers)
    if max_memory is None:
        limit, where = available_memory()
    else:
        limit, where = max_memory, "max_memory setting"
    if need <= limit:
        return need
    fits = int(limit / max(need / max(worlds, 1), 1))
    fewer = f"fewer worlds (about {fits:,} fit)" if fits >= 1 else "fewer days (not even one world fits)"
    raise ScenarioError(
        f"worlds = {worlds:,}, days = {days:,}, record = {record} would need about "
        f"{human_bytes(need)} of memory, more than the {human_bytes(limit)} of the {where}: run "
        f"{fewer}, keep fewer series (record=monthly or none), or split the run into several "
        "seeds" + ("" if max_memory is not None else "; max_memory=SIZE sets another limit")
    )
