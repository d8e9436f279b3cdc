"""Indicators and assets loaded into a running node apply to the very next events.

Enrichers look for a newer snapshot on their own only every 30 s; a node that writes
one has its pipeline (and worker processes) apply it from the next batch on, and a
load's retro-match waits for the batches sent before to be stored.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from .ingesting import HERON
from .serving import HeronProcess, free_port

_IOC = "203.0.113.77"


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    return _call(data_dir, *args, stdin=stdin).stdout


def _call(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*HERON, *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc


def _event(n: int, **fields: str) -> str:
    return json.dumps({"@timestamp": f"2026-11-29T10:00:{n:02d}Z", "message": f"m{n}", **fields})


def test_loaded_indicators_and_assets_apply_to_the_next_events(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    before = _event(1, **{"source.ip": _IOC})
    _run(data_dir, "ingest", "--format", "json", "-", stdin=before + "\n")
    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port(), detect=True)
    try:
        # The node enriches one event first, so its enrichers hold the empty snapshots.
        _run(data_dir, "ingest", "--format", "json", "-", stdin=_event(2) + "\n")
        iocs = tmp_path / "iocs.csv"
        iocs.write_text(f"type,value\nipv4-addr,{_IOC}\n")
        loaded = json.loads(_run(data_dir, "intel", "load", "--json", str(iocs)))
        assert (loaded["added"], loaded["retro_hits"]) == (1, 1)
        cmdb = tmp_path / "cmdb.csv"
        cmdb.write_text("name,ip,criticality\ndc01,10.0.2.17,critical\n")
        _run(data_dir, "assets", "load", "--json", str(cmdb))
        after = [
            _event(3, **{"source.ip": _IOC}),
            _event(4, **{"host.ip": "10.0.2.17"}),
        ]
        _run(data_dir, "ingest", "--format", "json", "-", stdin="\n".join(after) + "\n")
        found = {
            e["message"]: e
            for e in map(json.loads, _run(data_dir, "search", "--format", "json").splitlines())
        }
        assert [i["indicator.ip"] for i in found["m3"]["threat.enrichments"]] == [_IOC]
        assert found["m4"]["asset.criticality"] == "critical"
        alerts = [
            json.loads(line) for line in _run(data_dir, "alerts", "--format", "json").splitlines()
        ]
        intel = [a for a in alerts if str(a["rule.id"]).startswith("intel:")]
        # One alert per event: the retro-match found the stored one, the live match the
        # new one, and neither counted an event twice.
        named = sorted(i for a in intel for i in a["event.ids"])
        assert named == sorted([found["m1"]["event.id"], found["m3"]["event.id"]]), intel
    finally:
        assert node.terminate() == 0


def _burst(ip: str, day: str) -> str:
    failed = [
        f"{day} 10:00:{i * 5:02d} web01 sshd[{300 + i}]: Failed password for root from {ip} "
        f"port {41000 + i} ssh2"
        for i in range(7)
    ]
    accepted = (
        f"{day} 10:01:30 web01 sshd[399]: Accepted password for root from {ip} port 41999 ssh2"
    )
    return "\n".join([*failed, accepted]) + "\n"


def test_loads_through_the_node_correlate_in_their_own_event_time(tmp_path: Path) -> None:
    """A file loaded beside a running node correlates as `heron ingest` does on its own,
    however far live event time has moved on (before, all its matches were late)."""
    data_dir = tmp_path / "data"
    node = HeronProcess(tmp_path, data_dir, {}).start_plain(free_port(), detect=True)
    try:
        # Live input first: the node's event time is now today.
        live = json.dumps({"@timestamp": "2026-11-29T12:00:00Z", "message": "live"})
        _run(data_dir, "ingest", "--format", "json", "-", stdin=live + "\n")
        old = tmp_path / "auth.log"
        old.write_text(_burst("203.0.113.5", "Jan 10"))
        loaded = _call(data_dir, "ingest", "--format", "rfc3164", str(old)).stderr
        uploaded = _call(
            data_dir, "ingest", "--format", "rfc3164", "-", stdin=_burst("203.0.113.6", "Feb  3")
        ).stderr
        alerts = [
            json.loads(line) for line in _run(data_dir, "alerts", "--format", "json").splitlines()
        ]
    finally:
        assert node.terminate() == 0
    by_ip: dict[str, set[str]] = {}
    for alert in alerts:
        by_ip.setdefault(str(alert["source.ip"]), set()).add(alert["rule.name"])
    wanted = {
        "Failed Logon Burst From One Source",
        "Brute Force Followed By Admin Logon (Linux SSH)",
    }
    assert wanted <= by_ip["203.0.113.5"], alerts
    assert wanted <= by_ip["203.0.113.6"], alerts
    # The summaries count them as `heron ingest` on its own does.
    alone = _call(tmp_path / "alone", "ingest", "--format", "rfc3164", str(old)).stderr
    counted = re.compile(r"; (\d+) detections")
    found = counted.search(alone)
    assert found is not None and int(found.group(1)) >= 2, alone
    assert counted.findall(loaded) == counted.findall(uploaded) == [found.group(1)]
