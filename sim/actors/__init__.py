"""The four kinds of actor: each file holds an actor's rules and its Mesa agent."""

from .faction import Faction
from .mediator import Mediator
from .spoiler import Spoiler
from .state import State

__all__ = ["Faction", "Mediator", "Spoiler", "State"]
