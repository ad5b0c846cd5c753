"""Mediators: the Afghan Taliban / Haqqani Network, al-Qaeda as broker, tribal jirgas.

A mediator hosts talks, presses factions to accept and comply, takes released prisoners into
custody and brokers the return of splinter factions. Its pressure is limited twice over
(Walter 2002, Bapat 2006 on weak guarantors): by its leverage, and by its sympathy for the TTP.
Seeds 001-003: the Afghan Taliban host and pressure, "but their leverage over the TTP is limited
and their sympathy lies with it"; seed 000: al-Qaeda mediated the 2020 reunification.
"""

from __future__ import annotations

import mesa

from sim.core.compiled import clip01, rule


@rule
def pressure(p):
    """Pressure one mediator puts on the factions, in [0, 1]: leverage discounted by sympathy,
    so a fully sympathetic mediator presses not at all."""
    return p.present * p.leverage_share * (1.0 - p.sympathy_share)


@rule
def mediation(pm):
    """Combined effect of a world's mediators (``pm``: their parameter records ``[M]``).

    Returns:
        (guarantee, hosted, custody, broker): summed pressure capped at 1; whether any present
        mediator hosts talks; whether one takes released prisoners into custody; the strongest
        leverage among present reunification brokers.
    """
    guarantee, hosted, custody, broker = 0.0, 0.0, 0.0, 0.0
    for i in range(pm.shape[0]):
        p = pm[i]
        guarantee = guarantee + pressure(p)
        hosted = max(hosted, p.present * p.hosts_talks)
        custody = max(custody, p.present * p.takes_custody)
        broker = max(broker, p.present * p.brokers_reunification * p.leverage_share)
    return clip01(guarantee), hosted, custody, broker


class Mediator(mesa.Agent):
    """A mediator of one world; its daily step sets the pressure it puts on the factions."""

    def __init__(self, model: mesa.Model, mediator_id: str, index: int) -> None:
        super().__init__(model)
        self.mediator_id = mediator_id
        self.index = index
        self.pressure = 0.0

    def step(self) -> None:
        """Press the factions as far as leverage and sympathy allow."""
        self.pressure = pressure(self.model.params.mediator[0, self.index])
