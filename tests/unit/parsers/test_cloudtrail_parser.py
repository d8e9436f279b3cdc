"""CloudTrail records and files: flattening, depth handling, ECS mapping."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.cloudtrail import (
    MAX_SUBTREE_KEYS,
    CloudTrailParser,
    iter_cloudtrail_records,
)

RECEIVED = 1_700_000_000_000_000_000
CTX = ParseContext(received=RECEIVED)
PARSER = CloudTrailParser()


GOLDEN = Path(__file__).resolve().parents[2] / "golden"
# HERON_UPDATE_GOLDEN=1 rewrites the expected parts from the current code; review the
# diff by eye before committing it.
UPDATE = os.environ.get("HERON_UPDATE_GOLDEN") == "1"


def golden_cases(folder: str) -> list[Path]:
    return sorted((GOLDEN / folder).glob("*.json"))


def check_golden(path: Path, case: dict[str, Any], key: str, actual: Any) -> None:
    """Compare ``actual`` with ``case[key]``, or store it when updating."""
    if UPDATE:
        case[key] = actual
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert actual == case[key], f"{path.name}: {key} differs"


@pytest.mark.parametrize("path", golden_cases("cloudtrail"), ids=lambda p: p.stem)
def test_cloudtrail_record_golden(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    parsed = PARSER.parse(orjson.dumps(case["record"]).decode(), CTX)
    vendor = dict(parsed)
    check_golden(path, case, "parsed", vendor)
    event = normalize(parsed)
    assert {k: event[k] for k in vendor} == vendor
    check_golden(path, case, "normalized", {k: v for k, v in event.items() if k not in vendor})
    validate_event(event)


def _record(**extra: object) -> dict[str, object]:
    return {
        "eventTime": "2024-03-05T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "principalId": "AIDA1"},
        **extra,
    }


def parse(record: object) -> dict[str, object]:
    return PARSER.parse(orjson.dumps(record).decode(), CTX)


def test_nested_keys_keep_their_cloudtrail_names() -> None:
    event = parse(_record(requestParameters={"userName": "bob", "tags": ["a", "b"]}))
    assert event["userIdentity.type"] == "IAMUser"
    assert event["requestParameters.userName"] == "bob"
    assert event["requestParameters.tags"] == ["a", "b"]
    assert event["eventName"] == "CreateUser"
    assert event["@timestamp"] == 1_709_632_800_000_000_000
    assert event["event.module"] == "aws"
    assert event["event.dataset"] == "aws.cloudtrail"


def test_deep_objects_are_kept_as_json_text() -> None:
    # The record is level 1: requestParameters.a.b is level 4, its object value level 5.
    event = parse(_record(requestParameters={"a": {"b": {"c": {"d": 1}}}}))
    assert event["requestParameters.a.b.c"] == '{"d":1}'


def test_huge_subtrees_are_kept_whole_as_json_text() -> None:
    big = {f"k{i}": i for i in range(MAX_SUBTREE_KEYS + 1)}
    event = parse(_record(responseElements=big))
    assert orjson.loads(event["responseElements"]) == big
    assert "responseElements.k0" not in event


def test_nesting_past_the_context_limit_is_refused() -> None:
    deep: object = {"x": 1}
    for _ in range(70):
        deep = {"n": deep}
    with pytest.raises(ParseError, match="deeper than 64"):
        parse(_record(requestParameters=deep))


@pytest.mark.parametrize("raw", ["[]", "3", "{", '{"foo": 1}', '{"eventName": 5}'])
def test_non_records_are_parse_errors(raw: str) -> None:
    with pytest.raises(ParseError):
        PARSER.parse(raw, CTX)


def test_bad_event_time_keeps_the_record() -> None:
    event = parse(_record(eventTime="not a time"))
    assert event["@timestamp"] == RECEIVED
    assert event["eventTime"] == "not a time"
    normalize(event)
    assert "error.message" not in event


def test_file_records_come_out_one_json_text_each() -> None:
    records = [_record(), _record(eventName="DeleteUser")]
    data = b"\xef\xbb\xbf" + orjson.dumps({"Records": records})
    texts = list(iter_cloudtrail_records(data))
    assert [orjson.loads(t) for t in texts] == records


def test_gunzipped_bytes_are_what_the_helper_takes() -> None:
    data = gzip.compress(orjson.dumps({"Records": [_record()]}))
    assert len(list(iter_cloudtrail_records(gzip.decompress(data)))) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "invalid JSON"),
        (b'{"records": []}', 'no top-level "Records" array'),
        (b"[1, 2]", 'no top-level "Records" array'),
        (b'{"Records": {"a": 1}}', 'no top-level "Records" array'),
    ],
)
def test_files_that_are_not_cloudtrail_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        list(iter_cloudtrail_records(data))
    assert "not a CloudTrail file" in info.value.reason


def test_a_record_too_deep_to_write_back_still_becomes_a_dead_letter() -> None:
    deep = "[" * 600 + "]" * 600
    data = ('{"Records": [{"eventName": "A", "eventSource": "s", "x": ' + deep + "}]}").encode()
    (text,) = iter_cloudtrail_records(data)
    with pytest.raises(ParseError):
        PARSER.parse(text, CTX)
