"""A running node keeps its data directory in shape: retention, old days to Parquet.

``heron serve`` deletes what is past ``retention`` every ``housekeeping_seconds``, and
``heron retention`` works while it runs (through the node's API).
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from heron.audit import AuditLog

from .ingesting import HERON, heron
from .serving import HeronProcess, free_port


def _heron(data_dir: Path, *args: str) -> str:
    proc = heron(*args, data_dir=data_dir)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def _line(days_ago: int, n: int) -> str:
    stamp = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"@timestamp": stamp, "message": f"{days_ago} days ago #{n}"})


def _stats(data_dir: Path) -> dict[str, object]:
    return json.loads(_heron(data_dir, "stats", "--format", "json"))  # type: ignore[no-any-return]


def test_the_node_deletes_past_retention_and_heron_retention_runs_through_it(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    ages = [60, 60, 60, 10, 10, 3, 0]
    log = tmp_path / "history.json"
    log.write_text("\n".join(_line(days, i) for i, days in enumerate(ages)) + "\n")
    _heron(data_dir, "ingest", "--no-detect", str(log))
    assert _stats(data_dir)["events"] == 7

    config = {"http": {"port": free_port()}, "retention": "30d", "housekeeping_seconds": 0.5}
    node = HeronProcess(tmp_path, data_dir, config).start()
    try:
        deadline = time.monotonic() + 60
        while _stats(data_dir)["events"] != 4:  # asked of the node, while it runs
            assert time.monotonic() < deadline, "housekeeping did not apply the retention"
            time.sleep(0.5)
        done = _heron(data_dir, "retention", "--keep", "5d")
        assert done.strip() == "deleted 2 events older than 5d; moved 1 day(s) to Parquet"
        stats = _stats(data_dir)
        assert stats["events"] == 2 and stats["partitions"] == 2
    finally:
        assert node.terminate() == 0
    days = json.loads(_heron(data_dir, "stats", "--format", "json"))
    assert days["events"] == 2
    (record,) = [r for r in AuditLog(data_dir).records() if r.action == "retention"]
    assert record.actor.startswith("local:") and record.details["deleted"] == 2


def test_the_node_refreshes_its_intel_feeds(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seen = tmp_path / "seen.json"
    seen.write_text(json.dumps({"@timestamp": _now(), "source.ip": "198.51.100.44"}) + "\n")
    _heron(data_dir, "ingest", str(seen))
    listed = tmp_path / "watch.txt"
    listed.write_text("198.51.100.44\n")
    feeds = tmp_path / "feeds.yml"
    feeds.write_text(f"feeds:\n  - {{name: watch, type: file, path: {listed}, interval: 1h}}\n")
    config = {"http": {"port": free_port()}, "intel_feeds": str(feeds)}
    node = HeronProcess(tmp_path, data_dir, config).start(detect=True)
    try:
        deadline = time.monotonic() + 60
        while "198.51.100.44" not in _heron(data_dir, "intel", "list", "--source", "watch"):
            assert time.monotonic() < deadline, "the node did not refresh its feed"
            time.sleep(0.5)
        # The feed's run is recorded: the command finds nothing due, and the event stored
        # before is matched (retro-match after the node applied the indicator).
        refreshed = heron("intel", "refresh", "--feeds", str(feeds), data_dir=data_dir)
        assert refreshed.returncode == 0 and "no feed is due" in refreshed.stderr
        alerts = [
            json.loads(a) for a in _heron(data_dir, "alerts", "--format", "json").split("\n") if a
        ]
        assert [a["rule.id"] for a in alerts] == ["intel:watch"]
    finally:
        assert node.terminate() == 0


def test_validate_names_a_bad_feeds_file(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yml"
    feeds.write_text("feeds:\n  - {name: x, type: taxii}\n")
    config = tmp_path / "heron.yml"
    config.write_text(f"intel_feeds: {feeds}\n")
    proc = subprocess.run(
        [*HERON, "validate", str(config)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "intel_feeds:" in proc.stdout + proc.stderr and "url" in proc.stdout + proc.stderr


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
