"""The interactive page (sim.app): its levers, Mesa's tools on the model, and the page in a real
browser (headless Chromium driven by Playwright; skipped only when no Chromium is installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import mesa
import pandas as pd
import pytest

import sim
from sim.app import levers as lv
from sim.app import solara_args
from sim.inputs.schema import ScenarioError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# Mesa's own tools and the model's scenario argument
# --------------------------------------------------------------------------------------------


def test_model_takes_mesa_scenario_object_as_solaraviz_reset_passes_it():
    """SolaraViz's Reset rebuilds the model with Mesa's own ``scenario`` object beside the
    user's parameters; the model must keep it as Mesa's and load the negotiation episode."""
    from mesa.experimental.scenarios import Scenario as MesaScenario
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    model = sim.NegotiationModel("kabul_2022_no_mediator", rng=3, days=5)
    kwargs = _build_model_init_kwargs(
        model,
        {"episode": "kabul_2022_no_mediator", "rng": 3, "days": 5},
        add_scenario_when_empty=True,
        require_model_accepts_scenario=True,
    )
    assert isinstance(kwargs["scenario"], MesaScenario)
    again = type(model)(**kwargs)
    assert again.config == model.config and isinstance(again.scenario, MesaScenario)
    for _ in range(5):
        model.step()
        again.step()
    pd.testing.assert_series_equal(pd.Series(again.outcomes()), pd.Series(model.outcomes()))  # same world


def test_scenario_keyword_still_names_the_episode():
    by_keyword = sim.NegotiationModel(scenario="kabul_2022_no_mediator", rng=1, days=2)
    assert by_keyword.config.name == sim.load_scenario("kabul_2022_no_mediator").name
    with pytest.raises(TypeError, match="episode"):
        sim.NegotiationModel("kabul_2022", scenario="kabul_2022_no_mediator")


def test_batch_run_builds_the_model_from_episode():
    rows = mesa.batch_run(
        sim.NegotiationModel,
        {"episode": ["kabul_2022", "kabul_2022_no_mediator"], "days": 3},
        rng=[1],
        max_steps=3,
        display_progress=False,
    )
    assert {r["episode"] for r in rows} == {"kabul_2022", "kabul_2022_no_mediator"}


def test_load_scenario_of_a_wrong_type_is_a_scenario_error():
    from mesa.experimental.scenarios import Scenario as MesaScenario

    with pytest.raises(ScenarioError, match="expected a shipped scenario's name"):
        sim.load_scenario(MesaScenario())


# --------------------------------------------------------------------------------------------
# The levers
# --------------------------------------------------------------------------------------------


def test_levers_round_trip_and_each_reaches_its_field():
    s = sim.load_scenario("kabul_2022")
    assert lv.apply(s, lv.defaults(s)) == s
    v = lv.defaults(s)
    v.delivery_reliability = 0.25
    v.prisoner_release_count = 60
    v.release_tranche_count = 3
    v.withdrawal_districts = ["bajaur"]
    v.insists_united_front = True
    v.mediators_present = {**v.mediators_present, "haqqani": False}
    v.mediators_leverage = {**v.mediators_leverage, "al_qaeda": 0.9}
    v.spoilers_present = False
    e = lv.apply(s, v)
    assert e.state.delivery_reliability == 0.25
    assert (e.state.offer.prisoner_release_count, e.state.offer.release_tranche_count) == (60, 3)
    assert e.state.offer.withdrawal_districts == ["bajaur"] and e.state.insists_united_front
    assert not e.mediators["haqqani"].present and e.mediators["al_qaeda"].leverage_share == 0.9
    assert e.spoilers == {}
    assert lv.defaults(e) == v


def test_a_bad_lever_value_is_a_scenario_error_naming_the_field():
    s = sim.load_scenario("kabul_2022")
    v = lv.defaults(s)
    v.prisoner_release_count = lv.prisoners_held(s) + 1
    with pytest.raises(ScenarioError, match="prisoner_release_count"):
        lv.apply(s, v)


def test_horizon_is_the_episodes_for_episodes_and_counterfactuals():
    s = sim.load_scenario("kabul_2022")
    assert lv.horizon("kabul_2022", s) == 365
    assert lv.horizon("kabul_2022_no_mediator", sim.load_scenario("kabul_2022_no_mediator")) == 365
    assert lv.horizon("nope", s) == lv.DEFAULT_DAYS


def test_compare_downloads_and_headline(tmp_path):
    s = sim.load_scenario("kabul_2022")
    v = lv.defaults(s)
    v.delivery_reliability = 0.0
    e = lv.apply(s, v)
    runs = lv.compare(s, e, days=200, worlds=64)
    table = lv.headline_table(runs)
    assert list(table.columns) == ["unchanged", "edited"]
    assert (table["unchanged"] != table["edited"]).any()
    assert all(float(x).is_integer() for x in table.to_numpy().ravel() if x == x)
    (tmp_path / "e.yaml").write_text(lv.scenario_yaml(e))
    assert sim.load_scenario(tmp_path / "e.yaml") == e
    (tmp_path / "w.csv").write_text(lv.results_csv(runs))
    back = pd.read_csv(tmp_path / "w.csv")
    assert len(back) == 128 and set(back["run"]) == {"unchanged", "edited"}
    assert "| median TTP attacks |" in lv.markdown_table(table)


def test_command_line_of_the_server():
    assert solara_args(["--port", "9000", "--no-open"]) == [
        "run",
        "sim.app.page",
        "--production",
        "--port",
        "9000",
        "--host",
        "localhost",
        "--no-open",
    ]


# --------------------------------------------------------------------------------------------
# The page in a real browser
# --------------------------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _headline(text: str) -> dict[str, tuple[str, str]]:
    """The page's table of numbers as ``{row: (unchanged, edited)}``."""
    rows = [line.split("\t") for line in text.splitlines()]
    return {r[0].strip(): (r[1].strip(), r[2].strip()) for r in rows if len(r) == 3 and r[0].strip()}


@pytest.fixture(scope="module")
def served_page():
    """The page served by ``python -m sim.app`` on a free port; its address."""
    port = _free_port()
    log = open(os.devnull, "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.app", "--port", str(port), "--no-open"], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("localhost", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the page's server did not start")
                time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium of the system, driven by Playwright."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium found (Debian: apt-get install chromium; CI installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def test_page_moves_a_lever_runs_and_the_outcome_moves(browser, served_page):
    """Open the page, run the scenario as it is, set delivery reliability to 0, run again: the
    numbers and the survival figure change. Saves the screenshot docs/app.png."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served_page)
    run = page.get_by_role("button", name="Run", exact=True)
    run.wait_for(timeout=60_000)
    run.click()
    headline = page.locator(".negsim-headline")
    headline.wait_for(timeout=60_000)
    before = headline.inner_text()
    figure = page.locator(".negsim-survival img")
    figure_before = figure.get_attribute("src")
    # Both columns are the same run before a lever moves.
    assert len(_headline(before)) == 6
    assert all(u == e for u, e in _headline(before).values())
    page.locator(".negsim-lever-reliability [role=slider]").focus()
    page.keyboard.press("Home")  # delivery reliability to 0
    run.click()
    page.wait_for_function(
        "b => document.querySelector('.negsim-headline').innerText !== b", arg=before, timeout=60_000
    )
    after = headline.inner_text()
    # The survival figure is drawn anew (an image of other bytes, so another blob address).
    page.wait_for_function(
        "s => document.querySelector('.negsim-survival img').src !== s", arg=figure_before, timeout=30_000
    )
    unchanged, edited = map(int, _headline(after)["median prisoners released"])
    assert edited < unchanged  # an unreliable state releases fewer prisoners
    page.screenshot(path=str(REPO / "docs" / "app.png"))


def test_one_world_steps_and_resets_in_solaraviz(browser, served_page):
    """The one-world tab: Step moves the model's own views a day on; Reset (which passes Mesa's
    scenario object to the model) builds a new model at day 0 without an error."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served_page + "/one-world")
    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for(timeout=60_000)
    page.get_by_text("Day 0 of 365").wait_for(timeout=30_000)
    step.click()
    step.click()
    page.get_by_text("Day 2 of 365").wait_for(timeout=30_000)
    page.get_by_text("TTP factions today").wait_for(timeout=30_000)
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Day 0 of 365").wait_for(timeout=30_000)
    # SolaraViz redraws its own time display after the model's views: wait for it too.
    page.get_by_text("Time: 0.0").wait_for(timeout=30_000)
    assert not page.get_by_text("error", exact=False).count()
