"""Loading, validating and overriding scenarios.

A scenario is a YAML file in ``scenarios/`` (or anywhere, given by path). It is merged onto the
typed schema in :mod:`sim.inputs.schema`; unknown keys, wrong types and out-of-range values stop with a
:class:`~sim.inputs.schema.ScenarioError` that names the field path, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.inputs.fields import check_mapping
from sim.inputs.schema import Scenario, ScenarioError

CONF_PACKAGE = "sim.conf"
"""The package holding the Hydra configuration (``conf/`` of the repository, installed inside
``sim``); :func:`conf_dir` finds it with :mod:`importlib.resources`."""


def conf_dir() -> Path:
    """Folder of the installed configuration (``sim.conf``): an editable install's ``conf/``
    or the copy inside an installed wheel.

    Raises:
        RuntimeError: when the package is not installed as files (e.g. imported from a zip).
    """
    root = importlib.resources.files(CONF_PACKAGE)
    if not isinstance(root, Path):
        raise RuntimeError(
            f"the configuration package {CONF_PACKAGE} is not a folder on disk "
            f"({root!r}): install negsim with pip (pip install negsim or a wheel)"
        )
    return root


CONF_DIR = conf_dir()
SCENARIO_DIR = CONF_DIR / "scenario"
"""The shipped scenarios (``scenarios/`` of the repository, reached through ``conf/scenario``)."""
BEHAVIOUR_FILE = CONF_DIR / "behaviour.yaml"
"""The shared behavioural parameter set every scenario starts from (values not in it keep the
schema's defaults); a scenario's own ``behaviour:`` block overrides it."""


def behaviour_defaults() -> DictConfig:
    """The shipped behavioural parameter set, as a ``{behaviour: {...}}`` node.

    Raises:
        FileNotFoundError: when ``conf/behaviour.yaml`` is missing (a broken install or
            checkout): scenarios must not silently run on the schema's defaults.
    """
    if not BEHAVIOUR_FILE.is_file():
        raise FileNotFoundError(
            f"the behavioural parameter set {BEHAVIOUR_FILE} is missing: every scenario starts "
            "from it. Reinstall negsim, or in a checkout restore conf/behaviour.yaml "
            "(git checkout conf/behaviour.yaml) or write it with python -m sim.cli.calibrate"
        )
    node = OmegaConf.load(BEHAVIOUR_FILE)
    values = node.get("behaviour", node) if isinstance(node, DictConfig) else {}
    return OmegaConf.create({"behaviour": OmegaConf.to_container(values)})


def scenario_names() -> list[str]:
    """Names of the shipped scenarios (files in ``scenarios/``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _resolve_path(name_or_path: str | Path) -> Path:
    if not isinstance(name_or_path, (str, Path)):
        raise ScenarioError(
            f"scenario = {name_or_path!r} is not allowed: expected a scenario name "
            f"({', '.join(scenario_names())}), a path to a .yaml file or a loaded scenario"
        )
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise ScenarioError(f"scenario file {str(p)!r} does not exist")
        return p
    candidate = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not candidate.is_file():
        raise ScenarioError(
            f"scenario = {str(name_or_path)!r} is not allowed: expected one of "
            f"{scenario_names()} or a path to a .yaml file"
        )
    return candidate


#: the schema's classes by what a scenario file calls them (messages name no internal class)
_CLASS_WORDS = {
    "StateConfig": "state",
    "OfferConfig": "state.offer",
    "FactionConfig": "a faction",
    "MediatorConfig": "a mediator",
    "SpoilerConfig": "a spoiler",
    "CeasefireConfig": "ceasefire",
    "Behaviour": "behaviour",
    "Scenario": "the scenario",
}


def plain_words(text: str) -> str:
    """A message with the schema's class names replaced by the scenario's own words."""
    return re.sub(r"'?\b(" + "|".join(_CLASS_WORDS) + r")\b'?", lambda m: _CLASS_WORDS[m.group(1)], text)


def _omegaconf_message(e: OmegaConfBaseException) -> str:
    key = getattr(e, "full_key", None) or getattr(e, "key", None) or "the scenario"
    msg = getattr(e, "msg", None) or str(e).splitlines()[0]
    value = getattr(e, "value", None)
    first = plain_words(msg.splitlines()[0])
    if "not in struct" in first or "Key" in first and "not" in first:
        return f"{key} is not a field of the scenario: check its spelling ({first})"
    if value is not None:
        return f"{key} = {value!r} is not allowed: {first}"
    return f"{key}: {first}"


def from_config(cfg: Mapping[str, Any] | DictConfig, origin: str = "scenario") -> Scenario:
    """Build a validated :class:`Scenario` from a mapping or an OmegaConf node.

    Raises:
        ScenarioError: on an unknown key, a wrong type or an out-of-range value.
    """
    schema = OmegaConf.structured(Scenario)
    try:
        if not isinstance(cfg, DictConfig):
            cfg = OmegaConf.create(dict(cfg))
        # Every key and value against the schema first: the messages of sim.inputs.fields
        # (did you mean, the allowed range, the fields of a group) rather than the merge's.
        check_mapping(OmegaConf.to_container(cfg, enum_to_str=True), origin=origin)
        merged = OmegaConf.merge(schema, behaviour_defaults(), cfg)
        obj = OmegaConf.to_object(merged)
    except ScenarioError as e:
        raise ScenarioError(f"{origin}: {e}") from None
    except OmegaConfBaseException as e:
        cause = e.__cause__ or e.__context__
        if isinstance(cause, ScenarioError):
            raise ScenarioError(f"{origin}: {cause}") from None
        raise ScenarioError(f"{origin}: {_omegaconf_message(e)}") from None
    assert isinstance(obj, Scenario)
    return obj


def load_scenario(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, override and validate a scenario.

    Args:
        name_or_path: a shipped scenario name (``kabul_2022``) or a path to a YAML file.
        overrides: optional dotted field paths and values applied before validation, e.g.
            ``{"factions.jamaat_ul_ahrar.hardline_share": 0.8}``.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: naming the field path, the bad value and what is allowed.
    """
    if isinstance(name_or_path, Scenario):
        base = OmegaConf.structured(name_or_path)
        origin = name_or_path.name or "scenario"
    else:
        path = _resolve_path(name_or_path)
        origin = path.name
        try:
            base = OmegaConf.load(path)
        except Exception as e:  # YAML syntax error
            detail = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise ScenarioError(f"{origin}: not valid YAML: {detail}") from None
        if not isinstance(base, DictConfig):
            raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level")
    for key, value in (overrides or {}).items():
        _check_override_path(key, base)
        # A mapping replaces the node (``{"spoilers": {}}`` drops every spoiler).
        OmegaConf.update(base, key, value, merge=not isinstance(value, Mapping), force_add=True)
    return from_config(base, origin)


def _check_override_path(key: str, base: DictConfig) -> None:
    parts = key.split(".")
    if parts[0] in ("factions", "mediators", "spoilers") and len(parts) > 2:
        group = base.get(parts[0]) or {}
        if parts[1] not in group:
            raise ScenarioError(
                f"{key}: there is no {parts[0][:-1]} {parts[1]!r} in this scenario; "
                f"known ids: {sorted(group)}"
            )


def to_dict(s: Scenario) -> dict[str, Any]:
    """The scenario as plain data (enums as names), for YAML and JSON output."""
    return OmegaConf.to_container(OmegaConf.structured(s), enum_to_str=True)  # type: ignore[return-value]


def leaf_paths(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf value in a plain mapping (used to check provenance)."""
    if isinstance(node, Mapping):
        out: list[str] = []
        for k, v in node.items():
            out += leaf_paths(v, f"{prefix}{k}.")
        return out if out else [prefix.rstrip(".")]
    return [prefix.rstrip(".")]


def missing_sources(raw: Mapping[str, Any]) -> list[str]:
    """Leaf fields of a raw scenario mapping that have no provenance in its ``sources`` block.

    A source on a parent path (``state.offer``) covers every field below it.
    """
    sources = raw.get("sources") or {}
    missing = []
    for path in leaf_paths(
        {k: v for k, v in raw.items() if k not in ("name", "description", "sources", "observed")}
    ):
        parts = path.split(".")
        if not any(".".join(parts[:i]) in sources for i in range(1, len(parts) + 1)):
            missing.append(path)
    return missing


def replace(s: Scenario, **changes: Any) -> Scenario:
    """A copy of a scenario with top-level fields replaced, validated again."""
    return dataclasses.replace(s, **changes)


def scenario_label(root: Any = None) -> str:
    """Readable name of a run's scenario in its composed config ``root``: the file stem for
    ``scenario_file``, else the chosen scenario's name (``hydra.runtime.choices.scenario``)."""
    name = None
    if root is not None:
        path = OmegaConf.select(root, "scenario_file", default=None, throw_on_missing=False)
        if path:
            name = Path(str(path)).stem
        else:
            name = OmegaConf.select(
                root, "hydra.runtime.choices.scenario", default=None, throw_on_missing=False
            )
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "scenario"))
