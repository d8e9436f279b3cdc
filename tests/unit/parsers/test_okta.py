"""Okta System Log events: vendor names, ECS fields, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.parsers.base import ParseContext
from heron.parsers.okta import OktaParser

CTX = ParseContext(received=1_717_200_000_000_000_000)
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def test_okta_vendor_names_and_refusal() -> None:
    raw = (GOLDEN / "okta" / "system.json").read_text().splitlines()[0]
    event = OktaParser().parse(raw, CTX)
    assert event["eventType"] == "user.session.start"
    assert event["actor.alternateId"] == "alice@example.com"
    assert event["outcome.result"] == "FAILURE"
    assert json.loads(event["target"])[0]["type"] == "User"
    with pytest.raises(ParseError, match="no eventType"):
        OktaParser().parse('{"published": "2024-01-01T00:00:00Z"}', CTX)
