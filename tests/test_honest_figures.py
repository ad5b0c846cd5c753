"""Honest figures: a distribution of a constant says its value instead of drawing one bar; a
sweep figure that pools points says so in its title; ``compare`` also writes the headline
numbers side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.report import figures
from sim.report.saved_runs import compare, pooled_note


def write_run_dir(path: Path, results) -> Path:
    """A run directory as the command line writes it (the tables ``load_run`` reads)."""
    path.mkdir(parents=True)
    results.worlds.to_parquet(path / "worlds.parquet", index=False)
    (path / "manifest.json").write_text(
        json.dumps({"scenario": results.scenario, "seed": results.seed, "days": results.days})
    )
    return path


@pytest.fixture(scope="module")
def run(mini_path):
    return sim.run(mini_path, worlds=80, days=120, seed=3)


def test_distribution_of_a_constant_shows_the_value(run):
    w = run.worlds.assign(prisoners_released=7)
    fig = figures.distributions(w, ["prisoners_released", "ttp_attacks"])
    constant, varied = fig.axes[:2]
    assert not constant.patches  # no histogram bar
    assert any("7 in every world" in t.get_text() for t in constant.texts)
    assert varied.patches


def test_pooled_sweep_figures_say_so():
    sweep = pd.DataFrame(
        {
            "state.delivery_reliability": np.repeat(np.linspace(0, 1, 10), 4),
            "mediators.a.leverage_share": np.tile([0.1, 0.5], 20),
        }
    )
    swept = list(sweep.columns)
    per_point = {str(k): g for k, g in sweep.groupby(swept)}
    assert pooled_note(sweep, swept, per_point) == ""
    by_first = {str(k): g for k, g in sweep.groupby(swept[0])}
    assert "20 points pooled into 10 groups" in pooled_note(sweep, swept, by_first)
    assert "all 20 points of the sweep pooled" in pooled_note(sweep, swept, {})
    assert pooled_note(sweep.iloc[:1], swept, {}) == ""


def test_compare_writes_the_headline_numbers_side_by_side(run, mini_path, tmp_path):
    other = sim.run(mini_path, worlds=80, days=120, seed=4)
    a, b = write_run_dir(tmp_path / "a", run), write_run_dir(tmp_path / "b", other)
    written = compare([a, b], tmp_path / "cmp", labels=["first", "second"])
    table = pd.read_csv(tmp_path / "cmp" / "compare_headline.csv", index_col="number")
    assert tmp_path / "cmp" / "compare_headline.csv" in written
    assert list(table.columns) == ["first", "second"]
    assert table.loc["ceasefire_share", "first"] == run.summary()["ceasefire_share"]
    assert table.loc["ttp_attacks_median", "second"] == other.summary()["ttp_attacks_median"]


def test_quickstart_table_has_no_column_of_one_repeated_number():
    nb = json.loads(
        (Path(__file__).resolve().parents[1] / "experiments/notebooks/01_quickstart.ipynb").read_text()
    )
    cell = next(
        "".join(c["source"])
        for c in nb["cells"]
        if "survival_estimate(res.worlds, days=" in "".join(c["source"])
    )
    # The simple 90-day share is one number: printed apart, not assigned to every row of the table.
    assert "survives(res.worlds, 90)" in cell and ".assign(" not in cell
