"""The outcome registry (sim.core.registry) is the one declaration of every table column.

* It covers exactly the columns the tables have, in their order and with their types.
* The series' declared positions are where the compiled rules write them, and the monthly table
  aggregates them as declared.
* Figure labels, the docs' outcome tables and the collapse-cause order all come from it.
* Parquet files carry each column's unit and meaning (field metadata).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim
from sim.core import outcomes, registry
from sim.core.registry import Kind, Monthly, Table
from sim.running.files import write_parquet_atomic
from sim.running.reductions import OUTCOME_LABELS, outcome, parquet_fields


@pytest.fixture(scope="module")
def daily():
    return sim.run("kabul_2022", worlds=40, days=200, seed=3, record="daily")


@pytest.fixture(scope="module")
def monthly():
    return sim.run("kabul_2022", worlds=40, days=200, seed=3, record="monthly")


def _names(table: Table) -> list[str]:
    return [c.name for c in registry.columns(table)]


def _assert_kinds(df: pd.DataFrame, cols: list[registry.Column]) -> None:
    for c in cols:
        got = str(df[c.name].dtype)
        if c.kind is Kind.DATE:
            assert got.startswith("datetime64"), (c.name, got)
        else:
            assert got == c.kind.dtype, (c.name, got, c.kind)


def test_registry_covers_the_worlds_and_ceasefire_tables(daily):
    assert list(daily.worlds.columns) == _names(Table.WORLDS) == list(sim.OUTCOME_COLUMNS)
    assert list(daily.ceasefires.columns) == _names(Table.CEASEFIRES) == list(outcomes.CEASEFIRE_COLUMNS)
    assert len(daily.ceasefires) > 0
    _assert_kinds(daily.worlds, registry.columns(Table.WORLDS))
    _assert_kinds(daily.ceasefires, registry.columns(Table.CEASEFIRES))
    assert list(daily.worlds["collapse_cause"].cat.categories) == [c.name for c in sim.CollapseCause]


def test_registry_covers_the_series_tables(daily, monthly):
    series = [c.name for c in registry.series()]
    assert series == list(sim.SERIES)
    assert list(daily.timeseries.columns) == ["world", "day", *series, "date"]
    assert set(daily.timeseries.columns) == set(_names(Table.DAILY)) | set(series)
    keys = [c.name for c in registry.columns(Table.MONTHLY) if c.monthly is None]
    assert list(monthly.timeseries.columns) == keys + [c.name for c in registry.monthly_columns()]
    assert set(monthly.timeseries.columns) == set(_names(Table.MONTHLY)) | set(series)
    _assert_kinds(daily.timeseries, registry.columns(Table.DAILY) + registry.series())
    _assert_kinds(monthly.timeseries, registry.columns(Table.MONTHLY) + registry.series())


def test_series_positions_are_where_the_compiled_rules_write(daily):
    positions = sorted(c.position for c in registry.series())
    assert positions == list(range(len(positions)))
    ts, w = daily.timeseries, daily.worlds.set_index("world")
    by_world = ts.groupby("world")
    # Daily counts add up to the world's totals; stocks end at the world's end values.
    assert np.array_equal(by_world["ttp_attacks"].sum().to_numpy(), w["ttp_attacks"].to_numpy())
    assert np.array_equal(by_world["spoiler_attacks"].sum().to_numpy(), w["spoiler_attacks"].to_numpy())
    np.testing.assert_allclose(by_world["casualties"].sum(), w["casualties"], rtol=1e-9)
    last = by_world.last()
    np.testing.assert_allclose(last["ttp_fighters"], w["ttp_fighters_end"], rtol=1e-12)
    np.testing.assert_allclose(last["prisoners_released"], w["prisoners_released"], rtol=1e-12)
    assert list(ts["phase"].cat.categories) == ["fighting", "talks", "ceasefire"]
    assert (ts["hardliners"] <= ts["ttp_fighters"] + 1e-9).all()
    for share in ("ttp_trust", "state_trust", "coercion", "pressure"):
        assert ts[share].between(0, 1).all(), share
    in_cf = (ts["phase"] == "ceasefire").groupby(ts["world"]).any()
    assert (in_cf | ~w["ceasefire_reached"]).all()


def test_monthly_table_aggregates_as_declared():
    # One month: a series that is 1 then 2 sums to 3, ends at 2 and averages 1.5.
    probe = {k: np.array([[1.0], [2.0]]) for k in sim.SERIES}
    table = outcomes.series_table(probe, np.array([0]), "2022-01-01", "monthly")
    expect = {Monthly.SUM: 3.0, Monthly.LAST: 2.0, Monthly.MEAN: 1.5}
    for c in registry.series():
        assert registry.codes(table[c.name])[0] == expect[c.monthly], c.name
    assert table["days"].iloc[0] == 2


def test_labels_docs_and_causes_come_from_the_registry():
    from sim.report import docs, figures, patterns

    assert OUTCOME_LABELS == {c.name: c.label for c in registry.columns(Table.WORLDS) if c.label}
    assert outcome("ceasefire_reached").is_share and not outcome("ttp_attacks").is_share
    with pytest.raises(ValueError, match="collapse_cause"):
        outcome("collapse_cause")
    text = docs.outcome_reference()
    for c in registry.COLUMNS:
        assert f"`{c.name}`" in text and c.meaning in text, c.name
    names = [c.name for c in sim.CollapseCause]
    assert list(registry.CAUSE_NAMES) == names
    assert list(patterns.CAUSES_ENDED) == [n for n in names if n not in ("censored", "no_ceasefire")]
    assert figures.CAUSE_ORDER == list(patterns.CAUSES_ENDED) + ["censored", "no_ceasefire"]
    assert set(figures.CAUSE_LABELS) == set(figures.CAUSE_COLOURS) == set(names)


def test_summary_lists_causes_in_declared_order(daily):
    causes = list(daily.summary()["collapse_causes"])
    assert causes == [c for c in registry.CAUSE_NAMES if c in causes] and causes


def test_frame_rejects_an_undeclared_column():
    values = {c.name: np.zeros(1) for c in registry.columns(Table.CEASEFIRES)}
    with pytest.raises(KeyError, match="not declared"):
        registry.frame(Table.CEASEFIRES, {**values, "extra": np.zeros(1)})
    with pytest.raises(KeyError):
        registry.frame(Table.CEASEFIRES, {k: v for k, v in values.items() if k != "days"})


@pytest.mark.parametrize(
    "table, record",
    [("worlds", None), ("ceasefires", None), ("timeseries", "daily"), ("timeseries", "monthly")],
)
def test_parquet_tables_carry_unit_and_meaning(tmp_path, daily, monthly, table, record):
    df = {"worlds": daily.worlds, "ceasefires": daily.ceasefires}.get(table)
    if df is None:
        df = (daily if record == "daily" else monthly).timeseries
    path = write_parquet_atomic(
        df, tmp_path / f"{table}.parquet", fields=parquet_fields(list(df.columns), table, record)
    )
    schema = pq.read_schema(path)
    declared = registry.field_metadata(table, record)
    for name in df.columns:
        meta = schema.field(name).metadata
        assert meta[b"unit"].decode() == declared[name]["unit"], name
        assert meta[b"meaning"].decode() == declared[name]["meaning"], name
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)  # the values and types are unchanged
    if record == "monthly":
        assert b"sum over the month" in schema.field("ttp_attacks").metadata[b"meaning"]
