"""``heron ingest`` and ``heron search`` end to end, through the real command line."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from heron.model.timeutil import parse_timestamp
from heron.store.base import SearchQuery

from .ingesting import (
    JSON_EVENT,
    SSHD,
    heron,
    ingest_json,
    store_of,
    write_mixed,
)
from .serving import ZEEK_CONN_HEADER


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
