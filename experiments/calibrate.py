"""Former entry point of the calibration, kept for old commands: see :mod:`sim.cli.calibrate`."""

import sys

from sim.cli.calibrate import main

sys.exit(main())
