"""Validation and calibration: the pass/fail rule on cases with a known answer, every scenario
loads and runs, every pattern can be computed, the report and the quick calibration write their
outputs, and the shipped parameter set is the one scenarios read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.inputs.scenarios import BEHAVIOUR_FILE
from sim.report import patterns as V
from sim.running.results import Results

ROOT = Path(__file__).resolve().parents[1]


# --- the pass rule ----------------------------------------------------------------------------


def test_inside_rule():
    assert V.inside((50, 50), (19, 365))
    assert not V.inside((50, 50), (60, 365))
    assert V.inside((1, 365), (300, 900))  # a bound: part of the range inside
    assert not V.inside((1, 365), (400, 900))
    assert V.inside((100, np.inf), (50, 120))
    assert not V.inside((100, np.inf), (50, 99))
    assert V.inside((0.5, 1.0), (0.45, 0.55))
    assert not V.inside((0.5, 1.0), (0.40, 0.49))
    assert not V.inside((1, 2), (np.nan, np.nan))


def _constructed_run(durations, causes=None, days=365) -> V.EpisodeRun:
    """An episode run built from a hand-made Results table (not simulated)."""
    n = len(durations)
    worlds = pd.DataFrame(
        {
            "world": np.arange(n),
            "ceasefire_reached": True,
            "days_to_ceasefire": 0.0,
            "ceasefire_days": np.asarray(durations, float),
            "ceasefire_censored": np.asarray(durations) >= days,
            "collapse_cause": pd.Categorical(
                causes if causes is not None else ["faction_violation"] * n,
                categories=[c.name for c in sim.CollapseCause],
            ),
        }
    )
    res = Results(worlds=worlds, timeseries=None, scenario="shakai_2004", seed=0, days=days)
    return V.EpisodeRun("shakai_2004", sim.load_scenario("shakai_2004"), days, res.worlds)


def _pattern(pid: str) -> V.Pattern:
    return next(p for p in V.build_patterns() if p.id == pid)


def test_value_pattern_known_answer():
    """Durations 1..100: the 90% interval is 5.95-95.05, so 50 days is inside and a pattern
    observed at 50 passes; with durations 101..200 it fails."""
    p = _pattern("shakai_2004.ceasefire_days")
    assert p.observed == (50, 50)
    ok = V.evaluate(p, {"shakai_2004": _constructed_run(np.arange(1, 101))})
    assert ok.passed is True
    assert ok.median == pytest.approx(50.5)
    assert ok.i90 == pytest.approx((5.95, 95.05))
    assert ok.i50 == pytest.approx((25.75, 75.25))
    bad = V.evaluate(p, {"shakai_2004": _constructed_run(np.arange(101, 201))})
    assert bad.passed is False


def test_event_and_share_known_answers():
    event = V.Pattern(
        "x.e", "x", "event", "event", (V.EVENT_MIN_PROBABILITY, 1.0), "", "", per_world=lambda r: r
    )
    rng = np.random.default_rng(0)
    # 0 of 1000: the exact 90% interval tops out near 0.003 < 0.05: the event is a tail event
    assert V.judge(event, np.zeros(1000), rng).passed is False
    # 60 of 1000 (6%): inside
    assert V.judge(event, np.r_[np.ones(60), np.zeros(940)], rng).passed is True
    share = V.Pattern("x.s", "x", "most", "share", (0.5, 1.0), "", "", per_world=lambda r: r)
    assert V.judge(share, np.r_[np.ones(400), np.zeros(600)], rng).passed is False
    o = V.judge(share, np.r_[np.ones(600), np.zeros(400)], rng)
    assert o.passed is True and o.median == pytest.approx(0.6)
    assert o.i90[0] < 0.6 < o.i90[1] and o.i50[0] > o.i90[0]
    # NaN worlds are left out
    assert V.judge(share, np.r_[np.ones(600), np.full(500, np.nan), np.zeros(400)], rng).n == 1000


def test_relation_known_answer():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    rel = V.Pattern(
        "x.r",
        "x",
        "corr",
        "relation",
        (1e-9, 1.0),
        "",
        "",
        per_world=lambda r: r,
        reduce=lambda a: V._spearman(a),
    )
    up = V.judge(rel, np.column_stack([x, x + rng.normal(size=400)]), rng, resamples=200)
    down = V.judge(rel, np.column_stack([x, -x + rng.normal(size=400)]), rng, resamples=200)
    assert up.passed is True and up.i90[0] > 0
    assert down.passed is False and down.i90[1] < 0


def test_lead_of_first_cause():
    codes = np.array([[0], [0], [0], [1], [2], [np.nan]])
    assert V._lead_of_first(codes) == pytest.approx(3 / 5 - 1 / 5)


def test_report_marks_failures():
    from sim.report.skill import score_table
    from sim.report.validation import ReportData, report_markdown

    p = _pattern("shakai_2004.ceasefire_days")
    runs = {"shakai_2004": _constructed_run(np.arange(101, 201))}
    outs = [V.evaluate(p, runs)]
    data = ReportData(outs, runs, score_table(runs, [p]), command="test", behaviour_note="")
    text = report_markdown(data, explanations={p.id: "Because of a test."})
    assert "0 of 1 patterns" in text and "**NO**" in text and "Because of a test." in text
    assert "Not run in this report" in text  # no out-of-sample table was given


def test_per_draw_reduction():
    p = _pattern("shakai_2004.ceasefire_days")
    x = np.array([1, 2, 3, np.nan, 10, 20, np.nan, np.nan])
    assert V.per_draw(p, x, 2) == pytest.approx([2.0, 15.0])
    assert np.isnan(V.per_draw(p, np.array([1.0, np.nan, np.nan, np.nan]), 2)[1])
    assert V.discrepancy(np.array([0.0, 5.0, 12.0]), (2.0, 10.0)) == pytest.approx([2, 0, 2])


def test_period_bounds():
    import datetime as dt

    assert V.period_bounds("2021-01/2021-02") == (dt.date(2021, 1, 1), dt.date(2021, 2, 28))
    assert V.period_bounds("2022-07") == (dt.date(2022, 7, 1), dt.date(2022, 7, 31))
    assert V.period_bounds("2021") == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert V.period_bounds("2021-02-12/2021-02-19") == (dt.date(2021, 2, 12), dt.date(2021, 2, 19))


# --- every scenario loads and runs; every pattern evaluates -----------------------------------


@pytest.mark.parametrize("name", sim.scenario_names())
def test_every_scenario_loads_and_runs(name):
    s = sim.load_scenario(name)
    res = sim.run(s, worlds=6, days=120, seed=3)
    assert len(res.worlds) == 6
    assert res.worlds["ttp_attacks"].ge(0).all()


def test_every_episode_and_counterfactual_is_covered():
    assert set(V.EPISODES) | set(V.COUNTERFACTUALS) == set(sim.scenario_names())


def test_every_observed_key_is_accounted_for():
    ids = {p.id for p in V.build_patterns()}
    for name in V.EPISODES:
        keys = set(V._observed(name))
        assert keys == set(V.KEY_COVERAGE[name]), name
        for text in V.KEY_COVERAGE[name].values():
            named = [t.strip().split(" ")[0] for t in text.split(",") if "." in t.split(" ")[0]]
            assert text.startswith("not") or any(n in ids for n in named), text


def test_every_pattern_evaluates_on_a_small_run():
    runs = V.run_episodes(worlds=40, seed=5)
    outs = V.evaluate_all(runs, seed=5, resamples=50)
    assert len(outs) == len(V.build_patterns())
    for o in outs:
        assert o.passed in (True, False, None)
        if o.n:
            assert o.i90[0] <= o.i50[0] + 1e-9 and o.i50[1] <= o.i90[1] + 1e-9, o.pattern.id


def test_validate_command_writes_report(tmp_path):
    from sim.cli.validate import main

    args = ["--worlds", "40", "--seed", "2", "--out", str(tmp_path), "--no-counterfactuals"]
    assert main(args + ["--out-of-sample", "quick"]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "| pattern | kind | observed" in text and "inside 90%?" in text and "informative?" in text
    # the report leads with the out-of-sample skill, before the in-sample rows
    assert text.index("## Out of sample") < text.index("## In sample") < text.index("| pattern | kind")
    assert "leave one out" in text and "time split" in text
    oos = pd.read_csv(tmp_path / "out_of_sample.csv")
    assert oos["fold"].nunique() == len(V.EPISODES) + 1
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert set(scores["pattern"]) <= {p.id for p in V.build_patterns() if not p.not_a_test}
    assert (tmp_path / "summary.png").stat().st_size > 1000
    assert all((tmp_path / f"{e}.png").is_file() for e in V.EPISODES)
    table = pd.read_csv(tmp_path / "patterns.csv")
    assert set(table["pattern"]) == {p.id for p in V.build_patterns()}


# --- calibration ------------------------------------------------------------------------------


def _run_quick(out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "sim.cli.calibrate", "--quick", "--out", str(out)],
        check=True,
        cwd=out.parent,
        capture_output=True,
        text=True,
    )


def test_calibration_names_a_bad_setting(tmp_path, capsys):
    from sim.cli.calibrate import main

    status = main(
        [
            "--quick",
            "--out",
            str(tmp_path / "c"),
            "parameters.nonsense_rate.lo=0.1",
            "parameters.nonsense_rate.hi=0.2",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "parameters.nonsense_rate" in err and "not a field" in err and "Traceback" not in err
    assert not (tmp_path / "c" / "behaviour.yaml").exists()


def test_quick_calibration_end_to_end(tmp_path):
    shipped = BEHAVIOUR_FILE.read_bytes() if BEHAVIOUR_FILE.is_file() else None
    a, b = tmp_path / "a", tmp_path / "b"
    _run_quick(a)
    for f in (
        "particles.parquet",
        "posterior.parquet",
        "pinned.csv",
        "pinned.md",
        "generations.csv",
        "selection.csv",
        "behaviour.yaml",
        "run.json",
    ):
        assert (a / f).is_file(), f
    post = pd.read_parquet(a / "particles.parquet")
    cfg = yaml.safe_load((ROOT / "conf" / "calibration.yaml").read_text())
    assert set(cfg["parameters"]) <= set(post.columns)
    assert post["weight"].sum() == pytest.approx(1.0)
    for name, spec in cfg["parameters"].items():
        assert post[name].between(spec["lo"], spec["hi"]).all(), name
    pinned = pd.read_csv(a / "pinned.csv")
    assert list(pinned["parameter"]) == list(cfg["parameters"])
    assert pinned["width_ratio"].between(0, 1.2).all()
    values = yaml.safe_load((a / "behaviour.yaml").read_text())["behaviour"]
    # only the calibrated (and fixed) values: every other default lives in the schema alone
    assert set(values) == set(cfg["parameters"]) | set(cfg.get("fixed") or {})
    sim.load_scenario("kabul_2022", overrides={f"behaviour.{k}": v for k, v in values.items()})
    # the shipped set is untouched by --quick, and the run is deterministic for its seed
    assert (BEHAVIOUR_FILE.read_bytes() if BEHAVIOUR_FILE.is_file() else None) == shipped
    _run_quick(b)
    assert (a / "behaviour.yaml").read_text() == (b / "behaviour.yaml").read_text()
    pd.testing.assert_frame_equal(post, pd.read_parquet(b / "particles.parquet"))
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "posterior.parquet"), pd.read_parquet(b / "posterior.parquet")
    )


def test_shipped_behaviour_is_read_by_scenarios():
    assert BEHAVIOUR_FILE.is_file(), "conf/behaviour.yaml (written by the calibration) is missing"
    text = BEHAVIOUR_FILE.read_text()
    # the file names the command that wrote it
    assert "python -m sim.cli.calibrate" in text
    assert "seed" in text
    values = yaml.safe_load(text)["behaviour"]
    s = sim.load_scenario("ceasefire_2021")
    for k, v in values.items():
        assert getattr(s.behaviour, k) == pytest.approx(v), k


def test_counterfactual_effects_come_with_credible_intervals():
    from sim.report.validation import counterfactual_effects

    cf = counterfactual_effects(2, seed=3)
    assert set(cf) == set(V.COUNTERFACTUALS)
    for name, t in cf.items():
        assert list(t["measure"]) == ["ceasefire_days_median", "survives_90_days", "ttp_attacks_mean"]
        assert (t["worlds_per_particle"] == 2).all(), name
        ok = t.dropna(subset=["effect"])
        assert len(ok) >= 2, name
        assert (ok["effect_lo"] <= ok["effect"] + 1e-9).all() and (
            ok["effect"] <= ok["effect_hi"] + 1e-9
        ).all()


def test_python_m_sim_validate_is_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "sim.validate", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--out-of-sample" in out and "--behaviour" in out
    bad = subprocess.run(
        [sys.executable, "-m", "sim.validate", "--out-of-sample", "huge"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "invalid choice: 'huge'" in bad.stderr and "Traceback" not in bad.stderr


def test_duration_widths_cut_open_intervals_at_the_horizon():
    from types import SimpleNamespace

    from sim.report.validation import duration_widths

    pats = {p.id: p for p in V.build_patterns()}
    shakai = V.Outcome(pats["shakai_2004.ceasefire_days"], 94.0, (37.0, 344.0), (7.0, np.inf), 2000, True)
    wazir = V.Outcome(pats["waziristan_2006.ceasefire_days"], 76.0, (32.0, 171.0), (0.5, 595.0), 2000, True)
    other = V.Outcome(pats["swat_2008.deal_failed"], 0.9, (0.9, 0.9), (0.8, 0.95), 2000, True)
    runs = {"shakai_2004": SimpleNamespace(days=365), "waziristan_2006": SimpleNamespace(days=731)}
    w = duration_widths([shakai, wazir, other], runs).set_index("pattern")
    assert list(w.index) == ["shakai_2004.ceasefire_days", "waziristan_2006.ceasefire_days"]
    assert w.loc["shakai_2004.ceasefire_days", "open"]
    assert w.loc["shakai_2004.ceasefire_days", "width_log_days"] == pytest.approx(np.log(365 / 7))
    assert not w.loc["waziristan_2006.ceasefire_days", "open"]
    assert w.loc["waziristan_2006.ceasefire_days", "width_log_days"] == pytest.approx(np.log(595.0))
