"""LEEF specifics: delimiters and ``devTimeFormat`` (Java date patterns, run on RE2)."""

from __future__ import annotations

import pytest

from heron.model.timeutil import format_ns, parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.leef import LeefParser, parse_java_time

CTX = ParseContext(received=parse_timestamp("2024-01-05T10:00:00Z"))


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("Sep 29 2023 08:26:10", "MMM dd yyyy HH:mm:ss", "2023-09-29T08:26:10Z"),
        ("2023-09-29 08:26:10.5", "yyyy-MM-dd HH:mm:ss.S", "2023-09-29T08:26:10.500Z"),
        ("2023-09-29T08:26:10+02:00", "yyyy-MM-dd'T'HH:mm:ssXXX", "2023-09-29T06:26:10Z"),
        ("29/09/23 12:05 AM", "dd/MM/yy hh:mm a", "2023-09-29T00:05:00Z"),
        ("Fri, 29 Sep 2023 08:26:10 GMT", "EEE, dd MMM yyyy HH:mm:ss z", "2023-09-29T08:26:10Z"),
        ("Dec 30 23:00:00", "MMM dd HH:mm:ss", "2023-12-30T23:00:00Z"),
    ],
)
def test_java_time(value: str, fmt: str, expected: str) -> None:
    ns = parse_java_time(value, fmt, CTX)
    assert ns is not None
    assert format_ns(ns) == expected


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("2023-09-29", "yyyy-MM-dd HH:mm"),
        ("x", "qqqq"),
        ("2023", "'unterminated"),
        ("a" * 40, "MMMM" * 20),
        ("2023-02-30 00:00", "yyyy-MM-dd HH:mm"),
    ],
)
def test_java_time_that_does_not_fit_is_none(value: str, fmt: str) -> None:
    assert parse_java_time(value, fmt, CTX) is None


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("^", "^"), ("x5E", "^"), ("0x5E", "^"), ("0x09", "\t"), ("\\t", "\t"), ("", "\t")],
)
def test_leef2_delimiters(header: str, delimiter: str) -> None:
    line = f"LEEF:2.0|V|P|1|E|{header}|src=1.2.3.4{delimiter}dst=5.6.7.8"
    event = LeefParser().parse(line, CTX)
    assert event["leef.delimiter"] == delimiter
    assert event["source.ip"] == "1.2.3.4"
    assert event["destination.ip"] == "5.6.7.8"
