"""``heron validate`` and ``heron serve`` as commands: messages, defaults, token, clean stop."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import orjson
from click.testing import CliRunner

from heron.cli.main import main

from .serving import HeronProcess, free_port, query


def test_validate_accepts_a_good_config(tmp_path: Path) -> None:
    path = tmp_path / "heron.yml"
    path.write_text(
        "tokens: [abcdefghijklmnopqrstuvwxyz]\nsources:\n"
        "  - {type: syslog, protocol: tcp, port: 5514}\n  - {type: hec, ack: true}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK (2 sources: syslog-tcp-5514, hec)" in result.output


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "heron.yml"
    path.write_text(
        "sources:\n  - {type: syslog, protocol: tcp, port: 8080}\n"
        "  - {type: syslog, protocol: tls, port: 6514, "
        "tls: {cert: missing.pem, key: missing.key}}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "tcp 127.0.0.1:8080 is already taken by http" in result.output
    assert "tls.cert: no such file" in result.output and "tls.key: no such file" in result.output
    path.write_text("sources:\n  - {type: syslog, port: 0}\nextra_key: 1\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "extra_key: unknown key" in result.output
    assert "sources.0.syslog.port" in result.output
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "absent.yml")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_serve_without_config(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = HeronProcess(tmp_path, data_dir, {}).start_plain(port)
    try:
        printed = "".join(server.output)
        assert f"http://127.0.0.1:{port}" in printed
        assert "HEC /services/collector" in printed and "bulk /_bulk" in printed
        token_file = data_dir / "secrets" / "ingest-token"
        token = token_file.read_text().strip()
        assert token in printed  # shown once, at creation
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/healthz").json()["status"] == "ok"
        answer = httpx.post(
            url + "/services/collector/event",
            content=orjson.dumps({"event": "hello over HEC"}),
            headers={"Authorization": f"Splunk {token}"},
        )
        assert answer.status_code == 200
        assert server.terminate() == 0
        assert "everything queued was committed" in "".join(server.output)
        second = HeronProcess(tmp_path, data_dir, {}).start_plain(port)
        try:
            assert token not in "".join(second.output)  # not shown again
            assert second.terminate() == 0
        finally:
            second.kill()
    finally:
        server.kill()
    rows = query(data_dir, "SELECT message FROM events")
    assert rows == [{"message": "hello over HEC"}]
