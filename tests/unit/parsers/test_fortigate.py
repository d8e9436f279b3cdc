"""FortiGate records: vendor fields under FortiOS names, times, and refusals."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from heron.errors import ParseError
from heron.model.timeutil import format_ns
from heron.parsers.base import ParseContext
from heron.parsers.fortigate import FortiGateParser

CTX = ParseContext(received=1_717_200_000_000_000_000)
CONFIG = (
    'date=2024-01-15 time=10:31:02 devname="FGT-HQ-01" devid="FG100FTK20001234" '
    'logid="0100044547" type="event" subtype="system" level="information" vd="root" '
    'logdesc="Object attribute configured" user="admin" ui="GUI(10.10.20.5)" action="Add" '
    'cfgpath="firewall.policy" cfgobj="27" msg="Add firewall.policy 27"'
)


def test_vendor_fields_keep_fortios_names_for_sigma() -> None:
    event = FortiGateParser().parse(CONFIG, CTX)
    assert event["action"] == "Add"  # SigmaHQ: action: 'Add', cfgpath: 'firewall.policy'
    assert event["cfgpath"] == "firewall.policy"
    assert event["event.category"] == ["configuration"]
    assert event["user.name"] == "admin"


def test_date_and_time_use_the_tz_pair_then_the_context_zone() -> None:
    with_tz = FortiGateParser().parse(CONFIG + ' tz="+0100"', CTX)
    assert format_ns(with_tz["@timestamp"]) == "2024-01-15T09:31:02Z"
    ctx = ParseContext(received=CTX.received, timezone=timezone(timedelta(hours=-5)))
    without = FortiGateParser().parse(CONFIG, ctx)
    assert format_ns(without["@timestamp"]) == "2024-01-15T15:31:02Z"


@pytest.mark.parametrize(
    ("eventtime", "expected"),
    [
        ("1705310493", "2024-01-15T09:21:33Z"),
        ("1705310493123456", "2024-01-15T09:21:33.123456Z"),
        ("1705310493123456789", "2024-01-15T09:21:33.123456789Z"),
    ],
)
def test_eventtime_in_seconds_microseconds_or_nanoseconds(eventtime: str, expected: str) -> None:
    event = FortiGateParser().parse(f"logid=0000000013 eventtime={eventtime} type=traffic", CTX)
    assert format_ns(event["@timestamp"]) == expected


def test_a_line_that_is_not_fortigate_is_refused() -> None:
    with pytest.raises(ParseError, match="no logid or devid"):
        FortiGateParser().parse("a=1 b=2", CTX)
