"""Apache and nginx access logs, checked against Elastic's expected documents and Wazuh's lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.model.timeutil import format_ns, parse_timestamp
from heron.parsers import detect_line_format
from heron.parsers.base import ParseContext
from heron.parsers.web_access import ApacheAccessParser, NginxAccessParser

CTX = ParseContext(received=1_717_200_000_000_000_000)


def test_escaped_quotes_ipv6_and_request_time() -> None:
    raw = (
        '2001:db8::1 - bob [10/Oct/2000:13:55:36 -0700] "GET /a\\"b?x=1 HTTP/1.1" 200 - "-" '
        '"Mozilla \\"quoted\\" agent" 0.123'
    )
    event = NginxAccessParser().parse(raw, CTX)
    assert event["source.ip"] == "2001:db8::1"
    assert event["user.name"] == "bob"
    assert event["url.path"] == '/a"b' and event["url.query"] == "x=1"
    assert event["user_agent.original"] == 'Mozilla "quoted" agent'
    assert event["event.duration"] == 123_000_000
    assert "http.response.body.bytes" not in event and "http.request.referrer" not in event
    assert format_ns(event["@timestamp"]) == "2000-10-10T20:55:36Z"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain text",
        '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 12',
        '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1 200 12',
        '1.2.3.4 - - [99/Zzz/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 12',
    ],
)
def test_broken_lines_are_parse_errors(raw: str) -> None:
    with pytest.raises(ParseError):
        ApacheAccessParser().parse(raw, CTX)


def test_elastic_apache_ssl_request_expectations(corpora: Path) -> None:
    base = corpora / "logs/elastic/packages/apache/data_stream/access/_dev/test/pipeline"
    log = base / "test-access-ssl-request.log"
    if not log.is_file():
        pytest.skip(f"{log} not present")
    expected = json.loads((base / (log.name + "-expected.json")).read_text())["expected"]
    lines = log.read_text().splitlines()
    assert len(lines) == len(expected)
    for raw, doc in zip(lines, expected, strict=True):
        assert detect_line_format(raw) == "web_access"  # found without --format
        event = ApacheAccessParser().parse(raw, CTX)
        assert event["@timestamp"] == parse_timestamp(doc["@timestamp"])
        assert event["source.ip"] == doc["source"]["ip"]
        assert event["http.request.method"] == doc["http"]["request"]["method"]
        assert event["http.version"] == doc["http"]["version"]
        assert event["url.original"] == doc["url"]["original"]
        assert event["url.path"] == doc["url"]["path"]
        assert event["url.extension"] == doc["url"]["extension"]
        assert event["event.category"] == doc["event"]["category"]
        for key in ("cipher", "version", "version_protocol"):
            assert event[f"tls.{key}"] == doc["tls"][key]
        body = doc["http"].get("response", {}).get("body", {}).get("bytes")
        assert event.get("http.response.body.bytes") == body
        # Elastic percent-decodes url.query; Heron keeps it as sent (see the module doc).
        assert "%7B" in event["url.query"]


def test_wazuh_access_lines(corpora: Path) -> None:
    path = corpora / "logs" / "wazuh" / "web_rules.ini"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    lines = [
        m.group(1) for m in re.finditer(r"^log \d+ (?:pass|fail) = (.*)$", path.read_text(), re.M)
    ]
    access = [line for line in lines if "[" in line and '"' in line and "W3SVC" not in line]
    assert len(access) >= 5
    for raw in access:
        event = NginxAccessParser().parse(raw, CTX)
        assert event["event.category"] == ["web"]
        assert "source.ip" in event
        status = event["http.response.status_code"]
        assert event["event.outcome"] == ("failure" if status >= 400 else "success")
    sqli = NginxAccessParser().parse(access[-1], CTX)
    assert "pg_sleep" in sqli["url.query"]
    assert sqli["url.domain"] == "www.example.com" and sqli["url.port"] == 80
    mapped = NginxAccessParser().parse(next(line for line in access if "::ffff:" in line), CTX)
    assert mapped["source.ip"] == "202.194.15.192"
    assert mapped["host.name"] == "web01"
    for iis in (line for line in lines if line not in access):
        with pytest.raises(ParseError):
            NginxAccessParser().parse(iis, CTX)
