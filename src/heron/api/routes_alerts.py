"""Alerts (list, detail, update, bulk update), suppressions and entity risk."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from heron.alerts import UNSET, AlertNotFound, AlertStore
from heron.api.access import audit, needs, principal
from heron.api.limits import MAX_ALERT_PAGE, MAX_BULK_IDS, MAX_ENTITIES
from heron.api.params import duration_ns, time_ns

__all__ = ["alert_store", "router"]

router = APIRouter(tags=["alerts"])

MAX_DETAIL_EVENTS = 200
Status = Literal["new", "acknowledged", "closed"]
Disposition = Literal["true_positive", "benign", "false_positive"]
Level = Literal["informational", "low", "medium", "high", "critical"]


def alert_store(request: Request) -> AlertStore:
    """The node's alert store (one over the same database when detection is off)."""
    node = request.app.state.node
    if node.alerts is not None:
        return cast(AlertStore, node.alerts)
    state = request.app.state
    found = getattr(state, "api_alerts", None)
    if found is None:
        found = state.api_alerts = AlertStore(node.store)
    return cast(AlertStore, found)


class AlertUpdate(BaseModel):
    """Fields to change; ``assignee: null`` unassigns, leaving it out keeps it."""

    status: Status | None = None
    disposition: Disposition | None = None
    assignee: str | None = Field(None, max_length=256)
    comment: str | None = Field(None, max_length=4096)


class BulkUpdate(AlertUpdate):
    ids: list[str] = Field(min_length=1, max_length=MAX_BULK_IDS)


class AlertsPage(BaseModel):
    alerts: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class AlertDetail(BaseModel):
    alert: dict[str, Any]
    events: list[dict[str, Any]]
    history: list[dict[str, Any]]


class AlertList(BaseModel):
    alerts: list[dict[str, Any]]


class SuppressionIn(BaseModel):
    field: str = Field(min_length=1, max_length=128)
    value: str = Field(min_length=1, max_length=512)
    reason: str = Field(min_length=1, max_length=2000)
    expires_in: str | None = Field(None, max_length=32, description="A duration, e.g. 7d")
    rule_id: str | None = Field(None, max_length=256)


class SuppressionList(BaseModel):
    suppressions: list[dict[str, Any]]


class EntityList(BaseModel):
    entities: list[dict[str, Any]]


def _entity(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    name, sep, value = text.partition(":")
    if not sep or not name or not value:
        raise HTTPException(422, "entity: use field:value (or kind:value), e.g. user.name:alice")
    return name, value


@router.get("/alerts", response_model=AlertsPage, summary="List alerts", **needs("read"))
def list_alerts(
    status: Annotated[list[Status] | None, Query()] = None,
    level: Annotated[Level | None, Query(description="This level and above")] = None,
    levels: Annotated[list[Level] | None, Query(description="Exactly these levels")] = None,
    rule_id: Annotated[str | None, Query(max_length=256)] = None,
    assignee: Annotated[str | None, Query(max_length=256)] = None,
    unassigned: bool = False,
    entity: Annotated[str | None, Query(max_length=600, description="field:value")] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    text: Annotated[str | None, Query(max_length=256)] = None,
    order: Literal["last_seen", "risk_score", "first_seen"] = "last_seen",
    limit: Annotated[int, Query(ge=1, le=MAX_ALERT_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    *,
    request: Request,
) -> dict[str, Any]:
    filters: dict[str, Any] = {
        "rule_id": rule_id,
        "min_level": level,
        "levels": levels,
        "since": time_ns(since, "since"),
        "until": time_ns(until, "until"),
        "status": status or None,
        "assignee": assignee,
        "unassigned": unassigned,
        "entity": _entity(entity),
        "text": text or None,
    }
    store = alert_store(request)
    alerts = store.list(limit=limit, offset=offset, order=order, **filters)
    return {
        "alerts": [a.to_row() for a in alerts],
        "total": store.count_matching(**filters),
        "limit": limit,
        "offset": offset,
    }


@router.get("/alerts/{alert_id}", response_model=AlertDetail, summary="One alert", **needs("read"))
def get_alert(alert_id: str, request: Request) -> dict[str, Any]:
    store = alert_store(request)
    alert = store.get(alert_id[:128])
    if alert is None:
        raise HTTPException(404, "no such alert")
    events = request.app.state.node.store.get_many(alert.event_ids[:MAX_DETAIL_EVENTS])
    return {
        "alert": alert.to_row(),
        "events": events,
        "history": [c.to_row() for c in store.history(alert.id)],
    }


def _apply(request: Request, ids: list[str], body: AlertUpdate) -> list[dict[str, Any]]:
    who = principal(request)
    assignee: Any = body.assignee if "assignee" in body.model_fields_set else UNSET
    changes = {
        k: v
        for k, v in (
            ("status", body.status),
            ("disposition", body.disposition),
            ("comment", body.comment),
        )
        if v is not None
    }
    if assignee is not UNSET:
        changes["assignee"] = assignee
    if not changes:
        raise HTTPException(422, "nothing to change: give status, disposition, assignee or comment")
    try:
        updated = alert_store(request).update(
            ids,
            actor=who.actor,
            status=body.status,
            disposition=body.disposition,
            assignee=assignee,
            comment=body.comment,
        )
    except AlertNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    audit(request, "alert.update", ",".join(ids[:20]), {"alerts": len(ids), **changes})
    return [a.to_row() for a in updated]


@router.patch(
    "/alerts/{alert_id}",
    response_model=dict[str, Any],
    summary="Update an alert",
    **needs("analyst"),
)
def update_alert(alert_id: str, body: AlertUpdate, request: Request) -> dict[str, Any]:
    return _apply(request, [alert_id[:128]], body)[0]


@router.post(
    "/alerts/bulk",
    response_model=AlertList,
    summary="Update many alerts at once",
    **needs("analyst"),
)
def bulk_update(body: BulkUpdate, request: Request) -> dict[str, Any]:
    if any(len(i) > 128 for i in body.ids):
        raise HTTPException(422, "ids: an alert id is at most 128 characters")
    return {"alerts": _apply(request, body.ids, body)}


# -- suppressions -------------------------------------------------------------------


@router.get(
    "/suppressions",
    response_model=SuppressionList,
    summary="List suppressions",
    **needs("read"),
)
def list_suppressions(request: Request, include_expired: bool = False) -> dict[str, Any]:
    found = alert_store(request).suppressions.list(include_expired=include_expired)
    return {"suppressions": [s.to_row() for s in found]}


@router.post(
    "/suppressions",
    response_model=dict[str, Any],
    status_code=201,
    summary="Suppress alerts on a field value",
    **needs("analyst"),
)
def add_suppression(body: SuppressionIn, request: Request) -> dict[str, Any]:
    from heron.model.timeutil import now_ns

    ttl = duration_ns(body.expires_in, "expires_in")
    added = alert_store(request).suppressions.add(
        body.field,
        body.value,
        reason=body.reason,
        actor=principal(request).actor,
        expires_ns=None if ttl is None else now_ns() + ttl,
        rule_id=body.rule_id,
    )
    audit(
        request,
        "suppression.add",
        added.id,
        {"field": added.field, "value": added.value, "expires": added.expires},
    )
    return added.to_row()


@router.delete(
    "/suppressions/{suppression_id}",
    response_model=dict[str, Any],
    summary="Remove a suppression",
    **needs("analyst"),
)
def remove_suppression(suppression_id: str, request: Request) -> dict[str, Any]:
    removed = alert_store(request).suppressions.remove(
        suppression_id[:64], principal(request).actor
    )
    audit(request, "suppression.remove", removed.id, {"field": removed.field})
    return removed.to_row()


# -- entity risk --------------------------------------------------------------------


@router.get("/entities", response_model=EntityList, summary="Riskiest entities", **needs("read"))
def top_entities(
    request: Request,
    kind: Literal["user", "host", "ip", "agent"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTITIES)] = 20,
    at: Annotated[
        str | None, Query(max_length=64, description="Risk as it was then (time or '2h' ago)")
    ] = None,
    half_life: Annotated[
        str | None, Query(max_length=32, description="Decay half-life; default: the node's")
    ] = None,
) -> dict[str, Any]:
    from heron.alerts import EntityRisk

    risk = alert_store(request).risk
    decay = duration_ns(half_life, "half_life")
    if decay is not None:
        risk = EntityRisk(request.app.state.node.store, half_life_ns=decay)
    found = risk.top(kind, limit, at_ns=time_ns(at, "at"))
    return {"entities": [e.to_row() for e in found]}
