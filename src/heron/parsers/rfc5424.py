"""RFC 5424 syslog: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG``.

``-`` (NILVALUE) leaves a field out; a nil TIMESTAMP takes ``ParseContext.received``.
Fractions of a second are kept to the nanosecond. Structured data elements become
``log.syslog.structured_data.<SD-ID>.<PARAM-NAME>`` (a list when a name repeats in one
element), with the ``\\"``, ``\\\\`` and ``\\]`` escapes undone. A UTF-8 BOM before MSG
is dropped. ECS: ``log.syslog.{appname,procid,msgid,version}``, ``host.name``,
``process.name`` (= APP-NAME), ``process.pid`` when PROCID is a number, ``message``.
"""

from __future__ import annotations

import time

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.rfc3164 import add_priority, parse_pri
from heron.parsers.syslog_time import TimeFieldError, iso_to_ns

__all__ = ["SD_PREFIX", "Rfc5424Parser", "is_rfc5424"]

SD_PREFIX = "log.syslog.structured_data."
_BOM = "\ufeff"


def is_rfc5424(line: str) -> bool:
    """Whether a line looks like RFC 5424: ``<PRI>`` directly followed by a version and a space."""
    end = line.find(">", 1, 6)
    if end < 0 or not line.startswith("<"):
        return False
    i = end + 1
    j = i
    while j < len(line) and j - i < 3 and "0" <= line[j] <= "9":
        j += 1
    return j > i and line[j : j + 1] == " "


class Rfc5424Parser:
    """RFC 5424 lines → flat events (see the module docstring)."""

    name = "rfc5424"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        if not line.startswith("<"):
            raise ParseError("RFC 5424 line must start with <PRI>", parser=self.name, offset=0)
        pri, pos = parse_pri(line, self.name)
        space = line.find(" ", pos)
        version = line[pos:space] if space > 0 else line[pos:]
        if (
            not version
            or not (version.isascii() and version.isdigit())
            or len(version) > 3
            or version[0] == "0"
        ):
            raise ParseError(
                f"missing VERSION after PRI (got {version[:8]!r})", parser=self.name, offset=pos
            )
        parts = line[space + 1 :].split(" ", 5)
        if len(parts) < 6:
            raise ParseError(
                f"RFC 5424 header has {len(parts)} of 6 fields after VERSION "
                "(TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA)",
                parser=self.name,
                offset=space + 1,
            )
        stamp, host, app, procid, msgid, rest = parts
        for label, value in (
            ("TIMESTAMP", stamp),
            ("HOSTNAME", host),
            ("APP-NAME", app),
            ("PROCID", procid),
            ("MSGID", msgid),
        ):
            if not value:
                raise ParseError(f"empty {label} (two spaces in the header)", parser=self.name)
        event: Event = {}
        if stamp == "-":
            event["@timestamp"] = ctx.received or time.time_ns()
        else:
            try:
                event["@timestamp"] = iso_to_ns(stamp, ctx.timezone)
            except TimeFieldError as exc:
                raise ParseError(f"bad TIMESTAMP {stamp[:40]!r}: {exc}", parser=self.name) from None
        add_priority(event, pri)
        event["log.syslog.version"] = version
        if host != "-":
            event["host.name"] = host
        if app != "-":
            event["log.syslog.appname"] = app
            event["process.name"] = app
        if procid != "-":
            event["log.syslog.procid"] = procid
            if procid.isascii() and procid.isdigit() and len(procid) < 19:
                event["process.pid"] = int(procid)
        if msgid != "-":
            event["log.syslog.msgid"] = msgid
        message = self._structured_data(rest, event)
        if message is not None:
            if message.startswith(_BOM):
                message = message[1:]
            event["message"] = message
        return event

    def _structured_data(self, text: str, event: Event) -> str | None:
        """Store SD elements in ``event``; return the MSG after them (None when absent)."""
        if text.startswith("-"):
            if len(text) == 1:
                return None
            if text[1] == " ":
                return text[2:]
            raise ParseError(
                f"malformed STRUCTURED-DATA {text[:24]!r} (expected '-' or '[')",
                parser=self.name,
            )
        if not text.startswith("["):
            raise ParseError(
                f"malformed STRUCTURED-DATA {text[:24]!r} (expected '-' or '[')",
                parser=self.name,
            )
        n = len(text)
        i = 0
        while i < n and text[i] == "[":
            i = self._element(text, i, event)
        if i == n:
            return None
        if text[i] == " ":
            return text[i + 1 :]
        raise ParseError(
            f"unexpected {text[i]!r} after STRUCTURED-DATA at offset {i}", parser=self.name
        )

    def _element(self, text: str, start: int, event: Event) -> int:
        """Parse ``[id name="value" …]`` at ``start``; return the offset after ``]``."""
        n = len(text)
        i = start + 1
        j = i
        while j < n and text[j] not in ' ]="':
            j += 1
        sd_id = text[i:j]
        if j >= n:
            raise ParseError(f"unterminated SD element {sd_id!r}", parser=self.name)
        if not sd_id or text[j] in '="':
            raise ParseError(f"malformed SD-ID at offset {start}", parser=self.name)
        prefix = f"{SD_PREFIX}{sd_id}."
        i = j
        while True:
            if i >= n:
                raise ParseError(f"unterminated SD element {sd_id!r}", parser=self.name)
            c = text[i]
            if c == "]":
                return i + 1
            if c != " ":
                raise ParseError(
                    f"unexpected {c!r} in SD element {sd_id!r} at offset {i}", parser=self.name
                )
            eq = text.find("=", i + 1)
            if eq < 0 or eq + 1 >= n or text[eq + 1] != '"':
                raise ParseError(
                    f'malformed SD-PARAM in {sd_id!r} (expected name="value")',
                    parser=self.name,
                )
            name = text[i + 1 : eq]
            if not name or " " in name or "]" in name:
                raise ParseError(f"malformed PARAM-NAME in {sd_id!r}", parser=self.name)
            value, i = _quoted(text, eq + 2)
            if i < 0:
                raise ParseError(f"unterminated PARAM-VALUE for {sd_id}.{name}", parser=self.name)
            key = prefix + name
            old = event.get(key)
            if old is None:
                event[key] = value
            elif isinstance(old, list):
                old.append(value)
            else:
                event[key] = [old, value]


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of a PARAM-VALUE starting after its opening quote, and the offset after it.

    ``\\"``, ``\\\\`` and ``\\]`` are unescaped; any other backslash is kept as the RFC
    says. Returns offset -1 when the closing quote is missing.
    """
    end = text.find('"', start)
    if end < 0:
        return "", -1
    if text.find("\\", start, end) < 0:
        return text[start:end], end + 1
    out: list[str] = []
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in '"\\]':
                out.append(nxt)
            else:
                out.append(c)
                out.append(nxt)
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "", -1
