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
    Only cells with at least one event enter the loop, which runs until every cell is resolved
    (a handful of terms for daily attack rates).
    """
    rate, u = np.broadcast_arrays(np.asarray(rate, dtype=float), np.asarray(u, dtype=float))
    p0 = np.exp(-rate)
    count = np.zeros(rate.shape)
    busy = np.flatnonzero(u >= p0)
    if busy.size:
        r, uu, p = rate.reshape(-1)[busy], u.reshape(-1)[busy], p0.reshape(-1)[busy]
        cdf, n, k = p.copy(), np.zeros(busy.size), 0
        pending = np.ones(busy.size, dtype=bool)
        while k < 200:
            k += 1
            n = n + pending
            p = p * (r / k)
            cdf = cdf + p
            pending = pending & (uu >= cdf)
            if not pending.any():
                break
        count.reshape(-1)[busy] = n
    return count


def weighted_mean(values, weights):
    """Mean of ``values`` weighted by ``weights`` along the actor axis (0 when weights are all 0)."""
    return total(values * weights) / np.maximum(total(weights), 1e-12)


def decay_factor(half_life_days):
    """Daily multiplier of a quantity with the given half-life in days."""
    return np.power(0.5, 1.0 / np.asarray(half_life_days, dtype=float))


# Reductions over the actor axis (the last one). Actor counts are small (a handful of factions),
# where NumPy's reduce machinery costs more than adding the columns; adding them left to right
# also fixes the order of the additions, so every caller gets the same floating-point sum.

def total(x):
    """Sum over the actor axis, keeping it (``[..., n] -> [..., 1]``)."""
    x = np.asarray(x)
    n = x.shape[-1]
    if n == 0:
        return np.zeros(x.shape[:-1] + (1,))
    out = x[..., 0:1] + 0.0 if x.dtype != bool else x[..., 0:1].astype(float)
    for i in range(1, n):
        out = out + x[..., i:i + 1]
    return out


def any_of(x):
    """Whether any actor has the flag, keeping the actor axis (``[..., n] -> [..., 1]``)."""
    x = np.asarray(x)
    out = np.zeros(x.shape[:-1] + (1,), dtype=bool)
    for i in range(x.shape[-1]):
        out = out | x[..., i:i + 1]
    return out


def all_of(x):
    """Whether every actor has the flag, keeping the actor axis."""
    x = np.asarray(x)
    out = np.ones(x.shape[:-1] + (1,), dtype=bool)
    for i in range(x.shape[-1]):
        out = out & x[..., i:i + 1]
    return out


def largest(x):
    """Largest value over the actor axis, keeping it (0 when there are no actors)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape[:-1] + (1,))
    for i in range(x.shape[-1]):
        out = np.maximum(out, x[..., i:i + 1])
    return out
