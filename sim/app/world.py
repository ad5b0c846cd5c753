"""One world, agent by agent: the components of Mesa's SolaraViz for :class:`NegotiationModel`.

Each component reads the model's own agents and records as the day's schedule left them (the
factions' fighters, trust and loyalty; the state's coercion and domestic pressure; the table's
phase; the concession items promised and delivered), and SolaraViz redraws it after each step.
:func:`model_params` are the controls of its "Model Parameters" card, whose Reset builds a new
model from them (Mesa passes its own ``scenario`` object too, which the model keeps as Mesa's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component

from sim.core.model import NegotiationModel
from sim.core.types import ItemKind, Phase
from sim.inputs.scenarios import scenario_names

PHASE_COLOURS = {Phase.FIGHTING: "#c0392b", Phase.TALKS: "#f39c12", Phase.CEASEFIRE: "#1b9e77"}


def model_params(episode: str = "kabul_2022", days: int = 365) -> dict[str, Any]:
    """The controls of SolaraViz's "Model Parameters" card (Mesa's ``model_params``)."""
    return {
        "episode": {"type": "Select", "value": episode, "values": scenario_names(), "label": "Scenario"},
        "rng": {"type": "SliderInt", "value": 1, "min": 0, "max": 99, "step": 1, "label": "Seed"},
        "world": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1, "label": "World"},
        "days": {"type": "SliderInt", "value": days, "min": 30, "max": 1460, "step": 5, "label": "Days"},
    }


def factions_table(model: NegotiationModel) -> pd.DataFrame:
    """The factions today: fighters, hardliners, trust in the state, loyalty to the umbrella."""
    rows = []
    for f in model.factions:
        rows.append(
            {
                "faction": f.faction_id,
                "fighters": round(float(f.fighters)),
                "hardliners": round(float(f.hardliners)),
                "trust": round(float(f.trust), 2),
                "loyalty": round(float(f.loyalty), 2),
                "in umbrella": bool(f.in_umbrella),
                "defected": bool(f.defected),
                "accepts offer": bool(f.accepted),
            }
        )
    return pd.DataFrame(rows)


def promises(model: NegotiationModel) -> pd.DataFrame:
    """Each concession item of the offer today: kind, prisoners, day promised, day due, delivered
    (and overdue: due but not delivered). Items not promised have no promise day."""
    p = model.params
    promised = model.promise_day[0]
    due = np.where(promised >= 0, promised + p.item_due_days[0], np.nan)
    active = p.item_active[0].astype(bool)
    table = pd.DataFrame(
        {
            "item": [ItemKind(int(k)).name.replace("_", " ") for k in p.item_kind],
            "prisoners": p.item_prisoners[0].round().astype(int),
            "promised on day": np.where(promised >= 0, promised, np.nan),
            "due on day": due,
            "delivered": model.delivered[0].astype(bool),
        }
    )[active]
    table["overdue"] = ~table["delivered"] & (table["due on day"] < model.day)
    return table.reset_index(drop=True)


def promises_figure(model: NegotiationModel) -> Figure:
    """Timeline of promises against deliveries: a bar from the day each item was promised to the
    day it falls due; green once delivered, red when overdue, grey while pending."""
    items = promises(model)
    fig = Figure(figsize=(6.0, 0.5 + 0.32 * max(len(items), 1)), layout="constrained")
    ax = fig.add_subplot()
    for i, row in items.iterrows():
        if np.isnan(row["promised on day"]):
            continue
        colour = "#1b9e77" if row["delivered"] else "#c0392b" if row["overdue"] else "0.6"
        ax.plot(
            [row["promised on day"], row["due on day"]], [i, i], color=colour, lw=6, solid_capstyle="butt"
        )
        ax.plot([row["promised on day"]], [i], "o", color=colour)
        ax.plot([row["due on day"]], [i], "|", color=colour, ms=14, mew=2)
    ax.axvline(model.day, color="0.2", ls=":", lw=1)
    ax.set_yticks(
        range(len(items)), [f"{r.item} {r.prisoners}" if r.prisoners else r.item for r in items.itertuples()]
    )
    ax.set_xlim(0, max(model.days, 1))
    ax.set_xlabel("day (promised -> due); green delivered, red overdue, grey pending; dotted: today")
    ax.set_title("Promises against deliveries", fontsize=10)
    return fig


# The three views below are plain functions of the model, not Solara components: SolaraViz
# wraps such a function in a component that is drawn again after every step.


def Factions(model: NegotiationModel):
    """The factions' table (fighters, trust, loyalty) for SolaraViz."""
    with solara.Column() as view:
        solara.Markdown("**TTP factions today**")
        solara.DataFrame(factions_table(model), items_per_page=12)
    return view


def StateAndTable(model: NegotiationModel):
    """Day, the table's phase and the state's coercion and domestic pressure, for SolaraViz."""
    phase = Phase(int(model.phase))
    colour = PHASE_COLOURS[phase]
    st = model.state
    return solara.Markdown(
        f"**Day {model.day}** of {model.days} &nbsp; "
        f"<span style='color:{colour}'>**{phase.name.lower()}**</span>\n\n"
        f"- state's coercion: {float(st.coercion):.2f} (0 to 1)\n"
        f"- domestic pressure: {float(st.pressure):.2f} (0 to 1)\n"
        f"- state's trust in the TTP: {float(st.trust):.2f}\n"
        f"- prisoners released so far: {round(float(model.fac['released'][0].sum()))}"
    )


def Promises(model: NegotiationModel):
    """The timeline of promises against deliveries, for SolaraViz."""
    return solara.FigureMatplotlib(promises_figure(model), format="png")


def components() -> list:
    """SolaraViz components: the model's own views and Mesa plots of its DataCollector series."""
    return [
        StateAndTable,
        Factions,
        Promises,
        make_plot_component({"ttp_fighters": "#c0392b", "hardliners": "#7b241c"}),
        make_plot_component({"coercion": "#34495e", "pressure": "#f39c12", "ttp_trust": "#1b9e77"}),
        make_plot_component({"phase": "#6c3483"}),
    ]


@solara.component
def OneWorld():
    """One world of a scenario in Mesa's SolaraViz, stepped day by day."""
    model = solara.use_memo(lambda: NegotiationModel("kabul_2022", rng=1, days=365), [])
    SolaraViz(model, components=components(), model_params=model_params(), name="One world, day by day")
