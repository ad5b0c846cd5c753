"""Per-world measures that plots and analyses reduce outcome tables with.

An *outcome* named in a plot or an analysis is one of:

- a numeric column of the outcome table (declared in :mod:`sim.core.registry`), reduced to its
  mean over worlds (a yes/no column becomes a share);
- ``"survives_N"``: the share of first ceasefires that lasted at least ``N`` days (see
  :func:`survives`);
- ``"lasts_past_N"``: the share of *all* worlds whose first ceasefire lasted at least ``N`` days
  (worlds without a ceasefire count as no).

Every such outcome is a ratio of two per-world arrays, ``sum(numerator) / sum(denominator)``, so
that it can be reduced per sweep point with one ``bincount`` and get a binomial interval when it
is a share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core import registry
from sim.core.registry import Kind, Table

# Axis labels with units of the per-world outcomes (declared in sim.core.registry).
OUTCOME_LABELS: dict[str, str] = registry.outcome_labels()

_UNIT_SUFFIX = {"_share": "share, 0-1", "_days": "days", "_count": "count", "_per_day": "per day"}

_SURVIVES = re.compile(r"^survives_(\d+)$")
_LASTS = re.compile(r"^lasts_past_(\d+)$")


def survives(worlds: pd.DataFrame, days: float = 90, among: str = "reached") -> float:
    """Share of first ceasefires that lasted at least ``days`` days.

    A ceasefire still in force at the horizon (``ceasefire_censored``) counts as lasting if it had
    already run ``days`` days by then. One that was censored before reaching ``days`` counts as
    not lasting (its fate is unknown), so the share is a lower bound when the horizon is short;
    :func:`sim.report.figures.survival_estimate` gives the censoring-aware Kaplan-Meier estimate.

    Args:
        worlds: outcome table, one row per world.
        days: how long the ceasefire must last, in days.
        among: ``"reached"`` (default): share among worlds that reached a ceasefire (NaN if none
            did); ``"all"``: share among all worlds.
    """
    num, den = _survives_arrays(worlds, days, among)
    total = den.sum()
    return float(num.sum() / total) if total > 0 else float("nan")


def _survives_arrays(worlds: pd.DataFrame, days: float, among: str) -> tuple[np.ndarray, np.ndarray]:
    if among not in ("reached", "all"):
        raise ValueError(f"among = {among!r} is not allowed: expected 'reached' or 'all'")
    reached = worlds["ceasefire_reached"].to_numpy(dtype=bool)
    lasted = reached & (np.nan_to_num(worlds["ceasefire_days"].to_numpy(dtype=float), nan=-1.0) >= days)
    den = reached if among == "reached" else np.ones(len(worlds), dtype=bool)
    return lasted.astype(float), den.astype(float)


@dataclass(frozen=True)
class Outcome:
    """A named outcome: how to turn an outcome table into per-world numerators and denominators.

    Attributes:
        name: as given (``"ttp_attacks"``, ``"survives_90"``).
        label: axis label with unit.
        is_share: whether the value is a share of worlds (0-1), so a binomial interval applies.
        column: the outcome column for plain columns (its world values have a spread), else None.
    """

    name: str
    label: str
    is_share: bool
    column: str | None

    def arrays(self, worlds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-world numerator and denominator (NaN values get a zero denominator)."""
        m = _SURVIVES.match(self.name)
        if m:
            return _survives_arrays(worlds, float(m.group(1)), "reached")
        m = _LASTS.match(self.name)
        if m:
            return _survives_arrays(worlds, float(m.group(1)), "all")
        values = worlds[self.column].to_numpy(dtype=float)
        ok = ~np.isnan(values)
        return np.where(ok, values, 0.0), ok.astype(float)

    def indicator(self, worlds: pd.DataFrame) -> np.ndarray:
        """Per-world yes/no: did this world show the outcome (only for share outcomes).

        ``survives_N`` and ``lasts_past_N`` both give "the first ceasefire lasted N days" here,
        with worlds that reached no ceasefire as no.
        """
        if not self.is_share:
            raise ValueError(
                f"outcome {self.name!r} is not a yes/no outcome; use survives_N, "
                "lasts_past_N or a yes/no column such as ceasefire_reached"
            )
        num, _ = self.arrays(worlds)
        return num > 0

    def value(self, worlds: pd.DataFrame) -> float:
        """The outcome over a whole table: ``sum(numerator) / sum(denominator)``."""
        num, den = self.arrays(worlds)
        total = den.sum()
        return float(num.sum() / total) if total > 0 else float("nan")

    def per_group(
        self, worlds: pd.DataFrame, codes: np.ndarray, n_groups: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Value and denominator per group (``codes`` in ``0..n_groups-1``, one per world)."""
        num, den = self.arrays(worlds)
        s_num = np.bincount(codes, weights=num, minlength=n_groups)
        s_den = np.bincount(codes, weights=den, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(s_den > 0, s_num / s_den, np.nan), s_den


def outcome(name: str) -> Outcome:
    """Look up an outcome by name (a column, ``survives_N`` or ``lasts_past_N``).

    Raises:
        ValueError: naming the allowed outcomes.
    """
    m = _SURVIVES.match(name)
    if m:
        return Outcome(name, f"first ceasefires lasting {m.group(1)}+ days (share)", True, None)
    m = _LASTS.match(name)
    if m:
        return Outcome(name, f"worlds whose first ceasefire lasted {m.group(1)}+ days (share)", True, None)
    allowed = registry.measured(Table.WORLDS)
    if name in allowed:
        is_share = next(c.kind for c in registry.columns(Table.WORLDS) if c.name == name) is Kind.YES_NO
        return Outcome(name, OUTCOME_LABELS.get(name, name.replace("_", " ")), is_share, name)
    raise ValueError(
        f"outcome = {name!r} is not allowed: expected 'survives_N', 'lasts_past_N' "
        f"(N in days) or one of {allowed}"
    )


def param_unit(path: str) -> str | None:
    """Unit of a dotted scenario field, or None if neither its name nor its declaration says.

    The unit comes from the name's suffix (``_share``, ``_days``, ``_count``, ``_per_day``), else
    from the field's declared range in :mod:`sim.inputs.schema` (a field in [0, 1] is a share).
    """
    for suffix, unit in _UNIT_SUFFIX.items():
        if path.endswith(suffix):
            return unit
    from sim.inputs.fields import by_name, lookup

    sf = lookup(path) or by_name(path.split(".")[-1])
    if sf is not None:
        if sf.lo == 0 and sf.hi == 1:
            return "share, 0-1"
        if sf.integer:
            return "count"
    return None


def param_label(path: str) -> str:
    """Axis label of a dotted scenario field with its unit (see :func:`param_unit`)."""
    unit = param_unit(path)
    return f"{path} ({unit})" if unit else path


def parquet_fields(columns: list[str], table: str, record: str | None = None) -> dict[str, dict[str, str]]:
    """Unit and meaning of every column of a table a run writes, for Parquet field metadata.

    Declared columns come from :func:`sim.core.registry.field_metadata`; in a job table
    (``table="jobs"``) an outcome column is its mean (or share) over the job's worlds; any other
    column of a sweep is a swept scenario field or run setting.

    Args:
        columns: the table's columns.
        table: ``"worlds"``, ``"ceasefires"``, ``"timeseries"``, ``"sweep"`` or ``"jobs"``.
        record: for ``"timeseries"``: ``"daily"`` or ``"monthly"``.
    """
    declared = registry.field_metadata(table, record)
    out: dict[str, dict[str, str]] = {}
    for name in columns:
        if name in declared:
            out[name] = declared[name]
            continue
        if table == "jobs":
            try:
                spec = outcome(name)
            except ValueError:
                spec = None
            if spec is not None:
                unit = "share" if spec.is_share else registry.field_metadata("worlds")[name]["unit"]
                out[name] = {"unit": unit, "meaning": f"{spec.label}, over the job's worlds"}
                continue
        out[name] = {
            "unit": param_unit(name) or "as set",
            "meaning": f"{name}: scenario field or run setting as set for this job",
        }
    return out


def wilson(successes: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial share at confidence ``level`` (NaN where ``n`` is 0)."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + level / 2)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.asarray(successes, dtype=float) / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        lo, hi = centre - half, centre + half
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
