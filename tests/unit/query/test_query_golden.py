"""Golden query → SQL pairs for DuckDB and ClickHouse (tests/golden/query/compile.json).

Regenerate after an intended change with ``HERON_UPDATE_GOLDEN=1 pytest <this file>``
and review the diff: every changed line is a changed query plan.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from heron.query.compile import compile_query
from heron.query.sample import SAMPLE_NOW

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "query" / "compile.json"

QUERIES = [
    'events | where user.name == "alice"',
    'events | where user.name != "alice" and source.port >= 1024',
    "events | where event.category == 'authentication' | take 10",
    'events | where event.category in ("process", "network")',
    'events | where CommandLine has "-enc"',
    'events | where process.command_line contains "whoami" or message startswith "Failed"',
    'events | where process.name in~ ("CMD.EXE", "powershell.exe")',
    'events | where Image endswith @"\\rundll32.exe"',
    'events | where process.command_line matches regex @"-e(nc|ncodedcommand)\\s"',
    "events | where source.port between (1 .. 1023)",
    "events | where isnotempty(TargetUserName) and isnull(user.name)",
    'events | where ["userIdentity.type"] == "Root"',
    "events | where toint(EventID) == 4625 and bytes > 1000",
    "events | where @timestamp > ago(1h)",
    "events | where @timestamp between (datetime(2024-03-01) .. datetime(2024-03-02))",
    'search "mimikatz" | take 5',
    "events | project @timestamp, host.name, who = user.name",
    "events | project-away event.original, extra",
    "events | extend hour = hourofday(@timestamp), lag = event.ingested - @timestamp",
    "events | extend a = 1, b = a + 1",
    "events | summarize count() by host.name",
    "events | summarize failures = countif(event.outcome == 'failure'), users = dcount(user.name) "
    "by source.ip, bin(@timestamp, 5m)",
    "events | summarize arg_max(@timestamp, user.name, process.name) by host.name",
    "events | summarize total = sum(tolong(source.bytes)) by source.ip | top 10 by total",
    "events | summarize n = count() by process.name | where n < 3 | sort by n asc",
    "events | sort by @timestamp asc | take 3 | project event.id",
    "events | top 5 by @timestamp | project @timestamp, user.name",
    "events | distinct user.name, host.name",
    "events | where event.outcome == 'failure' | count",
    "let threshold = 5; events | summarize n = count() by user.name | where n > threshold",
    "let admins = events | where event.action == 'added-to-group' | project user.target.name;"
    " events | where user.name in (admins) | take 100",
    "events | join kind=leftouter (events | where event.outcome == 'success' "
    "| project user.name, ok = @timestamp) on user.name | project user.name, @timestamp, ok",
    "events | join kind=leftanti (alerts | project host.name) on host.name | take 5",
]


def _compile_all() -> list[dict[str, str]]:
    return [
        {
            "query": q,
            "duckdb": compile_query(q, dialect="duckdb", now_ns=SAMPLE_NOW).sql,
            "clickhouse": compile_query(q, dialect="clickhouse", now_ns=SAMPLE_NOW).sql,
        }
        for q in QUERIES
    ]


def test_golden_sql() -> None:
    current = _compile_all()
    if os.environ.get("HERON_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", "utf-8")
        pytest.skip("golden file rewritten")
    expected = json.loads(GOLDEN.read_text("utf-8"))
    assert [e["query"] for e in expected] == QUERIES, "golden queries changed: regenerate"
    for want, got in zip(expected, current, strict=True):
        assert got["duckdb"] == want["duckdb"], want["query"]
        assert got["clickhouse"] == want["clickhouse"], want["query"]
