"""All of EVTX-ATTACK-SAMPLES through the reader, the parser and the Windows mapping."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from heron.model.event import EventBatch
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.windows import WindowsEventParser
from heron.sources.evtx import iter_evtx_records

SYSMON = "Microsoft-Windows-Sysmon/Operational"


@pytest.fixture(scope="module")
def corpus_events(corpora: Path) -> dict[str, list[dict[str, Any]]]:
    files = sorted((corpora / "evtx" / "EVTX-ATTACK-SAMPLES").rglob("*.evtx"))
    if not files:
        pytest.skip("EVTX-ATTACK-SAMPLES not in the corpus")
    parser = WindowsEventParser()
    ctx = ParseContext(received=1)
    root = corpora / "evtx" / "EVTX-ATTACK-SAMPLES"
    records = {
        str(f.relative_to(root)): [r for r, _ in iter_evtx_records(f) if r is not None]
        for f in files
    }
    started = time.perf_counter()
    events = {
        name: [normalize(parser.parse(raw, ctx)) for raw in raws] for name, raws in records.items()
    }
    seconds = time.perf_counter() - started
    total = sum(len(v) for v in events.values())
    with_category = sum(1 for v in events.values() for e in v if e.get("event.category"))
    print(
        f"\nparse+normalize: {len(files)} files, {total} records, {total / seconds:,.0f} records/s,"
        f" {with_category} with event.category"
    )
    return events


def _file(events: dict[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    (found,) = [batch for path, batch in events.items() if Path(path).name == name]
    return found


def _all(events: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [e for batch in events.values() for e in batch]


def test_every_record_parses_normalizes_and_validates(
    corpus_events: dict[str, list[dict[str, Any]]],
) -> None:
    events = _all(corpus_events)
    assert len(corpus_events) == 277
    assert len(events) == 8255
    assert [e["error.message"] for e in events if "error.message" in e] == []
    good, rejected = EventBatch(events).split_valid()
    assert rejected == []
    assert good.to_arrow().num_rows == len(events)


def test_the_families_in_scope_are_all_categorized(
    corpus_events: dict[str, list[dict[str, Any]]],
) -> None:
    missing: Counter[tuple[str, int]] = Counter()
    for event in _all(corpus_events):
        in_scope = event.get("Channel") in (SYSMON, "Windows PowerShell") or (
            event.get("Channel") == "Microsoft-Windows-PowerShell/Operational"
            and event.get("EventID") in (4103, 4104, 4105, 4106)
        )
        if in_scope and not event.get("event.category"):
            missing[(event["Channel"], event["EventID"])] += 1
    assert not missing
    categorized = sum(1 for e in _all(corpus_events) if e.get("event.category"))
    assert categorized >= 4800


def test_sysmon_processes_network_and_files(corpus_events: dict[str, list[dict[str, Any]]]) -> None:
    sysmon = [e for e in _all(corpus_events) if e.get("Channel") == SYSMON]
    for event in sysmon:
        assert event["event.code"] == str(event["EventID"])
        if event["EventID"] == 1:
            assert event["process.executable"] == event["Image"]
            assert event["process.pid"] == event["ProcessId"]
            assert event["process.name"] == event["Image"].rsplit("\\", 1)[-1]
            assert event["process.command_line"] == event["CommandLine"]
            assert event["event.category"] == ["process"]
            assert event["event.type"] == ["start"]
        if event["EventID"] == 3:
            assert event["destination.ip"] == event["DestinationIp"].removeprefix("::ffff:")
            assert event["destination.port"] == event["DestinationPort"]
            assert event["network.transport"] == event["Protocol"]
        if event["EventID"] == 11:
            assert event["file.path"] == event["TargetFilename"]
        if event["EventID"] in (12, 13, 14):
            assert event["registry.path"] == event["TargetObject"]
        if event["EventID"] == 22:
            assert event["dns.question.name"] == event["QueryName"]
        if "Hashes" in event and event["EventID"] == 1:
            assert any(k.startswith("process.hash.") for k in event)


def test_logons_and_their_outcomes(corpus_events: dict[str, list[dict[str, Any]]]) -> None:
    security = [e for e in _all(corpus_events) if e.get("Channel") == "Security"]
    failed = [e for e in security if e["EventID"] == 4625]
    assert failed
    for event in failed:
        assert event["event.outcome"] == "failure"
        assert event["user.name"] == event["TargetUserName"]
        assert event["event.category"] == ["authentication"]
    chrome = _file(corpus_events, "CA_4624_4625_LogonType2_LogonProc_chrome.evtx")
    failure = next(e for e in chrome if e["EventID"] == 4625)
    assert (failure["user.name"], failure["winlog.logon.type"]) == ("IEUser", "Interactive")
    assert "source.ip" not in failure  # IpAddress "-"
    for event in (e for e in security if e["EventID"] == 4624):
        assert event["event.outcome"] == "success"
        assert event["user.name"] == event["TargetUserName"]
        assert event["winlog.logon.type"]
    spray = _file(corpus_events, "kerberos_pwd_spray_4771.evtx")
    assert {e["event.outcome"] for e in spray if e["EventID"] == 4771} == {"failure"}
    assert {e["source.ip"] for e in spray if e["EventID"] == 4771} == {"172.16.66.1"}


def test_account_management_names_both_sides(
    corpus_events: dict[str, list[dict[str, Any]]],
) -> None:
    security = [e for e in _all(corpus_events) if e.get("Channel") == "Security"]
    for event in (e for e in security if e["EventID"] in (4720, 4722, 4724)):
        assert event["user.name"] == event["SubjectUserName"]
        assert event["user.target.name"] == event["TargetUserName"]
    for event in (e for e in security if e["EventID"] == 4732):
        assert event["group.name"] == event["TargetUserName"]


def test_powershell(corpus_events: dict[str, list[dict[str, Any]]]) -> None:
    events = _all(corpus_events)
    blocks = [e for e in events if e.get("EventID") == 4104]
    assert blocks
    for event in blocks:
        assert event["powershell.file.script_block_text"] == event["ScriptBlockText"]
    classic = [e for e in events if e.get("Channel") == "Windows PowerShell"]
    assert classic
    for event in classic:
        assert event["event.category"] == ["process"]
        assert event["process.command_line"]
