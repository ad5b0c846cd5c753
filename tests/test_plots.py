"""Figures, survival estimates, sweep measures, sensitivity and scenario discovery.

Every figure is made from real (small) runs of the test scenario; the estimators are checked
against known answers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim.explore import analysis
from sim.report import figures as plots
from sim.report.saved_runs import main as plot_main

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SEED = 3
WORLDS = 160
DAYS = 240


@pytest.fixture(scope="module")
def results(mini_path):
    return sim.run(mini_path, worlds=WORLDS, days=DAYS, seed=SEED, record="monthly")


@pytest.fixture(scope="module")
def sweep_table(mini_path):
    """(point, world) rows of a 3 x 2 grid over delivery reliability and mediator leverage."""
    points = analysis.grid(
        {"state.delivery_reliability": [0.2, 0.6, 1.0], "mediators.haqqani.leverage_share": [0.0, 0.6]}
    )
    return analysis.run_points(mini_path, points, worlds_per_point=20, days=DAYS, seed=SEED)


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > 5_000, f"{path} is suspiciously small ({len(data)} bytes)"


def caption(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def check_figure(
    fig: Figure, scenario: str | None = "test mini", worlds: int | None = WORLDS, seed: int | None = SEED
) -> None:
    """Title, labelled axes, a legend (or colour bar) and a caption naming run, worlds and seed."""
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert axes
    assert fig.get_suptitle() or any(ax.get_title() for ax in axes)
    for ax in axes:
        if ax.has_data():
            # Panels in a row or column may share the label of their first panel.
            assert (
                ax.get_xlabel()
                or len(ax.get_shared_x_axes().get_siblings(ax)) > 1
                or not ax.get_subplotspec().is_last_row()
            ), "no x label"
            assert ax.get_ylabel() or not ax.get_subplotspec().is_first_col(), "no y label"
    has_key = any(ax.get_legend() is not None for ax in fig.axes) or len(fig.axes) > len(axes)
    assert has_key, "no legend or colour bar"
    text = caption(fig)
    if scenario:
        assert scenario in text, text
    if worlds is not None:
        assert f"{worlds:,} worlds" in text, text
    if seed is not None:
        assert f"seed {seed}" in text, text


def render(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=60)
    assert_png(path)
    return path


# ------------------------------------------------------------------------------------------
# Known answers
# ------------------------------------------------------------------------------------------


def exponential_worlds(rate: float, n: int, horizon: float, seed: int = 0) -> pd.DataFrame:
    """A worlds-like table: first ceasefires with exponential durations, censored at a horizon."""
    rng = np.random.default_rng(seed)
    d = rng.exponential(1 / rate, n)
    censored = d >= horizon
    return pd.DataFrame(
        {
            "ceasefire_reached": True,
            "ceasefire_days": np.minimum(d, horizon),
            "ceasefire_censored": censored,
            "collapse_cause": np.where(censored, "censored", "faction_violation"),
        }
    )


def test_survival_estimate_matches_exponential():
    rate, horizon = 1 / 60, 150.0
    w = exponential_worlds(rate, 4000, horizon, seed=11)
    assert 0.05 < w["ceasefire_censored"].mean() < 0.15  # censoring really happens
    # Worlds without a ceasefire must not change the estimate.
    none = pd.DataFrame(
        {
            "ceasefire_reached": [False] * 50,
            "ceasefire_days": np.nan,
            "ceasefire_censored": False,
            "collapse_cause": "no_ceasefire",
        }
    )
    t = np.array([0.0, 10, 30, 60, 100, 140])
    est = plots.survival_estimate(pd.concat([w, none], ignore_index=True), days=t)
    assert list(est.columns) == ["days", "survival", "lo", "hi"]
    np.testing.assert_allclose(est["survival"], np.exp(-rate * t), atol=0.03)
    assert (est["lo"] <= est["survival"] + 1e-12).all() and (est["survival"] <= est["hi"] + 1e-12).all()
    inside = (est["lo"] - 0.005 <= np.exp(-rate * t)) & (np.exp(-rate * t) <= est["hi"] + 0.005)
    assert inside.all()
    assert est.attrs["ceasefires"] == 4000 and est.attrs["censored"] == w["ceasefire_censored"].sum()


def test_survival_estimate_without_censoring_is_empirical():
    w = pd.DataFrame(
        {"ceasefire_reached": True, "ceasefire_days": [5.0, 10, 10, 20], "ceasefire_censored": False}
    )
    est = plots.survival_estimate(w, days=[0, 5, 9, 10, 19, 20, 30])
    np.testing.assert_allclose(est["survival"], [1, 0.75, 0.75, 0.25, 0.25, 0, 0])
    assert plots.survival_estimate(w.assign(ceasefire_reached=False)).empty


def test_survives_on_hand_made_table():
    w = pd.DataFrame(
        {
            "ceasefire_reached": [True, True, True, True, True, False],
            "ceasefire_days": [100.0, 90, 30, 95, 20, np.nan],
            "ceasefire_censored": [False, False, False, True, True, False],
        }
    )
    # Lasted 90+: 100, 90 and the censored 95; not the ended 30 nor the censored 20.
    assert plots.survives(w, 90) == pytest.approx(3 / 5)
    assert plots.survives(w, 90, among="all") == pytest.approx(3 / 6)
    assert plots.survives(w, 91) == pytest.approx(2 / 5)
    assert plots.survives(w, 0) == pytest.approx(1.0)
    assert np.isnan(plots.survives(w[~w["ceasefire_reached"]], 90))
    with pytest.raises(ValueError, match="among"):
        plots.survives(w, 90, among="some")


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.uniform(size=(3000, 3)), columns=["a", "b", "c"])
    y = (X["a"] > 0.6) & (X["b"] < 0.4)
    d = analysis.prim(X, y.to_numpy(), bounds={k: (0.0, 1.0) for k in "abc"}, min_coverage=0.8)
    box = d.box.set_index("parameter")
    assert box.loc["a", "lo"] == pytest.approx(0.6, abs=0.05) and box.loc["a", "hi"] == 1.0
    assert box.loc["b", "hi"] == pytest.approx(0.4, abs=0.05) and box.loc["b", "lo"] == 0.0
    assert not box.loc["c", "restricted"]
    assert d.density > 0.9 and d.coverage >= 0.8
    assert d.base_density == pytest.approx(y.mean())
    text = d.describe()
    assert re.search(r"when a >= 0\.6\d* and b <= 0\.[34]\d*\. ", text), text
    assert "points inside the box" in text


# ------------------------------------------------------------------------------------------
# Figures from real runs
# ------------------------------------------------------------------------------------------


def test_standard_figures(results, tmp_path):
    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()
    paths = plots.save_standard_figures(tmp_path / "run", results)
    assert [p.name for p in paths] == [
        "survival.png",
        "distributions.png",
        "collapse_causes.png",
        "fan_chart.png",
    ]
    for p in paths:
        assert_png(p)
    assert plt.get_fignums() == open_before  # nothing left in pyplot's registry
    # Without a series there is no fan chart.
    no_series = sim.running.results.Results(
        results.worlds, None, results.scenario, results.seed, results.days
    )
    names = [p.name for p in plots.save_standard_figures(tmp_path / "run2", no_series)]
    assert "fan_chart.png" not in names and len(names) == 3


def test_each_plot(results, mini_path, tmp_path):
    check_figure(plots.survival({"mini": results}))
    check_figure(plots.distributions(results))
    check_figure(
        plots.distributions(
            results.worlds,
            columns=["ttp_attacks", "spoiler_attacks", "casualties", "splits", "ceasefire_days"],
            scenario="test mini",
            seed=SEED,
        )
    )
    check_figure(plots.fan_chart(results))
    check_figure(plots.collapse_causes({"mini": results}, reached_only=True))
    for name in ("survival", "distributions", "fan_chart", "collapse_causes"):
        fig = getattr(plots, name)(results if name in ("distributions", "fan_chart") else {"m": results})
        render(fig, tmp_path / f"{name}.png")


def test_overlays_of_several_runs(results, mini_path, tmp_path):
    other = sim.run(mini_path, worlds=80, days=DAYS, seed=SEED + 1)
    tables = {"mini": results, "mini again": other}
    fig = plots.survival(tables)
    check_figure(fig, worlds=None, seed=None)
    assert "80 worlds" in caption(fig) and f"{WORLDS} worlds" in caption(fig)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("mini:")
    render(fig, tmp_path / "s.png")
    fig = plots.collapse_causes(tables)
    check_figure(fig, worlds=None, seed=None)
    shares = plots.cause_shares(results.worlds)
    assert shares.sum() == pytest.approx(1.0) and list(shares.index) == plots.CAUSE_ORDER
    render(fig, tmp_path / "c.png")


def test_fan_chart_from_daily_series(mini_path, tmp_path):
    daily = sim.run(mini_path, worlds=30, days=70, seed=1, record="daily")
    monthly = plots.monthly_series(daily.timeseries)
    assert {"world", "month", "ttp_attacks", "spoiler_attacks", "ceasefire_days", "days"} <= set(
        monthly.columns
    )
    assert monthly.groupby("world")["days"].sum().eq(70).all()
    fig = plots.fan_chart(daily)
    check_figure(fig, worlds=30, seed=1)
    render(fig, tmp_path / "fan.png")


def test_sweep_response(sweep_table, tmp_path):
    x, y = "state.delivery_reliability", "mediators.haqqani.leverage_share"
    heat = plots.sweep_response(sweep_table, x, y, "survives_30")
    check_figure(heat, worlds=120)
    ax = heat.axes[0]
    assert "delivery_reliability" in ax.get_xlabel() and "share" in ax.get_xlabel()
    assert any("lasting 30+ days" in a.get_ylabel() for a in heat.axes)  # colour bar label
    render(heat, tmp_path / "heat.png")
    for outcome in ("ttp_attacks", "survives_30", "ceasefire_reached"):
        fig = plots.sweep_response(sweep_table, x, outcome=outcome)
        check_figure(fig, worlds=120)
        render(fig, tmp_path / f"line_{outcome}.png")
    fig = plots.sweep_response(sweep_table, y, outcome=lambda g: plots.survives(g, 30))
    check_figure(fig, worlds=120)
    # The heatmap's cells are the per-point shares.
    by_point = sweep_table.groupby([y, x]).apply(lambda g: plots.survives(g, 30), include_groups=False)
    mesh = heat.axes[0].collections[0].get_array()
    np.testing.assert_allclose(np.asarray(mesh).reshape(-1), by_point.to_numpy())
    # A sampled (continuous) design is binned.
    rng = np.random.default_rng(0)
    sampled = sweep_table.assign(**{x: rng.uniform(0, 1, len(sweep_table))})
    check_figure(plots.sweep_response(sampled, x, y, "ttp_attacks"), worlds=120)
    with pytest.raises(ValueError, match="not in the table"):
        plots.sweep_response(sweep_table, "state.nonsense")
    with pytest.raises(ValueError, match="not allowed"):
        plots.sweep_response(sweep_table, x, outcome="nonsense")


# ------------------------------------------------------------------------------------------
# Sensitivity and discovery
# ------------------------------------------------------------------------------------------

RANGES = {"state.delivery_reliability": (0.2, 1.0), "mediators.haqqani.leverage_share": (0.0, 0.8)}


def test_sobol_tiny_design(mini_path, tmp_path):
    df = analysis.sobol(
        mini_path,
        RANGES,
        outcomes=["ttp_attacks", "casualties"],
        n=8,
        worlds_per_point=4,
        seed=2,
        days=120,
        num_resamples=20,
    )
    assert list(df.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(df) == 4 and set(df["parameter"]) == set(RANGES)
    assert np.isfinite(df[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    assert df.attrs["points"] == 8 * (2 + 2) and df.attrs["worlds"] == 8 * 4 * 4
    fig = analysis.sobol_bar(df)
    check_figure(fig, worlds=128, seed=2)
    render(fig, tmp_path / "sobol.png")


def test_sobol_rejects_bad_ranges(mini_path):
    with pytest.raises(sim.ScenarioError, match="not a tunable field"):
        analysis.sobol(mini_path, {"state.delivery": (0, 1)}, n=8, worlds_per_point=1)
    with pytest.raises(sim.ScenarioError, match="allows"):
        analysis.sobol(mini_path, {"state.delivery_reliability": (0.5, 1.5)}, n=8, worlds_per_point=1)
    with pytest.raises(sim.ScenarioError, match="low must be below high"):
        analysis.sobol(mini_path, {"state.delivery_reliability": (0.5, 0.5)}, n=8, worlds_per_point=1)


def test_discovery_bounds_inside_ranges(mini_path, tmp_path):
    ranges = {
        **RANGES,
        "spoilers.iskp.outbidding_share": (0.0, 1.0),
        "factions.mehsud_central.fighters_count": (1000, 4000),
    }
    d = analysis.discover(mini_path, ranges, outcome="survives_60", points=300, days=DAYS, seed=4)
    box = d.box.set_index("parameter")
    assert list(box.index) == list(ranges)
    for path, (lo, hi) in ranges.items():
        assert lo <= box.loc[path, "lo"] <= box.loc[path, "hi"] <= hi
        assert (box.loc[path, "range_lo"], box.loc[path, "range_hi"]) == (lo, hi)
    table = d.meta["table"]
    assert (table["factions.mehsud_central.fighters_count"] % 1 == 0).all()  # integer field rounded
    for v in (d.coverage, d.density, d.mass, d.base_density):
        assert 0 <= v <= 1
    assert d.density >= d.base_density
    assert d.coverage >= 0.5 or d.chosen == 0
    text = d.describe()
    assert "First ceasefire lasting 60+ days" in text and "coverage" in text
    fig = analysis.discovery_plot(d)
    check_figure(fig, worlds=300, seed=4)
    render(fig, tmp_path / "prim.png")
    with pytest.raises(sim.ScenarioError, match="horizon"):
        analysis.discover(mini_path, RANGES, outcome="survives_400", points=10, days=300)
    with pytest.raises(ValueError, match="not yes/no"):
        analysis.discover(mini_path, RANGES, outcome="ttp_attacks", points=10, days=300)


# ------------------------------------------------------------------------------------------
# python -m sim.cli.figures
# ------------------------------------------------------------------------------------------


def write_run_dir(path: Path, results) -> Path:
    path.mkdir(parents=True)
    results.worlds.to_parquet(path / "worlds.parquet", index=False)
    if results.timeseries is not None:
        results.timeseries.to_parquet(path / "timeseries.parquet", index=False)
    (path / "summary.json").write_text(
        json.dumps(
            {
                "scenario": "mini_run",
                "seed": results.seed,
                "days": results.days,
                "worlds": len(results.worlds),
            }
        )
    )
    return path


def test_plot_command_run_dir_and_compare(results, mini_path, tmp_path, capsys):
    a = write_run_dir(tmp_path / "a", results)
    b = write_run_dir(tmp_path / "b", sim.run(mini_path, worlds=60, days=DAYS, seed=9))
    assert plot_main([str(a)]) == 0
    for name in ("survival.png", "distributions.png", "collapse_causes.png", "fan_chart.png"):
        assert_png(a / name)
    assert plot_main([str(b), "--out", str(tmp_path / "b_figs")]) == 0
    assert not (tmp_path / "b_figs" / "fan_chart.png").exists()  # no series saved
    assert_png(tmp_path / "b_figs" / "survival.png")
    out = tmp_path / "cmp"
    assert plot_main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert_png(out / "compare_survival.png")
    assert_png(out / "compare_collapse_causes.png")
    printed = capsys.readouterr().out
    assert "compare_survival.png" in printed


def test_plot_command_sweep(sweep_table, tmp_path):
    d = tmp_path / "sweep"
    d.mkdir()
    sweep_table.rename(columns={"point": "job"}).to_parquet(d / "sweep.parquet", index=False)
    assert plot_main([str(d), "--outcome", "survives_30"]) == 0
    for name in (
        "distributions.png",
        "survival.png",
        "collapse_causes.png",
        "response_survives_30.png",
        "response_survives_30__state_delivery_reliability.png",
        "response_survives_30__mediators_haqqani_leverage_share.png",
    ):
        assert_png(d / name)


def test_plot_command_errors(tmp_path, capsys):
    assert plot_main([str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert plot_main([str(tmp_path)]) == 2
    assert "neither worlds.parquet" in capsys.readouterr().err
    (tmp_path / "worlds.parquet").write_text("not parquet")
    assert plot_main([str(tmp_path)]) == 2
    assert "not a readable Parquet" in capsys.readouterr().err
    assert plot_main(["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # As a command: exit status 2 and no traceback.
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli.figures", str(tmp_path / "nope")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
