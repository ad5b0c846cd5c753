"""TTP factions: fighters, hardliners, loyalty to the umbrella, trust in the state.

A faction takes back released members, loses fighters to coercion, attacks, weighs the offer on
the table, keeps or breaks a ceasefire, loses hardliners to spoilers, and may split from the
umbrella, rejoin it, or defect to the state. Every function here works on one faction (scalars,
as the Mesa agent calls it) or on ``[worlds, factions]`` arrays (as the kernel calls it).
"""

from __future__ import annotations

import mesa
import numpy as np

from ..rules import clip01, happens, poisson_count
from ..types import Phase
from .spoiler import outbidding_ramp

# State variables of a faction (the kernel's ``FactionArrays`` and the Mesa ``Faction`` share them).
FIELDS = ("fighters", "hardliners", "held", "custody", "killed", "to_spoilers", "released",
          "loyalty", "trust", "momentum", "regroup", "in_umbrella", "defected", "accepted")


def hardline_share(fighters, hardliners):
    """Share of a faction's fighters who are hardliners."""
    return hardliners / np.maximum(fighters, 1e-9)


def take_back_released(s, released, custody_flag, p):
    """Released members return: through a mediator's custody if it takes custody, else directly.

    Seed 001 (2022): released commanders went "into Afghan Taliban custody". Members in custody
    rejoin at ``custody_release_per_day``; released prisoners are mostly hardliners
    (``released_hardline_share``), which is the commitment problem of mechanism 1.
    """
    to_custody = released * custody_flag
    leak = s.custody * p.custody_release_per_day
    s.held = s.held - released
    s.custody = s.custody + to_custody - leak
    back = released - to_custody + leak
    s.fighters = s.fighters + back
    s.hardliners = s.hardliners + back * p.released_hardline_share
    s.released = s.released + released


def suffer_coercion(s, coercion, p):
    """Airstrikes, targeted killings and operations kill and capture fighters of the TTP.

    Factions that defected to the state are no longer targeted.
    """
    exposed = s.fighters * coercion * (1.0 - s.defected)
    killed = exposed * p.coercion_kill_per_day
    captured = exposed * p.coercion_capture_per_day
    lost_hardliners = (killed + captured) * hardline_share(s.fighters, s.hardliners)
    s.fighters = s.fighters - killed - captured
    s.hardliners = s.hardliners - lost_hardliners
    s.killed = s.killed + killed
    s.held = s.held + captured


def bound_by_ceasefire(s, phase):
    """A faction is bound by a ceasefire the umbrella declared if it is in the umbrella."""
    return (phase == Phase.CEASEFIRE) & s.in_umbrella & ~s.defected


def attack_rate(s, phase, coercion, guarantee, p):
    """Expected attacks per day: fighters and momentum drive them (mechanism 7).

    Under a ceasefire, bound factions still attack at ``ceasefire_attack_share`` of the fighting
    rate, scaled by their hardliners (relative to a half-hardline faction) and held down by
    mediator pressure. Seed 002: the 2022 ceasefire "has not been strictly observed", with 26
    attacks in June and 33 in July.
    """
    base = p.ttp_attack_per_kfighter_per_day * s.fighters / 1000.0
    base = base * (1.0 + s.momentum) * (1.0 - p.coercion_suppression_share * coercion)
    restraint = p.ceasefire_attack_share * 2.0 * hardline_share(s.fighters, s.hardliners) * (1.0 - guarantee)
    return base * np.where(bound_by_ceasefire(s, phase), restraint, 1.0) * (1.0 - s.defected)


def lose_hardliners(s, phase, phase_age, delivered_items, spoilers_present, p):
    """Hardliners defect to spoilers under long ceasefires and after concessions (mechanism 5).

    Bueno de Mesquita (2005): concessions split moderates from extremists; seeds 002, 003: "a
    long ceasefire strains TTP cohesion and may push hardliners to ISKP".

    Returns:
        Hardliners lost today, count.
    """
    ramp = outbidding_ramp(phase, phase_age, p.outbidding_scale_days)
    pull = p.hardliner_pull_per_day * ramp * s.in_umbrella + p.concession_pull_share * delivered_items
    flow = s.hardliners * clip01(pull) * spoilers_present * (1.0 - s.defected)
    s.hardliners = s.hardliners - flow
    s.fighters = s.fighters - flow
    s.to_spoilers = s.to_spoilers + flow
    return flow


def satisfaction(s, offer_value, p):
    """Offer value against demand. A stronger faction asks more (commitment problem, Powell 2006):
    demand grows with fighters relative to the faction's starting strength."""
    strength = s.fighters / np.maximum(p.fighters_count, 1.0)
    return offer_value / (p.demand_share * strength)


def acceptance(s, offer_value, guarantee, p):
    """Willingness to accept, in [0, 1]: satisfaction (capped at 1) weighed by trust and held
    back by hardliners, plus mediator pressure (limited guarantor, mechanism 4)."""
    sat = clip01(satisfaction(s, offer_value, p))
    resolve = 1.0 - p.hardline_rejection_share * hardline_share(s.fighters, s.hardliners)
    return clip01(sat * (0.5 + s.trust) * resolve + guarantee)


def decide(s, phase, offer_value, guarantee, u, p):
    """Accept or reconsider the offer during talks; keep or break a ceasefire.

    One uniform serves both decisions because a world is never in talks and a ceasefire at once.

    Returns:
        True where the faction broke a ceasefire today.
    """
    score = acceptance(s, offer_value, guarantee, p)
    free = s.in_umbrella & ~s.defected
    in_talks = (phase == Phase.TALKS) & free
    stays = s.accepted & ~happens(u, p.reconsider_per_day * (1.0 - score))
    joins = ~s.accepted & happens(u, p.accept_per_day * score)
    s.accepted = in_talks & (stays | joins)
    # Breaking a ceasefire: hardliners, distrust, and little mediator pressure (mechanisms 2, 4).
    hazard = (p.violation_per_day * hardline_share(s.fighters, s.hardliners) * (1.0 - s.trust)
              * (1.0 - guarantee))
    return bound_by_ceasefire(s, phase) & happens(u, hazard)


def update_trust(s, delivered_items, overdue_items, coercion, p):
    """Broken promises erode trust (mechanism 2): each overdue item costs trust every day;
    each delivered item restores some; coercion against the TTP costs trust too."""
    s.trust = clip01(s.trust + p.trust_gain_per_delivery * delivered_items
                     - p.trust_erosion_per_overdue_day * overdue_items
                     - p.coercion_trust_cost_per_day * coercion)


def drift_loyalty(s, phase, p):
    """Loyalty drifts: a ceasefire strains hardline factions, fighting restores loyalty
    (mechanism 6; seed 000: "younger members opposed" the 2020 talks)."""
    strain = p.loyalty_strain_per_day * hardline_share(s.fighters, s.hardliners)
    recover = p.loyalty_recovery_per_day * (1.0 - s.loyalty)
    s.loyalty = clip01(s.loyalty + np.where(phase == Phase.CEASEFIRE, -strain, recover))


def cohesion(s, broker, u, p):
    """Low-loyalty factions split from the umbrella; a broker brings splinters back.

    Seed 000: Jamaat-ul-Ahrar and Hizb-ul-Ahrar reunited in summer 2020 with al-Qaeda mediating.

    Returns:
        (split, reunified) flags for today.
    """
    free = ~s.defected
    split = free & s.in_umbrella & (s.loyalty < p.split_threshold_share) & happens(u, p.split_per_day)
    reunified = free & ~s.in_umbrella & happens(u, p.reunify_per_day * broker)
    s.in_umbrella = (s.in_umbrella & ~split) | reunified
    s.loyalty = np.where(reunified, 0.5 * (1.0 + p.split_threshold_share), s.loyalty)
    s.accepted = s.accepted & s.in_umbrella
    return split, reunified


def defect_to_state(s, uses_inducements, u, p):
    """Inducements pull moderate, disloyal factions over to the state (seed 003, 2012-2015:
    "whole TTP factions" induced to defect with money, politics and targeted force).

    Returns:
        True where the faction defected today.
    """
    hazard = p.inducement_per_day * (1.0 - hardline_share(s.fighters, s.hardliners)) * (1.0 - s.loyalty)
    defect = uses_inducements & ~s.defected & happens(u, hazard)
    s.defected = s.defected | defect
    s.in_umbrella = s.in_umbrella & ~defect
    s.accepted = s.accepted & ~defect
    return defect


def carry_momentum(s, phase, p):
    """Momentum decays; under a ceasefire bound factions regroup, storing momentum that is
    released as a spike when the ceasefire collapses (mechanism 7; seeds 000, 004: early 2021)."""
    s.momentum = s.momentum * p.momentum_decay
    s.regroup = s.regroup + p.regroup_per_day * bound_by_ceasefire(s, phase)


def act(s, c, u, p):
    """One faction's day, in the order the model description gives.

    Args:
        s: faction state (a :class:`Faction` agent or the kernel's arrays), updated in place.
        c: the world's context today: ``phase``, ``phase_age``, ``coercion``, ``guarantee``,
            ``broker``, ``custody``, ``spoilers_present``, ``uses_inducements``, ``released``
            (prisoners released to this faction today), ``delivered`` and ``overdue`` (items).
        u: uniforms ``attack``, ``decide``, ``cohesion``, ``defect``.
        p: parameters.

    Returns:
        dict with today's ``attacks``, ``broke``, ``split``, ``reunified``, ``defected`` and
        ``to_spoilers`` (hardliners lost).
    """
    take_back_released(s, c.released, c.custody, p)
    suffer_coercion(s, c.coercion, p)
    attacks = poisson_count(u.attack, attack_rate(s, c.phase, c.coercion, c.guarantee, p))
    lost = lose_hardliners(s, c.phase, c.phase_age, c.delivered, c.spoilers_present, p)
    broke = decide(s, c.phase, p.offer_value, c.guarantee, u.decide, p)
    update_trust(s, c.delivered, c.overdue, c.coercion, p)
    drift_loyalty(s, c.phase, p)
    split, reunified = cohesion(s, c.broker, u.cohesion, p)
    defected = defect_to_state(s, c.uses_inducements, u.defect, p)
    carry_momentum(s, c.phase, p)
    return {"attacks": attacks, "broke": broke, "split": split, "reunified": reunified,
            "defected": defected, "to_spoilers": lost}


def after_table(s, collapsed, reset):
    """After the table moves: a collapsed ceasefire releases the momentum stored while
    regrouping (the early-2021 spike, seeds 000 and 004); acceptances lapse when talks open,
    fail or a ceasefire collapses."""
    s.momentum = s.momentum + np.where(collapsed, s.regroup, 0.0)
    s.regroup = np.where(collapsed, 0.0, s.regroup)
    s.accepted = s.accepted & ~(collapsed | reset)


class Faction(mesa.Agent):
    """One TTP faction of one world.

    Attributes:
        fighters: active fighters, count. hardliners: hardline fighters among them, count.
        held: members in the state's prisons, count. custody: released members in a
        mediator's custody, count. killed: killed so far, count. to_spoilers: hardliners lost
        to spoilers so far, count. released: members released so far, count.
        loyalty, trust: shares in [0, 1]. momentum, regroup: attack momentum and momentum
        stored while regrouping under a ceasefire (multipliers of the base rate).
        in_umbrella, defected, accepted: flags.
    """

    def __init__(self, model: mesa.Model, faction_id: str, index: int, params) -> None:
        super().__init__(model)
        self.faction_id = faction_id
        self.index = index
        self.p = params
        init = initial_state(params)
        for name in FIELDS:
            setattr(self, name, init[name])
        self.today: dict = {}

    def step(self) -> None:
        """Live one day: take back released members, fight, decide, hold together or not."""
        m = self.model
        self.today = act(self, m.context.faction(self.index), m.draws.faction_view(0, self.index), self.p)


def initial_state(p) -> dict:
    """Initial values of every faction state variable from its parameters (any shape)."""
    fighters = np.asarray(p.fighters_count, dtype=float)
    zero = np.zeros_like(fighters)
    return {
        "fighters": fighters.copy(), "hardliners": fighters * p.hardline_share,
        "held": np.asarray(p.prisoners_held_count, dtype=float).copy(), "custody": zero.copy(),
        "killed": zero.copy(), "to_spoilers": zero.copy(), "released": zero.copy(),
        "loyalty": np.asarray(p.loyalty_share, dtype=float).copy(),
        "trust": np.asarray(p.trust_share, dtype=float).copy(),
        "momentum": zero.copy(), "regroup": zero.copy(),
        "in_umbrella": np.asarray(p.in_umbrella, dtype=bool).copy(),
        "defected": np.zeros(fighters.shape, dtype=bool), "accepted": np.zeros(fighters.shape, dtype=bool),
    }
