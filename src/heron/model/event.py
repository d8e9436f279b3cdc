"""Events as flat dicts, and batches of them in Arrow form.

An event is a plain ``dict`` keyed by flat dotted names. Plain dicts keep parsing and
detection cheap (no object per field); the declared schema applies at the batch
boundary, where a batch becomes an Arrow table with typed core columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from heron.errors import EventValidationError
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, FieldKind, arrow_schema

__all__ = [
    "Event",
    "EventBatch",
    "Rejected",
    "new_event_ids",
    "validate_event",
]

Event = dict[str, Any]

# Timestamps outside 1970..2262 cannot be held as int64 nanoseconds.
_TS_MIN, _TS_MAX = 0, 9_223_372_036_854_775_807
_SCHEMA = arrow_schema()
_CORE_NAMES = tuple(CORE_FIELDS)
_CORE_SET = frozenset(CORE_FIELDS)
_CORE_INDEX = {name: i for i, name in enumerate(_CORE_NAMES)}


def new_event_ids(count: int) -> list[str]:
    """``count`` unique event ids: a random 12-byte prefix per call and a counter."""
    prefix = os.urandom(9).hex()
    return [f"{prefix}{i:06x}" for i in range(count)]


def _check(name: str, kind: FieldKind, value: object) -> None:
    if value is None:
        return
    if kind is FieldKind.STRING:
        if not isinstance(value, str):
            raise EventValidationError(name, value, kind.description)
    elif kind is FieldKind.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventValidationError(name, value, kind.description)
        if not -(2**63) <= value < 2**63:
            raise EventValidationError(name, value, "an integer that fits 64 bits")
    elif kind is FieldKind.TIMESTAMP:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventValidationError(name, value, kind.description)
        if not _TS_MIN <= value <= _TS_MAX:
            raise EventValidationError(name, value, "a time between 1970 and 2262")
    elif kind is FieldKind.STRING_LIST and (
        not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    ):
        raise EventValidationError(name, value, kind.description)


def validate_event(event: Event) -> None:
    """Raise ``EventValidationError`` for the first field of a wrong type."""
    if not isinstance(event.get("@timestamp"), int):
        raise EventValidationError("@timestamp", event.get("@timestamp"), "present, in ns")
    for name, kind in CORE_FIELDS.items():
        value = event.get(name)
        if value is not None:
            _check(name, kind, value)
    for name, value in event.items():
        if name not in _CORE_SET and not isinstance(name, str):
            raise EventValidationError(str(name), value, "a field named by a string")


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that failed validation, and why."""

    event: Event
    reason: str


@dataclass(slots=True)
class EventBatch:
    """A batch of events: the unit of parsing, detection, storage and acknowledgement."""

    events: list[Event] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def split_valid(self) -> tuple[EventBatch, list[Rejected]]:
        """The events that pass validation as a new batch, and the rejected ones."""
        good: list[Event] = []
        bad: list[Rejected] = []
        for event in self.events:
            try:
                validate_event(event)
            except EventValidationError as exc:
                bad.append(Rejected(event, str(exc)))
            else:
                good.append(event)
        return EventBatch(good), bad

    def to_arrow(self) -> pa.Table:
        """The batch as an Arrow table of the stored schema; raises on an invalid event."""
        events = self.events
        n = len(events)
        # One pass over each event's fields fills the core columns and collects the rest:
        # a lookup per present field, not one per core field per event plus a second
        # pass for ``extra``.
        columns: list[list[Any]] = [[None] * n for _ in _CORE_NAMES]
        extra: list[bytes | None] = [None] * n
        column_of = _CORE_INDEX.get
        dumps = orjson.dumps
        try:
            for row, event in enumerate(events):
                rest: dict[Any, Any] = {}
                for name, value in event.items():
                    at = column_of(name)
                    if at is None:
                        rest[name] = value
                    else:
                        columns[at][row] = value
                if rest:
                    extra[row] = dumps(rest, default=str)
        except TypeError as exc:  # orjson: a key that is not a string
            raise EventValidationError("<key>", str(exc), "string keys") from exc
        arrays: list[pa.Array] = []
        for name, values in zip(_CORE_NAMES, columns, strict=True):
            kind = CORE_FIELDS[name]
            try:
                if kind is FieldKind.TIMESTAMP:
                    arr = pa.array(values, type=pa.int64()).cast(kind.arrow_type)
                elif kind is FieldKind.STRING_LIST and str in set(map(type, values)):
                    # Arrow would take a string as a list of its characters.
                    raise TypeError(f"{name}: a string where a list is due")
                else:
                    arr = pa.array(values, type=kind.arrow_type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                for value in values:
                    _check(name, kind, value)
                raise
            arrays.append(arr)
        # orjson writes valid UTF-8: the cast only relabels the bytes.
        arrays.append(pa.array(extra, type=pa.binary()).cast(pa.string()))
        return pa.Table.from_arrays(arrays, schema=_SCHEMA)

    @classmethod
    def from_arrow(cls, table: pa.Table | pa.RecordBatch) -> EventBatch:
        """Events back from an Arrow table of the stored schema (missing columns allowed)."""
        return cls(list(arrow_to_events(table)))

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventBatch:
        return cls(list(events))


def arrow_to_events(table: pa.Table | pa.RecordBatch) -> Iterator[Event]:
    """Flat event dicts from Arrow rows: timestamps as int ns, ``extra`` merged back."""
    names = table.schema.names
    columns: list[Sequence[Any]] = []
    for name in names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        columns.append(col.to_pylist())
    extra_at = names.index(EXTRA_COLUMN) if EXTRA_COLUMN in names else -1
    for row in zip(*columns, strict=True):
        event: Event = {}
        for i, value in enumerate(row):
            if i == extra_at:
                if value:
                    event.update(orjson.loads(value))
            elif value is not None:
                event[names[i]] = value
        yield event
