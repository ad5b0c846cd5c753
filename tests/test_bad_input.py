"""Bad input stops with a :class:`sim.ScenarioError` (a ValueError) that says what is wrong.

A student who mistypes a value must be told which field, which value and what is allowed, so every
test checks the message names the field path and the bad value, not just that something raised.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim import ScenarioError


def _set(*keys_and_value):
    """Mutation setting ``data[k1][k2]... = value``."""
    *keys, value = keys_and_value

    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return mutate


def _rename_faction(old, new):
    def mutate(d):
        d["factions"][new] = d["factions"].pop(old)

    return mutate


# name -> (mutation of the mini data, fragments the message must contain)
BAD_FILES = {
    "share_out_of_range": (
        _set("factions", "mehsud_central", "hardline_share", 1.5),
        ["factions.mehsud_central.hardline_share", "1.5", "0", "1"],
    ),
    "negative_fighters": (
        _set("factions", "jamaat_ul_ahrar", "fighters_count", -20),
        ["factions.jamaat_ul_ahrar.fighters_count", "-20"],
    ),
    "fractional_fighters": (
        _set("factions", "jamaat_ul_ahrar", "fighters_count", 10.5),
        ["factions.jamaat_ul_ahrar.fighters_count", "10.5"],
    ),
    "unknown_top_level_key": (_set("ceasfire", {"term_days": 10}), ["ceasfire"]),
    "unknown_faction_key": (
        _set("factions", "hizb_ul_ahrar", "fighter_count", 500),
        ["factions.hizb_ul_ahrar.fighter_count"],
    ),
    "unknown_offer_key": (_set("state", "offer", "prisoners_count", 5), ["state.offer.prisoners_count"]),
    "wrong_type": (_set("state", "delivery_reliability", "high"), ["state.delivery_reliability", "high"]),
    "wrong_type_flag": (
        _set("mediators", "haqqani", "present", "maybe"),
        ["mediators.haqqani.present", "maybe"],
    ),
    "withdrawal_not_deployed": (
        _set("state", "offer", "withdrawal_districts", ["south_waziristan", "kurram"]),
        ["state.offer.withdrawal_districts", "kurram", "state.troops_districts"],
    ),
    "release_above_held": (
        _set("state", "offer", "prisoner_release_count", 1000),
        ["state.offer.prisoner_release_count", "1000", "380"],
    ),
    "no_factions": (_set("factions", {}), ["factions"]),
    "no_factions_key": (lambda d: d.pop("factions"), ["factions"]),
    "bad_start_date": (_set("start", "2022-13-45"), ["start", "2022-13-45"]),
    "start_not_a_date": (_set("start", "May 2022"), ["start", "May 2022"]),
    "bad_start_phase": (_set("start_phase", "war"), ["start_phase", "war"]),
    "faction_id_with_capitals_and_spaces": (
        _rename_faction("mehsud_central", "Mehsud Central"),
        ["factions", "Mehsud Central"],
    ),
    "faction_id_with_capitals": (
        _rename_faction("mehsud_central", "MehsudCentral"),
        ["factions", "MehsudCentral"],
    ),
    "negative_term": (_set("ceasefire", "term_days", -1), ["ceasefire.term_days", "-1"]),
}


def _assert_message(err: pytest.ExceptionInfo, fragments: list[str]) -> None:
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"message {msg!r} does not name {missing}"


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_scenario_file(write_scenario, name):
    mutate, fragments = BAD_FILES[name]
    path = write_scenario(name, mutate)
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    _assert_message(err, fragments)


@pytest.mark.parametrize("name", ["share_out_of_range", "unknown_faction_key", "wrong_type"])
def test_bad_scenario_file_stops_run_and_model(write_scenario, name):
    mutate, fragments = BAD_FILES[name]
    path = write_scenario(name, mutate)
    with pytest.raises(ScenarioError) as err:
        sim.run(path, worlds=2, days=2)
    _assert_message(err, fragments)
    with pytest.raises(ScenarioError) as err:
        sim.NegotiationModel(path, rng=0, days=2)
    _assert_message(err, fragments)


def test_wrong_type_says_what_is_allowed(write_scenario):
    path = write_scenario("wrong_type", _set("state", "delivery_reliability", "high"))
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    assert re.search(r"number|float", str(err.value), re.IGNORECASE), str(err.value)


def test_invalid_yaml_syntax_names_file_and_line(write_scenario):
    text = (
        "name: broken\nstart: 2022-05-01\nfactions:\n"
        "  mehsud_central: {fighters_count: 3000, hardline_share: [0.4\n"
        "state:\n  delivery_reliability: 0.6\n"
    )
    path = write_scenario("broken_yaml", text=text)
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    msg = str(err.value)
    assert "broken_yaml.yaml" in msg and "YAML" in msg, msg
    # Where the syntax error is: PyYAML knows the line; a student needs it to find the typo.
    assert re.search(r"line \d+", msg), f"YAML syntax error message gives no line number: {msg!r}"


def test_duplicate_withdrawal_district_names_the_district(write_scenario):
    path = write_scenario("dup", _set("state", "offer", "withdrawal_districts", ["mohmand", "mohmand"]))
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    msg = str(err.value)
    assert "state.offer.withdrawal_districts" in msg
    assert "mohmand" in msg, f"message does not say which district is listed twice: {msg!r}"


def test_top_level_not_a_mapping(write_scenario):
    path = write_scenario("list", text="- a\n- b\n")
    with pytest.raises(ScenarioError, match="mapping"):
        sim.load_scenario(path)


def test_missing_file_and_unknown_name():
    with pytest.raises(ScenarioError, match="no_such_file.yaml"):
        sim.load_scenario("no_such_file.yaml")
    with pytest.raises(ScenarioError, match="no_such_scenario"):
        sim.load_scenario("no_such_scenario")


# ---------------------------------------------------------------------------------------------
# Bad run arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,fragments",
    [
        ({"worlds": 0}, ["worlds", "0"]),
        ({"worlds": 2.5}, ["worlds", "2.5"]),
        ({"days": -1}, ["days", "-1"]),
        ({"days": 0}, ["days", "0"]),
        ({"record": "weekly"}, ["record", "weekly", "daily"]),
        ({"seed": -3}, ["seed", "-3"]),
        ({"chunk_worlds": 0}, ["chunk_worlds", "0"]),
    ],
)
def test_bad_run_arguments(mini_path, kwargs, fragments):
    args = {"worlds": 3, "days": 5, **kwargs}
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, **args)
    _assert_message(err, fragments)


def test_negative_first_world_is_a_scenario_error(mini_path):
    """``first_world`` splits runs across processes; a negative value must be refused with a
    message naming it, not with NumPy's bare "expected non-negative integer" from deep in the
    random-stream set-up."""
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, first_world=-1)
    _assert_message(err, ["first_world", "-1"])


def test_params_unknown_column(mini_path):
    params = pd.DataFrame({"state.reliability": [0.5] * 3})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, ["state.reliability"])


def test_params_unknown_faction_in_column(mini_path):
    params = pd.DataFrame({"factions.no_such_faction.hardline_share": [0.5] * 3})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, ["factions.no_such_faction.hardline_share"])


def test_params_wrong_row_count(mini_path):
    params = pd.DataFrame({"state.delivery_reliability": [0.5] * 4})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, ["4", "3"])


@pytest.mark.parametrize(
    "column,values,fragments",
    [
        ("state.delivery_reliability", [0.5, 0.5, 1.5], ["state.delivery_reliability", "row 2", "1.5"]),
        (
            "factions.jamaat_ul_ahrar.hardline_share",
            [0.5, -0.1, 0.5],
            ["factions.jamaat_ul_ahrar.hardline_share", "row 1", "-0.1"],
        ),
        ("state.delivery_reliability", [0.5, np.nan, 0.5], ["state.delivery_reliability", "row 1", "nan"]),
        (
            "state.delivery_reliability",
            ["high", "high", "high"],
            ["state.delivery_reliability", "row 0", "high"],
        ),
        ("factions.mehsud_central.fighters_count", [10, 10.5, 10], ["fighters_count", "row 1", "10.5"]),
        ("state.uses_inducements", [True, 2, False], ["state.uses_inducements", "row 1", "2"]),
    ],
)
def test_params_bad_value_names_the_row(mini_path, column, values, fragments):
    params = pd.DataFrame({column: values})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, fragments)


def test_params_cannot_vary_structural_field(mini_path):
    params = pd.DataFrame({"state.offer.release_tranche_count": [1, 2, 3]})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, ["state.offer.release_tranche_count"])


def test_params_respect_cross_field_rule_on_prisoners(mini_path, mini):
    """The scenario loader refuses ``state.offer.prisoner_release_count`` above the prisoners
    held (sum of ``factions.*.prisoners_held_count``); a params row must be refused the same way,
    naming the row, instead of running a world the schema calls invalid."""
    held = sum(f.prisoners_held_count for f in mini.factions.values())
    params = pd.DataFrame({"state.offer.prisoner_release_count": [0, held + 1000, 0]})
    with pytest.raises(ScenarioError) as err:
        sim.run(mini_path, worlds=3, days=5, params=params)
    _assert_message(err, ["state.offer.prisoner_release_count", "row 1", str(held + 1000)])


def test_params_bad_value_in_model(mini_path):
    with pytest.raises(ScenarioError) as err:
        sim.NegotiationModel(mini_path, rng=0, days=5, params={"state.delivery_reliability": 2.0})
    _assert_message(err, ["state.delivery_reliability", "2.0"])


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["factions.no_such_faction.hardline_share", "factions.Mehsud Central.hardline_share"]
)
def test_override_unknown_faction_id(mini_path, key):
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(mini_path, overrides={key: 0.5})
    faction = key.split(".")[1]
    _assert_message(err, [faction])
    # ...and it lists the ids that do exist, so the typo can be fixed.
    assert "mehsud_central" in str(err.value)


def test_override_new_faction_with_bad_id(mini_path):
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(mini_path, overrides={"factions.Bad Id": {"fighters_count": 100}})
    _assert_message(err, ["factions", "Bad Id"])


@pytest.mark.parametrize(
    "key,value,fragments",
    [
        ("factions.mehsud_central.hardline_share", 2.0, ["factions.mehsud_central.hardline_share", "2.0"]),
        ("factions.mehsud_central.hardlin_share", 0.2, ["factions.mehsud_central.hardlin_share"]),
        ("state.delivery_reliability", "high", ["state.delivery_reliability", "high"]),
        ("stat.delivery_reliability", 0.2, ["stat"]),
    ],
)
def test_bad_override(mini_path, key, value, fragments):
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(mini_path, overrides={key: value})
    _assert_message(err, fragments)
