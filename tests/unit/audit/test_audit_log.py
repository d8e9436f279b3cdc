"""The audit log: chained appends, and ``verify`` catching every kind of tampering."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

import orjson
from click.testing import CliRunner

from heron.audit import AuditLog
from heron.cli.main import main


def filled(tmp_path: Path, n: int = 6) -> AuditLog:
    log = AuditLog(tmp_path)
    for i in range(n):
        log.append("alice", "alert.update", f"a{i}", {"status": "closed", "i": i}, "10.0.0.1")
    return log


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def test_records_chain_and_verify(tmp_path: Path) -> None:
    log = filled(tmp_path)
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0].prev == "0" * 64
    assert all(b.prev == a.hash for a, b in itertools.pairwise(records))
    result = log.verify()
    assert result.ok and result.records == 6 and result.head == records[-1].hash


def test_an_edited_record_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path)
    rows = lines(log)
    rows[2] = rows[2].replace(b'"closed"', b'"new"')
    log.path.write_bytes(b"".join(rows))
    result = log.verify()
    assert not result.ok and result.bad_seq == 3 and "edited" in (result.reason or "")


def test_an_edit_with_a_recomputed_hash_breaks_the_chain(tmp_path: Path) -> None:
    from heron.audit.log import record_hash

    log = filled(tmp_path)
    rows = lines(log)
    fields = orjson.loads(rows[1])
    fields["actor"] = "mallory"
    fields["hash"] = record_hash(fields)
    rows[1] = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS) + b"\n"
    log.path.write_bytes(b"".join(rows))
    result = log.verify()
    assert not result.ok and result.bad_seq == 3  # record 3 no longer chains to record 2


def test_a_removed_record_is_named(tmp_path: Path) -> None:
    log = filled(tmp_path)
    rows = lines(log)
    del rows[3]
    log.path.write_bytes(b"".join(rows))
    result = log.verify()
    assert not result.ok and result.bad_line == 4 and result.bad_seq == 5
    assert "removed or reordered" in (result.reason or "")


def test_reordered_records_are_named(tmp_path: Path) -> None:
    log = filled(tmp_path)
    rows = lines(log)
    rows[1], rows[2] = rows[2], rows[1]
    log.path.write_bytes(b"".join(rows))
    result = log.verify()
    assert not result.ok and result.bad_line == 2 and result.bad_seq == 3


def test_truncation_at_the_end_is_caught_by_the_head(tmp_path: Path) -> None:
    log = filled(tmp_path)
    rows = lines(log)
    log.path.write_bytes(b"".join(rows[:4]))
    result = log.verify()
    assert not result.ok and result.records == 4 and result.bad_seq == 5
    assert "truncated" in (result.reason or "")


def test_a_cut_last_line_is_caught(tmp_path: Path) -> None:
    log = filled(tmp_path)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-20])
    result = log.verify()
    assert not result.ok and result.bad_line == 6


def test_a_removed_head_is_caught(tmp_path: Path) -> None:
    log = filled(tmp_path)
    log.head_path.unlink()
    assert not log.verify().ok


def _append_many(data_dir: str, who: str, n: int) -> None:
    log = AuditLog(data_dir)
    for i in range(n):
        log.append(who, "query", None, {"i": i})


def test_concurrent_appenders_in_several_processes_keep_one_chain(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_append_many, args=(str(tmp_path), f"p{i}", 40)) for i in range(3)
    ]
    for w in workers:
        w.start()
    _append_many(str(tmp_path), "main", 40)
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    result = AuditLog(tmp_path).verify()
    assert result.ok and result.records == 160


def test_cli_verify_and_list(tmp_path: Path) -> None:
    log = filled(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify", "--data-dir", str(tmp_path)])
    assert ok.exit_code == 0 and "6 records" in ok.output
    listed = runner.invoke(
        main, ["audit", "list", "--format", "json", "--limit", "2", "--data-dir", str(tmp_path)]
    )
    rows = [orjson.loads(line) for line in listed.output.splitlines()]
    assert [r["seq"] for r in rows] == [5, 6] and rows[0]["action"] == "alert.update"
    rows_bytes = lines(log)
    del rows_bytes[1]
    log.path.write_bytes(b"".join(rows_bytes))
    bad = runner.invoke(main, ["audit", "verify", "--format", "json", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1
    found = orjson.loads(bad.output)
    assert found["ok"] is False and found["bad_seq"] == 3 and found["bad_line"] == 2
