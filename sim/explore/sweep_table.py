"""The shape of a collected sweep's tables, shared by collecting, summarising and plotting.

Kept apart from :mod:`sim.explore.sweep` (which needs Hydra) so that :mod:`sim.explore.design`
and the figures of :mod:`sim.report.saved_runs` can read it without importing the sweep
machinery.
"""

from __future__ import annotations

SWEEP_FILE = "sweep.parquet"
"""One row per (job, world) of a collected sweep (see :func:`sim.explore.sweep.collect`)."""

JOBS_FILE = "jobs.parquet"
"""One row per job of a collected sweep."""

BOOKKEEPING = frozenset(
    {
        "job",
        "job_id",
        "point",
        "world",
        "seed",
        "run",
        "run_dir",
        "dir",
        "path",
        "task",
        "overrides",
        "worlds",
        "days",
        "record",
        "chunk_worlds",
        "first_world",
    }
)
"""Columns of a collected sweep that say which job a row came from, not what was swept."""
