"""Helpers for the hunting-language engine tests: ClickHouse (chDB) loaded like the store."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from heron.model.schema import CORE_FIELDS, FieldKind
from heron.query.rows import table_rows

__all__ = ["load_clickhouse", "normalized"]

# The table layout the compiler's ClickHouse dialect expects.
_CH_TYPES = {
    FieldKind.TIMESTAMP: "Nullable(DateTime64(9, 'UTC'))",
    FieldKind.STRING: "Nullable(String)",
    FieldKind.INT: "Nullable(Int64)",
    FieldKind.STRING_LIST: "Array(String)",  # ClickHouse arrays are never NULL: [] instead
}


def load_clickhouse(table: pa.Table) -> Any:
    """A chDB session with ``table`` in ``heron.events``, the current database."""
    from chdb import session as chdb_session

    session = chdb_session.Session()
    columns = ", ".join(f"`{name}` {_CH_TYPES[kind]}" for name, kind in CORE_FIELDS.items())
    session.query("CREATE DATABASE IF NOT EXISTS heron")
    session.query(
        f"CREATE TABLE heron.events ({columns}, `extra` Nullable(String)) "
        "ENGINE = MergeTree ORDER BY tuple()"
    )
    for name, kind in CORE_FIELDS.items():
        if kind is FieldKind.STRING_LIST:
            i = table.schema.get_field_index(name)
            lists = [v if v is not None else [] for v in table.column(i).to_pylist()]
            table = table.set_column(i, name, pa.array(lists, type=pa.list_(pa.string())))
    rows = table  # noqa: F841 - chDB's Python() table function finds it by this name
    session.query("INSERT INTO heron.events SELECT * FROM Python(rows)")
    session.query("USE heron")
    return session


def normalized(table: pa.Table) -> list[tuple[tuple[str, Any], ...]]:
    """Rows in a canonical order, lists sorted and reals rounded (for comparing engines)."""

    def norm(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, list):
            return tuple(sorted(norm(v) for v in value))
        return value

    rows = [tuple((k, norm(v)) for k, v in row.items()) for row in table_rows(table)]
    return sorted(rows, key=repr)
