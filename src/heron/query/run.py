"""Running a hunt on a store: compile, execute with a row cap, a timeout and cancellation.

The result is an Arrow table whose columns carry the hunt's names (dotted ECS names),
timestamps as UTC timestamps and timespans as durations. Store errors that name a
column are mapped back to the place in the query where that field is written.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from heron.query import ast
from heron.query.compile import CompiledQuery, compile_query
from heron.query.errors import (
    QueryCancelledError,
    QueryExecutionError,
    QueryTimeoutError,
    UnknownFieldError,
)
from heron.query.parse import parse
from heron.query.schema import ALERTS, Catalog, QType, Relation, qtype_of_sql
from heron.store.textindex import candidate_spans

__all__ = [
    "DEFAULT_ROW_LIMIT",
    "DEFAULT_TIMEOUT",
    "Cancel",
    "HuntResult",
    "SupportsConnection",
    "catalog_for",
    "execute",
    "run",
]

#: Rows a hunt returns unless told otherwise; the rest are cut (and reported as cut).
DEFAULT_ROW_LIMIT = 10_000
#: Seconds a hunt may run before it is interrupted.
DEFAULT_TIMEOUT = 60.0


class SupportsConnection(Protocol):
    """A store that hands out DuckDB cursors (``DuckDBStore``)."""

    def connection(self) -> duckdb.DuckDBPyConnection: ...


class Cancel:
    """A handle that stops a running hunt from another thread: ``cancel.cancel()``."""

    #: Seconds between repeated interrupts (one sent just before the query starts is lost).
    RETRY = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self.reason: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.reason is not None

    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self._interrupt()

    def _interrupt(self) -> None:
        with self._lock:
            if self._cursor is None:
                return
            self._cursor.interrupt()
        again = threading.Timer(self.RETRY, self._interrupt)
        again.daemon = True
        again.start()

    def attach(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Called by the runner: ``cursor`` is about to run the hunt."""
        with self._lock:
            self._cursor = cursor

    def detach(self) -> None:
        """Called by the runner: the hunt has ended."""
        with self._lock:
            self._cursor = None


@dataclass(frozen=True, slots=True)
class HuntResult:
    """A hunt's rows and how it went."""

    table: pa.Table
    truncated: bool  # more rows matched than the limit let through
    sql: str
    compile_ms: float
    run_ms: float


def _references(query: ast.Query, name: str) -> bool:
    pipelines = [
        query.pipeline,
        *(let.value for let in query.lets if isinstance(let.value, ast.Pipeline)),
    ]
    while pipelines:
        pipeline = pipelines.pop()
        if pipeline.source.name == name:
            return True
        pipelines.extend(s.right for s in pipeline.stages if isinstance(s, ast.Join))
    return any(isinstance(let.value, ast.FieldRef) and let.value.name == name for let in query.lets)


def catalog_for(store: SupportsConnection, query: ast.Query) -> Catalog:
    """The relations ``query`` reads, with the columns the store has for them."""
    catalog = Catalog()
    if not _references(query, "alerts"):
        return catalog
    rows = (
        store.connection()
        .execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'alerts' ORDER BY ordinal_position"
        )
        .fetchall()
    )
    if not rows:
        return catalog
    columns = {str(name): qtype_of_sql(str(kind)) for name, kind in rows}
    relation = Relation(ALERTS.name, ALERTS.table, columns, known_names=tuple(columns))
    return catalog.with_relation(relation)


def _search_spans(store: SupportsConnection, query: ast.Query) -> dict[str, list[tuple[int, int]]]:
    """For each free-text search, the time spans the store's text index allows."""
    needles = {
        str(stage.text.value)
        for pipeline in [
            query.pipeline,
            *(let.value for let in query.lets if isinstance(let.value, ast.Pipeline)),
        ]
        for stage in pipeline.stages[:1]
        if isinstance(stage, ast.Search)
    }
    if not needles:
        return {}
    cur = store.connection()
    try:
        found = {n: candidate_spans(cur, n).spans for n in needles}
    finally:
        cur.close()
    return {n: spans for n, spans in found.items() if spans is not None}


def execute(
    store: SupportsConnection,
    query: str,
    *,
    limit: int | None = DEFAULT_ROW_LIMIT,
    timeout: float | None = DEFAULT_TIMEOUT,
    cancel: Cancel | None = None,
    now_ns: int | None = None,
    catalog: Catalog | None = None,
) -> HuntResult:
    """Compile ``query`` for DuckDB and run it on ``store``.

    ``limit`` caps the rows (None: no cap), ``timeout`` interrupts the store after that
    many seconds, ``cancel`` stops it from another thread, ``now_ns`` is the time
    ``ago()``/``now()`` count from, and ``catalog`` (default: asked of the store) says
    which columns the relations have.
    """
    started = time.perf_counter()
    tree = parse(query)
    compiled = compile_query(
        tree,
        catalog=catalog if catalog is not None else catalog_for(store, tree),
        now_ns=now_ns,
        row_limit=None if limit is None else limit + 1,
        search_spans=_search_spans(store, tree),
    )
    compiled_at = time.perf_counter()
    handle = cancel or Cancel()
    cursor = store.connection()
    timer: threading.Timer | None = None
    if timeout is not None:
        timer = threading.Timer(timeout, handle.cancel, args=("timeout",))
        timer.daemon = True
        timer.start()
    handle.attach(cursor)
    try:
        if handle.cancelled:
            raise duckdb.InterruptException("cancelled before it started")
        table = cursor.sql(compiled.sql).to_arrow_table()
    except duckdb.InterruptException:
        if handle.reason == "timeout":
            raise QueryTimeoutError(
                f"the hunt ran longer than {timeout:g} s and was stopped",
                hint="narrow it (a time range, a where before summarize) or raise --timeout",
            ) from None
        raise QueryCancelledError("the hunt was cancelled") from None
    except duckdb.Error as exc:
        raise _store_error(exc, compiled) from None
    finally:
        if timer is not None:
            timer.cancel()
        handle.detach()
        cursor.close()
    truncated = limit is not None and table.num_rows > limit
    if truncated:
        assert limit is not None
        table = table.slice(0, limit)
    table = _typed(table, compiled)
    if truncated:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"heron.truncated": b"true"}
        )
    done = time.perf_counter()
    return HuntResult(
        table=table,
        truncated=truncated,
        sql=compiled.sql,
        compile_ms=(compiled_at - started) * 1000,
        run_ms=(done - compiled_at) * 1000,
    )


def run(
    store: SupportsConnection,
    query: str,
    *,
    limit: int | None = DEFAULT_ROW_LIMIT,
    timeout: float | None = DEFAULT_TIMEOUT,
    cancel: Cancel | None = None,
    now_ns: int | None = None,
    catalog: Catalog | None = None,
) -> pa.Table:
    """The rows of ``query`` on ``store`` as an Arrow table (see ``execute``)."""
    result = execute(
        store, query, limit=limit, timeout=timeout, cancel=cancel, now_ns=now_ns, catalog=catalog
    )
    return result.table


def _typed(table: pa.Table, compiled: CompiledQuery) -> pa.Table:
    """UTC on timestamps, durations for timespans (SQL holds those as nanosecond counts)."""
    types = compiled.columns or {}
    for i, fld in enumerate(table.schema):
        target: pa.DataType | None = None
        if pa.types.is_timestamp(fld.type) and fld.type.tz is None:
            target = pa.timestamp(fld.type.unit, tz="UTC")
        elif types.get(fld.name) is QType.TIMESPAN and pa.types.is_integer(fld.type):
            target = pa.duration("ns")
        if target is not None:
            table = table.set_column(i, pa.field(fld.name, target), table.column(i).cast(target))
    return table


_MISSING_COLUMN = re.compile(r'column "([^"]+)" not found|Referenced column "([^"]+)"', re.I)
_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist", re.I)


def _store_error(exc: duckdb.Error, compiled: CompiledQuery) -> QueryExecutionError:
    message = str(exc).strip()
    first_line = message.splitlines()[0] if message else type(exc).__name__
    column = _MISSING_COLUMN.search(message)
    if column:
        name = column.group(1) or column.group(2)
        candidates = re.search(r"Candidate bindings: (.*)", message)
        error = UnknownFieldError(
            f"unknown field '{name}'",
            query=compiled.query,
            span=compiled.field_spans.get(name),
            hint=f"columns there: {candidates.group(1)[:200]}" if candidates else None,
        )
        return QueryExecutionError(
            error.message, query=error.query, span=error.span, hint=error.hint
        )
    table = _MISSING_TABLE.search(message)
    if table:
        name = table.group(1).strip("\"'!")
        return QueryExecutionError(
            f"there is no '{name}' data in this store yet", query=compiled.query
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return QueryExecutionError(
            "the hunt needs more memory than the store may use",
            query=compiled.query,
            hint="narrow it with a time range or a where before summarize/sort",
        )
    return QueryExecutionError(
        f"the store could not run the hunt: {first_line}", query=compiled.query
    )
