"""The one walk over the scenario schema: every declared field with its dotted path.

:func:`schema_fields` goes through the dataclass tree of :class:`~sim.inputs.schema.Scenario`
once and yields a :class:`SchemaField` per leaf: its dotted path, its dataclass field, type,
unit, allowed range, default, and whether a per-world parameter table may vary it. Actor groups
(``factions``, ``mediators``, ``spoilers``: mappings of id to a dataclass) appear once, with the
wildcard ``*`` standing for any id (``factions.*.hardline_share``).

Everything that needs to know the schema's fields reads them here: validation of a scenario and
of keys on the command line, the per-world parameter arrays (:func:`tunable_paths`), the
parameter reference in ``docs/model.md`` and the axis labels of figures.

It reads the dataclasses and the metadata of their fields (``lo``, ``hi``, ``integer``,
``doc``, ``per_world``), set by :func:`sim.inputs.schema.param` and its siblings.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sim.inputs.schema import (
    Scenario,
    ScenarioError,
    allowed,
    check_id,
    check_value,
    shown_value,
)

#: the wildcard that stands for an actor id in a path
ANY_ID = "*"

# Units read from a field name's suffix, most specific first.
UNIT_SUFFIXES = (
    ("_per_kfighter_per_day", "attacks per 1,000 fighters per day"),
    ("_per_day", "per day"),
    ("_days", "days"),
    ("_share", "share"),
    ("_per_attack_count", "people per attack"),
    ("_count", "count"),
)

# Fields whose names do not end in one of the unit suffixes (_count, _days, _share, _per_day),
# or whose suffix misstates the unit (a "_share" that is not a number in [0, 1]).
UNIT_EXCEPTIONS = {
    "demand_share": "offer value (0-1 scale)",
    "commitment_share": "multiplier",
    "delivery_reliability": "share",
    "trust_gain_per_delivery": "share per delivered item",
    "trust_erosion_per_overdue_day": "share per overdue item per day",
    "pressure_per_casualty": "share per casualty",
    "blame_trust_cost": "share per attack",
    "cost_acceptance_share": "multiplier",
    "released_strength_count": "fighters per released prisoner",
    "leader_strike_day": "day index",
    "start": "date",
}


@dataclass(frozen=True)
class SchemaField:
    """One leaf field of the scenario schema.

    Attributes:
        path: dotted path from the scenario root; ``*`` stands for an actor id.
        field: the dataclass field (its metadata holds the range and meaning).
        type: the field's resolved Python type (``float``, ``bool``, ``list[str]``, an Enum...).
        actor_group: ``factions``, ``mediators`` or ``spoilers`` for an actor's field, else None.
    """

    path: str
    field: dataclasses.Field
    type: Any
    actor_group: str | None = None

    @property
    def name(self) -> str:
        """The field's own name (the last part of the path)."""
        return self.field.name

    @property
    def doc(self) -> str:
        """One-line meaning."""
        return self.field.metadata.get("doc", "")

    @property
    def lo(self) -> float | None:
        """Smallest allowed value (inclusive), or None."""
        return self.field.metadata.get("lo")

    @property
    def hi(self) -> float | None:
        """Largest allowed value (inclusive), or None."""
        return self.field.metadata.get("hi")

    @property
    def integer(self) -> bool:
        """Whether only whole numbers are allowed."""
        return bool(self.field.metadata.get("integer"))

    @property
    def has_range(self) -> bool:
        """Whether the field declares a numeric range."""
        return self.lo is not None or self.hi is not None

    @property
    def default(self) -> Any:
        """Value when a scenario leaves the field out."""
        f = self.field
        if f.default is not dataclasses.MISSING:
            return f.default
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            return f.default_factory()  # type: ignore[misc]
        return None

    @property
    def is_flag(self) -> bool:
        """A yes/no field."""
        return self.type is bool

    @property
    def is_scalar(self) -> bool:
        """A number or a yes/no value (what a per-world parameter column can hold)."""
        return self.type in (int, float, bool)

    @property
    def free_form(self) -> bool:
        """A free-form mapping (``sources``, ``observed``): any keys below it are allowed."""
        return typing.get_origin(self.type) is dict

    @property
    def per_world(self) -> bool:
        """Whether a per-world parameter table may give each world its own value.

        Numbers and yes/no values may vary, except the few declared ``per_world=False``
        because they shape the list of concession items of a whole batch.
        """
        return self.is_scalar and self.field.metadata.get("per_world", True)

    @property
    def enum(self) -> type[Enum] | None:
        """The Enum type of a choice field, else None."""
        return self.type if isinstance(self.type, type) and issubclass(self.type, Enum) else None

    @property
    def unit(self) -> str:
        """Unit, read from the name suffix (``_count``, ``_days``, ``_share``, ``_per_day``)."""
        if self.is_flag:
            return "yes/no"
        if self.name in UNIT_EXCEPTIONS:
            return UNIT_EXCEPTIONS[self.name]
        if self.type not in (int, float):
            return "text"
        return next((unit for suffix, unit in UNIT_SUFFIXES if self.name.endswith(suffix)), "number")

    @property
    def allowed(self) -> str:
        """Allowed values, as a student would write them in YAML."""
        if self.enum is not None:
            return "one of " + ", ".join(m.name for m in self.enum)
        if self.is_flag:
            return "true or false"
        if typing.get_origin(self.type) is list:
            return "list of ids"
        if self.type is str:
            return "date YYYY-MM-DD" if self.name == "start" else "text"
        return allowed(self.field)

    def concrete(self, actor_id: str) -> str:
        """The path with the actor id in place of the wildcard."""
        return self.path.replace(f".{ANY_ID}.", f".{actor_id}.", 1)


def _nested(tp: Any) -> tuple[str, type] | None:
    """``("group", cls)`` for a nested dataclass, ``("actors", cls)`` for ``dict[str, cls]``."""
    if dataclasses.is_dataclass(tp):
        return "group", tp
    if typing.get_origin(tp) is dict:
        args = typing.get_args(tp)
        if len(args) == 2 and dataclasses.is_dataclass(args[1]):
            return "actors", args[1]
    return None


def _walk(cls: type, prefix: str, group: str | None) -> Iterator[SchemaField]:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        nested = _nested(tp)
        if nested is None:
            yield SchemaField(path, f, tp, group)
        elif nested[0] == "group":
            yield from _walk(nested[1], path + ".", group)
        else:
            yield from _walk(nested[1], f"{path}.{ANY_ID}.", f.name)


@functools.cache
def schema_fields(root: type = Scenario) -> tuple[SchemaField, ...]:
    """Every leaf field of the schema below ``root`` (default: the scenario), in declaration order."""
    return tuple(_walk(root, "", None))


@functools.cache
def actor_groups(root: type = Scenario) -> dict[str, type]:
    """The actor groups of the schema: ``{group name: dataclass of one actor}``."""
    hints = typing.get_type_hints(root)
    return {
        f.name: n[1]
        for f in dataclasses.fields(root)
        if (n := _nested(hints[f.name])) is not None and n[0] == "actors"
    }


@functools.cache
def _by_path() -> dict[str, SchemaField]:
    return {sf.path: sf for sf in schema_fields()}


def generic_path(path: str) -> str:
    """A concrete path with its actor id replaced by the wildcard (``factions.a.x`` -> ``factions.*.x``)."""
    parts = path.split(".")
    if len(parts) > 2 and parts[0] in actor_groups():
        parts[1] = ANY_ID
    return ".".join(parts)


def lookup(path: str) -> SchemaField | None:
    """The declaration of a concrete or generic dotted path, or None if there is none."""
    return _by_path().get(generic_path(path))


def by_name(name: str) -> SchemaField | None:
    """The first declared field (in schema order) whose own name is ``name``."""
    return next((sf for sf in schema_fields() if sf.name == name), None)


def children(prefix: str) -> list[str]:
    """Names directly below a group path (``""`` for the root, ``state``, ``factions.*``)."""
    head = f"{prefix}." if prefix else ""
    out: dict[str, None] = {}
    for sf in schema_fields():
        if sf.path.startswith(head):
            out.setdefault(sf.path[len(head) :].split(".")[0], None)
    return list(out)


def value_at(obj: Any, path: str) -> Any:
    """The value at a concrete dotted path of a scenario (attributes, then actor-map keys)."""
    for part in path.split("."):
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return obj


def tunable_paths(s: Any) -> dict[str, tuple[dataclasses.Field, Any]]:
    """Every field a per-world parameter column may name, with its declaration and the value in
    scenario ``s``: the world-level numbers and yes/no values first, then each actor's.

    Fields declared ``per_world=False`` are included (so a column naming one gets a message
    saying why it cannot vary); see :attr:`SchemaField.per_world`.
    """
    scalars = [sf for sf in schema_fields() if sf.is_scalar]
    out = {sf.path: (sf.field, value_at(s, sf.path)) for sf in scalars if sf.actor_group is None}
    for group in actor_groups():
        for actor_id, actor in getattr(s, group).items():
            for sf in scalars:
                if sf.actor_group == group:
                    out[sf.concrete(actor_id)] = (sf.field, getattr(actor, sf.name))
    return out


# --------------------------------------------------------------------------------------------
# Checking a dotted path (command-line keys, design ranges)
# --------------------------------------------------------------------------------------------

_NO_VALUE = object()


def suggest(word: str, options: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options``, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _suggest_field(name: str, siblings: Sequence[str]) -> str:
    """A close sibling name, or the full path of a field with that name elsewhere."""
    close = difflib.get_close_matches(name, list(siblings), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    elsewhere = by_name(name)
    if elsewhere is not None:
        return f" (did you mean scenario.{elsewhere.path.replace(ANY_ID, '<id>')}?)"
    return ""


def check_leaf_value(shown: str, sf: SchemaField, value: Any) -> None:
    """Check one value against a field's declaration (range, yes/no, choice); text holding an
    interpolation ``${...}`` is refused for every field."""
    if isinstance(value, str) and "${" in value:
        raise ScenarioError(
            f"{shown} = {shown_value(value)} is not allowed: interpolations ${{...}} are not read in a "
            "scenario (they could copy environment variables into the outputs); write the value itself"
        )
    if sf.has_range:
        check_value(shown, sf.field, value)
    elif sf.is_flag and not isinstance(value, bool):
        raise ScenarioError(f"{shown} = {value!r} is not allowed: expected true or false ({sf.doc})")
    elif sf.enum is not None and str(value) not in [m.name for m in sf.enum]:
        raise ScenarioError(
            f"{shown} = {value!r} is not allowed: expected one of {', '.join(m.name for m in sf.enum)}"
        )


def check_path(
    path: str,
    actor_ids: Mapping[str, Sequence[str]] | None = None,
    value: Any = _NO_VALUE,
    origin: str = "this scenario",
) -> None:
    """Check that a dotted path (below ``scenario.``) names a field of the scenario schema.

    Args:
        path: dotted path relative to the scenario, e.g. ``state.delivery_reliability``; a path
            may stop at a group (``state.offer``) or an actor (``factions.a``).
        actor_ids: the scenario's faction, mediator and spoiler ids, to check an id; None skips.
        value: if given, checked against the declaration of the field it names.
        origin: name of the scenario, for messages.

    Raises:
        ScenarioError: naming the path, what is wrong and what is allowed.
    """
    shown, parts = f"scenario.{path}", path.split(".")
    generic: list[str] = []
    where = "scenario"
    for i, part in enumerate(parts):
        if generic and generic[-1] in actor_groups() and len(generic) == 1:
            known = list((actor_ids or {}).get(generic[0], ()))
            if actor_ids is not None and part not in known:
                raise ScenarioError(
                    f"{shown}: there is no {generic[0][:-1]} {part!r} in "
                    f"{origin}{suggest(part, known)}; its {generic[0]} are "
                    f"{', '.join(known) or 'none'}"
                )
            generic.append(ANY_ID)
            where = f"scenario.{generic[0]}.{part}"
            continue
        names = children(".".join(generic))
        if part not in names:
            raise ScenarioError(
                f"{shown} is not a field of the scenario: {where} has no field {part!r}"
                f"{_suggest_field(part, names)}; its fields are {', '.join(names)}"
            )
        generic.append(part)
        sf = lookup(".".join(generic))
        if sf is not None and sf.free_form:
            return
        if sf is not None and i != len(parts) - 1:
            raise ScenarioError(
                f"{shown} is not a field of the scenario: {where}.{part} is a "
                "single value, not a group of fields"
            )
        where = f"{where}.{part}"
    sf = lookup(".".join(generic))
    if sf is None and value is not _NO_VALUE:
        raise ScenarioError(
            f"{shown} = {shown_value(value)} is not allowed: {shown} is a group of fields, not a "
            f"value; set its fields one by one ({shown}{'.<id>' if path in actor_groups() else ''}"
            ".<field>=VALUE), or write the group in a scenario file (scenario_file=PATH)"
            + ("" if path in actor_groups() else f"; its fields are {', '.join(children('.'.join(generic)))}")
        )
    if sf is not None and value is not _NO_VALUE:
        check_leaf_value(shown, sf, value)


# --------------------------------------------------------------------------------------------
# Checking raw data before it meets the schema (a file, the API's overrides)
# --------------------------------------------------------------------------------------------

#: keys a scenario may never hold, anywhere: they would make data act (Hydra instantiation,
#: Hydra's own settings)
FORBIDDEN_KEYS = ("_target_", "_recursive_", "_convert_", "_partial_", "_args_")
MISSING = "???"


def check_data(data: Any, origin: str, path: str = "") -> None:
    """Refuse what would make a scenario more than data, at any depth: interpolations
    (``${...}``, resolved by OmegaConf: environment variables, other files), Hydra's
    instantiation keys (``_target_``) and, at the top level, Hydra's own settings (``hydra``).

    Raises:
        ScenarioError: naming the origin and the path of the offending key or value.
    """
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key) in FORBIDDEN_KEYS:
                raise ScenarioError(
                    f"{origin}: {where} is not allowed: a scenario is data; the key {key} would make "
                    "Hydra build and call objects"
                )
            if not path and str(key) == "hydra":
                raise ScenarioError(
                    f"{origin}: hydra is not allowed in a scenario: Hydra's own settings (hydra.*) "
                    "go on the command line, never in a scenario file"
                )
            check_data(value, origin, where)
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            check_data(value, origin, f"{path}[{i}]")
    elif isinstance(data, str) and "${" in data:
        raise ScenarioError(
            f"{origin}: {path} = {shown_value(data)} is not allowed: interpolations ${{...}} are not "
            "read in a scenario (they could copy environment variables or other files into the "
            "outputs); write the value itself"
        )


def check_raw(data: Any, origin: str) -> None:
    """Check raw scenario data (plain mappings, lists and scalars, before the typed schema
    converts anything) field by field: unknown keys, wrong container types, text or yes/no
    where a number belongs, numbers where yes/no belongs, non-finite or huge numbers, unresolved
    ``???``, bad actor ids, ``sources`` keys that name no field; plus :func:`check_data`.

    Raises:
        ScenarioError: naming the field path, the value and what is allowed.
    """
    check_data(data, origin)
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level")
    ids = {g: list(v) if isinstance(v := data.get(g), Mapping) else [] for g in actor_groups()}
    _check_group(data, "", "", origin, ids)


def _fail(origin: str, shown: str, value: Any, expected: str) -> ScenarioError:
    return ScenarioError(f"{origin}: {shown} = {shown_value(value)} is not allowed: expected {expected}")


def _check_group(
    node: Mapping, generic: str, shown: str, origin: str, ids: Mapping[str, Sequence[str]]
) -> None:
    names = children(generic)
    for key, value in node.items():
        here = f"{shown}{key}"
        if str(key) not in names:
            where = f"scenario.{shown.rstrip('.')}" if shown else "scenario"
            raise ScenarioError(
                f"{origin}: {here} is not a field of the scenario: {where} has no field {str(key)!r}"
                f"{_suggest_field(str(key), names)}; its fields are {', '.join(names)}"
            )
        path = f"{generic}.{key}" if generic else str(key)
        sf = lookup(path)
        if sf is not None:
            _check_leaf_raw(origin, here, sf, value, ids)
        elif path in actor_groups():
            _check_actors(value, path, here, origin, ids)
        elif isinstance(value, Mapping):
            _check_group(value, path, f"{here}.", origin, ids)
        else:
            raise _fail(
                origin, here, value, f"a mapping of the fields of {path} ({', '.join(children(path))})"
            )


def _check_actors(value: Any, group: str, shown: str, origin: str, ids: Mapping[str, Sequence[str]]) -> None:
    if not isinstance(value, Mapping):
        raise _fail(
            origin,
            shown,
            value,
            f"a mapping of {group[:-1]} ids to their fields, e.g. {group}: {{my_id: {{...}}}}",
        )
    for actor_id, actor in value.items():
        check_id(f"{origin}: {shown}", actor_id)
        if not isinstance(actor, Mapping):
            fields = ", ".join(children(f"{group}.{ANY_ID}"))
            raise _fail(origin, f"{shown}.{actor_id}", actor, f"a mapping of its fields ({fields})")
        _check_group(actor, f"{group}.{ANY_ID}", f"{shown}.{actor_id}.", origin, ids)


def _check_leaf_raw(
    origin: str, shown: str, sf: SchemaField, value: Any, ids: Mapping[str, Sequence[str]]
) -> None:
    if isinstance(value, str) and value.strip() == MISSING:
        raise ScenarioError(
            f"{origin}: {shown} = ??? is not allowed: the value is missing (??? marks a value still to "
            f"be given); write {sf.allowed}"
        )
    if value is None:
        raise _fail(origin, shown, value, f"{sf.allowed} ({sf.doc})")
    if sf.free_form:
        _check_free_form(origin, shown, sf, value, ids)
    elif sf.type in (int, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _fail(origin, shown, value, f"{sf.allowed}, written as a number ({sf.doc})")
        check_value(f"{origin}: {shown}", sf.field, value)
    elif sf.is_flag:
        if not isinstance(value, bool):
            raise _fail(origin, shown, value, f"true or false, not a number or text ({sf.doc})")
    elif typing.get_origin(sf.type) is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(origin, shown, value, f"a list of ids, e.g. [a, b] ({sf.doc})")
    elif isinstance(value, (Mapping, list)):
        raise _fail(origin, shown, value, f"{sf.allowed} ({sf.doc})")


def _check_free_form(
    origin: str, shown: str, sf: SchemaField, value: Any, ids: Mapping[str, Sequence[str]]
) -> None:
    if not isinstance(value, Mapping):
        raise _fail(origin, shown, value, f"a mapping ({sf.doc})")
    if sf.name != "sources":
        return
    for key, text in value.items():
        if not isinstance(text, str):
            raise _fail(origin, f"{shown}.{key}", text, "the provenance of that field as one text")
        try:
            check_path(str(key), ids, origin=origin)
        except ScenarioError as e:
            raise ScenarioError(
                f"{origin}: {shown}.{key} names no field of this scenario, so it documents nothing: "
                f"{str(e).removeprefix('scenario.')}"
            ) from None
