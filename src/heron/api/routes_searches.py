"""Saved searches: list, save, delete, run."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from heron.api.access import audit, needs
from heron.api.errors import ApiError
from heron.api.limits import MAX_EVENTS_LIMIT, MAX_QUERY_CHARS
from heron.model.timeutil import now_ns
from heron.query.api import hunt_json
from heron.query.errors import QueryError
from heron.query.saved import delete_search, get_search, list_searches, save_search

__all__ = ["router"]

router = APIRouter(tags=["searches"])


class SearchIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    description: str = Field("", max_length=2000)
    schedule: str | None = Field(None, max_length=32, description="An interval, e.g. 5m")
    alert: bool = False
    level: Literal["informational", "low", "medium", "high", "critical"] = "medium"


class SearchList(BaseModel):
    searches: list[dict[str, Any]]


class RunRequest(BaseModel):
    limit: int = Field(1000, ge=1, le=MAX_EVENTS_LIMIT)


def _store(request: Request) -> Any:
    return request.app.state.node.store


@router.get("/searches", response_model=SearchList, summary="Saved searches", **needs("read"))
def saved_searches(request: Request) -> dict[str, Any]:
    return {"searches": [s.to_dict() for s in list_searches(_store(request))]}


@router.post(
    "/searches",
    response_model=dict[str, Any],
    status_code=201,
    summary="Save (or replace) a search",
    **needs("analyst"),
)
def save(body: SearchIn, request: Request) -> dict[str, Any]:
    try:
        saved = save_search(
            _store(request),
            body.name,
            body.query,
            now=now_ns(),
            description=body.description,
            schedule=body.schedule,
            alert=body.alert,
            level=body.level,
        )
    except QueryError as exc:
        raise ApiError(400, exc.message, query_error={"text": str(exc)}) from None
    audit(request, "search.save", saved.name, {"query": saved.query[:4096]})
    return saved.to_dict()


@router.delete(
    "/searches/{name}",
    response_model=dict[str, Any],
    summary="Delete a saved search",
    **needs("analyst"),
)
def delete(name: str, request: Request) -> dict[str, Any]:
    if not delete_search(_store(request), name[:64]):
        raise HTTPException(404, "no such saved search")
    audit(request, "search.delete", name[:64])
    return {"deleted": name[:64]}


@router.post(
    "/searches/{name}/run",
    response_model=dict[str, Any],
    summary="Run a saved search",
    **needs("read"),
)
def run_saved(name: str, request: Request, body: RunRequest | None = None) -> dict[str, Any]:
    found = get_search(_store(request), name[:64])
    if found is None:
        raise HTTPException(404, "no such saved search")
    limit = body.limit if body is not None else 1000
    audit(request, "query", name[:64], {"kind": "saved", "query": found.query[:4096]})
    result = hunt_json(_store(request), found.query, limit=limit)
    if "error" in result:
        error = result["error"]
        raise ApiError(400, str(error.get("message") or "hunt failed"), query_error=error)
    return result
