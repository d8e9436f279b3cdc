"""``type: bulk``: the Elasticsearch ``_bulk`` API, answered as Elasticsearch answers.

``POST|PUT /_bulk`` and ``/<index>/_bulk`` take NDJSON action/document pairs.
``index`` and ``create`` documents become events through the JSON parser (so ECS
documents from Filebeat, Winlogbeat, Fluent Bit or Vector keep their field names);
``delete`` and ``update`` get a per-item 400, since stored events are immutable. A
document line that is not JSON gets a per-item 400 ``document_parsing_exception`` and
is dead-lettered; the rest of the request is stored. An action line that is not JSON
fails the whole request with 400, as Elasticsearch does: without it the pairing of the
following lines is unknown. The reply is sent after the batch is committed: a 201 item
is durable.

For clients that look before they write, ``GET /`` and ``HEAD /`` answer with version
information, plus ``/_cluster/health``, ``/_license`` and ``/_xpack``; every answer
carries ``X-Elastic-Product: Elasticsearch``, which official clients require.
Credentials: ``ApiKey``, ``Bearer``, or Basic with the token as password.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heron import __version__
from heron.config import BulkSourceConfig
from heron.intake import IntakeClosedError, QueueFullError
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.sources.base import ListenPort, SourceRuntime
from heron.sources.file import RawChunk
from heron.sources.http import BodyError, authorized, read_body
from heron.sources.tokens import IngestTokens

__all__ = ["ES_VERSION", "BulkSource"]

#: The Elasticsearch version Heron answers as; clients check the major version.
ES_VERSION = "8.17.0"
SCHEMES = ("apikey", "bearer", "basic")
DEFAULT_INDEX = "heron"
_WRITE_ACTIONS = ("index", "create")
_ACTIONS = ("index", "create", "delete", "update")
_PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, headers=_PRODUCT, media_type="application/json")


def _error(status: int, kind: str, reason: str) -> Response:
    headers = dict(_PRODUCT)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="security", ApiKey, Bearer'
    body = {
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
        "status": status,
    }
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def _item_error(kind: str, reason: str, index: str, doc_id: str | None) -> dict[str, Any]:
    return {
        "_index": index,
        "_id": doc_id,
        "status": 400,
        "error": {"type": kind, "reason": reason},
    }


class BulkSource:
    """Elasticsearch-compatible bulk ingest on the shared listener or its own port."""

    type = "bulk"

    def __init__(self, config: BulkSourceConfig, name: str, tokens: IngestTokens) -> None:
        self.config = config
        self.name = name
        self.tokens = tokens
        self._seq = itertools.count()

    def ports(self) -> list[ListenPort]:
        if self.config.port is None:
            return []
        return [ListenPort("tcp", self.config.host or "127.0.0.1", self.config.port)]

    def routes(self, runtime: SourceRuntime) -> list[BaseRoute]:
        handler = _BulkHandler(self, runtime)
        write = ["POST", "PUT"]
        return [
            Route("/_bulk", handler.bulk, methods=write),
            Route("/{index}/_bulk", handler.bulk, methods=write),
            Route("/", handler.info, methods=["GET", "HEAD"]),
            Route("/_cluster/health", handler.health, methods=["GET"]),
            Route("/_license", handler.license, methods=["GET"]),
            Route("/_xpack", handler.xpack, methods=["GET"]),
        ]


class _BulkHandler:
    def __init__(self, source: BulkSource, runtime: SourceRuntime) -> None:
        self.source = source
        self.runtime = runtime
        self.metrics = runtime.metrics

    def _refuse(self, request: Request) -> Response | None:
        if not authorized(request, self.source.tokens, SCHEMES):
            self.metrics.rejected["unauthorized"] += 1
            return _error(401, "security_exception", "unable to authenticate")
        return None

    async def info(self, request: Request) -> Response:
        # A browser opening the server's address gets the web UI; clients get ES info.
        if "text/html" in request.headers.get("accept", ""):
            return Response(status_code=303, headers={"Location": "/ui/"})
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return _json(
            {
                "name": "heron",
                "cluster_name": "heron",
                "cluster_uuid": "heron",
                "version": {
                    "number": ES_VERSION,
                    "build_flavor": "default",
                    "build_type": "heron",
                    "build_hash": f"heron-{__version__}",
                    "build_date": "2024-12-11T12:08:05.663969764Z",
                    "build_snapshot": False,
                    "lucene_version": "9.12.0",
                    "minimum_wire_compatibility_version": "7.17.0",
                    "minimum_index_compatibility_version": "7.0.0",
                },
                "tagline": "You Know, for Search",
            }
        )

    async def health(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return _json(
            {
                "cluster_name": "heron",
                "status": "green",
                "timed_out": False,
                "number_of_nodes": 1,
                "number_of_data_nodes": 1,
            }
        )

    async def license(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return _json(
            {
                "license": {
                    "status": "active",
                    "uid": "heron",
                    "type": "basic",
                    "issued_to": "heron",
                    "issuer": "heron",
                }
            }
        )

    async def xpack(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return _json(
            {
                "build": {"hash": "heron"},
                "license": {"status": "active", "type": "basic"},
                "features": {},
            }
        )

    async def bulk(self, request: Request) -> Response:
        started = time.perf_counter()
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            body = await read_body(request, self.runtime.max_body_bytes, self.metrics)
        except BodyError as exc:
            self.metrics.rejected[exc.kind] += 1
            kind = "content_too_long_exception" if exc.status == 413 else "parse_exception"
            return _error(exc.status, kind, exc.reason)
        default_index = request.path_params.get("index") or DEFAULT_INDEX
        plan = self._plan(body, default_index)
        if isinstance(plan, Response):
            return plan
        chunk, items, pending = plan
        self.metrics.received += len(chunk.records) + len(chunk.dead_letters)
        if not chunk.records and not chunk.dead_letters:
            if not items:
                return _error(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: no requests added;",
                )
            return self._reply(items, started)
        nbytes = sum(len(r) for r in chunk.records)
        try:
            future = await self.runtime.intake.submit(
                [chunk],
                self.metrics,
                nbytes=nbytes,
                want_ids=True,
                timeout=self.runtime.busy_timeout_s,
            )
            assert future is not None
            committed = await future
        except (QueueFullError, IntakeClosedError):
            self.metrics.received -= len(chunk.records) + len(chunk.dead_letters)
            self.metrics.rejected["busy"] += 1
            return _error(
                429,
                "es_rejected_execution_exception",
                "rejected execution: the ingest queue is full",
            )
        except Exception as exc:
            return _error(500, "exception", f"commit failed: {type(exc).__name__}")
        failed = {d.location: d.reason for d in committed.dead_letters[0]}
        ids = iter((committed.event_ids or [[]])[0])
        for slot, (action, index, doc_id, location) in pending.items():
            if location in failed:
                items[slot] = {
                    action: _item_error(
                        "document_parsing_exception", failed[location], index, doc_id
                    )
                }
                continue
            stored_id = next(ids, None)
            items[slot] = {
                action: {
                    "_index": index,
                    "_id": doc_id or stored_id,
                    "_version": 1,
                    "result": "created",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": next(self.source._seq),
                    "_primary_term": 1,
                    "status": 201,
                }
            }
        return self._reply(items, started)

    def _reply(self, items: list[dict[str, Any] | None], started: float) -> Response:
        errors = any(next(iter(i.values()))["status"] >= 300 for i in items if i)
        took = int((time.perf_counter() - started) * 1000)
        return _json({"took": took, "errors": errors, "items": items})

    def _plan(
        self, body: bytes, default_index: str
    ) -> (
        Response
        | tuple[RawChunk, list[dict[str, Any] | None], dict[int, tuple[str, str, str | None, str]]]
    ):
        """The chunk to store, the reply's items (None until committed) and their slots."""
        name = self.source.name
        chunk = RawChunk(name, "json")
        items: list[dict[str, Any] | None] = []
        pending: dict[int, tuple[str, str, str | None, str]] = {}
        lines = body.split(b"\n")
        i, total = 0, len(lines)
        limit = self.runtime.max_line_bytes
        while i < total:
            line = lines[i].strip()
            i += 1
            if not line:
                continue
            try:
                action_line = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                self.metrics.rejected["bad_action"] += 1
                return _error(
                    400,
                    "illegal_argument_exception",
                    f"Malformed action/metadata line [{i}], expected START_OBJECT: {exc}",
                )
            if (
                not isinstance(action_line, dict)
                or len(action_line) != 1
                or next(iter(action_line)) not in _ACTIONS
                or not isinstance(next(iter(action_line.values())), dict)
            ):
                self.metrics.rejected["bad_action"] += 1
                return _error(
                    400,
                    "illegal_argument_exception",
                    f"Malformed action/metadata line [{i}], expected one of "
                    f"{list(_ACTIONS)} with an object",
                )
            action, meta = next(iter(action_line.items()))
            index = str(meta.get("_index") or default_index)
            doc_id = meta.get("_id")
            doc_id = str(doc_id) if doc_id is not None else None
            if action == "delete":
                items.append(
                    {
                        action: _item_error(
                            "action_not_supported",
                            "Heron's events are immutable: delete is refused",
                            index,
                            doc_id,
                        )
                    }
                )
                continue
            if i >= total or not lines[i].strip():
                self.metrics.rejected["bad_action"] += 1
                return _error(
                    400,
                    "illegal_argument_exception",
                    f"The bulk request must be terminated by a newline "
                    f"[action on line {i} has no document]",
                )
            doc = lines[i].strip()
            line_no = i + 1
            i += 1
            if action == "update":
                items.append(
                    {
                        action: _item_error(
                            "action_not_supported",
                            "Heron's events are immutable: update is refused",
                            index,
                            doc_id,
                        )
                    }
                )
                continue
            location = f"line {line_no}"
            received = now_ns()
            problem = _document_problem(doc, limit)
            if problem is not None:
                chunk.dead_letters.append(DeadLetter.of(name, problem, doc, location, received))
                items.append(
                    {action: _item_error("document_parsing_exception", problem, index, doc_id)}
                )
                continue
            chunk.records.append(doc.decode("utf-8"))
            chunk.locations.append(location)
            pending[len(items)] = (action, index, doc_id, location)
            items.append(None)
        return chunk, items, pending


def _document_problem(doc: bytes, limit: int) -> str | None:
    if len(doc) > limit:
        return f"document longer than the limit of {limit} bytes ({len(doc)} bytes)"
    try:
        value = orjson.loads(doc)
    except orjson.JSONDecodeError as exc:
        return f"failed to parse: the document is not JSON ({exc})"
    if not isinstance(value, dict):
        return "failed to parse: the document must be a JSON object"
    return None
