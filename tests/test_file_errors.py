"""Mistakes in a scenario file (or in ``sim.load_scenario``'s overrides) get messages as good as
on the command line: a "did you mean" for a misspelt key, the allowed range for a value of the
wrong kind, the field's names where a group belongs, no internal class names, unknown district
ids refused with the known ones; and a run that stops on such a mistake leaves no result
directory behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import sim
from sim.inputs.schema import DISTRICTS, ScenarioError

CLASS_NAME = re.compile(r"\b\w+Config\b|Merge error|subclass")


def _message(path_or_name, overrides=None) -> str:
    with pytest.raises(ScenarioError) as e:
        sim.load_scenario(path_or_name, overrides)
    text = str(e.value)
    assert not CLASS_NAME.search(text), text
    return text


def test_misspelt_key_in_a_file_gets_did_you_mean(write_scenario):
    path = write_scenario("typo", lambda d: d["state"].update(delivery_reliabilty=0.5))
    msg = _message(path)
    assert "delivery_reliabilty" in msg and "did you mean 'delivery_reliability'?" in msg


def test_misspelt_key_through_load_scenario_gets_did_you_mean(mini_path):
    msg = _message(mini_path, {"state.offer.prisoner_release_cont": 3})
    assert "did you mean 'prisoner_release_count'?" in msg


def test_word_for_a_number_gives_the_allowed_range(write_scenario):
    path = write_scenario("high", lambda d: d["state"].update(delivery_reliability="high"))
    msg = _message(path)
    assert "delivery_reliability = 'high'" in msg and "from 0 to 1" in msg


def test_number_for_a_group_names_the_field_and_its_fields(write_scenario):
    path = write_scenario("state3", lambda d: d.update(state=3))
    msg = _message(path)
    assert "state = 3" in msg and "mapping" in msg and "delivery_reliability" in msg


def test_number_for_the_offer_names_no_internal_class(mini_path):
    msg = _message(mini_path, {"state.offer": 5})
    assert "state.offer = 5" in msg and "prisoner_release_count" in msg


def test_unknown_home_district_is_refused_with_the_known_ids(write_scenario):
    def mutate(d):
        first = next(iter(d["factions"]))
        d["factions"][first]["home_district"] = "waziristan"

    msg = _message(write_scenario("district", mutate))
    assert "home_district = 'waziristan'" in msg and "did you mean" in msg
    assert all(d in msg for d in DISTRICTS)


def test_every_shipped_district_is_known():
    for name in sim.scenario_names():
        s = sim.load_scenario(name)
        named = {f.home_district for f in s.factions.values()} | set(s.state.troops_districts)
        assert named <= set(DISTRICTS) | {""}, name


def test_a_failed_run_leaves_no_result_directory(tmp_path, write_scenario):
    path = write_scenario("district", lambda d: d["state"].update(troops_districts=["nowhere"]))
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "sim", f"scenario_file={path}", "worlds=4", "days=5", "plots=false"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "troops_districts = 'nowhere'" in proc.stderr
    assert list(work.iterdir()) == []


def test_command_line_scenario_file_gets_the_same_messages(tmp_path, write_scenario):
    path = write_scenario("typo", lambda d: d["state"].update(delivery_reliabilty=0.5))
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", f"scenario_file={path}", "worlds=4", "days=5", "plots=false"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "did you mean 'delivery_reliability'?" in proc.stderr and not CLASS_NAME.search(proc.stderr)
    assert not (tmp_path / "results").exists()
