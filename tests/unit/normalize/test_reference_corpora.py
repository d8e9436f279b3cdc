"""Agreement with Elastic's expected documents, and Wazuh's Windows lines by meaning.

Elastic's pipeline tests give input documents and the ECS documents Elastic makes of
them; for the fields Heron maps, the values must agree. Deliberate differences:

- ``@timestamp``: Heron keeps the document's own time (Winlogbeat sets it from the
  record); Elastic's Sysmon pipeline re-derives it from ``UtcTime``.
- ``event.id``: Heron's own id; CloudTrail's ``eventID`` stays under its name.
- ``event.action`` is one string; Elastic's Sysmon 7 document lists two.
- ``related.user`` also holds the acting role of an assumed-role session; ``related.ip``
  holds the source address (Elastic leaves both out for CloudTrail).
- no GeoIP, no user-agent parsing, no ``process.args``: enrichment, not mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.cloudtrail import CloudTrailParser
from heron.parsers.json import JsonParser
from heron.parsers.winxml import WindowsXmlParser

CTX = ParseContext(received=1)
ELASTIC = "logs/elastic/packages"

# ECS fields Heron maps for these sources, compared wherever Elastic's document has them.
WINDOWS_FIELDS = (
    "event.code",
    "event.kind",
    "event.provider",
    "event.category",
    "event.type",
    "process.executable",
    "process.name",
    "process.pid",
    "process.entity_id",
    "file.path",
    "file.name",
    "file.directory",
    "file.extension",
    "file.hash.md5",
    "file.hash.sha1",
    "file.hash.sha256",
    "file.pe.imphash",
    "file.pe.original_file_name",
    "file.pe.company",
    "file.pe.description",
    "file.pe.file_version",
    "file.pe.product",
    "dll.path",
    "dll.name",
    "dll.hash.md5",
    "dll.hash.sha1",
    "dll.hash.sha256",
    "dll.pe.imphash",
    "user.name",
    "user.domain",
    "user.id",
    "related.user",
    "related.hash",
    "winlog.channel",
    "winlog.computer_name",
    "winlog.event_id",
    "winlog.provider_name",
    "winlog.record_id",
    "log.level",
)
CLOUDTRAIL_FIELDS = (
    "event.action",
    "event.provider",
    "event.outcome",
    "event.category",
    "event.type",
    "event.kind",
    "cloud.region",
    "cloud.account.id",
    "source.ip",
    "source.address",
    "user.name",
    "user.id",
    "user_agent.original",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.error_message",
)


def _flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, list) and isinstance(ours, list):
        return sorted(map(str, ours)) == sorted(map(str, theirs))
    if isinstance(theirs, list) and isinstance(ours, str):
        return ours in theirs  # Elastic's multi-valued event.action
    return str(ours) == str(theirs)


def _agreement(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]], fields: tuple[str, ...]
) -> tuple[int, list[str]]:
    compared, differences = 0, []
    for ours, expected in pairs:
        theirs = _flat(expected)
        for field in fields:
            if field in theirs:
                compared += 1
                if not _same(ours.get(field), theirs[field]):
                    differences.append(
                        f"{field}: ours {ours.get(field)!r} Elastic {theirs[field]!r}"
                    )
    return compared, differences


def _sysmon_pairs(
    corpora: Path, read: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Elastic's Sysmon documents read by ``read`` and normalized, with their expected ECS."""
    folder = corpora / ELASTIC / "windows/data_stream/sysmon_operational/_dev/test/pipeline"
    inputs = [p for p in sorted(folder.glob("*.json")) if not p.name.endswith("-expected.json")]
    if not inputs:
        pytest.skip("Elastic windows package tests not in the corpus")
    pairs = []
    for path in inputs:
        docs = json.loads(path.read_text())["events"]
        expected = json.loads(Path(f"{path}-expected.json").read_text())["expected"]
        for doc, want in zip(docs, expected, strict=True):
            event = normalize(read(doc))
            validate_event(event)
            pairs.append((event, want))
    return pairs


def test_sysmon_agrees_with_elastic(corpora: Path) -> None:
    pairs = _sysmon_pairs(corpora, lambda doc: JsonParser().parse(orjson.dumps(doc).decode(), CTX))
    compared, differences = _agreement(pairs, WINDOWS_FIELDS)
    print(
        f"\nSysmon vs Elastic: {compared - len(differences)}/{compared} fields agree; {differences}"
    )
    assert compared >= 20
    assert (compared - len(differences)) / compared >= 0.9


def test_sysmon_xml_agrees_with_elastic(corpora: Path) -> None:
    """The same documents' ``event.original`` (the event as Windows renders it in XML)."""
    pairs = _sysmon_pairs(
        corpora, lambda doc: WindowsXmlParser().parse(doc["event"]["original"], CTX)
    )
    compared, differences = _agreement(pairs, WINDOWS_FIELDS)
    print(f"\nSysmon XML vs Elastic: {compared - len(differences)}/{compared} agree")
    assert compared >= 30
    assert differences == []


def test_cloudtrail_agrees_with_elastic(corpora: Path) -> None:
    folder = corpora / ELASTIC / "aws/data_stream/cloudtrail/_dev/test/pipeline"
    logs = sorted(folder.glob("*.log"))
    if not logs:
        pytest.skip("Elastic aws package tests not in the corpus")
    pairs = []
    for path in logs:
        expected = json.loads(Path(f"{path}-expected.json").read_text())["expected"]
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        for line, want in zip(lines, expected, strict=True):
            event = normalize(CloudTrailParser().parse(line, CTX))
            validate_event(event)
            pairs.append((event, want))
    compared, differences = _agreement(pairs, CLOUDTRAIL_FIELDS)
    agree = compared - len(differences)
    print(f"\nCloudTrail vs Elastic: {agree}/{compared} fields agree; {differences}")
    assert compared >= 30
    assert differences == []


def _wazuh_lines(corpora: Path, name: str) -> Iterator[tuple[str, str]]:
    path = corpora / "logs" / "wazuh" / name
    if not path.exists():
        pytest.skip(f"{name} not in the corpus")
    title = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            title = line.strip("[]")
        found = re.match(r"log \d+ (?:pass|fail) = (.*)$", line)
        if found:
            yield title, found.group(1)


@pytest.fixture(scope="module")
def wazuh(corpora: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    parsed: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name in ("win_security.ini", "sysmon_eid_1.ini", "sysmon_eid_3.ini", "powershell.ini"):
        events = []
        for title, line in _wazuh_lines(corpora, name):
            event = normalize(JsonParser().parse(line, CTX))
            validate_event(event)
            assert "error.message" not in event
            assert event["event.module"] == "windows"
            assert event["event.code"] == event["win.system.eventID"]
            assert event["event.category"], title
            events.append((title, event))
        parsed[name] = events
    return parsed


def _by_title(events: list[tuple[str, dict[str, Any]]], title: str) -> dict[str, Any]:
    return next(event for found, event in events if found == title)


def test_wazuh_security_events_mean_what_their_titles_say(
    wazuh: dict[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    events = wazuh["win_security.ini"]
    enabled = _by_title(events, "User account enabled or created")
    assert (enabled["event.action"], enabled["event.outcome"]) == (
        "enabled-user-account",
        "success",
    )
    assert (enabled["user.name"], enabled["user.target.name"]) == ("itadmin", "toby")
    changed = _by_title(events, "User account changed")
    assert changed["event.type"] == ["user", "change"]
    assert changed["user.target.name"] == "toby"
    group = _by_title(events, "Domain Users Group Changed")
    assert group["event.action"] == "added-member-to-group"
    assert group["user.target.id"] == group["MemberSid"]
    policy = _by_title(events, "Windows Audit Policy changed")
    assert policy["event.action"] == "changed-audit-config"
    assert policy["user.name"] == "HOTELDC$"
    task = _by_title(events, "A scheduled task was created")
    assert task["event.action"] == "scheduled-task-created"
    assert task["user.name"] == "Administrator"
    assert len(events) == 9


def test_wazuh_sysmon_events(wazuh: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    for _, event in wazuh["sysmon_eid_1.ini"]:
        assert event["event.category"] == ["process"]
        assert event["process.executable"] == event["Image"]
        assert event.get("process.parent.executable") == event.get("ParentImage")
        assert event["user.name"] and "\\" not in event["user.name"]
    spawned = _by_title(
        wazuh["sysmon_eid_1.ini"], "Powershell process spawned Windows command shell instance"
    )
    assert (spawned["process.name"], spawned["process.parent.name"]) == (
        "cmd.exe",
        "powershell.exe",
    )
    for _, event in wazuh["sysmon_eid_3.ini"]:
        assert event["event.category"] == ["network"]
        assert event["network.transport"] == "tcp"
        assert isinstance(event["destination.port"], int)
    rdp = _by_title(wazuh["sysmon_eid_3.ini"], "RDP port network activity")
    assert rdp["destination.port"] == 3389
    smb = _by_title(wazuh["sysmon_eid_3.ini"], "Windows System process activity over SMB port")
    assert (smb["process.name"], smb["destination.port"]) == ("System", 445)


def test_wazuh_powershell_script_blocks(wazuh: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    events = wazuh["powershell.ini"]
    assert len(events) == 32
    for _, event in events:
        assert event["event.code"] == "4104"
        assert event["powershell.file.script_block_text"] == event["ScriptBlockText"]
    clipboard = _by_title(events, "Powershell collected clipboard data")
    assert "Get-Clipboard" in clipboard["powershell.file.script_block_text"]
