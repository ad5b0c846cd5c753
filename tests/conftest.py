"""Shared fixtures of the test suite: the small synthetic scenario and helpers to vary it.

The tests import the installed ``sim`` (an editable install in a checkout, or a wheel: see
``.ci/run``), never the checkout through ``sys.path``. Tests that read files of the repository
itself (docs, notebooks, scenario provenance) find them through :func:`repo_root`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim

REPO_ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).resolve().parent / "data" / "mini.yaml"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout holding these tests (for its docs, notebooks and source files)."""
    assert (REPO_ROOT / "pyproject.toml").is_file(), f"{REPO_ROOT} is not the repository"
    return REPO_ROOT


@pytest.fixture(scope="session")
def mini_path() -> Path:
    """Path of the small synthetic test scenario (three factions, two mediators, two spoilers)."""
    assert MINI.is_file(), f"missing test scenario {MINI}"
    return MINI


@pytest.fixture(scope="session")
def mini_raw(mini_path) -> dict[str, Any]:
    """The test scenario as plain YAML data (a fresh deep copy is made by ``write_scenario``)."""
    with open(mini_path) as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def mini(mini_path) -> sim.Scenario:
    """The test scenario, loaded and validated."""
    return sim.load_scenario(mini_path)


@pytest.fixture
def write_scenario(tmp_path, mini_raw) -> Callable[..., Path]:
    """Write a variant of mini.yaml to ``tmp_path``.

    ``write_scenario(name, mutate)`` deep-copies the raw mini data, applies ``mutate(data)`` and
    writes it as YAML; ``write_scenario(name, text="...")`` writes the text verbatim.
    """

    def write(name: str, mutate: Callable[[dict], Any] | None = None, text: str | None = None) -> Path:
        path = tmp_path / f"{name}.yaml"
        if text is not None:
            path.write_text(text)
        else:
            data = copy.deepcopy(mini_raw)
            if mutate is not None:
                mutate(data)
            path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def assert_fields_described() -> Callable[[Path], None]:
    """``assert_fields_described(path)``: every column of a Parquet file has a unit and a meaning
    in its field metadata."""

    def check(path: Path) -> None:
        import pyarrow.parquet as pq

        bare = [
            f.name
            for f in pq.read_schema(path)
            if not (f.metadata or {}).get(b"unit") or not (f.metadata or {}).get(b"meaning")
        ]
        assert not bare, f"{path.name}: columns without unit or meaning: {bare}"

    return check
