"""``python -m sim``: the command line (see :mod:`sim.cli.run`)."""

from sim.cli.run import main

if __name__ == "__main__":
    main()
