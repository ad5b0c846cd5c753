"""Run every case of the bad-input corpus (``tests/bad_inputs.py``) and count the outcomes.

Each case (a scenario file, an API call or a command line, with tiny runs) runs in a forked
child with a time and memory limit and is classified as *clear* (a ScenarioError or exit status 2
whose message names the field or setting), *unclear* (a traceback, another exit status, a
timeout, or a message that does not name the field) or *accepted* (taken silently).

::

    .venv/bin/python experiments/bad_input_corpus.py            # every case, counts at the end
    .venv/bin/python experiments/bad_input_corpus.py -v         # and each case's message
    .venv/bin/python experiments/bad_input_corpus.py --json out.json
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import bad_inputs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the corpus; print one line per case that is not clear (every case with ``-v``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    ap.add_argument("-k", default="", help="only cases whose name contains this text")
    ap.add_argument("--json", type=Path, help="write every case's class and reason to this file")
    args = ap.parse_args(argv)
    bad_inputs.warm_up()
    cases = [c for c in bad_inputs.all_cases() if args.k in c.name]
    counts: collections.Counter[str] = collections.Counter()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            where = Path(tmp) / case.name
            t = time.perf_counter()
            out = bad_inputs.run_case(case, where)
            verdict, reason = bad_inputs.classify(case, out, where)
            secs = time.perf_counter() - t
            counts[verdict] += 1
            by_kind[case.kind][verdict] += 1
            rows.append(
                {
                    "case": case.name,
                    "kind": case.kind,
                    "class": verdict,
                    "seconds": round(secs, 2),
                    "reason": reason,
                }
            )
            if args.verbose or verdict != "clear":
                print(f"{verdict:9s} {case.kind:4s} {case.name:34s} {secs:5.1f}s  {reason}", flush=True)
    print(
        f"\n{len(cases)} cases in {time.perf_counter() - t0:.0f} s: "
        + ", ".join(f"{counts[k]} {k}" for k in ("clear", "unclear", "accepted"))
    )
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:4s}: " + ", ".join(f"{c[k]} {k}" for k in ("clear", "unclear", "accepted")))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
