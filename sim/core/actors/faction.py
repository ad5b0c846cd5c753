"""TTP factions: fighters, hardliners, loyalty to the umbrella, trust in the state.

A faction takes back released members, loses fighters to coercion, attacks, weighs the offer on
the table, keeps or breaks a ceasefire, loses hardliners to spoilers, and may split from the
umbrella, rejoin it, or defect to the state.

The rules are compiled functions of one faction's record (``s``, a row of the ``[worlds,
factions]`` array of :data:`DTYPE`) and its parameters (``p`` faction values, ``q`` world values).
The Mesa :class:`Faction` agent calls :func:`act` for itself; the kernel calls the same
:func:`act` for every faction of every world.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.core.actors.spoiler import outbidding_ramp
from sim.core.compiled import clip01, happens, poisson_count, rule, share_of
from sim.core.types import CEASEFIRE, TALKS

DTYPE = np.dtype(
    [
        ("fighters", "f8"),  # active fighters, count
        ("hardliners", "f8"),  # hardline fighters among them, count
        ("held", "f8"),  # members in the state's prisons, count
        ("custody", "f8"),  # released members in a mediator's custody, count
        ("killed", "f8"),  # killed so far, count
        ("to_spoilers", "f8"),  # hardliners lost to spoilers so far, count
        ("released", "f8"),  # members released by the state so far, count
        ("loyalty", "f8"),  # loyalty to the umbrella leadership, share
        ("trust", "f8"),  # trust in the state's promises, share
        ("momentum", "f8"),  # attack momentum (multiplies the base rate by 1 + momentum)
        ("regroup", "f8"),  # momentum stored while regrouping under a ceasefire
        ("hurt", "f8"),  # recent losses under coercion: coercion suffered, averaged with a half-life, share
        ("strikes", "f8"),  # leaders killed so far, count
        ("in_umbrella", "?"),  # inside the TTP umbrella
        ("defected", "?"),  # defected to the state
        ("accepted", "?"),  # accepts the offer on the table
    ],
    align=True,
)
"""State variables of one faction."""

FIELDS = DTYPE.names


def initial(p: np.ndarray) -> np.ndarray:
    """Day-0 records of factions from their parameter records (any shape)."""
    s = np.zeros(p.shape, dtype=DTYPE)
    s["fighters"] = p["fighters_count"]
    s["hardliners"] = p["fighters_count"] * p["hardline_share"]
    s["held"] = p["prisoners_held_count"]
    s["loyalty"] = p["loyalty_share"]
    s["trust"] = p["trust_share"]
    s["in_umbrella"] = p["in_umbrella"] > 0.5
    return s


@rule
def hardline_share(s):
    """Share of a faction's fighters who are hardliners."""
    return share_of(s.hardliners, s.fighters)


@rule
def bound_by_ceasefire(s, phase):
    """A faction is bound by a ceasefire the umbrella declared if it is in the umbrella."""
    return phase == CEASEFIRE and s.in_umbrella and not s.defected


@rule
def take_back_released(s, released, custody, q):
    """Released members return: through a mediator's custody if it takes custody, else directly.

    Seed 001 (2022): released commanders went "into Afghan Taliban custody". Members in custody
    rejoin at ``custody_release_per_day``; released prisoners are mostly hardliners
    (``released_hardline_share``), which is the commitment problem of mechanism 1.
    """
    to_custody = released * custody
    leak = s.custody * q.custody_release_per_day
    back = released - to_custody + leak
    s.held = s.held - released
    s.custody = s.custody + to_custody - leak
    s.fighters = s.fighters + back
    s.hardliners = s.hardliners + back * q.released_hardline_share
    s.released = s.released + released


@rule
def suffer_coercion(s, coercion, q):
    """Airstrikes, targeted killings and operations kill and capture fighters; hardliners fall in
    proportion. Factions that defected to the state are no longer targeted."""
    if s.defected:
        return
    exposed = s.fighters * coercion
    killed = exposed * q.coercion_kill_per_day
    captured = exposed * q.coercion_capture_per_day
    lost_hardliners = (killed + captured) * hardline_share(s)
    s.fighters = s.fighters - killed - captured
    s.hardliners = s.hardliners - lost_hardliners
    s.killed = s.killed + killed
    s.held = s.held + captured


@rule
def attack_rate(s, phase, coercion, guarantee, q):
    """Expected attacks per day: fighters and momentum drive them (mechanism 7), coercion
    suppresses them.

    Under a ceasefire only the members who defy the leadership attack in a bound faction: its
    hardliners, as far as the faction is disloyal to the umbrella. A half-hardline, half-loyal
    faction without mediator pressure attacks at ``ceasefire_attack_share`` of its fighting rate;
    a loyal, moderate faction under a well-kept truce is quiet. Splinters outside the umbrella
    are not bound and attack at the full rate. Seed 002: the 2022 ceasefire "has not been
    strictly observed", with 26 attacks in June and 33 in July (by all groups).
    """
    if s.defected:
        return 0.0
    rate = q.ttp_attack_per_kfighter_per_day * s.fighters / 1000.0
    rate = rate * (1.0 + s.momentum) * (1.0 - q.coercion_suppression_share * coercion)
    if bound_by_ceasefire(s, phase):
        defiance = 2.0 * hardline_share(s) * 2.0 * (1.0 - s.loyalty)
        rate = rate * q.ceasefire_attack_share * defiance * (1.0 - guarantee)
    return rate


@rule
def lose_hardliners(s, phase, phase_age, delivered, spoilers_present, q):
    """Hardliners defect to spoilers under long ceasefires and after concessions (mechanism 5).

    Bueno de Mesquita (2005): concessions split moderates from extremists; seeds 002, 003: "a
    long ceasefire strains TTP cohesion and may push hardliners to ISKP".

    Returns:
        Hardliners lost today, count.
    """
    if s.defected or not spoilers_present or q.on_spoilers < 0.5:
        return 0.0
    pull = q.concession_pull_share * delivered
    if s.in_umbrella:
        pull = pull + q.hardliner_pull_per_day * outbidding_ramp(phase, phase_age, q.outbidding_scale_days)
    flow = s.hardliners * clip01(pull)
    s.hardliners = s.hardliners - flow
    s.fighters = s.fighters - flow
    s.to_spoilers = s.to_spoilers + flow
    return flow


@rule
def satisfaction(s, offer_value, fighters_count, q):
    """Offer value against demand. A stronger faction asks more (commitment problem, Powell 2006):
    demand grows with fighters relative to the faction's starting strength (with the commitment
    mechanism off, demand stays at the starting strength's)."""
    strength = s.fighters / max(fighters_count, 1.0) if q.on_commitment > 0.5 else 1.0
    return offer_value / (q.demand_share * max(strength, 1e-9))


@rule
def acceptance(s, offer_value, fighters_count, guarantee, renege, q):
    """Willingness to accept, in [0, 1]: satisfaction (capped at 1) weighed by trust and held
    back by hardliners, raised by recent losses (costs on the TTP's side: Zartman 2000, the
    mutually hurting stalemate), plus mediator pressure (limited guarantor, mechanism 4).

    The offer is valued net of the state's incentive to renege on it (``renege``: the factions
    anticipate the commitment problem, Fearon 1995)."""
    sat = clip01(satisfaction(s, offer_value * (1.0 - renege), fighters_count, q))
    resolve = 1.0 - q.hardline_rejection_share * hardline_share(s)
    hurting = 1.0 + q.cost_acceptance_share * s.hurt
    return clip01(sat * (0.5 + s.trust) * resolve * hurting + guarantee)


@rule
def decide(s, phase, offer_value, fighters_count, guarantee, renege, u, q):
    """Accept or reconsider the offer during talks; keep or break a ceasefire.

    One uniform serves both decisions because a world is never in talks and a ceasefire at once.

    Returns:
        True where the faction broke a ceasefire today.
    """
    member = s.in_umbrella and not s.defected
    if phase == TALKS and member:
        score = acceptance(s, offer_value, fighters_count, guarantee, renege, q)
        if s.accepted:
            s.accepted = not happens(u, q.reconsider_per_day * (1.0 - score))
        else:
            s.accepted = happens(u, q.accept_per_day * score)
    else:
        s.accepted = False
    if bound_by_ceasefire(s, phase):
        # Breaking a ceasefire: hardliners, distrust, little mediator pressure (mechanisms 2, 4).
        hazard = q.violation_per_day * hardline_share(s) * (1.0 - s.trust) * (1.0 - guarantee)
        return happens(u, hazard)
    return False


@rule
def update_trust(s, phase, delivered, overdue, coercion, q):
    """Trust learned from evidence (mechanism 2): each overdue item costs trust every day; each
    delivered item restores some; coercion against the TTP costs trust too; a ceasefire kept
    with nothing overdue rebuilds it day by day (``trust_recovery_per_day`` of the distance to
    full trust; Kydd 2005 on reassurance), so a ceasefire's hazards depend on its history."""
    if q.on_trust < 0.5:
        return
    recovery = 0.0
    if phase == CEASEFIRE and overdue == 0.0:
        recovery = q.trust_recovery_per_day * (1.0 - s.trust)
    s.trust = clip01(
        s.trust
        + recovery
        + q.trust_gain_per_delivery * delivered
        - q.trust_erosion_per_overdue_day * overdue
        - q.coercion_trust_cost_per_day * coercion
    )


@rule
def drift_loyalty(s, phase, q):
    """Loyalty drifts: a ceasefire strains hardline factions; outside a ceasefire (fighting or
    talks) loyalty recovers (mechanism 6; seed 000: "younger members opposed" the 2020 talks)."""
    if q.on_cohesion < 0.5:
        return
    if phase == CEASEFIRE:
        s.loyalty = clip01(s.loyalty - q.loyalty_strain_per_day * hardline_share(s))
    else:
        s.loyalty = clip01(s.loyalty + q.loyalty_recovery_per_day * (1.0 - s.loyalty))


@rule
def cohesion(s, broker, u, q):
    """Low-loyalty factions split from the umbrella; a broker brings splinters back.

    Seed 000: Jamaat-ul-Ahrar and Hizb-ul-Ahrar reunited in summer 2020 with al-Qaeda mediating.

    Returns:
        (split, reunified) flags for today.
    """
    if s.defected or q.on_cohesion < 0.5:
        return False, False
    if s.in_umbrella:
        split = s.loyalty < q.split_threshold_share and happens(u, q.split_per_day)
        if split:
            s.in_umbrella = False
            s.accepted = False
        return split, False
    reunified = happens(u, q.reunify_per_day * broker)
    if reunified:
        s.in_umbrella = True
        s.loyalty = 0.5 * (1.0 + q.split_threshold_share)
    return False, reunified


@rule
def defect_to_state(s, u, q):
    """Inducements pull moderate, disloyal factions over to the state (seed 003, 2012-2015:
    whole TTP factions induced to defect with money and politics; the targeted force of that
    campaign is the coercion every faction already faces).

    Returns:
        True where the faction defected today.
    """
    if s.defected or q.uses_inducements < 0.5 or q.on_cohesion < 0.5:
        return False
    hazard = q.inducement_per_day * (1.0 - hardline_share(s)) * (1.0 - s.loyalty)
    if happens(u, hazard):
        s.defected = True
        s.in_umbrella = False
        s.accepted = False
        return True
    return False


@rule
def feel_losses(s, coercion, q):
    """The faction's recent losses: the coercion it suffers, averaged with the half-life of
    domestic pressure (``hurt``, a share). With the costs mechanism off it stays at 0."""
    if s.defected or q.on_costs < 0.5:
        return
    s.hurt = s.hurt * q.pressure_decay + (1.0 - q.pressure_decay) * coercion


@rule
def leader_strike(s, p, q, phase, coercion, day, u):
    """A leader killed (seed 002: Fazlullah by a drone strike in 2018; Omar Khalid Khorasani of
    Jamaat-ul-Ahrar by a roadside bomb on 8 August 2022, during the ceasefire).

    A strike comes on the day the scenario names (``leader_strike_day``) or at the hazard
    ``leader_strike_per_day`` times the state's coercion (targeted killings). It costs the
    faction ``strike_loyalty_share`` of its loyalty (a succession contest) and its momentum and
    stored regrouping (decapitation disrupts operations: Jordan 2009, Johnston 2012); a bound
    faction breaks the ceasefire in revenge with chance ``strike_break_share``. One uniform
    decides both: given a strike, ``u`` is uniform below its chance.

    Returns:
        (struck, broke)
    """
    if s.defected or q.on_leadership_strikes < 0.5:
        return False, False
    chance = q.leader_strike_per_day * coercion
    if day == p.leader_strike_day:
        chance = 1.0
    if not happens(u, chance):
        return False, False
    s.strikes = s.strikes + 1.0
    s.loyalty = clip01(s.loyalty - q.strike_loyalty_share)
    s.momentum = 0.0
    s.regroup = 0.0
    broke = bound_by_ceasefire(s, phase) and happens(u, chance * q.strike_break_share)
    return True, broke


@rule
def carry_momentum(s, phase, q):
    """Momentum decays; under a ceasefire bound factions regroup, storing momentum that is
    released as a spike when the ceasefire collapses (mechanism 7; seeds 000, 004: early 2021)."""
    s.momentum = s.momentum * q.momentum_decay
    if bound_by_ceasefire(s, phase) and q.on_violence_cycle > 0.5:
        s.regroup = s.regroup + q.regroup_per_day


@rule
def after_table(s, collapsed, reset):
    """After the table moves: a collapsed ceasefire releases the momentum stored while
    regrouping (the early-2021 spike, seeds 000 and 004); acceptances lapse when talks open,
    fail or a ceasefire collapses."""
    if collapsed:
        s.momentum = s.momentum + s.regroup
        s.regroup = 0.0
    if collapsed or reset:
        s.accepted = False


@rule
def act(
    s,
    p,
    q,
    phase,
    phase_age,
    day,
    coercion,
    guarantee,
    broker,
    custody,
    spoilers_present,
    renege,
    released,
    delivered,
    overdue,
    u_attack,
    u_decide,
    u_cohesion,
    u_defect,
    u_strike,
):
    """One faction's day, in the order the model description gives.

    Args:
        s: the faction's record (updated in place). p: its parameters. q: world parameters.
        phase, phase_age: the world's phase at dawn and its age in days. day: today's index.
        coercion: the state's coercion. guarantee, broker, custody: mediators' combined
            pressure, strongest broker leverage, and whether they take custody.
        spoilers_present: whether any spoiler can take in defecting hardliners.
        renege: the state's incentive to renege on its promise (anticipated by the factions).
        released: members the state released to this faction today.
        delivered, overdue: concession items delivered today and overdue after today.
        u_attack, u_decide, u_cohesion, u_defect, u_strike: the faction's uniforms today.

    Returns:
        (attacks, broke, split, reunified, defected, hardliners lost to spoilers, struck)
    """
    take_back_released(s, released, custody, q)
    suffer_coercion(s, coercion, q)
    feel_losses(s, coercion, q)
    struck, revenge = leader_strike(s, p, q, phase, coercion, day, u_strike)
    attacks = poisson_count(u_attack, attack_rate(s, phase, coercion, guarantee, q))
    lost = lose_hardliners(s, phase, phase_age, delivered, spoilers_present, q)
    broke = decide(s, phase, p.offer_value, p.fighters_count, guarantee, renege, u_decide, q) or revenge
    update_trust(s, phase, delivered, overdue, coercion, q)
    drift_loyalty(s, phase, q)
    split, reunified = cohesion(s, broker, u_cohesion, q)
    defected = defect_to_state(s, u_defect, q)
    carry_momentum(s, phase, q)
    return attacks, broke, split, reunified, defected, lost, struck


class Faction(mesa.Agent):
    """One TTP faction of one world.

    Its variables live in the model's faction records (:data:`DTYPE`) and read as attributes:
    ``faction.fighters``, ``faction.trust``, ``faction.in_umbrella``, ...
    """

    def __init__(self, model: mesa.Model, faction_id: str, index: int) -> None:
        super().__init__(model)
        self.faction_id = faction_id
        self.index = index
        self.today: tuple = ()

    @property
    def record(self):
        """This faction's record in the model's arrays."""
        return self.model.fac[0, self.index]

    def __getattr__(self, name: str):
        if name in FIELDS:
            return self.model.fac[name][0, self.index]
        raise AttributeError(name)

    def step(self) -> None:
        """Live one day (:func:`sim.core.schedule.live`): take back released members, fight,
        decide, hold together or not."""
        m, i = self.model, self.index
        self.today = m.schedule.live(
            m.today,
            m.fac[0, i],
            m.params.faction[0, i],
            m.params.world[0],
            m.released[i],
            m.u,
            i,
            len(m.factions),
        )
