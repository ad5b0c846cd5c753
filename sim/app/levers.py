"""The levers of the page and what a run of them shows, without the page itself.

A lever is a scenario field a policy student may move: how reliably the state delivers, how
many prisoners it offers and in how many tranches, which districts it withdraws from, which
mediators take part and with what leverage, whether the state insists on a united TTP front,
and whether the spoilers take part at all. :func:`defaults` reads them from a scenario,
:func:`apply` writes them back (through :func:`sim.load_scenario`, so every value is checked as
in a YAML file), :func:`compare` runs the edited scenario against the unchanged one with the
same seed, and :func:`headline` gives the numbers the page prints.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.inputs.scenarios import load_scenario, to_dict
from sim.inputs.schema import Scenario
from sim.report.figures import survival_estimate
from sim.report.patterns import COUNTERFACTUALS, EPISODES, horizon_days
from sim.running.ensemble import run
from sim.running.results import Results

#: worlds of each run of the page: enough for a smooth survival curve, fast enough to feel live
WORLDS = 1000
#: horizon of a scenario that is not one of the validation episodes (the command line's default)
DEFAULT_DAYS = 730
#: the ceasefire age the page reports the share of first ceasefires still in force at
LASTING_DAYS = 90


@dataclass
class Levers:
    """The values of the levers (see the module docstring).

    Attributes:
        delivery_reliability: ``state.delivery_reliability`` (share, 0 to 1).
        prisoner_release_count: ``state.offer.prisoner_release_count`` (count).
        release_tranche_count: ``state.offer.release_tranche_count`` (count, 1 to 12).
        withdrawal_districts: ``state.offer.withdrawal_districts`` (district ids).
        insists_united_front: ``state.insists_united_front``.
        mediators_present: ``mediators.<id>.present`` by mediator id.
        mediators_leverage: ``mediators.<id>.leverage_share`` by mediator id (share, 0 to 1).
        spoilers_present: False drops every spoiler of the scenario.
    """

    delivery_reliability: float
    prisoner_release_count: int
    release_tranche_count: int
    withdrawal_districts: list[str]
    insists_united_front: bool
    mediators_present: dict[str, bool] = field(default_factory=dict)
    mediators_leverage: dict[str, float] = field(default_factory=dict)
    spoilers_present: bool = True


def defaults(s: Scenario) -> Levers:
    """The levers as the scenario sets them."""
    offer = s.state.offer
    return Levers(
        delivery_reliability=float(s.state.delivery_reliability),
        prisoner_release_count=int(offer.prisoner_release_count),
        release_tranche_count=int(offer.release_tranche_count),
        withdrawal_districts=list(offer.withdrawal_districts),
        insists_united_front=bool(s.state.insists_united_front),
        mediators_present={k: bool(m.present) for k, m in s.mediators.items()},
        mediators_leverage={k: float(m.leverage_share) for k, m in s.mediators.items()},
        spoilers_present=bool(s.spoilers),
    )


def prisoners_held(s: Scenario) -> int:
    """Prisoners the state holds (the most it can offer): the factions' ``prisoners_held_count``."""
    return int(sum(f.prisoners_held_count for f in s.factions.values()))


def overrides(levers: Levers) -> dict[str, Any]:
    """The levers as dotted scenario fields and values (as ``sim.load_scenario`` takes them)."""
    out: dict[str, Any] = {
        "state.delivery_reliability": float(levers.delivery_reliability),
        "state.offer.prisoner_release_count": int(levers.prisoner_release_count),
        "state.offer.release_tranche_count": int(levers.release_tranche_count),
        "state.offer.withdrawal_districts": list(levers.withdrawal_districts),
        "state.insists_united_front": bool(levers.insists_united_front),
    }
    for k, present in levers.mediators_present.items():
        out[f"mediators.{k}.present"] = bool(present)
    for k, leverage in levers.mediators_leverage.items():
        out[f"mediators.{k}.leverage_share"] = float(leverage)
    return out


def apply(s: Scenario, levers: Levers) -> Scenario:
    """The scenario with the levers' values, checked as a scenario file is.

    Raises:
        ScenarioError: naming the field, the value and what is allowed.
    """
    if not levers.spoilers_present and s.spoilers:
        # Without its spoilers a scenario keeps no provenance for them (a source must name a field).
        kept = {k: v for k, v in s.sources.items() if not k.startswith("spoilers.")}
        s = dataclasses.replace(s, spoilers={}, sources=kept)
    return load_scenario(s, overrides(levers))


def horizon(name: str, s: Scenario) -> int:
    """Days a run of the page covers: the validation horizon of an episode (or of the episode a
    counterfactual varies, :data:`sim.report.patterns.COUNTERFACTUALS`), else
    :data:`DEFAULT_DAYS`."""
    episode = EPISODES.get(name)
    if episode is None and name in COUNTERFACTUALS:
        episode = next((e for k, e in EPISODES.items() if name.startswith(k)), None)
    return horizon_days(s, episode) if episode is not None else DEFAULT_DAYS


def compare(
    base: Scenario, edited: Scenario, days: int, worlds: int = WORLDS, seed: int = 0
) -> dict[str, Results]:
    """Run the unchanged and the edited scenario with the same seed (so that a difference is
    the levers', not chance), recording monthly series."""
    return {
        "unchanged": run(base, worlds=worlds, days=days, seed=seed, record="monthly"),
        "edited": run(edited, worlds=worlds, days=days, seed=seed, record="monthly"),
    }


def headline(r: Results) -> dict[str, float]:
    """The numbers the page prints for a run, rounded for reading: shares in whole percent,
    days and counts whole."""
    w = r.worlds
    reached = w["ceasefire_reached"].astype(bool)
    est = survival_estimate(w, days=[LASTING_DAYS])
    lasting = float(est["survival"].iloc[0]) if len(est) else float("nan")
    days = w.loc[reached, "ceasefire_days"]
    return {
        "ceasefire reached (% of worlds)": round(100 * float(reached.mean())),
        f"first ceasefires lasting {LASTING_DAYS}+ days (%)": (
            round(100 * lasting) if np.isfinite(lasting) else float("nan")
        ),
        "median first ceasefire (days)": round(float(days.median())) if len(days) else float("nan"),
        "median TTP attacks": round(float(w["ttp_attacks"].median())),
        "median killed and injured": round(float(w["casualties"].median())),
        "median prisoners released": round(float(w["prisoners_released"].median())),
    }


def headline_table(runs: dict[str, Results]) -> pd.DataFrame:
    """:func:`headline` of each run side by side (rows: the numbers; columns: the runs)."""
    return pd.DataFrame({label: headline(r) for label, r in runs.items()})


def markdown_table(table: pd.DataFrame) -> str:
    """A table as Markdown, its index as the first column (numbers as printed by pandas)."""
    head = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, row in table.iterrows():
        cells = ["-" if pd.isna(x) else f"{x:g}" for x in row]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    return "\n".join(lines)


def scenario_yaml(s: Scenario) -> str:
    """The scenario as a YAML file that :func:`sim.load_scenario` reads back."""
    return OmegaConf.to_yaml(OmegaConf.create(to_dict(s)))


def results_csv(runs: dict[str, Results]) -> str:
    """The per-world outcome tables of the runs as one CSV, a ``run`` column first."""
    table = pd.concat([r.worlds.assign(run=label) for label, r in runs.items()], ignore_index=True)
    buffer = io.StringIO()
    table[["run", *[c for c in table.columns if c != "run"]]].to_csv(buffer, index=False)
    return buffer.getvalue()
