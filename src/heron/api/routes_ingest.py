"""``POST /api/ingest``: a log file sent to the running node, answered once it is stored;
``POST /api/ingest/files``: files on the node's machine, named by a local caller."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from heron.api.access import audit, needs
from heron.auth.principal import LOCAL_SCOPE
from heron.errors import HeronError
from heron.intake import IntakeClosedError
from heron.parsers import FORMATS
from heron.sources.localfiles import ingest_local_files
from heron.sources.upload import UploadSpoolError, UploadTooLargeError, receive_upload

__all__ = ["MAX_PATHS_BYTES", "router"]

router = APIRouter(tags=["ingest"])

#: Largest ``/api/ingest/files`` request: the paths of a folder of many files.
MAX_PATHS_BYTES = 64 * 1024 * 1024


class DeadLetterOut(BaseModel):
    source: str
    reason: str
    location: str


class IngestResult(BaseModel):
    events: int
    failed: int
    detections: int = Field(description="Stored as alerts: single events, then correlations")
    bytes: int
    seconds: float
    dead_letters: list[DeadLetterOut]
    messages: list[str]


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
    try:
        summary = await receive_upload(request.app.state, request.stream(), name, fmt)
    except UploadTooLargeError as exc:
        raise HTTPException(413, str(exc)) from None
    except UploadSpoolError as exc:
        raise HTTPException(507, str(exc)) from None
    except IntakeClosedError:
        raise HTTPException(503, "the node is stopping: nothing more is taken") from None
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
        "detections": summary.detections,
        "bytes": summary.bytes,
        "seconds": round(summary.seconds, 3),
        "dead_letters": [
            {"source": d.source, "reason": d.reason, "location": d.location}
            for d in summary.dead_letters
        ],
        "messages": summary.messages,
    }


class LocalFile(BaseModel):
    path: str = Field(min_length=1, max_length=4096, description="Absolute, on the node")
    name: str = Field(min_length=1, max_length=4096, description="Its log.file.path")


class LocalFiles(BaseModel):
    files: list[LocalFile] = Field(min_length=1, max_length=1_000_000)
    format: str = "auto"
    skip_ingested: bool = False


class LocalFilesResult(BaseModel):
    events: int
    failed: int
    detections: int = Field(description="Stored as alerts: single events, then correlations")
    files: int
    seconds: float
    messages: list[str]


@router.post(
    "/ingest/files",
    response_model=LocalFilesResult,
    summary="Ingest files on the node's machine, read by path (the control socket only)",
    **needs(LOCAL_SCOPE),
)
async def ingest_local(request: Request, body: LocalFiles) -> Any:
    if body.format != "auto" and body.format not in FORMATS:
        raise HTTPException(400, f"unknown format {body.format!r}")
    files = [(Path(f.path), f.name) for f in body.files]
    if any(not path.is_absolute() for path, _ in files):
        raise HTTPException(400, "files: every path must be absolute")
    try:
        summary = await ingest_local_files(
            request.app.state, files, body.format, body.skip_ingested
        )
    except IntakeClosedError:
        raise HTTPException(503, "the node is stopping: nothing more is taken") from None
    except HeronError as exc:
        raise HTTPException(400, str(exc)) from None
    await asyncio.to_thread(
        audit,
        request,
        "ingest.files",
        None,
        {"files": summary.files, "events": summary.events, "failed": summary.failed},
    )
    return {
        "events": summary.events,
        "failed": summary.failed,
        "detections": summary.detections,
        "files": summary.files,
        "seconds": round(summary.seconds, 3),
        "messages": summary.messages,
    }
