"""The "Add data" page: log files uploaded from the browser into the running node.

A plain multipart form (it works without JavaScript): each file goes the way of
``POST /api/ingest`` (``heron.sources.upload.receive_upload``): spooled, read with
its format detected, queued with every source's records, and reported once stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from heron.intake import IntakeClosedError
from heron.parsers import FORMATS
from heron.sources.upload import UploadSpoolError, UploadTooLargeError, receive_upload
from heron.web.access import audit, check_form_csrf, requires
from heron.web.render import page

__all__ = ["MAX_FILES", "ingest_form", "ingest_submit"]

#: Files one form may carry.
MAX_FILES = 100
READ_BYTES = 1 << 20


def _context(results: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    return {"title": "Add data", "formats": sorted(FORMATS), "results": results, **more}


@requires("ingest")
def ingest_form(request: Request) -> Response:
    return page(request, "ingest.html", _context())


async def _body(upload: UploadFile) -> AsyncIterator[bytes]:
    while part := await upload.read(READ_BYTES):
        yield part


def _refused(request: Request, message: str, status: int) -> Response:
    return page(request, "ingest.html", _context(error=message), status_code=status)


@requires("ingest")
async def ingest_submit(request: Request) -> Response:
    form = await request.form(max_files=MAX_FILES, max_fields=10, max_part_size=64 * 1024)
    try:
        if not check_form_csrf(request, form.get("csrf")):
            return _refused(request, "Missing or wrong CSRF token.", 403)
        fmt = str(form.get("format") or "auto")
        if fmt != "auto" and fmt not in FORMATS:
            return _refused(request, f"Unknown format {fmt!r}.", 400)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not files:
            return _refused(request, "Choose at least one file.", 400)
        results: list[dict[str, Any]] = []
        for upload in files:
            # The browser's name for the file, without any folder it may send.
            name = PurePath(str(upload.filename).replace("\\", "/")).name[:255] or "upload"
            try:
                summary = await receive_upload(request.app.state, _body(upload), name, fmt)
            except (UploadTooLargeError, UploadSpoolError) as exc:
                results.append({"name": name, "error": str(exc)})
                continue
            except IntakeClosedError:
                return _refused(request, "The node is stopping: nothing more is taken.", 503)
            await run_in_threadpool(
                audit,
                request,
                "ingest.upload",
                name,
                format=fmt,
                bytes=summary.bytes,
                events=summary.events,
                failed=summary.failed,
            )
            results.append({"name": name, "summary": summary})
    finally:
        await form.close()
    return page(request, "ingest.html", _context(results))
