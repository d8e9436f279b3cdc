"""Apache httpd error log lines: loghub's 2,000 real lines, Wazuh's, ModSecurity alerts."""

from __future__ import annotations

import csv
import re
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.model.timeutil import parse_timestamp
from heron.parsers import detect_line_format
from heron.parsers.apache_error import ApacheErrorParser
from heron.parsers.base import ParseContext

CTX = ParseContext(received=1_717_200_000_000_000_000)
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "apache_error" / "error.log"


def test_loghub_lines_agree_with_loghubs_structured_reading(corpora: Path) -> None:
    folder = corpora / "logs" / "loghub" / "Apache"
    if not (folder / "Apache_2k.log").is_file():
        pytest.skip("loghub Apache sample not in the corpus")
    lines = (folder / "Apache_2k.log").read_text(encoding="utf-8").splitlines()
    with (folder / "Apache_2k.log_structured.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(lines) == len(rows) == 2000
    for line, row in zip(lines, rows, strict=True):
        assert detect_line_format(line) == "apache_error", line
        event = ApacheErrorParser().parse(line, CTX)
        validate_event(event)
        assert event["log.level"] == row["Level"]
        # loghub keeps "[client …]" in the content; Heron reads it into source.*.
        client = re.match(r"\[client ([^\]]+)\] ", row["Content"])
        if client:
            assert event["source.ip"] == client.group(1)
        assert event["message"] == row["Content"][client.end() if client else 0 :]
        when = re.sub(r"^\w+ (\w+) (\d+) ([\d:]+) (\d+)$", r"\4-\1-\2 \3", row["Time"])
        month = "JanFebMarAprMayJunJulAugSepOctNovDec".index(when[5:8]) // 3 + 1
        iso = f"{when[:4]}-{month:02d}-{int(when[9:11]):02d}T{when[12:]}Z"
        assert event["@timestamp"] == parse_timestamp(iso)


def test_wazuh_lines_by_meaning(corpora: Path) -> None:
    path = corpora / "logs" / "wazuh" / "apache.ini"
    if not path.is_file():
        pytest.skip("apache.ini not in the corpus")
    lines = re.findall(r"^log \d+ pass = (.*)$", path.read_text(encoding="utf-8"), re.M)
    assert len(lines) >= 10
    for line in lines:
        event = ApacheErrorParser().parse(line, CTX)
        validate_event(event)
        level = re.search(r"\[(?:\w*:)?(\w+)\] ", line)
        assert level is not None and event["log.level"] == level.group(1)
        client = re.search(r"\[client ([\d.]+)", line)
        if client:
            assert event["source.ip"] == client.group(1)


def test_modsecurity_alert_fields() -> None:
    denied, warning = [x for x in GOLDEN.read_text().splitlines() if "ModSecurity" in x]
    event = ApacheErrorParser().parse(denied, CTX)
    assert event["modsecurity.id"] == "942100"
    assert event["modsecurity.severity"] == "CRITICAL"
    assert event["modsecurity.tag"] == ["application-multi", "attack-sqli", "paranoia-level/1"]
    assert event["modsecurity.hostname"] == "www.example.com"
    assert event["modsecurity.data"] == "Matched Data: s&sos found within ARGS:user: 1' or '1'='1"
    assert event["modsecurity.unique_id"] == "ZfGxAAAAAAAAAAAA"
    assert event["source.ip"] == "203.0.113.9"  # the repeated [client …] read once
    assert "event.outcome" not in ApacheErrorParser().parse(warning, CTX)


def test_local_time_follows_the_timezone() -> None:
    line = "[Wed Oct 11 14:32:52 2023] [error] [client 192.0.2.10] denied"
    plus_two = ParseContext(received=1, timezone=timezone(timedelta(hours=2)))
    assert ApacheErrorParser().parse(line, plus_two)["@timestamp"] == parse_timestamp(
        "2023-10-11T12:32:52Z"
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[Wed Oct 11 14:32:52 2023] client denied", "no Apache error log level"),
        ("[Wed Foo 11 14:32:52 2023] [error] x", "unknown month"),
        ("[Wed Oct 41 14:32:52 2023] [error] x", "bad timestamp"),
        ("just text", "no Apache error log level"),
    ],
)
def test_bad_lines_are_parse_errors(line: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        ApacheErrorParser().parse(line, CTX)
