"""Tables fit for analysis: counts are whole numbers of an integer type in every table (a count
made of tranche shares is rounded to the whole it stands for), headline figures are rounded,
a day's count in the Mesa model's records never shares a name with a per-world total, and the
collapse causes read the same in the printed summary and the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.core import registry
from sim.running.results import describe


@pytest.fixture(scope="module")
def thirds():
    """32 prisoners in three tranches (shares of 32/3), every promise kept on time."""
    s = sim.load_scenario(
        "kabul_2022",
        {"state.offer.release_tranche_count": 3, "state.delivery_reliability": 1.0},
    )
    return sim.run(s, worlds=200, days=200, seed=4, record="monthly")


def test_counts_are_whole_numbers_of_an_integer_type(thirds):
    w, ts = thirds.worlds, thirds.timeseries
    for c in ("prisoners_released", "prisoners_promised", "ttp_attacks", "spoiler_attacks"):
        assert w[c].dtype == np.int64, c
    for c in ("ttp_attacks", "spoiler_attacks", "prisoners_released", "factions_in_umbrella"):
        assert ts[c].dtype == np.int64, c
    # Whole tranches of 32/3 add up to 32 exactly, not 31.999999999999993.
    assert set(w["prisoners_released"]) <= {0, 11, 21, 32} and (w["prisoners_released"] == 32).any()
    last = ts.sort_values("month").groupby("world")["prisoners_released"].last()
    assert (last.to_numpy() == w.set_index("world").loc[last.index, "prisoners_released"].to_numpy()).all()


def test_daily_series_counts_are_integers():
    ts = sim.run("kabul_2022", worlds=20, days=40, seed=1, record="daily").timeseries
    for c in registry.series():
        if c.kind is registry.WHOLE:
            assert ts[c.name].dtype == np.int64, c.name


def test_summary_is_rounded(thirds):
    summary = thirds.summary()
    for key, value in summary.items():
        if isinstance(value, float) and value == value:
            decimals = 4 if "share" in key else 1
            assert round(value, decimals) == value, (key, value)
    for value in summary["collapse_causes"].values():
        assert round(value, 4) == value


def test_mesa_records_of_a_day_never_share_a_name_with_a_world_total():
    model = sim.NegotiationModel("kabul_2022", rng=2, days=3)
    for _ in range(3):
        model.step()
    hist = model.history()
    assert "ttp_attacks_today" in hist.columns and "ttp_attacks" not in hist.columns
    day_counts = [registry.record_name(c) for c in registry.series() if c.monthly is registry.Monthly.SUM]
    assert day_counts and not set(day_counts) & set(sim.OUTCOME_COLUMNS)
    assert hist["ttp_attacks_today"].dtype == np.int64


def test_collapse_causes_read_as_in_the_figures(thirds):
    text = describe(thirds.summary(), "kabul_2022")
    causes = thirds.summary()["collapse_causes"]
    top = max(causes, key=causes.get)
    assert registry.CAUSE_LABELS[top] in text
    assert top.replace("_", " ") not in text or top.replace("_", " ") == registry.CAUSE_LABELS[top]


def test_phase_is_a_category_in_the_series_tables(thirds):
    for ts in (
        thirds.timeseries,
        sim.run("kabul_2022", worlds=8, days=40, seed=1, record="daily").timeseries,
    ):
        assert isinstance(ts["phase"].dtype, pd.CategoricalDtype)
        assert list(ts["phase"].cat.categories) == ["fighting", "talks", "ceasefire"]
