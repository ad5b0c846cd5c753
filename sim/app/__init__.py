"""The interactive page (``negsim-app`` or ``python -m sim.app``): the levers of a scenario and
the outcome of a thousand worlds against the scenario unchanged, and one world stepped day by
day in Mesa's SolaraViz (:mod:`sim.app.page`).

Needs the ``app`` extra (``pip install 'negsim[app]'``: Solara through ``mesa[viz]``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

APP = "sim.app.page"
DEFAULT_PORT = 8765


def solara_args(argv: list[str] | None = None) -> list[str]:
    """The ``solara run`` command line for ``negsim-app [--port N] [--host H] [--no-open]``."""
    parser = argparse.ArgumentParser(
        prog="negsim-app",
        description="Serve the interactive page of negsim in the browser: move the levers of a "
        "scenario, run a thousand worlds and compare with the scenario unchanged; or step one "
        "world day by day.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="localhost", help="host to listen on (default localhost)")
    parser.add_argument("--no-open", action="store_true", help="do not open a browser window")
    a = parser.parse_args(argv)
    out = ["run", APP, "--production", "--port", str(a.port), "--host", a.host]
    return [*out, "--no-open"] if a.no_open else out


def main(argv: list[str] | None = None) -> None:
    """Serve the page (console script ``negsim-app``); stops with a message when Solara is not
    installed."""
    args = solara_args(argv)
    if importlib.util.find_spec("solara") is None:
        sys.exit("negsim-app needs Solara: pip install 'negsim[app]' (or pip install 'mesa[viz]')")
    from solara.__main__ import cli

    cli.main(args=args, prog_name="negsim-app")
