"""Vendor format sniffing: every golden record is recognised as its own format."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.parsers.azure import iter_azure_records
from heron.parsers.sniff import sniff_vendor_format
from heron.parsers.zeek import iter_zeek_tsv_records

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
# Golden sets whose records sniff as a more general name than their directory.
EXPECTED = {"apache_access": "web_access", "nginx_access": "web_access"}


def _records(fmt: str) -> list[str]:
    out: list[str] = []
    for path in sorted((GOLDEN / fmt).glob("*")):
        if path.name.endswith(".expected.json"):
            continue
        text = path.read_text()
        if fmt == "zeek" and path.suffix == ".log":
            out.extend(iter_zeek_tsv_records(text.splitlines()))
        elif fmt == "azure":
            out.extend(iter_azure_records(text.encode()))
        else:
            out.extend(line for line in text.splitlines() if line.strip())
    return out


@pytest.mark.parametrize(
    "fmt",
    [
        "fortigate", "cisco_asa", "panos", "apache_access", "nginx_access", "suricata",
        "zeek", "azure", "gcp_audit", "okta", "o365", "otel_genai",
    ],
)  # fmt: skip
def test_golden_records_sniff_as_their_format(fmt: str) -> None:
    for record in _records(fmt):
        assert sniff_vendor_format(record) == EXPECTED.get(fmt, fmt), record[:80]


@pytest.mark.parametrize(
    "record",
    [
        "",
        '{"@timestamp": "2024-01-01T00:00:00Z", "message": "hello"}',
        "Jan  1 00:00:00 host sshd[1]: Accepted password for bob from 10.0.0.1 port 22 ssh2",
        "CEF:0|Acme|Fw|1|100|x|5|src=10.0.0.1",
        "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e",
        "a=1 b=2",
    ],
)
def test_other_records_are_left_to_the_generic_formats(record: str) -> None:
    assert sniff_vendor_format(record) is None


_CLOUDTRAIL_LINE = (
    '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},'
    '"eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com",'
    '"eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7"}'
)


def test_a_cloudtrail_record_on_its_own_line_is_cloudtrail() -> None:
    assert sniff_vendor_format(_CLOUDTRAIL_LINE) == "cloudtrail"
    assert sniff_vendor_format(_CLOUDTRAIL_LINE.replace("{", "{ ", 1)) == "cloudtrail"


def test_a_wrapped_cloudtrail_record_stays_generic_json() -> None:
    wrapped = '{"integration":"aws","aws":' + _CLOUDTRAIL_LINE + "}"
    assert sniff_vendor_format(wrapped) is None
