"""W3C extended log files, as IIS writes them by default (``u_ex<date>.log``).

A data line means nothing without its file's ``#Fields:`` header, so a file is read by
``W3cReader`` (one per file, fed its lines in order; a new header mid-file, as after a
restart, replaces the old one), which turns each data line into a record of the
header's names; the ``iis`` parser reads such a record as JSON text. The W3C names
are kept, in the spelling SigmaHQ's ``webserver`` rules use (``cs-uri-query``,
``c-useragent``, ``cs-referer``; IIS writes ``cs(User-Agent)``, ``cs(Referer)``), and
the ECS fields are added:

- ``date`` + ``time`` (UTC, IIS's default) → ``@timestamp``; ``time-taken`` (ms) →
  ``event.duration``;
- ``c-ip`` → ``source.ip``, ``s-ip``/``s-port`` → ``destination.*``, ``cs-username`` →
  ``user.name``, ``s-computername``/``s-sitename`` → ``host.name`` / ``service.name``;
- ``cs-method``, ``cs-uri-stem``, ``cs-uri-query``, ``sc-status``, ``cs-bytes``,
  ``sc-bytes``, ``cs-host``, ``cs-version`` → ``http.*`` and ``url.*``;
  ``c-useragent`` → ``user_agent.original`` (IIS writes its spaces as ``+``).

``-`` is W3C's empty value: such fields are left out.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.timeutil import parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, is_ip, unmap_ip

__all__ = ["W3cParser", "W3cReader"]

_NAME = "iis"
#: IIS's names → the ones SigmaHQ's webserver rules use.
_SIGMA_NAMES = {
    "cs(User-Agent)": "c-useragent",
    "cs(Referer)": "cs-referer",
    "cs(Cookie)": "cs-cookie",
}
_TEXT = {
    "cs-method": "http.request.method",
    "cs-uri-stem": "url.path",
    "cs-uri-query": "url.query",
    "cs-username": "user.name",
    "cs-host": "url.domain",
    "cs-referer": "http.request.referrer",
    "s-computername": "host.name",
    "s-sitename": "service.name",
}
_NUMBERS = {
    "sc-status": "http.response.status_code",
    "s-port": "destination.port",
    "sc-bytes": "http.response.bytes",
    "cs-bytes": "http.request.bytes",
}


class W3cReader:
    """The per-file state of a W3C extended log: its ``#Fields:``, data lines as dicts."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def feed(self, line: str) -> dict[str, str] | None:
        """The record of a data line; None for a directive. ParseError before ``#Fields``."""
        line = line.rstrip("\r\n")
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                self.fields = [_SIGMA_NAMES.get(n, n) for n in line[len("#Fields:") :].split()]
            return None
        if not line.strip():
            return None
        if not self.fields:
            raise ParseError("W3C log data line before its #Fields: header", parser=_NAME)
        values = line.split(" ")
        if len(values) != len(self.fields):
            raise ParseError(
                f"{len(values)} values where #Fields: names {len(self.fields)}", parser=_NAME
            )
        return {k: v for k, v in zip(self.fields, values, strict=True) if v != "-"}


class W3cParser:
    """One W3C record, as JSON text of its fields (``W3cReader`` makes those)."""

    name = _NAME

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(
                f"not a W3C record (read W3C files with their #Fields: header): {exc}",
                parser=_NAME,
            ) from None
        if not isinstance(record, dict) or not all(isinstance(v, str) for v in record.values()):
            raise ParseError("a W3C record is an object of text fields", parser=_NAME)
        event: Event = dict(record)
        date, time = record.get("date"), record.get("time")
        event["@timestamp"] = ctx.received
        if date and time:
            try:
                event["@timestamp"] = parse_timestamp(f"{date}T{time}Z")
            except (ValueError, OverflowError):
                raise ParseError(f"bad date/time {date} {time}", parser=_NAME) from None
        for key, target in _TEXT.items():
            if key in record:
                event[target] = record[key]
        for key, target in _NUMBERS.items():
            number = as_int(record.get(key))
            if number is not None:
                event[target] = number
        agent = record.get("c-useragent")
        if agent:
            event["user_agent.original"] = agent.replace("+", " ")
        for key, side in (("c-ip", "source"), ("s-ip", "destination")):
            address = record.get(key)
            if address and is_ip(unmap_ip(address)):
                event[f"{side}.ip"] = unmap_ip(address)
        taken = as_int(record.get("time-taken"))
        if taken is not None:
            event["event.duration"] = taken * 1_000_000
        _finish(event)
        return event


def _finish(event: Event) -> None:
    path, query = event.get("url.path"), event.get("url.query")
    if isinstance(path, str):
        event["url.original"] = f"{path}?{query}" if query else path
        name = path.rsplit("/", 1)[-1]
        if "." in name:
            event["url.extension"] = name.rsplit(".", 1)[1].lower()
    version = event.get("cs-version")
    if isinstance(version, str) and version.startswith("HTTP/"):
        event["http.version"] = version[5:]
    status = event.get("http.response.status_code")
    event["event.kind"] = "event"
    event["event.module"] = "iis"
    event["event.dataset"] = "iis.access"
    event["event.category"] = ["web"]
    event["event.type"] = ["access"]
    if isinstance(status, int):
        event["event.outcome"] = "success" if status < 400 else "failure"
    related: Any = [event[k] for k in ("source.ip", "destination.ip") if k in event]
    if related:
        event["related.ip"] = list(dict.fromkeys(related))
