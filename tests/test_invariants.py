"""Invariants that hold in every world, whatever its parameters (property-based).

Hypothesis draws per-world parameter tables over the tunable scenario fields within their declared
ranges (``lo``/``hi`` in the field metadata), a seed and a few structural choices. Each example is
run twice: through ``sim.run(..., record="daily")`` (the public path) and by driving
``sim.core.kernel.init`` / ``sim.core.kernel.step`` by hand, as ``run_chunk`` does, so that the World arrays
can be inspected every day. The hand-driven run must give the very same outcome table, so the
arrays inspected are the ones the kernel reports on.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import sim
from sim.core import kernel, outcomes
from sim.core.streams import WorldStreams
from sim.inputs.params import STRUCTURAL, build_params, tunable_paths

MINI = Path(__file__).resolve().parent / "data" / "mini.yaml"
SLACK = 1e-9  # absolute slack on counts and shares
REL = 1e-9  # relative tolerance on conserved totals
DAYS = 60
MAX_WORLDS = 5

COUNT_FIELDS = ("fighters", "hardliners", "held", "custody", "killed", "to_spoilers", "released")
FACTION_SHARES = ("loyalty", "trust")
STATE_SHARES = ("coercion", "pressure", "trust")


@cache
def scenario(start_phase: str, tranches: int) -> sim.Scenario:
    return sim.load_scenario(
        MINI, overrides={"start_phase": start_phase, "state.offer.release_tranche_count": tranches}
    )


BASE = scenario("talks", 2)
TUNABLE = {path: f for path, (f, _) in tunable_paths(BASE).items() if path not in STRUCTURAL}
PATHS = sorted(TUNABLE)
FACTIONS = list(BASE.factions)
RELEASE = "state.offer.prisoner_release_count"


def _is_flag(f: dataclasses.Field) -> bool:
    return f.type in ("bool", bool)


def _values(f: dataclasses.Field, n: int):
    if _is_flag(f):
        return st.lists(st.booleans(), min_size=n, max_size=n)
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    if f.metadata.get("integer"):
        return st.lists(st.integers(int(lo), int(hi)), min_size=n, max_size=n)
    return st.lists(st.floats(lo, hi, allow_nan=False, allow_infinity=False), min_size=n, max_size=n)


@st.composite
def designs(draw):
    """(start phase, prisoner tranches, worlds, seed, per-world params table)."""
    n = draw(st.integers(1, MAX_WORLDS))
    phase = draw(st.sampled_from(["talks", "fighting", "ceasefire"]))
    tranches = draw(st.integers(1, 3))
    s = scenario(phase, tranches)
    chosen = draw(st.lists(st.sampled_from(PATHS), unique=True, max_size=len(PATHS)))
    table = {path: draw(_values(TUNABLE[path], n)) for path in chosen if path != RELEASE}
    # Cross-field rule of the schema: the state cannot promise more prisoners than it holds.
    held = np.zeros(n)
    for fid, fc in s.factions.items():
        held += np.asarray(
            table.get(f"factions.{fid}.prisoners_held_count", [fc.prisoners_held_count] * n), dtype=float
        )
    if RELEASE in chosen:
        table[RELEASE] = [draw(st.integers(0, int(h))) for h in held]
    elif np.any(held < s.state.offer.prisoner_release_count):
        table[RELEASE] = [int(min(h, s.state.offer.prisoner_release_count)) for h in held]
    # Cross-field rule: at least one faction starts inside the umbrella in every world.
    flags = [p for p in table if p.endswith(".in_umbrella")]
    if flags:
        first = f"factions.{next(iter(s.factions))}.in_umbrella"
        inside = np.zeros(n, dtype=bool)
        for fid, fc in s.factions.items():
            inside |= np.asarray(table.get(f"factions.{fid}.in_umbrella", [fc.in_umbrella] * n), dtype=bool)
        if not inside.all():
            table[first] = [True] * n
    seed = draw(st.integers(0, 2**32 - 1))
    return phase, tranches, n, seed, pd.DataFrame(table) if table else None


def _col(records: np.ndarray, name: str, n: int) -> np.ndarray:
    """One field of a structured record array as floats ``[worlds, actors]`` (world records get
    one column)."""
    return np.asarray(records[name], dtype=float).reshape(n, -1)


def drive(s: sim.Scenario, n: int, seed: int, params: pd.DataFrame | None, days: int):
    """Step the kernel by hand like ``run_chunk``; yield (day, World) after each day (day -1: the
    initial World)."""
    p = build_params(s, n, params)
    x = kernel.init(p)
    streams = WorldStreams(
        seed, 0, n, kernel.slot_count(len(p.faction_ids), len(p.spoiler_ids), len(p.item_kind))
    )
    yield -1, x
    for day in range(days):
        kernel.step(x, p, streams.next_day(), day)
        yield day, x


ACCUMULATED = (
    "ttp_attacks",
    "spoiler_attacks",
    "casualties",
    "prisoners_promised",
    "prisoners_released",
    "to_spoilers",
    "n_ceasefires",
    "talks_rounds",
    "splits",
    "reunifications",
    "to_state",
)


def check_world(day: int, x, n: int, start: SimpleNamespace, before: dict | None) -> dict:
    """Check one day's World arrays; return the accumulators for the next day's comparison."""
    where = f"day {day}"
    fac = {k: _col(x.fac, k, n) for k in COUNT_FIELDS + FACTION_SHARES}
    for k in COUNT_FIELDS:
        assert fac[k].min() >= -SLACK, f"{where}: faction {k} negative: {fac[k].min()}"
    scale = np.maximum(fac["fighters"], 1.0)
    assert np.all(fac["hardliners"] <= fac["fighters"] + SLACK * scale), (
        f"{where}: hardliners exceed fighters"
    )
    for k in FACTION_SHARES:
        assert np.all((fac[k] >= -SLACK) & (fac[k] <= 1 + SLACK)), f"{where}: faction {k} outside [0, 1]"
    for k in STATE_SHARES:
        v = _col(x.ws, k, n)
        assert np.all((v >= -SLACK) & (v <= 1 + SLACK)), f"{where}: state {k} outside [0, 1]: {v.ravel()}"
    spo = _col(x.spo, "fighters", n)
    assert spo.size == 0 or spo.min() >= -SLACK, f"{where}: spoiler fighters negative"

    # Conservation of TTP fighters: every one is active, in prison, in custody, dead or gone to
    # a spoiler (defectors to the state keep counting as fighters of their faction).
    now = (fac["fighters"] + fac["held"] + fac["custody"] + fac["killed"] + fac["to_spoilers"]).sum(axis=1)
    np.testing.assert_allclose(
        now, start.people, rtol=REL, atol=SLACK, err_msg=f"{where}: TTP fighters not conserved"
    )
    # Spoilers gain exactly the hardliners who left the factions.
    gained = spo.sum(axis=1) - start.spoiler_fighters
    np.testing.assert_allclose(
        gained,
        fac["to_spoilers"].sum(axis=1),
        rtol=REL,
        atol=SLACK * np.maximum(start.people, 1.0).max(),
        err_msg=f"{where}: spoiler fighters gained != hardliners lost to spoilers",
    )
    # The state cannot release more prisoners than it held at the start.
    released = fac["released"].sum(axis=1)
    assert np.all(released <= start.prisoners * (1 + REL) + SLACK), (
        f"{where}: released {released} prisoners, held {start.prisoners} at start"
    )

    # Accumulated counts (attacks, casualties, prisoners, events) never go down: no day has a
    # negative count.
    acc = {k: _col(x.ws, k, n).ravel() for k in ACCUMULATED}
    for k, v in acc.items():
        assert v.min() >= -SLACK, f"{where}: accumulated {k} negative"
        if before is not None:
            assert np.all(v >= before[k] - SLACK), f"{where}: a negative day of {k}"
    return acc


def check_outcomes(w: pd.DataFrame, n: int, days: int, start: SimpleNamespace) -> None:
    assert list(w.columns) == list(sim.OUTCOME_COLUMNS)
    assert list(w["world"]) == list(range(n))
    reached = w["ceasefire_reached"].to_numpy(bool)
    assert (w["ceasefire_days"].dropna() >= 0).all()
    assert (w["ceasefire_days"].dropna() <= days).all()
    assert np.array_equal(w["ceasefire_days"].isna().to_numpy(), ~reached)
    assert np.array_equal(w["days_to_ceasefire"].isna().to_numpy(), ~reached)
    assert ((w["days_to_ceasefire"].dropna() >= 0) & (w["days_to_ceasefire"].dropna() < days)).all()
    assert not (w["ceasefire_censored"] & ~w["ceasefire_reached"]).any(), "censored without a ceasefire"
    names = {c.name for c in sim.CollapseCause}
    assert set(w["collapse_cause"].astype(str)) <= names
    cause = w["collapse_cause"].astype(str).to_numpy()
    assert np.array_equal(cause == "no_ceasefire", ~reached)
    assert np.array_equal(cause == "censored", w["ceasefire_censored"].to_numpy(bool))
    assert np.array_equal(w["n_ceasefires"].to_numpy() >= 1, reached)
    for col in (
        "n_ceasefires",
        "talks_rounds",
        "ttp_attacks",
        "spoiler_attacks",
        "casualties",
        "prisoners_promised",
        "prisoners_released",
        "defections_to_spoilers",
        "splits",
        "reunifications",
        "ttp_fighters_end",
    ):
        assert (w[col] >= -SLACK).all(), f"outcome {col} negative"
    assert (w["defections_to_state"] >= 0).all() and (w["defections_to_state"] <= len(FACTIONS)).all()
    for col in ("ttp_attacks_per_month_ceasefire", "ttp_attacks_per_month_after"):
        assert (w[col].dropna() >= 0).all()
    assert (w["prisoners_released"] <= start.prisoners * (1 + REL) + SLACK).all()


def check_series(ts: pd.DataFrame, w: pd.DataFrame, n: int, days: int, start: SimpleNamespace) -> None:
    assert len(ts) == n * days
    for col in (
        "ttp_attacks",
        "spoiler_attacks",
        "casualties",
        "ttp_fighters",
        "hardliners",
        "prisoners_released",
        "spoiler_fighters",
        "factions_in_umbrella",
    ):
        assert (ts[col] >= -SLACK).all(), f"series {col} negative"
    assert (ts["hardliners"] <= ts["ttp_fighters"] * (1 + REL) + SLACK).all()
    for col in ("ttp_trust", "state_trust", "coercion", "pressure"):
        assert ts[col].between(-SLACK, 1 + SLACK).all(), f"series {col} outside [0, 1]"
    assert set(ts["phase"].unique()) <= {p.name.lower() for p in sim.Phase}
    by_world = ts.sort_values(["world", "day"]).groupby("world")
    for world, g in by_world:
        released = g["prisoners_released"].to_numpy()
        assert np.all(np.diff(released) >= -SLACK), f"world {world}: released prisoners went down"
        assert released[-1] <= start.prisoners[world] * (1 + REL) + SLACK
        # Sums of the daily series are the outcome totals.
        row = w[w["world"] == world].iloc[0]
        assert g["ttp_attacks"].sum() == row["ttp_attacks"]
        assert g["spoiler_attacks"].sum() == row["spoiler_attacks"]
        assert released[-1] == pytest.approx(row["prisoners_released"], rel=REL, abs=SLACK)
        gained = g["spoiler_fighters"].to_numpy()[-1] - start.spoiler_fighters[world]
        assert gained == pytest.approx(row["defections_to_spoilers"], rel=REL, abs=1e-6), (
            f"world {world}: spoilers gained {gained}, outcome says {row['defections_to_spoilers']}"
        )


def run_and_check(s: sim.Scenario, n: int, seed: int, params: pd.DataFrame | None, days: int = DAYS):
    res = sim.run(s, worlds=n, days=days, seed=seed, params=params, record="daily")
    start, before, x = None, None, None
    for day, x in drive(s, n, seed, params, days):
        if start is None:
            fighters, held = _col(x.fac, "fighters", n), _col(x.fac, "held", n)
            start = SimpleNamespace(
                people=(fighters + held).sum(axis=1),
                prisoners=held.sum(axis=1),
                spoiler_fighters=_col(x.spo, "fighters", n).sum(axis=1),
            )
        before = check_world(day, x, n, start, before)
    hand = outcomes.outcome_table(x.ws, days, np.arange(n), outcomes.ttp_fighters(x.fac))
    assert_frame_equal(hand, res.worlds, obj="hand-driven kernel vs sim.run outcome table")
    check_outcomes(res.worlds, n, days, start)
    check_series(res.timeseries, res.worlds, n, days, start)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(designs())
def test_invariants_hold_for_any_parameters(design):
    phase, tranches, n, seed, params = design
    run_and_check(scenario(phase, tranches), n, seed, params)


@pytest.mark.parametrize("start_phase", ["talks", "fighting", "ceasefire"])
def test_invariants_hold_for_defaults(start_phase):
    run_and_check(scenario(start_phase, 2), 40, 7, None, days=120)


def test_invariants_hold_at_range_bounds():
    """Every tunable field at its lower bound in one world and its upper bound in the other."""
    table = {}
    for path in PATHS:
        f = TUNABLE[path]
        if _is_flag(f):
            table[path] = [False, True]
        else:
            table[path] = [f.metadata["lo"], f.metadata["hi"]]
    table[RELEASE] = [0, 0]  # within the prisoners held in both worlds (cross-field rule)
    # Cross-field rule: at least one faction starts inside the umbrella in every world.
    first = next(iter(BASE.factions))
    table[f"factions.{first}.in_umbrella"] = [True, True]
    run_and_check(BASE, 2, 3, pd.DataFrame(table), days=60)


def test_spoilers_gain_the_hardliners_they_take_without_recruitment_weights():
    """Hardliners who leave a faction for the spoilers (``defections_to_spoilers``) must arrive
    somewhere. With every spoiler's ``recruitment_share`` at 0 (its declared lower bound), the
    spoilers' recruitment gives each of them nothing (``inflow = 0`` when the total pull is 0), so
    factions must not lose hardliners to them either: hardliners defect only while the spoilers'
    total pull is above 0 (``spoilers_present``). Were they to leave anyway, those fighters would
    vanish from the model, which the conservation check of every day would catch."""
    params = pd.DataFrame({f"spoilers.{sid}.recruitment_share": [0.0] * 20 for sid in BASE.spoilers})
    run_and_check(BASE, 20, 11, params, days=150)
