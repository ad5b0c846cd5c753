"""The Mesa agent mode and the vectorized kernel tell the same history.

``sim.run(scenario, worlds=w + 1, seed=s, record="daily")`` row ``w`` must equal
``NegotiationModel(scenario, rng=s, world=w)`` stepped as many days: the same outcome row (exactly,
NaN equal to NaN) and the same daily series (bit for bit). World indices of 64 and above draw from
a different random-stream group than 0..63, so each case list holds one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim import NegotiationModel

MINI_CASES = [(0, 0), (7, 5), (2024, 64), (99, 133)]  # (seed, world); 64 and 133: other groups
SHIPPED_CASES = [(3, 2), (11, 70)]
MINI_DAYS = 200
SHIPPED_DAYS = 150


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return bool((np.isnan(a) and np.isnan(b)) or a == b)
    return bool(a == b)


def _stepped_model(scenario, seed: int, world: int, days: int, params=None) -> NegotiationModel:
    model = NegotiationModel(scenario, rng=seed, world=world, days=days, params=params)
    for _ in range(days):
        model.step()
    assert not model.running, "the model should stop running after its horizon"
    return model


def assert_world_agrees(scenario, seed: int, world: int, days: int,
                        params: pd.DataFrame | None = None) -> None:
    """Kernel world ``world`` of a ``world + 1``-world run equals the Mesa model of that world."""
    res = sim.run(scenario, worlds=world + 1, days=days, seed=seed, record="daily", params=params)
    row_params = None
    if params is not None:
        row_params = {c: params[c].iloc[world].item() if hasattr(params[c].iloc[world], "item")
                      else params[c].iloc[world] for c in params.columns}
    model = _stepped_model(scenario, seed, world, days, row_params)

    # Outcome row.
    kernel_row = res.worlds.iloc[world].to_dict()
    mesa_row = model.outcomes()
    assert list(mesa_row) == list(sim.OUTCOME_COLUMNS)
    assert list(kernel_row) == list(sim.OUTCOME_COLUMNS)
    assert kernel_row["world"] == world
    diff = {k: (mesa_row[k], kernel_row[k]) for k in sim.OUTCOME_COLUMNS
            if not _same(mesa_row[k], kernel_row[k])}
    assert not diff, f"seed {seed}, world {world}: Mesa vs kernel outcome differ {diff}"

    # Daily series.
    hist = model.history()
    ts = res.timeseries
    mine = ts[ts["world"] == world].sort_values("day").reset_index(drop=True)
    assert len(hist) == days and len(mine) == days
    np.testing.assert_array_equal(mine["day"].to_numpy(), np.arange(days))
    assert set(hist.columns) == set(sim.SERIES)
    bad = [c for c in sim.SERIES
           if not np.array_equal(hist[c].to_numpy(dtype=float), mine[c].to_numpy(dtype=float))]
    if bad:
        first = {}
        for c in bad:
            a, b = hist[c].to_numpy(dtype=float), mine[c].to_numpy(dtype=float)
            day = int(np.flatnonzero(a != b)[0])
            first[c] = f"day {day}: mesa {a[day]!r} kernel {b[day]!r}"
        raise AssertionError(f"seed {seed}, world {world}: daily series differ: {first}")


@pytest.mark.parametrize("seed,world", MINI_CASES)
def test_mini_mesa_equals_kernel(mini_path, seed, world):
    assert_world_agrees(mini_path, seed, world, MINI_DAYS)


@pytest.mark.parametrize("name", sim.scenario_names())
@pytest.mark.parametrize("seed,world", SHIPPED_CASES)
def test_shipped_scenario_mesa_equals_kernel(name, seed, world):
    assert_world_agrees(name, seed, world, SHIPPED_DAYS)


# Variants that take other code paths: no spoilers, no mediators, other start phases, prisoners
# promised when talks open.
VARIANTS = {
    "no_spoilers": lambda d: d.pop("spoilers"),
    "no_mediators": lambda d: d.pop("mediators"),
    "start_ceasefire": lambda d: d.update(start_phase="ceasefire"),
    "start_fighting": lambda d: d.update(start_phase="fighting"),
    "prisoners_first": lambda d: d["state"]["offer"].update(release_before_ceasefire=True,
                                                            release_tranche_count=3),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_mesa_equals_kernel(write_scenario, variant):
    path = write_scenario(variant, VARIANTS[variant])
    assert_world_agrees(path, 5, 66, 180)


def _params_table(worlds: int, mini) -> pd.DataFrame:
    rng = np.random.default_rng(12345)
    faction = "jamaat_ul_ahrar"
    assert faction in mini.factions
    return pd.DataFrame({
        "state.delivery_reliability": rng.uniform(0.0, 1.0, worlds),
        f"factions.{faction}.hardline_share": rng.uniform(0.0, 1.0, worlds),
    })


@pytest.mark.parametrize("seed,world", [(4, 1), (8, 40), (15, 69)])
def test_per_world_params_mesa_equals_kernel(mini_path, mini, seed, world):
    params = _params_table(70, mini)
    assert params.iloc[:, 0].nunique() == 70  # every world has its own value
    assert_world_agrees(mini_path, seed, world, MINI_DAYS, params.iloc[:world + 1].reset_index(drop=True))


def test_per_world_params_of_other_types_mesa_equals_kernel(mini_path):
    # Yes/no and whole-number columns, alternating between worlds.
    n = 68
    params = pd.DataFrame({
        "state.uses_inducements": [False, True] * (n // 2),
        "ceasefire.term_days": [0, 30] * (n // 2),
        "mediators.haqqani.present": [True, False] * (n // 2),
        "factions.mehsud_central.fighters_count": [400, 5000] * (n // 2),
    })
    for world in (0, 1, 67):
        assert_world_agrees(mini_path, 21, world, 150, params.iloc[:world + 1].reset_index(drop=True))


def test_per_world_params_are_applied(mini_path, mini):
    """Guard against both modes ignoring the table: the kernel's rows must change with it."""
    params = _params_table(70, mini)
    with_params = sim.run(mini_path, worlds=70, days=MINI_DAYS, seed=4, params=params).worlds
    without = sim.run(mini_path, worlds=70, days=MINI_DAYS, seed=4).worlds
    changed = (with_params.drop(columns="world").astype(str)
               != without.drop(columns="world").astype(str)).any(axis=1)
    assert changed.mean() > 0.5, "per-world parameters barely change the worlds"
