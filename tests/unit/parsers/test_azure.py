"""Azure records, checked against Elastic's expected document where the corpus has one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.model.timeutil import parse_timestamp
from heron.parsers.azure import AzureParser, iter_azure_records
from heron.parsers.base import ParseContext

CTX = ParseContext(received=1_717_200_000_000_000_000)


def test_elastic_sign_in_expectations(corpora: Path) -> None:
    base = corpora / "logs/elastic/packages/azure/data_stream/activitylogs/_dev/test/pipeline"
    log = base / "test-activitylogs-identity.log"
    if not log.is_file():
        pytest.skip(f"{log} not present")
    (doc,) = json.loads((base / (log.name + "-expected.json")).read_text())["expected"]
    event = AzureParser().parse(log.read_text().strip(), CTX)
    # Elastic rounds to milliseconds; Heron keeps the record's 100 ns digits.
    assert event["@timestamp"] // 1_000_000 == parse_timestamp(doc["@timestamp"]) // 1_000_000
    assert event["event.action"] == doc["event"]["action"]
    assert event["event.duration"] == doc["event"]["duration"]
    assert event["source.ip"] == doc["source"]["ip"] == event["client.ip"]
    assert event["cloud.provider"] == doc["cloud"]["provider"]
    assert event["azure.resource.id"] == doc["azure"]["resource"]["id"]
    assert event["azure.resource.provider"] == doc["azure"]["resource"]["provider"]
    assert event["azure.correlation_id"] == doc["azure"]["correlation_id"]
    assert event["azure.tenant_id"] == doc["azure"]["activitylogs"]["tenant_id"]
    props = doc["azure"]["activitylogs"]["properties"]
    assert event["properties.userPrincipalName"] == props["userPrincipalName"]
    assert event["properties.status.errorCode"] == props["status"]["errorCode"]
    # Beyond Elastic: a sign-in category gives authentication, outcome and the record's place.
    assert event["event.dataset"] == "azure.signinlogs"
    assert (event["event.category"], event["event.outcome"]) == (["authentication"], "success")
    assert event["user.name"] == props["userPrincipalName"]
    assert event["source.geo.city_name"] == props["location"]["city"]


def test_records_envelope() -> None:
    data = b'{"records": [{"operationName": "a", "category": "Administrative"}, {"category": "x"}]}'
    assert [json.loads(r)["category"] for r in iter_azure_records(data)] == ["Administrative", "x"]
    with pytest.raises(ParseError, match="records"):
        list(iter_azure_records(b'{"Records": []}'))


def test_vendor_names_are_kept_for_sigma_and_refusals() -> None:
    raw = json.dumps(
        {
            "operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
            "category": "Administrative",
            "resultType": "Failure",
            "properties": {"message": "m"},
        }
    )
    event = AzureParser().parse(raw, CTX)
    assert event["operationName"] == "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"
    assert event["properties.message"] == "m"
    assert event["event.outcome"] == "failure"
    with pytest.raises(ParseError, match="no operationName or category"):
        AzureParser().parse('{"time": "2024-01-01T00:00:00Z"}', CTX)
