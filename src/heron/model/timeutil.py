"""Timestamps as int nanoseconds since the epoch, UTC, and their text forms."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "NS_PER_S",
    "format_ns",
    "now_ns",
    "parse_duration",
    "parse_time",
    "parse_timestamp",
]

NS_PER_S = 1_000_000_000

# ISO 8601 / RFC 3339 with an optional fraction of up to 9 digits and an optional zone.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\d*"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$"
)
_DURATION = re.compile(r"^(\d+)\s*(ns|us|ms|s|m|h|d|w)$")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
    "d": 86400 * NS_PER_S,
    "w": 7 * 86400 * NS_PER_S,
}


def now_ns() -> int:
    """The current time in nanoseconds since the epoch."""
    return time.time_ns()


def parse_timestamp(text: str, default_tz: timezone = UTC) -> int:
    """An ISO 8601 timestamp as nanoseconds since the epoch; keeps all 9 fraction digits."""
    m = _ISO.match(text.strip())
    if m is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text[:64]!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    tz: timezone = default_tz
    if zone and zone not in ("Z", "z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    elif zone:
        tz = UTC
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    seconds = int(dt.timestamp())
    nanos = int((frac or "0").ljust(9, "0"))
    return seconds * NS_PER_S + nanos


def format_ns(ns: int) -> str:
    """RFC 3339 text in UTC, with as many fraction digits as the value needs."""
    seconds, nanos = divmod(ns, NS_PER_S)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return base + "Z"
    if nanos % 1_000_000 == 0:
        return f"{base}.{nanos // 1_000_000:03d}Z"
    if nanos % 1_000 == 0:
        return f"{base}.{nanos // 1_000:06d}Z"
    return f"{base}.{nanos:09d}Z"


def parse_duration(text: str) -> int:
    """A duration such as ``30d``, ``5m`` or ``250ms`` in nanoseconds."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise ValueError(f"not a duration (use e.g. 30s, 5m, 2h, 7d): {text!r}")
    return int(m.group(1)) * _UNIT_NS[m.group(2)]


def parse_time(text: str, now: int | None = None) -> int:
    """A point in time from the command line: ISO 8601, ``now``, or a duration ago (``2h``)."""
    value = text.strip()
    current = now_ns() if now is None else now
    if value == "now":
        return current
    if _DURATION.match(value):
        return current - parse_duration(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    return parse_timestamp(value)
