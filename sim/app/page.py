"""The page: move the levers of a scenario, run a thousand worlds, and compare with the scenario
unchanged; or step one world day by day (Mesa's SolaraViz).

Served by ``negsim-app`` (or ``python -m sim.app``; :func:`sim.app.main`), which runs
``solara run sim.app.page``. Solara shows :data:`routes` as two tabs: "Many worlds"
(:func:`Ensemble`) and "One world" (:func:`sim.app.world.OneWorld`).
"""

from __future__ import annotations

import solara

from sim.app import levers as lv
from sim.app.world import OneWorld
from sim.inputs.scenarios import load_scenario, scenario_names
from sim.inputs.schema import Scenario, ScenarioError
from sim.report.figures import collapse_causes, fan_chart, survival

scenario_name = solara.reactive("kabul_2022")


@solara.component
def StateLevers(s: Scenario, values: solara.Reactive[lv.Levers]):
    """The state's levers: delivery, the prisoners offered and their tranches, withdrawal, the
    united-front demand."""
    v = values.value

    def put(**change):
        values.set(lv.Levers(**{**vars(v), **change}))

    with solara.Column(classes=["negsim-lever-reliability"]):
        solara.SliderFloat(
            "Delivery reliability",
            thumb_label="always",
            value=v.delivery_reliability,
            on_value=lambda x: put(delivery_reliability=x),
            min=0.0,
            max=1.0,
            step=0.05,
        )
    solara.SliderInt(
        "Prisoners offered",
        thumb_label="always",
        value=v.prisoner_release_count,
        on_value=lambda x: put(prisoner_release_count=x),
        min=0,
        max=lv.prisoners_held(s),
    )
    solara.SliderInt(
        "Tranches of the release",
        thumb_label="always",
        value=v.release_tranche_count,
        on_value=lambda x: put(release_tranche_count=x),
        min=1,
        max=12,
    )
    solara.SelectMultiple(
        "Districts the troops withdraw from",
        values=v.withdrawal_districts,
        all_values=list(s.state.troops_districts),
        on_value=lambda x: put(withdrawal_districts=list(x)),
    )
    solara.Switch(
        label="The state talks only to a united TTP front",
        value=v.insists_united_front,
        on_value=lambda x: put(insists_united_front=x),
    )


@solara.component
def OtherLevers(s: Scenario, values: solara.Reactive[lv.Levers]):
    """The mediators (present, leverage) and the spoilers (present or not)."""
    v = values.value

    def put(**change):
        values.set(lv.Levers(**{**vars(v), **change}))

    for k in s.mediators:
        solara.Switch(
            label=f"Mediator {k} takes part",
            value=v.mediators_present[k],
            on_value=lambda x, k=k: put(mediators_present={**v.mediators_present, k: x}),
        )
        solara.SliderFloat(
            f"Leverage of {k}",
            thumb_label="always",
            value=v.mediators_leverage[k],
            on_value=lambda x, k=k: put(mediators_leverage={**v.mediators_leverage, k: x}),
            min=0.0,
            max=1.0,
            step=0.05,
            disabled=not v.mediators_present[k],
        )
    if s.spoilers:
        solara.Switch(
            label=f"Spoilers take part ({', '.join(s.spoilers)})",
            value=v.spoilers_present,
            on_value=lambda x: put(spoilers_present=x),
        )


@solara.component
def Outcome(runs: dict, edited: Scenario, name: str):
    """The numbers side by side, the figures, and the downloads."""
    table = lv.headline_table(runs)
    with solara.Div(classes=["negsim-headline"]):
        solara.Markdown(lv.markdown_table(table))
    with solara.Row():
        solara.FileDownload(
            lambda: lv.scenario_yaml(edited), filename=f"{name}_edited.yaml", label="Edited scenario (YAML)"
        )
        solara.FileDownload(
            lambda: lv.results_csv(runs), filename=f"{name}_worlds.csv", label="Results of both runs (CSV)"
        )
    with solara.Div(classes=["negsim-survival"]):
        solara.FigureMatplotlib(survival(runs, title="How long first ceasefires last"), format="png")
    solara.FigureMatplotlib(collapse_causes(runs), format="png")
    solara.FigureMatplotlib(
        fan_chart(runs["edited"], title="Attacks per month, edited scenario"), format="png"
    )


@solara.component
def Levers(name: str):
    """The levers of one scenario and the outcome of its last run."""
    base = solara.use_memo(lambda: load_scenario(name), [name])
    values = solara.use_reactive(lv.defaults(base))
    result = solara.use_reactive(None)
    error = solara.use_reactive("")

    def go():
        try:
            edited = lv.apply(base, values.value)
        except ScenarioError as e:
            error.set(str(e))
            return
        error.set("")
        result.set((lv.compare(base, edited, lv.horizon(name, base)), edited))

    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Markdown(f"*{base.description}*")
            StateLevers(base, values)
            OtherLevers(base, values)
            with solara.Row():
                solara.Button("Run", on_click=go, color="primary", classes=["negsim-run"])
                solara.Button("Back to the scenario's values", on_click=lambda: values.set(lv.defaults(base)))
            solara.Markdown(
                f"{lv.WORLDS:,} worlds of {lv.horizon(name, base)} days, seed 0, edited and unchanged "
                "(same seed: a difference is the levers', not chance)."
            )
        with solara.Column():
            if error.value:
                solara.Error(error.value)
            elif result.value is None:
                solara.Info(
                    "Move the levers, then press Run (the first run after an install compiles "
                    "the model once: up to a minute)."
                )
            else:
                runs, edited = result.value
                Outcome(runs, edited, name)


@solara.component
def Ensemble():
    """Choose a scenario; its levers and outcome (:func:`Levers`, kept per scenario)."""
    solara.Title("negsim: talks between the Pakistani state and the TTP")
    solara.Select("Scenario", values=scenario_names(), value=scenario_name)
    Levers(scenario_name.value).key(scenario_name.value)


routes = [
    solara.Route(path="/", component=Ensemble, label="Many worlds"),
    solara.Route(path="one-world", component=OneWorld, label="One world"),
]
