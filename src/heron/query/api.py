"""``heron.hunt(query)``: a hunt from Python, as an Arrow table (→ polars or pandas)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from heron.errors import StoreError
from heron.query.errors import QueryError
from heron.query.rows import text_rows
from heron.query.run import (
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT,
    Cancel,
    SupportsConnection,
    execute,
    run,
)

__all__ = ["DEFAULT_API_ROW_LIMIT", "error_json", "explain_sql", "hunt", "hunt_json"]

#: Rows ``hunt`` returns unless ``limit`` says otherwise (``limit=None``: all of them).
DEFAULT_API_ROW_LIMIT = 1_000_000


def hunt(
    query: str,
    data_dir: str | Path | None = None,
    *,
    limit: int | None = DEFAULT_API_ROW_LIMIT,
    timeout: float | None = DEFAULT_TIMEOUT,
    now_ns: int | None = None,
) -> pa.Table:
    """Run ``query`` on the store in ``data_dir`` (default ``$HERON_DATA_DIR`` or ./heron-data).

    The table's column names are the hunt's (dotted ECS names); timestamps are UTC.
    ``polars.from_arrow(table)`` and ``table.to_pandas()`` give data frames. When more
    rows matched than ``limit``, the table holds the first ``limit`` and its schema
    metadata has ``heron.truncated = true``.
    """
    from heron.store.duckdb import DuckDBStore

    where = Path(data_dir or os.environ.get("HERON_DATA_DIR", "./heron-data"))
    if not where.is_dir():
        raise StoreError(f"no Heron data directory at {where}")
    with DuckDBStore(where, read_only=True) as store:
        return run(store, query, limit=limit, timeout=timeout, now_ns=now_ns)


def error_json(error: QueryError) -> dict[str, Any]:
    """A hunt error as JSON for an API response: message, place, hint, and the caret text."""
    return {
        "kind": type(error).__name__,
        "message": error.message,
        "line": error.line,
        "column": error.column,
        "hint": error.hint,
        "text": str(error),
    }


def hunt_json(
    store: SupportsConnection,
    query: str,
    *,
    limit: int | None = DEFAULT_ROW_LIMIT,
    timeout: float | None = DEFAULT_TIMEOUT,
    cancel: Cancel | None = None,
) -> dict[str, Any]:
    """A hunt's result (or its error) as a JSON-ready dict, for the REST API.

    Rows have flat dotted keys, RFC 3339 times with their nanoseconds, Kusto-style
    timespans. It blocks while the store works: call it from a worker thread, and pass a
    ``Cancel`` to stop it when the client goes away.
    """
    try:
        result = execute(store, query, limit=limit, timeout=timeout, cancel=cancel)
    except QueryError as exc:
        return {"error": error_json(exc)}
    return {
        "columns": [{"name": f.name, "type": str(f.type)} for f in result.table.schema],
        "rows": text_rows(result.table),
        "truncated": result.truncated,
        "compile_ms": round(result.compile_ms, 3),
        "run_ms": round(result.run_ms, 3),
    }


def explain_sql(
    store: SupportsConnection | None, query: str, *, dialect: str, limit: int | None
) -> str:
    """The SQL a hunt runs as (``heron hunt --explain``): typed by ``store``'s catalog when
    there is one; ``limit`` rows are asked for with one more, which tells that more
    matched. Raises ``QueryError``."""
    from heron.query.compile import compile_query
    from heron.query.parse import parse
    from heron.query.run import catalog_for
    from heron.query.schema import Catalog

    tree = parse(query)
    catalog = catalog_for(store, tree) if store is not None else Catalog()
    compiled = compile_query(
        tree, dialect=dialect, catalog=catalog, row_limit=limit + 1 if limit else None
    )
    return compiled.sql
