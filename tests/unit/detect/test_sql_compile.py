"""Sigma → SQL: every value test gives the rows the streaming matcher gives.

Each case is a rule and hand-made events with the indexes expected to match; the
rule runs both ways (SigmaEngine on the events, SQL on a store holding them) and
both must give exactly the expected rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sql import rule_query
from heron.model.event import EventBatch
from heron.store.duckdb import DuckDBStore

T0 = 1_700_000_000 * 1_000_000_000
SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _proc(i: int, **fields: Any) -> dict[str, Any]:
    return {"Channel": SYSMON, "EventID": 1, **fields}


EVENTS: list[dict[str, Any]] = [
    _proc(0, Image="C:\\Windows\\System32\\cmd.exe", CommandLine="cmd.exe /c whoami"),
    _proc(1, Image="C:\\Tools\\CMD.EXE", CommandLine="CMD /C dir 100%_done"),
    _proc(2, CommandLine="powershell -enc AAAA", Tags=["a", "Beta", None]),
    _proc(3, **{"process.executable": "C:\\Windows\\cmd.exe", "process.command_line": "cmd"}),
    _proc(4, Image="", ProcessId=420, CommandLine="x\ny"),
    _proc(5, ProcessId="0x1a4", ParentProcessId="12.0", Flag=True, Other="cmd.exe"),
    _proc(6, Flag="TRUE ", Count="  7 ", Empty=[], Nothing=None, Image="C:\\x?y*z.exe"),
    {"Channel": SYSMON, "EventID": 3, "DestinationIp": "10.1.2.3", "SourceIp": "::ffff:10.9.9.9"},
    {"Channel": SYSMON, "EventID": 3, "DestinationIp": "fe80::1%eth0", "SourceIp": "[::1]"},
    {"Channel": SYSMON, "EventID": 3, "DestinationIp": "010.1.2.3", "SourceIp": "8.8.8.8 "},
    {
        "Channel": SYSMON,
        "EventID": 3,
        "DestinationIp": "2001:db8::ff",
        "SourceIp": "::ffff:a09:909",
    },
    {
        "Channel": "Security",
        "EventID": 4688,
        "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd /c net user",
        "SubjectUserName": "alice",
        "SubjectDomainName": "CORP",
        "NewProcessId": "0x10",
        "ProcessId": "0x4",
        "MandatoryLabel": "S-1-16-12288",
    },
    {
        "Channel": "Security",
        "EventID": 4657,
        "OperationType": "%%1905",
        "ObjectName": "\\REGISTRY\\MACHINE\\SOFTWARE\\Run",
        "ObjectValueName": "evil",
        "NewValue": "C:\\evil.exe",
        "ProcessName": "C:\\Windows\\reg.exe",
    },
    {"Channel": "Security", "EventID": 4624, "TargetUserName": "bob", "SubjectUserName": "BOB"},
    {
        "event.module": "aws",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": "eu-west-1",
    },
    {
        "host.os.type": "linux",
        "event.category": ["process"],
        "event.type": ["start"],
        "process.executable": "/usr/bin/curl",
        "message": "curl http://example.com",
    },
    {"event.original": "plain text line mentioning mimikatz", "event.module": "system"},
]


def _rule(detection: str, logsource: str = "product: windows\n  category: process_creation") -> str:
    return f"""
title: case
id: 00000000-0000-4000-8000-000000000001
logsource:
  {logsource}
detection:
{detection}
level: low
"""


NET = "product: windows\n  category: network_connection"
CASES: list[tuple[str, str, str, set[int]]] = [
    ("endswith", "  s:\n    Image|endswith: '\\cmd.exe'\n  condition: s", "", {0, 1, 3, 11}),
    ("exact is case-insensitive", "  s:\n    CommandLine: 'CMD'\n  condition: s", "", {3}),
    ("contains with % and _", "  s:\n    CommandLine|contains: '100%_d'\n  condition: s", "", {1}),
    ("wildcards", "  s:\n    CommandLine: 'cmd*/c*'\n  condition: s", "", {0, 1, 11}),
    ("question mark", "  s:\n    CommandLine: 'x?y'\n  condition: s", "", {4}),
    ("escaped wildcard", "  s:\n    Image|endswith: 'x\\?y\\*z.exe'\n  condition: s", "", {6}),
    ("cased", "  s:\n    Image|cased|contains: 'CMD'\n  condition: s", "", {1}),
    ("list element", "  s:\n    Tags: beta\n  condition: s", "", {2}),
    ("all of list", "  s:\n    CommandLine|contains|all: [cmd, whoami]\n  condition: s", "", {0}),
    ("number", "  s:\n    ProcessId: 420\n  condition: s", "", {4, 5}),
    ("number from float text", "  s:\n    ParentProcessId: 12\n  condition: s", "", {5}),
    ("compare", "  s:\n    Count|gte: 7\n  condition: s", "", {6}),
    ("bool", "  s:\n    Flag: true\n  condition: s", "", {5, 6}),
    ("null", "  s:\n    Image: null\n  condition: s", "", {2, 4, 5}),
    ("empty list is null", "  s:\n    Empty: null\n  condition: s", "", set(range(7)) | {11}),
    ("exists", "  s:\n    Image|exists: true\n  condition: s", "", {0, 1, 3, 4, 6, 11}),
    ("not exists", "  s:\n    Nothing|exists: false\n  condition: s", "", set(range(7)) | {11}),
    ("regex is cased", "  s:\n    CommandLine|re: '^cmd'\n  condition: s", "", {0, 3, 11}),
    ("regex flag i", "  s:\n    CommandLine|re|i: '^cmd '\n  condition: s", "", {1, 11}),
    ("fieldref", "  s:\n    Other|fieldref: Image\n  condition: s", "", set()),
    (
        "not",
        "  s:\n    Image|endswith: '.exe'\n  f:\n    Image|contains: tools\n"
        "  condition: s and not f",
        "",
        {0, 3, 6, 11},
    ),
    ("keyword", "  k:\n    - whoami\n    - '*NET USER*'\n  condition: k", "", {0, 11}),
    (
        "cidr v4, mapped v6, padded",
        "  s:\n    SourceIp|cidr: ['10.0.0.0/8', '8.8.8.0/24']\n  condition: s",
        NET,
        {7, 9, 10},
    ),
    (
        "cidr v6 and zone",
        "  s:\n    DestinationIp|cidr: ['fe80::/10', '2001:db8::/32']\n  condition: s",
        NET,
        {8, 10},
    ),
    ("cidr leading zeros", "  s:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: s", NET, {7}),
    (
        "4688 as Sysmon: user and integrity",
        "  s:\n    User: 'CORP\\alice'\n"
        "    IntegrityLevel: High\n    ProcessId: 16\n    ParentProcessId: 4\n  condition: s",
        "",
        {11},
    ),
    (
        "4657 as registry_set",
        "  s:\n    TargetObject|endswith: '\\Software\\Run\\evil'\n"
        "    Details|contains: evil\n    Image|endswith: reg.exe\n  condition: s",
        "product: windows\n  category: registry_set",
        {12},
    ),
    (
        "service channel",
        "  s:\n    TargetUserName: bob\n  condition: s",
        "product: windows\n  service: security",
        {13},
    ),
    (
        "aws by module",
        "  s:\n    eventName: CreateUser\n  condition: s",
        "product: aws\n  service: cloudtrail",
        {14},
    ),
    (
        "linux ecs process",
        "  s:\n    Image|endswith: /curl\n  condition: s",
        "product: linux\n  category: process_creation",
        {15},
    ),
    (
        "keyword in raw line",
        "  k:\n    - mimikatz\n  condition: k",
        "product: linux\n  service: syslog",
        {16},
    ),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    events = []
    for i, e in enumerate(EVENTS):
        events.append({**e, "@timestamp": T0 + i, "event.id": f"e{i}"})
    s = DuckDBStore(tmp_path_factory.mktemp("sql") / "data")
    s.append(EventBatch(events))
    yield s
    s.close()


@pytest.mark.parametrize(
    ("detection", "logsource", "expected"),
    [pytest.param(d, ls, exp, id=name) for name, d, ls, exp in CASES],
)
def test_sql_and_streaming_agree(
    store: DuckDBStore, tmp_path: Path, detection: str, logsource: str, expected: set[int]
) -> None:
    path = tmp_path / "rule.yml"
    path.write_text(_rule(detection, logsource) if logsource else _rule(detection))
    engine = SigmaEngine.from_paths([path])
    assert engine.errors == []
    (rule,) = engine.rules
    events = [{**e, "@timestamp": T0 + i, "event.id": f"e{i}"} for i, e in enumerate(EVENTS)]
    streamed = {i for i, _rule in engine.match_batch(events)}
    query = rule_query(rule)
    found = store.query(query.text, list(query.params)).column("event.id").to_pylist()
    assert {int(eid[1:]) for eid in found} == streamed == expected
