"""``python -m sim.app``: serve the interactive page (see :mod:`sim.app`)."""

from sim.app import main

if __name__ == "__main__":
    main()
