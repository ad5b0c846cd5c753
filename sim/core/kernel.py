"""The ensemble kernel: every world of a batch stepped through the same compiled rules.

``init(params) -> World`` builds day-0 records; ``step(world, params, draws, day)`` advances every
world one day by calling, for each world, :func:`world_day`, which applies the very rule functions
the Mesa agents call (:mod:`sim.core.actors`, :mod:`sim.core.table`, :mod:`sim.core.outcomes`) in the same
order. Arrays are shaped ``[worlds, actors]``; the loop over worlds is compiled, the loop over
days runs in compiled blocks of days between draws of random numbers. :func:`run_chunk` steps one chunk of
worlds through the horizon; :mod:`sim.running.ensemble` splits a run into chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.core import table as negotiation
from sim.core import outcomes
from sim.core.actors import faction as faction_rules
from sim.core.actors import mediator as mediator_rules
from sim.core.actors import spoiler as spoiler_rules
from sim.core.actors import state as state_rules
from sim.inputs.params import Params
from sim.core.streams import WorldStreams
from sim.core.compiled import rule

loop = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
"""Decorator for the kernel's loops over worlds and days.

Each world's day works on row views of the batch arrays (``fac[w]``, ``promise_day[w]``, ...),
the same one-world arrays the Mesa agents pass to the rules. With Numba's runtime on, every view
costs an atomic reference-count increment and decrement, which took about a third of a day's
step (measured with perf on kabul_2022). The loops allocate nothing and only borrow arrays their
caller owns, so they are compiled without the runtime (Numba's ``_nrt`` flag): the same code,
without the counting. The rules themselves, called alone by the Mesa agents, keep the runtime.
"""

WORLD_SLOTS = ("talks", "suspend", "state_end", "renew")
FACTION_SLOTS = ("attack", "decide", "cohesion", "defect")

WORLD_DTYPE = np.dtype([(name, "f8") for name in
                        negotiation.FIELDS + state_rules.FIELDS + ("start_fighters",)
                        + outcomes.ACC_FIELDS])
"""World-level variables: the table, the state, day-0 TTP strength and outcome accumulators."""


def slot_count(factions: int, spoilers: int, items: int) -> int:
    """Uniforms per world per day: world decisions, faction decisions, spoiler attacks, items.

    Layout of a world's row: ``WORLD_SLOTS``; ``FACTION_SLOTS`` x factions (slot-major); one
    per spoiler; one per concession item.
    """
    return len(WORLD_SLOTS) + len(FACTION_SLOTS) * factions + spoilers + items


class Fields:
    """Attribute access to the fields of a structured array (``world.fac.fighters``)."""

    def __init__(self, records: np.ndarray) -> None:
        self.records = records

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.records[name]
        except (ValueError, KeyError):
            raise AttributeError(name) from None


@dataclass
class World:
    """Every variable of a batch of worlds.

    Attributes:
        ws: world records ``[W]`` (:data:`WORLD_DTYPE`): ``phase`` (:class:`~sim.core.types.Phase`),
            ``phase_age`` (days), ``term_left`` (days, inf if indefinite), the state's variables
            (:data:`sim.core.actors.state.FIELDS`), ``start_fighters`` and the outcome accumulators.
        fac: faction records ``[W, F]`` (:data:`sim.core.actors.faction.DTYPE`).
        spo: spoiler records ``[W, S]`` (:data:`sim.core.actors.spoiler.DTYPE`).
        promise_day: day each concession item was promised, -1 if not ``[W, I]``.
        delivered: whether each item has been delivered ``[W, I]``.
        released: prisoners released to each faction today (scratch) ``[W, F]``.
        cf_log: start day, end day and cause of each ceasefire ``[W, MAX_CEASEFIRES, 3]``.
    """

    ws: np.ndarray
    fac: np.ndarray
    spo: np.ndarray
    promise_day: np.ndarray
    delivered: np.ndarray
    released: np.ndarray
    cf_log: np.ndarray

    @property
    def w(self) -> Fields:
        """World records by field name."""
        return Fields(self.ws)

    @property
    def factions(self) -> Fields:
        """Faction records by field name (``[W, F]`` arrays)."""
        return Fields(self.fac)

    @property
    def spoilers(self) -> Fields:
        """Spoiler records by field name (``[W, S]`` arrays)."""
        return Fields(self.spo)


def initial_world(p: Params, worlds: int) -> World:
    """Day-0 records of every world of a batch (shared by the kernel and the Mesa model)."""
    n_items = len(p.item_kind)
    ws = np.zeros(worlds, dtype=WORLD_DTYPE)
    ws["phase"] = p.world["start_phase"]
    ws["term_left"] = np.where(p.world["term_days"] > 0, p.world["term_days"], np.inf)
    state_rules.initial(ws, p.world)
    fac = faction_rules.initial(p.faction)
    ws["start_fighters"] = fac["fighters"].sum(axis=1)
    outcomes.start_in_phase(ws)
    w = World(ws=ws, fac=fac, spo=spoiler_rules.initial(p.spoiler),
              promise_day=np.full((worlds, n_items), -1.0), delivered=np.zeros((worlds, n_items), bool),
              released=np.zeros(fac.shape), cf_log=outcomes.new_ceasefire_log(ws))
    promise_at_start(w, p)
    return w


def promise_at_start(x: World, p: Params) -> None:
    """Items under way on day 0: a world opening in talks has promised its prisoners-first
    items; one opening in a ceasefire has promised everything."""
    promise_worlds(x.ws, x.promise_day, x.delivered, p.item_at_talks, p.item_active,
                   p.item_prisoners)


@loop
def promise_worlds(ws, promise_day, delivered, at_talks, active, prisoners):
    """:func:`promise_at_start` for every world of a batch (compiled loop over worlds)."""
    for w in range(ws.shape[0]):
        phase = ws[w].phase
        promised, items = state_rules.promise(
            0.0, promise_day[w], delivered[w], at_talks[w], active[w], prisoners[w],
            phase != negotiation.FIGHTING, phase == negotiation.CEASEFIRE)
        ws[w].prisoners_promised = ws[w].prisoners_promised + promised
        ws[w].items_promised = ws[w].items_promised + items


def init(p: Params) -> World:
    """Day-0 variables of every world of a batch."""
    return initial_world(p, p.worlds)


@rule
def world_day(day, ws, fac, spo, promise_day, delivered, released, cf_log, pw, pf, pm, ps, due_days,
              prisoners, at_talks, active, u, series_out, record):
    """One world's day, in the model's schedule: deliveries, mediators, spoilers, factions,
    recruitment, the state's evening, the table, the record."""
    nf, ns, ni = fac.shape[0], spo.shape[0], promise_day.shape[0]
    base_f = 4
    base_s = base_f + 4 * nf
    base_i = base_s + ns
    phase, age = ws.phase, ws.phase_age
    # Morning: the state delivers what falls due.
    delivered_n, overdue_n = state_rules.deliver(ws, day, promise_day, delivered, due_days, prisoners,
                                                 fac, pw, u[base_i:base_i + ni], released)
    # Mediators press; spoilers attack, outbidding a long ceasefire.
    guarantee, hosted, custody, broker = mediator_rules.mediation(pm)
    spoiler_attacks, blamed = 0.0, 0.0
    for i in range(ns):
        a, b = spoiler_rules.act(spo[i], ps[i], pw, phase, age, u[base_s + i])
        spoiler_attacks = spoiler_attacks + a
        blamed = blamed + b
    # Factions live their day; hardliners can only defect to a spoiler that recruits.
    pull = spoiler_rules.pull_total(ps)
    coercion = ws.coercion
    ttp, ttp_bound, lost, splits, reunified, defected, freed = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    broke = False
    for f in range(nf):
        bound = faction_rules.bound_by_ceasefire(fac[f], phase)
        a, brk, sp, re, de, lo = faction_rules.act(
            fac[f], pf[f], pw, phase, age, coercion, guarantee, broker, custody, pull > 0.0,
            released[f], delivered_n, overdue_n,
            u[base_f + f], u[base_f + nf + f], u[base_f + 2 * nf + f], u[base_f + 3 * nf + f])
        ttp = ttp + a
        if bound:
            ttp_bound = ttp_bound + a
        broke = broke or brk
        splits = splits + sp
        reunified = reunified + re
        defected = defected + de
        lost = lost + lo
        freed = freed + released[f]
    # Spoilers take in the hardliners who left.
    for i in range(ns):
        spoiler_rules.recruit(spo[i], ps[i], lost, pull)
    # Evening: the state weighs the day, then the table moves.
    hurt = outcomes.casualties(ttp, spoiler_attacks, pw)
    state_rules.feel_pressure(ws, hurt, pw)
    state_rules.adjust_coercion(ws, phase, pw)
    state_rules.judge_ceasefire(ws, phase, ttp_bound, blamed, pw)
    opened, deal, walked, cause, promised, items = negotiation.negotiate(
        ws, fac, promise_day, delivered, at_talks, active, prisoners, hosted, guarantee, overdue_n,
        broke, u[0], u[1], u[2], u[3], pw, day)
    for f in range(nf):
        faction_rules.after_table(fac[f], cause != negotiation.NOT_ENDED, opened or walked)
    outcomes.record_day(ws, cf_log, day, phase, opened, deal, cause, promised, items, delivered_n,
                        ttp, spoiler_attacks, hurt, freed, lost, splits, reunified, defected)
    if record:
        outcomes.series_values(ws, fac, spo, ttp, spoiler_attacks, hurt, series_out)


@loop
def step_worlds(day, ws, fac, spo, promise_day, delivered, released, cf_log, pw, pf, pm, ps,
                due_days, prisoners, at_talks, active, ubuf, t, offset, series, record):
    """Advance every world of a batch one day. World ``w`` reads its uniforms from the random
    streams' buffer ``ubuf[group, t, row]`` (see :meth:`sim.core.streams.WorldStreams.next_block_day`)."""
    group = ubuf.shape[2]
    for w in range(ws.shape[0]):
        k = offset + w
        world_day(day, ws[w], fac[w], spo[w], promise_day[w], delivered[w], released[w], cf_log[w],
                  pw[w], pf[w], pm[w], ps[w], due_days[w], prisoners[w], at_talks[w], active[w],
                  ubuf[k // group, t, k % group], series[w], record)


@loop
def step_block(day0, days, ws, fac, spo, promise_day, delivered, released, cf_log, pw, pf, pm, ps,
               due_days, prisoners, at_talks, active, ubuf, offset, series, record):
    """Advance every world ``days`` days from ``day0``, day ``d`` reading block day ``d`` of the
    random streams' buffer (one call per block keeps the Python overhead off the hot loop)."""
    group = ubuf.shape[2]
    for d in range(days):
        day = day0 + d
        out = series[d if record else 0]
        for w in range(ws.shape[0]):
            k = offset + w
            world_day(float(day), ws[w], fac[w], spo[w], promise_day[w], delivered[w], released[w],
                      cf_log[w], pw[w], pf[w], pm[w], ps[w], due_days[w], prisoners[w], at_talks[w],
                      active[w], ubuf[k // group, d, k % group], out[w], record)


def step(x: World, p: Params, u: np.ndarray, day: int, series: np.ndarray | None = None,
         t: int = 0, offset: int = 0) -> None:
    """Advance every world one day with the day's uniforms ``u`` ``[W, slots]`` (or a random
    streams' buffer with its day ``t`` and the batch's ``offset`` in it).

    ``series`` ``[W, len(SERIES)]``, when given, receives the day's recorded series.
    """
    if u.ndim == 2:
        u = u[None, None]
    record = series is not None
    out = series if record else np.empty((len(x.ws), len(outcomes.SERIES)))
    step_worlds(float(day), x.ws, x.fac, x.spo, x.promise_day, x.delivered, x.released, x.cf_log,
                p.world, p.faction, p.mediator, p.spoiler, p.item_due_days, p.item_prisoners,
                p.item_at_talks, p.item_active, u, t, offset, out, record)


def run_chunk(p: Params, seed: int, start: int, days: int, record: str = "none", on_day=None):
    """Step worlds ``start .. start + p.worlds - 1`` through ``days`` days.

    Returns:
        (outcome table, recorded series ``{name: [days, worlds]}`` or None, ceasefire table).
    """
    x = init(p)
    streams = WorldStreams(seed, start, p.worlds,
                           slot_count(len(p.faction_ids), len(p.spoiler_ids), len(p.item_kind)))
    recorded = np.empty((days, p.worlds, len(outcomes.SERIES))) if record != "none" else None
    scratch = np.empty((1, p.worlds, len(outcomes.SERIES)))
    for b, buf in enumerate(streams.blocks(days)):
        day0 = b * streams.block_days
        n = min(streams.block_days, days - day0)
        out = scratch if recorded is None else recorded[day0:day0 + n]
        step_block(day0, n, x.ws, x.fac, x.spo, x.promise_day, x.delivered, x.released, x.cf_log,
                   p.world, p.faction, p.mediator, p.spoiler, p.item_due_days, p.item_prisoners,
                   p.item_at_talks, p.item_active, buf, streams.offset, out, recorded is not None)
        if on_day is not None:
            for day in range(day0, day0 + n):
                on_day(day)
    index = np.arange(start, start + p.worlds)
    table = outcomes.outcome_table(x.ws, days, index, outcomes.ttp_fighters(x.fac))
    series = None
    if recorded is not None:
        series = {name: recorded[:, :, k] for k, name in enumerate(outcomes.SERIES)}
    return table, series, outcomes.ceasefire_table(x.ws, x.cf_log, days, index)
