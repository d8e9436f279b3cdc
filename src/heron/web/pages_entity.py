"""The entity dossier: activity, alerts, risk and its history, related entities, events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from heron.errors import HeronError
from heron.model.alert import Alert, entity_fields
from heron.web import charts
from heron.web.access import requires
from heron.web.context import alert_store, store_of, time_range
from heron.web.queries import (
    bucket_starts,
    entity_activity,
    entity_events,
    related_entities,
)
from heron.web.render import page
from heron.web.timerange import RANGES, TimeRange

__all__ = ["KINDS", "entity", "risk_history"]

KINDS = ("user", "host", "ip", "agent")
MAX_VALUE_CHARS = 512
#: Alerts read to draw the risk history.
HISTORY_ALERTS = 1000


def risk_history(alerts: list[Alert], half_life_ns: int, tr: TimeRange) -> list[float]:
    """The entity's decayed risk at the end of each bucket, from its alerts' risk scores
    (each alert adds its score when first seen, halving every ``half_life_ns``)."""
    points = []
    for start in bucket_starts(tr):
        at = start + tr.step
        score = 0.0
        for alert in alerts:
            if alert.first_seen <= at:
                score += alert.risk_score * 2.0 ** (-(at - alert.first_seen) / half_life_ns)
        points.append(round(score, 2))
    return points


@requires("read")
def entity(request: Request) -> Response:
    kind = request.path_params["kind"]
    value = request.path_params["value"]
    if kind not in KINDS or not value or len(value) > MAX_VALUE_CHARS:
        return page(
            request,
            "error.html",
            {"title": "Unknown entity", "message": f"Entity kinds are: {', '.join(KINDS)}."},
            status_code=404,
        )
    try:
        tr = time_range(request, default="7d")
    except HeronError as exc:
        return page(
            request, "error.html", {"title": "Bad range", "message": str(exc)}, status_code=400
        )
    fields = entity_fields(kind)
    store = store_of(request)
    alerts_store = alert_store(request)
    activity = entity_activity(store, fields, value, tr)
    alerts = alerts_store.list(entity=(kind, value), limit=HISTORY_ALERTS, order="last_seen")
    risk = alerts_store.risk.get(kind, value)
    starts = bucket_starts(tr)
    history = risk_history(alerts, alerts_store.risk.half_life_ns, tr)
    return page(
        request,
        "entity.html",
        {
            "title": f"{kind}: {value}",
            "kind": kind,
            "entity_value": value,
            "fields": fields,
            "tr": tr,
            "ranges": [*RANGES, "all"],
            "first": activity.first,
            "last": activity.last,
            "total": activity.total,
            "risk": risk,
            "alerts": alerts[:50],
            "alert_total": len(alerts),
            "activity_chart": charts.time_bars(
                starts,
                activity.series,
                title="Events involving this entity",
                step_ns=tr.step,
            ),
            "risk_chart": charts.time_bars(
                starts,
                {"risk": history},
                title="Risk score over time (from this entity's alerts)",
                step_ns=tr.step,
                colours={"risk": "#d55e00"},
            ),
            "related": related_entities(store, fields, value, tr),
            "events": entity_events(store, fields, value),
        },
    )
