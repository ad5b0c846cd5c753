"""The notebooks in experiments/notebooks run without error at small sizes and are committed
without outputs.

Each notebook reads its sizes from environment variables in its first cell; this test sets them
small and executes a copy with nbclient (the committed file is not changed).
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "experiments" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

SMALL = {
    "NEGSIM_NB_WORLDS": "40",
    "NEGSIM_NB_DAYS": "120",
    "NEGSIM_NB_LEVELS": "3",
    "NEGSIM_NB_WORLDS_PER_POINT": "8",
    "NEGSIM_NB_SOBOL_N": "8",
    "NEGSIM_NB_SOBOL_WORLDS": "3",
    "NEGSIM_NB_DISCOVERY_POINTS": "120",
    "MPLBACKEND": "Agg",
}


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names[:3] == ["01_quickstart.ipynb", "02_counterfactuals.ipynb", "03_sweep_analysis.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has saved outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_holds_size_parameters(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code" and "os.environ.get(" in first.source
    assert "parameters" in first.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    # The kernel inherits this environment and imports the installed sim.
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"
    ]
    assert not errors
    images = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})
    ]
    assert images, f"{path.name} showed no figure"
