"""The alert queue (filters, sort, pages, bulk triage) and the alert detail page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from heron.errors import HeronError
from heron.model.alert import ALERT_STATUSES, DISPOSITIONS, ENTITY_KINDS, LEVELS
from heron.web.access import FORM_LIMITS, audit, check_form_csrf, principal_of, requires, safe_next
from heron.web.context import alert_store, store_of, time_range
from heron.web.render import page
from heron.web.timerange import RANGES

__all__ = ["PAGE_SIZE", "alert_detail", "alert_queue", "alert_update", "alerts_bulk"]

PAGE_SIZE = 50
MAX_PAGE = 10_000
#: Events of an alert shown on its page (an alert keeps up to 1,000 ids).
DETAIL_EVENTS = 50
ORDERS = {"last_seen": "Last seen", "first_seen": "First seen", "risk_score": "Risk"}
_ACTIONS = ("acknowledge", "close", "assign", "reopen", "comment")


def _entity(text: str) -> tuple[str, str] | None:
    """``user:alice`` or ``source.ip=10.0.0.1`` → (field or kind, value)."""
    text = text.strip()
    for sep in ("=", ":"):
        name, found, value = text.partition(sep)
        if found and name.strip() and value.strip():
            return name.strip(), value.strip()
    return None


def _filters(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store filters from the query string, and the form's current values."""
    q = request.query_params
    statuses = [s for s in q.getlist("status") if s in (*ALERT_STATUSES, "any")]
    if not statuses:
        statuses = ["new", "acknowledged"]
    levels = [lv for lv in q.getlist("level") if lv in LEVELS]
    entity_text = q.get("entity", "")
    filters: dict[str, Any] = {
        "status": None if "any" in statuses else statuses,
        "levels": levels or None,
        "rule_id": q.get("rule") or None,
        "text": q.get("text") or None,
        "entity": _entity(entity_text) if entity_text else None,
    }
    assignee = q.get("assignee", "")
    if assignee == "-":
        filters["unassigned"] = True
    elif assignee:
        filters["assignee"] = assignee
    form = {
        "status": statuses,
        "level": levels,
        "rule": q.get("rule", ""),
        "text": q.get("text", ""),
        "entity": entity_text,
        "assignee": assignee,
        "order": q.get("order") if q.get("order") in ORDERS else "last_seen",
        "range": q.get("range") or "all",
        "from": q.get("from", ""),
        "to": q.get("to", ""),
    }
    return filters, form


@requires("read")
def alert_queue(request: Request) -> Response:
    alerts = alert_store(request)
    filters, form = _filters(request)
    try:
        if form["entity"] and filters["entity"] is None:
            raise HeronError("entity filter: write kind:value or field=value (user:alice)")
        tr = time_range(request, default="all")
        if form["range"] != "all" or form["from"] or form["to"]:
            filters["since"], filters["until"] = tr.start, tr.end
        number = min(max(int(request.query_params.get("page", "1") or 1), 1), MAX_PAGE)
        total = alerts.count_matching(**filters)
        rows = alerts.list(
            **filters, order=form["order"], limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
    except (HeronError, ValueError) as exc:
        return page(
            request,
            "error.html",
            {"title": "Bad filter", "message": str(exc)[:500]},
            status_code=400,
        )
    here = {k: v for k, v in form.items() if v}

    def page_href(n: int) -> str:
        return "/ui/alerts?" + urlencode({**here, "page": n}, doseq=True)

    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "alerts.html",
        {
            "title": "Alerts",
            "alerts": rows,
            "total": total,
            "form": form,
            "number": number,
            "pages": pages,
            "prev_href": page_href(number - 1) if number > 1 else "",
            "next_href": page_href(number + 1) if number < pages else "",
            "back": request.url.path + ("?" + request.url.query if request.url.query else ""),
            "statuses": ALERT_STATUSES,
            "levels": list(reversed(LEVELS)),
            "dispositions": DISPOSITIONS,
            "orders": ORDERS,
            "ranges": [*RANGES, "all"],
            "can_act": principal_of(request).allows("analyst"),
        },
    )


def _change(form: Any) -> dict[str, Any]:
    """``AlertStore.update`` keyword arguments for a posted action."""
    action = str(form.get("action") or "")
    comment = str(form.get("comment") or "").strip()[:4000] or None
    if action not in _ACTIONS:
        raise HeronError(f"unknown action {action[:40]!r}")
    change: dict[str, Any] = {"comment": comment}
    if action == "acknowledge":
        change["status"] = "acknowledged"
    elif action == "close":
        change["status"] = "closed"
        change["disposition"] = str(form.get("disposition") or "") or None
    elif action == "reopen":
        change["status"] = "new"
    elif action == "assign":
        assignee = str(form.get("assignee") or "").strip()[:256]
        change["assignee"] = assignee or None
    return change


async def _apply(request: Request, ids: list[str], form: Any) -> Response | None:
    """Run the update; an error page on refusal, None when done."""
    from heron.alerts import AlertNotFound, AlertUpdateError

    principal = principal_of(request)
    try:
        change = _change(form)
        await run_in_threadpool(
            lambda: alert_store(request).update(ids, actor=principal.name, **change)
        )
    except AlertNotFound as exc:
        return page(
            request, "error.html", {"title": "Not found", "message": str(exc)}, status_code=404
        )
    except (AlertUpdateError, HeronError) as exc:
        return page(
            request, "error.html", {"title": "Refused", "message": str(exc)}, status_code=400
        )
    shown = {k: v for k, v in change.items() if v is not None}
    await run_in_threadpool(
        audit, request, "alert.update", ",".join(ids)[:2000], alerts=len(ids), **shown
    )
    return None


def _csrf_refused(request: Request) -> Response:
    return page(
        request,
        "error.html",
        {"title": "Refused", "message": "Missing or wrong CSRF token."},
        status_code=403,
    )


@requires("analyst")
async def alerts_bulk(request: Request) -> Response:
    form = await request.form(**FORM_LIMITS)
    if not check_form_csrf(request, form.get("csrf")):
        return _csrf_refused(request)
    ids = [str(v)[:64] for v in form.getlist("ids")][:500]
    back = safe_next(str(form.get("back") or ""), "/ui/alerts")
    if not ids:
        return RedirectResponse(back, status_code=303)
    refused = await _apply(request, ids, form)
    return refused or RedirectResponse(back, status_code=303)


@requires("analyst")
async def alert_update(request: Request) -> Response:
    form = await request.form(**FORM_LIMITS)
    if not check_form_csrf(request, form.get("csrf")):
        return _csrf_refused(request)
    alert_id = request.path_params["alert_id"]
    refused = await _apply(request, [alert_id], form)
    return refused or RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303)


@requires("read")
def alert_detail(request: Request) -> Response:
    alerts = alert_store(request)
    alert = alerts.get(request.path_params["alert_id"])
    if alert is None:
        return page(
            request,
            "error.html",
            {"title": "Not found", "message": "No such alert."},
            status_code=404,
        )
    events = store_of(request).get_many(alert.event_ids[:DETAIL_EVENTS])
    events.sort(key=lambda e: e.get("@timestamp") or 0)
    entities = []
    for name, value in sorted(alert.entities.items()):
        kind = ENTITY_KINDS.get(name)
        risk = alerts.risk.score(kind, value) if kind else None
        entities.append({"field": name, "value": value, "kind": kind, "risk": risk})
    return page(
        request,
        "alert.html",
        {
            "title": f"Alert: {alert.rule_name}",
            "alert": alert,
            "entities": entities,
            "events": events,
            "more_events": max(0, len(alert.event_ids) - DETAIL_EVENTS),
            "history": alerts.history(alert.id),
            "dispositions": DISPOSITIONS,
            "can_act": principal_of(request).allows("analyst"),
            "event_ids_query": "events | where event.id in ("
            + ", ".join(
                '"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"'
                for i in alert.event_ids[:DETAIL_EVENTS]
            )
            + ")",
        },
    )
