"""Calibrate the shared behavioural parameters against every documented episode at once.

    negsim-calibrate                 # full run: conf/calibration.yaml, writes conf/behaviour.yaml
    negsim-calibrate --quick         # small run (CI): writes only into results/calibration_quick
    negsim-calibrate --out DIR --behaviour-out PATH seed=7 particles=400

(or ``python -m sim.cli.calibrate``; the command line is :mod:`sim.cli.calibrate`, the method
is here.)

Approximate Bayesian computation by adaptive population Monte Carlo (APMC; Lenormand, Jabot and
Deffuant 2013, "Adaptive approximate Bayesian computation for complex models", Computational
Statistics 28). Why not a library: APMC suits this model because every generation is ONE batch
per episode (each parameter draw repeated for K worlds through the per-world parameter table of
``sim.run``). Weighed on this calibration's problem (``experiments/abc_libraries.py``,
``results/calibration_libraries/comparison.md``): ELFI's SMC, fed the same batched simulator,
reached the tolerance this one reaches after 153 s only after 486 s, with an effective sample
size of 9 against 250 of 500; pyabc calls the model once per draw and was 24x slower at a reduced
budget.

Each generation: draw parameter sets (the first from the prior by Latin hypercube, later ones
by perturbing kept particles with a truncated-normal kernel of twice their weighted variance),
run each episode once with N x K worlds, reduce every pattern of :mod:`sim.report.patterns` to one
statistic per draw, and compute the distance to the observations (each statistic's distance
from its observed range, scaled by its spread under the prior, weighted, root mean square).
The alpha * N particles of smallest distance are kept, with importance weights prior / proposal.

Outputs (``--out``, default ``results/calibration``): ``particles.parquet`` (the kept particles,
their weights and distances), ``posterior.parquet`` (the thinned posterior sample: at most
``posterior_particles`` equal-weight particles, :func:`thin`), ``pinned.csv`` / ``pinned.md``
(posterior against prior width per parameter), ``generations.csv`` (tolerance schedule),
``selection.csv`` (candidates for the shipped set) and ``run.json``; and the chosen set as
``conf/behaviour.yaml`` (``--behaviour-out``), with ``posterior.parquet`` and ``pinned.md`` beside
it (the shipped posterior that ``sim.run(..., behaviour="posterior")`` reads).
The run is deterministic for a given seed (numpy Generators from SeedSequence throughout; the
simulations do not depend on the number of workers, nor on ``executor``: with ``executor=dask``
or ``ray`` and ``executor_address`` every episode run of a generation is stepped by the workers of
a cluster, :mod:`sim.running.cluster`).
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
from omegaconf import OmegaConf
from scipy import stats
from scipy.stats import qmc

from sim.inputs.fields import lookup
from sim.inputs.scenarios import BEHAVIOUR_FILE
from sim.inputs.schema import Behaviour, ScenarioError
from sim.inputs.settings import check_executor
from sim.report import patterns as V
from sim.running import cluster
from sim.running.files import write_parquet_atomic

CONFIG = BEHAVIOUR_FILE.parent / "calibration.yaml"
"""Priors, patterns, weights and budget of the calibration (beside the behaviour file it writes)."""
COMMAND = "python -m sim.cli.calibrate"
"""How the outputs name the command that made them."""
POSTERIOR_PARTICLES = 300
"""Particles of the shipped posterior sample unless ``posterior_particles`` of the config says."""


class CalibrationConfigError(ValueError):
    """A setting of conf/calibration.yaml is not allowed (the message names it)."""


# --------------------------------------------------------------------------------------------
# Prior
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Prior:
    """Independent uniform or log-uniform priors; particles live in the unit cube ``z``."""

    names: list[str]
    lo: np.ndarray
    hi: np.ndarray
    log: np.ndarray
    why: list[str]

    @classmethod
    def from_config(cls, parameters) -> Prior:
        names, lo, hi, log, why = [], [], [], [], []
        fields = {f.name: f for f in dataclasses.fields(Behaviour)}
        for name, spec in parameters.items():
            if name not in fields:
                raise CalibrationConfigError(
                    f"calibration.yaml: parameters.{name} is not a field of sim.inputs.schema.Behaviour"
                )
            f = fields[name]
            a, b = float(spec["lo"]), float(spec["hi"])
            flo, fhi = f.metadata.get("lo"), f.metadata.get("hi")
            if not (a < b) or (flo is not None and a < flo) or (fhi is not None and b > fhi):
                raise CalibrationConfigError(
                    f"calibration.yaml: parameters.{name} range {a}-{b} must be increasing "
                    f"and inside the schema's {flo}-{fhi}"
                )
            scale = str(spec.get("scale", "linear"))
            if scale not in ("linear", "log") or (scale == "log" and a <= 0):
                raise CalibrationConfigError(
                    f"calibration.yaml: parameters.{name}.scale must be linear or log (log needs lo > 0)"
                )
            names.append(name)
            lo.append(a)
            hi.append(b)
            log.append(scale == "log")
            why.append(str(spec.get("why", "")))
        return cls(names, np.array(lo), np.array(hi), np.array(log), why)

    @property
    def d(self) -> int:
        return len(self.names)

    def _ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Prior ends on the prior's scale (log for log-uniform priors)."""
        a = np.where(self.log, np.log(np.where(self.log, self.lo, 1.0)), self.lo)
        b = np.where(self.log, np.log(np.where(self.log, self.hi, 1.0)), self.hi)
        return a, b

    def natural(self, z: np.ndarray) -> np.ndarray:
        """Parameter values of unit-cube points ``z`` ``[n, d]``."""
        a, b = self._ends()
        x = a + np.clip(z, 0.0, 1.0) * (b - a)
        return np.where(self.log, np.exp(np.where(self.log, x, 0.0)), x)


# --------------------------------------------------------------------------------------------
# Simulation and distance
# --------------------------------------------------------------------------------------------


def base_overrides(cfg) -> dict[str, float]:
    """Every behavioural field at its schema default (or its ``fixed`` value): the calibration
    never reads the conf/behaviour.yaml it writes."""
    out = {f"behaviour.{f.name}": f.default for f in dataclasses.fields(Behaviour)}
    for name, value in (cfg.get("fixed") or {}).items():
        out[f"behaviour.{name}"] = float(value)
    return out


def sub_seed(seed: int, *path: int) -> int:
    """Seed of one part of the calibration (a generation, the selection) from the run seed."""
    return int(np.random.SeedSequence([int(seed), *path]).generate_state(1)[0])


class Simulator:
    """Runs parameter draws through every episode and reduces the patterns per draw."""

    def __init__(self, cfg, prior: Prior, patterns: list[V.Pattern]):
        self.cfg, self.prior, self.patterns = cfg, prior, patterns
        self.base = base_overrides(cfg)
        self.episodes = sorted({e for p in patterns for e in p.episodes}, key=list(V.EPISODES).index)
        self.workers = int(cfg.workers)
        self.executor = cfg.get("executor", "local")
        self.executor_address = cfg.get("executor_address", None)
        try:
            # a missing engine or an unreachable cluster stops here, before the first generation
            check_executor(self.executor, self.executor_address, self.workers)
            cluster.connect(self.executor, self.executor_address)
        except ScenarioError as e:
            raise CalibrationConfigError(f"calibration.yaml: {e}") from None
        self.n_worlds = 0

    def runs(self, theta: np.ndarray, k: int, seed: int) -> dict[str, V.EpisodeRun]:
        """Every episode once, with each parameter set of ``theta`` repeated for ``k`` worlds."""
        table = pd.DataFrame(
            np.repeat(theta, k, axis=0), columns=[f"behaviour.{n}" for n in self.prior.names]
        )
        self.n_worlds += len(table) * len(self.episodes)
        return V.run_episodes(
            len(table),
            seed,
            names=self.episodes,
            params=table,
            overrides=self.base,
            workers=self.workers,
            executor=self.executor,
            executor_address=self.executor_address,
        )

    def statistics(self, runs, draws: int) -> np.ndarray:
        """``[draws, patterns]`` per-draw statistics."""
        return np.column_stack([V.per_draw(p, p.per_world(runs), draws) for p in self.patterns])


def scales_from(S: np.ndarray, patterns: list[V.Pattern]) -> np.ndarray:
    """Spread of each statistic across prior draws (1.4826 MAD, at least half the standard
    deviation), with a floor (0.05 for shares and relations) so no statistic dominates."""
    out = []
    for j, p in enumerate(patterns):
        x = S[:, j]
        x = x[np.isfinite(x)]
        floor = (
            0.05
            if p.kind != "value"
            else 1e-3 * max(1.0, abs(p.target[0]) if math.isfinite(p.target[0]) else 1.0)
        )
        if len(x) < 2:
            out.append(max(floor, 1.0))
            continue
        mad = 1.4826 * np.median(np.abs(x - np.median(x)))
        out.append(max(mad, 0.5 * np.std(x), floor))
    return np.array(out)


def distances(
    S: np.ndarray, patterns: list[V.Pattern], scales: np.ndarray, weights: np.ndarray, nan_penalty: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every draw (weighted root mean square of scaled discrepancies) and the
    scaled discrepancies ``[draws, patterns]``."""
    D = np.empty_like(S)
    for j, p in enumerate(patterns):
        D[:, j] = V.discrepancy(S[:, j], p.target) / scales[j]
    D = np.where(np.isnan(D), nan_penalty, D)
    rho = np.sqrt((D**2 * weights).sum(axis=1) / weights.sum())
    return rho, D


# --------------------------------------------------------------------------------------------
# APMC
# --------------------------------------------------------------------------------------------


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of values ``x`` with weights ``w`` (interpolated at mid-weights)."""
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    c = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, c, x)


def kernel_sample(rng, centres: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Truncated-normal perturbation inside the unit cube, per dimension."""
    a = (0.0 - centres) / sigma
    b = (1.0 - centres) / sigma
    return stats.truncnorm.rvs(a, b, loc=centres, scale=sigma, random_state=rng)


def kernel_density(z: np.ndarray, centres: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``[len(z), len(centres)]`` densities of the truncated-normal kernel."""
    out = np.ones((len(z), len(centres)))
    for j in range(z.shape[1]):
        s = sigma[j]
        c = centres[:, j][None, :]
        norm = stats.norm.cdf((1.0 - c) / s) - stats.norm.cdf((0.0 - c) / s)
        out *= stats.norm.pdf((z[:, j][:, None] - c) / s) / (s * norm)
    return out


def apmc(sim: Simulator, cfg, rng, log) -> dict:
    """Adaptive population Monte Carlo: the kept particles ``z`` (unit cube), their normalised
    weights ``w``, distances ``d`` and ``generation``, the statistics' ``scales`` and
    ``weights``, and the ``history`` of tolerances (see the module doc).


    Long because the loop over generations of the algorithm (Lenormand et al. 2013) reads best in
    one piece.
    """
    prior, pats = sim.prior, sim.patterns
    N, K = int(cfg.particles), int(cfg.worlds_per_draw)
    keep = max(2, int(round(float(cfg.alpha) * N)))
    weights = np.array([float(cfg.patterns.get(p.id, 1.0)) for p in pats])
    z0 = qmc.LatinHypercube(prior.d, rng=rng).random(N)
    t = time.perf_counter()
    S = sim.statistics(sim.runs(prior.natural(z0), K, sub_seed(cfg.seed, 1, 0)), N)
    scales = scales_from(S, pats)
    rho, _ = distances(S, pats, scales, weights, float(cfg.nan_penalty))
    order = np.argsort(rho, kind="stable")[:keep]
    z, w, d, gen = z0[order], np.ones(keep), rho[order], np.zeros(keep, int)
    eps = float(d.max())
    history = [
        {
            "generation": 0,
            "simulated": N,
            "tolerance": eps,
            "acceptance": 1.0,
            "seconds": round(time.perf_counter() - t, 1),
        }
    ]
    log(f"generation 0: {N} draws x {K} worlds, tolerance {eps:.3f} ({history[-1]['seconds']} s)")
    for g in range(1, int(cfg.generations)):
        t = time.perf_counter()
        wn = w / w.sum()
        mean = (wn[:, None] * z).sum(axis=0)
        sigma = np.sqrt(2.0 * (wn[:, None] * (z - mean) ** 2).sum(axis=0))
        sigma = np.maximum(sigma, 1e-3)
        m = N - keep
        parents = rng.choice(keep, size=m, p=wn)
        znew = kernel_sample(rng, z[parents], sigma[None, :])
        Sn = sim.statistics(sim.runs(prior.natural(znew), K, sub_seed(cfg.seed, 1, g)), m)
        rn, _ = distances(Sn, pats, scales, weights, float(cfg.nan_penalty))
        # importance weights: uniform prior over the cube / mixture of kernels around the parents
        wnew = 1.0 / (kernel_density(znew, z, sigma) @ wn)
        acceptance = float(np.mean(rn < eps))
        z_all = np.vstack([z, znew])
        w_all = np.concatenate([w, wnew])
        d_all = np.concatenate([d, rn])
        g_all = np.concatenate([gen, np.full(m, g)])
        order = np.argsort(d_all, kind="stable")[:keep]
        z, w, d, gen = z_all[order], w_all[order], d_all[order], g_all[order]
        eps = float(d.max())
        history.append(
            {
                "generation": g,
                "simulated": m,
                "tolerance": eps,
                "acceptance": acceptance,
                "seconds": round(time.perf_counter() - t, 1),
            }
        )
        log(
            f"generation {g}: {m} draws, acceptance {acceptance:.3f}, tolerance {eps:.3f} "
            f"({history[-1]['seconds']} s)"
        )
        if acceptance < float(cfg.min_acceptance):
            break
    return {
        "z": z,
        "w": w / w.sum(),
        "d": d,
        "generation": gen,
        "scales": scales,
        "weights": weights,
        "history": history,
    }


# --------------------------------------------------------------------------------------------
# Choosing the shipped set
# --------------------------------------------------------------------------------------------


def round_sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (as the chosen set is shipped)."""
    return float(f"{x:.{digits}g}")


def select(
    sim: Simulator, post: dict, cfg, all_patterns: list[V.Pattern], log
) -> tuple[int, pd.DataFrame, np.ndarray]:
    """Re-simulate candidate sets with more worlds and keep the one whose worlds put the most
    observations inside their 90% interval (the report's rule), the ABC distance breaking ties.

    Candidates: the posterior's weighted median (per parameter) and the particles of smallest
    distance, each rounded to 4 significant digits as shipped."""
    prior = sim.prior
    C, R = int(cfg.selection.candidates), int(cfg.selection.worlds)
    med = np.array([weighted_quantile(post["z"][:, j], post["w"], 0.5) for j in range(prior.d)])
    cand = [med] + [post["z"][i] for i in np.argsort(post["d"], kind="stable")[: max(C - 1, 0)]]
    theta = np.array([[round_sig(v) for v in prior.natural(c[None, :])[0]] for c in cand])
    runs = sim.runs(theta, R, sub_seed(cfg.seed, 2))
    S = sim.statistics(runs, len(theta))
    rho, _ = distances(S, sim.patterns, post["scales"], post["weights"], float(cfg.nan_penalty))
    rows = []
    for c in range(len(theta)):
        sub = V.subset(runs, np.arange(c * R, (c + 1) * R))
        outs = V.evaluate_all(sub, all_patterns, seed=sub_seed(cfg.seed, 3))
        passed, judged = V.pass_fraction(outs)
        rows.append(
            {
                "candidate": c,
                "source": "posterior median" if c == 0 else f"particle {c}",
                "passed": passed,
                "judged": judged,
                "distance": float(rho[c]),
                **dict(zip(prior.names, theta[c], strict=False)),
                "failing": " ".join(o.pattern.id for o in outs if o.passed is False),
            }
        )
        log(f"candidate {c} ({rows[-1]['source']}): {passed}/{judged} patterns pass, distance {rho[c]:.3f}")
    table = pd.DataFrame(rows)
    best = int(
        table.sort_values(["passed", "distance", "candidate"], ascending=[False, True, True]).iloc[0][
            "candidate"
        ]
    )
    return best, table, theta[best]


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


def systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` equal-weight draws from particles of normalised ``weights`` by systematic
    resampling (Kitagawa 1996, "Monte Carlo filter and smoother for non-Gaussian nonlinear state
    space models", J. Comp. Graph. Stat. 5; Douc, Cappe and Moulines 2005): one uniform offset,
    ``n`` evenly spaced points, so each particle appears ``floor(n w)`` or ``ceil(n w)`` times."""
    cdf = np.cumsum(weights / weights.sum())
    points = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(cdf, points, side="right"), len(weights) - 1)


def thin(prior: Prior, post: dict, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """The shipped posterior sample: at most ``n`` equal-weight particles drawn from the weighted
    kept particles by :func:`systematic_resample`; one column per calibrated parameter (its
    behavioural field name) and ``particle`` (0 .. P-1).

    Raises:
        CalibrationConfigError: ``n`` is below 1.
    """
    if n < 1:
        raise CalibrationConfigError(f"calibration.yaml: posterior_particles = {n} must be at least 1")
    idx = systematic_resample(post["w"], min(n, len(post["w"])), rng)
    out = pd.DataFrame(prior.natural(post["z"][idx]), columns=prior.names)
    out["particle"] = np.arange(len(out), dtype=np.int64)
    return out


def posterior_fields(prior: Prior, cfg, quick: bool) -> dict[str, dict[str, str]]:
    """Parquet field metadata of the thinned posterior: unit, meaning and provenance per column."""
    source = (
        f"`{COMMAND}{' --quick' if quick else ''}` (config conf/calibration.yaml, seed {cfg.seed}): "
        "equal-weight particles resampled systematically from the ABC-PMC posterior"
    )
    out = {}
    for name in prior.names:
        sf = lookup(f"behaviour.{name}")
        out[name] = {
            "unit": sf.unit,
            "meaning": f"posterior sample of behaviour.{name}: {sf.doc}",
            "source": source,
        }
    out["particle"] = {"unit": "index", "meaning": "particle number, 0 .. P-1", "source": source}
    return out


def pinned_table(prior: Prior, post: dict) -> pd.DataFrame:
    """Posterior against prior per parameter. Widths are compared on the prior's own scale
    (log for log-uniform priors): the posterior's 90% credible interval over the prior's."""
    rows = []
    theta = prior.natural(post["z"])
    for j, name in enumerate(prior.names):
        zq = weighted_quantile(post["z"][:, j], post["w"], [0.05, 0.5, 0.95])
        xq = weighted_quantile(theta[:, j], post["w"], [0.05, 0.5, 0.95])
        ratio = float((zq[2] - zq[0]) / 0.9)
        verdict = (
            "pinned down"
            if ratio < 1 / 3
            else "partly pinned"
            if ratio < 2 / 3
            else "not pinned: the patterns hardly constrain it"
        )
        rows.append(
            {
                "parameter": name,
                "prior_lo": prior.lo[j],
                "prior_hi": prior.hi[j],
                "scale": "log" if prior.log[j] else "linear",
                "posterior_p05": xq[0],
                "posterior_median": xq[1],
                "posterior_p95": xq[2],
                "width_ratio": round(ratio, 3),
                "verdict": verdict,
                "why": prior.why[j],
            }
        )
    return pd.DataFrame(rows)


def pinned_markdown(table: pd.DataFrame, chosen: dict, header: str) -> str:
    """``pinned.md``: the table of :func:`pinned_table` with the shipped values."""
    lines = [
        header,
        "",
        "Width ratio = width of the posterior's 90% credible interval over the width of the "
        "prior's central 90%, on the prior's scale (log for log-uniform priors): near 1 the "
        "patterns do not constrain the parameter, near 0 they pin it down.",
        "",
        "| parameter | prior | posterior median | posterior 90% | width ratio | verdict | shipped "
        "| why this prior |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        lines.append(
            f"| `{r.parameter}` | {r.prior_lo:.4g}-{r.prior_hi:.4g} ({r.scale}) | "
            f"{r.posterior_median:.4g} | {r.posterior_p05:.4g}-{r.posterior_p95:.4g} | "
            f"{r.width_ratio:.2f} | {r.verdict} | {chosen[r.parameter]:.4g} | {r.why} |"
        )
    return "\n".join(lines) + "\n"


def behaviour_yaml(prior: Prior, chosen: dict, cfg, quick: bool) -> str:
    """The behaviour file: only the calibrated and fixed behavioural values (the rest keep their
    schema defaults)."""
    fixed = dict(cfg.get("fixed") or {})
    cmd = COMMAND + (" --quick" if quick else "")
    lines = [
        "# Shared behavioural parameters: every scenario starts from these "
        "(sim/inputs/scenarios.py, BEHAVIOUR_FILE).",
        f"# Produced by the calibration: `{cmd}` (config conf/calibration.yaml, seed {cfg.seed}).",
        "# Do not edit by hand: change conf/calibration.yaml and rerun that command.",
        "# Calibrated values come from approximate Bayesian computation over all documented episodes",
        "# (results/calibration/pinned.md). Only the calibrated values are here: every other behavioural",
        "# field keeps its default, declared once in sim/inputs/schema.py (Behaviour).",
        "behaviour:",
    ]
    for f in dataclasses.fields(Behaviour):
        if f.name in chosen:
            value, note = chosen[f.name], "calibrated"
        elif f.name in fixed:
            value, note = float(fixed[f.name]), "fixed in conf/calibration.yaml"
        else:
            continue
        lines.append(f"  {f.name}: {value!r:<12} # {note}")
    return "\n".join(lines) + "\n"


def load_config(quick: bool, dotlist: list[str], path: Path = CONFIG):
    """The calibration settings: ``path``, with its ``quick`` block merged in when ``quick``
    and ``KEY=VALUE`` settings of ``dotlist`` on top."""
    cfg = OmegaConf.load(path)
    quick_cfg = cfg.pop("quick", None)
    if quick and quick_cfg is not None:
        cfg = OmegaConf.merge(cfg, quick_cfg)
    if dotlist:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(dotlist))
    return cfg


# --------------------------------------------------------------------------------------------
# A whole calibration
# --------------------------------------------------------------------------------------------


def fitted_patterns(cfg) -> tuple[list[V.Pattern], list[V.Pattern]]:
    """Every pattern of the report and those fitted (weight above 0 in ``cfg.patterns``; a row
    that is not a test, ``Pattern.not_a_test``, is never fitted).

    Raises:
        CalibrationConfigError: a pattern id of ``cfg.patterns`` is not a pattern.
    """
    all_patterns = V.build_patterns()
    unknown = sorted(set(cfg.patterns) - {p.id for p in all_patterns})
    if unknown:
        raise CalibrationConfigError(f"calibration.yaml: unknown pattern ids {unknown}")
    fitted = [p for p in all_patterns if float(cfg.patterns.get(p.id, 1.0)) > 0 and not p.not_a_test]
    return all_patterns, fitted


@dataclasses.dataclass
class Calibration:
    """What a calibration found: the prior, the fitted patterns, the posterior (:func:`apmc`),
    the candidates re-simulated for the shipped set and the chosen values."""

    prior: Prior
    fitted: list[V.Pattern]
    posterior: dict
    best: int
    selection: pd.DataFrame
    chosen: dict[str, float]
    worlds_simulated: int
    thinned: pd.DataFrame


def calibrate(cfg, log: Callable[[str], None]) -> Calibration:
    """Run the calibration of settings ``cfg`` (see :func:`load_config`); ``log`` gets progress lines.

    Raises:
        CalibrationConfigError: a parameter or pattern of ``cfg`` is not allowed.
    """
    prior = Prior.from_config(cfg.parameters)
    all_patterns, fitted = fitted_patterns(cfg)
    sim = Simulator(cfg, prior, fitted)
    rng = np.random.default_rng(np.random.SeedSequence([int(cfg.seed), 0]))
    log(
        f"{prior.d} parameters, {len(fitted)} patterns over {len(sim.episodes)} episodes; "
        f"{cfg.particles} particles x {cfg.worlds_per_draw} worlds"
    )
    post = apmc(sim, cfg, rng, log)
    # the selection draws nothing from rng: thinning here leaves the shipped set unchanged
    thinned = thin(prior, post, int(cfg.get("posterior_particles", POSTERIOR_PARTICLES)), rng)
    best, selection, theta = select(sim, post, cfg, all_patterns, log)
    chosen = dict(zip(prior.names, (float(v) for v in theta), strict=False))
    return Calibration(prior, fitted, post, best, selection, chosen, sim.n_worlds, thinned)


def write_outputs(
    result: Calibration, cfg, out: Path, behaviour_out: Path, quick: bool, command: str, seconds: float
) -> None:
    """Write the posterior, ``pinned.csv``/``.md``, ``generations.csv``, ``selection.csv``, the
    behaviour file (to ``behaviour_out`` and ``out``) and ``run.json`` (see the module doc)."""
    prior, post, chosen = result.prior, result.posterior, result.chosen
    posterior = pd.DataFrame(prior.natural(post["z"]), columns=prior.names)
    posterior["weight"] = post["w"]
    posterior["distance"] = post["d"]
    posterior["generation"] = post["generation"]
    posterior.to_parquet(out / "particles.parquet", index=False)
    pinned = pinned_table(prior, post)
    pinned["shipped"] = [chosen[n] for n in pinned["parameter"]]
    pinned.to_csv(out / "pinned.csv", index=False)
    header = (
        f"# How well the calibration pins each parameter down\n\n"
        f"`{COMMAND}{' --quick' if quick else ''}`, seed {cfg.seed}: {len(posterior)} "
        f"posterior particles after {len(post['history'])} generations."
    )
    pinned_md = pinned_markdown(pinned, chosen, header)
    fields = posterior_fields(prior, cfg, quick)
    # the thinned sample and pinned.md go beside the behaviour file (conf/ for a full run) and in out
    for folder in dict.fromkeys([out, behaviour_out.parent]):
        folder.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(result.thinned, folder / "posterior.parquet", fields=fields)
        (folder / "pinned.md").write_text(pinned_md, encoding="utf-8")
    pd.DataFrame(post["history"]).to_csv(out / "generations.csv", index=False)
    result.selection.to_csv(out / "selection.csv", index=False)
    text = behaviour_yaml(prior, chosen, cfg, quick)
    behaviour_out.parent.mkdir(parents=True, exist_ok=True)
    behaviour_out.write_text(text, encoding="utf-8")
    (out / "behaviour.yaml").write_text(text, encoding="utf-8")
    meta = {
        "command": command,
        "config": OmegaConf.to_container(cfg),
        "seconds": round(seconds, 1),
        "worlds_simulated": result.worlds_simulated,
        "generations": len(post["history"]),
        "chosen_candidate": result.best,
        "chosen": chosen,
        "scales": dict(zip([p.id for p in result.fitted], map(float, post["scales"]), strict=False)),
        "behaviour_file": str(behaviour_out),
    }
    (out / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
