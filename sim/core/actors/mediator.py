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
def mediation(t, p, q):
    """One mediator joins the world's mediation, added into the day's record ``t``
    (:data:`sim.core.schedule.DAY_DTYPE`): its pressure to the mediators' summed pressure
    (``pressed``; the ``guarantee`` is that sum capped at 1); whether it hosts talks, takes
    released prisoners into custody, and its leverage as a reunification broker (for each, the
    strongest present mediator counts). With the guarantor mechanism off a mediator still hosts
    talks and brokers reunification but neither presses nor takes custody.

    Returns:
        This mediator's pressure.
    """
    press = pressure(p) if q.on_guarantor > 0.5 else 0.0
    t.pressed = t.pressed + press
    t.guarantee = clip01(t.pressed)
    t.hosted = max(t.hosted, p.present * p.hosts_talks)
    if q.on_guarantor > 0.5:
        t.custody = max(t.custody, p.present * p.takes_custody)
    t.broker = max(t.broker, p.present * p.brokers_reunification * p.leverage_share)
    return press


class Mediator(mesa.Agent):
    """A mediator of one world; its daily step presses the factions and joins the world's
    mediation (:func:`sim.core.schedule.mediate`)."""

    def __init__(self, model: mesa.Model, mediator_id: str, index: int) -> None:
        super().__init__(model)
        self.mediator_id = mediator_id
        self.index = index
        self.pressure = 0.0

    def step(self) -> None:
        """Press the factions as far as leverage and sympathy allow."""
        m = self.model
        self.pressure = m.schedule.mediate(m.today, m.params.mediator[0, self.index], m.params.world[0])
