"""The shipped posterior sample of the behavioural parameters and the per-world table it gives.

``conf/posterior.parquet`` is written by the calibration (``negsim-calibrate``, see
:mod:`sim.explore.calibration`) beside ``conf/behaviour.yaml``: a few hundred equal-weight
particles drawn by systematic resampling from the approximate Bayesian computation posterior
(Lenormand, Jabot and Deffuant 2013), one column per calibrated behavioural field and
``particle`` (0 .. P-1). ``sim.run(..., behaviour="posterior")`` gives every world one particle
through :func:`posterior_params`, so that an ensemble carries the parameter uncertainty the
episodes leave, not only the point estimate of ``conf/behaviour.yaml``.

Which particle a world gets: world ``w`` runs with particle ``perm[w % P]``, where ``perm`` is a
permutation of the P particles drawn from a stream of its own (``SeedSequence([seed,
PARTICLE_STREAM])``, apart from the worlds' simulation streams). So the particle depends only on
the seed and the world index (never on chunks or processes), and a run of ``worlds`` worlds gives
every particle ``worlds // P`` or ``worlds // P + 1`` worlds (exactly ``worlds / P`` when
``worlds`` is a multiple of P). A credible interval across particles (see
:func:`sim.report.effects.effects`) needs several worlds per particle: run a multiple of P worlds,
e.g. ``10 * P``. The permutation keeps a run of fewer than P worlds a random subsample of the
posterior rather than its first particles.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs.fields import lookup
from sim.inputs.scenarios import BEHAVIOUR_FILE, behaviour_defaults
from sim.inputs.schema import Behaviour, Scenario, ScenarioError

__all__ = ["POSTERIOR_FILE", "PARTICLE_STREAM", "load_posterior", "assign_particles", "posterior_params"]

POSTERIOR_FILE = BEHAVIOUR_FILE.parent / "posterior.parquet"
"""The shipped posterior sample (``conf/posterior.parquet``), written by ``negsim-calibrate``."""

PARTICLE_STREAM = 0x504F5354
"""Second entropy word of the particle assignment's SeedSequence (ASCII "POST"): the permutation
of particles never shares numbers with a world's simulation stream (``SeedSequence(seed,
spawn_key=(group,))``, :mod:`sim.core.streams`)."""


class PosteriorMissingError(FileNotFoundError, ScenarioError):
    """The posterior sample file is missing: a ``FileNotFoundError`` for the API, and a
    ``ScenarioError`` so that the command line prints the message and exits with status 2."""


def load_posterior(path: str | Path | None = None) -> pd.DataFrame:
    """The posterior sample: one row per particle, one column per calibrated behavioural field
    (values as floats), ``particle`` (0 .. P-1) as the index-like first column.

    Args:
        path: a Parquet file; default :data:`POSTERIOR_FILE`.

    Raises:
        PosteriorMissingError: the file is missing (a ``FileNotFoundError`` naming it and the
            command that writes it).
        ScenarioError: a column is not a behavioural field, a value is missing or outside the
            field's schema range, or ``particle`` is not 0 .. P-1.
    """
    path = Path(path) if path is not None else POSTERIOR_FILE
    if not path.is_file():
        raise PosteriorMissingError(
            f"the posterior sample {path} is missing: it is written by the calibration "
            "(negsim-calibrate, beside conf/behaviour.yaml); reinstall negsim or rerun that command"
        )
    df = pd.read_parquet(path)
    names = {f.name for f in dataclasses.fields(Behaviour)}
    bad = [c for c in df.columns if c != "particle" and c not in names]
    if bad:
        raise ScenarioError(
            f"{path.name}: column {bad[0]!r} is not allowed: expected fields of behaviour "
            f"(sim.inputs.schema.Behaviour) and 'particle'"
        )
    if len(df) == 0 or len(df.columns) < 2:
        raise ScenarioError(
            f"{path.name}: holds no particles or no parameters; expected at least one of each"
        )
    if "particle" not in df.columns or not np.array_equal(df["particle"].to_numpy(), np.arange(len(df))):
        raise ScenarioError(f"{path.name}: column 'particle' must number the rows 0 .. {len(df) - 1}")
    for c in df.columns.drop("particle"):
        _check_column(path.name, c, df[c])
    out = df.astype({c: float for c in df.columns if c != "particle"})
    return out.astype({"particle": np.int64})


def _check_column(file: str, name: str, values: pd.Series) -> None:
    """Every value of column ``name`` is a finite number inside the schema's range."""
    sf = lookup(f"behaviour.{name}")
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    lo = -math.inf if sf.lo is None else sf.lo
    hi = math.inf if sf.hi is None else sf.hi
    bad = np.flatnonzero(~np.isfinite(x) | (x < lo) | (x > hi))
    if len(bad):
        i = int(bad[0])
        raise ScenarioError(
            f"{file}: behaviour.{name} = {values.iloc[i]!r} in particle {i} is not allowed: "
            f"expected {sf.allowed}"
        )


def assign_particles(n_particles: int, worlds: int, seed: int, first_world: int = 0) -> np.ndarray:
    """Particle of each world ``first_world .. first_world + worlds - 1``: ``perm[w % P]`` for a
    permutation ``perm`` of the ``n_particles`` particles seeded by ``seed`` alone (see the module
    doc). The same world gets the same particle in any split of a run."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), PARTICLE_STREAM]))
    perm = rng.permutation(int(n_particles))
    return perm[(int(first_world) + np.arange(int(worlds))) % int(n_particles)].astype(np.int64)


def _scenario_own(scenario: Scenario, names: list[str]) -> list[str]:
    """Calibrated fields the scenario sets itself (its own ``behaviour:`` block or an override):
    those whose value differs from the shipped behaviour file (or the schema default)."""
    shipped = dict(behaviour_defaults().get("behaviour") or {})
    defaults = {f.name: f.default for f in dataclasses.fields(Behaviour)}
    own = []
    for n in names:
        ref = float(shipped.get(n, defaults[n]))
        if not math.isclose(float(getattr(scenario.behaviour, n)), ref, rel_tol=1e-12, abs_tol=0.0):
            own.append(n)
    return own


def posterior_params(
    scenario: Scenario,
    worlds: int,
    seed: int,
    first_world: int = 0,
    path: str | Path | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each world's particle and the per-world parameter table for ``sim.run(params=...)``.

    A behavioural field the scenario sets itself (a value other than the shipped behaviour
    file's, from the scenario's ``behaviour:`` block or an override) keeps the scenario's value:
    as the scenario wins over the shipped set, it wins over the posterior.

    Args:
        scenario: the loaded scenario the worlds run.
        worlds: number of worlds; seed: the run's seed; first_world: index of the first world.
        path: the posterior sample (default :data:`POSTERIOR_FILE`).

    Returns:
        ``(particles, table)``: the particle index of every world (``int64`` array) and a table
        with one row per world and columns ``behaviour.<name>``.

    Raises:
        FileNotFoundError, ScenarioError: see :func:`load_posterior`.
    """
    post = load_posterior(path)
    names = [c for c in post.columns if c != "particle"]
    keep = [n for n in names if n not in _scenario_own(scenario, names)]
    particles = assign_particles(len(post), worlds, seed, first_world)
    table = pd.DataFrame(
        post[keep].to_numpy()[particles].reshape(len(particles), len(keep)),
        columns=[f"behaviour.{n}" for n in keep],
    )
    return particles, table
