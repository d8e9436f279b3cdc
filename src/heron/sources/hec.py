"""``type: hec``: the Splunk HTTP Event Collector protocol.

Routes: ``/services/collector`` and ``/services/collector/event`` (JSON events, one
after another, with or without newlines between them), ``/services/collector/raw``
(lines), ``/services/collector/ack`` (indexer acknowledgement) and
``/services/collector/health``. Credentials: ``Authorization: Splunk <token>`` (or
Basic with the token as password).

Without ``ack`` a 200 is sent only after the request's events are committed. With
``ack``, requests must name a channel (``X-Splunk-Request-Channel`` or ``?channel=``),
are answered as soon as they are queued with an ``ackId``, and ``/ack`` reports that id
true only once its batch is committed. Acknowledgement state lives in memory: after a
restart, ids issued before it read false and the client resends (at-least-once).

An event whose ``event`` is a JSON object becomes a JSON record with the envelope's
``time``, ``host`` and ``fields`` added where the object lacks them (plus
``splunk.source``/``sourcetype``/``index``); a string event goes to the parser its
``sourcetype`` names (``syslog``, ``linux_secure``, ``cef``, ``_json`` …) or, when it
looks like syslog/CEF/LEEF/JSON, to that parser; anything else is kept as ``message``.
Bad events are dead-lettered and the answer is Splunk's ``400 Invalid data format`` with
``invalid-event-number`` (0-based) after the good events of the request are committed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heron.config import HecSourceConfig
from heron.intake import Committed, IntakeClosedError, QueueFullError
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.parsers import FORMATS
from heron.sources.base import ListenPort, SourceRuntime
from heron.sources.file import RawChunk
from heron.sources.http import BodyError, authorized, read_body
from heron.sources.tokens import IngestTokens

__all__ = ["AckLedger", "HecSource", "split_json_objects"]

SCHEMES = ("splunk", "basic", "bearer")
MAX_CHANNELS = 10_000
MAX_ACKS_PER_CHANNEL = 100_000
CHANNEL_IDLE_S = 600.0

#: Splunk sourcetypes whose events Heron has a parser for.
SOURCETYPE_FORMATS = {
    "syslog": "syslog",
    "linux_secure": "syslog",
    "linux_messages_syslog": "syslog",
    "rfc5424_syslog": "syslog",
    "_json": "json",
    "json": "json",
    "cef": "cef",
    "leef": "leef",
    "linux_audit": "auditd",
    "aws:cloudtrail": "cloudtrail",
}


def _answer(status: int, text: str, code: int, **extra: Any) -> Response:
    body = {"text": text, "code": code, **extra}
    headers = {"WWW-Authenticate": "Splunk"} if status == 401 else None
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def split_json_objects(body: str) -> list[tuple[Any, str] | str]:
    """The JSON values of a HEC body in order: ``(value, text)``, or an error message.

    Values may follow each other directly or be separated by whitespace. After a
    syntax error, reading resumes at the next line that starts with ``{``.
    """
    out: list[tuple[Any, str] | str] = []
    pieces = body.split("\n")
    fast: list[tuple[Any, str] | str] = []
    for piece in pieces:
        text = piece.strip()
        if not text:
            continue
        try:
            fast.append((orjson.loads(text), text))
        except orjson.JSONDecodeError:
            break
    else:
        return fast
    # Concatenated or pretty-printed objects: the standard library decoder can stop
    # at the end of one value and report where it ended.
    decoder = json.JSONDecoder()
    i, size = 0, len(body)
    while i < size:
        while i < size and body[i] in " \t\r\n":
            i += 1
        if i >= size:
            break
        try:
            value, end = decoder.raw_decode(body, i)
        except json.JSONDecodeError as exc:
            out.append(f"invalid JSON: {exc.msg} at character {exc.pos}")
            resume = body.find("\n{", exc.pos)
            if resume < 0:
                break
            i = resume + 1
            continue
        out.append((value, body[i:end]))
        i = end
    return out


def _string_format(text: str, sourcetype: str | None, configured: str) -> str | None:
    """The parser for a string event or raw line; None to keep it as ``message``."""
    if sourcetype:
        found = SOURCETYPE_FORMATS.get(sourcetype.lower())
        if found is None and sourcetype in FORMATS:
            found = sourcetype
        if found is not None:
            return found
    if configured != "auto":
        return configured
    head = text.lstrip()[:5]
    if head.startswith("<") and head[1:2].isdigit():
        return "syslog"
    if head.startswith(("CEF:", "LEEF:", "{")) or head.startswith("type="):
        from heron.parsers import detect_line_format

        return detect_line_format(text)
    return None


@dataclass(slots=True)
class _Batch:
    """The chunks of one request, one per format, with positions for dead letters."""

    source: str
    chunks: dict[str, RawChunk] = field(default_factory=dict)
    dead: list[DeadLetter] = field(default_factory=list)
    first_bad: int | None = None
    bad_code: int = 6
    bad_text: str = "Invalid data format"

    def add(self, fmt: str, record: str, where: str) -> None:
        chunk = self.chunks.get(fmt)
        if chunk is None:
            chunk = self.chunks[fmt] = RawChunk(self.source, fmt)
        chunk.records.append(record)
        chunk.locations.append(where)

    def reject(self, number: int, reason: str, raw: str, code: int = 6, text: str = "") -> None:
        self.dead.append(DeadLetter.of(self.source, reason, raw, f"event {number}", now_ns()))
        if self.first_bad is None:
            self.first_bad = number
            self.bad_code = code
            self.bad_text = text or "Invalid data format"

    def all_chunks(self) -> list[RawChunk]:
        chunks = list(self.chunks.values())
        if self.dead:
            chunks.append(RawChunk(self.source, "json", dead_letters=self.dead))
        return chunks

    @property
    def count(self) -> int:
        return sum(len(c.records) for c in self.chunks.values()) + len(self.dead)


def _wrap(value: Any, meta: dict[str, Any]) -> str:
    """A JSON record for an event value, with the envelope's metadata where it is absent."""
    doc: dict[str, Any] = dict(value) if isinstance(value, dict) else {"message": value}
    fields = meta.get("fields")
    if isinstance(fields, dict):
        for key, v in fields.items():
            doc.setdefault(str(key), v)
    if "time" in meta and not any(k in doc for k in ("@timestamp", "timestamp", "time")):
        doc["@timestamp"] = meta["time"]
    host = meta.get("host")
    if host is not None and "host.name" not in doc and not isinstance(doc.get("host"), dict):
        if "host" in doc:
            doc["host.name"] = host
        else:
            doc["host"] = {"name": host}
    for key in ("source", "sourcetype", "index"):
        if meta.get(key) is not None:
            doc.setdefault(f"splunk.{key}", meta[key])
    return orjson.dumps(doc).decode("utf-8")


class AckLedger:
    """Per-channel acknowledgement ids and whether their batch has committed."""

    def __init__(self) -> None:
        self._channels: OrderedDict[str, _Channel] = OrderedDict()

    def issue(self, channel: str, future: asyncio.Future[Committed]) -> int:
        """A new ack id on ``channel`` that turns true when ``future`` succeeds."""
        state = self._channel(channel)
        ack_id = state.next_id
        state.next_id += 1
        state.status[ack_id] = None
        while len(state.status) > MAX_ACKS_PER_CHANNEL:
            # The oldest id reads false from now on; the client resends (never a loss).
            state.status.pop(next(iter(state.status)))

        def settle(done: asyncio.Future[Committed]) -> None:
            ok = not done.cancelled() and done.exception() is None
            if ack_id in state.status:
                state.status[ack_id] = ok

        future.add_done_callback(settle)
        return ack_id

    def query(self, channel: str, ids: list[int]) -> dict[str, bool]:
        """Each id's status; ids reported true (or failed) are forgotten, as Splunk does."""
        state = self._channel(channel)
        out: dict[str, bool] = {}
        for ack_id in ids:
            status = state.status.get(ack_id)
            out[str(ack_id)] = status is True
            if status is not None:
                del state.status[ack_id]
        return out

    def _channel(self, channel: str) -> _Channel:
        now = time.monotonic()
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
        self._channels.move_to_end(channel)
        state.seen = now
        while self._channels:
            oldest_name, oldest = next(iter(self._channels.items()))
            if len(self._channels) <= MAX_CHANNELS and now - oldest.seen < CHANNEL_IDLE_S:
                break
            if oldest is state:
                break
            del self._channels[oldest_name]
        return state


@dataclass
class _Channel:
    next_id: int = 0
    status: dict[int, bool | None] = field(default_factory=dict)
    seen: float = 0.0


class HecSource:
    """Splunk HEC endpoints on the shared HTTP listener or a port of their own."""

    type = "hec"

    def __init__(self, config: HecSourceConfig, name: str, tokens: IngestTokens) -> None:
        self.config = config
        self.name = name
        self.tokens = tokens
        self.acks = AckLedger()

    def ports(self) -> list[ListenPort]:
        if self.config.port is None:
            return []
        return [ListenPort("tcp", self.config.host or "127.0.0.1", self.config.port)]

    def routes(self, runtime: SourceRuntime) -> list[BaseRoute]:
        handler = _HecHandler(self, runtime)
        post = ["POST"]
        return [
            Route("/services/collector", handler.event, methods=post),
            Route("/services/collector/event", handler.event, methods=post),
            Route("/services/collector/event/1.0", handler.event, methods=post),
            Route("/services/collector/raw", handler.raw, methods=post),
            Route("/services/collector/raw/1.0", handler.raw, methods=post),
            Route("/services/collector/ack", handler.ack, methods=post),
            Route("/services/collector/health", handler.health, methods=["GET"]),
            Route("/services/collector/health/1.0", handler.health, methods=["GET"]),
        ]


class _HecHandler:
    def __init__(self, source: HecSource, runtime: SourceRuntime) -> None:
        self.source = source
        self.runtime = runtime
        self.metrics = runtime.metrics

    # -- checks shared by every endpoint ------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        if not authorized(request, self.source.tokens, SCHEMES):
            self.metrics.rejected["unauthorized"] += 1
            return _answer(401, "Invalid authorization", 3)
        return None

    def _channel(self, request: Request) -> tuple[str | None, Response | None]:
        channel = request.headers.get("x-splunk-request-channel") or request.query_params.get(
            "channel"
        )
        if channel is None:
            if self.source.config.ack:
                self.metrics.rejected["no_channel"] += 1
                return None, _answer(400, "Data channel is missing", 10)
            return None, None
        channel = channel.strip()
        if not channel or len(channel) > 128 or not channel.isprintable():
            self.metrics.rejected["bad_channel"] += 1
            return None, _answer(400, "Invalid data channel", 11)
        return channel, None

    async def _body(self, request: Request) -> tuple[bytes | None, Response | None]:
        try:
            return await read_body(request, self.runtime.max_body_bytes, self.metrics), None
        except BodyError as exc:
            self.metrics.rejected[exc.kind] += 1
            if exc.status == 413:
                return None, _answer(413, exc.reason, 27)
            return None, _answer(exc.status, f"Invalid data format: {exc.reason}", 6)

    # -- endpoints ----------------------------------------------------------------------

    async def event(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        channel, problem = self._channel(request)
        if problem is not None:
            return problem
        body, problem = await self._body(request)
        if problem is not None or body is None:
            return problem or _answer(400, "No data", 5)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.metrics.rejected["bad_encoding"] += 1
            return _answer(400, f"Invalid data format: invalid UTF-8 at byte {exc.start}", 6)
        if not text.strip():
            self.metrics.rejected["no_data"] += 1
            return _answer(400, "No data", 5)
        batch = self._events(text)
        return await self._deliver(batch, channel)

    async def raw(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        channel, problem = self._channel(request)
        if problem is not None:
            return problem
        body, problem = await self._body(request)
        if problem is not None or body is None:
            return problem or _answer(400, "No data", 5)
        params = request.query_params
        meta: dict[str, Any] = {
            k: params[k] for k in ("host", "source", "sourcetype", "index") if k in params
        }
        batch = _Batch(self.source.name)
        limit = self.runtime.max_line_bytes
        configured = self.source.config.format
        for number, line in enumerate(body.split(b"\n")):
            line = line.rstrip(b"\r")
            if not line.strip():
                continue
            if len(line) > limit:
                batch.reject(
                    number,
                    f"line longer than the limit of {limit} bytes ({len(line)} bytes)",
                    line[:limit].decode("utf-8", "replace"),
                )
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                batch.reject(
                    number,
                    f"invalid UTF-8 at byte {exc.start}",
                    line.decode("utf-8", "backslashreplace"),
                )
                continue
            fmt = _string_format(text, meta.get("sourcetype"), configured)
            if fmt is None:
                batch.add("json", _wrap(text, meta), f"line {number}")
            else:
                batch.add(fmt, text, f"line {number}")
        if batch.count == 0:
            self.metrics.rejected["no_data"] += 1
            return _answer(400, "No data", 5)
        return await self._deliver(batch, channel)

    async def ack(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        if not self.source.config.ack:
            return _answer(400, "ACK is disabled", 14)
        channel, problem = self._channel(request)
        if problem is not None or channel is None:
            return problem or _answer(400, "Data channel is missing", 10)
        body, problem = await self._body(request)
        if problem is not None or body is None:
            return problem or _answer(400, "No data", 5)
        try:
            wanted = orjson.loads(body)["acks"]
            ids = [int(i) for i in wanted]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return _answer(400, 'Invalid data format: expected {"acks": [ids]}', 6)
        return Response(
            orjson.dumps({"acks": self.source.acks.query(channel, ids)}),
            media_type="application/json",
        )

    async def health(self, request: Request) -> Response:
        if not self.runtime.intake.has_room():
            return _answer(503, "HEC is unhealthy, queues are full", 18)
        return _answer(200, "HEC is healthy", 17)

    # -- turning a body into chunks ----------------------------------------------------

    def _events(self, text: str) -> _Batch:
        batch = _Batch(self.source.name)
        configured = self.source.config.format
        for number, item in enumerate(split_json_objects(text)):
            if isinstance(item, str):
                batch.reject(number, item, text[:4096])
                continue
            envelope, raw = item
            if not isinstance(envelope, dict):
                batch.reject(number, "a HEC event must be a JSON object", raw)
                continue
            if "event" not in envelope:
                batch.reject(number, "event field is required", raw, 12, "Event field is required")
                continue
            value = envelope["event"]
            if value is None or (isinstance(value, str) and not value.strip()) or value == {}:
                batch.reject(
                    number, "event field cannot be blank", raw, 13, "Event field cannot be blank"
                )
                continue
            sourcetype = envelope.get("sourcetype")
            sourcetype = sourcetype if isinstance(sourcetype, str) else None
            where = f"event {number}"
            if isinstance(value, str):
                fmt = _string_format(value, sourcetype, configured)
                if fmt is not None:
                    batch.add(fmt, value, where)
                else:
                    batch.add("json", _wrap(value, envelope), where)
            elif isinstance(value, dict) and sourcetype and sourcetype.lower() == "aws:cloudtrail":
                batch.add("cloudtrail", orjson.dumps(value).decode("utf-8"), where)
            else:
                batch.add("json", _wrap(value, envelope), where)
        return batch

    async def _deliver(self, batch: _Batch, channel: str | None) -> Response:
        self.metrics.received += batch.count
        chunks = batch.all_chunks()
        nbytes = sum(len(r) for c in chunks for r in c.records)
        intake = self.runtime.intake
        acked = self.source.config.ack and channel is not None and batch.first_bad is None
        durable: asyncio.Future[Any]
        try:
            if acked:
                committed = await intake.submit(
                    chunks, self.metrics, nbytes=nbytes, timeout=self.runtime.busy_timeout_s
                )
                assert committed is not None
                assert channel is not None
                return _answer(200, "Success", 0, ackId=self.source.acks.issue(channel, committed))
            # Answered once durable: synced to the receive log, or else committed.
            durable = await intake.submit_logged(
                chunks, self.metrics, nbytes=nbytes, timeout=self.runtime.busy_timeout_s
            )
        except (QueueFullError, IntakeClosedError):
            self.metrics.received -= batch.count
            self.metrics.rejected["busy"] += 1
            return _answer(503, "Server is busy", 9)
        try:
            await durable
        except Exception:
            return _answer(500, "Internal server error", 8)
        if batch.first_bad is not None:
            return _answer(
                400, batch.bad_text, batch.bad_code, **{"invalid-event-number": batch.first_bad}
            )
        return _answer(200, "Success", 0)
