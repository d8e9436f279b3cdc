"""Golden files of the syslog family: RFC 3164, RFC 5424, syslog dispatch, CEF, LEEF, auditd."""

from __future__ import annotations

from pathlib import Path

import pytest
from syslog_family_golden import CONTEXT, GOLDEN, check_golden, run_lines

from heron.parsers.auditd import AuditdParser
from heron.parsers.base import Parser
from heron.parsers.cef import CefParser
from heron.parsers.leef import LeefParser
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.rfc5424 import Rfc5424Parser
from heron.parsers.syslog import SyslogParser

PARSERS: dict[str, type[Parser]] = {
    "rfc3164": Rfc3164Parser,
    "rfc5424": Rfc5424Parser,
    "syslog": SyslogParser,
    "cef": CefParser,
    "leef": LeefParser,
    "auditd": AuditdParser,
}


def _cases() -> list[object]:
    return [
        pytest.param(fmt, path, id=f"{fmt}/{path.name}")
        for fmt in PARSERS
        for path in sorted((GOLDEN / fmt).glob("*.log"))
    ]


@pytest.mark.parametrize(("fmt", "path"), _cases())
def test_golden(fmt: str, path: Path) -> None:
    parser = PARSERS[fmt]()
    assert parser.name == fmt
    check_golden(path, run_lines(path, lambda line: parser.parse(line, CONTEXT)))


def test_every_format_has_a_golden_file() -> None:
    for fmt in PARSERS:
        assert list((GOLDEN / fmt).glob("*.log")), f"no golden input for {fmt}"
