"""normalize(): which mapping an event gets, and that a failing mapping costs nothing."""

from __future__ import annotations

import pytest

from heron.normalize import MAPPINGS, normalize


def test_unknown_events_pass_through_unchanged() -> None:
    event = {"@timestamp": 1, "message": "hello", "event.module": "nginx"}
    assert normalize(dict(event)) == event


def test_windows_and_aws_events_get_their_mapping() -> None:
    windows = normalize({"event.module": "windows", "EventID": 4624, "Channel": "Security"})
    assert windows["event.action"] == "logged-in"
    aws = normalize({"event.module": "aws", "eventName": "ConsoleLogin"})
    assert aws["cloud.provider"] == "aws"


def test_a_failing_mapping_leaves_the_event_as_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The failure is simulated by a stand-in mapping (not a mock of Heron's mappings):
    # what is under test is normalize's promise, whatever a mapping does.
    def broken(event: dict[str, object]) -> None:
        raise ValueError("unexpected value 'x'")

    monkeypatch.setitem(MAPPINGS, "broken", broken)
    event = {"@timestamp": 1, "event.module": "broken", "a": 1}
    out = normalize(event)
    assert out is event
    assert out == {
        "@timestamp": 1,
        "event.module": "broken",
        "a": 1,
        "error.message": "normalization (broken) failed: ValueError: unexpected value 'x'",
    }


def test_linux_mapping_is_used_for_events_with_a_process_name() -> None:
    line = "Failed password for invalid user admin from 203.0.113.9 port 52100 ssh2"
    event = {"@timestamp": 1, "process.name": "sshd", "message": line}
    out = normalize(event)
    assert "error.message" not in out
    assert out["process.name"] == "sshd"
    assert out.get("event.outcome") == "failure"
