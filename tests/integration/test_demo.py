"""``heron demo`` as a user runs it: a subprocess, its URL and credentials, a first alert."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from heron.alerts.store import AlertStore
from heron.cli.main import main
from heron.store.duckdb import DuckDBStore

from .serving import free_port

FIRST_ALERT_LIMIT_S = 60


def _lines(proc: subprocess.Popen[str], out: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        out.put(line.rstrip("\n"))


def test_demo_shows_a_first_alert_within_a_minute(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "demo", "--data-dir", str(data_dir),
         "--http-port", str(port), "--rate", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    url = credentials = first_alert = None
    api_alert_s = None
    try:
        while time.monotonic() - started < FIRST_ALERT_LIMIT_S and first_alert is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "\n".join(seen)
                continue
            seen.append(line)
            if m := re.search(r"open (http://127\.0\.0\.1:\d+/)", line):
                url = m.group(1)
                # The node answers on the printed URL.
                assert httpx.get(url + "healthz", timeout=10).status_code == 200
            if m := re.search(r"user (\S+) password (\S+)$", line):
                credentials = (m.group(1), m.group(2))
            if m := re.search(r"first alert after ([\d.]+) s: (.+) \(pid", line):
                first_alert = (float(m.group(1)), m.group(2))
        assert url == f"http://127.0.0.1:{port}/", seen
        assert first_alert is not None, "\n".join(seen)
        assert time.monotonic() - started < FIRST_ALERT_LIMIT_S
        if credentials is not None:
            # What a person sees: log in with the printed credentials, list alerts.
            with httpx.Client(base_url=url, timeout=10) as client:
                login = client.post(
                    "/api/login", json={"name": credentials[0], "password": credentials[1]}
                )
                assert login.status_code == 200, login.text
                while time.monotonic() - started < FIRST_ALERT_LIMIT_S:
                    page = client.get("/api/alerts", params={"limit": 5})
                    assert page.status_code == 200, page.text
                    if page.json()["alerts"]:
                        api_alert_s = time.monotonic() - started
                        break
                    time.sleep(0.5)
                assert api_alert_s is not None, "no alert through /api/alerts within a minute"
        else:
            assert any("no user store" in s for s in seen)
        # The printed hint works: the CLI asks the running demo node for its alerts.
        assert any("asks this node" in s for s in seen), seen
        listed = subprocess.run(
            [sys.executable, "-m", "heron.cli", "alerts", "--format", "json", "--limit", "1",
             "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert listed.returncode == 0 and listed.stdout.count("\n") == 1, listed.stderr
        print(
            f"\nheron demo: first alert {first_alert[1]!r} {first_alert[0]:.1f} s after start "
            f"by the demo's clock; through /api/alerts after login: "
            f"{'n/a' if api_alert_s is None else f'{api_alert_s:.1f} s'} after the process started"
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0, "\n".join(seen)
    # After it stopped, the alert is in the demo's store for the CLI and the UI.
    with DuckDBStore(str(data_dir), read_only=True) as store:
        assert AlertStore(store).list(limit=5)


def test_demo_refuses_a_used_data_dir_and_a_silly_rate(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    for args, words in (
        (["--data-dir", str(tmp_path / "used")], "not empty"),
        (["--rate", "1e9"], "more than one sender can deliver"),
        (["--rate", "0"], "above 0"),
    ):
        result = CliRunner().invoke(main, ["demo", *args])
        assert result.exit_code != 0
        assert words in result.output
