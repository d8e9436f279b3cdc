"""Login, logout, first-admin setup, ``/api/me``, users and API tokens."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from heron.api.access import AUTHENTICATED, PUBLIC, audit, client_of, needs, principal
from heron.api.params import duration_ns
from heron.auth import AuthStore, LoginFailed, TooManyAttempts
from heron.auth.setup import complete_setup
from heron.auth.web import clear_session_cookie, request_session, set_session_cookie
from heron.model.timeutil import now_ns

__all__ = ["router"]

router = APIRouter(tags=["access"])

Role = Literal["ingest", "read", "analyst", "admin"]


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    user: str
    role: str
    csrf: str = Field(description="Send it as X-CSRF-Token with state-changing calls")
    expires: int


class SetupIn(BaseModel):
    token: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    name: str
    kind: str
    scopes: list[str]
    csrf: str | None = None


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role = "read"


class UserPatch(BaseModel):
    role: Role | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)


class UserList(BaseModel):
    users: list[dict[str, Any]]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    scopes: list[Role] = Field(min_length=1, max_length=4)
    expires_in: str | None = Field(None, max_length=32, description="A duration, e.g. 30d")


class TokenOut(BaseModel):
    name: str
    scopes: list[str]
    expires: int | None
    secret: str = Field(description="Shown only in this answer")


class TokenList(BaseModel):
    tokens: list[dict[str, Any]]


def _auth(request: Request) -> AuthStore:
    return request.app.state.auth  # type: ignore[no-any-return]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post(
    "/login",
    response_model=LoginOut,
    summary="Log in (sets the session cookie)",
    responses={
        401: {"description": "Wrong name or password"},
        429: {"description": "Rate-limited"},
    },
    **needs(PUBLIC),
)
async def login(body: LoginIn, request: Request) -> Any:
    client = client_of(request) or "-"
    try:
        session = await run_in_threadpool(_auth(request).login, body.name, body.password, client)
    except TooManyAttempts:
        await run_in_threadpool(
            audit, request, "login_failed", body.name[:64], {"reason": "rate-limited"}, actor="-"
        )
        raise
    except LoginFailed as exc:
        await run_in_threadpool(audit, request, "login_failed", body.name[:64], None, actor="-")
        raise HTTPException(401, str(exc)) from None
    # The audit append fsyncs: off the event loop.
    await run_in_threadpool(audit, request, "login", session.user, actor=session.user)
    response = JSONResponse(
        {
            "user": session.user,
            "role": session.role,
            "csrf": session.csrf,
            "expires": session.expires,
        }
    )
    set_session_cookie(response, session, _secure(request))
    return response


@router.post("/logout", response_model=dict[str, Any], summary="Log out", **needs(AUTHENTICATED))
def logout(request: Request) -> Any:
    who = principal(request)
    if who.session_id is not None:
        _auth(request).logout(who.session_id)
    audit(request, "logout")
    response = JSONResponse({"logged_out": True})
    clear_session_cookie(response)
    return response


@router.post(
    "/setup",
    response_model=dict[str, Any],
    status_code=201,
    summary="Create the first admin with the one-time setup token",
    **needs(PUBLIC),
)
async def setup(body: SetupIn, request: Request) -> dict[str, Any]:
    await run_in_threadpool(
        complete_setup, request.app, body.token, body.name, body.password, client_of(request)
    )
    return {"user": body.name, "role": "admin"}


@router.get("/me", response_model=Me, summary="Who am I", **needs(AUTHENTICATED))
def me(request: Request) -> dict[str, Any]:
    who = principal(request)
    session = request_session(request)
    return {
        "name": who.name,
        "kind": who.kind,
        "scopes": sorted(who.scopes),
        "csrf": session.csrf if session is not None else None,
    }


# -- users --------------------------------------------------------------------------


@router.get("/users", response_model=UserList, summary="List users", **needs("admin"))
def list_users(request: Request) -> dict[str, Any]:
    return {"users": [u.to_dict() for u in _auth(request).users()]}


@router.post(
    "/users",
    response_model=dict[str, Any],
    status_code=201,
    summary="Create a user",
    **needs("admin"),
)
def create_user(body: UserIn, request: Request) -> dict[str, Any]:
    _auth(request).create_user(body.name, body.password, body.role)
    audit(request, "user.create", body.name, {"role": body.role})
    return {"name": body.name, "role": body.role}


@router.patch(
    "/users/{name}",
    response_model=dict[str, Any],
    summary="Set a user's role or password",
    **needs("admin"),
)
def update_user(name: str, body: UserPatch, request: Request) -> dict[str, Any]:
    auth = _auth(request)
    if auth.user(name[:64]) is None:
        raise HTTPException(404, "no such user")
    if body.role is None and body.password is None:
        raise HTTPException(422, "nothing to change: give role or password")
    if body.role is not None:
        auth.set_role(name, body.role)
    if body.password is not None:
        auth.set_password(name, body.password)
    changed = [k for k in ("role", "password") if getattr(body, k) is not None]
    audit(request, "user.update", name, {"changed": changed, "role": body.role})
    found = auth.user(name)
    return found.to_dict() if found is not None else {"name": name}


@router.delete(
    "/users/{name}", response_model=dict[str, Any], summary="Delete a user", **needs("admin")
)
def delete_user(name: str, request: Request) -> dict[str, Any]:
    _auth(request).delete_user(name[:64])
    audit(request, "user.delete", name[:64])
    return {"deleted": name[:64]}


# -- tokens -------------------------------------------------------------------------


@router.get("/tokens", response_model=TokenList, summary="List API tokens", **needs("admin"))
def list_tokens(request: Request) -> dict[str, Any]:
    return {"tokens": [t.to_dict() for t in _auth(request).tokens()]}


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=201,
    summary="Create an API token (its secret is shown once)",
    **needs("admin"),
)
def create_token(body: TokenIn, request: Request) -> dict[str, Any]:
    ttl = duration_ns(body.expires_in, "expires_in")
    expires = None if ttl is None else now_ns() + ttl
    secret = _auth(request).create_token(
        body.name, body.scopes, expires, created_by=principal(request).actor
    )
    audit(request, "token.create", body.name, {"scopes": sorted(body.scopes), "expires": expires})
    return {
        "name": body.name,
        "scopes": sorted(set(body.scopes)),
        "expires": expires,
        "secret": secret,
    }


@router.delete(
    "/tokens/{name}",
    response_model=dict[str, Any],
    summary="Revoke an API token",
    **needs("admin"),
)
def revoke_token(name: str, request: Request) -> dict[str, Any]:
    _auth(request).revoke_token(name[:64])
    audit(request, "token.revoke", name[:64])
    return {"revoked": name[:64]}
