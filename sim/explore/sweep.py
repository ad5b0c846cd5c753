"""Sweeps: readable job directories, progress, and collecting a sweep into one table.

A sweep is a Hydra multirun (``python -m sim -m +experiment=NAME``). Its directory is
``results/sweeps/<experiment>`` (``results/sweeps/adhoc`` without an experiment; set
``hydra.sweep.dir`` to choose) and every job writes into a subdirectory named after its own
overrides (:func:`job_label`), e.g. ``delivery_reliability=0.2,leverage_share=0.5``. The names
are fixed by the command, so the same command run again finds each job's previous results and
skips the finished ones (see :mod:`sim.running.runner`).

Collecting (:func:`collect`; ``python -m sim.explore.sweep DIR``; also run by itself at the end of a
multirun, failed jobs or not) writes into the sweep directory:

- ``sweep.parquet``: one row per (job, world): ``job``, the job's swept values as columns
  (scenario fields without the ``scenario.`` prefix, e.g. ``state.delivery_reliability``; a
  list value such as ``withdrawal_districts`` as ``a+b`` text plus a ``..._count`` column),
  ``scenario``, ``seed``, then the outcome columns (:data:`sim.OUTCOME_COLUMNS`);
- ``jobs.parquet`` and ``jobs.csv``: one row per job: directory, status (``complete``,
  ``failed``, ``incomplete`` for a job that was killed or is still running, ``not_started``),
  error message, swept values, worlds, and headline outcomes;
- ``collect.json``: counts and the list of jobs without results.

Which jobs belong to the sweep: the jobs of the last multirun started in that directory,
expanded from its ``multirun.yaml`` like Hydra's basic sweeper does (so jobs that never
started are listed too), matched to job directories by their ``.hydra/overrides.yaml``. With
another sweeper, or with ``all_jobs=True``, every job directory is collected.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.explore.sweep_table import JOBS_FILE, SWEEP_FILE
from sim.running.files import write_json_atomic, write_parquet_atomic, write_text_atomic

if TYPE_CHECKING:  # pandas is imported where a sweep is collected (quick command-line start)
    import pandas as pd

__all__ = ["job_label", "expand_sweep", "collect", "Collected", "SweepCallback", "main"]

#: run keys that change speed or files but not results: left out of job names and columns
NOT_SWEPT = {
    "workers",
    "threads",
    "chunk_worlds",
    "progress",
    "plots",
    "resume",
    "experiment",
    "executor",
    "executor_address",
}
STATE_DIR = ".sweep"
MAX_LABEL = 150

#: set in the process that runs a multirun: its directory and whether it was collected
SESSION: dict[str, Any] = {"sweep_dir": None, "collected": False}


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def _split(item: str) -> tuple[str, str]:
    key, _, value = str(item).partition("=")
    return key.lstrip("+~"), value


def _kept(key: str) -> bool:
    return not (key in NOT_SWEPT or key == "hydra" or key.startswith("hydra.") or key.startswith("hydra/"))


def _short_keys(keys: Sequence[str]) -> dict[str, str]:
    """Shortest dotted suffix of each key (at least its last part) that is unique among keys."""
    out = {}
    for k in keys:
        parts = k.split(".")
        for n in range(1, len(parts) + 1):
            cand = ".".join(parts[-n:])
            if sum(1 for o in keys if o == cand or o.endswith("." + cand)) == 1:
                out[k] = cand
                break
        else:
            out[k] = k
    return out


def _value_text(value: str) -> str:
    v = value.strip().strip("'\"")
    if v.startswith("[") and v.endswith("]"):
        items = [x.strip().strip("'\"") for x in v[1:-1].split(",") if x.strip()]
        v = "+".join(items) if items else "none"
    elif v.startswith("{"):
        v = v.strip("{}").replace(":", "-").replace(",", "+")
    if "/" in v:  # a path (scenario_file): its file stem
        v = Path(v).stem
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", v) or "empty"


def job_label(overrides: Sequence[str]) -> str:
    """Readable, deterministic directory name of a job from its overrides.

    Run keys that do not change results (``workers``, ``chunk_worlds``, ...), the experiment
    and Hydra's own keys are left out; scenario fields are shortened to their last name parts
    (``scenario.state.delivery_reliability=0.2`` -> ``delivery_reliability=0.2``); lists become
    ``a+b`` (``none`` if empty). A very long name is cut and ends with a hash.
    """
    pairs = [(k, v) for k, v in map(_split, overrides) if _kept(k)]
    if not pairs:
        return "default"
    keys = [k[len("scenario.") :] if k.startswith("scenario.") else k for k, _ in pairs]
    short = _short_keys(keys)
    label = ",".join(f"{short[k]}={_value_text(v)}" for k, (_, v) in zip(keys, pairs, strict=False))
    if len(label) > MAX_LABEL:
        import hashlib

        label = label[: MAX_LABEL - 13] + "~" + hashlib.sha1(label.encode()).hexdigest()[:12]
    return label


def _select(root: Any, key: str) -> Any:
    try:
        return OmegaConf.select(root, key, default=None, throw_on_missing=False)
    except Exception:
        return None


def experiment_name(root: Any) -> str | None:
    """The chosen experiment (``+experiment=NAME``) of a composed config, or None."""
    name = _select(root, "hydra.runtime.choices.experiment")
    return str(name) if name else None


def _job_label_resolver(*, _root_: Any = None) -> str:
    return job_label(list(_select(_root_, "hydra.overrides.task") or []))


def _sweep_name_resolver(*, _root_: Any = None) -> str:
    return experiment_name(_root_) or "adhoc"


def run_dir_name(stamp: str, root: Any) -> str:
    """Run directory below ``results/`` of a single run: ``experiments/<experiment>/<overrides>``
    (fixed, so the same command resumes) with an experiment, else ``<scenario>/<time stamp>``."""
    exp = experiment_name(root)
    if exp:
        return f"experiments/{exp}/{job_label(list(_select(root, 'hydra.overrides.task') or []))}"
    from sim.inputs.scenarios import scenario_label

    return f"{scenario_label(root)}/{stamp}"


def register_resolvers() -> None:
    """Register ``job_label``, ``sweep_name`` and ``run_dir_name`` for conf/config.yaml."""
    for name, fn in (
        ("job_label", _job_label_resolver),
        ("sweep_name", _sweep_name_resolver),
        ("run_dir_name", lambda stamp, *, _root_=None: run_dir_name(stamp, _root_)),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn, use_cache=False)


# --------------------------------------------------------------------------------------------
# Which jobs a multirun has
# --------------------------------------------------------------------------------------------


def expand_sweep(task_overrides: Sequence[str], sweeper_params: dict | None = None) -> list[list[str]] | None:
    """Override lists of every job of a basic-sweeper multirun, in Hydra's order (None if the
    sweep cannot be expanded here, e.g. ``glob`` or ranges the parser needs a config for)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    items = [f"{k}={v}" for k, v in (sweeper_params or {}).items()] + list(task_overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(items)
        final: dict[str, list[str]] = {}
        for o in parsed:
            key = o.get_key_element()
            if o.is_sweep_override():
                if not o.is_discrete_sweep():
                    return None
                final[key] = [f"{key}={v}" for v in o.sweep_string_iterator()]
            else:
                final[key] = [f"{key}={o.get_value_element_as_str()}"]
    except Exception:
        return None
    return [list(x) for x in itertools.product(*final.values())]


def expected_jobs(sweep_dir: Path) -> list[list[str]] | None:
    """The jobs of the last multirun in ``sweep_dir`` (from ``multirun.yaml``), or None."""
    path = sweep_dir / "multirun.yaml"
    if not path.is_file():
        return None
    try:
        cfg = OmegaConf.load(path)
        target = str(_select(cfg, "hydra.sweeper._target_") or "")
        if not target.endswith("BasicSweeper"):
            return None
        task = OmegaConf.to_container(cfg.hydra.overrides.task, resolve=False)
        params = _select(cfg, "hydra.sweeper.params")
        params = OmegaConf.to_container(params, resolve=False) if params is not None else {}
    except Exception:
        return None
    return expand_sweep([str(t) for t in task], {str(k): str(v) for k, v in params.items()})


def _sweep_count(config: DictConfig) -> int | None:
    try:
        if not str(_select(config, "hydra.sweeper._target_") or "").endswith("BasicSweeper"):
            return None
        task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
        params = _select(config, "hydra.sweeper.params")
        params = OmegaConf.to_container(params, resolve=False) if params is not None else {}
        jobs = expand_sweep([str(t) for t in task], {str(k): str(v) for k, v in params.items()})
        return len(jobs) if jobs is not None else None
    except Exception:
        return None


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job directory below a sweep directory (one with ``.hydra/overrides.yaml``)."""
    found = {p.parent.parent for p in sweep_dir.glob("*/.hydra/overrides.yaml")}
    found |= {p.parent.parent for p in sweep_dir.glob("*/*/.hydra/overrides.yaml")}
    return sorted(found)


def _read_overrides(job_dir: Path) -> list[str] | None:
    try:
        data = OmegaConf.load(job_dir / ".hydra" / "overrides.yaml")
        return [str(x) for x in OmegaConf.to_container(data)]
    except Exception:
        return None


# --------------------------------------------------------------------------------------------
# Collecting
# --------------------------------------------------------------------------------------------


def _typed(value: str) -> Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(f"x={value}").value()
    except Exception:
        return value


def job_values(overrides: Sequence[str]) -> dict[str, Any]:
    """Columns of a job's swept values from its overrides: scenario fields by their path
    below ``scenario.``, other keys as given; a list as ``a+b`` text plus ``<name>_count``."""
    out: dict[str, Any] = {}
    for key, text in map(_split, overrides):
        if not _kept(key):
            continue
        col = key[len("scenario.") :] if key.startswith("scenario.") else key
        v = _typed(text)
        if isinstance(v, (list, tuple)):
            out[col] = "+".join(map(str, v)) if v else "none"
            out[f"{col}_count"] = len(v)
        elif isinstance(v, dict):
            out[col] = json.dumps(v, sort_keys=True)
        else:
            out[col] = v
    return out


@dataclass
class Collected:
    """What :func:`collect` found and wrote."""

    sweep_dir: Path
    jobs: pd.DataFrame
    table: pd.DataFrame | None
    files: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> pd.DataFrame:
        """Jobs without results (failed, incomplete, not started)."""
        return self.jobs[self.jobs["status"] != "complete"]

    def report(self) -> str:
        j = self.jobs
        done = int((j["status"] == "complete").sum())
        worlds = 0 if self.table is None else len(self.table)
        where = self.sweep_dir / SWEEP_FILE if self.table is not None else "(nothing written)"
        lines = [f"collected {done} of {len(j)} jobs ({worlds:,} rows) into {where}"]
        for _, row in self.problems.iterrows():
            err = f": {row['error']}" if isinstance(row.get("error"), str) and row["error"] else ""
            lines.append(f"  {row['status']}: {row['job_dir']}{err}")
        return "\n".join(lines)


def _job_status(job_dir: Path) -> tuple[str, str | None, dict | None]:
    from sim.running.runner import is_complete, read_manifest

    if is_complete(job_dir):
        return "complete", None, read_manifest(job_dir)
    err = None
    try:
        data = json.loads((job_dir / "error.json").read_text())
        err = re.sub(r"\s+", " ", str(data.get("message", ""))).strip()[:500]
        return "failed", err, None
    except (OSError, ValueError):
        return "incomplete", None, None


def _sweep_entries(sweep_dir: Path, all_jobs: bool) -> list[tuple[list[str], Path | None]]:
    """``(overrides, job directory or None)`` of every job: the expected jobs of the sweep in
    order (None for a job never started), or every job directory found with ``all_jobs``."""
    dirs = job_dirs(sweep_dir)
    by_overrides = {}
    for d in dirs:
        ov = _read_overrides(d)
        if ov is not None:
            by_overrides.setdefault(tuple(ov), d)
    expected = None if all_jobs else expected_jobs(sweep_dir)
    if expected is None:
        return [(_read_overrides(d) or [], d) for d in dirs]
    return [(ov, by_overrides.get(tuple(ov))) for ov in expected]


def _collect_job(i: int, ov: list[str], d: Path | None, sweep_dir: Path) -> tuple[dict, pd.DataFrame | None]:
    """One job's row of the job table, and its worlds (with the job's values in front) when it
    is complete."""
    import pandas as pd

    row: dict[str, Any] = {"job": i, "job_dir": d.relative_to(sweep_dir).as_posix() if d else job_label(ov)}
    if d is None:
        row.update(status="not_started", error=None)
    else:
        status, err, manifest = _job_status(d)
        row.update(status=status, error=err)
        if manifest:
            row.update(
                scenario=manifest.get("scenario"),
                seed=manifest.get("seed"),
                days=manifest.get("days"),
                seconds=manifest.get("simulation_seconds"),
            )
    values = job_values(ov)
    row.update(values)
    if row["status"] != "complete":
        return row, None
    w = pd.read_parquet(d / ("worlds.parquet" if (d / "worlds.parquet").is_file() else SWEEP_FILE))
    w = w.drop(columns=[c for c in ("job",) + tuple(values) if c in w.columns])
    front = {"job": i, **values}
    if "scenario" not in values:
        front["scenario"] = row.get("scenario")
    front["seed"] = row.get("seed")
    head = pd.DataFrame({k: [v] * len(w) for k, v in front.items()})
    return row, pd.concat([head, w.reset_index(drop=True)], axis=1)


def _job_table(
    rows: list[dict], tables: list[pd.DataFrame], outcomes: Sequence[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The job table (with each complete job's summary of outcomes) and the (job, world) table."""
    import pandas as pd

    from sim.explore.design import job_summary

    jobs = pd.DataFrame(rows)
    for col in ("scenario", "seed", "days", "seconds", "error"):
        if col not in jobs.columns:
            jobs[col] = None
    table = None
    if tables:
        table = pd.concat(tables, ignore_index=True)
        table["job"] = table["job"].astype("int64")
        summary = job_summary(table, outcomes)
        keep = ["job", "worlds"] + [
            c for c in summary.columns if c not in jobs.columns and c not in ("job", "worlds")
        ]
        jobs = jobs.drop(columns=[c for c in keep if c != "job" and c in jobs.columns])
        jobs = jobs.merge(summary[keep], on="job", how="left")
    else:
        jobs["worlds"] = 0
    jobs["worlds"] = jobs["worlds"].fillna(0).astype("int64")
    return jobs, table


def _write_collected(out: Collected) -> None:
    """Write ``sweep.parquet``, the job table (Parquet and CSV) and ``collect.json``."""
    from sim.running.reductions import parquet_fields

    sweep_dir, jobs, table = out.sweep_dir, out.jobs, out.table
    if table is not None:
        out.files.append(
            write_parquet_atomic(
                table, sweep_dir / SWEEP_FILE, fields=parquet_fields(list(table.columns), "sweep")
            )
        )
    else:  # an older table would describe other jobs
        (sweep_dir / SWEEP_FILE).unlink(missing_ok=True)
    safe = jobs.copy()
    for c in safe.columns:  # mixed-type value columns (e.g. 0 and 0.5 and 'none') as text
        if safe[c].dtype == object and safe[c].map(type).nunique() > 1:
            safe[c] = safe[c].map(lambda v: None if v is None else str(v))
    out.files.append(
        write_parquet_atomic(safe, sweep_dir / JOBS_FILE, fields=parquet_fields(list(safe.columns), "jobs"))
    )
    out.files.append(write_text_atomic(sweep_dir / "jobs.csv", safe.to_csv(index=False)))
    problems = out.problems
    out.files.append(
        write_json_atomic(
            sweep_dir / "collect.json",
            {
                "jobs": len(jobs),
                "complete": int((jobs["status"] == "complete").sum()),
                "rows": 0 if table is None else len(table),
                "without_results": problems[["job", "job_dir", "status", "error"]].to_dict("records"),
                "files": [p.name for p in out.files] + ["collect.json"],
            },
        )
    )


def collect(
    sweep_dir: str | Path, outcomes: Sequence[str] | None = None, write: bool = True, all_jobs: bool = False
) -> Collected:
    """Collect a sweep directory into ``sweep.parquet`` and a per-job table (see the module doc).

    Works with failed, killed and never-started jobs: they are listed in the job table with
    their status (and error, when the job recorded one) and everything that finished is kept.

    Raises:
        FileNotFoundError: if ``sweep_dir`` does not exist.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"sweep directory {str(sweep_dir)!r} does not exist")
    rows, tables = [], []
    for i, (ov, d) in enumerate(_sweep_entries(sweep_dir, all_jobs)):
        row, table = _collect_job(i, ov, d, sweep_dir)
        rows.append(row)
        if table is not None:
            tables.append(table)
    jobs, table = _job_table(rows, tables, outcomes)
    out = Collected(sweep_dir=sweep_dir, jobs=jobs, table=table)
    if write:
        _write_collected(out)
    return out


# --------------------------------------------------------------------------------------------
# Progress and collection during a multirun
# --------------------------------------------------------------------------------------------


def _fmt_time(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_line(sweep_dir: Path) -> str | None:
    """``[sweep] 6/20 jobs done (2 skipped, 1 failed) | 12,400 worlds/s | about 1 min 10 s
    left`` from the sweep's event log, or None without one."""
    try:
        state = json.loads((sweep_dir / STATE_DIR / "state.json").read_text())
        lines = (sweep_dir / STATE_DIR / "events.jsonl").read_text().splitlines()
    except (OSError, ValueError):
        return None
    events = {}
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("t", 0) >= state.get("started", 0):
            events[e.get("job")] = e
    done = len(events)
    skipped = sum(1 for e in events.values() if e.get("status") == "skipped")
    failed = sum(1 for e in events.values() if e.get("status") == "failed")
    ran = [e for e in events.values() if e.get("status") == "done"]
    elapsed = max(time.time() - state["started"], 1e-9)
    rate = sum(e.get("worlds", 0) for e in ran) / elapsed
    total = state.get("total")
    text = f"[sweep] {done}/{total if total else '?'} jobs done"
    if skipped or failed:
        text += f" ({skipped} skipped, {failed} failed)"
    last = max(events.values(), key=lambda e: e.get("t", 0), default={})
    if last.get("headline"):
        text += f" | {last['headline']}"
    text += f" | {rate:,.0f} worlds/s"
    if total and done < total:
        left = time_left(state["started"], [e.get("t", 0) for e in events.values()], total)
        text += f" | about {_fmt_time(left)} left" if left is not None else " | time left: after the next job"
    elif total and done >= total:
        text += f" | {_fmt_time(elapsed)} in all"
    return text


def time_left(started: float, ends: list[float], total: int) -> float | None:
    """Time the jobs not yet done will take, at the pace of the jobs after the first (the first
    also pays the start-up: imports and loading or compiling the model, often many times a
    job's own time); None while only the first has finished."""
    ends = sorted(ends)
    if len(ends) < 2:
        return None
    pace = (ends[-1] - ends[0]) / (len(ends) - 1)
    return (total - len(ends)) * pace


class SweepCallback(Callback):
    """Hydra callback: sweep progress after each job, collection at the end of a multirun.

    ``on_multirun_end`` is not called when a job failed; :func:`sim.cli.run.main` then collects.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        (sweep_dir / STATE_DIR).mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            sweep_dir / STATE_DIR / "state.json", {"started": time.time(), "total": _sweep_count(config)}
        )
        SESSION.update(sweep_dir=sweep_dir, collected=False)
        print(f"[sweep] {_sweep_count(config) or '?'} jobs -> {sweep_dir}", file=sys.stderr, flush=True)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        try:
            from hydra.core.utils import JobStatus
            from hydra.types import RunMode

            if _select(config, "hydra.mode") != RunMode.MULTIRUN:
                return
            sweep_dir = Path(str(config.hydra.sweep.dir))
            if not (sweep_dir / STATE_DIR).is_dir():
                return
            info: dict[str, Any] = {}
            if job_return.status == JobStatus.COMPLETED and isinstance(job_return.return_value, dict):
                info = job_return.return_value
            status = (
                "failed"
                if job_return.status != JobStatus.COMPLETED
                else "skipped"
                if info.get("skipped")
                else "done"
            )
            event = {
                "t": time.time(),
                "job": str(config.hydra.sweep.subdir),
                "status": status,
                "worlds": int(info.get("worlds", 0)),
                "headline": info.get("headline", ""),
            }
            with open(sweep_dir / STATE_DIR / "events.jsonl", "a") as fh:
                fh.write(json.dumps(event) + "\n")
            line = progress_line(sweep_dir)
            if line:
                print(line, file=sys.stderr, flush=True)
        except Exception as e:  # progress must never fail a job
            print(f"[sweep] progress unavailable: {e}", file=sys.stderr)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        collect_quietly(Path(str(config.hydra.sweep.dir)))


def collect_quietly(sweep_dir: Path) -> Collected | None:
    """Collect a sweep at the end of a multirun; report, never raise."""
    SESSION["collected"] = True
    try:
        c = collect(sweep_dir)
    except Exception as e:
        print(f"[sweep] could not collect {sweep_dir}: {e}", file=sys.stderr, flush=True)
        return None
    print(c.report(), file=sys.stderr if len(c.problems) else sys.stdout, flush=True)
    return c


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.explore.sweep DIR``: collect a sweep directory; 0 if anything was collected."""
    p = argparse.ArgumentParser(
        prog="python -m sim.explore.sweep",
        description="Collect a sweep directory (python -m sim -m ...) into sweep.parquet (one "
        "row per job and world) and jobs.parquet/jobs.csv (one row per job). Failed "
        "or unfinished jobs are listed; everything that finished is kept.",
    )
    p.add_argument("dir", help="sweep directory, e.g. results/sweeps/reliability_leverage")
    p.add_argument(
        "--all",
        action="store_true",
        dest="all_jobs",
        help="collect every job directory, not only the last multirun's jobs",
    )
    p.add_argument(
        "--outcome",
        action="append",
        dest="outcomes",
        metavar="NAME",
        help="outcome for the job table (repeatable): a column, survives_N, lasts_past_N",
    )
    p.add_argument("--strict", action="store_true", help="exit with status 1 if any job has no results")
    a = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        c = collect(a.dir, outcomes=a.outcomes, all_jobs=a.all_jobs)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(c.report())
    if c.table is None:
        print("error: no job has finished results", file=sys.stderr)
        return 2
    return 1 if a.strict and len(c.problems) else 0


if __name__ == "__main__":
    sys.exit(main())
