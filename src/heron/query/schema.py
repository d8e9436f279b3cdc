"""What the compiler knows about the relations a hunt reads: value types and columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, FieldKind

__all__ = [
    "ALERTS",
    "EVENTS",
    "Catalog",
    "QType",
    "Relation",
    "qtype_of_sql",
]


class QType(Enum):
    """The type of a value in a hunt."""

    STRING = "string"
    LONG = "long"
    REAL = "real"
    BOOL = "bool"
    DATETIME = "datetime"
    TIMESPAN = "timespan"  # nanoseconds, held as a BIGINT in SQL
    LIST = "list"  # of strings (event.category, make_set …)
    DYNAMIC = "dynamic"  # text of a JSON value from the extra column: any type
    UNKNOWN = "unknown"  # a column of a relation whose types are not known

    @property
    def numeric(self) -> bool:
        return self in (QType.LONG, QType.REAL)

    @property
    def loose(self) -> bool:
        """True for values whose real type is only known at run time."""
        return self in (QType.DYNAMIC, QType.UNKNOWN)


_KIND_TYPES = {
    FieldKind.TIMESTAMP: QType.DATETIME,
    FieldKind.STRING: QType.STRING,
    FieldKind.INT: QType.LONG,
    FieldKind.STRING_LIST: QType.LIST,
}


@dataclass(frozen=True, slots=True)
class Relation:
    """A table a pipeline can start from.

    ``columns`` is None for a relation whose columns are not known when compiling: any
    name is then taken as a column, and the store reports names that do not exist.
    Fields that are not columns are read from ``json_column`` when it is set.
    """

    name: str
    table: str
    columns: Mapping[str, QType] | None
    json_column: str | None = None
    text_columns: tuple[str, ...] = ()
    #: Names a did-you-mean hint compares unknown names with.
    known_names: tuple[str, ...] = field(default=())


EVENTS = Relation(
    name="events",
    table="events",
    columns={
        **{name: _KIND_TYPES[kind] for name, kind in CORE_FIELDS.items()},
        EXTRA_COLUMN: QType.STRING,
    },
    json_column=EXTRA_COLUMN,
    text_columns=("event.original", "message"),
    known_names=tuple(CORE_FIELDS),
)

#: Alerts before the store has told the compiler their columns.
ALERTS = Relation(name="alerts", table="alerts", columns=None)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The relations a query may name as its source."""

    relations: Mapping[str, Relation] = field(
        default_factory=lambda: {"events": EVENTS, "alerts": ALERTS}
    )

    def get(self, name: str) -> Relation | None:
        return self.relations.get(name)

    def with_relation(self, relation: Relation) -> Catalog:
        return Catalog({**self.relations, relation.name: relation})


def qtype_of_sql(type_name: str) -> QType:
    """The hunt type of a column from its SQL type name (DuckDB or ClickHouse spelling)."""
    t = type_name.upper().removeprefix("NULLABLE(").removeprefix("LOWCARDINALITY(")
    if t.endswith("[]") or t.startswith("ARRAY("):
        return QType.LIST
    if t.startswith(("TIMESTAMP", "DATETIME")):
        return QType.DATETIME
    if t.startswith(("VARCHAR", "STRING", "TEXT", "ENUM", "UUID")):
        return QType.STRING
    if t.startswith(
        ("BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT", "UBIGINT", "UINT", "HUGEINT")
    ):
        return QType.LONG
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return QType.REAL
    if t.startswith(("BOOLEAN", "BOOL")):
        return QType.BOOL
    return QType.UNKNOWN
