"""Closed sets of the model: negotiation phases, ceasefire end causes, concession kinds.

Every closed set is an ``IntEnum`` so that its codes can live in NumPy arrays (world records keep
the phase and the collapse cause as float codes, see the constants at the end) and still print as
a word in tables and plots.
"""

from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    """Where a world's negotiation stands on a given day."""

    FIGHTING = 0
    """No talks and no ceasefire: the state coerces, the factions attack."""
    TALKS = 1
    """Talks are open (hosted by a mediator or direct); an offer is on the table."""
    CEASEFIRE = 2
    """A ceasefire declared by the TTP is in force, with or without a term."""


class StartPhase(IntEnum):
    """Phase a scenario opens in (scenario field ``start_phase``)."""

    fighting = Phase.FIGHTING
    talks = Phase.TALKS
    ceasefire = Phase.CEASEFIRE


class CollapseCause(IntEnum):
    """Why a world's first ceasefire ended (outcome column ``collapse_cause``).

    Attribution follows the party the seeds name: in Nov-Dec 2021 the TTP suspended the ceasefire
    "saying the state did not keep its commitments" (seed 003), so a TTP exit while promised
    concessions are overdue (a suspension, or a term it does not renew) counts as
    ``state_non_delivery``.
    """

    censored = 0
    """A ceasefire was still running at the horizon (duration is right-censored)."""
    no_ceasefire = 1
    """No ceasefire was reached within the horizon."""
    state_non_delivery = 2
    """The TTP leadership suspended the ceasefire, or declined to renew its term, while
    promised concessions were overdue."""
    faction_violation = 3
    """An umbrella faction broke the ceasefire, or the leadership suspended it with nothing
    overdue (dissent of its own members)."""
    spoiler_provocation = 4
    """The state ended it after attacks blamed on the TTP that spoilers had staged."""
    state_operation = 5
    """The state ended it with a military operation driven by TTP violence and domestic pressure."""
    term_expired = 6
    """The declared term ran out and one side did not renew it: the state, or the TTP with
    nothing overdue (non-renewal, its own cause)."""


class ItemKind(IntEnum):
    """Kinds of concession the state can promise (seed 000: the 2020 list of demands)."""

    prisoner_release = 0
    troop_withdrawal = 1
    amnesty = 2
    compensation = 3
    shariah_governance = 4


# Plain-number codes for the compiled rules (world records store phases and causes as floats).
FIGHTING = float(Phase.FIGHTING)
TALKS = float(Phase.TALKS)
CEASEFIRE = float(Phase.CEASEFIRE)
CAUSE = {c.name: float(c) for c in CollapseCause}
