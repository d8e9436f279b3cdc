"""The SQL behind the overview and the dossiers: aggregated in DuckDB, bounded in rows.

Event queries always carry the displayed time range on ``@timestamp`` (so DuckDB skips
row groups and Parquet days outside it) and group into integer bucket numbers, which is
cheaper than formatting timestamps per row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from heron.model.event import Event, arrow_to_events
from heron.store.base import field_sql, quote_ident
from heron.web.timerange import TimeRange

__all__ = [
    "ATTACK_TACTICS",
    "EntityActivity",
    "TTLCache",
    "alert_counts",
    "alerts_by_level",
    "bucket_starts",
    "entity_activity",
    "entity_events",
    "events_by_source",
    "related_entities",
    "store_bounds",
    "tactic_cells",
]

_TS = quote_ident("@timestamp")
_IN_RANGE = f"{_TS} >= make_timestamp_ns(?) AND {_TS} < make_timestamp_ns(?)"
#: What "source" means on the overview: the module, else dataset, else product.
SOURCE_SQL = 'coalesce("event.module", "event.dataset", "observer.product", \'other\')'
#: MITRE ATT&CK enterprise tactics in kill-chain order, as Sigma tags spell them.
ATTACK_TACTICS = (
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
)
T = TypeVar("T")


@dataclass
class TTLCache:
    """Results kept for ``ttl`` seconds (the overview is read far more than it changes)."""

    ttl: float = 10.0
    _items: dict[Any, tuple[float, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if len(self._items) > 256:
                self._items.clear()
            self._items[key] = (now, value)
        return value


def _rows(store: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return list(store.connection().execute(sql, list(params)).fetchall())


def _has_alerts(store: Any) -> bool:
    found = _rows(store, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'", [])
    return bool(found and found[0][0])


def store_bounds(store: Any) -> tuple[int | None, int | None]:
    """Oldest and newest event time, or (None, None) for an empty store."""
    row = _rows(store, f"SELECT epoch_ns(min({_TS})), epoch_ns(max({_TS})) FROM events", [])
    if not row or row[0][0] is None:
        return None, None
    return int(row[0][0]), int(row[0][1])


def bucket_starts(tr: TimeRange) -> list[int]:
    return list(range(tr.start, tr.end, tr.step))


def _series(tr: TimeRange, rows: Sequence[tuple[Any, ...]], keep: int) -> dict[str, list[float]]:
    """Bucket rows ``(bucket, name, n)`` as one list per name, the ``keep`` largest named."""
    n = len(bucket_starts(tr))
    totals: dict[str, int] = {}
    for _b, name, count in rows:
        totals[str(name)] = totals.get(str(name), 0) + int(count)
    named = sorted(totals, key=lambda k: -totals[k])[:keep]
    out: dict[str, list[float]] = {name: [0.0] * n for name in named}
    for bucket, name, count in rows:
        key = str(name) if str(name) in out else "other"
        if 0 <= int(bucket) < n:
            out.setdefault(key, [0.0] * n)[int(bucket)] += float(count)
    return out


def events_by_source(
    rows: Sequence[tuple[Any, ...]], tr: TimeRange, keep: int = 6
) -> dict[str, list[float]]:
    """Events per second in each bucket, per source (the ``keep`` busiest, then "other"),
    from ``(bucket, source, count)`` rows (``SourceRollup.counts``)."""
    per_s = tr.step / 1e9
    return {k: [v / per_s for v in vs] for k, vs in _series(tr, rows, keep).items()}


def _alert_overlap() -> str:
    return "last_seen >= make_timestamp_ns(?) AND first_seen < make_timestamp_ns(?)"


def alerts_by_level(store: Any, tr: TimeRange) -> dict[str, list[float]]:
    """Alerts first seen in each bucket, per level."""
    if not _has_alerts(store):
        return {}
    rows = _rows(
        store,
        'SELECT (epoch_ns(first_seen) - ?) // ? AS b, "rule.level", count(*) FROM alerts '
        "WHERE first_seen >= make_timestamp_ns(?) AND first_seen < make_timestamp_ns(?) "
        "GROUP BY ALL",
        [tr.start, tr.step, tr.start, tr.end],
    )
    return _series(tr, rows, keep=10)


def alert_counts(store: Any, tr: TimeRange) -> dict[str, int]:
    """Alerts seen in the range per status, and open alerts of any time."""
    if not _has_alerts(store):
        return {"new": 0, "acknowledged": 0, "closed": 0, "open_total": 0, "open_high": 0}
    out = {"new": 0, "acknowledged": 0, "closed": 0}
    for status, n in _rows(
        store,
        f"SELECT status, count(*) FROM alerts WHERE {_alert_overlap()} GROUP BY ALL",
        [tr.start, tr.end],
    ):
        out[str(status)] = int(n)
    row = _rows(
        store,
        "SELECT count(*), count(*) FILTER (WHERE \"rule.level\" IN ('high', 'critical')) "
        "FROM alerts WHERE status <> 'closed'",
        [],
    )
    out["open_total"], out["open_high"] = int(row[0][0]), int(row[0][1] or 0)
    return out


def tactic_cells(store: Any, tr: TimeRange) -> dict[tuple[str, str], float]:
    """Alerts seen in the range per (level, ATT&CK tactic) from their ``attack.*`` tags."""
    if not _has_alerts(store):
        return {}
    rows = _rows(
        store,
        "SELECT \"rule.level\", replace(lower(t.tag), '_', '-') AS tactic, count(*) "
        'FROM (SELECT "rule.level", unnest("rule.tags") AS tag FROM alerts '
        f"WHERE {_alert_overlap()}) t "
        "WHERE lower(t.tag) LIKE 'attack.%' GROUP BY ALL",
        [tr.start, tr.end],
    )
    cells: dict[tuple[str, str], float] = {}
    for level, tag, n in rows:
        tactic = str(tag).removeprefix("attack.")
        if tactic in ATTACK_TACTICS:
            cells[(str(level), tactic)] = cells.get((str(level), tactic), 0.0) + float(n)
    return cells


# -- entities ---------------------------------------------------------------------------


def _entity_where(fields: Sequence[str], value: str) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for name in fields:
        column, column_params = field_sql(name)
        parts.append(f"{column} = ?")
        params.extend([*column_params, value])
    return "(" + " OR ".join(parts) + ")", params


@dataclass(frozen=True, slots=True)
class EntityActivity:
    """What one scan of an entity's events gives: all-time span and count, and per-bucket
    counts by source inside the displayed range."""

    first: int | None
    last: int | None
    total: int
    series: dict[str, list[float]]


def entity_activity(store: Any, fields: Sequence[str], value: str, tr: TimeRange) -> EntityActivity:
    """First/last seen, event count and activity per bucket, in one scan of the events."""
    where, params = _entity_where(fields, value)
    # Rows outside the range fall into bucket -1, so the groups stay as few as the bars.
    rows = _rows(
        store,
        f"SELECT CASE WHEN {_IN_RANGE} THEN (epoch_ns({_TS}) - ?) // ? ELSE -1 END AS b, "
        f"{SOURCE_SQL} AS src, count(*), epoch_ns(min({_TS})), epoch_ns(max({_TS})) "
        f"FROM events WHERE {where} GROUP BY ALL",
        [tr.start, tr.end, tr.start, tr.step, *params],
    )
    firsts = [int(r[3]) for r in rows if r[3] is not None]
    lasts = [int(r[4]) for r in rows if r[4] is not None]
    in_range = [(b, src, n) for b, src, n, _f, _l in rows if b >= 0]
    return EntityActivity(
        min(firsts, default=None),
        max(lasts, default=None),
        sum(int(r[2]) for r in rows),
        _series(tr, in_range, keep=5),
    )


#: Entity kind → the fields whose values are that kind (typed columns only: fast to group).
RELATED_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("user.name",),
    "host": ("host.name",),
    "ip": ("source.ip", "destination.ip"),
}


#: Events of an entity that related entities are counted over: the scan stops there, which
#: bounds the work for entities with millions of events.
RELATED_SAMPLE = 20_000


def related_entities(
    store: Any, fields: Sequence[str], value: str, tr: TimeRange, limit: int = 8
) -> dict[str, list[tuple[str, int]]]:
    """Other users, hosts and IPs in the entity's events of the range, most frequent first
    (one pass, over at most ``RELATED_SAMPLE`` of those events)."""
    where, params = _entity_where(fields, value)
    others = [
        (kind, name)
        for kind, names in RELATED_FIELDS.items()
        for name in names
        if name not in fields
    ]
    if not others:
        return {}
    sets = ", ".join(f"({quote_ident(name)})" for _kind, name in others)
    selects = ", ".join(quote_ident(name) for _kind, name in others)
    rows = _rows(
        store,
        f"SELECT {selects}, count(*) AS n FROM (SELECT {selects} FROM events "
        f"WHERE {_IN_RANGE} AND {where} LIMIT ?) "
        f"GROUP BY GROUPING SETS ({sets})",
        [tr.start, tr.end, *params, RELATED_SAMPLE],
    )
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        for i, (kind, _name) in enumerate(others):
            if row[i] is not None:
                bucket = found.setdefault(kind, {})
                bucket[str(row[i])] = bucket.get(str(row[i]), 0) + int(row[-1])
    return {
        kind: sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        for kind, values in found.items()
    }


def entity_events(store: Any, fields: Sequence[str], value: str, limit: int = 25) -> list[Event]:
    """The newest events involving the entity."""
    where, params = _entity_where(fields, value)
    table = (
        store.connection()
        .sql(
            f"SELECT * FROM events WHERE {where} ORDER BY {_TS} DESC LIMIT ?",
            params=[*params, limit],
        )
        .to_arrow_table()
    )
    return list(arrow_to_events(table))
