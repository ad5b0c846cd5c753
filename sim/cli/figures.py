"""``negsim-figures`` / ``python -m sim.cli.figures``: figures of a saved run, a collected sweep,
or several runs side by side (see :mod:`sim.report.saved_runs`).

    negsim-figures results/kabul_2022/2026-11-23_19-05-12
    negsim-figures results/sweeps/reliability_leverage
    negsim-figures compare DIR DIR ... --out DIR
"""

from __future__ import annotations

from sim.report.saved_runs import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
