"""GCP audit log entries: protoPayload names, authorization checks, Pub/Sub wrapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.gcp import GcpAuditParser

CTX = ParseContext(received=1_717_200_000_000_000_000)
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def test_gcp_keeps_proto_payload_names_and_lists_authorization_checks() -> None:
    raw = (GOLDEN / "gcp_audit" / "audit.json").read_text().splitlines()[0]
    event = GcpAuditParser().parse(raw, CTX)
    assert event["protoPayload.methodName"] == "v1.compute.firewalls.insert"
    assert event["gcp.audit.method_name"] == "v1.compute.firewalls.insert"
    assert event["protoPayload.authorizationInfo.permission"] == [
        "compute.firewalls.create",
        "compute.networks.updatePolicy",
    ]
    assert event["protoPayload.authorizationInfo.granted"] == [True, True]
    wrapped = GcpAuditParser().parse(
        (GOLDEN / "gcp_audit" / "audit.json").read_text().splitlines()[2], CTX
    )
    assert wrapped["data.protoPayload.serviceName"] == "iam.googleapis.com"
    assert "source.ip" not in wrapped  # callerIp "gce-internal-ip" is no address
    with pytest.raises(ParseError, match="no protoPayload"):
        GcpAuditParser().parse('{"jsonPayload": {}}', CTX)
