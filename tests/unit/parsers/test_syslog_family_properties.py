"""Properties: any text gives a valid event or a ParseError from every syslog-family parser.

Texts are drawn both freely and shaped like the formats (a PRI, a BSD or ISO time, a
CEF/LEEF header, an audit record, key=value runs with escapes), so the branches past
the first checks are reached too. Every event returned must pass the model's type
checks, also after the Linux normalizer.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.normalize.linux import normalize_linux
from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext
from heron.parsers.cef import CefParser
from heron.parsers.leef import LeefParser
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.rfc5424 import Rfc5424Parser
from heron.parsers.syslog import SyslogParser

CTX = ParseContext(received=1_704_448_800_000_000_000)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSERS = (
    Rfc3164Parser(),
    Rfc5424Parser(),
    SyslogParser(),
    CefParser(),
    LeefParser(),
    AuditdParser(),
)

PREFIXES = st.sampled_from(
    [
        "",
        "<13>",
        "<34>1 ",
        "<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 ",
        "<0>1 - - - - - ",
        "Jan  5 09:00:00 web01 ",
        "Feb 29 23:59:60.123 h ",
        "2024-01-02T03:04:05.123+01:00 host ",
        "Jan  5 09:00:00 web01 sshd[1]: ",
        "Jan  5 09:00:00 web01 sudo: ",
        "Jan  5 09:00:00 web01 su[2]: ",
        "Jan  5 09:00:00 web01 useradd[3]: ",
        "Jan  5 09:00:00 web01 sshd(pam_unix)[4]: ",
        "Jan  5 09:00:00 web01 sshd[1]: pam_unix(sshd:auth): ",
        "CEF:0|V|P|1|s|n|5|",
        "CEF:0|V|P|1|s|n|",
        "<134>Feb 12 10:11:12 fw CEF:0|V|P|1|s|n|High|",
        "LEEF:1.0|V|P|1|E|",
        "LEEF:2.0|V|P|1|E|",
        "LEEF:2.0|V|P|1|E|x5E|",
        "type=SYSCALL msg=audit(1700000000.001:1): ",
        "node=n type=USER_LOGIN msg=audit(1.2:3): msg='",
        "type=EXECVE msg=audit(1.2:3): argc=3 ",
    ]
)
PIECES = st.sampled_from(
    [
        "=", "|", "\\", "\\=", "\\|", "\\n", " ", "\t", "\x1d", "'", '"', "[", "]", ":", ";",
        "src=", "rt=", "rt=Sep 29 2023 08:26:10 ", "rt=99999999999999999999", "spt=", "dpt=70000",
        "devTime=", "devTimeFormat=", "yyyy-MM-dd", "sev=", "proto=", "cs1Label=", "cs1=",
        "dtz=", "Europe/Berlin", "a0=", "argc=", "proctitle=", "acct=", "addr=", "res=",
        "2001:db8::1", "1.2.3.4", "4294967295", "-1", "0x", "ff", "\u0663", "\ufeff",
        "Accepted password for ", "Failed password for invalid user ", " from ", " port ",
        "session opened for user ", " by ", "(uid=0)", "COMMAND=", "TTY=", "USER=", "rhost=",
        "(to root) ", " on ", "new user: name=", ", UID=", "message repeated 2 times: [ ",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES | st.text(max_size=8), max_size=12).map("".join)


def _check(line: str) -> None:
    for parser in PARSERS:
        try:
            event: dict[str, Any] = parser.parse(line, CTX)
        except ParseError:
            continue
        validate_event(event)
        normalize_linux(event)
        validate_event(event)


@SETTINGS
@given(st.text(max_size=120))
def test_any_text(line: str) -> None:
    _check(line)


@SETTINGS
@given(PREFIXES, TEXT)
def test_text_shaped_like_the_formats(prefix: str, rest: str) -> None:
    _check(prefix + rest)
