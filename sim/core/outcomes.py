"""What every world records: outcome accumulators, the outcome row, daily series and Results.

The kernel and the Mesa model call the same :func:`record_day` and :func:`outcome_table`, so an
outcome is defined once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.table import NOT_ENDED, umbrella_trust
from sim.core.compiled import rule
from sim.core.types import CEASEFIRE, TALKS, CollapseCause, Phase

DAYS_PER_MONTH = 365.25 / 12
AFTER_WINDOW_DAYS = 90

OUTCOME_COLUMNS: dict[str, str] = {
    "world": "world index (its random stream and its row in a params table)",
    "ceasefire_reached": "a ceasefire was in force at some point (including on day 0)",
    "days_to_ceasefire": "first day the first ceasefire was in force (0 if in force on day 0; "
                         "NaN if none)",
    "ceasefire_days": "days the first ceasefire was in force, extensions included; if still "
                      "running at the horizon, days until the horizon (see ceasefire_censored)",
    "ceasefire_censored": "the first ceasefire was still in force at the horizon",
    "n_ceasefires": "ceasefires begun within the horizon",
    "talks_rounds": "rounds of talks opened (a world that starts in talks counts one)",
    "collapse_cause": "why the first ceasefire ended: " + ", ".join(c.name for c in CollapseCause),
    "prisoners_promised": "prisoners the state promised to release, count",
    "prisoners_released": "prisoners the state actually released, count",
    "concessions_promised": "concession items promised (prisoner tranches, district withdrawals, "
                            "amnesty, compensation, Shariah), count; a new round promises again",
    "concessions_delivered": "concession items delivered, count",
    "ttp_attacks": "attacks by TTP factions over the horizon, count",
    "spoiler_attacks": "attacks by spoilers over the horizon, count (kept apart from TTP attacks)",
    "casualties": "security forces and civilians killed or injured in all attacks, count",
    "ttp_attacks_per_month_ceasefire": "TTP attacks per month during the first ceasefire",
    "ttp_attacks_per_month_after": f"TTP attacks per month in the {AFTER_WINDOW_DAYS} days after "
                                   "the first ceasefire ended (NaN if it did not end)",
    "defections_to_spoilers": "TTP hardliners who joined spoilers, count",
    "splits": "factions that split from the umbrella (events)",
    "reunifications": "factions that rejoined the umbrella (events)",
    "defections_to_state": "factions that defected to the state (events)",
    "ttp_fighters_end": "active fighters of factions not defected to the state at the horizon",
}

ACC_FIELDS = ("cf_start", "cf_end", "cause", "cf_last_start", "n_ceasefires", "talks_rounds", "prisoners_promised",
              "prisoners_released", "items_promised", "items_delivered", "ttp_attacks", "spoiler_attacks", "casualties", "attacks_cf",
              "attacks_after", "to_spoilers", "splits", "reunifications", "to_state")

SERIES: dict[str, str] = {
    "phase": "negotiation phase at the end of the day (0 fighting, 1 talks, 2 ceasefire)",
    "ttp_attacks": "TTP attacks that day, count",
    "spoiler_attacks": "spoiler attacks that day, count",
    "casualties": "killed and injured that day, count",
    "ttp_fighters": "active fighters of factions not defected to the state, count",
    "hardliners": "hardline fighters among them, count",
    "ttp_trust": "fighter-weighted trust of the umbrella factions in the state, share",
    "state_trust": "the state's trust in the TTP, share",
    "coercion": "the state's level of coercion, share",
    "pressure": "domestic pressure, share",
    "prisoners_released": "prisoners released so far, count",
    "factions_in_umbrella": "factions inside the umbrella, count",
    "spoiler_fighters": "spoiler fighters, count",
}


@rule
def casualties(ttp_attacks, spoiler_attacks, q):
    """Killed and injured in a day's attacks (seed 002: 33 attacks, 34 killed, 46 injured)."""
    return (ttp_attacks + spoiler_attacks) * q.casualties_per_attack_count


MAX_CEASEFIRES = 16
"""Ceasefires logged per world in ``Results.ceasefires`` (later ones are still counted)."""


def start_in_phase(ws) -> None:
    """Count a ceasefire or a round of talks that is under way on day 0 (world records)."""
    in_cf = ws["phase"] == CEASEFIRE
    ws["n_ceasefires"] += in_cf
    ws["cf_start"] = np.where(in_cf, 0.0, -1.0)
    ws["cf_end"] = -1.0
    ws["talks_rounds"] += ws["phase"] == TALKS


def new_ceasefire_log(ws) -> np.ndarray:
    """Empty log of ceasefires ``[W, MAX_CEASEFIRES, (start, end, cause)]``; a ceasefire in
    force on day 0 is logged as starting on day 0."""
    log = np.full((len(ws), MAX_CEASEFIRES, 3), -1.0)
    log[:, :, 2] = NOT_ENDED
    log[:, 0, 0] = np.where(ws["phase"] == CEASEFIRE, 0.0, -1.0)
    return log


@rule
def record_day(ws, cf_log, day, phase_before, opened, deal, cause, promised, items, delivered,
               ttp_attacks, spoiler_attacks, day_casualties, released, to_spoilers, splits, reunified,
               defected):
    """Add one day to the outcome accumulators of the world record ``ws`` and its ceasefire log.

    A ceasefire agreed in the evening of ``day`` is in force from ``day + 1``; one that ends on
    ``day`` was in force that day.
    """
    if phase_before == CEASEFIRE and ws.cf_end < 0.0:
        ws.attacks_cf = ws.attacks_cf + ttp_attacks
    if ws.cf_end >= 0.0 and day > ws.cf_end and day <= ws.cf_end + AFTER_WINDOW_DAYS:
        ws.attacks_after = ws.attacks_after + ttp_attacks
    if cause != NOT_ENDED:
        k = int(ws.n_ceasefires) - 1
        if k < cf_log.shape[0]:
            cf_log[k, 1] = day
            cf_log[k, 2] = cause
        if ws.cf_end < 0.0:
            ws.cause = cause
            ws.cf_end = day
    if deal:
        k = int(ws.n_ceasefires)
        if k < cf_log.shape[0]:
            cf_log[k, 0] = day + 1.0
        if ws.cf_start < 0.0:
            ws.cf_start = day + 1.0
        ws.cf_last_start = day + 1.0
        ws.n_ceasefires = ws.n_ceasefires + 1.0
    if opened:
        ws.talks_rounds = ws.talks_rounds + 1.0
    ws.prisoners_promised = ws.prisoners_promised + promised
    ws.prisoners_released = ws.prisoners_released + released
    ws.items_promised = ws.items_promised + items
    ws.items_delivered = ws.items_delivered + delivered
    ws.ttp_attacks = ws.ttp_attacks + ttp_attacks
    ws.spoiler_attacks = ws.spoiler_attacks + spoiler_attacks
    ws.casualties = ws.casualties + day_casualties
    ws.to_spoilers = ws.to_spoilers + to_spoilers
    ws.splits = ws.splits + splits
    ws.reunifications = ws.reunifications + reunified
    ws.to_state = ws.to_state + defected


@rule
def series_values(ws, fac, spo, ttp_attacks, spoiler_attacks, day_casualties, out):
    """Write the recorded series of one world at the end of a day into ``out`` (order of
    :data:`SERIES`)."""
    fighters, hardliners, released, inside, spoiler_fighters = 0.0, 0.0, 0.0, 0.0, 0.0
    for f in range(fac.shape[0]):
        s = fac[f]
        released = released + s.released
        if not s.defected:
            fighters = fighters + s.fighters
            hardliners = hardliners + s.hardliners
        if s.in_umbrella:
            inside = inside + 1.0
    for i in range(spo.shape[0]):
        spoiler_fighters = spoiler_fighters + spo[i].fighters
    out[0] = ws.phase
    out[1] = ttp_attacks
    out[2] = spoiler_attacks
    out[3] = day_casualties
    out[4] = fighters
    out[5] = hardliners
    out[6] = umbrella_trust(fac)
    out[7] = ws.trust
    out[8] = ws.coercion
    out[9] = ws.pressure
    out[10] = released
    out[11] = inside
    out[12] = spoiler_fighters


def ttp_fighters(fac: np.ndarray) -> np.ndarray:
    """Active fighters of the factions that have not defected to the state, per world."""
    return np.sum(fac["fighters"] * ~fac["defected"], axis=-1)


def outcome_table(ws: np.ndarray, days: int, world_index: np.ndarray, ttp_fighters_end) -> pd.DataFrame:
    """One row per world from the world records' accumulators after ``days`` days."""
    flat = {k: np.asarray(ws[k], dtype=float).reshape(-1) for k in ACC_FIELDS}
    start, end = flat["cf_start"], flat["cf_end"]
    reached = (start >= 0) & (start < days)  # agreed on the last evening: not in force in time
    censored = reached & (end < 0)
    duration = np.where(reached, np.where(censored, days - start, end - start + 1), np.nan)
    cause_code = np.where(~reached, CollapseCause.no_ceasefire,
                          np.where(censored, CollapseCause.censored, flat["cause"])).astype(int)
    names = np.array([c.name for c in CollapseCause])
    window = np.where(end >= 0, np.minimum(AFTER_WINDOW_DAYS, days - 1 - end), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_month_cf = np.where(duration > 0, flat["attacks_cf"] / duration * DAYS_PER_MONTH, np.nan)
        per_month_after = np.where(window > 0, flat["attacks_after"] / window * DAYS_PER_MONTH, np.nan)
    cat = pd.CategoricalDtype([c.name for c in CollapseCause])
    return pd.DataFrame({
        "world": world_index.astype(np.int64),
        "ceasefire_reached": reached,
        "days_to_ceasefire": np.where(reached, start, np.nan),
        "ceasefire_days": duration,
        "ceasefire_censored": censored,
        # A ceasefire agreed on the last evening is not in force within the horizon.
        "n_ceasefires": (flat["n_ceasefires"] - (flat["cf_last_start"] >= days)).astype(np.int64),
        "talks_rounds": flat["talks_rounds"].astype(np.int64),
        "collapse_cause": pd.Categorical(names[cause_code], dtype=cat),
        "prisoners_promised": flat["prisoners_promised"],
        "prisoners_released": flat["prisoners_released"],
        "concessions_promised": flat["items_promised"].astype(np.int64),
        "concessions_delivered": flat["items_delivered"].astype(np.int64),
        "ttp_attacks": flat["ttp_attacks"].astype(np.int64),
        "spoiler_attacks": flat["spoiler_attacks"].astype(np.int64),
        "casualties": flat["casualties"],
        "ttp_attacks_per_month_ceasefire": per_month_cf,
        "ttp_attacks_per_month_after": per_month_after,
        "defections_to_spoilers": flat["to_spoilers"],
        "splits": flat["splits"].astype(np.int64),
        "reunifications": flat["reunifications"].astype(np.int64),
        "defections_to_state": flat["to_state"].astype(np.int64),
        "ttp_fighters_end": np.asarray(ttp_fighters_end, dtype=float).reshape(-1),
    })


CEASEFIRE_COLUMNS: dict[str, str] = {
    "world": "world index",
    "ceasefire": "which ceasefire of the world (0 = first)",
    "start_day": "first day in force",
    "days": "days in force, extensions included (until the horizon if censored)",
    "censored": "still in force at the horizon",
    "cause": "why it ended: " + ", ".join(c.name for c in CollapseCause if c.name != "no_ceasefire"),
}


def ceasefire_table(ws: np.ndarray, log: np.ndarray, days: int, world_index: np.ndarray) -> pd.DataFrame:
    """One row per logged ceasefire of every world (see :data:`CEASEFIRE_COLUMNS`)."""
    start, end, cause = log[..., 0], log[..., 1], log[..., 2]
    w, k = np.nonzero((start >= 0) & (start < days))
    censored = end[w, k] < 0
    duration = np.where(censored, days - start[w, k], end[w, k] - start[w, k] + 1)
    names = np.array([c.name for c in CollapseCause])
    cat = pd.CategoricalDtype([c.name for c in CollapseCause])
    return pd.DataFrame({
        "world": world_index[w].astype(np.int64), "ceasefire": k.astype(np.int64),
        "start_day": start[w, k].astype(np.int64), "days": duration.astype(np.int64),
        "censored": censored,
        "cause": pd.Categorical(names[cause[w, k].astype(int)], dtype=cat),
    })


def series_table(series: dict[str, np.ndarray], world_index: np.ndarray, start: str,
                 record: str) -> pd.DataFrame:
    """Long table of recorded series from ``{name: [days, worlds]}`` arrays.

    ``record="daily"`` keeps every day; ``"monthly"`` sums counts per calendar month, averages
    levels, takes the end-of-month value of cumulative counts, and adds ``ceasefire_days``.
    """
    n_days, n_worlds = series["phase"].shape
    day = np.repeat(np.arange(n_days), n_worlds)
    df = pd.DataFrame({"world": np.tile(world_index.astype(np.int64), n_days), "day": day})
    for name, values in series.items():
        df[name] = values.reshape(-1)
    dates = pd.Timestamp(datetime.date.fromisoformat(str(start))) + pd.to_timedelta(np.arange(n_days), "D")
    df["date"] = dates[df["day"].to_numpy()]
    if record == "daily":
        return df
    df["month"] = df["date"].dt.to_period("M").dt.to_timestamp()
    df["ceasefire_days"] = (df["phase"] == Phase.CEASEFIRE).astype(int)
    sums = ["ttp_attacks", "spoiler_attacks", "casualties", "ceasefire_days"]
    lasts = ["prisoners_released", "ttp_fighters", "hardliners", "factions_in_umbrella",
             "spoiler_fighters", "phase"]
    means = ["ttp_trust", "state_trust", "coercion", "pressure"]
    agg = {**{c: "sum" for c in sums}, **{c: "last" for c in lasts}, **{c: "mean" for c in means},
           "day": "count"}
    out = df.groupby(["world", "month"], sort=True).agg(agg).rename(columns={"day": "days"})
    return out.reset_index()


@dataclass
class Results:
    """What a run returns.

    Attributes:
        worlds: one row per world (columns documented in :data:`OUTCOME_COLUMNS`).
        timeseries: long table of recorded series (``record="daily"`` or ``"monthly"``), or None.
        scenario: name of the scenario. seed, days: run settings.
        params: per-world parameter table the run used, or None.
        ceasefires: one row per ceasefire of every world (columns in :data:`CEASEFIRE_COLUMNS`),
            up to :data:`MAX_CEASEFIRES` per world.
    """

    worlds: pd.DataFrame
    timeseries: pd.DataFrame | None
    scenario: str
    seed: int
    days: int
    params: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    ceasefires: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        """Headline figures: share reaching a ceasefire, durations, collapse causes."""
        return summarize(self.worlds, self.days)


def summarize(w: pd.DataFrame, days: int) -> dict[str, Any]:
    """Headline figures of an outcome table."""
    reached = w[w["ceasefire_reached"]]
    out: dict[str, Any] = {
        "worlds": int(len(w)),
        "days": int(days),
        "ceasefire_share": float(w["ceasefire_reached"].mean()) if len(w) else float("nan"),
        "censored_share_of_ceasefires": float(reached["ceasefire_censored"].mean()) if len(reached) else None,
    }
    if len(reached):
        d = reached["ceasefire_days"].to_numpy()
        out["ceasefire_days_median"] = float(np.median(d))
        out["ceasefire_days_p05"] = float(np.quantile(d, 0.05))
        out["ceasefire_days_p95"] = float(np.quantile(d, 0.95))
        causes = reached["collapse_cause"].value_counts(normalize=True)
        out["collapse_causes"] = {str(k): float(v) for k, v in causes.items() if v > 0}
    for col in ("ttp_attacks", "spoiler_attacks", "casualties", "prisoners_released",
                "defections_to_spoilers"):
        out[f"{col}_median"] = float(np.median(w[col])) if len(w) else float("nan")
    return out


def describe(summary: dict[str, Any], scenario: str) -> str:
    """A short plain-language summary of a run."""
    lines = [f"{scenario}: {summary['worlds']:,} worlds over {summary['days']} days."]
    lines.append(f"  A ceasefire was reached in {summary['ceasefire_share']:.0%} of worlds.")
    if "ceasefire_days_median" in summary:
        lines.append(f"  Median first ceasefire: {summary['ceasefire_days_median']:.0f} days "
                     f"(90% interval {summary['ceasefire_days_p05']:.0f}-"
                     f"{summary['ceasefire_days_p95']:.0f}); still running at the horizon in "
                     f"{summary['censored_share_of_ceasefires']:.0%} of those worlds.")
        causes = sorted(summary["collapse_causes"].items(), key=lambda kv: -kv[1])[:3]
        lines.append("  How first ceasefires ended: " + ", ".join(
            f"{k.replace('_', ' ')} {v:.0%}" for k, v in causes) + ".")
    lines.append(f"  Median TTP attacks {summary['ttp_attacks_median']:.0f}, spoiler attacks "
                 f"{summary['spoiler_attacks_median']:.0f}, casualties "
                 f"{summary['casualties_median']:.0f}, prisoners released "
                 f"{summary['prisoners_released_median']:.0f}.")
    return "\n".join(lines)
