"""Validation report: ``python -m sim.cli.validate [--worlds N] [--seed S] [--out DIR]``.

Runs every documented episode with the shipped behavioural parameters (``conf/behaviour.yaml``),
compares each observed pattern with the simulated median and 50% / 90% intervals, and writes
``report.md``, ``patterns.csv`` and PNG figures to the output directory (default
``results/validation``). See :mod:`sim.report.patterns` for the patterns and the pass rule.
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.cli.validate", description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=2000, help="worlds per episode (default 2000)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    ap.add_argument("--out", default="results/validation", help="output directory")
    ap.add_argument("--workers", type=int, default=1, help="processes per run (same results)")
    ap.add_argument(
        "--no-counterfactuals", action="store_true", help="skip the counterfactual comparison table"
    )
    args = ap.parse_args(argv)
    if args.worlds < 20:
        ap.error("--worlds must be at least 20")
    from sim.report.patterns import pass_fraction, write_report

    t = time.perf_counter()
    path, outcomes = write_report(
        args.out,
        worlds=args.worlds,
        seed=args.seed,
        workers=args.workers,
        counterfactuals=not args.no_counterfactuals,
    )
    passed, judged = pass_fraction(outcomes)
    for o in outcomes:
        mark = "pass" if o.passed else ("n/a " if o.passed is None else "FAIL")
        print(f"  {mark}  {o.pattern.id}")
    print(
        f"{passed} of {judged} patterns inside the simulated 90% interval "
        f"({passed / max(judged, 1):.0%}); report: {path} ({time.perf_counter() - t:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
