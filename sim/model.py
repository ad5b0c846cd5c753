"""The Mesa model: one world, actor by actor. It only wires the agents to the shared rules.

    model = NegotiationModel("kabul_2022", rng=42)
    for _ in range(365):
        model.step()
    model.outcomes()            # the world's outcome row
    model.datacollector.get_model_vars_dataframe()   # its daily series

With the same seed, world index and parameters, this model and :func:`sim.run` give the same
history, because both draw from the same per-world stream and call the same rule functions.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

import mesa
import numpy as np
import pandas as pd

from . import negotiation, outcomes
from .actors import Faction, Mediator, Spoiler, State
from .actors import faction as faction_rules
from .actors import mediator as mediator_rules
from .actors import spoiler as spoiler_rules
from .kernel import Draws, items_of, slot_count
from .params import build_params
from .rng import WorldStreams
from .rules import total
from .scenario import load_scenario
from .schema import Scenario
from .types import Phase


def _gather(agents, names) -> SimpleNamespace:
    """Arrays over the actor axis of the named attributes of some agents."""
    return SimpleNamespace(**{n: np.array([np.reshape(getattr(a, n), ()) for a in agents]) for n in names})


class NegotiationModel(mesa.Model):
    """One possible history of a scenario, stepped one day and one actor at a time.

    Args:
        scenario: shipped scenario name, YAML path or loaded :class:`~sim.schema.Scenario`.
        rng: seed (int) of the world's random stream; None draws one.
        world: world index (which stream of the seed this world uses, as in :func:`sim.run`).
        days: horizon; ``running`` turns False after it.
        params: per-world parameter values for this world, ``{dotted field: value}``.
    """

    def __init__(self, scenario: str | Path | Scenario = "kabul_2022", rng: int | None = None,
                 world: int = 0, days: int = 730, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(rng=rng)
        self.config = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(self._seed)
        self.world = world
        self.days = days
        overrides = pd.DataFrame([dict(params)]) if params else None
        p = build_params(self.config, 1, overrides)
        self.items = _items_row(items_of(p))
        self.n_items = len(p.item_kind)
        self.state = State(self, p.world_view(), self.n_items)
        self.factions = [Faction(self, fid, i, p.actor("faction", i))
                         for i, fid in enumerate(p.faction_ids)]
        self.mediators = [Mediator(self, mid, p.actor("mediator", i))
                          for i, mid in enumerate(p.mediator_ids)]
        self.spoilers = [Spoiler(self, sid, p.actor("spoiler", i)) for i, sid in enumerate(p.spoiler_ids)]
        for i, s in enumerate(self.spoilers):
            s.index = i
        self.recruit_share = spoiler_rules.recruit_share(p.spoiler.recruitment_share[0])
        self.streams = WorldStreams(self.seed, world, 1, slot_count(len(self.factions),
                                                                    len(self.spoilers), self.n_items))
        pw = p.world_view()
        self.pw = pw
        self.phase = np.asarray([float(pw.start_phase)])
        self.phase_age = np.zeros(1)
        self.term_left = np.asarray([pw.term_days if pw.term_days > 0 else np.inf])
        at_start = np.where(self.phase == Phase.CEASEFIRE, True, self.items.at_talks & (self.phase == Phase.TALKS))
        self.acc = outcomes.new_accumulators((1,))
        outcomes.start_in_phase(self.acc, self.phase)
        from .actors import state as state_rules

        self.acc.prisoners_promised = self.acc.prisoners_promised + state_rules.promise(
            self.state, 0, at_start, self.items)
        self.fighters_start_total = total(self.faction_values("fighters"))
        self.day = 0
        self.today = None
        self.datacollector = mesa.DataCollector(model_reporters={
            name: (lambda m, name=name: float(np.reshape(m._series[name], -1)[0]))
            for name in outcomes.SERIES})
        self._series: dict[str, Any] = {}

    def faction_values(self, name: str) -> np.ndarray:
        """One variable of every faction, as an array over the faction axis."""
        return _gather(self.factions, (name,)).__dict__[name]

    def _mediation(self) -> SimpleNamespace:
        m = _gather(self.mediators, ("pressure",))
        present = np.array([float(x.p.present) for x in self.mediators])
        hosts = np.array([float(x.p.hosts_talks) for x in self.mediators])
        custody = np.array([float(x.p.takes_custody) for x in self.mediators])
        brokers = np.array([float(x.p.brokers_reunification) for x in self.mediators])
        leverage = np.array([float(x.p.leverage_share) for x in self.mediators])
        return SimpleNamespace(guarantee=mediator_rules.guarantee(m.pressure),
                               hosted=mediator_rules.hosting(present, hosts),
                               custody=mediator_rules.custody(present, custody),
                               broker=mediator_rules.broker_leverage(present, brokers, leverage))

    def step(self) -> None:
        """One day: deliveries, mediators, spoilers, factions, recruitment, the state, the table."""
        day = self.day
        self.draws = Draws(self.streams.next_day(), len(self.factions), len(self.spoilers), self.n_items)
        phase_before, age = self.phase, self.phase_age
        self.state.deliver()
        released, delivered, overdue = self.delivery
        for m in self.mediators:
            m.step()
        med = self._mediation()
        for s in self.spoilers:
            s.step()
        spo = _gather(self.spoilers, ("attacks", "blamed"))
        bound = np.array([faction_rules.bound_by_ceasefire(f, phase_before)[0] for f in self.factions])
        self.context = _Context(phase_before, age, self.state.coercion, med, len(self.spoilers) > 0,
                                self.pw.uses_inducements, released, delivered, overdue)
        for f in self.factions:
            f.step()
        out = {k: np.array([np.reshape(f.today[k], ()) for f in self.factions])
               for k in self.factions[0].today} if self.factions else {}
        flow = total(out["to_spoilers"])
        for s, share in zip(self.spoilers, self.recruit_share):
            s.recruit(flow * share)
        self.today = outcomes.day_totals(out, bound, spo.attacks, spo.blamed, released, self.pw)
        self.state.step()
        fac = _gather(self.factions, ("fighters", "trust", "accepted", "in_umbrella", "defected"))
        fac.broke = out["broke"]
        w = SimpleNamespace(phase=self.phase, phase_age=self.phase_age, term_left=self.term_left)
        ev = negotiation.negotiate(w, self.state, fac, med.hosted, med.guarantee, overdue,
                                   self.draws.world_view(0), self.pw, self.items, day)
        self.phase, self.phase_age, self.term_left = w.phase, w.phase_age, w.term_left
        for f in self.factions:
            faction_rules.after_table(f, ev.ended, ev.opened | ev.walked)
        outcomes.record_day(self.acc, day, phase_before, ev, self.today)
        allf = _gather(self.factions, faction_rules.FIELDS)
        spf = _gather(self.spoilers, ("fighters",))
        self._series = outcomes.series_values(w, self.state, allf, spf, self.today)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.days:
            self.running = False

    def outcomes(self) -> dict[str, Any]:
        """This world's outcome row (the columns of :data:`sim.OUTCOME_COLUMNS`)."""
        fac = _gather(self.factions, faction_rules.FIELDS)
        table = outcomes.outcome_table(self.acc, self.day, np.array([self.world]),
                                       outcomes.ttp_fighters(fac))
        return table.iloc[0].to_dict()

    def history(self) -> pd.DataFrame:
        """Daily series of this world (as :func:`sim.run` with ``record="daily"``)."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        return df


def _items_row(items: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(**{k: v[0] for k, v in vars(items).items()})


class _Context:
    """What a faction knows of its world today (world-level values and its own releases)."""

    def __init__(self, phase, age, coercion, med, spoilers, inducements, released, delivered, overdue):
        self.values = dict(phase=phase, phase_age=age, coercion=coercion, guarantee=med.guarantee,
                           broker=med.broker, custody=med.custody, spoilers_present=float(spoilers),
                           uses_inducements=inducements, delivered=delivered, overdue=overdue)
        self.released = released

    def faction(self, index: int) -> SimpleNamespace:
        return SimpleNamespace(**self.values, released=self.released[index])
