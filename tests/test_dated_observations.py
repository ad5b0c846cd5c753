"""Dated observations from public reports (R01-R27 of docs/sources.md): every report a scenario's
``observed:`` block cites is listed, the dates turn into the right days, and the per-world
statistics of the new patterns give known answers on hand-made worlds."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.types import CEASEFIRE, FIGHTING
from sim.inputs.scenarios import load_scenario
from sim.report import patterns as V

ROOT = Path(__file__).resolve().parents[1]
REPORT_ID = re.compile(r"\bR(\d{2})\b")


def _listed_reports() -> set[str]:
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    return set(re.findall(r"^- R(\d{2}): \S", text, re.MULTILINE))


def _observed_lines(name: str) -> list[str]:
    lines = (ROOT / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index("observed:")
    return lines[start:]


def _cited(line: str) -> set[str]:
    """Report numbers cited in a line, ranges such as R01-R03 expanded."""
    out = set(REPORT_ID.findall(line))
    for a, b in re.findall(r"\bR(\d{2})-R(\d{2})\b", line):
        out |= {f"{i:02d}" for i in range(int(a), int(b) + 1)}
    return out


@pytest.mark.parametrize("name", ["kabul_2022", "ceasefire_2021", "secret_talks_2020"])
def test_every_cited_report_is_listed(name):
    listed = _listed_reports()
    cited = set().union(*(_cited(ln) for ln in _observed_lines(name)))
    assert cited, f"{name}: no public report cited in its observed block"
    assert cited <= listed, f"{name} cites reports not in docs/sources.md: {sorted(cited - listed)}"


def test_dates_become_the_right_days():
    p = {x.id: x for x in V._dated_observations()}
    # 9 May 2022 -> 28 Nov 2022 is 203 days; 1 Oct 2021 -> 9 Nov 2021 is 39; 9 Nov -> 9 Dec is 30
    assert p["kabul_2022.ceasefire_end_day"].observed == (203.0, 203.0)
    assert p["ceasefire_2021.days_to_ceasefire"].observed == (39.0, 39.0)
    days_2021 = next(x for x in V.build_patterns() if x.id == "ceasefire_2021.ceasefire_days")
    assert days_2021.observed == (30.0, 31.0)
    assert p["kabul_2022.ttp_attacks_2022"].observed == (0.0, 89.0)
    assert p["kabul_2022.all_groups_2022-12"].observed == (0.0, 49.0)
    assert p["secret_talks_2020.attacks_jul_oct"].observed == (100.0, math.inf)
    # 24 attacks by all groups in November 2021, 22 days of it under the ceasefire, per month
    bound = p["ceasefire_2021.all_groups_ceasefire"].observed[1]
    assert bound == pytest.approx(24 / 22 * 365.25 / 12, abs=0.01)


def test_monthly_rate_of_whole_months():
    counts = {"2021-12": 28, "2022-01": 24, "2022-02": 13}
    # 65 attacks in the 90 days of December to February, per month of 365.25 / 12 days
    rate = V._monthly_rate(counts, list(counts))
    assert math.isclose(rate, 65 / 90 * 365.25 / 12)
    assert V._monthly_rate({"2022-02": 28}, ["2022-02"]) == pytest.approx(365.25 / 12)


def _kabul_run(worlds: pd.DataFrame, phase: np.ndarray, ttp: np.ndarray, spoiler: np.ndarray):
    s = load_scenario("kabul_2022")
    days = phase.shape[1]
    daily = {"phase": phase, "ttp_attacks": ttp, "spoiler_attacks": spoiler, "casualties": 0 * ttp}
    return {"kabul_2022": V.EpisodeRun("kabul_2022", s, days, worlds, daily)}


def _worlds(start, dur, censored, cause):
    return pd.DataFrame(
        {
            "world": np.arange(len(start)),
            "days_to_ceasefire": np.array(start, dtype=float),
            "ceasefire_days": np.array(dur, dtype=float),
            "ceasefire_reached": ~np.isnan(np.array(start, dtype=float)),
            "ceasefire_censored": np.array(censored),
            "collapse_cause": pd.Categorical(cause),
        }
    )


def _three_worlds():
    """World 0: ceasefire days 5-202, then fighting; world 1: ceasefire from day 5 to the horizon;
    world 2: never a ceasefire. One TTP and one spoiler attack every day."""
    days = 365
    phase = np.full((3, days), FIGHTING)
    phase[0, 5:203] = CEASEFIRE
    phase[1, 5:] = CEASEFIRE
    worlds = _worlds(
        [5, 5, np.nan],
        [198, 360, np.nan],
        [False, True, False],
        ["state_operation", "censored", "no_ceasefire"],
    )
    ones = np.ones((3, days))
    return _kabul_run(worlds, phase, ones, ones)


def test_end_day_counts_censored_worlds_at_the_horizon():
    r = _three_worlds()
    end = V._first_ceasefire_end_day(r)
    assert end[0] == 203 and end[1] == 365 and np.isnan(end[2])
    p = {x.id: x for x in V._dated_observations()}["kabul_2022.ceasefire_end_day"]
    rng = np.random.default_rng(0)
    # half the worlds end on day 150, half still run at the horizon (365): 203 lies inside
    assert V.judge(p, np.r_[np.full(10, 150.0), np.full(10, 365.0), np.nan], rng).passed
    assert not V.judge(p, np.full(20, 105.0), rng).passed


def test_all_groups_counts_follow_the_observed_course():
    r = _three_worlds()
    e = r["kabul_2022"]
    # July 2022: worlds 0 and 1 were in ceasefire all month; 31 days of TTP plus spoiler attacks
    july = V._kabul_model_groups("2022-07", after=False)(r)
    assert np.isnan(july[2]) and july[0] == 62 and july[1] == 62
    # December 2022: only world 0 ended its ceasefire (day 203 = 28 Nov) and fought all month
    dec = V._kabul_model_groups("2022-12", after=True)(r)
    assert dec[0] == 62 and np.isnan(dec[1]) and np.isnan(dec[2])
    assert e.day("2022-12-01") == 206
    # TTP attacks 9 May - 31 Dec (237 days) in worlds in ceasefire June-October
    ttp = V._kabul_ttp_attacks("2022-05-09/2022-12-31")(r)
    assert ttp[0] == 237 and ttp[1] == 237 and np.isnan(ttp[2])
    p = {x.id: x for x in V._dated_observations()}["kabul_2022.ttp_attacks_2022"]
    assert not V.evaluate(p, r).passed  # 237 attacks against at most 89 by PIPS


def test_ended_by_is_the_observed_cause():
    r = _three_worlds()
    p = {x.id: x for x in V._dated_observations()}["kabul_2022.ended_by"]
    assert list(p.per_world(r)) == [1.0, 0.0, 0.0]
