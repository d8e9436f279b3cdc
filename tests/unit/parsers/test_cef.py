"""CEF specifics: extension splitting, escapes, times, labels; Elastic's CEF test lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.model.event import validate_event
from heron.model.timeutil import format_ns, parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.cef import CefParser, parse_cef_time, parse_extension, split_header

CTX = ParseContext(received=parse_timestamp("2024-01-05T10:00:00Z"))


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("a=1 b=2", [("a", "1"), ("b", "2")]),
        ("msg=hello world foo=bar  baz", [("msg", "hello world"), ("foo", "bar  baz")]),
        (r"a=x\=y b=c", [("a", "x=y"), ("b", "c")]),
        (r"a=c\\ b=2", [("a", "c\\"), ("b", "2")]),
        (r"a=line\nbreak\rret", [("a", "line\nbreak\rret")]),
        ("url=http://h/?q=1&r=2 x=1", [("url", "http://h/?q=1&r=2"), ("x", "1")]),
        ("x=foo =bar", [("x", "foo =bar")]),
        ("junk before a=1", [("a", "1")]),
        ("a=1\tb=2", [("a", "1"), ("b", "2")]),
        ("ad.Key[0]=v a-b=w", [("ad.Key[0]", "v"), ("a-b", "w")]),
        ("a=1   ", [("a", "1")]),
        ("", []),
        ("no pairs here", []),
    ],
)
def test_parse_extension(text: str, pairs: list[tuple[str, str]]) -> None:
    assert parse_extension(text) == pairs


def test_split_header_unescapes_only_the_header() -> None:
    header, extension = split_header(r"0|V\|x|P\\y|1|s|n|5|msg=a\|b")
    assert header == ["0", "V|x", "P\\y", "1", "s", "n", "5"]
    assert extension == r"msg=a\|b"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000000123", "2023-11-14T22:13:20.123Z"),
        ("1700000000", "2023-11-14T22:13:20Z"),
        ("Sep 29 2023 08:26:10", "2023-09-29T08:26:10Z"),
        ("Sep 29 2023 08:26:10.5 +0200", "2023-09-29T06:26:10.500Z"),
        ("Sep 29 2023 08:26:10 CEST", "2023-09-29T06:26:10Z"),
        ("Dec 31 23:00:00", "2023-12-31T23:00:00Z"),
        ("2023-09-29T08:26:10.123456Z", "2023-09-29T08:26:10.123456Z"),
    ],
)
def test_cef_times(value: str, expected: str) -> None:
    ns = parse_cef_time(value, CTX)
    assert ns is not None
    assert format_ns(ns) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "Foo 29 2023 08:26:10", "Sep 31 2023 08:26:10"])
def test_bad_cef_times_are_none(value: str) -> None:
    assert parse_cef_time(value, CTX) is None


def test_unparsable_rt_keeps_the_raw_value_and_the_receipt_time() -> None:
    event = CefParser().parse("CEF:0|V|P|1|s|n|5|rt=sometime src=1.2.3.4", CTX)
    assert event["rt"] == "sometime"
    assert event["@timestamp"] == CTX.received


def test_a_label_never_replaces_a_field() -> None:
    event = CefParser().parse("CEF:0|V|P|1|s|n|5|cs1Label=src cs1=evil src=1.2.3.4", CTX)
    assert event["src"] == "1.2.3.4"
    assert event["source.ip"] == "1.2.3.4"


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("0", 0), ("10", 10), ("Low", 3), ("medium", 6), ("HIGH", 8), ("Very-High", 10), ("11", None)],
)
def test_severity(severity: str, expected: int | None) -> None:
    event = CefParser().parse(f"CEF:0|V|P|1|s|n|{severity}|", CTX)
    assert event.get("event.severity") == expected


def test_elastic_cef_lines(corpora: Path) -> None:
    path = corpora / "logs/elastic/packages/cef/data_stream/log/_dev/test/pipeline/test-cef.log"
    if not path.exists():
        pytest.skip("Elastic CEF test lines absent")
    for line in path.read_text().split("\n"):
        if not line:
            continue
        event = CefParser().parse(line, CTX)
        validate_event(event)
        assert event["observer.vendor"] == "Elastic"
        assert event["event.code"] == "18"
        for raw, ecs in (("src", "source.ip"), ("dst", "destination.ip"), ("suser", "user.name")):
            if raw in event:
                assert event[ecs] == event[raw]
        for raw, ecs in (("spt", "source.port"), ("dpt", "destination.port")):
            if raw in event:
                assert event[ecs] == int(event[raw])
        assert not any(str(v).endswith(" ") for v in event.values() if isinstance(v, str))
