"""Ablation: each mechanism of :data:`sim.core.mechanisms.MECHANISMS` switched off in turn.

For every variant (the full model, then the model without one mechanism) every episode runs with
the same seed (common random numbers: world ``i`` draws the same uniforms in every variant) and
every scored pattern of :mod:`sim.report.patterns` gets its proper scores (:mod:`sim.report.skill`).
A mechanism *changes* a pattern when switching it off moves the pattern's ignorance (log score,
nats) by more than the noise floor: the largest move that changing the seed alone makes on that
pattern (the full model run with ``NOISE_SEEDS`` other seeds) and at least ``MIN_NATS``. A
mechanism that changes no pattern has not earned its place (Grimm et al. 2005).

The headline outcomes of each episode (share of worlds with a ceasefire, median length of the
first ceasefire, TTP attacks a month) are reported beside the scores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.mechanisms import MECHANISMS
from sim.report.patterns import EPISODES, build_patterns, run_episodes
from sim.report.skill import score_pattern, scored

FULL = "full model"
"""Name of the variant with every mechanism on."""
NOISE_SEEDS = 2
"""Other seeds of the full model that set each pattern's noise floor."""
MIN_NATS = 0.05
"""Smallest move of a pattern's ignorance, in nats, that counts as a change."""


@dataclass
class Ablation:
    """What :func:`run` measured.

    Attributes:
        scores: one row per variant and pattern: ``variant``, ``pattern``, ``episode``,
            ``ign_model`` (nats), ``model`` (CRPS or Brier score), ``rule``.
        headline: one row per variant and episode (:func:`headline`).
        noise: each pattern's noise floor in nats (``noise``).
        effects: one row per mechanism and pattern: ``delta_nats`` (ignorance without the
            mechanism minus with it: positive means the mechanism helps predict the pattern),
            ``noise``, ``changed``.
        verdict: one row per mechanism: patterns changed, helped and hurt, summed ``delta_nats``.
        meta: worlds, seed, behaviour, seconds.
    """

    scores: pd.DataFrame
    headline: pd.DataFrame
    noise: pd.Series
    effects: pd.DataFrame
    verdict: pd.DataFrame
    meta: dict


def headline(runs) -> pd.DataFrame:
    """Headline outcomes of each episode's run: share of worlds that reached a ceasefire, median
    length of the first ceasefire (days, among those worlds; censored ones at their length so far),
    TTP attacks per month and splits per world."""
    rows = []
    for name, r in runs.items():
        w = r.worlds
        reached = w["ceasefire_reached"].to_numpy(bool)
        days = w.loc[reached, "ceasefire_days"].to_numpy(float)
        rows.append(
            {
                "episode": name,
                "ceasefire_share": float(reached.mean()),
                "ceasefire_days_median": float(np.median(days)) if len(days) else float("nan"),
                "ttp_attacks_per_month": float(w["ttp_attacks"].mean() / (r.days / 30.4375)),
                "splits_per_world": float(w["splits"].mean()),
            }
        )
    return pd.DataFrame(rows)


def _variant(
    off: str | None, worlds: int, seed: int, behaviour: str, workers: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and headline outcomes of the model with mechanism ``off`` switched off (None: all on)."""
    overrides = {f"mechanisms.{off}": False} if off else {}
    runs = run_episodes(worlds, seed, overrides=overrides, behaviour=behaviour, workers=workers)
    patterns = build_patterns()
    rows = []
    for p in scored(patterns):
        try:
            s = score_pattern(p, runs, patterns)
            rows.append((p.id, p.episodes[0], s.ign_model, s.model, s.rule))
        except ValueError:  # no world of this variant produced the quantity (e.g. no ceasefire)
            rows.append((p.id, p.episodes[0], float("nan"), float("nan"), ""))
    table = pd.DataFrame(rows, columns=["pattern", "episode", "ign_model", "model", "rule"])
    return table, headline(runs)


def effects_of(scores: pd.DataFrame, noise: pd.Series) -> pd.DataFrame:
    """Per mechanism and pattern: the move of the ignorance when the mechanism is off, the
    pattern's noise floor and whether the move exceeds it."""
    ign = scores.pivot(index="pattern", columns="variant", values="ign_model")
    rows = []
    for m in MECHANISMS:
        if m.name not in ign:
            continue
        delta = ign[m.name] - ign[FULL]
        for pattern, d in delta.items():
            floor = max(float(noise.get(pattern, 0.0)), MIN_NATS)
            rows.append(
                {
                    "mechanism": m.name,
                    "pattern": pattern,
                    "delta_nats": float(d),
                    "noise": float(noise.get(pattern, 0.0)),
                    "changed": bool(np.isfinite(d) and abs(d) > floor),
                }
            )
    return pd.DataFrame(rows)


def verdict_of(effects: pd.DataFrame) -> pd.DataFrame:
    """One row per mechanism: how many patterns it changes, helps (the model predicts them better
    with it) and hurts, and its summed effect in nats."""
    rows = []
    for m in MECHANISMS:
        e = effects[effects["mechanism"] == m.name]
        changed = e[e["changed"]]
        top = changed.reindex(changed["delta_nats"].abs().sort_values(ascending=False).index).head(3)
        rows.append(
            {
                "mechanism": m.name,
                "patterns_changed": int(len(changed)),
                "helped": int((changed["delta_nats"] > 0).sum()),
                "hurt": int((changed["delta_nats"] < 0).sum()),
                "delta_nats_total": float(e["delta_nats"].sum()),
                "largest": ", ".join(
                    f"{p} {d:+.2f}" for p, d in zip(top["pattern"], top["delta_nats"], strict=True)
                ),
            }
        )
    return pd.DataFrame(rows)


def run(
    worlds: int,
    seed: int,
    behaviour: str = "posterior",
    workers: int = 1,
    log: Callable[[str], None] = print,
) -> Ablation:
    """Run the full model (with ``NOISE_SEEDS`` more seeds for the noise floor) and the model
    without each mechanism; score every pattern."""
    import time

    t0 = time.perf_counter()
    scores, heads = [], []
    variants: list[tuple[str, str | None, int]] = [(FULL, None, seed)]
    variants += [(f"seed {seed + k}", None, seed + k) for k in range(1, NOISE_SEEDS + 1)]
    variants += [(m.name, m.name, seed) for m in MECHANISMS]
    for label, off, s in variants:
        table, head = _variant(off, worlds, s, behaviour, workers)
        scores.append(table.assign(variant=label))
        heads.append(head.assign(variant=label))
        log(f"{label}: {len(table)} patterns scored ({time.perf_counter() - t0:.0f} s)")
    scores_df = pd.concat(scores, ignore_index=True)
    ign = scores_df.pivot(index="pattern", columns="variant", values="ign_model")
    noise_cols = [label for label, off, s in variants if label.startswith("seed ")]
    noise = ign[noise_cols].sub(ign[FULL], axis=0).abs().max(axis=1)
    effects = effects_of(scores_df, noise)
    meta = {
        "worlds": worlds,
        "seed": seed,
        "behaviour": behaviour,
        "noise_seeds": NOISE_SEEDS,
        "min_nats": MIN_NATS,
        "seconds": round(time.perf_counter() - t0, 1),
        "episodes": list(EPISODES),
    }
    return Ablation(scores_df, pd.concat(heads, ignore_index=True), noise, effects, verdict_of(effects), meta)


def frame_markdown(df: pd.DataFrame, floatfmt: str = ".2f", index: bool = True, corner: str = "") -> str:
    """A table as Markdown: floats formatted with ``floatfmt``, NaN as a blank."""

    def cell(v) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else format(v, floatfmt)
        return str(v)

    header = ([corner or str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for key, row in df.iterrows():
        cells = ([str(key)] if index else []) + [cell(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _matrix(a: Ablation) -> pd.DataFrame:
    """Patterns x mechanisms: the move in nats, starred where it exceeds the noise floor."""
    e = a.effects.assign(
        cell=[
            f"{d:+.2f}{'*' if c else ''}"
            for d, c in zip(a.effects["delta_nats"], a.effects["changed"], strict=True)
        ]
    )
    m = e.pivot(index="pattern", columns="mechanism", values="cell")[[x.name for x in MECHANISMS]]
    m.insert(0, "noise floor", [f"{max(a.noise.get(p, 0.0), MIN_NATS):.2f}" for p in m.index])
    return m


def _headline_table(a: Ablation, column: str, fmt: str, title: str) -> str:
    t = a.headline.pivot(index="variant", columns="episode", values=column)
    return frame_markdown(t.reindex([FULL] + [m.name for m in MECHANISMS]), fmt, corner=title)


def markdown(a: Ablation, command: str) -> str:
    """The ablation report."""
    v = a.verdict
    idle = v.loc[v["patterns_changed"] == 0, "mechanism"].tolist()
    lines = [
        "# Ablation: each mechanism switched off in turn",
        "",
        f"`{command}`: {a.meta['worlds']} worlds per episode, seed {a.meta['seed']}, behaviour "
        f"`{a.meta['behaviour']}` ({a.meta['seconds']:.0f} s). Common random numbers: every variant "
        "draws the same uniforms world by world.",
        "",
        "A mechanism **changes** a pattern when switching it off moves the pattern's ignorance (log "
        f"score, nats) by more than the pattern's noise floor: the largest move {a.meta['noise_seeds']} "
        f"other seeds of the full model make, and at least {a.meta['min_nats']} nats. Positive: the "
        "pattern is predicted worse without the mechanism (the mechanism helps); negative: better.",
        "",
        (
            "**Every mechanism changes at least one pattern.**"
            if not idle
            else f"**Mechanisms that change no pattern: {', '.join(idle)}.**"
        ),
        "",
        "## Verdict",
        "",
        frame_markdown(v, "+.2f", index=False),
        "",
        "## Every pattern (nats; * = beyond the noise floor)",
        "",
        frame_markdown(_matrix(a), corner="pattern"),
        "",
        "## Headline outcomes",
        "",
        _headline_table(a, "ceasefire_days_median", ".0f", "median first ceasefire, days"),
        "",
        _headline_table(a, "ceasefire_share", ".2f", "share reaching a ceasefire"),
        "",
        _headline_table(a, "ttp_attacks_per_month", ".1f", "TTP attacks a month"),
        "",
    ]
    return "\n".join(lines)


def write_outputs(a: Ablation, out: Path, command: str) -> None:
    """Write ``ablation.md``, ``scores.csv``, ``effects.csv``, ``verdict.csv``, ``headline.csv`` and
    ``run.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.md").write_text(markdown(a, command))
    a.scores.to_csv(out / "scores.csv", index=False)
    a.effects.to_csv(out / "effects.csv", index=False)
    a.verdict.to_csv(out / "verdict.csv", index=False)
    a.headline.to_csv(out / "headline.csv", index=False)
    (out / "run.json").write_text(json.dumps({**a.meta, "command": command}, indent=2))
