"""``heron ingest`` while ``heron serve`` runs, and ``POST /api/ingest`` under it.

The node holds the data directory, so the command hands its files to the node over
the control socket; what it reports as stored must survive the node being killed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from heron.audit import AuditLog
from heron.control import bind_control_socket, local_user, running_node_socket
from heron.store.base import SearchQuery

from .api_server import api_server
from .serving import HeronProcess, dead_letters, free_port, stored_events

HERON = [sys.executable, "-m", "heron.cli"]
SSH_LINES = [
    f"<38>1 2026-11-2{i}T10:00:00Z web01 sshd 120{i} - - Failed password for root "
    f"from 203.0.113.{i} port 5000{i} ssh2"
    for i in range(3)
]


def _heron(
    data_dir: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HERON, *args, "--data-dir", str(data_dir)],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _summary(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_ingest_goes_to_the_running_node_and_survives_its_kill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    syslog = tmp_path / "auth.log"
    syslog.write_bytes("\n".join(SSH_LINES).encode() + b"\n\xff not UTF-8\n")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "app.json").write_text('{"message": "one"}\n{"message": "two"}\n')
    (folder / "notes.txt").write_text("left out by --include\n")

    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port())
    try:
        assert node.proc is not None
        assert any("reach this node through" in line for line in node.output)
        run = data_dir / "run"
        assert stat.S_IMODE(run.stat().st_mode) == 0o700
        socket_path = running_node_socket(data_dir)
        assert socket_path is not None and stat.S_ISSOCK(socket_path.stat().st_mode)
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
        assert json.loads((run / "node.json").read_text())["pid"] == node.proc.pid

        loaded = _heron(
            data_dir, "ingest", "--json", str(syslog), str(folder), "--include", "*.json"
        )
        assert _summary(loaded) == {"events": 5, "failed": 1, "seconds": pytest.approx(0, abs=60)}
        assert "a node serves" in loaded.stderr
        piped = _heron(data_dir, "ingest", "--json", "-", stdin=b'{"message": "piped"}\n')
        assert _summary(piped)["events"] == 1

        # The node keeps the ingest ledger as a load of its own does: with
        # --skip-ingested, files read before are left out and a grown log is read on.
        again = _heron(data_dir, "ingest", "--json", "--skip-ingested", str(syslog))
        assert _summary(again)["events"] == 0
        assert "1 file(s) left out: ingested into this data directory before" in again.stderr
        with syslog.open("ab") as log:
            log.write(SSH_LINES[0].replace("203.0.113.0", "203.0.113.99").encode() + b"\n")
        grown = _heron(data_dir, "ingest", "--json", "--skip-ingested", str(syslog))
        assert _summary(grown)["events"] == 1
        assert "only what was added is read" in grown.stderr

        # Options that would change how the node parses or detects are refused, not ignored.
        refused = _heron(data_dir, "ingest", "--no-detect", "--year", "2020", str(syslog))
        assert refused.returncode != 0
        assert "--no-detect, --year cannot be used now" in refused.stderr
        # Only the node's OS user can connect: others cannot even reach the socket.
        assert stat.S_IMODE(run.stat().st_mode) & 0o077 == 0
    finally:
        node.kill()  # SIGKILL: no drain, no clean close

    # What the command reported as stored is there after the kill, named by its path.
    events = stored_events(data_dir)
    paths = sorted(str(e.get("log.file.path")) for e in events)
    assert paths == sorted([str(syslog)] * 4 + [str(folder / "app.json")] * 2 + ["None"])
    (letter,) = dead_letters(data_dir)
    assert (letter["source"], letter["location"]) == (str(syslog), "line 4")
    added = [e for e in events if "203.0.113.99" in str(e.get("event.original"))]
    assert len(added) == 1
    assert not [p for p in (data_dir / "spool").iterdir() if p.name.startswith("upload-")]

    # The node is gone (its node.json stays behind): the command loads by itself again.
    assert running_node_socket(data_dir) is None
    direct = _heron(data_dir, "ingest", "--json", "--no-detect", str(folder / "app.json"))
    assert _summary(direct)["events"] == 2
    assert "a node serves" not in direct.stderr

    # A node started after the crash replaces the stale socket; a clean stop removes it.
    again = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port())
    try:
        assert _summary(_heron(data_dir, "stats", "--format", "json"))["events"] == 9
    finally:
        assert again.terminate() == 0
    assert not (data_dir / "run" / "node.sock").exists()
    assert not (data_dir / "run" / "node.json").exists()


def _pieces(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_api_ingest_answers_once_stored_and_enforces_its_limits(tmp_path: Path) -> None:
    with api_server(tmp_path, http={"max_upload_bytes": 4096}) as server:
        admin = server.client("admin")
        body = ("\n".join(SSH_LINES) + "\n<13>not a syslog line at all\n").encode()
        answer = admin.post(
            "/api/ingest", params={"name": "/var/log/sent.log", "format": "rfc5424"}, content=body
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert (result["events"], result["failed"], result["bytes"]) == (3, 1, len(body))
        (letter,) = result["dead_letters"]
        assert (letter["source"], letter["location"]) == ("/var/log/sent.log", "line 4")
        # Answered after the commit: the events are in the store now.
        stored = server.node.store.search(
            SearchQuery(filters={"log.file.path": "/var/log/sent.log"})
        )
        assert len(stored) == 3

        # An EVTX file is read as EVTX (format from content), streamed without a length.
        evtx = tmp_path / "small.evtx"
        empty = admin.post("/api/ingest", params={"name": str(evtx)}, content=b"")
        assert empty.status_code == 200 and empty.json()["events"] == 0
        assert "nothing to ingest" in empty.json()["messages"][0]

        # Over the upload limit: declared, and streamed without a declared length.
        big = b'{"message": "x"}\n' * 300
        assert admin.post("/api/ingest", content=big).status_code == 413
        assert admin.post("/api/ingest", content=_pieces(big)).status_code == 413
        assert (
            admin.post("/api/ingest", params={"format": "nosuch"}, content=b"x").status_code == 400
        )
        # Refused uploads leave nothing: no events, no spool files.
        assert not [p for p in (tmp_path / "spool").iterdir() if p.name.startswith("upload-")]
        assert server.node.store.stats().events == 3

        # A spool that cannot be written (here: no folder to write in) is 507, not 500.
        spool = tmp_path / "spool"
        spool.rename(tmp_path / "spool-away")
        spool.write_text("not a folder")
        try:
            unspooled = admin.post("/api/ingest", content=b'{"message": "x"}\n')
        finally:
            spool.unlink()
            (tmp_path / "spool-away").rename(spool)
        assert unspooled.status_code == 507 and "cannot spool" in unspooled.text
        # Reading is not ingesting.
        reader = server.client("read").post("/api/ingest", content=b'{"message": "x"}\n')
        assert reader.status_code == 403
        ingester = server.client("ingest").post("/api/ingest", content=b'{"message": "x"}\n')
        assert ingester.status_code == 200 and ingester.json()["events"] == 1

    uploads = [r for r in AuditLog(tmp_path).records() if r.action == "ingest.upload"]
    assert [(r.actor, r.target) for r in uploads[:1]] == [
        ("token:admin-token", "/var/log/sent.log")
    ]
    assert uploads[0].details["events"] == 3


def _failed_ssh(when: datetime, count: int) -> bytes:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return "".join(
        f"<38>1 {stamp} web01 sshd {i} - - Failed password for root from 198.51.100.7 "
        f"port {40000 + i} ssh2\n"
        for i in range(count)
    ).encode()


def test_an_upload_behind_the_nodes_event_time_still_correlates(tmp_path: Path) -> None:
    with api_server(tmp_path, detect=True) as server:
        admin = server.client("admin")
        now = datetime.now(UTC)
        first = admin.post("/api/ingest", params={"name": "now.log"}, content=_failed_ssh(now, 1))
        assert first.status_code == 200 and first.json()["detections"] == 0
        # Three days behind live event time: held and correlated on its own, not late.
        old = admin.post(
            "/api/ingest",
            params={"name": "old.log"},
            content=_failed_ssh(now - timedelta(days=3), 7),
        )
        assert old.status_code == 200 and old.json()["events"] == 7
        assert old.json()["messages"] == [] and old.json()["detections"] == 1
        # The same for files named by path over the control socket (heron ingest).
        older = tmp_path / "older.log"
        older.write_bytes(_failed_ssh(now - timedelta(days=4), 6))
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(tmp_path / "run" / "node.sock")),
            base_url="http://node",
        ) as local:
            body = {"files": [{"path": str(older), "name": "older.log"}]}
            named = local.post("/api/ingest/files", json=body)
        assert named.status_code == 200 and named.json()["events"] == 6
        assert named.json()["detections"] == 1
        bursts = admin.get("/api/alerts", params={"text": "Failed Logon Burst"}).json()["alerts"]
        days = sorted(
            datetime.fromtimestamp(a["@timestamp"] / 1e9, UTC).strftime("%Y-%m-%d") for a in bursts
        )
        assert days == [
            (now - timedelta(days=4)).strftime("%Y-%m-%d"),
            (now - timedelta(days=3)).strftime("%Y-%m-%d"),
        ], bursts


def test_the_control_socket_serves_the_api_to_the_local_user_only(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        socket_path = tmp_path / "run" / "node.sock"
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(socket_path)), base_url="http://node"
        ) as local:
            me = local.get("/api/me")
            assert me.status_code == 200, me.text
            assert (me.json()["kind"], me.json()["name"]) == ("local", local_user())
            assert "admin" in me.json()["scopes"]
            assert (
                local.post("/api/ingest", content=b'{"message": "local"}\n').json()["events"] == 1
            )
        # The same route over TCP still wants credentials.
        assert httpx.post(server.url + "/api/ingest", content=b"{}").status_code == 401
    actors = {r.actor for r in AuditLog(tmp_path).records() if r.action == "ingest.upload"}
    assert len(actors) == 1 and actors.pop().startswith("local:")


def test_a_long_data_directory_puts_its_socket_in_a_private_temporary_folder(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    control = bind_control_socket(deep)
    try:
        assert control.path.parent.name == f"heron-{os.getuid()}"
        assert stat.S_IMODE(control.path.parent.stat().st_mode) == 0o700
        assert json.loads((deep / "run" / "node.json").read_text())["socket"] == str(control.path)
    finally:
        control.close()
    assert not control.path.exists() and not (deep / "run" / "node.json").exists()


BACKTEST_RULE = """title: Failed SSH password
id: 7f0c8a52-1a7e-4c55-9f6a-0a1b2c3d4e5f
status: test
logsource: {product: linux, service: sshd}
detection:
  selection: {event.outcome: failure}
  condition: selection
level: low
"""


def test_api_backtest_runs_rules_sent_over_the_nodes_history(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        sent = server.client("ingest").post(
            "/api/ingest", content=_failed_ssh(datetime.now(UTC), 3)
        )
        assert sent.json()["events"] == 3
        body = {"rules": [{"name": "C:\\rules\\ssh.yml", "text": BACKTEST_RULE}], "limit": 2}
        found = server.client("read").post("/api/rules/backtest", json=body)
        assert found.status_code == 200, found.text
        result = found.json()
        assert (result["rules"], result["total"], len(result["detections"])) == (1, 3, 2)
        assert result["hits"][0]["hits"] == 3 and "stored" not in result
        # Storing alerts is an analyst's change; a broken file is named as sent.
        body["alert"] = True
        assert server.client("read").post("/api/rules/backtest", json=body).status_code == 403
        body["rules"].append({"name": "broken.yml", "text": "title: x\ndetection: [\n"})
        stored = server.client("analyst").post("/api/rules/backtest", json=body).json()
        assert stored["stored"]["created"] >= 1
        assert [e["path"] for e in stored["errors"]] == ["broken.yml"]
    assert not [p for p in (tmp_path / "spool").iterdir() if p.name.startswith("backtest-")]
