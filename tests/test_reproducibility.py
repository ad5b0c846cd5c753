"""A world's history depends only on the scenario, its parameters, the seed and its index.

Not on the chunk size, on how many threads step the chunks, on how a run is split across
processes (``first_world``), on how many worlds share the batch, or on the parameters of the other
worlds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.core.kernel import fill_block
from sim.core.streams import BLOCK_BYTES, BLOCK_DAYS, WorldStreams

DAYS = 150


def _run(scenario, **kw):
    kw.setdefault("days", DAYS)
    return sim.run(scenario, **kw)


def test_same_seed_same_results(mini_path):
    a = _run(mini_path, worlds=150, seed=17, record="daily")
    b = _run(mini_path, worlds=150, seed=17, record="daily")
    assert_frame_equal(a.worlds, b.worlds)
    assert_frame_equal(a.timeseries, b.timeseries)


def test_loaded_scenario_and_path_give_same_results(mini_path, mini):
    assert_frame_equal(_run(mini_path, worlds=80, seed=2).worlds, _run(mini, worlds=80, seed=2).worlds)


def test_different_seeds_differ(mini_path):
    a = _run(mini_path, worlds=150, seed=17).worlds
    b = _run(mini_path, worlds=150, seed=18).worlds
    assert not a.equals(b)
    # Not just one stray number: most worlds see a different count of attacks.
    assert (a["ttp_attacks"] != b["ttp_attacks"]).mean() > 0.5
    assert (a["spoiler_attacks"] != b["spoiler_attacks"]).mean() > 0.5


def test_worlds_within_a_run_differ(mini_path):
    w = _run(mini_path, worlds=150, seed=17).worlds
    assert w["ttp_attacks"].nunique() > 10
    assert list(w["world"]) == list(range(150))


@pytest.mark.parametrize("chunk", [64, 100, 2048])
def test_chunk_size_does_not_change_results(mini_path, chunk):
    reference = _run(mini_path, worlds=300, seed=5, record="daily", chunk_worlds=1000)
    other = _run(mini_path, worlds=300, seed=5, record="daily", chunk_worlds=chunk)
    assert_frame_equal(reference.worlds, other.worlds)
    key = ["world", "day"]
    assert_frame_equal(
        reference.timeseries.sort_values(key).reset_index(drop=True),
        other.timeseries.sort_values(key).reset_index(drop=True),
    )


@pytest.mark.parametrize("chunk", [64, 100])
def test_chunk_size_does_not_change_timeseries_row_order(mini_path, chunk):
    """``chunk_worlds`` is documented as "memory and speed only; results are identical", so the
    recorded table must come back in the same row order too (a row-position lookup such as
    ``ts.iloc[day * worlds + world]`` is otherwise silently wrong)."""
    reference = _run(mini_path, worlds=130, seed=5, days=20, record="daily", chunk_worlds=1000)
    other = _run(mini_path, worlds=130, seed=5, days=20, record="daily", chunk_worlds=chunk)
    assert_frame_equal(reference.timeseries[["world", "day"]], other.timeseries[["world", "day"]])


@pytest.mark.parametrize("split,chunk", [(150, 2048), (70, 64), (130, 100)])
def test_split_with_first_world_equals_one_run(mini_path, split, chunk):
    total = 300
    whole = _run(mini_path, worlds=total, seed=9, record="daily")
    head = _run(mini_path, worlds=split, seed=9, record="daily", chunk_worlds=chunk)
    tail = _run(
        mini_path, worlds=total - split, seed=9, record="daily", chunk_worlds=chunk, first_world=split
    )
    assert list(tail.worlds["world"]) == list(range(split, total))
    joined = pd.concat([head.worlds, tail.worlds], ignore_index=True)
    assert_frame_equal(whole.worlds, joined)
    ts = pd.concat([head.timeseries, tail.timeseries], ignore_index=True)
    key = ["world", "day"]
    assert_frame_equal(
        whole.timeseries.sort_values(key).reset_index(drop=True), ts.sort_values(key).reset_index(drop=True)
    )


@pytest.mark.parametrize("workers", [2])
def test_worker_processes_do_not_change_results(mini_path, workers):
    one = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64)
    many = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64, workers=workers)
    assert_frame_equal(one.worlds, many.worlds)
    assert_frame_equal(one.timeseries, many.timeseries)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_do_not_change_results(mini_path, threads):
    """Chunks stepped at once in several threads give the tables of one thread, byte for byte
    (200 worlds in chunks of 64: more chunks than threads, and a short last one)."""
    one = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64, threads=1)
    many = _run(
        mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64, threads=threads, oversubscribe=True
    )
    assert_frame_equal(one.worlds, many.worlds)
    assert_frame_equal(one.timeseries, many.timeseries)
    assert_frame_equal(one.ceasefires, many.ceasefires)


def test_threads_default_to_the_cores_unless_processes_share_the_run(monkeypatch):
    from sim.running.ensemble import cores, resolve_threads

    assert resolve_threads(None) == cores()
    assert resolve_threads(None, workers=2) == 1
    assert resolve_threads(3, workers=1) == 3
    monkeypatch.setattr(sim.running.ensemble, "_in_joblib_worker", lambda: True)
    assert resolve_threads(None) == 1


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "two"])
def test_a_bad_thread_count_is_refused_by_name(mini_path, threads):
    with pytest.raises(sim.ScenarioError, match=r"threads = .* is not allowed: expected a whole number"):
        _run(mini_path, worlds=10, threads=threads)


def test_an_error_in_a_threaded_chunk_reaches_the_caller(mini_path, monkeypatch):
    """A chunk that fails in a thread raises in the caller; the chunks not yet started are
    dropped rather than run."""
    import sim.running.ensemble

    started = []
    real = sim.running.ensemble._run_job

    def failing(job):
        started.append(job[2])
        if job[2] == 128:
            raise RuntimeError("chunk failed")
        return real(job)

    monkeypatch.setattr(sim.running.ensemble, "_run_job", failing)
    with pytest.raises(RuntimeError, match="chunk failed"):
        _run(mini_path, worlds=64 * 40, days=5, chunk_worlds=64, threads=2)
    assert len(started) < 40


@pytest.mark.parametrize("block_days", [1, 5, 32])
def test_days_drawn_per_call_do_not_change_the_numbers(block_days):
    days = 70
    reference = WorldStreams(3, 40, 130, 9, block_days=7)
    other = WorldStreams(3, 40, 130, 9, block_days=block_days)
    # A block's buffer is reused by the next block: copy each before asking for the next.
    want = np.concatenate(
        [b[:, : min(7, days - 7 * i)].copy() for i, b in enumerate(reference.blocks(days))], axis=1
    )
    got = np.concatenate(
        [b[:, : min(block_days, days - block_days * i)].copy() for i, b in enumerate(other.blocks(days))],
        axis=1,
    )
    assert want.shape == (3, days, 64, 9)
    np.testing.assert_array_equal(got, want)


def test_the_compiled_loop_draws_what_numpy_draws():
    # The kernel draws its blocks inside compiled code (fill_block): the same numbers as
    # Generator.random, block after block, so the generators stay in step.
    numpy_side = WorldStreams(3, 40, 130, 9, block_days=5)
    compiled = WorldStreams(3, 40, 130, 9, block_days=5)
    for _ in range(3):
        want = numpy_side.next_block().copy()
        fill_block(compiled.next_double, compiled.states, compiled.buffer)
        np.testing.assert_array_equal(compiled.buffer, want)


def test_a_chunk_of_many_worlds_draws_fewer_days_at_a_time():
    assert WorldStreams(0, 0, 64, 31).block_days == BLOCK_DAYS
    assert WorldStreams(0, 0, 512, 31).next_block().nbytes <= BLOCK_BYTES
    big = WorldStreams(0, 0, 2_000, 31)
    assert big.block_days < BLOCK_DAYS
    assert big.next_block().nbytes <= BLOCK_BYTES
    assert WorldStreams(0, 0, 20_000, 31).block_days == 1  # one day is more than the limit


def test_split_with_first_world_and_params(mini_path):
    total, split = 200, 90
    rng = np.random.default_rng(0)
    params = pd.DataFrame(
        {
            "state.delivery_reliability": rng.uniform(0, 1, total),
            "mediators.haqqani.leverage_share": rng.uniform(0, 1, total),
        }
    )
    whole = _run(mini_path, worlds=total, seed=3, params=params).worlds
    head = _run(mini_path, worlds=split, seed=3, params=params.iloc[:split].reset_index(drop=True))
    tail = _run(
        mini_path,
        worlds=total - split,
        seed=3,
        first_world=split,
        params=params.iloc[split:].reset_index(drop=True),
    )
    assert_frame_equal(whole, pd.concat([head.worlds, tail.worlds], ignore_index=True))


@pytest.mark.parametrize("world", [5, 64, 77])
def test_world_does_not_depend_on_batch_size(mini_path, world):
    small = _run(mini_path, worlds=world + 5, seed=31).worlds
    large = _run(mini_path, worlds=200, seed=31).worlds
    assert_frame_equal(small.iloc[[world]].reset_index(drop=True), large.iloc[[world]].reset_index(drop=True))


def test_world_5_of_10_equals_world_5_of_200(mini_path):
    small = _run(mini_path, worlds=10, seed=31, record="daily")
    large = _run(mini_path, worlds=200, seed=31, record="daily")
    assert_frame_equal(
        small.worlds.iloc[[5]].reset_index(drop=True), large.worlds.iloc[[5]].reset_index(drop=True)
    )
    ts_small = small.timeseries[small.timeseries["world"] == 5].reset_index(drop=True)
    ts_large = large.timeseries[large.timeseries["world"] == 5].reset_index(drop=True)
    assert_frame_equal(ts_small, ts_large)


@pytest.mark.parametrize(
    "column,new_value",
    [
        ("state.delivery_reliability", 0.0),
        ("factions.mehsud_central.hardline_share", 0.95),
        ("mediators.haqqani.present", False),
    ],
)
def test_changing_one_world_parameter_leaves_other_worlds_alone(mini_path, column, new_value):
    worlds = 130
    rng = np.random.default_rng(1)
    # Full delivery everywhere, so that prisoners are released (into the custody of the mediator
    # that takes custody) in most worlds and each change below has something to act on.
    params = pd.DataFrame(
        {
            "state.delivery_reliability": np.ones(worlds),
            "factions.mehsud_central.hardline_share": rng.uniform(0.2, 0.6, worlds),
            "mediators.haqqani.present": np.ones(worlds, dtype=bool),
        }
    )
    a = _run(mini_path, worlds=worlds, seed=12, params=params, record="daily")
    # Change a world of the second random-stream group in which prisoners were released.
    candidates = a.worlds.index[(a.worlds["world"] >= 64) & (a.worlds["prisoners_released"] > 0)]
    assert len(candidates) > 0, "no world released prisoners under full delivery"
    changed = int(candidates[0])
    other = params.copy()
    other.loc[changed, column] = new_value
    b = _run(mini_path, worlds=worlds, seed=12, params=other, record="daily")
    keep = a.worlds["world"] != changed
    assert_frame_equal(a.worlds[keep].reset_index(drop=True), b.worlds[keep].reset_index(drop=True))
    key = ["world", "day"]
    ts_a = a.timeseries.sort_values(key).reset_index(drop=True)
    ts_b = b.timeseries.sort_values(key).reset_index(drop=True)
    keep_ts = ts_a["world"] != changed
    assert_frame_equal(ts_a[keep_ts].reset_index(drop=True), ts_b[keep_ts].reset_index(drop=True))
    # ...while the world whose parameter changed did change (else the test proves nothing).
    assert not ts_a[~keep_ts].reset_index(drop=True).equals(ts_b[~keep_ts].reset_index(drop=True)), (
        f"changing {column} of world {changed} changed nothing"
    )
