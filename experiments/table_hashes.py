"""Fingerprints of every shipped scenario's tables, to check that a change keeps results identical.

Runs each shipped scenario twice (300 worlds x 500 days without series, 40 worlds x 500 days
with daily series; seed 7, chunks of 128 worlds) and prints one SHA-1 per table: ``worlds``,
``ceasefires`` and ``timeseries``. A hash covers the column names, dtypes, index and values, not
the file format, so it compares what a user reads from the tables.

    python experiments/table_hashes.py > before.txt
    # ... change the code ...
    python experiments/table_hashes.py | diff before.txt -
"""

from __future__ import annotations

import argparse
import hashlib

import pandas as pd

import sim


def table_hash(df: pd.DataFrame | None) -> str:
    """SHA-1 of a table's columns, dtypes, index and values (``-`` for no table)."""
    if df is None:
        return "-"
    h = hashlib.sha1()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=500)
    args = ap.parse_args()
    for name in sim.scenario_names():
        for worlds, record in ((300, "none"), (40, "daily")):
            res = sim.run(
                name, worlds=worlds, days=args.days, seed=args.seed, record=record, chunk_worlds=128
            )
            print(
                name,
                worlds,
                record,
                "worlds",
                table_hash(res.worlds),
                "ceasefires",
                table_hash(res.ceasefires),
                "timeseries",
                table_hash(res.timeseries),
                flush=True,
            )


if __name__ == "__main__":
    main()
