"""Retro-matching: newly loaded indicators against the events of the last N days.

Matching semantics must be the live ones (domain suffixes, IDN, URL canonical forms,
networks), and those are awkward in SQL. So the SQL side only gathers each field's
*distinct* values in the window, once per field; the same matcher the enricher uses
checks them in Python (one dict lookup or bisection each); the values that hit are
registered as an Arrow table and joined back to the events. The cost follows the
number of distinct values and hits, not the number of indicators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson
import pyarrow as pa

from heron.detect.base import Detection
from heron.enrich.intel import ENRICHMENTS_FIELD, FieldPlan, match_event, plan_for
from heron.intel.detect import IntelDetector, detection_for
from heron.intel.indicator import Indicator
from heron.intel.matcher import IntelMatcher
from heron.intel.store import stored_form
from heron.model.event import arrow_to_events
from heron.model.schema import EXTRA_COLUMN
from heron.model.timeutil import NS_PER_S, now_ns
from heron.store.base import field_sql, quote_ident

__all__ = ["DEFAULT_RETRO_DAYS", "retro_match"]

DEFAULT_RETRO_DAYS = 30
_TS = quote_ident("@timestamp")
_HASHES_ONLY = FieldPlan([("Hashes", "hashes")])


class _Queryable(Protocol):
    def connection(self) -> Any: ...


def _as_table(indicators: pa.Table | Sequence[Indicator]) -> pa.Table:
    if isinstance(indicators, pa.Table):
        return indicators
    return stored_form(indicators)


def _distinct_values(cur: Any, name: str, cutoff: int) -> list[str]:
    column, params = field_sql(name)
    select_params = list(params)
    where = f"{_TS} >= make_timestamp_ns(?) AND {column} IS NOT NULL"
    where_params: list[Any] = [cutoff, *params]
    if params:  # a field in the JSON column: skip rows that cannot hold it, cheaply
        where = f"{EXTRA_COLUMN} LIKE ? AND {where}"
        where_params = ["%" + orjson.dumps(name).decode() + "%", *where_params]
    rows = cur.execute(
        f"SELECT DISTINCT {column} FROM events WHERE {where}", [*select_params, *where_params]
    ).fetchall()
    return [str(r[0]) for r in rows]


def _hits(matcher: IntelMatcher, kind: str, raw: str) -> bool:
    values: list[Any] = [raw]
    if raw.startswith("["):  # a list-valued field kept as JSON text
        try:
            values = orjson.loads(raw)
        except orjson.JSONDecodeError:
            values = [raw]
    for value in values:
        if not isinstance(value, str):
            continue
        if kind == "hashes":
            probe = {"Hashes": value}
            if match_event(matcher, probe, _HASHES_ONLY, 0):
                return True
        elif matcher.lookup(kind, value):
            return True
    return False


def _entries(event: dict[str, Any]) -> list[dict[str, Any]]:
    entries = event.get(ENRICHMENTS_FIELD)
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _match_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    """An indicator match: which indicator, on which field of the event."""
    return (
        entry.get("indicator.type"),
        entry.get("heron.indicator.value"),
        entry.get("matched.field"),
    )


def retro_match(
    store: _Queryable,
    indicators: pa.Table | Sequence[Indicator],
    days: int = DEFAULT_RETRO_DAYS,
    *,
    now: int | None = None,
    detector: IntelDetector | None = None,
) -> list[Detection]:
    """Detections for stored events of the last ``days`` days that match ``indicators``.

    ``indicators`` is a table of ``INDICATOR_SCHEMA`` (``LoadSummary.new``) or a list.
    Indicators that do not ask for alerts (or fall under the detector's confidence
    floor) match silently, as they do at ingest.
    """
    table = _as_table(indicators)
    if days <= 0 or table.num_rows == 0:
        return []
    matcher = IntelMatcher(table)
    when = now_ns() if now is None else now
    cutoff = when - days * 86400 * NS_PER_S
    judge = detector or IntelDetector()
    cur = store.connection()
    plan = plan_for(matcher)
    fields = plan.fields
    hit_names: list[str] = []
    hit_values: list[str] = []
    for name, kind in fields:
        for raw in _distinct_values(cur, name, cutoff):
            if _hits(matcher, kind, raw):
                hit_names.append(name)
                hit_values.append(raw)
    if not hit_values:
        return []
    hits = pa.table(
        {"field": pa.array(hit_names, pa.string()), "value": pa.array(hit_values, pa.string())}
    )
    cur.register("_retro_hits", hits)
    found: dict[str, Any] = {}
    try:
        for name in dict.fromkeys(hit_names):
            column, params = field_sql(name)
            result = cur.sql(
                f"SELECT * FROM events WHERE {_TS} >= make_timestamp_ns(?) AND {column} IN "
                "(SELECT value FROM _retro_hits WHERE field = ?)",
                params=[cutoff, *params, name],
            ).to_arrow_table()
            for event in arrow_to_events(result):
                found.setdefault(str(event.get("event.id")), event)
    finally:
        cur.unregister("_retro_hits")
    detections: list[Detection] = []
    for event in found.values():
        # An event enriched with the indicator when it came in was judged then: a node
        # applies a new snapshot while it runs, so the store can hold such events already.
        judged = {_match_key(e) for e in _entries(event)}
        for entry in match_event(matcher, event, plan, when):
            if _match_key(entry) not in judged and judge.wants(entry):
                detections.append(detection_for(event, entry))
    detections.sort(key=lambda d: d.timestamp)
    return detections
