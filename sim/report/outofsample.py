"""Out-of-sample prediction: calibrate without some episodes, predict them, score the prediction.

Two designs, each a list of :class:`Fold`:

- **leave one episode out**: for every episode, calibrate on the patterns of all the others,
  then predict the one left out;
- **time split**: calibrate on the episodes up to ``time_split_last_year`` (2004-2015), predict
  the later ones (2020-2022).

A fold's calibration is the shipped one (:func:`sim.explore.calibration.apmc`, the priors of
``conf/calibration.yaml``) on a smaller budget (the ``out_of_sample:`` block there) with every
pattern of the held-out episodes removed. The prediction is the posterior predictive: particles
drawn from the fold's posterior (systematic resampling by weight), each run for a few worlds,
every other behavioural field at its schema default as in the calibration. The held-out
patterns are scored by :mod:`sim.report.skill` against the know-nothing null and the base-rate
null, whose pool is the *training* episodes only.

Each fold has its own seeds (from the calibration's seed and the fold's position), so the
result does not depend on how many processes run the folds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.explore import calibration as C
from sim.inputs.scenarios import load_scenario
from sim.report import patterns as V
from sim.report import skill as K


@dataclasses.dataclass(frozen=True)
class Fold:
    """One out-of-sample test: the episodes calibrated on and the episodes predicted."""

    name: str
    design: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def episode_year(name: str) -> int:
    """Calendar year of an episode's start."""
    return dt.date.fromisoformat(str(load_scenario(name).start)).year


def folds(time_split_last_year: int = 2015) -> list[Fold]:
    """Every leave-one-episode-out fold, then the time split."""
    eps = list(V.EPISODES)
    out = [Fold(f"without {e}", "leave one out", tuple(x for x in eps if x != e), (e,)) for e in eps]
    early = tuple(e for e in eps if episode_year(e) <= time_split_last_year)
    late = tuple(e for e in eps if e not in early)
    out.append(Fold(f"up to {time_split_last_year} -> later", "time split", early, late))
    return out


def train_patterns(fold: Fold, fitted: Sequence[V.Pattern]) -> list[V.Pattern]:
    """Fitted patterns that read only training episodes."""
    return [p for p in fitted if set(p.episodes) <= set(fold.train)]


def test_patterns(fold: Fold, patterns: Sequence[V.Pattern]) -> list[V.Pattern]:
    """Scored patterns of the predicted episodes."""
    return [p for p in K.scored(patterns) if p.episode in fold.test]


def fold_config(cfg, quick: bool):
    """The calibration settings of a fold: ``cfg`` with the ``out_of_sample`` budget (its
    ``quick`` block when ``quick``)."""
    oos = OmegaConf.to_container(cfg.out_of_sample)
    quick_block = oos.pop("quick", {})
    if quick:
        oos.update(quick_block)
    return OmegaConf.merge(cfg, {k: v for k, v in oos.items() if k in cfg}), oos


def predict(fold_cfg, oos: dict, theta: np.ndarray, w: np.ndarray, names, episodes, seed: int) -> V.Runs:
    """Posterior predictive runs of ``episodes``: particles resampled from ``theta`` by weight,
    each repeated for ``predict_worlds_per_particle`` worlds."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    idx = C.systematic_resample(np.asarray(w, float), int(oos["predict_particles"]), rng)
    table = pd.DataFrame(
        np.repeat(theta[idx], int(oos["predict_worlds_per_particle"]), axis=0),
        columns=[f"behaviour.{n}" for n in names],
    )
    return V.run_episodes(
        len(table), seed, names=episodes, params=table, overrides=C.base_overrides(fold_cfg), workers=1
    )


def run_fold(cfg_dict: dict, fold: Fold, index: int, quick: bool) -> pd.DataFrame:
    """Calibrate one fold, predict its held-out patterns and score them (one row per pattern)."""
    cfg, oos = fold_config(OmegaConf.create(cfg_dict), quick)
    prior = C.Prior.from_config(cfg.parameters)
    all_patterns, fitted = C.fitted_patterns(cfg)
    train = train_patterns(fold, fitted)
    sim = C.Simulator(cfg, prior, train)
    rng = np.random.default_rng(np.random.SeedSequence([int(cfg.seed), 10, index]))
    post = C.apmc(sim, cfg, rng, lambda msg: None)
    test = test_patterns(fold, all_patterns)
    needed = sorted({e for p in test for e in p.episodes}, key=list(V.EPISODES).index)
    runs = predict(
        cfg, oos, prior.natural(post["z"]), post["w"], prior.names, needed, C.sub_seed(cfg.seed, 11, index)
    )
    pool = [p for p in all_patterns if set(p.episodes) <= set(fold.train)]
    table = K.score_table(runs, test, pool=pool)
    table.insert(0, "fold", fold.name)
    table.insert(1, "design", fold.design)
    table["train_patterns"] = len(train)
    table["generations"] = len(post["history"])
    table["tolerance"] = post["history"][-1]["tolerance"]
    table["particles"] = int(cfg.particles)
    table["worlds_per_draw"] = int(cfg.worlds_per_draw)
    table["predict_worlds"] = len(runs[needed[0]].worlds)
    return table


def out_of_sample(
    cfg, quick: bool = False, workers: int = 1, log: Callable[[str], None] = print, only: Sequence[str] = ()
) -> pd.DataFrame:
    """Every fold (or those named in ``only``), run over ``workers`` processes: the scores of
    every held-out pattern, one row each, with its fold."""
    _, oos = fold_config(cfg, quick)
    todo = [
        (i, f)
        for i, f in enumerate(folds(int(oos.get("time_split_last_year", 2015))))
        if not only or f.name in only
    ]
    cfg_dict = OmegaConf.to_container(cfg)
    tables: list[pd.DataFrame] = []
    if workers <= 1:
        for i, f in todo:
            tables.append(run_fold(cfg_dict, f, i, quick))
            log(f"fold '{f.name}': {len(tables[-1])} patterns scored")
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [(f, pool.submit(run_fold, cfg_dict, f, i, quick)) for i, f in todo]
            for f, fut in futures:
                tables.append(fut.result())
                log(f"fold '{f.name}': {len(tables[-1])} patterns scored")
    return pd.concat(tables, ignore_index=True)


def summaries(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Skill per held-out episode and in total, for each design."""
    return {design: K.skill_summary(t, by="episode") for design, t in table.groupby("design", sort=False)}
