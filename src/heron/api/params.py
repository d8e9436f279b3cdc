"""Parsing of API parameters shared by several routes: times, durations, field names."""

from __future__ import annotations

import re

from fastapi import HTTPException

from heron.model.timeutil import parse_duration, parse_time

__all__ = ["FIELD_NAME", "check_field", "duration_ns", "time_ns"]

#: A field name in a filter: dotted ECS or vendor names.
FIELD_NAME = re.compile(r"[A-Za-z0-9@_][A-Za-z0-9@_.\-]{0,127}")


def time_ns(value: str | None, what: str) -> int | None:
    """ns since the epoch from ``123…`` (ns), RFC 3339, ``now`` or a duration ago (``2h``)."""
    if value is None or value == "":
        return None
    text = value.strip()
    if text.isdigit() and len(text) <= 20:
        return int(text)
    try:
        return parse_time(text)
    except (ValueError, OverflowError) as exc:
        raise HTTPException(422, f"{what}: not a time ({exc})") from None


def duration_ns(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        found = parse_duration(value)
    except ValueError as exc:
        raise HTTPException(422, f"{what}: {exc}") from None
    if found <= 0:
        raise HTTPException(422, f"{what}: must be longer than zero")
    return found


def check_field(name: str, what: str = "field") -> str:
    if not FIELD_NAME.fullmatch(name):
        raise HTTPException(422, f"{what}: not a field name: {name[:80]!r}")
    return name
