"""What ``heron simulate score`` needs from a running node: the stored events of each
labelled record (``POST /api/simulate/markers``); the alerts come from ``/api/alerts``.

A simulation streamed to a node (``heron simulate send``, ``heron demo``) is scored
while the node runs, which holds the store.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints

from heron.api.access import needs

__all__ = ["MAX_MARKERS", "router"]

router = APIRouter(tags=["simulate"])

#: Markers resolved in one request (``heron simulate score`` sends them in batches).
MAX_MARKERS = 1000

Marker = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class Markers(BaseModel):
    markers: list[Marker] = Field(max_length=MAX_MARKERS)


class MarkerEvents(BaseModel):
    found: dict[str, list[str]] = Field(description="marker → ids of the events holding it")


@router.post(
    "/simulate/markers",
    response_model=MarkerEvents,
    summary="The stored events whose event.original holds each marker (simulate score)",
    **needs("read"),
)
def marker_events(body: Markers, request: Request) -> dict[str, Any]:
    from heron.simulate.score import resolve_markers

    # Markers reach SQL as one list parameter, never as text.
    return {"found": resolve_markers(request.app.state.node.store, body.markers)}
