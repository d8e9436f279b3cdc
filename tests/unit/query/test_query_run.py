"""Running hunts on a DuckDB store: result shape, row cap, timeout, cancel, store errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from heron.query.errors import (
    QueryCancelledError,
    QueryExecutionError,
    QueryTimeoutError,
    UnknownFieldError,
)
from heron.query.run import Cancel, execute, run
from heron.query.sample import SAMPLE_NOW, sample_events, sample_table
from heron.query.schema import Catalog
from heron.store.duckdb import DuckDBStore


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DuckDBStore:
    s = DuckDBStore(tmp_path_factory.mktemp("hunt") / "data")
    s.append(sample_table())
    return s


def test_result_columns_keep_hunt_names_and_types(store: DuckDBStore) -> None:
    table = run(
        store,
        "events | where event.id == 'e001' "
        "| extend lag = event.ingested - @timestamp, who = user.name "
        "| project @timestamp, event.category, source.port, who, lag, Image",
        now_ns=SAMPLE_NOW,
    )
    assert table.column_names == [
        "@timestamp",
        "event.category",
        "source.port",
        "who",
        "lag",
        "Image",
    ]
    schema = table.schema
    assert schema.field("@timestamp").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("event.category").type == pa.list_(pa.string())
    assert schema.field("source.port").type == pa.int64()
    assert schema.field("lag").type == pa.duration("ns")
    row = table.to_pylist()[0]
    assert row["who"] == "root"
    assert row["Image"] is None
    assert row["lag"].total_seconds() == 2


def test_nanoseconds_survive(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "d")
    events = sample_events()[:1]
    events[0]["@timestamp"] += 123_456_789
    from heron.model.event import EventBatch

    s.append(EventBatch(events))
    table = run(s, "events | project @timestamp")
    ns = table.column("@timestamp").cast(pa.int64()).to_pylist()[0]
    assert ns == events[0]["@timestamp"]


def test_row_cap_cuts_and_says_so(store: DuckDBStore) -> None:
    result = execute(store, "events", limit=5)
    assert result.table.num_rows == 5
    assert result.truncated
    assert result.table.schema.metadata[b"heron.truncated"] == b"true"
    whole = execute(store, "events", limit=None)
    assert whole.table.num_rows == len(sample_events())
    assert not whole.truncated
    exact = execute(store, "events", limit=len(sample_events()))
    assert not exact.truncated


def test_the_cap_applies_after_the_hunt_own_limit(store: DuckDBStore) -> None:
    result = execute(store, "events | sort by @timestamp asc | take 3", limit=10)
    assert result.table.num_rows == 3 and not result.truncated
    assert "LIMIT 3" in result.sql


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> DuckDBStore:
    s = DuckDBStore(tmp_path_factory.mktemp("big") / "data")
    table = sample_table()
    for _ in range(8):
        table = pa.concat_tables([table, table])
    s.append(table.combine_chunks())
    return s


# Every event joined with every other one (tens of millions of pairs): seconds of work.
SLOW = (
    "events | join (events | project event.kind, x = event.id) on event.kind "
    "| summarize n = dcount(x), m = max(strlen(strcat(x, event.id)))"
)


def test_a_timeout_interrupts_the_store(big_store: DuckDBStore) -> None:
    with pytest.raises(QueryTimeoutError, match=r"longer than 0\.2 s"):
        execute(big_store, SLOW, timeout=0.2)
    # The store is still usable afterwards.
    assert run(big_store, "events | count").column("Count").to_pylist() == [7168]


def test_cancel_from_another_thread(big_store: DuckDBStore) -> None:
    cancel = Cancel()
    timer = threading.Timer(0.2, cancel.cancel)
    timer.start()
    try:
        with pytest.raises(QueryCancelledError):
            execute(big_store, SLOW, cancel=cancel, timeout=None)
    finally:
        timer.cancel()
    assert cancel.cancelled


def test_cancel_before_start_stops_at_once(store: DuckDBStore) -> None:
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(QueryCancelledError):
        execute(store, "events", cancel=cancel)


def test_alerts_without_an_alerts_table_is_a_clean_error(store: DuckDBStore) -> None:
    with pytest.raises(QueryExecutionError, match="no 'alerts' data"):
        run(store, "alerts | take 1")


def test_alert_columns_come_from_the_store(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "d")
    cur = s.connection()
    cur.execute(
        'CREATE TABLE alerts ("@timestamp" TIMESTAMP_NS, "rule.name" VARCHAR, '
        '"rule.level" VARCHAR, "host.name" VARCHAR, "risk_score" INTEGER)'
    )
    cur.execute(
        "INSERT INTO alerts VALUES ('2024-03-01 10:00:00', 'Brute force', 'high', 'web01', 73)"
    )
    table = run(s, "alerts | where risk_score > 50 | project rule.name, host.name")
    assert table.to_pylist() == [{"rule.name": "Brute force", "host.name": "web01"}]
    with pytest.raises(UnknownFieldError) as info:
        run(s, "alerts | where rule.levl == 'high'")
    assert "did you mean 'rule.level'" in str(info.value)
    # A column the compiler could not know of is placed by the store's error.
    with pytest.raises(QueryExecutionError) as failed:
        run(s, "alerts | where rule.levl == 'high'", catalog=Catalog())
    err = failed.value
    assert "unknown field 'rule.levl'" in str(err)
    assert err.span is not None and err.query[err.span.start : err.span.end] == "rule.levl"
