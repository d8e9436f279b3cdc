"""systemd journal records (``journalctl -o json``) read like syslog lines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers import detect_line_format, get_parser
from heron.parsers.base import ParseContext

CTX = ParseContext(received=1)


def record(**fields: Any) -> dict[str, Any]:
    base = {
        "__CURSOR": "s=0c8a4b;i=1f2a;b=9f1e;m=3b9aca00;t=60f1c;x=7d2e",
        "__REALTIME_TIMESTAMP": "1795773601250000",
        "__MONOTONIC_TIMESTAMP": "1000000000",
        "_BOOT_ID": "9f1e0c8a4b1f2a",
        "_TRANSPORT": "syslog",
        "PRIORITY": "6",
        "SYSLOG_FACILITY": "4",
        "SYSLOG_IDENTIFIER": "sshd",
        "SYSLOG_PID": "1201",
        "_PID": "1201",
        "_UID": "0",
        "_COMM": "sshd",
        "_EXE": "/usr/sbin/sshd",
        "_SYSTEMD_UNIT": "ssh.service",
        "_HOSTNAME": "web01",
        "MESSAGE": "Failed password for root from 203.0.113.9 port 50001 ssh2",
    }
    base.update(fields)
    return base


def parse(rec: dict[str, Any]) -> dict[str, Any]:
    line = json.dumps(rec)
    assert detect_line_format(line) == "json"
    return get_parser("json").parse(line, CTX)


def test_sshd_failure_from_the_journal_normalizes_like_the_syslog_line() -> None:
    event = parse(record())
    assert event["@timestamp"] == 1_795_773_601_250_000_000
    assert (event["host.name"], event["process.name"], event["process.pid"]) == (
        "web01",
        "sshd",
        1201,
    )
    assert event["log.syslog.facility.name"] == "auth"
    assert event["log.syslog.severity.name"] == "Informational"
    assert event["_SYSTEMD_UNIT"] == "ssh.service"  # journal fields kept by name
    normalize(event)
    validate_event(event)
    assert event["event.dataset"] == "system.auth"
    assert event["event.outcome"] == "failure"
    assert (event["user.name"], event["source.ip"], event["source.port"]) == (
        "root",
        "203.0.113.9",
        50001,
    )


def test_the_programs_own_time_wins_and_sudo_is_read() -> None:
    event = parse(
        record(
            SYSLOG_IDENTIFIER="sudo",
            _SOURCE_REALTIME_TIMESTAMP="1795773600000001",
            MESSAGE="alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
        )
    )
    assert event["@timestamp"] == 1_795_773_600_000_001_000
    normalize(event)
    assert event["user.name"] == "alice"
    assert event["process.command_line"] == "/usr/bin/id"


def test_a_message_that_is_not_utf8_comes_as_bytes() -> None:
    raw = [*b"Invalid user ", 0xFF, *b" from 192.0.2.1 port 22"]
    event = parse(record(MESSAGE=raw))
    assert event["message"] == "Invalid user \ufffd from 192.0.2.1 port 22"


def test_sysmon_for_linux_in_the_journal() -> None:
    xml = (
        "<Event><System><Provider Name='Linux-Sysmon'/><EventID>1</EventID>"
        "<TimeCreated SystemTime='2026-10-19T10:22:33.5Z'/>"
        "<Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer></System>"
        "<EventData><Data Name='Image'>/usr/bin/curl</Data>"
        "<Data Name='CommandLine'>curl http://198.51.100.7/x.sh</Data></EventData></Event>"
    )
    event = parse(record(SYSLOG_IDENTIFIER="sysmon", _COMM="sysmon", MESSAGE=xml))
    assert event["Channel"] == "Linux-Sysmon/Operational"
    assert event["log.syslog.appname"] == "sysmon"
    assert event["@timestamp"] == 1_792_405_353_500_000_000  # the event's time
    normalize(event)
    assert event["event.dataset"] == "sysmon_linux.log"
    assert event["process.command_line"] == "curl http://198.51.100.7/x.sh"


def test_a_message_that_is_neither_text_nor_bytes_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="MESSAGE"):
        parse(record(MESSAGE=[1000, "x"]))


_VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.lists(st.integers(-5, 300), max_size=6),
    st.none(),
    st.sampled_from(["", "9", "99", "-1", "0x10", "1795773601250000", "<Event>", "<Event"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "MESSAGE",
                "PRIORITY",
                "SYSLOG_FACILITY",
                "_PID",
                "SYSLOG_IDENTIFIER",
                "_SOURCE_REALTIME_TIMESTAMP",
                "__REALTIME_TIMESTAMP",
                "_HOSTNAME",
                "_COMM",
            ]
        ),
        _VALUES,
    )
)
def test_odd_journal_fields_give_an_event_or_a_parse_error(fields: dict[str, Any]) -> None:
    rec = record(**fields)
    try:
        event = get_parser("json").parse(json.dumps(rec), CTX)
    except ParseError:
        return
    normalize(event)
    validate_event(event)
