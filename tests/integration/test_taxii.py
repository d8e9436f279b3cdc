"""TAXII 2.1 against real servers on loopback: medallion (the OASIS reference server) in
a subprocess, and small HTTP servers that fail the ways real ones do (500, silence,
a failure on page 2)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import stix2
from click.testing import CliRunner
from taxii2client.v21 import Collection

from heron.cli.main import main
from heron.intel.errors import FeedError
from heron.intel.loaders import LoadOptions
from heron.intel.loaders.taxii import fetch_taxii
from heron.intel.store import IntelStore
from heron.store.duckdb import DuckDBStore

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
TAXII = "application/taxii+json;version=2.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"medallion exited: {proc.stderr.read() if proc.stderr else ''!r}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("medallion did not start listening")


@pytest.fixture(scope="module")
def medallion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("medallion")
    port = _free_port()
    data = {
        "/discovery": {
            "title": "Heron test server",
            "default": f"http://127.0.0.1:{port}/api1/",
            "api_roots": [f"http://127.0.0.1:{port}/api1/"],
        },
        "api1": {
            "information": {
                "title": "test root",
                "versions": [TAXII],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "indicators",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
        },
        "users": {"heron": "s3cret"},
        "taxii": {"max_page_size": 2},  # four indicators: two pages and more
    }
    (folder / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1",
         "--port", str(port), str(folder / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(port, proc)
        url = f"http://127.0.0.1:{port}/api1/collections/{COLLECTION}/"
        _publish(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


def _publish(url: str) -> None:
    author = stix2.Identity(name="Loopback CTI", identity_class="organization")
    indicators = [
        stix2.Indicator(pattern=p, pattern_type="stix", valid_from="2026-01-01T00:00:00Z",
                        created_by_ref=author.id, confidence=80)
        for p in (
            "[ipv4-addr:value = '198.51.100.7']",
            "[domain-name:value = 'evil.example']",
            "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
            "[url:value = 'http://bad.example/x']",
        )
    ]  # fmt: skip
    bad = {**json.loads(indicators[0].serialize()), "pattern": "[ipv4-addr:value = "}
    bad["id"] = "indicator--00000000-0000-4000-8000-00000000dead"
    bundle = json.loads(stix2.Bundle(author, *indicators).serialize())
    bundle["objects"].append(bad)
    with Collection(url, user="heron", password="s3cret") as collection:
        collection.add_objects(json.dumps(bundle))


def test_fetch_every_page_from_medallion(medallion: str) -> None:
    fetched = fetch_taxii(medallion, LoadOptions(), user="heron", password="s3cret", page_size=2)
    assert fetched.pages >= 3
    values = sorted(i.value for i in fetched.result.indicators)
    assert values == ["198.51.100.7", "2001:db8::/32", "evil.example", "http://bad.example/x"]
    assert {i.source for i in fetched.result.indicators} == {"Loopback CTI"}
    assert len(fetched.result.errors) == 1
    assert "invalid STIX pattern" in fetched.result.errors[0].reason


def test_wrong_password_is_a_clear_error(medallion: str) -> None:
    with pytest.raises(FeedError, match="HTTP 401"):
        fetch_taxii(medallion, LoadOptions(), user="heron", password="wrong")


def test_cli_loads_a_taxii_collection(
    medallion: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXII_PASSWORD", "s3cret")
    result = CliRunner().invoke(
        main,
        ["intel", "load", "--taxii", medallion, "--user", "heron", "--password-env",
         "TAXII_PASSWORD", "--json", "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert (report["added"], report["refused"]) == (4, 1)


# -- servers that fail -------------------------------------------------------------------


class _Failing(BaseHTTPRequestHandler):
    mode = "500"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", TAXII)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        # The client may have given up first: that is what the timeout test wants.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.mode == "500":
            self._send(500, {"title": "internal error"})
            return
        if self.mode == "silent":
            time.sleep(2)  # longer than the client waits; then hang up without a word
            return
        # "page2": the collection and its first page answer, the second page fails.
        if "/objects/" not in self.path:
            self._send(200, {"id": "c1", "title": "x", "can_read": True, "can_write": False})
        elif "next=" in self.path:
            self._send(500, {"title": "backend gone"})
        else:
            indicator = json.loads(
                stix2.Indicator(pattern="[ipv4-addr:value = '192.0.2.1']", pattern_type="stix",
                                valid_from="2026-01-01T00:00:00Z").serialize()
            )  # fmt: skip
            self._send(200, {"more": True, "next": "p2", "objects": [indicator]})


@pytest.fixture
def failing() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(mode: str) -> str:
        handler = type("Handler", (_Failing,), {"mode": mode})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api1/collections/c1/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_server_answering_500(failing: Any) -> None:
    with pytest.raises(FeedError, match=r"HTTP 500.*nothing loaded"):
        fetch_taxii(failing("500"), LoadOptions(), timeout=2)


def test_a_silent_server_times_out(failing: Any) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match=r"no answer within 0\.5 s"):
        fetch_taxii(failing("silent"), LoadOptions(), timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_a_failure_on_page_two_loads_nothing(failing: Any, data_dir: Path) -> None:
    url = failing("page2")
    with pytest.raises(FeedError, match="page 2"):
        fetch_taxii(url, LoadOptions(), timeout=2)
    result = CliRunner().invoke(
        main, ["intel", "load", "--taxii", url, "--timeout", "2", "--data-dir", str(data_dir)]
    )
    assert result.exit_code != 0 and "nothing loaded" in result.output
    with DuckDBStore(data_dir) as store:
        assert IntelStore(store).count() == 0


class _Files(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/feeds/blocklist.csv":
            body = b"value,type,confidence\n198.51.100.7,ip,90\nbroken,\nevil.example,domain,50\n"
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_feeds_over_http_and_the_refresh_command(data_dir: Path, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/feeds"
    try:
        runner = CliRunner()
        loaded = runner.invoke(
            main, ["intel", "load", f"{base}/blocklist.csv", "--json", "--data-dir", str(data_dir)]
        )
        assert loaded.exit_code == 0, loaded.output
        report = orjson.loads(loaded.stdout.strip().splitlines()[-1])
        assert (report["added"], report["refused"]) == (2, 1)
        missing = runner.invoke(
            main, ["intel", "load", f"{base}/gone.csv", "--data-dir", str(data_dir)]
        )
        assert missing.exit_code != 0 and "HTTP 404" in missing.output
        feeds = tmp_path / "feeds.yml"
        feeds.write_text(
            "feeds:\n"
            f"  - {{name: blocklist, type: url, url: '{base}/blocklist.csv', interval: 1h}}\n"
            f"  - {{name: gone, type: url, url: '{base}/gone.csv', interval: 1h}}\n"
        )
        args = ["intel", "refresh", "--feeds", str(feeds), "--json", "--data-dir", str(data_dir)]
        refreshed = runner.invoke(main, args)
        assert refreshed.exit_code == 1  # one feed failed
        runs = {r["name"]: r for r in map(orjson.loads, refreshed.stdout.splitlines())}
        assert runs["blocklist"]["ok"] and runs["blocklist"]["updated"] == 2
        assert not runs["gone"]["ok"] and "HTTP 404" in runs["gone"]["error"]
        again = runner.invoke(main, args)  # nothing is due an instant later
        assert again.exit_code == 0 and again.stdout.strip() == ""
    finally:
        server.shutdown()
        server.server_close()
