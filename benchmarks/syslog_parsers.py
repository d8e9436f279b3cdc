"""Single-core throughput of the syslog-family parsers and the Linux normalizer.

Lines come from the loghub Linux and OpenSSH samples (../shared/corpora) when present,
else from a built-in set; CEF and LEEF lines are generated (3 to 22 extension keys).
Each figure is the best of ``--repeat`` runs, so other load on the machine shows less.

Prints one JSON object: {"<name>": {"lines": N, "lines_per_s": R}, ..., "calibration_ns": C}
where C is the time of ``sum(range(100))`` here (about 400-600 ns on a current laptop
core), to compare machines.

Usage: python benchmarks/syslog_parsers.py [--repeat 5] [--copies 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from heron.errors import ParseError
from heron.model.event import Event
from heron.normalize.linux import normalize_linux
from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext
from heron.parsers.cef import CefParser
from heron.parsers.leef import LeefParser
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.rfc5424 import Rfc5424Parser
from heron.parsers.syslog import SyslogParser

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "logs" / "loghub"
FALLBACK = [
    "Jan  5 09:00:01 web01 sshd[1001]: Accepted password for alice from 10.0.0.5 port 5231 ssh2",
    "Jan  5 09:00:04 web01 sshd[1004]: Failed password for root from 203.0.113.9 port 4242 ssh2",
    "Jan  5 09:01:01 web01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/id",
    "Jan  5 09:04:01 web01 systemd-logind[501]: New session 42 of user alice.",
]


def _syslog_lines() -> list[str]:
    lines: list[str] = []
    for name in ("Linux", "OpenSSH"):
        path = CORPORA / name / f"{name}_2k.log"
        if path.exists():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines or FALLBACK * 500


def _cef_lines(count: int) -> list[str]:
    rng = random.Random(7)
    extras = [
        "cs1Label=Rule cs1=allow-dns",
        "suser=bob duser=alice",
        "request=https://example.com/a?b=c requestMethod=GET",
        "rt=Sep 29 2023 08:26:10 GMT",
        "msg=Connection denied by policy act=blocked outcome=failure",
        "in=1200 out=340 cat=traffic deviceExternalId=fw-01",
        "fileHash=3395856ce81f2b7382dee72602f798b642f14140 fname=a.exe",
    ]
    lines = []
    for i in range(count):
        ext = f"src=10.0.{i % 250}.{rng.randint(1, 250)} spt={rng.randint(1024, 65535)} "
        ext += f"dst=192.168.1.{rng.randint(1, 250)} dpt=443 proto=TCP rt={1700000000000 + i}"
        for extra in rng.sample(extras, rng.randint(0, 4)):
            ext += " " + extra
        lines.append(f"CEF:0|Acme|Firewall|1.2|100|Connection|{rng.randint(0, 10)}|{ext}")
    return lines


def _leef_lines(count: int) -> list[str]:
    return [
        f"LEEF:1.0|Acme|Proxy|1.0|allow|src=10.0.0.{i % 250}\tdst=192.0.2.{i % 200}\t"
        f"srcPort={1024 + i % 60000}\tdstPort=443\tusrName=user{i % 50}\tproto=6\tsev=3"
        for i in range(count)
    ]


def _auditd_lines(count: int) -> list[str]:
    return [
        f"type=USER_LOGIN msg=audit(1700000000.{i % 1000:03d}:{i}): pid={1000 + i} uid=0 "
        'auid=4294967295 ses=4294967295 msg=\'op=login acct="root" exe="/usr/sbin/sshd" '
        f"hostname=? addr=203.0.113.{i % 250} terminal=ssh res=failed'"
        for i in range(count)
    ]


def _rfc5424_lines(count: int) -> list[str]:
    return [
        f"<165>1 2024-01-02T03:04:{i % 60:02d}.123456Z host{i % 20} app {i} ID47 "
        f'[exampleSDID@32473 iut="3" eventSource="Application" eventID="{i}"] message {i}'
        for i in range(count)
    ]


def _best_rate(parse: Callable[[str], object], lines: list[str], repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for line in lines:
            with contextlib.suppress(ParseError):
                parse(line)
        best = max(best, len(lines) / (time.perf_counter() - start))
    return best


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--repeat", type=int, default=5)
    cli.add_argument("--copies", type=int, default=20, help="copies of the 4000 loghub lines")
    args = cli.parse_args()
    ctx = ParseContext(received=time.time_ns())
    syslog_lines = _syslog_lines() * args.copies
    n = len(syslog_lines)
    rfc3164, syslog, rfc5424 = Rfc3164Parser(), SyslogParser(), Rfc5424Parser()
    cef, leef, auditd = CefParser(), LeefParser(), AuditdParser()

    def syslog_and_linux(line: str) -> Event:
        event = syslog.parse(line, ctx)
        normalize_linux(event)
        return event

    runs: dict[str, tuple[Callable[[str], object], list[str]]] = {
        "rfc3164": (lambda line: rfc3164.parse(line, ctx), syslog_lines),
        "syslog": (lambda line: syslog.parse(line, ctx), syslog_lines),
        "syslog+normalize_linux": (syslog_and_linux, syslog_lines),
        "rfc5424": (lambda line: rfc5424.parse(line, ctx), _rfc5424_lines(n // 4)),
        "cef": (lambda line: cef.parse(line, ctx), _cef_lines(n // 4)),
        "leef": (lambda line: leef.parse(line, ctx), _leef_lines(n // 4)),
        "auditd": (lambda line: auditd.parse(line, ctx), _auditd_lines(n // 4)),
    }
    result: dict[str, object] = {}
    for name, (parse, lines) in runs.items():
        rate = _best_rate(parse, lines, args.repeat)
        result[name] = {"lines": len(lines), "lines_per_s": round(rate)}
    calibration = min(timeit.repeat("sum(range(100))", number=20000, repeat=5)) / 20000
    result["calibration_ns"] = round(calibration * 1e9)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
