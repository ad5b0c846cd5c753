"""The schedule of a world's day, written once for both drivers.

A day is a sequence of stages (:data:`DAY`). Each stage is a small compiled function (``@rule``)
for one actor or for the world: it reads the actor's uniforms from the world's row of the day
through the layout helpers below, calls the actor's own rules (:mod:`sim.core.actors`,
:mod:`sim.core.table`, :mod:`sim.core.outcomes`) and adds what it did into the day's record
(:data:`DAY_DTYPE`), the tallies that later stages read.

Two drivers run the stages:

* the Mesa model (:meth:`sim.core.model.NegotiationModel.step`) walks :data:`DAY`: for each
  stage, every actor of the stage's group calls its method, which calls the stage function for
  itself (``Faction.step`` calls :func:`live`, ``Mediator.step`` calls :func:`mediate`, ...);
* the kernel (:mod:`sim.core.kernel`) calls :func:`world_day` for every world; :func:`world_day`
  is the same stages composed in the same order, compiled into one loop.

Numba cannot iterate over a declared sequence of functions and still inline them into the
kernel's hot loop, so :func:`world_day` is written out by hand right below :data:`DAY`;
``tests/test_agreement.py`` runs one day through both drivers with every stage function replaced by
a recorder and checks that both call the stages of :data:`DAY` in its order, actor by actor.

Layout of a world's uniforms for one day (:func:`slot_count` in all): the five world slots
(:data:`WORLD_SLOTS`, used by the table), five per faction (:data:`FACTION_SLOTS`, slot-major:
all factions' ``attack``, then all ``decide``, ...), one per spoiler, one per concession item.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import outcomes
from sim.core import table as negotiation
from sim.core.actors import faction as faction_rules
from sim.core.actors import mediator as mediator_rules
from sim.core.actors import spoiler as spoiler_rules
from sim.core.actors import state as state_rules
from sim.core.compiled import rule

# --- Layout of a day's uniforms -----------------------------------------------------------------

WORLD_SLOTS = ("talks", "suspend", "state_end", "renew", "state_renew")
"""The world's uniforms, in this order at the start of its row (read by :func:`table`)."""
FACTION_SLOTS = ("attack", "decide", "cohesion", "defect", "strike")
"""Each faction's uniforms (read by :func:`live`), slot-major after the world slots."""

N_WORLD_SLOTS = len(WORLD_SLOTS)
N_FACTION_SLOTS = len(FACTION_SLOTS)


@rule
def world_slot(k):
    """Index of the world's uniform number ``k`` (of :data:`WORLD_SLOTS`) in the row."""
    return k


@rule
def faction_slot(k, f, factions):
    """Index of faction ``f``'s uniform number ``k`` (of :data:`FACTION_SLOTS`) in the row."""
    return N_WORLD_SLOTS + k * factions + f


@rule
def spoiler_slot(i, factions):
    """Index of spoiler ``i``'s uniform in the row."""
    return N_WORLD_SLOTS + N_FACTION_SLOTS * factions + i


@rule
def item_slot(i, factions, spoilers):
    """Index of concession item ``i``'s uniform in the row."""
    return N_WORLD_SLOTS + N_FACTION_SLOTS * factions + spoilers + i


def slot_count(factions: int, spoilers: int, items: int) -> int:
    """Uniforms per world per day: the slot after the last item's."""
    return int(item_slot(items, factions, spoilers))


# --- The day's record ---------------------------------------------------------------------------

DAY_DTYPE = np.dtype(
    [
        # dawn: what every actor reads
        ("day", "f8"),  # today's index
        ("phase", "f8"),  # phase at dawn (sim.core.types.Phase code)
        ("phase_age", "f8"),  # its age at dawn, days
        ("coercion", "f8"),  # the state's coercion at dawn, share
        ("pull", "f8"),  # the spoilers' summed recruitment pull (0: nobody recruits)
        # morning deliveries
        ("delivered", "f8"),  # items delivered today, count
        ("overdue", "f8"),  # items overdue after today's deliveries, count
        ("renege", "f8"),  # the state's incentive to renege on its promise, share
        # mediation
        ("pressed", "f8"),  # mediators' summed pressure
        ("guarantee", "f8"),  # that sum capped at 1, share
        ("hosted", "f8"),  # a present mediator hosts talks (0 or 1)
        ("custody", "f8"),  # a present mediator takes custody (0 or 1)
        ("broker", "f8"),  # strongest broker leverage, share
        # spoilers' attacks
        ("spoiler_attacks", "f8"),  # count
        ("blamed", "f8"),  # expected spoiler attacks blamed on the TTP, count
        # factions' day
        ("ttp_attacks", "f8"),  # count
        ("ttp_bound", "f8"),  # attacks by factions bound by the ceasefire, count
        ("broke", "?"),  # a faction broke the ceasefire
        ("lost", "f8"),  # hardliners lost to spoilers, count
        ("splits", "f8"),  # factions that split, events
        ("reunified", "f8"),  # factions that rejoined, events
        ("defected", "f8"),  # factions that defected to the state, events
        ("freed", "f8"),  # prisoners released to factions, count
        ("struck", "f8"),  # leaders killed, count
        # evening
        ("casualties", "f8"),  # killed and injured in today's attacks, count
        # the table
        ("opened", "?"),  # talks opened
        ("deal", "?"),  # a deal was made
        ("walked", "?"),  # the state walked away
        ("cause", "f8"),  # cause code of a ceasefire that ended (censored: none)
        ("promised", "f8"),  # prisoners newly promised, count
        ("items", "f8"),  # concession items newly promised, count
    ],
    align=True,
)
"""One world's day: the dawn context, then what each stage adds (its tallies across actors)."""


# --- The stages ---------------------------------------------------------------------------------


class Stage(NamedTuple):
    """One stage of :data:`DAY`: the stage function's name in this module, the group of actors
    that runs it (``world`` is the model itself) and the method by which each of them does."""

    name: str
    actors: str
    method: str


DAY = (
    Stage("dawn", "world", "dawn"),  # the day's record opens on the dawn context
    Stage("deliver", "state", "deliver"),  # morning: the state delivers what falls due
    Stage("mediate", "mediators", "step"),  # each mediator presses
    Stage("attack", "spoilers", "step"),  # each spoiler attacks, outbidding a long ceasefire
    Stage("live", "factions", "step"),  # each faction lives its day
    Stage("recruit", "spoilers", "recruit"),  # spoilers take in the hardliners who left
    Stage("evening", "state", "step"),  # the state weighs the day's casualties
    Stage("table", "world", "table"),  # the table moves; acceptances and momentum follow
    Stage("record", "world", "record"),  # outcome accumulators and the day's series
)
"""The order of a day. The Mesa model walks it; :func:`world_day` composes the same stages."""


@rule
def dawn(t, ws, ps, day):
    """Open the day's record ``t``: the dawn context every actor reads, tallies at zero."""
    t.day = day
    t.phase = ws.phase
    t.phase_age = ws.phase_age
    t.coercion = ws.coercion
    t.pull = spoiler_rules.pull_total(ps)
    t.delivered, t.overdue, t.renege = 0.0, 0.0, 0.0
    t.pressed, t.guarantee, t.hosted, t.custody, t.broker = 0.0, 0.0, 0.0, 0.0, 0.0
    t.spoiler_attacks, t.blamed = 0.0, 0.0
    t.ttp_attacks, t.ttp_bound, t.broke, t.lost = 0.0, 0.0, False, 0.0
    t.splits, t.reunified, t.defected, t.freed, t.struck = 0.0, 0.0, 0.0, 0.0, 0.0
    t.casualties = 0.0
    t.opened, t.deal, t.walked, t.cause = False, False, False, negotiation.NOT_ENDED
    t.promised, t.items = 0.0, 0.0


@rule
def deliver(t, ws, promise_day, delivered, due_days, prisoners, fac, q, u, released_out, spoilers):
    """Morning: the state delivers what falls due (:func:`sim.core.actors.state.deliver`, one
    uniform per item) and writes the prisoners released to each faction into ``released_out``."""
    start = item_slot(0, fac.shape[0], spoilers)
    t.delivered, t.overdue, t.renege = state_rules.deliver(
        ws,
        t.day,
        promise_day,
        delivered,
        due_days,
        prisoners,
        fac,
        q,
        u[start : start + promise_day.shape[0]],
        released_out,
    )


@rule
def mediate(t, p, q):
    """One mediator presses (:func:`sim.core.actors.mediator.mediation`).

    Returns:
        Its pressure, in [0, 1].
    """
    return mediator_rules.mediation(t, p, q)


@rule
def attack(t, s, p, q, u, i, factions):
    """Spoiler ``i`` attacks (:func:`sim.core.actors.spoiler.act`); its attacks and those blamed
    on the TTP are added to the day's.

    Returns:
        (attacks, blamed)
    """
    attacks, blamed = spoiler_rules.act(s, p, q, t.phase, t.phase_age, u[spoiler_slot(i, factions)])
    t.spoiler_attacks = t.spoiler_attacks + attacks
    t.blamed = t.blamed + blamed
    return attacks, blamed


@rule
def live(t, s, p, q, released, u, f, factions):
    """Faction ``f`` lives its day (:func:`sim.core.actors.faction.act`) with its five uniforms;
    whether it was bound by a ceasefire is noted first, for the state's judgement. What it did is
    added to the day's tallies.

    Returns:
        (attacks, broke, split, reunified, defected, hardliners lost to spoilers, struck)
    """
    bound = faction_rules.bound_by_ceasefire(s, t.phase)
    attacks, broke, split, reunified, defected, lost, struck = faction_rules.act(
        s,
        p,
        q,
        t.phase,
        t.phase_age,
        t.day,
        t.coercion,
        t.guarantee,
        t.broker,
        t.custody,
        t.pull > 0.0,
        t.renege,
        released,
        t.delivered,
        t.overdue,
        u[faction_slot(0, f, factions)],
        u[faction_slot(1, f, factions)],
        u[faction_slot(2, f, factions)],
        u[faction_slot(3, f, factions)],
        u[faction_slot(4, f, factions)],
    )
    t.ttp_attacks = t.ttp_attacks + attacks
    if bound:
        t.ttp_bound = t.ttp_bound + attacks
    t.broke = t.broke or broke
    t.splits = t.splits + split
    t.reunified = t.reunified + reunified
    t.defected = t.defected + defected
    t.lost = t.lost + lost
    t.freed = t.freed + released
    t.struck = t.struck + struck
    return attacks, broke, split, reunified, defected, lost, struck


@rule
def recruit(t, s, p):
    """A spoiler takes in its share of the hardliners the factions lost today."""
    spoiler_rules.recruit(s, p, t.lost, t.pull)


@rule
def evening(t, ws, q):
    """Evening: the day's casualties; the state feels pressure, adjusts coercion (by the dawn
    phase) and judges the ceasefire."""
    t.casualties = outcomes.casualties(t.ttp_attacks, t.spoiler_attacks, q)
    state_rules.feel_pressure(ws, t.casualties, q)
    state_rules.adjust_coercion(ws, t.phase, q)
    state_rules.judge_ceasefire(ws, t.phase, t.ttp_bound, t.blamed, t.spoiler_attacks, q)


@rule
def table(t, ws, fac, promise_day, delivered, at_talks, active, prisoners, q, u):
    """The table moves (:func:`sim.core.table.negotiate`, with the world's uniforms); then each
    faction's momentum and acceptance follow (:func:`sim.core.actors.faction.after_table`)."""
    opened, deal, walked, cause, promised, items = negotiation.negotiate(
        ws,
        fac,
        promise_day,
        delivered,
        at_talks,
        active,
        prisoners,
        t.hosted,
        t.guarantee,
        t.overdue,
        t.broke,
        u[world_slot(0)],
        u[world_slot(1)],
        u[world_slot(2)],
        u[world_slot(3)],
        u[world_slot(4)],
        q,
        t.day,
    )
    t.opened, t.deal, t.walked, t.cause = opened, deal, walked, cause
    t.promised, t.items = promised, items
    for f in range(fac.shape[0]):
        faction_rules.after_table(fac[f], cause != negotiation.NOT_ENDED, opened or walked)


@rule
def record(t, ws, cf_log, fac, spo, out, keep):
    """Add the day to the outcome accumulators (:func:`sim.core.outcomes.record_day`); if
    ``keep``, write the day's series into ``out`` (:func:`sim.core.outcomes.series_values`)."""
    outcomes.record_day(
        ws,
        cf_log,
        t.day,
        t.phase,
        t.opened,
        t.deal,
        t.cause,
        t.promised,
        t.items,
        t.delivered,
        t.ttp_attacks,
        t.spoiler_attacks,
        t.casualties,
        t.freed,
        t.lost,
        t.splits,
        t.reunified,
        t.defected,
    )
    if keep:
        outcomes.series_values(ws, fac, spo, t.ttp_attacks, t.spoiler_attacks, t.casualties, out)


@rule
def world_day(
    t,
    day,
    ws,
    fac,
    spo,
    promise_day,
    delivered,
    released,
    cf_log,
    pw,
    pf,
    pm,
    ps,
    due_days,
    prisoners,
    at_talks,
    active,
    u,
    out,
    keep,
):
    """One world's day: the stages of :data:`DAY` in its order, each actor of a group in turn.

    Args:
        t: the world's day record (:data:`DAY_DTYPE`, scratch). day: today's index.
        ws, fac, spo: the world's records. promise_day, delivered: its items ``[I]``.
        released: prisoners released to each faction today (scratch ``[F]``).
        cf_log: its ceasefire log. pw, pf, pm, ps: world, faction, mediator and spoiler
            parameters. due_days, prisoners, at_talks, active: item parameters ``[I]``.
        u: the world's uniforms today (layout: :func:`slot_count`).
        out: the day's series (written if ``keep``).
    """
    nf = fac.shape[0]
    dawn(t, ws, ps, day)
    deliver(t, ws, promise_day, delivered, due_days, prisoners, fac, pw, u, released, spo.shape[0])
    for m in range(pm.shape[0]):
        mediate(t, pm[m], pw)
    for i in range(spo.shape[0]):
        attack(t, spo[i], ps[i], pw, u, i, nf)
    for f in range(nf):
        live(t, fac[f], pf[f], pw, released[f], u, f, nf)
    for i in range(spo.shape[0]):
        recruit(t, spo[i], ps[i])
    evening(t, ws, pw)
    table(t, ws, fac, promise_day, delivered, at_talks, active, prisoners, pw, u)
    record(t, ws, cf_log, fac, spo, out, keep)
