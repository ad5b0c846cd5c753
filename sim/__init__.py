"""Negotiation dynamics between the Pakistani state and the factions of the TTP.

Two ways to run one set of rules: :class:`NegotiationModel` (Mesa agents, one world, readable)
and :func:`run` (the vectorized ensemble, many worlds at once).

The public names below are imported on first use (PEP 562), so that ``import sim`` and the
command line's ``--help`` start quickly without loading the compiled kernel or the analysis
libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> module that defines it
_EXPORTS = {
    "run": "sim.running.ensemble",
    "simulate": "sim.explore.design",
    "simulate_batch": "sim.explore.design",
    "NegotiationModel": "sim.core.model",
    "Faction": "sim.core.actors",
    "State": "sim.core.actors",
    "Mediator": "sim.core.actors",
    "Spoiler": "sim.core.actors",
    "Results": "sim.running.results",
    "OUTCOME_COLUMNS": "sim.core.outcomes",
    "SERIES": "sim.core.outcomes",
    "load_scenario": "sim.inputs.scenarios",
    "scenario_names": "sim.inputs.scenarios",
    "Scenario": "sim.inputs.schema",
    "ScenarioError": "sim.inputs.schema",
    "CollapseCause": "sim.core.types",
    "ItemKind": "sim.core.types",
    "Phase": "sim.core.types",
}

__all__ = list(_EXPORTS)
__version__ = "0.1.0"

if TYPE_CHECKING:
    from sim.core.actors import Faction, Mediator, Spoiler, State
    from sim.core.model import NegotiationModel
    from sim.core.outcomes import OUTCOME_COLUMNS, SERIES
    from sim.core.types import CollapseCause, ItemKind, Phase
    from sim.explore.design import simulate, simulate_batch
    from sim.inputs.scenarios import load_scenario, scenario_names
    from sim.inputs.schema import Scenario, ScenarioError
    from sim.running.ensemble import run
    from sim.running.results import Results


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (and keep it)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
