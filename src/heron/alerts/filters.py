"""Filters of the alert queue, compiled to one parameterized SQL statement.

Values always travel as parameters; field names in ``entity`` are checked against a
strict character set before they become part of a JSON path parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from heron.alerts.errors import AlertFilterError
from heron.model.alert import (
    ALERT_ENTITY_FIELDS,
    ALERT_STATUSES,
    ENTITY_KINDS,
    LEVELS,
    entity_fields,
    level_rank,
)
from heron.store.base import quote_ident

__all__ = ["MAX_TEXT_CHARS", "ORDERS", "AlertFilter", "AlertFilterArgs", "list_statement"]

#: Sort orders of the queue, newest / riskiest first; the id breaks ties so pages are stable.
ORDERS: dict[str, str] = {
    "last_seen": 'last_seen DESC, "alert.id"',
    "first_seen": 'first_seen DESC, "alert.id"',
    "risk_score": 'risk_score DESC, last_seen DESC, "alert.id"',
}
#: Longest free-text or entity value a filter takes (oversized filters are refused).
MAX_TEXT_CHARS = 512
_FIELD_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")
_KINDS = frozenset(ENTITY_KINDS.values())


def _bounded(text: str, what: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise AlertFilterError(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return text


class AlertFilterArgs(TypedDict, total=False):
    """``AlertFilter``'s fields as keyword arguments (``AlertStore.list`` and friends)."""

    rule_id: str | None
    min_level: str | None
    levels: Sequence[str] | None
    since: int | None
    until: int | None
    status: str | Sequence[str] | None
    assignee: str | None
    unassigned: bool
    entity: tuple[str, str] | None
    text: str | None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to show; every condition given must hold.

    ``since``/``until`` keep alerts whose ``[first_seen, last_seen]`` overlaps them.
    ``entity`` is ``(field, value)``: a field (``user.name``, ``TargetUserName``) or an
    entity kind (``user``, ``host``, ``ip``, ``agent``), matched case-insensitively
    against the entity columns, ``entities`` and ``group``.
    """

    rule_id: str | None = None
    min_level: str | None = None
    levels: Sequence[str] | None = None
    since: int | None = None
    until: int | None = None
    status: str | Sequence[str] | None = None
    assignee: str | None = None
    unassigned: bool = False
    entity: tuple[str, str] | None = None
    text: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """``" WHERE …"`` (or ``""``) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.rule_id is not None:
            clauses.append('"rule.id" = ?')
            params.append(self.rule_id)
        if self.min_level is not None:
            if self.min_level.lower() not in LEVELS:
                raise AlertFilterError(
                    f"unknown level {self.min_level!r} (use one of: {', '.join(LEVELS)})"
                )
            clauses.append(_in('"rule.level"', list(LEVELS[level_rank(self.min_level) :]), params))
        if self.levels is not None:
            levels = [lv.lower() for lv in self.levels]
            unknown = [lv for lv in levels if lv not in LEVELS]
            if unknown:
                raise AlertFilterError(
                    f"unknown level {unknown[0]!r} (use any of: {', '.join(LEVELS)})"
                )
            clauses.append(_in('"rule.level"', levels, params))
        if self.since is not None:
            clauses.append("last_seen >= make_timestamp_ns(?)")
            params.append(int(self.since))
        if self.until is not None:
            clauses.append("first_seen <= make_timestamp_ns(?)")
            params.append(int(self.until))
        if self.status is not None:
            statuses = [self.status] if isinstance(self.status, str) else list(self.status)
            unknown = [s for s in statuses if s not in ALERT_STATUSES]
            if unknown:
                raise AlertFilterError(
                    f"unknown status {unknown[0]!r} (use any of: {', '.join(ALERT_STATUSES)})"
                )
            clauses.append(_in("status", statuses, params))
        if self.unassigned:
            clauses.append("assignee IS NULL")
        elif self.assignee is not None:
            clauses.append("assignee = ?")
            params.append(_bounded(self.assignee, "the assignee"))
        if self.entity is not None:
            clause, values = _entity_clause(*self.entity)
            clauses.append(clause)
            params.extend(values)
        if self.text:
            # Values only (not the JSON keys): "user" should not match every user entity.
            clauses.append(
                'contains(lower(concat_ws(\' \', "rule.name", "rule.id", '
                "array_to_string(json_extract_string(entities, '$.*'), ' '), "
                "array_to_string(json_extract_string(\"group\", '$.*'), ' '))), lower(?))"
            )
            params.append(_bounded(self.text, "the search text"))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _in(column: str, values: Sequence[str], params: list[Any]) -> str:
    # One placeholder per value (few: levels, statuses) so DuckDB pushes the filter into
    # the scan; an empty list matches nothing.
    if not values:
        return "false"
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def _entity_clause(field: str, value: str) -> tuple[str, list[Any]]:
    if not field or len(field) > 128 or not set(field) <= _FIELD_CHARS:
        raise AlertFilterError(
            f"not an entity field: {field[:64]!r} (letters, digits and _ . @ - only)"
        )
    _bounded(value, "the entity value")
    fields = entity_fields(field) if field in _KINDS else (field,)
    parts: list[str] = []
    params: list[Any] = []
    for name in fields:
        if name in ALERT_ENTITY_FIELDS:
            parts.append(f"lower({quote_ident(name)}) = lower(?)")
            params.append(value)
        path = '$."' + name + '"'
        parts.append("lower(json_extract_string(entities, ?)) = lower(?)")
        parts.append('lower(json_extract_string("group", ?)) = lower(?)')
        params.extend([path, value, path, value])
    return "(" + " OR ".join(parts) + ")", params


def list_statement(
    select: str, where: str, *, order: str, limit: int, offset: int
) -> tuple[str, list[Any]]:
    """The page query: ``ORDER BY … LIMIT … OFFSET`` (a top-N, not a full sort)."""
    if order not in ORDERS:
        raise AlertFilterError(f"unknown order {order!r} (use one of: {', '.join(ORDERS)})")
    sql = f"SELECT {select} FROM alerts{where} ORDER BY {ORDERS[order]} LIMIT ? OFFSET ?"
    return sql, [max(0, int(limit)), max(0, int(offset))]
