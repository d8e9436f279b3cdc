"""One JSON object a line (NDJSON) to a flat event.

Nested objects become dotted keys, so documents already in ECS (Winlogbeat, Filebeat,
Elastic Agent output) come out under their ECS names: ``{"source": {"ip": …}}`` →
``source.ip``. Lists of scalars stay lists; lists holding objects or lists are kept as
JSON text, since a flat event has no place for a list of records.

Core fields (``heron.model.schema.CORE_FIELDS``) get the declared type when the
conversion loses nothing (``"22"`` → ``22`` for ``source.port``, ``"authentication"`` →
``["authentication"]`` for ``event.category``). A value that cannot be converted is
moved to ``_invalid.<name>`` and the core field is left unset: one odd value never
costs the event, and nothing of the input is dropped.

Windows events shipped as JSON (Winlogbeat's ``winlog.*``, Wazuh's ``win.system`` /
``win.eventdata``) also get the vendor fields Sigma rules match on, top level under
their Windows names (``Image``, ``TargetUserName``, ``EventID``, ``Channel`` …) and
``event.module: windows``, so they normalize and detect like EVTX records.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException
from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.schema import CORE_FIELDS, FieldKind
from heron.model.timeutil import parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.journald import from_journald, is_journald

__all__ = [
    "INVALID_PREFIX",
    "JsonParser",
    "coerce_core_fields",
    "flatten_json",
    "json_error_reason",
    "parse_time_value",
]

#: Where a core field's value goes when it cannot take the declared type.
INVALID_PREFIX = "_invalid."

# Recursion in the flattener is bounded by the depth limit; keep it inside Python's
# recursion limit and orjson's 255 levels for writing JSON text, whatever the
# configuration says.
_DEPTH_CEILING = 250
_TIME_KEYS = ("@timestamp", "timestamp", "time", "eventTime", "ts")
_TS_MAX = 2**63 - 1
_EPOCH_CEILING = Decimal(2**63)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_SCALARS = (str, int, float, bool, type(None))


class _TooDeep(Exception):
    pass


def _check_depth(value: Any, depth: int, limit: int) -> None:
    """Raise ``_TooDeep`` if ``value`` (at ``depth``) holds containers past ``limit``."""
    if depth > limit:
        raise _TooDeep
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict | list):
                _check_depth(item, depth + 1, limit)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                _check_depth(item, depth + 1, limit)


def _as_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:  # only past orjson's own nesting limit
        raise _TooDeep from exc


def _flatten_into(
    obj: dict[str, Any],
    prefix: str,
    depth: int,
    out: Event,
    limit: int,
    flat_depth: int,
) -> None:
    for key, value in obj.items():
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            # Most values are scalars: one type check instead of two isinstance calls.
            out[prefix + key] = value
            continue
        name = prefix + key
        if isinstance(value, dict):
            if depth + 1 > limit:
                raise _TooDeep
            if not value:
                continue
            if depth + 1 > flat_depth:
                _check_depth(value, depth + 1, limit)
                out[name] = _as_text(value)
            else:
                _flatten_into(value, name + ".", depth + 1, out, limit, flat_depth)
        elif isinstance(value, list):
            if depth + 1 > limit:
                raise _TooDeep
            if all(isinstance(item, _SCALARS) for item in value):
                out[name] = value
            else:
                _check_depth(value, depth + 1, limit)
                out[name] = _as_text(value)
        else:
            out[name] = value


def flatten_json(
    doc: dict[str, Any],
    *,
    max_depth: int,
    parser: str,
    flat_depth: int | None = None,
) -> Event:
    """``doc`` as one flat dict of dotted keys.

    The top object is level 1. Nesting past ``max_depth`` raises ``ParseError``;
    objects nested past ``flat_depth`` (if given) are kept whole as JSON text.
    A key spelled with dots and a nested key of the same spelling collide: the later
    one in the document wins.
    """
    limit = max(1, min(max_depth, _DEPTH_CEILING))
    out: Event = {}
    try:
        _flatten_into(doc, "", 1, out, limit, flat_depth or limit)
    except _TooDeep:
        raise ParseError(f"JSON nested deeper than {limit} levels", parser=parser) from None
    return out


def json_error_reason(exc: orjson.JSONDecodeError, max_depth: int) -> str:
    """What a person reads for JSON the decoder refused (its own nesting limit included)."""
    if "depth limit" in str(exc) or "recursion" in str(exc):
        return f"JSON nested deeper than {min(max_depth, _DEPTH_CEILING)} levels"
    return f"invalid JSON: {exc}"


def parse_time_value(value: Any) -> int | None:
    """Nanoseconds since the epoch from ISO text or an epoch number; None if neither.

    Epoch numbers are read by magnitude: seconds, milliseconds, microseconds or
    nanoseconds (text of digits keeps every digit; a float keeps what a float holds).
    """
    if isinstance(value, bool) or value is None:
        return None
    ns: int | None
    if isinstance(value, int):
        ns = _epoch_ns(Decimal(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        ns = _epoch_ns(Decimal(repr(value)))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0].isdigit() and "-" not in text and ":" not in text:
            try:
                ns = _epoch_ns(Decimal(text))
            except DecimalException:  # not a number, or beyond what a Decimal holds
                return None
        else:
            try:
                ns = parse_timestamp(text)
            except (ValueError, OverflowError):
                return None
    else:
        return None
    if ns is None or not 0 <= ns <= _TS_MAX:
        return None
    return ns


def _epoch_ns(number: Decimal) -> int | None:
    if not number.is_finite():
        return None
    magnitude = abs(number)
    if magnitude >= _EPOCH_CEILING:
        return None
    if magnitude < Decimal(100_000_000_000):  # seconds: up to the year 5138
        scale = 1_000_000_000
    elif magnitude < Decimal(100_000_000_000_000):
        scale = 1_000_000
    elif magnitude < Decimal(100_000_000_000_000_000):
        scale = 1_000
    else:
        scale = 1
    return int(number * scale)


def _coerce(kind: FieldKind, value: Any) -> tuple[bool, Any]:
    """(True, converted) when ``value`` can take ``kind`` without loss, else (False, None)."""
    if value is None:
        return True, None
    if kind is FieldKind.STRING:
        if isinstance(value, str):
            return True, value
        if isinstance(value, bool):
            return True, "true" if value else "false"
        if isinstance(value, int | float):
            return True, _as_text(value)
        return False, None
    if kind is FieldKind.INT:
        if isinstance(value, bool):
            return False, None
        number: int | None = None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in ("+", "-") else text
            if digits.isdigit() and digits.isascii() and len(digits) <= 19:
                number = int(text)
        if number is not None and _INT_MIN <= number <= _INT_MAX:
            return True, number
        return False, None
    if kind is FieldKind.STRING_LIST:
        if isinstance(value, str):
            return True, [value]
        if isinstance(value, list):
            items: list[str] = []
            for item in value:
                if isinstance(item, str):
                    items.append(item)
                elif isinstance(item, int | float) and not isinstance(item, bool):
                    items.append(_as_text(item))
                else:
                    return False, None
            return True, items
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, [_as_text(value)]
        return False, None
    # FieldKind.TIMESTAMP: an int is already nanoseconds by declaration.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _TS_MAX:
        return True, value
    ns = parse_time_value(value)
    return (ns is not None), ns


_CORE_NAMES = CORE_FIELDS.keys()


def coerce_core_fields(event: Event) -> None:
    """Give each core field present its declared type, or move it to ``_invalid.<name>``."""
    for name in _CORE_NAMES & event.keys():
        kind = CORE_FIELDS[name]
        value = event[name]
        # The common case first: the value already has the type.
        if kind is FieldKind.STRING:
            if type(value) is str:
                continue
        elif kind is not FieldKind.STRING_LIST and type(value) is int and 0 <= value <= _TS_MAX:
            continue
        ok, converted = _coerce(kind, value)
        if ok:
            event[name] = converted
        else:
            del event[name]
            event[INVALID_PREFIX + name] = value


# --- Windows events shipped as JSON -------------------------------------------------

# Winlogbeat ``winlog.*`` → the names ``heron.parsers.windows`` gives EVTX records.
_WINLOGBEAT_SYSTEM = {
    "winlog.event_id": "EventID",
    "winlog.channel": "Channel",
    "winlog.provider_name": "Provider_Name",
    "winlog.provider_guid": "Provider_Guid",
    "winlog.computer_name": "Computer",
    "winlog.record_id": "EventRecordID",
    "winlog.version": "Version",
    "winlog.opcode": "Opcode",
    "winlog.task": "Task",
    "winlog.process.pid": "Execution_ProcessID",
    "winlog.process.thread.id": "Execution_ThreadID",
    "winlog.user.identifier": "SecurityUserID",
}
_WINLOGBEAT_DATA = ("winlog.event_data.", "winlog.user_data.")

# Wazuh's ``win.system`` keys → the EVTX names.
_WAZUH_SYSTEM = {
    "eventID": "EventID",
    "channel": "Channel",
    "providerName": "Provider_Name",
    "providerGuid": "Provider_Guid",
    "computer": "Computer",
    "eventRecordID": "EventRecordID",
    "version": "Version",
    "level": "Level",
    "task": "Task",
    "opcode": "Opcode",
    "keywords": "Keywords",
    "processID": "Execution_ProcessID",
    "threadID": "Execution_ThreadID",
}
_WAZUH_SYSTEM_PREFIX = "win.system."
_WAZUH_DATA_PREFIX = "win.eventdata."


# NXLog's im_msvistalog records (``to_json()``): EventData fields are top-level under
# their own names already; the System fields under NXLog's names.
_NXLOG_SYSTEM = {
    "Hostname": "Computer",
    "SourceName": "Provider_Name",
    "ProviderGuid": "Provider_Guid",
    "RecordNumber": "EventRecordID",
    "ProcessID": "Execution_ProcessID",
    "ThreadID": "Execution_ThreadID",
    "UserID": "SecurityUserID",
}
_UINT64 = 2**64 - 1


def _event_id(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _windows_from_winlogbeat(event: Event) -> None:
    for key in [k for k in event if k.startswith(_WINLOGBEAT_DATA)]:
        name = key.split(".", 2)[2]
        event.setdefault(name, event[key])
    for source, target in _WINLOGBEAT_SYSTEM.items():
        if source in event:
            event.setdefault(target, event[source])
    if "EventID" in event:
        event["EventID"] = _event_id(event["EventID"])
    event["event.module"] = "windows"


def _windows_from_wazuh(event: Event) -> None:
    # Wazuh writes each EventData name with its first letter lowered (targetUserName,
    # dSName): raising it back gives the Windows name (TargetUserName, DSName).
    for key in [k for k in event if k.startswith(_WAZUH_DATA_PREFIX)]:
        name = key[len(_WAZUH_DATA_PREFIX) :]
        if name:
            event.setdefault(name[0].upper() + name[1:], event[key])
    for short, target in _WAZUH_SYSTEM.items():
        key = _WAZUH_SYSTEM_PREFIX + short
        if key in event:
            event.setdefault(target, event[key])
    if "EventID" in event:
        event["EventID"] = _event_id(event["EventID"])
    stamp = event.get(_WAZUH_SYSTEM_PREFIX + "systemTime")
    if "@timestamp" not in event and stamp is not None:
        event["@timestamp"] = stamp
    message = event.get(_WAZUH_SYSTEM_PREFIX + "message")
    if isinstance(message, str) and "message" not in event:
        # Wazuh wraps the rendered message in a pair of literal quotes.
        if len(message) >= 2 and message[0] == '"':
            message = message[1:-1] if message.endswith('"') else message[1:]
        event["message"] = message.strip()
    event["event.module"] = "windows"


def _windows_from_nxlog(event: Event, ctx: ParseContext) -> None:
    for source, target in _NXLOG_SYSTEM.items():
        if source in event:
            event.setdefault(target, event[source])
    event["EventID"] = _event_id(event["EventID"])
    keywords = event.get("Keywords")
    if isinstance(keywords, int) and not isinstance(keywords, bool):
        # NXLog writes the 64-bit mask as a signed integer; EVTX has it as hex text.
        event["Keywords"] = f"0x{keywords & _UINT64:016x}"
    stamp = event.get("EventTime")
    if "@timestamp" not in event and stamp is not None:
        # NXLog's default EventTime text is the sender's local time without a zone:
        # read in the ingest's --timezone (UTC unless given), as syslog times are.
        ns = None
        if isinstance(stamp, str):
            try:
                ns = parse_timestamp(stamp, ctx.timezone)
            except (ValueError, OverflowError):
                ns = None
        event["@timestamp"] = ns if ns is not None else stamp
    message = event.get("Message")
    if isinstance(message, str) and "message" not in event:
        event["message"] = message
    event["event.module"] = "windows"


def _is_nxlog_windows(event: Event) -> bool:
    return event.get("SourceModuleType") == "im_msvistalog" or (
        "EventID" in event and "Channel" in event and "SourceName" in event
    )


def _is_winlogbeat(event: Event) -> bool:
    return "winlog.event_id" in event or "winlog.channel" in event


def _is_wazuh_windows(event: Event) -> bool:
    return "win.system.eventID" in event or "win.system.channel" in event


def _set_timestamp(event: Event, received: int) -> None:
    for key in _TIME_KEYS:
        if key not in event:
            continue
        value = event[key]
        ns = parse_time_value(value)
        if ns is not None:
            event["@timestamp"] = ns
            return
        if key == "@timestamp":
            del event["@timestamp"]
            event[INVALID_PREFIX + "@timestamp"] = value
    event["@timestamp"] = received


class JsonParser:
    """NDJSON: one JSON object a line."""

    name = "json"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(json_error_reason(exc, ctx.max_json_depth), parser=self.name) from exc
        if not isinstance(doc, dict):
            kind = "an array" if isinstance(doc, list) else type(doc).__name__
            raise ParseError(f"a JSON line must be an object, got {kind}", parser=self.name)
        event = flatten_json(doc, max_depth=ctx.max_json_depth, parser=self.name)
        if is_journald(event):
            event = from_journald(event)
        elif _is_winlogbeat(event):
            _windows_from_winlogbeat(event)
        elif _is_wazuh_windows(event):
            _windows_from_wazuh(event)
        elif _is_nxlog_windows(event):
            _windows_from_nxlog(event, ctx)
        _set_timestamp(event, ctx.received)
        coerce_core_fields(event)
        return event
