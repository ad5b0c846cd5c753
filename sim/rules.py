"""Rule helpers shared by every actor: clipping, hazards, counts.

All functions work on NumPy scalars and arrays of any shape alike, so the Mesa agents (one actor
at a time) and the ensemble kernel (``[worlds, actors]`` arrays) run the same arithmetic.
"""

from __future__ import annotations

import numpy as np


def clip01(x):
    """Clamp to the unit interval (shares and probabilities)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def happens(u, probability):
    """An event with the given probability, decided by the uniform draw ``u``."""
    return u < probability


def poisson_count(u, rate):
    """A Poisson count with mean ``rate`` by inverting its CDF at the uniform ``u``.

    Inversion keeps one uniform per count, so a world's counts do not depend on any other world.
    The loop runs until every cell is resolved (a handful of terms for daily attack rates).
    """
    rate = np.asarray(rate, dtype=float)
    u = np.asarray(u, dtype=float)
    p = np.exp(-rate)
    cdf = p.copy()
    count = np.zeros(np.broadcast(u, rate).shape)
    k = 0
    pending = u >= cdf
    while np.any(pending) and k < 200:
        k += 1
        p = p * (rate / k)
        cdf = cdf + p
        count = count + pending
        pending = pending & (u >= cdf)
    return count


def weighted_mean(values, weights, axis=-1):
    """Mean of ``values`` weighted by ``weights`` along the actor axis (0 when weights are all 0)."""
    total = np.sum(weights, axis=axis, keepdims=True)
    return np.sum(values * weights, axis=axis, keepdims=True) / np.maximum(total, 1e-12)


def decay_factor(half_life_days):
    """Daily multiplier of a quantity with the given half-life in days."""
    return np.power(0.5, 1.0 / np.asarray(half_life_days, dtype=float))
