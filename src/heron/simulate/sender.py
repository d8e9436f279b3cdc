"""Live sender: the simulated records over the real protocols, in time order, at a rate.

* text sources (Linux auth and audit, firewalls, web) as syslog over TCP, one record a
  frame, octet-counted (RFC 6587) or LF-terminated;
* Windows events (Winlogbeat JSON), Azure sign-ins and CloudTrail records to Splunk HEC
  (``/services/collector/event``, ``Authorization: Splunk <token>``), each record as a
  string event so the record reaches its parser byte for byte (CloudTrail with the
  ``aws:cloudtrail`` sourcetype);
* GenAI spans as OTLP/HTTP JSON (``/v1/traces``, ``Authorization: Bearer <token>``),
  grouped by resource and scope as an SDK exporter sends them.

Every request is sent after the one before was answered: Heron answers once a request
is durable (HEC: synced to its receive log; OTLP: committed), so what the sender counts
as sent is kept, and stored by the time the node has drained its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from heron.simulate.config import SimulationError
from heron.simulate.records import SOURCES, Record

__all__ = ["MAX_RATE", "SendStats", "SendTargets", "Sender", "check_rate"]

#: A sanity bound on the rate asked for: one Python process cannot frame, encode and send
#: more than this. What a node takes is usually less (HTTP is answered once durable); the
#: sender then falls behind and reports by how much (``SendStats.lag_s``).
MAX_RATE = 20_000
_TICK_S = 0.1


def check_rate(rate: float) -> float:
    """``rate`` if a sender can hold it, else a ``SimulationError`` saying why."""
    if not rate > 0:
        raise SimulationError(f"must be above 0 events a second, not {rate}", parameter="rate")
    if rate > MAX_RATE:
        raise SimulationError(
            f"{rate:g} events a second is more than one sender can deliver "
            f"(at most {MAX_RATE:,}); run several senders or lower the rate",
            parameter="rate",
        )
    return rate


@dataclass(frozen=True, slots=True)
class SendTargets:
    """Where each protocol goes (loopback listeners of a node)."""

    http_url: str  # e.g. http://127.0.0.1:8080 (HEC and OTLP routes on it)
    syslog_host: str
    syslog_port: int
    token: str
    octet_counting: bool = True
    #: The node's name for the syslog source: with it, the sender waits until the node
    #: has read every syslog frame before an HTTP request, so that records reach the
    #: pipeline in time order across protocols (correlations drop records that arrive
    #: minutes of event time late).
    syslog_source: str | None = None


@dataclass(slots=True)
class SendStats:
    sent: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    lag_s: float = 0.0  # how far behind schedule the sender fell at worst

    @property
    def total(self) -> int:
        return sum(self.sent.values())


#: Records within this much event time may reach the node out of order: one request
#: per protocol for each such slice. Heron's correlations accept matches up to 5
#: minutes of event time late, so 4 minutes keeps every correlation whole. Fewer,
#: larger requests matter: Heron answers OTLP after commit (tens to hundreds of ms), HEC
#: once the request is synced to its receive log.
ORDER_SLACK_NS = 240 * 1_000_000_000
_TRANSPORT_ORDER = ("syslog", "hec", "otlp")


def _slices(records: Sequence[Record]) -> list[tuple[str, list[Record]]]:
    """Requests to make, in order: per slice of ``ORDER_SLACK_NS``, one per transport."""
    out: list[tuple[str, list[Record]]] = []
    i = 0
    while i < len(records):
        first = records[i].time_ns
        j = i
        groups: dict[str, list[Record]] = {}
        while j < len(records) and records[j].time_ns - first <= ORDER_SLACK_NS:
            groups.setdefault(SOURCES[records[j].source].transport, []).append(records[j])
            j += 1
        out.extend((t, groups[t]) for t in _TRANSPORT_ORDER if t in groups)
        i = j
    return out


def _hec_body(records: Sequence[Record]) -> bytes:
    parts = []
    for r in records:
        envelope: dict[str, Any] = {
            "time": round(r.time_ns / 1e9, 3),
            "source": SOURCES[r.source].filename,
            "event": r.text,
        }
        if r.source == "cloudtrail":
            envelope["sourcetype"] = "aws:cloudtrail"
        parts.append(orjson.dumps(envelope))
    return b"\n".join(parts)


def otlp_traces_body(records: Sequence[Record]) -> bytes:
    """An OTLP/JSON ExportTraceServiceRequest holding these span records."""
    groups: dict[bytes, tuple[dict[str, Any], dict[str, Any], str | None, list[Any]]] = {}
    for r in records:
        span = orjson.loads(r.text)
        resource = span.pop("resource")
        scope = span.pop("scope")
        schema = span.pop("schemaUrl", None)
        key = orjson.dumps([resource, scope, schema], option=orjson.OPT_SORT_KEYS)
        if key not in groups:
            groups[key] = (resource, scope, schema, [])
        # OTLP/JSON attributes are KeyValue lists with typed values.
        span["attributes"] = _kv(span["attributes"])
        groups[key][3].append(span)
    resource_spans = []
    for resource, scope, schema, spans in groups.values():
        block: dict[str, Any] = {
            "resource": {"attributes": _kv(resource)},
            "scopeSpans": [{"scope": scope, "spans": spans}],
        }
        if schema:
            block["scopeSpans"][0]["schemaUrl"] = schema
        resource_spans.append(block)
    return orjson.dumps({"resourceSpans": resource_spans})


def _kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in attrs.items():
        if isinstance(value, bool):
            typed: dict[str, Any] = {"boolValue": value}
        elif isinstance(value, int):
            typed = {"intValue": str(value)}
        elif isinstance(value, float):
            typed = {"doubleValue": value}
        else:
            typed = {"stringValue": str(value)}
        out.append({"key": key, "value": typed})
    return out


class Sender:
    """Sends records in order at ``rate`` events a second until done or stopped."""

    def __init__(
        self,
        targets: SendTargets,
        rate: float,
        *,
        on_progress: Callable[[SendStats], None] | None = None,
    ) -> None:
        self.targets = targets
        self.rate = check_rate(rate)
        self.on_progress = on_progress
        self.stats = SendStats()
        self._writer: asyncio.StreamWriter | None = None
        self._syslog_sent = 0
        self._channel = str(uuid.uuid4())
        self._syslog_seen = 0

    async def _syslog_read(self, client: httpx.AsyncClient) -> None:
        """Wait until the node has read every syslog frame sent so far (see SendTargets)."""
        name = self.targets.syslog_source
        if name is None or self._syslog_seen >= self._syslog_sent:
            return
        wanted = f'heron_source_received_total{{source="{name}",type="syslog"}} '
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = (await client.get(self.targets.http_url + "/metrics")).text
            for line in text.splitlines():
                if line.startswith(wanted):
                    self._syslog_seen = int(float(line[len(wanted) :]))
            if self._syslog_seen >= self._syslog_sent:
                return
            await asyncio.sleep(0.005)
        raise SimulationError(
            f"the node read {self._syslog_seen} of {self._syslog_sent} syslog frames in 30 s",
            parameter="send",
        )

    async def _syslog(self, records: Sequence[Record]) -> None:
        if self._writer is None:
            _, self._writer = await asyncio.open_connection(
                self.targets.syslog_host, self.targets.syslog_port
            )
        frames = []
        for r in records:
            data = r.text.encode("utf-8")
            frames.append(
                f"{len(data)} ".encode() + data if self.targets.octet_counting else data + b"\n"
            )
        self._writer.write(b"".join(frames))
        await self._writer.drain()

    async def _post(self, client: httpx.AsyncClient, path: str, body: bytes, auth: str) -> None:
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        # A HEC source with indexer acknowledgement answers once the batch is queued
        # (order kept) instead of once it is durable; the channel header is required
        # there and harmless elsewhere.
        headers["X-Splunk-Request-Channel"] = self._channel
        response = await client.post(self.targets.http_url + path, content=body, headers=headers)
        if response.status_code >= 400:
            raise SimulationError(
                f"{path} answered {response.status_code}: {response.text[:200]}",
                parameter="send",
            )

    async def send(self, records: Sequence[Record], stop: asyncio.Event | None = None) -> SendStats:
        """Send ``records`` (already in time order); returns what was sent."""
        per_tick = max(1, round(self.rate * _TICK_S))
        self.stats.started = time.monotonic()
        token = self.targets.token
        async with httpx.AsyncClient(timeout=30.0) as client:
            try:
                for i in range(0, len(records), per_tick):
                    if stop is not None and stop.is_set():
                        break
                    due = self.stats.started + (i / self.rate)
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        self.stats.lag_s = max(self.stats.lag_s, -delay)
                    tick = records[i : i + per_tick]
                    for transport, run in _slices(tick):
                        if transport == "syslog":
                            await self._syslog(run)
                            self._syslog_sent += len(run)
                            continue
                        await self._syslog_read(client)
                        if transport == "hec":
                            body = _hec_body(run)
                            path, auth = "/services/collector/event", f"Splunk {token}"
                        else:
                            body = otlp_traces_body(run)
                            path, auth = "/v1/traces", f"Bearer {token}"
                        await self._post(client, path, body, auth)
                    for r in tick:
                        self.stats.sent[r.source] = self.stats.sent.get(r.source, 0) + 1
                    if self.on_progress is not None:
                        self.on_progress(self.stats)
            finally:
                if self._writer is not None:
                    self._writer.close()
                    with contextlib.suppress(ConnectionError, OSError):
                        await self._writer.wait_closed()
                    self._writer = None
        return self.stats
