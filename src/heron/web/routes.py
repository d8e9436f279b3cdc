"""The UI's routes, mounted under ``/ui`` with the security headers on every response."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from heron.web import (
    pages_alerts,
    pages_auth,
    pages_entity,
    pages_ingest,
    pages_intel,
    pages_overview,
    pages_rules,
    pages_search,
)
from heron.web.security import SecurityHeaders, static_endpoint

__all__ = ["web_routes"]


async def _to_overview(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


def web_routes() -> list[BaseRoute]:
    """Every UI page under ``/ui/`` and its static files under ``/ui/static/``."""
    routes: list[BaseRoute] = [
        Route("/", pages_overview.overview, methods=["GET"], name="ui-overview"),
        Route("/login", pages_auth.login_form, methods=["GET"]),
        Route("/login", pages_auth.login_submit, methods=["POST"]),
        Route("/logout", pages_auth.logout, methods=["POST"]),
        Route("/setup", pages_auth.setup_form, methods=["GET"]),
        Route("/setup", pages_auth.setup_submit, methods=["POST"]),
        Route("/alerts", pages_alerts.alert_queue, methods=["GET"]),
        Route("/alerts/bulk", pages_alerts.alerts_bulk, methods=["POST"]),
        Route("/alerts/{alert_id}", pages_alerts.alert_detail, methods=["GET"]),
        Route("/alerts/{alert_id}/update", pages_alerts.alert_update, methods=["POST"]),
        Route("/search", pages_search.search, methods=["GET"]),
        Route("/entity/{kind}/{value:path}", pages_entity.entity, methods=["GET"]),
        Route("/ingest", pages_ingest.ingest_form, methods=["GET"]),
        Route("/ingest", pages_ingest.ingest_submit, methods=["POST"]),
        Route("/rules", pages_rules.rules_page, methods=["GET"]),
        Route("/intel", pages_intel.intel_page, methods=["GET"]),
        Route("/rules/placeholders", pages_rules.placeholder_change, methods=["POST"]),
        Route("/rules/{rule_id}/switch", pages_rules.rule_switch, methods=["POST"]),
        Route("/static/{name:path}", static_endpoint(), methods=["GET", "HEAD"]),  # type: ignore[arg-type]
    ]
    return [
        Route("/ui", _to_overview, methods=["GET"]),
        Mount("/ui", routes=routes, middleware=[Middleware(SecurityHeaders)]),
    ]
