"""Every API error is JSON ``{"error": "..."}``; nothing leaks a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from heron.alerts.errors import AlertError, AlertNotFound, SuppressionNotFound
from heron.auth.errors import AccountError, TooManyAttempts
from heron.errors import HeronError

__all__ = ["ApiError", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)


class ApiError(StarletteHTTPException):
    """An HTTP error with extra JSON members beside ``error``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.extra = extra


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {"error": message, **extra}
    return Response(
        orjson.dumps(body, default=str), status, headers=headers, media_type="application/json"
    )


def _where(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")] if loc else []
    return ".".join(parts) or "request"


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": _where(e.get("loc")), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()[:20]
    ]
    text = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return error_response(422, f"invalid request: {text}", problems=problems)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    extra = getattr(exc, "extra", None) or {}
    return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}), **extra)


async def _heron(request: Request, exc: Exception) -> Response:
    if isinstance(exc, TooManyAttempts):
        return error_response(429, str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, AccountError):
        return error_response(exc.status, str(exc))
    if isinstance(exc, AlertNotFound | SuppressionNotFound):
        return error_response(404, str(exc))
    if isinstance(exc, AlertError):
        return error_response(422, str(exc))
    return error_response(400, str(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("API error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(HeronError, _heron)
    app.add_exception_handler(Exception, _unexpected)
