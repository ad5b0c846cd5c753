"""Spoilers: ISKP and hardline dissidents.

Spoilers outbid: they attack more the longer a ceasefire lasts (Stedman 1997; Kydd and Walter
2002), recruit TTP hardliners who defect under long ceasefires and after concessions (Bueno de
Mesquita 2005; seeds 002, 003: ISKP "outbids with violence and recruits TTP hardliners"), and stage
attacks the state blames on the TTP (provocation).
"""

from __future__ import annotations

import mesa
import numpy as np

from ..rules import clip01, poisson_count, total
from ..types import Phase


def outbidding_ramp(phase, phase_age_days, scale_days):
    """How far outbidding has built up: 0 outside a ceasefire, rising to 1 with ceasefire age."""
    return (phase == Phase.CEASEFIRE) * clip01(phase_age_days / scale_days)


def attack_rate(fighters, rate_per_kfighter, outbidding_share, ramp):
    """Expected spoiler attacks per day: grows by up to ``outbidding_share`` under a ceasefire."""
    return rate_per_kfighter * fighters / 1000.0 * (1.0 + outbidding_share * ramp)


def blamed_on_ttp(attacks, provocation_share):
    """Expected attacks the state attributes to the TTP (provocation)."""
    return attacks * provocation_share


def recruit_share(weights):
    """Share of all defecting hardliners that goes to each spoiler (weights over the spoiler axis)."""
    return weights / np.maximum(total(weights), 1e-12)


def act(s, phase, phase_age_days, p, u_attack):
    """One spoiler's day: attack, and report attacks blamed on the TTP.

    Args:
        s: spoiler state with ``fighters`` (count).
        phase, phase_age_days: the world's negotiation phase and its age in days.
        p: parameters (``spoiler_attack_per_kfighter_per_day``, ``outbidding_share``, ...).
        u_attack: uniform draw for the attack count.

    Returns:
        (attacks, blamed): today's attacks and the expected number blamed on the TTP.
    """
    ramp = outbidding_ramp(phase, phase_age_days, p.outbidding_scale_days)
    rate = attack_rate(s.fighters, p.spoiler_attack_per_kfighter_per_day, p.outbidding_share, ramp)
    attacks = poisson_count(u_attack, rate)
    return attacks, blamed_on_ttp(attacks, p.provocation_share)


def recruit(s, inflow):
    """Defecting TTP hardliners join the spoiler (count conservation: they leave a faction)."""
    s.fighters = s.fighters + inflow
    s.recruits = s.recruits + inflow


class Spoiler(mesa.Agent):
    """A spoiler group of one world.

    Attributes:
        fighters: active fighters, count.
        recruits: TTP hardliners recruited so far, count.
        attacks: attacks today, count.
        blamed: attacks today the state blames on the TTP (expected), count.
    """

    def __init__(self, model: mesa.Model, spoiler_id: str, params) -> None:
        super().__init__(model)
        self.spoiler_id = spoiler_id
        self.p = params
        self.fighters = np.float64(params.fighters_count)
        self.recruits = np.float64(0.0)
        self.attacks = np.float64(0.0)
        self.blamed = np.float64(0.0)

    def step(self) -> None:
        """Attack, outbidding the TTP the longer its ceasefire lasts."""
        m = self.model
        self.attacks, self.blamed = act(self, m.phase, m.phase_age, self.p,
                                        m.draws.spoiler[0, self.index])

    def recruit(self, inflow) -> None:
        """Take in defecting hardliners."""
        recruit(self, inflow)
