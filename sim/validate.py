"""``python -m sim.validate``: the validation report (see :mod:`sim.cli.validate`)."""

import sys

from sim.cli.validate import main

if __name__ == "__main__":
    sys.exit(main())
