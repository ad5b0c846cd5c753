"""What a run returns: :class:`Results` (the tables of a run) and its headline figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.registry import CAUSE_LABELS, CAUSE_NAMES

__all__ = ["Results", "summarize", "describe"]


@dataclass
class Results:
    """What a run returns.

    Attributes:
        worlds: one row per world (columns in :data:`sim.core.outcomes.OUTCOME_COLUMNS`).
        timeseries: long table of recorded series (``record="daily"`` or ``"monthly"``), or None.
        scenario: name of the scenario. seed, days: run settings.
        params: per-world parameter table the run used, or None.
        ceasefires: one row per ceasefire of every world (columns in
            :data:`sim.core.outcomes.CEASEFIRE_COLUMNS`), up to
            :data:`sim.core.outcomes.MAX_CEASEFIRES` per world.
        particles: with ``behaviour="posterior"``, the posterior particle each world ran with
            (row ``i`` of ``worlds``; :mod:`sim.inputs.posterior`), else None.
    """

    worlds: pd.DataFrame
    timeseries: pd.DataFrame | None
    scenario: str
    seed: int
    days: int
    params: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    ceasefires: pd.DataFrame | None = None
    particles: np.ndarray | None = None

    def summary(self) -> dict[str, Any]:
        """Headline figures: share reaching a ceasefire, durations, collapse causes."""
        return summarize(self.worlds, self.days)


#: decimals of the headline figures: shares to a hundredth of a percent, days and counts to a tenth
SHARE_DECIMALS, AMOUNT_DECIMALS = 4, 1


def _share(x: float) -> float:
    return round(float(x), SHARE_DECIMALS)


def _amount(x: float) -> float:
    return round(float(x), AMOUNT_DECIMALS)


def summarize(w: pd.DataFrame, days: int) -> dict[str, Any]:
    """Headline figures of an outcome table, rounded for reading (:data:`SHARE_DECIMALS`,
    :data:`AMOUNT_DECIMALS`)."""
    reached = w[w["ceasefire_reached"]]
    out: dict[str, Any] = {
        "worlds": int(len(w)),
        "days": int(days),
        "ceasefire_share": _share(w["ceasefire_reached"].mean()) if len(w) else float("nan"),
        "censored_share_of_ceasefires": (
            _share(reached["ceasefire_censored"].mean()) if len(reached) else None
        ),
    }
    if len(reached):
        d = reached["ceasefire_days"].to_numpy()
        out["ceasefire_days_median"] = _amount(np.median(d))
        out["ceasefire_days_p05"] = _amount(np.quantile(d, 0.05))
        out["ceasefire_days_p95"] = _amount(np.quantile(d, 0.95))
        # Shares in the declared order of the causes (sim.core.types.CollapseCause).
        shares = reached["collapse_cause"].astype(str).value_counts(normalize=True)
        out["collapse_causes"] = {c: _share(shares[c]) for c in CAUSE_NAMES if shares.get(c, 0) > 0}
    for col in (
        "ttp_attacks",
        "spoiler_attacks",
        "casualties",
        "prisoners_released",
        "defections_to_spoilers",
    ):
        out[f"{col}_median"] = _amount(np.median(w[col])) if len(w) else float("nan")
    return out


def describe(summary: dict[str, Any], scenario: str) -> str:
    """A short plain-language summary of a run."""
    lines = [f"{scenario}: {summary['worlds']:,} worlds over {summary['days']} days."]
    lines.append(f"  A ceasefire was reached in {summary['ceasefire_share']:.0%} of worlds.")
    if "ceasefire_days_median" in summary:
        lines.append(
            f"  Median first ceasefire: {summary['ceasefire_days_median']:.0f} days "
            f"(90% interval {summary['ceasefire_days_p05']:.0f}-"
            f"{summary['ceasefire_days_p95']:.0f}); still running at the horizon in "
            f"{summary['censored_share_of_ceasefires']:.0%} of those worlds."
        )
        causes = sorted(summary["collapse_causes"].items(), key=lambda kv: -kv[1])[:3]
        lines.append(
            "  How first ceasefires ended: "
            + ", ".join(f"{CAUSE_LABELS[k]} {v:.0%}" for k, v in causes)
            + "."
        )
    lines.append(
        f"  Median TTP attacks {summary['ttp_attacks_median']:.0f}, spoiler attacks "
        f"{summary['spoiler_attacks_median']:.0f}, casualties "
        f"{summary['casualties_median']:.0f}, prisoners released "
        f"{summary['prisoners_released_median']:.0f}."
    )
    return "\n".join(lines)
