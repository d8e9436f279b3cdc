"""The ``Store`` protocol every event store implements, and the shapes it speaks in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from heron.model.deadletter import DeadLetter
from heron.model.event import Event, EventBatch
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN

__all__ = ["Partition", "SearchQuery", "Store", "StoreStats", "field_sql", "quote_ident"]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A simple search: time range, exact field filters, free text, a row limit.

    ``start`` is inclusive and ``end`` exclusive, both ns since the epoch. A filter value
    containing ``*`` is a wildcard pattern. Free text matches every word, case-insensitive,
    anywhere in ``event.original`` or ``message``.
    """

    start: int | None = None
    end: int | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Partition:
    """One day of events and where it lives."""

    day: str  # YYYY-MM-DD, UTC
    rows: int
    location: str  # "hot" (in the database) or "parquet"
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds."""

    events: int
    first: int | None
    last: int | None
    partitions: list[Partition]
    dead_letters: int

    def to_dict(self) -> dict[str, Any]:
        """As JSON: times in ns since the epoch, partitions as objects."""
        return {
            "events": self.events,
            "first": self.first,
            "last": self.last,
            "dead_letters": self.dead_letters,
            "partitions": [
                {"day": p.day, "rows": p.rows, "location": p.location, "bytes": p.bytes}
                for p in self.partitions
            ],
        }


@runtime_checkable
class Store(Protocol):
    """An event store. Every implementation passes ``tests/conformance``."""

    def append(self, batch: EventBatch | pa.Table, *, receipt: int | None = None) -> int:
        """Store a batch durably; return the number of events stored. ``receipt`` (the
        receive log's highest record in the batch) is stored in the same transaction."""
        ...

    def receipt(self) -> int:
        """The receive log's highest record stored (``heron.receivelog``); 0 before any."""
        ...

    def search(self, query: SearchQuery) -> list[Event]:
        """Events matching ``query``, newest first."""
        ...

    def aggregate(
        self,
        group_by: Sequence[str],
        query: SearchQuery | None = None,
        *,
        interval: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Counts per group (and per time bin of ``interval`` ns), largest first."""
        ...

    def get(self, event_id: str) -> Event | None:
        """The event with this ``event.id``."""
        ...

    def get_many(self, event_ids: Sequence[str]) -> list[Event]:
        """The events with these ids, in any order."""
        ...

    def drop_before(self, cutoff: int) -> int:
        """Delete whole day partitions that end before ``cutoff``; return events deleted."""
        ...

    def compact(self, older_than: int) -> int:
        """Move day partitions older than ``older_than`` to Parquet; return days moved."""
        ...

    def stats(self) -> StoreStats:
        """Counts and partitions."""
        ...

    def add_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Keep records that could not be ingested."""
        ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run SQL of this store's dialect over the ``events`` relation."""
        ...

    def close(self) -> None: ...


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (standard SQL; DuckDB and ClickHouse accept it)."""
    return '"' + name.replace('"', '""') + '"'


def json_path(name: str) -> str:
    """The JSON path of a field kept in the ``extra`` column."""
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def field_sql(name: str) -> tuple[str, list[Any]]:
    """SQL text for a field's value as text, and its parameters; names never reach SQL raw."""
    if name in CORE_FIELDS:
        return quote_ident(name), []
    return f"json_extract_string({EXTRA_COLUMN}, ?)", [json_path(name)]
