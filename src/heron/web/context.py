"""What page handlers share: the node's store and alert store, and the time range asked."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from heron.web.queries import TTLCache, store_bounds
from heron.web.timerange import TimeRange, resolve_range

__all__ = ["alert_store", "bounds", "rollup", "store_of", "time_range"]

_BOUNDS = TTLCache(ttl=5.0)


def store_of(request: Request) -> Any:
    return request.app.state.node.store


def alert_store(request: Request) -> Any:
    """The node's ``AlertStore`` (one over the same database when detection is off)."""
    node = request.app.state.node
    if node.alerts is not None:
        return node.alerts
    state = request.app.state
    found = getattr(state, "web_alerts", None)
    if found is None:
        from heron.alerts import AlertStore

        found = AlertStore(node.store)
        state.web_alerts = found
    return found


def rollup(request: Request) -> Any:
    """The store's per-minute source counts (``heron.web.rollup``), refreshed if due."""
    from heron.web.rollup import SourceRollup

    state = request.app.state
    found = getattr(state, "web_rollup", None)
    if found is None:
        found = SourceRollup(store_of(request))
        state.web_rollup = found
    found.refresh()
    return found


def bounds(request: Request) -> tuple[int | None, int | None]:
    """Oldest and newest stored event (cached a few seconds: a scan of one column)."""
    store = store_of(request)
    return _BOUNDS.get(id(store), lambda: store_bounds(store))


def time_range(request: Request, default: str = "24h") -> TimeRange:
    oldest, newest = bounds(request)
    q = request.query_params
    return resolve_range(
        q.get("range"), q.get("from"), q.get("to"), newest=newest, oldest=oldest, default=default
    )
