"""Golden file of Linux auth/syslog normalization: auth.log lines in, whole events out."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parsers"))

from syslog_family_golden import CONTEXT, GOLDEN, check_golden, run_lines

from heron.model.event import Event
from heron.normalize.linux import normalize_linux
from heron.parsers.syslog import SyslogParser


def _parse_and_normalize(line: str) -> Event:
    event = SyslogParser().parse(line, CONTEXT)
    normalize_linux(event)
    return event


def test_linux_auth_golden() -> None:
    path = GOLDEN / "linux_auth" / "auth.log"
    check_golden(path, run_lines(path, _parse_and_normalize))
