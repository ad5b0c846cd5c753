"""The Mesa model: one world, actor by actor. It only wires the agents to the day's schedule.

    model = NegotiationModel("kabul_2022", rng=42)
    for _ in range(365):
        model.step()
    model.outcomes()            # the world's outcome row
    model.history()             # its daily series (from the DataCollector)

A day (:meth:`NegotiationModel.step`) walks the stages of :data:`sim.core.schedule.DAY`: for each,
every actor of its group calls the stage function for itself (the state delivers, each mediator
presses, each spoiler attacks, each faction lives its day, the spoilers recruit, the state weighs
the evening; the model itself opens the day, moves the table and records the day). With the same
seed, world index and parameters, this model and :func:`sim.run` give the same history, because
both draw from the same per-world stream and the kernel's :func:`sim.core.schedule.world_day` is
the same stages in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.experimental.scenarios import Scenario as MesaScenario

from sim.core import outcomes, registry, schedule
from sim.core.actors import Faction, Mediator, Spoiler, State
from sim.core.kernel import initial_world
from sim.core.streams import WorldStreams
from sim.inputs.params import build_params
from sim.inputs.scenarios import load_scenario
from sim.inputs.schema import Scenario, ScenarioError
from sim.inputs.settings import seed_value


def _episode_and_mesa_scenario(episode, scenario) -> tuple[Any, MesaScenario | None]:
    """Split the model's two scenario arguments: the negotiation episode (name, path or
    :class:`~sim.inputs.schema.Scenario`) and Mesa's own experiment object, which Mesa 3.5's
    ``Model`` calls ``scenario`` and its tools (SolaraViz's Reset) pass in by that name."""
    if scenario is None or isinstance(scenario, MesaScenario):
        return ("kabul_2022" if episode is None else episode), scenario
    if episode is not None:
        raise TypeError(
            f"NegotiationModel got both episode={episode!r} and scenario={scenario!r}: give the "
            "scenario name, path or loaded scenario once, as episode"
        )
    return scenario, None


def _outcome_on_last_day(model: NegotiationModel, name: str) -> Any:
    """Outcome column ``name`` of the model's world when its DataCollector records the
    horizon's last day (None on earlier days), so that the outcomes reach ``mesa.batch_run``'s
    rows (``data_collection_period=-1``, ``max_steps`` = the horizon) as Mesa users read them."""
    if model.day + 1 < model.days:
        return None
    cached = model.__dict__.get("_last_day_outcomes")
    if cached is None or cached[0] != model.day:
        table = outcomes.outcome_table(
            model.ws, model.day + 1, np.array([model.world]), outcomes.ttp_fighters(model.fac)
        )
        cached = (model.day, table.iloc[0].to_dict())
        model._last_day_outcomes = cached
    return cached[1][name]


def _check_arguments(rng: Any, days: Any) -> None:
    """A model's ``days`` is a whole number of at least 1; its ``rng`` a whole number of at least
    0, a numpy ``SeedSequence`` or ``Generator``, or None.

    Raises:
        ScenarioError: naming the argument, the value and what is allowed.
    """
    from sim.inputs.settings import whole

    whole("days", days, 1)
    if isinstance(rng, bool) or not isinstance(
        rng, (type(None), int, np.integer, np.random.SeedSequence, np.random.Generator)
    ):
        raise ScenarioError(
            f"rng = {rng!r} is not allowed: expected a whole number of at least 0, a numpy "
            "SeedSequence or Generator, or None"
        )
    if isinstance(rng, (int, np.integer)):
        whole("rng", int(rng), 0)


class NegotiationModel(mesa.Model):
    """One possible history of a scenario, stepped one day and one actor at a time.

    Args:
        episode: shipped scenario name, YAML path or loaded :class:`~sim.inputs.schema.Scenario`
            (default ``kabul_2022``).
        rng: seed of the world's random stream: a whole number or a ``numpy.random.SeedSequence``,
            read as :func:`sim.run` reads its ``seed`` (``SeedSequence(5)`` is 5); None or a
            ``numpy.random.Generator`` draws one.
        world: world index (which stream of the seed this world uses, as in :func:`sim.run`).
        days: horizon; ``running`` turns False after it.
        params: per-world parameter values for this world, ``{dotted field: value}``.
        scenario: Mesa's own experiment object (:class:`mesa.experimental.scenarios.Scenario`,
            kept as ``model.scenario``, as Mesa's tools such as SolaraViz's Reset pass it); a
            scenario name, path or loaded scenario given here is taken as ``episode``.

    Attributes:
        config: the scenario. state, factions, mediators, spoilers: the agents.
        actors: the groups of actors that run the stages of the day, by name.
        ws, fac, spo: this world's records (the agents' variables), as in :class:`sim.core.kernel.World`.
        today: the day's record (:data:`sim.core.schedule.DAY_DTYPE`). u: the day's uniforms.
        schedule: the module of the day's stages (:mod:`sim.core.schedule`), through which each
            agent runs its stage.
    """

    schedule = schedule

    def __init__(
        self,
        episode: str | Path | Scenario | None = None,
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        world: int = 0,
        days: int = 730,
        params: Mapping[str, Any] | None = None,
        scenario: MesaScenario | str | Path | Scenario | None = None,
    ) -> None:
        _check_arguments(rng, days)
        episode, scenario = _episode_and_mesa_scenario(episode, scenario)
        rng = int(rng) if isinstance(rng, np.integer) else rng  # Mesa's stdlib random takes int only
        if scenario is not None and scenario.rng is None:
            scenario.rng = rng  # Mesa requires the two to agree
        super().__init__(rng=rng, scenario=scenario)
        self.config = episode if isinstance(episode, Scenario) else load_scenario(episode)
        # The world's seed as sim.run reads its seed (SeedSequence(5) is 5); Mesa draws one for
        # None or a Generator.
        seed = seed_value(rng if rng is not None else getattr(scenario, "rng", None))
        self.seed = int(seed) if isinstance(seed, (int, np.integer)) else int(self._seed)
        self.world = world
        self.days = days
        self.params = build_params(self.config, 1, pd.DataFrame([dict(params)]) if params else None)
        p = self.params
        x = initial_world(p, 1)
        self.ws, self.fac, self.spo = x.ws, x.fac, x.spo
        self.promise_day, self.delivered, self.released = x.promise_day, x.delivered, x.released[0]
        self.cf_log = x.cf_log
        self.today = x.today[0]
        self.state = State(self)
        self.factions = [Faction(self, fid, i) for i, fid in enumerate(p.faction_ids)]
        self.mediators = [Mediator(self, mid, i) for i, mid in enumerate(p.mediator_ids)]
        self.spoilers = [Spoiler(self, sid, i) for i, sid in enumerate(p.spoiler_ids)]
        self.actors = {
            "world": [self],
            "state": [self.state],
            "mediators": self.mediators,
            "spoilers": self.spoilers,
            "factions": self.factions,
        }
        self.streams = WorldStreams(
            self.seed, world, 1, schedule.slot_count(len(self.factions), len(self.spoilers), len(p.item_kind))
        )
        self.u = np.zeros(self.streams.slots)
        self.day = 0
        self._series = np.zeros(len(outcomes.SERIES))
        # Records named and typed as sim.core.registry declares (a day's count is <name>_today),
        # then the world's outcome row, filled on the horizon's last day (for mesa.batch_run).
        records = {
            registry.record_name(c): (
                (lambda m, k=k: round(m._series[k]))
                if c.kind is registry.WHOLE
                else (lambda m, k=k: float(m._series[k]))
            )
            for k, c in enumerate(registry.series())
        }
        for name in outcomes.OUTCOME_COLUMNS:
            if name not in records and name != "world":
                records[name] = lambda m, name=name: _outcome_on_last_day(m, name)
        self.datacollector = mesa.DataCollector(model_reporters=records)

    def step(self) -> None:
        """One day: the stages of :data:`sim.core.schedule.DAY` in order, each run by every actor
        of its group (``world``: this model)."""
        self.u = self.streams.next_day()[0]
        for stage in schedule.DAY:
            for actor in self.actors[stage.actors]:
                getattr(actor, stage.method)()
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.days:
            self.running = False

    def dawn(self) -> None:
        """Open the day's record on the dawn context (:func:`sim.core.schedule.dawn`)."""
        schedule.dawn(self.today, self.ws[0], self.params.spoiler[0], float(self.day))

    def table(self) -> None:
        """The table moves; the factions' momentum and acceptance follow
        (:func:`sim.core.schedule.table`)."""
        p = self.params
        schedule.table(
            self.today,
            self.ws[0],
            self.fac[0],
            self.promise_day[0],
            self.delivered[0],
            p.item_at_talks[0],
            p.item_active[0],
            p.item_prisoners[0],
            p.world[0],
            self.u,
        )

    def record(self) -> None:
        """Add the day to the outcomes and write its series (:func:`sim.core.schedule.record`)."""
        schedule.record(self.today, self.ws[0], self.cf_log[0], self.fac[0], self.spo[0], self._series, True)

    @property
    def phase(self) -> float:
        """The world's negotiation phase (:class:`~sim.core.types.Phase` code)."""
        return float(self.ws["phase"][0])

    def outcomes(self) -> dict[str, Any]:
        """This world's outcome row (the columns of :data:`sim.OUTCOME_COLUMNS`)."""
        table = outcomes.outcome_table(
            self.ws, self.day, np.array([self.world]), outcomes.ttp_fighters(self.fac)
        )
        return table.iloc[0].to_dict()

    def ceasefires(self) -> pd.DataFrame:
        """One row per ceasefire of this world (as ``Results.ceasefires``)."""
        return outcomes.ceasefire_table(self.ws, self.cf_log, self.day, np.array([self.world]))

    def history(self) -> pd.DataFrame:
        """Daily series of this world (as :func:`sim.run` with ``record="daily"``; a day's count
        is named ``<series>_today``, :func:`sim.core.registry.record_name`)."""
        records = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        return records[[registry.record_name(c) for c in registry.series()]]
