"""Run settings: how many worlds, how many days, which seed, what to record, how to run them.

:class:`RunSettings` declares every run setting once, with its type, default and meaning. The
command line registers it with Hydra as the schema of ``conf/config.yaml`` (a structured config,
:mod:`sim.cli.config`), and its check, :func:`check_run_setting`, is the only place a run setting
is checked: by the command line's pre-check of each ``key=value``, by :class:`RunSettings`
itself when the task builds it from the composed config, and by :func:`sim.run`.

A bad value stops with a :class:`~sim.inputs.schema.ScenarioError` naming the setting, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs.fields import check_path, suggest
from sim.inputs.schema import ScenarioError

#: sampling methods of a design (``design.method``)
DESIGN_METHODS = ("lhs", "sobol", "grid")
#: keys of the ``design`` setting
DESIGN_KEYS = ("method", "points", "levels", "worlds_per_point", "seed", "ranges")
#: values of the ``behaviour`` setting: the shipped point estimate (conf/behaviour.yaml, through
#: the scenario) or one particle of the shipped posterior sample per world (conf/posterior.parquet,
#: :mod:`sim.inputs.posterior`)
BEHAVIOURS = ("shipped", "posterior")
#: values of the ``executor`` setting: what steps a run's chunks (this machine's processes and
#: threads, or the workers of a Dask or Ray cluster; :mod:`sim.running.cluster`)
EXECUTORS = ("local", "dask", "ray")


class Record(Enum):
    """Which series a run keeps besides the one row per world."""

    none = "none"
    monthly = "monthly"
    daily = "daily"


def whole(name: str, value: Any, lo: int) -> int:
    """``value`` as an int if it is a whole number of at least ``lo``.

    Raises:
        ScenarioError: naming the setting, the value and what is allowed.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected a whole number of at least {lo}")
    return int(value)


def _at_least(lo: int) -> Callable[[str, Any], int]:
    return lambda name, value: whole(name, value, lo)


def seed_value(value: Any) -> Any:
    """The whole-number seed that a seed-like value stands for, as :func:`sim.run` and
    :class:`sim.NegotiationModel` both read ``seed``/``rng``: a whole number is itself; a
    ``numpy.random.SeedSequence`` of one whole-number entropy (``SeedSequence(5)``) is that number
    (5); any other SeedSequence is a whole number drawn from it (the same for the same
    sequence). Anything else is returned unchanged (for the check to judge)."""
    import numpy as np

    if isinstance(value, np.random.SeedSequence):
        if isinstance(value.entropy, (int, np.integer)) and not value.spawn_key:
            return int(value.entropy)
        return int(value.generate_state(1, np.uint64)[0] >> np.uint64(1))
    return value


def _seed(name: str, value: Any) -> int:
    return whole(name, seed_value(value), 0)


def _yes_no(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected true or false")
    return value


def _record(name: str, value: Any) -> Record:
    if isinstance(value, Record):
        return value
    names = [r.value for r in Record]
    if value not in names:
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected one of "
            f"{', '.join(names)} (which series to keep){suggest(str(value), names)}"
        )
    return Record(value)


def _behaviour(name: str, value: Any) -> str:
    if value not in BEHAVIOURS:
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected one of {', '.join(BEHAVIOURS)} (the shipped "
            f"behavioural set, or a posterior particle per world){suggest(str(value), BEHAVIOURS)}"
        )
    return str(value)


def _executor(name: str, value: Any) -> str:
    if value not in EXECUTORS:
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected one of {', '.join(EXECUTORS)} (this machine's "
            f"processes and threads, or a Dask or Ray cluster){suggest(str(value), EXECUTORS)}"
        )
    return str(value)


def _address(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected the address of a cluster's scheduler, such as "
            "tcp://host:8786 (Dask) or ray://host:10001 (Ray), or null (the cluster named by "
            "DASK_SCHEDULER_ADDRESS or RAY_ADDRESS, or a local one started for the run)"
        )
    return value.strip()


def check_executor(executor: str, address: str | None, workers: int = 1) -> None:
    """Refuse settings that contradict the executor: an address with ``executor=local`` (there
    is no cluster to reach) and ``workers > 1`` with a cluster (its workers step the chunks).

    Raises:
        ScenarioError: naming the settings, the values and what is allowed.
    """
    if executor == "local" and address is not None:
        raise ScenarioError(
            f"executor_address = {address!r} is not allowed with executor = local: an address names "
            "a cluster; set executor=dask or executor=ray, or leave executor_address null"
        )
    if executor != "local" and isinstance(workers, int) and workers > 1:
        raise ScenarioError(
            f"workers = {workers} is not allowed with executor = {executor}: the cluster's workers "
            "step the chunks; leave workers=1 (start more workers on the cluster instead)"
        )


def _threads(name: str, value: Any) -> int | str:
    if value is None or (isinstance(value, str) and value.lower() == "auto"):
        return "auto"
    try:
        return whole(name, value, 1)
    except ScenarioError:
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected a whole number of at "
            "least 1 or auto (every core this process may use)"
        ) from None


def _progress(name: str, value: Any) -> bool | str:
    if isinstance(value, str) and value.lower() in ("true", "false", "auto"):
        return value.lower() == "true" if value.lower() != "auto" else "auto"
    if not isinstance(value, bool):
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected auto, true or false")
    return value


def _scenario_file(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected the path of a scenario YAML file")
    p = Path(value).expanduser()
    if not p.is_file():
        where = "" if p.is_absolute() else f" (relative to {os.getcwd()})"
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: no such file{where}; expected "
            "the path of a scenario YAML file"
        )
    return str(p.resolve())


def _design(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(value, DictConfig):
            value = OmegaConf.to_container(value, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    return check_design(value)


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?i?B?)\s*$", re.IGNORECASE | re.ASCII)
_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(name: str, value: Any) -> int | None:
    """A memory size (``8GB``, ``512MB``, ``1.5G``, or a whole number of bytes) in bytes; None
    stays None (no limit but the machine's).

    Raises:
        ScenarioError: naming the setting, the value and what is allowed.
    """
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
        return int(value)
    m = _SIZE.match(value) if isinstance(value, str) else None
    if m is None or float(m.group(1)) <= 0:
        raise ScenarioError(
            f"{name} = {value!r} is not allowed: expected a memory size such as 8GB, 512MB or a "
            "whole number of bytes, or null (the memory available)"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()[:1]])


def check_cores(workers: int, threads: Any, oversubscribe: bool = False) -> None:
    """Refuse more worker processes or threads than the machine has cores, unless
    ``oversubscribe`` (more would only slow the run down and take memory: each worker is a
    whole process).

    Raises:
        ScenarioError: naming the setting, the value and the number of cores.
    """
    cores = os.cpu_count() or 1
    for name, value in (("workers", workers), ("threads", threads)):
        if isinstance(value, int) and value > cores and not oversubscribe:
            raise ScenarioError(
                f"{name} = {value} is not allowed: this machine has {cores} cores, so at most "
                f"{name}={cores}; set oversubscribe=true to run more anyway"
            )


def setting(default: Any, check: Callable[[str, Any], Any], doc: str) -> Any:
    """Declare a run setting: its default, the check that normalises a value, its meaning."""
    return field(default=default, metadata={"check": check, "doc": doc})


@dataclass
class RunSettings:
    """Every setting of a run (``conf/config.yaml`` gives the command line's defaults).

    Building one checks and normalises every value (``threads`` becomes ``"auto"`` or an int,
    ``scenario_file`` an absolute path, ``design`` a checked mapping).
    """

    worlds: int = setting(1000, _at_least(1), "number of simulated worlds")
    days: int = setting(730, _at_least(1), "horizon in days (one step is one day)")
    seed: int = setting(0, _seed, "seed of the run (a whole number, or a numpy SeedSequence)")
    record: Record = setting(Record.none, _record, "series to keep: none, monthly or daily")
    chunk_worlds: int = setting(512, _at_least(1), "worlds stepped together (speed only)")
    workers: int = setting(1, _at_least(1), "processes sharing the run's chunks (speed only)")
    threads: Any = setting(
        "auto", _threads, "threads stepping this process's chunks: auto or a whole number (speed only)"
    )
    resume: bool = setting(True, _yes_no, "skip a complete run, resume a killed one")
    progress: Any = setting("auto", _progress, "progress bar: auto, true or false")
    plots: bool = setting(True, _yes_no, "write the standard figures")
    behaviour: str = setting(
        "shipped", _behaviour, "behavioural parameters: shipped (conf/behaviour.yaml) or posterior"
    )
    scenario_file: str | None = setting(None, _scenario_file, "a scenario YAML anywhere")
    design: Any = setting(None, _design, "a sampled design run as one batch")
    max_memory: Any = setting(
        None, parse_size, "memory a run may take (8GB, 512MB); null: what the machine has available"
    )
    oversubscribe: bool = setting(False, _yes_no, "allow more workers or threads than cores")
    executor: str = setting(
        "local", _executor, "what steps the chunks: local (processes, threads), dask or ray (a cluster)"
    )
    executor_address: str | None = setting(
        None,
        _address,
        "the cluster's scheduler (tcp://host:8786, ray://host:10001); null: from the environment",
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(RunSettings):
            setattr(self, f.name, f.metadata["check"](f.name, getattr(self, f.name)))
        check_cores(self.workers, self.threads, self.oversubscribe)
        check_executor(self.executor, self.executor_address, self.workers)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> RunSettings:
        """The checked settings of a composed config (keys it lacks keep their defaults)."""
        return cls(**{k: cfg[k] for k in RUN_KEYS if k in cfg})

    @property
    def threads_or_none(self) -> int | None:
        """``threads`` as :func:`sim.run` takes it (None for auto)."""
        return None if self.threads == "auto" else self.threads


RUN_KEYS = tuple(f.name for f in dataclasses.fields(RunSettings))
_FIELDS = {f.name: f for f in dataclasses.fields(RunSettings)}


def check_run_setting(key: str, value: Any) -> Any:
    """Check one run setting and return its normalised value.

    Raises:
        ScenarioError: naming the setting, the value and what is allowed.
    """
    if key not in _FIELDS:
        raise ScenarioError(
            f"{key} is not a run setting{suggest(key, RUN_KEYS)}: expected one of {', '.join(RUN_KEYS)}"
        )
    return _FIELDS[key].metadata["check"](key, value)


def check_design(design: Any) -> dict[str, Any]:
    """Check the ``design`` setting (a sampled design run as one batch); returns it normalised.

    Keys: ``method`` (lhs | sobol | grid), ``points`` (lhs, sobol), ``levels`` (grid, per
    field), ``worlds_per_point`` (default: ``worlds``), ``seed`` (of the sampler; default: the
    run's seed) and ``ranges`` (``{scenario field: [low, high]}``, fields below ``scenario.``).

    Raises:
        ScenarioError: naming the key, the value and what is allowed.
    """
    if not isinstance(design, Mapping):
        raise ScenarioError(
            f"design = {design!r} is not allowed: expected a mapping with keys {', '.join(DESIGN_KEYS)}"
        )
    unknown = [k for k in design if k not in DESIGN_KEYS]
    if unknown:
        raise ScenarioError(
            f"design.{unknown[0]} is not a design setting"
            f"{suggest(str(unknown[0]), DESIGN_KEYS)}: expected {', '.join(DESIGN_KEYS)}"
        )
    out = {
        "method": design.get("method", "lhs"),
        "points": design.get("points", 64),
        "levels": design.get("levels"),
        "worlds_per_point": design.get("worlds_per_point"),
        "seed": design.get("seed"),
        "ranges": design.get("ranges"),
    }
    if out["method"] not in DESIGN_METHODS:
        raise ScenarioError(
            f"design.method = {out['method']!r} is not allowed: expected one of {', '.join(DESIGN_METHODS)}"
        )
    out["points"] = whole("design.points", out["points"], 1)
    for key, lo in (("levels", 1), ("worlds_per_point", 1), ("seed", 0)):
        if out[key] is not None:
            out[key] = whole(f"design.{key}", out[key], lo)
    out["ranges"] = _design_ranges(out["ranges"])
    return out


def _design_ranges(ranges: Any) -> dict[str, list[float]]:
    """``design.ranges`` checked: known scenario fields (``scenario.`` prefix optional), each
    with ``[low, high]``."""
    if not isinstance(ranges, Mapping) or not ranges:
        raise ScenarioError(
            f"design.ranges = {ranges!r} is not allowed: expected a mapping "
            "{scenario field: [low, high]}, e.g. {state.delivery_reliability: [0, 1]}"
        )
    clean = {}
    for path, rng in ranges.items():
        path = str(path)
        path = path[len("scenario.") :] if path.startswith("scenario.") else path
        ok = (
            isinstance(rng, Sequence)
            and not isinstance(rng, str)
            and len(rng) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
        )
        if not ok:
            raise ScenarioError(f"design.ranges.{path} = {rng!r} is not allowed: expected [low, high]")
        check_path(path)
        clean[path] = [float(rng[0]), float(rng[1])]
    return clean
