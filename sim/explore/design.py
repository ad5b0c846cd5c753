"""Sampled designs in one batch, and the model as plain functions for exploratory-modelling tools.

A *design* is a table of parameter points (one row per point, columns are dotted scenario
fields such as ``state.delivery_reliability``). :func:`sample` draws one over named ranges with
``scipy.stats.qmc`` (Latin hypercube, scrambled Sobol) or lays out a full grid;
:func:`run_design` runs N points x M worlds as ONE vectorized batch (each world carries its
point's values, see :mod:`sim.inputs.params`; the batch is stepped in cache-sized chunks) and returns
the same shape as a collected sweep (:mod:`sim.explore.sweep`): one row per (job, world), ``job`` being
the point, the point's values as columns, then the outcome columns. :func:`job_summary` reduces
it to one row per job.

For tools that drive a model as a function (the EMA Workbench, SALib, optimisers):

- :func:`simulate` ``(**params) -> {outcome: float}``: one point, ``worlds`` worlds;
- :func:`simulate_batch` ``(X[N, D], names) -> {outcome: array[N]}``: N points in one batch.

Parameter names are dotted scenario fields; ``__`` may stand for the dot
(``state__delivery_reliability``) where a tool needs identifiers. Outcomes are named as in
:mod:`sim.running.reductions`: an outcome column reduced to its mean over worlds (a yes/no column to a
share), ``survives_N`` (share of first ceasefires lasting N days or more) or ``lasts_past_N``.

Seeds: point ``i`` of a batch runs worlds ``i*M .. i*M + M - 1`` of the seed (each world has its
own random stream), so point 0 of :func:`simulate_batch` equals :func:`simulate` with the same
seed, and other points see other (equally valid) worlds.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.explore import analysis
from sim.explore.sweep_table import BOOKKEEPING
from sim.inputs.scenarios import load_scenario
from sim.inputs.schema import Scenario, ScenarioError
from sim.running.reductions import outcome as outcome_spec

__all__ = [
    "METHODS",
    "DEFAULT_OUTCOMES",
    "sample",
    "run_design",
    "expand",
    "design_table",
    "job_summary",
    "simulate",
    "simulate_batch",
]

METHODS = ("lhs", "sobol", "grid")
#: outcomes returned by :func:`simulate` and :func:`simulate_batch` unless told otherwise
DEFAULT_OUTCOMES = (
    "ceasefire_reached",
    "survives_90",
    "ceasefire_days",
    "ttp_attacks",
    "spoiler_attacks",
    "casualties",
)


@functools.lru_cache(maxsize=16)
def _shipped(name: str) -> Scenario:
    return load_scenario(name)


def _scenario(scenario: str | Path | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str) and "/" not in scenario and not scenario.endswith(".yaml"):
        return _shipped(scenario)  # a shipped scenario, loaded once per process
    return load_scenario(scenario)


def _path(name: str) -> str:
    return str(name).replace("__", ".")


def sample(
    ranges: Mapping[str, Sequence[float]],
    n: int = 64,
    method: str = "lhs",
    seed: int = 0,
    scenario: str | Path | Scenario = "kabul_2022",
    levels: int | None = None,
) -> pd.DataFrame:
    """A design over named ranges: one row per point, one column per field.

    Args:
        ranges: ``{field path: (low, high)}``, checked against the scenario's tunable fields.
        n: number of points (``lhs``, ``sobol``; a power of 2 keeps a Sobol sequence balanced).
        method: ``lhs`` (Latin hypercube), ``sobol`` (scrambled Sobol) or ``grid`` (full
            factorial with ``levels`` evenly spaced values per field, default about
            ``n ** (1 / fields)``).
        seed: seed of the sampler.
        scenario: whose fields the ranges refer to; integer fields are rounded.
    """
    from scipy.stats import qmc

    if method not in METHODS:
        raise ScenarioError(
            f"design method = {method!r} is not allowed: expected one of {', '.join(METHODS)}"
        )
    s = _scenario(scenario)
    names, bounds = analysis._check_ranges(s, {_path(k): v for k, v in ranges.items()})
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    d = len(names)
    if method == "grid":
        k = int(levels) if levels is not None else max(2, int(round(int(n) ** (1.0 / d))))
        if k < 1:
            raise ScenarioError(
                f"design levels = {levels!r} is not allowed: expected a whole number of at least 1"
            )
        points = analysis.grid(
            {
                name: np.linspace(a, b, k) if k > 1 else [(a + b) / 2]
                for name, a, b in zip(names, lo, hi, strict=False)
            }
        )
    else:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ScenarioError(
                f"design points = {n!r} is not allowed: expected a whole number of at least 1"
            )
        rng = np.random.default_rng(seed)
        if method == "lhs":
            unit = qmc.LatinHypercube(d=d, rng=rng).random(int(n))
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*balance properties.*")
                unit = qmc.Sobol(d=d, scramble=True, rng=rng).random(int(n))
        points = pd.DataFrame(qmc.scale(unit, lo, hi), columns=names)
    return analysis._round_integers(s, points)


def expand(points: pd.DataFrame, worlds_per_point: int) -> pd.DataFrame:
    """The per-world parameter table of a design: each point repeated ``worlds_per_point``
    times, points one after the other."""
    pts = points.reset_index(drop=True)
    return pts.loc[pts.index.repeat(worlds_per_point)].reset_index(drop=True)


def design_table(points: pd.DataFrame, worlds_per_point: int, worlds: pd.DataFrame) -> pd.DataFrame:
    """One row per (job, world) from a design and the outcome table of its batch, in the shape
    of a collected sweep: ``job`` (the point), the point's values, then the outcome columns."""
    job = pd.DataFrame({"job": np.repeat(np.arange(len(points), dtype=np.int64), worlds_per_point)})
    return pd.concat([job, expand(points, worlds_per_point), worlds.reset_index(drop=True)], axis=1)


def run_design(
    scenario: str | Path | Scenario,
    points: pd.DataFrame,
    worlds_per_point: int,
    days: int = 730,
    seed: int = 0,
    **run_kwargs: Any,
) -> pd.DataFrame:
    """Run every point of a design ``worlds_per_point`` times as one batch.

    ``run_kwargs`` go to :func:`sim.run` (``chunk_worlds``, ``workers``, ``progress``,
    ``record``). Returns the sweep-shaped table of :func:`design_table` (``attrs`` carry the
    scenario, seed, days and worlds per point).
    """
    table = analysis.run_points(
        _scenario(scenario), points, worlds_per_point, days=days, seed=seed, **run_kwargs
    )
    out = table.rename(columns={"point": "job"})
    out["job"] = out["job"].astype(np.int64)
    out.attrs.update(table.attrs)
    return out


def _specs(outcomes: Sequence[str] | None):
    return [outcome_spec(o) for o in (outcomes or DEFAULT_OUTCOMES)]


def job_summary(table: pd.DataFrame, outcomes: Sequence[str] | None = None, by: str = "job") -> pd.DataFrame:
    """One row per job of a sweep-shaped table: the job's swept values, ``worlds``, each
    outcome (mean, share or ``survives_N``) and the median first-ceasefire duration."""
    from sim.core.outcomes import OUTCOME_COLUMNS

    jobs = np.sort(table[by].unique())
    codes = np.searchsorted(jobs, table[by].to_numpy())
    keep = [c for c in table.columns if c == by or (c not in OUTCOME_COLUMNS and c not in BOOKKEEPING)]
    first = (
        table.groupby(by, sort=True)[keep[1:]].first().reset_index()
        if len(keep) > 1
        else pd.DataFrame({by: jobs})
    )
    first["worlds"] = np.bincount(codes, minlength=len(jobs))
    for spec in _specs(outcomes):
        first[spec.name], _ = spec.per_group(table, codes, len(jobs))
    reached = table[table["ceasefire_reached"].astype(bool)]
    med = reached.groupby(by)["ceasefire_days"].median()
    first["ceasefire_days_median"] = first[by].map(med).astype(float)
    return first


def simulate(
    scenario: str | Path | Scenario = "kabul_2022",
    *,
    worlds: int = 1000,
    days: int = 730,
    seed: int = 0,
    outcomes: Sequence[str] | None = None,
    **params: float,
) -> dict[str, float]:
    """The model as a plain function: keyword parameters in, a dict of scalar outcomes out.

    Example::

        simulate(worlds=500, **{"state.delivery_reliability": 0.3})
        simulate(worlds=500, state__delivery_reliability=0.3, mediators__haqqani__leverage_share=0.6)

    Args:
        scenario: shipped name (loaded once per process), YAML path or loaded scenario.
        worlds, days, seed: run settings.
        outcomes: names (default :data:`DEFAULT_OUTCOMES`).
        **params: scenario field values (dotted paths, or ``__`` for the dots).
    """
    from sim.running.ensemble import run

    s = _scenario(scenario)
    table = pd.DataFrame({_path(k): np.full(worlds, v) for k, v in params.items()}) if params else None
    res = run(s, worlds=worlds, days=days, seed=seed, params=table)
    return {spec.name: spec.value(res.worlds) for spec in _specs(outcomes)}


def simulate_batch(
    X: np.ndarray,
    names: Sequence[str],
    scenario: str | Path | Scenario = "kabul_2022",
    *,
    worlds_per_point: int = 100,
    days: int = 730,
    seed: int = 0,
    outcomes: Sequence[str] | None = None,
    **run_kwargs: Any,
) -> dict[str, np.ndarray]:
    """The model as a batch function: a 2-D parameter array in, outcome arrays out.

    Args:
        X: ``[N, D]`` parameter values, one row per point.
        names: the D field paths (dotted, or ``__`` for the dots).
        worlds_per_point: worlds each point gets; all ``N * worlds_per_point`` run as one batch.
        run_kwargs: to :func:`sim.run` (``chunk_worlds``, ``workers``, ``progress``).

    Returns:
        ``{outcome: array[N]}`` (NaN where an outcome has no value, e.g. ``survives_90`` at a
        point where no world reached a ceasefire).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise ScenarioError(
            f"X has shape {X.shape}, which is not allowed: expected [points, "
            f"{len(names)}] (one column per name)"
        )
    s = _scenario(scenario)
    points = analysis._round_integers(s, pd.DataFrame(X, columns=[_path(n) for n in names]))
    table = analysis.run_points(s, points, worlds_per_point, days=days, seed=seed, **run_kwargs)
    codes = table["point"].to_numpy()
    return {spec.name: spec.per_group(table, codes, len(points))[0] for spec in _specs(outcomes)}
