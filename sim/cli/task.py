"""The task of the command line: one run, from a composed config to the files of its run directory.

:func:`run_task` checks the run settings (:class:`~sim.inputs.settings.RunSettings`), builds the
scenario (:func:`build_scenario`), skips a run whose directory already holds its complete
results, runs the worlds chunk by chunk (:mod:`sim.running.runner`), writes the tables, the
resolved scenario, ``summary.json``, the figures and, last, ``manifest.json``.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.cli.checks import actor_ids, load_yaml_mapping, one_paragraph
from sim.cli.manifest import command, environment
from sim.inputs.fields import check_path
from sim.inputs.scenarios import SCENARIO_DIR, scenario_label
from sim.inputs.schema import Scenario, ScenarioError
from sim.inputs.settings import RunSettings

log = logging.getLogger(__name__)

#: worlds x days above which ``progress=auto`` shows a bar (about 4 s of simulation here)
PROGRESS_AUTO_WORLD_DAYS = 2_000_000


# --------------------------------------------------------------------------------------------
# The scenario of a run
# --------------------------------------------------------------------------------------------


def _task_overrides() -> list[str]:
    try:
        return list(HydraConfig.get().overrides.task)
    except Exception:
        return []


def _scenario_overrides(task_overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(task_overrides)
    return [o for o in parsed if o.key_or_group.startswith("scenario.")]


def _scenario_from_file(path: Path) -> Scenario:
    """A scenario file with the command line's ``scenario.*`` overrides applied on top."""
    from sim.inputs.scenarios import from_config

    base = load_yaml_mapping(path, f"scenario_file = {str(path)!r}")
    ids = actor_ids(base)
    for o in _scenario_overrides(_task_overrides()):
        key = o.key_or_group[len("scenario.") :]
        if o.is_delete():
            parent, _, leaf = key.rpartition(".")
            node = OmegaConf.select(base, parent) if parent else base
            if isinstance(node, DictConfig) and leaf in node:
                del node[leaf]
            continue
        check_path(key, ids, value=o.value(), origin=path.name)
        try:
            OmegaConf.update(base, key, o.value(), merge=True, force_add=True)
        except OmegaConfBaseException as e:
            raise ScenarioError(
                f"scenario.{key} = {o.value()!r} could not be applied to {path.name}: {one_paragraph(str(e))}"
            ) from None
    return from_config(base, origin=path.name)


def build_scenario(cfg: DictConfig, scenario_file: str | None) -> tuple[Scenario, str, str]:
    """The validated scenario of a run, its label and where it came from.

    With ``scenario_file`` the file is loaded and the ``scenario.*`` command-line overrides
    (``HydraConfig.get().overrides.task``) are applied on top of it; otherwise the scenario
    Hydra composed (``cfg.scenario``, overrides included) is used.
    """
    from sim.inputs.scenarios import from_config

    if scenario_file:
        path = Path(scenario_file)
        return _scenario_from_file(path), scenario_label(cfg), str(path)
    if "scenario" not in cfg or cfg.scenario is None:
        raise ScenarioError(
            "no scenario: give scenario=NAME (a file in scenarios/) or scenario_file=/path/to/file.yaml"
        )
    choice = None
    try:
        choice = HydraConfig.get().runtime.choices.get("scenario")
    except Exception:
        pass
    if not choice:
        raise ScenarioError(
            "no scenario was chosen: give scenario=NAME (a file in scenarios/) "
            "or scenario_file=/path/to/file.yaml"
        )
    choice = str(choice)
    try:
        plain = OmegaConf.to_container(cfg.scenario, resolve=True, enum_to_str=True)
    except OmegaConfBaseException as e:
        raise ScenarioError(f"scenario {choice}: {one_paragraph(str(e))}") from None
    source = (SCENARIO_DIR / f"{choice}.yaml").resolve()
    return from_config(plain, origin=f"scenario {choice}"), choice, str(source)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Job:
    """One run being carried out: its settings, scenario, directory and design."""

    run: RunSettings
    scenario: Scenario
    label: str
    source: str
    run_dir: Path
    worlds: int
    key: str = ""
    design: dict[str, Any] | None = None
    points: Any = None

    @property
    def record(self) -> str:
        """The ``record`` setting as text."""
        return self.run.record.value


def _want_progress(progress: Any, worlds: int, days: int) -> bool:
    if progress is True or progress is False:
        return progress
    return worlds * days >= PROGRESS_AUTO_WORLD_DAYS and sys.stderr.isatty()


def _quiet_mesa() -> None:
    for name in ("MESA", "mesa"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _posterior_digest() -> str:
    """SHA-256 of the shipped posterior sample (conf/posterior.parquet)."""
    import hashlib

    from sim.inputs.posterior import POSTERIOR_FILE, load_posterior

    load_posterior()  # a missing or bad file stops here with its message
    return hashlib.sha256(POSTERIOR_FILE.read_bytes()).hexdigest()


def _config_hash(job: Job) -> str:
    """Hash of what decides this run's results (not workers, chunking, progress)."""
    from sim.inputs.scenarios import to_dict
    from sim.running.runner import config_hash

    run = job.run
    return config_hash(
        {
            "scenario": to_dict(job.scenario),
            "worlds": run.worlds,
            "days": run.days,
            "seed": run.seed,
            "record": job.record,
            "design": run.design,
            "plots": run.plots,
            # only when not the default, so that the hashes of earlier runs stay valid; with the
            # posterior, its file's digest (a new calibration gives new runs)
            **(
                {"behaviour": run.behaviour, "posterior": _posterior_digest()}
                if run.behaviour != "shipped"
                else {}
            ),
        }
    )


def _plan(cfg: DictConfig) -> Job:
    """The run's settings, scenario and directory; a design's points (and so its worlds)."""
    run = RunSettings.from_config(cfg)
    scenario, label, source = build_scenario(cfg, run.scenario_file)
    job = Job(run, scenario, label, source, Path(HydraConfig.get().runtime.output_dir), run.worlds)
    if run.design is not None:
        from sim.explore.design import sample

        d = run.design
        job.points = sample(
            d["ranges"],
            n=d["points"],
            method=d["method"],
            seed=run.seed if d["seed"] is None else d["seed"],
            scenario=scenario,
            levels=d["levels"],
        )
        per_point = d["worlds_per_point"] or run.worlds
        job.worlds = len(job.points) * per_point
        job.design = {**d, "worlds_per_point": per_point, "points": len(job.points)}
    job.key = _config_hash(job)
    return job


def _simulate(job: Job) -> tuple[Any, dict[str, Any]]:
    """Run the worlds chunk by chunk (resuming finished chunks); results and chunk counts."""
    from sim.running import runner

    run, params = job.run, None
    say = log.debug if _in_sweep() else log.info  # a sweep prints one line a job
    if job.design is None:
        say(
            "%s: %s worlds x %s days, seed %s -> %s",
            job.label,
            f"{job.worlds:,}",
            run.days,
            run.seed,
            job.run_dir,
        )
    else:
        from sim.explore.design import expand

        say(
            "%s: design of %s points x %s worlds x %s days, seed %s -> %s",
            job.label,
            f"{job.design['points']:,}",
            f"{job.design['worlds_per_point']:,}",
            run.days,
            run.seed,
            job.run_dir,
        )
        params = expand(job.points, job.design["worlds_per_point"])
    return runner.run_checkpointed(
        job.run_dir,
        job.scenario,
        worlds=job.worlds,
        days=run.days,
        seed=run.seed,
        record=job.record,
        params=params,
        chunk_worlds=run.chunk_worlds,
        workers=run.workers,
        threads=run.threads_or_none,
        key=job.key,
        resume=run.resume,
        progress=_want_progress(run.progress, job.worlds, run.days),
        behaviour=run.behaviour,
        max_memory=run.max_memory,
        oversubscribe=run.oversubscribe,
        executor=run.executor,
        executor_address=run.executor_address,
    )


def _write_tables(job: Job, results: Any) -> list[str]:
    """The run's tables (worlds, or a design's sweep and jobs; series; ceasefires)."""
    from sim.running.files import write_parquet_atomic, write_text_atomic
    from sim.running.reductions import parquet_fields

    d, written = job.run_dir, []
    if job.design is None:
        write_parquet_atomic(
            results.worlds,
            d / "worlds.parquet",
            fields=parquet_fields(list(results.worlds.columns), "worlds"),
        )
        written.append("worlds.parquet")
    else:
        from sim.explore.design import design_table, job_summary

        table = design_table(job.points, job.design["worlds_per_point"], results.worlds)
        write_parquet_atomic(table, d / "sweep.parquet", fields=parquet_fields(list(table.columns), "sweep"))
        jobs = job_summary(table)
        write_parquet_atomic(jobs, d / "jobs.parquet", fields=parquet_fields(list(jobs.columns), "jobs"))
        write_text_atomic(d / "jobs.csv", jobs.to_csv(index=False))
        written += ["sweep.parquet", "jobs.parquet", "jobs.csv"]
    if job.record != "none" and results.timeseries is not None:
        write_parquet_atomic(
            results.timeseries,
            d / "timeseries.parquet",
            fields=parquet_fields(list(results.timeseries.columns), "timeseries", job.record),
        )
        written.append("timeseries.parquet")
    if getattr(results, "particles", None) is not None:
        table = particle_table(results)
        write_parquet_atomic(table, d / "particles.parquet", fields=particle_fields(table))
        written.append("particles.parquet")
    ceasefires = getattr(results, "ceasefires", None)
    if ceasefires is not None:
        write_parquet_atomic(
            ceasefires,
            d / "ceasefires.parquet",
            fields=parquet_fields(list(ceasefires.columns), "ceasefires"),
        )
        written.append("ceasefires.parquet")
    return written


def particle_table(results: Any) -> Any:
    """With ``behaviour=posterior``: each world's posterior particle and the behavioural values it
    ran with (``particles.parquet``; :mod:`sim.inputs.posterior`)."""
    import pandas as pd

    table = pd.DataFrame({"world": results.worlds["world"].to_numpy(), "particle": results.particles})
    cols = [c for c in results.params.columns if c.startswith("behaviour.")]
    return pd.concat([table, results.params[cols].reset_index(drop=True)], axis=1)


def particle_fields(table: Any) -> dict[str, dict[str, str]]:
    """Unit and meaning of the columns of ``particles.parquet``."""
    from sim.inputs.fields import lookup

    out = {
        "world": {"unit": "index", "meaning": "world index (row of worlds.parquet)"},
        "particle": {"unit": "index", "meaning": "row of the posterior sample conf/posterior.parquet"},
    }
    for c in table.columns[2:]:
        sf = lookup(c)
        out[c] = {"unit": sf.unit if sf else "as set", "meaning": f"{c} this world ran with"}
    return out


def _write_scenario_and_summary(job: Job, headline: dict[str, Any]) -> list[str]:
    """``scenario.yaml`` (the resolved scenario) and ``summary.json``."""
    import yaml

    from sim.inputs.scenarios import to_dict
    from sim.running.files import write_json_atomic, write_text_atomic

    run = job.run
    header = (
        f"# Resolved, validated scenario of this run ({job.label}; every field, defaults "
        "included).\n# Run it again with: python -m sim scenario_file=<this file>\n"
    )
    write_text_atomic(
        job.run_dir / "scenario.yaml",
        header + yaml.safe_dump(to_dict(job.scenario), sort_keys=False, allow_unicode=True, width=100),
    )
    summary = {
        "scenario": job.label,
        "scenario_title": job.scenario.name,
        "scenario_source": job.source,
        "seed": run.seed,
        "worlds": job.worlds,
        "days": run.days,
        "record": job.record,
        **headline,
    }
    if job.design is not None:
        summary["design"] = job.design
    write_json_atomic(job.run_dir / "summary.json", summary)
    return ["scenario.yaml", "summary.json"]


def _manifest(
    job: Job,
    chunk_info: dict[str, Any],
    written: list[str],
    git: dict[str, Any],
    started_at: datetime.datetime,
    t_sim: float,
) -> dict[str, Any]:
    """``manifest.json`` of a finished run (``wall_time_seconds`` is filled in last)."""
    from sim.running import ensemble
    from sim.running.cluster import describe

    run = job.run
    return {
        "complete": True,
        "config_hash": job.key,
        **environment(),
        "scenario": job.label,
        "scenario_source": job.source,
        "seed": run.seed,
        "worlds": job.worlds,
        "days": run.days,
        "record": job.record,
        "design": job.design,
        "behaviour": run.behaviour,
        "chunk_worlds": run.chunk_worlds,
        "workers": run.workers,
        "threads": ensemble.resolve_threads(run.threads_or_none, run.workers),
        **describe(run.executor, run.executor_address),
        "chunks": chunk_info["chunks"],
        "chunks_resumed": chunk_info["chunks_resumed"],
        "git": git,
        "started_at": started_at.isoformat(timespec="seconds"),
        "simulation_seconds": round(t_sim, 3),
        "wall_time_seconds": None,
        "overrides": list(HydraConfig.get().overrides.task),
        "command": command(),
        "run_dir": str(job.run_dir.resolve()),
        "files": written + ["manifest.json"],
    }


def _skip_if_complete(job: Job) -> bool:
    """Whether the run directory already holds this run's complete results (then say so)."""
    from sim.running import runner

    if not (job.run.resume and runner.is_complete(job.run_dir, job.key)):
        return False
    runner.clear_checkpoints(job.run_dir)  # left over if killed right after the manifest
    print(
        f"{job.label}: already complete in {job.run_dir} (same settings); skipped. Use "
        "resume=false to run it again."
    )
    sys.stdout.flush()
    return True


def run_task(cfg: DictConfig, git_state: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Validate, run, write the outputs and print the summary.

    A run directory that already holds this run's complete results (same config hash, see
    :mod:`sim.running.runner`) is skipped (``resume=false`` recomputes); an interrupted run
    resumes from its finished chunks.

    Args:
        cfg: the config Hydra composed.
        git_state: gives the commit of the code, for the manifest.

    Returns:
        ``run_dir``, ``worlds``, ``seconds`` and ``skipped``.
    """
    from sim.running import runner

    t0 = time.perf_counter()
    started_at = datetime.datetime.now(datetime.UTC).astimezone()
    _quiet_mesa()
    job = _plan(cfg)
    # a single run took the lock before Hydra wrote into the directory (sim.cli.run); a
    # sweep's job takes it here
    runner.lock_run_dir(job.run_dir)
    try:
        return _run_locked(job, git_state, t0, started_at)
    except OSError as e:
        if runner.is_storage_error(e):
            raise runner.directory_error(job.run_dir, e) from None
        raise
    finally:
        runner.unlock_run_dir(job.run_dir)


def _run_locked(
    job: Job, git_state: Callable[[], dict[str, Any]], t0: float, started_at: Any
) -> dict[str, Any]:
    """:func:`run_task` once the run directory is locked."""
    from sim.running import runner
    from sim.running.files import write_json_atomic
    from sim.running.results import describe

    runner.clean_temporary(job.run_dir)
    (job.run_dir / "error.json").unlink(missing_ok=True)
    if _skip_if_complete(job):
        return {"run_dir": str(job.run_dir), "worlds": job.worlds, "seconds": 0.0, "skipped": True}
    (job.run_dir / runner.MANIFEST).unlink(missing_ok=True)  # from here on the run is not complete
    results, chunk_info = _simulate(job)
    t_sim = time.perf_counter() - t0
    written = _write_tables(job, results)
    headline = results.summary()
    written += _write_scenario_and_summary(job, headline)
    manifest = _manifest(job, chunk_info, written, git_state(), started_at, t_sim)
    if job.run.plots:
        manifest["figures"] = save_figures(job.run_dir, results, sweep=job.design is not None)
    manifest["wall_time_seconds"] = round(time.perf_counter() - t0, 3)
    # Written last: its presence (complete, with this config hash) marks the run as finished.
    write_json_atomic(job.run_dir / "manifest.json", manifest)
    runner.clear_checkpoints(job.run_dir)
    if not _in_sweep():  # a sweep prints one line a job (sim.explore.sweep.progress_line)
        print(describe(headline, job.label))
        print(f"Results: {job.run_dir}")
        sys.stdout.flush()
    return {
        "run_dir": str(job.run_dir),
        "worlds": job.worlds,
        "seconds": round(t_sim, 3),
        "skipped": False,
        "headline": one_line(headline, job.label),
    }


def _in_sweep() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:
        return False


def one_line(headline: dict[str, Any], label: str) -> str:
    """A job's headline in one line (a sweep prints one a job)."""
    text = f"{label}: ceasefire in {headline['ceasefire_share']:.0%} of {headline['worlds']:,} worlds"
    if "ceasefire_days_median" in headline:
        text += f", median first ceasefire {headline['ceasefire_days_median']:.0f} days"
    return text + f", median TTP attacks {headline['ttp_attacks_median']:.0f}"


def save_figures(run_dir: Path, results: Any, sweep: bool = False) -> list[str]:
    """Write the run's standard figures (:func:`sim.report.figures.save_standard_figures`, or for a
    design the sweep figures of :func:`sim.report.saved_runs.sweep_figures`); the PNGs it wrote."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    if sweep:
        from sim.report.saved_runs import sweep_figures

        paths = sweep_figures(run_dir)
    else:
        from sim.report.figures import save_standard_figures

        paths = save_standard_figures(run_dir, results)
    return sorted(str(Path(p).relative_to(run_dir)) for p in paths)
