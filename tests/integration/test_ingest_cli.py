"""``heron ingest`` and ``heron search`` end to end, through the real command line."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heron.model.timeutil import parse_timestamp
from heron.store.base import SearchQuery
from heron.store.duckdb import DuckDBStore

from .serving import ZEEK_CONN_HEADER

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


def test_folder_of_mixed_formats(tmp_path: Path, data_dir: Path) -> None:
    write_mixed(tmp_path / "logs")
    summary = ingest_json([tmp_path / "logs"], data_dir, "--year", "2026")
    assert summary == {"events": 6, "failed": 0, "seconds": summary["seconds"]}
    with store_of(data_dir) as store:
        events = store.search(SearchQuery(limit=100))
        assert len(events) == 6
        assert all(
            e["event.original"] and e["log.file.path"].startswith(str(tmp_path)) for e in events
        )
        failed = store.search(SearchQuery(filters={"user.name": "root"}))
        assert len(failed) == 1 and failed[0]["event.outcome"] == "failure"
        assert failed[0]["source.ip"] == "203.0.113.9"
        assert failed[0]["@timestamp"] == parse_timestamp("2026-11-27T10:00:01Z")
        (nano,) = store.search(SearchQuery(text="'su root' failed"))
        assert nano["@timestamp"] % 1_000_000_000 == 123456789
        (cef,) = store.search(SearchQuery(filters={"destination.port": "443"}))
        assert cef["source.ip"] == "10.1.1.1"
        (js,) = store.search(SearchQuery(filters={"user.name": "carol"}))
        assert js["source.ip"] == "192.0.2.7"


def test_search_command_formats(tmp_path: Path, data_dir: Path) -> None:
    write_mixed(tmp_path / "logs")
    ingest_json([tmp_path / "logs"], data_dir, "--year", "2026")
    proc = heron("search", "--format", "json", "user.name=alice", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    row = json.loads(line)
    assert row["user.name"] == "alice" and row["@timestamp"] == "2026-11-27T10:00:09Z"
    proc = heron("search", "--format", "csv", "--limit", "2", "Failed", data_dir=data_dir)
    assert proc.returncode == 0 and len(proc.stdout.strip().splitlines()) == 3  # header + 2
    proc = heron(
        "search",
        "--from",
        "2026-11-27T10:00:02Z",
        "--to",
        "2026-11-27T10:00:04Z",
        "--format",
        "json",
        data_dir=data_dir,
    )
    assert [json.loads(x)["user.name"] for x in proc.stdout.splitlines()] == ["oracle"]
    proc = heron("search", "web01", data_dir=data_dir)
    assert proc.returncode == 0 and "web01" in proc.stdout


def test_invalid_utf8_line_is_dead_lettered_and_the_rest_kept(
    tmp_path: Path, data_dir: Path
) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(
        SSHD[0].encode()
        + b"\n"
        + b"Nov 27 10:00:02 web01 sshd[1]: caf\xc3\x28 \xff\n"
        + SSHD[2].encode()
        + b"\n"
    )
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (2, 1)
    with store_of(data_dir) as store:
        (letter,) = store.dead_letters()
    assert letter.reason.startswith("invalid UTF-8") and letter.location == "line 2"
    assert "caf" in letter.raw


def test_ten_megabyte_line_is_cut_and_reported(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as f:
        f.write(SSHD[0].encode() + b"\n")
        f.write(b"x" * (10 * 1024 * 1024) + b"\n")
        f.write(SSHD[2].encode() + b"\n")
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (2, 1)
    with store_of(data_dir) as store:
        (letter,) = store.dead_letters()
    assert "longer than the limit" in letter.reason
    assert letter.raw_size == 10 * 1024 * 1024 + 1
    assert len(letter.raw) <= 64 * 1024


def test_json_nested_ten_thousand_deep(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "deep.ndjson"
    deep = '{"a":' * 10_000 + "1" + "}" * 10_000
    path.write_text(json.dumps(JSON_EVENT) + "\n" + deep + "\n" + json.dumps(JSON_EVENT) + "\n")
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (2, 1)
    with store_of(data_dir) as store:
        (letter,) = store.dead_letters()
    assert "nest" in letter.reason.lower() and letter.location == "line 2"


def test_empty_file_says_so(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    proc = heron("ingest", "--no-detect", str(path), data_dir=data_dir)
    assert proc.returncode == 0
    assert "empty file" in proc.stderr


def test_missing_path_is_a_clear_error(tmp_path: Path, data_dir: Path) -> None:
    proc = heron("ingest", str(tmp_path / "nope.log"), data_dir=data_dir)
    assert proc.returncode != 0
    assert "nope.log" in proc.stderr and "Traceback" not in proc.stderr


def test_gzipped_cloudtrail(tmp_path: Path, data_dir: Path) -> None:
    records = [
        {
            "eventVersion": "1.08",
            "eventTime": f"2026-11-27T10:0{i}:00Z",
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23",
            "userIdentity": {
                "type": "Root",
                "arn": "arn:aws:iam::111122223333:root",
                "accountId": "111122223333",
            },
            "responseElements": {"ConsoleLogin": "Success"},
            "eventID": f"id-{i}",
        }
        for i in range(3)
    ]
    path = tmp_path / "111122223333_CloudTrail_us-east-1.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (3, 0)
    with store_of(data_dir) as store:
        events = store.search(SearchQuery(filters={"eventName": "ConsoleLogin"}))
    assert len(events) == 3
    assert {e["source.ip"] for e in events} == {"198.51.100.23"}
    assert all(e["cloud.provider"] == "aws" for e in events)


def test_truncated_evtx_keeps_what_it_can(tmp_path: Path, data_dir: Path, corpora: Path) -> None:
    files = sorted(
        (corpora / "evtx" / "EVTX-ATTACK-SAMPLES").rglob("*.evtx"), key=lambda p: p.stat().st_size
    )
    source = next(p for p in reversed(files) if p.stat().st_size < 2 * 1024 * 1024)
    whole = tmp_path / "whole.evtx"
    shutil.copy(source, whole)
    cut = tmp_path / "cut.evtx"
    data = source.read_bytes()
    # EVTX: a 4 KiB file header, then 64 KiB chunks; cut inside the second chunk.
    cut.write_bytes(data[: 4096 + 65536 + 20000])
    full = ingest_json([whole], tmp_path / "full")
    part = ingest_json([cut], data_dir)
    assert 0 < part["events"] < full["events"]
    proc = heron("deadletters", "--format", "json", data_dir=data_dir)
    assert proc.returncode == 0


def test_evtx_corpus_is_normalized(data_dir: Path, corpora: Path) -> None:
    folder = corpora / "evtx" / "EVTX-ATTACK-SAMPLES" / "Credential Access"
    summary = ingest_json([folder], data_dir)
    assert summary["events"] > 100
    with store_of(data_dir) as store:
        logons = store.search(SearchQuery(filters={"event.code": "4624"}, limit=5))
        for e in logons:
            assert e["winlog.channel"] == "Security"
            assert e["event.outcome"] == "success"
            assert e["host.name"]
            assert "TargetUserName" in e


@pytest.mark.parametrize(("name", "forced"), [("auth.log", "json"), ("events.ndjson", "cef")])
def test_forced_format_sends_mismatches_to_dead_letters(
    tmp_path: Path, data_dir: Path, name: str, forced: str
) -> None:
    write_mixed(tmp_path / "logs")
    summary = ingest_json([tmp_path / "logs" / name], data_dir, "--format", forced)
    assert summary["events"] == 0 and summary["failed"] >= 1


def test_zeek_tsv_file_uses_its_header(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "conn.log"
    header = ZEEK_CONN_HEADER
    rows = [
        "1700000000.123456\tCabc1\t10.0.0.5\t50000\t93.184.216.34\t443\ttcp",
        "1700000001.000000\tCabc2\t10.0.0.6\t50001\t93.184.216.35\t53\tudp",
        "-\tCabc3\t10.0.0.7\t50002\t93.184.216.36\t80\ttcp",
    ]
    path.write_text("\n".join([*header, *rows, "#close\t2023-11-14-22-13-21"]) + "\n")
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (2, 1)
    with store_of(data_dir) as store:
        (event,) = store.search(SearchQuery(filters={"destination.port": "443"}))
        (letter,) = store.dead_letters()
    assert event["source.ip"] == "10.0.0.5" and event["destination.ip"] == "93.184.216.34"
    # The line as Zeek wrote it, not the record the header made of it.
    assert event["event.original"] == rows[0]
    assert letter.raw == rows[2] and letter.location == "line 10"


def test_azure_records_document(tmp_path: Path, data_dir: Path) -> None:
    records = [
        {
            "time": "2026-11-27T10:00:00Z",
            "operationName": "Sign-in activity",
            "category": "SignInLogs",
            "resultType": "50126",
            "callerIpAddress": "203.0.113.50",
            "identity": "alice@example.com",
            "properties": {"userPrincipalName": "alice@example.com", "ipAddress": "203.0.113.50"},
        }
    ]
    path = tmp_path / "signins.json"
    path.write_text(json.dumps({"records": records}))
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (1, 0)
    with store_of(data_dir) as store:
        (event,) = store.search(SearchQuery(limit=5))
    assert event["source.ip"] == "203.0.113.50" and event["cloud.provider"] == "azure"


def test_a_small_load_of_old_days_stays_hot_until_retention(tmp_path: Path, data_dir: Path) -> None:
    # Five events on five old days: five tiny Parquet files would cost more than rows.
    lines = [
        json.dumps({"@timestamp": f"2020-01-0{day}T10:00:00Z", "message": f"old {day}"})
        for day in range(1, 6)
    ]
    (tmp_path / "old.ndjson").write_text("\n".join(lines) + "\n")
    assert ingest_json([tmp_path / "old.ndjson"], data_dir)["events"] == 5
    with store_of(data_dir) as store:
        assert {p.location for p in store.stats().partitions} == {"hot"}
    proc = heron("retention", "--keep", "36500d", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert "moved 5 day(s) to Parquet" in proc.stdout
    with store_of(data_dir) as store:
        stats = store.stats()
        assert {p.location for p in stats.partitions} == {"parquet"} and stats.events == 5


def test_a_load_older_than_the_correlation_state_says_what_was_not_correlated(
    tmp_path: Path, data_dir: Path
) -> None:
    def failures(day: int) -> Path:
        path = tmp_path / f"auth-{day}.log"
        path.write_text(
            "".join(
                f"Jun {day:2d} 10:00:{s:02d} web01 sshd[1201]: Failed password for root "
                f"from 203.0.113.9 port {50000 + s} ssh2\n"
                for s in range(8)
            )
        )
        return path

    newer = heron("ingest", "--year", "2025", str(failures(10)), data_dir=data_dir)
    assert newer.returncode == 0, newer.stderr
    assert "correlation skipped" not in newer.stderr
    alerts = heron("alerts", "--format", "json", data_dir=data_dir)
    assert "Failed Logon Burst" in alerts.stdout
    older = heron("ingest", "--year", "2025", str(failures(1)), data_dir=data_dir)
    assert older.returncode == 0, older.stderr
    # Eight failures, each feeding three correlations (burst, brute force, spraying).
    assert "correlation skipped 24 matches" in " ".join(older.stderr.split()), older.stderr


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
    assert _ingest_skipping(data_dir, logs)[0] == 901
    with auth.open("a") as f:
        f.write(lines[900][30:] + "\n" + "\n".join(lines[901:950]) + "\nnot a log line\n")
    events, said = _ingest_skipping(data_dir, logs)
    # The cut line again, whole, and what was added after it.
    assert events == 50 and "1 file(s) grew since" in said and "from byte" in said
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
        assert store.stats().events == 901 + 50 + 50 + 1
        originals = [e["event.original"] for e in store.search(SearchQuery(limit=2000))]
    # Every line once, but the one cut by the first load (stored cut, then whole).
    assert sorted(originals) == sorted([*lines, _sshd(1000), lines[900][:30]])


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


def test_a_journal_export_meets_the_linux_rules(tmp_path: Path, data_dir: Path) -> None:
    start = 1_795_773_600_000_000  # µs: 2026-11-27T10:00:00Z

    def entry(second: int, message: str) -> str:
        return json.dumps(
            {
                "__REALTIME_TIMESTAMP": str(start + second * 1_000_000),
                "_HOSTNAME": "web01",
                "SYSLOG_IDENTIFIER": "sshd",
                "_PID": "1201",
                "PRIORITY": "6",
                "SYSLOG_FACILITY": "4",
                "_SYSTEMD_UNIT": "ssh.service",
                "MESSAGE": message,
            }
        )

    lines = [
        entry(i, f"Failed password for root from 203.0.113.9 port {50000 + i} ssh2")
        for i in range(6)
    ]
    lines.append(entry(30, "Accepted password for root from 203.0.113.9 port 50100 ssh2"))
    journal = tmp_path / "journal.json"
    journal.write_text("\n".join(lines) + "\n")
    proc = heron("ingest", "--json", str(journal), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["events"] == 7
    alerts = heron("alerts", "--format", "json", data_dir=data_dir).stdout.splitlines()
    names = {json.loads(line)["rule.name"] for line in alerts}
    assert "Brute Force Followed By Admin Logon (Linux SSH)" in names
    assert "Failed Logon Burst From One Source" in names
    with store_of(data_dir) as store:
        (accepted,) = store.search(SearchQuery(filters={"event.outcome": "success"}))
    assert (accepted["user.name"], accepted["source.ip"]) == ("root", "203.0.113.9")
    assert accepted["_SYSTEMD_UNIT"] == "ssh.service"


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


def test_loghub_apache_error_log_is_read_without_a_format(data_dir: Path, corpora: Path) -> None:
    path = corpora / "logs" / "loghub" / "Apache" / "Apache_2k.log"
    if not path.is_file():
        pytest.skip("loghub Apache sample not in the corpus")
    summary = ingest_json([path], data_dir)
    assert (summary["events"], summary["failed"]) == (2000, 0)
    with store_of(data_dir) as store:
        errors = store.search(SearchQuery(filters={"log.level": "error"}, limit=1000))
    assert len(errors) == 595  # loghub's structured reading has 595 error lines
    assert all(e["event.dataset"] == "apache.error" for e in errors)


def test_sigmahq_apache_rules_meet_the_error_log(
    tmp_path: Path, data_dir: Path, corpora: Path
) -> None:
    rules = corpora / "sigma" / "rules" / "web" / "product" / "apache"
    if not rules.is_dir():
        pytest.skip("SigmaHQ Apache rules not in the corpus")
    log = tmp_path / "error.log"
    log.write_text(
        "[Wed Mar 13 10:00:00 2024] [notice] child pid 4242 exit signal Segmentation fault (11)\n"
        "[Wed Mar 13 10:00:05.5 2024] [mpm_event:notice] [pid 1] AH00489: Apache/2.4.57 "
        "configured -- resuming normal operations\n"
    )
    proc = heron("ingest", "--json", "--rules", str(rules), str(log), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    alerts = heron("alerts", "--format", "json", data_dir=data_dir).stdout.splitlines()
    assert [json.loads(a)["rule.name"] for a in alerts] == ["Apache Segmentation Fault"]
    hunted = heron("rules", "backtest", "--since", "3650d", "--format", "json", str(rules),
                   data_dir=data_dir).stdout.splitlines()  # fmt: skip
    assert [json.loads(h)["rule.name"] for h in hunted if h.strip()] == [
        "Apache Segmentation Fault"
    ]


def test_iis_w3c_log_meets_sigmahq_webserver_rules(
    tmp_path: Path, data_dir: Path, corpora: Path
) -> None:
    rules = corpora / "sigma" / "rules" / "web"
    if not rules.is_dir():
        pytest.skip("SigmaHQ web rules not in the corpus")
    golden = Path(__file__).resolve().parents[1] / "golden" / "iis" / "u_ex261127.log"
    log = tmp_path / "u_ex261127.log"
    # The golden file with a data line before its #Fields: header (a dead letter).
    lines = golden.read_text().splitlines()
    log.write_text("\r\n".join([*lines[:3], "2026-11-27 09:59:59 GET / 200", *lines[3:]]))
    proc = heron("ingest", "--json", "--rules", str(rules), str(log), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["events"] == 3
    assert json.loads(proc.stdout.splitlines()[-1])["failed"] == 1
    with store_of(data_dir) as store:
        originals = {e["event.original"] for e in store.search(SearchQuery(limit=10))}
    assert originals == {line for line in lines if line and not line.startswith("#")}
    alerts = heron("alerts", "--format", "json", data_dir=data_dir).stdout.splitlines()
    fired = sorted(json.loads(a)["rule.name"] for a in alerts)
    assert fired == ["Suspicious User-Agents Related To Recon Tools", "Windows Webshell Strings"]
    hunted = heron("rules", "backtest", "--since", "3650d", "--format", "json", str(rules),
                   data_dir=data_dir).stdout.splitlines()  # fmt: skip
    assert sorted({json.loads(h)["rule.name"] for h in hunted if h.strip()}) == fired
