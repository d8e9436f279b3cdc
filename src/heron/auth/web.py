"""Cookie and CSRF helpers shared by the JSON API and the server-rendered UI."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response

from heron.auth.middleware import SESSION_COOKIE
from heron.auth.store import AuthStore, Session

__all__ = [
    "CSRF_HEADER",
    "check_csrf",
    "clear_session_cookie",
    "csrf_token",
    "request_session",
    "set_session_cookie",
]

CSRF_HEADER = "X-CSRF-Token"


def set_session_cookie(response: Response, session: Session, secure: bool) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure over TLS, path ``/``."""
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=None,  # a browser-session cookie; the server enforces expiry
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def request_session(request: Request) -> Session | None:
    """The live session of a cookie-authenticated request, or None."""
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.session_id is None:
        return None
    auth: AuthStore = request.app.state.auth
    return auth.session(principal.session_id)


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session ('' without a session)."""
    session = request_session(request)
    return session.csrf if session is not None else ""


def check_csrf(request: Request, submitted: str | None) -> bool:
    """Whether ``submitted`` is the session's CSRF token (constant-time compare)."""
    expected = csrf_token(request)
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogateescape"))
