"""Whether worker processes started here can import this process's main module.

Worker processes started with ``spawn`` (the pool of ``workers=N``, a local Dask cluster's
workers) import the main module of this process before they run anything. Two kinds of main
module break them: a script read from standard input (``python - <<EOF``: there is no file to
import) and a script that runs its work at import, without ``if __name__ == "__main__":`` (each
worker would run the script again and start workers of its own; Python stops it with a
"bootstrapping phase" error, and the pool breaks). A run then uses threads of this process
instead, which give the same results.
"""

from __future__ import annotations

import os
import re
import sys

_GUARD = re.compile(r"""__name__\s*==\s*['"]__main__['"]""")


def main_path() -> str | None:
    """File of this process's main module, or None (an interactive session, ``python -c``, a
    notebook: nothing for a worker to import)."""
    return getattr(sys.modules.get("__main__"), "__file__", None)


def spawn_problem() -> str | None:
    """Why spawned workers could not import the main module, or None if they can.

    Returns:
        None for no main file or a file with an ``if __name__ == "__main__":`` guard; otherwise a
        phrase that completes "the main script ...".
    """
    path = main_path()
    if path is None:
        return None
    if not os.path.isfile(path):
        return f"was not read from a file ({path!r}), so the workers cannot import it"
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    if _GUARD.search(text):
        return None
    return (
        f'{path!r} runs its work when imported (no `if __name__ == "__main__":`), so each worker '
        "would run it again"
    )
