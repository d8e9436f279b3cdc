"""A running ``heron serve`` (in a thread) with users and tokens of every role, for API tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from heron.auth import AuthStore, RateLimits
from heron.auth.passwords import Passwords
from heron.config import ServeConfig
from heron.runtime import open_node
from heron.server import Listening, run_server

from .serving import TOKEN, free_port

PASSWORD = "correct horse battery"
ROLES = ("ingest", "read", "analyst", "admin")
#: Cheap argon2 parameters: the tests log in many times; production uses the defaults.
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class ApiServer:
    url: str
    node: Any
    auth: AuthStore
    setup_token: str | None
    tokens: dict[str, str] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)
    _by_role: dict[str | None, httpx.Client] = field(default_factory=dict)

    def open(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client on the server, closed when the server stops."""
        client = httpx.Client(base_url=self.url, timeout=30, **kwargs)
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self, role: str | None = None) -> httpx.Client:
        # One client per role: building an httpx client (its TLS context) is slow.
        if role not in self._by_role:
            self._by_role[role] = self.open(headers=self.bearer(role) if role else {})
        return self._by_role[role]

    def login(self, name: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
        """A client holding a session cookie, and the session's CSRF token."""
        client = self.open()
        answer = client.post("/api/login", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        return client, answer.json()["csrf"]


@contextmanager
def api_server(
    data_dir: Path,
    *,
    detect: bool = False,
    users: bool = True,
    limits: RateLimits | None = None,
    **config: Any,
) -> Iterator[ApiServer]:
    """``run_server`` on a free port; with ``users``, one user and one token per role."""
    raw: dict[str, Any] = {
        "tokens": [TOKEN],
        "detect": detect,
        "sources": [{"type": "hec"}, {"type": "bulk"}, {"type": "otlp"}],
    }
    raw.update(config)
    raw["http"] = {"port": free_port(), **config.get("http", {})}
    serve_config = ServeConfig.model_validate(raw)
    auth = AuthStore(data_dir, passwords=CHEAP, limits=limits or RateLimits())
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        box["loop"] = asyncio.get_running_loop()
        box["stop"] = asyncio.Event()

        def on_ready(listening: Listening) -> None:
            box["listening"] = listening
            ready.set()

        with open_node(data_dir, rule_paths=serve_config.rules, detect=detect) as node:
            box["node"] = node
            await run_server(
                node,
                serve_config,
                [TOKEN],
                on_ready=on_ready,
                stop=box["stop"],
                handle_signals=False,
                auth=auth,
            )

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        if not ready.wait(60):
            raise TimeoutError("server did not start")
        if "error" in box:
            raise box["error"]
        listening: Listening = box["listening"]
        server = ApiServer(
            f"{'https' if serve_config.http.tls else 'http'}://127.0.0.1:"
            f"{listening.port_of('http')}",
            box["node"],
            auth,
            listening.setup_token,
        )
        if users:
            for role in ROLES:
                auth.create_user(f"{role}-user", PASSWORD, role)
                server.tokens[role] = auth.create_token(f"{role}-token", [role], None)
        try:
            yield server
        finally:
            server.close_clients()
    finally:
        loop = box.get("loop")
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(box["stop"].set)
        thread.join(60)
        auth.close()
