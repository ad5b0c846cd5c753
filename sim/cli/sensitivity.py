"""Command line of the sensitivity screening: ``negsim-sensitivity`` or ``python -m sim.cli.sensitivity``.

    negsim-sensitivity                          # full run (3-6 minutes on one core, ~10 GB)
    negsim-sensitivity --quick                  # small run (tests): results/sensitivity_quick/
    negsim-sensitivity --trajectories 40 --worlds 12 --seed 7 --out DIR

Writes ``sensitivity.csv`` (mu*, sigma and scaled mu* per pattern and parameter), ``verdict.csv``,
``sensitivity.md`` (which parameters the patterns identify), ``sensitivity.png`` and
``run.json``. The method is described in :mod:`sim.explore.sensitivity`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TRAJECTORIES = 100
"""Default Morris trajectories of the full run (100 x 48 points x 12 worlds: 3-6 minutes on one core)."""
WORLDS = 12
"""Default worlds per point: the calibration's ``worlds_per_draw``, so the noise is the calibration's."""
SEED = 20221108
"""Default seed (the calibration's)."""
QUICK = {"trajectories": 4, "worlds": 2}
"""The ``--quick`` budget."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="negsim-sensitivity",
        description="Morris screening: which behavioural parameters the documented episodes identify.",
    )
    ap.add_argument(
        "--trajectories", type=int, help=f"Morris trajectories, at least 2 (default {TRAJECTORIES})"
    )
    ap.add_argument("--worlds", type=int, help=f"worlds per parameter set, at least 1 (default {WORLDS})")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed (default {SEED})")
    ap.add_argument("--out", help="output directory (default results/sensitivity[_quick])")
    ap.add_argument("--quick", action="store_true", help="small budget for tests (4 trajectories x 2 worlds)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the screening; a bad argument stops with a message naming it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser()
    args = ap.parse_args(argv)
    trajectories = args.trajectories or (QUICK["trajectories"] if args.quick else TRAJECTORIES)
    worlds = args.worlds or (QUICK["worlds"] if args.quick else WORLDS)
    if args.trajectories is not None and args.trajectories < 2:
        ap.error(f"--trajectories {args.trajectories} is not allowed: expected a whole number >= 2")
    if args.worlds is not None and args.worlds < 1:
        ap.error(f"--worlds {args.worlds} is not allowed: expected a whole number >= 1")
    from sim.explore import sensitivity as S

    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", flush=True)

    out = Path(args.out or Path("results") / ("sensitivity_quick" if args.quick else "sensitivity"))
    result = S.run(trajectories, worlds, args.seed, log)
    command = " ".join(["python -m sim.cli.sensitivity", *argv])
    S.write_outputs(result, out, command)
    ids = result.verdict.loc[result.verdict["identified"], "parameter"].tolist()
    log(f"{len(ids)} of {len(result.verdict)} parameters identified: {' '.join(ids)}")
    log(f"wrote {out}/ ({time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
