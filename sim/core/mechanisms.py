"""The model's mechanisms, each declared once: its rules, parameters, literature, expected
directions and the switch that turns it off.

A mechanism is a causal argument of the literature the rules embody (DESIGN.md; Grimm et al.
2005 on pattern-oriented modelling: each must earn its place by changing a pattern). Its switch is
a yes/no field of the scenario's ``mechanisms:`` section (``mechanisms.spoilers: false`` in a file,
``mechanisms.spoilers=off`` on the command line); the compiled rules read it as the world
parameter ``on_<name>`` (1.0 on, 0.0 off), so a per-world parameter table can switch a mechanism
off in some worlds of one batch. What *off* means is stated with each mechanism (``off``).

Everything that lists mechanisms reads :data:`MECHANISMS`: the scenario schema (its switches),
``docs/model.md`` (the list of mechanisms), the mechanism tests (their expected directions) and
the ablation experiment (:mod:`sim.explore.ablation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Direction(Enum):
    """How an outcome moves when a mechanism is switched off (paired worlds, same seed)."""

    lower = "lower"
    higher = "higher"


@dataclass(frozen=True)
class Expectation:
    """An outcome a mechanism must move: switched off, ``outcome`` (a column of the outcome
    table) is ``direction`` in ``scenario``, world by world with common random numbers.

    Attributes:
        scenario: shipped scenario name. outcome: outcome column (``sim.core.registry``).
        direction: the outcome's move when the mechanism is off.
        among_reached: compare only worlds that reached a ceasefire in both runs.
        equals: compare the indicator ``outcome == equals`` (a collapse cause) instead.
        overrides: scenario fields set in both runs (dotted paths), to make the effect visible.
        why: the reasoning, in the model's terms.
    """

    scenario: str
    outcome: str
    direction: Direction
    why: str
    among_reached: bool = False
    equals: str | None = None
    overrides: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the model.

    Attributes:
        name: switch name (``mechanisms.<name>``; world parameter ``on_<name>``).
        title: one-line name. summary: what the rules do, in the model's terms.
        rules: the compiled rules that read the switch or embody the mechanism
            (``module::function`` under ``sim/core``).
        params: behavioural parameters (``behaviour.<name>``) that belong to it.
        literature: the argument's sources. off: what switching it off does.
        expects: outcomes it must move (:class:`Expectation`).
    """

    name: str
    title: str
    summary: str
    rules: tuple[str, ...]
    params: tuple[str, ...]
    literature: str
    off: str
    expects: tuple[Expectation, ...] = field(default=())

    @property
    def world_param(self) -> str:
        """Name of its switch among the world parameters the rules read."""
        return "on_" + self.name


LOWER, HIGHER = Direction.lower, Direction.higher

MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism(
        "commitment",
        "Commitment problem with anticipation",
        "The state weighs the strength the whole promised release would add to the TTP (released "
        "members outside a mediator's custody plus those still promised) and delivers less reliably "
        "the larger it is; the factions weigh the state's resulting incentive to renege and value "
        "the offer less; a stronger faction asks more.",
        (
            "actors/state.py::power_shift",
            "actors/state.py::reliability",
            "actors/faction.py::satisfaction",
            "actors/faction.py::acceptance",
        ),
        ("commitment_share", "released_strength_count", "released_hardline_share", "custody_release_per_day"),
        "Fearon (1995); Powell (2006); Walter (2002) on custody as a guarantee",
        "delivery at the scenario's reliability whatever the releases; offers valued at face value; "
        "demand fixed at the starting strength",
        (
            Expectation(
                "ceasefire_2021",
                "prisoners_released",
                HIGHER,
                "without the shift in power over 100 promised releases the state delivers more",
            ),
        ),
    ),
    Mechanism(
        "trust",
        "Trust learned from evidence",
        "Factions' trust in the state falls with overdue promises and coercion, rises with each "
        "delivery and recovers while a ceasefire holds with nothing overdue; the state's trust falls "
        "with every attack it blames on the TTP and recovers under a quiet ceasefire. Suspension, "
        "violation and renewal read trust, so a ceasefire's hazard depends on its history and age.",
        (
            "actors/faction.py::update_trust",
            "actors/state.py::judge_ceasefire",
            "table.py::umbrella_trust",
        ),
        (
            "trust_gain_per_delivery",
            "trust_erosion_per_overdue_day",
            "coercion_trust_cost_per_day",
            "trust_recovery_per_day",
            "state_trust_recovery_per_day",
            "blame_trust_cost",
        ),
        "Kydd (2005) on trust and reassurance; Walter (2002); seed 003 (Nov-Dec 2021)",
        "both sides' trust stays at its starting value",
        (
            Expectation(
                "ceasefire_2021",
                "collapse_cause",
                LOWER,
                "overdue releases no longer erode trust, so fewer suspensions over non-delivery",
                equals="state_non_delivery",
                overrides=(("ceasefire.term_days", 0),),
            ),
        ),
    ),
    Mechanism(
        "veto_players",
        "Veto players",
        "A deal needs the accepting factions to hold a quorum of the umbrella's fighters; a "
        "united-front demand makes every faction a veto player.",
        ("table.py::deal_reached",),
        ("quorum_share",),
        "Cunningham (2006); Tsebelis (2002); seed 000 (the 2020 united-front demand)",
        "one accepting umbrella faction makes the deal",
        (
            Expectation(
                "secret_talks_2020",
                "ceasefire_reached",
                HIGHER,
                "without veto players the first faction to accept makes the deal",
            ),
        ),
    ),
    Mechanism(
        "guarantor",
        "A guarantor that binds both sides",
        "Mediator pressure (leverage discounted by sympathy) lowers the factions' violations, "
        "suspensions and rejections and the state's hazard of ending a ceasefire or walking away; "
        "released prisoners in a mediator's custody do not add to the TTP's strength while there.",
        (
            "actors/mediator.py::mediation",
            "actors/state.py::ends_ceasefire",
            "actors/state.py::walks_away",
            "actors/faction.py::take_back_released",
        ),
        ("state_guarantee_share", "custody_release_per_day"),
        "Walter (2002); Bapat (2006) on weak, biased guarantors; seeds 001-003 (the Afghan Taliban)",
        "no mediator pressure on either side and no custody (hosting talks and brokering stay)",
        (
            Expectation(
                "kabul_2022",
                "ceasefire_days",
                LOWER,
                "without the Haqqanis' pressure on both sides the 2022 ceasefire ends sooner",
                among_reached=True,
            ),
        ),
    ),
    Mechanism(
        "spoilers",
        "Spoilers and outbidding",
        "Spoilers attack more the longer a ceasefire lasts, recruit hardliners who leave after "
        "concessions and under long ceasefires, and make the state doubt that the moderates can "
        "deliver: attacks it blames on the TTP and a share of all spoiler attacks cost its trust, "
        "raising its hazard of ending the ceasefire.",
        (
            "actors/spoiler.py::act",
            "actors/spoiler.py::recruit",
            "actors/faction.py::lose_hardliners",
            "actors/state.py::judge_ceasefire",
        ),
        (
            "spoiler_attack_per_kfighter_per_day",
            "outbidding_scale_days",
            "hardliner_pull_per_day",
            "concession_pull_share",
            "spoiler_doubt_share",
        ),
        "Stedman (1997); Kydd and Walter (2002); Bueno de Mesquita (2005); seeds 002, 003 (ISKP)",
        "spoilers neither attack nor recruit",
        (
            Expectation(
                "kabul_2022",
                "ceasefire_days",
                HIGHER,
                "without provocations and the doubt they sow the state ends fewer ceasefires",
                among_reached=True,
            ),
        ),
    ),
    Mechanism(
        "cohesion",
        "Cohesion: splits, reunification and inducements",
        "Loyalty drifts down under a ceasefire for hardline factions and recovers outside one; "
        "low-loyalty factions split, brokers bring splinters back, inducements pull moderate "
        "disloyal factions over to the state.",
        (
            "actors/faction.py::drift_loyalty",
            "actors/faction.py::cohesion",
            "actors/faction.py::defect_to_state",
        ),
        (
            "loyalty_strain_per_day",
            "loyalty_recovery_per_day",
            "split_threshold_share",
            "split_per_day",
            "reunify_per_day",
            "inducement_per_day",
        ),
        "Staniland (2014); Christia (2012); seeds 000 (2020 reunification), 003 (2012-2015 defections)",
        "loyalty fixed, no splits, reunifications or defections to the state",
        (
            Expectation(
                "inducements_2012",
                "defections_to_state",
                LOWER,
                "without cohesion dynamics no faction is induced to defect",
            ),
        ),
    ),
    Mechanism(
        "violence_cycle",
        "Regrouping and the spike after a collapse",
        "Bound factions regroup under a ceasefire, storing momentum that is released as a spike "
        "of attacks when it collapses; momentum decays with a half-life.",
        ("actors/faction.py::carry_momentum", "actors/faction.py::after_table"),
        ("regroup_per_day", "momentum_half_life_days"),
        "seeds 000, 004 (early 2021); Kalyvas (2006) on violence as a strategic resource",
        "no regrouping, no momentum",
        (
            Expectation(
                "ceasefire_2021",
                "ttp_attacks_per_month_after",
                LOWER,
                "without the momentum stored during the ceasefire the months after it are calmer",
            ),
        ),
    ),
    Mechanism(
        "costs",
        "Costs drive talks, on both sides",
        "The state seeks talks as domestic pressure and the cost of its operations rise; the "
        "factions' recent losses under coercion raise their willingness to accept an offer.",
        ("actors/state.py::seeks_talks", "actors/faction.py::feel_losses", "actors/faction.py::acceptance"),
        ("talks_open_per_day", "cost_acceptance_share"),
        "Zartman (2000) on the mutually hurting stalemate; seed 004 (talks 'owing to the cost of a "
        "major operation')",
        "talks open at the rate of the scenario's starting pressure and coercion; losses do not move "
        "the factions",
        (
            Expectation(
                "kabul_2022",
                "days_to_ceasefire",
                HIGHER,
                "the factions' losses under coercion no longer hasten their acceptance",
            ),
        ),
    ),
    Mechanism(
        "leadership_strikes",
        "Leadership strikes",
        "A faction's leader is killed at a hazard that grows with coercion (targeted killings) or on "
        "a day the scenario names; the strike shakes the faction's loyalty, cuts its momentum and may "
        "make it break a ceasefire in revenge.",
        ("actors/faction.py::leader_strike",),
        ("leader_strike_per_day", "strike_loyalty_share", "strike_break_share"),
        "Jordan (2009); Johnston (2012) on decapitation; seed 002 (Fazlullah 2018, Khorasani 8 Aug 2022)",
        "no leader is killed",
        (
            Expectation(
                "kabul_2022",
                "splits",
                LOWER,
                "without the loss of its leader Jamaat-ul-Ahrar's loyalty holds",
            ),
        ),
    ),
    Mechanism(
        "ceasefire_term",
        "A ceasefire's term and its renewal",
        "A ceasefire declared for a term ends unless both sides renew it: the TTP renews while its "
        "trust holds, the state while its own trust holds; non-renewal is recorded as its own cause "
        "(``term_expired``) unless promises are overdue (then ``state_non_delivery``, as the TTP said "
        "in December 2021).",
        ("table.py::ceasefire_end",),
        ("renewal_threshold_share",),
        "seeds 002 (2022: extended twice, then indefinitely), 003 (2021: a month, not renewed)",
        "every ceasefire is indefinite",
        (
            Expectation(
                "ceasefire_2021",
                "ceasefire_days",
                HIGHER,
                "without the one-month term the 2021 ceasefire lasts longer",
                among_reached=True,
            ),
        ),
    ),
)
"""Every mechanism of the model, in the order of the model description."""

NAMES: tuple[str, ...] = tuple(m.name for m in MECHANISMS)
"""Switch names, in order."""


def mechanism(name: str) -> Mechanism:
    """The mechanism called ``name``.

    Raises:
        KeyError: naming the known mechanisms.
    """
    for m in MECHANISMS:
        if m.name == name:
            return m
    raise KeyError(f"no mechanism {name!r}; known: {', '.join(NAMES)}")
