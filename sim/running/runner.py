"""Long runs that survive being killed: chunk checkpoints and a completion marker.

:func:`run_checkpointed` runs like :func:`sim.run` but writes every finished chunk's tables
atomically into ``<run dir>/.chunks/`` (``worlds-<lo>-<hi>.parquet``, written last, plus
``series-...`` and ``ceasefires-...`` when there are any). Started again with the same settings
(same :func:`config_hash`) it keeps the finished chunks and runs only the missing worlds; the
results are identical to an uninterrupted run because every world draws from its own random
stream. The caller deletes the checkpoints (:func:`clear_checkpoints`) once the final tables
are written.

A run directory is *complete* when its ``manifest.json`` (written last, atomically) says
``"complete": true`` with the same ``config_hash`` and every file it lists exists
(:func:`is_complete`); the command line then skips the run.

Only one process at a time works in a run directory: :func:`lock_run_dir` takes an OS file lock
(``<run dir>/.lock``, :mod:`filelock`) and records who holds it in ``.lock.json``; a second run
into the same directory stops at once with a :class:`RunDirBusy` naming the directory and the
other process. The lock is the operating system's, so a killed run leaves none behind: the next
run takes the directory over (and resumes from its finished chunks).

Nothing half-written ever looks complete: every file is written to a hidden temporary name and
renamed (:mod:`sim.running.files`); :func:`clean_temporary` removes the temporary files a killed process
left behind.
"""

from __future__ import annotations

import atexit
import datetime
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.registry import field_metadata
from sim.inputs.schema import Scenario, ScenarioError
from sim.running import ensemble
from sim.running.files import to_jsonable, write_json_atomic, write_parquet_atomic
from sim.running.results import Results

CHUNK_DIR = ".chunks"
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"
#: who holds a run directory's lock (process id, host, start time, command), beside the lock
LOCK_INFO = ".lock.json"
_CHUNK_FILE = re.compile(r"^worlds-(\d{10})-(\d{10})\.parquet$")


@functools.cache
def code_fingerprint(package_dir: Path | None = None) -> str:
    """Hash of the model's code: every ``.py`` file of the ``sim`` package (path and bytes).

    Computed once per process (per folder). A changed line anywhere in the package changes it,
    so a run made by other code is never taken as complete nor resumed (see :func:`config_hash`).

    Args:
        package_dir: folder of the package to hash (default: the installed ``sim``).
    """
    if package_dir is None:
        package_dir = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def config_hash(settings: dict[str, Any]) -> str:
    """Stable hash of everything that decides a run's results (scenario, worlds, days, seed,
    record, design, package version, :func:`code_fingerprint`): the same settings run by the
    same code give the same hash."""
    from sim import __version__

    text = json.dumps(
        to_jsonable({"version": __version__, "code": code_fingerprint(), **settings}),
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class RunDirBusy(ScenarioError):
    """Another process is running into the same run directory."""


# locks this process holds, by resolved run directory (released at exit)
_HELD: dict[Path, Any] = {}


def directory_error(run_dir: Path, e: OSError, setting: str = "hydra.run.dir") -> ScenarioError:
    """The message for a run directory that cannot be created or written (read-only, full, a
    file in the way): names the directory, the reason and what to do."""
    reason = {
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.ENOTDIR: "a file is in the way of a folder on that path",
        errno.EEXIST: "a file of that name is in the way",
    }.get(e.errno or 0, e.strerror or type(e).__name__)
    return ScenarioError(
        f"{setting} = {str(run_dir)!r} cannot be written: {reason} ({e.filename or run_dir}); choose a "
        f"writable directory with free space (e.g. {setting}=results/my_run)"
    )


def is_storage_error(e: OSError) -> bool:
    """Whether ``e`` says the disk is full, read-only or not writable (a user's matter, not a bug)."""
    return e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR)


def lock_run_dir(run_dir: str | Path, command: str = "") -> Path:
    """Create ``run_dir`` and take its lock for this process (kept until exit or
    :func:`unlock_run_dir`); taking it again in the same process is a no-op.

    Args:
        run_dir: the run directory.
        command: what this process runs, recorded for the message another process gets.

    Returns:
        The resolved run directory.

    Raises:
        RunDirBusy: another live process holds the lock (the message names it).
        ScenarioError: the directory cannot be created or written (read-only, full disk).
    """
    from filelock import FileLock, Timeout

    path = Path(run_dir).expanduser().resolve()
    if path in _HELD:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path / LOCK_FILE, thread_local=False)
        lock.acquire(timeout=0)
    except Timeout:
        raise RunDirBusy(_busy_message(path)) from None
    except OSError as e:
        raise directory_error(path, e) from None
    _HELD[path] = lock
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command or " ".join(sys.argv),
    }
    try:
        write_json_atomic(path / LOCK_INFO, info)
    except OSError as e:
        unlock_run_dir(path)
        raise directory_error(path, e) from None
    return path


def _busy_message(path: Path) -> str:
    try:
        info = json.loads((path / LOCK_INFO).read_text())
    except (OSError, ValueError):
        info = {}
    who = (
        f"process {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started_at', '?')}"
        + (f": {info['command']}" if info.get("command") else "")
        if info
        else "another process"
    )
    return (
        f"hydra.run.dir = {str(path)!r} is in use by another run ({who}): two runs into one "
        "directory would mix their results. Wait for it to finish, or give this run its own "
        "directory (hydra.run.dir=results/another_name)"
    )


def unlock_run_dir(run_dir: str | Path) -> None:
    """Release this process's lock on ``run_dir`` (nothing if it holds none)."""
    path = Path(run_dir).expanduser().resolve()
    lock = _HELD.pop(path, None)
    if lock is None:
        return
    (path / LOCK_INFO).unlink(missing_ok=True)
    lock.release(force=True)


@atexit.register
def _unlock_all() -> None:
    for path in list(_HELD):
        try:
            unlock_run_dir(path)
        except OSError:
            pass


def clean_temporary(run_dir: Path) -> list[Path]:
    """Delete temporary files (``.<name>.<pid>.<random>.tmp``) a killed writer left behind."""
    gone = []
    for p in list(run_dir.glob(".*.tmp")) + list((run_dir / CHUNK_DIR).glob(".*.tmp")):
        p.unlink(missing_ok=True)
        gone.append(p)
    return gone


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The run's manifest, or None if missing or unreadable."""
    try:
        return json.loads((run_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def is_complete(run_dir: Path, key: str | None = None) -> bool:
    """Whether ``run_dir`` holds a finished run (with config hash ``key``, if given)."""
    m = read_manifest(run_dir)
    if not isinstance(m, dict) or m.get("complete") is not True:
        return False
    if key is not None and m.get("config_hash") != key:
        return False
    return all((run_dir / f).is_file() for f in m.get("files", []))


def _span_name(kind: str, lo: int, hi: int) -> str:
    return f"{kind}-{lo:010d}-{hi:010d}.parquet"


def _done_spans(cdir: Path) -> list[tuple[int, int]]:
    spans = []
    for p in cdir.glob("worlds-*.parquet"):
        m = _CHUNK_FILE.match(p.name)
        if m:
            spans.append((int(m.group(1)), int(m.group(2))))
    return sorted(spans)


def _gaps(worlds: int, done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    gaps, at = [], 0
    for lo, hi in done:
        if lo > at:
            gaps.append((at, lo))
        at = max(at, hi)
    if at < worlds:
        gaps.append((at, worlds))
    return gaps


def clear_checkpoints(run_dir: Path) -> None:
    """Remove the chunk checkpoints of a run (after its final tables are written)."""
    shutil.rmtree(Path(run_dir) / CHUNK_DIR, ignore_errors=True)


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def _start_checkpoints(run_dir: Path, meta: dict[str, Any], resume: bool) -> None:
    """Keep the checkpoints of an interrupted run with the same ``meta`` (when resuming), else
    clear them; remove half-written files; record ``meta`` in ``.chunks/run.json``."""
    cdir = run_dir / CHUNK_DIR
    old = None
    try:
        old = json.loads((cdir / "run.json").read_text())
    except (OSError, ValueError):
        pass
    if not resume or old != to_jsonable(meta):
        clear_checkpoints(run_dir)
    cdir.mkdir(parents=True, exist_ok=True)
    clean_temporary(run_dir)
    write_json_atomic(cdir / "run.json", meta)


def _missing_chunks(
    worlds: int, done: list[tuple[int, int]], chunk_worlds: int, lanes: int
) -> list[tuple[int, int]]:
    """Missing worlds, cut into chunks that end on the random-stream groups like a fresh run's."""
    todo = []
    for glo, ghi in _gaps(worlds, done):
        todo += [(glo + lo, glo + hi) for lo, hi in ensemble.plan_chunks(ghi - glo, glo, chunk_worlds, lanes)]
    return todo


def _save_chunk(cdir: Path, lo: int, hi: int, result, record: str) -> None:
    """Write one finished chunk's tables; the worlds table goes last: its presence marks the
    chunk as finished."""
    table, series, cfs = result
    if series is not None:
        write_parquet_atomic(
            series, cdir / _span_name("series", lo, hi), fields=field_metadata("timeseries", record)
        )
    if cfs is not None:
        write_parquet_atomic(
            cfs, cdir / _span_name("ceasefires", lo, hi), fields=field_metadata("ceasefires")
        )
    write_parquet_atomic(table, cdir / _span_name("worlds", lo, hi), fields=field_metadata("worlds"))


def _saved_parts(cdir: Path) -> list:
    """The saved chunks' results in world order: (worlds, series or None, ceasefires or None)."""
    return [
        (
            pd.read_parquet(cdir / _span_name("worlds", lo, hi)),
            _read(cdir / _span_name("series", lo, hi)),
            _read(cdir / _span_name("ceasefires", lo, hi)),
        )
        for lo, hi in _done_spans(cdir)
    ]


def _say_resuming(chunks: int, resumed: int, worlds: int, cdir: Path) -> None:
    print(
        f"resuming: {chunks} finished chunk(s), {resumed:,} of {worlds:,} worlds, from {cdir}",
        file=sys.stderr,
        flush=True,
    )


def run_checkpointed(
    run_dir: str | Path,
    scenario: Scenario,
    worlds: int,
    days: int,
    seed: int,
    record: str = "none",
    params: pd.DataFrame | None = None,
    chunk_worlds: int = ensemble.DEFAULT_CHUNK_WORLDS,
    workers: int = 1,
    progress: bool = False,
    key: str | None = None,
    resume: bool = True,
    threads: int | None = None,
    behaviour: str = "shipped",
    max_memory: int | str | None = None,
    oversubscribe: bool = False,
    executor: str = "local",
    executor_address: str | None = None,
) -> tuple[Results, dict[str, Any]]:
    """Run a scenario with every finished chunk saved, resuming from saved chunks.

    The run directory is locked for the run (:func:`lock_run_dir`) unless this process holds
    its lock already: another process running into it stops with :class:`RunDirBusy`.

    Args:
        run_dir: directory of the run (it must exist); checkpoints go to ``run_dir/.chunks``.
        scenario, worlds, days, seed, record, params, chunk_worlds, workers, threads, behaviour,
            max_memory, oversubscribe, executor, executor_address: as :func:`sim.run` (with a
            cluster, its workers step the chunks and this process writes the checkpoints).
        progress: show a progress bar (worlds done, worlds per second, time left).
        key: config hash of the run; checkpoints made under another key are discarded.
        resume: keep checkpoints of an interrupted run with the same key (False: start over).

    Returns:
        (results, info) where info has ``chunks``, ``chunks_resumed`` and ``worlds_resumed``.
    """
    run_dir = Path(run_dir)
    held = Path(run_dir).expanduser().resolve() in _HELD
    lock_run_dir(run_dir)  # the command line holds it already; another caller takes it here
    try:
        return _run_checkpointed(
            run_dir, scenario, worlds, days, seed, record, params, chunk_worlds, workers, progress, key,
            resume, threads, behaviour, max_memory, oversubscribe, executor, executor_address,
        )  # fmt: skip
    finally:
        if not held:
            unlock_run_dir(run_dir)


def _run_checkpointed(
    run_dir: Path,
    scenario: Scenario,
    worlds: int,
    days: int,
    seed: int,
    record: str,
    params: pd.DataFrame | None,
    chunk_worlds: int,
    workers: int,
    progress: bool,
    key: str | None,
    resume: bool,
    threads: int | None,
    behaviour: str,
    max_memory: int | str | None,
    oversubscribe: bool,
    executor: str,
    executor_address: str | None,
) -> tuple[Results, dict[str, Any]]:
    """:func:`run_checkpointed` with the run directory locked."""
    s = ensemble.prepare(
        scenario, worlds, days, seed, record, chunk_worlds, 0, workers, threads, max_memory, oversubscribe,
        executor, executor_address,
    )  # fmt: skip
    params, particles = ensemble.behaviour_params(s, behaviour, worlds, seed, params)
    engine, lanes = ensemble.engine_lanes(executor, executor_address, workers, threads)
    bounds = ensemble.plan_chunks(worlds, 0, chunk_worlds, lanes)
    ensemble.check_params(s, worlds, params, bounds)
    cdir = run_dir / CHUNK_DIR
    meta = {"config_hash": key, "worlds": worlds, "days": days, "seed": seed, "record": record}
    _start_checkpoints(run_dir, meta, resume)
    done = [sp for sp in _done_spans(cdir) if sp[1] <= worlds]
    todo = _missing_chunks(worlds, done, chunk_worlds, lanes)
    resumed = sum(hi - lo for lo, hi in done)
    if done:
        _say_resuming(len(done), resumed, worlds, cdir)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=worlds, initial=resumed, unit="world", unit_scale=True, desc=s.name or "run")
    try:
        chunks = ensemble.iter_chunks(s, todo, seed, days, record, params, 0, workers, threads, engine)
        for lo, hi, result in chunks:
            _save_chunk(cdir, lo, hi, result, record)
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    results = ensemble.assemble(s, _saved_parts(cdir), seed, days, record, params)
    results.particles = particles
    if len(results.worlds) != worlds:  # never expected: a foreign file in .chunks
        raise RuntimeError(
            f"checkpoints in {cdir} hold {len(results.worlds)} worlds, expected "
            f"{worlds}: delete that directory and run again"
        )
    return results, {"chunks": len(done) + len(todo), "chunks_resumed": len(done), "worlds_resumed": resumed}
