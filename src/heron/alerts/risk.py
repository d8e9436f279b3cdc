"""Entity risk: every alert adds its risk score to each of its entities, decaying over time.

Risk-based alerting: many low alerts about one user, host, IP or AI agent add up to
something worth a look even when no single rule fires high. Each entity keeps one
stored ``(score, as_of)``; its score at any later time ``t`` is
``score · 2^(-(t − as_of) / half_life)``, computed when read, so nothing has to run in
the background to age scores. Scores follow event time (an alert's ``@timestamp``):
replaying last month's logs rebuilds last month's risk, which has since decayed.

Closing an alert as benign or a false positive takes its share back (reopening gives it
back), so dismissed noise does not push an entity over the threshold.

When an entity's score reaches the threshold, one alert of rule ``heron.risk.threshold``
is raised for it; another only after its score has fallen below the threshold and
crossed it again.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from heron.alerts.errors import AlertFilterError
from heron.alerts.schema import (
    HasConnection,
    ensure_once,
    ensure_risk_table,
    registered,
    store_lock,
    table_exists,
)
from heron.model.alert import ENTITY_KINDS, Alert, dedup_key, risk_score
from heron.model.timeutil import NS_PER_S, now_ns

__all__ = [
    "DEFAULT_HALF_LIFE_NS",
    "DEFAULT_RISK_THRESHOLD",
    "ENTITY_KIND_NAMES",
    "RISK_RULE_ID",
    "EntityRisk",
    "EntityScore",
]

DEFAULT_HALF_LIFE_NS = 24 * 3600 * NS_PER_S
DEFAULT_RISK_THRESHOLD = 150.0
RISK_RULE_ID = "heron.risk.threshold"
RISK_RULE_NAME = "Entity risk above threshold"
ENTITY_KIND_NAMES = ("user", "host", "ip", "agent")
_EVENT_IDS = 100
_RISK_TYPES: dict[str, pa.DataType] = {
    "kind": pa.string(),
    "value": pa.string(),
    "score": pa.float64(),
    "as_of": pa.timestamp("ns"),
    "alerts": pa.int64(),
    "first_seen": pa.timestamp("ns"),
    "last_seen": pa.timestamp("ns"),
    "above": pa.bool_(),
    "stored": pa.bool_(),
}
_SEP = "\x00"


@dataclass(frozen=True, slots=True)
class EntityScore:
    """An entity's risk at one time, its alert count and when its alerts were seen."""

    kind: str
    value: str
    score: float
    alerts: int
    first_seen: int
    last_seen: int

    def to_row(self) -> dict[str, Any]:
        return {
            "entity.kind": self.kind,
            "entity.value": self.value,
            "risk": round(self.score, 2),
            "alerts": self.alerts,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


@dataclass(slots=True)
class _State:
    score: float
    as_of: int
    alerts: int
    first_seen: int
    last_seen: int
    above: bool
    stored: bool


class EntityRisk:
    """Decaying risk per entity, in the ``entity_risk`` table of a store's database."""

    def __init__(
        self,
        store: HasConnection,
        *,
        half_life_ns: int = DEFAULT_HALF_LIFE_NS,
        threshold: float = DEFAULT_RISK_THRESHOLD,
        threshold_level: str = "high",
        clock: Callable[[], int] = now_ns,
    ) -> None:
        if half_life_ns <= 0:
            raise ValueError("the risk half-life must be positive")
        if threshold <= 0:
            raise ValueError("the risk threshold must be positive")
        self.store = store
        self.half_life_ns = half_life_ns
        self.threshold = float(threshold)
        self.threshold_level = threshold_level
        self.clock = clock
        self._lock = store_lock(store)
        self.read_only = bool(getattr(store, "read_only", False))
        if not self.read_only:
            ensure_once(store, "risk", ensure_risk_table)

    def _has(self, cur: duckdb.DuckDBPyConnection, table: str) -> bool:
        # A writable open created the tables; only a read-only one may lack them.
        return not self.read_only or table_exists(cur, table)

    def decay(self, elapsed_ns: int) -> float:
        """The factor a score keeps after ``elapsed_ns`` (1 for no or negative time)."""
        return math.pow(2.0, -elapsed_ns / self.half_life_ns) if elapsed_ns > 0 else 1.0

    # -- writing --------------------------------------------------------------------

    def record(
        self,
        alerts: Alert | Sequence[Alert],
        *,
        cursor: duckdb.DuckDBPyConnection | None = None,
    ) -> list[Alert]:
        """Add these alerts' risk to their entities; returns the threshold alerts raised.

        The threshold alerts are returned, not stored: ``AlertStore.add`` stores them in
        the same transaction. Threshold alerts themselves add no risk.
        """
        batch = [alerts] if isinstance(alerts, Alert) else list(alerts)
        contributions: list[tuple[int, str, str, str, Alert]] = []
        for alert in batch:
            if alert.rule_id == RISK_RULE_ID:
                continue
            seen: set[tuple[str, str]] = set()
            for name, kind in ENTITY_KINDS.items():
                value = alert.entities.get(name)
                if value and (kind, value) not in seen:
                    seen.add((kind, value))
                    contributions.append((alert.timestamp, kind, value, name, alert))
        if not contributions:
            return []
        with self._lock:
            cur = cursor if cursor is not None else self.store.connection()
            states = self._load(cur, {(k, v) for _, k, v, _, _ in contributions})
            raised: list[Alert] = []
            for ts, kind, value, name, alert in sorted(contributions, key=lambda c: c[0]):
                state = states.get((kind, value))
                if state is None:
                    state = _State(0.0, ts, 0, ts, ts, above=False, stored=False)
                    states[(kind, value)] = state
                if ts >= state.as_of:
                    current = state.score * self.decay(ts - state.as_of)
                    if current < self.threshold:
                        state.above = False  # fell below since the last alert
                    state.score = current + alert.risk_score
                    state.as_of = ts
                else:  # an older alert arriving late: its share, aged to as_of
                    state.score += alert.risk_score * self.decay(state.as_of - ts)
                state.alerts += 1
                state.first_seen = min(state.first_seen, ts)
                state.last_seen = max(state.last_seen, ts)
                if state.score >= self.threshold and not state.above:
                    state.above = True
                    raised.append(self._threshold_alert(kind, value, name, state, alert))
            self._save(cur, states)
        return raised

    def adjust(
        self,
        alerts: Sequence[Alert],
        sign: int,
        *,
        cursor: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        """Take back (``sign`` −1) or give back (+1) the risk these alerts added.

        Closing an alert as benign or a false positive takes its share, aged to now, off
        its entities; reopening it gives the share back. Alert counts and seen times stay.
        """
        deltas: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for alert in alerts:
            if alert.rule_id == RISK_RULE_ID:
                continue
            keys = {
                (k, alert.entities[f]) for f, k in ENTITY_KINDS.items() if alert.entities.get(f)
            }
            for key in keys:
                deltas.setdefault(key, []).append((alert.timestamp, sign * alert.risk_score))
        if not deltas:
            return
        with self._lock:
            cur = cursor if cursor is not None else self.store.connection()
            states = self._load(cur, set(deltas))
            for key, state in states.items():
                for ts, amount in deltas[key]:
                    state.score = max(0.0, state.score + amount * self.decay(state.as_of - ts))
            if states:
                self._save(cur, states)

    def _load(
        self, cur: duckdb.DuckDBPyConnection, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], _State]:
        rows = cur.execute(
            "SELECT kind, value, score, epoch_ns(as_of), alerts, epoch_ns(first_seen), "
            "epoch_ns(last_seen), above FROM entity_risk "
            "WHERE list_contains(?, kind || chr(0) || value)",
            [[k + _SEP + v for k, v in keys]],
        ).fetchall()
        return {
            (str(r[0]), str(r[1])): _State(
                float(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), bool(r[7]), True
            )
            for r in rows
        }

    def _save(self, cur: duckdb.DuckDBPyConnection, states: dict[tuple[str, str], _State]) -> None:
        items = list(states.items())
        columns: dict[str, list[Any]] = {
            "kind": [k for (k, _), _ in items],
            "value": [v for (_, v), _ in items],
            "score": [s.score for _, s in items],
            "as_of": [s.as_of for _, s in items],
            "alerts": [s.alerts for _, s in items],
            "first_seen": [s.first_seen for _, s in items],
            "last_seen": [s.last_seen for _, s in items],
            "above": [s.above for _, s in items],
            "stored": [s.stored for _, s in items],
        }
        with registered(cur, "_heron_risk", columns, _RISK_TYPES):
            cur.execute(
                "UPDATE entity_risk SET score = r.score, as_of = r.as_of, alerts = r.alerts, "
                "first_seen = r.first_seen, last_seen = r.last_seen, above = r.above "
                "FROM _heron_risk r WHERE r.stored "
                "AND entity_risk.kind = r.kind AND entity_risk.value = r.value"
            )
            cur.execute(
                "INSERT INTO entity_risk SELECT kind, value, score, as_of, alerts, first_seen, "
                "last_seen, above FROM _heron_risk WHERE NOT stored"
            )
        for state in states.values():
            state.stored = True

    def _threshold_alert(
        self, kind: str, value: str, name: str, state: _State, trigger: Alert
    ) -> Alert:
        entities = {name: value}
        group = {"entity.kind": kind, "entity.value": value}
        now = self.clock()
        return Alert(
            id=uuid.uuid4().hex,
            rule_id=RISK_RULE_ID,
            rule_name=RISK_RULE_NAME,
            rule_level=self.threshold_level,
            timestamp=state.as_of,
            event_ids=list(trigger.event_ids[:_EVENT_IDS]),
            rule_tags=["heron.risk"],
            entities=entities,
            group={**group, "risk.score": f"{state.score:.0f}"},
            risk_score=risk_score(self.threshold_level),
            first_seen=state.first_seen,
            last_seen=state.as_of,
            dedup_key=dedup_key(RISK_RULE_ID, entities, group),
            created=now,
            updated=now,
        )

    # -- reading --------------------------------------------------------------------

    def _current(self) -> str:
        # Decay in SQL, from the stored (score, as_of); never grows for future as_of.
        return "score * pow(2.0, -greatest(0, CAST(? AS BIGINT) - epoch_ns(as_of)) / ?)"

    def get(self, kind: str, value: str, at_ns: int | None = None) -> EntityScore | None:
        """One entity's risk at ``at_ns`` (default now), or None if it never had an alert."""
        cur = self.store.connection()
        if not self._has(cur, "entity_risk"):
            return None
        at = self.clock() if at_ns is None else at_ns
        row = cur.execute(
            f"SELECT kind, value, {self._current()}, alerts, epoch_ns(first_seen), "
            "epoch_ns(last_seen) FROM entity_risk WHERE kind = ? AND value = ?",
            [at, float(self.half_life_ns), kind, value],
        ).fetchone()
        return _score(row) if row else None

    def score(self, kind: str, value: str, at_ns: int | None = None) -> float:
        """The entity's risk at ``at_ns`` (default now); 0 for an entity never seen."""
        found = self.get(kind, value, at_ns)
        return found.score if found else 0.0

    def top(
        self, kind: str | None = None, limit: int = 20, at_ns: int | None = None
    ) -> list[EntityScore]:
        """The riskiest entities at ``at_ns`` (default now), of one kind or of all; an
        unknown kind raises ``AlertFilterError`` (a ``ValueError``)."""
        if kind is not None and kind not in ENTITY_KIND_NAMES:
            raise AlertFilterError(
                f"unknown entity kind {kind!r} (use one of: {', '.join(ENTITY_KIND_NAMES)})"
            )
        cur = self.store.connection()
        if not self._has(cur, "entity_risk"):
            return []
        at = self.clock() if at_ns is None else at_ns
        where = " WHERE kind = ?" if kind is not None else ""
        rows = cur.execute(
            f"SELECT kind, value, {self._current()} AS risk, alerts, epoch_ns(first_seen), "
            f"epoch_ns(last_seen) FROM entity_risk{where} "
            "ORDER BY risk DESC, last_seen DESC, kind, value LIMIT ?",
            [at, float(self.half_life_ns), *([kind] if kind is not None else []), max(0, limit)],
        ).fetchall()
        return [_score(r) for r in rows]


def _score(row: Sequence[Any]) -> EntityScore:
    return EntityScore(
        kind=str(row[0]),
        value=str(row[1]),
        score=float(row[2]),
        alerts=int(row[3]),
        first_seen=int(row[4]),
        last_seen=int(row[5]),
    )
