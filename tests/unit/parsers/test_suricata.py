"""Suricata EVE: vendor fields under suricata.eve., syslog-wrapped records, refusals."""

from __future__ import annotations

import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.suricata import SuricataEveParser

CTX = ParseContext(received=1_717_200_000_000_000_000)
ALERT = (
    '{"timestamp":"2024-02-10T14:22:03.512345+0000","event_type":"alert","src_ip":"203.0.113.50",'
    '"src_port":44120,"dest_ip":"10.0.0.12","dest_port":80,"proto":"TCP","alert":{"action":'
    '"blocked","signature_id":2024897,"signature":"ET EXPLOIT x","category":"c","severity":2,'
    '"metadata":{"cve":["CVE_2017_5638"]}}}'
)


def test_vendor_fields_are_kept_flat_under_suricata_eve() -> None:
    event = SuricataEveParser().parse(ALERT, CTX)
    assert event["suricata.eve.alert.signature_id"] == 2024897
    assert event["suricata.eve.alert.metadata.cve"] == ["CVE_2017_5638"]
    assert event["suricata.eve.event_type"] == "alert"
    assert (event["event.kind"], event["rule.id"], event["event.severity"]) == (
        "alert",
        "2024897",
        2,
    )
    assert event["event.type"] == ["denied"]


def test_eve_behind_a_syslog_header() -> None:
    raw = "<134>Feb 10 14:22:03 sensor-01 suricata[812]: " + ALERT
    event = SuricataEveParser().parse(raw, CTX)
    assert event["observer.hostname"] == "sensor-01"
    assert event["source.ip"] == "203.0.113.50"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"timestamp":"2024-02-10T14:22:03Z"}', "no event_type"),
        ("[1, 2]", "no JSON object"),
        ("not json", "no JSON object"),
        ('{"event_type": "alert", ', "invalid JSON"),
    ],
)
def test_refusals(raw: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        SuricataEveParser().parse(raw, CTX)
