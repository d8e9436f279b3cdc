"""The one authorization dependency every ``/api`` route runs, and the audit helper.

Each route declares the scope it needs with ``needs(scope)`` (stored in the route's
OpenAPI extension ``x-heron-scope``, so the document shows it too). ``authorize``
reads it from the matched route: a route that declares nothing is refused, so a
route added without a decision fails closed. Cookie-authenticated calls that change
state must carry the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from heron.auth.principal import Principal
from heron.auth.web import CSRF_HEADER, check_csrf

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "SAFE_METHODS",
    "audit",
    "authorize",
    "client_of",
    "needs",
    "principal",
]

PUBLIC = "public"
#: Any authenticated caller, whatever its scopes (``/api/me``, ``/api/logout``).
AUTHENTICATED = "authenticated"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCOPE_KEY = "x-heron-scope"


def needs(scope: str) -> dict[str, Any]:
    """Route keyword arguments declaring the scope a route needs."""
    return {"openapi_extra": {SCOPE_KEY: scope}}


def required_scope(route: Any) -> str | None:
    extra = getattr(route, "openapi_extra", None) or {}
    found = extra.get(SCOPE_KEY)
    return found if isinstance(found, str) else None


def authorize(request: Request) -> None:
    """401 without a principal, 403 without the route's scope or a needed CSRF token."""
    scope = required_scope(request.scope.get("route"))
    if scope is None:
        raise HTTPException(403, "forbidden: this route declares no access rule")
    if scope == PUBLIC:
        return
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise HTTPException(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    if scope != AUTHENTICATED and not found.allows(scope):
        raise HTTPException(403, f"forbidden: needs the {scope!r} role or scope")
    if (
        found.session_id is not None
        and request.method not in SAFE_METHODS
        and not check_csrf(request, request.headers.get(CSRF_HEADER))
    ):
        raise HTTPException(403, f"forbidden: missing or wrong {CSRF_HEADER} header")


def principal(request: Request) -> Principal:
    """The caller of an authorized route."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise HTTPException(401, "unauthorized")
    return found


def client_of(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def audit(
    request: Request,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> None:
    """Append one record for the caller's action to the audit log."""
    who = actor
    if who is None:
        found: Principal | None = getattr(request.state, "principal", None)
        who = found.actor if found is not None else "-"
    request.app.state.audit.append(who, action, target, details, client_of(request))
