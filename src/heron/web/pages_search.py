"""The search page: a hunt (pipe language) or a field-filter search, a table, a histogram.

``?q=`` carries the query so that pivots elsewhere in the UI are plain links. A hunt
over ``events`` gets the picked time range as a first ``where`` stage; the page shows
the query that ran.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import Response

from heron.errors import HeronError
from heron.model.timeutil import format_ns
from heron.store.base import SearchQuery
from heron.web import charts
from heron.web.access import audit, requires
from heron.web.context import store_of, time_range
from heron.web.queries import bucket_starts
from heron.web.render import page
from heron.web.timerange import RANGES, TimeRange

__all__ = ["HUNT_ROWS", "MAX_QUERY_CHARS", "parse_filters", "search"]

HUNT_ROWS = 500
FILTER_ROWS = 200
MAX_QUERY_CHARS = 10_000
HUNT_TIMEOUT_S = 30.0
_HUNT_STARTS = ("events", "alerts", "search", "let", "union")
#: Columns of the filter search's table (every field is in the row's expander).
EVENT_COLUMNS = ("@timestamp", "host.name", "user.name", "source.ip", "event.action", "message")


def parse_filters(text: str) -> tuple[dict[str, str], str | None]:
    """``user.name=alice host.name=web* failed`` → field filters and free text."""
    filters: dict[str, str] = {}
    words: list[str] = []
    for token in text.split():
        name, found, value = token.partition("=")
        if found and name and value and " " not in name:
            filters[name] = value
        else:
            words.append(token)
    return filters, " ".join(words) or None


def _is_hunt(text: str, mode: str) -> bool:
    if mode in ("hunt", "filter"):
        return mode == "hunt"
    first = text.lstrip().split(None, 1)[0].split("|")[0] if text.strip() else ""
    return first.lower() in _HUNT_STARTS


def _ranged(text: str, tr: TimeRange) -> str:
    """The hunt with the time range applied, when it reads ``events`` directly."""
    from heron.query.parse import parse

    tree = parse(text)
    if tr.label == "all" or tree.lets or tree.pipeline.source.name != "events":
        return text
    end = tree.pipeline.source.span.end
    stage = (
        f" | where @timestamp >= datetime({format_ns(tr.start)}) "
        f"and @timestamp < datetime({format_ns(tr.end)})"
    )
    return text[:end] + stage + text[end:]


def _histogram(tr: TimeRange, times: list[int] | None, counts: list[dict[str, Any]] | None) -> Any:
    starts = bucket_starts(tr)
    values = [0.0] * len(starts)
    if counts is not None:
        for item in counts:
            i = (int(item["@timestamp"]) - tr.start) // tr.step
            if 0 <= i < len(values):
                values[i] += float(item["count"])
    for ts in times or []:
        i = (ts - tr.start) // tr.step
        if 0 <= i < len(values):
            values[i] += 1
    title = "Matching events over time" if counts is not None else "Rows shown, over time"
    return charts.time_bars(starts, {"events": values}, title=title, step_ns=tr.step)


def _run_hunt(request: Request, text: str, tr: TimeRange) -> dict[str, Any]:
    from heron.query.errors import QueryError
    from heron.query.rows import table_rows, text_rows
    from heron.query.run import execute

    try:
        ran = _ranged(text, tr)
        result = execute(store_of(request), ran, limit=HUNT_ROWS, timeout=HUNT_TIMEOUT_S)
    except QueryError as exc:
        return {"error": str(exc), "ran": text}
    table: pa.Table = result.table
    times: list[int] | None = None
    if "@timestamp" in table.column_names:
        times = [
            r["@timestamp"]
            for r in table_rows(table.select(["@timestamp"]))
            if r["@timestamp"] is not None
        ]
    return {
        "ran": ran,
        "columns": table.column_names,
        "rows": [[row.get(c) for c in table.column_names] for row in text_rows(table)],
        "truncated": result.truncated,
        "histogram": _histogram(tr, times, None) if times is not None else None,
        "run_ms": round(result.run_ms, 1),
    }


def _run_filter(request: Request, text: str, tr: TimeRange) -> dict[str, Any]:
    filters, words = parse_filters(text)
    store = store_of(request)
    query = SearchQuery(start=tr.start, end=tr.end, filters=filters, text=words, limit=FILTER_ROWS)
    try:
        events = store.search(query)
        counts = store.aggregate([], query, interval=tr.step, limit=10_000)
    except HeronError as exc:
        return {"error": str(exc), "ran": text}
    rows = []
    for event in events:
        shown = []
        for name in EVENT_COLUMNS:
            value = event.get(name)
            if name == "message" and value is None:
                value = event.get("event.original")
            if name == "@timestamp" and value is not None:
                value = format_ns(int(value))
            shown.append(value)
        rows.append({"cells": shown, "fields": sorted(event.items())})
    return {
        "ran": text,
        "columns": list(EVENT_COLUMNS),
        "events": rows,
        "truncated": len(events) >= FILTER_ROWS,
        "histogram": _histogram(tr, None, counts),
        "total": sum(int(c["count"]) for c in counts),
    }


@requires("read")
def search(request: Request) -> Response:
    q = request.query_params
    text = q.get("q", "")
    mode = q.get("mode", "auto")
    context: dict[str, Any] = {
        "title": "Search",
        "q": text,
        "mode": mode,
        "range_label": q.get("range") or "24h",
        "from_": q.get("from", ""),
        "to": q.get("to", ""),
        "ranges": [*RANGES, "all"],
        "result": None,
    }
    if len(text) > MAX_QUERY_CHARS:
        context["result"] = {"error": f"the query is longer than {MAX_QUERY_CHARS} characters"}
        return page(request, "search.html", context, status_code=400)
    try:
        tr = time_range(request, default="24h")
    except HeronError as exc:
        context["result"] = {"error": str(exc)}
        return page(request, "search.html", context, status_code=400)
    context["tr"] = tr
    if text.strip():
        hunting = _is_hunt(text, mode)
        context["hunting"] = hunting
        result = _run_hunt(request, text, tr) if hunting else _run_filter(request, text, tr)
        context["result"] = result
        audit(
            request,
            "query",
            None,
            q=text[:2000],
            mode="hunt" if hunting else "filter",
            error=bool(result.get("error")),
        )
        if result.get("error"):
            return page(request, "search.html", context, status_code=400)
    return page(request, "search.html", context)
