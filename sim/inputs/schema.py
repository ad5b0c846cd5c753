"""Typed schema of a scenario: what a student edits, with units, ranges and meaning.

Each number is declared once with :func:`param`: its default, its allowed range, its unit and
what it means. Validation (:func:`validate`), the parameter reference in ``docs/model.md`` and the
per-world parameter columns all read these declarations (through the walk of
:mod:`sim.inputs.fields`), so a range is written in one place. The rules that tie fields together
(:func:`check_world_rules`, and the rest of :func:`validate`) are written here once too, for a
scenario and for each world of a per-world parameter table.

The defaults here are the only behavioural defaults: ``conf/behaviour.yaml`` holds just the
values the calibration sets on top of them.

Field names carry their unit: ``_count`` (people, prisoners, attacks), ``_days``, ``_share`` (a
number in [0, 1]), ``_per_day`` (a daily rate or hazard).
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core.mechanisms import MECHANISMS
from sim.core.types import StartPhase


class ScenarioError(ValueError):
    """A scenario value is invalid. The message names the field path, the value and what is allowed."""


def param(
    default: Any,
    lo: float | None = None,
    hi: float | None = None,
    doc: str = "",
    integer: bool = False,
    per_world: bool = True,
) -> Any:
    """Declare a numeric scenario field with its allowed range and meaning.

    Args:
        default: value when the scenario does not set it.
        lo: smallest allowed value (inclusive), or None.
        hi: largest allowed value (inclusive), or None.
        doc: one-line meaning, shown in errors and in the parameter reference.
        integer: whether only whole numbers are allowed.
        per_world: whether a per-world parameter table may vary it (False for the fields that
            shape the list of concession items, fixed for a whole batch).
    """
    return field(
        default=default, metadata={"lo": lo, "hi": hi, "doc": doc, "integer": integer, "per_world": per_world}
    )


def flag(default: bool, doc: str, per_world: bool = True) -> Any:
    """Declare a yes/no scenario field (``per_world`` as in :func:`param`)."""
    return field(default=default, metadata={"doc": doc, "per_world": per_world})


def text(default: Any, doc: str) -> Any:
    """Declare a text or list-of-text scenario field."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------


@dataclass
class OfferConfig:
    """The package the state puts on the table (seed 000: the 2020 list; seed 001/002: 2022)."""

    prisoner_release_count: int = param(
        0, 0, 100_000, "prisoners the state promises to release", integer=True
    )
    release_tranche_count: int = param(
        1, 1, 12, "promised releases are delivered in this many equal tranches", integer=True, per_world=False
    )
    first_release_due_days: int = param(
        7, 0, 365, "days from the promise to the first tranche's due date", integer=True
    )
    release_interval_days: int = param(14, 1, 365, "days between tranche due dates", integer=True)
    release_before_ceasefire: bool = flag(
        False,
        "prisoners are promised when talks open, as a "
        "confidence-building step, instead of with the ceasefire",
    )
    withdrawal_districts: list[str] = text(
        [], "districts the state promises to withdraw troops from (each must be in state.troops_districts)"
    )
    amnesty: bool = flag(False, "legal cases against TTP members are revoked", per_world=False)
    compensation: bool = flag(
        False, "compensation for dead and wounded fighters and handed-over weapons", per_world=False
    )
    shariah_governance: bool = flag(False, "local Shariah governance in vacated districts", per_world=False)
    other_items_due_days: int = param(
        60,
        0,
        730,
        "days from the deal to the due date of withdrawal, amnesty, compensation and Shariah items",
        integer=True,
    )


@dataclass
class StateConfig:
    """The Pakistani state: prisons, troops, coercion, domestic pressure and its offer."""

    delivery_reliability: float = param(
        0.6, 0.0, 1.0, "share of promised concessions delivered on their due date"
    )
    coercion_share: float = param(
        0.5, 0.0, 1.0, "initial level of coercion (airstrikes, targeted killings, operations), 1 = all-out"
    )
    domestic_pressure_share: float = param(0.4, 0.0, 1.0, "initial domestic pressure to act against the TTP")
    trust_share: float = param(0.3, 0.0, 1.0, "initial trust of the state in the TTP's word")
    insists_united_front: bool = flag(
        False,
        "the state negotiates only with a united TTP, so every faction is a veto player (seed 000, 2020)",
    )
    uses_inducements: bool = flag(
        False,
        "the state tries to induce moderate factions to defect with money and politics (seed 003, 2012-2015)",
    )
    troops_districts: list[str] = text([], "former tribal districts where troops are deployed")
    offer: OfferConfig = field(default_factory=OfferConfig, metadata={"doc": "the concessions on the table"})


@dataclass
class FactionConfig:
    """One TTP faction, keyed by id under ``factions``."""

    fighters_count: int = param(1000, 1, 100_000, "active fighters", integer=True)
    hardline_share: float = param(0.5, 0.0, 1.0, "share of fighters who reject any deal")
    loyalty_share: float = param(0.7, 0.0, 1.0, "loyalty to the umbrella leadership")
    trust_share: float = param(0.3, 0.0, 1.0, "initial trust in the state's promises")
    prisoners_held_count: int = param(0, 0, 100_000, "faction members held by the state", integer=True)
    home_district: str = text("", "district the faction is based in")
    in_umbrella: bool = flag(True, "the faction is inside the TTP umbrella at the start")
    leader_strike_day: int = param(
        -1, -1, 36_500, "day index on which the faction's leader is killed, -1 = none", integer=True
    )


@dataclass
class MediatorConfig:
    """A mediator or broker, keyed by id under ``mediators``."""

    present: bool = flag(True, "the mediator takes part (set false to drop it)")
    leverage_share: float = param(0.3, 0.0, 1.0, "how far its pressure can move the TTP")
    sympathy_share: float = param(
        0.5, 0.0, 1.0, "its sympathy for the TTP, which discounts its pressure (limited guarantor)"
    )
    hosts_talks: bool = flag(True, "hosts talks (talks open more readily with a host)")
    takes_custody: bool = flag(False, "takes released prisoners into its custody")
    brokers_reunification: bool = flag(
        False, "brokers the return of splinter factions to the umbrella (al-Qaeda, seed 000)"
    )


@dataclass
class SpoilerConfig:
    """A spoiler group, keyed by id under ``spoilers``."""

    fighters_count: int = param(1000, 0, 100_000, "active fighters", integer=True)
    outbidding_share: float = param(
        0.3, 0.0, 1.0, "how strongly its attacks grow with the age of a ceasefire (outbidding)"
    )
    provocation_share: float = param(0.2, 0.0, 1.0, "share of its attacks the state blames on the TTP")
    recruitment_share: float = param(1.0, 0.0, 1.0, "relative pull on defecting TTP hardliners")


@dataclass
class CeasefireConfig:
    """Terms of a ceasefire the TTP declares."""

    term_days: int = param(0, 0, 3650, "declared term of a new ceasefire, 0 = indefinite", integer=True)
    extension_days: int = param(0, 0, 3650, "length of each renewal, 0 = renewed indefinitely", integer=True)


@dataclass
class Behaviour:
    """Behavioural parameters shared by every episode; the calibration fits these.

    A scenario may override any of them under ``behaviour:`` (with a source), but the shipped
    scenarios use the shared set so that one parameter set explains all episodes.
    """

    # violence
    ttp_attack_per_kfighter_per_day: float = param(
        0.12, 0.0, 5.0, "TTP attacks per day per 1,000 fighters while fighting"
    )
    ceasefire_attack_share: float = param(
        0.35,
        0.0,
        1.0,
        "attack rate under a ceasefire of a half-hardline, half-loyal bound faction without "
        "mediator pressure, as a share of its fighting rate",
    )
    casualties_per_attack_count: float = param(
        2.4, 0.0, 50.0, "killed and injured per attack (seed 002: 33 attacks, 34 killed, 46 injured)"
    )
    momentum_half_life_days: float = param(45.0, 1.0, 3650.0, "half-life of attack momentum")
    regroup_per_day: float = param(
        0.004, 0.0, 0.1, "momentum stored per ceasefire day, released as a spike when it collapses"
    )
    spoiler_attack_per_kfighter_per_day: float = param(
        0.08, 0.0, 5.0, "spoiler attacks per day per 1,000 fighters with no ceasefire"
    )
    outbidding_scale_days: float = param(
        90.0, 1.0, 3650.0, "ceasefire age over which outbidding reaches its full strength"
    )
    # coercion and pressure
    coercion_kill_per_day: float = param(
        0.0006, 0.0, 0.05, "share of fighters killed per day at full coercion"
    )
    coercion_capture_per_day: float = param(
        0.0003, 0.0, 0.05, "share of fighters captured per day at full coercion"
    )
    ceasefire_coercion_share: float = param(
        0.15,
        0.0,
        1.0,
        "coercion kept up under a ceasefire, "
        "as a share of its target (seed 002: airstrikes, "
        "Aug 2022 killing)",
    )
    coercion_adjust_per_day: float = param(0.05, 0.0, 1.0, "daily step of coercion toward its target")
    coercion_suppression_share: float = param(0.4, 0.0, 1.0, "attack rate removed at full coercion")
    pressure_per_casualty: float = param(0.004, 0.0, 0.5, "domestic pressure added per casualty")
    pressure_half_life_days: float = param(60.0, 1.0, 3650.0, "half-life of domestic pressure")
    escalation_share: float = param(0.3, 0.0, 1.0, "jump in coercion when talks or a ceasefire collapse")
    # talks
    talks_open_per_day: float = param(
        0.02, 0.0, 1.0, "hazard of opening talks at full pressure and full cost of operations"
    )
    no_host_talks_share: float = param(
        0.3, 0.0, 1.0, "talks opening hazard without a hosting mediator, as a share"
    )
    talks_patience_days: float = param(
        120.0, 1.0, 3650.0, "days of stalled talks before the state starts walking away"
    )
    walkaway_per_day: float = param(
        0.02, 0.0, 1.0, "hazard of walking away from talks per patience span overdue"
    )
    accept_per_day: float = param(0.06, 0.0, 1.0, "daily chance a fully satisfied faction accepts the offer")
    demand_share: float = param(
        0.2, 0.01, 5.0, "offer value (0-1) that fully satisfies a faction at its starting strength"
    )
    hardline_rejection_share: float = param(
        0.5, 0.0, 1.0, "share of willingness to accept lost per unit of hardline share"
    )
    reconsider_per_day: float = param(
        0.02, 0.0, 1.0, "daily chance an accepting faction withdraws its acceptance when unsatisfied"
    )
    quorum_share: float = param(
        0.6, 0.0, 1.0, "fighter-weighted share of umbrella factions that must accept for a deal"
    )
    # delivery and trust
    commitment_share: float = param(
        1.0,
        0.0,
        10.0,
        "drop in delivery reliability per unit of "
        "relative strength the TTP gains from releases (commitment "
        "problem)",
    )
    late_delivery_per_day: float = param(
        0.02, 0.0, 1.0, "daily chance an overdue item is delivered, scaled by reliability"
    )
    trust_gain_per_delivery: float = param(0.08, 0.0, 1.0, "trust gained per delivered item")
    trust_erosion_per_overdue_day: float = param(0.004, 0.0, 1.0, "trust lost per overdue item per day")
    coercion_trust_cost_per_day: float = param(0.002, 0.0, 1.0, "faction trust lost per day at full coercion")
    suspend_threshold_share: float = param(
        0.25, 0.0, 1.0, "fighter-weighted trust below which the TTP leadership may suspend a ceasefire"
    )
    suspend_per_day: float = param(0.05, 0.0, 1.0, "hazard of suspension at zero trust")
    violation_per_day: float = param(
        0.002, 0.0, 1.0, "hazard that a fully hardline, distrustful faction breaks a ceasefire"
    )
    trust_recovery_per_day: float = param(
        0.003,
        0.0,
        1.0,
        "share of the distance to full trust a faction regains per ceasefire day with nothing overdue",
    )
    renewal_threshold_share: float = param(
        0.2,
        0.0,
        1.0,
        "fighter-weighted trust above which "
        "a ceasefire term is surely renewed; below it the "
        "chance falls in proportion",
    )
    # the state's side of a ceasefire
    state_trust_recovery_per_day: float = param(
        0.002, 0.0, 1.0, "daily recovery of the state's trust under a ceasefire"
    )
    blame_trust_cost: float = param(0.01, 0.0, 1.0, "state trust lost per attack blamed on the TTP")
    state_end_per_day: float = param(
        0.01, 0.0, 1.0, "hazard the state ends a ceasefire at full pressure and no trust"
    )
    state_guarantee_share: float = param(
        0.5,
        0.0,
        1.0,
        "share of the mediators' pressure that holds the state back from ending a ceasefire or "
        "walking away (a guarantor binds both sides)",
    )
    spoiler_doubt_share: float = param(
        0.3,
        0.0,
        1.0,
        "state trust lost per spoiler attack not blamed on the TTP, as a share of the cost of a "
        "blamed one (doubt that the moderates can deliver)",
    )
    cost_acceptance_share: float = param(
        1.0, 0.0, 5.0, "rise in a faction's willingness to accept per unit of recent losses under coercion"
    )
    # cohesion
    loyalty_strain_per_day: float = param(
        0.0015, 0.0, 1.0, "loyalty lost per ceasefire day per unit of hardline share"
    )
    loyalty_recovery_per_day: float = param(
        0.001, 0.0, 1.0, "share of lost loyalty regained per day outside a ceasefire"
    )
    split_threshold_share: float = param(
        0.35, 0.0, 1.0, "loyalty below which a faction may split from the umbrella"
    )
    split_per_day: float = param(0.01, 0.0, 1.0, "hazard of splitting below the threshold")
    reunify_per_day: float = param(0.02, 0.0, 1.0, "hazard of reunification at full broker leverage")
    inducement_per_day: float = param(
        0.002, 0.0, 1.0, "hazard a moderate, disloyal faction defects to the state under inducements"
    )
    hardliner_pull_per_day: float = param(
        0.0004,
        0.0,
        0.1,
        "share of hardliners defecting to spoilers per day under a ceasefire of full outbidding age",
    )
    concession_pull_share: float = param(
        0.02, 0.0, 1.0, "share of hardliners defecting to spoilers per delivered concession item"
    )
    # prisoners
    custody_release_per_day: float = param(
        0.01, 0.0, 1.0, "daily share of prisoners in a mediator's custody who rejoin their faction"
    )
    released_hardline_share: float = param(0.7, 0.0, 1.0, "hardline share among released prisoners")
    released_strength_count: float = param(
        5.0,
        1.0,
        50.0,
        "fighters' worth of strength one released prisoner adds in the state's eyes (the releases "
        "are commanders)",
    )
    # leadership strikes
    leader_strike_per_day: float = param(
        0.0005, 0.0, 0.1, "hazard a faction's leader is killed per day at full coercion"
    )
    strike_loyalty_share: float = param(0.2, 0.0, 1.0, "loyalty a faction loses when its leader is killed")
    strike_break_share: float = param(
        0.3, 0.0, 1.0, "chance a bound faction breaks the ceasefire when its leader is killed"
    )


Mechanisms = dataclasses.make_dataclass(
    "Mechanisms",
    [(m.name, bool, flag(True, f"{m.title} (off: {m.off})")) for m in MECHANISMS],
)
Mechanisms.__doc__ = """Switches of the model's mechanisms (:mod:`sim.core.mechanisms`): ``false`` (or ``off``
on the command line) turns one off."""


@dataclass
class Scenario:
    """One episode or counterfactual: actors, offer, terms and where each value came from."""

    name: str = text("", "title of the scenario")
    description: str = text("", "what the scenario represents")
    start: str = text("2022-01-01", "calendar date of day 0 (YYYY-MM-DD)")
    start_phase: StartPhase = field(
        default=StartPhase.talks, metadata={"doc": "phase on day 0: fighting, talks or ceasefire"}
    )
    state: StateConfig = field(default_factory=StateConfig, metadata={"doc": "the state"})
    factions: dict[str, FactionConfig] = field(
        default_factory=dict, metadata={"doc": "TTP factions keyed by id"}
    )
    mediators: dict[str, MediatorConfig] = field(
        default_factory=dict, metadata={"doc": "mediators keyed by id"}
    )
    spoilers: dict[str, SpoilerConfig] = field(default_factory=dict, metadata={"doc": "spoilers keyed by id"})
    ceasefire: CeasefireConfig = field(default_factory=CeasefireConfig, metadata={"doc": "ceasefire terms"})
    behaviour: Behaviour = field(default_factory=Behaviour, metadata={"doc": "shared behavioural parameters"})
    mechanisms: Mechanisms = field(  # type: ignore[valid-type]
        default_factory=Mechanisms, metadata={"doc": "switches of the model's mechanisms (all on by default)"}
    )
    sources: dict[str, str] = field(default_factory=dict, metadata={"doc": "dotted field path -> provenance"})
    observed: dict[str, Any] = field(
        default_factory=dict, metadata={"doc": "what the seeds report, for validation"}
    )

    def __post_init__(self) -> None:
        validate(self)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: longest actor or district id, and longest scenario name
ID_MAX_CHARS = 64
NAME_MAX_CHARS = 200
#: the one date format of ``start`` (ASCII digits only)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)

#: district ids a scenario may name (troops_districts, withdrawal_districts, home_district): the
#: seven former tribal districts (FATA, merged into Khyber Pakhtunkhwa in 2018) and the districts
#: of Khyber Pakhtunkhwa where the TTP and its predecessors fought (general knowledge; the seeds
#: name Swat, Malakand, Bajaur, Mohmand and North and South Waziristan)
DISTRICTS = (
    "bajaur", "mohmand", "khyber", "kurram", "orakzai", "north_waziristan", "south_waziristan",
    "swat", "malakand", "buner", "shangla", "lower_dir", "upper_dir", "chitral", "peshawar",
    "kohat", "hangu", "karak", "bannu", "lakki_marwat", "tank", "dera_ismail_khan", "charsadda",
    "mardan", "nowshera", "swabi",
)  # fmt: skip


def shown_value(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (a 5,000-digit number or a
    long text is named, not copied)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}... ({len(text):,} characters)"


def check_id(where: str, key: Any) -> None:
    """Refuse an actor id that is not lower-case ASCII letters, digits and underscores starting
    with a letter, at most :data:`ID_MAX_CHARS` long (``where`` is the group's path)."""
    if not isinstance(key, str) or not _ID.match(key) or not key.isascii() or len(key) > ID_MAX_CHARS:
        raise ScenarioError(
            f"{where}.{shown_value(key).strip(chr(39))} is not a valid id: use lower-case letters, "
            f"digits and underscores, starting with a letter, at most {ID_MAX_CHARS} characters"
        )


def check_district(path: str, value: Any) -> None:
    """Refuse a district id that is not one of :data:`DISTRICTS` (with the closest one)."""
    if value in DISTRICTS:
        return

    close = difflib.get_close_matches(str(value).lower().replace("-", "_").replace(" ", "_"), DISTRICTS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(
        f"{path} = {shown_value(value)} is not allowed{hint}: expected a district id, one of "
        f"{', '.join(DISTRICTS)}"
    )


def allowed(f: dataclasses.Field) -> str:
    """Human-readable allowed range of a declared field."""
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    kind = "a whole number" if f.metadata.get("integer") else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {lo:,g} to {hi:,g}"
    if lo is not None:
        return f"{kind} of at least {lo:,g}"
    if hi is not None:
        return f"{kind} of at most {hi:,g}"
    return kind


def check_value(path: str, f: dataclasses.Field, value: Any) -> None:
    """Raise ScenarioError unless ``value`` fits the declared range of field ``f``."""
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if lo is None and hi is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and isinstance(value, float) and not np.isfinite(value):  # NaN, inf
        ok = False
    if ok and f.metadata.get("integer") and isinstance(value, float) and not value.is_integer():
        ok = False
    if ok and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        ok = False
    if not ok:
        raise ScenarioError(
            f"{path} = {shown_value(value)} is not allowed: expected {allowed(f)} "
            f"({f.metadata.get('doc', '')})"
        )


def _walk(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _walk(value, path + ".")
        elif isinstance(value, dict) and f.name in ("factions", "mediators", "spoilers"):
            for key, actor in value.items():
                check_id(path, key)
                _walk(actor, f"{path}.{key}.")
        else:
            check_value(path, f, value)


def validate(s: Scenario) -> None:
    """Check every declared range and the cross-field rules of a scenario.

    Raises:
        ScenarioError: naming the field path, the bad value and what is allowed.
    """
    _walk(s, "")
    if not s.factions:
        raise ScenarioError("factions = {} is not allowed: a scenario needs at least one faction")
    try:
        if not _DATE.match(str(s.start)):
            raise ValueError
        datetime.date.fromisoformat(str(s.start))
    except ValueError:
        raise ScenarioError(
            f"start = {shown_value(s.start)} is not allowed: expected a date YYYY-MM-DD (e.g. 2022-05-09)"
        ) from None
    if len(s.name) > NAME_MAX_CHARS:
        raise ScenarioError(
            f"name = {shown_value(s.name)} is not allowed: expected a title of at most {NAME_MAX_CHARS} "
            "characters (the description holds the rest)"
        )
    _check_districts_and_ids(s)
    troops = set(s.state.troops_districts)
    for d in s.state.offer.withdrawal_districts:
        if d not in troops:
            raise ScenarioError(
                f"state.offer.withdrawal_districts contains {d!r}, which is not allowed: each "
                f"district must be one of state.troops_districts {sorted(troops)}"
            )
    seen: set[str] = set()
    for d in s.state.offer.withdrawal_districts:
        if d in seen:
            raise ScenarioError(
                f"state.offer.withdrawal_districts lists {d!r} twice, which is not "
                "allowed: each district at most once"
            )
        seen.add(d)
    check_world_rules(s)


def _check_districts_and_ids(s: Scenario) -> None:
    """Known district ids, each listed once; one id per actor across the actor groups."""
    seen: set[str] = set()
    for d in s.state.troops_districts:
        check_district("state.troops_districts", d)
        if d in seen:
            raise ScenarioError(
                f"state.troops_districts lists {d!r} twice, which is not allowed: each district at most once"
            )
        seen.add(d)
    for d in s.state.offer.withdrawal_districts:
        check_district("state.offer.withdrawal_districts", d)
    for fid, fc in s.factions.items():
        if fc.home_district:
            check_district(f"factions.{fid}.home_district", fc.home_district)
    owner: dict[str, str] = {}
    for group in ("factions", "mediators", "spoilers"):
        for actor_id in getattr(s, group):
            if actor_id in owner:
                raise ScenarioError(
                    f"{group}.{actor_id} is not allowed: the id {actor_id!r} is already used in "
                    f"{owner[actor_id]}; every actor needs its own id (outputs and parameter "
                    "columns name actors by id)"
                )
            owner[actor_id] = group


def _whole_text(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def check_world_rules(s: Scenario, values: Mapping[str, np.ndarray] | None = None) -> None:
    """The cross-field rules that values varied per world can break, for each world.

    A scenario must keep at least one faction inside the umbrella, and the state cannot promise
    to release more prisoners than the factions have held.

    Args:
        s: the scenario (its faction ids, and its values of fields ``values`` does not give).
        values: per-world arrays keyed by concrete dotted path (``factions.<id>.in_umbrella``),
            from a per-world parameter table; None checks the scenario's own values.

    Raises:
        ScenarioError: naming the field, the value, what is allowed, and for a parameter table
            the row (``params row 3: ...``).
    """
    given = values or {}
    own = {"state.offer.prisoner_release_count": s.state.offer.prisoner_release_count}
    for i, fc in s.factions.items():
        own[f"factions.{i}.prisoners_held_count"] = fc.prisoners_held_count
        own[f"factions.{i}.in_umbrella"] = fc.in_umbrella

    def get(path: str) -> np.ndarray:
        return np.atleast_1d(np.asarray(given[path] if path in given else own[path], dtype=float))

    def where(w: int) -> str:
        return "" if values is None else f"params row {w}: "

    inside = sum(get(f"factions.{i}.in_umbrella") > 0 for i in s.factions)
    outside = np.flatnonzero(np.atleast_1d(inside) == 0)
    if outside.size:
        w = int(outside[0])
        raise ScenarioError(
            f"{where(w)}factions: no faction has in_umbrella = true, which is not "
            "allowed: at least one faction must start inside the umbrella"
        )
    held = sum(get(f"factions.{i}.prisoners_held_count") for i in s.factions)
    release = get("state.offer.prisoner_release_count")
    tranches = s.state.offer.release_tranche_count
    few = np.flatnonzero((release > 0) & (release < tranches))
    if few.size:
        w = int(few[0])
        raise ScenarioError(
            f"{where(w)}state.offer.release_tranche_count = {tranches} is not allowed: the state "
            f"promises only {_whole_text(release[w])} prisoners (state.offer.prisoner_release_count), "
            "so at most that many tranches (each tranche releases at least one prisoner)"
        )
    release, held = np.broadcast_arrays(release, held)
    over = np.flatnonzero(release > held)
    if over.size:
        w = int(over[0])
        raise ScenarioError(
            f"{where(w)}state.offer.prisoner_release_count = {_whole_text(release[w])} is not "
            f"allowed: the state holds only {_whole_text(held[w])} prisoners (sum of "
            "factions.*.prisoners_held_count)"
        )
