"""Microsoft 365 unified audit records: ClientIP forms and Wazuh's real lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.parsers.base import ParseContext
from heron.parsers.o365 import Office365Parser

CTX = ParseContext(received=1_717_200_000_000_000_000)


@pytest.mark.parametrize(
    ("client_ip", "address", "port"),
    [
        ("198.51.100.61", "198.51.100.61", None),
        ("198.51.100.61:50123", "198.51.100.61", 50123),
        ("[2001:db8::44]:443", "2001:db8::44", 443),
        ("2001:db8::44", "2001:db8::44", None),
    ],
)
def test_o365_client_ip_forms(client_ip: str, address: str, port: int | None) -> None:
    raw = json.dumps({"Operation": "FileAccessed", "Workload": "OneDrive", "ClientIP": client_ip})
    event = Office365Parser().parse(raw, CTX)
    assert event["source.ip"] == address
    assert event.get("source.port") == port


def test_wazuh_office365_lines(corpora: Path) -> None:
    path = corpora / "logs" / "wazuh" / "office365.ini"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    lines = re.findall(r"^log \d+ pass = (.*)$", path.read_text(), re.M)
    parsed = refused = 0
    for raw in lines:
        try:
            event = Office365Parser().parse(raw, CTX)
        except ParseError:
            # Wazuh's own module messages ({"integration": ..., "office365": {"actor": ...}})
            # carry no audit record.
            assert "Operation" not in raw and "Workload" not in raw
            refused += 1
            continue
        validate_event(event)
        parsed += 1
        record = json.loads(raw)["office365"]
        for key in ("Workload", "Operation", "UserId", "RecordType"):
            if key in record:
                assert event[key] == record[key]
        if "Operation" in record:
            assert event["event.action"] == record["Operation"]
        assert event["event.module"] == "m365"
    assert parsed > 100 and refused <= 5
