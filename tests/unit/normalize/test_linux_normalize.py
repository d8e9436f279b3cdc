"""normalize_linux behaviour the golden file does not show: what it leaves alone."""

from __future__ import annotations

from heron.model.event import Event
from heron.normalize import normalize
from heron.normalize.linux import normalize_linux
from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext
from heron.parsers.syslog import SyslogParser

CTX = ParseContext(year=2024)


def _event(line: str) -> Event:
    return SyslogParser().parse(line, CTX)


def test_a_second_pass_changes_nothing() -> None:
    event = _event(
        "Jan  5 09:00:04 web01 sshd[1004]: Failed password for root from 1.2.3.4 port 2 ssh2"
    )
    normalize_linux(event)
    once = dict(event)
    normalize_linux(event)
    assert event == once


def test_unknown_programs_and_messages_are_left_alone() -> None:
    for line in (
        "Jan  5 09:06:01 web01 kernel: eth0: link up",
        "Jan  5 09:06:01 web01 sshd[1]: Server listening on :: port 22.",
        "Jan  5 09:06:01 web01 sudo[2]: no colon-space separated user here",
        "Jan  5 09:06:01 web01 app[3]: pam_unix(app:account): expired password for user bob",
    ):
        event = _event(line)
        before = dict(event)
        normalize_linux(event)
        assert event == before, line


def test_events_classified_by_their_parser_are_left_alone() -> None:
    audit = AuditdParser().parse(
        "type=USER_CMD msg=audit(1.5:1): pid=1 uid=0 comm=\"sshd\" msg='cmd=6964 res=success'", CTX
    )
    audit["message"] = "Accepted password for x from 1.2.3.4 port 1 ssh2"
    before = dict(audit)
    normalize_linux(audit)
    assert audit == before


def test_the_normalize_entry_point_reaches_the_linux_mapping() -> None:
    event = normalize(_event("Jan  5 09:01:02 web01 su[3002]: FAILED SU (to root) eve on pts/1"))
    assert event["event.outcome"] == "failure"
    assert event["event.module"] == "system"
