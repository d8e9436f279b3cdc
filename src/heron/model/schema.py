"""The stored schema: core ECS fields as typed columns, everything else in one JSON column.

Events are flat dicts keyed by ECS dotted names (``source.ip``) and by vendor field
names kept as the source spelled them (``Image``, ``TargetUserName``, ``eventName``).
The fields analysts filter and group on most get typed columns; the long tail goes to
``extra`` as JSON so the schema never has to change to accept a new source.
"""

from __future__ import annotations

from enum import Enum

import pyarrow as pa

from heron.model.arrowsetup import skip_pandas_probe

__all__ = [
    "CORE_FIELDS",
    "EXTRA_COLUMN",
    "TIMESTAMP_FIELDS",
    "FieldKind",
    "arrow_schema",
]

# Every module that turns events into Arrow imports this one first.
skip_pandas_probe()


class FieldKind(Enum):
    """How a core field is typed, in Python and in Arrow."""

    TIMESTAMP = "timestamp"  # int nanoseconds since the epoch, UTC
    STRING = "string"
    INT = "int"
    STRING_LIST = "string_list"

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_ARROW_TYPES: dict[FieldKind, pa.DataType] = {
    FieldKind.TIMESTAMP: pa.timestamp("ns", tz="UTC"),
    FieldKind.STRING: pa.string(),
    FieldKind.INT: pa.int64(),
    FieldKind.STRING_LIST: pa.list_(pa.string()),
}

_DESCRIPTIONS: dict[FieldKind, str] = {
    FieldKind.TIMESTAMP: "an int of nanoseconds since the epoch (UTC)",
    FieldKind.STRING: "a string",
    FieldKind.INT: "an integer",
    FieldKind.STRING_LIST: "a list of strings",
}

_S, _I, _L, _T = FieldKind.STRING, FieldKind.INT, FieldKind.STRING_LIST, FieldKind.TIMESTAMP

#: Typed columns, in storage order. Names are ECS names.
CORE_FIELDS: dict[str, FieldKind] = {
    "@timestamp": _T,
    "event.ingested": _T,
    "event.id": _S,
    "event.kind": _S,
    "event.category": _L,
    "event.type": _L,
    "event.action": _S,
    "event.outcome": _S,
    "event.code": _S,
    "event.module": _S,
    "event.dataset": _S,
    "event.provider": _S,
    "event.severity": _I,
    "log.file.path": _S,
    "log.level": _S,
    "host.name": _S,
    "host.ip": _S,
    "observer.vendor": _S,
    "observer.product": _S,
    "source.ip": _S,
    "source.port": _I,
    "destination.ip": _S,
    "destination.port": _I,
    "network.transport": _S,
    "user.name": _S,
    "user.domain": _S,
    "user.id": _S,
    "user.target.name": _S,
    "process.name": _S,
    "process.pid": _I,
    "process.executable": _S,
    "process.command_line": _S,
    "process.parent.executable": _S,
    "file.path": _S,
    "url.original": _S,
    "dns.question.name": _S,
    "cloud.provider": _S,
    "winlog.channel": _S,
    "winlog.provider_name": _S,
    "winlog.record_id": _S,
    "message": _S,
    "event.original": _S,
}

TIMESTAMP_FIELDS: frozenset[str] = frozenset(
    name for name, kind in CORE_FIELDS.items() if kind is FieldKind.TIMESTAMP
)

#: The JSON column that holds every field without a typed column.
EXTRA_COLUMN = "extra"


def arrow_schema() -> pa.Schema:
    """The Arrow schema of a stored event batch."""
    fields = [pa.field(name, kind.arrow_type) for name, kind in CORE_FIELDS.items()]
    fields.append(pa.field(EXTRA_COLUMN, pa.string()))
    return pa.schema(fields)
