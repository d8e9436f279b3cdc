"""PAN-OS CSV records: column names, quoting, layouts, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.panos import LAYOUTS, PanOsParser

CTX = ParseContext(received=1_717_200_000_000_000_000)
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "panos" / "panos-10.log"


def _lines() -> list[str]:
    return GOLDEN.read_text().splitlines()


def test_columns_keep_pan_os_names() -> None:
    event = PanOsParser().parse(_lines()[0], CTX)
    assert (event["src"], event["dst"], event["rule"], event["srcuser"]) == (
        "192.168.10.25",
        "93.184.216.34",
        "allow-web-outbound",
        "corp\\alice",
    )
    assert event["from"] == "trust" and event["session_end_reason"] == "tcp-fin"
    assert "" not in event and "_" not in event  # FUTURE_USE columns are dropped


def test_quoted_column_with_commas_stays_one_value() -> None:
    event = PanOsParser().parse(_lines()[3], CTX)
    assert event["misc"] == "www.bad.example/login.php?user=a,b"
    assert event["url.original"] == "www.bad.example/login.php?user=a,b"
    assert event["category"] == "phishing"


def test_layouts_follow_the_documented_order() -> None:
    traffic, threat = LAYOUTS["TRAFFIC"], LAYOUTS["THREAT"]
    assert traffic.index("src") == 7 and traffic.index("action") == 30
    assert traffic.index("session_end_reason") == 46
    assert threat.index("misc") == 31 and threat.index("threatid") == 32
    assert LAYOUTS["GLOBALPROTECT"].index("public_ip") == 15


def test_config_with_change_details() -> None:
    raw = (
        "1,2024/03/01 12:00:05,007951000123456,CONFIG,0,2561,2024/03/01 12:00:04,10.20.30.40,"
        'vsys1,edit,admin,Web,Succeeded, vsys  vsys1 rulebase security rules  r1,"action: deny",'
        '"action: allow",7290471,0x8000000000000000,0,0,0,0,,PA-3220-edge'
    )
    event = PanOsParser().parse(raw, CTX)
    assert event["before_change_detail"] == "action: deny"
    assert event["after_change_detail"] == "action: allow"
    assert event["device_name"] == "PA-3220-edge"


def test_unknown_type_keeps_the_common_head_and_the_rest() -> None:
    raw = "1,2024/03/01 12:00:05,007951000123456,HIPMATCH,0,2561,2024/03/01 12:00:04,x,y"
    event = PanOsParser().parse(raw, CTX)
    assert event["event.dataset"] == "paloalto.hipmatch"
    assert event["panos.unnamed_fields"] == ["x", "y"]


@pytest.mark.parametrize(
    "raw",
    ["hello, world", "1,2024-03-01 12:00:05,serial,TRAFFIC", '1,2024/03/01 12:00:05,"a'],
)
def test_not_pan_os_is_refused(raw: str) -> None:
    with pytest.raises(ParseError):
        PanOsParser().parse(raw, CTX)
