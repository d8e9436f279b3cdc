"""ArcSight Common Event Format (CEF) records.

    CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension

Header fields (``\\|`` and ``\\\\`` unescaped) become ``cef.version``,
``cef.device_vendor``, ``cef.device_product``, ``cef.device_version``,
``cef.signature_id``, ``cef.name``, ``cef.severity``. Every extension key is kept under
its own CEF name (``src``, ``suser``, ``cs1``…) with ``\\=``, ``\\\\``, ``\\n``, ``\\r``
unescaped; a value runs until the next `` key=`` so it may hold spaces. Custom labels
(``cs1Label=Threat cs1=Bad``) add ``Threat: Bad`` too. Common keys are mapped to ECS
as the Elastic ``decode_cef`` processor maps them (``src`` → ``source.ip``, ``rt`` →
``@timestamp``, ``dvchost`` → ``host.name`` …), with these choices of ours:

- ``suser`` (else ``duser``) also fills ``user.name``; ``fileHash`` fills
  ``file.hash.<md5|sha1|sha256|sha512>`` by its length;
- ``rt``, else ``end``, else ``start`` gives ``@timestamp``; epoch milliseconds and the
  CEF date formats (``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``) and ISO 8601 are read;
- ``event.severity`` is the numeric severity (0-10); the words CEF allows map to
  Low 3, Medium 6, High 8, Very-High 10; ``event.code`` is the signature id;
- ``eventId`` / ``externalId`` are not mapped to ``event.id`` (Heron's own id).

A line with text before ``CEF:`` (a syslog header) is handed to the syslog parser,
which merges its header fields in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import tzinfo

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.schema import CORE_FIELDS, FieldKind
from heron.parsers.base import ParseContext
from heron.parsers.syslog_time import (
    MONTHS,
    NS_PER_S,
    TimeFieldError,
    civil_to_ns,
    fraction_ns,
    infer_year,
    iso_to_ns,
    zone_from_text,
)

__all__ = [
    "CefParser",
    "parse_cef_time",
    "parse_extension",
    "split_extension",
    "split_header",
]

_SEVERITY_WORDS = {"low": 3, "medium": 6, "high": 8, "very-high": 10, "veryhigh": 10}

# A key is letters, digits and ``_ . [ ] -`` right after whitespace, ending at ``=``.
# Splitting at `` key=`` with a capturing group yields [head, key1, value1, key2, …];
# ``\=`` never splits because ``\`` is not a key character.
_SPLIT = re.compile(r" ([A-Za-z0-9_.\[\]-]+)=")
_SPLIT_WS = re.compile(r"\s([A-Za-z0-9_.\[\]-]+)=")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r"}

# Short names → full names (CEF Implementation Standard), so both spellings map alike.
_FULL: dict[str, str] = {
    "act": "deviceAction",
    "app": "applicationProtocol",
    "cat": "deviceEventCategory",
    "cnt": "baseEventCount",
    "dhost": "destinationHostName",
    "dmac": "destinationMacAddress",
    "dntdom": "destinationNtDomain",
    "dpid": "destinationProcessId",
    "dpriv": "destinationUserPrivileges",
    "dproc": "destinationProcessName",
    "dpt": "destinationPort",
    "dst": "destinationAddress",
    "dtz": "deviceTimeZone",
    "duid": "destinationUserId",
    "duser": "destinationUserName",
    "dvc": "deviceAddress",
    "dvchost": "deviceHostName",
    "dvcmac": "deviceMacAddress",
    "dvcpid": "deviceProcessId",
    "end": "endTime",
    "fname": "fileName",
    "filename": "fileName",
    "fsize": "fileSize",
    "in": "bytesIn",
    "msg": "message",
    "out": "bytesOut",
    "outcome": "eventOutcome",
    "proto": "transportProtocol",
    "request": "requestUrl",
    "rt": "deviceReceiptTime",
    "shost": "sourceHostName",
    "smac": "sourceMacAddress",
    "sntdom": "sourceNtDomain",
    "spid": "sourceProcessId",
    "spriv": "sourceUserPrivileges",
    "sproc": "sourceProcessName",
    "spt": "sourcePort",
    "src": "sourceAddress",
    "start": "startTime",
    "suid": "sourceUserId",
    "suser": "sourceUserName",
    "agt": "agentAddress",
    "ahost": "agentHostName",
    "aid": "agentId",
    "amac": "agentMacAddress",
    "art": "agentReceiptTime",
    "at": "agentType",
    "atz": "agentTimeZone",
    "av": "agentVersion",
}


def _as_int(value: str) -> int | None:
    if value.isdigit() and value.isascii() and len(value) < 19:
        return int(value)  # the common case, without the checks below
    v = value.strip()
    digits = v[1:] if v[:1] in "+-" else v
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return None
    return int(v)


def _lower(value: str) -> str:
    return value.strip().lower()


def _outcome(value: str) -> str | None:
    v = value.strip().lstrip("/").lower()
    if v.startswith(("succ", "allow", "ok", "pass")):
        return "success"
    if v.startswith(("fail", "deny", "denied", "block", "reject")):
        return "failure"
    if v == "unknown":
        return "unknown"
    return None


def _direction(value: str) -> str | None:
    return {"0": "inbound", "1": "outbound"}.get(value.strip())


_TIME = "time"  # marker: a timestamp key, converted after the loop
_AS_EXTENSION = "cef.extensions."  # marker: a vendor key spelled like a typed core field

# Full CEF name → (ECS field, conversion or None for the text as is).
_ECS_BY_FULL_NAME: dict[str, tuple[str, Callable[[str], str | int | None] | None]] = {
    "sourceAddress": ("source.ip", None),
    "sourcePort": ("source.port", _as_int),
    "sourceHostName": ("source.domain", None),
    "sourceDnsDomain": ("source.domain", None),
    "sourceMacAddress": ("source.mac", None),
    "sourceUserName": ("source.user.name", None),
    "sourceUserId": ("source.user.id", None),
    "sourceUserPrivileges": ("source.user.group.name", None),
    "sourceNtDomain": ("source.user.domain", None),
    "sourceProcessId": ("source.process.pid", _as_int),
    "sourceProcessName": ("source.process.name", None),
    "sourceTranslatedAddress": ("source.nat.ip", None),
    "sourceTranslatedPort": ("source.nat.port", _as_int),
    "destinationAddress": ("destination.ip", None),
    "destinationPort": ("destination.port", _as_int),
    "destinationHostName": ("destination.domain", None),
    "destinationDnsDomain": ("destination.domain", None),
    "destinationMacAddress": ("destination.mac", None),
    "destinationUserName": ("destination.user.name", None),
    "destinationUserId": ("destination.user.id", None),
    "destinationUserPrivileges": ("destination.user.group.name", None),
    "destinationNtDomain": ("destination.user.domain", None),
    "destinationProcessId": ("process.pid", _as_int),
    "destinationProcessName": ("destination.process.name", None),
    "destinationServiceName": ("service.name", None),
    "destinationTranslatedAddress": ("destination.nat.ip", None),
    "destinationTranslatedPort": ("destination.nat.port", _as_int),
    "deviceAction": ("event.action", None),
    "deviceAddress": ("host.ip", None),
    "deviceHostName": ("host.name", None),
    "deviceMacAddress": ("host.mac", None),
    "deviceExternalId": ("host.id", None),
    "deviceProcessId": ("process.pid", _as_int),
    "deviceProcessName": ("process.name", None),
    "deviceDirection": ("network.direction", _direction),
    "deviceTimeZone": ("event.timezone", None),
    "eventOutcome": ("event.outcome", _outcome),
    "transportProtocol": ("network.transport", _lower),
    "applicationProtocol": ("network.protocol", _lower),
    "bytesIn": ("source.bytes", _as_int),
    "bytesOut": ("destination.bytes", _as_int),
    "fileName": ("file.name", None),
    "filePath": ("file.path", None),
    "fileSize": ("file.size", _as_int),
    "fileType": ("file.type", None),
    "fileId": ("file.inode", None),
    "message": ("message", None),
    "reason": ("event.reason", None),
    "requestUrl": ("url.original", None),
    "requestMethod": ("http.request.method", None),
    "requestContext": ("http.request.referrer", None),
    "requestClientApplication": ("user_agent.original", None),
    "agentAddress": ("observer.ip", None),
    "agentHostName": ("observer.hostname", None),
    "agentId": ("observer.serial_number", None),
    "agentMacAddress": ("observer.mac", None),
    "agentType": ("observer.type", None),
    "customerExternalID": ("organization.id", None),
    "customerURI": ("organization.name", None),
    "deviceReceiptTime": (_TIME, None),
    "startTime": (_TIME, None),
    "endTime": (_TIME, None),
    "agentReceiptTime": (_TIME, None),
}


def _mapping() -> dict[str, tuple[str, Callable[[str], str | int | None] | None]]:
    """Both spellings of each key → its ECS target, plus typed core names to set aside."""
    table = dict(_ECS_BY_FULL_NAME)
    for short, full in _FULL.items():
        if full in _ECS_BY_FULL_NAME:
            table[short] = _ECS_BY_FULL_NAME[full]
    for name, kind in CORE_FIELDS.items():
        if kind is not FieldKind.STRING:
            table[name] = (_AS_EXTENSION, None)
    return table


_MAPPING = _mapping()
_TIME_ORDER = ("deviceReceiptTime", "endTime", "startTime")
_TIME_ECS = {
    "endTime": "event.end",
    "startTime": "event.start",
    "agentReceiptTime": "event.created",
}
_HASHES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}

_CEF_DATE = re.compile(
    r"([A-Za-z]{3}) +([0-9]{1,2})(?: ([0-9]{4}))? ([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(?: +(\S+))?$"
)


def _unescape_value(value: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)


def split_header(text: str, parser: str = "cef") -> tuple[list[str], str]:
    """The 7 header fields after ``CEF:`` (``\\|`` and ``\\\\`` undone) and the extension."""
    parts = text.split("|", 7)
    if "\\" in text and any("\\" in part for part in parts[:7]):
        parts = []
        buf: list[str] = []
        i, n = 0, len(text)
        while i < n and len(parts) < 7:
            c = text[i]
            if c == "\\" and i + 1 < n and text[i + 1] in "|\\":
                buf.append(text[i + 1])
                i += 2
                continue
            if c == "|":
                parts.append("".join(buf))
                buf = []
            else:
                buf.append(c)
            i += 1
        parts.append(text[i:] if len(parts) == 7 else "".join(buf))
    if len(parts) < 7:
        raise ParseError(f"CEF header has {len(parts)} of 7 fields", parser=parser)
    return parts[:7], parts[7] if len(parts) > 7 else ""


def split_extension(text: str) -> list[str]:
    """``[key1, value1, key2, value2, …]`` of a CEF extension, values as written.

    A new key starts at whitespace followed by key characters and ``=``; any other
    ``=`` (a URL query, ``\\=``) belongs to the value. Values keep trailing blanks.
    """
    pattern = _SPLIT if "\t" not in text and "\n" not in text and "\r" not in text else _SPLIT_WS
    parts = pattern.split(" " + text)
    return parts[1:]  # parts[0] is text before the first key: not a field


def parse_extension(text: str) -> list[tuple[str, str]]:
    """``(key, value)`` pairs of a CEF extension, values trimmed and unescaped, in order."""
    flat = split_extension(text)
    pairs: list[tuple[str, str]] = []
    for i in range(0, len(flat), 2):
        value = flat[i + 1].rstrip()
        pairs.append((flat[i], _unescape_value(value) if "\\" in value else value))
    return pairs


def parse_cef_time(value: str, ctx: ParseContext, tz: tzinfo | None = None) -> int | None:
    """A CEF timestamp in ns: epoch ms, ``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]`` or ISO 8601."""
    v = value.strip()
    if not v:
        return None
    if v.isascii() and v.isdigit():
        number = int(v)
        # 10 digits or fewer cannot be milliseconds after 1970-04: those senders give seconds.
        ns = number * NS_PER_S if len(v) <= 10 else number * 1_000_000
        return ns if 0 <= ns < 2**63 else None
    default = tz or ctx.timezone
    try:
        if v[:4].isdigit() and v[4:5] == "-":
            return iso_to_ns(v, default)
        m = _CEF_DATE.match(v)
        if m is None:
            return None
        mon, day, year, hh, mm, ss, frac, zone = m.groups()
        month = MONTHS.get(mon)
        zone_tz = zone_from_text(zone) if zone else default
        if month is None or zone_tz is None:
            return None
        d, h, mi, s = int(day), int(hh), int(mm), int(ss)
        if year is not None:
            y = int(year)
        elif ctx.year is not None:
            y = ctx.year
        else:
            y = infer_year(month, d, h, mi, s, zone_tz, ctx.received or time.time_ns())
        return civil_to_ns(y, month, d, h, mi, s, fraction_ns(frac or ""), zone_tz)
    except TimeFieldError:
        return None


def _severity(text: str) -> int | None:
    v = text.strip()
    number = _as_int(v)
    if number is not None:
        return number if 0 <= number <= 10 else None
    return _SEVERITY_WORDS.get(v.lower())


class CefParser:
    """CEF records (optionally behind a syslog header) → flat events."""

    name = "cef"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        if line.startswith("CEF:"):
            event = self.parse_body(line[4:], ctx)
            if "@timestamp" not in event:
                event["@timestamp"] = ctx.received or time.time_ns()
            return event
        if "CEF:" not in line:
            raise ParseError("no 'CEF:' header", parser=self.name, offset=0)
        from heron.parsers.syslog import SyslogParser  # the syslog parser imports this one

        try:
            event = SyslogParser().parse(line, ctx)
        except ParseError as exc:
            reason = f"text before 'CEF:' is not a syslog header ({exc.reason})"
            raise ParseError(reason, parser=self.name) from None
        if "cef.version" not in event:
            raise ParseError("text before 'CEF:' is not a syslog header", parser=self.name)
        return event

    def parse_body(self, text: str, ctx: ParseContext) -> Event:
        """The event of the CEF record after ``CEF:``; without ``@timestamp`` if it has no time."""
        header, extension = split_header(text, self.name)
        version, vendor, product, dev_version, signature, name, severity = header
        stripped = version.strip()
        if not stripped or not (stripped.isascii() and stripped.replace(".", "").isdigit()):
            raise ParseError(f"bad CEF version {version[:16]!r}", parser=self.name)
        event: Event = {
            "cef.version": version,
            "cef.device_vendor": vendor,
            "cef.device_product": product,
            "cef.device_version": dev_version,
            "cef.signature_id": signature,
            "cef.name": name,
            "cef.severity": severity,
            "event.kind": "event",
        }
        if vendor:
            event["observer.vendor"] = vendor
        if product:
            event["observer.product"] = product
        if dev_version:
            event["observer.version"] = dev_version
        if signature:
            event["event.code"] = signature
        sev = _severity(severity)
        if sev is not None:
            event["event.severity"] = sev
        if extension:
            self._extension(extension, event, ctx)
        if name and "message" not in event:
            # The CEF name is the human-readable description of the event.
            event["message"] = name
        return event

    def _extension(self, text: str, event: Event, ctx: ParseContext) -> None:
        text = text.rstrip()
        flat = split_extension(text)
        it = iter(flat)
        if "\\" in text or "  " in text or "= " in text or "\t" in text or text.endswith("="):
            # Escapes, empty values or padded values: trim and unescape one by one.
            pairs = {}
            for key, raw in zip(it, it, strict=True):
                value = raw.rstrip()
                if value:
                    pairs[key] = _unescape_value(value) if "\\" in value else value
        else:
            pairs = dict(zip(it, it, strict=True))  # the common case, at C speed
        event.update(pairs)
        times: list[tuple[str, str]] = []
        for key, value in pairs.items():  # in order: later keys win a shared ECS field
            spec = _MAPPING.get(key)
            if spec is None:
                continue
            field, convert = spec
            if field is _AS_EXTENSION:
                # A vendor key spelled like a typed core field must not break its type.
                event[_AS_EXTENSION + key] = event.pop(key)
            elif field is _TIME:
                times.append((_FULL.get(key, key), value))
            elif convert is None:
                event[field] = value
            else:
                mapped = convert(value)
                if mapped is not None and mapped != "":
                    event[field] = mapped
        if "Label=" in text:
            self._labels(event)
        user = event.get("source.user.name") or event.get("destination.user.name")
        if user:
            event["user.name"] = user
        digest = event.get("fileHash")
        if digest and digest.isascii() and len(digest) in _HASHES:
            event[f"file.hash.{_HASHES[len(digest)]}"] = digest.lower()
        if times:
            self._times(times, event, ctx)

    def _times(self, times: list[tuple[str, str]], event: Event, ctx: ParseContext) -> None:
        zone = zone_from_text(event.get("dtz") or event.get("deviceTimeZone") or "")
        found: dict[str, int] = {}
        for full, value in times:
            ns = parse_cef_time(value, ctx, zone)
            if ns is not None:
                found[full] = ns
                if full in _TIME_ECS:
                    event[_TIME_ECS[full]] = ns
        for full in _TIME_ORDER:
            if full in found:
                event["@timestamp"] = found[full]
                break

    def _labels(self, event: Event) -> None:
        # ``cs1Label=Threat cs1=Bad`` → ``Threat: Bad``; a field already set is never replaced.
        for key in [k for k in event if k.endswith("Label") and len(k) > 5]:
            label = event[key]
            value = event.get(key[:-5])
            if isinstance(label, str) and value is not None and label not in event:
                event[label] = value
