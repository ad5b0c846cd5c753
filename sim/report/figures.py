"""Figures of run outcomes: survival of ceasefires, outcome distributions, violence over time,
why ceasefires ended, and sweep response surfaces.

Every function takes tables (or :class:`~sim.running.results.Results`) and returns a
:class:`matplotlib.figure.Figure` drawn on an Agg canvas. Nothing here touches pyplot, so no
figure is left open in pyplot's global registry and no backend is switched: a figure is freed
when it goes out of scope, saves with ``fig.savefig(path)``, and shows in a notebook as the
value of a cell.

Every figure has a title, axis labels with units, a legend and a caption at the bottom naming
the scenario, the number of worlds and the seed. The caption reads these from the arguments
``scenario=``, ``seed=``, ``days=`` when given, else from a :class:`Results` passed in, else
from ``DataFrame.attrs`` (:func:`sim.report.saved_runs.load_run` fills them from ``summary.json``).
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from scipy import stats

from sim.core import registry
from sim.core.outcomes import DAYS_PER_MONTH
from sim.core.types import Phase
from sim.running.reductions import OUTCOME_LABELS, param_label, survives, wilson
from sim.running.reductions import outcome as outcome_spec
from sim.running.results import Results

__all__ = [
    "survival",
    "survival_estimate",
    "distributions",
    "fan_chart",
    "collapse_causes",
    "sweep_response",
    "survives",
    "save_standard_figures",
    "monthly_series",
    "CAUSE_LABELS",
    "CAUSE_COLOURS",
]

CAUSE_LABELS: dict[str, str] = dict(registry.CAUSE_LABELS)
CAUSE_COLOURS: dict[str, str] = {
    "state_non_delivery": "#d95f02",
    "faction_violation": "#e7298a",
    "spoiler_provocation": "#7570b3",
    "state_operation": "#a6761d",
    "term_expired": "#e6ab02",
    "censored": "#1b9e77",
    "no_ceasefire": "#bdbdbd",
}
# Stacking order: how ceasefires ended, then still running, then none reached.
CAUSE_ORDER = list(registry.CAUSE_STACK_ORDER)
assert set(CAUSE_COLOURS) == set(CAUSE_ORDER)

SERIES_STYLE = {
    "ttp_attacks": ("TTP attacks", "#c0392b"),
    "spoiler_attacks": ("spoiler attacks", "#6c3483"),
    "casualties": ("killed and injured", "#34495e"),
}

DEFAULT_COLUMNS = ("ceasefire_days", "ttp_attacks", "prisoners_released", "defections_to_spoilers")

TableLike = pd.DataFrame | Results


# --------------------------------------------------------------------------------------------
# Helpers: inputs, captions, figures
# --------------------------------------------------------------------------------------------


def _table(obj: TableLike) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Outcome table and what is known about its run (scenario, seed, days)."""
    if isinstance(obj, Results):
        return obj.worlds, {"scenario": obj.scenario, "seed": obj.seed, "days": obj.days}
    if isinstance(obj, pd.DataFrame):
        return obj, {k: obj.attrs.get(k) for k in ("scenario", "seed", "days") if k in obj.attrs}
    raise TypeError(f"expected an outcome DataFrame or a Results, got {type(obj).__name__}")


def _tables(tables: Mapping[str, TableLike] | TableLike) -> dict[str, tuple[pd.DataFrame, dict]]:
    if isinstance(tables, (pd.DataFrame, Results)):
        df, info = _table(tables)
        return {str(info.get("scenario") or "run"): (df, info)}
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("expected a non-empty dict {label: outcome table}")
    return {str(k): _table(v) for k, v in tables.items()}


def _info(info: dict[str, Any], scenario=None, seed=None, days=None) -> dict[str, Any]:
    out = dict(info)
    for k, v in (("scenario", scenario), ("seed", seed), ("days", days)):
        if v is not None:
            out[k] = v
    return out


def _run_text(n_worlds: int, info: dict[str, Any], with_scenario: bool = True) -> str:
    parts = []
    if with_scenario:
        parts.append(f"scenario {info.get('scenario') or 'unknown'}")
    parts.append(f"{n_worlds:,} worlds")
    parts.append(f"seed {info['seed']}" if info.get("seed") is not None else "seed unknown")
    if info.get("days") is not None:
        parts.append(f"horizon {int(info['days'])} days")
    return ", ".join(parts)


def _caption_many(items: dict[str, tuple[pd.DataFrame, dict]], note: str = "") -> str:
    infos = [info for _, info in items.values()]
    if len(items) == 1:
        ((df, info),) = items.values()
        text = _run_text(len(df), info)
        text = text[0].upper() + text[1:]
    elif all(
        {k: i.get(k) for k in ("scenario", "seed", "days")}
        == {k: infos[0].get(k) for k in ("scenario", "seed", "days")}
        for i in infos
    ):
        # One run split into groups (sweep points): say the run once, then the group sizes.
        first = dict(infos[0])
        total = sum(len(df) for df, _ in items.values())
        text = _run_text(total, first)
        text = (
            text[0].upper()
            + text[1:]
            + "; worlds per curve: "
            + ", ".join(f"{label} {len(df):,}" for label, (df, _) in items.items())
        )
    else:
        text = "; ".join(
            f"{label}: {_run_text(len(df), info, info.get('scenario') not in (None, label))}"
            for label, (df, info) in items.items()
        )
    return text + (f". {note}" if note else ".")


def _figure(width: float, height: float, caption: str) -> Figure:
    """A figure on an Agg canvas with room for a wrapped caption at the bottom."""
    lines = textwrap.wrap(caption, width=max(40, int(width * 15))) or [""]
    caption_in = 0.12 + 0.16 * len(lines)
    bottom = min(0.4, caption_in / height)
    fig = Figure(figsize=(width, height), layout=ConstrainedLayoutEngine(rect=(0, bottom, 1, 1 - bottom)))
    FigureCanvasAgg(fig)
    fig.text(0.01, 0.06 / height, "\n".join(lines), ha="left", va="bottom", fontsize=8, color="0.25")
    return fig


def _no_data(ax, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


# --------------------------------------------------------------------------------------------
# Survival of first ceasefires
# --------------------------------------------------------------------------------------------


def survival_estimate(
    worlds: TableLike, days: Iterable[float] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier estimate of how long first ceasefires last, with right-censoring.

    Only worlds that reached a ceasefire count. A first ceasefire still in force at the horizon
    (``ceasefire_censored``) is right-censored at its ``ceasefire_days``. Uses
    ``scipy.stats.ecdf`` on ``scipy.stats.CensoredData`` and the survival function's
    pointwise confidence interval (Greenwood's formula).

    Args:
        worlds: outcome table (or Results).
        days: days at which to evaluate; default every whole day from 0 to the longest duration.
        confidence: level of the pointwise band.

    Returns:
        DataFrame with columns ``days``, ``survival`` (share of first ceasefires still in force
        after that many days), ``lo``, ``hi``. ``attrs`` holds ``ceasefires``, ``ended`` and
        ``censored`` counts. Empty if no world reached a ceasefire.
    """
    df, _ = _table(worlds)
    reached = df[df["ceasefire_reached"].astype(bool)]
    dur = reached["ceasefire_days"].to_numpy(dtype=float)
    cens = reached["ceasefire_censored"].to_numpy(dtype=bool)
    if days is None:
        top = float(np.nanmax(dur)) if len(dur) else 0.0
        grid = np.arange(0.0, np.floor(top) + 1.0)
    else:
        grid = np.asarray(list(days), dtype=float)
    out = pd.DataFrame({"days": grid, "survival": np.nan, "lo": np.nan, "hi": np.nan})
    out.attrs.update(ceasefires=int(len(dur)), ended=int((~cens).sum()), censored=int(cens.sum()))
    if not len(dur):
        return out.iloc[0:0]
    res = stats.ecdf(stats.CensoredData(uncensored=dur[~cens], right=dur[cens]))
    sf = res.sf.evaluate(grid)
    with warnings.catch_warnings():
        # Greenwood's interval is undefined where the estimate is 0 or 1; there it has no width.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = res.sf.confidence_interval(confidence)
        lo, hi = ci.low.evaluate(grid), ci.high.evaluate(grid)
    out["survival"] = sf
    out["lo"] = np.clip(np.where(np.isnan(lo), sf, lo), 0.0, 1.0)
    out["hi"] = np.clip(np.where(np.isnan(hi), sf, hi), 0.0, 1.0)
    return out


def survival(
    tables: Mapping[str, TableLike] | TableLike,
    *,
    confidence: float = 0.95,
    max_days: float | None = None,
    marks: Sequence[float] = (90, 180),
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    days: int | None = None,
    width: float = 8.0,
    height: float = 5.0,
) -> Figure:
    """Kaplan-Meier curves of first-ceasefire duration, several tables overlaid.

    Args:
        tables: ``{label: outcome table or Results}`` (scenarios, sweep points) or one table.
        confidence: level of the shaded pointwise bands (None or 0 for no bands).
        max_days: right end of the day axis (default: longest duration seen).
        marks: days to mark with dotted vertical lines (90 and 180 by default).
        title: figure title.
        scenario, seed, days: run details for the caption (override what the tables carry).

    Long because the keyword arguments take a line each and the curves, bands and labels of one
    figure belong together.
    """
    items = {k: (df, _info(info, scenario, seed, days)) for k, (df, info) in _tables(tables).items()}
    fig = _figure(
        width,
        height,
        _caption_many(
            items,
            "Only worlds that reached a ceasefire; ceasefires still in force at the horizon "
            f"are right-censored. Bands: pointwise {confidence:.0%} (Greenwood)."
            if confidence
            else "Only worlds that reached a ceasefire; censored at the horizon.",
        ),
    )
    ax = fig.add_subplot()
    colours = [f"C{i}" for i in range(10)]
    top = 0.0
    for i, (label, (df, _)) in enumerate(items.items()):
        est = survival_estimate(df, confidence=confidence or 0.95)
        n_worlds = len(df)
        if est.empty:
            ax.plot([], [], color=colours[i % 10], label=f"{label}: no ceasefire in {n_worlds:,} worlds")
            continue
        a = est.attrs
        share = a["ceasefires"] / max(n_worlds, 1)
        c = colours[i % 10]
        ax.step(
            est["days"],
            est["survival"],
            where="post",
            color=c,
            lw=1.8,
            label=f"{label}: {a['ceasefires']:,} ceasefires ({share:.0%} of worlds), "
            f"{a['censored']:,} censored",
        )
        if confidence:
            ax.fill_between(est["days"], est["lo"], est["hi"], step="post", color=c, alpha=0.18, lw=0)
        top = max(top, float(est["days"].max()))
    if top == 0 and all(survival_estimate(df, days=[0]).empty for df, _ in items.values()):
        _no_data(ax, "no world reached a ceasefire")
    ax.set_xlim(0, max_days if max_days is not None else max(top, 1.0))
    ax.set_ylim(0, 1.02)
    for m in marks:
        if m <= (max_days or top):
            ax.axvline(m, color="0.5", ls=":", lw=1)
            ax.text(m, 0.01, f" {m:g} days", color="0.4", fontsize=8, va="bottom")
    ax.set_xlabel("days since the first ceasefire began (days)")
    ax.set_ylabel("first ceasefires still in force (share)")
    ax.set_title(title or "How long first ceasefires last (Kaplan-Meier)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return fig


# --------------------------------------------------------------------------------------------
# Distributions of outcomes
# --------------------------------------------------------------------------------------------


def _bins(values: np.ndarray, max_bins: int = 40) -> np.ndarray | int:
    if not len(values):
        return 10
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return np.array([lo - 0.5, hi + 0.5])
    if np.allclose(values, np.round(values)) and hi - lo <= max_bins:
        return np.arange(lo - 0.5, hi + 1.5)
    edges = np.histogram_bin_edges(values, bins="auto")
    return edges if len(edges) - 1 <= max_bins else max_bins


def distributions(
    worlds: TableLike,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    *,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    days: int | None = None,
    ncols: int | None = None,
) -> Figure:
    """Small multiples of histograms of outcome columns across worlds.

    ``ceasefire_days`` counts only worlds that reached a ceasefire and stacks ceasefires that
    ended apart from those still in force at the horizon (censored). Each panel marks the median.

    Args:
        worlds: outcome table (or Results).
        columns: outcome columns, one panel each.
        title, scenario, seed, days: figure title and run details for the caption.
        ncols: panels per row (default 2 for up to 4 panels, else 3).
    """
    df, info = _table(worlds)
    info = _info(info, scenario, seed, days)
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the outcome table; it has {list(df.columns)}")
    n = len(columns)
    ncols = ncols or (2 if n <= 4 else 3)
    nrows = int(np.ceil(n / ncols))
    fig = _figure(4.2 * ncols, 3.2 * nrows + 0.8, _caption_many({"": (df, info)}))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, col in zip(axes, columns, strict=False):
        values = df[col].to_numpy(dtype=float)
        ok = ~np.isnan(values)
        label = OUTCOME_LABELS.get(col, col.replace("_", " "))
        if not ok.any():
            _no_data(ax, "no world has a value")
        elif np.all(values[ok] == values[ok][0]):
            # One value in every world: say it rather than draw a one-bar histogram.
            _no_data(ax, f"{values[ok][0]:,.4g} in every world ({ok.sum():,})")
            ax.set_xlabel(label)
            ax.set_title(label.split(" (")[0], fontsize=10)
            ax.set_yticks([])
            continue
        elif col == "ceasefire_days" and "ceasefire_censored" in df.columns:
            cens = df["ceasefire_censored"].to_numpy(dtype=bool) & ok
            ended = ok & ~cens
            b = _bins(values[ok])
            ax.hist(
                [values[ended], values[cens]],
                bins=b,
                stacked=True,
                color=["#2c7fb8", CAUSE_COLOURS["censored"]],
                label=[f"ended ({ended.sum():,})", f"still in force at horizon ({cens.sum():,})"],
            )
        else:
            ax.hist(values[ok], bins=_bins(values[ok]), color="#2c7fb8", label=f"worlds ({ok.sum():,})")
        if ok.any():
            med = float(np.median(values[ok]))
            ax.axvline(med, color="k", ls="--", lw=1, label=f"median {med:,.4g}")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_xlabel(label)
        ax.set_ylabel("worlds (count)")
        ax.set_title(label.split(" (")[0], fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Outcomes across worlds")
    return fig


# --------------------------------------------------------------------------------------------
# Fan chart of monthly violence
# --------------------------------------------------------------------------------------------


def monthly_series(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Monthly long table (world, month, counts, ``ceasefire_days``, ``days``).

    A monthly table is returned as it is; a daily one (``record="daily"``, with ``date`` and
    ``phase``) is summed per calendar month.
    """
    if "month" in timeseries.columns:
        return timeseries
    if "date" not in timeseries.columns:
        raise ValueError(
            "expected a monthly series table (column 'month') or a daily one (columns 'date' and 'phase')"
        )
    df = timeseries.copy()
    df["month"] = pd.to_datetime(df["date"]).dt.to_period("M").dt.to_timestamp()
    df["ceasefire_days"] = (registry.codes(df["phase"]) == int(Phase.CEASEFIRE)).astype(int)
    df["days"] = 1
    sums = [
        c
        for c in ("ttp_attacks", "spoiler_attacks", "casualties", "ceasefire_days", "days")
        if c in df.columns
    ]
    return df.groupby(["world", "month"], sort=True)[sums].sum().reset_index()


def _series_and_info(timeseries: pd.DataFrame | Results, scenario, seed, days) -> tuple[pd.DataFrame, dict]:
    """The series table of a table or Results, and what is known about its run."""
    info: dict[str, Any] = {}
    if isinstance(timeseries, Results):
        info = {"scenario": timeseries.scenario, "seed": timeseries.seed, "days": timeseries.days}
        if timeseries.timeseries is None:
            raise ValueError("these Results have no series: run with record='monthly'")
        timeseries = timeseries.timeseries
    else:
        info = {k: timeseries.attrs[k] for k in ("scenario", "seed", "days") if k in timeseries.attrs}
    return timeseries, _info(info, scenario, seed, days)


def _month_edges(months: np.ndarray) -> tuple[list, list]:
    """Edges and centres of the months on the x axis (dates, or plain numbers)."""
    starts = pd.DatetimeIndex(months) if np.issubdtype(np.asarray(months).dtype, np.datetime64) else None
    edges = (
        (list(starts) + [starts[-1] + pd.offsets.MonthBegin(1)])
        if starts is not None and len(starts)
        else list(np.asarray(months, dtype=float)) + [float(months[-1]) + 1 if len(months) else 1.0]
    )
    centres = [a + (b - a) / 2 for a, b in zip(edges[:-1], edges[1:], strict=False)]
    return edges, centres


def _fan_panel(
    ax,
    ts: pd.DataFrame,
    col: str,
    months: np.ndarray,
    centres: list,
    most: np.ndarray,
    shade: Callable[[Any], None],
) -> None:
    """One series' monthly median with 50% and 90% bands over worlds."""
    name, colour = SERIES_STYLE.get(col, (col.replace("_", " "), "C0"))
    rate = (ts[col] / ts["days"] * DAYS_PER_MONTH).groupby(ts["month"])
    q = rate.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack().reindex(months)
    shade(ax)
    ax.fill_between(centres, q[0.05], q[0.95], color=colour, alpha=0.18, lw=0, label="90% of worlds")
    ax.fill_between(centres, q[0.25], q[0.75], color=colour, alpha=0.35, lw=0, label="50% of worlds")
    ax.plot(centres, q[0.5], color=colour, lw=2, label=f"median {name}")
    ax.set_ylabel(f"{name}\n(per month)")
    top = np.nanmax(q[0.95].to_numpy()) if len(q) else 1.0
    ax.set_ylim(0, 1.25 * top if np.isfinite(top) and top > 0 else 1.0)  # room for the legend
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if most.any():
        handles.append(Patch(color="#a1d99b", alpha=0.6))
        labels.append("most worlds in a ceasefire")
    ax.legend(handles, labels, fontsize=7, loc="upper left", ncols=4)


def _ceasefire_share_panel(axc, centres: list, share_cf: pd.Series, shade: Callable[[Any], None]) -> None:
    """Bottom panel of the fan chart: share of worlds in a ceasefire, month by month."""
    shade(axc)
    axc.plot(
        centres,
        share_cf.to_numpy(),
        color="#238b45",
        lw=1.5,
        marker=".",
        label="worlds in a ceasefire, average day",
    )
    axc.axhline(0.5, color="0.5", ls=":", lw=1)
    axc.set_ylim(0, 1)
    axc.set_ylabel("ceasefire\n(share)")
    axc.set_xlabel("month (calendar month)")
    axc.legend(fontsize=7, loc="upper right")
    axc.grid(alpha=0.3)


def fan_chart(
    timeseries: pd.DataFrame | Results,
    series: Sequence[str] = ("ttp_attacks", "spoiler_attacks"),
    *,
    min_days: int = 14,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    days: int | None = None,
) -> Figure:
    """Monthly attacks across worlds: median, 50% and 90% bands, one panel per series.

    TTP and spoiler attacks are drawn apart (own panel and colour). Months in which most worlds
    were in a ceasefire (on average more than half of the worlds on each day of the month, from
    ``ceasefire_days``) are shaded, and a bottom panel shows that share month by month.

    Counts are scaled to a month of 30.4 days, so a partial first or last month compares with
    full ones; months covered by fewer than ``min_days`` days are left out.

    Args:
        timeseries: monthly (or daily) long table from ``run(..., record="monthly")``, or Results.
        series: count columns to draw, one panel each.
    """
    timeseries, info = _series_and_info(timeseries, scenario, seed, days)
    ts = monthly_series(timeseries)
    if "days" not in ts.columns:
        ts = ts.assign(days=pd.to_datetime(ts["month"]).dt.days_in_month)
    if ts.empty:
        raise ValueError("the series table is empty")
    ts = ts[ts["days"] >= min(min_days, int(ts["days"].max()))]  # a very short run keeps its month
    n_worlds = int(timeseries["world"].nunique())
    fig = _figure(
        9.0,
        2.6 * len(series) + 2.2,
        _caption_many(
            {"": (pd.DataFrame(index=range(n_worlds)), info)},
            "Line: median over worlds; bands: 50% and 90% of worlds. Counts per month scaled to "
            f"30.4 days; months with under {min_days} days left out.",
        ),
    )
    ratios = [3] * len(series) + [1]
    axes = fig.subplots(len(series) + 1, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    months = np.sort(ts["month"].unique())
    share_cf = (ts["ceasefire_days"] / ts["days"]).groupby(ts["month"]).mean().reindex(months)
    most = share_cf.to_numpy() > 0.5
    edges, centres = _month_edges(months)

    def shade(ax):
        for i in np.flatnonzero(most):
            ax.axvspan(edges[i], edges[i + 1], color="#a1d99b", alpha=0.35, lw=0, zorder=0)

    for ax, col in zip(axes, series, strict=False):
        _fan_panel(ax, ts, col, months, centres, most, shade)
    _ceasefire_share_panel(axes[-1], centres, share_cf, shade)
    fig.suptitle(title or "Attacks per month across worlds: TTP and spoilers apart")
    return fig


# --------------------------------------------------------------------------------------------
# Why first ceasefires ended
# --------------------------------------------------------------------------------------------


def cause_shares(worlds: pd.DataFrame, reached_only: bool = False) -> pd.Series:
    """Share of worlds per ``collapse_cause`` in :data:`CAUSE_ORDER` (all causes present)."""
    df = worlds[worlds["ceasefire_reached"].astype(bool)] if reached_only else worlds
    counts = df["collapse_cause"].astype(str).value_counts()
    counts = counts.reindex(CAUSE_ORDER, fill_value=0)
    if reached_only:
        counts = counts.drop("no_ceasefire")
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def collapse_causes(
    tables: Mapping[str, TableLike] | TableLike,
    *,
    reached_only: bool = False,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    days: int | None = None,
) -> Figure:
    """Why first ceasefires ended: shares of ``collapse_cause`` per table as stacked bars.

    Args:
        tables: ``{label: outcome table or Results}`` (scenarios, sweep points) or one table.
        reached_only: shares among worlds that reached a ceasefire (default: among all worlds,
            with "no ceasefire reached" as its own segment).
    """
    items = {k: (df, _info(info, scenario, seed, days)) for k, (df, info) in _tables(tables).items()}
    shares = pd.DataFrame({label: cause_shares(df, reached_only) for label, (df, _) in items.items()}).T
    width = min(16.0, 6.5 + 0.9 * len(items))
    fig = _figure(
        width,
        5.0,
        _caption_many(
            items,
            "Shares among worlds that reached a ceasefire." if reached_only else "Shares among all worlds.",
        ),
    )
    ax = fig.add_subplot()
    x = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for cause in shares.columns:
        v = shares[cause].to_numpy() * 100
        ax.bar(
            x,
            v,
            bottom=bottom,
            color=CAUSE_COLOURS[cause],
            label=CAUSE_LABELS[cause],
            edgecolor="white",
            lw=0.5,
            width=0.7,
        )
        for xi, b, h in zip(x, bottom, v, strict=False):
            if h >= 6:
                ax.text(xi, b + h / 2, f"{h:.0f}%", ha="center", va="center", fontsize=7)
        bottom += v
    ax.set_xticks(
        x, list(shares.index), rotation=20 if len(x) > 4 else 0, ha="right" if len(x) > 4 else "center"
    )
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of worlds (%)")
    ax.set_xlabel("scenario or sweep point")
    ax.set_title(title or "How first ceasefires ended")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        fontsize=8,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        title="first ceasefire",
        title_fontsize=8,
    )
    return fig


# --------------------------------------------------------------------------------------------
# Sweep response
# --------------------------------------------------------------------------------------------


def _levels(values: pd.Series, max_levels: int, bins: int) -> tuple[pd.Series, list[str], np.ndarray]:
    """Group codes, labels and positions of a swept column (binned when it has many values)."""
    uniq = np.sort(values.dropna().unique())
    if len(uniq) <= max_levels:
        codes = pd.Series(np.searchsorted(uniq, values.to_numpy()), index=values.index)
        return codes, [f"{u:.3g}" for u in uniq], uniq.astype(float)
    cut, edges = pd.qcut(values, q=bins, retbins=True, duplicates="drop")
    codes = pd.Series(cut.cat.codes.to_numpy(), index=values.index)
    labels = [f"{a:.3g}-{b:.3g}" for a, b in zip(edges[:-1], edges[1:], strict=False)]
    centres = (edges[:-1] + edges[1:]) / 2
    return codes, labels, centres


def _outcome_and_label(outcome: str | Callable[[pd.DataFrame], float]):
    """The reduction spec of a named outcome (None for a function) and its axis label."""
    if callable(outcome):
        return None, getattr(outcome, "__name__", "outcome").replace("_", " ")
    spec = outcome_spec(outcome)
    return spec, spec.label


def _sweep_note(df: pd.DataFrame, x: str, y: str | None, x_levels: int) -> str:
    """Caption note: how many sweep points, and whether one parameter's were pooled."""
    n_points = df.groupby([c for c in (x, y) if c is not None]).ngroups
    for key in ("point", "job"):
        if key in df.columns:
            n_points = df[key].nunique()
            break
    note = f"{n_points:,} sweep points"
    if y is None and x_levels < n_points:
        note += f" pooled into {x_levels} values of {x}"
    return note


def _response_line(
    ax, df: pd.DataFrame, codes: np.ndarray, xpos: np.ndarray, spec, outcome, o_label: str
) -> None:
    """One parameter: the outcome per value of ``x`` (a share with Wilson bands, or a median
    with bands over worlds and the mean, or a function's value)."""
    k = len(xpos)
    if spec is None:
        vals = np.array([outcome(df[codes == i]) for i in range(k)], dtype=float)
        ax.plot(xpos, vals, marker="o", color="C0", label=o_label)
    elif spec.is_share:
        share, n = spec.per_group(df, codes, k)
        ax.plot(xpos, share, marker="o", color="C0", lw=2, label=f"share ({int(n.sum()):,} counted)")
        for level, alpha, lab in ((0.9, 0.18, "90% interval"), (0.5, 0.35, "50% interval")):
            lo, hi = wilson(share * n, n, level)
            ax.fill_between(xpos, lo, hi, color="C0", alpha=alpha, lw=0, label=lab)
        ax.set_ylim(0, 1)
    else:
        num, den = spec.arrays(df)
        v = pd.Series(np.where(den > 0, num, np.nan)).groupby(codes)
        q = v.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack().reindex(range(k))
        ax.fill_between(xpos, q[0.05], q[0.95], color="C0", alpha=0.18, lw=0, label="90% of worlds")
        ax.fill_between(xpos, q[0.25], q[0.75], color="C0", alpha=0.35, lw=0, label="50% of worlds")
        ax.plot(xpos, q[0.5], marker="o", color="C0", lw=2, label="median")
        ax.plot(xpos, v.mean().reindex(range(k)), ls="--", color="C1", lw=1.2, label="mean")


def _response_grid(df: pd.DataFrame, cell: np.ndarray, size: int, spec, outcome) -> np.ndarray:
    """Two parameters: the outcome of each cell (mean or share over its worlds; NaN if empty)."""
    if spec is not None:
        return spec.per_group(df, cell, size)[0]
    grid = np.full(size, np.nan)
    for i, g in df.groupby(cell):
        grid[int(i)] = outcome(g)
    return grid


def _label_cells(ax, grid: np.ndarray) -> None:
    """Write each finite cell's value on a heatmap (light text on dark cells)."""
    ky, kx = grid.shape
    finite = grid[np.isfinite(grid)]
    mid = (np.nanmin(finite) + np.nanmax(finite)) / 2 if finite.size else 0
    for j in range(ky):
        for i in range(kx):
            v = grid[j, i]
            if np.isfinite(v):
                ax.text(
                    i + 0.5,
                    j + 0.5,
                    f"{v:.2f}" if abs(v) < 10 else f"{v:,.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v < mid else "black",
                )


def _response_heatmap(fig: Figure, grid: np.ndarray, xl: list[str], yl: list[str], spec, o_label: str):
    """Draw the two-parameter heatmap on ``fig`` and return its axes."""
    ky, kx = grid.shape
    ax = fig.add_subplot()
    vmin, vmax = (0.0, 1.0) if spec is not None and spec.is_share else (None, None)
    mesh = ax.pcolormesh(
        np.arange(kx + 1),
        np.arange(ky + 1),
        np.ma.masked_invalid(grid),
        cmap="viridis",
        vmin=vmin,
        vmax=vmax,
        shading="flat",
    )
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(o_label)
    if kx * ky <= 150:
        _label_cells(ax, grid)
    ax.set_xticks(np.arange(kx) + 0.5, xl, rotation=45 if kx > 6 else 0, ha="right" if kx > 6 else "center")
    ax.set_yticks(np.arange(ky) + 0.5, yl)
    # The colour bar is the key; a legend entry is added only to explain blank cells.
    if not np.isfinite(grid).all():
        ax.legend(
            handles=[Patch(facecolor="white", edgecolor="0.5", label="no value (blank cell)")],
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.25, 1.0),
        )
    return ax


def sweep_response(
    df: pd.DataFrame,
    x: str,
    y: str | None = None,
    outcome: str | Callable[[pd.DataFrame], float] = "survives_90",
    *,
    max_levels: int = 12,
    bins: int = 8,
    title: str | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    days: int | None = None,
) -> Figure:
    """How an outcome responds to one or two swept parameters.

    ``df`` has one row per (point, world): the swept parameter values as columns plus the
    outcome columns. Rows are grouped by the value of ``x`` (and ``y``); a column with more than
    ``max_levels`` distinct values (a sampled design) is cut into ``bins`` quantile bins. Other
    swept columns are pooled.

    One parameter: a line per value of ``x``. For a column outcome the line is the median over
    worlds with 50% and 90% bands of the worlds' values, and a dashed line the mean. For a share
    (``survives_N``, ``lasts_past_N``, yes/no columns) the line is the share with 50% and 90%
    Wilson intervals. Two parameters: a heatmap of the mean or share per cell.

    Args:
        df: (point, world) rows.
        x, y: swept columns (dotted scenario fields such as ``state.delivery_reliability``).
        outcome: an outcome name (see :mod:`sim.running.reductions`: a column, ``survives_N``,
            ``lasts_past_N``) or a function of a group's rows returning a number.
        max_levels, bins: binning of continuous swept columns.

    Long because the keyword arguments take a line each and the choice between lines and a heat map
    is made in one place.
    """
    for c in (x, y):
        if c is not None and c not in df.columns:
            raise ValueError(f"swept column {c!r} is not in the table; it has {list(df.columns)}")
    spec, o_label = _outcome_and_label(outcome)
    info = _info(
        {k: df.attrs.get(k) for k in ("scenario", "seed", "days") if k in df.attrs}, scenario, seed, days
    )
    xc, xl, xpos = _levels(df[x], max_levels, bins)
    note = _sweep_note(df, x, y, len(xl))

    if y is None:
        fig = _figure(
            7.5,
            5.0,
            _caption_many(
                {"": (df, info)},
                note
                + "; "
                + (
                    "bands: 50% and 90% Wilson intervals of the share."
                    if spec is not None and spec.is_share
                    else "bands: 50% and 90% of worlds at each point."
                    if spec is not None
                    else ""
                ),
            ),
        )
        ax = fig.add_subplot()
        _response_line(ax, df, xc.to_numpy(), xpos, spec, outcome, o_label)
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(o_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title or f"{o_label.split(' (')[0]} by {x.split('.')[-1].replace('_', ' ')}")
        return fig

    yc, yl, _ = _levels(df[y], max_levels, bins)
    kx, ky = len(xl), len(yl)
    cell = (yc.to_numpy() * kx + xc.to_numpy()).astype(np.int64)
    grid = _response_grid(df, cell, kx * ky, spec, outcome).reshape(ky, kx)
    fig = _figure(
        max(6.5, 0.7 * kx + 4),
        max(5.0, 0.45 * ky + 3),
        _caption_many(
            {"": (df, info)},
            note
            + "; each cell: "
            + ("share over its worlds" if spec is not None and spec.is_share else "mean over its worlds")
            + ("." if np.isfinite(grid).all() else ". Blank: no value."),
        ),
    )
    ax = _response_heatmap(fig, grid, xl, yl, spec, o_label)
    ax.set_xlabel(param_label(x))
    ax.set_ylabel(param_label(y))
    ax.set_title(title or f"{o_label.split(' (')[0]}")
    return fig


# --------------------------------------------------------------------------------------------
# Standard set
# --------------------------------------------------------------------------------------------


def save_standard_figures(run_dir: str | Path, results: Results, dpi: int = 120) -> list[Path]:
    """Write the standard figures of a run as PNG into ``run_dir``.

    ``survival.png``, ``distributions.png``, ``collapse_causes.png``, and ``fan_chart.png`` when
    the run recorded a monthly (or daily) series. Returns the paths written. A figure that fails
    to draw is skipped with a ``RuntimeWarning`` (the run's tables are already safe).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    label = results.scenario or "run"
    figures: list[tuple[str, Callable[[], Figure]]] = [
        ("survival.png", lambda: survival({label: results})),
        ("distributions.png", lambda: distributions(results)),
        ("collapse_causes.png", lambda: collapse_causes({label: results})),
    ]
    ts = results.timeseries
    if ts is not None and len(ts) and ("month" in ts.columns or "date" in ts.columns):
        figures.append(("fan_chart.png", lambda: fan_chart(results)))
    paths = []
    for name, make in figures:
        # A figure that cannot be drawn must not lose the run: warn, and draw the others.
        try:
            fig = make()
            path = run_dir / name
            fig.savefig(path, dpi=dpi)
        except Exception as e:  # noqa: BLE001
            warnings.warn(
                f"figure {name} was not drawn: {type(e).__name__}: {e}", RuntimeWarning, stacklevel=2
            )
            continue
        paths.append(path)
    return paths
