"""The pre-check of the command line: catches the usual mistakes before Hydra composes them.

Run settings are checked by :func:`sim.inputs.settings.check_run_setting` and scenario keys by
:func:`sim.inputs.fields.check_path`; this module only reads the command line, finds which
scenario the ``scenario.*`` overrides apply to, and rewrites the overrides for a
``scenario_file`` (see :mod:`sim.cli.run`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.inputs.fields import actor_groups, check_path, suggest
from sim.inputs.scenarios import SCENARIO_DIR, read_yaml, scenario_names
from sim.inputs.schema import ScenarioError
from sim.inputs.settings import RUN_KEYS, check_run_setting

_NO_VALUE = object()
#: longest ``key=value`` on the command line (a 5,000-digit number is refused before parsing)
MAX_OVERRIDE_CHARS = 1000


def one_paragraph(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return re.sub(r"\s+", " ", text).strip()


def load_yaml_mapping(path: Path, shown: str) -> DictConfig:
    """Load a scenario YAML as a DictConfig (:func:`sim.inputs.scenarios.read_yaml`: data only,
    within limits), with a one-paragraph message on failure that never echoes the file."""
    if not Path(path).is_file():
        raise ScenarioError(f"{shown}: no such file {str(path)!r}")
    try:
        return OmegaConf.create(read_yaml(path, shown))
    except ScenarioError as e:
        raise ScenarioError(one_paragraph(str(e))) from None


def actor_ids(raw: Any) -> dict[str, list[str]]:
    """The faction, mediator and spoiler ids of a raw scenario mapping."""
    out = {}
    for k in actor_groups():
        node = raw.get(k) if isinstance(raw, (Mapping, DictConfig)) else None
        out[k] = [str(x) for x in node.keys()] if isinstance(node, (Mapping, DictConfig)) else []
    return out


def override_values(o: Any) -> list[Any] | None:
    """Concrete values of an override (one, or each of a choice/range sweep); None if unknown."""
    if not o.is_sweep_override():
        return [o.value()]
    try:
        return list(o.sweep_iterator())
    except Exception:
        return None


@dataclass
class _Seen:
    """What the first pass over the command line found."""

    scenario: str | None
    scenario_given: bool = False
    file_mode: bool = False
    scenario_file: str | None = None
    names: list[str] = field(default_factory=list)


def _check_experiment(o: Any, experiments: list[str]) -> None:
    for v in override_values(o) or []:
        if str(v) not in experiments:
            raise ScenarioError(
                f"experiment = {v!r} is not allowed: expected the name of a file in "
                f"conf/experiment/{suggest(str(v), experiments)}: {', '.join(experiments)}"
            )


def _check_scenario_choice(o: Any, seen: _Seen) -> None:
    vals = override_values(o)
    seen.scenario_given = True
    if vals is None or o.is_sweep_override() and not hasattr(o.value(), "list"):
        seen.scenario = None  # glob(...) or similar: Hydra checks the options
        return
    for v in vals:
        if str(v) not in seen.names:
            raise ScenarioError(
                f"scenario = {v!r} is not allowed: expected the name of a file in "
                f"scenarios/{suggest(str(v), seen.names)}: {', '.join(seen.names)}; for a YAML "
                "elsewhere use scenario_file=/path/to/file.yaml"
            )
        # Hydra composes the file itself: read it first as data (no '# @package' header, no
        # hydra or _target_ keys, no interpolations, within limits), wherever it came from
        load_yaml_mapping(SCENARIO_DIR / f"{v}.yaml", f"scenarios/{v}.yaml")
    seen.scenario = str(vals[0]) if len(vals) == 1 else None


def _check_run_key(o: Any, seen: _Seen) -> None:
    key, vals = o.key_or_group, override_values(o)
    for v in vals or []:
        check_run_setting(key, v)
    if key == "scenario_file" and vals and any(v is not None for v in vals):
        seen.file_mode = True
        seen.scenario_file = str(vals[0]) if len(vals) == 1 and vals[0] is not None else None


def _first_pass(parsed: list[Any], default_scenario: str | None, experiments: list[str]) -> _Seen:
    """Check experiment and scenario choices, run settings and unknown top-level keys."""
    seen = _Seen(scenario=default_scenario, names=scenario_names())
    roots = set(RUN_KEYS) | {"scenario"}
    for o in parsed:
        key = o.key_or_group
        if o.is_delete() or o.is_hydra_override() or key.startswith("hydra/") or "/" in key:
            continue
        if key == "experiment":
            _check_experiment(o, experiments)
        elif key == "scenario":
            _check_scenario_choice(o, seen)
        elif key in RUN_KEYS:
            _check_run_key(o, seen)
        elif key.split(".")[0] not in roots | {"hydra", "scenario_schema"} and not (
            o.is_add() or o.is_force_add()
        ):
            raise ScenarioError(
                f"{key} is not a setting{suggest(key.split('.')[0], sorted(roots))}: the run "
                f"settings are {', '.join(RUN_KEYS)}, and scenario fields go under scenario., "
                "e.g. scenario.state.delivery_reliability=0.2"
            )
    if seen.file_mode and seen.scenario_given:
        raise ScenarioError(
            "scenario and scenario_file are both given: use scenario=NAME for a "
            "shipped scenario or scenario_file=PATH for a YAML elsewhere, not both"
        )
    return seen


def _target(seen: _Seen) -> tuple[dict[str, list[str]] | None, str]:
    """Actor ids of the scenario the ``scenario.*`` overrides apply to (None: unknown), and its
    name for messages."""
    if seen.file_mode:
        if seen.scenario_file is not None:
            base = load_yaml_mapping(
                Path(seen.scenario_file).expanduser(), f"scenario_file = {seen.scenario_file!r}"
            )
            return actor_ids(base), Path(seen.scenario_file).name
    elif seen.scenario is not None and seen.scenario in seen.names:
        base = load_yaml_mapping(SCENARIO_DIR / f"{seen.scenario}.yaml", f"scenarios/{seen.scenario}.yaml")
        return actor_ids(base), f"scenarios/{seen.scenario}.yaml"
    return None, "this scenario"


_SWITCH = re.compile(r"^(?:scenario\.)?(mechanisms\.[^=]+)=(.+)$")
_ON_OFF = {"on": "true", "off": "false"}


def mechanism_switches(overrides: list[str]) -> list[str]:
    """``mechanisms.NAME=on|off`` (or ``true|false``, or a comma list for a sweep), with or
    without the ``scenario.`` prefix, as the scenario field ``scenario.mechanisms.NAME``
    (:mod:`sim.core.mechanisms`)."""
    out = []
    for text in overrides:
        m = _SWITCH.match(text)
        if m:
            values = ",".join(_ON_OFF.get(v.strip().lower(), v) for v in m.group(2).split(","))
            text = f"scenario.{m.group(1)}={values}"
        out.append(text)
    return out


def precheck(
    overrides: list[str], default_scenario: str | None = None, experiments: list[str] = ()
) -> list[str]:
    """Check the command-line overrides before Hydra composes them; returns them, rewritten.

    Catches the usual mistakes with a message that names the field, the value and what is
    allowed: unknown run settings, bad run values, unknown scenario or experiment names, unknown
    scenario fields or actor ids, out-of-range scenario values, a missing or malformed
    scenario_file. Anything it cannot judge is left to Hydra and the task, which check again.
    With a ``scenario_file``, each ``scenario.KEY=VALUE`` becomes ``++scenario.KEY=VALUE`` and
    ``~scenario ~scenario_schema`` are added. A mechanism's switch may be given as
    ``mechanisms.NAME=off`` (:func:`mechanism_switches`).

    Args:
        overrides: the command line's ``key=value`` overrides.
        default_scenario: the scenario of ``conf/config.yaml``'s defaults list.
        experiments: names of the experiments (files in ``conf/experiment/``).

    Raises:
        ScenarioError: on a mistake.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = mechanism_switches(overrides)
    # Hydra's parser refuses a value starting with ~ (its deletion prefix); the path is expanded
    overrides = [
        f"scenario_file={os.path.expanduser(t.split('=', 1)[1])}" if t.startswith("scenario_file=~") else t
        for t in overrides
    ]
    for text in overrides:
        if len(text) > MAX_OVERRIDE_CHARS:
            key = re.split(r"[=~+]", text.lstrip("~+"), maxsplit=1)[0]
            raise ScenarioError(
                f"{key}: the setting is {len(text):,} characters long, which is not allowed: at most "
                f"{MAX_OVERRIDE_CHARS:,} (a number or a short text)"
            )
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:
        return overrides  # a syntax error: Hydra reports it
    seen = _first_pass(parsed, default_scenario, list(experiments))
    ids, origin = _target(seen)
    out = []
    for o, text in zip(parsed, overrides, strict=False):
        key = o.key_or_group
        if (key == "scenario" or key.startswith("scenario.")) and o.is_delete():
            raise ScenarioError(
                f"~{key} is not allowed: a scenario's fields cannot be deleted on the command line; "
                f"set them ({key}.<field>=VALUE) or write a scenario file without them "
                "(scenario_file=PATH)"
            )
        if key.startswith("scenario.") and not o.is_delete():
            adding = o.is_add() or o.is_force_add()
            for v in override_values(o) or [_NO_VALUE]:
                check_path(
                    key[len("scenario.") :], ids, **({} if v is _NO_VALUE else {"value": v}), origin=origin
                )
            if seen.file_mode and not adding:
                text = "++" + text
        out.append(text)
    if seen.file_mode:
        out += ["~scenario", "~scenario_schema"]
    return out
