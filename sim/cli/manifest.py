"""What a run records about itself in ``manifest.json``: versions, platform, command, timing."""

from __future__ import annotations

import importlib
import platform
import sys
from pathlib import Path
from typing import Any

PROG = "negsim"


def _version(dist: str, module: str | None = None) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        pass
    try:
        return getattr(importlib.import_module(module or dist), "__version__", None)
    except Exception:
        return None


def versions() -> dict[str, str | None]:
    """Versions of the packages a run depends on."""
    from sim import __version__

    return {
        "sim": __version__,
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "scipy": _version("scipy"),
        "mesa": _version("mesa"),
        "hydra-core": _version("hydra-core", "hydra"),
        "omegaconf": _version("omegaconf"),
        "pyarrow": _version("pyarrow"),
    }


def command() -> list[str]:
    """The command line as the user typed it (after the pre-check's rewriting)."""
    argv0 = sys.argv[0] if sys.argv else PROG
    head = ["python", "-m", "sim"] if Path(argv0).name == "__main__.py" else [Path(argv0).name]
    return head + list(sys.argv[1:])


def environment() -> dict[str, Any]:
    """Versions of Python, the packages and the platform."""
    return {
        "versions": versions(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }
