"""The overview dashboard: events by source, alerts by level, riskiest entities, ATT&CK."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from heron.errors import HeronError
from heron.model.alert import LEVELS
from heron.web import charts
from heron.web.access import requires
from heron.web.context import alert_store, bounds, rollup, store_of, time_range
from heron.web.queries import (
    ATTACK_TACTICS,
    TTLCache,
    alert_counts,
    alerts_by_level,
    bucket_starts,
    events_by_source,
    tactic_cells,
)
from heron.web.render import entity_href, page
from heron.web.timerange import RANGES, TimeRange

__all__ = ["LEVEL_COLOURS", "OVERVIEW_CACHE", "overview"]

#: The overview changes slowly next to how often it is opened.
OVERVIEW_CACHE = TTLCache(ttl=10.0)
LEVEL_COLOURS = {
    "critical": "#7b0000",
    "high": "#d55e00",
    "medium": "#e69f00",
    "low": "#56b4e9",
    "informational": "#999999",
}


def _overview_data(request: Request, tr: TimeRange) -> dict[str, Any]:
    store = store_of(request)
    sources = events_by_source(rollup(request).counts(tr, bounds(request)[0]), tr)
    levels = alerts_by_level(store, tr)
    ordered = {lv: levels[lv] for lv in reversed(LEVELS) if lv in levels}
    ordered.update({k: v for k, v in levels.items() if k not in ordered})
    risk = alert_store(request).risk
    top = risk.top(limit=10)
    cells = tactic_cells(store, tr)
    step_s = tr.step / 1e9
    return {
        "sources": sources,
        "levels": ordered,
        "top": top,
        "cells": cells,
        "counts": alert_counts(store, tr),
        "events": round(sum(sum(v) for v in sources.values()) * step_s),
    }


@requires("read")
def overview(request: Request) -> Response:
    try:
        tr = time_range(request)
    except HeronError as exc:
        return page(
            request, "error.html", {"title": "Bad range", "message": str(exc)}, status_code=400
        )
    data = OVERVIEW_CACHE.get(
        (id(store_of(request)), tr.start, tr.end, tr.step), lambda: _overview_data(request, tr)
    )
    starts = bucket_starts(tr)
    step = charts.step_label(tr.step)
    sources = data["sources"]
    peak = max((sum(v[i] for v in sources.values()) for i in range(len(starts))), default=0)
    if peak >= 1:
        source_title, unit = f"Events per second by source ({step} buckets)", "events/s"
    else:  # under one event a second, counts per bucket read better than 0.00x/s
        per_bucket = tr.step / 1e9
        sources = {k: [x * per_bucket for x in v] for k, v in sources.items()}
        source_title, unit = f"Events by source (per {step})", f"events per {step}"
    rows = [lv for lv in reversed(LEVELS)]
    tactic_cols = [t for t in ATTACK_TACTICS]
    return page(
        request,
        "overview.html",
        {
            "title": "Overview",
            "tr": tr,
            "ranges": [*RANGES, "all"],
            "counts": data["counts"],
            "events": data["events"],
            "source_chart": charts.time_bars(
                starts, sources, title=source_title, step_ns=tr.step, unit=unit
            ),
            "level_chart": charts.time_bars(
                starts,
                data["levels"],
                title=f"Alerts by severity (first seen, per {step})",
                step_ns=tr.step,
                unit=f"alerts per {step}",
                colours=LEVEL_COLOURS,
            ),
            "risk_chart": charts.bars(
                [(f"{s.kind}: {s.value}", s.score) for s in data["top"]],
                title="Riskiest entities (decayed risk score)",
                href=lambda label: entity_href(*label.split(": ", 1)),
                detail=lambda label, score: f"{label} — risk {score:.1f}",
            ),
            "tactic_chart": charts.heatmap(
                rows,
                tactic_cols,
                data["cells"],
                title="Alerts by ATT&CK tactic and severity",
                href=lambda level, _tactic: f"/ui/alerts?level={level}",
            ),
            "top": data["top"],
        },
    )
