"""The four kinds of actor: each file holds an actor's rules and its Mesa agent."""

from sim.core.actors.faction import Faction
from sim.core.actors.mediator import Mediator
from sim.core.actors.spoiler import Spoiler
from sim.core.actors.state import State

__all__ = ["Faction", "Mediator", "Spoiler", "State"]
