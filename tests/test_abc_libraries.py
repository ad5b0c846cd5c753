"""The reductions of experiments/abc_libraries.py (posterior margins and their agreement) are right
on cases with known answers. They need neither pyabc nor ELFI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

PATH = Path(__file__).resolve().parents[1] / "experiments" / "abc_libraries.py"


@pytest.fixture(scope="module")
def lib():
    spec = importlib.util.spec_from_file_location("abc_libraries", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_weighted_ks_equals_scipy_with_equal_weights(lib):
    rng = np.random.default_rng(3)
    x, y = rng.random(200), rng.random(150) ** 2
    got = lib.weighted_ks(x, np.ones(200), y, np.ones(150))
    assert got == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)


def test_weighted_ks_of_known_samples(lib):
    # identical samples: no gap; disjoint samples: the largest gap, 1
    x = np.array([0.1, 0.2, 0.3])
    assert lib.weighted_ks(x, np.ones(3), x, np.ones(3)) == 0.0
    assert lib.weighted_ks(x, np.ones(3), x + 1.0, np.ones(3)) == 1.0
    # weights count as repeats: x with weights (2, 1) is the sample (0, 0, 1)
    a = lib.weighted_ks(np.array([0.0, 1.0]), np.array([2.0, 1.0]), np.array([0.0, 1.0]), np.ones(2))
    assert a == pytest.approx(2 / 3 - 1 / 2)


def test_margins_and_agreement_of_a_shift(lib):
    # a grid standing for uniform(0, 1) and the same grid shifted by 0.1: medians differ by 0.1,
    # the KS statistic is 0.1 and each sample agrees perfectly with itself
    z = np.linspace(0.0, 1.0, 1001)[:, None]
    w = np.ones(len(z))
    m = lib.margins(z, w)
    assert m[0] == pytest.approx([0.05, 0.5, 0.95], abs=1e-3)
    t = lib.agreement(["p"], z, w, z + 0.1, w)
    row = t.iloc[0]
    assert row.median_diff == pytest.approx(0.1, abs=1e-9)
    assert row.ks == pytest.approx(0.1, abs=2e-3)
    assert row.energy > 0.05
    same = lib.agreement(["p"], z, w, z, w).iloc[0]
    assert same.median_diff == 0.0 and same.ks == 0.0 and same.energy == pytest.approx(0.0, abs=1e-12)


def test_weights_move_the_median(lib):
    # all weight on the upper half: the weighted median is in the upper half
    z = np.array([[0.1], [0.2], [0.8], [0.9]])
    w = np.array([0.0, 0.0, 1.0, 1.0])
    assert 0.8 <= lib.margins(z, w)[0, 1] <= 0.9


def test_seconds_to_a_tolerance(lib):
    run = {"schedule": [3.0, 2.0, 1.5, 1.2], "schedule_seconds": [10.0, 15.0, 22.0, 30.0]}
    assert lib.seconds_to(run, 2.0) == 15.0  # the first generation at or below it
    assert lib.seconds_to(run, 1.3) == 30.0
    assert np.isnan(lib.seconds_to(run, 1.0))  # never reached


def test_effective_size(lib):
    assert lib.effective_size(np.ones(50)) == pytest.approx(50.0)
    assert lib.effective_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert lib.effective_size(np.array([3.0, 1.0])) == pytest.approx(16 / 10)
