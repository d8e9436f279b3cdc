"""Threat-intelligence indicators in the running node: list, expire, load, and feeds.

``POST /api/intel/load`` takes indicators already read and checked by ``heron intel
load`` or ``heron intel refresh`` (an Arrow stream of ``LOAD_SCHEMA`` with a ``revoked``
column), so only the node's control socket may call it: reading feeds (files, URLs,
TAXII) stays with the command, which has the files and the credentials. For the same
reason the command records how each feed's run went (``POST
/api/intel/feeds/{name}/runs``); ``GET /api/intel/feeds`` shows it to anyone who reads.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from heron.api.access import audit, needs
from heron.auth.principal import LOCAL_SCOPE
from heron.intel.feeds import FeedRun, StoreFeedBook, feed_state_text, feed_states
from heron.intel.indicator import TYPES, Indicator
from heron.intel.loading import Stored, once_drained, store_indicators
from heron.intel.store import LOAD_SCHEMA, IntelStore
from heron.model.timeutil import parse_timestamp
from heron.sources.upload import UploadSpoolError, UploadTooLargeError, spool_upload

__all__ = ["REVOKED_COLUMN", "router"]

router = APIRouter(tags=["intel"])

#: The column that marks the rows of a load that withdraw an indicator.
REVOKED_COLUMN = "revoked"


class IndicatorList(BaseModel):
    indicators: list[dict[str, Any]]


class Expired(BaseModel):
    expired: int
    remaining: int


@router.get("/intel", response_model=IndicatorList, summary="Indicators", **needs("read"))
def list_indicators(
    request: Request,
    type: Annotated[str | None, Query(description="One of the indicator types")] = None,
    source: Annotated[str | None, Query(max_length=256)] = None,
    value: Annotated[str | None, Query(max_length=1024, description="* wildcards")] = None,
    include_expired: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    if type is not None and type not in TYPES:
        raise HTTPException(422, f"type: one of {', '.join(TYPES)}")
    rows = IntelStore(request.app.state.node.store, read_only=True).list(
        type=type, source=source, value=value, include_expired=include_expired, limit=limit
    )
    return {"indicators": rows}


@router.post(
    "/intel/expire",
    response_model=Expired,
    summary="Delete indicators past their expiry",
    **needs("admin"),
)
def expire_indicators(request: Request) -> dict[str, Any]:
    store = IntelStore(request.app.state.node.store)
    removed = store.expire()
    remaining = store.count()
    request.app.state.collector.intake.snapshots_changed(timeout=0)
    audit(request, "intel.expire", None, {"expired": removed, "remaining": remaining})
    return {"expired": removed, "remaining": remaining}


def _split(table: pa.Table) -> tuple[pa.Table, list[Indicator]]:
    """The indicators to store, and those withdrawn (by type and value)."""
    expected = [*LOAD_SCHEMA.names, REVOKED_COLUMN]
    if table.column_names != expected:
        raise HTTPException(400, f"indicators: columns must be {expected}")
    withdrawn = table.column(REVOKED_COLUMN).to_pylist()
    rows = table.drop_columns([REVOKED_COLUMN])
    keep = pa.array([not w for w in withdrawn], pa.bool_())
    gone = rows.filter(pa.array(withdrawn, pa.bool_())).select(["type", "value", "source"])
    revoked = [Indicator(**row) for row in gone.to_pylist()]
    return rows.filter(keep).cast(LOAD_SCHEMA), revoked


def _load(request: Request, table: pa.Table, retro_days: int) -> dict[str, Any]:
    from heron.alerts import AlertStore

    node = request.app.state.node
    indicators, revoked = _split(table)
    stored = store_indicators(
        node.store,
        indicators,
        revoked,
        retro_days=retro_days,
        alerts=node.alerts if node.alerts is not None else AlertStore(node.store),
        # Events transformed from now on are matched against the new indicators as they
        # come in; those transformed before are in the store when the retro-match runs.
        before_retro=once_drained(request.app.state.collector.intake),
    )
    return stored.to_dict()


@router.post(
    "/intel/load",
    response_model=Stored,
    summary="Store indicators read by `heron intel load` (the control socket only)",
    **needs(LOCAL_SCOPE),
)
async def load_indicators(
    request: Request, retro_days: Annotated[int, Query(ge=0, le=3650)] = 30
) -> dict[str, Any]:
    state = request.app.state
    limit = state.collector.config.http.max_upload_bytes
    try:
        async with spool_upload(state.node.data_dir, request.stream(), limit) as (path, _):
            table = await asyncio.to_thread(_read_stream, str(path))
            done = await run_in_threadpool(_load, request, table, retro_days)
    except UploadTooLargeError as exc:
        raise HTTPException(413, str(exc)) from None
    except UploadSpoolError as exc:
        raise HTTPException(507, str(exc)) from None
    await run_in_threadpool(audit, request, "intel.load", None, done)
    return done


def _read_stream(path: str) -> pa.Table:
    try:
        # Read into memory, not mapped: the spool file goes once the load is done.
        with pa.OSFile(path) as source:
            return pa.ipc.open_stream(source).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise HTTPException(400, f"indicators: not an Arrow stream ({exc})") from None


class FeedState(BaseModel):
    name: str
    last_run: str | None
    last_success: str | None
    ok: bool | None
    last_error: str | None
    taxii_cursor: str | None = Field(description="Where the next TAXII fetch starts")
    last_added: int | None


class FeedStates(BaseModel):
    feeds: list[FeedState]


class FeedRunRecord(BaseModel):
    ran_at: str = Field(max_length=64, description="When the run started (RFC 3339)")
    ok: bool
    error: str | None = Field(None, max_length=4000)
    added: int = Field(0, ge=0)
    taxii_cursor: str | None = Field(None, max_length=64)


@router.get(
    "/intel/feeds",
    response_model=FeedStates,
    summary="How each feed's last runs went (`heron intel refresh`)",
    **needs("read"),
)
def list_feeds(request: Request) -> dict[str, Any]:
    state = feed_states(request.app.state.node.store)
    return {"feeds": [feed_state_text(name, row) for name, row in state.items()]}


def _ns(text: str, what: str) -> int:
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise HTTPException(422, f"{what}: {exc}") from None


@router.post(
    "/intel/feeds/{name}/runs",
    response_model=FeedState,
    summary="Record a feed run of `heron intel refresh` (the control socket only)",
    **needs(LOCAL_SCOPE),
)
def record_feed_run(
    request: Request,
    name: Annotated[str, Path(max_length=100, pattern=r"^[\w.\-]+$")],
    body: FeedRunRecord,
) -> dict[str, Any]:
    ran_at = _ns(body.ran_at, "ran_at")
    cursor = _ns(body.taxii_cursor, "taxii_cursor") if body.taxii_cursor is not None else None
    book = StoreFeedBook(request.app.state.node.store)
    book.record(name, ran_at, FeedRun(name, body.ok, body.error, added=body.added), cursor)
    audit(request, "intel.feed_run", name, {"ok": body.ok, "added": body.added})
    return feed_state_text(name, book.state()[name])
