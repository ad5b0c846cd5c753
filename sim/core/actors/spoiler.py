"""Spoilers: ISKP and hardline dissidents.

Spoilers outbid: they attack more the longer a ceasefire lasts (Stedman 1997; Kydd and Walter
2002), recruit TTP hardliners who defect under long ceasefires and after concessions (Bueno de
Mesquita 2005; seeds 002, 003: ISKP "outbids with violence and recruits TTP hardliners"), and stage
attacks the state blames on the TTP (provocation).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.core.compiled import clip01, poisson_count, rule
from sim.core.types import CEASEFIRE

DTYPE = np.dtype(
    [
        ("fighters", "f8"),  # active fighters, count
        ("recruits", "f8"),  # TTP hardliners recruited so far, count
    ]
)
"""State variables of one spoiler."""


def initial(p: np.ndarray) -> np.ndarray:
    """Day-0 records of spoilers from their parameter records (any shape)."""
    s = np.zeros(p.shape, dtype=DTYPE)
    s["fighters"] = p["fighters_count"]
    return s


@rule
def outbidding_ramp(phase, phase_age, scale_days):
    """How far outbidding has built up: 0 outside a ceasefire, rising to 1 with ceasefire age."""
    if phase != CEASEFIRE:
        return 0.0
    return clip01(phase_age / scale_days)


@rule
def attack_rate(s, p, q, phase, phase_age):
    """Expected spoiler attacks per day: grows by up to ``outbidding_share`` under a ceasefire."""
    ramp = outbidding_ramp(phase, phase_age, q.outbidding_scale_days)
    return q.spoiler_attack_per_kfighter_per_day * s.fighters / 1000.0 * (1.0 + p.outbidding_share * ramp)


@rule
def act(s, p, q, phase, phase_age, u_attack):
    """One spoiler's day: attack, and count the attacks the state blames on the TTP.

    Returns:
        (attacks, blamed): today's attacks and the expected number blamed on the TTP; none with
        the spoilers mechanism off.
    """
    if q.on_spoilers < 0.5:
        return 0.0, 0.0
    attacks = poisson_count(u_attack, attack_rate(s, p, q, phase, phase_age))
    return attacks, attacks * p.provocation_share


@rule
def recruit(s, p, pulled, pull_total):
    """Take in this spoiler's share of the TTP hardliners who defected today (shares by
    ``recruitment_share``; the count leaves a faction and joins here, so fighters are conserved)."""
    inflow = pulled * p.recruitment_share / pull_total if pull_total > 0.0 else 0.0
    s.fighters = s.fighters + inflow
    s.recruits = s.recruits + inflow


@rule
def pull_total(ps):
    """Sum of the recruitment pull of a world's spoilers (``ps``: parameter records ``[S]``)."""
    total = 0.0
    for i in range(ps.shape[0]):
        total = total + ps[i].recruitment_share
    return total


class Spoiler(mesa.Agent):
    """A spoiler group of one world; its variables read as attributes (``spoiler.fighters``)."""

    def __init__(self, model: mesa.Model, spoiler_id: str, index: int) -> None:
        super().__init__(model)
        self.spoiler_id = spoiler_id
        self.index = index
        self.attacks = 0.0
        self.blamed = 0.0

    def __getattr__(self, name: str):
        if name in DTYPE.names:
            return self.model.spo[name][0, self.index]
        raise AttributeError(name)

    def step(self) -> None:
        """Attack, outbidding the TTP the longer its ceasefire lasts (:func:`sim.core.schedule.attack`)."""
        m, i = self.model, self.index
        self.attacks, self.blamed = m.schedule.attack(
            m.today, m.spo[0, i], m.params.spoiler[0, i], m.params.world[0], m.u, i, len(m.factions)
        )

    def recruit(self) -> None:
        """Take in defecting hardliners (:func:`sim.core.schedule.recruit`)."""
        m, i = self.model, self.index
        m.schedule.recruit(m.today, m.spo[0, i], m.params.spoiler[0, i])
