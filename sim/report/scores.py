"""Proper scoring rules for the validation patterns, and the null models they are compared with.

Every score is negatively oriented (lower is better) and strictly proper: a forecaster minimises
its expected score only by stating the distribution it believes (Gneiting & Raftery 2007, JASA
102:359). Three scores are used:

- **CRPS** for a real-valued quantity (a duration, a count, a day): the integral of the squared
  distance between the forecast CDF and the step function of the observation (Gneiting & Raftery
  2007, section 4.2). It is threshold-weighted (weight 1 on a window ``[a, b]``, Gneiting & Ranjan
  2011, JBES 29:411) and interval-censored: an observation known only as ``lo <= y <= hi`` is scored
  as ``int_a^min(lo,b) F^2 + int_max(hi,a)^b (1 - F)^2``, which for ``hi = inf`` is the survival CRPS
  of a right-censored observation (Avati et al. 2020, UAI, "Countdown regression"). The window ends
  at the simulation horizon, so worlds still running at the horizon enter only through the survival
  function up to it, never as a value at the horizon.
- **Log score** (ignorance, ``-ln P`` in nats; Gneiting & Raftery 2007, section 4.1; Good 1952) of
  the probability the forecast puts on the observed interval.
- **Brier score** ``(p - 1{happened})^2`` for an event observed once (Brier 1950, Monthly Weather
  Review 78:1), and its multi-class sum for a categorical outcome.

Forecasts are objects with ``cdf(z)`` (``P(Y <= z)``, elementwise), ``prob(lo, hi)``
(``P(lo <= Y <= hi)``), ``support`` (``(s0, s1)``: ``F = 0`` below ``s0``, ``F = 1`` above ``s1``)
and ``atoms`` (where ``F`` jumps). The module is pure: numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

INF = math.inf
TAIL = 1e-12
"""Probability left out in each infinite tail of a continuous forecast when integrating its CDF."""
PANELS = 256
"""Panels of the integration grid (linear, and also geometric on positive ranges) besides the atoms."""
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)


class Forecast:
    """A predictive distribution of one real-valued quantity (interface shared by all forecasts)."""

    discrete = False
    atoms = np.empty(0)
    support: tuple[float, float] = (-INF, INF)

    def cdf(self, z: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def prob(self, lo: float, hi: float) -> float:
        """``P(lo <= Y <= hi)`` for a continuous forecast (overridden where ``F`` has atoms)."""
        return float(self.cdf(np.asarray(hi)) - self.cdf(np.asarray(lo)))


class ContinuousForecast(Forecast):
    """A continuous forecast from a frozen ``scipy.stats`` distribution (normal, exponential, ...)."""

    def __init__(self, dist):
        self.dist = dist
        s0, s1 = dist.support()
        self.support = (
            float(s0 if np.isfinite(s0) else dist.ppf(TAIL)),
            float(s1 if np.isfinite(s1) else dist.isf(TAIL)),
        )

    def cdf(self, z):
        return self.dist.cdf(z)


class LogUniformForecast(ContinuousForecast):
    """Log-uniform on ``[lo, hi]``: the know-nothing null for durations and days (scale-free guess)."""

    def __init__(self, lo: float, hi: float):
        if not 0 < lo < hi < INF:
            raise ValueError(f"log-uniform forecast: need 0 < lo < hi < inf, got lo={lo}, hi={hi}")
        super().__init__(stats.loguniform(lo, hi))


class UniformForecast(ContinuousForecast):
    """Continuous uniform on ``[lo, hi]`` (ratios, shares)."""

    def __init__(self, lo: float, hi: float):
        if not -INF < lo < hi < INF:
            raise ValueError(f"uniform forecast: need finite lo < hi, got lo={lo}, hi={hi}")
        super().__init__(stats.uniform(lo, hi - lo))


class UniformCountForecast(Forecast):
    """Uniform over the integers ``lo..hi`` inclusive: the know-nothing null for counts."""

    discrete = True

    def __init__(self, lo: int, hi: int):
        if not (lo == int(lo) and hi == int(hi) and lo <= hi):
            raise ValueError(f"uniform count forecast: need integers lo <= hi, got lo={lo}, hi={hi}")
        self.lo, self.hi = int(lo), int(hi)
        self.support = (float(lo), float(hi))
        self.atoms = np.arange(self.lo, self.hi + 1, dtype=float)

    def cdf(self, z):
        return np.clip((np.floor(z) - self.lo + 1) / (self.hi - self.lo + 1), 0.0, 1.0)

    def prob(self, lo, hi):
        first, last = max(math.ceil(lo), self.lo), math.floor(min(hi, self.hi))
        return max(0, last - first + 1) / (self.hi - self.lo + 1)


class EnsembleForecast(Forecast):
    """The empirical distribution of the simulated worlds, right-censored at the horizon.

    Args:
        samples: one value per world. A NaN value drops the world (the quantity does not apply
            to it) unless the world is censored.
        censored: per world, True when the value is only known to exceed ``horizon`` (a ceasefire
            or talks still running when the simulation ends); its sample value is ignored.
        horizon: the simulation horizon (the end of what is known).
        discrete: the values are counts (integers); the CDF is a step function either way.
    """

    def __init__(self, samples, censored=None, horizon: float = INF, discrete: bool = False):
        samples = np.asarray(samples, dtype=float).ravel()
        cens = np.zeros(samples.shape, bool) if censored is None else np.asarray(censored, bool).ravel()
        if cens.shape != samples.shape:
            raise ValueError(f"ensemble: censored has {cens.size} entries for {samples.size} samples")
        if cens.any() and not np.isfinite(horizon):
            raise ValueError("ensemble: censored worlds need a finite horizon")
        self.values = np.sort(samples[~cens & ~np.isnan(samples)])
        self.n = self.values.size + int(cens.sum())
        if self.n == 0:
            raise ValueError("ensemble: no world has a value (all samples NaN)")
        self.n_censored, self.horizon, self.discrete = int(cens.sum()), float(horizon), discrete
        self.censored_share = self.n_censored / self.n
        self.atoms = np.unique(self.values)
        s0 = self.values[0] if self.values.size else self.horizon
        self.support = (float(s0), INF if self.n_censored else float(self.values[-1]))

    def cdf(self, z):
        z = np.asarray(z, dtype=float)
        if self.n_censored and np.any(z >= self.horizon):
            raise ValueError(
                f"ensemble CDF at {np.max(z)} is unknown: {self.n_censored} worlds are censored at "
                f"the horizon {self.horizon}; evaluate below the horizon"
            )
        return np.searchsorted(self.values, z, side="right") / self.n

    def prob(self, lo, hi):
        if self.n_censored and hi >= self.horizon:
            if hi < INF or lo > self.horizon:
                raise ValueError(
                    f"observation [{lo}, {hi}] reaches past the horizon {self.horizon} of an ensemble "
                    f"with {self.n_censored} censored worlds: the horizon must cover the observation"
                )
            return (np.sum(self.values >= lo) + self.n_censored) / self.n
        return float(np.sum((self.values >= lo) & (self.values <= hi)) / self.n)


class MixtureForecast(Forecast):
    """A weighted mixture of forecasts (weights normalised to sum to one)."""

    def __init__(self, components: Sequence[Forecast], weights: Sequence[float]):
        w = np.asarray(weights, dtype=float)
        if len(components) == 0 or w.shape != (len(components),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"mixture: need one non-negative weight per component, got {list(w)}")
        self.components, self.weights = list(components), w / w.sum()
        self.discrete = all(c.discrete for c in self.components)
        self.atoms = np.unique(np.concatenate([c.atoms for c in self.components]))
        self.support = (min(c.support[0] for c in components), max(c.support[1] for c in components))

    def cdf(self, z):
        return sum(w * c.cdf(z) for w, c in zip(self.weights, self.components, strict=True))

    def prob(self, lo, hi):
        return float(sum(w * c.prob(lo, hi) for w, c in zip(self.weights, self.components, strict=True)))


def smoothed(ensemble: EnsembleForecast, null: Forecast) -> MixtureForecast:
    """The ensemble mixed with one pseudo-world drawn from the null: weights n/(n+1) and 1/(n+1).

    Every probability is then positive, so no log score is infinite; the rule is the same for every
    pattern and every model (an add-one prior, as in Laplace's rule of succession).
    """
    return MixtureForecast([ensemble, null], [ensemble.n, 1.0])


def _observation_component(lo: float, hi: float, null: Forecast, spread: float) -> Forecast:
    """One pooled observation as a forecast component (the rule is stated in :func:`base_rate`)."""
    hi = min(hi, null.support[1])
    if null.discrete:
        if lo == hi:
            lo, hi = lo * (2 - spread), hi * spread
        first, last = math.ceil(lo), math.floor(hi)
        if first > last:
            raise ValueError(f"base rate: count observation [{lo}, {hi}] holds no integer")
        return UniformCountForecast(first, last)
    if lo == hi:
        lo, hi = lo / spread, hi * spread
    if lo >= hi:
        raise ValueError(f"base rate: observation [{lo}, {hi}] is empty after capping at the null")
    return LogUniformForecast(lo, hi) if lo > 0 else UniformForecast(lo, hi)


def base_rate(observations: Sequence[tuple[float, float]], null: Forecast, spread: float = 1.25) -> Forecast:
    """The base-rate null: the pooled observations of the other episodes, plus one know-nothing part.

    One equal-weight component per observation ``(lo, hi)`` and one component of ``null`` (the same
    one-pseudo-observation rule as :func:`smoothed`); with no observations it is ``null`` itself.
    An open end ``hi = inf`` is capped at the null's upper end. For a continuous null a point
    ``(v, v)`` becomes log-uniform on ``[v / spread, v * spread]`` and a range log-uniform on it
    (uniform if it starts at or below zero). For a count null (``null.discrete``) a point ``v``
    becomes uniform over the integers in ``[v (2 - spread), v * spread]`` (within +-25% for the
    default spread, always including ``v``) and a range uniform over the integers in it.
    """
    if not observations:
        return null
    if spread <= 1:
        raise ValueError(f"base rate: spread must exceed 1, got {spread}")
    parts = [_observation_component(float(lo), float(hi), null, spread) for lo, hi in observations]
    return MixtureForecast([*parts, null], [1.0] * (len(parts) + 1))


def _integrate(fn, u: float, v: float, atoms: np.ndarray) -> float:
    """``int_u^v fn(F)`` by 8-point Gauss-Legendre on panels split at every atom of the forecast.

    Between atoms a step CDF is constant, so the rule is exact for ensembles and counts; a smooth
    CDF is integrated on a linear (and, on positive ranges, geometric) grid of :data:`PANELS`.
    """
    if not u < v:
        return 0.0
    if not np.isfinite(v):
        raise ValueError(
            "CRPS window has no finite upper end where the forecast's CDF is unknown "
            "(censored worlds): end the window at the horizon"
        )
    pts = [np.array([u, v]), np.linspace(u, v, PANELS + 1)[1:-1], atoms[(atoms > u) & (atoms < v)]]
    if u > 0:
        pts.append(np.geomspace(u, v, PANELS + 1)[1:-1])
    edges = np.unique(np.concatenate(pts))
    half, mid = np.diff(edges) / 2, (edges[1:] + edges[:-1]) / 2
    keep = half > 1e-13 * (v - u)
    half, mid = half[keep, None], mid[keep, None]
    return float(np.sum(half * _WEIGHTS * fn(mid + half * _NODES)))


def _check_observation(lo: float, hi: float) -> None:
    if not (np.isfinite(lo) and lo <= hi):
        raise ValueError(f"observation [{lo}, {hi}]: need a finite lo <= hi (hi may be inf)")


def crps(forecast: Forecast, lo: float, hi: float, window: tuple[float, float]) -> float:
    """Threshold-weighted, interval-censored CRPS of the observation ``lo <= y <= hi``.

    ``int_a^min(lo,b) F(z)^2 dz + int_max(hi,a)^b (1 - F(z))^2 dz`` with ``window = (a, b)``
    (Gneiting & Ranjan 2011, with weight 1 on ``[a, b]``). A point observation with a window
    covering the support gives the ordinary CRPS (Gneiting & Raftery 2007, section 4.2); ``hi = inf``
    gives the survival CRPS of a right-censored observation (Avati et al. 2020). Outside the
    support the integrands are 0 or 1 and are added exactly, so infinite windows are allowed.
    """
    _check_observation(lo, hi)
    a, b = window
    if not a < b:
        raise ValueError(f"CRPS window ({a}, {b}): need a < b")
    s0, s1 = forecast.support
    top, bottom = min(lo, b), max(hi, a)
    below = _integrate(lambda z: forecast.cdf(z) ** 2, max(a, s0), min(top, s1), forecast.atoms)
    above = _integrate(lambda z: (1 - forecast.cdf(z)) ** 2, max(bottom, s0), min(b, s1), forecast.atoms)
    flat = max(0.0, top - max(a, s1)) + max(0.0, min(b, s0) - bottom)
    return below + above + flat


def log_score(forecast: Forecast, lo: float, hi: float) -> float:
    """Ignorance ``-ln P(lo <= Y <= hi)`` in nats of an interval-censored observation; inf if P = 0.

    The log score (Gneiting & Raftery 2007, section 4.1) of the probability on the interval the
    source gives; the caller widens a point observation to the source's precision.
    """
    _check_observation(lo, hi)
    p = forecast.prob(lo, hi)
    return -math.log(p) if p > 0 else INF


def _check_p(p: float) -> float:
    if not 0 <= p <= 1:
        raise ValueError(f"event probability {p}: must lie in [0, 1]")
    return float(p)


def brier(p: float, happened: bool) -> float:
    """Brier score ``(p - 1{happened})^2`` of an event observed once (Brier 1950)."""
    return (_check_p(p) - float(bool(happened))) ** 2


def event_log_score(p: float, happened: bool) -> float:
    """Ignorance ``-ln p`` if the event happened, ``-ln(1 - p)`` if not (inf for probability 0)."""
    q = _check_p(p) if happened else 1 - _check_p(p)
    return -math.log(q) if q > 0 else INF


def categorical_scores(probs: Mapping[str, float], observed: str) -> tuple[float, float]:
    """(ignorance, multi-class Brier) of a categorical outcome (Brier 1950; Gneiting & Raftery 2007).

    The multi-class Brier score is ``sum_k (p_k - 1{k = observed})^2`` (between 0 and 2).
    """
    if observed not in probs:
        raise ValueError(f"categorical outcome {observed!r}: not among the categories {sorted(probs)}")
    p = np.array([_check_p(v) for v in probs.values()])
    if abs(p.sum() - 1) > 1e-6:
        raise ValueError(f"categorical probabilities sum to {p.sum()}, not 1")
    hit = np.array([k == observed for k in probs], dtype=float)
    q = float(probs[observed])
    return (-math.log(q) if q > 0 else INF), float(np.sum((p - hit) ** 2))


def event_probability(indicator: np.ndarray, null_p: float = 0.5) -> float:
    """Smoothed share ``(k + null_p) / (n + 1)`` of worlds where the event happens (NaN dropped).

    The same one-pseudo-world rule as :func:`smoothed`: the pseudo-world happens with the null's
    probability, so the share is never 0 or 1.
    """
    x = np.asarray(indicator, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if np.any((x != 0) & (x != 1)):
        raise ValueError("event indicator: values must be 0, 1 or NaN")
    return (float(x.sum()) + _check_p(null_p)) / (x.size + 1)


def skill(model: float, null: float) -> float:
    """Skill score ``1 - model / null`` of a negatively oriented score (Gneiting & Raftery 2007).

    1 is perfect, 0 no better than the null, negative worse; NaN when the null scores 0.
    """
    return 1 - model / null if null != 0 else math.nan


def information_gain(model_ignorance: float, null_ignorance: float) -> float:
    """Nats more log probability the model puts on what happened than the null (null - model)."""
    return null_ignorance - model_ignorance
