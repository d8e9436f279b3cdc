"""``type: otlp``: OpenTelemetry logs and traces over OTLP/HTTP, JSON or protobuf.

``POST /v1/logs`` and ``POST /v1/traces`` with ``Content-Type: application/x-protobuf``
or ``application/json`` (gzip allowed); ``Authorization: Bearer <token>``. The answer
(in the request's encoding) is sent after the records are committed; records that
become dead letters are reported in ``partialSuccess`` (``rejectedLogRecords`` /
``rejectedSpans``), as the OTLP specification asks.

Each span becomes one record for the ``otel_genai`` parser: the span's OTLP/JSON
object with its ``resource``, ``scope`` and ``schemaUrl`` merged in. Log records that
are GenAI events (event name ``gen_ai.*``) go there too; other log records become flat
JSON documents (resource and record attributes under their own names, ``message`` or
``body.*``, ``@timestamp``, ``log.level``, ``trace.id``, ``span.id``) for the JSON parser.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heron.config import OtlpSourceConfig
from heron.intake import IntakeClosedError, QueueFullError
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.parsers import FORMATS
from heron.parsers.otel_genai import decode_attributes
from heron.sources.base import ListenPort, SourceRuntime
from heron.sources.file import RawChunk
from heron.sources.http import BodyError, authorized, read_body
from heron.sources.tokens import IngestTokens

__all__ = ["OtlpSource", "log_record_documents", "span_documents"]

SCHEMES = ("bearer",)
PROTOBUF = "application/x-protobuf"
#: The parser for spans and GenAI events, when that parser is installed.
SPAN_FORMAT = "otel_genai" if "otel_genai" in FORMATS else "json"

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
# google.rpc.Code values used in Status answers.
_INVALID_ARGUMENT = 3
_UNAUTHENTICATED = 16
_UNAVAILABLE = 14


def _hex_ids(obj: dict[str, Any]) -> None:
    """Protobuf-to-JSON mapping writes bytes as base64; OTLP/JSON wants hex ids."""
    for key in _ID_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value:
            with contextlib.suppress(binascii.Error, ValueError):
                obj[key] = base64.b64decode(value, validate=True).hex()


def _proto_to_json(message: Message, records_key: str, scope_key: str, items_key: str) -> Any:
    doc = json_format.MessageToDict(message, use_integers_for_enums=True)
    for resource in doc.get(records_key, []):
        for scope in resource.get(scope_key, []):
            for item in scope.get(items_key, []):
                _hex_ids(item)
                for link in item.get("links", []):
                    _hex_ids(link)
    return doc


def _scopes(
    doc: Any, records_key: str, scope_key: str, items_key: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any], str | None, list[Any]]]:
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object")
    for resource_block in doc.get(records_key) or []:
        if not isinstance(resource_block, dict):
            raise ValueError(f"{records_key} must hold objects")
        resource = resource_block.get("resource") or {}
        for scope_block in resource_block.get(scope_key) or []:
            if not isinstance(scope_block, dict):
                raise ValueError(f"{scope_key} must hold objects")
            scope = scope_block.get("scope") or {}
            schema = scope_block.get("schemaUrl") or resource_block.get("schemaUrl")
            items = scope_block.get(items_key) or []
            if not isinstance(items, list):
                raise ValueError(f"{items_key} must be a list")
            yield resource, scope, schema, items


def span_documents(doc: Any) -> Iterator[str | tuple[str, str]]:
    """Each span of an OTLP/JSON traces request as ``(format, record)``; bad ones as text."""
    for resource, scope, schema, spans in _scopes(doc, "resourceSpans", "scopeSpans", "spans"):
        for span in spans:
            if not isinstance(span, dict):
                yield "a span must be a JSON object"
                continue
            record = {**span, "resource": resource, "scope": scope}
            if schema:
                record["schemaUrl"] = schema
            yield SPAN_FORMAT, orjson.dumps(record).decode("utf-8")


def _log_document(
    record: dict[str, Any], resource: dict[str, Any], scope: dict[str, Any]
) -> dict[str, Any]:
    attrs = decode_attributes(record.get("attributes") or [])
    doc: dict[str, Any] = {**decode_attributes(resource), **attrs}
    stamp = record.get("timeUnixNano")
    if not stamp or stamp in ("0", 0):
        stamp = record.get("observedTimeUnixNano")
    if stamp and stamp not in ("0", 0):
        doc["@timestamp"] = int(stamp)
    body = (
        decode_attributes([{"key": "body", "value": record["body"]}])["body"]
        if ("body" in record)
        else None
    )
    if isinstance(body, dict):
        doc["body"] = body
    elif isinstance(body, str):
        doc["message"] = body
    elif body is not None:
        doc["message"] = orjson.dumps(body).decode("utf-8")
    if record.get("severityText"):
        doc["log.level"] = str(record["severityText"]).lower()
    if record.get("severityNumber"):
        doc["event.severity"] = int(record["severityNumber"])
    for key, name in (("traceId", "trace.id"), ("spanId", "span.id")):
        if record.get(key):
            doc[name] = record[key]
    if record.get("eventName"):
        doc["otel.event.name"] = record["eventName"]
    if isinstance(scope, dict) and scope.get("name"):
        doc["otel.scope.name"] = scope["name"]
        if scope.get("version"):
            doc["otel.scope.version"] = scope["version"]
    doc["event.module"] = "otel"
    doc["event.dataset"] = "otel.logs"
    return doc


def log_record_documents(doc: Any) -> Iterator[str | tuple[str, str]]:
    """Each log record of an OTLP/JSON logs request as ``(format, record)``; bad ones as text."""
    scopes = _scopes(doc, "resourceLogs", "scopeLogs", "logRecords")
    for resource, scope, schema, records in scopes:
        for record in records:
            if not isinstance(record, dict):
                yield "a log record must be a JSON object"
                continue
            name = record.get("eventName")
            if not name:
                name = decode_attributes(record.get("attributes") or []).get("event.name")
            if SPAN_FORMAT == "otel_genai" and isinstance(name, str) and name.startswith("gen_ai."):
                full = {**record, "resource": resource, "scope": scope}
                if schema:
                    full["schemaUrl"] = schema
                yield SPAN_FORMAT, orjson.dumps(full).decode("utf-8")
                continue
            try:
                flat = _log_document(record, resource, scope)
            except (TypeError, ValueError) as exc:
                yield f"unreadable log record: {exc}"
                continue
            yield "json", orjson.dumps(flat).decode("utf-8")


def _status(code: int, message: str, protobuf: bool, http_status: int) -> Response:
    """A ``google.rpc.Status`` answer in the request's encoding."""
    headers = {"Retry-After": "1"} if http_status == 503 else None
    if http_status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    if not protobuf:
        return Response(
            orjson.dumps({"code": code, "message": message}),
            http_status,
            headers=headers,
            media_type="application/json",
        )
    text = message.encode("utf-8")
    # Status{int32 code = 1; string message = 2}, encoded by hand: two fields.
    body = b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    return Response(body, http_status, headers=headers, media_type=PROTOBUF)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class OtlpSource:
    """OTLP/HTTP receiver for logs and traces."""

    type = "otlp"

    def __init__(self, config: OtlpSourceConfig, name: str, tokens: IngestTokens) -> None:
        self.config = config
        self.name = name
        self.tokens = tokens

    def ports(self) -> list[ListenPort]:
        if self.config.port is None:
            return []
        return [ListenPort("tcp", self.config.host or "127.0.0.1", self.config.port)]

    def routes(self, runtime: SourceRuntime) -> list[BaseRoute]:
        handler = _OtlpHandler(self, runtime)
        return [
            Route("/v1/logs", handler.logs, methods=["POST"]),
            Route("/v1/traces", handler.traces, methods=["POST"]),
        ]


class _OtlpHandler:
    def __init__(self, source: OtlpSource, runtime: SourceRuntime) -> None:
        self.source = source
        self.runtime = runtime
        self.metrics = runtime.metrics

    async def logs(self, request: Request) -> Response:
        return await self._export(request, logs=True)

    async def traces(self, request: Request) -> Response:
        return await self._export(request, logs=False)

    async def _export(self, request: Request, *, logs: bool) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        protobuf = content_type != "application/json"
        if not authorized(request, self.source.tokens, SCHEMES):
            self.metrics.rejected["unauthorized"] += 1
            return _status(_UNAUTHENTICATED, "unauthorized", protobuf, 401)
        if content_type not in (PROTOBUF, "application/json"):
            self.metrics.rejected["bad_content_type"] += 1
            return _status(
                _INVALID_ARGUMENT,
                f"unsupported content type {content_type!r}: use {PROTOBUF} or application/json",
                False,
                415,
            )
        try:
            body = await read_body(request, self.runtime.max_body_bytes, self.metrics)
        except BodyError as exc:
            self.metrics.rejected[exc.kind] += 1
            return _status(_INVALID_ARGUMENT, exc.reason, protobuf, exc.status)
        kind = "log records" if logs else "spans"
        try:
            doc = self._decode(body, protobuf, logs)
            documents = list(log_record_documents(doc) if logs else span_documents(doc))
        except (DecodeError, orjson.JSONDecodeError, ValueError, TypeError) as exc:
            self.metrics.rejected["bad_body"] += 1
            return _status(_INVALID_ARGUMENT, f"cannot decode the {kind}: {exc}", protobuf, 400)
        chunks: dict[str, RawChunk] = {}
        dead: list[DeadLetter] = []
        for number, item in enumerate(documents):
            if isinstance(item, str):
                dead.append(DeadLetter.of(self.source.name, item, "", f"record {number}", now_ns()))
                continue
            fmt, record = item
            chunk = chunks.setdefault(fmt, RawChunk(self.source.name, fmt))
            chunk.records.append(record)
            chunk.locations.append(f"record {number}")
        parts = list(chunks.values())
        if dead:
            parts.append(RawChunk(self.source.name, "json", dead_letters=dead))
        count = len(documents)
        self.metrics.received += count
        rejected = 0
        if parts:
            nbytes = sum(len(r) for c in parts for r in c.records)
            try:
                future = await self.runtime.intake.submit(
                    parts, self.metrics, nbytes=nbytes, timeout=self.runtime.busy_timeout_s
                )
                assert future is not None
                committed = await future
            except (QueueFullError, IntakeClosedError):
                self.metrics.received -= count
                self.metrics.rejected["busy"] += 1
                return _status(_UNAVAILABLE, "the ingest queue is full", protobuf, 503)
            except Exception as exc:
                return _status(_UNAVAILABLE, f"commit failed: {type(exc).__name__}", protobuf, 503)
            rejected = sum(len(d) for d in committed.dead_letters)
        return self._success(logs, protobuf, rejected)

    @staticmethod
    def _decode(body: bytes, protobuf: bool, logs: bool) -> Any:
        if not protobuf:
            return orjson.loads(body) if body.strip() else {}
        if logs:
            request = ExportLogsServiceRequest()
            request.ParseFromString(body)
            return _proto_to_json(request, "resourceLogs", "scopeLogs", "logRecords")
        spans = ExportTraceServiceRequest()
        spans.ParseFromString(body)
        return _proto_to_json(spans, "resourceSpans", "scopeSpans", "spans")

    @staticmethod
    def _success(logs: bool, protobuf: bool, rejected: int) -> Response:
        message = f"{rejected} records could not be parsed (see heron deadletters)"
        if protobuf:
            answer: Message
            if logs:
                answer = ExportLogsServiceResponse()
                if rejected:
                    answer.partial_success.rejected_log_records = rejected
                    answer.partial_success.error_message = message
            else:
                answer = ExportTraceServiceResponse()
                if rejected:
                    answer.partial_success.rejected_spans = rejected
                    answer.partial_success.error_message = message
            return Response(answer.SerializeToString(), media_type=PROTOBUF)
        body: dict[str, Any] = {}
        if rejected:
            key = "rejectedLogRecords" if logs else "rejectedSpans"
            body["partialSuccess"] = {key: rejected, "errorMessage": message}
        return Response(orjson.dumps(body), media_type="application/json")
