"""A world's history depends only on the scenario, its parameters, the seed and its index.

Not on the chunk size, on how a run is split across processes (``first_world``), on how many
worlds share the batch, or on the parameters of the other worlds.
"""

from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.rng import BLOCK_BYTES, BLOCK_DAYS, WorldStreams

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
    assert_frame_equal(reference.timeseries.sort_values(key).reset_index(drop=True),
                       other.timeseries.sort_values(key).reset_index(drop=True))


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
    tail = _run(mini_path, worlds=total - split, seed=9, record="daily", chunk_worlds=chunk,
                first_world=split)
    assert list(tail.worlds["world"]) == list(range(split, total))
    joined = pd.concat([head.worlds, tail.worlds], ignore_index=True)
    assert_frame_equal(whole.worlds, joined)
    ts = pd.concat([head.timeseries, tail.timeseries], ignore_index=True)
    key = ["world", "day"]
    assert_frame_equal(whole.timeseries.sort_values(key).reset_index(drop=True),
                       ts.sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize("workers", [2])
def test_worker_processes_do_not_change_results(mini_path, workers):
    one = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64)
    many = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64, workers=workers)
    assert_frame_equal(one.worlds, many.worlds)
    assert_frame_equal(one.timeseries, many.timeseries)


def test_drawing_ahead_in_a_thread_does_not_change_results(mini_path, monkeypatch):
    """A single-process run draws the next block of random numbers in a second thread; the
    numbers, and so every table, are those of drawing them in turn. 150 days span several
    blocks, so the thread fills both buffers more than once."""
    monkeypatch.setattr(sim.ensemble, "DRAW_AHEAD", True)
    ahead = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64)
    monkeypatch.setattr(sim.ensemble, "DRAW_AHEAD", False)
    in_turn = _run(mini_path, worlds=200, seed=4, record="daily", chunk_worlds=64)
    assert_frame_equal(ahead.worlds, in_turn.worlds)
    assert_frame_equal(ahead.timeseries, in_turn.timeseries)
    assert_frame_equal(ahead.ceasefires, in_turn.ceasefires)


def _attacks_in_child(path):
    return _run(path, worlds=100, seed=4).worlds["ttp_attacks"].tolist()


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_draws_ahead_with_its_own_thread(mini_path, monkeypatch):
    """A process forked after a run inherits the parent's drawing thread's executor but not the
    thread: its runs must start a thread of their own (not wait forever) and give the parent's
    numbers."""
    monkeypatch.setattr(sim.ensemble, "DRAW_AHEAD", True)
    parent = _attacks_in_child(str(mini_path))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_attacks_in_child, (str(mini_path),)).get(timeout=300)
    assert child == parent


def test_blocks_drawn_ahead_are_the_blocks_drawn_in_turn():
    days = 5 * 32 + 3
    in_turn = [b.copy() for b in WorldStreams(8, 70, 100, 7).blocks(days)]
    ahead = [b.copy() for b in WorldStreams(8, 70, 100, 7).blocks(days, ahead=True)]
    assert len(in_turn) == len(ahead) == 6
    for a, b in zip(in_turn, ahead):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(in_turn[0], in_turn[1])


@pytest.mark.parametrize("block_days", [1, 5, 32])
def test_days_drawn_per_call_do_not_change_the_numbers(block_days):
    days = 70
    reference = WorldStreams(3, 40, 130, 9, block_days=7)
    other = WorldStreams(3, 40, 130, 9, block_days=block_days)
    # A block's buffer is reused by the next block: copy each before asking for the next.
    want = np.concatenate([b[:, : min(7, days - 7 * i)].copy()
                           for i, b in enumerate(reference.blocks(days))], axis=1)
    got = np.concatenate([b[:, : min(block_days, days - block_days * i)].copy()
                          for i, b in enumerate(other.blocks(days))], axis=1)
    assert want.shape == (3, days, 64, 9)
    np.testing.assert_array_equal(got, want)


def test_a_chunk_of_many_worlds_draws_fewer_days_at_a_time():
    assert WorldStreams(0, 0, 512, 31).block_days == BLOCK_DAYS
    big = WorldStreams(0, 0, 20_000, 31)
    assert big.block_days < BLOCK_DAYS
    assert big.next_block().nbytes <= BLOCK_BYTES


def test_split_with_first_world_and_params(mini_path):
    total, split = 200, 90
    rng = np.random.default_rng(0)
    params = pd.DataFrame({"state.delivery_reliability": rng.uniform(0, 1, total),
                           "mediators.haqqani.leverage_share": rng.uniform(0, 1, total)})
    whole = _run(mini_path, worlds=total, seed=3, params=params).worlds
    head = _run(mini_path, worlds=split, seed=3, params=params.iloc[:split].reset_index(drop=True))
    tail = _run(mini_path, worlds=total - split, seed=3, first_world=split,
                params=params.iloc[split:].reset_index(drop=True))
    assert_frame_equal(whole, pd.concat([head.worlds, tail.worlds], ignore_index=True))


@pytest.mark.parametrize("world", [5, 64, 77])
def test_world_does_not_depend_on_batch_size(mini_path, world):
    small = _run(mini_path, worlds=world + 5, seed=31).worlds
    large = _run(mini_path, worlds=200, seed=31).worlds
    assert_frame_equal(small.iloc[[world]].reset_index(drop=True),
                       large.iloc[[world]].reset_index(drop=True))


def test_world_5_of_10_equals_world_5_of_200(mini_path):
    small = _run(mini_path, worlds=10, seed=31, record="daily")
    large = _run(mini_path, worlds=200, seed=31, record="daily")
    assert_frame_equal(small.worlds.iloc[[5]].reset_index(drop=True),
                       large.worlds.iloc[[5]].reset_index(drop=True))
    ts_small = small.timeseries[small.timeseries["world"] == 5].reset_index(drop=True)
    ts_large = large.timeseries[large.timeseries["world"] == 5].reset_index(drop=True)
    assert_frame_equal(ts_small, ts_large)


@pytest.mark.parametrize("column,new_value", [
    ("state.delivery_reliability", 0.0),
    ("factions.mehsud_central.hardline_share", 0.95),
    ("mediators.haqqani.present", False),
])
def test_changing_one_world_parameter_leaves_other_worlds_alone(mini_path, column, new_value):
    worlds = 130
    rng = np.random.default_rng(1)
    # Full delivery everywhere, so that prisoners are released (into the custody of the mediator
    # that takes custody) in most worlds and each change below has something to act on.
    params = pd.DataFrame({
        "state.delivery_reliability": np.ones(worlds),
        "factions.mehsud_central.hardline_share": rng.uniform(0.2, 0.6, worlds),
        "mediators.haqqani.present": np.ones(worlds, dtype=bool),
    })
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
    assert not ts_a[~keep_ts].reset_index(drop=True).equals(ts_b[~keep_ts].reset_index(drop=True)), \
        f"changing {column} of world {changed} changed nothing"
