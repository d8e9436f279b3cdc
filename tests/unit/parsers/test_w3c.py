"""W3C extended logs (IIS): the reader keeps the #Fields: header, the parser maps to ECS."""

from __future__ import annotations

import orjson
import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.w3c import W3cParser, W3cReader

CTX = ParseContext(received=1)


def test_directives_name_the_fields_and_a_new_header_replaces_them() -> None:
    reader = W3cReader()
    assert reader.feed("#Software: Microsoft Internet Information Services 10.0\r\n") is None
    with pytest.raises(ParseError, match="before its #Fields"):
        reader.feed("2026-11-27 10:00:01 GET /")
    assert reader.feed("#Fields: date time cs-method cs-uri-stem cs(User-Agent)") is None
    assert reader.feed("2026-11-27 10:00:01 GET / Mozilla/5.0+(X11)") == {
        "date": "2026-11-27",
        "time": "10:00:01",
        "cs-method": "GET",
        "cs-uri-stem": "/",
        "c-useragent": "Mozilla/5.0+(X11)",  # the name SigmaHQ's webserver rules use
    }
    with pytest.raises(ParseError, match="4 values where #Fields: names 5"):
        reader.feed("2026-11-27 10:00:01 GET /")
    reader.feed("#Fields: date time c-ip cs-username")
    assert reader.feed("2026-11-27 10:00:02 192.0.2.1 -") == {
        "date": "2026-11-27",
        "time": "10:00:02",
        "c-ip": "192.0.2.1",  # "-" is W3C's empty value: left out
    }


def test_a_record_gets_ecs_fields_and_keeps_its_w3c_names() -> None:
    record = {
        "date": "2026-11-27",
        "time": "10:00:01",
        "s-ip": "10.0.0.5",
        "cs-method": "POST",
        "cs-uri-stem": "/owa/auth.owa",
        "s-port": "443",
        "cs-username": "CORP\\alice",
        "c-ip": "::ffff:203.0.113.9",
        "sc-status": "401",
        "cs-version": "HTTP/1.1",
        "time-taken": "31",
    }
    event = W3cParser().parse(orjson.dumps(record).decode(), CTX)
    assert event["cs-uri-stem"] == "/owa/auth.owa"
    assert event["source.ip"] == "203.0.113.9"
    assert event["user.name"] == "CORP\\alice"
    assert (event["http.response.status_code"], event["event.outcome"]) == (401, "failure")
    assert event["http.version"] == "1.1"
    assert event["event.duration"] == 31_000_000
    assert event["related.ip"] == ["203.0.113.9", "10.0.0.5"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2026-11-27 10:00:01 GET /", "read W3C files with their #Fields: header"),
        ('{"date": 5}', "object of text fields"),
        ('{"date": "2026-13-45", "time": "10:00:01"}', "bad date/time"),
    ],
)
def test_bad_records_are_parse_errors(raw: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        W3cParser().parse(raw, CTX)
