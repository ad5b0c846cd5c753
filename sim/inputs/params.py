"""Per-world parameter arrays built from a scenario and optional per-world overrides.

Every numeric or yes/no scenario field becomes an array with one value per world, so that a
sampled design (each world with its own values) runs as one batch. World-level values are shaped
``[worlds, 1]`` and actor values ``[worlds, actors]``, so they broadcast against each other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.compiled import decay_factor
from sim.core.types import ItemKind
from sim.inputs.fields import SchemaField, actor_groups, lookup, schema_fields, tunable_paths
from sim.inputs.schema import Scenario, ScenarioError, check_value, check_world_rules

__all__ = ["ITEM_VALUE", "STRUCTURAL", "Params", "build_params", "records", "tunable_paths"]

# Weights of concession kinds in a faction's valuation of an offer. Assumption: the 2022 demands
# named first by the seeds (002) are troop withdrawal and prisoner releases, then legal cases;
# the prisoner part grows with the square root of the share of prisoners released.
ITEM_VALUE = {
    ItemKind.prisoner_release: 0.35,
    ItemKind.troop_withdrawal: 0.35,
    ItemKind.amnesty: 0.15,
    ItemKind.compensation: 0.075,
    ItemKind.shariah_governance: 0.075,
}

#: Fields that shape the list of concession items; they are fixed for a whole batch (declared
#: ``per_world=False`` in the schema).
STRUCTURAL = frozenset(sf.path for sf in schema_fields() if sf.is_scalar and not sf.per_world)


def _scalars(group: str | None) -> list[SchemaField]:
    """Numeric and yes/no fields of the world (``None``) or of one actor group."""
    return [sf for sf in schema_fields() if sf.is_scalar and sf.actor_group == group]


def records(columns: dict[str, np.ndarray]) -> np.ndarray:
    """A structured array (one float64 field per column) from equally shaped arrays."""
    shape = next(iter(columns.values())).shape if columns else (0,)
    out = np.zeros(shape, dtype=[(k, "f8") for k in columns])
    for k, v in columns.items():
        out[k] = v
    return out


@dataclass
class Params:
    """Parameter arrays of a batch of worlds, as structured arrays the compiled rules read.

    Attributes:
        worlds: number of worlds.
        faction_ids, mediator_ids, spoiler_ids: actor ids in array order.
        world: world-level values (state, offer, ceasefire, behaviour, derived) ``[W]``; flags
            are stored as 0.0 / 1.0.
        faction: faction values ``[W, F]``, with ``offer_value``, what the offer is worth to it.
        mediator: mediator values ``[W, M]``.
        spoiler: spoiler values ``[W, S]``.
        item_kind: concession kind of each promised item ``[I]`` (:class:`~sim.core.types.ItemKind`).
        item_due_days: days from promise to due date ``[W, I]``.
        item_prisoners: prisoners released by each item ``[W, I]`` (0 for other kinds).
        item_at_talks: 1.0 where the item is promised when talks open rather than at the deal.
        item_active: 1.0 where the item exists in that world (a prisoner tranche of a world
            that releases no prisoners does not) ``[W, I]``.

    Fields read as attributes too: ``params.faction["hardline_share"]`` is ``[W, F]``.
    """

    worlds: int
    faction_ids: list[str]
    mediator_ids: list[str]
    spoiler_ids: list[str]
    world: np.ndarray
    faction: np.ndarray
    mediator: np.ndarray
    spoiler: np.ndarray
    item_kind: np.ndarray
    item_due_days: np.ndarray
    item_prisoners: np.ndarray
    item_at_talks: np.ndarray
    item_active: np.ndarray

    def slice(self, lo: int, hi: int) -> Params:
        """Parameters of worlds ``lo .. hi - 1``."""
        return dataclasses.replace(
            self,
            worlds=hi - lo,
            world=self.world[lo:hi],
            faction=self.faction[lo:hi],
            mediator=self.mediator[lo:hi],
            spoiler=self.spoiler[lo:hi],
            item_due_days=self.item_due_days[lo:hi],
            item_prisoners=self.item_prisoners[lo:hi],
            item_at_talks=self.item_at_talks[lo:hi],
            item_active=self.item_active[lo:hi],
        )


def _column_values(df: pd.DataFrame, path: str, sf: SchemaField) -> np.ndarray:
    col = df[path].to_numpy()
    for row, value in enumerate(col):
        v = value.item() if hasattr(value, "item") else value
        if sf.is_flag:
            if not isinstance(v, (bool, np.bool_)) and v not in (0, 1):
                raise ScenarioError(
                    f"params[{path!r}] row {row} = {v!r} is not allowed: expected true or false"
                )
            continue
        check_value(f"params[{path!r}] row {row}", sf.field, v)
    return col


def _world_name(sf: SchemaField) -> str:
    """Name of a world-level field among the world parameters: its own name, or ``on_<name>`` for
    a mechanism's switch (:attr:`sim.core.mechanisms.Mechanism.world_param`)."""
    return "on_" + sf.name if sf.path.startswith("mechanisms.") else sf.name


def _dtype(sf: SchemaField) -> type:
    return bool if sf.is_flag else float


def _world_values(s: Scenario, worlds: int, overrides: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Every tunable field's per-world values: the scenario's, replaced by the override columns.

    Raises:
        ScenarioError: for an unknown or structural column, a wrong row count, a bad value or a
            world that breaks a cross-field rule (:func:`sim.inputs.schema.check_world_rules`).
    """
    paths = tunable_paths(s)
    values = {
        path: np.full(worlds, v, dtype=bool if f.type in ("bool", bool) else float)
        for path, (f, v) in paths.items()
    }
    if overrides is None or not len(overrides.columns):
        return values
    if len(overrides) != worlds:
        raise ScenarioError(
            f"params has {len(overrides)} rows, which is not allowed: expected one row per world ({worlds})"
        )
    for path in overrides.columns:
        if path not in paths:
            near = sorted(p for p in paths if p.split(".")[-1] == str(path).split(".")[-1])
            hint = f"; did you mean one of {near[:5]}" if near else ""
            raise ScenarioError(
                f"params column {path!r} is not a tunable scenario field"
                f"{hint} (numeric and yes/no fields of state, state.offer, "
                "ceasefire, behaviour, factions.<id>, mediators.<id>, "
                "spoilers.<id>)"
            )
        sf = lookup(path)
        if not sf.per_world:
            raise ScenarioError(
                f"params column {path!r} cannot vary between worlds: it sets "
                "how many concession items exist; run one batch per value"
            )
        values[path] = _column_values(overrides, path, sf).astype(_dtype(sf))
    check_world_rules(s, values)
    return values


def _items(s: Scenario, world: dict[str, np.ndarray], worlds: int) -> dict[str, np.ndarray]:
    """Concession items: prisoner tranches, then one item per district, then the rest."""
    o = s.state.offer
    kinds = [ItemKind.prisoner_release] * o.release_tranche_count
    kinds += [ItemKind.troop_withdrawal] * len(o.withdrawal_districts)
    kinds += [
        k
        for k, on in (
            (ItemKind.amnesty, o.amnesty),
            (ItemKind.compensation, o.compensation),
            (ItemKind.shariah_governance, o.shariah_governance),
        )
        if on
    ]
    n_tranches = o.release_tranche_count
    tranche = np.arange(n_tranches, dtype=float)
    due = np.empty((worlds, len(kinds)))
    due[:, :n_tranches] = (
        world["first_release_due_days"][:, None] + tranche[None, :] * world["release_interval_days"][:, None]
    )
    due[:, n_tranches:] = world["other_items_due_days"][:, None]
    prisoners = np.zeros((worlds, len(kinds)))
    prisoners[:, :n_tranches] = world["prisoner_release_count"][:, None] / n_tranches
    at_talks = np.zeros((worlds, len(kinds)))
    at_talks[:, :n_tranches] = world["release_before_ceasefire"][:, None]
    active = np.ones((worlds, len(kinds)))
    active[:, :n_tranches] = prisoners[:, :n_tranches] > 0
    return {
        "item_kind": np.array([int(k) for k in kinds], dtype=np.int8),
        "item_due_days": due,
        "item_prisoners": prisoners,
        "item_at_talks": at_talks,
        "item_active": active,
    }


def _offer_value(s: Scenario, world: dict[str, np.ndarray], held: np.ndarray, worlds: int) -> np.ndarray:
    """What the offer is worth to each faction, in [0, 1] ``[W, F]`` (assumption: weights in
    :data:`ITEM_VALUE`)."""
    o = s.state.offer
    held_total = np.maximum(np.sum(held, axis=1, keepdims=True), 1.0)
    # Prisoners are valued with diminishing returns: the first releases are commanders.
    release_share = np.sqrt(np.minimum(world["prisoner_release_count"][:, None] / held_total, 1.0))
    home = np.array([[fc.home_district in o.withdrawal_districts for fc in s.factions.values()]], dtype=float)
    n_troops = max(len(s.state.troops_districts), 1)
    withdrawn_share = len(o.withdrawal_districts) / n_troops
    withdrawal_value = np.maximum(home, withdrawn_share * 0.5) * np.ones((worlds, 1))
    return (
        ITEM_VALUE[ItemKind.prisoner_release] * release_share * (held > 0)
        + ITEM_VALUE[ItemKind.troop_withdrawal] * withdrawal_value
        + ITEM_VALUE[ItemKind.amnesty] * float(o.amnesty)
        + ITEM_VALUE[ItemKind.compensation] * float(o.compensation)
        + ITEM_VALUE[ItemKind.shariah_governance] * float(o.shariah_governance)
    )


def build_params(s: Scenario, worlds: int, overrides: pd.DataFrame | None = None) -> Params:
    """Per-world parameter arrays for ``worlds`` worlds of scenario ``s``.

    Args:
        s: a validated scenario.
        worlds: number of worlds.
        overrides: optional table with one row per world whose columns are dotted scenario
            fields (``state.delivery_reliability``, ``mediators.haqqani.leverage_share``).

    Raises:
        ScenarioError: for an unknown column, a wrong row count or an out-of-range value.
    """
    values = _world_values(s, worlds, overrides)
    world = {_world_name(sf): values[sf.path].astype(float) for sf in _scalars(None)}
    world["momentum_decay"] = decay_factor(world["momentum_half_life_days"])
    world["pressure_decay"] = decay_factor(world["pressure_half_life_days"])
    world["start_phase"] = np.full(worlds, float(int(s.start_phase)))

    ids = {group: list(getattr(s, group)) for group in actor_groups()}

    def actors(group: str) -> dict[str, np.ndarray]:
        return {
            sf.name: (
                np.stack([values[sf.concrete(i)] for i in ids[group]], axis=1).astype(float)
                if ids[group]
                else np.zeros((worlds, 0))
            )
            for sf in _scalars(group)
        }

    faction, mediator, spoiler = actors("factions"), actors("mediators"), actors("spoilers")
    faction["offer_value"] = _offer_value(s, world, faction["prisoners_held_count"], worlds)
    return Params(
        worlds=worlds,
        faction_ids=ids["factions"],
        mediator_ids=ids["mediators"],
        spoiler_ids=ids["spoilers"],
        world=records(world),
        faction=records(faction),
        mediator=records(mediator),
        spoiler=records(spoiler),
        **_items(s, world, worlds),
    )
