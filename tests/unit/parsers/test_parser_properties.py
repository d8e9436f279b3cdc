"""Properties: any JSON input gives an event or a ParseError, and mapping never raises."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import ParseError
from heron.model.event import validate_event
from heron.model.schema import CORE_FIELDS
from heron.normalize import normalize
from heron.normalize.aws import normalize_cloudtrail
from heron.normalize.windows import normalize_windows
from heron.parsers.base import ParseContext
from heron.parsers.cloudtrail import CloudTrailParser
from heron.parsers.json import JsonParser
from heron.parsers.windows import WindowsEventParser

CTX = ParseContext(received=1_700_000_000_000_000_000)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names that steer the parsers and mappings into their branches.
KEYS = st.sampled_from(
    [
        "@timestamp",
        "timestamp",
        "time",
        "ts",
        "eventTime",
        "source",
        "ip",
        "port",
        "event",
        "category",
        "type",
        "outcome",
        "code",
        "process",
        "pid",
        "winlog",
        "event_data",
        "event_id",
        "channel",
        "provider_name",
        "keywords",
        "win",
        "system",
        "eventdata",
        "eventID",
        "systemTime",
        "Event",
        "System",
        "EventData",
        "UserData",
        "EventID",
        "Channel",
        "Provider",
        "#attributes",
        "#text",
        "Name",
        "TimeCreated",
        "SystemTime",
        "Data",
        "Security",
        "Execution",
        "userIdentity",
        "userName",
        "requestParameters",
        "eventName",
        "eventSource",
        "sourceIPAddress",
        "Records",
    ]
) | st.text(max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["-", "0x10", "2024-03-05T10:00:00Z", "::ffff:1.2.3.4", "CORP\\bob", "4624"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def _only_parse_errors(parser: Any, raw: str) -> dict[str, Any] | None:
    try:
        event: dict[str, Any] = parser.parse(raw, CTX)
    except ParseError:
        return None
    return event


@SETTINGS
@given(JSON)
def test_json_parser_gives_a_valid_event_or_a_parse_error(value: Any) -> None:
    event = _only_parse_errors(JsonParser(), orjson.dumps(value).decode())
    if event is not None:
        validate_event(event)
        validate_event(normalize(event))


@SETTINGS
@given(st.text(max_size=60))
def test_json_parser_on_any_text(line: str) -> None:
    event = _only_parse_errors(JsonParser(), line)
    if event is not None:
        validate_event(event)


@SETTINGS
@given(st.dictionaries(KEYS, JSON, max_size=8), st.sampled_from(["CreateUser", "ConsoleLogin", ""]))
def test_cloudtrail_parser_gives_a_valid_event_or_a_parse_error(
    record: dict[str, Any], name: str
) -> None:
    record.setdefault("eventName", name)
    event = _only_parse_errors(CloudTrailParser(), orjson.dumps(record).decode())
    if event is not None:
        validate_event(event)
        validate_event(normalize(event))


@SETTINGS
@given(JSON, JSON, JSON)
def test_windows_parser_gives_an_event_or_a_parse_error(system: Any, data: Any, extra: Any) -> None:
    record = {"Event": {"System": system, "EventData": data, "UserData": extra}}
    if isinstance(system, dict):
        system.setdefault("EventID", 4624)
    event = _only_parse_errors(WindowsEventParser(), orjson.dumps(record).decode())
    if event is not None:
        assert event["event.module"] == "windows"


FLAT_KEYS = st.sampled_from(
    [
        "EventID",
        "Channel",
        "Provider_Name",
        "Computer",
        "EventRecordID",
        "Level",
        "Keywords",
        "SecurityUserID",
        "Execution_ProcessID",
        "TargetUserName",
        "TargetDomainName",
        "TargetUserSid",
        "TargetSid",
        "SubjectUserName",
        "SubjectUserSid",
        "LogonType",
        "IpAddress",
        "IpPort",
        "ProcessId",
        "ProcessName",
        "NewProcessName",
        "NewProcessId",
        "CommandLine",
        "Image",
        "ParentImage",
        "User",
        "Hashes",
        "SourceIp",
        "DestinationIp",
        "DestinationPort",
        "Protocol",
        "Initiated",
        "QueryName",
        "QueryResults",
        "TargetObject",
        "Details",
        "TargetFilename",
        "ImageLoaded",
        "MemberName",
        "Status",
        "FailureReason",
        "ObjectName",
        "ObjectType",
        "ScriptBlockText",
        "ContextInfo",
        "Data",
        "param1",
        "eventName",
        "eventSource",
        "eventTime",
        "errorCode",
        "sourceIPAddress",
        "userAgent",
        "userIdentity.type",
        "userIdentity.userName",
        "userIdentity.arn",
        "userIdentity.sessionContext.sessionIssuer.userName",
        "responseElements.ConsoleLogin",
        "requestParameters.userName",
        "awsRegion",
        "@timestamp",
        "message",
        "user.name",
    ]
)
FLAT_VALUES = SCALARS | st.lists(SCALARS, max_size=3)
EVENT_IDS = st.sampled_from(
    [
        1,
        3,
        7,
        10,
        11,
        13,
        22,
        400,
        800,
        1102,
        4103,
        4104,
        4624,
        4625,
        4663,
        4688,
        4720,
        4732,
        4771,
        4776,
        5156,
        7045,
        "4624",
        "x",
    ]
)
CHANNELS = st.sampled_from(
    [
        "Security",
        "System",
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-PowerShell/Operational",
        "Windows PowerShell",
        7,
    ]
)


def _added_core_fields_are_typed(before: dict[str, Any], after: dict[str, Any]) -> None:
    added = {k: v for k, v in after.items() if k not in before and k in CORE_FIELDS}
    validate_event({"@timestamp": 0, **added})


@SETTINGS
@given(st.dictionaries(FLAT_KEYS, FLAT_VALUES, max_size=12), EVENT_IDS, CHANNELS)
def test_windows_mapping_never_raises(fields: dict[str, Any], event_id: Any, channel: Any) -> None:
    event = {"EventID": event_id, "Channel": channel, **fields}
    before = dict(event)
    normalize_windows(event)
    _added_core_fields_are_typed(before, event)


@SETTINGS
@given(st.dictionaries(FLAT_KEYS, FLAT_VALUES, max_size=12))
def test_cloudtrail_mapping_never_raises(fields: dict[str, Any]) -> None:
    before = dict(fields)
    normalize_cloudtrail(fields)
    _added_core_fields_are_typed(before, fields)


@SETTINGS
@given(
    # No process.name: that routes to the Linux mapping, whose values are its own tests'.
    st.dictionaries(
        (st.text(max_size=10) | FLAT_KEYS).filter(lambda k: k != "process.name"),
        FLAT_VALUES,
        max_size=10,
    ),
    st.sampled_from(["windows", "aws", "other", None, 3]),
)
def test_normalize_never_raises_on_any_flat_event(fields: dict[str, Any], module: Any) -> None:
    fields["event.module"] = module
    out = normalize(fields)
    assert "error.message" not in out
