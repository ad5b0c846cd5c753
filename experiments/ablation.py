"""Ablation of the model's mechanisms: ``python experiments/ablation.py [--quick] [--worlds N]``.

Forwards to ``negsim-ablation`` (:mod:`sim.cli.ablation`); results in ``results/ablation/``.
"""

import sys

from sim.cli.ablation import main

if __name__ == "__main__":
    sys.exit(main())
