"""A corpus of bad inputs: scenario files, API calls and command lines a careless user might give.

Every case names the fragments its message must contain (the field path or the setting, often the
value) and, for a few, text that must not appear (the contents of a file that is not a scenario).
:func:`run_case` runs one case in a forked child of the current process (so a case that hangs or
allocates without bound is stopped by a time and memory limit, and a command-line case runs
in-process without starting Python again) and :func:`classify` sorts the outcome into

* ``clear``: a :class:`sim.ScenarioError` (API) or exit status 2 (command line) whose message
  names every fragment, without a traceback;
* ``unclear``: a traceback, another exception or exit status, a timeout, or a message that does
  not name the field;
* ``accepted``: the input was taken silently.

Used by ``tests/test_bad_input_corpus.py`` and ``experiments/bad_input_corpus.py``.
YAML files that are easier to read as files are in ``tests/data/bad_inputs/``; the others are
mutations of ``tests/data/mini.yaml`` generated here.
"""

from __future__ import annotations

import io
import json
import os
import resource
import select
import signal
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
FILES = DATA / "bad_inputs"
MINI = DATA / "mini.yaml"
#: seconds a case may take before it counts as hung
TIMEOUT = 20.0
#: memory a case may allocate on top of what the parent process holds
MEMORY_BYTES = 2 * 1024**3
#: run settings added to every command-line case (tiny runs, no figures)
TINY = ("worlds=2", "days=3", "plots=false", "progress=false")


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        name: unique name.
        kind: ``file`` (``sim.load_scenario`` of a YAML text), ``api`` (a call) or ``cli``
            (``python -m sim`` with ``argv``, run in-process).
        names: fragments the message must contain.
        text: YAML text of a ``file`` case (also written for a ``cli`` case that uses ``{file}``).
        call: ``call(ctx)`` for an ``api`` case; ``ctx`` has ``mini`` (path), ``tmp`` (folder),
            ``file`` (the written text's path).
        argv: command line of a ``cli`` case; ``{mini}``, ``{tmp}``, ``{file}`` are filled in.
        absent: fragments the message must not contain (a file's contents).
        tiny: add :data:`TINY` to a ``cli`` case's settings (False for cases about them).
        subset: in the representative subset the test suite runs (every case runs in the script).
        filename: name of the written file (default ``<name>.yaml``).
    """

    name: str
    kind: str
    names: tuple[str, ...]
    text: str | None = None
    call: Callable[[Any], Any] | None = None
    argv: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    tiny: bool = True
    subset: bool = True
    filename: str | None = None


# --------------------------------------------------------------------------------------------
# Generated scenario files: mutations of mini.yaml
# --------------------------------------------------------------------------------------------


def mini_raw() -> dict[str, Any]:
    """The test scenario as plain YAML data (a fresh copy)."""
    return yaml.safe_load(MINI.read_text())


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def mutated(*edits: tuple[str, Any]) -> str:
    """YAML text of mini.yaml with ``(dotted path, value)`` edits; value ``DELETE`` removes."""
    data = mini_raw()
    for path, value in edits:
        *parents, leaf = path.split(".", 1) if path.startswith("sources.") else path.split(".")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return _dump(data)


def raw_line(path: str, literal: str) -> str:
    """YAML text of mini.yaml with the value at ``path`` written verbatim as ``literal``
    (for values ``yaml.safe_dump`` cannot produce, such as ``1e400`` or ``???``)."""
    marker = "__RAW_VALUE__"
    return mutated((path, marker)).replace(marker, literal).replace(f"'{literal}'", literal)


DELETE = object()
FAC = "factions.mehsud_central"
MED = "mediators.haqqani"
SPO = "spoilers.iskp"


def nested(depth: int) -> str:
    """A scenario whose ``observed`` block nests ``depth`` mappings deep (flow style)."""
    return "name: deep\nfactions:\n  a: {fighters_count: 10}\nobserved: " + "{a: " * depth + "1" + "}" * depth


def _file_cases() -> list[Case]:
    big = "9" * 5001
    cases = [
        # inf, NaN, huge numbers in whole-number and share fields
        (
            "release_1e400",
            raw_line("state.offer.prisoner_release_count", "1e400"),
            ["prisoner_release_count"],
        ),
        ("fighters_nan", raw_line(f"{FAC}.fighters_count", ".nan"), [f"{FAC}.fighters_count"]),
        ("tranches_inf", raw_line("state.offer.release_tranche_count", ".inf"), ["release_tranche_count"]),
        ("share_nan", raw_line(f"{FAC}.hardline_share", ".nan"), [f"{FAC}.hardline_share"]),
        ("share_inf", raw_line("state.delivery_reliability", ".inf"), ["state.delivery_reliability"]),
        ("share_minus_inf", raw_line("state.trust_share", "-.inf"), ["state.trust_share"]),
        ("behaviour_nan", raw_line("behaviour.accept_per_day", ".nan"), ["behaviour.accept_per_day"]),
        ("term_days_inf", raw_line("ceasefire.term_days", ".inf"), ["ceasefire.term_days"]),
        ("fighters_5001_digits", raw_line(f"{FAC}.fighters_count", big), [f"{FAC}.fighters_count"]),
        ("fighters_10e30", raw_line(f"{FAC}.fighters_count", "1" + "0" * 30), [f"{FAC}.fighters_count"]),
        ("share_huge_exponent", raw_line(f"{FAC}.hardline_share", "1.0e308"), [f"{FAC}.hardline_share"]),
        ("spoiler_fighters_float_inf", raw_line(f"{SPO}.fighters_count", "-.inf"), [f"{SPO}.fighters_count"]),
        # wrong container types
        ("factions_list", mutated(("factions", ["mehsud_central", "jamaat_ul_ahrar"])), ["factions"]),
        ("factions_scalar", mutated(("factions", "mehsud_central")), ["factions"]),
        ("state_list", mutated(("state", [0.6, 0.5])), ["state"]),
        ("state_scalar", mutated(("state", 3)), ["state"]),
        ("offer_string", mutated(("state.offer", "prisoners")), ["state.offer"]),
        ("troops_mapping", mutated(("state.troops_districts", {"a": 1})), ["state.troops_districts"]),
        ("troops_string", mutated(("state.troops_districts", "mohmand")), ["state.troops_districts"]),
        ("withdrawal_nested_list", mutated(("state.offer.withdrawal_districts", [["a"]])), ["withdrawal"]),
        ("faction_is_list", mutated((FAC, [1, 2])), [FAC]),
        ("faction_is_number", mutated((FAC, 5)), [FAC]),
        ("mediator_is_string", mutated((MED, "yes")), [MED]),
        ("sources_entry_list", mutated(("sources.state", ["a", "b"])), ["sources.state"]),
        ("sources_list", mutated(("sources", ["state: x"])), ["sources"]),
        ("sources_entry_mapping", mutated(("sources.factions", {"a": "b"})), ["sources.factions"]),
        ("observed_list", mutated(("observed", [1, 2])), ["observed"]),
        ("name_mapping", mutated(("name", {"a": 1})), ["name"]),
        ("share_list", mutated((f"{FAC}.hardline_share", [0.5])), [f"{FAC}.hardline_share"]),
        ("share_null", mutated(("state.delivery_reliability", None)), ["state.delivery_reliability"]),
        ("fighters_null", mutated((f"{FAC}.fighters_count", None)), [f"{FAC}.fighters_count"]),
        # deletion and addition of sections
        ("sources_key_typo", mutated(("sources.stat", "assumption")), ["sources", "stat"]),
        (
            "sources_key_unknown_field",
            mutated(("sources.state.reliability", "x")),
            ["sources", "reliability"],
        ),
        ("unknown_section", mutated(("mechanism", {"a": 1})), ["mechanism"]),
        ("state_null", mutated(("state", None)), ["state"]),
        ("factions_null", mutated(("factions", None)), ["factions"]),
        ("faction_null", mutated((FAC, None)), [FAC]),
        # unresolved ???
        (
            "reliability_missing",
            raw_line("state.delivery_reliability", "???"),
            ["state.delivery_reliability"],
        ),
        ("fighters_missing", raw_line(f"{FAC}.fighters_count", "???"), [f"{FAC}.fighters_count"]),
        ("start_missing", raw_line("start", "???"), ["start"]),
        # booleans given as numbers, numbers given as booleans
        ("present_2", mutated((f"{MED}.present", 2)), [f"{MED}.present"]),
        ("present_1", mutated((f"{MED}.present", 1)), [f"{MED}.present"]),
        ("present_0", mutated((f"{MED}.present", 0)), [f"{MED}.present"]),
        ("umbrella_1_0", mutated((f"{FAC}.in_umbrella", 1.0)), [f"{FAC}.in_umbrella"]),
        ("amnesty_string_1", mutated(("state.offer.amnesty", "1")), ["state.offer.amnesty"]),
        ("fighters_true", mutated((f"{FAC}.fighters_count", True)), [f"{FAC}.fighters_count"]),
        ("share_true", mutated(("state.delivery_reliability", True)), ["state.delivery_reliability"]),
        # non-ASCII digits
        ("fighters_arabic_indic", mutated((f"{FAC}.fighters_count", "٣٠٠٠")), [f"{FAC}.fighters_count"]),
        ("fighters_fullwidth", mutated((f"{FAC}.fighters_count", "３０００")), [f"{FAC}.fighters_count"]),
        (
            "share_arabic_indic",
            mutated(("state.delivery_reliability", "٠.٥")),
            ["state.delivery_reliability"],
        ),
        ("fighters_devanagari", mutated((f"{SPO}.fighters_count", "२००")), [f"{SPO}.fighters_count"]),
        # dates: one format, YYYY-MM-DD
        ("date_compact", mutated(("start", "20220509")), ["start", "20220509"]),
        ("date_week", mutated(("start", "2022-W19-1")), ["start", "2022-W19-1"]),
        ("date_ordinal", mutated(("start", "2022-129")), ["start", "2022-129"]),
        ("date_with_time", mutated(("start", "2022-05-09T10:00")), ["start"]),
        ("date_no_padding", mutated(("start", "2022-5-9")), ["start", "2022-5-9"]),
        ("date_arabic_digits", mutated(("start", "٢٠٢٢-٠٥-٠٩")), ["start"]),
        ("date_number", mutated(("start", 2022)), ["start", "2022"]),
        # look-alike and unknown ids
        (
            "home_district_unknown",
            mutated((f"{FAC}.home_district", "atlantis")),
            ["home_district", "atlantis"],
        ),
        (
            "home_district_typo",
            mutated((f"{FAC}.home_district", "south_wazirstan")),
            ["home_district", "south_waziristan"],
        ),
        (
            "home_district_capitals",
            mutated((f"{FAC}.home_district", "South_Waziristan")),
            ["home_district", "South_Waziristan"],
        ),
        (
            "home_district_cyrillic",
            mutated((f"{FAC}.home_district", "mоhmand")),  # Cyrillic o
            ["home_district"],
        ),
        (
            "troops_unknown_district",
            mutated(
                ("state.troops_districts", ["north_waziristan", "south_waziristan", "mohmand", "narnia"])
            ),
            ["state.troops_districts", "narnia"],
        ),
        (
            "troops_district_twice",
            mutated(("state.troops_districts", ["mohmand", "south_waziristan", "mohmand"])),
            ["state.troops_districts", "mohmand"],
        ),
        ("faction_id_cyrillic", None, [".mehsud_centrаl"]),  # Cyrillic a, filled in below
        ("faction_id_number", None, ["factions"]),
        # duplicate ids across actor groups
        ("faction_and_spoiler_same_id", None, ["mehsud_central", "spoilers"]),
        ("faction_and_mediator_same_id", None, ["haqqani", "factions"]),
        # inconsistent tranches
        (
            "one_prisoner_twelve_tranches",
            mutated(("state.offer.prisoner_release_count", 1), ("state.offer.release_tranche_count", 12)),
            ["release_tranche_count", "12"],
        ),
        (
            "five_prisoners_six_tranches",
            mutated(("state.offer.prisoner_release_count", 5), ("state.offer.release_tranche_count", 6)),
            ["release_tranche_count", "6"],
        ),
        # over-long strings and ids
        ("id_5000_chars", None, ["factions", "long"]),
        ("name_100k_chars", mutated(("name", "x" * 100_000)), ["name"]),
        ("home_district_5000_chars", mutated((f"{FAC}.home_district", "d" * 5000)), ["home_district"]),
        ("source_text_200k", mutated(("sources.state", "s" * 200_000)), ["sources.state"]),
        # not a mapping; nesting; other YAML
        ("nesting_20000", nested(20_000), ["scenario.yaml", "deep"]),
        ("nesting_60", nested(60), ["scenario.yaml", "deep"]),
    ]
    out = []
    for name, text, names in cases:
        out.append(Case(name, "file", tuple(names), text=text if text is not None else _special(name)))
    shipped = [
        ("alias_bomb", ["scenario.yaml", "alias"]),
        ("package_global", ["scenario.yaml", "hydra"]),
        ("hydra_key", ["scenario.yaml", "hydra"]),
        ("target_key", ["scenario.yaml", "_target_"]),
        ("python_tag", ["scenario.yaml", "python"]),
        ("bare_sentence", ["scenario.yaml", "mapping"]),
        ("hosts_like", ["scenario.yaml", "mapping"]),
        ("empty", ["scenario.yaml", "mapping"]),
        ("only_comment", ["scenario.yaml", "mapping"]),
        ("list_top", ["scenario.yaml", "mapping"]),
        ("env_interpolation", ["scenario.yaml", "description", "${"]),
        ("self_interpolation", ["scenario.yaml", "description", "${"]),
        ("decode_interpolation", ["scenario.yaml", "fighters_count", "${"]),
        ("syntax_error", ["scenario.yaml", "line"]),
        ("tab_indent", ["scenario.yaml", "line"]),
        ("duplicate_key", ["scenario.yaml", "a"]),
        ("binary", ["scenario.yaml", "YAML"]),
    ]
    absent = {"hosts_like": ("secretpassword",), "env_interpolation": (str(Path.home()),)}
    for name, names in shipped:
        out.append(
            Case(
                name,
                "file",
                tuple(names),
                text=(FILES / f"{name}.yaml").read_text(),
                absent=absent.get(name, ()),
            )
        )
    return out


def _special(name: str) -> str:
    data = mini_raw()
    f = data["factions"]
    if name == "faction_id_cyrillic":
        f["mehsud_centrаl"] = f.pop("mehsud_central")
    elif name == "faction_id_number":
        f[7] = f.pop("mehsud_central")
    elif name == "faction_and_spoiler_same_id":
        data["spoilers"]["mehsud_central"] = data["spoilers"].pop("iskp")
    elif name == "faction_and_mediator_same_id":
        f["haqqani"] = f.pop("hizb_ul_ahrar")
    elif name == "id_5000_chars":
        f["long" * 1250] = f.pop("hizb_ul_ahrar")
    return _dump(data)


# --------------------------------------------------------------------------------------------
# API calls
# --------------------------------------------------------------------------------------------


def _load(*args, **kwargs):
    import sim

    return lambda ctx: sim.load_scenario(*[ctx.fill(a) for a in args], **kwargs)


def _override(key: str, value: Any):
    import sim

    return lambda ctx: sim.load_scenario(ctx.mini, overrides={key: value})


def _run(**kwargs):
    def call(ctx):
        import sim

        args = {"worlds": 2, "days": 3, **kwargs}
        return sim.run(ctx.mini, **args)

    return call


def _params(column: str, values: list[Any]):
    def call(ctx):
        import pandas as pd

        import sim

        return sim.run(ctx.mini, worlds=len(values), days=3, params=pd.DataFrame({column: values}))

    return call


def _model(**kwargs):
    def call(ctx):
        import sim

        return sim.NegotiationModel(ctx.mini, **{"days": 3, **kwargs})

    return call


def _api_cases() -> list[Case]:
    inf, nan = float("inf"), float("nan")
    cases = [
        ("load_int", _load(123), ["123"]),
        ("load_none", _load(None), ["None"]),
        ("load_list", _load(["kabul_2022"]), ["kabul_2022"]),
        ("load_climbs_out", _load("../tests/data/mini"), ["../tests/data/mini"]),
        ("load_absolute_name", _load("/etc/hostname"), ["/etc/hostname"]),
        ("load_name_with_slash", _load("kabul_2022/../kabul_2022"), ["kabul_2022/../kabul_2022"]),
        ("load_passwd_yaml_suffix", _load("{tmp}/passwd.yml"), ["passwd.yml"]),
        ("override_factions_list", _override("factions", ["a", "b"]), ["factions"]),
        (
            "override_release_inf",
            _override("state.offer.prisoner_release_count", inf),
            ["prisoner_release_count"],
        ),
        ("override_fighters_nan", _override(f"{FAC}.fighters_count", nan), [f"{FAC}.fighters_count"]),
        (
            "override_tranches_inf",
            _override("state.offer.release_tranche_count", inf),
            ["release_tranche_count"],
        ),
        ("override_fighters_huge", _override(f"{FAC}.fighters_count", 10**5000), [f"{FAC}.fighters_count"]),
        ("override_present_2", _override(f"{MED}.present", 2), [f"{MED}.present"]),
        ("override_start_compact", _override("start", "20220509"), ["start"]),
        (
            "override_not_string_key",
            lambda ctx: __import__("sim").load_scenario(ctx.mini, overrides={1: 2}),
            ["1"],
        ),
        (
            "override_not_mapping",
            lambda ctx: __import__("sim").load_scenario(ctx.mini, overrides=["a"]),
            ["overrides"],
        ),
        ("override_interpolation", _override("description", "${oc.env:HOME}"), ["description", "${"]),
        ("override_target", _override("observed", {"_target_": "os.system"}), ["_target_"]),
        ("run_worlds_1e12", _run(worlds=10**12, days=1), ["worlds", "memory"]),
        ("run_days_1e9_daily", _run(worlds=1, days=10**9, record="daily"), ["days", "memory"]),
        ("run_workers_1000", _run(workers=1000), ["workers", "1000"]),
        ("run_threads_1000", _run(threads=1000), ["threads", "1000"]),
        ("run_worlds_true", _run(worlds=True), ["worlds", "True"]),
        ("run_days_inf", _run(days=inf), ["days", "inf"]),
        ("run_seed_nan", _run(seed=nan), ["seed", "nan"]),
        ("run_record_int", _run(record=1), ["record"]),
        ("params_int_inf", _params(f"{FAC}.fighters_count", [10, inf]), [f"{FAC}.fighters_count", "row 1"]),
        ("params_int_nan", _params(f"{FAC}.fighters_count", [10, nan]), [f"{FAC}.fighters_count", "row 1"]),
        (
            "params_tranche_inf",
            _params(f"{FAC}.prisoners_held_count", [inf, 1]),
            ["prisoners_held_count", "row 0"],
        ),
        (
            "params_share_inf",
            _params("state.delivery_reliability", [0.5, inf]),
            ["state.delivery_reliability"],
        ),
        ("params_bool_2", _params(f"{MED}.present", [True, 2]), [f"{MED}.present", "row 1"]),
        (
            "params_not_frame",
            lambda ctx: __import__("sim").run(ctx.mini, worlds=2, days=3, params={"a": 1}),
            ["params"],
        ),
        ("model_rng_negative", _model(rng=-1), ["rng", "-1"]),
        ("model_rng_text", _model(rng="abc"), ["rng", "abc"]),
        ("model_days_zero", _model(days=0), ["days", "0"]),
        ("model_params_inf", _model(params={f"{FAC}.fighters_count": inf}), [f"{FAC}.fighters_count"]),
    ]
    return [Case(name, "api", tuple(names), call=call) for name, call, names in cases]


# --------------------------------------------------------------------------------------------
# Command lines
# --------------------------------------------------------------------------------------------


def _cli_cases() -> list[Case]:
    s = "scenario_file={mini}"
    cases: list[tuple[str, tuple[str, ...], list[str], dict[str, Any]]] = [
        ("cli_worlds_1e12", ("worlds=1000000000000", "days=1"), ["worlds", "memory"], {"tiny": False}),
        (
            "cli_days_1e9_daily",
            ("worlds=1", "days=1000000000", "record=daily"),
            ["days", "memory"],
            {"tiny": False},
        ),
        ("cli_workers_64", ("workers=64",), ["workers", "64"], {}),
        ("cli_threads_64", ("threads=64",), ["threads", "64"], {}),
        ("cli_max_memory_tiny", ("max_memory=1KB",), ["max_memory", "memory"], {}),
        (
            "cli_release_1e400",
            (s, "scenario.state.offer.prisoner_release_count=1e400"),
            ["prisoner_release_count"],
            {},
        ),
        ("cli_fighters_nan", (s, f"scenario.{FAC}.fighters_count=nan"), [f"{FAC}.fighters_count"], {}),
        (
            "cli_tranches_inf",
            ("scenario.state.offer.release_tranche_count=inf",),
            ["release_tranche_count"],
            {},
        ),
        (
            "cli_fighters_5001_digits",
            (s, f"scenario.{FAC}.fighters_count={'9' * 5001}"),
            ["fighters_count"],
            {},
        ),
        ("cli_factions_list", ("scenario.factions=[a,b]",), ["scenario.factions"], {}),
        ("cli_delete_factions", ("~scenario.factions",), ["scenario.factions"], {}),
        ("cli_add_ghost_faction", ("+scenario.factions.ghost.hardline_share=0.5",), ["factions.ghost"], {}),
        ("cli_factions_empty", ("scenario.factions={}",), ["factions"], {}),
        ("cli_file_factions_empty", (s, "scenario.factions={}"), ["factions"], {}),
        ("cli_file_delete_state", (s, "~scenario.state"), ["scenario.state"], {}),
        ("cli_present_2", (s, f"scenario.{MED}.present=2"), [f"{MED}.present"], {}),
        ("cli_start_compact", ("scenario.start=20220509",), ["start", "20220509"], {}),
        ("cli_start_week", (s, "scenario.start=2022-W19-1"), ["start", "2022-W19-1"], {}),
        (
            "cli_home_district_unknown",
            (s, f"scenario.{FAC}.home_district=atlantis"),
            ["home_district", "atlantis"],
            {},
        ),
        ("cli_interpolation_value", (s, "scenario.description=${oc.env:HOME}"), ["description"], {}),
        ("cli_scenario_passwd", ("scenario_file=/etc/passwd",), ["scenario_file", "/etc/passwd"], {}),
        ("cli_scenario_climbs_out", ("scenario=../tests/data/mini",), ["scenario", "../tests/data/mini"], {}),
        ("cli_file_env_interpolation", ("scenario_file={file}",), ["description", "${"], {"text": "env"}),
        ("cli_file_hydra_key", ("scenario_file={file}",), ["hydra"], {"text": "hydra_key"}),
        ("cli_file_package_global", ("scenario_file={file}",), ["hydra"], {"text": "package_global"}),
        ("cli_file_alias_bomb", ("scenario_file={file}",), ["alias"], {"text": "alias_bomb"}),
        ("cli_file_nesting", ("scenario_file={file}",), ["deep"], {"text": "nesting"}),
        ("cli_file_sources_list", ("scenario_file={file}",), ["sources.state"], {"text": "sources_list"}),
        ("cli_read_only_dir", (s, "hydra.run.dir={tmp}/ro/run"), ["{tmp}/ro"], {"read_only": True}),
        ("cli_seed_float", ("seed=1.5",), ["seed", "1.5"], {}),
        ("cli_resume_2", ("resume=2",), ["resume", "2"], {}),
        ("cli_worlds_text", ("worlds=many",), ["worlds", "many"], {}),
    ]
    texts = {
        "env": (FILES / "env_interpolation.yaml").read_text(),
        "hydra_key": (FILES / "hydra_key.yaml").read_text(),
        "package_global": (FILES / "package_global.yaml").read_text(),
        "alias_bomb": (FILES / "alias_bomb.yaml").read_text(),
        "nesting": nested(20_000),
        "sources_list": mutated(("sources.state", ["a", "b"])),
    }
    out = []
    heavy = {
        "cli_worlds_1e12",
        "cli_days_1e9_daily",
        "cli_read_only_dir",
        "cli_factions_list",
        "cli_add_ghost_faction",
        "cli_file_alias_bomb",
        "cli_fighters_nan",
        "cli_scenario_passwd",
        "cli_file_hydra_key",
    }
    for name, argv, names, opts in cases:
        text = texts.get(opts.get("text")) if "text" in opts else None
        if opts.get("filename"):
            text = MINI.read_text()
        out.append(
            Case(
                name,
                "cli",
                tuple(names),
                text=text,
                argv=argv + (("{read_only}",) if opts.get("read_only") else ()),
                tiny=opts.get("tiny", True),
                subset=name in heavy,
                filename=opts.get("filename"),
                absent=("root:x:0",) if "passwd" in name else (),
            )
        )
    return out


def all_cases() -> list[Case]:
    """Every case of the corpus."""
    cases = _file_cases() + _api_cases() + _cli_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


# --------------------------------------------------------------------------------------------
# Running a case
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Paths a case may refer to."""

    mini: Path
    tmp: Path
    file: Path | None = None

    def fill(self, value: Any) -> Any:
        """``value`` with ``{mini}``, ``{tmp}`` and ``{file}`` filled in (text only)."""
        if not isinstance(value, str):
            return value
        return (
            value.replace("{mini}", str(self.mini))
            .replace("{tmp}", str(self.tmp))
            .replace("{file}", str(self.file))
        )


@dataclass
class Outcome:
    """What a case did: ``status`` is ``raised``, ``returned``, ``exit``, ``timeout`` or ``died``."""

    status: str
    error: str = ""
    code: int | None = None
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _prepare(case: Case, tmp: Path) -> Context:
    tmp.mkdir(parents=True, exist_ok=True)
    ctx = Context(MINI, tmp)
    if case.text is not None:
        ctx.file = tmp / (case.filename or "scenario.yaml")
        ctx.file.write_text(case.text)
    (tmp / "passwd.yml").write_text("root:x:0:0:root:/root:/bin/bash\n")
    return ctx


def _child(case: Case, ctx: Context) -> Outcome:
    """Run the case in this (child) process."""
    if case.kind == "file":
        import sim

        try:
            sim.load_scenario(ctx.file)
        except Exception as e:
            return _raised(e)
        return Outcome("returned")
    if case.kind == "api":
        try:
            case.call(ctx)
        except Exception as e:
            return _raised(e)
        return Outcome("returned")
    return _run_cli(case, ctx)


def _raised(e: BaseException) -> Outcome:
    import sim

    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    kind = "ScenarioError" if isinstance(e, sim.ScenarioError) else type(e).__name__
    return Outcome("raised", error=kind, message=str(e) if kind == "ScenarioError" else tb)


def _run_cli(case: Case, ctx: Context) -> Outcome:
    import sim.cli.run

    argv = [ctx.fill(a) for a in case.argv if a != "{read_only}"]
    if "{read_only}" in case.argv:
        # a file where the run directory's parent should be: no process, root included, can
        # create the run directory below it
        (ctx.tmp / "ro").write_text("not a directory\n")
    if not any(a.startswith("hydra.run.dir=") for a in argv):
        argv.append(f"hydra.run.dir={ctx.tmp / 'run'}")
    if case.tiny:
        given = {a.split("=")[0] for a in argv}
        argv += [t for t in TINY if t.split("=")[0] not in given]
    os.chdir(ctx.tmp)
    err = ctx.tmp / "stderr.txt"
    fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    os.dup2(fd, 1)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
    code: int | None = 0
    try:
        sim.cli.run.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    sys.stdout.flush()
    return Outcome("exit", code=code, message=err.read_text(errors="replace"))


def run_case(case: Case, tmp: Path, timeout: float = TIMEOUT) -> Outcome:
    """Run ``case`` in a forked child with a time and memory limit; its outcome."""
    ctx = _prepare(case, tmp)
    read, write = os.pipe()
    with warnings.catch_warnings():
        # the parent's threads (pytest's, Numba's) are not used by the child
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            soft = _vm_size() + MEMORY_BYTES
            resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
            out = _child(case, ctx)
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            out = Outcome("raised", error=type(e).__name__, message="".join(traceback.format_exception(e)))
        with os.fdopen(write, "w") as fh:
            json.dump(out.__dict__, fh)
        os._exit(0)
    os.close(write)
    chunks, deadline_hit = [], False
    with os.fdopen(read) as fh:
        ready, _, _ = select.select([fh], [], [], timeout)
        if ready:
            chunks.append(fh.read())
        else:
            deadline_hit = True
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if deadline_hit:
        return Outcome("timeout", message=f"no answer in {timeout:g} s")
    try:
        return Outcome(**json.loads("".join(chunks)))
    except ValueError:
        return Outcome("died", message=f"child ended with status {status}")


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


#: words of the libraries' internals that tell a user nothing about their input
JARGON = (
    "DictConfig",
    "ListConfig",
    "AnyNode",
    "object_type",
    "full_key",
    "HYDRA_FULL_ERROR",
    "is not a subclass of",
    "?:",
    "Could not create instance",
)


def classify(case: Case, out: Outcome, ctx_tmp: Path | None = None) -> tuple[str, str]:
    """``(clear | unclear | accepted, reason)`` of an outcome."""
    names = [n.replace("{tmp}", str(ctx_tmp)) if ctx_tmp else n for n in case.names]
    msg = out.message
    if out.status == "returned" or (out.status == "exit" and out.code == 0):
        return "accepted", "no error"
    if out.status == "raised" and out.error != "ScenarioError":
        return "unclear", f"{out.error}: {_last_line(msg)}"
    if out.status == "exit" and out.code != 2:
        return "unclear", f"exit {out.code}: {_last_line(msg)}"
    if out.status in ("timeout", "died"):
        return "unclear", msg
    if "Traceback" in msg:
        return "unclear", f"traceback: {_last_line(msg)}"
    jargon = [j for j in JARGON if j in msg]
    if jargon:
        return "unclear", f"message speaks of {jargon}: {_short(msg)}"
    missing = [n for n in names if n not in msg]
    if missing:
        return "unclear", f"message does not name {missing}: {_short(msg)}"
    leaked = [a for a in case.absent if a in msg]
    if leaked:
        return "unclear", f"message echoes {leaked}"
    return "clear", _short(msg)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return _short(lines[-1] if lines else "")


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def warm_up() -> None:
    """Import and compile what the cases use once, in this process, before forking."""
    import sim
    import sim.cli.run  # noqa: F401

    sim.run(MINI, worlds=2, days=3, threads=1)
