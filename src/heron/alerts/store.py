"""Alerts kept in the store's DuckDB database, in an ``alerts`` table beside the events.

Columns use the same flat dotted names as the ``events`` view (``"rule.id"``,
``"@timestamp"`` as TIMESTAMP_NS, ``"event.ids"`` as VARCHAR[]), so the hunting
language and plain SQL query alerts the way they query events. Every detection not
suppressed becomes an alert; a detection of the same rule for the same entities
(``dedup_key``) within the dedup window of an alert still open (not closed) only bumps
that alert's ``count`` and ``last_seen`` and adds its event ids (up to a bound). New
alerts add their risk to their entities (``heron.alerts.risk``). Analysts move alerts
through the lifecycle with ``update`` (``heron.alerts.lifecycle``), and every change is
kept in ``alert_history``.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import duckdb
import orjson
import pyarrow as pa

from heron.alerts.errors import AlertNotFound, AlertUpdateError
from heron.alerts.filters import AlertFilter, AlertFilterArgs, list_statement
from heron.alerts.history import read_history, write_history
from heron.alerts.lifecycle import UNSET, Unset, UpdateRequest
from heron.alerts.risk import EntityRisk
from heron.alerts.schema import (
    ALERT_COLUMNS,
    ALERT_TIMESTAMPS,
    HasConnection,
    arrow_type,
    ensure_alert_tables,
    ensure_once,
    existing_columns,
    registered,
    select_list,
    store_lock,
    table_exists,
)
from heron.alerts.settings import DEFAULT_DEDUP_WINDOW_NS, AlertSettings
from heron.alerts.suppress import Suppressions
from heron.detect.base import Detection
from heron.model.alert import Alert, AlertChange, dedup_key, risk_score
from heron.model.timeutil import now_ns

__all__ = [
    "ALERT_COLUMNS",
    "DEFAULT_DEDUP_WINDOW_NS",
    "MAX_BULK_UPDATE",
    "MAX_EVENT_IDS",
    "AddResult",
    "AlertStore",
    "alert_from_detection",
]

_TYPES = {name: arrow_type(name) for name in ALERT_COLUMNS}

#: Event ids an alert keeps; further repeats still count in ``count``.
MAX_EVENT_IDS = 1000
#: Alerts one ``update`` call may change (a page of the queue is far fewer).
MAX_BULK_UPDATE = 10_000


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
    """What ``AlertStore.add`` did: alerts created, repeats grouped, detections suppressed,
    entity-risk threshold alerts raised, and every alert touched."""

    created: int = 0
    grouped: int = 0
    alert_ids: list[str] = field(default_factory=list)
    suppressed: int = 0
    risk_alerts: int = 0


class AlertStore:
    """Alerts in the ``alerts`` table of a store's database."""

    def __init__(
        self,
        store: HasConnection,
        *,
        dedup_window_ns: int = DEFAULT_DEDUP_WINDOW_NS,
        max_event_ids: int = MAX_EVENT_IDS,
        clock: Callable[[], int] = now_ns,
        suppressions: Suppressions | None = None,
        risk: EntityRisk | None = None,
    ) -> None:
        self.store = store
        self.dedup_window_ns = dedup_window_ns
        self.max_event_ids = max_event_ids
        self.clock = clock
        self.read_only = bool(getattr(store, "read_only", False))
        self._lock = store_lock(store)
        if not self.read_only:
            ensure_once(store, "alerts", ensure_alert_tables)
        self.suppressions = (
            suppressions if suppressions is not None else Suppressions(store, clock=clock)
        )
        self.risk = risk if risk is not None else EntityRisk(store, clock=clock)

    @classmethod
    def from_settings(
        cls, store: HasConnection, settings: AlertSettings, *, clock: Callable[[], int] = now_ns
    ) -> AlertStore:
        """An alert store with these grouping and entity-risk settings."""
        risk = EntityRisk(
            store,
            half_life_ns=settings.risk_half_life_ns,
            threshold=settings.risk_threshold,
            threshold_level=settings.risk_alert_level,
            clock=clock,
        )
        return cls(store, dedup_window_ns=settings.dedup_window_ns, clock=clock, risk=risk)

    def _has(self, cur: duckdb.DuckDBPyConnection, table: str) -> bool:
        # A writable open created the tables; only a read-only one may lack them.
        return not self.read_only or table_exists(cur, table)

    def _select(self, cur: duckdb.DuckDBPyConnection) -> str:
        # A read-only open cannot migrate an old table: select NULL for what it lacks.
        return select_list(existing_columns(cur, "alerts") if self.read_only else None)

    # -- writing --------------------------------------------------------------------

    def add(self, detections: Sequence[Detection]) -> AddResult:
        """Store detections as alerts: drop suppressed ones, group repeats into open alerts."""
        result = AddResult()
        if not detections:
            return result
        now = self.clock()
        with self._lock:
            cur = self.store.connection()
            cur.execute("BEGIN TRANSACTION")
            try:
                kept, hits = Suppressions.split(detections, self.suppressions.live(cur, now))
                result.suppressed = len(detections) - len(kept)
                fresh = sorted(
                    (alert_from_detection(d, now) for d in kept), key=lambda a: a.timestamp
                )
                open_by_key = self._open_alerts(cur, {a.dedup_key for a in fresh})
                created: builtins.list[Alert] = []
                created_ids: set[str] = set()
                bumped: dict[str, Alert] = {}
                for alert in fresh:
                    target = self._group_into(open_by_key.get(alert.dedup_key, []), alert)
                    if target is None:
                        open_by_key.setdefault(alert.dedup_key, []).append(alert)
                        created.append(alert)
                        created_ids.add(alert.id)
                        result.alert_ids.append(alert.id)
                        continue
                    self._merge(target, alert, now)
                    result.grouped += 1
                    result.alert_ids.append(target.id)
                    if target.id not in created_ids:
                        bumped[target.id] = target
                raised = self.risk.record(created, cursor=cur) if created else []
                if created or raised:
                    self._insert(cur, [*created, *raised])
                if bumped:
                    self._update(cur, list(bumped.values()))
                Suppressions.record_hits(cur, hits, now)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        result.created = len(created)
        result.risk_alerts = len(raised)
        result.alert_ids.extend(a.id for a in raised)
        return result

    def _open_alerts(
        self, cur: duckdb.DuckDBPyConnection, keys: set[str]
    ) -> dict[str, builtins.list[Alert]]:
        if not keys:
            return {}
        rows = cur.execute(
            f"SELECT {select_list()} FROM alerts "
            "WHERE dedup_key IN (SELECT unnest(?)) AND status <> 'closed'",
            [sorted(keys)],
        ).fetchall()
        out: dict[str, builtins.list[Alert]] = {}
        for alert in _alerts(rows):
            out.setdefault(alert.dedup_key, []).append(alert)
        return out

    def _group_into(self, candidates: builtins.list[Alert], alert: Alert) -> Alert | None:
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

    def _insert(self, cur: duckdb.DuckDBPyConnection, alerts: builtins.list[Alert]) -> None:
        rows = [_stored(a.to_row()) for a in alerts]
        arrays = [
            pa.array([r[name] for r in rows], type=arrow_type(name)) for name in ALERT_COLUMNS
        ]
        table = pa.Table.from_arrays(arrays, names=list(ALERT_COLUMNS))
        cur.register("_heron_alerts", table)
        try:
            cur.execute("INSERT INTO alerts BY NAME SELECT * FROM _heron_alerts")
        finally:
            cur.unregister("_heron_alerts")

    def _update(self, cur: duckdb.DuckDBPyConnection, alerts: builtins.list[Alert]) -> None:
        columns: dict[str, builtins.list[Any]] = {
            "alert.id": [a.id for a in alerts],
            "event.ids": [a.event_ids for a in alerts],
            "count": [a.count for a in alerts],
            "first_seen": [a.first_seen for a in alerts],
            "last_seen": [a.last_seen for a in alerts],
            "updated": [a.updated for a in alerts],
        }
        with registered(cur, "_heron_bumped", columns, _TYPES):
            cur.execute(
                'UPDATE alerts SET "event.ids" = u."event.ids", count = u.count, '
                "first_seen = u.first_seen, last_seen = u.last_seen, updated = u.updated "
                'FROM _heron_bumped u WHERE alerts."alert.id" = u."alert.id"'
            )

    def update(
        self,
        alert_ids: Sequence[str],
        *,
        actor: str,
        status: str | None = None,
        disposition: str | None = None,
        assignee: str | Unset | None = UNSET,
        comment: str | None = None,
    ) -> builtins.list[Alert]:
        """Change the status, disposition or assignee of alerts, or comment on them.

        All or nothing: an unknown id raises ``AlertNotFound`` and a change the lifecycle
        does not allow raises ``AlertUpdateError``, and then no alert is changed. Each
        alert that changed (or got a comment) gets one ``alert_history`` entry. Returns
        the alerts as they are now, in the order of ``alert_ids``.
        """
        request = UpdateRequest(actor, status, disposition, assignee, comment).checked()
        ids = list(dict.fromkeys(alert_ids))
        if not ids:
            return []
        if len(ids) > MAX_BULK_UPDATE:
            raise AlertUpdateError(
                f"{len(ids)} alerts in one update; at most {MAX_BULK_UPDATE} at a time"
            )
        if self.read_only:
            raise AlertUpdateError("the alert store is open read-only")
        with self._lock:
            cur = self.store.connection()
            cur.execute("BEGIN TRANSACTION")
            try:
                found = {a.id: a for a in self._fetch(cur, ids)}
                missing = [i for i in ids if i not in found]
                if missing:
                    raise AlertNotFound(missing)
                before = {i: a.disposition for i, a in found.items()}
                now = self.clock()
                history: builtins.list[AlertChange] = []
                changed: builtins.list[Alert] = []
                for alert_id in ids:
                    alert = found[alert_id]
                    diff = request.apply(alert, now)
                    if diff:
                        changed.append(alert)
                    if diff or request.comment:
                        history.append(
                            AlertChange(alert_id, now, request.actor, diff, request.comment)
                        )
                if changed:
                    self._set_lifecycle(cur, changed)
                    dismissed = [a for a in changed if _dismissed(a.disposition, before[a.id])]
                    restored = [a for a in changed if _dismissed(before[a.id], a.disposition)]
                    if dismissed:
                        self.risk.adjust(dismissed, -1, cursor=cur)
                    if restored:
                        self.risk.adjust(restored, +1, cursor=cur)
                write_history(cur, history)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return [found[i] for i in ids]

    def _set_lifecycle(self, cur: duckdb.DuckDBPyConnection, alerts: builtins.list[Alert]) -> None:
        columns: dict[str, builtins.list[Any]] = {
            name: [a.to_row()[name] for a in alerts]
            for name in (
                "alert.id",
                "status",
                "disposition",
                "assignee",
                "acknowledged_at",
                "closed_at",
                "updated",
            )
        }
        with registered(cur, "_heron_triaged", columns, _TYPES):
            cur.execute(
                "UPDATE alerts SET status = t.status, disposition = t.disposition, "
                "assignee = t.assignee, acknowledged_at = t.acknowledged_at, "
                "closed_at = t.closed_at, updated = t.updated "
                'FROM _heron_triaged t WHERE alerts."alert.id" = t."alert.id"'
            )

    # -- reading --------------------------------------------------------------------

    def _fetch(self, cur: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> builtins.list[Alert]:
        rows = cur.execute(
            f'SELECT {self._select(cur)} FROM alerts WHERE "alert.id" IN (SELECT unnest(?))',
            [list(ids)],
        ).fetchall()
        return _alerts(rows)

    def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        order: str = "last_seen",
        **filters: Unpack[AlertFilterArgs],
    ) -> builtins.list[Alert]:
        """A page of alerts, most recently seen first (or ``order``: ``risk_score``,
        ``first_seen``). ``min_level`` keeps that level and above, ``levels`` exactly those;
        ``since``/``until`` keep alerts seen in that time; ``status`` is one or several;
        ``entity`` is ``(field or kind, value)``; ``text`` a substring of the rule name, rule
        id or entity values (case-insensitive). Raises ``AlertFilterError`` for bad values."""
        where, params = AlertFilter(**filters).where()
        cur = self.store.connection()
        if not self._has(cur, "alerts"):
            list_statement("", where, order=order, limit=limit, offset=offset)  # check order
            return []
        sql, page = list_statement(
            self._select(cur), where, order=order, limit=limit, offset=offset
        )
        return _alerts(cur.execute(sql, [*params, *page]).fetchall())

    def count_matching(self, **filters: Unpack[AlertFilterArgs]) -> int:
        """How many alerts ``list`` with the same filters would page through."""
        where, params = AlertFilter(**filters).where()
        cur = self.store.connection()
        if not self._has(cur, "alerts"):
            return 0
        row = cur.execute(f"SELECT count(*) FROM alerts{where}", params).fetchone()
        return int(row[0]) if row else 0

    def get(self, alert_id: str) -> Alert | None:
        """One alert, or None."""
        found = self.get_many([alert_id])
        return found[0] if found else None

    def get_many(self, alert_ids: Sequence[str]) -> builtins.list[Alert]:
        """The alerts with these ids that exist, in the order asked."""
        cur = self.store.connection()
        if not alert_ids or not self._has(cur, "alerts"):
            return []
        by_id = {a.id: a for a in self._fetch(cur, list(alert_ids))}
        return [by_id[i] for i in dict.fromkeys(alert_ids) if i in by_id]

    def history(self, alert_id: str) -> builtins.list[AlertChange]:
        """What analysts changed on this alert, oldest first; raises ``AlertNotFound``."""
        if self.get(alert_id) is None:
            raise AlertNotFound([alert_id])
        cur = self.store.connection()
        if not self._has(cur, "alert_history"):
            return []
        return read_history(cur, alert_id)

    def count(self) -> int:
        cur = self.store.connection()
        if not self._has(cur, "alerts"):
            return 0
        row = cur.execute("SELECT count(*) FROM alerts").fetchone()
        return int(row[0]) if row else 0


#: Dispositions that say the alert was not a threat: its entity risk is taken back.
_NOT_A_THREAT = frozenset({"benign", "false_positive"})


def _dismissed(after: str | None, before: str | None) -> bool:
    """Whether a disposition change says "not a threat" where it did not before."""
    return after in _NOT_A_THREAT and before not in _NOT_A_THREAT


def _alerts(rows: Sequence[Sequence[Any]]) -> list[Alert]:
    names = list(ALERT_COLUMNS)
    return [Alert.from_row(dict(zip(names, row, strict=True))) for row in rows]


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in ("entities", "group"):
        out[name] = orjson.dumps(out[name], option=orjson.OPT_SORT_KEYS).decode()
    for name in ALERT_TIMESTAMPS:
        value = out[name]
        out[name] = None if value is None else int(value)
    return out
