"""Counterfactual effects with credible intervals across the posterior's particles.

Run a base scenario and a counterfactual with ``behaviour="posterior"`` and the same seed: world
``w`` of both runs has the same particle (:mod:`sim.inputs.posterior`) and the same random
stream, so the two runs are paired world by world. :func:`effects` measures each outcome per
particle in both runs, takes the difference per particle and summarises the differences across
particles: the posterior median and the 90% equal-tailed credible interval (the particles are
equal-weight draws from the posterior; Gelman et al. 2013, Bayesian Data Analysis, ch. 2.3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["MEASURES", "SURVIVAL_DAYS", "effects", "per_particle"]

SURVIVAL_DAYS = 90
"""A first ceasefire "survives" when it lasts at least this many days."""


def _median_days(w: pd.DataFrame) -> float:
    reached = w["ceasefire_days"][w["ceasefire_reached"].astype(bool)]
    return float(reached.median()) if len(reached) else float("nan")


def _survives(w: pd.DataFrame) -> float:
    """Chance a first ceasefire lasts ``SURVIVAL_DAYS`` days: the Kaplan-Meier estimate (Kaplan
    and Meier 1958; ``scipy.stats.ecdf``) just before that day. A ceasefire still running at the
    horizon is right-censored at its duration: with ``SURVIVAL_DAYS`` days or more it counts as
    surviving, with fewer it counts as at risk until it was censored (never as ended)."""
    reached = w[w["ceasefire_reached"].astype(bool)]
    if not len(reached):
        return float("nan")
    days = reached["ceasefire_days"].to_numpy(dtype=float)
    censored = reached["ceasefire_censored"].to_numpy(dtype=bool)
    km = stats.ecdf(stats.CensoredData(uncensored=days[~censored], right=days[censored]))
    return float(km.sf.evaluate(SURVIVAL_DAYS - 0.5))


def _attacks(w: pd.DataFrame) -> float:
    return float(w["ttp_attacks"].mean()) if len(w) else float("nan")


MEASURES: dict[str, tuple[str, Callable[[pd.DataFrame], float]]] = {
    "ceasefire_days_median": ("median days of the first ceasefire (worlds reaching one)", _median_days),
    "survives_90_days": (
        f"chance a first ceasefire lasts {SURVIVAL_DAYS} days (Kaplan-Meier, censoring at the horizon)",
        _survives,
    ),
    "ttp_attacks_mean": ("TTP attacks over the horizon (mean)", _attacks),
}
"""Measures of :func:`effects`: name -> (meaning, function of one particle's worlds)."""


def per_particle(worlds: pd.DataFrame, particles: np.ndarray) -> pd.DataFrame:
    """Every measure of :data:`MEASURES` per particle: one row per particle that has worlds
    (index ``particle``), columns the measures and ``worlds``."""
    if len(particles) != len(worlds):
        raise ValueError(f"particles has {len(particles)} entries, expected one per world ({len(worlds)})")
    groups = worlds.reset_index(drop=True).groupby(np.asarray(particles), sort=True)
    out = pd.DataFrame({name: groups.apply(fn) for name, (_, fn) in MEASURES.items()})
    out["worlds"] = groups.size()
    out.index.name = "particle"
    return out


def effects(base, alternative, particles: np.ndarray | None = None, level: float = 0.9) -> pd.DataFrame:
    """Effect of a counterfactual, per posterior particle, summarised across particles.

    For each measure of :data:`MEASURES` (median first-ceasefire days, the chance a first
    ceasefire lasts 90 days, mean TTP attacks) the measure is computed per particle in each run
    and differenced (alternative minus base); the table gives the base and alternative values
    (posterior medians across particles), the median difference and its ``level`` credible
    interval across particles, the particles with a defined difference (a particle none of
    whose worlds reaches a ceasefire has no ceasefire measure) and the worlds per particle.

    Monte Carlo noise: with n worlds per particle, each particle's difference is its true
    effect plus simulation noise (for a share p, a standard deviation of about
    sqrt(2 p (1 - p) / n), less when the paired worlds move together; medians of durations are
    noisier still). That noise adds to the spread across particles, so the interval is wider
    than the posterior uncertainty alone, by an amount that shrinks as 1 / sqrt(n): with a few
    worlds per particle it can be mostly noise. Run many worlds per particle (tens at least;
    a multiple of the posterior size, so each particle gets the same number) and compare the
    interval with one from twice the worlds.

    Args:
        base, alternative: :class:`sim.running.results.Results` of the two paired runs (same
            seed and worlds, ``behaviour="posterior"``).
        particles: each world's particle; default ``base.particles`` (which must then equal
            ``alternative.particles``).
        level: credible level of the interval.

    Raises:
        ValueError: the runs are not paired (different worlds or particles) or carry no particles.
    """
    if particles is None:
        particles = base.particles
        if particles is None:
            raise ValueError("base has no particles: run both with behaviour='posterior' or pass particles")
        if alternative.particles is None or not np.array_equal(particles, alternative.particles):
            raise ValueError("base and alternative are not paired: their worlds ran with different particles")
    if len(base.worlds) != len(alternative.worlds):
        raise ValueError(
            f"base has {len(base.worlds)} worlds and alternative {len(alternative.worlds)}: "
            "run both with the same worlds and seed"
        )
    a, b = per_particle(base.worlds, particles), per_particle(alternative.worlds, particles)
    q = [(1 - level) / 2, 0.5, (1 + level) / 2]
    rows = []
    for name, (meaning, _) in MEASURES.items():
        d = (b[name] - a[name]).to_numpy()
        ok = np.isfinite(d)
        lo, mid, hi = np.quantile(d[ok], q) if ok.any() else (np.nan,) * 3
        rows.append(
            {
                "measure": name,
                "meaning": meaning,
                "base": float(np.nanmedian(a[name])) if np.isfinite(a[name]).any() else np.nan,
                "alternative": float(np.nanmedian(b[name])) if np.isfinite(b[name]).any() else np.nan,
                "effect": float(mid),
                "effect_lo": float(lo),
                "effect_hi": float(hi),
                "particles": int(ok.sum()),
                "worlds_per_particle": float(a["worlds"].median()),
            }
        )
    return pd.DataFrame(rows)
