"""Which entities a detection names: the ECS field first, then its vendor names in order."""

from __future__ import annotations

from typing import Any

import pytest

from heron.detect.sigma.fieldmap import ENTITY_FIELDS, entities_of


def test_the_ecs_name_wins_over_vendor_names() -> None:
    event = {"user.name": "alice", "User": "CORP\\bob", "SubjectUserName": "carol"}
    assert entities_of(event) == {"user.name": "alice"}


def test_vendor_names_are_read_in_order_when_the_ecs_name_is_absent() -> None:
    assert entities_of({"SubjectUserName": "carol", "TargetUserName": "dave"}) == {
        "user.name": "dave"
    }
    assert entities_of({"IpAddress": "10.0.0.9", "c-ip": "10.0.0.8"}) == {"source.ip": "10.0.0.9"}


@pytest.mark.parametrize(
    ("value", "text"),
    [("", None), (None, None), ({"a": 1}, None), (["x"], None), (True, "true"), (4624, "4624")],
)
def test_values_become_text_and_empty_ones_fall_through(value: Any, text: str | None) -> None:
    found = entities_of({"host.name": value, "Computer": "WS01"})
    assert found == {"host.name": text if text is not None else "WS01"}


def test_every_entity_and_nothing_else() -> None:
    event: dict[str, Any] = {name: f"v-{name}" for name in ENTITY_FIELDS}
    event["message"] = "unrelated"
    assert entities_of(event) == {name: f"v-{name}" for name in ENTITY_FIELDS}
    assert entities_of({"message": "no entity here", "event.code": "4624"}) == {}
