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
from sim.core import kernel, registry, schedule
from sim.core.streams import WorldStreams
from sim.inputs.params import build_params

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


def assert_world_agrees(
    scenario, seed: int, world: int, days: int, params: pd.DataFrame | None = None
) -> None:
    """Kernel world ``world`` of a ``world + 1``-world run equals the Mesa model of that world."""
    res = sim.run(scenario, worlds=world + 1, days=days, seed=seed, record="daily", params=params)
    row_params = None
    if params is not None:
        row_params = {
            c: params[c].iloc[world].item()
            if hasattr(params[c].iloc[world], "item")
            else params[c].iloc[world]
            for c in params.columns
        }
    model = _stepped_model(scenario, seed, world, days, row_params)

    # Outcome row.
    kernel_row = res.worlds.iloc[world].to_dict()
    mesa_row = model.outcomes()
    assert list(mesa_row) == list(sim.OUTCOME_COLUMNS)
    assert list(kernel_row) == list(sim.OUTCOME_COLUMNS)
    assert kernel_row["world"] == world
    diff = {
        k: (mesa_row[k], kernel_row[k]) for k in sim.OUTCOME_COLUMNS if not _same(mesa_row[k], kernel_row[k])
    }
    assert not diff, f"seed {seed}, world {world}: Mesa vs kernel outcome differ {diff}"

    # Daily series.
    hist = model.history()
    ts = res.timeseries
    mine = ts[ts["world"] == world].sort_values("day").reset_index(drop=True)
    assert len(hist) == days and len(mine) == days
    np.testing.assert_array_equal(mine["day"].to_numpy(), np.arange(days))
    # The Mesa records name a day's count <series>_today (sim.core.registry.record_name).
    names = {c.name: registry.record_name(c) for c in registry.series()}
    assert set(hist.columns) == set(names.values()) and set(names) == set(sim.SERIES)
    bad = [
        c
        for c in sim.SERIES
        if not np.array_equal(hist[names[c]].to_numpy(dtype=float), registry.codes(mine[c]))
    ]
    if bad:
        first = {}
        for c in bad:
            a, b = hist[names[c]].to_numpy(dtype=float), registry.codes(mine[c])
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
    "prisoners_first": lambda d: d["state"]["offer"].update(
        release_before_ceasefire=True, release_tranche_count=3
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_mesa_equals_kernel(write_scenario, variant):
    path = write_scenario(variant, VARIANTS[variant])
    assert_world_agrees(path, 5, 66, 180)


def _params_table(worlds: int, mini) -> pd.DataFrame:
    rng = np.random.default_rng(12345)
    faction = "jamaat_ul_ahrar"
    assert faction in mini.factions
    return pd.DataFrame(
        {
            "state.delivery_reliability": rng.uniform(0.0, 1.0, worlds),
            f"factions.{faction}.hardline_share": rng.uniform(0.0, 1.0, worlds),
        }
    )


@pytest.mark.parametrize("seed,world", [(4, 1), (8, 40), (15, 69)])
def test_per_world_params_mesa_equals_kernel(mini_path, mini, seed, world):
    params = _params_table(70, mini)
    assert params.iloc[:, 0].nunique() == 70  # every world has its own value
    assert_world_agrees(mini_path, seed, world, MINI_DAYS, params.iloc[: world + 1].reset_index(drop=True))


def test_per_world_params_of_other_types_mesa_equals_kernel(mini_path):
    # Yes/no and whole-number columns, alternating between worlds.
    n = 68
    params = pd.DataFrame(
        {
            "state.uses_inducements": [False, True] * (n // 2),
            "ceasefire.term_days": [0, 30] * (n // 2),
            "mediators.haqqani.present": [True, False] * (n // 2),
            "factions.mehsud_central.fighters_count": [400, 5000] * (n // 2),
        }
    )
    for world in (0, 1, 67):
        assert_world_agrees(mini_path, 21, world, 150, params.iloc[: world + 1].reset_index(drop=True))


def test_per_world_params_are_applied(mini_path, mini):
    """Guard against both modes ignoring the table: the kernel's rows must change with it."""
    params = _params_table(70, mini)
    with_params = sim.run(mini_path, worlds=70, days=MINI_DAYS, seed=4, params=params).worlds
    without = sim.run(mini_path, worlds=70, days=MINI_DAYS, seed=4).worlds
    changed = (
        with_params.drop(columns="world").astype(str) != without.drop(columns="world").astype(str)
    ).any(axis=1)
    assert changed.mean() > 0.5, "per-world parameters barely change the worlds"


# --- One schedule, two drivers ---------------------------------------------------------------------
# The kernel's compiled world_day and the Mesa model's step must run the stages of
# sim.core.schedule.DAY in its order, read the same uniforms, and leave the same records every day.


@pytest.mark.parametrize("factions,spoilers,items", [(1, 0, 0), (3, 2, 4), (6, 1, 9), (2, 3, 1)])
def test_uniform_layout_gives_every_slot_once(factions, spoilers, items):
    used = [schedule.world_slot(k) for k in range(len(schedule.WORLD_SLOTS))]
    used += [
        schedule.faction_slot(k, f, factions)
        for k in range(len(schedule.FACTION_SLOTS))
        for f in range(factions)
    ]
    used += [schedule.spoiler_slot(i, factions) for i in range(spoilers)]
    used += [schedule.item_slot(i, factions, spoilers) for i in range(items)]
    n = schedule.slot_count(factions, spoilers, items)
    assert n == 5 + 5 * factions + spoilers + items
    assert sorted(used) == list(range(n)), "the layout must give each uniform to one reader"


def test_mesa_model_reads_the_kernels_uniform_rows(mini_path, mini):
    seed, world = 9, 66  # a world of the second stream group
    model = NegotiationModel(mini_path, rng=seed, world=world, days=3)
    p = build_params(mini, 1, None)
    slots = schedule.slot_count(len(p.faction_ids), len(p.spoiler_ids), len(p.item_kind))
    assert len(p.faction_ids) == 3 and len(p.spoiler_ids) == 2 and len(p.item_kind) >= 3
    assert model.streams.slots == slots
    streams = WorldStreams(seed, 0, world + 1, slots)
    for _ in range(3):
        model.step()
        np.testing.assert_array_equal(model.u, streams.next_day()[world])


def _expected_calls(p) -> list[tuple[str, int]]:
    """(stage, actor index) in the order of DAY, every actor of a group in turn."""
    counts = {
        "world": 1,
        "state": 1,
        "mediators": len(p.mediator_ids),
        "spoilers": len(p.spoiler_ids),
        "factions": len(p.faction_ids),
    }
    return [(stage.name, i) for stage in schedule.DAY for i in range(counts[stage.actors])]


def _recording_stages(monkeypatch, p) -> list[tuple[str, int]]:
    """Replace every stage function of the schedule by one that notes (stage, actor index) and
    runs the stage; the actor is found from its arguments."""
    calls: list[tuple[str, int]] = []

    def index_of(rows, record) -> int:
        found = [i for i in range(rows.shape[0]) if rows[i].tobytes() == record.tobytes()]
        assert len(found) == 1, "the test scenario's actors must have distinct parameters"
        return found[0]

    actor = {
        "mediate": lambda a: index_of(p.mediator[0], a[1]),
        "attack": lambda a: a[5],
        "live": lambda a: a[6],
        "recruit": lambda a: index_of(p.spoiler[0], a[2]),
    }
    for stage in schedule.DAY:
        original = getattr(schedule, stage.name)

        def recorder(*args, _name=stage.name, _run=original):
            calls.append((_name, int(actor[_name](args)) if _name in actor else 0))
            return _run(*args)

        monkeypatch.setattr(schedule, stage.name, recorder)
    return calls


@pytest.mark.parametrize("start_phase", ["talks", "ceasefire"])
def test_both_drivers_run_the_stages_in_the_declared_order(monkeypatch, write_scenario, start_phase):
    path = write_scenario(start_phase, lambda d: d.update(start_phase=start_phase))
    scenario = sim.load_scenario(path)
    p = build_params(scenario, 1, None)
    assert len(p.mediator_ids) == 2 and len(p.spoiler_ids) == 2 and len(p.faction_ids) == 3
    want = _expected_calls(p)
    assert [name for name, _ in want][:2] == ["dawn", "deliver"]

    # The Mesa model: one day, agent by agent.
    model = NegotiationModel(scenario, rng=3, world=0, days=2)
    calls = _recording_stages(monkeypatch, p)
    model.step()
    assert calls == want, "the Mesa model does not run the stages of DAY in order"

    # The kernel's world_day, run as plain Python so that its calls can be recorded.
    calls.clear()
    x = kernel.init(p)
    u = WorldStreams(3, 0, 1, model.streams.slots).next_day()[0]
    out = np.zeros(len(sim.SERIES))
    schedule.world_day.py_func(
        x.today[0],
        0.0,
        x.ws[0],
        x.fac[0],
        x.spo[0],
        x.promise_day[0],
        x.delivered[0],
        x.released[0],
        x.cf_log[0],
        p.world[0],
        p.faction[0],
        p.mediator[0],
        p.spoiler[0],
        p.item_due_days[0],
        p.item_prisoners[0],
        p.item_at_talks[0],
        p.item_active[0],
        u,
        out,
        True,
    )
    assert calls == want, "the kernel's world_day does not run the stages of DAY in order"
    # Both drivers left the same world behind after that day.
    for a, b in (
        (x.ws, model.ws),
        (x.fac, model.fac),
        (x.spo, model.spo),
        (x.promise_day, model.promise_day),
        (x.cf_log, model.cf_log),
    ):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(out, model._series)


@pytest.mark.parametrize(
    "start_phase,seed,world", [("talks", 1, 2), ("ceasefire", 6, 0), ("fighting", 13, 3)]
)
def test_records_agree_day_by_day(write_scenario, start_phase, seed, world):
    """Every variable of every actor, not only the recorded series, is the same each evening in
    the kernel (a batch of four worlds) and in the Mesa model (three factions, two mediators,
    two spoilers, several concession items)."""

    def mutate(d: dict) -> None:
        d.update(start_phase=start_phase)
        # opening talks from fighting depends on pressure, which the shared parameters keep low:
        # a faster opening makes the 250 days see the phase change whatever they are
        d.setdefault("behaviour", {})["talks_open_per_day"] = 0.5

    path = write_scenario(start_phase, mutate)
    scenario = sim.load_scenario(path)
    p = build_params(scenario, 4, None)
    assert len(p.item_kind) >= 3
    x = kernel.init(p)
    streams = WorldStreams(
        seed, 0, 4, schedule.slot_count(len(p.faction_ids), len(p.spoiler_ids), len(p.item_kind))
    )
    model = NegotiationModel(scenario, rng=seed, world=world, days=250)
    phases = set()
    for day in range(250):
        kernel.step(x, p, streams.next_day(), day)
        model.step()
        for name, a, b in (
            ("world", x.ws, model.ws),
            ("factions", x.fac, model.fac),
            ("spoilers", x.spo, model.spo),
            ("promises", x.promise_day, model.promise_day),
            ("delivered", x.delivered, model.delivered),
            ("ceasefires", x.cf_log, model.cf_log),
        ):
            assert a[world].tobytes() == b[0].tobytes(), f"{name} differ on day {day}"
        phases.add(float(model.phase))
    assert len(phases) >= 2, "the comparison should see the phase change"
