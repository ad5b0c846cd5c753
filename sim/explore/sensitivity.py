"""Which behavioural parameters the documented episodes can identify: Morris screening.

    negsim-sensitivity                  # full run (3-6 minutes on one core), results/sensitivity/
    negsim-sensitivity --quick          # small run (tests): results/sensitivity_quick/

(or ``python -m sim.cli.sensitivity``; the command line is :mod:`sim.cli.sensitivity`, the method
is here.)

Method: elementary effects (Morris 1991, "Factorial sampling plans for preliminary computational
experiments", Technometrics 33) with the absolute mean ``mu*`` of Campolongo, Cariboni and
Saltelli (2007, "An effective screening design for sensitivity analysis of large models",
Environmental Modelling & Software 22), sampled and analysed with SALib
(``SALib.sample.morris.sample``, ``SALib.analyze.morris.analyze``). Every one of the 46
behavioural parameters (:class:`sim.inputs.schema.Behaviour`) is screened at once, plus one
dummy parameter that the model never reads. All trajectory points are ONE batch per episode:
each point is a parameter set repeated for ``worlds`` worlds through the per-world parameter
table, exactly as a calibration generation runs (:class:`sim.explore.calibration.Simulator`).

What is analysed is what the calibration fits: for every pattern, its per-draw statistic
(median of values, share of events) and that statistic's distance from its calibration target,
scaled by its spread across the screening design (:func:`sim.explore.calibration.scales_from`,
:func:`~sim.explore.calibration.distances`; a draw without any usable world scores the
calibration's ``nan_penalty``). Inputs are screened on the unit cube, so every ``mu*`` is the
change of the scaled discrepancy per full range of the parameter.

Ranges (:func:`screening_ranges`): the calibration prior where ``conf/calibration.yaml`` gives
one; otherwise, from the schema default and bounds, a share declared in [0, 1] (name ending
``_share``) spans the default +- 0.3 clipped to its bounds, on a linear scale; every other
parameter (rates, days, costs, counts per event, shares whose bounds exceed 1) spans the
default / 3 to the default x 3 on a log scale, clipped to its bounds. Parameters fixed from a
seed (:data:`FROM_SEEDS`) are screened too, and said to be fixed.

Identified (:func:`judge`): the dummy parameter's ``mu*`` is what the noise of ``worlds``
simulated worlds per draw alone produces (the dummy-parameter reference of Khorashadi Zadeh et
al. 2017, "Comparison of variance-based and moment-independent global sensitivity analysis
approaches by application to the SWAT model", Environmental Modelling & Software 91). A
parameter is identified by a pattern when the bootstrap 95% interval of its ``mu*`` lies wholly
above that of the dummy (the effect is told apart from simulation noise, not merely larger than
one noisy estimate of it) AND its ``mu*`` is at least :data:`MIN_SCALED` of the largest ``mu*``
of that pattern (an effect a tenth of the leading one's is left to the calibration's noise).
It is identified when at least one fitted pattern (weight above 0) identifies it. A dummy
rather than a bare fraction of the largest effect: the fraction alone calls a parameter
identified for a pattern no parameter moves beyond noise. The default of ``worlds`` is the
calibration's ``worlds_per_draw``, so the noise is the noise the calibration works with.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim.explore import calibration as C
from sim.inputs.schema import Behaviour

COMMAND = "python -m sim.cli.sensitivity"
"""How the outputs name the command that made them."""
DUMMY = "dummy"
"""The noise-reference parameter: screened like the others, read by no rule of the model."""
SHARE_STEP = 0.3
"""Half-width of the screening range of a share in [0, 1] without a calibration prior."""
RATE_FACTOR = 3.0
"""A parameter without a prior that is not a share in [0, 1] spans default / 3 to default x 3."""
MIN_SCALED = 0.1
"""Smallest ``mu*``, as a share of the largest ``mu*`` of the pattern, that can identify."""
LEVELS = 4
"""Grid levels of the Morris design (the usual even choice; SALib's default)."""
RESAMPLES = 1000
"""Bootstrap resamples of the ``mu*`` confidence intervals."""
FROM_SEEDS = {
    "casualties_per_attack_count": "fixed from a seed: 80 casualties in 33 attacks, July 2022 (seed 002)",
}
"""Behavioural fields whose value a seed gives directly: screened, but not freed whatever their effect."""


class SensitivityError(ValueError):
    """A setting of the screening is not allowed (the message names it, its value and what is allowed)."""


# --------------------------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------------------------


def default_range(f: dataclasses.Field) -> tuple[float, float, bool, str]:
    """Screening range of a behavioural field without a calibration prior: ``(lo, hi, log, rule)``
    by the rule of the module doc, clipped to the schema's bounds."""
    d = float(f.default)
    flo = -math.inf if f.metadata.get("lo") is None else float(f.metadata["lo"])
    fhi = math.inf if f.metadata.get("hi") is None else float(f.metadata["hi"])
    if f.name.endswith("_share") and fhi <= 1.0:
        lo, hi = max(flo, d - SHARE_STEP), min(fhi, d + SHARE_STEP)
        return lo, hi, False, f"share: default {d:g} +- {SHARE_STEP:g}, clipped to [{flo:g}, {fhi:g}]"
    if d <= 0:
        raise SensitivityError(
            f"behaviour.{f.name} default {d!r} is not allowed for a log range: expected > 0"
        )
    lo, hi = max(flo, d / RATE_FACTOR), min(fhi, d * RATE_FACTOR)
    lo = lo if lo > 0 else d / RATE_FACTOR  # a log scale needs lo > 0
    return (
        lo,
        hi,
        True,
        f"default {d:g} / {RATE_FACTOR:g} to x {RATE_FACTOR:g} (log), clipped to [{flo:g}, {fhi:g}]",
    )


def screening_ranges(parameters) -> C.Prior:
    """Ranges of every behavioural field, in schema order, as a :class:`~sim.explore.calibration.Prior`
    whose ``why`` holds the rule of each range: the calibration prior of ``parameters`` (the
    ``parameters`` block of conf/calibration.yaml) where there is one, else :func:`default_range`.

    Raises:
        sim.explore.calibration.CalibrationConfigError: a prior of ``parameters`` is not allowed.
    """
    prior = C.Prior.from_config(parameters)
    given = dict(zip(prior.names, zip(prior.lo, prior.hi, prior.log, strict=True), strict=True))
    names, lo, hi, log, rule = [], [], [], [], []
    for f in dataclasses.fields(Behaviour):
        if f.name in given:
            a, b, lg = given[f.name]
            why = f"calibration prior ({'log' if lg else 'linear'})"
        else:
            a, b, lg, why = default_range(f)
        names.append(f.name)
        lo.append(float(a))
        hi.append(float(b))
        log.append(bool(lg))
        rule.append(why)
    return C.Prior(names, np.array(lo), np.array(hi), np.array(log), rule)


# --------------------------------------------------------------------------------------------
# Morris screening of any function of the unit cube
# --------------------------------------------------------------------------------------------


def problem(names: list[str]) -> dict:
    """The SALib problem: every name and the dummy, each on [0, 1]."""
    allnames = [*names, DUMMY]
    return {"num_vars": len(allnames), "names": allnames, "bounds": [[0.0, 1.0]] * len(allnames)}


def screen(
    outputs: Callable[[np.ndarray], np.ndarray],
    names: list[str],
    output_names: list[str],
    trajectories: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Morris screening of ``outputs`` (unit-cube points ``[n, len(names)]`` to ``[n, outputs]``)
    over ``names`` and the dummy: the long table of ``output``, ``parameter``, ``mu``,
    ``mu_star``, ``mu_star_conf`` (half-width of its bootstrap 95% interval), ``sigma`` and
    ``mu_star_scaled`` (over the largest ``mu*`` of a real parameter for that output). The dummy
    column of the design is never passed to ``outputs``."""
    prob = problem(names)
    X = morris_sample.sample(prob, trajectories, num_levels=LEVELS, seed=rng)
    Y = np.asarray(outputs(X[:, : len(names)]), dtype=float)
    if Y.shape != (len(X), len(output_names)):
        raise SensitivityError(f"outputs gave shape {Y.shape}: expected {(len(X), len(output_names))}")
    frames = []
    for j, out in enumerate(output_names):
        res = morris_analyze.analyze(
            prob, X, Y[:, j], num_resamples=RESAMPLES, conf_level=0.95, num_levels=LEVELS, seed=rng
        )
        t = pd.DataFrame(
            {
                "output": out,
                "parameter": prob["names"],
                "mu": np.asarray(res["mu"], dtype=float),
                "mu_star": np.asarray(res["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
                "sigma": np.asarray(res["sigma"], dtype=float),
            }
        )
        top = t.loc[t["parameter"] != DUMMY, "mu_star"].max()
        t["mu_star_scaled"] = t["mu_star"] / top if top > 0 else 0.0
        frames.append(t)
    return judge(pd.concat(frames, ignore_index=True))


def judge(table: pd.DataFrame) -> pd.DataFrame:
    """Add the dummy's ``mu*`` and interval per output and the ``identified`` flag of each row
    (the rule of the module doc: interval wholly above the dummy's and scaled ``mu*`` at least
    :data:`MIN_SCALED`)."""
    dummy = table[table["parameter"] == DUMMY].set_index("output")
    t = table.copy()
    t["dummy_mu_star"] = t["output"].map(dummy["mu_star"])
    t["dummy_mu_star_conf"] = t["output"].map(dummy["mu_star_conf"])
    above = (t["mu_star"] - t["mu_star_conf"]) > (t["dummy_mu_star"] + t["dummy_mu_star_conf"])
    t["identified"] = above & (t["mu_star_scaled"] >= MIN_SCALED) & (t["parameter"] != DUMMY)
    return t


# --------------------------------------------------------------------------------------------
# The model's patterns
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Screening:
    """A finished screening: the ranges, the long table, the verdict per parameter and the run."""

    ranges: C.Prior
    table: pd.DataFrame
    verdict: pd.DataFrame
    meta: dict


def pattern_scores(sim: C.Simulator, ranges: C.Prior, worlds: int, seed: int, nan_penalty: float):
    """``outputs`` for :func:`screen`: unit-cube points to the scaled discrepancy of every pattern
    of ``sim`` (one batch per episode, each point repeated for ``worlds`` worlds)."""

    def outputs(z: np.ndarray) -> np.ndarray:
        n = len(z)
        S = sim.statistics(sim.runs(ranges.natural(z), worlds, seed), n)
        scales = C.scales_from(S, sim.patterns)
        _, D = C.distances(S, sim.patterns, scales, np.ones(len(sim.patterns)), nan_penalty)
        return D

    return outputs


def run(
    trajectories: int, worlds: int, seed: int, log: Callable[[str], None], config: Path = C.CONFIG
) -> Screening:
    """Screen every behavioural parameter against every pattern of the report.

    Args:
        trajectories: Morris trajectories (each ``47 + 1`` points: 46 parameters and the dummy).
        worlds: worlds per point (the calibration's ``worlds_per_draw`` by default in the command).
        seed: seed of the design, the simulations and the bootstrap.
        log: gets progress lines.
        config: the calibration settings whose priors, ``fixed`` values and pattern weights apply.

    Raises:
        SensitivityError: ``trajectories`` below 2 or ``worlds`` below 1.
    """
    if int(trajectories) < 2:
        raise SensitivityError(
            f"trajectories = {trajectories!r} is not allowed: expected a whole number >= 2"
        )
    if int(worlds) < 1:
        raise SensitivityError(f"worlds = {worlds!r} is not allowed: expected a whole number >= 1")
    cfg = C.load_config(False, [], path=config)
    ranges = screening_ranges(cfg.parameters)
    all_patterns, fitted = C.fitted_patterns(cfg)
    sim = C.Simulator(cfg, ranges, all_patterns)
    n_points = trajectories * (len(ranges.names) + 2)
    log(
        f"{len(ranges.names)} parameters and a dummy, {trajectories} trajectories = {n_points} points "
        f"x {worlds} worlds, {len(all_patterns)} patterns over {len(sim.episodes)} episodes"
    )
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0]))
    t0 = time.perf_counter()
    outputs = pattern_scores(sim, ranges, int(worlds), C.sub_seed(seed, 1), float(cfg.nan_penalty))
    table = screen(outputs, ranges.names, [p.id for p in all_patterns], int(trajectories), rng)
    table = table.rename(columns={"output": "pattern"})
    episode = {p.id: p.episode for p in all_patterns}
    table.insert(1, "episode", table["pattern"].map(episode))
    table.insert(2, "fitted", table["pattern"].isin({p.id for p in fitted}))
    table["identified"] &= table["fitted"]
    info = {n: (ranges.lo[j], ranges.hi[j], ranges.log[j], ranges.why[j]) for j, n in enumerate(ranges.names)}
    info[DUMMY] = (0.0, 1.0, False, "noise reference: read by no rule of the model")
    for k, col in enumerate(("range_lo", "range_hi", "log_scale", "range_rule")):
        table[col] = table["parameter"].map({n: v[k] for n, v in info.items()})
    seconds = time.perf_counter() - t0
    log(f"screened in {seconds:.0f} s ({sim.n_worlds} episode-worlds)")
    meta = {
        "trajectories": int(trajectories),
        "worlds": int(worlds),
        "seed": int(seed),
        "points": n_points,
        "episode_worlds_simulated": sim.n_worlds,
        "seconds": round(seconds, 1),
        "fitted_patterns": [p.id for p in fitted],
    }
    return Screening(ranges, table, verdicts(table, ranges, set(cfg.parameters)), meta)


def verdicts(table: pd.DataFrame, ranges: C.Prior, calibrated: set[str]) -> pd.DataFrame:
    """One row per behavioural parameter: ``identified``, the fitted patterns that identify it,
    its largest scaled ``mu*`` over fitted patterns, where, and the dummy's scaled ``mu*`` on
    that pattern (the noise it has to beat), whether a seed fixes it, whether
    the calibration config frees it today, and its range."""
    rows = []
    fit = table[table["fitted"]]
    for j, name in enumerate(ranges.names):
        t = fit[fit["parameter"] == name]
        best = t.loc[t["mu_star_scaled"].idxmax()] if len(t) else None
        rows.append(
            {
                "parameter": name,
                "identified": bool(t["identified"].any()),
                "identified_by": " ".join(t.loc[t["identified"], "pattern"]),
                "max_scaled_mu_star": float(best["mu_star_scaled"]) if best is not None else 0.0,
                "max_at": best["pattern"] if best is not None else "",
                "dummy_scaled_there": (
                    float(best["dummy_mu_star"] / best["mu_star"] * best["mu_star_scaled"])
                    if best is not None and best["mu_star"] > 0
                    else float("nan")
                ),
                "from_seed": FROM_SEEDS.get(name, ""),
                "calibrated_now": name in calibrated,
                "range_lo": ranges.lo[j],
                "range_hi": ranges.hi[j],
                "range_rule": ranges.why[j],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


def markdown(result: Screening, command: str) -> str:
    """``sensitivity.md``: parameter x episode (largest scaled ``mu*`` over the episode's fitted
    patterns, ``*`` where one of them identifies the parameter) and the verdict."""
    t, v, m = result.table, result.verdict, result.meta
    episodes = list(dict.fromkeys(t["episode"]))
    fit = t[t["fitted"] & (t["parameter"] != DUMMY)]
    top = fit.groupby(["parameter", "episode"])["mu_star_scaled"].max()
    hit = fit.groupby(["parameter", "episode"])["identified"].any()
    n_id = int(v["identified"].sum())
    lines = [
        "# What the documented episodes can identify: Morris screening of the behavioural parameters",
        "",
        f"`{command}`: seed {m['seed']}, {m['trajectories']} trajectories x {m['worlds']} worlds per point "
        f"({m['points']} parameter sets, {m['episode_worlds_simulated']} episode-worlds, "
        f"{m['seconds']:.0f} s).",
        "",
        "Score of a pattern: the calibration's per-draw discrepancy from its target, scaled by its spread "
        "(sim/explore/calibration.py). mu* = mean absolute elementary effect per full range "
        "(Morris 1991; Campolongo et al. 2007). A parameter is **identified** by a fitted pattern when the "
        "bootstrap 95% interval of its mu* lies wholly above that of a dummy parameter the model never reads "
        f"(the noise of {m['worlds']} worlds per draw; Khorashadi Zadeh et al. 2017) and its mu* is at least "
        f"{MIN_SCALED:g} of the largest mu* of that pattern. Ranges: the calibration prior where there is "
        "one; "
        f"else shares in [0, 1] default +- {SHARE_STEP:g}, everything else default / {RATE_FACTOR:g} to "
        f"x {RATE_FACTOR:g} on a log scale, clipped to the schema bounds.",
        "",
        f"**{n_id} of {len(v)} parameters identified.** Cells: the largest scaled mu* over the episode's "
        "fitted patterns (1 = the leading parameter of a pattern); * = identified there.",
        "",
        "| parameter | range | " + " | ".join(episodes) + " | verdict | identified by |",
        "| --- | --- | " + " | ".join("---:" for _ in episodes) + " | --- | --- |",
    ]
    for r in v.itertuples():
        cells = []
        for e in episodes:
            x = top.get((r.parameter, e), float("nan"))
            cells.append(
                "" if not np.isfinite(x) else f"{x:.2f}{'*' if hit.get((r.parameter, e), False) else ''}"
            )
        verdict = (
            "identified"
            if r.identified
            else f"not identified (largest {r.max_scaled_mu_star:.2f}, {r.max_at}; dummy there "
            f"{r.dummy_scaled_there:.2f})"
        )
        if r.from_seed:
            verdict += f"; {r.from_seed}"
        rng = f"{r.range_lo:.4g}-{r.range_hi:.4g} ({r.range_rule})"
        lines.append(
            f"| `{r.parameter}` | {rng} | " + " | ".join(cells) + f" | {verdict} | {r.identified_by} |"
        )
    unfitted = sorted(set(t.loc[~t["fitted"], "pattern"]))
    lines += [
        "",
        "Patterns screened but not fitted (weight 0 in conf/calibration.yaml): "
        + (", ".join(unfitted) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def heatmap(result: Screening, path: Path) -> Path:
    """Heat map of scaled ``mu*`` (parameters x patterns), a dot where a parameter is identified."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.table
    pats = list(dict.fromkeys(t["pattern"]))
    pars = [*result.ranges.names, DUMMY]
    M = t.pivot(index="parameter", columns="pattern", values="mu_star_scaled").loc[pars, pats]
    ident = t.pivot(index="parameter", columns="pattern", values="identified").loc[pars, pats]
    fig, ax = plt.subplots(figsize=(2 + 0.32 * len(pats), 2 + 0.22 * len(pars)))
    im = ax.imshow(M.to_numpy(float), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    yy, xx = np.nonzero(ident.to_numpy(bool))
    ax.scatter(xx, yy, s=8, c="white", marker="o", label="identified")
    ax.set_xticks(range(len(pats)), pats, rotation=90, fontsize=6)
    ax.set_yticks(range(len(pars)), pars, fontsize=6)
    fig.colorbar(im, ax=ax, label="mu* / largest mu* of the pattern", shrink=0.5)
    ax.set_title(f"Morris screening, seed {result.meta['seed']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_outputs(result: Screening, out: Path, command: str) -> list[Path]:
    """Write ``sensitivity.csv`` (long table), ``sensitivity.md``, ``verdict.csv``,
    ``sensitivity.png`` and ``run.json`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "sensitivity.csv", out / "verdict.csv", out / "sensitivity.md", out / "run.json"]
    result.table.to_csv(paths[0], index=False, float_format="%.6g")
    result.verdict.to_csv(paths[1], index=False, float_format="%.6g")
    paths[2].write_text(markdown(result, command), encoding="utf-8")
    paths[3].write_text(json.dumps({"command": command, **result.meta}, indent=2), encoding="utf-8")
    paths.append(heatmap(result, out / "sensitivity.png"))
    return paths
