"""Scores of the validation patterns against the null models, informative passes and the
out-of-sample folds, on cases with a known answer."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.explore import calibration as C
from sim.report import outofsample as O
from sim.report import patterns as V
from sim.report import skill as K
from sim.running.results import Results


def _pattern(pid: str) -> V.Pattern:
    return next(p for p in V.build_patterns() if p.id == pid)


def _shakai_run(durations, censored=None, days=365) -> V.EpisodeRun:
    """A 2004 episode run built from a hand-made table (not simulated)."""
    d = np.asarray(durations, float)
    n = len(d)
    worlds = pd.DataFrame(
        {
            "world": np.arange(n),
            "ceasefire_reached": True,
            "days_to_ceasefire": 0.0,
            "ceasefire_days": d,
            "ceasefire_censored": d >= days if censored is None else np.asarray(censored),
            "collapse_cause": pd.Categorical(
                ["faction_violation"] * n, categories=[c.name for c in sim.CollapseCause]
            ),
        }
    )
    res = Results(worlds=worlds, timeseries=None, scenario="shakai_2004", seed=0, days=days)
    return V.EpisodeRun("shakai_2004", sim.load_scenario("shakai_2004"), days, res.worlds)


# --- informative passes -----------------------------------------------------------------------


def _outcome(p: V.Pattern, i90, passed=True) -> V.Outcome:
    return V.Outcome(p, float(np.mean(i90)), i90, i90, 100, passed)


def test_a_wide_interval_is_not_an_informative_pass():
    p = _pattern("shakai_2004.ceasefire_days")
    assert p.observed == (50, 50)
    assert K.informative(_outcome(p, (40.0, 60.0))) is True  # 100 and 25 both fail
    assert K.informative(_outcome(p, (20.0, 365.0))) is False  # 100 (and 25) would pass too
    assert K.informative(_outcome(p, (60.0, 365.0), passed=False)) is None


def test_an_event_pass_is_informative_only_when_the_opposite_would_fail():
    p = _pattern("swat_2008.deal_failed")
    assert K.informative(_outcome(p, (0.30, 0.50))) is False  # the opposite has P 0.5-0.7
    assert K.informative(_outcome(p, (0.97, 0.99))) is True  # the opposite has P 0.01-0.03


def test_relation_uses_its_declared_opposite():
    p = _pattern("ceasefire_2021.intensified_after")
    assert p.opposite == (0.0, 1.0)
    assert K.informative(_outcome(p, (1.2, 1.5))) is True
    assert K.informative(_outcome(p, (0.8, 1.5))) is False


# --- rows that are not tests ------------------------------------------------------------------


def test_rows_set_by_an_input_are_neither_judged_scored_nor_fitted():
    from sim.explore.calibration import fitted_patterns, load_config

    ids = {
        "ceasefire_2021.reached",
        "kabul_2022.reached",
        "kabul_2022.prisoners_released",
        "kabul_2022.casualties_2022-07",
    }
    pats = {p.id: p for p in V.build_patterns()}
    assert all(pats[i].not_a_test for i in ids)
    assert not ids & {p.id for p in K.scored(pats.values())}
    _, fitted = fitted_patterns(load_config(True, []))
    assert not ids & {p.id for p in fitted}
    o = V.judge(pats["kabul_2022.prisoners_released"], np.full(50, 32.0), np.random.default_rng(0))
    assert o.passed is None and o.median == 32.0


def test_every_test_row_is_scored_or_is_a_relation_without_a_single_outcome():
    for p in V.build_patterns():
        if p.not_a_test or p.score is not None:
            continue
        assert p.kind == "relation", p.id


# --- scores against the nulls -----------------------------------------------------------------


def test_a_forecast_at_the_observation_beats_both_nulls():
    p = _pattern("shakai_2004.ceasefire_days")
    runs = {"shakai_2004": _shakai_run(np.full(200, 50.0))}
    s = K.score_pattern(p, runs, V.build_patterns())
    assert s.rule == "crps" and s.worlds == 200
    assert s.model < s.null and s.model < s.base
    assert s.ign_model < s.ign_null and s.ign_model < s.ign_base


def test_a_forecast_far_from_the_observation_loses_to_the_know_nothing_null():
    p = _pattern("shakai_2004.ceasefire_days")
    runs = {"shakai_2004": _shakai_run(np.full(200, 300.0))}
    s = K.score_pattern(p, runs, V.build_patterns())
    assert s.model > s.null and s.ign_model > s.ign_null


def test_a_quantity_no_world_has_is_scored_as_the_know_nothing_null():
    """With no world to count, the add-one smoothing leaves only the null's pseudo-world: the
    model gets the know-nothing score, neither a crash nor a reward."""
    p = _pattern("shakai_2004.ceasefire_days")
    s = K.score_pattern(p, {"shakai_2004": _shakai_run(np.full(20, np.nan))}, [])
    assert s.worlds == 0
    assert s.model == pytest.approx(s.null) and s.ign_model == pytest.approx(s.ign_null)


def test_censored_worlds_are_scored_by_what_is_known():
    """Worlds still in the ceasefire at the horizon count only as 'longer than the horizon':
    the score does not depend on the value they carry."""
    p = _pattern("shakai_2004.ceasefire_days")
    d = np.r_[np.full(100, 50.0), np.full(100, 365.0)]
    cens = np.r_[np.zeros(100, bool), np.ones(100, bool)]
    a = K.score_pattern(p, {"shakai_2004": _shakai_run(d, cens)}, [])
    d2 = d.copy()
    d2[100:] = 900.0
    b = K.score_pattern(p, {"shakai_2004": _shakai_run(d2, cens)}, [])
    assert a.censored_share == pytest.approx(0.5)
    assert a.model == pytest.approx(b.model) and a.ign_model == pytest.approx(b.ign_model)


def test_base_rate_pools_only_other_episodes_of_the_pool():
    pats = {p.id: p for p in V.build_patterns()}
    p = pats["swat_2008.deal_failed"]
    assert K._base_event_probability(p, [pats["swat_2009.deal_failed"]]) == pytest.approx(0.75)
    assert K._base_event_probability(p, [p]) == pytest.approx(0.5)  # its own episode never counts
    assert K._base_event_probability(p, []) == pytest.approx(0.5)


def test_base_rate_of_a_cause_counts_only_the_same_cause():
    pats = {p.id: p for p in V.build_patterns()}
    p = pats["waziristan_2006.ended_by"]
    other = pats["ceasefire_2021.ended_by"]
    assert p.score.category != other.score.category
    k = 1.0 / len(V.CAUSES_ENDED)
    assert K._base_event_probability(p, [other]) == pytest.approx(k / 2)


def test_skill_summary_sums_gains_and_averages_skill():
    t = pd.DataFrame(
        {
            "episode": ["a", "a", "b"],
            "model": [1.0, 2.0, 1.0],
            "null": [2.0, 2.0, 4.0],
            "base": [1.0, 4.0, 1.0],
            "ign_model": [1.0, 1.0, 2.0],
            "ign_null": [2.0, 1.5, 1.0],
            "ign_base": [1.0, 1.0, 3.0],
        }
    )
    s = K.skill_summary(t).set_index("episode")
    assert s.loc["a", "gain_vs_null_nats"] == pytest.approx(1.5)
    assert s.loc["total", "gain_vs_null_nats"] == pytest.approx(0.5)
    assert s.loc["total", "gain_vs_base_nats"] == pytest.approx(1.0)
    assert s.loc["a", "skill_vs_null"] == pytest.approx(0.25)  # median of 0.5 and 0
    assert s.loc["total", "skill_vs_null"] == pytest.approx(0.5)  # median of 0.5, 0 and 0.75
    assert s.loc["total", "beats_null"] == 2 and s.loc["total", "patterns"] == 3


# --- out-of-sample folds ----------------------------------------------------------------------


def test_folds_hold_out_each_episode_once_and_split_in_time():
    folds = O.folds(2015)
    loo = [f for f in folds if f.design == "leave one out"]
    assert sorted(e for f in loo for e in f.test) == sorted(V.EPISODES)
    for f in folds:
        assert not set(f.train) & set(f.test)
    (split,) = [f for f in folds if f.design == "time split"]
    assert all(O.episode_year(e) <= 2015 for e in split.train)
    assert all(O.episode_year(e) >= 2020 for e in split.test)
    assert set(split.train) | set(split.test) == set(V.EPISODES)


def test_no_fitted_pattern_reads_a_held_out_episode():
    pats = V.build_patterns()
    for f in O.folds():
        train = O.train_patterns(f, pats)
        assert all(not set(p.episodes) & set(f.test) for p in train), f.name
    (fold_2021,) = [f for f in O.folds() if f.test == ("ceasefire_2021",)]
    assert "kabul_2022.outlasts_2021" not in {p.id for p in O.train_patterns(fold_2021, pats)}


def test_systematic_resampling_follows_the_weights():
    rng = np.random.default_rng(3)
    idx = C.systematic_resample(np.array([0.5, 0.25, 0.25, 0.0]), 400, rng)
    counts = np.bincount(idx, minlength=4)
    assert counts.tolist() == [200, 100, 100, 0]


def test_quick_out_of_sample_scores_every_held_out_pattern():
    from sim.explore.calibration import load_config

    cfg = load_config(False, [])
    table = O.out_of_sample(cfg, quick=True, only=("without swat_2008", "up to 2015 -> later"))
    assert set(table["fold"]) == {"without swat_2008", "up to 2015 -> later"}
    split = table[table["design"] == "time split"]
    expected = {p.id for p in K.scored(V.build_patterns()) if O.episode_year(p.episode) >= 2020}
    assert set(split["pattern"]) == expected
    for col in ("model", "null", "base", "ign_model", "ign_null", "ign_base"):
        assert np.isfinite(table[col]).all(), col
        assert (table[col] >= 0).all(), col
    assert not math.isnan(O.summaries(table)["time split"].iloc[-1]["gain_vs_null_nats"])


def test_worlds_censored_before_the_observation_are_left_out():
    """A ceasefire censored after 5 days (it began just before the horizon) says nothing about
    an observation of 50 days: it is dropped, not allowed to shrink the scored window."""
    p = _pattern("shakai_2004.ceasefire_days")
    d = np.r_[np.full(100, 50.0), [5.0]]
    cens = np.r_[np.zeros(100, bool), [True]]
    s = K.score_pattern(p, {"shakai_2004": _shakai_run(d, cens)}, [])
    assert s.worlds == 100 and s.censored_share == 0.0


def test_one_sided_bounds_are_counted_apart():
    t = pd.DataFrame(
        {
            "episode": ["a", "a"],
            "model": [1.0, 1.0],
            "null": [2.0, 2.0],
            "base": [2.0, 2.0],
            "ign_model": [0.1, 1.0],
            "ign_null": [2.0, 1.5],
            "ign_base": [2.0, 1.5],
            "one_sided": [True, False],
        }
    )
    s = K.skill_summary(t).set_index("episode")
    assert s.loc["total", "gain_vs_null_nats"] == pytest.approx(2.4)
    assert s.loc["total without one-sided bounds", "gain_vs_null_nats"] == pytest.approx(0.5)
    p = _pattern("shakai_2004.ceasefire_days")
    runs = {"shakai_2004": _shakai_run(np.full(100, 40.0))}
    assert K.score_pattern(p, runs, []).one_sided is False
    bound = dataclasses.replace(p, observed=(0.0, 60.0))
    assert K.score_pattern(bound, runs, []).one_sided is True


def test_figures_say_which_rows_are_not_tests():
    from sim.report.validation import verdict_label

    p = _pattern("kabul_2022.prisoners_released")
    o = V.judge(p, np.full(50, 32.0), np.random.default_rng(0))
    assert verdict_label(o)[0] == "NOT A TEST"
    q = _pattern("shakai_2004.ceasefire_days")
    assert verdict_label(_outcome(q, (40.0, 60.0)))[0] == "PASS, INFORMATIVE"
    assert verdict_label(_outcome(q, (20.0, 365.0)))[0] == "PASS"
    assert verdict_label(_outcome(q, (60.0, 365.0), passed=False))[0] == "FAIL"
