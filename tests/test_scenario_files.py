"""Checks on the scenario files in ``scenarios/``: they load, every value has a provenance that
names a seed or says ``assumption``, quotes match the seed articles, observed facts use the shared
vocabulary, and each counterfactual differs from its base episode only where its name says."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from sim.core.types import CollapseCause
from sim.inputs.scenarios import leaf_paths, load_scenario, missing_sources, to_dict
from sim.report.patterns import EPISODES as VALIDATION_EPISODES

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
NAMES = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
SEED_IDS = {"000", "001", "002", "003", "004"}
# Local copies of the source articles, for the quotation check only: docs/sources.md lists them,
# their text is not in the repository.
SEEDS_DIR = Path(os.environ.get("TTP_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))

EPISODES = list(VALIDATION_EPISODES)  # the documented episodes of the validation report


def _all_present_false(base: dict[str, Any]) -> dict[str, Any]:
    return {f"mediators.{m}.present": False for m in base["mediators"]}


# counterfactual -> (base episode, function of the base's data giving {dotted path: new value})
COUNTERFACTUALS = {
    "kabul_2022_full_delivery": ("kabul_2022", lambda base: {"state.delivery_reliability": 1.0}),
    "kabul_2022_no_mediator": ("kabul_2022", _all_present_false),
    "secret_talks_2020_no_unity_demand": (
        "secret_talks_2020",
        lambda base: {"state.insists_united_front": False},
    ),
    "ceasefire_2021_prisoners_first": (
        "ceasefire_2021",
        lambda base: {"state.offer.release_before_ceasefire": True},
    ),
}

# Observed keys shared by every file (see the comment above `observed:` in any scenario file).
OBSERVED_KEYS = {
    "ceasefire_reached": bool,
    "ceasefire_days": int,
    "ceasefire_days_min": int,
    "ceasefire_days_max": int,
    "ceasefire_in_force_on": "date",
    "ended_by": "cause",
    "deal_failed": bool,
    "talks_ended_window": "date_pair",
    "prisoners_promised_min": int,
    "prisoners_released": int,
    "promises_kept": bool,
    "reunified_factions": "faction_ids",
    "defected_factions": "faction_ids",
    "attacks_all_groups_min": "period_counts",
    "leaders_killed_ceasefire": "period_counts",
    "ceasefire_started_on": "date",
    "ceasefire_ended_on": "date",
    "talks_held_on": "date_list",
    "attacks_all_groups": "period_counts",
    "ttp_attacks_claimed": "period_counts",
}
PERIOD_KEY = re.compile(r"^(ttp_attacks|spoiler_attacks|casualties)_(talks|ceasefire|after|any)(_min)?$")
PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$")

SOURCE_START = re.compile(r"^(?:(00[0-4]):|assumption\b)")
SEED_MARK = re.compile(r"(?<![\d,.])(00[0-4])(?![\d,])")
QUOTED = re.compile(r'"([^"]+)"')


def raw(name: str) -> dict[str, Any]:
    return OmegaConf.to_container(OmegaConf.load(SCENARIO_DIR / f"{name}.yaml"))  # type: ignore[return-value]


def value_leaves(r: dict[str, Any]) -> list[str]:
    return leaf_paths({k: v for k, v in r.items() if k not in ("name", "description", "sources", "observed")})


def flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(flat(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): node}


def model_values(name: str) -> dict[str, Any]:
    """Every field of the validated scenario (defaults filled in), minus text and provenance."""
    d = to_dict(load_scenario(name))
    for k in ("name", "description", "sources", "observed"):
        d.pop(k)
    return flat(d)


def norm(s: str) -> str:
    for a, b in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2013", "-"),
        ("\u2014", "-"),
    ):
        s = s.replace(a, b)
    return " ".join(s.lower().split())


def test_expected_files_present():
    missing = set(EPISODES) | set(COUNTERFACTUALS)
    assert not missing - set(NAMES), f"missing scenario files: {sorted(missing - set(NAMES))}"


@pytest.mark.parametrize("name", NAMES)
def test_loads(name):
    load_scenario(name)


@pytest.mark.parametrize("name", NAMES)
def test_every_value_has_a_source(name):
    assert missing_sources(raw(name)) == []


@pytest.mark.parametrize("name", NAMES)
def test_no_stale_sources(name):
    r = raw(name)
    leaves = set(value_leaves(r))
    stale = sorted(set(r.get("sources") or {}) - leaves)
    assert not stale, f"{name}: sources for fields that are not in the file: {stale}"


@pytest.mark.parametrize("name", NAMES)
def test_sources_name_a_seed_or_assumption(name):
    bad = {
        k: v
        for k, v in (raw(name).get("sources") or {}).items()
        if not isinstance(v, str) or not SOURCE_START.match(v)
    }
    assert not bad, (
        f"{name}: a source must start with 'NNN:' (NNN in {sorted(SEED_IDS)}) or 'assumption': {bad}"
    )


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS_DIR} (set TTP_SEEDS_DIR)")
    out = {}
    for sid in SEED_IDS:
        files = sorted(SEEDS_DIR.glob(f"{sid}_*.txt"))
        assert files, f"no seed file {sid}_*.txt in {SEEDS_DIR}"
        out[sid] = norm(files[0].read_text(encoding="utf-8"))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_quotes_are_in_the_seed_they_cite(name, seeds):
    """Text in double quotes inside a source is quoted from the nearest seed id before it."""
    problems = []
    for path, src in (raw(name).get("sources") or {}).items():
        marks = [(m.start(), m.group(1)) for m in SEED_MARK.finditer(src)]
        for q in QUOTED.finditer(src):
            before = [sid for pos, sid in marks if pos < q.start()]
            if not before:
                problems.append(f"{path}: quote {q.group(1)!r} has no seed id before it")
                continue
            sid = before[-1]
            for piece in re.split(r"\.\.\.|\u2026", q.group(1)):
                if piece.strip() and norm(piece.strip()) not in seeds[sid]:
                    problems.append(f"{path}: {piece.strip()!r} is not in seed {sid}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _is_date(s: Any) -> bool:
    try:
        datetime.date.fromisoformat(str(s))
        return isinstance(s, str)
    except ValueError:
        return False


@pytest.mark.parametrize("name", NAMES)
def test_observed_uses_shared_keys(name):
    r = raw(name)
    factions = set(r.get("factions") or {})
    problems = []
    for key, value in (r.get("observed") or {}).items():
        kind = "period_counts" if PERIOD_KEY.match(key) else OBSERVED_KEYS.get(key)
        if kind is None:
            problems.append(f"{key}: not a known observed key; add it to OBSERVED_KEYS with its meaning")
        elif kind is bool or kind is int:
            if type(value) is not kind:
                problems.append(f"{key} = {value!r}: expected {kind.__name__}")
        elif kind == "date":
            if not _is_date(value):
                problems.append(f"{key} = {value!r}: expected a quoted date YYYY-MM-DD")
        elif kind == "date_pair":
            if not (
                isinstance(value, list)
                and len(value) == 2
                and all(map(_is_date, value))
                and value[0] <= value[1]
            ):
                problems.append(f"{key} = {value!r}: expected [earliest, latest] dates")
        elif kind == "date_list":
            dates = isinstance(value, list) and value and all(map(_is_date, value))
            if not (dates and value == sorted(value)):
                problems.append(f"{key} = {value!r}: expected a list of dates in order")
        elif kind == "faction_ids":
            if not (isinstance(value, list) and set(value) <= factions):
                problems.append(f"{key} = {value!r}: expected faction ids of this file")
        elif kind == "period_counts":
            if not (
                isinstance(value, dict)
                and value
                and all(PERIOD.match(str(p)) and type(c) is int and c >= 0 for p, c in value.items())
            ):
                problems.append(f"{key} = {value!r}: expected {{ISO period: count}}")
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_observed_ended_by_is_a_collapse_cause(name):
    observed = raw(name).get("observed") or {}
    if "ended_by" in observed:
        assert observed["ended_by"] in CollapseCause.__members__, (
            f"{name}: observed.ended_by = {observed['ended_by']!r}, expected one of "
            f"{list(CollapseCause.__members__)}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_no_behaviour_block(name):
    assert "behaviour" not in raw(name), (
        f"{name}: shipped scenarios use the shared behavioural parameters from the code"
    )


@pytest.mark.parametrize("name", sorted(COUNTERFACTUALS))
def test_counterfactual_changes_only_what_its_name_says(name):
    base_name, promise = COUNTERFACTUALS[name]
    expected = promise(raw(base_name))
    assert expected, f"{name}: promises no change"
    base, cf = model_values(base_name), model_values(name)
    assert set(base) == set(cf), f"{name}: fields differ from {base_name}: {set(base) ^ set(cf)}"
    changed = {k for k in base if base[k] != cf[k]}
    assert changed == set(expected), (
        f"{name}: changed {sorted(changed)}, but its name promises only {sorted(expected)}"
    )
    for path, value in expected.items():
        assert cf[path] == value, f"{name}: {path} = {cf[path]!r}, expected {value!r}"


@pytest.mark.parametrize("name", sorted(COUNTERFACTUALS))
def test_counterfactual_sources_change_with_the_values(name):
    base_name, promise = COUNTERFACTUALS[name]
    expected = set(promise(raw(base_name)))
    base_src, cf_src = raw(base_name)["sources"], raw(name)["sources"]
    assert set(base_src) == set(cf_src)
    differ = {k for k in base_src if base_src[k] != cf_src[k]}
    assert differ == expected, (
        f"{name}: sources changed for {sorted(differ)}, expected exactly {sorted(expected)}"
    )


@pytest.mark.parametrize("name", sorted(COUNTERFACTUALS))
def test_counterfactual_description_names_its_base(name):
    base_name, _ = COUNTERFACTUALS[name]
    assert base_name in raw(name)["description"]
