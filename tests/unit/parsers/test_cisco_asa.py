"""Cisco ASA messages: endpoints, the handled message ids, and Wazuh's real ASA lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.parsers.base import ParseContext
from heron.parsers.cisco_asa import CiscoAsaParser, parse_endpoint

CTX = ParseContext(received=1_717_200_000_000_000_000)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("outside:10.1.1.1/80", ("outside", "10.1.1.1", 80)),
        ("inside:2001:db8::1/443", ("inside", "2001:db8::1", 443)),
        ("10.1.1.1/80", (None, "10.1.1.1", 80)),
        ("outside/10.1.1.1(443)", ("outside", "10.1.1.1", 443)),
        ("outside:192.168.2.14/ssh", ("outside", "192.168.2.14", None)),
        ("dmz:web-server/8080", ("dmz", "web-server", 8080)),
        ("2001:db8::9", (None, "2001:db8::9", None)),
    ],
)
def test_endpoint_tokens(token: str, expected: tuple[object, ...]) -> None:
    assert parse_endpoint(token) == expected


def test_malformed_tag_and_missing_tag_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="malformed tag"):
        CiscoAsaParser().parse("%ASA-x-302013: Built", CTX)
    with pytest.raises(ParseError, match="no %ASA- tag"):
        CiscoAsaParser().parse("Jan 1 host sshd[1]: hello", CTX)


def _wazuh_cases(corpora: Path) -> list[tuple[str, str]]:
    path = corpora / "logs" / "wazuh" / "cisco_asa.ini"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    cases, title = [], ""
    for line in path.read_text().splitlines():
        if line.startswith("["):
            title = line.strip("[]")
        elif re.match(r"log \d+ pass = ", line):
            cases.append((title, line.split(" pass = ", 1)[1]))
    return cases


def test_every_real_asa_line_parses(corpora: Path) -> None:
    cases = _wazuh_cases(corpora)
    assert len(cases) > 80
    for _title, raw in cases:
        event = CiscoAsaParser().parse(raw, CTX)
        validate_event(event)
        assert event["event.code"].isdigit()
        assert event["observer.product"] == "ASA"


def test_real_lines_mean_what_their_titles_say(corpora: Path) -> None:
    by_title: dict[str, list[dict[str, object]]] = {}
    for title, raw in _wazuh_cases(corpora):
        by_title.setdefault(title, []).append(CiscoAsaParser().parse(raw, CTX))
    failed = by_title["cisco asa: Failed login attempt"][0]
    assert (failed["event.outcome"], failed["user.name"], failed["source.ip"]) == (
        "failure",
        "root",
        "192.168.2.10",
    )
    ok = by_title["cisco asa: Successful login"][0]
    assert (ok["event.outcome"], ok["user.name"]) == ("success", "username")
    aaa_fail = by_title["cisco asa: AAA (VPN) authentication failed"][0]
    assert (aaa_fail["event.outcome"], aaa_fail["source.ip"]) == ("failure", "192.168.0.1")
    aaa_ok = by_title["cisco asa: AAA (VPN) authentication successful"][0]
    assert aaa_ok["event.outcome"] == "success"
    deny = by_title["cisco asa: warning message"][1]  # 106023
    assert (deny["event.action"], deny["rule.name"], deny["destination.port"]) == (
        "deny",
        "inside_inbound",
        139,
    )
    dated = by_title["cisco asa: warning message"][20]  # "Oct 03 2018 17:34:08: %ASA-4-106023"
    assert dated["@timestamp"] == 1_538_588_048_000_000_000
    assert dated["destination.address"] == "Server_Windows"
    privilege = by_title["cisco asa: Privilege changed"][0]
    assert privilege["user.name"] == "impssnagios"


def test_rfc5424_header_in_front() -> None:
    raw = (
        "<166>1 2024-01-15T10:00:01.123Z asa-edge - - - - %ASA-6-106023: Deny tcp src "
        'outside:198.51.100.4/5000 dst inside:10.0.0.1/22 by access-group "outside_in"'
    )
    event = CiscoAsaParser().parse(raw, CTX)
    assert event["@timestamp"] == 1_705_312_801_123_000_000
    assert (event["observer.name"], event["source.ip"]) == ("asa-edge", "198.51.100.4")
