"""Validation against the documented episodes: patterns, simulated statistics, pass/fail, report.

A *pattern* is one thing the seed articles report about one episode (the ``observed:`` block of
its scenario file), turned into a statistic the model produces:

- ``value``: a number per world (ceasefire days, attacks in a calendar month). Its simulated
  median and 50% / 90% intervals are quantiles over worlds (the model's predictive spread).
- ``event``: something that happened once (the accord ended by a state operation). Per world it
  happened or not; the statistic is the share of worlds where it happens, with Clopper-Pearson
  (binomial) 50% / 90% intervals. The observation counts as inside the 90% interval when the
  model gives it a probability of at least 5%, so that, as for a value, the observed history is
  not in a 5% tail of the model's outcomes.
- ``share``: a claim about how often ("no ceasefire in most worlds"): a share with
  Clopper-Pearson intervals against the claimed range (most = above one half).
- ``relation``: a statistic of the whole ensemble (a rank correlation, the lead of one collapse
  cause over the others), with bootstrap 50% / 90% intervals (resampling worlds).

Pass rule, for every kind: the observed value, or any part of the observed range, lies inside
the simulated 90% interval (:func:`inside`). An observation written as a bound ("at least 100",
"under a year") is a range with one open end.

Every observed key of every episode file is listed in :data:`KEY_COVERAGE` with the pattern that
tests it or the reason it cannot be tested, so the report accounts for each fact in the seeds.

``python -m sim.cli.validate`` runs every episode and writes ``results/validation/report.md`` with
figures beside it (:func:`sim.report.validation.write_report`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.core import registry
from sim.core.registry import ENDED_CAUSES
from sim.core.types import CEASEFIRE, FIGHTING
from sim.inputs.params import tunable_paths
from sim.inputs.scenarios import SCENARIO_DIR, load_scenario
from sim.inputs.schema import Scenario
from sim.running.ensemble import run

INF = math.inf
EVENT_MIN_PROBABILITY = 0.05
"""An event observed once is inside the 90% interval when the model gives it at least this."""

# --------------------------------------------------------------------------------------------
# Episodes and their horizons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """How long to run an episode and what to record.

    Attributes:
        name: scenario name (``scenarios/<name>.yaml``).
        end: last simulated calendar day (inclusive), YYYY-MM-DD.
        why: why the horizon ends there.
        daily: whether the patterns need daily series (calendar windows, phase by day).
    """

    name: str
    end: str
    why: str
    daily: bool = False


EPISODES: dict[str, Episode] = {
    e.name: e
    for e in (
        Episode("shakai_2004", "2005-04-30", "one year: seven times the reported 50 days"),
        Episode(
            "waziristan_2006", "2008-09-04", "two years, to see the accord end (reported: within a year)"
        ),
        Episode(
            "swat_2008",
            "2009-02-15",
            "until the next Swat deal of 16 Feb 2009 (swat_2009), by which the 2008 deal had failed",
        ),
        Episode("swat_2009", "2010-02-15", "one year ('a little later', 000)"),
        Episode("inducements_2012", "2015-12-31", "the four years 2012-2015 of 003's defections"),
        Episode(
            "secret_talks_2020",
            "2021-02-28",
            "to the end of the UN's 'first two months of 2021' (004)",
            daily=True,
        ),
        Episode("ceasefire_2021", "2022-05-08", "until the Kabul talks of 9 May 2022 (kabul_2022)"),
        Episode(
            "kabul_2022",
            "2023-05-08",
            "one year, to compare with 2021 and see defections under long ceasefires",
            daily=True,
        ),
    )
}

COUNTERFACTUALS = (
    "kabul_2022_full_delivery",
    "kabul_2022_no_mediator",
    "secret_talks_2020_no_unity_demand",
    "ceasefire_2021_prisoners_first",
)


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(str(s))


def horizon_days(scenario: Scenario, episode: Episode) -> int:
    """Days simulated for an episode: from the scenario's start to ``episode.end`` inclusive."""
    return (_date(episode.end) - _date(scenario.start)).days + 1


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last calendar day of an ISO 8601 period: ``2022-06``, ``2021``,
    ``2021-01/2021-02``, ``2021-02-12/2021-02-19`` (both ends inclusive)."""

    def first(p: str) -> dt.date:
        parts = [int(x) for x in p.split("-")]
        return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)

    def last(p: str) -> dt.date:
        parts = [int(x) for x in p.split("-")]
        if len(parts) == 3:
            return dt.date(*parts)
        if len(parts) == 2:
            y, m = parts
            return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        return dt.date(parts[0], 12, 31)

    a, _, b = str(period).partition("/")
    return first(a), last(b or a)


# --------------------------------------------------------------------------------------------
# One episode's simulated worlds
# --------------------------------------------------------------------------------------------


@dataclass
class EpisodeRun:
    """The simulated worlds of one episode, with the helpers patterns use.

    Attributes:
        name: scenario name. scenario: the loaded scenario. days: horizon.
        worlds: outcome table (one row per world). daily: ``{series: [worlds, days]}`` arrays
            (empty unless the episode records daily series). params: per-world parameters or None.
    """

    name: str
    scenario: Scenario
    days: int
    worlds: pd.DataFrame
    daily: dict[str, np.ndarray] = field(default_factory=dict)
    params: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        return len(self.worlds)

    @property
    def start(self) -> dt.date:
        return _date(self.scenario.start)

    def day(self, date: str | dt.date) -> int:
        """Day index of a calendar date (day 0 = the scenario's start)."""
        return (_date(str(date)) - self.start).days

    def window(self, period: str) -> tuple[int, int]:
        """Day indices ``(first, last)`` of a calendar period, inclusive; must lie in the run."""
        a, b = period_bounds(period)
        d0, d1 = self.day(a), self.day(b)
        if d0 < 0 or d1 >= self.days:
            raise ValueError(f"{self.name}: period {period} is outside the simulated days 0-{self.days - 1}")
        return d0, d1

    def window_sum(self, series: str, period: str) -> np.ndarray:
        """Per-world sum of a daily series over a calendar period."""
        d0, d1 = self.window(period)
        return self.daily[series][:, d0 : d1 + 1].sum(axis=1)

    def in_phase_throughout(self, phase: float, period: str) -> np.ndarray:
        """Per world: the phase held at the end of every day of the period."""
        d0, d1 = self.window(period)
        return np.all(self.daily["phase"][:, d0 : d1 + 1] == phase, axis=1)

    def param(self, path: str) -> np.ndarray:
        """Per-world value of a tunable field (from the params table, else the scenario)."""
        if self.params is not None and path in self.params.columns:
            return self.params[path].to_numpy(dtype=float)
        return np.full(self.n, float(tunable_paths(self.scenario)[path][1]))

    def col(self, name: str) -> np.ndarray:
        return self.worlds[name].to_numpy()

    def duration_or_zero(self) -> np.ndarray:
        """First ceasefire's duration in days, 0 where none was reached."""
        return np.nan_to_num(self.worlds["ceasefire_days"].to_numpy(dtype=float), nan=0.0)

    def ended(self) -> np.ndarray:
        """The first ceasefire was reached and ended within the horizon."""
        return (self.col("ceasefire_reached") & ~self.col("ceasefire_censored")).astype(bool)

    def cause_is(self, cause: str) -> np.ndarray:
        return (self.worlds["collapse_cause"].astype(str) == cause).to_numpy()


def daily_arrays(worlds: pd.DataFrame, timeseries: pd.DataFrame, days: int) -> dict[str, np.ndarray]:
    """``{series: [worlds, days]}`` arrays from a daily long table (rows follow ``worlds``)."""
    index = pd.Index(worlds["world"].to_numpy())
    rows = index.get_indexer(timeseries["world"].to_numpy())
    cols = timeseries["day"].to_numpy()
    out = {}
    for name in ("phase", "ttp_attacks", "spoiler_attacks", "casualties"):
        a = np.zeros((len(index), days))
        a[rows, cols] = registry.codes(timeseries[name])  # phase: its codes
        out[name] = a
    return out


def episode_seed(seed: int, name: str) -> int:
    """Seed of one episode in a validation or calibration run (distinct per episode)."""
    key = [int(b) for b in name.encode()]
    return int(np.random.SeedSequence([int(seed)] + key).generate_state(1)[0])


def run_episodes(
    worlds: int,
    seed: int,
    names: Sequence[str] | None = None,
    params: pd.DataFrame | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int = 1,
    chunk_worlds: int = 2048,
    behaviour: str = "shipped",
    executor: str = "local",
    executor_address: str | None = None,
) -> dict[str, EpisodeRun]:
    """Run every episode (or ``names``) once, each as one batch of ``worlds`` worlds.

    Args:
        worlds: worlds per episode. seed: run seed (each episode derives its own).
        params: optional per-world parameters (one row per world), the same for every episode.
        overrides: dotted scenario fields applied to every episode when loading it (e.g.
            ``{"behaviour.accept_per_day": 0.05}``).
        workers: processes per run (results do not depend on it).
        behaviour: ``"shipped"`` (conf/behaviour.yaml) or ``"posterior"`` (each world a particle
            of the shipped posterior sample; ``EpisodeRun.params`` then holds its values).
        executor, executor_address: what steps each run's chunks, as :func:`sim.run` (a Dask
            or Ray cluster; results do not depend on it).
    """
    out = {}
    for name in names or list(EPISODES):
        ep = EPISODES[name]
        s = load_scenario(name, overrides=dict(overrides or {}))
        days = horizon_days(s, ep)
        res = run(
            s,
            worlds=worlds,
            days=days,
            seed=episode_seed(seed, name),
            params=params,
            record="daily" if ep.daily else "none",
            workers=workers,
            chunk_worlds=chunk_worlds,
            behaviour=behaviour,
            executor=executor,
            executor_address=executor_address,
        )
        daily = daily_arrays(res.worlds, res.timeseries, days) if ep.daily else {}
        out[name] = EpisodeRun(name, s, days, res.worlds, daily, params)
        del res
    return out


def subset(runs: Mapping[str, EpisodeRun], rows: np.ndarray) -> dict[str, EpisodeRun]:
    """The same runs restricted to the worlds at positions ``rows``."""
    out = {}
    for name, e in runs.items():
        out[name] = dataclasses.replace(
            e,
            worlds=e.worlds.iloc[rows].reset_index(drop=True),
            daily={k: v[rows] for k, v in e.daily.items()},
            params=None if e.params is None else e.params.iloc[rows].reset_index(drop=True),
        )
    return out


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

Runs = Mapping[str, EpisodeRun]


@dataclass(frozen=True)
class ScoreSpec:
    """How a pattern's observation is scored against the ensemble and the two null models
    (:mod:`sim.report.skill`, scores of :mod:`sim.report.scores`).

    Attributes:
        form: ``continuous`` (a duration, a day or a ratio: CRPS and the log score of the
            observation read at ``precision_share``; know-nothing null log-uniform over ``null``),
            ``count`` (whole numbers: CRPS and the log score of the exact count; null uniform over
            the integers of ``null``), ``rate`` (a real-valued rate such as attacks a month: CRPS
            and the log score of the observed range; null uniform over ``null``) or ``event``
            (Brier and log score; null ``null_p``).
        null: the know-nothing range; an upper end of ``inf`` means the episode's horizon.
        null_why: why that range (stated in the report).
        family: observations of other episodes in the same family make the base-rate null
            (``""``: no other episode observes it, so the base rate is the know-nothing null).
        per: the observation divided by ``per`` is what the family pools (e.g. the months of a
            window, so counts of windows of different lengths pool as monthly rates).
        censored: per world, True where the value is only a lower bound: the ceasefire or the
            talks were still running at the horizon (scored through the survival function).
        per_world: the per-world values or 0/1 outcomes scored, when they differ from the
            pattern's own statistic (a relation's per-world form).
        observed: the observation scored, when it differs from the pattern's ``observed``
            (an event that happened is ``(1, 1)``, the default for events).
        category: for an event family of categories (the cause that ended a ceasefire): the
            category observed here; another episode counts towards the base rate when its
            observed category is the same.
        null_p: know-nothing probability of an event (0.5; 1/k for one of k causes).
        precision_share: a point observation of a continuous quantity is read as the interval
            of +-this share around it for the log score (the seeds give round figures).
    """

    form: str
    null: tuple[float, float] = (1.0, INF)
    null_why: str = ""
    family: str = ""
    per: float = 1.0
    censored: Callable[[Runs], np.ndarray] | None = None
    per_world: Callable[[Runs], np.ndarray] | None = None
    observed: tuple[float, float] | None = None
    category: str = ""
    null_p: float = 0.5
    precision_share: float = 0.1


@dataclass(frozen=True)
class Pattern:
    """One observed pattern of one episode and the statistic that reproduces it.

    Attributes:
        id: ``episode.short_name``.
        episode: the scenario the pattern belongs to (others may be needed, see ``needs``).
        name: what is compared, in plain words.
        kind: ``value``, ``event``, ``share`` or ``relation`` (see the module doc).
        observed: the observed value as a range ``(lo, hi)``; equal ends for a point; ``inf``
            for an open end. For ``event`` it is ``(0.05, 1)`` (see :data:`EVENT_MIN_PROBABILITY`).
        observed_text: the observation as the seeds give it, with the seed id.
        keys: the ``observed:`` keys of the scenario file it tests (or the seed it rests on).
        per_world: function of the runs giving one number per world of ``episode`` (an
            indicator 0/1 for events and shares; NaN where the statistic does not apply), or
            for a relation an array ``[worlds, k]`` that ``reduce`` turns into one number.
        reduce: relation only: the statistic of a set of worlds (rows of ``per_world``).
        needs: episodes the statistic reads (default: ``episode``).
        calib_target: range the calibration pulls the per-draw statistic into (default: the
            observed range; ``(1, 1)`` for events: the calibration rewards making the observed
            history likely, the report only asks that it is not a 5% tail event).
        unit: unit of the statistic, for the report.
        score: how the pattern is scored with proper scoring rules (:class:`ScoreSpec`); None for
            a statistic of the whole ensemble that has no single observed outcome to score.
        not_a_test: why the row is not a test of the model (its value is set by an input or by
            the choice of the episode); such rows are shown but neither judged, scored nor fitted.
        opposite: relation only: the range of the opposite claim, for the informative-pass check
            (values are doubled and halved, events and shares flipped, see ``sim.report.skill``).
    """

    id: str
    episode: str
    name: str
    kind: str
    observed: tuple[float, float]
    observed_text: str
    keys: str
    per_world: Callable[[Runs], np.ndarray]
    reduce: Callable[[np.ndarray], float] | None = None
    needs: tuple[str, ...] = ()
    calib_target: tuple[float, float] | None = None
    unit: str = ""
    score: ScoreSpec | None = None
    not_a_test: str = ""
    opposite: tuple[float, float] | None = None

    @property
    def episodes(self) -> tuple[str, ...]:
        return self.needs or (self.episode,)

    @property
    def target(self) -> tuple[float, float]:
        if self.calib_target is not None:
            return self.calib_target
        return (1.0, 1.0) if self.kind == "event" else self.observed


def _observed(name: str) -> dict[str, Any]:
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(OmegaConf.load(SCENARIO_DIR / f"{name}.yaml"))
    return dict(raw.get("observed") or {})  # type: ignore[union-attr]


def _one(mapping: Mapping[str, Any]) -> tuple[str, Any]:
    ((k, v),) = mapping.items()
    return k, v


def _spearman(x: np.ndarray) -> float:
    """Rank correlation of the two columns of ``x`` (NaN if either is constant)."""
    if len(x) < 3:
        return float("nan")
    a, b = stats.rankdata(x[:, 0]), stats.rankdata(x[:, 1])
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ratio_of_means(x: np.ndarray) -> float:
    """Mean of column 0 over mean of column 1, over rows where both are known."""
    x = x[~np.isnan(x).any(axis=1)]
    if len(x) == 0 or x[:, 1].mean() <= 0:
        return float("nan")
    return float(x[:, 0].mean() / x[:, 1].mean())


CAUSES_ENDED = ENDED_CAUSES  # declared order of sim.core.types.CollapseCause


def _lead_of_first(x: np.ndarray) -> float:
    """Share of column 0's cause among ended ceasefires minus the largest share of another
    cause. ``x[:, 0]`` holds cause codes (index into :data:`CAUSES_ENDED`; NaN = not ended)."""
    c = x[:, 0]
    c = c[~np.isnan(c)]
    if len(c) == 0:
        return float("nan")
    shares = np.bincount(c.astype(int), minlength=len(CAUSES_ENDED)) / len(c)
    return float(shares[0] - shares[1:].max())


def _cause_score(cause: str, per_world: Callable[[Runs], np.ndarray] | None = None) -> ScoreSpec:
    """Scoring of the cause that ended a ceasefire: an event against one of the k causes at
    1/k, the base rate counting the other episodes that ended by the same cause."""
    return ScoreSpec(
        "event",
        family="ended_by",
        category=cause,
        per_world=per_world,
        null_p=1.0 / len(CAUSES_ENDED),
        null_why=f"one of the {len(CAUSES_ENDED)} ways a ceasefire ends",
    )


# --- 2004: a ceasefire that lasted 50 days ----------------------------------------------------


def _shakai_2004() -> list[Pattern]:
    o = _observed("shakai_2004")
    return [
        Pattern(
            "shakai_2004.ceasefire_days",
            "shakai_2004",
            "days the first ceasefire lasted",
            "value",
            (o["ceasefire_days"], o["ceasefire_days"]),
            f'{o["ceasefire_days"]} days (002: "a ceasefire that only lasted 50 days")',
            "ceasefire_days, deal_failed",
            lambda r: r["shakai_2004"].worlds["ceasefire_days"].to_numpy(dtype=float),
            unit="days",
            score=ScoreSpec(
                "continuous",
                null_why="log-uniform from one day to the horizon",
                family="ceasefire_days",
                censored=lambda r, n="shakai_2004": r[n].col("ceasefire_censored").astype(bool),
            ),
        )
    ]


# --- 2006: the accord hardly lasted a year, ended by the army's offensive ---------------------


def _waziristan_2006() -> list[Pattern]:
    o = _observed("waziristan_2006")
    return [
        Pattern(
            "waziristan_2006.ceasefire_days",
            "waziristan_2006",
            "days the accord's ceasefire lasted",
            "value",
            (1.0, float(o["ceasefire_days_max"])),
            f'under {o["ceasefire_days_max"]} days (001: "The accord hardly lasted for a year")',
            "ceasefire_days_max, deal_failed",
            lambda r: r["waziristan_2006"].worlds["ceasefire_days"].to_numpy(dtype=float),
            unit="days",
            score=ScoreSpec(
                "continuous",
                null_why="log-uniform from one day to the horizon",
                family="ceasefire_days",
                censored=lambda r, n="waziristan_2006": r[n].col("ceasefire_censored").astype(bool),
            ),
        ),
        Pattern(
            "waziristan_2006.ended_by",
            "waziristan_2006",
            f"the ceasefire ended by {o['ended_by'].replace('_', ' ')}",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            "ended by the army's offensive after Lal Masjid (001)",
            "ended_by",
            lambda r, c=o["ended_by"]: r["waziristan_2006"].cause_is(c).astype(float),
            unit="share",
            score=_cause_score(o["ended_by"]),
        ),
    ]


# --- 2008 and 2009 Swat deals failed ----------------------------------------------------------


def _swat_deal(name: str, text: str) -> Pattern:
    """The deal of a Swat episode failed: its ceasefire ended within the horizon."""
    return Pattern(
        f"{name}.deal_failed",
        name,
        f"the deal's ceasefire collapsed by {EPISODES[name].end}",
        "event",
        (EVENT_MIN_PROBABILITY, 1.0),
        f"the deal failed ({text})",
        "deal_failed",
        lambda r, n=name: r[n].ended().astype(float),
        unit="share",
        score=ScoreSpec("event", family="deal_failed", null_why="even odds"),
    )


def _swat_2008() -> list[Pattern]:
    return [_swat_deal("swat_2008", '002: the 2008 deal "failed to end ongoing extremist violence"')]


def _swat_2009() -> list[Pattern]:
    return [_swat_deal("swat_2009", '000: the deal "more or less fell apart when violence erupted again"')]


# --- 2012-2015: inducements pull whole factions over to the state -----------------------------


def _inducements_2012() -> list[Pattern]:
    o = _observed("inducements_2012")
    n_defected = float(len(o["defected_factions"]))
    return [
        Pattern(
            "inducements_2012.defections",
            "inducements_2012",
            f"factions that defected to the state by {EPISODES['inducements_2012'].end}",
            "value",
            (n_defected, INF),
            f"at least {n_defected:.0f}: "
            + ", ".join(o["defected_factions"])
            + ' (003: "defections of major groups in the TTP, such as a faction of Punjabi Taliban")',
            "defected_factions",
            lambda r: r["inducements_2012"].col("defections_to_state").astype(float),
            unit="factions",
            score=ScoreSpec(
                "count",
                null=(0.0, 3.0),
                null_why="none to all three factions of the scenario",
            ),
        )
    ]


# --- 2020: secret talks, no ceasefire, collapse around the new year ---------------------------


def _no_ceasefire_before(last: str) -> Callable[[Runs], np.ndarray]:
    """Per world (0/1): no ceasefire came before the end of the observed collapse window."""

    def f(r: Runs) -> np.ndarray:
        e = r["secret_talks_2020"]
        start = e.worlds["days_to_ceasefire"].to_numpy(dtype=float)
        return (~(start <= e.day(last))).astype(float)

    return f


def _talks_end_day(r: Runs) -> np.ndarray:
    """Per world: first day of fighting after the 2020 talks, NaN where they ended in a ceasefire."""
    e = r["secret_talks_2020"]
    ph = e.daily["phase"]
    fighting = ph == FIGHTING
    ceasefire = ph == CEASEFIRE
    first_fight = np.where(fighting.any(axis=1), fighting.argmax(axis=1), e.days)
    first_cf = np.where(ceasefire.any(axis=1), ceasefire.argmax(axis=1), e.days + 1)
    out = first_fight.astype(float)
    out[first_cf < first_fight] = np.nan  # the talks ended in a deal, not a breakdown
    return out


def _talks_still_running(r: Runs) -> np.ndarray:
    """Per world: the 2020 talks were still running at the horizon (no fighting, no ceasefire)."""
    ph = r["secret_talks_2020"].daily["phase"]
    return ~((ph == FIGHTING) | (ph == CEASEFIRE)).any(axis=1)


ATTACKS_PER_MONTH_NULL = 100.0
"""Top of the know-nothing range of attacks a month: three times the highest monthly count in
the seeds (33, July 2022, 002)."""
ATTACKS_PER_MONTH_NULL_WHY = "none to 100 a month, three times the highest monthly count in the seeds"


def _attack_count_score(period: str) -> ScoreSpec:
    """Scoring of a count of TTP attacks in a calendar period: pooled as monthly rates."""
    a, b = period_bounds(period)
    months = ((b - a).days + 1) / (365.25 / 12)
    return ScoreSpec(
        "count",
        null=(0.0, round(ATTACKS_PER_MONTH_NULL * months)),
        null_why=ATTACKS_PER_MONTH_NULL_WHY,
        family="ttp_attacks_per_month",
        per=months,
    )


def _never_ceasefire(r: Runs) -> np.ndarray:
    """Worlds of 2020 with no ceasefire at any time (the observed course of 2020-21)."""
    return ~r["secret_talks_2020"].col("ceasefire_reached").astype(bool)


def _talks_attacks(period: str) -> Callable[[Runs], np.ndarray]:
    """Per world: TTP attacks of 2020-21 in ``period``, NaN in worlds that reached a ceasefire."""

    def f(r: Runs) -> np.ndarray:
        x = r["secret_talks_2020"].window_sum("ttp_attacks", period)
        return np.where(_never_ceasefire(r), x, np.nan)

    return f


def _attack_rate_ratio(k_talks: str, k_after: str) -> Callable[[Runs], np.ndarray]:
    """Per world: daily TTP attack rate in ``k_after`` over the rate in ``k_talks``."""

    def f(r: Runs) -> np.ndarray:
        e = r["secret_talks_2020"]
        a0, a1 = e.window(k_talks)
        b0, b1 = e.window(k_after)
        before = _talks_attacks(k_talks)(r) / (a1 - a0 + 1)
        after = _talks_attacks(k_after)(r) / (b1 - b0 + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(before > 0, after / before, np.nan)

    return f


def _talks_casualties(period: str) -> Callable[[Runs], np.ndarray]:
    """Per world: casualties of TTP attacks of 2020-21 in ``period``, NaN with a ceasefire."""

    def f(r: Runs) -> np.ndarray:
        e = r["secret_talks_2020"]
        x = e.window_sum("ttp_attacks", period) * e.param("behaviour.casualties_per_attack_count")
        return np.where(_never_ceasefire(r), x, np.nan)

    return f


def _secret_talks_2020_course() -> list[Pattern]:
    """How the 2020 talks went: no ceasefire, when they broke down, who rejoined."""
    o = _observed("secret_talks_2020")
    first, last = o["talks_ended_window"]
    day0 = _date("2020-01-01")
    return [
        Pattern(
            "secret_talks_2020.no_ceasefire",
            "secret_talks_2020",
            f"share of worlds with no ceasefire before {last}",
            "share",
            (0.5, 1.0),
            'no ceasefire (000: talks "collapsed in late 2020 or early 2021"); claim tested: in most worlds',
            "ceasefire_reached, ended_by",
            _no_ceasefire_before(last),
            calib_target=(1.0, 1.0),
            unit="share",
            score=ScoreSpec("event", family="no_ceasefire", null_why="even odds"),
        ),
        Pattern(
            "secret_talks_2020.talks_end_day",
            "secret_talks_2020",
            "day the talks broke down without a ceasefire (day 0 = 1 Jan 2020)",
            "value",
            (float((_date(first) - day0).days), float((_date(last) - day0).days)),
            f"between {first} and {last} (000)",
            "talks_ended_window",
            _talks_end_day,
            unit="day",
            score=ScoreSpec(
                "continuous",
                null_why="log-uniform from day 1 to the horizon",
                censored=_talks_still_running,
            ),
        ),
        Pattern(
            "secret_talks_2020.reunifications",
            "secret_talks_2020",
            "splinter factions that rejoined the umbrella",
            "value",
            (float(len(o["reunified_factions"])), float(len(o["reunified_factions"]))),
            f"{len(o['reunified_factions'])}: " + ", ".join(o["reunified_factions"]) + " (000)",
            "reunified_factions",
            lambda r: r["secret_talks_2020"].col("reunifications").astype(float),
            unit="factions",
            score=ScoreSpec(
                "count",
                null=(0.0, 5.0),
                null_why="none to all five factions outside the central one",
            ),
        ),
    ]


def _secret_talks_2020_violence() -> list[Pattern]:
    """Attacks and casualties in and after the 2020 talks (worlds without a ceasefire).

    Long because it declares each of the episode's patterns as data, one entry each.
    """
    o = _observed("secret_talks_2020")
    k_talks, v_talks = _one(o["ttp_attacks_talks_min"])
    k_after, v_after = _one(o["ttp_attacks_after"])
    k_cas, v_cas = _one(o["casualties_after_min"])
    tb = period_bounds(k_talks)
    ab = period_bounds(k_after)
    ratio_hi = (v_after / ((ab[1] - ab[0]).days + 1)) / (v_talks / ((tb[1] - tb[0]).days + 1))
    return [
        Pattern(
            "secret_talks_2020.attacks_talks",
            "secret_talks_2020",
            f"TTP attacks in {k_talks} (worlds without a ceasefire)",
            "value",
            (float(v_talks), INF),
            f'over {v_talks} (004, UN: "over a 100 attacks" in the last six months of 2020)',
            "ttp_attacks_talks_min",
            _talks_attacks(k_talks),
            unit="attacks",
            not_a_test="the same UN count as secret_talks_2020.attacks_jul_oct, which dates it to "
            "July-October 2020 (R23); seed 004 spreads it over six months",
        ),
        Pattern(
            "secret_talks_2020.attacks_after",
            "secret_talks_2020",
            f"TTP attacks in {k_after} (worlds without a ceasefire)",
            "value",
            (float(v_after), float(v_after)),
            f'{v_after} (004, UN: "Another 32")',
            "ttp_attacks_after",
            _talks_attacks(k_after),
            unit="attacks",
            score=_attack_count_score(k_after),
        ),
        Pattern(
            "secret_talks_2020.after_vs_talks",
            "secret_talks_2020",
            "TTP attack rate after the collapse over the rate in the last six months of talks",
            "value",
            (0.0, round(ratio_hi, 3)),
            f"at most {ratio_hi:.2f} (004: {v_after} in {k_after} against over {v_talks} in {k_talks}); "
            "000 speaks of a spike in claimed violence, the counts show none",
            "ttp_attacks_after, ttp_attacks_talks_min",
            _attack_rate_ratio(k_talks, k_after),
            unit="ratio",
            score=ScoreSpec(
                "continuous",
                null=(0.1, 10.0),
                null_why="log-uniform from a tenth to ten times the rate in talks",
            ),
        ),
        Pattern(
            "secret_talks_2020.casualties_after",
            "secret_talks_2020",
            f"killed and injured in TTP attacks {k_cas} (worlds without a ceasefire)",
            "value",
            (float(v_cas), INF),
            f"over {v_cas} security forces (000: a TTP claim for one week)",
            "casualties_after_min",
            _talks_casualties(k_cas),
            unit="people",
            score=ScoreSpec(
                "count",
                null=(0.0, 200.0),
                null_why="none to 200 in a week",
            ),
        ),
    ]


# --- November 2021: about a month, ended over undelivered releases ----------------------------


def _promises_not_kept_2021(r: Runs) -> np.ndarray:
    """Per world (0/1): the state promised prisoners in 2021 and released fewer."""
    e = r["ceasefire_2021"]
    return (
        (e.col("prisoners_promised") > 0) & (e.col("prisoners_released") < e.col("prisoners_promised"))
    ).astype(float)


def _attacks_after_and_under_2021(r: Runs) -> np.ndarray:
    """Per world: TTP attacks a month after the 2021 ceasefire and under it (two columns)."""
    w = r["ceasefire_2021"].worlds
    return np.column_stack(
        [
            w["ttp_attacks_per_month_after"].to_numpy(dtype=float),
            w["ttp_attacks_per_month_ceasefire"].to_numpy(dtype=float),
        ]
    )


def _days_between(first: str, last: str) -> int:
    return (_date(last) - _date(first)).days


def _intensified_after_2021(r: Runs) -> np.ndarray:
    """Per world (0/1): more TTP attacks a month after the 2021 ceasefire than under it (NaN
    where the ceasefire did not end or had no attack-month to compare)."""
    x = _attacks_after_and_under_2021(r)
    out = (x[:, 0] > x[:, 1]).astype(float)
    out[np.isnan(x).any(axis=1)] = np.nan
    return out


def _ceasefire_2021() -> list[Pattern]:
    """The observed patterns of the 2021 ceasefire.

    Long because it declares each of the episode's patterns as data, one entry each.
    """
    o = _observed("ceasefire_2021")
    return [
        Pattern(
            "ceasefire_2021.reached",
            "ceasefire_2021",
            "a ceasefire was reached",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            'reached (003: "A short cease-fire was announced in early November")',
            "ceasefire_reached",
            lambda r: r["ceasefire_2021"].col("ceasefire_reached").astype(float),
            unit="share",
            not_a_test="the episode is chosen because its talks produced a ceasefire "
            "(selected on the outcome)",
        ),
        Pattern(
            "ceasefire_2021.ceasefire_days",
            "ceasefire_2021",
            "days the ceasefire lasted",
            "value",
            (
                float(_days_between(o["ceasefire_started_on"], o["ceasefire_ended_on"])),
                float(_days_between(o["ceasefire_started_on"], o["ceasefire_ended_on"]) + 1),
            ),
            f"{o['ceasefire_started_on']} to {o['ceasefire_ended_on']}, 30-31 days (R08-R10; 31 if the "
            "last day counts); 003 says early November to early December",
            "ceasefire_started_on, ceasefire_ended_on, ceasefire_days_min, ceasefire_days_max",
            lambda r: r["ceasefire_2021"].worlds["ceasefire_days"].to_numpy(dtype=float),
            unit="days",
            score=ScoreSpec(
                "continuous",
                null_why="log-uniform from one day to the horizon",
                family="ceasefire_days",
                censored=lambda r, n="ceasefire_2021": r[n].col("ceasefire_censored").astype(bool),
            ),
        ),
        Pattern(
            "ceasefire_2021.ended_by",
            "ceasefire_2021",
            "lead of state non-delivery over the next most common cause, among ended ceasefires",
            "relation",
            (1e-9, 1.0),
            "ended over undelivered commitments (003: \"the Pakistani government didn't keep its "
            'commitments"); claim tested: the most common cause',
            "ended_by",
            lambda r, c=o["ended_by"]: _cause_codes(r["ceasefire_2021"], c),
            reduce=_lead_of_first,
            unit="share",
            score=_cause_score(
                o["ended_by"],
                lambda r, c=o["ended_by"]: np.where(
                    r["ceasefire_2021"].ended(), r["ceasefire_2021"].cause_is(c), np.nan
                ),
            ),
            opposite=(-1.0, 0.0),
        ),
        Pattern(
            "ceasefire_2021.promises_not_kept",
            "ceasefire_2021",
            "the state released fewer prisoners than it promised",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            'not kept (003: "Pakistan\'s unwillingness to release prisoners")',
            "promises_kept",
            _promises_not_kept_2021,
            unit="share",
            score=ScoreSpec("event", family="promises_not_kept", null_why="even odds"),
        ),
        Pattern(
            "ceasefire_2021.intensified_after",
            "ceasefire_2021",
            "TTP attacks a month in the 90 days after the ceasefire ended over the rate under it "
            "(ratio of means over worlds)",
            "relation",
            (1.0, INF),
            'more after (001: the TTP "agreed to a ceasefire with Pakistan, but then backed out '
            'and intensified its onslaught")',
            "none (seed 001)",
            _attacks_after_and_under_2021,
            reduce=_ratio_of_means,
            unit="ratio",
            score=ScoreSpec(
                "event",
                family="intensified_after",
                per_world=_intensified_after_2021,
                null_why="even odds",
            ),
            opposite=(0.0, 1.0),
        ),
    ]


# --- 2022 Kabul talks -------------------------------------------------------------------------


def _in_force_on(date: str) -> Callable[[Runs], np.ndarray]:
    """Per world (0/1): the first 2022 ceasefire was in force on ``date``."""

    def f(r: Runs) -> np.ndarray:
        e = r["kabul_2022"]
        start = e.worlds["days_to_ceasefire"].to_numpy(dtype=float)
        dur = e.worlds["ceasefire_days"].to_numpy(dtype=float)
        d = e.day(date)
        return ((start <= d) & (start + dur > d)).astype(float)

    return f


def _ceasefire_month_attacks(period: str, per_attack: bool = False) -> Callable[[Runs], np.ndarray]:
    """Per world: TTP attacks (or their casualties) of 2022 in ``period``, NaN unless the
    ceasefire held throughout the period."""

    def f(r: Runs) -> np.ndarray:
        e = r["kabul_2022"]
        x = e.window_sum("ttp_attacks", period)
        if per_attack:
            x = x * e.param("behaviour.casualties_per_attack_count")
        return np.where(e.in_phase_throughout(CEASEFIRE, period), x, np.nan)

    return f


def _kabul_2022_course() -> list[Pattern]:
    """The 2022 ceasefire: reached, still in force, prisoners released."""
    o = _observed("kabul_2022")
    in_force = o["ceasefire_in_force_on"]
    return [
        Pattern(
            "kabul_2022.reached",
            "kabul_2022",
            "a ceasefire was reached",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            'reached (001: "the TTP announced a 10-day ceasefire")',
            "ceasefire_reached",
            lambda r: r["kabul_2022"].col("ceasefire_reached").astype(float),
            unit="share",
            not_a_test="the episode is chosen because its talks produced a ceasefire "
            "(selected on the outcome)",
        ),
        Pattern(
            "kabul_2022.in_force",
            "kabul_2022",
            f"the first ceasefire, declared for 10 days, still in force on {in_force}",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            'extended, then made indefinite, still in force (002: "the longest in the terror '
            "group's history\")",
            "ceasefire_in_force_on, ended_by (censored)",
            _in_force_on(in_force),
            unit="share",
            score=ScoreSpec("event", family="in_force", null_why="even odds"),
        ),
        Pattern(
            "kabul_2022.prisoners_released",
            "kabul_2022",
            "prisoners the state released",
            "value",
            (float(o["prisoners_released"]), float(o["prisoners_released"])),
            f"{o['prisoners_released']} (001: two commanders, then 30)",
            "prisoners_released",
            lambda r: r["kabul_2022"].col("prisoners_released").astype(float),
            unit="prisoners",
            not_a_test="an input: the scenario's offer is these 32 prisoners, released first",
        ),
    ]


def _kabul_2022_counts() -> list[Pattern]:
    """Casualties under the 2022 ceasefire (not a test: the toll per attack is fixed from it).

    The seed's June and July 2022 attack counts (26 and 33, 002) are PICSS counts of attacks by
    every militant group (R05), so they are tested as such by ``kabul_2022.all_groups_*``
    (:func:`_dated_observations`), not as TTP attacks."""
    o = _observed("kabul_2022")
    out: list[Pattern] = []
    out += [
        Pattern(
            f"kabul_2022.casualties_{period}",
            "kabul_2022",
            f"killed and injured in TTP attacks in {period} (worlds in ceasefire all month)",
            "value",
            (float(count), float(count)),
            f"{count} (002, PICSS: 34 killed, 46 injured)",
            "casualties_ceasefire",
            _ceasefire_month_attacks(period, per_attack=True),
            unit="people",
            not_a_test="set by an input: casualties_per_attack_count is fixed from this month's "
            "count (80 / 33, seed 002), so it repeats the month's attack count",
        )
        for period, count in o["casualties_ceasefire"].items()
    ]
    return out


def _length_and_defections_2022(r: Runs) -> np.ndarray:
    """Per world: length of the 2022 ceasefire (NaN if none) and hardliners lost to spoilers."""
    e = r["kabul_2022"]
    return np.column_stack(
        [
            np.where(e.col("ceasefire_reached"), e.duration_or_zero(), np.nan),
            e.col("defections_to_spoilers").astype(float),
        ]
    )


def _kabul_2022_relations() -> list[Pattern]:
    """2022 against 2021, and defections under long ceasefires."""
    return [
        Pattern(
            "kabul_2022.outlasts_2021",
            "kabul_2022",
            "share of world pairs in which the 2022 ceasefire outlasts 2021's",
            "share",
            (0.5, 1.0),
            "2022 outlasted 2021 (002: \"the longest in the group's history\"; 003: 2021's lasted "
            "about a month); claim tested: in most pairs",
            "ceasefire_in_force_on (with ceasefire_2021)",
            lambda r: (r["kabul_2022"].duration_or_zero() > r["ceasefire_2021"].duration_or_zero()).astype(
                float
            ),
            needs=("kabul_2022", "ceasefire_2021"),
            calib_target=(1.0, 1.0),
            unit="share",
            score=ScoreSpec("event", family="outlasts", null_why="even odds"),
        ),
        Pattern(
            "kabul_2022.defections_long_ceasefires",
            "kabul_2022",
            "rank correlation of ceasefire length and hardliners lost to spoilers",
            "relation",
            (1e-9, 1.0),
            "positive (003: Mehsud \"worried a longer cease-fire would bring stress on the group's "
            'cohesion and trigger defections"; 002: hardliners "might defect to ISIS-K")',
            "none (seeds 002, 003)",
            _length_and_defections_2022,
            reduce=lambda x: _spearman(x[~np.isnan(x).any(axis=1)]),
            unit="correlation",
            opposite=(-1.0, 0.0),
        ),
    ]


# --- Dated observations from public reports (R01-R27 in docs/sources.md) ----------------------

KABUL_COURSE = "2022-06/2022-10"
"""Months of 2022 the first ceasefire held in the observed history (in force from May to 28 Nov)."""


def _first_ceasefire_end_day(r: Runs) -> np.ndarray:
    """Per world: day (day 0 = 9 May 2022) the first 2022 ceasefire ended; the horizon where it
    still ran then (right-censored: the true day is later, which the pass rule allows for, as the
    observation lies before the horizon); NaN where no ceasefire was reached."""
    w = r["kabul_2022"].worlds
    return w["days_to_ceasefire"].to_numpy(dtype=float) + w["ceasefire_days"].to_numpy(dtype=float)


def _first_ceasefire_still_running(r: Runs) -> np.ndarray:
    """Per world: the first 2022 ceasefire was still in force at the horizon."""
    return r["kabul_2022"].col("ceasefire_censored").astype(bool)


def _monthly_rate_score() -> ScoreSpec:
    """Scoring of a rate of attacks a month (a real number): uniform know-nothing null."""
    return ScoreSpec(
        "rate",
        null=(0.0, ATTACKS_PER_MONTH_NULL),
        null_why="uniform from " + ATTACKS_PER_MONTH_NULL_WHY,
        family="attacks_per_month",
    )


def _kabul_ttp_attacks(period: str) -> Callable[[Runs], np.ndarray]:
    """Per world: TTP attacks of 2022 in ``period``, NaN unless the first ceasefire held through
    :data:`KABUL_COURSE` as it did in the observed history."""

    def f(r: Runs) -> np.ndarray:
        e = r["kabul_2022"]
        held = e.in_phase_throughout(CEASEFIRE, KABUL_COURSE)
        return np.where(held, e.window_sum("ttp_attacks", period), np.nan)

    return f


def _kabul_model_groups(period: str, after: bool) -> Callable[[Runs], np.ndarray]:
    """Per world: TTP plus spoiler (ISKP) attacks of 2022 in ``period``, the part of an all-groups
    count the model represents. NaN unless the world follows the observed course over the period:
    in ceasefire throughout, or (``after``) its first ceasefire ended before the period began and
    no day of the period is in ceasefire."""

    def f(r: Runs) -> np.ndarray:
        e = r["kabul_2022"]
        x = e.window_sum("ttp_attacks", period) + e.window_sum("spoiler_attacks", period)
        if not after:
            return np.where(e.in_phase_throughout(CEASEFIRE, period), x, np.nan)
        d0, d1 = e.window(period)
        no_cf = ~np.any(e.daily["phase"][:, d0 : d1 + 1] == CEASEFIRE, axis=1)
        keep = e.ended() & (_first_ceasefire_end_day(r) <= d0) & no_cf
        return np.where(keep, x, np.nan)

    return f


def _monthly_rate(counts: Mapping[str, int], months: Sequence[str]) -> float:
    """Attacks a month (of 365.25 / 12 days) over whole calendar ``months`` of ``counts``."""
    days = sum((period_bounds(m)[1] - period_bounds(m)[0]).days + 1 for m in months)
    return sum(counts[m] for m in months) / days * 365.25 / 12


def _all_groups_pattern(period: str, count: int, source: str, after: bool) -> Pattern:
    """A month's PICSS count of attacks by all groups as an upper bound on the model's share."""
    course = "the ceasefire over by then, none in the month" if after else "in ceasefire all month"
    return Pattern(
        f"kabul_2022.all_groups_{period}",
        "kabul_2022",
        f"TTP and ISKP attacks in {period} (worlds {course})",
        "value",
        (0.0, float(count)),
        f"at most {count}: PICSS counts {count} attacks by all militant groups ({source}); the "
        "model's TTP and ISKP attacks are part of them, Baloch, sectarian and other groups are not",
        "attacks_all_groups",
        _kabul_model_groups(period, after),
        unit="attacks",
        score=ScoreSpec(
            "count",
            null=(0.0, ATTACKS_PER_MONTH_NULL),
            null_why=ATTACKS_PER_MONTH_NULL_WHY,
            family="attacks_per_month",
        ),
    )


def _dated_observations() -> list[Pattern]:
    """Dated facts and counts from public reports beyond the seeds (R01-R27, docs/sources.md):
    the end of the 2022 ceasefire and its cause, the dates of the 2021 ceasefire, and counts of
    attacks compared with what each source counts (the TTP alone, or every militant group).

    Long because it declares each pattern as data, one entry each.
    """
    k, c = _observed("kabul_2022"), _observed("ceasefire_2021")
    s_period, s_count = _one(_observed("secret_talks_2020")["ttp_attacks_any_min"])
    day0_2022, day0_2021 = _date("2022-05-09"), _date("2021-10-01")
    end_2022 = (_date(k["ceasefire_ended_on"]) - day0_2022).days
    start_2021 = (_date(c["ceasefire_started_on"]) - day0_2021).days
    groups = k["attacks_all_groups"]
    after_months = ["2021-12", "2022-01", "2022-02"]
    rate_2021 = _monthly_rate(c["attacks_all_groups"], after_months)
    # November 2021 holds 22 days of the ceasefire (9-30 Nov): its attacks are at most the month's
    nov_2021 = c["attacks_all_groups"]["2021-11"]
    rate_cf_2021 = nov_2021 / 22 * 365.25 / 12
    return [
        Pattern(
            "kabul_2022.ceasefire_end_day",
            "kabul_2022",
            "day the first ceasefire ended (day 0 = 9 May 2022)",
            "value",
            (float(end_2022), float(end_2022)),
            f'{k["ceasefire_ended_on"]}, day {end_2022} (R01-R03: the TTP "called off" the ceasefire); '
            "worlds still in ceasefire at the horizon count as the horizon (censored, later in truth)",
            "ceasefire_ended_on",
            _first_ceasefire_end_day,
            unit="day",
            score=ScoreSpec(
                "continuous",
                null_why="log-uniform from day 1 to the horizon",
                censored=_first_ceasefire_still_running,
            ),
        ),
        Pattern(
            "kabul_2022.ended_by",
            "kabul_2022",
            f"the first ceasefire ended by {k['ended_by'].replace('_', ' ')}",
            "event",
            (EVENT_MIN_PROBABILITY, 1.0),
            'the TTP called it off because "military operations are ongoing" (R01-R03)',
            "ended_by",
            lambda r, cause=k["ended_by"]: r["kabul_2022"].cause_is(cause).astype(float),
            unit="share",
            score=_cause_score(k["ended_by"]),
        ),
        Pattern(
            "kabul_2022.ttp_attacks_2022",
            "kabul_2022",
            f"TTP attacks 9 May to 31 Dec 2022 (worlds in ceasefire {KABUL_COURSE})",
            "value",
            (0.0, float(k["ttp_attacks_any"]["2022"])),
            f"at most {k['ttp_attacks_any']['2022']}: PIPS counts {k['ttp_attacks_any']['2022']} TTP "
            "attacks in all of 2022 (R04), so the simulated part of the year holds no more",
            "ttp_attacks_any",
            _kabul_ttp_attacks("2022-05-09/2022-12-31"),
            unit="attacks",
            score=_attack_count_score("2022-05-09/2022-12-31"),
        ),
        _all_groups_pattern("2022-06", groups["2022-06"], "R05", after=False),
        _all_groups_pattern("2022-07", groups["2022-07"], "R05", after=False),
        _all_groups_pattern("2022-10", groups["2022-10"], "R06", after=False),
        _all_groups_pattern("2022-12", groups["2022-12"], "R07", after=True),
        _all_groups_pattern("2023-01", groups["2023-01"], "R25", after=True),
        _all_groups_pattern("2023-02", groups["2023-02"], "R26", after=True),
        Pattern(
            "secret_talks_2020.attacks_jul_oct",
            "secret_talks_2020",
            "TTP attacks in 2020-07/2020-10 (worlds without a ceasefire)",
            "value",
            (float(s_count), INF),
            f"over {s_count} (R23, the UN Monitoring Team: cross-border attacks only, so a lower bound "
            "on all TTP attacks); 004 puts the same count over six months",
            "ttp_attacks_any_min",
            _talks_attacks(s_period),
            unit="attacks",
            score=_attack_count_score(s_period),
        ),
        Pattern(
            "ceasefire_2021.days_to_ceasefire",
            "ceasefire_2021",
            "days from the start of talks (day 0 = 1 Oct 2021) to the ceasefire",
            "value",
            (float(start_2021), float(start_2021)),
            f"{c['ceasefire_started_on']}, day {start_2021} (R08, R09); day 0 is the scenario's start, "
            "when the prime minister spoke of the talks (the talks began earlier, undated)",
            "ceasefire_started_on",
            lambda r: r["ceasefire_2021"].worlds["days_to_ceasefire"].to_numpy(dtype=float),
            unit="days",
            score=ScoreSpec("continuous", null_why="log-uniform from day 1 to the horizon"),
        ),
        Pattern(
            "ceasefire_2021.all_groups_ceasefire",
            "ceasefire_2021",
            "TTP attacks a month under the ceasefire",
            "value",
            (0.0, round(rate_cf_2021, 2)),
            f"at most {rate_cf_2021:.1f}: PICSS counts {nov_2021} attacks by all groups in November 2021 "
            "(R27), 22 days of which were under the ceasefire; the model's TTP attacks are part of them",
            "attacks_all_groups",
            lambda r: r["ceasefire_2021"].worlds["ttp_attacks_per_month_ceasefire"].to_numpy(dtype=float),
            unit="attacks",
            score=_monthly_rate_score(),
        ),
        Pattern(
            "ceasefire_2021.all_groups_after",
            "ceasefire_2021",
            "TTP attacks a month in the 90 days after the ceasefire ended",
            "value",
            (0.0, round(rate_2021, 2)),
            f"at most {rate_2021:.1f}: PICSS counts "
            + " + ".join(str(c["attacks_all_groups"][m]) for m in after_months)
            + " attacks by all groups in December 2021 to February 2022 (R11, R12), 90 days that "
            "begin 9 days before the end; the model's TTP attacks are part of them",
            "attacks_all_groups",
            lambda r: r["ceasefire_2021"].worlds["ttp_attacks_per_month_after"].to_numpy(dtype=float),
            unit="attacks",
            score=_monthly_rate_score(),
        ),
    ]


PATTERN_BUILDERS: tuple[Callable[[], list[Pattern]], ...] = (
    _shakai_2004,
    _waziristan_2006,
    _swat_2008,
    _swat_2009,
    _inducements_2012,
    _secret_talks_2020_course,
    _secret_talks_2020_violence,
    _ceasefire_2021,
    _kabul_2022_course,
    _kabul_2022_counts,
    _kabul_2022_relations,
    _dated_observations,
)
"""The builders of :func:`build_patterns`, in the order of the report (episodes by date); each
reads its episode's ``observed:`` block and returns that episode's patterns."""


def build_patterns() -> list[Pattern]:
    """Every pattern of the report, built from the ``observed:`` blocks of the episode files
    (one builder of :data:`PATTERN_BUILDERS` per episode or part of an episode)."""
    return [p for build in PATTERN_BUILDERS for p in build()]


def _cause_codes(e: EpisodeRun, first: str) -> np.ndarray:
    """Collapse causes of ended ceasefires as codes with ``first`` as 0 (NaN if not ended)."""
    order = [first] + [c for c in CAUSES_ENDED if c != first]
    cause = e.worlds["collapse_cause"].astype(str).to_numpy()
    out = np.full(e.n, np.nan)
    for k, c in enumerate(order):
        out[cause == c] = k
    return out[:, None]


KEY_COVERAGE: dict[str, dict[str, str]] = {
    "shakai_2004": {
        "ceasefire_reached": "not a test: the scenario starts in the ceasefire",
        "ceasefire_days": "shakai_2004.ceasefire_days",
        "deal_failed": "shakai_2004.ceasefire_days (a duration of 50 days is a failure)",
    },
    "waziristan_2006": {
        "ceasefire_reached": "not a test: the scenario starts in the ceasefire",
        "ceasefire_days_max": "waziristan_2006.ceasefire_days",
        "ended_by": "waziristan_2006.ended_by",
        "deal_failed": "waziristan_2006.ceasefire_days (ending within a year is a failure)",
    },
    "swat_2008": {"deal_failed": "swat_2008.deal_failed"},
    "swat_2009": {
        "ceasefire_reached": "not a test: the scenario starts in the ceasefire",
        "deal_failed": "swat_2009.deal_failed",
    },
    "inducements_2012": {"defected_factions": "inducements_2012.defections"},
    "secret_talks_2020": {
        "ceasefire_reached": "secret_talks_2020.no_ceasefire",
        "ended_by": "secret_talks_2020.no_ceasefire",
        "talks_ended_window": "secret_talks_2020.talks_end_day",
        "reunified_factions": "secret_talks_2020.reunifications",
        "ttp_attacks_talks_min": "secret_talks_2020.attacks_talks, secret_talks_2020.after_vs_talks",
        "ttp_attacks_after": "secret_talks_2020.attacks_after, secret_talks_2020.after_vs_talks",
        "casualties_after_min": "secret_talks_2020.casualties_after",
        "ttp_attacks_any_min": "secret_talks_2020.attacks_jul_oct",
    },
    "ceasefire_2021": {
        "ceasefire_reached": "ceasefire_2021.reached",
        "ceasefire_days_min": "ceasefire_2021.ceasefire_days (sharpened by the dates)",
        "ceasefire_days_max": "ceasefire_2021.ceasefire_days (sharpened by the dates)",
        "ended_by": "ceasefire_2021.ended_by",
        "prisoners_promised_min": "not a test: an input (state.offer.prisoner_release_count = 100)",
        "promises_kept": "ceasefire_2021.promises_not_kept",
        "attacks_all_groups_min": "not tested: a count for all of 2021 and all groups (Baloch "
        "insurgents included), while the scenario covers October 2021 on "
        "and only the TTP and ISKP",
        "ceasefire_started_on": "ceasefire_2021.days_to_ceasefire, ceasefire_2021.ceasefire_days",
        "ceasefire_ended_on": "ceasefire_2021.ceasefire_days",
        "ttp_attacks_any": "not tested: a count for all of 2021, while the episode starts on 1 October "
        "2021 and records no daily series from which to take its October-December part",
        "attacks_all_groups": "ceasefire_2021.all_groups_ceasefire (November 2021, an upper bound on "
        "the TTP's rate under the ceasefire), ceasefire_2021.all_groups_after (December 2021 to "
        "February 2022, an upper bound on its rate after it; October 2021, March and April 2022 are "
        "not tested: the episode records no daily series)",
    },
    "kabul_2022": {
        "ceasefire_reached": "kabul_2022.reached",
        "ceasefire_in_force_on": "kabul_2022.in_force, kabul_2022.outlasts_2021",
        "ended_by": "kabul_2022.ended_by",
        "prisoners_released": "kabul_2022.prisoners_released",
        "ttp_attacks_ceasefire": "kabul_2022.all_groups_2022-06, kabul_2022.all_groups_2022-07: "
        "PICSS counts of attacks by every group (R05), not TTP attacks as seed 002 reads them",
        "casualties_ceasefire": "kabul_2022.casualties_2022-07",
        "leaders_killed_ceasefire": "not tested: the model has no individual leaders (coercion "
        "kills fighters at a rate)",
        "ceasefire_ended_on": "kabul_2022.ceasefire_end_day",
        "talks_held_on": "not tested: in the model talks and a ceasefire are separate phases, so "
        "rounds of talks and mediators' visits while the ceasefire holds have no counterpart",
        "ttp_attacks_any": "kabul_2022.ttp_attacks_2022 (an upper bound: the count covers all of "
        "2022, the episode starts on 9 May)",
        "spoiler_attacks_any_min": "not tested: a lower bound for all of 2022, part of which precedes "
        "the episode's start on 9 May, so it bounds nothing in the simulated months",
        "attacks_all_groups": "kabul_2022.all_groups_2022-06, kabul_2022.all_groups_2022-07, "
        "kabul_2022.all_groups_2022-10, kabul_2022.all_groups_2022-12, kabul_2022.all_groups_2023-01, "
        "kabul_2022.all_groups_2023-02 (upper bounds on TTP plus ISKP attacks; November 2022, 27 "
        "days of ceasefire and 3 after, is not tested)",
        "ttp_attacks_claimed": "not tested: the TTP's own claims (43 in October, 59 in November, 69 "
        "in December 2022) exceed PICSS's counts of attacks by all groups in those months (39, 34 "
        "and 49, R06, R07), so they cannot be read as counts of attacks",
    },
}
"""Every observed key of every episode file: the pattern(s) testing it, or why none does."""

EXPLANATIONS: dict[str, str] = {
    "secret_talks_2020.casualties_after": (
        "The observation is a TTP claim of over 57 security forces killed and injured in one week "
        "(000). In the model every attack takes the same toll, casualties_per_attack_count = 2.4, "
        "fixed from the July 2022 PICSS count (34 killed and 46 injured in 33 attacks, 002), and "
        "the attack rate of early 2021 is held near the UN's 32 attacks in two months (004), a few "
        "a week: one week then brings some 10-15 casualties. 57 would need some 24 attacks in "
        "that week, or five times the 2022 toll per attack. The model has no variation of the toll "
        "between attacks (one deadly attack cannot make a bad week); adding it would need a new "
        "random draw per world and day in the kernel, which this work does not change. The claim "
        "may also be inflated (it is the TTP's). Not fitted: weight 0 in conf/calibration.yaml."
    ),
    "secret_talks_2020.attacks_after": (
        "The model's level of fighting in 2020-21 is a little too high: it reproduces the ratio of "
        "the two UN counts (004; the rate after the collapse about that of the last six months of "
        "talks) but at a higher level, some 140 attacks in July-December 2020 where the UN says "
        "'over 100', so January-February 2021 comes out near 40-45 rather than 32. The same attack "
        "parameters must give 26-33 attacks a month under the 2022 ceasefire (002) from 5,000 "
        "fighters, against 16 a month in early 2021 from 3,500: a ceasefire has to keep most of "
        "the fighting rate, and a lower fighting rate would lose the 2022 counts. The assumed "
        "fighter numbers of the two scenarios (sources: assumption) carry part of this tension."
    ),
    "secret_talks_2020.talks_end_day": (
        "The state walks away from stalled talks only after its patience (talks_patience_days) "
        "with a slowly growing hazard, so the day talks break down spreads over months; the "
        "patterns pin the patience only loosely (results/calibration/pinned.md)."
    ),
    "shakai_2004.ceasefire_days": (
        "With nothing promised but an amnesty, a 2004 ceasefire ends only by a faction's break, "
        "a suspension once the amnesty is overdue, or a state operation; the same hazards must "
        "let the 2006 accord last months and the 2022 ceasefire outlast 2021's."
    ),
    "note:events": (
        "Events observed once (an accord ended by an army operation, a deal that failed) are weak "
        "tests: they pass when the model gives the observed history at least a 5% chance. The "
        "claims about frequency (no ceasefire in most worlds, non-delivery the most common end, "
        "2022 outlasting 2021 in most pairs) and the counts are the demanding rows."
    ),
    "note:after_vs_talks": (
        "2020-21: the seeds' own counts (004) show no rise after the collapse (32 attacks in "
        "January-February 2021 is a monthly rate no higher than over 100 in July-December 2020); "
        "the spike of seed 000 is in claimed casualties, tested separately. The report tests the "
        "counts (the ratio row) rather than assuming more attacks than before."
    ),
    "note:conditioning": (
        "Attack counts under the 2022 ceasefire are taken from worlds in which the ceasefire was in "
        "force the whole month, and 2020-21 counts from worlds with no ceasefire, as in the "
        "observed history; the 'worlds' column gives how many worlds that leaves."
    ),
    "kabul_2022.ttp_attacks_2022": (
        "The model's TTP attack rate under the 2022 ceasefire is fitted to seed 002's June and July "
        "counts (26 and 33 a month, read as TTP attacks), which are PICSS counts of attacks by all "
        "groups (R05, see the note on them below). PIPS attributes 89 attacks to the TTP in all of "
        "2022 (R04), about 7 a month, so the 237 simulated days of 2022 give some 250 TTP attacks "
        "where the source allows at most 89. Few worlds keep the ceasefire through October, as in "
        "history (the 'worlds' column). Refitting the attack rate with the June-July counts read as "
        "upper bounds for all groups would address it; the shipped parameters predate these rows."
    ),
    "kabul_2022.all_groups_2022-06": (
        "TTP attacks alone already fill PICSS's count of attacks by all groups in June 2022 (26, "
        "R05), since the TTP rate is fitted to that count; ISKP's attacks then push the sum above "
        "it. Same cause as kabul_2022.ttp_attacks_2022."
    ),
    "ceasefire_2021.all_groups_after": (
        "After the 2021 ceasefire the model's TTP makes some 34 attacks a month, while PICSS counts "
        "65 attacks by all groups in December 2021 to February 2022 (R11, R12), 22 a month, Baloch "
        "separatists included. The shared attack rate that makes 26-33 TTP attacks a month under "
        "the 2022 ceasefire (seed 002, all groups in truth) makes too many after the 2021 one; the "
        "rate after a collapse also carries the escalation that ceasefire_2021.intensified_after "
        "asks for. Same root as kabul_2022.ttp_attacks_2022."
    ),
    "note:all_groups": (
        "Counts from public reports (R01-R27 in docs/sources.md) are compared with what they count. "
        "PICSS's monthly counts include every militant group: the model's TTP and ISKP attacks are "
        "only part of them (Baloch separatists, sectarian and other groups are left out), so they "
        "are tested as upper bounds on the model's TTP plus ISKP attacks (TTP alone for 2021, where "
        "the per-world rate after the ceasefire counts the TTP only). PIPS attributes attacks to "
        "groups: its 89 TTP attacks in 2022 bound the TTP's attacks from 9 May to 31 December."
    ),
    "note:picss_2022": (
        "The June and July 2022 counts of seed 002 (26 and 33 attacks, 80 killed and injured in July) "
        "are PICSS counts of attacks by all militant groups (R05: 'militants carried out 33 attacks'; "
        "the TTP claimed none in the former tribal districts that month), which 002 reads as TTP "
        "attacks. They are therefore tested as upper bounds on the model's TTP and ISKP attacks "
        "(kabul_2022.all_groups_2022-06 and -07), not as TTP counts; casualties_per_attack_count is "
        "still fixed from them (a toll per attack, whoever attacks). PIPS counts 89 TTP attacks in all "
        "of 2022 (R04), some 7 a month."
    ),
    "note:edge": (
        "'yes (edge)' marks a pass where the observation lies outside the simulated 50% interval: "
        "the observed history is possible under the model but not typical of it."
    ),
}
"""Why a pattern fails with the shipped parameters (shown in the report when it fails), and
notes (keys ``note:...``) printed under the table."""


# --------------------------------------------------------------------------------------------
# Statistics, intervals and the pass rule
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """A pattern's simulated statistic and verdict.

    Attributes:
        median: simulated median (value) or share / statistic (event, share, relation).
        i50, i90: 50% and 90% intervals.
        n: worlds the statistic is computed from (after dropping NaN).
        passed: the observation lies inside the 90% interval (None if no worlds).
        samples: the per-world values (value kind) for figures.
    """

    pattern: Pattern
    median: float
    i50: tuple[float, float]
    i90: tuple[float, float]
    n: int
    passed: bool | None
    samples: np.ndarray | None = None


def inside(observed: tuple[float, float], interval: tuple[float, float]) -> bool:
    """The pass rule: the observed value (or some part of the observed range) lies inside the
    interval, both ends inclusive."""
    lo, hi = observed
    a, b = interval
    if any(map(math.isnan, (a, b))):
        return False
    return lo <= b and hi >= a


def value_intervals(x: np.ndarray) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Median, 50% and 90% central intervals of per-world values (quantiles over worlds). Values
    of ``inf`` (beyond the horizon) sort last; a quantile among them is ``inf``."""
    finite = np.isfinite(x)
    if finite.all():
        q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
        return float(q[2]), (float(q[1]), float(q[3])), (float(q[0]), float(q[4]))
    top = float(x[finite].max()) if finite.any() else 0.0
    q = np.quantile(np.where(finite, x, top + 1.0), [0.05, 0.25, 0.5, 0.75, 0.95])
    q = np.where(q > top, np.inf, q)
    return float(q[2]), (float(q[1]), float(q[3])), (float(q[0]), float(q[4]))


def share_intervals(k: int, n: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Share ``k/n`` with Clopper-Pearson (exact binomial) 50% and 90% intervals."""
    t = stats.binomtest(int(k), int(n))
    c50 = t.proportion_ci(confidence_level=0.5, method="exact")
    c90 = t.proportion_ci(confidence_level=0.9, method="exact")
    return k / n, (float(c50.low), float(c50.high)), (float(c90.low), float(c90.high))


def bootstrap_intervals(
    x: np.ndarray, reduce: Callable[[np.ndarray], float], rng: np.random.Generator, resamples: int = 500
) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Statistic of all worlds with percentile-bootstrap 50% and 90% intervals (worlds resampled)."""
    point = reduce(x)
    n = len(x)
    boot = np.array([reduce(x[rng.integers(0, n, n)]) for _ in range(resamples)])
    boot = boot[~np.isnan(boot)]
    if len(boot) == 0:
        return point, (np.nan, np.nan), (np.nan, np.nan)
    q = np.quantile(boot, [0.05, 0.25, 0.75, 0.95])
    return point, (float(q[1]), float(q[2])), (float(q[0]), float(q[3]))


def evaluate(
    pattern: Pattern, runs: Runs, rng: np.random.Generator | None = None, resamples: int = 500
) -> Outcome:
    """Simulated statistic, intervals and verdict of one pattern. A world whose value is only a
    lower bound (``ScoreSpec.censored``: still running at the horizon) counts as beyond the
    horizon, so an interval reaching into those worlds has an open top (shown as ∞)."""
    x = np.asarray(pattern.per_world(runs), dtype=float)
    if pattern.kind == "value" and pattern.score is not None and pattern.score.censored is not None:
        cens = np.asarray(pattern.score.censored(runs), bool).reshape(x.shape)
        x = np.where(cens & ~np.isnan(x), np.inf, x)
    return judge(pattern, x, rng if rng is not None else np.random.default_rng(0), resamples)


def judge(pattern: Pattern, x: np.ndarray, rng: np.random.Generator, resamples: int = 500) -> Outcome:
    """Intervals and verdict of a pattern from its per-world values ``x`` (no verdict for a row
    that is not a test, see ``Pattern.not_a_test``)."""
    if pattern.not_a_test:
        o = judge(dataclasses.replace(pattern, not_a_test=""), x, rng, resamples)
        return dataclasses.replace(o, pattern=pattern, passed=None)
    if pattern.kind == "relation":
        x = x.reshape(len(x), -1)
        n = int((~np.isnan(x).any(axis=1)).sum())
        if n == 0:
            return Outcome(pattern, np.nan, (np.nan, np.nan), (np.nan, np.nan), 0, None)
        med, i50, i90 = bootstrap_intervals(x, pattern.reduce, rng, resamples)  # type: ignore[arg-type]
        return Outcome(pattern, med, i50, i90, n, inside(pattern.observed, i90))
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Outcome(pattern, np.nan, (np.nan, np.nan), (np.nan, np.nan), 0, None)
    if pattern.kind == "value":
        med, i50, i90 = value_intervals(x)
        return Outcome(pattern, med, i50, i90, n, inside(pattern.observed, i90), samples=x)
    if pattern.kind in ("event", "share"):
        med, i50, i90 = share_intervals(int(x.sum()), n)
        return Outcome(pattern, med, i50, i90, n, inside(pattern.observed, i90))
    raise ValueError(f"unknown pattern kind {pattern.kind!r}")


def evaluate_all(
    runs: Runs, patterns: Sequence[Pattern] | None = None, seed: int = 0, resamples: int = 500
) -> list[Outcome]:
    """Every pattern whose episodes are in ``runs``."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    pats = build_patterns() if patterns is None else patterns
    return [evaluate(p, runs, rng, resamples) for p in pats if all(e in runs for e in p.episodes)]


def pass_fraction(outcomes: Sequence[Outcome]) -> tuple[int, int]:
    """(patterns passed, patterns judged)."""
    judged = [o for o in outcomes if o.passed is not None]
    return sum(bool(o.passed) for o in judged), len(judged)


# --------------------------------------------------------------------------------------------
# Per-draw statistics (calibration)
# --------------------------------------------------------------------------------------------


def per_draw(pattern: Pattern, x: np.ndarray, draws: int) -> np.ndarray:
    """The pattern's statistic for each parameter draw when the worlds are grouped by draw
    (world ``i`` belongs to draw ``i // k``): median of values, share of events, or the
    relation's statistic of the draw's worlds. NaN where a draw has no usable world."""
    x = np.asarray(x, dtype=float)
    k = len(x) // draws
    if pattern.kind == "relation":
        x = x.reshape(draws, k, -1)
        return np.array([pattern.reduce(x[i]) for i in range(draws)])  # type: ignore[misc]
    x = x.reshape(draws, k)
    ok = ~np.isnan(x)
    out = np.full(draws, np.nan)
    rows = ok.any(axis=1)
    if pattern.kind == "value":
        with np.errstate(all="ignore"):
            xs = np.where(ok, x, np.inf)
            xs.sort(axis=1)
            cnt = ok.sum(axis=1)
            lo = np.take_along_axis(xs, np.maximum((cnt - 1) // 2, 0)[:, None], axis=1)[:, 0]
            hi = np.take_along_axis(xs, np.maximum(cnt // 2, 0)[:, None], axis=1)[:, 0]
            out[rows] = (0.5 * (lo + hi))[rows]
    else:
        out[rows] = (np.where(ok, x, 0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1))[rows]
    return out


def discrepancy(stat: np.ndarray, target: tuple[float, float]) -> np.ndarray:
    """Distance of a statistic from a target range (0 inside it)."""
    lo, hi = target
    return np.maximum(np.maximum(lo - stat, stat - hi), 0.0)
