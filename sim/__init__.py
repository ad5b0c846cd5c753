"""Negotiation dynamics between the Pakistani state and the factions of the TTP.

Two ways to run one set of rules: :class:`NegotiationModel` (Mesa agents, one world, readable)
and :func:`run` (the vectorized ensemble, many worlds at once).
"""

from .design import simulate, simulate_batch
from .ensemble import run
from .model import NegotiationModel
from .outcomes import OUTCOME_COLUMNS, SERIES, Results
from .scenario import load_scenario, scenario_names
from .schema import Scenario, ScenarioError
from .types import CollapseCause, ItemKind, Phase

__all__ = ["run", "simulate", "simulate_batch", "NegotiationModel", "Results", "OUTCOME_COLUMNS", "SERIES", "load_scenario",
           "scenario_names", "Scenario", "ScenarioError", "CollapseCause", "ItemKind", "Phase"]
__version__ = "0.1.0"
