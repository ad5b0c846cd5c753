"""Validation report: ``python -m sim.validate [--worlds N] [--seed S] [--out DIR] [--out-of-sample ...]``.

Runs every documented episode with the shipped behavioural parameters (``conf/behaviour.yaml``),
scores each observed pattern with proper scores against two null models, compares it with the
simulated median and 50% / 90% intervals, runs the out-of-sample folds (every episode left out in
turn, and calibrate-to-2015 / predict 2020-2022), and writes ``report.md``, ``patterns.csv``,
``scores.csv``, ``out_of_sample.csv`` and PNG figures to the output directory (default
``results/validation``). See :mod:`sim.report.validation`.
"""

from __future__ import annotations

import argparse
import sys
import time

PROG = "python -m sim.validate"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=2000, help="worlds per episode (default 2000)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    ap.add_argument("--out", default="results/validation", help="output directory")
    ap.add_argument("--workers", type=int, default=1, help="processes (same results for any number)")
    ap.add_argument(
        "--out-of-sample",
        choices=("full", "quick", "none"),
        default="full",
        help="out-of-sample folds: the budget of conf/calibration.yaml (full, about 15-30 minutes on "
        "2 cores), its quick block (CI, a few minutes) or none",
    )
    ap.add_argument(
        "--behaviour",
        choices=("posterior", "shipped"),
        default="posterior",
        help="in-sample parameters: the shipped posterior sample, one particle per world (default), "
        "or the point estimate conf/behaviour.yaml",
    )
    ap.add_argument(
        "--no-counterfactuals", action="store_true", help="skip the counterfactual comparison table"
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.worlds < 20:
        ap.error("--worlds must be at least 20")
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    from sim.report.patterns import pass_fraction
    from sim.report.skill import informative
    from sim.report.validation import write_report

    t = time.perf_counter()
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    path, outcomes = write_report(
        args.out,
        worlds=args.worlds,
        seed=args.seed,
        workers=args.workers,
        counterfactuals=not args.no_counterfactuals,
        out_of_sample=args.out_of_sample,
        behaviour=args.behaviour,
        command=f"{PROG} {argv_text}".strip(),
    )
    passed, judged = pass_fraction(outcomes)
    for o in outcomes:
        mark = "pass" if o.passed else ("n/a " if o.passed is None else "FAIL")
        print(f"  {mark}  {o.pattern.id}")
    n_inf = sum(bool(informative(o)) for o in outcomes)
    print(
        f"{passed} of {judged} patterns inside the simulated 90% interval, {n_inf} informative; "
        f"report: {path} ({time.perf_counter() - t:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
