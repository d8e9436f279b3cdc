"""Apache httpd error log lines (2.2 and 2.4 formats), with ModSecurity's messages.

Accepted shapes::

    [Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server …
    [Tue Sep 30 11:30:13.262255 2014] [core:error] [pid 20101:tid 4328]
        [client 99.47.227.95:34567] AH00037: …   (one line)
    [error] [client 80.230.208.105] Directory index forbidden by rule: /home/

The time is the server's local time without a zone: read in ``--timezone`` (UTC unless
given), as zone-less syslog times are; a line without one (as Apache writes to syslog,
whose header has the time) takes the receive time. ``log.level`` is Apache's level,
``apache.error.module`` the 2.4 module (``core``, ``ssl``), ``error.code`` the
``AHnnnnn`` message id; the ``[client …]`` address becomes ``source.*``.

ModSecurity writes its alerts here (``ModSecurity: Access denied with code 403 …
[id "942100"] [msg "SQL Injection Attack Detected via libinjection"] [uri "/login"]``):
each bracketed ``[name "value"]`` is kept as ``modsecurity.<name>`` (``tag``s as a list),
``id`` and ``msg`` also as ``rule.id`` and ``rule.description``, the ``uri`` as
``url.path``, and a request it denied has ``event.outcome`` ``failure`` with its status
in ``http.response.status_code``.
"""

from __future__ import annotations

import re

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import is_ip, split_host_port, unmap_ip
from heron.parsers.syslog_time import MONTHS, TimeFieldError, civil_to_ns, fraction_ns

__all__ = ["ApacheErrorParser", "is_apache_error"]

_NAME = "apache_error"
_TIME = re.compile(
    r"\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) "
    r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (\d{4})\] "
)
#: Apache's levels (``trace1`` … ``trace8`` included), alone or as ``module:level``.
_LEVEL = re.compile(
    r"\[(?:([\w.-]*):)?(emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\] "
)
_PID = re.compile(r"\[pid (\d+)(?::tid (\d+))?\] ")
_CLIENT = re.compile(r"\[(?:client|remote) ([^\]]+)\] ")
_CODE = re.compile(r"(AH\d{5}): ")
_MODSEC_FIELD = re.compile(r'\[(\w+) "((?:[^"\\]|\\.)*)"\]')
_MODSEC_DENIED = re.compile(r"Access denied with code (\d{3})")
_SERIOUS = frozenset({"emerg", "alert", "crit", "error"})


def is_apache_error(line: str) -> bool:
    """Whether a line starts the way Apache's error log lines do (for auto-detection)."""
    return bool(_TIME.match(line) or _LEVEL.match(line))


class ApacheErrorParser:
    """One Apache httpd error log line."""

    name = _NAME

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        line = raw.rstrip("\r\n")
        event: Event = {}
        pos = 0
        stamp = _TIME.match(line)
        if stamp is not None:
            mon, day, hh, mm, ss, frac, year = stamp.groups()
            month = MONTHS.get(mon)
            if month is None:
                raise ParseError(f"unknown month {mon!r}", parser=_NAME, offset=1)
            try:
                event["@timestamp"] = civil_to_ns(
                    int(year), month, int(day), int(hh), int(mm), int(ss),
                    fraction_ns(frac or ""), ctx.timezone,
                )  # fmt: skip
            except TimeFieldError as exc:
                raise ParseError(f"bad timestamp: {exc}", parser=_NAME, offset=1) from None
            pos = stamp.end()
        level = _LEVEL.match(line, pos)
        if level is None:
            raise ParseError("no Apache error log level ([error], [core:warn] …)", parser=_NAME)
        module, name = level.groups()
        event["log.level"] = name
        if module:
            event["apache.error.module"] = module
        pos = level.end()
        pid = _PID.match(line, pos)
        if pid is not None:
            event["process.pid"] = int(pid.group(1))
            if pid.group(2):
                event["process.thread.id"] = int(pid.group(2))
            pos = pid.end()
        client = _CLIENT.match(line, pos)
        if client is not None:
            # ModSecurity on 2.4 repeats it: ``[client 1.2.3.4:5678] [client 1.2.3.4]``.
            again = _CLIENT.match(line, client.end())
            while again is not None:
                pos, again = again.end(), _CLIENT.match(line, again.end())
            address = client.group(1)
            host, port = split_host_port(address)
            if "apache.error.module" in event and port is None and address.count(":") > 1:
                # 2.4 writes an IPv6 client with its port and no brackets: 2001:db8::1:443.
                head, _, tail = address.rpartition(":")
                if tail.isdigit() and is_ip(head):
                    host, port = head, int(tail)
            event["source.address"] = address
            if is_ip(unmap_ip(host)):
                event["source.ip"] = unmap_ip(host)
            if port is not None:
                event["source.port"] = port
            pos = max(pos, client.end())
        message = line[pos:]
        code = _CODE.match(message)
        if code is not None:
            event["error.code"] = code.group(1)
        event["message"] = message
        event.setdefault("@timestamp", ctx.received)
        event["event.kind"] = "event"
        event["event.module"] = "apache"
        event["event.dataset"] = "apache.error"
        event["event.category"] = ["web"]
        event["event.type"] = ["error"] if name in _SERIOUS else ["info"]
        if message.startswith("ModSecurity: "):
            _modsecurity(message, event)
        return event


def _modsecurity(message: str, event: Event) -> None:
    tags: list[str] = []
    for key, value in _MODSEC_FIELD.findall(message):
        value = value.replace('\\"', '"')
        if key == "tag":
            tags.append(value)
        else:
            event.setdefault(f"modsecurity.{key}", value)
    if tags:
        event["modsecurity.tag"] = tags
    if "modsecurity.id" in event:
        event["rule.id"] = event["modsecurity.id"]
    if "modsecurity.msg" in event:
        event["rule.description"] = event["modsecurity.msg"]
    if "modsecurity.uri" in event:
        event["url.path"] = event["modsecurity.uri"]
    event["event.category"] = ["web", "intrusion_detection"]
    denied = _MODSEC_DENIED.search(message)
    if denied is not None:
        event["event.type"] = ["denied"]
        event["event.outcome"] = "failure"
        event["http.response.status_code"] = int(denied.group(1))
    else:
        event["event.type"] = ["info"]
