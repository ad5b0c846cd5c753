"""Per-world parameter arrays built from a scenario and optional per-world overrides.

Every numeric or yes/no scenario field becomes an array with one value per world, so that a
sampled design (each world with its own values) runs as one batch. World-level values are shaped
``[worlds, 1]`` and actor values ``[worlds, actors]``, so they broadcast against each other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.compiled import decay_factor
from sim.inputs.schema import (Behaviour, CeasefireConfig, FactionConfig, MediatorConfig, OfferConfig,
                     Scenario, ScenarioError, SpoilerConfig, StateConfig, check_value)
from sim.core.types import ItemKind

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

# Fields that shape the list of concession items; they are fixed for a whole batch.
STRUCTURAL = {"state.offer.release_tranche_count", "state.offer.amnesty",
              "state.offer.compensation", "state.offer.shariah_governance"}

_GROUPS = {
    "state": StateConfig,
    "state.offer": OfferConfig,
    "ceasefire": CeasefireConfig,
    "behaviour": Behaviour,
}
_ACTORS = {"factions": FactionConfig, "mediators": MediatorConfig, "spoilers": SpoilerConfig}


def _scalar_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls)
            if f.type in ("int", "float", "bool", int, float, bool)]


def tunable_paths(s: Scenario) -> dict[str, tuple[dataclasses.Field, Any]]:
    """Every field a per-world parameter column may set, with its declaration and scenario value."""
    out: dict[str, tuple[dataclasses.Field, Any]] = {}
    for prefix, cls in _GROUPS.items():
        obj: Any = s
        for part in prefix.split("."):
            obj = getattr(obj, part)
        for f in _scalar_fields(cls):
            out[f"{prefix}.{f.name}"] = (f, getattr(obj, f.name))
    for group, cls in _ACTORS.items():
        for actor_id, actor in getattr(s, group).items():
            for f in _scalar_fields(cls):
                out[f"{group}.{actor_id}.{f.name}"] = (f, getattr(actor, f.name))
    return out


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

    def slice(self, lo: int, hi: int) -> "Params":
        """Parameters of worlds ``lo .. hi - 1``."""
        return dataclasses.replace(
            self, worlds=hi - lo, world=self.world[lo:hi], faction=self.faction[lo:hi],
            mediator=self.mediator[lo:hi], spoiler=self.spoiler[lo:hi],
            item_due_days=self.item_due_days[lo:hi], item_prisoners=self.item_prisoners[lo:hi],
            item_at_talks=self.item_at_talks[lo:hi], item_active=self.item_active[lo:hi])


def _column_values(df: pd.DataFrame, path: str, f: dataclasses.Field) -> np.ndarray:
    col = df[path].to_numpy()
    for row, value in enumerate(col):
        v = value.item() if hasattr(value, "item") else value
        if f.type in ("bool", bool):
            if not isinstance(v, (bool, np.bool_)) and v not in (0, 1):
                raise ScenarioError(f"params[{path!r}] row {row} = {v!r} is not allowed: "
                                    "expected true or false")
            continue
        check_value(f"params[{path!r}] row {row}", f, v)
    return col


def _check_cross_fields(s: Scenario, values: dict[str, np.ndarray], worlds: int) -> None:
    """The scenario's cross-field rules, per world (see :func:`sim.inputs.schema.validate`)."""
    held = sum(values[f"factions.{i}.prisoners_held_count"] for i in s.factions)
    release = values["state.offer.prisoner_release_count"]
    bad = np.flatnonzero(release > held)
    if bad.size:
        w = int(bad[0])
        raise ScenarioError(f"params row {w}: state.offer.prisoner_release_count = {release[w]:g} is "
                            f"not allowed: that world's factions have only {held[w]:g} prisoners held")
    inside = np.zeros(worlds, dtype=bool)
    for i in s.factions:
        inside |= values[f"factions.{i}.in_umbrella"].astype(bool)
    if not inside.all():
        w = int(np.flatnonzero(~inside)[0])
        raise ScenarioError(f"params row {w}: no faction has in_umbrella = true, which is not "
                            "allowed: at least one faction must start inside the umbrella")


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
    paths = tunable_paths(s)
    values: dict[str, np.ndarray] = {}
    for path, (f, v) in paths.items():
        values[path] = np.full(worlds, v, dtype=bool if f.type in ("bool", bool) else float)
    if overrides is not None and len(overrides.columns):
        if len(overrides) != worlds:
            raise ScenarioError(f"params has {len(overrides)} rows, which is not allowed: expected "
                                f"one row per world ({worlds})")
        for path in overrides.columns:
            if path not in paths:
                near = sorted(p for p in paths if p.split(".")[-1] == str(path).split(".")[-1])
                hint = f"; did you mean one of {near[:5]}" if near else ""
                raise ScenarioError(f"params column {path!r} is not a tunable scenario field"
                                    f"{hint} (numeric and yes/no fields of state, state.offer, "
                                    "ceasefire, behaviour, factions.<id>, mediators.<id>, "
                                    "spoilers.<id>)")
            if path in STRUCTURAL:
                raise ScenarioError(f"params column {path!r} cannot vary between worlds: it sets "
                                    "how many concession items exist; run one batch per value")
            f = paths[path][0]
            col = _column_values(overrides, path, f)
            values[path] = col.astype(bool if f.type in ("bool", bool) else float)

    _check_cross_fields(s, values, worlds)

    def group(prefix: str, cls: type) -> dict[str, np.ndarray]:
        return {f.name: values[f"{prefix}.{f.name}"].astype(float) for f in _scalar_fields(cls)}

    def actors(kind: str, cls: type, ids: list[str]) -> dict[str, np.ndarray]:
        return {f.name: (np.stack([values[f"{kind}.{i}.{f.name}"] for i in ids], axis=1).astype(float)
                         if ids else np.zeros((worlds, 0)))
                for f in _scalar_fields(cls)}

    world = {}
    for prefix, cls in _GROUPS.items():
        world.update(group(prefix, cls))
    world["momentum_decay"] = decay_factor(world["momentum_half_life_days"])
    world["pressure_decay"] = decay_factor(world["pressure_half_life_days"])
    world["start_phase"] = np.full(worlds, float(int(s.start_phase)))

    fids = list(s.factions)
    mids = list(s.mediators)
    sids = list(s.spoilers)
    faction = actors("factions", FactionConfig, fids)
    mediator = actors("mediators", MediatorConfig, mids)
    spoiler = actors("spoilers", SpoilerConfig, sids)

    # Concession items: prisoner tranches, then one item per district, then the rest.
    o = s.state.offer
    kinds = [ItemKind.prisoner_release] * o.release_tranche_count
    kinds += [ItemKind.troop_withdrawal] * len(o.withdrawal_districts)
    kinds += [k for k, on in ((ItemKind.amnesty, o.amnesty), (ItemKind.compensation, o.compensation),
                              (ItemKind.shariah_governance, o.shariah_governance)) if on]
    item_kind = np.array([int(k) for k in kinds], dtype=np.int8)
    n_tranches = o.release_tranche_count
    tranche = np.arange(n_tranches, dtype=float)
    due = np.empty((worlds, len(kinds)))
    due[:, :n_tranches] = (world["first_release_due_days"][:, None]
                           + tranche[None, :] * world["release_interval_days"][:, None])
    due[:, n_tranches:] = world["other_items_due_days"][:, None]
    prisoners = np.zeros((worlds, len(kinds)))
    prisoners[:, :n_tranches] = world["prisoner_release_count"][:, None] / n_tranches
    at_talks = np.zeros((worlds, len(kinds)))
    at_talks[:, :n_tranches] = world["release_before_ceasefire"][:, None]
    active = np.ones((worlds, len(kinds)))
    active[:, :n_tranches] = prisoners[:, :n_tranches] > 0

    # What the offer is worth to each faction, in [0, 1] (assumption: weights in ITEM_VALUE).
    held = faction["prisoners_held_count"]
    held_total = np.maximum(np.sum(held, axis=1, keepdims=True), 1.0)
    # Prisoners are valued with diminishing returns: the first releases are commanders.
    release_share = np.sqrt(np.minimum(world["prisoner_release_count"][:, None] / held_total, 1.0))
    home = np.array([[fc.home_district in o.withdrawal_districts for fc in s.factions.values()]],
                    dtype=float)
    n_troops = max(len(s.state.troops_districts), 1)
    withdrawn_share = len(o.withdrawal_districts) / n_troops
    withdrawal_value = np.maximum(home, withdrawn_share * 0.5) * np.ones((worlds, 1))
    value = (ITEM_VALUE[ItemKind.prisoner_release] * release_share * (held > 0)
             + ITEM_VALUE[ItemKind.troop_withdrawal] * withdrawal_value
             + ITEM_VALUE[ItemKind.amnesty] * float(o.amnesty)
             + ITEM_VALUE[ItemKind.compensation] * float(o.compensation)
             + ITEM_VALUE[ItemKind.shariah_governance] * float(o.shariah_governance))
    faction["offer_value"] = value

    return Params(worlds=worlds, faction_ids=fids, mediator_ids=mids, spoiler_ids=sids,
                  world=records(world), faction=records(faction), mediator=records(mediator),
                  spoiler=records(spoiler), item_kind=item_kind, item_due_days=due,
                  item_prisoners=prisoners, item_at_talks=at_talks, item_active=active)
