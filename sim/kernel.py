"""The ensemble kernel: every world of a batch stepped at once over ``[worlds, actors]`` arrays.

``init(params) -> World`` and ``step(world, params, draws, day) -> today`` apply the very rule
functions the Mesa agents call (:mod:`sim.actors`, :mod:`sim.negotiation`, :mod:`sim.outcomes`),
in the same order, to whole arrays. :func:`run_chunk` steps one chunk of worlds through the
horizon; :mod:`sim.ensemble` splits a run into chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from . import negotiation, outcomes
from .actors import faction as faction_rules
from .actors import mediator as mediator_rules
from .actors import spoiler as spoiler_rules
from .actors import state as state_rules
from .params import Params
from .rng import WorldStreams
from .rules import total
from .types import Phase

WORLD_SLOTS = ("talks", "suspend", "state_end", "renew")
FACTION_SLOTS = ("attack", "decide", "cohesion", "defect")


def slot_count(factions: int, spoilers: int, items: int) -> int:
    """Uniforms per world per day: world decisions, faction decisions, spoiler attacks, items."""
    return len(WORLD_SLOTS) + len(FACTION_SLOTS) * factions + spoilers + items


class Draws:
    """A day's uniforms ``[worlds, slots]`` split into named views by actor type.

    Layout per world: ``WORLD_SLOTS``, then ``FACTION_SLOTS`` x factions, then one per spoiler,
    then one per concession item.
    """

    def __init__(self, u: np.ndarray, factions: int, spoilers: int, items: int) -> None:
        nw, nf = len(WORLD_SLOTS), len(FACTION_SLOTS)
        self.world = SimpleNamespace(**{k: u[:, i:i + 1] for i, k in enumerate(WORLD_SLOTS)})
        block = u[:, nw:nw + nf * factions].reshape(len(u), nf, factions)
        self.faction = SimpleNamespace(**{k: block[:, i] for i, k in enumerate(FACTION_SLOTS)})
        self.spoiler = u[:, nw + nf * factions:nw + nf * factions + spoilers]
        self.item = u[:, nw + nf * factions + spoilers:]

    def world_view(self, world: int) -> SimpleNamespace:
        """World-level uniforms of one world, each shaped ``[1]`` (what the Mesa model reads)."""
        return SimpleNamespace(**{k: v[world] for k, v in vars(self.world).items()})

    def faction_view(self, world: int, index: int) -> SimpleNamespace:
        """Uniforms of one faction of one world (what a Mesa agent reads)."""
        return SimpleNamespace(**{k: v[world, index] for k, v in vars(self.faction).items()})


@dataclass
class World:
    """Every variable of a batch of worlds.

    Attributes:
        w: ``phase`` (:class:`~sim.types.Phase`), ``phase_age`` (days), ``term_left`` (days of
            the ceasefire term left, inf if indefinite), each ``[W, 1]``.
        st: the state's variables (:mod:`sim.actors.state`), ``[W, 1]`` and ``[W, I]``.
        fac: faction variables (:data:`sim.actors.faction.FIELDS`), ``[W, F]``.
        spo: spoiler ``fighters`` and ``recruits``, counts ``[W, S]``.
        med: combined mediator effects ``guarantee``, ``hosted``, ``custody``, ``broker`` ``[W, 1]``.
        acc: outcome accumulators (:mod:`sim.outcomes`), ``[W, 1]``.
        fighters_start_total: TTP fighters on day 0, count ``[W, 1]``.
    """

    w: SimpleNamespace
    st: SimpleNamespace
    fac: SimpleNamespace
    spo: SimpleNamespace
    med: SimpleNamespace
    acc: SimpleNamespace
    fighters_start_total: np.ndarray


def mediation(pm) -> SimpleNamespace:
    """Combined effect of a world's mediators (arrays over the mediator axis)."""
    present = pm.present.astype(float)
    pressures = mediator_rules.pressure(present, pm.leverage_share, pm.sympathy_share)
    return SimpleNamespace(
        guarantee=mediator_rules.guarantee(pressures),
        hosted=mediator_rules.hosting(present, pm.hosts_talks),
        custody=mediator_rules.custody(present, pm.takes_custody),
        broker=mediator_rules.broker_leverage(present, pm.brokers_reunification, pm.leverage_share))


def items_of(p: Params) -> SimpleNamespace:
    """Per-item arrays of a batch: due days, prisoners, promised at talks."""
    return SimpleNamespace(due_days=p.item_due_days, prisoners=p.item_prisoners, at_talks=p.item_at_talks)


def init(p: Params) -> World:
    """Day-0 variables of every world of a batch."""
    n = p.worlds
    pw, pf = p.world, p.faction
    phase = pw.start_phase.astype(float)
    w = SimpleNamespace(phase=phase, phase_age=np.zeros((n, 1)),
                        term_left=np.where(pw.term_days > 0, pw.term_days, np.inf) * np.ones((n, 1)))
    st = SimpleNamespace(**state_rules.initial_state(pw, (n, len(p.item_kind))))
    items = items_of(p)
    at_start = np.where(phase == Phase.CEASEFIRE, True, items.at_talks & (phase == Phase.TALKS))
    promised = state_rules.promise(st, 0, at_start, items)
    fac = SimpleNamespace(**faction_rules.initial_state(pf))
    spo = SimpleNamespace(fighters=p.spoiler.fighters_count.astype(float).copy(),
                          recruits=np.zeros_like(p.spoiler.fighters_count, dtype=float))
    acc = outcomes.new_accumulators((n, 1))
    outcomes.start_in_phase(acc, phase)
    acc.prisoners_promised = acc.prisoners_promised + promised
    start_total = total(fac.fighters)
    return World(w=w, st=st, fac=fac, spo=spo, med=mediation(p.mediator), acc=acc,
                 fighters_start_total=start_total)


def step(x: World, p: Params, d: Draws, day: int) -> SimpleNamespace:
    """Advance every world one day; return the day's world totals."""
    pw, items = p.world, items_of(p)
    w, st, fac, spo, med = x.w, x.st, x.fac, x.spo, x.med
    phase_before, age = w.phase, w.phase_age

    # Morning: the state delivers what falls due.
    released_total = total(fac.released)
    released, delivered, overdue = state_rules.deliver(
        st, day, fac.held, released_total, x.fighters_start_total, d.item, pw, items)
    # Spoilers attack, outbidding a long ceasefire.
    spo_attacks, blamed = spoiler_rules.act(spo, phase_before, age, _merge(pw, p.spoiler), d.spoiler)
    # Factions live their day.
    ctx = SimpleNamespace(phase=phase_before, phase_age=age, coercion=st.coercion,
                          guarantee=med.guarantee, broker=med.broker, custody=med.custody,
                          spoilers_present=float(p.spoiler.recruitment_share.shape[-1] > 0),
                          uses_inducements=pw.uses_inducements, released=released,
                          delivered=delivered, overdue=overdue)
    bound = faction_rules.bound_by_ceasefire(fac, phase_before)
    out = faction_rules.act(fac, ctx, d.faction, _merge(pw, p.faction))
    # Spoilers take in the hardliners who left.
    flow = total(out["to_spoilers"])
    spoiler_rules.recruit(spo, flow * spoiler_rules.recruit_share(p.spoiler.recruitment_share))
    # Evening: the state weighs the day, then the table moves.
    t = outcomes.day_totals(out, bound, spo_attacks, blamed, released, pw)
    state_rules.feel_pressure(st, t.casualties, pw)
    state_rules.adjust_coercion(st, phase_before, pw)
    state_rules.judge_ceasefire(st, phase_before, t.ttp_attacks_bound, t.blamed, pw)
    fac.broke = out["broke"]
    ev = negotiation.negotiate(w, st, fac, med.hosted, med.guarantee, overdue, d.world, pw, items, day)
    faction_rules.after_table(fac, ev.ended, ev.opened | ev.walked)
    outcomes.record_day(x.acc, day, phase_before, ev, t)
    return t


def _merge(world: SimpleNamespace, actor: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(**{**vars(world), **vars(actor)})


def run_chunk(p: Params, seed: int, start: int, days: int, record: str = "none", on_day=None):
    """Step worlds ``start .. start + p.worlds - 1`` through ``days`` days.

    Returns:
        (outcome table, recorded series ``{name: [days, worlds]}`` or None).
    """
    x = init(p)
    n_items = len(p.item_kind)
    streams = WorldStreams(seed, start, p.worlds,
                           slot_count(len(p.faction_ids), len(p.spoiler_ids), n_items))
    series = {k: np.empty((days, p.worlds)) for k in outcomes.SERIES} if record != "none" else None
    for day in range(days):
        d = Draws(streams.next_day(), len(p.faction_ids), len(p.spoiler_ids), n_items)
        t = step(x, p, d, day)
        if series is not None:
            for k, v in outcomes.series_values(x.w, x.st, x.fac, x.spo, t).items():
                series[k][day] = np.reshape(v, -1)
        if on_day is not None:
            on_day(day)
    index = np.arange(start, start + p.worlds)
    end = outcomes.ttp_fighters(x.fac)
    return outcomes.outcome_table(x.acc, days, index, end), series
