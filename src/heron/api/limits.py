"""Size limits of ``/api`` requests, checked before a body is parsed."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException

from heron.auth.middleware import ASGIApp, Receive, Scope, Send

__all__ = [
    "MAX_ALERT_PAGE",
    "MAX_API_BODY",
    "MAX_BULK_IDS",
    "MAX_ENTITIES",
    "MAX_EVENTS_LIMIT",
    "MAX_HUNT_TIMEOUT_S",
    "MAX_QUERY_CHARS",
    "MAX_RULE_BYTES",
    "BodyLimit",
]

#: Largest ``/api`` request body (a rule upload is the largest legitimate one).
MAX_API_BODY = 1024 * 1024
MAX_RULE_BYTES = 256 * 1024
MAX_QUERY_CHARS = 64 * 1024
MAX_BULK_IDS = 1000
MAX_EVENTS_LIMIT = 10_000
MAX_ALERT_PAGE = 1000
MAX_ENTITIES = 1000
MAX_HUNT_TIMEOUT_S = 300.0


class _TooLarge(HTTPException):
    """Raised from ``receive``: FastAPI passes HTTP exceptions through body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


class BodyLimit:
    """413 for an ``/api`` body over ``max_bytes``, or for a body over its path's own
    limit in ``per_path`` (file uploads, the UI's among them), declared or streamed."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_API_BODY,
        per_path: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") and path not in self.per_path:
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(path, self.max_bytes)
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _too_large(send, limit)
                    return
        seen = 0
        started = False

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = orjson.dumps({"error": f"request body larger than the limit of {limit} bytes"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
