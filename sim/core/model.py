"""The Mesa model: one world, actor by actor. It only wires the agents to the shared rules.

    model = NegotiationModel("kabul_2022", rng=42)
    for _ in range(365):
        model.step()
    model.outcomes()            # the world's outcome row
    model.history()             # its daily series (from the DataCollector)

With the same seed, world index and parameters, this model and :func:`sim.run` give the same
history, because both draw from the same per-world stream and call the same rule functions in
the same order (compare :func:`sim.core.kernel.world_day`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

import mesa
import numpy as np
import pandas as pd

from sim.core import table as negotiation
from sim.core import outcomes
from sim.core.actors import Faction, Mediator, Spoiler, State
from sim.core.actors import faction as faction_rules
from sim.core.actors import mediator as mediator_rules
from sim.core.actors import spoiler as spoiler_rules
from sim.core.kernel import FACTION_SLOTS, WORLD_SLOTS, initial_world, slot_count
from sim.inputs.params import build_params
from sim.core.streams import WorldStreams
from sim.inputs.scenarios import load_scenario
from sim.inputs.schema import Scenario


class NegotiationModel(mesa.Model):
    """One possible history of a scenario, stepped one day and one actor at a time.

    Args:
        scenario: shipped scenario name, YAML path or loaded :class:`~sim.inputs.schema.Scenario`.
        rng: seed (int) of the world's random stream; None draws one.
        world: world index (which stream of the seed this world uses, as in :func:`sim.run`).
        days: horizon; ``running`` turns False after it.
        params: per-world parameter values for this world, ``{dotted field: value}``.

    Attributes:
        config: the scenario. state, factions, mediators, spoilers: the agents.
        ws, fac, spo: this world's records (the agents' variables), as in :class:`sim.core.kernel.World`.
    """

    def __init__(self, scenario: str | Path | Scenario = "kabul_2022", rng: int | None = None,
                 world: int = 0, days: int = 730, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(rng=rng)
        self.config = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(self._seed)
        self.world = world
        self.days = days
        self.params = build_params(self.config, 1, pd.DataFrame([dict(params)]) if params else None)
        p = self.params
        x = initial_world(p, 1)
        self.ws, self.fac, self.spo = x.ws, x.fac, x.spo
        self.promise_day, self.delivered, self.released = x.promise_day, x.delivered, x.released[0]
        self.cf_log = x.cf_log
        self.state = State(self)
        self.factions = [Faction(self, fid, i) for i, fid in enumerate(p.faction_ids)]
        self.mediators = [Mediator(self, mid, i) for i, mid in enumerate(p.mediator_ids)]
        self.spoilers = [Spoiler(self, sid, i) for i, sid in enumerate(p.spoiler_ids)]
        nf, ns, ni = len(self.factions), len(self.spoilers), len(p.item_kind)
        self.streams = WorldStreams(self.seed, world, 1, slot_count(nf, ns, ni))
        self._slots = (len(WORLD_SLOTS), len(FACTION_SLOTS), nf, ns, ni)
        self.day = 0
        self._series = np.zeros(len(outcomes.SERIES))
        self.datacollector = mesa.DataCollector(model_reporters={
            name: (lambda m, k=k: float(m._series[k])) for k, name in enumerate(outcomes.SERIES)})

    def _split_draws(self, u: np.ndarray) -> None:
        nw, nk, nf, ns, ni = self._slots
        self.u_world = u[:nw]
        self.u_faction = u[nw:nw + nk * nf].reshape(nk, nf)
        self.u_spoiler = u[nw + nk * nf:nw + nk * nf + ns]
        self.u_item = u[nw + nk * nf + ns:]

    def step(self) -> None:
        """One day: deliveries, mediators, spoilers, factions, recruitment, the state, the table."""
        p, ws = self.params, self.ws[0]
        self._split_draws(self.streams.next_day()[0])
        phase, age = ws["phase"], ws["phase_age"]
        self.state.deliver()
        for m in self.mediators:
            m.step()
        guarantee, hosted, custody, broker = mediator_rules.mediation(p.mediator[0])
        self.context = SimpleNamespace(phase=phase, phase_age=age, coercion=ws["coercion"],
                                       guarantee=guarantee, broker=broker, custody=custody,
                                       spoilers_present=spoiler_rules.pull_total(p.spoiler[0]) > 0.0,
                                       delivered=self.delivered_today, overdue=self.overdue_today)
        spoiler_attacks, blamed = 0.0, 0.0
        for s in self.spoilers:
            s.step()
            spoiler_attacks, blamed = spoiler_attacks + s.attacks, blamed + s.blamed
        t = SimpleNamespace(ttp=0.0, bound=0.0, lost=0.0, splits=0.0, reunified=0.0, defected=0.0,
                            freed=0.0, broke=False)
        for f in self.factions:
            bound = faction_rules.bound_by_ceasefire(f.record, phase)
            f.step()
            attacks, broke, split, reunified, defected, lost = f.today
            t.ttp = t.ttp + attacks
            if bound:
                t.bound = t.bound + attacks
            t.broke = t.broke or broke
            t.splits, t.reunified = t.splits + split, t.reunified + reunified
            t.defected, t.lost = t.defected + defected, t.lost + lost
            t.freed = t.freed + self.released[f.index]
        for s in self.spoilers:
            s.recruit(t.lost)
        hurt = outcomes.casualties(t.ttp, spoiler_attacks, p.world[0])
        self.totals = SimpleNamespace(casualties=hurt, ttp_attacks_bound=t.bound, blamed=blamed)
        self.state.step()
        u = self.u_world
        opened, deal, walked, cause, promised, items = negotiation.negotiate(
            ws, self.fac[0], self.promise_day[0], self.delivered[0], p.item_at_talks[0],
            p.item_active[0], p.item_prisoners[0], hosted, guarantee, self.overdue_today, t.broke,
            u[0], u[1], u[2], u[3], p.world[0], float(self.day))
        for f in self.factions:
            faction_rules.after_table(f.record, cause != negotiation.NOT_ENDED, opened or walked)
        outcomes.record_day(ws, self.cf_log[0], float(self.day), phase, opened, deal, cause, promised,
                            items, self.delivered_today, t.ttp, spoiler_attacks, hurt, t.freed, t.lost,
                            t.splits, t.reunified, t.defected)
        outcomes.series_values(ws, self.fac[0], self.spo[0], t.ttp, spoiler_attacks, hurt, self._series)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.days:
            self.running = False

    @property
    def phase(self) -> float:
        """The world's negotiation phase (:class:`~sim.core.types.Phase` code)."""
        return float(self.ws["phase"][0])

    def outcomes(self) -> dict[str, Any]:
        """This world's outcome row (the columns of :data:`sim.OUTCOME_COLUMNS`)."""
        table = outcomes.outcome_table(self.ws, self.day, np.array([self.world]),
                                       outcomes.ttp_fighters(self.fac))
        return table.iloc[0].to_dict()

    def ceasefires(self) -> pd.DataFrame:
        """One row per ceasefire of this world (as ``Results.ceasefires``)."""
        return outcomes.ceasefire_table(self.ws, self.cf_log, self.day, np.array([self.world]))

    def history(self) -> pd.DataFrame:
        """Daily series of this world (as :func:`sim.run` with ``record="daily"``)."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
