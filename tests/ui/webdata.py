"""A data directory for UI tests: real log lines ingested by ``heron ingest``, alerts on them,
users of each role, and the app that serves it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from heron.alerts import AlertStore
from heron.detect.base import Detection
from heron.model.alert import ALERT_ENTITY_FIELDS
from heron.store.duckdb import DuckDBStore

EVTX_FILES = (
    "Credential Access/sysmon_rdrleakdiag_lsass_dump.evtx",
    "Execution/Sysmon_Exec_CompiledHTML.evtx",
)
#: A web access line and an sshd line whose fields carry XSS payloads, as attackers send them.
WEB_LINE = (
    "203.0.113.66 - <script>alert(1)</script> [10/Oct/2024:13:55:36 +0000] "
    '"GET /search?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1" 200 2326 '
    '"javascript:alert(document.cookie)" "\\"><img src=x onerror=alert(1)>"'
)
SSH_LINE = (
    "<34>Oct 11 22:14:15 web01 sshd[4242]: Failed password for "
    '"><img src=x onerror=alert(2)> from 198.51.100.7 port 22 ssh2'
)
XSS_USER = "<script>alert(1)</script>"
XSS_USER2 = '"><img src=x onerror=alert(2)>'
PASSWORD = "correct horse battery staple"
USERS = {"ana": "analyst", "rita": "read", "adam": "admin"}


@dataclass
class WebData:
    data_dir: Path
    alert_ids: dict[str, str]  # name → alert id


def build(data_dir: Path, corpora: Path | None) -> WebData:
    """Ingest the lines (and EVTX samples when the corpora are there), add alerts, users."""
    tmp = data_dir.parent / "inputs"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "web.log").write_text(WEB_LINE + "\n")
    (tmp / "auth.log").write_text(SSH_LINE + "\n")
    paths = [str(tmp / "web.log"), str(tmp / "auth.log")]
    if corpora is not None:
        base = corpora / "evtx" / "EVTX-ATTACK-SAMPLES"
        paths += [str(base / name) for name in EVTX_FILES if (base / name).exists()]
    from heron.cli.main import main

    result = CliRunner().invoke(
        main, ["ingest", "--no-detect", "--data-dir", str(data_dir), "--year", "2024", *paths]
    )
    assert result.exit_code == 0, result.output
    with DuckDBStore(data_dir) as store:
        rows = store.query(
            'SELECT "event.id", epoch_ns("@timestamp") AS ts, "user.name", "host.name", '
            '"source.ip", "event.dataset" FROM events ORDER BY "@timestamp"'
        ).to_pylist()
        alerts = AlertStore(store)
        detections = []
        names = []
        for row in rows:
            entities = {k: row[k] for k in ALERT_ENTITY_FIELDS if k in row and row[k] is not None}
            if row["event.dataset"] == "web.access":
                name, tags, level = "Web attack <b>probe</b>", ("attack.initial-access",), "high"
            elif row["event.dataset"] == "system.auth":
                name, tags, level = "SSH failed login", ("attack.credential-access",), "medium"
            elif row["user.name"] == "wanwan":
                name, tags, level = (
                    "LSASS dump",
                    ("attack.credential_access", "attack.t1003"),
                    "critical",
                )
            else:
                continue
            names.append(name)
            detections.append(
                Detection(
                    rule_id=f"test-{len(names)}",
                    rule_name=name,
                    level=level,
                    timestamp=int(row["ts"]),
                    event_ids=(row["event.id"],),
                    tags=tags,
                    entities=entities,
                )
            )
        result_ids = alerts.add(detections).alert_ids
        ids = dict(zip(names, result_ids, strict=True))
    from argon2 import PasswordHasher

    from heron.auth import AuthStore
    from heron.auth.passwords import Passwords

    # Cheap hashes keep the tests fast; verifying reads the parameters from each hash.
    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    auth = AuthStore(data_dir, passwords=cheap)
    try:
        for user, role in USERS.items():
            auth.create_user(user, PASSWORD, role)
    finally:
        auth.close()
    return WebData(data_dir, ids)
