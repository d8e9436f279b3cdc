"""Printing rows of flat dotted fields as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import orjson
from rich.console import Console
from rich.table import Table

from heron.model.schema import TIMESTAMP_FIELDS
from heron.model.timeutil import format_ns

__all__ = ["emit_rows", "jsonable"]


def jsonable(
    row: dict[str, Any], timestamp_fields: Iterable[str] = TIMESTAMP_FIELDS
) -> dict[str, Any]:
    """A row with its nanosecond timestamps as RFC 3339 text."""
    out = dict(row)
    for name in timestamp_fields:
        value = out.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = format_ns(value)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


def emit_rows(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    out: TextIO | None = None,
    title: str | None = None,
) -> int:
    """Print rows; ``columns`` picks and orders them for table and CSV. Returns the row count."""
    stream = out or sys.stdout
    materialized = [jsonable(r) for r in rows]
    if fmt == "json":
        for row in materialized:
            stream.write(orjson.dumps(row, default=str).decode() + "\n")
        return len(materialized)
    names = list(columns) if columns else _all_columns(materialized)
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(names)
        for row in materialized:
            writer.writerow([_cell(row.get(n)) for n in names])
        return len(materialized)
    table = Table(title=title, show_lines=False, header_style="bold")
    for name in names:
        table.add_column(name, overflow="fold")
    for row in materialized:
        table.add_row(*[_cell(row.get(n)) for n in names])
    Console(file=stream, soft_wrap=False).print(table)
    return len(materialized)


def _all_columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)
