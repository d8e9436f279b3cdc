"""Hunt results as plain rows: timestamps and timespans as nanosecond ints, or as text."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from heron.model.timeutil import format_ns

__all__ = ["format_timespan", "table_rows", "text_rows"]

_NS_PER_S = 1_000_000_000


def _as_int_ns(table: pa.Table) -> tuple[pa.Table, set[str], set[str]]:
    timestamps: set[str] = set()
    timespans: set[str] = set()
    for i, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type):
            timestamps.add(fld.name)
            target = pa.timestamp("ns", tz=fld.type.tz)
        elif pa.types.is_duration(fld.type):
            timespans.add(fld.name)
            target = pa.duration("ns")
        else:
            continue
        ints = table.column(i).cast(target).cast(pa.int64())
        table = table.set_column(i, pa.field(fld.name, pa.int64()), ints)
    return table, timestamps, timespans


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts; timestamps and timespans as int nanoseconds (no precision lost)."""
    ints, _, _ = _as_int_ns(table)
    rows: list[dict[str, Any]] = ints.to_pylist()
    return rows


def format_timespan(ns: int) -> str:
    """A timespan as Kusto writes it: ``[-][d.]hh:mm:ss[.fffffffff]``."""
    sign = "-" if ns < 0 else ""
    seconds, nanos = divmod(abs(ns), _NS_PER_S)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}.{text}"
    if nanos:
        text += f".{nanos:09d}".rstrip("0")
    return sign + text


def text_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts with timestamps as RFC 3339 text (nanoseconds kept) and timespans as text."""
    ints, timestamps, timespans = _as_int_ns(table)
    rows: list[dict[str, Any]] = ints.to_pylist()
    if not timestamps and not timespans:
        return rows
    for row in rows:
        for name in timestamps:
            value = row.get(name)
            if value is not None:
                row[name] = format_ns(value)
        for name in timespans:
            value = row.get(name)
            if value is not None:
                row[name] = format_timespan(value)
    return rows
