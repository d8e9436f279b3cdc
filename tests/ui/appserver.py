"""The Heron app (with the UI) on a loopback port in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from heron.config import ServeConfig


def make_app(node: Any) -> Starlette:
    """``create_app`` with the UI; the auth middleware and stores added if it lacks them."""
    from heron.api.app import create_app
    from heron.web import web_routes

    app = create_app(node, ServeConfig.default(), tokens=["ui-test-ingest-token-0123456789"])
    if not any(getattr(r, "path", "") == "/ui" for r in app.router.routes):
        app.router.routes.extend(web_routes())
    if getattr(app.state, "auth", None) is None:
        from heron.audit.log import AuditLog
        from heron.auth import AuthStore
        from heron.auth.middleware import AuthMiddleware

        app.state.auth = AuthStore(node.data_dir)
        app.state.audit = AuditLog(node.data_dir)
        app.add_middleware(AuthMiddleware, auth=app.state.auth)
    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
