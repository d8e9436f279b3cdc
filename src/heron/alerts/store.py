"""Alerts kept in the store's DuckDB database, in an ``alerts`` table beside the events.

Columns use the same flat dotted names as the ``events`` view (``"rule.id"``,
``"@timestamp"`` as TIMESTAMP_NS, ``"event.ids"`` as VARCHAR[]), so the hunting
language and plain SQL query alerts the way they query events. Every detection
becomes an alert; a detection of the same rule for the same entities (``dedup_key``)
within the dedup window of an alert still open only bumps that alert's ``count`` and
``last_seen`` and adds its event ids (up to a bound).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import orjson
import pyarrow as pa

from heron.detect.base import Detection
from heron.model.alert import (
    ALERT_ENTITY_FIELDS,
    LEVELS,
    Alert,
    dedup_key,
    level_rank,
    risk_score,
)
from heron.model.timeutil import NS_PER_S, now_ns
from heron.store.base import quote_ident

__all__ = [
    "ALERT_COLUMNS",
    "DEFAULT_DEDUP_WINDOW_NS",
    "MAX_EVENT_IDS",
    "AddResult",
    "AlertStore",
    "alert_from_detection",
]

DEFAULT_DEDUP_WINDOW_NS = 3600 * NS_PER_S
#: Event ids an alert keeps; further repeats still count in ``count``.
MAX_EVENT_IDS = 1000

#: Column → DuckDB type, in table order.
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
}
_TIMESTAMPS = ("@timestamp", "first_seen", "last_seen", "created", "updated")
_JSON = ("entities", "group")
_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "TIMESTAMP_NS": pa.timestamp("ns"),
    "VARCHAR[]": pa.list_(pa.string()),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
}


class _HasConnection(Protocol):
    def connection(self) -> duckdb.DuckDBPyConnection: ...


def alert_from_detection(detection: Detection, now: int) -> Alert:
    """A new alert for one detection."""
    level = (detection.level or "medium").lower()
    return Alert(
        id=uuid.uuid4().hex,
        rule_id=detection.rule_id,
        rule_name=detection.rule_name,
        rule_level=level,
        timestamp=detection.timestamp,
        event_ids=list(dict.fromkeys(detection.event_ids))[:MAX_EVENT_IDS],
        rule_tags=list(detection.tags),
        entities=dict(detection.entities),
        group=dict(detection.group),
        risk_score=risk_score(level),
        first_seen=detection.timestamp,
        last_seen=detection.timestamp,
        dedup_key=dedup_key(detection.rule_id, detection.entities, detection.group),
        created=now,
        updated=now,
    )


@dataclass(slots=True)
class AddResult:
    """What ``AlertStore.add`` did: alerts created, alerts bumped, and every alert touched."""

    created: int = 0
    grouped: int = 0
    alert_ids: list[str] = field(default_factory=list)


def _select_list() -> str:
    parts = []
    for name in ALERT_COLUMNS:
        col = quote_ident(name)
        parts.append(f"epoch_ns({col}) AS {col}" if name in _TIMESTAMPS else col)
    return ", ".join(parts)


class AlertStore:
    """Alerts in the ``alerts`` table of a store's database."""

    def __init__(
        self,
        store: _HasConnection,
        *,
        dedup_window_ns: int = DEFAULT_DEDUP_WINDOW_NS,
        max_event_ids: int = MAX_EVENT_IDS,
        clock: Callable[[], int] = now_ns,
    ) -> None:
        self.store = store
        self.dedup_window_ns = dedup_window_ns
        self.max_event_ids = max_event_ids
        self.clock = clock
        self._lock = threading.Lock()
        if not getattr(store, "read_only", False):
            columns = ", ".join(f"{quote_ident(n)} {t}" for n, t in ALERT_COLUMNS.items())
            cur = store.connection()
            cur.execute(f"CREATE TABLE IF NOT EXISTS alerts ({columns})")
            cur.execute("CREATE INDEX IF NOT EXISTS alerts_dedup ON alerts (dedup_key)")

    def _exists(self, cur: duckdb.DuckDBPyConnection) -> bool:
        row = cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'"
        ).fetchone()
        return bool(row and row[0])

    # -- writing --------------------------------------------------------------------

    def add(self, detections: Sequence[Detection]) -> AddResult:
        """Store detections as alerts, grouping repeats into open alerts."""
        result = AddResult()
        if not detections:
            return result
        now = self.clock()
        fresh = sorted(
            (alert_from_detection(d, now) for d in detections), key=lambda a: a.timestamp
        )
        with self._lock:
            cur = self.store.connection()
            cur.execute("BEGIN TRANSACTION")
            try:
                open_by_key = self._open_alerts(cur, {a.dedup_key for a in fresh})
                created: list[Alert] = []
                bumped: dict[str, Alert] = {}
                for alert in fresh:
                    target = self._group_into(open_by_key.get(alert.dedup_key, []), alert)
                    if target is None:
                        open_by_key.setdefault(alert.dedup_key, []).append(alert)
                        created.append(alert)
                        result.alert_ids.append(alert.id)
                        continue
                    self._merge(target, alert, now)
                    result.grouped += 1
                    result.alert_ids.append(target.id)
                    if all(target is not c for c in created):
                        bumped[target.id] = target
                if created:
                    self._insert(cur, created)
                if bumped:
                    self._update(cur, list(bumped.values()))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        result.created = len(created)
        return result

    def _open_alerts(
        self, cur: duckdb.DuckDBPyConnection, keys: set[str]
    ) -> dict[str, list[Alert]]:
        rows = cur.execute(
            f"SELECT {_select_list()} FROM alerts "
            "WHERE dedup_key IN (SELECT unnest(?)) AND status <> 'closed'",
            [sorted(keys)],
        ).fetchall()
        names = list(ALERT_COLUMNS)
        out: dict[str, list[Alert]] = {}
        for row in rows:
            alert = Alert.from_row(dict(zip(names, row, strict=True)))
            out.setdefault(alert.dedup_key, []).append(alert)
        return out

    def _group_into(self, candidates: list[Alert], alert: Alert) -> Alert | None:
        window = self.dedup_window_ns
        best: Alert | None = None
        for cand in candidates:
            if cand.first_seen - window <= alert.timestamp <= cand.last_seen + window and (
                best is None or cand.last_seen > best.last_seen
            ):
                best = cand
        return best

    def _merge(self, target: Alert, alert: Alert, now: int) -> None:
        target.count += 1
        target.first_seen = min(target.first_seen, alert.timestamp)
        target.last_seen = max(target.last_seen, alert.timestamp)
        room = self.max_event_ids - len(target.event_ids)
        if room > 0:
            known = set(target.event_ids)
            target.event_ids.extend([i for i in alert.event_ids if i not in known][:room])
        target.updated = now

    def _insert(self, cur: duckdb.DuckDBPyConnection, alerts: list[Alert]) -> None:
        rows = [_stored(a.to_row()) for a in alerts]
        arrays = [
            pa.array([r[name] for r in rows], type=_ARROW[kind.split()[0]])
            for name, kind in ALERT_COLUMNS.items()
        ]
        table = pa.Table.from_arrays(arrays, names=list(ALERT_COLUMNS))
        cur.register("_heron_alerts", table)
        try:
            cur.execute("INSERT INTO alerts BY NAME SELECT * FROM _heron_alerts")
        finally:
            cur.unregister("_heron_alerts")

    def _update(self, cur: duckdb.DuckDBPyConnection, alerts: list[Alert]) -> None:
        cur.executemany(
            'UPDATE alerts SET "event.ids" = ?, count = ?, '
            "first_seen = make_timestamp_ns(?), last_seen = make_timestamp_ns(?), "
            'updated = make_timestamp_ns(?) WHERE "alert.id" = ?',
            [[a.event_ids, a.count, a.first_seen, a.last_seen, a.updated, a.id] for a in alerts],
        )

    # -- reading --------------------------------------------------------------------

    def list(
        self,
        *,
        limit: int = 100,
        rule_id: str | None = None,
        min_level: str | None = None,
        since: int | None = None,
        status: str | None = None,
    ) -> list[Alert]:
        """Alerts, most recently seen first; ``min_level`` keeps that level and above."""
        cur = self.store.connection()
        if not self._exists(cur):
            return []
        clauses: list[str] = []
        params: list[Any] = []
        if rule_id is not None:
            clauses.append('"rule.id" = ?')
            params.append(rule_id)
        if min_level is not None:
            levels = list(LEVELS[level_rank(min_level) :])
            clauses.append('"rule.level" IN (SELECT unnest(?))')
            params.append(levels)
        if since is not None:
            clauses.append("last_seen >= make_timestamp_ns(?)")
            params.append(since)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = cur.execute(
            f"SELECT {_select_list()} FROM alerts{where} "
            'ORDER BY last_seen DESC, "alert.id" LIMIT ?',
            [*params, max(0, limit)],
        ).fetchall()
        names = list(ALERT_COLUMNS)
        return [Alert.from_row(dict(zip(names, row, strict=True))) for row in rows]

    def get(self, alert_id: str) -> Alert | None:
        cur = self.store.connection()
        if not self._exists(cur):
            return None
        row = cur.execute(
            f'SELECT {_select_list()} FROM alerts WHERE "alert.id" = ?', [alert_id]
        ).fetchone()
        if row is None:
            return None
        return Alert.from_row(dict(zip(ALERT_COLUMNS, row, strict=True)))

    def count(self) -> int:
        cur = self.store.connection()
        if not self._exists(cur):
            return 0
        row = cur.execute("SELECT count(*) FROM alerts").fetchone()
        return int(row[0]) if row else 0


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in _JSON:
        out[name] = orjson.dumps(out[name], option=orjson.OPT_SORT_KEYS).decode()
    for name in _TIMESTAMPS:
        value = out[name]
        out[name] = None if value is None else int(value)
    return out
