"""The Poisson count's shortcut for small rates gives exactly the counts of the full inversion."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.core.compiled import SHORTCUT_RATE, poisson_count


@njit(cache=False)
def _full_inversion(u, rate):
    # The inversion of the CDF without any shortcut (the reference).
    p = math.exp(-rate)
    cdf = p
    k = 0
    while u >= cdf and k < 200:
        k += 1
        p = p * (rate / k)
        cdf = cdf + p
    return float(k)


@njit(cache=False)
def _mismatches(us, rates):
    bad = 0
    for i in range(us.shape[0]):
        if poisson_count(us[i], rates[i]) != _full_inversion(us[i], rates[i]):
            bad += 1
    return bad


def _edges(rates: np.ndarray) -> np.ndarray:
    """Uniforms on and one step either side of each rate's CDF after 0 and 1 events."""
    p = np.exp(-rates)
    c1 = p + p * rates
    out = [np.nextafter(x, d) for x in (p, c1) for d in (0.0, 2.0)]
    return np.concatenate([p, c1, *out])


def test_the_shortcut_gives_the_counts_of_the_full_inversion():
    rng = np.random.default_rng(0)
    rates = np.concatenate(
        [rng.uniform(0.0, 1.0, 200_000), rng.uniform(0.0, 1e-3, 50_000), [0.0, SHORTCUT_RATE, 1.0]]
    )
    us = rng.random(rates.size)
    assert _mismatches(us, rates) == 0
    edge_rates = np.tile(rates[:20_000], 6)
    assert _mismatches(_edges(rates[:20_000]), edge_rates) == 0


def test_counts_of_zero_one_and_more_all_occur():
    # The check above is only worth something if it meets every branch of the shortcut.
    rng = np.random.default_rng(1)
    rates = np.full(20_000, 0.4)
    counts = np.array([poisson_count(u, r) for u, r in zip(rng.random(rates.size), rates, strict=True)])
    assert {0.0, 1.0, 2.0} <= set(counts)
    assert abs(counts.mean() - 0.4) < 0.03
