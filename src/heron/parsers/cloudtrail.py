"""AWS CloudTrail: one record of a CloudTrail file to a flat event.

Every CloudTrail key is kept under its own name, nested objects flattened with dots
(``userIdentity.type``, ``requestParameters.userName``). ``requestParameters``,
``responseElements`` and the like can be deep and very large (a ``DescribeInstances``
response), so objects are flattened only down to ``FLAT_DEPTH`` levels and a subtree
with more than ``MAX_SUBTREE_KEYS`` leaves is kept as one JSON text value: the event
keeps everything without growing thousands of columns. ECS mapping is
``heron.normalize.aws``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = [
    "FLAT_DEPTH",
    "MAX_SUBTREE_KEYS",
    "CloudTrailParser",
    "iter_cloudtrail_records",
]

#: Objects deeper than this (the record is level 1) are kept as JSON text.
FLAT_DEPTH = 4
#: A top-level object flattening to more leaves than this is kept as JSON text.
MAX_SUBTREE_KEYS = 100
_BOM = b"\xef\xbb\xbf"
# Set by ``iter_cloudtrail_records`` on a record it could not write back as JSON, so
# that the record still reaches the parser and becomes a dead letter with its number.
_UNREADABLE = "__heron_unreadable__"
_REQUIRED = ("eventName", "eventSource")


def iter_cloudtrail_records(data: bytes) -> Iterator[str]:
    """The JSON text of each record of a CloudTrail file (``{"Records": [...]}``).

    ``data`` is the whole file, already decompressed. Raises ``ParseError`` if it is
    not a CloudTrail document.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ParseError(
            f"not a CloudTrail file: invalid JSON: {exc}", parser="cloudtrail"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Records"), list):
        raise ParseError('not a CloudTrail file: no top-level "Records" array', parser="cloudtrail")
    for record in doc["Records"]:
        yield _record_text(record)


def _record_text(record: Any) -> str:
    try:
        return orjson.dumps(record).decode()
    except orjson.JSONEncodeError:
        pass  # nested past orjson's 255 levels for writing
    try:
        return json.dumps(record, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError) as exc:
        reason = f"record cannot be written back as JSON: {type(exc).__name__}"
        return orjson.dumps({_UNREADABLE: reason}).decode()


class CloudTrailParser:
    """One CloudTrail record (an element of ``Records``) as JSON text."""

    name = "cloudtrail"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON in CloudTrail record: {exc}", parser=self.name) from exc
        if not isinstance(record, dict):
            raise ParseError("a CloudTrail record must be a JSON object", parser=self.name)
        if _UNREADABLE in record:
            raise ParseError(str(record[_UNREADABLE]), parser=self.name)
        if not any(isinstance(record.get(key), str) for key in _REQUIRED):
            raise ParseError(
                "not a CloudTrail record: no eventName or eventSource", parser=self.name
            )
        event: Event = {}
        for key, value in record.items():
            if isinstance(value, dict):
                sub = flatten_json(
                    {key: value},
                    max_depth=ctx.max_json_depth,
                    parser=self.name,
                    flat_depth=FLAT_DEPTH,
                )
                if len(sub) > MAX_SUBTREE_KEYS:
                    # Depth is already checked: the text can always be written.
                    event[key] = orjson.dumps(value).decode()
                else:
                    event.update(sub)
            elif isinstance(value, list):
                event.update(
                    flatten_json({key: value}, max_depth=ctx.max_json_depth, parser=self.name)
                )
            else:
                event[key] = value
        stamp = parse_time_value(record.get("eventTime"))
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        event["event.module"] = "aws"
        event["event.dataset"] = "aws.cloudtrail"
        coerce_core_fields(event)
        return event
