"""``GET /api/export``: a hunt's rows as a CSV or NDJSON download, audited as an export."""

from __future__ import annotations

import csv
import io
import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from heron.api.access import audit, needs
from heron.api.errors import ApiError
from heron.api.limits import MAX_QUERY_CHARS
from heron.query.api import hunt_json

__all__ = ["MAX_EXPORT_ROWS", "csv_cell", "router"]

router = APIRouter(tags=["events"])

#: Most rows one export returns (the answer says when it was cut: X-Heron-Truncated).
MAX_EXPORT_ROWS = 100_000
EXPORT_TIMEOUT_S = 120.0
_MEDIA = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
# A spreadsheet runs a cell that starts with one of these as a formula; log fields are
# written by whoever sends the logs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One CSV cell: JSON for nested values, a quote before anything a spreadsheet runs."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _as_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in columns])
    return out.getvalue().encode()


def _as_ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row, default=str) + b"\n" for row in rows)


@router.get(
    "/export",
    summary="Export a hunt's rows (CSV or NDJSON download)",
    description=(
        "Runs a hunt (the hunting language; `events | where ...` for plain filters) and "
        "answers its rows as an attachment. The header `X-Heron-Truncated: true` says "
        "the rows stopped at `limit`. Every export is recorded in the audit trail."
    ),
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/x-ndjson": {}}},
        400: {"description": "The hunt does not parse, compile or run"},
    },
    **needs("read"),
)
def export_rows(
    request: Request,
    query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    format: Annotated[Literal["csv", "ndjson"], Query()] = "csv",
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = 10_000,
) -> Response:
    found = hunt_json(request.app.state.node.store, query, limit=limit, timeout=EXPORT_TIMEOUT_S)
    if "error" in found:
        error = found["error"]
        raise ApiError(400, str(error.get("message") or "hunt failed"), query_error=error)
    rows: list[dict[str, Any]] = found["rows"]
    columns = [c["name"] for c in found["columns"]]
    truncated = bool(found["truncated"])
    details = {"query": query[:4096], "format": format, "rows": len(rows), "truncated": truncated}
    audit(request, "export", None, details)
    body = _as_csv(columns, rows) if format == "csv" else _as_ndjson(rows)
    # The name is made here, never taken from the request: nothing to traverse.
    name = time.strftime("heron-export-%Y%m%dT%H%M%SZ", time.gmtime()) + f".{format}"
    return Response(
        body,
        media_type=_MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Heron-Truncated": "true" if truncated else "false",
            "Cache-Control": "no-store",
        },
    )
