"""`GET /api/stats`: what the store holds; `GET /api/deadletters`: what it could not store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from heron.api.access import needs
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
    st = request.app.state.node.store.stats()
    return {
        "events": st.events,
        "first": st.first,
        "last": st.last,
        "dead_letters": st.dead_letters,
        "partitions": [
            {"day": p.day, "rows": p.rows, "location": p.location, "bytes": p.bytes}
            for p in st.partitions
        ],
    }


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
    return {
        "dead_letters": [
            {
                "received": d.received,
                "source": d.source,
                "location": d.location,
                "reason": d.reason,
                "raw_size": d.raw_size,
                "raw": d.raw,
            }
            for d in letters
        ]
    }
