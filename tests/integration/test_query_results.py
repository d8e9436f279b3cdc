"""Hunts give the same rows as hand-written SQL over the same events (DuckDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heron.query.rows import table_rows
from heron.query.run import run
from heron.query.sample import SAMPLE_NOW, sample_table
from heron.store.duckdb import DuckDBStore

# (hunt, the SQL an analyst would write by hand for it)
PAIRS = [
    (
        "events | where event.category == 'authentication' and event.outcome == 'failure' "
        "| summarize failures = count() by source.ip, bin(@timestamp, 5m) | where failures > 2",
        """SELECT "source.ip", time_bucket(INTERVAL 5 MINUTE, "@timestamp") AS "@timestamp",
                  count(*) AS failures
           FROM events
           WHERE list_contains("event.category", 'authentication') AND "event.outcome" = 'failure'
           GROUP BY ALL HAVING count(*) > 2""",
    ),
    (
        "events | where event.category == 'process' "
        "| summarize hosts = dcount(host.name), n = count() by process.name | where hosts == 1",
        """SELECT "process.name", count(DISTINCT "host.name") AS hosts, count(*) AS n
           FROM events WHERE list_contains("event.category", 'process')
           GROUP BY ALL HAVING count(DISTINCT "host.name") = 1""",
    ),
    (
        "events | where event.category == 'network' "
        "| summarize sent = sum(tolong(source.bytes)) by source.ip | top 2 by sent",
        """SELECT "source.ip",
                  sum(CAST(json_extract_string(extra, '$."source.bytes"') AS BIGINT))::BIGINT
                  AS sent
           FROM events WHERE list_contains("event.category", 'network')
           GROUP BY ALL ORDER BY sent DESC LIMIT 2""",
    ),
    (
        'search "whoami" | project event.id',
        """SELECT "event.id" FROM events
           WHERE "event.original" ILIKE '%whoami%' OR message ILIKE '%whoami%'""",
    ),
    (
        "events | where CommandLine has 'enc' or Image endswith @'\\x.exe' | project event.id",
        """SELECT "event.id" FROM events
           WHERE regexp_matches(json_extract_string(extra, '$.CommandLine'), '(?i)\\benc\\b')
              OR lower(json_extract_string(extra, '$.Image')) LIKE '%\\x.exe'""",
    ),
    (
        "events | where user.name in~ ('ROOT', 'Admin') and source.port between (50000 .. 50004) "
        "| project event.id, user.name",
        """SELECT "event.id", "user.name" FROM events
           WHERE lower("user.name") IN ('root', 'admin')
             AND "source.port" BETWEEN 50000 AND 50004""",
    ),
    (
        "events | summarize arg_max(@timestamp, event.id, user.name) by host.name",
        """SELECT "host.name", max("@timestamp") AS "@timestamp",
                  arg_max("event.id", "@timestamp") AS "event.id",
                  arg_max("user.name", "@timestamp") AS "user.name"
           FROM events GROUP BY ALL""",
    ),
    (
        "let failed = events | where event.outcome == 'failure' | project user.name; "
        "events | where event.outcome == 'success' and user.name in (failed) | project event.id",
        """SELECT "event.id" FROM events WHERE "event.outcome" = 'success'
           AND "user.name" IN (SELECT "user.name" FROM events WHERE "event.outcome" = 'failure')""",
    ),
    (
        "events | where event.outcome == 'failure' "
        "| join kind=inner (events | where event.outcome == 'success' "
        "| project user.name, ok_at = @timestamp) on user.name "
        "| where ok_at > @timestamp | summarize n = count() by user.name",
        """SELECT f."user.name", count(*) AS n FROM events f
           JOIN events s ON f."user.name" = s."user.name"
           WHERE f."event.outcome" = 'failure' AND s."event.outcome" = 'success'
             AND s."@timestamp" > f."@timestamp"
           GROUP BY ALL""",
    ),
    (
        "events | where @timestamp > ago(90m) | count",
        """SELECT count(*) AS "Count" FROM events
           WHERE "@timestamp" > TIMESTAMP '2024-03-01 10:30:00'""",
    ),
    (
        "events | where isnotempty(eventName) | extend t = ['userIdentity.type'] "
        "| summarize logins = count() by t, event.outcome",
        """SELECT json_extract_string(extra, '$."userIdentity.type"') AS t, "event.outcome",
                  count(*) AS logins
           FROM events WHERE coalesce(json_extract_string(extra, '$.eventName'), '') <> ''
           GROUP BY ALL""",
    ),
    (
        "events | where user.name != 'alice' | distinct user.name",
        """SELECT DISTINCT "user.name" FROM events WHERE "user.name" IS DISTINCT FROM 'alice'""",
    ),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DuckDBStore:
    s = DuckDBStore(tmp_path_factory.mktemp("results") / "data")
    s.append(sample_table())
    return s


def _rows(table: Any) -> list[tuple[tuple[str, Any], ...]]:
    def norm(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, 9)
        if isinstance(value, list):
            return tuple(sorted(map(str, value)))
        return value

    return sorted(
        (tuple((k, norm(v)) for k, v in row.items()) for row in table_rows(table)), key=repr
    )


@pytest.mark.parametrize(("hunt", "sql"), PAIRS, ids=[str(i) for i in range(len(PAIRS))])
def test_hunt_matches_hand_written_sql(store: DuckDBStore, hunt: str, sql: str) -> None:
    got = run(store, hunt, now_ns=SAMPLE_NOW, limit=None)
    want = store.query(sql)
    assert got.column_names == want.column_names
    assert _rows(got) == _rows(want)
    assert got.num_rows > 0, "a pair that matches nothing proves little"


def test_sorted_results_keep_their_order(store: DuckDBStore) -> None:
    got = run(store, "events | top 4 by source.port asc | project event.id, source.port")
    want = store.query(
        'SELECT "event.id", "source.port" FROM events '
        'ORDER BY "source.port" ASC NULLS FIRST LIMIT 4'
    )
    assert table_rows(got) == table_rows(want)


def test_empty_store(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "d")
    assert run(s, "events | summarize count() by host.name").num_rows == 0
    assert run(s, "events | count").column("Count").to_pylist() == [0]
