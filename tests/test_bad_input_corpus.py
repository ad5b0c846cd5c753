"""Every case of the bad-input corpus (``tests/bad_inputs.py``) stops with a clear message.

A clear message is a :class:`sim.ScenarioError` (API) or exit status 2 (command line) that names
the field path or setting, without a traceback or the libraries' internal class names, and
without echoing the contents of a file that is not a scenario. Each case runs in a forked child
with a time and memory limit (an alias bomb or an oversized run that is not refused stops there).
The command-line cases run in-process in the child; the suite runs the representative subset
marked ``subset`` of them (every case runs in ``experiments/bad_input_corpus.py``).
"""

from __future__ import annotations

import bad_inputs
import pytest

CASES = [c for c in bad_inputs.all_cases() if c.kind != "cli" or c.subset]


@pytest.fixture(scope="module", autouse=True)
def _warm():
    bad_inputs.warm_up()


def test_corpus_is_large_enough():
    cases = bad_inputs.all_cases()
    assert len(cases) >= 100
    assert {c.kind for c in cases} == {"file", "api", "cli"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_clear_message(case, tmp_path):
    out = bad_inputs.run_case(case, tmp_path / "case")
    verdict, reason = bad_inputs.classify(case, out, tmp_path / "case")
    assert verdict == "clear", f"{case.name}: {verdict}: {reason}"
