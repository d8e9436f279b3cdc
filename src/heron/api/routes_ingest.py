"""``POST /api/ingest``: a log file sent to the running node, answered once it is stored."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from heron.api.access import audit, needs
from heron.intake import IntakeClosedError
from heron.parsers import FORMATS
from heron.sources.base import SourceRuntime
from heron.sources.upload import (
    UploadSpoolError,
    UploadTooLargeError,
    ingest_upload,
    spool_upload,
)

__all__ = ["MAX_UPLOADS", "UPLOAD_SOURCE", "router"]

router = APIRouter(tags=["ingest"])

#: The name uploads are counted under in ``/metrics``.
UPLOAD_SOURCE = "upload"
#: Uploads spooled and ingested at once; more wait for a slot.
MAX_UPLOADS = 64


class DeadLetterOut(BaseModel):
    source: str
    reason: str
    location: str


class IngestResult(BaseModel):
    events: int
    failed: int
    bytes: int
    seconds: float
    dead_letters: list[DeadLetterOut]
    messages: list[str]


def _runtime(request: Request) -> SourceRuntime:
    collector = request.app.state.collector
    config = collector.config
    return SourceRuntime(
        collector.intake,
        collector.metrics.source(UPLOAD_SOURCE, UPLOAD_SOURCE),
        config.limits.max_line_bytes,
        config.http.max_upload_bytes,
        config.limits.busy_timeout_s,
    )


def _late(node: Any) -> int:
    """Correlation matches dropped as late so far (counted once per correlation fed)."""
    correlation = node.detector.correlation if node.detector is not None else None
    return correlation.stats().late if correlation is not None else 0


@router.post(
    "/ingest",
    response_model=IngestResult,
    summary="Ingest a log file: the request body is the file's bytes",
    description=(
        "Any format `heron ingest` reads (EVTX, NDJSON, syslog, CEF, CloudTrail, "
        "gzip …), detected from content unless `format` is given. The answer comes once "
        "every record is stored (events) or kept as a dead letter (failed). `name` "
        "becomes `log.file.path`. Bodies over `http.max_upload_bytes` get 413."
    ),
    responses={
        400: {"description": "Unknown format"},
        413: {"description": "Body over the upload limit"},
        507: {"description": "The upload could not be spooled (disk full)"},
        503: {"description": "The node is stopping"},
    },
    **needs("ingest"),
)
async def ingest_file(
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=4096)] = "upload",
    fmt: Annotated[str, Query(alias="format")] = "auto",
) -> Any:
    if fmt != "auto" and fmt not in FORMATS:
        raise HTTPException(400, f"unknown format {fmt!r}")
    runtime = _runtime(request)
    node = request.app.state.node
    late_before = _late(node)
    body = request.stream()
    try:
        # Uploads beyond MAX_UPLOADS wait here, their bodies unread: the spool's disk use
        # stays bounded by MAX_UPLOADS x http.max_upload_bytes.
        async with (
            request.app.state.upload_slots,
            spool_upload(node.data_dir, body, runtime.max_body_bytes) as (path, size),
        ):
            summary = await ingest_upload(runtime, path, name, fmt, size)
    except UploadTooLargeError as exc:
        raise HTTPException(413, str(exc)) from None
    except UploadSpoolError as exc:
        raise HTTPException(507, str(exc)) from None
    except IntakeClosedError:
        raise HTTPException(503, "the node is stopping: nothing more is taken") from None
    late = _late(node) - late_before
    if late > 0:
        # Counted over the node's whole input meanwhile, so live sources' share too.
        summary.messages.append(
            f"correlation skipped {late:,} matches older than what the node had already "
            "processed: correlations run in event time with a lateness bound "
            "('heron rules backtest RULE --since …' runs a rule over stored events)"
        )
    # Off the loop: an audit record is two synced writes, and a folder is many uploads.
    await asyncio.to_thread(
        audit,
        request,
        "ingest.upload",
        name,
        {"format": fmt, "bytes": summary.bytes, "events": summary.events, "failed": summary.failed},
    )
    return {
        "events": summary.events,
        "failed": summary.failed,
        "bytes": summary.bytes,
        "seconds": round(summary.seconds, 3),
        "dead_letters": [
            {"source": d.source, "reason": d.reason, "location": d.location}
            for d in summary.dead_letters
        ],
        "messages": summary.messages,
    }
