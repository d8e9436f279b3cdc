"""Whole-record columns are stored with zstd; the short ones keep DuckDB's own choice."""

from __future__ import annotations

from pathlib import Path

from heron.model.event import EventBatch
from heron.store.duckdb import DuckDBStore


def test_records_are_zstd_and_short_columns_are_not(tmp_path: Path) -> None:
    events = [
        {
            "@timestamp": 1_700_000_000_000_000_000 + i,
            "event.original": f'{{"EventID": 4688, "CommandLine": "cmd.exe /c job {i}"}}' * 8,
            "host.name": f"host{i % 4}",
            "CommandLine": f"cmd.exe /c job {i}",
        }
        for i in range(5000)
    ]
    with DuckDBStore(tmp_path) as store:
        store.append(EventBatch(events))
        cur = store.connection()
        cur.execute("CHECKPOINT")
        rows = cur.execute(
            "SELECT DISTINCT column_name, compression FROM pragma_storage_info('events_hot') "
            "WHERE column_name IN ('event.original', 'extra', 'host.name') "
            "AND segment_type = 'VARCHAR'"
        ).fetchall()
        first = store.query(
            'SELECT "event.original" AS o FROM events ORDER BY "@timestamp" LIMIT 1'
        )
        found = store.query("SELECT count(*) AS n FROM events WHERE \"host.name\" = 'host1'")
    compression = dict(rows)
    assert compression["event.original"] == "ZSTD" and compression["extra"] == "ZSTD"
    assert compression["host.name"] != "ZSTD"
    assert first.column("o").to_pylist() == [events[0]["event.original"]]
    assert found.column("n").to_pylist() == [1250]
