"""Negotiation dynamics between the Pakistani state and the factions of the TTP.

Two ways to run one set of rules: :class:`NegotiationModel` (Mesa agents, one world, readable)
and :func:`run` (the vectorized ensemble, many worlds at once).
"""

from sim.explore.design import simulate, simulate_batch
from sim.running.ensemble import run
from sim.core.model import NegotiationModel
from sim.core.outcomes import OUTCOME_COLUMNS, SERIES
from sim.running.results import Results
from sim.inputs.scenarios import load_scenario, scenario_names
from sim.inputs.schema import Scenario, ScenarioError
from sim.core.types import CollapseCause, ItemKind, Phase

__all__ = ["run", "simulate", "simulate_batch", "NegotiationModel", "Results", "OUTCOME_COLUMNS", "SERIES", "load_scenario",
           "scenario_names", "Scenario", "ScenarioError", "CollapseCause", "ItemKind", "Phase"]
__version__ = "0.1.0"
