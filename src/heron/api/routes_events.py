"""``GET /api/events`` (time range, field filters, free text) and ``POST /api/hunt``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from heron.api.access import audit, needs
from heron.api.errors import ApiError
from heron.api.limits import MAX_EVENTS_LIMIT, MAX_HUNT_TIMEOUT_S, MAX_QUERY_CHARS
from heron.api.params import check_field, time_ns
from heron.errors import StoreError
from heron.query.api import hunt_json
from heron.store.base import SearchQuery

__all__ = ["router"]

router = APIRouter(tags=["events"])

#: Query parameters of ``/api/events`` that are not field filters.
_RESERVED = frozenset({"start", "end", "q", "limit"})
MAX_FILTERS = 32
MAX_FILTER_VALUE = 1024


class EventsPage(BaseModel):
    events: list[dict[str, Any]]
    count: int
    limit: int


class HuntRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="A hunt")
    limit: int = Field(1000, ge=1, le=MAX_EVENTS_LIMIT)
    timeout: float = Field(
        30.0, gt=0, le=MAX_HUNT_TIMEOUT_S, description="Seconds before the hunt is stopped"
    )


class Column(BaseModel):
    name: str
    type: str


class HuntResult(BaseModel):
    columns: list[Column]
    rows: list[dict[str, Any]]
    truncated: bool
    compile_ms: float
    run_ms: float


@router.get(
    "/events",
    response_model=EventsPage,
    summary="Search events",
    description=(
        "Events newest first. Every query parameter other than start, end, q and limit is "
        "a field filter `field=value` (`*` is a wildcard, case-insensitive); `q` is free "
        "text matched word by word in `event.original` and `message`. Times are ns since "
        "the epoch, RFC 3339, `now` or a duration ago (`2h`)."
    ),
    **needs("read"),
)
def search_events(
    request: Request,
    start: Annotated[str | None, Query(max_length=64)] = None,
    end: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_LIMIT)] = 100,
) -> dict[str, Any]:
    filters: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in _RESERVED:
            continue
        check_field(name)
        if len(value) > MAX_FILTER_VALUE:
            raise HTTPException(422, f"{name}: a filter value is at most {MAX_FILTER_VALUE} chars")
        if name in filters:
            raise HTTPException(422, f"{name}: one filter per field")
        filters[name] = value
    if len(filters) > MAX_FILTERS:
        raise HTTPException(422, f"at most {MAX_FILTERS} field filters")
    query = SearchQuery(
        start=time_ns(start, "start"),
        end=time_ns(end, "end"),
        filters=filters,
        text=q or None,
        limit=limit,
    )
    audit(
        request,
        "query",
        None,
        {"kind": "search", "start": query.start, "end": query.end, "filters": filters, "q": q},
    )
    try:
        events = request.app.state.node.store.search(query)
    except StoreError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"events": events, "count": len(events), "limit": limit}


@router.post(
    "/hunt",
    response_model=HuntResult,
    summary="Run a hunt (the hunting language)",
    responses={400: {"description": "The hunt does not parse, compile or run"}},
    **needs("read"),
)
def run_hunt(request: Request, body: HuntRequest) -> Any:
    audit(request, "query", None, {"kind": "hunt", "query": body.query[:4096]})
    found = hunt_json(
        request.app.state.node.store, body.query, limit=body.limit, timeout=body.timeout
    )
    if "error" in found:
        error = found["error"]
        raise ApiError(400, str(error.get("message") or "hunt failed"), query_error=error)
    return found


class FieldRow(BaseModel):
    name: str
    type: str
    where: str
    seen: int


class FieldList(BaseModel):
    fields: list[FieldRow]


@router.get(
    "/fields",
    response_model=FieldList,
    summary="Field names for hunts: the typed columns, then fields seen in recent events",
    **needs("read"),
)
def hunt_fields(request: Request) -> dict[str, Any]:
    from heron.query.fields import list_fields

    found = list_fields(request.app.state.node.store)
    return {
        "fields": [
            {"name": f.name, "type": f.type, "where": f.where, "seen": f.seen} for f in found
        ]
    }


class ExplainRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="A hunt")
    dialect: Literal["duckdb", "clickhouse"] = "duckdb"
    limit: int = Field(1000, ge=0, le=MAX_EVENTS_LIMIT, description="0: no row limit")


@router.post(
    "/hunt/explain",
    response_model=dict[str, str],
    summary="The SQL a hunt runs as",
    responses={400: {"description": "The hunt does not parse or compile"}},
    **needs("read"),
)
def explain_hunt(request: Request, body: ExplainRequest) -> dict[str, str]:
    from heron.query.api import error_json, explain_sql
    from heron.query.errors import QueryError

    try:
        sql = explain_sql(
            request.app.state.node.store, body.query, dialect=body.dialect, limit=body.limit
        )
    except QueryError as exc:
        raise ApiError(400, exc.message, query_error=error_json(exc)) from None
    return {"sql": sql}
