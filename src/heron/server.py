"""``heron serve`` at run time: listeners up, signals handled, a clean stop that drains.

Every socket is bound before anything is announced, so a taken port is an error at
start rather than a log line. On SIGTERM or SIGINT: listeners stop taking new
connections, HTTP requests in flight finish (they wait for their commit), then the
queue is drained and committed, and only then does the process exit. A second
signal exits at once; acknowledged data is durable either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from heron.api.app import RouteGroup, create_app
from heron.api.health import health_routes
from heron.api.rulebook import RuleBook
from heron.auth import AuthStore
from heron.auth.middleware import LocalCaller
from heron.auth.principal import LOCAL_SCOPE, Principal, expand_scopes
from heron.collector import Collector
from heron.config import ServeConfig, TlsConfig
from heron.control import ControlSocket, bind_control_socket, local_user
from heron.detect.rulestate import record_node_rules
from heron.errors import HeronError
from heron.nodetasks import start_node_tasks, stop_node_tasks
from heron.runtime import Node
from heron.sources.syslog import SyslogSource

__all__ = ["Listening", "run_server"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Listening:
    """What the running server bound: ``(what, protocol, host, port)`` rows."""

    listeners: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: One-time token to create the first admin (``POST /api/setup``); None once users exist.
    setup_token: str | None = None
    #: Where local ``heron`` commands reach this node (``heron.control``); None: nowhere.
    control_socket: str | None = None

    def port_of(self, what: str) -> int:
        for name, _, _, port in self.listeners:
            if name == what:
                return port
        raise KeyError(what)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run_server`` owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn(app: ASGIApp, config: ServeConfig, tls: TlsConfig | None) -> _Server:
    options: dict[str, object] = {
        "lifespan": "off",
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "limit_concurrency": config.http.max_connections,
        "timeout_graceful_shutdown": 30,
        "h11_max_incomplete_event_size": 64 * 1024,
    }
    with contextlib.suppress(ImportError):
        import httptools  # noqa: F401

        options["http"] = "httptools"
    if tls is not None:
        options["ssl_certfile"] = str(tls.cert)
        options["ssl_keyfile"] = str(tls.key)
        if tls.ca is not None:
            options["ssl_ca_certs"] = str(tls.ca)
            import ssl

            options["ssl_cert_reqs"] = (
                ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
            )
    return _Server(uvicorn.Config(app, **options))  # type: ignore[arg-type]


def _control_server(
    data_dir: Path,
    app: ASGIApp,
    config: ServeConfig,
    servers: list[tuple[_Server, socket.socket]],
) -> ControlSocket | None:
    """The API on the data directory's control socket, for local ``heron`` commands.

    A node runs without one where it cannot be made (a file system without sockets):
    the commands then say the data directory is in use, as before.
    """
    try:
        control = bind_control_socket(data_dir)
    except (OSError, HeronError) as exc:
        log.warning("no control socket (local heron commands cannot reach this node): %s", exc)
        return None
    local = Principal(local_user(), "local", expand_scopes({"admin"}) | {LOCAL_SCOPE})
    servers.append((_uvicorn(LocalCaller(app, local), config, None), control.sock))
    return control


async def run_server(
    node: Node,
    config: ServeConfig,
    tokens: Sequence[str],
    *,
    route_groups: Sequence[RouteGroup] = (),
    on_ready: Callable[[Listening], None] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    auth: AuthStore | None = None,
) -> None:
    """Serve until a signal (or ``stop`` is set), then drain and return."""
    collector = Collector(node, config, tokens)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            log.warning("second signal: exiting without draining the queue")
            os._exit(1)
        stop.set()

    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)

    listening = Listening()
    servers: list[tuple[_Server, socket.socket]] = []
    control: ControlSocket | None = None
    auth_owned = auth is None
    auth = auth if auth is not None else AuthStore(node.data_dir)
    try:
        listening.setup_token = auth.create_setup_token()
        # The API serves the control socket even when no HTTP listener is configured.
        app = create_app(node, config, collector=collector, route_groups=route_groups, auth=auth)
        if config.http.enabled:
            sock = _bind(config.http.host, config.http.port)
            servers.append((_uvicorn(app, config, config.http.tls), sock))
            listening.listeners.append(("http", "tcp", config.http.host, sock.getsockname()[1]))
        for listener in collector.own_listeners():
            own = Starlette(routes=[*health_routes(collector), *listener.routes])
            own.state.auth = auth  # API tokens with the ingest scope are accepted here too
            sock = _bind(listener.host, listener.port)
            servers.append((_uvicorn(own, config, listener.tls), sock))
            for name in listener.names:
                listening.listeners.append((name, "tcp", listener.host, sock.getsockname()[1]))
        control = _control_server(node.data_dir, app, config, servers)
        listening.control_socket = str(control.path) if control is not None else None
        await collector.start()
    except BaseException:
        for _, sock in servers:
            sock.close()
        if control is not None:
            control.close()
        await collector.stop()
        if auth_owned:
            auth.close()
        raise
    for source in collector.service_sources():
        if isinstance(source, SyslogSource):
            kind = source.ports()[0].protocol
            listening.listeners.append((source.name, kind, source.config.host, source.bound_port))
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    if node.detector is not None:
        # `heron rules …` checks its changes against the set this node runs.
        record_node_rules(node.data_dir, node.rule_paths)
    # Rule changes made by `heron rules …` while the node runs (the app's lifespan, which
    # would start this, is off here).
    rulebook: RuleBook = app.state.rulebook
    background = start_node_tasks(node, collector, config, rulebook)
    try:
        while not all(server.started for server, _ in servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        if on_ready is not None:
            on_ready(listening)
        stop_wait = asyncio.create_task(stop.wait())
        await asyncio.wait([stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
    finally:
        collector.stopping = True
        await stop_node_tasks(background)
        for server, _ in servers:
            server.should_exit = True
        await collector.stop_sources()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await collector.stop()
        for _, sock in servers:
            sock.close()
        if control is not None:
            control.close()
        if auth_owned:
            auth.close()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
