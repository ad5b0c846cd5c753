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

Nothing half-written ever looks complete: every file is written to a hidden temporary name and
renamed (:mod:`sim.running.files`); :func:`clean_temporary` removes the temporary files a killed process
left behind.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.registry import field_metadata
from sim.inputs.schema import Scenario
from sim.running import ensemble
from sim.running.files import to_jsonable, write_json_atomic, write_parquet_atomic
from sim.running.results import Results

CHUNK_DIR = ".chunks"
MANIFEST = "manifest.json"
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
) -> tuple[Results, dict[str, Any]]:
    """Run a scenario with every finished chunk saved, resuming from saved chunks.

    Args:
        run_dir: directory of the run (it must exist); checkpoints go to ``run_dir/.chunks``.
        scenario, worlds, days, seed, record, params, chunk_worlds, workers, threads, behaviour:
            as :func:`sim.run`.
        progress: show a progress bar (worlds done, worlds per second, time left).
        key: config hash of the run; checkpoints made under another key are discarded.
        resume: keep checkpoints of an interrupted run with the same key (False: start over).

    Returns:
        (results, info) where info has ``chunks``, ``chunks_resumed`` and ``worlds_resumed``.
    """
    run_dir = Path(run_dir)
    s = ensemble.prepare(scenario, worlds, days, seed, record, chunk_worlds, 0, workers, threads)
    params, particles = ensemble.behaviour_params(s, behaviour, worlds, seed, params)
    lanes = ensemble.lanes(workers, threads)
    bounds = ensemble.plan_chunks(worlds, 0, chunk_worlds, lanes)
    ensemble.check_params(s, worlds, params, bounds)
    cdir = run_dir / CHUNK_DIR
    meta = {"config_hash": key, "worlds": worlds, "days": days, "seed": seed, "record": record}
    _start_checkpoints(run_dir, meta, resume)
    done = [sp for sp in _done_spans(cdir) if sp[1] <= worlds]
    todo = _missing_chunks(worlds, done, chunk_worlds, lanes)
    resumed = sum(hi - lo for lo, hi in done)
    if done:
        print(
            f"resuming: {len(done)} finished chunk(s), {resumed:,} of {worlds:,} worlds, from {cdir}",
            file=sys.stderr,
            flush=True,
        )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=worlds, initial=resumed, unit="world", unit_scale=True, desc=s.name or "run")
    try:
        chunks = ensemble.iter_chunks(s, todo, seed, days, record, params, 0, workers, threads)
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
