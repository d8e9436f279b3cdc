"""The vendor parsers name their events so that Sigma rules of the matching log source
reach them (``heron.detect.sigma.logsource``): one golden record per log source."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.detect.sigma.ir import LogSource
from heron.detect.sigma.logsource import route_for, signature
from heron.parsers import get_parser
from heron.parsers.azure import iter_azure_records
from heron.parsers.base import ParseContext
from heron.parsers.zeek import iter_zeek_tsv_records

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CTX = ParseContext(received=1_717_200_000_000_000_000)


def _first(fmt: str, name: str, index: int = 0) -> dict[str, object]:
    path = GOLDEN / fmt / name
    text = path.read_text()
    if fmt == "zeek" and name.endswith(".log"):
        records = list(iter_zeek_tsv_records(text.splitlines()))
    elif fmt == "azure":
        records = list(iter_azure_records(text.encode()))
    else:
        records = [line for line in text.splitlines() if line.strip()]
    return get_parser(fmt).parse(records[index], CTX)


CASES = [
    ("okta", "system.json", 0, LogSource(product="okta", service="okta")),
    ("azure", "records.json", 0, LogSource(product="azure", service="activitylogs")),
    ("azure", "records.json", 1, LogSource(product="azure", service="signinlogs")),
    ("azure", "records.json", 2, LogSource(product="azure", service="auditlogs")),
    ("gcp_audit", "audit.json", 0, LogSource(product="gcp", service="gcp.audit")),
    ("o365", "audit.json", 0, LogSource(product="m365", service="audit")),
    ("zeek", "dns.log", 0, LogSource(product="zeek", service="dns")),
    ("zeek", "zeek.json", 0, LogSource(product="zeek", service="http")),
    ("fortigate", "fortios-7.log", 3, LogSource(product="fortigate", service="event")),
    ("fortigate", "fortios-7.log", 0, LogSource(category="firewall")),
    ("cisco_asa", "asa-9.log", 4, LogSource(category="firewall")),
    ("panos", "panos-10.log", 0, LogSource(category="firewall")),
    ("panos", "panos-10.log", 6, LogSource(product="paloalto", service="globalprotect")),
    ("apache_access", "combined.log", 0, LogSource(category="webserver")),
    ("nginx_access", "combined.log", 0, LogSource(category="webserver")),
    ("suricata", "eve.json", 1, LogSource(category="dns")),
    ("zeek", "dns.log", 0, LogSource(category="dns")),
]


@pytest.mark.parametrize(("fmt", "name", "index", "logsource"), CASES)
def test_sigma_log_source_reaches_the_event(
    fmt: str, name: str, index: int, logsource: LogSource
) -> None:
    event = _first(fmt, name, index)
    assert route_for(logsource, signature(event)) is not None


def test_other_products_do_not_reach_the_event() -> None:
    event = _first("okta", "system.json")
    assert route_for(LogSource(product="azure", service="signinlogs"), signature(event)) is None
