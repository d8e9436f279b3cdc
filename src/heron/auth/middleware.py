"""``request.state.principal`` from the session cookie or ``Authorization: Bearer``.

A pure ASGI middleware (no response buffering, ingest bodies stream through). Under
``/api/`` it also answers 401 itself when no credentials came, before any body is
read or parsed, so an anonymous caller learns nothing about a route's parameters;
the per-route scope check is ``heron.api.access.authorize``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

import orjson

from heron.auth.principal import Principal
from heron.auth.store import TOKEN_PREFIX, AuthStore

__all__ = [
    "PUBLIC_API_PATHS",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "LocalCaller",
    "principal_from_headers",
]

SESSION_COOKIE = "heron_session"
#: ``/api`` paths answered without credentials (they check what is posted).
PUBLIC_API_PATHS = frozenset({"/api/login", "/api/setup"})
#: ASGI scope key of a caller known before any header is read (``LocalCaller``). A
#: scope key, not a header: nothing a client sends can set it.
LOCAL_PRINCIPAL = "heron.local_principal"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no credential
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def principal_from_headers(auth: AuthStore, scope: Scope) -> Principal | None:
    """The caller named by a Bearer API token, else by the session cookie, else None."""
    authorization = _header(scope, b"authorization")
    if authorization:
        kind, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        # Only Heron API tokens are looked up: ingest tokens use the same header.
        if kind.lower() == "bearer" and secret.startswith(TOKEN_PREFIX):
            return auth.token_principal(secret)
    session_id = _cookie(scope, SESSION_COOKIE)
    if session_id:
        return auth.session_principal(session_id)
    return None


class AuthMiddleware:
    """Resolves the principal of every HTTP request; 401 on anonymous ``/api`` calls."""

    def __init__(self, app: ASGIApp, auth: AuthStore) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        principal = scope.get(LOCAL_PRINCIPAL) or principal_from_headers(self.auth, scope)
        scope.setdefault("state", {})["principal"] = principal
        path: str = scope.get("path", "")
        if (
            principal is None
            and (path == "/api" or path.startswith("/api/"))
            and path not in PUBLIC_API_PATHS
        ):
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)


class LocalCaller:
    """``app`` as served on the node's control socket (``heron.control``): whoever can
    connect there is the node's OS user or root, so every call is the local admin's."""

    def __init__(self, app: ASGIApp, principal: Principal) -> None:
        self.app = app
        self.principal = principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[LOCAL_PRINCIPAL] = self.principal
        await self.app(scope, receive, send)


async def _unauthorized(send: Send) -> None:
    body = orjson.dumps({"error": "unauthorized"})
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="heron"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
