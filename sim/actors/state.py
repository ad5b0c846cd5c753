"""The Pakistani state: prisons, promises, coercion and domestic pressure.

The state delivers what it promised with some reliability and delay, keeps a level of coercion
that follows domestic pressure, feels pressure rise with casualties, and decides when to seek
talks, when to walk away and when to end a ceasefire. Functions work on one world (scalars) or on
``[worlds, 1]`` / ``[worlds, items]`` / ``[worlds, factions]`` arrays alike.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..rules import clip01, happens, total
from ..types import Phase

# World-level state variables (each ``[worlds, 1]`` in the kernel, a scalar in the Mesa agent).
FIELDS = ("coercion", "pressure", "trust", "blame_loss", "attack_loss")
# Per-item state variables (``[worlds, items]`` / ``[items]``).
ITEM_FIELDS = ("promise_day", "delivered")


def reliability(delivery_reliability, released_total, fighters_start_total, commitment_share):
    """Effective delivery reliability under the commitment problem (Fearon 1995, Powell 2006).

    Released prisoners make the TTP stronger, so the more the TTP has gained relative to its
    starting strength, the slower the state delivers the rest.
    """
    gain = released_total / np.maximum(fighters_start_total, 1.0)
    return delivery_reliability * clip01(1.0 - commitment_share * gain)


def deliver(s, day, held, released_total, fighters_start_total, u_items, p, items):
    """Deliver promised concessions that fall due today or are overdue.

    An item due today is delivered with the effective reliability; an overdue item with
    ``late_delivery_per_day`` times that, each day. Released prisoners are allocated to factions
    in proportion to the members each has in prison.

    Args:
        s: state variables (``promise_day``, ``delivered`` per item), updated in place.
        day: today's index.
        held: members of each faction in prison ``[..., F]``.
        released_total: prisoners released so far ``[..., 1]``.
        fighters_start_total: TTP fighters on day 0 ``[..., 1]``.
        u_items: one uniform per item ``[..., I]``.
        p: world-level parameters.
        items: ``due_days`` and ``prisoners`` per item ``[..., I]``.

    Returns:
        (released per faction ``[..., F]``, items delivered today, items overdue after today).
    """
    promised = s.promise_day >= 0
    pending = promised & ~s.delivered
    age = day - s.promise_day
    due_today = pending & (age == items.due_days)
    overdue = pending & (age > items.due_days)
    r = reliability(p.delivery_reliability, released_total, fighters_start_total, p.commitment_share)
    chance = np.where(due_today, r, np.where(overdue, p.late_delivery_per_day * r, 0.0))
    now = pending & happens(u_items, chance)
    s.delivered = s.delivered | now
    prisoners = total(now * items.prisoners)
    held_total = total(held)
    released = np.minimum(held, prisoners * held / np.maximum(held_total, 1e-9))
    delivered_n = total(now)
    overdue_n = total(overdue & ~now)
    return released, delivered_n, overdue_n


def promise(s, day, which, items):
    """Promise the items marked in ``which`` ``[..., I]``; delivered or pending items are not
    promised again.

    Returns:
        Prisoners newly promised today ``[..., 1]``.
    """
    new = which & (s.promise_day < 0) & ~s.delivered
    s.promise_day = np.where(new, day, s.promise_day)
    return total(new * items.prisoners)


def withdraw_promises(s, cancel):
    """When talks or a ceasefire collapse, undelivered promises lapse."""
    s.promise_day = np.where(cancel & ~s.delivered, -1, s.promise_day)


def feel_pressure(s, casualties, p):
    """Domestic pressure rises with casualties and decays with a half-life (mechanism 8)."""
    s.pressure = clip01(s.pressure * p.pressure_decay + p.pressure_per_casualty * casualties)


def adjust_coercion(s, phase, p):
    """Coercion moves toward domestic pressure; a ceasefire holds it to a share of that, and
    talks halfway (seed 002: airstrikes in April 2022 and the 8 Aug killing during talks)."""
    restraint = np.where(phase == Phase.FIGHTING, 1.0,
                         np.where(phase == Phase.TALKS, 0.5 * (1.0 + p.ceasefire_coercion_share),
                                  p.ceasefire_coercion_share))
    s.coercion = clip01(s.coercion + p.coercion_adjust_per_day * (s.pressure * restraint - s.coercion))


def judge_ceasefire(s, phase, ttp_attacks_bound, blamed, p):
    """Under a ceasefire the state's trust recovers slowly and falls with every attack it
    blames on the TTP, whether the TTP made it or a spoiler staged it (mechanism 5).
    The two sources are tallied apart to tell provocation from TTP violence."""
    in_cf = phase == Phase.CEASEFIRE
    blame_cost = p.blame_trust_cost * blamed * in_cf
    attack_cost = p.blame_trust_cost * ttp_attacks_bound * in_cf
    s.trust = clip01(s.trust + in_cf * p.state_trust_recovery_per_day * (1.0 - s.trust)
                     - blame_cost - attack_cost)
    s.blame_loss = s.blame_loss + blame_cost
    s.attack_loss = s.attack_loss + attack_cost


def seeks_talks(s, hosted, u, p):
    """Costs drive talks (mechanism 8; seed 004: talks "owing to the cost of a major operation"):
    the hazard grows with domestic pressure and the level of costly operations; without a host
    it is smaller."""
    host = np.where(hosted > 0, 1.0, p.no_host_talks_share)
    return happens(u, p.talks_open_per_day * s.pressure * s.coercion * host)


def walks_away(phase_age, u, p):
    """Stalled talks: past its patience the state walks away with a growing hazard."""
    overdue = np.maximum(phase_age - p.talks_patience_days, 0.0) / p.talks_patience_days
    return happens(u, clip01(p.walkaway_per_day * overdue))


def ends_ceasefire(s, u, p):
    """The state ends a ceasefire with an operation: pressure high, trust in the TTP low."""
    return happens(u, p.state_end_per_day * s.pressure * (1.0 - s.trust))


def escalate(s, collapsed, p):
    """A collapse of talks or a ceasefire brings a jump in coercion (mechanism 8)."""
    s.coercion = np.where(collapsed, s.coercion + p.escalation_share * (1.0 - s.coercion), s.coercion)


def initial_state(p, n_items_shape) -> dict:
    """Initial values of the state's variables from its parameters (any shape)."""
    zero = np.zeros_like(np.asarray(p.coercion_share, dtype=float))
    return {"coercion": np.asarray(p.coercion_share, dtype=float).copy(),
            "pressure": np.asarray(p.domestic_pressure_share, dtype=float).copy(),
            "trust": np.asarray(p.trust_share, dtype=float).copy(),
            "blame_loss": zero.copy(), "attack_loss": zero.copy(),
            "promise_day": np.full(n_items_shape, -1.0), "delivered": np.zeros(n_items_shape, dtype=bool)}


class State(mesa.Agent):
    """The Pakistani state of one world.

    Attributes:
        coercion: level of airstrikes, targeted killings and operations, share in [0, 1].
        pressure: domestic pressure to act, share in [0, 1].
        trust: the state's trust in the TTP's word, share in [0, 1].
        blame_loss, attack_loss: trust lost in the current ceasefire to attacks blamed on the TTP
            that spoilers staged, and to the TTP's own attacks.
        promise_day: day each concession item was promised (-1: not promised), ``[items]``.
        delivered: whether each item has been delivered, ``[items]``.
    """

    def __init__(self, model: mesa.Model, params, n_items: int) -> None:
        super().__init__(model)
        self.p = params
        for name, value in initial_state(params, (n_items,)).items():
            setattr(self, name, value)

    def deliver(self) -> None:
        """Morning: deliver what falls due; tell each faction what it gets back."""
        m = self.model
        held = m.faction_values("held")
        released_total = total(m.faction_values("released"))
        m.delivery = deliver(self, m.day, held, released_total, m.fighters_start_total,
                             m.draws.item[0], self.p, m.items)

    def step(self) -> None:
        """Evening: feel pressure, adjust coercion, judge the ceasefire."""
        m = self.model
        feel_pressure(self, m.today.casualties, self.p)
        adjust_coercion(self, m.phase, self.p)
        judge_ceasefire(self, m.phase, m.today.ttp_attacks_bound, m.today.blamed, self.p)
