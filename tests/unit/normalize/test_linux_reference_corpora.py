"""Linux auth/syslog and auditd mapping against third-party references.

- Elastic's pipeline tests (system auth and syslog, auditd log): for every line, the
  fields both sides map are compared and the agreement rate must stay high. Elastic's
  years of RFC 3164 lines are the year its test ran: the expected document's year is
  given as ``ParseContext.year`` (as a deployment would configure it), its
  ``event.timezone`` as the zone.
- Wazuh's sshd and auditd rule tests: the section titles say what each line means.
- loghub Linux/OpenSSH samples: every line parses with rfc3164 or fails cleanly.

Deliberate differences from Elastic (counted as "extra", not as disagreement): Heron
sets ``event.action: sudo`` and an ``event.outcome`` on sudo lines, ``host.name`` from
auditd's ``node``, ``user.name`` from auditd's enriched ``UID`` and an outcome from a
SYSCALL record's ``success``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml

from heron.errors import ParseError
from heron.model.event import Event, validate_event
from heron.model.timeutil import parse_timestamp
from heron.normalize.linux import normalize_linux
from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.syslog import SyslogParser
from heron.parsers.syslog_time import zone_from_text

ELASTIC = Path("logs/elastic/packages")
COMPARED = (
    "@timestamp",
    "event.outcome",
    "event.action",
    "event.category",
    "event.type",
    "user.name",
    "source.ip",
    "source.port",
    "host.name",
    "process.name",
    "process.pid",
)
RECEIVED = parse_timestamp("2026-11-28T00:00:00Z")


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _expected_fields(doc: dict[str, Any]) -> dict[str, Any]:
    flat = _flatten(doc)
    if "host.hostname" in flat:
        flat["host.name"] = flat["host.hostname"]
    action = flat.get("event.action")
    if isinstance(action, list):  # Elastic's auditd writes a one-element list
        flat["event.action"] = action[0] if action else None
    if "@timestamp" in flat:
        flat["@timestamp"] = parse_timestamp(flat["@timestamp"])
    return {field: flat[field] for field in COMPARED if flat.get(field) is not None}


def _cases(corpora: Path, data_stream: str) -> Iterator[tuple[str, ParseContext, dict[str, Any]]]:
    folder = corpora / ELASTIC / data_stream / "_dev/test/pipeline"
    for log in sorted(folder.glob("*.log")):
        expected = json.loads(log.with_name(log.name + "-expected.json").read_text())["expected"]
        config_path = log.with_name(log.name + "-config.yml")
        zone = UTC
        if config_path.exists():
            config = yaml.safe_load(config_path.read_text()) or {}
            text = ((config.get("fields") or {}).get("event") or {}).get("timezone")
            zone = zone_from_text(text) or UTC if text else UTC
        lines = [line for line in log.read_text().split("\n") if line]
        assert len(lines) == len(expected), log.name
        for line, doc in zip(lines, expected, strict=True):
            year = int(doc["@timestamp"][:4]) if "@timestamp" in doc else None
            yield line, ParseContext(received=RECEIVED, year=year, timezone=zone), doc


Case = tuple[str, ParseContext, dict[str, Any]]


def _agreement(
    cases: list[Case], parse: Callable[[str, ParseContext], Event]
) -> tuple[int, int, list[str], list[str]]:
    agree = total = 0
    differences: list[str] = []
    extras: list[str] = []
    for line, ctx, doc in cases:
        event = parse(line, ctx)
        validate_event(event)
        want = _expected_fields(doc)
        for field, value in want.items():
            total += 1
            if event.get(field) == value:
                agree += 1
            else:
                differences.append(f"{field}: {event.get(field)!r} != {value!r} in {line[:60]!r}")
        extras += [f for f in COMPARED if f in event and f not in want]
    return agree, total, differences, extras


def _syslog_then_linux(line: str, ctx: ParseContext) -> Event:
    event = SyslogParser().parse(line, ctx)
    normalize_linux(event)
    return event


@pytest.mark.parametrize(
    ("data_stream", "parse"),
    [
        ("system/data_stream/auth", _syslog_then_linux),
        ("system/data_stream/syslog", _syslog_then_linux),
        ("auditd/data_stream/log", lambda line, ctx: AuditdParser().parse(line, ctx)),
    ],
    ids=["system-auth", "system-syslog", "auditd-log"],
)
def test_agrees_with_elastic_pipeline_tests(
    corpora: Path, data_stream: str, parse: Callable[[str, ParseContext], Event]
) -> None:
    cases = list(_cases(corpora, data_stream))
    if not cases:
        pytest.skip(f"no Elastic pipeline test lines under {data_stream}")
    agree, total, differences, extras = _agreement(cases, parse)
    rate = agree / total
    print(f"{data_stream}: {agree}/{total} fields agree ({rate:.1%}), extra: {sorted(set(extras))}")
    assert rate >= 0.95, differences
    assert not differences, differences


# --- Wazuh sshd: section titles say what a line means ---------------------------------

_WAZUH_FAILED_LOGIN = {
    "invalid user",
    "login failed",
    "max auth attempts",
    "SSHD Authentication error",
    "SSHD Disconnected from invalid",
    "SSHD Disconnecting invalid",
    "SSHD: connection reset",
    "SSHD: denied user",
    "sshd: Multiple access attempts using a denied user",
    "sshd brute force rule",
    "sshd brute force rule 2",
}
_IPV4 = re.compile(r"(?<![0-9.])([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?![0-9.])")


def _wazuh_sections(path: Path) -> Iterator[tuple[str, str, str]]:
    """(title, pass/fail, raw line) of each ``log N pass = …`` line of a Wazuh .ini file."""
    title = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            title = line[1:-1]
        m = re.match(r"log \d+ (pass|fail) = (.*)$", line)
        if m is not None:
            yield title, m.group(1), m.group(2)


def test_wazuh_sshd_failed_logins_mean_failure(corpora: Path) -> None:
    checked = 0
    for title, verdict, raw in _wazuh_sections(corpora / "logs/wazuh/sshd.ini"):
        event = _syslog_then_linux(raw, ParseContext(received=RECEIVED))
        validate_event(event)
        assert event.get("event.outcome") != "success", raw
        if title not in _WAZUH_FAILED_LOGIN or verdict != "pass":
            continue
        checked += 1
        assert event.get("event.outcome") == "failure", raw
        assert event.get("event.category", [None])[0] == "authentication", raw
        user = event.get("user.name")
        assert isinstance(user, str) and user and f" {user} " in f" {raw} ", raw
        ip = _IPV4.search(raw.split(": ", 1)[1])
        if ip is not None:
            assert event.get("source.ip") == ip.group(1), raw
    assert checked >= 30


_WAZUH_AUDITD = {
    "Auditd: Daemon Start / Resume.": {"event.outcome": "success"},
    "Auditd: Daemon Start / Resume FAILED.": {"event.outcome": "failure"},
    "Auditd: Daemon Abort.": {"event.outcome": "failure"},
    "Auditd: Configuration changed.": {"event.category": ["process", "configuration"]},
    "Auditd: Process ended abnormally.": {"event.action": "crashed-program"},
    "Auditd: Execution of a file ended abnormally.": {
        "event.outcome": "failure",
        "user.name": "snap",
    },
    "Audit: Created: $(audit.file.name).": {
        "file.path": "/var/log/audit/tmp_directory1/malware.py",
        "process.executable": "/bin/touch",
    },
    "Audit: Passwd was used to lock an account.": {"event.action": "locked-account"},
    "Audit: Passwd was used to unlock an account.": {"event.action": "unlocked-account"},
}


def test_wazuh_auditd_lines(corpora: Path) -> None:
    parser = AuditdParser()
    seen = 0
    for title, _, raw in _wazuh_sections(corpora / "logs/wazuh/auditd.ini"):
        event = parser.parse(raw, ParseContext(received=RECEIVED))
        validate_event(event)
        record_type = re.search(r"type=(\S+)", raw)
        assert record_type is not None
        assert event["auditd.log.record_type"] == record_type.group(1)
        for field, value in _WAZUH_AUDITD.get(title, {}).items():
            assert event.get(field) == value, (title, field)
        seen += 1
    assert seen >= 35


# --- loghub: robustness and parse rate --------------------------------------------


@pytest.mark.parametrize("sample", ["Linux", "OpenSSH", "Mac", "Thunderbird", "Apache", "Windows"])
def test_loghub_lines_parse_or_fail_cleanly(corpora: Path, sample: str) -> None:
    path = corpora / "logs/loghub" / sample / f"{sample}_2k.log"
    parser = Rfc3164Parser()
    ctx = ParseContext(received=RECEIVED)
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    parsed = 0
    for line in lines:
        try:
            event = parser.parse(line, ctx)
        except ParseError:
            continue
        validate_event(event)
        normalize_linux(event)
        validate_event(event)
        parsed += 1
    rate = parsed / len(lines)
    print(f"loghub {sample}: {parsed}/{len(lines)} lines parse as RFC 3164 ({rate:.1%})")
    if sample in ("Linux", "OpenSSH", "Mac"):
        assert rate >= 0.99


def test_loghub_openssh_failures_are_mapped(corpora: Path) -> None:
    path = corpora / "logs/loghub/OpenSSH/OpenSSH_2k.log"
    ctx = ParseContext(received=RECEIVED)
    failures = successes = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        event = _syslog_then_linux(line, ctx)
        if "Failed password" in line or "Invalid user" in line:
            assert event.get("event.outcome") == "failure", line
            assert event.get("event.action") == "ssh_login", line
            failures += 1
        if "Accepted password" in line:
            assert event.get("event.outcome") == "success", line
            successes += 1
    assert failures > 100
    assert successes > 0
