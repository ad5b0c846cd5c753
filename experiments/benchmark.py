"""Benchmark: kernel against Mesa agent mode, in faction-days per second.

    python experiments/benchmark.py                      # 10,000 worlds x 730 days, kabul_2022
    python experiments/benchmark.py --worlds 2000 --repeats 3

Prints the kernel's faction-days per second (median of ``--repeats`` runs) on one core
(``threads=1``), with two threads in one process (``threads=2``), in one process on every core
(one thread per core steps its own chunks, the default of ``sim.run``; left out when that is two)
and with ``workers=2`` (two processes); beside each, its share of the random-number floor
measured in the same run, and beside the two threads their speed-up over one core (median of
the repeats' ratios). Then the Mesa agent mode's speed on ``--mesa-worlds`` worlds; the ratio
(one core against one core, measured in this process); this machine's speed at drawing uniforms
(the kernel's random-number floor: a kernel doing nothing but drawing the uniforms it needs;
also a yardstick for comparing figures from machines of different speed) and the peak resident
memory of the process.

Then how quickly it starts, each in a fresh process: ``import sim`` and ``negsim --help``
(best of three), a *cold start* (a small run with an empty compiled-code cache, a fresh
``NEGSIM_CACHE_DIR``: the first run after an install, compiling the model) and a *warm start*
(the same run again, the compiled code read from the cache). ``--no-start`` skips them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import sim
from sim.core.kernel import slot_count
from sim.inputs.params import build_params
from sim.running import ensemble


def kernel_rate(
    scenario, worlds: int, days: int, chunk: int, seed: int, workers: int = 1, threads: int | None = None
) -> float:
    t = time.perf_counter()
    sim.run(
        scenario, worlds=worlds, days=days, seed=seed, chunk_worlds=chunk, workers=workers, threads=threads
    )
    return worlds * days * len(scenario.factions) / (time.perf_counter() - t)


def kernel_rates(
    scenario, worlds: int, days: int, chunk: int, seed: int, repeats: int, default_threads: int
) -> dict[str, list[float]]:
    """Faction-days per second of each setting in each repeat: ``one`` (threads=1), ``two``
    (threads=2), ``both`` (workers=2) and ``default`` (the default threads, when not two).

    The settings take turns within each repeat, so that a slow spell of a shared machine does
    not fall on one of them only.
    """
    settings: dict[str, dict] = {"one": {"threads": 1}, "two": {"threads": 2}, "both": {"workers": 2}}
    if default_threads != 2:
        settings["default"] = {}
    rates: dict[str, list[float]] = {k: [] for k in settings}
    for _ in range(repeats):
        for key, kw in settings.items():
            rates[key].append(kernel_rate(scenario, worlds, days, chunk, seed, **kw))
    return rates


def mesa_rate(scenario, worlds: int, days: int, seed: int) -> float:
    t = time.perf_counter()
    for w in range(worlds):
        model = sim.NegotiationModel(scenario, rng=seed, world=w, days=days)
        while model.running:
            model.step()
    return worlds * days * len(scenario.factions) / (time.perf_counter() - t)


def slots_per_faction_day(scenario) -> float:
    """Uniforms the kernel draws per faction-day (every world draws a fixed row a day)."""
    p = build_params(scenario, 1, None)
    slots = slot_count(len(p.faction_ids), len(p.spoiler_ids), len(p.item_kind))
    return slots / len(p.faction_ids)


def uniform_rate(seconds: float = 1.0) -> float:
    """This machine's speed at drawing uniforms (numpy PCG64, 10-million blocks): the floor a
    kernel step cannot beat, and a yardstick for comparing figures across machines."""
    gen = np.random.Generator(np.random.PCG64(0))
    out = np.empty(10_000_000)
    rates = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(rates) < 3:
        t = time.perf_counter()
        gen.random(out=out)
        rates.append(out.size / (time.perf_counter() - t))
    return statistics.median(rates)


def _kernel_line(name: str, rates: list[float], floor: float, what: str) -> str:
    """One kernel figure: the median rate, its share of the random-number floor ``floor``
    (faction-days per second) and the repeats it is the median of."""
    med = statistics.median(rates)
    return (
        f"{name} {med / 1e6:8.2f} M faction-days/s = {med / floor:4.0%} of floor  ({what}; median of "
        f"{len(rates)}: " + ", ".join(f"{x / 1e6:.2f}" for x in rates) + ")"
    )


def _timed(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of a fresh Python process running ``args`` (it must succeed)."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], check=True, capture_output=True, env=env, cwd=tempfile.gettempdir()
    )
    return time.perf_counter() - t


def start_times(scenario: str, worlds: int = 64, days: int = 30) -> dict[str, float]:
    """Seconds to start, each in a fresh process: ``import``, ``help``, ``cold`` and ``warm``.

    ``import`` and ``help`` are the best of three (``import sim``; ``python -m sim --help``).
    ``cold`` is a small run of ``scenario`` with an empty compiled-code cache (a fresh
    ``NEGSIM_CACHE_DIR``), ``warm`` the same run again with that cache filled.
    """
    out = {
        "import": min(_timed(["-c", "import sim"]) for _ in range(3)),
        "help": min(_timed(["-m", "sim", "--help"]) for _ in range(3)),
    }
    code = f"import sim; sim.run({scenario!r}, worlds={worlds}, days={days}, seed=0)"
    with tempfile.TemporaryDirectory(prefix="negsim-cache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "NEGSIM_COMPILE_ANNOUNCED"}
        env["NEGSIM_CACHE_DIR"] = cache
        out["cold"] = _timed(["-c", code], env)
        out["warm"] = _timed(["-c", code], env)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="kabul_2022")
    ap.add_argument("--worlds", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk-worlds", type=int, default=ensemble.DEFAULT_CHUNK_WORLDS)
    ap.add_argument("--mesa-worlds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-start", action="store_true", help="skip the start-up times")
    a = ap.parse_args(argv)
    try:
        s = sim.load_scenario(a.scenario)
    except sim.ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sim.run(s, worlds=64, days=30, seed=a.seed)  # warm-up
    machine_before = uniform_rate()
    default_threads = ensemble.resolve_threads(None)
    rates = kernel_rates(s, a.worlds, a.days, a.chunk_worlds, a.seed, a.repeats, default_threads)
    mesa = [mesa_rate(s, a.mesa_worlds, a.days, a.seed) for _ in range(max(1, a.repeats))]
    k1, m = statistics.median(rates["one"]), statistics.median(mesa)
    machine = statistics.median([machine_before, uniform_rate()])
    floor = machine / slots_per_faction_day(s)
    speedup = statistics.median(t / o for t, o in zip(rates["two"], rates["one"], strict=True))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"scenario {a.scenario}: {len(s.factions)} factions, {a.worlds:,} worlds x {a.days} days, "
        f"chunks of {a.chunk_worlds} worlds"
    )
    labels = {
        "one": ("kernel 1  ", "one core, one thread"),
        "two": ("kernel 2t ", f"threads=2, one process; {speedup:.2f}x one core"),
        "default": ("kernel    ", f"one process, {default_threads} threads (the default)"),
        "both": ("kernel x2 ", "workers=2, both cores; worker start-up paid once, in the first run"),
    }
    for key in ("one", "two", "default", "both"):
        if key in rates:
            name, what = labels[key]
            print(_kernel_line(name, rates[key], floor, what))
    print(f"mesa       {m / 1e3:8.2f} k faction-days/s  ({a.mesa_worlds} worlds, median of {len(mesa)})")
    print(f"ratio      {k1 / m:8.0f} x   (the kernel on one core against the Mesa agent mode)")
    print(
        f"machine    {machine / 1e6:8.0f} M uniforms/s (numpy PCG64, before and after; the "
        f"kernel's random-number floor: {floor / 1e6:.1f} M faction-days/s, "
        f"{slots_per_faction_day(s):.2f} uniforms a faction-day)"
    )
    print(f"peak RSS   {peak_mb:8.0f} MB")
    if not a.no_start:
        st = start_times(a.scenario)
        print(f"import     {st['import']:8.2f} s   (import sim, fresh process; best of 3)")
        print(f"help       {st['help']:8.2f} s   (python -m sim --help; best of 3)")
        print(
            f"cold start {st['cold']:8.2f} s   (64 worlds x 30 days with an empty compiled-code "
            "cache: the first run after an install)"
        )
        print(f"warm start {st['warm']:8.2f} s   (the same run again, compiled code from the cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
