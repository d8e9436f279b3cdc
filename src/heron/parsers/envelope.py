"""Vendor messages behind a syslog header: the header's fields and the message inside.

Appliances and relays put the same vendor message behind many headers: none (a file
written by the product), ``<PRI>`` alone, a BSD header (``Jan 11 10:13:05 fw01 …``), an
RFC 5424 header, or a header ending in the program tag (``… web01 nginx: …``). Vendor
parsers call ``unwrap`` with the index where their own message starts (or -1 when they
cannot tell) and get the header's fields, parsed by the shared syslog parsers
(``heron.parsers.rfc3164`` / ``rfc5424``), and the message.
"""

from __future__ import annotations

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.rfc3164 import Rfc3164Parser, add_priority, parse_pri

__all__ = ["HEADER_FIELDS", "unwrap"]

#: Fields a syslog header contributes to the vendor event.
HEADER_FIELDS = (
    "@timestamp",
    "host.name",
    "log.syslog.priority",
    "log.syslog.facility.code",
    "log.syslog.facility.name",
    "log.syslog.severity.code",
    "log.syslog.severity.name",
)
_BSD_PARSER = Rfc3164Parser()


def _is_5424(line: str) -> bool:
    end = line.find(">", 1, 5)
    return line.startswith("<") and end > 0 and line[end + 1 : end + 3] == "1 "


def _header_of(line: str, ctx: ParseContext) -> Event:
    if _is_5424(line):
        from heron.parsers.rfc5424 import Rfc5424Parser  # written alongside; imported on use

        parsed: Event = Rfc5424Parser().parse(line, ctx)
    else:
        parsed = _BSD_PARSER.parse(line, ctx)
    return parsed


def unwrap(raw: str, start: int, ctx: ParseContext, parser: str) -> tuple[Event, str]:
    """(header fields, vendor message) of ``raw`` whose message begins at ``start``.

    ``start`` 0: no header. ``start`` > 0: the text before it is the header. ``start``
    -1: the whole line is read as syslog and its message (after the program tag) is the
    vendor message. A header that cannot be read raises ``ParseError``.
    """
    if start == 0:
        return {}, raw
    header: Event = {}
    if start > 0:
        prefix = raw[:start].rstrip()
        message = raw[start:]
        if prefix.startswith("<") and prefix.endswith(">"):
            pri, _ = parse_pri(prefix, parser)
            add_priority(header, pri)
            return header, message
        try:
            parsed = _header_of(prefix.rstrip(":").rstrip(), ctx)
        except ParseError as exc:
            raise ParseError(f"unreadable syslog header: {exc.reason}", parser=parser) from None
    else:
        try:
            parsed = _header_of(raw, ctx)
        except ParseError as exc:
            raise ParseError(f"unreadable syslog header: {exc.reason}", parser=parser) from None
        message = str(parsed.get("message", ""))
    for name in HEADER_FIELDS:
        if name in parsed:
            header[name] = parsed[name]
    if start < 0 and "process.name" in parsed:
        header["process.name"] = parsed["process.name"]
    return header, message
