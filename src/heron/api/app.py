"""The HTTP application factory: route groups composed into one Starlette app.

``create_app(node, config)`` mounts the health routes and the ingest routes of every
HTTP source served on the shared listener. Further groups (the ``/api`` routes, the
web UI) are passed as ``route_groups`` and mounted after them. Without a ``collector``
the app builds one from ``config`` and starts and stops it with its lifespan, so the
app alone is a working server under any ASGI runner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from heron.api.health import health_routes
from heron.collector import Collector
from heron.config import ServeConfig
from heron.runtime import Node

__all__ = ["RouteGroup", "create_app"]

RouteGroup = Sequence[BaseRoute]


def create_app(
    node: Node,
    config: ServeConfig,
    *,
    collector: Collector | None = None,
    tokens: Sequence[str] = (),
    route_groups: Sequence[RouteGroup] = (),
) -> Starlette:
    """The app serving ``node``: health, metrics, shared-listener ingest, then ``route_groups``."""
    owned = collector is None
    active = collector if collector is not None else Collector(node, config, tokens)
    routes: list[BaseRoute] = [*health_routes(active), *active.shared_routes()]
    for group in route_groups:
        routes.extend(group)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if owned:
            await active.start()
        try:
            yield
        finally:
            if owned:
                await active.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.node = node
    app.state.collector = active
    return app
