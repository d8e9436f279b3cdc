"""Who is signed in, what they may do, and the CSRF check of every UI form.

The auth middleware of ``create_app`` sets ``request.state.principal``; pages that need
a role send anonymous visitors to the login page and refuse (403) a role too low.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

__all__ = [
    "FORM_LIMITS",
    "actor_client",
    "audit",
    "check_form_csrf",
    "csrf_for",
    "principal_of",
    "requires",
    "safe_next",
]

#: Bounds on a posted form: no uploads, a few hundred fields, small values.
FORM_LIMITS: dict[str, int] = {"max_files": 0, "max_fields": 600, "max_part_size": 64 * 1024}
SESSION_COOKIE = "heron_session"


def principal_of(request: Request) -> Any:
    """The signed-in ``Principal`` or None."""
    if "principal" in request.state._state:
        return request.state.principal
    # Without the auth middleware (an app built without it) the cookie is read here.
    auth = getattr(request.app.state, "auth", None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if auth is None or not cookie:
        return None
    return auth.session_principal(cookie)


def csrf_for(request: Request) -> str:
    """The CSRF token the page's forms carry (the session's)."""
    from heron.auth.web import csrf_token

    try:
        return str(csrf_token(request))
    except Exception:  # a bearer-token principal has no session and no token
        return ""


def check_form_csrf(request: Request, submitted: object) -> bool:
    """Whether a posted ``csrf`` field is the session's token (constant-time compare)."""
    from heron.auth.web import check_csrf

    value = submitted if isinstance(submitted, str) else None
    return bool(check_csrf(request, value))


def safe_next(target: str | None, default: str = "/ui/") -> str:
    """``target`` if it is a path inside the UI, else ``default`` (no open redirects)."""
    if (
        not target
        or not target.startswith("/ui")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 for c in target)
    ):
        return default
    return target


def actor_client(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit(request: Request, action: str, target: str | None = None, **details: Any) -> None:
    """Append an analyst action to the audit log, when the app has one."""
    log = getattr(request.app.state, "audit", None)
    if log is None:
        return
    principal = principal_of(request)
    actor = principal.name if principal is not None else "-"
    log.append(actor, action, target, details or None, actor_client(request))


def _refusal(request: Request, scope: str) -> Response:
    principal = principal_of(request)
    if principal is None:
        where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/ui/login?" + urlencode({"next": where}), status_code=303)
    from heron.web.render import page

    return page(
        request,
        "error.html",
        {"title": "Not allowed", "message": f"This needs the {scope} role."},
        status_code=403,
    )


def _allowed(request: Request, scope: str) -> bool:
    principal = principal_of(request)
    return principal is not None and bool(principal.allows(scope))


def requires(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a page handler (plain or async) so that only principals with ``scope`` reach it."""

    def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def run_async(request: Request) -> Response:
                if not _allowed(request, scope):
                    return _refusal(request, scope)
                result: Response = await handler(request)
                return result

            return run_async

        @functools.wraps(handler)
        def run(request: Request) -> Response:
            if not _allowed(request, scope):
                return _refusal(request, scope)
            result: Response = handler(request)
            return result

        return run

    return wrap
