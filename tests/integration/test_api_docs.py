"""docs/reference/api.md cannot drift: its curl examples run against a live server and
every path they use is in the OpenAPI document."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from heron.alerts import AlertStore
from heron.detect.base import Detection

from .api_server import api_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "api.md"
RULE = """title: Docs example rule
id: 0f0e0d0c-0000-4000-8000-0000000000d0
status: test
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4740}
  condition: selection
level: medium
"""


def _curl_lines() -> list[str]:
    return [line for line in DOC.read_text().splitlines() if line.startswith("curl ")]


def _openapi_path(url_path: str, paths: set[str]) -> bool:
    for template in paths:
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, url_path):
            return True
    return False


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_examples_run(tmp_path: Path) -> None:
    lines = _curl_lines()
    assert len(lines) >= 5
    work = tmp_path / "work"
    (work / "rules").mkdir(parents=True)
    (work / "rules" / "my_rule.yml").write_text(RULE)
    with api_server(tmp_path / "data") as server:
        server.auth.create_user("alice", "correct horse battery", "analyst")
        store = AlertStore(server.node.store)
        alert = store.add([Detection("docs", "Docs", "high", time.time_ns(), ("e1",))]).alert_ids[0]
        paths = set(server.client().get("/openapi.json").json()["paths"])
        env = {
            **os.environ,
            "HERON": server.url,
            "TOKEN": server.tokens["admin"],
            "ALERT": alert,
        }
        for line in lines:
            used = re.search(r'"\$HERON(/[^"?]*)', line)
            assert used is not None, line
            path = used.group(1).replace("$ALERT", alert)
            assert _openapi_path(path, paths), f"{path} is not in the OpenAPI document"
            done = subprocess.run(
                ["bash", "-c", line.replace("curl -s ", "curl -s -f -S ", 1)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}{done.stdout}"
            assert '"error"' not in done.stdout, done.stdout
