"""auditd specifics: which values are hex-decoded, and records merged from one line."""

from __future__ import annotations

from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext

CTX = ParseContext()


def _parse(line: str) -> dict[str, object]:
    return AuditdParser().parse(line, CTX)


def test_unquoted_hex_of_encodable_keys_is_decoded() -> None:
    event = _parse(
        "type=USER_CMD msg=audit(1.5:1): cmd=6C73202D6C61 acct=6A6F686E20646F65 res=success"
    )
    assert event["auditd.log.cmd"] == "ls -la"
    assert event["user.name"] == "john doe"
    assert event["process.command_line"] == "ls -la"


def test_quoted_values_and_syscall_arguments_stay_as_written() -> None:
    event = _parse(
        'type=SYSCALL msg=audit(1.5:2): arch=c000003e syscall=2 a0=6C73 comm="CAFE" exe="/x"'
    )
    assert event["auditd.log.a0"] == "6C73"
    assert event["process.name"] == "CAFE"


def test_execve_arguments_in_hex_are_decoded() -> None:
    event = _parse('type=EXECVE msg=audit(1.5:3): argc=2 a0="cat" a1=2F746D702F612062')
    assert event["process.args"] == ["cat", "/tmp/a b"]
    assert event["process.command_line"] == "cat /tmp/a b"


def test_timestamp_and_sequence() -> None:
    event = _parse(
        "type=DAEMON_END msg=audit(1450876093.165:8729): auditd normal halt, res=success"
    )
    assert event["@timestamp"] == 1450876093_165_000_000
    assert event["auditd.log.sequence"] == 8729
    assert event["event.outcome"] == "success"


def test_unset_audit_ids_are_left_out() -> None:
    event = _parse(
        "type=USER_LOGIN msg=audit(1.5:4): pid=1 uid=0 auid=4294967295 ses=4294967295 "
        'msg=\'op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=? res=failed\''
    )
    assert "user.audit.id" not in event
    assert "source.ip" not in event
    assert event["event.outcome"] == "failure"
