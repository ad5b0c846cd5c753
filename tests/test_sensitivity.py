"""Morris screening (sim/explore/sensitivity.py): the rule on a toy function with a known answer,
the screening ranges, the quick command's outputs, bad arguments, and the calibration config
against the committed screening (results/sensitivity/sensitivity.csv)."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.explore import sensitivity as S
from sim.inputs.schema import Behaviour

ROOT = Path(__file__).resolve().parents[1]
FIELDS = [f.name for f in dataclasses.fields(Behaviour)]
CALIBRATION = yaml.safe_load((ROOT / "conf" / "calibration.yaml").read_text())


# --- the screening rule on a toy function -----------------------------------------------------


def _toy(noise: float, seed: int = 3):
    """y0 = 4 * matters + 0.1 * weak (+ noise); y1 = noise only. ``nothing`` is never read."""
    noise_rng = np.random.default_rng(seed)

    def outputs(z: np.ndarray) -> np.ndarray:
        e = noise * noise_rng.standard_normal((len(z), 2))
        return np.column_stack([4.0 * z[:, 0] + 0.1 * z[:, 2] + e[:, 0], e[:, 1]])

    return outputs


def test_toy_without_noise_gives_the_exact_elementary_effects():
    t = S.screen(_toy(0.0), ["matters", "nothing", "weak"], ["y0", "y1"], 20, np.random.default_rng(1))
    y0 = t[t["output"] == "y0"].set_index("parameter")
    assert y0.loc["matters", "mu_star"] == pytest.approx(4.0)
    assert y0.loc["weak", "mu_star"] == pytest.approx(0.1)
    assert y0.loc["nothing", "mu_star"] == 0.0 and y0.loc[S.DUMMY, "mu_star"] == 0.0
    assert y0.loc["matters", "mu_star_scaled"] == pytest.approx(1.0)
    assert y0.loc["weak", "mu_star_scaled"] == pytest.approx(0.025)
    # identified: only the parameter that matters (weak is below MIN_SCALED of the largest effect)
    assert y0.index[y0["identified"]].tolist() == ["matters"]
    assert not t.loc[t["output"] == "y1", "identified"].any()


def test_toy_with_noise_tells_the_effect_from_the_noise():
    t = S.screen(_toy(0.3), ["matters", "nothing", "weak"], ["y0", "y1"], 40, np.random.default_rng(2))
    y0 = t[t["output"] == "y0"].set_index("parameter")
    assert y0.loc["matters", "identified"]
    assert not y0.loc["nothing", "identified"]
    # what does nothing has the dummy's mu*, within the intervals of both
    gap = abs(y0.loc["nothing", "mu_star"] - y0.loc[S.DUMMY, "mu_star"])
    assert gap < y0.loc["nothing", "mu_star_conf"] + y0.loc[S.DUMMY, "mu_star_conf"]
    # an output that is noise only identifies nothing, however the fraction of its largest mu* falls
    assert not t.loc[t["output"] == "y1", "identified"].any()


def test_screening_is_reproducible_from_its_generator():
    a = S.screen(_toy(0.3), ["a", "b", "c"], ["y0", "y1"], 6, np.random.default_rng(5))
    b = S.screen(_toy(0.3), ["a", "b", "c"], ["y0", "y1"], 6, np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)


# --- ranges --------------------------------------------------------------------------------------


def test_ranges_cover_every_field_inside_the_schema_bounds():
    r = S.screening_ranges(CALIBRATION["parameters"])
    assert r.names == FIELDS
    fields = {f.name: f for f in dataclasses.fields(Behaviour)}
    for j, name in enumerate(r.names):
        f = fields[name]
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        assert lo <= r.lo[j] < r.hi[j] <= hi, name
        assert r.lo[j] <= f.default <= r.hi[j] or name in CALIBRATION["parameters"], name
        if r.log[j]:
            assert r.lo[j] > 0, name
        prior = CALIBRATION["parameters"].get(name)
        if prior is not None:
            assert (r.lo[j], r.hi[j]) == (prior["lo"], prior["hi"]) and r.log[j] == (prior["scale"] == "log")


def test_default_range_rules():
    fields = {f.name: f for f in dataclasses.fields(Behaviour)}
    lo, hi, log, _ = S.default_range(fields["regroup_per_day"])  # a rate: /3 to x3, log
    assert (lo, hi, log) == (pytest.approx(0.004 / 3), pytest.approx(0.012), True)
    lo, hi, log, _ = S.default_range(fields["ceasefire_coercion_share"])  # share 0.15: clipped at 0
    assert (lo, hi, log) == (0.0, pytest.approx(0.45), False)
    lo, hi, log, _ = S.default_range(fields["demand_share"])  # bounds 0.01-5: not a share in [0, 1]
    assert log and (lo, hi) == (pytest.approx(0.2 / 3), pytest.approx(0.6))


# --- the command -------------------------------------------------------------------------------


def test_quick_command_writes_every_field_and_pattern(tmp_path, capsys):
    from sim.cli.sensitivity import main
    from sim.explore.calibration import fitted_patterns, load_config

    out = tmp_path / "sens"
    assert main(["--quick", "--out", str(out)]) == 0
    t = pd.read_csv(out / "sensitivity.csv")
    patterns = [p.id for p in fitted_patterns(load_config(False, []))[0]]
    assert set(t["parameter"]) == set(FIELDS) | {S.DUMMY}
    assert set(t["pattern"]) == set(patterns)
    assert len(t) == (len(FIELDS) + 1) * len(patterns)
    assert t[["mu_star", "sigma", "mu_star_scaled"]].notna().all().all()
    real = t[t["parameter"] != S.DUMMY]
    # scaled by the largest real parameter of each pattern: 1 at the top (the dummy may exceed it)
    assert real.groupby("pattern")["mu_star_scaled"].max().round(9).isin([0.0, 1.0]).all()
    assert not t.loc[t["parameter"] == S.DUMMY, "identified"].any()
    assert not t.loc[~t["fitted"], "identified"].any()
    md = (out / "sensitivity.md").read_text()
    for name in FIELDS:
        assert f"`{name}`" in md
    assert "python -m sim.cli.sensitivity --quick" in md and "seed 20221108" in md
    v = pd.read_csv(out / "verdict.csv")
    assert v["parameter"].tolist() == FIELDS
    assert (out / "sensitivity.png").stat().st_size > 1000
    assert "parameters identified" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--trajectories", "1"], "--trajectories 1"),
        (["--worlds", "0"], "--worlds 0"),
        (["--worlds", "many"], "--worlds"),
    ],
)
def test_bad_arguments_are_named(argv, named, tmp_path, capsys):
    from sim.cli.sensitivity import main

    with pytest.raises(SystemExit) as e:
        main([*argv, "--out", str(tmp_path)])
    assert e.value.code == 2
    assert named in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_run_names_a_bad_budget():
    with pytest.raises(S.SensitivityError, match=r"trajectories = 1 is not allowed"):
        S.run(1, 4, 0, print)
    with pytest.raises(S.SensitivityError, match=r"worlds = 0 is not allowed"):
        S.run(4, 0, 0, print)


# --- the calibration config follows the committed screening -----------------------------------


def test_calibration_frees_what_the_screening_identifies_and_names_the_rest():
    t = pd.read_csv(ROOT / "results" / "sensitivity" / "sensitivity.csv")
    identified = set(t.loc[t["identified"], "parameter"])
    freed = set(CALIBRATION["parameters"])
    assert identified - set(S.FROM_SEEDS) <= freed
    # every field left fixed is listed, with its reason, in the comment block of calibration.yaml
    text = (ROOT / "conf" / "calibration.yaml").read_text()
    for name in sorted(set(FIELDS) - freed):
        assert re.search(rf"^#\s+{name}:\s+\S", text, flags=re.M), f"{name} is not listed with a reason"
    assert not math.isnan(t["mu_star"].max())
