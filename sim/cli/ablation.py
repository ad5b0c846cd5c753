"""Command line of the ablation: ``negsim-ablation`` or ``python -m sim.cli.ablation``.

    negsim-ablation                       # 2,000 worlds per episode, the shipped posterior
    negsim-ablation --quick               # small run (tests): results/ablation_quick/
    negsim-ablation --worlds 500 --seed 7 --behaviour shipped --out DIR

Switches each mechanism of :data:`sim.core.mechanisms.MECHANISMS` off in turn, scores every
pattern against the documented episodes and writes ``ablation.md`` (which mechanism changes which
pattern's score, and the headline outcomes), ``scores.csv``, ``effects.csv``, ``verdict.csv``,
``headline.csv`` and ``run.json``. The method is described in :mod:`sim.report.ablation`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

WORLDS = 2000
"""Default worlds per episode (the validation report's)."""
SEED = 20221108
"""Default seed."""
QUICK_WORLDS = 60
"""Worlds per episode of ``--quick``."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="negsim-ablation",
        description="Switch each mechanism off in turn and score every pattern against the episodes.",
    )
    ap.add_argument("--worlds", type=int, help=f"worlds per episode, at least 10 (default {WORLDS})")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed (default {SEED})")
    ap.add_argument(
        "--behaviour",
        choices=("posterior", "shipped"),
        default="posterior",
        help="behavioural parameters: one posterior particle per world (default) or the shipped point",
    )
    ap.add_argument("--workers", type=int, default=1, help="processes per run (results do not depend on it)")
    ap.add_argument("--out", help="output directory (default results/ablation[_quick])")
    ap.add_argument("--quick", action="store_true", help=f"small run for tests ({QUICK_WORLDS} worlds)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ablation; a bad argument stops with a message naming it (exit 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser()
    args = ap.parse_args(argv)
    if args.worlds is not None and args.worlds < 10:
        ap.error(f"--worlds {args.worlds} is not allowed: expected a whole number >= 10")
    if args.workers < 1:
        ap.error(f"--workers {args.workers} is not allowed: expected a whole number >= 1")
    worlds = args.worlds or (QUICK_WORLDS if args.quick else WORLDS)
    from sim.inputs.schema import ScenarioError
    from sim.report import ablation as A

    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", flush=True)

    out = Path(args.out or Path("results") / ("ablation_quick" if args.quick else "ablation"))
    try:
        result = A.run(worlds, args.seed, args.behaviour, args.workers, log)
    except ScenarioError as e:
        print(f"negsim-ablation: {e}", file=sys.stderr)
        return 2
    A.write_outputs(result, out, " ".join(["negsim-ablation", *argv]))
    for row in result.verdict.itertuples():
        log(
            f"{row.mechanism}: {row.patterns_changed} patterns changed ({row.helped} helped, {row.hurt} hurt)"
        )
    log(f"wrote {out}/ ({time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
