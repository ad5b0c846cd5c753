"""The ablation (sim/report/ablation.py): which mechanism changes which pattern's score."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.core.mechanisms import NAMES
from sim.report import ablation as A

ROOT = Path(__file__).resolve().parents[1]


def _scores(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"variant": v, "pattern": p, "ign_model": x} for v, by in rows.items() for p, x in by.items()]
    )


def test_a_change_counts_only_beyond_the_noise_of_a_change_of_seed():
    scores = _scores(
        {
            A.FULL: {"a": 1.0, "b": 2.0},
            "seed 2": {"a": 1.3, "b": 2.01},
            "commitment": {"a": 1.2, "b": 2.5},  # a: inside a's noise (0.3); b: beyond b's floor
            "trust": {"a": 0.5, "b": 2.0},  # a: 0.5 better than the full model, beyond the noise
        }
    )
    noise = pd.Series({"a": 0.3, "b": 0.01})
    e = A.effects_of(scores, noise).set_index(["mechanism", "pattern"])
    assert not e.loc[("commitment", "a"), "changed"]
    assert e.loc[("commitment", "b"), "changed"]  # 0.5 > max(0.01, MIN_NATS)
    assert e.loc[("trust", "a"), "changed"] and e.loc[("trust", "a"), "delta_nats"] == pytest.approx(-0.5)
    assert not e.loc[("trust", "b"), "changed"]
    v = A.verdict_of(e.reset_index()).set_index("mechanism")
    assert v.loc["commitment", "patterns_changed"] == 1 and v.loc["commitment", "helped"] == 1
    assert v.loc["trust", "hurt"] == 1
    assert v.loc["spoilers", "patterns_changed"] == 0  # not run: reported as changing nothing


def test_the_committed_ablation_covers_every_mechanism_and_each_changes_a_pattern():
    v = pd.read_csv(ROOT / "results" / "ablation" / "verdict.csv")
    assert list(v["mechanism"]) == list(NAMES)
    idle = v.loc[v["patterns_changed"] == 0, "mechanism"].tolist()
    assert not idle, f"mechanisms that change no pattern: {idle}"
    text = (ROOT / "results" / "ablation" / "ablation.md").read_text()
    assert "Every mechanism changes at least one pattern" in text
