"""A small, hand-made set of events that the hunting-language reference runs on.

Every example in ``docs/reference/hunting-language.md`` is parsed, compiled and run on
these events by the test suite, so the page cannot drift from the language. The story:
a password-guessing burst against ``web01`` that ends in a login, PowerShell with an
encoded command on ``ws01``, a rare binary, network flows, DNS, and AWS console logins.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from heron.model.event import Event, EventBatch
from heron.model.timeutil import parse_timestamp

__all__ = ["SAMPLE_NOW", "sample_events", "sample_table"]

#: The "now" the reference examples are compiled with (ago(1h) etc. are relative to it).
SAMPLE_NOW = parse_timestamp("2024-03-01T12:00:00Z")
_T0 = parse_timestamp("2024-03-01T10:00:00Z")
_S = 1_000_000_000


def _event(n: int, seconds: float, **fields: Any) -> Event:
    ts = _T0 + int(seconds * _S)
    event: Event = {
        "@timestamp": ts,
        "event.ingested": ts + 2 * _S,
        "event.id": f"e{n:03d}",
        "event.kind": "event",
    }
    for key, value in fields.items():
        event[key.replace("__", ".")] = value
    return event


def _ssh(n: int, seconds: float, outcome: str, user: str, ip: str, port: int) -> Event:
    verb = "Failed" if outcome == "failure" else "Accepted"
    line = f"Mar  1 10:{int(seconds) // 60:02d}:{int(seconds) % 60:02d} web01 sshd[4242]: "
    line += f"{verb} password for {user} from {ip} port {port} ssh2"
    return _event(
        n,
        seconds,
        event__category=["authentication"],
        event__type=["start"] if outcome == "success" else ["info"],
        event__action="ssh_login",
        event__outcome=outcome,
        event__module="sshd",
        host__name="web01",
        user__name=user,
        source__ip=ip,
        source__port=port,
        process__name="sshd",
        process__pid=4242,
        message=line.split(": ", 1)[1],
        event__original=line,
    )


def _process(
    n: int, seconds: float, host: str, user: str, image: str, cmd: str, parent: str
) -> Event:
    name = image.rsplit("\\", 1)[-1]
    xml = (
        f"<Event><System><EventID>1</EventID><Computer>{host}</Computer></System>"
        f"<EventData><Data Name='Image'>{image}</Data>"
        f"<Data Name='CommandLine'>{cmd}</Data></EventData></Event>"
    )
    return _event(
        n,
        seconds,
        event__category=["process"],
        event__type=["start"],
        event__action="process_created",
        event__code="1",
        event__module="sysmon",
        event__provider="Microsoft-Windows-Sysmon",
        host__name=host,
        user__name=user,
        process__name=name,
        process__executable=image,
        process__command_line=cmd,
        process__parent__executable=parent,
        winlog__channel="Microsoft-Windows-Sysmon/Operational",
        event__original=xml,
        Image=image,
        CommandLine=cmd,
        ParentImage=parent,
    )


def _flow(n: int, seconds: float, src: str, dst: str, port: int, sent: int) -> Event:
    line = f"flow src={src} dst={dst} dport={port} bytes={sent} proto=tcp"
    return _event(
        n,
        seconds,
        event__category=["network"],
        event__type=["connection"],
        event__action="flow",
        event__module="netflow",
        host__name="fw01",
        source__ip=src,
        destination__ip=dst,
        destination__port=port,
        network__transport="tcp",
        event__original=line,
        **{"source.bytes": sent},
    )


def _console_login(n: int, seconds: float, user: str, identity: str, ip: str, ok: bool) -> Event:
    outcome = "success" if ok else "failure"
    raw = orjson.dumps(
        {
            "eventName": "ConsoleLogin",
            "userIdentity": {"type": identity, "userName": user},
            "sourceIPAddress": ip,
            "responseElements": {"ConsoleLogin": "Success" if ok else "Failure"},
        }
    ).decode()
    return _event(
        n,
        seconds,
        event__category=["authentication"],
        event__type=["start"],
        event__action="ConsoleLogin",
        event__outcome=outcome,
        event__module="cloudtrail",
        cloud__provider="aws",
        user__name=user,
        source__ip=ip,
        event__original=raw,
        eventName="ConsoleLogin",
        eventSource="signin.amazonaws.com",
        sourceIPAddress=ip,
        **{"userIdentity.type": identity, "userIdentity.userName": user},
    )


def sample_events() -> list[Event]:
    """The reference's sample events (28 of them), oldest first."""
    attacker = "203.0.113.9"
    events: list[Event] = []
    guesses = ["root", "oracle", "admin", "root", "test", "admin", "root"]
    for i, user in enumerate(guesses):
        events.append(_ssh(len(events) + 1, 10 + i * 20, "failure", user, attacker, 50000 + i))
    events.append(_ssh(len(events) + 1, 170, "success", "admin", attacker, 50010))
    events.append(_ssh(len(events) + 1, 400, "success", "alice", "198.51.100.4", 40022))
    events.append(_ssh(len(events) + 1, 900, "failure", "bob", "198.51.100.7", 40100))
    ps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
    explorer = r"C:\Windows\explorer.exe"
    cmd = r"C:\Windows\System32\cmd.exe"
    processes = [
        ("ws01", "alice", ps, "powershell.exe -nop -w hidden -enc SQBFAFgA", explorer),
        ("ws01", "alice", cmd, "cmd.exe /c whoami /all", ps),
        ("ws01", "alice", r"C:\Users\alice\AppData\Local\Temp\x.exe", "x.exe --beacon", cmd),
        ("ws02", "bob", r"C:\Windows\System32\notepad.exe", "notepad.exe report.txt", explorer),
        ("ws02", "bob", cmd, "cmd.exe /c dir", explorer),
        ("ws03", "carol", r"C:\Windows\System32\notepad.exe", "notepad.exe todo.txt", explorer),
        ("ws03", "carol", ps, "powershell.exe Get-Process", explorer),
    ]
    for i, (host, user, image, line, parent) in enumerate(processes):
        events.append(_process(len(events) + 1, 1200 + i * 60, host, user, image, line, parent))
    flows = [
        ("10.0.0.21", "93.184.216.34", 443, 5_200),
        ("10.0.0.21", "93.184.216.34", 443, 4_800),
        ("10.0.0.21", "198.51.100.66", 8443, 950_000),
        ("10.0.0.22", "93.184.216.34", 443, 12_000),
        ("10.0.0.23", "10.0.0.5", 445, 300_000),
        ("10.0.0.22", "198.51.100.66", 8443, 4_100),
    ]
    for i, (src, dst, port, sent) in enumerate(flows):
        events.append(_flow(len(events) + 1, 1800 + i * 120, src, dst, port, sent))
    dns = _event(
        len(events) + 1,
        2600,
        event__category=["network"],
        event__type=["protocol"],
        event__action="dns_query",
        event__module="sysmon",
        host__name="ws01",
        user__name="alice",
        dns__question__name="c2.evil.example",
        event__original="QueryName: c2.evil.example QueryStatus: 0",
        QueryName="c2.evil.example",
    )
    events.append(dns)
    logins = [
        ("alice", "IAMUser", "198.51.100.4", True),
        ("root", "Root", attacker, False),
        ("root", "Root", attacker, True),
        ("deploy", "AssumedRole", "192.0.2.10", True),
    ]
    for i, (user, identity, ip, ok) in enumerate(logins):
        events.append(_console_login(len(events) + 1, 3000 + i * 90, user, identity, ip, ok))
    return events


def sample_table() -> pa.Table:
    """The sample events as the store's Arrow table."""
    return EventBatch(sample_events()).to_arrow()
