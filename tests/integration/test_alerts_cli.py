"""The alert queue from the command line, on alerts raised by a real ingest.

A hand-made sshd log (a password-guessing burst then a root logon from one address, a
burst from a second address) goes through ``heron ingest`` and the built-in rules; the
analyst then lists, shows, triages and suppresses with ``heron alerts`` and looks at
entity risk with ``heron risk``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from heron.audit import AuditLog
from heron.cli.alerts_common import default_actor
from heron.cli.main import main

ATTACKER = "203.0.113.50"
SCANNER = "198.51.100.7"


def _auth_log(path: Path, minute: int) -> Path:
    lines = [
        f"Mar  2 10:{minute:02d}:{i * 2:02d} web01 sshd[4242]: Failed password for root "
        f"from {ATTACKER} port {40000 + i} ssh2"
        for i in range(12)
    ]
    lines += [
        f"Mar  2 10:{minute + 1:02d}:{i * 2:02d} web01 sshd[4243]: Failed password for invalid "
        f"user u{i} from {SCANNER} port {41000 + i} ssh2"
        for i in range(6)
    ]
    lines.append(
        f"Mar  2 10:{minute + 2:02d}:00 web01 sshd[4244]: Accepted password for root "
        f"from {ATTACKER} port 42000 ssh2"
    )
    path.write_text("\n".join(lines) + "\n")
    return path


def _heron(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def _json(*args: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _heron(*args, "--format", "json").splitlines()]


@pytest.fixture
def data(tmp_path: Path) -> str:
    data_dir = str(tmp_path / "heron-data")
    log = _auth_log(tmp_path / "auth.log", 0)
    _heron("ingest", "--format", "rfc3164", "--year", "2026", "--data-dir", data_dir, str(log))
    return data_dir


def test_listing_keeps_its_script_contract(data: str) -> None:
    # The installed command, as a script calls it.
    out = subprocess.run(
        [sys.executable, "-m", "heron.cli", "alerts", "--format", "json", "--data-dir", data],
        capture_output=True,
        check=True,
    ).stdout
    rows = [orjson.loads(line) for line in out.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert {"rule.id", "rule.name", "rule.level", "@timestamp", "event.ids"} <= set(row)
        assert row["status"] == "new" and row["event.ids"]
    assert rows == _json("alerts", "list", "--data-dir", data)


def test_triage_show_and_history(data: str, tmp_path: Path) -> None:
    dd = ("--data-dir", data)
    brute = _json("alerts", "--text", "admin logon", *dd)
    (alert,) = brute
    burst_ids = [a["alert.id"] for a in _json("alerts", "--text", "burst", *dd)]
    assert len(burst_ids) == 2

    refused = _heron("alerts", "update", alert["alert.id"], "--status", "closed", *dd, ok=False)
    assert "closing needs a disposition" in refused
    both = _heron("alerts", "update", "x", "--assign", "ann", "--unassign", *dd, ok=False)
    assert "not both" in both

    acked = _json(
        "alerts", "update", *burst_ids, "--status", "acknowledged", "--assign", "ann",
        "--actor", "lead", *dd,
    )  # fmt: skip
    assert [(a["status"], a["assignee"]) for a in acked] == [("acknowledged", "ann")] * 2
    assert {a["alert.id"] for a in _json("alerts", "--assignee", "ann", *dd)} == set(burst_ids)
    assert len(_json("alerts", "--status", "open", *dd)) == 3

    # One unknown id: nothing changes.
    missing = _heron(
        "alerts", "update", burst_ids[0], "nope", "--status", "closed",
        "--disposition", "benign", *dd, ok=False,
    )  # fmt: skip
    assert "no such alert: nope" in missing
    assert {a["status"] for a in _json("alerts", "--assignee", "ann", *dd)} == {"acknowledged"}

    _heron(
        "alerts", "update", alert["alert.id"], "--status", "closed",
        "--disposition", "true_positive", "--comment", "root logon after guessing", *dd,
    )  # fmt: skip
    # Every change made is in the audit log (refused ones are not), chained and intact.
    log = AuditLog(data)
    assert [(r.action, r.actor, r.client) for r in log.records()] == [
        ("alert.update", "lead", "cli"),
        ("alert.update", default_actor(), "cli"),
    ]
    last = list(log.records())[-1]
    assert last.target == alert["alert.id"]
    assert last.details["disposition"] == "true_positive" and log.verify().ok
    (shown,) = _json("alerts", "show", alert["alert.id"], *dd)
    assert shown["status"] == "closed" and shown["disposition"] == "true_positive"
    assert isinstance(shown["closed_at"], str) and shown["closed_at"].endswith("Z")
    (entry,) = shown["history"]
    assert entry["comment"] == "root logon after guessing"
    assert entry["changes"]["status"] == {"from": "new", "to": "closed"}
    # --data-dir given to the group reaches the subcommand.
    above = _heron("alerts", *dd, "show", alert["alert.id"], "--format", "json")
    assert orjson.loads(above)["alert.id"] == alert["alert.id"]
    table = _heron("alerts", "show", alert["alert.id"], *dd)
    assert "history" in table and "true_positive" in table
    assert "no such alert" in _heron("alerts", "show", "nope", *dd, ok=False)
    assert [a["rule.name"] for a in _json("alerts", "--status", "closed", *dd)] == [
        alert["rule.name"]
    ]


def test_suppressions_from_the_command_line(data: str, tmp_path: Path) -> None:
    dd = ("--data-dir", data)
    (added,) = _json(
        "alerts", "suppress", "add", "source.ip", SCANNER, "--reason", "our scanner",
        "--expires", "7d", "--actor", "ann", *dd,
    )  # fmt: skip
    assert added["hits"] == 0 and added["actor"] == "ann" and added["expires"].endswith("Z")
    before = {a["alert.id"]: a["count"] for a in _json("alerts", "--entity", f"ip={SCANNER}", *dd)}
    attacker = sum(a["count"] for a in _json("alerts", "--entity", f"ip={ATTACKER}", *dd))

    log = _auth_log(tmp_path / "again.log", 30)
    _heron("ingest", "--format", "rfc3164", "--year", "2026", *dd, str(log))
    (listed,) = _json("alerts", "suppress", "list", *dd)
    assert listed["suppression.id"] == added["suppression.id"] and listed["hits"] >= 1
    after = {a["alert.id"]: a["count"] for a in _json("alerts", "--entity", f"ip={SCANNER}", *dd)}
    assert after == before  # the scanner raised nothing new
    # The attacker, not suppressed, repeated within the grouping window: counts went up.
    assert sum(a["count"] for a in _json("alerts", "--entity", f"ip={ATTACKER}", *dd)) > attacker

    removed = _heron("alerts", "suppress", "remove", added["suppression.id"], *dd)
    assert "removed suppression" in removed
    assert _json("alerts", "suppress", "list", "--all", *dd) == []
    assert "no such suppression" in _heron(
        "alerts", "suppress", "remove", added["suppression.id"], *dd, ok=False
    )
    actions = [(r.action, r.target) for r in AuditLog(data).records()]
    assert actions == [
        ("suppression.add", added["suppression.id"]),
        ("suppression.remove", added["suppression.id"]),
    ]
    bad = _heron("alerts", "suppress", "add", "user.name", "x", "--reason", "r",
                 "--expires", "soon", *dd, ok=False)  # fmt: skip
    assert "--expires" in bad


def test_entity_risk(data: str) -> None:
    dd = ("--data-dir", data, "--at", "2026-03-02T10:05:00Z")
    top = _json("risk", *dd)
    assert (top[0]["entity.kind"], top[0]["entity.value"]) == ("host", "web01")
    assert {e["entity.kind"] for e in top} == {"host", "ip", "user"}
    ips = _json("risk", "--kind", "ip", *dd)
    assert [e["entity.value"] for e in ips] == [ATTACKER, SCANNER]
    assert ips[0]["alerts"] == 2 and ips[0]["risk"] > ips[1]["risk"] > 0
    assert _json("alerts", "risk", "--kind", "ip", *dd) == ips
    # A day later the same risk has halved.
    later = _json("risk", "--kind", "ip", "--data-dir", data, "--at", "2026-03-03T10:05:00Z")
    assert later[0]["risk"] == pytest.approx(ips[0]["risk"] / 2, abs=0.01)
