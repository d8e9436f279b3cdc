"""IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0.

    LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…
    LEEF:2.0|Vendor|Product|Version|EventID|^|key=value^key=value…   (``^``, ``x5E`` or ``0x5E``)

The header becomes ``leef.version``, ``leef.vendor``, ``leef.product``,
``leef.product_version``, ``leef.event_id`` (and ``leef.delimiter`` for 2.0) plus
``observer.vendor`` / ``observer.product`` / ``observer.version`` and ``event.code``.
Every attribute is kept under its own name; the predefined ones are mapped to ECS
(``src`` → ``source.ip``, ``usrName`` → ``user.name``, ``devTime`` read with
``devTimeFormat`` → ``@timestamp`` …). Senders that separate LEEF 1.0 attributes with
spaces instead of tabs are read like CEF extensions. A syslog header in front is
handled by the syslog parser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from functools import lru_cache

import re2

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.schema import CORE_FIELDS, FieldKind
from heron.parsers.base import ParseContext
from heron.parsers.cef import parse_cef_time, parse_extension
from heron.parsers.syslog_time import (
    MONTHS,
    NS_PER_S,
    TimeFieldError,
    civil_to_ns,
    fraction_ns,
    infer_year,
    zone_from_text,
)

__all__ = ["LeefParser", "parse_java_time"]

_PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "58": "ipv6-icmp"}


def _as_int(value: str) -> int | None:
    v = value.strip()
    if v and v.isascii() and v.isdigit() and len(v) < 19:
        return int(v)
    return None


def _protocol(value: str) -> str:
    v = value.strip().lower()
    return _PROTOCOLS.get(v, v)


def _severity(value: str) -> int | None:
    number = _as_int(value)
    return number if number is not None and 0 <= number <= 10 else None


# LEEF predefined attribute → (ECS field, conversion or None).
_ECS: dict[str, tuple[str, Callable[[str], str | int | None] | None]] = {
    "src": ("source.ip", None),
    "dst": ("destination.ip", None),
    "srcPort": ("source.port", _as_int),
    "dstPort": ("destination.port", _as_int),
    "srcPostNAT": ("source.nat.ip", None),
    "dstPostNAT": ("destination.nat.ip", None),
    "srcPostNATPort": ("source.nat.port", _as_int),
    "dstPostNATPort": ("destination.nat.port", _as_int),
    "srcMAC": ("source.mac", None),
    "dstMAC": ("destination.mac", None),
    "srcBytes": ("source.bytes", _as_int),
    "dstBytes": ("destination.bytes", _as_int),
    "srcPackets": ("source.packets", _as_int),
    "dstPackets": ("destination.packets", _as_int),
    "totalPackets": ("network.packets", _as_int),
    "usrName": ("user.name", None),
    "domain": ("user.domain", None),
    "groupID": ("group.id", None),
    "proto": ("network.transport", _protocol),
    "sev": ("event.severity", _severity),
    "action": ("event.action", None),
    "url": ("url.original", None),
    "policy": ("rule.name", None),
    "msg": ("message", None),
    "identHostName": ("host.hostname", None),
}
_TYPED_CORE = frozenset(name for name, kind in CORE_FIELDS.items() if kind is not FieldKind.STRING)


def _delimiter(text: str) -> str:
    """The attribute delimiter of a LEEF 2.0 header field: a character or hex ``xHH``/``0xHH``."""
    if len(text) == 1:
        return text
    if text in ("\\t", "tab"):
        return "\t"
    hexa = text[2:] if text[:2].lower() == "0x" else text[1:] if text[:1].lower() == "x" else ""
    if hexa and len(hexa) <= 4 and all(c in "0123456789abcdefABCDEF" for c in hexa):
        code = int(hexa, 16)
        if 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    raise ValueError(text)


# Java SimpleDateFormat letters → (regex, role). Built into an RE2 pattern: the format
# comes from the log line itself, so it must not reach a backtracking engine.
_JAVA_TOKENS: dict[str, tuple[str, str]] = {
    "yyyy": ("([0-9]{4})", "year"),
    "yy": ("([0-9]{2})", "year2"),
    "y": ("([0-9]{1,4})", "year"),
    "MMMM": ("([A-Za-z]+)", "monthname"),
    "MMM": ("([A-Za-z]{3})", "monthname"),
    "MM": ("([0-9]{2})", "month"),
    "M": ("([0-9]{1,2})", "month"),
    "dd": ("([0-9]{2})", "day"),
    "d": ("([0-9]{1,2})", "day"),
    "HH": ("([0-9]{2})", "hour"),
    "H": ("([0-9]{1,2})", "hour"),
    "kk": ("([0-9]{2})", "hour"),
    "hh": ("([0-9]{2})", "hour12"),
    "h": ("([0-9]{1,2})", "hour12"),
    "mm": ("([0-9]{2})", "minute"),
    "m": ("([0-9]{1,2})", "minute"),
    "ss": ("([0-9]{2})", "second"),
    "s": ("([0-9]{1,2})", "second"),
    "SSSSSSSSS": ("([0-9]{1,9})", "fraction"),
    "SSSSSS": ("([0-9]{1,6})", "fraction"),
    "SSS": ("([0-9]{1,3})", "fraction"),
    "SS": ("([0-9]{1,2})", "fraction"),
    "S": ("([0-9]{1,3})", "fraction"),
    "a": ("([AaPp][Mm])", "ampm"),
    "EEEE": ("(?:[A-Za-z]+)", ""),
    "EEE": ("(?:[A-Za-z]{3})", ""),
    "E": ("(?:[A-Za-z]+)", ""),
    "zzzz": ("([A-Za-z][A-Za-z_/+-]*)", "zone"),
    "z": ("([A-Za-z][A-Za-z_/+-]*)", "zone"),
    "Z": ("([+-][0-9]{4})", "zone"),
    "XXX": ("(Z|[+-][0-9]{2}:[0-9]{2})", "zone"),
    "XX": ("(Z|[+-][0-9]{4})", "zone"),
    "X": ("(Z|[+-][0-9]{2}(?:[0-9]{2})?)", "zone"),
}
_TOKEN_LETTERS = frozenset("yMdHkhmsSaEzZX")


@lru_cache(maxsize=64)
def _compile_java(fmt: str) -> tuple[re2._Regexp, tuple[str, ...]] | None:
    """An RE2 pattern and the role of each group for a Java date format; None if unusable."""
    if len(fmt) > 64:
        return None
    out: list[str] = []
    roles: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "'":
            end = fmt.find("'", i + 1)
            if end < 0:
                return None
            out.append(re2.escape(fmt[i + 1 : end]) if end > i + 1 else "'")
            i = end + 1
            continue
        if c in _TOKEN_LETTERS:
            j = i
            while j < n and fmt[j] == c:
                j += 1
            run = fmt[i:j]
            while run and run not in _JAVA_TOKENS:
                run = run[:-1]
            if not run:
                return None
            pattern, role = _JAVA_TOKENS[run]
            out.append(pattern)
            if role:
                roles.append(role)
            i += len(run)
            continue
        if c.isalpha():
            return None  # a letter Java would treat as a pattern we do not know
        out.append(re2.escape(c))
        i += 1
    try:
        return re2.compile("".join(out)), tuple(roles)
    except re2.error:
        return None


def parse_java_time(
    value: str, fmt: str, ctx: ParseContext, tz: tzinfo | None = None
) -> int | None:
    """``value`` read with a Java ``SimpleDateFormat`` pattern, in ns; None if it does not fit."""
    compiled = _compile_java(fmt)
    if compiled is None:
        return None
    pattern, roles = compiled
    m = pattern.fullmatch(value.strip())
    if m is None:
        return None
    parts = dict(zip(roles, m.groups(), strict=True))
    try:
        month_name = parts.get("monthname")
        month = MONTHS.get(month_name[:3].title(), 0) if month_name else int(parts.get("month", 0))
        day = int(parts.get("day", 1))
        hour = int(parts.get("hour", parts.get("hour12", 0)))
        ampm = (parts.get("ampm") or "").lower()
        if "hour12" in parts:
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        minute, second = int(parts.get("minute", 0)), int(parts.get("second", 0))
        nanos = fraction_ns(parts.get("fraction", ""))
        zone_text = parts.get("zone")
        zone = zone_from_text(zone_text) if zone_text else (tz or ctx.timezone)
        if zone is None or not month:
            return None
        if "year" in parts:
            year = int(parts["year"])
        elif "year2" in parts:
            year = 2000 + int(parts["year2"])
        elif ctx.year is not None:
            year = ctx.year
        else:
            year = infer_year(
                month, day, hour, minute, second, zone, ctx.received or time.time_ns()
            )
        return civil_to_ns(year, month, day, hour, minute, second, nanos, zone)
    except (TimeFieldError, ValueError):
        return None


class LeefParser:
    """LEEF 1.0 / 2.0 records (optionally behind a syslog header) → flat events."""

    name = "leef"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        if line.startswith("LEEF:"):
            event = self.parse_body(line[5:], ctx)
            if "@timestamp" not in event:
                event["@timestamp"] = ctx.received or time.time_ns()
            return event
        if "LEEF:" not in line:
            raise ParseError("no 'LEEF:' header", parser=self.name, offset=0)
        from heron.parsers.syslog import SyslogParser  # the syslog parser imports this one

        try:
            event = SyslogParser().parse(line, ctx)
        except ParseError as exc:
            reason = f"text before 'LEEF:' is not a syslog header ({exc.reason})"
            raise ParseError(reason, parser=self.name) from None
        if "leef.version" not in event:
            raise ParseError("text before 'LEEF:' is not a syslog header", parser=self.name)
        return event

    def parse_body(self, text: str, ctx: ParseContext) -> Event:
        """The event of the LEEF record after ``LEEF:``; no ``@timestamp`` if it has no time."""
        version = text[: text.find("|")] if "|" in text else text
        if version not in ("1.0", "2.0", "1", "2"):
            raise ParseError(f"unsupported LEEF version {version[:16]!r}", parser=self.name)
        v2 = version.startswith("2")
        parts = text.split("|", 6 if v2 else 5)
        needed = 6 if v2 else 5
        if len(parts) < needed:
            raise ParseError(
                f"LEEF {version} header has {len(parts)} of {needed} fields", parser=self.name
            )
        _, vendor, product, product_version, event_id = parts[:5]
        event: Event = {
            "leef.version": version,
            "leef.vendor": vendor,
            "leef.product": product,
            "leef.product_version": product_version,
            "leef.event_id": event_id,
            "event.kind": "event",
        }
        delimiter = "\t"
        attributes = parts[5] if len(parts) > 5 else ""
        if v2:
            attributes, delimiter = self._v2_delimiter(parts)
            event["leef.delimiter"] = delimiter
        if vendor:
            event["observer.vendor"] = vendor
        if product:
            event["observer.product"] = product
        if product_version:
            event["observer.version"] = product_version
        if event_id:
            event["event.code"] = event_id
        self._attributes(self._pairs(attributes, delimiter), event, ctx)
        return event

    def _v2_delimiter(self, parts: list[str]) -> tuple[str, str]:
        field = parts[5]
        rest = parts[6] if len(parts) > 6 else ""
        if field == "" and rest.startswith("|"):
            return rest[1:], "|"  # the delimiter is '|' itself: ``…|EventID|||k=v|k=v``
        if field == "":
            return rest, "\t"
        if "=" in field and len(field) > 6:
            # No delimiter field at all: what follows EventID is already attributes.
            return field + ("|" + rest if len(parts) > 6 else ""), "\t"
        try:
            return rest, _delimiter(field)
        except ValueError:
            raise ParseError(f"bad LEEF 2.0 delimiter {field[:8]!r}", parser=self.name) from None

    @staticmethod
    def _pairs(text: str, delimiter: str) -> list[tuple[str, str]]:
        if not text:
            return []
        if delimiter not in text and " " in text and text.count("=") > 1:
            return parse_extension(text)  # space-separated, as some LEEF 1.0 senders do
        pairs: list[tuple[str, str]] = []
        for item in text.split(delimiter):
            key, eq, value = item.partition("=")
            key = key.strip()
            if eq and key and " " not in key:
                pairs.append((key, value))
            elif pairs:
                # No key: the delimiter was part of the previous value.
                last_key, last_value = pairs[-1]
                pairs[-1] = (last_key, last_value + delimiter + item)
        return [(k, v.rstrip("\r\n")) for k, v in pairs]

    def _attributes(self, pairs: list[tuple[str, str]], event: Event, ctx: ParseContext) -> None:
        for key, value in pairs:
            if value == "":
                continue
            event[f"leef.attributes.{key}" if key in _TYPED_CORE else key] = value
            target = _ECS.get(key)
            if target is None:
                continue
            field, convert = target
            mapped = value if convert is None else convert(value)
            if mapped is not None and mapped != "":
                event[field] = mapped
        if "user.name" not in event and isinstance(event.get("accountName"), str):
            event["user.name"] = event["accountName"]
        dev_time = event.get("devTime")
        if isinstance(dev_time, str):
            ns = self._dev_time(dev_time, event.get("devTimeFormat"), ctx)
            if ns is not None:
                event["@timestamp"] = ns

    @staticmethod
    def _dev_time(value: str, fmt: object, ctx: ParseContext) -> int | None:
        if isinstance(fmt, str) and fmt.strip():
            ns = parse_java_time(value, fmt.strip(), ctx)
            if ns is not None:
                return ns
        v = value.strip()
        if v.isascii() and v.isdigit() and len(v) <= 10:
            return int(v) * NS_PER_S
        return parse_cef_time(v, ctx)
