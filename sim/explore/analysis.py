"""Sensitivity analysis and scenario discovery over per-world parameters.

Both run their whole design as ONE batch: every sampled point is repeated ``worlds_per_point``
times as rows of a per-world parameter table and passed to :func:`sim.run` once, so a design of
thousands of points costs one vectorized run.

- :func:`sobol`: variance-based sensitivity (Sobol first-order S1 and total ST indices with
  bootstrap confidence) with SALib: ``SALib.sample.sobol.sample`` (Saltelli's scheme on a
  scrambled Sobol sequence) and ``SALib.analyze.sobol.analyze``. Each point's worlds are reduced
  to the outcome's mean (or share), which is what the indices decompose.
- :func:`discover`: scenario discovery, PRIM (Friedman and Fisher's Patient Rule Induction
  Method) over a Latin hypercube design (``scipy.stats.qmc.LatinHypercube``): the box of
  parameter values inside which an outcome of interest (for example a first ceasefire lasting
  past 180 days) is likely, reported as readable bounds with coverage and density.

Which libraries and why: SALib for the Sobol indices (the reference implementation of Saltelli's
estimators, with bootstrap confidence intervals), and the EMA Workbench (``ema_workbench``,
TU Delft, the standard tool for scenario discovery in exploratory modelling) for PRIM: its
:class:`~ema_workbench.analysis.prim.Prim` peels with the lenient objective and then pastes,
and :func:`prim` reads its peeling trajectory. The workbench brings scikit-learn, statsmodels
and seaborn and loads pyplot when imported, so it is imported only when :func:`prim` runs.
(``prim`` 1.0.0, the standalone port, is GPL-3 licensed; this project is MIT.)

PRIM in brief: start from the box spanning the sampled ranges. Repeatedly cut off the
``peel_alpha`` share of the points still in the box at the low or high end of one parameter,
choosing the cut that raises the share of cases of interest in the box (its *density*) most per
point lost; stop before the box holds fewer than ``min_mass`` of all points. Along the way,
*coverage* (the share of all cases of interest that lie inside the box) falls while density
rises; :func:`prim` returns the whole trajectory and picks the densest box that still covers at
least ``min_coverage`` of the cases.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from sim.inputs.params import tunable_paths
from sim.inputs.scenarios import load_scenario
from sim.inputs.schema import Scenario, ScenarioError
from sim.running.ensemble import run
from sim.running.reductions import OUTCOME_LABELS, param_label
from sim.running.reductions import outcome as outcome_spec

__all__ = ["grid", "run_points", "sobol", "sobol_bar", "prim", "discover", "Discovery", "discovery_plot"]

Ranges = Mapping[str, tuple[float, float]]


# --------------------------------------------------------------------------------------------
# Designs run as one batch
# --------------------------------------------------------------------------------------------


def _scenario(scenario: str | Path | Scenario) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _check_ranges(s: Scenario, ranges: Ranges) -> tuple[list[str], list[list[float]]]:
    """Names and bounds of the swept fields, checked against the scenario's declarations."""
    if not ranges:
        raise ScenarioError("ranges is empty: give at least one {field path: (low, high)}")
    paths = tunable_paths(s)
    names, bounds = [], []
    for path, rng in ranges.items():
        if path not in paths:
            near = sorted(p for p in paths if p.split(".")[-1] == path.split(".")[-1])
            hint = f"; did you mean one of {near[:5]}" if near else ""
            raise ScenarioError(
                f"ranges: {path!r} is not a tunable field of {s.name or 'the scenario'}{hint}"
            )
        f = paths[path][0]
        if f.type in ("bool", bool):
            raise ScenarioError(
                f"ranges: {path!r} is a yes/no field; only numeric fields can be sampled over a range"
            )
        try:
            lo, hi = (float(v) for v in rng)
        except (TypeError, ValueError):
            raise ScenarioError(f"ranges[{path!r}] = {rng!r} is not allowed: expected (low, high)") from None
        if not lo < hi:
            raise ScenarioError(f"ranges[{path!r}] = ({lo}, {hi}) is not allowed: low must be below high")
        flo, fhi = f.metadata.get("lo"), f.metadata.get("hi")
        if (flo is not None and lo < flo) or (fhi is not None and hi > fhi):
            raise ScenarioError(
                f"ranges[{path!r}] = ({lo}, {hi}) is not allowed: the field allows {flo} to {fhi}"
            )
        names.append(path)
        bounds.append([lo, hi])
    return names, bounds


def _round_integers(s: Scenario, points: pd.DataFrame) -> pd.DataFrame:
    paths = tunable_paths(s)
    out = points.copy()
    for c in out.columns:
        if c in paths and paths[c][0].metadata.get("integer"):
            out[c] = np.round(out[c].to_numpy(dtype=float))
    return out


def grid(values: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Full factorial design: one row per combination of the given field values."""
    names = list(values)
    mesh = np.meshgrid(*[np.asarray(values[n], dtype=float) for n in names], indexing="ij")
    return pd.DataFrame({n: m.reshape(-1) for n, m in zip(names, mesh, strict=False)})


def run_points(
    scenario: str | Path | Scenario,
    points: pd.DataFrame,
    worlds_per_point: int,
    days: int = 730,
    seed: int = 0,
    **run_kwargs: Any,
) -> pd.DataFrame:
    """Run a design of parameter points as one batch.

    Args:
        scenario: shipped name, YAML path or loaded scenario.
        points: one row per point, columns are dotted scenario fields.
        worlds_per_point: worlds each point gets (consecutive world indices).
        days, seed: run settings; ``run_kwargs`` go to :func:`sim.run`.

    Returns:
        One row per (point, world): ``point``, the point's parameter values, then the outcome
        columns. ``attrs`` carries ``scenario``, ``seed``, ``days``, ``worlds_per_point``.
    """
    if (
        isinstance(worlds_per_point, bool)
        or not isinstance(worlds_per_point, (int, np.integer))
        or worlds_per_point < 1
    ):
        raise ScenarioError(
            f"worlds_per_point = {worlds_per_point!r} is not allowed: expected a whole number of at least 1"
        )
    s = _scenario(scenario)
    pts = points.reset_index(drop=True)
    params = pts.loc[pts.index.repeat(worlds_per_point)].reset_index(drop=True)
    res = run(s, worlds=len(params), days=days, seed=seed, params=params, **run_kwargs)
    table = pd.concat(
        [pd.DataFrame({"point": np.repeat(np.arange(len(pts)), worlds_per_point)}), params, res.worlds],
        axis=1,
    )
    table.attrs.update(
        scenario=res.scenario, seed=int(seed), days=int(days), worlds_per_point=int(worlds_per_point)
    )
    return table


# --------------------------------------------------------------------------------------------
# Sobol sensitivity
# --------------------------------------------------------------------------------------------


def sobol(
    scenario: str | Path | Scenario,
    ranges: Ranges,
    outcomes: Sequence[str] = ("ceasefire_days", "ttp_attacks", "survives_90"),
    n: int = 64,
    worlds_per_point: int = 50,
    seed: int = 0,
    days: int = 730,
    calc_second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sobol sensitivity indices of outcome means to per-world parameters, as one batch.

    Samples ``n * (D + 2)`` points (``n * (2D + 2)`` with second order) with
    ``SALib.sample.sobol.sample``, runs every point ``worlds_per_point`` times in one
    :func:`sim.run`, reduces each point's worlds to the outcome (mean of a column, or a share such
    as ``survives_90``; see :mod:`sim.running.reductions`) and analyses each outcome with
    ``SALib.analyze.sobol.analyze``. Integer fields are rounded after sampling.

    The model is stochastic: world noise that ``worlds_per_point`` does not average out shows as
    indices that do not add up and as wide confidence intervals. ``n`` should be a power of 2.

    Returns:
        Tidy table, one row per (outcome, parameter): ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
        ``attrs`` holds the design size, seed and scenario. An outcome with no value at some
        point (for example ``survives_90`` where no world reached a ceasefire) gets NaN indices.

    Long because its ten keyword arguments take a line each; the body is one SALib sample, one
    batch and one analysis per outcome.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    s = _scenario(scenario)
    names, bounds = _check_ranges(s, ranges)
    specs = [outcome_spec(o) for o in outcomes]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        X = sobol_sample.sample(problem, int(n), calc_second_order=calc_second_order, seed=seed)
    points = _round_integers(s, pd.DataFrame(X, columns=names))
    table = run_points(s, points, worlds_per_point, days=days, seed=seed)
    codes = table["point"].to_numpy()
    rows = []
    for spec in specs:
        y, _ = spec.per_group(table, codes, len(points))
        if np.isnan(y).any():
            si = {
                "S1": np.full(len(names), np.nan),
                "S1_conf": np.full(len(names), np.nan),
                "ST": np.full(len(names), np.nan),
                "ST_conf": np.full(len(names), np.nan),
            }
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # zero variance gives 0/0
                si = sobol_analyze.analyze(
                    problem,
                    y,
                    calc_second_order=calc_second_order,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
        for i, name in enumerate(names):
            rows.append(
                {
                    "outcome": spec.name,
                    "parameter": name,
                    "S1": float(si["S1"][i]),
                    "S1_conf": float(si["S1_conf"][i]),
                    "ST": float(si["ST"][i]),
                    "ST_conf": float(si["ST_conf"][i]),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs.update(
        scenario=s.name,
        seed=int(seed),
        days=int(days),
        n=int(n),
        points=int(len(points)),
        worlds_per_point=int(worlds_per_point),
        worlds=int(len(table)),
        conf_level=conf_level,
    )
    return out


def _figure(width: float, height: float, caption: str) -> Figure:
    lines = textwrap.wrap(caption, width=max(40, int(width * 15))) or [""]
    bottom = min(0.4, (0.12 + 0.16 * len(lines)) / height)
    fig = Figure(figsize=(width, height), layout=ConstrainedLayoutEngine(rect=(0, bottom, 1, 1 - bottom)))
    FigureCanvasAgg(fig)
    fig.text(0.01, 0.06 / height, "\n".join(lines), ha="left", va="bottom", fontsize=8, color="0.25")
    return fig


def sobol_bar(df: pd.DataFrame, title: str | None = None) -> Figure:
    """Bars of first-order (S1) and total (ST) Sobol indices with confidence, one panel per outcome."""
    outcomes = list(dict.fromkeys(df["outcome"]))
    a = df.attrs
    caption = (
        f"Scenario {a.get('scenario', 'unknown')}, {a.get('worlds', len(df)):,} worlds "
        f"({a.get('points', '?')} Sobol points x {a.get('worlds_per_point', '?')} worlds), "
        f"seed {a.get('seed', 'unknown')}, horizon {a.get('days', '?')} days. Error bars: "
        f"{a.get('conf_level', 0.95):.0%} bootstrap confidence. S1: share of the variance of "
        "the point mean due to the parameter alone; ST: including its interactions."
    )
    n = len(outcomes)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    params = list(dict.fromkeys(df["parameter"]))
    fig = _figure(max(6.0, 4.5 * ncols), 1.2 + nrows * (1.2 + 0.45 * len(params)) + 0.8, caption)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, outcomes, strict=False):
        d = df[df["outcome"] == name].set_index("parameter").reindex(params)
        yy = np.arange(len(params))
        h = 0.38
        ax.barh(
            yy - h / 2,
            d["S1"],
            height=h,
            xerr=d["S1_conf"],
            color="#3182bd",
            label="S1 (first order)",
            error_kw={"lw": 1, "capsize": 2},
        )
        ax.barh(
            yy + h / 2,
            d["ST"],
            height=h,
            xerr=d["ST_conf"],
            color="#fd8d3c",
            label="ST (total)",
            error_kw={"lw": 1, "capsize": 2},
        )
        ax.set_yticks(yy, params, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlabel("Sobol index (share of variance)")
        ax.set_ylabel("parameter (scenario field)" if ax.get_subplotspec().is_first_col() else "")
        try:
            label = outcome_spec(name).label
        except ValueError:
            label = OUTCOME_LABELS.get(name, name)
        ax.set_title(textwrap.fill(label, 32), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Sensitivity of outcomes to parameters (Sobol)")
    return fig


# --------------------------------------------------------------------------------------------
# Scenario discovery (PRIM)
# --------------------------------------------------------------------------------------------


@dataclass
class Discovery:
    """A PRIM box and how good it is.

    Attributes:
        box: one row per parameter: ``parameter``, ``lo``, ``hi`` (the box), ``range_lo``,
            ``range_hi`` (what was sampled) and ``restricted`` (whether the box cuts the range).
        coverage: share of all cases of interest that lie inside the box.
        density: share of points inside the box that are cases of interest.
        mass: share of all points inside the box.
        base_density: share of cases of interest among all points.
        trajectory: one row per peeling step (``coverage``, ``density``, ``mass``,
            ``restricted``, and the box bounds as ``<parameter>.lo``/``.hi`` columns).
        outcome: what the cases of interest are.
        chosen: index of the chosen box in the trajectory.
    """

    box: pd.DataFrame
    coverage: float
    density: float
    mass: float
    base_density: float
    trajectory: pd.DataFrame
    outcome: str = "case of interest"
    chosen: int = 0
    unit: str = "points"
    meta: dict[str, Any] = field(default_factory=dict)

    def restricted(self) -> pd.DataFrame:
        """Only the parameters the box restricts."""
        return self.box[self.box["restricted"]]

    def describe(self) -> str:
        """The box in words: bounds, density against the base rate, coverage and mass."""
        r = self.restricted()
        if r.empty:
            where = "anywhere in the sampled ranges (no restriction raises the rate)"
        else:
            parts = []
            for _, row in r.iterrows():
                lo_cut = row["lo"] > row["range_lo"]
                hi_cut = row["hi"] < row["range_hi"]
                p = row["parameter"]
                if lo_cut and hi_cut:
                    parts.append(f"{row['lo']:.3g} <= {p} <= {row['hi']:.3g}")
                elif lo_cut:
                    parts.append(f"{p} >= {row['lo']:.3g}")
                else:
                    parts.append(f"{p} <= {row['hi']:.3g}")
            where = "when " + " and ".join(parts)
        u = self.unit
        what = self.outcome[:1].upper() + self.outcome[1:]
        return (
            f"{what}: {self.density:.0%} of {u} inside the box (base rate "
            f"{self.base_density:.0%}) {where}. The box holds {self.coverage:.0%} of all such "
            f"{u} (coverage) and {self.mass:.0%} of the sampled {u} (mass)."
        )


def _workbench_prim():
    """The EMA Workbench's PRIM module (imported on first use: it loads pyplot and more)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ipyparallel.*")
        from ema_workbench.analysis import prim as ema_prim
    return ema_prim


def _peeling_boxes(
    x: pd.DataFrame,
    yy: np.ndarray,
    range_lo: np.ndarray,
    range_hi: np.ndarray,
    peel_alpha: float,
    min_mass: float,
) -> tuple[list, list]:
    """The workbench's peeling trajectory: each box as ``(lo, hi)`` per parameter on the sampled
    ranges (a side left at the data's extreme is put at the range's bound), and its
    ``(coverage, density, mass)``. The first box is the whole range."""
    names = list(x.columns)
    n_all, n_pos = len(yy), int(yy.sum())
    data_lo, data_hi = x.min().to_numpy(dtype=float), x.max().to_numpy(dtype=float)
    limits = [(range_lo, range_hi)]
    stats = [(1.0 if n_pos else np.nan, n_pos / n_all if n_all else np.nan, 1.0)]
    if n_pos:
        ema = _workbench_prim()
        with warnings.catch_warnings():
            # the workbench's own use of a pandas keyword that pandas now deprecates
            warnings.filterwarnings("ignore", message=".*inplace keyword.*")
            found = ema.Prim(x, yy.astype(int), peel_alpha=peel_alpha, mass_min=min_mass).find_box()
        traj = found.peeling_trajectory
        for i, lims in enumerate(found.box_lims[1:], start=1):
            lo_i = lims.loc[0, names].to_numpy(dtype=float)
            hi_i = lims.loc[1, names].to_numpy(dtype=float)
            limits.append(
                (np.where(lo_i > data_lo, lo_i, range_lo), np.where(hi_i < data_hi, hi_i, range_hi))
            )
            stats.append(tuple(float(traj.loc[i, k]) for k in ("coverage", "density", "mass")))
    return limits, stats


def _trajectory_table(
    names: list[str], limits: list, stats: list, range_lo: np.ndarray, range_hi: np.ndarray
) -> pd.DataFrame:
    """One row per box of the trajectory: step, coverage, density, mass, restricted sides and
    each parameter's ``.lo`` / ``.hi``."""
    rows = []
    for step, ((lo, hi), (cov, dens, mass)) in enumerate(zip(limits, stats, strict=False)):
        row = {
            "step": step,
            "coverage": cov,
            "density": dens,
            "mass": mass,
            "restricted": int(((lo > range_lo) | (hi < range_hi)).sum()),
        }
        for j, name in enumerate(names):
            row[f"{name}.lo"], row[f"{name}.hi"] = lo[j], hi[j]
        rows.append(row)
    return pd.DataFrame(rows)


def prim(
    X: pd.DataFrame,
    y: np.ndarray | pd.Series,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
    min_coverage: float = 0.5,
    outcome: str = "case of interest",
) -> Discovery:
    """PRIM (the EMA Workbench's): the box of ``X`` where ``y`` is most often true.

    Args:
        X: one row per sampled point (or world), one numeric column per parameter.
        y: yes/no per row: is it a case of interest.
        bounds: sampled range of each column (default: the columns' min and max); a side of
            the box the workbench leaves at the data's extreme is reported at this bound.
        peel_alpha: share of the points in the box cut off by one peel.
        min_mass: the box never holds fewer than this share of all points.
        min_coverage: choose the densest box on the peeling trajectory whose coverage is at
            least this (the first box, i.e. no restriction, if none is denser).
        outcome: words for the cases of interest (used by :meth:`Discovery.describe`).
    """
    if not 0 < peel_alpha < 0.5:
        raise ValueError(f"peel_alpha = {peel_alpha} is not allowed: expected between 0 and 0.5")
    names = list(X.columns)
    yy = np.asarray(y, dtype=bool)
    if len(yy) != len(X):
        raise ValueError(f"y has {len(yy)} values for {len(X)} rows of X")
    x = X.reset_index(drop=True)
    if bounds is None:
        bounds = {n: (float(x[n].min()), float(x[n].max())) for n in names}
    range_lo = np.array([bounds[n][0] for n in names], dtype=float)
    range_hi = np.array([bounds[n][1] for n in names], dtype=float)
    n_all, n_pos = len(yy), int(yy.sum())

    limits, stats = _peeling_boxes(x, yy, range_lo, range_hi, peel_alpha, min_mass)
    trajectory = _trajectory_table(names, limits, stats, range_lo, range_hi)
    ok = trajectory["coverage"] >= min_coverage
    pick = trajectory[ok] if ok.any() else trajectory.iloc[:1]
    chosen = int(pick.sort_values(["density", "coverage"], ascending=False).index[0])
    row = trajectory.loc[chosen]
    blo, bhi = limits[chosen]
    box = pd.DataFrame(
        {
            "parameter": names,
            "lo": blo,
            "hi": bhi,
            "range_lo": range_lo,
            "range_hi": range_hi,
            "restricted": (blo > range_lo) | (bhi < range_hi),
        }
    )
    return Discovery(
        box=box,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        base_density=n_pos / n_all if n_all else np.nan,
        trajectory=trajectory,
        outcome=outcome,
        chosen=chosen,
    )


def discover(
    scenario: str | Path | Scenario,
    ranges: Ranges,
    outcome: str | Callable[[pd.DataFrame], np.ndarray] = "survives_180",
    points: int = 512,
    worlds_per_point: int = 1,
    days: int = 730,
    seed: int = 0,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
    min_coverage: float = 0.5,
) -> Discovery:
    """Scenario discovery: where in the parameter ranges is an outcome of interest likely?

    Samples ``points`` points with a Latin hypercube (``scipy.stats.qmc.LatinHypercube``) over
    ``ranges``, runs each ``worlds_per_point`` times as one batch and applies :func:`prim` to the
    worlds (one row per world with its parameter values), so the box's density is the chance
    that a world inside it shows the outcome.

    Args:
        outcome: ``"survives_N"`` or ``"lasts_past_N"`` (the world's first ceasefire lasted at
            least N days; worlds without a ceasefire count as no), a yes/no outcome column, or
            a function of the outcome table returning one yes/no per world.
        days: horizon; it must be longer than N for ``survives_N``.

    Returns:
        :class:`Discovery`; ``meta`` holds the design and ``meta["table"]`` the (point, world)
        table that was analysed.
    """
    from scipy.stats import qmc

    s = _scenario(scenario)
    names, bounds = _check_ranges(s, ranges)
    if callable(outcome):
        words = getattr(outcome, "__name__", "case of interest").replace("_", " ")
        indicator = outcome
    else:
        spec = outcome_spec(outcome)
        if not spec.is_share:
            raise ValueError(
                f"outcome {outcome!r} is not yes/no: use survives_N, lasts_past_N, "
                "ceasefire_reached or a function returning yes/no per world"
            )
        needed = spec.name.rsplit("_", 1)[-1]
        if needed.isdigit() and int(needed) >= days:
            raise ScenarioError(
                f"outcome {outcome!r} cannot be seen within days = {days}: use a "
                f"horizon longer than {needed} days"
            )
        words = spec.label.replace(" (share)", "")
        if words.startswith("first ceasefires lasting"):
            words = words.replace("first ceasefires lasting", "first ceasefire lasting")
        indicator = spec.indicator
    sample = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed)).random(int(points))
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    design = _round_integers(s, pd.DataFrame(qmc.scale(sample, lo, hi), columns=names))
    table = run_points(s, design, worlds_per_point, days=days, seed=seed)
    yy = np.asarray(indicator(table), dtype=bool)
    d = prim(
        table[names],
        yy,
        bounds={n: (float(a), float(b)) for n, (a, b) in zip(names, bounds, strict=False)},
        peel_alpha=peel_alpha,
        min_mass=min_mass,
        min_coverage=min_coverage,
        outcome=words,
    )
    d.unit = "worlds"
    d.meta.update(
        scenario=s.name,
        seed=int(seed),
        days=int(days),
        points=int(points),
        worlds_per_point=int(worlds_per_point),
        table=table,
    )
    return d


def discovery_plot(d: Discovery, title: str | None = None) -> Figure:
    """Coverage against density along the peeling trajectory, and the chosen box's bounds."""
    m = d.meta
    caption = (
        f"Scenario {m.get('scenario', 'unknown')}, {len(m['table']) if 'table' in m else '?'} "
        f"worlds ({m.get('points', '?')} Latin hypercube points x "
        f"{m.get('worlds_per_point', '?')} worlds), seed {m.get('seed', 'unknown')}, "
        f"horizon {m.get('days', '?')} days. " + d.describe()
    )
    fig = _figure(11.0, 5.0, caption)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    t = d.trajectory
    ax1.plot(
        t["coverage"], t["density"], color="#3182bd", marker=".", ms=6, lw=1, label="box after each peel"
    )
    ax1.scatter(
        [d.coverage], [d.density], s=120, facecolors="none", edgecolors="red", lw=2, label="chosen box"
    )
    ax1.axhline(d.base_density, color="0.5", ls=":", label=f"base rate {d.base_density:.0%}")
    ax1.set_xlabel("coverage (share of cases inside the box)")
    ax1.set_ylabel("density (share of the box that are cases)")
    ax1.set_xlim(0, 1.02)
    ax1.set_ylim(0, 1.02)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, loc="lower left")
    ax1.set_title("PRIM peeling trajectory", fontsize=10)
    b = d.box
    yy = np.arange(len(b))
    span = (b["range_hi"] - b["range_lo"]).replace(0, 1).to_numpy()
    ax2.barh(yy, np.ones(len(b)), color="0.9", label="sampled range")
    ax2.barh(
        yy,
        (b["hi"] - b["lo"]).to_numpy() / span,
        left=(b["lo"] - b["range_lo"]).to_numpy() / span,
        color="#31a354",
        label="box",
    )
    for i, row in b.reset_index(drop=True).iterrows():
        ax2.text(1.02, i, f"{row['lo']:.3g} to {row['hi']:.3g}", va="center", fontsize=8)
    ax2.set_yticks(yy, [param_label(p) for p in b["parameter"]], fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlim(0, 1.35)
    ax2.set_xlabel("position within the sampled range (share of range)")
    ax2.set_ylabel("parameter (scenario field)")
    ax2.legend(fontsize=7, loc="lower right")
    ax2.set_title("Chosen box", fontsize=10)
    fig.suptitle(title or f"Where is '{d.outcome}' likely? (PRIM)")
    return fig
