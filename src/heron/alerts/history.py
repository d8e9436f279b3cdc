"""The ``alert_history`` table: one row per change an analyst made to an alert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from heron.alerts.schema import registered
from heron.model.alert import AlertChange

_TYPES: dict[str, pa.DataType] = {
    "alert.id": pa.string(),
    "time": pa.timestamp("ns"),
    "actor": pa.string(),
    "changes": pa.string(),
    "comment": pa.string(),
}

__all__ = ["read_history", "write_history"]


def write_history(cur: duckdb.DuckDBPyConnection, changes: Sequence[AlertChange]) -> None:
    """Append changes (inside the caller's transaction)."""
    if not changes:
        return
    columns: dict[str, list[Any]] = {
        "alert.id": [c.alert_id for c in changes],
        "time": [c.time for c in changes],
        "actor": [c.actor for c in changes],
        "changes": [
            orjson.dumps({k: list(v) for k, v in c.changes.items()}).decode() for c in changes
        ],
        "comment": [c.comment for c in changes],
    }
    with registered(cur, "_heron_history", columns, _TYPES):
        cur.execute(
            'INSERT INTO alert_history ("alert.id", time, actor, changes, comment) '
            'SELECT "alert.id", time, actor, changes, comment FROM _heron_history'
        )


def read_history(cur: duckdb.DuckDBPyConnection, alert_id: str) -> list[AlertChange]:
    """An alert's changes, oldest first."""
    rows = cur.execute(
        "SELECT epoch_ns(time), actor, changes, comment FROM alert_history "
        'WHERE "alert.id" = ? ORDER BY time, seq',
        [alert_id],
    ).fetchall()
    out = []
    for time, actor, changes, comment in rows:
        parsed = orjson.loads(changes) if changes else {}
        out.append(
            AlertChange(
                alert_id=alert_id,
                time=int(time),
                actor=str(actor),
                changes={str(k): (v[0], v[1]) for k, v in parsed.items()},
                comment=comment,
            )
        )
    return out
