"""EventBatch ↔ Arrow: typed core columns, everything else in ``extra``, bad values refused."""

from __future__ import annotations

import orjson
import pytest

from heron.errors import EventValidationError
from heron.model.event import EventBatch, arrow_to_events
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN

TS = 1_764_300_000_123_456_789


def _event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"@timestamp": TS, "event.id": "a1", "message": "hello"}
    base.update(fields)
    return base


def test_round_trip_keeps_core_and_vendor_fields() -> None:
    events = [
        _event(
            **{
                "event.category": ["authentication"],
                "source.port": 22,
                "Image": "C:\\x.exe",
                "userIdentity.type": "IAMUser",
                "nested": {"a": [1, 2]},
            }
        ),
        _event(**{"event.id": "a2", "user.name": "bob"}),
    ]
    table = EventBatch(events).to_arrow()
    assert table.schema.names == [*CORE_FIELDS, EXTRA_COLUMN]
    assert table.column("source.port").to_pylist() == [22, None]
    assert table.column("user.name").to_pylist() == [None, "bob"]
    extra = table.column(EXTRA_COLUMN).to_pylist()
    assert orjson.loads(extra[0]) == {
        "Image": "C:\\x.exe",
        "userIdentity.type": "IAMUser",
        "nested": {"a": [1, 2]},
    }
    assert extra[1] is None  # no vendor fields: no JSON at all
    assert list(arrow_to_events(table)) == events


def test_empty_batch_gives_an_empty_table() -> None:
    table = EventBatch([]).to_arrow()
    assert table.num_rows == 0
    assert table.schema.names[-1] == EXTRA_COLUMN


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source.port", "22"),
        ("event.category", "authentication"),
        ("user.name", 7),
        ("@timestamp", "yesterday"),
    ],
)
def test_a_wrongly_typed_core_field_is_named(field: str, value: object) -> None:
    with pytest.raises(EventValidationError, match=field.replace(".", r"\.")):
        EventBatch([_event(), _event(**{field: value})]).to_arrow()


def test_a_key_that_is_not_a_string_is_refused() -> None:
    event = _event()
    event[3] = "x"  # type: ignore[index]
    with pytest.raises(EventValidationError):
        EventBatch([event]).to_arrow()


def test_split_valid_keeps_the_good_events() -> None:
    good, bad = EventBatch([_event(), _event(**{"source.port": "x"})]).split_valid()
    assert len(good) == 1 and len(bad) == 1
    assert "source.port" in bad[0].reason
    assert good.to_arrow().num_rows == 1
