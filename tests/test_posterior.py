"""The shipped posterior sample: its loader, ``behaviour="posterior"`` runs and effects across particles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.inputs.posterior import POSTERIOR_FILE, assign_particles, load_posterior, posterior_params
from sim.inputs.scenarios import CONF_DIR
from sim.inputs.schema import ScenarioError
from sim.report.effects import effects, per_particle
from sim.running.results import Results

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, df: pd.DataFrame) -> Path:
    path = tmp_path / "posterior.parquet"
    df.to_parquet(path, index=False)
    return path


GOOD = {
    "accept_per_day": [0.01, 0.02, 0.03],
    "talks_patience_days": [100.0, 200.0, 300.0],
    "particle": [0, 1, 2],
}


# --- the loader --------------------------------------------------------------------------------


def test_loader_reads_a_good_file(tmp_path):
    post = load_posterior(_write(tmp_path, pd.DataFrame(GOOD)))
    assert list(post.columns) == ["accept_per_day", "talks_patience_days", "particle"]
    assert post["particle"].tolist() == [0, 1, 2]


def test_loader_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.parquet.*negsim-calibrate"):
        load_posterior(tmp_path / "nope.parquet")


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"not_a_field": [1.0, 2.0, 3.0]}, ["'not_a_field'", "not allowed", "behaviour"]),
        ({"accept_per_day": [0.01, -0.5, 0.03]}, ["behaviour.accept_per_day", "-0.5", "particle 1"]),
        (
            {"ceasefire_attack_share": [0.2, 0.3, 1.5]},
            ["behaviour.ceasefire_attack_share", "1.5", "particle 2"],
        ),
        ({"talks_patience_days": [100.0, float("nan"), 300.0]}, ["behaviour.talks_patience_days", "nan"]),
        ({"particle": [0, 2, 1]}, ["'particle'", "0 .. 2"]),
    ],
)
def test_loader_names_a_bad_column_or_value(tmp_path, change, fragments):
    path = _write(tmp_path, pd.DataFrame({**GOOD, **change}))
    with pytest.raises(ScenarioError) as e:
        load_posterior(path)
    for f in fragments:
        assert f in str(e.value), (f, str(e.value))


# --- the particle of each world ------------------------------------------------------------------


def test_particle_assignment_does_not_depend_on_the_split():
    whole = assign_particles(50, 230, seed=11)
    parts = np.concatenate([assign_particles(50, n, 11, lo) for lo, n in ((0, 64), (64, 100), (164, 66))])
    np.testing.assert_array_equal(whole, parts)
    # a multiple of P worlds gives every particle the same number of worlds
    counts = np.bincount(assign_particles(50, 200, seed=11), minlength=50)
    assert (counts == 4).all()
    # another seed, another assignment
    assert not np.array_equal(whole, assign_particles(50, 230, seed=12))


def test_every_world_runs_with_its_particle(mini):
    post = load_posterior()
    res = sim.run(mini, worlds=70, days=30, seed=5, behaviour="posterior")
    assert res.particles is not None and len(res.particles) == 70
    names = [c for c in post.columns if c != "particle"]
    for n in names:
        np.testing.assert_array_equal(
            res.params[f"behaviour.{n}"].to_numpy(), post[n].to_numpy()[res.particles]
        )
    # and the table is what posterior_params gives
    particles, table = posterior_params(mini, 70, 5)
    np.testing.assert_array_equal(particles, res.particles)
    assert set(table.columns) == {f"behaviour.{n}" for n in names}


def test_posterior_runs_are_identical_for_any_chunking_and_workers(mini):
    kw = dict(worlds=150, days=60, seed=9, behaviour="posterior")
    a = sim.run(mini, chunk_worlds=512, **kw)
    b = sim.run(mini, chunk_worlds=64, threads=2, **kw)
    c = sim.run(mini, chunk_worlds=64, workers=2, **kw)
    for other in (b, c):
        np.testing.assert_array_equal(a.particles, other.particles)
        pd.testing.assert_frame_equal(a.worlds, other.worlds)
    # the posterior changes the worlds (a check that the parameters reach the model)
    shipped = sim.run(mini, chunk_worlds=512, worlds=150, days=60, seed=9)
    assert shipped.particles is None
    assert not a.worlds.equals(shipped.worlds)


def test_user_params_win_over_the_posterior(mini):
    user = pd.DataFrame({"behaviour.accept_per_day": np.full(40, 0.123), "state.delivery_reliability": 0.5})
    res = sim.run(mini, worlds=40, days=20, seed=1, params=user, behaviour="posterior")
    assert (res.params["behaviour.accept_per_day"] == 0.123).all()
    assert (res.params["state.delivery_reliability"] == 0.5).all()
    post = load_posterior()
    np.testing.assert_array_equal(
        res.params["behaviour.talks_patience_days"].to_numpy(),
        post["talks_patience_days"].to_numpy()[res.particles],
    )


def test_a_scenario_value_of_its_own_wins_over_the_posterior():
    s = sim.load_scenario("kabul_2022", overrides={"behaviour.accept_per_day": 0.2})
    _, table = posterior_params(s, 10, 0)
    assert "behaviour.accept_per_day" not in table.columns
    assert "behaviour.talks_patience_days" in table.columns


def test_a_bad_behaviour_value_is_named(mini):
    with pytest.raises(ScenarioError, match=r"behaviour = 'posterier'.*shipped, posterior"):
        sim.run(mini, worlds=4, days=5, behaviour="posterier")


# --- the shipped posterior -----------------------------------------------------------------------


def test_shipped_posterior_lies_in_the_calibration_priors(assert_fields_described):
    assert POSTERIOR_FILE == CONF_DIR / "posterior.parquet" and POSTERIOR_FILE.is_file()
    assert (CONF_DIR / "pinned.md").is_file()
    cfg = yaml.safe_load((CONF_DIR / "calibration.yaml").read_text())
    post = load_posterior()  # columns are behavioural fields, values inside the schema
    assert set(post.columns) == set(cfg["parameters"]) | {"particle"}
    assert 2 <= len(post) <= cfg["posterior_particles"]
    for name, spec in cfg["parameters"].items():
        assert post[name].between(spec["lo"], spec["hi"]).all(), name
    assert_fields_described(POSTERIOR_FILE)
    import pyarrow.parquet as pq

    meta = pq.read_schema(POSTERIOR_FILE).field("accept_per_day").metadata
    assert b"seed" in meta[b"source"] and b"sim.cli.calibrate" in meta[b"source"]


# --- effects across particles ---------------------------------------------------------------------


def _results(worlds: pd.DataFrame, particles) -> Results:
    return Results(
        worlds=worlds, timeseries=None, scenario="t", seed=0, days=365, particles=np.asarray(particles)
    )


def _worlds(days, censored, attacks) -> pd.DataFrame:
    days = np.asarray(days, dtype=float)
    return pd.DataFrame(
        {
            "ceasefire_reached": ~np.isnan(days),
            "ceasefire_days": np.nan_to_num(days),
            "ceasefire_censored": np.asarray(censored, dtype=bool),
            "ttp_attacks": np.asarray(attacks, dtype=float),
        }
    )


def test_effects_against_a_known_answer():
    # three particles of four worlds each; the alternative adds 10 * (k + 1) days and
    # 2 * (k + 1) attacks to particle k's worlds
    particles = np.repeat([0, 1, 2], 4)
    base_days = np.array([50, 60, 100, 120] * 3, dtype=float)
    base_attacks = np.arange(12, dtype=float)
    base = _worlds(base_days, [False] * 12, base_attacks)
    add = 10.0 * (particles + 1)
    alt = _worlds(base_days + add, [False] * 12, base_attacks + 2.0 * (particles + 1))
    table = effects(_results(base, particles), _results(alt, particles)).set_index("measure")
    # median days 80 in the base; + 10, 20, 30 per particle: median 20, 90% interval 11-29
    row = table.loc["ceasefire_days_median"]
    assert row["base"] == 80 and row["effect"] == 20
    assert row["effect_lo"] == pytest.approx(11) and row["effect_hi"] == pytest.approx(29)
    assert row["particles"] == 3 and row["worlds_per_particle"] == 4
    # survival past 90 days: base 2/4 for every particle; only particle 2's + 30 days lifts one
    # more world (60 -> 90) over the line: differences 0, 0, 0.25
    surv = table.loc["survives_90_days"]
    assert surv["base"] == 0.5
    assert surv["effect_lo"] == pytest.approx(0.0) and surv["effect_hi"] == pytest.approx(0.225)
    att = table.loc["ttp_attacks_mean"]
    assert att["effect"] == pytest.approx(4.0)
    assert att["effect_lo"] == pytest.approx(2.2) and att["effect_hi"] == pytest.approx(5.8)


def test_survival_handles_censoring():
    # Kaplan-Meier: 5 at risk, one ends on day 20 (4/5); one censored on day 30; 3 at risk, one
    # ends on day 40 (x 2/3); the one censored on day 120 has survived: 8/15 (neither 2/4, dropping
    # the censored, nor 2/5, counting it as ended)
    w = _worlds([120, 30, 200, 40, 20], [True, True, False, False, False], [0] * 5)
    table = per_particle(w, np.zeros(5, int))
    assert table.loc[0, "survives_90_days"] == pytest.approx(8 / 15)
    assert table.loc[0, "ceasefire_days_median"] == pytest.approx(40)


def test_effects_refuse_unpaired_runs():
    w = _worlds([10, 20], [False, False], [1, 2])
    with pytest.raises(ValueError, match="not paired"):
        effects(_results(w, [0, 1]), _results(w, [1, 0]))
    with pytest.raises(ValueError, match="behaviour='posterior'"):
        effects(Results(worlds=w, timeseries=None, scenario="t", seed=0, days=9), _results(w, [0, 1]))


def test_paired_posterior_runs_give_effects(mini):
    base = sim.run(mini, worlds=60, days=120, seed=3, behaviour="posterior")
    same = sim.run(mini, worlds=60, days=120, seed=3, behaviour="posterior")
    table = effects(base, same)
    # a run against itself: no effect in any particle
    assert (table[["effect", "effect_lo", "effect_hi"]].fillna(0) == 0).all().all()
    # 60 worlds over a few hundred particles: one world for each particle that has any
    assert table["worlds_per_particle"].iloc[0] == 1


# --- the command line ----------------------------------------------------------------------------


def test_command_line_runs_the_posterior(tmp_path, assert_fields_described):
    from test_cli import SMALL, ok, run_cli

    run_dir = tmp_path / "run"
    ok(
        run_cli(
            ["scenario=kabul_2022", *SMALL, "behaviour=posterior", "seed=4", f"hydra.run.dir={run_dir}"],
            tmp_path,
        )
    )
    table = pd.read_parquet(run_dir / "particles.parquet")
    assert table["world"].tolist() == list(range(64))
    np.testing.assert_array_equal(
        table["particle"].to_numpy(), assign_particles(len(load_posterior()), 64, 4)
    )
    assert_fields_described(run_dir / "particles.parquet")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["behaviour"] == "posterior" and "particles.parquet" in manifest["files"]
    # the same run with the shipped set: another config hash, no particles file
    shipped = tmp_path / "shipped"
    ok(run_cli(["scenario=kabul_2022", *SMALL, "seed=4", f"hydra.run.dir={shipped}"], tmp_path))
    assert not (shipped / "particles.parquet").exists()
    assert json.loads((shipped / "manifest.json").read_text())["config_hash"] != manifest["config_hash"]
    bad = run_cli(
        ["scenario=kabul_2022", *SMALL, "behaviour=best", f"hydra.run.dir={tmp_path / 'bad'}"], tmp_path
    )
    assert bad.returncode == 2 and "behaviour" in bad.stderr and "posterior" in bad.stderr


def test_command_line_names_a_missing_posterior(tmp_path):
    """A missing posterior sample is a message naming the file and the command that writes it,
    with exit status 2, not a traceback (the file is moved aside in this process only)."""
    script = (
        "import sim.inputs.posterior as P, pathlib\n"
        f"P.POSTERIOR_FILE = pathlib.Path({str(tmp_path / 'gone.parquet')!r})\n"
        "from sim.cli.run import main\n"
        f"main(['scenario=kabul_2022', 'worlds=20', 'days=10', 'plots=false', 'behaviour=posterior', "
        f"'hydra.run.dir={tmp_path / 'run'}'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "gone.parquet" in out.stderr and "negsim-calibrate" in out.stderr
    assert "Traceback" not in out.stderr
