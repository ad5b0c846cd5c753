"""Mesa's own tools as Mesa users expect them: the outcomes reach ``mesa.batch_run``'s rows, the
agent classes are exported from ``sim``, and ``rng=`` of the model takes the same seeds as
``seed=`` of ``sim.run`` and means the same world."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

import sim


def test_outcomes_reach_batch_run_rows():
    days = 40
    rows = mesa.batch_run(
        sim.NegotiationModel,
        {"episode": "kabul_2022", "days": days},
        rng=[3],
        max_steps=days,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 1
    row = rows[0]
    model = sim.NegotiationModel("kabul_2022", rng=3, days=days)
    while model.running:
        model.step()
    expected = model.outcomes()
    for name in ("ceasefire_reached", "ttp_attacks", "casualties", "collapse_cause", "prisoners_released"):
        assert row[name] == expected[name], name
    assert "ttp_attacks_today" in row  # the last day's count beside the run's total


def test_outcome_records_are_empty_before_the_horizon():
    model = sim.NegotiationModel("kabul_2022", rng=3, days=5)
    for _ in range(5):
        model.step()
    records = model.datacollector.get_model_vars_dataframe()
    assert records["ttp_attacks"].iloc[:-1].isna().all() and records["ttp_attacks"].iloc[-1] >= 0
    assert "ttp_attacks" not in model.history().columns


def test_agent_classes_are_exported():
    from sim.core.actors import Faction, Mediator, Spoiler, State

    assert (sim.Faction, sim.State, sim.Mediator, sim.Spoiler) == (Faction, State, Mediator, Spoiler)
    model = sim.NegotiationModel("kabul_2022", rng=1, days=2)
    assert len(model.agents_by_type[sim.Faction]) == len(model.factions)


@pytest.mark.parametrize("seed", [5, np.int64(5), np.random.SeedSequence(5)])
def test_rng_takes_the_seeds_of_sim_run_and_means_the_same_world(seed):
    days = 60
    model = sim.NegotiationModel("kabul_2022", rng=seed, world=0, days=days)
    while model.running:
        model.step()
    res = sim.run("kabul_2022", worlds=1, days=days, seed=seed)
    assert model.seed == res.seed == 5
    pd.testing.assert_series_equal(
        pd.Series(model.outcomes()), pd.Series(res.worlds.iloc[0].to_dict()), check_names=False
    )


def test_a_spawned_seed_sequence_is_the_same_world_in_both():
    child = np.random.SeedSequence(5).spawn(2)[1]
    model = sim.NegotiationModel("kabul_2022", rng=child, days=3)
    res = sim.run("kabul_2022", worlds=1, days=3, seed=child)
    assert model.seed == res.seed != 5


def test_a_bad_seed_is_refused_by_sim_run():
    with pytest.raises(sim.ScenarioError, match="seed"):
        sim.run("kabul_2022", worlds=1, days=3, seed=-1)
