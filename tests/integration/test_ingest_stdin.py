"""``heron ingest -``: what is piped in is ingested like a file (formats, dead letters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heron.cli.ingest import SPOOL_KEEP_S
from heron.store.duckdb import DuckDBStore

from .serving import stored_events

HERON = [sys.executable, "-m", "heron.cli"]


def _ingest(data_dir: Path, data: bytes, *args: str) -> tuple[dict[str, int], str]:
    proc = subprocess.run(
        [*HERON, "ingest", "--json", "--no-detect", *args, "--data-dir", str(data_dir)],
        input=data,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode().splitlines()[-1]), proc.stderr.decode()


def test_piped_lines_are_ingested_with_their_dead_letters(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lines = [
        "<34>1 2026-11-27T10:00:00Z web01 sshd 1201 - - Failed password for root "
        "from 203.0.113.9 port 50000 ssh2",
        '{"@timestamp": "2026-11-27T10:00:01Z", "message": "piped json"}',
        "\xff not UTF-8",
    ]
    data = "\n".join(lines[:2]).encode() + b"\n" + b"\xff not UTF-8\n"
    summary, _ = _ingest(data_dir, data, "-")
    assert (summary["events"], summary["failed"]) == (2, 1)
    events = stored_events(data_dir)
    assert sorted(e["event.original"] for e in events) == sorted(lines[:2])
    # Not from a file: no log.file.path (the spool file is nobody's business).
    assert all("log.file.path" not in e for e in events)
    store = DuckDBStore(data_dir, read_only=True)
    try:
        (letter,) = store.dead_letters()
    finally:
        store.close()
    assert (letter.source, letter.location) == ("-", "line 3")
    assert not list((data_dir / "spool").iterdir())
    # A spool left by a killed load goes once it is old; a recent one may be in use.
    old, recent = data_dir / "spool" / "stdin-old", data_dir / "spool" / "stdin-recent"
    old.write_bytes(b"x")
    recent.write_bytes(b"x")
    os.utime(old, (time.time() - SPOOL_KEEP_S - 60,) * 2)
    _ingest(data_dir, b"", "-")
    assert sorted(p.name for p in (data_dir / "spool").iterdir()) == ["stdin-recent"]


def test_stdin_beside_files_and_empty_stdin(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = tmp_path / "app.ndjson"
    path.write_text('{"@timestamp": "2026-11-27T10:00:00Z", "message": "from a file"}\n')
    piped = b'{"@timestamp": "2026-11-27T10:00:02Z", "message": "piped"}\n'
    summary, _ = _ingest(data_dir, piped, str(path), "-")
    assert summary["events"] == 2
    by_message = {e["message"]: e for e in stored_events(data_dir)}
    assert by_message["from a file"]["log.file.path"] == str(path)
    assert "log.file.path" not in by_message["piped"]
    summary, said = _ingest(data_dir, b"", "-")
    assert summary["events"] == 0 and "-: nothing read, nothing to ingest" in said


def test_a_piped_evtx_file_is_read_as_evtx(tmp_path: Path, corpora: Path) -> None:
    sample = next(iter(sorted((corpora / "evtx").rglob("*.evtx"))), None)
    if sample is None:
        pytest.skip("no EVTX file in the corpus")
    data_dir = tmp_path / "data"
    from_file, _ = _ingest(tmp_path / "by-path", b"", str(sample))
    summary, _ = _ingest(data_dir, sample.read_bytes(), "-")
    assert summary["events"] == from_file["events"] > 0
    assert all(e["event.module"] == "windows" for e in stored_events(data_dir))
