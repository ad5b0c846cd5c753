"""Command line: ``python -m sim`` and ``negsim``, a Hydra app over ``conf/``.

::

    python -m sim                                          # kabul_2022, 1000 worlds, 730 days
    python -m sim scenario=swat_2009 worlds=5000 record=monthly
    python -m sim scenario.state.delivery_reliability=0.2  # any scenario field
    python -m sim scenario_file=/path/to/my.yaml scenario.ceasefire.term_days=30
    python -m sim -m scenario=kabul_2022,kabul_2022_no_mediator   # a sweep (results/sweeps/adhoc/)
    python -m sim -m +experiment=reliability_leverage              # a named sweep (conf/experiment/)

Each run writes into its run directory (``hydra.run.dir``, by default
``results/<scenario>/<date_time>``): ``worlds.parquet``, ``summary.json``, ``timeseries.parquet``
(when ``record`` is not ``none``), ``scenario.yaml``, ``manifest.json``, figures (``plots=true``)
and Hydra's ``.hydra/``. Every file is written atomically.

Sweeps (``-m``) write into ``results/sweeps/<experiment>/<job values>`` (:mod:`sim.explore.sweep`) and
are collected into ``sweep.parquet`` at the end. A run whose directory already holds its
complete results (``manifest.json``, written last, with the same config hash) is skipped, and a
killed run resumes from its finished chunks (:mod:`sim.running.runner`); ``resume=false`` recomputes.
``workers=N`` shares a run's chunks among N processes, ``threads`` (auto: every core) among
the threads of one; ``executor=dask|ray`` (with ``executor_address``) hands them to the
workers of a cluster instead (:mod:`sim.running.cluster`); ``design`` (set by design experiments)
runs a sampled design as one batch (:mod:`sim.explore.design`).

Exit codes: 0 success; 2 a user mistake (bad setting or scenario value, unknown key or scenario,
missing or malformed file), reported in one paragraph without a traceback; 1 a program error
(with a traceback).

``scenario_file=PATH`` loads a YAML from anywhere instead of ``scenario=NAME``. The command line
is then rewritten before Hydra sees it: the ``scenario`` and ``scenario_schema`` defaults are
dropped (``~scenario ~scenario_schema``) and each ``scenario.KEY=VALUE`` becomes
``++scenario.KEY=VALUE``, so that Hydra accepts keys that exist only in that file. The task
then loads the file and applies the ``scenario.*`` overrides found in
``HydraConfig.get().overrides.task`` on top of it, and validates the result.

The pieces: :mod:`sim.inputs.settings` (the typed run settings and their checks),
:mod:`sim.cli.config` (their registration with Hydra), :mod:`sim.cli.checks` (the pre-check of
the command line), :mod:`sim.cli.task` (the run itself) and :mod:`sim.cli.manifest`.

Tests and notebooks that compose ``conf/`` with Hydra's compose API should import this module
first (or call :func:`sim.cli.config.register_configs`): it registers the typed run settings,
the typed scenario schema and the resolvers used in the run directory name.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.cli import checks
from sim.cli.config import register_configs
from sim.cli.task import run_task
from sim.inputs.scenarios import CONF_DIR, CONF_PACKAGE
from sim.inputs.schema import ScenarioError

#: the checkout holding the package, when it runs from one (editable install); see git_state
REPO_DIR = Path(__file__).resolve().parents[2]
PROG = "negsim"


class SweepJobError(CompactHydraException, ScenarioError):
    """A sweep job stopped on a user mistake; Hydra prints it without a traceback."""


# Whether Hydra accepted the command line (set by the task function and StartedCallback).
_STATE: dict[str, Any] = {"started": False, "user_error": False}

register_configs()


class StartedCallback(Callback):
    """Marks that Hydra composed the config and is about to run the job(s)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Take the run directory's lock before Hydra writes into it (its log, ``.hydra/``):
        a second run into a directory in use, or a directory that cannot be written, stops here
        with exit status 2."""
        _STATE["started"] = True
        from sim.running.runner import lock_run_dir

        try:
            lock_run_dir(str(config.hydra.run.dir), command=" ".join([PROG, *sys.argv[1:]]))
        except ScenarioError as e:
            _STATE["user_error"] = True
            _error(str(e))
            sys.exit(2)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _STATE["started"] = True


def _default_scenario() -> str | None:
    """The scenario of conf/config.yaml's defaults list."""
    try:
        raw = OmegaConf.load(CONF_DIR / "config.yaml")
    except Exception:
        return None
    default = None
    for entry in raw.get("defaults", []):
        if isinstance(entry, DictConfig) and "scenario" in entry:
            default = str(entry["scenario"])
    return default


def _experiment_names() -> list[str]:
    d = CONF_DIR / "experiment"
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def precheck(overrides: list[str]) -> list[str]:
    """Check the command-line overrides before Hydra composes them; returns them, rewritten
    (:func:`sim.cli.checks.precheck` with the defaults and experiments of ``conf/``).

    Raises:
        ScenarioError: on a mistake.
    """
    return checks.precheck(overrides, _default_scenario(), _experiment_names())


def git_state(repo: Path = REPO_DIR) -> dict[str, Any]:
    """Commit of the repository holding the package and whether its tree is dirty.

    All None when the package does not run from a git checkout (an installed wheel) or git is
    not available.
    """
    if not (repo / ".git").exists():
        return {"commit": None, "dirty": None, "repo": None}

    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != repo.resolve():
        return {"commit": None, "dirty": None, "repo": None}
    status = git("status", "--porcelain")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "repo": str(repo),
    }


def _split_argv(argv: list[str]) -> tuple[list[str], list[str], bool]:
    """Split Hydra's flags from the overrides; also tells whether to skip the pre-check."""
    try:
        from hydra._internal.utils import get_args_parser

        args, _unknown = get_args_parser().parse_known_args(argv)
    except SystemExit:
        return [], argv, True
    except Exception:
        return [], argv, True
    overrides = list(args.overrides or [])
    # argparse leaves overrides given after a flag (worlds=5 -m days=3) among the unknowns
    overrides += [u for u in _unknown if not u.startswith("-")]
    skip = bool(args.help or args.hydra_help or args.shell_completion or args.info or args.experimental_rerun)
    # flags = everything that is not one of the overrides (kept in order, overrides go last)
    flags, pool = [], list(overrides)
    for a in argv:
        if pool and a == pool[0]:
            pool.pop(0)
        else:
            flags.append(a)
    return flags, overrides, skip


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {checks.one_paragraph(message)}\n")
    sys.stderr.flush()


def _record_error(e: BaseException) -> None:
    """Leave ``error.json`` in the job's directory, so a sweep collector can say what failed."""
    import traceback

    from sim.running.files import write_json_atomic

    try:
        out = Path(HydraConfig.get().runtime.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            out / "error.json",
            {
                "type": type(e).__name__,
                "message": str(e),
                "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__)),
            },
        )
    except Exception:
        pass


#: what Hydra and the run directory's lock (sim.running.runner.LOCK_FILE, LOCK_INFO) write into
#: it before the run starts; named here so that the command line's start imports no runner
_HYDRA_ONLY = {".hydra", "negsim.log", ".lock", ".lock.json"}


def _remove_unused_run_dir() -> None:
    """Remove the directory of a run that stopped before writing anything (Hydra made it and
    wrote only its own files), and its parents under the working directory left empty, so a
    mistake leaves no empty result directory behind."""
    import shutil

    try:
        out = Path(HydraConfig.get().runtime.output_dir).resolve()
    except Exception:
        return
    if not out.is_dir() or {p.name for p in out.iterdir()} - _HYDRA_ONLY:
        return
    shutil.rmtree(out, ignore_errors=True)
    here = Path.cwd().resolve()
    for parent in out.parents:
        if parent == here or here not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def _is_multirun() -> bool:
    try:
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:
        return False


@hydra.main(version_base="1.3", config_path=f"pkg://{CONF_PACKAGE}", config_name="config")
def _hydra_task(cfg: DictConfig) -> dict[str, Any]:
    _STATE["started"] = True
    try:
        return run_task(cfg, git_state)
    except ScenarioError as e:
        _STATE["user_error"] = True
        _error(str(e))
        if _is_multirun():
            _record_error(e)
            # Hydra runs the other jobs, then prints this message (no traceback: compact)
            raise SweepJobError(str(e)) from None
        _remove_unused_run_dir()
        sys.exit(2)
    except Exception as e:
        if _is_multirun():
            _record_error(e)
        raise


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim`` and ``negsim``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    flags, overrides, skip = _split_argv(argv)
    if not skip:
        try:
            overrides = precheck(overrides)
        except ScenarioError as e:
            _error(str(e))
            sys.exit(2)
    _STATE["started"] = False
    _STATE["user_error"] = False
    from sim.explore import sweep

    sweep.SESSION.update(sweep_dir=None, collected=False)
    sys.argv = [sys.argv[0] if sys.argv else PROG, *flags, *overrides]
    try:
        _hydra_task()
    except SystemExit as e:
        code = e.code
        if code not in (0, None, 2) and (not _STATE["started"] or _STATE["user_error"]):
            # Hydra rejected the command line (an unknown key or option, a wrong type) before
            # the run started, or a sweep job stopped on a bad value: a user mistake.
            sys.exit(2)
        raise
    finally:
        # A multirun whose jobs failed ends without on_multirun_end: collect what finished.
        if sweep.SESSION["sweep_dir"] is not None and not sweep.SESSION["collected"]:
            sweep.collect_quietly(sweep.SESSION["sweep_dir"])


if __name__ == "__main__":
    main()
