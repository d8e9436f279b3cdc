"""Generated, well-typed hunts: they compile for both engines, run, and agree.

Hypothesis builds hunts from the grammar's pieces (string, number and list fields,
every operator, scalar functions, aggregates) over the sample events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.query.compile import compile_query
from heron.query.run import execute
from heron.query.sample import SAMPLE_NOW, sample_table
from heron.store.duckdb import DuckDBStore

pytest.importorskip("chdb", reason="chdb (the dev extra) is not installed")

from integration.query_engines import load_clickhouse, normalized

STRING_FIELDS = [
    "user.name",
    "host.name",
    "source.ip",
    "process.command_line",
    "message",
    "event.outcome",
    "Image",
    "CommandLine",
    "eventName",
    "['userIdentity.type']",
]
NUMBER_FIELDS = ["source.port", "destination.port", "process.pid", "source.bytes"]
LIST_FIELDS = ["event.category", "event.type"]
STRING_OPS = [
    "==",
    "!=",
    "=~",
    "!~",
    "has",
    "!has",
    "has_cs",
    "contains",
    "!contains",
    "contains_cs",
    "startswith",
    "!startswith",
    "endswith",
    "hasprefix",
    "hassuffix",
]


def kusto_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_ ", min_size=1, max_size=8)
strings = words.map(kusto_string)
ints = st.integers(min_value=0, max_value=70_000).map(str)


@st.composite
def predicates(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(min_value=0, max_value=9 if depth < 2 else 7))
    if choice == 0:
        op = draw(st.sampled_from(STRING_OPS))
        return f"{draw(st.sampled_from(STRING_FIELDS))} {op} {draw(strings)}"
    if choice == 1:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        return f"{draw(st.sampled_from(NUMBER_FIELDS))} {op} {draw(ints)}"
    if choice == 2:
        op = draw(st.sampled_from(["==", "!=", "has", "contains", "=~"]))
        return f"{draw(st.sampled_from(LIST_FIELDS))} {op} {draw(strings)}"
    if choice == 3:
        op = draw(st.sampled_from(["in", "!in", "in~", "!in~"]))
        items = ", ".join(draw(st.lists(strings, min_size=1, max_size=4)))
        field = draw(st.sampled_from(STRING_FIELDS + LIST_FIELDS))
        return f"{field} {op} ({items})"
    if choice == 4:
        low, high = sorted(draw(st.lists(st.integers(0, 70_000), min_size=2, max_size=2)))
        neg = draw(st.sampled_from(["", "!"]))
        return f"{draw(st.sampled_from(NUMBER_FIELDS))} {neg}between ({low} .. {high})"
    if choice == 5:
        fn = draw(st.sampled_from(["isnull", "isnotnull", "isempty", "isnotempty"]))
        return f"{fn}({draw(st.sampled_from(STRING_FIELDS + NUMBER_FIELDS))})"
    if choice == 6:
        return f"@timestamp {draw(st.sampled_from(['>', '<']))} ago({draw(st.integers(1, 300))}m)"
    if choice == 7:
        return f"{draw(st.sampled_from(STRING_FIELDS))} has_any ({draw(strings)}, {draw(strings)})"
    if choice == 8:
        return f"not({draw(predicates(depth + 1))})"
    joiner = draw(st.sampled_from([" and ", " or "]))
    parts = draw(st.lists(predicates(depth + 1), min_size=2, max_size=3))
    return "(" + joiner.join(parts) + ")"


SCALARS = [
    "strlen(user.name)",
    "tolower(host.name)",
    "toupper(Image)",
    "strcat(user.name, '@', host.name)",
    "source.port + 1",
    "source.port * 2 - destination.port",
    "todouble(source.bytes) / 3",
    "bin(@timestamp, 5m)",
    "startofday(@timestamp)",
    "hourofday(@timestamp)",
    "event.ingested - @timestamp",
    "@timestamp + 1h",
    "iff(source.port > 1000, 'hi', 'lo')",
    "coalesce(user.name, host.name)",
    "substring(process.command_line, 0, 5)",
    "indexof(message, 'for')",
    "extract('([0-9]+)', 1, source.ip)",
    "tolong(source.bytes)",
    "array_length(event.category)",
    "replace_string(host.name, 'ws', 'WS')",
]
AGGREGATES = [
    "count()",
    "dcount(user.name)",
    "countif(event.outcome == 'failure')",
    "sum(source.port)",
    "avg(destination.port)",
    "min(@timestamp)",
    "max(source.port)",
    "make_set(user.name)",
    "take_any(host.name)",
    "sumif(source.port, source.port > 100)",
    "dcountif(host.name, true)",
]
GROUP_KEYS = ["host.name", "user.name", "source.ip", "bin(@timestamp, 10m)", "event.module"]


@st.composite
def hunts(draw: st.DrawFn) -> str:
    stages = [f"where {draw(predicates())}" for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        stages.append(f"extend x = {draw(st.sampled_from(SCALARS))}")
    ending = draw(st.integers(0, 5))
    if ending == 0:
        aggs = draw(st.lists(st.sampled_from(AGGREGATES), min_size=1, max_size=3, unique=True))
        named = ", ".join(["n = count()"] + [f"a{i} = {a}" for i, a in enumerate(aggs)])
        keys = draw(st.lists(st.sampled_from(GROUP_KEYS), max_size=2, unique=True))
        stages.append(f"summarize {named}" + (f" by {', '.join(keys)}" if keys else ""))
        stages.append("sort by n desc")
    elif ending == 1:
        stages.append("project event.id, user.name, host.name, @timestamp")
        stages.append("sort by event.id asc")
    elif ending == 2:
        stages.append(f"distinct {draw(st.sampled_from(['host.name', 'user.name, host.name']))}")
    elif ending == 3:
        stages.append("count")
    elif ending == 4:
        stages.append(f"top {draw(st.integers(1, 5))} by event.id asc")
    else:
        stages.append(f"search {draw(strings)}")
    return " | ".join(["events", *stages])


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBStore, Any]]:
    table = sample_table()
    store = DuckDBStore(tmp_path_factory.mktemp("generated") / "data")
    store.append(table)
    session = load_clickhouse(table)
    yield store, session
    session.cleanup()
    store.close()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(hunt=hunts())
def test_generated_hunts_run_alike_on_duckdb_and_clickhouse(
    engines: tuple[DuckDBStore, Any], hunt: str
) -> None:
    """Well-typed hunts compile for both engines, run, and give the same rows."""
    store, session = engines
    duck = execute(store, hunt, now_ns=SAMPLE_NOW, limit=None).table
    sql = compile_query(hunt, dialect="clickhouse", now_ns=SAMPLE_NOW).sql
    click = session.query(sql, "ArrowTable")
    if "top " in hunt or "take " in hunt:  # ties may pick different rows
        assert click.num_rows == duck.num_rows
    else:
        assert normalized(click) == normalized(duck), sql
