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

from sim.inputs.fields import check_path
from sim.inputs.schema import Scenario, ScenarioError, shown_value

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


# --------------------------------------------------------------------------------------------
# Reading a scenario file: data only, within limits
# --------------------------------------------------------------------------------------------

#: limits of a scenario file (the shipped ones are below 30 KB, 6 levels deep, 1,000 values)
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_NODES = 100_000
MAX_SCALAR_CHARS = 10_000
#: digits of the longest whole number a scenario file may write (larger ones are kept as text
#: and refused by the field's check, naming it)
MAX_INT_DIGITS = 30


class _LimitError(Exception):
    """A scenario file exceeds a limit of :func:`read_yaml` (the message says which)."""


def _guarded_loader(text: str) -> Any:
    """A YAML loader (OmegaConf's, so numbers read as everywhere else) that refuses nesting
    deeper than :data:`MAX_DEPTH` while composing, and keeps a whole number of more than
    :data:`MAX_INT_DIGITS` digits as text."""
    from omegaconf._utils import get_yaml_loader

    class Loader(get_yaml_loader()):  # type: ignore[misc]
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _LimitError(
                    f"it nests deeper than {MAX_DEPTH} levels (line {mark.line + 1}); a scenario "
                    "is a few levels deep"
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_yaml_int(self, node: Any) -> Any:
            if sum(c.isdigit() for c in node.value) > MAX_INT_DIGITS:
                return node.value
            return super().construct_yaml_int(node)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    return Loader(text)


def _expanded_size(node: Any, memo: dict[int, int], path: str = "") -> int:
    """Nodes of a composed YAML document once every alias is expanded (each shared node is
    counted once per use; computed once per node); refuses a value longer than
    :data:`MAX_SCALAR_CHARS`, naming its path."""
    import yaml

    key = id(node)
    if key not in memo:
        memo[key] = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                memo[key] += _expanded_size(k, memo, path) + _expanded_size(
                    v, memo, f"{path}.{k.value}" if path else str(k.value)
                )
        elif isinstance(node, yaml.SequenceNode):
            memo[key] += sum(_expanded_size(v, memo, f"{path}[{i}]") for i, v in enumerate(node.value))
        elif len(node.value) > MAX_SCALAR_CHARS:
            raise _LimitError(
                f"{path or 'a key'} (line {node.start_mark.line + 1}) is {len(node.value):,} characters "
                f"long, which is not allowed: at most {MAX_SCALAR_CHARS:,}"
            )
        if memo[key] > MAX_NODES:
            raise _LimitError(
                f"its aliases (*name) expand to more than {MAX_NODES:,} values: a scenario "
                "file needs no aliases"
            )
    return memo[key]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (an empty file)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a line of text"
    return f"a single {type(value).__name__}"


_PACKAGE = re.compile(r"^\s*#\s*@package\b", re.MULTILINE)


def read_yaml(path: str | Path, shown: str | None = None) -> dict[str, Any]:
    """Read a scenario file as plain data, refusing what a scenario file must not hold.

    Refused, with a message that names the file and never echoes its contents: a file larger
    than :data:`MAX_FILE_BYTES` or not UTF-8 text; YAML syntax errors (with the line); nesting
    deeper than :data:`MAX_DEPTH`; aliases that expand beyond :data:`MAX_NODES` values (an
    alias bomb is refused before it expands); values longer than :data:`MAX_SCALAR_CHARS`; a
    top level that is not a mapping; and anything that would make the file more than data (see
    :func:`sim.inputs.fields.check_data`): interpolations ``${...}``, Hydra's ``# @package``
    header, ``hydra`` keys, ``_target_`` keys.

    Args:
        path: the file.
        shown: how messages name it (default: its file name).

    Raises:
        ScenarioError: naming the file and what is wrong.
    """
    import yaml

    from sim.inputs.fields import check_data

    path = Path(path)
    shown = shown or path.name
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as e:
        raise ScenarioError(f"{shown}: cannot be read ({e.strerror or type(e).__name__})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{shown}: the file is larger than {MAX_FILE_BYTES:,} bytes; a scenario is far smaller"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{shown}: not a scenario file: it is not UTF-8 text") from None
    if _PACKAGE.search(text):
        raise ScenarioError(
            f"{shown}: a scenario file cannot carry a '# @package' header: it would let the file "
            "set Hydra's own settings (hydra.*); remove that line"
        )
    loader = None
    try:
        loader = _guarded_loader(text)
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, {})
        data = None if node is None else loader.construct_document(node)
    except _LimitError as e:
        raise ScenarioError(f"{shown}: refused: {e}") from None
    except yaml.YAMLError as e:
        detail = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise ScenarioError(f"{shown}: not valid YAML: {detail}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{shown}: expected a mapping of scenario fields (name: ..., state: ..., factions: "
            f"...) at the top level, but the file holds {_kind(data)}"
        )
    check_data(data, shown)
    return data


def scenario_names() -> list[str]:
    """Names of the shipped scenarios (files in ``scenarios/``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _resolve_path(name_or_path: str | Path) -> Path:
    """The file of a shipped scenario's name (only the names in ``scenarios/``: a name cannot
    climb out of that folder) or of a path ending in ``.yaml``/``.yml``."""
    from sim.inputs.fields import suggest

    if not isinstance(name_or_path, (str, Path)):
        raise ScenarioError(
            f"scenario = {name_or_path!r} is not allowed: expected a shipped scenario's name "
            f"(one of {', '.join(scenario_names())}), a path to a .yaml file or a Scenario"
        )
    p = Path(name_or_path).expanduser()
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise ScenarioError(f"scenario file {str(p)!r} does not exist")
        return p
    names = scenario_names()
    if str(name_or_path) not in names:
        raise ScenarioError(
            f"scenario = {str(name_or_path)!r} is not allowed{suggest(str(name_or_path), names)}: "
            f"expected one of {names} or a path to a .yaml file"
        )
    return SCENARIO_DIR / f"{name_or_path}.yaml"


def _create(data: Mapping[str, Any], origin: str) -> DictConfig:
    """An OmegaConf node of checked plain data."""
    try:
        return OmegaConf.create(dict(data))
    except OmegaConfBaseException as e:
        raise ScenarioError(f"{origin}: {_omegaconf_message(e)}") from None


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
    from sim.inputs.fields import check_raw

    schema = OmegaConf.structured(Scenario)
    try:
        plain = OmegaConf.to_container(cfg, resolve=False) if isinstance(cfg, DictConfig) else dict(cfg)
    except OmegaConfBaseException as e:
        raise ScenarioError(f"{origin}: {_omegaconf_message(e)}") from None
    check_raw(plain, origin)
    try:
        cfg = OmegaConf.create(plain)
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
        base = _create(read_yaml(path, origin), origin)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ScenarioError(
            f"overrides = {overrides!r} is not allowed: expected a mapping of dotted field paths "
            'to values, e.g. {"state.delivery_reliability": 0.2}'
        )
    for key, value in (overrides or {}).items():
        if not isinstance(key, str):
            raise ScenarioError(
                f"overrides key {key!r} is not allowed: expected a dotted field path as text, "
                "e.g. state.delivery_reliability"
            )
        _check_override_path(key, base)
        if not isinstance(value, Mapping):
            check_path(key, None, value=value, origin=origin)
        # A mapping replaces the node (``{"spoilers": {}}`` drops every spoiler).
        try:
            OmegaConf.update(base, key, value, merge=not isinstance(value, Mapping), force_add=True)
        except OmegaConfBaseException:
            raise ScenarioError(
                f"{origin}: overrides[{key!r}] = {shown_value(value)} could not be applied: "
                f"{key} is a group of fields, so give a mapping or set its fields one by one"
            ) from None
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


#: longest run label (the directory below results/)
LABEL_MAX_CHARS = 80


def scenario_label(root: Any = None) -> str:
    """Readable name of a run's scenario in its composed config ``root``: the file stem for
    ``scenario_file``, else the chosen scenario's name (``hydra.runtime.choices.scenario``),
    made a safe directory name: ASCII letters, digits, ``_``, ``-`` and inner dots, not
    starting with a dot (so never ``..``), at most :data:`LABEL_MAX_CHARS` characters."""

    name = None
    if root is not None:
        path = OmegaConf.select(root, "scenario_file", default=None, throw_on_missing=False)
        if path:
            name = Path(str(path)).stem
        else:
            name = OmegaConf.select(
                root, "hydra.runtime.choices.scenario", default=None, throw_on_missing=False
            )
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "scenario"), flags=re.ASCII)
    # a directory name inside results/: never '.', '..' or hidden, never too long
    label = label.lstrip(".-")[:LABEL_MAX_CHARS].rstrip(".")
    return label or "scenario"
