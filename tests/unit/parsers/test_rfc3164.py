"""RFC 3164 specifics the golden file does not pin: years, zones, the fast path."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from heron.errors import ParseError
from heron.model.timeutil import format_ns, parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.rfc3164 import Rfc3164Parser, split_tag


def _time(line: str, **ctx: object) -> str:
    return format_ns(Rfc3164Parser().parse(line, ParseContext(**ctx))["@timestamp"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("received", "line", "expected"),
    [
        # December read in January: last year.
        ("2025-01-01T00:10:00Z", "Dec 31 23:59:00 h a: x", "2024-12-31T23:59:00Z"),
        # A little ahead of the receiver (clock skew): this year.
        ("2025-01-01T00:10:00Z", "Jan  1 00:20:00 h a: x", "2025-01-01T00:20:00Z"),
        # Same day, earlier.
        ("2025-06-15T12:00:00Z", "Jun 15 11:00:00 h a: x", "2025-06-15T11:00:00Z"),
        # Months ahead of the receiver: last year.
        ("2025-06-15T12:00:00Z", "Sep  1 00:00:00 h a: x", "2024-09-01T00:00:00Z"),
        # Feb 29 goes to the latest leap year at or before receipt.
        ("2025-03-01T00:00:00Z", "Feb 29 10:00:00 h a: x", "2024-02-29T10:00:00Z"),
    ],
)
def test_year_is_the_one_closest_before_receipt(received: str, line: str, expected: str) -> None:
    assert _time(line, received=parse_timestamp(received)) == expected


def test_configured_year_and_zone_win() -> None:
    minus2 = timezone(timedelta(hours=-2))
    assert _time("May 27 11:19:35 h a: x", year=2026, timezone=minus2) == "2026-05-27T13:19:35Z"


def test_zone_with_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    received = parse_timestamp("2024-12-31T00:00:00Z")
    assert (
        _time("Jan 15 12:00:00 h a: x", received=received, timezone=berlin)
        == "2024-01-15T11:00:00Z"
    )
    assert (
        _time("Jul 15 12:00:00 h a: x", received=received, timezone=berlin)
        == "2024-07-15T10:00:00Z"
    )


def test_iso_time_without_zone_takes_the_context_zone() -> None:
    plus1 = timezone(timedelta(hours=1))
    assert _time("2024-01-02T03:04:05 h a: x", timezone=plus1) == "2024-01-02T02:04:05Z"


def test_without_receipt_time_the_clock_gives_the_year() -> None:
    event = Rfc3164Parser().parse("Jan  1 00:00:00 h a: x", ParseContext())
    assert event["@timestamp"] > parse_timestamp("2020-01-01T00:00:00Z")


def test_fast_and_general_paths_agree() -> None:
    parser, ctx = Rfc3164Parser(), ParseContext(received=parse_timestamp("2024-06-01T00:00:00Z"))
    fast = parser.parse("<38>May  3 10:00:00 host sshd[12]: hello", ctx)
    general = parser.parse("<38>May  3 10:00:00.000 host sshd[12]: hello", ctx)
    assert fast == general


def test_context_change_is_noticed_between_lines() -> None:
    parser = Rfc3164Parser()
    line = "Dec 31 23:00:00 h a: x"
    first = parser.parse(line, ParseContext(year=2020))["@timestamp"]
    second = parser.parse(line, ParseContext(year=2021))["@timestamp"]
    assert format_ns(first) == "2020-12-31T23:00:00Z"
    assert format_ns(second) == "2021-12-31T23:00:00Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sshd[12]: msg", ("sshd", "12", "msg")),
        ("postfix/smtpd[7]: msg", ("postfix/smtpd", "7", "msg")),
        ("kernel: msg", ("kernel", None, "msg")),
        ("kernel[0] msg", ("kernel", "0", "msg")),
        ("http://x is down", (None, None, "http://x is down")),
        ("error: disk full", ("error", None, "disk full")),
        ("CEF:0|a", (None, None, "CEF:0|a")),
    ],
)
def test_split_tag(text: str, expected: tuple[str | None, str | None, str]) -> None:
    assert split_tag(text) == expected


def test_unicode_digits_are_not_numbers() -> None:
    with pytest.raises(ParseError):
        Rfc3164Parser().parse("<\u0661\u0663>Jan  1 00:00:00 h a: x", ParseContext())
    event = Rfc3164Parser().parse("Jan  1 00:00:00 h a[\u0661\u0662]: x", ParseContext(year=2024))
    assert "process.pid" not in event
    assert event["log.syslog.procid"] == "\u0661\u0662"
