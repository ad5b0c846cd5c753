"""The Pakistani state: prisons, promises, coercion and domestic pressure.

The state delivers what it promised with some reliability and delay, keeps a level of coercion
that follows domestic pressure, feels pressure rise with casualties, and decides when to seek
talks, when to walk away and when to end a ceasefire. Rules are compiled functions of the world
record ``ws`` (fields :data:`FIELDS`), the per-item rows of a world and the world parameters ``q``.
"""

from __future__ import annotations

import mesa

from sim.core.compiled import clip01, happens, rule, share_of
from sim.core.types import CEASEFIRE, TALKS

FIELDS = (
    "coercion",  # level of airstrikes, targeted killings and operations, share
    "pressure",  # domestic pressure to act against the TTP, share
    "trust",  # the state's trust in the TTP's word, share
    "blame_loss",  # trust lost this ceasefire to spoiler attacks blamed on the TTP
    "attack_loss",  # trust lost this ceasefire to the TTP's own attacks
)
"""World-level state variables of the state (fields of the world record)."""


def initial(ws, q) -> None:
    """Day-0 values of the state's variables from world parameters (arrays of records)."""
    ws["coercion"] = q["coercion_share"]
    ws["pressure"] = q["domestic_pressure_share"]
    ws["trust"] = q["trust_share"]


@rule
def power_shift(fac, pending_prisoners, fighters_start_total, q):
    """The shift in power the state anticipates from its promises, relative to the TTP's starting
    strength: members released and back with their factions (not those still in a mediator's
    custody, Walter 2002) plus the prisoners still promised, the whole release it would complete
    (Fearon 1995; Powell 2006: the anticipated shift, not only the one already made). Each
    released prisoner weighs ``released_strength_count`` fighters: the releases are commanders
    (seed 001: "high-level TTP militants"; 002: the 780 freed in 2021 "significantly boosted"
    the TTP)."""
    back = 0.0
    for f in range(fac.shape[0]):
        back = back + fac[f].released - fac[f].custody
    gained = (max(back, 0.0) + pending_prisoners) * q.released_strength_count
    return gained / max(fighters_start_total, 1.0)


@rule
def renege_incentive(q, shift):
    """The state's incentive to renege on the rest of its promise, in [0, 1]: the anticipated
    shift in power times ``commitment_share`` (0 with the commitment mechanism off)."""
    if q.on_commitment < 0.5:
        return 0.0
    return clip01(q.commitment_share * shift)


@rule
def reliability(q, renege):
    """Effective delivery reliability under the commitment problem (Fearon 1995, Powell 2006):
    the scenario's reliability, less the share the state's incentive to renege removes."""
    return q.delivery_reliability * (1.0 - renege)


@rule
def deliver(ws, day, promise_day, delivered, due_days, prisoners, fac, q, u_items, released_out):
    """Deliver promised concessions that fall due today or are overdue.

    An item due today is delivered with the effective reliability; an overdue item with
    ``late_delivery_per_day`` times that, each day. Released prisoners are allocated to factions
    in proportion to the members each has in prison.

    Args:
        ws: the world record. day: today's index.
        promise_day, delivered, due_days, prisoners: per-item rows of the world ``[I]``.
        fac: the world's faction records ``[F]``. q: world parameters.
        u_items: one uniform per item. released_out: prisoners released to each faction today
            (written).

    Returns:
        (items delivered today, items overdue after today, the state's incentive to renege)
    """
    held_total = 0.0
    for f in range(fac.shape[0]):
        held_total = held_total + fac[f].held
    pending = 0.0
    for i in range(promise_day.shape[0]):
        if promise_day[i] >= 0.0 and not delivered[i]:
            pending = pending + prisoners[i]
    renege = renege_incentive(q, power_shift(fac, pending, ws.start_fighters, q))
    r = reliability(q, renege)
    delivered_n, overdue_n, freed = 0.0, 0.0, 0.0
    for i in range(promise_day.shape[0]):
        if promise_day[i] < 0.0 or delivered[i]:
            continue
        age = day - promise_day[i]
        chance = 0.0
        if age == due_days[i]:
            chance = r
        elif age > due_days[i]:
            chance = q.late_delivery_per_day * r
        if happens(u_items[i], chance):
            delivered[i] = True
            delivered_n = delivered_n + 1.0
            freed = freed + prisoners[i]
        elif age > due_days[i]:
            overdue_n = overdue_n + 1.0
    for f in range(fac.shape[0]):
        released_out[f] = min(fac[f].held, freed * share_of(fac[f].held, held_total))
    return delivered_n, overdue_n, renege


@rule
def promise(day, promise_day, delivered, at_talks, active, prisoners, talks_items, deal_items):
    """Promise the offer's items: those marked ``at_talks`` (prisoners first) when
    ``talks_items``, the others when ``deal_items``. Items that do not exist in this world
    (``active`` 0), delivered items and pending promises are not promised again. ``day`` is the
    first day the promise can be kept (a promise made in the evening counts from the next day).

    Returns:
        (prisoners newly promised, items newly promised)
    """
    prisoners_promised, items_promised = 0.0, 0.0
    for i in range(promise_day.shape[0]):
        wanted = talks_items if at_talks[i] > 0.5 else deal_items
        if wanted and active[i] > 0.5 and promise_day[i] < 0.0 and not delivered[i]:
            promise_day[i] = day
            prisoners_promised = prisoners_promised + prisoners[i]
            items_promised = items_promised + 1.0
    return prisoners_promised, items_promised


@rule
def withdraw_promises(promise_day, delivered):
    """When talks or a ceasefire collapse, undelivered promises lapse."""
    for i in range(promise_day.shape[0]):
        if not delivered[i]:
            promise_day[i] = -1.0


@rule
def feel_pressure(ws, casualties, q):
    """Domestic pressure rises with casualties and decays with a half-life (mechanism 8)."""
    ws.pressure = clip01(ws.pressure * q.pressure_decay + q.pressure_per_casualty * casualties)


@rule
def adjust_coercion(ws, phase, q):
    """Coercion moves toward domestic pressure; a ceasefire holds it to a share of that, and
    talks halfway (seed 002: airstrikes in April 2022 and the 8 Aug killing during talks)."""
    restraint = 1.0
    if phase == TALKS:
        restraint = 0.5 * (1.0 + q.ceasefire_coercion_share)
    elif phase == CEASEFIRE:
        restraint = q.ceasefire_coercion_share
    ws.coercion = clip01(ws.coercion + q.coercion_adjust_per_day * (ws.pressure * restraint - ws.coercion))


@rule
def judge_ceasefire(ws, phase, ttp_attacks_bound, blamed, spoiler_attacks, q):
    """Under a ceasefire the state's trust recovers slowly and falls with every attack it
    blames on the TTP, whether the TTP made it or a spoiler staged it (mechanism 5). Spoilers also
    work through the state's doubt that the moderates can deliver (Kydd and Walter 2002): every
    spoiler attack not blamed on the TTP still costs ``spoiler_doubt_share`` of that. The sources
    are tallied apart to tell provocation from TTP violence. With the trust mechanism off the
    state's trust does not move."""
    if phase != CEASEFIRE or q.on_trust < 0.5:
        return
    blame_cost = q.blame_trust_cost * (blamed + q.spoiler_doubt_share * max(spoiler_attacks - blamed, 0.0))
    attack_cost = q.blame_trust_cost * ttp_attacks_bound
    ws.trust = clip01(ws.trust + q.state_trust_recovery_per_day * (1.0 - ws.trust) - blame_cost - attack_cost)
    ws.blame_loss = ws.blame_loss + blame_cost
    ws.attack_loss = ws.attack_loss + attack_cost


@rule
def seeks_talks(ws, hosted, u, q):
    """Costs drive talks (mechanism 8; seed 004: talks "owing to the cost of a major operation"):
    the hazard grows with domestic pressure and the level of costly operations; without a
    hosting mediator it is smaller. With the costs mechanism off, pressure and coercion stay at
    the scenario's starting values for this decision."""
    host = 1.0 if hosted > 0.0 else q.no_host_talks_share
    cost = ws.pressure * ws.coercion
    if q.on_costs < 0.5:
        cost = q.domestic_pressure_share * q.coercion_share
    return happens(u, q.talks_open_per_day * cost * host)


@rule
def bound_by_guarantor(guarantee, q):
    """How far the guarantor holds the state back, in [0, 1]: the mediators' pressure times the
    share of it that reaches the state (Walter 2002: a guarantor must bind both sides)."""
    return guarantee * q.state_guarantee_share


@rule
def walks_away(phase_age, guarantee, u, q):
    """Stalled talks: past its patience the state walks away with a growing hazard, held back by
    the guarantor."""
    overdue = max(phase_age - q.talks_patience_days, 0.0) / q.talks_patience_days
    return happens(u, clip01(q.walkaway_per_day * overdue) * (1.0 - bound_by_guarantor(guarantee, q)))


@rule
def ends_ceasefire(ws, guarantee, u, q):
    """The state ends a ceasefire with an operation: pressure high, trust in the TTP low, the
    guarantor's hold on the state weak."""
    hazard = q.state_end_per_day * ws.pressure * (1.0 - ws.trust)
    return happens(u, hazard * (1.0 - bound_by_guarantor(guarantee, q)))


@rule
def renews(ws, guarantee, u, q):
    """At the end of a ceasefire's term the state renews it while its trust holds (above
    ``renewal_threshold_share`` surely, below it in proportion), helped by the guarantor."""
    threshold = max(q.renewal_threshold_share, 1e-9)
    return happens(u, clip01(ws.trust / threshold + bound_by_guarantor(guarantee, q)))


@rule
def escalate(ws, q):
    """A collapse of talks or a ceasefire brings a jump in coercion (mechanism 8)."""
    ws.coercion = ws.coercion + q.escalation_share * (1.0 - ws.coercion)


class State(mesa.Agent):
    """The Pakistani state of one world; its variables read as attributes (``state.coercion``).

    Mornings it delivers what falls due; evenings it feels the day's casualties, adjusts its
    coercion and judges the ceasefire.
    """

    def __getattr__(self, name: str):
        if name in FIELDS:
            return self.model.ws[name][0]
        raise AttributeError(name)

    def deliver(self) -> None:
        """Morning: deliver what falls due; tell each faction what it gets back
        (:func:`sim.core.schedule.deliver`)."""
        m = self.model
        p = m.params
        m.schedule.deliver(
            m.today,
            m.ws[0],
            m.promise_day[0],
            m.delivered[0],
            p.item_due_days[0],
            p.item_prisoners[0],
            m.fac[0],
            p.world[0],
            m.u,
            m.released,
            len(m.spoilers),
        )

    def step(self) -> None:
        """Evening: feel pressure, adjust coercion, judge the ceasefire
        (:func:`sim.core.schedule.evening`)."""
        m = self.model
        m.schedule.evening(m.today, m.ws[0], m.params.world[0])
