"""What every world records: outcome accumulators, the outcome row, the ceasefire log and the
daily series.

The kernel and the Mesa model call the same :func:`record_day` and :func:`outcome_table`, so an
outcome is computed once; what each column is (unit, type, meaning, table, monthly aggregation)
is declared once in :mod:`sim.core.registry`. What a run returns (:class:`Results`) lives in
:mod:`sim.running.results`.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from sim.core import registry
from sim.core.compiled import rule
from sim.core.registry import AFTER_WINDOW_DAYS, Monthly, Table
from sim.core.table import NOT_ENDED, umbrella_trust
from sim.core.types import CEASEFIRE, TALKS, CollapseCause, Phase

DAYS_PER_MONTH = 365.25 / 12

OUTCOME_COLUMNS: dict[str, str] = {c.name: c.meaning for c in registry.columns(Table.WORLDS)}
"""Columns of the outcome table (``Results.worlds``) and their meaning (from :mod:`sim.core.registry`)."""

CEASEFIRE_COLUMNS: dict[str, str] = {c.name: c.meaning for c in registry.columns(Table.CEASEFIRES)}
"""Columns of the ceasefire table (``Results.ceasefires``) and their meaning."""

SERIES: dict[str, str] = {c.name: c.meaning for c in registry.series()}
"""Recorded series and their meaning, in the order of the compiled day record."""

ACC_FIELDS = (
    "cf_start",
    "cf_end",
    "cause",
    "cf_last_start",
    "n_ceasefires",
    "talks_rounds",
    "prisoners_promised",
    "prisoners_released",
    "items_promised",
    "items_delivered",
    "ttp_attacks",
    "spoiler_attacks",
    "casualties",
    "attacks_cf",
    "attacks_after",
    "to_spoilers",
    "splits",
    "reunifications",
    "to_state",
)

# Positions of the series in the compiled day record (constants for the compiled rule).
(
    _PHASE,
    _TTP_ATTACKS,
    _SPOILER_ATTACKS,
    _CASUALTIES,
    _TTP_FIGHTERS,
    _HARDLINERS,
    _TTP_TRUST,
    _STATE_TRUST,
    _COERCION,
    _PRESSURE,
    _RELEASED,
    _IN_UMBRELLA,
    _SPOILER_FIGHTERS,
) = (
    registry.series_position(n)
    for n in (
        "phase",
        "ttp_attacks",
        "spoiler_attacks",
        "casualties",
        "ttp_fighters",
        "hardliners",
        "ttp_trust",
        "state_trust",
        "coercion",
        "pressure",
        "prisoners_released",
        "factions_in_umbrella",
        "spoiler_fighters",
    )
)


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
def record_day(
    ws,
    cf_log,
    day,
    phase_before,
    opened,
    deal,
    cause,
    promised,
    items,
    delivered,
    ttp_attacks,
    spoiler_attacks,
    day_casualties,
    released,
    to_spoilers,
    splits,
    reunified,
    defected,
):
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
    """Write the recorded series of one world at the end of a day into ``out`` (at the
    positions declared in :mod:`sim.core.registry`, the order of :data:`SERIES`)."""
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
    out[_PHASE] = ws.phase
    out[_TTP_ATTACKS] = ttp_attacks
    out[_SPOILER_ATTACKS] = spoiler_attacks
    out[_CASUALTIES] = day_casualties
    out[_TTP_FIGHTERS] = fighters
    out[_HARDLINERS] = hardliners
    out[_TTP_TRUST] = umbrella_trust(fac)
    out[_STATE_TRUST] = ws.trust
    out[_COERCION] = ws.coercion
    out[_PRESSURE] = ws.pressure
    out[_RELEASED] = released
    out[_IN_UMBRELLA] = inside
    out[_SPOILER_FIGHTERS] = spoiler_fighters


def ttp_fighters(fac: np.ndarray) -> np.ndarray:
    """Active fighters of the factions that have not defected to the state, per world."""
    return np.sum(fac["fighters"] * ~fac["defected"], axis=-1)


def outcome_table(ws: np.ndarray, days: int, world_index: np.ndarray, ttp_fighters_end) -> pd.DataFrame:
    """One row per world from the world records' accumulators after ``days`` days (columns,
    order and types as declared in :mod:`sim.core.registry`)."""
    flat = {k: np.asarray(ws[k], dtype=float).reshape(-1) for k in ACC_FIELDS}
    start, end = flat["cf_start"], flat["cf_end"]
    reached = (start >= 0) & (start < days)  # agreed on the last evening: not in force in time
    censored = reached & (end < 0)
    duration = np.where(reached, np.where(censored, days - start, end - start + 1), np.nan)
    cause_code = np.where(
        ~reached, CollapseCause.no_ceasefire, np.where(censored, CollapseCause.censored, flat["cause"])
    ).astype(int)
    window = np.where(end >= 0, np.minimum(AFTER_WINDOW_DAYS, days - 1 - end), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_month_cf = np.where(duration > 0, flat["attacks_cf"] / duration * DAYS_PER_MONTH, np.nan)
        per_month_after = np.where(window > 0, flat["attacks_after"] / window * DAYS_PER_MONTH, np.nan)
    return registry.frame(
        Table.WORLDS,
        {
            "world": world_index,
            "ceasefire_reached": reached,
            "days_to_ceasefire": np.where(reached, start, np.nan),
            "ceasefire_days": duration,
            "ceasefire_censored": censored,
            # A ceasefire agreed on the last evening is not in force within the horizon.
            "n_ceasefires": flat["n_ceasefires"] - (flat["cf_last_start"] >= days),
            "talks_rounds": flat["talks_rounds"],
            "collapse_cause": cause_code,
            "prisoners_promised": flat["prisoners_promised"],
            "prisoners_released": flat["prisoners_released"],
            "concessions_promised": flat["items_promised"],
            "concessions_delivered": flat["items_delivered"],
            "ttp_attacks": flat["ttp_attacks"],
            "spoiler_attacks": flat["spoiler_attacks"],
            "casualties": flat["casualties"],
            "ttp_attacks_per_month_ceasefire": per_month_cf,
            "ttp_attacks_per_month_after": per_month_after,
            "defections_to_spoilers": flat["to_spoilers"],
            "splits": flat["splits"],
            "reunifications": flat["reunifications"],
            "defections_to_state": flat["to_state"],
            "ttp_fighters_end": np.asarray(ttp_fighters_end, dtype=float).reshape(-1),
        },
    )


def ceasefire_table(ws: np.ndarray, log: np.ndarray, days: int, world_index: np.ndarray) -> pd.DataFrame:
    """One row per logged ceasefire of every world (see :data:`CEASEFIRE_COLUMNS`)."""
    start, end, cause = log[..., 0], log[..., 1], log[..., 2]
    w, k = np.nonzero((start >= 0) & (start < days))
    censored = end[w, k] < 0
    duration = np.where(censored, days - start[w, k], end[w, k] - start[w, k] + 1)
    return registry.frame(
        Table.CEASEFIRES,
        {
            "world": world_index[w],
            "ceasefire": k,
            "start_day": start[w, k],
            "days": duration,
            "censored": censored,
            "cause": cause[w, k].astype(int),
        },
    )


def series_table(
    series: dict[str, np.ndarray], world_index: np.ndarray, start: str, record: str
) -> pd.DataFrame:
    """Long table of recorded series from ``{name: [days, worlds]}`` arrays.

    ``record="daily"`` keeps every day; ``"monthly"`` aggregates each series per calendar month
    as :mod:`sim.core.registry` declares (sums counts, averages levels, takes the end-of-month
    value of stocks and cumulative counts), and adds ``ceasefire_days`` and ``days``.
    """
    n_days, n_worlds = series["phase"].shape
    day = np.repeat(np.arange(n_days), n_worlds)
    df = pd.DataFrame({"world": np.tile(world_index.astype(np.int64), n_days), "day": day})
    for name, values in series.items():
        df[name] = values.reshape(-1)
    dates = pd.Timestamp(datetime.date.fromisoformat(str(start))) + pd.to_timedelta(np.arange(n_days), "D")
    df["date"] = dates[df["day"].to_numpy()]
    if record == "daily":
        return registry.type_series(df)
    df["month"] = df["date"].dt.to_period("M").dt.to_timestamp()
    df["ceasefire_days"] = (df["phase"] == Phase.CEASEFIRE).astype(int)
    # Aggregation and column order as declared in sim.core.registry; "days" counts the rows.
    agg = {
        ("day" if c.monthly is Monthly.COUNT else c.name): c.monthly.value for c in registry.monthly_columns()
    }
    counted = {"day": next(c.name for c in registry.monthly_columns() if c.monthly is Monthly.COUNT)}
    out = df.groupby(["world", "month"], sort=True).agg(agg).rename(columns=counted)
    return registry.type_series(out.reset_index())
