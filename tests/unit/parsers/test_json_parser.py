"""NDJSON lines to flat events: flattening, timestamps, type coercion, Windows shapes."""

from __future__ import annotations

import json
import os
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.json import JsonParser, flatten_json, parse_time_value

RECEIVED = 1_700_000_000_000_000_000
CTX = ParseContext(received=RECEIVED)
PARSER = JsonParser()


def parse(doc: object, ctx: ParseContext = CTX) -> dict[str, object]:
    return PARSER.parse(orjson.dumps(doc).decode(), ctx)


GOLDEN = Path(__file__).resolve().parents[2] / "golden"
# HERON_UPDATE_GOLDEN=1 rewrites the expected parts from the current code; review the
# diff by eye before committing it.
UPDATE = os.environ.get("HERON_UPDATE_GOLDEN") == "1"


def golden_cases(folder: str) -> list[Path]:
    return sorted((GOLDEN / folder).glob("*.json"))


def check_golden(path: Path, case: dict[str, Any], key: str, actual: Any) -> None:
    """Compare ``actual`` with ``case[key]``, or store it when updating."""
    if UPDATE:
        case[key] = actual
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert actual == case[key], f"{path.name}: {key} differs"


@pytest.mark.parametrize("path", golden_cases("json"), ids=lambda p: p.stem)
def test_json_line_golden(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    event = PARSER.parse(case["line"], CTX)
    check_golden(path, case, "parsed", event)
    validate_event(event)
    normalized = normalize(dict(event))
    check_golden(path, case, "normalized", {k: v for k, v in normalized.items() if k not in event})
    validate_event(normalized)


def test_nested_objects_become_dotted_ecs_names() -> None:
    event = parse({"source": {"ip": "1.2.3.4", "geo": {"country_iso_code": "FR"}}})
    assert event["source.ip"] == "1.2.3.4"
    assert event["source.geo.country_iso_code"] == "FR"
    assert "source" not in event


def test_lists_of_scalars_stay_lists_and_lists_of_objects_become_json_text() -> None:
    event = parse({"tags": ["a", "b"], "mixed": [1, "x", None], "objs": [{"a": 1}, {"b": [2]}]})
    assert event["tags"] == ["a", "b"]
    assert event["mixed"] == [1, "x", None]
    assert orjson.loads(event["objs"]) == [{"a": 1}, {"b": [2]}]


@pytest.mark.parametrize(
    "line",
    ["42", "[1, 2]", '"text"', "null", "true", "{", '{"a": }', "", "   "],
)
def test_non_objects_and_bad_json_are_parse_errors(line: str) -> None:
    with pytest.raises(ParseError) as info:
        PARSER.parse(line, CTX)
    assert info.value.parser == "json"


def _nested(levels: int) -> dict[str, object]:
    doc: dict[str, object] = {"leaf": 1}
    for _ in range(levels - 1):
        doc = {"n": doc}
    return doc


def test_depth_limit_is_inclusive_and_deeper_is_refused() -> None:
    event = parse(_nested(64))
    assert event["n." * 63 + "leaf"] == 1
    with pytest.raises(ParseError, match="JSON nested deeper than 64 levels"):
        parse(_nested(65))


def test_depth_counts_arrays_too() -> None:
    doc: object = [1]
    for _ in range(70):
        doc = [doc]
    with pytest.raises(ParseError, match="deeper than 64"):
        parse({"deep": doc})


def test_depth_limit_follows_the_context() -> None:
    with pytest.raises(ParseError, match="deeper than 3 levels"):
        parse(_nested(4), ParseContext(received=RECEIVED, max_json_depth=3))
    assert parse(_nested(3), ParseContext(received=RECEIVED, max_json_depth=3))


def test_orjson_own_nesting_limit_is_a_parse_error() -> None:
    line = "[" * 2000 + "]" * 2000
    with pytest.raises(ParseError, match="JSON nested deeper than 64 levels"):
        PARSER.parse('{"a": ' + line + "}", CTX)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T10:15:30Z", 1_709_633_730_000_000_000),
        ("2024-03-05T10:15:30.123456789Z", 1_709_633_730_123_456_789),
        ("2024-03-05T11:15:30.5+01:00", 1_709_633_730_500_000_000),
        (1_709_633_730, 1_709_633_730_000_000_000),
        (1_709_633_730_123, 1_709_633_730_123_000_000),
        (1_709_633_730_123_456, 1_709_633_730_123_456_000),
        (1_709_633_730_123_456_789, 1_709_633_730_123_456_789),
        ("1709633730.123456789", 1_709_633_730_123_456_789),
        (1_709_633_730.25, 1_709_633_730_250_000_000),
        ("1709633730123", 1_709_633_730_123_000_000),
    ],
)
def test_timestamps_from_iso_text_and_epoch_numbers(value: object, expected: int) -> None:
    assert parse_time_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "soon",
        -5,
        True,
        None,
        [1],
        "1e400",
        "1E+709900000200000000",
        10**30,
        "2024-13-45T00:00:00Z",
    ],
)
def test_unusable_timestamps_give_none(value: object) -> None:
    assert parse_time_value(value) is None


@pytest.mark.parametrize("key", ["@timestamp", "timestamp", "time", "eventTime", "ts"])
def test_timestamp_keys_in_order(key: str) -> None:
    event = parse({key: "2024-03-05T10:15:30Z"})
    assert event["@timestamp"] == 1_709_633_730_000_000_000
    first = parse({"ts": "2001-01-01T00:00:00Z", "@timestamp": "2024-03-05T10:15:30Z"})
    assert first["@timestamp"] == 1_709_633_730_000_000_000


def test_no_timestamp_uses_the_receive_time() -> None:
    assert parse({"a": 1})["@timestamp"] == RECEIVED


def test_odd_core_values_are_kept_aside_never_dropped() -> None:
    line = (
        '{"source": {"port": "ssh"}, "event": {"outcome": ["success"], "severity": 7.5},'
        ' "process": {"pid": 99999999999999999999}, "host": {"ip": ["10.0.0.1", "10.0.0.2"]}}'
    )
    event = PARSER.parse(line, CTX)
    assert event["_invalid.source.port"] == "ssh"
    assert event["_invalid.event.outcome"] == ["success"]
    assert event["_invalid.event.severity"] == 7.5
    assert event["_invalid.process.pid"] == 1e20
    assert event["_invalid.host.ip"] == ["10.0.0.1", "10.0.0.2"]
    for name in ("source.port", "event.outcome", "event.severity", "process.pid", "host.ip"):
        assert name not in event
    validate_event(event)


def test_winlogbeat_document_gets_windows_vendor_names() -> None:
    event = parse(
        {
            "winlog": {
                "channel": "Microsoft-Windows-Sysmon/Operational",
                "event_id": "1",
                "provider_name": "Microsoft-Windows-Sysmon",
                "computer_name": "ws07",
                "event_data": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c"},
            }
        }
    )
    assert event["Image"] == "C:\\Windows\\System32\\cmd.exe"
    assert event["CommandLine"] == "cmd /c"
    assert event["EventID"] == 1
    assert event["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert event["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert event["Computer"] == "ws07"
    assert event["event.module"] == "windows"
    assert event["winlog.event_data.Image"] == event["Image"]
    normalize(event)
    assert event["process.name"] == "cmd.exe"
    assert event["event.category"] == ["process"]


NXLOG_4625 = {
    "EventTime": "2026-11-27 10:00:01",
    "Hostname": "dc01.corp.example",
    "Keywords": -9218868437227405312,
    "EventType": "AUDIT_FAILURE",
    "EventID": 4625,
    "SourceName": "Microsoft-Windows-Security-Auditing",
    "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
    "Task": 12544,
    "OpcodeValue": 0,
    "RecordNumber": 912,
    "ProcessID": 644,
    "ThreadID": 700,
    "Channel": "Security",
    "Message": "An account failed to log on.",
    "Opcode": "Info",
    "TargetUserName": "alice",
    "TargetDomainName": "CORP",
    "SubStatus": "0xc000006a",
    "LogonType": "3",
    "IpAddress": "203.0.113.9",
    "IpPort": "50122",
    "EventReceivedTime": "2026-11-27 10:00:02",
    "SourceModuleName": "eventlog",
    "SourceModuleType": "im_msvistalog",
}


def test_nxlog_windows_record_gets_windows_vendor_names() -> None:
    event = parse(NXLOG_4625)
    assert event["EventID"] == 4625
    assert event["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert event["Computer"] == "dc01.corp.example"
    assert event["EventRecordID"] == 912
    assert event["Execution_ProcessID"] == 644
    assert event["Keywords"] == "0x8010000000000000"  # NXLog's signed int, as EVTX writes it
    assert event["@timestamp"] == 1_795_773_601_000_000_000  # zone-less: UTC by default
    assert event["message"] == "An account failed to log on."
    assert event["event.module"] == "windows"
    normalize(event)
    validate_event(event)
    assert event["event.outcome"] == "failure"
    assert event["event.action"] == "logon-failed"
    assert (event["user.name"], event["source.ip"], event["source.port"]) == (
        "alice",
        "203.0.113.9",
        50122,
    )
    assert event["host.name"] == "dc01.corp.example"


def test_nxlog_local_event_time_follows_the_timezone_and_epoch_numbers_work() -> None:
    plus_one = ParseContext(received=RECEIVED, timezone=timezone(timedelta(hours=1)))
    event = JsonParser().parse(orjson.dumps(NXLOG_4625).decode(), plus_one)
    assert event["@timestamp"] == 1_795_773_601_000_000_000 - 3600 * 10**9
    # A config that sends EventTime as epoch milliseconds (integer($EventTime) / 1000).
    no_module = {k: v for k, v in NXLOG_4625.items() if not k.startswith("SourceModule")}
    event = parse({**no_module, "EventTime": 1_795_773_601_250})
    assert event["@timestamp"] == 1_795_773_601_250_000_000
    assert event["event.module"] == "windows"  # EventID + Channel + SourceName suffice


def test_flatten_keeps_objects_past_flat_depth_as_text() -> None:
    flat = flatten_json({"a": {"b": {"c": {"d": 1}}}}, max_depth=64, parser="t", flat_depth=2)
    assert flat == {"a.b": '{"c":{"d":1}}'}
