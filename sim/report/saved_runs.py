"""Make the figures of a run directory, a collected sweep, or several runs side by side.

Usage::

    python -m sim.cli.figures DIR [--out OUT] [--outcome NAME ...] [--dpi N]
    python -m sim.cli.figures compare DIR1 DIR2 ... --out DIR [--labels A B ...] [--dpi N]

``DIR`` is either a run directory (``worlds.parquet``, optional ``timeseries.parquet`` and
``summary.json`` with the scenario and seed) or a collected sweep (``sweep.parquet``, one row per
(job, world) with the swept values as columns). For a run it (re)writes the standard figures
(:func:`sim.report.figures.save_standard_figures`); for a sweep it also writes response plots of each
outcome against the swept parameters. ``compare`` overlays the survival curves and collapse
causes of several runs. Figures are PNG, written into ``DIR`` (or ``--out``).

A missing directory or file stops with a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.outcomes import OUTCOME_COLUMNS
from sim.explore.sweep_table import BOOKKEEPING, SWEEP_FILE
from sim.running.results import Results

WORLDS_FILE = "worlds.parquet"
SERIES_FILE = "timeseries.parquet"
SUMMARY_FILE = "summary.json"
DEFAULT_SWEEP_OUTCOMES = ("survives_90", "ttp_attacks")
MAX_OVERLAY = 8


class PlotInputError(Exception):
    """A directory or file the command needs is missing or unreadable."""


# --------------------------------------------------------------------------------------------
# Reading run directories
# --------------------------------------------------------------------------------------------


def _find(d: Any, keys: Sequence[str], depth: int = 0) -> Any:
    """First value under any of ``keys`` in nested mappings (breadth first, a few levels)."""
    if not isinstance(d, dict) or depth > 3:
        return None
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    for v in d.values():
        found = _find(v, keys, depth + 1)
        if found is not None:
            return found
    return None


def read_run_info(run_dir: Path, fallback: bool = True) -> dict[str, Any]:
    """Scenario name, seed and horizon from ``summary.json`` (or ``manifest.json``), if present.

    Without a scenario name there, the directory's name stands in (unless ``fallback`` is off).
    """
    info: dict[str, Any] = {}
    for name in (SUMMARY_FILE, "manifest.json"):
        path = run_dir / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise PlotInputError(f"{path}: not readable JSON ({e})") from None
        scen = _find(data, ("scenario", "scenario_name"))
        if isinstance(scen, dict):
            scen = scen.get("name")
        for key, value in (
            ("scenario", scen),
            ("seed", _find(data, ("seed",))),
            ("days", _find(data, ("days", "horizon_days"))),
        ):
            if key not in info and value is not None and not isinstance(value, (dict, list)):
                info[key] = value
    if "scenario" not in info and fallback:
        info["scenario"] = run_dir.resolve().name
    return info


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as e:  # a truncated or foreign file
        raise PlotInputError(f"{path}: not a readable Parquet table ({str(e).splitlines()[0]})") from None


def _check_dir(run_dir: str | Path) -> Path:
    p = Path(run_dir)
    if not p.exists():
        raise PlotInputError(f"directory {str(p)!r} does not exist")
    if not p.is_dir():
        raise PlotInputError(f"{str(p)!r} is not a directory")
    return p


def load_run(run_dir: str | Path) -> Results:
    """Read a run directory back into :class:`Results` (worlds, series if saved, scenario, seed).

    Raises:
        PlotInputError: if the directory or its ``worlds.parquet`` is missing or unreadable.
    """
    p = _check_dir(run_dir)
    wpath = p / WORLDS_FILE
    if not wpath.is_file():
        hint = f" (it has {SWEEP_FILE}: a sweep)" if (p / SWEEP_FILE).is_file() else ""
        raise PlotInputError(f"{wpath} does not exist: expected a run directory with {WORLDS_FILE}{hint}")
    worlds = _read_parquet(wpath)
    spath = p / SERIES_FILE
    ts = _read_parquet(spath) if spath.is_file() else None
    info = read_run_info(p)
    seed = info.get("seed")
    days = info.get("days")
    worlds.attrs.update({k: v for k, v in info.items() if v is not None})
    if ts is not None:
        ts.attrs.update(worlds.attrs)
    return Results(
        worlds=worlds,
        timeseries=ts,
        scenario=str(info["scenario"]),
        seed=int(seed) if seed is not None else None,  # type: ignore[arg-type]
        days=int(days) if days is not None else None,
    )  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def swept_columns(sweep: pd.DataFrame) -> list[str]:
    """Columns of a collected sweep that vary between jobs and are not outcomes or bookkeeping."""
    return [
        c
        for c in sweep.columns
        if c not in OUTCOME_COLUMNS and c not in BOOKKEEPING and sweep[c].nunique(dropna=True) > 1
    ]


def _groups(sweep: pd.DataFrame, swept: list[str]) -> dict[str, pd.DataFrame]:
    """Tables to overlay: every point if there are few, else levels of the first swept column."""
    if not swept:
        return {"all worlds": sweep}
    key = swept if sweep.groupby(swept).ngroups <= MAX_OVERLAY else [swept[0]]
    col = sweep[key[0]]
    if len(key) == 1 and col.nunique() > MAX_OVERLAY and pd.api.types.is_numeric_dtype(col):
        binned = pd.qcut(col, q=5, duplicates="drop")
        return {
            f"{key[0]} in {iv.left:.3g}-{iv.right:.3g}": g for iv, g in sweep.groupby(binned, observed=True)
        }
    out = {}
    for values, g in sweep.groupby(key, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        out[", ".join(f"{k.split('.')[-1]}={_fmt(v)}" for k, v in zip(key, values, strict=False))] = g
    return out


def pooled_note(sweep: pd.DataFrame, swept: list[str], groups: Mapping[str, pd.DataFrame]) -> str:
    """What a sweep figure pools: "" when each curve or bar is one point of the sweep, else the
    points pooled (all of them for one table, the other swept values per level)."""
    points = sweep.groupby(swept).ngroups if swept else 1
    if points <= 1 or len(groups) == points:
        return ""
    if not groups:
        return f"all {points} points of the sweep pooled"
    return f"{points} points pooled into {len(groups)} groups (other swept values mixed)"


def _titled(title: str, note: str) -> str:
    return f"{title}\n({note})" if note else title


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)


def sweep_figures(
    sweep_dir: str | Path,
    out: str | Path | None = None,
    outcomes: Sequence[str] = DEFAULT_SWEEP_OUTCOMES,
    dpi: int = 120,
) -> list[Path]:
    """Figures of a collected sweep: pooled distributions, survival and collapse causes per
    point (or per level of the first swept parameter), and response plots of ``outcomes``.


    Long because the keyword arguments take a line each and every figure of a sweep is listed in
    one place.
    """
    from sim.report import figures as plots

    p = _check_dir(sweep_dir)
    path = p / SWEEP_FILE
    if not path.is_file():
        raise PlotInputError(f"{path} does not exist: expected a collected sweep")
    sweep = _read_parquet(path)
    info = read_run_info(p, fallback=False)
    if "scenario" not in info:
        if "scenario" in sweep.columns and sweep["scenario"].nunique() == 1:
            info["scenario"] = str(sweep["scenario"].iloc[0])
        else:
            info["scenario"] = p.resolve().name
    if "seed" in sweep.columns and "seed" not in info:
        seeds = sweep["seed"].dropna().unique()
        info["seed"] = (
            int(seeds[0])
            if len(seeds) == 1
            else (f"{int(seeds.min())}-{int(seeds.max())} (one per job)" if len(seeds) else None)
        )
    sweep.attrs.update({k: v for k, v in info.items() if v is not None})
    out_dir = Path(out) if out is not None else p
    out_dir.mkdir(parents=True, exist_ok=True)
    swept = swept_columns(sweep)
    numeric = [c for c in swept if pd.api.types.is_numeric_dtype(sweep[c])]
    groups = _groups(sweep, swept)
    for g in groups.values():
        g.attrs.update(sweep.attrs)
    kw = {"scenario": info.get("scenario"), "seed": info.get("seed"), "days": info.get("days")}
    pooled, pooled_all = pooled_note(sweep, swept, groups), pooled_note(sweep, swept, {})
    figures = [
        (
            "distributions.png",
            lambda: plots.distributions(sweep, title=_titled("Outcomes across worlds", pooled_all), **kw),
        ),
        (
            "survival.png",
            lambda: plots.survival(groups, title=_titled("How long first ceasefires last", pooled), **kw),
        ),
        (
            "collapse_causes.png",
            lambda: plots.collapse_causes(groups, title=_titled("How first ceasefires ended", pooled), **kw),
        ),
    ]
    for name in outcomes:
        if len(numeric) == 1:
            figures.append(
                (
                    f"response_{name}.png",
                    lambda name=name: plots.sweep_response(sweep, numeric[0], None, name, **kw),
                )
            )
        elif len(numeric) >= 2:
            figures.append(
                (
                    f"response_{name}.png",
                    lambda name=name: plots.sweep_response(sweep, numeric[0], numeric[1], name, **kw),
                )
            )
            for c in numeric:
                figures.append(
                    (
                        f"response_{name}__{c.replace('.', '_')}.png",
                        lambda name=name, c=c: plots.sweep_response(sweep, c, None, name, **kw),
                    )
                )
    written = []
    for fname, make in figures:
        fig = make()
        fig.savefig(out_dir / fname, dpi=dpi)
        written.append(out_dir / fname)
    return written


# --------------------------------------------------------------------------------------------
# Comparing runs
# --------------------------------------------------------------------------------------------


def compare(
    run_dirs: Sequence[str | Path], out: str | Path, labels: Sequence[str] | None = None, dpi: int = 120
) -> list[Path]:
    """Overlay survival curves and collapse causes of several runs, and write their headline
    numbers side by side (``compare_headline.csv``: one row a number, one column a run); returns
    the files written."""
    from sim.report import figures as plots

    runs = [load_run(d) for d in run_dirs]
    if labels is not None and len(labels) != len(runs):
        raise PlotInputError(f"--labels has {len(labels)} names for {len(runs)} directories")
    names = list(labels) if labels is not None else [r.scenario for r in runs]
    seen: dict[str, int] = {}
    unique = []
    for name, d in zip(names, run_dirs, strict=False):
        if names.count(name) > 1:  # same scenario twice: tell them apart by directory
            seen[name] = seen.get(name, 0) + 1
            name = f"{name} ({Path(d).name})"
        unique.append(name)
    tables = dict(zip(unique, runs, strict=False))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, make in (
        ("compare_survival.png", lambda: plots.survival(tables)),
        ("compare_collapse_causes.png", lambda: plots.collapse_causes(tables)),
    ):
        fig = make()
        fig.savefig(out_dir / fname, dpi=dpi)
        written.append(out_dir / fname)
    written.append(headline_table(tables, out_dir / "compare_headline.csv"))
    return written


def headline_table(runs: Mapping[str, Results], path: Path) -> Path:
    """The headline numbers of runs side by side (:func:`sim.running.results.summarize`; the
    collapse causes one row each), written as CSV to ``path``."""
    columns = {}
    for label, r in runs.items():
        summary = dict(r.summary())
        for cause, share in summary.pop("collapse_causes", {}).items():
            summary[f"collapse_cause_share_{cause}"] = share
        columns[label] = summary
    pd.DataFrame(columns).rename_axis("number").to_csv(path)
    return path


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _parser_one() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim.cli.figures",
        description="(Re)make the figures of a run directory or a "
        "collected sweep. To compare runs: "
        "python -m sim.cli.figures compare DIR1 DIR2 ... --out DIR",
    )
    p.add_argument("dir", help="run directory (worlds.parquet) or sweep directory (sweep.parquet)")
    p.add_argument("--out", help="where to write the PNGs (default: DIR)")
    p.add_argument(
        "--outcome",
        action="append",
        dest="outcomes",
        metavar="NAME",
        help="sweep outcome for response plots (repeatable; default "
        f"{' and '.join(DEFAULT_SWEEP_OUTCOMES)}): a column, survives_N, lasts_past_N",
    )
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    return p


def _parser_compare() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim.cli.figures compare",
        description="Overlay survival curves and collapse causes of runs.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="run directories (worlds.parquet)")
    p.add_argument("--out", required=True, help="directory for the PNGs")
    p.add_argument("--labels", nargs="+", help="legend labels, one per DIR (default: scenario names)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input)."""
    import logging

    from sim.inputs.schema import ScenarioError
    from sim.running.reductions import outcome as outcome_spec

    argv = list(sys.argv[1:] if argv is None else argv)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    try:
        if argv and argv[0] == "compare":
            a = _parser_compare().parse_args(argv[1:])
            written = compare(a.dirs, a.out, a.labels, a.dpi)
        else:
            a = _parser_one().parse_args(argv)
            d = _check_dir(a.dir)
            outcomes = a.outcomes or list(DEFAULT_SWEEP_OUTCOMES)
            for name in outcomes:
                try:
                    outcome_spec(name)
                except ValueError as e:
                    raise PlotInputError(f"--outcome: {e}") from None
            if (d / WORLDS_FILE).is_file():
                from sim.report.figures import save_standard_figures

                results = load_run(d)
                written = save_standard_figures(Path(a.out) if a.out else d, results, dpi=a.dpi)
            elif (d / SWEEP_FILE).is_file():
                written = sweep_figures(d, a.out, outcomes, a.dpi)
            else:
                raise PlotInputError(
                    f"{d} has neither {WORLDS_FILE} (a run) nor {SWEEP_FILE} (a collected sweep)"
                )
    except (PlotInputError, ScenarioError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
