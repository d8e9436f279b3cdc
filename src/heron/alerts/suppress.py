"""Suppressions: detections whose entity (or group) field has a given value raise no alert.

A suppression names a field (``user.name``, ``source.ip``, ``rule.id`` or any entity or
group-by field a rule reports), a value (matched case-insensitively, the way Windows and
most identity systems compare names), optionally one rule, a reason and an expiry.
Every detection it drops counts as a hit. Expired suppressions stop applying but stay
listed (``include_expired=True``); removed ones are kept in the table for the record.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from heron.alerts.errors import SuppressionError, SuppressionNotFound
from heron.alerts.schema import (
    HasConnection,
    ensure_once,
    ensure_suppression_table,
    store_lock,
    table_exists,
)
from heron.detect.base import Detection
from heron.model.timeutil import now_ns

__all__ = ["MAX_REASON_CHARS", "Suppression", "Suppressions"]

MAX_REASON_CHARS = 2_000
_FIELD_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")
_COLUMNS = (
    'id, field, value, "rule.id", reason, actor, epoch_ns(created), epoch_ns(expires), '
    "hits, epoch_ns(last_hit), epoch_ns(removed), removed_by"
)


@dataclass(frozen=True, slots=True)
class Suppression:
    """One suppression; times are ns since the epoch (``expires`` None: never)."""

    id: str
    field: str
    value: str
    reason: str
    actor: str
    created: int
    expires: int | None = None
    rule_id: str | None = None
    hits: int = 0
    last_hit: int | None = None
    removed: int | None = None
    removed_by: str | None = None

    def active(self, now: int) -> bool:
        return self.removed is None and (self.expires is None or self.expires > now)

    def matches(self, detection: Detection) -> bool:
        if self.rule_id is not None and detection.rule_id != self.rule_id:
            return False
        if self.field == "rule.id":
            found: str | None = detection.rule_id
        else:
            found = detection.entities.get(self.field) or detection.group.get(self.field)
        return found is not None and str(found).casefold() == self.value.casefold()

    def to_row(self) -> dict[str, Any]:
        return {
            "suppression.id": self.id,
            "field": self.field,
            "value": self.value,
            "rule.id": self.rule_id,
            "reason": self.reason,
            "actor": self.actor,
            "created": self.created,
            "expires": self.expires,
            "hits": self.hits,
            "last_hit": self.last_hit,
            "removed": self.removed,
            "removed_by": self.removed_by,
        }

    @classmethod
    def from_db(cls, row: Sequence[Any]) -> Suppression:
        def opt(v: Any) -> int | None:
            return None if v is None else int(v)

        return cls(
            id=str(row[0]),
            field=str(row[1]),
            value=str(row[2]),
            rule_id=row[3],
            reason=str(row[4] or ""),
            actor=str(row[5] or ""),
            created=int(row[6]),
            expires=opt(row[7]),
            hits=int(row[8] or 0),
            last_hit=opt(row[9]),
            removed=opt(row[10]),
            removed_by=row[11],
        )


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise SuppressionError(f"a suppression needs {what}")
    if len(text) > limit:
        raise SuppressionError(f"{what} is longer than {limit} characters")
    return text


class Suppressions:
    """The suppressions of one store's database."""

    def __init__(self, store: HasConnection, *, clock: Callable[[], int] = now_ns) -> None:
        self.store = store
        self.clock = clock
        self._lock = store_lock(store)
        self.read_only = bool(getattr(store, "read_only", False))
        if not self.read_only:
            ensure_once(store, "suppressions", ensure_suppression_table)

    def _has(self, cur: duckdb.DuckDBPyConnection, table: str) -> bool:
        # A writable open created the tables; only a read-only one may lack them.
        return not self.read_only or table_exists(cur, table)

    def add(
        self,
        field: str,
        value: str,
        *,
        reason: str,
        actor: str,
        expires_ns: int | None,
        rule_id: str | None = None,
    ) -> Suppression:
        """A new suppression; raises ``SuppressionError`` for a bad field or a past expiry."""
        field = field.strip()
        if not field or len(field) > 128 or not set(field) <= _FIELD_CHARS:
            raise SuppressionError(
                f"not a field name: {field[:64]!r} (letters, digits and _ . @ - only)"
            )
        now = self.clock()
        if expires_ns is not None and expires_ns <= now:
            raise SuppressionError("the expiry is in the past: the suppression would never apply")
        suppression = Suppression(
            id=uuid.uuid4().hex[:16],
            field=field,
            value=_text(value, "a value", 512),
            reason=_text(reason, "a reason", MAX_REASON_CHARS),
            actor=_text(actor, "an actor", 256),
            created=now,
            expires=expires_ns,
            rule_id=(rule_id.strip() or None) if rule_id else None,
        )
        with self._lock:
            self.store.connection().execute(
                "INSERT INTO alert_suppressions VALUES (?, ?, ?, ?, ?, ?, make_timestamp_ns(?), "
                "CASE WHEN ? IS NULL THEN NULL ELSE make_timestamp_ns(?) END, 0, NULL, NULL, NULL)",
                [
                    suppression.id,
                    suppression.field,
                    suppression.value,
                    suppression.rule_id,
                    suppression.reason,
                    suppression.actor,
                    suppression.created,
                    expires_ns,
                    expires_ns,
                ],
            )
        return suppression

    def list(self, include_expired: bool = False) -> builtins.list[Suppression]:
        """Suppressions not removed, newest first; expired ones only if asked."""
        cur = self.store.connection()
        if not self._has(cur, "alert_suppressions"):
            return []
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM alert_suppressions WHERE removed IS NULL "
            "ORDER BY created DESC, id"
        ).fetchall()
        found = [Suppression.from_db(r) for r in rows]
        if include_expired:
            return found
        now = self.clock()
        return [s for s in found if s.active(now)]

    def get(self, suppression_id: str) -> Suppression | None:
        cur = self.store.connection()
        if not self._has(cur, "alert_suppressions"):
            return None
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM alert_suppressions WHERE id = ?", [suppression_id]
        ).fetchone()
        return Suppression.from_db(row) if row else None

    def remove(self, suppression_id: str, actor: str) -> Suppression:
        """Stop a suppression (kept in the table as removed); raises ``SuppressionNotFound``."""
        actor = _text(actor, "an actor", 256)
        with self._lock:
            found = self.get(suppression_id)
            if found is None or found.removed is not None:
                raise SuppressionNotFound(suppression_id)
            now = self.clock()
            self.store.connection().execute(
                "UPDATE alert_suppressions SET removed = make_timestamp_ns(?), removed_by = ? "
                "WHERE id = ?",
                [now, actor, suppression_id],
            )
        return replace(found, removed=now, removed_by=actor)

    # -- used by AlertStore.add, inside its transaction -------------------------------

    def live(self, cur: duckdb.DuckDBPyConnection, now: int) -> builtins.list[Suppression]:
        if not self._has(cur, "alert_suppressions"):
            return []
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM alert_suppressions WHERE removed IS NULL "
            "AND (expires IS NULL OR expires > make_timestamp_ns(?))",
            [now],
        ).fetchall()
        return [Suppression.from_db(r) for r in rows]

    @staticmethod
    def split(
        detections: Sequence[Detection], live: Sequence[Suppression]
    ) -> tuple[builtins.list[Detection], dict[str, int]]:
        """Detections no suppression matches, and hits per suppression id."""
        if not live:
            return list(detections), {}
        kept: builtins.list[Detection] = []
        hits: dict[str, int] = {}
        for detection in detections:
            match = next((s for s in live if s.matches(detection)), None)
            if match is None:
                kept.append(detection)
            else:
                hits[match.id] = hits.get(match.id, 0) + 1
        return kept, hits

    @staticmethod
    def record_hits(cur: duckdb.DuckDBPyConnection, hits: Mapping[str, int], now: int) -> None:
        if hits:
            cur.executemany(
                "UPDATE alert_suppressions SET hits = hits + ?, last_hit = make_timestamp_ns(?) "
                "WHERE id = ?",
                [[n, now, sid] for sid, n in hits.items()],
            )
