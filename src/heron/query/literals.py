"""Literal values of the hunting language as written: strings, timespans, datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from lark import Token

from heron.query.errors import QuerySyntaxError, Span

__all__ = ["MAX_LONG", "decode_string", "parse_datetime_text", "parse_timespan_text"]

_NS = {
    "d": 86_400_000_000_000,
    "h": 3_600_000_000_000,
    "m": 60_000_000_000,
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
    "ns": 1,
    "tick": 100,
}
_UNIT_ALIASES = {
    "days": "d",
    "day": "d",
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "hr": "h",
    "minutes": "m",
    "minute": "m",
    "min": "m",
    "seconds": "s",
    "second": "s",
    "sec": "s",
    "milliseconds": "ms",
    "millisecond": "ms",
    "microseconds": "us",
    "microsecond": "us",
    "nanoseconds": "ns",
    "nanosecond": "ns",
    "ticks": "tick",
}
_TIMESPAN = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?"
)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
MAX_LONG = 2**63 - 1


def decode_string(token: Token) -> str:
    """The value of a string literal: ``"…"`` / ``'…'`` with escapes, or verbatim ``@"…"``."""
    text = str(token)
    if text.startswith("@"):
        quote = text[1]
        return text[2:-1].replace(quote * 2, quote)
    body = text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            start = (token.start_pos or 0) + 1 + i
            raise QuerySyntaxError(
                f"unknown escape '\\{nxt}' in a string",
                span=Span(start, start + 2),
                hint='write backslashes as \\\\, or use a verbatim string: @"C:\\Windows"',
            )
    return "".join(out)


def parse_timespan_text(text: str, span: Span | None = None) -> int:
    """``5m``, ``1.5h``, ``100ms`` … in nanoseconds."""
    m = _TIMESPAN.fullmatch(text.strip().lower())
    unit = _UNIT_ALIASES.get(m.group(2), m.group(2)) if m else ""
    if m is None or unit not in _NS:
        raise QuerySyntaxError(f"not a timespan: {text!r}", span=span, hint="e.g. 30s, 5m, 2h, 7d")
    return round(float(m.group(1)) * _NS[unit])


def parse_datetime_text(text: str, span: Span | None = None) -> int:
    """A date or date-time (UTC unless it says otherwise) in nanoseconds since the epoch."""
    m = _DATETIME.fullmatch(text.strip().strip("\"'"))
    if m is None:
        raise QuerySyntaxError(
            f"not a datetime: {text!r}", span=span, hint="e.g. datetime(2024-03-01 10:30:00Z)"
        )
    year, month, day, hour, minute, second, frac, zone = m.groups()
    tz: timezone = UTC
    if zone and zone not in ("Z", "z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise QuerySyntaxError(f"not a datetime: {text!r} ({exc})", span=span) from None
    seconds = int(moment.timestamp())
    if seconds < 0 or seconds >= 9_223_372_036:
        raise QuerySyntaxError(f"datetime out of range (1970..2262): {text!r}", span=span)
    return seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
