"""The alert tables beside the events, their migration, and the lock their writers share.

Every table lives in the store's DuckDB database (``store.connection()``):

- ``alerts``: one row per alert (flat dotted columns, as the ``events`` view has);
- ``alert_history``: one row per lifecycle change (who, when, what, comment);
- ``alert_suppressions``: suppressions per field value, with expiry, reason and hits;
- ``entity_risk``: decaying risk per entity, stored as ``(score, as_of)``.

Data directories written before a column existed get it on open
(``ALTER TABLE … ADD COLUMN IF NOT EXISTS``); read-only opens cannot migrate, so readers
select ``NULL`` for the columns an old table lacks (``select_list``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from heron.model.alert import ALERT_ENTITY_FIELDS
from heron.store.base import quote_ident

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_TIMESTAMPS",
    "HasConnection",
    "arrow_type",
    "ensure_alert_tables",
    "ensure_once",
    "ensure_risk_table",
    "ensure_suppression_table",
    "existing_columns",
    "registered",
    "select_list",
    "store_lock",
    "table_exists",
]

#: Column → DuckDB type, in table order; columns added later come last.
ALERT_COLUMNS: dict[str, str] = {
    "alert.id": "VARCHAR PRIMARY KEY",
    "@timestamp": "TIMESTAMP_NS",
    "rule.id": "VARCHAR",
    "rule.name": "VARCHAR",
    "rule.level": "VARCHAR",
    "rule.tags": "VARCHAR[]",
    "event.ids": "VARCHAR[]",
    **{name: "VARCHAR" for name in ALERT_ENTITY_FIELDS},
    "entities": "VARCHAR",  # JSON object of every entity
    "group": "VARCHAR",  # JSON object of correlation group-by values
    "status": "VARCHAR",
    "disposition": "VARCHAR",
    "assignee": "VARCHAR",
    "risk_score": "INTEGER",
    "count": "BIGINT",
    "first_seen": "TIMESTAMP_NS",
    "last_seen": "TIMESTAMP_NS",
    "dedup_key": "VARCHAR",
    "created": "TIMESTAMP_NS",
    "updated": "TIMESTAMP_NS",
    # Added with the lifecycle (migrated into older data directories):
    "acknowledged_at": "TIMESTAMP_NS",
    "closed_at": "TIMESTAMP_NS",
}
ALERT_TIMESTAMPS = (
    "@timestamp",
    "first_seen",
    "last_seen",
    "created",
    "updated",
    "acknowledged_at",
    "closed_at",
)
_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "TIMESTAMP_NS": pa.timestamp("ns"),
    "VARCHAR[]": pa.list_(pa.string()),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
}


class HasConnection(Protocol):
    """What the alert components need of a store: a cursor on its database."""

    def connection(self) -> duckdb.DuckDBPyConnection: ...


def arrow_type(column: str) -> pa.DataType:
    return _ARROW[ALERT_COLUMNS[column].split()[0]]


# One lock per store: the alert store, suppressions and entity risk of one database may
# be separate objects (the API builds its own), and DuckDB aborts concurrent transactions
# that update the same rows instead of waiting.
_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


_ENSURED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def ensure_once(
    store: HasConnection, name: str, create: Callable[[duckdb.DuckDBPyConnection], None]
) -> None:
    """Run ``create`` once per store object: the API builds components per request, and
    schema statements are catalog writes best kept out of the hot path."""
    with store_lock(store):
        done = _ENSURED.setdefault(store, set())
        if name not in done:
            create(store.connection())
            done.add(name)


def store_lock(store: object) -> threading.RLock:
    """The lock every alert writer of this store holds around its transactions."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(store)
        if lock is None:
            lock = threading.RLock()
            _LOCKS[store] = lock
        return lock


@contextmanager
def registered(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    columns: dict[str, list[Any]],
    types: dict[str, pa.DataType],
) -> Iterator[None]:
    """``columns`` as an Arrow relation named ``name`` for one statement's duration.

    Many-row writes go through one set-based statement over such a relation: DuckDB's
    ``executemany`` runs one statement per row, which costs ~2 ms a row on an indexed
    table (20 s for 10k entities).
    """
    table = pa.Table.from_arrays(
        [pa.array(values, type=types[col]) for col, values in columns.items()],
        names=list(columns),
    )
    cur.register(name, table)
    try:
        yield
    finally:
        cur.unregister(name)


def table_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
        [name],
    ).fetchone()
    return bool(row and row[0])


def existing_columns(cur: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
        [table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def select_list(present: set[str] | None = None) -> str:
    """Every alert column in table order, timestamps as epoch ns; NULL for those not in
    ``present`` (None: all exist)."""
    parts = []
    for name in ALERT_COLUMNS:
        col = quote_ident(name)
        if present is not None and name not in present:
            parts.append(f"NULL AS {col}")
        elif name in ALERT_TIMESTAMPS:
            parts.append(f"epoch_ns({col}) AS {col}")
        else:
            parts.append(col)
    return ", ".join(parts)


def ensure_alert_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """Create (or migrate) ``alerts`` and ``alert_history``."""
    columns = ", ".join(f"{quote_ident(n)} {t}" for n, t in ALERT_COLUMNS.items())
    cur.execute(f"CREATE TABLE IF NOT EXISTS alerts ({columns})")
    present = existing_columns(cur, "alerts")
    for name, kind in ALERT_COLUMNS.items():
        if name not in present:
            cur.execute(f"ALTER TABLE alerts ADD COLUMN IF NOT EXISTS {quote_ident(name)} {kind}")
    cur.execute("CREATE INDEX IF NOT EXISTS alerts_dedup ON alerts (dedup_key)")
    cur.execute("CREATE SEQUENCE IF NOT EXISTS alert_history_seq")
    cur.execute(
        "CREATE TABLE IF NOT EXISTS alert_history ("
        "seq BIGINT DEFAULT nextval('alert_history_seq'), "
        '"alert.id" VARCHAR, time TIMESTAMP_NS, actor VARCHAR, '
        "changes VARCHAR, comment VARCHAR)"
    )
    cur.execute('CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history ("alert.id")')


def ensure_suppression_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS alert_suppressions ("
        'id VARCHAR PRIMARY KEY, field VARCHAR, value VARCHAR, "rule.id" VARCHAR, '
        "reason VARCHAR, actor VARCHAR, created TIMESTAMP_NS, expires TIMESTAMP_NS, "
        "hits BIGINT, last_hit TIMESTAMP_NS, removed TIMESTAMP_NS, removed_by VARCHAR)"
    )


def ensure_risk_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS entity_risk ("
        "kind VARCHAR, value VARCHAR, score DOUBLE, as_of TIMESTAMP_NS, alerts BIGINT, "
        "first_seen TIMESTAMP_NS, last_seen TIMESTAMP_NS, above BOOLEAN, "
        "PRIMARY KEY (kind, value))"
    )
