"""Rule helpers shared by every actor: clipping, events, counts.

Every rule of the model is a small function compiled with Numba (``@rule``) that works on plain
numbers. The Mesa agents call these functions for one actor; the ensemble kernel calls the very
same compiled functions inside its loop over worlds and actors. Arithmetic is IEEE (no fast-math),
so both ways give identical results.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numba
import numpy as np
from numba import njit

_PACKAGE = Path(__file__).resolve().parent
_RULE_SOURCES = ("compiled.py", "types.py", "table.py", "outcomes.py", "registry.py", "schedule.py",
                 "kernel.py",
                 "actors/state.py", "actors/faction.py", "actors/mediator.py", "actors/spoiler.py")


def _rules_fingerprint() -> str:
    """Hash of every file whose compiled rules end up in the kernel.

    Numba's on-disk cache is keyed by each function's own file only, but the rules are inlined
    into one another across files, so a change in one file must invalidate them all: the cache
    lives in a folder named after this hash.
    """
    h = hashlib.sha1()
    for name in _RULE_SOURCES:
        h.update((_PACKAGE / name).read_bytes())
    return h.hexdigest()[:16]


numba.config.CACHE_DIR = str(_PACKAGE / "__pycache__" / f"numba-{_rules_fingerprint()}")

rule = njit(cache=True, nogil=True, error_model="numpy", inline="always")
"""Decorator for a model rule: compiled (inlined into its callers), cached on disk, exact IEEE
arithmetic."""


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
