"""Mediators: the Afghan Taliban / Haqqani Network, al-Qaeda as broker, tribal jirgas.

A mediator hosts talks, presses factions to accept and comply, takes released prisoners into
custody and brokers the return of splinter factions. Its pressure is limited twice over
(Walter 2002, Bapat 2006 on weak guarantors): by its leverage, and by its sympathy for the TTP.
Seeds 001-003: the Afghan Taliban host and pressure, "but their leverage over the TTP is limited
and their sympathy lies with it"; seed 000: al-Qaeda mediated the 2020 reunification.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..rules import clip01, largest, total


def pressure(present, leverage_share, sympathy_share):
    """Pressure one mediator puts on the factions, in [0, 1].

    Leverage discounted by sympathy: a fully sympathetic mediator presses not at all.
    """
    return present * leverage_share * (1.0 - sympathy_share)


def guarantee(pressures):
    """Combined pressure of all mediators of a world (sum over the mediator axis, capped at 1)."""
    return clip01(total(pressures))


def hosting(present, hosts_talks):
    """Whether any present mediator hosts talks (1.0 or 0.0)."""
    return largest(present * hosts_talks)


def custody(present, takes_custody):
    """Whether released prisoners go into a mediator's custody rather than straight home."""
    return largest(present * takes_custody)


def broker_leverage(present, brokers_reunification, leverage_share):
    """Strongest leverage among present reunification brokers (0 when there is none)."""
    return largest(present * brokers_reunification * leverage_share)


class Mediator(mesa.Agent):
    """A mediator of one world; its daily step sets the pressure it puts on the factions."""

    def __init__(self, model: mesa.Model, mediator_id: str, params) -> None:
        super().__init__(model)
        self.mediator_id = mediator_id
        self.p = params
        self.pressure = 0.0

    def step(self) -> None:
        """Press the factions as far as leverage and sympathy allow."""
        p = self.p
        self.pressure = pressure(float(p.present), p.leverage_share, p.sympathy_share)
