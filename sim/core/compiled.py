"""Rule helpers shared by every actor: clipping, events, counts.

Every rule of the model is a small function compiled with Numba (``@rule``) that works on plain
numbers. The Mesa agents call these functions for one actor; the ensemble kernel calls the very
same compiled functions inside its loop over worlds and actors. Arithmetic is IEEE (no fast-math),
so both ways give identical results.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from pathlib import Path

import numba
import numpy as np
from numba import njit

_PACKAGE = Path(__file__).resolve().parent
_RULE_SOURCES = (
    "compiled.py",
    "types.py",
    "table.py",
    "outcomes.py",
    "registry.py",
    "schedule.py",
    "kernel.py",
    "actors/state.py",
    "actors/faction.py",
    "actors/mediator.py",
    "actors/spoiler.py",
)
CACHE_ENV = "NEGSIM_CACHE_DIR"
"""Environment variable that moves the compiled-code cache (default: the user's cache folder)."""
COMPILE_TIME = "20-60 s"
"""About how long compiling the model takes on a first run (measured on 2 cores: a small run took
20 s with an empty cache and 3 s with a filled one, and 74 s against 15 s when the cores were
busy with other work)."""
_ANNOUNCED_ENV = "NEGSIM_COMPILE_ANNOUNCED"


def _rules_fingerprint() -> str:
    """Hash of every file whose compiled rules end up in the kernel, and of where they live.

    Numba's on-disk cache is keyed by each function's own file only, but the rules are inlined
    into one another across files, so a change in one file must invalidate them all: the cache
    lives in a folder named after this hash. The folder of the package is part of the hash, so
    that two installs of the same code each see whether their own code is compiled.
    """
    h = hashlib.sha1(str(_PACKAGE).encode())
    for name in _RULE_SOURCES:
        h.update((_PACKAGE / name).read_bytes())
    return h.hexdigest()[:16]


def _cache_root() -> Path:
    """Folder of the compiled-code cache: ``$NEGSIM_CACHE_DIR`` or the user's cache folder
    (``platformdirs.user_cache_dir("negsim")``), never inside the package (read-only when
    installed system-wide)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("negsim"))


CACHE_DIR = _cache_root() / f"numba-{_rules_fingerprint()}"
"""Numba's cache of this code: one folder per fingerprint of the rule sources."""
numba.config.CACHE_DIR = str(CACHE_DIR)


def _announce_compiling() -> None:
    """Say once on stderr that the model compiles, when its cache folder holds no compiled
    function yet (no Numba index file, ``*.nbi``).

    Child processes of the run inherit an environment flag and stay quiet.
    """
    if os.environ.get(_ANNOUNCED_ENV) or any(CACHE_DIR.rglob("*.nbi")):
        return
    os.environ[_ANNOUNCED_ENV] = "1"
    msg = (
        f"negsim: compiling the model for this install (first run; about {COMPILE_TIME}, "
        f"once); cache: {CACHE_DIR}"
    )
    print(msg, file=sys.stderr, flush=True)


_announce_compiling()

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


SHORTCUT_RATE = 0.5
"""Largest rate for which :func:`poisson_count` decides counts of 0 and 1 without ``exp``."""
_MARGIN = 1e-12
"""Absolute slack of the bounds in :func:`poisson_count`: far above the rounding error of the
bounds and of ``exp`` (under one unit in the last place, about 1e-16 here), far below their
gap for the rates where it is used (``rate**4 / 24``: about 4e-6 at a rate of 0.1)."""


@rule
def poisson_count(u, rate):
    """A Poisson count with mean ``rate``, by inverting its CDF at the uniform ``u``.

    One uniform per count keeps a world's counts independent of any other world. Since
    ``exp(-rate) >= 1 - rate``, a draw below ``1 - rate`` is a zero without computing the CDF.

    A small rate (at most :data:`SHORTCUT_RATE`) decides a count of 0 or 1 without calling
    ``exp``, whose call cost a day of kabul_2022 about a tenth of its compute (perf: the
    processor's registers saved around each call). For ``rate`` in [0, 1] the alternating series
    brackets ``exp(-rate)`` between its partial sums to the cube and to the fourth power; with
    :data:`_MARGIN` of slack the brackets hold the computed ``exp(-rate)`` and ``cdf`` after
    one term too, so a draw outside them gets exactly the count the full inversion below would
    give. A draw between the brackets (a chance of about ``rate**4 / 24``) or beyond those of
    a count of 1 (a count of 2 or more) takes the full inversion.
    """
    if u < 1.0 - rate:
        return 0.0
    if 0.0 <= rate <= SHORTCUT_RATE:
        r2 = rate * rate
        below = 1.0 - rate + 0.5 * r2 - r2 * rate / 6.0  # partial sum to rate**3 <= exp(-rate)
        above = below + r2 * r2 / 24.0  # partial sum to rate**4 >= exp(-rate)
        lo0, hi0 = below - _MARGIN, above + _MARGIN
        if u < lo0:
            return 0.0
        if u >= hi0 and u < lo0 * (1.0 + rate) - _MARGIN:
            return 1.0
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
