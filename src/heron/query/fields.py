"""The field names a store's events have: core columns, and the keys seen in extra JSON."""

from __future__ import annotations

from dataclasses import dataclass

from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN
from heron.query.run import SupportsConnection
from heron.query.schema import EVENTS

__all__ = ["FieldInfo", "list_fields"]

#: Events sampled to find the extra fields (a uniform sample of the whole store).
DEFAULT_SAMPLE = 100_000


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: str  # the hunt type of a core column, or "dynamic" for an extra field
    where: str  # "core" (a typed column) or "extra" (the JSON of other fields)
    seen: int  # events of the sample that have it


def list_fields(store: SupportsConnection, *, sample: int = DEFAULT_SAMPLE) -> list[FieldInfo]:
    """Every core field, then the extra fields seen in a sample of events, most common first."""
    rows = int(sample)  # an int, so it can stand in the SQL (DuckDB takes no parameter here)
    if rows <= 0:
        raise ValueError("the sample must hold at least one event")
    cur = store.connection()
    try:
        core_counts = ", ".join(
            f'count("{name}")' for name in CORE_FIELDS
        )  # core names are the schema's own, not user input
        counted = cur.execute(
            f"SELECT {core_counts} FROM (SELECT * FROM events USING SAMPLE reservoir({rows} ROWS) "
            "REPEATABLE (7))"
        ).fetchone()
        keys = cur.execute(
            "SELECT key, count(*) AS n FROM (SELECT unnest(json_keys("
            f"{EXTRA_COLUMN})) AS key FROM (SELECT {EXTRA_COLUMN} FROM events "
            f"USING SAMPLE reservoir({rows} ROWS) REPEATABLE (7)) "
            f"WHERE {EXTRA_COLUMN} IS NOT NULL) "
            "GROUP BY key ORDER BY n DESC, key"
        ).fetchall()
    finally:
        cur.close()
    columns = EVENTS.columns or {}
    out = [
        FieldInfo(name, columns[name].value, "core", int(counted[i]) if counted else 0)
        for i, name in enumerate(CORE_FIELDS)
    ]
    out.extend(FieldInfo(str(key), "dynamic", "extra", int(n)) for key, n in keys)
    return out
