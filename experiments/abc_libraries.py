"""Weigh two kept ABC libraries (pyabc, ELFI) against the hand-written ABC-PMC on one problem.

    .venv/bin/pip install -e '.[abc-compare]'
    .venv/bin/python experiments/abc_libraries.py --budget reduced --method apmc   # first: the target
    .venv/bin/python experiments/abc_libraries.py --budget reduced --method elfi
    .venv/bin/python experiments/abc_libraries.py --budget reduced --method elfi_probit
    .venv/bin/python experiments/abc_libraries.py --budget reduced --method pyabc
    .venv/bin/python experiments/abc_libraries.py --budget reduced --method apmc_seed2  # seed noise
    .venv/bin/python experiments/abc_libraries.py --report     # comparison.md + comparison.csv

The problem is the shipped calibration's (sim/explore/calibration.py, conf/calibration.yaml): the same
prior (the unit cube of :class:`sim.explore.calibration.Prior`, uniform or log-uniform per parameter),
the same batched simulator (:class:`sim.explore.calibration.Simulator`: every episode once per batch,
each draw repeated for ``worlds_per_draw`` worlds) and the same scaled distance
(:func:`sim.explore.calibration.distances`). The scales of the distance are fixed for every method:
those of the hand-written run's first generation, so one parameter set has one distance whatever
the method. The target tolerance is the hand-written run's final tolerance.

* ``apmc``: the hand-written adaptive population Monte Carlo (Lenormand, Jabot and Deffuant 2013).
* ``elfi``: ELFI's ``SMC`` (ABC-SMC of Beaumont et al. 2009 with a Gaussian-mixture proposal;
  Lintusaari et al. 2018, "ELFI: Engine for Likelihood-Free Inference", JMLR 19). ELFI hands the
  simulator a batch of ``batch_size`` parameter vectors, which is our batched simulator as it is. The
  first round keeps the best half of ``particles`` prior draws; each later round's threshold is the
  weighted median of the previous population's distances, not below the target; the last is the target.
* ``elfi_probit``: the same with the prior put on the real line (``u ~ N(0, 1)``, ``z = Phi(u)``, the
  same prior): ELFI's untruncated proposals then never fall outside it (see :func:`run_elfi`).
* ``pyabc``: pyabc's ``ABCSMC`` (Toni et al. 2009; Schaelte et al. 2022, "pyABC: Efficient and
  robust easy-to-use approximate Bayesian computation", JOSS 7) with its defaults (median epsilon,
  multivariate normal transition) and the single-core sampler. pyabc calls the model once per
  parameter vector, so each call is a batch of one draw (``worlds_per_draw`` worlds per episode).

Every method keeps ``alpha * particles`` particles (the hand-written run's posterior size; ELFI's
``n_samples`` and pyabc's ``population_size``). Each run writes ``runs/<budget>_<method>.npz`` and
``.json`` under ``--out``; ``--report`` compares every run of a budget with its ``apmc`` run.

Randomness: one numpy Generator from the run seed for the hand-written method (as the calibration);
ELFI derives its own per-round ``RandomState`` from an integer seed; pyabc draws from numpy's global
generator only, which is seeded once with the run seed (its documented way). The simulator's seeds
come from those streams, so each method is deterministic for its seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.explore import calibration as C

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "calibration_libraries"
BUDGETS = {
    # the shipped calibration's settings (conf/calibration.yaml)
    "shipped": [],
    # an identical smaller budget for all methods: a tenth of the particles, eight generations
    "reduced": ["particles=100", "generations=8"],
}
METHODS = ("apmc", "apmc_seed2", "elfi", "elfi_probit", "pyabc")
SEED2_OFFSET = 1
"""``apmc_seed2`` is the hand-written method with seed + this: how far two seeds of one method
differ (the yardstick of posterior agreement)."""


# --------------------------------------------------------------------------------------------
# Reductions: posterior margins and their agreement (tested in tests/test_abc_libraries.py)
# --------------------------------------------------------------------------------------------


def weighted_ecdf(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Share of the weight of sample ``x`` (weights ``w``) at or below each point of ``at``."""
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order]) / w.sum()
    idx = np.searchsorted(xs, at, side="right")
    return np.where(idx > 0, cw[np.maximum(idx - 1, 0)], 0.0)


def weighted_ks(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of weighted samples: the largest gap between their
    weighted empirical distribution functions (with equal weights, ``scipy.stats.ks_2samp``'s)."""
    at = np.union1d(x, y)
    return float(np.max(np.abs(weighted_ecdf(x, wx, at) - weighted_ecdf(y, wy, at))))


def margins(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``[d, 3]`` weighted 5%, 50% and 95% quantiles of each column of ``z`` (the prior's unit
    scale), interpolated as :func:`sim.explore.calibration.weighted_quantile`."""
    return np.array([C.weighted_quantile(z[:, j], w, [0.05, 0.5, 0.95]) for j in range(z.shape[1])])


def agreement(
    names: list[str], ref_z: np.ndarray, ref_w: np.ndarray, z: np.ndarray, w: np.ndarray
) -> pd.DataFrame:
    """Per parameter: the reference's and the other posterior's median and 90% interval on the
    unit scale, the difference of medians, the weighted KS statistic and the energy distance
    (Szekely and Rizzo 2013; ``scipy.stats.energy_distance`` with weights) of the two margins."""
    mr, mo = margins(ref_z, ref_w), margins(z, w)
    rows = []
    for j, name in enumerate(names):
        rows.append(
            {
                "parameter": name,
                "ref_p05": mr[j, 0],
                "ref_median": mr[j, 1],
                "ref_p95": mr[j, 2],
                "p05": mo[j, 0],
                "median": mo[j, 1],
                "p95": mo[j, 2],
                "median_diff": mo[j, 1] - mr[j, 1],
                "ks": weighted_ks(ref_z[:, j], ref_w, z[:, j], w),
                "energy": float(stats.energy_distance(ref_z[:, j], z[:, j], ref_w, w)),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The common problem
# --------------------------------------------------------------------------------------------


class Objective:
    """The calibration's distance of unit-cube draws, with fixed scales; counts draws, worlds and
    the seconds spent simulating."""

    def __init__(self, cfg, scales: np.ndarray):
        self.prior = C.Prior.from_config(cfg.parameters)
        _, self.fitted = C.fitted_patterns(cfg)
        self.sim = C.Simulator(cfg, self.prior, self.fitted)
        self.k = int(cfg.worlds_per_draw)
        self.scales = scales
        self.weights = np.array([float(cfg.patterns.get(p.id, 1.0)) for p in self.fitted])
        self.nan_penalty = float(cfg.nan_penalty)
        self.draws, self.calls, self.sim_seconds = 0, 0, 0.0

    def __call__(self, z: np.ndarray, seed: int) -> np.ndarray:
        t = time.perf_counter()
        z = np.atleast_2d(np.asarray(z, float))
        runs = self.sim.runs(self.prior.natural(z), self.k, int(seed))
        S = self.sim.statistics(runs, len(z))
        rho, _ = C.distances(S, self.fitted, self.scales, self.weights, self.nan_penalty)
        self.draws += len(z)
        self.calls += 1
        self.sim_seconds += time.perf_counter() - t
        return rho


def config(budget: str):
    """The calibration settings of ``budget`` (conf/calibration.yaml with the budget's changes)."""
    return C.load_config(False, BUDGETS[budget])


def load_run(out: Path, budget: str, method: str) -> tuple[dict, dict]:
    """The saved arrays and summary of one run."""
    stem = out / "runs" / f"{budget}_{method}"
    arrays = dict(np.load(stem.with_suffix(".npz")))
    return arrays, json.loads(stem.with_suffix(".json").read_text())


def save_run(out: Path, budget: str, method: str, arrays: dict, summary: dict) -> None:
    """Write one run's posterior (``z``, ``w``, ``d``) and its summary."""
    stem = out / "runs" / f"{budget}_{method}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    np.savez(stem.with_suffix(".npz"), **arrays)
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The three methods
# --------------------------------------------------------------------------------------------


def run_apmc(cfg, seed: int) -> tuple[dict, dict]:
    """The hand-written APMC exactly as the calibration runs it (its own scales)."""
    cfg = cfg.copy()
    cfg.seed = seed
    prior = C.Prior.from_config(cfg.parameters)
    _, fitted = C.fitted_patterns(cfg)
    sim = C.Simulator(cfg, prior, fitted)
    rng = np.random.default_rng(np.random.SeedSequence([int(cfg.seed), 0]))
    t, cpu = time.perf_counter(), time.process_time()
    post = C.apmc(sim, cfg, rng, print)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    hist = post["history"]
    summary = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "draws": int(sum(h["simulated"] for h in hist)),
        "worlds": int(sim.n_worlds),
        "tolerance": float(post["d"].max()),
        "generations": len(hist),
        "schedule": [round(h["tolerance"], 4) for h in hist],
        "schedule_seconds": [round(float(x), 1) for x in np.cumsum([h["seconds"] for h in hist])],
        "scales": [float(s) for s in post["scales"]],
    }
    return {"z": post["z"], "w": post["w"], "d": post["d"]}, summary


def run_elfi(
    cfg, obj: Objective, target: float, seed: int, limit: tuple[int, float], probit: bool = False
) -> tuple[dict, dict]:
    """ELFI's SMC on the batched simulator: round 0 keeps the best half of ``particles`` prior
    draws; round r's threshold is the weighted median of round r-1's distances, at least
    ``target``; it stops after the round at ``target`` or when the ``limit`` (draws, seconds) is
    spent.

    ELFI's proposal is an untruncated Gaussian mixture; it redraws every proposal that falls
    outside the prior's support, evaluating the prior density through its graph each time. With
    ``probit`` the prior is put on the whole real line instead: ``u ~ N(0, 1)`` per parameter and
    ``z = Phi(u)``, which is uniform on the unit cube (the same prior), so no proposal is redrawn.

    Long because ELFI's rounds are driven one at a time (each round's threshold from the last)."""
    import elfi

    n, batch = max(2, round(float(cfg.alpha) * int(cfg.particles))), int(cfg.particles)
    model = elfi.ElfiModel()
    dist = ("norm", 0.0, 1.0) if probit else ("uniform", 0.0, 1.0)
    priors = [elfi.Prior(*dist, model=model, name=p) for p in obj.prior.names]
    to_cube = stats.norm.cdf if probit else np.asarray

    def simulate(*zs, batch_size=1, random_state=None):
        return obj(to_cube(np.column_stack(zs)), int(random_state.randint(0, 2**31 - 1)))[:, None]

    out = elfi.Simulator(simulate, *priors, observed=np.zeros((1, 1)), model=model, name="rho")
    elfi.Discrepancy(lambda x, observed: x[:, 0], out, model=model, name="d")
    smc = elfi.SMC(model["d"], batch_size=batch, seed=seed)
    smc.bar = False  # set by SMC.sample, which is not used here (rounds are driven one by one)
    t, cpu = time.perf_counter(), time.process_time()
    schedule, at, reached = [], [], False
    thresholds = None
    while True:
        if thresholds is None:
            smc.set_objective(n, quantiles=[1.0 * n / batch])
        else:
            smc._quantiles = None  # later rounds: thresholds given (ELFI continues from its populations)
            smc.set_objective(n, thresholds=thresholds)
        while not smc.finished and obj.draws < limit[0] and time.perf_counter() - t < limit[1]:
            smc.iterate()
        if not smc.finished:
            break
        res = smc.extract_result()
        schedule.append(round(float(res.threshold), 4))
        at.append(round(time.perf_counter() - t, 1))
        d, w = res.discrepancies, res.weights
        if res.threshold <= target:
            reached = True
            break
        thresholds = [max(target, float(C.weighted_quantile(d, w, 0.5)))]
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    z = to_cube(np.column_stack([res.outputs[p] for p in obj.prior.names]))
    summary = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "draws": obj.draws,
        "worlds": int(obj.sim.n_worlds),
        "tolerance": float(res.threshold),
        "reached": reached,
        "generations": len(schedule),
        "schedule": schedule,
        "schedule_seconds": at,
        "sim_seconds": obj.sim_seconds,
    }
    return {"z": z, "w": w / w.sum(), "d": d}, summary


def run_pyabc(cfg, obj: Objective, target: float, seed: int, limit: tuple[int, float]) -> tuple[dict, dict]:
    """pyabc's ABCSMC with its defaults, one model call per draw, until its epsilon is at most
    ``target`` or the ``limit`` (draws, seconds) is spent."""
    import datetime

    import pyabc

    n = max(2, round(float(cfg.alpha) * int(cfg.particles)))
    names = obj.prior.names
    seeds = np.random.SeedSequence([seed, 5])

    def model(pars):
        z = np.array([[pars[p] for p in names]])
        return {"rho": float(obj(z, int(seeds.spawn(1)[0].generate_state(1)[0]))[0])}

    prior = pyabc.Distribution(**{p: pyabc.RV("uniform", 0.0, 1.0) for p in names})
    np.random.seed(seed)  # pyabc draws only from numpy's global generator
    abc = pyabc.ABCSMC(
        model,
        prior,
        lambda x, x0: x["rho"],
        population_size=n,
        sampler=pyabc.sampler.SingleCoreSampler(),
        eps=pyabc.QuantileEpsilon(alpha=float(cfg.alpha)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        abc.new(f"sqlite:///{tmp}/pyabc.db", {"rho": 0.0})
        t, cpu, start = time.perf_counter(), time.process_time(), pd.Timestamp.now()
        hist = abc.run(
            minimum_epsilon=target,
            max_total_nr_simulations=limit[0],
            max_walltime=datetime.timedelta(seconds=limit[1]),
        )
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        pops = hist.get_all_populations()
        df, w = hist.get_distribution(m=0, t=hist.max_t)
        eps = pops[pops.t >= 0].epsilon.to_numpy()
        ends = pd.to_datetime(pops[pops.t >= 0].population_end_time)
        at = (ends - start).dt.total_seconds().to_numpy()  # pyabc stamps local times
        dist = hist.get_weighted_distances(t=hist.max_t)
    summary = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "draws": obj.draws,
        "worlds": int(obj.sim.n_worlds),
        "tolerance": float(eps[-1]),
        "reached": bool(eps[-1] <= target),
        "generations": len(eps),
        "schedule": [round(float(e), 4) for e in eps],
        "schedule_seconds": [round(float(x), 1) for x in at],
        "sim_seconds": obj.sim_seconds,
    }
    arrays = {"z": df[names].to_numpy(), "w": np.asarray(w) / np.sum(w), "d": dist["distance"].to_numpy()}
    return arrays, summary


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def effective_size(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights ``w``: ``(sum w)^2 / sum w^2``."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / (w**2).sum())


def seconds_to(summary: dict, tolerance: float) -> float:
    """Seconds a run took to reach ``tolerance`` (its first generation at or below it; NaN if none)."""
    sched, at = np.array(summary["schedule"]), np.array(summary.get("schedule_seconds", []))
    hit = np.flatnonzero(sched <= tolerance + 5e-5)  # schedules are kept to 4 decimals
    return float(at[hit[0]]) if len(hit) and len(at) == len(sched) else float("nan")


def run_table(out: Path, budget: str) -> pd.DataFrame:
    """One row per saved run of ``budget``: cost (wall and CPU seconds, draws, worlds), the
    tolerance reached, the seconds to the target and what the hand-written run needed for the
    tolerance this run reached."""
    _, ref = load_run(out, budget, "apmc")
    rows = []
    for method in METHODS:
        if not (out / "runs" / f"{budget}_{method}.json").exists():
            continue
        a, s = load_run(out, budget, method)
        cpu = s.get("cpu_seconds", float("nan"))
        # another seed's run has its own distance scales (from its own first generation)
        own = method == "apmc_seed2"
        rows.append(
            {
                "budget": budget,
                "method": method,
                "seconds": round(s["seconds"], 1),
                "cpu_seconds": round(cpu, 1),
                "draws": s["draws"],
                "worlds": s["worlds"],
                "cpu_ms_per_draw": round(1000 * cpu / s["draws"], 1),
                "generations": s["generations"],
                "particles": len(a["w"]),
                "ess": round(effective_size(a["w"]), 1),
                "tolerance": round(s["tolerance"], 4),
                "target": round(ref["tolerance"], 4),
                "seconds_to_target": float("nan") if own else round(seconds_to(s, ref["tolerance"]), 1),
                "apmc_seconds_to_this_tolerance": (
                    float("nan") if own else round(seconds_to(ref, s["tolerance"]), 1)
                ),
                "schedule": " ".join(f"{x:g}" for x in s["schedule"]),
                "schedule_seconds": " ".join(f"{x:g}" for x in s.get("schedule_seconds", [])),
            }
        )
    return pd.DataFrame(rows)


def agreement_table(out: Path, budget: str, names: list[str]) -> pd.DataFrame:
    """Every run of ``budget`` against its ``apmc`` run, per parameter (:func:`agreement`)."""
    ref, _ = load_run(out, budget, "apmc")
    parts = []
    for method in METHODS[1:]:
        if not (out / "runs" / f"{budget}_{method}.npz").exists():
            continue
        a, _ = load_run(out, budget, method)
        t = agreement(names, ref["z"], ref["w"], a["z"], a["w"])
        t.insert(0, "method", method)
        t.insert(0, "budget", budget)
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def parameter_table(agree: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: each posterior's median [90% interval] on the unit scale and, for the
    others, the weighted KS statistic against the hand-written one."""
    ref = agree.drop_duplicates("parameter").set_index("parameter")
    table = pd.DataFrame(index=ref.index)
    table["apmc"] = [f"{r.ref_median:.2f} [{r.ref_p05:.2f}, {r.ref_p95:.2f}]" for r in ref.itertuples()]
    for method, t in agree.groupby("method", sort=False):
        t = t.set_index("parameter")
        table[method] = [
            f"{r.median:.2f} [{r.p05:.2f}, {r.p95:.2f}] KS {r.ks:.2f}"
            for r in t.loc[table.index].itertuples()
        ]
    return table.reset_index()


def md_table(df: pd.DataFrame) -> str:
    """A markdown table of ``df`` (numbers as pandas prints them)."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def write_report(out: Path) -> None:
    """``comparison.csv`` (per budget, method and parameter: agreement with the hand-written
    posterior and the run's cost) and ``comparison.md``."""
    names = C.Prior.from_config(config("reduced").parameters).names
    runs, agree = [], []
    for budget in BUDGETS:
        if (out / "runs" / f"{budget}_apmc.json").exists():
            runs.append(run_table(out, budget))
            agree.append(agreement_table(out, budget, names))
    runs_df, agree_df = pd.concat(runs, ignore_index=True), pd.concat(agree, ignore_index=True)
    keys = ["budget", "method", "seconds", "cpu_seconds", "draws", "worlds", "tolerance", "target"]
    keys += ["seconds_to_target", "apmc_seconds_to_this_tolerance"]
    cost = runs_df[keys]
    agree_df.merge(cost, on=["budget", "method"]).round(4).to_csv(out / "comparison.csv", index=False)
    summary = (
        agree_df.assign(abs_median_diff=agree_df.median_diff.abs())
        .groupby(["budget", "method"], sort=False)
        .agg(
            max_abs_median_diff=("abs_median_diff", "max"),
            mean_ks=("ks", "mean"),
            max_ks=("ks", "max"),
            mean_energy=("energy", "mean"),
        )
        .round(3)
        .reset_index()
    )
    lines = [
        "# ABC libraries against the hand-written ABC-PMC",
        "",
        "`python experiments/abc_libraries.py` (see its docstring): the same prior, batched simulator, "
        "patterns and scaled distance (scales fixed from the hand-written run's first generation); "
        "target tolerance = the hand-written run's final tolerance.",
        "",
        "## Cost to the target tolerance",
        "",
        "seconds: wall time of the method (the machine's 2 cores were shared with other jobs, so wall "
        "times carry noise; cpu_seconds is this process's CPU time, the kernel steps chunks on both "
        "cores). draws: parameter sets simulated (each `worlds_per_draw` worlds in every episode); "
        "worlds: episode-worlds simulated. ess: Kish's effective size of the final weights. "
        "seconds_to_target: seconds to the first generation at or below the target; "
        "apmc_seconds_to_this_tolerance: what the hand-written run needed for the tolerance this run "
        "reached (nan: never reached it). A library run stops at the target or at its limit "
        "(`--max-seconds`, 540 s). apmc_seed2's tolerances are on its own scales.",
        "",
        md_table(runs_df),
        "",
        "## Posterior agreement with the hand-written posterior (unit scale of the prior)",
        "",
        "Per method, over the parameters: the largest difference of medians, the mean and largest "
        "weighted KS statistic and the mean energy distance of the margins. `apmc_seed2` is the "
        "hand-written method with another seed: what seed noise alone gives.",
        "",
        md_table(summary),
        "",
    ]
    for budget in agree_df.budget.unique():
        part = agree_df[agree_df.budget == budget]
        lines += [f"### Per parameter, {budget} budget: median [90% interval] and KS", ""]
        lines += [md_table(parameter_table(part)), ""]
    lines += [
        "All figures per parameter (also the energy distance): comparison.csv.",
        "",
        "A method missing from a budget was not run at it: pyabc calls the model once per draw (its "
        "cpu_ms_per_draw above), so the shipped budget's draws would take it hours; ELFI on the unit "
        "cube redraws its proposals until inside the prior, which the reduced budget already shows.",
    ]
    (out / "comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", choices=list(BUDGETS), default="reduced")
    ap.add_argument("--method", choices=METHODS)
    ap.add_argument("--report", action="store_true", help="write comparison.md/.csv from saved runs")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--max-seconds", type=float, default=540.0, help="a library's wall-time limit")
    ap.add_argument("--max-draws-factor", type=float, default=20.0, help="draws limit / the apmc run's")
    args = ap.parse_args(argv)
    if args.report:
        write_report(args.out)
        print((args.out / "comparison.md").read_text())
        return 0
    if args.method is None:
        ap.error("--method or --report is required")
    cfg = config(args.budget)
    seed = int(cfg.seed)
    if args.method.startswith("apmc"):
        arrays, summary = run_apmc(cfg, seed + (SEED2_OFFSET if args.method == "apmc_seed2" else 0))
        if args.method == "apmc_seed2":
            summary["target"] = load_run(args.out, args.budget, "apmc")[1]["tolerance"]
            summary["reached"] = summary["tolerance"] <= summary["target"]
    else:
        _, ref = load_run(args.out, args.budget, "apmc")
        obj = Objective(cfg, np.array(ref["scales"]))
        limit = (int(args.max_draws_factor * ref["draws"]), args.max_seconds)
        if args.method == "pyabc":
            arrays, summary = run_pyabc(cfg, obj, ref["tolerance"], seed, limit)
        else:
            arrays, summary = run_elfi(cfg, obj, ref["tolerance"], seed, limit, args.method == "elfi_probit")
        summary["target"] = ref["tolerance"]
        summary["limit"] = {"draws": limit[0], "seconds": limit[1]}
    save_run(args.out, args.budget, args.method, arrays, summary)
    print(json.dumps({k: v for k, v in summary.items() if k != "scales"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
