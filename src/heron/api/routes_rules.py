"""Rules: list, enable, disable, upload a Sigma file; the values rules expand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field, StringConstraints

from heron.api.access import audit, needs
from heron.api.errors import ApiError
from heron.api.limits import MAX_RULE_BYTES
from heron.api.rulebook import (
    MAX_PLACEHOLDER_VALUE_CHARS,
    MAX_PLACEHOLDER_VALUES,
    RuleBook,
    RuleBookError,
    RuleUploadError,
)

__all__ = ["router"]

router = APIRouter(tags=["rules"])


class RuleList(BaseModel):
    rules: list[dict[str, Any]]
    #: Why a change made to the rule files outside the API (``heron rules`` commands,
    #: a file copied in) does not run: the node keeps its rules until it is fixed.
    not_applied: str | None = None


class RuleState(BaseModel):
    id: str
    enabled: bool
    live: bool


class Placeholders(BaseModel):
    placeholders: dict[str, list[str]]


class PlaceholderValues(BaseModel):
    values: list[Annotated[str, StringConstraints(max_length=MAX_PLACEHOLDER_VALUE_CHARS)]] = Field(
        min_length=1, max_length=MAX_PLACEHOLDER_VALUES
    )


class PlaceholderState(BaseModel):
    name: str
    values: list[str]
    live: bool


class UploadResult(BaseModel):
    file: str
    rules: list[str]
    live: bool


def _book(request: Request) -> RuleBook:
    return request.app.state.rulebook  # type: ignore[no-any-return]


def _fail(exc: RuleBookError) -> ApiError:
    if isinstance(exc, RuleUploadError):
        return ApiError(exc.status, str(exc), problems=exc.problems)
    return ApiError(exc.status, str(exc))


@router.get("/rules", response_model=RuleList, summary="List rules", **needs("read"))
def list_rules(request: Request) -> dict[str, Any]:
    book = _book(request)
    return {"rules": book.rows(), "not_applied": book.not_applied}


def _switch(request: Request, rule_id: str, enabled: bool) -> dict[str, Any]:
    try:
        found = _book(request).set_enabled(rule_id[:256], enabled)
    except RuleBookError as exc:
        raise _fail(exc) from None
    audit(request, "rule.enable" if enabled else "rule.disable", rule_id[:256])
    return found


@router.post(
    "/rules/{rule_id}/enable",
    response_model=RuleState,
    summary="Enable a rule",
    **needs("admin"),
)
def enable_rule(rule_id: str, request: Request) -> dict[str, Any]:
    return _switch(request, rule_id, True)


@router.post(
    "/rules/{rule_id}/disable",
    response_model=RuleState,
    summary="Disable a rule",
    **needs("admin"),
)
def disable_rule(rule_id: str, request: Request) -> dict[str, Any]:
    return _switch(request, rule_id, False)


@router.post(
    "/rules",
    response_model=UploadResult,
    status_code=201,
    summary="Upload a Sigma rule file (multipart field `file`)",
    responses={422: {"description": "The Sigma loader refused the file"}},
    **needs("admin"),
)
def upload_rule(request: Request, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    data = file.file.read(MAX_RULE_BYTES + 1)
    if len(data) > MAX_RULE_BYTES:
        raise HTTPException(413, f"a rule file is at most {MAX_RULE_BYTES} bytes")
    name = file.filename or ""
    try:
        found = _book(request).upload(name, data)
    except RuleBookError as exc:
        audit(request, "rule.upload", name[:100], {"ok": False, "error": str(exc)[:500]})
        raise _fail(exc) from None
    audit(request, "rule.upload", name, {"ok": True, "rules": found["rules"]})
    return found


@router.get(
    "/rules/placeholders",
    response_model=Placeholders,
    summary="Values of the %name% placeholders rules expand",
    **needs("read"),
)
def list_placeholders(request: Request) -> dict[str, Any]:
    try:
        return {"placeholders": _book(request).placeholders()}
    except RuleBookError as exc:
        raise _fail(exc) from None


@router.put(
    "/rules/placeholders/{name}",
    response_model=PlaceholderState,
    summary="Set a placeholder's values (detection uses them at once)",
    responses={409: {"description": "A rule that loads now would not load with them"}},
    **needs("admin"),
)
def set_placeholder(name: str, body: PlaceholderValues, request: Request) -> dict[str, Any]:
    return _change_placeholder(request, name, list(body.values))


@router.delete(
    "/rules/placeholders/{name}",
    response_model=PlaceholderState,
    summary="Remove a placeholder (refused while an enabled rule expands it)",
    **needs("admin"),
)
def unset_placeholder(name: str, request: Request) -> dict[str, Any]:
    return _change_placeholder(request, name, None)


def _change_placeholder(request: Request, name: str, values: list[str] | None) -> dict[str, Any]:
    try:
        found = _book(request).set_placeholder(name, values)
    except RuleBookError as exc:
        raise _fail(exc) from None
    if values is None:
        audit(request, "rule.placeholder.unset", name[:100], {})
    else:
        audit(request, "rule.placeholder.set", name[:100], {"values": len(values)})
    return found
