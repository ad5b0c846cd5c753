"""Each score against a case with a known answer (closed forms from Gneiting & Raftery 2007)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sim.report import scores as sc

WIDE = (-math.inf, math.inf)


def energy_crps(samples, y):
    """Energy form of the CRPS of an ensemble: mean|X - y| - 0.5 mean|X - X'|."""
    x = np.asarray(samples, float)
    return np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))


@pytest.mark.parametrize("y", [-1.0, 1.0, 4.5])
def test_crps_of_a_normal_forecast_matches_the_closed_form(y):
    mu, s = 1.0, 2.0
    z = (y - mu) / s
    closed = s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    got = sc.crps(sc.ContinuousForecast(stats.norm(mu, s)), y, y, WIDE)
    assert got == pytest.approx(closed, rel=1e-6)


def test_crps_of_a_two_world_ensemble_by_hand():
    # F = 1/2 on [0, 2]; observation 1: int_0^1 1/4 + int_1^2 1/4 = 1/2.
    assert sc.crps(sc.EnsembleForecast([0.0, 2.0]), 1.0, 1.0, WIDE) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("y", [0.0, 3.0, 5.5, 12.0])
def test_crps_of_a_small_ensemble_equals_the_energy_form(y):
    samples = [1.0, 3.0, 3.0, 7.0, 10.0]
    got = sc.crps(sc.EnsembleForecast(samples), y, y, WIDE)
    assert got == pytest.approx(energy_crps(samples, y), abs=1e-12)


def test_crps_of_uniform_counts_equals_the_ensemble_of_those_counts():
    counts = sc.UniformCountForecast(0, 4)
    ensemble = sc.EnsembleForecast(np.arange(5), discrete=True)
    for y in (0.0, 2.0, 6.0):
        assert sc.crps(counts, y, y, WIDE) == pytest.approx(energy_crps(np.arange(5), y), abs=1e-12)
        assert sc.crps(counts, y, y, WIDE) == pytest.approx(sc.crps(ensemble, y, y, WIDE), abs=1e-12)


def test_crps_of_a_log_uniform_forecast_matches_direct_quadrature():
    fc = sc.LogUniformForecast(7, 1000)
    y = 90.0
    below = integrate.quad(lambda z: fc.cdf(z) ** 2, 7, y)[0]
    above = integrate.quad(lambda z: (1 - fc.cdf(z)) ** 2, y, 1000)[0]
    assert sc.crps(fc, y, y, (0, 1000)) == pytest.approx(below + above, rel=1e-6)


@pytest.mark.parametrize("c", [5.0, 50.0, 300.0])
def test_survival_crps_of_an_exponential_forecast_matches_the_closed_form(c):
    lam = 0.02
    closed = c - 2 * (1 - math.exp(-lam * c)) / lam + (1 - math.exp(-2 * lam * c)) / (2 * lam)
    fc = sc.ContinuousForecast(stats.expon(scale=1 / lam))
    assert sc.crps(fc, c, math.inf, (0, math.inf)) == pytest.approx(closed, rel=1e-6)


def _censored_pair(fill: float):
    rng = np.random.default_rng(7)
    values = rng.lognormal(mean=4.5, sigma=1.0, size=400)
    cens = values > 365
    known = sc.EnsembleForecast(np.where(cens, np.nan, values), censored=cens, horizon=365)
    filled = sc.EnsembleForecast(np.where(cens, fill, values))
    return known, filled


@pytest.mark.parametrize("fill", [365.5, 1e6])
@pytest.mark.parametrize("obs", [(100.0, 100.0), (30.0, 60.0), (200.0, math.inf), (400.0, 400.0)])
def test_censored_ensemble_score_does_not_depend_on_what_it_cannot_know(fill, obs):
    known, filled = _censored_pair(fill)
    assert 0.05 < known.censored_share < 0.5
    lo, hi = obs
    assert sc.crps(known, lo, hi, (1, 365)) == pytest.approx(sc.crps(filled, lo, hi, (1, 365)), abs=1e-9)


def test_censored_ensemble_refuses_what_lies_beyond_the_horizon():
    known, _ = _censored_pair(1e6)
    with pytest.raises(ValueError, match="the horizon must cover the observation"):
        known.prob(400, math.inf)
    with pytest.raises(ValueError, match="the horizon must cover the observation"):
        sc.log_score(known, 300, 400)
    with pytest.raises(ValueError, match="horizon 365"):
        sc.crps(known, 100, 100, (1, 500))
    with pytest.raises(ValueError, match="end the window at the horizon"):
        sc.crps(known, 100, 100, (1, math.inf))


def test_censored_ensemble_probability_of_an_open_end_counts_the_censored_worlds():
    fc = sc.EnsembleForecast([10, 20, 30, np.nan, np.nan], censored=[0, 0, 0, 1, 1], horizon=100)
    assert fc.n == 5 and fc.censored_share == pytest.approx(0.4)
    assert fc.prob(25, math.inf) == pytest.approx(3 / 5)
    assert fc.prob(15, 30) == pytest.approx(2 / 5)


def test_ensemble_drops_worlds_where_the_quantity_does_not_apply():
    fc = sc.EnsembleForecast([1.0, np.nan, 3.0])
    assert fc.n == 2 and fc.prob(0, 2) == pytest.approx(0.5)
    np.testing.assert_allclose(fc.cdf(np.array([0.5, 1.0, 2.0, 3.0])), [0.0, 0.5, 0.5, 1.0])


def test_log_score_of_a_log_uniform_interval_has_the_closed_form():
    fc = sc.LogUniformForecast(7, 1000)
    assert sc.log_score(fc, 30, 60) == pytest.approx(-math.log(math.log(2) / math.log(1000 / 7)), rel=1e-9)


def test_log_score_of_an_ensemble_matches_counts():
    fc = sc.EnsembleForecast([1, 2, 2, 5, 9, 9, 9, 12])
    assert sc.log_score(fc, 2, 9) == pytest.approx(-math.log(6 / 8))
    assert sc.log_score(fc, 3, 4) == math.inf
    assert sc.log_score(sc.UniformCountForecast(0, 9), 2.5, 4) == pytest.approx(-math.log(0.2))


def test_smoothed_ensemble_never_gives_an_infinite_log_score():
    ens = sc.EnsembleForecast([5.0] * 99)
    null = sc.LogUniformForecast(7, 1000)
    mix = sc.smoothed(ens, null)
    assert sc.log_score(ens, 100, 200) == math.inf
    assert sc.log_score(mix, 100, 200) == pytest.approx(-math.log(null.prob(100, 200) / 100))
    assert mix.prob(5, 5) == pytest.approx(99 / 100)


def test_event_scores():
    assert sc.brier(0.7, True) == pytest.approx(0.09)
    assert sc.brier(0.7, False) == pytest.approx(0.49)
    assert sc.event_log_score(0.7, True) == pytest.approx(-math.log(0.7))
    assert sc.event_log_score(0.7, False) == pytest.approx(-math.log(0.3))
    assert sc.event_log_score(1.0, False) == math.inf
    with pytest.raises(ValueError, match="1.2"):
        sc.brier(1.2, True)


def test_categorical_scores():
    ign, brier = sc.categorical_scores({"operation": 0.5, "attack": 0.3, "talks": 0.2}, "attack")
    assert ign == pytest.approx(-math.log(0.3))
    assert brier == pytest.approx(0.25 + 0.49 + 0.04)
    with pytest.raises(ValueError, match="'split'"):
        sc.categorical_scores({"operation": 1.0}, "split")


def test_event_probability_adds_one_pseudo_world():
    assert sc.event_probability(np.array([1, 0, 1, np.nan, 1])) == pytest.approx(3.5 / 5)
    assert sc.event_probability(np.zeros(9), null_p=0.5) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        sc.event_probability(np.array([0.5]))


def test_skill_signs():
    assert sc.skill(0.5, 1.0) == pytest.approx(0.5)
    assert sc.skill(1.0, 1.0) == 0
    assert sc.skill(2.0, 1.0) == pytest.approx(-1.0)
    assert math.isnan(sc.skill(1.0, 0.0))
    assert sc.information_gain(1.0, 1.5) == pytest.approx(0.5)
    assert sc.information_gain(2.0, 1.5) < 0


def test_base_rate_without_observations_is_the_null():
    null = sc.LogUniformForecast(7, 1000)
    assert sc.base_rate([], null) is null


def test_base_rate_pools_other_episodes_with_one_null_part():
    null = sc.LogUniformForecast(7, 1000)
    pooled = sc.base_rate([(100, 100), (500, math.inf)], null)
    inside = (1 + 0 + null.prob(80, 125)) / 3
    assert pooled.prob(80, 125) == pytest.approx(inside)
    assert pooled.prob(500, 1000) == pytest.approx((0 + 1 + null.prob(500, 1000)) / 3)
    counts = sc.base_rate([(4, 4), (0, 0)], sc.UniformCountForecast(0, 99))
    assert counts.prob(3, 5) == pytest.approx((1 + 0 + 3 / 100) / 3)
    assert counts.prob(0, 0) == pytest.approx((0 + 1 + 1 / 100) / 3)


def test_scores_are_proper_on_a_known_distribution():
    rng = np.random.default_rng(20070301)
    ys = rng.normal(0.0, 1.0, size=300)
    candidates = {
        "true": stats.norm(0, 1),
        "shifted": stats.norm(0.5, 1),
        "wide": stats.norm(0, 2),
        "narrow": stats.norm(0, 0.5),
    }
    mean_crps, mean_log = {}, {}
    for name, dist in candidates.items():
        fc = sc.ContinuousForecast(dist)
        mean_crps[name] = np.mean([sc.crps(fc, y, y, WIDE) for y in ys])
        mean_log[name] = np.mean([sc.log_score(fc, y - 0.05, y + 0.05) for y in ys])
    assert mean_crps["true"] == min(mean_crps.values())
    assert mean_log["true"] == min(mean_log.values())
    assert mean_crps["true"] == pytest.approx(1 / math.sqrt(math.pi), rel=0.1)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: sc.LogUniformForecast(0, 10), "lo=0"),
        (lambda: sc.UniformCountForecast(5, 2), "lo=5"),
        (lambda: sc.EnsembleForecast([np.nan]), "all samples NaN"),
        (lambda: sc.EnsembleForecast([1.0], censored=[True]), "finite horizon"),
        (lambda: sc.crps(sc.EnsembleForecast([1.0]), 3, 2, WIDE), r"\[3, 2\]"),
        (lambda: sc.crps(sc.EnsembleForecast([1.0]), 1, 1, (5, 0)), r"\(5, 0\)"),
    ],
)
def test_bad_input_names_the_value(build, field):
    with pytest.raises(ValueError, match=field):
        build()
