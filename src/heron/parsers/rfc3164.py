"""BSD syslog (RFC 3164) lines, as sent on the wire and as written to /var/log files.

Accepted shapes, with or without a leading ``<PRI>``::

    <34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8
    Aug  6 19:42:10 server01 sudo[18432]: alice : TTY=pts/0 ; ... (plain auth.log)
    Aug  6 2024 19:42:10 server01 ...                             (year after the day)
    2024-01-02T03:04:05.123456+01:00 host prog[pid]: msg          (rsyslog high precision)
    2020-03-23 06:47:42.801612-0700  host prog[pid]: msg          (space-separated ISO)

Lines without a year take ``ParseContext.year`` or, when that is None, the year that
puts them closest before ``ParseContext.received`` (December lines read in January
belong to last year). Lines without a zone are in ``ParseContext.timezone``.

Output: ``@timestamp``, ``host.name``, ``process.name``, ``process.pid`` (int; a
non-numeric one is kept as ``log.syslog.procid``), ``message`` and, when a PRI is
present, ``log.syslog.priority`` / ``facility.code`` / ``facility.name`` /
``severity.code`` / ``severity.name``. Facility names are syslog(3) keywords
(``auth``, ``local7``); severity names are ECS's examples (``Error``, ``Informational``).
"""

from __future__ import annotations

import re
import time

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.syslog_time import BsdClock, TimeFieldError, fraction_ns, iso_to_ns

__all__ = [
    "FACILITY_NAMES",
    "SEVERITY_NAMES",
    "Rfc3164Parser",
    "add_priority",
    "parse_pri",
    "split_tag",
]

FACILITY_NAMES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
)
SEVERITY_NAMES = (
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
)
_FACILITY_CODES = {name: code for code, name in enumerate(FACILITY_NAMES)}
_SEVERITY_CODES = {
    "emerg": 0,
    "panic": 0,
    "alert": 1,
    "crit": 2,
    "err": 3,
    "error": 3,
    "warning": 4,
    "warn": 4,
    "notice": 5,
    "info": 6,
    "debug": 7,
}

# [0-9], never \d: Python's \d accepts other scripts' digits that int() reads differently.
_BSD = re.compile(
    r"([A-Za-z]{3}) {1,2}([0-9]{1,2}) (?:([0-9]{4}) )?"
    r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9})[0-9]*)?(?: +|$)"
)
_ISO = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)(?: +|$)"
)
# The common case in one match: ``[<PRI>]Mmm dd hh:mm:ss host prog[pid]: msg``. Anything
# else (fractions, ISO times, IPv6 hosts, odd tags) takes the general path.
_FAST = re.compile(
    r"(?:<([0-9]{1,3})>)?([A-Z][a-z]{2}) {1,2}([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
    r"([^ :]+) ([^ :\[\]]+)(?:\[([0-9]{1,9})\]:[ \t]*|:[ \t]+|:$)(.*)",
    re.DOTALL,
)
_SOLARIS_ID = re.compile(r"\[ID ([0-9]+) ([a-z0-9]+)\.([a-z]+)\] ?")
_EMBEDDED = ("CEF:", "LEEF:")
_EMBEDDED_TAGS = frozenset({"CEF", "LEEF"})


def parse_pri(line: str, parser: str) -> tuple[int, int]:
    """The PRI value of a line starting with ``<`` and the offset just past ``>``."""
    end = line.find(">", 1, 6)
    text = line[1:end] if end > 0 else line[:6]
    if end < 0 or not text or not (text.isascii() and text.isdigit()) or len(text) > 3:
        shown = line[: end + 1] if end > 0 else line[:6]
        raise ParseError(f"malformed PRI {shown!r}", parser=parser, offset=0)
    pri = int(text)
    if pri > 191:
        raise ParseError(f"malformed PRI '<{text}>' (above 191)", parser=parser, offset=0)
    return pri, end + 1


def add_priority(event: Event, pri: int) -> None:
    """The ``log.syslog.*`` priority fields of a PRI value."""
    facility, severity = pri >> 3, pri & 7
    event["log.syslog.priority"] = pri
    event["log.syslog.facility.code"] = facility
    event["log.syslog.facility.name"] = FACILITY_NAMES[facility]
    event["log.syslog.severity.code"] = severity
    event["log.syslog.severity.name"] = SEVERITY_NAMES[severity]


def _tag_of(candidate: str) -> tuple[str, str | None] | None:
    """``name`` and ``pid`` text of a syslog tag such as ``sshd[123]``; None if not a tag."""
    if not candidate or " " in candidate:
        return None
    bracket = candidate.find("[")
    if bracket >= 0 and candidate.endswith("]"):
        return candidate[:bracket], candidate[bracket + 1 : -1]
    if ":" in candidate or "[" in candidate or "]" in candidate:
        return None
    return candidate, None


def split_tag(text: str) -> tuple[str | None, str | None, str]:
    """``(process name, pid text, message)`` of ``prog[pid]: msg``; no tag → (None, None, text)."""
    if text.startswith(_EMBEDDED):
        return None, None, text
    colon = text.find(":")
    if colon > 0:
        after = text[colon + 1 : colon + 2]
        tag = _tag_of(text[:colon])
        # ``prog:msg`` without a space is taken only with a pid, so URLs stay messages.
        if tag is not None and (after in ("", " ", "\t") or tag[1] is not None):
            return tag[0], tag[1], text[colon + 1 :].lstrip(" \t")
    # macOS style: ``kernel[0] message`` (or ``launchd[1] (detail): message``).
    space = text.find(" ")
    first = text if space < 0 else text[:space]
    if first.endswith("]") and "[" in first:
        tag = _tag_of(first)
        if tag is not None:
            return tag[0], tag[1], "" if space < 0 else text[space + 1 :]
    return None, None, text


class Rfc3164Parser:
    """BSD syslog and plain /var/log lines → flat events (see the module docstring)."""

    name = "rfc3164"

    def __init__(self) -> None:
        self._clock = BsdClock()

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        m = _FAST.match(line)
        if m is not None:
            pri, mon, day, hh, mm, ss, host, name, pid, message = m.groups()
            if name not in _EMBEDDED_TAGS and (pri is None or int(pri) <= 191):
                try:
                    ts = self._clock.to_ns(ctx, (mon, day, None), int(hh), int(mm), int(ss), 0)
                except TimeFieldError as exc:
                    raise ParseError(f"bad timestamp: {exc}", parser=self.name) from None
                event: Event = {
                    "@timestamp": ts,
                    "host.name": host,
                    "process.name": name,
                    "message": message,
                }
                if pid is not None:
                    event["process.pid"] = int(pid)
                if pri is not None:
                    add_priority(event, int(pri))
                if message.startswith("[ID "):
                    event["message"] = self._solaris_id(message, event, pri is None)
                return event
        return self._parse_general(line, ctx)

    def _parse_general(self, line: str, ctx: ParseContext) -> Event:
        if line.startswith("\ufeff"):
            return self.parse(line.lstrip("\ufeff"), ctx)  # a BOM at the start of a file
        event: Event = {}
        pos = 0
        pri = -1
        if line.startswith("<"):
            pri, pos = parse_pri(line, self.name)
        m = _BSD.match(line, pos)
        if m is not None:
            mon, day, year, hh, mm, ss, frac = m.groups()
            try:
                event["@timestamp"] = self._clock.to_ns(
                    ctx, (mon, day, year), int(hh), int(mm), int(ss), fraction_ns(frac or "")
                )
            except TimeFieldError as exc:
                raise ParseError(f"bad timestamp: {exc}", parser=self.name, offset=pos) from None
        else:
            m = _ISO.match(line, pos)
            if m is not None:
                try:
                    event["@timestamp"] = iso_to_ns(m.group(1), ctx.timezone)
                except TimeFieldError as exc:
                    raise ParseError(
                        f"bad timestamp: {exc}", parser=self.name, offset=pos
                    ) from None
            elif pri < 0:
                raise ParseError(
                    f"no timestamp at the start of the line: {line[:32]!r}",
                    parser=self.name,
                    offset=0,
                )
        if m is None:
            # RFC 3164 §4.3.3: a PRI followed by no valid time is all MSG (maybe with a tag).
            event["@timestamp"] = ctx.received or time.time_ns()
            name, pid, message = split_tag(line[pos:])
        else:
            rest = line[m.end() :]
            if not rest:
                raise ParseError("missing hostname after the timestamp", parser=self.name)
            name, pid, message = self._host_and_tag(rest, event)
        if pri >= 0:
            add_priority(event, pri)
        if name:
            event["process.name"] = name
        if pid is not None:
            if pid.isascii() and pid.isdigit() and len(pid) < 19:
                event["process.pid"] = int(pid)
            elif pid:
                event["log.syslog.procid"] = pid
        if message.startswith("[ID "):
            message = self._solaris_id(message, event, pri < 0)
        event["message"] = message
        return event

    def _host_and_tag(self, rest: str, event: Event) -> tuple[str | None, str | None, str]:
        space = rest.find(" ")
        first = rest if space < 0 else rest[:space]
        if first.startswith(_EMBEDDED):
            return None, None, rest
        if first.endswith(":") and _tag_of(first[:-1]) is not None:
            # No hostname: a local socket line such as ``<13>Feb  5 17:32:18 prog[9]: msg``.
            return split_tag(rest)
        event["host.name"] = first
        if space < 0:
            return None, None, ""
        return split_tag(rest[space + 1 :].lstrip(" "))

    def _solaris_id(self, message: str, event: Event, set_priority: bool) -> str:
        # Solaris: ``[ID 800047 auth.notice] text``: a message id and the priority in words.
        m = _SOLARIS_ID.match(message)
        if m is None:
            return message
        event["log.syslog.msgid"] = m.group(1)
        facility, severity = m.group(2), m.group(3)
        if set_priority and facility in _FACILITY_CODES and severity in _SEVERITY_CODES:
            add_priority(event, _FACILITY_CODES[facility] * 8 + _SEVERITY_CODES[severity])
        return message[m.end() :]
