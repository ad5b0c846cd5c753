"""Rule helpers shared by every actor: clipping, events, counts.

Every rule of the model is a small function compiled with Numba (``@rule``) that works on plain
numbers. The Mesa agents call these functions for one actor; the ensemble kernel calls the very
same compiled functions inside its loop over worlds and actors. Arithmetic is IEEE (no fast-math),
so both ways give identical results.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

rule = njit(cache=True, nogil=True, error_model="numpy", inline="always")
"""Decorator for a model rule: compiled, cached on disk, exact IEEE arithmetic."""


@rule
def clip01(x):
    """Clamp to the unit interval (shares and probabilities)."""
    return min(max(x, 0.0), 1.0)


@rule
def happens(u, probability):
    """An event with the given probability, decided by the uniform draw ``u``."""
    return u < probability


@rule
def poisson_count(u, rate):
    """A Poisson count with mean ``rate``, by inverting its CDF at the uniform ``u``.

    One uniform per count keeps a world's counts independent of any other world. Since
    ``exp(-rate) >= 1 - rate``, a draw below ``1 - rate`` is a zero without computing the CDF.
    """
    if u < 1.0 - rate:
        return 0.0
    p = math.exp(-rate)
    cdf = p
    k = 0
    while u >= cdf and k < 200:
        k += 1
        p = p * (rate / k)
        cdf = cdf + p
    return float(k)


@rule
def share_of(part, whole):
    """``part / whole``, or 0 when the whole is empty."""
    return part / whole if whole > 0.0 else 0.0


def decay_factor(half_life_days):
    """Daily multiplier of a quantity with the given half-life in days."""
    return np.power(0.5, 1.0 / np.asarray(half_life_days, dtype=float))
