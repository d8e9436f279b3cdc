"""What the store holds (`GET /api/stats`), what it could not store (`GET
/api/deadletters`), and deleting what is past retention (`POST /api/retention`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from heron.api.access import audit, needs
from heron.api.limits import MAX_EVENTS_LIMIT

__all__ = ["router"]

router = APIRouter(tags=["store"])


class PartitionOut(BaseModel):
    day: str
    rows: int
    location: str
    bytes: int


class StoreStatsOut(BaseModel):
    events: int
    first: int | None
    last: int | None
    dead_letters: int
    partitions: list[PartitionOut]


class DeadLetterRow(BaseModel):
    received: int
    source: str
    location: str
    reason: str
    raw_size: int
    raw: str


class DeadLetters(BaseModel):
    dead_letters: list[DeadLetterRow]


@router.get(
    "/stats",
    response_model=StoreStatsOut,
    summary="Events stored, their time span, day partitions, dead letters",
    **needs("read"),
)
def store_stats(request: Request) -> dict[str, Any]:
    stats: dict[str, Any] = request.app.state.node.store.stats().to_dict()
    return stats


@router.get(
    "/deadletters",
    response_model=DeadLetters,
    summary="Records that could not be stored, newest first, with the reason",
    **needs("read"),
)
def dead_letters(
    request: Request, limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_LIMIT)] = 50
) -> dict[str, Any]:
    letters = request.app.state.node.store.dead_letters(limit)
    return {"dead_letters": [d.to_dict() for d in letters]}


class RetentionIn(BaseModel):
    keep: str = Field(min_length=2, max_length=32, description="A duration: 90d, 52w")


class RetentionDone(BaseModel):
    deleted: int
    moved: int


@router.post(
    "/retention",
    response_model=RetentionDone,
    summary="Delete whole days older than keep; move old days to Parquet",
    **needs("admin"),
)
def retention(body: RetentionIn, request: Request) -> dict[str, Any]:
    from heron.housekeeping import keep_in_shape
    from heron.model.timeutil import parse_duration

    try:
        keep_ns = parse_duration(body.keep)
    except ValueError as exc:
        raise HTTPException(422, f"keep: {exc}") from None
    if keep_ns <= 0:
        raise HTTPException(422, "keep: must be longer than zero")
    done = keep_in_shape(request.app.state.node.store, keep_ns=keep_ns)
    audit(
        request,
        "retention",
        None,
        {"keep": body.keep, "deleted": done.deleted, "moved": done.moved},
    )
    return {"deleted": done.deleted, "moved": done.moved}
