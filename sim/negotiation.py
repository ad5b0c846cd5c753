"""The negotiating table: talks opening and stalling, deals, ceasefire terms and collapses.

These are the world-level rules that join the actors' decisions: a deal needs enough factions
(veto players), a ceasefire ends when a faction breaks it, the TTP leadership suspends it, the
state ends it, or its term runs out unrenewed. Every function works on one world or on a batch
(world-level values ``[..., 1]``, faction values ``[..., F]``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .actors import state as state_rules
from .rules import all_of, any_of, clip01, happens, total, weighted_mean
from .types import CollapseCause, Phase

WORLD_FIELDS = ("phase", "phase_age", "term_left")


def members(in_umbrella, defected):
    """Factions the umbrella leadership speaks for."""
    return in_umbrella & ~defected


def deal_reached(accepted, in_umbrella, defected, fighters, quorum_share, united_front):
    """Veto players (Cunningham 2006): a deal needs the accepting factions to hold at least
    ``quorum_share`` of the umbrella's fighters. If the state insists on a united front, every
    faction that has not defected must be back in the umbrella and accept (seed 000, 2020)."""
    inside = members(in_umbrella, defected)
    weight = fighters * inside
    share = total(weight * accepted) / np.maximum(total(weight), 1e-9)
    quorum = (share >= quorum_share) & any_of(accepted & inside)
    united = all_of((accepted & in_umbrella) | defected) & any_of(inside)
    return np.where(united_front, united, quorum)


def umbrella_trust(trust, fighters, in_umbrella, defected):
    """Fighter-weighted trust of the umbrella's factions in the state."""
    return weighted_mean(trust, fighters * members(in_umbrella, defected))


def ceasefire_end(w, st, fac, guarantee, overdue, u, p):
    """Whether and why a ceasefire in force ends today; also renews expiring terms.

    Priority when several happen the same day: a faction's break, the leadership's suspension,
    the state's operation, the term running out.

    Returns:
        Cause code per world (:class:`~sim.types.CollapseCause`, ``censored`` = not ended).
    """
    in_cf = w.phase == Phase.CEASEFIRE
    trust = umbrella_trust(fac.trust, fac.fighters, fac.in_umbrella, fac.defected)
    threshold = np.maximum(p.suspend_threshold_share, 1e-9)
    # Nov-Dec 2021 (seed 003): the TTP suspended the ceasefire, saying the state had not kept
    # its commitments; with nothing overdue a suspension is the leadership yielding to dissent.
    suspend = happens(u.suspend, p.suspend_per_day * clip01((threshold - trust) / threshold))
    state_end = state_rules.ends_ceasefire(st, u.state_end, p)
    w.term_left = w.term_left - in_cf
    expiring = in_cf & (w.term_left <= 0)
    # Renewal is near certain while trust is above the threshold and fades below it; mediator
    # pressure helps (2022: extended twice, "then indefinitely", seed 002).
    renew_chance = clip01(trust / np.maximum(p.renewal_threshold_share, 1e-9) + guarantee)
    renewed = expiring & happens(u.renew, renew_chance)
    w.term_left = np.where(renewed, np.where(p.extension_days > 0, p.extension_days, np.inf), w.term_left)
    broke = any_of(fac.broke)
    cause = np.select(
        [broke, suspend, state_end, expiring & ~renewed],
        [CollapseCause.faction_violation,
         np.where(overdue > 0, CollapseCause.state_non_delivery, CollapseCause.faction_violation),
         np.where(st.blame_loss > st.attack_loss, CollapseCause.spoiler_provocation,
                  CollapseCause.state_operation),
         CollapseCause.term_expired],
        CollapseCause.censored)
    return np.where(in_cf, cause, CollapseCause.censored)


def negotiate(w, st, fac, hosted, guarantee, overdue, u, p, items, day):
    """Today's moves at the table, applied to the world ``w`` and the state ``st`` in place.

    Args:
        w: world variables ``phase``, ``phase_age``, ``term_left``.
        st: the state's variables (see :mod:`sim.actors.state`).
        fac: faction values ``fighters``, ``trust``, ``accepted``, ``in_umbrella``,
            ``defected``, ``broke`` ``[..., F]``.
        hosted, guarantee: whether a mediator hosts talks, and the mediators' combined pressure.
        overdue: promised items overdue after today's deliveries.
        u: uniforms ``talks``, ``suspend``, ``state_end``, ``renew``.
        p: world-level parameters. items: per-item ``due_days``, ``prisoners``, ``at_talks``.
        day: today's index.

    Returns:
        Namespace of today's events: ``opened``, ``deal``, ``walked``, ``cause`` (collapse cause
        code), ``ended``, ``promised`` (prisoners newly promised).
    """
    phase = w.phase
    inside_any = any_of(members(fac.in_umbrella, fac.defected))
    opened = (phase == Phase.FIGHTING) & inside_any & state_rules.seeks_talks(st, hosted, u.talks, p)
    in_talks = phase == Phase.TALKS
    deal = in_talks & deal_reached(fac.accepted, fac.in_umbrella, fac.defected, fac.fighters,
                                   p.quorum_share, p.insists_united_front)
    walked = in_talks & ~deal & state_rules.walks_away(w.phase_age, u.talks, p)
    cause = ceasefire_end(w, st, fac, guarantee, overdue, u, p)
    ended = cause != CollapseCause.censored

    # Prisoners-first offers are promised when talks open; the rest comes with the deal.
    promised = state_rules.promise(st, day, (opened & items.at_talks) | (deal & ~items.at_talks), items)
    state_rules.withdraw_promises(st, walked | ended)
    state_rules.escalate(st, walked | ended, p)
    w.term_left = np.where(deal, np.where(p.term_days > 0, p.term_days, np.inf), w.term_left)
    st.blame_loss = np.where(deal, 0.0, st.blame_loss)
    st.attack_loss = np.where(deal, 0.0, st.attack_loss)
    new_phase = np.where(opened, Phase.TALKS, np.where(deal, Phase.CEASEFIRE,
                                                       np.where(walked | ended, Phase.FIGHTING, phase)))
    w.phase_age = np.where(new_phase != phase, 0.0, w.phase_age + 1.0)
    w.phase = new_phase
    return SimpleNamespace(opened=opened, deal=deal, walked=walked, cause=cause, ended=ended,
                           promised=promised)
