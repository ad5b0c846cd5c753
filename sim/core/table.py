"""The negotiating table: talks opening and stalling, deals, ceasefire terms and collapses.

These world-level rules join the actors' decisions: a deal needs enough factions (veto
players), a ceasefire ends when a faction breaks it, the TTP leadership suspends it, the state
ends it, or its term runs out unrenewed. They are compiled functions of the world record ``ws``
and the world's faction records ``fac`` ``[F]``.
"""

from __future__ import annotations

import math

from sim.core.actors import state as state_rules
from sim.core.compiled import clip01, happens, rule, share_of
from sim.core.types import CAUSE, CEASEFIRE, FIGHTING, TALKS

NOT_ENDED = CAUSE["censored"]
FACTION_VIOLATION = CAUSE["faction_violation"]
NON_DELIVERY = CAUSE["state_non_delivery"]
PROVOCATION = CAUSE["spoiler_provocation"]
OPERATION = CAUSE["state_operation"]
TERM_EXPIRED = CAUSE["term_expired"]

FIELDS = (
    "phase",  # negotiation phase (sim.core.types.Phase)
    "phase_age",  # days since the phase began
    "term_left",  # days left in the ceasefire's current term (inf: indefinite)
)
"""World-level variables of the table (fields of the world record)."""


@rule
def member(s):
    """A faction the umbrella leadership speaks for."""
    return s.in_umbrella and not s.defected


@rule
def deal_reached(fac, quorum_share, united_front, veto_players):
    """Veto players (Cunningham 2006): a deal needs the accepting factions to hold at least
    ``quorum_share`` of the umbrella's fighters. If the state insists on a united front, every
    faction that has not defected must be back in the umbrella and accept (seed 000, 2020).
    Without veto players (``veto_players`` 0) one accepting umbrella faction makes the deal."""
    weight, accepting = 0.0, 0.0
    anyone_accepts, anyone_inside, all_united = False, False, True
    for f in range(fac.shape[0]):
        s = fac[f]
        if member(s):
            anyone_inside = True
            weight = weight + s.fighters
            if s.accepted:
                anyone_accepts = True
                accepting = accepting + s.fighters
        if not s.defected and not (s.in_umbrella and s.accepted):
            all_united = False
    if veto_players < 0.5:
        return anyone_accepts
    if united_front > 0.5:
        return all_united and anyone_inside
    return anyone_accepts and share_of(accepting, weight) >= quorum_share


@rule
def umbrella_trust(fac):
    """Fighter-weighted trust of the umbrella's factions in the state."""
    weight, trust = 0.0, 0.0
    for f in range(fac.shape[0]):
        s = fac[f]
        if member(s):
            weight = weight + s.fighters
            trust = trust + s.trust * s.fighters
    return share_of(trust, weight)


@rule
def ceasefire_end(ws, fac, broke, guarantee, overdue, u_suspend, u_state_end, u_renew, u_state_renew, q):
    """Whether and why a ceasefire in force ends today; also renews an expiring term.

    Priority when several happen the same day: a faction's break, the leadership's suspension,
    the state's operation, the term running out. With the ceasefire-term mechanism off, terms
    never run out.

    Returns:
        Cause code (:class:`~sim.core.types.CollapseCause`; ``censored`` = not ended).
    """
    trust = umbrella_trust(fac)
    threshold = max(q.suspend_threshold_share, 1e-9)
    # The leadership suspends as trust falls below the threshold; mediator pressure holds it to
    # the ceasefire (seed 003: Siraj Haqqani "also pressured the TTP"; limited guarantor).
    suspend = happens(
        u_suspend, q.suspend_per_day * clip01((threshold - trust) / threshold) * (1.0 - guarantee)
    )
    state_end = state_rules.ends_ceasefire(ws, guarantee, u_state_end, q)
    ws.term_left = ws.term_left - 1.0
    expiring = ws.term_left <= 0.0 and q.on_ceasefire_term > 0.5
    # At the end of a term both sides decide. The TTP renews while its trust is above the
    # threshold (surely) and in proportion below it, helped by mediator pressure (2022: extended
    # twice, "then indefinitely", seed 002); the state while its own trust holds.
    ttp_renews = expiring and happens(
        u_renew, clip01(trust / max(q.renewal_threshold_share, 1e-9) + guarantee)
    )
    renewed = ttp_renews and state_rules.renews(ws, guarantee, u_state_renew, q)
    if renewed:
        ws.term_left = q.extension_days if q.extension_days > 0.0 else math.inf
    # Nov-Dec 2021 (seed 003): the TTP suspended the ceasefire "saying the state did not keep
    # its commitments"; whenever promises are overdue, a TTP exit is blamed on non-delivery.
    if broke:
        return FACTION_VIOLATION
    if suspend:
        return NON_DELIVERY if overdue > 0.0 else FACTION_VIOLATION
    if state_end:
        return PROVOCATION if ws.blame_loss > ws.attack_loss else OPERATION
    if expiring and not renewed:
        # Non-renewal is its own cause, unless the TTP declined with promises overdue.
        return NON_DELIVERY if overdue > 0.0 and not ttp_renews else TERM_EXPIRED
    return NOT_ENDED


@rule
def negotiate(
    ws,
    fac,
    promise_day,
    delivered,
    at_talks,
    active,
    prisoners,
    hosted,
    guarantee,
    overdue,
    broke,
    u_talks,
    u_suspend,
    u_state_end,
    u_renew,
    u_state_renew,
    q,
    day,
):
    """Today's moves at the table, applied to the world record in place.

    Args:
        ws: the world record. fac: its faction records ``[F]``.
        promise_day, delivered, at_talks, active, prisoners: the world's concession items ``[I]``.
        hosted, guarantee: whether a mediator hosts talks; the mediators' combined pressure.
        overdue: promised items overdue after today's deliveries.
        broke: whether an umbrella faction broke the ceasefire today.
        u_talks, u_suspend, u_state_end, u_renew, u_state_renew: the world's uniforms today.
        q: world parameters. day: today's index.

    Returns:
        (opened, deal, walked, cause, prisoners promised, items promised): talks opened, deal
        made, state walked away, collapse cause code of a ceasefire that ended (0 if none),
        prisoners and concession items newly promised.
    """
    phase = ws.phase
    opened, deal, walked, cause = False, False, False, NOT_ENDED
    if phase == FIGHTING:
        anyone_inside = False
        for f in range(fac.shape[0]):
            anyone_inside = anyone_inside or member(fac[f])
        opened = anyone_inside and state_rules.seeks_talks(ws, hosted, u_talks, q)
    elif phase == TALKS:
        deal = deal_reached(fac, q.quorum_share, q.insists_united_front, q.on_veto_players)
        walked = not deal and state_rules.walks_away(ws.phase_age, guarantee, u_talks, q)
    else:
        cause = ceasefire_end(
            ws, fac, broke, guarantee, overdue, u_suspend, u_state_end, u_renew, u_state_renew, q
        )
    ended = cause != NOT_ENDED
    # Prisoners-first offers are promised when talks open; the rest comes with the deal. Promises
    # made this evening can first be kept tomorrow morning.
    promised, items = 0.0, 0.0
    if opened or deal:
        promised, items = state_rules.promise(
            day + 1.0, promise_day, delivered, at_talks, active, prisoners, opened, deal
        )
    new_phase = phase
    if opened:
        new_phase = TALKS
    if deal:
        new_phase = CEASEFIRE
        ws.term_left = q.term_days if q.term_days > 0.0 else math.inf
        ws.blame_loss = 0.0
        ws.attack_loss = 0.0
    if walked or ended:
        new_phase = FIGHTING
        state_rules.withdraw_promises(promise_day, delivered)
        state_rules.escalate(ws, q)
    ws.phase_age = 0.0 if new_phase != phase else ws.phase_age + 1.0
    ws.phase = new_phase
    return opened, deal, walked, cause, promised, items
