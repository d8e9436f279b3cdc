"""Alerts: what a detection becomes once stored, grouped and open for triage."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "ALERT_ENTITY_FIELDS",
    "ALERT_STATUSES",
    "DISPOSITIONS",
    "ENTITY_KINDS",
    "LEVELS",
    "RISK_SCORES",
    "Alert",
    "AlertChange",
    "dedup_key",
    "entity_fields",
    "level_rank",
    "risk_score",
]

#: Sigma levels, lowest first.
LEVELS = ("informational", "low", "medium", "high", "critical")
#: Risk 0..100 per level, spaced as common SIEM practice spaces them (Elastic's defaults).
RISK_SCORES: dict[str, int] = {
    "informational": 10,
    "low": 21,
    "medium": 47,
    "high": 73,
    "critical": 99,
}
ALERT_STATUSES = ("new", "acknowledged", "closed")
#: How a closed alert was judged.
DISPOSITIONS = ("true_positive", "benign", "false_positive")
#: Entities that get a column of their own (the rest stay in ``entities``).
ALERT_ENTITY_FIELDS = (
    "user.name",
    "host.name",
    "source.ip",
    "destination.ip",
    "gen_ai.agent.name",
)
#: Entity field → entity kind, for entity risk and entity pages.
ENTITY_KINDS: dict[str, str] = {
    "user.name": "user",
    "host.name": "host",
    "source.ip": "ip",
    "destination.ip": "ip",
    "gen_ai.agent.name": "agent",
}


def entity_fields(kind: str) -> tuple[str, ...]:
    """The entity fields of one kind (``ip`` → source.ip, destination.ip); () if unknown."""
    return tuple(f for f, k in ENTITY_KINDS.items() if k == kind)


def level_rank(level: str) -> int:
    """Position of a level in ``LEVELS``; unknown levels rank as medium."""
    try:
        return LEVELS.index(level.lower())
    except ValueError:
        return LEVELS.index("medium")


def risk_score(level: str) -> int:
    return RISK_SCORES.get(level.lower(), RISK_SCORES["medium"])


def dedup_key(rule_id: str, entities: Mapping[str, str], group: Mapping[str, str]) -> str:
    """Identity of "the same alert again": same rule and same group (a correlation's
    group-by values), or same entities for a rule without a group.

    A correlation's entities are only those its contributing events happen to agree on
    (a scanner guessing one user name six times, then another): they would split one
    ongoing attack from one source into many alerts.
    """
    identity = sorted(group.items()) if group else sorted(entities.items())
    body = orjson.dumps([rule_id, identity, bool(group)], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


@dataclass(slots=True)
class Alert:
    """One alert: a rule's detections for the same entities, grouped over a dedup window.

    ``timestamp`` (``@timestamp``), ``first_seen`` and ``last_seen`` are event time in
    ns (the detections' times); ``created`` and ``updated`` are when Heron stored it.
    """

    id: str
    rule_id: str
    rule_name: str
    rule_level: str
    timestamp: int
    event_ids: list[str]
    rule_tags: list[str] = field(default_factory=list)
    entities: dict[str, str] = field(default_factory=dict)
    group: dict[str, str] = field(default_factory=dict)
    status: str = "new"
    disposition: str | None = None
    assignee: str | None = None
    risk_score: int = RISK_SCORES["medium"]
    count: int = 1
    first_seen: int = 0
    last_seen: int = 0
    dedup_key: str = ""
    created: int = 0
    updated: int = 0
    acknowledged_at: int | None = None
    closed_at: int | None = None

    def to_row(self) -> dict[str, Any]:
        """Flat dotted fields, as stored and as ``heron alerts --format json`` prints them."""
        row: dict[str, Any] = {
            "alert.id": self.id,
            "@timestamp": self.timestamp,
            "rule.id": self.rule_id,
            "rule.name": self.rule_name,
            "rule.level": self.rule_level,
            "rule.tags": list(self.rule_tags),
            "event.ids": list(self.event_ids),
        }
        for name in ALERT_ENTITY_FIELDS:
            row[name] = self.entities.get(name)
        row.update(
            {
                "entities": dict(self.entities),
                "group": dict(self.group),
                "status": self.status,
                "disposition": self.disposition,
                "assignee": self.assignee,
                "risk_score": self.risk_score,
                "count": self.count,
                "first_seen": self.first_seen,
                "last_seen": self.last_seen,
                "dedup_key": self.dedup_key,
                "created": self.created,
                "updated": self.updated,
                "acknowledged_at": self.acknowledged_at,
                "closed_at": self.closed_at,
            }
        )
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Alert:
        def mapping(value: Any) -> dict[str, str]:
            if isinstance(value, str):
                value = orjson.loads(value) if value else {}
            return {str(k): str(v) for k, v in (value or {}).items()}

        return cls(
            id=str(row["alert.id"]),
            rule_id=str(row["rule.id"]),
            rule_name=str(row.get("rule.name") or ""),
            rule_level=str(row.get("rule.level") or "medium"),
            timestamp=int(row["@timestamp"]),
            event_ids=list(row.get("event.ids") or []),
            rule_tags=list(row.get("rule.tags") or []),
            entities=mapping(row.get("entities")),
            group=mapping(row.get("group")),
            status=str(row.get("status") or "new"),
            disposition=row.get("disposition"),
            assignee=row.get("assignee"),
            risk_score=int(row.get("risk_score") or 0),
            count=int(row.get("count") or 1),
            first_seen=int(row.get("first_seen") or row["@timestamp"]),
            last_seen=int(row.get("last_seen") or row["@timestamp"]),
            dedup_key=str(row.get("dedup_key") or ""),
            created=int(row.get("created") or 0),
            updated=int(row.get("updated") or 0),
            acknowledged_at=_optional_int(row.get("acknowledged_at")),
            closed_at=_optional_int(row.get("closed_at")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One entry of an alert's history: who changed what, when, and why.

    ``changes`` maps a field (``status``, ``disposition``, ``assignee``) to its
    ``(before, after)`` values; a comment alone is a change with no fields.
    """

    alert_id: str
    time: int
    actor: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    comment: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Flat fields for JSON output: ``changes`` as ``{field: {"from": .., "to": ..}}``."""
        return {
            "alert.id": self.alert_id,
            "time": self.time,
            "actor": self.actor,
            "changes": {k: {"from": a, "to": b} for k, (a, b) in self.changes.items()},
            "comment": self.comment,
        }
