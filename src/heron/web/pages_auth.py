"""Sign-in, sign-out and first-admin set-up pages.

The login form has no session yet, so its CSRF token is a double-submit cookie: a
random value set with the form (SameSite=Strict, HttpOnly) that the post must echo.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from heron.web.access import (
    FORM_LIMITS,
    SESSION_COOKIE,
    actor_client,
    audit,
    check_form_csrf,
    principal_of,
    safe_next,
)
from heron.web.render import page

__all__ = ["login_form", "login_submit", "logout", "setup_form", "setup_submit"]

LOGIN_CSRF_COOKIE = "heron_login_csrf"
GENERIC_FAILURE = "Wrong user name or password."


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "login.html",
        {
            "title": "Sign in",
            "login_csrf": token,
            "next": safe_next(request.query_params.get("next")),
            "error": error,
            "needs_setup": _needs_setup(request),
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/ui/login",
    )
    return response


def _needs_setup(request: Request) -> bool:
    auth = getattr(request.app.state, "auth", None)
    return auth is not None and not auth.has_users()


def _refuse_without_form_token(request: Request, form: FormData) -> Response | None:
    """403 unless the form carries the token of its pre-session cookie (double submit)."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf")
    if cookie and isinstance(sent, str) and hmac.compare_digest(cookie, sent):
        return None
    return page(
        request,
        "error.html",
        {"title": "Refused", "message": "The form expired or did not come from this site."},
        status_code=403,
    )


async def login_form(request: Request) -> Response:
    if principal_of(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


async def login_submit(request: Request) -> Response:
    from heron.auth import LoginFailed, TooManyAttempts
    from heron.auth.web import set_session_cookie

    form = await request.form(**FORM_LIMITS)
    refused = _refuse_without_form_token(request, form)
    if refused is not None:
        return refused
    name = str(form.get("username") or "")[:256]
    password = str(form.get("password") or "")[:1024]
    auth = request.app.state.auth
    client = actor_client(request) or "-"
    try:
        session = await run_in_threadpool(auth.login, name, password, client)
    except TooManyAttempts:
        return _login_page(
            request, error="Too many attempts. Wait a minute and try again.", status_code=429
        )
    except LoginFailed:
        log = getattr(request.app.state, "audit", None)
        if log is not None:
            log.append(name or "-", "login_failed", None, None, client)
        return _login_page(request, error=GENERIC_FAILURE, status_code=401)
    log = getattr(request.app.state, "audit", None)
    if log is not None:
        log.append(session.user, "login", None, None, client)
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    set_session_cookie(response, session, _secure(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


async def logout(request: Request) -> Response:
    from heron.auth.web import clear_session_cookie

    form = await request.form(**FORM_LIMITS)
    principal = principal_of(request)
    if principal is None:
        return RedirectResponse("/ui/login", status_code=303)
    if not check_form_csrf(request, form.get("csrf")):
        return page(
            request,
            "error.html",
            {"title": "Refused", "message": "Missing or wrong CSRF token."},
            status_code=403,
        )
    audit(request, "logout")
    session_id = principal.session_id or request.cookies.get(SESSION_COOKIE)
    if session_id:
        await run_in_threadpool(request.app.state.auth.logout, session_id)
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session_cookie(response)
    return response


def _setup_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "setup.html",
        {"title": "Set up Heron", "login_csrf": token, "error": error},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/ui/setup",
    )
    return response


async def setup_form(request: Request) -> Response:
    if not _needs_setup(request):
        return RedirectResponse("/ui/login", status_code=303)
    return _setup_page(request)


async def setup_submit(request: Request) -> Response:
    """Create the first admin with the one-time setup token printed at start."""
    from heron.auth import AccountError

    form = await request.form(**FORM_LIMITS)
    refused = _refuse_without_form_token(request, form)
    if refused is not None:
        return refused
    if not _needs_setup(request):
        return RedirectResponse("/ui/login", status_code=303)
    name = str(form.get("username") or "")[:256]
    try:
        await run_in_threadpool(
            request.app.state.auth.complete_setup,
            str(form.get("token") or "")[:256],
            name,
            str(form.get("password") or "")[:1024],
        )
    except AccountError as exc:
        return _setup_page(request, error=str(exc), status_code=400)
    log = getattr(request.app.state, "audit", None)
    if log is not None:
        log.append(
            "setup",
            "user.create",
            name,
            {"role": "admin"},
            actor_client(request),
        )
    return RedirectResponse("/ui/login", status_code=303)
