"""Proper scores of the validation patterns against two null models, and informative passes.

Every pattern with a :class:`~sim.report.patterns.ScoreSpec` is scored three times, with the
same proper scoring rules (Gneiting and Raftery 2007) and the same observation:

- the **model**: the simulated ensemble of the episode (one value or 0/1 outcome per world),
  mixed with one pseudo-world of the know-nothing null so that no probability is 0
  (:func:`sim.report.scores.smoothed`);
- the **know-nothing** null: durations and days log-uniform from one day to the horizon, counts
  uniform over a range stated with the pattern, events at even odds (1/k for one of k causes);
- the **base rate** null: the observations of the same family in the *other* episodes of the
  pool (for a counted quantity, as a rate per ``ScoreSpec.per``), with one pseudo-observation
  of the know-nothing null (:func:`sim.report.scores.base_rate`). Out of sample, the pool is
  the training episodes only.

Scores (all lower is better): for values and counts the CRPS (threshold-weighted over the
simulated days, so a ceasefire or talks still running at the horizon enter through the survival
function and never as a value at the horizon; Gneiting and Ranjan 2011, Avati et al. 2020) and
the ignorance ``-ln p`` of the observed interval (a point observation of a continuous quantity
read at +-``precision_share``, a count exactly); for events the Brier score and the ignorance.
Why both: the CRPS rewards being close in the observation's own units and is robust to a
forecast that puts little mass on the exact value; the log score is the only local proper score
and sums over patterns in one unit (nats), so it gives the totals.

Skill: the information gain ``ignorance(null) - ignorance(model)`` in nats (summed per episode
and in total) and the quadratic skill ``1 - CRPS(model) / CRPS(null)`` (or Brier; the median over
patterns, since CRPS units differ).

Informative passes: a pass of the 90%-interval rule counts as informative only when the same
rule fails for the observation doubled and for it halved (values), or for the opposite outcome
(events, shares, relations).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sim.report import scores as S
from sim.report.patterns import Outcome, Pattern, Runs, inside


@dataclass
class PatternScore:
    """Scores of one pattern under the model and the two nulls (lower is better).

    Attributes:
        pattern, episode, form: the pattern's id, episode and score form.
        rule: ``crps`` (values, counts) or ``brier`` (events): the quadratic score's name.
        model, null, base: the quadratic score of the model, the know-nothing and the
            base-rate null.
        ign_model, ign_null, ign_base: ignorance ``-ln p`` of the observation, nats.
        worlds: worlds scored (after dropping worlds where the quantity does not apply).
        censored_share: share of those worlds still running at the horizon.
        p_model: events: the model's smoothed probability of what happened.
        one_sided: the observation is a one-sided bound ("at most 26", "over 100"): a weak
            test, on which a forecast gains over a wide know-nothing null with little effort.
    """

    pattern: str
    episode: str
    form: str
    rule: str
    model: float
    null: float
    base: float
    ign_model: float
    ign_null: float
    ign_base: float
    worlds: int
    censored_share: float = 0.0
    p_model: float = float("nan")
    one_sided: bool = False


def scored(patterns: Iterable[Pattern]) -> list[Pattern]:
    """The patterns that are tests and have a score specification."""
    return [p for p in patterns if p.score is not None and not p.not_a_test]


def observation(p: Pattern) -> tuple[float, float]:
    """The observed interval scored for a pattern (an event that happened is ``(1, 1)``)."""
    spec = p.score
    if spec.observed is not None:
        return spec.observed
    return (1.0, 1.0) if spec.form == "event" else p.observed


def _per_world(p: Pattern, runs: Runs) -> np.ndarray:
    f = p.score.per_world or p.per_world
    return np.asarray(f(runs), dtype=float).reshape(-1)


def _null_forecast(p: Pattern, horizon: float):
    lo, hi = p.score.null
    hi = horizon if math.isinf(hi) else hi
    if p.score.form == "count":
        return S.UniformCountForecast(int(lo), int(hi))
    if p.score.form == "rate":
        return S.UniformForecast(lo, hi)
    return S.LogUniformForecast(max(lo, 1e-9), hi)


def _family(p: Pattern, pool: Iterable[Pattern]) -> list[Pattern]:
    """Members of ``p``'s family observed in other episodes of ``pool``."""
    fam = p.score.family
    if not fam:
        return []
    return [
        q
        for q in pool
        if q.score is not None and q.score.family == fam and q.episode != p.episode and not q.not_a_test
    ]


def _base_event_probability(p: Pattern, pool: Iterable[Pattern]) -> float:
    """Base rate of an event: other episodes' outcomes of the family, plus one pseudo-outcome at
    the know-nothing probability."""
    members = _family(p, pool)
    hits = sum(
        1.0 if (not p.score.category or q.score.category == p.score.category) else 0.0 for q in members
    )
    return (hits + p.score.null_p) / (len(members) + 1)


def _base_value_forecast(p: Pattern, pool: Iterable[Pattern], null):
    """Base rate of a value: the other episodes' observations of the family, rescaled by
    ``per`` (e.g. monthly rates to this window's months), with one know-nothing component."""
    obs = []
    for q in _family(p, pool):
        lo, hi = observation(q)
        k = p.score.per / q.score.per
        obs.append((lo * k, hi * k))
    return S.base_rate(obs, null)


def _log_interval(p: Pattern) -> tuple[float, float]:
    """The interval whose probability the log score takes: a point observation of a continuous
    quantity widened by ``precision_share``; counts and ranges as observed."""
    lo, hi = observation(p)
    if p.score.form == "continuous" and lo == hi:
        return lo * (1 - p.score.precision_share), hi * (1 + p.score.precision_share)
    return lo, hi


def _score_event(p: Pattern, runs: Runs, pool: Sequence[Pattern]) -> PatternScore:
    x = _per_world(p, runs)
    x = x[~np.isnan(x)]
    pm = S.event_probability(x, p.score.null_p)
    pb = _base_event_probability(p, pool)
    pn = p.score.null_p
    return PatternScore(
        p.id,
        p.episode,
        "event",
        "brier",
        S.brier(pm, True),
        S.brier(pn, True),
        S.brier(pb, True),
        S.event_log_score(pm, True),
        S.event_log_score(pn, True),
        S.event_log_score(pb, True),
        len(x),
        p_model=pm,
    )


def _ensemble(p: Pattern, runs: Runs) -> tuple[S.EnsembleForecast | None, float]:
    """The simulated values as a forecast censored at one common horizon.

    A world still running when the simulation ends (``ScoreSpec.censored``) is known only to
    exceed its value. Worlds censored before the observation (a ceasefire that began a few days
    before the horizon) say nothing about it and are dropped, as Kaplan-Meier's independent
    censoring allows; the common horizon is then the smallest value of the remaining censored
    worlds (every kept world is known up to it), or the episode's horizon, and a world whose value
    passes it counts as beyond it. None when no world has the quantity (e.g. attacks in worlds
    without a ceasefire when every world reached one)."""
    x = _per_world(p, runs)
    cens = (
        np.zeros(len(x), bool)
        if p.score.censored is None
        else np.asarray(p.score.censored(runs), bool).reshape(-1)
    )
    lo, hi = observation(p)
    need = hi if math.isfinite(hi) else lo
    keep = ~np.isnan(x) & ~(cens & (x < need))
    x, cens = x[keep], cens[keep]
    days = float(runs[p.episode].days)
    if not len(x):
        return None, days
    horizon = min(float(x[cens].min()), days) if cens.any() else days
    cens = cens | (x > horizon)
    ens = S.EnsembleForecast(
        x, censored=cens, horizon=horizon if cens.any() else math.inf, discrete=p.score.form == "count"
    )
    return ens, horizon


def _score_value(p: Pattern, runs: Runs, pool: Sequence[Pattern]) -> PatternScore:
    ens, horizon = _ensemble(p, runs)
    null = _null_forecast(p, float(runs[p.episode].days))
    base = _base_value_forecast(p, pool, null)
    # No world has the quantity: the add-one rule of smoothed() with no world leaves the null.
    model = S.smoothed(ens, null) if ens is not None else null
    lo, hi = observation(p)
    censored_share = ens.censored_share if ens is not None else 0.0
    window = (0.0, horizon if censored_share > 0 else math.inf)
    a, b = _log_interval(p)
    crps = [S.crps(f, lo, hi, window) for f in (model, null, base)]
    ign = [S.log_score(f, a, b) for f in (model, null, base)]
    one_sided = (lo <= 0 and math.isfinite(hi)) or math.isinf(hi)
    return PatternScore(
        p.id,
        p.episode,
        p.score.form,
        "crps",
        *crps,
        *ign,
        ens.n if ens is not None else 0,
        censored_share=censored_share,
        one_sided=one_sided,
    )


def score_pattern(p: Pattern, runs: Runs, pool: Sequence[Pattern]) -> PatternScore:
    """Scores of one pattern from its episode's runs; ``pool`` holds the patterns whose
    observations may make the base rate (only other episodes' members of its family count)."""
    if p.score.form == "event":
        return _score_event(p, runs, pool)
    return _score_value(p, runs, pool)


def score_table(
    runs: Runs, patterns: Sequence[Pattern], pool: Sequence[Pattern] | None = None
) -> pd.DataFrame:
    """One row of :class:`PatternScore` per scored pattern whose episodes are in ``runs``."""
    pool = list(patterns if pool is None else pool)
    rows = [
        asdict(score_pattern(p, runs, pool)) for p in scored(patterns) if all(e in runs for e in p.episodes)
    ]
    return pd.DataFrame(rows, columns=[f.name for f in PatternScore.__dataclass_fields__.values()])


def _mean_skill(model: pd.Series, null: pd.Series) -> float:
    """Quadratic skill of several patterns: the median over patterns of ``1 - model / null``.
    CRPS units differ between patterns (days, attacks), so the scores cannot be summed; a mean
    of the ratios (arithmetic or geometric) is ruled by one pattern whose null or model scores
    near 0 (an observed range the forecast lies wholly inside has a CRPS of 0), the median is not."""
    m, n = np.asarray(model, float), np.asarray(null, float)
    ok = np.isfinite(m) & np.isfinite(n) & (n > 0)
    return float(np.median(1 - m[ok] / n[ok])) if ok.any() else float("nan")


def skill_summary(table: pd.DataFrame, by: str | None = "episode") -> pd.DataFrame:
    """Skill per group (``by``) and in total: information gain over each null in nats (summed),
    quadratic skill over patterns (:func:`_mean_skill`), and how many patterns the model beats
    each null on (log score). A last row gives the total without the one-sided bounds (events and
    point or two-sided observations only), where the model cannot gain by merely being narrower
    than the know-nothing null."""

    def one(t: pd.DataFrame) -> dict:
        return {
            "patterns": len(t),
            "gain_vs_null_nats": float((t["ign_null"] - t["ign_model"]).sum()),
            "gain_vs_base_nats": float((t["ign_base"] - t["ign_model"]).sum()),
            "skill_vs_null": _mean_skill(t["model"], t["null"]),
            "skill_vs_base": _mean_skill(t["model"], t["base"]),
            "beats_null": int((t["ign_model"] < t["ign_null"]).sum()),
            "beats_base": int((t["ign_model"] < t["ign_base"]).sum()),
        }

    rows = []
    if by is not None:
        for key, t in table.groupby(by, sort=False):
            rows.append({by: key, **one(t)})
    rows.append({**({by: "total"} if by else {}), **one(table)})
    if "one_sided" in table and table["one_sided"].any() and not table["one_sided"].all():
        sharp = table[~table["one_sided"].astype(bool)]
        rows.append({**({by: "total without one-sided bounds"} if by else {}), **one(sharp)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Informative passes
# --------------------------------------------------------------------------------------------


def _flip(interval: tuple[float, float]) -> tuple[float, float]:
    return 1.0 - interval[1], 1.0 - interval[0]


def wrong_observations(p: Pattern) -> list[tuple[str, tuple[float, float]]]:
    """The plainly wrong observations a pass must fail for to count as informative: the value
    doubled and halved, or the opposite outcome."""
    lo, hi = p.observed
    if p.kind == "value":
        return [("doubled", (2 * lo, 2 * hi)), ("halved", (lo / 2, hi / 2))]
    if p.kind == "relation":
        return [("opposite", p.opposite)] if p.opposite is not None else []
    return [("opposite", p.observed)]  # tested against the flipped interval, see informative()


def informative(o: Outcome) -> bool | None:
    """A pass is informative when every wrong observation of :func:`wrong_observations` fails
    the same 90%-interval rule. None when the row is not judged or not passed."""
    if not o.passed:
        return None
    p = o.pattern
    wrong = wrong_observations(p)
    if not wrong:
        return False
    interval = _flip(o.i90) if p.kind in ("event", "share") else o.i90
    return not any(inside(obs, interval) for _, obs in wrong)
