"""The ClickHouse SQL of each hunt, run on the real ClickHouse engine (chDB, in-process),
gives the same rows as the DuckDB SQL of the same hunt on the same events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.query.compile import compile_query
from heron.query.run import run
from heron.query.sample import SAMPLE_NOW, sample_table
from heron.store.duckdb import DuckDBStore

pytest.importorskip("chdb", reason="chdb (the dev extra) is not installed")

from integration.query_engines import load_clickhouse, normalized


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBStore, Any]]:
    table = sample_table()
    store = DuckDBStore(Path(tmp_path_factory.mktemp("ch")) / "data")
    store.append(table)
    session = load_clickhouse(table)
    yield store, session
    session.cleanup()
    store.close()


HUNTS = [
    "events | where user.name == 'admin' | project @timestamp, user.name, source.ip",
    "events | where event.category == 'authentication' and event.outcome == 'failure' "
    "| summarize failures = count() by source.ip, bin(@timestamp, 5m) | where failures > 2",
    "search 'whoami' | project host.name, process.command_line",
    "events | where Image endswith @'\\cmd.exe' | project @timestamp, host.name, Image",
    "events | where CommandLine has 'enc' or CommandLine has '-w' | project event.id",
    "events | summarize c = count(), arg_max(@timestamp, user.name) by host.name",
    "let bad = events | where event.outcome == 'failure' | project user.name; "
    "events | where user.name in (bad) | count",
    "events | extend a = 1, b = a + 1 | project event.id, a, b",
    "events | where eventName == 'ConsoleLogin' | project user.name, ['userIdentity.type']",
    "events | where source.bytes > 100000 | project source.ip, destination.ip, source.bytes",
    "events | summarize total = sum(tolong(source.bytes)) by source.ip",
    "events | summarize arg_max(@timestamp, *) by host.name | project host.name, event.id",
    "events | summarize n = dcount(host.name) by process.name | where n == 1",
    "events | where @timestamp > ago(70m) | count",
    "events | extend d = now() - @timestamp | project d, event.id",
    "events | join kind=inner (events | where event.outcome == 'success' "
    "| project user.name, ok_at = @timestamp) on user.name | project event.id, ok_at",
    "events | join kind=leftouter (events | where event.outcome == 'success' "
    "| project user.name, ok_at = @timestamp) on user.name | project event.id, ok_at",
    "events | join kind=leftanti (events | where event.outcome == 'success' "
    "| project user.name) on user.name | project event.id",
    "events | join kind=leftsemi (events | where event.outcome == 'success' "
    "| project user.name) on user.name | project event.id",
    "events | where user.name != 'alice' | summarize count() by user.name",
    "events | where event.category in ('process', 'dns') | distinct host.name",
    "events | where user.name =~ 'ROOT' or user.name !~ 'bob' | count",
    "events | where user.name in~ ('ROOT', 'Alice') | project event.id",
    "events | where user.name !in ('root', 'alice') | project event.id",
    "events | where process.command_line contains 'WHOAMI' | project event.id",
    "events | where process.command_line contains_cs 'WHOAMI' | project event.id",
    "events | where process.command_line !contains 'cmd' | project event.id",
    "events | where process.command_line startswith 'CMD' | project event.id",
    "events | where process.command_line endswith '.TXT' | project event.id",
    "events | where message hasprefix 'Fail' or message hassuffix 'sh2' | project event.id",
    "events | where process.command_line matches regex @'^cmd\\.exe /c \\w+' | project event.id",
    "events | where source.port between (50000 .. 50003) | project event.id",
    "events | where source.port !between (50000 .. 50003) | project event.id",
    "events | where isnull(user.name) or isempty(CommandLine) | project event.id",
    "events | where event.category has 'network' | project event.id",
    "events | where event.type in ('start', 'connection') | project event.id",
    "events | where event.type !in ('start') | project event.id",
    "events | where event.category =~ 'NETWORK' | project event.id",
    "events | where event.category contains 'work' | project event.id",
    "events | where CommandLine has_any ('whoami', 'beacon') | project event.id",
    "events | where not(destination.port == 443) | project event.id",
    "events | extend s = strlen(user.name), u = toupper(user.name), "
    "sub = substring(user.name, 1, 2) | project event.id, s, u, sub",
    "events | extend c = strcat(user.name, '@', host.name), i = indexof(user.name, 'o'), "
    "r = replace_string(host.name, 'ws', 'WS') | project event.id, c, i, r",
    "events | extend parts = split(source.ip, '.'), x = extract(@'(\\d+)\\.(\\d+)', 2, source.ip)"
    " | project event.id, parts, x",
    "events | extend b = tolong(source.bytes) * 2, r = todouble(source.bytes) / 3, "
    "p = source.port % 7 | project event.id, b, r, p",
    "events | extend h = hourofday(@timestamp), w = dayofweek(@timestamp), "
    "dm = dayofmonth(@timestamp), m = getmonth(@timestamp), y = getyear(@timestamp) "
    "| project event.id, h, w, dm, m, y",
    "events | extend d = startofday(@timestamp), wk = startofweek(@timestamp), "
    "mo = startofmonth(@timestamp) | project event.id, d, wk, mo",
    "events | extend t = @timestamp + 1h, g = event.ingested - @timestamp | project event.id, t, g",
    "events | extend x = iff(source.port > 50003, 'high', 'low'), "
    "y = case(source.port > 50005, 'a', source.port > 50002, 'b', 'c'), "
    "z = coalesce(user.name, host.name) | project event.id, x, y, z",
    "events | summarize s = make_set(user.name), a = avg(source.port), mn = min(@timestamp), "
    "mx = max(source.port), f = countif(event.outcome == 'failure') by event.module",
    "events | summarize u = dcountif(user.name, event.outcome == 'success'), "
    "si = sumif(source.port, event.outcome == 'failure') by host.name",
    "events | summarize arg_min(@timestamp, event.id, user.name) by host.name",
    "events | sort by @timestamp asc | take 3 | project event.id",
    "events | top 3 by source.port asc | project event.id, source.port",
    "events | project-away extra, event.original, message | project event.id, host.name",
    "events | project-rename who = user.name | where who == 'root' | project event.id, who",
    "events | distinct user.name, host.name",
    "events | extend r = round(todouble(source.port) / 7, 2), a = abs(-3), q = sqrt(16.0), "
    "lg = log10(100.0), pw = pow(2, 10), ce = ceiling(1.2) | project event.id, r, a, q, lg, pw, ce",
    "events | summarize n = count() by bin(source.port, 10)",
    # A binned time keeps its name; the column of that name must not change beside it.
    "events | summarize n = count(), first = min(@timestamp) by bin(@timestamp, 10m)",
    "events | summarize n = count() by bin(@timestamp, 1h) | sort by @timestamp asc",
    "events | extend user.name = toupper(user.name), low = tolower(user.name) "
    "| project event.id, user.name, low",
    "events | where ['userIdentity.type'] != 'Root' | project event.id",
    "events | extend n = array_length(event.category) | project event.id, n",
    "events | where todatetime('2024-03-01T10:30:00Z') < @timestamp | count",
]


@pytest.mark.parametrize("hunt", HUNTS, ids=[str(i) for i in range(len(HUNTS))])
def test_clickhouse_agrees_with_duckdb(engines: tuple[DuckDBStore, Any], hunt: str) -> None:
    store, session = engines
    duck = run(store, hunt, now_ns=SAMPLE_NOW, limit=None)
    sql = compile_query(hunt, dialect="clickhouse", now_ns=SAMPLE_NOW).sql
    click = session.query(sql, "ArrowTable")
    assert click.column_names == duck.column_names
    assert normalized(click) == normalized(duck)
