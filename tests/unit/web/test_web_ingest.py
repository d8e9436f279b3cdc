"""The "Add data" page: files uploaded from a browser form into the running node."""

from __future__ import annotations

import re

import httpx

from heron.audit import AuditLog
from ui.signin import login
from ui.webdata import WebData

SYSLOG = (
    b"<38>1 2026-11-28T10:00:00Z upload01 sshd 7 - - Failed password for root from "
    b"192.0.2.77 port 4000 ssh2\n<13>1 2026-11-28T10:00:01Z upload01 app - - - fine\n"
    b"\xff not UTF-8\n"
)
JSON = b'{"@timestamp": "2026-11-28T10:00:02Z", "message": "uploaded json", "host": "upload02"}\n'


def _stored(client: httpx.Client, name: str) -> int:
    found = client.get("/api/events", params={"log.file.path": name, "limit": 100})
    assert found.status_code == 200, found.text
    return int(found.json()["count"])


def test_an_admin_uploads_files_and_sees_what_was_stored(
    client: httpx.Client, web_data: WebData
) -> None:
    reader = login(client, "rita")
    assert "Add data" not in client.get("/ui/alerts").text
    assert client.get("/ui/ingest").status_code == 403
    files = [("files", ("auth.log", SYSLOG)), ("files", ("C:\\exports\\app.json", JSON))]
    assert client.post("/ui/ingest", data={"csrf": reader}, files=files).status_code == 403

    admin = login(client, "adam")
    assert 'href="/ui/ingest"' in client.get("/ui/alerts").text
    form = client.get("/ui/ingest")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert client.post("/ui/ingest", data={"csrf": "wrong"}, files=files).status_code == 403
    assert _stored(client, "auth.log") == 0

    done = client.post("/ui/ingest", data={"csrf": admin, "format": "auto"}, files=files)
    assert done.status_code == 200, done.text
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([\d,]+)</td>\s*<td>([\d,]+)</td>", done.text)
    assert rows == [("auth.log", "2", "1"), ("app.json", "1", "0")]
    assert "line 3: invalid UTF-8" in done.text
    # Stored under the names the browser gave (a folder sent along is dropped).
    assert (_stored(client, "auth.log"), _stored(client, "app.json")) == (2, 1)

    empty = client.post("/ui/ingest", data={"csrf": admin})
    assert empty.status_code == 400 and "Choose at least one file" in empty.text
    bad = client.post("/ui/ingest", data={"csrf": admin, "format": "nosuch"}, files=files[:1])
    assert bad.status_code == 400 and _stored(client, "auth.log") == 2

    uploads = [r for r in AuditLog(web_data.data_dir).records() if r.action == "ingest.upload"]
    assert [(r.actor, r.target, r.details["events"]) for r in uploads] == [
        ("adam", "auth.log", 2),
        ("adam", "app.json", 1),
    ]
