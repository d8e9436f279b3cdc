"""Threat-intelligence indicators in the running node: list, expire, and load.

``POST /api/intel/load`` takes indicators already read and checked by ``heron intel
load`` (an Arrow stream of ``LOAD_SCHEMA`` with a ``revoked`` column), so only the
node's control socket may call it: reading feeds (files, URLs, TAXII) stays with the
command, which has the files and the credentials.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from heron.api.access import audit, needs
from heron.auth.principal import LOCAL_SCOPE
from heron.intel.indicator import TYPES, Indicator
from heron.intel.store import LOAD_SCHEMA, IntelStore
from heron.sources.upload import UploadSpoolError, UploadTooLargeError, spool_upload

__all__ = ["REVOKED_COLUMN", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["intel"])

#: Longest a load waits for the batches already being transformed to be committed
#: before it retro-matches the store (see ``Intake.snapshots_changed``).
COMMIT_WAIT_S = 120.0

#: The column that marks the rows of a load that withdraw an indicator.
REVOKED_COLUMN = "revoked"


class IndicatorList(BaseModel):
    indicators: list[dict[str, Any]]


class Expired(BaseModel):
    expired: int
    remaining: int


class Loaded(BaseModel):
    received: int
    added: int
    updated: int
    revoked: int
    retro_hits: int
    alerts: int


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
    from heron.intel.retro import retro_match

    node = request.app.state.node
    indicators, revoked = _split(table)
    summary = IntelStore(node.store).load(indicators, revoked=revoked, collect_new=retro_days > 0)
    # Events transformed from now on are matched against the new indicators as they come
    # in; those transformed before are in the store once this returns, for the retro-match.
    if not request.app.state.collector.intake.snapshots_changed(timeout=COMMIT_WAIT_S):
        log.warning(
            "intel load: batches sent before the new indicators were still not committed "
            "after %.0f s; the retro-match may miss their events",
            COMMIT_WAIT_S,
        )
    detections = retro_match(node.store, summary.new, retro_days) if retro_days else []
    alerts = node.alerts if node.alerts is not None else AlertStore(node.store)
    added = alerts.add(detections) if detections else None
    return {
        "received": summary.received,
        "added": summary.added,
        "updated": summary.updated,
        "revoked": summary.revoked,
        "retro_hits": len(detections),
        "alerts": len(added.alert_ids) if added is not None else 0,
    }


@router.post(
    "/intel/load",
    response_model=Loaded,
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
