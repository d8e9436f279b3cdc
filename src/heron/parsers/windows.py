"""Windows event records (EVTX rendered as JSON by the ``evtx`` library) to flat events.

The ``System`` block gives ``EventID``, ``Channel``, ``Provider_Name``, ``Computer``,
``EventRecordID`` and the rest under the names Sigma rules use; every ``EventData`` /
``UserData`` field is kept top-level under its own name (``Image``, ``CommandLine``,
``TargetUserName``). ECS mapping is ``heron.normalize.windows``.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.timeutil import parse_timestamp
from heron.parsers.base import ParseContext

__all__ = ["WindowsEventParser", "flatten_windows_record"]


def _text(value: Any) -> Any:
    """Leaf values as Sigma sees them: strings and ints kept, ``{"#text": v}`` unwrapped."""
    if isinstance(value, dict):
        if "#text" in value:
            return _text(value["#text"])
        return None
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _attrs(node: Any) -> dict[str, Any]:
    """The ``#attributes`` of an element, or {} when the element or its attributes are odd."""
    attrs = node.get("#attributes") if isinstance(node, dict) else None
    return attrs if isinstance(attrs, dict) else {}


def _data_fields(block: Any, out: Event) -> None:
    if not isinstance(block, dict):
        if block not in (None, ""):
            out.setdefault("Data", _text(block))
        return
    for key, value in block.items():
        if key == "#attributes":
            continue
        if key == "Data" and isinstance(value, dict) and "#text" in value:
            out["Data"] = _text(value)
        elif isinstance(value, dict) and "#text" not in value:
            # UserData wraps its fields in one element named after the event type.
            _data_fields(value, out)
        else:
            out[key] = _text(value)


def flatten_windows_record(record: dict[str, Any]) -> Event:
    """Flat raw fields of one ``{"Event": {...}}`` record."""
    body = record.get("Event", record)
    if not isinstance(body, dict) or not isinstance(body.get("System"), dict):
        raise ParseError("not a Windows event: no Event.System block", parser="windows")
    system = body["System"]
    out: Event = {}
    attrs = _attrs(system.get("Provider"))
    if attrs.get("Name"):
        out["Provider_Name"] = attrs["Name"]
    if attrs.get("Guid"):
        out["Provider_Guid"] = attrs["Guid"]
    event_id = _text(system.get("EventID"))
    if event_id is not None:
        digits = str(event_id)
        out["EventID"] = int(digits) if digits.isdigit() and digits.isascii() else event_id
    for key in (
        "Version",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "EventRecordID",
        "Channel",
        "Computer",
    ):
        value = _text(system.get(key))
        if value is not None:
            out[key] = value
    stamp = _attrs(system.get("TimeCreated")).get("SystemTime")
    if stamp:
        try:
            out["@timestamp"] = parse_timestamp(str(stamp))
        except (ValueError, OverflowError):
            # Keep the event (the caller falls back to the receive time) and the value.
            out["_invalid.@timestamp"] = stamp
    for key, value in _attrs(system.get("Execution")).items():
        out[f"Execution_{key}"] = value
    user_id = _attrs(system.get("Security")).get("UserID")
    if user_id:
        out["SecurityUserID"] = user_id
    if "EventData" in body:
        _data_fields(body["EventData"], out)
    if "UserData" in body:
        _data_fields(body["UserData"], out)
    out["event.module"] = "windows"
    return out


class WindowsEventParser:
    """EVTX records as JSON text (one ``{"Event": …}`` object a record)."""

    name = "evtx"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON in EVTX record: {exc}", parser=self.name) from exc
        if not isinstance(record, dict):
            raise ParseError("EVTX record is not a JSON object", parser=self.name)
        try:
            event = flatten_windows_record(record)
        except RecursionError:
            raise ParseError("EVTX record nested too deeply", parser=self.name) from None
        event.setdefault("@timestamp", ctx.received)
        return event
