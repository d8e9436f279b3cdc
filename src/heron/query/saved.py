"""Saved searches, kept in the store's database, and the scheduled ones that raise alerts.

A saved search is a named hunt. Given a ``schedule`` (an interval such as ``5m``) it is
run by ``run_due_searches`` whenever that much time has passed since its last run; with
``alert`` set, every row it returns becomes a ``Detection`` (rule id ``search:<name>``)
for the alert pipeline. The hunt itself decides its window, e.g. ``where @timestamp >
ago(5m)``: ``ago`` counts from the scheduled run's time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from heron.detect.base import Detection
from heron.errors import ConfigError
from heron.model.timeutil import NS_PER_S, parse_duration
from heron.query.compile import compile_query
from heron.query.errors import QueryError
from heron.query.parse import parse
from heron.query.rows import table_rows
from heron.query.run import SupportsConnection, catalog_for, execute

__all__ = [
    "ENTITY_FIELDS",
    "MAX_ALERT_ROWS",
    "SavedSearch",
    "delete_search",
    "detections_from",
    "get_search",
    "list_searches",
    "run_due_searches",
    "save_search",
]

TABLE = "saved_searches"
#: Rows of one scheduled run that become detections; the rest are counted only.
MAX_ALERT_ROWS = 100
#: Shortest schedule accepted.
MIN_SCHEDULE_NS = 10 * NS_PER_S
LEVELS = ("informational", "low", "medium", "high", "critical")
#: Result columns that name an entity of a detection.
ENTITY_FIELDS = (
    "user.name",
    "user.target.name",
    "host.name",
    "source.ip",
    "destination.ip",
    "process.name",
    "dns.question.name",
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_COLUMNS = (
    "name, query, description, created, updated, schedule_ns, alert, level, "
    "last_run, last_rows, last_error"
)


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A named hunt; with ``schedule`` (ns) it runs periodically."""

    name: str
    query: str
    description: str = ""
    created: int = 0
    updated: int = 0
    schedule: int | None = None
    alert: bool = False
    level: str = "medium"
    last_run: int | None = None
    last_rows: int | None = None
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": self.query,
            "description": self.description,
            "created": self.created,
            "updated": self.updated,
            "schedule": self.schedule,
            "alert": self.alert,
            "level": self.level,
            "last_run": self.last_run,
            "last_rows": self.last_rows,
            "last_error": self.last_error,
        }

    def due(self, now: int) -> bool:
        return self.schedule is not None and (
            self.last_run is None or now - self.last_run >= self.schedule
        )


def _ensure_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        "name VARCHAR PRIMARY KEY, query VARCHAR NOT NULL, description VARCHAR, "
        "created TIMESTAMP_NS, updated TIMESTAMP_NS, schedule_ns BIGINT, alert BOOLEAN, "
        "level VARCHAR, last_run TIMESTAMP_NS, last_rows BIGINT, last_error VARCHAR)"
    )


def _exists(cur: duckdb.DuckDBPyConnection) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]
    ).fetchone()
    return bool(row and row[0])


def _select(where: str = "") -> str:
    return (
        f"SELECT name, query, description, epoch_ns(created), epoch_ns(updated), schedule_ns, "
        f"alert, level, epoch_ns(last_run), last_rows, last_error FROM {TABLE}{where}"
    )


def _from_row(row: tuple[Any, ...]) -> SavedSearch:
    name, query, description, created, updated, schedule, alert, level, last, rows, err = row
    return SavedSearch(
        name=name,
        query=query,
        description=description or "",
        created=int(created or 0),
        updated=int(updated or 0),
        schedule=None if schedule is None else int(schedule),
        alert=bool(alert),
        level=level or "medium",
        last_run=None if last is None else int(last),
        last_rows=None if rows is None else int(rows),
        last_error=err,
    )


def _schedule_ns(schedule: str | int | None) -> int | None:
    if schedule is None or schedule == "":
        return None
    try:
        value = parse_duration(schedule) if isinstance(schedule, str) else int(schedule)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if value < MIN_SCHEDULE_NS:
        raise ConfigError("a schedule is at least 10s")
    return value


def save_search(
    store: SupportsConnection,
    name: str,
    query: str,
    *,
    now: int,
    description: str = "",
    schedule: str | int | None = None,
    alert: bool = False,
    level: str = "medium",
) -> SavedSearch:
    """Save (or replace) the search ``name``; the query must compile."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"a saved search name is 1-64 letters, digits, '.', '_' or '-': {name[:80]!r}"
        )
    if level not in LEVELS:
        raise ConfigError(f"level must be one of {', '.join(LEVELS)}")
    tree = parse(query)
    compile_query(tree, catalog=catalog_for(store, tree))  # raises QueryError if it cannot run
    interval = _schedule_ns(schedule)
    if alert and interval is None:
        raise ConfigError("an alerting search needs a schedule (e.g. --schedule 5m)")
    cur = store.connection()
    try:
        _ensure_table(cur)
        existing = cur.execute(
            f"SELECT epoch_ns(created) FROM {TABLE} WHERE name = ?", [name]
        ).fetchone()
        created = int(existing[0]) if existing and existing[0] is not None else now
        cur.execute(f"DELETE FROM {TABLE} WHERE name = ?", [name])
        cur.execute(
            f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES (?, ?, ?, make_timestamp_ns(?), "
            "make_timestamp_ns(?), ?, ?, ?, NULL, NULL, NULL)",
            [name, query, description, created, now, interval, alert, level],
        )
    finally:
        cur.close()
    return SavedSearch(name, query, description, created, now, interval, alert, level)


def get_search(store: SupportsConnection, name: str) -> SavedSearch | None:
    """The saved search ``name``, if there is one."""
    cur = store.connection()
    try:
        if not _exists(cur):
            return None
        row = cur.execute(_select(" WHERE name = ?"), [name]).fetchone()
    finally:
        cur.close()
    return _from_row(row) if row else None


def list_searches(store: SupportsConnection) -> list[SavedSearch]:
    """Every saved search, by name."""
    cur = store.connection()
    try:
        if not _exists(cur):
            return []
        rows = cur.execute(_select(" ORDER BY name")).fetchall()
    finally:
        cur.close()
    return [_from_row(r) for r in rows]


def delete_search(store: SupportsConnection, name: str) -> bool:
    """Delete ``name``; False if there was no such search."""
    cur = store.connection()
    try:
        if not _exists(cur):
            return False
        row = cur.execute(f"DELETE FROM {TABLE} WHERE name = ? RETURNING name", [name]).fetchone()
    finally:
        cur.close()
    return row is not None


def run_due_searches(
    store: SupportsConnection, now: int, *, timeout: float = 60.0
) -> list[Detection]:
    """Run every scheduled search whose interval has passed; detections of alerting ones.

    Each run's time, row count and error (a search that fails is recorded, not raised)
    are stored, so a failing search does not stop the others.
    """
    detections: list[Detection] = []
    for search in list_searches(store):
        if not search.due(now):
            continue
        rows: int | None = None
        error: str | None = None
        try:
            result = execute(store, search.query, limit=MAX_ALERT_ROWS, timeout=timeout, now_ns=now)
        except QueryError as exc:
            error = exc.message[:500]
        else:
            rows = result.table.num_rows
            if search.alert and rows:
                detections.extend(detections_from(search, result.table, now))
        cur = store.connection()
        try:
            cur.execute(
                f"UPDATE {TABLE} SET last_run = make_timestamp_ns(?), last_rows = ?, "
                "last_error = ? WHERE name = ?",
                [now, rows, error, search.name],
            )
        finally:
            cur.close()
    return detections


def detections_from(search: SavedSearch, table: pa.Table, now: int) -> list[Detection]:
    """One detection per result row (at most ``MAX_ALERT_ROWS``)."""
    out: list[Detection] = []
    for row in table_rows(table.slice(0, MAX_ALERT_ROWS)):
        out.append(
            Detection(
                rule_id=f"search:{search.name}",
                rule_name=search.name,
                level=search.level,
                timestamp=_row_time(row, table, now),
                event_ids=_event_ids(row),
                tags=("heron.saved_search",),
                entities={k: str(row[k]) for k in ENTITY_FIELDS if row.get(k) not in (None, "")},
                group=_group(row, table),
            )
        )
    return out


def _row_time(row: Mapping[str, Any], table: pa.Table, now: int) -> int:
    value = row.get("@timestamp")
    if isinstance(value, int) and pa.types.is_timestamp(table.schema.field("@timestamp").type):
        return value
    return now


def _event_ids(row: Mapping[str, Any]) -> tuple[str, ...]:
    single = row.get("event.id")
    if isinstance(single, str):
        return (single,)
    many = row.get("event.ids")
    if isinstance(many, list):
        return tuple(str(i) for i in many if i is not None)
    return ()


def _group(row: Mapping[str, Any], table: pa.Table) -> dict[str, str]:
    skip = {"@timestamp", "event.id", "event.ids", "event.original", "extra", *ENTITY_FIELDS}
    group: dict[str, str] = {}
    for fld in table.schema:
        value = row.get(fld.name)
        if fld.name in skip or value is None or pa.types.is_timestamp(fld.type):
            continue
        group[fld.name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        if len(group) == 16:
            break
    return group
