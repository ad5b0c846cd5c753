"""The validation report: out-of-sample skill first, then every pattern of every episode.

``python -m sim.validate`` (or ``negsim-validate``) runs every documented episode and writes
``report.md``, ``patterns.csv``, ``scores.csv`` (and ``out_of_sample.csv``) with figures beside
it (:func:`write_report`). The patterns and the pass rule are in :mod:`sim.report.patterns`, the
proper scores and null models in :mod:`sim.report.skill`, the out-of-sample folds in
:mod:`sim.report.outofsample`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.inputs.scenarios import load_scenario
from sim.report.patterns import (
    COUNTERFACTUALS,
    EPISODES,
    EVENT_MIN_PROBABILITY,
    EXPLANATIONS,
    KEY_COVERAGE,
    Outcome,
    Pattern,
    Runs,
    episode_seed,
    evaluate_all,
    horizon_days,
    inside,
    pass_fraction,
    run_episodes,
)
from sim.running.ensemble import run

# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def _fmt(v: float, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if unit in ("share", "correlation", "ratio"):
        return f"{v:.2f}"
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _fmt_range(r: tuple[float, float], unit: str = "") -> str:
    a, b = r
    return f"{_fmt(a, unit)}–{_fmt(b, unit)}"


def _fmt_observed(p: Pattern) -> str:
    lo, hi = p.observed
    if p.kind == "event":
        return f"happened (model: P ≥ {EVENT_MIN_PROBABILITY:.2f})"
    if lo == hi:
        return _fmt(lo, p.unit)
    if math.isinf(hi):
        return f"≥ {_fmt(lo, p.unit)}"
    if p.kind in ("share", "relation") and hi == 1.0:
        return f"> {_fmt(lo if lo > 1e-6 else 0.0, p.unit)}"
    return _fmt_range(p.observed, p.unit)


def _by_episode(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    """Outcomes grouped by their pattern's episode, in order of first appearance."""
    by_ep: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_ep.setdefault(o.pattern.episode, []).append(o)
    return by_ep


def _value_panel(ax, o: Outcome, colour: str) -> None:
    """Histogram of a value pattern's per-world samples, its intervals and the observation."""
    p = o.pattern
    lo, hi = p.observed
    x = o.samples[np.isfinite(o.samples)]  # worlds beyond the horizon are not drawn
    if len(x) == 0:
        return
    lo_x, hi_x = float(np.min(x)), float(np.max(x))
    span = (lo_x - 0.5, hi_x + 0.5) if hi_x - lo_x < 1e-9 else (lo_x, hi_x)
    ax.hist(x, bins=min(40, max(1, len(np.unique(x)))), range=span, color="0.7", edgecolor="0.5")
    i90, i50 = (tuple(min(v, span[1]) for v in i) for i in (o.i90, o.i50))  # open top: to the edge
    ax.axvspan(*i90, color=colour, alpha=0.15, label="simulated 90%")
    ax.axvspan(*i50, color=colour, alpha=0.25, label="simulated 50%")
    if math.isfinite(o.median):
        ax.axvline(o.median, color=colour, lw=1.5, label="simulated median")
    top = np.max(x) if math.isinf(hi) else hi
    if lo == hi:
        ax.axvline(lo, color="k", lw=2, ls="--", label="observed")
    else:
        ax.axvspan(
            lo, max(top, lo), facecolor="none", edgecolor="k", hatch="//", lw=0, label="observed range"
        )
    ax.set_xlabel(p.unit or "value")
    ax.set_ylabel("worlds")


def _interval_panel(ax, o: Outcome, colour: str) -> None:
    """A statistic with its 50% and 90% intervals against the observed range."""
    p = o.pattern
    lo, hi = p.observed
    ax.errorbar(
        [o.median],
        [0],
        xerr=[[o.median - o.i90[0]], [o.i90[1] - o.median]],
        fmt="o",
        color=colour,
        capsize=6,
        label="simulated, 90% interval",
    )
    ax.errorbar(
        [o.median],
        [0],
        xerr=[[o.median - o.i50[0]], [o.i50[1] - o.median]],
        fmt="none",
        color=colour,
        lw=5,
        alpha=0.5,
        label="50% interval",
    )
    finite = [v for v in (o.i90[0], o.i90[1], lo, hi, 0.0, 1.0) if math.isfinite(v)]
    xmin, xmax = min(finite), max(finite)
    pad = 0.05 * (xmax - xmin)
    ax.axvspan(
        lo,
        hi if math.isfinite(hi) else xmax + pad,
        facecolor="none",
        edgecolor="k",
        hatch="//",
        lw=0,
        label="observed range",
    )
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_yticks([])
    ax.set_xlabel(p.unit)


def _episode_figure(ep: str, outs: Sequence[Outcome], out_dir: Path, caption: str) -> Path:
    """One episode's PNG: a panel per pattern."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(outs)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, o in zip(axes, outs, strict=False):
        p = o.pattern
        label, colour = verdict_label(o)
        if p.kind == "value" and o.samples is not None and len(o.samples):
            _value_panel(ax, o, colour)
        else:
            _interval_panel(ax, o, colour)
        ax.set_title(f"{label}  " + "\n".join(_wrap(p.name, 46)), fontsize=8, color=colour)
        ax.legend(fontsize=6, loc="best")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{ep}: observed against simulated", fontsize=11)
    fig.supxlabel(caption, fontsize=7)
    path = out_dir / f"{ep}.png"
    fig.savefig(path, dpi=110)
    return path


def verdict_label(o: Outcome) -> tuple[str, str]:
    """The verdict of a row as the figures show it, and its colour: an informative pass, a pass,
    a failure, or a row that is not a test (or has no worlds)."""
    from sim.report.skill import informative

    if o.pattern.not_a_test:
        return "NOT A TEST", "0.55"
    if o.passed is None:
        return "NO WORLDS", "0.55"
    if not o.passed:
        return "FAIL", "tab:red"
    return ("PASS, INFORMATIVE", "darkgreen") if informative(o) else ("PASS", "yellowgreen")


def _summary_figure(outcomes: Sequence[Outcome], out_dir: Path, caption: str) -> Path:
    """``summary.png``: one bar per pattern, coloured by its verdict."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 0.3 * len(outcomes) + 1.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    labels = [o.pattern.id for o in outcomes]
    colours = [verdict_label(o)[1] for o in outcomes]
    ax.barh(range(len(outcomes)), [1] * len(outcomes), color=colours)
    ax.set_yticks(range(len(outcomes)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xticks([])
    passed, judged = pass_fraction(outcomes)
    ax.set_title(
        f"Patterns inside the simulated 90% interval: {passed} of {judged}\n(dark green: informative pass, "
        "light green: pass, red: fail, grey: not a test)",
        fontsize=9,
    )
    fig.supxlabel(caption, fontsize=7)
    path = out_dir / "summary.png"
    fig.savefig(path, dpi=110)
    return path


def figures(outcomes: Sequence[Outcome], out_dir: Path, caption: str) -> list[Path]:
    """One PNG per episode (a panel per pattern) and a summary of all verdicts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [_episode_figure(ep, outs, out_dir, caption) for ep, outs in _by_episode(outcomes).items()]
    paths.append(_summary_figure(outcomes, out_dir, caption))
    return paths


def _wrap(s: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(s, width)


READING_GUIDE = (
    "How to read it. Each row is one thing the seed articles report (the `observed:` block of "
    "the episode's scenario file), the simulated median and the 50% and 90% intervals of the "
    "matching statistic. *value*: quantiles over worlds (the spread of possible histories). "
    "*event* (observed once): the share of worlds in which it happens, with exact binomial "
    "intervals; it passes when the model gives it at least a 5% chance, i.e. the observed "
    'history is not a 5% tail event. *share* (a claim about how often, e.g. "in most worlds"): '
    "a share with exact binomial intervals against the claimed range. *relation*: a statistic "
    "of the whole ensemble with bootstrap intervals (worlds resampled). A row passes when the "
    "observed value, or part of the observed range, lies inside the 90% interval."
)
"""The paragraph under the headline of the validation report."""


def _skill_rows(summary: pd.DataFrame, key: str) -> list[str]:
    """Rows of a skill table (one per group, then the total)."""
    out = []
    for r in summary.itertuples():
        name = getattr(r, key)
        label = f"**{name}**" if str(name).startswith("total") else name
        out.append(
            f"| {label} | {r.patterns} | {r.gain_vs_null_nats:+.2f} | {r.gain_vs_base_nats:+.2f} | "
            f"{r.skill_vs_null:+.2f} | {r.skill_vs_base:+.2f} | {r.beats_null}/{r.patterns} | "
            f"{r.beats_base}/{r.patterns} |"
        )
    return out


SKILL_HEADER = [
    "| episode | patterns | gain over know-nothing, nats | gain over base rate, nats | "
    "CRPS/Brier skill vs know-nothing | vs base rate | log score beats know-nothing | beats base rate |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
]

SKILL_GUIDE = (
    "Scores are proper (Gneiting and Raftery 2007) and computed from the simulated ensemble: the "
    "ignorance -ln p of what was observed (log score), and the CRPS (durations, days, counts) or "
    "the Brier score (events). A ceasefire or talks still running at the horizon enter through the "
    "survival function, never as a value at the horizon (threshold-weighted CRPS over the "
    "simulated days). Two null models get the same scores: *know-nothing* (durations log-uniform "
    "from one day to the horizon, counts uniform over a range stated per pattern, events at even "
    "odds) and *base rate* (the observations of the same kind in the other episodes of the "
    "training set, e.g. their ceasefire durations, monthly attack rates and event outcomes). "
    "Gain in nats: summed log-score advantage of the model (positive: the model put more "
    "probability on what happened). Skill: 1 - score(model) / score(null) for the CRPS or Brier "
    "score, over several patterns the median of that (1 perfect, 0 no better, negative worse). "
    "See `sim/report/skill.py`."
)


def _out_of_sample_section(oos: pd.DataFrame | None, command: str) -> list[str]:
    """The out-of-sample results: leave-one-episode-out, then the time split."""
    if oos is None or oos.empty:
        return [
            "## Out of sample",
            "",
            "Not run in this report (written with `--out-of-sample none`; `python -m sim.validate` runs it).",
            "",
        ]
    from sim.report.outofsample import summaries

    lines = ["## Out of sample: does the model predict what it was not fitted to?", ""]
    for design, summary in summaries(oos).items():
        t = oos[oos["design"] == design]
        lines += [
            f"### {design} ({t['fold'].nunique()} calibrations, {len(t)} held-out patterns scored)",
            "",
            *SKILL_HEADER,
            *_skill_rows(summary, "episode"),
            "",
        ]
    r = oos.iloc[0]
    lines += [
        f"Each fold is a calibration (the priors of `conf/calibration.yaml`, {r['particles']} particles x "
        f"{r['worlds_per_draw']} worlds a draw, at most {int(oos['generations'].max())} generations: its "
        "`out_of_sample` block) without the held-out patterns, then a prediction of them from "
        f"{r['predict_worlds']} worlds drawn from that fold's posterior. {SKILL_GUIDE}",
        "",
        *_held_out_rows(oos),
    ]
    return lines


def _held_out_rows(oos: pd.DataFrame) -> list[str]:
    """Every held-out pattern's scores, one row per design."""
    lines = [
        "### Held-out patterns one by one",
        "",
        "| pattern | design | ignorance: model / know-nothing / base rate | gain over know-nothing, "
        "base rate (nats) | CRPS/Brier: model / know-nothing / base rate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in oos.itertuples():
        lines.append(
            f"| {r.pattern} | {r.design} | {r.ign_model:.2f} / {r.ign_null:.2f} / {r.ign_base:.2f} | "
            f"{r.ign_null - r.ign_model:+.2f}, {r.ign_base - r.ign_model:+.2f} | "
            f"{r.rule.upper()} {r.model:.3g} / {r.null:.3g} / {r.base:.3g} |"
        )
    return lines + [""]


DURATIONS = (
    "shakai_2004.ceasefire_days",
    "waziristan_2006.ceasefire_days",
    "secret_talks_2020.talks_end_day",
    "ceasefire_2021.ceasefire_days",
    "ceasefire_2021.days_to_ceasefire",
    "kabul_2022.ceasefire_end_day",
)
"""The patterns that are durations (days until or between events), for :func:`duration_widths`."""


def duration_widths(outcomes: Sequence[Outcome], runs: Runs) -> pd.DataFrame:
    """Sharpness of the duration patterns: the width of each simulated 90% interval in log days,
    ``ln(hi) - ln(max(lo, 1))``. An interval that reaches past the horizon (``open``) is cut at the
    horizon, so its width is a lower bound; ``inside`` says whether the observation lies in it."""
    rows = []
    for o in outcomes:
        if o.pattern.id in DURATIONS and o.n:
            lo, hi = o.i90
            horizon = float(runs[o.pattern.episode].days)
            rows.append(
                {
                    "pattern": o.pattern.id,
                    "lo": lo,
                    "hi": hi,
                    "open": bool(hi > horizon),
                    "width_log_days": float(np.log(min(hi, horizon)) - np.log(max(lo, 1.0))),
                    "inside": bool(o.passed),
                }
            )
    return pd.DataFrame(rows, columns=["pattern", "lo", "hi", "open", "width_log_days", "inside"])


def _sharpness_line(outcomes: Sequence[Outcome], runs: Runs) -> str:
    w = duration_widths(outcomes, runs)
    if w.empty:
        return ""
    cells = ", ".join(
        f"{r.pattern} {r.width_log_days:.2f}{' (open: cut at the horizon)' if r.open else ''}"
        for r in w.itertuples()
    )
    return (
        f"**Sharpness of durations:** the median width of the simulated 90% intervals of the "
        f"{len(w)} durations is {np.median(w['width_log_days']):.2f} log days ({cells}); the observation "
        f"lies inside {int(w['inside'].sum())} of them."
    )


def _report_head(
    outcomes: Sequence[Outcome],
    runs: Runs,
    command: str,
    behaviour_note: str,
    oos: pd.DataFrame | None,
    scores: pd.DataFrame,
) -> list[str]:
    """Title, out-of-sample skill, in-sample headline counts, reading guide and horizons."""
    from sim.report.skill import informative, skill_summary

    passed, judged = pass_fraction(outcomes)
    n_inf = sum(bool(informative(o)) for o in outcomes)
    not_tests = [o for o in outcomes if o.pattern.not_a_test]
    lines = [
        "# Validation report: the model against the documented episodes",
        "",
        f"Written by `{command}`. {behaviour_note}",
        "",
        *_out_of_sample_section(oos, command),
        "## In sample (the episodes the parameters were fitted to)",
        "",
        f"**{passed} of {judged} patterns ({passed / max(judged, 1):.0%}) have the observation inside "
        f"the simulated 90% interval; {n_inf} of these passes are informative** (the same test fails "
        "for the observation doubled and halved, or for the opposite outcome). "
        f"{len(not_tests)} rows are shown but are not tests (set by an input or by the choice of "
        "the episode).",
        "",
        *SKILL_HEADER,
        *_skill_rows(skill_summary(scores, by="episode"), "episode"),
        "",
        _sharpness_line(outcomes, runs),
        "",
        READING_GUIDE,
        "",
        "| episode | horizon | why |",
        "| --- | --- | --- |",
    ]
    for name, e in runs.items():
        if name in EPISODES:
            lines.append(
                f"| {name} | {e.scenario.start} to {EPISODES[name].end} ({e.days} days) | "
                f"{EPISODES[name].why} |"
            )
    lines.append("")
    return lines


def _verdict(o: Outcome) -> str:
    if o.pattern.not_a_test:
        return f"not a test: {o.pattern.not_a_test}"
    if o.passed is None:
        return "n/a"
    if not o.passed:
        return "**NO**"
    return "**yes**" if inside(o.pattern.observed, o.i50) else "**yes** (edge)"


def _informative_cell(o: Outcome) -> str:
    from sim.report.skill import informative, wrong_observations

    flag = informative(o)
    if flag is None:
        return ""
    if flag:
        return "yes"
    passing = [name for name, obs in wrong_observations(o.pattern)]
    return "no: also passes " + (" or ".join(passing) if passing else "any observation")


def _score_cell(pid: str, scores: pd.DataFrame) -> str:
    row = scores[scores["pattern"] == pid]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (
        f"{r['rule'].upper()} {r['model']:.3g} / {r['null']:.3g} / {r['base']:.3g}; "
        f"ignorance {r['ign_model']:.2f} / {r['ign_null']:.2f} / {r['ign_base']:.2f}"
    )


def _episode_section(ep: str, outs: Sequence[Outcome], runs: Runs, scores: pd.DataFrame) -> list[str]:
    """One episode's table of patterns, its key coverage and its figure."""
    s = runs[ep].scenario
    lines = [
        f"## {s.name} (`{ep}`)",
        "",
        "| pattern | kind | observed (seed) | simulated median | 50% interval | 90% interval | worlds "
        "| inside 90%? | informative? | score: model / know-nothing / base rate |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outs:
        p = o.pattern
        lines.append(
            f"| {p.name} | {p.kind} | {_fmt_observed(p)}: {p.observed_text} | {_fmt(o.median, p.unit)} | "
            f"{_fmt_range(o.i50, p.unit)} | {_fmt_range(o.i90, p.unit)} | {o.n} | {_verdict(o)} | "
            f"{_informative_cell(o)} | {_score_cell(p.id, scores)} |"
        )
    cov = KEY_COVERAGE.get(ep, {})
    if cov:
        lines += [
            "",
            "Observed keys of the scenario file and where they are tested: "
            + "; ".join(f"`{k}`: {v}" for k, v in cov.items())
            + ".",
        ]
    lines += ["", f"![{ep}]({ep}.png)", ""]
    return lines


def _failures_and_notes(outcomes: Sequence[Outcome], explanations: Mapping[str, str]) -> list[str]:
    """The failing patterns with their explanations, then the notes on passing ones."""
    failing = [o for o in outcomes if o.passed is False]
    lines = ["## Patterns that fail, and why", ""]
    if not failing:
        lines.append("None.")
    for o in failing:
        why = explanations.get(o.pattern.id, "No explanation recorded yet for this failure.")
        lines.append(
            f"- **{o.pattern.id}** ({o.pattern.name}): observed {_fmt_observed(o.pattern)}, "
            f"simulated 90% interval {_fmt_range(o.i90, o.pattern.unit)}. {why}"
        )
    notes = [v for k, v in explanations.items() if k.startswith("note:")]
    if notes:
        lines += ["", "## Notes on passing patterns", ""] + [f"- {v}" for v in notes]
    return lines


def _counterfactual_table(counterfactuals: Mapping[str, pd.DataFrame]) -> list[str]:
    """Effects of the counterfactuals with credible intervals (tables of
    :func:`counterfactual_effects`)."""
    lines = [
        "",
        "## Counterfactuals: effects with 90% credible intervals across the posterior",
        "",
        "Each counterfactual against its base episode, same seed, same particle per world "
        "(`behaviour=posterior`, `sim.report.effects`): the effect is the difference per particle, "
        "its median and 90% interval across particles. The interval holds the Monte Carlo noise of "
        "the worlds each particle gets as well as the posterior's uncertainty.",
        "",
        "| counterfactual | measure | base | counterfactual | effect | 90% credible interval | "
        "worlds per particle |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, t in counterfactuals.items():
        for r in t.itertuples():
            lines.append(
                f"| {name} | {r.meaning} | {_fmt_effect(r.base)} | {_fmt_effect(r.alternative)} | "
                f"{_fmt_effect(r.effect)} | {_fmt_effect(r.effect_lo)} to {_fmt_effect(r.effect_hi)} | "
                f"{r.worlds_per_particle:.0f} |"
            )
    return lines


def _fmt_effect(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:.2f}" if abs(v) < 1 else f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"


@dataclass
class ReportData:
    """Everything the report shows.

    Attributes:
        outcomes: the in-sample verdict of every pattern. runs: the in-sample runs.
        scores: in-sample proper scores (:func:`sim.report.skill.score_table`).
        command: the command that wrote the report. behaviour_note: which parameters ran.
        figure_names: the figures written beside the report.
        oos: out-of-sample scores (:func:`sim.report.outofsample.out_of_sample`) or None.
        counterfactuals: tables of :func:`counterfactual_effects` or None.
    """

    outcomes: Sequence[Outcome]
    runs: Runs
    scores: pd.DataFrame
    command: str
    behaviour_note: str
    figure_names: Sequence[str] = ()
    oos: pd.DataFrame | None = None
    counterfactuals: Mapping[str, pd.DataFrame] | None = None


def report_markdown(data: ReportData, explanations: Mapping[str, str] | None = None) -> str:
    """The validation report as Markdown: out-of-sample skill first, then in sample."""
    explanations = dict(EXPLANATIONS if explanations is None else explanations)
    lines = _report_head(data.outcomes, data.runs, data.command, data.behaviour_note, data.oos, data.scores)
    for ep, outs in _by_episode(data.outcomes).items():
        lines += _episode_section(ep, outs, data.runs, data.scores)
    lines += _failures_and_notes(data.outcomes, explanations)
    if data.counterfactuals:
        lines += _counterfactual_table(data.counterfactuals)
    lines += ["", "## Figures", ""] + [f"- `{n}`" for n in data.figure_names] + [""]
    return "\n".join(lines)


COUNTERFACTUAL_BASE = {
    "kabul_2022_full_delivery": "kabul_2022",
    "kabul_2022_no_mediator": "kabul_2022",
    "secret_talks_2020_no_unity_demand": "secret_talks_2020",
    "ceasefire_2021_prisoners_first": "ceasefire_2021",
}
"""The base episode of each counterfactual of :data:`sim.report.patterns.COUNTERFACTUALS`."""


def counterfactual_effects(worlds_per_particle: int, seed: int, workers: int = 1) -> dict[str, pd.DataFrame]:
    """Effects of every counterfactual against its base episode over the base's horizon, under
    the shipped posterior (:func:`sim.report.effects.effects`), ``worlds_per_particle`` worlds
    for each particle of the posterior sample."""
    from sim.inputs.posterior import load_posterior
    from sim.report.effects import effects

    worlds = worlds_per_particle * len(load_posterior())
    cache: dict[str, Any] = {}

    def result(name: str, base: str):
        if name not in cache:
            s = load_scenario(name)
            cache[name] = run(
                s,
                worlds=worlds,
                days=horizon_days(s, EPISODES[base]),
                seed=episode_seed(seed, base),
                workers=workers,
                behaviour="posterior",
            )
        return cache[name]

    return {
        name: effects(
            result(COUNTERFACTUAL_BASE[name], COUNTERFACTUAL_BASE[name]),
            result(name, COUNTERFACTUAL_BASE[name]),
        )
        for name in COUNTERFACTUALS
    }


def _behaviour_note(behaviour: str) -> str:
    """Which behavioural parameters the in-sample runs used."""
    from sim.inputs.posterior import POSTERIOR_FILE, load_posterior
    from sim.inputs.scenarios import BEHAVIOUR_FILE

    if behaviour == "posterior":
        return (
            f"Behavioural parameters: the shipped posterior sample (`conf/{POSTERIOR_FILE.name}`, "
            f"{len(load_posterior())} particles of the calibration, `conf/pinned.md`): each world runs "
            "with one particle, so the intervals carry the posterior's uncertainty."
        )
    produced = next(
        (
            ln.lstrip("# ").strip()
            for ln in BEHAVIOUR_FILE.read_text().splitlines()
            if ln.startswith("#") and "Produced by" in ln
        ),
        "",
    )
    return f"Behavioural parameters: the shipped point estimate `conf/behaviour.yaml`. {produced}"


def _patterns_table(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """``patterns.csv``: one row per pattern with its intervals, verdict and informativeness."""
    from sim.report.skill import informative

    return pd.DataFrame(
        [
            {
                "pattern": o.pattern.id,
                "episode": o.pattern.episode,
                "kind": o.pattern.kind,
                "observed_lo": o.pattern.observed[0],
                "observed_hi": o.pattern.observed[1],
                "median": o.median,
                "p50_lo": o.i50[0],
                "p50_hi": o.i50[1],
                "p90_lo": o.i90[0],
                "p90_hi": o.i90[1],
                "worlds": o.n,
                "passed": o.passed,
                "informative": informative(o),
                "not_a_test": o.pattern.not_a_test,
            }
            for o in outcomes
        ]
    )


OUT_OF_SAMPLE_CHOICES = ("full", "quick", "none")
"""``out_of_sample`` of :func:`write_report`: the budget of ``conf/calibration.yaml``'s
``out_of_sample`` block, its ``quick`` block (CI), or no out-of-sample run."""


def write_report(
    out_dir: str | Path = "results/validation",
    worlds: int = 2000,
    seed: int = 1,
    workers: int = 1,
    counterfactuals: bool = True,
    out_of_sample: str = "full",
    command: str = "python -m sim.validate",
    behaviour: str = "posterior",
    counterfactual_worlds_per_particle: int = 20,
) -> tuple[Path, list[Outcome]]:
    """Run every episode, score it, run the out-of-sample folds and write ``report.md``,
    ``patterns.csv``, ``scores.csv``, ``out_of_sample.csv``, ``counterfactuals.csv`` and the
    figures. ``behaviour`` is the in-sample parameter set (``posterior``: the shipped posterior
    sample, one particle per world; ``shipped``: the point estimate); counterfactual effects always
    run under the posterior, ``counterfactual_worlds_per_particle`` worlds for each particle.

    Returns:
        (path of report.md, outcomes).
    """
    from sim.explore.calibration import load_config
    from sim.report.outofsample import out_of_sample as run_out_of_sample
    from sim.report.skill import score_table

    if out_of_sample not in OUT_OF_SAMPLE_CHOICES:
        raise ValueError(f"out_of_sample={out_of_sample!r}: allowed values are {OUT_OF_SAMPLE_CHOICES}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = run_episodes(worlds, seed, workers=workers, behaviour=behaviour)
    outcomes = evaluate_all(runs, seed=seed)
    scores = score_table(runs, [o.pattern for o in outcomes])
    scores.to_csv(out / "scores.csv", index=False)
    oos = None
    if out_of_sample != "none":
        oos = run_out_of_sample(load_config(False, []), quick=out_of_sample == "quick", workers=workers)
        oos.to_csv(out / "out_of_sample.csv", index=False)
    caption = f"{worlds} worlds per episode, seed {seed}; parameters: " + (
        "the posterior sample" if behaviour == "posterior" else "conf/behaviour.yaml"
    )
    figs = figures(outcomes, out, caption)
    cf = (
        counterfactual_effects(counterfactual_worlds_per_particle, seed, workers) if counterfactuals else None
    )
    if cf:
        pd.concat([t.assign(counterfactual=n) for n, t in cf.items()]).to_csv(
            out / "counterfactuals.csv", index=False
        )
    note = _behaviour_note(behaviour)
    data = ReportData(outcomes, runs, scores, command, note, [f.name for f in figs], oos, cf)
    path = out / "report.md"
    path.write_text(report_markdown(data), encoding="utf-8")
    _patterns_table(outcomes).to_csv(out / "patterns.csv", index=False)
    return path, outcomes
