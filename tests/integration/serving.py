"""Running ``heron serve`` in tests: in a thread of this process, or as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import yaml

from heron.config import ServeConfig
from heron.runtime import open_node
from heron.server import Listening, run_server
from heron.store.base import SearchQuery
from heron.store.duckdb import DuckDBStore

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Splunk {TOKEN}"}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 right now (for TCP or UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """``run_server`` on its own loop in a background thread."""

    def __init__(self, config: ServeConfig, data_dir: Path, tokens: list[str]) -> None:
        self.config = config
        self.detect = config.detect
        self.data_dir = data_dir
        self.tokens = tokens
        self.listening: Listening | None = None
        self.node: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(listening: Listening) -> None:
                self.listening = listening
                self._ready.set()

            with open_node(self.data_dir, rule_paths=self.config.rules, detect=self.detect) as node:
                self.node = node
                await run_server(
                    node,
                    self.config,
                    self.tokens,
                    on_ready=ready,
                    stop=self._stop,
                    handle_signals=False,
                )

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("server did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self._error is not None:
            raise self._error

    def port(self, name: str) -> int:
        assert self.listening is not None
        return self.listening.port_of(name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port('http')}"

    def metrics(self) -> dict[str, float]:
        """``/metrics`` as {"name{labels}": value}."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def source_count(self, source: str, what: str) -> float:
        metrics = self.metrics()
        for key, value in metrics.items():
            if key.startswith(f'heron_source_{what}_total{{source="{source}"'):
                return value
        return 0.0

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Rows of ``sql`` over the running server's store; timestamps as int ns (as
        Python datetimes they would need pandas for the nanoseconds)."""
        table = self.node.store.query(sql)
        columns = [
            column.cast(pa.int64()) if pa.types.is_timestamp(column.type) else column
            for column in table.columns
        ]
        return pa.table(columns, names=table.column_names).to_pylist()  # type: ignore[no-any-return]

    def wait_idle(self, timeout: float = 30) -> None:
        """Until the queue is empty (everything handed in is committed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = httpx.get(self.url + "/healthz", timeout=10).json()
            if health["queue"]["events"] == 0:
                return
            time.sleep(0.05)
        raise TimeoutError("queue did not drain")


@contextmanager
def serving(data_dir: Path, **config: Any) -> Iterator[ServerThread]:
    """A server thread with HTTP on a free port and ``config`` merged in."""
    raw: dict[str, Any] = {
        "tokens": [TOKEN],
        "detect": False,
        "http": {"port": free_port(), **config.pop("http", {})},
    }
    raw.update(config)
    server = ServerThread(ServeConfig.model_validate(raw), data_dir, [TOKEN]).start()
    try:
        yield server
    finally:
        server.stop()


def query(data_dir: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` over a stopped server's store."""
    store = DuckDBStore(data_dir, read_only=True)
    try:
        return store.query(sql).to_pylist()
    finally:
        store.close()


def stored_events(data_dir: Path) -> list[dict[str, Any]]:
    """Every event (up to 100,000) of a stopped server's store, flat."""
    store = DuckDBStore(data_dir, read_only=True)
    try:
        return store.search(SearchQuery(limit=100_000))
    finally:
        store.close()


#: A Zeek conn.log TSV header, as Zeek writes it.
ZEEK_CONN_HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum",
]


def dead_letters(data_dir: Path) -> list[dict[str, Any]]:
    store = DuckDBStore(data_dir, read_only=True)
    try:
        return [
            {"source": d.source, "location": d.location, "reason": d.reason, "raw": d.raw}
            for d in store.dead_letters(limit=100_000)
        ]
    finally:
        store.close()


class HeronProcess:
    """``heron serve`` as a subprocess with a config file; ports read from its output."""

    def __init__(self, tmp: Path, data_dir: Path, config: dict[str, Any]) -> None:
        self.config_path = tmp / f"heron-{os.getpid()}-{time.monotonic_ns()}.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.data_dir = data_dir
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._reader: threading.Thread | None = None

    def start_plain(self, http_port: int, *, detect: bool = False) -> HeronProcess:
        """``heron serve`` without a config file."""
        return self.start(["--http-port", str(http_port)], detect=detect)

    def start(
        self, args: list[str] | None = None, timeout: float = 60, *, detect: bool = False
    ) -> HeronProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("HERON_INGEST_TOKEN", None)
        options = args if args is not None else ["--config", str(self.config_path)]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "heron.cli",
                "serve",
                *options,
                "--data-dir",
                str(self.data_dir),
                *(() if detect else ("--no-detect",)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = re.match(r"heron: listening: (\S+) \w+://[^:]+:(\d+)", line)
            if found:
                self.ports[found.group(1)] = int(found.group(2))
            if line.startswith("heron: serving"):
                self._reader = threading.Thread(target=self._drain, daemon=True)
                self._reader.start()
                return self
        self.kill()
        raise RuntimeError("heron serve did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def _finish(self) -> None:
        assert self.proc is not None
        if self._reader is not None:
            self._reader.join(10)  # the last lines of output
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        self._finish()

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._finish()
        return code
