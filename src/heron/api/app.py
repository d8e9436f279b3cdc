"""The HTTP application factory: the REST API, the web UI, health and ingest in one app.

``create_app(node, config)`` returns a FastAPI app: the ``/api`` routes (in the OpenAPI
document at ``/openapi.json``, Swagger UI at ``/api/docs``), then as plain Starlette
routes kept out of the document: health, metrics, the ingest routes of every HTTP
source on the shared listener, the web UI under ``/ui/`` and further ``route_groups``.
Without a ``collector`` the app builds one from ``config`` and starts and stops it
with its lifespan, so the app alone is a working server under any ASGI runner. The
lifespan also looks for rule changes made outside the API (``rules_poll_seconds``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from heron import __version__
from heron.api.access import AUTHENTICATED, authorize, needs, required_scope
from heron.api.errors import error_response, install_error_handlers
from heron.api.health import health_routes
from heron.api.limits import BodyLimit
from heron.api.routes_access import router as access_router
from heron.api.routes_alerts import router as alerts_router
from heron.api.routes_assets import MAX_ASSET_BYTES
from heron.api.routes_assets import router as assets_router
from heron.api.routes_backtest import MAX_BACKTEST_BYTES
from heron.api.routes_backtest import router as backtest_router
from heron.api.routes_events import router as events_router
from heron.api.routes_export import router as export_router
from heron.api.routes_ingest import MAX_PATHS_BYTES
from heron.api.routes_ingest import router as ingest_router
from heron.api.routes_intel import router as intel_router
from heron.api.routes_rules import router as rules_router
from heron.api.routes_searches import router as searches_router
from heron.api.routes_simulate import router as simulate_router
from heron.api.routes_store import router as store_router
from heron.api.rulebook import RuleBook
from heron.audit import AuditLog
from heron.auth import AuthStore
from heron.auth.middleware import AuthMiddleware
from heron.collector import Collector
from heron.config import ServeConfig
from heron.nodetasks import start_node_tasks, stop_node_tasks
from heron.runtime import Node
from heron.sources.upload import MAX_UPLOADS

__all__ = ["RouteGroup", "api_router", "app_routes", "create_app", "wants_html"]

RouteGroup = Sequence[BaseRoute]


def wants_html(request: Request) -> bool:
    """Whether the client is a browser asking for a page."""
    return "text/html" in request.headers.get("accept", "")


def api_router() -> APIRouter:
    """Every ``/api`` route, each behind the one ``authorize`` dependency."""
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize)])
    for part in (
        events_router,
        ingest_router,
        intel_router,
        store_router,
        export_router,
        alerts_router,
        assets_router,
        backtest_router,
        rules_router,
        searches_router,
        simulate_router,
        access_router,
    ):
        router.include_router(part)

    @router.get("/docs", include_in_schema=False, **needs(AUTHENTICATED))
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Heron API")

    return router


async def _root(request: Request) -> Response:
    # Reached only when no bulk source serves ``/`` on this listener.
    if wants_html(request):
        return RedirectResponse("/ui/", status_code=303)
    return error_response(404, "not found")


def _web_routes() -> list[BaseRoute]:
    try:
        from heron.web import web_routes
    except ImportError:
        return []
    return list(web_routes())


def create_app(
    node: Node,
    config: ServeConfig,
    *,
    collector: Collector | None = None,
    tokens: Sequence[str] = (),
    route_groups: Sequence[RouteGroup] = (),
    auth: AuthStore | None = None,
    audit: AuditLog | None = None,
    web: bool = True,
) -> FastAPI:
    """The app serving ``node``: API, health, metrics, shared-listener ingest, UI, groups."""
    owned = collector is None
    active = collector if collector is not None else Collector(node, config, tokens)
    auth_owned = auth is None
    auth_store = auth if auth is not None else AuthStore(node.data_dir)
    rulebook = RuleBook(node.data_dir, node.detector, node.rule_paths)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await active.start()
        # As run_server starts them (its uvicorn lifespan is off).
        background = start_node_tasks(node, active, config, rulebook)
        try:
            yield
        finally:
            await stop_node_tasks(background)
            if owned:
                await active.stop()
            if auth_owned:
                auth_store.close()

    app = FastAPI(
        title="Heron",
        version=__version__,
        description="Heron SIEM REST API. Authenticate with `Authorization: Bearer <token>` "
        "or the `heron_session` cookie from `POST /api/login`.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(api_router())
    _check_scopes(app)
    plain: list[BaseRoute] = [*health_routes(active), *active.shared_routes()]
    if web:
        plain.extend(_web_routes())
    for group in route_groups:
        plain.extend(group)
    plain.append(Route("/", _root, methods=["GET", "HEAD"]))
    app.router.routes.extend(plain)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Outermost last: credentials are resolved (and anonymous /api calls refused)
    # before a body is read; then /api bodies are bounded.
    uploads = config.http.max_upload_bytes
    limits = {path: uploads for path in ("/api/ingest", "/api/intel/load", "/ui/ingest")}
    limits["/api/rules/backtest"] = MAX_BACKTEST_BYTES
    limits["/api/ingest/files"] = MAX_PATHS_BYTES
    limits["/api/assets"] = MAX_ASSET_BYTES
    app.add_middleware(BodyLimit, per_path=limits)
    app.add_middleware(AuthMiddleware, auth=auth_store)
    app.state.node = node
    app.state.collector = active
    app.state.auth = auth_store
    app.state.audit = audit if audit is not None else AuditLog(node.data_dir)
    app.state.rulebook = rulebook
    app.state.upload_slots = asyncio.Semaphore(MAX_UPLOADS)
    return app


def app_routes(app: Starlette) -> list[tuple[str, frozenset[str], BaseRoute]]:
    """Every route of ``app`` as ``(path, methods, route)``, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept as one entry
        found = [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    else:
        found = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    return [(path, frozenset(methods or ()), route) for route, path, methods in found if path]


def _check_scopes(app: FastAPI) -> None:
    """Every API route must declare its scope: a route added without one fails here."""
    for path, _, route in app_routes(app):
        if path.startswith("/api") and required_scope(route) is None:
            raise RuntimeError(f"API route {path} declares no scope (use needs(...))")


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "heron_session"},
        }
        schema["security"] = [{"bearer": []}, {"session": []}]
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("x-heron-scope") == "public":
                    operation["security"] = []
        app.openapi_schema = schema
    return app.openapi_schema
