"""``heron ingest`` remembers its files: loaded again or left out, logs that grew read on,
rotated and compressed logs known, a killed load resumed."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from heron.store.base import SearchQuery

from .ingesting import HERON, JSON_EVENT, heron, store_of, write_mixed


def test_files_ingested_before_are_named_and_can_be_left_out(
    tmp_path: Path, data_dir: Path
) -> None:
    write_mixed(tmp_path / "logs")
    first = heron(
        "ingest",
        "--json",
        "--no-detect",
        "--year",
        "2026",
        str(tmp_path / "logs"),
        data_dir=data_dir,
    )
    assert first.returncode == 0, first.stderr
    assert "ingested into this data directory before" not in first.stderr
    # Again: loaded again (as before), and said so.
    again = heron(
        "ingest",
        "--json",
        "--no-detect",
        "--year",
        "2026",
        str(tmp_path / "logs" / "auth.log"),
        data_dir=data_dir,
    )
    assert json.loads(again.stdout.splitlines()[-1])["events"] == 3
    assert "1 file(s) were ingested into this data directory before" in again.stderr
    assert "auth.log was last ingested" in again.stderr
    # A copy under another name is the same content; a file that grew is not.
    shutil.copy(tmp_path / "logs" / "app.log", tmp_path / "copy-of-app.log")
    with (tmp_path / "logs" / "auth.log").open("a") as f:
        f.write(
            "Nov 27 10:05:00 web01 sshd[1300]: Failed password for bob from 192.0.2.1 "
            "port 50003 ssh2\n"
        )
    new = tmp_path / "new.ndjson"
    new.write_text(json.dumps({**JSON_EVENT, "message": "new"}) + "\n")
    skipped = heron(
        "ingest",
        "--json",
        "--no-detect",
        "--year",
        "2026",
        "--skip-ingested",
        str(tmp_path / "logs"),
        str(tmp_path / "copy-of-app.log"),
        str(new),
        data_dir=data_dir,
    )
    assert skipped.returncode == 0, skipped.stderr
    assert "3 file(s) left out" in skipped.stderr  # app.log, events.ndjson, the copy
    # auth.log grew: only its new line is read; and the new file.
    assert "1 file(s) grew since" in " ".join(skipped.stderr.split())
    assert json.loads(skipped.stdout.splitlines()[-1])["events"] == 1 + 1
    with store_of(data_dir) as store:
        assert store.stats().events == 6 + 3 + 2


def _sshd(i: int) -> str:
    return (
        f"Nov 27 10:{i // 60 % 60:02d}:{i % 60:02d} web01 sshd[{1000 + i}]: Failed password "
        f"for user{i} from 192.0.2.{i % 250} port {40000 + i} ssh2"
    )


def _ingest_skipping(data_dir: Path, *paths: Path, skip: bool = True) -> tuple[int, str]:
    flags = ["--skip-ingested"] if skip else []
    proc = heron(
        "ingest", "--json", "--no-detect", "--year", "2026", *flags, *map(str, paths),
        data_dir=data_dir,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])["events"], " ".join(proc.stderr.split())


def test_a_log_that_grew_is_read_on_from_where_the_last_load_ended(
    tmp_path: Path, data_dir: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    auth = logs / "auth.log"
    # Over 64 KiB (so its rotated copy is known by its head); the last line is still
    # being written when the first load runs.
    lines = [_sshd(i) for i in range(1000)]
    auth.write_text("\n".join(lines[:900]) + "\n" + lines[900][:30])
    assert auth.stat().st_size > 64 * 1024
    events, said = _ingest_skipping(data_dir, logs)
    # The unfinished line is left for the next load, not stored cut.
    assert events == 900 and "1 file(s) end in a line still being written" in said
    assert "its last 30 bytes" in said
    with auth.open("a") as f:
        f.write(lines[900][30:] + "\n" + "\n".join(lines[901:950]) + "\nnot a log line\n")
    events, said = _ingest_skipping(data_dir, logs)
    # That line, whole now, and what was added after it.
    assert events == 50 and "1 file(s) grew since" in said and "from byte" in said
    assert "still being written" not in said
    with store_of(data_dir) as store:
        letters = store.dead_letters()
        assert [(d.location, d.raw) for d in letters] == [("line 951", "not a log line")]
    # Unchanged: left out.
    events, said = _ingest_skipping(data_dir, logs)
    assert events == 0 and "1 file(s) left out" in said
    # Grown, then rotated away (the new file just started): read on under its new name.
    with auth.open("a") as f:
        f.write("\n".join(lines[950:1000]) + "\n")
    auth.rename(logs / "auth.log.1")
    auth.write_text(_sshd(1000) + "\n")
    events, said = _ingest_skipping(data_dir, logs)
    assert events == 50 + 1 and "1 file(s) grew since" in said
    with store_of(data_dir) as store:
        assert store.stats().events == 900 + 50 + 50 + 1
        originals = [e["event.original"] for e in store.search(SearchQuery(limit=2000))]
    assert sorted(originals) == sorted([*lines, _sshd(1000)])  # every line, once


def test_a_last_line_left_unfinished_is_read_once_it_stays_so(
    tmp_path: Path, data_dir: Path
) -> None:
    auth = tmp_path / "auth.log"
    auth.write_text(_sshd(0) + "\n" + _sshd(1)[:40])
    events, said = _ingest_skipping(data_dir, auth)
    assert events == 1 and "end in a line still being written" in said
    # Written on, still without its newline: left again.
    with auth.open("a") as f:
        f.write(_sshd(1)[40:60])
    events, said = _ingest_skipping(data_dir, auth)
    assert events == 0 and "its last 60 bytes" in said
    # Unchanged since that load: a file that simply does not end in a newline.
    events, said = _ingest_skipping(data_dir, auth)
    assert events == 1 and "still end in the unfinished line the last load left" in said
    events, said = _ingest_skipping(data_dir, auth)
    assert events == 0 and "1 file(s) left out" in said
    with store_of(data_dir) as store:
        originals = sorted(e["event.original"] for e in store.search(SearchQuery(limit=10)))
    assert originals == sorted([_sshd(0), _sshd(1)[:60]])


def test_without_skip_ingested_an_unfinished_last_line_is_read(
    tmp_path: Path, data_dir: Path
) -> None:
    # As the file is now: what `heron ingest` is given, it loads.
    auth = tmp_path / "auth.log"
    auth.write_text(_sshd(0) + "\n" + _sshd(1))
    events, said = _ingest_skipping(data_dir, auth, skip=False)
    assert events == 2 and "still being written" not in said
    # A file of one line and no newline has nothing to note before it: read as it is.
    single = tmp_path / "single.log"
    single.write_text(_sshd(2))
    events, said = _ingest_skipping(data_dir, single)
    assert events == 1 and "still being written" not in said


def test_a_log_compressed_by_rotation_is_the_log_read_before(
    tmp_path: Path, data_dir: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    auth = logs / "auth.log"
    lines = [_sshd(i) for i in range(900)]
    auth.write_text("\n".join(lines[:800]) + "\n")  # over 64 KiB: known by its head too
    assert _ingest_skipping(data_dir, logs)[0] == 800
    # logrotate with compress: the old log becomes auth.log.1.gz, a new one starts.
    (logs / "auth.log.1.gz").write_bytes(gzip.compress(auth.read_bytes()))
    auth.write_text(_sshd(900) + "\n")
    events, said = _ingest_skipping(data_dir, logs)
    assert events == 1 and "1 file(s) left out" in said
    # A log that grew before it was compressed cannot be read from an offset: whole.
    (logs / "auth.log.1.gz").unlink()
    (logs / "auth.log.2.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    events, said = _ingest_skipping(data_dir, logs)
    assert events == 900
    assert "1 file(s) grew since" in said and "not plain lines is read whole" in said


def test_an_export_written_again_at_its_path_is_named(
    tmp_path: Path, data_dir: Path, corpora: Path
) -> None:
    samples = sorted((corpora / "evtx").rglob("*.evtx"))[:2]
    if len(samples) < 2:
        pytest.skip("fewer than two EVTX files in the corpus")
    export = tmp_path / "Security.evtx"
    shutil.copy(samples[0], export)
    first, said = _ingest_skipping(data_dir, export)
    assert first > 0 and "other content" not in said
    shutil.copy(samples[1], export)  # exported again: other records now
    events, said = _ingest_skipping(data_dir, export)
    assert events > 0 and "1 file(s) hold other content" in said
    assert "Security.evtx" in said


def test_without_skip_ingested_a_grown_log_is_read_whole_and_said_so(
    tmp_path: Path, data_dir: Path
) -> None:
    auth = tmp_path / "auth.log"
    auth.write_text("\n".join(_sshd(i) for i in range(3)) + "\n")
    assert _ingest_skipping(data_dir, auth, skip=False)[0] == 3
    with auth.open("a") as f:
        f.write(_sshd(3) + "\n")
    events, said = _ingest_skipping(data_dir, auth, skip=False)
    assert events == 4
    assert "1 file(s) grew since" in said and "read in full" in said
    assert "'--skip-ingested' reads only what was added" in said


def test_a_file_that_could_not_be_read_is_not_taken_as_ingested(
    tmp_path: Path, data_dir: Path
) -> None:
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(gzip.compress(b"x" * 1000)[:20])  # a gzip stream cut short
    for _ in range(2):
        proc = heron(
            "ingest", "--json", "--no-detect", "--skip-ingested", str(broken), data_dir=data_dir
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.splitlines()[-1])["failed"] == 1
        assert "left out" not in proc.stderr


def test_a_killed_folder_load_resumes_at_the_next_file(tmp_path: Path, data_dir: Path) -> None:
    """SIGKILL during a load of 40 files: files whose events were committed are
    remembered at once, so --skip-ingested stores every event, none lost and at most
    one commit's worth twice."""
    folder = tmp_path / "logs"
    folder.mkdir()
    files, per_file = 40, 5000
    for n in range(files):
        lines = (
            f"Nov 27 10:{i // 60 % 60:02d}:{i % 60:02d} host{n} sshd[{1000 + n}]: Failed "
            f"password for user{i % 97} from 198.51.100.{i % 250} port {40000 + i} ssh2"
            for i in range(per_file)
        )
        (folder / f"auth-{n:02d}.log").write_text("\n".join(lines) + "\n")
    args = [*HERON, "ingest", "--no-detect", "--workers", "0", "--year", "2026",
            "--skip-ingested", "--data-dir", str(data_dir), str(folder)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = data_dir / "heron.duckdb.wal"
    deadline = time.monotonic() + 120
    # A commit of 50,000 of these events adds about 36 MB to the WAL: past 50 MB the
    # second is being written, and the files of the first have been remembered.
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 50_000_000:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the load ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    again = heron("ingest", "--json", "--no-detect", "--year", "2026", "--skip-ingested",
                  str(folder), data_dir=data_dir)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "file(s) left out" in again.stderr
    with store_of(data_dir) as store:
        stored = store.stats().events
    assert files * per_file <= stored <= files * per_file + 50_000
