"""Command line: ``python -m sim`` and ``negsim``, a Hydra app over ``conf/``.

::

    python -m sim                                          # kabul_2022, 1000 worlds, 730 days
    python -m sim scenario=swat_2009 worlds=5000 record=monthly
    python -m sim scenario.state.delivery_reliability=0.2  # any scenario field
    python -m sim scenario_file=/path/to/my.yaml scenario.ceasefire.term_days=30
    python -m sim -m scenario=kabul_2022,kabul_2022_no_mediator   # a sweep (results/sweeps/adhoc/)
    python -m sim -m +experiment=reliability_leverage              # a named sweep (conf/experiment/)

Each run writes into its run directory (``hydra.run.dir``, by default
``results/<scenario>/<date_time>``): ``worlds.parquet``, ``summary.json``, ``timeseries.parquet``
(when ``record`` is not ``none``), ``scenario.yaml``, ``manifest.json``, figures (``plots=true``) and Hydra's ``.hydra/``. Every file is written atomically.

Sweeps (``-m``) write into ``results/sweeps/<experiment>/<job values>`` (:mod:`sim.explore.sweep`) and
are collected into ``sweep.parquet`` at the end. A run whose directory already holds its
complete results (``manifest.json``, written last, with the same config hash) is skipped, and a
killed run resumes from its finished chunks (:mod:`sim.running.runner`); ``resume=false`` recomputes.
``workers=N`` shares a run's chunks among N processes, ``threads`` (auto: every core) among
the threads of one; ``design`` (set by design experiments)
runs a sampled design as one batch (:mod:`sim.explore.design`).

Exit codes: 0 success; 2 a user mistake (bad setting or scenario value, unknown key or scenario,
missing or malformed file), reported in one paragraph without a traceback; 1 a program error
(with a traceback).

``scenario_file=PATH`` loads a YAML from anywhere instead of ``scenario=NAME``. The command line
is then rewritten before Hydra sees it: the ``scenario`` and ``scenario_schema`` defaults are
dropped (``~scenario ~scenario_schema``) and each ``scenario.KEY=VALUE`` becomes
``++scenario.KEY=VALUE``, so that Hydra accepts keys that exist only in that file. The task
then loads the file and applies the ``scenario.*`` overrides found in
``HydraConfig.get().overrides.task`` on top of it, and validates the result.

Tests and notebooks that compose ``conf/`` with Hydra's compose API should import this module
first (or call :func:`register_configs`): it registers the typed scenario schema and the
``scenario_label`` resolver used in the run directory name.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import importlib
import logging
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.inputs.scenarios import CONF_DIR, CONF_PACKAGE, behaviour_defaults
from sim.inputs.schema import (FactionConfig, MediatorConfig, Scenario, ScenarioError, SpoilerConfig,
                     check_value)

log = logging.getLogger(__name__)

#: the checkout holding the package, when it runs from one (editable install); see git_state
REPO_DIR = Path(__file__).resolve().parents[2]
PROG = "negsim"

RECORD = ("none", "monthly", "daily")
PROGRESS = ("auto", True, False)
#: worlds x days above which ``progress=auto`` shows a bar (about 4 s of simulation here)
PROGRESS_AUTO_WORLD_DAYS = 2_000_000
#: values of run keys a composed config may lack (older configs, compose API)
RUN_DEFAULTS = {"workers": 1, "threads": "auto", "resume": True, "design": None}
RUN_KEYS = ("worlds", "days", "seed", "record", "chunk_worlds", "workers", "threads", "progress",
            "plots", "resume", "scenario_file", "design")
ACTOR_TYPES = {"factions": FactionConfig, "mediators": MediatorConfig, "spoilers": SpoilerConfig}


class SweepJobError(CompactHydraException, ScenarioError):
    """A sweep job stopped on a user mistake; Hydra prints it without a traceback."""


# Whether Hydra accepted the command line (set by the task function and StartedCallback).
_STATE: dict[str, Any] = {"started": False, "user_error": False}


# --------------------------------------------------------------------------------------------
# Hydra registration
# --------------------------------------------------------------------------------------------


def _scenario_label(*, _root_: Any = None) -> str:
    """Readable name of the run's scenario: the file stem for ``scenario_file``, else its name."""
    name = None
    if _root_ is not None:
        path = OmegaConf.select(_root_, "scenario_file", default=None, throw_on_missing=False)
        if path:
            name = Path(str(path)).stem
        else:
            name = OmegaConf.select(_root_, "hydra.runtime.choices.scenario", default=None,
                                    throw_on_missing=False)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "scenario"))


def register_configs() -> None:
    """Register the typed scenario schema and the ``scenario_label`` resolver (idempotent)."""
    # The schema's defaults with the shipped behavioural parameter set on top, so that a
    # composed scenario starts from conf/behaviour.yaml like sim.load_scenario does.
    node = OmegaConf.merge(OmegaConf.structured(Scenario), behaviour_defaults())
    ConfigStore.instance().store(group="scenario_schema", name="default", node=node,
                                 package="scenario")
    if not OmegaConf.has_resolver("scenario_label"):
        OmegaConf.register_new_resolver("scenario_label", _scenario_label, use_cache=False)
    from sim.explore.sweep import register_resolvers

    register_resolvers()


register_configs()


class StartedCallback(Callback):
    """Marks that Hydra composed the config and is about to run the job(s)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _STATE["started"] = True

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _STATE["started"] = True


# --------------------------------------------------------------------------------------------
# Checks shared by the pre-check of the command line and the task
# --------------------------------------------------------------------------------------------


def _suggest(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ScenarioError(f"{name} = {value!r} is not allowed: expected a whole number of at "
                            f"least {lo}")
    return value


def check_run_setting(key: str, value: Any) -> Any:
    """Check one run setting and return its normalised value.

    Raises:
        ScenarioError: naming the setting, the value and what is allowed.
    """
    if key in ("worlds", "days", "chunk_worlds", "workers"):
        return _whole(key, value, 1)
    if key == "seed":
        return _whole(key, value, 0)
    if key == "threads":
        if value is None or (isinstance(value, str) and value.lower() == "auto"):
            return "auto"
        try:
            return _whole(key, value, 1)
        except ScenarioError:
            raise ScenarioError(f"threads = {value!r} is not allowed: expected auto (every core "
                                "this process may use) or a whole number of at least 1") from None
    if key == "record":
        if value not in RECORD:
            raise ScenarioError(f"record = {value!r} is not allowed: expected one of "
                                f"{', '.join(RECORD)} (which series to keep)")
        return value
    if key == "progress":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if value not in PROGRESS or (value not in (True, False) and not isinstance(value, str)):
            raise ScenarioError(f"progress = {value!r} is not allowed: expected auto, true or false")
        return value
    if key in ("plots", "resume"):
        if not isinstance(value, bool):
            raise ScenarioError(f"{key} = {value!r} is not allowed: expected true or false")
        return value
    if key == "design":
        if value is None:
            return None
        if isinstance(value, DictConfig):
            value = OmegaConf.to_container(value, resolve=True)
        return check_design(value)
    if key == "scenario_file":
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"scenario_file = {value!r} is not allowed: expected the path of "
                                "a scenario YAML file")
        p = Path(value).expanduser()
        if not p.is_file():
            where = "" if p.is_absolute() else f" (relative to {os.getcwd()})"
            raise ScenarioError(f"scenario_file = {value!r} is not allowed: no such file{where}; "
                                "expected the path of a scenario YAML file")
        return str(p.resolve())
    raise ScenarioError(f"{key} is not a run setting: expected one of {', '.join(RUN_KEYS)}")


def check_run_settings(cfg: Mapping[str, Any] | DictConfig) -> dict[str, Any]:
    """Check every run setting of a composed config; returns the normalised values."""
    return {k: check_run_setting(k, cfg.get(k, RUN_DEFAULTS.get(k))) for k in RUN_KEYS}


DESIGN_KEYS = ("method", "points", "levels", "worlds_per_point", "seed", "ranges")


def check_design(design: Any) -> dict[str, Any]:
    """Check the ``design`` setting (a sampled design run as one batch); returns it normalised.

    Keys: ``method`` (lhs | sobol | grid), ``points`` (lhs, sobol), ``levels`` (grid, per
    field), ``worlds_per_point`` (default: ``worlds``), ``seed`` (of the sampler; default: the
    run's seed) and ``ranges`` (``{scenario field: [low, high]}``, fields below ``scenario.``).

    Raises:
        ScenarioError: naming the key, the value and what is allowed.
    """
    from sim.explore.design import METHODS

    if not isinstance(design, Mapping):
        raise ScenarioError(f"design = {design!r} is not allowed: expected a mapping with keys "
                            f"{', '.join(DESIGN_KEYS)}")
    unknown = [k for k in design if k not in DESIGN_KEYS]
    if unknown:
        raise ScenarioError(f"design.{unknown[0]} is not a design setting"
                            f"{_suggest(str(unknown[0]), DESIGN_KEYS)}: expected {', '.join(DESIGN_KEYS)}")
    out = {"method": design.get("method", "lhs"), "points": design.get("points", 64),
           "levels": design.get("levels"), "worlds_per_point": design.get("worlds_per_point"),
           "seed": design.get("seed"), "ranges": design.get("ranges")}
    if out["method"] not in METHODS:
        raise ScenarioError(f"design.method = {out['method']!r} is not allowed: expected one of "
                            f"{', '.join(METHODS)}")
    out["points"] = _whole("design.points", out["points"], 1)
    for key, lo in (("levels", 1), ("worlds_per_point", 1), ("seed", 0)):
        if out[key] is not None:
            out[key] = _whole(f"design.{key}", out[key], lo)
    ranges = out["ranges"]
    if not isinstance(ranges, Mapping) or not ranges:
        raise ScenarioError(f"design.ranges = {ranges!r} is not allowed: expected a mapping "
                            "{scenario field: [low, high]}, e.g. {state.delivery_reliability: [0, 1]}")
    clean = {}
    for path, rng in ranges.items():
        path = str(path)
        path = path[len("scenario."):] if path.startswith("scenario.") else path
        ok = isinstance(rng, Sequence) and not isinstance(rng, str) and len(rng) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
        if not ok:
            raise ScenarioError(f"design.ranges.{path} = {rng!r} is not allowed: expected "
                                "[low, high]")
        check_scenario_key(path)
        clean[path] = [float(rng[0]), float(rng[1])]
    out["ranges"] = clean
    return out


def _nested_dataclass(f: dataclasses.Field) -> type | None:
    factory = f.default_factory
    if factory is not dataclasses.MISSING and isinstance(factory, type) and \
            dataclasses.is_dataclass(factory):
        return factory
    return None


_NO_VALUE = object()


def _suggest_field(name: str, siblings: Sequence[str]) -> str:
    """A close sibling name, or the full path of a field with that name elsewhere."""
    from sim.inputs.schema import declared_fields

    close = difflib.get_close_matches(name, list(siblings), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    elsewhere = [p for p, _ in declared_fields() if p.split(".")[-1] == name]
    if elsewhere:
        return f" (did you mean scenario.{elsewhere[0]}?)"
    return ""


def check_scenario_key(path: str, actor_ids: Mapping[str, Sequence[str]] | None = None,
                       value: Any = _NO_VALUE, origin: str = "this scenario") -> None:
    """Check that a dotted path (below ``scenario.``) names a field of the scenario schema.

    Args:
        path: dotted path relative to the scenario, e.g. ``state.delivery_reliability``.
        actor_ids: the scenario's faction, mediator and spoiler ids, to check an id; None skips.
        value: if given, checked against the declared range of a numeric field.
        origin: name of the scenario, for messages.

    Raises:
        ScenarioError: naming the path, what is wrong and what is allowed.
    """
    shown = f"scenario.{path}"
    parts = path.split(".")
    cls: type = Scenario
    i = 0
    where = "scenario"
    while i < len(parts):
        part = parts[i]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            raise ScenarioError(
                f"{shown} is not a field of the scenario: {where} has no field {part!r}"
                f"{_suggest_field(part, list(fields))}; its fields are {', '.join(fields)}")
        f = fields[part]
        if cls is Scenario and part in ACTOR_TYPES:
            if i + 1 == len(parts):
                return
            aid = parts[i + 1]
            if actor_ids is not None and aid not in actor_ids.get(part, ()):
                known = list(actor_ids.get(part, ()))
                raise ScenarioError(
                    f"{shown}: there is no {part[:-1]} {aid!r} in "
                    f"{origin}{_suggest(aid, known)}; its {part} are {', '.join(known) or 'none'}")
            cls, where, i = ACTOR_TYPES[part], f"scenario.{part}.{aid}", i + 2
            if i == len(parts):
                return
            continue
        if cls is Scenario and part in ("sources", "observed"):
            return
        sub = _nested_dataclass(f)
        if sub is not None:
            cls, where, i = sub, f"{where}.{part}", i + 1
            continue
        if i != len(parts) - 1:
            raise ScenarioError(f"{shown} is not a field of the scenario: {where}.{part} is a "
                                "single value, not a group of fields")
        if value is not _NO_VALUE:
            _check_leaf_value(shown, f, value)
        return


def _check_leaf_value(shown: str, f: dataclasses.Field, value: Any) -> None:
    if f.metadata.get("lo") is not None or f.metadata.get("hi") is not None:
        check_value(shown, f, value)
    elif isinstance(f.default, bool) and not isinstance(value, bool):
        raise ScenarioError(f"{shown} = {value!r} is not allowed: expected true or false "
                            f"({f.metadata.get('doc', '')})")
    elif f.name == "start_phase":
        from sim.core.types import StartPhase

        names = [p.name for p in StartPhase]
        if str(value) not in names:
            raise ScenarioError(f"{shown} = {value!r} is not allowed: expected one of "
                                f"{', '.join(names)}")


def _actor_ids(raw: Any) -> dict[str, list[str]]:
    out = {}
    for k in ACTOR_TYPES:
        node = raw.get(k) if isinstance(raw, (Mapping, DictConfig)) else None
        out[k] = [str(x) for x in node.keys()] if isinstance(node, (Mapping, DictConfig)) else []
    return out


def _one_paragraph(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_yaml_mapping(path: Path, shown: str) -> DictConfig:
    """Load a scenario YAML as a DictConfig, with a one-paragraph message on failure."""
    try:
        base = OmegaConf.load(path)
    except FileNotFoundError:
        raise ScenarioError(f"{shown}: no such file {str(path)!r}") from None
    except Exception as e:  # YAML syntax error, unsupported value
        raise ScenarioError(f"{shown} is not valid YAML: {_one_paragraph(str(e))}") from None
    if not isinstance(base, DictConfig):
        raise ScenarioError(f"{shown}: expected a mapping of scenario fields (name: ..., state: "
                            "..., factions: ...) at the top level")
    return base


# --------------------------------------------------------------------------------------------
# Pre-check and rewriting of the command line (before Hydra)
# --------------------------------------------------------------------------------------------


def _values(o: Any) -> list[Any] | None:
    """Concrete values of an override (one, or each of a choice/range sweep); None if unknown."""
    if not o.is_sweep_override():
        return [o.value()]
    try:
        return list(o.sweep_iterator())
    except Exception:
        return None


def _config_defaults() -> tuple[list[str], str | None]:
    """Top-level keys of conf/config.yaml and its default scenario."""
    try:
        raw = OmegaConf.load(CONF_DIR / "config.yaml")
    except Exception:
        return list(RUN_KEYS), None
    keys = [str(k) for k in raw.keys() if k not in ("defaults", "hydra")]
    default = None
    for entry in raw.get("defaults", []):
        if isinstance(entry, (Mapping, DictConfig)) and "scenario" in entry:
            default = str(entry["scenario"])
    return keys, default


def _experiment_names() -> list[str]:
    d = CONF_DIR / "experiment"
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _scenario_names() -> list[str]:
    d = CONF_DIR / "scenario"
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def precheck(overrides: list[str]) -> list[str]:
    """Check the command-line overrides before Hydra composes them; returns them, rewritten.

    Catches the usual mistakes with a message that names the field, the value and what is
    allowed: unknown run settings, bad run values, unknown scenario names, unknown scenario
    fields or actor ids, out-of-range scenario values, a missing or malformed scenario_file.
    Anything it cannot judge is left to Hydra and the task, which check again.

    Raises:
        ScenarioError: on a mistake.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:
        return overrides  # a syntax error: Hydra reports it
    keys, default_scenario = _config_defaults()
    known_root = set(keys) | {"scenario", "hydra", "scenario_schema"}
    names = _scenario_names()

    scenario_choice: str | None = default_scenario
    scenario_choice_given = False
    scenario_file: str | None = None
    file_mode = False
    for o in parsed:
        key = o.key_or_group
        if o.is_delete() or o.is_hydra_override() or key.startswith("hydra/") or "/" in key:
            continue
        if key == "experiment":
            known = _experiment_names()
            for v in _values(o) or []:
                if str(v) not in known:
                    raise ScenarioError(
                        f"experiment = {v!r} is not allowed: expected the name of a file in "
                        f"conf/experiment/{_suggest(str(v), known)}: {', '.join(known)}")
            continue
        if key == "scenario":
            vals = _values(o)
            scenario_choice_given = True
            if vals is None or o.is_sweep_override() and not hasattr(o.value(), "list"):
                scenario_choice = None  # glob(...) or similar: Hydra checks the options
                continue
            for v in vals:
                if str(v) not in names:
                    raise ScenarioError(
                        f"scenario = {v!r} is not allowed: expected the name of a file in "
                        f"scenarios/{_suggest(str(v), names)}: {', '.join(names)}; for a YAML "
                        "elsewhere use scenario_file=/path/to/file.yaml")
            scenario_choice = str(vals[0]) if len(vals) == 1 else None
            continue
        root = key.split(".")[0]
        if root in RUN_KEYS and "." not in key:
            vals = _values(o)
            for v in vals or []:
                check_run_setting(key, v)
            if key == "scenario_file" and vals and any(v is not None for v in vals):
                file_mode = True
                scenario_file = str(vals[0]) if len(vals) == 1 and vals[0] is not None else None
            continue
        if root not in known_root and not (o.is_add() or o.is_force_add()):
            raise ScenarioError(
                f"{key} is not a setting{_suggest(root, list(known_root - {'hydra', 'scenario_schema'}))}: "
                f"the run settings are {', '.join(RUN_KEYS)}, and scenario fields go under "
                "scenario., e.g. scenario.state.delivery_reliability=0.2")
    if file_mode and scenario_choice_given:
        raise ScenarioError("scenario and scenario_file are both given: use scenario=NAME for a "
                            "shipped scenario or scenario_file=PATH for a YAML elsewhere, not both")

    # Which scenario the scenario.* overrides apply to, to check actor ids.
    actor_ids = None
    origin = "this scenario"
    if file_mode:
        if scenario_file is not None:
            base = load_yaml_mapping(Path(scenario_file).expanduser(),
                                     f"scenario_file = {scenario_file!r}")
            actor_ids, origin = _actor_ids(base), Path(scenario_file).name
    elif scenario_choice is not None and scenario_choice in names:
        path = CONF_DIR / "scenario" / f"{scenario_choice}.yaml"
        base = load_yaml_mapping(path, f"scenarios/{scenario_choice}.yaml")
        actor_ids, origin = _actor_ids(base), f"scenarios/{scenario_choice}.yaml"

    out = []
    for o, text in zip(parsed, overrides):
        key = o.key_or_group
        if key.startswith("scenario.") and not o.is_delete():
            adding = o.is_add() or o.is_force_add()
            vals = _values(o) or [_NO_VALUE]
            for v in vals:
                check_scenario_key(key[len("scenario."):], None if adding else actor_ids,
                                   value=v, origin=origin)
            if file_mode and not adding:
                text = "++" + text
        out.append(text)
    if file_mode:
        out += ["~scenario", "~scenario_schema"]
    return out


def _split_argv(argv: list[str]) -> tuple[list[str], list[str], bool]:
    """Split Hydra's flags from the overrides; also tells whether to skip the pre-check."""
    try:
        from hydra._internal.utils import get_args_parser

        args, _unknown = get_args_parser().parse_known_args(argv)
    except SystemExit:
        return [], argv, True
    except Exception:
        return [], argv, True
    overrides = list(args.overrides or [])
    # argparse leaves overrides given after a flag (worlds=5 -m days=3) among the unknowns
    overrides += [u for u in _unknown if not u.startswith("-")]
    skip = bool(args.help or args.hydra_help or args.shell_completion or args.info
                or args.experimental_rerun)
    # flags = everything that is not one of the overrides (kept in order, overrides go last)
    flags, pool = [], list(overrides)
    for a in argv:
        if pool and a == pool[0]:
            pool.pop(0)
        else:
            flags.append(a)
    return flags, overrides, skip


# --------------------------------------------------------------------------------------------
# The task
# --------------------------------------------------------------------------------------------


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {_one_paragraph(message)}\n")
    sys.stderr.flush()


def _task_overrides() -> list[str]:
    try:
        return list(HydraConfig.get().overrides.task)
    except Exception:
        return []


def _scenario_overrides(task_overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(task_overrides)
    return [o for o in parsed if o.key_or_group.startswith("scenario.")]


def build_scenario(cfg: DictConfig, scenario_file: str | None) -> tuple[Scenario, str, str]:
    """The validated scenario of a run, its label and where it came from.

    With ``scenario_file`` the file is loaded and the ``scenario.*`` command-line overrides
    (``HydraConfig.get().overrides.task``) are applied on top of it; otherwise the scenario
    Hydra composed (``cfg.scenario``, overrides included) is used.
    """
    from sim.inputs.scenarios import from_config

    if scenario_file:
        path = Path(scenario_file)
        base = load_yaml_mapping(path, f"scenario_file = {str(path)!r}")
        ids = _actor_ids(base)
        for o in _scenario_overrides(_task_overrides()):
            key = o.key_or_group[len("scenario."):]
            if o.is_delete():
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(base, parent) if parent else base
                if isinstance(node, DictConfig) and leaf in node:
                    del node[leaf]
                continue
            check_scenario_key(key, ids, value=o.value(), origin=path.name)
            try:
                OmegaConf.update(base, key, o.value(), merge=True, force_add=True)
            except OmegaConfBaseException as e:
                raise ScenarioError(f"scenario.{key} = {o.value()!r} could not be applied to "
                                    f"{path.name}: {_one_paragraph(str(e))}") from None
        return from_config(base, origin=path.name), _scenario_label(_root_=cfg), str(path)

    if "scenario" not in cfg or cfg.scenario is None:
        raise ScenarioError("no scenario: give scenario=NAME (a file in scenarios/) or "
                            "scenario_file=/path/to/file.yaml")
    choice = None
    try:
        choice = HydraConfig.get().runtime.choices.get("scenario")
    except Exception:
        pass
    if not choice:
        raise ScenarioError("no scenario was chosen: give scenario=NAME (a file in scenarios/) "
                            "or scenario_file=/path/to/file.yaml")
    choice = str(choice)
    try:
        plain = OmegaConf.to_container(cfg.scenario, resolve=True, enum_to_str=True)
    except OmegaConfBaseException as e:
        raise ScenarioError(f"scenario {choice}: {_one_paragraph(str(e))}") from None
    source = (CONF_DIR / "scenario" / f"{choice}.yaml").resolve()
    return from_config(plain, origin=f"scenario {choice}"), choice, str(source)


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


def git_state(repo: Path = REPO_DIR) -> dict[str, Any]:
    """Commit of the repository holding the package and whether its tree is dirty.

    All None when the package does not run from a git checkout (an installed wheel) or git is
    not available.
    """
    if not (repo / ".git").exists():
        return {"commit": None, "dirty": None, "repo": None}

    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                               timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != repo.resolve():
        return {"commit": None, "dirty": None, "repo": None}
    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status),
            "repo": str(repo)}


def _command() -> list[str]:
    """The command line as the user typed it (after the pre-check's rewriting)."""
    argv0 = sys.argv[0] if sys.argv else PROG
    head = ["python", "-m", "sim"] if Path(argv0).name == "__main__.py" else [Path(argv0).name]
    return head + list(sys.argv[1:])


def _want_progress(progress: Any, worlds: int, days: int) -> bool:
    if progress is True or progress is False:
        return progress
    return worlds * days >= PROGRESS_AUTO_WORLD_DAYS and sys.stderr.isatty()


def _quiet_mesa() -> None:
    for name in ("MESA", "mesa"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _config_hash(run: dict[str, Any], scenario: Scenario) -> str:
    """Hash of what decides this run's results (not workers, chunking, progress)."""
    from sim.running.runner import config_hash
    from sim.inputs.scenarios import to_dict

    return config_hash({"scenario": to_dict(scenario), "worlds": run["worlds"],
                        "days": run["days"], "seed": run["seed"], "record": run["record"],
                        "design": run["design"], "plots": run["plots"]})


def _design_points(run: dict[str, Any], scenario: Scenario) -> tuple[Any, int]:
    """The design's points and worlds per point."""
    from sim.explore.design import sample

    d = run["design"]
    points = sample(d["ranges"], n=d["points"], method=d["method"],
                    seed=run["seed"] if d["seed"] is None else d["seed"], scenario=scenario,
                    levels=d["levels"])
    return points, d["worlds_per_point"] or run["worlds"]


def run_task(cfg: DictConfig) -> dict[str, Any]:
    """Validate, run, write the outputs and print the summary.

    A run directory that already holds this run's complete results (same config hash, see
    :mod:`sim.running.runner`) is skipped (``resume=false`` recomputes); an interrupted run resumes from
    its finished chunks.

    Returns:
        ``run_dir``, ``worlds``, ``seconds`` and ``skipped``.
    """
    from sim.running import ensemble
    from sim.running import runner
    from sim.running.files import write_json_atomic, write_parquet_atomic, write_text_atomic
    from sim.core.outcomes import describe
    from sim.inputs.scenarios import to_dict

    t0 = time.perf_counter()
    started_at = datetime.datetime.now(datetime.timezone.utc).astimezone()
    _quiet_mesa()
    run = check_run_settings(cfg)
    scenario, label, source = build_scenario(cfg, run["scenario_file"])
    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    runner.clean_temporary(run_dir)
    (run_dir / "error.json").unlink(missing_ok=True)
    worlds, days, seed, record = run["worlds"], run["days"], run["seed"], run["record"]
    design = points = None
    if run["design"] is not None:
        points, per_point = _design_points(run, scenario)
        worlds = len(points) * per_point
        design = {**run["design"], "worlds_per_point": per_point, "points": len(points)}
    key = _config_hash(run, scenario)
    if run["resume"] and runner.is_complete(run_dir, key):
        runner.clear_checkpoints(run_dir)  # left over if killed right after the manifest
        print(f"{label}: already complete in {run_dir} (same settings); skipped. Use "
              "resume=false to run it again.")
        sys.stdout.flush()
        return {"run_dir": str(run_dir), "worlds": worlds, "seconds": 0.0, "skipped": True}
    (run_dir / runner.MANIFEST).unlink(missing_ok=True)  # from here on the run is not complete
    if design is None:
        log.info("%s: %s worlds x %s days, seed %s -> %s", label, f"{worlds:,}", days, seed, run_dir)
    else:
        log.info("%s: design of %s points x %s worlds x %s days, seed %s -> %s", label,
                 f"{design['points']:,}", f"{design['worlds_per_point']:,}", days, seed, run_dir)

    threads = None if run["threads"] == "auto" else run["threads"]
    params = None
    if design is not None:
        from sim.explore.design import expand

        params = expand(points, design["worlds_per_point"])
    results, chunk_info = runner.run_checkpointed(
        run_dir, scenario, worlds=worlds, days=days, seed=seed, record=record, params=params,
        chunk_worlds=run["chunk_worlds"], workers=run["workers"], threads=threads,
        progress=_want_progress(run["progress"], worlds, days), key=key, resume=run["resume"])
    t_sim = time.perf_counter() - t0

    written = []
    if design is None:
        write_parquet_atomic(results.worlds, run_dir / "worlds.parquet")
        written.append("worlds.parquet")
    else:
        from sim.explore.design import design_table, job_summary

        table = design_table(points, design["worlds_per_point"], results.worlds)
        write_parquet_atomic(table, run_dir / "sweep.parquet")
        jobs = job_summary(table)
        write_parquet_atomic(jobs, run_dir / "jobs.parquet")
        write_text_atomic(run_dir / "jobs.csv", jobs.to_csv(index=False))
        written += ["sweep.parquet", "jobs.parquet", "jobs.csv"]
    if record != "none" and results.timeseries is not None:
        write_parquet_atomic(results.timeseries, run_dir / "timeseries.parquet")
        written.append("timeseries.parquet")
    ceasefires = getattr(results, "ceasefires", None)
    if ceasefires is not None:
        write_parquet_atomic(ceasefires, run_dir / "ceasefires.parquet")
        written.append("ceasefires.parquet")
    import yaml

    header = (f"# Resolved, validated scenario of this run ({label}; every field, defaults "
              "included).\n# Run it again with: python -m sim scenario_file=<this file>\n")
    write_text_atomic(run_dir / "scenario.yaml",
                      header + yaml.safe_dump(to_dict(scenario), sort_keys=False,
                                              allow_unicode=True, width=100))
    written.append("scenario.yaml")
    headline = results.summary()
    summary = {"scenario": label, "scenario_title": scenario.name, "scenario_source": source,
               "seed": seed, "worlds": worlds, "days": days, "record": record, **headline}
    if design is not None:
        summary["design"] = design
    write_json_atomic(run_dir / "summary.json", summary)
    written.append("summary.json")

    manifest = {
        "complete": True,
        "config_hash": key,
        "versions": versions(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "scenario": label,
        "scenario_source": source,
        "seed": seed, "worlds": worlds, "days": days, "record": record,
        "design": design,
        "chunk_worlds": run["chunk_worlds"],
        "workers": run["workers"],
        "threads": ensemble.resolve_threads(threads, run["workers"]),
        "chunks": chunk_info["chunks"],
        "chunks_resumed": chunk_info["chunks_resumed"],
        "git": git_state(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "simulation_seconds": round(t_sim, 3),
        "wall_time_seconds": None,
        "overrides": list(hc.overrides.task),
        "command": _command(),
        "run_dir": str(run_dir.resolve()),
        "files": written + ["manifest.json"],
    }
    if run["plots"]:
        manifest["figures"] = _save_figures(run_dir, results, sweep=design is not None)
    manifest["wall_time_seconds"] = round(time.perf_counter() - t0, 3)
    # Written last: its presence (complete, with this config hash) marks the run as finished.
    write_json_atomic(run_dir / "manifest.json", manifest)
    runner.clear_checkpoints(run_dir)

    print(describe(headline, label))
    print(f"Results: {run_dir}")
    sys.stdout.flush()
    return {"run_dir": str(run_dir), "worlds": worlds, "seconds": round(t_sim, 3),
            "skipped": False}


def _save_figures(run_dir: Path, results: Any, sweep: bool = False) -> list[str]:
    """Write the run's standard figures (:func:`sim.report.figures.save_standard_figures`, or for a
    design the sweep figures of :func:`sim.report.run_figures.sweep_figures`); the PNGs it wrote."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    if sweep:
        from sim.report.run_figures import sweep_figures

        paths = sweep_figures(run_dir)
    else:
        from sim.report.figures import save_standard_figures

        paths = save_standard_figures(run_dir, results)
    return sorted(str(Path(p).relative_to(run_dir)) for p in paths)


def _record_error(e: BaseException) -> None:
    """Leave ``error.json`` in the job's directory, so a sweep collector can say what failed."""
    import traceback

    from sim.running.files import write_json_atomic

    try:
        out = Path(HydraConfig.get().runtime.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "error.json", {
            "type": type(e).__name__, "message": str(e),
            "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))})
    except Exception:
        pass


def _is_multirun() -> bool:
    try:
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:
        return False


@hydra.main(version_base="1.3", config_path=f"pkg://{CONF_PACKAGE}", config_name="config")
def _hydra_task(cfg: DictConfig) -> dict[str, Any]:
    _STATE["started"] = True
    try:
        return run_task(cfg)
    except ScenarioError as e:
        _STATE["user_error"] = True
        _error(str(e))
        if _is_multirun():
            _record_error(e)
            # Hydra runs the other jobs, then prints this message (no traceback: compact)
            raise SweepJobError(str(e)) from None
        sys.exit(2)
    except Exception as e:
        if _is_multirun():
            _record_error(e)
        raise


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim`` and ``negsim``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    flags, overrides, skip = _split_argv(argv)
    if not skip:
        try:
            overrides = precheck(overrides)
        except ScenarioError as e:
            _error(str(e))
            sys.exit(2)
    _STATE["started"] = False
    _STATE["user_error"] = False
    from sim.explore import sweep

    sweep.SESSION.update(sweep_dir=None, collected=False)
    sys.argv = [sys.argv[0] if sys.argv else PROG, *flags, *overrides]
    try:
        _hydra_task()
    except SystemExit as e:
        code = e.code
        if code not in (0, None, 2) and (not _STATE["started"] or _STATE["user_error"]):
            # Hydra rejected the command line (an unknown key or option, a wrong type) before
            # the run started, or a sweep job stopped on a bad value: a user mistake.
            sys.exit(2)
        raise
    finally:
        # A multirun whose jobs failed ends without on_multirun_end: collect what finished.
        if sweep.SESSION["sweep_dir"] is not None and not sweep.SESSION["collected"]:
            sweep.collect_quietly(sweep.SESSION["sweep_dir"])


if __name__ == "__main__":
    main()
