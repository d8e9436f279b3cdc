"""Zeek logs (conn, dns, http and any other), JSON or TSV, with their fields and ECS.

**JSON** (``LogAscii::use_json=T``): one object a line. The log type comes from ``_path``
(Zeek writes it when logs are streamed) or from the file name (``conn.log``,
``dns.2024-01-01-00-00-00.log.gz``, via ``ParseContext.source``).

**TSV** (Zeek's default): the columns of a data line are only known from the
``#fields`` / ``#types`` header lines at the top of the file, so a line alone cannot be
parsed. ``ZeekTsvReader`` holds that per-file state: it is fed the lines of one file in
order, reads the header lines (``#separator``, ``#set_separator``, ``#empty_field``,
``#unset_field``, ``#path``, ``#fields``, ``#types``; a new header mid-file, as after a
rotation or ``cat`` of two files, replaces the old one) and turns each data line into the
dict Zeek's JSON writer would have written for it (typed: counts as ints, sets as lists,
unset fields left out). ``iter_zeek_tsv(lines)`` yields those dicts and
``iter_zeek_tsv_records(lines)`` their JSON text, so a file reader hands TSV files to the
same ``zeek`` parser as JSON ones and ``ZeekParser`` stays stateless.

Vendor fields keep Zeek's names (``id.orig_h``, ``query``, ``uri``: the names SigmaHQ's
``product: zeek`` rules use). ``event.dataset`` is ``zeek.<path>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, is_ip, put, put_int, transport
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value
from heron.parsers.suricata import load_json_object

__all__ = ["ZeekParser", "ZeekTsvReader", "iter_zeek_tsv", "iter_zeek_tsv_records"]

_NS = 1_000_000_000
_INT_TYPES = frozenset({"count", "int", "port"})
_FLOAT_TYPES = frozenset({"double", "interval", "time"})
_FAILED_STATES = frozenset({"REJ", "S0", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"})


def _unescape(text: str) -> str:
    if "\\x" not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        j = text.find("\\x", i)
        if j < 0 or j + 4 > len(text):
            out.append(text[i:])
            return "".join(out)
        try:
            out.append(text[i:j] + chr(int(text[j + 2 : j + 4], 16)))
        except ValueError:
            out.append(text[i : j + 2])
            i = j + 2
            continue
        i = j + 4


class ZeekTsvReader:
    """The per-file state of a Zeek TSV log: its header, and data lines turned into dicts."""

    def __init__(self, path: str = "") -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty_field = "(empty)"
        self.unset_field = "-"
        self.path = path
        self.fields: list[str] = []
        self.types: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """The record of a data line; None for a header line. ParseError before ``#fields``."""
        line = line.rstrip("\r\n")
        if line.startswith("#"):
            self._header(line)
            return None
        if not line:
            return None
        if not self.fields:
            raise ParseError("Zeek TSV data line before its #fields header", parser="zeek")
        values = line.split(self.separator)
        if len(values) != len(self.fields):
            raise ParseError(
                f"{len(values)} columns where #fields names {len(self.fields)}", parser="zeek"
            )
        record: dict[str, Any] = {"_path": self.path} if self.path else {}
        for name, kind, value in zip(self.fields, self.types, values, strict=False):
            if value == self.unset_field:
                continue
            record[name] = self._value(kind, value)
        return record

    def _header(self, line: str) -> None:
        if line.startswith("#separator"):
            sep = line[len("#separator") :].strip()
            self.separator = _unescape(sep) if sep else "\t"
            return
        key, _, rest = line[1:].partition(self.separator)
        if key == "set_separator":
            self.set_separator = _unescape(rest)
        elif key == "empty_field":
            self.empty_field = rest
        elif key == "unset_field":
            self.unset_field = rest
        elif key == "path":
            self.path = rest
        elif key == "fields":
            self.fields = rest.split(self.separator)
            self.types = ["string"] * len(self.fields)
        elif key == "types":
            types = rest.split(self.separator)
            if len(types) == len(self.fields):
                self.types = types

    def _value(self, kind: str, value: str) -> Any:
        if kind.startswith(("set[", "vector[")):
            if value == self.empty_field:
                return []
            inner = kind[kind.index("[") + 1 : -1]
            return [self._value(inner, _unescape(v)) for v in value.split(self.set_separator)]
        if value == self.empty_field:
            return ""
        if kind in _INT_TYPES:
            number = as_int(value)
            return number if number is not None else value
        if kind in _FLOAT_TYPES:
            try:
                return float(value)
            except ValueError:
                return value
        if kind == "bool":
            return value == "T"
        return _unescape(value)


def iter_zeek_tsv(lines: Iterable[str], path: str = "") -> Iterator[dict[str, Any]]:
    """The records of one Zeek TSV file, in order (``path``: the log type if no ``#path``)."""
    reader = ZeekTsvReader(path)
    for line in lines:
        record = reader.feed(line)
        if record is not None:
            yield record


def iter_zeek_tsv_records(lines: Iterable[str], path: str = "") -> Iterator[str]:
    """The records of one Zeek TSV file as JSON text, for ``ZeekParser``."""
    for record in iter_zeek_tsv(lines, path):
        yield orjson.dumps(record).decode()


def log_type_of(source: str) -> str:
    """``conn`` for ``/x/conn.log``, ``conn.00:00:00-01:00:00.log.gz``, ``dns.log``."""
    name = PurePath(source).name
    return name.partition(".")[0] if name else ""


def _conn(event: Event, doc: dict[str, Any]) -> None:
    event["event.category"] = ["network"]
    event["event.type"] = ["connection"]
    put(event, "network.protocol", doc.get("service"))
    for name, key in (
        ("source.bytes", "orig_bytes"),
        ("destination.bytes", "resp_bytes"),
        ("source.packets", "orig_pkts"),
        ("destination.packets", "resp_pkts"),
    ):
        put_int(event, name, doc.get(key))
    if "source.bytes" in event and "destination.bytes" in event:
        event["network.bytes"] = event["source.bytes"] + event["destination.bytes"]
    if "source.packets" in event and "destination.packets" in event:
        event["network.packets"] = event["source.packets"] + event["destination.packets"]
    state = doc.get("conn_state")
    if isinstance(state, str) and state:
        event["event.outcome"] = "failure" if state in _FAILED_STATES else "success"
    local_orig, local_resp = doc.get("local_orig"), doc.get("local_resp")
    if isinstance(local_orig, bool) and isinstance(local_resp, bool):
        event["network.direction"] = {
            (True, True): "internal",
            (True, False): "outbound",
            (False, True): "inbound",
            (False, False): "external",
        }[(local_orig, local_resp)]


def _dns(event: Event, doc: dict[str, Any]) -> None:
    event["event.category"] = ["network"]
    event["event.type"] = ["protocol", "info"]
    event["network.protocol"] = "dns"
    put(event, "dns.question.name", doc.get("query"))
    put(event, "dns.question.type", doc.get("qtype_name"))
    put(event, "dns.question.class", doc.get("qclass_name"))
    put(event, "dns.response_code", doc.get("rcode_name"))
    if doc.get("trans_id") is not None:
        event["dns.id"] = str(doc["trans_id"])
    flags = [flag for flag in ("AA", "TC", "RD", "RA") if doc.get(flag) is True]
    if flags:
        event["dns.header_flags"] = flags
    answers = doc.get("answers")
    if isinstance(answers, list):
        resolved = [a for a in answers if isinstance(a, str) and is_ip(a)]
        if resolved:
            event["dns.resolved_ip"] = resolved


def _http(event: Event, doc: dict[str, Any]) -> None:
    event["event.category"] = ["network", "web"]
    event["event.type"] = ["connection", "protocol"]
    event["network.protocol"] = "http"
    put(event, "http.request.method", doc.get("method"))
    put(event, "url.domain", doc.get("host"))
    uri = doc.get("uri")
    if isinstance(uri, str) and uri:
        event["url.original"] = uri
        path, question, query = uri.partition("?")
        event["url.path"] = path
        if question:
            event["url.query"] = query
    put(event, "http.request.referrer", doc.get("referrer"))
    put(event, "user_agent.original", doc.get("user_agent"))
    put(event, "http.version", doc.get("version"))
    put(event, "user.name", doc.get("username"))
    put_int(event, "http.request.body.bytes", doc.get("request_body_len"))
    put_int(event, "http.response.body.bytes", doc.get("response_body_len"))
    status = as_int(doc.get("status_code"))
    if status is not None:
        event["http.response.status_code"] = status
        event["event.outcome"] = "failure" if status >= 400 else "success"
    mime = doc.get("resp_mime_types")
    if isinstance(mime, list) and mime and isinstance(mime[0], str):
        event["http.response.mime_type"] = mime[0]


_BY_PATH = {"conn": _conn, "dns": _dns, "http": _http}


class ZeekParser:
    """One Zeek record as JSON: a JSON log line, or a TSV line via ``iter_zeek_tsv_records``."""

    name = "zeek"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        if "\t" in raw and not raw.lstrip().startswith("{"):
            raise ParseError(
                "a Zeek TSV line needs its file's #fields header: read TSV files with "
                "heron.parsers.zeek.iter_zeek_tsv_records",
                parser=self.name,
            )
        doc, header = load_json_object(raw, ctx, self.name)
        path = doc.get("_path")
        log_type = path if isinstance(path, str) and path else log_type_of(ctx.source)
        if "ts" not in doc or not log_type:
            raise ParseError(
                "not a Zeek record: no ts, or no _path and no log file name", parser=self.name
            )
        event = flatten_json(doc, max_depth=ctx.max_json_depth, parser=self.name)
        event.pop("_path", None)
        # Read through the flat form: Zeek writes ``"id.orig_h"`` keys, some shippers nest them.
        doc = dict(event)
        stamp = parse_time_value(doc.get("ts"))
        event["@timestamp"] = stamp if stamp is not None else header.get("@timestamp", ctx.received)
        event["event.module"] = "zeek"
        event["event.dataset"] = f"zeek.{log_type}"
        event["event.kind"] = "event"
        event["observer.vendor"] = "Zeek"
        event["observer.product"] = "Zeek"
        event["observer.type"] = "ids"
        put(event, "observer.hostname", header.get("host.name"))
        put(event, "source.ip", doc.get("id.orig_h"))
        put_int(event, "source.port", doc.get("id.orig_p"))
        put(event, "destination.ip", doc.get("id.resp_h"))
        put_int(event, "destination.port", doc.get("id.resp_p"))
        put(event, "network.transport", transport(doc.get("proto")))
        put(event, "network.community_id", doc.get("community_id"))
        duration = doc.get("duration")
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
            event["event.duration"] = round(duration * _NS)
        mapper = _BY_PATH.get(log_type)
        if mapper is not None:
            mapper(event, doc)
        coerce_core_fields(event)
        return event
