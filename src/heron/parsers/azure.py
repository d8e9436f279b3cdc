"""Azure Monitor records: activity logs, Entra ID (Azure AD) sign-in and audit logs.

Records come one JSON object a line, or whole as ``{"records": [...]}`` (diagnostic
settings to a storage account or Event Hub): ``iter_azure_records`` splits such a
document. Every key is kept flattened under its own name (``operationName``,
``resultType``, ``properties.userPrincipalName``: the names SigmaHQ's ``product: azure``
rules use), down to ``FLAT_DEPTH`` levels; deeper objects and lists of objects are kept
as JSON text. The ``azure.*`` fields hold what Heron derives (resource id parts, tenant,
correlation id); the raw properties are not copied a second time under
``azure.signinlogs.properties.*``.

``event.dataset`` follows ``category``: ``azure.signinlogs`` (the four sign-in
categories), ``azure.auditlogs``, ``azure.riskdetection`` (Identity Protection) and
``azure.activitylogs`` for the rest, the service names of SigmaHQ's Azure rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, is_ip, put, split_host_port
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["FLAT_DEPTH", "AzureParser", "iter_azure_records"]

FLAT_DEPTH = 5
_SIGNIN = frozenset(
    {
        "signinlogs",
        "noninteractiveusersigninlogs",
        "serviceprincipalsigninlogs",
        "managedidentitysigninlogs",
    }
)
_RISK = frozenset(
    {"userriskevents", "riskyusers", "riskyserviceprincipals", "serviceprincipalriskevents"}
)
_SUCCESS = frozenset({"success", "succeeded", "0", "accept", "ok"})
_FAILURE = frozenset({"failure", "failed", "timeout", "error"})
_CLAIM_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
_CLAIM_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
_CLAIM_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def iter_azure_records(data: bytes) -> Iterator[str]:
    """The JSON text of each record of a ``{"records": [...]}`` document."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"not an Azure records document: {exc}", parser="azure") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise ParseError('not an Azure records document: no "records" array', parser="azure")
    for record in doc["records"]:
        yield orjson.dumps(record).decode()


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dataset(category: str) -> str:
    low = category.lower()
    if low in _SIGNIN:
        return "azure.signinlogs"
    if low == "auditlogs":
        return "azure.auditlogs"
    if low in _RISK:
        return "azure.riskdetection"
    return "azure.activitylogs"


def _resource(event: Event, resource_id: str) -> None:
    # /SUBSCRIPTIONS/<id>/RESOURCEGROUPS/<rg>/PROVIDERS/<namespace>/<type>/<name>
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    event["azure.resource.id"] = resource_id
    for key, name in (
        ("subscriptions", "azure.subscription_id"),
        ("resourcegroups", "azure.resource.group"),
    ):
        if key in lowered and lowered.index(key) + 1 < len(parts):
            event[name] = parts[lowered.index(key) + 1]
    if "providers" in lowered:
        at = lowered.index("providers")
        rest = parts[at + 1 :]
        if rest:
            event["azure.resource.provider"] = "/".join(rest[:2]) if len(rest) > 2 else rest[0]
        if len(rest) >= 3:
            event["azure.resource.name"] = rest[-1]
    if "azure.subscription_id" in event:
        event["cloud.account.id"] = event["azure.subscription_id"]


def _outcome(record: dict[str, Any], props: dict[str, Any], signin: bool) -> str | None:
    if signin:
        code = as_int(_obj(props.get("status")).get("errorCode"))
        if code is None:
            code = as_int(record.get("resultType"))
        if code is not None:
            return "success" if code == 0 else "failure"
    for value in (record.get("resultType"), props.get("result"), record.get("resultSignature")):
        text = str(value).lower() if value is not None else ""
        if text in _SUCCESS:
            return "success"
        if text in _FAILURE:
            return "failure"
    return None


def _user(event: Event, record: dict[str, Any], props: dict[str, Any]) -> None:
    upn = props.get("userPrincipalName")
    initiated = _obj(_obj(props.get("initiatedBy")).get("user"))
    claims = _obj(_obj(record.get("identity")).get("claims"))
    name = upn or initiated.get("userPrincipalName") or claims.get(_CLAIM_UPN)
    name = name or claims.get(_CLAIM_NAME) or record.get("caller")
    if isinstance(name, str) and name:
        event["user.name"] = name
        if "@" in name:
            event["user.email"] = name
            event["user.domain"] = name.rpartition("@")[2]
    user_id = props.get("userId") or initiated.get("id") or claims.get(_CLAIM_OID)
    put(event, "user.id", user_id)
    full_name = props.get("userDisplayName")
    if not full_name and isinstance(record.get("identity"), str):
        full_name = record["identity"]  # sign-in records carry the display name here
    put(event, "user.full_name", full_name)


def _geo(event: Event, props: dict[str, Any]) -> None:
    location = _obj(props.get("location"))
    put(event, "source.geo.city_name", location.get("city"))
    put(event, "source.geo.region_name", location.get("state"))
    put(event, "source.geo.country_iso_code", location.get("countryOrRegion"))
    coords = _obj(location.get("geoCoordinates"))
    lat, lon = coords.get("latitude"), coords.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        event["source.geo.location.lat"] = lat
        event["source.geo.location.lon"] = lon


class AzureParser:
    """One Azure Monitor / Entra ID record (an element of ``records``)."""

    name = "azure"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}", parser=self.name) from None
        if not isinstance(record, dict):
            raise ParseError("an Azure record must be a JSON object", parser=self.name)
        if "operationName" not in record and "category" not in record:
            raise ParseError("not an Azure record: no operationName or category", parser=self.name)
        event = flatten_json(
            record, max_depth=ctx.max_json_depth, parser=self.name, flat_depth=FLAT_DEPTH
        )
        props = _obj(record.get("properties"))
        category = str(record.get("category", ""))
        dataset = _dataset(category)
        signin = dataset == "azure.signinlogs"
        stamp = None
        for key in ("time", "createdDateTime", "activityDateTime", "eventTimestamp"):
            stamp = parse_time_value(record.get(key) or props.get(key))
            if stamp is not None:
                break
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        event["event.module"] = "azure"
        event["event.dataset"] = dataset
        event["event.kind"] = "event"
        event["cloud.provider"] = "azure"
        operation = record.get("operationName")
        if isinstance(operation, dict):  # the REST API form: {"value": ..., "localizedValue": ...}
            operation = operation.get("value")
        put(event, "event.action", operation if isinstance(operation, str) else None)
        outcome = _outcome(record, props, signin)
        if outcome is not None:
            event["event.outcome"] = outcome
        duration = as_int(record.get("durationMs"))
        if duration is not None:
            event["event.duration"] = duration * 1_000_000
        if signin:
            event["event.category"] = ["authentication"]
            event["event.type"] = ["start" if outcome == "success" else "info"]
            reason = _obj(props.get("status")).get("failureReason")
            put(event, "event.reason", reason)
        elif dataset == "azure.auditlogs":
            event["event.category"] = ["iam"]
        elif dataset == "azure.riskdetection":
            event["event.kind"] = "alert"
            event["event.category"] = ["authentication", "threat"]
        address = record.get("callerIpAddress") or props.get("ipAddress")
        if isinstance(address, str) and address:
            host, port = split_host_port(address)
            if is_ip(host):
                event["source.ip"] = event["client.ip"] = host
                if port is not None:
                    event["source.port"] = port
        _user(event, record, props)
        _geo(event, props)
        put(event, "user_agent.original", props.get("userAgent"))
        put(event, "azure.tenant_id", record.get("tenantId") or props.get("tenantId"))
        put(event, "azure.correlation_id", record.get("correlationId"))
        put(event, "azure.category", category or None)
        level = record.get("level", record.get("Level"))
        put(event, "log.level", str(level) if level is not None else None)
        resource_id = record.get("resourceId")
        if isinstance(resource_id, str) and resource_id:
            _resource(event, resource_id)
        coerce_core_fields(event)
        return event
