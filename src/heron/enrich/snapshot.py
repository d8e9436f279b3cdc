"""Context tables (indicators, assets, identities) as Arrow files beside the database.

The database is the source of truth, but only one process may open it: ingest worker
processes and a running server build their enrichers from these files instead. A file
is written after every committed change, under a temporary name and renamed into place,
and carries the generation number the change committed, so a reader can tell whether
it is current and a crash between commit and write is repaired at the next open.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

__all__ = [
    "SNAPSHOT_DIR",
    "Following",
    "SnapshotFollower",
    "apply_newest",
    "bump_generation",
    "current_generation",
    "ensure_generation_table",
    "read_snapshot",
    "snapshot_generation",
    "snapshot_path",
    "write_snapshot",
]

SNAPSHOT_DIR = "context"
_GENERATION_KEY = b"heron.generation"


def snapshot_path(data_dir: str | Path, name: str) -> Path:
    return Path(data_dir) / SNAPSHOT_DIR / f"{name}.arrow"


def ensure_generation_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS context_generations "
        "(name VARCHAR PRIMARY KEY, generation BIGINT)"
    )


def bump_generation(cur: duckdb.DuckDBPyConnection, name: str) -> int:
    """The next generation of ``name``; call inside the transaction that changes it."""
    rows = cur.execute(
        "SELECT generation FROM context_generations WHERE name = ?", [name]
    ).fetchall()
    row = rows[0] if rows else None
    generation = (int(row[0]) if row else 0) + 1
    if row:
        cur.execute(
            "UPDATE context_generations SET generation = ? WHERE name = ?", [generation, name]
        )
    else:
        cur.execute("INSERT INTO context_generations VALUES (?, ?)", [name, generation])
    return generation


def current_generation(cur: duckdb.DuckDBPyConnection, name: str) -> int:
    rows = cur.execute(
        "SELECT generation FROM context_generations WHERE name = ?", [name]
    ).fetchall()
    row = rows[0] if rows else None
    return int(row[0]) if row else 0


def write_snapshot(data_dir: str | Path, name: str, table: pa.Table, generation: int) -> Path:
    """Write ``table`` atomically as the snapshot of ``name`` at ``generation``."""
    path = snapshot_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[Any, Any] = dict(table.schema.metadata or {})
    meta[_GENERATION_KEY] = str(generation).encode()
    table = table.replace_schema_metadata(meta)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=256 * 1024)
    os.replace(tmp, path)
    return path


def snapshot_generation(data_dir: str | Path, name: str) -> int | None:
    """The generation of the snapshot file, or ``None`` if there is none (or it is unreadable)."""
    path = snapshot_path(data_dir, name)
    try:
        with pa.memory_map(str(path)) as source:
            meta = ipc.open_file(source).schema.metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    raw = meta.get(_GENERATION_KEY)
    return int(raw) if raw else None


def read_snapshot(data_dir: str | Path, name: str) -> tuple[pa.Table, int] | None:
    """The snapshot table and its generation; ``None`` when absent or unreadable."""
    path = snapshot_path(data_dir, name)
    try:
        source = pa.memory_map(str(path))
        table = ipc.open_file(source).read_all()
    except (OSError, pa.ArrowInvalid):
        return None
    raw = (table.schema.metadata or {}).get(_GENERATION_KEY)
    return table, int(raw) if raw else 0


class SnapshotFollower:
    """Tells an enricher when its snapshot has a newer generation, checked at most so often.

    ``generation`` is the one the enricher applied; it sets it after applying a table,
    so a failed rebuild is tried again at the next check.
    """

    def __init__(self, data_dir: Path | None, name: str, refresh_seconds: float) -> None:
        self.data_dir = data_dir
        self.name = name
        self.refresh_seconds = refresh_seconds
        self.generation: int | None = None
        self._checked = time.monotonic()

    def due(self) -> bool:
        """Whether ``refresh_seconds`` have passed since the last check."""
        return (
            self.data_dir is not None and time.monotonic() - self._checked >= self.refresh_seconds
        )

    def newer(self, *, force: bool = False) -> tuple[pa.Table, int] | None:
        """The snapshot and its generation if it changed (or ``force``), else None."""
        self._checked = time.monotonic()
        if self.data_dir is None:
            return None
        if not force and snapshot_generation(self.data_dir, self.name) == self.generation:
            return None
        return read_snapshot(self.data_dir, self.name)


@runtime_checkable
class Following(Protocol):
    """An enricher built from a snapshot file, which it rebuilds from when that changes."""

    def refresh(self, *, force: bool = False) -> bool: ...


def apply_newest(enrichers: Iterable[object]) -> None:
    """Have every enricher that follows a snapshot apply the newest one now.

    Enrichers look for a newer snapshot on their own only every ``refresh_seconds``; a
    node that has just written one calls this (through its worker processes too) so that
    nothing it transforms from then on is enriched from the old one.
    """
    for enricher in enrichers:
        if isinstance(enricher, Following):
            enricher.refresh()
