"""``heron ingest`` run as a user runs it, and the small mixed corpus the ingest tests share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from heron.store.duckdb import DuckDBStore

HERON = [sys.executable, "-m", "heron.cli"]

SSHD = [
    "Nov 27 10:00:01 web01 sshd[1201]: Failed password for root from 203.0.113.9 port 50001 ssh2",
    "Nov 27 10:00:03 web01 sshd[1201]: Failed password for invalid user oracle from 203.0.113.9 "
    "port 50002 ssh2",
    "Nov 27 10:00:09 web01 sshd[1207]: Accepted password for alice from 198.51.100.4 port 40022 "
    "ssh2",
]
RFC5424 = (
    "<34>1 2026-11-27T10:00:00.123456789Z mymachine su 77 ID47 [ex@32473 a=\"1\"] 'su root' failed"
)
CEF = (
    "CEF:0|Acme|Firewall|1.0|100|Connection blocked|7|src=10.1.1.1 dst=10.2.2.2 spt=5555 "
    "dpt=443 proto=TCP act=blocked"
)
JSON_EVENT = {
    "@timestamp": "2026-11-27T10:00:05Z",
    "user": {"name": "carol"},
    "source": {"ip": "192.0.2.7"},
    "message": "json hello",
}


def heron(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HERON, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def ingest_json(paths: list[Path], data_dir: Path, *extra: str) -> dict[str, float]:
    proc = heron("ingest", "--json", "--no-detect", *extra, *map(str, paths), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(summary) == {"events", "failed", "seconds"}
    return summary


def store_of(data_dir: Path) -> DuckDBStore:
    return DuckDBStore(data_dir, read_only=True)


def write_mixed(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "auth.log").write_text("\n".join(SSHD) + "\n")
    (folder / "app.log").write_text(RFC5424 + "\n" + CEF + "\n")
    (folder / "events.ndjson").write_text(json.dumps(JSON_EVENT) + "\n")
