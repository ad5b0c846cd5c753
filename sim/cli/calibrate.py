"""Command line of the calibration: ``negsim-calibrate`` or ``python -m sim.cli.calibrate``.

    negsim-calibrate                 # full run: conf/calibration.yaml, writes conf/behaviour.yaml,
                                     # conf/posterior.parquet and conf/pinned.md
    negsim-calibrate --quick         # small run (CI): writes only into results/calibration_quick
    negsim-calibrate --out DIR --behaviour-out PATH seed=7 particles=400

The method and its outputs are described in :mod:`sim.explore.calibration`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="negsim-calibrate",
        description="Calibrate the shared behavioural parameters against every documented episode at once.",
        epilog="Extra KEY=VALUE arguments override conf/calibration.yaml.",
    )
    ap.add_argument("--quick", action="store_true", help="small budget (CI); never writes conf/")
    ap.add_argument("--out", help="output directory (default results/calibration[_quick])")
    ap.add_argument(
        "--behaviour-out",
        help="where to write the chosen set, with posterior.parquet and pinned.md beside it "
        "(default conf/behaviour.yaml; with --quick, OUT/behaviour.yaml)",
    )
    ap.add_argument("overrides", nargs="*", help="KEY=VALUE settings, e.g. seed=7 particles=400")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the calibration; a bad setting stops with a one-line message naming it."""
    from sim.explore import calibration as C

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", flush=True)

    try:
        cfg = C.load_config(args.quick, args.overrides)
        out = Path(args.out or Path("results") / ("calibration_quick" if args.quick else "calibration"))
        out.mkdir(parents=True, exist_ok=True)
        behaviour_out = (
            Path(args.behaviour_out)
            if args.behaviour_out
            else (out / "behaviour.yaml" if args.quick else C.BEHAVIOUR_FILE)
        )
        result = C.calibrate(cfg, log)
    except C.CalibrationConfigError as e:
        print(f"negsim-calibrate: {e}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - t0
    C.write_outputs(result, cfg, out, behaviour_out, args.quick, " ".join([C.COMMAND] + argv), seconds)
    log(f"chosen candidate {result.best}; wrote {behaviour_out} and {out}/ ({seconds:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
