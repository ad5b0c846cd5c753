"""What the model records, declared once: every column of the outcome tables and every series.

Each column is one :class:`Column`: its name, unit, type, meaning, which table it belongs to and,
for a series, its position in the compiled day record (:func:`sim.core.outcomes.series_values`)
and how the monthly table aggregates it. Everything else is made from this list: the public
dictionaries :data:`sim.core.outcomes.OUTCOME_COLUMNS`, :data:`sim.core.outcomes.CEASEFIRE_COLUMNS`
and :data:`sim.core.outcomes.SERIES`, the column order and types of the tables, the monthly
aggregation, the figure labels, the reference tables in ``docs/model.md`` and the Parquet field
metadata (:func:`field_metadata`).

Within a table, columns are listed in the order the table has them. Series are listed in the
order of the monthly table; their ``position`` gives the order of the compiled record, of
:data:`SERIES` and of the daily table.

The order of collapse causes is the order of :class:`~sim.core.types.CollapseCause`; the
names below (:data:`CAUSE_NAMES`, :data:`ENDED_CAUSES`, :data:`CAUSE_STACK_ORDER`) are read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from sim.core.types import CollapseCause, Phase

AFTER_WINDOW_DAYS = 90
"""Days after the first ceasefire's end counted in ``ttp_attacks_per_month_after``."""

CAUSE_NAMES: tuple[str, ...] = tuple(c.name for c in CollapseCause)
PHASE_NAMES: tuple[str, ...] = tuple(p.name.lower() for p in Phase)
"""Categories of the ``phase`` column of the series tables, in the order of their codes."""
"""Collapse causes in their declared order (the categories of the cause columns)."""
ENDED_CAUSES: tuple[str, ...] = tuple(
    c.name for c in CollapseCause if c not in (CollapseCause.censored, CollapseCause.no_ceasefire)
)
"""Causes of a ceasefire that ended, in declared order."""
CAUSE_STACK_ORDER: tuple[str, ...] = ENDED_CAUSES + ("censored", "no_ceasefire")
"""How ceasefires ended, then still running, then none reached (order of stacked figures)."""
CAUSE_LABELS: dict[str, str] = {
    "censored": "still in force at the horizon",
    "no_ceasefire": "no ceasefire reached",
    "state_non_delivery": "state did not deliver",
    "faction_violation": "faction violation or dissent",
    "spoiler_provocation": "spoiler provocation",
    "state_operation": "state military operation",
    "term_expired": "term expired, not renewed",
}
"""Plain words for each collapse cause (figure legends)."""


class Kind(Enum):
    """Type of a column's values (the value is the word the docs use)."""

    YES_NO = "yes/no"
    WHOLE = "whole number"
    NUMBER = "number"
    CATEGORY = "category"
    DATE = "date"
    TEXT = "text"

    @property
    def dtype(self) -> str:
        """The pandas dtype of a column of this kind."""
        return {
            "yes/no": "bool",
            "whole number": "int64",
            "number": "float64",
            "category": "category",
            "date": "datetime64[ns]",
            "text": "object",
        }[self.value]


class Table(Enum):
    """Which table a column belongs to."""

    WORLDS = "worlds"
    """One value per world (``Results.worlds``, ``worlds.parquet``)."""
    CEASEFIRES = "ceasefires"
    """One value per ceasefire (``Results.ceasefires``, ``ceasefires.parquet``)."""
    SERIES = "series"
    """One value per world and day, recorded by the compiled rules (both series tables)."""
    DAILY = "daily"
    """Other column of the daily series table (``record="daily"``)."""
    MONTHLY = "monthly"
    """Other column of the monthly series table (``record="monthly"``)."""
    SWEEP = "sweep"
    """Other column of a sweep table (``sweep.parquet``: one row per job and world)."""
    JOBS = "jobs"
    """Column of a sweep's job table (``jobs.parquet``: one row per job) other than its swept
    values and outcomes."""


class Monthly(Enum):
    """How a series becomes one value per calendar month (the value is the pandas function)."""

    SUM = "sum"
    LAST = "last"
    MEAN = "mean"
    COUNT = "count"

    @property
    def words(self) -> str:
        """How the docs say it."""
        return {
            "sum": "sum over the month",
            "last": "value at the end of the month",
            "mean": "mean over the month",
            "count": "days counted",
        }[self.value]


@dataclass(frozen=True)
class Column:
    """One column of an outcome table, or one recorded series.

    Attributes:
        name: column name.
        unit: unit of one value (``"count"``, ``"days"``, ``"share"``, ...).
        kind: type of the values.
        meaning: what a value says, in plain words.
        table: the table it belongs to.
        label: axis label with unit for figures of a per-world outcome ("" if none).
        position: index in the compiled day record (series only).
        monthly: how the monthly series table aggregates it (series and monthly columns).
        key: whether it identifies a row (world, day, ...) rather than measuring something.
        categories: the categories of a category column, in the order of their codes.
    """

    name: str
    unit: str
    kind: Kind
    meaning: str
    table: Table
    label: str = ""
    position: int | None = None
    monthly: Monthly | None = None
    key: bool = False
    categories: tuple[str, ...] = ()


# Short names for the declarations below.
W, C, S = Table.WORLDS, Table.CEASEFIRES, Table.SERIES
YES, WHOLE, NUM, CAT = Kind.YES_NO, Kind.WHOLE, Kind.NUMBER, Kind.CATEGORY


def _world(table: Table, meaning: str = "world index") -> Column:
    return Column("world", "index", WHOLE, meaning, table, key=True)


COLUMNS: tuple[Column, ...] = (
    # Per world: Results.worlds
    _world(W, "world index (its random stream and its row in a params table)"),
    Column(
        "ceasefire_reached",
        "yes/no",
        YES,
        "a ceasefire was in force at some point (including on day 0)",
        W,
        "ceasefire reached (share of worlds)",
    ),
    Column(
        "days_to_ceasefire",
        "days",
        NUM,
        "first day the first ceasefire was in force (0 if in force on day 0; NaN if none)",
        W,
        "days until the first ceasefire (days)",
    ),
    Column(
        "ceasefire_days",
        "days",
        NUM,
        "days the first ceasefire was in force, extensions included; if still running at the "
        "horizon, days until the horizon (see ceasefire_censored)",
        W,
        "first ceasefire duration (days)",
    ),
    Column(
        "ceasefire_censored",
        "yes/no",
        YES,
        "the first ceasefire was still in force at the horizon",
        W,
        "first ceasefire still in force at the horizon (share)",
    ),
    Column(
        "n_ceasefires", "count", WHOLE, "ceasefires begun within the horizon", W, "ceasefires begun (count)"
    ),
    Column(
        "talks_rounds",
        "count",
        WHOLE,
        "rounds of talks opened (a world that starts in talks counts one)",
        W,
        "rounds of talks opened (count)",
    ),
    Column(
        "collapse_cause",
        "category",
        CAT,
        "why the first ceasefire ended: " + ", ".join(CAUSE_NAMES),
        W,
        categories=CAUSE_NAMES,
    ),
    Column(
        "prisoners_promised",
        "prisoners",
        WHOLE,
        "prisoners the state promised to release",
        W,
        "prisoners promised for release (count)",
    ),
    Column(
        "prisoners_released",
        "prisoners",
        WHOLE,
        "prisoners the state actually released",
        W,
        "prisoners released (count)",
    ),
    Column(
        "concessions_promised",
        "items",
        WHOLE,
        "concession items promised (prisoner tranches, district withdrawals, amnesty, "
        "compensation, Shariah); a new round promises again",
        W,
    ),
    Column("concessions_delivered", "items", WHOLE, "concession items delivered", W),
    Column(
        "ttp_attacks",
        "attacks",
        WHOLE,
        "attacks by TTP factions over the horizon",
        W,
        "TTP attacks over the horizon (count)",
    ),
    Column(
        "spoiler_attacks",
        "attacks",
        WHOLE,
        "attacks by spoilers over the horizon (kept apart from TTP attacks)",
        W,
        "spoiler attacks over the horizon (count)",
    ),
    Column(
        "casualties",
        "people",
        NUM,
        "security forces and civilians killed or injured in all attacks",
        W,
        "killed and injured, all attacks (people)",
    ),
    Column(
        "ttp_attacks_per_month_ceasefire",
        "attacks per month",
        NUM,
        "TTP attacks per month during the first ceasefire",
        W,
        "TTP attacks during the first ceasefire (per month)",
    ),
    Column(
        "ttp_attacks_per_month_after",
        "attacks per month",
        NUM,
        f"TTP attacks per month in the {AFTER_WINDOW_DAYS} days after the first ceasefire "
        "ended (NaN if it did not end)",
        W,
        f"TTP attacks in the {AFTER_WINDOW_DAYS} days after collapse (per month)",
    ),
    Column(
        "defections_to_spoilers",
        "fighters",
        NUM,
        "TTP hardliners who joined spoilers",
        W,
        "TTP hardliners who joined spoilers (fighters)",
    ),
    Column(
        "splits",
        "events",
        WHOLE,
        "factions that split from the umbrella",
        W,
        "faction splits from the umbrella (events)",
    ),
    Column(
        "reunifications",
        "events",
        WHOLE,
        "factions that rejoined the umbrella",
        W,
        "faction reunifications (events)",
    ),
    Column(
        "defections_to_state",
        "events",
        WHOLE,
        "factions that defected to the state",
        W,
        "factions defecting to the state (events)",
    ),
    Column(
        "ttp_fighters_end",
        "fighters",
        NUM,
        "active fighters of factions not defected to the state at the horizon",
        W,
        "TTP fighters at the horizon (fighters)",
    ),
    # Per ceasefire: Results.ceasefires
    _world(C),
    Column("ceasefire", "index", WHOLE, "which ceasefire of the world (0 = first)", C, key=True),
    Column("start_day", "day index", WHOLE, "first day in force", C),
    Column("days", "days", WHOLE, "days in force, extensions included (until the horizon if censored)", C),
    Column("censored", "yes/no", YES, "still in force at the horizon", C),
    Column(
        "cause",
        "category",
        CAT,
        "why it ended: " + ", ".join(c for c in CAUSE_NAMES if c != "no_ceasefire"),
        C,
        categories=CAUSE_NAMES,
    ),
    # Series tables: keys, then the series in the order of the monthly table
    _world(Table.DAILY),
    Column("day", "day index", WHOLE, "day index from 0", Table.DAILY, key=True),
    Column("date", "date", Kind.DATE, "calendar date (scenario `start` + day)", Table.DAILY, key=True),
    _world(Table.MONTHLY),
    Column("month", "date", Kind.DATE, "first day of the calendar month", Table.MONTHLY, key=True),
    Column("ttp_attacks", "attacks", WHOLE, "TTP attacks that day", S, position=1, monthly=Monthly.SUM),
    Column(
        "spoiler_attacks", "attacks", WHOLE, "spoiler attacks that day", S, position=2, monthly=Monthly.SUM
    ),
    Column("casualties", "people", NUM, "killed and injured that day", S, position=3, monthly=Monthly.SUM),
    Column(
        "ceasefire_days",
        "days",
        WHOLE,
        "days of the month that ended in a ceasefire",
        Table.MONTHLY,
        monthly=Monthly.SUM,
    ),
    Column(
        "prisoners_released",
        "prisoners",
        WHOLE,
        "prisoners released so far",
        S,
        position=10,
        monthly=Monthly.LAST,
    ),
    Column(
        "ttp_fighters",
        "fighters",
        NUM,
        "active fighters of factions not defected to the state",
        S,
        position=4,
        monthly=Monthly.LAST,
    ),
    Column(
        "hardliners", "fighters", NUM, "hardline fighters among them", S, position=5, monthly=Monthly.LAST
    ),
    Column(
        "factions_in_umbrella",
        "factions",
        WHOLE,
        "factions inside the umbrella",
        S,
        position=11,
        monthly=Monthly.LAST,
    ),
    Column("spoiler_fighters", "fighters", NUM, "spoiler fighters", S, position=12, monthly=Monthly.LAST),
    Column(
        "phase",
        "category",
        CAT,
        "negotiation phase at the end of the day: " + ", ".join(PHASE_NAMES),
        S,
        position=0,
        monthly=Monthly.LAST,
        categories=PHASE_NAMES,
    ),
    Column(
        "ttp_trust",
        "share",
        NUM,
        "fighter-weighted trust of the umbrella factions in the state",
        S,
        position=6,
        monthly=Monthly.MEAN,
    ),
    Column("state_trust", "share", NUM, "the state's trust in the TTP", S, position=7, monthly=Monthly.MEAN),
    Column("coercion", "share", NUM, "the state's level of coercion", S, position=8, monthly=Monthly.MEAN),
    Column("pressure", "share", NUM, "domestic pressure", S, position=9, monthly=Monthly.MEAN),
    Column(
        "days", "days", WHOLE, "days of the month inside the horizon", Table.MONTHLY, monthly=Monthly.COUNT
    ),
    # Sweep tables: the job's own columns (its swept values are scenario fields)
    Column(
        "job",
        "index",
        WHOLE,
        "job of the sweep (one command-line job or design point)",
        Table.SWEEP,
        key=True,
    ),
    Column("scenario", "name", Kind.TEXT, "scenario the job ran", Table.SWEEP),
    Column("seed", "seed", WHOLE, "seed the job ran with", Table.SWEEP),
    Column("job", "index", WHOLE, "job of the sweep", Table.JOBS, key=True),
    Column("job_dir", "path", Kind.TEXT, "directory of the job, relative to the sweep's", Table.JOBS),
    Column("status", "category", Kind.TEXT, "complete, failed, incomplete or not_started", Table.JOBS),
    Column("error", "text", Kind.TEXT, "error message of a failed job", Table.JOBS),
    Column("scenario", "name", Kind.TEXT, "scenario the job ran", Table.JOBS),
    Column("seed", "seed", WHOLE, "seed the job ran with", Table.JOBS),
    Column("days", "days", WHOLE, "days simulated", Table.JOBS),
    Column("seconds", "seconds", NUM, "time the simulation took", Table.JOBS),
    Column("worlds", "count", WHOLE, "worlds of the job in the sweep table", Table.JOBS),
    Column(
        "ceasefire_days_median",
        "days",
        NUM,
        "median duration of first ceasefires among the job's worlds that reached one",
        Table.JOBS,
    ),
)
"""Every column, declared once (see the module docstring for the order)."""


def columns(table: Table) -> list[Column]:
    """The columns declared for ``table``, in declared order."""
    return [c for c in COLUMNS if c.table is table]


def series() -> list[Column]:
    """The recorded series in the order of the compiled day record (their ``position``)."""
    return sorted(columns(Table.SERIES), key=lambda c: c.position)


def series_position(name: str) -> int:
    """Index of series ``name`` in the compiled day record."""
    return next(c.position for c in columns(Table.SERIES) if c.name == name)


def outcome_labels() -> dict[str, str]:
    """Axis labels with units of the per-world outcomes that have one."""
    return {c.name: c.label for c in columns(Table.WORLDS) if c.label}


def measured(table: Table = Table.WORLDS) -> list[str]:
    """Names of the numeric, non-key columns of ``table`` (what can be averaged over worlds)."""
    return [c.name for c in columns(table) if not c.key and c.kind in (YES, WHOLE, NUM)]


def monthly_columns() -> list[Column]:
    """Columns the monthly series table aggregates, in its column order."""
    return [c for c in COLUMNS if c.table in (Table.SERIES, Table.MONTHLY) and c.monthly is not None]


def typed(c: Column, values: Any) -> Any:
    """Values of column ``c`` in the dtype of its kind; a whole-number column is rounded first,
    so that a count made of shares (32 prisoners in tranches of 32/3) is the whole number it
    stands for (32, not 31.999999999999993)."""
    v = np.asarray(values)
    if c.kind is CAT and v.dtype.kind in "fiu":  # codes (sim.core.types)
        return pd.Categorical.from_codes(v.astype(int), categories=c.categories)
    if c.kind is WHOLE and v.dtype.kind == "f":
        return np.rint(v).astype(np.int64)
    return v.astype(c.kind.dtype)


def type_series(df: pd.DataFrame) -> pd.DataFrame:
    """A series table (daily or monthly) with its recorded series in their declared dtypes."""
    for c in series():
        if c.name in df.columns and c.kind is not NUM:
            df[c.name] = typed(c, df[c.name].to_numpy())
    return df


def codes(values: Any) -> np.ndarray:
    """The codes (floats) of a category column such as ``phase`` (or the values themselves when
    they are codes already), for comparison with :mod:`sim.core.types` codes."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return np.asarray(values.cat.codes, dtype=float)
    return np.asarray(values, dtype=float)


def record_name(c: Column) -> str:
    """Name of series ``c`` in the Mesa model's records (its ``DataCollector``): a day's count
    (a series the monthly table sums) is called ``<name>_today`` there, so that it never shares
    a name with a per-world total (``ttp_attacks`` in the outcome table is the run's total)."""
    return f"{c.name}_today" if c.monthly is Monthly.SUM else c.name


def frame(table: Table, values: dict[str, Any]) -> pd.DataFrame:
    """A table with the declared columns of ``table`` in declared order, typed by their kind.

    Args:
        table: :attr:`Table.WORLDS` or :attr:`Table.CEASEFIRES`.
        values: one array per declared column; a category column holds cause codes
            (:class:`~sim.core.types.CollapseCause` values).

    Raises:
        KeyError: if ``values`` misses a declared column or has one that is not declared.
    """
    cols = columns(table)
    extra = sorted(set(values) - {c.name for c in cols})
    if extra:
        raise KeyError(
            f"columns {extra} are not declared for the {table.value} table in sim.core.registry.COLUMNS"
        )
    out = {}
    for c in cols:
        v = values[c.name]
        out[c.name] = typed(c, v)
    return pd.DataFrame(out)


def field_metadata(table: Table | str, record: str | None = None) -> dict[str, dict[str, str]]:
    """Unit and meaning of every declared column of a table, for Parquet field metadata.

    Args:
        table: a :class:`Table` or one of ``"worlds"``, ``"ceasefires"``, ``"timeseries"``,
            ``"sweep"``.
        record: for ``"timeseries"``: ``"daily"`` or ``"monthly"``.

    Returns:
        ``{column: {"unit": ..., "meaning": ...}}``. A sweep table has the worlds columns and
        the sweep's own; a monthly series gets how it was aggregated in its meaning.
    """
    name = table.value if isinstance(table, Table) else str(table)
    if name in ("timeseries", "series"):
        if record == "monthly":
            cols = [c for c in columns(Table.MONTHLY) if c.monthly is None] + monthly_columns()
        else:
            cols = columns(Table.DAILY) + series()
    elif name == "sweep":
        cols = columns(Table.SWEEP) + columns(Table.WORLDS)
    else:
        cols = columns(Table(name))
    out = {}
    for c in cols:
        meaning = c.meaning
        if record == "monthly" and c.table is Table.SERIES:
            meaning = f"{meaning}; {c.monthly.words}"
        out[c.name] = {"unit": c.unit, "meaning": meaning}
    return out
